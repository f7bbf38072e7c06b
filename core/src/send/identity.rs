//! The office's own keys for receiving: age identities (`AGE-SECRET-KEY-1…`) whose
//! public half senders encrypt to, so that what comes in needs no passphrase at all.
//!
//! A new identity is written as age's own passphrase-protected identity files are:
//! the identity text encrypted to a passphrase (scrypt), ASCII-armored, which
//! `age -d -i FILE` opens after asking for the passphrase. Without a passphrase it
//! is the plain identity text, for a path the person keeps safe themselves.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A new identity: its public key to hand to senders, and its file's bytes.
pub struct NewIdentity {
    /// `age1…`.
    pub public: String,
    /// The identity file: armored and passphrase-protected, or the plain text.
    pub file: Zeroizing<Vec<u8>>,
}

/// Makes a new X25519 identity, protected by `passphrase` when one is given.
pub fn generate(passphrase: Option<&SecretString>) -> Result<NewIdentity> {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let text = Zeroizing::new(format!(
        "# created: {}\n# public key: {public}\n{}\n",
        crate::clock::stamp(crate::clock::now()),
        identity.to_string().expose_secret()
    ));
    let file = match passphrase {
        None => Zeroizing::new(text.as_bytes().to_vec()),
        Some(passphrase) => {
            let encode = |e: std::io::Error| Error::Encode {
                what: "the new identity".into(),
                problem: e.to_string(),
            };
            let mut out = Vec::new();
            let armor =
                age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                    .map_err(encode)?;
            // The work factor custody sends with (age's default is timed on this
            // machine, and may exceed what a station accepts when opening).
            let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
            recipient.set_work_factor(crate::send::seal::SCRYPT_WORK_FACTOR);
            let mut writer =
                age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                    .map_err(|e| Error::Encode {
                        what: "the new identity".into(),
                        problem: e.to_string(),
                    })?
                    .wrap_output(armor)
                    .map_err(encode)?;
            writer.write_all(text.as_bytes()).map_err(encode)?;
            writer
                .finish()
                .and_then(|armor| armor.finish())
                .map_err(encode)?;
            Zeroizing::new(out)
        }
    };
    Ok(NewIdentity { public, file })
}

/// Where identities are kept unless the person chooses another place:
/// `$XDG_CONFIG_HOME/custody/identities`, else `~/.config/custody/identities`.
pub fn default_dir() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|h| !h.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => return Err(Error::NoHomePlace),
        },
    };
    Ok(base.join("custody/identities"))
}

/// The identity files in [`default_dir`] (`NAME.age`); none when there is no such
/// folder or no place for it.
pub fn own() -> Vec<PathBuf> {
    let Ok(dir) = default_dir() else {
        return Vec::new();
    };
    let Ok(entries) = fs_err::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "age") && p.is_file())
        .collect();
    found.sort();
    found
}

/// Whether an identity file is passphrase-protected (an age file, binary or armored).
pub fn is_protected(path: &Path) -> Result<bool> {
    let mut head = [0u8; 64];
    let mut file = fs_err::File::open(path)?;
    let n = std::io::Read::read(&mut file, &mut head)?;
    let head = &head[..n];
    Ok(head.starts_with(b"age-encryption.org/v1")
        || head.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"))
}

/// Whether the age file `file` is encrypted to a passphrase (rather than to keys).
pub fn needs_passphrase(file: &Path) -> Result<bool> {
    let input = fs_err::File::open(file)?;
    let armored = age::armor::ArmoredReader::new(std::io::BufReader::new(input));
    match age::Decryptor::new_buffered(armored) {
        Ok(decryptor) => Ok(decryptor.is_scrypt()),
        // Not an age file: opening it says so in its own words.
        Err(_) => Ok(false),
    }
}

/// Writes a new identity file at `path` (mode 0600; its folder 0700 when custody
/// makes it). An existing file is never overwritten.
pub fn write(path: &Path, identity: &NewIdentity) -> Result<()> {
    let text = std::str::from_utf8(&identity.file).map_err(|e| Error::Encode {
        what: "the new identity".into(),
        problem: e.to_string(),
    })?;
    crate::people::key::PersonalKey::write_file(path, text)
}
