//! Disposal: the request, the checks (date, hold, approval, unchanged files, proof
//! of erasure for a medium), the shredding, and the `disposal` entry with its signed
//! certificate; and the erasure of disposed items' payloads.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock;
use crate::erasure::certificate::{Certificate, CertificateKind, Issue, issue_in};
use crate::error::{ConfigProblem, Denial, Done, Error, Field, RecordKind, Result};
use crate::ledger::store::{Backend, Query, args};
use crate::ledger::{RecordId, Writer};
use crate::people::Role;
use crate::registers::requests::{self, RequestKind, RequestState, one_line};
use crate::station::Station;

use super::{Retained, RetainedFile, authentic_item_in, due_date, hash_file};

/// How a medium was physically destroyed, when it was not wiped.
#[derive(Debug, Clone)]
pub struct Destruction {
    /// Who destroyed it (a person or a contractor).
    pub by: String,
    /// How (crushing, shredding, melting …).
    pub method: String,
    /// The registered person who watched it done, when it was witnessed.
    pub witness: Option<String>,
}

/// What a disposal did.
#[derive(Debug, Clone, Serialize)]
pub struct Disposal {
    /// The item.
    pub item: RecordId,
    /// Files shredded.
    pub files: Vec<String>,
    /// The disposal certificate.
    pub certificate: Certificate,
}

impl Station {
    /// Files a disposal request for an item; returns the request's id (`RQ-…`). With
    /// `early`, the reason it is no longer needed before its date (004 art.11): the
    /// request says it asks for an early disposal, and its approval allows one.
    pub fn request_disposal(&mut self, id: &RecordId, early: Option<&str>) -> Result<RecordId> {
        self.actor.require_writer("request a disposal")?;
        let early = early.map(|r| one_line(Field::Reason, r, 500)).transpose()?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let item = authentic_item_in(w, id)?;
            item.refuse_if_disposed()?;
            if let Some(existing) = &item.disposal_request {
                let pending = requests::load_in(w, existing)?;
                if pending.status != RequestState::Rejected {
                    return Err(Error::AlreadyDone {
                        id: id.to_string(),
                        act: Done::DisposalRequested {
                            request: existing.to_string(),
                            state: pending.status,
                        },
                    });
                }
            }
            let due = item.due.as_deref().unwrap_or("after its event");
            let summary = match &early {
                None => format!("dispose of {id} ({}, due {due})", item.class),
                Some(reason) => format!(
                    "dispose of {id} ({}) EARLY, before its date {due}: no longer needed, {reason}",
                    item.class
                ),
            };
            let request = requests::file_request_in(
                w,
                &actor,
                RequestKind::Disposal,
                &summary,
                json!({ "item": id, "class": item.class, "due": item.due, "early": early }),
            )?;
            Ok(request)
        })
    }

    /// Disposes of an item: refused before its date, on hold, or without an approved
    /// request; shreds its files (or, for a medium, requires proof of its erasure or
    /// a recorded destruction), checks they are gone, records a `disposal` entry and
    /// issues a signed disposal certificate.
    ///
    /// The steps: `disposable` (the rules, from the proven entries), then in one
    /// transaction the last checks and a `disposal-start` entry before the first byte
    /// is overwritten (`start_in`), the shredding (`shred`), and the record with its
    /// certificate (`record_in`).
    pub fn dispose(
        &mut self,
        id: &RecordId,
        destruction: Option<&Destruction>,
    ) -> Result<Disposal> {
        self.actor.require_writer("dispose of items")?;
        let (item, request_id) = self.disposable(id)?;
        let method = custody_wipe::Method::parse(&self.config.retention.shred_method, None)
            .map_err(|e| Error::Config {
                path: self.home.join("config.toml"),
                problem: ConfigProblem::Setting {
                    name: "retention.shred_method",
                    problem: e.to_string(),
                },
            })?;
        let plan = Shredding {
            method,
            verify: self.config.retention.shred_verify,
        };
        let actor = self.actor.name.clone();
        let media_policy = self.config.media.clone();
        let medium_proof = self.write(|w| {
            start_in(
                w,
                &actor,
                &item,
                &request_id,
                (destruction, &media_policy),
                &plan,
            )
        })?;
        let shredded = match shred(&item, &plan) {
            Ok(shredded) => shredded,
            Err(failure) => {
                let detail = json!({
                    "shredded": failure.shredded, "failed": failure.path, "error": failure.error.to_string(),
                });
                self.write(|w| w.append(&actor, "disposal-failed", id.as_str(), &detail))?;
                return Err(Error::DisposalFailed {
                    id: id.to_string(),
                    path: failure.path,
                    shredded: failure.shredded.len(),
                    total: item.files.len(),
                    source: failure.error,
                });
            }
        };
        let context = Recorded {
            organisation: self.config.organisation.clone(),
            station: self.config.station.clone(),
            actor,
            role: self.actor.role.map(Role::as_str).unwrap_or("").to_string(),
            department: self.department_of(&self.actor.name)?,
        };
        let certificate = self.write_signed(|w, key| {
            record_in(
                w,
                key,
                &context,
                &item,
                &request_id,
                (&plan, &shredded),
                medium_proof,
            )
        })?;
        Ok(Disposal {
            item: id.clone(),
            files: shredded.files,
            certificate,
        })
    }

    /// The item and its approved-for disposal request, when its proven entries allow
    /// disposing of it now: not disposed of, not held, due, with a request filed.
    fn disposable(&mut self, id: &RecordId) -> Result<(Retained, RecordId)> {
        let today = clock::today().to_string();
        // The item as its proven entries make it, not as the table says: a due date
        // or a hold edited into the table decides nothing.
        let (item, early) = self.write(|w| {
            let item = authentic_item_in(w, id)?;
            // A request for an early disposal (no longer needed, 004 art.11), once
            // approved, allows one before the date; its approval is checked when the
            // disposal starts.
            let early = match &item.disposal_request {
                Some(request) => early_reason_in(w, request)?,
                None => None,
            };
            Ok((item, early))
        })?;
        let actor = self.actor.name.clone();
        let refuse = |reason: Denial| Error::NotAllowed {
            actor: actor.clone(),
            action: format!("dispose of {id}"),
            reason: Box::new(reason),
        };
        item.refuse_if_disposed()?;
        if let Some(reason) = &item.hold_reason {
            return Err(refuse(Denial::OnHold {
                id: id.to_string(),
                reason: reason.clone(),
                by: item.held_by.clone(),
            }));
        }
        match &item.due {
            _ if early.is_some() => {}
            None => {
                return Err(refuse(Denial::EventMissing {
                    id: id.to_string(),
                    class: item.class.clone(),
                    years: item.years,
                }));
            }
            Some(due) if due.as_str() > today.as_str() => {
                return Err(refuse(Denial::NotDue {
                    until: due.clone(),
                    basis: item.basis.clone(),
                }));
            }
            Some(_) => {}
        }
        let Some(request_id) = item.disposal_request.clone() else {
            return Err(refuse(Denial::NoDisposalRequest { id: id.to_string() }));
        };
        Ok((item, request_id))
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

/// Why disposal request `request` asks for a disposal before the item's date, from
/// the proven entry that filed it; none for an ordinary request.
fn early_reason_in(w: &Writer<'_>, request: &RecordId) -> Result<Option<String>> {
    Ok(w.prover()
        .about(request.as_str())?
        .into_iter()
        .find(|e| e.kind == "request")
        .and_then(|e| {
            e.payload?
                .get("details")?
                .get("early")?
                .as_str()
                .map(str::to_owned)
        }))
}

/// What proves that a retained medium no longer holds its data: an erasure
/// certificate for its serial that says `erased`, or a recorded physical destruction.
pub(crate) fn medium_proof_in(
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
        .ok_or_else(|| Error::NoSuchRecord {
            kind: RecordKind::Medium,
            id: id.to_string(),
        })?;
    let serial = registered["serial"].as_str().unwrap_or_default().to_owned();
    if let Some(d) = destruction {
        let by = one_line(Field::DestroyedBy, &d.by, 200)?;
        let method = one_line(Field::Method, &d.method, 200)?;
        let mut proof = json!({
            "id": id, "serial": serial, "destroyed_by": by, "destruction_method": method,
            "basis": format!("physical destruction by {by} ({method})"),
        });
        if let Some(witness) = &d.witness {
            let witness = one_line(Field::Witness, witness, 200)?;
            let registered: Option<String> = w.db().value(
                "SELECT name FROM people WHERE name = ?1 AND removed_seq IS NULL",
                args![witness],
            )?;
            if registered.is_none() || witness == by {
                return Err(Error::NotAllowed {
                    actor: actor.to_owned(),
                    action: format!("dispose of medium {id}"),
                    reason: Box::new(Denial::Witness {
                        witness: Some(witness),
                    }),
                });
            }
            proof["witness"] = Value::String(witness.clone());
            proof["basis"] = Value::String(format!(
                "physical destruction by {by} ({method}), witnessed by {witness}"
            ));
        }
        return Ok(proof);
    }
    let capacity = registered["capacity"].as_u64();
    // A certificate from before the medium last left with data (a carry-out) proves
    // nothing about what it holds now.
    let last_used = w
        .db()
        .entries_with(&["carryout-out"], "$.media", id.as_str())?
        .into_iter()
        .map(|(seq, _)| seq)
        .max()
        .unwrap_or(0);
    let candidates: Vec<String> = w.db().map(
        "SELECT c.id FROM certificates c JOIN records r ON r.id = c.id \
         WHERE c.serial = ?1 AND c.kind IN ('erasure', 'vendor') AND r.seq > ?2 \
         ORDER BY c.issued_at DESC",
        args![serial, last_used],
        |r| r.get(0),
    )?;
    let mut refused = Vec::new();
    for cert in candidates {
        let document = crate::erasure::certificate::authentic_document_in(w, &mut prover, &cert)?;
        match proof_from(&document, &serial, capacity) {
            Ok(basis) => {
                return Ok(json!({
                    "id": id, "serial": serial, "erasure_certificate": cert, "basis": basis,
                }));
            }
            Err(why) => refused.push((cert, why)),
        }
    }
    Err(Error::NotAllowed {
        actor: actor.to_owned(),
        action: format!("dispose of medium {id}"),
        reason: Box::new(Denial::NoErasureProof { serial, refused }),
    })
}

/// The proof for a retained medium: for a medium of a class that must be destroyed
/// (the My Number systems), its destruction recorded by `custody media destroy`
/// (photographed, signed by its witness, after a wipe since its last use); for
/// others, a certificate of its erasure or its witnessed destruction.
fn retained_medium_proof_in(
    w: &Writer<'_>,
    actor: &str,
    id: &RecordId,
    destruction: Option<&Destruction>,
    policy: &crate::config::MediaPolicy,
) -> Result<Value> {
    let class = crate::registers::media::registered_class_in(w, id)?;
    if !policy.must_destroy(&class) {
        return medium_proof_in(w, actor, id, destruction);
    }
    let refuse = |reason: Denial| Error::NotAllowed {
        actor: actor.to_owned(),
        action: format!("dispose of medium {id}"),
        reason: Box::new(reason),
    };
    // Destroyed with `custody media destroy`, by its proven entry: a destruction given
    // here with --witness alone (no photos, no witness's signature) does not close it.
    let _ = destruction;
    let retired = w
        .prover()
        .about(id.as_str())?
        .into_iter()
        .filter(|e| e.kind == "media-retire")
        .filter_map(|e| e.payload)
        .find(|p| p["reason"] == "destroyed" && p["evidence"]["witness_signature"].is_object());
    let Some(retired) = retired else {
        return Err(refuse(Denial::DestroyWitnessed {
            medium: id.to_string(),
        }));
    };
    let evidence = &retired["evidence"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let erasure = retired["proof"]["erasure"].clone();
    Ok(json!({
        "id": id, "serial": retired["serial"], "data_class": class,
        "basis": format!(
            "physical destruction by {} ({}), witnessed and signed by {} (custody media destroy), after {}",
            text(&evidence["by"]), text(&evidence["method"]), text(&evidence["witness"]),
            text(&erasure["basis"]),
        ),
        "witness": evidence["witness"],
        "destruction": evidence, "erasure": erasure,
    }))
}

/// How files are overwritten at disposal.
struct Shredding {
    method: custody_wipe::Method,
    verify: bool,
}

/// What the shredding did.
struct Shredded {
    files: Vec<String>,
    passes: Vec<String>,
}

/// Where the shredding stopped.
struct ShredFailure {
    shredded: Vec<String>,
    path: String,
    error: custody_wipe::Error,
}

/// Who records the disposal, for its entry and certificate.
struct Recorded {
    organisation: String,
    station: String,
    actor: String,
    role: String,
    /// The department of the person who does it (004 art.11-6).
    department: Option<String>,
}

/// Inside the transaction before anything is overwritten: the item still not held
/// nor disposed of, its request approved, the medium's proof (or destruction), every
/// file unchanged; then the `disposal-start` entry. Returns the medium's proof.
fn start_in(
    w: &mut Writer<'_>,
    actor: &str,
    item: &Retained,
    request_id: &RecordId,
    (destruction, policy): (Option<&Destruction>, &crate::config::MediaPolicy),
    plan: &Shredding,
) -> Result<Option<Value>> {
    let id = &item.id;
    let now = authentic_item_in(w, id)?;
    if now.hold_reason.is_some() || now.disposed_at.is_some() {
        return Err(Error::ChangedMeanwhile { id: id.to_string() });
    }
    let request = requests::require_approved(
        w,
        request_id,
        RequestKind::Disposal,
        &format!("dispose of {id}"),
    )?;
    let medium_proof = match &item.media {
        Some(m) => Some(retained_medium_proof_in(w, actor, m, destruction, policy)?),
        None => None,
    };
    for f in &item.files {
        // Why it cannot be read does not change the answer: the file registered is
        // not there to dispose of; the variant says so and names the file.
        let (size, sha256) = hash_file(Path::new(&f.path)).map_err(|_| Error::FileChanged {
            path: f.path.clone(),
            missing: true,
        })?;
        if sha256 != f.sha256 || size != f.size {
            return Err(Error::FileChanged {
                path: f.path.clone(),
                missing: false,
            });
        }
    }
    w.append(
        actor,
        "disposal-start",
        id.as_str(),
        &json!({ "request": request.id, "count": item.files.len(), "method": plan.method.name() }),
    )?;
    Ok(medium_proof)
}

/// Overwrites and removes every file of `item`, checks each is gone, and removes the
/// registered folders once empty.
fn shred(item: &Retained, plan: &Shredding) -> std::result::Result<Shredded, ShredFailure> {
    let mut done = Shredded {
        files: Vec::new(),
        passes: Vec::new(),
    };
    for f in &item.files {
        match custody_wipe::shred::shred_file(&f.path, &plan.method, plan.verify) {
            Ok(report) => {
                done.passes = report.passes.clone();
                done.files.push(f.path.clone());
            }
            Err(error) => {
                return Err(ShredFailure {
                    shredded: done.files,
                    path: f.path.clone(),
                    error,
                });
            }
        }
    }
    for f in &item.files {
        if Path::new(&f.path).exists() {
            return Err(ShredFailure {
                shredded: done.files.clone(),
                path: f.path.clone(),
                error: custody_wipe::Error::StillPresent {
                    path: PathBuf::from(&f.path),
                },
            });
        }
    }
    Ok(done)
}

/// The `disposal` entry and its signed certificate (`DC-…`), in one transaction.
fn record_in(
    w: &mut Writer<'_>,
    key: &crate::keys::StationKey,
    who: &Recorded,
    item: &Retained,
    request_id: &RecordId,
    (plan, shredded): (&Shredding, &Shredded),
    medium_proof: Option<Value>,
) -> Result<Certificate> {
    let id = item.id.as_str();
    let request = requests::load_in(w, request_id)?;
    let early = early_reason_in(w, request_id)?;
    let removed_dirs = remove_empty_folders(&item.files, &item.folders);
    let what = json!({
        "files": item.files.iter().map(|f| json!({"path": f.path, "size": f.size, "sha256": f.sha256})).collect::<Vec<_>>(),
        "count": item.files.len(),
        "folders_removed": removed_dirs,
        "media": medium_proof,
    });
    let method = if item.files.is_empty() {
        Value::Null
    } else {
        json!({
            "name": plan.method.name(), "passes": shredded.passes, "verified": plan.verify,
            "tool": "custody", "version": crate::VERSION,
        })
    };
    let appended = w.append(
        &who.actor,
        "disposal",
        id,
        &json!({
            "what": what, "class": item.class, "basis": item.basis, "method": method,
            "requester": request.requester, "approver": request.decided_by, "executor": who.actor,
            "request": request.id, "early": early, "department": who.department,
        }),
    )?;
    let document = json!({
        "schema": "custody.disposal-certificate/v1",
        "organisation": who.organisation,
        "station": who.station,
        "item": id,
        "retention": {
            "class": item.class, "basis": item.basis, "years": item.years,
            "since": item.since, "event_date": item.event_date, "due": item.due,
            "early": early,
        },
        "what": what,
        "method": method,
        "requester": request.requester,
        "approver": { "name": request.decided_by, "at": request.decided_at, "request": request.id },
        "executor": { "name": who.actor, "role": who.role, "department": who.department },
        "disposed_at": appended.at,
        "ledger": { "seq": appended.seq, "hash": appended.hash },
        "keep_until": due_date(clock::today(), 7).to_string(),
        "tool": { "name": "custody", "version": crate::VERSION },
    });
    let serial = what["media"]["serial"].as_str().map(str::to_string);
    issue_in(
        w,
        key,
        Issue {
            actor: &who.actor,
            kind: CertificateKind::Disposal,
            prefix: "DC",
            subject: id,
            serial: serial.as_deref(),
            status: "disposed",
        },
        document,
    )
}

/// Whether a certificate document proves the erasure of the medium with `serial` (of
/// `capacity` bytes, when registered); says on what basis, or why not.
pub(crate) fn proof_from(
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
