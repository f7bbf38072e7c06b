//! The desk's door journal: every sign-in, sign-out and failed sign-in, with when and
//! from where.
//!
//! A sign-in is also in the ledger, signed by the person's passkey. A sign-out (or a
//! session that ran out) and a failed attempt have no one to sign them, and a
//! stranger's failures must not grow the ledger, so the journal is a file of the data
//! home (`access.jsonl`), one JSON object a line, each line synced as it is written.
//! It is kept to [`KEEP_BYTES`]: past that, the file is moved to `access.1.jsonl`
//! (the one before is dropped) and a new one begun. It is not tamper-evident, as the
//! ledger is; it says who tried the door.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::clock::Timestamp;

/// The journal's size at which it is moved aside and a new one begun.
pub const KEEP_BYTES: u64 = 8 << 20;

/// What happened at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Door {
    /// A person signed in (their signed record is in the ledger).
    SignIn,
    /// A person signed out.
    SignOut,
    /// A session ended after its idle time.
    Expired,
    /// A sign-in was refused: an unknown name, no passkey, a bad signature.
    Failed,
    /// Too many attempts from one address: it must wait.
    Throttled,
}

impl Door {
    /// The word, as the journal writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Door::SignIn => "sign-in",
            Door::SignOut => "sign-out",
            Door::Expired => "expired",
            Door::Failed => "failed",
            Door::Throttled => "throttled",
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Knock {
    /// When, as the ledger writes times.
    pub at: String,
    /// What.
    pub event: Door,
    /// The name given (typed, for a failed attempt), or empty when none was.
    pub name: String,
    /// The address it came from.
    pub from: String,
}

fn journal(home: &Path) -> PathBuf {
    home.join("access.jsonl")
}

/// Appends what happened at the door of the desk of `home`, now.
pub fn record(home: &Path, event: Door, name: &str, from: &str) -> Result<()> {
    let knock = Knock {
        at: Timestamp::now().ledger(),
        event,
        // A typed name is the stranger's text: bounded, on one line.
        name: name.chars().filter(|c| !c.is_control()).take(64).collect(),
        from: from.chars().take(64).collect(),
    };
    let path = journal(home);
    if fs_err::metadata(&path).is_ok_and(|m| m.len() >= KEEP_BYTES) {
        fs_err::rename(&path, home.join("access.1.jsonl"))?;
    }
    let mut line = serde_json::to_vec(&knock).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    file.write_all(&line)?;
    file.sync_data()?;
    Ok(())
}

/// The last `count` knocks, newest first (a line that does not read is skipped).
pub fn recent(home: &Path, count: usize) -> Result<Vec<Knock>> {
    let text = match fs_err::read_to_string(journal(home)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(text
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str(line).ok())
        .take(count)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knocks_are_kept_newest_first_and_a_full_journal_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        record(dir.path(), Door::Failed, "nobody\n{\"x\"", "127.0.0.1").unwrap();
        record(dir.path(), Door::SignIn, "tanaka", "127.0.0.1").unwrap();
        let knocks = recent(dir.path(), 10).unwrap();
        assert_eq!(knocks.len(), 2);
        assert_eq!(knocks[0].event, Door::SignIn);
        assert_eq!(knocks[1].name, "nobody{\"x\"");
        let text = fs_err::read_to_string(dir.path().join("access.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 2);
        // Full: moved aside, and a new journal begun.
        let full = fs_err::OpenOptions::new()
            .append(true)
            .open(dir.path().join("access.jsonl"))
            .unwrap();
        full.set_len(KEEP_BYTES).unwrap();
        record(dir.path(), Door::SignOut, "tanaka", "127.0.0.1").unwrap();
        assert!(dir.path().join("access.1.jsonl").is_file());
        let knocks = recent(dir.path(), 10).unwrap();
        assert_eq!(knocks.len(), 1);
        assert_eq!(knocks[0].event, Door::SignOut);
    }
}
