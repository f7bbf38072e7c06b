//! The SQLite backend: the one place in custody that names SQLite.
//!
//! [`Db`] is the ledger file, open; [`DbTx`] one write transaction on it. Both run the
//! portable statements of [`super::store::Query`]. Besides those, this module does
//! what only SQLite does: the schema and its migrations ([`schema`]), the attached
//! in-memory database `rebuilt` that `verify` rebuilds the projections in,
//! streaming the chain to the verifier, and looking entries up by a field of their
//! JSON payload (`json_extract`).
//!
//! # Locking
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction, which takes SQLite's write
//! lock before reading the head, so two processes can never both extend the same
//! head. Waiting writers retry for up to [`super::BUSY_TIMEOUT`]. The file is in WAL
//! mode so readers (`log`, `verify`) never block a writer.
//!
//! # Compatibility
//!
//! The schema is an append-only list of migrations tracked by `PRAGMA user_version`
//! and applied in one exclusive transaction. A file whose version is newer than this
//! binary knows is refused rather than guessed at.
//!
//! # Failure modes
//!
//! `synchronous=FULL` makes every committed transaction durable before the command
//! reports success. A process killed mid-append leaves either the whole transaction
//! (entries, payloads, projections, checkpoint) or none of it.

mod schema;

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::store::{Backend, Cell, Query, Row};
use crate::error::{Error, Result, StorageError};

/// Wraps a SQLite error with the ledger's path.
pub(crate) fn sql_err(path: &Path) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
    move |source| Error::Storage {
        path: path.to_path_buf(),
        source: StorageError::new(source),
    }
}

fn to_sql(cell: &Cell) -> rusqlite::types::Value {
    match cell {
        Cell::Null => rusqlite::types::Value::Null,
        Cell::Int(n) => rusqlite::types::Value::Integer(*n),
        Cell::Text(t) => rusqlite::types::Value::Text(t.clone()),
    }
}

fn from_sql(value: ValueRef<'_>) -> Cell {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(n) => Cell::Int(n),
        // Real numbers are never stored; show one rather than lose it.
        ValueRef::Real(r) => Cell::Text(r.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Cell::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

fn rows_of(conn: &Connection, path: &Path, sql: &str, args: &[Cell]) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_err(path))?;
    let n = stmt.column_count();
    let params: Vec<rusqlite::types::Value> = args.iter().map(to_sql).collect();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            (0..n)
                .map(|i| r.get_ref(i).map(from_sql))
                .collect::<rusqlite::Result<Vec<Cell>>>()
                .map(|cells| Row { cells })
        })
        .map_err(sql_err(path))?;
    rows.collect::<rusqlite::Result<_>>().map_err(sql_err(path))
}

fn execute_on(conn: &Connection, path: &Path, sql: &str, args: &[Cell]) -> Result<usize> {
    let params: Vec<rusqlite::types::Value> = args.iter().map(to_sql).collect();
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(rusqlite::params_from_iter(params)))
        .map_err(sql_err(path))
}

/// The ledger file, open.
pub(crate) struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    /// Creates a new ledger file (mode 0600), which must not exist yet.
    pub(crate) fn create(path: &Path) -> Result<Db> {
        let db = Db::open_with(path, OpenFlags::default())?;
        {
            use std::os::unix::fs::PermissionsExt;
            // The WAL and shared-memory files SQLite creates later copy this mode.
            fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(db)
    }

    /// Opens an existing ledger file, applying any migrations it lacks.
    pub(crate) fn open(path: &Path) -> Result<Db> {
        Db::open_with(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
    }

    fn open_with(path: &Path, flags: OpenFlags) -> Result<Db> {
        let conn = Connection::open_with_flags(path, flags).map_err(sql_err(path))?;
        conn.busy_timeout(super::BUSY_TIMEOUT)
            .map_err(sql_err(path))?;
        // `rebuilt` holds the copy of the projections that `verify` rebuilds; attached
        // here because SQLite refuses ATTACH inside a transaction.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; \
             ATTACH DATABASE ':memory:' AS rebuilt;",
        )
        .map_err(sql_err(path))?;
        let mut db = Db {
            conn,
            path: path.to_path_buf(),
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&mut self) -> Result<()> {
        let latest = schema::MIGRATIONS.len() as i64;
        let path = self.path.clone();
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql_err(&path))?;
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
            .map_err(sql_err(&path))?;
        // Another process may have migrated while we waited for the lock.
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql_err(&path))?;
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(sql_err(&path))?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(sql_err(&path))?;
        }
        tx.commit().map_err(sql_err(&path))
    }

    /// Starts a write transaction, holding SQLite's write lock from the start.
    pub(crate) fn begin(&mut self) -> Result<DbTx<'_>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&self.path))?;
        Ok(DbTx {
            tx,
            path: &self.path,
        })
    }

    /// Runs `f` on one snapshot of the file (a read transaction): a command appending
    /// meanwhile changes nothing it reads.
    pub(crate) fn snapshot<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(sql_err(&self.path))?;
        let value = f(self)?;
        tx.commit().map_err(sql_err(&self.path))?;
        Ok(value)
    }
}

/// A SQLite connection and the file it is on: the open ledger, or a transaction on
/// it. Both run statements the same way.
trait Connected {
    fn connection(&self) -> &Connection;
    fn file(&self) -> &Path;
}

impl Connected for Db {
    fn connection(&self) -> &Connection {
        &self.conn
    }
    fn file(&self) -> &Path {
        &self.path
    }
}

impl Connected for DbTx<'_> {
    fn connection(&self) -> &Connection {
        &self.tx
    }
    fn file(&self) -> &Path {
        self.path
    }
}

impl<C: Connected> Query for C {
    fn rows(&self, sql: &str, args: &[Cell]) -> Result<Vec<Row>> {
        rows_of(self.connection(), self.file(), sql, args)
    }

    fn execute(&self, sql: &str, args: &[Cell]) -> Result<usize> {
        execute_on(self.connection(), self.file(), sql, args)
    }
}

impl<C: Connected> Backend for C {
    fn path(&self) -> &Path {
        self.file()
    }

    fn stream_chain(
        &self,
        after: i64,
        batch: usize,
        f: &mut (dyn FnMut(Vec<super::verify::Row>) -> Result<()> + Send),
    ) -> Result<()> {
        stream_chain(self.connection(), self.file(), after, batch, f)
    }

    fn entries_with(&self, kinds: &[&str], field: &str, value: &str) -> Result<Vec<(i64, String)>> {
        entries_with(self.connection(), self.file(), kinds, field, value)
    }
}

/// One write transaction on the ledger file.
pub(crate) struct DbTx<'a> {
    tx: Transaction<'a>,
    path: &'a Path,
}

impl DbTx<'_> {
    /// Makes everything done in the transaction durable.
    pub(crate) fn commit(self) -> Result<()> {
        self.tx.commit().map_err(sql_err(self.path))
    }
}

fn entries_with(
    conn: &Connection,
    path: &Path,
    kinds: &[&str],
    field: &str,
    value: &str,
) -> Result<Vec<(i64, String)>> {
    let list = kinds
        .iter()
        .map(|k| format!("'{}'", k.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT e.seq, e.subject FROM entries e JOIN payloads p ON p.seq = e.seq \
         WHERE e.kind IN ({list}) AND json_extract(p.body, ?1) = ?2 ORDER BY e.seq"
    );
    let rows = rows_of(
        conn,
        path,
        &sql,
        &[Cell::Text(field.into()), Cell::Text(value.into())],
    )?;
    rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
}

/// Reads the chain in batches on this thread and hands each batch to `f`: on a second
/// thread, so that reading and checking overlap, once there is more than one batch;
/// a few rows (what was appended since the last check) are checked right here.
fn stream_chain(
    conn: &Connection,
    path: &Path,
    after: i64,
    batch: usize,
    f: &mut (dyn FnMut(Vec<super::verify::Row>) -> Result<()> + Send),
) -> Result<()> {
    use std::sync::mpsc;
    let mut stmt = conn
        .prepare_cached(
            "SELECT e.seq, e.at, e.actor, e.station, e.kind, e.subject, e.commitment, \
             e.prev_hash, e.hash, p.salt, p.body, p.erased IS NOT NULL, p.seq IS NOT NULL, \
             s.signature FROM entries e LEFT JOIN payloads p ON p.seq = e.seq \
             LEFT JOIN signatures s ON s.seq = e.seq WHERE e.seq > ?1 ORDER BY e.seq",
        )
        .map_err(sql_err(path))?;
    let mut rows = stmt.query([after]).map_err(sql_err(path))?;
    let mut first = Vec::with_capacity(batch.min(1024));
    while first.len() < batch {
        match rows.next().map_err(sql_err(path))? {
            Some(r) => first.push(read_chain_row(r).map_err(sql_err(path))?),
            None => return f(first),
        }
    }
    let (tx, rx) = mpsc::sync_channel::<Vec<super::verify::Row>>(2);
    let _ = tx.send(first);
    std::thread::scope(|scope| -> Result<()> {
        let worker = scope.spawn(move || -> Result<()> {
            for chunk in rx {
                f(chunk)?;
            }
            Ok(())
        });
        let mut chunk = Vec::with_capacity(batch);
        let mut read_error = None;
        loop {
            match rows.next() {
                Ok(Some(r)) => match read_chain_row(r) {
                    Ok(row) => chunk.push(row),
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                },
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
            if chunk.len() == batch {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(batch));
                if tx.send(full).is_err() {
                    break; // the checker stopped at a problem
                }
            }
        }
        if !chunk.is_empty() {
            let _ = tx.send(chunk);
        }
        drop(tx);
        worker.join().expect("the verify worker does not panic")?;
        match read_error {
            Some(e) => Err(sql_err(path)(e)),
            None => Ok(()),
        }
    })
}

fn read_chain_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<super::verify::Row> {
    Ok(super::verify::Row {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        station: r.get(3)?,
        kind: r.get(4)?,
        subject: r.get(5)?,
        commitment: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
        salt: r.get(9)?,
        body: r.get(10)?,
        erased: r.get::<_, Option<bool>>(11)?.unwrap_or(false),
        has_payload: r.get(12)?,
        signature: r.get(13)?,
    })
}
