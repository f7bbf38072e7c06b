//! A person's own signing key: Ed25519 in minisign's formats, the secret half
//! encrypted under the person's passphrase with minisign's scrypt-protected format,
//! so that `minisign -S -s NAME.key` signs with it too.
//!
//! The key file lives with the person (`$XDG_CONFIG_HOME/custody/keys/NAME.key`, or a
//! USB stick they keep), never in the data home; the ledger holds only the public
//! half. Unlocked, the key is held in memory for one command or by the agent
//! ([`super::agent`]) for a sitting, and is overwritten when dropped.

use std::io::Write;
use std::path::{Path, PathBuf};

use fs_err::os::unix::fs::OpenOptionsExt;
use minisign::{KeyPair, PublicKey, SecretKey, SecretKeyBox};
use zeroize::Zeroizing;

use crate::error::{Error, KeyProblem, Result};
use crate::keys::StationPublicKey;

/// The shortest passphrase accepted, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// A passphrase, wiped from memory when dropped. Never printed.
pub struct Passphrase(Zeroizing<String>);

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

impl Passphrase {
    /// Wraps text typed or read from a file; one trailing line break is not part of it.
    pub fn new(mut text: Zeroizing<String>) -> Passphrase {
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        Passphrase(text)
    }

    /// Reads a passphrase from the first line of a file (`--passphrase-file`), or from
    /// an open file descriptor (`/dev/fd/N`).
    pub fn from_file(path: &Path) -> Result<Passphrase> {
        let mut text = Zeroizing::new(String::new());
        {
            use std::io::Read;
            let mut file = fs_err::File::open(path)?;
            file.read_to_string(&mut text)?;
        }
        let first = Zeroizing::new(text.lines().next().unwrap_or_default().to_owned());
        Ok(Passphrase::new(first))
    }

    /// The passphrase itself, to compare two typed ones. Never print it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether nothing was typed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn copy(&self) -> String {
        // minisign takes the password by value; the copy goes into the KDF and is
        // dropped there (see the note on memory in docs/people.md).
        self.0.as_str().to_owned()
    }

    /// Refuses a passphrase that is shorter than [`MIN_PASSPHRASE_CHARS`] or that
    /// `zxcvbn` scores below 3 (guessable in under 10^10 tries), taking the person's
    /// own name and the office's words into account.
    pub fn check_strength(&self, hints: &[&str]) -> Result<()> {
        let chars = self.0.chars().count();
        if chars < MIN_PASSPHRASE_CHARS {
            return Err(Error::WeakPassphrase {
                why: format!(
                    "it has {chars} characters; use at least {MIN_PASSPHRASE_CHARS} (a few unrelated words work well)"
                ),
            });
        }
        let estimate = zxcvbn::zxcvbn(&self.0, hints);
        if (estimate.score() as u8) < 3 {
            let mut why = String::from("it is too easy to guess");
            if let Some(feedback) = estimate.feedback() {
                if let Some(warning) = feedback.warning() {
                    why.push_str(&format!(" ({warning})"));
                }
                for suggestion in feedback.suggestions() {
                    why.push_str(&format!("; {suggestion}"));
                }
            }
            return Err(Error::WeakPassphrase { why });
        }
        Ok(())
    }
}

/// Where a person's key file is kept unless they choose another place:
/// `$XDG_CONFIG_HOME/custody/keys/NAME.key`, else `~/.config/custody/keys/NAME.key`.
pub fn default_key_path(name: &str) -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|h| !h.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => return Err(Error::NoHomePlace),
        },
    };
    Ok(base
        .join("custody/keys")
        .join(format!("{}.key", file_name_for(name))))
}

/// A person's name as a file name: `/` and NUL cannot appear in one.
fn file_name_for(name: &str) -> String {
    name.chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect()
}

/// Signs ledger entries (and anything else) as one person.
pub trait Signer: Send {
    /// Whose key it is.
    fn name(&self) -> &str;
    /// The public half.
    fn public(&self) -> &StationPublicKey;
    /// Signs `message`; returns a minisign signature file's text whose trusted
    /// comment is `trusted_comment`.
    fn sign(&self, message: &[u8], trusted_comment: &str) -> Result<String>;
}

/// A person's key, unlocked: the Ed25519 signing key (wiped when dropped, by
/// ed25519-dalek) and the minisign key id it signs under.
pub struct PersonalKey {
    name: String,
    signing: ed25519_dalek::SigningKey,
    keynum: [u8; 8],
    public: StationPublicKey,
}

impl std::fmt::Debug for PersonalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonalKey")
            .field("name", &self.name)
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}

/// A key pair made by [`PersonalKey::generate`]: the key, unlocked, and the text of
/// its encrypted file.
pub struct NewKey {
    /// The key, ready to sign.
    pub key: PersonalKey,
    /// The encrypted secret key file's text.
    pub file_text: Zeroizing<String>,
}

impl PersonalKey {
    /// Makes a new key pair for `name`, the secret half encrypted under `passphrase`
    /// (which must be strong enough: [`Passphrase::check_strength`]).
    pub fn generate(name: &str, passphrase: &Passphrase) -> Result<NewKey> {
        let KeyPair { pk, sk } = KeyPair::generate_encrypted_keypair(Some(passphrase.copy()))
            .map_err(|e| key_error(Path::new(name), KeyProblem::Generate(e.to_string())))?;
        let boxed = sk
            .to_box(Some(&format!("custody personal key of {name}")))
            .map_err(|e| key_error(Path::new(name), KeyProblem::Generate(e.to_string())))?;
        let file_text = Zeroizing::new(boxed.into_string());
        let key = PersonalKey::unlock_text(&file_text, Path::new(name), name, passphrase)?;
        if key.public.to_base64() != pk.to_base64() {
            return Err(key_error(
                Path::new(name),
                KeyProblem::Generate("the new key does not match itself".into()),
            ));
        }
        Ok(NewKey { key, file_text })
    }

    /// Writes a new key file at `path` (mode 0600; its folder 0700 when custody makes
    /// it). An existing file is never overwritten.
    pub fn write_file(path: &Path, text: &str) -> Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.exists()
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| Error::File {
                    path: parent.to_path_buf(),
                    source: e,
                })?;
        }
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::OutputExists {
                        path: path.to_path_buf(),
                    }
                } else {
                    Error::Io(e)
                }
            })?;
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            drop(file);
            let _ = std::fs::remove_file(path);
            return Err(Error::Io(e));
        }
        Ok(())
    }

    /// Unlocks the key file at `path` with `passphrase`, as `name`'s key.
    pub fn load(path: &Path, name: &str, passphrase: &Passphrase) -> Result<PersonalKey> {
        let text = Zeroizing::new(fs_err::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                key_error(path, KeyProblem::Missing)
            } else {
                Error::Io(e)
            }
        })?);
        PersonalKey::unlock_text(&text, path, name, passphrase)
    }

    fn unlock_text(
        text: &str,
        path: &Path,
        name: &str,
        passphrase: &Passphrase,
    ) -> Result<PersonalKey> {
        let boxed = SecretKeyBox::from_string(text)
            .map_err(|e| key_error(path, KeyProblem::NotAKey(e.to_string())))?;
        let mut secret = SecretKey::from_box(boxed, Some(passphrase.copy())).map_err(|e| {
            let message = e.to_string();
            if message.contains("Wrong password") {
                key_error(path, KeyProblem::WrongPassphrase)
            } else if message.contains("not encrypted") {
                key_error(path, KeyProblem::NotEncrypted)
            } else {
                key_error(path, KeyProblem::NotAKey(message))
            }
        })?;
        let public = PublicKey::from_secret_key(&secret)
            .map_err(|e| key_error(path, KeyProblem::NotAKey(e.to_string())));
        // The decrypted key's bytes: algorithms (6), KDF salt (32) and limits (16), key
        // id (8), then the Ed25519 seed (32) and public key (32), then a checksum.
        let bytes = Zeroizing::new(secret.to_bytes());
        crate::keys::blank_secret(&mut secret);
        let public = public?;
        let mut seed = Zeroizing::new([0u8; 32]);
        let mut keynum = [0u8; 8];
        match (bytes.get(54..62), bytes.get(62..94)) {
            (Some(id), Some(s)) => {
                keynum.copy_from_slice(id);
                seed.copy_from_slice(s);
            }
            _ => {
                return Err(key_error(
                    path,
                    KeyProblem::NotAKey("the key is too short".into()),
                ));
            }
        }
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = StationPublicKey::from_key(public);
        if signing.verifying_key().to_bytes() != public.ed25519_bytes() {
            return Err(key_error(
                path,
                KeyProblem::NotAKey("its secret and public halves do not match".into()),
            ));
        }
        Ok(PersonalKey {
            name: name.to_owned(),
            signing,
            keynum,
            public,
        })
    }
}

impl Signer for PersonalKey {
    fn name(&self) -> &str {
        &self.name
    }

    fn public(&self) -> &StationPublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8], trusted_comment: &str) -> Result<String> {
        // minisign's prehashed format: the key signs BLAKE2b-512 of the message, then
        // that signature followed by the trusted comment (`minisign -V` checks both).
        use base64::Engine as _;
        use blake2::Digest as _;
        use ed25519_dalek::Signer as _;
        if trusted_comment.contains('\n') {
            return Err(key_error(
                Path::new(&self.name),
                KeyProblem::Generate("a trusted comment is one line".into()),
            ));
        }
        let signature = self
            .signing
            .sign(&blake2::Blake2b512::digest(message))
            .to_bytes();
        let mut signed_comment = Vec::with_capacity(64 + trusted_comment.len());
        signed_comment.extend_from_slice(&signature);
        signed_comment.extend_from_slice(trusted_comment.as_bytes());
        let global = self.signing.sign(&signed_comment).to_bytes();
        let mut line = Vec::with_capacity(2 + 8 + 64);
        line.extend_from_slice(b"ED");
        line.extend_from_slice(&self.keynum);
        line.extend_from_slice(&signature);
        let engine = base64::engine::general_purpose::STANDARD;
        Ok(format!(
            "untrusted comment: signature by {}\n{}\ntrusted comment: {trusted_comment}\n{}\n",
            self.name,
            engine.encode(line),
            engine.encode(global)
        ))
    }
}

fn key_error(path: &Path, problem: KeyProblem) -> Error {
    Error::PersonalKey {
        path: path.to_path_buf(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(text: &str) -> Passphrase {
        Passphrase::new(Zeroizing::new(text.to_owned()))
    }

    #[test]
    fn weak_passphrases_are_refused() {
        for weak in ["short", "password1234", "aaaaaaaaaaaaaaaa", "satosatosato"] {
            assert!(pass(weak).check_strength(&["sato"]).is_err(), "{weak}");
        }
        assert!(
            pass("violet kettle harbour 1987")
                .check_strength(&["sato"])
                .is_ok()
        );
    }

    #[test]
    fn a_key_unlocks_with_its_passphrase_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/sato.key");
        let phrase = pass("violet kettle harbour 1987");
        let new = PersonalKey::generate("sato", &phrase).unwrap();
        PersonalKey::write_file(&path, &new.file_text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let loaded = PersonalKey::load(&path, "sato", &phrase).unwrap();
        assert_eq!(loaded.public().key_id(), new.key.public().key_id());
        let signature = loaded.sign(b"hello", "custody test").unwrap();
        assert_eq!(
            new.key.public().verify(b"hello", &signature).unwrap(),
            "custody test"
        );
        let wrong = PersonalKey::load(&path, "sato", &pass("violet kettle harbour 1988"));
        assert!(matches!(
            wrong,
            Err(Error::PersonalKey {
                problem: KeyProblem::WrongPassphrase,
                ..
            })
        ));
        assert!(PersonalKey::write_file(&path, "x").is_err());
    }
}
