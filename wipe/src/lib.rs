//! The overwrite engine of custody: block devices, wipe methods and their passes,
//! the parallel overwrite with verification, and file shredding.
//!
//! This crate knows nothing of SQLite, age, clap or indicatif: it takes devices and a
//! plan and reports bytes and errors.
//!
//! ```
//! assert!(!custody_wipe::VERSION.is_empty());
//! ```

/// The version of the engine, recorded in certificates as the tool version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
