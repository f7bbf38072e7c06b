//! Sign-in with passkeys, sessions, enrolment, and the acts a person signs at the
//! desk: each act is prepared by core (every check, nothing written), signed in the
//! person's browser, and recorded by core with that signature, or not at all.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use base64::Engine as _;
use custody_core::people::passkey::{Assertion, PreparedAct, b64url};
use custody_core::{Error, PasskeyProblem, RecordId, Station};
use serde::Deserialize;
use serde_json::json;

use super::Desk;
use super::web::cookie;

/// A session ends after this long without a request.
pub(crate) const IDLE: Duration = Duration::from_secs(15 * 60);
/// A prepared act waits this long for its signature.
const PENDING: Duration = Duration::from_secs(5 * 60);
/// Failed sign-ins from one address before it must wait.
const FAILURES: usize = 5;
/// How long failures count.
const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Sign-ins one address may begin in that window, failed or not.
const ATTEMPTS: usize = 30;
/// Acts that may wait for a signature at once, in all, and for one browser.
const WAITING_MAX: usize = 1000;
const WAITING_PER_OWNER: usize = 10;
/// Addresses remembered for throttling; beyond this, the oldest are forgotten.
const ADDRESSES_MAX: usize = 10_000;

/// A signed-in person.
struct Session {
    name: String,
    last: Instant,
}

/// What a prepared act was, so that the same workflow runs again with its signature.
#[derive(Clone)]
pub(crate) enum Work {
    /// Enrol a passkey with an invitation's token.
    Enrol {
        token: String,
        credential: String,
        public_key: String,
    },
    /// Sign in.
    SignIn { desk: String },
    /// Approve (with a comment) or reject (with a reason) a request.
    Decide {
        id: RecordId,
        approve: bool,
        note: Option<String>,
        /// For a carry-out of personal data unencrypted: why the manager accepts it.
        accept_unencrypted: Option<String>,
    },
    /// File a carry-out (`custody carryout new`).
    FileCarryout(custody_core::registers::carryout::NewCarryout),
    /// Ask for approval to send (`custody request new --kind send`).
    FileSend { summary: String },
    /// Ask to download personal data (`custody download new`).
    FileDownload { content: String, system: String },
    /// Put a retained item on hold (`custody retain hold`).
    Hold { id: RecordId, reason: String },
    /// Release a hold (`custody retain release`).
    Release { id: RecordId },
    /// Invite a person to enrol a passkey (`custody people invite`), with the SHA-256
    /// of a token only the manager's browser holds.
    Invite {
        name: String,
        desk: String,
        token_sha256: String,
        expires: custody_core::Timestamp,
    },
    /// Sign a certificate off (`custody cert sign-off`), the validator's signature
    /// made by their passkey over the sign-off statement stamped `at`.
    SignOff {
        id: RecordId,
        comment: Option<String>,
        details: custody_core::erasure::WipeDetails,
        at: String,
        assertion: Assertion,
    },
}

impl Work {
    /// Runs the workflow on `station`.
    pub(crate) fn run(&self, station: &mut Station) -> custody_core::Result<RecordId> {
        match self {
            Work::Enrol {
                token,
                credential,
                public_key,
            } => station.enrol_passkey(token, credential, public_key),
            Work::SignIn { desk } => station.record_sign_in(desk),
            Work::Decide {
                id,
                approve,
                note,
                accept_unencrypted,
            } => {
                let decided = if *approve {
                    station.approve_with(
                        id,
                        &custody_core::registers::requests::Approval {
                            comment: note.as_deref(),
                            accept_unencrypted: accept_unencrypted.as_deref(),
                        },
                    )?
                } else {
                    station.reject(id, note.as_deref().unwrap_or_default())?
                };
                Ok(decided.id)
            }
            Work::FileCarryout(new) => station.new_carryout(new),
            Work::FileSend { summary } => station.file_request(
                custody_core::registers::requests::RequestKind::Send,
                summary,
                json!({}),
            ),
            Work::FileDownload { content, system } => station.new_download(content, system, None),
            Work::Hold { id, reason } => station.retain_hold(id, reason).map(|()| id.clone()),
            Work::Release { id } => station.retain_release(id).map(|()| id.clone()),
            Work::Invite {
                name,
                desk,
                token_sha256,
                expires,
            } => station
                .invite_passkey_by_hash(name, desk, token_sha256, *expires)
                .map(|invited| invited.person),
            Work::SignOff {
                id,
                comment,
                details,
                at,
                assertion,
            } => station
                .sign_off_with(
                    id,
                    comment.as_deref(),
                    details,
                    &custody_core::erasure::certificate::Validation::Passkey {
                        at: at.clone(),
                        assertion: assertion.clone(),
                    },
                )
                .map(|cert| cert.id),
        }
    }
}

/// An act waiting for its passkey signature: for whom (the browser or the session
/// that asked), and since when.
struct Waiting {
    act: PreparedAct,
    work: Work,
    owner: String,
    since: Instant,
}

/// The desk's memory: sessions, acts waiting for a signature, failed sign-ins.
/// Nothing here is a record: records are in the ledger.
#[derive(Default)]
pub(crate) struct Memory {
    sessions: Mutex<HashMap<String, Session>>,
    waiting: Mutex<HashMap<String, Waiting>>,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    attempts: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Memory {
    /// The person signed in with the session cookie of `headers`, if the session is
    /// live (its idle time is reset).
    pub(crate) fn user(&self, headers: &HeaderMap, tls: bool) -> Option<String> {
        let id = cookie(headers, session_cookie(tls))?;
        let mut sessions = lock(&self.sessions);
        let session = sessions.get_mut(id)?;
        if session.last.elapsed() > IDLE {
            // Over: [`Memory::sweep`] ends it and says so in the door journal.
            return None;
        }
        session.last = Instant::now();
        Some(session.name.clone())
    }

    /// Starts a session for `name`: a new id, never one the browser had before.
    pub(crate) fn start(&self, name: &str) -> String {
        let id = super::web::new_token();
        let mut sessions = lock(&self.sessions);
        sessions.insert(
            id.clone(),
            Session {
                name: name.to_owned(),
                last: Instant::now(),
            },
        );
        id
    }

    /// Ends the session of `headers`; returns whose it was, if it was live.
    pub(crate) fn end(&self, headers: &HeaderMap, tls: bool) -> Option<String> {
        let id = cookie(headers, session_cookie(tls))?;
        lock(&self.sessions)
            .remove(id)
            .filter(|s| s.last.elapsed() <= IDLE)
            .map(|s| s.name)
    }

    /// Ends every session idle for longer than [`IDLE`]; returns whose they were.
    pub(crate) fn sweep(&self) -> Vec<String> {
        let mut ended = Vec::new();
        lock(&self.sessions).retain(|_, s| {
            let live = s.last.elapsed() <= IDLE;
            if !live {
                ended.push(s.name.clone());
            }
            live
        });
        ended
    }

    /// The work of the act waiting under `handle`, if one does.
    pub(crate) fn work_of(&self, handle: &str) -> Option<Work> {
        lock(&self.waiting).get(handle).map(|w| w.work.clone())
    }

    /// Who an act waiting for its signature is for, if one waits under `handle`.
    pub(crate) fn waiting_for(&self, handle: &str) -> Option<String> {
        lock(&self.waiting).get(handle).map(|w| w.act.actor.clone())
    }

    /// Ends every session of `name` (removed from the register).
    pub(crate) fn end_all(&self, name: &str) {
        lock(&self.sessions).retain(|_, s| s.name != name);
    }

    /// Keeps a prepared act for `owner`; returns its handle, or `None` when too many
    /// acts wait already.
    pub(crate) fn wait(&self, act: PreparedAct, work: Work, owner: &str) -> Option<String> {
        let handle = super::web::new_token();
        let mut waiting = lock(&self.waiting);
        waiting.retain(|_, w| w.since.elapsed() <= PENDING);
        let mine: Vec<(String, Instant)> = waiting
            .iter()
            .filter(|(_, w)| w.owner == owner)
            .map(|(h, w)| (h.clone(), w.since))
            .collect();
        if mine.len() >= WAITING_PER_OWNER {
            // A browser that asks again and again keeps only its latest acts.
            if let Some((oldest, _)) = mine.iter().min_by_key(|(_, since)| *since) {
                waiting.remove(oldest);
            }
        }
        if waiting.len() >= WAITING_MAX {
            return None;
        }
        waiting.insert(
            handle.clone(),
            Waiting {
                act,
                work,
                owner: owner.to_owned(),
                since: Instant::now(),
            },
        );
        Some(handle)
    }

    /// Takes the act `handle` names, once, if `owner` asked for it and it is fresh.
    pub(crate) fn take(&self, handle: &str, owner: &str) -> Option<(PreparedAct, Work)> {
        let mut waiting = lock(&self.waiting);
        let w = waiting.remove(handle)?;
        (w.owner == owner && w.since.elapsed() <= PENDING).then_some((w.act, w.work))
    }

    /// Whether `ip` has failed to sign in, or begun to, too often lately.
    pub(crate) fn throttled(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return false };
        let recent = |map: &Mutex<HashMap<IpAddr, Vec<Instant>>>| {
            let mut map = lock(map);
            map.retain(|_, list| {
                list.retain(|at| at.elapsed() <= FAILURE_WINDOW);
                !list.is_empty()
            });
            map.get(&ip).map_or(0, Vec::len)
        };
        recent(&self.failures) >= FAILURES || recent(&self.attempts) >= ATTEMPTS
    }

    /// Counts a failed sign-in from `ip`.
    pub(crate) fn failed(&self, ip: Option<IpAddr>) {
        note(&self.failures, ip);
    }

    /// Counts a sign-in begun from `ip`.
    pub(crate) fn attempted(&self, ip: Option<IpAddr>) {
        note(&self.attempts, ip);
    }
}

/// Counts one event from `ip` in `map`, which remembers a bounded number of
/// addresses.
fn note(map: &Mutex<HashMap<IpAddr, Vec<Instant>>>, ip: Option<IpAddr>) {
    let Some(ip) = ip else { return };
    let mut map = lock(map);
    if map.len() >= ADDRESSES_MAX && !map.contains_key(&ip) {
        map.retain(|_, list| list.iter().any(|at| at.elapsed() <= FAILURE_WINDOW));
        if map.len() >= ADDRESSES_MAX {
            map.clear();
        }
    }
    map.entry(ip).or_default().push(Instant::now());
}

/// The session cookie's name (`__Host-` under TLS).
pub(crate) fn session_cookie(tls: bool) -> &'static str {
    if tls {
        "__Host-custody-session"
    } else {
        "custody-session"
    }
}

/// The `Set-Cookie` value of a new session.
pub(crate) fn session_set_cookie(id: &str, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Strict{secure}",
        session_cookie(tls)
    )
}

/// An assertion as the desk's script sends it: every field base64url.
#[derive(Deserialize)]
pub(crate) struct Signed {
    pub(crate) pending: String,
    credential: String,
    authenticator_data: String,
    client_data_json: String,
    signature: String,
}

impl Signed {
    /// The assertion, in the form the ledger keeps; `None` when a field is not
    /// base64url.
    pub(crate) fn assertion(&self) -> Option<Assertion> {
        let d = |text: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .ok()
        };
        Some(Assertion::new(
            &d(&self.credential)?,
            &d(&self.authenticator_data)?,
            &d(&self.client_data_json)?,
            &d(&self.signature)?,
        ))
    }
}

/// The passkeys the browser may sign `act` with: the one being enrolled, or the
/// person's own.
pub(crate) fn credentials_for(
    station: &Station,
    act: &PreparedAct,
) -> custody_core::Result<Vec<String>> {
    if act.kind == "passkey-enroll" {
        let payload = act.payload();
        return Ok(vec![
            payload["credential"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ]);
    }
    Ok(station
        .passkeys(&act.actor)?
        .into_iter()
        .map(|(_, key)| key.credential)
        .collect())
}

/// What the browser needs to ask for a signature over `act`: the handle, the
/// challenge, the passkeys it may use, and what will be recorded.
pub(crate) fn challenge_reply(handle: &str, act: &PreparedAct, credentials: &[String]) -> Response {
    Json(json!({
        "pending": handle,
        "challenge": b64url(&act.challenge()),
        "credentials": credentials,
        "record": { "kind": act.kind, "subject": act.subject, "actor": act.actor, "payload": act.payload() },
    }))
    .into_response()
}

/// A JSON error for the desk's script, worded for the person, with the status that
/// says what kind of refusal it is.
pub(crate) fn api_error(error: &Error) -> Response {
    let status = match error {
        Error::NotAllowed { .. } => StatusCode::FORBIDDEN,
        Error::PasskeyRefused { why } => match why {
            PasskeyProblem::Standing(_) | PasskeyProblem::Invitation => StatusCode::FORBIDDEN,
            _ => StatusCode::CONFLICT,
        },
        Error::KeyNotValid { .. } => StatusCode::FORBIDDEN,
        Error::NoSuchRecord { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    let text = crate::say::error(error).unwrap_or_else(|| error.to_string());
    (status, Json(json!({ "error": text }))).into_response()
}

/// A JSON refusal with a catalogue message.
pub(crate) fn api_refusal(lang: custody_core::Lang, status: StatusCode, id: &str) -> Response {
    let text = crate::i18n::text_in(lang, id, &[]);
    (status, Json(json!({ "error": text }))).into_response()
}

/// Runs `f` on the station opened for `name`, off the async threads.
pub(crate) async fn on_station<T: Send + 'static>(
    desk: &Arc<Desk>,
    name: &str,
    f: impl FnOnce(&mut Station) -> custody_core::Result<T> + Send + 'static,
) -> custody_core::Result<T> {
    let desk = desk.clone();
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut station = Station::open(&desk.home, &name)?;
        f(&mut station)
    })
    .await
    .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
}

/// The desk's own origin as the browser sees it (for the sign-in record).
pub(crate) fn origin_of(headers: &HeaderMap, tls: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    format!("{}://{host}", if tls { "https" } else { "http" })
}
