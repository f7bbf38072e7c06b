//! The backend a ledger is on: a SQLite file on one desk, or the office's PostgreSQL
//! database that several stations share. [`Db`] and [`DbTx`] dispatch the portable
//! statements of [`super::store::Query`] to whichever it is; the few things the two
//! do differently for `verify` (a scratch schema, a table's columns, a record id's
//! parts) are named methods here.

use std::path::Path;

use super::store::{Backend, Cell, Query, Row};
use super::{postgres, sqlite};
use crate::error::Result;

/// An open ledger database.
pub(crate) enum Db {
    /// A ledger file.
    Sqlite(sqlite::Db),
    /// The office's database.
    Postgres(Box<postgres::Db>),
}

/// One write transaction on it.
pub(crate) enum DbTx<'a> {
    /// On a ledger file.
    Sqlite(sqlite::DbTx<'a>),
    /// On the office's database.
    Postgres(postgres::DbTx<'a>),
}

impl Db {
    /// Starts a write transaction that holds the append lock from the start.
    pub(crate) fn begin(&mut self) -> Result<DbTx<'_>> {
        Ok(match self {
            Db::Sqlite(db) => DbTx::Sqlite(db.begin()?),
            Db::Postgres(db) => DbTx::Postgres(db.begin()?),
        })
    }

    /// Runs `f` on one consistent snapshot of the ledger.
    pub(crate) fn snapshot<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        match self {
            Db::Sqlite(db) => db.snapshot(|_| f(self)),
            Db::Postgres(db) => db.snapshot(|_| f(self)),
        }
    }

    /// Creates empty copies of `tables` in a scratch schema, for rebuilding the
    /// projections, and returns the schema's name as statements write it.
    pub(crate) fn scratch(&self, tables: &[&str]) -> Result<&'static str> {
        match self {
            Db::Sqlite(db) => {
                for table in tables {
                    db.execute(&format!("DROP TABLE IF EXISTS rebuilt.{table}"), &[])?;
                    db.execute(
                        &format!(
                            "CREATE TABLE rebuilt.{table} AS SELECT * FROM main.{table} WHERE 0"
                        ),
                        &[],
                    )?;
                }
                Ok("rebuilt")
            }
            Db::Postgres(db) => {
                db.scratch(tables)?;
                // Statements say `rebuilt.`; the backend reads it as its own schema.
                Ok("rebuilt")
            }
        }
    }

    /// The column names of the ledger's `table`, in order.
    pub(crate) fn columns(&self, table: &str) -> Result<Vec<String>> {
        match self {
            Db::Sqlite(db) => db.map(
                "SELECT name FROM pragma_table_info(?1, 'main')",
                &[Cell::Text(table.to_owned())],
                |r| r.get(0),
            ),
            Db::Postgres(db) => db.columns(table),
        }
    }

    /// SQL for the prefix (`CO`) and the number (13) of a record id column `id`.
    pub(crate) fn id_parts(&self, id: &str) -> (String, String) {
        match self {
            Db::Sqlite(_) => (
                format!("substr({id}, 1, instr({id}, '-') - 1)"),
                format!("CAST(substr({id}, instr({id}, '-') + 1) AS INTEGER)"),
            ),
            // An id whose number is not one (a row written behind custody's back)
            // counts as 0, as SQLite's cast makes it, so that verify reports it
            // instead of failing on it.
            Db::Postgres(_) => (
                format!("split_part({id}, '-', 1)"),
                format!(
                    "CASE WHEN split_part({id}, '-', 2) ~ '^[0-9]{{1,18}}$' \
                     THEN CAST(split_part({id}, '-', 2) AS BIGINT) ELSE 0 END"
                ),
            ),
        }
    }

    /// SQL for the text at `path` (field names, outermost first) in the JSON of
    /// `column`, NULL when there is none.
    pub(crate) fn json_text(&self, column: &str, path: &[&str]) -> String {
        match self {
            Db::Sqlite(_) => format!("json_extract({column}, '$.{}')", path.join(".")),
            Db::Postgres(_) => format!("({column}::jsonb #>> '{{{}}}')", path.join(",")),
        }
    }

    /// Whether this is the shared PostgreSQL database.
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Whether this is a read-only copy: a PostgreSQL standby (a streaming replica),
    /// where nothing, not even a temporary table, can be written.
    pub(crate) fn read_only(&self) -> Result<bool> {
        match self {
            Db::Sqlite(_) => Ok(false),
            Db::Postgres(db) => Ok(db
                .value::<bool>("SELECT pg_is_in_recovery()", &[])?
                .unwrap_or(false)),
        }
    }
}

impl DbTx<'_> {
    /// Makes everything done in the transaction durable.
    pub(crate) fn commit(self) -> Result<()> {
        match self {
            DbTx::Sqlite(tx) => tx.commit(),
            DbTx::Postgres(tx) => tx.commit(),
        }
    }
}

impl Query for Db {
    fn rows(&self, sql: &str, args: &[Cell]) -> Result<Vec<Row>> {
        match self {
            Db::Sqlite(db) => db.rows(sql, args),
            Db::Postgres(db) => db.rows(sql, args),
        }
    }

    fn execute(&self, sql: &str, args: &[Cell]) -> Result<usize> {
        match self {
            Db::Sqlite(db) => db.execute(sql, args),
            Db::Postgres(db) => db.execute(sql, args),
        }
    }
}

impl Query for DbTx<'_> {
    fn rows(&self, sql: &str, args: &[Cell]) -> Result<Vec<Row>> {
        match self {
            DbTx::Sqlite(tx) => tx.rows(sql, args),
            DbTx::Postgres(tx) => tx.rows(sql, args),
        }
    }

    fn execute(&self, sql: &str, args: &[Cell]) -> Result<usize> {
        match self {
            DbTx::Sqlite(tx) => tx.execute(sql, args),
            DbTx::Postgres(tx) => tx.execute(sql, args),
        }
    }

    fn execute_all(&self, statements: &[(String, Vec<Cell>)]) -> Result<()> {
        match self {
            DbTx::Sqlite(tx) => tx.execute_all(statements),
            DbTx::Postgres(tx) => tx.execute_all(statements),
        }
    }
}

impl Backend for Db {
    fn path(&self) -> &Path {
        match self {
            Db::Sqlite(db) => db.path(),
            Db::Postgres(db) => db.address(),
        }
    }

    fn stream_chain(
        &self,
        after: i64,
        batch: usize,
        f: &mut (dyn FnMut(Vec<super::verify::Row>) -> Result<()> + Send),
    ) -> Result<()> {
        match self {
            Db::Sqlite(db) => db.stream_chain(after, batch, f),
            Db::Postgres(db) => db.stream_chain(after, batch, f),
        }
    }

    fn entries_with(&self, kinds: &[&str], field: &str, value: &str) -> Result<Vec<(i64, String)>> {
        match self {
            Db::Sqlite(db) => db.entries_with(kinds, field, value),
            Db::Postgres(db) => db.entries_with(kinds, field, value),
        }
    }
}

impl Backend for DbTx<'_> {
    fn path(&self) -> &Path {
        match self {
            DbTx::Sqlite(tx) => tx.path(),
            DbTx::Postgres(tx) => tx.path(),
        }
    }

    fn stream_chain(
        &self,
        after: i64,
        batch: usize,
        f: &mut (dyn FnMut(Vec<super::verify::Row>) -> Result<()> + Send),
    ) -> Result<()> {
        match self {
            DbTx::Sqlite(tx) => tx.stream_chain(after, batch, f),
            DbTx::Postgres(tx) => tx.stream_chain(after, batch, f),
        }
    }

    fn entries_with(&self, kinds: &[&str], field: &str, value: &str) -> Result<Vec<(i64, String)>> {
        match self {
            DbTx::Sqlite(tx) => tx.entries_with(kinds, field, value),
            DbTx::Postgres(tx) => tx.entries_with(kinds, field, value),
        }
    }
}
