//! The pages of those who oversee the records (managers, auditors): what the audit
//! finds today, each finding's record, the state of the ledger and its signed head,
//! and every register as the command line writes it.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use custody_core::people::Role;
use custody_core::report::ReportKind;
use custody_core::{Error, Lang, RecordId};
use serde::Deserialize;
use serde_json::json;

use super::Desk;
use super::kept::read_as;
use super::pages::{Frame, html, message, refusal};
use super::session::{api_error, api_refusal};
use super::web::Reader;

/// Who reads a page of oversight: signed in, and a manager or an auditor.
enum Overseer {
    Yes(String, Option<Role>),
    /// The response that turns the reader away.
    No(Response),
}

/// Whether the reader oversees the records; a page's answer when not.
async fn overseer(desk: &Arc<Desk>, reader: &Reader, headers: &HeaderMap, api: bool) -> Overseer {
    match super::acts::signed_in(desk, headers).await {
        Some((name, role)) if role.is_some_and(Role::oversees) => Overseer::Yes(name, role),
        Some(_) if api => Overseer::No(api_refusal(
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-oversight-only",
        )),
        Some(_) => Overseer::No(reader.respond(refusal(
            desk,
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-oversight-only",
        ))),
        None if api => Overseer::No(api_refusal(
            reader.lang,
            StatusCode::UNAUTHORIZED,
            "desk-signin-needed",
        )),
        None => Overseer::No(reader.respond(Redirect::to("/signin"))),
    }
}

/// An error of core, worded for a page.
fn trouble(f: &Frame, reader: &Reader, status: StatusCode, e: &Error) -> Response {
    reader.respond(message(
        f,
        status,
        crate::say::error(e).unwrap_or_else(|| e.to_string()),
    ))
}

/// One finding of the audit, worded.
struct FindingRow {
    kind: String,
    id: String,
    /// Where its record is shown, when it names one.
    link: Option<String>,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    f: &'a Frame,
    rows: Vec<FindingRow>,
    knocks: Vec<KnockRow>,
}

/// One line of the door journal, worded.
struct KnockRow {
    at: String,
    event: String,
    name: String,
    from: String,
}

/// `GET /audit`: today's `report audit`, each finding linked to its record.
pub(crate) async fn audit(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let (name, role) = match overseer(&desk, &reader, &headers, false).await {
        Overseer::Yes(name, role) => (name, role),
        Overseer::No(response) => return response,
    };
    let f = Frame::for_reader(&desk, &reader, Some(name.clone())).with_role(role);
    let read = read_as(&desk, &name, |s| {
        Ok((
            s.audit()?,
            custody_core::people::access::recent(s.home(), 50)?,
        ))
    })
    .await;
    let (findings, knocks) = match read {
        Ok(read) => read,
        Err(e) => return trouble(&f, &reader, StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let knocks = knocks
        .into_iter()
        .map(|k| KnockRow {
            at: custody_core::Timestamp::parse(&k.at)
                .map(custody_core::Timestamp::local_minute)
                .unwrap_or(k.at),
            event: crate::i18n::word_in(reader.lang, "door", k.event.as_str()),
            name: k.name,
            from: k.from,
        })
        .collect();
    let rows = findings
        .iter()
        .map(|finding| {
            let (kind, detail) = crate::registers::finding_words(reader.lang, finding);
            FindingRow {
                kind,
                link: RecordId::parse(&finding.id)
                    .ok()
                    .map(|id| format!("/records/{id}")),
                id: finding.id.clone(),
                detail,
            }
        })
        .collect();
    reader.respond(html(
        StatusCode::OK,
        &AuditPage {
            f: &f,
            rows,
            knocks,
        },
    ))
}

/// `GET /api/access`: the last 200 lines of the door journal, newest first, as the
/// journal keeps them.
pub(crate) async fn access_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let name = match overseer(&desk, &reader, &headers, true).await {
        Overseer::Yes(name, _) => name,
        Overseer::No(response) => return response,
    };
    match read_as(&desk, &name, |s| {
        custody_core::people::access::recent(s.home(), 200)
    })
    .await
    {
        Ok(knocks) => Json(knocks).into_response(),
        Err(e) => api_error(&e),
    }
}

/// `GET /api/audit`: the findings as `custody report audit --json` prints them.
pub(crate) async fn audit_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let name = match overseer(&desk, &reader, &headers, true).await {
        Overseer::Yes(name, _) => name,
        Overseer::No(response) => return response,
    };
    match read_as(&desk, &name, |s| s.audit()).await {
        Ok(findings) => {
            Json(json!({ "findings": findings, "count": findings.len() })).into_response()
        }
        Err(e) => api_error(&e),
    }
}

/// One entry about a record, worded.
struct EntryRow {
    seq: i64,
    at: String,
    kind: String,
    actor: String,
    station: String,
    /// Its payload's fields; `None` once erased for retention.
    fields: Option<Vec<(String, String)>>,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage<'a> {
    f: &'a Frame,
    id: String,
    certificate: bool,
    entries: Vec<EntryRow>,
}

/// A record's entries, and whether it is a certificate.
async fn record_entries(
    desk: &Arc<Desk>,
    name: &str,
    id: String,
) -> custody_core::Result<(RecordId, bool, Vec<custody_core::ledger::Entry>)> {
    read_as(desk, name, move |s| {
        let id = RecordId::parse(&id)?;
        let entries = s.log(&custody_core::ledger::LogFilter {
            subject: Some(id.to_string()),
            ..Default::default()
        })?;
        if entries.is_empty() {
            return Err(Error::NoSuchRecord {
                kind: custody_core::RecordKind::Record,
                id: id.to_string(),
            });
        }
        let certificate = s.certificate(&id).is_ok();
        Ok((id, certificate, entries))
    })
    .await
}

/// `GET /records/{id}`: every entry about one record, oldest first.
pub(crate) async fn record(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (name, role) = match overseer(&desk, &reader, &headers, false).await {
        Overseer::Yes(name, role) => (name, role),
        Overseer::No(response) => return response,
    };
    let f = Frame::for_reader(&desk, &reader, Some(name.clone())).with_role(role);
    let (id, certificate, entries) = match record_entries(&desk, &name, id).await {
        Ok(found) => found,
        Err(e) => return trouble(&f, &reader, StatusCode::NOT_FOUND, &e),
    };
    let lang = reader.lang;
    let entries = entries
        .into_iter()
        .map(|e| EntryRow {
            seq: e.seq,
            at: e.at.local_minute(),
            kind: crate::i18n::word_in(lang, "entry-kind", &e.kind),
            actor: e.actor,
            station: e.station,
            fields: crate::commands::payload_fields(e.payload.as_ref()),
        })
        .collect();
    let page = RecordPage {
        f: &f,
        id: id.to_string(),
        certificate,
        entries,
    };
    reader.respond(html(StatusCode::OK, &page))
}

/// `GET /api/records/{id}`: the same entries as `custody log --subject ID --json`.
pub(crate) async fn record_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let name = match overseer(&desk, &reader, &headers, true).await {
        Overseer::Yes(name, _) => name,
        Overseer::No(response) => return response,
    };
    match record_entries(&desk, &name, id).await {
        Ok((id, _, entries)) => Json(json!({ "record": id, "entries": entries })).into_response(),
        Err(e @ Error::NoSuchRecord { .. }) => {
            let mut response = api_error(&e);
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
        Err(e) => api_error(&e),
    }
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage<'a> {
    f: &'a Frame,
    valid: bool,
    lines: Vec<String>,
    head: Option<String>,
}

/// What checking the ledger found: whole, with its lines; or where it breaks.
enum Check {
    Whole(Box<custody_core::ledger::VerifyReport>),
    Broken(Vec<String>),
}

/// Runs `ledger verify` and reads the latest signed head.
async fn check_ledger(
    desk: &Arc<Desk>,
    name: &str,
    lang: Lang,
) -> custody_core::Result<(Check, Option<String>)> {
    read_as(desk, name, move |s| {
        let check = match s.verify(None, None) {
            Ok(report) => Check::Whole(Box::new(report)),
            Err(Error::Tampered { seq, problem }) => Check::Broken(vec![
                crate::i18n::text_in(
                    lang,
                    "verify-tampered",
                    &[
                        ("seq", &seq.to_string()),
                        (
                            "problem",
                            &crate::i18n::reword_in(lang, "breach-", &problem),
                        ),
                    ],
                ),
                crate::i18n::text_in(lang, "hint-tampered", &[]),
            ]),
            Err(Error::ProjectionsDiffer { rows }) => {
                let mut lines = vec![crate::i18n::text_in(
                    lang,
                    "verify-tables-differ",
                    &[("count", &rows.len().to_string())],
                )];
                lines.extend(rows.iter().map(ToString::to_string));
                lines.push(crate::i18n::text_in(lang, "hint-tables-edited", &[]));
                Check::Broken(lines)
            }
            Err(e) => return Err(e),
        };
        let head = s.head().ok().map(|h| h.to_text());
        Ok((check, head))
    })
    .await
}

/// `GET /ledger`: whether the ledger verifies, its latest signed head, its export.
pub(crate) async fn ledger(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let (name, role) = match overseer(&desk, &reader, &headers, false).await {
        Overseer::Yes(name, role) => (name, role),
        Overseer::No(response) => return response,
    };
    let f = Frame::for_reader(&desk, &reader, Some(name.clone())).with_role(role);
    let (check, head) = match check_ledger(&desk, &name, reader.lang).await {
        Ok(found) => found,
        Err(e) => return trouble(&f, &reader, StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let (valid, lines) = match check {
        Check::Whole(report) => (true, crate::commands::verify_lines(reader.lang, &report)),
        Check::Broken(lines) => (false, lines),
    };
    reader.respond(html(
        StatusCode::OK,
        &LedgerPage {
            f: &f,
            valid,
            lines,
            head,
        },
    ))
}

/// `GET /api/ledger`: the check as `custody ledger verify --json` prints it, and the
/// head as `custody ledger head` writes it.
pub(crate) async fn ledger_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let name = match overseer(&desk, &reader, &headers, true).await {
        Overseer::Yes(name, _) => name,
        Overseer::No(response) => return response,
    };
    match check_ledger(&desk, &name, reader.lang).await {
        Ok((Check::Whole(report), head)) => {
            let mut value = serde_json::to_value(&*report).unwrap_or_default();
            value["ok"] = json!(true);
            value["signed_head"] = json!(head);
            Json(value).into_response()
        }
        Ok((Check::Broken(lines), head)) => Json(json!({
            "ok": false, "problem": lines, "signed_head": head,
        }))
        .into_response(),
        Err(e) => api_error(&e),
    }
}

/// `GET /ledger/export.jsonl`: every entry, as `custody ledger export` writes them.
pub(crate) async fn export(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let (name, role) = match overseer(&desk, &reader, &headers, false).await {
        Overseer::Yes(name, role) => (name, role),
        Overseer::No(response) => return response,
    };
    let written = read_as(&desk, &name, |s| {
        let mut out = Vec::new();
        s.ledger().export_jsonl(&mut out)?;
        Ok((s.config().station.clone(), out))
    })
    .await;
    match written {
        Ok((station, bytes)) => attachment(
            "application/x-ndjson",
            &format!("{station}-ledger-{}.jsonl", custody_core::clock::today()),
            bytes,
        ),
        Err(e) => {
            let f = Frame::for_reader(&desk, &reader, Some(name)).with_role(role);
            trouble(&f, &reader, StatusCode::INTERNAL_SERVER_ERROR, &e)
        }
    }
}

/// A download named `file`.
fn attachment(kind: &str, file: &str, bytes: Vec<u8>) -> Response {
    // Station names and register words are ASCII words; anything else is left out of
    // the header rather than trusted in it.
    let file: String = file
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// One register offered for download.
struct RegisterChoice {
    word: &'static str,
    title: &'static str,
}

#[derive(Template)]
#[template(path = "registers.html")]
struct RegistersPage<'a> {
    f: &'a Frame,
    choices: Vec<RegisterChoice>,
    from: String,
    to: String,
}

/// `GET /registers`: choose a register and a period; downloaded as CSV.
pub(crate) async fn registers(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let (name, role) = match overseer(&desk, &reader, &headers, false).await {
        Overseer::Yes(name, role) => (name, role),
        Overseer::No(response) => return response,
    };
    let f = Frame::for_reader(&desk, &reader, Some(name)).with_role(role);
    let today = custody_core::clock::today().to_string();
    let choices = ReportKind::WORDS
        .iter()
        .filter_map(|word| ReportKind::parse(word).ok())
        .map(|kind| RegisterChoice {
            word: kind.as_str(),
            title: kind.title(reader.lang),
        })
        .collect();
    let page = RegistersPage {
        f: &f,
        choices,
        // The month so far.
        from: format!("{}-01", &today[..7]),
        to: today,
    };
    reader.respond(html(StatusCode::OK, &page))
}

/// The period and form of a register download.
#[derive(Deserialize)]
pub(crate) struct Period {
    /// Which register, when the form names it rather than the address.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// Dates in the Japanese era calendar, as paper forms write them.
    #[serde(default)]
    era: Option<String>,
}

/// A register's rows in a period.
async fn register_rows(
    desk: &Arc<Desk>,
    name: &str,
    word: &str,
    period: &Period,
) -> custody_core::Result<custody_core::report::Report> {
    let kind = ReportKind::parse(word)?;
    let (from, to) = (period.from.clone(), period.to.clone());
    read_as(desk, name, move |s| s.report(kind, &from, &to)).await
}

/// `GET /registers/{kind}.csv?from=…&to=…[&era=1]`: the register as `custody report
/// KIND --from --to` writes it, in the reader's language.
pub(crate) async fn register_file(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(period): Query<Period>,
) -> Response {
    let (name, role) = match overseer(&desk, &reader, &headers, false).await {
        Overseer::Yes(name, role) => (name, role),
        Overseer::No(response) => return response,
    };
    // `/registers/carryouts.csv`, or the form's `/registers/download.csv?kind=…`.
    let word = match &period.kind {
        Some(kind) if file == "download.csv" => kind.as_str(),
        _ => file.strip_suffix(".csv").unwrap_or(&file),
    };
    match register_rows(&desk, &name, word, &period).await {
        Ok(report) => attachment(
            "text/csv; charset=utf-8",
            &format!("{word}-{}-{}.csv", period.from, period.to),
            report
                .to_csv_in(reader.lang, period.era.is_some())
                .into_bytes(),
        ),
        Err(e) => {
            let f = Frame::for_reader(&desk, &reader, Some(name)).with_role(role);
            trouble(&f, &reader, StatusCode::BAD_REQUEST, &e)
        }
    }
}

/// `GET /api/registers/{kind}?from=…&to=…`: the register as `custody report KIND
/// --format json` prints it.
pub(crate) async fn register_api(
    State(desk): State<Arc<Desk>>,
    reader: Reader,
    headers: HeaderMap,
    Path(word): Path<String>,
    Query(period): Query<Period>,
) -> Response {
    let name = match overseer(&desk, &reader, &headers, true).await {
        Overseer::Yes(name, _) => name,
        Overseer::No(response) => return response,
    };
    match register_rows(&desk, &name, &word, &period).await {
        Ok(report) => Json(report.to_json(reader.lang)).into_response(),
        Err(e) => api_error(&e),
    }
}
