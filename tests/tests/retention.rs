//! Retention through the binary: nothing is disposed of before its date, on hold, or
//! without an approval by another manager; disposal shreds, records and certifies;
//! payload erasure keeps the ledger verifiable.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use custody_tests::{Home, require_tool};

struct Files {
    dir: PathBuf,
}

fn sample(home: &Home, name: &str) -> Files {
    let dir = home.path(name);
    std::fs::create_dir_all(dir.join("明細")).unwrap();
    std::fs::write(dir.join("組合員.csv"), "番号,氏名\n1,田中 太郎\n").unwrap();
    std::fs::write(dir.join("明細/2019.csv"), vec![b'x'; 300_000]).unwrap();
    Files { dir }
}

/// suzuki registers an item; a start before today is approved by sato (the approval
/// itself is tested in `a_backdated_start_counts_only_once_a_manager_approves_it`).
fn add(home: &Home, args: &[&str]) -> String {
    let mut all = vec!["retain", "add"];
    all.extend_from_slice(args);
    all.push("--json");
    let id = home.run("suzuki", all).ok().json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    home.approve_backdates("sato");
    id
}

fn request_and_approve(home: &Home, item: &str) -> String {
    let rq = home
        .run("suzuki", ["retain", "dispose", item, "--request", "--json"])
        .ok()
        .json();
    let rq = rq["id"].as_str().unwrap().to_string();
    home.run("sato", ["approve", &rq]).ok();
    rq
}

fn intact(dir: &Path) {
    assert_eq!(
        std::fs::read_to_string(dir.join("組合員.csv")).unwrap(),
        "番号,氏名\n1,田中 太郎\n"
    );
    assert_eq!(
        std::fs::read(dir.join("明細/2019.csv")).unwrap().len(),
        300_000
    );
}

fn due_ids(home: &Home, as_of: &str) -> Vec<String> {
    let due = home
        .run("kato", ["retain", "due", "--as-of", as_of, "--json"])
        .ok()
        .json();
    due.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// Item `id` as the register lists it.
fn shown(home: &Home, id: &str) -> serde_json::Value {
    let list = home.run("kato", ["retain", "list", "--json"]).ok().json();
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone()
}

/// 001 art.19-2: a start (or event) date before the day of registration is a request
/// a manager other than the registrant approves, with the reason; until then the item
/// counts from today and cannot be disposed of early (exit 2); the approval moves the
/// period, and verify rebuilds it from the entries.
#[test]
fn a_backdated_start_counts_only_once_a_manager_approves_it() {
    let home = Home::with_people();
    let files = sample(&home, "old-export");
    let register = |extra: &[&str]| {
        let mut args = vec![
            "retain",
            "add",
            files.dir.to_str().unwrap(),
            "--class",
            "system-data",
            "--since",
            "2019-04-01",
        ];
        args.extend_from_slice(extra);
        home.run("suzuki", args)
    };
    let before = home.run("kato", ["log", "--json"]).ok().json();
    let refused = register(&[]).expect_code(2);
    assert!(
        refused.stderr.contains("the day of registration"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("--backdate-reason"),
        "{}",
        refused.stderr
    );
    assert_eq!(home.run("kato", ["log", "--json"]).ok().json(), before);

    let added = register(&[
        "--backdate-reason",
        "旧システムから2019年度の抽出データを移行",
    ])
    .ok();
    assert!(
        added.stderr.contains("custody approve RQ-1"),
        "{}",
        added.stderr
    );
    let item = |home: &Home| shown(home, "RT-1");
    let shown = item(&home);
    assert_ne!(
        shown["since"], "2019-04-01",
        "counts from today until approved"
    );
    assert!(shown["due"].as_str().unwrap() > "2030-01-01", "{shown}");
    let pending = home
        .run("kato", ["requests", "--pending", "--json"])
        .ok()
        .json();
    let rq = &pending.as_array().unwrap()[0];
    assert_eq!(rq["kind"], "backdate");
    assert!(
        rq["summary"].as_str().unwrap().contains("2019-04-01"),
        "{rq}"
    );
    let ja = home
        .run("tanaka", ["requests", "--pending", "--lang", "ja"])
        .ok()
        .stdout;
    assert!(ja.contains("今日より前の 2019-04-01 から起算"), "{ja}");

    // Not due yet: a disposal request may be approved, the disposal is refused.
    request_and_approve(&home, "RT-1");
    let refused = home
        .run("suzuki", ["retain", "dispose", "RT-1"])
        .expect_code(2);
    assert!(refused.stderr.contains("kept until"), "{}", refused.stderr);
    intact(&files.dir);

    // The registrant cannot approve the earlier start; another manager can.
    home.run("suzuki", ["approve", "RQ-1"]).expect_code(2);
    home.run("tanaka", ["approve", "RQ-1"]).ok();
    let shown = item(&home);
    assert_eq!(shown["since"], "2019-04-01");
    assert_eq!(shown["due"], "2024-04-01");
    home.run("kato", ["ledger", "verify"]).ok();
    home.run("suzuki", ["retain", "dispose", "RT-1"]).ok();

    // An event class: the event date given is the one approved, not before.
    let other = sample(&home, "resigned");
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            other.dir.to_str().unwrap(),
            "--class",
            "my-number",
            "--event-date",
            "2020-03-31",
            "--backdate-reason",
            "資格喪失の届出を紙の台帳から転記",
        ],
    )
    .ok();
    let shown = self::shown(&home, "RT-2");
    assert_ne!(shown["event_date"], "2020-03-31");
    home.run(
        "tanaka",
        ["reject", "RQ-3", "--reason", "届出日を確認できない"],
    )
    .ok();
    let shown = self::shown(&home, "RT-2");
    assert_ne!(
        shown["event_date"], "2020-03-31",
        "a rejection moves nothing"
    );
    home.run("kato", ["ledger", "verify"]).ok();
}

/// 004 art.11 and 003 art.14: a class kept "until no longer needed", and one kept only
/// while the member is eligible, are 0-year event classes: never due until the day
/// recorded as their event, due that day, and disposed of only on an approved
/// request like any other.
#[test]
fn until_no_longer_needed_and_while_eligible_are_due_on_their_day_and_not_before() {
    let home = Home::with_people();
    let classes = home
        .run("kato", ["retain", "class", "list", "--json"])
        .ok()
        .json();
    for name in ["until-unneeded", "my-number-system"] {
        let class = classes
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {classes}"));
        assert_eq!(class["years"], 0, "{class}");
        assert_eq!(class["trigger"], "event", "{class}");
    }
    let files = sample(&home, "work-copy");
    let item = add(
        &home,
        &[files.dir.to_str().unwrap(), "--class", "until-unneeded"],
    );
    assert_eq!(shown(&home, &item)["status"], "awaiting-event");
    request_and_approve(&home, &item);
    let refused = home
        .run("suzuki", ["retain", "dispose", &item])
        .expect_code(2);
    assert!(refused.stderr.contains("event date"), "{}", refused.stderr);
    intact(&files.dir);
    // The day it is no longer needed is its event: due that day.
    let today = shown(&home, &item)["since"].as_str().unwrap().to_owned();
    home.run("suzuki", ["retain", "event", &item, "--date", &today])
        .ok();
    let now = shown(&home, &item);
    assert_eq!(now["due"], today.as_str());
    assert_eq!(now["status"], "due");
    home.run("suzuki", ["retain", "dispose", &item]).ok();
    assert!(!files.dir.exists());

    // Kept while eligible: due the day eligibility is lost.
    let other = sample(&home, "member-data");
    let kept = add(
        &home,
        &[
            other.dir.to_str().unwrap(),
            "--class",
            "my-number-system",
            "--event-date",
            &today,
        ],
    );
    assert_eq!(shown(&home, &kept)["due"], today.as_str());
    home.run("kato", ["ledger", "verify"]).ok();
}

/// 004 art.11: an item no longer needed may be disposed of before its date, but only
/// on a request that says so, with the reason, approved by a manager; an ordinary
/// approved request still waits for the date. The certificate and the disposal
/// register say it was early and why, and the section of who did it.
#[test]
fn an_item_no_longer_needed_goes_early_only_on_an_approved_early_request() {
    let home = Home::with_people();
    home.run(
        "sato",
        [
            "people",
            "add",
            "yamada",
            "--role",
            "clerk",
            "--department",
            "保険課",
        ],
    )
    .ok();
    home.enroll("sato", "yamada");
    let files = sample(&home, "project");
    let item = add(
        &home,
        &[files.dir.to_str().unwrap(), "--class", "system-data"],
    );
    // An ordinary request, approved: not before the date.
    request_and_approve(&home, &item);
    let refused = home
        .run("suzuki", ["retain", "dispose", &item])
        .expect_code(2);
    assert!(refused.stderr.contains("kept until"), "{}", refused.stderr);
    home.run("tanaka", ["reject", "RQ-1", "--reason", "x"])
        .expect_code(2); // decided

    let other = sample(&home, "temp-extract");
    let early = add(
        &home,
        &[other.dir.to_str().unwrap(), "--class", "system-data"],
    );
    let rq = home
        .run(
            "yamada",
            [
                "retain",
                "dispose",
                &early,
                "--request",
                "--early",
                "照会対応が終了し不要となった",
                "--json",
            ],
        )
        .ok()
        .json();
    let rq = rq["id"].as_str().unwrap().to_owned();
    let pending = home.run("tanaka", ["requests", "--pending"]).ok().stdout;
    assert!(
        pending.contains("EARLY") && pending.contains("照会対応が終了し不要となった"),
        "{pending}"
    );
    let ja = home
        .run("tanaka", ["requests", "--pending", "--lang", "ja"])
        .ok()
        .stdout;
    assert!(ja.contains("【保存期間満了前の廃棄】"), "{ja}");
    // Not approved yet: refused, files intact.
    home.run("yamada", ["retain", "dispose", &early])
        .expect_code(2);
    intact(&other.dir);
    home.run("tanaka", ["approve", &rq]).ok();
    let done = home
        .run("yamada", ["retain", "dispose", &early, "--json"])
        .ok()
        .json();
    assert!(!other.dir.exists());
    let cert = done["certificate"].as_str().unwrap();
    let shown = home
        .run("kato", ["cert", "show", cert, "--json"])
        .ok()
        .json();
    let text = shown.to_string();
    assert!(
        text.contains("照会対応が終了し不要となった") && text.contains("保険課"),
        "{text}"
    );
    let csv = home
        .run(
            "kato",
            [
                "report",
                "disposals",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
            ],
        )
        .ok()
        .stdout;
    let row = csv.lines().find(|l| l.contains(cert)).unwrap();
    assert!(
        row.contains("early: 照会対応が終了し不要となった") && row.contains(",保険課,"),
        "{csv}"
    );
    intact(&files.dir);
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn a_due_item_is_disposed_of_after_approval_with_a_signed_certificate() {
    let home = Home::with_people();
    let files = sample(&home, "old-export");
    let item = add(
        &home,
        &[
            files.dir.to_str().unwrap(),
            "--class",
            "system-data",
            "--since",
            "2019-04-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    );
    assert_eq!(item, "RT-1");
    let listed = home.run("kato", ["retain", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["due"], "2024-04-01");
    assert_eq!(listed[0]["files"].as_array().unwrap().len(), 2);
    assert_eq!(due_ids(&home, "2024-03-31"), Vec::<String>::new());
    assert_eq!(due_ids(&home, "2024-04-01"), ["RT-1"]);

    // Without a request, and with the request still pending: refused, intact.
    let out = home
        .run("suzuki", ["retain", "dispose", &item])
        .expect_code(2);
    assert!(out.stderr.contains("no disposal request"), "{}", out.stderr);
    let rq = home
        .run(
            "suzuki",
            ["retain", "dispose", &item, "--request", "--json"],
        )
        .ok()
        .json();
    let rq = rq["id"].as_str().unwrap().to_string();
    let out = home
        .run("suzuki", ["retain", "dispose", &item])
        .expect_code(2);
    assert!(out.stderr.contains("not approved"), "{}", out.stderr);
    intact(&files.dir);

    home.run("sato", ["approve", &rq]).ok();
    let done = home
        .run("ito", ["retain", "dispose", &item, "--json"])
        .ok()
        .json();
    assert!(!files.dir.exists(), "the registered folder is gone");
    assert!(
        files.dir.parent().unwrap().exists(),
        "its parent is not touched"
    );
    let cert = done["certificate"].as_str().unwrap().to_string();
    assert_eq!(cert, "DC-1");

    let log = home
        .run("kato", ["log", "--kind", "disposal", "--json"])
        .ok()
        .json();
    let entry = &log[0]["payload"];
    assert_eq!(entry["what"]["count"], 2);
    assert_eq!(entry["class"], "system-data");
    assert!(entry["basis"].as_str().unwrap().contains("第20条"));
    assert_eq!(entry["requester"], "suzuki");
    assert_eq!(entry["approver"], "sato");
    assert_eq!(entry["executor"], "ito");
    assert_eq!(entry["method"]["name"], "random");
    assert_eq!(entry["method"]["verified"], true);

    // The certificate verifies with minisign, and names the disposal entry.
    if require_tool("minisign") {
        let file = home.path("dc1.json");
        home.run(
            "kato",
            ["cert", "export", &cert, "-o", file.to_str().unwrap()],
        )
        .ok();
        let status = Command::new("minisign")
            .args(["-V", "-p"])
            .arg(home.home.join("keys/station.pub"))
            .arg("-m")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(doc["schema"], "custody.disposal-certificate/v1");
        assert_eq!(doc["ledger"]["seq"], log[0]["seq"]);
        assert_eq!(doc["ledger"]["hash"], log[0]["hash"]);
        assert_eq!(doc["what"]["count"], 2);
    }
    // An approval is used once.
    home.run("ito", ["retain", "dispose", &item]).expect_code(2);
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn an_item_not_yet_due_is_refused_and_intact() {
    let home = Home::with_people();
    let files = sample(&home, "recent");
    let item = add(&home, &[files.dir.to_str().unwrap(), "--class", "records"]);
    request_and_approve(&home, &item);
    let out = home
        .run("suzuki", ["retain", "dispose", &item])
        .expect_code(2);
    assert!(out.stderr.contains("must be kept until"), "{}", out.stderr);
    intact(&files.dir);
}

#[test]
fn a_held_item_is_refused_and_intact_until_released() {
    let home = Home::with_people();
    let files = sample(&home, "held");
    let item = add(
        &home,
        &[
            files.dir.to_str().unwrap(),
            "--class",
            "backup",
            "--since",
            "2001-01-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    );
    request_and_approve(&home, &item);
    home.run("suzuki", ["retain", "hold", &item, "--reason", "x"])
        .expect_code(2); // managers only
    home.run(
        "tanaka",
        ["retain", "hold", &item, "--reason", "開示請求の対応中"],
    )
    .ok();
    let out = home
        .run("suzuki", ["retain", "dispose", &item])
        .expect_code(2);
    assert!(
        out.stderr.contains("on hold") && out.stderr.contains("開示請求"),
        "{}",
        out.stderr
    );
    intact(&files.dir);
    assert_eq!(
        home.run("kato", ["retain", "list", "--json"]).ok().json()[0]["status"],
        "held"
    );
    home.run("tanaka", ["retain", "release", &item]).ok();
    home.run("suzuki", ["retain", "dispose", &item]).ok();
    assert!(!files.dir.exists());
}

#[test]
fn an_event_class_item_without_its_event_is_never_due() {
    let home = Home::with_people();
    let files = sample(&home, "mynumber");
    let item = add(
        &home,
        &[files.dir.to_str().unwrap(), "--class", "my-number"],
    );
    add(
        &home,
        &[
            files.dir.to_str().unwrap(),
            "--class",
            "my-number",
            "--event-date",
            "2020-03-31",
            "--backdate-reason",
            "eligibility lost before custody was installed",
        ],
    );
    assert_eq!(due_ids(&home, "2999-12-31"), ["RT-2"]);
    request_and_approve(&home, &item);
    let out = home
        .run("suzuki", ["retain", "dispose", &item])
        .expect_code(2);
    assert!(out.stderr.contains("event date"), "{}", out.stderr);
    intact(&files.dir);
    // The event starts the three years.
    home.run(
        "suzuki",
        [
            "retain",
            "event",
            &item,
            "--date",
            "2021-06-30",
            "--backdate-reason",
            "eligibility lost before custody was installed",
        ],
    )
    .ok();
    home.approve_backdates("tanaka");
    assert_eq!(due_ids(&home, "2024-06-30"), [item.as_str(), "RT-2"]);
    assert_eq!(due_ids(&home, "2024-06-29"), ["RT-2"]);
    // A created-class item takes no event date.
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            files.dir.to_str().unwrap(),
            "--class",
            "records",
            "--event-date",
            "2020-01-01",
        ],
    )
    .expect_code(2);
}

/// The bug: `retain event` took any past event date (with a reason, or none at all
/// after the station's first record), so a clerk could make an item due at once with
/// no manager. Now a past event date is a backdate request like one at registration.
#[test]
fn a_clerk_backdated_an_event_date_without_a_manager() {
    let home = Home::with_people();
    let files = sample(&home, "resigned");
    let item = add(
        &home,
        &[files.dir.to_str().unwrap(), "--class", "my-number"],
    );
    let set = |extra: &[&str]| {
        let mut args = vec!["retain", "event", item.as_str(), "--date", "2020-03-31"];
        args.extend_from_slice(extra);
        home.run("suzuki", args)
    };
    let refused = set(&[]).expect_code(2);
    assert!(
        refused.stderr.contains("--backdate-reason"),
        "{}",
        refused.stderr
    );
    set(&["--backdate-reason", "資格喪失届を紙の台帳から転記"]).ok();
    let now = shown(&home, &item);
    assert_ne!(
        now["event_date"], "2020-03-31",
        "counts from today until approved"
    );
    assert!(now["due"].as_str().unwrap() > "2028-01-01", "{now}");
    assert!(due_ids(&home, now["event_date"].as_str().unwrap()).is_empty());
    home.run("suzuki", ["approve", "RQ-1"]).expect_code(2);
    home.run("tanaka", ["approve", "RQ-1"]).ok();
    let now = shown(&home, &item);
    assert_eq!(now["event_date"], "2020-03-31");
    assert_eq!(now["due"], "2023-03-31");
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn self_approval_of_a_disposal_is_refused() {
    let home = Home::with_people();
    let files = sample(&home, "self");
    let item = home
        .run(
            "tanaka",
            [
                "retain",
                "add",
                files.dir.to_str().unwrap(),
                "--class",
                "backup",
                "--since",
                "2000-01-01",
                "--backdate-reason",
                "transcribed from the paper register",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rq = home
        .run(
            "tanaka",
            ["retain", "dispose", &item, "--request", "--json"],
        )
        .ok()
        .json();
    let out = home
        .run("tanaka", ["approve", rq["id"].as_str().unwrap()])
        .expect_code(2);
    assert!(out.stderr.contains("two-person rule"), "{}", out.stderr);
    home.run("tanaka", ["retain", "dispose", &item])
        .expect_code(2);
    intact(&files.dir);
}

#[test]
fn a_changed_file_and_a_backwards_clock_are_refused_before_anything_is_shredded() {
    let home = Home::with_people();
    let files = sample(&home, "changed");
    let item = add(
        &home,
        &[
            files.dir.to_str().unwrap(),
            "--class",
            "backup",
            "--since",
            "2000-01-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    );
    request_and_approve(&home, &item);
    let out = home
        .cmd("suzuki")
        .env("CUSTODY_TEST_NOW", "2020-01-01T00:00:00Z")
        .args(["retain", "dispose", &item])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("clock"));
    intact(&files.dir);

    std::fs::write(
        files.dir.join("組合員.csv"),
        "番号,氏名\n1,田中 太郎\n2,追加\n",
    )
    .unwrap();
    let out = home
        .run("suzuki", ["retain", "dispose", &item])
        .expect_code(2);
    assert!(
        out.stderr.contains("changed since it was registered"),
        "{}",
        out.stderr
    );
    assert!(files.dir.join("明細/2019.csv").exists());
}

#[test]
fn a_single_files_folder_is_kept_and_a_medium_needs_proof_of_erasure() {
    let home = Home::with_people();
    let dir = home.path("desk");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("only.csv");
    std::fs::write(&file, "one").unwrap();
    let item = add(
        &home,
        &[
            file.to_str().unwrap(),
            "--class",
            "backup",
            "--since",
            "2000-01-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    );
    request_and_approve(&home, &item);
    home.run("suzuki", ["retain", "dispose", &item]).ok();
    assert!(!file.exists());
    assert!(
        dir.is_dir(),
        "the folder of a single registered file is not removed"
    );

    home.run(
        "suzuki",
        ["media", "add", "--kind", "hdd", "--serial", "HD-9"],
    )
    .ok();
    let medium = add(
        &home,
        &[
            "--media",
            "MD-1",
            "--class",
            "media-data",
            "--since",
            "2010-01-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    );
    request_and_approve(&home, &medium);
    let out = home
        .run("suzuki", ["retain", "dispose", &medium])
        .expect_code(2);
    assert!(out.stderr.contains("erasure certificate"), "{}", out.stderr);
    home.run(
        "suzuki",
        [
            "retain",
            "dispose",
            &medium,
            "--destroyed-by",
            "株式会社破砕",
            "--method",
            "物理破砕",
        ],
    )
    .ok();
    let shown = home
        .run("kato", ["media", "show", "MD-1", "--json"])
        .ok()
        .json();
    assert_eq!(shown["status"], "destroyed");
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn erasing_payloads_of_disposed_items_keeps_the_ledger_verifiable() {
    let home = Home::with_people();
    let files = sample(&home, "erase-me");
    let item = add(
        &home,
        &[
            files.dir.to_str().unwrap(),
            "--class",
            "backup",
            "--since",
            "2000-01-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    );
    let kept = sample(&home, "kept");
    add(&home, &[kept.dir.to_str().unwrap(), "--class", "records"]);
    request_and_approve(&home, &item);
    home.run("suzuki", ["retain", "dispose", &item]).ok();

    home.run("suzuki", ["ledger", "erase-payloads", "--disposed"])
        .expect_code(2); // managers only
    let out = home
        .run("sato", ["ledger", "erase-payloads", "--disposed"])
        .ok();
    // Its registration, the approved earlier start, the disposal's start and record.
    assert!(out.stdout.contains("erased 4 payloads"), "{}", out.stdout);
    let report = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    assert_eq!(report["payloads_erased"], 4);
    // The paths of the disposed item are gone from the ledger file; the kept item's remain.
    let export = home
        .run("kato", ["ledger", "export", "--format", "jsonl"])
        .ok()
        .stdout;
    assert!(
        !export.contains("erase-me"),
        "a disposed path survived in the ledger"
    );
    assert!(export.contains("kept"));
    let log = home
        .run("kato", ["log", "--kind", "disposal", "--json"])
        .ok()
        .json();
    assert!(log[0]["payload"].is_null() && log[0]["erased"].is_string());
    // Nothing left to erase the second time.
    let again = home
        .run("sato", ["ledger", "erase-payloads", "--disposed"])
        .ok();
    assert!(again.stdout.contains("erased 0"), "{}", again.stdout);
}

/// An item kept past the end of its period and not held is listed by the audit until
/// it is disposed of (My Number Act art.20: no keeping past need); a hold is the
/// recorded reason to keep it, and takes it off the list.
#[test]
fn the_audit_lists_items_kept_past_their_period() {
    let home = Home::with_people();
    let files = sample(&home, "old");
    let item = add(
        &home,
        &[
            files.dir.to_str().unwrap(),
            "--class",
            "backup",
            "--since",
            "2001-01-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    );
    let young = sample(&home, "young");
    add(&home, &[young.dir.to_str().unwrap(), "--class", "backup"]);
    let overdue = |home: &Home| -> Vec<String> {
        let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "retention-overdue")
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(overdue(&home), vec![item.clone()]);
    let ja = home
        .cmd("kato")
        .env("LANG", "ja_JP.UTF-8")
        .args(["report", "audit"])
        .output()
        .unwrap();
    let ja = String::from_utf8(ja.stdout).unwrap();
    assert!(
        ja.contains("保存期間満了後の未廃棄") && ja.contains("2006-01-01"),
        "{ja}"
    );
    home.run(
        "tanaka",
        ["retain", "hold", &item, "--reason", "監査の対象"],
    )
    .ok();
    assert!(overdue(&home).is_empty());
    home.run("tanaka", ["retain", "release", &item]).ok();
    assert_eq!(overdue(&home), vec![item.clone()]);
    request_and_approve(&home, &item);
    home.run("suzuki", ["retain", "dispose", &item]).ok();
    assert!(overdue(&home).is_empty());
}

/// 002 様式3 / 000 art.18-5: the disposal register has one row per disposed item from
/// every path that disposes — a retention disposal, a medium wiped for disposal, a
/// vendor's certificate, a medium destroyed — with who approved, who did it, who
/// checked afterwards and the certificate; the audit lists each disposal no manager
/// has checked afterwards, until one signs it off.
#[test]
fn the_disposal_register_lists_every_path_and_the_audit_its_missing_after_checks() {
    let home = Home::with_people();
    // A retention disposal, approved.
    let files = sample(&home, "old");
    let item = add(
        &home,
        &[
            files.dir.to_str().unwrap(),
            "--class",
            "backup",
            "--since",
            "2001-01-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    );
    request_and_approve(&home, &item);
    home.run("suzuki", ["retain", "dispose", &item]).ok();
    // A disk image wiped for disposal by an IT person of the 情報システム課.
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
    let img = home.path("disk.img");
    std::fs::write(&img, vec![0x5A; 1 << 20]).unwrap();
    home.run(
        "yamada",
        [
            "wipe",
            img.to_str().unwrap(),
            "--method",
            "zero",
            "--serial",
            "SN-DISPOSE",
            "--destination",
            "disposal",
            "--yes",
        ],
    )
    .ok();
    // A vendor's certificate, and a medium destroyed.
    home.import_vendor_certificate(
        "vendor.pdf",
        "株式会社データ消去",
        "WX-9",
        &["--date", "2026-11-01", "--method", "物理破壊"],
    );
    home.run(
        "suzuki",
        ["media", "add", "--kind", "usb", "--serial", "SN-USB-D"],
    )
    .ok();
    // Destroyed on an approved disposal request, witnessed.
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
    home.run("tanaka", ["approve", "RQ-3"]).ok(); // RQ-1 the earlier start, RQ-2 RT-1's disposal
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
            "suzuki",
        ],
    )
    .ok();

    let csv = home
        .run(
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
        .stdout;
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "処分物,シリアル番号,処分年月日,処分方法,承認者,実施者,確認者,証明書番号,所管課室,委託先"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4, "{csv}");
    let row = |needle: &str| {
        *rows
            .iter()
            .find(|r| r.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {csv}"))
    };
    assert!(row("DC-1").contains(",sato,suzuki,,DC-1,"), "{csv}");
    assert!(
        row("SN-DISPOSE").contains(",yamada,,EC-1,情報システム課,"),
        "{csv}"
    );
    assert!(row("WX-9").contains("株式会社データ消去"), "{csv}");
    assert!(
        row("MD-1").contains("SN-USB-D")
            && row("MD-1").contains(",破砕 (witness suzuki),tanaka,ito,"),
        "{csv}"
    );

    let unchecked = |home: &Home| -> Vec<String> {
        let audit = home.run("kato", ["report", "audit", "--json"]).ok().json();
        let mut ids: Vec<String> = audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "unchecked-disposal")
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(unchecked(&home), vec!["DC-1", "EC-1", "MD-1", "VC-1"]);
    home.run("tanaka", ["cert", "sign-off", "DC-1"]).ok();
    home.run("tanaka", ["cert", "sign-off", "EC-1"]).ok();
    assert_eq!(unchecked(&home), vec!["MD-1", "VC-1"]);
    let csv = home
        .run(
            "kato",
            [
                "report",
                "disposals",
                "--from",
                "2000-01-01",
                "--to",
                "2099-12-31",
            ],
        )
        .ok()
        .stdout;
    assert!(csv.contains(",sato,suzuki,tanaka,DC-1,"), "{csv}");
}

/// Issue 18, item 4: a retained medium of the My Number systems is disposed of only
/// destroyed, with a witness, after a wipe whose certificate a manager accepted.
#[test]
fn a_retained_my_number_medium_goes_only_destroyed_after_a_wipe() {
    let home = Home::with_people();
    home.run(
        "suzuki",
        [
            "media",
            "add",
            "--kind",
            "hdd",
            "--serial",
            "MN-R1",
            "--holds",
            "my-number",
        ],
    )
    .ok();
    let item = add(&home, &["--media", "MD-1", "--class", "until-unneeded"]);
    let today = shown(&home, &item)["since"].as_str().unwrap().to_owned();
    home.run("suzuki", ["retain", "event", &item, "--date", &today])
        .ok();
    request_and_approve(&home, &item);
    let dispose = |extra: &[&str]| {
        let mut args = vec!["retain", "dispose", item.as_str()];
        args.extend_from_slice(extra);
        home.run("ito", args)
    };
    // Not destroyed; destroyed by hand, even witnessed (no photos, no witness's own
    // signature): refused, it needs custody media destroy.
    let refused = dispose(&[]).expect_code(2);
    assert!(
        refused.stderr.contains("custody media destroy"),
        "{}",
        refused.stderr
    );
    let witnessed = [
        "--destroyed-by",
        "株式会社破砕",
        "--method",
        "破砕",
        "--witness",
        "tanaka",
    ];
    let refused = dispose(&witnessed).expect_code(2);
    assert!(
        refused.stderr.contains("custody media destroy"),
        "{}",
        refused.stderr
    );
    // Its disposal request, and a destruction before any wipe: refused.
    let filed = home
        .run(
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
    let disposal = filed
        .stdout
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.starts_with("RQ-"))
        .unwrap_or_else(|| panic!("no request id in {}", filed.stdout))
        .to_owned();
    home.run("tanaka", ["approve", &disposal]).ok();
    let photo = home.path("crushed.jpg");
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend(std::iter::repeat_n(7_u8, 512));
    std::fs::write(&photo, jpeg).unwrap();
    let passphrase = home.passphrase_file("tanaka");
    let destroy = [
        "media",
        "destroy",
        "MD-1",
        "--method",
        "disintegrate",
        "--by",
        "株式会社破砕",
        "--witness",
        "tanaka",
        "--witness-passphrase-file",
        passphrase.to_str().unwrap(),
        "--photo",
        photo.to_str().unwrap(),
    ];
    let refused = home.run("ito", destroy).expect_code(2); // no wipe
    assert!(refused.stderr.contains("MN-R1"), "{}", refused.stderr);
    // The wipe: a vendor's certificate a manager accepts.
    home.import_vendor_certificate("wipe.pdf", "株式会社消去", "MN-R1", &[]);
    home.run("tanaka", ["cert", "sign-off", "VC-1"]).ok();
    home.run("ito", destroy).ok();
    let done = dispose(&["--json"]).ok().json();
    let cert = done["certificate"].as_str().unwrap();
    let shown = home
        .run("kato", ["cert", "show", cert, "--json"])
        .ok()
        .json()
        .to_string();
    assert!(
        shown.contains("my-number") && shown.contains("VC-1") && shown.contains("tanaka"),
        "{shown}"
    );
    home.run("kato", ["ledger", "verify"]).ok();
}
