//! Helpers shared by every test of the workspace (the end-to-end tests here, and the
//! `wipe` and `core` crates' own tests): the built `custody` binary, a throwaway data
//! home, RAII loop devices and mounts, and the real peer tools (sqlite3, minisign,
//! age) with one rule for all: a missing tool or privilege skips locally with a
//! printed reason, and fails under `CI=true` (or `CI=1`).

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
    /// The result of a finished command.
    pub fn from_output(out: Output) -> Run {
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
    /// The database holding the ledger, when the tests run on PostgreSQL
    /// ([`on_postgres`]).
    pub pg: Option<PgLedger>,
}

impl Home {
    /// An initialised home whose first manager is `sato`, with `suzuki` (clerk),
    /// `tanaka` (manager), `ito` (it) and `kato` (auditor) registered, each with a
    /// personal key enrolled and confirmed by sato.
    pub fn with_people() -> Home {
        Home::with_people_at("desk-1")
    }

    /// Like [`Home::with_people`], for a station of another name.
    pub fn with_people_at(station: &str) -> Home {
        let mut home = Home::uninit();
        home.init("sato", station);
        home.add_colleagues();
        home
    }

    /// sato registers suzuki (clerk), tanaka (manager), ito (it) and kato
    /// (auditor), each with a confirmed key.
    fn add_colleagues(&self) {
        for (name, role) in [
            ("suzuki", "clerk"),
            ("tanaka", "manager"),
            ("ito", "it"),
            ("kato", "auditor"),
        ] {
            self.add_person("sato", name, role);
        }
    }

    /// `manager` registers `name` with `role`; `name` enrolls a key, and `manager`
    /// confirms it. Returns the key id.
    pub fn add_person(&self, manager: &str, name: &str, role: &str) -> String {
        self.run(manager, ["people", "add", name, "--role", role])
            .ok();
        self.enroll(manager, name)
    }

    /// `name` enrolls a key (passphrase from their file); `manager` confirms it.
    /// Returns the key id.
    pub fn enroll(&self, manager: &str, name: &str) -> String {
        let enrolled = self.run(name, ["people", "enroll", "--json"]).ok().json();
        let key_id = enrolled["key_id"].as_str().unwrap().to_owned();
        self.run(manager, ["people", "confirm", name, "--key-id", &key_id])
            .ok();
        key_id
    }

    /// An initialised home whose first manager is `manager`.
    pub fn new(manager: &str) -> Home {
        let mut home = Home::uninit();
        home.init(manager, "desk-1");
        home
    }

    /// `manager` runs `init` for station `station`: on the backend the tests run on
    /// ([`on_postgres`]: a new database on the tests' shared server).
    fn init(&mut self, manager: &str, station: &str) {
        let mut args = vec!["init", "--org", "Test Union", "--station", station];
        let pg = on_postgres().then(|| shared_server().ledger());
        if let Some(db) = &pg {
            args.extend(db.init_args());
        }
        self.run(manager, &args).ok();
        self.pg = pg;
    }

    /// A place for a home that `init` has not created yet.
    pub fn uninit() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        for sub in ["config", "run", ".passphrases"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Home {
            dir,
            home,
            pg: None,
        }
    }

    /// The folder of personal key files (`$XDG_CONFIG_HOME/custody/keys`).
    pub fn keys_dir(&self) -> PathBuf {
        self.dir.path().join("config/custody/keys")
    }

    /// `actor`'s key file.
    pub fn key_file(&self, actor: &str) -> PathBuf {
        self.keys_dir().join(format!("{actor}.key"))
    }

    /// The passphrase the tests give `actor`'s key.
    pub fn passphrase(actor: &str) -> String {
        format!("violet kettle harbour 1987 {actor}")
    }

    /// The file holding `actor`'s passphrase (written on first use).
    pub fn passphrase_file(&self, actor: &str) -> PathBuf {
        let file = self
            .dir
            .path()
            .join(".passphrases")
            .join(actor.replace('/', "_"));
        if !file.exists() {
            std::fs::write(&file, Home::passphrase(actor)).unwrap();
        }
        file
    }

    /// A command for the binary as `actor` in this home, their key unlocked with the
    /// passphrase from their file; the session's runtime folder (for the unlock
    /// agent) and config folder (for key files) are the home's own.
    pub fn cmd(&self, actor: &str) -> Command {
        let mut cmd = self.cmd_locked(actor);
        cmd.env("CUSTODY_KEY_PASSPHRASE_FILE", self.passphrase_file(actor));
        cmd
    }

    /// Like [`Home::cmd`], with no passphrase given: the key is unlocked only if the
    /// agent holds it.
    pub fn cmd_locked(&self, actor: &str) -> Command {
        let mut cmd = Command::new(custody_bin());
        cmd.env("CUSTODY_HOME", &self.home)
            .env("CUSTODY_ACTOR", actor)
            .env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .env_remove("CUSTODY_TEST_NOW")
            // The same language wherever the tests run; a test that wants Japanese
            // sets LANG itself.
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("CUSTODY_KEY")
            .env_remove("CUSTODY_KEY_PASSPHRASE_FILE")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        cmd
    }

    /// Gives `command` (another program that runs custody, such as `sh` or
    /// `script`) the environment of [`Home::cmd`] for `actor`.
    pub fn env_of(&self, actor: &str, command: &mut Command) {
        for (name, value) in self.cmd(actor).get_envs() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
    }

    /// Runs the binary as `actor` with `args`.
    pub fn run<I, S>(&self, actor: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run::from_output(self.cmd(actor).args(args).output().unwrap())
    }

    /// A registered medium's status, as the auditor kato reads it.
    pub fn medium_status(&self, id: &str) -> String {
        self.run("kato", ["media", "show", id, "--json"])
            .ok()
            .json()["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `manager` approves every request to start a retained item's period before its
    /// registration day that waits (registering with `--since` in the past files one).
    pub fn approve_backdates(&self, manager: &str) {
        let pending = self
            .run("kato", ["requests", "--pending", "--json"])
            .ok()
            .json();
        for r in pending.as_array().unwrap() {
            if r["kind"] == "backdate" {
                self.run(manager, ["approve", r["id"].as_str().unwrap()])
                    .ok();
            }
        }
    }

    /// sato relaxes the office's policy so that sending needs no approval beforehand
    /// (recorded in the ledger): for tests of sending itself, not of its approval.
    pub fn relax_send_approval(&self) {
        self.run(
            "sato",
            [
                "policy",
                "send-approval",
                "none",
                "--reason",
                "tests of the encryption, not of the approval",
            ],
        )
        .ok();
    }

    /// ito imports a vendor's certificate of erasure for `serial`, from a PDF written
    /// as `file` in the test's folder, with `extra` arguments (`--date`, `--method`);
    /// returns its id. No manager has accepted it yet.
    pub fn import_vendor_certificate(
        &self,
        file: &str,
        vendor: &str,
        serial: &str,
        extra: &[&str],
    ) -> String {
        let receipt = self.path(file);
        std::fs::write(&receipt, b"%PDF-1.4 vendor certificate").unwrap();
        let mut args = vec![
            "cert",
            "import",
            receipt.to_str().unwrap(),
            "--vendor",
            vendor,
            "--serial",
            serial,
            "--json",
        ];
        args.extend_from_slice(extra);
        self.run("ito", args).ok().json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Disposes of one file as `executor` (suzuki registers it, a manager other than
    /// the executor approves); returns the disposal certificate's id.
    pub fn disposal_certificate(&self, executor: &str) -> String {
        let file = self.path(&format!("old-{executor}.csv"));
        std::fs::write(&file, "番号,氏名\n1,佐藤\n").unwrap();
        let item = self
            .run(
                "suzuki",
                [
                    "retain",
                    "add",
                    file.to_str().unwrap(),
                    "--class",
                    "backup",
                    "--since",
                    "2000-01-01",
                    "--backdate-reason",
                    "transcribed from the paper register",
                    "--json",
                ],
            )
            .ok()
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.approve_backdates("tanaka");
        let rq = self
            .run(
                "suzuki",
                ["retain", "dispose", &item, "--request", "--json"],
            )
            .ok()
            .json();
        let approver = if executor == "sato" { "tanaka" } else { "sato" };
        self.run(approver, ["approve", rq["id"].as_str().unwrap()])
            .ok();
        let done = self
            .run(executor, ["retain", "dispose", &item, "--json"])
            .ok()
            .json();
        done["certificate"].as_str().unwrap().to_string()
    }

    /// `kato` exports certificate `id` as JSON (and its `.minisig`) to `name` in the
    /// test's folder.
    pub fn export_certificate(&self, id: &str, name: &str) -> PathBuf {
        let file = self.path(name);
        self.run(
            "kato",
            [
                "cert",
                "export",
                id,
                "--format",
                "json",
                "-o",
                file.to_str().unwrap(),
            ],
        )
        .ok();
        file
    }

    /// A manager approves registered medium `id` for use, if it waits for that:
    /// tanaka, or sato when tanaka registered it (a medium is carried out or handed
    /// over only once approved).
    pub fn approve_medium(&self, id: &str) {
        let requester = self.run("kato", ["requests", "--json"]).ok().json();
        let by = requester
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["requester"].as_str().unwrap().to_owned());
        let pending = requester
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id && r["status"] == "pending");
        if !pending {
            return;
        }
        let approver = if by.as_deref() == Some("tanaka") {
            "sato"
        } else {
            "tanaka"
        };
        self.run(approver, ["approve", id]).ok();
    }

    /// Records a clean virus check of medium `id` (a medium leaves on a carry-out
    /// only after one).
    pub fn check_medium(&self, id: &str) {
        self.run(
            "suzuki",
            [
                "media",
                "check",
                id,
                "--tool",
                "ClamAV 1.4",
                "--result",
                "clean",
            ],
        )
        .ok();
    }

    /// The ledger file.
    pub fn ledger(&self) -> PathBuf {
        self.home.join("ledger.db")
    }

    /// Runs `sqlite3` on the ledger with `sql` (`psql` when it is in PostgreSQL),
    /// returning stdout; panics on failure.
    pub fn sql(&self, sql: &str) -> String {
        if let Some(db) = &self.pg {
            let out = shared_server().psql(&db.name, &format!("SET search_path = custody; {sql}"));
            return if out.is_empty() { out } else { out + "\n" };
        }
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

/// Runs `program` with `args`; panics with its stderr unless it succeeds.
pub fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether the test can use loop devices (root and `losetup`, plus `tools`); skips
/// locally and fails under `CI=true` like [`require_tool`].
pub fn require_loop(tools: &[&str]) -> bool {
    require_root() && require_tool("losetup") && tools.iter().all(|t| require_tool(t))
}

/// A loop device over a file in its own temporary folder, detached on drop
/// (stratisd's pattern). Its path is asserted to be `/dev/loop*`, so a test can never
/// point a wipe at anything else.
pub struct LoopDevice {
    /// The device node, `/dev/loopN`.
    pub path: PathBuf,
    /// The file behind it: read it to check the device with an independent reader.
    pub backing: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl LoopDevice {
    /// A loop device of `size` bytes (a multiple of 512) whose every byte is `fill`.
    pub fn new(size: u64, fill: u8) -> LoopDevice {
        LoopDevice::with(size, &[], Some(fill))
    }

    /// A loop device of `size` bytes attached with extra `losetup` arguments (e.g.
    /// `--sector-size 4096`), its bytes all `fill`, or sparse (zeros) without one.
    pub fn with(size: u64, losetup_args: &[&str], fill: Option<u8>) -> LoopDevice {
        let dir = tempfile::tempdir().unwrap();
        let backing = dir.path().join("backing.img");
        LoopDevice::create(backing, size, fill);
        LoopDevice::attach(backing_path(&dir), losetup_args, Some(dir))
    }

    /// Writes the backing file: `size` bytes of `fill`, or sparse without one.
    pub fn create(backing: PathBuf, size: u64, fill: Option<u8>) {
        match fill {
            Some(fill) => std::fs::write(&backing, vec![fill; size as usize]).unwrap(),
            None => std::fs::File::create(&backing)
                .unwrap()
                .set_len(size)
                .unwrap(),
        }
    }

    /// Attaches an existing file, with extra `losetup` arguments.
    pub fn attach(
        backing: PathBuf,
        losetup_args: &[&str],
        dir: Option<tempfile::TempDir>,
    ) -> LoopDevice {
        let mut args = vec!["--find", "--show"];
        args.extend_from_slice(losetup_args);
        args.push(backing.to_str().expect("utf-8 temp path"));
        let path = PathBuf::from(sh("losetup", &args));
        assert!(
            path.to_string_lossy().starts_with("/dev/loop"),
            "losetup gave {}",
            path.display()
        );
        LoopDevice {
            path,
            backing,
            _dir: dir,
        }
    }

    /// The device's bytes, read from the backing file (not through custody).
    pub fn content(&self) -> Vec<u8> {
        std::fs::read(&self.backing).unwrap()
    }

    /// The device node as a string, for command lines.
    pub fn arg(&self) -> &str {
        self.path.to_str().expect("utf-8 device path")
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.path).status();
    }
}

fn backing_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("backing.img")
}

/// A filesystem mounted on a temporary folder, unmounted on drop.
pub struct MountPoint {
    pub dir: tempfile::TempDir,
}

impl MountPoint {
    /// Mounts `source` with `args` (e.g. `["-t", "tmpfs", "-o", "size=8M"]`).
    pub fn new(source: &Path, args: &[&str]) -> MountPoint {
        let dir = tempfile::tempdir().unwrap();
        let mut all: Vec<&str> = args.to_vec();
        all.push(source.to_str().expect("utf-8"));
        all.push(dir.path().to_str().expect("utf-8"));
        sh("mount", &all);
        MountPoint { dir }
    }

    /// Makes an ext4 filesystem on `dev` and mounts it. Its inode tables and journal
    /// are initialised by mkfs, not lazily by the kernel after mounting: a background
    /// `ext4lazyinit` writing to the device would make "the device is untouched"
    /// fail at random.
    pub fn ext4(dev: &LoopDevice) -> MountPoint {
        sh(
            "mkfs.ext4",
            &[
                "-q",
                "-E",
                "lazy_itable_init=0,lazy_journal_init=0",
                dev.arg(),
            ],
        );
        MountPoint::new(&dev.path, &[])
    }

    /// A tmpfs of `size` (e.g. `8M`): a file larger than it gives real ENOSPC.
    pub fn tmpfs(size: &str) -> MountPoint {
        MountPoint::new(
            Path::new("tmpfs"),
            &["-t", "tmpfs", "-o", &format!("size={size}")],
        )
    }
}

impl Drop for MountPoint {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

impl Drop for Home {
    /// Locks any unlock agent a test started in this home's session folder.
    fn drop(&mut self) {
        if self.dir.path().join("run/custody").exists() {
            let _ = self.cmd_locked("sato").arg("lock").output();
        }
    }
}

/// Python that recomputes entry hashes as docs/ledger-format.md defines them.
pub const CHAIN_PY: &str = r#"
import hashlib, json, os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def entry_hash(seq, at, actor, station, kind, subject, commitment, prev):
    text = "custody-ledger/v1\n%d\n%s\n%s\n%s\n%s\n%s\n%s\n%s" % (
        seq, at, actor, station, kind, subject, commitment, prev)
    return hashlib.sha256(text.encode()).hexdigest()
def commit(salt, body):
    return hashlib.sha256((salt + body).encode()).hexdigest()
def canon(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
def rehash_from(seq):
    prev = db.execute("SELECT hash FROM entries WHERE seq = ?", (seq - 1,)).fetchone()[0]
    rows = db.execute("SELECT seq, at, actor, station, kind, subject, commitment FROM entries "
                      "WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
    for (s, at, actor, station, kind, subject, commitment) in rows:
        h = entry_hash(s, at, actor, station, kind, subject, commitment, prev)
        db.execute("UPDATE entries SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, s))
        prev = h
"#;

/// Runs `script` after [`CHAIN_PY`] on the home's ledger (as `db`), then commits.
pub fn python(home: &Home, script: &str) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(format!("{CHAIN_PY}\n{script}\ndb.commit()\n"))
        .arg(home.ledger())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Checks a person's signature as a custody document carries it (`{public_key,
/// minisig}`) over `message` with the `minisign` CLI alone, in files named after
/// `who` in `dir`; panics with minisign's words when it does not verify. Returns what
/// minisign printed (the trusted comment).
pub fn minisign_verifies(dir: &Path, who: &str, signature: &Value, message: &str) -> String {
    let public = dir.join(format!("{who}.pub"));
    let key = signature["public_key"].as_str().expect("a public key");
    std::fs::write(&public, format!("untrusted comment: {who}\n{key}\n")).unwrap();
    let msg = dir.join(format!("{who}.msg"));
    std::fs::write(&msg, message).unwrap();
    let minisig = signature["minisig"].as_str().expect("a signature");
    std::fs::write(dir.join(format!("{who}.msg.minisig")), minisig).unwrap();
    let out = Command::new("minisign")
        .arg("-V")
        .arg("-p")
        .arg(&public)
        .arg("-m")
        .arg(&msg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{who}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A certificate authority made in `dir` (`ca.key`, `ca.pem`) named `name`;
/// returns its certificate.
pub fn authority(dir: &Path, name: &str) -> PathBuf {
    let (key, cert) = (dir.join("ca.key"), dir.join("ca.pem"));
    sh(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    );
    cert
}

/// A server certificate for `names` (`subjectAltName`: `IP:127.0.0.1`,
/// `DNS:localhost`), signed by an authority of the test's own, in `dir`:
/// `server.pem`, `server.key`. Returns the authority's certificate (`ca.pem`).
pub fn server_certificate(dir: &Path, names: &str) -> PathBuf {
    let ca = authority(dir, "custody-test-ca");
    let at = |name: &str| dir.join(name).display().to_string();
    std::fs::write(
        dir.join("server.ext"),
        format!(
            "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = {names}\n"
        ),
    )
    .unwrap();
    sh(
        "openssl",
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &at("server.key"),
            "-out",
            &at("server.csr"),
        ],
    );
    sh(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &at("server.csr"),
            "-CA",
            &at("ca.pem"),
            "-CAkey",
            &at("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &at("server.ext"),
            "-out",
            &at("server.pem"),
        ],
    );
    ca
}

/// A throwaway PostgreSQL server of the test's own: `initdb` in a temporary folder,
/// run as an unprivileged user (`postgres` when the tests run as root), listening on
/// 127.0.0.1 at a free port and on a unix socket in that folder, stopped and removed
/// on drop. Password authentication over TCP, so that custody's password file is
/// what lets it in.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// Who runs the server (`None`: this user).
    runas: Option<String>,
    databases: std::sync::atomic::AtomicU32,
}

/// A database for one ledger on a [`PgServer`], with its owner role and the role
/// stations connect as, and a password file that holds both passwords.
#[derive(Debug, Clone)]
pub struct PgLedger {
    /// The database's name.
    pub name: String,
    /// The address stations connect with (`custody_station`, a station role).
    pub url: String,
    /// The address of the schema's owner.
    pub owner_url: String,
    /// The password file (mode 0600).
    pub password_file: PathBuf,
}

impl PgLedger {
    /// The arguments of `custody init` that put a new ledger in this database.
    pub fn init_args(&self) -> [&str; 6] {
        [
            "--database",
            &self.url,
            "--schema-owner",
            &self.owner_url,
            "--password-file",
            self.password_file.to_str().unwrap(),
        ]
    }
}

impl PgServer {
    /// Starts a server, or returns `None` (printing why) when PostgreSQL is not
    /// installed here; under `CI=true` that is a failure (tests/run installs it).
    pub fn start() -> Option<PgServer> {
        let Some(bin) = postgres_bin() else {
            assert!(
                !in_ci(),
                "PostgreSQL is required under CI=true; tests/run installs it"
            );
            eprintln!("SKIP: PostgreSQL is not installed (tests/run installs it)");
            return None;
        };
        let dir = tempfile::Builder::new().prefix("pg").tempdir().unwrap();
        let root = std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0");
        let runas = root.then(|| "postgres".to_owned());
        if let Some(user) = &runas {
            sh("chown", &[user, dir.path().to_str().unwrap()]);
        }
        let port = free_port();
        let server = PgServer {
            dir,
            bin,
            port,
            runas,
            databases: std::sync::atomic::AtomicU32::new(0),
        };
        server.as_server(
            "initdb",
            &[
                "-D",
                &server.data(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        server.pg_ctl(&["start", "-w", "-t", "60"]);
        Some(server)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// The folder of the server's unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn as_server(&self, program: &str, args: &[&str]) -> String {
        let program = self.bin.join(program);
        let mut command = match &self.runas {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        let out = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        assert!(
            out.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pg_ctl(&self, args: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            self.port,
            self.socket_dir().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data();
        let mut all = vec!["-D", &data, "-l", &log, "-o", &options];
        all.extend_from_slice(args);
        self.as_server("pg_ctl", &all);
    }

    /// Stops the server and removes its folder once this process has ended (for a
    /// server kept in a static, which is never dropped).
    fn stop_when_gone(&self) {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runas} {pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            runas = self
                .runas
                .as_ref()
                .map_or(String::new(), |u| format!("runuser -u {u} --")),
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data(),
            dir = self.dir.path().display(),
        );
        // `setsid -f` forks the watcher into a session of its own and returns.
        Command::new("setsid")
            .args(["-f", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
    }

    /// Turns TLS on, and makes it the only way in over TCP: an authority of the
    /// test's own signs the server's certificate, which names 127.0.0.1 and nothing
    /// else. Returns the authority's certificate (PEM), for `sslrootcert`.
    pub fn require_tls(&self) -> PathBuf {
        let dir = self.dir.path().join("tls");
        std::fs::create_dir(&dir).unwrap();
        let ca = server_certificate(&dir, "IP:127.0.0.1");
        let at = |name: &str| dir.join(name).display().to_string();
        if let Some(user) = &self.runas {
            sh("chown", &["-R", user, dir.to_str().unwrap()]);
        }
        sh("chmod", &["600", &at("server.key")]);
        let data = PathBuf::from(self.data());
        let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        conf.push_str(&format!(
            "\nssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
            at("server.pem"),
            at("server.key")
        ));
        std::fs::write(data.join("postgresql.conf"), conf).unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostnossl all all 127.0.0.1/32 reject\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n",
        )
        .unwrap();
        self.as_server("pg_ctl", &["-D", &self.data(), "reload"]);
        // The reload is a signal: wait until the server has read the new settings.
        for _ in 0..100 {
            if self.psql("postgres", "SHOW ssl") == "on" {
                return ca;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the server did not turn TLS on");
    }

    /// A streaming replica of this server (a hot standby, read-only), made with
    /// `pg_basebackup -R` and started on a port of its own.
    pub fn replica(&self) -> PgServer {
        let dir = tempfile::Builder::new().prefix("pgr").tempdir().unwrap();
        if let Some(user) = &self.runas {
            sh("chown", &[user, dir.path().to_str().unwrap()]);
        }
        let replica = PgServer {
            dir,
            bin: self.bin.clone(),
            port: free_port(),
            runas: self.runas.clone(),
            databases: std::sync::atomic::AtomicU32::new(0),
        };
        let data = replica.data();
        self.as_client(
            "pg_basebackup",
            &["-D", &data, "-R", "-X", "stream", "-c", "fast", "--no-sync"],
        );
        replica.pg_ctl(&["start", "-w", "-t", "60"]);
        replica
    }

    /// Waits until this replica has replayed everything `primary` has written so
    /// far (at most 30 seconds).
    pub fn catch_up(&self, primary: &PgServer) {
        let lsn = primary.psql("postgres", "SELECT pg_current_wal_lsn()");
        for _ in 0..300 {
            let done = self.psql(
                "postgres",
                &format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"),
            );
            if done == "t" {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the replica did not catch up with {lsn}");
    }

    /// Runs a client program of the server's (`pg_dump`, `pg_restore`) as the
    /// superuser over the unix socket, with `args` after the connection's.
    fn as_client(&self, program: &str, args: &[&str]) {
        let port = self.port.to_string();
        let socket = self.socket_dir().display().to_string();
        let mut all = vec!["-h", &socket, "-p", &port, "-U", "postgres"];
        all.extend_from_slice(args);
        self.as_server(program, &all);
    }

    /// Backs database `db` up with `pg_dump -Fc` into the server's folder; returns
    /// the file.
    pub fn dump(&self, db: &str) -> PathBuf {
        let file = self.dir.path().join(format!("{db}.dump"));
        self.as_client("pg_dump", &["-Fc", "-d", db, "-f", file.to_str().unwrap()]);
        file
    }

    /// Restores a backup made by [`PgServer::dump`] in place of its database, as a
    /// DBA would after losing the disk: the database dropped and created again from
    /// the file (`pg_restore --create`), with its owner and privileges.
    pub fn restore(&self, db: &str, file: &Path) {
        self.psql("postgres", &format!("DROP DATABASE {db} WITH (FORCE)"));
        self.as_client(
            "pg_restore",
            &["--create", "-d", "postgres", file.to_str().unwrap()],
        );
    }

    /// Restores a backup made by [`PgServer::dump`] into a new database `name` (a
    /// copy beside the original).
    pub fn restore_as(&self, name: &str, file: &Path) {
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.as_client("pg_restore", &["-d", name, file.to_str().unwrap()]);
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop(&self) {
        self.as_server("pg_ctl", &["-D", &self.data(), "stop", "-m", "immediate"]);
    }

    /// Starts the server again after [`PgServer::stop`].
    pub fn start_again(&self) {
        self.pg_ctl(&["start", "-w", "-t", "60"]);
    }

    /// Restarts the server as a crash would (`pg_ctl restart -m immediate`).
    pub fn restart_immediate(&self) {
        self.pg_ctl(&["restart", "-m", "immediate", "-w", "-t", "60"]);
    }

    /// Runs `sql` with `psql` as the superuser on database `db`; returns what it
    /// printed (unaligned, tuples only). Panics when psql fails.
    /// What the server has written to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = self.psql_as("postgres", db, sql);
        assert!(out.code == 0, "psql: {}{}", out.stdout, out.stderr);
        out.stdout.trim().to_owned()
    }

    /// Runs `sql` with `psql` as `role` on database `db` over the unix socket.
    pub fn psql_as(&self, role: &str, db: &str, sql: &str) -> Run {
        Run::from_output(
            Command::new(self.bin.join("psql"))
                .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
                .arg("-h")
                .arg(self.socket_dir())
                .args([
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    role,
                    "-d",
                    db,
                    "-c",
                    sql,
                ])
                .output()
                .unwrap(),
        )
    }

    /// A new, empty database for one ledger, owned by its own owner role, with a
    /// station role that may connect and nothing more until `init` grants it; the
    /// password file (in the server's folder) holds both roles' passwords.
    pub fn ledger(&self) -> PgLedger {
        let n = self
            .databases
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("custody{n}");
        let owner = format!("{name}_owner");
        let station = format!("{name}_station");
        self.psql(
            "postgres",
            &format!(
                "CREATE ROLE {owner} LOGIN PASSWORD 'owner secret {n}'; \
                 CREATE ROLE {station} LOGIN PASSWORD 'station secret {n}';"
            ),
        );
        self.psql("postgres", &format!("CREATE DATABASE {name} OWNER {owner}"));
        self.psql(
            &name,
            &format!(
                "REVOKE ALL ON DATABASE {name} FROM PUBLIC; \
                 GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {station}; \
                 REVOKE ALL ON SCHEMA public FROM PUBLIC;"
            ),
        );
        let password_file = self.dir.path().join(format!("{name}.pgpass"));
        std::fs::write(
            &password_file,
            format!(
                "127.0.0.1:{port}:{name}:{owner}:owner secret {n}\n\
                 127.0.0.1:{port}:{name}:{station}:station secret {n}\n",
                port = self.port
            ),
        )
        .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
        PgLedger {
            url: format!("postgres://{station}@127.0.0.1:{}/{name}", self.port),
            owner_url: format!("postgres://{owner}@127.0.0.1:{}/{name}", self.port),
            name,
            password_file,
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.bin.join("pg_ctl");
        let mut command = match &self.runas {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        let _ = command
            .args(["-D", &data, "stop", "-m", "immediate"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The folder of PostgreSQL's server programs: Debian's newest version, else the one
/// `initdb` on PATH is in.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let found = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
    let path = std::fs::canonicalize(path).ok()?;
    path.parent().map(Path::to_path_buf)
}

/// A TCP port on 127.0.0.1 that nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Whether the tests run on PostgreSQL (`CUSTODY_TEST_BACKEND=postgres`): every home
/// made by [`Home::new`] or [`Home::with_people`] keeps its ledger in a database of
/// its own on one server the test process starts, instead of a SQLite file.
pub fn on_postgres() -> bool {
    std::env::var("CUSTODY_TEST_BACKEND").is_ok_and(|v| v == "postgres")
}

/// The server every home of this test process uses under [`on_postgres`]; stopped
/// and removed by a watcher once the process is gone.
pub fn shared_server() -> &'static PgServer {
    static SERVER: std::sync::OnceLock<PgServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        let server = PgServer::start().expect("CUSTODY_TEST_BACKEND=postgres needs PostgreSQL");
        server.stop_when_gone();
        server
    })
}

/// Skips (returns false, printing why) a test that only a SQLite ledger file can run
/// (it edits the file behind custody's back) when the tests run on PostgreSQL.
pub fn require_sqlite() -> bool {
    if on_postgres() {
        eprintln!("SKIP: edits the SQLite ledger file; the tests run on PostgreSQL");
        return false;
    }
    true
}

impl Home {
    /// Like [`Home::with_people_at`], with the ledger in `db` on a PostgreSQL server:
    /// `init` lays the schema as the owner role, and the station connects as the
    /// station role.
    pub fn with_people_on(db: &PgLedger, station: &str) -> Home {
        let home = Home::uninit();
        let mut args = vec!["init", "--org", "Test Union", "--station", station];
        args.extend(db.init_args());
        home.run("sato", &args).ok();
        home.add_colleagues();
        home
    }

    /// Another station of the office ledger in `db`, which `first`'s people use: a
    /// new home (with copies of their personal key files, as each person brings their
    /// key) that sato, a manager, joins as `station`.
    pub fn joined(first: &Home, db: &PgLedger, station: &str) -> Home {
        let mut home = Home::uninit();
        std::fs::create_dir_all(home.keys_dir()).unwrap();
        for file in std::fs::read_dir(first.keys_dir()).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, home.keys_dir().join(file.file_name().unwrap())).unwrap();
        }
        home.run(
            "sato",
            [
                "station",
                "join",
                &db.url,
                "--station",
                station,
                "--password-file",
                db.password_file.to_str().unwrap(),
            ],
        )
        .ok();
        home.pg = Some(db.clone());
        home
    }
}
