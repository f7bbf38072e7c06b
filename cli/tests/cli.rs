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

#[test]
fn man_page_and_completions_come_from_the_same_definitions() {
    let man = custody().arg("man").output().unwrap();
    assert!(man.status.success());
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(
        man.contains(".TH custody 1") && man.contains("ledger"),
        "{man}"
    );
    let bash = custody().args(["completions", "bash"]).output().unwrap();
    assert!(bash.status.success());
    let bash = String::from_utf8(bash.stdout).unwrap();
    assert!(bash.contains("carryout") && bash.contains("retain"));
}
