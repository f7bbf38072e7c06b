//! Public keys to encrypt to: age X25519 (`age1…`), `ssh-ed25519` and `ssh-rsa`, given
//! one by one or in recipients files (age's format: one key a line, `#` comments and blank
//! lines ignored).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use base64::Engine;
use base64::prelude::{BASE64_STANDARD, BASE64_STANDARD_NO_PAD};
use sha2::{Digest, Sha256};

use super::Error;

/// Recipients files larger than this are refused (age uses the same limit).
const RECIPIENTS_FILE_LIMIT: u64 = 16 << 20;

/// One public key to encrypt to, with the fingerprint that the record keeps.
pub struct Recipient {
    fingerprint: String,
    inner: Box<dyn age::Recipient + Send>,
}

impl Recipient {
    /// A stable identifier for the record: an `age1…` key itself, or for ssh keys
    /// `SHA256:` and the unpadded base64 SHA-256 of the wire-format key, as
    /// `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The key as the age crate uses it.
    pub fn as_age(&self) -> &dyn age::Recipient {
        self.inner.as_ref()
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl FromStr for Recipient {
    type Err = Error;

    /// Parses a recipient given on the command line.
    fn from_str(s: &str) -> Result<Self, Error> {
        parse_recipient(s, "argument")
    }
}

/// Parses one recipient; `origin` names where it came from in error messages.
pub fn parse_recipient(s: &str, origin: &str) -> Result<Recipient, Error> {
    let s = s.trim();
    let invalid = |reason: String| Error::InvalidRecipient {
        origin: origin.to_owned(),
        reason,
    };
    if s.starts_with("age1") {
        let key = age::x25519::Recipient::from_str(s)
            .map_err(|e| invalid(format!("{e} (expected an age X25519 public key, age1…)")))?;
        return Ok(Recipient {
            fingerprint: key.to_string(),
            inner: Box::new(key),
        });
    }
    if s.starts_with("ssh-ed25519 ") || s.starts_with("ssh-rsa ") {
        let key = match age::ssh::Recipient::from_str(s) {
            Ok(key) => key,
            Err(age::ssh::ParseRecipientKeyError::Unsupported(kind)) => {
                return Err(invalid(format!("unsupported ssh key type {kind}")));
            }
            Err(_) => return Err(invalid("malformed ssh public key".to_owned())),
        };
        return Ok(Recipient {
            fingerprint: ssh_fingerprint(s)
                .ok_or_else(|| invalid("malformed ssh public key".to_owned()))?,
            inner: Box::new(key),
        });
    }
    if s.starts_with("AGE-SECRET-KEY-") {
        // Do not echo a private key into an error message or log.
        return Err(invalid(
            "this is a private key (AGE-SECRET-KEY-…); give the public key (age1…) instead"
                .to_owned(),
        ));
    }
    let shown: String = s.chars().take(24).collect();
    Err(invalid(format!(
        "{shown:?}… is not a supported public key (age1…, ssh-ed25519 or ssh-rsa)"
    )))
}

/// Parses the text of a recipients file; `name` is used in error messages with the line
/// number of the offending line.
pub fn parse_recipients_text(text: &str, name: &str) -> Result<Vec<Recipient>, Error> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_recipient(
            line,
            &format!("{name} line {}", index + 1),
        )?);
    }
    Ok(out)
}

/// Reads a recipients file (age's format) and parses every key in it.
pub fn parse_recipients_file(path: &Path) -> Result<Vec<Recipient>, Error> {
    let size = fs_err::metadata(path).map_err(Error::io(path))?.len();
    if size > RECIPIENTS_FILE_LIMIT {
        return Err(Error::InvalidRecipient {
            origin: path.display().to_string(),
            reason: "file is larger than 16 MiB".to_owned(),
        });
    }
    let bytes = fs_err::read(path).map_err(Error::io(path))?;
    // Where the bytes stop being UTF-8 adds nothing to naming the file.
    let text = String::from_utf8(bytes).map_err(|_| Error::InvalidRecipient {
        origin: path.display().to_string(),
        reason: "file is not UTF-8 text".to_owned(),
    })?;
    let recipients = parse_recipients_text(&text, &path.display().to_string())?;
    if recipients.is_empty() {
        return Err(Error::InvalidRecipient {
            origin: path.display().to_string(),
            reason: "file contains no recipients".to_owned(),
        });
    }
    Ok(recipients)
}

/// `SHA256:…` fingerprint of an ssh public key line, as `ssh-keygen -l` prints it.
fn ssh_fingerprint(line: &str) -> Option<String> {
    let blob = line.split_whitespace().nth(1)?;
    let wire = BASE64_STANDARD.decode(blob).ok()?;
    Some(format!(
        "SHA256:{}",
        BASE64_STANDARD_NO_PAD.encode(Sha256::digest(&wire))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGE_KEY: &str = "age1a0wswn4rs05xe4uk7fh2mmjpx9hyelaahvhk9q7stctl20wy7fnqmfqwhs";
    // ssh-keygen -t ed25519; `ssh-keygen -l` prints the fingerprint below.
    const SSH_ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIbF1frlyeagUTuvstMTsrI4etiQi6ltqujBVw77nBxu alice@rust";
    const SSH_ED25519_FP: &str = "SHA256:vnyAzS6mCBFA3VDAHVJshdghfZe25tOitZP1V13P2pA";

    #[test]
    fn age_key_fingerprint_is_the_key() {
        let r: Recipient = AGE_KEY.parse().expect("valid key");
        assert_eq!(r.fingerprint(), AGE_KEY);
    }

    #[test]
    fn ssh_key_fingerprint_matches_ssh_keygen() {
        let r: Recipient = SSH_ED25519.parse().expect("valid key");
        assert_eq!(r.fingerprint(), SSH_ED25519_FP);
    }

    #[test]
    fn recipients_file_skips_comments_and_names_bad_line() {
        let text = format!("# team\n\n{AGE_KEY}\n{SSH_ED25519}\nnot-a-key\n");
        let err = parse_recipients_text(&text, "team.txt").expect_err("line 5 is bad");
        let msg = err.to_string();
        assert!(msg.contains("team.txt line 5"), "{msg}");
        let good = parse_recipients_text(&format!("# team\n\n{AGE_KEY}\n{SSH_ED25519}\n"), "t")
            .expect("valid");
        assert_eq!(good.len(), 2);
    }

    #[test]
    fn private_key_is_refused_without_echoing_it() {
        let secret = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
        let err = parse_recipient(secret, "argument").expect_err("private key");
        assert!(!err.to_string().contains("GFPYYSJZ"));
    }

    #[test]
    fn truncated_age_key_is_refused() {
        assert!(parse_recipient(&AGE_KEY[..40], "argument").is_err());
    }
}
