//! Rebuilding every projection from the entries and comparing it with the file, row by
//! row: what `ledger verify` does after checking the chain, so that a table edited
//! behind custody's back (a request set to approved, a clerk made a manager, a due date
//! moved) is found even though no entry changed.
//!
//! The copy is built in a scratch schema (an in-memory database attached as `rebuilt`
//! on SQLite, the session's temporary schema on PostgreSQL), by the same
//! [`project::apply_effects`] the writer uses. Record ids and counters come from the entries in
//! two statements; every other entry is replayed in order. An entry whose payload was
//! erased is replayed from the facts its erasure entry kept; a certificate's signed
//! document is taken from the table and checked against the SHA-256 its entry commits
//! to and against the signature.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::backend::Db;
use super::stations::Stations;
use super::store::{Cell, Query, Row};
use crate::error::{Error, Result};
use crate::ledger::project::{self, Attachment, Fact, RECORD_KINDS, TABLES};

/// One projection row that the entries do not back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowMismatch {
    /// The table.
    pub table: String,
    /// The row's key (`MD-1`, `sato`, `RT-2 /path`).
    pub key: String,
    /// What differs, in words.
    pub problem: String,
}

impl std::fmt::Display for RowMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.table, self.key, self.problem)
    }
}

/// The kinds whose replay touches more than `records` and `counters`.
pub(crate) const PROJECTING_KINDS: &[&str] = &[
    "init",
    "person-add",
    "person-role",
    "person-remove",
    "key-enroll",
    "key-confirm",
    "request",
    "carryout-request",
    "download-request",
    "approve",
    "reject",
    "send",
    "contact-add",
    "contact-replace",
    "contact-remove",
    "media-add",
    "media-retire",
    "carryout-out",
    "carryout-return",
    "carryout-lost",
    "handover",
    "handover-confirm",
    "operation",
    "operation-check",
    "incident",
    "incident-update",
    "file-add",
    "file-update",
    "download-deleted",
    "certificate",
    "cert-sign-off",
    "retain",
    "retain-event",
    "retain-start",
    "batch",
    "batch-close",
    "retain-hold",
    "retain-release",
    "disposal",
    "payloads-erased",
];

/// Rebuilds the projections into the attached database `rebuilt` and returns every row
/// that differs from the file's, with every certificate whose document does not match
/// its entry or its signature. The chain itself must have verified first.
pub(crate) fn compare(db: &Db, stations: &Stations) -> Result<(Vec<RowMismatch>, i64)> {
    let tables: Vec<&str> = TABLES.iter().map(|(table, _)| *table).collect();
    let scratch = db.scratch(&tables)?;
    let (mut mismatches, mut rows) = compare_records(db)?;
    let (facts, unrebuildable) = erasure_facts(db)?;
    replay(db, scratch, &facts)?;

    for (table, key_columns) in TABLES {
        if matches!(*table, "records" | "counters") {
            continue;
        }
        mismatches.extend(compare_table(
            db,
            scratch,
            table,
            key_columns,
            &unrebuildable,
        )?);
        rows += db
            .value::<i64>(&format!("SELECT COUNT(*) FROM {scratch}.{table}"), &[])?
            .unwrap_or(0);
    }
    mismatches.extend(check_certificates(db, stations)?);
    Ok((mismatches, rows))
}

/// Compares `records` and `counters` with the entries directly (one row per
/// record-creating entry, each prefix's counter the highest number used): two
/// anti-joins on the primary keys instead of a copy of a million rows.
fn compare_records(db: &Db) -> Result<(Vec<RowMismatch>, i64)> {
    let kinds = RECORD_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let list = |query: &str| -> Result<Vec<String>> { db.map(query, &[], |r| r.get(0)) };
    let mut out = Vec::new();
    let mismatch = |table: &str, key: String, problem: &str| RowMismatch {
        table: table.into(),
        key,
        problem: problem.into(),
    };
    for id in list(&format!(
        "SELECT r.id FROM main.records r WHERE NOT EXISTS (SELECT 1 FROM main.entries e \
         WHERE e.seq = r.seq AND e.subject = r.id AND e.kind = r.kind AND e.kind IN ({kinds})) \
         ORDER BY r.id"
    ))? {
        out.push(mismatch(
            "records",
            id,
            "the row is in the table but no entry made it",
        ));
    }
    // Every row matched a distinct entry (ids are unique, and so are sequence
    // numbers); as many rows as record-making entries means none is missing. Only
    // when the counts differ are the missing ones looked for.
    let count = |query: &str| -> Result<i64> { Ok(db.value(query, &[])?.unwrap_or(0)) };
    let made = count(&format!(
        "SELECT COUNT(*) FROM main.entries WHERE kind IN ({kinds})"
    ))?;
    let held = count("SELECT COUNT(*) FROM main.records")?;
    if made != held || !out.is_empty() {
        for id in list(&format!(
            "SELECT e.subject FROM main.entries e WHERE e.kind IN ({kinds}) AND NOT EXISTS \
             (SELECT 1 FROM main.records r WHERE r.id = e.subject AND r.seq = e.seq AND r.kind = e.kind) \
             ORDER BY e.seq"
        ))? {
            out.push(mismatch(
                "records",
                id,
                "the entries make this row but the table lacks it (or holds it differently)",
            ));
        }
    }
    let (prefix, number) = db.id_parts("id");
    let highest =
        format!("SELECT {prefix} AS prefix, MAX({number}) AS last FROM main.records GROUP BY 1");
    for prefix in list(&format!(
        "SELECT prefix FROM (SELECT prefix, last FROM main.counters EXCEPT {highest}) AS stale \
         UNION SELECT prefix FROM ({highest} EXCEPT SELECT prefix, last FROM main.counters) AS missing \
         ORDER BY 1"
    ))? {
        out.push(mismatch(
            "counters",
            prefix,
            "the counter is not the highest record number of its kind",
        ));
    }
    let rows =
        count("SELECT (SELECT COUNT(*) FROM main.records) + (SELECT COUNT(*) FROM main.counters)")?;
    Ok((out, rows))
}

/// The facts every erasure kept of the payloads it erased, by sequence number; and
/// the items erased before erasures kept facts (their rows cannot be rebuilt).
fn erasure_facts(db: &Db) -> Result<(BTreeMap<i64, Value>, BTreeSet<String>)> {
    let bodies: Vec<String> = db.map(
        "SELECT p.body FROM main.entries e JOIN main.payloads p ON p.seq = e.seq \
         WHERE e.kind = 'payloads-erased' AND p.body IS NOT NULL ORDER BY e.seq",
        &[],
        |r| r.get(0),
    )?;
    let mut facts = BTreeMap::new();
    let mut unrebuildable = BTreeSet::new();
    for body in bodies {
        let Ok(value) = serde_json::from_str::<Value>(&body) else {
            continue;
        };
        match value.get("facts").and_then(Value::as_object) {
            Some(kept) => {
                for (seq, fact) in kept {
                    if let Ok(seq) = seq.parse::<i64>() {
                        facts.insert(seq, fact.clone());
                    }
                }
            }
            None => {
                for item in value
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(item) = item.as_str() {
                        unrebuildable.insert(item.to_owned());
                    }
                }
            }
        }
    }
    Ok((facts, unrebuildable))
}

/// Replays every projecting entry into `scratch`, in order, a page at a time.
fn replay(db: &Db, scratch: &str, facts: &BTreeMap<i64, Value>) -> Result<()> {
    const PAGE: i64 = 4096;
    let kinds = PROJECTING_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT e.seq, e.at, e.actor, e.kind, e.subject, p.body, c.body, c.signature, c.issued_at \
         FROM main.entries e JOIN main.payloads p ON p.seq = e.seq \
         LEFT JOIN main.certificates c ON c.id = e.subject AND e.kind IN ('certificate', 'cert-sign-off') \
         WHERE e.kind IN ({kinds}) AND e.seq > ?1 ORDER BY e.seq LIMIT ?2"
    );
    let mut after = 0i64;
    loop {
        let rows = db.rows(&sql, &[Cell::Int(after), Cell::Int(PAGE)])?;
        for row in &rows {
            after = row.get(0)?;
            replay_one(db, scratch, facts, row)?;
        }
        if (rows.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

fn replay_one(db: &Db, scratch: &str, facts: &BTreeMap<i64, Value>, row: &Row) -> Result<()> {
    let seq: i64 = row.get(0)?;
    let at: String = row.get(1)?;
    let actor: String = row.get(2)?;
    let kind: String = row.get(3)?;
    let subject: String = row.get(4)?;
    let body: Option<String> = row.get(5)?;
    let payload = match body {
        Some(body) => serde_json::from_str(&body).map_err(|e| Error::Tampered {
            seq,
            problem: format!("its payload is not JSON: {e}"),
        })?,
        None => match facts.get(&seq) {
            Some(kept) => kept.clone(),
            None => return Ok(()),
        },
    };
    let attachment = match row.get::<Option<String>>(6)? {
        Some(document) => Some(Attachment {
            body: document,
            signature: row.get(7)?,
            issued_at: row.get(8)?,
        }),
        None => None,
    };
    let fact = Fact {
        seq,
        at: &at,
        actor: &actor,
        kind: &kind,
        subject: &subject,
    };
    project::apply_effects(db, scratch, fact, &payload, attachment.as_ref())
}

/// The rows of `table` that differ between the file and the rebuilt copy.
fn compare_table(
    db: &Db,
    scratch: &str,
    table: &str,
    key_columns: &str,
    unrebuildable: &BTreeSet<String>,
) -> Result<Vec<RowMismatch>> {
    let columns = db.columns(table)?;
    let keys: Vec<&str> = key_columns.split(", ").collect();
    let key_of = |values: &[Value]| -> String {
        keys.iter()
            .filter_map(|k| columns.iter().position(|c| c == k))
            .map(|i| match &values[i] {
                Value::String(s) => s.clone(),
                other => show(other),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let in_file = rows_except(db, table, "main", scratch)?;
    let from_entries = rows_except(db, table, scratch, "main")?;
    let skip = |row: &[Value]| -> bool {
        // Rows of items erased before erasures kept facts cannot be rebuilt.
        !unrebuildable.is_empty()
            && row
                .iter()
                .any(|v| v.as_str().is_some_and(|s| unrebuildable.contains(s)))
    };
    let mismatch = |key: String, problem: String| RowMismatch {
        table: table.to_owned(),
        key,
        problem,
    };
    let mut out = Vec::new();
    for row in in_file.iter().filter(|r| !skip(r)) {
        let key = key_of(row);
        let problem = match from_entries.iter().find(|other| key_of(other) == key) {
            Some(other) => columns
                .iter()
                .zip(row.iter().zip(other))
                .filter(|(_, (a, b))| a != b)
                .map(|(c, (a, b))| {
                    format!(
                        "{c} is {} in the table but {} by the ledger",
                        show(a),
                        show(b)
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            None => "the row is in the table but no entry made it".into(),
        };
        out.push(mismatch(key, problem));
    }
    for row in from_entries.iter().filter(|r| !skip(r)) {
        let key = key_of(row);
        if !in_file.iter().any(|other| key_of(other) == key) {
            out.push(mismatch(
                key,
                "the entries make this row but the table lacks it".into(),
            ));
        }
    }
    Ok(out)
}

/// The rows of `table` in schema `from` that schema `other` lacks, as JSON values.
fn rows_except(db: &Db, table: &str, from: &str, other: &str) -> Result<Vec<Vec<Value>>> {
    db.map(
        &format!("SELECT * FROM {from}.{table} EXCEPT SELECT * FROM {other}.{table}"),
        &[],
        |r| {
            Ok(r.cells
                .iter()
                .map(|cell| match cell {
                    Cell::Null => Value::Null,
                    Cell::Int(v) => Value::from(*v),
                    Cell::Text(t) => Value::String(t.clone()),
                })
                .collect())
        },
    )
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "empty".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Every certificate whose stored document does not hash to the SHA-256 its entries
/// commit to, does not name itself, or does not carry the signature of a station
/// registered in the ledger.
fn check_certificates(db: &Db, stations: &Stations) -> Result<Vec<RowMismatch>> {
    let rows = db.map(
        "SELECT id, body, signature, sha256, issued_at FROM main.certificates ORDER BY id",
        &[],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body, signature, sha256, issued_at) = row;
        let mismatch = |problem: String| RowMismatch {
            table: "certificates".into(),
            key: id.clone(),
            problem,
        };
        if hex::encode(Sha256::digest(body.as_bytes())) != sha256 {
            out.push(mismatch(
                "its document does not hash to the SHA-256 its entry records (the document was changed)".into(),
            ));
            continue;
        }
        let document: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if document.get("certificate_id").and_then(Value::as_str) != Some(id.as_str())
            || document.get("issued_at").and_then(Value::as_str) != Some(issued_at.as_str())
        {
            out.push(mismatch(
                "its document names another certificate or another issue time".into(),
            ));
        }
        let signed = crate::keys::signature_key_id(&signature).and_then(|key_id| {
            let (_, joined) = stations
                .by_key_id(&key_id)
                .ok_or_else(|| format!("key {key_id} is not a registered station's"))?;
            joined.key.verify(body.as_bytes(), &signature)
        });
        if let Err(why) = signed {
            out.push(mismatch(format!(
                "its signature is not the station's: {why}"
            )));
        }
    }
    Ok(out)
}
