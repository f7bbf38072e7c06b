//! The error type of [`crate::send::seal`].

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while sealing or opening. Messages never contain
/// passphrases, key material or file contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("i/o error on {path}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// `send` was called without any input path.
    #[error("nothing to send: no input paths were given")]
    NoInput,

    /// An input cannot be put into an archive (a symbolic link, a device, a name that is
    /// not UTF-8, ...).
    #[error("cannot send {path}: {reason}")]
    UnsupportedInput {
        /// The offending input.
        path: PathBuf,
        /// Why it is refused.
        reason: String,
    },

    /// Two inputs would be stored under the same name at the archive root.
    #[error("two inputs would both be stored as {name:?} at the archive root")]
    DuplicateName {
        /// The clashing name.
        name: String,
    },

    /// The output would be written inside a folder that is being sent.
    #[error("the output {output} is inside the input folder {input}; choose another output")]
    OutputInsideInput {
        /// The output path.
        output: PathBuf,
        /// The input folder that contains it.
        input: PathBuf,
    },

    /// The output file or an extracted path already exists.
    #[error("{path} already exists; refusing to overwrite it")]
    OutputExists {
        /// The existing path.
        path: PathBuf,
    },

    /// An input file changed size while it was being read.
    #[error("{path} changed while it was being read; try again when nothing writes to it")]
    InputChanged {
        /// The file that changed.
        path: PathBuf,
    },

    /// A recipient string or a line of a recipients file is not a supported public key.
    #[error("invalid recipient in {origin}: {reason}")]
    InvalidRecipient {
        /// Where the recipient came from: `argument` or `FILE line N`.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Recipient mode was asked for without any recipient.
    #[error("no recipients were given")]
    NoRecipients,

    /// age refused to build the header (e.g. incompatible recipient kinds).
    #[error("cannot encrypt")]
    Encrypt(#[source] age::EncryptError),

    /// An identity file could not be used.
    #[error("cannot use identity file {path}: {reason}")]
    InvalidIdentity {
        /// The identity file.
        path: PathBuf,
        /// What is wrong with it (never its contents).
        reason: String,
    },

    /// The file is encrypted to a passphrase but none was given.
    #[error("{path} is encrypted with a passphrase; give the passphrase")]
    PassphraseRequired {
        /// The encrypted file.
        path: PathBuf,
    },

    /// The file is encrypted to keys but no identity was given.
    #[error("{path} is encrypted to public keys; give an identity (private key) file")]
    IdentityRequired {
        /// The encrypted file.
        path: PathBuf,
    },

    /// None of the given identities can decrypt the file.
    #[error("none of the given keys can decrypt {path} (wrong key?)")]
    WrongKey {
        /// The encrypted file.
        path: PathBuf,
    },

    /// The passphrase does not decrypt the file.
    #[error("the passphrase does not decrypt {path} (wrong passphrase?)")]
    WrongPassphrase {
        /// The encrypted file.
        path: PathBuf,
    },

    /// The passphrase file asks for more scrypt work than this station accepts.
    #[error(
        "{path} asks for scrypt work factor {required} ({memory_mib} MiB of memory), more than this station accepts (work factor {max}, {max_memory_mib} MiB); refused before any work was done"
    )]
    ExcessiveWork {
        /// The encrypted file.
        path: PathBuf,
        /// The work factor in the file.
        required: u8,
        /// The highest accepted.
        max: u8,
        /// The memory the file's work factor needs, in MiB.
        memory_mib: u64,
        /// The memory the highest accepted work factor needs, in MiB.
        max_memory_mib: u64,
    },

    /// The header is larger than custody reads: a crafted file meant to stall the
    /// station.
    #[error(
        "{path} has an age header of more than {limit}; refused without parsing it or trying any key"
    )]
    HeaderTooLarge {
        /// The encrypted file.
        path: PathBuf,
        /// The limit it went over, in words.
        limit: String,
    },

    /// The file is not a valid age file (bad header, header MAC, armor, or unknown version).
    #[error("{path} is not a valid age file ({detail})")]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// A short description from the parser.
        detail: String,
    },

    /// The encrypted payload failed authentication: the file is truncated or altered.
    #[error("{path} is truncated or corrupted; nothing was extracted")]
    Corrupted {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// An archive entry is unsafe or unsupported and the archive was refused.
    #[error("unsafe archive entry {entry:?}: {reason}; nothing was extracted")]
    UnsafeEntry {
        /// The entry's path as written in the archive.
        entry: String,
        /// Why it is refused.
        reason: String,
    },

    /// A signal stopped the operation; what it had written was removed (and, when it
    /// was decrypted data, overwritten first).
    #[error("interrupted by a signal; the partly written output was removed")]
    Interrupted,

    /// The archive's contents do not match its `MANIFEST.sha256`.
    #[error("manifest check failed for {entry:?}: {reason}; nothing was extracted")]
    ManifestMismatch {
        /// The entry that does not match (or the manifest itself).
        entry: String,
        /// What differs.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
