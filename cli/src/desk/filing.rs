//! Filing at the desk: a carry-out, a request to send, a download, each signed with
//! the filer's passkey as the command line's `carryout new`, `request new` and
//! `download new` are signed with their personal key; and the state of what they
//! filed.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use custody_core::registers::carryout::NewCarryout;
use custody_core::{Error, Field, RecordId, Rule};
use serde::Deserialize;
use serde_json::json;

use super::Desk;
use super::kept::read_as;
use super::pages::{Frame, html, message};
use super::session::{Signed, Work, api_error, api_refusal};
use super::web::Reader;

/// One request the reader filed, worded.
struct Mine {
    id: String,
    kind: String,
    summary: String,
    requested_at: String,
    status: String,
    decided_by: String,
    note: String,
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage<'a> {
    f: &'a Frame,
    mine: Vec<Mine>,
}

/// `GET /api/file`: every request the reader filed, oldest first, each as `custody
/// requests --json` prints it.
pub(crate) async fn mine_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let read = super::acts::read_signed_in(&desk, &headers, |s| {
        let who = s.actor().name.clone();
        Ok(s.requests(false)?
            .into_iter()
            .filter(|r| r.requester == who)
            .collect::<Vec<_>>())
    })
    .await;
    match read {
        Some((_, _, Ok(mine))) => Json(mine).into_response(),
        Some((_, _, Err(e))) => api_error(&e),
        None => api_refusal(reader.lang, StatusCode::UNAUTHORIZED, "desk-signin-needed"),
    }
}

/// `GET /file`: the forms to file a carry-out, a request to send and a download, and
/// the state of every request the reader filed, newest first.
pub(crate) async fn page(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let Some((name, role)) = super::acts::signed_in(&desk, &headers).await else {
        return reader.respond(Redirect::to("/signin"));
    };
    let f = Frame::for_reader(&desk, &reader, Some(name.clone())).with_role(role);
    let lang = reader.lang;
    let who = name.clone();
    let filed = read_as(&desk, &name, move |s| {
        Ok(s.requests(false)?
            .into_iter()
            .filter(|r| r.requester == who)
            .collect::<Vec<_>>())
    })
    .await;
    match filed {
        Ok(filed) => {
            let mine = filed
                .into_iter()
                .rev()
                .map(|r| Mine {
                    id: r.id.to_string(),
                    kind: crate::i18n::word_in(lang, "request-kind", r.kind.as_str()),
                    summary: r.summary,
                    requested_at: r.requested_at.local_minute(),
                    status: crate::i18n::word_in(lang, "approval", &r.status.to_string()),
                    decided_by: r.decided_by.unwrap_or_default(),
                    note: r.decision_note.unwrap_or_default(),
                })
                .collect();
            reader.respond(html(StatusCode::OK, &FilePage { f: &f, mine }))
        }
        Err(e) => reader.respond(message(
            &f,
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::say::error(&e).unwrap_or_else(|| e.to_string()),
        )),
    }
}

/// A form's fields, as the desk's script posts them.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Filing {
    what: String,
    reason: String,
    destination: String,
    return_by: String,
    transport: String,
    personal_data: bool,
    records: String,
    media: String,
    transfer: String,
    summary: String,
    content: String,
    system: String,
}

/// An optional record id typed in a form.
fn optional_id(text: &str) -> custody_core::Result<Option<RecordId>> {
    let text = text.trim();
    (!text.is_empty())
        .then(|| RecordId::parse(text))
        .transpose()
}

impl Filing {
    /// The workflow the form asks for; `kind` is the form's.
    fn work(self, kind: &str) -> custody_core::Result<Work> {
        Ok(match kind {
            "carryout" => {
                let records = match self.records.trim() {
                    "" => None,
                    text => Some(text.parse::<u64>().map_err(|_| Error::BadValue {
                        field: Field::Count,
                        value: text.to_owned(),
                        rule: Rule::Like("1200"),
                    })?),
                };
                Work::FileCarryout(NewCarryout {
                    what: self.what,
                    reason: self.reason,
                    destination: self.destination,
                    return_by: self.return_by,
                    transport: self.transport,
                    media: optional_id(&self.media)?,
                    transfer: optional_id(&self.transfer)?,
                    personal_data: self.personal_data,
                    records,
                    personal_file: None,
                })
            }
            "send" => Work::FileSend {
                summary: self.summary,
            },
            "download" => Work::FileDownload {
                content: self.content,
                system: self.system,
            },
            other => {
                return Err(Error::BadValue {
                    field: Field::RecordId,
                    value: other.to_owned(),
                    rule: Rule::OneOf(vec!["carryout".into(), "send".into(), "download".into()]),
                });
            }
        })
    }
}

/// `POST /api/file/{kind}/prepare`: the filing, checked by the workflow and made
/// ready for the filer's passkey; nothing is recorded yet.
pub(crate) async fn prepare(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Json(filing): Json<Filing>,
) -> Response {
    let name = match super::acts::acting(&desk, &reader, &headers).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let work = match filing.work(&kind) {
        Ok(work) => work,
        Err(e) => return api_error(&e),
    };
    let owner = desk.memory_owner(&headers);
    super::acts::prepare(&desk, &name, work, &owner).await
}

/// `POST /api/file/finish`: the filing, signed; recorded or refused.
pub(crate) async fn finish(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Json(signed): Json<Signed>,
) -> Response {
    let filing = |w: &Work| {
        matches!(
            w,
            Work::FileCarryout(_) | Work::FileSend { .. } | Work::FileDownload { .. }
        )
    };
    match super::acts::finish_acting(&desk, &reader, &headers, &signed, filing).await {
        Ok(id) => {
            let next = match id.as_str().split('-').next() {
                Some("CO") => "/carryouts",
                Some("DL") => "/downloads",
                _ => "/file",
            };
            Json(json!({ "filed": id, "next": next })).into_response()
        }
        Err(response) => response,
    }
}

/// What a hold says.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Holding {
    reason: String,
}

/// `POST /api/retained/{id}/{act}/prepare`: a hold (with its reason) or a release,
/// checked by the workflow and made ready for the manager's passkey.
pub(crate) async fn hold_prepare(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path((id, act)): Path<(String, String)>,
    Json(holding): Json<Holding>,
) -> Response {
    let name = match super::acts::acting(&desk, &reader, &headers).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let id = match RecordId::parse(&id) {
        Ok(id) => id,
        Err(e) => return api_error(&e),
    };
    let work = match act.as_str() {
        "hold" => Work::Hold {
            id,
            reason: holding.reason,
        },
        "release" => Work::Release { id },
        _ => {
            return api_refusal(reader.lang, StatusCode::BAD_REQUEST, "desk-hold-unknown");
        }
    };
    let owner = desk.memory_owner(&headers);
    super::acts::prepare(&desk, &name, work, &owner).await
}

/// `POST /api/retained/finish`: the hold or release, signed; recorded or refused.
pub(crate) async fn hold_finish(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Json(signed): Json<Signed>,
) -> Response {
    let holding = |w: &Work| matches!(w, Work::Hold { .. } | Work::Release { .. });
    match super::acts::finish_acting(&desk, &reader, &headers, &signed, holding).await {
        Ok(id) => Json(json!({ "done": id, "next": "/retention" })).into_response(),
        Err(response) => response,
    }
}
