//! The media handover register (情報記録媒体授受簿): every handover of a removable
//! medium to or from an outside party, and the other side's confirmation of receipt.

use serde::Serialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::ledger::RecordId;
use crate::ledger::store::{Query, Row, args};
use crate::registers::media;
use crate::registers::requests::one_line;
use crate::station::Station;

/// What `custody handover new` records.
#[derive(Debug, Clone)]
pub struct NewHandover {
    /// The registered medium handed over.
    pub media: RecordId,
    /// `send` (we hand it over) or `receive` (we receive it).
    pub direction: String,
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
    pub id: String,
    /// The medium.
    pub media: String,
    /// Its serial number.
    pub serial: String,
    /// send or receive.
    pub direction: String,
    /// The other party.
    pub counterparty: String,
    /// Why.
    pub purpose: String,
    /// How.
    pub method: String,
    /// How many.
    pub count: i64,
    /// When.
    pub at: String,
    /// Who handed it over or received it here.
    pub by: String,
    /// Who confirmed receipt on the other side (or here, for a receive).
    pub confirmed_by: Option<String>,
    /// When receipt was confirmed.
    pub confirmed_at: Option<String>,
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

impl Station {
    /// Records a handover of a medium; returns its id (`HO-…`). Sending a medium
    /// marks it `out`; receiving one marks it `in-stock`.
    pub fn new_handover(&mut self, new: &NewHandover) -> Result<RecordId> {
        self.actor.require_writer("record a handover")?;
        if !matches!(new.direction.as_str(), "send" | "receive") {
            return Err(Error::Invalid(format!(
                "{:?} is not a direction; use send or receive",
                new.direction
            )));
        }
        if new.count == 0 {
            return Err(Error::Invalid("--count must be at least 1".into()));
        }
        let counterparty = one_line("--counterparty", &new.counterparty, 200)?;
        let purpose = one_line("--purpose", &new.purpose, 500)?;
        let method = one_line("--method", &new.method, 200)?;
        let actor = self.actor.name.clone();
        let new = new.clone();
        self.write(|w| {
            let medium = media::load_in(w, &new.media)?;
            if medium.retired_reason.is_some() {
                return Err(Error::Invalid(format!("{} is retired ({})", medium.id, medium.status)));
            }
            if new.direction == "send" && medium.status != "in-stock" {
                return Err(Error::Invalid(format!(
                    "{} is {}, not in stock; it cannot be handed over",
                    medium.id, medium.status
                )));
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
        let by = one_line("--by", by, 200)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let handover = w
                .db()
                .one(&format!("{SELECT} WHERE h.id = ?1"), args![id], from_row)?
                .ok_or_else(|| Error::NoSuchRecord(format!("{id} (no handover with that id)")))?;
            if let Some(at) = &handover.confirmed_at {
                return Err(Error::Invalid(format!(
                    "{id} was already confirmed by {} at {at}",
                    handover.confirmed_by.as_deref().unwrap_or("?")
                )));
            }
            w.append(
                &actor,
                "handover-confirm",
                id.as_str(),
                &json!({ "by": by }),
            )?;
            w.db()
                .one(&format!("{SELECT} WHERE h.id = ?1"), args![id], from_row)?
                .ok_or_else(|| Error::NoSuchRecord(id.to_string()))
        })
    }

    /// The handover register, oldest first.
    pub fn handovers(&self) -> Result<Vec<Handover>> {
        self.ledger
            .db()
            .map(&format!("{SELECT} ORDER BY h.at"), &[], from_row)
    }
}
