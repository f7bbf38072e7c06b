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
        } => t!("hint-locked", path = looked.display()),
        Error::Locked { actor, .. } => t!("hint-no-key", actor = actor),
        Error::KeyNotValid { actor, why, .. } => match why {
            custody_core::KeyStanding::NotConfirmed => {
                t!("hint-key-not-confirmed", actor = actor)
            }
            custody_core::KeyStanding::NotTheirs => t!("hint-key-not-theirs", actor = actor),
            custody_core::KeyStanding::Revoked { .. } => t!("hint-key-revoked"),
            _ => return None,
        },
        Error::WeakPassphrase { .. } => t!("hint-weak-passphrase"),
        Error::PersonalKey {
            problem: custody_core::KeyProblem::WrongPassphrase,
            ..
        } => t!("hint-wrong-passphrase"),
        Error::PersonalKey {
            problem: custody_core::KeyProblem::Missing,
            ..
        } => t!("hint-key-missing"),
        Error::NotDone {
            step: Step::Enrolled,
            id,
        } => t!("hint-not-enrolled", id = id),
        Error::NotAllowed { actor, reason, .. } => denial(actor, reason)?,
        Error::NoSuchRecord { kind, id } => no_such_record(*kind, id)?,
        Error::Duplicate {
            field: Field::Contact,
            value,
            ..
        } => t!("hint-contact-exists", value = value),
        Error::NotDone {
            id,
            step: Step::CarriedOut,
        } => t!("hint-not-carried-out", id = id),
        Error::NotDone {
            step: Step::Approved(_),
            ..
        } => t!("hint-download-not-approved"),
        Error::NotDone {
            step: Step::Held, ..
        } => t!("hint-not-held"),
        Error::FiledElsewhere { kind } => match kind {
            RequestKind::Carryout => t!("hint-filed-elsewhere", command = "custody carryout new"),
            RequestKind::Download => t!("hint-filed-elsewhere", command = "custody download new"),
            _ => return None,
        },
        Error::WrongTrigger { event: false, .. } => t!("hint-wrong-trigger-since"),
        Error::WrongTrigger { event: true, .. } => t!("hint-wrong-trigger-event"),
        Error::ClassBase { exists: true, .. } => t!("hint-class-base-exists"),
        Error::ClassBase { exists: false, .. } => t!("hint-class-base-missing"),
        Error::BothGiven {
            first: Field::Files,
            second: Field::Medium,
        } => t!("hint-files-or-media"),
        Error::NeedsPasswordChannel { to } => {
            let channels = custody_core::send::PasswordChannel::WORDS.join("|");
            t!("hint-needs-password-channel", channels = channels, to = to)
        }
        Error::NeedsTerminal => t!("hint-needs-terminal"),
        Error::NoPassphrase { .. } => t!("hint-no-passphrase"),
        Error::SerialForSeveral => t!("hint-serial-for-several"),
        Error::FileChanged { missing: false, .. } => t!("hint-file-changed"),
        Error::NoFont { .. } => t!("hint-no-font"),
        Error::BadHead { .. } => t!("hint-bad-head"),
        Error::Config { problem, .. } => match problem {
            ConfigProblem::ClassDiffers { .. } => t!("hint-class-differs"),
            ConfigProblem::PersonNotInLedger { .. } => t!("hint-person-not-in-ledger"),
            _ => return None,
        },
        Error::BadValue {
            field: Field::Period,
            rule: Rule::Backwards,
            ..
        } => t!("hint-period-backwards"),
        Error::BadValue { field, .. } => t!("hint-check-flag", flag = flag(*field)?),
        Error::WontWrite { .. } => t!("hint-wont-write"),
        _ => return None,
    })
}

/// Advice for a refusal by role or rule.
fn denial(actor: &str, reason: &Denial) -> Option<String> {
    Some(match reason {
        Denial::NotRegistered => t!("hint-not-registered", actor = actor),
        Denial::NotApproved { request, .. } => t!("hint-not-approved", request = request),
        Denial::ApprovalRequired => t!("hint-approval-required"),
        Denial::Backdated { .. } => t!("hint-backdated"),
        Denial::OnHold { id, .. } => t!("hint-on-hold", id = id),
        Denial::EventMissing { id, .. } => t!("hint-event-missing", id = id),
        Denial::Unencrypted { request } => t!("hint-unencrypted", request = request),
        Denial::NoDisposalRequest { id } if id.starts_with("MD-") => {
            t!("hint-no-medium-disposal-request", id = id)
        }
        Denial::NoDisposalRequest { id } => t!("hint-no-disposal-request", id = id),
        Denial::Witness { .. } => t!("hint-witness"),
        Denial::MustDestroy { medium, .. } => t!("hint-must-destroy", medium = medium),
        Denial::VirusCheck { medium, .. } => t!("hint-virus-check", medium = medium),
        Denial::NoErasureProof { refused, .. } if refused.is_empty() => {
            t!("hint-no-erasure-proof")
        }
        _ => return None,
    })
}

/// Where to look for records of a kind.
fn no_such_record(kind: RecordKind, id: &str) -> Option<String> {
    let see = |command: &str| t!("hint-see", command = command);
    Some(match kind {
        RecordKind::Medium => see("custody media list"),
        RecordKind::Carryout => see("custody carryout list"),
        RecordKind::Handover => see("custody handover list"),
        RecordKind::Download => see("custody download list"),
        RecordKind::Request => see("custody requests"),
        RecordKind::Retained => see("custody retain list"),
        RecordKind::Certificate => see("custody cert list"),
        RecordKind::Transfer => t!("hint-no-transfer"),
        RecordKind::Contact => t!("hint-no-contact", id = id),
        RecordKind::Record => see("custody log"),
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
        Field::Place => "--place",
        Field::Photo => "--photo",
        Field::Title => "--title",
        Field::Origin => "--from",
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
