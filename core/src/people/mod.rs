//! People, their roles, and the rules every workflow shares: who may write, who may
//! approve, and the two-person rule.

pub mod access;
pub mod agent;
pub mod key;
pub mod passkey;
pub mod register;

use serde::Serialize;

use crate::error::{Denial, Error, Field, Result, Rule};

crate::vocab::vocabulary! {
    /// What a person does in the office.
    pub enum Role (crate::error::Field::Role) {
        /// 事務取扱担当者: handles personal data, sends and records.
        Clerk = "clerk",
        /// システム管理: wipes media, runs the station.
        It = "it",
        /// 保護責任者: approves carry-outs and disposals, checks certificates.
        Manager = "manager",
        /// 監査責任者: reads everything, writes nothing.
        Auditor = "auditor",
    }
}

impl Role {
    /// Whether the role oversees the office's records: managers (保護責任者) and
    /// auditors (監査責任者) read what needs attention, every register and the
    /// state of the ledger, wherever those are shown to people signed in (the desk).
    pub fn oversees(self) -> bool {
        matches!(self, Role::Manager | Role::Auditor)
    }

    /// Whether the role reads the office's whole registers (carry-outs, handovers,
    /// downloads, media, retention) where those are shown to people signed in: those
    /// who oversee them, and IT staff, who handle the media. A clerk reads the
    /// carry-outs and downloads they asked for.
    pub fn reads_registers(self) -> bool {
        self.oversees() || self == Role::It
    }
}

/// A registered person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The record id of their registration (`PE-3`).
    pub id: crate::ledger::RecordId,
    /// When they were registered.
    pub since: crate::clock::Timestamp,
}

/// Who is running this command, and what the ledger knows of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Their name: `$CUSTODY_ACTOR`, else the login name.
    pub name: String,
    /// Their role, when registered.
    pub role: Option<Role>,
}

/// Checks a person's name: not empty, at most 64 characters, no control characters.
pub fn check_name(name: &str) -> Result<()> {
    let len = name.chars().count();
    if name.trim().is_empty()
        || len > 64
        || name.chars().any(char::is_control)
        || name != name.trim()
    {
        return Err(Error::BadValue {
            field: Field::Person,
            value: name.to_owned(),
            rule: Rule::Described(
                "use 1 to 64 characters, without line breaks or surrounding spaces",
            ),
        });
    }
    Ok(())
}

/// A name as people are told apart: NFKC-normalised and case-folded, so that one
/// person's name spelled with a precomposed or a combining accent, in full-width
/// letters or in another case, is one name.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = name.nfkc().collect::<String>().to_lowercase();
    folded.nfkc().collect()
}

/// The confusable skeleton of a name (Unicode UTS #39): names that look alike —
/// a Latin letter swapped for its Cyrillic twin, `rn` for `m` — have the same one.
pub fn skeleton(name: &str) -> String {
    unicode_security::confusable_detection::skeleton(&name_key(name)).collect()
}

/// Why `name` may not be registered beside `existing`, if it may not: the same name
/// after normalisation and case folding, or a name that looks the same.
pub fn clash(name: &str, existing: &str) -> Option<&'static str> {
    if name_key(name) == name_key(existing) {
        Some("is the same name, spelled differently")
    } else if skeleton(name) == skeleton(existing) {
        Some("looks the same (its letters are confusable)")
    } else {
        None
    }
}

/// The actor's name from `$CUSTODY_ACTOR`, else the operating system's login name.
pub fn actor_name() -> Result<String> {
    if let Ok(name) = std::env::var("CUSTODY_ACTOR")
        && !name.is_empty()
    {
        check_name(&name)?;
        return Ok(name);
    }
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) => Ok(user.name),
        _ => Err(Error::UnknownActor { uid: uid.as_raw() }),
    }
}

impl Actor {
    /// Refuses unless the actor is registered with a role that may write records
    /// (everyone but auditors).
    pub fn require_writer(&self, action: &str) -> Result<Role> {
        match self.role {
            None => Err(Error::NotAllowed {
                actor: self.name.clone(),
                action: action.to_string(),
                reason: Box::new(Denial::NotRegistered),
            }),
            Some(Role::Auditor) => Err(Error::NotAllowed {
                actor: self.name.clone(),
                action: action.to_string(),
                reason: Box::new(Denial::AuditorReadsOnly),
            }),
            Some(role) => Ok(role),
        }
    }

    /// Refuses unless the actor has one of `roles`.
    pub fn require_role(&self, roles: &[Role], action: &str) -> Result<Role> {
        let role = self.require_writer(action)?;
        if roles.contains(&role) {
            return Ok(role);
        }
        Err(Error::NotAllowed {
            actor: self.name.clone(),
            action: action.to_string(),
            reason: Box::new(Denial::NeedsRole {
                roles: roles.to_vec(),
                has: role,
            }),
        })
    }

    /// The two-person rule: refuses unless the actor is a manager and not `requester`.
    pub fn require_approver(&self, requester: &str, action: &str) -> Result<()> {
        self.require_role(&[Role::Manager], action)?;
        if self.name == requester {
            return Err(Error::NotAllowed {
                actor: self.name.clone(),
                action: action.to_string(),
                reason: Box::new(Denial::TwoPersonRule),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(name: &str, role: Option<Role>) -> Actor {
        Actor {
            name: name.into(),
            role,
        }
    }

    #[test]
    fn unknown_people_and_auditors_cannot_write() {
        assert!(actor("x", None).require_writer("note").is_err());
        assert!(
            actor("x", Some(Role::Auditor))
                .require_writer("note")
                .is_err()
        );
        assert!(actor("x", Some(Role::Clerk)).require_writer("note").is_ok());
    }

    #[test]
    fn approver_is_a_manager_and_not_the_requester() {
        assert!(
            actor("a", Some(Role::Manager))
                .require_approver("a", "approve")
                .is_err()
        );
        assert!(
            actor("a", Some(Role::Clerk))
                .require_approver("b", "approve")
                .is_err()
        );
        assert!(
            actor("a", Some(Role::Manager))
                .require_approver("b", "approve")
                .is_ok()
        );
    }

    #[test]
    fn lookalike_and_differently_spelled_names_clash() {
        // Latin "a" and "o" swapped for their Cyrillic twins.
        assert!(clash("t\u{0430}nak\u{043e}", "tanako").is_some());
        assert!(clash("Jos\u{e9}", "Jose\u{301}").is_some());
        assert!(clash("SATO", "sato").is_some());
        assert!(clash("ｓａｔｏ", "sato").is_some());
        assert!(clash("sato", "saito").is_none());
        assert!(clash("佐藤", "斎藤").is_none());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("佐藤 花子").is_ok());
        for bad in ["", " sato", "sa\nto", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
