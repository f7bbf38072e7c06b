//! Erasure certificates from `custody wipe`, through the binary: one per target,
//! verified by minisign and `custody cert verify`, citing the wipe entry, linked to the
//! media register, signed off by a manager who is not the operator.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;
use std::process::Command;

use custody_tests::{Home, require_tool};
use serde_json::Value;

fn image(home: &Home, name: &str, len: usize) -> PathBuf {
    let path = home.path(name);
    std::fs::write(&path, vec![0x5A; len]).unwrap();
    path
}

fn wipe(home: &Home, actor: &str, target: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "wipe",
        target.to_str().unwrap(),
        "--method",
        "zero",
        "--yes",
        "--json",
    ];
    args.extend_from_slice(extra);
    home.run(actor, args).ok().json()[0].clone()
}

#[test]
fn every_wipe_yields_a_certificate_that_minisign_and_cert_verify_accept() {
    let home = Home::with_people();
    let img = image(&home, "disk.img", (1 << 20) + 512);
    let result = wipe(
        &home,
        "ito",
        &img,
        &[
            "--serial",
            "SN-IMG-1",
            "--asset-tag",
            "資産-0042",
            "--destination",
            "reuse",
        ],
    );
    let cert = result["certificate"].as_str().unwrap().to_string();
    assert_eq!(cert, "EC-1");

    let file = home.path("EC-1.json");
    home.run(
        "kato",
        [
            "cert",
            "export",
            &cert,
            "--format",
            "json",
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .ok();
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["schema"], "custody.erasure-certificate/v1");
    assert_eq!(doc["certificate_id"], "EC-1");
    assert_eq!(doc["status"], "erased");
    assert_eq!(doc["organisation"], "Test Union");
    assert_eq!(doc["operator"]["name"], "ito");
    assert_eq!(doc["operator"]["role"], "it");
    assert_eq!(doc["medium"]["serial"], "SN-IMG-1");
    assert_eq!(doc["medium"]["serial_source"], "operator");
    assert_eq!(doc["medium"]["asset_tag"], "資産-0042");
    assert_eq!(doc["medium"]["type"], "other");
    assert_eq!(doc["medium"]["size_bytes"], (1 << 20) + 512);
    assert_eq!(doc["sanitization"]["category"], "clear");
    assert_eq!(doc["sanitization"]["method"], "zero");
    assert_eq!(doc["sanitization"]["passes"].as_array().unwrap().len(), 1);
    assert_eq!(doc["sanitization"]["tool"]["name"], "custody");
    assert_eq!(doc["sanitization"]["verification"]["result"], "passed");
    assert_eq!(doc["destination"], "reuse");
    assert_eq!(doc["validator"], serde_json::json!({}));
    // It cites the wipe entry.
    assert_eq!(doc["ledger"]["seq"], result["seq"]);
    assert_eq!(doc["ledger"]["hash"], result["hash"]);

    if require_tool("minisign") {
        let ok = Command::new("minisign")
            .args(["-V", "-p"])
            .arg(home.home.join("keys/station.pub"))
            .arg("-m")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }
    let verdict = home
        .run("kato", ["cert", "verify", file.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(verdict["valid"], true, "{verdict:#}");

    let listed = home.run("kato", ["cert", "list", "--json"]).ok().json();
    let item = &listed["certificates"][0];
    assert_eq!(item["id"], "EC-1");
    assert_eq!(item["serial"], "SN-IMG-1");
    assert_eq!(item["status"], "erased");
    assert!(item["date"].as_str().unwrap().starts_with("20"));

    // The wipes report shows it.
    let csv = home
        .run(
            "kato",
            [
                "report",
                "wipes",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                "ja",
            ],
        )
        .ok();
    assert!(
        csv.stdout.contains("シリアル番号") && csv.stdout.contains("SN-IMG-1"),
        "{}",
        csv.stdout
    );
}

#[test]
fn a_registered_serial_marks_the_medium_wiped_and_links_its_certificate() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "usb", "--serial", "USB-77"],
    )
    .ok();
    let img = image(&home, "usb.img", 1 << 20);
    let result = wipe(&home, "ito", &img, &["--serial", "USB-77"]);
    assert_eq!(result["media"], "MD-1");
    let medium = home
        .run("kato", ["media", "show", "MD-1", "--json"])
        .ok()
        .json();
    assert_eq!(medium["status"], "wiped");
    assert_eq!(medium["certificate"], result["certificate"]);
    let doc = home
        .run(
            "kato",
            [
                "cert",
                "show",
                result["certificate"].as_str().unwrap(),
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(doc["medium"]["media_record"], "MD-1");

    // Its retention disposal now has its proof of erasure.
    let item = home
        .run(
            "suzuki",
            [
                "retain",
                "add",
                "--media",
                "MD-1",
                "--class",
                "media-data",
                "--since",
                "2010-01-01",
                "--backdate-reason",
                "transcribed from the paper register",
                "--json",
            ],
        )
        .ok()
        .json();
    let item = item["id"].as_str().unwrap();
    home.approve_backdates("sato");
    let rq = home
        .run("suzuki", ["retain", "dispose", item, "--request", "--json"])
        .ok()
        .json();
    home.run("sato", ["approve", rq["id"].as_str().unwrap()])
        .ok();
    // The wipe of an image file named with the medium's serial proves nothing about
    // the medium; a recorded physical destruction does.
    let out = home
        .run("suzuki", ["retain", "dispose", item])
        .expect_code(2);
    assert!(out.stderr.contains("image file"), "{}", out.stderr);
    home.run(
        "suzuki",
        [
            "retain",
            "dispose",
            item,
            "--destroyed-by",
            "ito",
            "--method",
            "drilled through",
        ],
    )
    .ok();
}

#[test]
fn serial_flags_are_checked() {
    let home = Home::with_people();
    let a = image(&home, "a.img", 1 << 20);
    let b = image(&home, "b.img", 1 << 20);
    let out = home
        .run(
            "ito",
            [
                "wipe",
                a.to_str().unwrap(),
                b.to_str().unwrap(),
                "--method",
                "zero",
                "--yes",
                "--serial",
                "X",
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("one at a time"), "{}", out.stderr);
    home.run(
        "ito",
        [
            "wipe",
            a.to_str().unwrap(),
            "--method",
            "zero",
            "--yes",
            "--destination",
            "sea",
        ],
    )
    .expect_code(2);
    assert!(
        std::fs::read(&a).unwrap().iter().all(|&x| x == 0x5A),
        "nothing was touched"
    );
}

#[test]
fn the_operator_cannot_sign_off_their_own_wipe() {
    let home = Home::with_people();
    let img = image(&home, "mgr.img", 1 << 20);
    let result = wipe(&home, "sato", &img, &[]);
    let cert = result["certificate"].as_str().unwrap();
    let out = home.run("sato", ["cert", "sign-off", cert]).expect_code(2);
    assert!(
        out.stderr.contains("you performed this work"),
        "{}",
        out.stderr
    );
    home.run(
        "tanaka",
        ["cert", "sign-off", cert, "--comment", "消去後に確認"],
    )
    .ok();
    let doc = home
        .run("kato", ["cert", "show", cert, "--json"])
        .ok()
        .json();
    assert_eq!(doc["validator"]["name"], "tanaka");
    assert_eq!(doc["validator"]["role"], "manager");
    assert_eq!(doc["validator"]["comment"], "消去後に確認");
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn the_data_home_itself_is_never_a_wipe_or_retention_target() {
    let home = Home::with_people();
    // The ledger file, or on PostgreSQL the station's config in the data home.
    let ledger = match &home.pg {
        None => home.ledger(),
        Some(_) => home.home.join("config.toml"),
    };
    let before = std::fs::read(&ledger).unwrap();
    let out = home
        .run(
            "ito",
            [
                "wipe",
                ledger.to_str().unwrap(),
                "--method",
                "zero",
                "--yes",
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("data home"), "{}", out.stderr);
    assert_eq!(std::fs::read(&ledger).unwrap(), before);
    let key = home.home.join("keys/station.key");
    home.run(
        "suzuki",
        ["retain", "add", key.to_str().unwrap(), "--class", "backup"],
    )
    .expect_code(2);
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            home.dir.path().to_str().unwrap(),
            "--class",
            "backup",
        ],
    )
    .expect_code(2);
    home.run("kato", ["ledger", "verify"]).ok();
}
