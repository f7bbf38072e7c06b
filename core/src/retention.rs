//! Retention: files, folders and media registered with a retention class; nothing is
//! disposed of before its date or while on hold, and disposal needs an approval by a
//! manager other than the requester, shreds the files, and leaves a `disposal` entry
//! and a signed disposal certificate.

use std::collections::BTreeMap;
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
    /// Why the period starts before the files last changed or before this station
    /// existed (transcribing a paper register, moving from another system).
    pub backdate_reason: Option<String>,
}

/// A retention class as the ledger fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixedClass {
    /// Its name (`system-data`).
    pub name: String,
    /// How many years items of it are kept.
    pub years: u32,
    /// What starts the period.
    pub trigger: Trigger,
    /// The rule that sets the period.
    pub basis: String,
    /// For a class an office added: the class it refines (never shorter).
    pub like: Option<String>,
    /// The ledger entry that fixed its period and basis; none for a default of this
    /// custody version in a ledger made before classes were recorded.
    pub seq: Option<i64>,
}

/// The classes in force after the recorded entries, oldest first: the defaults, the
/// classes recorded at `init`, then every amendment. A period is never shortened,
/// whatever an entry says.
fn fold_classes(entries: &[crate::ledger::Entry]) -> BTreeMap<String, FixedClass> {
    let mut classes: BTreeMap<String, FixedClass> = crate::config::default_classes()
        .into_iter()
        .map(|(name, c)| {
            let fixed = FixedClass {
                name: name.clone(),
                years: c.years,
                trigger: c.trigger,
                basis: c.basis,
                like: None,
                seq: None,
            };
            (name, fixed)
        })
        .collect();
    let mut set = |name: &str, value: &Value, seq: i64| {
        let Some(years) = value["years"].as_u64().and_then(|y| u32::try_from(y).ok()) else {
            return;
        };
        let basis = value["basis"].as_str().unwrap_or_default().to_owned();
        let like = value["like"].as_str().map(str::to_owned);
        match classes.get_mut(name) {
            Some(c) => {
                c.years = c.years.max(years);
                c.basis = basis;
                c.seq = Some(seq);
            }
            None => {
                let trigger = match value["trigger"].as_str() {
                    Some("event") => Trigger::Event,
                    _ => Trigger::Created,
                };
                classes.insert(
                    name.to_owned(),
                    FixedClass {
                        name: name.to_owned(),
                        years,
                        trigger,
                        basis,
                        like,
                        seq: Some(seq),
                    },
                );
            }
        }
    };
    for e in entries {
        let Some(payload) = &e.payload else { continue };
        match e.kind.as_str() {
            "init" => {
                for (name, value) in payload["retention_classes"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    set(name, value, e.seq);
                }
            }
            "retention-class" => {
                if let Some(name) = payload["name"].as_str() {
                    set(name, payload, e.seq);
                }
            }
            _ => {}
        }
    }
    classes
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
    /// The retention classes in force, from the proven entries that fixed them.
    pub fn retention_classes(&self) -> Result<Vec<FixedClass>> {
        Ok(self.classes_by_name()?.into_values().collect())
    }

    fn classes_by_name(&self) -> Result<BTreeMap<String, FixedClass>> {
        let mut prover = self.ledger.prover(self.key.public());
        let mut entries = vec![prover.entry(1)?];
        entries.extend(prover.of_kind("retention-class")?);
        entries.sort_by_key(|e| e.seq);
        let classes = fold_classes(&entries);
        // config.toml no longer sets classes; one that still does and disagrees
        // with the ledger is a config someone edited to shorten or reword one.
        for (name, c) in &self.config.retention.classes {
            let agrees = classes.get(name).is_some_and(|f| {
                f.years == c.years && f.trigger == c.trigger && f.basis == c.basis
            });
            if !agrees {
                return Err(Error::Config {
                    path: self.home.join("config.toml"),
                    message: format!(
                        "it sets retention class {name} differently from the ledger, which fixes every class; remove the [retention.classes.{name}] section (a manager lengthens a class with `custody retain class set`)"
                    ),
                });
            }
        }
        Ok(classes)
    }

    /// Adds a retention class that refines `like` (never shorter), or amends an
    /// existing one: a longer period (never shorter) and its basis. Managers only;
    /// signed and recorded as a `retention-class` entry.
    pub fn set_retention_class(
        &mut self,
        name: &str,
        years: u32,
        basis: &str,
        like: Option<&str>,
    ) -> Result<FixedClass> {
        self.actor
            .require_role(&[Role::Manager], "set retention classes")?;
        let valid_name = !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(Error::Invalid(format!(
                "{name:?} is not a class name; use 1 to 40 lower-case letters, digits and hyphens"
            )));
        }
        if !(1..=100).contains(&years) {
            return Err(Error::Invalid("a class keeps items 1 to 100 years".into()));
        }
        let basis = one_line("the class's basis", basis, 500)?;
        let classes = self.classes_by_name()?;
        let (trigger, like, previous) = match (classes.get(name), like) {
            (Some(_), Some(_)) => {
                return Err(Error::Invalid(format!(
                    "class {name} exists; amend it without naming another class"
                )));
            }
            (Some(current), None) => {
                if years < current.years {
                    return Err(Error::NotAllowed {
                        actor: self.actor.name.clone(),
                        action: format!("shorten retention class {name}"),
                        reason: format!(
                            "it keeps items {} years ({}); a class may be lengthened, never shortened",
                            current.years, current.basis
                        ),
                    });
                }
                (
                    current.trigger,
                    current.like.clone(),
                    Some(json!({ "years": current.years, "basis": current.basis })),
                )
            }
            (None, None) => {
                return Err(Error::Invalid(format!(
                    "{name} is a new class: name the class whose data it holds (its period is at least that class's)"
                )));
            }
            (None, Some(base)) => {
                let Some(base_class) = classes.get(base) else {
                    return Err(Error::Invalid(format!("{base:?} is not a retention class")));
                };
                if years < base_class.years {
                    return Err(Error::NotAllowed {
                        actor: self.actor.name.clone(),
                        action: format!("add retention class {name}"),
                        reason: format!(
                            "it holds data of class {base}, kept {} years ({}); a class may be longer than the one it refines, never shorter",
                            base_class.years, base_class.basis
                        ),
                    });
                }
                (base_class.trigger, Some(base.to_owned()), None)
            }
        };
        let actor = self.actor.name.clone();
        let payload = json!({
            "name": name, "years": years, "trigger": trigger_name(trigger), "basis": basis,
            "like": like, "previous": previous,
        });
        self.write(|w| w.append(&actor, "retention-class", "", &payload))?;
        self.classes_by_name()?
            .remove(name)
            .ok_or_else(|| Error::Failed(format!("class {name} was not recorded")))
    }

    /// Registers files, folders or a medium with a retention class; returns `RT-…`.
    pub fn retain_add(&mut self, new: &NewRetained) -> Result<RecordId> {
        self.actor.require_writer("register items for retention")?;
        let classes = self.classes_by_name()?;
        let class = classes.get(&new.class).cloned().ok_or_else(|| {
            let names: Vec<&str> = classes.keys().map(String::as_str).collect();
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
        // A period that starts before the files last changed, or before this station
        // kept any record, makes an item due early: it needs a reason, kept in the
        // entry and listed by the audit.
        let station_began = self
            .ledger
            .first_at()?
            .and_then(|at| clock::parse_stamp(&at).ok())
            .map(|at| clock::local(at).date_naive());
        let newest_change = files
            .iter()
            .filter_map(|f| fs_err::metadata(&f.path).ok()?.modified().ok())
            .max()
            .map(|t| clock::local(chrono::DateTime::<chrono::Utc>::from(t)).date_naive());
        let mut backdated = Vec::new();
        if let Some(start) = start {
            if class.trigger == Trigger::Created
                && let Some(changed) = newest_change.filter(|c| start < *c)
            {
                backdated.push(format!("the files' last change ({changed})"));
            }
            if let Some(began) = station_began.filter(|b| start < *b) {
                backdated.push(format!("this station's first record ({began})"));
            }
        }
        let backdate_reason = new
            .backdate_reason
            .as_deref()
            .map(|r| one_line("--backdate-reason", r, 500))
            .transpose()?;
        if !backdated.is_empty() && backdate_reason.is_none() {
            return Err(Error::NotAllowed {
                actor: self.actor.name.clone(),
                action: format!(
                    "register items of class {} from {}",
                    new.class,
                    start.map(|s| s.to_string()).unwrap_or_default()
                ),
                reason: format!(
                    "the period would start before {}, which makes the item due early; give the reason with --backdate-reason TEXT (it is recorded and listed by the audit)",
                    backdated.join(" and ")
                ),
            });
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
                    "backdate_reason": backdate_reason,
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

    /// Sets the event date of an event-class item (e.g. loss of eligibility). A date
    /// before this station's first record needs `backdate_reason`, recorded.
    pub fn retain_event(
        &mut self,
        id: &RecordId,
        date: &str,
        backdate_reason: Option<&str>,
    ) -> Result<Retained> {
        self.actor.require_writer("set an event date")?;
        let date = clock::parse_date(date)?;
        let began = self
            .ledger
            .first_at()?
            .and_then(|at| clock::parse_stamp(&at).ok())
            .map(|at| clock::local(at).date_naive());
        let backdate_reason = backdate_reason
            .map(|r| one_line("--backdate-reason", r, 500))
            .transpose()?;
        if let Some(began) = began.filter(|b| date < *b)
            && backdate_reason.is_none()
        {
            return Err(Error::NotAllowed {
                actor: self.actor.name.clone(),
                action: format!("set the event date of {id} to {date}"),
                reason: format!(
                    "the date is before this station's first record ({began}), which makes the item due early; give the reason with --backdate-reason TEXT (it is recorded and listed by the audit)"
                ),
            });
        }
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
                &json!({ "event_date": date.to_string(), "due": due, "backdate_reason": backdate_reason }),
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
                Some(m) => Some(medium_proof_in(w, &actor, &RecordId::parse(m)?, destruction)?),
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
    actor: &str,
    id: &RecordId,
    destruction: Option<&Destruction>,
) -> Result<Value> {
    let mut prover = w.prover();
    // The medium as registered: its proven media-add entry (serial, kind, capacity).
    let registered = prover
        .about(id.as_str())?
        .into_iter()
        .find(|e| e.kind == "media-add")
        .and_then(|e| e.payload)
        .ok_or_else(|| Error::NoSuchRecord(format!("{id} (no medium registered with that id)")))?;
    let serial = registered["serial"].as_str().unwrap_or_default().to_owned();
    if let Some(d) = destruction {
        let by = one_line("--destroyed-by", &d.by, 200)?;
        let method = one_line("--method", &d.method, 200)?;
        return Ok(json!({
            "id": id, "serial": serial, "destroyed_by": by, "destruction_method": method,
            "basis": format!("physical destruction by {by} ({method})"),
        }));
    }
    let capacity = registered["capacity"].as_u64();
    let candidates: Vec<String> = {
        let mut stmt = w
            .tx()
            .prepare_cached(
                "SELECT id FROM certificates WHERE serial = ?1 AND kind IN ('erasure', 'vendor') \
                 ORDER BY issued_at DESC",
            )
            .map_err(w.sql_err())?;
        let rows = stmt
            .query_map([&serial], |r| r.get(0))
            .map_err(w.sql_err())?;
        rows.collect::<rusqlite::Result<_>>().map_err(w.sql_err())?
    };
    let mut refused = Vec::new();
    for cert in candidates {
        let document = crate::certificate::authentic_document_in(w, &mut prover, &cert)?;
        match proof_from(&document, &serial, capacity) {
            Ok(basis) => {
                return Ok(json!({
                    "id": id, "serial": serial, "erasure_certificate": cert, "basis": basis,
                }));
            }
            Err(why) => refused.push(format!("{cert}: {why}")),
        }
    }
    Err(Error::NotAllowed {
        actor: actor.to_owned(),
        action: format!("dispose of medium {id}"),
        reason: if refused.is_empty() {
            format!(
                "there is no erasure certificate for serial {serial}; wipe it with `custody wipe`, import the vendor's certificate and have a manager accept it (`custody cert sign-off VC-…`), or record its physical destruction with --destroyed-by NAME --method TEXT"
            )
        } else {
            format!(
                "no certificate proves that this medium (serial {serial}) was erased: {}",
                refused.join("; ")
            )
        },
    })
}

/// Whether a certificate document proves the erasure of the medium with `serial` (of
/// `capacity` bytes, when registered); says on what basis, or why not.
fn proof_from(
    document: &Value,
    serial: &str,
    capacity: Option<u64>,
) -> std::result::Result<String, String> {
    let validator = document["validator"]["name"].as_str();
    match document["schema"].as_str() {
        Some("custody.erasure-certificate/v1") => {
            if document["status"] != "erased" {
                return Err(format!("the wipe ended {}", document["status"]));
            }
            let medium = &document["medium"];
            if medium["serial"].as_str() != Some(serial) {
                return Err("it names another serial".into());
            }
            if medium["transport"] == "file" {
                return Err("it is the wipe of an image file, not of a device".into());
            }
            let size = medium["size_bytes"].as_u64().unwrap_or(0);
            if let Some(capacity) = capacity {
                // A device shows a little less than its label (partition tables, the
                // maker's rounding), never more, and never a fraction of it.
                if size > capacity + capacity / 50 || size < capacity - capacity / 10 {
                    return Err(format!(
                        "the wiped device held {size} bytes, not the {capacity} registered for this medium"
                    ));
                }
            }
            match (medium["serial_source"].as_str(), validator) {
                (Some("device"), _) => Ok("erasure certificate; serial read from the device".into()),
                (_, Some(by)) => Ok(format!(
                    "erasure certificate; serial typed by the operator, confirmed by {by} at sign-off"
                )),
                _ => Err(
                    "its serial was typed by the operator, not read from the device, and no manager has signed it off"
                        .into(),
                ),
            }
        }
        Some("custody.vendor-certificate-receipt/v1") => match validator {
            Some(by) => Ok(format!(
                "vendor certificate of {} accepted by {by}",
                document["vendor"].as_str().unwrap_or("the vendor")
            )),
            None => Err(
                "it is a vendor's certificate that no manager has accepted yet (cert sign-off)"
                    .into(),
            ),
        },
        _ => Err("it is not an erasure certificate".into()),
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
