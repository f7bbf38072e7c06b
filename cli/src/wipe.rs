//! `custody devices` and `custody wipe`: arguments, the typed confirmation, the
//! progress bars, signal handling and the rendering of results. The workflow itself
//! (checks, the wipe, the ledger) is `custody_core::erasure`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use custody_core::erasure::{
    self, FLASH_NOTE, Reporter, Status, VerifyMode, WipeJob, WipeOptions, WipeResult,
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::commands::open_station;
use crate::output;

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
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<PathBuf>,
    /// The method: zero, one, random, dod-short, dod, gutmann, schneier, vsitr or
    /// hmg-is5 (docs/wipe-methods.md lists every pass; nwipe's names also work).
    #[arg(short, long, value_name = "METHOD")]
    pub method: String,
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
    #[arg(long, value_parser = ["reuse", "disposal", "return-to-lessor", "recycling"])]
    pub destination: Option<String>,
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

/// Lists block devices and whether each may be wiped.
pub fn devices(args: DevicesArgs) -> Result<ExitCode> {
    // With a data home here, a device that reaches its files is shown as refused.
    let home = custody_core::default_home().ok();
    let devices = erasure::devices(home.as_deref())?;
    if args.json {
        output::json(&devices)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = devices
        .iter()
        .map(|d| {
            let what = match (&d.model, &d.source) {
                (_, Some(source)) => source.display().to_string(),
                (Some(model), None) => model.clone(),
                (None, None) => "-".into(),
            };
            let mut kind = vec![d.transport.to_string()];
            if d.flash {
                kind.push("flash".into());
            }
            if d.removable {
                kind.push("removable".into());
            }
            let wipeable = if d.wipeable {
                "yes".to_string()
            } else {
                let reasons: Vec<&str> = d.refusals.iter().map(|r| r.message.as_str()).collect();
                format!("no: {}", reasons.join("; "))
            };
            vec![
                d.path.display().to_string(),
                size(d.size),
                format!("{}/{}", d.logical_sector, d.physical_sector),
                what,
                d.serial.clone().unwrap_or_else(|| "-".into()),
                kind.join(","),
                wipeable,
            ]
        })
        .collect();
    output::text(&output::table(
        &[
            "DEVICE",
            "SIZE",
            "SECTORS",
            "MODEL / BACKING FILE",
            "SERIAL",
            "TYPE",
            "WIPEABLE",
        ],
        &rows,
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Checks, confirms, wipes and records; exit 0 only when every target is erased.
pub fn wipe(args: WipeArgs) -> Result<ExitCode> {
    let mut station = open_station()?;
    let options = WipeOptions {
        method: args.method.clone(),
        passes: args.passes,
        verify: match args.verify {
            VerifyArg::Off => VerifyMode::Off,
            VerifyArg::Last => VerifyMode::Last,
            VerifyArg::All => VerifyMode::All,
        },
        blank: args.blank,
        serial: args.serial.clone(),
        asset_tag: args.asset_tag.clone(),
        destination: args.destination.clone(),
    };
    let job = station.prepare_wipe(&args.targets, &options)?;
    if !args.yes {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            eprintln!(
                "error: refusing to wipe without confirmation: there is no terminal to confirm on; nothing was touched"
            );
            eprintln!("hint: check the targets with `custody devices`, then add --yes");
            return Ok(ExitCode::from(crate::EXIT_REFUSED));
        }
        if !confirm(&job)? {
            eprintln!("not confirmed; nothing was touched");
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
    let bars = Bars::new(&job, args.quiet);
    let outcome = station.run_wipe(job, &bars, &stop);
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    drop(bars);
    let results = outcome?;

    if args.json {
        output::json(&results)?;
    } else {
        output::text(&render(&results))?;
    }
    let interrupted = results.iter().any(|r| r.status == Status::Interrupted);
    if interrupted {
        eprintln!("the wipe was interrupted; the interrupted targets hold partly overwritten data");
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
        "custody will overwrite {count} target{} with {} ({} pass{}, verify {}); everything on {} is lost:",
        if count == 1 { "" } else { "s" },
        job.method(),
        job.passes().len(),
        if job.passes().len() == 1 { "" } else { "es" },
        job.verify().as_str(),
        if count == 1 { "it" } else { "them" },
    )?;
    let rows: Vec<Vec<String>> = job
        .targets()
        .iter()
        .map(|t| {
            vec![
                t.path.display().to_string(),
                t.model.clone().unwrap_or_else(|| "-".into()),
                t.serial.clone().unwrap_or_else(|| "-".into()),
                size(t.size),
                t.source
                    .as_ref()
                    .map_or_else(|| t.transport.to_string(), |s| s.display().to_string()),
            ]
        })
        .collect();
    write!(
        err,
        "{}",
        output::table(
            &["TARGET", "MODEL", "SERIAL", "SIZE", "ATTACHED / FILE"],
            &rows
        )
    )?;
    if job.targets().iter().any(|t| t.flash) {
        writeln!(err, "note: {FLASH_NOTE}")?;
    }
    let expected = format!("erase {count}");
    write!(err, "type \"{expected}\" to continue: ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == expected)
}

fn render(results: &[WipeResult]) -> String {
    let mut out = String::new();
    for r in results {
        let report = &r.report;
        out.push_str(&format!(
            "{}  {}  {}  {}: {} pass{} of {}, verify {}: {}\n",
            r.id,
            r.identity.path.display(),
            report.status.as_str().to_uppercase(),
            report.method,
            report.passes.len(),
            if report.passes.len() == 1 { "" } else { "es" },
            size(report.size),
            report.verify.mode.as_str(),
            report.verify.result.as_str(),
        ));
        if report.verify.mismatches > 0 {
            out.push_str(&format!(
                "    {} blocks read back differently (first at offset {})\n",
                report.verify.mismatches,
                report
                    .verify
                    .first_mismatches
                    .first()
                    .copied()
                    .unwrap_or_default()
            ));
        }
        for e in report.errors.iter().take(5) {
            out.push_str(&format!(
                "    i/o error in pass {}: {} bytes at offset {} ({})\n",
                e.pass + 1,
                e.length,
                e.offset,
                e.message
            ));
        }
        if report.errors.len() > 5 {
            out.push_str(&format!(
                "    … {} i/o errors in all (custody log --kind wipe --json lists them)\n",
                report.errors.len()
            ));
        }
        out.push_str(&format!(
            "    erasure certificate {} (custody cert export {} --format pdf -o {}.pdf)\n",
            r.certificate, r.certificate, r.certificate
        ));
        if let Some(why) = &report.aborted {
            out.push_str(&format!("    stopped: {why}\n"));
        }
        if report.flash {
            out.push_str(&format!("    note: {FLASH_NOTE}\n"));
        }
    }
    out
}

/// A size in bytes for people: `32.0 MiB (33556992 bytes)`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {} ({bytes} bytes)", UNITS[unit])
}

/// Progress on stderr: one bar per target over all its passes and verifications, or,
/// when stderr is not a terminal, one line per pass (for logs); nothing with --quiet.
struct Bars {
    /// Kept so that the bars stay drawn until the results are printed.
    _multi: MultiProgress,
    targets: Vec<TargetBar>,
    lines: bool,
}

struct TargetBar {
    bar: ProgressBar,
    name: String,
    /// Bytes of the phases (passes and read-backs) before the current one.
    base: AtomicU64,
    /// The length of the current phase.
    phase: AtomicU64,
    passes: usize,
}

impl Bars {
    fn new(job: &WipeJob, quiet: bool) -> Bars {
        let terminal = std::io::stderr().is_terminal();
        let drawn = terminal && !quiet;
        let target = if !drawn {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        let template = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            "{prefix} {msg:14} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        } else {
            "{prefix:.bold} {msg:14} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        };
        let style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> ");
        let phases = (job.passes().len() + job.verified_passes()) as u64;
        let width = job
            .targets()
            .iter()
            .map(|t| t.path.display().to_string().chars().count())
            .max()
            .unwrap_or(0);
        let targets = job
            .targets()
            .iter()
            .map(|t| {
                let name = t.path.display().to_string();
                let bar = multi.add(ProgressBar::new(t.size * phases));
                bar.set_style(style.clone());
                bar.set_prefix(format!("{name:width$}"));
                bar.set_message("starting");
                if drawn {
                    // Redraws the speed and ETA while a slow device has not finished a chunk.
                    bar.enable_steady_tick(Duration::from_millis(500));
                }
                TargetBar {
                    bar,
                    name,
                    base: AtomicU64::new(0),
                    phase: AtomicU64::new(0),
                    passes: job.passes().len(),
                }
            })
            .collect();
        Bars {
            _multi: multi,
            targets,
            lines: !quiet && !terminal,
        }
    }

    fn begin_phase(&self, target: usize, bytes: u64, message: String) {
        let Some(t) = self.targets.get(target) else {
            return;
        };
        let previous = t.phase.swap(bytes, Ordering::Relaxed);
        let base = t.base.fetch_add(previous, Ordering::Relaxed) + previous;
        t.bar.set_position(base);
        if self.lines {
            eprintln!("{}: {message}", t.name);
        }
        t.bar.set_message(message);
    }
}

impl Reporter for Bars {
    fn pass_started(&self, target: usize, pass: usize, passes: usize, pattern: &str, bytes: u64) {
        self.begin_phase(
            target,
            bytes,
            format!("pass {}/{passes} {pattern}", pass + 1),
        );
    }

    fn advanced(&self, target: usize, bytes_done: u64) {
        if let Some(t) = self.targets.get(target) {
            t.bar
                .set_position(t.base.load(Ordering::Relaxed) + bytes_done);
        }
    }

    fn verify_started(&self, target: usize, pass: usize, bytes: u64) {
        let passes = self.targets.get(target).map_or(0, |t| t.passes);
        self.begin_phase(target, bytes, format!("verify {}/{passes}", pass + 1));
    }

    fn finished(&self, target: usize, status: Status) {
        if let Some(t) = self.targets.get(target) {
            if self.lines {
                eprintln!("{}: {}", t.name, status.as_str());
            }
            t.bar.finish_with_message(status.as_str());
        }
    }
}
