//! The tamper-evident ledger through the real binary and a real SQLite file: every
//! tamper is detected (with the triggers dropped first, as an attacker would), the
//! documented recipe re-verifies with sqlite3, sha256sum and minisign alone, and
//! concurrent or killed writers never break the chain.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use custody_tests::{Home, Run, require_tool};

const DROP_TRIGGERS: &str = "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete; \
     DROP TRIGGER checkpoints_no_update; DROP TRIGGER checkpoints_no_delete; \
     DROP TRIGGER payloads_no_delete; DROP TRIGGER payloads_erase_only;";

/// A home with 5 people, each with a confirmed key (14 entries), and 6 notes
/// (entries 15 to 20): 20 entries.
fn ledger_with_notes() -> Option<Home> {
    if !require_tool("sqlite3") {
        return None;
    }
    let home = Home::with_people();
    for i in 1..=6 {
        home.run("suzuki", ["note", &format!("note {i} 個人データ")])
            .ok();
    }
    home.run("kato", ["ledger", "verify"]).ok();
    Some(home)
}

fn verify(home: &Home, extra: &[&str]) -> Run {
    let mut args = vec!["ledger", "verify"];
    args.extend_from_slice(extra);
    home.run("kato", args)
}

#[track_caller]
fn assert_tamper_found(home: &Home, seq: i64, extra: &[&str]) {
    let out = verify(home, extra).expect_code(1);
    assert!(
        out.stderr.contains(&format!("at entry {seq}:")),
        "expected the first bad entry to be {seq}:\n{}",
        out.stderr
    );
}

#[test]
fn the_triggers_refuse_edits() {
    let Some(home) = ledger_with_notes() else {
        return;
    };
    for sql in [
        "UPDATE entries SET actor = 'x' WHERE seq = 3",
        "DELETE FROM entries WHERE seq = 20",
        "DELETE FROM checkpoints",
        "UPDATE payloads SET body = '{}' WHERE seq = 3",
        "DELETE FROM payloads WHERE seq = 3",
    ] {
        let out = Command::new("sqlite3")
            .arg(home.ledger())
            .arg(sql)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{sql} was allowed");
    }
    verify(&home, &[]).ok();
}

#[test]
fn a_changed_entry_field_is_detected() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let Some(home) = ledger_with_notes() else {
        return;
    };
    home.sql(&format!(
        "{DROP_TRIGGERS} UPDATE entries SET actor = 'tanaka' WHERE seq = 17;"
    ));
    assert_tamper_found(&home, 17, &[]); // An auditor reading Japanese is told the same, in Japanese.
    let out = home
        .cmd("kato")
        .env("LANG", "ja_JP.UTF-8")
        .args(["ledger", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("改ざん: 台帳の記録 17 で検証に失敗しました")
            && text.contains("記録が変更されています")
            && text.contains("証拠として保全"),
        "{text}"
    );
}

#[test]
fn a_changed_payload_is_detected() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let Some(home) = ledger_with_notes() else {
        return;
    };
    home.sql(&format!(
        "{DROP_TRIGGERS} UPDATE payloads SET body = replace(body, 'note 4', 'note X') WHERE seq = 18;"
    ));
    assert_tamper_found(&home, 18, &[]);
}

#[test]
fn a_deleted_middle_entry_is_detected() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let Some(home) = ledger_with_notes() else {
        return;
    };
    home.sql(&format!(
        "{DROP_TRIGGERS} DELETE FROM payloads WHERE seq = 16; DELETE FROM entries WHERE seq = 16;"
    ));
    assert_tamper_found(&home, 16, &[]);
}

#[test]
fn two_swapped_entries_are_detected() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let Some(home) = ledger_with_notes() else {
        return;
    };
    home.sql(&format!(
        "{DROP_TRIGGERS} \
         UPDATE entries SET seq = -1 WHERE seq = 17; UPDATE entries SET seq = 17 WHERE seq = 18; \
         UPDATE entries SET seq = 18 WHERE seq = -1; \
         UPDATE payloads SET seq = -1 WHERE seq = 17; UPDATE payloads SET seq = 17 WHERE seq = 18; \
         UPDATE payloads SET seq = 18 WHERE seq = -1;"
    ));
    assert_tamper_found(&home, 17, &[]);
}

#[test]
fn a_deleted_tail_is_caught_by_the_checkpoints_or_an_external_head() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let Some(home) = ledger_with_notes() else {
        return;
    };
    let head = home.path("head.txt");
    std::fs::write(&head, home.run("kato", ["ledger", "head"]).ok().stdout).unwrap();
    let head_arg = head.to_str().unwrap();
    verify(&home, &["--against", head_arg]).ok();

    // Deleting the last two entries but not their checkpoints: the checkpoints tell.
    home.sql(&format!(
        "{DROP_TRIGGERS} DELETE FROM records WHERE seq > 18; DELETE FROM payloads WHERE seq > 18; \
         DELETE FROM entries WHERE seq > 18;"
    ));
    assert_tamper_found(&home, 19, &[]);

    // Deleting the checkpoints too leaves a chain that is consistent in itself, but
    // not with the head this station verified last (its witness) …
    home.sql("DELETE FROM checkpoints WHERE size > 18;");
    assert_tamper_found(&home, 19, &[]);
    // … and with the witness gone and the counters set back, only the head kept
    // outside the machine still catches it.
    std::fs::remove_file(home.home.join("witness")).unwrap();
    home.sql("UPDATE counters SET last = last - 2 WHERE prefix = 'NT';");
    verify(&home, &[]).ok();
    let out = verify(&home, &["--against", head_arg]).expect_code(1);
    assert!(out.stderr.contains("removed"), "{}", out.stderr);
}

#[test]
fn a_restored_old_copy_is_caught_by_a_later_head() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let Some(home) = ledger_with_notes() else {
        return;
    };
    let copy = home.path("old-ledger.db");
    home.sql(&format!("VACUUM INTO '{}'", copy.display()));
    home.run("suzuki", ["note", "after the backup"]).ok();
    let head = home.path("head.txt");
    std::fs::write(&head, home.run("kato", ["ledger", "head"]).ok().stdout).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", home.ledger().display()));
    }
    std::fs::copy(&copy, home.ledger()).unwrap();
    // The station remembers the head it verified last …
    assert_tamper_found(&home, 21, &[]);
    // … and so does the head kept outside the machine, witness or not.
    std::fs::remove_file(home.home.join("witness")).unwrap();
    verify(&home, &[]).ok();
    assert_tamper_found(&home, 21, &["--against", head.to_str().unwrap()]);
}

#[test]
fn an_external_head_from_another_key_is_refused() {
    let Some(home) = ledger_with_notes() else {
        return;
    };
    let other = Home::new("sato");
    let head = home.path("foreign-head.txt");
    std::fs::write(&head, other.run("sato", ["ledger", "head"]).ok().stdout).unwrap();
    let out = verify(&home, &["--against", head.to_str().unwrap()]).expect_code(1);
    assert!(out.stderr.contains("signature"), "{}", out.stderr);
}

#[test]
fn entries_appended_without_the_key_are_detected() {
    let Some(home) = ledger_with_notes() else {
        return;
    };
    // A well-formed entry 21 forged with sqlite3: its hash links correctly, but
    // neither suzuki's key nor the station key signed it.
    let prev = home
        .sql("SELECT hash FROM entries WHERE seq = 20")
        .trim()
        .to_string();
    let salt = "00".repeat(32);
    let body = r#"{"text":"forged"}"#;
    let commitment = sha256_hex(format!("{salt}{body}").as_bytes());
    let at = home
        .sql("SELECT at FROM entries WHERE seq = 20")
        .trim()
        .to_string();
    let input =
        format!("custody-ledger/v1\n21\n{at}\nsuzuki\ndesk-1\nnote\n\n{commitment}\n{prev}");
    let hash = sha256_hex(input.as_bytes());
    home.sql(&format!(
        "INSERT INTO entries VALUES (21, '{at}', 'suzuki', 'desk-1', 'note', '', '{commitment}', '{prev}', '{hash}'); \
         INSERT INTO payloads(seq, salt, body) VALUES (21, '{salt}', '{body}');"
    ));
    let out = verify(&home, &[]).expect_code(1);
    assert!(
        out.stderr.contains("at entry 21:") && out.stderr.contains("no signature"),
        "{}",
        out.stderr
    );
    // With a signature copied from suzuki's last note, the comment names another
    // entry; and no checkpoint covers it either way.
    home.sql(
        "INSERT INTO signatures(seq, key_id, signature) SELECT 21, key_id, signature FROM signatures WHERE seq = 20;",
    );
    let out = verify(&home, &[]).expect_code(1);
    assert!(
        out.stderr.contains("at entry 21:") && out.stderr.contains("another entry"),
        "{}",
        out.stderr
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The recipe of docs/ledger-format.md, run as written: sqlite3, sha256sum, minisign.
#[test]
fn the_documented_recipe_reverifies_with_standard_tools() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let Some(home) = ledger_with_notes() else {
        return;
    };
    if !require_tool("minisign") {
        return;
    }
    let db = home.ledger();
    let db = db.to_str().unwrap();
    let sh = |script: &str| -> String {
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("DB", db)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for seq in 1..=20 {
        let computed = sh(&format!(
            "sqlite3 \"$DB\" \"SELECT 'custody-ledger/v1'||char(10)||seq||char(10)||at||char(10)||actor||char(10)||station||char(10)||kind||char(10)||subject||char(10)||commitment||char(10)||prev_hash FROM entries WHERE seq = {seq}\" | head -c -1 | sha256sum | cut -d' ' -f1"
        ));
        let stored = home.sql(&format!("SELECT hash FROM entries WHERE seq = {seq}"));
        assert_eq!(computed.trim(), stored.trim(), "hash of entry {seq}");
        let commitment = sh(&format!(
            "sqlite3 \"$DB\" \"SELECT salt||body FROM payloads WHERE seq = {seq}\" | head -c -1 | sha256sum | cut -d' ' -f1"
        ));
        let stored = home.sql(&format!("SELECT commitment FROM entries WHERE seq = {seq}"));
        assert_eq!(
            commitment.trim(),
            stored.trim(),
            "commitment of entry {seq}"
        );
    }
    // The head block splits into a message and a signature that minisign verifies.
    let head = home.path("head.txt");
    std::fs::write(&head, home.run("kato", ["ledger", "head"]).ok().stdout).unwrap();
    let pubkey = home.home.join("keys/station.pub");
    let out = sh(&format!(
        "cd {dir} && head -n 5 head.txt > head.msg && tail -n +6 head.txt > head.msg.minisig && minisign -V -p {pubkey} -m head.msg",
        dir = home.dir.path().display(),
        pubkey = pubkey.display()
    ));
    assert!(
        out.contains("Signature and comment signature verified"),
        "{out}"
    );
    // The message really names the ledger's head.
    let msg = std::fs::read_to_string(home.path("head.msg")).unwrap();
    let stored = home.sql("SELECT hash FROM entries WHERE seq = 20");
    assert!(
        msg.contains(&format!("size: 20\nhead: {}", stored.trim())),
        "{msg}"
    );
    // Every stored checkpoint verifies the same way.
    let sigs = home.sql("SELECT count(*) FROM checkpoints");
    assert!(sigs.trim().parse::<i64>().unwrap() >= 19);
    // A one-byte change to the message fails minisign.
    let tampered = msg.replace("size: 20", "size: 21");
    std::fs::write(home.path("head.msg"), tampered).unwrap();
    let status = Command::new("minisign")
        .args(["-V", "-p", pubkey.to_str().unwrap(), "-m"])
        .arg(home.path("head.msg"))
        .output()
        .unwrap();
    assert!(!status.status.success());
}

#[test]
fn export_writes_every_entry_with_its_payload() {
    let Some(home) = ledger_with_notes() else {
        return;
    };
    let out = home
        .run("kato", ["ledger", "export", "--format", "jsonl"])
        .ok();
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(lines[19]["payload"]["text"], "note 6 個人データ");
    assert_eq!(lines[19]["seq"], 20);
    assert_eq!(lines[19]["prev_hash"], lines[18]["hash"]);
    assert_eq!(lines[0]["salt"].as_str().unwrap().len(), 64);
    let file = home.path("ledger.jsonl");
    home.run(
        "kato",
        [
            "ledger",
            "export",
            "--format",
            "jsonl",
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), out.stdout);
    // An existing file is not overwritten.
    home.run(
        "kato",
        [
            "ledger",
            "export",
            "--format",
            "jsonl",
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .expect_code(1);
}

#[test]
fn four_processes_appending_at_once_lose_nothing() {
    let home = Arc::new(Home::with_people());
    let before = home.run("kato", ["ledger", "verify", "--json"]).ok().json()["entries"]
        .as_i64()
        .unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let home = Arc::clone(&home);
            std::thread::spawn(move || {
                for i in 0..100 {
                    home.run("suzuki", ["note", &format!("writer {w} note {i}")])
                        .ok();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let report = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    assert_eq!(report["entries"].as_i64().unwrap(), before + 400);
    let notes = home
        .run("kato", ["log", "--kind", "note", "--json"])
        .ok()
        .json();
    let mut ids: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["subject"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 400, "every note has its own id");
}

#[test]
fn writers_killed_part_way_leave_a_ledger_that_verifies() {
    // Large enough that a batch takes far longer than the longest wait before the kill.
    const BATCH: usize = 20_000;
    let home = Arc::new(Home::with_people());
    let batch = home.path("batch.txt");
    let lines: String = (0..BATCH).map(|i| format!("batch line {i}\n")).collect();
    std::fs::write(&batch, lines).unwrap();
    let committed = Arc::new(AtomicUsize::new(0));

    // A steady writer whose notes must all survive.
    let steady = {
        let home = Arc::clone(&home);
        let committed = Arc::clone(&committed);
        std::thread::spawn(move || {
            for i in 0..40 {
                home.run("suzuki", ["note", &format!("steady {i}")]).ok();
                committed.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Batches of BATCH notes in one transaction, killed with SIGKILL part-way.
    let mut killed = 0;
    for round in 0..12u64 {
        let mut child = home
            .cmd("ito")
            .args(["note", "--file", batch.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + (round * 37) % 150));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    steady.join().unwrap();
    assert!(
        killed > 0,
        "no writer was killed part-way; the test proved nothing"
    );

    let report = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    assert_eq!(report["ok"], true);
    let notes = home
        .run("kato", ["log", "--kind", "note", "--json"])
        .ok()
        .json();
    let notes = notes.as_array().unwrap();
    let steady_count = notes
        .iter()
        .filter(|n| n["payload"]["text"].as_str().unwrap().starts_with("steady"))
        .count();
    assert_eq!(steady_count, committed.load(Ordering::SeqCst));
    let batch_count = notes.iter().filter(|n| n["actor"] == "ito").count();
    assert_eq!(
        batch_count % BATCH,
        0,
        "a killed batch left part of itself: {batch_count}"
    );
}
