//! Signed certificates: a canonical JSON document plus a detached minisign signature
//! by the station key, so that anyone can check one with
//! `minisign -V -p station.pub -m CERT.json` without trusting custody.
//!
//! Certificates are kept in the ledger database (table `certificates`, written in the
//! same transaction as the entry that issues them, which commits to the document's
//! SHA-256) and exported on demand as `FILE` and `FILE.minisig`.

use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock;
use crate::clock::Timestamp;
use crate::error::{Denial, Done, Error, Field, FileProblem, RecordKind, Result};
use crate::keys::StationKey;
use crate::ledger::project::Attachment;
use crate::ledger::store::{Backend, Query, Row, args};
use crate::ledger::{RecordId, Writer};
use crate::station::Station;
use crate::vocab::vocabulary;

vocabulary! {
    /// What a certificate certifies.
    pub enum CertificateKind (Field::CertificateKind) {
        /// The erasure of a medium by this station (`EC-…`).
        Erasure = "erasure",
        /// The disposal of a retained item (`DC-…`).
        Disposal = "disposal",
        /// The receipt of a vendor's erasure certificate (`VC-…`).
        Vendor = "vendor",
        /// The witnessed physical destruction of a medium (`XC-…`).
        Destruction = "destruction",
    }
}

/// A certificate as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// `EC-5` (erasure), `DC-2` (disposal) or `VC-1` (a vendor's).
    pub id: RecordId,
    /// What it certifies.
    pub kind: CertificateKind,
    /// The record it certifies (a wipe `WP-…`, a retained item `RT-…`).
    pub subject: String,
    /// The medium's serial number, when there is one.
    pub serial: Option<String>,
    /// The outcome (`erased`, `failed`, `interrupted`, `disposed`).
    pub status: String,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// The canonical JSON document.
    pub body: String,
    /// The minisign signature over `body`.
    pub signature: String,
    /// SHA-256 of `body`, hex.
    pub sha256: String,
}

/// What [`issue_in`] needs besides the document.
pub(crate) struct Issue<'a> {
    pub(crate) actor: &'a str,
    pub(crate) kind: CertificateKind,
    pub(crate) prefix: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) serial: Option<&'a str>,
    pub(crate) status: &'a str,
}

/// Issues a certificate inside a write transaction: allocates its id, puts the id and
/// issue time into `document`, signs the canonical text, stores it, and appends a
/// `certificate` entry that commits to its SHA-256.
pub(crate) fn issue_in(
    w: &mut Writer<'_>,
    key: &StationKey,
    issue: Issue<'_>,
    mut document: Value,
) -> Result<Certificate> {
    let id = w.next_id(issue.prefix)?;
    let issued_at = Timestamp::now();
    document["certificate_id"] = Value::String(id.to_string());
    document["issued_at"] = Value::String(issued_at.ledger());
    let body = crate::canon::to_string(&document)?;
    let sha256 = hex::encode(Sha256::digest(body.as_bytes()));
    let signature = key.sign(
        body.as_bytes(),
        &format!("custody {} certificate {id} sha256={sha256}", issue.kind),
    )?;
    w.append_attached(
        issue.actor,
        "certificate",
        id.as_str(),
        &json!({
            "certificate_kind": issue.kind, "subject": issue.subject, "serial": issue.serial,
            "status": issue.status, "sha256": sha256, "key_id": key.public().key_id(),
        }),
        Some(&Attachment {
            body: body.clone(),
            signature: signature.clone(),
            issued_at: Some(issued_at.ledger()),
        }),
    )?;
    Ok(Certificate {
        id,
        kind: issue.kind,
        subject: issue.subject.to_string(),
        serial: issue.serial.map(str::to_string),
        status: issue.status.to_string(),
        issued_at,
        body,
        signature,
        sha256,
    })
}

const SELECT: &str = "SELECT id, kind, subject, serial, status, issued_at, body, signature, sha256 FROM certificates";

/// The document of certificate `id` as its proven entries vouch for it: the stored
/// document must hash to the SHA-256 of the latest `certificate` or `cert-sign-off`
/// entry about it (a document edited in the table is refused as tampering).
pub(crate) fn authentic_document_in(
    w: &Writer<'_>,
    prover: &mut crate::ledger::prove::Prover<'_, impl Backend>,
    id: &str,
) -> Result<Value> {
    let body: String = w
        .db()
        .value("SELECT body FROM certificates WHERE id = ?1", args![id])?
        .ok_or_else(|| Error::NoSuchRecord {
            kind: RecordKind::Certificate,
            id: id.to_owned(),
        })?;
    let recorded = prover
        .about(id)?
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "certificate" | "cert-sign-off"))
        .filter_map(|e| crate::ledger::prove::field(e, "sha256").map(str::to_owned))
        .next_back();
    let stored = hex::encode(Sha256::digest(body.as_bytes()));
    crate::ledger::prove::backed(
        "certificates",
        id,
        &[("document sha256", Some(stored), recorded)],
    )?;
    serde_json::from_str(&body).map_err(|source| Error::Unreadable {
        what: format!("certificate {id}"),
        source,
    })
}

fn from_row(r: &Row) -> Result<Certificate> {
    Ok(Certificate {
        id: r.get(0)?,
        kind: r.get(1)?,
        subject: r.get(2)?,
        serial: r.get(3)?,
        status: r.get(4)?,
        issued_at: r.get(5)?,
        body: r.get(6)?,
        signature: r.get(7)?,
        sha256: r.get(8)?,
    })
}

impl Station {
    /// Every certificate, oldest first.
    pub fn certificates(&self) -> Result<Vec<Certificate>> {
        self.ledger
            .db()
            .map(&format!("{SELECT} ORDER BY issued_at"), &[], from_row)
    }

    /// One certificate.
    pub fn certificate(&self, id: &RecordId) -> Result<Certificate> {
        self.ledger
            .db()
            .one(&format!("{SELECT} WHERE id = ?1"), args![id], from_row)?
            .ok_or_else(|| Error::NoSuchRecord {
                kind: RecordKind::Certificate,
                id: id.to_string(),
            })
    }

    /// The certificate `id` as a printed page names it, with its document's SHA-256
    /// (hex, either case), and what checking it finds now: how the desk answers the
    /// address printed on the page. Not found when the ledger holds no certificate of
    /// that number with that hash.
    pub fn printed_certificate(
        &self,
        id: &RecordId,
        sha256: &str,
    ) -> Result<(Certificate, Verdict)> {
        let not_found = || Error::NoSuchRecord {
            kind: RecordKind::Certificate,
            id: id.to_string(),
        };
        let cert = self.certificate(id)?;
        if !cert.sha256.eq_ignore_ascii_case(sha256) {
            return Err(not_found());
        }
        self.check_stored(cert)
    }

    /// Certificate `id` as the ledger holds it, with what checking it finds now (as
    /// `cert verify` finds for its exported files).
    pub fn checked_certificate(&self, id: &RecordId) -> Result<(Certificate, Verdict)> {
        self.check_stored(self.certificate(id)?)
    }

    fn check_stored(&self, cert: Certificate) -> Result<(Certificate, Verdict)> {
        let verdict = self.verify_certificate_bytes(
            cert.body.as_bytes(),
            &cert.signature,
            Path::new(&format!("{}.json.minisig", cert.id)),
        )?;
        Ok((cert, verdict))
    }

    /// Renders a certificate as a one-page A4 PDF at `path` (which must not exist).
    pub fn export_certificate_pdf(
        &self,
        id: &RecordId,
        lang: crate::vocab::Lang,
        path: &Path,
    ) -> Result<()> {
        let cert = self.certificate(id)?;
        if path.exists() {
            return Err(Error::OutputExists {
                path: path.to_path_buf(),
            });
        }
        let document: Value =
            serde_json::from_str(&cert.body).map_err(|source| Error::Unreadable {
                what: format!("certificate {id}"),
                source,
            })?;
        if cert.kind == CertificateKind::Vendor {
            return Err(Error::VendorReceipt {
                id: id.to_string(),
                folder: self.home.join("vendor-certificates"),
            });
        }
        let key_id =
            crate::keys::signature_key_id(&cert.signature).map_err(|problem| Error::Tampered {
                seq: 0,
                problem: format!("the stored signature of certificate {id}: {problem}"),
            })?;
        // The signing key in full: this station's own, another station's of the
        // ledger, or one it trusts.
        let own = self.key.public();
        let public_key = if own.key_id() == key_id {
            Some(own.to_base64())
        } else {
            self.ledger
                .stations(own)?
                .into_iter()
                .map(|(_, key)| key)
                .chain(self.trusted_keys()?.into_iter().map(|(_, key)| key))
                .find(|key| key.key_id() == key_id)
                .map(|key| key.to_base64())
        };
        // A destruction's photos, as kept in the data home, when they still hash right.
        let photos: Vec<crate::erasure::pdf::Photo> = document
            .pointer("/destruction/photos")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|p| {
                        let sha = p["sha256"].as_str()?;
                        let kind = p["type"].as_str()?;
                        let path = crate::registers::destroy::photo_path(&self.home, sha, kind);
                        let bytes = fs_err::read(path).ok()?;
                        (hex::encode(Sha256::digest(&bytes)) == sha).then(|| {
                            crate::erasure::pdf::Photo {
                                bytes,
                                kind: kind.to_owned(),
                            }
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let verify_at = self.config.desk.as_deref().map(|desk| {
            let origin = crate::people::passkey::desk_origin(desk)
                .map_or_else(|_| desk.to_owned(), |(origin, _)| origin);
            certificate_address(&origin, &cert.id, &cert.sha256)
        });
        let pdf = crate::erasure::pdf::render_certificate_with(
            &document,
            &crate::erasure::pdf::Seal {
                key_id: &key_id,
                public_key: public_key.as_deref(),
                sha256: &cert.sha256,
                certificate_id: cert.id.as_str(),
                verify_at: verify_at.as_deref(),
            },
            lang,
            &photos,
        )?;
        crate::config::write_atomic(path, &pdf)
    }

    /// Writes a certificate's document to `path` and its signature to
    /// `path.minisig`; neither may exist yet.
    pub fn export_certificate_json(&self, id: &RecordId, path: &Path) -> Result<()> {
        let cert = self.certificate(id)?;
        let sig_path = {
            let mut p = path.as_os_str().to_owned();
            p.push(".minisig");
            std::path::PathBuf::from(p)
        };
        for p in [path, sig_path.as_path()] {
            if p.exists() {
                return Err(Error::OutputExists {
                    path: p.to_path_buf(),
                });
            }
        }
        crate::config::write_atomic(path, cert.body.as_bytes())?;
        crate::config::write_atomic(&sig_path, cert.signature.as_bytes())?;
        Ok(())
    }
}

/// The outcome of checking a certificate file.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// True when everything checked out.
    pub valid: bool,
    /// The certificate id in the document, if readable.
    pub id: Option<String>,
    /// The document's schema, if readable.
    pub schema: Option<String>,
    /// SHA-256 of the file.
    pub sha256: String,
    /// The key that signed it.
    pub key_id: Option<String>,
    /// Whose key that is: `station`, a trusted key's name, or none.
    pub signer: Option<String>,
    /// Who issued it, when the signer is the issuer the document names: "this station
    /// (NAME)", "station NAME" or "vendor NAME".
    pub issuer: Option<String>,
    /// The ledger sequence number of the entry that recorded this exact document, when
    /// checked on the issuing station.
    pub ledger_seq: Option<i64>,
    /// Each check and its result, in order.
    pub checks: Vec<Check>,
}

/// One check of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// Details.
    pub detail: String,
    /// Which outcome `detail` words (`signature-valid`, `ledger-missing`, …), and the
    /// values it is made of, for a front end that words it in its person's language.
    #[serde(skip)]
    pub code: &'static str,
    /// The values of `detail`, by name.
    #[serde(skip)]
    pub facts: Vec<(&'static str, String)>,
}

/// How long a passkey's signature of a sign-off statement may wait to be recorded.
pub const SIGN_OFF_FRESH_MINUTES: i64 = 10;

/// How a validator signs a certificate off.
#[derive(Debug, Clone)]
pub enum Validation {
    /// With their personal key, now (the command line).
    PersonalKey,
    /// With their passkey (the desk): its assertion over the challenge of the
    /// [`SignOffStatement`] stamped `at`.
    Passkey {
        /// When the statement was made ([`SignOffStatement::at`]).
        at: String,
        /// The passkey's assertion over its challenge.
        assertion: crate::people::passkey::Assertion,
    },
}

/// A sign-off statement for a passkey to sign.
#[derive(Debug, Clone)]
pub struct SignOffStatement {
    /// The statement ([`sign_off_statement`]).
    pub statement: String,
    /// Its time.
    pub at: String,
    /// What the passkey signs: the SHA-256 of the statement.
    pub challenge: [u8; 32],
}

/// What a validator signs with their own key when they sign a certificate off: four
/// lines, each ending in LF: `custody-sign-off/v1`, the certificate id, the SHA-256 of
/// the document before the sign-off (its `validator` block empty), the time.
pub fn sign_off_statement(id: &str, document_sha256: &str, at: &str) -> String {
    format!("custody-sign-off/v1\n{id}\n{document_sha256}\n{at}\n")
}

fn text_at(doc: &Value, dotted: &str) -> String {
    lookup(doc, dotted)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn people_failed(name: &str, why: String) -> Check {
    Check::new(
        "people",
        false,
        format!("the signature of {name} does not hold: {why}"),
    )
    .because("people-invalid", &[("name", name.to_owned()), ("why", why)])
}

/// The fields each schema requires, as dotted paths.
fn required_fields(schema: &str) -> Option<&'static [&'static str]> {
    match schema {
        "custody.erasure-certificate/v1" => Some(&[
            "certificate_id",
            "issued_at",
            "organisation",
            "station",
            "operator.name",
            "operator.role",
            "medium.type",
            "medium.serial",
            "medium.size_bytes",
            "medium.source",
            "sanitization.category",
            "sanitization.method",
            "sanitization.passes",
            "sanitization.tool.name",
            "sanitization.tool.version",
            "sanitization.verification.mode",
            "sanitization.verification.result",
            "sanitization.errors",
            "status",
            "ledger.seq",
            "ledger.hash",
            "validator",
        ]),
        "custody.disposal-certificate/v1" => Some(&[
            "certificate_id",
            "issued_at",
            "organisation",
            "station",
            "item",
            "retention.class",
            "retention.basis",
            "what.count",
            "requester",
            "approver",
            "executor",
            "disposed_at",
            "ledger.seq",
            "ledger.hash",
        ]),
        "custody.destruction-certificate/v1" => Some(&[
            "certificate_id",
            "issued_at",
            "organisation",
            "station",
            "medium.record",
            "medium.serial",
            "destruction.method",
            "destruction.by",
            "destruction.at",
            "destruction.photos",
            "witness.name",
            "witness.signature",
            "recorded_by.name",
            "status",
            "ledger.seq",
            "ledger.hash",
            "validator",
        ]),
        "custody.vendor-certificate-receipt/v1" => Some(&[
            "certificate_id",
            "issued_at",
            "vendor",
            "serial",
            "file.sha256",
            "file.size",
        ]),
        _ => None,
    }
}

fn lookup<'a>(value: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted
        .split('.')
        .try_fold(value, |v, key| v.get(key))
        .filter(|v| !v.is_null() || dotted == "validator")
}

/// The path of the signature beside a certificate file.
pub fn signature_path(file: &Path) -> std::path::PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(".minisig");
    std::path::PathBuf::from(p)
}

impl Check {
    fn new(name: &str, ok: bool, detail: String) -> Check {
        Check {
            name: name.into(),
            ok,
            detail,
            code: "",
            facts: Vec::new(),
        }
    }

    /// The outcome's code and the values its words are made of.
    fn because(mut self, code: &'static str, facts: &[(&'static str, String)]) -> Check {
        self.code = code;
        self.facts = facts.to_vec();
        self
    }
}

/// The schema check: a known schema, every field it requires, canonical form.
fn check_schema(bytes: &[u8], document: Option<&Value>) -> Check {
    let Some(doc) = document else {
        return Check::new("schema", false, "the file is not JSON".into())
            .because("schema-not-json", &[]);
    };
    let schema = doc
        .get("schema")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(fields) = required_fields(&schema) else {
        return Check::new("schema", false, format!("unknown schema {schema:?}"))
            .because("schema-unknown", &[("schema", format!("{schema:?}"))]);
    };
    let missing: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| lookup(doc, f).is_none())
        .collect();
    if !missing.is_empty() {
        Check::new(
            "schema",
            false,
            format!("{schema}: missing {}", missing.join(", ")),
        )
        .because(
            "schema-missing",
            &[("schema", schema.clone()), ("missing", missing.join(", "))],
        )
    } else if !std::str::from_utf8(bytes).is_ok_and(crate::canon::is_canonical) {
        Check::new(
            "schema",
            false,
            format!("{schema}: not in canonical form (the file was re-formatted or edited)"),
        )
        .because("schema-not-canonical", &[("schema", schema.clone())])
    } else {
        Check::new("schema", true, schema.clone()).because("schema-ok", &[("schema", schema)])
    }
}

/// The issuer check: this station signs only what names this station; a trusted key
/// signs only what names it (another station, or a vendor), and is never reported as
/// this station. Returns the check and the issuer in words.
fn check_issuer(
    own: &str,
    signer: Option<&str>,
    document: Option<&Value>,
) -> (Check, Option<String>) {
    let named = |field: &str| {
        document
            .and_then(|d| d.get(field))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (station_named, vendor_named) = (named("station"), named("vendor"));
    let fail = |detail: String, code: &'static str, facts: &[(&'static str, String)]| {
        (
            Check::new("issuer", false, detail).because(code, facts),
            None,
        )
    };
    match signer {
        None => fail("no trusted key signed it".into(), "issuer-none", &[]),
        Some("station") if station_named.as_deref() == Some(own) => (
            Check::new("issuer", true, format!("this station, {own}"))
                .because("issuer-own", &[("station", own.to_owned())]),
            Some(format!("this station ({own})")),
        ),
        Some("station") => {
            let named = station_named.as_deref().unwrap_or("(none)").to_owned();
            fail(
                format!("signed with this station's key but it names station {named}"),
                "issuer-names-other",
                &[("station", named)],
            )
        }
        Some(name) if station_named.as_deref() == Some(own) => fail(
            format!(
                "it claims to be this station's ({own}) but is signed by the trusted key {name:?}; only {own}'s key signs its certificates"
            ),
            "issuer-claims-own",
            &[("station", own.to_owned()), ("key", format!("{name:?}"))],
        ),
        Some(name) if station_named.as_deref() == Some(name) => (
            Check::new(
                "issuer",
                true,
                format!("a certificate of station {name}, not of this station"),
            )
            .because("issuer-station", &[("name", name.to_owned())]),
            Some(format!("station {name}")),
        ),
        Some(name) if vendor_named.as_deref() == Some(name) => (
            Check::new(
                "issuer",
                true,
                format!("a certificate of vendor {name}, not of this station"),
            )
            .because("issuer-vendor", &[("name", name.to_owned())]),
            Some(format!("vendor {name}")),
        ),
        Some(name) => {
            let names = station_named.or(vendor_named);
            fail(
                format!(
                    "signed by the trusted key {name:?} but it names {}",
                    names.as_deref().unwrap_or("no issuer")
                ),
                if names.is_some() {
                    "issuer-names-another"
                } else {
                    "issuer-names-none"
                },
                &[
                    ("key", format!("{name:?}")),
                    ("named", names.unwrap_or_default()),
                ],
            )
        }
    }
}

impl Station {
    /// Checks a certificate file and its `.minisig`: the signature against the station
    /// key and trusted keys, the schema, the issuer it names, and that this ledger
    /// recorded this exact document (for certificates issued here).
    pub fn verify_certificate(&self, file: &Path) -> Result<Verdict> {
        let bytes = fs_err::read(file)?;
        let sig_path = signature_path(file);
        let signature = fs_err::read_to_string(&sig_path)?;
        self.verify_certificate_bytes(&bytes, &signature, &sig_path)
    }

    /// [`Station::verify_certificate`] for a document and its signature already read
    /// (uploaded to the desk): `sig_name` names the signature in what the checks say.
    pub fn verify_certificate_bytes(
        &self,
        bytes: &[u8],
        signature: &str,
        sig_name: &Path,
    ) -> Result<Verdict> {
        let sig_path = sig_name;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let (signed, key_id, signer) = self.check_signature(bytes, signature, sig_path)?;
        let document: Option<Value> = serde_json::from_slice(bytes).ok();
        let schema = check_schema(bytes, document.as_ref());
        let (issuer, issuer_words) =
            check_issuer(&self.config.station, signer.as_deref(), document.as_ref());
        let text = |field: &str| {
            document
                .as_ref()
                .and_then(|d| d.get(field))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let id = text("certificate_id");
        let (ledger, ledger_seq) =
            self.check_recorded(signer.as_deref(), id.as_deref(), &sha256)?;
        let people = self.check_people(document.as_ref())?;
        let checks = vec![signed, schema, issuer, ledger, people];
        Ok(Verdict {
            valid: checks.iter().all(|c| c.ok),
            id,
            schema: text("schema"),
            sha256,
            key_id,
            signer,
            issuer: issuer_words,
            ledger_seq,
            checks,
        })
    }

    /// The people's own signatures a document carries: the sanitizer's of the `wipe`
    /// entry (`operator.signature`), the validator's of the sign-off
    /// (`validator.signature`). Each must verify and be made by a key the people
    /// register holds for the person named.
    fn check_people(&self, document: Option<&Value>) -> Result<Check> {
        let Some(doc) = document else {
            return Ok(Check::new("people", false, "the file is not JSON".into())
                .because("people-none", &[]));
        };
        let mut signed = Vec::new();
        if let Some(sig) = lookup(doc, "operator.signature").filter(|v| v.is_object()) {
            let name = text_at(doc, "operator.name");
            let hash = text_at(doc, "ledger.hash");
            let message = crate::ledger::signed::entry_message(&hash);
            if let Err(why) = self.personal_signature(sig, &message, &name, Some(&hash)) {
                return Ok(people_failed(&name, why));
            }
            signed.push(name);
        }
        if let Some(sig) = lookup(doc, "witness.signature").filter(|v| v.is_object()) {
            let name = text_at(doc, "witness.name");
            let photos: Vec<String> = lookup(doc, "destruction.photos")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|p| p["sha256"].as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            let statement = crate::registers::destroy::destruction_statement(
                &text_at(doc, "medium.record"),
                &text_at(doc, "medium.serial"),
                &text_at(doc, "destruction.method"),
                &text_at(doc, "destruction.by"),
                &name,
                &text_at(doc, "destruction.at"),
                &photos,
            );
            if let Err(why) = self.personal_signature(sig, &statement, &name, None) {
                return Ok(people_failed(&name, why));
            }
            signed.push(name);
        }
        if let Some(sig) = lookup(doc, "validator.signature").filter(|v| v.is_object()) {
            let name = text_at(doc, "validator.name");
            // The document before the sign-off: its validator block empty (erasure,
            // destruction) or absent (disposal).
            let mut empty = doc.clone();
            empty["validator"] = json!({});
            let mut absent = doc.clone();
            if let Value::Object(map) = &mut absent {
                map.remove("validator");
            }
            let claimed = sig["document_sha256"].as_str().unwrap_or_default();
            let mut before = String::new();
            for candidate in [empty, absent] {
                before = hex::encode(Sha256::digest(
                    crate::canon::to_string(&candidate)?.as_bytes(),
                ));
                if before == claimed {
                    break;
                }
            }
            let statement = sign_off_statement(
                &text_at(doc, "certificate_id"),
                &before,
                &text_at(doc, "validator.at"),
            );
            let held = if sig["format"].as_str() == Some(crate::people::passkey::FORMAT) {
                self.passkey_signature(sig, &statement, &name)
            } else {
                self.personal_signature(sig, &statement, &name, None)
            };
            if let Err(why) = held {
                return Ok(people_failed(&name, why));
            }
            if sig["document_sha256"].as_str() != Some(before.as_str()) {
                return Ok(people_failed(
                    &name,
                    "the sign-off was made for another version of the document".into(),
                ));
            }
            signed.push(name);
        }
        Ok(if signed.is_empty() {
            Check::new(
                "people",
                true,
                "no personal signatures (a certificate from before them, or a vendor's)".into(),
            )
            .because("people-none", &[])
        } else {
            let names = signed.join(", ");
            Check::new(
                "people",
                true,
                format!("signed in their own hand by {names}"),
            )
            .because("people-signed", &[("names", names)])
        })
    }

    /// Checks one personal signature of `message`; with `entry_hash`, the signature
    /// must say it signs that entry.
    fn personal_signature(
        &self,
        sig: &Value,
        message: &str,
        name: &str,
        entry_hash: Option<&str>,
    ) -> std::result::Result<(), String> {
        let field = |k: &str| sig[k].as_str().unwrap_or_default().to_owned();
        if entry_hash.is_some_and(|hash| field("entry_hash") != hash) {
            return Err("the signature is for another ledger entry".into());
        }
        let public = crate::keys::StationPublicKey::parse(&field("public_key"))?;
        if public.key_id() != field("key_id") {
            return Err("the key id does not match the public key".into());
        }
        public.verify(message.as_bytes(), &field("minisig"))?;
        // Whose key it is, from the proven entries of the person's registration.
        let entries = self
            .person_entries(name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{name} is not in the people register"))?;
        if crate::people::register::facts_of(&entries, name)
            .holds_key(&field("key_id"), &field("public_key"))
        {
            Ok(())
        } else {
            Err(format!(
                "the people register holds no key {} of {name}",
                field("key_id")
            ))
        }
    }

    /// A passkey's signature in a document (a sign-off made at the desk): an assertion
    /// over the SHA-256 of `statement`, by a passkey the people register holds for
    /// `name` (the public key in the document must be that one).
    pub(crate) fn passkey_signature(
        &self,
        sig: &Value,
        statement: &str,
        name: &str,
    ) -> std::result::Result<(), String> {
        let field = |k: &str| sig[k].as_str().unwrap_or_default().to_owned();
        let assertion = crate::people::passkey::Assertion {
            credential: field("credential"),
            authenticator_data: field("authenticator_data"),
            client_data_json: field("client_data_json"),
            signature: field("signature"),
        };
        let entries = self
            .person_entries(name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{name} is not in the people register"))?;
        let key = crate::people::register::facts_of(&entries, name)
            .passkeys
            .into_iter()
            .find(|p| p.key.credential == assertion.credential)
            .map(|p| p.key)
            .ok_or_else(|| format!("the people register holds no such passkey of {name}"))?;
        if key.public_key != field("public_key") {
            return Err("the passkey's public key is not the one the people register holds".into());
        }
        key.check(&assertion, &Sha256::digest(statement.as_bytes()))
    }

    /// The signature check, by this station's key or a trusted one: the check, the
    /// signing key's id and whose key it is.
    fn check_signature(
        &self,
        bytes: &[u8],
        signature: &str,
        sig_path: &Path,
    ) -> Result<(Check, Option<String>, Option<String>)> {
        let key_id = crate::keys::signature_key_id(signature).ok();
        let mut keys = vec![("station".to_string(), self.key.public().clone())];
        // The office ledger's other stations (an IT bench's certificates checked at a
        // manager's desk), with the keys their joining registered.
        let own = self.key.public().key_id();
        for (info, key) in self.ledger.stations(self.key.public())? {
            if key.key_id() != own {
                keys.push((format!("station {}", info.name), key));
            }
        }
        keys.extend(self.trusted_keys()?);
        let signer = key_id
            .as_ref()
            .and_then(|id| keys.iter().find(|(_, k)| &k.key_id() == id));
        let check = match (key_id.as_ref(), signer) {
            (None, _) => Check::new(
                "signature",
                false,
                format!("{} is not a minisign signature", sig_path.display()),
            )
            .because(
                "signature-unreadable",
                &[("file", sig_path.display().to_string())],
            ),
            (Some(id), None) => Check::new(
                "signature",
                false,
                format!(
                    "signed by key {id}, which is neither this station's key nor a trusted one"
                ),
            )
            .because("signature-unknown-key", &[("key", id.clone())]),
            (Some(id), Some((name, key))) => match key.verify(bytes, signature) {
                Ok(_) => Check::new(
                    "signature",
                    true,
                    format!("valid signature by key {id} ({name})"),
                )
                .because(
                    "signature-valid",
                    &[("key", id.clone()), ("name", name.clone())],
                ),
                Err(why) => Check::new("signature", false, why.clone())
                    .because("signature-invalid", &[("why", why)]),
            },
        };
        Ok((check, key_id.clone(), signer.map(|(name, _)| name.clone())))
    }

    /// The ledger check: on the issuing station, an entry recorded exactly this
    /// document. Returns the check and that entry's sequence number.
    fn check_recorded(
        &self,
        signer: Option<&str>,
        id: Option<&str>,
        sha256: &str,
    ) -> Result<(Check, Option<i64>)> {
        if signer != Some("station") {
            let check = Check::new(
                "ledger",
                signer.is_some(),
                "issued by another station; its own ledger holds it".into(),
            )
            .because("ledger-elsewhere", &[]);
            return Ok((check, None));
        }
        let db = self.ledger.db();
        let seq = db
            .entries_with(&["certificate", "cert-sign-off"], "$.sha256", sha256)?
            .first()
            .map(|(seq, _)| *seq);
        let current: Option<String> = match id {
            Some(id) => db.value("SELECT sha256 FROM certificates WHERE id = ?1", args![id])?,
            None => None,
        };
        let superseded = match &current {
            Some(current) if current != sha256 => {
                format!("; a later version (signed off, SHA-256 {current}) supersedes this one")
            }
            _ => String::new(),
        };
        let check = match seq {
            Some(seq) => Check::new(
                "ledger",
                true,
                format!("recorded at ledger entry {seq}{superseded}"),
            )
            .because(
                if current.as_deref().is_some_and(|c| c != sha256) {
                    "ledger-superseded"
                } else {
                    "ledger-recorded"
                },
                &[
                    ("seq", seq.to_string()),
                    ("current", current.clone().unwrap_or_default()),
                ],
            ),
            None => Check::new(
                "ledger",
                false,
                format!(
                    "no ledger entry records a document with SHA-256 {sha256}: it was not issued here, or it was altered"
                ),
            )
            .because("ledger-missing", &[("sha256", sha256.to_owned())]),
        };
        Ok((check, seq))
    }

    /// Keys trusted besides the station's own, with their names, from the proven
    /// `key-trust` entries.
    pub fn trusted_keys(&self) -> Result<Vec<(String, crate::keys::StationPublicKey)>> {
        let mut keys = Vec::new();
        let mut prover = self.ledger.prover(self.key.public());
        for entry in prover.of_kind("key-trust")? {
            let (Some(name), Some(key)) = (
                crate::ledger::prove::field(&entry, "name"),
                crate::ledger::prove::field(&entry, "public_key"),
            ) else {
                continue;
            };
            let key =
                crate::keys::StationPublicKey::parse(key).map_err(|problem| Error::Tampered {
                    seq: entry.seq,
                    problem: format!("the trusted key {name} cannot be read: {problem}"),
                })?;
            keys.push((name.to_owned(), key));
        }
        Ok(keys)
    }

    /// Trusts another station's (or a vendor's) minisign public key for verifying
    /// certificates (managers); returns its key id.
    pub fn trust_key(&mut self, file: &Path, name: Option<&str>) -> Result<String> {
        self.actor
            .require_role(&[crate::people::Role::Manager], "trust keys")?;
        let key = crate::keys::StationPublicKey::load(file)?;
        let key_id = key.key_id();
        if key_id == self.key.public().key_id() {
            return Err(Error::OwnKey);
        }
        if self
            .trusted_keys()?
            .iter()
            .any(|(_, k)| k.key_id() == key_id)
        {
            return Err(Error::AlreadyDone {
                id: format!("key {key_id}"),
                act: Done::Trusted,
            });
        }
        let name = match name {
            Some(n) => crate::registers::requests::one_line(crate::error::Field::KeyName, n, 100)?,
            None => file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("trusted key")
                .to_string(),
        };
        let actor = self.actor.name.clone();
        self.write(|w| {
            w.append(
                &actor,
                "key-trust",
                "",
                &json!({ "name": name, "key_id": key_id, "public_key": key.to_base64() }),
            )
        })?;
        Ok(key_id)
    }

    /// A manager who is not the operator confirms a certificate (000 art.18-5): the
    /// document is re-issued with its validator block filled, signed again, and the
    /// sign-off is recorded in the ledger. The validator signs with their personal
    /// key (see [`Station::sign_off_with`] for a passkey).
    pub fn sign_off(
        &mut self,
        id: &RecordId,
        comment: Option<&str>,
        details: &crate::erasure::WipeDetails,
    ) -> Result<Certificate> {
        self.sign_off_with(id, comment, details, &Validation::PersonalKey)
    }

    /// The certificate `id`, its document and whose work it certifies, if the actor
    /// may sign it off: a manager, not that person, and not signed off yet.
    fn may_sign_off(&self, id: &RecordId) -> Result<(Certificate, Value, String)> {
        self.actor
            .require_role(&[crate::people::Role::Manager], &format!("sign off {id}"))?;
        let cert = self.certificate(id)?;
        let document: Value =
            serde_json::from_str(&cert.body).map_err(|source| Error::Unreadable {
                what: format!("certificate {id}"),
                source,
            })?;
        // A vendor's certificate is accepted the same way: by a manager who did not
        // receive it; until then it proves nothing.
        let operator = match cert.kind {
            CertificateKind::Erasure => lookup(&document, "operator.name"),
            CertificateKind::Disposal => lookup(&document, "executor.name"),
            CertificateKind::Destruction => lookup(&document, "recorded_by.name"),
            CertificateKind::Vendor => lookup(&document, "received_by"),
        }
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
        if document
            .get("validator")
            .is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        {
            return Err(Error::AlreadyDone {
                id: id.to_string(),
                act: Done::SignedOff,
            });
        }
        if self.actor.name == operator {
            return Err(Error::NotAllowed {
                actor: self.actor.name.clone(),
                action: format!("sign off {id}"),
                reason: Box::new(Denial::OwnWork),
            });
        }
        Ok((cert, document, operator))
    }

    /// The first step of signing certificate `id` off with a passkey: every check of
    /// [`Station::sign_off`], then the statement to sign, stamped now. The browser
    /// signs its [`SignOffStatement::challenge`]; [`Station::sign_off_with`] takes
    /// the assertion.
    pub fn sign_off_statement(&self, id: &RecordId) -> Result<SignOffStatement> {
        let (cert, _, _) = self.may_sign_off(id)?;
        let at = clock::stamp(clock::now());
        let statement = sign_off_statement(id.as_str(), &cert.sha256, &at);
        Ok(SignOffStatement {
            challenge: Sha256::digest(statement.as_bytes()).into(),
            statement,
            at,
        })
    }

    /// [`Station::sign_off`], with the validator's signature made as `validation`
    /// says: by their personal key now, or by their passkey over the statement of
    /// [`Station::sign_off_statement`] (made within [`SIGN_OFF_FRESH_MINUTES`], by a
    /// passkey that stands for them). The ledger entry is signed as the station's
    /// writes are: at the desk, by the passkey too.
    pub fn sign_off_with(
        &mut self,
        id: &RecordId,
        comment: Option<&str>,
        details: &crate::erasure::WipeDetails,
        validation: &Validation,
    ) -> Result<Certificate> {
        let details = details.checked()?;
        let comment = comment
            .map(|c| crate::registers::requests::one_line(crate::error::Field::Comment, c, 500))
            .transpose()?;
        let (cert, mut document, operator) = self.may_sign_off(id)?;
        let actor = self.actor.clone();
        // A passkey's signature is checked before anything is written.
        let passkey = match validation {
            Validation::PersonalKey => None,
            Validation::Passkey { at, assertion } => {
                let refused = |why: String| Error::PasskeyRefused {
                    why: crate::error::PasskeyProblem::Invalid(why),
                };
                let made = clock::parse_stamp(at)?;
                let age = clock::now() - made;
                if age < -chrono::Duration::minutes(1)
                    || age > chrono::Duration::minutes(SIGN_OFF_FRESH_MINUTES)
                {
                    return Err(refused(format!(
                        "the sign-off statement was made at {at}: sign it again now"
                    )));
                }
                let key = self
                    .passkey_standing(&actor.name, &assertion.credential)?
                    .map_err(|why| Error::PasskeyRefused {
                        why: crate::error::PasskeyProblem::Standing(why),
                    })?;
                let statement = sign_off_statement(id.as_str(), &cert.sha256, at);
                key.check(assertion, &Sha256::digest(statement.as_bytes()))
                    .map_err(refused)?;
                Some((at.clone(), assertion.clone(), key))
            }
        };
        self.write_signed(|w, key| {
            // The document signed off is the one the ledger vouches for.
            let mut prover = w.prover();
            authentic_document_in(w, &mut prover, id.as_str())?;
            let (at, signature) = match passkey {
                None => {
                    let at = clock::stamp(clock::now());
                    // The validator's own signature of what they checked: the document
                    // as it stood (its SHA-256), the certificate and the time, with
                    // their key.
                    let statement = sign_off_statement(id.as_str(), &cert.sha256, &at);
                    let signature = w.sign_as_actor(
                        statement.as_bytes(),
                        &format!("custody sign-off of {id} by {}", actor.name),
                    )?;
                    let signature = signature.to_json(
                        "custody-sign-off/v1",
                        &[("document_sha256", &cert.sha256)],
                    );
                    (at, signature)
                }
                Some((at, assertion, passkey)) => {
                    let signature = json!({
                        "signs": "custody-sign-off/v1",
                        "format": crate::people::passkey::FORMAT,
                        "document_sha256": cert.sha256,
                        "key_id": passkey.key_id(),
                        "public_key": passkey.public_key,
                        "rp_id": passkey.rp_id,
                        "origin": passkey.origin,
                        "credential": assertion.credential,
                        "authenticator_data": assertion.authenticator_data,
                        "client_data_json": assertion.client_data_json,
                        "signature": assertion.signature,
                    });
                    (at, signature)
                }
            };
            document["validator"] = json!({
                "name": actor.name,
                "role": "manager",
                "at": at,
                "comment": comment,
                "title": details.title,
                "contact": details.contact,
                "location": details.location,
                "signature": signature,
            });
            let body = crate::canon::to_string(&document)?;
            let sha256 = hex::encode(Sha256::digest(body.as_bytes()));
            let signature = key.sign(
                body.as_bytes(),
                &format!("custody {} certificate {id} signed off by {} sha256={sha256}", cert.kind, actor.name),
            )?;
            w.append_attached(
                &actor.name,
                "cert-sign-off",
                id.as_str(),
                &json!({ "comment": comment, "sha256_before": cert.sha256, "sha256": sha256, "operator": operator }),
                Some(&Attachment { body, signature, issued_at: None }),
            )?;
            Ok(())
        })?;
        self.certificate(id)
    }

    /// Stores a vendor's erasure certificate (any format) under its SHA-256 in the data
    /// home, records it, and issues a signed receipt (`VC-…`) listed with the others.
    pub fn import_vendor_certificate(
        &mut self,
        file: &Path,
        vendor: &str,
        serial: &str,
        date: Option<&str>,
        method: Option<&str>,
    ) -> Result<Certificate> {
        self.actor.require_writer("import vendor certificates")?;
        let vendor =
            crate::registers::requests::one_line(crate::error::Field::Vendor, vendor, 200)?;
        let serial =
            crate::registers::requests::one_line(crate::error::Field::Serial, serial, 200)?;
        let date = date
            .map(|d| clock::parse_date(d).map(|d| d.to_string()))
            .transpose()?;
        let method = method
            .map(|m| crate::registers::requests::one_line(crate::error::Field::Method, m, 200))
            .transpose()?;
        let bytes = fs_err::read(file)?;
        if bytes.is_empty() {
            return Err(Error::UnsupportedFile {
                path: file.to_path_buf(),
                problem: FileProblem::Empty,
            });
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("certificate")
            .to_string();
        let ext = file
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        let dir = self.home.join("vendor-certificates");
        fs_err::create_dir_all(&dir)?;
        let stored = dir.join(format!("{sha256}{ext}"));
        if !stored.exists() {
            crate::config::write_atomic(&stored, &bytes)?;
        }
        let actor = self.actor.name.clone();
        let organisation = self.config.organisation.clone();
        let station = self.config.station.clone();
        let stored_name = stored
            .strip_prefix(&self.home)
            .unwrap_or(&stored)
            .display()
            .to_string();
        self.write_signed(|w, key| {
            let medium = crate::registers::media::by_serial_in(w, &serial)?;
            let document = json!({
                "schema": "custody.vendor-certificate-receipt/v1",
                "organisation": organisation,
                "station": station,
                "vendor": vendor,
                "serial": serial,
                "date": date,
                "method": method,
                "file": { "name": name, "sha256": sha256, "size": bytes.len(), "stored_as": stored_name },
                "received_by": actor,
                "media_record": medium.as_ref().map(|m| m.id.clone()),
            });
            issue_in(
                w,
                key,
                Issue { actor: &actor, kind: CertificateKind::Vendor, prefix: "VC", subject: &vendor, serial: Some(&serial), status: "erased-by-vendor" },
                document,
            )
        })
    }
}

/// The address of the desk page that checks certificate `id` as printed, its
/// document hashing to `sha256`: `ORIGIN/verify/ID/SHA256`.
pub fn certificate_address(origin: &str, id: &RecordId, sha256: &str) -> String {
    format!(
        "{}/verify/{id}/{}",
        origin.trim_end_matches('/'),
        sha256.to_lowercase()
    )
}
