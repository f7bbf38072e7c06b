//! Signed certificates: a canonical JSON document plus a detached minisign signature
//! by the station key, so that anyone can check one with
//! `minisign -V -p station.pub -m CERT.json` without trusting custody.
//!
//! Certificates are kept in the ledger database (table `certificates`, written in the
//! same transaction as the entry that issues them, which commits to the document's
//! SHA-256) and exported on demand as `FILE` and `FILE.minisig`.

use std::path::Path;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::keys::StationKey;
use crate::ledger::{RecordId, Writer};
use crate::station::Station;

/// A certificate as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// `EC-5` (erasure) or `DC-2` (disposal).
    pub id: String,
    /// `erasure` or `disposal`.
    pub kind: String,
    /// The record it certifies (a wipe `WP-…`, a retained item `RT-…`).
    pub subject: String,
    /// The medium's serial number, when there is one.
    pub serial: Option<String>,
    /// The outcome (`erased`, `failed`, `interrupted`, `disposed`).
    pub status: String,
    /// When it was issued.
    pub issued_at: String,
    /// The canonical JSON document.
    pub body: String,
    /// The minisign signature over `body`.
    pub signature: String,
    /// SHA-256 of `body`, hex.
    pub sha256: String,
}

/// What [`issue_in`] needs besides the document.
pub(crate) struct Issue<'a> {
    pub(crate) actor: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) prefix: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) serial: Option<&'a str>,
    pub(crate) status: &'a str,
}

/// Issues a certificate inside a write transaction: allocates its id, puts the id and
/// issue time into `document`, signs the canonical text, stores it, and appends a
/// `certificate` entry that commits to its SHA-256.
pub(crate) fn issue_in(
    w: &mut Writer<'_>,
    key: &StationKey,
    issue: Issue<'_>,
    mut document: Value,
) -> Result<Certificate> {
    let id = w.next_id(issue.prefix)?;
    let issued_at = crate::clock::stamp(crate::clock::now());
    document["certificate_id"] = Value::String(id.to_string());
    document["issued_at"] = Value::String(issued_at.clone());
    let body = crate::canon::to_string(&document)?;
    let sha256 = hex::encode(Sha256::digest(body.as_bytes()));
    let signature = key.sign(
        body.as_bytes(),
        &format!("custody {} certificate {id} sha256={sha256}", issue.kind),
    )?;
    let appended = w.append(
        issue.actor,
        "certificate",
        id.as_str(),
        &json!({
            "certificate_kind": issue.kind, "subject": issue.subject, "serial": issue.serial,
            "status": issue.status, "sha256": sha256, "key_id": key.public().key_id(),
        }),
    )?;
    w.tx()
        .execute(
            "INSERT INTO records(id, kind, seq) VALUES (?1, 'certificate', ?2)",
            params![id, appended.seq],
        )
        .map_err(w.sql_err())?;
    w.tx()
        .execute(
            "INSERT INTO certificates(id, kind, subject, serial, status, issued_at, body, signature, sha256) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![id, issue.kind, issue.subject, issue.serial, issue.status, issued_at, body, signature, sha256],
        )
        .map_err(w.sql_err())?;
    Ok(Certificate {
        id: id.to_string(),
        kind: issue.kind.to_string(),
        subject: issue.subject.to_string(),
        serial: issue.serial.map(str::to_string),
        status: issue.status.to_string(),
        issued_at,
        body,
        signature,
        sha256,
    })
}

const SELECT: &str = "SELECT id, kind, subject, serial, status, issued_at, body, signature, sha256 FROM certificates";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Certificate> {
    Ok(Certificate {
        id: r.get(0)?,
        kind: r.get(1)?,
        subject: r.get(2)?,
        serial: r.get(3)?,
        status: r.get(4)?,
        issued_at: r.get(5)?,
        body: r.get(6)?,
        signature: r.get(7)?,
        sha256: r.get(8)?,
    })
}

impl Station {
    /// Every certificate, oldest first.
    pub fn certificates(&self) -> Result<Vec<Certificate>> {
        let conn = self.ledger.conn();
        let mut stmt = conn
            .prepare(&format!("{SELECT} ORDER BY issued_at"))
            .map_err(Error::sqlite(self.ledger.path()))?;
        let rows = stmt
            .query_map([], from_row)
            .map_err(Error::sqlite(self.ledger.path()))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(Error::sqlite(self.ledger.path()))
    }

    /// One certificate.
    pub fn certificate(&self, id: &RecordId) -> Result<Certificate> {
        self.ledger
            .conn()
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], from_row)
            .optional()
            .map_err(Error::sqlite(self.ledger.path()))?
            .ok_or_else(|| {
                Error::NoSuchRecord(format!(
                    "{id} (no certificate with that id; see `custody cert list`)"
                ))
            })
    }

    /// Writes a certificate's document to `path` and its signature to
    /// `path.minisig`; neither may exist yet.
    pub fn export_certificate_json(&self, id: &RecordId, path: &Path) -> Result<()> {
        let cert = self.certificate(id)?;
        let sig_path = {
            let mut p = path.as_os_str().to_owned();
            p.push(".minisig");
            std::path::PathBuf::from(p)
        };
        for p in [path, sig_path.as_path()] {
            if p.exists() {
                return Err(Error::Invalid(format!(
                    "{} exists already; choose another name",
                    p.display()
                )));
            }
        }
        crate::config::write_atomic(path, cert.body.as_bytes())?;
        crate::config::write_atomic(&sig_path, cert.signature.as_bytes())?;
        Ok(())
    }
}
