//! The registers as pages: carry-outs (overdue first), handovers (receipts not yet
//! confirmed first), downloads (copies not yet deleted first), media, and retention
//! (what is due, what is held). Each has its `/api/` twin, which answers as the
//! command line's `list --json` does.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use custody_core::people::Role;
use custody_core::registers::carryout::CarryoutFilter;
use custody_core::{Lang, Station};
use serde_json::Value;

use super::Desk;
use super::kept::read_as;
use super::pages::{Frame, html, message, refusal};
use super::session::{api_error, api_refusal};
use super::web::Reader;
use crate::i18n::{text_in, word_in};

/// One row of a register's table.
pub(crate) struct Row {
    /// The record, linked to its page when the reader may open it.
    pub(crate) id: String,
    pub(crate) link: Option<String>,
    /// What needs attention, in words (never by colour alone); empty when nothing.
    pub(crate) attention: String,
    pub(crate) cells: Vec<String>,
    /// What the reader may do to it here, signed with their passkey.
    pub(crate) action: Option<Action>,
}

impl Row {
    /// Whether the row offers `action`.
    pub(crate) fn offers(&self, action: Action) -> bool {
        self.action == Some(action)
    }
}

/// An act a row offers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Put a retained item on hold (managers), with a reason.
    Hold,
    /// Release a hold (managers).
    Release,
}

/// One table of a page.
pub(crate) struct Section {
    pub(crate) heading: String,
    pub(crate) empty: String,
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Row>,
}

impl Section {
    /// Whether any row offers an act.
    pub(crate) fn acts(&self) -> bool {
        self.rows.iter().any(|r| r.action.is_some())
    }
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage<'a> {
    f: &'a Frame,
    title: String,
    intro: String,
    sections: Vec<Section>,
}

impl ListPage<'_> {
    /// Whether the page offers acts (and so says how they went).
    fn acts(&self) -> bool {
        self.sections.iter().any(Section::acts)
    }
}

/// The registers the desk shows as pages.
#[derive(Clone, Copy)]
enum Register {
    Carryouts,
    Handovers,
    Downloads,
    Media,
    Retention,
}

impl Register {
    /// The catalogue's prefix of the page's words.
    fn words(self) -> &'static str {
        match self {
            Register::Carryouts => "desk-carryouts",
            Register::Handovers => "desk-handovers",
            Register::Downloads => "desk-downloads",
            Register::Media => "desk-media",
            Register::Retention => "desk-retention",
        }
    }

    /// Whether a clerk reads it (their own records of it only).
    fn own_for_clerks(self) -> bool {
        matches!(self, Register::Carryouts | Register::Downloads)
    }
}

/// Who reads the register, and whether they read only their own records of it.
enum Reading {
    Whole(String, Option<Role>),
    Own(String, Option<Role>),
    Refused(Response),
}

async fn reading(
    desk: &Arc<Desk>,
    reader: &Reader,
    headers: &HeaderMap,
    register: Register,
    api: bool,
) -> Reading {
    match super::acts::signed_in(desk, headers).await {
        Some((name, role)) if role.is_some_and(Role::reads_registers) => Reading::Whole(name, role),
        Some((name, role)) if register.own_for_clerks() => Reading::Own(name, role),
        Some(_) if api => Reading::Refused(api_refusal(
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-registers-only",
        )),
        Some(_) => Reading::Refused(reader.respond(refusal(
            desk,
            reader.lang,
            StatusCode::FORBIDDEN,
            "desk-registers-only",
        ))),
        None if api => Reading::Refused(api_refusal(
            reader.lang,
            StatusCode::UNAUTHORIZED,
            "desk-signin-needed",
        )),
        None => Reading::Refused(reader.respond(Redirect::to("/signin"))),
    }
}

/// A register's records as `list --json` prints them, and as a page's sections; for a
/// clerk (`own`), only the records they asked for.
fn read(
    s: &Station,
    register: Register,
    lang: Lang,
    own: Option<&str>,
    links: bool,
    manager: bool,
) -> custody_core::Result<(Value, Vec<Section>)> {
    let t = |id: &str| text_in(lang, id, &[]);
    let column = |ids: &[&str]| ids.iter().map(|id| t(id)).collect::<Vec<_>>();
    let link = |id: &str| links.then(|| format!("/records/{id}"));
    let or_dash = |v: Option<String>| v.filter(|v| !v.is_empty()).unwrap_or_else(|| "-".into());
    let prefix = register.words();
    let section = |rows: Vec<Row>, columns: Vec<String>, suffix: &str| Section {
        heading: t(&format!("{prefix}-{suffix}")),
        empty: t(&format!("{prefix}-{suffix}-empty")),
        columns,
        rows,
    };
    Ok(match register {
        Register::Carryouts => {
            let mut list = s.carryouts(CarryoutFilter::All)?;
            list.retain(|c| own.is_none_or(|name| c.requester == name));
            // Overdue first, then those still out or waiting, newest first.
            let mut shown: Vec<_> = list.iter().collect();
            shown.sort_by_key(|c| {
                (
                    !c.overdue,
                    c.returned_at.is_some() || c.lost_at.is_some(),
                    std::cmp::Reverse(c.requested_at),
                )
            });
            let rows = shown
                .iter()
                .map(|c| Row {
                    id: c.id.to_string(),
                    link: link(c.id.as_str()),
                    attention: if c.overdue {
                        t("desk-attention-overdue")
                    } else {
                        String::new()
                    },
                    action: None,
                    cells: vec![
                        word_in(lang, "carryout-state", &c.state.to_string()),
                        c.what.clone(),
                        c.destination.clone(),
                        c.return_by.deadline(),
                        c.requester.clone(),
                        word_in(lang, "approval", &c.approval.to_string()),
                        protection_in(lang, &c.encrypted),
                    ],
                })
                .collect();
            let columns = column(&[
                "desk-col-state",
                "desk-col-what",
                "desk-col-to",
                "desk-col-return-by",
                "desk-col-requester",
                "desk-col-approval",
                "desk-col-encrypted",
            ]);
            (
                serde_json::to_value(&list).unwrap_or_default(),
                vec![section(rows, columns, "all")],
            )
        }
        Register::Handovers => {
            let list = s.handovers()?;
            let mut shown: Vec<_> = list.iter().collect();
            shown.sort_by_key(|h| (h.confirmed_by.is_some(), std::cmp::Reverse(h.at)));
            let rows = shown
                .iter()
                .map(|h| Row {
                    id: h.id.to_string(),
                    link: link(h.id.as_str()),
                    action: None,
                    attention: if h.confirmed_by.is_none() {
                        t("desk-attention-unconfirmed")
                    } else {
                        String::new()
                    },
                    cells: vec![
                        h.at.local_minute(),
                        word_in(lang, "direction", &h.direction.to_string()),
                        h.counterparty.clone(),
                        format!("{} ({})", h.media, h.serial),
                        h.count.to_string(),
                        h.purpose.clone(),
                        h.confirmed_by.clone().unwrap_or_else(|| t("not-confirmed")),
                    ],
                })
                .collect();
            let columns = column(&[
                "desk-col-when",
                "desk-col-direction",
                "desk-col-counterparty",
                "desk-col-medium",
                "desk-col-count",
                "desk-col-purpose",
                "desk-col-receipt",
            ]);
            (
                serde_json::to_value(&list).unwrap_or_default(),
                vec![section(rows, columns, "all")],
            )
        }
        Register::Downloads => {
            let mut list = s.downloads()?;
            list.retain(|d| own.is_none_or(|name| d.requester == name));
            let mut shown: Vec<_> = list.iter().collect();
            shown.sort_by_key(|d| (d.deleted_at.is_some(), std::cmp::Reverse(d.requested_at)));
            let rows = shown
                .iter()
                .map(|d| Row {
                    id: d.id.to_string(),
                    link: link(d.id.as_str()),
                    action: None,
                    attention: if d.deleted_at.is_none() {
                        t("desk-attention-not-deleted")
                    } else {
                        String::new()
                    },
                    cells: vec![
                        d.requested_at.local_minute(),
                        d.content.clone(),
                        d.system.clone(),
                        d.requester.clone(),
                        word_in(lang, "approval", &d.approval.to_string()),
                        or_dash(d.deleted_at.map(|at| at.local_minute())),
                    ],
                })
                .collect();
            let columns = column(&[
                "desk-col-when",
                "desk-col-content",
                "desk-col-system",
                "desk-col-requester",
                "desk-col-approval",
                "desk-col-deleted",
            ]);
            (
                serde_json::to_value(&list).unwrap_or_default(),
                vec![section(rows, columns, "all")],
            )
        }
        Register::Media => {
            let list = s.media(None)?;
            let rows = list
                .iter()
                .map(|m| Row {
                    id: m.id.to_string(),
                    link: link(m.id.as_str()),
                    attention: String::new(),
                    action: None,
                    cells: vec![
                        word_in(lang, "media-kind", &m.kind.to_string()),
                        m.serial.clone(),
                        or_dash(m.label.clone()),
                        word_in(lang, "status", &m.status.to_string()),
                        or_dash(m.location.clone()),
                        t(if m.encrypted { "yes" } else { "no" }),
                    ],
                })
                .collect();
            let columns = column(&[
                "desk-col-kind",
                "desk-col-serial",
                "desk-col-label",
                "desk-col-state",
                "desk-col-location",
                "desk-col-encrypted",
            ]);
            (
                serde_json::to_value(&list).unwrap_or_default(),
                vec![section(rows, columns, "all")],
            )
        }
        Register::Retention => {
            let due = s.retained_due(None)?;
            let all = s.retained_list()?;
            let held: Vec<_> = all.iter().filter(|r| r.hold_reason.is_some()).collect();
            let kept: Vec<_> = all
                .iter()
                .filter(|r| {
                    r.hold_reason.is_none()
                        && r.disposed_at.is_none()
                        && !due.iter().any(|d| d.id == r.id)
                })
                .collect();
            // A manager puts an item on hold, or releases it, from here.
            let act = |r: &custody_core::retention::Retained| {
                manager.then_some(if r.hold_reason.is_some() {
                    Action::Release
                } else {
                    Action::Hold
                })
            };
            let row = |r: &custody_core::retention::Retained, attention: String| Row {
                id: r.id.to_string(),
                link: link(r.id.as_str()),
                action: act(r),
                attention,
                cells: vec![
                    r.class.clone(),
                    r.due.clone().unwrap_or_else(|| t("due-after-event")),
                    word_in(lang, "retained-status", &r.status.to_string()),
                    match &r.media {
                        Some(m) => text_in(lang, "retained-medium", &[("id", m.as_str())]),
                        None => text_in(
                            lang,
                            "retained-files",
                            &[("count", &r.files.len().to_string())],
                        ),
                    },
                    or_dash(r.hold_reason.clone()),
                ],
            };
            let columns = || {
                column(&[
                    "desk-col-class",
                    "desk-col-due",
                    "desk-col-state",
                    "desk-col-what",
                    "desk-col-hold",
                ])
            };
            let due_rows = due
                .iter()
                .map(|r| row(r, t("desk-attention-due")))
                .collect();
            let held_rows = held.iter().map(|r| row(r, String::new())).collect();
            let kept_rows = kept.iter().map(|r| row(r, String::new())).collect();
            (
                serde_json::json!({ "due": due, "held": held, "kept": kept }),
                vec![
                    section(due_rows, columns(), "due"),
                    section(held_rows, columns(), "held"),
                    section(kept_rows, columns(), "kept"),
                ],
            )
        }
    })
}

/// How the command line words a carry-out's protection, in `lang`.
pub(crate) fn protection_in(lang: Lang, encrypted: &str) -> String {
    if let Some(medium) = encrypted.strip_prefix("yes: encrypted medium ") {
        text_in(lang, "encrypted-medium", &[("id", medium)])
    } else if let Some(transfer) = encrypted.strip_prefix("yes: age-encrypted transfer ") {
        text_in(lang, "encrypted-transfer", &[("id", transfer)])
    } else if encrypted == "no" {
        text_in(lang, "no", &[])
    } else {
        encrypted.to_owned()
    }
}

async fn page(desk: Arc<Desk>, reader: Reader, headers: HeaderMap, register: Register) -> Response {
    let (name, role, own) = match reading(&desk, &reader, &headers, register, false).await {
        Reading::Whole(name, role) => (name, role, false),
        Reading::Own(name, role) => (name, role, true),
        Reading::Refused(response) => return response,
    };
    let f = Frame::for_reader(&desk, &reader, Some(name.clone())).with_role(role);
    let lang = reader.lang;
    let who = name.clone();
    // A record's whole history is for those who oversee the records.
    let links = role.is_some_and(Role::oversees);
    let manager = role == Some(Role::Manager);
    let read = read_as(&desk, &name, move |s| {
        read(
            s,
            register,
            lang,
            own.then_some(who.as_str()),
            links,
            manager,
        )
    })
    .await;
    match read {
        Ok((_, sections)) => {
            let prefix = register.words();
            let intro = if own {
                format!("{prefix}-intro-own")
            } else {
                format!("{prefix}-intro")
            };
            reader.respond(html(
                StatusCode::OK,
                &ListPage {
                    title: f.t(&format!("{prefix}-title")),
                    intro: f.t(&intro),
                    f: &f,
                    sections,
                },
            ))
        }
        Err(e) => reader.respond(message(
            &f,
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::say::error(&e).unwrap_or_else(|| e.to_string()),
        )),
    }
}

async fn api(desk: Arc<Desk>, reader: Reader, headers: HeaderMap, register: Register) -> Response {
    let (name, own) = match reading(&desk, &reader, &headers, register, true).await {
        Reading::Whole(name, _) => (name, false),
        Reading::Own(name, _) => (name, true),
        Reading::Refused(response) => return response,
    };
    let lang = reader.lang;
    let who = name.clone();
    match read_as(&desk, &name, move |s| {
        read(s, register, lang, own.then_some(who.as_str()), false, false)
    })
    .await
    {
        Ok((value, _)) => Json(value).into_response(),
        Err(e) => api_error(&e),
    }
}

macro_rules! register_pages {
    ($($page:ident, $api:ident => $register:expr;)+) => {$(
        /// The register's page.
        pub(crate) async fn $page(
            State(desk): State<Arc<Desk>>,
            reader: Reader,
            headers: HeaderMap,
        ) -> Response {
            page(desk, reader, headers, $register).await
        }

        /// The register for scripts, as the command line's `list --json` prints it.
        pub(crate) async fn $api(
            State(desk): State<Arc<Desk>>,
            reader: Reader,
            headers: HeaderMap,
        ) -> Response {
            api(desk, reader, headers, $register).await
        }
    )+};
}

register_pages! {
    carryouts, carryouts_api => Register::Carryouts;
    handovers, handovers_api => Register::Handovers;
    downloads, downloads_api => Register::Downloads;
    media, media_api => Register::Media;
    retention, retention_api => Register::Retention;
}
