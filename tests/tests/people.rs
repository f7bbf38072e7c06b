//! Know who acts: every entry signed by the person who made it, through the real
//! binary, real key files, `sqlite3`, Python to forge hashes and the `minisign` CLI to
//! forge signatures, as an attacker would.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use custody_tests::{Home, Run, python, require_tool};
use serde_json::Value;

fn entries(home: &Home) -> i64 {
    home.sql("SELECT COUNT(*) FROM entries")
        .trim()
        .parse()
        .unwrap()
}

fn tools() -> bool {
    require_tool("sqlite3") && require_tool("python3") && require_tool("minisign")
}

/// A carry-out requested by suzuki; returns its id.
fn carryout(home: &Home) -> String {
    let out = home
        .run(
            "suzuki",
            [
                "carryout",
                "new",
                "--what",
                "member list",
                "--reason",
                "audit",
                "--to",
                "head office",
                "--return-by",
                "2099-12-31",
                "--transport",
                "by hand",
                "--json",
            ],
        )
        .ok()
        .json();
    out["id"].as_str().unwrap().to_owned()
}

/// Runs as `actor` with a config folder that holds no key of theirs, and no
/// passphrase: only the name says who they are.
fn as_name_only(home: &Home, actor: &str, args: &[&str]) -> Run {
    let empty = home.path("empty-config");
    std::fs::create_dir_all(&empty).unwrap();
    let out = home
        .cmd_locked(actor)
        .env("XDG_CONFIG_HOME", &empty)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs as `actor` with suzuki's own key file and passphrase.
fn with_suzukis_key(home: &Home, actor: &str, args: &[&str]) -> Run {
    let out = home
        .cmd_locked(actor)
        .arg("--key")
        .arg(home.key_file("suzuki"))
        .arg("--key-passphrase-file")
        .arg(home.passphrase_file("suzuki"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_clerk_naming_a_manager_cannot_approve_sign_off_hold_release_or_dispose() {
    if !require_tool("sqlite3") {
        return;
    }
    let home = Home::with_people();
    let co = carryout(&home);
    // An erasure certificate to sign off: ito wipes a disk image.
    let image = home.path("disk.img");
    std::fs::write(&image, vec![0x5A_u8; 64 * 1024]).unwrap();
    home.run(
        "ito",
        ["wipe", image.to_str().unwrap(), "--method", "zero", "--yes"],
    )
    .ok();
    // A retained file, due and approved for disposal.
    let file = home.path("old-export.csv");
    std::fs::write(&file, "1,山田\n").unwrap();
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            file.to_str().unwrap(),
            "--class",
            "system-data",
            "--since",
            "2015-04-01",
            "--backdate-reason",
            "registered late",
        ],
    )
    .ok();
    let request = home
        .run(
            "suzuki",
            ["retain", "dispose", "RT-1", "--request", "--json"],
        )
        .ok()
        .json();
    let request = request["id"].as_str().unwrap().to_owned();
    home.run("sato", ["approve", &request]).ok();

    let before = entries(&home);
    let attempts: [&[&str]; 6] = [
        &["approve", &co],
        &["reject", &co, "--reason", "no"],
        &["cert", "sign-off", "EC-1"],
        &["retain", "hold", "RT-1", "--reason", "dispute"],
        &["retain", "release", "RT-1"],
        &["retain", "dispose", "RT-1"],
    ];
    for args in attempts {
        // "tanaka" by name only: no key of tanaka's anywhere.
        let out = as_name_only(&home, "tanaka", args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("no unlocked personal key")
                || out.stderr.contains("is not on hold"),
            "{args:?}: {}",
            out.stderr
        );
        // "tanaka" with suzuki's own key unlocked.
        let out = with_suzukis_key(&home, "tanaka", args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert_eq!(entries(&home), before, "{args:?} appended something");
    }
    let out = with_suzukis_key(&home, "tanaka", &["approve", &co]);
    assert!(
        out.stderr.contains("may not sign for tanaka"),
        "{}",
        out.stderr
    );
    assert!(file.exists(), "the retained file was shredded");
    home.run("kato", ["ledger", "verify"]).ok();
    // tanaka, with tanaka's key, can.
    home.run("tanaka", ["approve", &co]).ok();
}

#[test]
fn a_clerk_cannot_add_people_change_roles_or_confirm_their_own_key() {
    if !require_tool("sqlite3") {
        return;
    }
    let home = Home::with_people();
    let before = entries(&home);
    home.run("suzuki", ["people", "add", "eve", "--role", "manager"])
        .expect_code(2);
    home.run("suzuki", ["people", "role", "suzuki", "--role", "manager"])
        .expect_code(2);
    home.run("tanaka", ["people", "role", "tanaka", "--role", "clerk"])
        .expect_code(2);
    assert_eq!(entries(&home), before);

    // A new key of suzuki's, confirmed by suzuki: refused; by another manager: fine.
    let new_key = home.path("suzuki-new.key");
    let out = home
        .cmd("suzuki")
        .arg("--key")
        .arg(&new_key)
        .args(["people", "rekey", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let rekeyed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key_id = rekeyed["key_id"].as_str().unwrap();
    let out = home
        .run(
            "suzuki",
            ["people", "confirm", "suzuki", "--key-id", key_id],
        )
        .expect_code(2);
    assert!(out.stderr.contains("suzuki may not"), "{}", out.stderr);
    // A manager who mistypes the id read out confirms nothing.
    let out = home
        .run(
            "tanaka",
            [
                "people",
                "confirm",
                "suzuki",
                "--key-id",
                "0123456789ABCDEF",
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("read it out again"), "{}", out.stderr);

    // A "manager" made in the tables (and in config.toml) acts as nobody.
    home.sql(
        "INSERT INTO records(id, kind, seq) VALUES ('PE-99', 'person-add', 1); \
         INSERT INTO people(name, role, id, seq) VALUES ('eve', 'manager', 'PE-99', 1); \
         INSERT INTO person_keys(key_id, name, public_key, enrolled_seq, confirmed_seq, confirmed_by) \
         SELECT '0000000000000001', 'eve', public_key, enrolled_seq, confirmed_seq, 'sato' \
         FROM person_keys WHERE name = 'suzuki' LIMIT 1;",
    );
    let before = entries(&home);
    let out = home.run("eve", ["people", "enroll"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    let out = with_suzukis_key(&home, "eve", &["note", "as eve"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert_eq!(entries(&home), before);
}

#[test]
fn a_removed_person_is_refused_and_their_past_still_verifies() {
    let home = Home::with_people();
    home.run("suzuki", ["note", "before leaving"]).ok();
    home.run(
        "sato",
        [
            "people",
            "remove",
            "suzuki",
            "--reason",
            "moved to another section",
        ],
    )
    .ok();
    let before = entries(&home);
    let out = home.run("suzuki", ["note", "after leaving"]).expect_code(2);
    assert!(out.stderr.contains("removed"), "{}", out.stderr);
    assert_eq!(entries(&home), before);
    let out = home.run("kato", ["ledger", "verify"]).ok();
    assert!(
        out.stdout.contains("signed by the person"),
        "{}",
        out.stdout
    );
    let people = home.run("kato", ["people", "list", "--json"]).ok().json();
    let suzuki = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "suzuki")
        .unwrap();
    assert_eq!(suzuki["removed_reason"], "moved to another section");
    assert!(suzuki["keys"]["key_id"].is_null(), "{suzuki}");
    // The ID register (002 様式1) keeps the removed line, with its date.
    let csv = home
        .run(
            "kato",
            ["report", "people", "--format", "csv", "--lang", "ja"],
        )
        .ok()
        .stdout;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        "システムの種類,使用者ID,氏名,所属,権限,登録日,削除日,管理番号,鍵ID"
    );
    let row: Vec<&str> = lines
        .find(|l| l.contains(",suzuki,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(row[4], "事務取扱担当者", "the form's word for the role");
    assert!(!row[5].is_empty() && !row[6].is_empty(), "{row:?}");
    assert!(
        row[8].is_empty(),
        "a removed person's key is not shown: {row:?}"
    );
    // Nobody removes themselves, and a name nobody has is said so.
    home.run("sato", ["people", "remove", "sato", "--reason", "x"])
        .expect_code(2);
    home.run("sato", ["people", "remove", "nobody", "--reason", "x"])
        .expect_code(2);
}

#[test]
fn after_rekey_the_old_key_is_refused() {
    let home = Home::with_people();
    let old = home.key_file("tanaka");
    let new = home.path("tanaka-usb.key");
    let out = home
        .cmd("tanaka")
        .arg("--key")
        .arg(&new)
        .args(["people", "rekey", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let key_id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Until a manager confirms the new key, the old one still signs; the new not yet.
    home.run("tanaka", ["note", "old key, still standing"]).ok();
    let with_new = |args: &[&str]| -> std::process::Output {
        home.cmd("tanaka")
            .arg("--key")
            .arg(&new)
            .args(args)
            .output()
            .unwrap()
    };
    let out = with_new(&["note", "new key, not confirmed"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no manager has confirmed"),
        "{out:?}"
    );
    home.run("sato", ["people", "confirm", "tanaka", "--key-id", &key_id])
        .ok();
    let out = home
        .run("tanaka", ["note", "old key, revoked"])
        .expect_code(2);
    assert!(out.stderr.contains("revoked"), "{}", out.stderr);
    assert!(old.exists());
    let out = with_new(&["note", "new key"]);
    assert!(out.status.success(), "{out:?}");
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn weak_passphrases_are_refused_and_nothing_is_left() {
    let home = Home::uninit();
    let weak = home.path("weak");
    std::fs::write(&weak, "password123\n").unwrap();
    let out = home
        .cmd_locked("sato")
        .arg("--key-passphrase-file")
        .arg(&weak)
        .args(["init", "--org", "Test Union", "--station", "desk-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("too weak"));
    assert!(!home.home.exists());
    assert!(!home.key_file("sato").exists());
}

#[test]
fn within_the_unlock_window_no_passphrase_is_asked_and_lock_ends_it() {
    let home = Home::with_people();
    // Without the agent and without a passphrase, a write is refused with advice.
    let locked = |text: &str| -> std::process::Output {
        home.cmd_locked("suzuki")
            .args(["note", text])
            .output()
            .unwrap()
    };
    let out = locked("before unlocking");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("custody unlock"));
    let out = home.run("suzuki", ["unlock"]).ok();
    assert!(
        out.stdout.contains("unlocked for 15 minutes"),
        "{}",
        out.stdout
    );
    let out = locked("inside the window");
    assert!(out.status.success(), "{out:?}");
    // The socket is the user's alone, and nothing of the key is on disk beside it.
    let dir = home.dir.path().join("run/custody");
    let sockets: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sockets.len(), 1, "{sockets:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&sockets[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let out = home.run("suzuki", ["lock"]).ok();
    assert!(out.stdout.contains("locked 1 key"), "{}", out.stdout);
    let out = locked("after locking");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn after_the_unlock_window_the_passphrase_is_asked_again() {
    let home = Home::with_people();
    let config = home.home.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("unlock_minutes = 15"), "{text}");
    std::fs::write(
        &config,
        text.replace("unlock_minutes = 15", "unlock_minutes = 1"),
    )
    .unwrap();
    let out = home.run("suzuki", ["unlock"]).ok();
    assert!(out.stdout.contains("for 1 minutes"), "{}", out.stdout);
    let note = |text: &str| {
        home.cmd_locked("suzuki")
            .args(["note", text])
            .output()
            .unwrap()
    };
    assert!(note("inside").status.success());
    // The window ends whatever the clock says about when a test runs: wait it out.
    std::thread::sleep(std::time::Duration::from_secs(62));
    let out = note("after the window");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// Every place custody writes, searched for a secret.
fn assert_nowhere(home: &Home, secret: &str, runs: &[&Run]) {
    let mut found = Vec::new();
    for entry in walk(&home.home) {
        let bytes = std::fs::read(&entry).unwrap();
        if contains(&bytes, secret.as_bytes()) {
            found.push(entry.display().to_string());
        }
    }
    let dump = Command::new("sqlite3")
        .arg(home.ledger())
        .arg(".dump")
        .output()
        .unwrap();
    if contains(&dump.stdout, secret.as_bytes()) {
        found.push("the ledger".into());
    }
    for run in runs {
        if run.stdout.contains(secret) || run.stderr.contains(secret) {
            found.push("a command's output".into());
        }
    }
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    if contains(&ps.stdout, secret.as_bytes()) {
        found.push("ps".into());
    }
    for proc_dir in std::fs::read_dir("/proc").unwrap().flatten() {
        for what in ["cmdline", "environ"] {
            if let Ok(bytes) = std::fs::read(proc_dir.path().join(what))
                && contains(&bytes, secret.as_bytes())
            {
                found.push(format!("{}/{what}", proc_dir.path().display()));
            }
        }
    }
    assert!(found.is_empty(), "the secret is in {found:?}");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.is_file() {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_key_and_passphrase_never_reach_the_home_the_ledger_output_or_ps() {
    if !(require_tool("sqlite3") && require_tool("ps")) {
        return;
    }
    let home = Home::with_people();
    let mut runs = vec![
        home.run("suzuki", ["unlock"]).ok(),
        home.run("suzuki", ["note", "while unlocked"]).ok(),
        home.run("suzuki", ["people", "list"]).ok(),
        home.run("kato", ["ledger", "export", "--format", "jsonl"])
            .ok(),
    ];
    // A wrong passphrase is refused without echoing either.
    let wrong = home.path("wrong");
    std::fs::write(&wrong, "violet kettle harbour 1987 WRONG").unwrap();
    let out = home
        .cmd_locked("tanaka")
        .arg("--key-passphrase-file")
        .arg(&wrong)
        .args(["note", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let wrong_run = Run {
        code: 2,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        wrong_run.stderr.contains("does not unlock"),
        "{}",
        wrong_run.stderr
    );
    runs.push(wrong_run);
    let key_text = std::fs::read_to_string(home.key_file("suzuki")).unwrap();
    let secret_line = key_text.lines().nth(1).unwrap();
    let refs: Vec<&Run> = runs.iter().collect();
    for secret in [
        Home::passphrase("suzuki").as_str(),
        Home::passphrase("tanaka").as_str(),
        "violet kettle harbour 1987 WRONG",
        secret_line,
    ] {
        assert_nowhere(&home, secret, &refs);
    }
    // The key files themselves are their owner's alone, outside the data home.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(home.key_file("suzuki"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(!home.key_file("suzuki").starts_with(&home.home));
    home.run("suzuki", ["lock"]).ok();
}

/// The hash of the newest entry, and a new approve entry of `CO-2` by tanaka forged
/// after it with correct hashes; returns the forged entry's seq.
fn forge_approval(home: &Home) -> i64 {
    python(
        home,
        "last = db.execute('SELECT seq, hash, at, station FROM entries ORDER BY seq DESC LIMIT 1').fetchone()\n\
         seq = last[0] + 1\n\
         salt = os.urandom(32).hex()\n\
         body = canon({'request_kind': 'carryout', 'requester': 'suzuki'})\n\
         c = commit(salt, body)\n\
         h = entry_hash(seq, last[2], 'tanaka', last[3], 'approve', 'CO-2', c, last[1])\n\
         db.execute('INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?)', (seq, last[2], 'tanaka', last[3], 'approve', 'CO-2', c, last[1], h))\n\
         db.execute('INSERT INTO payloads(seq, salt, body) VALUES (?,?,?)', (seq, salt, body))",
    );
    home.sql("SELECT MAX(seq) FROM entries")
        .trim()
        .parse()
        .unwrap()
}

/// Replaces the signature of entry `seq` with `signature` (triggers dropped first).
fn put_signature(home: &Home, seq: i64, signature: &str) {
    let file = home.path("signature.txt");
    std::fs::write(&file, signature).unwrap();
    home.sql(&format!(
        "DROP TRIGGER IF EXISTS signatures_no_update; DROP TRIGGER IF EXISTS signatures_no_delete; \
         DELETE FROM signatures WHERE seq = {seq}; \
         INSERT INTO signatures(seq, key_id, signature) VALUES ({seq}, 'X', CAST(readfile('{}') AS TEXT));",
        file.display()
    ));
}

/// Signs `message` with the minisign CLI and the key at `key` (passphrase on stdin,
/// or none), with `comment` as the trusted comment.
fn minisign_sign(
    home: &Home,
    key: &Path,
    passphrase: Option<&str>,
    message: &str,
    comment: &str,
) -> String {
    let msg = home.path("forged.msg");
    std::fs::write(&msg, message).unwrap();
    let sig = home.path("forged.msg.minisig");
    let _ = std::fs::remove_file(&sig);
    let mut child = Command::new("minisign")
        .args(["-S", "-s"])
        .arg(key)
        .arg("-m")
        .arg(&msg)
        .args(["-t", comment])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        if let Some(passphrase) = passphrase {
            writeln!(stdin, "{passphrase}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "minisign: {out:?}");
    std::fs::read_to_string(&sig).unwrap()
}

#[track_caller]
fn assert_caught(home: &Home, seq: i64, says: &str) {
    let out = home.run("kato", ["ledger", "verify"]).expect_code(1);
    assert!(
        out.stderr.contains(&format!("at entry {seq}:")) && out.stderr.contains(says),
        "expected entry {seq}, {says:?}:\n{}",
        out.stderr
    );
}

#[test]
fn a_forged_approval_is_caught_at_its_seq_however_it_is_signed() {
    if !(tools() && custody_tests::require_sqlite()) {
        return;
    }
    let home = Home::with_people();
    carryout(&home);
    carryout(&home);
    home.run("tanaka", ["approve", "CO-1"]).ok();
    let genuine: i64 = home
        .sql("SELECT MAX(seq) FROM entries WHERE kind = 'approve'")
        .trim()
        .parse()
        .unwrap();
    let seq = forge_approval(&home);
    let hash = home.sql(&format!("SELECT hash FROM entries WHERE seq = {seq}"));
    let message = format!("custody-entry/v1\n{}\n", hash.trim());
    let comment = format!("custody entry seq={seq} kind=approve actor=tanaka");

    // No signature at all.
    assert_caught(&home, seq, "by tanaka carries no signature");
    // tanaka's genuine signature of CO-1's approval, copied.
    let copied = home.sql(&format!(
        "SELECT signature FROM signatures WHERE seq = {genuine}"
    ));
    put_signature(&home, seq, &copied);
    assert_caught(&home, seq, "made for another entry");
    // The copy with its trusted comment rewritten for this entry: the comment's own
    // signature no longer holds.
    let rewritten = copied.replace(
        &format!("seq={genuine} kind=approve"),
        &format!("seq={seq} kind=approve"),
    );
    put_signature(&home, seq, &rewritten);
    assert_caught(&home, seq, "does not verify");
    // Signed by suzuki's real key (the clerk has it and its passphrase).
    let by_suzuki = minisign_sign(
        &home,
        &home.key_file("suzuki"),
        Some(&Home::passphrase("suzuki")),
        &message,
        &comment,
    );
    put_signature(&home, seq, &by_suzuki);
    assert_caught(&home, seq, "signed with suzuki's key");
    // Signed by a key the attacker made.
    let own = home.path("attacker.key");
    let status = Command::new("minisign")
        .args(["-G", "-W", "-p"])
        .arg(home.path("attacker.pub"))
        .arg("-s")
        .arg(&own)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let by_attacker = minisign_sign(&home, &own, None, &message, &comment);
    put_signature(&home, seq, &by_attacker);
    assert_caught(&home, seq, "which the people register does not hold");
}

/// The recipe of docs/ledger-format.md for one entry's signature, run as written.
#[test]
fn the_documented_minisign_recipe_checks_one_entrys_signature() {
    if !(require_tool("sqlite3") && require_tool("minisign") && custody_tests::require_sqlite()) {
        return;
    }
    let home = Home::with_people();
    carryout(&home);
    home.run("tanaka", ["approve", "CO-1"]).ok();
    let seq = home.sql("SELECT MAX(seq) FROM entries WHERE kind = 'approve'");
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ledger-format.md"),
    )
    .unwrap();
    let start = doc
        .find("<!-- recipe: entry-signature -->")
        .expect("the recipe is marked in docs/ledger-format.md");
    let block = &doc[start..];
    let block = &block[block.find("```sh\n").unwrap() + 6..];
    let script = &block[..block.find("```").unwrap()];
    let run = |seq: &str| {
        Command::new("sh")
            .arg("-ec")
            .arg(script)
            .current_dir(home.dir.path())
            .env("DB", home.ledger())
            .env("SEQ", seq)
            .output()
            .unwrap()
    };
    let out = run(seq.trim());
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        shown.contains("Signature and comment signature verified")
            && shown.contains("actor=tanaka"),
        "{shown}"
    );
    // The same recipe on an entry whose hash was changed fails.
    home.sql(&format!(
        "DROP TRIGGER entries_no_update; UPDATE entries SET hash = replace(hash, substr(hash, 1, 1), \
         CASE substr(hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE seq = {}",
        seq.trim()
    ));
    assert!(!run(seq.trim()).status.success());
}

#[test]
fn an_approval_covers_the_request_as_filed() {
    let home = Home::with_people();
    let co = carryout(&home);
    home.run("tanaka", ["approve", &co]).ok();
    let log = home
        .run("kato", ["log", "--subject", &co, "--json"])
        .ok()
        .json();
    let entries = log.as_array().unwrap();
    let filed = entries
        .iter()
        .find(|e| e["kind"] == "carryout-request")
        .unwrap();
    let approval = entries.iter().find(|e| e["kind"] == "approve").unwrap();
    let covers = &approval["payload"]["covers"];
    assert_eq!(covers["hash"], filed["hash"], "{approval:#}");
    assert_eq!(covers["seq"], filed["seq"]);
    assert!(
        covers["summary"].as_str().unwrap().contains("member list"),
        "{covers}"
    );
    // A hold covers the retained item the same way.
    let file = home.path("kept.csv");
    std::fs::write(&file, "1\n").unwrap();
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            file.to_str().unwrap(),
            "--class",
            "system-data",
        ],
    )
    .ok();
    home.run("tanaka", ["retain", "hold", "RT-1", "--reason", "dispute"])
        .ok();
    let log = home
        .run("kato", ["log", "--subject", "RT-1", "--json"])
        .ok()
        .json();
    let entries = log.as_array().unwrap();
    let hold = entries.iter().find(|e| e["kind"] == "retain-hold").unwrap();
    assert_eq!(hold["payload"]["covers"]["hash"], entries[0]["hash"]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_ledger_from_before_personal_keys_upgrades_and_says_so() {
    let home = Home::uninit();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/home-before-personal-keys");
    copy_dir(&fixture, &home.home);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&home.home, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        home.home.join("keys/station.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    // The old entries verify and are said to be from before personal keys.
    let out = home.run("sato", ["ledger", "verify"]).ok();
    assert!(
        out.stdout
            .contains("recorded before personal keys (seq 1–4)"),
        "{}",
        out.stdout
    );
    // Nobody writes without a key; a clerk cannot be the first to enrol.
    home.run("sato", ["note", "no key yet"]).expect_code(2);
    let out = home.run("suzuki", ["people", "enroll"]).expect_code(2);
    assert!(out.stderr.contains("first key"), "{}", out.stderr);
    // The manager enrols the ledger's first key, which stands at once.
    home.run("sato", ["people", "enroll"]).ok();
    home.run("sato", ["note", "signed now"]).ok();
    home.enroll("sato", "suzuki");
    home.run("suzuki", ["note", "signed too"]).ok();
    let out = home.run("sato", ["ledger", "verify", "--json"]).ok().json();
    assert_eq!(out["before_personal_keys"], 4);
    assert_eq!(out["signed"], 5, "{out:#}");
    // Dropping a signature after the first key is not passed off as "before".
    home.sql(
        "DROP TRIGGER signatures_no_delete; DELETE FROM signatures WHERE seq = \
         (SELECT MAX(seq) FROM entries WHERE kind = 'note');",
    );
    let out = home.run("sato", ["ledger", "verify"]).expect_code(1);
    assert!(
        out.stderr.contains("carries no signature"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_command_started_in_the_window_keeps_the_key_until_it_has_recorded() {
    if !require_tool("script") {
        return;
    }
    let home = Home::with_people();
    let config = home.home.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("unlock_minutes = 15", "unlock_minutes = 1"),
    )
    .unwrap();
    home.run("ito", ["unlock"]).ok();
    let image = home.path("disk.img");
    std::fs::write(&image, vec![0x5A_u8; 100_000]).unwrap();
    // A wipe started inside the window, waiting at its confirmation while the window
    // ends (a wipe of hours would be writing instead).
    let line = format!(
        "{} wipe {} --method zero",
        custody_tests::custody_bin().display(),
        image.display()
    );
    let mut command = Command::new("script");
    for (name, value) in home.cmd_locked("ito").get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let mut child = command
        .args(["-qefc", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(62));
    // The window is over: a new command gets no key …
    let out = home
        .cmd_locked("ito")
        .args(["note", "after the window"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // … but the wipe that unlocked at its start still records its results.
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"erase 1\n").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("ERASED"), "{shown}");
    assert_eq!(
        home.sql("SELECT COUNT(*) FROM entries WHERE kind = 'wipe'")
            .trim(),
        "1"
    );
    home.run("kato", ["ledger", "verify"]).ok();
}
