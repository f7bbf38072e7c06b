//! `custody init`, people and roles, notes and the log, through the real binary.

#![allow(clippy::unwrap_used, missing_docs)]

use std::os::unix::fs::PermissionsExt;

use custody_tests::{Home, require_tool};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_creates_a_private_home_with_key_config_and_ledger() {
    let home = Home::uninit();
    let out = home
        .run(
            "sato",
            [
                "init",
                "--org",
                "テスト組合",
                "--station",
                "desk-1",
                "--json",
            ],
        )
        .ok();
    let report = out.json();
    assert_eq!(report["manager"], "sato");
    assert_eq!(report["id"], "PE-1");
    assert_eq!(mode(&home.home), 0o700);
    assert_eq!(mode(&home.home.join("keys/station.key")), 0o600);
    assert_eq!(mode(&home.home.join("ledger.db")), 0o600);
    let config = std::fs::read_to_string(home.home.join("config.toml")).unwrap();
    assert!(config.contains("organisation = \"テスト組合\""), "{config}");
    // The retention classes are fixed in the ledger (the init entry), not config.
    let classes = home
        .run("kato", ["retain", "class", "list", "--json"])
        .ok()
        .json();
    for class in [
        "system-data",
        "media-data",
        "backup",
        "my-number",
        "records",
        "disclosure",
        "my-number-system",
        "until-unneeded",
    ] {
        assert!(
            !config.contains(&format!("[retention.classes.{class}]")),
            "{class} is still in config.toml"
        );
        let listed = classes
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == class)
            .unwrap_or_else(|| panic!("{class} missing"));
        assert_eq!(listed["seq"], 1, "{listed}");
    }
    let public = std::fs::read_to_string(home.home.join("keys/station.pub")).unwrap();
    assert!(public.starts_with("untrusted comment: minisign public key "));
    let log = home
        .run("sato", ["log", "--kind", "init", "--json"])
        .ok()
        .json();
    assert_eq!(
        log[0]["payload"]["public_key"],
        public.lines().nth(1).unwrap()
    );
    assert_eq!(log[0]["payload"]["key_id"], report["key_id"]);
}

#[test]
fn init_refuses_an_existing_home_and_changes_nothing() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let home = Home::new("sato");
    let before = std::fs::read(home.ledger()).unwrap();
    let key_before = std::fs::read(home.home.join("keys/station.key")).unwrap();
    let out = home.run("sato", ["init"]).expect_code(2);
    assert!(out.stderr.contains("already holds"), "{}", out.stderr);
    assert_eq!(std::fs::read(home.ledger()).unwrap(), before);
    assert_eq!(
        std::fs::read(home.home.join("keys/station.key")).unwrap(),
        key_before
    );

    // A folder holding anything else is not taken over either.
    let other = Home::uninit();
    std::fs::create_dir(&other.home).unwrap();
    std::fs::write(other.home.join("keep.txt"), "mine").unwrap();
    other.run("sato", ["init"]).expect_code(2);
    assert_eq!(std::fs::read_dir(&other.home).unwrap().count(), 1);
}

#[test]
fn init_accepts_an_empty_folder() {
    let home = Home::uninit();
    std::fs::create_dir(&home.home).unwrap();
    home.run("sato", ["init"]).ok();
    assert_eq!(mode(&home.home), 0o700);
    assert!(home.ledger().is_file());
}

#[test]
fn commands_without_a_home_say_to_run_init() {
    let home = Home::uninit();
    let out = home.run("sato", ["note", "x"]).expect_code(2);
    assert!(out.stderr.contains("custody init"), "{}", out.stderr);
}

#[test]
fn only_managers_add_people_and_only_registered_writers_write() {
    let home = Home::with_people();
    let out = home
        .run("suzuki", ["people", "add", "eve", "--role", "manager"])
        .expect_code(2);
    assert!(out.stderr.contains("manager"), "{}", out.stderr);
    let out = home.run("stranger", ["note", "hello"]).expect_code(2);
    assert!(out.stderr.contains("not registered"), "{}", out.stderr);
    let out = home.run("kato", ["note", "hello"]).expect_code(2);
    assert!(out.stderr.contains("auditors"), "{}", out.stderr);
    // Unknown people and auditors may read.
    home.run("stranger", ["log"]).ok();
    home.run("kato", ["ledger", "verify"]).ok();
    // A name is registered once.
    home.run("sato", ["people", "add", "suzuki", "--role", "manager"])
        .expect_code(2);

    let people = home.run("kato", ["people", "list", "--json"]).ok().json();
    let names: Vec<(&str, &str)> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("sato", "manager"),
            ("suzuki", "clerk"),
            ("tanaka", "manager"),
            ("ito", "it"),
            ("kato", "auditor")
        ]
    );
    // The config mirror follows the ledger.
    let config = std::fs::read_to_string(home.home.join("config.toml")).unwrap();
    assert!(config.contains("name = \"kato\"") && config.contains("role = \"auditor\""));
}

#[test]
fn a_person_added_to_config_by_hand_is_refused() {
    let home = Home::with_people();
    let path = home.home.join("config.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str("\n[[people]]\nname = \"mallory\"\nrole = \"manager\"\n");
    std::fs::write(&path, config).unwrap();
    let out = home
        .run("mallory", ["people", "add", "eve", "--role", "manager"])
        .expect_code(2);
    assert!(
        out.stderr.contains("mallory") && out.stderr.contains("people add"),
        "{}",
        out.stderr
    );
}

#[test]
fn notes_get_ids_and_the_log_filters() {
    let home = Home::with_people();
    let out = home
        .run("suzuki", ["note", "金庫の鍵を返却", "--json"])
        .ok();
    assert_eq!(out.json()["id"], "NT-1");
    let out = home.run("ito", ["note", "backup tape rotated"]).ok();
    assert_eq!(out.stdout.trim(), "NT-2");

    let notes = home
        .run("kato", ["log", "--kind", "note", "--json"])
        .ok()
        .json();
    let notes = notes.as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["payload"]["text"], "金庫の鍵を返却");
    assert_eq!(notes[0]["subject"], "NT-1");

    let by_ito = home
        .run("kato", ["log", "--actor", "ito", "--json"])
        .ok()
        .json();
    // The enrolment of ito's key, and the note.
    assert_eq!(by_ito.as_array().unwrap().len(), 2);
    let future = home
        .run("kato", ["log", "--since", "2999-01-01", "--json"])
        .ok()
        .json();
    assert_eq!(future.as_array().unwrap().len(), 0);
    let past = home
        .run("kato", ["log", "--since", "2000-01-01", "--json"])
        .ok()
        .json();
    // init, 5 people, 4 keys enrolled and 4 confirmed, 2 notes
    assert_eq!(past.as_array().unwrap().len(), 16);
    home.run("kato", ["log", "--since", "yesterday"])
        .expect_code(2);

    let table = home.run("kato", ["log"]).ok().stdout;
    assert!(
        table.contains("金庫の鍵を返却") && table.contains("NT-2"),
        "{table}"
    );
}

#[test]
fn notes_from_a_file_are_recorded_all_or_nothing() {
    let home = Home::with_people();
    let file = home.path("notes.txt");
    std::fs::write(&file, "first\n\nsecond\nthird\n").unwrap();
    let out = home
        .run(
            "suzuki",
            ["note", "--file", file.to_str().unwrap(), "--json"],
        )
        .ok();
    assert_eq!(out.json()["count"], 3);
    let long = "x".repeat(4001);
    std::fs::write(&file, format!("fourth\n{long}\n")).unwrap();
    home.run("suzuki", ["note", "--file", file.to_str().unwrap()])
        .expect_code(2);
    let notes = home
        .run("kato", ["log", "--kind", "note", "--json"])
        .ok()
        .json();
    assert_eq!(
        notes.as_array().unwrap().len(),
        3,
        "a failed batch records nothing"
    );
}

fn notes(home: &Home) -> Vec<String> {
    home.run("kato", ["log", "--kind", "note", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["payload"]["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_followed_feed_records_each_line_as_it_arrives() {
    use std::io::{BufRead, BufReader, Write};
    let home = Home::with_people();
    let mut child = home
        .cmd("suzuki")
        .args(["note", "--follow", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut ids = Vec::new();
    for text in ["09:02 入館 鈴木", "", "09:05 入館 伊藤"] {
        writeln!(input, "{text}").unwrap();
        input.flush().unwrap();
        if text.is_empty() {
            continue;
        }
        // The id comes back while the feed is still open: the note is recorded,
        // and the ledger shows it to anyone, before the next line is sent.
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        let id: serde_json::Value = serde_json::from_str(&line).unwrap();
        ids.push(id["id"].as_str().unwrap().to_owned());
        assert_eq!(notes(&home).last().map(String::as_str), Some(text));
    }
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    // A burst: lines that wait while one is recorded are recorded together next,
    // each its own note with its own id, in order.
    let burst: Vec<String> = (1..=50).map(|i| format!("10:{i:02} 入館")).collect();
    input
        .write_all(format!("{}\n", burst.join("\n")).as_bytes())
        .unwrap();
    input.flush().unwrap();
    for _ in &burst {
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        let id: serde_json::Value = serde_json::from_str(&line).unwrap();
        ids.push(id["id"].as_str().unwrap().to_owned());
    }
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 52, "{ids:?}");
    assert_eq!(notes(&home)[2..], burst[..]);
    // A line refused stops the feed; the lines before it stay recorded.
    // One write: the feed stops at the refused line and may be gone before a second.
    input
        .write_all(format!("{}\nnever read\n", "x".repeat(4001)).as_bytes())
        .unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 54 was not recorded; the 52 notes before it were"),
        "{stderr}"
    );
    assert_eq!(notes(&home)[..2], ["09:02 入館 鈴木", "09:05 入館 伊藤"]);
    assert_eq!(notes(&home).len(), 52);

    // Killed mid-feed: what it acknowledged is there, and the chain verifies.
    let mut child = home
        .cmd("suzuki")
        .args(["note", "--follow"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    writeln!(input, "17:30 退館 鈴木").unwrap();
    input.flush().unwrap();
    let mut id = String::new();
    output.read_line(&mut id).unwrap();
    assert!(id.starts_with("NT-"), "{id}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(notes(&home).len(), 53);
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn a_clock_earlier_than_the_last_entry_is_refused() {
    let home = Home::with_people();
    let before = home.run("kato", ["log", "--json"]).ok().json();
    let out = home
        .cmd("suzuki")
        .env("CUSTODY_TEST_NOW", "2001-01-01T00:00:00Z")
        .args(["note", "backdated"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("clock"));
    let after = home.run("kato", ["log", "--json"]).ok().json();
    assert_eq!(before, after, "nothing was appended");
}

#[test]
fn a_ledger_newer_than_the_binary_is_refused() {
    if !(require_tool("sqlite3") && custody_tests::require_sqlite()) {
        return;
    }
    let home = Home::new("sato");
    home.sql("PRAGMA user_version = 99;");
    let out = home.run("sato", ["note", "x"]).expect_code(2);
    assert!(out.stderr.contains("newer"), "{}", out.stderr);
}

#[test]
fn demo_runs_end_to_end() {
    let home = Home::uninit();
    let out = home.run("anyone", ["demo"]).ok();
    assert!(out.stdout.contains("OK:"), "{}", out.stdout);
    assert!(!home.home.exists(), "the demo never touches CUSTODY_HOME");
    // In Japanese for a Japanese locale.
    let out = home
        .cmd("anyone")
        .env("LANG", "ja_JP.UTF-8")
        .arg("demo")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "1. 端末を設定します",
        "承認前の持出しは拒否されます: suzuki は",
        "9. 監査責任者が",
        "デモを終了しました",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
}

#[test]
fn demo_keep_leaves_the_data_home_certificates_and_registers() {
    if !custody_tests::require_tool("pdftotext") {
        return;
    }
    let home = Home::uninit();
    let kept = home.path("demo-kept");
    let out = home
        .run("anyone", ["demo", "--keep", kept.to_str().unwrap()])
        .ok();
    assert!(
        out.stdout.contains(&kept.display().to_string()),
        "{}",
        out.stdout
    );
    assert!(!home.home.exists(), "the demo never touches CUSTODY_HOME");
    let papers = kept.join("papers");
    let ja = custody_tests::sh(
        "pdftotext",
        &[papers.join("EC-1-ja.pdf").to_str().unwrap(), "-"],
    );
    assert!(ja.contains("データ消去証明書"), "{ja}");
    let en = custody_tests::sh(
        "pdftotext",
        &[papers.join("EC-1-en.pdf").to_str().unwrap(), "-"],
    );
    assert!(en.contains("Certificate of Data Erasure"), "{en}");
    let media = std::fs::read_to_string(papers.join("media.csv")).unwrap();
    assert!(media.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(media.contains("DEMO-USB-0001"), "{media}");
    for register in ["carryouts", "handovers", "downloads", "wipes", "people"] {
        assert!(
            papers.join(format!("{register}.csv")).exists(),
            "{register}"
        );
    }
    // The kept data home is a real one: it verifies.
    let verified = std::process::Command::new(custody_tests::custody_bin())
        .env("CUSTODY_HOME", kept.join("home"))
        .env("CUSTODY_ACTOR", "sato")
        .args(["ledger", "verify"])
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    // Never over something already there.
    let again = home
        .run("anyone", ["demo", "--keep", kept.to_str().unwrap()])
        .expect_code(2);
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);
}
