//! The `custody` command: parses arguments, makes one call into `custody-core` per
//! command, renders the result and sets the exit code.

// The binary is where printing and exiting belong.
#![allow(clippy::print_stdout, clippy::print_stderr)]
#![forbid(unsafe_code)]

mod agent;
mod args;
mod cert;
mod commands;
mod demo;
mod hint;
mod output;
mod registers;
mod retain;
mod send;
mod unlock;
mod wipe;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

/// Exit code for an operation that failed (a mismatch, a failed wipe, tampering).
const EXIT_FAILED: u8 = 1;
/// Exit code for bad usage or a refusal by policy.
const EXIT_REFUSED: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(EXIT_REFUSED));
        }
    };
    unlock::remember(cli.keys);
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            if output::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            let core = err.downcast_ref::<custody_core::Error>();
            if let Some(advice) = core.and_then(hint::hint) {
                eprintln!("hint: {advice}");
            }
            if disk_full(&err) {
                eprintln!(
                    "hint: the disk is full; nothing was kept. Free some space, or write to another disk (-o)."
                );
            }
            let refused = err.downcast_ref::<Refused>().is_some()
                || core.is_some_and(custody_core::Error::is_refusal);
            ExitCode::from(if refused { EXIT_REFUSED } else { EXIT_FAILED })
        }
    }
}

/// Bad usage the command line itself finds (exit code 2), in words that say what to
/// type instead.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Whether the failure was a full disk somewhere along its chain of causes.
fn disk_full(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::StorageFull)
    })
}
