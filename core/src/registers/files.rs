//! The register of files of personal data (特定個人情報ファイル管理簿, 004 art.9-2;
//! ファイル管理台帳, 003 art.9 別紙2): for each file — a system's data, a spreadsheet,
//! a set of paper forms — its name, the section that uses it, why, what it records,
//! its range, how it is collected, to whom it goes regularly, how it is kept, its
//! kind, and how long. The manager (保護責任者) keeps it.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Field, RecordKind, Result};
use crate::ledger::RecordId;
use crate::ledger::store::{Query, Row, args};
use crate::people::Role;
use crate::registers::requests::one_line;
use crate::station::Station;

/// A file's entries in the register, each one line (004 art.9-2 (1)–(9), and its
/// retention period). When registering, `name` and `department` and `purpose` are
/// needed; an update changes only what it gives.
#[derive(Debug, Clone, Default)]
pub struct FileFields {
    /// (1) 名称.
    pub name: Option<String>,
    /// (2) 所管課室: the section whose work uses it.
    pub department: Option<String>,
    /// (3) 利用目的.
    pub purpose: Option<String>,
    /// (4) 記録項目.
    pub items: Option<String>,
    /// (5) 記録範囲.
    pub scope: Option<String>,
    /// (6) 収集方法.
    pub collection: Option<String>,
    /// (7) 経常的提供先.
    pub recipients: Option<String>,
    /// (8) 管理方法.
    pub management: Option<String>,
    /// (9) 種類.
    pub kind: Option<String>,
    /// 保存期間.
    pub retention: Option<String>,
}

/// A file as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalFile {
    /// `FL-2`.
    pub id: RecordId,
    /// 名称.
    pub name: String,
    /// 所管課室.
    pub department: String,
    /// 利用目的.
    pub purpose: String,
    /// 記録項目.
    pub items: Option<String>,
    /// 記録範囲.
    pub scope: Option<String>,
    /// 収集方法.
    pub collection: Option<String>,
    /// 経常的提供先.
    pub recipients: Option<String>,
    /// 管理方法.
    pub management: Option<String>,
    /// 種類.
    pub kind: Option<String>,
    /// 保存期間.
    pub retention: Option<String>,
    /// When it was registered, and by whom.
    pub added_at: crate::clock::Timestamp,
    /// Who registered it.
    pub added_by: String,
    /// When it was last changed.
    pub updated_at: Option<crate::clock::Timestamp>,
    /// The carry-outs, downloads and retained items that name it (filled when one
    /// file is shown).
    pub records: Vec<RecordId>,
}

const COLUMNS: &[(&str, Field, usize)] = &[
    ("name", Field::What, 200),
    ("department", Field::Owner, 200),
    ("purpose", Field::Purpose, 1000),
    ("items", Field::Content, 1000),
    ("scope", Field::Content, 1000),
    ("collection", Field::Method, 500),
    ("recipients", Field::Counterparty, 500),
    ("management", Field::Method, 500),
    ("kind", Field::Content, 200),
    ("retention", Field::Basis, 200),
];

const SELECT: &str = "SELECT id, name, department, purpose, items, scope, collection, recipients, \
     management, kind, retention, added_at, added_by, updated_at FROM personal_files";

fn from_row(r: &Row) -> Result<PersonalFile> {
    Ok(PersonalFile {
        id: r.get(0)?,
        name: r.get(1)?,
        department: r.get(2)?,
        purpose: r.get(3)?,
        items: r.get(4)?,
        scope: r.get(5)?,
        collection: r.get(6)?,
        recipients: r.get(7)?,
        management: r.get(8)?,
        kind: r.get(9)?,
        retention: r.get(10)?,
        added_at: r.get(11)?,
        added_by: r.get(12)?,
        updated_at: r.get(13)?,
        records: Vec::new(),
    })
}

/// The fields given, checked, as a JSON object of the columns they fill.
fn payload(fields: &FileFields) -> Result<Map<String, Value>> {
    let given = [
        &fields.name,
        &fields.department,
        &fields.purpose,
        &fields.items,
        &fields.scope,
        &fields.collection,
        &fields.recipients,
        &fields.management,
        &fields.kind,
        &fields.retention,
    ];
    let mut map = Map::new();
    for ((key, field, max), value) in COLUMNS.iter().zip(given) {
        if let Some(value) = value {
            map.insert((*key).to_owned(), json!(one_line(*field, value, *max)?));
        }
    }
    Ok(map)
}

/// Refuses `id` unless it is a registered file of personal data (for a record that
/// names the file it concerns).
pub(crate) fn require_in(w: &crate::ledger::Writer<'_>, id: &RecordId) -> Result<()> {
    let found: Option<String> = w.db().value(
        "SELECT id FROM personal_files WHERE id = ?1",
        crate::ledger::store::args![id],
    )?;
    found.map(|_| ()).ok_or_else(|| no_file(id))
}

fn no_file(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::PersonalFile,
        id: id.to_string(),
    }
}

impl Station {
    /// Registers a file of personal data (managers); returns its id (`FL-…`). Its
    /// name, section and purpose are needed.
    pub fn add_personal_file(&mut self, fields: &FileFields) -> Result<RecordId> {
        self.actor
            .require_role(&[Role::Manager], "keep the register of files")?;
        // The three a file cannot be registered without: refused when empty.
        for (value, field) in [
            (&fields.name, Field::What),
            (&fields.department, Field::Owner),
            (&fields.purpose, Field::Purpose),
        ] {
            one_line(field, value.as_deref().unwrap_or(""), 1000)?;
        }
        let map = payload(fields)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let (id, _) = w.create_record(&actor, "file-add", "FL", Value::Object(map))?;
            Ok(id)
        })
    }

    /// Changes what `fields` gives of file `id` (managers).
    pub fn update_personal_file(
        &mut self,
        id: &RecordId,
        fields: &FileFields,
    ) -> Result<PersonalFile> {
        self.actor
            .require_role(&[Role::Manager], "keep the register of files")?;
        let map = payload(fields)?;
        if map.is_empty() {
            return Err(Error::Nothing {
                what: crate::error::Nothing::ToUpdate,
            });
        }
        let actor = self.actor.name.clone();
        self.write(|w| {
            let added = w
                .prover()
                .about(id.as_str())?
                .iter()
                .any(|e| e.kind == "file-add");
            if !added {
                return Err(no_file(id));
            }
            w.append(&actor, "file-update", id.as_str(), &Value::Object(map))?;
            w.db()
                .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
                .ok_or_else(|| no_file(id))
        })
    }

    /// One file of the register, with the records that name it.
    pub fn personal_file(&self, id: &RecordId) -> Result<PersonalFile> {
        let mut file = self.personal_file_row(id)?;
        file.records = self.ledger.db().map(
            "SELECT id FROM records WHERE id IN (\
             SELECT id FROM carryouts WHERE personal_file = ?1 \
             UNION ALL SELECT id FROM downloads WHERE personal_file = ?1 \
             UNION ALL SELECT id FROM retained WHERE personal_file = ?1) ORDER BY seq",
            args![id],
            |r| r.get(0),
        )?;
        Ok(file)
    }

    fn personal_file_row(&self, id: &RecordId) -> Result<PersonalFile> {
        self.ledger
            .db()
            .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
            .ok_or_else(|| no_file(id))
    }

    /// The register of files, in the order they were registered.
    pub fn personal_files(&self) -> Result<Vec<PersonalFile>> {
        self.ledger
            .db()
            .map(&format!("{SELECT} ORDER BY added_at"), &[], from_row)
    }
}
