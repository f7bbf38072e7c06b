//! The pages that show records to the people signed in: certificates, one by one,
//! with their fields, their PDF and their signed JSON.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use custody_core::{Lang, RecordId};
use serde::Deserialize;
use serde_json::json;

use super::Desk;
use super::kept::read_as;
use super::pages::{Frame, html, message};
use super::session::{Work, api_error, api_refusal, on_station};
use super::web::Reader;

/// One certificate in the list.
struct Row {
    id: String,
    kind: String,
    subject: String,
    serial: String,
    status: String,
    issued: String,
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct ListPage<'a> {
    f: &'a Frame,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage<'a> {
    f: &'a Frame,
    id: String,
    kind: String,
    status: String,
    issued: String,
    sha256: String,
    valid: bool,
    verdict: String,
    fields: Vec<(String, String)>,
    pdf: bool,
    /// Whether the reader (a manager) is offered the sign-off: not signed off yet.
    sign_off: bool,
}

/// The signed-in reader, or the redirect to sign in.
async fn reader_name(desk: &Arc<Desk>, headers: &HeaderMap) -> Option<String> {
    super::acts::signed_in(desk, headers)
        .await
        .map(|(name, _)| name)
}

/// `GET /certificates`: every certificate, newest first.
pub(crate) async fn list(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let read = super::acts::read_signed_in(&desk, &headers, |s| s.certificates()).await;
    let Some((name, role, list)) = read else {
        return reader.respond(Redirect::to("/signin"));
    };
    let f = Frame::for_reader(&desk, &reader, Some(name)).with_role(role);
    let lang = reader.lang;
    match list {
        Ok(list) => {
            let rows = list
                .into_iter()
                .rev()
                .map(|c| Row {
                    id: c.id.to_string(),
                    kind: crate::i18n::word_in(lang, "cert-kind", c.kind.as_str()),
                    subject: c.subject,
                    serial: c.serial.unwrap_or_default(),
                    status: crate::i18n::word_in(lang, "cert-status", &c.status),
                    issued: c.issued_at.local_minute(),
                })
                .collect();
            reader.respond(html(StatusCode::OK, &ListPage { f: &f, rows }))
        }
        Err(e) => reader.respond(message(
            &f,
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::say::error(&e).unwrap_or_else(|| e.to_string()),
        )),
    }
}

/// `GET /api/certificates`: the list for scripts, as `cert list --json` prints it.
pub(crate) async fn list_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let Some(name) = reader_name(&desk, &headers).await else {
        return api_refusal(reader.lang, StatusCode::UNAUTHORIZED, "desk-signin-needed");
    };
    match read_as(&desk, &name, |s| s.certificates()).await {
        Ok(list) => {
            let items: Vec<_> = list
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id, "kind": c.kind, "subject": c.subject, "serial": c.serial,
                        "status": c.status, "date": c.issued_at, "sha256": c.sha256,
                    })
                })
                .collect();
            Json(json!({ "certificates": items })).into_response()
        }
        Err(e) => api_error(&e),
    }
}

/// `GET /certificates/{id}`: its fields, whether it verifies, its files.
pub(crate) async fn show(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some((name, role)) = super::acts::signed_in(&desk, &headers).await else {
        return reader.respond(Redirect::to("/signin"));
    };
    let f = Frame::for_reader(&desk, &reader, Some(name.clone())).with_role(role);
    let lang = reader.lang;
    let found = read_as(&desk, &name, move |s| {
        s.checked_certificate(&RecordId::parse(&id)?)
    })
    .await;
    let (cert, verdict) = match found {
        Ok(found) => found,
        Err(e) => {
            return reader.respond(message(
                &f,
                StatusCode::NOT_FOUND,
                crate::say::error(&e).unwrap_or_else(|| e.to_string()),
            ));
        }
    };
    let document: serde_json::Value = serde_json::from_str(&cert.body).unwrap_or_default();
    let headline = if verdict.valid {
        crate::i18n::text_in(
            lang,
            "cert-valid",
            &[
                ("id", cert.id.as_str()),
                ("schema", verdict.schema.as_deref().unwrap_or("?")),
                ("issuer", &crate::cert::issuer_words_in(lang, &verdict)),
            ],
        )
    } else {
        crate::i18n::text_in(lang, "cert-invalid", &[])
    };
    let page = CertificatePage {
        f: &f,
        id: cert.id.to_string(),
        kind: crate::i18n::word_in(lang, "cert-kind", cert.kind.as_str()),
        status: crate::i18n::word_in(lang, "cert-status", &cert.status),
        issued: cert.issued_at.local_minute(),
        sha256: cert.sha256.clone(),
        valid: verdict.valid,
        verdict: headline,
        fields: crate::cert::document_fields(&document),
        pdf: cert.kind != custody_core::erasure::certificate::CertificateKind::Vendor,
        sign_off: role == Some(custody_core::people::Role::Manager)
            && document
                .get("validator")
                .is_none_or(|v| v.as_object().is_some_and(serde_json::Map::is_empty)),
    };
    reader.respond(html(StatusCode::OK, &page))
}

/// `GET /api/certificates/{id}`: the certificate as `cert show ID --json` prints it
/// (`document`), and what checking it finds, as `cert verify --json` prints it
/// (`verdict`).
pub(crate) async fn show_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(name) = reader_name(&desk, &headers).await else {
        return api_refusal(reader.lang, StatusCode::UNAUTHORIZED, "desk-signin-needed");
    };
    let found = read_as(&desk, &name, move |s| {
        s.checked_certificate(&RecordId::parse(&id)?)
    })
    .await;
    match found {
        Ok((cert, verdict)) => {
            let document: serde_json::Value = serde_json::from_str(&cert.body).unwrap_or_default();
            Json(json!({ "document": document, "verdict": verdict })).into_response()
        }
        Err(e) => api_error(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct FileQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// `GET /certificates/{id}/{file}`: `certificate.pdf` (`?lang=en` for English),
/// `certificate.json`, `certificate.json.minisig`, as the command line exports them.
pub(crate) async fn file(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path((id, file)): Path<(String, String)>,
    Query(query): Query<FileQuery>,
) -> Response {
    let Some(name) = reader_name(&desk, &headers).await else {
        return reader.respond(Redirect::to("/signin"));
    };
    let lang = match query.lang.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Ja,
    };
    let which = file.clone();
    let made = read_as(&desk, &name, move |s| {
        let id = RecordId::parse(&id)?;
        let cert = s.certificate(&id)?;
        let (bytes, kind) = match which.as_str() {
            "certificate.pdf" => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("certificate.pdf");
                s.export_certificate_pdf(&id, lang, &path)?;
                (fs_err::read(&path)?, "application/pdf")
            }
            "certificate.json" => (cert.body.into_bytes(), "application/json"),
            "certificate.json.minisig" => {
                (cert.signature.into_bytes(), "text/plain; charset=utf-8")
            }
            _ => {
                return Err(custody_core::Error::BadValue {
                    field: custody_core::Field::RecordId,
                    value: which,
                    rule: custody_core::Rule::Described("not a file of a certificate"),
                });
            }
        };
        Ok((format!("{id}-{file}"), bytes, kind))
    })
    .await;
    match made {
        Ok((name, bytes, kind)) => (
            [
                (header::CONTENT_TYPE, kind.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            let f = Frame::for_reader(&desk, &reader, None);
            reader.respond(message(
                &f,
                StatusCode::NOT_FOUND,
                crate::say::error(&e).unwrap_or_else(|| e.to_string()),
            ))
        }
    }
}

/// `POST /api/certificates/{id}/sign-off/statement`: the first of a sign-off's two
/// signatures. Every check of the sign-off is made; the answer is the statement the
/// validator's passkey signs (the certificate, the SHA-256 of the document as it
/// stands, the time), to be put in the re-issued document.
pub(crate) async fn sign_off_statement(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let name = match super::acts::acting(&desk, &reader, &headers).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let who = name.clone();
    let made = on_station(&desk, &name, move |s| {
        let id = RecordId::parse(&id)?;
        let statement = s.sign_off_statement(&id)?;
        let credentials: Vec<String> = s
            .passkeys(&who)?
            .into_iter()
            .map(|(_, key)| key.credential)
            .collect();
        Ok((id, statement, credentials))
    })
    .await;
    match made {
        Ok((id, statement, credentials)) => Json(json!({
            "pending": "",
            "challenge": custody_core::people::passkey::b64url(&statement.challenge),
            "credentials": credentials,
            "at": statement.at,
            "record": {
                "kind": "custody-sign-off/v1",
                "subject": id,
                "actor": name,
                "payload": { "statement": statement.statement },
            },
        }))
        .into_response(),
        Err(e) => api_error(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct SignOffForm {
    /// The passkey's signature of the statement.
    #[serde(flatten)]
    statement: super::session::Signed,
    /// The statement's time, as the first step gave it.
    at: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    place: String,
}

/// `POST /api/certificates/{id}/sign-off/prepare`: with the statement signed, the
/// re-issued certificate and its ledger entry, for the passkey to sign.
pub(crate) async fn sign_off_prepare(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(form): Json<SignOffForm>,
) -> Response {
    let name = match super::acts::acting(&desk, &reader, &headers).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let id = match RecordId::parse(&id) {
        Ok(id) => id,
        Err(e) => return api_error(&e),
    };
    let Some(assertion) = form.statement.assertion() else {
        return api_error(&custody_core::Error::PasskeyRefused {
            why: custody_core::PasskeyProblem::Invalid("the assertion is not base64url".into()),
        });
    };
    let given = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let work = Work::SignOff {
        id,
        comment: given(form.comment),
        details: custody_core::erasure::WipeDetails {
            origin: None,
            title: given(form.title),
            contact: given(form.contact),
            location: given(form.place),
        },
        at: form.at,
        assertion,
    };
    let owner = desk.memory_owner(&headers);
    super::acts::prepare(&desk, &name, work, &owner).await
}

/// `POST /api/certificates/sign-off/finish`: the sign-off, signed; recorded or
/// refused.
pub(crate) async fn sign_off_finish(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Json(signed): Json<super::session::Signed>,
) -> Response {
    let signing_off = |w: &Work| matches!(w, Work::SignOff { .. });
    match super::acts::finish_acting(&desk, &reader, &headers, &signed, signing_off).await {
        Ok(id) => {
            Json(json!({ "done": id, "next": format!("/certificates/{id}") })).into_response()
        }
        Err(response) => response,
    }
}
