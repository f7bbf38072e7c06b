//! The overwrite engine of custody: block devices, wipe methods and their passes,
//! the parallel overwrite with verification, and file shredding.
//!
//! This crate knows nothing of SQLite, age, clap or indicatif: it takes targets and a
//! [`Plan`] and reports bytes, statuses and I/O errors through a [`Reporter`].
//!
//! The flow a caller follows:
//!
//! 1. [`device::list`] describes the block devices, each with the reasons it may not
//!    be wiped ([`device::Refusal`]).
//! 2. [`device::check_all`] turns the paths the user named into [`Target`]s, or refuses
//!    the whole list when any one of them — or anything a wipe of it would reach
//!    ([`reach`]) — is mounted, holds the running system, is in use, is read-only or
//!    is [`Protected`]: then nothing is touched.
//! 3. [`engine::run`] wipes every target at the same time, one worker per target, and
//!    returns one [`TargetReport`] per target: `erased`, `failed` or `interrupted`.
//!
//! [`shred::shred_file`] overwrites a single file in place and removes it; read
//! `docs/shred-limits.md` before relying on it.
//!
//! ```
//! use std::sync::atomic::AtomicBool;
//! use custody_wipe::{check_all, run, Method, NoReport, Plan, Protected, Status, VerifyMode};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let image = dir.path().join("disk.img");
//! std::fs::write(&image, vec![0x5a_u8; 100_000])?;
//!
//! let targets = check_all(&[&image], &Protected::none())?;
//! let mut plan = Plan::new(Method::parse("hmg-is5", None)?);
//! plan.verify = VerifyMode::Last;
//! plan.blank = true;
//! let stop = AtomicBool::new(false);
//! let reports = run(targets, &plan, &NoReport, &stop);
//!
//! assert_eq!(reports[0].status, Status::Erased);
//! assert_eq!(reports[0].passes.len(), 4); // 0x00, 0xFF, random, then the blanking zeros
//! assert!(std::fs::read(&image)?.iter().all(|&b| b == 0));
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod device;
pub mod engine;
mod error;
pub mod fingerprint;
pub mod method;
mod pass;
pub mod reach;
pub mod shred;
pub(crate) mod stream;
mod usage;

pub use device::{Device, Refusal, Target, check_all, check_target};
pub use engine::{
    Course, IoFault, IoOp, NoReport, PassReport, Plan, Position, Reporter, Status, TargetReport,
    VerifyMode, VerifyReport, VerifyResult, run, run_courses,
};
pub use error::{Error, Result};
pub use method::{Method, Pattern};
pub use pass::{ALIGN, AlignedBuf};
pub use reach::{Identity, Protected};
pub use shred::{ShredReport, shred_file};
pub use stream::Seed;

/// The version of the engine, recorded in certificates as the tool version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Fills `buf` with a random pass's bytes at `offset`, under a fresh key: for the
/// `csprng` example, which measures the generator. Not part of the stable API.
#[doc(hidden)]
pub fn bench_keystream(offset: u64, buf: &mut [u8]) {
    match stream::Seed::random() {
        Ok(seed) => stream::Source::for_pass(&Pattern::Random, &seed, 0).fill(offset, buf),
        Err(_) => buf.fill(0),
    }
}
