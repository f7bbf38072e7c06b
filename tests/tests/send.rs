//! `custody send` and `custody open` through the binary, against the real `age` CLI:
//! our files decrypt with `age -d` (key and passphrase), age's files open with custody,
//! bad files leave nothing behind, the passphrase is nowhere in the data home, and the
//! approval policy holds.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use custody_tests::{Home, require_tool};
use serde_json::Value;

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A folder with Japanese names, an empty file and an empty folder.
fn export_folder(home: &Home) -> PathBuf {
    let dir = home.path("会員データ");
    std::fs::create_dir_all(dir.join("明細/空のフォルダ")).unwrap();
    std::fs::write(dir.join("名簿.csv"), "番号,氏名\n1,山田 花子\n").unwrap();
    std::fs::write(dir.join("明細/2026.csv"), vec![b'7'; 200_000]).unwrap();
    std::fs::write(dir.join("empty.txt"), "").unwrap();
    dir
}

/// An age key pair made by age-keygen: (identity file, public key).
fn keypair(home: &Home, name: &str) -> (PathBuf, String) {
    let key = home.path(name);
    run_ok(Command::new("age-keygen").arg("-o").arg(&key));
    let text = std::fs::read_to_string(&key).unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    (key, public)
}

fn expect_script(home: &Home, body: &str) -> PathBuf {
    let path = home.path("drive.exp");
    std::fs::write(
        &path,
        format!(
            "set timeout 120\n{body}\nexpect eof\ncatch wait result\nexit [lindex $result 3]\n"
        ),
    )
    .unwrap();
    path
}

fn open_with_key(home: &Home, file: &Path, key: &Path, out: &Path) -> custody_tests::Run {
    home.run(
        "suzuki",
        [
            "open".as_ref(),
            file.as_os_str(),
            "-i".as_ref(),
            key.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
    )
}

fn send(home: &Home, args: &[&str]) -> Value {
    let mut all = vec!["send"];
    all.extend_from_slice(args);
    all.push("--json");
    home.run("suzuki", all).ok().json()
}

#[test]
fn our_archive_decrypts_with_age_and_checks_with_tar_and_sha256sum() {
    if !(require_tool("age") && require_tool("age-keygen")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let dir = export_folder(&home);
    let (key, public) = keypair(&home, "yamada.key");
    let sent = send(
        &home,
        &[
            dir.to_str().unwrap(),
            "--to",
            "山田",
            "--recipient",
            &public,
        ],
    );
    assert_eq!(sent["mode"], "recipients");
    assert!(sent.get("passphrase").is_none());
    let output = PathBuf::from(sent["output"]["path"].as_str().unwrap());
    assert!(output.ends_with("会員データ.tar.age"));

    let tar = home.path("plain.tar");
    run_ok(
        Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&key)
            .arg("-o")
            .arg(&tar)
            .arg(&output),
    );
    let out = home.path("extracted");
    std::fs::create_dir(&out).unwrap();
    run_ok(Command::new("tar").arg("-xf").arg(&tar).arg("-C").arg(&out));
    let check = run_ok(
        Command::new("sha256sum")
            .arg("-c")
            .arg("MANIFEST.sha256")
            .current_dir(&out),
    );
    assert!(check.contains("会員データ/名簿.csv: OK"), "{check}");
    assert!(
        out.join("会員データ/明細/空のフォルダ").is_dir(),
        "empty folders are kept"
    );
    assert_eq!(
        std::fs::metadata(out.join("会員データ/empty.txt"))
            .unwrap()
            .len(),
        0
    );

    // The ledger entry records every file and the output, matching sha256sum.
    let log = home
        .run("kato", ["log", "--kind", "send", "--json"])
        .ok()
        .json();
    let entry = &log[0]["payload"];
    assert_eq!(log[0]["subject"], sent["id"]);
    assert_eq!(entry["recipient"], "山田");
    assert_eq!(entry["recipients"][0], public.as_str());
    let sums = run_ok(Command::new("sha256sum").arg(&output));
    assert_eq!(entry["output"]["sha256"], &sums[..64]);
    let names = entry["files"].as_array().unwrap();
    assert_eq!(names.len(), 3);
    let roster = names
        .iter()
        .find(|f| f["path"] == "会員データ/名簿.csv")
        .unwrap();
    let roster_sum = run_ok(Command::new("sha256sum").arg(dir.join("名簿.csv")));
    assert_eq!(roster["sha256"], &roster_sum[..64]);
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn a_passphrase_send_decrypts_with_age_and_the_passphrase_is_nowhere_in_the_data_home() {
    if !(require_tool("age") && require_tool("expect")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let file = home.path("給与.csv");
    std::fs::write(&file, "secret payroll\n").unwrap();
    let sent = send(
        &home,
        &[
            file.to_str().unwrap(),
            "--to",
            "税理士 佐々木",
            "--password-via",
            "phone",
        ],
    );
    assert_eq!(sent["mode"], "passphrase");
    assert_eq!(sent["password_via"], "phone");
    let passphrase = sent["passphrase"].as_str().unwrap().to_string();
    assert!(passphrase.split('-').count() >= 8, "{passphrase}");
    let output = sent["output"]["path"].as_str().unwrap();

    let plain = home.path("plain.csv");
    let script = expect_script(
        &home,
        "spawn age -d -o $env(OUT) $env(IN)\nexpect \"passphrase\"\nsend -- \"$env(PASS)\\r\"",
    );
    run_ok(
        Command::new("expect")
            .arg(&script)
            .env("OUT", &plain)
            .env("IN", output)
            .env("PASS", &passphrase),
    );
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), "secret payroll\n");

    // Nowhere in the data home: ledger (and its WAL), config, keys, and the export.
    let export = home
        .run("kato", ["ledger", "export", "--format", "jsonl"])
        .ok()
        .stdout;
    assert!(!export.contains(&passphrase));
    let log = home.run("kato", ["log", "--json"]).ok().stdout;
    assert!(!log.contains(&passphrase));
    for entry in walk(&home.home) {
        let bytes = std::fs::read(&entry).unwrap();
        let words: Vec<&str> = passphrase.split('-').collect();
        assert!(
            !contains(&bytes, passphrase.as_bytes())
                && !contains(&bytes, words.join(" ").as_bytes()),
            "the passphrase is in {}",
            entry.display()
        );
    }
    // The receiver's side: custody opens it with the passphrase from a file.
    let pass_file = home.path("pass.txt");
    std::fs::write(&pass_file, format!("{passphrase}\n")).unwrap();
    let out = home.path("received");
    let opened = home
        .run(
            "suzuki",
            [
                "open",
                output,
                "-o",
                out.to_str().unwrap(),
                "--passphrase-file",
                pass_file.to_str().unwrap(),
                "--json",
            ],
        )
        .ok()
        .json();
    assert!(opened["id"].as_str().unwrap().starts_with("RX-"));
    assert_eq!(
        std::fs::read_to_string(out.join("給与.csv")).unwrap(),
        "secret payroll\n"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn without_a_key_or_a_channel_nothing_is_written() {
    let home = Home::with_people();
    home.relax_send_approval();
    let file = home.path("a.csv");
    std::fs::write(&file, "x").unwrap();
    let out = home
        .run("suzuki", ["send", file.to_str().unwrap(), "--to", "誰か"])
        .expect_code(2);
    assert!(out.stderr.contains("--password-via"), "{}", out.stderr);
    // Without --json and without a terminal, the passphrase cannot be shown: refused too.
    let out = home
        .run(
            "suzuki",
            [
                "send",
                file.to_str().unwrap(),
                "--to",
                "誰か",
                "--password-via",
                "sms",
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("terminal"), "{}", out.stderr);
    let left: Vec<_> = std::fs::read_dir(home.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !left.iter().any(|n| n.to_string_lossy().ends_with(".age")),
        "{left:?}"
    );
    assert!(
        home.run("kato", ["log", "--kind", "send", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Auditors and strangers may not send.
    home.run(
        "kato",
        [
            "send",
            file.to_str().unwrap(),
            "--to",
            "x",
            "--password-via",
            "sms",
            "--json",
        ],
    )
    .expect_code(2);
}

#[test]
fn a_contact_key_is_used_by_name() {
    if !(require_tool("age") && require_tool("age-keygen")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "office.key");
    home.run("suzuki", ["contacts", "add", "本部 総務課", &public])
        .ok();
    home.run("suzuki", ["contacts", "add", "bad", "age1notakey"])
        .expect_code(2);
    let list = home.run("kato", ["contacts", "list", "--json"]).ok().json();
    assert_eq!(list[0]["name"], "本部 総務課");
    let file = home.path("report.pdf");
    std::fs::write(&file, "quarterly").unwrap();
    let sent = send(&home, &[file.to_str().unwrap(), "--to", "本部 総務課"]);
    assert_eq!(sent["mode"], "recipients");
    let plain = home.path("plain");
    run_ok(
        Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&key)
            .arg("-o")
            .arg(&plain)
            .arg(sent["output"]["path"].as_str().unwrap()),
    );
    assert_eq!(std::fs::read_to_string(plain).unwrap(), "quarterly");
    // With a key there is no passphrase, and none may be asked for.
    home.run(
        "suzuki",
        [
            "send",
            file.to_str().unwrap(),
            "--to",
            "本部 総務課",
            "--password-via",
            "phone",
            "-o",
            "x.age",
        ],
    )
    .expect_code(2);

    // A new key for the same office: refused without --replace, then replaced, and the
    // next sending opens only with the new key.
    let (new_key, new_public) = keypair(&home, "office-new.key");
    let out = home
        .run("suzuki", ["contacts", "add", "本部 総務課", &new_public])
        .expect_code(2);
    assert!(out.stderr.contains("--replace"), "{}", out.stderr);
    home.run(
        "suzuki",
        ["contacts", "add", "本部 総務課", &new_public, "--replace"],
    )
    .ok();
    home.run(
        "suzuki",
        ["contacts", "add", "nobody", &new_public, "--replace"],
    )
    .expect_code(2);
    let again_path = home.path("again.age");
    send(
        &home,
        &[
            file.to_str().unwrap(),
            "--to",
            "本部 総務課",
            "-o",
            again_path.to_str().unwrap(),
        ],
    );
    let with_old = Command::new("age")
        .args(["-d", "-i"])
        .arg(&key)
        .arg(&again_path)
        .output()
        .unwrap();
    assert!(!with_old.status.success(), "the old key no longer opens it");
    run_ok(
        Command::new("age")
            .args(["-d", "-i"])
            .arg(&new_key)
            .arg(again_path),
    );
    let replaced = home
        .run("kato", ["log", "--kind", "contact-replace", "--json"])
        .ok()
        .json();
    let body = &replaced[0]["payload"];
    assert_eq!(body["name"], "本部 総務課");
    assert_eq!(body["previous_fingerprint"], sent["recipients"][0]);
    assert_ne!(body["fingerprint"], body["previous_fingerprint"]);

    // Removed: sending by name now needs a key or a passphrase again.
    home.run("suzuki", ["contacts", "remove", "本部 総務課"])
        .ok();
    home.run("suzuki", ["contacts", "remove", "本部 総務課"])
        .expect_code(2);
    assert_eq!(
        home.run("kato", ["contacts", "list", "--json"]).ok().json(),
        serde_json::json!([])
    );
    home.run(
        "suzuki",
        [
            "send",
            file.to_str().unwrap(),
            "--to",
            "本部 総務課",
            "-o",
            "y.age",
        ],
    )
    .expect_code(2);
    assert_eq!(
        home.run("kato", ["log", "--kind", "contact-remove", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn files_made_by_age_open_with_custody() {
    if !(require_tool("age") && require_tool("age-keygen") && require_tool("expect")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "me.key");
    let dir = export_folder(&home);
    let tar = home.path("from-age.tar");
    run_ok(
        Command::new("tar")
            .arg("-cf")
            .arg(&tar)
            .arg("-C")
            .arg(home.dir.path())
            .arg("会員データ"),
    );
    let enc = home.path("from-age.tar.age");
    run_ok(
        Command::new("age")
            .args(["-r", &public, "-o"])
            .arg(&enc)
            .arg(&tar),
    );
    let out = home.path("opened");
    let opened = home
        .run(
            "suzuki",
            [
                "open",
                enc.to_str().unwrap(),
                "-i",
                key.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(opened["kind"], "archive", "as in the receive entry");
    // The record names the key that opened it (its public half), never the secret.
    assert_eq!(opened["keys"], serde_json::json!([public]));
    let received = home
        .run("kato", ["log", "--kind", "receive", "--json"])
        .ok()
        .json();
    assert_eq!(received[0]["payload"]["keys"], serde_json::json!([public]));
    let secret = std::fs::read_to_string(&key).unwrap();
    let secret = secret
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap();
    assert!(!received.to_string().contains(secret));
    assert_eq!(
        std::fs::read(out.join("会員データ/名簿.csv")).unwrap(),
        std::fs::read(dir.join("名簿.csv")).unwrap()
    );

    let file = home.path("memo.txt");
    std::fs::write(&file, "from go age").unwrap();
    let enc = home.path("memo.txt.age");
    let script = expect_script(
        &home,
        "spawn age -p -o $env(OUT) $env(IN)\nexpect \"passphrase\"\nsend -- \"$env(PASS)\\r\"\nexpect \"onfirm\"\nsend -- \"$env(PASS)\\r\"",
    );
    run_ok(
        Command::new("expect")
            .arg(&script)
            .env("OUT", &enc)
            .env("IN", &file)
            .env("PASS", "correct horse battery staple"),
    );
    let pass = home.path("pass");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    let out = home.path("memo-out");
    home.run(
        "suzuki",
        [
            "open",
            enc.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(
        std::fs::read_to_string(out.join("memo.txt")).unwrap(),
        "from go age"
    );
    let log = home
        .run("kato", ["log", "--kind", "receive", "--json"])
        .ok()
        .json();
    assert_eq!(log.as_array().unwrap().len(), 2);
}

#[test]
fn truncated_altered_and_malicious_files_are_refused_with_nothing_left() {
    if !(require_tool("age") && require_tool("age-keygen") && require_tool("python3")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "k.key");
    let dir = export_folder(&home);
    let sent = send(
        &home,
        &[dir.to_str().unwrap(), "--to", "x", "--recipient", &public],
    );
    let good = std::fs::read(sent["output"]["path"].as_str().unwrap()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() - 100].to_vec()),
        ("flipped", {
            let mut b = good.clone();
            let at = b.len() / 2;
            b[at] ^= 0x01;
            b
        }),
    ];
    for (name, bytes) in cases {
        let enc = home.path(&format!("{name}.tar.age"));
        std::fs::write(&enc, bytes).unwrap();
        let out = home.path(&format!("{name}-out"));
        std::fs::create_dir(&out).unwrap();
        let run = open_with_key(&home, &enc, &key, &out);
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "{name}: something was left behind"
        );
    }
    // Archives that try to write outside the target folder, built with Python's tarfile
    // (an independent tar writer) and encrypted with the age CLI.
    let outside = home.path("outside");
    std::fs::create_dir(&outside).unwrap();
    let absolute = outside.join("absolute.txt");
    let escapes: [(&str, String); 4] = [
        (
            "traversal",
            "i=tarfile.TarInfo('../escaped.txt');i.size=len(d);t.addfile(i,io.BytesIO(d))".into(),
        ),
        (
            "absolute",
            format!(
                "i=tarfile.TarInfo('{}');i.size=len(d);t.addfile(i,io.BytesIO(d))",
                absolute.display()
            ),
        ),
        (
            "symlink",
            format!(
                "l=tarfile.TarInfo('link');l.type=tarfile.SYMTYPE;l.linkname='{}';t.addfile(l)\n\
                 i=tarfile.TarInfo('link/escaped.txt');i.size=len(d);t.addfile(i,io.BytesIO(d))",
                outside.display()
            ),
        ),
        (
            "hardlink",
            format!(
                "l=tarfile.TarInfo('hard');l.type=tarfile.LNKTYPE;l.linkname='{}';t.addfile(l)",
                absolute.display()
            ),
        ),
    ];
    for (name, entries) in escapes {
        let tar = home.path(&format!("{name}.tar"));
        let script = format!(
            "import tarfile,io,sys\nt=tarfile.open(sys.argv[1],'w')\nd=b'pwned'\n{entries}\nt.close()"
        );
        run_ok(Command::new("python3").arg("-c").arg(script).arg(&tar));
        let enc = home.path(&format!("{name}.tar.age"));
        run_ok(
            Command::new("age")
                .args(["-r", &public, "-o"])
                .arg(&enc)
                .arg(&tar),
        );
        let target = home.path(&format!("inside-{name}/target"));
        std::fs::create_dir_all(&target).unwrap();
        let run = open_with_key(&home, &enc, &key, &target);
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert!(
            !home.path(&format!("inside-{name}/escaped.txt")).exists(),
            "{name}"
        );
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            0,
            "{name} wrote outside"
        );
        assert_eq!(
            std::fs::read_dir(&target).unwrap().count(),
            0,
            "{name} left something behind"
        );
    }
    // Nothing of the failures was recorded.
    assert!(
        home.run("kato", ["log", "--kind", "receive", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// 002 art.4-7: by default, sending personal data needs a request approved
/// beforehand by a manager other than the sender, used once; config.toml cannot
/// relax that, only a manager's recorded policy change can; config.toml can make a
/// station stricter again.
#[test]
fn by_default_a_send_needs_an_approval_beforehand_and_only_a_recorded_policy_change_relaxes_it() {
    let home = Home::with_people();
    let file = home.path("list.csv");
    std::fs::write(&file, "a").unwrap();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "send",
            file.to_str().unwrap(),
            "--to",
            "x",
            "--password-via",
            "phone",
            "--json",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    // The default, whatever config.toml says ("none" is written there by init).
    let config = std::fs::read_to_string(home.home.join("config.toml")).unwrap();
    assert!(config.contains("approval = \"none\""), "{config}");
    let shown = home.run("kato", ["policy", "show"]).ok().stdout;
    assert!(
        shown.contains("needs a request approved beforehand") && shown.contains("default"),
        "{shown}"
    );
    let out = home
        .run("suzuki", args(&["-o", "refused.age"]))
        .expect_code(2);
    assert!(out.stderr.contains("approved beforehand"), "{}", out.stderr);
    assert!(
        out.stderr.contains("custody request new --kind send"),
        "{}",
        out.stderr
    );
    assert!(!home.path("refused.age").exists());
    assert_eq!(count_entries(&home, "send"), 0, "nothing recorded");

    let rq = home
        .run(
            "suzuki",
            [
                "request",
                "new",
                "--kind",
                "send",
                "--summary",
                "名簿を本部へ",
                "--json",
            ],
        )
        .ok()
        .json();
    let rq = rq["id"].as_str().unwrap().to_string();
    home.run("suzuki", args(&["--request", &rq, "-o", "a.age"]))
        .expect_code(2); // pending
    home.run("suzuki", ["approve", &rq]).expect_code(2); // not a manager
    let own = home
        .run(
            "tanaka",
            [
                "request",
                "new",
                "--kind",
                "send",
                "--summary",
                "own",
                "--json",
            ],
        )
        .ok()
        .json();
    home.run("tanaka", ["approve", own["id"].as_str().unwrap()])
        .expect_code(2); // self-approval
    home.run("sato", ["approve", &rq]).ok();
    let sent = home
        .run("suzuki", args(&["--request", &rq, "-o", "b.age"]))
        .ok()
        .json();
    let reqs = home.run("kato", ["requests", "--json"]).ok().json();
    let used = reqs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rq.as_str())
        .unwrap();
    assert_eq!(used["used_by"], sent["id"]);
    home.run("suzuki", args(&["--request", &rq, "-o", "c.age"]))
        .expect_code(2); // used once
    assert!(!home.path("a.age").exists() && !home.path("c.age").exists());

    // Only a manager changes the policy, with a reason, and the ledger records it.
    let relax = [
        "policy",
        "send-approval",
        "none",
        "--reason",
        "本部との定例送付は事前承認を要しないと決定（2026-12-01 管理委員会）",
    ];
    home.run("suzuki", relax).expect_code(2);
    home.run("sato", ["policy", "send-approval", "none"])
        .expect_code(2); // no reason
    home.run("sato", relax).ok();
    let log = home
        .run("kato", ["log", "--kind", "policy", "--json"])
        .ok()
        .json();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["actor"], "sato");
    assert_eq!(log[0]["payload"]["value"], "none");
    let shown = home
        .run("kato", ["policy", "show", "--lang", "ja"])
        .ok()
        .stdout;
    assert!(
        shown.contains("事前承認は不要") && shown.contains("sato") && shown.contains("管理委員会"),
        "{shown}"
    );
    home.run("suzuki", args(&["-o", "d.age"])).ok();

    // config.toml can make one station stricter again.
    let text = config.replace("approval = \"none\"", "approval = \"required\"");
    std::fs::write(home.home.join("config.toml"), text).unwrap();
    home.run("suzuki", args(&["-o", "e.age"])).expect_code(2);
    assert!(!home.path("e.age").exists());
    let shown = home.run("kato", ["policy", "show"]).ok().stdout;
    assert!(shown.contains("still requires it"), "{shown}");
    home.run("kato", ["ledger", "verify"]).ok();
}

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: PathBuf, size: &str) -> SmallDisk {
        SmallDisk::mount_with(dir, &format!("size={size}"))
    }

    /// With tmpfs options such as `size=8m,nr_inodes=6` (few files and folders).
    fn mount_with(dir: PathBuf, options: &str) -> SmallDisk {
        std::fs::create_dir(&dir).unwrap();
        custody_tests::sh(
            "mount",
            &["-t", "tmpfs", "-o", options, "tmpfs", dir.to_str().unwrap()],
        );
        SmallDisk { dir }
    }

    /// Every file and folder on it.
    fn contents(&self) -> Vec<String> {
        fn all(dir: &Path, into: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    all(&path, into);
                }
                into.push(path);
            }
        }
        let mut found = Vec::new();
        all(&self.dir, &mut found);
        found
            .iter()
            .map(|p| p.strip_prefix(&self.dir).unwrap().display().to_string())
            .collect()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// Bytes that do not compress, from a simple generator.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn count_entries(home: &Home, kind: &str) -> usize {
    home.run("kato", ["log", "--kind", kind, "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_full_disk_fails_send_and_open_with_nothing_left_and_nothing_recorded() {
    if !(require_tool("age-keygen") && custody_tests::require_root()) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "key.txt");
    let big = home.path("big.bin");
    std::fs::write(&big, noise(6 << 20, 1)).unwrap();
    let folder = home.path("export");
    std::fs::create_dir_all(folder.join("sub")).unwrap();
    for i in 0..6 {
        std::fs::write(
            folder.join(format!("sub/part{i}.bin")),
            noise(1 << 20, i + 2),
        )
        .unwrap();
    }
    let small = SmallDisk::mount(home.path("small"), "2m");

    // send: the output does not fit, running out in the middle (6 MiB) or in the last
    // part written (2.3 MiB and 3.5 MiB on a 2 MiB disk).
    for (name, size) in [
        ("big.bin", 0),
        ("tail-a.bin", 2_300_000),
        ("tail-b.bin", 3_500_000),
    ] {
        let input = if size == 0 {
            big.clone()
        } else {
            let path = home.path(name);
            std::fs::write(&path, noise(size, size as u64)).unwrap();
            path
        };
        let out = home
            .run(
                "suzuki",
                [
                    "send",
                    input.to_str().unwrap(),
                    "--to",
                    "bob",
                    "--recipient",
                    &public,
                    "-o",
                    small.dir.join(format!("{name}.age")).to_str().unwrap(),
                ],
            )
            .expect_code(1);
        assert!(
            out.stderr.contains("No space left") && out.stderr.contains("hint: the disk is full"),
            "{name} says why: {}",
            out.stderr
        );
        assert_eq!(small.contents(), Vec::<String>::new(), "nothing left");
    }
    assert_eq!(count_entries(&home, "send"), 0, "nothing recorded");

    // open: a single file and a folder that do not fit.
    let file_age = home.path("big.bin.age");
    let folder_age = home.path("export.tar.age");
    for (input, output) in [(&big, &file_age), (&folder, &folder_age)] {
        send(
            &home,
            &[
                input.to_str().unwrap(),
                "--to",
                "bob",
                "--recipient",
                &public,
                "-o",
                output.to_str().unwrap(),
            ],
        );
    }
    for sealed in [&file_age, &folder_age] {
        let out = open_with_key(&home, sealed, &key, &small.dir.join("out")).expect_code(1);
        assert!(
            out.stderr.contains("No space left") && out.stderr.contains("hint: the disk is full"),
            "says why: {}",
            out.stderr
        );
        assert_eq!(small.contents(), Vec::<String>::new(), "nothing left");
    }
    assert_eq!(count_entries(&home, "receive"), 0, "nothing recorded");

    // With room, the same files open.
    open_with_key(&home, &folder_age, &key, &home.path("roomy")).ok();
    assert_eq!(
        std::fs::read(home.path("roomy/export/sub/part3.bin")).unwrap(),
        noise(1 << 20, 5)
    );
    assert_eq!(count_entries(&home, "receive"), 1);
}

#[test]
fn when_the_ledger_refuses_the_record_no_output_stays_behind() {
    if !require_tool("age-keygen") {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "key.txt");
    let folder = export_folder(&home);
    let sealed = home.path("export.tar.age");
    send(
        &home,
        &[
            folder.to_str().unwrap(),
            "--to",
            "bob",
            "--recipient",
            &public,
            "-o",
            sealed.to_str().unwrap(),
        ],
    );
    // A clock earlier than the last entry: the ledger refuses to append (exit 2).
    let backdated = |args: &[&str]| {
        let out = home
            .cmd("suzuki")
            .env("CUSTODY_TEST_NOW", "2001-01-01T00:00:00Z")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("clock"));
    };
    let unsent = home.path("unsent.tar.age");
    backdated(&[
        "send",
        folder.to_str().unwrap(),
        "--to",
        "bob",
        "--recipient",
        &public,
        "-o",
        unsent.to_str().unwrap(),
    ]);
    assert!(!unsent.exists(), "an unrecorded send leaves no file");
    let out = home.path("received");
    std::fs::create_dir(&out).unwrap();
    backdated(&[
        "open",
        sealed.to_str().unwrap(),
        "-i",
        key.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "an unrecorded receive leaves no files"
    );
    assert_eq!(count_entries(&home, "send"), 1);
    assert_eq!(count_entries(&home, "receive"), 0);
    // With the clock right, the same open works and is recorded.
    open_with_key(&home, &sealed, &key, &out).ok();
    assert!(out.join("会員データ/名簿.csv").is_file());
    assert_eq!(count_entries(&home, "receive"), 1);
}

/// Regression: a folder that could not be made because the disk had no room (here, no
/// inodes left) was reported as the archive's folder "clashing with a file", sending
/// the person looking for a hostile archive instead of a full disk.
#[test]
fn a_folder_not_made_for_want_of_space_is_not_called_a_clash() {
    if !(require_tool("age-keygen") && custody_tests::require_root()) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let (key, public) = keypair(&home, "key.txt");
    let folder = home.path("records");
    for i in 0..12 {
        let sub = folder.join(format!("year-{i}"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("list.csv"), format!("row {i}\n")).unwrap();
    }
    let sealed = home.path("records.tar.age");
    send(
        &home,
        &[
            folder.to_str().unwrap(),
            "--to",
            "bob",
            "--recipient",
            &public,
            "-o",
            sealed.to_str().unwrap(),
        ],
    );
    let small = SmallDisk::mount_with(home.path("few-inodes"), "size=8m,nr_inodes=8");
    let out = open_with_key(&home, &sealed, &key, &small.dir.join("out")).expect_code(1);
    assert!(
        out.stderr.contains("No space left") && !out.stderr.contains("clashes"),
        "{}",
        out.stderr
    );
    assert_eq!(small.contents(), Vec::<String>::new(), "nothing left");
    assert_eq!(count_entries(&home, "receive"), 0, "nothing recorded");
}

#[test]
fn japanese_and_digit_passphrases_open_with_age_and_as_people_type_them() {
    if !(require_tool("age") && require_tool("expect")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let file = home.path("名簿.csv");
    std::fs::write(&file, "番号,氏名\n1,山田\n").unwrap();
    let send_as = |name: &str, lang: &str, extra: &[&str]| {
        let mut cmd = home.cmd("suzuki");
        cmd.env("LANG", lang).args([
            "send",
            file.to_str().unwrap(),
            "--to",
            "本部",
            "--password-via",
            "phone",
            "-o",
            home.path(name).to_str().unwrap(),
            "--json",
        ]);
        cmd.args(extra);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
        sent["passphrase"].as_str().unwrap().to_owned()
    };
    let open_typed = |name: &str, typed: &str| {
        let pass = home.path(&format!("{name}.pass"));
        std::fs::write(&pass, format!("{typed}\n")).unwrap();
        let out = home.path(&format!("{name}.out"));
        home.run(
            "suzuki",
            [
                "open",
                home.path(name).to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--passphrase-file",
                pass.to_str().unwrap(),
            ],
        )
        .ok();
        // A single file comes out under the name of the encrypted file.
        assert_eq!(
            std::fs::read_to_string(out.join(name.trim_end_matches(".age"))).unwrap(),
            "番号,氏名\n1,山田\n"
        );
    };

    // The language says Japanese: eight hiragana words, ideographic spaces between.
    let ja = send_as("ja.age", "ja_JP.UTF-8", &[]);
    let words: Vec<&str> = ja.split('\u{3000}').collect();
    assert_eq!(words.len(), 8, "{ja}");
    assert!(
        words
            .iter()
            .all(|w| w.chars().all(|c| ('\u{3041}'..='\u{309F}').contains(&c))),
        "{ja}"
    );
    // age itself opens it with the passphrase as shown.
    let plain = home.path("ja.csv");
    let script = expect_script(
        &home,
        "spawn age -d -o $env(OUT) $env(IN)\nexpect \"passphrase\"\nsend -- \"$env(PASS)\\r\"",
    );
    run_ok(
        Command::new("expect")
            .arg(&script)
            .env("OUT", &plain)
            .env("IN", home.path("ja.age"))
            .env("PASS", &ja)
            .env("LANG", "C.UTF-8"),
    );
    assert_eq!(
        std::fs::read_to_string(&plain).unwrap(),
        "番号,氏名\n1,山田\n"
    );
    // custody opens it typed with ordinary spaces.
    open_typed("ja.age", &ja.replace('\u{3000}', " "));

    // Digits, asked for: seven groups of four; typed full-width with spaces.
    let digits = send_as("digits.age", "C.UTF-8", &["--words", "digits"]);
    assert_eq!(digits.len(), 34, "{digits}");
    let full_width: String = digits
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            _ => ' ',
        })
        .collect();
    open_typed("digits.age", &full_width);

    // A passphrase of one's own that merely looks generated opens as typed.
    let own = "1111 2222 3333 4444 5555 6666 7777";
    let own_file = home.path("own.age");
    let script = expect_script(
        &home,
        "spawn age -p -o $env(OUT) $env(IN)\nexpect \"passphrase\"\nsend -- \"$env(PASS)\\r\"\nexpect \"passphrase\"\nsend -- \"$env(PASS)\\r\"",
    );
    run_ok(
        Command::new("expect")
            .arg(&script)
            .env("OUT", &own_file)
            .env("IN", &file)
            .env("PASS", own),
    );
    let pass = home.path("own.pass");
    std::fs::write(&pass, format!("{own}\n")).unwrap();
    home.run(
        "suzuki",
        [
            "open",
            own_file.to_str().unwrap(),
            "-o",
            home.path("own.out").to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(
        std::fs::read_to_string(home.path("own.out").join("own")).unwrap(),
        "番号,氏名\n1,山田\n"
    );

    // English stays the default elsewhere, and can be asked for in Japanese too.
    let en = send_as("en.age", "ja_JP.UTF-8", &["--words", "en"]);
    assert_eq!(en.split('-').count(), 8, "{en}");
}

#[test]
fn an_identity_of_ones_own_receives_without_a_passphrase_or_i() {
    if !(require_tool("age") && require_tool("expect")) {
        return;
    }
    let home = Home::with_people();
    home.relax_send_approval();
    let pass = home.path("identity.pass");
    std::fs::write(&pass, "cabinet lantern orchard 2026\n").unwrap();
    let made = home
        .run(
            "suzuki",
            [
                "keys",
                "new",
                "--passphrase-file",
                pass.to_str().unwrap(),
                "--json",
            ],
        )
        .ok()
        .json();
    let public = made["public_key"].as_str().unwrap().to_owned();
    assert!(public.starts_with("age1"), "{made}");
    assert_eq!(made["protected"], true);
    let file = PathBuf::from(made["file"].as_str().unwrap());
    assert!(
        file.starts_with(home.keys_dir().parent().unwrap()),
        "{}",
        file.display()
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{text}"
    );
    assert!(
        !text.contains("AGE-SECRET-KEY"),
        "the secret half is protected"
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A sender uses only age and the public key.
    let letter = home.path("letter.txt");
    std::fs::write(&letter, "会員名簿を送ります\n").unwrap();
    let sealed = home.path("letter.txt.age");
    run_ok(
        Command::new("age")
            .args(["-r", &public, "-o"])
            .arg(&sealed)
            .arg(&letter),
    );
    // custody opens it with the only identity, asking only its passphrase.
    let out = home.path("inbox");
    let opened = home
        .run(
            "suzuki",
            [
                "open",
                sealed.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--identity-passphrase-file",
                pass.to_str().unwrap(),
            ],
        )
        .ok();
    assert!(
        opened.stderr.contains("opening with your identity"),
        "{}",
        opened.stderr
    );
    assert_eq!(
        std::fs::read_to_string(out.join("letter.txt")).unwrap(),
        "会員名簿を送ります\n"
    );
    // A wrong passphrase opens nothing.
    let wrong = home.path("wrong.pass");
    std::fs::write(&wrong, "not the passphrase at all\n").unwrap();
    let refused = home.run(
        "suzuki",
        [
            "open",
            sealed.to_str().unwrap(),
            "-o",
            home.path("inbox2").to_str().unwrap(),
            "--identity-passphrase-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert_ne!(refused.code, 0);
    assert!(!home.path("inbox2").join("letter.txt").exists());

    // age itself reads the identity file as its own passphrase-protected kind.
    let plain = home.path("by-age.txt");
    let script = expect_script(
        &home,
        "spawn age -d -i $env(ID) -o $env(OUT) $env(IN)\nexpect \"passphrase\"\nsend -- \"$env(PASS)\\r\"",
    );
    run_ok(
        Command::new("expect")
            .arg(&script)
            .env("ID", &file)
            .env("OUT", &plain)
            .env("IN", &sealed)
            .env("PASS", "cabinet lantern orchard 2026"),
    );
    assert_eq!(
        std::fs::read_to_string(&plain).unwrap(),
        "会員名簿を送ります\n"
    );

    // With several identities and no -i, custody asks which one.
    home.run(
        "suzuki",
        [
            "keys",
            "new",
            "--name",
            "second",
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    )
    .ok();
    let several = home.run(
        "suzuki",
        [
            "open",
            sealed.to_str().unwrap(),
            "-o",
            home.path("inbox3").to_str().unwrap(),
            "--identity-passphrase-file",
            pass.to_str().unwrap(),
        ],
    );
    assert_eq!(several.code, 2, "{}", several.stderr);
    assert!(
        several.stderr.contains("several identities"),
        "{}",
        several.stderr
    );

    // Never over an existing identity; one kept without a passphrase is plain text.
    home.run(
        "suzuki",
        ["keys", "new", "--passphrase-file", pass.to_str().unwrap()],
    )
    .expect_code(2);
    let usb = home.path("usb/office.age");
    std::fs::create_dir_all(usb.parent().unwrap()).unwrap();
    let office = home
        .run(
            "suzuki",
            [
                "keys",
                "new",
                "--name",
                "office",
                "--no-passphrase",
                "-o",
                usb.to_str().unwrap(),
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(office["protected"], false);
    assert!(
        std::fs::read_to_string(&usb)
            .unwrap()
            .contains("AGE-SECRET-KEY-1")
    );
}

/// 004 art.10: the send register (送付簿) lists every transfer with how its password
/// travelled and who sent it; the recipient's confirmation of receipt is recorded
/// once, for a transfer that exists, by someone who may write; the audit lists sends
/// not confirmed within the configured days.
#[test]
fn the_send_register_records_each_transfer_and_its_confirmed_receipt() {
    let home = Home::with_people();
    home.relax_send_approval();
    let config = home.home.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("confirm_within_days = 7"), "{text}");
    std::fs::write(
        &config,
        text.replace("confirm_within_days = 7", "confirm_within_days = 0"),
    )
    .unwrap();
    let file = home.path("給与.csv");
    std::fs::write(&file, "secret payroll\n").unwrap();
    let sent = send(
        &home,
        &[
            file.to_str().unwrap(),
            "--to",
            "税理士 佐々木",
            "--password-via",
            "phone",
        ],
    );
    let tx = sent["id"].as_str().unwrap().to_string();
    let unconfirmed = |home: &Home| -> bool {
        let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "unconfirmed-send" && f["id"] == tx.as_str())
    };
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(unconfirmed(&home));
    let report = |lang: &str| {
        home.run(
            "kato",
            [
                "report",
                "sends",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                lang,
            ],
        )
        .ok()
        .stdout
    };
    let csv = report("ja");
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "管理番号,送付日,送付先,内容,件数,暗号化,パスワード通知方法,承認者,送付者,受領確認,受領確認日"
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with(&format!("{tx},"))
            && row.contains(",税理士 佐々木,給与.csv,1,有（パスワード）,電話,,suzuki,,"),
        "{row}"
    );
    // Confirmed once, for a transfer that exists, not by an auditor.
    home.run("kato", ["transfer", "confirm", &tx, "--by", "佐々木"])
        .expect_code(2);
    home.run("suzuki", ["transfer", "confirm", "TX-99", "--by", "佐々木"])
        .expect_code(2);
    let confirmed = home
        .run(
            "suzuki",
            ["transfer", "confirm", &tx, "--by", "佐々木", "--json"],
        )
        .ok()
        .json();
    assert_eq!(confirmed["confirmed_by"], "佐々木");
    let again = home
        .run("suzuki", ["transfer", "confirm", &tx, "--by", "佐々木"])
        .expect_code(2);
    assert!(again.stderr.contains("佐々木"), "{}", again.stderr);
    assert!(!unconfirmed(&home));
    let csv = report("ja");
    assert!(
        csv.lines().nth(1).unwrap().contains(",suzuki,佐々木,20"),
        "{csv}"
    );
    let en = report("en");
    assert!(en.contains(",passphrase,phone,"), "{en}");
    home.run("kato", ["ledger", "verify"]).ok();
}
