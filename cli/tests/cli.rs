//! The binary's own smoke tests. Having an integration test here also makes
//! `cargo test --workspace` build the `custody` binary that the end-to-end tests in
//! `custody-tests` run.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

fn custody() -> Command {
    Command::new(env!("CARGO_BIN_EXE_custody"))
}

#[test]
fn help_lists_the_commands() {
    let out = custody().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for command in ["init", "people", "note", "log", "ledger", "demo"] {
        assert!(text.contains(command), "--help lacks {command}:\n{text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = custody().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = custody()
        .args(["people", "add", "x", "--role", "boss"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
