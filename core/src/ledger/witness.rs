//! The station's witness: the last head this station verified itself, kept in the data
//! home beside the ledger (`witness`), so that before it appends it checks only the
//! entries added since, and so that a history rewritten behind its back — even one
//! whose checkpoints were re-signed — no longer extends what it saw.
//!
//! The file is three lines: `custody-witness/v1`, `size: N`, `head: HEX`, then the
//! head entry's time, `at: TIME`, and one line per station registered in the chain it
//! checked, `station: SEQ KEY NAME` (the entry that registered it, its public key, its
//! name). A missing or unreadable file, or
//! one without stations, costs one full check of the chain, never a silent pass. It is
//! written without a sync: after a power cut it may be older than the ledger, which
//! only means more entries are checked next time.

use std::path::{Path, PathBuf};

use super::stations::Stations;

/// A head this station verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Witness {
    /// How many entries the chain had.
    pub(crate) size: i64,
    /// The hash of entry `size`.
    pub(crate) head: String,
    /// The stations registered in those entries, when the file lists them.
    pub(crate) stations: Option<Stations>,
    /// The time of entry `size`, when the file gives it.
    pub(crate) at: Option<String>,
    /// The first entry signed by a person's key, and its hash: every entry from
    /// there on needs a person's key, and everything before it is fixed by its hash,
    /// so a ledger that holds this entry is the one this station knows.
    pub(crate) anchor: Option<(i64, String)>,
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
    if head.len() != 64 || !head.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut stations = Stations::default();
    let mut at = None;
    let mut anchor = None;
    for line in lines {
        if let Some(time) = line.strip_prefix("at: ") {
            at = Some(time.to_owned());
            continue;
        }
        if let Some(text) = line.strip_prefix("anchor: ") {
            let (seq, hash) = text.split_once(' ')?;
            anchor = Some((seq.parse().ok()?, hash.to_owned()));
            continue;
        }
        let mut parts = line.strip_prefix("station: ")?.splitn(3, ' ');
        let since: i64 = parts.next()?.parse().ok()?;
        let key = crate::keys::StationPublicKey::parse(parts.next()?).ok()?;
        stations.add(parts.next()?, since, key).ok()?;
    }
    Some(Witness {
        size,
        head,
        stations: (stations.len() > 0).then_some(stations),
        at,
        anchor,
    })
}

/// Records `witness` at `path` unless the file already holds a later head (another
/// process of this station may have appended meanwhile). Failing to write it is not
/// an error: the next check then starts from an earlier head.
pub(crate) fn advance(path: &Path, witness: &Witness) {
    if read(path).is_some_and(|old| old.size > witness.size) {
        return;
    }
    replace(path, witness);
}

/// Records `witness` at `path` whatever the file held: after a manager acknowledged
/// a restored copy of the ledger, which may be shorter than what this station saw.
pub(crate) fn replace(path: &Path, witness: &Witness) {
    let mut text = format!(
        "custody-witness/v1\nsize: {}\nhead: {}\n",
        witness.size, witness.head
    );
    if let Some(at) = &witness.at {
        text.push_str(&format!("at: {at}\n"));
    }
    if let Some((seq, hash)) = &witness.anchor {
        text.push_str(&format!("anchor: {seq} {hash}\n"));
    }
    for (name, joined) in witness.stations.iter().flat_map(Stations::iter) {
        text.push_str(&format!(
            "station: {} {} {name}\n",
            joined.since,
            joined.key.to_base64()
        ));
    }
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
        let keys = tempfile::tempdir().unwrap();
        let key = crate::keys::StationKey::generate(keys.path(), "desk-1").unwrap();
        let mut stations = Stations::default();
        stations.add("desk-1", 1, key.public().clone()).unwrap();
        let later = Witness {
            size: 12,
            head: "ab".repeat(32),
            stations: Some(stations),
            at: Some("2026-12-03T10:00:00.000000Z".into()),
            anchor: Some((1, "ef".repeat(32))),
        };
        advance(&path, &later);
        assert_eq!(read(&path), Some(later.clone()));
        advance(
            &path,
            &Witness {
                size: 3,
                head: "cd".repeat(32),
                stations: None,
                at: None,
                anchor: None,
            },
        );
        assert_eq!(read(&path), Some(later));
        std::fs::write(&path, "garbage").unwrap();
        assert_eq!(read(&path), None);
    }
}
