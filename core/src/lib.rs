//! The workflows of custody: the tamper-evident ledger, the data home and its people,
//! and (as they land) sending, wiping records, certificates, registers and retention.
//!
//! Every workflow starts from a [`Station`] (an opened data home), checks the actor's
//! role in [`people`], does its work, and appends its record to the [`ledger`] in one
//! transaction that also signs a checkpoint over the new head.
//!
//! ```
//! # fn main() -> Result<(), custody_core::Error> {
//! use custody_core::people::key::{Passphrase, PersonalKey};
//! let dir = tempfile::tempdir()?;
//! let home = dir.path().join("home");
//! // The first manager's own key, protected by her passphrase; it signs every entry.
//! let passphrase = Passphrase::new("violet kettle harbour 1987".to_owned().into());
//! let sato = PersonalKey::generate("sato", &passphrase)?;
//! let key_file = dir.path().join("sato.key");
//! custody_core::Station::init(&home, &sato.key, Some("Example Union"), Some("desk-1"), || {
//!     PersonalKey::write_file(&key_file, &sato.file_text)?;
//!     Ok(key_file.clone())
//! })?;
//! let mut station = custody_core::Station::open(&home, "sato")?;
//! station.unlock(Box::new(PersonalKey::load(&key_file, "sato", &passphrase)?))?;
//! let id = station.note("cabinet key handed to the night guard")?;
//! assert_eq!(id.as_str(), "NT-1");
//! let report = station.verify(None, None)?;
//! assert_eq!(report.entries, 3);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod canon;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod erasure;
mod error;
pub mod keys;
pub mod ledger;
pub mod people;
pub mod registers;
pub mod report;
pub mod retention;
pub mod send;
mod station;
pub mod vocab;

pub use clock::Timestamp;
pub use error::{
    ConfigProblem, Denial, Done, Error, Field, FileProblem, KeyProblem, KeyStanding, Nothing,
    PasskeyProblem, RecordKind, Result, Rule, Step, StorageError,
};
pub use ledger::RecordId;
pub use station::{
    InitReport, JoinReport, MigrateReport, RestoreReport, SharedLedger, Station, Unlocker,
    default_home,
};
pub use vocab::Lang;

/// The version of custody, recorded in the ledger and on certificates.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
