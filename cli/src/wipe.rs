//! `custody devices` and `custody wipe`: arguments, the typed confirmation, the
//! progress bars, signal handling and the rendering of results. The workflow itself
//! (checks, the wipe, the ledger) is `custody_core::erasure`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use custody_core::erasure::{
    self, Destination, Status, VerifyMode, WipeJob, WipeOptions, WipeResult,
};

use crate::commands::open_station;
use crate::i18n::t;
use crate::output::{self, Printer, Table, size};

/// `custody devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `custody wipe`.
#[derive(Debug, Args)]
pub struct WipeArgs {
    /// Block devices (/dev/sdb, /dev/disk/by-id/…) or disk-image files to overwrite,
    /// all at the same time. If any one of them may not be wiped, none is touched.
    #[arg(required_unless_present = "resume", value_name = "TARGET")]
    pub targets: Vec<PathBuf>,
    /// The method: zero, one, random, dod-short, dod, gutmann, schneier, vsitr or
    /// hmg-is5 (docs/wipe-methods.md lists every pass; nwipe's names also work).
    #[arg(short, long, value_name = "METHOD", required_unless_present = "resume")]
    pub method: Option<String>,
    /// Continue a wipe that did not finish (WP-n of an interrupted result, or the
    /// number of its wipe-start entry, as custody audit lists it), with its own
    /// method and passes, on the same devices; TARGET only when their names changed.
    #[arg(long, value_name = "WIPE", conflicts_with_all = ["method", "passes", "blank", "serial", "asset_tag", "destination", "from", "title", "contact", "place"])]
    pub resume: Option<String>,
    /// The number of passes, for the random method only.
    #[arg(long, value_name = "N")]
    pub passes: Option<u32>,
    /// Which passes to read back and compare.
    #[arg(long, value_enum, default_value = "last")]
    pub verify: VerifyArg,
    /// Add a final pass of zeros.
    #[arg(long)]
    pub blank: bool,
    /// Do not ask for confirmation (for scripts): the targets are overwritten at once.
    #[arg(short, long)]
    pub yes: bool,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress bars.
    #[arg(short, long)]
    pub quiet: bool,
    /// The medium's serial number, when it cannot be read from the device (one
    /// target only). A serial the device reports wins; a different one is refused.
    #[arg(long)]
    pub serial: Option<String>,
    /// The property number or asset tag, printed on the certificate.
    #[arg(long)]
    pub asset_tag: Option<String>,
    /// What happens to the medium afterwards, printed on the certificate.
    #[arg(long, value_enum)]
    pub destination: Option<DestinationArg>,
    /// The machine or person the media came from, printed on the certificate (e.g.
    /// "PC-0412, 総務課").
    #[arg(long, value_name = "TEXT")]
    pub from: Option<String>,
    /// Your title (役職), printed on the certificate beside your name.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// How to reach you (extension, mail), printed on the certificate.
    #[arg(long, value_name = "TEXT")]
    pub contact: Option<String>,
    /// Where the wipe takes place (building, room), printed on the certificate.
    #[arg(long, value_name = "TEXT")]
    pub place: Option<String>,
}

/// `--destination` on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DestinationArg {
    /// Used again in the office.
    Reuse,
    /// Disposed of.
    Disposal,
    /// Returned to the company that leased it.
    ReturnToLessor,
    /// Recycled.
    Recycling,
}

impl From<DestinationArg> for Destination {
    fn from(arg: DestinationArg) -> Destination {
        match arg {
            DestinationArg::Reuse => Destination::Reuse,
            DestinationArg::Disposal => Destination::Disposal,
            DestinationArg::ReturnToLessor => Destination::ReturnToLessor,
            DestinationArg::Recycling => Destination::Recycling,
        }
    }
}

/// `--verify` on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VerifyArg {
    /// No read-back.
    Off,
    /// Read back the last pass.
    Last,
    /// Read back every pass.
    All,
}

impl From<VerifyArg> for VerifyMode {
    fn from(arg: VerifyArg) -> VerifyMode {
        match arg {
            VerifyArg::Off => VerifyMode::Off,
            VerifyArg::Last => VerifyMode::Last,
            VerifyArg::All => VerifyMode::All,
        }
    }
}

/// Lists block devices and whether each may be wiped.
pub fn devices(args: DevicesArgs) -> Result<ExitCode> {
    // With a data home here, a device that reaches its files is shown as refused.
    let home = custody_core::default_home().ok();
    let devices = erasure::devices(home.as_deref())?;
    Printer::new(args.json).print(&devices, |devices| {
        let mut table = Table::new(&[
            "DEVICE",
            "SIZE",
            "SECTORS",
            "MODEL / BACKING FILE",
            "SERIAL",
            "TYPE",
            "WIPEABLE",
        ]);
        for d in devices {
            let what = match (&d.model, &d.source) {
                (_, Some(source)) => source.display().to_string(),
                (Some(model), None) => model.clone(),
                (None, None) => "-".into(),
            };
            let mut kind = vec![d.transport.to_string()];
            if d.flash {
                kind.push(t!("device-flash"));
            }
            if d.removable {
                kind.push(t!("device-removable"));
            }
            let wipeable = if d.wipeable {
                t!("wipeable-yes")
            } else {
                let reasons: Vec<String> = d
                    .refusals
                    .iter()
                    .map(|r| crate::say::refusal(&r.refusal).unwrap_or_else(|| r.message.clone()))
                    .collect();
                t!(
                    "wipeable-no",
                    reasons = reasons.join(&t!("wipe-reason-separator"))
                )
            };
            table.row([
                d.path.display().to_string(),
                size(d.size),
                format!("{}/{}", d.logical_sector, d.physical_sector),
                what,
                d.serial.clone().unwrap_or_else(|| "-".into()),
                kind.join(","),
                wipeable,
            ]);
        }
        table.render()
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Checks, confirms, wipes and records; exit 0 only when every target is erased.
pub fn wipe(args: WipeArgs) -> Result<ExitCode> {
    let mut station = open_station()?;
    let job = match &args.resume {
        Some(reference) => station.prepare_resume(reference, &args.targets)?,
        None => {
            let options = WipeOptions {
                method: args.method.clone().unwrap_or_default(),
                passes: args.passes,
                verify: args.verify.into(),
                blank: args.blank,
                serial: args.serial.clone(),
                asset_tag: args.asset_tag.clone(),
                destination: args.destination.map(Destination::from),
                details: custody_core::erasure::WipeDetails {
                    origin: args.from.clone(),
                    title: args.title.clone(),
                    contact: args.contact.clone(),
                    location: args.place.clone(),
                },
            };
            station.prepare_wipe(&args.targets, &options)?
        }
    };
    // The key that records the results is unlocked before a byte is touched, and
    // kept until they are recorded, however long the wipe takes.
    station.unlock_now()?;
    if !args.yes {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            eprintln!("{}: {}", t!("error-prefix"), t!("wipe-no-terminal"));
            eprintln!("{}: {}", t!("hint-prefix"), t!("hint-wipe-yes"));
            return Ok(ExitCode::from(crate::EXIT_REFUSED));
        }
        if !confirm(&job)? {
            eprintln!("{}", t!("wipe-not-confirmed"));
            return Ok(ExitCode::from(crate::EXIT_REFUSED));
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    // The first SIGINT or SIGTERM sets the flag; every worker stops at its next chunk,
    // flushes, and the results (interrupted) are still recorded. Further signals are
    // absorbed too, so that the record is written; SIGKILL remains for a hung device,
    // and the ledger's wipe-start entry then shows the wipe began.
    let mut ids = Vec::new();
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        ids.push(
            signal_hook::flag::register(signal, Arc::clone(&stop))
                .context("cannot install the signal handler")?,
        );
    }
    let bars = output::progress::WipeBars::new(&job, args.quiet);
    let outcome = station.run_wipe(job, &bars, &stop);
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    drop(bars);
    let results = outcome?;

    Printer::new(args.json).print(&results, |results| render(results))?;
    let interrupted = results.iter().find(|r| r.status == Status::Interrupted);
    if let Some(first) = interrupted {
        eprintln!("{}", t!("wipe-interrupted"));
        eprintln!(
            "{}: {}",
            t!("hint-prefix"),
            t!("hint-wipe-resume", id = first.id)
        );
    }
    if results.iter().all(|r| r.status == Status::Erased) {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(crate::EXIT_FAILED))
    }
}

/// Shows every target and asks for the typed word `erase` and the number of targets.
fn confirm(job: &WipeJob) -> Result<bool> {
    let count = job.targets().len();
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{}",
        t!(
            "wipe-confirm",
            count = count,
            method = job.method(),
            passes = job.passes().len(),
            verify = crate::i18n::word("verify", job.verify().as_str())
        )
    )?;
    let mut table = Table::new(&["TARGET", "MODEL", "SERIAL", "SIZE", "ATTACHED / FILE"]);
    for t in job.targets() {
        table.row([
            t.path.display().to_string(),
            t.model.clone().unwrap_or_else(|| "-".into()),
            t.serial.clone().unwrap_or_else(|| "-".into()),
            size(t.size),
            t.source
                .as_ref()
                .map_or_else(|| t.transport.to_string(), |s| s.display().to_string()),
        ]);
    }
    write!(err, "{}", table.render())?;
    if let (Some(run), Some(places)) = (job.resumes(), job.resumes_at()) {
        writeln!(err, "{}", t!("wipe-resume-of", run = run))?;
        for (t, (pass, offset)) in job.targets().iter().zip(places) {
            writeln!(
                err,
                "{}",
                t!(
                    "wipe-resume-at",
                    path = t.path.display(),
                    pass = pass,
                    passes = job.passes().len(),
                    offset = offset
                )
            )?;
        }
    }
    if job.targets().iter().any(|t| t.flash) {
        writeln!(err, "{}", t!("flash-note"))?;
    }
    let expected = format!("erase {count}");
    write!(err, "{}", t!("wipe-type-to-continue", expected = expected))?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == expected)
}

fn render(results: &[WipeResult]) -> String {
    let mut out = String::new();
    for r in results {
        let report = &r.report;
        out.push_str(&t!(
            "wipe-result",
            id = r.id,
            path = r.identity.path.display(),
            status = crate::i18n::word("wipe-status", report.status.as_str()),
            method = report.method,
            count = report.passes.len(),
            size = size(report.size),
            verify = crate::i18n::word("verify", report.verify.mode.as_str()),
            result = crate::i18n::word("verify-result", report.verify.result.as_str())
        ));
        out.push('\n');
        if report.verify.mismatches > 0 {
            out.push_str(&t!(
                "wipe-mismatches",
                count = report.verify.mismatches,
                offset = report
                    .verify
                    .first_mismatches
                    .first()
                    .copied()
                    .unwrap_or_default()
            ));
            out.push('\n');
        }
        for e in report.errors.iter().take(5) {
            out.push_str(&t!(
                "wipe-io-error",
                pass = e.pass + 1,
                length = e.length,
                offset = e.offset,
                message = e.message
            ));
            out.push('\n');
        }
        if report.errors.len() > 5 {
            out.push_str(&t!("wipe-io-errors", count = report.errors.len()));
            out.push('\n');
        }
        out.push_str(&t!("wipe-certificate", id = r.certificate));
        out.push('\n');
        if let Some(why) = &report.aborted {
            out.push_str(&t!("wipe-stopped", why = why));
            out.push('\n');
        }
        if report.flash {
            out.push_str("    ");
            out.push_str(&t!("flash-note"));
            out.push('\n');
        }
    }
    out
}
