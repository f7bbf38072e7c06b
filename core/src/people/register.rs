//! The people register's acts: enrolling and confirming personal keys, unlocking a
//! station for the person at the keyboard, roles, departments, removal.
//!
//! Whether a key may sign for a person is decided from the proven entries that
//! enrolled, confirmed and revoked it ([`Station::key_standing`]), never from the
//! `person_keys` table alone.

use serde::Serialize;
use serde_json::json;

use super::Role;
use super::key::{PersonalKey, Signer};
use crate::error::{Denial, Error, Field, KeyStanding, Result, Rule};
use crate::ledger::store::{Query, args};
use crate::ledger::{Entry, RecordId, prove};
use crate::station::Station;

/// Where a person's keys stand, as `people list` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonKeys {
    /// The key that signs for them now, if any.
    pub key_id: Option<String>,
    /// A key enrolled and waiting for a manager's confirmation, if any.
    pub pending: Option<String>,
}

/// One person as the people register holds them, for `people list` and the ID
/// register (002 様式1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their department, if recorded.
    pub department: Option<String>,
    /// The record id of their registration.
    pub id: RecordId,
    /// When they were registered.
    pub since: crate::clock::Timestamp,
    /// When they were removed, if they were.
    pub removed: Option<crate::clock::Timestamp>,
    /// Why they were removed.
    pub removed_reason: Option<String>,
    /// Their keys.
    pub keys: PersonKeys,
}

impl Registered {
    /// `active`, `removed`, `no key`, or `key not confirmed`.
    pub fn status(&self) -> &'static str {
        if self.removed.is_some() {
            "removed"
        } else if self.keys.key_id.is_some() {
            "active"
        } else if self.keys.pending.is_some() {
            "key not confirmed"
        } else {
            "no key"
        }
    }
}

/// A key as the proven entries make it.
struct KeyFacts {
    key_id: String,
    public_key: String,
    confirmed: bool,
    revoked: Option<(i64, String)>,
}

/// A passkey as the proven entries make it.
pub(crate) struct PasskeyFacts {
    /// The entry that enrolled it.
    pub(crate) seq: i64,
    pub(crate) key: super::passkey::PasskeyKey,
    /// The entry that revoked it, and why.
    pub(crate) revoked: Option<(i64, String)>,
    /// Whether a manager must confirm it before it signs (its invitation said so).
    pub(crate) needs_confirm: bool,
    /// The entry that confirmed it.
    pub(crate) confirmed: Option<i64>,
}

impl PasskeyFacts {
    /// Whether it may sign now: not revoked, and confirmed if it must be.
    pub(crate) fn stands(&self) -> bool {
        self.revoked.is_none() && (!self.needs_confirm || self.confirmed.is_some())
    }
}

/// What the proven entries say of one person: their keys in order, and their removal.
#[derive(Default)]
pub(crate) struct PersonFacts {
    keys: Vec<KeyFacts>,
    /// Their passkeys, in the order they were enrolled.
    pub(crate) passkeys: Vec<PasskeyFacts>,
    pub(crate) removed: Option<i64>,
}

impl PersonFacts {
    /// Whether a personal key with this id and this public key (minisign, base64) was
    /// enrolled for the person.
    pub(crate) fn holds_key(&self, key_id: &str, public_key: &str) -> bool {
        let same = |a: &str, b: &str| match (
            crate::keys::StationPublicKey::parse(a),
            crate::keys::StationPublicKey::parse(b),
        ) {
            (Ok(a), Ok(b)) => a.to_base64() == b.to_base64(),
            _ => false,
        };
        self.keys
            .iter()
            .any(|k| k.key_id == key_id && same(&k.public_key, public_key))
    }
}

pub(crate) fn facts_of(entries: &[Entry], name: &str) -> PersonFacts {
    let mut facts = PersonFacts::default();
    // The invitations that ask for a manager's confirmation of what they enrol.
    let mut confirming = std::collections::BTreeSet::new();
    for e in entries {
        let key_id = prove::field(e, "key_id").unwrap_or_default();
        match e.kind.as_str() {
            "init" if e.actor == name => {
                if let Some(key) = e.payload.as_ref().and_then(|p| p.get("manager_key")) {
                    facts.keys.push(KeyFacts {
                        key_id: key["key_id"].as_str().unwrap_or_default().to_owned(),
                        public_key: key["public_key"].as_str().unwrap_or_default().to_owned(),
                        confirmed: true,
                        revoked: None,
                    });
                }
            }
            "key-enroll" if prove::field(e, "name") == Some(name) => facts.keys.push(KeyFacts {
                key_id: key_id.to_owned(),
                public_key: prove::field(e, "public_key").unwrap_or_default().to_owned(),
                confirmed: e
                    .payload
                    .as_ref()
                    .and_then(|p| p.get("first"))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
                revoked: None,
            }),
            "key-confirm" if prove::field(e, "name") == Some(name) => {
                for key in &mut facts.keys {
                    if key.key_id == key_id {
                        key.confirmed = true;
                    } else if key.revoked.is_none() {
                        key.revoked = Some((e.seq, "replaced by a new key".into()));
                    }
                }
            }
            "passkey-invite" if prove::field(e, "name") == Some(name) => {
                let confirm = e.payload.as_ref().and_then(|p| p.get("confirm"));
                if confirm.and_then(serde_json::Value::as_bool) == Some(true) {
                    confirming.insert(e.seq);
                }
            }
            "passkey-enroll" if prove::field(e, "name") == Some(name) => {
                if let Some(key) = e
                    .payload
                    .as_ref()
                    .and_then(crate::ledger::signed::enrolled_passkey)
                {
                    let invite = e.payload.as_ref().and_then(|p| p.get("invite"));
                    facts.passkeys.push(PasskeyFacts {
                        seq: e.seq,
                        key,
                        revoked: None,
                        needs_confirm: invite
                            .and_then(serde_json::Value::as_i64)
                            .is_some_and(|seq| confirming.contains(&seq)),
                        confirmed: None,
                    });
                }
            }
            "passkey-confirm" if prove::field(e, "name") == Some(name) => {
                let credential = prove::field(e, "credential").unwrap_or_default();
                for passkey in &mut facts.passkeys {
                    if passkey.key.credential == credential && passkey.revoked.is_none() {
                        passkey.confirmed = Some(e.seq);
                    }
                }
            }
            "person-remove" if prove::field(e, "name") == Some(name) => {
                facts.removed = Some(e.seq);
                for key in &mut facts.keys {
                    if key.revoked.is_none() {
                        key.revoked = Some((e.seq, "the person was removed".into()));
                    }
                }
                for passkey in &mut facts.passkeys {
                    if passkey.revoked.is_none() {
                        passkey.revoked = Some((e.seq, "the person was removed".into()));
                    }
                }
            }
            _ => {}
        }
    }
    facts
}

impl Station {
    /// The proven entries that make `name`'s keys: the `init` entry when they are the
    /// first manager, and every entry about their registration. `None` when they are
    /// not registered.
    pub(crate) fn person_entries(&self, name: &str) -> Result<Option<Vec<Entry>>> {
        let id: Option<String> = self
            .ledger
            .db()
            .value("SELECT id FROM people WHERE name = ?1", args![name])?;
        let Some(id) = id else {
            return Ok(None);
        };
        let mut prover = self.ledger.prover(self.key.public());
        let mut entries = Vec::new();
        if self.ledger.size()? > 0 {
            let first = prover.entry(1)?;
            if first.kind == "init" {
                entries.push(first);
            }
        }
        entries.extend(prover.about(&id)?);
        Ok(Some(entries))
    }

    /// Whether the key `signer` holds may sign for `name` now; `Ok(Err(why))` when it
    /// may not.
    pub fn key_standing(
        &self,
        name: &str,
        signer: &dyn Signer,
    ) -> Result<std::result::Result<(), KeyStanding>> {
        let Some(entries) = self.person_entries(name)? else {
            return Ok(Err(KeyStanding::NotRegistered));
        };
        let facts = facts_of(&entries, name);
        if let Some(seq) = facts.removed {
            return Ok(Err(KeyStanding::Removed { seq }));
        }
        let public = signer.public();
        let Some(key) = facts
            .keys
            .iter()
            .find(|k| k.key_id == public.key_id() && k.public_key == public.to_base64())
        else {
            return Ok(Err(KeyStanding::NotTheirs));
        };
        Ok(match (&key.revoked, key.confirmed) {
            (Some((seq, reason)), _) => Err(KeyStanding::Revoked {
                seq: *seq,
                reason: reason.clone(),
            }),
            (None, false) => Err(KeyStanding::NotConfirmed),
            (None, true) => Ok(()),
        })
    }

    /// Lets `signer` sign what this station writes, once the people register shows
    /// that it is the actor's confirmed key, not revoked.
    pub fn unlock(&mut self, signer: Box<dyn Signer>) -> Result<()> {
        let actor = self.actor.name.clone();
        if signer.name() != actor {
            return Err(Error::KeyNotValid {
                actor,
                key_id: signer.public().key_id(),
                why: KeyStanding::NotTheirs,
            });
        }
        if let Err(why) = self.key_standing(&actor, signer.as_ref())? {
            return Err(Error::KeyNotValid {
                actor,
                key_id: signer.public().key_id(),
                why,
            });
        }
        self.signer = Some(signer);
        Ok(())
    }

    /// Unlocks now, through the unlocker the front end gave, when no key is unlocked
    /// yet: for a long command that must not ask at its end.
    pub fn unlock_now(&mut self) -> Result<()> {
        if self.signer.is_some() {
            return Ok(());
        }
        let name = self.actor.name.clone();
        let signer = match self.unlocker.as_mut() {
            Some(unlocker) => unlocker(&name)?,
            None => return Err(self.locked()),
        };
        self.unlock(signer)
    }

    /// The error for a write without an unlocked key.
    pub(crate) fn locked(&self) -> Error {
        let looked = super::key::default_key_path(&self.actor.name).unwrap_or_default();
        Error::Locked {
            actor: self.actor.name.clone(),
            exists: looked.is_file(),
            looked,
        }
    }

    /// Records the actor's new personal key (`key-enroll`, signed by that key). Their
    /// key signs nothing else until a manager confirms it, except for the first key of
    /// a ledger that has none (a ledger made before personal keys), which a manager
    /// enrols and which stands at once. With `replace`, the key replaces the one
    /// they have (a lost key or passphrase): the old one stands until the new one is
    /// confirmed.
    pub fn enroll(&mut self, key: &PersonalKey, replace: bool) -> Result<RecordId> {
        let name = self.actor.name.clone();
        // Everyone registered enrols, auditors too: a key is who they are, not a
        // record they write.
        let role = self.actor.role.ok_or_else(|| Error::NotAllowed {
            actor: name.clone(),
            action: "enroll a key".into(),
            reason: Box::new(Denial::NotRegistered),
        })?;
        let entries = self
            .person_entries(&name)?
            .ok_or_else(|| Error::NotAllowed {
                actor: name.clone(),
                action: "enroll a key".into(),
                reason: Box::new(Denial::NotRegistered),
            })?;
        let facts = facts_of(&entries, &name);
        if let Some(seq) = facts.removed {
            return Err(Error::KeyNotValid {
                actor: name,
                key_id: key.public().key_id(),
                why: KeyStanding::Removed { seq },
            });
        }
        let standing = facts.keys.iter().find(|k| k.revoked.is_none());
        // Nothing to replace is fine for a rekey: it is then an enrolment.
        if let (Some(existing), false) = (standing, replace) {
            return Err(Error::Duplicate {
                field: Field::Key,
                value: name,
                existing: existing.key_id.clone(),
            });
        }
        let replaces = standing.map(|k| k.key_id.clone());
        let first = !self.any_key_confirmed()?;
        if first && role != Role::Manager {
            return Err(Error::NotAllowed {
                actor: name,
                action: "enroll the first key of this ledger".into(),
                reason: Box::new(Denial::NeedsRole {
                    roles: vec![Role::Manager],
                    has: role,
                }),
            });
        }
        let id = self.person_id(&name)?;
        let public = key.public();
        let payload = json!({
            "name": name,
            "key_id": public.key_id(),
            "public_key": public.to_base64(),
            "replaces": replaces,
            "first": first,
        });
        self.write_as(key, |w| {
            w.append(&name, "key-enroll", id.as_str(), &payload)?;
            Ok(id.clone())
        })
    }

    /// Whether any personal key of this ledger was ever confirmed.
    fn any_key_confirmed(&self) -> Result<bool> {
        let count: i64 = self
            .ledger
            .db()
            .value(
                "SELECT COUNT(*) FROM person_keys WHERE confirmed_seq IS NOT NULL",
                &[],
            )?
            .unwrap_or(0);
        Ok(count > 0)
    }

    pub(crate) fn person_id(&self, name: &str) -> Result<RecordId> {
        self.ledger
            .db()
            .value::<String>("SELECT id FROM people WHERE name = ?1", args![name])?
            .ok_or_else(|| Error::NotAllowed {
                actor: name.to_owned(),
                action: "act".into(),
                reason: Box::new(Denial::NotRegistered),
            })
            .and_then(|id| RecordId::parse(&id))
    }

    /// A manager confirms `name`'s enrolled key, having compared `key_id` with the id
    /// the person reads out. The person's earlier key, if any, is revoked.
    pub fn confirm_key(&mut self, name: &str, key_id: &str) -> Result<RecordId> {
        let name = self.registered_name(name)?;
        self.actor.require_approver(&name, "confirm a key")?;
        let entries = self.person_entries(&name)?.unwrap_or_default();
        let facts = facts_of(&entries, &name);
        let typed = key_id.trim().to_ascii_uppercase();
        let pending: Vec<&KeyFacts> = facts
            .keys
            .iter()
            .filter(|k| !k.confirmed && k.revoked.is_none())
            .collect();
        let Some(key) = pending.iter().find(|k| k.key_id == typed) else {
            return Err(match pending.first() {
                Some(_) => Error::BadValue {
                    field: Field::KeyId,
                    value: key_id.to_owned(),
                    rule: Rule::Described(
                        "it is not the id of the key this person enrolled; ask them to read it out again",
                    ),
                },
                None => Error::NotDone {
                    id: name,
                    step: crate::error::Step::Enrolled,
                },
            });
        };
        let id = self.person_id(&name)?;
        let actor = self.actor.name.clone();
        let payload = json!({ "name": name, "key_id": key.key_id });
        self.write(|w| {
            w.append(&actor, "key-confirm", id.as_str(), &payload)?;
            Ok(id.clone())
        })
    }

    /// A manager removes `name` from the register: their keys are revoked from this
    /// entry on; their earlier entries still verify.
    pub fn remove_person(&mut self, name: &str, reason: &str) -> Result<RecordId> {
        let name = self.registered_name(name)?;
        self.actor.require_role(&[Role::Manager], "remove people")?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 || reason.contains('\n') {
            return Err(Error::BadValue {
                field: Field::Reason,
                value: reason.to_owned(),
                rule: Rule::OneLine { max: 500 },
            });
        }
        let entries = self.person_entries(&name)?.unwrap_or_default();
        if let Some(seq) = facts_of(&entries, &name).removed {
            return Err(Error::AlreadyDone {
                id: name,
                act: crate::error::Done::Removed { seq },
            });
        }
        if name == self.actor.name {
            return Err(Error::NotAllowed {
                actor: name,
                action: "remove themselves".into(),
                reason: Box::new(Denial::TwoPersonRule),
            });
        }
        let id = self.person_id(&name)?;
        let actor = self.actor.name.clone();
        let payload = json!({ "name": name, "reason": reason });
        let recorded = self.write(|w| {
            w.append(&actor, "person-remove", id.as_str(), &payload)?;
            Ok(id.clone())
        })?;
        self.rewrite_people_mirror()?;
        Ok(recorded)
    }

    /// A manager changes `name`'s role.
    pub fn set_role(&mut self, name: &str, role: Role) -> Result<RecordId> {
        let name = self.registered_name(name)?;
        self.actor.require_role(&[Role::Manager], "change roles")?;
        if name == self.actor.name {
            return Err(Error::NotAllowed {
                actor: name,
                action: "change their own role".into(),
                reason: Box::new(Denial::TwoPersonRule),
            });
        }
        let was = self.role_of(&name)?;
        if was == Some(role) {
            return Err(Error::AlreadyDone {
                id: name,
                act: crate::error::Done::HasRole { role },
            });
        }
        let id = self.person_id(&name)?;
        let actor = self.actor.name.clone();
        let payload = json!({ "name": name, "role": role.as_str(), "was": was.map(Role::as_str) });
        let recorded = self.write(|w| {
            w.append(&actor, "person-role", id.as_str(), &payload)?;
            Ok(id.clone())
        })?;
        self.rewrite_people_mirror()?;
        Ok(recorded)
    }

    /// The name as registered, for another spelling of it; refuses a name nobody has.
    pub(crate) fn registered_name(&self, name: &str) -> Result<String> {
        let key = super::name_key(name);
        self.people()?
            .into_iter()
            .find(|p| super::name_key(&p.name) == key)
            .map(|p| p.name)
            .ok_or_else(|| Error::NoSuchRecord {
                kind: crate::error::RecordKind::Person,
                id: name.to_owned(),
            })
    }

    /// Everyone ever registered, with department, removal and keys.
    pub fn register(&self) -> Result<Vec<Registered>> {
        let people = self.ledger.db().map(
            "SELECT p.name, p.role, p.department, p.id, e.at, r.at, p.removed_reason, \
             (SELECT key_id FROM person_keys k WHERE k.name = p.name AND k.confirmed_seq IS NOT NULL \
              AND k.revoked_seq IS NULL), \
             (SELECT key_id FROM person_keys k WHERE k.name = p.name AND k.confirmed_seq IS NULL \
              AND k.revoked_seq IS NULL ORDER BY enrolled_seq DESC LIMIT 1) \
             FROM people p JOIN entries e ON e.seq = p.seq LEFT JOIN entries r ON r.seq = p.removed_seq \
             ORDER BY p.seq",
            &[],
            |r| {
                Ok(Registered {
                    name: r.get(0)?,
                    role: r.get(1)?,
                    department: r.get(2)?,
                    id: r.get(3)?,
                    since: r.get(4)?,
                    removed: r.get(5)?,
                    removed_reason: r.get(6)?,
                    keys: PersonKeys {
                        key_id: r.get(7)?,
                        pending: r.get(8)?,
                    },
                })
            },
        )?;
        Ok(people)
    }
}

/// Checks a department's name: one line of at most 100 characters.
impl Station {
    /// The department `name` is registered with, if any (for the records that carry
    /// the department of the person who acted, 004 art.11-6).
    pub(crate) fn department_of(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .register()?
            .into_iter()
            .find(|p| p.name == name)
            .and_then(|p| p.department))
    }
}

pub(crate) fn check_department(department: &str) -> Result<()> {
    if department.trim().is_empty()
        || department.chars().count() > 100
        || department.chars().any(char::is_control)
    {
        return Err(Error::BadValue {
            field: Field::Department,
            value: department.to_owned(),
            rule: Rule::OneLine { max: 100 },
        });
    }
    Ok(())
}

/// Data homes for the unit tests of core: people with personal keys, enrolled and
/// confirmed, their key files beside the home.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::{Path, PathBuf};

    use super::super::Role;
    use super::super::key::{Passphrase, PersonalKey};
    use crate::station::Station;

    fn passphrase(name: &str) -> Passphrase {
        Passphrase::new(zeroize::Zeroizing::new(format!(
            "violet kettle harbour 1987 {name}"
        )))
    }

    fn key_file(home: &Path, name: &str) -> PathBuf {
        home.with_file_name(format!("{name}.key"))
    }

    fn new_key(home: &Path, name: &str) -> PersonalKey {
        let new = PersonalKey::generate(name, &passphrase(name)).unwrap();
        PersonalKey::write_file(&key_file(home, name), &new.file_text).unwrap();
        new.key
    }

    /// A home at `home` whose first manager is `manager`, with `people` registered,
    /// enrolled and confirmed.
    pub(crate) fn home(home: &Path, manager: &str, people: &[(&str, Role)]) {
        let key = new_key(home, manager);
        let file = key_file(home, manager);
        Station::init(home, &key, Some("Test"), Some("desk-1"), || Ok(file)).unwrap();
        for (name, role) in people {
            open(home, manager).add_person(name, *role, None).unwrap();
            let key = new_key(home, name);
            Station::open(home, name)
                .unwrap()
                .enroll(&key, false)
                .unwrap();
            let id = super::super::key::Signer::public(&key).key_id();
            open(home, manager).confirm_key(name, &id).unwrap();
        }
    }

    /// The home opened for `name`, their key unlocked.
    pub(crate) fn open(home: &Path, name: &str) -> Station {
        let mut station = Station::open(home, name).unwrap();
        let key = PersonalKey::load(&key_file(home, name), name, &passphrase(name)).unwrap();
        station.unlock(Box::new(key)).unwrap();
        station
    }
}
