//! Passkeys: acts signed in a person's own hand at the desk (WebAuthn, ES256).
//!
//! A passkey signs an entry the way a personal key does, and the ledger checks it
//! offline. What it signs is the *act*: the entry's kind, its subject, its actor and
//! the commitment to its payload ([`act_message`]). The payload holds everything the
//! act is about (an approval covers the request's own entry by seq and hash), and a
//! random salt chosen before signing makes every act's commitment unique. The
//! browser is asked for an assertion whose challenge is SHA-256 of that message
//! ([`act_challenge`]), so the signature is over exactly that decision: the server
//! cannot turn it into another, nor make one without the person's authenticator.
//!
//! An assertion is checked as the WebAuthn specification says a relying party checks
//! one, with the data an auditor can check with `openssl` alone
//! (docs/ledger-format.md):
//!
//! - `clientDataJSON` says `webauthn.get`, the challenge of this act, and the origin
//!   the passkey was enrolled at;
//! - `authenticatorData` starts with SHA-256 of the relying party id, and its flags
//!   say the person was present (UP) and verified (UV, a PIN or a fingerprint);
//! - the signature is ECDSA P-256 with SHA-256 (DER) over `authenticatorData` ‖
//!   SHA-256(`clientDataJSON`), by the public key enrolled.

use std::cell::{Cell, RefCell};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::Role;
use crate::{
    Error, Field, KeyStanding, PasskeyProblem, RecordId, Result, Rule, Station, Timestamp,
};

/// The DER header of a P-256 public key in SubjectPublicKeyInfo form, before the
/// uncompressed point (0x04 ‖ X ‖ Y): what `PublicKeyCredential.getPublicKey()`
/// gives for ES256, and what `openssl pkey -pubin -inform DER` reads.
const SPKI_P256_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The kinds of entry a passkey may sign: what a person does at the desk (enrol,
/// sign in, decide, file a carry-out, a request or a download, hold or release a
/// retained item, sign a certificate off, invite a person to enrol a passkey, note).
/// The people register's own acts (people, roles, keys, removals, stations, and the
/// confirmation of a passkey) stay with personal keys, so that a desk cannot turn a
/// person's passkey into a key of its own: a passkey enrolled by any invitation
/// signs only once another manager confirms it with their personal key.
pub const PASSKEY_KINDS: &[&str] = &[
    "passkey-enroll",
    "desk-sign-in",
    "approve",
    "reject",
    "note",
    "carryout-request",
    "request",
    "download-request",
    "retain-hold",
    "retain-release",
    "cert-sign-off",
    "passkey-invite",
];

/// The format tag of a passkey signature as the ledger stores it.
pub const FORMAT: &str = "custody-passkey/v1";

/// The flags of `authenticatorData`: the person was present, and verified.
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;

/// What a passkey signs for an act: four fields and the format's name, each line
/// ending in LF.
pub fn act_message(kind: &str, subject: &str, actor: &str, commitment: &str) -> String {
    format!("custody-act/v1\n{kind}\n{subject}\n{actor}\n{commitment}\n")
}

/// The WebAuthn challenge for an act: SHA-256 of [`act_message`].
pub fn act_challenge(kind: &str, subject: &str, actor: &str, commitment: &str) -> [u8; 32] {
    Sha256::digest(act_message(kind, subject, actor, commitment).as_bytes()).into()
}

/// base64url without padding, as WebAuthn writes challenges and credential ids.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Standard base64, as `base64 -d` reads it.
fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| format!("the {what} is not base64"))
}

/// A passkey's assertion over one act, as the ledger stores it beside the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assertion {
    /// The credential id, base64url.
    pub credential: String,
    /// `authenticatorData`, base64.
    pub authenticator_data: String,
    /// `clientDataJSON`, base64.
    pub client_data_json: String,
    /// The ECDSA signature (DER), base64.
    pub signature: String,
}

impl Assertion {
    /// From the browser's own bytes.
    pub fn new(
        credential: &[u8],
        authenticator_data: &[u8],
        client_data_json: &[u8],
        signature: &[u8],
    ) -> Assertion {
        Assertion {
            credential: b64url(credential),
            authenticator_data: b64(authenticator_data),
            client_data_json: b64(client_data_json),
            signature: b64(signature),
        }
    }

    /// The text kept in the ledger's signatures table: one line of JSON, tagged with
    /// [`FORMAT`] (a minisign signature never starts with `{`).
    pub fn to_text(&self) -> String {
        serde_json::json!({
            "format": FORMAT,
            "credential": self.credential,
            "authenticator_data": self.authenticator_data,
            "client_data_json": self.client_data_json,
            "signature": self.signature,
        })
        .to_string()
    }

    /// Reads [`Assertion::to_text`]; `None` when `text` is not a passkey signature.
    pub fn from_text(text: &str) -> Option<Assertion> {
        let value: Value = serde_json::from_str(text.trim()).ok()?;
        if value.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return None;
        }
        serde_json::from_value(value).ok()
    }

    /// Whether a signature text is a passkey's rather than a minisign signature.
    pub fn is_passkey(text: &str) -> bool {
        text.trim_start().starts_with('{')
    }
}

/// A passkey as the people register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyKey {
    /// The credential id, base64url.
    pub credential: String,
    /// The public key, SubjectPublicKeyInfo DER in base64.
    pub public_key: String,
    /// The relying party id it was made for (the desk's host name).
    pub rp_id: String,
    /// The origin of the desk it was enrolled at (`https://desk.example`).
    pub origin: String,
}

impl PasskeyKey {
    /// A short id for the passkey, 16 hexadecimal digits like a minisign key id:
    /// the start of SHA-256 of its public key. Kept as the signature's key id.
    pub fn key_id(&self) -> String {
        PasskeyKey::id_of(&self.public_key)
    }

    /// [`PasskeyKey::key_id`] of the public key `public_key` (SubjectPublicKeyInfo DER
    /// in base64).
    pub fn id_of(public_key: &str) -> String {
        let der = unb64(public_key, "public key").unwrap_or_default();
        hex::encode_upper(&Sha256::digest(&der)[..8])
    }

    /// Checks that `public_key` is a P-256 key in SubjectPublicKeyInfo form.
    pub fn check_public_key(public_key: &str) -> Result<(), String> {
        point(public_key).map(|_| ())
    }

    /// Checks `assertion` over `challenge`; the reason when it does not hold.
    pub fn check(&self, assertion: &Assertion, challenge: &[u8]) -> Result<(), String> {
        if assertion.credential != self.credential {
            return Err("the assertion was made by another passkey".into());
        }
        let client_data = unb64(&assertion.client_data_json, "clientDataJSON")?;
        let client: Value = serde_json::from_slice(&client_data)
            .map_err(|_| "clientDataJSON is not JSON".to_string())?;
        let text = |key: &str| client.get(key).and_then(Value::as_str).unwrap_or_default();
        if text("type") != "webauthn.get" {
            return Err(format!(
                "clientDataJSON is of type {:?}, not webauthn.get",
                text("type")
            ));
        }
        if text("challenge") != b64url(challenge) {
            return Err("the assertion was made for another act (its challenge differs)".into());
        }
        if text("origin") != self.origin {
            return Err(format!(
                "the assertion was made at {:?}, not at {}, where the passkey was enrolled",
                text("origin"),
                self.origin
            ));
        }
        if client.get("crossOrigin").and_then(Value::as_bool) == Some(true) {
            return Err("the assertion was made in a frame of another site".into());
        }
        let data = unb64(&assertion.authenticator_data, "authenticatorData")?;
        if data.len() < 37 {
            return Err("authenticatorData is too short".into());
        }
        if data[..32] != Sha256::digest(self.rp_id.as_bytes())[..] {
            return Err(format!(
                "authenticatorData is for another relying party than {}",
                self.rp_id
            ));
        }
        let flags = data[32];
        if flags & USER_PRESENT == 0 {
            return Err("the authenticator does not say the person was present".into());
        }
        if flags & USER_VERIFIED == 0 {
            return Err("the authenticator did not verify the person (no PIN or biometric)".into());
        }
        let mut signed = data;
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature = unb64(&assertion.signature, "signature")?;
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            point(&self.public_key)?,
        );
        key.verify(&signed, &signature)
            .map_err(|_| "the passkey's signature does not verify".to_string())
    }
}

/// The uncompressed point inside a P-256 SubjectPublicKeyInfo in base64.
fn point(public_key: &str) -> Result<Vec<u8>, String> {
    let der = unb64(public_key, "public key")?;
    match der.strip_prefix(&SPKI_P256_PREFIX[..]) {
        Some(point) if point.len() == 65 && point[0] == 0x04 => Ok(point.to_vec()),
        _ => Err("the public key is not a P-256 key (ES256) in SubjectPublicKeyInfo form".into()),
    }
}

/// An act prepared for the actor's passkey: what will be recorded, and the salt that
/// makes its commitment. The browser signs [`PreparedAct::challenge`]; the same
/// workflow, run again with the assertion, records exactly this act or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedAct {
    /// Who acts.
    pub actor: String,
    /// The entry's kind (`approve`, `reject`, …).
    pub kind: String,
    /// The record it is about.
    pub subject: String,
    /// The payload, canonical JSON: everything the act says.
    pub body: String,
    /// The salt of its commitment, hex.
    pub salt: String,
    /// SHA-256 of salt and body, hex.
    pub commitment: String,
}

impl PreparedAct {
    /// The WebAuthn challenge: SHA-256 of [`act_message`].
    pub fn challenge(&self) -> [u8; 32] {
        act_challenge(&self.kind, &self.subject, &self.actor, &self.commitment)
    }

    /// The payload, for showing what will be recorded.
    pub fn payload(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// The passkey side of a write transaction.
pub struct PasskeyAct {
    actor: String,
    mode: ActMode,
}

enum ActMode {
    /// Run the workflow to learn its act; record nothing.
    Prepare(RefCell<Option<PreparedAct>>),
    /// Record the prepared act with the assertion made over it, once.
    Sign {
        act: PreparedAct,
        text: String,
        key_id: String,
        used: Cell<bool>,
    },
}

impl PasskeyAct {
    pub(crate) fn actor(&self) -> &str {
        &self.actor
    }

    pub(crate) fn key_id(&self) -> &str {
        match &self.mode {
            ActMode::Prepare(_) => "",
            ActMode::Sign { key_id, .. } => key_id,
        }
    }

    pub(crate) fn signature_text(&self) -> &str {
        match &self.mode {
            ActMode::Prepare(_) => "",
            ActMode::Sign { text, .. } => text,
        }
    }

    /// The salt of the entry `kind`/`subject`/`body` about to be appended: when
    /// preparing, a new one, kept with the act, and the transaction stops there
    /// ([`PasskeyProblem::Needed`]); when signing, the prepared one, if the entry is
    /// the act prepared.
    pub(crate) fn salt_for(&self, kind: &str, subject: &str, body: &str) -> Result<String> {
        match &self.mode {
            ActMode::Prepare(slot) => {
                let salt = crate::ledger::new_salt()?;
                let commitment = crate::ledger::commitment(&salt, body);
                *slot.borrow_mut() = Some(PreparedAct {
                    actor: self.actor.clone(),
                    kind: kind.to_owned(),
                    subject: subject.to_owned(),
                    body: body.to_owned(),
                    salt,
                    commitment,
                });
                Err(refused(PasskeyProblem::Needed))
            }
            ActMode::Sign { act, used, .. } => {
                if used.get() {
                    // A workflow that records a second entry (an approval that also
                    // starts a retention period): one signature covers one entry.
                    return Err(refused(PasskeyProblem::NeedsPersonalKey));
                }
                if act.kind != kind || act.subject != subject || act.body != body {
                    return Err(refused(PasskeyProblem::Changed));
                }
                used.set(true);
                Ok(act.salt.clone())
            }
        }
    }
}

fn refused(why: PasskeyProblem) -> Error {
    Error::PasskeyRefused { why }
}

/// A manager's invitation to enrol a passkey, as made: its link carries the token,
/// which is shown once and kept nowhere (the ledger keeps its SHA-256).
pub struct Invitation {
    /// Who is invited.
    pub name: String,
    /// The seq of the `passkey-invite` entry.
    pub seq: i64,
    /// The one-time token.
    pub token: Zeroizing<String>,
    /// Until when the link works.
    pub expires: Timestamp,
    /// The desk's origin.
    pub origin: String,
}

impl Invitation {
    /// The link to open at the desk.
    pub fn link(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}/enrol/{}", self.origin, self.token.as_str()))
    }
}

/// An invitation as recorded, without its token.
#[derive(Debug, Clone)]
pub struct Invited {
    /// Who is invited, as registered.
    pub name: String,
    /// Their record in the people register.
    pub person: RecordId,
    /// The seq of the `passkey-invite` entry.
    pub seq: i64,
    /// The desk's origin.
    pub origin: String,
}

/// An invitation found by its token, valid now.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Who is invited.
    pub name: String,
    /// The seq of the `passkey-invite` entry.
    pub seq: i64,
    /// Until when.
    pub expires: Timestamp,
    /// The desk's origin the passkey is for.
    pub origin: String,
    /// The relying party id (the origin's host).
    pub rp_id: String,
}

/// How long an enrolment link works.
const INVITE_HOURS: i64 = 24;

/// Until when an invitation made now works.
pub fn invitation_expires() -> Timestamp {
    Timestamp::from(Timestamp::now().utc() + chrono::Duration::hours(INVITE_HOURS))
}

/// The origin and relying party id of a desk address: `https://HOST[:PORT]`, or
/// `http://localhost[:PORT]` (browsers allow passkeys on no other plain-HTTP host).
pub fn desk_origin(address: &str) -> Result<(String, String)> {
    let bad = |why: &'static str| Error::BadValue {
        field: Field::DeskAddress,
        value: address.to_owned(),
        rule: Rule::Described(why),
    };
    let trimmed = address.trim().trim_end_matches('/');
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| bad("give the desk's address as https://HOST or http://localhost:PORT"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(bad(
            "give the address alone: https://HOST[:PORT], with no path",
        ));
    }
    let host = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
            port.parse::<u16>()
                .map_err(|_| bad("the port after the host is not a number"))?;
            host
        }
        _ => rest,
    }
    .to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return Err(bad(
            "passkeys need a host name, not an IP address: use http://localhost:PORT on this machine, or the desk's name",
        ));
    }
    match scheme {
        "https" => {}
        "http" if host == "localhost" => {}
        _ => {
            return Err(bad(
                "passkeys work over https only (or http://localhost on this machine)",
            ));
        }
    }
    Ok((format!("{scheme}://{}", rest.to_ascii_lowercase()), host))
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Station {
    /// Runs `f`, the workflow of an act as the command line runs it (approve,
    /// reject, …), to prepare that act for the actor's passkey: every check the
    /// workflow makes is made, and nothing is written. The browser signs the act's
    /// [`PreparedAct::challenge`]; then [`Station::sign_passkey_act`] runs the same
    /// workflow again with the assertion.
    pub fn prepare_passkey_act<T>(
        &mut self,
        f: impl FnOnce(&mut Station) -> Result<T>,
    ) -> Result<PreparedAct> {
        self.passkey = Some(PasskeyAct {
            actor: self.actor.name.clone(),
            mode: ActMode::Prepare(RefCell::new(None)),
        });
        let outcome = f(self);
        let prepared = match self.passkey.take().map(|act| act.mode) {
            Some(ActMode::Prepare(slot)) => slot.into_inner(),
            _ => None,
        };
        match (outcome, prepared) {
            (
                Err(Error::PasskeyRefused {
                    why: PasskeyProblem::Needed,
                }),
                Some(act),
            ) => {
                if !PASSKEY_KINDS.contains(&act.kind.as_str()) {
                    return Err(refused(PasskeyProblem::NeedsPersonalKey));
                }
                // Only someone with a passkey that stands is asked for it (an
                // enrolment is signed by the passkey it enrols).
                if act.kind != "passkey-enroll" {
                    self.require_passkey(&act.actor)?;
                }
                Ok(act)
            }
            (Err(e), _) => Err(e),
            (Ok(_), _) => Err(refused(PasskeyProblem::Invalid(
                "the act records nothing to sign".into(),
            ))),
        }
    }

    /// Records `act` with the actor's passkey `assertion` over it, by running `f`
    /// (the same workflow that prepared it) again: only if the passkey stands for the
    /// actor now, the assertion holds for this act, and the workflow appends exactly
    /// the act prepared. Otherwise nothing is written.
    pub fn sign_passkey_act<T>(
        &mut self,
        act: &PreparedAct,
        assertion: &Assertion,
        f: impl FnOnce(&mut Station) -> Result<T>,
    ) -> Result<T> {
        if act.actor != self.actor.name {
            return Err(refused(PasskeyProblem::Standing(KeyStanding::NotTheirs)));
        }
        let key = if act.kind == "passkey-enroll" {
            // An enrolment is signed by the passkey it enrols.
            crate::ledger::signed::enrolled_passkey(&act.payload())
                .ok_or_else(|| refused(PasskeyProblem::Invalid("no passkey in the act".into())))?
        } else {
            self.passkey_standing(&act.actor, &assertion.credential)?
                .map_err(|why| refused(PasskeyProblem::Standing(why)))?
        };
        key.check(assertion, &act.challenge())
            .map_err(|why| refused(PasskeyProblem::Invalid(why)))?;
        self.passkey = Some(PasskeyAct {
            actor: act.actor.clone(),
            mode: ActMode::Sign {
                act: act.clone(),
                text: assertion.to_text(),
                key_id: key.key_id(),
                used: Cell::new(false),
            },
        });
        let outcome = f(self);
        self.passkey = None;
        outcome
    }

    /// Whether the passkey `credential` may sign for `name` now, from the proven
    /// entries of their registration.
    pub fn passkey_standing(
        &self,
        name: &str,
        credential: &str,
    ) -> Result<std::result::Result<PasskeyKey, KeyStanding>> {
        let Some(entries) = self.person_entries(name)? else {
            return Ok(Err(KeyStanding::NotRegistered));
        };
        let facts = super::register::facts_of(&entries, name);
        if let Some(seq) = facts.removed {
            return Ok(Err(KeyStanding::Removed { seq }));
        }
        Ok(
            match facts
                .passkeys
                .into_iter()
                .find(|p| p.key.credential == credential)
            {
                None => Err(KeyStanding::NotTheirs),
                Some(passkey) => match passkey.revoked {
                    Some((seq, reason)) => Err(KeyStanding::Revoked { seq, reason }),
                    None if !passkey.stands() => Err(KeyStanding::NotConfirmed),
                    None => Ok(passkey.key),
                },
            },
        )
    }

    /// Refuses `name` unless they are registered, not removed, and hold a passkey
    /// that stands.
    fn require_passkey(&self, name: &str) -> Result<()> {
        let Some(entries) = self.person_entries(name)? else {
            return Err(refused(PasskeyProblem::Standing(
                KeyStanding::NotRegistered,
            )));
        };
        let facts = super::register::facts_of(&entries, name);
        if let Some(seq) = facts.removed {
            return Err(refused(PasskeyProblem::Standing(KeyStanding::Removed {
                seq,
            })));
        }
        if !facts
            .passkeys
            .iter()
            .any(super::register::PasskeyFacts::stands)
        {
            let waiting = facts.passkeys.iter().any(|p| p.revoked.is_none());
            return Err(refused(PasskeyProblem::Standing(if waiting {
                KeyStanding::NotConfirmed
            } else {
                KeyStanding::NotTheirs
            })));
        }
        Ok(())
    }

    /// The passkeys `name` holds and that stand, with the entry that enrolled each.
    pub fn passkeys(&self, name: &str) -> Result<Vec<(i64, PasskeyKey)>> {
        let Some(entries) = self.person_entries(name)? else {
            return Ok(Vec::new());
        };
        let facts = super::register::facts_of(&entries, name);
        Ok(facts
            .passkeys
            .into_iter()
            .filter(super::register::PasskeyFacts::stands)
            .map(|p| (p.seq, p.key))
            .collect())
    }

    /// Another manager confirms `name`'s passkey `key_id` (as it was read out to them
    /// from the desk's enrolment page): from then on it signs. Recorded as
    /// `passkey-confirm`, with the manager's personal key.
    pub fn confirm_passkey(&mut self, name: &str, key_id: &str) -> Result<RecordId> {
        let name = self.registered_name(name)?;
        self.actor.require_approver(&name, "confirm a passkey")?;
        let entries = self.person_entries(&name)?.unwrap_or_default();
        let facts = super::register::facts_of(&entries, &name);
        let typed = key_id.trim().to_ascii_uppercase();
        let waiting: Vec<&super::register::PasskeyFacts> = facts
            .passkeys
            .iter()
            .filter(|p| p.revoked.is_none() && p.needs_confirm && p.confirmed.is_none())
            .collect();
        let Some(passkey) = waiting.iter().find(|p| p.key.key_id() == typed) else {
            return Err(if waiting.is_empty() {
                Error::NotDone {
                    id: name,
                    step: crate::error::Step::Enrolled,
                }
            } else {
                Error::BadValue {
                    field: Field::KeyId,
                    value: key_id.to_owned(),
                    rule: crate::error::Rule::Described(
                        "it is not the id of the passkey this person enrolled; ask them to read it out again from the desk",
                    ),
                }
            });
        };
        let id = self.person_id(&name)?;
        let actor = self.actor.name.clone();
        let payload = serde_json::json!({
            "name": name,
            "key_id": passkey.key.key_id(),
            "credential": passkey.key.credential,
        });
        self.write(|w| {
            w.append(&actor, "passkey-confirm", id.as_str(), &payload)?;
            Ok(id.clone())
        })
    }

    /// A manager invites `name` to enrol a passkey at the desk at `desk` (its address):
    /// a one-time link, valid for 24 hours, recorded (`passkey-invite`, with the SHA-256
    /// of its token, never the token).
    pub fn invite_passkey(&mut self, name: &str, desk: &str) -> Result<Invitation> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut())
            .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
        let token = Zeroizing::new(b64url(bytes.as_ref()));
        let expires = invitation_expires();
        let invited = self.invite_passkey_by_hash(name, desk, &sha256_hex(&token), expires)?;
        Ok(Invitation {
            name: invited.name,
            seq: invited.seq,
            token,
            expires,
            origin: invited.origin,
        })
    }

    /// [`Station::invite_passkey`] with a token that the inviting manager's browser made
    /// and keeps: only its SHA-256 (64 hex digits) is given, so the desk that records
    /// the invitation never holds a link that works. `expires` is at most 24 hours
    /// away.
    pub fn invite_passkey_by_hash(
        &mut self,
        name: &str,
        desk: &str,
        token_sha256: &str,
        expires: Timestamp,
    ) -> Result<Invited> {
        let name = self.registered_name(name)?;
        self.actor
            .require_role(&[Role::Manager], "invite people to enrol a passkey")?;
        let (origin, rp_id) = desk_origin(desk)?;
        let entries = self.person_entries(&name)?.unwrap_or_default();
        if let Some(seq) = super::register::facts_of(&entries, &name).removed {
            return Err(Error::AlreadyDone {
                id: name,
                act: crate::error::Done::Removed { seq },
            });
        }
        let hex_digest = token_sha256.len() == 64
            && token_sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_digest {
            return Err(refused(PasskeyProblem::Invalid(
                "the invitation's token hash is not 64 lowercase hexadecimal digits".into(),
            )));
        }
        let now = Timestamp::now().utc();
        let until = expires.utc() - now;
        if until <= chrono::Duration::zero()
            || until > chrono::Duration::hours(INVITE_HOURS) + chrono::Duration::minutes(10)
        {
            return Err(refused(PasskeyProblem::Invalid(
                "an invitation is valid for at most 24 hours from now".into(),
            )));
        }
        let id = self.person_id(&name)?;
        let actor = self.actor.name.clone();
        // The passkey it enrols signs only once another manager confirms it, as a
        // personal key is confirmed.
        let payload = serde_json::json!({
            "name": name,
            "token_sha256": token_sha256,
            "expires": expires.ledger(),
            "origin": origin,
            "rp_id": rp_id,
            "confirm": true,
        });
        let seq = self.write(|w| {
            Ok(w.append(&actor, "passkey-invite", id.as_str(), &payload)?
                .seq)
        })?;
        Ok(Invited {
            name,
            person: id,
            seq,
            origin,
        })
    }

    /// The invitation whose link carries `token`, if it is valid now: made by a
    /// manager, not used, not expired, for a person still registered. Read from the
    /// proven entries.
    pub fn invitation(&self, token: &str) -> Result<Pending> {
        let hash = sha256_hex(token);
        let mut prover = self.ledger.prover(self.key.public());
        let invite = prover
            .of_kind("passkey-invite")?
            .into_iter()
            .find(|e| crate::ledger::prove::field(e, "token_sha256") == Some(hash.as_str()))
            .ok_or_else(|| refused(PasskeyProblem::Invitation))?;
        let used = prover.of_kind("passkey-enroll")?.iter().any(|e| {
            e.payload
                .as_ref()
                .and_then(|p| p.get("invite"))
                .and_then(Value::as_i64)
                == Some(invite.seq)
        });
        let text = |key: &str| {
            crate::ledger::prove::field(&invite, key)
                .unwrap_or_default()
                .to_owned()
        };
        let expires = Timestamp::parse(&text("expires"))?;
        if used || Timestamp::now() > expires {
            return Err(refused(PasskeyProblem::Invitation));
        }
        let name = text("name");
        // Made by someone who is a manager still, for someone registered still.
        if self.role_of(&name)?.is_none() || self.role_of(&invite.actor)? != Some(Role::Manager) {
            return Err(refused(PasskeyProblem::Invitation));
        }
        let entries = self.person_entries(&name)?.unwrap_or_default();
        if super::register::facts_of(&entries, &name).removed.is_some() {
            return Err(refused(PasskeyProblem::Invitation));
        }
        Ok(Pending {
            name,
            seq: invite.seq,
            expires,
            origin: text("origin"),
            rp_id: text("rp_id"),
        })
    }

    /// The actor signs in at the desk (`desk-sign-in`, about their registration):
    /// run as a passkey act, so the record of the sign-in is their own signature.
    /// Everyone registered signs in, auditors too.
    pub fn record_sign_in(&mut self, desk: &str) -> Result<RecordId> {
        let name = self.actor.name.clone();
        if self.actor.role.is_none() {
            return Err(Error::NotAllowed {
                actor: name,
                action: "sign in at the desk".into(),
                reason: Box::new(crate::Denial::NotRegistered),
            });
        }
        let id = self.person_id(&name)?;
        let payload = serde_json::json!({ "name": name, "desk": desk });
        self.write(|w| {
            w.append(&name, "desk-sign-in", id.as_str(), &payload)?;
            Ok(id.clone())
        })
    }

    /// The invited person enrols their passkey (`passkey-enroll`): the credential id
    /// (base64url) and public key (SubjectPublicKeyInfo, base64) their browser made at
    /// the invitation's desk. Run through [`Station::prepare_passkey_act`] and
    /// [`Station::sign_passkey_act`]: the entry is signed by the passkey it enrols.
    /// The token is recorded: it is used up, and it proves the link was opened.
    pub fn enrol_passkey(
        &mut self,
        token: &str,
        credential: &str,
        public_key: &str,
    ) -> Result<RecordId> {
        let pending = self.invitation(token)?;
        if pending.name != self.actor.name {
            return Err(refused(PasskeyProblem::Invitation));
        }
        PasskeyKey::check_public_key(public_key)
            .map_err(|why| refused(PasskeyProblem::Invalid(why)))?;
        if credential.is_empty()
            || credential.len() > 1366
            || !credential
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(refused(PasskeyProblem::Invalid(
                "the credential id is not base64url".into(),
            )));
        }
        let id = self.person_id(&pending.name)?;
        let actor = self.actor.name.clone();
        let payload = serde_json::json!({
            "name": pending.name,
            "invite": pending.seq,
            "token": token,
            "credential": credential,
            "public_key": public_key,
            "rp_id": pending.rp_id,
            "origin": pending.origin,
        });
        let (seq, expires) = (pending.seq, pending.expires);
        self.write(|w| {
            // Checked again under the append lock: two enrolments with one link at
            // the same moment must not both be recorded (verify refuses the second),
            // nor one passkey's id twice.
            let enrolled = w.prover().of_kind("passkey-enroll")?;
            let invite_of = |e: &crate::ledger::Entry| {
                e.payload
                    .as_ref()
                    .and_then(|p| p.get("invite"))
                    .and_then(Value::as_i64)
            };
            if enrolled.iter().any(|e| invite_of(e) == Some(seq)) {
                return Err(refused(PasskeyProblem::Invitation));
            }
            if enrolled
                .iter()
                .any(|e| crate::ledger::prove::field(e, "credential") == Some(credential))
            {
                return Err(refused(PasskeyProblem::Invalid(
                    "this passkey is registered already".into(),
                )));
            }
            // A minute early here, so that the entry's own time is within it.
            if Timestamp::now().utc() + chrono::Duration::minutes(1) > expires.utc() {
                return Err(refused(PasskeyProblem::Invitation));
            }
            w.append(&actor, "passkey-enroll", id.as_str(), &payload)?;
            Ok(id.clone())
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};

    /// An authenticator of the test's own: a P-256 key that signs assertions as a
    /// browser's would.
    pub(crate) struct SoftKey {
        pair: EcdsaKeyPair,
        pub(crate) key: PasskeyKey,
    }

    impl SoftKey {
        pub(crate) fn new(origin: &str, rp_id: &str) -> SoftKey {
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
                    .unwrap();
            let mut spki = SPKI_P256_PREFIX.to_vec();
            spki.extend_from_slice(pair.public_key().as_ref());
            let key = PasskeyKey {
                credential: b64url(b"credential-1"),
                public_key: b64(&spki),
                rp_id: rp_id.into(),
                origin: origin.into(),
            };
            SoftKey { pair, key }
        }

        pub(crate) fn assert(&self, challenge: &[u8], origin: &str, flags: u8) -> Assertion {
            let client = serde_json::json!({
                "type": "webauthn.get",
                "challenge": b64url(challenge),
                "origin": origin,
                "crossOrigin": false,
            })
            .to_string();
            let mut data = Sha256::digest(self.key.rp_id.as_bytes()).to_vec();
            data.push(flags);
            data.extend_from_slice(&[0, 0, 0, 1]);
            let mut signed = data.clone();
            signed.extend_from_slice(&Sha256::digest(client.as_bytes()));
            let signature = self.pair.sign(&SystemRandom::new(), &signed).unwrap();
            Assertion::new(
                b"credential-1",
                &data,
                client.as_bytes(),
                signature.as_ref(),
            )
        }
    }

    const DESK: &str = "http://localhost:8750";

    /// A data home whose first manager is sato (key unlocked), with tanaka, a manager
    /// who has no personal key.
    fn home() -> (tempfile::TempDir, std::path::PathBuf, Station) {
        use crate::people::key::{Passphrase, PersonalKey};
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let phrase = Passphrase::new(Zeroizing::new("violet kettle harbour 1987".into()));
        let sato = PersonalKey::generate("sato", &phrase).unwrap();
        let key_file = dir.path().join("sato.key");
        Station::init(&home, &sato.key, Some("Union"), Some("desk-1"), || {
            PersonalKey::write_file(&key_file, &sato.file_text)?;
            Ok(key_file.clone())
        })
        .unwrap();
        let mut station = Station::open(&home, "sato").unwrap();
        station
            .unlock(Box::new(
                PersonalKey::load(&key_file, "sato", &phrase).unwrap(),
            ))
            .unwrap();
        station.add_person("tanaka", Role::Manager, None).unwrap();
        (dir, home, station)
    }

    /// `name` enrols `soft` with a new invitation by sato, at the desk (the station
    /// opened as `name`, no key).
    fn enrol(sato: &mut Station, home: &std::path::Path, name: &str, soft: &SoftKey) -> Station {
        let invitation = sato.invite_passkey(name, DESK).unwrap();
        let token = invitation.token.clone();
        let mut desk = Station::open(home, name).unwrap();
        let (credential, public) = (soft.key.credential.clone(), soft.key.public_key.clone());
        let enrol = |s: &mut Station| s.enrol_passkey(&token, &credential, &public);
        let act = desk.prepare_passkey_act(enrol).unwrap();
        assert_eq!(act.kind, "passkey-enroll");
        let assertion = soft.assert(&act.challenge(), DESK, 0x05);
        desk.sign_passkey_act(&act, &assertion, enrol).unwrap();
        // The link is used up.
        assert!(matches!(
            desk.invitation(&token),
            Err(Error::PasskeyRefused {
                why: PasskeyProblem::Invitation
            })
        ));
        // Until another manager confirms it, the passkey signs nothing.
        let note = |s: &mut Station| s.note("before the confirmation");
        assert!(matches!(
            desk.prepare_passkey_act(note).map(|_| ()),
            Err(Error::PasskeyRefused {
                why: PasskeyProblem::Standing(KeyStanding::NotConfirmed)
            })
        ));
        assert!(desk.passkeys(name).unwrap().is_empty());
        let typed = soft.key.key_id().to_lowercase();
        sato.confirm_passkey(name, &typed).unwrap();
        Station::open(home, name).unwrap()
    }

    #[test]
    fn a_passkey_enrolled_by_invitation_signs_acts_that_verify_offline() {
        let (_dir, home, mut sato) = home();
        let soft = SoftKey::new(DESK, "localhost");
        let mut desk = enrol(&mut sato, &home, "tanaka", &soft);
        assert_eq!(desk.passkeys("tanaka").unwrap().len(), 1);

        // Preparing writes nothing; signing records exactly the act prepared.
        let size = desk.ledger().size().unwrap();
        let note = |s: &mut Station| s.note("cabinet key handed over at the desk");
        let act = desk.prepare_passkey_act(note).unwrap();
        assert_eq!(desk.ledger().size().unwrap(), size);
        assert_eq!(act.kind, "note");
        let assertion = soft.assert(&act.challenge(), DESK, 0x05);
        desk.sign_passkey_act(&act, &assertion, note).unwrap();
        assert_eq!(desk.ledger().size().unwrap(), size + 1);

        // The same assertion on another act, or on a changed one: nothing written.
        let other = |s: &mut Station| s.note("another note");
        let act2 = desk.prepare_passkey_act(other).unwrap();
        let why = desk.sign_passkey_act(&act2, &assertion, other).unwrap_err();
        assert!(why.to_string().contains("another act"), "{why}");
        let fresh = soft.assert(&act2.challenge(), DESK, 0x05);
        let changed = |s: &mut Station| s.note("not what was signed");
        let why = desk.sign_passkey_act(&act2, &fresh, changed).unwrap_err();
        assert!(
            matches!(
                why,
                Error::PasskeyRefused {
                    why: PasskeyProblem::Changed
                }
            ),
            "{why}"
        );
        assert_eq!(desk.ledger().size().unwrap(), size + 1);

        let report = desk.verify(None, None).unwrap();
        assert_eq!(report.passkey_signed, 2, "the enrolment and the note");

        // A removed person's passkey stops at once.
        sato.remove_person("tanaka", "left the office").unwrap();
        let mut desk = Station::open(&home, "tanaka").unwrap();
        let why = desk.prepare_passkey_act(note).map(|_| ()).unwrap_err();
        assert!(
            matches!(
                why,
                Error::PasskeyRefused {
                    why: PasskeyProblem::Standing(KeyStanding::Removed { .. })
                }
            ),
            "{why}"
        );
        let why = desk.sign_passkey_act(&act2, &fresh, other).unwrap_err();
        assert!(
            matches!(
                why,
                Error::PasskeyRefused {
                    why: PasskeyProblem::Standing(KeyStanding::Removed { .. })
                }
            ),
            "{why}"
        );
    }

    #[test]
    fn a_sign_off_signed_with_a_passkey_holds_for_its_statement_and_key_only() {
        use sha2::Digest as _;
        let (_dir, home, mut sato) = home();
        let soft = SoftKey::new(DESK, "localhost");
        let desk = enrol(&mut sato, &home, "tanaka", &soft);
        let statement = crate::erasure::certificate::sign_off_statement(
            "DC-1",
            &"ab".repeat(32),
            "2026-12-04T10:00:00Z",
        );
        let assertion = soft.assert(&Sha256::digest(statement.as_bytes()), DESK, 0x05);
        let sig = serde_json::json!({
            "format": FORMAT,
            "public_key": soft.key.public_key,
            "credential": assertion.credential,
            "authenticator_data": assertion.authenticator_data,
            "client_data_json": assertion.client_data_json,
            "signature": assertion.signature,
        });
        desk.passkey_signature(&sig, &statement, "tanaka").unwrap();
        // Another statement (another time, another document), another person, another
        // public key claimed: each refused.
        let other = statement.replace("10:00:00", "10:00:01");
        assert!(desk.passkey_signature(&sig, &other, "tanaka").is_err());
        assert!(desk.passkey_signature(&sig, &statement, "sato").is_err());
        let mut claimed = sig.clone();
        claimed["public_key"] = SoftKey::new(DESK, "localhost").key.public_key.into();
        assert!(
            desk.passkey_signature(&claimed, &statement, "tanaka")
                .is_err()
        );
    }

    #[test]
    fn a_passkey_signature_changed_in_the_ledger_fails_verify() {
        let (_dir, home, mut sato) = home();
        let soft = SoftKey::new(DESK, "localhost");
        let mut desk = enrol(&mut sato, &home, "tanaka", &soft);
        let note = |s: &mut Station| s.note("signed at the desk");
        let act = desk.prepare_passkey_act(note).unwrap();
        desk.sign_passkey_act(&act, &soft.assert(&act.challenge(), DESK, 0x05), note)
            .unwrap();
        let seq = desk.ledger().size().unwrap();
        // The enrolment's assertion put on the note instead: the signature of
        // another act.
        let db = rusqlite::Connection::open(home.join("ledger.db")).unwrap();
        db.execute("DROP TRIGGER signatures_no_update", []).unwrap();
        db.execute(
            "UPDATE signatures SET signature = (SELECT signature FROM signatures WHERE seq = \
             (SELECT MAX(seq) FROM entries WHERE kind = 'passkey-enroll')) WHERE seq = ?1",
            [seq],
        )
        .unwrap();
        drop(db);
        let why = desk.verify(None, None).unwrap_err().to_string();
        assert!(why.contains("another act"), "{why}");
    }

    #[test]
    fn an_invitation_is_for_its_person_once_and_never_holds_its_token() {
        let (_dir, home, mut sato) = home();
        let invitation = sato.invite_passkey("tanaka", DESK).unwrap();
        assert!(
            invitation
                .link()
                .starts_with("http://localhost:8750/enrol/")
        );
        let pending = sato.invitation(&invitation.token).unwrap();
        assert_eq!(
            (pending.name.as_str(), pending.rp_id.as_str()),
            ("tanaka", "localhost")
        );
        let entry = sato
            .log(&crate::ledger::LogFilter::default())
            .unwrap()
            .pop()
            .unwrap();
        let body = entry.payload.unwrap().to_string();
        assert!(!body.contains(invitation.token.as_str()), "{body}");
        // Another person cannot use it; a made-up token finds nothing.
        let soft = SoftKey::new(DESK, "localhost");
        let mut other = Station::open(&home, "sato").unwrap();
        let why = other
            .prepare_passkey_act(|s| {
                s.enrol_passkey(
                    &invitation.token,
                    &soft.key.credential,
                    &soft.key.public_key,
                )
            })
            .unwrap_err();
        assert!(matches!(
            why,
            Error::PasskeyRefused {
                why: PasskeyProblem::Invitation
            }
        ));
        assert!(sato.invitation("made-up").is_err());
        // Only managers invite, and only to a desk passkeys can work at.
        for bad in [
            "http://192.168.1.5:8750",
            "http://desk.example",
            "ftp://x",
            "localhost",
        ] {
            assert!(sato.invite_passkey("tanaka", bad).is_err(), "{bad}");
        }
        assert_eq!(
            desk_origin("https://Desk.Example:8443/").unwrap(),
            (
                "https://desk.example:8443".to_owned(),
                "desk.example".to_owned()
            )
        );
    }

    #[test]
    fn one_invitation_enrols_one_passkey_even_when_two_enrolments_race() {
        let (_dir, home, mut sato) = home();
        let invitation = sato.invite_passkey("tanaka", DESK).unwrap();
        let token = invitation.token.clone();
        let mut desk = Station::open(&home, "tanaka").unwrap();
        let (one, two) = (
            SoftKey::new(DESK, "localhost"),
            SoftKey::new(DESK, "localhost"),
        );
        let mut two_key = two.key.clone();
        two_key.credential = b64url(b"credential-2");
        // Both prepared while the link is unused; both signed; one recorded.
        let enrol = |key: &PasskeyKey| {
            let (token, credential, public) = (
                token.clone(),
                key.credential.clone(),
                key.public_key.clone(),
            );
            move |s: &mut Station| s.enrol_passkey(&token, &credential, &public)
        };
        let act1 = desk.prepare_passkey_act(enrol(&one.key)).unwrap();
        let act2 = desk.prepare_passkey_act(enrol(&two_key)).unwrap();
        let sig1 = one.assert(&act1.challenge(), DESK, 0x05);
        let mut sig2 = two.assert(&act2.challenge(), DESK, 0x05);
        sig2.credential = two_key.credential.clone();
        desk.sign_passkey_act(&act1, &sig1, enrol(&one.key))
            .unwrap();
        let size = desk.ledger().size().unwrap();
        let why = desk
            .sign_passkey_act(&act2, &sig2, enrol(&two_key))
            .unwrap_err();
        assert!(
            matches!(
                why,
                Error::PasskeyRefused {
                    why: PasskeyProblem::Invitation
                }
            ),
            "{why}"
        );
        assert_eq!(desk.ledger().size().unwrap(), size);
        desk.verify(None, None).unwrap();

        // Another person cannot enrol a passkey under the id of tanaka's.
        let other = sato.invite_passkey("sato", DESK).unwrap();
        let mut sato_desk = Station::open(&home, "sato").unwrap();
        let thief = SoftKey::new(DESK, "localhost");
        let (t, c, p) = (
            other.token.clone(),
            one.key.credential.clone(),
            thief.key.public_key.clone(),
        );
        let why = sato_desk
            .prepare_passkey_act(|s| s.enrol_passkey(&t, &c, &p))
            .unwrap_err();
        assert!(why.to_string().contains("registered already"), "{why}");
    }

    #[test]
    fn a_passkey_does_not_sign_the_people_registers_own_acts() {
        let (_dir, home, mut sato) = home();
        let soft = SoftKey::new(DESK, "localhost");
        let mut desk = enrol(&mut sato, &home, "tanaka", &soft);
        let why = desk
            .prepare_passkey_act(|s| s.add_person("yamada", Role::Clerk, None))
            .unwrap_err();
        assert!(
            matches!(
                why,
                Error::PasskeyRefused {
                    why: PasskeyProblem::NeedsPersonalKey
                }
            ),
            "{why}"
        );
        let why = desk
            .prepare_passkey_act(|s| s.remove_person("sato", "moved to another office"))
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(
                why,
                Error::PasskeyRefused {
                    why: PasskeyProblem::NeedsPersonalKey
                }
            ),
            "{why}"
        );
    }

    #[test]
    fn an_assertion_holds_for_its_act_only() {
        let soft = SoftKey::new("https://desk.example", "desk.example");
        let challenge = act_challenge("approve", "CO-1", "sato", &"ab".repeat(32));
        let good = soft.assert(&challenge, "https://desk.example", 0x05);
        assert_eq!(soft.key.check(&good, &challenge), Ok(()));
        let text = good.to_text();
        assert!(Assertion::is_passkey(&text));
        assert_eq!(Assertion::from_text(&text), Some(good.clone()));

        // Another act, another origin, no verification of the person, a changed
        // byte, another credential: each refused, with its reason.
        let other = act_challenge("reject", "CO-1", "sato", &"ab".repeat(32));
        let why = soft.key.check(&good, &other).unwrap_err();
        assert!(why.contains("another act"), "{why}");
        let elsewhere = soft.assert(&challenge, "https://evil.example", 0x05);
        let why = soft.key.check(&elsewhere, &challenge).unwrap_err();
        assert!(why.contains("evil.example"), "{why}");
        let unverified = soft.assert(&challenge, "https://desk.example", 0x01);
        let why = soft.key.check(&unverified, &challenge).unwrap_err();
        assert!(why.contains("did not verify"), "{why}");
        let mut forged = good.clone();
        let mut sig = unb64(&forged.signature, "").unwrap();
        let last = sig.len() - 1;
        sig[last] ^= 1;
        forged.signature = b64(&sig);
        let why = soft.key.check(&forged, &challenge).unwrap_err();
        assert!(why.contains("does not verify"), "{why}");
        let mut stranger = good;
        stranger.credential = b64url(b"credential-2");
        assert!(soft.key.check(&stranger, &challenge).is_err());
        assert!(PasskeyKey::check_public_key(&soft.key.public_key).is_ok());
        assert!(PasskeyKey::check_public_key(&b64(b"not a key")).is_err());
        assert_eq!(soft.key.key_id().len(), 16);
    }
}
