//! `custody demo`: the main job end to end in a throwaway data home.

use std::process::ExitCode;

use anyhow::{Context, Result};
use custody_core::Station;
use custody_core::people::Role;

use crate::output;

const MANAGER: &str = "sato";
const CLERK: &str = "suzuki";

fn step(title: &str) -> Result<()> {
    output::text(&format!("\n== {title}"))
}

/// Runs the walkthrough; the data home is removed at the end.
pub fn run() -> Result<ExitCode> {
    let dir = tempfile::Builder::new()
        .prefix("custody-demo-")
        .tempdir()
        .context("cannot create a temporary folder for the demo")?;
    let home = dir.path().join("home");
    output::text(&format!(
        "custody demo: everything happens in a throwaway data home at {}\n(it is removed when the demo ends; your own data home is not touched)",
        home.display()
    ))?;

    step("1. A station is set up; its first manager is sato")?;
    let report = Station::init(
        &home,
        MANAGER,
        Some("Demo Health Insurance Union"),
        Some("desk-1"),
    )?;
    output::text(&format!(
        "data home created; station key {} (public key at {})",
        report.key_id,
        report.public_key.display()
    ))?;

    step("2. The manager registers a clerk")?;
    let mut manager = Station::open(&home, MANAGER)?;
    let id = manager.add_person(CLERK, Role::Clerk)?;
    output::text(&format!("{CLERK} registered as clerk: {id}"))?;

    step("3. The clerk records an operation note (運用状況記録)")?;
    let mut clerk = Station::open(&home, CLERK)?;
    let id = clerk.note("個人データ抽出作業を開始 (export of member data started)")?;
    output::text(&format!("note recorded: {id}"))?;

    step("4. The ledger's signed head, to keep outside the machine")?;
    let head = clerk.head()?;
    output::text(&head.to_text())?;
    let head_file = dir.path().join("head.txt");
    fs_err::write(&head_file, head.to_text())?;

    step("5. An auditor verifies the whole ledger against that head")?;
    clerk.note("demo finished")?;
    let verified = clerk.verify(Some(&head_file))?;
    output::text(&format!(
        "OK: {} entries, {} signed checkpoints, extends the kept head of {} entries",
        verified.entries,
        verified.checkpoints,
        verified.extends.unwrap_or(0)
    ))?;
    output::text("\ndemo finished; the throwaway data home is removed.")?;
    Ok(ExitCode::SUCCESS)
}
