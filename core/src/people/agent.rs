//! The unlock agent: a small process per person that holds their unlocked key for a
//! sitting, so that the passphrase is asked once, not for every command.
//!
//! It listens on a unix socket in `$XDG_RUNTIME_DIR/custody/` (folder 0700, socket
//! 0600), keeps the key only in memory (overwritten when it ends) and signs what
//! custody asks it to sign. It stops accepting new commands when its window ends
//! (15 minutes by default) and exits once the commands already connected are done:
//! a wipe of hours keeps the key it unlocked at its start until it has recorded its
//! results. Asked to lock, it exits at once. Nothing is written to disk.
//!
//! The protocol is one line per request: `PUBLIC` → `OK NAME-BASE64 KEY-BASE64`;
//! `SIGN COMMENT-BASE64 MESSAGE-BASE64` → `OK SIGNATURE-BASE64`; `LOCK` → `OK`, then
//! the agent exits. Errors are `ERR TEXT`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::key::{PersonalKey, Signer};
use crate::error::{Error, Result};
use crate::keys::StationPublicKey;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The folder of the agents' sockets, when the session has a runtime folder.
pub fn socket_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("custody"))
}

/// The socket of `name`'s agent.
pub fn socket_for(name: &str) -> Option<PathBuf> {
    let digest = Sha256::digest(name.as_bytes());
    socket_dir().map(|dir| dir.join(format!("agent-{}.sock", hex::encode(&digest[..8]))))
}

/// Serves `key` on `socket` for `window`; calls `ready` once it listens. Returns when
/// the window has ended and no command is connected, or when asked to lock.
pub fn serve(
    socket: &Path,
    key: PersonalKey,
    window: Duration,
    ready: impl FnOnce(),
) -> Result<()> {
    if let Some(dir) = socket.parent() {
        use std::os::unix::fs::DirBuilderExt;
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::File {
                    path: dir.to_path_buf(),
                    source: e,
                })?;
        }
    }
    // An agent already there is told to lock: this one replaces it.
    if socket.exists() {
        let _ = request(socket, "LOCK");
        let _ = std::fs::remove_file(socket);
    }
    let listener = UnixListener::bind(socket).map_err(|e| Error::File {
        path: socket.to_path_buf(),
        source: e,
    })?;
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
    }
    let ours = socket_identity(socket);
    ready();
    let key = Arc::new(key);
    let locked = Arc::new(AtomicBool::new(false));
    let closing = Arc::new(AtomicBool::new(false));
    let connected = Arc::new(AtomicUsize::new(0));
    {
        // The watchman: when the window ends or a lock is asked for, the socket goes
        // (no new command gets the key) and the accept below is woken.
        let (locked, closing) = (Arc::clone(&locked), Arc::clone(&closing));
        let socket = socket.to_path_buf();
        let deadline = Instant::now() + window;
        let listening = std::os::fd::AsRawFd::as_raw_fd(&listener);
        std::thread::spawn(move || {
            while Instant::now() < deadline && !locked.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
            closing.store(true, Ordering::SeqCst);
            remove_if_ours(&socket, ours);
            // Shutting the listening socket down makes the blocked accept return.
            let _ = nix::sys::socket::shutdown(listening, nix::sys::socket::Shutdown::Both);
        });
    }
    for stream in listener.incoming() {
        if closing.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // A failed accept other than the shutdown above: wait a moment, so that
            // a lasting failure does not spin.
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let (key, locked, connected) = (
            Arc::clone(&key),
            Arc::clone(&locked),
            Arc::clone(&connected),
        );
        let socket = socket.to_path_buf();
        connected.fetch_add(1, Ordering::SeqCst);
        std::thread::spawn(move || {
            let lock = || {
                // No command connects after a lock is asked for.
                remove_if_ours(&socket, ours);
                locked.store(true, Ordering::SeqCst);
            };
            let _ = answer(stream, &key, &lock, &locked);
            connected.fetch_sub(1, Ordering::SeqCst);
        });
    }
    // Commands already connected (a long wipe) keep the key until they are done,
    // unless a lock was asked for.
    while connected.load(Ordering::SeqCst) > 0 && !locked.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    remove_if_ours(socket, ours);
    Ok(())
}

/// The device and inode of the socket file, to tell it from a later agent's.
fn socket_identity(socket: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(socket)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Removes the socket file only while it is still this agent's (a later agent may
/// have taken its place).
fn remove_if_ours(socket: &Path, ours: Option<(u64, u64)>) {
    if ours.is_some() && socket_identity(socket) == ours {
        let _ = std::fs::remove_file(socket);
    }
}

/// Answers one connection's requests until it closes.
fn answer(
    stream: UnixStream,
    key: &PersonalKey,
    lock: &dyn Fn(),
    locked: &AtomicBool,
) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let reader = BufReader::new(stream);
    for line in reader.lines() {
        let line = line?;
        let mut words = line.split(' ');
        let reply = match (words.next(), words.next(), words.next()) {
            (Some("PUBLIC"), None, None) => {
                format!("OK {} {}", B64.encode(key.name()), key.public().to_base64())
            }
            (Some("SIGN"), Some(comment), Some(message)) => match (
                B64.decode(comment)
                    .ok()
                    .and_then(|c| String::from_utf8(c).ok()),
                B64.decode(message),
            ) {
                (Some(comment), Ok(message)) => match key.sign(&message, &comment) {
                    Ok(signature) => format!("OK {}", B64.encode(signature)),
                    Err(e) => format!("ERR {e}"),
                },
                _ => "ERR the request is not base64".into(),
            },
            (Some("LOCK"), None, None) => {
                lock();
                writer.write_all(b"OK\n")?;
                return Ok(());
            }
            _ => "ERR unknown request".into(),
        };
        // One write: the command waits for the whole line.
        writer.write_all(format!("{reply}\n").as_bytes())?;
        if locked.load(Ordering::SeqCst) {
            return Ok(());
        }
    }
    Ok(())
}

/// Sends one request on a new connection and returns the reply line.
fn request(socket: &Path, line: &str) -> std::io::Result<String> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(line.as_bytes())?;
    stream.write_all(b"\n")?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    Ok(reply.trim_end().to_owned())
}

/// Tells the agent on `socket` to lock; true when one answered.
pub fn lock(socket: &Path) -> bool {
    let answered = request(socket, "LOCK").is_ok_and(|reply| reply == "OK");
    if !answered {
        // Nobody listens there: the socket of an agent that was killed.
        let _ = std::fs::remove_file(socket);
    }
    answered
}

/// Tells every agent of this session to lock; returns how many did.
pub fn lock_all() -> usize {
    let Some(dir) = socket_dir() else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    entries
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("agent-") && n.ends_with(".sock"))
        })
        .filter(|p| lock(p))
        .count()
}

/// A connection to `name`'s agent, which signs for them while it stays open.
pub struct AgentKey {
    name: String,
    public: StationPublicKey,
    stream: Mutex<(BufReader<UnixStream>, UnixStream)>,
}

impl std::fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentKey")
            .field("name", &self.name)
            .field("key_id", &self.public.key_id())
            .finish()
    }
}

impl AgentKey {
    /// Connects to `name`'s agent, when one is running and holds their key.
    pub fn connect(name: &str) -> Option<AgentKey> {
        let socket = socket_for(name)?;
        let stream = UnixStream::connect(&socket).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let mut writer = stream.try_clone().ok()?;
        let mut reader = BufReader::new(stream);
        writer.write_all(b"PUBLIC\n").ok()?;
        let mut reply = String::new();
        reader.read_line(&mut reply).ok()?;
        let mut words = reply.trim_end().split(' ');
        let (Some("OK"), Some(held), Some(public)) = (words.next(), words.next(), words.next())
        else {
            return None;
        };
        let held = String::from_utf8(B64.decode(held).ok()?).ok()?;
        if held != name {
            return None;
        }
        Some(AgentKey {
            name: held,
            public: StationPublicKey::parse(public).ok()?,
            stream: Mutex::new((reader, writer)),
        })
    }
}

impl Signer for AgentKey {
    fn name(&self) -> &str {
        &self.name
    }

    fn public(&self) -> &StationPublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8], trusted_comment: &str) -> Result<String> {
        let failed = |why: String| Error::PersonalKey {
            path: PathBuf::from(&self.name),
            problem: crate::error::KeyProblem::Generate(format!(
                "the unlock agent did not sign: {why}"
            )),
        };
        let mut guard = self
            .stream
            .lock()
            // A poisoned lock means a thread panicked mid-request: nothing to add.
            .map_err(|_| failed("it is in use by a failed request".into()))?;
        let (reader, writer) = &mut *guard;
        let line = format!(
            "SIGN {} {}\n",
            B64.encode(trusted_comment),
            B64.encode(message)
        );
        writer
            .write_all(line.as_bytes())
            .map_err(|e| failed(e.to_string()))?;
        let mut reply = String::new();
        reader
            .read_line(&mut reply)
            .map_err(|e| failed(e.to_string()))?;
        match reply.trim_end().split_once(' ') {
            Some(("OK", signature)) => B64
                .decode(signature)
                .ok()
                .and_then(|s| String::from_utf8(s).ok())
                .ok_or_else(|| failed("its answer is not a signature".into())),
            Some(("ERR", why)) => Err(failed(why.to_owned())),
            _ => Err(failed("it closed the connection (locked)".into())),
        }
    }
}
