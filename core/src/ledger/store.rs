//! The seam between the ledger and the database that keeps it.
//!
//! Workflows and the ledger read and write through [`Query`], with statements in
//! portable SQL (numbered parameters `?1`, standard joins; nothing only one engine
//! understands) and values as [`Cell`]s: text, integers, booleans and NULL. A backend
//! (today [`super::sqlite`]; PostgreSQL next) runs them on its connection or inside
//! its transaction. What only one engine can do — SQLite's `json_extract`, attaching
//! an in-memory database to rebuild the projections, streaming a million rows to the
//! verifier — is a named method of that backend, never SQL in a workflow.
//!
//! The hash chain, commitments, checkpoints and the meaning of every projection row
//! are computed above this seam, so that no backend can compute them differently.

use std::fmt;

use crate::error::Result;
use crate::ledger::RecordId;

/// One value of a row, or a parameter of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    /// SQL NULL.
    Null,
    /// An integer (booleans are stored as 0 and 1).
    Int(i64),
    /// Text.
    Text(String),
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("empty"),
            Cell::Int(n) => write!(f, "{n}"),
            Cell::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// A value that can be a statement's parameter.
pub(crate) trait ToCell {
    /// The value as a cell.
    fn to_cell(&self) -> Cell;
}

impl ToCell for Cell {
    fn to_cell(&self) -> Cell {
        self.clone()
    }
}

impl ToCell for str {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.to_owned())
    }
}

impl ToCell for String {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.clone())
    }
}

impl ToCell for RecordId {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.as_str().to_owned())
    }
}

impl ToCell for crate::clock::Timestamp {
    fn to_cell(&self) -> Cell {
        Cell::Text(self.ledger())
    }
}

impl ToCell for i64 {
    fn to_cell(&self) -> Cell {
        Cell::Int(*self)
    }
}

impl ToCell for u32 {
    fn to_cell(&self) -> Cell {
        Cell::Int(i64::from(*self))
    }
}

impl ToCell for u64 {
    fn to_cell(&self) -> Cell {
        // Sizes and counts stay far below 2^63; saturating keeps a corrupt value
        // visible instead of wrapping it negative.
        Cell::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToCell for usize {
    fn to_cell(&self) -> Cell {
        Cell::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToCell for bool {
    fn to_cell(&self) -> Cell {
        Cell::Int(i64::from(*self))
    }
}

impl<T: ToCell + ?Sized> ToCell for &T {
    fn to_cell(&self) -> Cell {
        (**self).to_cell()
    }
}

impl<T: ToCell> ToCell for Option<T> {
    fn to_cell(&self) -> Cell {
        self.as_ref().map_or(Cell::Null, ToCell::to_cell)
    }
}

/// Parameters for a statement: `args![a, b, c]`.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::ledger::store::ToCell::to_cell(&$value)),*][..]
    };
}
pub(crate) use args;

/// A value that can be read from a cell.
pub(crate) trait FromCell: Sized {
    /// Reads the cell, or says what it held instead.
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String>;
}

impl FromCell for String {
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String> {
        match cell {
            Cell::Text(t) => Ok(t.clone()),
            other => Err(format!("expected text, found {other}")),
        }
    }
}

impl FromCell for RecordId {
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String> {
        let text = String::from_cell(cell)?;
        RecordId::parse(&text).map_err(|e| e.to_string())
    }
}

impl FromCell for crate::clock::Timestamp {
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String> {
        let text = String::from_cell(cell)?;
        crate::clock::Timestamp::parse(&text)
            // The text itself says more than the parser's error.
            .map_err(|_| format!("expected a time, found {text:?}"))
    }
}

impl FromCell for i64 {
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String> {
        match cell {
            Cell::Int(n) => Ok(*n),
            other => Err(format!("expected an integer, found {other}")),
        }
    }
}

impl FromCell for u64 {
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String> {
        let n = i64::from_cell(cell)?;
        // The value itself says more than the conversion error.
        u64::try_from(n).map_err(|_| format!("expected a count, found {n}"))
    }
}

impl FromCell for u32 {
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String> {
        let n = i64::from_cell(cell)?;
        // The value itself says more than the conversion error.
        u32::try_from(n).map_err(|_| format!("expected a small count, found {n}"))
    }
}

impl FromCell for bool {
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String> {
        match cell {
            Cell::Int(0) => Ok(false),
            Cell::Int(1) => Ok(true),
            other => Err(format!("expected 0 or 1, found {other}")),
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: &Cell) -> std::result::Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// One row of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) cells: Vec<Cell>,
}

impl Row {
    /// Column `index`, read as `T`; a cell of another type is a damaged table.
    pub(crate) fn get<T: FromCell>(&self, index: usize) -> Result<T> {
        let cell = self.cells.get(index).unwrap_or(&Cell::Null);
        T::from_cell(cell).map_err(|problem| crate::Error::Tampered {
            seq: 0,
            problem: format!(
                "a table holds a value of the wrong kind in column {index}: {problem}"
            ),
        })
    }
}

/// What every backend does with portable SQL, on its connection or in its
/// transaction.
pub(crate) trait Query {
    /// Every row `sql` returns for `args`.
    fn rows(&self, sql: &str, args: &[Cell]) -> Result<Vec<Row>>;

    /// Runs a statement that returns no rows; returns how many rows it changed.
    fn execute(&self, sql: &str, args: &[Cell]) -> Result<usize>;

    /// Runs statements that return no rows, in order, all or none: an entry's rows
    /// with the projections it registers. PostgreSQL runs them as one statement, in
    /// one round trip, where none sees another's rows (foreign keys are checked
    /// once all are written); statements that read what an earlier one wrote do not
    /// belong here.
    fn execute_all(&self, statements: &[(String, Vec<Cell>)]) -> Result<()> {
        for (sql, args) in statements {
            self.execute(sql, args)?;
        }
        Ok(())
    }

    /// The first row `sql` returns, if any.
    fn row(&self, sql: &str, args: &[Cell]) -> Result<Option<Row>> {
        Ok(self.rows(sql, args)?.into_iter().next())
    }

    /// Every row mapped by `f`.
    fn map<T>(&self, sql: &str, args: &[Cell], f: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>>
    where
        Self: Sized,
    {
        self.rows(sql, args)?.iter().map(f).collect()
    }

    /// The first row mapped by `f`, if there is one.
    fn one<T>(&self, sql: &str, args: &[Cell], f: impl Fn(&Row) -> Result<T>) -> Result<Option<T>>
    where
        Self: Sized,
    {
        self.row(sql, args)?.as_ref().map(f).transpose()
    }

    /// The first column of the first row, if there is one.
    fn value<T: FromCell>(&self, sql: &str, args: &[Cell]) -> Result<Option<T>>
    where
        Self: Sized,
    {
        match self.row(sql, args)? {
            Some(row) => row.get(0).map(Some),
            None => Ok(None),
        }
    }
}

/// What a backend does besides portable statements: the things only it can do fast
/// or at all, named.
pub(crate) trait Backend: Query {
    /// The ledger's file (or the database's address), for messages.
    fn path(&self) -> &std::path::Path;

    /// Reads the chain in order from the entry after `after`, in batches of `batch`
    /// rows, handing each batch to `f` (possibly on another thread, so that reading and
    /// checking overlap).
    fn stream_chain(
        &self,
        after: i64,
        batch: usize,
        f: &mut (dyn FnMut(Vec<super::verify::Row>) -> Result<()> + Send),
    ) -> Result<()>;

    /// Entries of `kinds` whose JSON payload has `value` at `field` (a JSON path such
    /// as `$.request`), oldest first: their sequence numbers and subjects.
    fn entries_with(&self, kinds: &[&str], field: &str, value: &str) -> Result<Vec<(i64, String)>>;
}
