//! What people read and type is in the station's local time zone; the ledger stays UTC.
//! An erasure at 23:30 UTC on 31 January 2027 is 08:30 on 1 February in Japan: the
//! certificate, the register and the retention dates must say 1 February there.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

use custody_tests::{Home, require_tool};
use serde_json::Value;

/// 23:30 UTC on 31 January 2027; 08:30 on 1 February in Japan.
const AT: &str = "2027-01-31T23:30:00Z";
/// Japan's time zone as a POSIX TZ string (no tz database needed).
const JAPAN: &str = "JST-9";
const UTC: &str = "UTC0";

/// Runs the binary as `actor` in time zone `tz` at the fixed time [`AT`].
fn run_at(home: &Home, actor: &str, tz: &str, args: &[&str]) -> String {
    let out = home
        .cmd(actor)
        .env("TZ", tz)
        .env("CUSTODY_TEST_NOW", AT)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pdf_text(home: &Home, tz: &str, lang: &str) -> String {
    let file = home.path(&format!("EC-1-{tz}-{lang}.pdf"));
    run_at(
        home,
        "kato",
        tz,
        &[
            "cert",
            "export",
            "EC-1",
            "--format",
            "pdf",
            "--lang",
            lang,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let out = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn certificates_registers_and_retention_dates_are_in_local_time() {
    if !require_tool("pdftotext") {
        return;
    }
    let home = Home::with_people();
    let img = home.path("disk.img");
    std::fs::write(&img, vec![1u8; 1 << 20]).unwrap();
    run_at(
        &home,
        "ito",
        JAPAN,
        &[
            "wipe",
            img.to_str().unwrap(),
            "--method",
            "zero",
            "--yes",
            "--quiet",
        ],
    );

    // The record itself is UTC, whatever the zone.
    let cert: Value = serde_json::from_str(&run_at(
        &home,
        "kato",
        JAPAN,
        &["cert", "show", "EC-1", "--json"],
    ))
    .unwrap();
    assert!(
        cert.to_string().contains("2027-01-31T23:30:00"),
        "UTC in the record: {cert}"
    );

    // The PDF shows the local time with its offset, and the era date of the local day.
    let ja = pdf_text(&home, JAPAN, "ja");
    assert!(ja.contains("2027-02-01 08:30:00 (UTC+09:00)"), "{ja}");
    assert!(ja.contains("令和9年2月1日"), "{ja}");
    assert!(!ja.contains("令和9年1月31日"), "{ja}");
    let en = pdf_text(&home, JAPAN, "en");
    assert!(en.contains("2027-02-01 08:30:00 (UTC+09:00)"), "{en}");
    // The same certificate read in a UTC office says 31 January.
    let utc = pdf_text(&home, UTC, "ja");
    assert!(utc.contains("2027-01-31 23:30:00 (UTC+00:00)"), "{utc}");
    assert!(utc.contains("令和9年1月31日"), "{utc}");

    // The register: 1 February in Japan is the day of the wipe, and the CSV says so.
    let csv = run_at(
        &home,
        "kato",
        JAPAN,
        &[
            "report",
            "wipes",
            "--from",
            "2027-02-01",
            "--to",
            "2027-02-01",
        ],
    );
    assert!(csv.contains("2027-02-01 08:30:00"), "{csv}");
    let csv = run_at(
        &home,
        "kato",
        JAPAN,
        &[
            "report",
            "wipes",
            "--from",
            "2027-01-31",
            "--to",
            "2027-01-31",
        ],
    );
    assert!(!csv.contains("WP-"), "not on 31 January in Japan: {csv}");
    let csv = run_at(
        &home,
        "kato",
        UTC,
        &[
            "report",
            "wipes",
            "--from",
            "2027-01-31",
            "--to",
            "2027-01-31",
        ],
    );
    assert!(csv.contains("2027-01-31 23:30:00"), "{csv}");

    // Retention counted from the local day: five years from 1 February 2027.
    let folder = home.path("export");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.csv"), "x").unwrap();
    run_at(
        &home,
        "suzuki",
        JAPAN,
        &[
            "retain",
            "add",
            folder.to_str().unwrap(),
            "--class",
            "system-data",
        ],
    );
    let listed: Value =
        serde_json::from_str(&run_at(&home, "kato", JAPAN, &["retain", "list", "--json"])).unwrap();
    assert_eq!(listed[0]["since"], "2027-02-01");
    assert_eq!(listed[0]["due"], "2032-02-01");

    // A carry-out due back "by 2 February" is due by the end of that day in Japan.
    run_at(
        &home,
        "suzuki",
        JAPAN,
        &[
            "carryout",
            "new",
            "--what",
            "会員名簿",
            "--reason",
            "監査",
            "--to",
            "本部",
            "--transport",
            "手渡し",
            "--return-by",
            "2027-02-02",
        ],
    );
    let listed: Value = serde_json::from_str(&run_at(
        &home,
        "kato",
        JAPAN,
        &["carryout", "list", "--json"],
    ))
    .unwrap();
    assert_eq!(
        listed[0]["return_by"], "2027-02-02T15:00:00.000000Z",
        "midnight at the end of 2 February, Japan time"
    );
    // A time without an offset is local; one with an offset is taken as given.
    for return_by in ["2027-02-03 17:00", "2027-02-04T17:00+09:00"] {
        run_at(
            &home,
            "suzuki",
            UTC,
            &[
                "carryout",
                "new",
                "--what",
                "会員名簿",
                "--reason",
                "監査",
                "--to",
                "本部",
                "--transport",
                "手渡し",
                "--return-by",
                return_by,
            ],
        );
    }
    let listed: Value = serde_json::from_str(&run_at(
        &home,
        "kato",
        JAPAN,
        &["carryout", "list", "--json"],
    ))
    .unwrap();
    let dues: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["return_by"].as_str().unwrap())
        .collect();
    assert!(dues.contains(&"2027-02-04T08:00:00.000000Z"), "{dues:?}");
    // "2027-02-03 17:00" was typed in a UTC office: 17:00 UTC.
    assert!(dues.contains(&"2027-02-03T17:00:00.000000Z"), "{dues:?}");
}
