//! What an interrupted `send` or `open` leaves, and how it is found and removed.
//!
//! Both write into temporary names beside their output (`.custody-send-PID-….tmp`,
//! `.custody-open-PID-…`), each held under an exclusive `flock` while it is written.
//! A signal (SIGINT, SIGTERM, SIGHUP) sets [`stop_flag`]; every stage checks it once per
//! chunk, stops, and the temporary output is removed — a decrypted one overwritten with
//! zeros first ([`scrub`]), so that plaintext does not linger in free blocks where the
//! file system overwrites in place. After a SIGKILL or a power cut nothing runs to
//! clean up: the next `send` or `open` into the same folder, and `custody doctor`, find
//! the names whose lock is free and whose process is gone ([`clean`]) and remove them.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

/// The prefix of `open`'s temporary files and folders.
pub const OPEN_PREFIX: &str = ".custody-open-";
/// The prefix of `send`'s temporary output files.
pub const SEND_PREFIX: &str = ".custody-send-";

static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// The flag a signal handler sets to stop a running `send` or `open`; they stop at the
/// next chunk, remove what they wrote and return [`super::Error::Interrupted`].
pub fn stop_flag() -> Arc<AtomicBool> {
    Arc::clone(&STOP)
}

/// Whether a stop was asked for.
pub(crate) fn stopped() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// The error a stage returns when it stops for [`stop_flag`].
pub(crate) fn stop_error() -> io::Error {
    io::Error::other("stopped by a signal")
}

/// The prefix of temporary names made by this process: `PREFIX` `PID` `-`.
pub(crate) fn own_prefix(prefix: &str) -> String {
    format!("{prefix}{}-", std::process::id())
}

/// Takes an exclusive lock on `file`, held until it is closed, so that [`clean`] in
/// another process leaves it alone.
pub(crate) fn hold(file: &File) {
    // Without a lock (a file system without flock) the name still carries the
    // process id, which `clean` checks too.
    let _ = file.try_lock();
}

/// Overwrites every regular file under `path` with zeros, syncs it, and removes it,
/// then the folders: for decrypted output that must not stay on disk.
pub fn scrub(path: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            scrub(&entry?.path())?;
        }
        return std::fs::remove_dir(path);
    }
    if meta.is_file() && meta.len() > 0 {
        // Best effort: a read-only file or a full file system still gets removed.
        if let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(path) {
            let zeros = vec![0u8; super::CHUNK];
            let mut left = meta.len();
            while left > 0 {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(zeros.len());
                if file.write_all(&zeros[..n]).is_err() {
                    break;
                }
                left -= n as u64;
            }
            let _ = file.sync_all();
        }
    }
    std::fs::remove_file(path)
}

/// Whether the process that made a temporary name is gone: the process id in the name
/// (`PREFIX` `PID` `-…`) no longer runs.
fn owner_gone(name: &str, prefix: &str) -> bool {
    let Some(pid) = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('-').next())
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        // A name from before process ids were part of it: the lock decides alone.
        return true;
    };
    pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists()
}

/// Finds the leftovers of interrupted runs in `dir` (names starting with `prefix`
/// whose lock is free and whose process is gone), scrubs and removes them; returns
/// what was removed.
pub fn clean(dir: &Path, prefix: &str) -> io::Result<Vec<PathBuf>> {
    let found = find(dir, prefix)?;
    for path in &found {
        scrub(path)?;
    }
    Ok(found)
}

/// The leftovers of interrupted runs in `dir`, as [`clean`] finds them, untouched.
pub fn find(dir: &Path, prefix: &str) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(prefix) || !owner_gone(name, prefix) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue; // still being written
        }
        removed.push(path);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join(".custody-open-1-x");
        std::fs::create_dir_all(tree.join("a/b")).unwrap();
        std::fs::write(tree.join("a/b/c.csv"), b"personal").unwrap();
        std::fs::write(tree.join("d.csv"), b"data").unwrap();
        scrub(&tree).unwrap();
        assert!(!tree.exists());
    }

    #[test]
    fn clean_leaves_names_held_by_a_live_process() {
        let dir = tempfile::tempdir().unwrap();
        // Ours, held: left alone.
        let live = dir.path().join(format!("{}x.tmp", own_prefix(SEND_PREFIX)));
        let file = File::create(&live).unwrap();
        hold(&file);
        // A process id that cannot run: removed.
        let dead = dir.path().join(format!("{SEND_PREFIX}4294967294-y.tmp"));
        std::fs::write(&dead, b"cipher").unwrap();
        let other = dir.path().join("unrelated.tmp");
        std::fs::write(&other, b"x").unwrap();
        let removed = clean(dir.path(), SEND_PREFIX).unwrap();
        assert_eq!(removed, vec![dead.clone()]);
        assert!(live.exists() && other.exists() && !dead.exists());
    }
}
