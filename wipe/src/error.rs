//! The crate's one error type.

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;

use crate::device::Refusal;

/// A result whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong before or around a wipe.
///
/// I/O errors *during* a wipe are not errors of this type: the engine records them in
/// the [`TargetReport`](crate::TargetReport) and goes on, so that one bad sector does
/// not hide how much of the device was overwritten.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the kernel's description of devices or mounts failed.
    #[error("cannot read the system's {what}")]
    System {
        /// What was being read, e.g. "block devices" or "mount table".
        what: &'static str,
        /// The cause; it names the path (fs-err).
        #[source]
        source: io::Error,
    },

    /// A path could not be opened or examined.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done, e.g. "open" or "rename".
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },

    /// The method name is not one this crate knows.
    #[error("unknown wipe method {name:?} (known: {known})")]
    UnknownMethod {
        /// The name given.
        name: String,
        /// The names that are known, comma-separated.
        known: String,
    },

    /// A number of passes was given for a method whose passes are fixed.
    #[error("a number of passes applies only to the random method, not to {method}")]
    PassesNotAllowed {
        /// The method given.
        method: String,
    },

    /// The number of passes is out of range.
    #[error("the number of passes must be from 1 to {max}, not {passes}")]
    BadPassCount {
        /// The number given.
        passes: u32,
        /// The largest number accepted.
        max: u32,
    },

    /// One target may not be wiped.
    #[error("{path} may not be wiped: {}", join(reasons))]
    Refused {
        /// The target as the caller named it.
        path: PathBuf,
        /// Every reason found, not only the first.
        reasons: Vec<Refusal>,
    },

    /// Some of a list of targets may not be wiped, so none of them is touched.
    #[error("{} of {total} targets may not be wiped, so none is touched: {}", refused.len(), join_all(refused))]
    TargetsRefused {
        /// Each refused target with its reasons.
        refused: Vec<(PathBuf, Vec<Refusal>)>,
        /// How many targets were named.
        total: usize,
    },

    /// A file given to the shredder is not a regular file.
    #[error("{path} is not shredded: {reason}")]
    NotShreddable {
        /// The path given.
        path: PathBuf,
        /// Why it is refused, e.g. "it is a symbolic link".
        reason: &'static str,
    },

    /// An overwrite pass of the shredder failed.
    #[error("shredding {path} failed in pass {pass}")]
    ShredPass {
        /// The file being shredded.
        path: PathBuf,
        /// The pass, counted from 1.
        pass: usize,
        /// The cause.
        #[source]
        source: io::Error,
    },

    /// Reading back the shredder's last pass found different content.
    #[error("{path}: the last pass reads back differently at offset {offset}")]
    ShredMismatch {
        /// The file being shredded.
        path: PathBuf,
        /// The first offset that differs.
        offset: u64,
    },

    /// The shredded file was still present after it was unlinked.
    #[error("{path} still exists after it was unlinked")]
    StillPresent {
        /// The name that still exists.
        path: PathBuf,
    },

    /// The operating system could not provide randomness for a seed.
    #[error("cannot seed the random generator: {0}")]
    Seed(getrandom::Error),
}

fn join(reasons: &[Refusal]) -> String {
    let mut out = String::new();
    for (i, reason) in reasons.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{reason}");
    }
    out
}

fn join_all(refused: &[(PathBuf, Vec<Refusal>)]) -> String {
    let mut out = String::new();
    for (i, (path, reasons)) in refused.iter().enumerate() {
        if i > 0 {
            out.push_str(" | ");
        }
        let _ = write!(out, "{}: {}", path.display(), join(reasons));
    }
    out
}
