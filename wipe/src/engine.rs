//! The parallel overwrite: one worker per target, each pass flushed, optionally
//! verified by reading the device back.
//!
//! # Failure modes
//!
//! An I/O error does not stop a worker: it is recorded as an [`IoFault`] (pass,
//! operation, offset, length, errno), the chunk is skipped and the pass goes on, so
//! that the report says exactly which ranges were not overwritten. After
//! [`Plan::error_limit`] faults the worker gives up. A target with any fault, or whose
//! verification found a mismatch, ends [`Status::Failed`], never `Erased`.
//!
//! The stop flag is checked before every chunk; a stopped target ends
//! [`Status::Interrupted`] after flushing what it wrote.
//!
//! # Resuming
//!
//! Each target follows a [`Course`]: its passes with every random choice already
//! made, the [`Seed`] of its random passes and the [`Position`] to begin at. While it
//! writes, the worker flushes the device at least every [`Plan::checkpoint_bytes`] and
//! every [`Plan::checkpoint_interval`] and then tells the [`Reporter`] how far the
//! device durably holds the pass ([`Reporter::durable`]); a caller that journals
//! those positions can later run the same course from the last one. With the same
//! seed a random pass continues the very stream it began, so verification covers the
//! whole device. A range that failed to write is never reported durable.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::device::Target;
use crate::method::{Method, Pattern};
use crate::pass::{AlignedBuf, Handles, pipeline};
use crate::stream::{Seed, Source};

/// The default durable checkpoint: the device is flushed and the position reported at
/// least once per this many bytes written.
pub const DEFAULT_CHECKPOINT_BYTES: u64 = 1 << 30;

/// The default longest time between two durable checkpoints.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(30);

/// The default chunk: the unit of I/O, of progress reports and of skipping after errors.
pub const DEFAULT_CHUNK: usize = 4 << 20;

/// How many mismatch offsets a report keeps; all are counted.
pub const KEPT_MISMATCHES: usize = 64;

/// The bytes compared as one unit when counting mismatches.
pub const MISMATCH_BLOCK: usize = 512;

/// Which passes are read back and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VerifyMode {
    /// No read-back.
    Off,
    /// Only the last pass (with `blank`, the final zero pass).
    #[default]
    Last,
    /// Every pass.
    All,
}

impl VerifyMode {
    /// `"off"`, `"last"` or `"all"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            VerifyMode::Off => "off",
            VerifyMode::Last => "last",
            VerifyMode::All => "all",
        }
    }
}

/// What to do to every target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The method, whose passes are written in order.
    pub method: Method,
    /// Which passes to read back.
    pub verify: VerifyMode,
    /// Whether to add a final 0x00 pass.
    pub blank: bool,
    /// Bytes per I/O; rounded up to a multiple of 4096.
    pub chunk_size: usize,
    /// I/O errors after which a target is abandoned.
    pub error_limit: usize,
    /// Bytes written between two durable checkpoints, at most.
    pub checkpoint_bytes: u64,
    /// Time between two durable checkpoints, at most.
    pub checkpoint_interval: Duration,
}

impl Plan {
    /// A plan for `method` verifying the last pass, without blanking, with 4 MiB chunks,
    /// an error limit of 64, and a checkpoint every GiB and every 30 seconds.
    pub fn new(method: Method) -> Self {
        Self {
            method,
            verify: VerifyMode::Last,
            blank: false,
            chunk_size: DEFAULT_CHUNK,
            error_limit: 64,
            checkpoint_bytes: DEFAULT_CHECKPOINT_BYTES,
            checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
        }
    }

    /// Whether pass `pass` of `passes` is read back.
    pub fn verifies(&self, pass: usize, passes: usize) -> bool {
        match self.verify {
            VerifyMode::Off => false,
            VerifyMode::Last => pass + 1 == passes,
            VerifyMode::All => true,
        }
    }
}

/// How far a target's wipe has come: every pass before `pass` (counted from 0) is
/// written in full, and pass `pass` from byte 0 up to `offset`. An `offset` equal to
/// the size means the pass is written and only its read-back, if any, remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Position {
    /// The pass, counted from 0.
    pub pass: usize,
    /// The first byte of that pass not yet durably written.
    pub offset: u64,
}

/// What one target gets: its passes with every random choice made (the DoD bytes, the
/// Gutmann order), the seed of its random passes, and where to begin.
#[derive(Debug, Clone)]
pub struct Course {
    /// The passes, in order.
    pub passes: Vec<Pattern>,
    /// The seed of every random pass.
    pub seed: Seed,
    /// Where to begin: `Position::default()` for a new wipe.
    pub from: Position,
}

impl Course {
    /// A new course for `method`: its passes drawn now, a fresh seed, from the start.
    pub fn new(method: Method, blank: bool) -> crate::Result<Course> {
        Ok(Course {
            passes: method.passes(blank)?,
            seed: Seed::random()?,
            from: Position::default(),
        })
    }
}

/// How a target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Every pass was written in full and verification, if asked for, passed.
    Erased,
    /// An I/O error, a verification mismatch, or a worker that could not start.
    Failed,
    /// The stop flag was set before the last pass was done.
    Interrupted,
}

impl Status {
    /// `"erased"`, `"failed"` or `"interrupted"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Erased => "erased",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        }
    }
}

/// The operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IoOp {
    /// Writing a pass.
    Write,
    /// Reading back for verification.
    Read,
    /// Flushing a pass to the device.
    Flush,
}

/// One recorded I/O error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoFault {
    /// The pass, counted from 0.
    pub pass: usize,
    /// What failed.
    pub op: IoOp,
    /// The first byte not written (or read).
    pub offset: u64,
    /// How many bytes were skipped from `offset` on.
    pub length: u64,
    /// The operating system's error number, when there was one.
    pub errno: Option<i32>,
    /// The error as text.
    pub message: String,
}

/// What happened in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// The pattern label, e.g. `"0x00"`, `"0x92 0x49 0x24"` or `"random"`.
    pub pattern: String,
    /// The offset at which this run began writing the pass: 0, or where a resumed
    /// wipe continued it.
    pub from: u64,
    /// Bytes written without error in this run.
    pub bytes_written: u64,
    /// When the pass began.
    pub started: SystemTime,
    /// When it ended, after the flush.
    pub ended: SystemTime,
    /// Whether every chunk was attempted (false when stopped or abandoned).
    pub complete: bool,
    /// Whether this pass was read back.
    pub verified: bool,
}

/// Whether verification passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyResult {
    /// Every byte read back as written.
    Passed,
    /// A mismatch or a read error.
    Failed,
    /// Not done (off, or stopped before it ended).
    Skipped,
}

impl VerifyResult {
    /// `"passed"`, `"failed"` or `"skipped"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            VerifyResult::Passed => "passed",
            VerifyResult::Failed => "failed",
            VerifyResult::Skipped => "skipped",
        }
    }
}

/// The verification of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// What was asked for.
    pub mode: VerifyMode,
    /// The outcome.
    pub result: VerifyResult,
    /// Bytes read back and compared.
    pub bytes_verified: u64,
    /// How many [`MISMATCH_BLOCK`]-byte blocks differed, over all verified passes.
    pub mismatches: u64,
    /// The offset of the first differing byte of the first [`KEPT_MISMATCHES`] blocks.
    pub first_mismatches: Vec<u64>,
}

/// Everything the engine knows about one target at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetReport {
    /// The target as the caller named it.
    pub path: PathBuf,
    /// The resolved path.
    pub resolved: PathBuf,
    /// How it ended.
    pub status: Status,
    /// The method's name.
    pub method: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether the target is (or lies on) flash: the overwrite is then NIST SP 800-88
    /// Clear, not Purge.
    pub flash: bool,
    /// Whether the bulk was written with O_DIRECT.
    pub direct_io: bool,
    /// Where this run began.
    pub from: Position,
    /// One entry per pass this run wrote or read back, in order from `from.pass`.
    pub passes: Vec<PassReport>,
    /// The verification.
    pub verify: VerifyReport,
    /// Every I/O error.
    pub errors: Vec<IoFault>,
    /// Why the worker gave up early, if it did (error limit, no randomness).
    pub aborted: Option<String>,
}

/// Receives progress from the workers; called from their threads.
///
/// `target` is the index of the target in the list given to [`run`]. All methods have
/// empty defaults.
pub trait Reporter: Send + Sync {
    /// A pass begins (or, resumed, continues): `pass` counts from 0 of `passes`;
    /// `bytes` is the target's size.
    fn pass_started(&self, target: usize, pass: usize, passes: usize, pattern: &str, bytes: u64) {
        let _ = (target, pass, passes, pattern, bytes);
    }

    /// The device has been flushed: it durably holds everything up to `at`. Called at
    /// least every [`Plan::checkpoint_bytes`] and [`Plan::checkpoint_interval`], at the
    /// end of every pass and when stopped; never past a range that failed to write.
    fn durable(&self, target: usize, at: Position) {
        let _ = (target, at);
    }

    /// The read-back of pass `pass` ended: `clean` when every byte matched and every
    /// read succeeded.
    fn verified(&self, target: usize, pass: usize, clean: bool) {
        let _ = (target, pass, clean);
    }

    /// A chunk was written or verified: `bytes_done` counts from the start of the pass
    /// (or of its verification). Called once per chunk, a few MiB, never per block.
    fn advanced(&self, target: usize, bytes_done: u64) {
        let _ = (target, bytes_done);
    }

    /// Verification of pass `pass` begins; `advanced` then counts bytes read back.
    fn verify_started(&self, target: usize, pass: usize, bytes: u64) {
        let _ = (target, pass, bytes);
    }

    /// The target is done.
    fn finished(&self, target: usize, status: Status) {
        let _ = (target, status);
    }
}

/// A [`Reporter`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReport;

impl Reporter for NoReport {}

/// Wipes every target at the same time, one worker thread per target, and returns
/// their reports in the order of `targets`. Each target gets a new [`Course`].
pub fn run(
    targets: Vec<Target>,
    plan: &Plan,
    reporter: &dyn Reporter,
    stop: &AtomicBool,
) -> Vec<TargetReport> {
    let courses = targets
        .iter()
        .map(|_| Course::new(plan.method, plan.blank))
        .collect();
    run_courses(targets, courses, plan, reporter, stop)
}

/// Like [`run`], with each target's course given: the `i`-th course is the `i`-th
/// target's. A course that cannot be made (`Err`) fails its target alone.
pub fn run_courses(
    targets: Vec<Target>,
    courses: Vec<crate::Result<Course>>,
    plan: &Plan,
    reporter: &dyn Reporter,
    stop: &AtomicBool,
) -> Vec<TargetReport> {
    assert_eq!(targets.len(), courses.len(), "one course per target");
    std::thread::scope(|scope| {
        let workers: Vec<_> = targets
            .into_iter()
            .zip(courses)
            .enumerate()
            .map(|(index, (target, course))| {
                scope.spawn(move || {
                    let worker = Worker::new(index, &target, plan, reporter, stop);
                    let report = match &course {
                        Ok(course) => worker.wipe(course),
                        Err(e) => worker.abort(e.to_string()),
                    };
                    reporter.finished(index, report.status);
                    report
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

struct Worker<'a> {
    index: usize,
    target: &'a Target,
    plan: &'a Plan,
    reporter: &'a dyn Reporter,
    stop: &'a AtomicBool,
    chunk: usize,
    report: TargetReport,
}

impl<'a> Worker<'a> {
    fn new(
        index: usize,
        target: &'a Target,
        plan: &'a Plan,
        reporter: &'a dyn Reporter,
        stop: &'a AtomicBool,
    ) -> Self {
        let report = TargetReport {
            path: target.path.clone(),
            resolved: target.resolved.clone(),
            status: Status::Failed,
            method: plan.method.name().to_owned(),
            size: target.size,
            flash: target.flash,
            direct_io: false,
            from: Position::default(),
            passes: Vec::new(),
            verify: VerifyReport {
                mode: plan.verify,
                result: VerifyResult::Skipped,
                bytes_verified: 0,
                mismatches: 0,
                first_mismatches: Vec::new(),
            },
            errors: Vec::new(),
            aborted: None,
        };
        let chunk = plan.chunk_size.max(1).next_multiple_of(crate::pass::ALIGN);
        Self {
            index,
            target,
            plan,
            reporter,
            stop,
            chunk,
            report,
        }
    }

    fn wipe(mut self, course: &Course) -> TargetReport {
        let passes = &course.passes;
        let from = course.from;
        self.report.from = from;
        if passes.is_empty() || from.pass >= passes.len() || from.offset > self.target.size {
            return self.abort(format!(
                "nothing to resume at pass {} offset {}",
                from.pass + 1,
                from.offset
            ));
        }
        let handles = Handles::open(self.target);
        self.report.direct_io = handles.is_direct();
        let mut interrupted = false;
        let mut verify_failed = false;
        for (pass, pattern) in passes.iter().enumerate().skip(from.pass) {
            if self.stop.load(Ordering::Relaxed) {
                interrupted = true;
                break;
            }
            let source = Source::for_pass(pattern, &course.seed, pass);
            let start = if pass == from.pass { from.offset } else { 0 };
            let complete = self.write_pass(&handles, pass, passes.len(), pattern, &source, start);
            if self.over_limit() {
                return self.give_up();
            }
            if !complete {
                interrupted = true;
                break;
            }
            if self.plan.verifies(pass, passes.len()) {
                match self.verify_pass(&handles, pass, &source) {
                    Some(ok) => {
                        verify_failed |= !ok;
                        self.reporter.verified(self.index, pass, ok);
                    }
                    None => {
                        interrupted = !self.over_limit();
                        if !interrupted {
                            return self.give_up();
                        }
                        break;
                    }
                }
                if let Some(p) = self.report.passes.last_mut() {
                    p.verified = true;
                }
            }
        }
        let verify = &mut self.report.verify;
        verify.result = if verify_failed {
            VerifyResult::Failed
        } else if interrupted || self.plan.verify == VerifyMode::Off {
            VerifyResult::Skipped
        } else {
            VerifyResult::Passed
        };
        self.report.status = if interrupted {
            Status::Interrupted
        } else if verify_failed || !self.report.errors.is_empty() {
            Status::Failed
        } else {
            Status::Erased
        };
        self.report
    }

    fn abort(mut self, why: String) -> TargetReport {
        self.report.aborted = Some(why);
        self.report.status = Status::Failed;
        if self.report.verify.mismatches > 0 {
            self.report.verify.result = VerifyResult::Failed;
        }
        self.report
    }

    fn give_up(self) -> TargetReport {
        let why = format!("gave up after {} i/o errors", self.report.errors.len());
        self.abort(why)
    }

    fn over_limit(&self) -> bool {
        self.report.errors.len() >= self.plan.error_limit.max(1)
    }

    fn fault(&mut self, pass: usize, op: IoOp, offset: u64, length: u64, error: &std::io::Error) {
        self.report.errors.push(IoFault {
            pass,
            op,
            offset,
            length,
            errno: error.raw_os_error(),
            message: error.to_string(),
        });
    }

    /// Writes one pass from `start` on and flushes it, with durable checkpoints on the
    /// way; returns whether every chunk was attempted.
    fn write_pass(
        &mut self,
        handles: &Handles<'_>,
        pass: usize,
        passes: usize,
        pattern: &Pattern,
        source: &Source,
        start: u64,
    ) -> bool {
        let label = pattern.label();
        let size = self.target.size;
        self.reporter
            .pass_started(self.index, pass, passes, &label, size);
        let started = SystemTime::now();
        let mut written = 0_u64;
        // Everything below `reached` was attempted; while `clean`, also written.
        let mut reached = start;
        let mut clean = true;
        let mut unsynced = 0_u64;
        let mut synced_at = Instant::now();
        let (reporter, index) = (self.reporter, self.index);
        // Checkpoints are flushed by a thread of their own while the writing goes on:
        // a flush covers every write made before it began, so the position it reports
        // is durable, and the device never idles while it waits.
        let (complete, flush_failed) = std::thread::scope(|scope| {
            let (due_tx, due_rx) = std::sync::mpsc::channel::<u64>();
            let flusher = scope.spawn(move || {
                for offset in due_rx {
                    if let Err(e) = handles.flush() {
                        return Some((offset, e));
                    }
                    reporter.durable(index, Position { pass, offset });
                }
                None
            });
            let complete = pipeline(
                source,
                start,
                size,
                self.chunk,
                self.stop,
                |offset, data| {
                    match handles.write(offset, data) {
                        Ok(()) => written += data.len() as u64,
                        Err(f) => {
                            clean = false;
                            written += data.len() as u64 - f.length;
                            self.fault(pass, IoOp::Write, f.offset, f.length, &f.error);
                            if self.over_limit() {
                                return ControlFlow::Break(());
                            }
                        }
                    }
                    reached = offset + data.len() as u64;
                    unsynced += data.len() as u64;
                    let due = unsynced >= self.plan.checkpoint_bytes
                        || synced_at.elapsed() >= self.plan.checkpoint_interval;
                    if clean && due && reached < size {
                        // A closed channel means the flusher failed; its error is
                        // recorded below.
                        clean = due_tx.send(reached).is_ok();
                        unsynced = 0;
                        synced_at = Instant::now();
                    }
                    self.reporter.advanced(self.index, reached);
                    ControlFlow::Continue(())
                },
            );
            drop(due_tx);
            let failed = flusher
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (complete, failed)
        });
        if let Some((offset, e)) = flush_failed {
            clean = false;
            self.fault(pass, IoOp::Flush, 0, offset, &e);
        }
        // Flushed even when stopped, so that what was written is on the device.
        match handles.flush() {
            Ok(()) if clean => self.reporter.durable(
                self.index,
                Position {
                    pass,
                    offset: if complete { size } else { reached },
                },
            ),
            Ok(()) => {}
            Err(e) => self.fault(pass, IoOp::Flush, 0, size, &e),
        }
        self.report.passes.push(PassReport {
            pattern: label,
            from: start,
            bytes_written: written,
            started,
            ended: SystemTime::now(),
            complete,
            verified: false,
        });
        complete
    }

    /// Reads the pass back and compares; `Some(no mismatch and no read error)`, or
    /// `None` when stopped or abandoned.
    fn verify_pass(&mut self, handles: &Handles<'_>, pass: usize, source: &Source) -> Option<bool> {
        self.reporter
            .verify_started(self.index, pass, self.target.size);
        handles.drop_cache();
        let mut actual = AlignedBuf::new(self.chunk);
        let mut clean = true;
        let complete = pipeline(
            source,
            0,
            self.target.size,
            self.chunk,
            self.stop,
            |offset, expected| {
                let got = &mut actual.as_mut_slice()[..expected.len()];
                match handles.read(offset, got) {
                    Ok(()) => {
                        self.report.verify.bytes_verified += expected.len() as u64;
                        if got != expected {
                            clean = false;
                            self.count_mismatches(offset, expected, got);
                        }
                    }
                    Err(f) => {
                        clean = false;
                        self.fault(pass, IoOp::Read, f.offset, f.length, &f.error);
                        if self.over_limit() {
                            return ControlFlow::Break(());
                        }
                    }
                }
                self.reporter
                    .advanced(self.index, offset + expected.len() as u64);
                ControlFlow::Continue(())
            },
        );
        complete.then_some(clean)
    }

    fn count_mismatches(&mut self, offset: u64, expected: &[u8], got: &[u8]) {
        let verify = &mut self.report.verify;
        for (i, (want, have)) in expected
            .chunks(MISMATCH_BLOCK)
            .zip(got.chunks(MISMATCH_BLOCK))
            .enumerate()
        {
            if want != have {
                verify.mismatches += 1;
                if verify.first_mismatches.len() < KEPT_MISMATCHES {
                    let first = want.iter().zip(have).position(|(a, b)| a != b).unwrap_or(0);
                    verify
                        .first_mismatches
                        .push(offset + (i * MISMATCH_BLOCK + first) as u64);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::check_target;
    use crate::reach::Protected;

    fn image(len: usize, byte: u8) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk.img");
        std::fs::write(&path, vec![byte; len]).unwrap();
        (dir, path)
    }

    #[test]
    fn an_unaligned_image_is_overwritten_to_the_last_byte() {
        let (_dir, path) = image(3 * 4096 + 777, 0x5A);
        let mut plan = Plan::new(Method::Vsitr);
        plan.chunk_size = 8192;
        plan.verify = VerifyMode::All;
        let report = run(
            vec![check_target(&path, &Protected::none()).unwrap()],
            &plan,
            &NoReport,
            &AtomicBool::new(false),
        );
        let report = &report[0];
        assert_eq!(report.status, Status::Erased, "{report:?}");
        assert_eq!(report.passes.len(), 7);
        assert!(
            report
                .passes
                .iter()
                .all(|p| p.bytes_written == 3 * 4096 + 777 && p.verified)
        );
        assert_eq!(report.verify.result, VerifyResult::Passed);
        let data = std::fs::read(&path).unwrap();
        assert_eq!(data.len(), 3 * 4096 + 777);
        assert!(data.iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn a_course_resumed_mid_pass_continues_the_same_stream_and_verifies() {
        let len = 5 * 4096 + 300;
        let (_dir, whole) = image(len, 0x5A);
        let seed = Seed::random().unwrap();
        let course = Course {
            passes: vec![Pattern::Fixed(vec![0x11]), Pattern::Random],
            seed: seed.clone(),
            from: Position::default(),
        };
        let mut plan = Plan::new(Method::Zero);
        plan.chunk_size = 4096;
        let stop = AtomicBool::new(false);
        let target = check_target(&whole, &Protected::none()).unwrap();
        let done = run_courses(
            vec![target],
            vec![Ok(course.clone())],
            &plan,
            &NoReport,
            &stop,
        );
        assert_eq!(done[0].status, Status::Erased);
        let expected = std::fs::read(&whole).unwrap();

        // A second image as a wipe killed at byte 12288 of pass 2 left it: the random
        // stream below, the first pass above.
        let (_dir2, resumed) = image(len, 0x11);
        let mut bytes = std::fs::read(&resumed).unwrap();
        bytes[..12288].copy_from_slice(&expected[..12288]);
        std::fs::write(&resumed, &bytes).unwrap();
        let from = Position {
            pass: 1,
            offset: 12288,
        };
        let report = run_courses(
            vec![check_target(&resumed, &Protected::none()).unwrap()],
            vec![Ok(Course { from, ..course })],
            &plan,
            &NoReport,
            &stop,
        );
        let report = &report[0];
        assert_eq!(report.status, Status::Erased, "{report:?}");
        assert_eq!(report.from, from);
        assert_eq!(report.passes.len(), 1);
        assert_eq!(report.passes[0].from, 12288);
        assert_eq!(report.passes[0].bytes_written, len as u64 - 12288);
        assert_eq!(
            report.verify.bytes_verified, len as u64,
            "the whole device is read back"
        );
        assert_eq!(std::fs::read(&resumed).unwrap(), expected);
    }

    struct Durable(std::sync::Mutex<Vec<Position>>);

    impl Reporter for Durable {
        fn durable(&self, _: usize, at: Position) {
            self.0.lock().unwrap().push(at);
        }
    }

    #[test]
    fn durable_positions_come_in_order_and_end_each_pass() {
        let len = 20 * 4096;
        let (_dir, path) = image(len, 0x5A);
        let mut plan = Plan::new(Method::One);
        plan.chunk_size = 4096;
        plan.checkpoint_bytes = 3 * 4096;
        let durable = Durable(std::sync::Mutex::new(Vec::new()));
        let report = run(
            vec![check_target(&path, &Protected::none()).unwrap()],
            &plan,
            &durable,
            &AtomicBool::new(false),
        );
        assert_eq!(report[0].status, Status::Erased);
        let seen = durable.0.into_inner().unwrap();
        assert!(seen.len() >= 2, "{seen:?}");
        assert!(
            seen.windows(2).all(|w| w[0].offset < w[1].offset),
            "{seen:?}"
        );
        assert!(
            seen.iter()
                .all(|p| p.pass == 0 && p.offset % (3 * 4096) == 0 || p.offset == len as u64)
        );
        assert_eq!(seen.last().unwrap().offset, len as u64);
    }

    #[test]
    fn a_stop_before_the_start_interrupts() {
        let (_dir, path) = image(10_000, 0x11);
        let report = run(
            vec![check_target(&path, &Protected::none()).unwrap()],
            &Plan::new(Method::Zero),
            &NoReport,
            &AtomicBool::new(true),
        );
        assert_eq!(report[0].status, Status::Interrupted);
        assert_eq!(report[0].verify.result, VerifyResult::Skipped);
        assert!(std::fs::read(&path).unwrap().iter().all(|&b| b == 0x11));
    }

    #[test]
    fn mismatches_are_counted_per_block_with_offsets() {
        let (_dir, path) = image(4096, 0);
        let target = check_target(&path, &Protected::none()).unwrap();
        let plan = Plan::new(Method::Zero);
        let stop = AtomicBool::new(false);
        let mut worker = Worker::new(0, &target, &plan, &NoReport, &stop);
        let expected = vec![0_u8; 2048];
        let mut got = expected.clone();
        got[3] = 1;
        got[1500] = 1;
        got[1501] = 1;
        worker.count_mismatches(8192, &expected, &got);
        assert_eq!(worker.report.verify.mismatches, 2);
        assert_eq!(worker.report.verify.first_mismatches, [8195, 8192 + 1500]);
    }
}
