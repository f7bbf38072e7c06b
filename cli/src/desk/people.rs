//! The people register at the desk, for managers and auditors; a manager invites a
//! person to enrol a passkey here, with their own passkey.
//!
//! The invitation's token is made in the manager's browser and never reaches the
//! desk: the desk records its SHA-256 only, so it never holds a link that works. The
//! passkey the link enrols signs only once another manager confirms it with their
//! personal key.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use custody_core::people::Role;
use serde::Deserialize;
use serde_json::json;

use super::Desk;
use super::pages::{Frame, html, message, refusal};
use super::session::{Signed, Work, api_error, api_refusal, origin_of};
use super::web::Reader;

/// One person, as the page shows them.
struct PersonRow {
    name: String,
    role: String,
    status: String,
    key_id: String,
    /// Whether the reader may invite them (a manager, and they are not removed).
    invite: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage<'a> {
    f: &'a Frame,
    people: Vec<PersonRow>,
    manager: bool,
}

/// `GET /people`: everyone registered, with a manager's invitation to enrol a passkey.
pub(crate) async fn page(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let read = super::acts::read_signed_in(&desk, &headers, |s| s.register()).await;
    let Some((name, role, people)) = read else {
        return reader.respond(Redirect::to("/signin"));
    };
    if !role.is_some_and(Role::oversees) {
        return reader.respond(refusal(
            &desk,
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-oversight-only",
        ));
    }
    let f = Frame::for_reader(&desk, &reader, Some(name)).with_role(role);
    let people = match people {
        Ok(people) => people,
        Err(e) => {
            return reader.respond(message(
                &f,
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::say::error(&e).unwrap_or_else(|| e.to_string()),
            ));
        }
    };
    let lang = reader.lang;
    let manager = role == Some(Role::Manager);
    let people = people
        .into_iter()
        .map(|p| PersonRow {
            invite: manager && p.removed.is_none(),
            role: crate::i18n::word_in(lang, "role", p.role.as_str()),
            status: crate::i18n::word_in(lang, "person-status", p.status()),
            key_id: p
                .keys
                .key_id
                .clone()
                .or_else(|| p.keys.pending.clone())
                .unwrap_or_else(|| "-".into()),
            name: p.name,
        })
        .collect();
    reader.respond(html(
        StatusCode::OK,
        &PeoplePage {
            f: &f,
            people,
            manager,
        },
    ))
}

/// `GET /api/people`: the register as `custody people list --json` prints it.
pub(crate) async fn api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let read = super::acts::read_signed_in(&desk, &headers, |s| s.register()).await;
    match read {
        None => api_refusal(reader.lang, StatusCode::UNAUTHORIZED, "desk-signin-needed"),
        Some((_, role, _)) if !role.is_some_and(Role::oversees) => {
            api_refusal(reader.lang, StatusCode::FORBIDDEN, "desk-oversight-only")
        }
        Some((_, _, Ok(people))) => Json(people).into_response(),
        Some((_, _, Err(e))) => api_error(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct Invitation {
    /// SHA-256 (hex) of the token the manager's browser made.
    token_sha256: String,
}

/// `POST /api/people/{name}/invite/prepare`: an invitation for `name`, valid 24
/// hours, for the manager's passkey to sign.
pub(crate) async fn invite_prepare(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(name): Path<String>,
    Json(invitation): Json<Invitation>,
) -> Response {
    let actor = match super::acts::acting(&desk, &reader, &headers).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let expires = custody_core::people::passkey::invitation_expires();
    let work = Work::Invite {
        name,
        desk: origin_of(&headers, desk.tls),
        token_sha256: invitation.token_sha256,
        expires,
    };
    let owner = desk.memory_owner(&headers);
    super::acts::prepare(&desk, &actor, work, &owner).await
}

/// `POST /api/people/invite/finish`: the invitation, signed; recorded or refused. The
/// browser then shows the link, which only it holds.
pub(crate) async fn invite_finish(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Json(signed): Json<Signed>,
) -> Response {
    let expires = match desk.memory.work_of(&signed.pending) {
        Some(Work::Invite { expires, .. }) => expires.local_minute(),
        _ => String::new(),
    };
    let inviting = |w: &Work| matches!(w, Work::Invite { .. });
    match super::acts::finish_acting(&desk, &reader, &headers, &signed, inviting).await {
        Ok(id) => Json(json!({ "done": id, "expires": expires })).into_response(),
        Err(response) => response,
    }
}
