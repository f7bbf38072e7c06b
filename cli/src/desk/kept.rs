//! Stations kept open for signed-in people between their requests.
//!
//! Opening a station for a person proves their role from the ledger's entries, which
//! is most of what a page costs. A kept station is used again only while the ledger's
//! tip (its last entry's number and hash) is where it was when the person's standing
//! was proven; once anything is appended, or the ledger is replaced, the station is
//! opened and their standing proven anew. So a person removed, or whose passkeys are
//! revoked, is turned away at their next request, as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use custody_core::Station;
use custody_core::people::Role;
use tokio::sync::Semaphore;

use super::Desk;

/// Stations kept for one person at most.
const PER_PERSON: usize = 8;
/// People whose stations are kept at most; beyond, the kept stations are let go.
const PEOPLE: usize = 64;

/// A station opened for a person who stood when the ledger's tip was `tip`.
struct Standing {
    station: Station,
    tip: (i64, String),
}

/// The kept stations, and how many pages may read at once.
pub(crate) struct Kept {
    idle: Mutex<HashMap<String, Vec<Standing>>>,
    /// Pages that read at once: more would only queue on the two cores and the
    /// database, each with a station of its own.
    readers: Semaphore,
}

impl Default for Kept {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Kept {
            idle: Mutex::default(),
            readers: Semaphore::new((2 * cores).clamp(4, PER_PERSON)),
        }
    }
}

impl Kept {
    fn idle(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Standing>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self, name: &str) -> Option<Standing> {
        self.idle().get_mut(name).and_then(Vec::pop)
    }

    fn give_back(&self, name: &str, standing: Standing) {
        let mut idle = self.idle();
        if !idle.contains_key(name) && idle.len() >= PEOPLE {
            idle.clear();
        }
        let mine = idle.entry(name.to_owned()).or_default();
        if mine.len() < PER_PERSON {
            mine.push(standing);
        }
    }

    /// Lets go of every station kept for `name` (they signed out, or no longer stand).
    pub(crate) fn forget(&self, name: &str) {
        self.idle().remove(name);
    }
}

/// Runs `f` on a station opened for `name`, if they still stand: registered, with a
/// role, and with a passkey not revoked. `None` when they do not stand (or their
/// station cannot be opened); `f`'s own error is returned as its result.
pub(crate) async fn as_standing<T: Send + 'static>(
    desk: &Arc<Desk>,
    name: &str,
    f: impl FnOnce(&mut Station) -> custody_core::Result<T> + Send + 'static,
) -> Option<(Option<Role>, custody_core::Result<T>)> {
    let _turn = desk.kept.readers.acquire().await.ok()?;
    let desk = desk.clone();
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut standing = standing(&desk, &name).ok()??;
        let role = standing.station.actor().role;
        let read = f(&mut standing.station);
        if read.is_ok() {
            desk.kept.give_back(&name, standing);
        }
        Some((role, read))
    })
    .await
    .ok()?
}

/// A kept station of `name` whose proof still holds, else one opened and proven now;
/// `None` when they do not stand.
fn standing(desk: &Desk, name: &str) -> custody_core::Result<Option<Standing>> {
    // A kept station that cannot say its tip (the server went away) is let go.
    if let Some(kept) = desk.kept.take(name)
        && kept.station.ledger().tip().is_ok_and(|tip| tip == kept.tip)
    {
        return Ok(Some(kept));
    }
    let station = Station::open(&desk.home, name)?;
    // The tip is read before the standing is proven: an entry appended in between
    // moves the tip, and the next request proves the standing again.
    let tip = station.ledger().tip()?;
    let who = station.actor().name.clone();
    let stands = station.actor().role.is_some()
        && station.role_of(&who)?.is_some()
        && !station.passkeys(&who)?.is_empty();
    Ok(stands.then_some(Standing { station, tip }))
}

/// Runs the read `f` for `name`, found standing earlier in this request, on a kept
/// station; refused as unregistered if they stopped standing in between.
pub(crate) async fn read_as<T: Send + 'static>(
    desk: &Arc<Desk>,
    name: &str,
    f: impl FnOnce(&mut Station) -> custody_core::Result<T> + Send + 'static,
) -> custody_core::Result<T> {
    match as_standing(desk, name, f).await {
        Some((_, read)) => read,
        None => Err(custody_core::Error::NotAllowed {
            actor: name.to_owned(),
            action: "read at the desk".to_owned(),
            reason: Box::new(custody_core::Denial::NotRegistered),
        }),
    }
}
