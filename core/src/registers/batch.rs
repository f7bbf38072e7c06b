//! Contractor batches (issue 18): media handed to a disposal contractor together,
//! with the serial-level manifest, a handover register entry for each medium, and a
//! date by which the contractor's certificates are due. A vendor's certificate
//! accepted by a manager, or a recorded destruction, accounts for a serial; the audit
//! lists every serial past the date without one; a batch closes only when every
//! serial is accounted for.

use serde::Serialize;
use serde_json::json;

use crate::clock::Timestamp;
use crate::error::{Error, Field, RecordKind, Result, Rule};
use crate::ledger::store::{Query, Row, args};
use crate::ledger::{RecordId, Writer};
use crate::people::Role;
use crate::registers::media::{self, MediaStatus};
use crate::registers::requests::one_line;
use crate::station::Station;

/// One medium of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchItem {
    /// The medium.
    pub media: RecordId,
    /// Its serial number.
    pub serial: String,
    /// The handover that took it to the contractor.
    pub handover: RecordId,
    /// What accounts for it: the certificate, or the medium's destruction; none yet.
    pub accounted_by: Option<String>,
}

/// A batch as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    /// `BT-2`.
    pub id: RecordId,
    /// The disposal contractor.
    pub contractor: String,
    /// The day by which every certificate is due.
    pub due_on: String,
    /// When it was handed over, and by whom.
    pub created_at: Timestamp,
    /// Who handed it over.
    pub created_by: String,
    /// When it was closed, once every serial was accounted for.
    pub closed_at: Option<Timestamp>,
    /// Its media.
    pub items: Vec<BatchItem>,
}

const SELECT: &str =
    "SELECT id, contractor, due_on, created_at, created_by, closed_at FROM disposal_batches";

fn from_row(r: &Row) -> Result<Batch> {
    Ok(Batch {
        id: r.get(0)?,
        contractor: r.get(1)?,
        due_on: r.get(2)?,
        created_at: r.get(3)?,
        created_by: r.get(4)?,
        closed_at: r.get(5)?,
        items: Vec::new(),
    })
}

fn no_batch(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Batch,
        id: id.to_string(),
    }
}

/// What accounts for serial `serial` of medium `media` handed over in the batch made
/// by entry `since`, by the proven entries: a certificate issued after the batch that
/// proves its erasure (a vendor's one accepted by a manager), or the medium's
/// recorded destruction.
fn accounted_in(
    w: &Writer<'_>,
    media: &RecordId,
    serial: &str,
    since: i64,
) -> Result<Option<String>> {
    let mut prover = w.prover();
    for e in prover.about(media.as_str())? {
        let reason = e
            .payload
            .as_ref()
            .and_then(|p| p.get("reason")?.as_str().map(str::to_owned));
        if e.kind == "media-retire" && reason.as_deref() == Some("destroyed") {
            return Ok(Some(format!("{media} destroyed")));
        }
    }
    let candidates: Vec<String> = w.db().map(
        "SELECT c.id FROM certificates c JOIN records r ON r.id = c.id \
         WHERE c.serial = ?1 AND c.kind IN ('erasure', 'vendor') AND r.seq > ?2 ORDER BY r.seq",
        args![serial, since],
        |r| r.get(0),
    )?;
    for cert in candidates {
        let document = crate::erasure::certificate::authentic_document_in(w, &mut prover, &cert)?;
        if crate::retention::proof_from(&document, serial, None).is_ok() {
            return Ok(Some(cert));
        }
    }
    Ok(None)
}

/// The batch and its items, each with what accounts for it, inside a transaction.
fn load_in(w: &Writer<'_>, id: &RecordId) -> Result<(Batch, i64)> {
    let mut batch = w
        .db()
        .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
        .ok_or_else(|| no_batch(id))?;
    let seq: i64 = w
        .db()
        .value("SELECT seq FROM records WHERE id = ?1", args![id])?
        .ok_or_else(|| no_batch(id))?;
    let items: Vec<(RecordId, String, RecordId)> = w.db().map(
        "SELECT media, serial, handover FROM batch_items WHERE batch = ?1 ORDER BY media",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    for (media, serial, handover) in items {
        let accounted_by = accounted_in(w, &media, &serial, seq)?;
        batch.items.push(BatchItem {
            media,
            serial,
            handover,
            accounted_by,
        });
    }
    Ok((batch, seq))
}

impl Station {
    /// Hands `media` to disposal contractor `contractor` as one batch (a manager):
    /// a handover register entry for each medium and the batch `BT-…` with its
    /// serial-level manifest and the day certificates are due (`due_days` from
    /// today, 60 by default).
    pub fn new_batch(
        &mut self,
        contractor: &str,
        media_ids: &[RecordId],
        due_days: Option<u32>,
    ) -> Result<RecordId> {
        self.actor
            .require_role(&[Role::Manager], "hand media to a disposal contractor")?;
        let contractor = one_line(Field::Contractor, contractor, 200)?;
        if media_ids.is_empty() {
            return Err(Error::BadValue {
                field: Field::Medium,
                value: String::new(),
                rule: Rule::Described("name at least one medium: --media MD-1,MD-2"),
            });
        }
        let days = due_days.unwrap_or(60);
        if !(1..=365).contains(&days) {
            return Err(Error::BadValue {
                field: Field::Count,
                value: days.to_string(),
                rule: Rule::Range { min: 1, max: 365 },
            });
        }
        let due_on = crate::clock::today() + chrono::Duration::days(i64::from(days));
        let actor = self.actor.name.clone();
        self.write(|w| {
            let batch = w.next_id("BT")?;
            let mut items = Vec::new();
            for id in media_ids {
                let medium = media::load_in(w, id)?;
                if medium.retired_reason.is_some()
                    || matches!(medium.status, MediaStatus::Out | MediaStatus::Rejected)
                {
                    return Err(Error::Unavailable {
                        id: id.to_string(),
                        status: medium.status.to_string(),
                        action: "handed to a disposal contractor",
                    });
                }
                if items.iter().any(|(m, _, _): &(RecordId, String, RecordId)| m == id) {
                    continue;
                }
                let (handover, _) = w.create_record(
                    &actor,
                    "handover",
                    "HO",
                    json!({
                        "media": id, "serial": medium.serial, "direction": "send",
                        "counterparty": contractor, "purpose": format!("disposal ({batch})"),
                        "method": "disposal contractor batch", "count": 1,
                    }),
                )?;
                items.push((id.clone(), medium.serial, handover));
            }
            let manifest: Vec<_> = items
                .iter()
                .map(|(m, s, h)| json!({ "media": m, "serial": s, "handover": h }))
                .collect();
            let (id, _) = w.create_record(
                &actor,
                "batch",
                "BT",
                json!({ "contractor": contractor, "due_on": due_on.to_string(), "items": manifest }),
            )?;
            Ok(id)
        })
    }

    /// One batch with what accounts for each serial.
    pub fn batch(&mut self, id: &RecordId) -> Result<Batch> {
        self.write(|w| load_in(w, id).map(|(b, _)| b))
    }

    /// Every batch, oldest first, with what accounts for each serial.
    pub fn batches(&mut self) -> Result<Vec<Batch>> {
        self.write(|w| {
            let ids: Vec<RecordId> = w.db().map(
                "SELECT id FROM disposal_batches ORDER BY created_at",
                &[],
                |r| r.get(0),
            )?;
            ids.iter()
                .map(|id| load_in(w, id).map(|(b, _)| b))
                .collect()
        })
    }

    /// Closes a batch (a manager) once every serial is accounted for, by the proven
    /// entries.
    pub fn close_batch(&mut self, id: &RecordId) -> Result<Batch> {
        self.actor
            .require_role(&[Role::Manager], &format!("close {id}"))?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let (batch, _) = load_in(w, id)?;
            if let Some(at) = batch.closed_at {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: crate::error::Done::Closed { at },
                });
            }
            let open: Vec<String> = batch
                .items
                .iter()
                .filter(|i| i.accounted_by.is_none())
                .map(|i| format!("{} ({})", i.serial, i.media))
                .collect();
            if !open.is_empty() {
                return Err(Error::NotAllowed {
                    actor: actor.clone(),
                    action: format!("close {id}"),
                    reason: Box::new(crate::error::Denial::Unaccounted { serials: open }),
                });
            }
            let accounted: Vec<_> = batch
                .items
                .iter()
                .map(|i| json!({ "serial": i.serial, "by": i.accounted_by }))
                .collect();
            w.append(
                &actor,
                "batch-close",
                id.as_str(),
                &json!({ "accounted": accounted }),
            )?;
            load_in(w, id).map(|(b, _)| b)
        })
    }
}
