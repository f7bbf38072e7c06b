//! The registers through the binary: approvals and the two-person rule, media,
//! carry-outs, handovers, downloads, reports and the audit list.

#![allow(clippy::unwrap_used, missing_docs)]

use custody_tests::Home;

fn verify(home: &Home) {
    home.run("kato", ["ledger", "verify"]).ok();
}

fn entries(home: &Home) -> usize {
    home.run("kato", ["log", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len()
}

fn carryout(home: &Home, extra: &[&str]) -> String {
    let mut args = vec![
        "carryout",
        "new",
        "--what",
        "組合員名簿 (USB)",
        "--reason",
        "年次監査",
        "--to",
        "本部監査室",
        "--transport",
        "施錠鞄で手持ち",
        "--personal-data",
        "--records",
        "1200",
        "--json",
    ];
    // A medium leaves only after a clean virus check: every test's medium has one.
    if let Some(at) = extra.iter().position(|a| *a == "--media") {
        home.check_medium(extra[at + 1]);
    }
    args.extend_from_slice(extra);
    home.run("suzuki", args).ok().json()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn carrying_out_needs_an_approval_by_another_manager() {
    let home = Home::with_people();
    let md = home
        .run(
            "suzuki",
            [
                "media",
                "add",
                "--kind",
                "usb",
                "--serial",
                "SN-001",
                "--encrypted",
                "--json",
            ],
        )
        .ok()
        .json();
    let md = md["id"].as_str().unwrap().to_string();
    assert_eq!(md, "MD-1");
    home.approve_medium(&md);
    let co = carryout(&home, &["--return-by", "2099-01-01", "--media", &md]);
    assert_eq!(co, "CO-1");

    let before = entries(&home);
    let out = home.run("suzuki", ["carryout", "out", &co]).expect_code(2);
    assert!(out.stderr.contains("not approved"), "{}", out.stderr);
    assert_eq!(entries(&home), before, "a refusal records nothing");
    assert_eq!(home.medium_status(&md), "in-stock");

    // A clerk cannot approve; a manager cannot approve their own request.
    home.run("suzuki", ["approve", &co]).expect_code(2);
    let own = home
        .run(
            "tanaka",
            [
                "download",
                "new",
                "--content",
                "x",
                "--system",
                "y",
                "--json",
            ],
        )
        .ok()
        .json();
    let own = own["id"].as_str().unwrap();
    let out = home.run("tanaka", ["approve", own]).expect_code(2);
    assert!(out.stderr.contains("two-person rule"), "{}", out.stderr);

    let approved = home
        .run(
            "tanaka",
            [
                "carryout",
                "approve",
                &co,
                "--comment",
                "施錠を確認",
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], "tanaka");
    home.run("sato", ["approve", &co]).expect_code(2); // already decided

    let shown = home
        .run("suzuki", ["carryout", "out", &co, "--json"])
        .ok()
        .json();
    assert_eq!(shown["state"], "out");
    assert_eq!(
        shown["encrypted"], "yes: encrypted medium MD-1",
        "taken from the medium, not typed"
    );
    assert_eq!(home.medium_status(&md), "out");
    home.run("suzuki", ["carryout", "out", &co]).expect_code(2); // not twice

    let back = home
        .run(
            "suzuki",
            [
                "carryout",
                "return",
                &co,
                "--condition",
                "異常なし",
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(back["state"], "returned");
    assert_eq!(home.medium_status(&md), "in-stock");

    let history = home
        .run("kato", ["media", "show", &md, "--json"])
        .ok()
        .json();
    let kinds: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "media-add",
            "approve",
            "media-check",
            "carryout-request",
            "approve",
            "carryout-out",
            "carryout-return"
        ]
    );
    verify(&home);
}

#[test]
fn an_overdue_carryout_shows_until_it_is_returned() {
    let home = Home::with_people();
    // A deadline in the past is refused when filing; the auditor reads the register
    // in June 2098, when the first is late.
    let late = carryout(&home, &["--return-by", "2098-04-01T17:00:00+09:00"]);
    let on_time = carryout(&home, &["--return-by", "2099-04-01"]);
    let in_june_2098 = |args: &[&str]| {
        let out = home
            .cmd("kato")
            .env("CUSTODY_TEST_NOW", "2098-06-01T00:00:00Z")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    for id in [&late, &on_time] {
        home.run(
            "sato",
            ["approve", id, "--accept-unencrypted", "手渡しで即日返却"],
        )
        .ok();
        home.run("suzuki", ["carryout", "out", id]).ok();
    }
    let overdue = in_june_2098(&["carryout", "list", "--overdue", "--json"]);
    let ids: Vec<&str> = overdue
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [late.as_str()]);
    assert_eq!(overdue[0]["return_by"], "2098-04-01T08:00:00.000000Z");
    let audit = in_june_2098(&["report", "audit", "--json"]);
    assert!(
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "overdue-carryout" && f["id"] == late.as_str())
    );
    // Personal data without a linked transfer or encrypted medium is flagged.
    assert!(
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "unencrypted-carryout")
    );

    home.run("suzuki", ["carryout", "return", &late]).ok();
    let overdue = in_june_2098(&["carryout", "list", "--overdue", "--json"]);
    assert!(overdue.as_array().unwrap().is_empty());
    let open = home
        .run("kato", ["carryout", "list", "--open", "--json"])
        .ok()
        .json();
    assert_eq!(open.as_array().unwrap().len(), 1);
    verify(&home);
}

#[test]
fn a_rejected_carryout_cannot_leave() {
    let home = Home::with_people();
    let co = carryout(&home, &["--return-by", "2099-01-01"]);
    home.run("sato", ["reject", &co]).expect_code(2); // a reason is required
    home.run("sato", ["reject", &co, "--reason", "暗号化されていない"])
        .ok();
    let out = home.run("suzuki", ["carryout", "out", &co]).expect_code(2);
    assert!(
        out.stderr.contains("rejected") && out.stderr.contains("暗号化されていない"),
        "{}",
        out.stderr
    );
    let pending = home
        .run("kato", ["requests", "--pending", "--json"])
        .ok()
        .json();
    assert!(pending.as_array().unwrap().is_empty());
}

#[test]
fn a_handover_is_recorded_and_confirmed() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media", "add", "--kind", "hdd", "--serial", "WD-77", "--label", "backup-3",
        ],
    )
    .ok();
    home.approve_medium("MD-1");
    let ho = home
        .run(
            "suzuki",
            [
                "handover",
                "new",
                "--media",
                "MD-1",
                "--direction",
                "send",
                "--counterparty",
                "株式会社データ保守",
                "--purpose",
                "故障解析",
                "--method",
                "書留",
                "--json",
            ],
        )
        .ok()
        .json();
    let ho = ho["id"].as_str().unwrap().to_string();
    assert_eq!(home.medium_status("MD-1"), "out");
    let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert!(
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "unconfirmed-handover" && f["id"] == ho.as_str())
    );

    let confirmed = home
        .run(
            "suzuki",
            [
                "handover",
                "confirm",
                &ho,
                "--by",
                "山田 (株式会社データ保守)",
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(confirmed["confirmed_by"], "山田 (株式会社データ保守)");
    home.run("suzuki", ["handover", "confirm", &ho, "--by", "again"])
        .expect_code(2);
    let list = home.run("kato", ["handover", "list", "--json"]).ok().json();
    assert_eq!(list[0]["serial"], "WD-77");
    // A medium that is out cannot be handed over again.
    home.run(
        "suzuki",
        [
            "handover",
            "new",
            "--media",
            "MD-1",
            "--direction",
            "send",
            "--counterparty",
            "x",
            "--purpose",
            "y",
            "--method",
            "z",
        ],
    )
    .expect_code(2);
    verify(&home);
}

#[test]
fn a_download_is_approved_and_marked_deleted() {
    let home = Home::with_people();
    let dl = home
        .run(
            "suzuki",
            [
                "download",
                "new",
                "--content",
                "被扶養者データ 2026年度",
                "--system",
                "適用システム",
                "--json",
            ],
        )
        .ok()
        .json();
    let dl = dl["id"].as_str().unwrap().to_string();
    assert_eq!(dl, "DL-1");
    home.run("suzuki", ["download", "deleted", &dl])
        .expect_code(2); // never approved
    home.run("sato", ["approve", &dl]).ok();
    let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert!(
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "download-not-deleted")
    );
    let deleted = home
        .run("suzuki", ["download", "deleted", &dl, "--json"])
        .ok()
        .json();
    assert!(deleted["deleted_at"].as_str().unwrap().starts_with("20"));
    let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert_eq!(audit["count"], 0, "{audit}");
    verify(&home);
}

#[test]
fn requests_pending_over_a_week_are_flagged() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["download", "new", "--content", "c", "--system", "s"],
    )
    .ok();
    let now = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert_eq!(now["count"], 0);
    // Reading needs no append, so a later clock can be simulated for the audit.
    let out = home
        .cmd("kato")
        .env("CUSTODY_TEST_NOW", "2099-01-01T00:00:00Z")
        .args(["report", "audit", "--json"])
        .output()
        .unwrap();
    let later: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        later["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "pending-request" && f["id"] == "DL-1")
    );
}

#[test]
fn csv_reports_open_in_excel_with_the_forms_japanese_headers() {
    let home = Home::with_people();
    let co = carryout(&home, &["--return-by", "2099-01-01"]);
    home.run(
        "sato",
        ["approve", &co, "--accept-unencrypted", "手渡しで即日返却"],
    )
    .ok();
    home.run("suzuki", ["carryout", "out", &co]).ok();
    let file = home.path("carryouts.csv");
    home.run(
        "kato",
        [
            "report",
            "carryouts",
            "--from",
            "2000-01-01",
            "--to",
            "2099-12-31",
            "--format",
            "csv",
            "--lang",
            "ja",
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .ok();
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM first");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let header = text.lines().next().unwrap();
    for word in [
        "持出し年月日",
        "持出し先",
        "返却予定日時",
        "移送手段",
        "承認者",
    ] {
        assert!(header.contains(word), "{word} missing from {header}");
    }
    let row = text.lines().nth(1).unwrap();
    assert!(
        row.contains("組合員名簿 (USB)") && row.contains("sato") && row.contains("本部監査室"),
        "{row}"
    );
    assert_eq!(text.lines().count(), 2);

    let en = home
        .run(
            "kato",
            [
                "report",
                "carryouts",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                "en",
            ],
        )
        .ok();
    assert!(
        en.stdout.starts_with("\u{feff}ID,Requested"),
        "{}",
        en.stdout
    );
    let none = home
        .run(
            "kato",
            [
                "report",
                "carryouts",
                "--from",
                "2000-01-01",
                "--to",
                "2000-12-31",
                "--format",
                "json",
            ],
        )
        .ok();
    assert!(none.json()["rows"].as_array().unwrap().is_empty());
    for kind in ["handovers", "downloads", "media", "wipes"] {
        home.run(
            "kato",
            [
                "report",
                kind,
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--format",
                "json",
            ],
        )
        .ok();
    }
    home.run("kato", ["report", "carryouts", "--from", "2026-01-01"])
        .expect_code(2);
}

#[test]
fn media_cannot_be_registered_twice_and_retire_needs_it_or_a_manager() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "ssd", "--serial", "S-1"],
    )
    .ok();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "ssd", "--serial", "S-1"],
    )
    .expect_code(2);
    home.run("suzuki", ["media", "retire", "MD-1", "--reason", "lost"])
        .expect_code(2);
    home.run("ito", ["media", "retire", "MD-1", "--reason", "lost"])
        .ok();
    let lost = home
        .run("kato", ["media", "list", "--status", "lost", "--json"])
        .ok()
        .json();
    assert_eq!(lost.as_array().unwrap().len(), 1);
    home.run("ito", ["media", "retire", "MD-1", "--reason", "destroyed"])
        .expect_code(2);
    verify(&home);
}

/// Bug: a medium registered for approval, wiped by a vendor and received back, was
/// shown in stock (ready for use) although no manager had approved it.
#[test]
fn a_pending_medium_wiped_and_received_back_stays_pending_until_approved() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "hdd", "--serial", "WX-9"],
    )
    .ok();
    assert_eq!(home.medium_status("MD-1"), "pending");
    home.import_vendor_certificate(
        "vendor-cert.pdf",
        "株式会社データ消去",
        "WX-9",
        &["--date", "2026-11-01", "--method", "上書き消去"],
    );
    assert_eq!(home.medium_status("MD-1"), "wiped");
    home.run(
        "suzuki",
        [
            "handover",
            "new",
            "--media",
            "MD-1",
            "--direction",
            "receive",
            "--counterparty",
            "株式会社データ消去",
            "--purpose",
            "消去後の返却",
            "--method",
            "手渡し",
        ],
    )
    .ok();
    assert_eq!(home.medium_status("MD-1"), "pending");
    home.run("tanaka", ["approve", "MD-1"]).ok();
    assert_eq!(home.medium_status("MD-1"), "in-stock");
    verify(&home);
}

/// 002 art.9-3, 000 art.18-3: registering a medium is a request; until a manager
/// other than the registrant approves it, it is neither carried out nor handed over
/// (exit 2, nothing recorded), and the register shows it pending and where it is kept.
#[test]
fn an_unapproved_medium_is_neither_carried_out_nor_handed_over() {
    let home = Home::with_people();
    let added = home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "USB-NEW",
            "--location",
            "施錠キャビネットB",
            "--encrypted",
        ],
    );
    let added = added.ok();
    assert!(
        added.stderr.contains("custody approve MD-1"),
        "{}",
        added.stderr
    );
    let listed = home
        .run("kato", ["media", "list", "--lang", "ja"])
        .ok()
        .stdout;
    assert!(
        listed.contains("承認待ち") && listed.contains("施錠キャビネットB"),
        "{listed}"
    );
    let asked = home
        .run("tanaka", ["requests", "--pending", "--lang", "ja"])
        .ok()
        .stdout;
    assert!(
        asked.contains("USBメモリ（シリアル番号 USB-NEW）を使用する"),
        "{asked}"
    );
    home.check_medium("MD-1");
    // A carry-out may name it; it does not leave until the medium is approved too.
    let co = carryout(&home, &["--return-by", "2099-01-01", "--media", "MD-1"]);
    home.run("tanaka", ["approve", &co]).ok();
    let before = entries(&home);
    let refused = home.run("suzuki", ["carryout", "out", &co]).expect_code(2);
    assert!(
        refused.stderr.contains("MD-1 is not approved yet"),
        "{}",
        refused.stderr
    );
    let handover = [
        "handover",
        "new",
        "--media",
        "MD-1",
        "--direction",
        "send",
        "--counterparty",
        "株式会社保守",
        "--purpose",
        "修理",
        "--method",
        "手渡し",
    ];
    let refused = home.run("suzuki", handover).expect_code(2);
    assert!(
        refused.stderr.contains("MD-1 is not approved yet"),
        "{}",
        refused.stderr
    );
    assert_eq!(entries(&home), before, "nothing recorded");
    assert_eq!(home.medium_status("MD-1"), "pending");
    // The registrant cannot approve it; another manager can.
    home.run("suzuki", ["approve", "MD-1"]).expect_code(2);
    home.run("tanaka", ["approve", "MD-1"]).ok();
    assert_eq!(home.medium_status("MD-1"), "in-stock");
    home.run("suzuki", ["carryout", "out", &co]).ok();
    // A rejected registration is never used, and its serial may be registered anew.
    home.run(
        "suzuki",
        ["media", "add", "--kind", "usb", "--serial", "USB-BAD"],
    )
    .ok();
    home.run("tanaka", ["reject", "MD-2", "--reason", "私物のUSB"])
        .ok();
    assert_eq!(home.medium_status("MD-2"), "rejected");
    let refused = home.run(
        "suzuki",
        handover.map(|a| if a == "MD-1" { "MD-2" } else { a }),
    );
    let refused = refused.expect_code(2);
    assert!(refused.stderr.contains("rejected"), "{}", refused.stderr);
    home.run(
        "suzuki",
        ["media", "add", "--kind", "usb", "--serial", "USB-BAD"],
    )
    .ok();
    // The approval is read from the proven entries: a status set in the table is
    // tampering, not an approval.
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "USB-EDIT",
            "--encrypted",
        ],
    )
    .ok();
    home.sql("UPDATE media SET status = 'in-stock' WHERE id = 'MD-4'");
    home.sql("UPDATE requests SET status = 'approved', decided_by = 'tanaka' WHERE id = 'MD-4'");
    home.check_medium("MD-4");
    let co = carryout(&home, &["--return-by", "2099-01-01", "--media", "MD-4"]);
    home.run("tanaka", ["approve", &co]).ok();
    let refused = home.run("suzuki", ["carryout", "out", &co]).expect_code(1);
    assert!(
        refused.stderr.contains("not backed by the ledger"),
        "{}",
        refused.stderr
    );
}

/// 000 art.18-5, 004 art.11-2: a medium is destroyed only on an approved disposal
/// request and with proof — here its destruction recorded with who did it and the
/// registered person who witnessed it; each bypass is refused (exit 2, nothing
/// recorded); the register shows the approver, method, witness, section and
/// contractor, and the audit lists it until a manager signs it off afterwards.
#[test]
fn a_medium_is_destroyed_only_with_an_approved_request_and_a_witness() {
    let home = Home::with_people();
    home.run(
        "sato",
        [
            "people",
            "add",
            "yamada",
            "--role",
            "it",
            "--department",
            "情報システム課",
        ],
    )
    .ok();
    home.enroll("sato", "yamada");
    home.run(
        "suzuki",
        ["media", "add", "--kind", "hdd", "--serial", "HD-OLD"],
    )
    .ok();
    let destroy = [
        "media",
        "retire",
        "MD-1",
        "--reason",
        "destroyed",
        "--method",
        "穿孔",
        "--witness",
        "kato",
        "--contractor",
        "株式会社破砕",
    ];
    let before = entries(&home);
    // No request.
    let refused = home.run("yamada", destroy).expect_code(2);
    assert!(
        refused.stderr.contains("no disposal request"),
        "{}",
        refused.stderr
    );
    home.run(
        "yamada",
        [
            "media",
            "retire",
            "MD-1",
            "--reason",
            "destroyed",
            "--request",
        ],
    )
    .ok();
    assert_eq!(entries(&home), before + 1, "only the request");
    // Not approved yet; a second request while one is open is refused.
    home.run("yamada", destroy).expect_code(2);
    home.run(
        "yamada",
        [
            "media",
            "retire",
            "MD-1",
            "--reason",
            "destroyed",
            "--request",
        ],
    )
    .expect_code(2);
    home.run("tanaka", ["approve", "RQ-1"]).ok();
    let before = entries(&home);
    // Approved, but no proof: no certificate for its serial and no destruction.
    let refused = home
        .run(
            "yamada",
            ["media", "retire", "MD-1", "--reason", "destroyed"],
        )
        .expect_code(2);
    assert!(refused.stderr.contains("HD-OLD"), "{}", refused.stderr);
    // A witness who is not registered, or who did it, is no witness.
    let mut nobody = destroy;
    nobody[8] = "someone";
    home.run("yamada", nobody).expect_code(2);
    let mut self_witness = destroy;
    self_witness[8] = "yamada";
    home.run("yamada", self_witness).expect_code(2);
    assert_eq!(entries(&home), before, "nothing recorded");
    assert_eq!(home.medium_status("MD-1"), "pending");
    home.run("yamada", destroy).ok();
    assert_eq!(home.medium_status("MD-1"), "destroyed");
    // The approval is used.
    let rq = home.run("kato", ["requests", "--json"]).ok().json();
    let rq = rq
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "RQ-1")
        .unwrap()
        .clone();
    assert_eq!(rq["used_by"], "MD-1");

    let register = |home: &Home| {
        home.run(
            "kato",
            [
                "report",
                "disposals",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                "ja",
            ],
        )
        .ok()
        .stdout
    };
    let csv = register(&home);
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "処分物,シリアル番号,処分年月日,処分方法,承認者,実施者,確認者,証明書番号,所管課室,委託先"
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("MD-1,HD-OLD,"), "{csv}");
    assert!(
        row.ends_with(",穿孔 (witness kato),tanaka,yamada,,,情報システム課,株式会社破砕"),
        "{csv}"
    );
    let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert!(
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "unchecked-disposal" && f["id"] == "MD-1"),
        "{audit}"
    );
    // The manager's check afterwards: not by whoever did it, once.
    home.run("yamada", ["media", "sign-off", "MD-1"])
        .expect_code(2);
    home.run("sato", ["media", "sign-off", "MD-1"]).ok();
    home.run("tanaka", ["media", "sign-off", "MD-1"])
        .expect_code(2);
    assert!(register(&home).contains(",tanaka,yamada,sato,,情報システム課,"));
    let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert!(
        !audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "MD-1"),
        "{audit}"
    );
    verify(&home);
}

/// 004 art.27: a carry-out lost while out is closed as lost, its medium with it, and
/// an incident naming both is opened in the same step; a lost carry-out cannot be
/// returned, nor a carry-out that never left be lost (exit 2, nothing recorded).
#[test]
fn a_carryout_closed_as_lost_opens_an_incident_and_loses_its_medium() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "USB-GONE",
            "--encrypted",
        ],
    )
    .ok();
    home.approve_medium("MD-1");
    let co = carryout(&home, &["--return-by", "2099-01-01", "--media", "MD-1"]);
    home.run("tanaka", ["approve", &co]).ok();
    let before = entries(&home);
    home.run(
        "suzuki",
        ["carryout", "lost", &co, "--what", "電車内で鞄ごと紛失"],
    )
    .expect_code(2);
    assert_eq!(entries(&home), before, "never left: nothing recorded");
    home.run("suzuki", ["carryout", "out", &co]).ok();
    let lost = home.run(
        "suzuki",
        [
            "carryout",
            "lost",
            &co,
            "--what",
            "電車内で鞄ごと紛失",
            "--json",
        ],
    );
    let lost = lost.ok().json();
    assert_eq!(lost["carryout"]["state"], "lost");
    let incident = lost["incident"].as_str().unwrap().to_owned();
    assert_eq!(home.medium_status("MD-1"), "lost");
    let incidents = home.run("kato", ["incident", "list", "--json"]).ok().json();
    let opened = incidents
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == incident.as_str())
        .unwrap()
        .clone();
    assert!(
        opened["what"]
            .as_str()
            .unwrap()
            .contains("電車内で鞄ごと紛失"),
        "{opened}"
    );
    let records = opened["records"].to_string();
    assert!(
        records.contains(&co) && records.contains("MD-1"),
        "{opened}"
    );
    let before = entries(&home);
    home.run("suzuki", ["carryout", "return", &co])
        .expect_code(2);
    home.run("suzuki", ["carryout", "lost", &co, "--what", "again"])
        .expect_code(2);
    assert_eq!(entries(&home), before);
    // Not overdue: it is closed, and the Japanese register says 紛失.
    let overdue = home
        .run("kato", ["carryout", "list", "--overdue", "--json"])
        .ok()
        .json();
    assert!(overdue.as_array().unwrap().is_empty());
    let csv = home
        .run(
            "kato",
            [
                "report",
                "carryouts",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                "ja",
            ],
        )
        .ok()
        .stdout;
    assert!(csv.contains("紛失"), "{csv}");
    verify(&home);
}

/// 004 art.9-2: carry-outs, downloads and retained items may name the registered file
/// of personal data they concern; the file's page lists them; an unknown file is
/// refused (exit 2).
#[test]
fn records_name_the_file_of_personal_data_they_concern() {
    let home = Home::with_people();
    home.run(
        "sato",
        [
            "files",
            "add",
            "--name",
            "個人番号管理ファイル",
            "--department",
            "保険課",
            "--purpose",
            "組合員資格の得喪に関する事務",
        ],
    )
    .ok();
    home.run(
        "suzuki",
        [
            "download",
            "new",
            "--content",
            "被扶養者一覧",
            "--system",
            "資格管理システム",
            "--file",
            "FL-9",
        ],
    )
    .expect_code(2);
    home.run(
        "suzuki",
        [
            "download",
            "new",
            "--content",
            "被扶養者一覧",
            "--system",
            "資格管理システム",
            "--file",
            "FL-1",
        ],
    )
    .ok();
    let co = carryout(&home, &["--return-by", "2099-01-01", "--file", "FL-1"]);
    let file = home.path("list.csv");
    std::fs::write(&file, "番号,氏名\n").unwrap();
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            file.to_str().unwrap(),
            "--class",
            "my-number",
            "--file",
            "FL-1",
        ],
    )
    .ok();
    let shown = home
        .run("kato", ["files", "show", "FL-1", "--json"])
        .ok()
        .json();
    assert_eq!(
        shown["records"],
        serde_json::json!(["DL-1", co.as_str(), "RT-1"])
    );
    let text = home
        .run("kato", ["files", "show", "FL-1", "--lang", "ja"])
        .ok()
        .stdout;
    assert!(
        text.contains("このファイルを指定した記録") && text.contains("DL-1"),
        "{text}"
    );
    let co_json = home
        .run("kato", ["carryout", "show", &co, "--json"])
        .ok()
        .json();
    assert_eq!(co_json["personal_file"], "FL-1");
    verify(&home);
}

/// Imports a vendor's certificate for `serial` as ito and has tanaka accept it;
/// returns its id.
fn accepted_vendor_certificate(home: &Home, serial: &str, name: &str) -> String {
    let id = home.import_vendor_certificate(name, "株式会社データ消去", serial, &[]);
    home.run("tanaka", ["cert", "sign-off", &id]).ok();
    id
}

/// The bug: any erasure or vendor certificate for the serial proved a medium's
/// disposal, even one from before the medium was carried out with data again.
#[test]
fn a_certificate_from_before_the_medium_was_used_again_proved_its_disposal() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "hdd",
            "--serial",
            "HD-REUSE",
            "--encrypted",
        ],
    )
    .ok();
    home.approve_medium("MD-1");
    // To a vendor who wipes it, and back for reuse.
    let handover = |direction: &str| {
        home.run(
            "suzuki",
            [
                "handover",
                "new",
                "--media",
                "MD-1",
                "--direction",
                direction,
                "--counterparty",
                "株式会社データ消去",
                "--purpose",
                "消去",
                "--method",
                "手渡し",
            ],
        )
        .ok();
    };
    handover("send");
    let old = accepted_vendor_certificate(&home, "HD-REUSE", "old.pdf");
    assert_eq!(home.medium_status("MD-1"), "wiped");
    handover("receive");
    assert_eq!(home.medium_status("MD-1"), "in-stock");
    // Used again after that certificate: out and back with data.
    let co = carryout(&home, &["--return-by", "2099-01-01", "--media", "MD-1"]);
    home.run("tanaka", ["approve", &co]).ok();
    home.run("suzuki", ["carryout", "out", &co]).ok();
    home.run("suzuki", ["carryout", "return", &co]).ok();
    home.run(
        "ito",
        ["media", "retire", "MD-1", "--reason", "wiped", "--request"],
    )
    .ok();
    home.run("tanaka", ["approve", "RQ-1"]).ok();
    let before = entries(&home);
    let refused = home
        .run("ito", ["media", "retire", "MD-1", "--reason", "wiped"])
        .expect_code(2);
    assert!(refused.stderr.contains("HD-REUSE"), "{}", refused.stderr);
    assert_eq!(entries(&home), before);
    assert_eq!(home.medium_status("MD-1"), "in-stock");
    // A certificate from after its last use proves it.
    let new = accepted_vendor_certificate(&home, "HD-REUSE", "new.pdf");
    assert_ne!(old, new);
    home.run("ito", ["media", "retire", "MD-1", "--reason", "wiped"])
        .ok();
    assert_eq!(home.medium_status("MD-1"), "wiped");
    verify(&home);
}

/// Issue 18, item 4: a medium that held data of the My Number systems leaves only
/// physically destroyed, after a wipe: retiring it as wiped or returned is refused,
/// and so is a witnessed destruction with no certificate of a wipe since its last use.
#[test]
fn a_my_number_medium_leaves_only_destroyed_after_a_wipe() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "hdd",
            "--serial",
            "MN-1",
            "--holds",
            "my-number",
        ],
    )
    .ok();
    let shown = home
        .run("kato", ["media", "show", "MD-1", "--lang", "ja"])
        .ok()
        .stdout;
    assert!(shown.contains("マイナンバー利用事務系の情報"), "{shown}");
    home.run(
        "ito",
        [
            "media",
            "retire",
            "MD-1",
            "--reason",
            "destroyed",
            "--request",
        ],
    )
    .ok();
    home.run("tanaka", ["approve", "RQ-1"]).ok();
    accepted_vendor_certificate(&home, "MN-1", "wipe.pdf");
    let before = entries(&home);
    for reason in ["wiped", "returned"] {
        let refused = home
            .run("ito", ["media", "retire", "MD-1", "--reason", reason])
            .expect_code(2);
        assert!(
            refused.stderr.contains("physically destroyed"),
            "{}",
            refused.stderr
        );
    }
    // Destroyed without a witness, or with one but without photos and the witness's
    // signature (media retire): refused; media destroy closes it.
    home.run("ito", ["media", "retire", "MD-1", "--reason", "destroyed"])
        .expect_code(2);
    let bare = home
        .run(
            "ito",
            [
                "media",
                "retire",
                "MD-1",
                "--reason",
                "destroyed",
                "--method",
                "破砕",
                "--witness",
                "tanaka",
            ],
        )
        .expect_code(2);
    assert!(
        bare.stderr.contains("custody media destroy"),
        "{}",
        bare.stderr
    );
    assert_eq!(entries(&home), before, "nothing recorded");
    destroy(&home, "MD-1", "tanaka").ok();
    assert_eq!(home.medium_status("MD-1"), "destroyed");
    let log = home
        .run("kato", ["log", "--kind", "media-retire", "--json"])
        .ok()
        .json();
    let proof = &log[0]["payload"]["proof"];
    assert_eq!(proof["data_class"], "my-number", "{proof}");
    assert_eq!(proof["destruction"]["witness"], "tanaka", "{proof}");
    assert!(
        proof["erasure"]["erasure_certificate"].is_string(),
        "{proof}"
    );

    // Without a wipe since its last use, a destruction alone does not close it.
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "MN-2",
            "--holds",
            "my-number",
        ],
    )
    .ok();
    home.run(
        "ito",
        [
            "media",
            "retire",
            "MD-2",
            "--reason",
            "destroyed",
            "--request",
        ],
    )
    .ok();
    home.run("tanaka", ["approve", "RQ-2"]).ok();
    let refused = destroy(&home, "MD-2", "tanaka").expect_code(2);
    assert!(refused.stderr.contains("MN-2"), "{}", refused.stderr);
    verify(&home);
}

/// Issue 18, item 3: media handed to a disposal contractor as a batch: a handover
/// entry for each, the serial-level manifest and the day certificates are due; the
/// audit lists each serial past that day with no accepted certificate or recorded
/// destruction; the batch closes only when every serial is accounted for.
#[test]
fn a_contractor_batch_closes_only_when_every_serial_is_accounted_for() {
    let home = Home::with_people();
    for serial in ["HD-B1", "HD-B2", "HD-B3", "HD-B4", "HD-B5"] {
        home.run(
            "suzuki",
            ["media", "add", "--kind", "hdd", "--serial", serial],
        )
        .ok();
    }
    let new = [
        "disposal",
        "batch",
        "new",
        "--contractor",
        "株式会社破砕",
        "--media",
        "MD-1,MD-2,MD-3,MD-4,MD-5",
        "--due-days",
        "30",
        "--json",
    ];
    home.run("suzuki", new).expect_code(2); // managers only
    let batch = home.run("tanaka", new).ok().json();
    let batch = batch["id"].as_str().unwrap().to_owned();
    assert_eq!(batch, "BT-1");
    let handovers = home.run("kato", ["handover", "list", "--json"]).ok().json();
    let handovers = handovers.as_array().unwrap();
    assert_eq!(handovers.len(), 5);
    assert!(
        handovers
            .iter()
            .all(|h| h["counterparty"] == "株式会社破砕")
    );
    let shown = home
        .run("kato", ["disposal", "batch", "show", &batch, "--json"])
        .ok()
        .json();
    assert_eq!(shown["due_on"].as_str().unwrap().len(), 10);
    assert!(
        shown["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["accounted_by"].is_null())
    );

    // Past the due day: the audit lists both serials; the batch does not close.
    let audit_later = || {
        let out = home
            .cmd("kato")
            .env("CUSTODY_TEST_NOW", "2099-01-01T00:00:00Z")
            .args(["report", "audit", "--json"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut serials: Vec<String> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "batch-overdue")
            .map(|f| {
                f["detail"]
                    .as_str()
                    .unwrap()
                    .split_whitespace()
                    .nth(1)
                    .unwrap()
                    .to_owned()
            })
            .collect();
        serials.sort();
        serials
    };
    assert_eq!(audit_later(), ["HD-B1", "HD-B2", "HD-B3", "HD-B4", "HD-B5"]);
    let now = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert!(
        !now.to_string().contains("batch-overdue"),
        "not due yet: {now}"
    );
    let before = entries(&home);
    let refused = home
        .run("tanaka", ["disposal", "batch", "close", &batch])
        .expect_code(2);
    assert!(
        refused.stderr.contains("HD-B1") && refused.stderr.contains("HD-B2"),
        "{}",
        refused.stderr
    );
    assert_eq!(entries(&home), before);

    // The contractor's certificates for four, accepted by a manager; the fifth is
    // listed after the due day, and the batch stays open.
    for serial in ["HD-B1", "HD-B2", "HD-B3", "HD-B4"] {
        accepted_vendor_certificate(&home, serial, &format!("{serial}.pdf"));
    }
    assert_eq!(audit_later(), ["HD-B5"]);
    let refused = home
        .run("tanaka", ["disposal", "batch", "close", &batch])
        .expect_code(2);
    assert!(
        refused.stderr.contains("HD-B5") && !refused.stderr.contains("HD-B4"),
        "{}",
        refused.stderr
    );
    // An imported certificate no manager accepted accounts for nothing.
    home.import_vendor_certificate("b5.pdf", "株式会社破砕", "HD-B5", &[]);
    assert_eq!(audit_later(), ["HD-B5"]);
    home.run("tanaka", ["disposal", "batch", "close", &batch])
        .expect_code(2);
    home.run("tanaka", ["cert", "sign-off", "VC-5"]).ok();
    assert!(audit_later().is_empty());
    home.run("tanaka", ["disposal", "batch", "close", &batch])
        .ok();
    home.run("tanaka", ["disposal", "batch", "close", &batch])
        .expect_code(2);
    let list = home
        .run("kato", ["disposal", "batch", "list", "--lang", "ja"])
        .ok()
        .stdout;
    assert!(
        list.contains("株式会社破砕") && list.contains("委託先"),
        "{list}"
    );
    verify(&home);
}

/// A removed person is no witness, and a rejected medium stays rejected whatever
/// happened to it while it waited (it was wiped, say).
#[test]
fn a_removed_person_witnesses_nothing_and_a_rejected_medium_stays_rejected() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "hdd", "--serial", "HD-W"],
    )
    .ok();
    home.run(
        "ito",
        [
            "media",
            "retire",
            "MD-1",
            "--reason",
            "destroyed",
            "--request",
        ],
    )
    .ok();
    home.run("tanaka", ["approve", "RQ-1"]).ok();
    home.run("sato", ["people", "remove", "kato", "--reason", "異動"])
        .ok();
    let destroy = |witness: &str| {
        home.run(
            "ito",
            [
                "media",
                "retire",
                "MD-1",
                "--reason",
                "destroyed",
                "--method",
                "破砕",
                "--witness",
                witness,
            ],
        )
    };
    let refused = destroy("kato").expect_code(2);
    assert!(
        refused.stderr.contains("cannot witness"),
        "{}",
        refused.stderr
    );
    destroy("suzuki").ok();

    home.run(
        "suzuki",
        ["media", "add", "--kind", "usb", "--serial", "USB-R"],
    )
    .ok();
    accepted_vendor_certificate(&home, "USB-R", "usb.pdf");
    assert_eq!(home.medium_status("MD-2"), "wiped");
    home.run("tanaka", ["reject", "MD-2", "--reason", "私物"])
        .ok();
    assert_eq!(home.medium_status("MD-2"), "rejected");
    verify(&home);
}

/// The bug: a value a clerk typed that begins with `=` or `@` ran as a formula when
/// the register was opened in Excel; it now opens as text. With it: the registers
/// carry the seeds' own titles and column names (002 art.5-(1), 6-2, 8, 9-2), and
/// `--era` writes dates as the paper forms do (令和…).
#[test]
fn a_formula_typed_by_a_clerk_ran_when_the_register_was_opened_in_excel() {
    let home = Home::with_people();
    let co = home
        .run(
            "suzuki",
            [
                "carryout",
                "new",
                "--what",
                "=HYPERLINK(\"http://example.invalid\",\"開く\")",
                "--reason",
                "@SUM(A1)",
                "--to",
                "本部監査室",
                "--transport",
                "施錠鞄で手持ち",
                "--return-by",
                "2099-01-01",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = |kind: &str, extra: &[&str]| {
        let mut args = vec![
            "report",
            kind,
            "--from",
            "2000-01-01",
            "--to",
            "2099-12-31",
            "--lang",
            "ja",
        ];
        args.extend_from_slice(extra);
        home.run("kato", args).ok()
    };
    // Column names, in the order the seed names them, and the form's title.
    for (kind, title, words) in [
        (
            "carryouts",
            "個人情報等取扱記録台帳",
            &["対象物", "持出し先", "持出し年月日"][..],
        ),
        (
            "downloads",
            "個人データダウンロード等管理簿",
            &["実施年月日", "対象データの内容", "業務処理システム名"],
        ),
        ("people", "ID管理簿", &["システムの種類", "使用者ID"]),
        ("handovers", "情報記録媒体授受簿", &[]),
    ] {
        let csv = report(kind, &[]).stdout;
        let header: Vec<&str> = csv
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap()
            .split(',')
            .collect();
        let places: Vec<usize> = words
            .iter()
            .map(|w| {
                header
                    .iter()
                    .position(|h| h == w)
                    .unwrap_or_else(|| panic!("{w} not among {header:?}"))
            })
            .collect();
        assert!(places.windows(2).all(|p| p[0] < p[1]), "{kind}: {header:?}");
        let json = report(kind, &["--format", "json"]).json();
        assert_eq!(json["title"], title);
    }
    // A formula-looking value is text in the CSV, and as typed everywhere else.
    let csv = report("carryouts", &[]).stdout;
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.contains("\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"開く\"\")\""),
        "{row}"
    );
    assert!(row.contains(",'@SUM(A1),"), "{row}");
    let shown = home.run("kato", ["carryout", "show", &co, "--json"]).ok();
    assert_eq!(
        shown.json()["what"],
        "=HYPERLINK(\"http://example.invalid\",\"開く\")"
    );
    // --era: 令和 dates; without it, ISO dates.
    let era = report("carryouts", &["--era"]).stdout;
    let row = era.lines().nth(1).unwrap();
    assert!(row.contains("令和") && !row.contains(",20"), "{row}");
    assert!(csv.lines().nth(1).unwrap().contains(",20"), "{csv}");
}

/// 003 別紙1: an input, a paper disposal or a deletion of My Number data is recorded
/// with who did it, and checked by another person under their own key; the one who
/// did it cannot check it, nothing is checked twice, the audit lists what is not yet
/// checked, and the register has the form's columns.
#[test]
fn operations_are_recorded_and_checked_by_another_person() {
    let home = Home::with_people();
    let op = home
        .run(
            "suzuki",
            [
                "operation",
                "new",
                "--kind",
                "input",
                "--content",
                "資格取得届の個人番号を入力（桁チェック・読合せ済）",
                "--count",
                "12",
                "--system",
                "個人番号管理システム",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(op, "OP-1");
    // A day still to come is refused; an auditor records nothing.
    home.run(
        "suzuki",
        [
            "operation",
            "new",
            "--kind",
            "deletion",
            "--content",
            "x",
            "--on",
            "2099-01-01",
        ],
    )
    .expect_code(2);
    home.run(
        "kato",
        ["operation", "new", "--kind", "input", "--content", "x"],
    )
    .expect_code(2);
    let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert!(
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "unchecked-operation" && f["id"] == "OP-1"),
        "{audit}"
    );
    // The one who did it cannot check it; nothing is recorded by the refusal.
    let before = home.run("kato", ["log", "--json"]).ok().json();
    let refused = home
        .run("suzuki", ["operation", "check", &op])
        .expect_code(2);
    assert!(
        refused.stderr.contains("checked by another person"),
        "{}",
        refused.stderr
    );
    let after = home.run("kato", ["log", "--json"]).ok().json();
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len()
    );
    // Another person checks it, once.
    let checked = home
        .run("tanaka", ["operation", "check", &op, "--json"])
        .ok()
        .json();
    assert_eq!(checked["checked_by"], "tanaka");
    home.run("sato", ["operation", "check", &op]).expect_code(2);
    let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert!(
        !audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "unchecked-operation"),
        "{audit}"
    );
    // The register in the form's shape.
    let csv = home
        .run(
            "kato",
            [
                "report",
                "operations",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                "ja",
            ],
        )
        .ok()
        .stdout;
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "管理番号,実施年月日,区分,内容,件数,情報システム,実施者,確認者,確認日時"
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("OP-1,")
            && row.contains(",入力,")
            && row.contains(",12,個人番号管理システム,suzuki,tanaka,"),
        "{row}"
    );
    let json = home
        .run(
            "kato",
            [
                "report",
                "operations",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--format",
                "json",
            ],
        )
        .ok()
        .json();
    assert_eq!(json["title"], "特定個人情報等の運用状況記録票");
    // The ledger backs the table: an edited check is caught.
    home.run("kato", ["ledger", "verify"]).ok();
    if custody_tests::require_tool("sqlite3") {
        home.sql("UPDATE operations SET checked_by = 'suzuki' WHERE id = 'OP-1';");
        home.run("kato", ["ledger", "verify"]).expect_code(1);
    }
}

/// 004 arts.27-28: whoever finds a leak, a loss or a breach reports it at once (IN-n)
/// naming the records concerned; the manager records its cause, measures, their
/// effect and when the Commission and the people were told; a medium retired as lost
/// opens an incident by itself; the register has the form's columns.
#[test]
fn incidents_are_reported_handled_and_opened_by_a_lost_medium() {
    let home = Home::with_people();
    for serial in ["SN-I1", "SN-I2"] {
        home.run(
            "suzuki",
            ["media", "add", "--kind", "usb", "--serial", serial],
        )
        .ok();
    }
    let new = |actor: &str, extra: &[&str]| {
        let mut args = vec![
            "incident",
            "new",
            "--what",
            "送付先を誤ったメールに組合員名簿を添付（暗号化済）",
            "--record",
            "MD-1",
            "--told",
            "保護責任者 佐藤",
        ];
        args.extend_from_slice(extra);
        home.run(actor, args)
    };
    new("kato", &[]).expect_code(2);
    new("suzuki", &["--record", "MD-99"]).expect_code(2);
    new("suzuki", &["--found", "2099-01-01"]).expect_code(2);
    let id = new("suzuki", &["--json"]).ok().json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id, "IN-1");
    // Only a manager records the handling, and an update says something.
    home.run("suzuki", ["incident", "update", &id, "--cause", "x"])
        .expect_code(2);
    home.run("tanaka", ["incident", "update", &id])
        .expect_code(2);
    home.run(
        "tanaka",
        [
            "incident",
            "update",
            &id,
            "--cause",
            "宛先の自動補完",
            "--measures",
            "自動補完を無効にし、送付前に二人で宛先を確認",
            "--commission",
            "2026-01-05",
        ],
    )
    .ok();
    let updated = home
        .run(
            "tanaka",
            [
                "incident",
                "update",
                &id,
                "--effect",
                "以後の誤送付なし",
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(
        updated["cause"], "宛先の自動補完",
        "an update keeps what it leaves out"
    );
    assert_eq!(updated["effect"], "以後の誤送付なし");
    assert_eq!(updated["commission_on"], "2026-01-05");
    // A lost medium opens its own incident.
    let lost = home
        .run("ito", ["media", "retire", "MD-2", "--reason", "lost"])
        .ok();
    assert!(lost.stderr.contains("IN-2"), "{}", lost.stderr);
    let list = home.run("kato", ["incident", "list", "--json"]).ok().json();
    assert_eq!(list[1]["records"], "MD-2");
    assert!(
        list[1]["what"].as_str().unwrap().contains("SN-I2"),
        "{list}"
    );
    // The register in the form's shape; the ledger backs it.
    let csv = home
        .run(
            "kato",
            [
                "report",
                "incidents",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                "ja",
            ],
        )
        .ok()
        .stdout;
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "管理番号,把握日,事案の内容,関係する記録,報告者,報告日時,報告先,原因,再発防止措置,効果の確認,個人情報保護委員会への報告日,本人への通知日"
    );
    assert!(lines.next().unwrap().contains(",宛先の自動補完,"), "{csv}");
    home.run("kato", ["ledger", "verify"]).ok();
}

/// 004 art.9-2: the manager keeps the register of files of personal data with the
/// nine things the article lists (and the retention period); a clerk cannot, a file
/// without its name, section or purpose is refused, an update changes only what it
/// gives, and the report has the article's columns in its order.
#[test]
fn the_register_of_files_has_the_articles_nine_entries() {
    let home = Home::with_people();
    let add = |actor: &str, extra: &[&str]| {
        let mut args = vec![
            "files",
            "add",
            "--name",
            "個人番号管理ファイル",
            "--department",
            "保険課",
        ];
        args.extend_from_slice(extra);
        home.run(actor, args)
    };
    add("suzuki", &["--purpose", "資格管理"]).expect_code(2);
    add("sato", &[]).expect_code(2);
    let id = add(
        "sato",
        &[
            "--purpose",
            "組合員資格の得喪に関する事務",
            "--items",
            "個人番号、氏名、生年月日",
            "--scope",
            "組合員及び被扶養者",
            "--collection",
            "本人申告",
            "--recipients",
            "地方公共団体情報システム機構",
            "--management",
            "情報システム",
            "--kind",
            "情報システム",
            "--retention",
            "資格喪失後5年",
            "--json",
        ],
    )
    .ok()
    .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id, "FL-1");
    home.run("sato", ["files", "update", &id]).expect_code(2);
    let updated = home
        .run(
            "tanaka",
            [
                "files",
                "update",
                &id,
                "--retention",
                "資格喪失後7年",
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(updated["retention"], "資格喪失後7年");
    assert_eq!(updated["items"], "個人番号、氏名、生年月日");
    let shown = home
        .cmd("kato")
        .env("LANG", "ja_JP.UTF-8")
        .args(["files", "show", &id])
        .output()
        .unwrap();
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(
        shown.contains("経常的提供先: 地方公共団体情報システム機構"),
        "{shown}"
    );
    let csv = home
        .run(
            "kato",
            [
                "report",
                "files",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                "ja",
            ],
        )
        .ok()
        .stdout;
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "管理番号,名称,所管課室,利用目的,記録項目,記録範囲,収集方法,経常的提供先,管理方法,種類,保存期間,登録日"
    );
    assert!(lines.next().unwrap().contains(",資格喪失後7年,"), "{csv}");
    home.run("kato", ["ledger", "verify"]).ok();
    if custody_tests::require_tool("sqlite3") {
        home.sql("UPDATE personal_files SET recipients = '' WHERE id = 'FL-1';");
        home.run("kato", ["ledger", "verify"]).expect_code(1);
    }
}

/// 004 art.22: the periodic review's page counts each register's records of the
/// period by the maker's section, and what needs attention now, by kind.
#[test]
fn the_summary_counts_each_register_and_what_needs_attention() {
    let home = Home::with_people();
    carryout(&home, &["--return-by", "2099-01-01"]);
    home.run(
        "suzuki",
        [
            "operation",
            "new",
            "--kind",
            "deletion",
            "--content",
            "抽出データ削除",
        ],
    )
    .ok();
    let csv = home
        .run(
            "kato",
            [
                "report",
                "summary",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--lang",
                "ja",
            ],
        )
        .ok()
        .stdout;
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "区分,項目,所管課室,件数");
    for line in [
        "台帳の件数,個人情報等取扱記録台帳（持出し）,-,1",
        "台帳の件数,特定個人情報等の運用状況記録票,-,1",
        "台帳の件数,送付簿,-,0",
        "対応が必要なもの,未確認の運用状況,-,1",
    ] {
        assert!(lines.contains(&line), "{line} not in:\n{csv}");
    }
    let json = home
        .run(
            "kato",
            [
                "report",
                "summary",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
                "--format",
                "json",
            ],
        )
        .ok()
        .json();
    assert_eq!(json["title"], "個人情報等の取扱状況の点検集計");
}

/// 002 art.9-3, 004 art.24-3: a medium leaves on a carry-out only when its latest
/// virus check found nothing; never checked, or found infected, it stays (exit 2,
/// nothing recorded), and a later clean check lets it go.
#[test]
fn a_medium_without_a_clean_virus_check_is_not_carried_out() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "SN-V",
            "--encrypted",
        ],
    )
    .ok();
    let co = home
        .run(
            "suzuki",
            [
                "carryout",
                "new",
                "--what",
                "名簿",
                "--reason",
                "監査",
                "--to",
                "本部",
                "--transport",
                "手持ち",
                "--return-by",
                "2099-01-01",
                "--media",
                "MD-1",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    home.run("sato", ["approve", &co]).ok();
    home.approve_medium("MD-1");
    let before = entries(&home);
    let out = home.run("suzuki", ["carryout", "out", &co]).expect_code(2);
    assert!(
        out.stderr.contains("no recorded virus check"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("custody media check MD-1"),
        "{}",
        out.stderr
    );
    assert_eq!(entries(&home), before, "a refusal records nothing");
    home.run(
        "suzuki",
        [
            "media",
            "check",
            "MD-1",
            "--tool",
            "ClamAV 1.4",
            "--result",
            "infected",
        ],
    )
    .ok();
    let out = home.run("suzuki", ["carryout", "out", &co]).expect_code(2);
    assert!(out.stderr.contains("found infected"), "{}", out.stderr);
    home.run(
        "suzuki",
        [
            "media",
            "check",
            "MD-1",
            "--tool",
            "ClamAV 1.4",
            "--result",
            "clean",
            "--on",
            "2099-01-01",
        ],
    )
    .expect_code(2);
    home.run(
        "suzuki",
        [
            "media",
            "check",
            "MD-1",
            "--tool",
            "ClamAV 1.4",
            "--result",
            "clean",
        ],
    )
    .ok();
    home.run("suzuki", ["carryout", "out", &co]).ok();
    assert_eq!(home.medium_status("MD-1"), "out");
    let ja = home
        .cmd("kato")
        .env("LANG", "ja_JP.UTF-8")
        .args(["log", "--kind", "media-check"])
        .output()
        .unwrap();
    let ja = String::from_utf8(ja.stdout).unwrap();
    assert!(ja.contains("ウイルスチェック"), "{ja}");
    home.run("kato", ["ledger", "verify"]).ok();
}

/// A photo of a destruction: a real JPEG (a page custody printed, rendered by
/// pdftoppm at a resolution that differs per `n`).
fn photo(home: &Home, n: u8) -> std::path::PathBuf {
    let page = home.path("page.pdf");
    if !page.exists() {
        home.run(
            "kato",
            [
                "report",
                "summary",
                "--from",
                "2026-01-01",
                "--to",
                "2026-12-31",
                "--format",
                "pdf",
                "-o",
                page.to_str().unwrap(),
            ],
        )
        .ok();
    }
    let stem = home.path(&format!("destroyed-{n}"));
    custody_tests::sh(
        "pdftoppm",
        &[
            "-jpeg",
            "-r",
            &(6 + n).to_string(),
            "-singlefile",
            page.to_str().unwrap(),
            stem.to_str().unwrap(),
        ],
    );
    home.path(&format!("destroyed-{n}.jpg"))
}

/// `custody media destroy ID` by ito, shredded by 株式会社破砕, watched by `witness`
/// who unlocks their own key, with two photos.
fn destroy(home: &Home, id: &str, witness: &str) -> custody_tests::Run {
    let (a, b) = (photo(home, 1), photo(home, 2));
    let passphrase = home.passphrase_file(witness);
    home.run(
        "ito",
        [
            "media",
            "destroy",
            id,
            "--method",
            "shred",
            "--by",
            "株式会社破砕",
            "--contractor",
            "株式会社破砕",
            "--witness",
            witness,
            "--witness-passphrase-file",
            passphrase.to_str().unwrap(),
            "--photo",
            a.to_str().unwrap(),
            "--photo",
            b.to_str().unwrap(),
            "--json",
        ],
    )
}

/// Issue 18, item 2: a physical destruction is photographed and witnessed, the
/// witness signs with their own key, and a destruction certificate names both people
/// and the photos; without a witness, a photo, or with the operator as witness it is
/// refused and nothing is recorded.
#[test]
fn a_destruction_is_photographed_and_signed_by_its_witness() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "hdd", "--serial", "HD-X1"],
    )
    .ok();
    home.run(
        "ito",
        [
            "media",
            "retire",
            "MD-1",
            "--reason",
            "destroyed",
            "--request",
        ],
    )
    .ok();
    home.run("tanaka", ["approve", "RQ-1"]).ok();
    let before = entries(&home);
    let (a, text) = (photo(&home, 1), home.path("note.txt"));
    std::fs::write(&text, "not a photo").unwrap();
    let pass = |who: &str| home.passphrase_file(who).to_str().unwrap().to_owned();
    let base = |witness: &str| {
        vec![
            "media".to_owned(),
            "destroy".into(),
            "MD-1".into(),
            "--method".into(),
            "drill".into(),
            "--by".into(),
            "ito".into(),
            "--witness".into(),
            witness.into(),
            "--witness-passphrase-file".into(),
            pass(witness),
        ]
    };
    // No witness; no photo; a file that is not a photo; the operator as witness; a
    // witness whose passphrase is wrong: refused, nothing recorded, no photo kept.
    let a_arg = a.to_str().unwrap().to_owned();
    let no_witness = [
        "media", "destroy", "MD-1", "--method", "drill", "--by", "ito", "--photo", &a_arg,
    ];
    home.run("ito", no_witness).expect_code(2);
    home.run("ito", base("tanaka")).expect_code(2);
    let mut not_photo = base("tanaka");
    not_photo.extend(["--photo".into(), text.to_str().unwrap().into()]);
    let out = home.run("ito", not_photo).expect_code(2);
    assert!(out.stderr.contains("JPEG or PNG"), "{}", out.stderr);
    let mut own = base("ito");
    own.extend(["--photo".into(), a.to_str().unwrap().into()]);
    let out = home.run("ito", own).expect_code(2);
    assert!(out.stderr.contains("witness"), "{}", out.stderr);
    let mut wrong = base("tanaka");
    wrong[10] = pass("kato");
    wrong.extend(["--photo".into(), a.to_str().unwrap().into()]);
    assert_ne!(home.run("ito", wrong).code, 0);
    assert_eq!(entries(&home), before, "nothing recorded");
    assert!(
        !home.home.join("photos").exists()
            || std::fs::read_dir(home.home.join("photos")).unwrap().count() == 0
    );

    let done = destroy(&home, "MD-1", "tanaka").ok().json();
    let cert = done["certificate"].as_str().unwrap().to_owned();
    assert!(cert.starts_with("XC-"), "{done}");
    assert_eq!(done["photos"].as_array().unwrap().len(), 2);
    assert_eq!(home.medium_status("MD-1"), "destroyed");
    // The photos are kept under their SHA-256.
    for p in done["photos"].as_array().unwrap() {
        let sha = p["sha256"].as_str().unwrap();
        let kept = home.home.join("photos").join(format!("{sha}.jpg"));
        let bytes = std::fs::read(&kept).unwrap();
        assert_eq!(
            custody_tests::sh("sha256sum", &[kept.to_str().unwrap()])
                .split(' ')
                .next(),
            Some(sha)
        );
        assert_eq!(bytes.len() as u64, p["bytes"].as_u64().unwrap());
    }
    let doc = home
        .run("kato", ["cert", "show", &cert, "--json"])
        .ok()
        .json();
    assert_eq!(doc["schema"], "custody.destruction-certificate/v1");
    assert_eq!(doc["witness"]["name"], "tanaka");
    assert_eq!(doc["destruction"]["by"], "株式会社破砕");
    assert_eq!(doc["recorded_by"]["name"], "ito");
    assert_eq!(doc["destruction"]["photos"], done["photos"]);

    // The certificate verifies with minisign against the station key, and the
    // witness's signature with minisign against their key.
    let dir = home.dir.path();
    let json = dir.join("xc.json");
    home.run(
        "kato",
        [
            "cert",
            "export",
            &cert,
            "--format",
            "json",
            "-o",
            json.to_str().unwrap(),
        ],
    )
    .ok();
    if custody_tests::require_tool("minisign") {
        let station_pub = home.home.join("keys").join("station.pub");
        let out = std::process::Command::new("minisign")
            .args([
                "-V",
                "-p",
                station_pub.to_str().unwrap(),
                "-m",
                json.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hashes: Vec<&str> = doc["destruction"]["photos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["sha256"].as_str().unwrap())
            .collect();
        let statement = format!(
            "custody-destruction/v1\nMD-1\nHD-X1\nshred\n株式会社破砕\ntanaka\n{}\n{}\n",
            doc["destruction"]["at"].as_str().unwrap(),
            hashes.join("\n")
        );
        let out = custody_tests::minisign_verifies(
            dir,
            "witness",
            &doc["witness"]["signature"],
            &statement,
        );
        assert!(out.contains("witnessed by tanaka"), "{out}");
    }
    let verdict = home
        .run("kato", ["cert", "verify", json.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(verdict["valid"], true, "{verdict:#}");
    let people = verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "people")
        .unwrap();
    assert!(
        people["detail"].as_str().unwrap().contains("tanaka"),
        "{people}"
    );
    if custody_tests::require_tool("pdftotext") {
        let pdf = dir.join("xc.pdf");
        home.run(
            "kato",
            [
                "cert",
                "export",
                &cert,
                "--format",
                "pdf",
                "--lang",
                "ja",
                "-o",
                pdf.to_str().unwrap(),
            ],
        )
        .ok();
        let text = custody_tests::sh("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
        for want in [
            "媒体破壊証明書",
            "破壊完了",
            "立会人",
            "tanaka",
            "株式会社破砕",
            "細断",
            hashes_first(&doc),
        ] {
            assert!(text.contains(want), "no {want} in\n{text}");
        }
        // The page shows both photos.
        let images = custody_tests::sh("pdfimages", &["-list", pdf.to_str().unwrap()]);
        assert_eq!(
            images.lines().filter(|l| l.contains("image")).count(),
            2,
            "{images}"
        );
    }
    // Done once.
    destroy(&home, "MD-1", "tanaka").expect_code(2);
    home.run("kato", ["ledger", "verify"]).ok();
}

fn hashes_first(doc: &serde_json::Value) -> &str {
    doc["destruction"]["photos"][0]["sha256"].as_str().unwrap()
}
