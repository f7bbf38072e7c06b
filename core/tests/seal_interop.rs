//! `seal` against real peers and hostile input: our files decrypted by the `age` CLI and
//! checked with `tar -x` and `sha256sum -c`; files made by `age -r` and `age -p` opened by
//! us; malicious archives, truncated and altered files refused with nothing left behind.
//!
//! A missing tool (`age`, `expect`, `tar`, `sha256sum`, `ssh-keygen`) skips the test with
//! a message, and fails it when `CI=true`.
#![allow(clippy::print_stderr, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use age::secrecy::ExposeSecret;
use custody_core::send::seal::{self, Error, Mode, NoProgress, OpenInput, SendInput};
use secrecy::SecretString;

fn have(tool: &str) -> bool {
    custody_tests::require_tool(tool)
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// An age key pair: the identity file and the public key.
fn keypair(dir: &Path) -> (PathBuf, String) {
    let identity = age::x25519::Identity::generate();
    let path = dir.join("key.txt");
    std::fs::write(&path, format!("{}\n", identity.to_string().expose_secret())).unwrap();
    (path, identity.to_public().to_string())
}

fn recipients(key: &str) -> Mode {
    Mode::Recipients(vec![key.parse().unwrap()])
}

/// A folder with Japanese names, an empty file, an empty folder and a larger binary file.
fn sample_tree(dir: &Path) -> PathBuf {
    let root = dir.join("書類");
    std::fs::create_dir_all(root.join("空のフォルダ")).unwrap();
    std::fs::create_dir_all(root.join("sub/深い")).unwrap();
    std::fs::write(root.join("報告書.csv"), "番号,氏名\n1,山田太郎\n").unwrap();
    std::fs::write(root.join("empty.txt"), "").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(root.join("sub/深い/data.bin"), big).unwrap();
    std::fs::write(
        root.join(format!("{}.txt", "長い名前".repeat(20))),
        "long name",
    )
    .unwrap();
    root
}

/// Every path under `dir`, relative, with file contents.
fn snapshot(dir: &Path) -> BTreeSet<(PathBuf, Option<Vec<u8>>)> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
            let data = e
                .file_type()
                .is_file()
                .then(|| std::fs::read(e.path()).unwrap());
            (rel, data)
        })
        .collect()
}

fn listing(dir: &Path) -> BTreeSet<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect()
}

fn open_with_key(file: &Path, out: &Path, key: &Path) -> Result<seal::OpenReport, Error> {
    seal::open(
        OpenInput {
            identity_passphrase: None,
            file: file.to_path_buf(),
            out_dir: out.to_path_buf(),
            identity_files: vec![key.to_path_buf()],
            passphrase: None,
            force: false,
            max_work_factor: custody_core::send::seal::DEFAULT_MAX_WORK_FACTOR,
        },
        &NoProgress,
    )
}

fn write_expect_script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("drive.exp");
    let script = format!(
        "set timeout 300\n{body}\nexpect eof\ncatch wait result\nexit [lindex $result 3]\n"
    );
    std::fs::write(&path, script).unwrap();
    path
}

#[test]
fn age_cli_decrypts_our_archive_and_tar_and_sha256sum_check_it() {
    if !(have("age") && have("tar") && have("sha256sum")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = sample_tree(tmp.path());
    let extra = tmp.path().join("メモ.txt");
    std::fs::write(&extra, "別ファイル").unwrap();
    let (key, public) = keypair(tmp.path());
    let output = tmp.path().join("送付.tar.age");
    let report = seal::send(
        SendInput {
            paths: vec![root.clone(), extra.clone()],
            output: Some(output.clone()),
            mode: recipients(&public),
        },
        &NoProgress,
    )
    .unwrap();
    assert!(report.archive);
    assert_eq!(report.recipients, vec![public.clone()]);
    assert_eq!(
        report.output_size,
        std::fs::metadata(&output).unwrap().len()
    );
    let sha = run(Command::new("sha256sum").arg(&output));
    assert!(String::from_utf8_lossy(&sha.stdout).starts_with(&report.output_sha256));
    let paths: Vec<&str> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"書類/報告書.csv"), "{paths:?}");
    assert!(paths.contains(&"メモ.txt"), "{paths:?}");
    assert!(paths.contains(&"書類/empty.txt"), "{paths:?}");

    let tar = tmp.path().join("plain.tar");
    run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg("-o")
        .arg(&tar)
        .arg(&output));
    let x = tmp.path().join("x");
    std::fs::create_dir(&x).unwrap();
    run(Command::new("tar").arg("-xf").arg(&tar).arg("-C").arg(&x));
    let check = run(Command::new("sha256sum")
        .args(["-c", "MANIFEST.sha256"])
        .current_dir(&x));
    let checked = String::from_utf8_lossy(&check.stdout);
    assert_eq!(checked.lines().count(), report.files.len(), "{checked}");
    assert_eq!(snapshot(&x.join("書類")), snapshot(&root));
    assert_eq!(
        std::fs::read(x.join("メモ.txt")).unwrap(),
        "別ファイル".as_bytes()
    );
    assert!(x.join("書類/空のフォルダ").is_dir());
}

#[test]
fn age_cli_decrypts_our_single_file_sent_to_an_ssh_key() {
    if !(have("age") && have("ssh-keygen")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ssh_key = tmp.path().join("id_ed25519");
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "clerk"])
        .arg("-f")
        .arg(&ssh_key));
    let public = std::fs::read_to_string(ssh_key.with_extension("pub")).unwrap();
    let fingerprint = run(Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(ssh_key.with_extension("pub")));
    let recipient: seal::Recipient = public.trim().parse().unwrap();
    assert!(
        String::from_utf8_lossy(&fingerprint.stdout).contains(recipient.fingerprint()),
        "fingerprint differs from ssh-keygen -l"
    );
    let expected_fingerprint = recipient.fingerprint().to_owned();
    let file = tmp.path().join("名簿.xlsx");
    std::fs::write(&file, vec![42u8; 100_000]).unwrap();
    let report = seal::send(
        SendInput {
            paths: vec![file.clone()],
            output: Some(tmp.path().join("名簿.xlsx.age")),
            mode: Mode::Recipients(vec![recipient]),
        },
        &NoProgress,
    )
    .unwrap();
    assert!(!report.archive);
    let plain = tmp.path().join("plain");
    run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&ssh_key)
        .arg("-o")
        .arg(&plain)
        .arg(&report.output));
    assert_eq!(
        std::fs::read(&plain).unwrap(),
        std::fs::read(&file).unwrap()
    );
    // custody opens it with the same private key and names that key by its fingerprint.
    let opened = open_with_key(&report.output, &tmp.path().join("out"), &ssh_key).unwrap();
    assert_eq!(opened.keys, vec![expected_fingerprint]);
}

#[test]
fn age_cli_decrypts_our_passphrase_file() {
    if !(have("age") && have("expect")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("給与.csv");
    std::fs::write(&file, "secret payroll").unwrap();
    let passphrase = seal::generate_passphrase();
    let report = seal::send(
        SendInput {
            paths: vec![file.clone()],
            output: Some(tmp.path().join("給与.csv.age")),
            mode: Mode::Passphrase(passphrase.clone()),
        },
        &NoProgress,
    )
    .unwrap();
    assert!(report.passphrase_mode && report.recipients.is_empty());
    let header = std::fs::read(&report.output).unwrap();
    let head = String::from_utf8_lossy(&header[..header.len().min(200)]).into_owned();
    let stanza = head.lines().find(|l| l.starts_with("-> scrypt ")).unwrap();
    assert!(stanza.ends_with(" 18"), "scrypt work factor 18: {stanza}");
    let plain = tmp.path().join("plain");
    let script = write_expect_script(
        tmp.path(),
        "spawn age -d -o $env(OUT) $env(IN)\nexpect \"passphrase\"\nsend -- \"$env(PASS)\\r\"",
    );
    run(Command::new("expect")
        .arg(&script)
        .env("OUT", &plain)
        .env("IN", &report.output)
        .env("PASS", passphrase.expose_secret()));
    assert_eq!(std::fs::read(&plain).unwrap(), b"secret payroll");
}

#[test]
fn we_open_files_made_by_age_r() {
    if !(have("age") && have("tar")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = keypair(tmp.path());
    let file = tmp.path().join("data.csv");
    std::fs::write(&file, "a,b\n1,2\n").unwrap();
    let enc = tmp.path().join("data.csv.age");
    run(Command::new("age")
        .args(["-r", &public, "-o"])
        .arg(&enc)
        .arg(&file));
    let out = tmp.path().join("out");
    let report = open_with_key(&enc, &out, &key).unwrap();
    assert_eq!(report.kind, seal::PayloadKind::SingleFile);
    assert_eq!(std::fs::read(out.join("data.csv")).unwrap(), b"a,b\n1,2\n");

    // `tar -c | age -r -a`: an armored archive without a manifest.
    let root = sample_tree(tmp.path());
    let enc = tmp.path().join("tree.tar.age");
    run(Command::new("sh")
        .arg("-c")
        .arg("tar -C \"$1\" -cf - 書類 | age -a -r \"$2\" -o \"$3\"")
        .arg("sh")
        .arg(tmp.path())
        .arg(&public)
        .arg(&enc));
    let out = tmp.path().join("out2");
    let report = open_with_key(&enc, &out, &key).unwrap();
    assert_eq!(report.kind, seal::PayloadKind::Archive);
    assert!(!report.manifest_checked);
    assert_eq!(snapshot(&out.join("書類")), snapshot(&root));
    assert_eq!(
        listing(&out).len(),
        listing(&root).len() + 1,
        "nothing else in DIR"
    );
}

#[test]
fn we_open_files_made_by_age_p() {
    if !(have("age") && have("expect")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("notes.txt");
    std::fs::write(&file, "from go age").unwrap();
    let enc = tmp.path().join("notes.txt.age");
    let pass = "correct-horse-battery-staple-ひらがな";
    let script = write_expect_script(
        tmp.path(),
        "spawn age -p -o $env(OUT) $env(IN)\nexpect \"passphrase\"\nsend -- \"$env(PASS)\\r\"\n\
         expect \"onfirm\"\nsend -- \"$env(PASS)\\r\"",
    );
    run(Command::new("expect")
        .arg(&script)
        .env("OUT", &enc)
        .env("IN", &file)
        .env("PASS", pass));
    let out = tmp.path().join("out");
    let report = seal::open(
        OpenInput {
            identity_passphrase: None,
            file: enc.clone(),
            out_dir: out.clone(),
            identity_files: vec![],
            passphrase: Some(SecretString::from(pass)),
            force: false,
            max_work_factor: custody_core::send::seal::DEFAULT_MAX_WORK_FACTOR,
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.files[0].path, "notes.txt");
    assert_eq!(
        std::fs::read(out.join("notes.txt")).unwrap(),
        b"from go age"
    );
}

/// A raw tar header whose name bytes are written as given (the tar crate's `set_path`
/// would refuse them).
fn raw_header(name: &[u8], kind: tar::EntryType, size: u64, link: Option<&[u8]>) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.as_mut_bytes()[..name.len()].copy_from_slice(name);
    if let Some(link) = link {
        header.as_mut_bytes()[157..157 + link.len()].copy_from_slice(link);
    }
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    header
}

/// A tar entry: its header and data.
type Entry<'a> = (tar::Header, &'a [u8]);

/// Encrypts a tar made of `entries` to `public` with the age crate.
fn malicious(path: &Path, public: &str, entries: &[Entry]) {
    let mut tar = Vec::new();
    for (header, data) in entries {
        tar.extend_from_slice(header.as_bytes());
        tar.extend_from_slice(data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.resize(tar.len() + 1024, 0);
    let recipient: age::x25519::Recipient = public.parse().unwrap();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut w = encryptor
        .wrap_output(std::fs::File::create(path).unwrap())
        .unwrap();
    w.write_all(&tar).unwrap();
    w.finish().unwrap();
}

#[test]
fn malicious_archives_are_refused_with_nothing_written() {
    use tar::EntryType::{Block, Char, Directory, Fifo, Link, Regular, Symlink};
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = keypair(tmp.path());
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("victim"), "original").unwrap();
    let escape = b"../outside/pwned";
    let absolute = format!("{}/abs-pwned", outside.display());
    let victim = format!("{}/victim", outside.display());
    let ok = raw_header(b"fine.txt", Regular, 2, None);
    let cases: Vec<(&str, Vec<Entry>)> = vec![
        (
            "path traversal",
            vec![
                (ok.clone(), b"ok"),
                (raw_header(escape, Regular, 4, None), b"evil"),
            ],
        ),
        (
            "absolute path",
            vec![(raw_header(absolute.as_bytes(), Regular, 4, None), b"evil")],
        ),
        (
            "symlink escape",
            vec![
                (raw_header(b"link", Symlink, 0, Some(b"../outside")), b""),
                (raw_header(b"link/pwned", Regular, 4, None), b"evil"),
            ],
        ),
        (
            "absolute symlink",
            vec![(
                raw_header(b"link", Symlink, 0, Some(victim.as_bytes())),
                b"",
            )],
        ),
        (
            "hard link escape",
            vec![(raw_header(b"hl", Link, 0, Some(victim.as_bytes())), b"")],
        ),
        (
            "hard link traversal",
            vec![(raw_header(b"hl", Link, 0, Some(b"../outside/victim")), b"")],
        ),
        (
            "hard link to nothing earlier",
            vec![(raw_header(b"hl", Link, 0, Some(b"later")), b"")],
        ),
        (
            "character device",
            vec![(raw_header(b"dev", Char, 0, None), b"")],
        ),
        (
            "block device",
            vec![(raw_header(b"blk", Block, 0, None), b"")],
        ),
        ("fifo", vec![(raw_header(b"fifo", Fifo, 0, None), b"")]),
        (
            "duplicate entry",
            vec![
                (ok.clone(), b"ok"),
                (raw_header(b"fine.txt", Regular, 4, None), b"evil"),
            ],
        ),
        (
            "traversal in a folder",
            vec![(raw_header(b"d/../../outside/", Directory, 0, None), b"")],
        ),
        (
            "file inside a file",
            vec![
                (ok.clone(), b"ok"),
                (raw_header(b"fine.txt/evil", Regular, 4, None), b"evil"),
            ],
        ),
        (
            "folder over a file",
            vec![
                (ok.clone(), b"ok"),
                (raw_header(b"fine.txt/", Directory, 0, None), b""),
            ],
        ),
        (
            "file over a folder",
            vec![
                (raw_header(b"d/", Directory, 0, None), b""),
                (raw_header(b"d", Regular, 4, None), b"evil"),
            ],
        ),
    ];
    let before_outside = snapshot(&outside);
    for (name, entries) in cases {
        let enc = tmp.path().join("evil.tar.age");
        malicious(&enc, &public, &entries);
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let err = open_with_key(&enc, &out, &key).expect_err(name);
        assert!(matches!(err, Error::UnsafeEntry { .. }), "{name}: {err:?}");
        assert_eq!(
            snapshot(&out),
            BTreeSet::new(),
            "{name}: left something in DIR"
        );
        assert_eq!(snapshot(&outside), before_outside, "{name}: wrote outside");
        std::fs::remove_dir(&out).unwrap();
        std::fs::remove_file(&enc).unwrap();
    }
}

#[test]
fn hard_links_and_files_of_several_mebibytes_are_extracted_with_their_digests() {
    use tar::EntryType::{Directory, Link, Regular};
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = keypair(tmp.path());
    // Larger than the 1 MiB buffers the extraction hands between its threads.
    let big: Vec<u8> = (0..(2 * 1024 * 1024 + 777))
        .map(|i| (i % 251) as u8)
        .collect();
    let enc = tmp.path().join("links.tar.age");
    malicious(
        &enc,
        &public,
        &[
            (
                raw_header(b"big.bin", Regular, big.len() as u64, None),
                &big,
            ),
            (raw_header(b"sub/", Directory, 0, None), b""),
            (raw_header(b"sub/same.bin", Link, 0, Some(b"big.bin")), b""),
            (raw_header(b"empty", Regular, 0, None), b""),
        ],
    );
    let out = tmp.path().join("out");
    let report = open_with_key(&enc, &out, &key).unwrap();
    let listed: Vec<(&str, u64, &str)> = report
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.size, f.sha256.as_str()))
        .collect();
    let big_sha = hex_sha(&big);
    let empty_sha = hex_sha(b"");
    assert_eq!(
        listed,
        vec![
            ("big.bin", big.len() as u64, big_sha.as_str()),
            ("sub/same.bin", big.len() as u64, big_sha.as_str()),
            ("empty", 0, empty_sha.as_str()),
        ]
    );
    assert_eq!(std::fs::read(out.join("big.bin")).unwrap(), big);
    assert_eq!(std::fs::read(out.join("empty")).unwrap(), b"");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(out.join("sub/same.bin")).unwrap().ino(),
        std::fs::metadata(out.join("big.bin")).unwrap().ino(),
        "a hard link stays a hard link"
    );
}

#[test]
fn manifest_mismatch_is_refused() {
    use tar::EntryType::Regular;
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = keypair(tmp.path());
    let wrong = format!("{}  a.txt\n", "0".repeat(64));
    let unlisted = String::new();
    let missing = format!("{}  a.txt\n{}  b.txt\n", hex_sha(b"aaaa"), hex_sha(b"bbbb"));
    for (name, manifest) in [
        ("wrong hash", wrong),
        ("unlisted file", unlisted),
        ("missing file", missing),
    ] {
        let enc = tmp.path().join("m.tar.age");
        malicious(
            &enc,
            &public,
            &[
                (raw_header(b"a.txt", Regular, 4, None), b"aaaa"),
                (
                    raw_header(b"MANIFEST.sha256", Regular, manifest.len() as u64, None),
                    manifest.as_bytes(),
                ),
            ],
        );
        let out = tmp.path().join("out");
        let err = open_with_key(&enc, &out, &key).expect_err(name);
        assert!(
            matches!(err, Error::ManifestMismatch { .. }),
            "{name}: {err:?}"
        );
        assert!(
            !out.exists(),
            "{name}: the folder made for the output is removed again"
        );
    }
}

fn hex_sha(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[test]
fn truncated_and_altered_files_are_refused_with_nothing_left() {
    let tmp = tempfile::tempdir().unwrap();
    let root = sample_tree(tmp.path());
    let (key, public) = keypair(tmp.path());
    let good = tmp.path().join("good.tar.age");
    seal::send(
        SendInput {
            paths: vec![root],
            output: Some(good.clone()),
            mode: recipients(&public),
        },
        &NoProgress,
    )
    .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let len = bytes.len();
    let mut variants: Vec<(String, Vec<u8>)> = vec![];
    for cut in [len - 1, len - 17, len / 2, 300, 100, 0] {
        variants.push((format!("truncated to {cut}"), bytes[..cut].to_vec()));
    }
    for at in [20, 150, 250, len / 3, len - 5] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x01;
        variants.push((format!("bit flipped at {at}"), flipped));
    }
    let mut appended = bytes.clone();
    appended.extend_from_slice(b"trailing");
    variants.push(("data appended".to_owned(), appended));

    for (name, data) in variants {
        let enc = tmp.path().join("bad.tar.age");
        std::fs::write(&enc, &data).unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let err = open_with_key(&enc, &out, &key).expect_err(&name);
        assert!(
            matches!(
                err,
                Error::Corrupted { .. } | Error::InvalidFile { .. } | Error::WrongKey { .. }
            ),
            "{name}: {err:?}"
        );
        assert_eq!(
            snapshot(&out),
            BTreeSet::new(),
            "{name}: left something behind"
        );
        std::fs::remove_dir(&out).unwrap();
    }
    // The intact file still opens.
    let out = tmp.path().join("out");
    open_with_key(&good, &out, &key).unwrap();
}

#[test]
fn wrong_key_and_wrong_passphrase_are_told_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let (_key, public) = keypair(tmp.path());
    let other = tmp.path().join("other.txt");
    std::fs::write(
        &other,
        format!(
            "{}\n",
            age::x25519::Identity::generate()
                .to_string()
                .expose_secret()
        ),
    )
    .unwrap();
    let file = tmp.path().join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let enc = seal::send(
        SendInput {
            paths: vec![file.clone()],
            output: Some(tmp.path().join("k.age")),
            mode: recipients(&public),
        },
        &NoProgress,
    )
    .unwrap()
    .output;
    let out = tmp.path().join("out");
    let err = open_with_key(&enc, &out, &other).expect_err("wrong key");
    assert!(matches!(err, Error::WrongKey { .. }), "{err:?}");
    let err = seal::open(
        OpenInput {
            identity_passphrase: None,
            file: enc,
            out_dir: out.clone(),
            identity_files: vec![],
            passphrase: Some(SecretString::from("x")),
            force: false,
            max_work_factor: custody_core::send::seal::DEFAULT_MAX_WORK_FACTOR,
        },
        &NoProgress,
    )
    .expect_err("needs a key");
    assert!(matches!(err, Error::IdentityRequired { .. }), "{err:?}");

    // A passphrase file with a low work factor keeps this test fast.
    let mut recipient = age::scrypt::Recipient::new(SecretString::from("right"));
    recipient.set_work_factor(10);
    let enc = tmp.path().join("p.age");
    let mut w = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .unwrap()
        .wrap_output(std::fs::File::create(&enc).unwrap())
        .unwrap();
    w.write_all(b"x").unwrap();
    w.finish().unwrap();
    let err = seal::open(
        OpenInput {
            identity_passphrase: None,
            file: enc.clone(),
            out_dir: out.clone(),
            identity_files: vec![],
            passphrase: Some(SecretString::from("wrong")),
            force: false,
            max_work_factor: custody_core::send::seal::DEFAULT_MAX_WORK_FACTOR,
        },
        &NoProgress,
    )
    .expect_err("wrong passphrase");
    assert!(matches!(err, Error::WrongPassphrase { .. }), "{err:?}");
    assert!(
        !err.to_string().contains("wrong\""),
        "passphrase not echoed"
    );
    let err = open_with_key(&enc, &out, &other).expect_err("needs passphrase");
    assert!(matches!(err, Error::PassphraseRequired { .. }), "{err:?}");
    assert!(!out.exists());
}

#[test]
fn open_never_overwrites_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let root = sample_tree(tmp.path());
    let (key, public) = keypair(tmp.path());
    let enc = tmp.path().join("t.tar.age");
    seal::send(
        SendInput {
            paths: vec![root.clone()],
            output: Some(enc.clone()),
            mode: recipients(&public),
        },
        &NoProgress,
    )
    .unwrap();
    let out = tmp.path().join("out");
    open_with_key(&enc, &out, &key).unwrap();
    std::fs::write(out.join("書類/報告書.csv"), "edited").unwrap();
    let err = open_with_key(&enc, &out, &key).expect_err("exists");
    assert!(matches!(err, Error::OutputExists { .. }), "{err:?}");
    assert_eq!(
        std::fs::read_to_string(out.join("書類/報告書.csv")).unwrap(),
        "edited"
    );
    assert_eq!(
        listing(&out).len(),
        listing(&root).len() + 1,
        "no temp folder left"
    );
    seal::open(
        OpenInput {
            identity_passphrase: None,
            file: enc,
            out_dir: out.clone(),
            identity_files: vec![key],
            passphrase: None,
            force: true,
            max_work_factor: custody_core::send::seal::DEFAULT_MAX_WORK_FACTOR,
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(snapshot(&out.join("書類")), snapshot(&root));
}
