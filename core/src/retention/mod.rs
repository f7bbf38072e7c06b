//! Retention: files, folders and media registered with a retention class; nothing is
//! disposed of before its date or while on hold, and disposal needs an approval by a
//! manager other than the requester, shreds the files, and leaves a `disposal` entry
//! and a signed disposal certificate.

use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::clock;
use crate::clock::Timestamp;
use crate::config::Trigger;
use crate::error::{
    Denial, Done, Error, Field, FileProblem, Nothing, RecordKind, Result, Rule, Step,
};
use crate::ledger::store::{Query, Row, args};
use crate::ledger::{RecordId, Writer};
use crate::people::Role;
use crate::registers::media;
use crate::registers::requests::one_line;
use crate::station::Station;

mod classes;
mod dispose;
mod proven;

pub use classes::FixedClass;
pub use dispose::{Destruction, Disposal};
pub(crate) use dispose::{medium_proof_in, proof_from};
use proven::authentic_item_in;

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

crate::vocab::vocabulary! {
    /// Where a retained item is, as of a day.
    pub enum RetainedStatus (Field::RetentionClass) {
        /// Kept; not due yet.
        Retained = "retained",
        /// On hold: not disposed of whatever its date.
        Held = "held",
        /// Its date has passed.
        Due = "due",
        /// Its period runs from an event date not recorded yet.
        AwaitingEvent = "awaiting-event",
        /// Disposed of.
        Disposed = "disposed",
    }
}

/// A retained item as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Retained {
    /// `RT-7`.
    pub id: RecordId,
    /// Its class.
    pub class: String,
    /// The rule that sets its period.
    pub basis: String,
    /// Years kept.
    pub years: u32,
    /// What starts its period.
    pub trigger: Trigger,
    /// Start of the period for `created` classes (registration or a date given).
    pub since: String,
    /// The event date for `event` classes, once known.
    pub event_date: Option<String>,
    /// The first day it may be disposed of; none while an event class awaits its event.
    pub due: Option<String>,
    /// The medium, when a medium is retained instead of files.
    pub media: Option<RecordId>,
    /// The folders registered (removed at disposal once empty).
    pub folders: Vec<String>,
    /// A note.
    pub note: Option<String>,
    /// When it was registered.
    pub added_at: Timestamp,
    /// Who registered it.
    pub added_by: String,
    /// Why it is on hold, if it is.
    pub hold_reason: Option<String>,
    /// Who put it on hold.
    pub held_by: Option<String>,
    /// The disposal request, once filed.
    pub disposal_request: Option<RecordId>,
    /// When it was disposed of.
    pub disposed_at: Option<Timestamp>,
    /// Who disposed of it.
    pub disposed_by: Option<String>,
    /// The disposal certificate.
    pub certificate: Option<RecordId>,
    /// Where it is (as of now).
    pub status: RetainedStatus,
    /// Its files.
    pub files: Vec<RetainedFile>,
    /// The file of personal data it belongs to.
    pub personal_file: Option<RecordId>,
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
    /// The file of personal data it belongs to (`FL-…`), when one is registered.
    pub personal_file: Option<RecordId>,
}

const SELECT: &str = "SELECT id, class, basis, years, trigger, since, event_date, due, media, note, added_at, added_by, \
     hold_reason, held_by, disposal_request, disposed_at, disposed_by, certificate, folders, personal_file \
     FROM retained";

fn from_row(r: &Row) -> Result<Retained> {
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
        folders: serde_json::from_str(&r.get::<String>(18)?).unwrap_or_default(),
        status: RetainedStatus::Retained,
        files: Vec::new(),
        personal_file: r.get(19)?,
    })
}

impl Retained {
    /// Refuses when the item was already disposed of.
    pub(super) fn refuse_if_disposed(&self) -> Result<()> {
        match self.disposed_at {
            None => Ok(()),
            at => Err(Error::AlreadyDone {
                id: self.id.to_string(),
                act: Done::Disposed { at },
            }),
        }
    }
}

pub(super) fn status_of(item: &Retained, today: &str) -> RetainedStatus {
    if item.disposed_at.is_some() {
        RetainedStatus::Disposed
    } else if item.hold_reason.is_some() {
        RetainedStatus::Held
    } else {
        match &item.due {
            None => RetainedStatus::AwaitingEvent,
            Some(due) if due.as_str() <= today => RetainedStatus::Due,
            Some(_) => RetainedStatus::Retained,
        }
    }
}

pub(super) fn load_in(w: &Writer<'_>, id: &RecordId) -> Result<Retained> {
    w.db()
        .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
        .ok_or_else(|| no_item(id))
}

pub(super) fn files_of(db: &impl Query, id: &str) -> Result<Vec<RetainedFile>> {
    db.map(
        "SELECT path, size, sha256 FROM retained_files WHERE item = ?1 ORDER BY path",
        args![id],
        |r| {
            Ok(RetainedFile {
                path: r.get(0)?,
                size: r.get(1)?,
                sha256: r.get(2)?,
            })
        },
    )
}

pub(super) fn hash_file(path: &Path) -> Result<(u64, String)> {
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
            return Err(Error::UnsupportedFile {
                path: path.to_path_buf(),
                problem: FileProblem::Symlink,
            });
        }
        let root = fs_err::canonicalize(path)?;
        if meta.is_file() {
            files.push(root);
            continue;
        }
        if !meta.is_dir() {
            return Err(Error::UnsupportedFile {
                path: path.to_path_buf(),
                problem: FileProblem::NotRegular,
            });
        }
        folders.push(root.clone());
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
            let kind = entry.file_type();
            if kind.is_symlink() {
                return Err(Error::UnsupportedFile {
                    path: entry.into_path(),
                    problem: FileProblem::SymlinkInside {
                        folder: path.to_path_buf(),
                    },
                });
            }
            if kind.is_file() {
                files.push(entry.into_path());
            } else if !kind.is_dir() {
                return Err(Error::UnsupportedFile {
                    path: entry.into_path(),
                    problem: FileProblem::NotRegular,
                });
            }
        }
    }
    files.sort();
    files.dedup();
    Ok((files, folders))
}

/// The start of the period a class counts from: the registration date (or the date
/// given) for `created` classes, the event date (if already known) for `event` ones.
/// Returns that start date and the event date.
fn period_start(class: &FixedClass, new: &NewRetained) -> Result<(NaiveDate, Option<NaiveDate>)> {
    let parse = |date: &Option<String>| date.as_deref().map(clock::parse_date).transpose();
    let wrong = |event| Error::WrongTrigger {
        class: new.class.clone(),
        event,
    };
    match class.trigger {
        Trigger::Created if new.event_date.is_some() => Err(wrong(false)),
        Trigger::Created => Ok((parse(&new.since)?.unwrap_or_else(clock::today), None)),
        Trigger::Event if new.since.is_some() => Err(wrong(true)),
        Trigger::Event => Ok((clock::today(), parse(&new.event_date)?)),
    }
}

impl Station {
    /// Registers files, folders or a medium with a retention class; returns `RT-…`.
    ///
    /// The steps: the class and its period (`period_start`), the files with their
    /// sizes and hashes (`files_to_retain`), a reason when the period starts early
    /// (`check_backdating`), then the `retain` entry.
    pub fn retain_add(&mut self, new: &NewRetained) -> Result<RecordId> {
        self.actor.require_writer("register items for retention")?;
        let classes = self.classes_by_name()?;
        let class = classes
            .get(&new.class)
            .cloned()
            .ok_or_else(|| Error::BadValue {
                field: Field::RetentionClass,
                value: new.class.clone(),
                rule: Rule::OneOf(classes.keys().cloned().collect()),
            })?;
        if new.paths.is_empty() == new.media.is_none() {
            return Err(Error::BothGiven {
                first: Field::Files,
                second: Field::Medium,
            });
        }
        let (since, event_date) = period_start(&class, new)?;
        let start = match class.trigger {
            Trigger::Created => Some(since),
            Trigger::Event => event_date,
        };
        let due = start.map(|s| due_date(s, class.years));
        let note = new
            .note
            .as_deref()
            .map(|n| one_line(Field::Note, n, 500))
            .transpose()?;
        let (files, folders) = self.files_to_retain(&new.paths)?;
        if new.media.is_none() && files.is_empty() {
            return Err(Error::Nothing {
                what: Nothing::ToRetain,
            });
        }
        let backdate_reason = new
            .backdate_reason
            .as_deref()
            .map(|r| one_line(Field::BackdateReason, r, 500))
            .transpose()?;
        // A period that would start before today is a request a manager approves
        // (001 art.19-2): until then the item counts from today.
        let today = clock::today();
        let backdated = start.filter(|s| *s < today);
        match (backdated, &backdate_reason) {
            (Some(start), None) => {
                return Err(Error::NotAllowed {
                    actor: self.actor.name.clone(),
                    action: format!("register items of class {} from {start}", new.class),
                    reason: Box::new(Denial::Backdated {
                        before: format!("the day of registration ({today})"),
                    }),
                });
            }
            (None, None) => self.check_backdating(&class, &new.class, start, &files)?,
            _ => {}
        }
        let (since, event_date, due) = match (backdated, class.trigger) {
            (Some(_), Trigger::Created) => (today, None, Some(due_date(today, class.years))),
            (Some(_), Trigger::Event) => (today, Some(today), Some(due_date(today, class.years))),
            (None, _) => (since, event_date, due),
        };
        let actor = self.actor.name.clone();
        let new = new.clone();
        self.write(|w| {
            if let Some(m) = &new.media {
                media::load_in(w, m)?;
            }
            if let Some(file) = &new.personal_file {
                crate::registers::files::require_in(w, file)?;
            }
            let (id, _) = w.create_record(
                &actor,
                "retain",
                "RT",
                json!({
                    "class": new.class, "basis": class.basis, "years": class.years,
                    "trigger": class.trigger,
                    "since": since.to_string(), "event_date": event_date.map(|d| d.to_string()),
                    "due": due.map(|d| d.to_string()), "media": new.media, "note": note,
                    "files": files, "count": files.len(), "folders": folders,
                    "backdate_reason": backdate_reason,
                    "requested_start": backdated.map(|d| d.to_string()),
                    "personal_file": new.personal_file,
                }),
            )?;
            if let Some(start) = backdated {
                crate::registers::requests::file_request_in(
                    w,
                    &actor,
                    crate::registers::requests::RequestKind::Backdate,
                    &format!(
                        "start the retention period of {id} ({}) on {start}, not today: {}",
                        new.class,
                        backdate_reason.as_deref().unwrap_or_default()
                    ),
                    json!({ "retained": id, "start": start.to_string() }),
                )?;
            }
            Ok(id)
        })
    }

    /// Every file under `paths` with its size and SHA-256, and the folders named;
    /// nothing of the data home.
    fn files_to_retain(&self, paths: &[PathBuf]) -> Result<(Vec<RetainedFile>, Vec<String>)> {
        self.refuse_data_home(paths)?;
        let (paths, folders) = collect_files(paths)?;
        self.refuse_data_home_files(&paths)?;
        let mut files = Vec::new();
        for path in paths {
            let (size, sha256) = hash_file(&path)?;
            let path = path
                .to_str()
                .ok_or_else(|| Error::UnsupportedFile {
                    path: path.clone(),
                    problem: FileProblem::NotUtf8,
                })?
                .to_string();
            files.push(RetainedFile { path, size, sha256 });
        }
        let folders = folders.iter().map(|f| f.display().to_string()).collect();
        Ok((files, folders))
    }

    /// Refuses a period that starts before the files last changed, or before this
    /// station kept any record, unless a reason is given: it makes the item due
    /// early, so the reason is kept in the entry and listed by the audit.
    fn check_backdating(
        &self,
        class: &FixedClass,
        name: &str,
        start: Option<NaiveDate>,
        files: &[RetainedFile],
    ) -> Result<()> {
        let Some(start) = start else {
            return Ok(());
        };
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
        if class.trigger == Trigger::Created
            && let Some(changed) = newest_change.filter(|c| start < *c)
        {
            backdated.push(format!("the files' last change ({changed})"));
        }
        if let Some(began) = station_began.filter(|b| start < *b) {
            backdated.push(format!("this station's first record ({began})"));
        }
        if backdated.is_empty() {
            return Ok(());
        }
        Err(Error::NotAllowed {
            actor: self.actor.name.clone(),
            action: format!("register items of class {name} from {start}"),
            reason: Box::new(Denial::Backdated {
                before: backdated.join(" and "),
            }),
        })
    }

    /// The request to start item `id`'s period before its registration day, if its
    /// registration filed one.
    pub fn backdate_request(&self, id: &RecordId) -> Result<Option<RecordId>> {
        use crate::ledger::store::Backend;
        self.ledger
            .db()
            .entries_with(&["request"], "$.details.retained", id.as_str())?
            .into_iter()
            .next()
            .map(|(_, subject)| RecordId::parse(&subject))
            .transpose()
    }

    /// The retention register, oldest first, with statuses as of today.
    pub fn retained_list(&self) -> Result<Vec<Retained>> {
        self.retained_as_of(&clock::today().to_string())
    }

    fn retained_as_of(&self, today: &str) -> Result<Vec<Retained>> {
        let db = self.ledger.db();
        let mut list = db.map(&format!("{SELECT} ORDER BY added_at"), &[], from_row)?;
        for item in &mut list {
            item.files = files_of(db, item.id.as_str())?;
            item.status = status_of(item, today);
        }
        Ok(list)
    }

    /// One retained item.
    pub fn retained(&self, id: &RecordId) -> Result<Retained> {
        self.retained_list()?
            .into_iter()
            .find(|i| &i.id == id)
            .ok_or_else(|| no_item(id))
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
    /// before today is a request a manager approves, with `backdate_reason` (001
    /// art.19-2): until then the event counts as today, as on registration.
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
            .map(|r| one_line(Field::BackdateReason, r, 500))
            .transpose()?;
        let today = clock::today();
        if date < today && backdate_reason.is_none() {
            let before = match began.filter(|b| date < *b) {
                Some(began) => format!("this station's first record ({began})"),
                None => format!("today ({today})"),
            };
            return Err(Error::NotAllowed {
                actor: self.actor.name.clone(),
                action: format!("set the event date of {id} to {date}"),
                reason: Box::new(Denial::Backdated { before }),
            });
        }
        let backdated = (date < today).then_some(date);
        let date = backdated.map_or(date, |_| today);
        let actor = self.actor.name.clone();
        self.write(|w| {
            let item = authentic_item_in(w, id)?;
            if item.trigger != Trigger::Event {
                return Err(Error::WrongTrigger {
                    class: item.class,
                    event: false,
                });
            }
            if let Some(existing) = item.event_date {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::EventDated { date: existing },
                });
            }
            let due = due_date(date, item.years).to_string();
            w.append(
                &actor,
                "retain-event",
                id.as_str(),
                &json!({
                    "event_date": date.to_string(), "due": due, "backdate_reason": backdate_reason,
                    "requested_event_date": backdated.map(|d| d.to_string()),
                }),
            )?;
            if let Some(start) = backdated {
                crate::registers::requests::file_request_in(
                    w,
                    &actor,
                    crate::registers::requests::RequestKind::Backdate,
                    &format!(
                        "start the retention period of {id} ({}) on the event date {start}, not today: {}",
                        item.class,
                        backdate_reason.as_deref().unwrap_or_default()
                    ),
                    json!({ "retained": id, "start": start.to_string() }),
                )?;
            }
            Ok(())
        })?;
        self.retained(id)
    }

    /// Puts an item on hold (managers): it is never disposed of while held.
    pub fn retain_hold(&mut self, id: &RecordId, reason: &str) -> Result<()> {
        self.actor
            .require_role(&[Role::Manager], "put items on hold")?;
        let reason = one_line(Field::Reason, reason, 500)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let item = authentic_item_in(w, id)?;
            item.refuse_if_disposed()?;
            if let Some(existing) = item.hold_reason {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Held { reason: existing },
                });
            }
            let covers = w.covers(id)?;
            w.append(
                &actor,
                "retain-hold",
                id.as_str(),
                &json!({ "reason": reason, "covers": covers }),
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
                return Err(Error::NotDone {
                    id: id.to_string(),
                    step: Step::Held,
                });
            };
            let covers = w.covers(id)?;
            w.append(
                &actor,
                "retain-release",
                id.as_str(),
                &json!({ "held_for": reason, "covers": covers }),
            )?;
            Ok(())
        })
    }
}

/// For the approval of backdate request `request`: the item and the payload of the
/// `retain-start` entry that moves its period to start on the date the request asked
/// for (at registration, or with the event date), with the due date that gives. Read
/// from the proven entries, before the approval is appended.
pub(crate) fn backdate_start_in(
    w: &Writer<'_>,
    request: &RecordId,
) -> Result<(RecordId, serde_json::Value)> {
    let mut prover = w.prover();
    let filed = prover
        .about(request.as_str())?
        .into_iter()
        .find(|e| e.kind == "request");
    let details = filed
        .as_ref()
        .and_then(|e| e.payload.as_ref()?.get("details").cloned())
        .unwrap_or_default();
    let damaged = || Error::Tampered {
        seq: filed.as_ref().map_or(0, |e| e.seq),
        problem: format!("the entry that filed {request} does not say which item starts when"),
    };
    let item = details["retained"]
        .as_str()
        .map(RecordId::parse)
        .transpose()?
        .ok_or_else(damaged)?;
    let start = clock::parse_date(details["start"].as_str().ok_or_else(damaged)?)?;
    let current = authentic_item_in(w, &item)?;
    current.refuse_if_disposed()?;
    let due = due_date(start, current.years).to_string();
    let payload = match current.trigger {
        Trigger::Created => json!({ "since": start.to_string(), "due": due, "request": request }),
        Trigger::Event => json!({
            "since": current.since, "event_date": start.to_string(), "due": due, "request": request,
        }),
    };
    Ok((item, payload))
}

fn no_item(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Retained,
        id: id.to_string(),
    }
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
