//! Progress on stderr, the one way for every long command: bars on a terminal, one
//! line per step when stderr is a log, nothing with `--quiet`.
//!
//! [`SendBar`] follows one stream (a send or an open); [`WipeBars`] follows several
//! devices at once, each through its passes and read-backs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use custody_core::erasure::{Reporter, Status, WipeJob};
use custody_core::send::seal::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Bars, redrawn in place.
    Bars,
    /// One line per step (stderr is not a terminal).
    Lines,
    /// Nothing.
    Quiet,
}

impl Mode {
    fn of(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }

    fn target(self) -> ProgressDrawTarget {
        match self {
            Mode::Bars => ProgressDrawTarget::stderr(),
            Mode::Lines | Mode::Quiet => ProgressDrawTarget::hidden(),
        }
    }
}

/// The bar's look: `[bar] bytes/total speed ETA`, with `{prefix} {msg}` before it for
/// one bar among several; plain when `NO_COLOR` is set.
fn style(labelled: bool) -> ProgressStyle {
    let plain = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let template = match (labelled, plain) {
        (false, _) => "[{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        (true, true) => {
            "{prefix} {msg:14} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        }
        (true, false) => {
            "{prefix:.bold} {msg:14} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        }
    };
    ProgressStyle::with_template(template)
        .expect("the templates are valid")
        .progress_chars("=> ")
}

/// A progress bar for a send or an open over a few MiB, on a terminal only.
pub struct SendBar {
    bar: ProgressBar,
}

impl SendBar {
    /// A bar, hidden with `quiet` or without a terminal.
    pub fn new(quiet: bool) -> SendBar {
        let mode = Mode::of(quiet);
        let bar = ProgressBar::with_draw_target(None, mode.target());
        bar.set_style(style(false));
        SendBar { bar }
    }
}

impl Progress for SendBar {
    fn start(&self, total_bytes: u64) {
        const FEW_MB: u64 = 4 << 20;
        if total_bytes < FEW_MB {
            self.bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        self.bar.set_length(total_bytes);
        self.bar.enable_steady_tick(Duration::from_millis(200));
    }
    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// One bar per target over all its passes and verifications, or, when stderr is not
/// a terminal, one line per pass (for logs).
pub struct WipeBars {
    /// Kept so that the bars stay drawn until the results are printed.
    _multi: MultiProgress,
    targets: Vec<TargetBar>,
    mode: Mode,
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

impl WipeBars {
    /// Bars for the targets of `job`.
    pub fn new(job: &WipeJob, quiet: bool) -> WipeBars {
        let mode = Mode::of(quiet);
        let multi = MultiProgress::with_draw_target(mode.target());
        let style = style(true);
        let phases = (job.passes().len() + job.verified_passes()) as u64;
        let width = job
            .targets()
            .iter()
            .map(|t| unicode_width::UnicodeWidthStr::width(t.path.display().to_string().as_str()))
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
                bar.set_message(crate::i18n::t!("progress-starting"));
                if mode == Mode::Bars {
                    // Redraws the speed and ETA while a slow device has not finished a
                    // chunk.
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
        WipeBars {
            _multi: multi,
            targets,
            mode,
        }
    }

    fn line(&self, name: &str, message: &str) {
        if self.mode == Mode::Lines {
            eprintln!("{name}: {message}");
        }
    }

    fn begin_phase(&self, target: usize, bytes: u64, message: String) {
        let Some(t) = self.targets.get(target) else {
            return;
        };
        let previous = t.phase.swap(bytes, Ordering::Relaxed);
        let base = t.base.fetch_add(previous, Ordering::Relaxed) + previous;
        t.bar.set_position(base);
        self.line(&t.name, &message);
        t.bar.set_message(message);
    }
}

impl Reporter for WipeBars {
    fn pass_started(&self, target: usize, pass: usize, passes: usize, pattern: &str, bytes: u64) {
        self.begin_phase(
            target,
            bytes,
            crate::i18n::t!(
                "progress-pass",
                pass = pass + 1,
                passes = passes,
                pattern = pattern
            ),
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
        self.begin_phase(
            target,
            bytes,
            crate::i18n::t!("progress-verify", pass = pass + 1, passes = passes),
        );
    }

    fn finished(&self, target: usize, status: Status) {
        if let Some(t) = self.targets.get(target) {
            let word = crate::i18n::word("wipe-outcome", status.as_str());
            self.line(&t.name, &word);
            t.bar.finish_with_message(word);
        }
    }
}
