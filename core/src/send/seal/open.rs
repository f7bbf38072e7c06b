//! `open`: decrypting an age file and, when it holds a tar archive, extracting it safely.
//!
//! Nothing reaches the target folder until everything checked out:
//! - a single file is decrypted into a temporary file inside the target folder and renamed
//!   only after the whole age stream authenticated (age authenticates each 64 KiB chunk and
//!   marks the last one, so truncation is detected at the end);
//! - an archive is extracted into a temporary folder `.custody-open-*` inside the target
//!   folder. Every entry is checked first: absolute paths, `..`, symbolic links, devices,
//!   FIFOs and sparse files are refused; hard links may only point to an earlier regular
//!   file of the same archive. Every file is hashed while written, the rest of the stream is
//!   read and authenticated, `MANIFEST.sha256` is checked (every listed file present with
//!   that hash, no unlisted file), and only then are the top-level entries moved into the
//!   target folder, refusing any that exists unless `force`.
//!
//! On any error the temporary file or folder is removed: nothing is left behind.
//! The manifest itself is checked and not extracted (its content is in the report).

use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::direct::OutputFile;
use super::leftover::{self, OPEN_PREFIX};
use super::strict::{HeaderProblem, SkipLeadingSpace, WholeHeader};
use super::{
    CHUNK, CountingReader, Error, FileDigest, HashingWriter, MANIFEST_NAME, Progress, ProgressGuard,
};
use super::{extract, manifest, pipe};

/// Identity and passphrase files larger than this are refused.
const KEY_FILE_LIMIT: u64 = 16 << 20;

/// What to open, with which keys, and where to put the result.
#[derive(Debug)]
pub struct OpenInput {
    /// The age file (binary or ASCII-armored).
    pub file: PathBuf,
    /// The folder to put the decrypted file or the archive's contents in. It is created if
    /// its parent exists (and removed again on failure).
    pub out_dir: PathBuf,
    /// Identity files: age identities (`AGE-SECRET-KEY-1…`) or unencrypted OpenSSH
    /// ed25519/rsa private keys.
    pub identity_files: Vec<PathBuf>,
    /// The passphrase, for passphrase-encrypted files.
    pub passphrase: Option<SecretString>,
    /// The passphrase of a passphrase-protected identity file (as `age -p` makes,
    /// and `custody keys new`).
    pub identity_passphrase: Option<SecretString>,
    /// Replace existing files of the same name (folders are merged).
    pub force: bool,
    /// The highest scrypt work factor to accept for a passphrase file
    /// ([`super::DEFAULT_MAX_WORK_FACTOR`] unless the station says otherwise); a file
    /// asking for more is refused before any work.
    pub max_work_factor: u8,
}

/// What the payload of an age file was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PayloadKind {
    /// An ordinary file, written as the age file's name without `.age`.
    #[serde(rename = "file")]
    SingleFile,
    /// A tar archive, extracted.
    #[serde(rename = "archive")]
    Archive,
}

/// What was opened, for the record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenReport {
    /// Size of the encrypted input in bytes.
    pub input_size: u64,
    /// SHA-256 of the encrypted input, lower-case hex.
    pub input_sha256: String,
    /// Single file or archive.
    pub kind: PayloadKind,
    /// Every regular file written (hard links included), with its path relative to the
    /// archive root (or its file name), size and SHA-256.
    pub files: Vec<FileDigest>,
    /// Whether a `MANIFEST.sha256` was present and matched; `false` for single files and
    /// for archives made by other tools without a manifest.
    pub manifest_checked: bool,
    /// The paths created in the target folder (top-level entries only).
    pub outputs: Vec<PathBuf>,
    /// Fingerprints of the public halves of the keys offered to open it (`age1…`, or
    /// `SHA256:…` for ssh keys); empty for a passphrase. With one key, the key that
    /// opened it.
    pub keys: Vec<String>,
    /// Leftovers of interrupted opens found in the target folder and removed first.
    pub leftovers_removed: Vec<PathBuf>,
}

/// Decrypts `input.file` into `input.out_dir`.
///
/// A signal ([`leftover::stop_flag`]) stops it at the next chunk with
/// [`Error::Interrupted`], after the decrypted part is overwritten and removed.
pub fn open(input: OpenInput, progress: &dyn Progress) -> Result<OpenReport, Error> {
    let OpenInput {
        file,
        out_dir,
        identity_files,
        passphrase,
        identity_passphrase,
        force,
        max_work_factor,
    } = input;
    let (identities, keys) = load_identities(
        &identity_files,
        identity_passphrase.as_ref(),
        max_work_factor,
    )?;

    let created_dir = ensure_dir(&out_dir)?;
    // What an open killed earlier left here is decrypted data nobody recorded.
    let leftovers_removed = leftover::clean(&out_dir, OPEN_PREFIX).map_err(Error::io(&out_dir))?;
    let result = std::thread::scope(|scope| {
        let source = fs_err::File::open(&file).map_err(Error::io(&file))?;
        let size = source.metadata().map_err(Error::io(&file))?.len();
        progress.start(size);
        let _finish = ProgressGuard(progress);
        // Another thread reads and hashes the encrypted input, so that this one only
        // decrypts (and a third hashes and writes the output).
        let (ahead, input_digest) = pipe::read_ahead(scope, source);
        let keys_in = Keys {
            identities,
            passphrase,
            max_work_factor,
        };
        let opened = decrypt_into(ahead, &file, &out_dir, keys_in, force, progress);
        // The reader went with `opened`'s stages, so the reading thread has stopped.
        let (hasher, read) = input_digest
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let mut report = opened?;
        // Should the decryption ever stop short of the end of the file, hash the file
        // itself rather than report a digest of part of it.
        report.keys = keys;
        report.leftovers_removed = leftovers_removed;
        report.input_size = size;
        report.input_sha256 = if read == size {
            hex::encode(hasher.finalize())
        } else {
            let mut again = fs_err::File::open(&file).map_err(Error::io(&file))?;
            let mut hasher = Sha256::new();
            io::copy(&mut again, &mut hasher).map_err(Error::io(&file))?;
            hex::encode(hasher.finalize())
        };
        Ok(report)
    });
    if result.is_err() && created_dir {
        // Only ever an empty folder that this call made: its temporary contents are gone.
        let _ = std::fs::remove_dir(&out_dir);
    }
    match result {
        Err(_) if leftover::stopped() => Err(Error::Interrupted),
        other => other,
    }
}

/// What may open a file: identities, or a passphrase and the work it may cost.
struct Keys {
    identities: Identities,
    passphrase: Option<SecretString>,
    max_work_factor: u8,
}

/// Decrypts the age file read from `input` into `out_dir`: the part of [`open`] between
/// reading the input and recording its digest.
fn decrypt_into(
    input: pipe::AheadReader,
    file: &Path,
    out_dir: &Path,
    keys: Keys,
    force: bool,
    progress: &dyn Progress,
) -> Result<OpenReport, Error> {
    let Keys {
        mut identities,
        passphrase,
        max_work_factor,
    } = keys;
    let armored =
        age::armor::ArmoredReader::new(SkipLeadingSpace::new(CountingReader::new(input, progress)));
    // The header is read whole and bounded here, so that age parses it once.
    let checked = WholeHeader::read(armored, CHUNK).map_err(|p| header_problem(file, p))?;
    let decryptor = age::Decryptor::new_buffered(checked)
        .map_err(|e| header_error(file, e, max_work_factor))?;
    let scrypt = decryptor.is_scrypt();
    if scrypt {
        let Some(passphrase) = passphrase else {
            return Err(Error::PassphraseRequired {
                path: file.to_path_buf(),
            });
        };
        let mut identity = age::scrypt::Identity::new(passphrase);
        identity.set_max_work_factor(max_work_factor);
        identities.push(Box::new(identity));
    } else if identities.is_empty() {
        return Err(Error::IdentityRequired {
            path: file.to_path_buf(),
        });
    }
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::DecryptionFailed => {
                if scrypt {
                    Error::WrongPassphrase {
                        path: file.to_path_buf(),
                    }
                } else {
                    Error::WrongKey {
                        path: file.to_path_buf(),
                    }
                }
            }
            other => header_error(file, other, max_work_factor),
        })?;
    drop(identities);

    let failed = Rc::new(Cell::new(None));
    let mut reader = Watched {
        inner: reader,
        failed: Rc::clone(&failed),
    };
    let payload = Payload {
        file,
        failed: &failed,
    };
    let mut head = [0u8; 512];
    let head_len = pipe::read_full(&mut reader, &mut head).map_err(|e| payload.error(e, file))?;
    let head = &head[..head_len];
    let reader = io::Cursor::new(head).chain(reader);
    if looks_like_tar(head) {
        extract_archive(reader, out_dir, force, &payload)
    } else {
        write_single(reader, out_dir, force, &payload)
    }
}

/// Reads a passphrase from a file: the first line, without its line ending.
pub fn read_passphrase_file(path: &Path) -> Result<SecretString, Error> {
    let bad = |reason: &str| Error::InvalidIdentity {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let size = fs_err::metadata(path).map_err(Error::io(path))?.len();
    if size > KEY_FILE_LIMIT {
        return Err(bad("passphrase file is larger than 16 MiB"));
    }
    let bytes = Zeroizing::new(fs_err::read(path).map_err(Error::io(path))?);
    // Where the bytes stop being UTF-8 would show part of the secret; it is not said.
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("passphrase file is not UTF-8"))?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(bad("passphrase file is empty"));
    }
    Ok(SecretString::from(line))
}

/// Private keys to try, as the age crate takes them.
type Identities = Vec<Box<dyn age::Identity + Send + Sync>>;

/// The identities in `paths`, and the fingerprint of each one's public key (as
/// [`super::Recipient::fingerprint`] gives it), for the record.
fn load_identities(
    paths: &[PathBuf],
    identity_passphrase: Option<&SecretString>,
    max_work_factor: u8,
) -> Result<(Identities, Vec<String>), Error> {
    let mut out: Identities = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let public = |text: &str| {
        super::recipients::parse_recipient(text, "identity").map(|r| r.fingerprint().to_owned())
    };
    for path in paths {
        let bad = |reason: String| Error::InvalidIdentity {
            path: path.clone(),
            reason,
        };
        let size = fs_err::metadata(path).map_err(Error::io(path))?.len();
        if size > KEY_FILE_LIMIT {
            return Err(bad("file is larger than 16 MiB".to_owned()));
        }
        let mut bytes = Zeroizing::new(fs_err::read(path).map_err(Error::io(path))?);
        if bytes.starts_with(b"age-encryption.org/v1")
            || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        {
            // A passphrase-protected identity file: the identities are inside.
            let Some(passphrase) = identity_passphrase else {
                return Err(bad(
                    "it is protected by a passphrase, and none was given for it".to_owned(),
                ));
            };
            let decryptor =
                age::Decryptor::new_buffered(age::armor::ArmoredReader::new(&bytes[..]))
                    .map_err(|_| bad("not a readable passphrase-protected file".to_owned()))?;
            let mut identity = age::scrypt::Identity::new(passphrase.clone());
            identity.set_max_work_factor(max_work_factor);
            let mut reader = decryptor
                .decrypt(std::iter::once(&identity as &dyn age::Identity))
                .map_err(|_| bad("the passphrase does not open it".to_owned()))?;
            let mut plain = Zeroizing::new(Vec::new());
            io::Read::read_to_end(&mut reader, &mut plain)
                .map_err(|_| bad("the passphrase does not open it".to_owned()))?;
            bytes = plain;
        }
        if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            let identity = age::ssh::Identity::from_buffer(&bytes[..], None)
                // age's SSH key errors say no more than this, and may quote the key.
                .map_err(|_| bad("not a valid OpenSSH private key".to_owned()))?;
            match identity {
                age::ssh::Identity::Unencrypted(_) => {
                    // The conversion fails only for a key type age cannot encrypt to.
                    let recipient =
                        age::ssh::Recipient::try_from(identity.clone()).map_err(|_| {
                            bad("cannot derive the public key of this ssh key".to_owned())
                        })?;
                    keys.push(public(&recipient.to_string())?);
                    out.push(Box::new(identity));
                }
                age::ssh::Identity::Encrypted(_) => {
                    return Err(bad(
                        "passphrase-protected ssh keys are not supported; use an unencrypted copy or an age identity"
                            .to_owned(),
                    ));
                }
                age::ssh::Identity::Unsupported(_) => {
                    return Err(bad(
                        "unsupported ssh key type (use ed25519 or rsa)".to_owned()
                    ));
                }
            }
        } else {
            // age's parser names the offending line number, never its content.
            let file =
                age::IdentityFile::from_buffer(&bytes[..]).map_err(|e| bad(e.to_string()))?;
            let mut publics = Vec::new();
            file.write_recipients_file(&mut publics)
                // Writing recipients fails only for a file without identities.
                .map_err(|_| bad("file contains no identities".to_owned()))?;
            for line in String::from_utf8_lossy(&publics).lines() {
                keys.push(public(line)?);
            }
            let identities = file.into_identities().map_err(|e| bad(e.to_string()))?;
            out.extend(identities);
        }
    }
    Ok((out, keys))
}

/// Creates `dir` if it is missing (one level only); returns whether it did.
fn ensure_dir(dir: &Path) -> Result<bool, Error> {
    match fs_err::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(false),
        Ok(_) => Err(Error::Io {
            path: dir.to_path_buf(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a folder"),
        }),
        Err(_) => {
            fs_err::create_dir(dir).map_err(Error::io(dir))?;
            Ok(true)
        }
    }
}

/// The error for a header refused before age parsed it.
fn header_problem(file: &Path, problem: HeaderProblem) -> Error {
    match problem {
        HeaderProblem::TooManyStanzas => Error::HeaderTooLarge {
            path: file.to_path_buf(),
            limit: format!("{} recipient stanzas", super::MAX_STANZAS),
        },
        HeaderProblem::TooLarge => Error::HeaderTooLarge {
            path: file.to_path_buf(),
            limit: format!("{} MiB", super::MAX_HEADER_BYTES >> 20),
        },
        HeaderProblem::Malformed(detail) => Error::InvalidFile {
            path: file.to_path_buf(),
            detail: detail.to_owned(),
        },
        HeaderProblem::Io(e) => header_error(file, age::DecryptError::Io(e), 0),
    }
}

fn header_error(file: &Path, e: age::DecryptError, max_work_factor: u8) -> Error {
    let invalid = |detail: &str| Error::InvalidFile {
        path: file.to_path_buf(),
        detail: detail.to_owned(),
    };
    match e {
        age::DecryptError::ExcessiveWork { required, .. } => Error::ExcessiveWork {
            path: file.to_path_buf(),
            required,
            max: max_work_factor,
            memory_mib: super::scrypt_memory_mib(required),
            max_memory_mib: super::scrypt_memory_mib(max_work_factor),
        },
        age::DecryptError::InvalidHeader => invalid("invalid header"),
        age::DecryptError::InvalidMac => invalid("header MAC mismatch: the header was altered"),
        age::DecryptError::UnknownFormat => invalid("unknown age version"),
        age::DecryptError::DecryptionFailed => invalid("header decryption failed"),
        age::DecryptError::NoMatchingKeys | age::DecryptError::KeyDecryptionFailed => {
            Error::WrongKey {
                path: file.to_path_buf(),
            }
        }
        age::DecryptError::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
            ) =>
        {
            invalid("truncated or malformed header or armor")
        }
        age::DecryptError::Io(source) => Error::Io {
            path: file.to_path_buf(),
            source,
        },
        _ => invalid("unsupported"),
    }
}

/// Remembers the kind of the first error raised by the decrypting reader, so that a
/// failure inside tar parsing can be told apart from a failure of the age stream.
struct Watched<R> {
    inner: R,
    failed: Rc<Cell<Option<io::ErrorKind>>>,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if self.failed.get().is_none() {
                self.failed.set(Some(e.kind()));
            }
        })
    }
}

/// Context for classifying errors while the payload is read.
struct Payload<'a> {
    file: &'a Path,
    failed: &'a Rc<Cell<Option<io::ErrorKind>>>,
}

impl Payload<'_> {
    /// Classifies an error: from the age stream it is corruption (or reading the file
    /// failed); otherwise it concerns `other` (the archive or the output).
    fn error(&self, e: io::Error, other: &Path) -> Error {
        match self.failed.get() {
            Some(io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof) => Error::Corrupted {
                path: self.file.to_path_buf(),
                source: e,
            },
            Some(_) => Error::Io {
                path: self.file.to_path_buf(),
                source: e,
            },
            None => Error::Io {
                path: other.to_path_buf(),
                source: e,
            },
        }
    }

    /// Like [`Self::error`] for errors raised while parsing tar.
    fn archive_error(&self, e: io::Error) -> Error {
        if self.failed.get().is_some() {
            return self.error(e, self.file);
        }
        Error::UnsafeEntry {
            entry: "(archive)".to_owned(),
            reason: format!("malformed tar archive: {e}"),
        }
    }
}

/// Whether the first 512 bytes are a tar header: `ustar` magic and a valid checksum.
fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() < 512 || &head[257..262] != b"ustar" {
        return false;
    }
    let header = tar::Header::from_byte_slice(&head[..512]);
    let Ok(stored) = header.cksum() else {
        return false;
    };
    let sum: u32 = head[..512]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == stored
}

fn single_name(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_suffix(".age") {
        Some(stem) if !stem.is_empty() && !stem.starts_with('.') => stem.to_owned(),
        _ => format!("{name}.decrypted"),
    }
}

fn write_single(
    reader: impl Read,
    out_dir: &Path,
    force: bool,
    payload: &Payload<'_>,
) -> Result<OpenReport, Error> {
    let name = single_name(payload.file);
    let dest = out_dir.join(&name);
    if !force && fs_err::symlink_metadata(&dest).is_ok() {
        return Err(Error::OutputExists { path: dest });
    }
    let mut temp = tempfile::Builder::new()
        .prefix(&leftover::own_prefix(OPEN_PREFIX))
        .tempfile_in(out_dir)
        .map_err(Error::io(out_dir))?;
    leftover::hold(temp.as_file());
    let (size, sha256) = match decrypt_to(reader, temp.as_file_mut(), &dest, payload) {
        Ok(done) => done,
        Err(e) => {
            // Decrypted bytes are overwritten before the name goes.
            let _ = leftover::scrub(temp.path());
            return Err(e);
        }
    };
    let persisted = if force {
        temp.persist(&dest)
    } else {
        temp.persist_noclobber(&dest)
    };
    persisted.map_err(|e| {
        let _ = leftover::scrub(e.file.path());
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            Error::OutputExists { path: dest.clone() }
        } else {
            Error::Io {
                path: dest.clone(),
                source: e.error,
            }
        }
    })?;
    Ok(OpenReport {
        input_size: 0,
        input_sha256: String::new(),
        kind: PayloadKind::SingleFile,
        files: vec![FileDigest {
            path: name,
            size,
            sha256,
        }],
        manifest_checked: false,
        outputs: vec![dest],
        keys: Vec::new(),
        leftovers_removed: Vec::new(),
    })
}

/// Decrypts `reader` into `file` (on its way to `dest`); returns its size and SHA-256.
fn decrypt_to(
    mut reader: impl Read,
    file: &mut std::fs::File,
    dest: &Path,
    payload: &Payload<'_>,
) -> Result<(u64, String), Error> {
    // Decrypting here and hashing and writing on another core: on one core the
    // SHA-256 of the output and the kernel's copy into the page cache cost more than
    // the decryption itself.
    let (mut chunks, receiver) = pipe::chunk_channel();
    let (decrypted, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<(u64, String)> {
            let mut out = HashingWriter::new(OutputFile::new(file)?);
            receiver.for_each(|buf| out.write_all(buf))?;
            let (file, size, sha256) = out.finish();
            file.finish()?;
            Ok((size, sha256))
        });
        let decrypted = io::copy(&mut reader, &mut chunks).and_then(|_| chunks.finish());
        (
            decrypted,
            writer.join().expect("the writer thread does not panic"),
        )
    });
    match (decrypted, written) {
        (Ok(()), Ok(done)) => Ok(done),
        (Err(e), _) if !pipe::is_gone(&e) => Err(payload.error(e, dest)),
        (_, Err(e)) => Err(Error::io(dest)(e)),
        (Err(e), Ok(_)) => Err(payload.error(e, dest)),
    }
}

/// Checks an archive path and returns it normalised (`/`-separated, no `.` parts).
fn safe_path(raw: &[u8]) -> Result<String, Error> {
    let shown = String::from_utf8_lossy(raw).into_owned();
    let unsafe_entry = |reason: &str| Error::UnsafeEntry {
        entry: shown.clone(),
        reason: reason.to_owned(),
    };
    // The byte offset of the bad UTF-8 adds nothing to the entry's shown name.
    let text = std::str::from_utf8(raw).map_err(|_| unsafe_entry("name is not UTF-8"))?;
    if text.starts_with('/') {
        return Err(unsafe_entry("absolute path"));
    }
    let mut parts = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(unsafe_entry("path contains `..`")),
            _ if part.contains('\0') => return Err(unsafe_entry("name contains NUL")),
            #[cfg(windows)]
            _ if part.contains(['\\', ':']) => {
                return Err(unsafe_entry("name contains `\\` or `:`"));
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(unsafe_entry("empty path"));
    }
    Ok(parts.join("/"))
}

fn extract_archive(
    reader: impl Read,
    out_dir: &Path,
    force: bool,
    payload: &Payload<'_>,
) -> Result<OpenReport, Error> {
    let temp = tempfile::Builder::new()
        .prefix(&leftover::own_prefix(OPEN_PREFIX))
        .tempdir_in(out_dir)
        .map_err(Error::io(out_dir))?;
    let root = temp.path().to_path_buf();
    // Held until the end, so that another custody's cleaning leaves it alone.
    let lock = std::fs::File::open(&root).map_err(Error::io(&root))?;
    leftover::hold(&lock);
    match extract_into(reader, &root, out_dir, force, payload) {
        Ok(report) => {
            temp.close().map_err(Error::io(&root))?;
            Ok(report)
        }
        Err(e) => {
            // Decrypted files are overwritten before their names go.
            let _ = leftover::scrub(&root);
            Err(e)
        }
    }
}

/// Extracts the archive in `reader` into the temporary folder `root`, checks it, and
/// moves its top-level entries into `out_dir`.
fn extract_into(
    reader: impl Read,
    root: &Path,
    out_dir: &Path,
    force: bool,
    payload: &Payload<'_>,
) -> Result<OpenReport, Error> {
    let mut archive = tar::Archive::new(reader);
    // This thread decrypts and parses; another creates, hashes and writes the files. The
    // scope ends with that thread, before `temp` can be removed.
    let (parsed, written) = std::thread::scope(|scope| {
        let (extractor, writer) = extract::spawn(scope);
        let parsed = parse_entries(&mut archive, root, &extractor, payload);
        drop(extractor);
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (parsed, written)
    });
    let (manifest, files) = match (parsed, written) {
        (Ok(manifest), Ok(files)) => (manifest, files),
        // The writer's failure is why parsing stopped, or the earlier of the two.
        (Err(Parse::Stopped) | Ok(_), Err(e)) => return Err(e),
        (Err(Parse::Failed(e)), _) => return Err(e),
        // Cannot happen: the writer ends well only after this side hung up.
        (Err(Parse::Stopped), Ok(_)) => {
            return Err(Error::Io {
                path: root.to_path_buf(),
                source: io::Error::other("extraction stopped without a reason"),
            });
        }
    };
    // Authenticate the rest of the age stream (tar stops at its end marker).
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| payload.error(e, payload.file))?;

    let manifest_checked = match manifest {
        Some(listed) => {
            check_manifest(&listed, &files)?;
            true
        }
        None => false,
    };

    let mut tops: Vec<PathBuf> = fs_err::read_dir(root)
        .map_err(Error::io(root))?
        .map(|e| e.map(|e| e.path()).map_err(Error::io(root)))
        .collect::<Result<_, _>>()?;
    tops.sort();
    for top in &tops {
        check_place(
            top,
            &out_dir.join(top.file_name().expect("read_dir names entries")),
            force,
        )?;
    }
    let mut outputs = Vec::with_capacity(tops.len());
    for top in &tops {
        let dest = out_dir.join(top.file_name().expect("read_dir names entries"));
        place(top, &dest)?;
        outputs.push(dest);
    }
    Ok(OpenReport {
        input_size: 0,
        input_sha256: String::new(),
        kind: PayloadKind::Archive,
        files,
        manifest_checked,
        outputs,
        keys: Vec::new(),
        leftovers_removed: Vec::new(),
    })
}

/// Why [`parse_entries`] stopped early.
enum Parse {
    /// An unsafe entry or a decryption failure, found while parsing.
    Failed(Error),
    /// The writing thread stopped; its result says why.
    Stopped,
}

impl From<Error> for Parse {
    fn from(e: Error) -> Self {
        Parse::Failed(e)
    }
}

impl From<extract::Stopped> for Parse {
    fn from(_: extract::Stopped) -> Self {
        Parse::Stopped
    }
}

/// Reads every tar entry, refuses the unsafe ones, keeps the manifest, and hands the rest
/// to the writing thread. Returns the manifest, if there was one.
///
/// Long on purpose: one loop over the archive with every entry type's checks side by
/// side, so that no kind of entry can reach the writer without its check.
fn parse_entries(
    archive: &mut tar::Archive<impl Read>,
    root: &Path,
    extractor: &extract::Extractor,
    payload: &Payload<'_>,
) -> Result<Option<BTreeMap<String, String>>, Parse> {
    // Regular files (and hard links) sent so far, with their position in the digests.
    let mut regular: HashMap<String, usize> = HashMap::new();
    // Every path and folder so far, by its NFC form: two names that are one name after
    // Unicode normalisation (é as one code point or as e and a combining accent) would
    // be two files here and one on another system, or overwrite each other there.
    let mut normalised: HashMap<String, String> = HashMap::new();
    let mut digests = 0usize;
    let mut manifest: Option<BTreeMap<String, String>> = None;

    let entries = archive.entries().map_err(|e| payload.archive_error(e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| payload.archive_error(e))?;
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            continue;
        }
        let rel = safe_path(&entry.path_bytes())?;
        let unsafe_entry = |reason: &str| Error::UnsafeEntry {
            entry: rel.clone(),
            reason: reason.to_owned(),
        };
        if let Some(other) = normalisation_clash(&mut normalised, &rel) {
            return Err(unsafe_entry(&format!(
                "its name and {other:?} are the same after Unicode normalisation"
            ))
            .into());
        }
        let dest = root.join(&rel);
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous if rel == MANIFEST_NAME => {
                if manifest.is_some() {
                    return Err(unsafe_entry("the manifest appears twice").into());
                }
                manifest = Some(read_manifest(&mut entry, payload)?);
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                send_file(&mut entry, extractor, &rel, dest, payload)?;
                regular.insert(rel, digests);
                digests += 1;
            }
            tar::EntryType::Directory => {
                extractor.send(extract::Op::Dir { rel, dest })?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| unsafe_entry("hard link without a target"))?;
                let target = safe_path(&target)
                    // Every way safe_path refuses a link target means it leaves the archive.
                    .map_err(|_| unsafe_entry("hard link points outside the archive"))?;
                let Some(&index) = regular.get(&target) else {
                    return Err(unsafe_entry(
                        "hard link does not point to an earlier file of the archive",
                    )
                    .into());
                };
                extractor.send(extract::Op::Link {
                    rel: rel.clone(),
                    dest,
                    target: root.join(&target),
                    index,
                })?;
                regular.insert(rel, digests);
                digests += 1;
            }
            tar::EntryType::Symlink => {
                return Err(unsafe_entry(
                    "symbolic links are not extracted (they could point outside the folder)",
                )
                .into());
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                return Err(unsafe_entry("device files and FIFOs are not extracted").into());
            }
            _ => return Err(unsafe_entry("unsupported entry type").into()),
        }
    }
    Ok(manifest)
}

/// The manifest entry's text, parsed; refused when larger than any manifest custody
/// writes.
fn read_manifest(
    entry: &mut tar::Entry<'_, impl Read>,
    payload: &Payload<'_>,
) -> Result<BTreeMap<String, String>, Parse> {
    let mut text = Vec::new();
    entry
        .take(manifest::MANIFEST_LIMIT + 1)
        .read_to_end(&mut text)
        .map_err(|e| payload.archive_error(e))?;
    if text.len() as u64 > manifest::MANIFEST_LIMIT {
        return Err(Error::UnsafeEntry {
            entry: MANIFEST_NAME.to_owned(),
            reason: "the manifest is too large".to_owned(),
        }
        .into());
    }
    Ok(manifest::parse(&text)?)
}

/// Hands a regular file's bytes to the writing thread, chunk by chunk.
fn send_file(
    entry: &mut tar::Entry<'_, impl Read>,
    extractor: &extract::Extractor,
    rel: &str,
    dest: PathBuf,
    payload: &Payload<'_>,
) -> Result<(), Parse> {
    let header = entry.header();
    extractor.send(extract::Op::File {
        rel: rel.to_owned(),
        dest: dest.clone(),
        mtime: header.mtime().ok(),
        mode: header.mode().ok(),
    })?;
    let mut left = entry.size();
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
        let mut buf = extractor.buffer(want);
        let n = pipe::read_full(entry, &mut buf[..want]).map_err(|e| payload.error(e, &dest))?;
        if n == 0 {
            break;
        }
        left -= n as u64;
        extractor.send(extract::Op::Data(buf, n))?;
    }
    // A short entry is the tar reader's to report, at the next entry.
    extractor.send(extract::Op::Close)?;
    Ok(())
}

/// Records every prefix of `rel` by its NFC form; returns an earlier, differently
/// spelled path that is the same after normalisation, if any.
fn normalisation_clash(seen: &mut HashMap<String, String>, rel: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let mut end = 0;
    let parts: Vec<&str> = rel.split('/').collect();
    for part in parts {
        end += part.len();
        let prefix = &rel[..end];
        let nfc: String = prefix.nfc().collect();
        match seen.get(&nfc) {
            Some(earlier) if earlier != prefix => return Some(earlier.clone()),
            Some(_) => {}
            None => {
                seen.insert(nfc, prefix.to_owned());
            }
        }
        end += 1; // the separator
    }
    None
}

fn check_manifest(listed: &BTreeMap<String, String>, files: &[FileDigest]) -> Result<(), Error> {
    let mismatch = |entry: &str, reason: &str| Error::ManifestMismatch {
        entry: entry.to_owned(),
        reason: reason.to_owned(),
    };
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for file in files {
        seen.insert(&file.path, &file.sha256);
        match listed.get(&file.path) {
            None => return Err(mismatch(&file.path, "not listed in the manifest")),
            Some(hash) if *hash != file.sha256 => {
                return Err(mismatch(&file.path, "SHA-256 differs from the manifest"));
            }
            Some(_) => {}
        }
    }
    for path in listed.keys() {
        if !seen.contains_key(path.as_str()) {
            return Err(mismatch(
                path,
                "listed in the manifest but missing from the archive",
            ));
        }
    }
    Ok(())
}

/// Checks that `src` can be moved to `dest`: `dest` must not exist, unless `force`, and
/// then a file may replace a file and a folder is merged into a folder.
fn check_place(src: &Path, dest: &Path, force: bool) -> Result<(), Error> {
    let Ok(existing) = fs_err::symlink_metadata(dest) else {
        return Ok(());
    };
    let exists = || Error::OutputExists {
        path: dest.to_path_buf(),
    };
    if !force {
        return Err(exists());
    }
    let src_is_dir = fs_err::symlink_metadata(src)
        .map_err(Error::io(src))?
        .is_dir();
    match (src_is_dir, existing.is_dir()) {
        (true, true) => {
            for child in fs_err::read_dir(src).map_err(Error::io(src))? {
                let child = child.map_err(Error::io(src))?.path();
                check_place(&child, &dest.join(child.file_name().expect("named")), force)?;
            }
            Ok(())
        }
        (false, false) => Ok(()),
        _ => Err(exists()),
    }
}

/// Moves `src` to `dest` as [`check_place`] allowed.
fn place(src: &Path, dest: &Path) -> Result<(), Error> {
    let merge = fs_err::symlink_metadata(dest).is_ok_and(|m| m.is_dir())
        && fs_err::symlink_metadata(src).is_ok_and(|m| m.is_dir());
    if merge {
        for child in fs_err::read_dir(src).map_err(Error::io(src))? {
            let child = child.map_err(Error::io(src))?.path();
            place(&child, &dest.join(child.file_name().expect("named")))?;
        }
        Ok(())
    } else {
        fs_err::rename(src, dest).map_err(Error::io(dest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_path_refuses_escapes() {
        assert!(safe_path(b"/etc/passwd").is_err());
        assert!(safe_path(b"a/../../x").is_err());
        assert!(safe_path(b"..").is_err());
        assert!(safe_path(b"./").is_err());
        assert!(safe_path(b"\xff").is_err());
        assert_eq!(safe_path(b"./a//b/").expect("ok"), "a/b");
        assert_eq!(
            safe_path("フォルダ/報告.csv".as_bytes()).expect("ok"),
            "フォルダ/報告.csv"
        );
    }

    proptest::proptest! {
        /// Whatever bytes an archive names an entry with, what is accepted stays
        /// inside the folder it is extracted into.
        #[test]
        fn no_entry_name_leads_outside(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            check_entry_name(&raw)?;
        }

        #[test]
        fn no_structured_entry_name_leads_outside(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just("..".to_owned()),
                proptest::strategy::Just(".".to_owned()),
                proptest::strategy::Just(String::new()),
                "[a-z\u{0}/\\:]{1,4}",
            ], 0..6),
            absolute in proptest::bool::ANY,
        ) {
            let text = format!("{}{}", if absolute { "/" } else { "" }, parts.join("/"));
            check_entry_name(text.as_bytes())?;
        }
    }

    fn check_entry_name(raw: &[u8]) -> Result<(), proptest::test_runner::TestCaseError> {
        if let Ok(rel) = safe_path(raw) {
            let root = Path::new("/srv/inbox/.custody-open-1-x");
            let joined = root.join(&rel);
            proptest::prop_assert!(!rel.is_empty() && !rel.starts_with('/'));
            proptest::prop_assert!(!rel.contains('\0'));
            for part in rel.split('/') {
                proptest::prop_assert!(!part.is_empty() && part != "." && part != "..", "{rel:?}");
            }
            proptest::prop_assert!(joined.starts_with(root));
            let depth = joined
                .components()
                .filter(|c| matches!(c, std::path::Component::Normal(_)))
                .count();
            proptest::prop_assert!(depth > root.components().count() - 1);
        }
        Ok(())
    }

    #[test]
    fn names_equal_after_normalisation_clash() {
        let mut seen = HashMap::new();
        assert_eq!(normalisation_clash(&mut seen, "caf\u{e9}/a.csv"), None);
        assert_eq!(normalisation_clash(&mut seen, "caf\u{e9}/b.csv"), None);
        // The same folder spelled with a combining accent.
        assert_eq!(
            normalisation_clash(&mut seen, "cafe\u{301}/c.csv").as_deref(),
            Some("caf\u{e9}")
        );
        assert_eq!(normalisation_clash(&mut seen, "cafe/c.csv"), None);
    }

    #[test]
    fn single_names() {
        assert_eq!(single_name(Path::new("/x/report.csv.age")), "report.csv");
        assert_eq!(single_name(Path::new("vector")), "vector.decrypted");
        assert_eq!(single_name(Path::new(".age")), ".age.decrypted");
    }

    #[test]
    fn tar_sniffing() {
        let mut header = tar::Header::new_gnu();
        header.set_path("a").expect("path");
        header.set_size(0);
        header.set_cksum();
        assert!(looks_like_tar(header.as_bytes()));
        let mut bytes = *header.as_bytes();
        bytes[0] ^= 1;
        assert!(!looks_like_tar(&bytes));
        assert!(!looks_like_tar(b"hello"));
    }
}
