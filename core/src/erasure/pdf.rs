//! Certificates rendered for people: one A4 page laid out as a form, in Japanese or
//! English, with the signing key id, the document hash and how to verify it.
//!
//! The signed JSON is the record; this page is a rendering of it. Japanese text is set
//! in a real font found on the system at run time (Debian's `fonts-ipaexfont` or
//! `fonts-noto-cjk`) and embedded (subset) by krilla, so `pdftotext` gives the text back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use serde_json::Value;

use crate::error::{Error, Result};

pub use crate::vocab::Lang;

/// What the page says about the signature.
#[derive(Debug, Clone, Copy)]
pub struct Seal<'a> {
    /// The station key's id.
    pub key_id: &'a str,
    /// That key in base64 (the second line of its `.pub` file), when this station
    /// knows it: printed in full, so that checking needs nothing kept elsewhere.
    pub public_key: Option<&'a str>,
    /// SHA-256 of the signed JSON document.
    pub sha256: &'a str,
    /// The certificate id (names the files in the verification commands).
    pub certificate_id: &'a str,
    /// The address of the desk's page that checks this certificate against the
    /// ledger, when the station's config names its desk.
    pub verify_at: Option<&'a str>,
}

/// What the QR code on a certificate page encodes: the certificate's id, the SHA-256
/// of its signed JSON document and the station key's id, in QR alphanumeric
/// characters (`CUSTODY:EC-1:<SHA-256, 64 hex digits>:<key id>`), so that a phone, or
/// the verify page, can check the paper against the signed record.
pub fn qr_text(seal: &Seal<'_>) -> String {
    format!(
        "CUSTODY:{}:{}:{}",
        seal.certificate_id.to_uppercase(),
        seal.sha256.to_uppercase(),
        seal.key_id.to_uppercase()
    )
}

/// The side of the QR code on the page, in points (about 25 mm).
const QR_SIDE: f32 = 72.0;

/// Font files tried in order after `$CUSTODY_FONT`: (path, face index).
const FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", 0),
    ("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf", 0),
    ("/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJKjp-Regular.otf",
        0,
    ),
];

/// Finds a font with Japanese glyphs: `$CUSTODY_FONT`, then the files of Debian's
/// fonts-ipaexfont, fonts-ipafont and fonts-noto-cjk.
pub fn find_font() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("CUSTODY_FONT").map(PathBuf::from) {
        if path.is_file() {
            return Ok(path);
        }
        return Err(Error::NoFont { named: Some(path) });
    }
    FONTS
        .iter()
        .map(|(p, _)| PathBuf::from(p))
        .find(|p| p.is_file())
        .ok_or(Error::NoFont { named: None })
}

pub(crate) fn load_font(path: &Path) -> Result<Font> {
    let bytes = fs_err::read(path)?;
    Font::new(Arc::new(bytes).into(), 0).ok_or_else(|| Error::BadFont {
        path: path.to_path_buf(),
    })
}

/// A date in the Japanese era calendar: `令和8年11月22日`.
pub fn wareki(date: NaiveDate) -> String {
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("era start dates are valid");
    let (era, first) = if date >= ymd(2019, 5, 1) {
        ("令和", 2019)
    } else if date >= ymd(1989, 1, 8) {
        ("平成", 1989)
    } else if date >= ymd(1926, 12, 25) {
        ("昭和", 1926)
    } else {
        return format!("{}年{}月{}日", date.year(), date.month(), date.day());
    };
    let year = date.year() - first + 1;
    let year = if year == 1 {
        "元".to_string()
    } else {
        year.to_string()
    };
    format!("{era}{year}年{}月{}日", date.month(), date.day())
}

/// A ledger timestamp as people read it, in the station's local time with its offset
/// from UTC: `2026-11-23 08:30:00 (UTC+09:00)`, plus the era date of that local day in
/// Japanese.
fn when(text: &str, lang: Lang) -> String {
    match crate::clock::parse_stamp(text) {
        Ok(at) => {
            let at = crate::clock::local(at);
            let iso = at.format("%Y-%m-%d %H:%M:%S (UTC%:z)").to_string();
            match lang {
                Lang::Ja => format!("{iso}（{}）", wareki(at.date_naive())),
                Lang::En => iso,
            }
        }
        Err(_) => text.to_string(),
    }
}

/// A ledger timestamp in the station's local time, formatted with `format` (the offset
/// is given once, in the issue date).
fn local_time(text: &str, format: &str) -> String {
    crate::clock::format_local(text, format).unwrap_or_else(|| text.to_string())
}

/// Width of `text` in ems, as the fonts used here set it: CJK characters one em, the
/// rest about half (a slight overestimate, so wrapped lines never run off the page).
pub(crate) fn ems(text: &str) -> f32 {
    text.chars()
        .map(|c| {
            if (c as u32) >= 0x2E80 {
                1.0
            } else if c.is_ascii_uppercase() || c == 'W' || c == 'M' {
                0.68
            } else {
                0.56
            }
        })
        .sum()
}

/// Breaks `text` into lines no wider than `width` points at `size`, preferring spaces
/// and breaking anywhere when a word (a hash, a path) is longer than a line.
pub(crate) fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let max = width / size;
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_inclusive(' ') {
            if ems(&line) + ems(word) <= max {
                line.push_str(word);
                continue;
            }
            if !line.trim().is_empty() {
                lines.push(line.trim_end().to_string());
                line.clear();
            }
            for c in word.chars() {
                if ems(&line) + ems(&c.to_string()) > max {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

struct Section {
    title: String,
    rows: Vec<(String, String)>,
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) if s.is_empty() => "—".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(v, |v, k| v.get(k).unwrap_or(&Value::Null))
}

/// A size in the unit that reads best (decimal, as drive makers print them), with the
/// exact count: `4.19 MB（4,194,816 バイト）`; never `0.00 GB`.
fn bytes(v: &Value, lang: Lang) -> String {
    let Some(n) = v.as_u64() else {
        return s(v);
    };
    let grouped = n
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).expect("digits are ASCII"))
        .collect::<Vec<_>>()
        .join(",");
    let unit = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")]
        .into_iter()
        .find(|(size, _)| n as f64 >= *size);
    match (unit, lang) {
        (Some((size, unit)), Lang::Ja) => {
            format!("{:.2} {unit}（{grouped} バイト）", n as f64 / size)
        }
        (Some((size, unit)), Lang::En) => {
            format!("{:.2} {unit} ({grouped} bytes)", n as f64 / size)
        }
        (None, Lang::Ja) => format!("{grouped} バイト"),
        (None, Lang::En) => format!("{grouped} bytes"),
    }
}

/// A person's role as the regulations name it.
fn role_words(role: &Value, lang: Lang) -> String {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    match role.as_str() {
        Some("clerk") => t("事務取扱担当者", "clerk"),
        Some("it") => t("システム管理担当者", "IT staff"),
        Some("manager") => t("保護責任者", "manager"),
        Some("auditor") => t("監査責任者", "auditor"),
        _ => s(role),
    }
}

/// A wipe method by the name people know it by, with its number of passes (and the
/// blanking pass of zeros after them, when there was one).
fn method_words(method: &str, passes: usize, blank: bool, lang: Lang) -> String {
    let passes = if blank {
        passes.saturating_sub(1)
    } else {
        passes
    };
    let after = match (blank, lang) {
        (false, _) => "",
        (true, Lang::Ja) => " ＋ 仕上げのゼロ書込み",
        (true, Lang::En) => " + a final pass of zeros",
    };
    format!("{}{after}", method_name(method, passes, lang))
}

fn method_name(method: &str, passes: usize, lang: Lang) -> String {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    let name = match method {
        "zero" => t("ゼロ書込み", "Zeros"),
        "one" => t("0xFF 書込み", "Ones (0xFF)"),
        "random" => t("乱数書込み", "Random data"),
        "dod-short" | "dod" => "DoD 5220.22-M".into(),
        "gutmann" => t("グートマン方式", "Gutmann"),
        "schneier" => t("シュナイアー方式", "Schneier"),
        "vsitr" => "VSITR".into(),
        "hmg-is5" => "HMG IS5 Enhanced".into(),
        other => other.to_owned(),
    };
    match lang {
        Lang::Ja => format!("{name} ({passes}回)"),
        Lang::En if passes == 1 => format!("{name} (1 pass)"),
        Lang::En => format!("{name} ({passes} passes)"),
    }
}

/// What was read back, and how it came out: `最終パスを全域照合・合格`.
fn verification_words(mode: &str, result: &str, mismatches: &Value, lang: Lang) -> String {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    let what = match mode {
        "last" => t("最終パスを全域照合", "last pass read back in full"),
        "all" => t("全パスを全域照合", "every pass read back in full"),
        "off" => t("照合なし", "not read back"),
        other => other.to_owned(),
    };
    let outcome = match result {
        "passed" => t("合格", "passed"),
        "failed" => match lang {
            Lang::Ja => format!("不合格（{} 箇所の不一致）", s(mismatches)),
            Lang::En => format!("FAILED ({} mismatches)", s(mismatches)),
        },
        "skipped" => t("未実施", "not done"),
        other => other.to_owned(),
    };
    match lang {
        Lang::Ja => format!("{what}・{outcome}"),
        Lang::En => format!("{what}: {outcome}"),
    }
}

/// Where the medium goes after the wipe.
fn destination_words(destination: &Value, lang: Lang) -> String {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    match destination.as_str() {
        Some("reuse") => t("再利用", "reuse"),
        Some("disposal") => t("廃棄", "disposal"),
        Some("return-to-lessor") => t("リース返却", "return to the lessor"),
        Some("recycling") => t("リサイクル", "recycling"),
        Some(other) => other.to_owned(),
        None => t("未定", "not decided"),
    }
}

/// The NIST SP 800-88 category.
fn category_words(category: &Value, lang: Lang) -> String {
    match (category.as_str(), lang) {
        (Some("clear"), Lang::Ja) => "クリア (Clear)".into(),
        (Some("purge"), Lang::Ja) => "パージ (Purge)".into(),
        (Some("destroy"), Lang::Ja) => "破壊 (Destroy)".into(),
        (Some(word), Lang::En) => {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
        _ => s(category),
    }
}

fn status_word(status: &str, lang: Lang) -> String {
    match (status, lang) {
        ("erased", Lang::Ja) => "消去完了".into(),
        ("failed", Lang::Ja) => "失敗 — 消去は完了していません".into(),
        ("interrupted", Lang::Ja) => "中断 — 消去は完了していません".into(),
        ("disposed", Lang::Ja) => "廃棄完了".into(),
        ("destroyed", Lang::Ja) => "破壊完了".into(),
        ("destroyed", Lang::En) => "DESTROYED".into(),
        ("erased", Lang::En) => "ERASED".into(),
        ("failed", Lang::En) => "FAILED — the medium was not completely erased".into(),
        ("interrupted", Lang::En) => "INTERRUPTED — the medium was not completely erased".into(),
        ("disposed", Lang::En) => "DISPOSED".into(),
        (other, _) => other.to_string(),
    }
}

/// Words in the page's language.
fn tr(lang: Lang, ja: &str, en: &str) -> String {
    match lang {
        Lang::Ja => ja.to_string(),
        Lang::En => en.to_string(),
    }
}

/// The ledger entry that recorded the certificate's subject, and its hash.
fn ledger_row(doc: &Value, lang: Lang) -> (String, String) {
    (
        tr(lang, "台帳", "Ledger"),
        format!(
            "{} {} / {}",
            tr(lang, "記録番号", "entry"),
            s(at(doc, "ledger.seq")),
            s(at(doc, "ledger.hash"))
        ),
    )
}

/// The serial number and where it came from.
fn serial_line(doc: &Value, lang: Lang) -> String {
    format!(
        "{} ({})",
        s(at(doc, "medium.serial")),
        match (at(doc, "medium.serial_source").as_str(), lang) {
            (Some("device"), Lang::Ja) => "装置から読取",
            (Some("device"), Lang::En) => "read from the device",
            (Some("operator"), Lang::Ja) => "作業者が入力",
            (Some("operator"), Lang::En) => "entered by the operator",
            (_, Lang::Ja) => "読取不可",
            (_, Lang::En) => "not readable",
        }
    )
}

/// One line per pass; beyond twelve, the first and last four and a summary of the
/// rest (the JSON certificate lists them all).
fn pass_lines(doc: &Value, lang: Lang) -> Vec<String> {
    let list = at(doc, "sanitization.passes")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let line = |i: usize, p: &Value| {
        format!(
            "{}: {}  {}  {} → {}",
            i + 1,
            match (p["pattern"].as_str(), lang) {
                (Some("random"), Lang::Ja) => "乱数".to_owned(),
                _ => s(&p["pattern"]),
            },
            bytes(&p["bytes"], lang),
            local_time(p["start"].as_str().unwrap_or(""), "%Y-%m-%d %H:%M:%S"),
            local_time(p["end"].as_str().unwrap_or(""), "%H:%M:%S"),
        )
    };
    if list.is_empty() {
        return vec!["—".into()];
    }
    if list.len() <= 12 {
        return list.iter().enumerate().map(|(i, p)| line(i, p)).collect();
    }
    let mut passes: Vec<String> = list
        .iter()
        .enumerate()
        .take(4)
        .map(|(i, p)| line(i, p))
        .collect();
    let middle = &list[4..list.len() - 4];
    let total = bytes(
        &Value::from(
            middle
                .iter()
                .filter_map(|p| p["bytes"].as_u64())
                .sum::<u64>(),
        ),
        lang,
    );
    passes.push(match lang {
        Lang::Ja => format!(
            "5–{}: {} パス（各パターンの記録は JSON 証明書に全て記載）合計 {total}",
            list.len() - 4,
            middle.len(),
        ),
        Lang::En => format!(
            "5–{}: {} passes (each one is listed in the JSON certificate), {total} in all",
            list.len() - 4,
            middle.len(),
        ),
    });
    passes.extend(
        list.iter()
            .enumerate()
            .skip(list.len() - 4)
            .map(|(i, p)| line(i, p)),
    );
    passes
}

/// The I/O errors: how many, and the first four.
fn errors_line(doc: &Value, lang: Lang) -> String {
    let errors = at(doc, "sanitization.errors")
        .as_array()
        .cloned()
        .unwrap_or_default();
    if errors.is_empty() {
        return tr(lang, "なし", "none");
    }
    let first: Vec<String> = errors
        .iter()
        .take(4)
        .map(|e| {
            format!(
                "{} @ {} ({} B, errno {})",
                s(&e["op"]),
                s(&e["offset"]),
                s(&e["length"]),
                s(&e["errno"])
            )
        })
        .collect();
    format!("{} — {}", errors.len(), first.join("; "))
}

/// Every interruption and resumption of a resumed wipe, with pass and offset; `None`
/// for a wipe that ran through.
fn interruptions_line(doc: &Value, lang: Lang) -> Option<String> {
    let list = |key: &str| at(doc, key).as_array().cloned().unwrap_or_default();
    let (stops, resumes) = (
        list("sanitization.interruptions"),
        list("sanitization.resumptions"),
    );
    if stops.is_empty() && resumes.is_empty() {
        return None;
    }
    let how = |h: &Value| {
        match (lang, h.as_str().unwrap_or("")) {
            (Lang::Ja, "killed") => "強制終了・停電",
            (Lang::Ja, "interrupted") => "中断",
            (Lang::Ja, "failed") => "失敗",
            (Lang::En, "killed") => "killed or power lost",
            (_, other) => other,
        }
        .to_owned()
    };
    let mut lines = Vec::new();
    for (i, stop) in stops.iter().enumerate() {
        let stopped = match lang {
            Lang::Ja => format!(
                "{} 停止（{}）: パス {} の {} バイト目まで書込み済み",
                when(stop["at"].as_str().unwrap_or(""), lang),
                how(&stop["how"]),
                s(&stop["pass"]),
                s(&stop["offset"])
            ),
            Lang::En => format!(
                "{} stopped ({}): pass {} written up to byte {}",
                when(stop["at"].as_str().unwrap_or(""), lang),
                how(&stop["how"]),
                s(&stop["pass"]),
                s(&stop["offset"])
            ),
        };
        lines.push(stopped);
        if let Some(resume) = resumes.get(i) {
            lines.push(match lang {
                Lang::Ja => format!(
                    "{} 再開（台帳 #{}）: パス {} の {} バイト目から",
                    when(resume["at"].as_str().unwrap_or(""), lang),
                    s(&resume["seq"]),
                    s(&resume["pass"]),
                    s(&resume["offset"])
                ),
                Lang::En => format!(
                    "{} resumed (ledger #{}): pass {} from byte {}",
                    when(resume["at"].as_str().unwrap_or(""), lang),
                    s(&resume["seq"]),
                    s(&resume["pass"]),
                    s(&resume["offset"])
                ),
            });
        }
    }
    Some(lines.join("\n"))
}

/// Who signed the certificate off, when, with their comment; or that no one has.
fn validator_line(doc: &Value, lang: Lang) -> String {
    let validator = at(doc, "validator");
    if validator.as_object().is_none_or(|m| m.is_empty()) {
        return tr(lang, "未確認", "not yet signed off");
    }
    format!(
        "{} ({}) {}{}",
        s(&validator["name"]),
        role_words(&validator["role"], lang),
        when(validator["at"].as_str().unwrap_or(""), lang),
        validator["comment"]
            .as_str()
            .map(|c| format!(" — {c}"))
            .unwrap_or_default()
    )
}

/// The kind of medium the media register names, in words.
fn registered_kind(kind: &Value, lang: Lang) -> String {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    match kind.as_str() {
        Some("usb") => t("USBメモリ", "USB stick"),
        Some("hdd") => t("磁気ディスク", "Hard disk"),
        Some("ssd") => "SSD".into(),
        Some("optical") => t("光ディスク", "Optical disc"),
        Some("tape") => t("磁気テープ", "Tape"),
        Some("pc") => t("パソコン", "Computer"),
        Some("other") => t("その他", "Other"),
        _ => t("台帳に登録なし", "not in the media register"),
    }
}

/// What the device reported itself to be, in words.
fn reported_type(kind: &Value, lang: Lang) -> String {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    match kind.as_str() {
        Some("magnetic") => t("磁気ディスク", "Magnetic disk"),
        Some("flash") => t("フラッシュメモリ", "Flash memory"),
        Some("other") => t("その他 (イメージファイル等)", "Other (an image file)"),
        _ => s(kind),
    }
}

/// The medium as the certificate identifies it.
fn medium_section(doc: &Value, lang: Lang) -> Section {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    Section {
        title: t("媒体", "Medium"),
        rows: vec![
            (
                t("種類（台帳・装置の報告）", "Kind (register; as reported)"),
                format!(
                    "{} / {}",
                    registered_kind(at(doc, "medium.registered_kind"), lang),
                    reported_type(at(doc, "medium.type"), lang)
                ),
            ),
            (
                t("製造者・型番・ファームウェア", "Maker, model, firmware"),
                format!(
                    "{} / {} / {}",
                    s(at(doc, "medium.manufacturer")),
                    s(at(doc, "medium.model")),
                    s(at(doc, "medium.firmware"))
                ),
            ),
            (t("シリアル番号", "Serial number"), serial_line(doc, lang)),
            (
                t("容量・接続", "Size, transport"),
                format!(
                    "{} / {}",
                    bytes(at(doc, "medium.size_bytes"), lang),
                    match (at(doc, "medium.transport").as_str(), lang) {
                        (Some("file"), Lang::Ja) => "ファイル".to_owned(),
                        _ => s(at(doc, "medium.transport")),
                    }
                ),
            ),
            (
                t("通電時間・健全性", "Power-on hours, health"),
                smart_line(doc, lang),
            ),
            (
                t("搬出元", "Source (came from)"),
                s(at(doc, "medium.origin")),
            ),
            (
                t("資産番号・媒体台帳", "Asset tag, media register"),
                format!(
                    "{} / {}",
                    s(at(doc, "medium.asset_tag")),
                    s(at(doc, "medium.media_record"))
                ),
            ),
            (t("対象", "Device or file"), s(at(doc, "medium.source"))),
            (
                t("隠し領域 (HPA/DCO)", "Hidden areas (HPA/DCO)"),
                hidden_line(at(doc, "medium.hidden_areas"), lang),
            ),
        ],
    }
}

/// What smartctl read: power-on hours and SMART health, or why nothing was read.
fn smart_line(doc: &Value, lang: Lang) -> String {
    let smart = at(doc, "medium.smart");
    match smart["state"].as_str() {
        Some("read") => {
            let hours = smart["power_on_hours"].as_u64().map_or_else(
                || "—".to_owned(),
                |h| tr(lang, &format!("{h} 時間"), &format!("{h} hours")),
            );
            let health = match (smart["health"].as_str(), lang) {
                (Some("passed"), Lang::Ja) => "正常",
                (Some("passed"), Lang::En) => "passed",
                (Some("failed"), Lang::Ja) => "異常",
                (Some("failed"), Lang::En) => "failed",
                (_, Lang::Ja) => "不明",
                (_, Lang::En) => "unknown",
            };
            format!("{hours}, {health} ({})", s(&smart["tool"]))
        }
        Some("not-available") => tr(
            lang,
            "該当なし（ループデバイス・イメージファイルには SMART 情報がありません）",
            "not applicable: a loop device or an image file has no SMART data",
        ),
        Some(_) => match lang {
            Lang::Ja => "読み取れず（smartctl が未導入か、装置が応答しません）".to_owned(),
            Lang::En => format!("not read: {}", s(&smart["note"])),
        },
        None => tr(lang, "記録なし", "not recorded"),
    }
}

/// Whether an HPA or a DCO hid sectors, or why that was not checked.
fn hidden_line(hidden: &Value, lang: Lang) -> String {
    let state = hidden["state"].as_str().unwrap_or("");
    let note = hidden["note"].as_str();
    let words = match (state, lang) {
        ("none", Lang::Ja) => "なし（確認済み）",
        ("none", Lang::En) => "none (checked)",
        ("hpa" | "dco" | "hpa+dco", Lang::Ja) => "あり",
        ("hpa" | "dco" | "hpa+dco", Lang::En) => "present",
        ("not-applicable", Lang::Ja) => "該当なし",
        ("not-applicable", Lang::En) => "not applicable",
        ("not-checked", Lang::Ja) => "確認できず",
        ("not-checked", Lang::En) => "could not be checked",
        (_, Lang::Ja) => "記録なし",
        (_, Lang::En) => "not recorded",
    };
    let sectors = match (
        hidden["visible_sectors"].as_u64(),
        hidden["native_sectors"].as_u64(),
    ) {
        (Some(v), Some(n)) => format!(
            " ({} {v} / {} {n})",
            tr(lang, "表示セクタ", "visible sectors"),
            tr(lang, "実セクタ", "native")
        ),
        _ => String::new(),
    };
    // The notes are core's English; in Japanese only the reason's gist is given.
    let why = match (note, lang) {
        (None, _) => String::new(),
        (Some(note), Lang::En) => format!(": {note}"),
        (Some(note), Lang::Ja) => {
            let gist = if note.contains("loop device") {
                "ループデバイスには隠し領域はありません"
            } else if note.contains("image file") {
                "イメージファイルには隠し領域はありません"
            } else if note.contains("NVMe") {
                "NVMe には HPA・DCO はありません"
            } else if note.contains("not installed") {
                "hdparm が未導入のため確認できません"
            } else if note.contains("DCO could not") {
                "DCO は確認できません"
            } else {
                "装置が ATA コマンドに応答しません"
            };
            format!("：{gist}")
        }
    };
    format!("{words}{sectors}{why}")
}

/// How the medium was overwritten and checked.
fn sanitization_section(doc: &Value, lang: Lang) -> Section {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    let mut rows = vec![
        (
            t("区分 (NIST SP 800-88)", "Category (NIST SP 800-88)"),
            category_words(at(doc, "sanitization.category"), lang),
        ),
        (
            t("方式", "Method"),
            method_words(
                at(doc, "sanitization.method").as_str().unwrap_or(""),
                at(doc, "sanitization.passes")
                    .as_array()
                    .map_or(0, Vec::len),
                at(doc, "sanitization.blank") == &Value::Bool(true),
                lang,
            ),
        ),
        (t("パス", "Passes"), pass_lines(doc, lang).join("\n")),
        (
            t("ツール", "Tool"),
            format!(
                "{} {}",
                s(at(doc, "sanitization.tool.name")),
                s(at(doc, "sanitization.tool.version"))
            ),
        ),
        (
            t("検証", "Verification"),
            verification_words(
                at(doc, "sanitization.verification.mode")
                    .as_str()
                    .unwrap_or(""),
                at(doc, "sanitization.verification.result")
                    .as_str()
                    .unwrap_or(""),
                at(doc, "sanitization.verification.mismatches"),
                lang,
            ),
        ),
        (t("入出力エラー", "I/O errors"), errors_line(doc, lang)),
    ];
    if let Some(line) = interruptions_line(doc, lang) {
        rows.push((t("中断と再開", "Interruptions"), line));
    }
    if let Some(note) = at(doc, "sanitization.flash_note").as_str() {
        let note = match lang {
            Lang::Ja => "上書きは NIST SP 800-88 のクリア（Clear）であり、パージ（Purge）ではありません。予備領域や代替されたセルには届きません。パージには装置自身のサニタイズ機能（ATA SANITIZE、NVMe Sanitize）または物理的破壊が必要です".to_owned(),
            Lang::En => note.to_owned(),
        };
        rows.push((t("フラッシュ媒体", "Flash media"), note));
    }
    Section {
        title: t("消去", "Sanitization"),
        rows,
    }
}

fn erasure_sections(doc: &Value, lang: Lang) -> Vec<Section> {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    vec![
        Section {
            title: t("作業者", "Sanitized by"),
            rows: person_rows(at(doc, "operator"), "date", lang),
        },
        medium_section(doc, lang),
        sanitization_section(doc, lang),
        Section {
            title: t("結果", "Result"),
            rows: vec![
                (
                    t("消去後の処置", "Destination"),
                    destination_words(at(doc, "destination"), lang),
                ),
                ledger_row(doc, lang),
            ],
        },
        Section {
            title: t("確認者", "Validated by"),
            rows: if at(doc, "validator")
                .as_object()
                .is_none_or(|m| m.is_empty())
            {
                vec![(t("氏名・役割", "Name, role"), validator_line(doc, lang))]
            } else {
                let mut rows = person_rows(at(doc, "validator"), "at", lang);
                if let Some(comment) = at(doc, "validator.comment").as_str() {
                    rows.push((t("所見", "Comment"), comment.to_owned()));
                }
                rows
            },
        },
    ]
}

/// A person's own signature in words: the key it was made with, and where to check it.
fn own_signature_words(signature: &Value, lang: Lang) -> String {
    match (signature["key_id"].as_str(), lang) {
        (Some(key), Lang::Ja) => format!("本人の鍵 {key} で署名（JSON 版を minisign で検証可）"),
        (Some(key), Lang::En) => {
            format!("signed with their own key {key} (see the JSON; minisign checks it)")
        }
        (None, _) => tr(lang, "なし", "none"),
    }
}

/// A person on a certificate, as NIST SP 800-88 Rev. 2 lists them: name and role,
/// title, department, contact, location, date (`date_key` of the block) and their
/// own signature's key.
fn person_rows(person: &Value, date_key: &str, lang: Lang) -> Vec<(String, String)> {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    let or_dash = |v: &Value| v.as_str().map_or_else(|| "—".to_owned(), str::to_owned);
    let signature = own_signature_words(&person["signature"], lang);
    let date = person[date_key]
        .as_str()
        .map_or_else(|| "—".to_owned(), |d| when(d, lang));
    let mut who = format!(
        "{} ({})",
        s(&person["name"]),
        role_words(&person["role"], lang)
    );
    for part in [&person["title"], &person["department"]] {
        if let Some(part) = part.as_str() {
            who.push_str(", ");
            who.push_str(part);
        }
    }
    vec![
        (t("氏名・役割・役職", "Name, role, title"), who),
        (
            t("連絡先・場所", "Contact, location"),
            format!(
                "{} / {}",
                or_dash(&person["contact"]),
                or_dash(&person["location"])
            ),
        ),
        (
            t("日時・署名", "Date, signature"),
            format!("{date} — {signature}"),
        ),
    ]
}

/// What was disposed of: the item, its files (the first ten), its medium.
fn disposed_item_section(doc: &Value, lang: Lang) -> Section {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    let files = at(doc, "what.files")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut listed: Vec<String> = files
        .iter()
        .take(10)
        .map(|f| format!("{} ({})", s(&f["path"]), bytes(&f["size"], lang)))
        .collect();
    if files.len() > 10 {
        listed.push(match lang {
            Lang::Ja => format!("ほか {} 件（JSON 証明書に全て記載）", files.len() - 10),
            Lang::En => format!(
                "and {} more (all listed in the JSON certificate)",
                files.len() - 10
            ),
        });
    }
    let mut rows = vec![
        (t("保存記録", "Retained item"), s(at(doc, "item"))),
        (t("件数", "Count"), s(at(doc, "what.count"))),
    ];
    if !listed.is_empty() {
        rows.push((t("ファイル", "Files"), listed.join("\n")));
    }
    let media = at(doc, "what.media");
    if !media.is_null() {
        rows.push((
            t("媒体", "Medium"),
            format!("{} serial {}", s(&media["id"]), s(&media["serial"])),
        ));
        if let Some(cert) = media["erasure_certificate"].as_str() {
            rows.push((t("消去証明書", "Erasure certificate"), cert.to_string()));
        }
        if let Some(by) = media["destroyed_by"].as_str() {
            rows.push((
                t("物理破壊", "Destroyed by"),
                format!("{by}: {}", s(&media["destruction_method"])),
            ));
        }
    }
    Section {
        title: t("対象", "Item"),
        rows,
    }
}

/// How, by whom and when the item was disposed of.
fn disposal_section(doc: &Value, lang: Lang) -> Section {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    let method = if at(doc, "method").is_null() {
        "—".into()
    } else {
        let passes: Vec<String> = at(doc, "method.passes")
            .as_array()
            .map(|p| p.iter().map(s).collect())
            .unwrap_or_default();
        format!(
            "{} ({}), {} {}",
            s(at(doc, "method.name")),
            passes.join(", "),
            s(at(doc, "method.tool")),
            s(at(doc, "method.version"))
        )
    };
    Section {
        title: t("廃棄", "Disposal"),
        rows: vec![
            (t("方法", "Method"), method),
            (t("申請者", "Requested by"), s(at(doc, "requester"))),
            (
                t("承認者", "Approved by"),
                format!(
                    "{} {}",
                    s(at(doc, "approver.name")),
                    when(at(doc, "approver.at").as_str().unwrap_or(""), lang)
                ),
            ),
            (
                t("実施者", "Carried out by"),
                format!(
                    "{} ({})",
                    s(at(doc, "executor.name")),
                    s(at(doc, "executor.role"))
                ),
            ),
            (
                t("廃棄日時", "Disposed at"),
                when(at(doc, "disposed_at").as_str().unwrap_or(""), lang),
            ),
            ledger_row(doc, lang),
            (t("保存期限", "Keep until"), s(at(doc, "keep_until"))),
        ],
    }
}

/// A witnessed physical destruction: the medium, how and by whom, the photos by
/// their SHA-256, the witness's signature, who recorded it and who checked it.
fn destruction_sections(doc: &Value, lang: Lang) -> Vec<Section> {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    let method = match (at(doc, "destruction.method").as_str(), lang) {
        (Some("shred"), Lang::Ja) => "細断".to_owned(),
        (Some("disintegrate"), Lang::Ja) => "粉砕".to_owned(),
        (Some("drill"), Lang::Ja) => "穿孔".to_owned(),
        (Some("degauss"), Lang::Ja) => "消磁".to_owned(),
        (Some(other), Lang::En) => other.to_owned(),
        _ => s(at(doc, "destruction.method")),
    };
    let photos: Vec<String> = at(doc, "destruction.photos")
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{}. {} ({}, {})",
                i + 1,
                s(&p["sha256"]),
                s(&p["type"]).to_uppercase(),
                bytes(&p["bytes"], lang)
            )
        })
        .collect();
    let witness_key = own_signature_words(at(doc, "witness.signature"), lang);
    let class = match (at(doc, "medium.data_class").as_str(), lang) {
        (Some("my-number"), Lang::Ja) => "マイナンバー利用事務系の情報".to_owned(),
        (Some("my-number"), Lang::En) => "data of the My Number systems".to_owned(),
        (Some("general"), Lang::Ja) => "一般".to_owned(),
        _ => s(at(doc, "medium.data_class")),
    };
    vec![
        Section {
            title: t("媒体", "Medium"),
            rows: vec![
                (
                    t("媒体台帳・種類", "Media register, kind"),
                    format!(
                        "{} / {}",
                        s(at(doc, "medium.record")),
                        registered_kind(at(doc, "medium.kind"), lang)
                    ),
                ),
                (
                    t("シリアル番号", "Serial number"),
                    s(at(doc, "medium.serial")),
                ),
                (
                    t("型番・表示名", "Model, label"),
                    format!(
                        "{} / {}",
                        s(at(doc, "medium.model")),
                        s(at(doc, "medium.label"))
                    ),
                ),
                (t("保有する情報", "Data it held"), class),
            ],
        },
        Section {
            title: t("破壊", "Destruction"),
            rows: vec![
                (
                    t("区分 (NIST SP 800-88)", "Category (NIST SP 800-88)"),
                    t("破壊 (Destroy)", "Destroy"),
                ),
                (t("方法", "Method"), method),
                (t("実施者", "Destroyed by"), s(at(doc, "destruction.by"))),
                (
                    t("委託先", "Contractor"),
                    s(at(doc, "destruction.contractor")),
                ),
                (
                    t("日時", "Date"),
                    when(at(doc, "destruction.at").as_str().unwrap_or(""), lang),
                ),
                (t("写真 (SHA-256)", "Photos (SHA-256)"), photos.join("\n")),
            ],
        },
        Section {
            title: t("立会い・記録", "Witness, record"),
            rows: vec![
                (
                    t("立会人", "Witness"),
                    format!("{} — {witness_key}", s(at(doc, "witness.name"))),
                ),
                (
                    t("記録者", "Recorded by"),
                    format!(
                        "{} ({})",
                        s(at(doc, "recorded_by.name")),
                        role_words(at(doc, "recorded_by.role"), lang)
                    ),
                ),
                (
                    t("承認", "Approved"),
                    format!(
                        "{} / {}",
                        s(at(doc, "request.id")),
                        s(at(doc, "request.approver"))
                    ),
                ),
                (
                    t("消去の証明", "Erasure before"),
                    s(at(doc, "proof.erasure.erasure_certificate")),
                ),
                ledger_row(doc, lang),
                (t("確認者", "Validated by"), validator_line(doc, lang)),
            ],
        },
    ]
}

fn disposal_sections(doc: &Value, lang: Lang) -> Vec<Section> {
    let t = |ja: &str, en: &str| tr(lang, ja, en);
    vec![
        disposed_item_section(doc, lang),
        Section {
            title: t("保存期間", "Retention"),
            rows: vec![
                (t("区分", "Class"), s(at(doc, "retention.class"))),
                (t("根拠", "Basis"), s(at(doc, "retention.basis"))),
                (t("起算日", "Since"), s(at(doc, "retention.since"))),
                (
                    t("事由発生日", "Event date"),
                    s(at(doc, "retention.event_date")),
                ),
                (t("廃棄可能日", "Due"), s(at(doc, "retention.due"))),
            ],
        },
        disposal_section(doc, lang),
    ]
}

struct Page<'a, 'b> {
    surface: &'a mut Surface<'b>,
    font: Font,
    /// Text size of the rows.
    size: f32,
    /// Distance between their lines.
    leading: f32,
}

impl Page<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str, color: rgb::Color) {
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(Fill {
            paint: color.into(),
            ..Default::default()
        }));
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn rect(&mut self, rect: Rect, fill: Option<rgb::Color>, stroke: Option<(rgb::Color, f32)>) {
        let mut pb = PathBuilder::new();
        pb.push_rect(rect);
        let Some(path) = pb.finish() else { return };
        self.surface.set_fill(fill.map(|c| Fill {
            paint: c.into(),
            ..Default::default()
        }));
        self.surface.set_stroke(stroke.map(|(c, width)| Stroke {
            paint: c.into(),
            width,
            opacity: NormalizedF32::ONE,
            ..Default::default()
        }));
        self.surface.draw_path(&path);
    }
}

const W: f32 = 595.28;
const H: f32 = 841.89;
const MARGIN: f32 = 36.0;
const LABEL_W: f32 = 128.0;
/// Row text sizes and line distances, largest first: the largest with which the
/// certificate fits its page is used, so that a short certificate fills the page and
/// a long one (35 passes, many errors) still fits.
/// The last value of each is the height of the seal boxes (押印欄), smaller only
/// when nothing else fits.
const SCALES: &[(f32, f32, f32)] = &[
    (10.0, 14.0, 92.0),
    (9.0, 12.4, 92.0),
    (8.0, 10.6, 80.0),
    (7.5, 9.6, 64.0),
    // Everything at its longest: no seal boxes rather than no certificate.
    (7.0, 9.0, 0.0),
];
/// The width of each seal box.
const STAMP_W: f32 = 120.0;

/// A photo a destruction certificate shows: the image file's bytes (JPEG or PNG).
#[derive(Debug, Clone)]
pub struct Photo {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `jpeg` or `png`.
    pub kind: String,
}

/// Renders a certificate document (erasure or disposal schema) as a one-page A4 PDF.
pub fn render_certificate(document: &Value, seal: &Seal<'_>, lang: Lang) -> Result<Vec<u8>> {
    render_certificate_with(document, seal, lang, &[])
}

/// Like [`render_certificate`], showing `photos` (a destruction's) as a row of
/// pictures under the sections; a photo that cannot be decoded is left out (its
/// SHA-256 is listed all the same).
pub fn render_certificate_with(
    document: &Value,
    seal: &Seal<'_>,
    lang: Lang,
    photos: &[Photo],
) -> Result<Vec<u8>> {
    let font = load_font(&find_font()?)?;
    let schema = document["schema"].as_str().unwrap_or("");
    let (title, sections, status, stamps) = match schema {
        "custody.erasure-certificate/v1" => (
            tr(lang, "データ消去証明書", "Certificate of Data Erasure"),
            erasure_sections(document, lang),
            document["status"].as_str().unwrap_or("").to_string(),
            [
                (
                    tr(lang, "作業者", "Performed by"),
                    at(document, "operator.name"),
                ),
                (
                    tr(lang, "確認者", "Validated by"),
                    at(document, "validator.name"),
                ),
            ],
        ),
        "custody.disposal-certificate/v1" => (
            tr(lang, "データ廃棄証明書", "Certificate of Data Disposal"),
            disposal_sections(document, lang),
            "disposed".to_string(),
            [
                (
                    tr(lang, "実施者", "Disposed by"),
                    at(document, "executor.name"),
                ),
                (
                    tr(lang, "承認者", "Approved by"),
                    at(document, "approver.name"),
                ),
            ],
        ),
        "custody.destruction-certificate/v1" => (
            tr(lang, "媒体破壊証明書", "Certificate of Media Destruction"),
            destruction_sections(document, lang),
            "destroyed".to_string(),
            [
                (tr(lang, "立会人", "Witness"), at(document, "witness.name")),
                (
                    tr(lang, "確認者", "Validated by"),
                    at(document, "validator.name"),
                ),
            ],
        ),
        other => {
            return Err(Error::Render {
                id: seal.certificate_id.to_owned(),
                problem: format!("there is no page layout for its schema {other:?}"),
            });
        }
    };
    let content = Content {
        qr: qr_text(seal),
        document,
        title: &title,
        sections: &sections,
        status: &status,
        stamps: &stamps,
        foot: &foot_rows(seal, lang),
        lang,
        photos: photos
            .iter()
            .filter_map(|p| {
                let data = krilla::Data::from(p.bytes.clone());
                match p.kind.as_str() {
                    "png" => krilla::image::Image::from_png(data, true).ok(),
                    _ => krilla::image::Image::from_jpeg(data, true).ok(),
                }
            })
            .collect(),
    };
    for &scale in SCALES {
        if let Some(pdf) = content.render(&font, scale, seal.certificate_id)? {
            return Ok(pdf);
        }
    }
    Err(Error::Render {
        id: seal.certificate_id.to_owned(),
        problem: "it does not fit on one page".into(),
    })
}

/// Everything a certificate page shows.
struct Content<'a> {
    /// What the QR code encodes.
    qr: String,
    document: &'a Value,
    title: &'a str,
    sections: &'a [Section],
    status: &'a str,
    /// The seal boxes: who, and their name when known.
    stamps: &'a [(String, &'a Value); 2],
    foot: &'a [(String, String)],
    lang: Lang,
    /// Pictures shown in a row under the sections.
    photos: Vec<krilla::image::Image>,
}

impl Content<'_> {
    /// The page at one text size, or `None` when it does not fit at that size.
    fn render(
        &self,
        font: &Font,
        (size, leading, stamp_h): (f32, f32, f32),
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        let mut pdf = Document::new();
        let mut page =
            pdf.start_page_with(PageSettings::from_wh(W, H).expect("A4 is a valid size"));
        let mut surface = page.surface();
        let mut p = Page {
            surface: &mut surface,
            font: font.clone(),
            size,
            leading,
        };
        p.rect(
            Rect::from_xywh(
                MARGIN - 12.0,
                MARGIN - 12.0,
                W - 2.0 * MARGIN + 24.0,
                H - 2.0 * MARGIN + 24.0,
            )
            .expect("positive"),
            None,
            Some((color(BLACK), 1.2)),
        );
        let y = p.heading(self.document, self.title, self.lang);
        p.qr_code(&self.qr, id)?;
        let bad = !matches!(self.status, "erased" | "disposed" | "destroyed");
        let y = p.status_box(y, &status_word(self.status, self.lang), bad);
        let y = p.sections(y, self.sections);
        let y = p.photos(y, &self.photos);
        let foot_top = H - MARGIN - p.foot_height(self.foot);
        let stamps_top = if stamp_h > 0.0 {
            foot_top - stamp_h - 14.0
        } else {
            foot_top - 4.0
        };
        if stamps_top < y + 4.0 {
            return Ok(None);
        }
        if stamp_h > 0.0 {
            p.stamps(stamps_top, stamp_h, self.stamps, self.lang);
        }
        p.foot(foot_top, self.foot);
        surface.finish();
        page.finish();
        pdf.finish().map(Some).map_err(|e| Error::Render {
            id: id.to_owned(),
            problem: format!("{e:?}"),
        })
    }
}

/// The page's colours, as RGB.
const BLACK: [u8; 3] = [0, 0, 0];
const GREY: [u8; 3] = [90, 90, 90];
const RULE: [u8; 3] = [160, 160, 160];
const BAND: [u8; 3] = [232, 236, 242];

fn color([r, g, b]: [u8; 3]) -> rgb::Color {
    rgb::Color::new(r, g, b)
}
/// Where values start, right of their labels.
const VALUE_X: f32 = MARGIN + LABEL_W + 8.0;
const VALUE_W: f32 = W - MARGIN - VALUE_X - 4.0;

/// The seal and how to check it, for the foot of the page.
fn foot_rows(seal: &Seal<'_>, lang: Lang) -> Vec<(String, String)> {
    let id = seal.certificate_id;
    let file = format!("{id}.json");
    let mut rows = vec![
        (
            tr(lang, "署名鍵", "Signing key"),
            match seal.public_key {
                Some(key) => format!("{} (Ed25519, minisign)  {key}", seal.key_id),
                None => format!("{} (Ed25519, minisign)", seal.key_id),
            },
        ),
        (
            tr(lang, "文書ハッシュ (SHA-256)", "Document hash (SHA-256)"),
            seal.sha256.to_string(),
        ),
        (
            tr(lang, "検証方法", "How to verify"),
            match lang {
                Lang::Ja => format!(
                    "この用紙は署名付き JSON 証明書の写しです。原本の検証: custody cert export {id} --format json -o {file} の後、minisign -V -P 上記の署名鍵 -m {file} と sha256sum {file}（上記ハッシュと一致すること）。"
                ),
                Lang::En => format!(
                    "This page renders the signed JSON certificate. To verify the original: custody cert export {id} --format json -o {file}, then minisign -V -P KEY -m {file} with the signing key above, and sha256sum {file} (it must equal the hash above)."
                ),
            },
        ),
    ];
    if let Some(url) = seal.verify_at {
        rows.push((
            tr(lang, "オンラインで確認", "Check online"),
            match lang {
                Lang::Ja => format!(
                    "{url} を開くと、この番号と文書ハッシュの証明書が台帳に記録され、署名が有効かどうかが表示されます（サインイン不要）。"
                ),
                Lang::En => format!(
                    "Open {url} to see whether the ledger holds a certificate with this number and document hash, and whether its signature is valid (no sign-in needed)."
                ),
            },
        ));
    }
    rows
}

impl Page<'_, '_> {
    /// `photos` in a row from `y`, each as tall as nine lines of text and as wide as
    /// its proportions make it, as many as fit across the page; returns the y below.
    fn photos(&mut self, y: f32, photos: &[krilla::image::Image]) -> f32 {
        if photos.is_empty() {
            return y;
        }
        let h = self.leading * 9.0;
        let mut x = MARGIN;
        for image in photos {
            let (iw, ih) = image.size();
            let w = (h * iw as f32 / ih.max(1) as f32).min(W - 2.0 * MARGIN);
            if x + w > W - MARGIN {
                break;
            }
            let Some(size) = krilla::geom::Size::from_wh(w, h) else {
                continue;
            };
            self.surface
                .push_transform(&krilla::geom::Transform::from_translate(x, y + 6.0));
            self.surface.draw_image(image.clone(), size);
            self.surface.pop();
            x += w + 8.0;
        }
        y + h + 12.0
    }

    /// The QR code of `text` in the top right corner, as vector squares (one
    /// rectangle per run of dark modules in a row), with its quiet zone.
    fn qr_code(&mut self, text: &str, id: &str) -> Result<()> {
        let code =
            qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).map_err(|e| {
                Error::Render {
                    id: id.to_owned(),
                    problem: format!("its QR code cannot be made: {e}"),
                }
            })?;
        let width = code.width();
        // Four modules of quiet zone on every side.
        let module = QR_SIDE / (width + 8) as f32;
        let left = W - MARGIN - QR_SIDE + 4.0 * module;
        let top = MARGIN - 8.0 + 4.0 * module;
        let colors = code.to_colors();
        let mut pb = PathBuilder::new();
        for (y, row) in colors.chunks(width).enumerate() {
            let mut x = 0;
            while x < width {
                if row[x] != qrcode::Color::Dark {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < width && row[x] == qrcode::Color::Dark {
                    x += 1;
                }
                if let Some(rect) = Rect::from_xywh(
                    left + start as f32 * module,
                    top + y as f32 * module,
                    (x - start) as f32 * module,
                    module,
                ) {
                    pb.push_rect(rect);
                }
            }
        }
        if let Some(path) = pb.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(Fill {
                paint: color(BLACK).into(),
                ..Default::default()
            }));
            self.surface.draw_path(&path);
        }
        Ok(())
    }

    /// The title, the certificate's number and issue time, the organisation and
    /// station; returns where the next block starts.
    fn heading(&mut self, document: &Value, title: &str, lang: Lang) -> f32 {
        let title_size = 20.0;
        self.text(
            (W - ems(title) * title_size) / 2.0,
            MARGIN + 22.0,
            title_size,
            title,
            color(BLACK),
        );
        let mut y = MARGIN + 46.0;
        let id = s(&document["certificate_id"]);
        let issued = when(document["issued_at"].as_str().unwrap_or(""), lang);
        let (organisation, station) = (s(&document["organisation"]), s(&document["station"]));
        let (id_line, org_line) = match lang {
            Lang::Ja => (
                format!("証明書番号 {id}　発行 {issued}"),
                format!("{organisation}　端末 {station}"),
            ),
            Lang::En => (
                format!("Certificate {id}   issued {issued}"),
                format!("{organisation}, station {station}"),
            ),
        };
        self.text(
            (W - ems(&id_line) * 9.0) / 2.0,
            y,
            9.0,
            &id_line,
            color(GREY),
        );
        y += 14.0;
        self.text(
            (W - ems(&org_line) * 10.0) / 2.0,
            y,
            10.0,
            &org_line,
            color(BLACK),
        );
        y + 14.0
    }

    /// The outcome, boxed, before any detail: a failed wipe must be impossible to
    /// miss. Returns where the next block starts.
    fn status_box(&mut self, y: f32, status_text: &str, bad: bool) -> f32 {
        let color = if bad {
            rgb::Color::new(190, 20, 20)
        } else {
            rgb::Color::new(20, 110, 40)
        };
        let size = 13.0;
        let box_w = (ems(status_text) * size + 28.0).min(W - 2.0 * MARGIN);
        self.rect(
            Rect::from_xywh((W - box_w) / 2.0, y, box_w, 24.0).expect("positive"),
            None,
            Some((color, if bad { 2.0 } else { 1.2 })),
        );
        self.text(
            (W - ems(status_text) * size) / 2.0,
            y + 17.0,
            size,
            status_text,
            color,
        );
        y + 36.0
    }

    /// Each section: a shaded title, then its labelled rows, wrapped; returns where
    /// the next block starts.
    fn sections(&mut self, mut y: f32, sections: &[Section]) -> f32 {
        let (size, leading) = (self.size, self.leading);
        let band = size + 7.0;
        for section in sections {
            self.rect(
                Rect::from_xywh(MARGIN, y, W - 2.0 * MARGIN, band).expect("positive"),
                Some(color(BAND)),
                None,
            );
            self.text(
                MARGIN + 6.0,
                y + band - 4.0,
                size + 1.5,
                &section.title,
                color(BLACK),
            );
            y += band + 4.0;
            for (label, value) in &section.rows {
                let lines = wrap(value, size, VALUE_W);
                let label_lines = wrap(label, size, LABEL_W - 8.0);
                let height = lines.len().max(label_lines.len()) as f32 * leading;
                for (i, l) in label_lines.iter().enumerate() {
                    self.text(
                        MARGIN + 6.0,
                        y + size + i as f32 * leading,
                        size,
                        l,
                        color(GREY),
                    );
                }
                for (i, l) in lines.iter().enumerate() {
                    self.text(
                        VALUE_X,
                        y + size + i as f32 * leading,
                        size,
                        l,
                        color(BLACK),
                    );
                }
                y += height + 2.0;
                self.rect(
                    Rect::from_xywh(MARGIN, y, W - 2.0 * MARGIN, 0.3).expect("positive"),
                    Some(color(RULE)),
                    None,
                );
                y += 2.0;
            }
            y += leading * 0.6;
        }
        y
    }

    /// The seal boxes (押印欄), side by side at the right, each with whose seal or
    /// signature goes in it and their name when the record knows it.
    fn stamps(&mut self, top: f32, height: f32, stamps: &[(String, &Value); 2], lang: Lang) {
        let caption = tr(lang, "印または署名", "seal or signature");
        for (i, (who, name)) in stamps.iter().enumerate() {
            let x = W - MARGIN - (2 - i) as f32 * (STAMP_W + 10.0) + 10.0;
            self.rect(
                Rect::from_xywh(x, top, STAMP_W, height).expect("positive"),
                None,
                Some((color(BLACK), 0.8)),
            );
            self.rect(
                Rect::from_xywh(x, top, STAMP_W, 18.0).expect("positive"),
                Some(color(BAND)),
                Some((color(BLACK), 0.8)),
            );
            let label = match name.as_str() {
                Some(name) => format!("{who}　{name}"),
                None => who.clone(),
            };
            let size = 9.0_f32.min((STAMP_W - 10.0) / ems(&label).max(1.0));
            self.text(x + 5.0, top + 13.0, size, &label, color(BLACK));
            self.text(
                x + (STAMP_W - ems(&caption) * 7.0) / 2.0,
                top + height - 6.0,
                7.0,
                &caption,
                color(GREY),
            );
        }
        let note = tr(
            lang,
            "押印欄（紙で保管する場合に使用）",
            "For the paper copy: seals or signatures",
        );
        self.text(MARGIN + 6.0, top + 13.0, 8.0, &note, color(GREY));
    }

    /// How tall the foot rows are.
    fn foot_height(&self, foot: &[(String, String)]) -> f32 {
        let mut height = 8.0;
        for (label, value) in foot {
            height += wrap(value, FOOT_SIZE, VALUE_W)
                .len()
                .max(wrap(label, FOOT_SIZE, LABEL_W - 8.0).len()) as f32
                * FOOT_LEADING
                + 4.0;
        }
        height
    }

    /// The foot rows from `top` down; a rule above them.
    fn foot(&mut self, top: f32, foot: &[(String, String)]) {
        self.rect(
            Rect::from_xywh(MARGIN, top - 6.0, W - 2.0 * MARGIN, 0.8).expect("positive"),
            Some(color(BLACK)),
            None,
        );
        let mut fy = top;
        for (label, value) in foot {
            let lines = wrap(value, FOOT_SIZE, VALUE_W);
            let labels = wrap(label, FOOT_SIZE, LABEL_W - 8.0);
            for (i, l) in labels.iter().enumerate() {
                self.text(
                    MARGIN + 6.0,
                    fy + 8.0 + i as f32 * FOOT_LEADING,
                    FOOT_SIZE,
                    l,
                    color(GREY),
                );
            }
            for (i, l) in lines.iter().enumerate() {
                self.text(
                    VALUE_X,
                    fy + 8.0 + i as f32 * FOOT_LEADING,
                    FOOT_SIZE,
                    l,
                    color(BLACK),
                );
            }
            fy += lines.len().max(labels.len()) as f32 * FOOT_LEADING + 4.0;
        }
    }
}

/// The foot's text: small, as the fine print of a form.
const FOOT_SIZE: f32 = 8.0;
const FOOT_LEADING: f32 = 10.6;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn era_dates() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(wareki(d(2026, 11, 22)), "令和8年11月22日");
        assert_eq!(wareki(d(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(wareki(d(2019, 4, 30)), "平成31年4月30日");
        assert_eq!(wareki(d(1989, 1, 8)), "平成元年1月8日");
        assert_eq!(wareki(d(1989, 1, 7)), "昭和64年1月7日");
    }

    #[test]
    fn long_words_wrap_within_the_width() {
        let hash = "ab".repeat(32);
        let lines = wrap(&format!("hash {hash} end"), 8.0, 120.0);
        assert!(lines.len() > 2, "{lines:?}");
        for line in &lines {
            assert!(ems(line) * 8.0 <= 120.0 + 0.01, "{line}");
        }
        assert_eq!(lines.concat().replace(' ', ""), format!("hash{hash}end"));
        assert_eq!(wrap("一行目\n二行目", 8.0, 500.0), ["一行目", "二行目"]);
    }
}
