//! The tamper-evident ledger: one SQLite file that every workflow appends to.
//!
//! Each entry's `hash` covers its own fields and the previous entry's hash, so the
//! entries form a chain; the entry's payload (canonical JSON) is kept apart in
//! `payloads` and bound to the entry by `commitment = SHA-256(salt ‖ payload)`, so a
//! payload holding personal data can later be erased while the chain still verifies.
//! After every command that appends, a checkpoint over the new head is signed with the
//! station key. `docs/ledger-format.md` gives the exact byte strings.
//!
//! # Locking
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction, which takes SQLite's write
//! lock before reading the head, so two processes can never both extend the same
//! head. Waiting writers retry for up to [`BUSY_TIMEOUT`]. The file is in WAL mode so
//! readers (`log`, `verify`) never block a writer.
//!
//! # Compatibility
//!
//! The schema is an append-only list of migrations tracked by `PRAGMA user_version`
//! and applied in one exclusive transaction. A file whose version is newer than this
//! binary knows is refused rather than guessed at. The hashing rules are versioned by
//! the `custody-ledger/v1` prefix of every hashed string.
//!
//! # Failure modes
//!
//! `synchronous=FULL` makes every committed transaction durable before the command
//! reports success. A process killed mid-append leaves either the whole transaction
//! (entries, payloads, projections, checkpoint) or none of it. Triggers refuse
//! `UPDATE` and `DELETE` on entries and checkpoints, and anything but erasure on
//! payloads; someone who drops the triggers can still edit the file, which
//! [`Ledger::verify`] detects, and a deleted tail or an old copy restored is caught
//! by verifying against a head kept outside the machine.

pub(crate) mod project;
pub(crate) mod prove;
mod rebuild;
mod schema;
mod verify;
mod witness;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use rebuild::RowMismatch;
pub use verify::{HeadBlock, VerifyReport};

use crate::clock;
use crate::error::{Error, Result};
use crate::keys::{StationKey, StationPublicKey};

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
            Err(Error::Invalid(format!(
                "{text:?} is not a record id; ids look like CO-12 or TX-4"
            )))
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

impl ToSql for RecordId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl FromSql for RecordId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        String::column_result(value).map(RecordId)
    }
}

/// One ledger entry, with its payload when it has not been erased.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// UTC time of the append.
    pub at: String,
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
pub(crate) fn check_field(what: &str, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "{what} {value:?} contains a control character (such as a line break)"
        )));
    }
    Ok(())
}

/// The ledger file, open.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    /// The last head this station verified ([`witness`]).
    witness: PathBuf,
    /// What [`prove`] has followed to a signed checkpoint in this process.
    linked: prove::Linked,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

impl Ledger {
    /// Creates a new ledger file, which must not exist yet.
    pub fn create(path: &Path) -> Result<Ledger> {
        if path.exists() {
            return Err(Error::HomeExists(path.to_path_buf()));
        }
        let ledger = Ledger::open_inner(path, rusqlite::OpenFlags::default())?;
        {
            use std::os::unix::fs::PermissionsExt;
            // The WAL and shared-memory files SQLite creates later copy this mode.
            fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(ledger)
    }

    /// Opens an existing ledger, applying any migrations it lacks.
    pub fn open(path: &Path) -> Result<Ledger> {
        if !path.is_file() {
            return Err(Error::NoHome(path.parent().unwrap_or(path).to_path_buf()));
        }
        Ledger::open_inner(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )
    }

    fn open_inner(path: &Path, flags: rusqlite::OpenFlags) -> Result<Ledger> {
        let err = Error::sqlite(path);
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(Error::sqlite(path))?;
        // `rebuilt` holds the copy of the projections that `verify` rebuilds; attached
        // here because SQLite refuses ATTACH inside a transaction.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; \
             ATTACH DATABASE ':memory:' AS rebuilt;",
        )
        .map_err(Error::sqlite(path))?;
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            witness: witness::path_for(path),
            linked: prove::Linked::default(),
        };
        ledger.migrate()?;
        Ok(ledger)
    }

    fn migrate(&mut self) -> Result<()> {
        let latest = schema::MIGRATIONS.len() as i64;
        let path = self.path.clone();
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(Error::sqlite(&path))?;
        if version > latest {
            return Err(Error::DatabaseTooNew {
                path,
                found: version,
                supported: latest,
            });
        }
        if version == latest {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(Error::sqlite(&path))?;
        // Another process may have migrated while we waited for the lock.
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(Error::sqlite(&path))?;
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(Error::sqlite(&path))?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(Error::sqlite(&path))?;
        }
        tx.commit().map_err(Error::sqlite(&path))
    }

    /// Proves entries of this ledger against `key` ([`prove`]).
    pub(crate) fn prover<'a>(&'a self, key: &'a StationPublicKey) -> prove::Prover<'a> {
        prove::Prover::new(
            &self.conn,
            &self.path,
            key,
            std::rc::Rc::clone(&self.linked),
        )
    }

    /// The ledger file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for reading projections (domain tables).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one write transaction; if it appended anything, signs a checkpoint
    /// over the new head in the same transaction, then commits. Nothing is written if
    /// `f` fails.
    pub fn write<T>(
        &mut self,
        station: &str,
        key: &StationKey,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T>,
    ) -> Result<T> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sqlite(&path))?;
        let last: Option<(i64, String, String)> = tx
            .query_row(
                "SELECT seq, at, hash FROM entries ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(Error::sqlite(&path))?;
        let (size, last_at, head) = match last {
            Some((seq, at, hash)) => (seq, Some(at), hash),
            None => (0, None, GENESIS_PREV.to_string()),
        };
        // Never sign over a chain this station has not checked.
        check_before_append(&tx, &path, &self.witness, key.public(), size, &head)?;
        let mut writer = Writer {
            tx,
            path: &path,
            linked: std::rc::Rc::clone(&self.linked),
            key: key.public(),
            station,
            size,
            last_at,
            head,
            appended: false,
            buf: Vec::new(),
        };
        let value = f(&mut writer)?;
        if writer.appended {
            let at = writer.next_time()?;
            let message = checkpoint_message(station, writer.size, &writer.head, &at);
            let comment = format!(
                "custody checkpoint station={station} size={} head={}",
                writer.size, writer.head
            );
            let signature = key.sign(message.as_bytes(), &comment)?;
            writer
                .tx
                .execute(
                    "INSERT INTO checkpoints(size, head, at, signature) VALUES (?1, ?2, ?3, ?4)",
                    params![writer.size, writer.head, at, signature],
                )
                .map_err(Error::sqlite(&path))?;
        }
        let witnessed = witness::Witness {
            size: writer.size,
            head: writer.head.clone(),
        };
        writer.tx.commit().map_err(Error::sqlite(&path))?;
        if witnessed.size > 0 {
            witness::advance(&self.witness, &witnessed);
        }
        Ok(value)
    }

    /// Checks that the chain still holds the last head this station verified, when it
    /// has one.
    pub fn check_witness(&self) -> Result<Option<i64>> {
        let Some(w) = witness::read(&self.witness) else {
            return Ok(None);
        };
        let hash: Option<String> = self
            .conn
            .query_row("SELECT hash FROM entries WHERE seq = ?1", [w.size], |r| {
                r.get(0)
            })
            .optional()
            .map_err(Error::sqlite(&self.path))?;
        match hash {
            None => {
                let size = self.size()?;
                Err(Error::Tampered {
                    seq: size + 1,
                    problem: format!(
                        "this station saw {} entries, but the ledger has {size}: entries were removed (or an older copy was restored)",
                        w.size
                    ),
                })
            }
            Some(hash) if hash != w.head => Err(Error::Tampered {
                seq: w.size,
                problem: "this entry is not the one this station saw: the ledger was rewritten"
                    .into(),
            }),
            Some(_) => Ok(Some(w.size)),
        }
    }

    /// Records a head that was just verified in full as this station's witness.
    pub(crate) fn witness(&self, size: i64, head: &str) {
        if size > 0 {
            witness::advance(
                &self.witness,
                &witness::Witness {
                    size,
                    head: head.to_owned(),
                },
            );
        }
    }

    /// The latest signed checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.conn
            .query_row(
                "SELECT size, head, at, signature FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| {
                    Ok(Checkpoint {
                        size: r.get(0)?,
                        head: r.get(1)?,
                        at: r.get(2)?,
                        signature: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(Error::sqlite(&self.path))
    }

    /// Entries matching `filter`, oldest first.
    pub fn entries(&self, filter: &LogFilter) -> Result<Vec<Entry>> {
        let mut sql = String::from(
            "SELECT e.seq, e.at, e.actor, e.station, e.kind, e.subject, e.commitment, e.prev_hash, \
             e.hash, p.body, p.erased FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE 1=1",
        );
        let mut args: Vec<&dyn ToSql> = Vec::new();
        if let Some(kind) = &filter.kind {
            sql.push_str(" AND e.kind = ?");
            args.push(kind);
        }
        if let Some(since) = &filter.since {
            sql.push_str(" AND e.at >= ?");
            args.push(since);
        }
        if let Some(actor) = &filter.actor {
            sql.push_str(" AND e.actor = ?");
            args.push(actor);
        }
        if let Some(subject) = &filter.subject {
            sql.push_str(" AND e.subject = ?");
            args.push(subject);
        }
        sql.push_str(" ORDER BY e.seq");
        let mut stmt = self.conn.prepare(&sql).map_err(Error::sqlite(&self.path))?;
        let rows = stmt
            .query_map(args.as_slice(), entry_from_row)
            .map_err(Error::sqlite(&self.path))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::sqlite(&self.path))
    }

    /// Writes every entry with its payload as one JSON object per line; returns how
    /// many were written.
    pub fn export_jsonl(&self, out: &mut dyn Write) -> Result<u64> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.seq, e.at, e.actor, e.station, e.kind, e.subject, e.commitment, \
                 e.prev_hash, e.hash, p.body, p.erased, p.salt FROM entries e \
                 LEFT JOIN payloads p ON p.seq = e.seq ORDER BY e.seq",
            )
            .map_err(Error::sqlite(&self.path))?;
        let mut rows = stmt.query([]).map_err(Error::sqlite(&self.path))?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(Error::sqlite(&self.path))? {
            let entry = entry_from_row(row).map_err(Error::sqlite(&self.path))?;
            let salt: Option<String> = row.get(11).map_err(Error::sqlite(&self.path))?;
            let mut object = serde_json::to_value(&entry)
                .map_err(|e| Error::Invalid(format!("cannot export entry {}: {e}", entry.seq)))?;
            object["salt"] = salt.map_or(Value::Null, Value::String);
            serde_json::to_writer(&mut *out, &object)
                .map_err(|e| Error::Io(std::io::Error::other(e)))?;
            out.write_all(b"\n")?;
            count += 1;
        }
        Ok(count)
    }

    /// Looks up which entry created a record and what kind of record it is.
    pub fn record(&self, id: &RecordId) -> Result<(String, i64)> {
        self.conn
            .query_row("SELECT kind, seq FROM records WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(Error::sqlite(&self.path))?
            .ok_or_else(|| Error::NoSuchRecord(id.to_string()))
    }

    /// Runs a query over projections and collects its rows.
    pub fn query_all<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(Error::sqlite(&self.path))?;
        let rows = stmt
            .query_map(params, row)
            .map_err(Error::sqlite(&self.path))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(Error::sqlite(&self.path))
    }

    /// The time of the first entry (the station's `init`), if any.
    pub fn first_at(&self) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT at FROM entries WHERE seq = 1", [], |r| r.get(0))
            .optional()
            .map_err(Error::sqlite(&self.path))
    }

    /// Number of entries in the chain.
    pub fn size(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM entries", [], |r| {
                r.get(0)
            })
            .map_err(Error::sqlite(&self.path))
    }
}

/// Before anything is appended (inside the write transaction): the newest
/// checkpoint must cover the last entry and carry a valid signature by `key`, `key`
/// must be the station key the `init` entry registered, and every entry after the
/// last head this station verified must chain correctly from it. Otherwise nothing
/// is written. The cost is one signature and the entries added since the last
/// check; without a witness (the first write after an upgrade), the whole chain
/// once.
fn check_before_append(
    tx: &Connection,
    path: &Path,
    witness_path: &Path,
    key: &StationPublicKey,
    size: i64,
    head: &str,
) -> Result<()> {
    if size == 0 {
        return Ok(());
    }
    let refuse = |seq: i64, problem: String| Error::WontWrite { seq, problem };
    let sqlerr = Error::sqlite(path);
    let checkpoint: Option<(i64, String, String, String)> = tx
        .query_row(
            "SELECT size, head, at, signature FROM checkpoints ORDER BY size DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(sqlerr)?;
    let Some((covered, covered_head, at, signature)) = checkpoint else {
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
    let witnessed = witness::read(witness_path);
    // A head this station verified itself needs no second look at its signature
    // (the common case: nothing was appended since this station's last command).
    let seen = witnessed
        .as_ref()
        .is_some_and(|w| w.size == size && w.head == head);
    if !seen {
        let station: String = tx
            .query_row("SELECT station FROM entries WHERE seq = ?1", [size], |r| {
                r.get(0)
            })
            .map_err(Error::sqlite(path))?;
        key.verify(
            checkpoint_message(&station, size, head, &at).as_bytes(),
            &signature,
        )
        .map_err(|why| {
            refuse(
                size,
                format!("the newest checkpoint is not signed by this station's key: {why}"),
            )
        })?;
    }
    check_registered_key(tx, key).map_err(|problem| refuse(1, problem))?;
    let (from, from_hash) = match witnessed {
        Some(w) => (w.size, w.head),
        None => (0, GENESIS_PREV.to_string()),
    };
    verify::check_tail(tx, path, from, &from_hash).map_err(|e| match e {
        Error::Tampered { seq, problem } => refuse(seq, problem),
        other => other,
    })?;
    Ok(())
}

/// Checks that `key` is the station key the ledger's `init` entry registered; says
/// what is wrong otherwise.
pub(crate) fn check_registered_key(
    conn: &Connection,
    key: &StationPublicKey,
) -> std::result::Result<(), String> {
    let body: Option<String> = conn
        .query_row(
            "SELECT p.body FROM entries e JOIN payloads p ON p.seq = e.seq \
             WHERE e.seq = 1 AND e.kind = 'init'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| e.to_string())?
        .flatten();
    let registered = body
        .and_then(|b| serde_json::from_str::<Value>(&b).ok())
        .and_then(|v| {
            v.get("public_key")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .ok_or("the ledger's first entry does not register a station key")?;
    if registered != key.to_base64() {
        return Err(format!(
            "the station key ({}) is not the one this ledger was created with: the key pair was replaced, or this is another station's data home",
            key.key_id()
        ));
    }
    Ok(())
}

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let body: Option<String> = r.get(9)?;
    Ok(Entry {
        seq: r.get(0)?,
        at: r.get(1)?,
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

/// An open write transaction on the ledger.
pub struct Writer<'a> {
    tx: Transaction<'a>,
    path: &'a Path,
    /// The station key's public half, to prove entries with.
    key: &'a StationPublicKey,
    linked: prove::Linked,
    station: &'a str,
    size: i64,
    last_at: Option<String>,
    head: String,
    appended: bool,
    buf: Vec<u8>,
}

impl Writer<'_> {
    /// Proves entries read inside this transaction ([`prove`]).
    pub(crate) fn prover(&self) -> prove::Prover<'_> {
        prove::Prover::new(
            &self.tx,
            self.path,
            self.key,
            std::rc::Rc::clone(&self.linked),
        )
    }

    /// The transaction, for writing projections in the same commit as their entry.
    pub fn tx(&self) -> &Transaction<'_> {
        &self.tx
    }

    /// Maps a SQLite error to the crate error, naming the ledger.
    pub fn sql_err(&self) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
        Error::sqlite(self.path)
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
    /// same transaction (`project::apply`).
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
        check_field("actor", actor)?;
        check_field("station", self.station)?;
        check_field("kind", kind)?;
        check_field("subject", subject)?;
        let body = crate::canon::to_string(payload)?;
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
        let salt = hex::encode(salt);
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
        let err = Error::sqlite(self.path);
        self.tx
            .prepare_cached(
                "INSERT INTO entries(seq, at, actor, station, kind, subject, commitment, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    seq, at, actor, self.station, kind, subject, commitment, self.head, hash
                ])
            })
            .map_err(err)?;
        self.tx
            .prepare_cached("INSERT INTO payloads(seq, salt, body) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![seq, salt, body]))
            .map_err(Error::sqlite(self.path))?;
        let fact = project::Fact {
            seq,
            at: &at,
            actor,
            kind,
            subject,
        };
        project::apply(&self.tx, "main", fact, payload, attachment)
            .map_err(Error::sqlite(self.path))?;
        self.size = seq;
        self.head = hash.clone();
        self.appended = true;
        Ok(Appended { seq, hash, at })
    }

    /// The next id with `prefix` (`CO` → `CO-13`); it is taken when an entry with it
    /// as subject is appended.
    pub fn next_id(&mut self, prefix: &str) -> Result<RecordId> {
        let last: i64 = self
            .tx
            .prepare_cached("SELECT COALESCE(MAX(last), 0) FROM counters WHERE prefix = ?1")
            .and_then(|mut s| s.query_row([prefix], |r| r.get(0)))
            .map_err(Error::sqlite(self.path))?;
        RecordId::parse(&format!("{prefix}-{}", last + 1))
    }

    /// The subjects of every `disposal` entry: the retained items disposed of.
    pub(crate) fn disposed_items(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT DISTINCT subject FROM entries WHERE kind = 'disposal' ORDER BY subject",
            )
            .map_err(Error::sqlite(self.path))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(Error::sqlite(self.path))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(Error::sqlite(self.path))
    }

    /// Erases the payloads of every entry about `items` that still has one: first
    /// appends a `payloads-erased` entry naming each erased entry by its sequence
    /// number and keeping the facts the projections need of it ([`project::facts`]),
    /// then erases them in the same transaction. Returns how many were erased.
    pub(crate) fn erase_payloads(&mut self, actor: &str, items: &[String]) -> Result<u64> {
        let mut erasable: Vec<(i64, String, String, Value)> = Vec::new();
        {
            let mut stmt = self
                .tx
                .prepare_cached(
                    "SELECT e.seq, e.kind, e.subject, p.body FROM entries e JOIN payloads p ON p.seq = e.seq \
                     WHERE e.subject = ?1 AND p.body IS NOT NULL ORDER BY e.seq",
                )
                .map_err(Error::sqlite(self.path))?;
            for item in items {
                let rows = stmt
                    .query_map([item], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
                    })
                    .map_err(Error::sqlite(self.path))?;
                for row in rows {
                    let (seq, kind, subject, body) = row.map_err(Error::sqlite(self.path))?;
                    let payload: Value =
                        serde_json::from_str(&body).map_err(|e| Error::Tampered {
                            seq,
                            problem: format!("its payload is not JSON: {e}"),
                        })?;
                    erasable.push((seq, kind, subject, payload));
                }
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
        let mut stmt = self
            .tx
            .prepare_cached(
                "UPDATE payloads SET salt = NULL, body = NULL, erased = ?2 WHERE seq = ?1 AND body IS NOT NULL",
            )
            .map_err(Error::sqlite(self.path))?;
        for seq in &seqs {
            stmt.execute(params![seq, now])
                .map_err(Error::sqlite(self.path))?;
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
