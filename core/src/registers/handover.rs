//! The media handover register (情報記録媒体授受簿): every handover of a removable
//! medium to or from an outside party, and the other side's confirmation of receipt.

use serde::Serialize;
use serde_json::json;

use crate::clock::Timestamp;
use crate::error::{Done, Error, Field, RecordKind, Result, Rule};
use crate::ledger::RecordId;
use crate::ledger::store::{Query, Row, args};
use crate::registers::media::{self, Move};
use crate::registers::requests::one_line;
use crate::station::Station;
use crate::vocab::vocabulary;

vocabulary! {
    /// Which way a handover goes.
    pub enum Direction (Field::Direction) {
        /// We hand the medium over.
        Send = "send",
        /// We receive it.
        Receive = "receive",
    }
}

/// What a handover records.
#[derive(Debug, Clone)]
pub struct NewHandover {
    /// The registered medium handed over.
    pub media: RecordId,
    /// Whether we hand it over or receive it.
    pub direction: Direction,
    /// The other party (相手先).
    pub counterparty: String,
    /// Why (目的).
    pub purpose: String,
    /// How (方法): by hand, registered mail, courier with tracking, …
    pub method: String,
    /// How many media or items (数量).
    pub count: u32,
}

/// A handover as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Handover {
    /// `HO-2`.
    pub id: RecordId,
    /// The medium.
    pub media: RecordId,
    /// Its serial number.
    pub serial: String,
    /// Whether we handed it over or received it.
    pub direction: Direction,
    /// The other party.
    pub counterparty: String,
    /// Why.
    pub purpose: String,
    /// How.
    pub method: String,
    /// How many.
    pub count: i64,
    /// When.
    pub at: Timestamp,
    /// Who handed it over or received it here.
    pub by: String,
    /// Who confirmed receipt on the other side (or here, for a receive).
    pub confirmed_by: Option<String>,
    /// When receipt was confirmed.
    pub confirmed_at: Option<Timestamp>,
}

const SELECT: &str = "SELECT h.id, h.media, m.serial, h.direction, h.counterparty, h.purpose, h.method, h.count, \
     h.at, h.by, h.confirmed_by, h.confirmed_at FROM handovers h JOIN media m ON m.id = h.media";

fn from_row(r: &Row) -> Result<Handover> {
    Ok(Handover {
        id: r.get(0)?,
        media: r.get(1)?,
        serial: r.get(2)?,
        direction: r.get(3)?,
        counterparty: r.get(4)?,
        purpose: r.get(5)?,
        method: r.get(6)?,
        count: r.get(7)?,
        at: r.get(8)?,
        by: r.get(9)?,
        confirmed_by: r.get(10)?,
        confirmed_at: r.get(11)?,
    })
}

fn no_handover(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Handover,
        id: id.to_string(),
    }
}

impl Station {
    /// Records a handover of a medium; returns its id (`HO-…`). Sending a medium
    /// marks it `out`; receiving one marks it `in-stock`.
    pub fn new_handover(&mut self, new: &NewHandover) -> Result<RecordId> {
        self.actor.require_writer("record a handover")?;
        if new.count == 0 {
            return Err(Error::BadValue {
                field: Field::Count,
                value: new.count.to_string(),
                rule: Rule::Range {
                    min: 1,
                    max: i64::from(u32::MAX),
                },
            });
        }
        let counterparty = one_line(Field::Counterparty, &new.counterparty, 200)?;
        let purpose = one_line(Field::Purpose, &new.purpose, 500)?;
        let method = one_line(Field::Method, &new.method, 200)?;
        let actor = self.actor.name.clone();
        let new = new.clone();
        self.write(|w| {
            let medium = media::load_in(w, &new.media)?;
            if let Some(reason) = medium.retired_reason {
                return Err(Error::AlreadyDone {
                    id: medium.id.to_string(),
                    act: Done::Retired {
                        reason: reason.to_string(),
                    },
                });
            }
            if new.direction == Direction::Send {
                media::require_approved_in(w, &medium.id, &actor, "hand over a medium")?;
            }
            if new.direction == Direction::Send && medium.status.after(Move::HandOver).is_none() {
                return Err(Error::Unavailable {
                    id: medium.id.to_string(),
                    status: medium.status.to_string(),
                    action: "handed over",
                });
            }
            let (id, _) = w.create_record(
                &actor,
                "handover",
                "HO",
                json!({
                    "media": new.media, "serial": medium.serial, "direction": new.direction,
                    "counterparty": counterparty, "purpose": purpose, "method": method, "count": new.count,
                }),
            )?;
            Ok(id)
        })
    }

    /// Records that the receiving side confirmed receipt (受領確認).
    pub fn confirm_handover(&mut self, id: &RecordId, by: &str) -> Result<Handover> {
        self.actor.require_writer("confirm a handover")?;
        let by = one_line(Field::ConfirmedBy, by, 200)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let handover = w
                .db()
                .one(&format!("{SELECT} WHERE h.id = ?1"), args![id], from_row)?
                .ok_or_else(|| no_handover(id))?;
            if let Some(at) = handover.confirmed_at {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Confirmed {
                        by: handover.confirmed_by,
                        at,
                    },
                });
            }
            w.append(
                &actor,
                "handover-confirm",
                id.as_str(),
                &json!({ "by": by }),
            )?;
            w.db()
                .one(&format!("{SELECT} WHERE h.id = ?1"), args![id], from_row)?
                .ok_or_else(|| no_handover(id))
        })
    }

    /// The handover register, oldest first.
    pub fn handovers(&self) -> Result<Vec<Handover>> {
        self.ledger
            .db()
            .map(&format!("{SELECT} ORDER BY h.at"), &[], from_row)
    }
}
