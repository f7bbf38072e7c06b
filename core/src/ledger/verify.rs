//! Recomputing the chain: every hash, every commitment whose payload is present,
//! every checkpoint signature, and optionally a head kept outside the machine.

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::stations::{StationInfo, Stations};
use super::store::{Backend, Query, args};
use super::witness::Witness;
use super::{GENESIS_PREV, Ledger, checkpoint_message, hash_input};
use crate::error::{Error, Result};
use crate::keys::StationPublicKey;

/// Rows are read in batches of this many and hashed in parallel while the next batch
/// is read.
const BATCH: usize = 16_384;

/// The text block `custody ledger head` prints: the signed checkpoint message followed
/// by its minisign signature, meant to be kept outside the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadBlock {
    /// Station name in the message.
    pub station: String,
    /// Chain size at the checkpoint.
    pub size: i64,
    /// Hash of entry `size`.
    pub head: String,
    /// When the checkpoint was signed.
    pub at: String,
    /// The minisign signature text.
    pub signature: String,
}

impl HeadBlock {
    /// The signed message (the block's first five lines).
    pub fn message(&self) -> String {
        checkpoint_message(&self.station, self.size, &self.head, &self.at)
    }

    /// The whole block: message, then signature.
    pub fn to_text(&self) -> String {
        let mut text = self.message();
        text.push_str(&self.signature);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// Parses a block written by [`HeadBlock::to_text`].
    pub fn parse(text: &str) -> Result<HeadBlock> {
        let bad = |why: &str| Error::BadHead {
            why: why.to_owned(),
        };
        let text = text.replace("\r\n", "\n");
        let mut lines = text.lines();
        if lines.next() != Some("custody-checkpoint/v1") {
            return Err(bad("first line is not custody-checkpoint/v1"));
        }
        let mut field = |name: &str| -> Result<String> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(": "))
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("missing {name} line")))
        };
        let station = field("station")?;
        let size = field("size")?
            .parse()
            // The integer parser's error adds nothing to "not a number".
            .map_err(|_| bad("size is not a number"))?;
        let head = field("head")?;
        let at = field("at")?;
        let signature: Vec<&str> = lines.collect();
        if signature.len() < 4 {
            return Err(bad("the signature lines are missing"));
        }
        Ok(HeadBlock {
            station,
            size,
            head,
            at,
            signature: signature.join("\n") + "\n",
        })
    }
}

/// What a successful verification found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Entries in the chain.
    pub entries: i64,
    /// Payloads whose commitment was recomputed.
    pub payloads_checked: i64,
    /// Payloads erased for retention (their commitments stand in for them).
    pub payloads_erased: i64,
    /// Checkpoint signatures checked.
    pub checkpoints: i64,
    /// Hash of the last entry.
    pub head: String,
    /// This station's key id.
    pub key_id: String,
    /// The stations registered in the chain, whose keys signed its checkpoints.
    pub stations: Vec<StationInfo>,
    /// The size of the external head that the chain was shown to extend.
    pub extends: Option<i64>,
    /// Projection rows rebuilt from the entries and found equal to the tables.
    pub projection_rows: i64,
    /// A copy of the ledger (a replica) that holds fewer entries than this station
    /// saw: how many it saw. The copy was checked as far as it goes.
    pub behind_witness: Option<i64>,
    /// The ledger was a read-only replica: its chain, signatures and checkpoints were
    /// checked, but its registers were not rebuilt (that needs scratch tables).
    pub replica: bool,
    /// The size of the last head this station had verified, which the chain was
    /// shown to extend.
    pub witnessed: Option<i64>,
    /// Entries whose signature by their actor's personal key was checked.
    pub signed: i64,
    /// Of those, the entries signed with the actor's passkey (at the desk).
    pub passkey_signed: i64,
    /// The time of the last entry.
    #[serde(skip)]
    pub(crate) head_at: String,
    /// The first entry signed by a person's key, with its hash.
    #[serde(skip)]
    pub(crate) anchor: Option<(i64, String)>,
    /// The `ledger-restored` entry by which this station took a restored copy of the
    /// ledger, which no longer extended the head it had seen.
    pub restore_acknowledged: Option<i64>,
    /// The entries recorded before personal keys existed are seq 1 to this one;
    /// they carry no person's signature.
    pub before_personal_keys: Option<i64>,
}

/// One entry as the verifier reads it, with its payload row.
pub(crate) struct Row {
    pub(crate) seq: i64,
    pub(crate) at: String,
    pub(crate) actor: String,
    pub(crate) station: String,
    pub(crate) kind: String,
    pub(crate) subject: String,
    pub(crate) commitment: String,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
    pub(crate) salt: Option<String>,
    pub(crate) body: Option<String>,
    pub(crate) erased: bool,
    pub(crate) has_payload: bool,
    /// The actor's signature, when the entry has one.
    pub(crate) signature: Option<String>,
}

fn hex_eq(digest: &[u8], hex_text: &str) -> bool {
    let mut out = [0u8; 64];
    hex::encode_to_slice(digest, &mut out).expect("32 bytes fit 64 hex digits");
    out == hex_text.as_bytes()
}

/// The problems one row can have on its own, without its neighbours.
fn check_row(row: &Row, buf: &mut Vec<u8>) -> Option<String> {
    hash_input(
        buf,
        row.seq,
        &row.at,
        &row.actor,
        &row.station,
        &row.kind,
        &row.subject,
        &row.commitment,
        &row.prev_hash,
    );
    if !hex_eq(&Sha256::digest(&buf[..]), &row.hash) {
        return Some("the entry's hash does not match its fields (an entry was changed)".into());
    }
    if !row.has_payload {
        return Some("the entry's payload row is missing (a payload was deleted)".into());
    }
    match (&row.salt, &row.body) {
        (Some(salt), Some(body)) => {
            let mut h = Sha256::new();
            h.update(salt.as_bytes());
            h.update(body.as_bytes());
            if !hex_eq(&h.finalize(), &row.commitment) {
                return Some(
                    "the payload does not match the entry's commitment (a payload was changed)"
                        .into(),
                );
            }
        }
        (None, None) if row.erased => {}
        _ => return Some("the payload row is half erased (a payload was changed)".into()),
    }
    None
}

impl Ledger {
    /// Recomputes the whole chain and checks every checkpoint with the key of the
    /// station that made it, as the chain registers it; with `against`, also proves
    /// that the chain still extends that earlier head, signed by any registered
    /// station; then rebuilds every projection from the entries and compares it with
    /// the tables. Everything is read from one snapshot, so that a command appending
    /// meanwhile changes nothing here. `key` is this station's (reported, and checked
    /// by the caller).
    pub fn verify(
        &self,
        key: &StationPublicKey,
        against: Option<&HeadBlock>,
    ) -> Result<VerifyReport> {
        let (report, stations) = self
            .db()
            .snapshot(|db| verify_in_snapshot(db, key, against))?;
        super::prove::known(&self.linked).stations = Some(stations);
        Ok(report)
    }
}

/// The stations registered in the whole chain, read with every hash and every
/// personal signature checked. The chain must still hold the head this station
/// `witnessed`, when it has one, and register `local` (this station's key) when given.
pub(crate) fn discover(
    db: &impl Backend,
    witnessed: Option<&Witness>,
    local: Option<&StationPublicKey>,
    head: bool,
) -> Result<Discovered> {
    let mut state = ChainState::new(0, GENESIS_PREV.to_string(), String::new());
    state.signers = Some(super::signed::Signers::default());
    db.stream_chain(0, BATCH, &mut |batch| state.check_batch(&batch))?;
    let signers = state.signers.take().unwrap_or_default();
    let anchor = anchor_of(db, &signers)?;
    if let Some(w) = witnessed {
        check_anchor(w, anchor.as_ref())?;
        if head {
            let now: Option<String> =
                db.value("SELECT hash FROM entries WHERE seq = ?1", args![w.size])?;
            if let Some(problem) = departs(w, state.expected_seq - 1, now.as_deref()) {
                return Err(problem);
            }
        }
    }
    let stations = signers.stations;
    if let Some(local) = local
        && stations.by_key_id(&local.key_id()).is_none()
    {
        return Err(Error::Tampered {
            seq: 1,
            problem: format!(
                "this station's key ({}) is not registered in the ledger: the key pair was replaced, or the ledger is not the one this station joined",
                local.key_id()
            ),
        });
    }
    Ok(Discovered { stations, anchor })
}

/// What a check of the whole chain found out about it.
pub(crate) struct Discovered {
    /// The stations registered, with their keys.
    pub(crate) stations: Stations,
    /// The first entry signed by a person's key, and its hash.
    pub(crate) anchor: Option<(i64, String)>,
}

/// The first entry signed by a person's key in the chain `signers` replayed, with its
/// hash.
fn anchor_of(db: &impl Query, signers: &super::signed::Signers) -> Result<Option<(i64, String)>> {
    let Some(seq) = signers.first_signed() else {
        return Ok(None);
    };
    let hash: Option<String> = db.value("SELECT hash FROM entries WHERE seq = ?1", args![seq])?;
    Ok(hash.map(|hash| (seq, hash)))
}

/// Refuses a chain whose first signed entry is not the one this station saw (`w`):
/// another ledger, or one rebuilt from its start.
pub(crate) fn check_anchor(w: &Witness, now: Option<&(i64, String)>) -> Result<()> {
    let Some((seq, seen)) = &w.anchor else {
        return Ok(());
    };
    match now {
        Some((at, hash)) if at == seq && hash == seen => Ok(()),
        _ => Err(Error::Tampered {
            seq: *seq,
            problem: format!(
                "this station saw entry {seq} with hash {seen} as the first one signed by a person's key, and the ledger now holds {} there: it is not the ledger this station knows",
                now.filter(|(at, _)| at == seq)
                    .map_or("another", |(_, hash)| hash.as_str())
            ),
        }),
    }
}

/// The `ledger-restored` entry that acknowledges the chain no longer extending `w`:
/// made by a manager after the time of `w`'s head. The chain must have been checked
/// in full against `w`'s anchor first (its first signed entry the one `w` saw), so
/// the entry's signature is a manager's that this station's own ledger registered.
/// A history rewritten after the acknowledgement is not covered by it.
pub(crate) fn acknowledged_restore(db: &impl Backend, w: &Witness) -> Result<Option<i64>> {
    let (Some(seen_at), Some(_)) = (&w.at, &w.anchor) else {
        return Ok(None);
    };
    let rows: Vec<(i64, String, Option<String>)> = db.map(
        "SELECT e.seq, e.at, p.body FROM entries e JOIN payloads p ON p.seq = e.seq \
         WHERE e.kind = 'ledger-restored' ORDER BY e.seq",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(rows.into_iter().find_map(|(seq, at, body)| {
        body.and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|p| p.get("restored_size").and_then(serde_json::Value::as_i64))?;
        (seen_at.as_str() < at.as_str()).then_some(seq)
    }))
}

/// How the ledger departs from the head this station saw (`w`), given its size now
/// and the hash it now holds at `w.size`: what the station remembers and what it now
/// sees, or `None` when it still extends it.
pub(crate) fn departs(w: &Witness, size: i64, now: Option<&str>) -> Option<Error> {
    match now {
        Some(hash) if hash == w.head => None,
        None => Some(Error::Tampered {
            seq: size + 1,
            problem: format!(
                "this station saw {} entries, the last with hash {}, but the ledger now has {size}: entries were removed, or an older copy was restored",
                w.size, w.head
            ),
        }),
        Some(hash) => Some(Error::Tampered {
            seq: w.size,
            problem: format!(
                "this station saw this entry with hash {}, but the ledger now holds {hash} there: its history was rewritten",
                w.head
            ),
        }),
    }
}

fn verify_in_snapshot(
    db: &super::backend::Db,
    key: &StationPublicKey,
    against: Option<&HeadBlock>,
) -> Result<(VerifyReport, Stations)> {
    {
        let mut state = ChainState::new(0, GENESIS_PREV.to_string(), String::new());
        state.signers = Some(super::signed::Signers::default());
        db.stream_chain(0, BATCH, &mut |batch| state.check_batch(&batch))?;
        let size = state.expected_seq - 1;
        let head = state.prev_hash.clone();
        state.check_erasures()?;

        let orphan: Option<i64> = db
            .value(
                "SELECT MIN(p.seq) FROM payloads p LEFT JOIN entries e ON e.seq = p.seq WHERE e.seq IS NULL",
                &[],
            )?
            .flatten();
        if let Some(seq) = orphan {
            return Err(Error::Tampered {
                seq,
                problem: "a payload exists for an entry that is missing (an entry was deleted)"
                    .into(),
            });
        }

        let stations = state
            .signers
            .as_ref()
            .map(|s| s.stations.clone())
            .unwrap_or_default();
        let checkpoints = verify_checkpoints(db, &stations, size)?;

        let extends = match against {
            None => None,
            Some(block) => {
                stations
                    .key_for(&block.station, block.size)
                    .and_then(|key| key.verify(block.message().as_bytes(), &block.signature))
                    .map_err(|why| Error::Tampered {
                        seq: block.size,
                        problem: format!("the external head's signature is not valid: {why}"),
                    })?;
                if block.size > size {
                    return Err(Error::Tampered {
                        seq: size + 1,
                        problem: format!(
                            "the ledger has {size} entries but the external head from {} covers {}: entries were removed (a deleted tail or an older copy)",
                            block.at, block.size
                        ),
                    });
                }
                let hash: String = db
                    .value("SELECT hash FROM entries WHERE seq = ?1", args![block.size])?
                    .unwrap_or_default();
                if hash != block.head {
                    return Err(Error::Tampered {
                        seq: block.size,
                        problem: format!(
                            "entry {} is not the one the external head from {} signed: the ledger was rewritten",
                            block.size, block.at
                        ),
                    });
                }
                Some(block.size)
            }
        };

        let replica = db.read_only()?;
        let (differ, projection_rows) = if replica {
            (Vec::new(), 0)
        } else {
            super::rebuild::compare(db, &stations)?
        };
        if !differ.is_empty() {
            return Err(Error::ProjectionsDiffer { rows: differ });
        }

        let signers = state.signers.take().unwrap_or_default();
        let anchor = anchor_of(db, &signers)?;
        let report = VerifyReport {
            head_at: state.prev_at.clone(),
            anchor,
            signed: signers.signed,
            passkey_signed: signers.passkey_signed,
            restore_acknowledged: None,
            before_personal_keys: signers.before_keys_until(),
            witnessed: None,
            projection_rows,
            replica,
            behind_witness: None,
            entries: size,
            payloads_checked: state.checked,
            payloads_erased: state.erased,
            checkpoints,
            head,
            key_id: key.key_id(),
            stations: stations.info(),
            extends,
        };
        Ok((report, stations))
    }
}

fn verify_checkpoints(db: &super::backend::Db, stations: &Stations, size: i64) -> Result<i64> {
    {
        let rows = db.rows(
            "SELECT c.size, c.head, c.at, c.signature, e.hash, e.station \
             FROM checkpoints c LEFT JOIN entries e ON e.seq = c.size ORDER BY c.size",
            &[],
        )?;
        let mut count = 0;
        let mut last = 0;
        for r in &rows {
            let at_size: i64 = r.get(0)?;
            let head: String = r.get(1)?;
            let at: String = r.get(2)?;
            let signature: String = r.get(3)?;
            let entry_hash: Option<String> = r.get(4)?;
            let station: Option<String> = r.get(5)?;
            let (Some(entry_hash), Some(station)) = (entry_hash, station) else {
                return Err(Error::Tampered {
                    seq: size + 1,
                    problem: format!(
                        "a signed checkpoint covers {at_size} entries but the ledger has {size}: entries were removed from the end"
                    ),
                });
            };
            if entry_hash != head {
                return Err(Error::Tampered {
                    seq: at_size,
                    problem: format!(
                        "the checkpoint signed at {at} names a different entry {at_size}"
                    ),
                });
            }
            let message = checkpoint_message(&station, at_size, &head, &at);
            stations
                .key_for(&station, at_size)
                .and_then(|key| key.verify(message.as_bytes(), &signature))
                .map_err(|why| Error::Tampered {
                    seq: at_size,
                    problem: format!("checkpoint signature: {why}"),
                })?;
            count += 1;
            last = at_size;
        }
        if last != size {
            return Err(Error::Tampered {
                seq: last + 1,
                problem: format!(
                    "entries {}..{size} are not covered by a signed checkpoint (appended without the station key)",
                    last + 1
                ),
            });
        }
        Ok(count)
    }
}

struct ChainState {
    expected_seq: i64,
    prev_hash: String,
    prev_at: String,
    checked: i64,
    erased: i64,
    /// Every erased payload: its sequence number and subject.
    erased_rows: Vec<(i64, String)>,
    /// How many `station-join` entries were read.
    joins: i64,
    /// Every erasure entry with its payload.
    erasures: Vec<(i64, serde_json::Value)>,
    /// The sequence number of the first `disposal` entry of each item.
    disposals: std::collections::HashMap<String, i64>,
    /// The people register and entry signatures, when they are checked (a full
    /// verification; not the check of the tail before an append).
    signers: Option<super::signed::Signers>,
}

impl ChainState {
    fn new(after: i64, prev_hash: String, prev_at: String) -> ChainState {
        ChainState {
            expected_seq: after + 1,
            prev_hash,
            prev_at,
            checked: 0,
            erased: 0,
            erased_rows: Vec::new(),
            joins: 0,
            erasures: Vec::new(),
            disposals: std::collections::HashMap::new(),
            signers: None,
        }
    }

    /// Every erased payload must be named by an erasure entry after it, as an entry
    /// about an item whose disposal that erasure follows: nobody erases a payload
    /// without a signed, recorded reason.
    fn check_erasures(&self) -> Result<()> {
        for (seq, subject) in &self.erased_rows {
            let disposed = self.disposals.get(subject);
            let named = self.erasures.iter().any(|(at, payload)| {
                let after_disposal = disposed.is_some_and(|d| d < at);
                let listed = match payload.get("seqs").and_then(serde_json::Value::as_array) {
                    Some(seqs) => seqs.iter().any(|s| s.as_i64() == Some(*seq)),
                    // Erasures of the first version named their items only.
                    None => payload
                        .get("items")
                        .and_then(serde_json::Value::as_array)
                        .is_some_and(|items| items.iter().any(|i| i.as_str() == Some(subject))),
                };
                seq < at && after_disposal && listed
            });
            if !named {
                return Err(Error::Tampered {
                    seq: *seq,
                    problem: format!(
                        "its payload was erased, but no erasure entry names it as part of a disposed item ({})",
                        if subject.is_empty() {
                            "it concerns no item"
                        } else {
                            subject
                        }
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Checks the chain from the entry after `after` to the end: every hash, payload
/// commitment and link, and that entry `after` still has the hash `after_hash` (a
/// head this station saw). Returns how many stations joined in those entries (their
/// `station-join` entries). The cost is the number of entries after `after`.
pub(crate) fn check_tail(db: &impl Backend, after: i64, after_hash: &str) -> Result<i64> {
    let prev_at = if after == 0 {
        String::new()
    } else {
        let row = db.row("SELECT hash, at FROM entries WHERE seq = ?1", args![after])?;
        let now: Option<String> = row.as_ref().map(|r| r.get(0)).transpose()?;
        let seen = Witness {
            size: after,
            head: after_hash.to_owned(),
            stations: None,
            at: None,
            anchor: None,
        };
        let size: i64 = db
            .value("SELECT COALESCE(MAX(seq), 0) FROM entries", &[])?
            .unwrap_or(0);
        if let Some(problem) = departs(&seen, size, now.as_deref()) {
            return Err(problem);
        }
        match row {
            Some(row) => row.get(1)?,
            None => String::new(),
        }
    };
    check_tail_from(db, after, after_hash, prev_at)
}

/// Like [`check_tail`], for a caller that has checked already that entry `after`
/// holds `after_hash` (or `after` is 0) and read its time, `prev_at`.
pub(crate) fn check_tail_from(
    db: &impl Backend,
    after: i64,
    after_hash: &str,
    prev_at: String,
) -> Result<i64> {
    let mut state = ChainState::new(after, after_hash.to_string(), prev_at);
    db.stream_chain(after, BATCH, &mut |batch| state.check_batch(&batch))?;
    Ok(state.joins)
}

impl ChainState {
    fn check_batch(&mut self, batch: &[Row]) -> Result<()> {
        // A few rows (what a command appended since the last one) are checked here;
        // starting the thread pool would cost more than hashing them.
        let problems: Vec<Option<String>> = if batch.len() < 256 {
            let mut buf = Vec::new();
            batch.iter().map(|row| check_row(row, &mut buf)).collect()
        } else {
            batch
                .par_iter()
                .map_init(Vec::new, |buf, row| check_row(row, buf))
                .collect()
        };
        let outcome = self.check_rows(batch, problems);
        // A signature that does not verify, queued before the problem found (or at the
        // end of the batch), is the first problem.
        let bad_signature = self
            .signers
            .as_mut()
            .and_then(super::signed::Signers::flush);
        match (bad_signature, outcome) {
            (Some(seq), Err(Error::Tampered { seq: at, .. })) if seq < at => {
                Err(bad_signature_at(batch, seq))
            }
            (Some(seq), Ok(())) => Err(bad_signature_at(batch, seq)),
            (_, outcome) => outcome,
        }
    }

    fn check_rows(&mut self, batch: &[Row], problems: Vec<Option<String>>) -> Result<()> {
        for (row, problem) in batch.iter().zip(problems) {
            if row.seq != self.expected_seq {
                let problem = if row.seq > self.expected_seq {
                    format!(
                        "entries {}..{} are missing (deleted)",
                        self.expected_seq,
                        row.seq - 1
                    )
                } else {
                    "entries are out of order".to_string()
                };
                return Err(Error::Tampered {
                    seq: self.expected_seq,
                    problem,
                });
            }
            if row.prev_hash != self.prev_hash {
                return Err(Error::Tampered {
                    seq: row.seq,
                    problem: "the entry does not link to the one before it (entries were removed, inserted or reordered)".into(),
                });
            }
            if let Some(problem) = problem {
                return Err(Error::Tampered {
                    seq: row.seq,
                    problem,
                });
            }
            if row.at < self.prev_at {
                return Err(Error::Tampered {
                    seq: row.seq,
                    problem: format!("its time {} is earlier than the entry before it", row.at),
                });
            }
            if row.erased {
                self.erased += 1;
                self.erased_rows.push((row.seq, row.subject.clone()));
            } else {
                self.checked += 1;
            }
            match row.kind.as_str() {
                "disposal" => {
                    self.disposals.entry(row.subject.clone()).or_insert(row.seq);
                }
                "station-join" => self.joins += 1,
                "payloads-erased" => {
                    if let Some(payload) = row
                        .body
                        .as_deref()
                        .and_then(|b| serde_json::from_str(b).ok())
                    {
                        self.erasures.push((row.seq, payload));
                    }
                }
                _ => {}
            }
            if let Some(signers) = &mut self.signers {
                signers
                    .entry(&super::signed::Signed {
                        seq: row.seq,
                        actor: &row.actor,
                        station: &row.station,
                        kind: &row.kind,
                        at: &row.at,
                        subject: &row.subject,
                        commitment: &row.commitment,
                        hash: &row.hash,
                        body: row.body.as_deref(),
                        signature: row.signature.as_deref(),
                    })
                    .map_err(|problem| Error::Tampered {
                        seq: row.seq,
                        problem,
                    })?;
            }
            self.expected_seq += 1;
            self.prev_hash.clone_from(&row.hash);
            self.prev_at.clone_from(&row.at);
        }
        Ok(())
    }
}

/// The problem of an entry whose signature does not verify.
fn bad_signature_at(batch: &[Row], seq: i64) -> Error {
    let actor = batch
        .iter()
        .find(|row| row.seq == seq)
        .map_or("its actor", |row| row.actor.as_str());
    Error::Tampered {
        seq,
        problem: format!(
            "the signature by {actor}'s key does not verify (forged, or copied from another entry)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_whose_first_signed_entry_is_another_is_not_the_one_seen() {
        let seen = Witness {
            size: 40,
            head: "aa".repeat(32),
            stations: None,
            at: None,
            anchor: Some((1, "bb".repeat(32))),
        };
        assert!(check_anchor(&seen, Some(&(1, "bb".repeat(32)))).is_ok());
        for now in [Some((1, "cc".repeat(32))), Some((2, "bb".repeat(32))), None] {
            let Err(Error::Tampered { seq, problem }) = check_anchor(&seen, now.as_ref()) else {
                panic!("{now:?} taken for the ledger seen");
            };
            assert_eq!(seq, 1);
            assert!(problem.contains(&"bb".repeat(32)), "{problem}");
        }
        // A witness from before anchors were kept checks nothing here.
        let old = Witness {
            anchor: None,
            ..seen
        };
        assert!(check_anchor(&old, None).is_ok());
    }

    #[test]
    fn head_block_round_trips() {
        let block = HeadBlock {
            station: "窓口 1".into(),
            size: 42,
            head: "ab".repeat(32),
            at: "2026-11-22T09:00:00.000000Z".into(),
            signature: "untrusted comment: x\nRW\ntrusted comment: y\nZZ\n".into(),
        };
        assert_eq!(HeadBlock::parse(&block.to_text()).unwrap(), block);
        assert!(HeadBlock::parse("hello").is_err());
    }
}
