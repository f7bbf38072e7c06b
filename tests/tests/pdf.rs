//! PDF certificates through the binary: one A4 page per certificate, in Japanese and
//! English, whose text comes back out with `pdftotext`.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::Command;

use custody_tests::{Home, LoopDevice, MountPoint, require_loop, require_tool};

fn pdf_text(file: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(file)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn pages(file: &Path) -> String {
    let out = Command::new("pdfinfo").arg(file).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find(|l| l.starts_with("Pages:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

fn export_pdf(home: &Home, id: &str, lang: &str) -> std::path::PathBuf {
    let file = home.path(&format!("{id}-{lang}.pdf"));
    home.run(
        "kato",
        [
            "cert",
            "export",
            id,
            "--format",
            "pdf",
            "--lang",
            lang,
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .ok();
    file
}

#[test]
fn an_erasure_certificate_reads_back_in_japanese_and_english() {
    if !require_tool("pdftotext") {
        return;
    }
    let home = Home::with_people();
    let img = home.path("disk.img");
    std::fs::write(&img, vec![1u8; 2 << 20]).unwrap();
    home.run(
        "ito",
        [
            "wipe",
            img.to_str().unwrap(),
            "--method",
            "gutmann",
            "--yes",
            "--quiet",
            "--serial",
            "WD-WX1234567",
        ],
    )
    .ok();
    let cert = home
        .run("kato", ["cert", "show", "EC-1", "--json"])
        .ok()
        .json();
    let sha = home.run("kato", ["cert", "list", "--json"]).ok().json()["certificates"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();

    let ja = export_pdf(&home, "EC-1", "ja");
    assert_eq!(pages(&ja), "1", "35 passes still fit one page");
    let text = pdf_text(&ja);
    for needle in [
        "データ消去証明書",
        "WD-WX1234567",
        "グートマン方式 (35回)",
        "消去完了",
        "令和",
        &sha,
        "minisign -V",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let en = export_pdf(&home, "EC-1", "en");
    let text = pdf_text(&en);
    for needle in [
        "Certificate of Data Erasure",
        "WD-WX1234567",
        "Gutmann (35 passes)",
        "ERASED",
        "Clear",
        &sha,
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    assert_eq!(cert["status"], "erased");
    // An existing file is not overwritten.
    home.run(
        "kato",
        [
            "cert",
            "export",
            "EC-1",
            "--format",
            "pdf",
            "-o",
            en.to_str().unwrap(),
        ],
    )
    .expect_code(2);
}

#[test]
fn a_failed_wipe_prints_failed_and_never_erased() {
    if !(require_tool("pdftotext") && require_loop(&["mount"])) {
        return;
    }
    let home = Home::with_people();
    let tmpfs = MountPoint::new(Path::new("tmpfs"), &["-t", "tmpfs", "-o", "size=4M"]);
    let backing = tmpfs.dir.path().join("backing.img");
    std::fs::File::create(&backing)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let dev = LoopDevice::attach(backing, &[], None);
    home.run(
        "ito",
        [
            "wipe",
            dev.arg(),
            "--method",
            "zero",
            "--verify",
            "off",
            "--yes",
            "--quiet",
            "--serial",
            "FAIL-1",
        ],
    )
    .expect_code(1);
    drop(dev);
    for (lang, failed, erased) in [("ja", "失敗", "消去完了"), ("en", "FAILED", "ERASED")] {
        let text = pdf_text(&export_pdf(&home, "EC-1", lang));
        assert!(text.contains(failed), "{lang}: {text}");
        assert!(!text.contains(erased), "{lang} says {erased}:\n{text}");
        assert!(text.contains("FAIL-1"));
    }
}

#[test]
fn a_disposal_certificate_renders_too() {
    if !require_tool("pdftotext") {
        return;
    }
    let home = Home::with_people();
    let file = home.path("old.csv");
    std::fs::write(&file, "x").unwrap();
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            file.to_str().unwrap(),
            "--class",
            "backup",
            "--since",
            "2001-01-01",
            "--backdate-reason",
            "transcribed from the paper register",
        ],
    )
    .ok();
    // RQ-1 starts its period in 2001 (a manager approves that), RQ-2 disposes of it.
    home.run("sato", ["approve", "RQ-1"]).ok();
    home.run("suzuki", ["retain", "dispose", "RT-1", "--request"])
        .ok();
    home.run("sato", ["approve", "RQ-2"]).ok();
    home.run("suzuki", ["retain", "dispose", "RT-1"]).ok();
    let text = pdf_text(&export_pdf(&home, "DC-1", "ja"));
    for needle in [
        "データ廃棄証明書",
        "RT-1",
        "backup",
        "old.csv",
        "suzuki",
        "sato",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let text = pdf_text(&export_pdf(&home, "DC-1", "en"));
    assert!(text.contains("Certificate of Data Disposal"), "{text}");
}

#[test]
fn a_certificate_works_as_a_paper_form_in_either_language() {
    if !require_tool("pdftotext") {
        return;
    }
    let home = Home::with_people();
    home.run(
        "suzuki",
        ["media", "add", "--kind", "hdd", "--serial", "HD-PAPER-1"],
    )
    .ok();
    let img = home.path("disk.img");
    std::fs::write(&img, vec![1u8; 3 << 20]).unwrap();
    home.run(
        "ito",
        [
            "wipe",
            img.to_str().unwrap(),
            "--method",
            "dod-short",
            "--blank",
            "--destination",
            "disposal",
            "--yes",
            "--quiet",
            "--serial",
            "HD-PAPER-1",
        ],
    )
    .ok();
    let key = std::fs::read_to_string(home.home.join("keys/station.pub")).unwrap();
    let key = key.lines().nth(1).unwrap().trim().to_owned();

    let ja = pdf_text(&export_pdf(&home, "EC-1", "ja"));
    for needle in [
        "磁気ディスク",
        "DoD 5220.22-M (3回) ＋ 仕上げのゼロ書込み",
        "最終パスを全域照合・合格",
        "廃棄",
        "3.15 MB（3,145,728 バイト）",
        "押印欄",
        "作業者",
        "確認者",
        "印または署名",
        "システム管理担当者",
        "クリア (Clear)",
        &key,
    ] {
        assert!(ja.contains(needle), "{needle} missing from:\n{ja}");
    }
    assert!(!ja.contains("0.00 GB"), "{ja}");
    // No English value: what remains after names, ids, paths and proper nouns is
    // Japanese.
    let img_path = img.to_str().unwrap().to_owned();
    let mut rest = ja
        .replace(&img_path, "")
        .replace("Test Union", "")
        .replace(&key, "");
    for proper in [
        "DoD 5220.22-M",
        "NIST SP 800-88",
        "SHA-256",
        "Ed25519, minisign",
        "minisign -V -P",
        "custody cert export EC-1 --format json -o EC-1.json",
        "-m EC-1.json",
        "sha256sum EC-1.json",
        "EC-1.json",
        "JSON",
        "custody 0.1.0",
        "(Clear)",
        "UTC",
        "desk-1",
        "HD-PAPER-1",
        "MB",
        "ito",
        "EC-1",
        "MD-1",
        // Names of the drive's own features, which Japanese writes as they are.
        "SMART",
        "HPA",
        "DCO",
    ] {
        rest = rest.replace(proper, "");
    }
    // Hashes and keys hold digits; the verification commands are commands.
    let commands = ["custody", "cert", "export", "format", "json", "minisign"];
    let english: Vec<&str> = rest
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 2 && !w.bytes().any(|b| b.is_ascii_digit()))
        .filter(|w| !commands.contains(w))
        .collect();
    assert!(
        english.is_empty(),
        "English left in the Japanese certificate: {english:?}\n{ja}"
    );

    let en = pdf_text(&export_pdf(&home, "EC-1", "en"));
    for needle in [
        "Hard disk",
        "DoD 5220.22-M (3 passes) + a final pass of zeros",
        "last pass read back in full: passed",
        "disposal",
        "3.15 MB (3,145,728 bytes)",
        "seal or signature",
        &key,
    ] {
        assert!(en.contains(needle), "{needle} missing from:\n{en}");
    }
}

/// 004 art.11-6, 20-3, 22: the periodic review is a page a manager signs and files:
/// the period, who made it, the counts by register and section and what needs
/// attention, in Japanese or English, with the seal boxes; other registers and a PDF
/// without a file are refused (exit 2).
#[test]
fn the_periodic_review_is_a_page_to_sign_and_file() {
    if !require_tool("pdftotext") {
        return;
    }
    let home = Home::with_people();
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
    let review = |lang: &str, name: &str| {
        let file = home.path(name);
        home.run(
            "kato",
            [
                "report",
                "summary",
                "--from",
                "2026-10-01",
                "--to",
                "2099-12-31",
                "--format",
                "pdf",
                "-o",
                file.to_str().unwrap(),
                "--lang",
                lang,
            ],
        )
        .ok();
        assert_eq!(pages(&file), "1");
        pdf_text(&file)
    };
    let ja = review("ja", "review-ja.pdf");
    for needle in [
        "個人情報等の取扱状況の点検集計",
        "Test Union",
        "対象期間 2026-10-01 〜 2099-12-31",
        "作成者 kato",
        "区分",
        "件数",
        "特定個人情報等の運用状況記録票",
        "未確認の運用状況",
        "点検者",
        "保護責任者（確認）",
    ] {
        assert!(ja.contains(needle), "{needle} not in:\n{ja}");
    }
    let en = review("en", "review-en.pdf");
    for needle in [
        "Period 2026-10-01 to 2099-12-31",
        "unchecked-operation",
        "Reviewed by",
    ] {
        assert!(en.contains(needle), "{needle} not in:\n{en}");
    }
    let file = home.path("carryouts.pdf");
    for args in [
        vec![
            "report",
            "summary",
            "--from",
            "2026-10-01",
            "--to",
            "2099-12-31",
            "--format",
            "pdf",
        ],
        vec![
            "report",
            "carryouts",
            "--from",
            "2026-10-01",
            "--to",
            "2099-12-31",
            "--format",
            "pdf",
            "-o",
            file.to_str().unwrap(),
        ],
    ] {
        let refused = home.run("kato", args).expect_code(2);
        assert!(refused.stderr.contains("summary"), "{}", refused.stderr);
    }
    assert!(!file.exists());
}

/// Issue 18, item 6: every PDF certificate carries a QR code (vector squares) that
/// encodes its id, the SHA-256 of its signed JSON and the station key's id; a phone
/// reading the paper (here zbarimg on the rendered page) gets the values that check
/// against the exported JSON. An erasure and a disposal certificate, in both languages.
#[test]
fn the_qr_code_on_a_certificate_reads_back_as_its_id_hash_and_key() {
    if !require_tool("pdftoppm") || !require_tool("zbarimg") || !require_tool("sha256sum") {
        return;
    }
    let home = Home::with_people();
    let img = home.path("disk.img");
    std::fs::write(&img, vec![1u8; 1 << 20]).unwrap();
    home.run(
        "ito",
        [
            "wipe",
            img.to_str().unwrap(),
            "--method",
            "zero",
            "--yes",
            "--quiet",
            "--serial",
            "QR-1",
        ],
    )
    .ok();
    let file = home.path("old.csv");
    std::fs::write(&file, "x").unwrap();
    home.run(
        "suzuki",
        [
            "retain",
            "add",
            file.to_str().unwrap(),
            "--class",
            "until-unneeded",
        ],
    )
    .ok();
    let today = custody_today(&home);
    home.run("suzuki", ["retain", "event", "RT-1", "--date", &today])
        .ok();
    home.run("suzuki", ["retain", "dispose", "RT-1", "--request"])
        .ok();
    home.run("sato", ["approve", "RQ-1"]).ok();
    home.run("suzuki", ["retain", "dispose", "RT-1"]).ok();

    for (id, lang) in [("EC-1", "ja"), ("DC-1", "en")] {
        let json = home.path(&format!("{id}.json"));
        home.run(
            "kato",
            [
                "cert",
                "export",
                id,
                "--format",
                "json",
                "-o",
                json.to_str().unwrap(),
            ],
        )
        .ok();
        let sha = custody_tests::sh("sha256sum", &[json.to_str().unwrap()]);
        let sha = sha.split_whitespace().next().unwrap().to_uppercase();
        let pdf = export_pdf(&home, id, lang);
        let png = home.path(&format!("{id}-{lang}"));
        custody_tests::sh(
            "pdftoppm",
            &[
                "-png",
                "-r",
                "300",
                "-singlefile",
                pdf.to_str().unwrap(),
                png.to_str().unwrap(),
            ],
        );
        let read = custody_tests::sh(
            "zbarimg",
            &["--raw", "-q", &format!("{}.png", png.display())],
        );
        let fields: Vec<&str> = read.trim().split(':').collect();
        assert_eq!(fields.len(), 4, "{read}");
        assert_eq!(fields[0], "CUSTODY");
        assert_eq!(fields[1], id);
        assert_eq!(fields[2], sha, "the QR's hash is the exported JSON's");
        let verified = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
        assert_eq!(
            fields[3],
            verified["key_id"].as_str().unwrap().to_uppercase()
        );
        // The same key signed the JSON the QR names.
        home.run("kato", ["cert", "verify", json.to_str().unwrap()])
            .ok();
    }
}

/// Today's date as the station reads it (the start of an item registered today).
fn custody_today(home: &Home) -> String {
    let list = home.run("kato", ["retain", "list", "--json"]).ok().json();
    list[0]["since"].as_str().unwrap().to_owned()
}

/// Issue 18, item 4: an overwrite of a flash target (a loop device that reports it
/// does not rotate) is certified Clear, never Purge, and the certificate says that a
/// Purge needs the drive's own sanitize command or its destruction, in both PDFs.
#[test]
fn a_flash_target_is_clear_and_its_certificate_says_what_purge_needs() {
    if !(require_tool("pdftotext") && require_loop(&[])) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::new(4 << 20, 0x5A);
    let name = dev.arg().trim_start_matches("/dev/").to_owned();
    std::fs::write(format!("/sys/block/{name}/queue/rotational"), "0").unwrap();
    home.run(
        "ito",
        [
            "wipe",
            dev.arg(),
            "--method",
            "zero",
            "--yes",
            "--quiet",
            "--serial",
            "SSD-1",
        ],
    )
    .ok();
    drop(dev);
    let cert = home
        .run("kato", ["cert", "show", "EC-1", "--json"])
        .ok()
        .json();
    let text = cert.to_string();
    assert!(text.contains("\"category\":\"clear\""), "{text}");
    assert!(text.contains("sanitize command"), "{text}");
    let ja = pdf_text(&export_pdf(&home, "EC-1", "ja"));
    assert!(ja.contains("クリア") && ja.contains("サニタイズ"), "{ja}");
    let en = pdf_text(&export_pdf(&home, "EC-1", "en"));
    assert!(
        en.contains("Clear") && en.contains("sanitize command"),
        "{en}"
    );
}

/// Issue 18, item 7: whether a Host Protected Area or a DCO could hide sectors is on
/// the certificate; a loop device cannot have them, and the certificate says so, in
/// both PDFs.
#[test]
fn the_certificate_says_whether_hidden_areas_were_checked() {
    if !(require_tool("pdftotext") && require_loop(&[])) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::new(4 << 20, 0x5A);
    home.run(
        "ito",
        ["wipe", dev.arg(), "--method", "zero", "--yes", "--quiet"],
    )
    .ok();
    drop(dev);
    let cert = home
        .run("kato", ["cert", "show", "EC-1", "--json"])
        .ok()
        .json();
    let hidden = &cert["medium"]["hidden_areas"];
    assert_eq!(hidden["state"], "not-applicable", "{cert:#}");
    assert!(hidden["note"].as_str().unwrap().contains("loop device"));
    let ja = pdf_text(&export_pdf(&home, "EC-1", "ja"));
    assert!(
        ja.contains("隠し領域") && ja.contains("ループデバイスには隠し領域はありません"),
        "{ja}"
    );
    let en = pdf_text(&export_pdf(&home, "EC-1", "en"));
    assert!(
        en.contains("Hidden areas") && en.contains("a loop device has no hidden areas"),
        "{en}"
    );
}

/// Issue 18, item 5: an erasure certificate carries every field NIST SP 800-88 Rev. 2
/// asks for — the medium (manufacturer, model, serial, firmware, capacity, property
/// number, type, where it came from), the sanitization (category, method, tool and
/// version, verification and result, destination) and, for the sanitizer and the
/// validator, name, title, department, date, location, contact and their own
/// signature — in the JSON and in both PDFs; both signatures verify with minisign.
#[test]
fn an_erasure_certificate_carries_every_rev2_field_and_both_peoples_signatures() {
    if !(require_tool("pdftotext") && require_tool("minisign") && require_loop(&[])) {
        return;
    }
    let home = Home::with_people();
    let dev = LoopDevice::new(4 << 20, 0x5A);
    home.run(
        "ito",
        [
            "wipe",
            dev.arg(),
            "--method",
            "zero",
            "--yes",
            "--quiet",
            "--serial",
            "REV2-HDD-1",
            "--asset-tag",
            "備品-2019-017",
            "--destination",
            "disposal",
            "--from",
            "PC-0412（総務課）",
            "--title",
            "主任",
            "--contact",
            "内線 2104",
            "--place",
            "本庁舎 3 階 サーバ室",
        ],
    )
    .ok();
    drop(dev);
    home.run(
        "tanaka",
        [
            "cert",
            "sign-off",
            "EC-1",
            "--comment",
            "消去を確認",
            "--title",
            "課長",
            "--contact",
            "内線 2100",
            "--place",
            "本庁舎 3 階 情報システム課",
        ],
    )
    .ok();
    let doc = home
        .run("kato", ["cert", "show", "EC-1", "--json"])
        .ok()
        .json();
    for field in [
        "medium.manufacturer",
        "medium.model",
        "medium.serial",
        "medium.firmware",
        "medium.size_bytes",
        "medium.asset_tag",
        "medium.type",
        "medium.origin",
        "medium.power_on_hours",
        "medium.health",
        "medium.smart",
        "medium.hidden_areas",
        "sanitization.category",
        "sanitization.method",
        "sanitization.tool.name",
        "sanitization.tool.version",
        "sanitization.verification.mode",
        "sanitization.verification.result",
        "destination",
        "operator.name",
        "operator.title",
        "operator.department",
        "operator.date",
        "operator.location",
        "operator.contact",
        "operator.signature",
        "validator.name",
        "validator.title",
        "validator.at",
        "validator.location",
        "validator.contact",
        "validator.signature",
    ] {
        let mut v = &doc;
        for part in field.split('.') {
            v = v
                .get(part)
                .unwrap_or_else(|| panic!("no {field} in {doc:#}"));
        }
    }
    assert_eq!(doc["medium"]["origin"], "PC-0412（総務課）");
    assert_eq!(doc["operator"]["title"], "主任");
    assert_eq!(doc["validator"]["location"], "本庁舎 3 階 情報システム課");
    assert_eq!(doc["medium"]["smart"]["state"], "not-available");

    // Each person's signature, checked with minisign alone.
    let dir = home.dir.path();
    let check = |who: &str, message: String| {
        custody_tests::minisign_verifies(dir, who, &doc[who]["signature"], &message);
    };
    check(
        "operator",
        format!(
            "custody-entry/v1\n{}\n",
            doc["ledger"]["hash"].as_str().unwrap()
        ),
    );
    check(
        "validator",
        format!(
            "custody-sign-off/v1\nEC-1\n{}\n{}\n",
            doc["validator"]["signature"]["document_sha256"]
                .as_str()
                .unwrap(),
            doc["validator"]["at"].as_str().unwrap()
        ),
    );
    // cert verify checks both against the people register.
    let json = home.path("EC-1.json");
    home.run(
        "kato",
        [
            "cert",
            "export",
            "EC-1",
            "--format",
            "json",
            "-o",
            json.to_str().unwrap(),
        ],
    )
    .ok();
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
        people["detail"].as_str().unwrap().contains("ito, tanaka"),
        "{people}"
    );

    let page = export_pdf(&home, "EC-1", "ja");
    assert_eq!(pages(&page), "1");
    let ja = pdf_text(&page);
    for want in [
        "ファームウェア",
        "搬出元",
        "PC-0412（総務課）",
        "通電時間",
        "役職",
        "主任",
        "課長",
        "連絡先",
        "内線 2104",
        "内線 2100",
        "場所",
        "本庁舎 3 階 サーバ室",
        "本人の鍵",
        "備品-2019-017",
        "クリア",
        "隠し領域",
    ] {
        assert!(ja.contains(want), "no {want} in\n{ja}");
    }
    let en = pdf_text(&export_pdf(&home, "EC-1", "en"));
    for want in [
        "firmware",
        "Source (came from)",
        "Power-on hours",
        "title",
        "Contact, location",
        "Date, signature",
        "signed with their own key",
        "Validated by",
        "Sanitized by",
        "Clear",
        "Destination",
    ] {
        assert!(en.contains(want), "no {want} in\n{en}");
    }
}
