//! A retained item as its proven entries make it, for every decision about it.

use serde_json::Value;

use crate::clock::{self, Timestamp};
use crate::config::Trigger;
use crate::error::{Error, Result};
use crate::ledger::prove::shown;
use crate::ledger::store::Backend;
use crate::ledger::{RecordId, Writer, prove};

use super::{Retained, RetainedFile, files_of, load_in, status_of};

/// A retained item as its proven entries make it: registration (class, period, dates,
/// files), event date, holds, disposal request and disposal. Refused as tampering when
/// the `retained` row or its files say otherwise.
pub(super) fn authentic_item_in(w: &Writer<'_>, id: &RecordId) -> Result<Retained> {
    let row = load_in(w, id)?;
    let row_files = files_of(w.db(), id.as_str())?;
    let mut prover = w.prover();
    let item = fold_entries(prover.about(id.as_str())?, id, &row);
    let Some(mut item) = item else {
        return Err(Error::ProjectionsDiffer {
            rows: vec![crate::ledger::RowMismatch {
                table: "retained".into(),
                key: id.to_string(),
                problem: "the row is in the table but no entry registered it".into(),
            }],
        });
    };
    if item.disposed_at.is_none() {
        item.disposal_request = disposal_request_in(w, &mut prover, id)?;
    } else {
        item.disposal_request = row.disposal_request.clone();
    }
    compare_with_row(id, &row, &row_files, &item)?;
    item.status = status_of(&item, &clock::today().to_string());
    Ok(item)
}

/// The item as its entries make it (registration, event date, holds, disposal), or
/// none when no entry registered it; `row` stands in for a registration whose payload
/// was erased after disposal.
fn fold_entries(
    entries: Vec<crate::ledger::Entry>,
    id: &RecordId,
    row: &Retained,
) -> Option<Retained> {
    let mut item: Option<Retained> = None;
    for e in entries {
        let text = |key: &str| prove::field(&e, key).map(str::to_owned);
        match (e.kind.as_str(), item.as_mut()) {
            ("retain", _) => {
                let Some(p) = &e.payload else {
                    // Erased: only ever after its disposal; the row is all there is.
                    item = Some(row.clone());
                    continue;
                };
                let files: Vec<RetainedFile> = p
                    .get("files")
                    .cloned()
                    .and_then(|f| serde_json::from_value(f).ok())
                    .unwrap_or_default();
                item = Some(Retained {
                    id: id.clone(),
                    class: text("class").unwrap_or_default(),
                    basis: text("basis").unwrap_or_default(),
                    years: p.get("years").and_then(Value::as_u64).unwrap_or(0) as u32,
                    // A trigger the vocabulary does not know is a damaged entry;
                    // reading it as `created` makes the table disagree (refused below).
                    trigger: text("trigger")
                        .and_then(|t| Trigger::parse(&t).ok())
                        .unwrap_or(Trigger::Created),
                    since: text("since").unwrap_or_default(),
                    event_date: text("event_date"),
                    due: text("due"),
                    media: text("media").and_then(|m| RecordId::parse(&m).ok()),
                    folders: p
                        .get("folders")
                        .cloned()
                        .and_then(|f| serde_json::from_value(f).ok())
                        .unwrap_or_default(),
                    note: text("note"),
                    added_at: e.at,
                    added_by: e.actor.clone(),
                    hold_reason: None,
                    held_by: None,
                    disposal_request: None,
                    disposed_at: None,
                    disposed_by: None,
                    certificate: row.certificate.clone(),
                    status: super::RetainedStatus::Retained,
                    files,
                    personal_file: text("personal_file").and_then(|f| RecordId::parse(&f).ok()),
                });
            }
            ("retain-event", Some(i)) if e.payload.is_some() => {
                i.event_date = text("event_date");
                i.due = text("due");
            }
            ("retain-start", Some(i)) if e.payload.is_some() => {
                i.since = text("since").unwrap_or_default();
                i.event_date = text("event_date");
                i.due = text("due");
            }
            ("retain-hold", Some(i)) => {
                i.hold_reason = text("reason").or(Some("(erased)".into()));
                i.held_by = Some(e.actor.clone());
            }
            ("retain-release", Some(i)) => {
                i.hold_reason = None;
                i.held_by = None;
            }
            ("disposal", Some(i)) => {
                i.disposed_at = Some(e.at);
                i.disposed_by = Some(e.actor.clone());
            }
            _ => {}
        }
    }
    item
}

/// Refuses the item as tampering when the `retained` row or its files say otherwise
/// than the entries.
fn compare_with_row(
    id: &RecordId,
    row: &Retained,
    row_files: &[RetainedFile],
    item: &Retained,
) -> Result<()> {
    let s = |v: &str| Some(v.to_owned());
    let listing = |files: &[RetainedFile]| {
        let mut lines: Vec<String> = files
            .iter()
            .map(|f| format!("{} {} {}", f.path, f.size, f.sha256))
            .collect();
        lines.sort();
        Some(lines.join("\n"))
    };
    prove::backed(
        "retained",
        id.as_str(),
        &[
            ("class", s(&row.class), s(&item.class)),
            (
                "years",
                s(&row.years.to_string()),
                s(&item.years.to_string()),
            ),
            ("since", s(&row.since), s(&item.since)),
            (
                "event_date",
                row.event_date.clone(),
                item.event_date.clone(),
            ),
            ("due", row.due.clone(), item.due.clone()),
            ("trigger", s(row.trigger.as_str()), s(item.trigger.as_str())),
            ("media", shown(&row.media), shown(&item.media)),
            (
                "hold_reason",
                row.hold_reason.clone(),
                item.hold_reason.clone(),
            ),
            (
                "disposal_request",
                shown(&row.disposal_request),
                shown(&item.disposal_request),
            ),
            (
                "disposed_at",
                row.disposed_at.map(Timestamp::ledger),
                item.disposed_at.map(Timestamp::ledger),
            ),
            (
                "files",
                if item.disposed_at.is_some() {
                    None
                } else {
                    listing(row_files)
                },
                if item.disposed_at.is_some() {
                    None
                } else {
                    listing(&item.files)
                },
            ),
        ],
    )?;
    Ok(())
}

/// The latest disposal request filed for item `id`, from the proven entries.
fn disposal_request_in(
    w: &Writer<'_>,
    prover: &mut crate::ledger::prove::Prover<'_, impl Backend>,
    id: &RecordId,
) -> Result<Option<RecordId>> {
    let mut latest = None;
    for (seq, _) in w
        .db()
        .entries_with(&["request"], "$.details.item", id.as_str())?
    {
        latest = Some(RecordId::parse(&prover.entry(seq)?.subject)?);
    }
    Ok(latest)
}
