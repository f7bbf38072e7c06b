//! Nothing left behind on Ctrl-C: real signals sent to a running `custody open` or
//! `custody send`. An open reads its input from a FIFO these tests feed, so that it is
//! caught mid-way without relying on timing; a send encrypts a large sparse file. After
//! a SIGKILL the next run into the same folder, and `custody doctor`, remove what was
//! left.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use custody_tests::{Home, require_tool, sh};
use serde_json::Value;

const MIB: usize = 1 << 20;

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn keypair(home: &Home) -> (PathBuf, String) {
    let key = home.path("k.key");
    run_ok(Command::new("age-keygen").arg("-o").arg(&key));
    let text = std::fs::read_to_string(&key).unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    (key, public)
}

/// Bytes that do not compress, different for each `seed`.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A folder of 16 files of 4 MiB sent to `public`: the encrypted archive's path.
fn large_archive(home: &Home, public: &str) -> PathBuf {
    let dir = home.path("会員データ");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..16 {
        std::fs::write(dir.join(format!("part-{i:02}.csv")), noise(4 * MIB, i + 1)).unwrap();
    }
    let out = home
        .run(
            "suzuki",
            [
                "send",
                dir.to_str().unwrap(),
                "--to",
                "x",
                "--recipient",
                public,
                "--json",
            ],
        )
        .ok()
        .json();
    PathBuf::from(out["output"]["path"].as_str().unwrap())
}

fn entries(home: &Home, kind: &str) -> usize {
    home.run("kato", ["log", "--kind", kind, "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len()
}

/// Names in `dir` that start with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => out.extend(files_under(&path)),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
    out
}

/// Polls `what` every 20 ms until it gives something; gives up after 600 s, a guard
/// against a hang on a busy CI machine rather than a judgement of speed.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some(found) = f() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` to end (600 s at most, a hang guard); returns its exit code and
/// stderr.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not end after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An open of `enc` fed through a FIFO, stopped half-way with a file being written in
/// its temporary folder: the child, the rest of the bytes to feed, and the FIFO writer.
struct HalfOpen {
    child: Child,
    rest: Vec<u8>,
    fifo: std::fs::File,
    /// A hard link to a file the open was writing, made before the signal.
    evidence: PathBuf,
}

fn half_open(home: &Home, enc: &Path, key: &Path, out: &Path) -> HalfOpen {
    let fifo_path = home.path("incoming.age");
    let _ = std::fs::remove_file(&fifo_path);
    sh("mkfifo", &[fifo_path.to_str().unwrap()]);
    std::fs::create_dir_all(out).unwrap();
    let child = home
        .cmd("suzuki")
        .args(["open".as_ref(), fifo_path.as_os_str()])
        .args([
            "-i".as_ref(),
            key.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(enc).unwrap();
    let half = bytes.len() / 2;
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo_path)
        .unwrap();
    fifo.write_all(&bytes[..half]).unwrap();
    // Decrypted data is being written in the temporary folder.
    let file = wait_for("a decrypted file in the temporary folder", || {
        let temp = named(out, ".custody-open-").into_iter().next()?;
        files_under(&temp)
            .into_iter()
            .find(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
    });
    // A second name for its bytes, outside the output folder: after the signal it
    // must hold zeros, not member data.
    let evidence = home.path("evidence.csv");
    let _ = std::fs::remove_file(&evidence);
    std::fs::hard_link(&file, &evidence).unwrap();
    HalfOpen {
        child,
        rest: bytes[half..].to_vec(),
        fifo,
        evidence,
    }
}

#[test]
fn sigint_during_open_of_a_large_archive_leaves_no_plaintext() {
    if !(require_tool("age-keygen") && require_tool("mkfifo")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home);
    let enc = large_archive(&home, &public);
    let out = home.path("inbox");
    let mut run = half_open(&home, &enc, &key, &out);
    sh("kill", &["-INT", &run.child.id().to_string()]);
    // It stops at its next chunk; feed it so it gets there, then end the input.
    let _ = run.fifo.write_all(&run.rest);
    drop(run.fifo);
    let (code, stderr) = finish(run.child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "something was left in the output folder"
    );
    let evidence = std::fs::read(&run.evidence).unwrap();
    assert!(!evidence.is_empty());
    assert!(
        evidence.iter().all(|&b| b == 0),
        "the decrypted file was removed without being overwritten"
    );
    assert_eq!(entries(&home, "receive"), 0);
    assert!(named(&home.home.join("run"), "").is_empty());
}

#[test]
fn sigterm_and_sighup_during_send_remove_the_partial_output() {
    if !require_tool("age-keygen") {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (_, public) = keypair(&home);
    // A large file that costs no disk to make: encrypting it takes seconds.
    let big = home.path("export.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    for signal in ["-TERM", "-HUP"] {
        let output = home.path("export.bin.age");
        let child = home
            .cmd("suzuki")
            .args(["send", big.to_str().unwrap(), "--to", "x"])
            .args(["--recipient", &public, "-o", output.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for("the temporary output to grow", || {
            named(home.dir.path(), ".custody-send-")
                .into_iter()
                .find(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        });
        sh("kill", &[signal, &child.id().to_string()]);
        let (code, stderr) = finish(child);
        assert_eq!(code, Some(130), "{signal}: {stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert!(
            named(home.dir.path(), ".custody-send-").is_empty(),
            "{signal}"
        );
        assert!(!output.exists());
    }
    assert_eq!(entries(&home, "send"), 0);
}

#[test]
fn after_sigkill_the_next_open_and_doctor_remove_the_remains() {
    if !(require_tool("age-keygen") && require_tool("mkfifo")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home);
    let enc = large_archive(&home, &public);
    let out = home.path("inbox");
    let run = half_open(&home, &enc, &key, &out);
    sh("kill", &["-KILL", &run.child.id().to_string()]);
    drop(run.fifo);
    let _ = finish(run.child);
    let left = named(&out, ".custody-open-");
    assert_eq!(left.len(), 1, "a SIGKILL leaves the temporary folder");

    // The doctor finds it through the data home's record of the run.
    let report: Value = home
        .run("ito", ["doctor", "--dry-run", "--json"])
        .ok()
        .json();
    let listed: Vec<&str> = report["leftovers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(listed, [left[0].to_str().unwrap()], "{report:#}");
    assert!(left[0].exists(), "a dry run removes nothing");

    // The next open into the same folder removes it first, and says so.
    let small = home.path("note.txt");
    std::fs::write(&small, "hello\n").unwrap();
    let sent = home
        .run(
            "suzuki",
            [
                "send",
                small.to_str().unwrap(),
                "--to",
                "x",
                "--recipient",
                &public,
                "--json",
            ],
        )
        .ok()
        .json();
    let opened = home
        .run(
            "suzuki",
            [
                "open",
                sent["output"]["path"].as_str().unwrap(),
                "-i",
                key.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
        )
        .ok();
    assert!(
        opened
            .stderr
            .contains("removed what an interrupted open had left"),
        "{}",
        opened.stderr
    );
    assert!(!left[0].exists());
    assert_eq!(
        std::fs::read_to_string(out.join("note.txt")).unwrap(),
        "hello\n"
    );

    // A send killed mid-way: `custody doctor` removes its temporary output.
    let big = home.path("export.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let outdir = home.path("outbox");
    std::fs::create_dir(&outdir).unwrap();
    let child = home
        .cmd("suzuki")
        .args(["send", big.to_str().unwrap(), "--to", "x"])
        .args(["--recipient", &public, "-o"])
        .arg(outdir.join("export.bin.age"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let temp = wait_for("the temporary output", || {
        named(&outdir, ".custody-send-").into_iter().next()
    });
    sh("kill", &["-KILL", &child.id().to_string()]);
    let _ = finish(child);
    assert!(temp.exists());
    let text = home.run("ito", ["doctor"]).ok().stdout;
    assert!(
        text.contains("removed the leftover") && text.contains(temp.to_str().unwrap()),
        "{text}"
    );
    assert!(!temp.exists());
    assert_eq!(
        home.run("ito", ["doctor"]).ok().stdout.trim(),
        "nothing was left behind"
    );
}
