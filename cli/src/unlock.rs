//! Getting the person's key unlocked: from the agent, or from their key file and a
//! passphrase read from a file, a file descriptor, or the terminal (asked once, then
//! kept by the agent for the unlock window). A passphrase is never read from a
//! command-line argument or an environment variable's value.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::Args;
use custody_core::Unlocker;
use custody_core::people::key::{Passphrase, PersonalKey, Signer, default_key_path};
use zeroize::Zeroizing;

use crate::Refused;
use crate::i18n::t;

/// How scripts hand custody the person's key (every command takes these).
#[derive(Debug, Clone, Default, Args)]
pub struct KeyArgs {
    /// Your personal key file (default: $XDG_CONFIG_HOME/custody/keys/NAME.key).
    #[arg(long = "key", global = true, env = "CUSTODY_KEY", value_name = "FILE")]
    pub personal_key: Option<PathBuf>,
    /// Read your key's passphrase from the first line of FILE (for scripts; keep the
    /// file private). Without it, custody asks on the terminal.
    #[arg(
        long,
        global = true,
        env = "CUSTODY_KEY_PASSPHRASE_FILE",
        value_name = "FILE",
        conflicts_with = "key_passphrase_fd"
    )]
    pub key_passphrase_file: Option<PathBuf>,
    /// Read your key's passphrase from the open file descriptor N.
    #[arg(long, global = true, value_name = "N")]
    pub key_passphrase_fd: Option<u32>,
}

static KEY_ARGS: OnceLock<KeyArgs> = OnceLock::new();

/// Keeps the key options of this run for [`unlocker`].
pub fn remember(args: KeyArgs) {
    let _ = KEY_ARGS.set(args);
}

fn args() -> KeyArgs {
    KEY_ARGS.get().cloned().unwrap_or_default()
}

/// Where `name`'s key file is: `--key`, else the default place.
pub fn key_path(name: &str) -> custody_core::Result<PathBuf> {
    match args().personal_key {
        Some(path) => Ok(path),
        None => default_key_path(name),
    }
}

/// The passphrase given by file or file descriptor, if one was.
fn given_passphrase() -> anyhow::Result<Option<Passphrase>> {
    let args = args();
    let path = match (args.key_passphrase_file, args.key_passphrase_fd) {
        (Some(path), _) => path,
        (None, Some(fd)) => PathBuf::from(format!("/dev/fd/{fd}")),
        (None, None) => return Ok(None),
    };
    Ok(Some(Passphrase::from_file(&path)?))
}

fn prompt(text: &str) -> anyhow::Result<Passphrase> {
    let typed = Zeroizing::new(rpassword::prompt_password(text)?);
    Ok(Passphrase::new(typed))
}

/// The unlocker a station uses when a write first needs the actor's key: the agent's
/// key while the unlock window is open; else the key file with the passphrase given,
/// or asked on the terminal (the agent then keeps the key for the window).
pub fn unlocker() -> Unlocker {
    Box::new(|name: &str| {
        if let Some(signer) = crate::agent::borrow(name) {
            return Ok(signer);
        }
        let path = key_path(name)?;
        if !path.is_file() {
            return Err(custody_core::Error::Locked {
                actor: name.to_owned(),
                looked: path,
                exists: false,
            });
        }
        let passphrase = match given_passphrase().map_err(core_error)? {
            Some(passphrase) => passphrase,
            None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
                let asked = prompt(&t!(
                    "prompt-key-passphrase",
                    name = name,
                    path = path.display()
                ))
                .map_err(core_error)?;
                let key = PersonalKey::load(&path, name, &asked)?;
                crate::agent::keep(&path, name, &asked);
                return Ok(Box::new(key) as Box<dyn Signer>);
            }
            None => {
                return Err(custody_core::Error::Locked {
                    actor: name.to_owned(),
                    looked: path,
                    exists: true,
                });
            }
        };
        Ok(Box::new(PersonalKey::load(&path, name, &passphrase)?) as Box<dyn Signer>)
    })
}

fn core_error(e: anyhow::Error) -> custody_core::Error {
    match e.downcast::<custody_core::Error>() {
        Ok(core) => core,
        Err(other) => custody_core::Error::Io(std::io::Error::other(other.to_string())),
    }
}

/// The witness's own key, unlocked by them: from `key` (else their default key file)
/// with the passphrase in `passphrase_file`, else typed by the witness on the
/// terminal. Never the agent's: a witness signs in person.
pub fn witness_key(
    name: &str,
    key: Option<&Path>,
    passphrase_file: Option<&Path>,
) -> anyhow::Result<Box<dyn Signer>> {
    let path = match key {
        Some(path) => path.to_path_buf(),
        None => default_key_path(name)?,
    };
    let passphrase = match passphrase_file {
        Some(file) => Passphrase::from_file(file)?,
        None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => prompt(&t!(
            "prompt-witness-passphrase",
            name = name,
            path = path.display()
        ))?,
        None => {
            return Err(custody_core::Error::Locked {
                actor: name.to_owned(),
                looked: path.clone(),
                exists: path.is_file(),
            }
            .into());
        }
    };
    Ok(Box::new(PersonalKey::load(&path, name, &passphrase)?))
}

/// The passphrase of the key at `path`: given by file or descriptor, else asked.
pub fn passphrase_for(name: &str, path: &Path) -> anyhow::Result<Passphrase> {
    if let Some(passphrase) = given_passphrase()? {
        return Ok(passphrase);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(custody_core::Error::Locked {
            actor: name.to_owned(),
            looked: path.to_path_buf(),
            exists: path.is_file(),
        }
        .into());
    }
    prompt(&t!(
        "prompt-key-passphrase",
        name = name,
        path = path.display()
    ))
}

/// A new passphrase for `name`'s new key: from the file or descriptor given, else
/// typed twice on the terminal; refused when weak.
pub fn new_passphrase(name: &str, hints: &[&str]) -> anyhow::Result<Passphrase> {
    let passphrase = match given_passphrase()? {
        Some(passphrase) => passphrase,
        None => {
            if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
                anyhow::bail!(Refused(t!("new-key-needs-passphrase")));
            }
            eprintln!("{}", t!("choose-passphrase", name = name));
            let first = prompt(&t!("prompt-new-passphrase"))?;
            let second = prompt(&t!("prompt-again"))?;
            if first.is_empty() || !same(&first, &second) {
                anyhow::bail!(Refused(t!("passphrases-differ-recorded")));
            }
            first
        }
    };
    let mut all_hints: Vec<&str> = hints.to_vec();
    all_hints.push(name);
    passphrase.check_strength(&all_hints)?;
    Ok(passphrase)
}

fn same(a: &Passphrase, b: &Passphrase) -> bool {
    a.expose_secret() == b.expose_secret()
}

/// Makes `name`'s new key, protected by a new passphrase; returns it with where its
/// file is to be written.
pub fn new_key(
    name: &str,
    hints: &[&str],
) -> anyhow::Result<(custody_core::people::key::NewKey, PathBuf)> {
    let path = key_path(name)?;
    if path.exists() {
        anyhow::bail!(Refused(t!("key-file-exists", path = path.display())));
    }
    let passphrase = new_passphrase(name, hints)?;
    let new = PersonalKey::generate(name, &passphrase)?;
    Ok((new, path))
}

/// Writes a new key file; shows where.
pub fn write_key(path: &Path, text: &str) -> custody_core::Result<PathBuf> {
    PersonalKey::write_file(path, text)?;
    Ok(path.to_path_buf())
}
