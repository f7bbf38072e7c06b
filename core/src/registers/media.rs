//! The media register (approved removable media, kept in a locked cabinet): each
//! medium's identity, where it is, and its status through carry-outs, handovers,
//! wipes and retirement.

use serde::Serialize;
use serde_json::json;

use crate::clock::Timestamp;
use crate::error::{Denial, Done, Error, Field, RecordKind, Result, Rule, Step};
use crate::ledger::store::{Backend, Query, Row, args};
use crate::ledger::{Entry, RecordId, Writer};
use crate::people::Role;
use crate::registers::requests::{self, RequestKind, RequestState, one_line};
use crate::station::Station;
use crate::vocab::vocabulary;

vocabulary! {
    /// What a virus check of a medium found.
    pub enum CheckResult (Field::Method) {
        /// Nothing.
        Clean = "clean",
        /// Malware, removed or not: the medium is not carried out until a later check
        /// is clean.
        Infected = "infected",
    }
}

/// The latest virus check of medium `id` from its proven entries: its result and day.
pub(crate) fn latest_check_in(w: &Writer<'_>, id: &RecordId) -> Result<Option<(String, String)>> {
    let mut latest = None;
    for e in w.prover().about(id.as_str())? {
        if e.kind == "media-check" {
            let field = |key: &str| {
                e.payload
                    .as_ref()
                    .and_then(|p| p.get(key)?.as_str().map(str::to_owned))
                    .unwrap_or_default()
            };
            latest = Some((field("result"), field("on")));
        }
    }
    Ok(latest)
}

vocabulary! {
    /// What a medium holds, which decides what closes its life.
    pub enum DataClass (Field::DataClass) {
        /// Ordinary personal data: a verified overwrite may close it.
        General = "general",
        /// Data of the My Number systems (マイナンバー利用事務系): physical destruction,
        /// after a wipe.
        MyNumber = "my-number",
    }
}

vocabulary! {
    /// The kinds of medium the register knows.
    pub enum MediaKind (Field::MediaKind) {
        /// A USB stick.
        Usb = "usb",
        /// A hard disk.
        Hdd = "hdd",
        /// A solid-state disk.
        Ssd = "ssd",
        /// A CD, DVD or Blu-ray disc.
        Optical = "optical",
        /// A backup tape.
        Tape = "tape",
        /// A whole computer.
        Pc = "pc",
        /// Anything else.
        Other = "other",
    }
}

vocabulary! {
    /// Where a medium is in its life.
    pub enum MediaStatus (Field::MediaStatus) {
        /// Registered, waiting for a manager to approve it for use (002 art.9-3): not
        /// carried out nor handed over until then.
        Pending = "pending",
        /// Its registration was rejected: never used.
        Rejected = "rejected",
        /// In the cabinet, available.
        InStock = "in-stock",
        /// Carried out or handed over.
        Out = "out",
        /// Wiped (its erasure certificate names it).
        Wiped = "wiped",
        /// Physically destroyed.
        Destroyed = "destroyed",
        /// Lost.
        Lost = "lost",
        /// Returned to its owner (a lessor, a client).
        Returned = "returned",
    }
}

/// What happens to a medium, as far as its status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// It leaves the office with a carry-out.
    CarryOut,
    /// It comes back from the carry-out that took it.
    CarryBack,
    /// It is handed over to someone outside (a vendor, another office).
    HandOver,
    /// It is received back from outside.
    Receive,
    /// An erasure certificate names it as wiped.
    Wipe,
    /// It leaves the register for good (lost, destroyed, wiped, returned).
    Retire(RetireReason),
}

impl MediaStatus {
    /// The status a medium in this status has after `change`, or `None` when the
    /// change is not one this status allows (a medium at a vendor cannot be carried
    /// out; a medium in the cabinet cannot come back from a carry-out; nothing
    /// happens to a retired medium).
    pub fn after(self, change: Move) -> Option<MediaStatus> {
        use MediaStatus::{Destroyed, InStock, Lost, Out, Pending, Rejected, Returned, Wiped};
        let retired = matches!(self, Destroyed | Lost | Returned | Rejected);
        match (self, change) {
            (InStock, Move::CarryOut | Move::HandOver) => Some(Out),
            (Out, Move::CarryBack | Move::Receive) => Some(InStock),
            // Wiped (by a vendor, or here) and received back for reuse.
            (Wiped, Move::Receive) => Some(InStock),
            // A medium waiting for approval may be wiped (a retired disk registered to
            // be erased), never used.
            (InStock | Out | Pending, Move::Wipe) => Some(Wiped),
            (_, Move::Retire(_)) if retired => None,
            (_, Move::Retire(reason)) => Some(match reason {
                RetireReason::Lost => Lost,
                RetireReason::Destroyed => Destroyed,
                RetireReason::Wiped => Wiped,
                RetireReason::Returned => Returned,
            }),
            _ => None,
        }
    }
}

vocabulary! {
    /// Why a medium leaves the register.
    pub enum RetireReason (Field::RetireReason) {
        /// It was lost.
        Lost = "lost",
        /// It was destroyed.
        Destroyed = "destroyed",
        /// It was wiped.
        Wiped = "wiped",
        /// It was returned to its owner.
        Returned = "returned",
    }
}

/// What `custody media add` registers.
#[derive(Debug, Clone)]
pub struct NewMedium {
    /// What kind of medium it is.
    pub kind: MediaKind,
    /// The serial number printed on or read from the medium.
    pub serial: String,
    /// The label stuck on it.
    pub label: Option<String>,
    /// Make and model.
    pub model: Option<String>,
    /// The department that owns it.
    pub owner: Option<String>,
    /// Where it is kept (e.g. the cabinet).
    pub location: Option<String>,
    /// Whether it encrypts what it holds (a hardware-encrypted stick, an encrypted disk).
    pub encrypted: bool,
    /// Its capacity in bytes, as printed on it.
    pub capacity: Option<u64>,
    /// What it holds.
    pub data_class: DataClass,
}

impl NewMedium {
    /// A medium of `kind` with `serial`, nothing else known yet.
    pub fn new(kind: MediaKind, serial: &str) -> NewMedium {
        NewMedium {
            kind,
            serial: serial.to_owned(),
            label: None,
            model: None,
            owner: None,
            location: None,
            encrypted: false,
            capacity: None,
            data_class: DataClass::General,
        }
    }
}

/// Parses a capacity as people write it on a label: `16GB`, `500G`, `1TB` (powers of
/// 1000, as drive makers count), `64GiB` (powers of 1024), or a number of bytes.
pub fn parse_capacity(text: &str) -> Result<u64> {
    let bad = || Error::BadValue {
        field: Field::Capacity,
        value: text.to_owned(),
        rule: Rule::Like("the label: 16GB, 500G, 1TB, 64GiB"),
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    // The float parser's error says less than the examples in the message do.
    let number: f64 = number.parse().map_err(|_| bad())?;
    let factor: f64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "K" | "KB" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        "T" | "TB" => 1e12,
        "KIB" => 1024.0,
        "MIB" => 1024.0 * 1024.0,
        "GIB" => 1024.0 * 1024.0 * 1024.0,
        "TIB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = number * factor;
    if !(1.0..=1e18).contains(&bytes) {
        return Err(bad());
    }
    Ok(bytes.round() as u64)
}

/// A medium as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Medium {
    /// `MD-3`.
    pub id: RecordId,
    /// What kind of medium it is.
    pub kind: MediaKind,
    /// Serial number.
    pub serial: String,
    /// Label.
    pub label: Option<String>,
    /// Make and model.
    pub model: Option<String>,
    /// Owning department.
    pub owner: Option<String>,
    /// Where it is kept.
    pub location: Option<String>,
    /// Whether it encrypts its contents.
    pub encrypted: bool,
    /// Where it is in its life.
    pub status: MediaStatus,
    /// When it was registered.
    pub added_at: Timestamp,
    /// The erasure certificate that wiped it, if any.
    pub certificate: Option<RecordId>,
    /// Why it was retired, if it was.
    pub retired_reason: Option<RetireReason>,
    /// What it holds.
    pub data_class: DataClass,
}

/// A medium and every ledger entry about it.
#[derive(Debug, Clone, Serialize)]
pub struct MediumHistory {
    /// The medium.
    #[serde(flatten)]
    pub medium: Medium,
    /// Entries about it or about carry-outs and handovers of it, oldest first.
    pub history: Vec<Entry>,
}

const SELECT: &str = "SELECT id, kind, serial, label, model, owner, location, encrypted, status, added_at, \
                      certificate, retired_reason, data_class FROM media";

fn from_row(r: &Row) -> Result<Medium> {
    Ok(Medium {
        id: r.get(0)?,
        kind: r.get(1)?,
        serial: r.get(2)?,
        label: r.get(3)?,
        model: r.get(4)?,
        owner: r.get(5)?,
        location: r.get(6)?,
        encrypted: r.get(7)?,
        status: r.get(8)?,
        added_at: r.get(9)?,
        certificate: r.get(10)?,
        retired_reason: r.get(11)?,
        data_class: r.get(12)?,
    })
}

fn optional(what: Field, value: Option<&str>) -> Result<Option<String>> {
    value.map(|v| one_line(what, v, 200)).transpose()
}

/// Reads a medium inside a write transaction.
pub(crate) fn load_in(w: &Writer<'_>, id: &RecordId) -> Result<Medium> {
    w.db()
        .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
        .ok_or_else(|| Error::NoSuchRecord {
            kind: RecordKind::Medium,
            id: id.to_string(),
        })
}

/// The medium registered with `serial` that is still in use, if any.
pub(crate) fn by_serial_in(w: &Writer<'_>, serial: &str) -> Result<Option<Medium>> {
    w.db().one(
        &format!(
            "{SELECT} WHERE serial = ?1 AND retired_reason IS NULL AND status <> 'rejected' \
             ORDER BY added_at DESC LIMIT 1"
        ),
        args![serial],
        from_row,
    )
}

/// Refuses to use medium `id` for `action` (a carry-out, a handover) unless a manager
/// approved its registration, as its proven entries say. A medium registered before
/// registration needed approval is approved by its registration.
pub(crate) fn require_approved_in(
    w: &Writer<'_>,
    id: &RecordId,
    actor: &str,
    action: &str,
) -> Result<()> {
    let registered = registration_in(w, id)?;
    // A registration whose payload is gone proves no approval: it needs one.
    let needs_approval = registered.payload.as_ref().is_none_or(|p| {
        p.get("needs_approval")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    });
    if !needs_approval {
        return Ok(());
    }
    let request = crate::registers::requests::authentic_in(w, id)?;
    let reason = match request.status {
        crate::registers::requests::RequestState::Approved => return Ok(()),
        crate::registers::requests::RequestState::Pending => Denial::NotApproved {
            request: id.to_string(),
            requester: request.requester,
        },
        crate::registers::requests::RequestState::Rejected => Denial::Rejected {
            request: id.to_string(),
            by: request.decided_by,
            note: request.decision_note,
        },
    };
    Err(Error::NotAllowed {
        actor: actor.to_owned(),
        action: action.to_owned(),
        reason: Box::new(reason),
    })
}

impl Station {
    /// Registers a medium; returns its id (`MD-…`). The registration is a request
    /// that a manager other than the registrant approves (002 art.9-3, 000 art.18-3):
    /// until then the medium is `pending` and neither carried out nor handed over.
    pub fn add_medium(&mut self, new: &NewMedium) -> Result<RecordId> {
        self.actor.require_writer("register media")?;
        let serial = one_line(Field::Serial, &new.serial, 200)?;
        let label = optional(Field::Label, new.label.as_deref())?;
        let model = optional(Field::Model, new.model.as_deref())?;
        let owner = optional(Field::Owner, new.owner.as_deref())?;
        let location = optional(Field::Location, new.location.as_deref())?;
        let actor = self.actor.name.clone();
        let kind = new.kind;
        let encrypted = new.encrypted;
        let capacity = new.capacity;
        let data_class = new.data_class;
        self.write(|w| {
            if let Some(existing) = by_serial_in(w, &serial)? {
                return Err(Error::Duplicate {
                    field: Field::Serial,
                    value: serial,
                    existing: format!("as {}, {}", existing.id, existing.status),
                });
            }
            let (id, _) = w.create_record(
                &actor,
                "media-add",
                "MD",
                json!({
                    "kind": kind, "serial": serial, "label": label, "model": model,
                    "owner": owner, "location": location, "encrypted": encrypted,
                    "capacity": capacity, "needs_approval": true, "data_class": data_class,
                }),
            )?;
            Ok(id)
        })
    }

    /// The register, optionally only media with `status`.
    pub fn media(&self, status: Option<MediaStatus>) -> Result<Vec<Medium>> {
        self.ledger.db().map(
            &format!("{SELECT} WHERE CAST(?1 AS TEXT) IS NULL OR status = ?1 ORDER BY added_at"),
            args![status],
            from_row,
        )
    }

    /// One medium with its whole history.
    pub fn medium(&self, id: &RecordId) -> Result<MediumHistory> {
        let conn = self.ledger.db();
        let medium = conn
            .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
            .ok_or_else(|| Error::NoSuchRecord {
                kind: RecordKind::Medium,
                id: id.to_string(),
            })?;
        let mut subjects: Vec<String> = vec![id.to_string()];
        for sql in [
            "SELECT id FROM carryouts WHERE media = ?1",
            "SELECT id FROM handovers WHERE media = ?1",
        ] {
            subjects.extend(conn.map(sql, args![id], |r| r.get::<String>(0))?);
        }
        if let Some(cert) = &medium.certificate {
            subjects.push(cert.to_string());
        }
        let mut history = Vec::new();
        for subject in subjects {
            history.extend(self.ledger.entries(&crate::ledger::LogFilter {
                subject: Some(subject),
                ..Default::default()
            })?);
        }
        history.sort_by_key(|e| e.seq);
        Ok(MediumHistory { medium, history })
    }

    /// Records a virus check of a medium (002 art.9-3, 004 art.24-3): the day, the
    /// tool, the result and who ran it. A medium is carried out only when its latest
    /// check found nothing.
    pub fn check_medium(
        &mut self,
        id: &RecordId,
        tool: &str,
        result: CheckResult,
        on: Option<&str>,
    ) -> Result<()> {
        self.actor.require_writer("record a virus check")?;
        let tool = one_line(Field::Method, tool, 200)?;
        let today = crate::clock::today();
        let on = match on {
            Some(text) => crate::clock::parse_date(text)?,
            None => today,
        };
        if on > today {
            return Err(Error::BadValue {
                field: Field::Date,
                value: on.to_string(),
                rule: crate::error::Rule::Described("it is still to come"),
            });
        }
        let actor = self.actor.name.clone();
        self.write(|w| {
            let medium = load_in(w, id)?;
            if let Some(reason) = medium.retired_reason {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Retired {
                        reason: reason.to_string(),
                    },
                });
            }
            w.append(
                &actor,
                "media-check",
                id.as_str(),
                &json!({ "tool": tool, "result": result, "on": on.to_string() }),
            )?;
            Ok(())
        })
    }

    /// Files the request to dispose of a medium (000 art.18-5, 004 art.11-2): a manager
    /// other than the requester approves it before the medium is destroyed or retired
    /// as wiped. Returns the request's id (`RQ-…`).
    pub fn request_medium_disposal(&mut self, id: &RecordId) -> Result<RecordId> {
        self.actor.require_writer("request a disposal")?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let medium = load_in(w, id)?;
            if let Some(reason) = medium.retired_reason {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Retired {
                        reason: reason.to_string(),
                    },
                });
            }
            if let Some(open) = disposal_request_in(w, id)? {
                let request = requests::authentic_in(w, &open)?;
                if request.status != RequestState::Rejected && request.used_by.is_none() {
                    return Err(Error::AlreadyDone {
                        id: id.to_string(),
                        act: Done::DisposalRequested {
                            request: open.to_string(),
                            state: request.status,
                        },
                    });
                }
            }
            requests::file_request_in(
                w,
                &actor,
                RequestKind::Disposal,
                &format!(
                    "dispose of medium {id} ({} serial {})",
                    medium.kind, medium.serial
                ),
                json!({ "media": id, "serial": medium.serial }),
            )
        })
    }

    /// Takes a medium out of service: lost, destroyed, wiped or returned to its owner.
    /// A lost medium opens an incident in the same transaction; its id is returned.
    ///
    /// Destroyed or wiped ends its life as a disposal, and needs what a disposal
    /// needs (000 art.18-5, 004 art.11-2): the medium's disposal request approved by a
    /// manager other than the requester, and proof: an erasure or vendor certificate
    /// for its serial, or (destroyed) its physical destruction recorded with who did
    /// it and the registered person who witnessed it. The entry carries the approver,
    /// the proof, the department of the person who did it and the contractor.
    pub fn retire_medium(
        &mut self,
        id: &RecordId,
        retire: &Retirement,
    ) -> Result<Option<RecordId>> {
        Ok(self.retire_medium_with(id, retire, None)?.0)
    }

    /// [`Station::retire_medium`], for a witnessed destruction with its `evidence`
    /// (photos, the witness's signature): the entry carries it, and a destruction
    /// certificate made of it by `certify` is issued in the same transaction.
    pub(crate) fn retire_medium_with(
        &mut self,
        id: &RecordId,
        retire: &Retirement,
        evidence: Option<Evidence<'_>>,
    ) -> Result<(
        Option<RecordId>,
        Option<crate::erasure::certificate::Certificate>,
    )> {
        self.actor
            .require_role(&[Role::Manager, Role::It], "retire media")?;
        let actor = self.actor.name.clone();
        let reason = retire.reason;
        let disposal = matches!(reason, RetireReason::Destroyed | RetireReason::Wiped);
        let contractor = optional(Field::Contractor, retire.contractor.as_deref())?;
        let destruction = match (&retire.destruction, reason) {
            (Some(d), RetireReason::Destroyed) => Some(d.clone()),
            (Some(_), _) => {
                return Err(Error::BadValue {
                    field: Field::RetireReason,
                    value: reason.to_string(),
                    rule: Rule::Described(
                        "--method and --witness record a destruction: use them with --reason destroyed",
                    ),
                });
            }
            (None, _) => None,
        };
        let department = self.department_of(&actor)?;
        let policy = self.config.media.clone();
        self.write_signed(|w, key| {
            let medium = load_in(w, id)?;
            // What it holds, by its proven registration: media of a class that must be
            // destroyed leave only destroyed, after a wipe.
            let class = registered_class_in(w, id)?;
            let must_destroy = policy.must_destroy(&class);
            if must_destroy && matches!(reason, RetireReason::Wiped | RetireReason::Returned) {
                return Err(Error::NotAllowed {
                    actor: actor.clone(),
                    action: format!("retire {id} as {reason}"),
                    reason: Box::new(Denial::MustDestroy {
                        medium: id.to_string(),
                        class,
                    }),
                });
            }
            if let Some(previous) = medium.retired_reason {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Retired {
                        reason: previous.to_string(),
                    },
                });
            }
            let mut payload = json!({
                "reason": reason, "serial": medium.serial, "previous_status": medium.status,
            });
            if disposal {
                let action = format!("dispose of medium {id}");
                let Some(request_id) = disposal_request_in(w, id)? else {
                    return Err(Error::NotAllowed {
                        actor: actor.clone(),
                        action,
                        reason: Box::new(Denial::NoDisposalRequest { id: id.to_string() }),
                    });
                };
                // The request must be this medium's, by its proven entry.
                let names_it = w
                    .prover()
                    .about(request_id.as_str())?
                    .into_iter()
                    .find(|e| e.kind == "request")
                    .and_then(|e| {
                        e.payload?
                            .get("details")?
                            .get("media")?
                            .as_str()
                            .map(|m| m == id.as_str())
                    })
                    .unwrap_or(false);
                if !names_it {
                    return Err(Error::NotAllowed {
                        actor: actor.clone(),
                        action,
                        reason: Box::new(Denial::NoDisposalRequest { id: id.to_string() }),
                    });
                }
                let request =
                    requests::require_approved(w, &request_id, RequestKind::Disposal, &action)
                        .map_err(|e| match e {
                            Error::NotAllowed { reason, .. } => Error::NotAllowed {
                                actor: actor.clone(),
                                action: action.clone(),
                                reason,
                            },
                            other => other,
                        })?;
                let proof = crate::retention::medium_proof_in(w, &actor, id, destruction.as_ref())?;
                if destruction.is_some() && proof.get("witness").is_none() {
                    return Err(Error::NotAllowed {
                        actor: actor.clone(),
                        action,
                        reason: Box::new(Denial::Witness { witness: None }),
                    });
                }
                // Destroyed after a wipe: the destruction witnessed, photographed and
                // signed by the witness (custody media destroy), and a certificate of
                // the wipe since its last use.
                let proof = if must_destroy {
                    if evidence.is_none() {
                        return Err(Error::NotAllowed {
                            actor: actor.clone(),
                            action,
                            reason: Box::new(Denial::DestroyWitnessed {
                                medium: id.to_string(),
                            }),
                        });
                    }
                    if destruction.is_none() {
                        return Err(Error::NotAllowed {
                            actor: actor.clone(),
                            action,
                            reason: Box::new(Denial::Witness { witness: None }),
                        });
                    }
                    let wiped = crate::retention::medium_proof_in(w, &actor, id, None)?;
                    json!({ "destruction": proof, "erasure": wiped, "data_class": class })
                } else {
                    proof
                };
                payload["request"] = json!(request_id);
                payload["approver"] = json!(request.decided_by);
                payload["proof"] = proof;
                payload["department"] = json!(department);
                payload["contractor"] = json!(contractor);
            }
            if let Some((evidence, _)) = &evidence {
                payload["evidence"] = evidence.clone();
            }
            let retired = w.append(&actor, "media-retire", id.as_str(), &payload)?;
            if let Some((_, certify)) = &evidence {
                let mut document = certify(&medium, &payload);
                document["ledger"] = json!({ "seq": retired.seq, "hash": retired.hash });
                let cert = crate::erasure::certificate::issue_in(
                    w,
                    key,
                    crate::erasure::certificate::Issue {
                        actor: &actor,
                        kind: crate::erasure::certificate::CertificateKind::Destruction,
                        prefix: "XC",
                        subject: id.as_str(),
                        serial: Some(&medium.serial),
                        status: "destroyed",
                    },
                    document,
                )?;
                return Ok((None, Some(cert)));
            }
            // A lost medium is an incident (004 art.27): reported with its loss.
            if reason != RetireReason::Lost {
                return Ok((None, None));
            }
            crate::registers::incident::open_in(
                w,
                &actor,
                &format!("medium {id} (serial {}) lost", medium.serial),
                &crate::clock::today().to_string(),
                &[id.to_string()],
                None,
            )
            .map(|incident| (Some(incident), None))
        })
    }

    /// The manager's check after a medium's disposal (000 art.18-5): recorded once,
    /// by a manager who did not dispose of it.
    pub fn sign_off_medium_disposal(&mut self, id: &RecordId, comment: Option<&str>) -> Result<()> {
        self.actor
            .require_role(&[Role::Manager], &format!("sign off {id}"))?;
        let comment = comment
            .map(|c| one_line(Field::Comment, c, 1000))
            .transpose()?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let mut retired = None;
            let mut checked = None;
            for e in w.prover().about(id.as_str())? {
                match e.kind.as_str() {
                    "media-retire" => retired = Some(e),
                    "media-signoff" => checked = Some(e),
                    _ => {}
                }
            }
            let disposed_by = retired
                .filter(|e| {
                    matches!(
                        prove_text(e, "reason").as_deref(),
                        Some("destroyed" | "wiped")
                    )
                })
                .map(|e| e.actor)
                .ok_or_else(|| Error::NotDone {
                    id: id.to_string(),
                    step: Step::Disposed,
                })?;
            if checked.is_some() {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::SignedOff,
                });
            }
            if disposed_by == actor {
                return Err(Error::NotAllowed {
                    actor: actor.clone(),
                    action: format!("sign off {id}"),
                    reason: Box::new(Denial::OwnWork),
                });
            }
            w.append(
                &actor,
                "media-signoff",
                id.as_str(),
                &json!({ "comment": comment }),
            )?;
            Ok(())
        })
    }
}

/// The data class a medium was registered with, from its proven entry (`general` for
/// media registered before classes were recorded).
pub(crate) fn registered_class_in(w: &Writer<'_>, id: &RecordId) -> Result<String> {
    Ok(prove_text(&registration_in(w, id)?, "data_class").unwrap_or_else(|| "general".into()))
}

/// The proven entry that registered medium `id`.
fn registration_in(w: &Writer<'_>, id: &RecordId) -> Result<Entry> {
    w.prover()
        .about(id.as_str())?
        .into_iter()
        .find(|e| e.kind == "media-add")
        .ok_or_else(|| Error::NoSuchRecord {
            kind: RecordKind::Medium,
            id: id.to_string(),
        })
}

fn prove_text(e: &Entry, key: &str) -> Option<String> {
    e.payload
        .as_ref()
        .and_then(|p| p.get(key)?.as_str().map(str::to_owned))
}

/// The latest disposal request filed for medium `id`, from the entries.
fn disposal_request_in(w: &Writer<'_>, id: &RecordId) -> Result<Option<RecordId>> {
    w.db()
        .entries_with(&["request"], "$.details.media", id.as_str())?
        .into_iter()
        .last()
        .map(|(_, subject)| RecordId::parse(&subject))
        .transpose()
}

/// A witnessed destruction's record, and how to make its certificate from the medium
/// and the entry's payload.
pub(crate) type Evidence<'a> = (
    serde_json::Value,
    &'a dyn Fn(&Medium, &serde_json::Value) -> serde_json::Value,
);

/// How a medium leaves the register.
#[derive(Debug, Clone)]
pub struct Retirement {
    /// Why.
    pub reason: RetireReason,
    /// Its physical destruction, for `destroyed` without a certificate.
    pub destruction: Option<crate::retention::Destruction>,
    /// The contractor who did the disposal, if one did.
    pub contractor: Option<String>,
}

impl Retirement {
    /// Retired for `reason`, nothing else recorded.
    pub fn new(reason: RetireReason) -> Retirement {
        Retirement {
            reason,
            destruction: None,
            contractor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_medium_moves_only_along_its_allowed_transitions() {
        use MediaStatus::{Destroyed, InStock, Lost, Out, Wiped};
        assert_eq!(InStock.after(Move::CarryOut), Some(Out));
        assert_eq!(InStock.after(Move::HandOver), Some(Out));
        assert_eq!(
            Out.after(Move::CarryOut),
            None,
            "at a vendor: not carried out"
        );
        assert_eq!(Out.after(Move::CarryBack), Some(InStock));
        assert_eq!(InStock.after(Move::CarryBack), None);
        assert_eq!(Out.after(Move::Wipe), Some(Wiped));
        assert_eq!(Wiped.after(Move::CarryOut), None);
        assert_eq!(
            Wiped.after(Move::Receive),
            Some(InStock),
            "wiped by a vendor, back for reuse"
        );
        assert_eq!(InStock.after(Move::Retire(RetireReason::Lost)), Some(Lost));
        assert_eq!(Lost.after(Move::Retire(RetireReason::Destroyed)), None);
        assert_eq!(Destroyed.after(Move::Receive), None);
    }
}
