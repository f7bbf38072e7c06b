//! The address book of recipients' public keys: a send to a contact encrypts to the
//! key its proven entry recorded.

use serde::Serialize;
use serde_json::json;

use super::seal;
use crate::error::{Error, Field, RecordKind, Result};
use crate::ledger::store::{Query, args};
use crate::ledger::{Writer, prove};
use crate::registers::requests::one_line;
use crate::station::Station;

/// A contact in the address book.
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Public key (age1…, ssh-ed25519 …, ssh-rsa …).
    pub key: String,
    /// The key's fingerprint.
    pub fingerprint: String,
}

/// The fingerprint of the key the address book holds for `name`, if any.
fn contact_fingerprint(w: &Writer<'_>, name: &str) -> Result<Option<String>> {
    w.db().value(
        "SELECT fingerprint FROM contacts WHERE name = ?1",
        args![name],
    )
}

impl Station {
    /// Adds a recipient's public key to the address book. A name already there is
    /// refused unless `replace`, which records the old key's fingerprint beside the new
    /// one (a colleague's new laptop, a key typed wrongly).
    pub fn add_contact(&mut self, name: &str, key: &str, replace: bool) -> Result<Contact> {
        self.actor.require_writer("add contacts")?;
        let name = one_line(Field::Contact, name, 100)?;
        let recipient = seal::recipients::parse_recipient(key.trim(), "argument")?;
        let fingerprint = recipient.fingerprint().to_string();
        let key = key.trim().to_string();
        let actor = self.actor.name.clone();
        self.write(|w| {
            let previous = contact_fingerprint(w, &name)?;
            match (&previous, replace) {
                (Some(old), false) => {
                    return Err(Error::Duplicate {
                        field: Field::Contact,
                        value: name.clone(),
                        existing: format!("in the address book, key {old}"),
                    });
                }
                (None, true) => {
                    return Err(Error::NoSuchRecord {
                        kind: RecordKind::Contact,
                        id: name.clone(),
                    });
                }
                _ => {}
            }
            let (kind, body) = match &previous {
                Some(old) => (
                    "contact-replace",
                    json!({ "name": name, "key": key, "fingerprint": fingerprint, "previous_fingerprint": old }),
                ),
                None => (
                    "contact-add",
                    json!({ "name": name, "key": key, "fingerprint": fingerprint }),
                ),
            };
            w.append(&actor, kind, "", &body)?;
            Ok(())
        })?;
        Ok(Contact {
            name,
            key,
            fingerprint,
        })
    }

    /// Removes a contact from the address book; the ledger keeps when they were added
    /// and removed, and by whom.
    pub fn remove_contact(&mut self, name: &str) -> Result<()> {
        self.actor.require_writer("remove contacts")?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let Some(fingerprint) = contact_fingerprint(w, name)? else {
                return Err(Error::NoSuchRecord {
                    kind: RecordKind::Contact,
                    id: name.to_owned(),
                });
            };
            w.append(
                &actor,
                "contact-remove",
                "",
                &json!({ "name": name, "fingerprint": fingerprint }),
            )?;
            Ok(())
        })
    }

    /// The address book.
    pub fn contacts(&self) -> Result<Vec<Contact>> {
        self.ledger.db().map(
            "SELECT name, key, fingerprint FROM contacts ORDER BY name",
            &[],
            |r| {
                Ok(Contact {
                    name: r.get(0)?,
                    key: r.get(1)?,
                    fingerprint: r.get(2)?,
                })
            },
        )
    }

    /// The contact `name`, with the key its proven entry recorded (a key edited into
    /// the table would send personal data to whoever holds it: refused as tampering).
    pub(super) fn contact(&self, name: &str) -> Result<Option<Contact>> {
        let row: Option<(Contact, i64)> = self.ledger.db().one(
            "SELECT name, key, fingerprint, seq FROM contacts WHERE name = ?1",
            args![name],
            |r| {
                Ok((
                    Contact {
                        name: r.get(0)?,
                        key: r.get(1)?,
                        fingerprint: r.get(2)?,
                    },
                    r.get(3)?,
                ))
            },
        )?;
        let Some((contact, seq)) = row else {
            return Ok(None);
        };
        let entry = self.ledger.prover(self.key.public()).entry(seq)?;
        let recorded = (matches!(entry.kind.as_str(), "contact-add" | "contact-replace")
            && prove::field(&entry, "name") == Some(name))
        .then(|| prove::field(&entry, "key").map(str::to_owned))
        .flatten();
        prove::backed(
            "contacts",
            name,
            &[("key", Some(contact.key.clone()), recorded)],
        )?;
        Ok(Some(contact))
    }
}
