//! Sending and receiving: the `seal` library made into recorded workflows, with the
//! address book of recipients' keys and the approval policy for sending.
//!
//! A send encrypts to the recipient's public keys when custody has them (from the
//! command line, a recipients file, or the address book), and otherwise to a passphrase
//! that custody generates and shows once, to be given through another channel. The
//! passphrase is never stored: not in the ledger, not in a file, not in an error.

mod contacts;
pub mod identity;
pub mod policy;
pub mod register;
pub mod seal;

pub use contacts::Contact;

use std::path::PathBuf;

use secrecy::SecretString;
use serde_json::json;

use crate::config::SendApproval;
use crate::error::{Denial, Error, Field, Result};
use crate::ledger::RecordId;
use crate::registers::requests::{self, RequestKind, one_line};
use crate::station::Station;
use crate::vocab::vocabulary;
use seal::{Mode, OpenInput, OpenReport, Progress, Recipient, SendInput, SendReport};

vocabulary! {
    /// The channels a passphrase may travel by; never the one the file travels by.
    pub enum PasswordChannel (Field::PasswordChannel) {
        /// Read out over the phone.
        Phone = "phone",
        /// A text message to the recipient's phone.
        Sms = "sms",
        /// A letter by post.
        Letter = "letter",
        /// Handed over in person.
        InPerson = "in-person",
        /// A separate email (not a reply to the one with the file).
        SeparateEmail = "separate-email",
    }
}

/// What `custody send` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// Files and folders to send.
    pub paths: Vec<PathBuf>,
    /// The output file (default: `NAME.age` / `NAME.tar.age` in the current folder).
    pub output: Option<PathBuf>,
    /// Who receives it: a contact's name, or any name for the record.
    pub to: String,
    /// Public keys given on the command line.
    pub recipients: Vec<String>,
    /// Recipients files.
    pub recipients_files: Vec<PathBuf>,
    /// How the passphrase travels, in passphrase mode.
    pub password_via: Option<PasswordChannel>,
    /// The approved request, when policy requires one.
    pub request: Option<RecordId>,
    /// Whether the caller can show a passphrase to the person (a terminal, or JSON
    /// output they asked for); passphrase mode is refused otherwise.
    pub can_show_passphrase: bool,
    /// What a generated passphrase is made of (English words unless told).
    pub words: Option<seal::words::Words>,
}

/// What a send did.
#[derive(Debug)]
pub struct SendOutcome {
    /// The transfer id (`TX-…`).
    pub id: RecordId,
    /// The recipient as recorded.
    pub recipient: String,
    /// The channel the passphrase must travel by, in passphrase mode.
    pub password_via: Option<PasswordChannel>,
    /// What was written.
    pub report: SendReport,
    /// The passphrase, in passphrase mode: show it once, then drop it.
    pub passphrase: Option<SecretString>,
}

/// What `custody open` is asked to do.
#[derive(Debug)]
pub struct ReceiveOptions {
    /// The age file.
    pub file: PathBuf,
    /// Where to put what it holds.
    pub out_dir: PathBuf,
    /// Identity (private key) files.
    pub identities: Vec<PathBuf>,
    /// The passphrase, for passphrase-encrypted files.
    pub passphrase: Option<SecretString>,
    /// The passphrase of a passphrase-protected identity file.
    pub identity_passphrase: Option<SecretString>,
    /// Replace existing files.
    pub force: bool,
}

impl Station {
    /// Encrypts files for a recipient and records the transfer (`TX-…`). Everything is
    /// checked before anything is written; if recording fails, the output is removed.
    ///
    /// The steps: whose keys (`recipients_for`), the passphrase rules, the approval
    /// policy (`send_request`), the encryption, then the `send` entry (`record_send`).
    pub fn send(&mut self, options: SendOptions, progress: &dyn Progress) -> Result<SendOutcome> {
        self.actor.require_writer("send personal data")?;
        let to = one_line(Field::Recipient, &options.to, 200)?;
        let password_via = options.password_via;
        let recipients = self.recipients_for(&options, &to)?;
        let passphrase_mode = recipients.is_empty();
        if passphrase_mode {
            if password_via.is_none() {
                return Err(Error::NeedsPasswordChannel { to });
            }
            if !options.can_show_passphrase {
                return Err(Error::NeedsTerminal);
            }
        } else if password_via.is_some() {
            return Err(Error::NoPassphrase { to });
        }
        let request = self.send_request(options.request.as_ref())?;

        // While it runs, the data home knows where a killed send would leave its
        // temporary output (`custody doctor` looks there).
        let out_dir = options
            .output
            .as_deref()
            .and_then(std::path::Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
        let _marker = crate::doctor::mark(&self.home, crate::doctor::RunKind::Send, &out_dir)?;
        let words = options.words.unwrap_or(seal::words::Words::English);
        let passphrase = passphrase_mode.then(|| seal::words::generate(words));
        let mode = match &passphrase {
            Some(p) => Mode::Passphrase(p.clone()),
            None => Mode::Recipients(recipients),
        };
        let report = seal::send(
            SendInput {
                paths: options.paths.clone(),
                output: options.output.clone(),
                mode,
            },
            progress,
        )?;
        let id = match self.record_send(&to, password_via, request.as_ref(), &report) {
            Ok(id) => id,
            Err(e) => {
                // Nothing unrecorded leaves the station.
                let _ = std::fs::remove_file(&report.output);
                return Err(e);
            }
        };
        Ok(SendOutcome {
            id,
            recipient: to,
            password_via,
            report,
            passphrase,
        })
    }

    /// The public keys to encrypt to: those given, those in recipients files, else the
    /// contact's key from the address book; none means passphrase mode.
    fn recipients_for(&self, options: &SendOptions, to: &str) -> Result<Vec<Recipient>> {
        let mut recipients: Vec<Recipient> = Vec::new();
        for key in &options.recipients {
            recipients.push(seal::recipients::parse_recipient(key, "the keys given")?);
        }
        for file in &options.recipients_files {
            recipients.extend(seal::recipients::parse_recipients_file(file)?);
        }
        if recipients.is_empty()
            && let Some(contact) = self.contact(to)?
        {
            recipients.push(seal::recipients::parse_recipient(
                &contact.key,
                &format!("contact {to}"),
            )?);
        }
        Ok(recipients)
    }

    /// The approved request this send uses, as the station's policy requires: checked
    /// now so that nothing is encrypted for an unapproved request (and again when
    /// recording, in the transaction that uses it).
    fn send_request(&mut self, given: Option<&RecordId>) -> Result<Option<RecordId>> {
        let actor = self.actor.name.clone();
        let config_requires = self.config.send.approval == SendApproval::Required;
        let given = given.cloned();
        self.write(|w| {
            let required =
                config_requires || policy::send_approval_in(w)?.approval == SendApproval::Required;
            let request = match (required, given) {
                (true, None) => {
                    return Err(Error::NotAllowed {
                        actor: actor.clone(),
                        action: "send personal data".into(),
                        reason: Box::new(Denial::ApprovalRequired),
                    });
                }
                (_, Some(id)) => id,
                (false, None) => return Ok(None),
            };
            let r =
                requests::require_approved(w, &request, RequestKind::Send, "send personal data")?;
            if r.requester != actor {
                return Err(Error::NotAllowed {
                    actor: actor.clone(),
                    action: "send personal data".into(),
                    reason: Box::new(Denial::RequestedByOther {
                        request: request.to_string(),
                        requester: r.requester,
                    }),
                });
            }
            Ok(Some(request))
        })
    }

    /// The `send` entry (`TX-…`), using the approval in the same transaction.
    fn record_send(
        &mut self,
        to: &str,
        password_via: Option<PasswordChannel>,
        request: Option<&RecordId>,
        report: &SendReport,
    ) -> Result<RecordId> {
        let actor = self.actor.name.clone();
        let config_requires = self.config.send.approval == SendApproval::Required;
        self.write(|w| {
            match request {
                Some(id) => {
                    requests::require_approved(w, id, RequestKind::Send, "send personal data")?;
                }
                // The policy may have been made stricter while the files were encrypted.
                None if config_requires
                    || policy::send_approval_in(w)?.approval == SendApproval::Required =>
                {
                    return Err(Error::NotAllowed {
                        actor: actor.clone(),
                        action: "send personal data".into(),
                        reason: Box::new(Denial::ApprovalRequired),
                    });
                }
                None => {}
            }
            let (id, _) = w.create_record(
                &actor,
                "send",
                "TX",
                json!({
                    "recipient": to,
                    "mode": if report.passphrase_mode { "passphrase" } else { "recipients" },
                    "recipients": report.recipients,
                    "password_via": password_via,
                    "files": report.files,
                    "count": report.files.len(),
                    "archive": report.archive,
                    "output": {
                        "name": report.output_name,
                        "size": report.output_size,
                        "sha256": report.output_sha256,
                    },
                    "request": request,
                }),
            )?;
            Ok(id)
        })
    }

    /// Decrypts an age file (verifying an archive's manifest) and records the receipt
    /// (`RX-…`). Nothing is left behind and nothing recorded when it fails.
    pub fn receive(
        &mut self,
        options: ReceiveOptions,
        progress: &dyn Progress,
    ) -> Result<(RecordId, OpenReport)> {
        self.actor.require_writer("open received data")?;
        let mode = if options.passphrase.is_some() {
            "passphrase"
        } else {
            "identity"
        };
        let name = options
            .file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let _marker =
            crate::doctor::mark(&self.home, crate::doctor::RunKind::Open, &options.out_dir)?;
        let input = |passphrase: Option<SecretString>| OpenInput {
            file: options.file.clone(),
            out_dir: options.out_dir.clone(),
            identity_files: options.identities.clone(),
            passphrase,
            identity_passphrase: options.identity_passphrase.clone(),
            force: options.force,
            max_work_factor: seal::work_factor_for_memory(self.config.open.max_scrypt_memory_mib),
        };
        // The passphrase exactly as typed first; when it does not open the file and
        // reads as a generated one typed loosely (spaces for ideographic spaces,
        // full-width digits), in the form it was generated in.
        let as_generated = options.passphrase.as_ref().and_then(|typed| {
            use secrecy::ExposeSecret;
            let generated = seal::words::as_generated(typed.expose_secret());
            (generated.as_str() != typed.expose_secret())
                .then(|| SecretString::from(generated.as_str()))
        });
        let report = match seal::open(input(options.passphrase.clone()), progress) {
            Err(seal::Error::WrongPassphrase { .. }) if as_generated.is_some() => {
                seal::open(input(as_generated), progress)?
            }
            other => other?,
        };
        let force = options.force;
        let actor = self.actor.name.clone();
        let recorded = self.write(|w| {
            let (id, _) = w.create_record(
                &actor,
                "receive",
                "RX",
                json!({
                    "input": { "name": name, "size": report.input_size, "sha256": report.input_sha256 },
                    "mode": mode,
                    "keys": report.keys,
                    "kind": report.kind,
                    "files": report.files,
                    "count": report.files.len(),
                    "manifest_checked": report.manifest_checked,
                }),
            )?;
            Ok(id)
        });
        match recorded {
            Ok(id) => Ok((id, report)),
            Err(e) => {
                // Nothing decrypted stays unrecorded. Without --force every output is new
                // (open refuses to replace anything), so removing it loses nothing; with
                // --force it may have merged into folders that were there before, so it
                // stays where it was put.
                if !force {
                    for output in &report.outputs {
                        let is_dir = std::fs::symlink_metadata(output).is_ok_and(|m| m.is_dir());
                        let _ = if is_dir {
                            std::fs::remove_dir_all(output)
                        } else {
                            std::fs::remove_file(output)
                        };
                    }
                }
                Err(e)
            }
        }
    }
}
