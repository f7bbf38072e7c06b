//! Copying a desk's ledger file into the office's database, row for row: every
//! entry, payload, signature and checkpoint as it is (so every hash and signature
//! stays what it was), and the projections with them. The copy is one transaction on
//! the target, which takes the append lock first: it is all there or not at all.

use super::backend::{Db, DbTx};
use super::project::TABLES;
use super::store::{Cell, Query};
use crate::error::Result;

/// The chain's own tables, with the column each is ordered by; the projections follow
/// in [`TABLES`] order, which is also the order their references need.
const CHAIN: &[(&str, &str)] = &[
    ("entries", "seq"),
    ("payloads", "seq"),
    ("signatures", "seq"),
    ("checkpoints", "size"),
];

/// How many rows are read, and inserted, at a time.
const PAGE: usize = 1000;

/// Copies every row of every table of `from` into `to` (which must be empty), in one
/// transaction; returns how many rows were copied.
pub(crate) fn copy(from: &Db, to: &mut Db) -> Result<u64> {
    let tx = to.begin()?;
    let mut copied = 0u64;
    for (table, key) in CHAIN.iter().chain(TABLES) {
        let columns = from.columns(table)?;
        let list = columns.join(", ");
        if key.contains(',') {
            // Tables keyed by two columns are small: taken whole.
            let rows = from.rows(
                &format!("SELECT {list} FROM main.{table} ORDER BY {key}"),
                &[],
            )?;
            copied += insert(
                &tx,
                table,
                &list,
                columns.len(),
                rows.into_iter().map(|r| r.cells),
            )?;
            continue;
        }
        let mut after: Option<Cell> = None;
        loop {
            let rows = match &after {
                None => from.rows(
                    &format!("SELECT {list} FROM main.{table} ORDER BY {key} LIMIT ?1"),
                    &[Cell::Int(PAGE as i64)],
                )?,
                Some(last) => from.rows(
                    &format!(
                        "SELECT {list} FROM main.{table} WHERE {key} > ?1 ORDER BY {key} LIMIT ?2"
                    ),
                    &[last.clone(), Cell::Int(PAGE as i64)],
                )?,
            };
            let full = rows.len() == PAGE;
            let position = columns.iter().position(|c| c == key).unwrap_or(0);
            after = rows.last().and_then(|r| r.cells.get(position).cloned());
            copied += insert(
                &tx,
                table,
                &list,
                columns.len(),
                rows.into_iter().map(|r| r.cells),
            )?;
            if !full {
                break;
            }
        }
    }
    tx.commit()?;
    Ok(copied)
}

/// Inserts `rows` of `width` cells into `table`, many rows per statement.
fn insert(
    tx: &DbTx<'_>,
    table: &str,
    columns: &str,
    width: usize,
    rows: impl Iterator<Item = Vec<Cell>>,
) -> Result<u64> {
    let rows: Vec<Vec<Cell>> = rows.collect();
    let per_statement = (30_000 / width.max(1)).clamp(1, PAGE);
    let mut count = 0u64;
    for chunk in rows.chunks(per_statement) {
        let values = (0..chunk.len())
            .map(|r| {
                let cells = (1..=width)
                    .map(|c| format!("?{}", r * width + c))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({cells})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let args: Vec<Cell> = chunk.iter().flatten().cloned().collect();
        tx.execute(
            &format!("INSERT INTO main.{table} ({columns}) VALUES {values}"),
            &args,
        )?;
        count += chunk.len() as u64;
    }
    Ok(count)
}
