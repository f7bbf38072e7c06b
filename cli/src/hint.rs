//! The command line's advice for an error: which command or flag to type next.
//!
//! `custody-core` says what went wrong in the record's terms; only the command line
//! knows its own commands and flags, so the advice that names them is worded here.

use custody_core::registers::requests::RequestKind;
use custody_core::{ConfigProblem, Denial, Error, Field, RecordKind, Rule, Step};

use crate::i18n::t;

/// What to do next, in the command line's words, when there is something to say.
pub fn hint(error: &Error) -> Option<String> {
    Some(match error {
        Error::NoHome(_) => t!("hint-no-home"),
        Error::NoHomePlace => t!("hint-no-home-place"),
        Error::DatabaseTooNew { .. } => t!("hint-database-too-new"),
        Error::UnknownActor { .. } => t!("hint-unknown-actor"),
        Error::Locked {
            exists: true,
            looked,
            ..
        } => format!(
            "unlock it: run the command on a terminal (it asks for the passphrase), run `custody unlock` first, or give --key-passphrase-file FILE (key file: {})",
            looked.display()
        ),
        Error::Locked { actor, .. } => format!(
            "{actor} has no key here: enroll one with `custody people enroll` (a manager then confirms it), or name your key file with --key FILE"
        ),
        Error::KeyNotValid { actor, why, .. } => match why {
            custody_core::KeyStanding::NotConfirmed => format!(
                "ask a manager to confirm it: `custody people confirm {actor} --key-id ID`, after you read the id out to them"
            ),
            custody_core::KeyStanding::NotTheirs => format!(
                "use {actor}'s own key file (--key FILE), or set CUSTODY_ACTOR to the key's owner"
            ),
            custody_core::KeyStanding::Revoked { .. } => {
                "use your current key; if you have lost it, run `custody people rekey`".into()
            }
            _ => return None,
        },
        Error::WeakPassphrase { .. } => t!("hint-weak-passphrase"),
        Error::PersonalKey {
            problem: custody_core::KeyProblem::WrongPassphrase,
            ..
        } => "type the passphrase again; if it is forgotten, run `custody people rekey` and ask a manager to confirm the new key".into(),
        Error::PersonalKey {
            problem: custody_core::KeyProblem::Missing,
            ..
        } => "enroll a key with `custody people enroll`, or name your key file with --key FILE".into(),
        Error::NotDone {
            step: Step::Enrolled,
            id,
        } => format!("{id} runs `custody people enroll` first"),
        Error::NotAllowed { actor, reason, .. } => denial(actor, reason)?,
        Error::NoSuchRecord { kind, id } => no_such_record(*kind, id)?,
        Error::Duplicate {
            field: Field::Contact,
            value,
            ..
        } => format!(
            "to change {value}'s key, add it again with --replace"
        ),
        Error::NotDone {
            id,
            step: Step::CarriedOut,
        } => format!("record `custody carryout out {id}` first"),
        Error::NotDone {
            step: Step::Approved(_),
            ..
        } => "record what happened with `custody note` and tell the manager".into(),
        Error::NotDone {
            step: Step::Held, ..
        } => "`custody retain list` shows which items are held".into(),
        Error::FiledElsewhere { kind } => match kind {
            RequestKind::Carryout => "request it with `custody carryout new`".into(),
            RequestKind::Download => "request it with `custody download new`".into(),
            _ => return None,
        },
        Error::WrongTrigger { event: false, .. } => {
            "give its start with --since (or leave it out for today), not --event-date".into()
        }
        Error::WrongTrigger { event: true, .. } => {
            "give the event date with --event-date, or later with `custody retain event ID --date DATE`; not --since".into()
        }
        Error::ClassBase { exists: true, .. } => "drop --like".into(),
        Error::ClassBase { exists: false, .. } => {
            "add --like CLASS, naming the class whose data it holds".into()
        }
        Error::BothGiven {
            first: Field::Files,
            second: Field::Medium,
        } => "name files or folders to retain, or --media ID, not both".into(),
        Error::NeedsPasswordChannel { to } => format!(
            "add --password-via {} (or give the recipient's key with --recipient, or `custody contacts add {to} KEY`)",
            custody_core::send::PasswordChannel::WORDS.join("|")
        ),
        Error::NeedsTerminal => t!("hint-needs-terminal"),
        Error::NoPassphrase { .. } => t!("hint-no-passphrase"),
        Error::SerialForSeveral => "give --serial with one target only".into(),
        Error::FileChanged { missing: false, .. } => {
            "register the new version with `custody retain add`".into()
        }
        Error::NoFont { .. } => {
            "install one with `apt-get install fonts-ipaexfont` (or fonts-noto-cjk), or set CUSTODY_FONT to a .ttf/.otf file".into()
        }
        Error::BadHead { .. } => "use the text printed by `custody ledger head`".into(),
        Error::Config { problem, .. } => match problem {
            ConfigProblem::ClassDiffers { .. } => {
                "a manager lengthens a class with `custody retain class set`".into()
            }
            ConfigProblem::PersonNotInLedger { .. } => {
                "people are added with `custody people add NAME --role ROLE`".into()
            }
            _ => return None,
        },
        Error::BadValue {
            field: Field::Period,
            rule: Rule::Backwards,
            ..
        } => "--to is before --from".into(),
        Error::BadValue { field, .. } => format!("check {}", flag(*field)?),
        Error::WontWrite { .. } => {
            "custody signs only a ledger it has checked. Run `custody ledger verify` to see what is wrong, keep the ledger file as evidence and tell your auditor.".into()
        }
        _ => return None,
    })
}

/// Advice for a refusal by role or rule.
fn denial(actor: &str, reason: &Denial) -> Option<String> {
    Some(match reason {
        Denial::NotRegistered => t!("hint-not-registered", actor = actor),
        Denial::NotApproved { request, .. } => t!("hint-not-approved", request = request),
        Denial::ApprovalRequired => {
            "file one with `custody request new --kind send --summary TEXT`, have a manager other than you approve it, then pass --request RQ-…".into()
        }
        Denial::Backdated { .. } => {
            "give the reason with --backdate-reason TEXT (it is recorded and listed by the audit)".into()
        }
        Denial::OnHold { id, .. } => {
            format!("a manager releases it with `custody retain release {id}`")
        }
        Denial::EventMissing { id, .. } => {
            format!("record it with `custody retain event {id} --date DATE`")
        }
        Denial::Unencrypted { request } => t!("hint-unencrypted", request = request),
        Denial::NoDisposalRequest { id } => format!(
            "file one with `custody retain dispose {id} --request` and have a manager approve it"
        ),
        Denial::NoErasureProof { refused, .. } if refused.is_empty() => {
            "wipe it with `custody wipe`, import the vendor's certificate and have a manager accept it (`custody cert sign-off VC-…`), or record its physical destruction with --destroyed-by NAME --method TEXT".into()
        }
        _ => return None,
    })
}

/// Where to look for records of a kind.
fn no_such_record(kind: RecordKind, id: &str) -> Option<String> {
    Some(match kind {
        RecordKind::Medium => "see `custody media list`".into(),
        RecordKind::Carryout => "see `custody carryout list`".into(),
        RecordKind::Handover => "see `custody handover list`".into(),
        RecordKind::Download => "see `custody download list`".into(),
        RecordKind::Request => "see `custody requests`".into(),
        RecordKind::Retained => "see `custody retain list`".into(),
        RecordKind::Certificate => "see `custody cert list`".into(),
        RecordKind::Transfer => "transfers are made with `custody send`".into(),
        RecordKind::Contact => {
            format!("see `custody contacts list`; add {id} without --replace if they are new")
        }
        RecordKind::Record => "see `custody log`".into(),
        _ => return None,
    })
}

/// The flag that gives a field, where one does.
fn flag(field: Field) -> Option<&'static str> {
    Some(match field {
        Field::Organisation => "--org",
        Field::Station => "--station",
        Field::Serial => "--serial",
        Field::AssetTag => "--asset-tag",
        Field::Label => "--label",
        Field::Model => "--model",
        Field::Owner => "--owner",
        Field::Location => "--location",
        Field::Capacity => "--capacity",
        Field::Count => "--count",
        Field::Counterparty => "--counterparty",
        Field::Purpose => "--purpose",
        Field::Method => "--method",
        Field::ConfirmedBy => "--by",
        Field::Content => "--content",
        Field::System => "--system",
        Field::What => "--what",
        Field::Reason => "--reason",
        Field::Destination => "--to",
        Field::Transport => "--transport",
        Field::Condition => "--condition",
        Field::Comment => "--comment",
        Field::Summary => "--summary",
        Field::BackdateReason => "--backdate-reason",
        Field::DestroyedBy => "--destroyed-by",
        Field::Vendor => "--vendor",
        Field::KeyName => "--name",
        Field::Recipient => "--to",
        Field::RetentionClass => "--class",
        Field::Basis => "--basis",
        Field::Years => "--years",
        Field::BaseClass => "--like",
        _ => return None,
    })
}
