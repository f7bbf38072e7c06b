//! `send`: encrypting one file, or a tar archive of folders and files, into one age file.
//!
//! The inputs are walked and checked before anything is written (symbolic links inside a
//! folder, devices, FIFOs, sockets, names that are not UTF-8 or that `sha256sum` would
//! have to escape are refused), then streamed once: each file is read in 1 MiB chunks,
//! hashed as it is read, written into the tar stream and encrypted. The ciphertext is
//! hashed on its way to a temporary file beside the output, which is synced and renamed
//! to the output only when complete; it is never renamed over an existing file.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::direct::OutputFile;
use super::leftover::{self, SEND_PREFIX};
use super::manifest;
use super::pipe::{self, ChunkWriter, chunk_channel};
use super::{
    CHUNK, Error, FileDigest, HashingWriter, MANIFEST_NAME, Progress, ProgressGuard, Recipient,
    SCRYPT_WORK_FACTOR, Ticker,
};

/// Name of the default output when several paths are sent at once.
const MULTI_OUTPUT_NAME: &str = "custody-send.tar.age";

/// How the file key is protected.
pub enum Mode {
    /// Encrypt to these public keys; there is no passphrase at all.
    Recipients(Vec<Recipient>),
    /// Encrypt with this passphrase (normally from [`super::generate_passphrase`]), with
    /// scrypt work factor [`SCRYPT_WORK_FACTOR`].
    Passphrase(SecretString),
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Recipients(r) => f.debug_tuple("Recipients").field(r).finish(),
            Mode::Passphrase(_) => f.write_str("Passphrase(..)"),
        }
    }
}

/// What to send and where to.
#[derive(Debug)]
pub struct SendInput {
    /// Files and folders to send; one regular file is encrypted as itself, anything else
    /// becomes a tar archive with each path stored under its own name.
    pub paths: Vec<PathBuf>,
    /// The output file; `None` means [`default_output_name`] in the current folder.
    pub output: Option<PathBuf>,
    /// Recipients or passphrase.
    pub mode: Mode,
}

/// What was written, for the record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SendReport {
    /// Where the encrypted file is.
    pub output: PathBuf,
    /// Its file name.
    pub output_name: String,
    /// Its size in bytes.
    pub output_size: u64,
    /// Its SHA-256, lower-case hex.
    pub output_sha256: String,
    /// Every file inside, in archive order (the manifest excluded), or the single file.
    pub files: Vec<FileDigest>,
    /// Whether the payload is a tar archive (with `MANIFEST.sha256`).
    pub archive: bool,
    /// Fingerprints of the recipients (see [`Recipient::fingerprint`]); empty in
    /// passphrase mode.
    pub recipients: Vec<String>,
    /// Whether the file is protected by a passphrase instead of keys.
    pub passphrase_mode: bool,
    /// Leftovers of interrupted sends found beside the output and removed first.
    pub leftovers_removed: Vec<PathBuf>,
}

/// The output name `send` picks for `paths`: `NAME.age` for one regular file,
/// `NAME.tar.age` for one folder, `custody-send.tar.age` for several paths.
pub fn default_output_name(paths: &[PathBuf]) -> Result<String, Error> {
    match paths {
        [] => Err(Error::NoInput),
        [path] => {
            let name = top_name(path)?;
            let meta = fs_err::metadata(path).map_err(Error::io(path))?;
            Ok(if meta.is_dir() {
                format!("{name}.tar.age")
            } else {
                format!("{name}.age")
            })
        }
        _ => Ok(MULTI_OUTPUT_NAME.to_owned()),
    }
}

/// Encrypts `input.paths` into one age file and reports what it holds.
///
/// On any error the temporary output is removed and nothing is left behind.
pub fn send(input: SendInput, progress: &dyn Progress) -> Result<SendReport, Error> {
    let SendInput {
        paths,
        output,
        mode,
    } = input;
    let output = match output {
        Some(output) => output,
        None => super::absolute(Path::new(&default_output_name(&paths)?))?,
    };
    let plan = Plan::new(&paths)?;
    check_output(&output, &plan)?;

    let (recipients, passphrase_mode) = match &mode {
        Mode::Recipients(list) => (
            list.iter().map(|r| r.fingerprint().to_owned()).collect(),
            false,
        ),
        Mode::Passphrase(_) => (Vec::new(), true),
    };
    let encryptor = encryptor(mode)?;

    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // What a send killed earlier left here: never a valid file, only in the way.
    let leftovers_removed = leftover::clean(&parent, SEND_PREFIX).map_err(Error::io(&parent))?;
    let mut temp = tempfile::Builder::new()
        .prefix(&leftover::own_prefix(SEND_PREFIX))
        .suffix(".tmp")
        .tempfile_in(&parent)
        .map_err(Error::io(&parent))?;
    leftover::hold(temp.as_file());

    progress.start(plan.total_bytes);
    let _finish = ProgressGuard(progress);
    let (files, output_size, output_sha256) =
        match pipeline(&plan, encryptor, temp.as_file_mut(), &output, progress) {
            Ok(done) => done,
            Err(_) if leftover::stopped() => return Err(Error::Interrupted),
            Err(e) => return Err(e),
        };

    temp.persist_noclobber(&output).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            Error::OutputExists {
                path: output.clone(),
            }
        } else {
            Error::Io {
                path: output.clone(),
                source: e.error,
            }
        }
    })?;
    let output_name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(SendReport {
        output,
        output_name,
        output_size,
        output_sha256,
        files,
        archive: plan.archive,
        recipients,
        passphrase_mode,
        leftovers_removed,
    })
}

/// Runs the three stages of [`super::pipe`]: this thread encrypts, one thread reads and
/// hashes the input (as a tar stream or a single file), one hashes and writes the output.
/// Returns the file digests and the output's size and SHA-256; the output is synced.
fn pipeline(
    plan: &Plan,
    encryptor: age::Encryptor,
    file: &mut std::fs::File,
    output: &Path,
    progress: &dyn Progress,
) -> Result<(Vec<FileDigest>, u64, String), Error> {
    let (plain_tx, plain_rx) = chunk_channel();
    let (cipher_tx, cipher_rx) = chunk_channel();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut out = plain_tx;
            let mut ticker = Ticker::new(progress);
            let (_, files) = if plan.archive {
                write_archive(plan, &mut out, output, &mut ticker)?
            } else {
                write_single(plan, &mut out, output, &mut ticker)?
            };
            ticker.flush();
            out.finish().map_err(Error::io(output))?;
            Ok::<_, Error>(files)
        });
        let writer = scope.spawn(move || {
            let mut sink = HashingWriter::new(OutputFile::new(file)?);
            cipher_rx.for_each(|buf| sink.write_all(buf))?;
            let (file, size, sha256) = sink.finish();
            file.finish()?;
            Ok::<_, io::Error>((size, sha256))
        });

        let encrypted = (|| {
            let mut stream = encryptor.wrap_output(cipher_tx)?;
            plain_rx.for_each(|buf| stream.write_all(buf))?;
            Ok::<_, io::Error>(stream)
        })();
        let files = producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // Finish the age stream only when the input was read completely: a final chunk
        // after a failed read would make a valid-looking truncated file.
        let finished = match (&files, encrypted) {
            (Ok(_), Ok(stream)) => stream.finish().and_then(ChunkWriter::finish),
            (_, Ok(stream)) => {
                drop(stream);
                Ok(())
            }
            (_, Err(e)) => Err(e),
        };
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let io_error = |source| Error::Io {
            path: output.to_path_buf(),
            source,
        };
        match (files, finished, written) {
            (Ok(files), Ok(()), Ok((size, sha256))) => Ok((files, size, sha256)),
            // A stage that stopped because a later one failed reports the later failure.
            (Err(Error::Io { source, .. }), _, Err(e)) if pipe::is_gone(&source) => {
                Err(io_error(e))
            }
            (Err(e), _, _) => Err(e),
            (Ok(_), Err(e), Err(w)) if pipe::is_gone(&e) => Err(io_error(w)),
            (Ok(_), Err(e), _) => Err(io_error(e)),
            (Ok(_), Ok(()), Err(w)) => Err(io_error(w)),
        }
    })
}

fn encryptor(mode: Mode) -> Result<age::Encryptor, Error> {
    match mode {
        Mode::Recipients(list) => {
            if list.is_empty() {
                return Err(Error::NoRecipients);
            }
            age::Encryptor::with_recipients(list.iter().map(|r| r.as_age())).map_err(Error::Encrypt)
        }
        Mode::Passphrase(passphrase) => {
            let mut recipient = age::scrypt::Recipient::new(passphrase);
            recipient.set_work_factor(SCRYPT_WORK_FACTOR);
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(Error::Encrypt)
        }
    }
}

/// One thing to put into the archive.
#[derive(Debug)]
enum Item {
    Dir {
        name: String,
        mode: u32,
        mtime: u64,
    },
    File {
        src: PathBuf,
        name: String,
        size: u64,
        mode: u32,
        mtime: u64,
    },
}

/// Everything to send, checked before a byte is written.
#[derive(Debug)]
struct Plan {
    items: Vec<Item>,
    /// Input folders (absolute), to keep the output out of them.
    dirs: Vec<PathBuf>,
    archive: bool,
    total_bytes: u64,
}

impl Plan {
    fn new(paths: &[PathBuf]) -> Result<Self, Error> {
        if paths.is_empty() {
            return Err(Error::NoInput);
        }
        let mut plan = Plan {
            items: Vec::new(),
            dirs: Vec::new(),
            archive: true,
            total_bytes: 0,
        };
        let mut tops = HashSet::new();
        for path in paths {
            let name = top_name(path)?;
            if !tops.insert(name.clone()) {
                return Err(Error::DuplicateName { name });
            }
            // The paths the user named are followed if they are links; links found
            // inside folders are not.
            let meta = fs_err::metadata(path).map_err(Error::io(path))?;
            if meta.is_file() {
                plan.push_file(path.clone(), name, &meta)?;
            } else if meta.is_dir() {
                plan.dirs
                    .push(std::fs::canonicalize(path).map_err(Error::io(path))?);
                plan.walk(path, &name)?;
            } else {
                return Err(unsupported(path, "not a regular file or folder"));
            }
        }
        plan.archive = !(paths.len() == 1 && matches!(plan.items.as_slice(), [Item::File { .. }]));
        if plan.archive && tops.contains(MANIFEST_NAME) {
            return Err(unsupported(
                Path::new(MANIFEST_NAME),
                "this name is reserved for the archive's manifest; rename the file",
            ));
        }
        Ok(plan)
    }

    fn walk(&mut self, root: &Path, top: &str) -> Result<(), Error> {
        let walk = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name();
        for entry in walk {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(root).to_path_buf();
                Error::Io {
                    source: e.into_io_error().unwrap_or_else(|| {
                        io::Error::other("file system loop while walking the folder")
                    }),
                    path,
                }
            })?;
            let rel = entry
                .path()
                .strip_prefix(root)
                .expect("walkdir yields paths under its root");
            let mut name = top.to_owned();
            for component in rel.components() {
                let Component::Normal(part) = component else {
                    return Err(unsupported(entry.path(), "unexpected path component"));
                };
                let part = part
                    .to_str()
                    .ok_or_else(|| unsupported(entry.path(), "the name is not valid UTF-8"))?;
                name.push('/');
                name.push_str(part);
            }
            let file_type = entry.file_type();
            let meta = entry.metadata().map_err(|e| Error::Io {
                path: entry.path().to_path_buf(),
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| io::Error::other("cannot read metadata")),
            })?;
            if file_type.is_dir() {
                self.items.push(Item::Dir {
                    name,
                    mode: mode_of(&meta),
                    mtime: mtime_of(&meta),
                });
            } else if file_type.is_file() {
                self.push_file(entry.path().to_path_buf(), name, &meta)?;
            } else if file_type.is_symlink() {
                return Err(unsupported(
                    entry.path(),
                    "symbolic links inside folders are not sent; replace it with the file or remove it",
                ));
            } else {
                return Err(unsupported(
                    entry.path(),
                    "not a regular file or folder (device, FIFO or socket)",
                ));
            }
        }
        Ok(())
    }

    fn push_file(
        &mut self,
        src: PathBuf,
        name: String,
        meta: &std::fs::Metadata,
    ) -> Result<(), Error> {
        if !manifest::path_is_representable(&name) {
            return Err(unsupported(
                &src,
                "names with a newline or backslash cannot be listed in MANIFEST.sha256",
            ));
        }
        self.total_bytes += meta.len();
        self.items.push(Item::File {
            src,
            name,
            size: meta.len(),
            mode: mode_of(meta),
            mtime: mtime_of(meta),
        });
        Ok(())
    }
}

fn unsupported(path: &Path, reason: &str) -> Error {
    Error::UnsupportedInput {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
}

/// The name under which an input path is stored: its last component.
fn top_name(path: &Path) -> Result<String, Error> {
    let name = match path.file_name() {
        Some(name) => name.to_owned(),
        // `.`, `..` and the like: name them after the folder they point to.
        None => std::fs::canonicalize(path)
            .map_err(Error::io(path))?
            .file_name()
            .ok_or_else(|| unsupported(path, "cannot send the root folder"))?
            .to_owned(),
    };
    name.into_string()
        // The error only hands the name back; the message says what is wrong with it.
        .map_err(|_| unsupported(path, "the name is not valid UTF-8"))
}

/// Refuses an existing output and an output inside a folder being sent (the walk would
/// pick up its own temporary file).
fn check_output(output: &Path, plan: &Plan) -> Result<(), Error> {
    if fs_err::symlink_metadata(output).is_ok() {
        return Err(Error::OutputExists {
            path: output.to_path_buf(),
        });
    }
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = std::fs::canonicalize(parent).map_err(Error::io(parent))?;
    for dir in &plan.dirs {
        if parent.starts_with(dir) {
            return Err(Error::OutputInsideInput {
                output: output.to_path_buf(),
                input: dir.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    if meta.is_dir() { 0o755 } else { 0o644 }
}

fn mtime_of(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

fn write_single<W: Write>(
    plan: &Plan,
    mut out: W,
    output: &Path,
    ticker: &mut Ticker<'_>,
) -> Result<(W, Vec<FileDigest>), Error> {
    let Some(Item::File { src, name, .. }) = plan.items.first() else {
        unreachable!("a single-file plan holds exactly one file");
    };
    let mut file = fs_err::File::open(src).map_err(Error::io(src))?;
    let mut buf = vec![0u8; CHUNK];
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(src)(e)),
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(Error::io(output))?;
        size += n as u64;
        ticker.add(n as u64);
    }
    let digest = FileDigest {
        path: name.clone(),
        size,
        sha256: hex::encode(hasher.finalize()),
    };
    Ok((out, vec![digest]))
}

fn write_archive<W: Write>(
    plan: &Plan,
    out: W,
    output: &Path,
    ticker: &mut Ticker<'_>,
) -> Result<(W, Vec<FileDigest>), Error> {
    let mut builder = tar::Builder::new(out);
    let mut buf = vec![0u8; CHUNK];
    let mut files = Vec::new();
    let mut newest = 0;
    let write_err = |e| Error::io(output)(e);
    for item in &plan.items {
        match item {
            Item::Dir { name, mode, mtime } => {
                let mut header = header(tar::EntryType::Directory, 0, *mode, *mtime);
                builder
                    .append_data(&mut header, format!("{name}/"), io::empty())
                    .map_err(write_err)?;
            }
            Item::File {
                src,
                name,
                size,
                mode,
                mtime,
            } => {
                newest = newest.max(*mtime);
                let file = fs_err::File::open(src).map_err(Error::io(src))?;
                let mut source = FileSource {
                    file,
                    buf: &mut buf,
                    pos: 0,
                    end: 0,
                    remaining: *size,
                    hasher: Sha256::new(),
                    ticker: &mut *ticker,
                    failure: None,
                };
                let mut header = header(tar::EntryType::Regular, *size, *mode, *mtime);
                let result = builder.append_data(&mut header, name, &mut source);
                if let Some(failure) = source.failure.take() {
                    return Err(match failure {
                        SourceFailure::Changed => Error::InputChanged { path: src.clone() },
                        SourceFailure::Read(e) => Error::io(src)(e),
                    });
                }
                result.map_err(write_err)?;
                let sha256 = source.finish().map_err(|failure| match failure {
                    SourceFailure::Changed => Error::InputChanged { path: src.clone() },
                    SourceFailure::Read(e) => Error::io(src)(e),
                })?;
                files.push(FileDigest {
                    path: name.clone(),
                    size: *size,
                    sha256,
                });
            }
        }
    }
    let manifest = manifest::render(&files);
    let mut header = header(
        tar::EntryType::Regular,
        manifest.len() as u64,
        0o644,
        newest,
    );
    builder
        .append_data(&mut header, MANIFEST_NAME, manifest.as_bytes())
        .map_err(write_err)?;
    let out = builder.into_inner().map_err(write_err)?;
    Ok((out, files))
}

/// A deterministic header: no owner names, uid and gid 0, mode and mtime from the file.
fn header(kind: tar::EntryType, size: u64, mode: u32, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header
}

enum SourceFailure {
    /// The file is shorter or longer than when it was planned.
    Changed,
    Read(io::Error),
}

/// Reads exactly `remaining` bytes of a file in large chunks through a shared buffer,
/// hashing each chunk as it is read; tar pulls from it in small pieces.
struct FileSource<'a, 'p> {
    file: fs_err::File,
    buf: &'a mut [u8],
    pos: usize,
    end: usize,
    remaining: u64,
    hasher: Sha256,
    ticker: &'a mut Ticker<'p>,
    failure: Option<SourceFailure>,
}

impl FileSource<'_, '_> {
    /// Checks that the file has no more bytes than planned and returns its hash.
    fn finish(mut self) -> Result<String, SourceFailure> {
        let mut probe = [0u8; 1];
        loop {
            match self.file.read(&mut probe) {
                Ok(0) => break,
                Ok(_) => return Err(SourceFailure::Changed),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(SourceFailure::Read(e)),
            }
        }
        Ok(hex::encode(self.hasher.finalize()))
    }
}

impl Read for FileSource<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end {
            if self.remaining == 0 {
                return Ok(0);
            }
            let want = self
                .buf
                .len()
                .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
            let n = loop {
                match self.file.read(&mut self.buf[..want]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let kind = e.kind();
                        self.failure = Some(SourceFailure::Read(e));
                        return Err(io::Error::new(kind, "input read failed"));
                    }
                }
            };
            if n == 0 {
                self.failure = Some(SourceFailure::Changed);
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "input file shrank",
                ));
            }
            self.hasher.update(&self.buf[..n]);
            self.ticker.add(n as u64);
            self.remaining -= n as u64;
            self.pos = 0;
            self.end = n;
        }
        let n = out.len().min(self.end - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::seal::NoProgress;

    fn passphrase() -> Mode {
        Mode::Passphrase(SecretString::from("test passphrase"))
    }

    #[test]
    fn default_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.csv");
        std::fs::write(&file, "x").expect("write");
        assert_eq!(
            default_output_name(std::slice::from_ref(&file)).expect("ok"),
            "a.csv.age"
        );
        assert_eq!(
            default_output_name(&[dir.path().to_path_buf()]).expect("ok"),
            format!(
                "{}.tar.age",
                dir.path().file_name().expect("name").to_string_lossy()
            )
        );
        assert_eq!(
            default_output_name(&[file.clone(), file]).expect("ok"),
            MULTI_OUTPUT_NAME
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_inside_folder_is_refused_and_nothing_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in");
        std::fs::create_dir(&input).expect("mkdir");
        std::os::unix::fs::symlink("/etc/passwd", input.join("link")).expect("symlink");
        let output = dir.path().join("out.tar.age");
        let err = send(
            SendInput {
                paths: vec![input],
                output: Some(output.clone()),
                mode: passphrase(),
            },
            &NoProgress,
        )
        .expect_err("symlink refused");
        assert!(matches!(err, Error::UnsupportedInput { .. }), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(left.len(), 1, "only the input folder remains");
    }

    #[test]
    fn output_inside_input_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("f"), "x").expect("write");
        let err = send(
            SendInput {
                paths: vec![dir.path().to_path_buf()],
                output: Some(dir.path().join("out.tar.age")),
                mode: passphrase(),
            },
            &NoProgress,
        )
        .expect_err("refused");
        assert!(matches!(err, Error::OutputInsideInput { .. }), "{err}");
    }

    #[test]
    fn existing_output_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, "x").expect("write");
        let output = dir.path().join("f.age");
        std::fs::write(&output, "keep").expect("write");
        let err = send(
            SendInput {
                paths: vec![file],
                output: Some(output.clone()),
                mode: passphrase(),
            },
            &NoProgress,
        )
        .expect_err("refused");
        assert!(matches!(err, Error::OutputExists { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&output).expect("read"), "keep");
    }

    #[test]
    fn manifest_name_at_root_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join(MANIFEST_NAME);
        let b = dir.path().join("b");
        std::fs::write(&a, "x").expect("write");
        std::fs::write(&b, "y").expect("write");
        let err = send(
            SendInput {
                paths: vec![a, b],
                output: Some(dir.path().join("o.tar.age")),
                mode: passphrase(),
            },
            &NoProgress,
        )
        .expect_err("refused");
        assert!(matches!(err, Error::UnsupportedInput { .. }), "{err}");
    }

    #[test]
    fn passphrase_is_not_in_debug_output() {
        let input = SendInput {
            paths: vec![],
            output: None,
            mode: Mode::Passphrase(SecretString::from("hunter2-secret")),
        };
        assert!(!format!("{input:?}").contains("hunter2"));
    }
}
