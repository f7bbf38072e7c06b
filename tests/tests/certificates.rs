//! Certificates through the binary: exported JSON verified by minisign and by
//! `custody cert verify`, tampering and untrusted keys caught, the two-person sign-off,
//! vendors' certificates kept.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::Command;

use custody_tests::{Home, require_tool};

fn minisign_ok(public: &Path, file: &Path) -> bool {
    Command::new("minisign")
        .arg("-V")
        .arg("-p")
        .arg(public)
        .arg("-m")
        .arg(file)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn an_exported_certificate_verifies_and_a_one_byte_change_fails_both_checks() {
    if !require_tool("minisign") {
        return;
    }
    let home = Home::with_people();
    let id = home.disposal_certificate("ito");
    let file = home.export_certificate(&id, "cert.json");
    let public = home.home.join("keys/station.pub");
    assert!(minisign_ok(&public, &file));
    let verdict = home
        .run("kato", ["cert", "verify", file.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["signer"], "station");
    assert!(verdict["ledger_seq"].as_i64().is_some());

    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.iter().position(|&b| b == b'1').unwrap();
    bytes[at] = b'2';
    let altered = home.path("altered.json");
    std::fs::write(&altered, &bytes).unwrap();
    std::fs::copy(
        format!("{}.minisig", file.display()),
        format!("{}.minisig", altered.display()),
    )
    .unwrap();
    assert!(
        !minisign_ok(&public, &altered),
        "minisign must reject the altered file"
    );
    let out = home
        .run("kato", ["cert", "verify", altered.to_str().unwrap()])
        .expect_code(1);
    assert!(out.stdout.contains("INVALID"), "{}", out.stdout);
    // A missing signature file is an error, not a pass.
    std::fs::remove_file(format!("{}.minisig", altered.display())).unwrap();
    home.run("kato", ["cert", "verify", altered.to_str().unwrap()])
        .expect_code(1);
}

#[test]
fn a_certificate_signed_by_an_untrusted_key_fails_until_the_key_is_trusted() {
    let home = Home::with_people();
    let other = Home::with_people_at("honbu-1");
    let id = other.disposal_certificate("ito");
    let foreign = other.path("foreign.json");
    other
        .run(
            "kato",
            ["cert", "export", &id, "-o", foreign.to_str().unwrap()],
        )
        .ok();
    let out = home
        .run("kato", ["cert", "verify", foreign.to_str().unwrap()])
        .expect_code(1);
    assert!(
        out.stdout
            .contains("neither this station's key nor a trusted one"),
        "{}",
        out.stdout
    );

    let key = other.home.join("keys/station.pub");
    home.run("suzuki", ["keys", "trust", key.to_str().unwrap()])
        .expect_code(2); // managers only
    home.run(
        "sato",
        ["keys", "trust", key.to_str().unwrap(), "--name", "honbu-1"],
    )
    .ok();
    let verdict = home
        .run(
            "kato",
            ["cert", "verify", foreign.to_str().unwrap(), "--json"],
        )
        .ok()
        .json();
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["signer"], "honbu-1");
    assert_eq!(verdict["issuer"], "station honbu-1");
    let keys = home.run("kato", ["keys", "list", "--json"]).ok().json();
    assert_eq!(keys.as_array().unwrap().len(), 2);
}

#[test]
fn the_operator_cannot_sign_off_and_another_manager_can() {
    let home = Home::with_people();
    let id = home.disposal_certificate("tanaka");
    let out = home.run("tanaka", ["cert", "sign-off", &id]).expect_code(2);
    assert!(
        out.stderr.contains("you performed this work"),
        "{}",
        out.stderr
    );
    home.run("suzuki", ["cert", "sign-off", &id]).expect_code(2); // not a manager
    let before = home.export_certificate(&id, "before.json");
    home.run(
        "sato",
        ["cert", "sign-off", &id, "--comment", "廃棄後に確認"],
    )
    .ok();
    home.run("sato", ["cert", "sign-off", &id]).expect_code(2); // once
    let after = home.export_certificate(&id, "after.json");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&after).unwrap()).unwrap();
    assert_eq!(doc["validator"]["name"], "sato");
    assert_eq!(doc["validator"]["comment"], "廃棄後に確認");
    let verdict = home
        .run(
            "kato",
            ["cert", "verify", after.to_str().unwrap(), "--json"],
        )
        .ok()
        .json();
    assert_eq!(verdict["valid"], true);
    // The earlier version stays authentic but says it was superseded.
    let old = home
        .run("kato", ["cert", "verify", before.to_str().unwrap()])
        .ok();
    assert!(old.stdout.contains("supersedes"), "{}", old.stdout);
    let log = home
        .run("kato", ["log", "--kind", "cert-sign-off", "--json"])
        .ok()
        .json();
    assert_eq!(log[0]["actor"], "sato");
    assert_eq!(log[0]["subject"], id.as_str());
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn a_vendors_certificate_is_kept_under_its_hash_and_listed() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "hdd", "--serial", "WX-123"],
    )
    .ok();
    let file = home.path("vendor-cert.pdf");
    std::fs::write(&file, b"%PDF-1.4 vendor certificate of erasure").unwrap();
    let out = home
        .run(
            "ito",
            [
                "cert",
                "import",
                file.to_str().unwrap(),
                "--vendor",
                "株式会社データ消去",
                "--serial",
                "WX-123",
                "--date",
                "2026-11-01",
                "--method",
                "磁気消去+物理破壊",
                "--json",
            ],
        )
        .ok()
        .json();
    let sha = out["sha256"].as_str().unwrap();
    let id = out["id"].as_str().unwrap();
    assert!(id.starts_with("VC-"));
    let stored = home.home.join("vendor-certificates");
    let names: Vec<String> = std::fs::read_dir(&stored)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let file_sha = {
        let out = Command::new("sha256sum").arg(&file).output().unwrap();
        String::from_utf8(out.stdout).unwrap()[..64].to_string()
    };
    assert_eq!(names, [format!("{file_sha}.pdf")]);
    let listed = home.run("kato", ["cert", "list", "--json"]).ok().json();
    let cert = &listed["certificates"][0];
    assert_eq!(cert["id"], id);
    assert_eq!(cert["serial"], "WX-123");
    assert_eq!(cert["kind"], "vendor");
    let receipt = home.export_certificate(id, "receipt.json");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    assert_eq!(doc["file"]["sha256"], file_sha);
    assert_ne!(
        sha, file_sha,
        "the receipt's own hash is not the vendor file's"
    );
    home.run("kato", ["cert", "verify", receipt.to_str().unwrap()])
        .ok();
    // The registered medium is now marked wiped, with the certificate linked.
    let medium = home
        .run("kato", ["media", "show", "MD-1", "--json"])
        .ok()
        .json();
    assert_eq!(medium["status"], "wiped");
    assert_eq!(medium["certificate"], id);
}

/// The bug: `cert verify` took whose key signed a sign-off from the `person_keys`
/// table, so a row edited there decided the people check. It reads the proven
/// entries of the registration now.
#[test]
fn cert_verify_takes_whose_key_from_the_entries_not_the_person_keys_table() {
    if !custody_tests::require_sqlite() {
        return;
    }
    let home = Home::with_people();
    let id = home.disposal_certificate("tanaka");
    home.run("sato", ["cert", "sign-off", &id]).ok();
    let signed = home.export_certificate(&id, "signed-off.json");
    // The table says sato's key is kato's: the entries say otherwise.
    home.sql(
        "DROP TRIGGER IF EXISTS person_keys_no_update; \
         UPDATE person_keys SET name = 'kato' WHERE name = 'sato'",
    );
    let verdict = home
        .run(
            "kato",
            ["cert", "verify", signed.to_str().unwrap(), "--json"],
        )
        .ok()
        .json();
    let people = verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "people")
        .unwrap()
        .clone();
    assert_eq!(people["ok"], true, "{verdict:#}");
    assert!(people.to_string().contains("sato"), "{people:#}");
}
