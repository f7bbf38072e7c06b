//! Requests and approvals, shared by every workflow that needs permission: carry-outs,
//! downloads, sending when policy requires it, and disposals.
//!
//! A request is a record with a requester; a manager who is not the requester approves
//! or rejects it (the two-person rule of [`crate::people::Actor::require_approver`]).
//! A record that is itself a request (a carry-out `CO-…`, a download `DL-…`) is
//! approved by its own id; other requests get `RQ-…` ids.

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::ledger::store::{Backend, Query, Row, args};
use crate::ledger::{RecordId, Writer, prove};
use crate::people::Role;
use crate::station::Station;

/// What a request asks permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// Taking data or media out of the office (its own `CO-…` record).
    Carryout,
    /// Downloading personal data from a business system (its own `DL-…` record).
    Download,
    /// Sending personal data when `[send] approval = "required"`.
    Send,
    /// Disposing of a retained item.
    Disposal,
}

impl RequestKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Carryout => "carryout",
            RequestKind::Download => "download",
            RequestKind::Send => "send",
            RequestKind::Disposal => "disposal",
        }
    }

    fn parse(text: &str) -> Result<RequestKind> {
        match text {
            "carryout" => Ok(RequestKind::Carryout),
            "download" => Ok(RequestKind::Download),
            "send" => Ok(RequestKind::Send),
            "disposal" => Ok(RequestKind::Disposal),
            _ => Err(Error::Invalid(format!(
                "unknown request kind {text:?} in the ledger"
            ))),
        }
    }
}

/// A request as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    /// Its id (`RQ-4`, `CO-2`, `DL-1`).
    pub id: String,
    /// What it asks for.
    pub kind: RequestKind,
    /// Who asked.
    pub requester: String,
    /// One line saying what is asked.
    pub summary: String,
    /// When it was filed.
    pub requested_at: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The manager who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// The approval comment or the rejection reason.
    pub decision_note: Option<String>,
    /// The record that used this approval (a send's `TX-…`), if any.
    pub used_by: Option<String>,
}

/// Checks a required one-line text field.
pub(crate) fn one_line(what: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.contains(['\n', '\r']) {
        return Err(Error::Invalid(format!(
            "{what} must be one line of 1 to {max} characters"
        )));
    }
    Ok(value.to_string())
}

const SELECT: &str = "SELECT id, kind, requester, summary, requested_at, status, decided_by, decided_at, \
                      decision_note, used_by FROM requests";

fn from_row(r: &Row) -> Result<(Request, String)> {
    let kind: String = r.get(1)?;
    Ok((
        Request {
            id: r.get(0)?,
            kind: RequestKind::Carryout,
            requester: r.get(2)?,
            summary: r.get(3)?,
            requested_at: r.get(4)?,
            status: r.get(5)?,
            decided_by: r.get(6)?,
            decided_at: r.get(7)?,
            decision_note: r.get(8)?,
            used_by: r.get(9)?,
        },
        kind,
    ))
}

fn finish((mut request, kind): (Request, String)) -> Result<Request> {
    request.kind = RequestKind::parse(&kind)?;
    Ok(request)
}

/// Reads one request inside a write transaction.
pub(crate) fn load_in(w: &Writer<'_>, id: &RecordId) -> Result<Request> {
    let row = w
        .db()
        .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?;
    finish(row.ok_or_else(|| Error::NoSuchRecord(format!("{id} (no request with that id)")))?)
}

/// A request as its proven entries make it: the entry that filed it, the decisions
/// about it, and the send or disposal that used it. Refused as tampering when the
/// `requests` row says otherwise (an approval set in the table, a requester changed,
/// a used approval made unused).
pub(crate) fn authentic_in(w: &Writer<'_>, id: &RecordId) -> Result<Request> {
    let row = load_in(w, id)?;
    let mut prover = w.prover();
    let mut derived: Option<Request> = None;
    for e in prover.about(id.as_str())? {
        let filed = |kind: &str, summary: String| Request {
            id: id.to_string(),
            kind: RequestKind::parse(kind).unwrap_or(RequestKind::Send),
            requester: e.actor.clone(),
            summary,
            requested_at: e.at.clone(),
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            used_by: None,
        };
        let text = |key: &str| prove::field(&e, key).unwrap_or("").to_owned();
        match e.kind.as_str() {
            "request" => derived = Some(filed(&text("request_kind"), text("summary"))),
            "carryout-request" => {
                let summary = format!("carry out {} to {}", text("what"), text("destination"));
                derived = Some(filed("carryout", summary));
            }
            "download-request" => {
                let summary = format!("download {} from {}", text("content"), text("system"));
                derived = Some(filed("download", summary));
            }
            "approve" | "reject" => {
                if let Some(r) = derived.as_mut() {
                    let approved = e.kind == "approve";
                    r.status = if approved { "approved" } else { "rejected" }.into();
                    r.decided_by = Some(e.actor.clone());
                    r.decided_at = Some(e.at.clone());
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
    prove::backed(
        "requests",
        id.as_str(),
        &[
            ("kind", s(row.kind.as_str()), s(derived.kind.as_str())),
            ("requester", s(&row.requester), s(&derived.requester)),
            ("status", s(&row.status), s(&derived.status)),
            (
                "decided_by",
                row.decided_by.clone(),
                derived.decided_by.clone(),
            ),
            (
                "decided_at",
                row.decided_at.clone(),
                derived.decided_at.clone(),
            ),
            ("used_by", row.used_by.clone(), derived.used_by.clone()),
        ],
    )?;
    Ok(derived)
}

/// The record that used the approval `id`: the first send or disposal naming it.
fn used_by_in(w: &Writer<'_>, id: &RecordId) -> Result<Option<String>> {
    Ok(w.db()
        .entries_with(&["send", "disposal"], "$.request", id.as_str())?
        .into_iter()
        .next()
        .map(|(_, subject)| subject))
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
        return Err(Error::Invalid(format!(
            "{id} is a {} request, not a {} request",
            request.kind.as_str(),
            kind.as_str()
        )));
    }
    match request.status.as_str() {
        "approved" => {}
        "pending" => {
            return Err(Error::NotAllowed {
                actor: request.requester.clone(),
                action: action.to_string(),
                reason: format!(
                    "{id} is not approved yet; a manager other than {} approves it with `custody approve {id}`",
                    request.requester
                ),
            });
        }
        _ => {
            return Err(Error::NotAllowed {
                actor: request.requester.clone(),
                action: action.to_string(),
                reason: format!(
                    "{id} was rejected by {}: {}",
                    request.decided_by.as_deref().unwrap_or("a manager"),
                    request.decision_note.as_deref().unwrap_or("")
                ),
            });
        }
    }
    if let Some(used) = &request.used_by {
        return Err(Error::NotAllowed {
            actor: request.requester.clone(),
            action: action.to_string(),
            reason: format!("the approval {id} was already used by {used}; file a new request"),
        });
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
        if matches!(kind, RequestKind::Carryout | RequestKind::Download) {
            return Err(Error::Invalid(format!(
                "a {} is requested with `custody {} new`",
                kind.as_str(),
                kind.as_str()
            )));
        }
        let summary = one_line("the request's summary", summary, 500)?;
        let actor = self.actor.name.clone();
        self.write(|w| file_request_in(w, &actor, kind, &summary, details))
    }

    /// Approves a pending request (a manager who is not the requester).
    pub fn approve(&mut self, id: &RecordId, comment: Option<&str>) -> Result<Request> {
        self.decide(id, true, comment)
    }

    /// Rejects a pending request with a reason (a manager who is not the requester).
    pub fn reject(&mut self, id: &RecordId, reason: &str) -> Result<Request> {
        self.decide(id, false, Some(reason))
    }

    fn decide(&mut self, id: &RecordId, approve: bool, note: Option<&str>) -> Result<Request> {
        let verb = if approve { "approve" } else { "reject" };
        self.actor
            .require_role(&[Role::Manager], &format!("{verb} {id}"))?;
        let note = note.map(|n| one_line("the comment", n, 1000)).transpose()?;
        let actor = self.actor.clone();
        self.write(|w| {
            let request = authentic_in(w, id)?;
            actor.require_approver(&request.requester, &format!("{verb} {id}"))?;
            if request.status != "pending" {
                return Err(Error::Invalid(format!(
                    "{id} was already {} by {} at {}",
                    request.status,
                    request.decided_by.as_deref().unwrap_or("?"),
                    request.decided_at.as_deref().unwrap_or("?")
                )));
            }
            let mut payload =
                json!({ "request_kind": request.kind.as_str(), "requester": request.requester });
            if let Some(note) = &note {
                payload[if approve { "comment" } else { "reason" }] = Value::String(note.clone());
            }
            w.append(&actor.name, verb, id.as_str(), &payload)?;
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
        self.ledger
            .db()
            .map(&sql, &[], from_row)?
            .into_iter()
            .map(finish)
            .collect()
    }

    /// One request by id.
    pub fn request(&self, id: &RecordId) -> Result<Request> {
        let row = self
            .ledger
            .db()
            .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?;
        finish(row.ok_or_else(|| Error::NoSuchRecord(format!("{id} (no request with that id)")))?)
    }
}
