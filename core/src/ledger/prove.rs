//! Proving single entries authentic, for decisions taken from them.
//!
//! A decision (may this person act, is this approved, is this due, is this held) must
//! not rest on a table row that anyone with the file can edit. It rests on the entries
//! that made the row, each proven here: its hash recomputed from its fields, its
//! payload from its commitment, and the chain followed from it to the first signed
//! checkpoint at or after it, whose signature by the key of the station that made it
//! is checked ([`super::stations`]). Changing the entry, or any entry up to that
//! checkpoint, breaks the proof; forging the checkpoint needs a station key. The cost
//! is the entries of one transaction and one signature, not the ledger's size (and,
//! once after another station joined, one check of the whole chain, to learn its key
//! from a manager's signed entry).

use std::collections::BTreeSet;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::store::{Backend, args};
use super::{Entry, checkpoint_message, commitment, hash_input};
use crate::error::{Error, Result};
use crate::keys::StationPublicKey;

use super::stations::Stations;
use super::witness;

/// What a process has proven of one ledger: the sequence numbers whose link to a
/// signed checkpoint it has followed (a stretch of the chain proven once is not walked
/// again by the next proof), and the stations registered in the chain it checked.
#[derive(Default)]
pub(crate) struct Known {
    pub(crate) linked: BTreeSet<i64>,
    pub(crate) stations: Option<Stations>,
    /// This station is joining: its key is not registered yet.
    pub(crate) joining: bool,
    /// The `ledger-restored` entry by which this station took a restored copy.
    pub(crate) restored: Option<i64>,
}

/// [`Known`], shared by the provers of one ledger.
pub(crate) type Linked = std::sync::Arc<std::sync::Mutex<Known>>;

/// What the provers of one ledger know, held for a moment. A lock poisoned by a panic
/// elsewhere still holds only what was proven.
pub(crate) fn known(linked: &Linked) -> std::sync::MutexGuard<'_, Known> {
    linked
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Proves entries of one ledger, remembering which stretches of the chain it has
/// already followed to a signed checkpoint.
pub(crate) struct Prover<'a, B: Backend> {
    db: &'a B,
    key: &'a StationPublicKey,
    witness: &'a std::path::Path,
    linked: Linked,
    buf: Vec<u8>,
}

fn tampered(seq: i64, problem: impl Into<String>) -> Error {
    Error::Tampered {
        seq,
        problem: problem.into(),
    }
}

impl<'a, B: Backend> Prover<'a, B> {
    pub(crate) fn new(
        db: &'a B,
        key: &'a StationPublicKey,
        witness: &'a std::path::Path,
        linked: Linked,
    ) -> Self {
        Prover {
            db,
            key,
            witness,
            linked,
            buf: Vec::new(),
        }
    }

    /// The stations registered in the chain: as this process or this station's
    /// witness last checked them, else read off the whole chain with every personal
    /// signature checked (the chain must still extend the witness, and hold this
    /// station's key).
    pub(crate) fn stations(&mut self) -> Result<Stations> {
        if let Some(stations) = &known(&self.linked).stations {
            return Ok(stations.clone());
        }
        let witnessed = witness::read(self.witness);
        // A station that joined since this station's head is learnt from the chain.
        let joined_since: i64 = match &witnessed {
            Some(w) => self
                .db
                .value(
                    "SELECT COUNT(*) FROM entries WHERE seq > ?1 AND kind = 'station-join'",
                    args![w.size],
                )?
                .unwrap_or(0),
            None => 0,
        };
        let stations = match witnessed.as_ref().and_then(|w| w.stations.clone()) {
            Some(stations) if joined_since == 0 => stations,
            known => match known
                .is_none()
                .then(|| super::one_station(self.db, self.key))
                .transpose()?
            {
                Some(Some(stations)) => stations,
                _ => {
                    super::verify::discover(self.db, witnessed.as_ref(), Some(self.key), true)?
                        .stations
                }
            },
        };
        if !known(&self.linked).joining && stations.by_key_id(&self.key.key_id()).is_none() {
            return Err(tampered(
                1,
                format!(
                    "the station key ({}) is not the one this ledger was created with for any station: the key pair was replaced, or this is another station's data home",
                    self.key.key_id()
                ),
            ));
        }
        known(&self.linked).stations = Some(stations.clone());
        Ok(stations)
    }

    /// The key of the station that signed a checkpoint over `size` entries whose last
    /// entry it recorded; a station that joined after this station last looked is
    /// learnt from the chain first.
    fn station_key(&mut self, station: &str, size: i64) -> Result<StationPublicKey> {
        let known = self.stations()?;
        let known = match known.key_for(station, size) {
            Ok(_) => known,
            Err(_) => {
                let fresh = super::verify::discover(
                    self.db,
                    witness::read(self.witness).as_ref(),
                    Some(self.key),
                    true,
                )?
                .stations;
                self::known(&self.linked).stations = Some(fresh.clone());
                fresh
            }
        };
        known
            .key_for(station, size)
            .cloned()
            .map_err(|why| tampered(size, format!("checkpoint signature: {why}")))
    }

    fn hash_of(&mut self, e: &Entry) -> String {
        hash_input(
            &mut self.buf,
            e.seq,
            &e.at.ledger(),
            &e.actor,
            &e.station,
            &e.kind,
            &e.subject,
            &e.commitment,
            &e.prev_hash,
        );
        hex::encode(Sha256::digest(&self.buf))
    }

    /// Entry `seq`, proven authentic, with its payload (`None` once erased).
    pub(crate) fn entry(&mut self, seq: i64) -> Result<Entry> {
        let row = self
            .db
            .row(
                "SELECT e.seq, e.at, e.actor, e.station, e.kind, e.subject, e.commitment, \
                 e.prev_hash, e.hash, p.body, p.erased, p.salt \
                 FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE e.seq = ?1",
                args![seq],
            )?
            .map(|r| -> Result<(Entry, Option<String>, Option<String>)> {
                Ok((super::entry_from_row(&r)?, r.get(11)?, r.get(9)?))
            })
            .transpose()?;
        let Some((entry, salt, body)) = row else {
            return Err(tampered(seq, "the entry is missing"));
        };
        if self.hash_of(&entry) != entry.hash {
            return Err(tampered(
                seq,
                "the entry's hash does not match its fields (an entry was changed)",
            ));
        }
        match (salt, body) {
            (Some(salt), Some(body)) => {
                if commitment(&salt, &body) != entry.commitment {
                    return Err(tampered(
                        seq,
                        "the payload does not match the entry's commitment (a payload was changed)",
                    ));
                }
            }
            (None, None) if entry.erased.is_some() => {}
            _ => {
                return Err(tampered(
                    seq,
                    "the entry's payload is missing or half erased",
                ));
            }
        }
        self.link(seq, &entry.hash)?;
        Ok(entry)
    }

    /// Follows the chain from entry `seq` (whose hash is `hash`) to the first signed
    /// checkpoint at or after it and checks that checkpoint's signature.
    fn link(&mut self, seq: i64, hash: &str) -> Result<()> {
        if known(&self.linked).linked.contains(&seq) {
            return Ok(());
        }
        let checkpoint: Option<(i64, String, String, String)> = self
            .db
            .row(
                "SELECT size, head, at, signature FROM checkpoints WHERE size >= ?1 \
                 ORDER BY size LIMIT 1",
                args![seq],
            )?
            .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .transpose()?;
        let Some((size, head, at, signature)) = checkpoint else {
            return Err(tampered(
                seq,
                "no signed checkpoint covers this entry (it was added without the station key)",
            ));
        };
        let later: Vec<Entry> = self.db.map(
            "SELECT seq, at, actor, station, kind, subject, commitment, prev_hash, hash, \
             NULL, NULL FROM entries WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
            args![seq, size],
            super::entry_from_row,
        )?;
        let mut previous = (seq, hash.to_owned());
        let mut station = None;
        for e in &later {
            if e.seq != previous.0 + 1 || e.prev_hash != previous.1 {
                return Err(tampered(
                    e.seq,
                    "the entry does not link to the one before it (entries were removed, inserted or changed)",
                ));
            }
            if self.hash_of(e) != e.hash {
                return Err(tampered(
                    e.seq,
                    "the entry's hash does not match its fields (an entry was changed)",
                ));
            }
            previous = (e.seq, e.hash.clone());
            station = Some(e.station.clone());
        }
        if previous.0 != size || previous.1 != head {
            return Err(tampered(
                size,
                "the signed checkpoint names a different entry: the chain was rewritten",
            ));
        }
        let station = match station {
            Some(s) => s,
            None => self
                .db
                .value("SELECT station FROM entries WHERE seq = ?1", args![seq])?
                .unwrap_or_default(),
        };
        self.station_key(&station, size)?
            .verify(
                checkpoint_message(&station, size, &head, &at).as_bytes(),
                &signature,
            )
            .map_err(|why| tampered(size, format!("checkpoint signature: {why}")))?;
        known(&self.linked).linked.extend(seq..=size);
        Ok(())
    }

    /// Every entry about `subject`, oldest first, each proven.
    pub(crate) fn about(&mut self, subject: &str) -> Result<Vec<Entry>> {
        let seqs = self.seqs(
            "SELECT seq FROM entries WHERE subject = ?1 ORDER BY seq",
            subject,
        )?;
        seqs.into_iter().map(|seq| self.entry(seq)).collect()
    }

    /// Every entry of `kind`, oldest first, each proven.
    pub(crate) fn of_kind(&mut self, kind: &str) -> Result<Vec<Entry>> {
        let seqs = self.seqs("SELECT seq FROM entries WHERE kind = ?1 ORDER BY seq", kind)?;
        seqs.into_iter().map(|seq| self.entry(seq)).collect()
    }

    fn seqs(&self, sql: &str, arg: &str) -> Result<Vec<i64>> {
        self.db.map(sql, args![arg], |r| r.get(0))
    }
}

/// A payload's text field.
pub(crate) fn field<'e>(entry: &'e Entry, key: &str) -> Option<&'e str> {
    entry
        .payload
        .as_ref()
        .and_then(|p| p.get(key))
        .and_then(Value::as_str)
}

/// One column of a table row beside what the proven entries make of it.
pub(crate) type Column<'a> = (&'a str, Option<String>, Option<String>);

/// Refuses a decision when a table row is not what its proven entries make of it:
/// every column whose value in the table (`.1`) differs from the entries' (`.2`) is
/// reported, as `ledger verify` would.
/// A value as the text [`backed`] compares.
pub(crate) fn shown<T: ToString>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(ToString::to_string)
}

pub(crate) fn backed(table: &str, key: &str, columns: &[Column<'_>]) -> Result<()> {
    let show = |v: &Option<String>| {
        v.as_deref()
            .map_or("empty".to_owned(), |s| format!("{s:?}"))
    };
    let problems: Vec<String> = columns
        .iter()
        .filter(|(_, in_table, by_entries)| in_table != by_entries)
        .map(|(name, in_table, by_entries)| {
            format!(
                "{name} is {} in the table but {} by the ledger",
                show(in_table),
                show(by_entries)
            )
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::ProjectionsDiffer {
        rows: vec![super::RowMismatch {
            table: table.to_owned(),
            key: key.to_owned(),
            problem: problems.join("; "),
        }],
    })
}
