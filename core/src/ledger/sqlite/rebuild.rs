//! Rebuilding every projection from the entries and comparing it with the file, row by
//! row: what `ledger verify` does after checking the chain, so that a table edited
//! behind custody's back (a request set to approved, a clerk made a manager, a due date
//! moved) is found even though no entry changed.
//!
//! The copy is built in an in-memory database attached as `rebuilt`, by the same
//! [`project::apply`] the writer uses. Record ids and counters come from the entries in
//! two statements; every other entry is replayed in order. An entry whose payload was
//! erased is replayed from the facts its erasure entry kept; a certificate's signed
//! document is taken from the table and checked against the SHA-256 its entry commits
//! to and against the signature.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Db;
use crate::error::{Error, Result};
use crate::keys::StationPublicKey;
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
const PROJECTING_KINDS: &[&str] = &[
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

fn sql(e: rusqlite::Error) -> Error {
    Error::Tampered {
        seq: 0,
        problem: format!("cannot rebuild the projections: {e}"),
    }
}

/// Rebuilds the projections into the attached database `rebuilt` and returns every row
/// that differs from the file's, with every certificate whose document does not match
/// its entry or its signature. The chain itself must have verified first.
pub(crate) fn compare(db: &Db, key: &StationPublicKey) -> Result<(Vec<RowMismatch>, i64)> {
    let conn = &db.conn;
    for (table, _) in TABLES {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS rebuilt.{table}; \
             CREATE TABLE rebuilt.{table} AS SELECT * FROM main.{table} WHERE 0;"
        ))
        .map_err(sql)?;
    }
    let (mut mismatches, mut rows) = compare_records(conn)?;
    let (facts, unrebuildable) = erasure_facts(conn)?;
    replay(db, &facts)?;

    for (table, key_columns) in TABLES {
        if matches!(*table, "records" | "counters") {
            continue;
        }
        mismatches.extend(compare_table(conn, table, key_columns, &unrebuildable)?);
        rows += conn
            .query_row(&format!("SELECT COUNT(*) FROM rebuilt.{table}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(sql)?;
    }
    mismatches.extend(check_certificates(conn, key)?);
    Ok((mismatches, rows))
}

/// Compares `records` and `counters` with the entries directly (one row per
/// record-creating entry, each prefix's counter the highest number used): two
/// anti-joins on the primary keys instead of a copy of a million rows.
fn compare_records(conn: &Connection) -> Result<(Vec<RowMismatch>, i64)> {
    let kinds = RECORD_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let list = |query: &str| -> Result<Vec<String>> {
        let mut stmt = conn.prepare(query).map_err(sql)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(sql)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql)
    };
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
    let count =
        |query: &str| -> Result<i64> { conn.query_row(query, [], |r| r.get(0)).map_err(sql) };
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
    let highest = "SELECT substr(id, 1, instr(id, '-') - 1) AS prefix, \
                   MAX(CAST(substr(id, instr(id, '-') + 1) AS INTEGER)) AS last \
                   FROM main.records GROUP BY 1";
    for prefix in list(&format!(
        "SELECT prefix FROM (SELECT prefix, last FROM main.counters EXCEPT {highest}) \
         UNION SELECT prefix FROM ({highest} EXCEPT SELECT prefix, last FROM main.counters) \
         ORDER BY 1"
    ))? {
        out.push(mismatch(
            "counters",
            prefix,
            "the counter is not the highest record number of its kind",
        ));
    }
    let rows: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM main.records) + (SELECT COUNT(*) FROM main.counters)",
            [],
            |r| r.get(0),
        )
        .map_err(sql)?;
    Ok((out, rows))
}

/// The facts every erasure kept of the payloads it erased, by sequence number; and
/// the items erased before erasures kept facts (their rows cannot be rebuilt).
fn erasure_facts(conn: &Connection) -> Result<(BTreeMap<i64, Value>, BTreeSet<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT p.body FROM main.entries e JOIN main.payloads p ON p.seq = e.seq \
             WHERE e.kind = 'payloads-erased' AND p.body IS NOT NULL ORDER BY e.seq",
        )
        .map_err(sql)?;
    let bodies = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql)?;
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

/// Replays every projecting entry into `rebuilt`, in order.
fn replay(db: &Db, facts: &BTreeMap<i64, Value>) -> Result<()> {
    let conn = &db.conn;
    let kinds = PROJECTING_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn
        .prepare(&format!(
            "SELECT e.seq, e.at, e.actor, e.kind, e.subject, p.body, c.body, c.signature, c.issued_at \
             FROM main.entries e JOIN main.payloads p ON p.seq = e.seq \
             LEFT JOIN main.certificates c ON c.id = e.subject AND e.kind IN ('certificate', 'cert-sign-off') \
             WHERE e.kind IN ({kinds}) ORDER BY e.seq"
        ))
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let seq: i64 = row.get(0).map_err(sql)?;
        let at: String = row.get(1).map_err(sql)?;
        let actor: String = row.get(2).map_err(sql)?;
        let kind: String = row.get(3).map_err(sql)?;
        let subject: String = row.get(4).map_err(sql)?;
        let body: Option<String> = row.get(5).map_err(sql)?;
        let payload = match body {
            Some(body) => serde_json::from_str(&body).map_err(|e| Error::Tampered {
                seq,
                problem: format!("its payload is not JSON: {e}"),
            })?,
            None => match facts.get(&seq) {
                Some(kept) => kept.clone(),
                None => continue,
            },
        };
        let attachment = match row.get::<_, Option<String>>(6).map_err(sql)? {
            Some(document) => Some(Attachment {
                body: document,
                signature: row.get(7).map_err(sql)?,
                issued_at: row.get(8).map_err(sql)?,
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
        project::apply_effects(db, "rebuilt", fact, &payload, attachment.as_ref())?;
    }
    Ok(())
}

/// The rows of `table` that differ between the file and the rebuilt copy.
fn compare_table(
    conn: &Connection,
    table: &str,
    key_columns: &str,
    unrebuildable: &BTreeSet<String>,
) -> Result<Vec<RowMismatch>> {
    let columns = columns_of(conn, table)?;
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
    let in_file = rows_except(conn, table, "main", "rebuilt", columns.len())?;
    let from_entries = rows_except(conn, table, "rebuilt", "main", columns.len())?;
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

/// The column names of `table`, in order.
fn columns_of(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}', 'main')"
        ))
        .map_err(sql)?;
    stmt.query_map([], |r| r.get(0))
        .map_err(sql)?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql)
}

/// The rows of `table` in schema `from` that schema `other` lacks, as JSON values.
fn rows_except(
    conn: &Connection,
    table: &str,
    from: &str,
    other: &str,
    width: usize,
) -> Result<Vec<Vec<Value>>> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT * FROM {from}.{table} EXCEPT SELECT * FROM {other}.{table}"
        ))
        .map_err(sql)?;
    let rows = stmt
        .query_map([], |r| {
            (0..width)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => Value::Null,
                        rusqlite::types::ValueRef::Integer(v) => Value::from(v),
                        rusqlite::types::ValueRef::Real(v) => Value::from(v),
                        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                            Value::String(String::from_utf8_lossy(t).into_owned())
                        }
                    })
                })
                .collect::<rusqlite::Result<Vec<Value>>>()
        })
        .map_err(sql)?;
    rows.collect::<rusqlite::Result<_>>().map_err(sql)
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "empty".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Every certificate whose stored document does not hash to the SHA-256 its entries
/// commit to, does not name itself, or does not carry the station's signature.
fn check_certificates(conn: &Connection, key: &StationPublicKey) -> Result<Vec<RowMismatch>> {
    let mut stmt = conn
        .prepare("SELECT id, body, signature, sha256, issued_at FROM main.certificates ORDER BY id")
        .map_err(sql)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body, signature, sha256, issued_at) = row.map_err(sql)?;
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
        if let Err(why) = key.verify(body.as_bytes(), &signature) {
            out.push(mismatch(format!(
                "its signature is not the station's: {why}"
            )));
        }
    }
    Ok(out)
}
