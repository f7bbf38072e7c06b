//! The station's Ed25519 signing key, in minisign's file formats.
//!
//! The secret key signs ledger checkpoints and certificates; the public key lets
//! anyone check them with `minisign -V -p station.pub`. The secret key file is
//! written with mode 0600 and unencrypted: the station signs unattended, and the data
//! home itself is mode 0700.

use fs_err::os::unix::fs::OpenOptionsExt;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The station key pair, loaded for signing.
pub struct StationKey {
    secret: SecretKey,
    public: StationPublicKey,
}

impl std::fmt::Debug for StationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StationKey")
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}

/// A public key that verifies signatures: the station's own or one trusted later.
#[derive(Clone)]
pub struct StationPublicKey {
    key: PublicKey,
}

impl std::fmt::Debug for StationPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StationPublicKey({})", self.key_id())
    }
}

fn key_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Key {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

impl StationKey {
    /// Generates a new key pair and writes `station.key` (0600) and `station.pub` into
    /// `dir`, which must not hold them yet.
    pub fn generate(dir: &Path, station: &str) -> Result<StationKey> {
        let KeyPair { pk, sk } = KeyPair::generate_unencrypted_keypair()
            .map_err(|e| key_error(dir, format!("cannot generate a key: {e}")))?;
        let secret_path = dir.join("station.key");
        let public_path = dir.join("station.pub");
        let secret_text = Zeroizing::new(
            sk.to_box(Some(&format!("custody station key of {station}")))
                .map_err(|e| key_error(&secret_path, e))?
                .into_string(),
        );
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&secret_path)?;
        file.write_all(secret_text.as_bytes())?;
        file.sync_all()?;
        let public = StationPublicKey { key: pk };
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&public_path)?;
        file.write_all(public.to_file_text().as_bytes())?;
        file.sync_all()?;
        Ok(StationKey { secret: sk, public })
    }

    /// Loads the key pair from `dir` (`station.key` and `station.pub`).
    pub fn load(dir: &Path) -> Result<StationKey> {
        let secret_path = dir.join("station.key");
        let text = Zeroizing::new(fs_err::read_to_string(&secret_path)?);
        let secret = SecretKeyBox::from_string(&text)
            .and_then(SecretKeyBox::into_unencrypted_secret_key)
            .map_err(|e| {
                key_error(
                    &secret_path,
                    format!("not a usable minisign secret key: {e}"),
                )
            })?;
        let public = StationPublicKey::load(&dir.join("station.pub"))?;
        let derived =
            PublicKey::from_secret_key(&secret).map_err(|e| key_error(&secret_path, e))?;
        if derived.to_base64() != public.key.to_base64() {
            return Err(key_error(
                &secret_path,
                "the secret key does not match station.pub; restore both files from the same backup",
            ));
        }
        Ok(StationKey { secret, public })
    }

    /// The public half.
    pub fn public(&self) -> &StationPublicKey {
        &self.public
    }

    /// Signs `message`, returning a minisign signature file's text. The trusted
    /// comment is signed too and shown by `minisign -V`.
    pub fn sign(&self, message: &[u8], trusted_comment: &str) -> Result<String> {
        let signature = minisign::sign(
            Some(&self.public.key),
            &self.secret,
            Cursor::new(message),
            Some(trusted_comment),
            Some("signature from a custody station key"),
        )
        .map_err(|e| Error::Key {
            path: PathBuf::from("station.key"),
            message: format!("cannot sign: {e}"),
        })?;
        Ok(signature.into_string())
    }
}

impl StationPublicKey {
    /// Reads a minisign public key file (`untrusted comment:` line, then base64) or a
    /// bare base64 key.
    pub fn load(path: &Path) -> Result<StationPublicKey> {
        let text = fs_err::read_to_string(path)?;
        StationPublicKey::parse(&text).map_err(|message| key_error(path, message))
    }

    /// Parses the text of a public key file or a bare base64 key.
    pub fn parse(text: &str) -> std::result::Result<StationPublicKey, String> {
        let trimmed = text.trim();
        let key = if trimmed.starts_with("untrusted comment:") {
            PublicKeyBox::from_string(trimmed).and_then(PublicKeyBox::into_public_key)
        } else {
            PublicKey::from_base64(trimmed)
        }
        .map_err(|e| format!("not a minisign public key: {e}"))?;
        Ok(StationPublicKey { key })
    }

    /// The key id as minisign prints it (16 upper-case hex digits).
    pub fn key_id(&self) -> String {
        let bytes: [u8; 8] = self
            .key
            .keynum()
            .try_into()
            .expect("minisign key ids are 8 bytes");
        format!("{:016X}", u64::from_le_bytes(bytes))
    }

    /// The key in base64, as on the second line of `station.pub`.
    pub fn to_base64(&self) -> String {
        self.key.to_base64()
    }

    /// The text of a `.pub` file for this key.
    pub fn to_file_text(&self) -> String {
        format!(
            "untrusted comment: minisign public key {}\n{}\n",
            self.key_id(),
            self.to_base64()
        )
    }

    /// Checks a minisign signature (file text) over `message`; returns the trusted
    /// comment when it verifies.
    pub fn verify(&self, message: &[u8], signature: &str) -> std::result::Result<String, String> {
        let signature = SignatureBox::from_string(signature)
            .map_err(|e| format!("not a minisign signature: {e}"))?;
        minisign::verify(
            &self.key,
            &signature,
            Cursor::new(message),
            true,
            false,
            false,
        )
        .map_err(|e| format!("signature does not verify with key {}: {e}", self.key_id()))?;
        signature
            .trusted_comment()
            .map_err(|e| format!("unreadable trusted comment: {e}"))
    }
}

/// The key id (16 upper-case hex digits) that made a minisign signature.
pub fn signature_key_id(signature: &str) -> std::result::Result<String, String> {
    let signature = SignatureBox::from_string(signature)
        .map_err(|e| format!("not a minisign signature: {e}"))?;
    let bytes: [u8; 8] = signature
        .keynum()
        .try_into()
        .map_err(|_| "the signature's key id is malformed".to_string())?;
    Ok(format!("{:016X}", u64::from_le_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let key = StationKey::generate(dir.path(), "test").unwrap();
        let signature = key.sign(b"hello", "custody test").unwrap();
        assert_eq!(
            key.public().verify(b"hello", &signature).unwrap(),
            "custody test"
        );
        assert!(key.public().verify(b"hellO", &signature).is_err());
        let loaded = StationKey::load(dir.path()).unwrap();
        assert_eq!(loaded.public().key_id(), key.public().key_id());
        let mode = std::fs::metadata(dir.path().join("station.key")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }
}
