//! The pages where people act with their passkey: enrolment, sign-in and sign-out,
//! and the inbox where managers approve or reject requests.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use custody_core::people::Role;
use custody_core::people::access::Door;
use custody_core::{Error, RecordId};
use serde::Deserialize;
use serde_json::json;

use super::Desk;
use super::pages::{Frame, html, refusal};
use super::session::{
    Signed, Work, api_error, api_refusal, challenge_reply, credentials_for, on_station, origin_of,
    session_set_cookie,
};
use super::web::{Peer, Reader};

/// The CSRF token a script sends with every post.
pub(crate) fn script_token(headers: &HeaderMap) -> &str {
    headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage<'a> {
    f: &'a Frame,
    name: String,
    token: String,
    rp_id: String,
    user_id: String,
    expires: String,
}

/// `GET /enrol/{token}`: the invited person registers a passkey.
pub(crate) async fn enrol_page(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let user = desk.memory.user(&headers, desk.tls);
    let f = Frame::for_reader(&desk, &reader, user);
    let runner = desk.runner.clone();
    let lookup = token.clone();
    match on_station(&desk, &runner, move |s| s.invitation(&lookup)).await {
        Ok(pending) => {
            use sha2::Digest as _;
            let user_id = custody_core::people::passkey::b64url(
                &sha2::Sha256::digest(pending.name.as_bytes())[..16],
            );
            reader.respond(html(
                StatusCode::OK,
                &EnrolPage {
                    f: &f,
                    name: pending.name,
                    token,
                    rp_id: pending.rp_id,
                    user_id,
                    expires: pending.expires.local_minute(),
                },
            ))
        }
        Err(_) => reader.respond(refusal(
            &desk,
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-enrol-invalid",
        )),
    }
}

#[derive(Deserialize)]
pub(crate) struct NewPasskey {
    credential: String,
    public_key: String,
}

/// `POST /api/enrol/{token}/prepare`: the passkey the browser made, to be recorded
/// with a signature by that passkey.
pub(crate) async fn enrol_prepare(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(token): Path<String>,
    Json(new): Json<NewPasskey>,
) -> Response {
    if !reader.csrf_matches(script_token(&headers)) {
        return api_refusal(reader.lang, StatusCode::FORBIDDEN, "desk-forbidden-csrf");
    }
    let runner = desk.runner.clone();
    let lookup = token.clone();
    let name = match on_station(&desk, &runner, move |s| s.invitation(&lookup)).await {
        Ok(pending) => pending.name,
        Err(e) => return api_error(&e),
    };
    let work = Work::Enrol {
        token,
        credential: new.credential,
        public_key: new.public_key,
    };
    prepare(&desk, &name, work, &reader.csrf).await
}

/// Prepares `work` as `name`'s act, keeps it for `owner`, and answers with its
/// challenge.
pub(crate) async fn prepare(desk: &Arc<Desk>, name: &str, work: Work, owner: &str) -> Response {
    let run = work.clone();
    let prepared = on_station(desk, name, move |s| {
        let act = s.prepare_passkey_act(|s| run.run(s))?;
        let credentials = credentials_for(s, &act)?;
        Ok((act, credentials))
    })
    .await;
    match prepared {
        Ok((act, credentials)) => {
            let Some(handle) = desk.memory.wait(act.clone(), work, owner) else {
                return api_refusal(desk.lang, StatusCode::SERVICE_UNAVAILABLE, "desk-busy");
            };
            challenge_reply(&handle, &act, &credentials)
        }
        Err(e) => api_error(&e),
    }
}

/// Records a prepared act with its signature: the same workflow runs again.
pub(crate) async fn finish(
    desk: &Arc<Desk>,
    signed: &Signed,
    owner: &str,
    expected: fn(&Work) -> bool,
) -> Result<(String, RecordId), Response> {
    // Each endpoint finishes its own kind of act only (sign-in finishes a sign-in).
    let taken = desk
        .memory
        .take(&signed.pending, owner)
        .filter(|(_, work)| expected(work));
    let Some((act, work)) = taken else {
        return Err(api_error(&Error::PasskeyRefused {
            why: custody_core::PasskeyProblem::Changed,
        }));
    };
    let Some(assertion) = signed.assertion() else {
        return Err(api_error(&Error::PasskeyRefused {
            why: custody_core::PasskeyProblem::Invalid("the assertion is not base64url".into()),
        }));
    };
    let name = act.actor.clone();
    on_station(desk, &name, move |s| {
        s.sign_passkey_act(&act, &assertion, |s| work.run(s))
    })
    .await
    .map(|id| (name, id))
    .map_err(|e| api_error(&e))
}

/// `POST /api/enrol/{token}/finish`: the passkey's signature over its enrolment.
pub(crate) async fn enrol_finish(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Json(signed): Json<Signed>,
) -> Response {
    if !reader.csrf_matches(script_token(&headers)) {
        return api_refusal(reader.lang, StatusCode::FORBIDDEN, "desk-forbidden-csrf");
    }
    // The passkey's id, which the person reads out to the manager who confirms it.
    let key_id = match desk.memory.work_of(&signed.pending) {
        Some(Work::Enrol { public_key, .. }) => {
            custody_core::people::passkey::PasskeyKey::id_of(&public_key)
        }
        _ => String::new(),
    };
    let enrolment = |w: &Work| matches!(w, Work::Enrol { .. });
    match finish(&desk, &signed, &reader.csrf, enrolment).await {
        Ok((name, _)) => {
            Json(json!({ "enrolled": name, "key_id": key_id, "next": "/signin" })).into_response()
        }
        Err(response) => response,
    }
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage<'a> {
    f: &'a Frame,
}

/// `GET /signin`.
pub(crate) async fn signin_page(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    if desk.memory.user(&headers, desk.tls).is_some() {
        return reader.respond(Redirect::to("/inbox"));
    }
    let f = Frame::for_reader(&desk, &reader, None);
    reader.respond(html(StatusCode::OK, &SignInPage { f: &f }))
}

#[derive(Deserialize)]
pub(crate) struct Who {
    name: String,
}

/// `POST /api/signin/prepare`: the sign-in record, for the person's passkey to sign.
pub(crate) async fn signin_prepare(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Extension(peer): Extension<Peer>,
    Json(who): Json<Who>,
) -> Response {
    if !reader.csrf_matches(script_token(&headers)) {
        return api_refusal(reader.lang, StatusCode::FORBIDDEN, "desk-forbidden-csrf");
    }
    let name = who.name.trim().to_owned();
    if desk.memory.throttled(Some(peer.0)) {
        desk.knock(Door::Throttled, &name, &peer.0.to_string())
            .await;
        return api_refusal(
            reader.lang,
            StatusCode::TOO_MANY_REQUESTS,
            "desk-signin-wait",
        );
    }
    desk.memory.attempted(Some(peer.0));
    let response = if custody_core::people::check_name(&name).is_ok() {
        let work = Work::SignIn {
            desk: origin_of(&headers, desk.tls),
        };
        prepare(&desk, &name, work, &reader.csrf).await
    } else {
        StatusCode::FORBIDDEN.into_response()
    };
    if response.status().is_success() {
        return response;
    }
    // Who is registered, and who has a passkey, is not told to a stranger: the
    // answer looks the same, and the signature made over it is refused at the end,
    // where the failure is counted, as for anyone's.
    eprintln!(
        "{}",
        crate::i18n::t!("desk-log-signin-failed", name = name, from = peer.0)
    );
    desk.knock(Door::Failed, &name, &peer.0.to_string()).await;
    let decoy = super::web::new_token();
    Json(json!({
        "pending": super::web::new_token(),
        "challenge": decoy,
        "credentials": [],
        "record": { "kind": "desk-sign-in", "actor": name },
    }))
    .into_response()
}

/// `POST /api/signin/finish`: the signed sign-in record; a new session.
pub(crate) async fn signin_finish(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Extension(peer): Extension<Peer>,
    Json(signed): Json<Signed>,
) -> Response {
    if !reader.csrf_matches(script_token(&headers)) {
        return api_refusal(reader.lang, StatusCode::FORBIDDEN, "desk-forbidden-csrf");
    }
    let from = peer.0.to_string();
    // The name the act was prepared for, if one waits (a decoy's is nobody's).
    let named = desk.memory.waiting_for(&signed.pending).unwrap_or_default();
    if desk.memory.throttled(Some(peer.0)) {
        desk.knock(Door::Throttled, &named, &from).await;
        return api_refusal(
            reader.lang,
            StatusCode::TOO_MANY_REQUESTS,
            "desk-signin-wait",
        );
    }
    let sign_in = |w: &Work| matches!(w, Work::SignIn { .. });
    match finish(&desk, &signed, &reader.csrf, sign_in).await {
        Ok((name, _)) => {
            desk.knock(Door::SignIn, &name, &from).await;
            // Whatever session the browser had is over; the new one starts now.
            desk.memory.end(&headers, desk.tls);
            let id = desk.memory.start(&name);
            let mut response = Json(json!({ "signed_in": name, "next": "/inbox" })).into_response();
            if let Ok(value) = session_set_cookie(&id, desk.tls).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            reader.respond(response)
        }
        Err(_) => {
            desk.memory.failed(Some(peer.0));
            // A decoy's failure (no such person to sign in) is in the journal already,
            // from when the name was given.
            if !named.is_empty() {
                eprintln!(
                    "{}",
                    crate::i18n::t!("desk-log-signin-failed", name = named, from = peer.0)
                );
                desk.knock(Door::Failed, &named, &from).await;
            }
            api_refusal(reader.lang, StatusCode::FORBIDDEN, "desk-signin-failed")
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct Form {
    csrf: String,
}

/// `POST /signout`.
pub(crate) async fn signout(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Extension(peer): Extension<Peer>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    if !reader.csrf_matches(&form.csrf) {
        return reader.respond(refusal(
            &desk,
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-forbidden-csrf",
        ));
    }
    if let Some(name) = desk.memory.end(&headers, desk.tls) {
        desk.knock(Door::SignOut, &name, &peer.0.to_string()).await;
    }
    let mut response = Redirect::to("/").into_response();
    let expired = format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        super::session::session_cookie(desk.tls),
        if desk.tls { "; Secure" } else { "" }
    );
    if let Ok(value) = expired.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    reader.respond(response)
}

/// One request waiting for a decision, as the inbox shows it.
struct Waiting {
    id: String,
    kind: String,
    requester: String,
    summary: String,
    requested_at: String,
    /// Whether this reader may decide it.
    decides: bool,
    /// A carry-out of personal data with neither an encrypted medium nor an
    /// encrypted transfer: approving it needs the manager's reason.
    unencrypted: bool,
    /// A carry-out's fields, named.
    details: Vec<(String, String)>,
}

/// A carry-out's fields as the approver reads them.
fn carryout_facts(
    lang: custody_core::Lang,
    c: &custody_core::registers::carryout::Carryout,
) -> Vec<(String, String)> {
    let t = |id: &str| crate::i18n::text_in(lang, id, &[]);
    let mut facts = vec![
        (t("desk-col-what"), c.what.clone()),
        (t("desk-file-reason"), c.reason.clone()),
        (t("desk-col-to"), c.destination.clone()),
        (t("desk-col-return-by"), c.return_by.deadline()),
        (t("desk-file-transport"), c.transport.clone()),
        (
            t("desk-file-personal"),
            t(if c.personal_data { "yes" } else { "no" }),
        ),
    ];
    if let Some(records) = c.records {
        facts.push((t("desk-file-records"), records.to_string()));
    }
    if let Some(media) = &c.media {
        facts.push((t("desk-col-medium"), media.to_string()));
    }
    facts.push((
        t("desk-col-encrypted"),
        super::lists::protection_in(lang, &c.encrypted),
    ));
    facts
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage<'a> {
    f: &'a Frame,
    waiting: Vec<Waiting>,
    manager: bool,
}

/// The signed-in person whose passkey still stands, or the page to go to instead.
pub(crate) async fn signed_in(
    desk: &Arc<Desk>,
    headers: &HeaderMap,
) -> Option<(String, Option<Role>)> {
    read_signed_in(desk, headers, |_| Ok(()))
        .await
        .map(|(name, role, _)| (name, role))
}

/// The person signed in, if they still stand, and what `f` reads for them: one
/// opening of their station serves both (each opening proves their role from the
/// entries, which is most of what a page costs).
pub(crate) async fn read_signed_in<T: Send + 'static>(
    desk: &Arc<Desk>,
    headers: &HeaderMap,
    f: impl FnOnce(&mut custody_core::Station) -> custody_core::Result<T> + Send + 'static,
) -> Option<(String, Option<Role>, custody_core::Result<T>)> {
    let name = desk.memory.user(headers, desk.tls)?;
    match super::kept::as_standing(desk, &name, f).await {
        Some((role, read)) => Some((name, role, read)),
        None => {
            // Removed, or their passkeys revoked: every session of theirs ends now.
            desk.memory.end_all(&name);
            desk.kept.forget(&name);
            None
        }
    }
}

/// `GET /inbox`: requests waiting for a decision, oldest first.
pub(crate) async fn inbox(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let lang = reader.lang;
    // A carry-out is shown whole: what, why, where to, until when, how, on what.
    let read = read_signed_in(&desk, &headers, |s| {
        s.requests(true)?
            .into_iter()
            .map(|r| {
                let carryout = if r.kind == custody_core::registers::requests::RequestKind::Carryout
                {
                    s.carryout(&r.id).ok()
                } else {
                    None
                };
                Ok((r, carryout))
            })
            .collect::<custody_core::Result<Vec<_>>>()
    })
    .await;
    let Some((name, role, requests)) = read else {
        return reader.respond(Redirect::to("/signin"));
    };
    let f = Frame::for_reader(&desk, &reader, Some(name.clone())).with_role(role);
    let requests = match requests {
        Ok(requests) => requests,
        Err(e) => {
            let message = crate::say::error(&e).unwrap_or_else(|| e.to_string());
            return reader.respond(super::pages::message(
                &f,
                StatusCode::INTERNAL_SERVER_ERROR,
                message,
            ));
        }
    };
    let manager = role == Some(Role::Manager);
    let waiting = requests
        .into_iter()
        .map(|(r, carryout)| Waiting {
            decides: manager && r.requester != name,
            id: r.id.to_string(),
            kind: crate::i18n::word_in(lang, "request-kind", r.kind.as_str()),
            requester: r.requester,
            summary: r.summary,
            requested_at: r.requested_at.local_minute(),
            unencrypted: carryout
                .as_ref()
                .is_some_and(|c| c.personal_data && c.encrypted == "no"),
            details: carryout
                .map(|c| carryout_facts(lang, &c))
                .unwrap_or_default(),
        })
        .collect();
    reader.respond(html(
        StatusCode::OK,
        &InboxPage {
            f: &f,
            waiting,
            manager,
        },
    ))
}

/// `GET /api/inbox`: what waits for a decision, as `requests --pending --json` prints
/// it.
pub(crate) async fn inbox_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let read = read_signed_in(&desk, &headers, |s| {
        let list = s.requests(true)?;
        crate::registers::pending(s, &list)
    })
    .await;
    match read {
        Some((_, _, Ok(shown))) => Json(shown).into_response(),
        Some((_, _, Err(e))) => api_error(&e),
        None => api_refusal(reader.lang, StatusCode::UNAUTHORIZED, "desk-signin-needed"),
    }
}

#[derive(Deserialize)]
pub(crate) struct Decision {
    decision: String,
    #[serde(default)]
    note: String,
    /// Why the manager accepts a carry-out of personal data unencrypted.
    #[serde(default)]
    accept_unencrypted: String,
}

/// The person signed in who posts from the desk's script: this browser's token is
/// checked first, then the session; otherwise the answer that refuses them.
pub(crate) async fn acting(
    desk: &Arc<Desk>,
    reader: &Reader,
    headers: &HeaderMap,
) -> Result<String, Response> {
    if !reader.csrf_matches(script_token(headers)) {
        return Err(api_refusal(
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-forbidden-csrf",
        ));
    }
    match signed_in(desk, headers).await {
        Some((name, _)) => Ok(name),
        None => Err(api_refusal(
            reader.lang,
            StatusCode::UNAUTHORIZED,
            "desk-signin-needed",
        )),
    }
}

/// Records the act a signed-in person prepared, with their signature: only an act
/// that `expected` accepts (each endpoint finishes its own kind). The record's id.
pub(crate) async fn finish_acting(
    desk: &Arc<Desk>,
    reader: &Reader,
    headers: &HeaderMap,
    signed: &Signed,
    expected: fn(&Work) -> bool,
) -> Result<RecordId, Response> {
    acting(desk, reader, headers).await?;
    let owner = desk.memory_owner(headers);
    finish(desk, signed, &owner, expected)
        .await
        .map(|(_, id)| id)
}

/// `POST /api/requests/{id}/prepare`: an approval or rejection, for the manager's
/// passkey to sign. Core decides who may: a clerk's session gets 403 here.
pub(crate) async fn decide_prepare(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(decision): Json<Decision>,
) -> Response {
    let name = match acting(&desk, &reader, &headers).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let id = match RecordId::parse(&id) {
        Ok(id) => id,
        Err(e) => return api_error(&e),
    };
    let note = Some(decision.note.trim().to_owned()).filter(|n| !n.is_empty());
    let accept_unencrypted =
        Some(decision.accept_unencrypted.trim().to_owned()).filter(|n| !n.is_empty());
    let work = match decision.decision.as_str() {
        "approve" => Work::Decide {
            id,
            approve: true,
            note,
            accept_unencrypted,
        },
        "reject" => Work::Decide {
            id,
            approve: false,
            note,
            accept_unencrypted: None,
        },
        _ => {
            return api_refusal(
                reader.lang,
                StatusCode::BAD_REQUEST,
                "desk-decision-unknown",
            );
        }
    };
    let owner = desk.memory_owner(&headers);
    prepare(&desk, &name, work, &owner).await
}

/// `POST /api/requests/{id}/finish`: the decision, signed; recorded or refused.
pub(crate) async fn decide_finish(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Json(signed): Json<Signed>,
) -> Response {
    let decision = |w: &Work| matches!(w, Work::Decide { .. });
    match finish_acting(&desk, &reader, &headers, &signed, decision).await {
        Ok(id) => Json(json!({ "decided": id, "next": "/inbox" })).into_response(),
        Err(response) => response,
    }
}
