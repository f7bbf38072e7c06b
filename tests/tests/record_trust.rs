//! custody never signs what it has not checked, and takes no decision from a table the
//! entries do not back: regression tests for the attacks on the record, through the
//! real binary, with `sqlite3` (triggers dropped first where the attack needs it),
//! Python's sqlite3 and hashlib to forge hashes as an attacker would, and the
//! `minisign` CLI to re-sign with another key.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;

use custody_tests::{Home, Run, python, require_tool};
use serde_json::Value;

const DROP_TRIGGERS: &str = "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete; \
     DROP TRIGGER checkpoints_no_update; DROP TRIGGER checkpoints_no_delete; \
     DROP TRIGGER payloads_no_delete; DROP TRIGGER payloads_erase_only;";

fn tools() -> bool {
    require_tool("sqlite3") && require_tool("python3")
}

fn entries(home: &Home) -> i64 {
    home.sql("SELECT COUNT(*) FROM entries")
        .trim()
        .parse()
        .unwrap()
}

fn verify(home: &Home, extra: &[&str]) -> Run {
    let mut args = vec!["ledger", "verify"];
    args.extend_from_slice(extra);
    home.run("kato", args)
}

/// Refused with exit 1 for tampering, nothing appended.
#[track_caller]
fn assert_refused_as_tampering(home: &Home, out: &Run, before: i64, says: &str) {
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(says), "{}", out.stderr);
    assert_eq!(entries(home), before, "something was appended");
}

/// A carry-out CO-1 requested by `who`.
fn carryout(home: &Home, who: &str) {
    home.run(
        who,
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
            "2099-12-01",
            "--transport",
            "by hand",
        ],
    )
    .ok();
}

#[test]
fn custody_refuses_to_sign_over_a_rewritten_chain() {
    if !(tools() && custody_tests::require_sqlite()) {
        return;
    }
    let home = Home::with_people();
    for i in 1..=4 {
        home.run("suzuki", ["note", &format!("note {i}")]).ok();
    }
    let head = home.path("head.txt");
    std::fs::write(&head, home.run("kato", ["ledger", "head"]).ok().stdout).unwrap();
    // Entry 15 (the first note) rewritten, every later hash recomputed, the
    // checkpoints from there on deleted: a chain consistent in itself.
    home.sql(DROP_TRIGGERS);
    python(
        &home,
        "salt = db.execute('SELECT salt FROM payloads WHERE seq = 15').fetchone()[0]\n\
         body = canon({'id': 'NT-2', 'text': 'nothing happened'})\n\
         db.execute('UPDATE payloads SET body = ? WHERE seq = 15', (body,))\n\
         db.execute('UPDATE entries SET commitment = ? WHERE seq = 15', (commit(salt, body),))\n\
         rehash_from(15)\n\
         db.execute('DELETE FROM checkpoints WHERE size >= 15')",
    );
    let before = entries(&home);
    let out = home.run("suzuki", ["note", "x"]);
    assert_refused_as_tampering(&home, &out, before, "refusing to write to this ledger");
    // Without the station's witness too: the newest checkpoint no longer covers the
    // last entry.
    std::fs::remove_file(home.home.join("witness")).unwrap();
    let out = home.run("suzuki", ["note", "x"]);
    assert_refused_as_tampering(&home, &out, before, "not covered by a signed checkpoint");
    let out = verify(&home, &["--against", head.to_str().unwrap()]).expect_code(1);
    assert!(out.stderr.contains("TAMPERED"), "{}", out.stderr);
}

#[test]
fn an_inserted_approve_entry_is_never_signed_over() {
    if !(tools() && custody_tests::require_sqlite()) {
        return;
    }
    let home = Home::with_people();
    carryout(&home, "suzuki");
    let head = home.path("head.txt");
    std::fs::write(&head, home.run("kato", ["ledger", "head"]).ok().stdout).unwrap();
    // The triggers stay; an approval by tanaka is appended with correct hashes.
    python(
        &home,
        "last = db.execute('SELECT seq, hash, at, station FROM entries ORDER BY seq DESC LIMIT 1').fetchone()\n\
         seq = last[0] + 1\n\
         salt = os.urandom(32).hex()\n\
         body = canon({'request_kind': 'carryout', 'requester': 'suzuki'})\n\
         c = commit(salt, body)\n\
         at = last[2]\n\
         h = entry_hash(seq, at, 'tanaka', last[3], 'approve', 'CO-1', c, last[1])\n\
         db.execute('INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?)', (seq, at, 'tanaka', last[3], 'approve', 'CO-1', c, last[1], h))\n\
         db.execute('INSERT INTO payloads(seq, salt, body) VALUES (?,?,?)', (seq, salt, body))\n\
         db.execute(\"UPDATE requests SET status = 'approved', decided_by = 'tanaka', decided_at = ? WHERE id = 'CO-1'\", (at,))",
    );
    let before = entries(&home);
    // The next honest command does not sign over it …
    let out = home.run("suzuki", ["note", "y"]);
    assert_refused_as_tampering(&home, &out, before, "not covered by a signed checkpoint");
    let out = home.run("suzuki", ["carryout", "out", "CO-1"]);
    assert_refused_as_tampering(&home, &out, before, "not covered by a signed checkpoint");
    // … and verify, against the head from before, does not say it extends it: the
    // approval carries no signature by tanaka's key (nor a checkpoint).
    let out = verify(&home, &["--against", head.to_str().unwrap()]).expect_code(1);
    assert!(
        out.stderr.contains("by tanaka carries no signature"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_approval_set_in_the_table_lets_nothing_go_out() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    carryout(&home, "suzuki");
    home.sql(
        "UPDATE requests SET status = 'approved', decided_by = 'tanaka', \
         decided_at = '2026-12-01T00:00:00.000000Z' WHERE id = 'CO-1'",
    );
    let before = entries(&home);
    let out = home.run("suzuki", ["carryout", "out", "CO-1"]);
    assert_refused_as_tampering(
        &home,
        &out,
        before,
        "requests CO-1: status is \"approved\" in the table but \"pending\" by the ledger",
    );
    let out = verify(&home, &[]).expect_code(1);
    assert!(
        out.stderr.contains("requests CO-1: status is \"approved\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_clerk_made_manager_in_the_table_cannot_approve() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    carryout(&home, "ito");
    // The table and the config.toml mirror both say manager.
    home.sql("UPDATE people SET role = 'manager' WHERE name = 'suzuki'");
    let config = home.home.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        "name = \"suzuki\"\nrole = \"clerk\"",
        "name = \"suzuki\"\nrole = \"manager\"",
    );
    std::fs::write(&config, text).unwrap();
    let before = entries(&home);
    let out = home.run("suzuki", ["approve", "CO-1"]);
    assert_refused_as_tampering(
        &home,
        &out,
        before,
        "people suzuki: role is \"manager\" in the table but \"clerk\" by the ledger",
    );
    let out = verify(&home, &[]).expect_code(1);
    assert!(out.stderr.contains("people suzuki"), "{}", out.stderr);
}

#[test]
fn a_due_date_moved_in_the_table_allows_no_early_disposal() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    let file = home.path("members-2026.csv");
    std::fs::write(&file, "1,山田\n").unwrap();
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
    let request = home
        .run(
            "suzuki",
            ["retain", "dispose", "RT-1", "--request", "--json"],
        )
        .ok()
        .json();
    let request = request["id"].as_str().unwrap().to_string();
    home.run("tanaka", ["approve", &request]).ok();
    home.sql("UPDATE retained SET due = '2000-01-01' WHERE id = 'RT-1'");
    let before = entries(&home);
    let out = home.run("suzuki", ["retain", "dispose", "RT-1"]);
    assert_refused_as_tampering(&home, &out, before, "retained RT-1: due is \"2000-01-01\"");
    assert!(file.exists(), "the file was shredded");
    // Pointing the registered file at another one is refused the same way.
    home.sql("UPDATE retained SET due = (SELECT due FROM retained WHERE id = 'RT-1')");
    let out = verify(&home, &[]).expect_code(1);
    assert!(out.stderr.contains("retained RT-1: due"), "{}", out.stderr);
}

#[test]
fn a_payload_erased_without_an_erasure_entry_fails_verify() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    home.run("suzuki", ["note", "個人データ"]).ok();
    let seq = home.sql("SELECT seq FROM entries WHERE kind = 'note'");
    let seq = seq.trim();
    // The trigger allows erasure itself; nothing recorded asked for this one.
    home.sql(&format!(
        "UPDATE payloads SET salt = NULL, body = NULL, erased = '2026-12-02T00:00:00.000000Z' \
         WHERE seq = {seq}"
    ));
    let out = verify(&home, &[]).expect_code(1);
    assert!(
        out.stderr.contains(&format!("at entry {seq}:"))
            && out.stderr.contains("no erasure entry names it"),
        "{}",
        out.stderr
    );
}

#[test]
fn another_station_key_or_a_whole_other_home_is_caught() {
    if !(tools() && require_tool("minisign") && custody_tests::require_sqlite()) {
        return;
    }
    let home = Home::with_people();
    home.run("suzuki", ["note", "a"]).ok();
    let own_public = home.path("station.pub");
    std::fs::copy(home.home.join("keys/station.pub"), &own_public).unwrap();
    verify(&home, &["--station-key", own_public.to_str().unwrap()]).ok();

    // The key pair replaced by another and every checkpoint re-signed with it.
    let other = Home::new("sato");
    for name in ["station.key", "station.pub"] {
        std::fs::copy(
            other.home.join("keys").join(name),
            home.home.join("keys").join(name),
        )
        .unwrap();
    }
    home.sql(DROP_TRIGGERS);
    let rows = home.sql("SELECT c.size || '|' || c.head || '|' || c.at || '|' || e.station FROM checkpoints c JOIN entries e ON e.seq = c.size");
    for row in rows.lines() {
        let parts: Vec<&str> = row.split('|').collect();
        let message = format!(
            "custody-checkpoint/v1\nstation: {}\nsize: {}\nhead: {}\nat: {}\n",
            parts[3], parts[0], parts[1], parts[2]
        );
        let msg = home.path("msg");
        std::fs::write(&msg, message).unwrap();
        let sig = home.path("msg.minisig");
        let _ = std::fs::remove_file(&sig);
        let out = Command::new("minisign")
            .args(["-S", "-s"])
            .arg(home.home.join("keys/station.key"))
            .arg("-m")
            .arg(&msg)
            .arg("-x")
            .arg(&sig)
            .args(["-t", "re-signed"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let signature = std::fs::read_to_string(&sig).unwrap().replace('\'', "''");
        home.sql(&format!(
            "UPDATE checkpoints SET signature = '{signature}' WHERE size = {}",
            parts[0]
        ));
    }
    let out = verify(&home, &[]).expect_code(1);
    assert!(
        out.stderr.contains("at entry 1:")
            && out
                .stderr
                .contains("not the one this ledger was created with"),
        "{}",
        out.stderr
    );
    let before = entries(&home);
    let out = home.run("suzuki", ["note", "b"]);
    assert_refused_as_tampering(
        &home,
        &out,
        before,
        "not the one this ledger was created with",
    );

    // A whole other data home swapped in verifies in itself; the key kept outside
    // the machine tells.
    let _ = std::fs::remove_dir_all(&home.home);
    copy_dir(&other.home, &home.home);
    verify(&home, &[]).ok();
    let out = verify(&home, &["--station-key", own_public.to_str().unwrap()]).expect_code(1);
    assert!(
        out.stderr.contains("not the key you gave"),
        "{}",
        out.stderr
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_retained_file_pointed_elsewhere_in_the_table_is_never_shredded() {
    if !tools() {
        return;
    }
    let home = Home::with_people();
    let file = home.path("old.csv");
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
            "2019-04-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    )
    .ok();
    let request: Value = home
        .run(
            "suzuki",
            ["retain", "dispose", "RT-1", "--request", "--json"],
        )
        .ok()
        .json();
    home.run("tanaka", ["approve", request["id"].as_str().unwrap()])
        .ok();
    // Another file, named in the table with its own size and hash.
    let victim = home.path("keep-me.txt");
    std::fs::write(&victim, "not personal data\n").unwrap();
    let sha = custody_tests::sh("sha256sum", &[victim.to_str().unwrap()]);
    let sha = sha.split_whitespace().next().unwrap();
    home.sql(&format!(
        "UPDATE retained_files SET path = '{}', size = 18, sha256 = '{sha}' WHERE item = 'RT-1'",
        victim.display()
    ));
    let before = entries(&home);
    let out = home.run("suzuki", ["retain", "dispose", "RT-1"]);
    assert_refused_as_tampering(&home, &out, before, "retained RT-1: files");
    assert!(victim.exists() && file.exists());
}

/// An image file of 4 KiB, as an attacker would wipe in place of a medium.
fn tiny_image(home: &Home) -> std::path::PathBuf {
    let image = home.path("tiny.img");
    std::fs::write(&image, vec![0x5A; 4096]).unwrap();
    image
}

/// A minisign key pair without a password: (secret key, public key).
fn vendor_keys(home: &Home) -> (std::path::PathBuf, std::path::PathBuf) {
    let secret = home.path("vendor.key");
    let public = home.path("vendor.pub");
    let out = Command::new("minisign")
        .args(["-G", "-W", "-f", "-p"])
        .arg(&public)
        .arg("-s")
        .arg(&secret)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (secret, public)
}

fn resign(file: &Path, secret: &Path) {
    let out = Command::new("minisign")
        .args(["-S", "-s"])
        .arg(secret)
        .arg("-m")
        .arg(file)
        .args(["-t", "re-signed"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_certificate_claiming_this_station_but_signed_by_a_trusted_key_is_invalid() {
    if !require_tool("minisign") {
        return;
    }
    let home = Home::with_people();
    let (secret, public) = vendor_keys(&home);
    home.run(
        "sato",
        [
            "keys",
            "trust",
            public.to_str().unwrap(),
            "--name",
            "Vendor K.K.",
        ],
    )
    .ok();
    let image = tiny_image(&home);
    home.run(
        "ito",
        ["wipe", image.to_str().unwrap(), "--method", "zero", "--yes"],
    )
    .ok();
    let doc = home.path("EC-1.json");
    home.run(
        "kato",
        ["cert", "export", "EC-1", "-o", doc.to_str().unwrap()],
    )
    .ok();
    home.run("kato", ["cert", "verify", doc.to_str().unwrap()])
        .ok();
    // The same document, signed by the trusted vendor key instead of the station's.
    resign(&doc, &secret);
    let out = home
        .run("kato", ["cert", "verify", doc.to_str().unwrap()])
        .expect_code(1);
    assert!(
        out.stdout.contains("FAIL issuer")
            && out.stdout.contains("claims to be this station's")
            && out.stdout.contains("INVALID")
            && !out.stdout.contains("\nVALID"),
        "{}",
        out.stdout
    );
    // A document that names the vendor, signed by it: the vendor's, never this
    // station's.
    let text = std::fs::read_to_string(&doc)
        .unwrap()
        .replace("\"station\":\"desk-1\"", "\"station\":\"Vendor K.K.\"");
    let theirs = home.path("vendor-EC-1.json");
    std::fs::write(&theirs, text).unwrap();
    resign(&theirs, &secret);
    let verdict = home
        .run(
            "kato",
            ["cert", "verify", theirs.to_str().unwrap(), "--json"],
        )
        .ok()
        .json();
    assert_eq!(verdict["valid"], true, "{verdict:#}");
    assert_eq!(verdict["issuer"], "station Vendor K.K.");
}

#[test]
fn an_image_wiped_with_a_typed_serial_or_an_unaccepted_vendor_file_is_no_proof() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "4C530001",
            "--capacity",
            "16GB",
        ],
    )
    .ok();
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            "--media",
            "MD-1",
            "--class",
            "media-data",
            "--since",
            "2019-01-01",
            "--backdate-reason",
            "stick from the old system",
        ],
    )
    .ok();
    home.run("tanaka", ["approve", "RQ-1"]).ok(); // the start in 2019
    let request: Value = home
        .run(
            "suzuki",
            ["retain", "dispose", "RT-1", "--request", "--json"],
        )
        .ok()
        .json();
    home.run("tanaka", ["approve", request["id"].as_str().unwrap()])
        .ok();
    // A 4 KiB image wiped under the medium's serial, typed by the operator.
    let image = tiny_image(&home);
    home.run(
        "ito",
        [
            "wipe",
            image.to_str().unwrap(),
            "--method",
            "zero",
            "--yes",
            "--serial",
            "4C530001",
            "--destination",
            "disposal",
        ],
    )
    .ok();
    let out = home
        .run("suzuki", ["retain", "dispose", "RT-1"])
        .expect_code(2);
    assert!(
        out.stderr.contains("EC-1: it is the wipe of an image file"),
        "{}",
        out.stderr
    );
    // Any file imported as the vendor's certificate: not proof until accepted.
    home.import_vendor_certificate("vendor.pdf", "Vendor K.K.", "4C530001", &[]);
    let out = home
        .run("suzuki", ["retain", "dispose", "RT-1"])
        .expect_code(2);
    assert!(
        out.stderr.contains("no manager has accepted"),
        "{}",
        out.stderr
    );
    // The one who received it cannot accept it; a manager who did not can.
    home.run("ito", ["cert", "sign-off", "VC-1"]).expect_code(2);
    home.run("tanaka", ["cert", "sign-off", "VC-1"]).ok();
    let done: Value = home
        .run("suzuki", ["retain", "dispose", "RT-1", "--json"])
        .ok()
        .json();
    let cert = home
        .run(
            "kato",
            [
                "cert",
                "show",
                done["certificate"].as_str().unwrap(),
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(
        cert["what"]["media"]["basis"], "vendor certificate of Vendor K.K. accepted by tanaka",
        "{cert:#}"
    );
    verify(&home, &[]).ok();
}

#[test]
fn a_lookalike_or_respelled_name_cannot_be_registered_to_approve_ones_own_request() {
    let home = Home::with_people();
    // "tanaka" with a Cyrillic а: a second manager only tanaka would control.
    let out = home
        .run(
            "tanaka",
            ["people", "add", "t\u{0430}naka", "--role", "manager"],
        )
        .expect_code(2);
    assert!(out.stderr.contains("looks the same"), "{}", out.stderr);
    // One accented name, precomposed and with a combining accent: one person.
    home.add_person("sato", "Jos\u{e9}", "clerk");
    let out = home
        .run(
            "sato",
            ["people", "add", "Jose\u{301}", "--role", "manager"],
        )
        .expect_code(2);
    assert!(out.stderr.contains("same name"), "{}", out.stderr);
    // Typing the other spelling acts as the registered person, not as a stranger.
    let out = home
        .cmd("Jose\u{301}")
        .env(
            "CUSTODY_KEY_PASSPHRASE_FILE",
            home.passphrase_file("Jos\u{e9}"),
        )
        .args(["note", "as José"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let log = home
        .run("kato", ["log", "--kind", "note", "--json"])
        .ok()
        .json();
    assert_eq!(log[0]["actor"], "Jos\u{e9}");
}

#[test]
fn retention_periods_and_their_basis_are_fixed_by_the_ledger() {
    let home = Home::with_people();
    let file = home.path("export.csv");
    std::fs::write(&file, "1,山田\n").unwrap();
    // A basis rewritten (and a period shortened) in config.toml is refused.
    let config = home.home.join("config.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "{original}\n[retention.classes.system-data]\nyears = 5\ntrigger = \"created\"\nbasis = \"internal memo: 1 year is enough\"\n"
        ),
    )
    .unwrap();
    let add = |class: &str| {
        home.run(
            "suzuki",
            ["retain", "add", file.to_str().unwrap(), "--class", class],
        )
    };
    let out = add("system-data").expect_code(2);
    assert!(
        out.stderr.contains("differently from the ledger"),
        "{}",
        out.stderr
    );
    std::fs::write(&config, &original).unwrap();
    // A custom class shorter than the data it holds is refused; a longer one is
    // recorded, and so is a lengthening.
    let out = home
        .run(
            "tanaka",
            [
                "retain",
                "class",
                "set",
                "quick",
                "--years",
                "1",
                "--basis",
                "memo",
                "--like",
                "system-data",
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("never shorter"), "{}", out.stderr);
    home.run(
        "suzuki",
        [
            "retain",
            "class",
            "set",
            "long",
            "--years",
            "9",
            "--basis",
            "x",
            "--like",
            "system-data",
        ],
    )
    .expect_code(2); // managers only
    home.run(
        "tanaka",
        [
            "retain",
            "class",
            "set",
            "payroll",
            "--years",
            "7",
            "--basis",
            "給与規程 第9条",
            "--like",
            "system-data",
        ],
    )
    .ok();
    home.run(
        "tanaka",
        [
            "retain", "class", "set", "records", "--years", "6", "--basis", "x",
        ],
    )
    .expect_code(2);
    let classes = home
        .run("kato", ["retain", "class", "list", "--json"])
        .ok()
        .json();
    let payroll = classes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "payroll")
        .unwrap();
    assert_eq!(payroll["years"], 7);
    assert_eq!(payroll["like"], "system-data");
    add("payroll").ok();
    verify(&home, &[]).ok();
}

#[test]
fn a_start_before_the_files_or_the_station_needs_a_reason_and_is_audited() {
    let home = Home::with_people();
    let file = home.path("export.csv");
    std::fs::write(&file, "1,山田\n").unwrap();
    let out = home
        .run(
            "suzuki",
            [
                "retain",
                "add",
                file.to_str().unwrap(),
                "--class",
                "system-data",
                "--since",
                "1900-01-01",
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("--backdate-reason"), "{}", out.stderr);
    assert!(
        home.run("kato", ["retain", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            file.to_str().unwrap(),
            "--class",
            "system-data",
            "--since",
            "1900-01-01",
            "--backdate-reason",
            "transcribed from the 1900 paper register",
        ],
    )
    .ok();
    let findings = home.run("kato", ["report", "audit", "--json"]).ok().json();
    let finding = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "backdated-retention")
        .unwrap_or_else(|| panic!("{findings:#}"));
    assert_eq!(finding["id"], "RT-1");
    assert!(
        finding["detail"]
            .as_str()
            .unwrap()
            .contains("transcribed from the 1900 paper register"),
        "{finding}"
    );
}
