//! Operation records (特定個人情報等の運用状況記録票, 003 別紙1 and art.8): each
//! handling of My Number data that the seed says is written down — an input into the
//! system, paper shredded after its period, electronic data deleted — with the day,
//! who did it, what, and who checked it. The check (目視チェック) is made by another
//! person than the one who did the work (003 art.13-(2), (5)), who records it under
//! their own key.

use serde::Serialize;
use serde_json::json;

use crate::clock::{self, Timestamp};
use crate::error::{Denial, Done, Error, Field, RecordKind, Result, Rule};
use crate::ledger::RecordId;
use crate::ledger::store::{Query, Row, args};
use crate::registers::requests::one_line;
use crate::station::Station;
use crate::vocab::vocabulary;

vocabulary! {
    /// What was done (区分).
    pub enum OperationKind (Field::OperationKind) {
        /// Data put into a system (入力).
        Input = "input",
        /// Paper holding My Number data shredded or dissolved (書類廃棄).
        PaperDisposal = "paper-disposal",
        /// Electronic data deleted (削除).
        Deletion = "deletion",
    }
}

/// What an operation record says.
#[derive(Debug, Clone)]
pub struct NewOperation {
    /// What was done.
    pub kind: OperationKind,
    /// What it was about (the forms, the data, how).
    pub content: String,
    /// How many items, when counted.
    pub count: Option<u32>,
    /// The system concerned, if any (個人番号管理システム …).
    pub system: Option<String>,
    /// The day it was done (default: today); never a day still to come.
    pub on: Option<String>,
}

/// An operation record as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// `OP-3`.
    pub id: RecordId,
    /// What was done.
    pub kind: OperationKind,
    /// What it was about.
    pub content: String,
    /// How many items.
    pub count: Option<i64>,
    /// The system concerned.
    pub system: Option<String>,
    /// The day it was done (実施年月日).
    pub done_on: String,
    /// When it was recorded.
    pub at: Timestamp,
    /// Who did it (実施者).
    pub by: String,
    /// Who checked it (確認者).
    pub checked_by: Option<String>,
    /// When the check was recorded.
    pub checked_at: Option<Timestamp>,
}

const SELECT: &str = "SELECT id, kind, content, count, system, done_on, at, by, checked_by, checked_at \
     FROM operations";

fn from_row(r: &Row) -> Result<Operation> {
    Ok(Operation {
        id: r.get(0)?,
        kind: r.get(1)?,
        content: r.get(2)?,
        count: r.get(3)?,
        system: r.get(4)?,
        done_on: r.get(5)?,
        at: r.get(6)?,
        by: r.get(7)?,
        checked_by: r.get(8)?,
        checked_at: r.get(9)?,
    })
}

fn no_operation(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Operation,
        id: id.to_string(),
    }
}

impl Station {
    /// Records an operation; returns its id (`OP-…`).
    pub fn record_operation(&mut self, new: &NewOperation) -> Result<RecordId> {
        self.actor.require_writer("record an operation")?;
        let content = one_line(Field::Content, &new.content, 500)?;
        let system = new
            .system
            .as_deref()
            .map(|s| one_line(Field::System, s, 200))
            .transpose()?;
        if new.count == Some(0) {
            return Err(Error::BadValue {
                field: Field::Count,
                value: "0".into(),
                rule: Rule::Range {
                    min: 1,
                    max: i64::from(u32::MAX),
                },
            });
        }
        let today = clock::today();
        let on = match new.on.as_deref() {
            Some(text) => clock::parse_date(text)?,
            None => today,
        };
        if on > today {
            return Err(Error::BadValue {
                field: Field::Date,
                value: on.to_string(),
                rule: Rule::Described("it is still to come; record an operation once it is done"),
            });
        }
        let actor = self.actor.name.clone();
        let kind = new.kind;
        let count = new.count;
        self.write(|w| {
            let (id, _) = w.create_record(
                &actor,
                "operation",
                "OP",
                json!({
                    "kind": kind, "content": content, "count": count, "system": system,
                    "done_on": on.to_string(),
                }),
            )?;
            Ok(id)
        })
    }

    /// Records the check of an operation by someone who did not do it.
    pub fn check_operation(&mut self, id: &RecordId) -> Result<Operation> {
        self.actor.require_writer("check an operation")?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            // Who did it and whether it was checked, from the proven entries.
            let mut done_by = None;
            let mut checked = None;
            for e in w.prover().about(id.as_str())? {
                match e.kind.as_str() {
                    "operation" => done_by = Some(e.actor.clone()),
                    "operation-check" => checked = Some((e.actor.clone(), e.at)),
                    _ => {}
                }
            }
            let done_by = done_by.ok_or_else(|| no_operation(id))?;
            if let Some((by, at)) = checked {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Confirmed { by: Some(by), at },
                });
            }
            if done_by == actor {
                return Err(Error::NotAllowed {
                    actor: actor.clone(),
                    action: format!("check {id}"),
                    reason: Box::new(Denial::SameChecker),
                });
            }
            w.append(&actor, "operation-check", id.as_str(), &json!({}))?;
            w.db()
                .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
                .ok_or_else(|| no_operation(id))
        })
    }

    /// The operation records, oldest first.
    pub fn operations(&self) -> Result<Vec<Operation>> {
        self.ledger
            .db()
            .map(&format!("{SELECT} ORDER BY done_on, at"), &[], from_row)
    }
}
