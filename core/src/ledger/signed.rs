//! Entries signed by the people who make them.
//!
//! Every entry appended since the ledger's first `key-enroll` carries a minisign
//! signature by its actor's personal key over [`entry_message`] (the entry's hash,
//! which covers its seq, time, actor, station, kind, subject, commitment and the
//! chain before it), with [`entry_comment`] as the signed trusted comment. The
//! signatures are kept in their own append-only table beside the entries.
//!
//! [`Signers`] replays the people register along the chain (who holds which key,
//! confirmed by whom, revoked when) and checks each entry's signature against the key
//! its actor held *at that seq*. The Ed25519 checks themselves run in batches across
//! every core ([`verify_jobs`]): minisign's format is parsed here and the curve
//! arithmetic is ed25519-dalek's.

use std::collections::{HashMap, HashSet};

use blake2::Digest as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use rayon::prelude::*;
use serde_json::Value;

use crate::people::Role;
use crate::people::passkey::{Assertion, PasskeyKey, act_challenge};

/// The entry kinds that change who may sign: their payloads are read by [`Signers`].
pub(crate) const REGISTER_KINDS: &[&str] = &[
    "init",
    "person-add",
    "person-role",
    "person-remove",
    "key-enroll",
    "key-confirm",
    "station-join",
    "passkey-invite",
    "passkey-enroll",
    "passkey-confirm",
    // Not a change of who may sign, but only a manager may record it.
    "ledger-restored",
];

/// The message a person's key signs for an entry.
pub fn entry_message(hash: &str) -> String {
    format!("custody-entry/v1\n{hash}\n")
}

/// The trusted comment of an entry's signature (`minisign -V` shows it).
pub fn entry_comment(seq: i64, kind: &str, actor: &str) -> String {
    format!("custody entry seq={seq} kind={kind} actor={actor}")
}

/// A minisign signature, read.
pub(crate) struct Parsed {
    /// The signing key's id as minisign prints it.
    pub(crate) key_id: String,
    prehashed: bool,
    signature: [u8; 64],
    comment: String,
    global: [u8; 64],
}

/// Reads a minisign signature file's text.
pub(crate) fn parse(text: &str) -> Result<Parsed, String> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut lines = text.lines();
    let (_untrusted, encoded, trusted, global) =
        match (lines.next(), lines.next(), lines.next(), lines.next()) {
            (Some(a), Some(b), Some(c), Some(d)) => (a, b, c, d),
            _ => return Err("the signature is not four lines".into()),
        };
    let bytes = engine
        .decode(encoded.trim())
        // Which character is not base64 does not help anyone.
        .map_err(|_| "the signature line is not base64".to_string())?;
    if bytes.len() != 2 + 8 + 64 {
        return Err("the signature line has the wrong length".into());
    }
    let prehashed = match &bytes[..2] {
        b"ED" => true,
        b"Ed" => false,
        _ => return Err("not an Ed25519 signature".into()),
    };
    let key_id = {
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[2..10]);
        format!("{:016X}", u64::from_le_bytes(id))
    };
    let mut signature = [0u8; 64];
    signature.copy_from_slice(&bytes[10..]);
    let comment = trusted
        .strip_prefix("trusted comment: ")
        .ok_or("the third line is not a trusted comment")?
        .to_owned();
    let global_bytes = engine
        .decode(global.trim())
        // As above.
        .map_err(|_| "the comment signature is not base64".to_string())?;
    let global: [u8; 64] = global_bytes
        .try_into()
        // A wrong length is all there is to say.
        .map_err(|_| "the comment signature has the wrong length".to_string())?;
    Ok(Parsed {
        key_id,
        prehashed,
        signature,
        comment,
        global,
    })
}

/// One entry signature to check: both of its Ed25519 signatures (over the message,
/// and over the signature and trusted comment).
pub(crate) struct Job {
    seq: i64,
    key: VerifyingKey,
    message: Vec<u8>,
    signature: Signature,
    signed_comment: Vec<u8>,
    global: Signature,
}

impl Job {
    pub(crate) fn new(seq: i64, key: VerifyingKey, message: &[u8], parsed: &Parsed) -> Job {
        let message = if parsed.prehashed {
            blake2::Blake2b512::digest(message).to_vec()
        } else {
            message.to_vec()
        };
        let mut signed_comment = Vec::with_capacity(64 + parsed.comment.len());
        signed_comment.extend_from_slice(&parsed.signature);
        signed_comment.extend_from_slice(parsed.comment.as_bytes());
        Job {
            seq,
            key,
            message,
            signature: Signature::from_bytes(&parsed.signature),
            signed_comment,
            global: Signature::from_bytes(&parsed.global),
        }
    }

    fn holds(&self) -> bool {
        self.key.verify(&self.message, &self.signature).is_ok()
            && self.key.verify(&self.signed_comment, &self.global).is_ok()
    }
}

/// Checks every job, in batches of 64 entries across every core; returns the first
/// seq whose signature does not verify.
pub(crate) fn verify_jobs(jobs: &[Job]) -> Option<i64> {
    const CHUNK: usize = 64;
    let check = |chunk: &[Job]| -> Option<i64> {
        let mut messages: Vec<&[u8]> = Vec::with_capacity(chunk.len() * 2);
        let mut signatures = Vec::with_capacity(chunk.len() * 2);
        let mut keys = Vec::with_capacity(chunk.len() * 2);
        for job in chunk {
            messages.push(&job.message);
            signatures.push(job.signature);
            keys.push(job.key);
            messages.push(&job.signed_comment);
            signatures.push(job.global);
            keys.push(job.key);
        }
        if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
            return None;
        }
        // A batch fails as a whole: find which entry.
        chunk.iter().find(|job| !job.holds()).map(|job| job.seq)
    };
    if jobs.len() <= CHUNK {
        return check(jobs);
    }
    jobs.par_chunks(CHUNK).filter_map(check).min()
}

/// The Ed25519 key inside a minisign public key in base64.
pub(crate) fn verifying_key(base64_key: &str) -> Option<(String, VerifyingKey)> {
    let key = crate::keys::StationPublicKey::parse(base64_key).ok()?;
    let verifying = VerifyingKey::from_bytes(&key.ed25519_bytes()).ok()?;
    Some((key.key_id(), verifying))
}

struct KeyState {
    name: String,
    key: VerifyingKey,
    confirmed: Option<i64>,
    revoked: Option<(i64, String)>,
}

struct PersonState {
    role: Option<Role>,
    removed: Option<i64>,
}

/// A passkey of the register: whose, and since when it no longer signs.
struct PasskeyState {
    name: String,
    key: PasskeyKey,
    revoked: Option<(i64, String)>,
    /// Whether a manager must confirm it before it signs (its invitation says so),
    /// and the entry that confirmed it.
    needs_confirm: bool,
    confirmed: Option<i64>,
}

/// A manager's invitation to enrol a passkey.
struct InviteState {
    name: String,
    token_sha256: String,
    expires: String,
    origin: String,
    rp_id: String,
    used: bool,
    /// The passkey it enrols signs only once a manager confirms it.
    confirm: bool,
}

/// The people register replayed along the chain, and the entry signatures checked
/// against it.
#[derive(Default)]
pub(crate) struct Signers {
    people: HashMap<String, PersonState>,
    keys: HashMap<String, KeyState>,
    any_confirmed: bool,
    /// The seq of the ledger's first `key-enroll`: every entry from it on is signed.
    first_signed: Option<i64>,
    /// Entries recorded before personal keys existed.
    pub(crate) before_keys: i64,
    /// Entries whose signature was checked.
    pub(crate) signed: i64,
    /// The stations registered so far, with their keys.
    pub(crate) stations: super::stations::Stations,
    jobs: Vec<Job>,
    /// Passkeys by credential id.
    passkeys: HashMap<String, PasskeyState>,
    /// Invitations by the seq of their entry.
    invites: HashMap<i64, InviteState>,
    /// The challenges passkeys have signed: an assertion counts once.
    challenges: HashSet<[u8; 32]>,
    /// Entries signed with a passkey.
    pub(crate) passkey_signed: i64,
}

/// An entry as [`Signers`] reads it.
pub(crate) struct Signed<'a> {
    pub(crate) seq: i64,
    pub(crate) actor: &'a str,
    pub(crate) station: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) at: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) commitment: &'a str,
    pub(crate) hash: &'a str,
    pub(crate) body: Option<&'a str>,
    pub(crate) signature: Option<&'a str>,
}

fn field<'a>(payload: &'a Value, key: &str) -> Option<&'a str> {
    payload.get(key).and_then(Value::as_str)
}

/// The passkey a `passkey-enroll` payload holds.
pub(crate) fn enrolled_passkey(payload: &Value) -> Option<PasskeyKey> {
    let key = PasskeyKey {
        credential: field(payload, "credential")?.to_owned(),
        public_key: field(payload, "public_key")?.to_owned(),
        rp_id: field(payload, "rp_id")?.to_owned(),
        origin: field(payload, "origin")?.to_owned(),
    };
    PasskeyKey::check_public_key(&key.public_key).ok()?;
    Some(key)
}

impl Signers {
    /// Takes in one entry, in chain order: checks who signed it and queues its
    /// signature for [`Signers::flush`]; then applies what it changes in the register.
    /// An `Err` is the problem at this entry.
    pub(crate) fn entry(&mut self, e: &Signed<'_>) -> Result<(), String> {
        let payload: Option<Value> = if REGISTER_KINDS.contains(&e.kind) {
            e.body.and_then(|b| serde_json::from_str(b).ok())
        } else {
            None
        };
        if e.kind == "key-enroll" && self.first_signed.is_none() {
            self.first_signed = Some(e.seq);
        }
        if e.kind == "init"
            && let Some(key) = payload.as_ref().and_then(|p| p.get("manager_key"))
        {
            // A ledger made with personal keys: the first manager's key stands from
            // the first entry, which it signs.
            let (key_id, verifying) = key
                .get("public_key")
                .and_then(Value::as_str)
                .and_then(verifying_key)
                .ok_or("the first manager's key in the init entry is not readable")?;
            self.first_signed = Some(e.seq);
            self.any_confirmed = true;
            self.keys.insert(
                key_id,
                KeyState {
                    name: e.actor.to_owned(),
                    key: verifying,
                    confirmed: Some(e.seq),
                    revoked: None,
                },
            );
        }
        if e.kind == "init" {
            // The first station: its key signs every checkpoint it makes.
            let payload = payload
                .as_ref()
                .ok_or("the init entry's payload is missing")?;
            let key = field(payload, "public_key")
                .and_then(|k| crate::keys::StationPublicKey::parse(k).ok())
                .ok_or("the init entry does not register a readable station key")?;
            let name = field(payload, "station").unwrap_or(e.station);
            self.stations.add(name, e.seq, key)?;
        }
        if self.first_signed.is_none() {
            self.before_keys += 1;
        } else {
            self.check_signature(e, payload.as_ref())?;
        }
        if let Some(payload) = &payload {
            self.apply(e, payload)?;
        }
        Ok(())
    }

    fn check_signature(&mut self, e: &Signed<'_>, payload: Option<&Value>) -> Result<(), String> {
        let Some(text) = e.signature else {
            return Err(format!(
                "the entry by {} carries no signature (it was written without their key, or the signature was removed)",
                e.actor
            ));
        };
        if Assertion::is_passkey(text) {
            return self.check_passkey(e, text, payload);
        }
        if e.kind == "passkey-enroll" {
            return Err(format!(
                "{}'s passkey enrolment is not signed by the passkey it enrols",
                e.actor
            ));
        }
        let parsed =
            parse(text).map_err(|why| format!("the signature of {}'s entry: {why}", e.actor))?;
        let key = if e.kind == "key-enroll" {
            // An enrolment proves possession: it is signed by the key it enrols.
            let payload = payload.ok_or("the key enrolment's payload is missing")?;
            let (key_id, key) = field(payload, "public_key")
                .and_then(verifying_key)
                .ok_or("the key enrolment does not hold a readable public key")?;
            if key_id != parsed.key_id || field(payload, "name") != Some(e.actor) {
                return Err(format!(
                    "the enrolment of {}'s key {key_id} is not signed by that key",
                    e.actor
                ));
            }
            key
        } else {
            let state = self.keys.get(&parsed.key_id).ok_or_else(|| {
                format!(
                    "the entry by {} is signed with key {}, which the people register does not hold",
                    e.actor, parsed.key_id
                )
            })?;
            if state.name != e.actor {
                return Err(format!(
                    "the entry by {} is signed with {}'s key {}",
                    e.actor, state.name, parsed.key_id
                ));
            }
            if state.confirmed.is_none() {
                return Err(format!(
                    "the entry by {} is signed with key {}, which no manager had confirmed",
                    e.actor, parsed.key_id
                ));
            }
            if let Some((seq, reason)) = &state.revoked {
                return Err(format!(
                    "the entry by {} is signed with key {}, revoked at entry {seq} ({reason})",
                    e.actor, parsed.key_id
                ));
            }
            state.key
        };
        if parsed.comment != entry_comment(e.seq, e.kind, e.actor) {
            return Err(format!(
                "the signature of {}'s entry was made for another entry ({})",
                e.actor, parsed.comment
            ));
        }
        self.jobs.push(Job::new(
            e.seq,
            key,
            entry_message(e.hash).as_bytes(),
            &parsed,
        ));
        self.signed += 1;
        Ok(())
    }

    /// An entry signed with a passkey: by the actor's passkey, standing, over this
    /// act, once. A `passkey-enroll` is signed by the passkey it enrols.
    fn check_passkey(
        &mut self,
        e: &Signed<'_>,
        text: &str,
        payload: Option<&Value>,
    ) -> Result<(), String> {
        if !crate::people::passkey::PASSKEY_KINDS.contains(&e.kind) {
            return Err(format!(
                "{}'s {} entry is signed with a passkey, which signs no entry of that kind",
                e.actor, e.kind
            ));
        }
        let assertion = Assertion::from_text(text).ok_or_else(|| {
            format!(
                "the passkey signature of {}'s entry is not readable",
                e.actor
            )
        })?;
        let key = if e.kind == "passkey-enroll" {
            let payload = payload.ok_or("the passkey enrolment's payload is missing")?;
            let key = enrolled_passkey(payload)
                .ok_or("the passkey enrolment does not hold a readable passkey")?;
            if field(payload, "name") != Some(e.actor) {
                return Err(format!(
                    "the enrolment of a passkey for {:?} was recorded by {}",
                    field(payload, "name").unwrap_or_default(),
                    e.actor
                ));
            }
            key
        } else {
            let state = self.passkeys.get(&assertion.credential).ok_or_else(|| {
                format!(
                    "the entry by {} is signed with a passkey the people register does not hold",
                    e.actor
                )
            })?;
            if state.name != e.actor {
                return Err(format!(
                    "the entry by {} is signed with {}'s passkey {}",
                    e.actor,
                    state.name,
                    state.key.key_id()
                ));
            }
            if let Some((seq, reason)) = &state.revoked {
                return Err(format!(
                    "the entry by {} is signed with passkey {}, revoked at entry {seq} ({reason})",
                    e.actor,
                    state.key.key_id()
                ));
            }
            if state.needs_confirm && state.confirmed.is_none() {
                return Err(format!(
                    "the entry by {} is signed with passkey {}, which no manager had confirmed",
                    e.actor,
                    state.key.key_id()
                ));
            }
            state.key.clone()
        };
        let challenge = act_challenge(e.kind, e.subject, e.actor, e.commitment);
        key.check(&assertion, &challenge)
            .map_err(|why| format!("the passkey signature of {}'s entry: {why}", e.actor))?;
        if !self.challenges.insert(challenge) {
            return Err(format!(
                "the passkey signature of {}'s entry repeats one made for an earlier entry",
                e.actor
            ));
        }
        self.signed += 1;
        self.passkey_signed += 1;
        Ok(())
    }

    /// A manager invites `name` to enrol a passkey.
    fn invite(&mut self, e: &Signed<'_>, payload: &Value) -> Result<(), String> {
        let name = field(payload, "name").unwrap_or_default();
        if !self.manager_with_key(e) {
            return Err(format!(
                "{name} is invited to enrol a passkey by {}, who is not a manager with a confirmed key",
                e.actor
            ));
        }
        self.invites.insert(
            e.seq,
            InviteState {
                name: name.to_owned(),
                token_sha256: field(payload, "token_sha256")
                    .unwrap_or_default()
                    .to_owned(),
                expires: field(payload, "expires").unwrap_or_default().to_owned(),
                origin: field(payload, "origin").unwrap_or_default().to_owned(),
                rp_id: field(payload, "rp_id").unwrap_or_default().to_owned(),
                used: false,
                confirm: payload.get("confirm").and_then(Value::as_bool) == Some(true),
            },
        );
        Ok(())
    }

    /// A person enrols a passkey with a manager's invitation: theirs, unused, in time,
    /// and the token that only the invitation's link carried.
    fn enrol_passkey(&mut self, e: &Signed<'_>, payload: &Value) -> Result<(), String> {
        let name = field(payload, "name").unwrap_or_default();
        let seq = payload.get("invite").and_then(Value::as_i64).unwrap_or(0);
        let token = field(payload, "token").unwrap_or_default();
        let removed = self.people.get(name).is_none_or(|p| p.removed.is_some());
        let invite = self
            .invites
            .get_mut(&seq)
            .ok_or_else(|| format!("{name}'s passkey names invitation {seq}, which is not one"))?;
        if invite.name != name || removed {
            return Err(format!(
                "{name}'s passkey is enrolled with an invitation for {}",
                invite.name
            ));
        }
        if invite.used {
            return Err(format!(
                "{name}'s passkey is enrolled with invitation {seq}, which was used before"
            ));
        }
        if e.at > invite.expires.as_str() {
            return Err(format!(
                "{name}'s passkey is enrolled at {} with invitation {seq}, which expired at {}",
                e.at, invite.expires
            ));
        }
        if hex::encode(sha2::Sha256::digest(token.as_bytes())) != invite.token_sha256 {
            return Err(format!(
                "{name}'s passkey is enrolled without invitation {seq}'s token"
            ));
        }
        invite.used = true;
        let needs_confirm = invite.confirm;
        let key = enrolled_passkey(payload).ok_or("the passkey enrolment is not readable")?;
        if key.origin != invite.origin || key.rp_id != invite.rp_id {
            return Err(format!(
                "{name}'s passkey is enrolled for {}, not for the desk invitation {seq} names ({})",
                key.origin, invite.origin
            ));
        }
        if let Some(other) = self.passkeys.get(&key.credential) {
            return Err(format!(
                "{name}'s passkey has the id of a passkey registered to {} already",
                other.name
            ));
        }
        self.passkeys.insert(
            key.credential.clone(),
            PasskeyState {
                name: name.to_owned(),
                key,
                revoked: None,
                needs_confirm,
                confirmed: None,
            },
        );
        Ok(())
    }

    /// Whether the actor of `e` is a manager, not removed, recording it after the
    /// chain's first confirmed key (so with a confirmed key of their own).
    fn manager_with_key(&self, e: &Signed<'_>) -> bool {
        let manager = self
            .people
            .get(e.actor)
            .is_some_and(|p| p.role == Some(Role::Manager) && p.removed.is_none());
        manager && self.first_signed.is_some_and(|first| first <= e.seq)
    }

    /// A manager confirms a person's passkey, after comparing its key id with the one
    /// the person reads out: another manager, with a confirmed key, of a passkey
    /// enrolled for that person and not revoked.
    fn confirm_passkey(&mut self, e: &Signed<'_>, payload: &Value) -> Result<(), String> {
        let name = field(payload, "name").unwrap_or_default();
        let credential = field(payload, "credential").unwrap_or_default();
        if !self.manager_with_key(e) {
            return Err(format!(
                "{name}'s passkey is confirmed by {}, who is not a manager with a confirmed key",
                e.actor
            ));
        }
        if e.actor == name {
            return Err(format!(
                "{name} confirmed their own passkey (a passkey is confirmed by another manager)"
            ));
        }
        match self.passkeys.get_mut(credential) {
            Some(state) if state.name == name && state.revoked.is_none() => {
                state.confirmed = Some(e.seq);
                Ok(())
            }
            _ => Err(format!(
                "the confirmation names a passkey of {name} that was not enrolled for them"
            )),
        }
    }

    fn apply(&mut self, e: &Signed<'_>, payload: &Value) -> Result<(), String> {
        let name = field(payload, "name").unwrap_or_default().to_owned();
        match e.kind {
            "person-add" | "person-role" => {
                let role = field(payload, "role").and_then(|r| Role::parse(r).ok());
                let person = self.people.entry(name).or_insert(PersonState {
                    role: None,
                    removed: None,
                });
                person.role = role;
            }
            "person-remove" => {
                if let Some(person) = self.people.get_mut(&name) {
                    person.removed = Some(e.seq);
                }
                self.revoke(&name, None, e.seq, "the person was removed");
            }
            "key-enroll" => {
                let first = payload.get("first").and_then(Value::as_bool) == Some(true);
                let confirmed = if first {
                    // The first key of a ledger made before personal keys: a manager's,
                    // standing at once, and only while no key stands anywhere.
                    let manager = self
                        .people
                        .get(e.actor)
                        .is_some_and(|p| p.role == Some(Role::Manager) && p.removed.is_none());
                    if self.any_confirmed || !manager {
                        return Err(format!(
                            "{}'s key is enrolled as the ledger's first, but {}",
                            e.actor,
                            if manager {
                                "a key was confirmed before it"
                            } else {
                                "they are not a manager"
                            }
                        ));
                    }
                    self.any_confirmed = true;
                    Some(e.seq)
                } else {
                    None
                };
                if let Some((key_id, key)) = field(payload, "public_key").and_then(verifying_key) {
                    self.keys.entry(key_id).or_insert(KeyState {
                        name,
                        key,
                        confirmed,
                        revoked: None,
                    });
                }
            }
            "key-confirm" => self.confirm(e, &name, field(payload, "key_id").unwrap_or(""))?,
            "station-join" => self.join(e, payload)?,
            "passkey-invite" => self.invite(e, payload)?,
            "passkey-enroll" => self.enrol_passkey(e, payload)?,
            "passkey-confirm" => self.confirm_passkey(e, payload)?,
            "ledger-restored" if !self.manager_with_key(e) => {
                return Err(format!(
                    "a restored copy of the ledger is acknowledged by {}, who is not a manager with a confirmed key",
                    e.actor
                ));
            }
            _ => {}
        }
        Ok(())
    }

    fn confirm(&mut self, e: &Signed<'_>, name: &str, key_id: &str) -> Result<(), String> {
        let confirmer = self.people.get(e.actor);
        let manager =
            confirmer.is_some_and(|p| p.role == Some(Role::Manager) && p.removed.is_none());
        let first = !self.any_confirmed && e.actor == name;
        if !manager {
            return Err(format!(
                "{}'s key is confirmed by {}, who is not a manager",
                name, e.actor
            ));
        }
        if e.actor == name && !first {
            return Err(format!(
                "{name} confirmed their own key (a key is confirmed by another manager)"
            ));
        }
        match self.keys.get_mut(key_id) {
            Some(state) if state.name == name && state.revoked.is_none() => {
                state.confirmed = Some(e.seq);
            }
            _ => {
                return Err(format!(
                    "the confirmation names key {key_id} of {name}, which was not enrolled for them"
                ));
            }
        }
        self.any_confirmed = true;
        self.revoke(name, Some(key_id), e.seq, "replaced by a new key");
        Ok(())
    }

    /// A station joins: by a manager's signed entry, made at that station, naming it
    /// and its key.
    fn join(&mut self, e: &Signed<'_>, payload: &Value) -> Result<(), String> {
        let station = field(payload, "station").unwrap_or_default();
        if !self.manager_with_key(e) {
            return Err(format!(
                "station {station} joined by {}, who is not a manager with a confirmed key",
                e.actor
            ));
        }
        if station != e.station {
            return Err(format!(
                "the entry joining station {station} was recorded at station {}",
                e.station
            ));
        }
        let key = field(payload, "public_key")
            .and_then(|k| crate::keys::StationPublicKey::parse(k).ok())
            .ok_or_else(|| format!("the key of station {station} cannot be read"))?;
        self.stations.add(station, e.seq, key)
    }

    fn revoke(&mut self, name: &str, except: Option<&str>, seq: i64, reason: &str) {
        for (id, state) in &mut self.keys {
            if state.name == name && state.revoked.is_none() && Some(id.as_str()) != except {
                state.revoked = Some((seq, reason.to_owned()));
            }
        }
        if except.is_none() {
            for state in self.passkeys.values_mut() {
                if state.name == name && state.revoked.is_none() {
                    state.revoked = Some((seq, reason.to_owned()));
                }
            }
        }
    }

    /// Checks every queued signature; returns the first entry whose signature does not
    /// verify.
    pub(crate) fn flush(&mut self) -> Option<i64> {
        let bad = verify_jobs(&self.jobs);
        self.jobs.clear();
        bad
    }

    /// The first entry signed by a person's key: from it on, every entry is.
    pub(crate) fn first_signed(&self) -> Option<i64> {
        self.first_signed
    }

    /// The last seq recorded before personal keys, when there were such entries.
    pub(crate) fn before_keys_until(&self) -> Option<i64> {
        (self.before_keys > 0).then_some(self.before_keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::key::{Passphrase, PersonalKey, Signer as _};

    #[test]
    fn dalek_verifies_what_minisign_signs_and_nothing_else() {
        let phrase = Passphrase::new(zeroize::Zeroizing::new("violet kettle harbour 1987".into()));
        let key = PersonalKey::generate("sato", &phrase).unwrap().key;
        let (_, verifying) = verifying_key(&key.public().to_base64()).unwrap();
        let message = entry_message(&"ab".repeat(32));
        let comment = entry_comment(7, "approve", "sato");
        let text = key.sign(message.as_bytes(), &comment).unwrap();
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.key_id, key.public().key_id());
        let good = Job::new(7, verifying, message.as_bytes(), &parsed);
        assert!(good.holds());
        let other = entry_message(&"cd".repeat(32));
        let bad = Job::new(8, verifying, other.as_bytes(), &parsed);
        assert_eq!(verify_jobs(&[good, bad]), Some(8));
        let many: Vec<Job> = (0..200)
            .map(|seq| Job::new(seq, verifying, message.as_bytes(), &parsed))
            .collect();
        assert_eq!(verify_jobs(&many), None);
    }
}
