//! The station's Ed25519 signing key, in minisign's file formats.
//!
//! The secret key signs ledger checkpoints and certificates; the public key lets
//! anyone check them with `minisign -V -p station.pub`. The secret key file is
//! written with mode 0600 and unencrypted: the station signs unattended, and the data
//! home itself is mode 0700.

use fs_err::os::unix::fs::OpenOptionsExt;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SignatureBox};
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
        problem: message.to_string(),
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
        let secret_text = secret_key_file_text(&sk, &format!("custody station key of {station}"));
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
        let secret = parse_secret_key(&text).map_err(|message| {
            key_error(
                &secret_path,
                format!("not a usable minisign secret key: {message}"),
            )
        })?;
        let public = StationPublicKey::load(&dir.join("station.pub"))?;
        let key = StationKey { secret, public };
        let derived =
            PublicKey::from_secret_key(&key.secret).map_err(|e| key_error(&secret_path, e))?;
        // The public half inside the secret key must be station.pub, and the secret half
        // must make signatures that station.pub verifies (a damaged file fails here).
        let mismatch = derived.to_base64() != key.public.key.to_base64()
            || key
                .sign(b"custody key check", "key check")
                .ok()
                .and_then(|sig| key.public.verify(b"custody key check", &sig).ok())
                .is_none();
        if mismatch {
            return Err(key_error(
                &secret_path,
                "the secret key does not match station.pub; restore both files from the same backup",
            ));
        }
        Ok(key)
    }

    /// The public half.
    pub fn public(&self) -> &StationPublicKey {
        &self.public
    }

    /// 32 secret bytes for `context`, derived from the secret key (SHA-256 over a
    /// domain label, the key and the context): the same key and context give the same
    /// bytes, and nothing about the key can be learned from them.
    pub(crate) fn derive(&self, context: &str) -> Zeroizing<[u8; 32]> {
        use sha2::{Digest, Sha256};
        let secret = Zeroizing::new(self.secret.to_bytes());
        let mut hash = Sha256::new();
        hash.update(b"custody station key derivation v1\0");
        hash.update((secret.len() as u64).to_be_bytes());
        hash.update(secret.as_slice());
        hash.update(context.as_bytes());
        let mut out = Zeroizing::new([0_u8; 32]);
        out.copy_from_slice(&hash.finalize());
        out
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
            problem: format!("cannot sign: {e}"),
        })?;
        Ok(signature.into_string())
    }
}

/// The length of a minisign secret key in bytes: algorithm ids, KDF parameters, key id,
/// the Ed25519 secret and public halves, and a checksum.
const SECRET_KEY_BYTES: usize = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;

impl Drop for StationKey {
    fn drop(&mut self) {
        blank_secret(&mut self.secret);
    }
}

/// Overwrites a minisign secret key in place with zeros (minisign's `SecretKey` does
/// not wipe itself), keeping the compiler from dropping the overwrite as a dead store.
pub(crate) fn blank_secret(secret: &mut SecretKey) {
    if let Ok(blank) = SecretKey::from_bytes(&[0u8; SECRET_KEY_BYTES]) {
        *secret = blank;
        std::hint::black_box(&*secret);
    }
}

/// The text of an unencrypted minisign secret key file, built in buffers that are wiped
/// when dropped (minisign's own `to_box` leaves copies of the key in freed memory).
fn secret_key_file_text(sk: &SecretKey, comment: &str) -> Zeroizing<String> {
    use base64::Engine as _;
    let bytes = Zeroizing::new(sk.to_bytes());
    let prefix = format!("untrusted comment: {comment}\n");
    // Reserved up front so that the text is never moved to a larger buffer.
    let mut text = Zeroizing::new(String::with_capacity(
        prefix.len() + bytes.len().div_ceil(3) * 4 + 1,
    ));
    text.push_str(&prefix);
    base64::engine::general_purpose::STANDARD.encode_string(bytes.as_slice(), &mut text);
    text.push('\n');
    text
}

/// Reads an unencrypted minisign secret key file's text without leaving copies of the key
/// in freed memory.
fn parse_secret_key(text: &str) -> std::result::Result<SecretKey, String> {
    use base64::Engine as _;
    let mut lines = text.lines();
    if !lines
        .next()
        .is_some_and(|l| l.starts_with("untrusted comment:"))
    {
        return Err("the first line is not an `untrusted comment:`".into());
    }
    let encoded = lines.next().map(str::trim).unwrap_or_default();
    let mut bytes = Zeroizing::new(Vec::with_capacity(encoded.len().div_ceil(4) * 3));
    base64::engine::general_purpose::STANDARD
        .decode_vec(encoded, &mut bytes)
        // Which byte is not base64 does not help anyone fix a key file.
        .map_err(|_| "the key line is not base64".to_string())?;
    if bytes.len() != SECRET_KEY_BYTES {
        return Err(format!(
            "the key is {} bytes, not {SECRET_KEY_BYTES}",
            bytes.len()
        ));
    }
    if bytes[..2] != *b"Ed" {
        return Err("not an Ed25519 key".into());
    }
    if bytes[2..4] != [0, 0] {
        return Err(
            "the key is encrypted with a password; custody needs an unencrypted key".into(),
        );
    }
    SecretKey::from_bytes(&bytes).map_err(|e| e.to_string())
}

impl StationPublicKey {
    /// Wraps a minisign public key.
    pub(crate) fn from_key(key: PublicKey) -> StationPublicKey {
        StationPublicKey { key }
    }

    /// The Ed25519 public key's 32 bytes.
    pub(crate) fn ed25519_bytes(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        // A minisign public key's bytes: algorithm (2), key id (8), then the key (32).
        let all = self.key.to_bytes();
        bytes.copy_from_slice(&all[all.len() - 32..]);
        bytes
    }

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
        // A key id of the wrong length: the message is all there is to say.
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

    #[test]
    fn the_key_file_is_what_minisign_itself_writes() {
        let KeyPair { sk, .. } = KeyPair::generate_unencrypted_keypair().unwrap();
        let ours = secret_key_file_text(&sk, "a comment");
        let theirs = sk.to_box(Some("a comment")).unwrap().into_string();
        assert_eq!(ours.as_str(), theirs);
        let parsed = parse_secret_key(&ours).unwrap();
        assert_eq!(parsed.to_bytes(), sk.to_bytes());
    }

    fn load_error(dir: &Path) -> String {
        StationKey::load(dir).expect_err("refused").to_string()
    }

    #[test]
    fn damaged_or_mismatched_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(StationKey::generate(dir.path(), "test").unwrap());
        let key_path = dir.path().join("station.key");
        let good = std::fs::read_to_string(&key_path).unwrap();
        let (comment, encoded) = good.split_once('\n').unwrap();
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let bytes = engine.decode(encoded.trim()).unwrap();

        // One bit of the Ed25519 seed flipped: the public half still matches, but the
        // signatures no longer verify.
        let mut seed = bytes.clone();
        seed[2 + 2 + 2 + 32 + 8 + 8 + 8] ^= 1;
        std::fs::write(&key_path, format!("{comment}\n{}\n", engine.encode(&seed))).unwrap();
        assert!(load_error(dir.path()).contains("does not match"));

        // Encrypted with a password (kdf "Sc"), truncated, not base64, no comment.
        let mut encrypted = bytes.clone();
        encrypted[2..4].copy_from_slice(b"Sc");
        for (text, expected) in [
            (
                format!("{comment}\n{}\n", engine.encode(&encrypted)),
                "password",
            ),
            (
                format!("{comment}\n{}\n", engine.encode(&bytes[..100])),
                "bytes",
            ),
            (format!("{comment}\n!!!\n"), "base64"),
            (format!("{}\n", engine.encode(&bytes)), "untrusted comment"),
        ] {
            std::fs::write(&key_path, text).unwrap();
            let error = load_error(dir.path());
            assert!(error.contains(expected), "{expected}: {error}");
        }

        // Another station's key beside this station.pub.
        let other = tempfile::tempdir().unwrap();
        drop(StationKey::generate(other.path(), "other").unwrap());
        std::fs::copy(other.path().join("station.key"), &key_path).unwrap();
        assert!(load_error(dir.path()).contains("does not match"));

        std::fs::write(&key_path, good).unwrap();
        StationKey::load(dir.path()).unwrap();
    }
}
