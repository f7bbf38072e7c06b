//! The one error type of `custody-core`.

use std::path::PathBuf;

/// Everything that can go wrong in a custody workflow.
///
/// Each variant carries the context a person needs to act on it (path, record id,
/// ledger sequence number). [`Error::is_refusal`] tells the command line whether the
/// failure is a refusal by policy or bad usage (exit 2) or an operation that failed
/// (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system operation failed; fs-err already names the path.
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// The database keeping the ledger refused an operation.
    #[error("ledger database {path}")]
    Storage {
        /// The ledger file (or the database's address).
        path: PathBuf,
        /// What the database said.
        #[source]
        source: StorageError,
    },

    /// No data home exists where one was expected.
    #[error("no custody data home at {0}; run `custody init` first (or set CUSTODY_HOME)")]
    NoHome(PathBuf),

    /// `init` found something already there.
    #[error("{0} already holds a custody data home (or other files); refusing to overwrite it")]
    HomeExists(PathBuf),

    /// The ledger was written by a newer custody.
    #[error(
        "ledger {path} has schema version {found}, newer than this custody understands ({supported}); upgrade custody"
    )]
    DatabaseTooNew {
        /// The ledger file.
        path: PathBuf,
        /// `user_version` found in the file.
        found: i64,
        /// The newest version this binary knows.
        supported: i64,
    },

    /// The configuration file is malformed or breaks a rule.
    #[error("config {path}: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },

    /// The station signing key could not be read or used.
    #[error("station key {path}: {message}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// The actor is not allowed to do this.
    #[error("{actor} may not {action}: {reason}")]
    NotAllowed {
        /// Who tried.
        actor: String,
        /// What they tried, in words.
        action: String,
        /// Why not, and what to do.
        reason: String,
    },

    /// The clock is earlier than the last ledger entry.
    #[error(
        "the clock says {now}, earlier than the last ledger entry ({last}); fix the system clock before recording anything"
    )]
    ClockBehind {
        /// The current time.
        now: String,
        /// The time of the latest entry.
        last: String,
    },

    /// A value given on the command line or in a file is not acceptable.
    #[error("{0}")]
    Invalid(String),

    /// An operation was attempted and did not complete (exit code 1).
    #[error("{0}")]
    Failed(String),

    /// Encrypting or opening a file failed or was refused.
    #[error(transparent)]
    Seal(#[from] crate::send::seal::Error),

    /// A record id does not exist.
    #[error("no record {0} in the ledger")]
    NoSuchRecord(String),

    /// The wipe engine refused a method or a target, or could not read the system's
    /// description of its devices.
    #[error(transparent)]
    Wipe(#[from] custody_wipe::Error),

    /// Projection rows (the tables workflows read) differ from what the entries make:
    /// someone edited a table behind custody's back.
    #[error("{} projection rows are not backed by the ledger's entries: {}", rows.len(), rows.iter().map(ToString::to_string).collect::<Vec<_>>().join(" | "))]
    ProjectionsDiffer {
        /// Each differing row.
        rows: Vec<crate::ledger::RowMismatch>,
    },

    /// custody refuses to append to a chain it cannot vouch for (exit code 1).
    #[error("refusing to write to this ledger: at entry {seq}, {problem}; nothing was written")]
    WontWrite {
        /// The first entry found wrong.
        seq: i64,
        /// What was found.
        problem: String,
    },

    /// The ledger does not verify.
    #[error("ledger verification failed at entry {seq}: {problem}")]
    Tampered {
        /// The first bad sequence number (0 when it concerns the whole file).
        seq: i64,
        /// What is wrong.
        problem: String,
    },
}

impl Error {
    /// True when the failure is bad usage or a refusal by policy (exit code 2), false
    /// when an operation was attempted and failed (exit code 1).
    pub fn is_refusal(&self) -> bool {
        if let Error::Wipe(e) = self {
            // A target or method refused before anything was touched; reading /sys
            // or /proc failing is an operation that failed.
            return matches!(
                e,
                custody_wipe::Error::Refused { .. }
                    | custody_wipe::Error::TargetsRefused { .. }
                    | custody_wipe::Error::UnknownMethod { .. }
                    | custody_wipe::Error::PassesNotAllowed { .. }
                    | custody_wipe::Error::BadPassCount { .. }
                    | custody_wipe::Error::Io {
                        action: "resolve" | "examine",
                        ..
                    }
            );
        }
        matches!(
            self,
            Error::NoHome(_)
                | Error::HomeExists(_)
                | Error::DatabaseTooNew { .. }
                | Error::Config { .. }
                | Error::NotAllowed { .. }
                | Error::ClockBehind { .. }
                | Error::Invalid(_)
                | Error::NoSuchRecord(_)
        ) || matches!(
            self,
            Error::Seal(
                crate::send::seal::Error::OutputExists { .. }
                    | crate::send::seal::Error::NoInput
                    | crate::send::seal::Error::UnsupportedInput { .. }
                    | crate::send::seal::Error::DuplicateName { .. }
                    | crate::send::seal::Error::OutputInsideInput { .. }
                    | crate::send::seal::Error::InvalidRecipient { .. }
                    | crate::send::seal::Error::NoRecipients
                    | crate::send::seal::Error::PassphraseRequired { .. }
                    | crate::send::seal::Error::IdentityRequired { .. }
                    | crate::send::seal::Error::InvalidIdentity { .. }
            )
        )
    }
}

/// What a storage backend said when it refused an operation: its own error, kept as
/// the cause without naming the backend's types in custody's API.
#[derive(Debug)]
pub struct StorageError(Box<dyn std::error::Error + Send + Sync>);

impl StorageError {
    /// Wraps a backend's error.
    pub(crate) fn new(source: impl std::error::Error + Send + Sync + 'static) -> StorageError {
        StorageError(Box::new(source))
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// The result type of `custody-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
