//! Retention: files, folders and media registered with a retention class; nothing is
//! disposed of before its date or while on hold, and disposal needs an approval by a
//! manager other than the requester, shreds the files, and leaves a `disposal` entry
//! and a signed disposal certificate.

use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate};
use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::certificate::{Certificate, Issue, issue_in};
use crate::clock;
use crate::config::Trigger;
use crate::error::{Error, Result};
use crate::ledger::{RecordId, Writer, prove};
use crate::media;
use crate::people::Role;
use crate::requests::{self, RequestKind, one_line};
use crate::station::Station;

/// The date a retention period of `years` starting on `start` ends: the same day
/// `years` later (29 February becomes 28 February in a common year).
pub fn due_date(start: NaiveDate, years: u32) -> NaiveDate {
    start
        .checked_add_months(Months::new(years * 12))
        .unwrap_or(NaiveDate::MAX)
}

/// A file registered for retention.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RetainedFile {
    /// Absolute path.
    pub path: String,
    /// Size in bytes at registration.
    pub size: u64,
    /// SHA-256 at registration, hex.
    pub sha256: String,
}

/// A retained item as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Retained {
    /// `RT-7`.
    pub id: String,
    /// Its class.
    pub class: String,
    /// The rule that sets its period.
    pub basis: String,
    /// Years kept.
    pub years: u32,
    /// `created` or `event`.
    pub trigger: String,
    /// Start of the period for `created` classes (registration or `--since`).
    pub since: String,
    /// The event date for `event` classes, once known.
    pub event_date: Option<String>,
    /// The first day it may be disposed of; none while an event class awaits its event.
    pub due: Option<String>,
    /// The medium, when a medium is retained instead of files.
    pub media: Option<String>,
    /// The folders registered (removed at disposal once empty).
    pub folders: Vec<String>,
    /// A note.
    pub note: Option<String>,
    /// When it was registered.
    pub added_at: String,
    /// Who registered it.
    pub added_by: String,
    /// Why it is on hold, if it is.
    pub hold_reason: Option<String>,
    /// Who put it on hold.
    pub held_by: Option<String>,
    /// The disposal request, once filed.
    pub disposal_request: Option<String>,
    /// When it was disposed of.
    pub disposed_at: Option<String>,
    /// Who disposed of it.
    pub disposed_by: Option<String>,
    /// The disposal certificate.
    pub certificate: Option<String>,
    /// `retained`, `held`, `due`, `awaiting-event` or `disposed` (as of now).
    pub status: String,
    /// Its files.
    pub files: Vec<RetainedFile>,
}

/// What `custody retain add` registers.
#[derive(Debug, Clone, Default)]
pub struct NewRetained {
    /// Files and folders.
    pub paths: Vec<PathBuf>,
    /// A registered medium instead of files.
    pub media: Option<RecordId>,
    /// The retention class.
    pub class: String,
    /// Start date for `created` classes (default: today).
    pub since: Option<String>,
    /// Event date for `event` classes, if already known.
    pub event_date: Option<String>,
    /// A note.
    pub note: Option<String>,
}

/// How a medium was physically destroyed, when it was not wiped.
#[derive(Debug, Clone)]
pub struct Destruction {
    /// Who destroyed it (a person or a contractor).
    pub by: String,
    /// How (crushing, shredding, melting …).
    pub method: String,
}

/// What a disposal did.
#[derive(Debug, Clone, Serialize)]
pub struct Disposal {
    /// The item.
    pub item: String,
    /// Files shredded.
    pub files: Vec<String>,
    /// The disposal certificate.
    pub certificate: Certificate,
}

const SELECT: &str = "SELECT id, class, basis, years, trigger, since, event_date, due, media, note, added_at, added_by, \
     hold_reason, held_by, disposal_request, disposed_at, disposed_by, certificate, folders FROM retained";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Retained> {
    Ok(Retained {
        id: r.get(0)?,
        class: r.get(1)?,
        basis: r.get(2)?,
        years: r.get(3)?,
        trigger: r.get(4)?,
        since: r.get(5)?,
        event_date: r.get(6)?,
        due: r.get(7)?,
        media: r.get(8)?,
        note: r.get(9)?,
        added_at: r.get(10)?,
        added_by: r.get(11)?,
        hold_reason: r.get(12)?,
        held_by: r.get(13)?,
        disposal_request: r.get(14)?,
        disposed_at: r.get(15)?,
        disposed_by: r.get(16)?,
        certificate: r.get(17)?,
        folders: serde_json::from_str(&r.get::<_, String>(18)?).unwrap_or_default(),
        status: String::new(),
        files: Vec::new(),
    })
}

fn status_of(item: &Retained, today: &str) -> String {
    if item.disposed_at.is_some() {
        "disposed"
    } else if item.hold_reason.is_some() {
        "held"
    } else {
        match &item.due {
            None => "awaiting-event",
            Some(due) if due.as_str() <= today => "due",
            Some(_) => "retained",
        }
    }
    .to_string()
}

fn load_in(w: &Writer<'_>, id: &RecordId) -> Result<Retained> {
    w.tx()
        .query_row(&format!("{SELECT} WHERE id = ?1"), [id], from_row)
        .optional()
        .map_err(w.sql_err())?
        .ok_or_else(|| {
            Error::NoSuchRecord(format!(
                "{id} (no retained item with that id; see `custody retain list`)"
            ))
        })
}

/// A retained item as its proven entries make it: registration (class, period, dates,
/// files), event date, holds, disposal request and disposal. Refused as tampering when
/// the `retained` row or its files say otherwise.
fn authentic_item_in(w: &Writer<'_>, id: &RecordId) -> Result<Retained> {
    let row = load_in(w, id)?;
    let row_files = files_of(w.tx(), id.as_str()).map_err(w.sql_err())?;
    let mut prover = w.prover();
    let mut item: Option<Retained> = None;
    for e in prover.about(id.as_str())? {
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
                    id: id.to_string(),
                    class: text("class").unwrap_or_default(),
                    basis: text("basis").unwrap_or_default(),
                    years: p.get("years").and_then(Value::as_u64).unwrap_or(0) as u32,
                    trigger: text("trigger").unwrap_or_default(),
                    since: text("since").unwrap_or_default(),
                    event_date: text("event_date"),
                    due: text("due"),
                    media: text("media"),
                    folders: p
                        .get("folders")
                        .cloned()
                        .and_then(|f| serde_json::from_value(f).ok())
                        .unwrap_or_default(),
                    note: text("note"),
                    added_at: e.at.clone(),
                    added_by: e.actor.clone(),
                    hold_reason: None,
                    held_by: None,
                    disposal_request: None,
                    disposed_at: None,
                    disposed_by: None,
                    certificate: row.certificate.clone(),
                    status: String::new(),
                    files,
                });
            }
            ("retain-event", Some(i)) if e.payload.is_some() => {
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
                i.disposed_at = Some(e.at.clone());
                i.disposed_by = Some(e.actor.clone());
            }
            _ => {}
        }
    }
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
            ("media", row.media.clone(), item.media.clone()),
            (
                "hold_reason",
                row.hold_reason.clone(),
                item.hold_reason.clone(),
            ),
            (
                "disposal_request",
                row.disposal_request.clone(),
                item.disposal_request.clone(),
            ),
            (
                "disposed_at",
                row.disposed_at.clone(),
                item.disposed_at.clone(),
            ),
            (
                "files",
                if item.disposed_at.is_some() {
                    None
                } else {
                    listing(&row_files)
                },
                if item.disposed_at.is_some() {
                    None
                } else {
                    listing(&item.files)
                },
            ),
        ],
    )?;
    item.status = status_of(&item, &clock::today().to_string());
    Ok(item)
}

/// The latest disposal request filed for item `id`, from the proven entries.
fn disposal_request_in(
    w: &Writer<'_>,
    prover: &mut crate::ledger::prove::Prover<'_>,
    id: &RecordId,
) -> Result<Option<String>> {
    let seqs: Vec<i64> = {
        let mut stmt = w
            .tx()
            .prepare_cached(
                "SELECT e.seq FROM entries e JOIN payloads p ON p.seq = e.seq \
                 WHERE e.kind = 'request' AND json_extract(p.body, '$.details.item') = ?1 ORDER BY e.seq",
            )
            .map_err(w.sql_err())?;
        let rows = stmt.query_map([id], |r| r.get(0)).map_err(w.sql_err())?;
        rows.collect::<rusqlite::Result<_>>().map_err(w.sql_err())?
    };
    let mut latest = None;
    for seq in seqs {
        latest = Some(prover.entry(seq)?.subject);
    }
    Ok(latest)
}

fn files_of(conn: &rusqlite::Connection, id: &str) -> rusqlite::Result<Vec<RetainedFile>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, size, sha256 FROM retained_files WHERE item = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(RetainedFile {
            path: r.get(0)?,
            size: r.get::<_, i64>(1)? as u64,
            sha256: r.get(2)?,
        })
    })?;
    rows.collect()
}

fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Every regular file under the given paths, absolute, refusing links and special
/// files (a retained item must be exactly what will later be shredded); and the
/// folders named, which disposal removes once they are empty.
fn collect_files(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut folders = Vec::new();
    for path in paths {
        let meta = fs_err::symlink_metadata(path)?;
        if meta.file_type().is_symlink() {
            return Err(Error::Invalid(format!(
                "{} is a symbolic link; register the file it points to instead",
                path.display()
            )));
        }
        let root = fs_err::canonicalize(path)?;
        if meta.is_file() {
            files.push(root);
            continue;
        }
        if !meta.is_dir() {
            return Err(Error::Invalid(format!(
                "{} is not a regular file or folder",
                path.display()
            )));
        }
        folders.push(root.clone());
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
            let kind = entry.file_type();
            if kind.is_symlink() {
                return Err(Error::Invalid(format!(
                    "{} is a symbolic link inside {}; remove it or register its target separately",
                    entry.path().display(),
                    path.display()
                )));
            }
            if kind.is_file() {
                files.push(entry.into_path());
            } else if !kind.is_dir() {
                return Err(Error::Invalid(format!(
                    "{} is not a regular file",
                    entry.path().display()
                )));
            }
        }
    }
    files.sort();
    files.dedup();
    Ok((files, folders))
}

impl Station {
    /// Registers files, folders or a medium with a retention class; returns `RT-…`.
    pub fn retain_add(&mut self, new: &NewRetained) -> Result<RecordId> {
        self.actor.require_writer("register items for retention")?;
        let class = self
            .config
            .retention
            .classes
            .get(&new.class)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = self
                    .config
                    .retention
                    .classes
                    .keys()
                    .map(String::as_str)
                    .collect();
                Error::Invalid(format!(
                    "{:?} is not a retention class; use one of {}",
                    new.class,
                    names.join(", ")
                ))
            })?;
        if new.paths.is_empty() == new.media.is_none() {
            return Err(Error::Invalid(
                "name files or folders to retain, or --media ID, not both".into(),
            ));
        }
        let today = clock::today();
        let (since, event_date) = match class.trigger {
            Trigger::Created => {
                if new.event_date.is_some() {
                    return Err(Error::Invalid(format!(
                        "class {} runs from the registration date; use --since, not --event-date",
                        new.class
                    )));
                }
                (
                    new.since
                        .as_deref()
                        .map(clock::parse_date)
                        .transpose()?
                        .unwrap_or(today),
                    None,
                )
            }
            Trigger::Event => {
                if new.since.is_some() {
                    return Err(Error::Invalid(format!(
                        "class {} runs from an event date; use --event-date (or `custody retain event` later)",
                        new.class
                    )));
                }
                (
                    today,
                    new.event_date
                        .as_deref()
                        .map(clock::parse_date)
                        .transpose()?,
                )
            }
        };
        let start = match class.trigger {
            Trigger::Created => Some(since),
            Trigger::Event => event_date,
        };
        let due = start.map(|s| due_date(s, class.years));
        let note = new
            .note
            .as_deref()
            .map(|n| one_line("--note", n, 500))
            .transpose()?;
        self.refuse_data_home(&new.paths)?;
        let mut files = Vec::new();
        let (paths, folders) = collect_files(&new.paths)?;
        self.refuse_data_home_files(&paths)?;
        let folders: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
        for path in paths {
            let (size, sha256) = hash_file(&path)?;
            let path = path
                .to_str()
                .ok_or_else(|| Error::Invalid(format!("{} is not a UTF-8 path", path.display())))?
                .to_string();
            files.push(RetainedFile { path, size, sha256 });
        }
        if new.media.is_none() && files.is_empty() {
            return Err(Error::Invalid("the folders hold no files to retain".into()));
        }
        let actor = self.actor.name.clone();
        let new = new.clone();
        self.write(|w| {
            if let Some(m) = &new.media {
                media::load_in(w, m)?;
            }
            let (id, _) = w.create_record(
                &actor,
                "retain",
                "RT",
                json!({
                    "class": new.class, "basis": class.basis, "years": class.years,
                    "trigger": trigger_name(class.trigger),
                    "since": since.to_string(), "event_date": event_date.map(|d| d.to_string()),
                    "due": due.map(|d| d.to_string()), "media": new.media, "note": note,
                    "files": files, "count": files.len(), "folders": folders,
                }),
            )?;
            Ok(id)
        })
    }

    /// The retention register, oldest first, with statuses as of today.
    pub fn retained_list(&self) -> Result<Vec<Retained>> {
        self.retained_as_of(&clock::today().to_string())
    }

    fn retained_as_of(&self, today: &str) -> Result<Vec<Retained>> {
        let conn = self.ledger.conn();
        let err = || Error::sqlite(self.ledger.path());
        let mut stmt = conn
            .prepare(&format!("{SELECT} ORDER BY added_at"))
            .map_err(err())?;
        let rows = stmt.query_map([], from_row).map_err(err())?;
        let mut list = Vec::new();
        for row in rows {
            let mut item = row.map_err(err())?;
            item.files = files_of(conn, &item.id).map_err(err())?;
            item.status = status_of(&item, today);
            list.push(item);
        }
        Ok(list)
    }

    /// One retained item.
    pub fn retained(&self, id: &RecordId) -> Result<Retained> {
        self.retained_list()?
            .into_iter()
            .find(|i| i.id == id.as_str())
            .ok_or_else(|| Error::NoSuchRecord(format!("{id} (no retained item with that id)")))
    }

    /// Items whose retention date has passed as of `as_of` (default today) and that are
    /// not disposed of; held items are listed with status `held`.
    pub fn retained_due(&self, as_of: Option<&str>) -> Result<Vec<Retained>> {
        let today = match as_of {
            Some(date) => clock::parse_date(date)?.to_string(),
            None => clock::today().to_string(),
        };
        Ok(self
            .retained_as_of(&today)?
            .into_iter()
            .filter(|i| {
                i.disposed_at.is_none() && i.due.as_deref().is_some_and(|d| d <= today.as_str())
            })
            .collect())
    }

    /// Sets the event date of an event-class item (e.g. loss of eligibility).
    pub fn retain_event(&mut self, id: &RecordId, date: &str) -> Result<Retained> {
        self.actor.require_writer("set an event date")?;
        let date = clock::parse_date(date)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let item = authentic_item_in(w, id)?;
            if item.trigger != "event" {
                return Err(Error::Invalid(format!(
                    "{id} is of class {}, which runs from its registration date, not an event",
                    item.class
                )));
            }
            if let Some(existing) = &item.event_date {
                return Err(Error::Invalid(format!(
                    "{id} already has the event date {existing}"
                )));
            }
            let due = due_date(date, item.years).to_string();
            w.append(
                &actor,
                "retain-event",
                id.as_str(),
                &json!({ "event_date": date.to_string(), "due": due }),
            )?;
            Ok(())
        })?;
        self.retained(id)
    }

    /// Puts an item on hold (managers): it is never disposed of while held.
    pub fn retain_hold(&mut self, id: &RecordId, reason: &str) -> Result<()> {
        self.actor
            .require_role(&[Role::Manager], "put items on hold")?;
        let reason = one_line("--reason", reason, 500)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let item = authentic_item_in(w, id)?;
            if item.disposed_at.is_some() {
                return Err(Error::Invalid(format!("{id} was already disposed of")));
            }
            if let Some(existing) = &item.hold_reason {
                return Err(Error::Invalid(format!(
                    "{id} is already on hold: {existing}"
                )));
            }
            w.append(
                &actor,
                "retain-hold",
                id.as_str(),
                &json!({ "reason": reason }),
            )?;
            Ok(())
        })
    }

    /// Releases a hold (managers).
    pub fn retain_release(&mut self, id: &RecordId) -> Result<()> {
        self.actor.require_role(&[Role::Manager], "release holds")?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let item = authentic_item_in(w, id)?;
            let Some(reason) = item.hold_reason else {
                return Err(Error::Invalid(format!("{id} is not on hold")));
            };
            w.append(
                &actor,
                "retain-release",
                id.as_str(),
                &json!({ "held_for": reason }),
            )?;
            Ok(())
        })
    }

    /// Files a disposal request for an item; returns the request's id (`RQ-…`).
    pub fn request_disposal(&mut self, id: &RecordId) -> Result<RecordId> {
        self.actor.require_writer("request a disposal")?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let item = authentic_item_in(w, id)?;
            if item.disposed_at.is_some() {
                return Err(Error::Invalid(format!("{id} was already disposed of")));
            }
            if let Some(existing) = &item.disposal_request {
                let pending = requests::load_in(w, &RecordId::parse(existing)?)?;
                if pending.status != "rejected" {
                    return Err(Error::Invalid(format!(
                        "{id} already has the disposal request {existing} ({})",
                        pending.status
                    )));
                }
            }
            let summary = format!(
                "dispose of {id} ({}, due {})",
                item.class,
                item.due.as_deref().unwrap_or("after its event")
            );
            let request = requests::file_request_in(
                w,
                &actor,
                RequestKind::Disposal,
                &summary,
                json!({ "item": id, "class": item.class, "due": item.due }),
            )?;
            Ok(request)
        })
    }

    /// Disposes of an item: refused before its date, on hold, or without an approved
    /// request; shreds its files (or, for a medium, requires a wipe certificate or a
    /// recorded destruction), checks they are gone, records a `disposal` entry and
    /// issues a signed disposal certificate.
    pub fn dispose(
        &mut self,
        id: &RecordId,
        destruction: Option<&Destruction>,
    ) -> Result<Disposal> {
        self.actor.require_writer("dispose of items")?;
        let today = clock::today().to_string();
        // The item as its proven entries make it, not as the table says: a due date
        // or a hold edited into the table decides nothing.
        let item = self.write(|w| authentic_item_in(w, id))?;
        if let Some(at) = &item.disposed_at {
            return Err(Error::Invalid(format!(
                "{id} was already disposed of at {at}"
            )));
        }
        if let Some(reason) = &item.hold_reason {
            return Err(Error::NotAllowed {
                actor: self.actor.name.clone(),
                action: format!("dispose of {id}"),
                reason: format!(
                    "it is on hold ({reason}, by {}); a manager releases it with `custody retain release {id}`",
                    item.held_by.as_deref().unwrap_or("a manager")
                ),
            });
        }
        match &item.due {
            None => {
                return Err(Error::NotAllowed {
                    actor: self.actor.name.clone(),
                    action: format!("dispose of {id}"),
                    reason: format!(
                        "class {} keeps it {} years from an event date, which is not recorded yet (`custody retain event {id} --date DATE`)",
                        item.class, item.years
                    ),
                });
            }
            Some(due) if due.as_str() > today.as_str() => {
                return Err(Error::NotAllowed {
                    actor: self.actor.name.clone(),
                    action: format!("dispose of {id}"),
                    reason: format!("it must be kept until {due} ({})", item.basis),
                });
            }
            Some(_) => {}
        }
        let Some(request_id) = item
            .disposal_request
            .as_deref()
            .map(RecordId::parse)
            .transpose()?
        else {
            return Err(Error::NotAllowed {
                actor: self.actor.name.clone(),
                action: format!("dispose of {id}"),
                reason: format!(
                    "no disposal request was filed; file one with `custody retain dispose {id} --request` and have a manager approve it"
                ),
            });
        };
        let actor = self.actor.name.clone();
        let method = custody_wipe::Method::parse(&self.config.retention.shred_method, None)
            .map_err(|e| Error::Config {
                path: self.home.join("config.toml"),
                message: format!("retention.shred_method: {e}"),
            })?;
        let verify = self.config.retention.shred_verify;

        // Everything is checked, and a disposal-start entry written, before the first
        // byte is overwritten.
        let medium_proof = self.write(|w| {
            // Unchanged since the checks above (no hold placed meanwhile).
            let now = authentic_item_in(w, id)?;
            if now.hold_reason.is_some() || now.disposed_at.is_some() {
                return Err(Error::Invalid(format!(
                    "{id} was put on hold or disposed of meanwhile; nothing was disposed of"
                )));
            }
            let request = requests::require_approved(w, &request_id, RequestKind::Disposal, &format!("dispose of {id}"))?;
            let medium_proof = match &item.media {
                Some(m) => Some(medium_proof_in(w, &RecordId::parse(m)?, destruction)?),
                None => None,
            };
            for f in &item.files {
                let (size, sha256) = hash_file(Path::new(&f.path)).map_err(|_| {
                    Error::Invalid(format!("{} is missing or unreadable; nothing was disposed of", f.path))
                })?;
                if sha256 != f.sha256 || size != f.size {
                    return Err(Error::Invalid(format!(
                        "{} changed since it was registered (its SHA-256 differs); register the new version with `custody retain add` — nothing was disposed of",
                        f.path
                    )));
                }
            }
            w.append(
                &actor,
                "disposal-start",
                id.as_str(),
                &json!({ "request": request.id, "count": item.files.len(), "method": method.name() }),
            )?;
            Ok(medium_proof)
        })?;

        let mut shredded = Vec::new();
        let mut passes = Vec::new();
        for f in &item.files {
            match custody_wipe::shred::shred_file(&f.path, &method, verify) {
                Ok(report) => {
                    passes = report.passes.clone();
                    shredded.push(f.path.clone());
                }
                Err(e) => {
                    let message = e.to_string();
                    self.write(|w| {
                        w.append(
                            &actor,
                            "disposal-failed",
                            id.as_str(),
                            &json!({ "shredded": shredded, "failed": f.path, "error": message }),
                        )
                    })?;
                    return Err(Error::Failed(format!(
                        "disposal of {id} failed at {} after {} of {} files: {e}",
                        f.path,
                        shredded.len(),
                        item.files.len()
                    )));
                }
            }
        }
        for f in &item.files {
            if Path::new(&f.path).exists() {
                return Err(Error::Failed(format!(
                    "{} still exists after shredding",
                    f.path
                )));
            }
        }
        let removed_dirs = remove_empty_folders(&item.files, &item.folders);

        let organisation = self.config.organisation.clone();
        let station = self.config.station.clone();
        let role = self.actor.role.map(Role::as_str).unwrap_or("");
        let role = role.to_string();
        let certificate = self.write_signed(|w, key| {
            let request = requests::load_in(w, &request_id)?;
            let what = json!({
                "files": item.files.iter().map(|f| json!({"path": f.path, "size": f.size, "sha256": f.sha256})).collect::<Vec<_>>(),
                "count": item.files.len(),
                "folders_removed": removed_dirs,
                "media": medium_proof,
            });
            let method_record = if item.files.is_empty() {
                Value::Null
            } else {
                json!({ "name": method.name(), "passes": passes, "verified": verify, "tool": "custody", "version": crate::VERSION })
            };
            let appended = w.append(
                &actor,
                "disposal",
                id.as_str(),
                &json!({
                    "what": what, "class": item.class, "basis": item.basis, "method": method_record,
                    "requester": request.requester, "approver": request.decided_by, "executor": actor,
                    "request": request.id,
                }),
            )?;
            let document = json!({
                "schema": "custody.disposal-certificate/v1",
                "organisation": organisation,
                "station": station,
                "item": id,
                "retention": {
                    "class": item.class, "basis": item.basis, "years": item.years,
                    "since": item.since, "event_date": item.event_date, "due": item.due,
                },
                "what": what,
                "method": method_record,
                "requester": request.requester,
                "approver": { "name": request.decided_by, "at": request.decided_at, "request": request.id },
                "executor": { "name": actor, "role": role },
                "disposed_at": appended.at,
                "ledger": { "seq": appended.seq, "hash": appended.hash },
                "keep_until": due_date(clock::today(), 7).to_string(),
                "tool": { "name": "custody", "version": crate::VERSION },
            });
            let serial = medium_proof.as_ref().and_then(|m| m.get("serial")).and_then(Value::as_str).map(str::to_string);
            let cert = issue_in(
                w,
                key,
                Issue {
                    actor: &actor,
                    kind: "disposal",
                    prefix: "DC",
                    subject: id.as_str(),
                    serial: serial.as_deref(),
                    status: "disposed",
                },
                document,
            )?;
            Ok(cert)
        })?;
        Ok(Disposal {
            item: id.to_string(),
            files: shredded,
            certificate,
        })
    }

    /// Erases the payloads of every ledger entry about a disposed item (paths, names),
    /// keeping their commitments so the chain still verifies; returns how many.
    pub fn erase_disposed_payloads(&mut self) -> Result<u64> {
        self.actor
            .require_role(&[Role::Manager], "erase ledger payloads")?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            // Disposed of by the ledger's own word: a disposal entry about the item.
            let items = w.disposed_items()?;
            w.erase_payloads(&actor, &items)
        })
    }
}

fn trigger_name(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::Created => "created",
        Trigger::Event => "event",
    }
}

/// What proves that a retained medium no longer holds its data: an erasure
/// certificate for its serial that says `erased`, or a recorded physical destruction.
fn medium_proof_in(
    w: &Writer<'_>,
    id: &RecordId,
    destruction: Option<&Destruction>,
) -> Result<Value> {
    let medium = media::load_in(w, id)?;
    if let Some(d) = destruction {
        let by = one_line("--destroyed-by", &d.by, 200)?;
        let method = one_line("--method", &d.method, 200)?;
        return Ok(
            json!({ "id": id, "serial": medium.serial, "destroyed_by": by, "destruction_method": method }),
        );
    }
    let cert: Option<String> = w
        .tx()
        .query_row(
            "SELECT id FROM certificates WHERE serial = ?1 AND ((kind = 'erasure' AND status = 'erased') OR kind = 'vendor') \
             ORDER BY issued_at DESC LIMIT 1",
            [&medium.serial],
            |r| r.get(0),
        )
        .optional()
        .map_err(w.sql_err())?;
    match cert {
        Some(cert) => Ok(json!({ "id": id, "serial": medium.serial, "erasure_certificate": cert })),
        None => Err(Error::NotAllowed {
            actor: String::new(),
            action: format!("dispose of medium {id}"),
            reason: format!(
                "there is no erasure certificate saying serial {} was erased; wipe it with `custody wipe` or record its physical destruction with --destroyed-by NAME --method TEXT",
                medium.serial
            ),
        }),
    }
}

/// Removes the registered folders and the folders inside them that held shredded
/// files, once they are empty, deepest first; returns those removed. A folder that
/// was not registered (the one holding a single registered file) is never removed.
fn remove_empty_folders(files: &[RetainedFile], folders: &[String]) -> Vec<String> {
    let inside = |dir: &Path| folders.iter().any(|root| dir.starts_with(root));
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .flat_map(|f| {
            Path::new(&f.path)
                .ancestors()
                .skip(1)
                .map(Path::to_path_buf)
                .collect::<Vec<_>>()
        })
        .filter(|d| inside(d))
        .chain(folders.iter().map(PathBuf::from))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    let mut removed = Vec::new();
    for dir in dirs {
        if std::fs::remove_dir(&dir).is_ok() {
            removed.push(dir.display().to_string());
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn due_dates_add_whole_years() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(due_date(d("2021-04-01"), 5), d("2026-04-01"));
        assert_eq!(due_date(d("2024-02-29"), 3), d("2027-02-28"));
        assert_eq!(due_date(d("2024-02-29"), 4), d("2028-02-29"));
    }

    proptest! {
        #[test]
        fn due_is_later_and_same_month(days in 0i64..40_000, years in 1u32..30) {
            let start = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(days);
            let due = due_date(start, years);
            prop_assert!(due > start);
            prop_assert_eq!(chrono::Datelike::month(&due), chrono::Datelike::month(&start));
            prop_assert_eq!(chrono::Datelike::year(&due) - chrono::Datelike::year(&start), years as i32);
            // A period of a + b years ends no earlier than a then b.
            prop_assert!(due_date(start, years + 1) > due);
        }
    }
}
