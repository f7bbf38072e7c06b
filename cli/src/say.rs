//! Errors from `custody-core` in the words of the person's language (see
//! [`crate::i18n`]). A variant not worded here yet reads as core's own English.

use custody_core::{Denial, Done, Error, Field, RecordKind, Rule, Step};

use crate::i18n::t;

/// The error in the language of messages, when the catalogue words it.
pub fn error(error: &Error) -> Option<String> {
    Some(match error {
        Error::NoHome(path) => t!("no-home", path = path.display()),
        Error::NoHomePlace => t!("no-home-place"),
        Error::HomeExists(path) => t!("home-exists", path = path.display()),
        Error::DatabaseTooNew {
            path,
            found,
            supported,
        } => t!(
            "database-too-new",
            path = path.display(),
            found = found,
            supported = supported
        ),
        Error::WeakPassphrase { why } => t!("weak-passphrase", why = why),
        Error::NotAllowed {
            actor,
            action,
            reason,
        } => t!(
            "not-allowed",
            actor = actor,
            action = action,
            reason = denial(reason)?
        ),
        Error::BadValue { field, value, rule } => bad_value(*field, value, rule),
        Error::BothGiven { first, second } => {
            t!("both-given", first = field(*first), second = field(*second))
        }
        Error::Duplicate {
            field: which,
            value,
            existing,
        } => t!(
            "duplicate",
            field = field(*which),
            value = value,
            existing = existing
        ),
        Error::NoSuchRecord { kind, id } => {
            t!("no-such-record", what = record_kind(*kind), id = id)
        }
        Error::AlreadyDone { id, act } => t!("already-done", id = id, act = done(act)?),
        Error::NotDone { id, step } => t!("not-done", id = id, step = not_done(*step)?),
        Error::Unavailable { id, status, action } => t!(
            "unavailable",
            id = id,
            status = word("status", status),
            action = word("action", &action.replace(' ', "-"))
        ),
        Error::NeedsPasswordChannel { to } => t!(
            "needs-password-channel",
            to = to,
            channels = custody_core::send::PasswordChannel::WORDS.join(", ")
        ),
        Error::NeedsTerminal => t!("needs-terminal"),
        Error::NoPassphrase { to } => t!("no-passphrase", to = to),
        Error::UnknownActor { uid } => t!("unknown-actor", uid = uid),
        Error::OutputExists { path } => t!("output-exists", path = path.display()),
        _ => return None,
    })
}

/// Why something is not allowed, when the catalogue words it.
pub fn denial(reason: &Denial) -> Option<String> {
    Some(match reason {
        Denial::NotRegistered => t!("denial-not-registered"),
        Denial::AuditorReadsOnly => t!("denial-auditor-reads-only"),
        Denial::NeedsRole { roles, has } => {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            t!("denial-needs-role", roles = names.join(" / "), has = has)
        }
        Denial::TwoPersonRule => t!("denial-two-person-rule"),
        Denial::NotApproved { request, requester } => {
            t!(
                "denial-not-approved",
                request = request,
                requester = requester
            )
        }
        Denial::ApprovalUsed { request, used_by } => {
            t!("denial-approval-used", request = request, used = used_by)
        }
        Denial::RequestedByOther { request, requester } => t!(
            "denial-requested-by-other",
            request = request,
            requester = requester
        ),
        Denial::OwnWork => t!("denial-own-work"),
        Denial::Unencrypted { request } => t!("denial-unencrypted", request = request),
        _ => return None,
    })
}

/// A field's name: `field-` and its English words, hyphenated.
fn field(field: Field) -> String {
    named(field.words())
}

fn record_kind(kind: RecordKind) -> String {
    named(kind.words())
}

/// What English `words` name, from `field-WORDS` (hyphenated), or the words
/// themselves when the catalogue lacks it.
fn named(words: &str) -> String {
    let id = format!("field-{}", words.replace(' ', "-").replace('\'', ""));
    crate::i18n::lookup(crate::i18n::lang(), &id).unwrap_or_else(|| words.to_owned())
}

fn bad_value(which: Field, value: &str, rule: &Rule) -> String {
    let field = field(which);
    match rule {
        Rule::OneLine { max } => t!("bad-value-one-line", field = field, max = max),
        Rule::OneOf(words) => t!(
            "bad-value-one-of",
            value = value,
            field = field,
            words = words.join(", ")
        ),
        Rule::Like(example) => t!(
            "bad-value-like",
            value = value,
            field = field,
            example = example
        ),
        Rule::Range { min, max } => t!("bad-value-range", field = field, min = min, max = max),
        Rule::Length { min, max } => {
            t!("bad-value-length", field = field, min = min, max = max)
        }
        Rule::NoControl => t!("bad-value-no-control", field = field, value = value),
        Rule::Described(how) => t!(
            "bad-value-described",
            value = value,
            field = field,
            how = how
        ),
        Rule::Backwards => t!("bad-value-backwards", field = field, value = value),
        _ => format!(
            "{}",
            Error::BadValue {
                field: which,
                value: value.to_owned(),
                rule: rule.clone(),
            }
        ),
    }
}

/// A word of a closed set (`status-in-stock`, `action-carried-out`), or the word
/// itself when the catalogue lacks it.
fn word(set: &str, word: &str) -> String {
    crate::i18n::lookup(crate::i18n::lang(), &format!("{set}-{word}"))
        .unwrap_or_else(|| word.to_owned())
}

fn done(act: &Done) -> Option<String> {
    let who = |by: &Option<String>| by.clone().unwrap_or_else(|| "?".into());
    Some(match act {
        Done::Deleted { at } => t!("done-deleted", at = at),
        Done::Confirmed { by, at } => t!("done-confirmed", by = who(by), at = at),
        Done::Decided { state, by, at } => t!(
            "done-decided",
            state = word("state", state.as_str()),
            by = who(by),
            at = at.map_or_else(|| "?".to_owned(), |t| t.to_string())
        ),
        Done::CarriedOut { at } => t!("done-carried-out", at = at),
        Done::Returned { at } => t!("done-returned", at = at),
        Done::Retired { reason } => t!("done-retired", reason = reason),
        Done::Disposed { at: Some(at) } => t!("done-disposed-at", at = at),
        Done::Disposed { at: None } => t!("done-disposed"),
        Done::Held { reason } => t!("done-held", reason = reason),
        Done::SignedOff => t!("done-signed-off"),
        _ => return None,
    })
}

fn not_done(step: Step) -> Option<String> {
    Some(match step {
        Step::CarriedOut => t!("step-carried-out"),
        Step::Held => t!("step-held"),
        Step::Enrolled => t!("step-enrolled"),
        _ => return None,
    })
}
