//! Sealing files for sending: standard age encryption of one file or of a tar archive,
//! and opening such files again.
//!
//! What `seal` writes is an ordinary age file that `age -d` (or rage) decrypts without
//! custody:
//! - one regular file is encrypted as itself (`NAME.age`);
//! - a folder or several paths become a tar stream (`NAME.tar.age`) whose last entry is
//!   `MANIFEST.sha256` at the archive root, in the format `sha256sum -c` reads.
//!
//! Everything streams: input files are read once, hashed in the same pass, and the
//! ciphertext goes to a temporary file beside the output that is renamed into place only
//! when complete. Opening decrypts into a temporary file or folder inside the target
//! folder and moves the result into place only once the whole age stream has
//! authenticated and every archive entry and the manifest checked out.
//!
//! # Example
//!
//! ```
//! use custody_core::send::seal::{self, Mode, NoProgress, OpenInput, SendInput};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("report.csv");
//! std::fs::write(&file, "id,name\n1,山田\n")?;
//!
//! // The recipient's key pair; normally only the public key is known to the sender.
//! let key = dir.path().join("key.txt");
//! std::fs::write(&key, "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n")?;
//! let recipient: seal::Recipient =
//!     "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj".parse()?;
//!
//! let sent = seal::send(
//!     SendInput {
//!         paths: vec![file],
//!         output: Some(dir.path().join("report.csv.age")),
//!         mode: Mode::Recipients(vec![recipient]),
//!     },
//!     &NoProgress,
//! )?;
//! assert!(!sent.archive);
//!
//! let out = dir.path().join("received");
//! let opened = seal::open(
//!     OpenInput {
//!         file: sent.output,
//!         out_dir: out.clone(),
//!         identity_files: vec![key],
//!         passphrase: None,
//!         identity_passphrase: None,
//!         force: false,
//!         max_work_factor: seal::DEFAULT_MAX_WORK_FACTOR,
//!     },
//!     &NoProgress,
//! )?;
//! assert_eq!(opened.files[0].sha256, sent.files[0].sha256);
//! assert_eq!(std::fs::read_to_string(out.join("report.csv"))?, "id,name\n1,山田\n");
//! # Ok(())
//! # }
//! ```

use std::io::{self, Read, Write};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

mod direct;
mod encrypt;
mod error;
mod extract;
pub mod leftover;
mod manifest;
mod open;
mod pipe;
pub mod recipients;
mod strict;
pub mod words;

pub use encrypt::{Mode, SendInput, SendReport, default_output_name, send};
pub use error::Error;
pub use leftover::stop_flag;
pub use open::{OpenInput, OpenReport, PayloadKind, open, read_passphrase_file};
pub use recipients::Recipient;
pub use strict::{MAX_HEADER_BYTES, MAX_STANZAS};
pub use words::generate_passphrase;

/// The scrypt work factor (log2 N) used for passphrase files, the same as Go age's default.
pub const SCRYPT_WORK_FACTOR: u8 = 18;

/// The highest scrypt work factor accepted when opening unless the station's config
/// says otherwise: 2^20 needs 1 GiB of memory (scrypt with r = 8 uses 1 KiB × N), and
/// a crafted file asking for more would tie up the machine before any key is tried.
pub const DEFAULT_MAX_WORK_FACTOR: u8 = 20;

/// The memory scrypt needs at work factor `log_n` (N = 2^log_n, r = 8), in MiB.
pub fn scrypt_memory_mib(log_n: u8) -> u64 {
    (1u64 << log_n.min(62)) >> 10
}

/// The highest work factor whose scrypt fits in `mib` MiB of memory.
pub fn work_factor_for_memory(mib: u64) -> u8 {
    let mut log_n = 1u8;
    while log_n < 62 && scrypt_memory_mib(log_n + 1) <= mib {
        log_n += 1;
    }
    log_n
}

/// The name of the manifest stored at the root of every archive that custody writes.
pub const MANIFEST_NAME: &str = "MANIFEST.sha256";

/// Size of the buffers used for streaming; progress is reported at most once per chunk.
pub(crate) const CHUNK: usize = 1 << 20;

/// Receives byte counts from long-running seal operations so that a caller can draw
/// progress; implementations must be cheap since they are called once per chunk.
pub trait Progress: Send + Sync {
    /// Called once before any bytes move, with the number expected in total.
    fn start(&self, total_bytes: u64);
    /// Called with the number of bytes processed since the previous call (at most once
    /// per ~1 MiB chunk).
    fn advance(&self, bytes: u64);
    /// Called once when the operation has ended, successfully or not.
    fn finish(&self);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total_bytes: u64) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self) {}
}

/// The digest of one file as stored in (or extracted from) an encrypted file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileDigest {
    /// Path relative to the archive root with `/` separators (for a single file, its name).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
}

/// Calls [`Progress::finish`] when dropped, so that error paths finish too.
pub(crate) struct ProgressGuard<'a>(pub(crate) &'a dyn Progress);

impl Drop for ProgressGuard<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Batches byte counts so that [`Progress::advance`] is called at most once per chunk.
pub(crate) struct Ticker<'a> {
    progress: &'a dyn Progress,
    pending: u64,
}

impl<'a> Ticker<'a> {
    pub(crate) fn new(progress: &'a dyn Progress) -> Self {
        Self {
            progress,
            pending: 0,
        }
    }

    pub(crate) fn add(&mut self, bytes: u64) {
        self.pending += bytes;
        if self.pending >= CHUNK as u64 {
            self.flush();
        }
    }

    pub(crate) fn flush(&mut self) {
        if self.pending > 0 {
            self.progress.advance(self.pending);
            self.pending = 0;
        }
    }
}

/// A writer that hashes and counts everything written through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// Returns the inner writer, the byte count and the lower-case hex SHA-256.
    pub(crate) fn finish(self) -> (W, u64, String) {
        (
            self.inner,
            self.written,
            hex::encode(self.hasher.finalize()),
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that reports how many bytes pass through it to a [`Ticker`].
pub(crate) struct CountingReader<'a, R> {
    inner: R,
    ticker: Ticker<'a>,
}

impl<'a, R: Read> CountingReader<'a, R> {
    pub(crate) fn new(inner: R, progress: &'a dyn Progress) -> Self {
        Self {
            inner,
            ticker: Ticker::new(progress),
        }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.ticker.add(n as u64);
        if n == 0 {
            self.ticker.flush();
        }
        Ok(n)
    }
}

/// Makes an absolute path out of `path` without touching the file system.
pub(crate) fn absolute(path: &std::path::Path) -> Result<PathBuf, Error> {
    std::path::absolute(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
