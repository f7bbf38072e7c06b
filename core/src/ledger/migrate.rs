//! Copying a desk's ledger file into the office's database, row for row: every
//! entry, payload, signature and checkpoint as it is (so every hash and signature
//! stays what it was), and the projections with them. The copy is one transaction on
//! the target, which takes the append lock first, and is verified inside it before it
//! commits: it is all there, checked, or not at all.

use super::backend::Db;
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

/// Every table to copy, in order, with the column its rows are paged by and its
/// columns as `db` has them.
pub(crate) fn tables(db: &Db) -> Result<Vec<(&'static str, &'static str, Vec<String>)>> {
    CHAIN
        .iter()
        .chain(TABLES)
        .map(|(table, key)| Ok((*table, *key, db.columns(table)?)))
        .collect()
}

/// Copies every row of `tables` from `from` into `to` (an open transaction on an
/// empty ledger); returns how many rows were copied.
pub(crate) fn copy(
    from: &impl Query,
    tables: &[(&str, &str, Vec<String>)],
    to: &impl Query,
) -> Result<u64> {
    let mut copied = 0u64;
    for (table, key, columns) in tables {
        let list = columns.join(", ");
        if key.contains(',') {
            // Tables keyed by two columns are small: taken whole.
            let rows = from.rows(
                &format!("SELECT {list} FROM main.{table} ORDER BY {key}"),
                &[],
            )?;
            copied += insert(
                to,
                table,
                &list,
                columns.len(),
                rows.into_iter().map(|r| r.cells),
            )?;
            continue;
        }
        let position = columns.iter().position(|c| c == key).unwrap_or(0);
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
            after = rows.last().and_then(|r| r.cells.get(position).cloned());
            copied += insert(
                to,
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
    Ok(copied)
}

/// Inserts `rows` of `width` cells into `table`, many rows per statement.
fn insert(
    tx: &impl Query,
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
