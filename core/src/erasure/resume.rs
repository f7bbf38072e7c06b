//! Resuming a wipe: the journal every run keeps in the data home, the seeds of its
//! random passes, and the checks that a resumed wipe continues on the same device.
//!
//! # The journal
//!
//! `wipes/<seq>.journal` in the data home, where `<seq>` is the `wipe-start` entry,
//! holds one JSON object per line, each written and fsync'd before the next:
//!
//! - the header: the start entry's hash, the station key, the method and options, and
//!   per target its identity and its passes with every random choice made;
//! - `pass`: a pass began (or continued) on a target, from an offset;
//! - `durable`: the device was flushed and holds the pass up to an offset, with the
//!   SHA-256 of the fingerprint blocks ([`custody_wipe::fingerprint`]) at that point;
//! - `verified`: a pass was read back, clean or not;
//! - `stopped`: a run ended with the target not erased (a signal, errors);
//! - `resumed`: a later run continued, with the `wipe-resume` entry's sequence number;
//! - `done`: the target's result was recorded (`WP-…`).
//!
//! The engine reports a position at least every GiB and every 30 seconds, so a
//! resumed wipe writes at most that much again. No secret is in the journal: the seed
//! of a target's random passes is derived from the station key, the start entry's hash
//! and the target's place in the run, each time it is needed.
//!
//! # Failure modes
//!
//! - A journal line that cannot be written does not stop the wipe: the wipe goes on,
//!   and the error is recorded on the result (`journal_error`); a resume then begins
//!   from the last line that was written.
//! - A torn last line (the machine lost power while writing it) is ignored.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use custody_wipe::{Course, Pattern, Position, Reporter, Seed, Status, fingerprint};
use fs_err::os::unix::fs::OpenOptionsExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock;
use crate::error::{Error, Result};
use crate::keys::StationKey;

/// The format of the journal's header.
pub const JOURNAL_FORMAT: &str = "custody.wipe-journal/v1";

/// Why a wipe cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResumeProblem {
    /// The reference names no wipe: neither `WP-…` nor the number of a `wipe-start`.
    NotAWipe,
    /// The station keeps no journal of that wipe (another station ran it, or the data
    /// home was restored from before it).
    NoJournal,
    /// The journal does not belong to that ledger entry or to this station's key.
    JournalMismatch,
    /// The journal cannot be read.
    JournalDamaged,
    /// Every target of that wipe is erased already.
    Finished,
    /// The targets given are not as many as the wipe has left to do.
    TargetCount {
        /// How many targets are left.
        left: usize,
    },
}

impl ResumeProblem {
    /// A stable code, for the catalogue: `not-a-wipe`, `no-journal`, …
    pub fn code(&self) -> &'static str {
        match self {
            ResumeProblem::NotAWipe => "not-a-wipe",
            ResumeProblem::NoJournal => "no-journal",
            ResumeProblem::JournalMismatch => "journal-mismatch",
            ResumeProblem::JournalDamaged => "journal-damaged",
            ResumeProblem::Finished => "finished",
            ResumeProblem::TargetCount { .. } => "target-count",
        }
    }
}

impl std::fmt::Display for ResumeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResumeProblem::NotAWipe => f.write_str(
                "that is no wipe: give the WP-… of an interrupted result or the number of the wipe-start entry (custody audit lists unfinished wipes)",
            ),
            ResumeProblem::NoJournal => f.write_str(
                "this station keeps no journal of it; resume it at the station that ran it, or start a new wipe",
            ),
            ResumeProblem::JournalMismatch => f.write_str(
                "its journal belongs to another ledger entry or another station key; start a new wipe",
            ),
            ResumeProblem::JournalDamaged => {
                f.write_str("its journal cannot be read; start a new wipe")
            }
            ResumeProblem::Finished => f.write_str("every target of it is erased already"),
            ResumeProblem::TargetCount { left } => {
                write!(f, "it has {left} target(s) left; name that many, or none")
            }
        }
    }
}

/// Why a device is not the one a resumed wipe was writing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceChange {
    /// Another size.
    Size {
        /// The size the wipe began on.
        was: u64,
        /// The size now.
        now: u64,
    },
    /// Another serial number, model or vendor.
    Identity {
        /// What was recorded.
        was: String,
        /// What the device reports now.
        now: String,
    },
    /// Another backing file (a loop device) or image file.
    Backing {
        /// What was recorded.
        was: String,
        /// What it is now.
        now: String,
    },
    /// The sampled blocks do not hold what the wipe wrote there.
    Written {
        /// The pass, from 1, whose bytes were expected.
        pass: usize,
        /// The offset of the first sampled block that differs.
        offset: u64,
    },
    /// The journal's fingerprint is not what its own course generates.
    Journal,
}

impl std::fmt::Display for DeviceChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChange::Size { was, now } => {
                write!(f, "its size is {now} bytes, the wipe began on {was}")
            }
            DeviceChange::Identity { was, now } => {
                write!(f, "it reports {now}, the wipe began on {was}")
            }
            DeviceChange::Backing { was, now } => {
                write!(f, "it is {now}, the wipe began on {was}")
            }
            DeviceChange::Written { pass, offset } => write!(
                f,
                "at byte {offset} it does not hold what pass {pass} wrote: it was written by something else since, or it is another device"
            ),
            DeviceChange::Journal => f.write_str(
                "the journal disagrees with what this wipe writes (the journal or the station key changed)",
            ),
        }
    }
}

/// The folder of wipe journals in the data home.
pub(crate) fn folder(home: &Path) -> PathBuf {
    home.join("wipes")
}

fn journal_path(home: &Path, start_seq: i64) -> PathBuf {
    folder(home).join(format!("{start_seq}.journal"))
}

/// An open journal, appended to line by line.
pub(crate) struct Journal {
    file: fs_err::File,
}

impl Journal {
    /// Creates the journal of a new wipe with its header, durably.
    pub(crate) fn create(home: &Path, start_seq: i64, header: &Value) -> Result<Journal> {
        let dir = folder(home);
        fs_err::create_dir_all(&dir)?;
        let file = fs_err::OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(journal_path(home, start_seq))?;
        let mut journal = Journal { file };
        journal.line(header)?;
        // The new name itself must survive a power cut.
        fs_err::File::open(&dir)?.sync_all()?;
        Ok(journal)
    }

    /// Opens the journal of wipe `start_seq` for appending, with the lines it holds.
    pub(crate) fn open(home: &Path, start_seq: i64) -> Result<(Journal, Vec<Value>)> {
        let path = journal_path(home, start_seq);
        let reference = start_seq.to_string();
        let cannot = |why| Error::CannotResume {
            reference: reference.clone(),
            why,
        };
        let file = match fs_err::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(cannot(ResumeProblem::NoJournal));
            }
            Err(e) => return Err(e.into()),
        };
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let line = line?;
            match serde_json::from_str::<Value>(&line) {
                Ok(value) => lines.push(value),
                // A torn last line: the machine stopped while writing it.
                Err(_) => break,
            }
        }
        if lines
            .first()
            .and_then(|h| h.get("journal"))
            .and_then(Value::as_str)
            != Some(JOURNAL_FORMAT)
        {
            return Err(cannot(ResumeProblem::JournalDamaged));
        }
        let file = fs_err::OpenOptions::new().append(true).open(&path)?;
        Ok((Journal { file }, lines))
    }

    /// The lines of the journal of wipe `start_seq` as they stand.
    pub(crate) fn read(home: &Path, start_seq: i64) -> Result<Vec<Value>> {
        Ok(Journal::open(home, start_seq)?.1)
    }

    /// Appends one line and makes it durable.
    pub(crate) fn line(&mut self, value: &Value) -> Result<()> {
        let mut text = value.to_string();
        text.push('\n');
        self.file.write_all(text.as_bytes())?;
        self.file.sync_data()?;
        Ok(())
    }
}

/// The seed of target `index`'s random passes in the wipe whose start entry has hash
/// `start_hash`: derived from the station key, so the same station computes it again to
/// resume, and nothing secret is stored.
pub(crate) fn seed(key: &StationKey, start_hash: &str, index: usize) -> Result<Seed> {
    let derived = key.derive(&format!("wipe seed\n{start_hash}\n{index}\n"));
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&derived[..16]);
    let seed = Seed::from_bytes(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    Ok(seed)
}

/// The SHA-256, hex, of the fingerprint blocks that `course` puts on a target of
/// `size` bytes at `at`.
pub(crate) fn expected_fingerprint(course: &Course, size: u64, at: Position) -> String {
    let samples = fingerprint::samples(size, at);
    hex::encode(Sha256::digest(fingerprint::expected(course, &samples)))
}

/// The passes of a course as the journal keeps them: the bytes of a fixed pattern, or
/// `null` for a random pass.
pub(crate) fn patterns_json(passes: &[Pattern]) -> Value {
    Value::Array(
        passes
            .iter()
            .map(|p| match p {
                Pattern::Fixed(bytes) => json!(bytes),
                Pattern::Random => Value::Null,
            })
            .collect(),
    )
}

/// The passes a journal header gives for a target, or `None` when damaged.
pub(crate) fn patterns_from(value: &Value) -> Option<Vec<Pattern>> {
    value
        .as_array()?
        .iter()
        .map(|p| match p {
            Value::Null => Some(Pattern::Random),
            Value::Array(bytes) => bytes
                .iter()
                .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<Vec<u8>>>()
                .filter(|b| !b.is_empty())
                .map(Pattern::Fixed),
            _ => None,
        })
        .collect()
}

/// The thread that writes the journal: it gives the journal back, with the first
/// error writing it.
type Writer = std::thread::JoinHandle<(Journal, Option<String>)>;

/// A [`Reporter`] that journals every position, pass and read-back, then passes
/// everything on to the front end's reporter.
///
/// The lines are written and fsync'd by a thread of their own, so that the workers
/// never wait for the journal's disk: a line only ever follows the device flush it
/// reports, so a line lost with the process makes a resume start earlier, never
/// later.
pub(crate) struct Journaling<'a> {
    inner: &'a dyn Reporter,
    lines: Mutex<Option<std::sync::mpsc::Sender<Value>>>,
    writer: Mutex<Option<Writer>>,
    courses: Vec<Course>,
    sizes: Vec<u64>,
    /// The journal's index of each target of this run.
    indexes: Vec<usize>,
}

impl<'a> Journaling<'a> {
    pub(crate) fn new(
        inner: &'a dyn Reporter,
        mut journal: Journal,
        courses: Vec<Course>,
        sizes: Vec<u64>,
        indexes: Vec<usize>,
    ) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Value>();
        let writer = std::thread::spawn(move || {
            let mut error = None;
            for line in rx {
                if let Err(e) = journal.line(&line) {
                    error.get_or_insert_with(|| e.to_string());
                }
            }
            (journal, error)
        });
        Self {
            inner,
            lines: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            courses,
            sizes,
            indexes,
        }
    }

    /// Queues a line with the time; the writer thread makes it durable.
    fn record(&self, mut line: Value) {
        if let Value::Object(map) = &mut line {
            map.insert("at".into(), Value::String(clock::stamp(clock::now())));
        }
        if let Ok(lines) = self.lines.lock()
            && let Some(tx) = lines.as_ref()
        {
            // The writer ends only when the sender is dropped: a send cannot fail
            // before `finish`.
            let _ = tx.send(line);
        }
    }

    /// Waits until every queued line is durable; returns the journal, to go on
    /// writing in this thread, and the first error writing it, if any.
    pub(crate) fn finish(&self) -> Option<(Journal, Option<String>)> {
        self.lines.lock().ok()?.take();
        let writer = self.writer.lock().ok()?.take()?;
        writer.join().ok()
    }

    fn index(&self, target: usize) -> usize {
        self.indexes.get(target).copied().unwrap_or(target)
    }
}

impl Reporter for Journaling<'_> {
    fn pass_started(&self, target: usize, pass: usize, passes: usize, pattern: &str, bytes: u64) {
        let from = self
            .courses
            .get(target)
            .filter(|c| c.from.pass == pass)
            .map_or(0, |c| c.from.offset);
        self.record(
            json!({ "event": "pass", "t": self.index(target), "pass": pass, "from": from }),
        );
        self.inner
            .pass_started(target, pass, passes, pattern, bytes);
    }

    fn advanced(&self, target: usize, bytes_done: u64) {
        self.inner.advanced(target, bytes_done);
    }

    fn verify_started(&self, target: usize, pass: usize, bytes: u64) {
        self.inner.verify_started(target, pass, bytes);
    }

    fn durable(&self, target: usize, at: Position) {
        let fp = match (self.courses.get(target), self.sizes.get(target)) {
            (Some(course), Some(size)) => expected_fingerprint(course, *size, at),
            _ => String::new(),
        };
        self.record(json!({
            "event": "durable", "t": self.index(target), "pass": at.pass, "offset": at.offset, "fp": fp,
        }));
        self.inner.durable(target, at);
    }

    fn verified(&self, target: usize, pass: usize, clean: bool) {
        self.record(
            json!({ "event": "verified", "t": self.index(target), "pass": pass, "clean": clean }),
        );
        self.inner.verified(target, pass, clean);
    }

    fn finished(&self, target: usize, status: Status) {
        self.inner.finished(target, status);
    }
}

/// What the journal says of one pass of a target, over every run.
#[derive(Debug, Clone, Default)]
struct PassHistory {
    /// When it first began.
    start: Option<String>,
    /// When it was written to the end.
    end: Option<String>,
    /// Whether it was read back.
    verified: bool,
}

/// What the journal says of one target, over every run.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    /// The last durable position and its line.
    pub(crate) last: Option<(Position, String)>,
    /// Every run's end short of erasure: `at`, `pass`, `offset`, `how`.
    pub(crate) interruptions: Vec<Value>,
    /// Every resumption: `at`, `seq`, `pass`, `offset`.
    pub(crate) resumptions: Vec<Value>,
    /// Per pass, counted from 0.
    passes: Vec<PassHistory>,
    /// Whether any read-back found a difference or failed.
    pub(crate) verify_failed: bool,
    /// Whether a result was recorded as erased.
    pub(crate) erased: bool,
}

impl History {
    /// Reads the lines for target `t` of a journal; `size` is the target's size.
    pub(crate) fn of(lines: &[Value], t: usize, size: u64) -> History {
        let mut h = History::default();
        // The position reached in the run being read, to close it as an interruption.
        let mut run_end: Option<(Position, String)> = None;
        let mut run_stopped = false;
        let pass_of = |l: &Value| l["pass"].as_u64().and_then(|p| usize::try_from(p).ok());
        let grow = |h: &mut History, pass: usize| {
            if h.passes.len() <= pass {
                h.passes.resize(pass + 1, PassHistory::default());
            }
        };
        for line in lines.iter().skip(1) {
            let at = line["at"].as_str().unwrap_or_default().to_owned();
            if line["event"] == "resumed" {
                let from = line["from"]
                    .as_array()
                    .and_then(|list| list.iter().find(|f| f["t"].as_u64() == Some(t as u64)));
                if let Some(from) = from {
                    if !run_stopped {
                        h.interruptions
                            .push(interruption(run_end.as_ref(), &at, "killed"));
                    }
                    h.resumptions.push(json!({
                        "at": at, "seq": line["seq"], "pass": from["pass"].as_u64().map(|p| p + 1),
                        "offset": from["offset"],
                    }));
                    run_stopped = false;
                }
                continue;
            }
            if line["t"].as_u64() != Some(t as u64) {
                continue;
            }
            match line["event"].as_str() {
                Some("pass") => {
                    if let Some(pass) = pass_of(line) {
                        grow(&mut h, pass);
                        h.passes[pass].start.get_or_insert(at);
                    }
                }
                Some("durable") => {
                    if let (Some(pass), Some(offset)) = (pass_of(line), line["offset"].as_u64()) {
                        let position = Position { pass, offset };
                        if offset >= size {
                            grow(&mut h, pass);
                            h.passes[pass].end = Some(at.clone());
                        }
                        let fp = line["fp"].as_str().unwrap_or_default().to_owned();
                        run_end = Some((position, at));
                        h.last = Some((position, fp));
                    }
                }
                Some("verified") => {
                    h.verify_failed |= line["clean"] != true;
                    if let Some(pass) = pass_of(line).and_then(|p| h.passes.get_mut(p)) {
                        pass.verified = true;
                    }
                }
                Some("stopped") => {
                    h.interruptions.push(interruption(
                        run_end.as_ref(),
                        &at,
                        line["how"].as_str().unwrap_or("stopped"),
                    ));
                    run_stopped = true;
                }
                Some("done") => h.erased |= line["status"] == "erased",
                _ => {}
            }
        }
        h
    }

    /// The passes as a resumed result records them: every pass begun in any run.
    pub(crate) fn passes_json(&self, labels: &[String], size: u64) -> Vec<Value> {
        self.passes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                json!({
                    "pass": i + 1,
                    "pattern": labels.get(i),
                    "bytes": if p.end.is_some() { size } else { 0 },
                    "start": p.start,
                    "end": p.end,
                    "complete": p.end.is_some(),
                    "verified": p.verified,
                })
            })
            .collect()
    }
}

fn interruption(end: Option<&(Position, String)>, at: &str, how: &str) -> Value {
    match end {
        Some((position, when)) => json!({
            "at": when, "pass": position.pass + 1, "offset": position.offset, "how": how,
        }),
        None => json!({ "at": at, "pass": 1, "offset": 0, "how": how }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_derived_again_the_same_and_differs_by_wipe_and_target() {
        let dir = tempfile::tempdir().unwrap();
        let key = StationKey::generate(dir.path(), "desk-1").unwrap();
        let stream = |seed: &Seed| {
            let course = Course {
                passes: vec![Pattern::Random],
                seed: seed.clone(),
                from: Position::default(),
            };
            expected_fingerprint(
                &course,
                1 << 20,
                Position {
                    pass: 0,
                    offset: 1 << 20,
                },
            )
        };
        let a = stream(&seed(&key, "aa", 0).unwrap());
        assert_eq!(a, stream(&seed(&key, "aa", 0).unwrap()));
        assert_ne!(a, stream(&seed(&key, "aa", 1).unwrap()));
        assert_ne!(a, stream(&seed(&key, "ab", 0).unwrap()));
        let other = tempfile::tempdir().unwrap();
        let other = StationKey::generate(other.path(), "desk-2").unwrap();
        assert_ne!(a, stream(&seed(&other, "aa", 0).unwrap()));
    }

    #[test]
    fn patterns_round_trip_through_the_journal() {
        let passes = vec![
            Pattern::Fixed(vec![0x92, 0x49, 0x24]),
            Pattern::Random,
            Pattern::Fixed(vec![0]),
        ];
        assert_eq!(patterns_from(&patterns_json(&passes)), Some(passes));
        assert_eq!(patterns_from(&json!([[]])), None);
        assert_eq!(patterns_from(&json!([[256]])), None);
    }
}
