//! Certificates and trusted keys: list, show, export (JSON or PDF), verify, sign off,
//! import a vendor's certificate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use custody_core::RecordId;
use serde_json::json;

use crate::commands::open_station;
use crate::i18n::t;
use crate::output::{self, Table};

/// `custody cert …`.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// List certificates (erasure EC-…, disposal DC-…, vendor receipts VC-…).
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one certificate's document, field by field (`--json`: the document).
    Show {
        /// The certificate.
        id: String,
        /// Print the document as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a certificate to a file: JSON (and FILE.minisig) or a PDF for people.
    Export {
        /// The certificate.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: CertFormat,
        /// The file to write.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Check a certificate file (with FILE.minisig beside it): signature, schema, ledger.
    Verify {
        /// The certificate's JSON file.
        file: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Confirm a certificate as a manager who did not do the work; for a vendor's
    /// certificate (VC-…), accept it as proof of erasure.
    SignOff {
        /// The certificate.
        id: String,
        /// A comment for the record.
        #[arg(long)]
        comment: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Your title (役職), printed on the certificate beside your name.
        #[arg(long, value_name = "TEXT")]
        title: Option<String>,
        /// How to reach you (extension, mail), printed on the certificate.
        #[arg(long, value_name = "TEXT")]
        contact: Option<String>,
        /// Where you checked the result, printed on the certificate.
        #[arg(long, value_name = "TEXT")]
        place: Option<String>,
    },
    /// Keep a vendor's erasure certificate (any file format) with the others.
    Import {
        /// The vendor's certificate file.
        file: PathBuf,
        /// The vendor that erased the medium.
        #[arg(long)]
        vendor: String,
        /// The medium's serial number.
        #[arg(long)]
        serial: String,
        /// The date of the erasure.
        #[arg(long)]
        date: Option<String>,
        /// The vendor's method.
        #[arg(long)]
        method: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Certificate export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CertFormat {
    /// The signed JSON document, with FILE.minisig beside it.
    Json,
    /// A one-page A4 form for people.
    Pdf,
}

/// `custody keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Trust another station's minisign public key for verifying its certificates.
    Trust {
        /// The public key file (minisign format).
        file: PathBuf,
        /// A name for it.
        #[arg(long)]
        name: Option<String>,
    },
    /// List this station's key and the trusted ones.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make an age identity to receive with: prints the public key to hand to
    /// senders; `custody open` then needs no -i when it is your only one.
    New {
        /// Whose it is: the office's, or a person's (default: yours).
        #[arg(long)]
        name: Option<String>,
        /// Where to write it (default: ~/.config/custody/identities/NAME.age).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Read its new passphrase from the first line of FILE instead of asking.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Keep it without a passphrase (on a path you keep safe yourself, such as a
        /// USB stick in the locked cabinet).
        #[arg(long, conflicts_with = "passphrase_file")]
        no_passphrase: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn id(text: &str) -> Result<RecordId> {
    Ok(RecordId::parse(text)?)
}

/// `custody cert …`.
pub fn cert(cmd: CertCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        CertCommand::List { json } => {
            let list = station.certificates()?;
            if json {
                let items: Vec<_> = list
                    .iter()
                    .map(|c| {
                        json!({
                            "id": c.id, "kind": c.kind, "subject": c.subject, "serial": c.serial,
                            "status": c.status, "date": c.issued_at, "sha256": c.sha256,
                        })
                    })
                    .collect();
                output::json(&json!({ "certificates": items }))?;
            } else {
                let mut table = Table::new(&["ID", "KIND", "FOR", "SERIAL", "STATUS", "ISSUED"]);
                for c in &list {
                    table.row([
                        c.id.to_string(),
                        c.kind.to_string(),
                        c.subject.clone(),
                        c.serial.clone().unwrap_or_default(),
                        c.status.clone(),
                        c.issued_at.to_string(),
                    ]);
                }
                output::text(&table.render())?;
            }
        }
        CertCommand::Show { id: text, json } => {
            let cert = station.certificate(&id(&text)?)?;
            let value: serde_json::Value = serde_json::from_str(&cert.body)?;
            crate::output::Printer::new(json).print(&value, |doc| document_text(&text, doc))?;
        }
        CertCommand::Export {
            id: text,
            format,
            output: path,
        } => {
            let cert = id(&text)?;
            match format {
                CertFormat::Json => {
                    station.export_certificate_json(&cert, &path)?;
                    eprintln!("{}", t!("cert-wrote-json", path = path.display()));
                }
                CertFormat::Pdf => {
                    station.export_certificate_pdf(
                        &cert,
                        crate::i18n::chosen().unwrap_or(custody_core::Lang::Ja),
                        &path,
                    )?;
                    eprintln!("{}", t!("wrote", path = path.display()));
                }
            }
        }
        CertCommand::Verify { file, json } => {
            let verdict = station.verify_certificate(&file)?;
            if json {
                output::json(&verdict)?;
            } else {
                let mut text = String::new();
                for check in &verdict.checks {
                    text.push_str(&format!(
                        "{} {} {}\n",
                        if check.ok {
                            t!("check-ok")
                        } else {
                            t!("check-fail")
                        },
                        padded(&crate::i18n::word("check", &check.name), 10),
                        check_words(check)
                    ));
                }
                text.push_str(&if verdict.valid {
                    t!(
                        "cert-valid",
                        id = verdict.id.as_deref().unwrap_or("?"),
                        schema = verdict.schema.as_deref().unwrap_or("?"),
                        issuer = issuer_words(&verdict)
                    )
                } else {
                    t!("cert-invalid")
                });
                output::text(&text)?;
            }
            if !verdict.valid {
                return Ok(ExitCode::from(crate::EXIT_FAILED));
            }
        }
        CertCommand::SignOff {
            id: text,
            comment,
            json,
            title,
            contact,
            place,
        } => {
            let details = custody_core::erasure::WipeDetails {
                origin: None,
                title,
                contact,
                location: place,
            };
            let cert = station.sign_off(&id(&text)?, comment.as_deref(), &details)?;
            if json {
                output::json(
                    &json!({ "id": cert.id, "sha256": cert.sha256, "signed_off_by": station.actor().name }),
                )?;
            } else {
                output::text(&t!(
                    "cert-signed-off",
                    id = cert.id,
                    by = station.actor().name,
                    sha256 = cert.sha256
                ))?;
            }
        }
        CertCommand::Import {
            file,
            vendor,
            serial,
            date,
            method,
            json,
        } => {
            let cert = station.import_vendor_certificate(
                &file,
                &vendor,
                &serial,
                date.as_deref(),
                method.as_deref(),
            )?;
            if json {
                output::json(&json!({ "id": cert.id, "sha256": cert.sha256, "serial": serial }))?;
            } else {
                eprintln!(
                    "{}",
                    t!(
                        "cert-imported",
                        file = file.display(),
                        vendor = vendor,
                        serial = serial
                    )
                );
                output::text(cert.id.as_str())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `text` padded with spaces to `width` terminal columns.
fn padded(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    format!("{text}{}", " ".repeat(width.saturating_sub(text.width())))
}

/// A verification check's outcome in the language of messages (`check-CODE`, with
/// the check's values), else core's words.
pub(crate) fn check_words(check: &custody_core::erasure::certificate::Check) -> String {
    check_words_in(crate::i18n::lang(), check)
}

/// [`check_words`] in `lang` (the desk words each page in its reader's language).
pub(crate) fn check_words_in(
    lang: custody_core::Lang,
    check: &custody_core::erasure::certificate::Check,
) -> String {
    let id = format!("check-{}", check.code);
    if check.code.is_empty() || crate::i18n::lookup(lang, &id).is_none() {
        return check.detail.clone();
    }
    let facts: Vec<(&str, &str)> = check
        .facts
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    crate::i18n::text_in(lang, &id, &facts)
}

/// Who issued a verified certificate, from its issuer check, in the language of
/// messages.
fn issuer_words(verdict: &custody_core::erasure::certificate::Verdict) -> String {
    issuer_words_in(crate::i18n::lang(), verdict)
}

/// [`issuer_words`] in `lang`.
pub(crate) fn issuer_words_in(
    lang: custody_core::Lang,
    verdict: &custody_core::erasure::certificate::Verdict,
) -> String {
    let say = |id: &str, name: String| crate::i18n::text_in(lang, id, &[("name", &name)]);
    let issuer = verdict.checks.iter().find(|c| c.name == "issuer");
    let named = |key: &str| {
        issuer
            .and_then(|c| c.facts.iter().find(|(name, _)| *name == key))
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    match issuer.map(|c| c.code) {
        Some("issuer-own") => say("issuer-this-station", named("station")),
        Some("issuer-station") => say("issuer-station-named", named("name")),
        Some("issuer-vendor") => say("issuer-vendor-named", named("name")),
        _ => verdict.issuer.clone().unwrap_or_else(|| "?".into()),
    }
}

/// `custody keys …`.
pub fn keys(cmd: KeysCommand) -> Result<ExitCode> {
    if let KeysCommand::New {
        name,
        output,
        passphrase_file,
        no_passphrase,
        json,
    } = cmd
    {
        return new_identity(name, output, passphrase_file, no_passphrase, json);
    }
    let mut station = open_station()?;
    match cmd {
        KeysCommand::New { .. } => unreachable!("handled above"),
        KeysCommand::Trust { file, name } => {
            let key_id = station.trust_key(&file, name.as_deref())?;
            output::text(&t!("key-trusted", key_id = key_id))?;
        }
        KeysCommand::List { json } => {
            let mut keys = vec![("station".to_string(), station.public_key().clone())];
            keys.extend(station.trusted_keys()?);
            if json {
                let list: Vec<_> = keys
                    .iter()
                    .map(|(name, k)| json!({ "name": name, "key_id": k.key_id(), "public_key": k.to_base64() }))
                    .collect();
                output::json(&list)?;
            } else {
                let mut table = Table::new(&["KEY ID", "NAME", "PUBLIC KEY"]);
                for (name, key) in &keys {
                    table.row([key.key_id(), name.clone(), key.to_base64()]);
                }
                output::text(&table.render())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A certificate's document as lines people read: each field on its own line under
/// its dotted name, times in local time to the minute, lists as their count unless
/// they are short. `--json` gives the document itself.
/// A certificate document's fields, each labelled and worded in the language of
/// messages, in document order (`cert show`, and the desk's certificate page).
pub(crate) fn document_fields(doc: &serde_json::Value) -> Vec<(String, String)> {
    use serde_json::Value;
    fn walk(prefix: &str, value: &Value, lines: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&name, v, lines);
                }
            }
            Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                let words: Vec<String> = items.iter().map(scalar).collect();
                lines.push((prefix.to_owned(), words.join(", ")));
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{}]", i + 1), item, lines);
                }
            }
            other => lines.push((prefix.to_owned(), scalar(other))),
        }
    }
    fn scalar(value: &Value) -> String {
        match value {
            Value::Null => "-".into(),
            Value::String(s) => {
                custody_core::Timestamp::parse(s).map_or_else(|_| s.clone(), |t| t.local_minute())
            }
            Value::Bool(true) => t!("yes"),
            Value::Bool(false) => t!("no"),
            other => other.to_string(),
        }
    }
    let mut lines = Vec::new();
    walk("", doc, &mut lines);
    lines
        .into_iter()
        .map(|(key, value)| {
            let value = field_value(&key, value);
            (field_label(&key), value)
        })
        .collect()
}

fn document_text(id: &str, doc: &serde_json::Value) -> String {
    let lines = document_fields(doc);
    let width = lines
        .iter()
        .map(|(k, _)| unicode_width::UnicodeWidthStr::width(k.as_str()))
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "{id}  {}  {}\n",
        doc["schema"].as_str().unwrap_or("certificate"),
        crate::i18n::word("cert-status", doc["status"].as_str().unwrap_or(""))
    );
    for (key, value) in lines {
        out.push_str(&padded(&key, width));
        out.push_str("  ");
        out.push_str(&value);
        out.push('\n');
    }
    out
}

/// A certificate field's name in the language of messages: `cert-field-KEY` (dots
/// and underscores as hyphens, `[n]` as `$n`), else the dotted key itself.
fn field_label(key: &str) -> String {
    // `sanitization.passes[2].start` → `sanitization-passes-start`, n = 2.
    let mut n = String::new();
    let mut plain = String::new();
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        if c == '[' {
            n = chars.by_ref().take_while(|&c| c != ']').collect();
        } else {
            plain.push(c);
        }
    }
    let id = format!("cert-field-{}", plain.replace(['.', '_'], "-"));
    match crate::i18n::lookup(crate::i18n::lang(), &id) {
        Some(_) => crate::i18n::text(&id, &[("n", &n)]),
        None => key.to_owned(),
    }
}

/// A certificate field's value, words of closed sets in the language of messages.
fn field_value(key: &str, value: String) -> String {
    let set = match key.rsplit('.').next().unwrap_or(key) {
        "role" => "role",
        "destination" => "destination",
        "category" => "category",
        "result" if key.contains("verification") => "verify-result",
        "mode" if key.contains("verification") => "verify",
        "registered_kind" => "media-kind",
        "status" => "cert-status",
        "serial_source" => "serial-source",
        _ => return value,
    };
    crate::i18n::word(set, &value)
}

/// `custody keys new`: an age identity for receiving, written once, never over another.
fn new_identity(
    name: Option<String>,
    output: Option<PathBuf>,
    passphrase_file: Option<PathBuf>,
    no_passphrase: bool,
    json: bool,
) -> Result<ExitCode> {
    use custody_core::send::identity;
    use std::io::IsTerminal as _;
    let name = match name {
        Some(name) => name,
        None => custody_core::people::actor_name()?,
    };
    let path = match output {
        Some(path) => path,
        None => identity::default_dir()?.join(format!("{}.age", name.replace('/', "_"))),
    };
    if path.exists() {
        anyhow::bail!(crate::Refused(t!("identity-exists", path = path.display())));
    }
    let passphrase = if no_passphrase {
        None
    } else {
        let passphrase = match passphrase_file {
            Some(file) => custody_core::people::key::Passphrase::from_file(&file)?,
            None => {
                if !std::io::stdin().is_terminal() {
                    anyhow::bail!(crate::Refused(t!("identity-needs-passphrase")));
                }
                let first = custody_core::people::key::Passphrase::new(zeroize::Zeroizing::new(
                    rpassword::prompt_password(t!("prompt-identity-passphrase"))?,
                ));
                let second =
                    zeroize::Zeroizing::new(rpassword::prompt_password(t!("prompt-again"))?);
                if first.expose_secret() != second.as_str() {
                    anyhow::bail!(crate::Refused(t!("passphrases-differ-written")));
                }
                first
            }
        };
        passphrase.check_strength(&[name.as_str()])?;
        Some(secrecy::SecretString::from(passphrase.expose_secret()))
    };
    let new = identity::generate(passphrase.as_ref())?;
    identity::write(&path, &new)?;
    crate::output::Printer::new(json).print(
        &json!({ "name": name, "public_key": new.public, "file": path, "protected": passphrase.is_some() }),
        |_| {
            if passphrase.is_some() {
                t!("identity-made-protected", public = new.public, name = name, path = path.display())
            } else {
                t!("identity-made-open", public = new.public, name = name, path = path.display())
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
