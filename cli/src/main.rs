//! The `custody` command: parses arguments, makes one call into `custody-core` per
//! command, renders the result and sets the exit code.

// The binary is where printing and exiting belong.
#![allow(clippy::print_stdout, clippy::print_stderr)]
#![forbid(unsafe_code)]

mod agent;
mod args;
mod batch;
mod cert;
mod commands;
mod demo;
mod desk;
mod files;
mod hint;
mod i18n;
mod incident;
mod operation;
mod output;
mod registers;
mod retain;
mod say;
mod send;
mod unlock;
mod wipe;

use std::process::ExitCode;

use crate::args::Cli;

/// Exit code for an operation that failed (a mismatch, a failed wipe, tampering).
const EXIT_FAILED: u8 = 1;
/// Exit code for bad usage or a refusal by policy.
const EXIT_REFUSED: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = i18n::localize_help(
        <Cli as clap::CommandFactory>::command(),
        i18n::lang_of_command_line(&args),
    );
    let parsed = command
        .try_get_matches_from(&args)
        .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            // clap words its own errors in English; Japanese ones are worded here.
            match i18n::clap_error(&e, i18n::lang_of_command_line(&args)) {
                Some(text) => eprint!("{text}"),
                None => {
                    let _ = e.print();
                }
            }
            return ExitCode::from(u8::try_from(code).unwrap_or(EXIT_REFUSED));
        }
    };
    unlock::remember(cli.keys);
    i18n::choose(cli.lang.map(custody_core::Lang::from));
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            if output::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let core = err.downcast_ref::<custody_core::Error>();
            // Worded in the person's language when the catalogue has it and nothing
            // was added around core's error; else as it is.
            let message = core
                .filter(|e| e.to_string() == err.to_string())
                .and_then(say::error)
                .unwrap_or_else(|| format!("{err:#}"));
            eprintln!("{}: {message}", i18n::t!("error-prefix"));
            if let Some(advice) = core.and_then(hint::hint) {
                eprintln!("{}: {advice}", i18n::t!("hint-prefix"));
            }
            if disk_full(&err) {
                eprintln!(
                    "{}: {}",
                    i18n::t!("hint-prefix"),
                    i18n::t!("hint-disk-full")
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
