//! Requests and approvals, shared by every workflow that needs permission: carry-outs,
//! downloads, sending when policy requires it, and disposals.
//!
//! A request is a record with a requester; a manager who is not the requester approves
//! or rejects it (the two-person rule of [`crate::people::Actor::require_approver`]).
//! A record that is itself a request (a carry-out `CO-…`, a download `DL-…`) is
//! approved by its own id; other requests get `RQ-…` ids.

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::Timestamp;
use crate::error::{Denial, Done, Error, Field, RecordKind, Result, Rule};
use crate::ledger::store::{Backend, Query, Row, args};
use crate::ledger::{RecordId, Writer, prove};
use crate::people::Role;
use crate::station::Station;
use crate::vocab::vocabulary;

vocabulary! {
    /// What a request asks permission for.
    pub enum RequestKind (Field::RequestKind) {
        /// Taking data or media out of the office (its own `CO-…` record).
        Carryout = "carryout",
        /// Downloading personal data from a business system (its own `DL-…` record).
        Download = "download",
        /// Sending personal data when `[send] approval = "required"`.
        Send = "send",
        /// Disposing of a retained item or a medium.
        Disposal = "disposal",
        /// Using a newly registered medium (its own `MD-…` record).
        Medium = "medium",
        /// Starting a retained item's period before the day of its registration.
        Backdate = "backdate",
    }
}

vocabulary! {
    /// Where a request is: waiting for a manager, or decided.
    pub enum RequestState (Field::RequestState) {
        /// Filed, not decided.
        Pending = "pending",
        /// Approved by a manager other than the requester.
        Approved = "approved",
        /// Rejected, with a reason.
        Rejected = "rejected",
    }
}

/// A request as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    /// Its id (`RQ-4`, `CO-2`, `DL-1`).
    pub id: RecordId,
    /// What it asks for.
    pub kind: RequestKind,
    /// Who asked.
    pub requester: String,
    /// One line saying what is asked.
    pub summary: String,
    /// When it was filed.
    pub requested_at: Timestamp,
    /// Pending, approved or rejected.
    pub status: RequestState,
    /// The manager who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// The approval comment or the rejection reason.
    pub decision_note: Option<String>,
    /// The record that used this approval (a send's `TX-…`), if any.
    pub used_by: Option<RecordId>,
}

/// What a manager adds to an approval.
#[derive(Debug, Clone, Copy, Default)]
pub struct Approval<'a> {
    /// A comment for the record.
    pub comment: Option<&'a str>,
    /// Why a carry-out of personal data that is not encrypted may go anyway
    /// (recorded in the approval); required for such a carry-out.
    pub accept_unencrypted: Option<&'a str>,
}

/// Checks a required one-line text field.
pub(crate) fn one_line(field: Field, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.contains(['\n', '\r']) {
        return Err(Error::BadValue {
            field,
            value: value.to_owned(),
            rule: Rule::OneLine { max },
        });
    }
    Ok(value.to_string())
}

const SELECT: &str = "SELECT id, kind, requester, summary, requested_at, status, decided_by, decided_at, \
                      decision_note, used_by FROM requests";

fn from_row(r: &Row) -> Result<Request> {
    Ok(Request {
        id: r.get(0)?,
        kind: r.get(1)?,
        requester: r.get(2)?,
        summary: r.get(3)?,
        requested_at: r.get(4)?,
        status: r.get(5)?,
        decided_by: r.get(6)?,
        decided_at: r.get(7)?,
        decision_note: r.get(8)?,
        used_by: r.get(9)?,
    })
}

fn no_request(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Request,
        id: id.to_string(),
    }
}

/// Reads one request inside a write transaction.
pub(crate) fn load_in(w: &Writer<'_>, id: &RecordId) -> Result<Request> {
    w.db()
        .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
        .ok_or_else(|| no_request(id))
}

/// A request as its proven entries make it: the entry that filed it, the decisions
/// about it, and the send or disposal that used it. Refused as tampering when the
/// `requests` row says otherwise (an approval set in the table, a requester changed,
/// a used approval made unused).
pub(crate) fn authentic_in(w: &Writer<'_>, id: &RecordId) -> Result<Request> {
    let row = load_in(w, id)?;
    let mut prover = w.prover();
    let mut derived: Option<Request> = None;
    let mut filed_hash = String::new();
    for e in prover.about(id.as_str())? {
        let filed = |kind: RequestKind, summary: String| Request {
            id: id.clone(),
            kind,
            requester: e.actor.clone(),
            summary,
            requested_at: e.at,
            status: RequestState::Pending,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            used_by: None,
        };
        let text = |key: &str| prove::field(&e, key).unwrap_or("").to_owned();
        let summary = || {
            e.payload
                .as_ref()
                .and_then(|p| crate::ledger::project::request_summary(&e.kind, p))
                .unwrap_or_default()
        };
        let files_medium = e.kind == "media-add"
            && e.payload
                .as_ref()
                .and_then(|p| p.get("needs_approval"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
        if files_medium
            || matches!(
                e.kind.as_str(),
                "request" | "carryout-request" | "download-request"
            )
        {
            filed_hash.clone_from(&e.hash);
        }
        match e.kind.as_str() {
            "request" => {
                // A kind the vocabulary does not know is a damaged entry: it reads as
                // a send request, which no workflow but sending accepts.
                let kind = RequestKind::parse(&text("request_kind")).unwrap_or(RequestKind::Send);
                derived = Some(filed(kind, summary()));
            }
            "carryout-request" => derived = Some(filed(RequestKind::Carryout, summary())),
            "download-request" => derived = Some(filed(RequestKind::Download, summary())),
            "media-add" if files_medium => derived = Some(filed(RequestKind::Medium, summary())),
            "approve" | "reject" if !decision_covers(&e, &filed_hash) => {
                // A decision about another version of the request decides nothing.
            }
            "approve" | "reject" => {
                if let Some(r) = derived.as_mut() {
                    let approved = e.kind == "approve";
                    r.status = if approved {
                        RequestState::Approved
                    } else {
                        RequestState::Rejected
                    };
                    r.decided_by = Some(e.actor.clone());
                    r.decided_at = Some(e.at);
                    r.decision_note = prove::field(&e, if approved { "comment" } else { "reason" })
                        .map(str::to_owned);
                }
            }
            _ => {}
        }
    }
    let Some(mut derived) = derived else {
        return Err(Error::ProjectionsDiffer {
            rows: vec![crate::ledger::RowMismatch {
                table: "requests".into(),
                key: id.to_string(),
                problem: "the row is in the table but no entry filed it".into(),
            }],
        });
    };
    derived.used_by = used_by_in(w, id)?;
    let s = |v: &str| Some(v.to_owned());
    let time = |t: Option<Timestamp>| t.map(Timestamp::ledger);
    let id_text = |i: &Option<RecordId>| i.as_ref().map(ToString::to_string);
    prove::backed(
        "requests",
        id.as_str(),
        &[
            ("kind", s(row.kind.as_str()), s(derived.kind.as_str())),
            ("requester", s(&row.requester), s(&derived.requester)),
            ("status", s(row.status.as_str()), s(derived.status.as_str())),
            (
                "decided_by",
                row.decided_by.clone(),
                derived.decided_by.clone(),
            ),
            ("decided_at", time(row.decided_at), time(derived.decided_at)),
            ("used_by", id_text(&row.used_by), id_text(&derived.used_by)),
        ],
    )?;
    Ok(derived)
}

/// Whether a decision covers the request filed by the entry with hash `filed`: the
/// hash it names must be that entry's. A decision recorded before decisions named
/// what they cover counts as it did then.
fn decision_covers(decision: &crate::ledger::Entry, filed: &str) -> bool {
    match decision
        .payload
        .as_ref()
        .and_then(|p| p.get("covers"))
        .and_then(|c| c.get("hash"))
    {
        Some(hash) => hash.as_str() == Some(filed),
        None => true,
    }
}

/// The record that used the approval `id`: the first send or disposal naming it.
fn used_by_in(w: &Writer<'_>, id: &RecordId) -> Result<Option<RecordId>> {
    w.db()
        .entries_with(
            &["send", "disposal", "media-retire"],
            "$.request",
            id.as_str(),
        )?
        .into_iter()
        .next()
        .map(|(_, subject)| RecordId::parse(&subject))
        .transpose()
}

/// Files an `RQ-…` request inside a write transaction.
pub(crate) fn file_request_in(
    w: &mut Writer<'_>,
    actor: &str,
    kind: RequestKind,
    summary: &str,
    details: Value,
) -> Result<RecordId> {
    let (id, _) = w.create_record(
        actor,
        "request",
        "RQ",
        json!({ "request_kind": kind.as_str(), "summary": summary, "details": details }),
    )?;
    Ok(id)
}

/// Refuses unless `id` is a request of `kind` approved by someone other than
/// `user`, not yet used; returns it.
pub(crate) fn require_approved(
    w: &Writer<'_>,
    id: &RecordId,
    kind: RequestKind,
    action: &str,
) -> Result<Request> {
    let request = authentic_in(w, id)?;
    if request.kind != kind {
        return Err(Error::WrongKind {
            id: id.to_string(),
            kind: format!("{} request", request.kind),
            expected: format!("{kind} request"),
        });
    }
    let refuse = |reason: Denial| Error::NotAllowed {
        actor: request.requester.clone(),
        action: action.to_string(),
        reason: Box::new(reason),
    };
    match request.status {
        RequestState::Approved => {}
        RequestState::Pending => {
            return Err(refuse(Denial::NotApproved {
                request: id.to_string(),
                requester: request.requester.clone(),
            }));
        }
        RequestState::Rejected => {
            return Err(refuse(Denial::Rejected {
                request: id.to_string(),
                by: request.decided_by.clone(),
                note: request.decision_note.clone(),
            }));
        }
    }
    if let Some(used) = &request.used_by {
        return Err(refuse(Denial::ApprovalUsed {
            request: id.to_string(),
            used_by: used.to_string(),
        }));
    }
    Ok(request)
}

impl Station {
    /// Files a request for permission to send or dispose (`RQ-…`).
    pub fn file_request(
        &mut self,
        kind: RequestKind,
        summary: &str,
        details: Value,
    ) -> Result<RecordId> {
        self.actor.require_writer("file a request")?;
        if matches!(
            kind,
            RequestKind::Carryout
                | RequestKind::Download
                | RequestKind::Medium
                | RequestKind::Backdate
        ) {
            return Err(Error::FiledElsewhere { kind });
        }
        let summary = one_line(Field::Summary, summary, 500)?;
        let actor = self.actor.name.clone();
        self.write(|w| file_request_in(w, &actor, kind, &summary, details))
    }

    /// Approves a pending request (a manager who is not the requester).
    pub fn approve(&mut self, id: &RecordId, comment: Option<&str>) -> Result<Request> {
        self.approve_with(
            id,
            &Approval {
                comment,
                accept_unencrypted: None,
            },
        )
    }

    /// Approves a pending request, with everything the approver adds: a comment,
    /// and for a carry-out of personal data that is not encrypted, the reason the
    /// manager accepts that (without one, such a carry-out is not approved).
    pub fn approve_with(&mut self, id: &RecordId, approval: &Approval<'_>) -> Result<Request> {
        self.decide(id, true, approval.comment, approval.accept_unencrypted)
    }

    /// Rejects a pending request with a reason (a manager who is not the requester).
    pub fn reject(&mut self, id: &RecordId, reason: &str) -> Result<Request> {
        self.decide(id, false, Some(reason), None)
    }

    fn decide(
        &mut self,
        id: &RecordId,
        approve: bool,
        note: Option<&str>,
        accept_unencrypted: Option<&str>,
    ) -> Result<Request> {
        let verb = if approve { "approve" } else { "reject" };
        self.actor
            .require_role(&[Role::Manager], &format!("{verb} {id}"))?;
        let note = note
            .map(|n| one_line(Field::Comment, n, 1000))
            .transpose()?;
        let accept_unencrypted = accept_unencrypted
            .map(|n| one_line(Field::Reason, n, 1000))
            .transpose()?;
        let actor = self.actor.clone();
        self.write(|w| {
            let request = authentic_in(w, id)?;
            actor.require_approver(&request.requester, &format!("{verb} {id}"))?;
            if request.status != RequestState::Pending {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Decided {
                        state: request.status,
                        by: request.decided_by,
                        at: request.decided_at,
                    },
                });
            }
            // The decision covers the request as filed: the entry that filed it (whose
            // hash commits to what, who, where and until when), and its summary for
            // whoever reads the decision alone.
            let mut covers = w.covers(id)?;
            covers["summary"] = Value::String(request.summary.clone());
            let mut payload = json!({
                "request_kind": request.kind.as_str(),
                "requester": request.requester,
                "covers": covers,
            });
            if let Some(note) = &note {
                payload[if approve { "comment" } else { "reason" }] = Value::String(note.clone());
            }
            if approve
                && request.kind == RequestKind::Carryout
                && crate::registers::carryout::unencrypted_personal_data_in(w, id)?
            {
                let Some(reason) = &accept_unencrypted else {
                    return Err(Error::NotAllowed {
                        actor: actor.name.clone(),
                        action: format!("approve {id}"),
                        reason: Box::new(Denial::Unencrypted {
                            request: id.to_string(),
                        }),
                    });
                };
                payload["accepted_unencrypted"] = Value::String(reason.clone());
            }
            // An approved earlier start moves the item's period in the same transaction.
            let start = if approve && request.kind == RequestKind::Backdate {
                Some(crate::retention::backdate_start_in(w, id)?)
            } else {
                None
            };
            w.append(&actor.name, verb, id.as_str(), &payload)?;
            if let Some((item, start)) = start {
                w.append(&actor.name, "retain-start", item.as_str(), &start)?;
            }
            load_in(w, id)
        })
    }

    /// The request register, oldest first; only pending ones with `pending_only`.
    pub fn requests(&self, pending_only: bool) -> Result<Vec<Request>> {
        let sql = if pending_only {
            format!("{SELECT} WHERE status = 'pending' ORDER BY requested_at")
        } else {
            format!("{SELECT} ORDER BY requested_at")
        };
        self.ledger.db().map(&sql, &[], from_row)
    }

    /// One request by id.
    pub fn request(&self, id: &RecordId) -> Result<Request> {
        self.ledger
            .db()
            .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
            .ok_or_else(|| no_request(id))
    }
}
