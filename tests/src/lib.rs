//! Helpers shared by the end-to-end tests: the built `custody` binary, a throwaway
//! data home, and the real peer tools (sqlite3, minisign, age) with the rule that a
//! missing tool skips locally and fails under `CI=true`.

#![allow(
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The `custody` binary that `cargo test --workspace` built next to the test
/// executables (or `$CUSTODY_BIN`).
pub fn custody_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("CUSTODY_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/debug/deps/e2e-HASH → target/debug/custody
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executables live in target/*/deps");
    let bin = dir.join("custody");
    assert!(
        bin.is_file(),
        "{} is missing: run the tests with `cargo test --workspace` (it builds the binary) or set CUSTODY_BIN",
        bin.display()
    );
    bin
}

/// True when running under CI, where a missing tool is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether `tool` is on PATH; if not, skips (returns false) locally and panics in CI.
pub fn require_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            !in_ci(),
            "{tool} is required under CI=true; tests/run installs it"
        );
        eprintln!("SKIP: {tool} is not installed (tests/run installs it)");
    }
    found
}

/// Whether the test runs as root (needed for loop devices and mounts); skips or
/// fails like [`require_tool`].
pub fn require_root() -> bool {
    // SAFETY-free check: the effective uid from /proc.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        assert!(!in_ci(), "CI runs as root; these tests need it");
        eprintln!("SKIP: needs root for loop devices");
    }
    root
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics unless the run succeeded.
    #[track_caller]
    pub fn ok(self) -> Run {
        self.expect_code(0)
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A throwaway data home in a temporary folder, initialised with `manager` as first
/// manager.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
}

impl Home {
    /// An initialised home whose first manager is `sato`, with `suzuki` (clerk),
    /// `tanaka` (manager), `ito` (it) and `kato` (auditor) registered.
    pub fn with_people() -> Home {
        let home = Home::new("sato");
        for (name, role) in [
            ("suzuki", "clerk"),
            ("tanaka", "manager"),
            ("ito", "it"),
            ("kato", "auditor"),
        ] {
            home.run("sato", ["people", "add", name, "--role", role])
                .ok();
        }
        home
    }

    /// An initialised home whose first manager is `manager`.
    pub fn new(manager: &str) -> Home {
        let home = Home::uninit();
        home.run(
            manager,
            ["init", "--org", "Test Union", "--station", "desk-1"],
        )
        .ok();
        home
    }

    /// A place for a home that `init` has not created yet.
    pub fn uninit() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        Home { dir, home }
    }

    /// A command for the binary as `actor` in this home.
    pub fn cmd(&self, actor: &str) -> Command {
        let mut cmd = Command::new(custody_bin());
        cmd.env("CUSTODY_HOME", &self.home)
            .env("CUSTODY_ACTOR", actor)
            .env("NO_COLOR", "1")
            .env_remove("CUSTODY_TEST_NOW")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        cmd
    }

    /// Runs the binary as `actor` with `args`.
    pub fn run<I, S>(&self, actor: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run::from_output(self.cmd(actor).args(args).output().unwrap())
    }

    /// The ledger file.
    pub fn ledger(&self) -> PathBuf {
        self.home.join("ledger.db")
    }

    /// Runs `sqlite3` on the ledger with `sql`, returning stdout; panics on failure.
    pub fn sql(&self, sql: &str) -> String {
        let out = Command::new("sqlite3")
            .arg(self.ledger())
            .arg(sql)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sqlite3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A path inside the temporary folder (outside the data home).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
