//! Errors from `custody-core` in the words of the person's language (see
//! [`crate::i18n`]). A variant not worded here yet reads as core's own English.

use custody_core::send::seal;
use custody_core::{
    ConfigProblem, Denial, Done, Error, Field, FileProblem, KeyProblem, KeyStanding, Nothing,
    RecordKind, Rule, Step,
};

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
        Error::WeakPassphrase { why } => t!("weak-passphrase", why = weakness(why)),
        Error::NotAllowed {
            actor,
            action,
            reason,
        } => t!(
            "not-allowed",
            actor = actor,
            action = crate::i18n::action(action),
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
        Error::Locked { actor, .. } => t!("error-locked", actor = actor),
        Error::KeyNotValid { actor, key_id, why } => t!(
            "error-key-not-valid",
            key_id = key_id,
            actor = actor,
            why = key_standing(why)?
        ),
        Error::PersonalKey { path, problem } => personal_key(path, problem)?,
        Error::ClockBehind { now, last } => t!("error-clock-behind", now = now, last = last),
        Error::NameClash {
            name,
            why,
            existing,
            role,
        } => {
            let why = match *why {
                "is the same name, spelled differently" => t!("error-name-clash-spelled"),
                "looks the same (its letters are confusable)" => {
                    t!("error-name-clash-confusable")
                }
                _ => return None,
            };
            t!(
                "error-name-clash",
                name = format!("{name:?}"),
                why = why,
                existing = format!("{existing:?}"),
                role = word("role", role.as_str())
            )
        }
        Error::InLine { line, error: inner } => {
            let inner = self::error(inner).unwrap_or_else(|| english(inner));
            t!("error-in-line", line = line, error = inner)
        }
        Error::WrongKind { id, kind, expected } => t!(
            "error-wrong-kind",
            id = id,
            kind = request_words(kind),
            expected = request_words(expected)
        ),
        Error::FiledElsewhere { kind } => t!(
            "error-filed-elsewhere",
            kind = word("request-kind", kind.as_str())
        ),
        Error::WrongTrigger { class, event: true } => {
            t!("error-wrong-trigger-event", class = class)
        }
        Error::WrongTrigger {
            class,
            event: false,
        } => t!("error-wrong-trigger-registration", class = class),
        Error::ClassBase { name, exists: true } => t!("error-class-base-exists", name = name),
        Error::ClassBase {
            name,
            exists: false,
        } => t!("error-class-base-new", name = name),
        Error::UnsupportedFile { path, problem } => unsupported_file(path, problem)?,
        Error::Nothing { what } => match what {
            Nothing::ToRetain => t!("error-nothing-to-retain"),
            Nothing::ToWipe => t!("error-nothing-to-wipe"),
            Nothing::ToUpdate => t!("error-nothing-to-update"),
            Nothing::ToAcknowledge => t!("error-nothing-to-acknowledge"),
            _ => return None,
        },
        Error::FileChanged {
            path,
            missing: true,
        } => t!("error-file-missing", path = path),
        Error::FileChanged {
            path,
            missing: false,
        } => t!("error-file-changed", path = path),
        Error::ChangedMeanwhile { id } => t!("error-changed-meanwhile", id = id),
        // The wipe engine's error that stopped it follows, in its own words.
        Error::DisposalFailed {
            id,
            path,
            shredded,
            total,
            ..
        } => {
            t!(
                "error-disposal-failed",
                id = id,
                path = path,
                shredded = shredded,
                total = total
            ) + &causes(error)
        }
        Error::SerialForSeveral => t!("error-serial-for-several"),
        Error::HiddenArea {
            path,
            state,
            visible,
            real,
        } => t!(
            "error-hidden-area",
            path = path.display(),
            state = state.to_uppercase(),
            visible = visible,
            real = real
        ),
        Error::CannotResume { reference, why } => t!(
            "error-cannot-resume",
            reference = reference,
            why = resume_problem(why)
        ),
        Error::ResumeDevice {
            reference,
            path,
            why,
        } => t!(
            "error-resume-device",
            reference = reference,
            path = path.display(),
            why = device_change(why)
        ),
        Error::SerialMismatch { path, read, given } => t!(
            "error-serial-mismatch",
            path = path.display(),
            read = read,
            given = given
        ),
        Error::VendorReceipt { id, folder } => {
            t!("error-vendor-receipt", id = id, folder = folder.display())
        }
        Error::OwnKey => t!("error-own-key"),
        Error::DataHome {
            path,
            inside: Some(file),
            ..
        } => t!(
            "error-data-home-file",
            path = path.display(),
            file = file.display()
        ),
        Error::DataHome {
            path,
            home,
            inside: None,
        } => t!(
            "error-data-home",
            path = path.display(),
            home = home.display()
        ),
        Error::NoFont { named: Some(path) } => t!("error-no-font-named", path = path.display()),
        Error::NoFont { named: None } => t!("error-no-font"),
        Error::BadFont { path } => t!("error-bad-font", path = path.display()),
        Error::Render { id, problem } => t!("error-render", id = id, problem = problem),
        // The JSON parser's words follow.
        Error::Unreadable { what, .. } => match what.strip_prefix("certificate ") {
            Some(id) => t!("error-unreadable-certificate", id = id) + &causes(error),
            None => return None,
        },
        Error::BadHead { why } => t!(
            "error-bad-head",
            why = crate::i18n::reword("bad-head-", why)
        ),
        Error::ProjectionsDiffer { rows } => t!(
            "error-projections-differ",
            count = rows.len(),
            rows = rows
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        Error::WontWrite { seq, problem } => {
            t!(
                "error-wont-write",
                seq = seq,
                problem = crate::i18n::reword("breach-", problem)
            )
        }
        Error::Tampered { seq, problem } => t!(
            "error-tampered",
            seq = seq,
            problem = crate::i18n::reword("breach-", problem)
        ),
        // The database's words follow.
        Error::Storage { path, .. } => t!("error-storage", path = path.display()) + &causes(error),
        Error::Config { path, problem } => config(path, problem)?,
        Error::Key { path, problem } => {
            t!(
                "error-station-key",
                path = path.display(),
                problem = problem
            )
        }
        // The operating system's or age's words follow (`Seal` is transparent: its
        // causes are the inner error's).
        Error::Seal(inner) => seal(inner)? + &causes(error),
        // The operating system's words follow, when an i/o error is the cause.
        Error::Wipe(inner) => wipe(inner)? + &causes(error),
        _ => return None,
    })
}

/// Core's English for an error the catalogue does not word, with its causes (as the
/// command line prints such an error).
fn english(error: &Error) -> String {
    format!("{error}{}", causes(error))
}

/// What `error` was caused by, the way the command line prints a chain of causes
/// after an error (`: cause: its cause`): the words of the operating system, the
/// database or a library, which the catalogue does not hold.
fn causes(error: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut next = error.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// Where a key stands in the people register, when the catalogue words it.
fn key_standing(why: &KeyStanding) -> Option<String> {
    Some(match why {
        KeyStanding::NotRegistered => t!("error-key-standing-not-registered"),
        KeyStanding::NotTheirs => t!("error-key-standing-not-theirs"),
        KeyStanding::NotConfirmed => t!("error-key-standing-not-confirmed"),
        KeyStanding::Revoked { seq, reason } => {
            t!("error-key-standing-revoked", seq = seq, reason = reason)
        }
        KeyStanding::Removed { seq } => t!("error-key-standing-removed", seq = seq),
        _ => return None,
    })
}

/// Why a wipe cannot be resumed.
fn resume_problem(why: &custody_core::erasure::ResumeProblem) -> String {
    use custody_core::erasure::ResumeProblem;
    match why {
        ResumeProblem::TargetCount { left } => t!("resume-why-target-count", left = left),
        other => crate::i18n::lookup(crate::i18n::lang(), &format!("resume-why-{}", other.code()))
            .unwrap_or_else(|| other.to_string()),
    }
}

/// How a device differs from the one a resumed wipe was writing.
fn device_change(why: &custody_core::erasure::DeviceChange) -> String {
    use custody_core::erasure::DeviceChange;
    match why {
        DeviceChange::Size { was, now } => t!("resume-changed-size", was = was, now = now),
        DeviceChange::Identity { was, now } => t!(
            "resume-changed-identity",
            was = was.as_str(),
            now = now.as_str()
        ),
        DeviceChange::Backing { was, now } => t!(
            "resume-changed-backing",
            was = was.as_str(),
            now = now.as_str()
        ),
        DeviceChange::Written { pass, offset } => {
            t!("resume-changed-written", pass = pass, offset = offset)
        }
        DeviceChange::Journal => t!("resume-changed-journal"),
        other => other.to_string(),
    }
}

/// What is wrong with a personal key file, when the catalogue words it.
fn personal_key(path: &std::path::Path, problem: &KeyProblem) -> Option<String> {
    let path = path.display();
    Some(match problem {
        KeyProblem::Missing => t!("error-personal-key-missing", path = path),
        KeyProblem::WrongPassphrase => t!("error-personal-key-wrong-passphrase", path = path),
        KeyProblem::NotAKey(why) => t!("error-personal-key-not-a-key", path = path, why = why),
        KeyProblem::NotEncrypted => t!("error-personal-key-not-encrypted", path = path),
        KeyProblem::Generate(why) => t!("error-personal-key-failed", path = path, why = why),
        _ => return None,
    })
}

/// A request's kind as core words it for a record ("send request"), in the language
/// of messages; other words as they are.
fn request_words(words: &str) -> String {
    match words.strip_suffix(" request") {
        Some(kind) => t!(
            "error-wrong-kind-request",
            kind = word("request-kind", kind)
        ),
        None => words.to_owned(),
    }
}

/// A path that is not a file custody handles, when the catalogue words why.
fn unsupported_file(path: &std::path::Path, problem: &FileProblem) -> Option<String> {
    let path = path.display();
    Some(match problem {
        FileProblem::Symlink => t!("error-file-symlink", path = path),
        FileProblem::SymlinkInside { folder } => t!(
            "error-file-symlink-inside",
            path = path,
            folder = folder.display()
        ),
        FileProblem::NotRegular => t!("error-file-not-regular", path = path),
        FileProblem::NotUtf8 => t!("error-file-not-utf8", path = path),
        FileProblem::Empty => t!("error-file-empty", path = path),
        _ => return None,
    })
}

/// What is wrong with the configuration file, when the catalogue words it.
fn config(path: &std::path::Path, problem: &ConfigProblem) -> Option<String> {
    let path = path.display();
    Some(match problem {
        ConfigProblem::Syntax(message) => {
            t!("error-config-syntax", path = path, message = message)
        }
        ConfigProblem::ClassTooShort {
            name,
            years,
            floor,
            basis,
        } => t!(
            "error-config-class-too-short",
            path = path,
            name = name,
            years = years,
            floor = floor,
            basis = basis
        ),
        ConfigProblem::ClassTrigger { name, event: true } => {
            t!("error-config-class-trigger-event", path = path, name = name)
        }
        ConfigProblem::ClassTrigger { name, event: false } => t!(
            "error-config-class-trigger-registration",
            path = path,
            name = name
        ),
        ConfigProblem::ClassIncomplete { name } => {
            t!("error-config-class-incomplete", path = path, name = name)
        }
        ConfigProblem::ClassDiffers { name } => {
            t!("error-config-class-differs", path = path, name = name)
        }
        ConfigProblem::PersonNotInLedger { name, role } => t!(
            "error-config-person-not-in-ledger",
            path = path,
            name = name,
            role = word("role", role)
        ),
        ConfigProblem::Setting { name, problem } => t!(
            "error-config-setting",
            path = path,
            name = name,
            problem = problem
        ),
        _ => return None,
    })
}

/// Sealing or opening that failed or was refused, when the catalogue words it (its
/// causes are added by the caller).
fn seal(error: &seal::Error) -> Option<String> {
    use custody_core::send::seal::Error as Seal;
    Some(match error {
        Seal::Io { path, .. } => t!("seal-io", path = path.display()),
        Seal::NoInput => t!("seal-no-input"),
        Seal::UnsupportedInput { path, reason } => t!(
            "seal-unsupported-input",
            path = path.display(),
            reason = reason
        ),
        Seal::DuplicateName { name } => t!("seal-duplicate-name", name = format!("{name:?}")),
        Seal::OutputInsideInput { output, input } => t!(
            "seal-output-inside-input",
            output = output.display(),
            input = input.display()
        ),
        Seal::OutputExists { path } => t!("seal-output-exists", path = path.display()),
        Seal::InputChanged { path } => t!("seal-input-changed", path = path.display()),
        Seal::InvalidRecipient { origin, reason } => t!(
            "seal-invalid-recipient",
            origin = recipient_origin(origin),
            reason = reason
        ),
        Seal::NoRecipients => t!("seal-no-recipients"),
        Seal::Encrypt(_) => t!("seal-encrypt"),
        Seal::InvalidIdentity { path, reason } => t!(
            "seal-invalid-identity",
            path = path.display(),
            reason = reason
        ),
        Seal::PassphraseRequired { path } => {
            t!("seal-passphrase-required", path = path.display())
        }
        Seal::IdentityRequired { path } => t!("seal-identity-required", path = path.display()),
        Seal::WrongKey { path } => t!("seal-wrong-key", path = path.display()),
        Seal::WrongPassphrase { path } => t!("seal-wrong-passphrase", path = path.display()),
        Seal::ExcessiveWork {
            path,
            required,
            max,
            memory_mib,
            max_memory_mib,
        } => t!(
            "seal-excessive-work",
            path = path.display(),
            required = required,
            memory = memory_mib,
            max = max,
            max_memory = max_memory_mib
        ),
        Seal::HeaderTooLarge { path, limit } => {
            let limit = match limit.strip_suffix(" recipient stanzas") {
                Some(count) => t!("seal-limit-stanzas", count = count),
                None => limit.clone(),
            };
            t!(
                "seal-header-too-large",
                path = path.display(),
                limit = limit
            )
        }
        Seal::InvalidFile { path, detail } => {
            t!("seal-invalid-file", path = path.display(), detail = detail)
        }
        Seal::Corrupted { path, .. } => t!("seal-corrupted", path = path.display()),
        Seal::UnsafeEntry { entry, reason } => t!(
            "seal-unsafe-entry",
            entry = format!("{entry:?}"),
            reason = reason
        ),
        Seal::Interrupted => t!("seal-interrupted"),
        Seal::ManifestMismatch { entry, reason } => t!(
            "seal-manifest-mismatch",
            entry = format!("{entry:?}"),
            reason = reason
        ),
        _ => return None,
    })
}

/// Where a recipient that is not a public key came from, as core words it
/// (`argument`, `contact NAME`, `FILE line N`…), in the language of messages.
fn recipient_origin(origin: &str) -> String {
    match origin {
        "argument" => t!("seal-origin-argument"),
        "the keys given" => t!("seal-origin-keys-given"),
        "identity" => t!("seal-origin-identity"),
        _ => {
            if let Some(name) = origin.strip_prefix("contact ") {
                t!("seal-origin-contact", name = name)
            } else if let Some((file, line)) = origin.rsplit_once(" line ")
                && line.parse::<usize>().is_ok()
            {
                t!("seal-origin-line", file = file, line = line)
            } else {
                origin.to_owned()
            }
        }
    }
}

/// Why something is not allowed, when the catalogue words it.
pub fn denial(reason: &Denial) -> Option<String> {
    Some(match reason {
        Denial::NotRegistered => t!("denial-not-registered"),
        Denial::AuditorReadsOnly => t!("denial-auditor-reads-only"),
        Denial::NeedsRole { roles, has } => {
            let names: Vec<String> = roles
                .iter()
                .map(|r| crate::i18n::word("role", r.as_str()))
                .collect();
            t!(
                "denial-needs-role",
                roles = names.join(" / "),
                has = crate::i18n::word("role", has.as_str())
            )
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
        Denial::SameChecker => t!("denial-same-checker"),
        Denial::VirusCheck {
            medium,
            found: None,
        } => t!("denial-no-virus-check", medium = medium),
        Denial::VirusCheck {
            medium,
            found: Some(found),
        } => t!("denial-virus-found", medium = medium, found = found),
        Denial::Unencrypted { request } => t!("denial-unencrypted", request = request),
        Denial::Unaccounted { serials } => {
            t!("denial-unaccounted", serials = serials.join(", "))
        }
        Denial::MustDestroy { medium, class } => t!(
            "denial-must-destroy",
            medium = medium,
            class = crate::i18n::word("data-class", class)
        ),
        Denial::Witness { witness: None } => t!("denial-no-witness"),
        Denial::Witness {
            witness: Some(witness),
        } => t!("denial-witness", witness = witness),
        Denial::Rejected {
            request,
            by,
            note: Some(note),
        } => t!(
            "denial-rejected",
            request = request,
            by = by.clone().unwrap_or_else(|| t!("denial-a-manager")),
            note = note
        ),
        Denial::Rejected {
            request,
            by,
            note: None,
        } => t!(
            "denial-rejected-no-note",
            request = request,
            by = by.clone().unwrap_or_else(|| t!("denial-a-manager"))
        ),
        Denial::ApprovalRequired => t!("denial-approval-required"),
        Denial::Backdated { before } => t!("denial-backdated", before = before),
        Denial::ClassShortened { years, basis } => {
            t!("denial-class-shortened", years = years, basis = basis)
        }
        Denial::ShorterThanBase { base, years, basis } => t!(
            "denial-shorter-than-base",
            base = base,
            years = years,
            basis = basis
        ),
        Denial::OnHold { reason, by, .. } => t!(
            "denial-on-hold",
            reason = reason,
            by = by.clone().unwrap_or_else(|| t!("denial-a-manager"))
        ),
        Denial::NotDue { until, basis } => t!("denial-not-due", until = until, basis = basis),
        Denial::EventMissing { class, years, .. } => {
            t!("denial-event-missing", class = class, years = years)
        }
        Denial::NoDisposalRequest { .. } => t!("denial-no-disposal-request"),
        Denial::NoErasureProof { serial, refused } if refused.is_empty() => {
            t!("denial-no-erasure-certificate", serial = serial)
        }
        Denial::NoErasureProof { serial, refused } => {
            let why: Vec<String> = refused.iter().map(|(c, w)| format!("{c}: {w}")).collect();
            t!(
                "denial-no-erasure-proof",
                serial = serial,
                why = why.join("; ")
            )
        }
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
            example = rule_words(example)
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
            how = rule_words(how)
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

/// How a value is written or what it must be, as core words a rule (`Rule::Like`,
/// `Rule::Described`), in the language of messages; words the catalogue lacks as
/// they are.
fn rule_words(words: &str) -> String {
    match words {
        "use 1 to 40 lower-case letters, digits and hyphens" => t!("rule-class-name"),
        "it is already past; give a return deadline in the future" => {
            t!("rule-return-deadline-past")
        }
        "it is not the id of the key this person enrolled; ask them to read it out again" => {
            t!("rule-key-id-not-enrolled")
        }
        "use 1 to 64 characters, without line breaks or surrounding spaces" => {
            t!("rule-person-name")
        }
        "2026-12-01, 2026/12/01, 2026年12月1日, 令和8年12月1日 or R8.12.1" => {
            t!("rule-date-forms")
        }
        "2026-04-01 or 2026/4/1 or 令和8年4月1日 (a date), 2026/4/1 17:00 (local time) or 2026-04-01T08:00:00Z" =>
        {
            t!("rule-time-forms")
        }
        "the label: 16GB, 500G, 1TB, 64GiB" => t!("rule-capacity"),
        "CO-12 or TX-4" => t!("rule-record-id"),
        _ => words.to_owned(),
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
        Done::Lost { at } => t!("done-lost", at = at),
        Done::Retired { reason } => t!("done-retired", reason = reason),
        Done::Disposed { at: Some(at) } => t!("done-disposed-at", at = at),
        Done::Disposed { at: None } => t!("done-disposed"),
        Done::Held { reason } => t!("done-held", reason = reason),
        Done::SignedOff => t!("done-signed-off"),
        Done::Closed { at } => t!("done-closed", at = at),
        Done::EventDated { date } => t!("done-event-dated", date = date),
        Done::DisposalRequested { request, state } => t!(
            "done-disposal-requested",
            request = request,
            state = word("state", state.as_str())
        ),
        Done::Trusted => t!("done-trusted"),
        Done::Removed { seq } => t!("done-removed", seq = seq),
        Done::HasRole { role } => t!("done-has-role", role = word("role", role.as_str())),
        _ => return None,
    })
}

fn not_done(step: Step) -> Option<String> {
    Some(match step {
        Step::CarriedOut => t!("step-carried-out"),
        Step::Held => t!("step-held"),
        Step::Disposed => t!("step-disposed"),
        Step::Enrolled => t!("step-enrolled"),
        Step::Approved(state) => t!("step-approved", state = word("state", state.as_str())),
        _ => return None,
    })
}

/// What the wipe engine refused or could not do, when the catalogue words it (its
/// causes are added by the caller).
fn wipe(error: &custody_wipe::Error) -> Option<String> {
    use custody_wipe::Error as Wipe;
    Some(match error {
        Wipe::System { what, .. } => t!(
            "wipe-system",
            what = word("wipe-system", &what.replace(' ', "-"))
        ),
        Wipe::Io { action, path, .. } => {
            let path = path.display();
            match *action {
                "open" => t!("wipe-io-open", path = path),
                "examine" => t!("wipe-io-examine", path = path),
                "resolve" => t!("wipe-io-resolve", path = path),
                "measure" => t!("wipe-io-measure", path = path),
                "rename" => t!("wipe-io-rename", path = path),
                "truncate" => t!("wipe-io-truncate", path = path),
                "flush" => t!("wipe-io-flush", path = path),
                "unlink" => t!("wipe-io-unlink", path = path),
                "read back" => t!("wipe-io-read-back", path = path),
                "flush directory" => t!("wipe-io-flush-directory", path = path),
                _ => return None,
            }
        }
        Wipe::UnknownMethod { name, known } => t!(
            "wipe-unknown-method",
            name = format!("{name:?}"),
            known = known
        ),
        Wipe::PassesNotAllowed { method } => t!("wipe-passes-not-allowed", method = method),
        Wipe::BadPassCount { passes, max } => {
            t!("wipe-bad-pass-count", max = max, passes = passes)
        }
        Wipe::Refused { path, reasons } => t!(
            "wipe-refused",
            path = path.display(),
            reasons = refusals(reasons)?
        ),
        Wipe::TargetsRefused { refused, total } => {
            let mut list = Vec::new();
            for (path, reasons) in refused {
                list.push(format!("{}: {}", path.display(), refusals(reasons)?));
            }
            t!(
                "wipe-targets-refused",
                count = refused.len(),
                total = total,
                list = list.join(" | ")
            )
        }
        Wipe::NotShreddable { path, reason } => {
            let reason = match *reason {
                "it is a symbolic link" => t!("wipe-not-shreddable-symlink"),
                "it is not a regular file" => t!("wipe-not-shreddable-not-regular"),
                "it has other hard links" => t!("wipe-not-shreddable-hard-links"),
                "it was replaced while being checked" => t!("wipe-not-shreddable-replaced"),
                other => other.to_owned(),
            };
            t!(
                "wipe-not-shreddable",
                path = path.display(),
                reason = reason
            )
        }
        Wipe::ShredPass { path, pass, .. } => {
            t!("wipe-shred-pass", path = path.display(), pass = pass)
        }
        Wipe::ShredMismatch { path, offset } => t!(
            "wipe-shred-mismatch",
            path = path.display(),
            offset = offset
        ),
        Wipe::StillPresent { path } => t!("wipe-still-present", path = path.display()),
        Wipe::Seed(why) => t!("wipe-seed", why = why),
        _ => return None,
    })
}

/// Every reason a target may not be wiped, in the language of messages, or None
/// when the catalogue lacks one of them.
fn refusals(reasons: &[custody_wipe::Refusal]) -> Option<String> {
    let words: Option<Vec<String>> = reasons.iter().map(refusal).collect();
    Some(words?.join(t!("wipe-reason-separator").as_str()))
}

/// Why a target may not be wiped: what the IT person reads before a disk is touched.
pub fn refusal(reason: &custody_wipe::Refusal) -> Option<String> {
    use custody_wipe::Refusal;
    Some(match reason {
        Refusal::Mounted { what, mountpoint } => {
            t!("refusal-mounted", what = what, mountpoint = mountpoint)
        }
        Refusal::HoldsRunningSystem { mountpoint } => {
            t!("refusal-holds-running-system", mountpoint = mountpoint)
        }
        Refusal::Swap { what } => t!("refusal-swap", what = what),
        Refusal::HeldBy { holders } => t!("refusal-held-by", holders = holders.join(", ")),
        Refusal::ReadOnly => t!("refusal-read-only"),
        Refusal::Busy => t!("refusal-busy"),
        Refusal::CannotOpen { errno } => t!(
            "refusal-cannot-open",
            why = std::io::Error::from_raw_os_error(*errno)
        ),
        Refusal::NotBlockDevice { kind } => t!(
            "refusal-not-block-device",
            kind = word("refusal-kind", &kind.replace(' ', "-"))
        ),
        Refusal::Unknown => t!("refusal-unknown"),
        Refusal::Empty => t!("refusal-empty"),
        Refusal::Duplicate { of } => t!("refusal-duplicate", of = of.display()),
        Refusal::Overlaps { of } => t!("refusal-overlaps", of = of.display()),
        Refusal::DataHome { what, file } => {
            t!("refusal-data-home", what = what, file = file.display())
        }
        Refusal::OpenForWriting { what, pid, command } => t!(
            "refusal-open-for-writing",
            what = what,
            pid = pid,
            command = command
        ),
        Refusal::Changed => t!("refusal-changed"),
        _ => return None,
    })
}

/// Why a passphrase is too weak. Core says it in English ("it has 8 characters; use
/// at least 12 …", "it is too easy to guess (zxcvbn's warning); suggestions"); in
/// Japanese the length is worded with its figures and a guessable one as such
/// (zxcvbn's own advice exists only in English).
fn weakness(why: &str) -> String {
    if crate::i18n::lang() != custody_core::Lang::Ja {
        return why.to_owned();
    }
    let short = why
        .strip_prefix("it has ")
        .and_then(|rest| rest.split_once(" characters; use at least "))
        .and_then(|(chars, rest)| Some((chars, rest.split_once(' ')?.0)));
    match short {
        Some((chars, min)) => t!("weak-short", chars = chars, min = min),
        None if why.starts_with("it is too easy to guess") => t!("weak-guessable"),
        None => why.to_owned(),
    }
}
