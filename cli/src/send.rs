//! `custody send`, `custody open`, the address book and requests: arguments, the
//! passphrase shown once, the prompt, and the progress bar.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use custody_core::RecordId;
use custody_core::registers::requests::RequestKind;
use custody_core::send::seal;
use custody_core::send::seal::words::Words;
use custody_core::send::{PasswordChannel, ReceiveOptions, SendOptions};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::commands::{open_station, print_created};
use crate::i18n::t;
use crate::output::progress::SendBar;
use crate::output::{self, Printer, Table};

/// `custody send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Files and folders to send: one file becomes NAME.age, a folder or several paths
    /// NAME.tar.age (with MANIFEST.sha256 inside).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Who receives it: a contact's name (its key is used), or the person's name.
    #[arg(long)]
    pub to: String,
    /// The recipient's public key (age1…, "ssh-ed25519 …", "ssh-rsa …"); repeatable.
    #[arg(long = "recipient", value_name = "KEY")]
    pub recipients: Vec<String>,
    /// A file of recipients' public keys, one per line.
    #[arg(long = "recipients-file", value_name = "FILE")]
    pub recipients_files: Vec<PathBuf>,
    /// Without a key: how the passphrase travels (never with the file).
    #[arg(long, value_enum)]
    pub password_via: Option<Channel>,
    /// The approved request, when this station requires one for sending.
    #[arg(long, value_name = "RQ-…")]
    pub request: Option<String>,
    /// What a generated passphrase is made of: English words, Japanese words in
    /// hiragana, or groups of digits (each at least 88 bits). Default: Japanese words
    /// when the language is Japanese (LANG=ja_JP…), else English words.
    #[arg(long, value_enum, value_name = "en|ja|digits")]
    pub words: Option<WordsArg>,
    /// The output file.
    #[arg(short = 'o', long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Print the result (and the passphrase) as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

/// What a generated passphrase is made of.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WordsArg {
    /// English words joined by hyphens.
    En,
    /// Japanese words in hiragana, joined by ideographic spaces.
    Ja,
    /// Seven groups of four digits.
    Digits,
}

impl From<WordsArg> for Words {
    fn from(arg: WordsArg) -> Words {
        match arg {
            WordsArg::En => Words::English,
            WordsArg::Ja => Words::Japanese,
            WordsArg::Digits => Words::Digits,
        }
    }
}

/// Japanese words when the person's language is Japanese (see [`crate::i18n::lang`]),
/// else English words.
pub(crate) fn default_words() -> Words {
    match crate::i18n::lang() {
        custody_core::Lang::Ja => Words::Japanese,
        _ => Words::English,
    }
}

/// Channels for the passphrase.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Channel {
    /// Read it out over the phone.
    Phone,
    /// A text message to the recipient's phone.
    Sms,
    /// A letter by post.
    Letter,
    /// Hand it over in person.
    InPerson,
    /// A separate email (not a reply to the one with the file).
    #[value(alias = "email")]
    SeparateEmail,
}

impl From<Channel> for PasswordChannel {
    fn from(channel: Channel) -> PasswordChannel {
        match channel {
            Channel::Phone => PasswordChannel::Phone,
            Channel::Sms => PasswordChannel::Sms,
            Channel::Letter => PasswordChannel::Letter,
            Channel::InPerson => PasswordChannel::InPerson,
            Channel::SeparateEmail => PasswordChannel::SeparateEmail,
        }
    }
}

/// `custody open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The encrypted file (.age).
    pub file: PathBuf,
    /// The folder to put its contents in (default: the current folder).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// A private key file (age identity or OpenSSH key); repeatable. Without one, a
    /// file encrypted to a key is opened with the identity `custody keys new` made,
    /// when there is exactly one.
    #[arg(short = 'i', long = "identity", value_name = "IDENTITY")]
    pub identities: Vec<PathBuf>,
    /// Read the passphrase from the first line of this file instead of asking.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the passphrase of a passphrase-protected identity file from the first
    /// line of this file instead of asking.
    #[arg(long, value_name = "FILE")]
    pub identity_passphrase_file: Option<PathBuf>,
    /// Replace files that already exist.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `custody contacts …`.
#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// Add a recipient's public key, so that `send --to NAME` needs no passphrase.
    Add {
        /// The contact's name.
        name: String,
        /// Their public key: age1…, "ssh-ed25519 …" or "ssh-rsa …".
        key: String,
        /// Replace the key of a contact already in the address book (the old key's
        /// fingerprint is recorded).
        #[arg(long)]
        replace: bool,
    },
    /// Remove a contact from the address book (the ledger keeps the history).
    Remove {
        /// The contact's name.
        name: String,
    },
    /// List the address book.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `custody request …`.
#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Ask a manager's permission to send personal data (when policy requires it).
    New {
        /// What the request is for.
        #[arg(long, value_parser = ["send"])]
        kind: String,
        /// What will be sent, to whom, and why.
        #[arg(long)]
        summary: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Exit code after a signal stopped a send or open (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// While alive, SIGINT, SIGTERM and SIGHUP ask a running send or open to stop; it then
/// removes what it wrote. A second signal ends the process at once (what is left is
/// found by the next run or by `custody doctor`).
struct StopOnSignal(Vec<signal_hook::SigId>);

impl StopOnSignal {
    fn install() -> Result<StopOnSignal> {
        let flag = seal::stop_flag();
        let mut ids = Vec::new();
        for signal in [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
        ] {
            ids.push(signal_hook::flag::register_conditional_shutdown(
                signal,
                i32::from(EXIT_INTERRUPTED),
                std::sync::Arc::clone(&flag),
            )?);
            ids.push(signal_hook::flag::register(
                signal,
                std::sync::Arc::clone(&flag),
            )?);
        }
        Ok(StopOnSignal(ids))
    }
}

impl Drop for StopOnSignal {
    fn drop(&mut self) {
        for id in self.0.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// For a send or open stopped by a signal: says so and gives exit code 130.
fn interrupted<T>(result: custody_core::Result<T>, what: &str) -> Result<Result<T, ExitCode>> {
    match result {
        Err(custody_core::Error::Seal(seal::Error::Interrupted)) => {
            eprintln!(
                "{}",
                if what == "open" {
                    t!("interrupted-open")
                } else {
                    t!("interrupted-send")
                }
            );
            Ok(Err(ExitCode::from(EXIT_INTERRUPTED)))
        }
        other => Ok(Ok(other?)),
    }
}

/// Tells the person about leftovers of interrupted runs that were removed.
fn say_removed(what: &str, removed: &[PathBuf]) {
    for path in removed {
        eprintln!(
            "{}",
            if what == "open" {
                t!("removed-open-leftover", path = path.display())
            } else {
                t!("removed-send-leftover", path = path.display())
            }
        );
    }
}

/// `custody send`.
pub fn send(args: SendArgs) -> Result<ExitCode> {
    let mut station = open_station()?;
    let can_show =
        args.json || (std::io::stdout().is_terminal() && std::io::stderr().is_terminal());
    let options = SendOptions {
        paths: args.paths,
        output: args.output,
        to: args.to,
        recipients: args.recipients,
        recipients_files: args.recipients_files,
        password_via: args.password_via.map(PasswordChannel::from),
        request: args.request.as_deref().map(RecordId::parse).transpose()?,
        can_show_passphrase: can_show,
        words: Some(args.words.map_or_else(default_words, Words::from)),
    };
    // Unlocked before anything is encrypted: a send that could not be recorded is
    // not made.
    station.unlock_now()?;
    let bar = SendBar::new(args.quiet);
    let signals = StopOnSignal::install()?;
    let outcome = match interrupted(station.send(options, &bar), "send")? {
        Ok(outcome) => outcome,
        Err(code) => return Ok(code),
    };
    drop(signals);
    let report = &outcome.report;
    say_removed("send", &report.leftovers_removed);
    if args.json {
        let mut value = json!({
            "id": outcome.id,
            "recipient": outcome.recipient,
            "mode": if report.passphrase_mode { "passphrase" } else { "recipients" },
            "recipients": report.recipients,
            "password_via": outcome.password_via,
            "files": report.files,
            "output": { "path": report.output, "name": report.output_name, "size": report.output_size, "sha256": report.output_sha256 },
        });
        if let Some(p) = &outcome.passphrase {
            value["passphrase"] = serde_json::Value::String(p.expose_secret().to_string());
        }
        let printed = output::json(&value);
        // The copy made for printing is wiped like the secret it came from.
        if let Some(serde_json::Value::String(mut copy)) =
            value.get_mut("passphrase").map(serde_json::Value::take)
        {
            zeroize::Zeroize::zeroize(&mut copy);
        }
        printed?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = zeroize::Zeroizing::new(t!(
        "sent",
        id = outcome.id,
        count = report.files.len(),
        output = report.output.display(),
        size = report.output_size,
        sha256 = report.output_sha256
    ));
    text.push('\n');
    match &outcome.passphrase {
        None => {
            text.push_str(&t!(
                "sent-to-key",
                to = outcome.recipient,
                keys = report.recipients.join(", ")
            ));
            text.push('\n');
        }
        Some(passphrase) => {
            let via = outcome.password_via.map_or_else(
                || t!("channel-other"),
                |c| crate::i18n::word("channel", c.as_str()),
            );
            // The passphrase goes in as it is, never through a catalogue's formatter.
            text.push('\n');
            text.push_str(&t!("sent-passphrase-shown"));
            text.push_str("\n\n    ");
            text.push_str(passphrase.expose_secret());
            text.push_str("\n\n");
            text.push_str(&t!(
                "sent-passphrase-how",
                to = outcome.recipient,
                via = via,
                id = outcome.id
            ));
            text.push('\n');
        }
    }
    output::text(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `custody open`.
pub fn open(args: OpenArgs) -> Result<ExitCode> {
    let mut station = open_station()?;
    let mut identities = args.identities;
    // Without -i or a passphrase: a file encrypted to a key opens with this person's
    // own identity, when they have exactly one.
    if identities.is_empty()
        && args.passphrase_file.is_none()
        && matches!(
            custody_core::send::identity::needs_passphrase(&args.file),
            Ok(false)
        )
    {
        let mut own = custody_core::send::identity::own();
        match own.len() {
            0 => {}
            1 => {
                let only = own.remove(0);
                eprintln!("{}", t!("opening-with-identity", path = only.display()));
                identities.push(only);
            }
            _ => {
                let names: Vec<String> = own.iter().map(|p| p.display().to_string()).collect();
                let names = names.join(", ");
                anyhow::bail!(crate::Refused(t!("several-identities", names = names)));
            }
        }
    }
    let passphrase: Option<SecretString> = match (&args.passphrase_file, identities.is_empty()) {
        (Some(file), _) => Some(seal::read_passphrase_file(file)?),
        (None, false) => None,
        (None, true) => Some(ask(&t!("prompt-passphrase"), &t!("open-needs-key"))?),
    };
    let mut identity_passphrase = None;
    for identity in &identities {
        if custody_core::send::identity::is_protected(identity)? {
            identity_passphrase = Some(match &args.identity_passphrase_file {
                Some(file) => seal::read_passphrase_file(file)?,
                None => ask(
                    &t!("prompt-identity-of", path = identity.display()),
                    &t!("open-needs-identity-passphrase"),
                )?,
            });
            break;
        }
    }
    let out_dir = match args.output {
        Some(dir) => dir,
        None => std::env::current_dir()?,
    };
    station.unlock_now()?;
    let bar = SendBar::new(args.quiet);
    // Installed after the passphrase prompt, so that Ctrl-C there still quits at once.
    let signals = StopOnSignal::install()?;
    let received = station.receive(
        ReceiveOptions {
            file: args.file,
            out_dir,
            identities,
            passphrase,
            identity_passphrase,
            force: args.force,
        },
        &bar,
    );
    let (id, report) = match interrupted(received, "open")? {
        Ok(done) => done,
        Err(code) => return Ok(code),
    };
    drop(signals);
    say_removed("open", &report.leftovers_removed);
    if args.json {
        output::json(&json!({
            "id": id,
            "kind": report.kind,
            "keys": report.keys,
            "files": report.files,
            "manifest_checked": report.manifest_checked,
            "outputs": report.outputs,
        }))?;
    } else {
        let mut text = if report.manifest_checked {
            t!("opened-checked", id = id, count = report.files.len())
        } else {
            t!("opened", id = id, count = report.files.len())
        };
        text.push('\n');
        for path in &report.outputs {
            text.push_str(&format!("  {}\n", path.display()));
        }
        output::text(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `custody contacts …`.
pub fn contacts(cmd: ContactsCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        ContactsCommand::Add { name, key, replace } => {
            let contact = station.add_contact(&name, &key, replace)?;
            output::text(&if replace {
                t!(
                    "contact-replaced",
                    name = contact.name,
                    key = contact.fingerprint
                )
            } else {
                t!(
                    "contact-added",
                    name = contact.name,
                    key = contact.fingerprint
                )
            })?;
        }
        ContactsCommand::Remove { name } => {
            station.remove_contact(&name)?;
            output::text(&t!("contact-removed", name = name))?;
        }
        ContactsCommand::List { json } => {
            Printer::new(json).print(&station.contacts()?, |list| {
                let mut table = Table::new(&["NAME", "KEY"]);
                for c in list {
                    table.row([&c.name, &c.fingerprint]);
                }
                table.render()
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `custody request …`.
pub fn request(cmd: RequestCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        RequestCommand::New {
            kind: _,
            summary,
            json,
        } => {
            let id = station.file_request(RequestKind::Send, &summary, json!({}))?;
            print_created(&id, &t!("what-request"), json)?;
            if !json {
                eprintln!("{}", t!("approve-next", id = id));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A passphrase typed on the terminal, or the refusal `without` when there is none.
fn ask(prompt: &str, without: &str) -> Result<SecretString> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(crate::Refused(without.into()));
    }
    let typed = rpassword::prompt_password(prompt)?;
    Ok(SecretString::from(typed))
}

/// `custody transfer …`.
#[derive(Debug, clap::Subcommand)]
pub enum TransferCommand {
    /// Record that the recipient confirmed receipt of a transfer (受領確認).
    Confirm {
        /// The transfer (TX-…).
        id: String,
        /// Who confirmed receipt on the recipient's side.
        #[arg(long)]
        by: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the transfers sent and their receipts (送付簿).
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `custody transfer …`.
pub fn transfer(cmd: TransferCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        TransferCommand::Confirm { id, by, json } => {
            let sent = station.confirm_send(&custody_core::RecordId::parse(&id)?, &by)?;
            Printer::new(json).print(&sent, |s| t!("receipt-confirmed", id = s.id, by = by))?;
        }
        TransferCommand::List { json } => {
            Printer::new(json).print(&station.sends()?, |list| {
                let mut table = Table::new(&["ID", "DATE", "TO", "FILES", "BY", "RECEIPT"]);
                for s in list {
                    table.row([
                        s.id.to_string(),
                        s.at.local_date().to_string(),
                        s.to.clone(),
                        s.count.to_string(),
                        s.by.clone(),
                        s.confirmed_by
                            .clone()
                            .unwrap_or_else(|| t!("not-confirmed")),
                    ]);
                }
                table.render()
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `custody policy …`.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Show the policy in force: whether sending personal data needs a manager's
    /// approval beforehand, who set it, when and why.
    Show {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change whether sending personal data needs a manager's approval beforehand (a
    /// manager, with the reason; recorded in the ledger).
    SendApproval {
        /// required (the default) or none.
        #[arg(value_parser = ["required", "none"])]
        value: String,
        /// Why the office changes it (recorded).
        #[arg(long)]
        reason: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `custody policy …`.
pub fn policy(cmd: PolicyCommand) -> Result<ExitCode> {
    use custody_core::config::SendApproval;
    let mut station = open_station()?;
    let (state, json) = match cmd {
        PolicyCommand::Show { json } => (station.send_policy()?, json),
        PolicyCommand::SendApproval {
            value,
            reason,
            json,
        } => {
            let approval = if value == "none" {
                SendApproval::None
            } else {
                SendApproval::Required
            };
            (station.set_send_policy(approval, &reason)?, json)
        }
    };
    Printer::new(json).print(&state, |s| {
        let required = s.approval == SendApproval::Required || s.required_by_config;
        let mut text = if required {
            t!("policy-send-required")
        } else {
            t!("policy-send-relaxed")
        };
        match (&s.set_by, s.set_at) {
            (Some(by), Some(at)) => {
                text.push('\n');
                text.push_str(&t!(
                    "policy-set-by",
                    by = by,
                    at = at.to_string(),
                    reason = s.reason.clone().unwrap_or_default()
                ));
            }
            _ => {
                text.push('\n');
                text.push_str(&t!("policy-default"));
            }
        }
        if s.required_by_config && s.approval == SendApproval::None {
            text.push('\n');
            text.push_str(&t!("policy-config-stricter"));
        }
        text
    })?;
    Ok(ExitCode::SUCCESS)
}
