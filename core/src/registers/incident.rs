//! Incidents (情報漏えい等事案, 004 arts.27–28; 002 art.13; 000 art.6-7): a leak, a
//! loss or a breach of the rules, or a sign of one, reported at once by whoever
//! finds it; the manager then records its cause, the measures taken and whether they
//! worked, and when the Personal Information Protection Commission and the people
//! concerned were told. A medium retired as lost opens one by itself.

use serde::Serialize;
use serde_json::json;

use crate::clock::{self, Timestamp};
use crate::error::{Error, Field, RecordKind, Result, Rule};
use crate::ledger::store::{Query, Row, args};
use crate::ledger::{RecordId, Writer};
use crate::people::Role;
use crate::registers::requests::one_line;
use crate::station::Station;

/// What is known when an incident is reported.
#[derive(Debug, Clone, Default)]
pub struct NewIncident {
    /// What happened (事案の内容).
    pub what: String,
    /// The day it was found (default: today); never a day still to come.
    pub found_on: Option<String>,
    /// The records it concerns: media, carry-outs, transfers, retained items …
    pub records: Vec<RecordId>,
    /// Who was told so far (保護責任者, 管理責任者 …).
    pub told: Option<String>,
}

/// What the manager adds as the incident is handled; each field left out stays as
/// it was.
#[derive(Debug, Clone, Default)]
pub struct IncidentUpdate {
    /// Why it happened (原因).
    pub cause: Option<String>,
    /// What was done, and to prevent it again (再発防止措置).
    pub measures: Option<String>,
    /// Whether the measures worked (効果の確認).
    pub effect: Option<String>,
    /// The day it was reported to the Personal Information Protection Commission.
    pub commission_on: Option<String>,
    /// The day the people concerned were told.
    pub people_on: Option<String>,
}

/// An incident as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    /// `IN-2`.
    pub id: RecordId,
    /// What happened.
    pub what: String,
    /// The day it was found.
    pub found_on: String,
    /// The records it concerns, comma-separated.
    pub records: String,
    /// Who reported it.
    pub reported_by: String,
    /// When it was reported.
    pub reported_at: Timestamp,
    /// Who was told.
    pub told: Option<String>,
    /// Why it happened.
    pub cause: Option<String>,
    /// What was done.
    pub measures: Option<String>,
    /// Whether it worked.
    pub effect: Option<String>,
    /// The day the Commission was told.
    pub commission_on: Option<String>,
    /// The day the people concerned were told.
    pub people_on: Option<String>,
    /// Who recorded the latest update, and when.
    pub updated_by: Option<String>,
    /// When.
    pub updated_at: Option<Timestamp>,
}

const SELECT: &str = "SELECT id, what, found_on, records, reported_by, reported_at, told, cause, \
     measures, effect, commission_on, people_on, updated_by, updated_at FROM incidents";

fn from_row(r: &Row) -> Result<Incident> {
    Ok(Incident {
        id: r.get(0)?,
        what: r.get(1)?,
        found_on: r.get(2)?,
        records: r.get(3)?,
        reported_by: r.get(4)?,
        reported_at: r.get(5)?,
        told: r.get(6)?,
        cause: r.get(7)?,
        measures: r.get(8)?,
        effect: r.get(9)?,
        commission_on: r.get(10)?,
        people_on: r.get(11)?,
        updated_by: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

fn no_incident(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Incident,
        id: id.to_string(),
    }
}

/// A day that has come: today or earlier.
fn past_day(field: Field, text: &str) -> Result<String> {
    let day = clock::parse_date(text)?;
    if day > clock::today() {
        return Err(Error::BadValue {
            field,
            value: day.to_string(),
            rule: Rule::Described("it is still to come"),
        });
    }
    Ok(day.to_string())
}

/// Opens an incident inside a write: `IN-…`.
pub(crate) fn open_in(
    w: &mut Writer<'_>,
    actor: &str,
    what: &str,
    found_on: &str,
    records: &[String],
    told: Option<&str>,
) -> Result<RecordId> {
    let (id, _) = w.create_record(
        actor,
        "incident",
        "IN",
        json!({ "what": what, "found_on": found_on, "records": records.join(", "), "told": told }),
    )?;
    Ok(id)
}

impl Station {
    /// Reports an incident; returns its id (`IN-…`). Anyone registered to write may.
    pub fn open_incident(&mut self, new: &NewIncident) -> Result<RecordId> {
        self.actor.require_writer("report an incident")?;
        let what = one_line(Field::What, &new.what, 1000)?;
        let found_on = match new.found_on.as_deref() {
            Some(text) => past_day(Field::Date, text)?,
            None => clock::today().to_string(),
        };
        let told = new
            .told
            .as_deref()
            .map(|t| one_line(Field::Counterparty, t, 200))
            .transpose()?;
        let actor = self.actor.name.clone();
        let records = new.records.clone();
        self.write(|w| {
            for id in &records {
                let known: Option<String> = w
                    .db()
                    .value("SELECT id FROM records WHERE id = ?1", args![id])?;
                if known.is_none() {
                    return Err(Error::NoSuchRecord {
                        kind: RecordKind::Record,
                        id: id.to_string(),
                    });
                }
            }
            let records: Vec<String> = records.iter().map(ToString::to_string).collect();
            open_in(w, &actor, &what, &found_on, &records, told.as_deref())
        })
    }

    /// Records what the manager found and did about incident `id`.
    pub fn update_incident(&mut self, id: &RecordId, update: &IncidentUpdate) -> Result<Incident> {
        self.actor
            .require_role(&[Role::Manager], "update an incident")?;
        let text = |field: Field, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| one_line(field, v, 2000))
                .transpose()
        };
        let cause = text(Field::Reason, &update.cause)?;
        let measures = text(Field::Note, &update.measures)?;
        let effect = text(Field::Comment, &update.effect)?;
        let commission_on = update
            .commission_on
            .as_deref()
            .map(|d| past_day(Field::Date, d))
            .transpose()?;
        let people_on = update
            .people_on
            .as_deref()
            .map(|d| past_day(Field::Date, d))
            .transpose()?;
        if [&cause, &measures, &effect, &commission_on, &people_on]
            .iter()
            .all(|v| v.is_none())
        {
            return Err(Error::Nothing {
                what: crate::error::Nothing::ToUpdate,
            });
        }
        let actor = self.actor.name.clone();
        self.write(|w| {
            let opened = w
                .prover()
                .about(id.as_str())?
                .iter()
                .any(|e| e.kind == "incident");
            if !opened {
                return Err(no_incident(id));
            }
            w.append(
                &actor,
                "incident-update",
                id.as_str(),
                &json!({
                    "cause": cause, "measures": measures, "effect": effect,
                    "commission_on": commission_on, "people_on": people_on,
                }),
            )?;
            w.db()
                .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
                .ok_or_else(|| no_incident(id))
        })
    }

    /// The incidents, oldest first.
    pub fn incidents(&self) -> Result<Vec<Incident>> {
        self.ledger
            .db()
            .map(&format!("{SELECT} ORDER BY reported_at"), &[], from_row)
    }
}
