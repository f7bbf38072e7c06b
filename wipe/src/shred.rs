//! Shredding one file: overwrite it in place, then remove every trace of its name.
//!
//! This only reaches the blocks the filesystem gives back for the file's current
//! extents. On copy-on-write and log-structured filesystems, on flash, and wherever
//! snapshots or backups exist, older copies survive: read `docs/shred-limits.md`.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::method::Method;
use crate::stream::Source;

const CHUNK: usize = 1 << 20;

/// What [`shred_file`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShredReport {
    /// The file as named.
    pub path: PathBuf,
    /// Its size before it was overwritten.
    pub size: u64,
    /// The label of each pass written, e.g. `"0x00"` or `"random"`.
    pub passes: Vec<String>,
    /// Whether the last pass was read back and matched.
    pub verified: bool,
    /// The random name it had when it was unlinked.
    pub unlinked_as: PathBuf,
}

/// Overwrites the regular file at `path` with each pass of `method` (flushing each),
/// optionally reads the last pass back, truncates it, renames it to a random name in
/// the same directory, unlinks it and checks that neither name exists any more.
///
/// Refuses symbolic links, anything that is not a regular file, and files with other
/// hard links (their other names would keep pointing at the overwritten inode, and the
/// unlink would not free it).
pub fn shred_file(path: impl AsRef<Path>, method: &Method, verify: bool) -> Result<ShredReport> {
    let path = path.as_ref();
    let io_err = |action, source| Error::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let refuse = |reason| Error::NotShreddable {
        path: path.to_owned(),
        reason,
    };
    let meta = std::fs::symlink_metadata(path).map_err(|e| io_err("examine", e))?;
    if meta.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link"));
    }
    if !meta.file_type().is_file() {
        return Err(refuse("it is not a regular file"));
    }
    if meta.nlink() > 1 {
        return Err(refuse("it has other hard links"));
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| io_err("open", e))?;
    let opened = file.metadata().map_err(|e| io_err("examine", e))?;
    if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
        return Err(refuse("it was replaced while being checked"));
    }
    let size = opened.len();

    let patterns = method.passes(false)?;
    let mut labels = Vec::with_capacity(patterns.len());
    let mut last = None;
    let seed = crate::stream::Seed::random()?;
    for (i, pattern) in patterns.iter().enumerate() {
        let source = Source::for_pass(pattern, &seed, i);
        overwrite(&file, size, &source).map_err(|source| Error::ShredPass {
            path: path.to_owned(),
            pass: i + 1,
            source,
        })?;
        labels.push(pattern.label());
        last = Some(source);
    }
    let verified = match (&last, verify) {
        (Some(source), true) => {
            check(&file, size, source, path)?;
            true
        }
        _ => false,
    };

    file.set_len(0).map_err(|e| io_err("truncate", e))?;
    file.sync_all().map_err(|e| io_err("flush", e))?;
    drop(file);

    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut name = [0_u8; 12];
    getrandom::fill(&mut name).map_err(Error::Seed)?;
    let hidden = dir.join(name.iter().map(|b| format!("{b:02x}")).collect::<String>());
    std::fs::rename(path, &hidden).map_err(|e| io_err("rename", e))?;
    sync_dir(&dir)?;
    std::fs::remove_file(&hidden).map_err(|e| Error::Io {
        action: "unlink",
        path: hidden.clone(),
        source: e,
    })?;
    sync_dir(&dir)?;
    for name in [path, hidden.as_path()] {
        if std::fs::symlink_metadata(name).is_ok() {
            return Err(Error::StillPresent {
                path: name.to_owned(),
            });
        }
    }
    Ok(ShredReport {
        path: path.to_owned(),
        size,
        passes: labels,
        verified,
        unlinked_as: hidden,
    })
}

fn overwrite(file: &File, size: u64, source: &Source) -> io::Result<()> {
    let mut buf = vec![0_u8; CHUNK];
    for (offset, len) in crate::pass::chunks(0, size, CHUNK) {
        source.fill(offset, &mut buf[..len]);
        file.write_all_at(&buf[..len], offset)?;
    }
    file.sync_all()
}

fn check(file: &File, size: u64, source: &Source, path: &Path) -> Result<()> {
    // Best effort: drop the cached pages so the read comes from the disk.
    let _ = nix::fcntl::posix_fadvise(
        file,
        0,
        0,
        nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
    );
    let mut want = vec![0_u8; CHUNK];
    let mut have = vec![0_u8; CHUNK];
    for (offset, len) in crate::pass::chunks(0, size, CHUNK) {
        source.fill(offset, &mut want[..len]);
        file.read_exact_at(&mut have[..len], offset)
            .map_err(|source| Error::Io {
                action: "read back",
                path: path.to_owned(),
                source,
            })?;
        if let Some(i) = want[..len]
            .iter()
            .zip(&have[..len])
            .position(|(a, b)| a != b)
        {
            return Err(Error::ShredMismatch {
                path: path.to_owned(),
                offset: offset + i as u64,
            });
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| Error::Io {
            action: "flush directory",
            path: dir.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shredded_file_is_gone_and_its_directory_has_no_other_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("customer.csv");
        std::fs::write(&path, vec![b'x'; 3 * CHUNK + 5]).unwrap();
        let report = shred_file(&path, &Method::HmgIs5, true).unwrap();
        assert_eq!(report.passes, ["0x00", "0xFF", "random"]);
        assert!(report.verified);
        assert_eq!(report.size, 3 * CHUNK as u64 + 5);
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn symlinks_directories_and_hard_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        std::fs::write(&file, b"secret").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let hard = dir.path().join("hard");
        for (path, reason) in [
            (link.as_path(), "it is a symbolic link"),
            (dir.path(), "it is not a regular file"),
        ] {
            match shred_file(path, &Method::Zero, false) {
                Err(Error::NotShreddable { reason: r, .. }) => assert_eq!(r, reason),
                other => panic!("{} not refused: {other:?}", path.display()),
            }
        }
        std::fs::hard_link(&file, &hard).unwrap();
        assert!(matches!(
            shred_file(&file, &Method::Zero, false),
            Err(Error::NotShreddable {
                reason: "it has other hard links",
                ..
            })
        ));
        assert_eq!(std::fs::read(&file).unwrap(), b"secret");
    }
}
