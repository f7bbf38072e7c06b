//! The desk's pages and their `/api/` twins: each handler reads the request, opens
//! the station, calls the workflow the command line calls, and renders its result.

use std::path::Path;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use custody_core::Lang;
use custody_core::erasure::certificate::Verdict;
use serde_json::json;

use super::Desk;
use super::web::{self, Reader};
use crate::i18n::text_in;

/// The largest upload the desk reads: a certificate and its signature are a few
/// kilobytes; a megabyte leaves room for a vendor's long one.
const UPLOAD_LIMIT: usize = 1024 * 1024;

/// The desk's routes, behind the guard that sets every response's headers.
pub(crate) fn router(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/verify", get(verify_form).post(verify_page))
        .route("/verify/{id}/{sha256}", get(verify_printed))
        .route("/api/verify/{id}/{sha256}", get(verify_printed_api))
        .route("/api/verify", post(verify_api))
        .route("/enrol/{token}", get(super::acts::enrol_page))
        .route(
            "/api/enrol/{token}/prepare",
            post(super::acts::enrol_prepare),
        )
        .route("/api/enrol/{token}/finish", post(super::acts::enrol_finish))
        .route("/signin", get(super::acts::signin_page))
        .route("/api/signin/prepare", post(super::acts::signin_prepare))
        .route("/api/signin/finish", post(super::acts::signin_finish))
        .route("/signout", post(super::acts::signout))
        .route("/inbox", get(super::acts::inbox))
        .route("/api/inbox", get(super::acts::inbox_api))
        .route(
            "/api/requests/{id}/prepare",
            post(super::acts::decide_prepare),
        )
        .route(
            "/api/requests/{id}/finish",
            post(super::acts::decide_finish),
        )
        .route("/static/desk.js", get(script))
        .route("/certificates", get(super::records::list))
        .route("/api/certificates", get(super::records::list_api))
        .route("/certificates/{id}", get(super::records::show))
        .route("/api/certificates/{id}", get(super::records::show_api))
        .route(
            "/api/certificates/{id}/sign-off/statement",
            post(super::records::sign_off_statement),
        )
        .route(
            "/api/certificates/{id}/sign-off/prepare",
            post(super::records::sign_off_prepare),
        )
        .route(
            "/api/certificates/sign-off/finish",
            post(super::records::sign_off_finish),
        )
        .route("/certificates/{id}/{file}", get(super::records::file))
        .route("/audit", get(super::oversight::audit))
        .route("/api/audit", get(super::oversight::audit_api))
        .route("/api/access", get(super::oversight::access_api))
        .route("/ledger", get(super::oversight::ledger))
        .route("/api/ledger", get(super::oversight::ledger_api))
        .route("/ledger/export.jsonl", get(super::oversight::export))
        .route("/registers", get(super::oversight::registers))
        .route("/registers/{file}", get(super::oversight::register_file))
        .route("/api/registers/{kind}", get(super::oversight::register_api))
        .route("/records/{id}", get(super::oversight::record))
        .route("/api/records/{id}", get(super::oversight::record_api))
        .route("/people", get(super::people::page))
        .route("/api/people", get(super::people::api))
        .route(
            "/api/people/{name}/invite/prepare",
            post(super::people::invite_prepare),
        )
        .route(
            "/api/people/invite/finish",
            post(super::people::invite_finish),
        )
        .route("/file", get(super::filing::page))
        .route("/api/file", get(super::filing::mine_api))
        .route("/api/file/finish", post(super::filing::finish))
        .route("/api/file/{kind}/prepare", post(super::filing::prepare))
        .route("/api/retained/finish", post(super::filing::hold_finish))
        .route(
            "/api/retained/{id}/{act}/prepare",
            post(super::filing::hold_prepare),
        )
        .route("/carryouts", get(super::lists::carryouts))
        .route("/api/carryouts", get(super::lists::carryouts_api))
        .route("/handovers", get(super::lists::handovers))
        .route("/api/handovers", get(super::lists::handovers_api))
        .route("/downloads", get(super::lists::downloads))
        .route("/api/downloads", get(super::lists::downloads_api))
        .route("/media", get(super::lists::media))
        .route("/api/media", get(super::lists::media_api))
        .route("/retention", get(super::lists::retention))
        .route("/api/retention", get(super::lists::retention_api))
        .route("/static/desk.css", get(style))
        .route("/static/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            desk.clone(),
            web::guard,
        ))
        .with_state(desk)
}

/// What every page shows around its content: the station, the way home, the other
/// language.
pub(crate) struct Frame {
    lang: Lang,
    /// The station's name.
    pub(crate) station: String,
    /// The reader's CSRF token, for forms and the desk's script.
    pub(crate) csrf: String,
    /// Who is signed in.
    pub(crate) user: Option<String>,
    /// Whether they oversee the records (manager, auditor): the audit, the
    /// registers and the ledger are theirs to read.
    pub(crate) overseer: bool,
    /// Whether they read the office's whole registers (managers, auditors, IT).
    pub(crate) registers: bool,
}

impl Frame {
    fn new(desk: &Desk, lang: Lang) -> Frame {
        Frame {
            lang,
            station: desk.station.clone(),
            csrf: String::new(),
            user: None,
            overseer: false,
            registers: false,
        }
    }

    /// The frame for a reader of `role`.
    pub(crate) fn with_role(self, role: Option<custody_core::people::Role>) -> Frame {
        Frame {
            overseer: role.is_some_and(custody_core::people::Role::oversees),
            registers: role.is_some_and(custody_core::people::Role::reads_registers),
            ..self
        }
    }

    /// The frame of a page for `reader`, signed in as `user`.
    pub(crate) fn for_reader(desk: &Desk, reader: &Reader, user: Option<String>) -> Frame {
        Frame {
            csrf: reader.csrf.clone(),
            user,
            ..Frame::new(desk, reader.lang)
        }
    }

    /// A message of the catalogue in the page's language.
    pub(crate) fn t(&self, id: &str) -> String {
        text_in(self.lang, id, &[])
    }

    /// The page's language tag (`<html lang>`).
    pub(crate) fn lang(&self) -> &'static str {
        self.lang.as_str()
    }

    /// The other language: its tag, and its name in itself.
    pub(crate) fn other(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::Ja => ("en", "English"),
            _ => ("ja", "日本語"),
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    f: &'a Frame,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyForm<'a> {
    f: &'a Frame,
    csrf: &'a str,
    problem: Option<String>,
}

/// One check of a verdict, worded.
struct CheckLine {
    ok: bool,
    result: String,
    name: String,
    words: String,
}

#[derive(Template)]
#[template(path = "verdict.html")]
struct VerdictPage<'a> {
    f: &'a Frame,
    valid: bool,
    headline: String,
    id: String,
    issuer: String,
    sha256: String,
    key_id: String,
    checks: Vec<CheckLine>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    f: &'a Frame,
    title: String,
    message: String,
}

/// A rendered page as a response (a template that fails to render is a bug; the
/// reader gets a plain 500).
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A page with one message.
pub(crate) fn message(f: &Frame, status: StatusCode, message: String) -> Response {
    html(
        status,
        &MessagePage {
            title: f.t("desk-error"),
            message,
            f,
        },
    )
}

/// A page that says why a request was refused, in `lang`.
pub(crate) fn refusal(desk: &Desk, lang: Lang, status: StatusCode, id: &str) -> Response {
    let f = Frame::new(desk, lang);
    html(
        status,
        &MessagePage {
            title: f.t("desk-refused"),
            message: f.t(id),
            f: &f,
        },
    )
}

async fn home(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: axum::http::HeaderMap,
) -> Response {
    let f = match super::acts::signed_in(&desk, &headers).await {
        Some((name, role)) => Frame::for_reader(&desk, &reader, Some(name)).with_role(role),
        None => Frame::for_reader(&desk, &reader, None),
    };
    reader.respond(html(StatusCode::OK, &HomePage { f: &f }))
}

async fn not_found(State(desk): State<Arc<Desk>>, reader: Reader) -> Response {
    reader.respond(refusal(
        &desk,
        reader.lang,
        StatusCode::NOT_FOUND,
        "desk-not-found",
    ))
}

async fn verify_form(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: axum::http::HeaderMap,
) -> Response {
    let user = desk.memory.user(&headers, desk.tls);
    let f = Frame::for_reader(&desk, &reader, user);
    reader.respond(html(
        StatusCode::OK,
        &VerifyForm {
            f: &f,
            csrf: &reader.csrf,
            problem: None,
        },
    ))
}

/// A certificate and its signature, uploaded.
struct Upload {
    csrf: String,
    certificate: Vec<u8>,
    signature: String,
    signature_name: String,
}

/// Reads the verify form's fields; the catalogue id of what is wrong with it.
async fn read_upload(mut form: Multipart) -> Result<Upload, &'static str> {
    let mut csrf = String::new();
    let mut certificate = None;
    let mut signature = None;
    let mut signature_name = "signature.minisig".to_owned();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| "desk-verify-unreadable")?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|_| "desk-verify-unreadable")?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "certificate" if !bytes.is_empty() => certificate = Some(bytes.to_vec()),
            "signature" if !bytes.is_empty() => {
                signature = Some(String::from_utf8_lossy(&bytes).into_owned());
                if let Some(file_name) = file_name.filter(|n| !n.is_empty()) {
                    signature_name = file_name;
                }
            }
            _ => {}
        }
    }
    match (certificate, signature) {
        (Some(certificate), Some(signature)) => Ok(Upload {
            csrf,
            certificate,
            signature,
            signature_name,
        }),
        _ => Err("desk-verify-missing"),
    }
}

/// Checks an upload on the station, off the async threads.
async fn verify_upload(desk: &Arc<Desk>, upload: Upload) -> Result<Verdict, String> {
    let desk = desk.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let station = desk.station()?;
        station.verify_certificate_bytes(
            &upload.certificate,
            &upload.signature,
            Path::new(&upload.signature_name),
        )
    })
    .await;
    match checked {
        Ok(Ok(verdict)) => Ok(verdict),
        Ok(Err(e)) => Err(crate::say::error(&e).unwrap_or_else(|| e.to_string())),
        Err(e) => Err(e.to_string()),
    }
}

async fn verify_page(State(desk): State<Arc<Desk>>, reader: Reader, form: Multipart) -> Response {
    let f = Frame::new(&desk, reader.lang);
    let upload = match read_upload(form).await {
        Ok(upload) => upload,
        Err(problem) => {
            // The token is checked first, whatever else is wrong with the form.
            return reader.respond(html(
                StatusCode::BAD_REQUEST,
                &VerifyForm {
                    f: &f,
                    csrf: &reader.csrf,
                    problem: Some(f.t(problem)),
                },
            ));
        }
    };
    if !reader.csrf_matches(&upload.csrf) {
        return reader.respond(refusal(
            &desk,
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-forbidden-csrf",
        ));
    }
    let verdict = match verify_upload(&desk, upload).await {
        Ok(verdict) => verdict,
        Err(message) => {
            return reader.respond(html(
                StatusCode::INTERNAL_SERVER_ERROR,
                &MessagePage {
                    title: f.t("desk-error"),
                    message,
                    f: &f,
                },
            ));
        }
    };
    verdict_page(&f, &reader, &verdict)
}

/// `GET /verify/{id}/{sha256}`, the address printed on a certificate's page: whether
/// this ledger holds that certificate with that document hash, and whether it
/// verifies. For anyone, without signing in.
async fn verify_printed(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    axum::extract::Path((id, sha256)): axum::extract::Path<(String, String)>,
) -> Response {
    let f = Frame::new(&desk, reader.lang);
    let runner = desk.runner.clone();
    let found = super::session::on_station(&desk, &runner, move |s| {
        s.printed_certificate(&custody_core::RecordId::parse(&id)?, &sha256)
    })
    .await;
    match found {
        Ok((_, verdict)) => verdict_page(&f, &reader, &verdict),
        Err(e) => {
            eprintln!("DEBUG {e:?}");
            reader.respond(html(
                StatusCode::NOT_FOUND,
                &MessagePage {
                    title: f.t("desk-printed-unknown-title"),
                    message: f.t("desk-printed-unknown"),
                    f: &f,
                },
            ))
        }
    }
}

/// What checking a certificate found, as a page.
fn verdict_page(f: &Frame, reader: &Reader, verdict: &Verdict) -> Response {
    let lang = reader.lang;
    let headline = if verdict.valid {
        text_in(
            lang,
            "cert-valid",
            &[
                ("id", verdict.id.as_deref().unwrap_or("?")),
                ("schema", verdict.schema.as_deref().unwrap_or("?")),
                ("issuer", &crate::cert::issuer_words_in(lang, verdict)),
            ],
        )
    } else {
        text_in(lang, "cert-invalid", &[])
    };
    let checks = verdict
        .checks
        .iter()
        .map(|check| CheckLine {
            ok: check.ok,
            result: f.t(if check.ok {
                "desk-check-passed"
            } else {
                "desk-check-failed"
            }),
            name: crate::i18n::word_in(lang, "check", &check.name),
            words: crate::cert::check_words_in(lang, check),
        })
        .collect();
    let page = VerdictPage {
        f,
        valid: verdict.valid,
        headline,
        id: verdict.id.clone().unwrap_or_default(),
        issuer: crate::cert::issuer_words_in(lang, verdict),
        sha256: verdict.sha256.clone(),
        key_id: verdict.key_id.clone().unwrap_or_default(),
        checks,
    };
    reader.respond(html(StatusCode::OK, &page))
}

/// `POST /api/verify`: the same check for scripts, answered as `custody cert verify
/// --json` answers.
async fn verify_api(State(desk): State<Arc<Desk>>, reader: Reader, form: Multipart) -> Response {
    let upload = match read_upload(form).await {
        Ok(upload) => upload,
        Err(problem) => {
            let error = text_in(reader.lang, problem, &[]);
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
        }
    };
    match verify_upload(&desk, upload).await {
        Ok(verdict) => Json(verdict).into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": error })),
        )
            .into_response(),
    }
}

/// `GET /api/verify/{id}/{sha256}`: the check of the printed address, for scripts:
/// what `custody cert verify --json` prints for that certificate, or 404.
async fn verify_printed_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    axum::extract::Path((id, sha256)): axum::extract::Path<(String, String)>,
) -> Response {
    let runner = desk.runner.clone();
    let found = super::session::on_station(&desk, &runner, move |s| {
        s.printed_certificate(&custody_core::RecordId::parse(&id)?, &sha256)
    })
    .await;
    match found {
        Ok((_, verdict)) => Json(verdict).into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": text_in(reader.lang, "desk-printed-unknown", &[]) })),
        )
            .into_response(),
    }
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/desk.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/desk.js"),
    )
        .into_response()
}

async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("static/icon.svg"),
    )
        .into_response()
}
