//! The download register (個人データダウンロード等管理簿): each download of personal
//! data from a business system is requested and approved (`DL-…`), and the date its
//! copy was deleted is recorded later.

use serde::Serialize;
use serde_json::json;

use crate::clock::Timestamp;
use crate::error::{Done, Error, Field, RecordKind, Result, Step};
use crate::ledger::RecordId;
use crate::ledger::store::{Query, Row, args};
use crate::registers::requests::{RequestState, one_line};
use crate::station::Station;

/// A download as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Download {
    /// `DL-2`.
    pub id: RecordId,
    /// What data (対象データの内容).
    pub content: String,
    /// From which system (業務処理システム名).
    pub system: String,
    /// Who asked.
    pub requester: String,
    /// When (実施年月日).
    pub requested_at: Timestamp,
    /// Pending, approved or rejected.
    pub approval: RequestState,
    /// Who approved.
    pub approver: Option<String>,
    /// When the copy was deleted (削除年月日).
    pub deleted_at: Option<Timestamp>,
    /// Who deleted it.
    pub deleted_by: Option<String>,
    /// The file of personal data it concerns.
    pub personal_file: Option<RecordId>,
}

const SELECT: &str = "SELECT d.id, d.content, d.system, r.requester, r.requested_at, r.status, r.decided_by, \
     d.deleted_at, d.deleted_by, d.personal_file FROM downloads d JOIN requests r ON r.id = d.id";

fn from_row(r: &Row) -> Result<Download> {
    Ok(Download {
        id: r.get(0)?,
        content: r.get(1)?,
        system: r.get(2)?,
        requester: r.get(3)?,
        requested_at: r.get(4)?,
        approval: r.get(5)?,
        approver: r.get(6)?,
        deleted_at: r.get(7)?,
        deleted_by: r.get(8)?,
        personal_file: r.get(9)?,
    })
}

fn no_download(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Download,
        id: id.to_string(),
    }
}

impl Station {
    /// Requests a download of personal data; returns its id (`DL-…`).
    pub fn new_download(
        &mut self,
        content: &str,
        system: &str,
        personal_file: Option<&RecordId>,
    ) -> Result<RecordId> {
        self.actor.require_writer("request a download")?;
        let content = one_line(Field::Content, content, 500)?;
        let system = one_line(Field::System, system, 200)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            if let Some(file) = personal_file {
                crate::registers::files::require_in(w, file)?;
            }
            let (id, _) = w.create_record(
                &actor,
                "download-request",
                "DL",
                json!({ "content": content, "system": system, "personal_file": personal_file }),
            )?;
            Ok(id)
        })
    }

    /// Records that the downloaded copy was deleted (and reported).
    pub fn download_deleted(&mut self, id: &RecordId) -> Result<Download> {
        self.actor.require_writer("record a deletion")?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let download = w
                .db()
                .one(&format!("{SELECT} WHERE d.id = ?1"), args![id], from_row)?
                .ok_or_else(|| no_download(id))?;
            if let Some(at) = download.deleted_at {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Deleted { at },
                });
            }
            // Approved by the ledger's word, not the table's.
            let approval = crate::registers::requests::authentic_in(w, id)?.status;
            if approval != RequestState::Approved {
                return Err(Error::NotDone {
                    id: id.to_string(),
                    step: Step::Approved(approval),
                });
            }
            w.append(
                &actor,
                "download-deleted",
                id.as_str(),
                &json!({ "content": download.content, "system": download.system }),
            )?;
            w.db()
                .one(&format!("{SELECT} WHERE d.id = ?1"), args![id], from_row)?
                .ok_or_else(|| no_download(id))
        })
    }

    /// The download register, oldest first.
    pub fn downloads(&self) -> Result<Vec<Download>> {
        self.ledger
            .db()
            .map(&format!("{SELECT} ORDER BY r.requested_at"), &[], from_row)
    }
}
