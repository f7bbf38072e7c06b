//! The station's witness: the last head this station verified itself, kept in the data
//! home beside the ledger (`witness`), so that before it appends it checks only the
//! entries added since, and so that a history rewritten behind its back — even one
//! whose checkpoints were re-signed — no longer extends what it saw.
//!
//! The file is three lines: `custody-witness/v1`, `size: N`, `head: HEX`. A missing or
//! unreadable file costs one full check of the chain, never a silent pass. It is
//! written without a sync: after a power cut it may be older than the ledger, which
//! only means more entries are checked next time.

use std::path::{Path, PathBuf};

/// A head this station verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Witness {
    /// How many entries the chain had.
    pub(crate) size: i64,
    /// The hash of entry `size`.
    pub(crate) head: String,
}

/// The witness file of the ledger file at `ledger`.
pub(crate) fn path_for(ledger: &Path) -> PathBuf {
    ledger.with_file_name("witness")
}

/// The witness file of a station whose ledger is not a file in its data home `home`.
pub(crate) fn path_in(home: &Path) -> PathBuf {
    home.join("witness")
}

/// The witness at `path`, if there is a readable one.
pub(crate) fn read(path: &Path) -> Option<Witness> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next() != Some("custody-witness/v1") {
        return None;
    }
    let size = lines.next()?.strip_prefix("size: ")?.parse().ok()?;
    let head = lines.next()?.strip_prefix("head: ")?.to_owned();
    (head.len() == 64 && head.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(Witness { size, head })
}

/// Records `witness` at `path` unless the file already holds a later head (another
/// process of this station may have appended meanwhile). Failing to write it is not
/// an error: the next check then starts from an earlier head.
pub(crate) fn advance(path: &Path, witness: &Witness) {
    if read(path).is_some_and(|old| old.size > witness.size) {
        return;
    }
    let text = format!(
        "custody-witness/v1\nsize: {}\nhead: {}\n",
        witness.size, witness.head
    );
    let Some(dir) = path.parent() else {
        return;
    };
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
        use std::io::Write;
        if tmp.write_all(text.as_bytes()).is_ok() {
            let _ = tmp.persist(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_witness_round_trips_and_never_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("ledger.db"));
        assert_eq!(read(&path), None);
        let later = Witness {
            size: 12,
            head: "ab".repeat(32),
        };
        advance(&path, &later);
        assert_eq!(read(&path), Some(later.clone()));
        advance(
            &path,
            &Witness {
                size: 3,
                head: "cd".repeat(32),
            },
        );
        assert_eq!(read(&path), Some(later));
        std::fs::write(&path, "garbage").unwrap();
        assert_eq!(read(&path), None);
    }
}
