//! The projections: the tables workflows read (people, requests, media, registers,
//! certificates, retained items, contacts, record ids), each row a function of the
//! ledger's entries. [`apply`] is the only code that writes them: the writer calls it
//! for every entry it appends, in the same transaction, and `ledger verify` calls it
//! for every entry of the chain into an empty copy of the tables, then compares the
//! copy with what the file holds, row by row ([`super::rebuild`]).
//!
//! A payload erased for retention is replayed from the facts the erasure entry kept of
//! it ([`facts`]): the parts the projections need, without the personal ones.

use serde_json::{Value, json};

use super::store::{Cell, Query, args};
use crate::error::Result;
use crate::registers::media::{MediaStatus, Move};

/// The entry kinds that create a record (`records` row, id = subject).
pub(crate) const RECORD_KINDS: &[&str] = &[
    "person-add",
    "note",
    "request",
    "carryout-request",
    "download-request",
    "send",
    "receive",
    "media-add",
    "handover",
    "operation",
    "incident",
    "file-add",
    "batch",
    "wipe",
    "retain",
    "certificate",
];

/// The projection tables, in the order they are compared, with the columns that
/// identify a row.
pub(crate) const TABLES: &[(&str, &str)] = &[
    ("records", "id"),
    ("counters", "prefix"),
    ("people", "name"),
    ("person_keys", "key_id"),
    ("requests", "id"),
    ("media", "id"),
    ("carryouts", "id"),
    ("handovers", "id"),
    ("downloads", "id"),
    ("certificates", "id"),
    ("retained", "id"),
    ("retained_files", "item, path"),
    ("contacts", "name"),
    ("operations", "id"),
    ("incidents", "id"),
    ("personal_files", "id"),
    ("disposal_batches", "id"),
    ("batch_items", "batch, media"),
];

/// One entry as the projections see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fact<'a> {
    pub(crate) seq: i64,
    pub(crate) at: &'a str,
    pub(crate) actor: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) subject: &'a str,
}

/// What a certificate entry carries beside its payload: the signed document, its
/// signature and issue time (the entry commits to the document's SHA-256).
#[derive(Debug, Clone)]
pub(crate) struct Attachment {
    pub(crate) body: String,
    pub(crate) signature: String,
    pub(crate) issued_at: Option<String>,
}

fn text<'a>(p: &'a Value, key: &str) -> Option<&'a str> {
    p.get(key).and_then(Value::as_str)
}

/// The statements that register the record an entry creates in the projection
/// tables of `schema` (`main`, or the copy `verify` rebuilds): its id, and its
/// prefix's counter. None for an entry that creates no record. The writer runs them
/// with the entry's own rows, in one round trip ([`super::store::Query::execute_all`]),
/// then [`apply_effects`].
pub(crate) fn record_statements(schema: &str, e: Fact<'_>) -> Vec<(String, Vec<Cell>)> {
    let mut statements = Vec::new();
    if RECORD_KINDS.contains(&e.kind) {
        statements.push((
            "INSERT INTO {s}.records(id, kind, seq) VALUES (?1, ?2, ?3)".replace("{s}", schema),
            args![e.subject, e.kind, e.seq].to_vec(),
        ));
        if let Some((prefix, number)) = e.subject.split_once('-')
            && let Ok(number) = number.parse::<i64>()
        {
            statements.push((
                "INSERT INTO {s}.counters AS c (prefix, last) VALUES (?1, ?2) \
                 ON CONFLICT (prefix) DO UPDATE SET last = \
                 CASE WHEN c.last > excluded.last THEN c.last ELSE excluded.last END"
                    .replace("{s}", schema),
                args![prefix, number].to_vec(),
            ));
        }
    }
    statements
}

/// What the writer applies besides registering record ids ([`record_statements`]): every projection but `records`
/// and `counters` (which a rebuild derives from the entries in bulk), one step per
/// register.
pub(crate) fn apply_effects(
    db: &impl Query,
    schema: &str,
    e: Fact<'_>,
    p: &Value,
    attachment: Option<&Attachment>,
) -> Result<()> {
    let projection = Projection {
        db,
        schema,
        attachment,
    };
    match e.kind {
        "init" | "person-add" | "person-role" | "person-remove" | "key-enroll" | "key-confirm" => {
            projection.people(e, p)
        }
        "request" | "approve" | "reject" | "send" => projection.requests(e, p),
        "contact-add" | "contact-replace" | "contact-remove" => projection.contacts(e, p),
        "media-add" | "media-retire" => projection.media(e, p),
        "carryout-request" | "carryout-out" | "carryout-return" | "carryout-lost" => {
            projection.carryouts(e, p)
        }
        "download-request" | "download-deleted" => projection.downloads(e, p),
        "handover" | "handover-confirm" => projection.handovers(e, p),
        "operation" | "operation-check" => projection.operations(e, p),
        "batch" | "batch-close" => projection.batches(e, p),
        "incident" | "incident-update" => projection.incidents(e, p),
        "file-add" | "file-update" => projection.personal_files(e, p),
        "certificate" | "cert-sign-off" => projection.certificates(e, p),
        "retain" => projection.retained(e, p),
        "retain-event" | "retain-start" | "retain-hold" | "retain-release" | "disposal"
        | "payloads-erased" => projection.retention(e, p),
        _ => Ok(()),
    }
}

/// One entry being applied to the projection tables of `schema`.
struct Projection<'a, Q> {
    db: &'a Q,
    schema: &'a str,
    attachment: Option<&'a Attachment>,
}

impl<Q: Query> Projection<'_, Q> {
    /// Runs a statement on the tables of this projection's schema.
    fn run(&self, statement: &str, cells: &[Cell]) -> Result<usize> {
        self.db
            .execute(&statement.replace("{s}", self.schema), cells)
    }

    /// The one place a medium's status changes, and only along the moves its
    /// status allows ([`MediaStatus::after`]). A move the status does not allow
    /// (recorded by a version that did not check it) leaves the status as it was.
    fn move_media(&self, id: &str, change: Move) -> Result<()> {
        let status: Option<MediaStatus> = self.db.value(
            &"SELECT status FROM {s}.media WHERE id = ?1".replace("{s}", self.schema),
            args![id],
        )?;
        let Some(mut next) = status.and_then(|s| s.after(change)) else {
            return Ok(());
        };
        // A medium whose registration still waits for a manager comes back to the
        // cabinet pending, not in stock: being wiped and received approves nothing.
        if next == MediaStatus::InStock {
            let request: Option<String> = self.db.value(
                &"SELECT status FROM {s}.requests WHERE id = ?1".replace("{s}", self.schema),
                args![id],
            )?;
            if request.as_deref() == Some("pending") {
                next = MediaStatus::Pending;
            }
        }
        self.run(
            "UPDATE {s}.media SET status = ?2 WHERE id = ?1",
            args![id, next],
        )?;
        Ok(())
    }

    /// People: who is registered, with which role and department, who was removed
    /// (`person-*` entries); and their personal keys: enrolled, confirmed by a
    /// manager, revoked when replaced or when the person is removed (`key-*`).
    fn people(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        let name = text(p, "name");
        match e.kind {
            "person-add" => self.run(
                "INSERT INTO {s}.people(name, role, id, seq, department) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![name, text(p, "role"), e.subject, e.seq, text(p, "department")],
            )?,
            "person-role" => self.run(
                "UPDATE {s}.people SET role = ?2 WHERE name = ?1",
                args![name, text(p, "role")],
            )?,
            "person-remove" => {
                self.run(
                    "UPDATE {s}.people SET removed_seq = ?2, removed_reason = ?3 WHERE name = ?1",
                    args![name, e.seq, text(p, "reason")],
                )?;
                self.revoke_keys(name, None, e.seq, "the person was removed")?
            }
            "init" => match p.get("manager_key") {
                Some(key) => self.run(
                    "INSERT INTO {s}.person_keys(key_id, name, public_key, enrolled_seq, \
                     confirmed_seq, confirmed_by) VALUES (?1, ?2, ?3, ?4, ?4, ?2)",
                    args![text(key, "key_id"), e.actor, text(key, "public_key"), e.seq],
                )?,
                None => 0,
            },
            "key-enroll" => {
                let first = p.get("first").and_then(Value::as_bool) == Some(true);
                self.run(
                    "INSERT INTO {s}.person_keys(key_id, name, public_key, enrolled_seq, \
                     confirmed_seq, confirmed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    args![
                        text(p, "key_id"),
                        name,
                        text(p, "public_key"),
                        e.seq,
                        first.then_some(e.seq),
                        first.then_some(e.actor)
                    ],
                )?
            }
            "key-confirm" => {
                let key_id = text(p, "key_id");
                self.run(
                    "UPDATE {s}.person_keys SET confirmed_seq = ?2, confirmed_by = ?3 WHERE key_id = ?1",
                    args![key_id, e.seq, e.actor],
                )?;
                self.revoke_keys(name, key_id, e.seq, "replaced by a new key")?
            }
            _ => 0,
        };
        Ok(())
    }

    /// Revokes every key of `name` still standing, but `except`.
    fn revoke_keys(
        &self,
        name: Option<&str>,
        except: Option<&str>,
        seq: i64,
        reason: &str,
    ) -> Result<usize> {
        self.run(
            "UPDATE {s}.person_keys SET revoked_seq = ?3, revoked_reason = ?4 \
             WHERE name = ?1 AND revoked_seq IS NULL AND key_id IS DISTINCT FROM ?2",
            args![name, except, seq, reason],
        )
    }

    /// Requests: filed, decided, and used by a send.
    fn requests(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        let (db, schema) = (self.db, self.schema);
        match e.kind {
            "request" => {
                let kind = text(p, "request_kind");
                request(
                    db,
                    schema,
                    e,
                    kind.unwrap_or(""),
                    request_summary(e.kind, p).as_deref(),
                )?;
                if kind == Some("disposal")
                    && let Some(item) = p.get("details").and_then(|d| text(d, "item"))
                {
                    self.run(
                        "UPDATE {s}.retained SET disposal_request = ?2 WHERE id = ?1",
                        args![item, e.subject],
                    )?;
                }
            }
            "approve" | "reject" => {
                // A decision counts only for the request as filed: the entry it covers
                // must be the one that filed the request.
                if let Some(covered) = p.get("covers").and_then(|c| text(c, "hash")) {
                    let filed: Option<String> = self.db.value(
                        "SELECT hash FROM main.entries WHERE subject = ?1 AND kind IN \
                         ('request', 'carryout-request', 'download-request', 'media-add') \
                         ORDER BY seq LIMIT 1",
                        args![e.subject],
                    )?;
                    if filed.as_deref() != Some(covered) {
                        return Ok(());
                    }
                }
                let (status, note) = if e.kind == "approve" {
                    ("approved", text(p, "comment"))
                } else {
                    ("rejected", text(p, "reason"))
                };
                self.run(
                    "UPDATE {s}.requests SET status = ?2, decided_by = ?3, decided_at = ?4, \
                 decision_note = ?5 WHERE id = ?1",
                    args![e.subject, status, e.actor, e.at, note],
                )?;
                // A medium's registration decided: in the cabinet for use, or never used
                // (whatever happened to it meanwhile, unless it left the register).
                if e.kind == "approve" {
                    self.run(
                        "UPDATE {s}.media SET status = 'in-stock' WHERE id = ?1 AND status = 'pending'",
                        args![e.subject],
                    )?;
                } else {
                    self.run(
                        "UPDATE {s}.media SET status = 'rejected' \
                         WHERE id = ?1 AND retired_reason IS NULL",
                        args![e.subject],
                    )?;
                }
            }
            "send" => {
                if let Some(request) = text(p, "request") {
                    self.run(
                        "UPDATE {s}.requests SET used_by = ?2 WHERE id = ?1",
                        args![request, e.subject],
                    )?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The address book.
    fn contacts(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        match e.kind {
            "contact-add" | "contact-replace" => {
                self.run(
                    "DELETE FROM {s}.contacts WHERE name = ?1",
                    args![text(p, "name")],
                )?;
                self.run(
                    "INSERT INTO {s}.contacts(name, key, fingerprint, seq) VALUES (?1, ?2, ?3, ?4)",
                    args![
                        text(p, "name"),
                        text(p, "key"),
                        text(p, "fingerprint"),
                        e.seq
                    ],
                )?;
            }
            "contact-remove" => {
                self.run(
                    "DELETE FROM {s}.contacts WHERE name = ?1",
                    args![text(p, "name")],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The media register: registration and retirement.
    fn media(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        match e.kind {
            "media-add" => {
                // Registered since registration needs approval: pending, and a request.
                let needs_approval = p
                    .get("needs_approval")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if needs_approval {
                    request(
                        self.db,
                        self.schema,
                        e,
                        "medium",
                        request_summary(e.kind, p).as_deref(),
                    )?;
                }
                self.run(
                    "INSERT INTO {s}.media(id, kind, serial, label, model, owner, location, encrypted, \
                 status, added_at, data_class) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, ?9, ?11)",
                    args![
                        e.subject,
                        text(p, "kind"),
                        text(p, "serial"),
                        text(p, "label"),
                        text(p, "model"),
                        text(p, "owner"),
                        text(p, "location"),
                        p.get("encrypted").and_then(Value::as_bool).unwrap_or(false),
                        e.at,
                        if needs_approval { "pending" } else { "in-stock" },
                        text(p, "data_class").unwrap_or("general")
                    ],
                )?;
            }
            "media-retire" => {
                if let Some(request) = text(p, "request") {
                    self.run(
                        "UPDATE {s}.requests SET used_by = ?2 WHERE id = ?1",
                        args![request, e.subject],
                    )?;
                }
                let reason = text(p, "reason");
                self.run(
                    "UPDATE {s}.media SET status = ?2, retired_reason = ?2 WHERE id = ?1",
                    args![e.subject, reason],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Carry-outs: the request, leaving, coming back (and the medium with it).
    fn carryouts(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        let (db, schema) = (self.db, self.schema);
        match e.kind {
            "carryout-request" => {
                request(
                    db,
                    schema,
                    e,
                    "carryout",
                    request_summary(e.kind, p).as_deref(),
                )?;
                self.run(
                    "INSERT INTO {s}.carryouts(id, what, reason, destination, return_by, transport, media, \
                 transfer, personal_data, records, encrypted, personal_file) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    args![
                        e.subject,
                        text(p, "what"),
                        text(p, "reason"),
                        text(p, "destination"),
                        text(p, "return_by"),
                        text(p, "transport"),
                        text(p, "media"),
                        text(p, "transfer"),
                        p.get("personal_data")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        p.get("records").and_then(Value::as_i64),
                        text(p, "encrypted"),
                        text(p, "personal_file")
                    ],
                )?;
            }
            "carryout-out" => {
                self.run(
                    "UPDATE {s}.carryouts SET out_at = ?2, out_by = ?3 WHERE id = ?1",
                    args![e.subject, e.at, e.actor],
                )?;
                if let Some(media) = text(p, "media") {
                    self.move_media(media, Move::CarryOut)?;
                }
            }
            // Lost while out: closed, and its medium lost with it.
            "carryout-lost" => {
                self.run(
                    "UPDATE {s}.carryouts SET lost_at = ?2, lost_by = ?3 WHERE id = ?1",
                    args![e.subject, e.at, e.actor],
                )?;
                if let Some(media) = text(p, "media") {
                    self.run(
                        "UPDATE {s}.media SET status = 'lost', retired_reason = 'lost' WHERE id = ?1",
                        args![media],
                    )?;
                }
            }
            "carryout-return" => {
                self.run(
                    "UPDATE {s}.carryouts SET returned_at = ?2, returned_by = ?3, condition = ?4 \
                 WHERE id = ?1",
                    args![e.subject, e.at, e.actor, text(p, "condition")],
                )?;
                // It comes back with this carry-out only if this carry-out took it:
                // not when it went out to a vendor while the carry-out was out.
                let handed_over_since: Option<String> = db.value(
                    &format!(
                        "SELECT h.id FROM {schema}.handovers h, {schema}.carryouts c \
                         WHERE c.id = ?1 AND h.media = c.media AND h.at > c.out_at LIMIT 1"
                    ),
                    args![e.subject],
                )?;
                if let Some(media) = text(p, "media")
                    && handed_over_since.is_none()
                {
                    self.move_media(media, Move::CarryBack)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Downloads: the request and the deletion of the copy.
    fn downloads(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        let (db, schema) = (self.db, self.schema);
        match e.kind {
            "download-request" => {
                request(
                    db,
                    schema,
                    e,
                    "download",
                    request_summary(e.kind, p).as_deref(),
                )?;
                self.run(
                    "INSERT INTO {s}.downloads(id, content, system, personal_file) \
                     VALUES (?1, ?2, ?3, ?4)",
                    args![
                        e.subject,
                        text(p, "content"),
                        text(p, "system"),
                        text(p, "personal_file")
                    ],
                )?;
            }
            "download-deleted" => {
                self.run(
                    "UPDATE {s}.downloads SET deleted_at = ?2, deleted_by = ?3 WHERE id = ?1",
                    args![e.subject, e.at, e.actor],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Disposal batches: the manifest, and the closing.
    fn batches(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        match e.kind {
            "batch" => {
                self.run(
                    "INSERT INTO {s}.disposal_batches(id, contractor, due_on, created_at, created_by) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    args![e.subject, text(p, "contractor"), text(p, "due_on"), e.at, e.actor],
                )?;
                for item in p
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    self.run(
                        "INSERT INTO {s}.batch_items(batch, media, serial, handover) \
                         VALUES (?1, ?2, ?3, ?4)",
                        args![
                            e.subject,
                            text(item, "media"),
                            text(item, "serial"),
                            text(item, "handover")
                        ],
                    )?;
                }
            }
            "batch-close" => {
                self.run(
                    "UPDATE {s}.disposal_batches SET closed_at = ?2, closed_by = ?3 WHERE id = ?1",
                    args![e.subject, e.at, e.actor],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Incidents and their updates (a field an update leaves out keeps its value).
    fn incidents(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        match e.kind {
            "incident" => self
                .run(
                    "INSERT INTO {s}.incidents(id, what, found_on, records, reported_by, \
                     reported_at, told) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    args![
                        e.subject,
                        text(p, "what"),
                        text(p, "found_on"),
                        text(p, "records"),
                        e.actor,
                        e.at,
                        text(p, "told")
                    ],
                )
                .map(drop),
            "incident-update" => self
                .run(
                    "UPDATE {s}.incidents SET cause = coalesce(?2, cause), \
                     measures = coalesce(?3, measures), effect = coalesce(?4, effect), \
                     commission_on = coalesce(?5, commission_on), \
                     people_on = coalesce(?6, people_on), updated_by = ?7, updated_at = ?8 \
                     WHERE id = ?1",
                    args![
                        e.subject,
                        text(p, "cause"),
                        text(p, "measures"),
                        text(p, "effect"),
                        text(p, "commission_on"),
                        text(p, "people_on"),
                        e.actor,
                        e.at
                    ],
                )
                .map(drop),
            _ => Ok(()),
        }
    }

    /// The register of files: registered, then changed field by field.
    fn personal_files(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        let fields = [
            "name",
            "department",
            "purpose",
            "items",
            "scope",
            "collection",
            "recipients",
            "management",
            "kind",
            "retention",
        ];
        match e.kind {
            "file-add" => {
                self.run(
                    "INSERT INTO {s}.personal_files(id, name, department, purpose, added_at, \
                     added_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    args![
                        e.subject,
                        text(p, "name"),
                        text(p, "department"),
                        text(p, "purpose"),
                        e.at,
                        e.actor
                    ],
                )?;
            }
            "file-update" => {
                self.run(
                    "UPDATE {s}.personal_files SET updated_at = ?2 WHERE id = ?1",
                    args![e.subject, e.at],
                )?;
            }
            _ => return Ok(()),
        }
        // Every field the entry gives (a column name from the fixed list, never
        // from the payload's own keys).
        for field in fields {
            if let Some(value) = text(p, field) {
                self.run(
                    &format!("UPDATE {{s}}.personal_files SET {field} = ?2 WHERE id = ?1"),
                    args![e.subject, value],
                )?;
            }
        }
        Ok(())
    }

    /// Operation records and their check.
    fn operations(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        match e.kind {
            "operation" => self
                .run(
                    "INSERT INTO {s}.operations(id, kind, content, count, system, done_on, at, by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    args![
                        e.subject,
                        text(p, "kind"),
                        text(p, "content"),
                        p.get("count").and_then(Value::as_i64),
                        text(p, "system"),
                        text(p, "done_on"),
                        e.at,
                        e.actor
                    ],
                )
                .map(drop),
            "operation-check" => self
                .run(
                    "UPDATE {s}.operations SET checked_by = ?2, checked_at = ?3 WHERE id = ?1",
                    args![e.subject, e.actor, e.at],
                )
                .map(drop),
            _ => Ok(()),
        }
    }

    /// Handovers of media and their confirmation (and the medium's status).
    fn handovers(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        match e.kind {
            "handover" => {
                self.run(
                    "INSERT INTO {s}.handovers(id, media, direction, counterparty, purpose, method, \
                 count, at, by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    args![
                        e.subject,
                        text(p, "media"),
                        text(p, "direction"),
                        text(p, "counterparty"),
                        text(p, "purpose"),
                        text(p, "method"),
                        p.get("count").and_then(Value::as_i64),
                        e.at,
                        e.actor
                    ],
                )?;
                if let Some(media) = text(p, "media") {
                    let change = if text(p, "direction") == Some("send") {
                        Move::HandOver
                    } else {
                        Move::Receive
                    };
                    self.move_media(media, change)?;
                }
            }
            "handover-confirm" => {
                self.run(
                    "UPDATE {s}.handovers SET confirmed_by = ?2, confirmed_at = ?3 WHERE id = ?1",
                    args![e.subject, text(p, "by"), e.at],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Certificates: issued and signed off.
    fn certificates(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        let attachment = self.attachment;
        let (db, schema) = (self.db, self.schema);
        match e.kind {
            "certificate" => certificate(db, schema, e, p, attachment)?,
            "cert-sign-off" => {
                self.run(
                    "UPDATE {s}.certificates SET body = ?2, signature = ?3, sha256 = ?4 WHERE id = ?1",
                    args![
                        e.subject,
                        attachment.map(|a| a.body.as_str()),
                        attachment.map(|a| a.signature.as_str()),
                        text(p, "sha256")
                    ],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A retained item's registration: its row and its files.
    fn retained(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        let folders = p.get("folders").cloned().unwrap_or_else(|| json!([]));
        self.run(
            "INSERT INTO {s}.retained(id, class, basis, years, trigger, since, event_date, due, \
         media, folders, note, added_at, added_by, personal_file) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            args![
                e.subject,
                text(p, "class"),
                text(p, "basis"),
                p.get("years").and_then(Value::as_i64),
                text(p, "trigger"),
                text(p, "since"),
                text(p, "event_date"),
                text(p, "due"),
                text(p, "media"),
                folders.to_string(),
                text(p, "note"),
                e.at,
                e.actor,
                text(p, "personal_file")
            ],
        )?;
        for file in p
            .get("files")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.run(
                "INSERT INTO {s}.retained_files(item, path, size, sha256) VALUES (?1, ?2, ?3, ?4)",
                args![
                    e.subject,
                    text(file, "path"),
                    file.get("size").and_then(Value::as_i64),
                    text(file, "sha256")
                ],
            )?;
        }
        Ok(())
    }

    /// Retention after registration: event dates, holds, disposal, erased payloads.
    fn retention(&self, e: Fact<'_>, p: &Value) -> Result<()> {
        match e.kind {
            "retain-event" => {
                self.run(
                    "UPDATE {s}.retained SET event_date = ?2, due = ?3 WHERE id = ?1",
                    args![e.subject, text(p, "event_date"), text(p, "due")],
                )?;
            }
            // A start before the registration day, approved.
            "retain-start" => {
                self.run(
                    "UPDATE {s}.retained SET since = ?2, event_date = ?3, due = ?4 WHERE id = ?1",
                    args![
                        e.subject,
                        text(p, "since"),
                        text(p, "event_date"),
                        text(p, "due")
                    ],
                )?;
            }
            "retain-hold" => {
                self.run(
                    "UPDATE {s}.retained SET hold_reason = ?2, held_by = ?3, held_at = ?4 WHERE id = ?1",
                    args![e.subject, text(p, "reason"), e.actor, e.at],
                )?;
            }
            "retain-release" => {
                self.run(
                    "UPDATE {s}.retained SET hold_reason = NULL, held_by = NULL, held_at = NULL \
                 WHERE id = ?1",
                    args![e.subject],
                )?;
            }
            "disposal" => {
                self.run(
                    "UPDATE {s}.retained SET disposed_at = ?2, disposed_by = ?3 WHERE id = ?1",
                    args![e.subject, e.at, e.actor],
                )?;
                if let Some(request) = text(p, "request") {
                    self.run(
                        "UPDATE {s}.requests SET used_by = ?2 WHERE id = ?1",
                        args![request, e.subject],
                    )?;
                }
                if let Some(medium) = p.get("what").and_then(|w| w.get("media"))
                    && let Some(id) = text(medium, "id")
                {
                    let status = if medium.get("destroyed_by").is_some() {
                        "destroyed"
                    } else {
                        "wiped"
                    };
                    self.run(
                        "UPDATE {s}.media SET status = ?2, retired_reason = ?2 WHERE id = ?1",
                        args![id, status],
                    )?;
                }
            }
            "payloads-erased" => {
                for item in p
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let item = item.as_str();
                    self.run(
                        "DELETE FROM {s}.retained_files WHERE item = ?1",
                        args![item],
                    )?;
                    // The personal parts of the register row go with the payloads (only
                    // erasures recorded with their facts, as every erasure now is).
                    if p.get("facts").is_some() {
                        self.run(
                            "UPDATE {s}.retained SET folders = '[]', note = NULL WHERE id = ?1",
                            args![item],
                        )?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The one line a request shows, from the entry that files it: a plain request's
/// own summary, or what a carry-out or download asks for.
pub(crate) fn request_summary(kind: &str, p: &Value) -> Option<String> {
    let field = |key: &str| text(p, key).unwrap_or("");
    match kind {
        "request" => text(p, "summary").map(str::to_owned),
        "carryout-request" => Some(format!(
            "carry out {} to {}",
            field("what"),
            field("destination")
        )),
        "download-request" => Some(format!(
            "download {} from {}",
            field("content"),
            field("system")
        )),
        "media-add" => Some(format!(
            "use {} medium serial {}",
            field("kind"),
            field("serial")
        )),
        _ => None,
    }
}

/// Files a request row: requested by the entry's actor, at its time, pending.
fn request(
    db: &impl Query,
    schema: &str,
    e: Fact<'_>,
    kind: &str,
    summary: Option<&str>,
) -> Result<()> {
    db.execute(
        &format!(
            "INSERT INTO {schema}.requests(id, kind, requester, summary, requested_at, status) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending')"
        ),
        args![e.subject, kind, e.actor, summary, e.at],
    )?;
    Ok(())
}

/// A certificate row, and what it proves about a medium or a retained item.
fn certificate(
    db: &impl Query,
    schema: &str,
    e: Fact<'_>,
    p: &Value,
    attachment: Option<&Attachment>,
) -> Result<()> {
    let kind = text(p, "certificate_kind");
    db.execute(
        &format!(
            "INSERT INTO {schema}.certificates(id, kind, subject, serial, status, issued_at, body, \
             signature, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        args![
            e.subject,
            kind,
            text(p, "subject"),
            text(p, "serial"),
            text(p, "status"),
            attachment.and_then(|a| a.issued_at.as_deref()),
            attachment.map(|a| a.body.as_str()),
            attachment.map(|a| a.signature.as_str()),
            text(p, "sha256"),
        ],
    )?;
    let wiped = |medium: &str| -> Result<()> {
        db.execute(
            &format!("UPDATE {schema}.media SET status = 'wiped', certificate = ?2 WHERE id = ?1"),
            args![medium, e.subject],
        )?;
        Ok(())
    };
    match kind {
        Some("erasure") if text(p, "status") == Some("erased") => {
            // The medium the wipe found by its serial, from the wipe entry itself.
            let medium = match text(p, "media") {
                Some(m) => Some(m.to_owned()),
                None => wipe_medium(db, text(p, "subject").unwrap_or(""))?,
            };
            if let Some(medium) = medium {
                wiped(&medium)?;
            }
        }
        Some("vendor") => {
            let body: Option<Value> = attachment.and_then(|a| serde_json::from_str(&a.body).ok());
            if let Some(medium) = body.as_ref().and_then(|b| text(b, "media_record")) {
                wiped(medium)?;
            }
        }
        Some("disposal") => {
            db.execute(
                &format!("UPDATE {schema}.retained SET certificate = ?2 WHERE id = ?1"),
                args![text(p, "subject"), e.subject],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// The medium a wipe record names, from its entry's payload.
fn wipe_medium(db: &impl Query, wipe: &str) -> Result<Option<String>> {
    let body: Option<Option<String>> = db.value(
        "SELECT p.body FROM main.entries e JOIN main.payloads p ON p.seq = e.seq \
         WHERE e.subject = ?1 AND e.kind = 'wipe'",
        args![wipe],
    )?;
    Ok(body
        .flatten()
        .and_then(|b| serde_json::from_str::<Value>(&b).ok())
        .and_then(|v| text(&v, "media").map(str::to_owned)))
}

/// What an erasure keeps of an entry's payload: what the projections need, without
/// file names, folders, notes or reasons (which may name people).
pub(crate) fn facts(kind: &str, payload: &Value) -> Option<Value> {
    let mut kept = payload.clone();
    let map = kept.as_object_mut()?;
    match kind {
        "retain" => {
            map.insert("files".into(), json!([]));
            map.insert("folders".into(), json!([]));
            map.insert("note".into(), Value::Null);
        }
        "retain-hold" => {
            map.insert("reason".into(), json!("(erased)"));
        }
        "retain-release" => {
            map.insert("held_for".into(), json!("(erased)"));
        }
        "retain-event" | "retain-start" => {}
        "disposal" => {
            if let Some(what) = map.get_mut("what").and_then(Value::as_object_mut) {
                what.insert("files".into(), json!([]));
                what.insert("folders_removed".into(), json!([]));
            }
        }
        // disposal-start and disposal-failed change no projection.
        _ => return None,
    }
    Some(kept)
}
