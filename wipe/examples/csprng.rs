//! Measures the keystream that random passes write, on one core.
//!
//! `cargo run --release -p custody-wipe --example csprng [MiB]`

// An example's job is to print its figure.
#![allow(clippy::print_stdout)]

use std::time::Instant;

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(4096);
    let mut buf = vec![0_u8; 4 << 20];
    let rounds = mib / 4;
    let start = Instant::now();
    for i in 0..rounds {
        custody_wipe::bench_keystream((i * buf.len()) as u64, &mut buf);
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes = (rounds * buf.len()) as f64;
    println!(
        "aes-128-ctr keystream: {:.0} MiB in {secs:.2} s = {:.2} GB/s on one core",
        bytes / (1 << 20) as f64,
        bytes / secs / 1e9
    );
}
