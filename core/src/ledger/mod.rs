//! The tamper-evident ledger that every workflow appends to, kept by a storage backend
//! behind one seam (`store`): a SQLite file on one desk (`sqlite`), or the office's
//! PostgreSQL database that several stations share (`postgres`).
//!
//! Each entry's `hash` covers its own fields and the previous entry's hash, so the
//! entries form a chain; the entry's payload (canonical JSON) is kept apart in
//! `payloads` and bound to the entry by `commitment = SHA-256(salt ‖ payload)`, so a
//! payload holding personal data can later be erased while the chain still verifies.
//! After every command that appends, a checkpoint over the new head is signed with the
//! station key. `docs/ledger-format.md` gives the exact byte strings.
//!
//! Everything that gives the record its meaning is computed here, above the seam:
//! entry hashes, commitments, checkpoints, what every projection row is
//! (`project`), proofs (`prove`) and verification. A backend stores rows and runs
//! portable statements; locking, compatibility (migrations) and durability are its
//! own (see `sqlite` and `postgres`). The hashing rules are versioned by the `custody-ledger/v1`
//! prefix of every hashed string.
//!
//! # Failure modes
//!
//! A process killed mid-append leaves either the whole transaction (entries,
//! payloads, projections, checkpoint) or none of it. Triggers refuse
//! `UPDATE` and `DELETE` on entries and checkpoints, and anything but erasure on
//! payloads; someone who drops the triggers can still edit the file, which
//! [`Ledger::verify`] detects, and a deleted tail or an old copy restored is caught
//! by verifying against a head kept outside the machine.

pub(crate) mod backend;
mod migrate;
pub(crate) mod postgres;
pub(crate) mod project;
pub(crate) mod prove;
mod rebuild;
pub(crate) mod signed;
pub(crate) mod sqlite;
pub(crate) mod stations;
pub(crate) mod store;
mod verify;
mod witness;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use postgres::Target;
pub use rebuild::RowMismatch;
pub use stations::StationInfo;

pub use signed::{entry_comment, entry_message};
use store::{Backend, Cell, Query, ToCell, args};
pub(crate) use verify::check_anchor;
pub use verify::{HeadBlock, VerifyReport};

use crate::clock;
use crate::error::{Error, Field, Result, Rule};
use crate::keys::{StationKey, StationPublicKey};
use crate::people::key::Signer;

/// How long a writer waits for another process's transaction before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The `prev_hash` of the first entry.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A record id such as `CO-12`: a kind prefix and a number, unique in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RecordId(String);

impl RecordId {
    /// Parses an id typed by a person, accepting lower case (`co-12` → `CO-12`).
    pub fn parse(text: &str) -> Result<RecordId> {
        let upper = text.trim().to_ascii_uppercase();
        let valid = upper.split_once('-').is_some_and(|(prefix, number)| {
            (2..=3).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_uppercase())
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
                && !number.starts_with('0')
        });
        if valid {
            Ok(RecordId(upper))
        } else {
            Err(Error::BadValue {
                field: Field::RecordId,
                value: text.to_owned(),
                rule: Rule::Like("CO-12 or TX-4"),
            })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The kind prefix (`CO` of `CO-12`).
    pub fn prefix(&self) -> &str {
        self.0.split_once('-').map_or("", |(p, _)| p)
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One ledger entry, with its payload when it has not been erased.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// UTC time of the append.
    pub at: crate::clock::Timestamp,
    /// Who did it.
    pub actor: String,
    /// Which station recorded it.
    pub station: String,
    /// What kind of event (`note`, `send`, `wipe`, …).
    pub kind: String,
    /// The record it concerns (`CO-12`), or empty.
    pub subject: String,
    /// SHA-256 of salt and payload, hex.
    pub commitment: String,
    /// Hash of the previous entry, hex.
    pub prev_hash: String,
    /// Hash of this entry, hex.
    pub hash: String,
    /// The payload, or `None` once erased.
    pub payload: Option<Value>,
    /// When the payload was erased, if it was.
    pub erased: Option<String>,
}

/// A person's signature, with the key that made it, as a document carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonalSignature {
    /// The key's minisign id.
    pub key_id: String,
    /// The public key, minisign base64.
    pub public_key: String,
    /// The minisign signature file's text.
    pub signature: String,
}

impl PersonalSignature {
    /// The signature as a document carries it: `{signs, key_id, public_key, minisig}`
    /// with what it signs (`custody-entry/v1`, `custody-sign-off/v1`, …) and `extra`
    /// fields naming the signed thing (an entry hash, a document's SHA-256).
    pub fn to_json(&self, signs: &str, extra: &[(&str, &str)]) -> serde_json::Value {
        let mut value = serde_json::json!({
            "signs": signs,
            "key_id": self.key_id,
            "public_key": self.public_key,
            "minisig": self.signature,
        });
        for (key, text) in extra {
            value[*key] = serde_json::Value::String((*text).to_owned());
        }
        value
    }
}

/// What an append produced.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The new entry's sequence number.
    pub seq: i64,
    /// The new entry's hash.
    pub hash: String,
    /// The new entry's time.
    pub at: String,
}

/// A signed checkpoint over the chain's head.
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    /// The station that signed it (the one that recorded entry `size`).
    pub station: String,
    /// How many entries the chain had.
    pub size: i64,
    /// The hash of entry `size`.
    pub head: String,
    /// When it was signed.
    pub at: String,
    /// minisign signature over [`checkpoint_message`].
    pub signature: String,
}

/// Which entries `log` lists.
#[derive(Debug, Default, Clone)]
pub struct LogFilter {
    /// Only this kind.
    pub kind: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only entries about this record.
    pub subject: Option<String>,
}

/// Every kind of entry custody writes (what `log --kind` accepts).
pub const ENTRY_KINDS: &[&str] = &[
    "init",
    "person-add",
    "person-role",
    "person-remove",
    "key-enroll",
    "key-confirm",
    "key-trust",
    "passkey-invite",
    "passkey-enroll",
    "passkey-confirm",
    "desk-sign-in",
    "note",
    "policy",
    "request",
    "carryout-request",
    "download-request",
    "approve",
    "reject",
    "send",
    "receive",
    "contact-add",
    "contact-replace",
    "contact-remove",
    "media-add",
    "media-retire",
    "media-signoff",
    "carryout-out",
    "carryout-return",
    "carryout-lost",
    "handover",
    "handover-confirm",
    "operation",
    "operation-check",
    "send-confirm",
    "incident",
    "incident-update",
    "file-add",
    "file-update",
    "media-check",
    "download-deleted",
    "wipe-start",
    "wipe-resume",
    "wipe",
    "certificate",
    "cert-sign-off",
    "retain",
    "retain-event",
    "retain-start",
    "batch",
    "batch-close",
    "retain-hold",
    "retain-release",
    "retention-class",
    "disposal-start",
    "disposal",
    "disposal-failed",
    "payloads-erased",
    "station-join",
    "ledger-restored",
];

/// The byte string an entry's hash is computed over (see docs/ledger-format.md).
#[allow(clippy::too_many_arguments)]
pub fn hash_input(
    buf: &mut Vec<u8>,
    seq: i64,
    at: &str,
    actor: &str,
    station: &str,
    kind: &str,
    subject: &str,
    commitment: &str,
    prev_hash: &str,
) {
    buf.clear();
    buf.extend_from_slice(b"custody-ledger/v1\n");
    buf.extend_from_slice(seq.to_string().as_bytes());
    for field in [at, actor, station, kind, subject, commitment, prev_hash] {
        buf.push(b'\n');
        buf.extend_from_slice(field.as_bytes());
    }
}

/// A new random salt for a payload's commitment, in hex.
pub(crate) fn new_salt() -> Result<String> {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    Ok(hex::encode(salt))
}

/// Who signs the entries a write transaction appends.
#[derive(Clone, Copy)]
pub(crate) enum ActSigner<'a> {
    /// The person's personal key, unlocked here.
    Key(&'a dyn Signer),
    /// The person's passkey, in their browser: the act is being prepared (nothing is
    /// written), or carries the assertion made over it.
    Passkey(&'a crate::people::passkey::PasskeyAct),
}

impl ActSigner<'_> {
    fn name(&self) -> &str {
        match self {
            ActSigner::Key(signer) => signer.name(),
            ActSigner::Passkey(act) => act.actor(),
        }
    }

    fn key_id(&self) -> String {
        match self {
            ActSigner::Key(signer) => signer.public().key_id(),
            ActSigner::Passkey(act) => act.key_id().to_owned(),
        }
    }
}

/// SHA-256 of the salt's hex text followed by the payload text, as hex.
pub fn commitment(salt_hex: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt_hex.as_bytes());
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// The text a checkpoint signature covers.
pub fn checkpoint_message(station: &str, size: i64, head: &str, at: &str) -> String {
    format!("custody-checkpoint/v1\nstation: {station}\nsize: {size}\nhead: {head}\nat: {at}\n")
}

/// Refuses text that would make the hashed byte string ambiguous.
pub(crate) fn check_field(field: Field, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(Error::BadValue {
            field,
            value: value.to_owned(),
            rule: Rule::NoControl,
        });
    }
    Ok(())
}

/// The ledger, open: a file, or the office's database.
pub struct Ledger {
    db: backend::Db,
    /// The last head this station verified ([`witness`]).
    witness: PathBuf,
    /// What [`prove`] has followed to a signed checkpoint in this process.
    linked: prove::Linked,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.db.path())
            .finish()
    }
}

impl Ledger {
    /// Creates a new ledger file, which must not exist yet.
    pub fn create(path: &Path) -> Result<Ledger> {
        if path.exists() {
            return Err(Error::HomeExists(path.to_path_buf()));
        }
        Ok(Ledger::with(
            backend::Db::Sqlite(sqlite::Db::create(path)?),
            witness::path_for(path),
        ))
    }

    /// Opens an existing ledger, applying any migrations it lacks.
    pub fn open(path: &Path) -> Result<Ledger> {
        if !path.is_file() {
            return Err(Error::NoHome(path.parent().unwrap_or(path).to_path_buf()));
        }
        Ok(Ledger::with(
            backend::Db::Sqlite(sqlite::Db::open(path)?),
            witness::path_for(path),
        ))
    }

    /// Lays a new ledger into the empty PostgreSQL database of `target`, granting
    /// `station_role` (by default the role connecting) what stations may do; the
    /// station's witness is kept in `home`.
    pub fn create_shared(
        target: &postgres::Target,
        station_role: Option<&str>,
        home: &Path,
    ) -> Result<Ledger> {
        let db = postgres::Db::create(target, station_role)?;
        Ok(Ledger::with(
            backend::Db::Postgres(Box::new(db)),
            witness::path_in(home),
        ))
    }

    /// Connects to the shared ledger in the PostgreSQL database of `target`; the
    /// station's witness is kept in `home`.
    pub fn open_shared(target: &postgres::Target, home: &Path) -> Result<Ledger> {
        let db = postgres::Db::open(target)?;
        Ok(Ledger::with(
            backend::Db::Postgres(Box::new(db)),
            witness::path_in(home),
        ))
    }

    /// Copies every row of this ledger file into `target`, a new, empty shared
    /// ledger, in one transaction, and verifies the copy inside it (with `key`): only
    /// when it holds `size` entries ending in `head` does it commit; then `switch`
    /// runs (pointing the station at the database). The file's write lock is held
    /// from before the copy until `switch` is done, so nothing is appended to the
    /// file meanwhile. Nothing is computed again: every hash, signature and
    /// checkpoint is carried over as it is. Returns the rows copied and the report of
    /// the copy's verification.
    pub fn copy_into(
        &mut self,
        target: &Ledger,
        key: &StationPublicKey,
        (size, head): (i64, &str),
        switch: impl FnOnce() -> Result<()>,
    ) -> Result<(u64, VerifyReport)> {
        let backend::Db::Postgres(shared) = &target.db else {
            return Err(Error::Tampered {
                seq: 0,
                problem: "the ledger can only be copied into the office database".into(),
            });
        };
        let tables = migrate::tables(&self.db)?;
        let source = self.db.begin()?;
        let now: Option<(i64, String)> = source
            .row(
                "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1",
                &[],
            )?
            .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?)))
            .transpose()?;
        if now.as_ref().map(|(s, h)| (*s, h.as_str())) != Some((size, head)) {
            return Err(Error::WontWrite {
                seq: size + 1,
                problem: "entries were added to the ledger file while it was being checked; run the move again".into(),
            });
        }
        let copy = shared.begin()?;
        let rows = migrate::copy(&source, &tables, &copy)?;
        let report = target.verify(key, None)?;
        if report.entries != size || report.head != head {
            return Err(Error::Tampered {
                seq: report.entries.min(size),
                problem: format!(
                    "the copy in the database does not end where the file does ({} entries, head {}; the file: {size} entries, head {head})",
                    report.entries, report.head
                ),
            });
        }
        copy.commit()?;
        switch()?;
        drop(source);
        Ok((rows, report))
    }

    /// Makes the ledger file whole (its write-ahead log folded in) and read-only, as
    /// the archive of a ledger that moved to the office's database, then checks that
    /// it still ends with entry `size` of hash `head` (a command that had opened the
    /// file before the move could still have appended to it).
    pub fn archive(self, (size, head): (i64, &str)) -> Result<PathBuf> {
        let path = self.db.path().to_path_buf();
        {
            use std::os::unix::fs::PermissionsExt;
            fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o400))?;
        }
        // Both return a row: run as queries. The file stays whole without them.
        self.db.rows("PRAGMA wal_checkpoint(TRUNCATE)", &[])?;
        self.db.rows("PRAGMA journal_mode=DELETE", &[])?;
        let last: Option<(i64, String)> = self
            .db
            .row(
                "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1",
                &[],
            )?
            .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?)))
            .transpose()?;
        if last.as_ref().map(|(s, h)| (*s, h.as_str())) != Some((size, head)) {
            return Err(Error::WontWrite {
                seq: size + 1,
                problem: format!(
                    "a command appended to the ledger file {} after it was copied; those entries are only in the file, which is now read-only: record them again",
                    path.display()
                ),
            });
        }
        drop(self);
        Ok(path)
    }

    /// Whether the ledger is the office's shared database.
    pub fn is_shared(&self) -> bool {
        self.db.is_shared()
    }

    fn with(db: backend::Db, witness: PathBuf) -> Ledger {
        Ledger {
            db,
            witness,
            linked: prove::Linked::default(),
        }
    }

    /// Proves entries of this ledger against `key` ([`prove`]).
    pub(crate) fn prover<'a>(
        &'a self,
        key: &'a StationPublicKey,
    ) -> prove::Prover<'a, backend::Db> {
        prove::Prover::new(
            &self.db,
            key,
            &self.witness,
            std::sync::Arc::clone(&self.linked),
        )
    }

    /// The stations registered in the ledger, with their keys: as this station last
    /// checked them, or read off the chain (with every signature checked) when one
    /// joined since. `key` is this station's.
    pub fn stations(&self, key: &StationPublicKey) -> Result<Vec<(StationInfo, StationPublicKey)>> {
        let stations = self.prover(key).stations()?;
        Ok(stations
            .info()
            .into_iter()
            .zip(stations.iter().map(|(_, j)| j.key.clone()))
            .collect())
    }

    /// The ledger file's path, or the database's address.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// The database, for reading projections (domain tables).
    pub(crate) fn db(&self) -> &backend::Db {
        &self.db
    }

    /// Runs `f` in one write transaction, every entry it appends signed by `signer`
    /// (the person acting); if it appended anything, signs a checkpoint over the new
    /// head with the station key in the same transaction, then commits. Nothing is
    /// written if `f` fails. `key` must be the key registered for `station`.
    pub fn write<T>(
        &mut self,
        station: &str,
        key: &StationKey,
        signer: &dyn Signer,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T>,
    ) -> Result<T> {
        self.write_at(station, key, signer, Mode::Append, f)
    }

    /// Like [`Ledger::write`], for a transaction of another `mode`: the one in which
    /// a station joins (its `station-join` entry first), or in which a manager
    /// acknowledges a restored copy (the whole chain checked instead of the witness,
    /// which it then replaces).
    pub(crate) fn write_at<T>(
        &mut self,
        station: &str,
        key: &StationKey,
        signer: &dyn Signer,
        mode: Mode,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T>,
    ) -> Result<T> {
        self.write_with(station, key, ActSigner::Key(signer), mode, f)
    }

    /// Like [`Ledger::write_at`], with the entries signed by `signer`: a personal key
    /// here, or a passkey in the person's browser.
    pub(crate) fn write_with<T>(
        &mut self,
        station: &str,
        key: &StationKey,
        signer: ActSigner<'_>,
        mode: Mode,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T>,
    ) -> Result<T> {
        let joining = mode == Mode::Joining;
        let seen = witness::read(&self.witness);
        let tx = self.db.begin()?;
        let tip = Tip::read(&tx, seen.as_ref().map_or(0, |w| w.size))?;
        let (size, last_at, head) = (tip.size, tip.head_at.clone(), tip.head.clone());
        // Never sign over a chain this station has not checked.
        let Checked {
            mut stations,
            restored,
            anchor,
        } = check_before_append(&tx, seen, key.public(), (station, mode), tip)?;
        prove::known(&self.linked).stations = Some(stations.clone());
        let mut writer = Writer {
            tx,
            linked: std::sync::Arc::clone(&self.linked),
            witness: &self.witness,
            key: key.public(),
            signer,
            station,
            size,
            head_at: last_at.clone(),
            last_at,
            head,
            appended: false,
            buf: Vec::new(),
        };
        let value = f(&mut writer)?;
        if writer.appended {
            if size == 0 || joining {
                // The init or station-join entry just appended registers this key.
                stations
                    .add(station, size + 1, key.public().clone())
                    .map_err(|problem| Error::WontWrite {
                        seq: size + 1,
                        problem,
                    })?;
            }
            let at = writer.next_time()?;
            let message = checkpoint_message(station, writer.size, &writer.head, &at);
            let comment = format!(
                "custody checkpoint station={station} size={} head={}",
                writer.size, writer.head
            );
            let signature = key.sign(message.as_bytes(), &comment)?;
            writer.tx.execute(
                "INSERT INTO checkpoints(size, head, at, signature) VALUES (?1, ?2, ?3, ?4)",
                args![writer.size, writer.head, at, signature],
            )?;
        }
        let witnessed = witness::Witness {
            size: writer.size,
            head: writer.head.clone(),
            stations: Some(stations.clone()),
            at: writer.head_at.clone(),
            // The init entry is the first signed one of a ledger made with
            // personal keys.
            anchor: match anchor {
                Some(anchor) => Some(anchor),
                None if size == 0 => writer
                    .tx
                    .value::<String>("SELECT hash FROM entries WHERE seq = 1", &[])?
                    .map(|hash| (1, hash)),
                None => None,
            },
        };
        writer.tx.commit()?;
        prove::known(&self.linked).stations = Some(stations);
        if witnessed.size > 0 {
            if restored {
                witness::replace(&self.witness, &witnessed);
            } else {
                witness::advance(&self.witness, &witnessed);
            }
        }
        Ok(value)
    }

    /// Checks that the chain still holds the last head this station verified, when it
    /// has one.
    ///
    /// A ledger that no longer extends it is refused, unless a manager acknowledged a
    /// restored copy in a signed `ledger-restored` entry made after this station's
    /// head (checked with the whole chain): then the station takes the chain as it is
    /// now, and [`Ledger::restore_acknowledged`] names that entry.
    pub fn check_witness(&self) -> Result<Option<i64>> {
        let Some(w) = witness::read(&self.witness) else {
            return Ok(None);
        };
        let hash: Option<String> = self
            .db
            .value("SELECT hash FROM entries WHERE seq = ?1", args![w.size])?;
        let Some(problem) = verify::departs(&w, self.size()?, hash.as_deref()) else {
            return Ok(Some(w.size));
        };
        // What the station saw is the first thing to say, even when the chain is
        // also broken elsewhere.
        let acknowledged =
            self.db
                .snapshot(|db| match verify::discover(db, Some(&w), None, false) {
                    Ok(found) => {
                        Ok(verify::acknowledged_restore(db, &w)?.map(|seq| (seq, found.stations)))
                    }
                    Err(Error::Tampered { .. }) => Ok(None),
                    Err(other) => Err(other),
                })?;
        match acknowledged {
            Some((seq, stations)) => {
                let mut known = prove::known(&self.linked);
                known.restored = Some(seq);
                known.stations = Some(stations);
                Ok(None)
            }
            None => Err(problem),
        }
    }

    /// This station's witness, as read from its file.
    pub(crate) fn seen_witness(&self) -> Option<witness::Witness> {
        witness::read(&self.witness)
    }

    /// The head this station saw last (its witness): size and hash.
    pub fn seen(&self) -> Option<(i64, String)> {
        witness::read(&self.witness).map(|w| (w.size, w.head))
    }

    /// The `ledger-restored` entry by which this station took a restored copy of the
    /// ledger in this process, if it did.
    pub fn restore_acknowledged(&self) -> Option<i64> {
        prove::known(&self.linked).restored
    }

    /// Records a head that was just verified in full (`report`, by
    /// [`Ledger::verify`]) as this station's witness.
    pub(crate) fn witness(&self, report: &VerifyReport) {
        if report.entries > 0 {
            let witnessed = witness::Witness {
                size: report.entries,
                head: report.head.clone(),
                stations: prove::known(&self.linked).stations.clone(),
                at: Some(report.head_at.clone()),
                anchor: report.anchor.clone(),
            };
            if prove::known(&self.linked).restored.is_some() {
                witness::replace(&self.witness, &witnessed);
            } else {
                witness::advance(&self.witness, &witnessed);
            }
        }
    }

    /// The latest signed checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.db
            .row(
                "SELECT c.size, c.head, c.at, c.signature, COALESCE(e.station, '') \
                 FROM checkpoints c LEFT JOIN entries e ON e.seq = c.size \
                 ORDER BY c.size DESC LIMIT 1",
                &[],
            )?
            .map(|r| {
                Ok(Checkpoint {
                    size: r.get(0)?,
                    head: r.get(1)?,
                    at: r.get(2)?,
                    signature: r.get(3)?,
                    station: r.get(4)?,
                })
            })
            .transpose()
    }

    /// Entries matching `filter`, oldest first.
    pub fn entries(&self, filter: &LogFilter) -> Result<Vec<Entry>> {
        if let Some(kind) = &filter.kind
            && !ENTRY_KINDS.contains(&kind.as_str())
        {
            return Err(Error::BadValue {
                field: Field::EntryKind,
                value: kind.clone(),
                rule: Rule::OneOf(ENTRY_KINDS.iter().map(|k| (*k).to_owned()).collect()),
            });
        }
        let mut sql = String::from(
            "SELECT e.seq, e.at, e.actor, e.station, e.kind, e.subject, e.commitment, e.prev_hash, \
             e.hash, p.body, p.erased FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE 1=1",
        );
        let mut cells: Vec<Cell> = Vec::new();
        for (column, value) in [
            ("e.kind = ", &filter.kind),
            ("e.at >= ", &filter.since),
            ("e.actor = ", &filter.actor),
            ("e.subject = ", &filter.subject),
        ] {
            if let Some(value) = value {
                cells.push(value.to_cell());
                sql.push_str(&format!(" AND {column}?{}", cells.len()));
            }
        }
        sql.push_str(" ORDER BY e.seq");
        self.db.map(&sql, &cells, entry_from_row)
    }

    /// Writes every entry with its payload as one JSON object per line; returns how
    /// many were written.
    pub fn export_jsonl(&self, out: &mut dyn Write) -> Result<u64> {
        // In pages, so that a ledger of millions of entries is never held at once.
        // Payloads are bounded by the page's start too (see `stream_chain`).
        const PAGE: i64 = 4096;
        let mut count = 0u64;
        let mut after = 0i64;
        loop {
            let rows = self.db.rows(
                "SELECT e.seq, e.at, e.actor, e.station, e.kind, e.subject, e.commitment, \
                 e.prev_hash, e.hash, p.body, p.erased, p.salt FROM entries e \
                 LEFT JOIN payloads p ON p.seq = e.seq AND p.seq > ?1 \
                 WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2",
                args![after, PAGE],
            )?;
            if rows.is_empty() {
                return Ok(count);
            }
            for row in &rows {
                let entry = entry_from_row(row)?;
                let salt: Option<String> = row.get(11)?;
                let mut object = serde_json::to_value(&entry).map_err(|e| Error::Encode {
                    what: format!("entry {}", entry.seq),
                    problem: e.to_string(),
                })?;
                object["salt"] = salt.map_or(Value::Null, Value::String);
                // Into io::Error keeps the kind (a closed pipe stays a closed pipe).
                serde_json::to_writer(&mut *out, &object)
                    .map_err(|e| Error::Io(std::io::Error::from(e)))?;
                out.write_all(b"\n")?;
                count += 1;
                after = entry.seq;
            }
        }
    }

    /// Looks up which entry created a record and what kind of record it is.
    pub fn record(&self, id: &RecordId) -> Result<(String, i64)> {
        let row = self
            .db
            .row("SELECT kind, seq FROM records WHERE id = ?1", args![id])?
            .ok_or_else(|| Error::NoSuchRecord {
                kind: crate::error::RecordKind::Record,
                id: id.to_string(),
            })?;
        Ok((row.get(0)?, row.get(1)?))
    }

    /// The time of the first entry (the station's `init`), if any.
    pub fn first_at(&self) -> Result<Option<String>> {
        self.db.value("SELECT at FROM entries WHERE seq = 1", &[])
    }

    /// The last entry's number and hash (0 and nothing when empty): it changes with
    /// every entry appended, and when the ledger is replaced. A front end that keeps
    /// what it proved from the entries (a person's standing) proves it again when
    /// this moves.
    pub fn tip(&self) -> Result<(i64, String)> {
        Ok(self
            .db
            .one(
                "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1",
                &[],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .unwrap_or_default())
    }

    /// Number of entries in the chain.
    pub fn size(&self) -> Result<i64> {
        Ok(self
            .db
            .value("SELECT COALESCE(MAX(seq), 0) FROM entries", &[])?
            .unwrap_or(0))
    }
}

/// Before anything is appended (inside the write transaction): every entry after the
/// last head this station verified must chain correctly from it; the stations must
/// be those this station checked, or, when one joined since, read again off the whole
/// chain with every personal signature checked; `key` must be the key registered for
/// `station` (or, `joining`, no station's yet); and the newest checkpoint must cover
/// the last entry and carry a valid signature by the key of the station that
/// recorded it. Otherwise nothing is written. The cost is one signature and the
/// entries added since the last check; without a witness, the whole chain once.
/// Returns the stations.
/// What a write transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The usual: this station appends.
    Append,
    /// A station not yet registered appends its `station-join` entry.
    Joining,
    /// A manager acknowledges a restored copy of the ledger.
    AcceptingRestore,
}

/// What an append reads first, inside the append lock, in one statement: the head
/// of the chain, the newest checkpoint, and the entry the witness names.
struct Tip {
    /// How many entries the chain has.
    size: i64,
    /// The hash of the last entry (the genesis value when there is none).
    head: String,
    /// The time of the last entry.
    head_at: Option<String>,
    /// The station that made the last entry.
    head_station: String,
    /// The newest checkpoint: its size, head, time and signature.
    checkpoint: Option<(i64, String, String, String)>,
    /// The hash and time of the entry at the witness's size, when there is one.
    witnessed: Option<(String, String)>,
}

impl Tip {
    fn read(tx: &impl Query, witnessed: i64) -> Result<Tip> {
        let row = tx
            .row(
                "SELECT h.seq, h.at, h.hash, h.station, c.size, c.head, c.at, c.signature, \
                 w.hash, w.at FROM (SELECT 1 AS one) AS o \
                 LEFT JOIN (SELECT seq, at, hash, station FROM entries ORDER BY seq DESC LIMIT 1) \
                 AS h ON 1 = 1 \
                 LEFT JOIN (SELECT size, head, at, signature FROM checkpoints \
                 ORDER BY size DESC LIMIT 1) AS c ON 1 = 1 \
                 LEFT JOIN entries AS w ON w.seq = ?1",
                args![witnessed],
            )?
            .ok_or_else(|| Error::Io(std::io::Error::other("the head query returned no row")))?;
        let size: Option<i64> = row.get(0)?;
        let checkpoint = match row.get::<Option<i64>>(4)? {
            Some(covered) => Some((covered, row.get(5)?, row.get(6)?, row.get(7)?)),
            None => None,
        };
        let witnessed = match row.get::<Option<String>>(8)? {
            Some(hash) => Some((hash, row.get(9)?)),
            None => None,
        };
        Ok(match size {
            Some(size) => Tip {
                size,
                head_at: Some(row.get(1)?),
                head: row.get(2)?,
                head_station: row.get(3)?,
                checkpoint,
                witnessed,
            },
            None => Tip {
                size: 0,
                head: GENESIS_PREV.to_string(),
                head_at: None,
                head_station: String::new(),
                checkpoint,
                witnessed,
            },
        })
    }
}

fn check_before_append(
    tx: &impl Backend,
    witness: Option<witness::Witness>,
    key: &StationPublicKey,
    (station, mode): (&str, Mode),
    tip: Tip,
) -> Result<Checked> {
    let (size, head) = (tip.size, tip.head.as_str());
    let joining = mode == Mode::Joining;
    let refuse = |seq: i64, problem: String| Error::WontWrite { seq, problem };
    let as_refusal = |e: Error| match e {
        Error::Tampered { seq, problem } => refuse(seq, problem),
        other => other,
    };
    if size == 0 {
        // A station that saw entries never writes onto an emptied ledger.
        if let Some(problem) = witness.and_then(|w| verify::departs(&w, 0, None)) {
            return Err(as_refusal(problem));
        }
        return Ok(Checked {
            stations: stations::Stations::default(),
            restored: false,
            anchor: None,
        });
    }
    let Some((covered, covered_head, at, signature)) = tip.checkpoint else {
        return Err(refuse(1, "the ledger has no signed checkpoint".into()));
    };
    if covered > size {
        return Err(refuse(
            size + 1,
            format!(
                "a signed checkpoint covers {covered} entries but the ledger has {size}: entries were removed"
            ),
        ));
    }
    if covered < size {
        return Err(refuse(
            covered + 1,
            format!(
                "entries {}..{size} are not covered by a signed checkpoint: they were added without the station key",
                covered + 1
            ),
        ));
    }
    if covered_head != head {
        return Err(refuse(
            size,
            "the newest checkpoint signs a different last entry: the entry was replaced".into(),
        ));
    }
    // A station that knows the stations of the chain checks its key against them
    // below; one that does not takes a quick look first, for a clear refusal (it
    // reads every station's registering entry).
    if witness.as_ref().is_none_or(|w| w.stations.is_none()) {
        check_registered_key(tx, station, key, joining).map_err(|problem| refuse(1, problem))?;
    }
    let mut witnessed = witness;
    let mut restored = false;
    // The time of the entry the witness names, when the chain still holds it.
    let mut seen_at: Option<String> = None;
    if let Some(w) = &witnessed {
        let now = tip.witnessed;
        if let Some(departure) = verify::departs(w, size, now.as_ref().map(|(h, _)| h.as_str())) {
            // A restored copy is written over only once a manager acknowledges it:
            // now, or in a signed entry made after this station's head. Either way
            // the whole chain is checked, and becomes what this station saw.
            // The chain must still begin as the one this station saw (its anchor).
            // What the station saw is the first thing to say, even when the chain
            // is also broken elsewhere.
            let found = match verify::discover(tx, Some(w), Some(key), false) {
                Ok(found) => found,
                Err(Error::Tampered { .. }) => return Err(as_refusal(departure)),
                Err(other) => return Err(other),
            };
            let acknowledged =
                mode == Mode::AcceptingRestore || verify::acknowledged_restore(tx, w)?.is_some();
            if !acknowledged {
                return Err(as_refusal(departure));
            }
            restored = true;
            witnessed = Some(witness::Witness {
                size,
                head: head.to_owned(),
                stations: Some(found.stations),
                at: None,
                anchor: found.anchor,
            });
        } else {
            seen_at = now.map(|(_, at)| at);
        }
    }
    if mode == Mode::AcceptingRestore && !restored {
        return Err(Error::Nothing {
            what: crate::error::Nothing::ToAcknowledge,
        });
    }
    let (from, from_hash) = match &witnessed {
        Some(w) => (w.size, w.head.clone()),
        None => (0, GENESIS_PREV.to_string()),
    };
    // The entries after the head this station saw (none, when it saw the head).
    let mut joined_since: i64 = 0;
    if from < size {
        joined_since = match (from, seen_at) {
            (0, _) => verify::check_tail_from(tx, 0, &from_hash, String::new()),
            (_, Some(at)) => verify::check_tail_from(tx, from, &from_hash, at),
            (_, None) => verify::check_tail(tx, from, &from_hash),
        }
        .map_err(as_refusal)?;
    }
    let mut anchor = witnessed.as_ref().and_then(|w| w.anchor.clone());
    let stations = match witnessed.as_ref().and_then(|w| w.stations.clone()) {
        Some(stations) if joined_since == 0 => stations,
        known => match known.is_none().then(|| one_station(tx, key)).transpose()? {
            Some(Some(stations)) => stations,
            _ => {
                let found =
                    verify::discover(tx, witnessed.as_ref(), (!joining).then_some(key), true)
                        .map_err(as_refusal)?;
                anchor = found.anchor;
                found.stations
            }
        },
    };
    match (stations.get(station), joining) {
        (Some(joined), false) if joined.key.key_id() == key.key_id() => {}
        (None, true) if stations.by_key_id(&key.key_id()).is_none() => {}
        (Some(joined), _) => {
            return Err(refuse(
                joined.since,
                format!(
                    "station {station} is already registered in this ledger, with key {}: {}",
                    joined.key.key_id(),
                    if joining {
                        "choose another name for this station"
                    } else {
                        "the station key of this data home is not the one registered for it"
                    }
                ),
            ));
        }
        (None, _) => {
            return Err(refuse(
                1,
                format!(
                    "station {station} with key {} is not registered in this ledger (a manager adds a station with custody station join)",
                    key.key_id()
                ),
            ));
        }
    }
    // A head this station verified itself needs no second look at its signature
    // (the common case: nothing was appended since this station's last command).
    let seen = !restored
        && witnessed
            .as_ref()
            .is_some_and(|w| w.size == size && w.head == head);
    if !seen {
        let last = tip.head_station;
        stations
            .key_for(&last, size)
            .and_then(|k| {
                k.verify(
                    checkpoint_message(&last, size, head, &at).as_bytes(),
                    &signature,
                )
            })
            .map_err(|why| {
                refuse(
                    size,
                    format!(
                        "the newest checkpoint, made at station {last}, does not verify: {why}"
                    ),
                )
            })?;
    }
    Ok(Checked {
        stations,
        restored,
        anchor,
    })
}

/// What the check before an append found.
struct Checked {
    /// The stations of the chain.
    stations: stations::Stations,
    /// The ledger no longer extended this station's witness, and a manager
    /// acknowledged it as a restored copy: the witness is replaced, not advanced.
    restored: bool,
    /// The first entry signed by a person's key, with its hash, when known.
    anchor: Option<(i64, String)>,
}

/// The stations of a ledger that no station has joined since `init`, when its `init`
/// entry registers `key` (this station's): that one station. `None` when stations
/// joined (their keys are learnt from the whole chain) or the key is another.
pub(crate) fn one_station(
    db: &impl Query,
    key: &StationPublicKey,
) -> Result<Option<stations::Stations>> {
    let joined: i64 = db
        .value(
            "SELECT COUNT(*) FROM entries WHERE kind = 'station-join'",
            &[],
        )?
        .unwrap_or(0);
    if joined > 0 {
        return Ok(None);
    }
    let init: Option<(String, Option<String>)> = db
        .row(
            "SELECT e.station, p.body FROM entries e LEFT JOIN payloads p ON p.seq = e.seq \
             WHERE e.seq = 1 AND e.kind = 'init'",
            &[],
        )?
        .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    let Some((at, Some(body))) = init else {
        return Ok(None);
    };
    let Ok(payload) = serde_json::from_str::<Value>(&body) else {
        return Ok(None);
    };
    if payload.get("public_key").and_then(Value::as_str) != Some(key.to_base64().as_str()) {
        return Ok(None);
    }
    let name = payload
        .get("station")
        .and_then(Value::as_str)
        .unwrap_or(&at);
    let mut stations = stations::Stations::default();
    stations
        .add(name, 1, key.clone())
        .map_err(|problem| Error::Tampered { seq: 1, problem })?;
    Ok(Some(stations))
}

impl Ledger {
    /// Marks this ledger as opened by a station that is joining it: its key is not
    /// registered until its `station-join` entry is.
    pub(crate) fn set_joining(&self) {
        prove::known(&self.linked).joining = true;
    }
}

/// A quick look, before anything is checked in full: `key` must be the station key
/// that the entry registering `station` (its `init`, or its `station-join`) holds;
/// or, `joining`, no station may be registered as `station` yet. Says what is
/// wrong otherwise. (Only ever a reason to refuse: what is accepted is proven by the
/// full check.)
pub(crate) fn check_registered_key(
    db: &impl Query,
    station: &str,
    key: &StationPublicKey,
    joining: bool,
) -> std::result::Result<(), String> {
    let mut bodies: Vec<(i64, String, Option<String>)> = Vec::new();
    for (seq, kind, at, body) in db
        .map(
            "SELECT e.seq, e.kind, e.station, p.body FROM entries e \
             LEFT JOIN payloads p ON p.seq = e.seq \
             WHERE e.kind IN ('init', 'station-join') ORDER BY e.seq",
            &[],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<Option<String>>(3)?,
                ))
            },
        )
        .map_err(|e| e.to_string())?
    {
        // Only the first entry is an init (one anywhere else is not custody's).
        if kind == "station-join" || seq == 1 {
            bodies.push((seq, at, body));
        }
    }
    if bodies.first().is_none_or(|(seq, _, _)| *seq != 1) {
        return Err("the ledger's first entry does not register a station key".into());
    }
    let registered = bodies.iter().find_map(|(_, at, body)| {
        let payload = body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())?;
        let name = payload.get("station").and_then(Value::as_str).unwrap_or(at);
        (name == station).then(|| {
            payload
                .get("public_key")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    });
    match (registered, joining) {
        (None, true) => Ok(()),
        (Some(_), true) => Err(format!(
            "station {station} is already registered in this ledger: choose another name for this station"
        )),
        (Some(Some(registered)), false) if registered == key.to_base64() => Ok(()),
        (Some(_), false) => Err(format!(
            "the station key ({}) is not the one this ledger was created with for station {station}: the key pair was replaced, or this is another station's data home",
            key.key_id()
        )),
        (None, false) => Err(format!(
            "station {station} is not registered in this ledger: its name in config.toml was changed, or a manager has not joined it (custody station join)"
        )),
    }
}

/// An entry from a row of `seq, at, actor, station, kind, subject, commitment,
/// prev_hash, hash, body, erased` (body and erased may be NULL).
pub(crate) fn entry_from_row(r: &store::Row) -> Result<Entry> {
    let body: Option<String> = r.get(9)?;
    Ok(Entry {
        seq: r.get(0)?,
        at: entry_time(r)?,
        actor: r.get(2)?,
        station: r.get(3)?,
        kind: r.get(4)?,
        subject: r.get(5)?,
        commitment: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
        payload: body.and_then(|b| serde_json::from_str(&b).ok()),
        erased: r.get(10)?,
    })
}

/// The time of an entry row (sequence number in column 0, time in column 1); text that
/// is not a time is an entry changed behind custody's back, reported at its entry.
pub(crate) fn entry_time(r: &store::Row) -> Result<crate::clock::Timestamp> {
    // The cell's own complaint is replaced by the entry it is in, which says more.
    r.get(1).map_err(|_| Error::Tampered {
        seq: r.get(0).unwrap_or(0),
        problem: "the entry's time is not a time (an entry was changed)".into(),
    })
}

/// An open write transaction on the ledger.
pub struct Writer<'a> {
    tx: backend::DbTx<'a>,
    /// This station's witness file.
    witness: &'a Path,
    /// The station key's public half, to prove entries with.
    key: &'a StationPublicKey,
    /// The person whose key (or passkey) signs every entry appended.
    signer: ActSigner<'a>,
    linked: prove::Linked,
    station: &'a str,
    size: i64,
    last_at: Option<String>,
    head: String,
    /// The time of the entry at `head`.
    head_at: Option<String>,
    appended: bool,
    buf: Vec<u8>,
}

impl<'a> Writer<'a> {
    /// Proves entries read inside this transaction ([`prove`]).
    pub(crate) fn prover(&self) -> prove::Prover<'_, backend::DbTx<'a>> {
        prove::Prover::new(
            &self.tx,
            self.key,
            self.witness,
            std::sync::Arc::clone(&self.linked),
        )
    }

    /// The actor's signature of entry `seq`, appended in this transaction: the
    /// signing key's id, its public key (minisign base64) and the signature text.
    pub(crate) fn actor_signature(&self, seq: i64) -> Result<Option<PersonalSignature>> {
        let row: Option<(String, String)> = self
            .tx
            .row(
                "SELECT key_id, signature FROM signatures WHERE seq = ?1",
                args![seq],
            )?
            .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?)))
            .transpose()?;
        let ActSigner::Key(signer) = self.signer else {
            return Ok(None);
        };
        let public = signer.public();
        Ok(row
            .filter(|(key_id, _)| *key_id == public.key_id())
            .map(|(key_id, signature)| PersonalSignature {
                key_id,
                public_key: public.to_base64(),
                signature,
            }))
    }

    /// Signs `message` with the actor's personal key, as it signs their entries.
    pub(crate) fn sign_as_actor(
        &self,
        message: &[u8],
        trusted_comment: &str,
    ) -> Result<PersonalSignature> {
        let ActSigner::Key(signer) = self.signer else {
            return Err(Error::PasskeyRefused {
                why: crate::error::PasskeyProblem::NeedsPersonalKey,
            });
        };
        let public = signer.public();
        Ok(PersonalSignature {
            key_id: public.key_id(),
            public_key: public.to_base64(),
            signature: signer.sign(message, trusted_comment)?,
        })
    }

    /// The transaction, for reading projections in the same transaction.
    pub(crate) fn db(&self) -> &backend::DbTx<'a> {
        &self.tx
    }

    fn next_time(&mut self) -> Result<String> {
        let now = clock::stamp(clock::now());
        if let Some(last) = &self.last_at
            && now < *last
        {
            return Err(Error::ClockBehind {
                now,
                last: last.clone(),
            });
        }
        self.last_at = Some(now.clone());
        Ok(now)
    }

    /// Appends one entry with its payload, and applies it to the projections in the
    /// same transaction (`project::record_statements`, `project::apply_effects`).
    pub fn append(
        &mut self,
        actor: &str,
        kind: &str,
        subject: &str,
        payload: &Value,
    ) -> Result<Appended> {
        self.append_attached(actor, kind, subject, payload, None)
    }

    /// Like [`Writer::append`], with a certificate's signed document beside the entry.
    pub(crate) fn append_attached(
        &mut self,
        actor: &str,
        kind: &str,
        subject: &str,
        payload: &Value,
        attachment: Option<&project::Attachment>,
    ) -> Result<Appended> {
        check_field(Field::Actor, actor)?;
        if actor != self.signer.name() {
            // Every entry is signed by the person it names: never one person's entry
            // under another's key.
            return Err(Error::KeyNotValid {
                actor: actor.to_owned(),
                key_id: self.signer.key_id(),
                why: crate::error::KeyStanding::NotTheirs,
            });
        }
        check_field(Field::Station, self.station)?;
        check_field(Field::EntryKind, kind)?;
        debug_assert!(
            ENTRY_KINDS.contains(&kind),
            "entry kind {kind:?} is missing from ENTRY_KINDS"
        );
        check_field(Field::Subject, subject)?;
        let body = crate::canon::to_string(payload)?;
        let salt = match self.signer {
            ActSigner::Key(_) => new_salt()?,
            // The salt chosen when the act was prepared: the passkey signed the
            // commitment it makes.
            ActSigner::Passkey(act) => act.salt_for(kind, subject, &body)?,
        };
        let commitment = commitment(&salt, &body);
        let at = self.next_time()?;
        let seq = self.size + 1;
        hash_input(
            &mut self.buf,
            seq,
            &at,
            actor,
            self.station,
            kind,
            subject,
            &commitment,
            &self.head,
        );
        let hash = hex::encode(Sha256::digest(&self.buf));
        let signature = match self.signer {
            ActSigner::Key(signer) => signer.sign(
                signed::entry_message(&hash).as_bytes(),
                &signed::entry_comment(seq, kind, actor),
            )?,
            ActSigner::Passkey(act) => act.signature_text().to_owned(),
        };
        let fact = project::Fact {
            seq,
            at: &at,
            actor,
            kind,
            subject,
        };
        // The entry, its payload and signature, and the record it creates: one
        // round trip on PostgreSQL.
        let mut rows = vec![
            (
                "INSERT INTO entries(seq, at, actor, station, kind, subject, commitment, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                    .to_owned(),
                args![seq, at, actor, self.station, kind, subject, commitment, self.head, hash]
                    .to_vec(),
            ),
            (
                "INSERT INTO payloads(seq, salt, body) VALUES (?1, ?2, ?3)".to_owned(),
                args![seq, salt, body].to_vec(),
            ),
            (
                "INSERT INTO signatures(seq, key_id, signature) VALUES (?1, ?2, ?3)".to_owned(),
                args![seq, self.signer.key_id(), signature].to_vec(),
            ),
        ];
        rows.extend(project::record_statements("main", fact));
        self.tx.execute_all(&rows)?;
        project::apply_effects(&self.tx, "main", fact, payload, attachment)?;
        self.size = seq;
        self.head = hash.clone();
        self.head_at = Some(at.clone());
        self.appended = true;
        Ok(Appended { seq, hash, at })
    }

    /// What an act about the record `id` covers: the entry that created the record,
    /// proven, by its seq and hash (which commit to everything it says: what, who,
    /// where, until when). An approval, rejection, hold or release carries this in its
    /// payload, so that the person's signature over the act is bound to that record as
    /// it was filed.
    pub(crate) fn covers(&self, id: &RecordId) -> Result<Value> {
        let seq: Option<i64> = self
            .tx
            .value("SELECT seq FROM records WHERE id = ?1", args![id])?;
        let seq = seq.ok_or_else(|| Error::NoSuchRecord {
            kind: crate::error::RecordKind::Record,
            id: id.to_string(),
        })?;
        let entry = self.prover().entry(seq)?;
        if entry.subject != id.as_str() {
            return Err(Error::Tampered {
                seq,
                problem: format!(
                    "the records table names this entry as the one that created {id}, but it is about {:?}",
                    entry.subject
                ),
            });
        }
        Ok(serde_json::json!({ "record": id, "seq": entry.seq, "hash": entry.hash }))
    }

    /// The next id with `prefix` (`CO` → `CO-13`); it is taken when an entry with it
    /// as subject is appended.
    pub fn next_id(&mut self, prefix: &str) -> Result<RecordId> {
        let last: i64 = self
            .tx
            .value(
                "SELECT COALESCE(MAX(last), 0) FROM counters WHERE prefix = ?1",
                args![prefix],
            )?
            .unwrap_or(0);
        RecordId::parse(&format!("{prefix}-{}", last + 1))
    }

    /// The subjects of every `disposal` entry: the retained items disposed of.
    pub(crate) fn disposed_items(&self) -> Result<Vec<String>> {
        self.tx.map(
            "SELECT DISTINCT subject FROM entries WHERE kind = 'disposal' ORDER BY subject",
            &[],
            |r| r.get(0),
        )
    }

    /// Erases the payloads of every entry about `items` that still has one: first
    /// appends a `payloads-erased` entry naming each erased entry by its sequence
    /// number and keeping the facts the projections need of it ([`project::facts`]),
    /// then erases them in the same transaction. Returns how many were erased.
    pub(crate) fn erase_payloads(&mut self, actor: &str, items: &[String]) -> Result<u64> {
        let mut erasable: Vec<(i64, String, String, Value)> = Vec::new();
        for item in items {
            let rows = self.tx.rows(
                "SELECT e.seq, e.kind, e.subject, p.body FROM entries e JOIN payloads p ON p.seq = e.seq \
                 WHERE e.subject = ?1 AND p.body IS NOT NULL ORDER BY e.seq",
                args![item],
            )?;
            for row in rows {
                let seq: i64 = row.get(0)?;
                let body: String = row.get(3)?;
                let payload: Value = serde_json::from_str(&body).map_err(|e| Error::Tampered {
                    seq,
                    problem: format!("its payload is not JSON: {e}"),
                })?;
                erasable.push((seq, row.get(1)?, row.get(2)?, payload));
            }
        }
        if erasable.is_empty() {
            return Ok(0);
        }
        let seqs: Vec<i64> = erasable.iter().map(|(seq, ..)| *seq).collect();
        let mut facts = serde_json::Map::new();
        let mut erased_items: Vec<&str> = Vec::new();
        for (seq, kind, subject, payload) in &erasable {
            if let Some(kept) = project::facts(kind, payload) {
                facts.insert(seq.to_string(), kept);
            }
            if !erased_items.contains(&subject.as_str()) {
                erased_items.push(subject);
            }
        }
        self.append(
            actor,
            "payloads-erased",
            "",
            &serde_json::json!({
                "items": erased_items, "count": seqs.len(), "seqs": seqs, "facts": facts,
            }),
        )?;
        let now = clock::stamp(clock::now());
        for seq in &seqs {
            self.tx.execute(
                "UPDATE payloads SET salt = NULL, body = NULL, erased = ?2 WHERE seq = ?1 AND body IS NOT NULL",
                args![seq, now],
            )?;
        }
        Ok(seqs.len() as u64)
    }

    /// Creates a record: allocates an id with `prefix`, appends an entry of `kind`
    /// whose subject is that id and whose payload is `payload` plus an `id` field (the
    /// projections register the id). Returns the id and the entry.
    pub fn create_record(
        &mut self,
        actor: &str,
        kind: &str,
        prefix: &str,
        mut payload: Value,
    ) -> Result<(RecordId, Appended)> {
        debug_assert!(
            project::RECORD_KINDS.contains(&kind),
            "{kind} creates no record"
        );
        let id = self.next_id(prefix)?;
        if let Value::Object(map) = &mut payload {
            map.insert("id".into(), Value::String(id.to_string()));
        }
        let appended = self.append(actor, kind, id.as_str(), &payload)?;
        Ok((id, appended))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_parse_and_normalise() {
        assert_eq!(RecordId::parse(" co-12 ").unwrap().as_str(), "CO-12");
        assert_eq!(RecordId::parse("TX-4").unwrap().prefix(), "TX");
        for bad in ["CO", "CO-", "C-1", "CO-01", "CO-1a", "12"] {
            assert!(RecordId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hash_input_is_line_separated() {
        let mut buf = Vec::new();
        hash_input(&mut buf, 7, "T", "sato", "st", "note", "NT-1", "c", "p");
        assert_eq!(buf, b"custody-ledger/v1\n7\nT\nsato\nst\nnote\nNT-1\nc\np");
    }
}
