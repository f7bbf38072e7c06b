//! Carry-outs (持出し): taking personal data or media out of the office. Each one is a
//! request (`CO-…`) approved by a manager who is not the requester, then carried out,
//! then returned; the medium's status follows.

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock;
use crate::clock::Timestamp;
use crate::error::{Denial, Done, Error, Field, RecordKind, Result, Rule, Step};
use crate::ledger::store::{Query, Row, args};
use crate::ledger::{RecordId, Writer, prove};
use crate::registers::media::{self, Move};
use crate::registers::requests::{self, RequestKind, RequestState, one_line};
use crate::station::Station;
use crate::vocab::vocabulary;

/// What `custody carryout new` records.
#[derive(Debug, Clone, Default)]
pub struct NewCarryout {
    /// What is taken out (対象物).
    pub what: String,
    /// Why (理由).
    pub reason: String,
    /// Where to (持出し先).
    pub destination: String,
    /// When it must be back (返却予定日時): a date or an RFC 3339 time.
    pub return_by: String,
    /// How it travels (移送手段).
    pub transport: String,
    /// The registered medium it travels on.
    pub media: Option<RecordId>,
    /// The encrypted transfer (`TX-…`) that holds the data.
    pub transfer: Option<RecordId>,
    /// Whether it holds personal data.
    pub personal_data: bool,
    /// How many records (件数), when known.
    pub records: Option<u64>,
    /// The file of personal data it concerns (`FL-…`), when one is registered.
    pub personal_file: Option<RecordId>,
}

vocabulary! {
    /// Where a carry-out is.
    pub enum CarryoutState (Field::CarryoutState) {
        /// Filed, waiting for a manager.
        Requested = "requested",
        /// Approved, not yet left.
        Approved = "approved",
        /// Rejected.
        Rejected = "rejected",
        /// Out of the office.
        Out = "out",
        /// Back.
        Returned = "returned",
        /// Lost while out: closed, with an incident.
        Lost = "lost",
    }
}

/// A carry-out as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Carryout {
    /// `CO-3`.
    pub id: RecordId,
    /// What is taken out.
    pub what: String,
    /// Why.
    pub reason: String,
    /// Where to.
    pub destination: String,
    /// When it must be back.
    pub return_by: Timestamp,
    /// How it travels.
    pub transport: String,
    /// The medium, if any.
    pub media: Option<RecordId>,
    /// The transfer, if any.
    pub transfer: Option<RecordId>,
    /// Whether it holds personal data.
    pub personal_data: bool,
    /// Number of records.
    pub records: Option<i64>,
    /// How it is protected, as established from the transfer or medium.
    pub encrypted: String,
    /// Who asked.
    pub requester: String,
    /// When it was filed.
    pub requested_at: Timestamp,
    /// Pending, approved or rejected.
    pub approval: RequestState,
    /// Who approved or rejected.
    pub approver: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// When it left.
    pub out_at: Option<Timestamp>,
    /// Who took it.
    pub out_by: Option<String>,
    /// When it came back.
    pub returned_at: Option<Timestamp>,
    /// Who brought it back.
    pub returned_by: Option<String>,
    /// Its condition on return.
    pub condition: Option<String>,
    /// Where it is.
    pub state: CarryoutState,
    /// Out past its return time.
    pub overdue: bool,
    /// When it was closed as lost.
    pub lost_at: Option<Timestamp>,
    /// The file of personal data it concerns.
    pub personal_file: Option<RecordId>,
}

/// Which carry-outs `list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarryoutFilter {
    /// All of them.
    All,
    /// Not yet returned and not rejected.
    Open,
    /// Out past the return time.
    Overdue,
}

const SELECT: &str = "SELECT c.id, c.what, c.reason, c.destination, c.return_by, c.transport, c.media, c.transfer, \
     c.personal_data, c.records, c.encrypted, r.requester, r.requested_at, r.status, r.decided_by, r.decided_at, \
     c.out_at, c.out_by, c.returned_at, c.returned_by, c.condition, c.lost_at, c.personal_file \
     FROM carryouts c JOIN requests r ON r.id = c.id";

fn from_row(r: &Row) -> Result<Carryout> {
    let approval: RequestState = r.get(13)?;
    let out_at: Option<Timestamp> = r.get(16)?;
    let returned_at: Option<Timestamp> = r.get(18)?;
    let lost_at: Option<Timestamp> = r.get(21)?;
    let state = if lost_at.is_some() {
        CarryoutState::Lost
    } else if returned_at.is_some() {
        CarryoutState::Returned
    } else if out_at.is_some() {
        CarryoutState::Out
    } else {
        match approval {
            RequestState::Approved => CarryoutState::Approved,
            RequestState::Rejected => CarryoutState::Rejected,
            RequestState::Pending => CarryoutState::Requested,
        }
    };
    Ok(Carryout {
        id: r.get(0)?,
        what: r.get(1)?,
        reason: r.get(2)?,
        destination: r.get(3)?,
        return_by: r.get(4)?,
        transport: r.get(5)?,
        media: r.get(6)?,
        transfer: r.get(7)?,
        personal_data: r.get(8)?,
        records: r.get(9)?,
        encrypted: r.get(10)?,
        requester: r.get(11)?,
        requested_at: r.get(12)?,
        approval,
        approver: r.get(14)?,
        decided_at: r.get(15)?,
        out_at,
        out_by: r.get(17)?,
        returned_at,
        returned_by: r.get(19)?,
        condition: r.get(20)?,
        state,
        overdue: false,
        lost_at,
        personal_file: r.get(22)?,
    })
}

/// A carry-out that is out now: it left, and has neither come back nor been lost.
fn out_in(w: &Writer<'_>, id: &RecordId) -> Result<Carryout> {
    let carryout = load_in(w, id)?;
    if carryout.out_at.is_none() {
        return Err(Error::NotDone {
            id: id.to_string(),
            step: Step::CarriedOut,
        });
    }
    let done = match (carryout.returned_at, carryout.lost_at) {
        (Some(at), _) => Done::Returned { at },
        (None, Some(at)) => Done::Lost { at },
        (None, None) => return Ok(carryout),
    };
    Err(Error::AlreadyDone {
        id: id.to_string(),
        act: done,
    })
}

fn load_in(w: &Writer<'_>, id: &RecordId) -> Result<Carryout> {
    w.db()
        .one(&format!("{SELECT} WHERE c.id = ?1"), args![id], from_row)?
        .ok_or_else(|| no_carryout(id))
}

/// How the data is protected, established from what is linked rather than typed.
fn protection(
    w: &Writer<'_>,
    media: Option<&media::Medium>,
    transfer: Option<&RecordId>,
) -> Result<String> {
    if let Some(transfer) = transfer {
        let kind: Option<String> = w
            .db()
            .value("SELECT kind FROM records WHERE id = ?1", args![transfer])?;
        match kind.as_deref() {
            Some("send") => return Ok(format!("yes: age-encrypted transfer {transfer}")),
            _ => {
                return Err(Error::NoSuchRecord {
                    kind: RecordKind::Transfer,
                    id: transfer.to_string(),
                });
            }
        }
    }
    if let Some(medium) = media
        && medium.encrypted
    {
        return Ok(format!("yes: encrypted medium {}", medium.id));
    }
    Ok("no".to_string())
}

/// Whether the carry-out `id`, as its proven filing entry says, takes personal data
/// out unencrypted (the warning its requester saw, which its approver must see too).
pub(crate) fn unencrypted_personal_data_in(w: &Writer<'_>, id: &RecordId) -> Result<bool> {
    let mut prover = w.prover();
    for e in prover.about(id.as_str())? {
        if e.kind == "carryout-request" {
            let personal = e
                .payload
                .as_ref()
                .and_then(|p| p.get("personal_data"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            return Ok(personal && prove::field(&e, "encrypted").unwrap_or("no") == "no");
        }
    }
    Ok(false)
}

fn no_carryout(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Carryout,
        id: id.to_string(),
    }
}

impl Station {
    /// Files a carry-out request; returns its id (`CO-…`).
    pub fn new_carryout(&mut self, new: &NewCarryout) -> Result<RecordId> {
        self.actor.require_writer("request a carry-out")?;
        let what = one_line(Field::What, &new.what, 500)?;
        let reason = one_line(Field::Reason, &new.reason, 500)?;
        let destination = one_line(Field::Destination, &new.destination, 200)?;
        let transport = one_line(Field::Transport, &new.transport, 200)?;
        let return_by = Timestamp::from(clock::parse_deadline(&new.return_by)?);
        if return_by <= Timestamp::now() {
            return Err(Error::BadValue {
                field: Field::ReturnBy,
                value: new.return_by.clone(),
                rule: Rule::Described("it is already past; give a return deadline in the future"),
            });
        }
        let actor = self.actor.name.clone();
        let new = new.clone();
        self.write(|w| {
            let medium = new
                .media
                .as_ref()
                .map(|id| media::load_in(w, id))
                .transpose()?;
            // A medium waiting for its approval may be named: the manager approves
            // both, and it leaves only once both are approved.
            if let Some(m) = &medium
                && m.status != media::MediaStatus::Pending
                && m.status.after(Move::CarryOut).is_none()
            {
                return Err(Error::Unavailable {
                    id: m.id.to_string(),
                    status: m.status.to_string(),
                    action: "carried out",
                });
            }
            let encrypted = protection(w, medium.as_ref(), new.transfer.as_ref())?;
            if let Some(file) = &new.personal_file {
                crate::registers::files::require_in(w, file)?;
            }
            let (id, _) = w.create_record(
                &actor,
                "carryout-request",
                "CO",
                json!({
                    "what": what, "reason": reason, "destination": destination,
                    "return_by": return_by, "transport": transport,
                    "media": new.media, "transfer": new.transfer,
                    "personal_data": new.personal_data, "records": new.records,
                    "encrypted": encrypted, "personal_file": new.personal_file,
                }),
            )?;
            Ok(id)
        })
    }

    /// Records that an approved carry-out has left the office.
    pub fn carryout_out(&mut self, id: &RecordId) -> Result<Carryout> {
        self.actor.require_writer("carry out")?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let carryout = load_in(w, id)?;
            requests::require_approved(w, id, RequestKind::Carryout, &format!("carry out {id}"))
                .map_err(|e| match e {
                    Error::NotAllowed { reason, .. } => Error::NotAllowed {
                        actor: actor.clone(),
                        action: format!("carry out {id}"),
                        reason,
                    },
                    other => other,
                })?;
            if let Some(at) = carryout.out_at {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::CarriedOut { at },
                });
            }
            // The medium may have gone elsewhere since the request was filed (handed
            // to a vendor, wiped, lost): it leaves only from the cabinet.
            if let Some(medium) = &carryout.media {
                media::require_approved_in(w, medium, &actor, &format!("carry out {id}"))?;
                let m = media::load_in(w, medium)?;
                if m.status.after(Move::CarryOut).is_none() {
                    return Err(Error::Unavailable {
                        id: m.id.to_string(),
                        status: m.status.to_string(),
                        action: "carried out",
                    });
                }
                // Only a medium whose latest virus check found nothing leaves
                // (002 art.9-3, 004 art.24-3).
                match media::latest_check_in(w, medium)? {
                    Some((result, _)) if result == "clean" => {}
                    latest => {
                        return Err(Error::NotAllowed {
                            actor: actor.clone(),
                            action: format!("carry out {id}"),
                            reason: Box::new(Denial::VirusCheck {
                                medium: medium.to_string(),
                                found: latest.map(|(result, on)| format!("{result} ({on})")),
                            }),
                        });
                    }
                }
            }
            w.append(
                &actor,
                "carryout-out",
                id.as_str(),
                &json!({ "media": carryout.media, "return_by": carryout.return_by }),
            )?;
            load_in(w, id)
        })
    }

    /// Records that a carried-out item is back.
    pub fn carryout_return(&mut self, id: &RecordId, condition: Option<&str>) -> Result<Carryout> {
        self.actor.require_writer("record a return")?;
        let condition = condition
            .map(|c| one_line(Field::Condition, c, 500))
            .transpose()?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let carryout = out_in(w, id)?;
            w.append(
                &actor,
                "carryout-return",
                id.as_str(),
                &json!({ "media": carryout.media, "condition": condition }),
            )?;
            load_in(w, id)
        })
    }

    /// Closes a carry-out that is out as lost (what happened, in the reporter's words):
    /// its medium is lost with it, and an incident is opened in the same transaction
    /// (004 art.27). Returns the carry-out and the incident's id.
    pub fn carryout_lost(&mut self, id: &RecordId, what: &str) -> Result<(Carryout, RecordId)> {
        self.actor.require_writer("record a loss")?;
        let what = one_line(Field::What, what, 500)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let carryout = out_in(w, id)?;
            w.append(
                &actor,
                "carryout-lost",
                id.as_str(),
                &json!({ "media": carryout.media, "what": what }),
            )?;
            let mut records = vec![id.to_string()];
            records.extend(carryout.media.iter().map(ToString::to_string));
            let incident = crate::registers::incident::open_in(
                w,
                &actor,
                &format!("carry-out {id} ({}) lost: {what}", carryout.what),
                &crate::clock::today().to_string(),
                &records,
                None,
            )?;
            Ok((load_in(w, id)?, incident))
        })
    }

    /// The carry-out register, oldest first.
    pub fn carryouts(&self, filter: CarryoutFilter) -> Result<Vec<Carryout>> {
        let now = Timestamp::now();
        let mut list = Vec::new();
        for mut c in
            self.ledger
                .db()
                .map(&format!("{SELECT} ORDER BY r.requested_at"), &[], from_row)?
        {
            c.overdue = c.state == CarryoutState::Out && c.return_by < now;
            let keep = match filter {
                CarryoutFilter::All => true,
                CarryoutFilter::Open => matches!(
                    c.state,
                    CarryoutState::Requested | CarryoutState::Approved | CarryoutState::Out
                ),
                CarryoutFilter::Overdue => c.overdue,
            };
            if keep {
                list.push(c);
            }
        }
        Ok(list)
    }

    /// One carry-out.
    pub fn carryout(&self, id: &RecordId) -> Result<Carryout> {
        let mut list = self.carryouts(CarryoutFilter::All)?;
        list.retain(|c| &c.id == id);
        list.pop().ok_or_else(|| no_carryout(id))
    }
}
