//! `custody doctor`: what interrupted commands left behind, found and cleaned.
//!
//! A `send` or `open` stopped by a signal removes its own temporary output; one killed
//! (SIGKILL, a power cut) cannot. Each keeps a marker in the data home's `run/` folder
//! while it works, naming the folder it writes into and held under a lock: a marker
//! whose lock is free belongs to a run that ended without cleaning up, and its folder is
//! searched for the run's leftovers ([`crate::send::seal::leftover`]). The doctor also removes
//! agent sockets no process listens on, and lists wipes that began and never recorded a
//! result (those cannot be cleaned: the targets are partly overwritten and must be
//! wiped again).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::send::seal::leftover::{self, OPEN_PREFIX, SEND_PREFIX};
use crate::station::Station;

/// What kind of run a marker stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    /// `custody send`: ciphertext beside the output.
    Send,
    /// `custody open`: decrypted data in the target folder.
    Open,
}

impl RunKind {
    fn prefix(self) -> &'static str {
        match self {
            RunKind::Send => SEND_PREFIX,
            RunKind::Open => OPEN_PREFIX,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    kind: RunKind,
    dir: PathBuf,
    pid: u32,
}

/// A marker held while a `send` or `open` runs; removed when dropped.
#[derive(Debug)]
pub(crate) struct RunMarker {
    path: PathBuf,
    _lock: File,
}

impl Drop for RunMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The folder of run markers in a data home.
fn run_dir(home: &Path) -> PathBuf {
    home.join("run")
}

/// Records that a run of `kind` writes into `dir`, until the marker is dropped.
pub(crate) fn mark(home: &Path, kind: RunKind, dir: &Path) -> Result<RunMarker> {
    let run = run_dir(home);
    fs_err::create_dir_all(&run)?;
    let dir = std::path::absolute(dir).map_err(|e| Error::File {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let marker = Marker {
        kind,
        dir,
        pid: std::process::id(),
    };
    let mut file = tempfile::Builder::new()
        .prefix(&format!("{}-", std::process::id()))
        .suffix(".json")
        .tempfile_in(&run)
        .map_err(|e| Error::File {
            path: run.to_path_buf(),
            source: e,
        })?;
    leftover::hold(file.as_file());
    let text = serde_json::to_vec(&marker).map_err(|e| Error::Io(std::io::Error::other(e)))?;
    file.write_all(&text)?;
    let (lock, path) = file.keep().map_err(|e| Error::Io(e.error))?;
    Ok(RunMarker { path, _lock: lock })
}

/// What the doctor found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DoctorReport {
    /// Leftovers of interrupted sends and opens, removed (or, in a dry run, found).
    pub leftovers: Vec<PathBuf>,
    /// Runs still in progress, whose folders were left alone.
    pub running: Vec<PathBuf>,
    /// Agent sockets no process listens on, removed (or found).
    pub stale_sockets: Vec<PathBuf>,
    /// Wipes that began and never recorded a result: `(seq, description)`.
    pub unfinished_wipes: Vec<(i64, String)>,
    /// Whether anything was removed (false in a dry run).
    pub cleaned: bool,
}

impl Station {
    /// Finds (and unless `dry_run`, removes) what interrupted commands left: the
    /// leftovers of sends and opens recorded in the data home's run markers and in
    /// `extra_dirs`, and stale agent sockets; lists unfinished wipes.
    pub fn doctor(&self, extra_dirs: &[PathBuf], dry_run: bool) -> Result<DoctorReport> {
        let mut report = DoctorReport {
            cleaned: !dry_run,
            ..Default::default()
        };
        let mut dirs: Vec<(PathBuf, RunKind)> = Vec::new();
        for dir in extra_dirs {
            dirs.push((dir.clone(), RunKind::Open));
            dirs.push((dir.clone(), RunKind::Send));
        }
        let run = run_dir(&self.home);
        let markers = match fs_err::read_dir(&run) {
            Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        };
        for path in markers {
            let Ok(file) = File::open(&path) else {
                continue;
            };
            let marker: Option<Marker> = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
            if file.try_lock().is_err() {
                if let Some(marker) = marker {
                    report.running.push(marker.dir);
                }
                continue;
            }
            if let Some(marker) = marker {
                dirs.push((marker.dir, marker.kind));
            }
            if !dry_run {
                let _ = std::fs::remove_file(&path);
            }
        }
        dirs.sort();
        dirs.dedup();
        for (dir, kind) in &dirs {
            let io = |e: std::io::Error| Error::File {
                path: dir.to_path_buf(),
                source: e,
            };
            let found = if dry_run {
                leftover::find(dir, kind.prefix()).map_err(io)?
            } else {
                leftover::clean(dir, kind.prefix()).map_err(io)?
            };
            report.leftovers.extend(found);
        }
        report.stale_sockets = stale_sockets(dry_run);
        report.unfinished_wipes = self.unfinished_wipes()?;
        Ok(report)
    }
}

/// The per-user agent sockets (`$XDG_RUNTIME_DIR/custody/*.sock`) that no process
/// listens on any more; removed unless `dry_run`.
fn stale_sockets(dry_run: bool) -> Vec<PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) else {
        return Vec::new();
    };
    let dir = PathBuf::from(runtime).join("custody");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut stale = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_socket = entry.file_type().is_ok_and(|t| t.is_socket());
        if is_socket && std::os::unix::net::UnixStream::connect(&path).is_err() {
            if !dry_run {
                let _ = std::fs::remove_file(&path);
            }
            stale.push(path);
        }
    }
    stale
}
