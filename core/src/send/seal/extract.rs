//! The writing side of archive extraction, on its own thread.
//!
//! `open` parses the tar stream and decides what is safe on the thread that decrypts;
//! everything that touches the file system (creating folders and files, hashing and
//! writing their contents, hard links, times and permissions) happens here, in the
//! order it was asked for, so that decryption and writing use two cores. The thread
//! stops at the first failure; the parsing side then sees [`Stopped`] and the failure
//! comes out of the thread's result.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::{Duration, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::{Error, FileDigest};

/// Operations queued ahead of the writing thread.
const QUEUE: usize = 16;

/// One thing to do in the temporary folder.
pub(crate) enum Op {
    /// Start a new regular file; [`Op::Data`] follows, then [`Op::Close`].
    File {
        /// The path inside the archive, for messages and the digest.
        rel: String,
        /// Where to create it (it must not exist).
        dest: PathBuf,
        /// Modification time from the tar header, seconds since the epoch.
        mtime: Option<u64>,
        /// Permission bits from the tar header.
        mode: Option<u32>,
    },
    /// The next bytes of the open file: the first `.1` bytes of the buffer.
    Data(Vec<u8>, usize),
    /// The open file is complete.
    Close,
    /// A folder (and its parents).
    Dir {
        /// The path inside the archive.
        rel: String,
        /// Where to create it.
        dest: PathBuf,
    },
    /// A hard link to the `index`-th file written before, at `target`.
    Link {
        /// The path inside the archive.
        rel: String,
        /// Where to create the link.
        dest: PathBuf,
        /// The earlier file it links to.
        target: PathBuf,
        /// That file's position in the digests.
        index: usize,
    },
}

/// The writing thread stopped; its result says why.
#[derive(Debug)]
pub(crate) struct Stopped;

/// The parsing side's handle on the writing thread.
pub(crate) struct Extractor {
    tx: SyncSender<Op>,
    pool: Receiver<Vec<u8>>,
}

impl Extractor {
    /// Queues `op`.
    pub(crate) fn send(&self, op: Op) -> Result<(), Stopped> {
        if super::leftover::stopped() {
            return Err(Stopped);
        }
        // A send fails only when the extractor has stopped, which it reports itself.
        self.tx.send(op).map_err(|_| Stopped)
    }

    /// A buffer of at least `len` bytes for [`Op::Data`], reused when one came back.
    pub(crate) fn buffer(&self, len: usize) -> Vec<u8> {
        let mut buf = self.pool.try_recv().unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf
    }
}

/// Starts the writing thread in `scope`. It returns the digest of every regular file and
/// hard link, in the order they were sent, once the [`Extractor`] is dropped.
pub(crate) fn spawn<'scope>(
    scope: &'scope Scope<'scope, '_>,
) -> (
    Extractor,
    ScopedJoinHandle<'scope, Result<Vec<FileDigest>, Error>>,
) {
    let (tx, rx) = sync_channel(QUEUE);
    let (pool_tx, pool_rx) = channel();
    let handle = scope.spawn(move || run(rx, pool_tx));
    (Extractor { tx, pool: pool_rx }, handle)
}

/// The regular file being written.
struct Open {
    rel: String,
    dest: PathBuf,
    file: std::fs::File,
    hasher: Sha256,
    size: u64,
    mtime: Option<u64>,
    mode: Option<u32>,
}

impl Open {
    /// Creates the file; a name already taken means the archive holds it twice.
    fn create(
        rel: String,
        dest: PathBuf,
        mtime: Option<u64>,
        mode: Option<u32>,
    ) -> Result<Open, Error> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dest)
            .map_err(clash(&rel, "the path appears twice", &dest))?;
        Ok(Open {
            rel,
            dest,
            file,
            hasher: Sha256::new(),
            size: 0,
            mtime,
            mode,
        })
    }

    /// Sets the archive's time and (safe) permissions; returns the file's digest.
    fn close(self, umask: u32) -> Result<FileDigest, Error> {
        if let Some(mtime) = self.mtime {
            // A time the file system cannot store is not worth failing the open for.
            let _ = self
                .file
                .set_modified(UNIX_EPOCH + Duration::from_secs(mtime));
        }
        #[cfg(unix)]
        if let Some(mode) = self.mode {
            use std::os::unix::fs::PermissionsExt;
            // Only permission bits, as the umask allows; the owner keeps read and
            // write access. (A 06777 entry once became a world-writable file.)
            let perms = std::fs::Permissions::from_mode(file_mode(mode, umask));
            self.file
                .set_permissions(perms)
                .map_err(Error::io(&self.dest))?;
        }
        Ok(FileDigest {
            path: self.rel,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}

fn unsafe_entry(rel: &str, reason: &str) -> Error {
    Error::UnsafeEntry {
        entry: rel.to_owned(),
        reason: reason.to_owned(),
    }
}

/// For a folder or link that cannot be made: a name already taken in the output (the
/// archive's entries clash) is the archive's fault; anything else (a full disk, no
/// permission) is the file system's, reported with its path and cause.
fn clash<'a>(
    rel: &'a str,
    reason: &'a str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |e| match e.kind() {
        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotADirectory => {
            unsafe_entry(rel, reason)
        }
        _ => Error::io(path)(e),
    }
}

fn make_parent(made: &mut HashSet<PathBuf>, dest: &Path, rel: &str) -> Result<(), Error> {
    if let Some(parent) = dest.parent()
        && !made.contains(parent)
    {
        std::fs::create_dir_all(parent).map_err(clash(
            rel,
            "its folder clashes with a file",
            parent,
        ))?;
        made.insert(parent.to_path_buf());
    }
    Ok(())
}

/// The process's file-creation mask, from /proc/self/status (reading it with umask(2)
/// would change it, and core has no unsafe code); the strictest mask when unknown.
pub(crate) fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        })
        .unwrap_or(0o077)
}

/// The mode an extracted file gets: the archive's permission bits without setuid,
/// setgid and sticky, less the umask, and always readable and writable by its owner.
pub(crate) fn file_mode(archived: u32, umask: u32) -> u32 {
    (archived & 0o777 & !umask) | 0o600
}

fn run(rx: Receiver<Op>, pool: Sender<Vec<u8>>) -> Result<Vec<FileDigest>, Error> {
    let umask = umask();
    let mut files: Vec<FileDigest> = Vec::new();
    let mut open: Option<Open> = None;
    // Folders known to exist, so that 1,000 files in one folder cost one `mkdir -p`.
    // Nothing is ever removed here, so a folder stays a folder.
    let mut made: HashSet<PathBuf> = HashSet::new();
    for op in rx {
        match op {
            Op::File {
                rel,
                dest,
                mtime,
                mode,
            } => {
                make_parent(&mut made, &dest, &rel)?;
                open = Some(Open::create(rel, dest, mtime, mode)?);
            }
            Op::Data(buf, len) => {
                let current = open.as_mut().expect("Data follows File");
                let bytes = &buf[..len];
                current.hasher.update(bytes);
                current.size += len as u64;
                current
                    .file
                    .write_all(bytes)
                    .map_err(Error::io(&current.dest))?;
                // The parsing side may be gone already; then the buffer is freed.
                let _ = pool.send(buf);
            }
            Op::Close => {
                let done = open.take().expect("Close follows File");
                files.push(done.close(umask)?);
            }
            Op::Dir { rel, dest } => {
                if !made.contains(&dest) {
                    std::fs::create_dir_all(&dest).map_err(clash(
                        &rel,
                        "the folder clashes with a file",
                        &dest,
                    ))?;
                    made.insert(dest);
                }
            }
            Op::Link {
                rel,
                dest,
                target,
                index,
            } => {
                make_parent(&mut made, &dest, &rel)?;
                std::fs::hard_link(&target, &dest).map_err(clash(
                    &rel,
                    "the path appears twice",
                    &dest,
                ))?;
                let digest = FileDigest {
                    path: rel,
                    ..files[index].clone()
                };
                files.push(digest);
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_lose_special_bits_and_follow_the_umask() {
        assert_eq!(file_mode(0o6777, 0o022), 0o755);
        assert_eq!(file_mode(0o1666, 0o022), 0o644);
        assert_eq!(file_mode(0o444, 0o077), 0o600);
        assert_eq!(file_mode(0o777, 0o002), 0o775);
        let mask = umask();
        assert!(mask <= 0o777, "{mask:o}");
    }
}
