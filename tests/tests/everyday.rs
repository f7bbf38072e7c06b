//! Everyday rough edges found by using custody as a clerk, a manager, the IT person
//! and an auditor would: each test is named after the bug it pins.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::{Command, Stdio};

use custody_tests::{Home, Run, custody_bin};

fn carryout(home: &Home, extra: &[&str]) -> String {
    let mut args = vec![
        "carryout",
        "new",
        "--what",
        "組合員名簿",
        "--reason",
        "年次監査",
        "--to",
        "本部監査室",
        "--transport",
        "施錠鞄で手持ち",
        "--return-by",
        "2099-01-01",
        "--json",
    ];
    // A medium leaves only after a clean virus check: every test's medium has one.
    if let Some(at) = extra.iter().position(|a| *a == "--media") {
        home.approve_medium(extra[at + 1]);
        home.check_medium(extra[at + 1]);
    }
    args.extend_from_slice(extra);
    home.run("suzuki", args).ok().json()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn handover(home: &Home, direction: &str) -> Run {
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
            "株式会社データ保守",
            "--purpose",
            "故障解析",
            "--method",
            "書留",
        ],
    )
}

#[test]
fn a_medium_handed_to_a_vendor_could_still_be_carried_out() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "SN-9",
            "--encrypted",
        ],
    )
    .ok();
    // Requested while the medium was in the cabinet, then handed to a vendor.
    let co = carryout(&home, &["--media", "MD-1"]);
    handover(&home, "send").ok();
    assert_eq!(home.medium_status("MD-1"), "out");
    home.run("tanaka", ["approve", &co]).ok();

    let refused = home.run("suzuki", ["carryout", "out", &co]).expect_code(2);
    assert!(
        refused.stderr.contains("MD-1 is out") && refused.stderr.contains("carried out"),
        "{}",
        refused.stderr
    );
    assert_eq!(home.medium_status("MD-1"), "out", "still at the vendor");
    home.run("suzuki", ["carryout", "return", &co])
        .expect_code(2);
    assert_eq!(home.medium_status("MD-1"), "out");

    // Back from the vendor: now it can go, and comes back with its carry-out.
    handover(&home, "receive").ok();
    assert_eq!(home.medium_status("MD-1"), "in-stock");
    home.run("suzuki", ["carryout", "out", &co]).ok();
    assert_eq!(home.medium_status("MD-1"), "out");
    handover(&home, "send").expect_code(2);
    home.run("suzuki", ["carryout", "return", &co]).ok();
    assert_eq!(home.medium_status("MD-1"), "in-stock");
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn a_manager_approving_an_unencrypted_personal_carryout_got_no_warning() {
    let home = Home::with_people();
    let co = carryout(&home, &["--personal-data", "--records", "300"]);

    let refused = home.run("tanaka", ["approve", &co]).expect_code(2);
    assert!(
        refused.stderr.contains("warning:") && refused.stderr.contains("not encrypted"),
        "the approver sees the requester's warning: {}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("--accept-unencrypted"),
        "{}",
        refused.stderr
    );
    let pending = home.run("kato", ["requests", "--json"]).ok().json();
    assert_eq!(pending[0]["status"], "pending", "a refusal decides nothing");

    let approved = home
        .run(
            "tanaka",
            [
                "approve",
                &co,
                "--accept-unencrypted",
                "受領先に暗号化手段がなく、手渡しで即日返却",
                "--json",
            ],
        )
        .ok();
    assert!(approved.stderr.contains("warning:"), "{}", approved.stderr);
    assert_eq!(approved.json()["status"], "approved");
    let log = home
        .run("kato", ["log", "--kind", "approve", "--json"])
        .ok()
        .json();
    assert_eq!(
        log[0]["payload"]["accepted_unencrypted"],
        "受領先に暗号化手段がなく、手渡しで即日返却"
    );

    // An encrypted carry-out needs no such reason.
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "SN-1",
            "--encrypted",
        ],
    )
    .ok();
    let encrypted = carryout(&home, &["--personal-data", "--media", "MD-1"]);
    let run = home.run("tanaka", ["approve", &encrypted]).ok();
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    home.run("kato", ["ledger", "verify"]).ok();
}

/// Runs the binary as `actor` with stdout a pipe whose reading end is already closed.
fn into_closed_pipe(home: &Home, actor: &str, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = home.cmd(actor);
    let out = cmd
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    Run::from_output(out)
}

#[test]
fn a_closed_pipe_panicked_or_exited_1() {
    let home = Home::with_people();
    for args in [
        &["completions", "bash"][..],
        &["man"],
        &["ledger", "export"],
        &["log"],
        &["log", "--json"],
        &["people", "list"],
        &["report", "audit"],
        &[
            "report",
            "media",
            "--format",
            "csv",
            "--from",
            "2020-01-01",
            "--to",
            "2099-12-31",
        ],
        &["requests"],
        &["--help"],
    ] {
        let run = into_closed_pipe(&home, "kato", args);
        assert_eq!(run.code, 0, "custody {args:?}: {}", run.stderr);
        assert!(
            run.stderr.is_empty(),
            "custody {args:?} ends quietly: {}",
            run.stderr
        );
    }
    // Through a real `head`, as a person types it.
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} completions bash | head -2 >/dev/null; exit ${{PIPESTATUS[0]}}",
            custody_bin().display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn an_unknown_log_kind_returned_an_empty_table() {
    let home = Home::with_people();
    let run = home
        .run("kato", ["log", "--kind", "carryout"])
        .expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    for known in ["carryout-request", "carryout-out", "approve", "wipe"] {
        assert!(run.stderr.contains(known), "{}", run.stderr);
    }
    let known = home
        .run("kato", ["log", "--kind", "carryout-request", "--json"])
        .ok()
        .json();
    assert_eq!(known.as_array().unwrap().len(), 0);
}

#[test]
fn a_loop_backed_usb_medium_was_certified_as_magnetic() {
    if !custody_tests::require_loop(&["pdftotext"]) {
        return;
    }
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "usb", "--serial", "USB-LOOP-1"],
    )
    .ok();
    let dev = custody_tests::LoopDevice::new(1 << 20, 0x5A);
    let result = home
        .run(
            "ito",
            [
                "wipe",
                dev.arg(),
                "--method",
                "zero",
                "--serial",
                "USB-LOOP-1",
                "--yes",
                "--json",
            ],
        )
        .ok()
        .json()[0]
        .clone();
    assert_eq!(result["media"], "MD-1");
    let cert = result["certificate"].as_str().unwrap();
    let doc = home
        .run("kato", ["cert", "show", cert, "--json"])
        .ok()
        .json();
    let medium = &doc["medium"];
    assert_eq!(medium["registered_kind"], "usb", "what the register says");
    assert_eq!(medium["transport"], "loop", "what the device reported");
    assert_ne!(medium["type"], "usb");
    assert_eq!(medium["serial_source"], "operator");

    // The paper form says both, in the reader's language.
    let pdf = home.path("cert.pdf");
    home.run(
        "kato",
        [
            "cert",
            "export",
            cert,
            "--format",
            "pdf",
            "--lang",
            "ja",
            "-o",
            pdf.to_str().unwrap(),
        ],
    )
    .ok();
    let text = custody_tests::sh("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    assert!(text.contains("USBメモリ"), "{text}");
    assert!(text.contains("装置の報告"), "{text}");

    // Every serial_source value written is one the format document lists.
    let format = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/certificate-format.md"),
    )
    .unwrap();
    let row = format
        .lines()
        .find(|l| l.starts_with("| `medium.serial_source`"))
        .unwrap();
    for source in ["device", "operator", "none"] {
        assert!(row.contains(&format!("`{source}`")), "{row}");
    }
    let image = home.path("plain.img");
    std::fs::write(&image, vec![1u8; 1 << 20]).unwrap();
    let plain = home
        .run(
            "ito",
            [
                "wipe",
                image.to_str().unwrap(),
                "--method",
                "zero",
                "--yes",
                "--json",
            ],
        )
        .ok()
        .json()[0]
        .clone();
    let doc = home
        .run(
            "kato",
            [
                "cert",
                "show",
                plain["certificate"].as_str().unwrap(),
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(doc["medium"]["serial_source"], "none");
    assert_eq!(doc["medium"]["registered_kind"], serde_json::Value::Null);
}

#[test]
fn docs_said_json_reports_keep_utc_but_they_show_local_time() {
    let home = Home::with_people();
    let at = "2027-01-31T23:30:00Z";
    let run = |args: &[&str]| {
        let out = home
            .cmd("suzuki")
            .env("TZ", "JST-9")
            .env("CUSTODY_TEST_NOW", at)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["media", "add", "--kind", "usb", "--serial", "SN-T"]);
    let report: serde_json::Value = serde_json::from_str(&run(&[
        "report",
        "media",
        "--from",
        "2027-02-01",
        "--to",
        "2027-02-01",
        "--format",
        "json",
    ]))
    .unwrap();
    let row = &report["rows"][0];
    assert!(
        row.as_object()
            .unwrap()
            .values()
            .any(|v| v == "2027-02-01 08:30:00"),
        "local time in a JSON report: {row}"
    );
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/registers.md"),
    )
    .unwrap();
    assert!(!doc.contains("JSON keeps the ledger's UTC"), "docs match");
}

#[test]
fn a_date_only_deadline_showed_as_the_next_days_midnight() {
    let home = Home::with_people();
    // Read in Japan on 1 December 2026: a deadline of 5 December is that day.
    let japan = |actor: &str, args: &[&str]| {
        let out = home
            .cmd(actor)
            .env("TZ", "JST-9")
            .args(args)
            .output()
            .unwrap();
        Run::from_output(out)
    };
    let co = |return_by: &str| {
        let filed = japan(
            "suzuki",
            &[
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
                return_by,
                "--json",
            ],
        )
        .ok()
        .json();
        let id = filed["id"].as_str().unwrap();
        japan("kato", &["carryout", "show", id, "--json"])
            .ok()
            .json()
    };
    let first = co("2099/12/5");
    assert_eq!(
        first["return_by"], "2099-12-05T15:00:00.000000Z",
        "the ledger keeps UTC"
    );
    let list = japan("kato", &["carryout", "list"]).ok();
    assert!(
        list.stdout.contains("return by 2099-12-05"),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains("2099-12-06"), "{}", list.stdout);
    let show = japan("kato", &["carryout", "show", "CO-1"]).ok();
    assert!(show.stdout.contains("2099-12-05\n"), "{}", show.stdout);
    let csv = japan(
        "kato",
        &[
            "report",
            "carryouts",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
        ],
    )
    .ok();
    assert!(csv.stdout.contains(",2099-12-05,"), "{}", csv.stdout);

    // Every way of writing a day names the same one; times keep their minute.
    for (written, utc) in [
        ("2099-12-05", "2099-12-05T15:00:00.000000Z"),
        ("2099/12/5", "2099-12-05T15:00:00.000000Z"),
        ("2099/12/5 17:00", "2099-12-05T08:00:00.000000Z"),
        ("令和81年12月5日", "2099-12-05T15:00:00.000000Z"),
        ("R81.12.5", "2099-12-05T15:00:00.000000Z"),
    ] {
        assert_eq!(co(written)["return_by"], utc, "{written}");
    }
    // Times people read are to the minute, without seconds or microseconds.
    let log = japan("kato", &["log"]).ok();
    assert!(!log.stdout.contains(".000000"), "{}", log.stdout);
    assert!(
        log.stdout
            .lines()
            .filter(|l| l.contains("carryout-request"))
            .all(|l| l.contains("return_by=2099-12-05")),
        "{}",
        log.stdout
    );
}

#[test]
fn a_return_deadline_in_the_past_was_accepted() {
    let home = Home::with_people();
    for past in ["2020-04-01", "令和2年4月1日", "2020/4/1 17:00"] {
        let run = home
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
                    past,
                ],
            )
            .expect_code(2);
        assert!(run.stderr.contains("already past"), "{}", run.stderr);
    }
    let bad = home
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
                "2099-13-01",
            ],
        )
        .expect_code(2);
    assert!(bad.stderr.contains("令和8年4月1日"), "{}", bad.stderr);
    let list = home.run("kato", ["carryout", "list", "--json"]).ok().json();
    assert!(list.as_array().unwrap().is_empty(), "nothing recorded");
}

#[test]
fn the_manager_decides_with_the_facts() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "SN-42",
            "--encrypted",
        ],
    )
    .ok();
    let plain = carryout(&home, &["--personal-data", "--records", "1200"]);
    let sealed = carryout(&home, &["--personal-data", "--media", "MD-1"]);

    let pending = home.run("tanaka", ["requests", "--pending"]).ok().stdout;
    for fact in [
        "personal data: yes (1200 records)",
        "encrypted:     no",
        "to:            本部監査室",
        "return by:     2099-01-01",
        "reason:        年次監査",
        "WARNING: personal data that is not encrypted",
        "MD-1 (usb serial SN-42, encrypted, in-stock)",
        "encrypted:     yes: encrypted medium MD-1",
    ] {
        assert!(pending.contains(fact), "{fact:?} in:\n{pending}");
    }
    let json = home
        .run("tanaka", ["requests", "--pending", "--json"])
        .ok()
        .json();
    let facts = |id: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["facts"]
            .clone()
    };
    assert_eq!(facts(&plain)["personal_data"], true);
    assert_eq!(
        facts(&plain)["warnings"][0],
        "personal data that is not encrypted"
    );
    assert_eq!(facts(&sealed)["media"]["serial"], "SN-42");
    assert_eq!(facts(&sealed)["warnings"].as_array().unwrap().len(), 0);

    // The approval shows the same facts before it is recorded.
    let approved = home.run("tanaka", ["approve", &sealed]).ok();
    assert!(
        approved.stderr.contains("medium:        MD-1"),
        "{}",
        approved.stderr
    );

    // A certificate reads as a record, field by field; --json is the document.
    let image = home.path("disk.img");
    std::fs::write(&image, vec![7u8; 1 << 20]).unwrap();
    let wiped = home
        .run(
            "ito",
            [
                "wipe",
                image.to_str().unwrap(),
                "--method",
                "zero",
                "--yes",
                "--json",
            ],
        )
        .ok()
        .json();
    let cert = wiped[0]["certificate"].as_str().unwrap();
    let text = home.run("kato", ["cert", "show", cert]).ok().stdout;
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
    assert!(text.contains("sanitization.method"), "{text}");
    assert!(text.contains("operator.name"), "{text}");
    assert!(!text.contains(".000000"), "times in local minutes: {text}");
    let doc = home
        .run("kato", ["cert", "show", cert, "--json"])
        .ok()
        .json();
    assert_eq!(doc["certificate_id"], cert);
}

#[test]
fn every_subcommand_has_its_manual_page() {
    let home = Home::with_people();
    let dir = home.path("man");
    home.run("kato", ["man", "--dir", dir.to_str().unwrap()])
        .ok();
    for page in [
        "custody.1",
        "custody-wipe.1",
        "custody-send.1",
        "custody-approve.1",
        "custody-people-enroll.1",
        "custody-carryout-new.1",
        "custody-ledger-verify.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(
            text.starts_with(".ie") || text.contains(".TH"),
            "{page} is roff"
        );
    }
    assert!(
        !dir.join("custody-agent-serve.1").exists(),
        "hidden commands have no page"
    );
    let top = std::fs::read_to_string(dir.join("custody.1")).unwrap();
    assert!(
        top.contains("custody\\-wipe(1)"),
        "the top page names the others"
    );
}

#[test]
fn custody_speaks_the_language_of_the_locale() {
    let home = Home::with_people();
    let run = |lang: &str, args: &[&str]| {
        let out = home
            .cmd("suzuki")
            .env("LANG", lang)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["approve", "CO-1"],
            "役割「保護責任者」が必要",
            "this needs the role manager",
        ),
        (
            &["log", "--kind", "carryout"],
            "記録の種類として使えません",
            "is not a valid entry kind",
        ),
        (
            &["carryout", "show", "CO-77"],
            "持出し CO-77 はありません",
            "there is no carry-out CO-77",
        ),
        (
            &["send", "x.csv", "--to", "本部"],
            "パスワードはファイルとは別の方法で伝えます",
            "must travel by another channel",
        ),
    ];
    for (args, japanese, english) in cases {
        let (code, ja) = run("ja_JP.UTF-8", args);
        assert_eq!(code, 2, "{args:?}: {ja}");
        assert!(ja.starts_with("エラー: "), "{args:?}: {ja}");
        assert!(ja.contains(japanese), "{args:?}: {ja}");
        let (code, en) = run("C", args);
        assert_eq!(code, 2, "{args:?}: {en}");
        assert!(en.starts_with("error: "), "{args:?}: {en}");
        assert!(en.contains(english), "{args:?}: {en}");
    }
    // Help too: each command's line and clap's headings.
    let help = |lang: &str, args: &[&str]| {
        let out = home
            .cmd("suzuki")
            .env("LANG", lang)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let ja = help("ja_JP.UTF-8", &["--help"]);
    assert!(ja.contains("使い方: custody"), "{ja}");
    assert!(
        ja.contains("データ領域（台帳・端末の署名鍵・設定）を作ります"),
        "{ja}"
    );
    assert!(ja.contains("コマンド:"), "{ja}");
    let ja = help("ja_JP.UTF-8", &["carryout", "--help"]);
    assert!(
        ja.contains("承認された持出しが出発したことを記録します"),
        "{ja}"
    );
    let en = help("C", &["--help"]);
    assert!(en.contains("Create the data home"), "{en}");
    assert!(!en.contains("データ領域"), "{en}");
    let ja = help("C", &["--lang", "ja", "wipe", "--help"]);
    assert!(ja.contains("上書き消去"), "{ja}");

    // What was done already, a medium elsewhere, and the facts a manager decides on.
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "SN-L",
            "--encrypted",
        ],
    )
    .ok();
    let co = carryout(&home, &["--personal-data", "--records", "5"]);
    let out = home
        .cmd("tanaka")
        .env("LANG", "ja_JP.UTF-8")
        .args(["requests", "--pending"])
        .output()
        .unwrap();
    let pending = String::from_utf8(out.stdout).unwrap();
    for fact in [
        "持出し先:      本部監査室",
        "個人情報:      有（5 件）",
        "暗号化:        無",
        "警告: 暗号化されていない個人情報です",
    ] {
        assert!(pending.contains(fact), "{fact} in:\n{pending}");
    }
    home.run("tanaka", ["approve", &co, "--accept-unencrypted", "手渡し"])
        .ok();
    let (_, ja) = {
        let out = home
            .cmd("tanaka")
            .env("LANG", "ja_JP.UTF-8")
            .args(["approve", &co])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(ja.contains("tanaka がすでに承認しています"), "{ja}");

    // --lang wins over the locale; hints follow too.
    let out = home
        .cmd("suzuki")
        .env("LANG", "C")
        .env("CUSTODY_HOME", home.path("nowhere"))
        .args(["--lang", "ja", "log"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("データ領域がありません"), "{text}");
    assert!(text.contains("ヒント: 先に `custody init`"), "{text}");
    // JSON stays English: it is for programs.
    let json = home
        .cmd("kato")
        .env("LANG", "ja_JP.UTF-8")
        .args(["people", "list", "--json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(list[0]["role"], "manager");
}

#[test]
fn japanese_registers_have_japanese_values() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "SN-J1",
            "--encrypted",
        ],
    )
    .ok();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "hdd", "--serial", "HD-J2"],
    )
    .ok();
    let co = carryout(&home, &["--personal-data", "--media", "MD-1"]);
    home.run("tanaka", ["approve", &co]).ok();
    home.run("suzuki", ["carryout", "out", &co]).ok();
    let report = |kind: &str, lang: &str| {
        home.run(
            "kato",
            [
                "report",
                kind,
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
    let media = report("media", "ja");
    for value in [
        "USBメモリ",
        "磁気ディスク",
        "持出し中",
        "承認待ち",
        ",有,",
        ",無,",
    ] {
        assert!(media.contains(value), "{value} in:\n{media}");
    }
    let carryouts = report("carryouts", "ja");
    for value in ["持出し中", "有（暗号化媒体 MD-1）", ",有,"] {
        assert!(carryouts.contains(value), "{value} in:\n{carryouts}");
    }
    let people = report("people", "ja");
    assert!(
        people.contains("保護責任者") && people.contains("事務取扱担当者"),
        "{people}"
    );
    // English registers keep the words the ledger stores.
    let english = report("media", "en");
    assert!(
        english.contains(",usb,") && english.contains(",pending,"),
        "{english}"
    );
}

/// Tables, records, confirmations and every option's help line speak Japanese under
/// a Japanese locale; the same commands under LANG=C speak English.
#[test]
fn japanese_tables_records_and_option_help() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "usb",
            "--serial",
            "SN-J",
            "--encrypted",
            "--location",
            "書庫B",
        ],
    )
    .ok();
    let co = carryout(&home, &["--media", "MD-1", "--personal-data"]);
    let out = |lang: &str, args: &[&str]| {
        let out = home
            .cmd("tanaka")
            .env("LANG", lang)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap()
    };
    let ja = out("ja_JP.UTF-8", &["people", "list"]);
    for word in ["名前", "役割", "事務取扱担当者", "監査責任者", "有効"] {
        assert!(ja.contains(word), "{word} in:\n{ja}");
    }
    let en = out("C", &["people", "list"]);
    assert!(en.starts_with("ID ") && en.contains("NAME"), "{en}");
    assert!(
        en.contains("clerk") && !en.contains("事務取扱担当者"),
        "{en}"
    );

    let ja = out("ja_JP.UTF-8", &["carryout", "show", &co]);
    for line in [
        "持出し先：",
        "返却期限：",
        "暗号化：",
        "有（暗号化媒体 MD-1）",
        "申請中",
    ] {
        assert!(ja.contains(line), "{line} in:\n{ja}");
    }
    let ja = out("ja_JP.UTF-8", &["media", "show", "MD-1"]);
    for line in [
        "USBメモリ",
        "シリアル番号 SN-J",
        "保管場所：",
        "書庫B",
        "履歴:",
    ] {
        assert!(ja.contains(line), "{line} in:\n{ja}");
    }
    let ja = out("ja_JP.UTF-8", &["media", "list"]);
    assert!(ja.contains("保管中") && ja.contains("保管場所"), "{ja}");
    let ja = out("ja_JP.UTF-8", &["approve", &co]);
    assert!(ja.contains("承認しました"), "{ja}");
    let ja = out("ja_JP.UTF-8", &["carryout", "list"]);
    assert!(ja.contains("返却期限") && ja.contains("承認済"), "{ja}");

    // What core makes of fields is worded again: request summaries, audit findings.
    let plain = carryout(&home, &["--personal-data"]);
    let ja = out("ja_JP.UTF-8", &["requests"]);
    assert!(ja.contains("組合員名簿 を 本部監査室 へ持ち出す"), "{ja}");
    let ja = out("ja_JP.UTF-8", &["report", "audit"]);
    assert!(ja.contains("暗号化なしの持出し"), "{ja}");
    assert!(
        ja.contains(plain.as_str()) && ja.contains("は個人情報を含み、暗号化されていません"),
        "{ja}"
    );
    let en = out("C", &["report", "audit"]);
    assert!(
        en.contains("unencrypted-carryout")
            && en.contains("holds personal data and is not encrypted"),
        "{en}"
    );

    // The IT person's refusals, results and progress; the manager's check of a
    // certificate.
    let wipe = |lang: &str, args: &[&str]| {
        home.cmd("ito")
            .env("LANG", lang)
            .args(["wipe", "--method", "zero"])
            .args(args)
            .output()
            .unwrap()
    };
    let folder = home.path("folder");
    std::fs::create_dir(&folder).unwrap();
    let refused = wipe("ja_JP.UTF-8", &["--yes", folder.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(
        text.contains("どれにも手を付けていません") && text.contains("フォルダで"),
        "{text}"
    );
    let img = home.path("disk.img");
    std::fs::write(&img, vec![0x5A; 1 << 20]).unwrap();
    let done = wipe(
        "ja_JP.UTF-8",
        &["--yes", "--serial", "SN-IMG-J", img.to_str().unwrap()],
    );
    assert!(done.status.success(), "{done:?}");
    let text =
        String::from_utf8_lossy(&done.stdout).into_owned() + &String::from_utf8_lossy(&done.stderr);
    for words in [
        "消去完了",
        "1.00 MiB（1048576 バイト）",
        "照合（最終パス）: 合格",
        "消去証明書 EC-1",
        "パス 1/1",
    ] {
        assert!(text.contains(words), "{words} in:\n{text}");
    }
    let file = home.path("EC-1.json");
    home.run(
        "tanaka",
        [
            "cert",
            "export",
            "EC-1",
            "--format",
            "json",
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .ok();
    let ja = out("ja_JP.UTF-8", &["cert", "verify", file.to_str().unwrap()]);
    for words in [
        "合格 署名",
        "による正しい署名です",
        "台帳の記録",
        "有効: この端末（desk-1）の EC-1",
    ] {
        assert!(ja.contains(words), "{words} in:\n{ja}");
    }
    let ja = out("ja_JP.UTF-8", &["cert", "show", "EC-1"]);
    assert!(
        ja.lines().any(
            |l| l.starts_with("消去の区分（NIST SP 800-88）") && l.ends_with("クリア（Clear）")
        ),
        "{ja}"
    );
    for words in [
        "証明書番号",
        "パス1 パターン",
        "照合の結果",
        "合格",
        "作業者が入力",
    ] {
        assert!(ja.contains(words), "{words} in:\n{ja}");
    }
    assert!(!ja.contains("sanitization."), "{ja}");
    let en = out("C", &["cert", "show", "EC-1"]);
    assert!(en.contains("sanitization.passes[1].pattern"), "{en}");
    let en = out("C", &["cert", "verify", file.to_str().unwrap()]);
    assert!(
        en.contains("VALID: EC-1 (custody.erasure-certificate/v1) of this station (desk-1)"),
        "{en}"
    );

    // Every option of every command has its line in Japanese, with its values and
    // default worded in the line; none of clap's English headings is left.
    for args in [
        &["wipe", "--help"][..],
        &["send", "--help"],
        &["carryout", "new", "--help"],
        &["people", "add", "-h"],
        &["report", "--help"],
        &["help"],
    ] {
        let ja = out("ja_JP.UTF-8", args);
        for english in [
            "Possible values",
            "[default:",
            "Options:",
            "Arguments:",
            "Print help",
            "Print version",
            "[env:",
        ] {
            assert!(!ja.contains(english), "{english} in {args:?}:\n{ja}");
        }
    }
    let ja = out("ja_JP.UTF-8", &["wipe", "--help"]);
    for line in [
        "オプション:",
        "引数:",
        "last: 最後のパスを読み戻して照合",
        "［既定: last］",
        "ヘルプを表示",
    ] {
        assert!(ja.contains(line), "{line} in:\n{ja}");
    }
    let en = out("C", &["wipe", "--help"]);
    assert!(
        en.contains("Possible values") && en.contains("[default: last]"),
        "{en}"
    );
}

/// `language = "ja"` in config.toml makes the station speak Japanese whatever the
/// locale; `--lang en` still wins.
#[test]
fn a_station_configured_for_japanese_speaks_it_under_any_locale() {
    let home = Home::with_people();
    let config = home.path("home/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("language = \"ja\"\n{text}")).unwrap();
    let run = |args: &[&str]| {
        let out = home
            .cmd("suzuki")
            .env("LANG", "C")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap()
    };
    let ja = run(&["people", "list"]);
    assert!(ja.contains("事務取扱担当者"), "{ja}");
    let ja = run(&["carryout", "show", "CO-9"]);
    assert!(ja.contains("エラー: 持出し CO-9 はありません"), "{ja}");
    let en = run(&["--lang", "en", "people", "list"]);
    assert!(
        en.contains("clerk") && !en.contains("事務取扱担当者"),
        "{en}"
    );
    // A language the station does not know is refused when the config is read.
    std::fs::write(&config, format!("language = \"fr\"\n{text}")).unwrap();
    let out = home
        .cmd("suzuki")
        .args(["people", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// clap's own mistakes (an unknown option, a value not in the list, a missing option,
/// a misspelt command) are explained in Japanese under a Japanese locale, with the
/// suggestion and the usage line; in English they stay clap's words. Exit code 2.
#[test]
fn a_mistyped_command_line_is_explained_in_japanese() {
    let home = Home::with_people();
    let run = |lang: &str, args: &[&str]| {
        let out = home
            .cmd("suzuki")
            .env("LANG", lang)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    for (args, japanese, english) in [
        (
            &["wipe", "--frobnicate"][..],
            "エラー: 「--frobnicate」という指定はありません",
            "unexpected argument '--frobnicate'",
        ),
        (
            &["wipe", "--method", "zero", "--verify", "sometimes", "x.img"],
            "「sometimes」は「--verify <VERIFY>」に使えません。使える値: off, last, all",
            "invalid value 'sometimes'",
        ),
        (
            &["carryuot"],
            "ヒント: 「carryout」のことですか",
            "unrecognized subcommand 'carryuot'",
        ),
        (
            &["people", "add"],
            "次の指定が必要です: --role <ROLE>, <NAME>",
            "the following required arguments were not provided",
        ),
    ] {
        let ja = run("ja_JP.UTF-8", args);
        assert!(ja.contains(japanese), "{args:?}:\n{ja}");
        assert!(ja.contains("詳しくは --help で確認してください"), "{ja}");
        let en = run("C", args);
        assert!(en.contains(english), "{args:?}:\n{en}");
    }
    let ja = run("ja_JP.UTF-8", &["people", "add"]);
    assert!(
        ja.contains("使い方: custody people add --role <ROLE>"),
        "{ja}"
    );
}
