//! Reports for audits: the registers as CSV (UTF-8 with BOM, so Excel keeps Japanese
//! intact) or JSON, with the office forms' own column names in Japanese, and the
//! audit list of what needs attention.

use chrono::Duration;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock;
use crate::error::{Error, Result};
use crate::ledger::LogFilter;
use crate::registers::carryout::CarryoutFilter;
use crate::station::Station;
use crate::vocab::Lang;

mod audit;
pub mod pdf;

pub use audit::Finding;

crate::vocab::vocabulary! {
    /// Which register a report covers.
    pub enum ReportKind (crate::error::Field::Report) {
        /// 個人情報等取扱記録台帳 (carry-outs).
        Carryouts = "carryouts",
        /// 情報記録媒体授受簿 (media handovers).
        Handovers = "handovers",
        /// 個人データダウンロード等管理簿 (downloads).
        Downloads = "downloads",
        /// The media register.
        Media = "media",
        /// Wipes and their results.
        Wipes = "wipes",
        /// ID管理簿 (002 様式1): everyone registered, with role, department, key and
        /// removal.
        People = "people",
        /// 特定個人情報等の運用状況記録票 (003 別紙1): inputs, paper disposals and
        /// deletions, with who did them and who checked.
        Operations = "operations",
        /// 送付簿 (004 art.10): every encrypted transfer sent and its receipt.
        Sends = "sends",
        /// 情報漏えい等事案の記録 (004 arts.27-28): incidents and their handling.
        Incidents = "incidents",
        /// 特定個人情報ファイル管理簿 (004 art.9-2; 003 別紙2): the files of personal
        /// data.
        Files = "files",
        /// 個人情報記録媒体処分台帳 (002 様式3; 000 art.18-5; 004 art.11-6): every
        /// item disposed of, by every path that disposes.
        Disposals = "disposals",
        /// The periodic review (004 arts.11-6, 20-3, 22): how many records of each
        /// register each section made in the period, and what needs attention now.
        Summary = "summary",
    }
}

impl ReportKind {
    /// The form's title.
    pub fn title(self, lang: Lang) -> &'static str {
        match (self, lang == Lang::Ja) {
            // 002 art.8: 個人情報等取扱記録台帳 (別紙様式第1号の3).
            (ReportKind::Carryouts, true) => "個人情報等取扱記録台帳",
            (ReportKind::Carryouts, false) => "Carry-out register",
            (ReportKind::Handovers, true) => "情報記録媒体授受簿",
            (ReportKind::Handovers, false) => "Media handover register",
            (ReportKind::Downloads, true) => "個人データダウンロード等管理簿",
            (ReportKind::Downloads, false) => "Download register",
            (ReportKind::Media, true) => "外部記録媒体管理台帳",
            (ReportKind::Media, false) => "Media register",
            (ReportKind::Wipes, true) => "データ消去記録",
            (ReportKind::Wipes, false) => "Wipe records",
            (ReportKind::People, true) => "ID管理簿",
            (ReportKind::People, false) => "ID register",
            (ReportKind::Operations, true) => "特定個人情報等の運用状況記録票",
            (ReportKind::Operations, false) => "Operation records",
            (ReportKind::Sends, true) => "送付簿",
            (ReportKind::Sends, false) => "Send register",
            (ReportKind::Incidents, true) => "情報漏えい等事案記録",
            (ReportKind::Incidents, false) => "Incident register",
            (ReportKind::Files, true) => "特定個人情報ファイル管理簿",
            (ReportKind::Files, false) => "Register of files of personal data",
            (ReportKind::Disposals, true) => "個人情報記録媒体処分台帳",
            (ReportKind::Disposals, false) => "Disposal register",
            (ReportKind::Summary, true) => "個人情報等の取扱状況の点検集計",
            (ReportKind::Summary, false) => "Periodic review summary",
        }
    }
}

/// One column: the JSON key, the English header and the form's Japanese header.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Key in JSON output.
    pub key: &'static str,
    /// English header.
    pub en: &'static str,
    /// Japanese header, as on the paper form.
    pub ja: &'static str,
}

const fn col(key: &'static str, en: &'static str, ja: &'static str) -> Column {
    Column { key, en, ja }
}

/// A register's rows in a date window.
#[derive(Debug, Clone)]
pub struct Report {
    /// Which register.
    pub kind: ReportKind,
    /// The columns.
    pub columns: &'static [Column],
    /// One row per record, one cell per column.
    pub rows: Vec<Vec<String>>,
}

const CARRYOUTS: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("requested_at", "Requested", "申請日時"),
    col("requester", "Requester", "申請者"),
    col("what", "Item", "対象物"),
    col("reason", "Reason", "持出し理由"),
    col("destination", "Destination", "持出し先"),
    col("out_at", "Taken out", "持出し年月日"),
    col("return_by", "Return by", "返却予定日時"),
    col("returned_at", "Returned", "返却日時"),
    col("transport", "Transport", "移送手段"),
    col("media", "Medium", "媒体"),
    col("personal_data", "Personal data", "個人情報"),
    col("records", "Records", "件数"),
    col("encrypted", "Encrypted", "暗号化"),
    col("approver", "Approver", "承認者"),
    col("decided_at", "Approved", "承認日時"),
    col("state", "State", "状態"),
    col("condition", "Condition on return", "返却時の状態"),
];

const HANDOVERS: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("at", "Date", "授受年月日"),
    col("direction", "Direction", "区分"),
    col("counterparty", "Counterparty", "相手先"),
    col("media", "Medium", "媒体"),
    col("serial", "Serial number", "シリアル番号"),
    col("count", "Count", "数量"),
    col("purpose", "Purpose", "目的"),
    col("method", "Method", "授受方法"),
    col("by", "Handled by", "担当者"),
    col("confirmed_by", "Receipt confirmed by", "受領確認者"),
    col("confirmed_at", "Receipt confirmed", "受領確認日"),
];

const DOWNLOADS: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("requested_at", "Date", "実施年月日"),
    col("content", "Content", "対象データの内容"),
    col("system", "System", "業務処理システム名"),
    col("requester", "Requester", "実施者"),
    col("approver", "Approver", "許可者"),
    col("approval", "Approval", "許可"),
    col("deleted_at", "Deleted", "削除年月日"),
    col("deleted_by", "Deleted by", "削除者"),
];

const MEDIA: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("added_at", "Registered", "登録日"),
    col("kind", "Kind", "種別"),
    col("serial", "Serial number", "シリアル番号"),
    col("label", "Label", "ラベル"),
    col("model", "Model", "型番"),
    col("owner", "Owner", "管理部署"),
    col("location", "Location", "保管場所"),
    col("encrypted", "Encrypted", "暗号化"),
    col("status", "Status", "状態"),
    col("certificate", "Erasure certificate", "消去証明書"),
];

/// The ID register in the shape of 002 様式1.
const PEOPLE: &[Column] = &[
    col("system", "System", "システムの種類"),
    col("user_id", "User ID", "使用者ID"),
    col("name", "Name", "氏名"),
    col("department", "Department", "所属"),
    col("role", "Role", "権限"),
    col("since", "Registered", "登録日"),
    col("removed", "Removed", "削除日"),
    col("id", "Record", "管理番号"),
    col("key_id", "Key ID", "鍵ID"),
];

/// 004 art.10: the send register.
const SENDS: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("at", "Sent", "送付日"),
    col("to", "To", "送付先"),
    col("content", "Content", "内容"),
    col("count", "Files", "件数"),
    col("encrypted", "Encrypted", "暗号化"),
    col("password_via", "Password sent by", "パスワード通知方法"),
    col("approver", "Approver", "承認者"),
    col("by", "Sent by", "送付者"),
    col("confirmed_by", "Receipt confirmed by", "受領確認"),
    col("confirmed_at", "Receipt confirmed", "受領確認日"),
];

/// The periodic review: one count a line.
const SUMMARY: &[Column] = &[
    col("section", "Section", "区分"),
    col("item", "Item", "項目"),
    col("department", "Department", "所管課室"),
    col("count", "Count", "件数"),
];

/// 002 様式3 (art.10-3: 処分物, シリアル番号, 処分年月日 …) with who approved, did and
/// checked it afterwards.
const DISPOSALS: &[Column] = &[
    col("item", "Item disposed of", "処分物"),
    col("serial", "Serial number", "シリアル番号"),
    col("date", "Disposed", "処分年月日"),
    col("method", "Method", "処分方法"),
    col("approver", "Approved by", "承認者"),
    col("executor", "Done by", "実施者"),
    col("checker", "Checked afterwards by", "確認者"),
    col("certificate", "Certificate", "証明書番号"),
    col("department", "Section", "所管課室"),
    col("contractor", "Contractor", "委託先"),
];

/// 004 art.9-2 (1)-(9), and the retention period.
const FILES: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("name", "Name", "名称"),
    col("department", "Section", "所管課室"),
    col("purpose", "Purpose", "利用目的"),
    col("items", "Items recorded", "記録項目"),
    col("scope", "Range", "記録範囲"),
    col("collection", "Collected by", "収集方法"),
    col("recipients", "Regularly provided to", "経常的提供先"),
    col("management", "Kept by", "管理方法"),
    col("kind", "Kind", "種類"),
    col("retention", "Retention", "保存期間"),
    col("added_at", "Registered", "登録日"),
];

/// 004 arts.27-28: incidents.
const INCIDENTS: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("found_on", "Found", "把握日"),
    col("what", "What happened", "事案の内容"),
    col("records", "Records concerned", "関係する記録"),
    col("reported_by", "Reported by", "報告者"),
    col("reported_at", "Reported", "報告日時"),
    col("told", "Told", "報告先"),
    col("cause", "Cause", "原因"),
    col("measures", "Measures", "再発防止措置"),
    col("effect", "Effect", "効果の確認"),
    col(
        "commission_on",
        "Reported to the Commission",
        "個人情報保護委員会への報告日",
    ),
    col("people_on", "People concerned told", "本人への通知日"),
];

/// 003 別紙1: the operation record form.
const OPERATIONS: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("done_on", "Date", "実施年月日"),
    col("kind", "Operation", "区分"),
    col("content", "Content", "内容"),
    col("count", "Count", "件数"),
    col("system", "System", "情報システム"),
    col("by", "Done by", "実施者"),
    col("checked_by", "Checked by", "確認者"),
    col("checked_at", "Checked", "確認日時"),
];

const WIPES: &[Column] = &[
    col("id", "ID", "管理番号"),
    col("at", "Date", "消去日時"),
    col("actor", "Operator", "作業者"),
    col("target", "Target", "対象"),
    col("model", "Model", "型番"),
    col("serial", "Serial number", "シリアル番号"),
    col("method", "Method", "消去方式"),
    col("status", "Result", "結果"),
    col("verify", "Verification", "検証"),
    col("errors", "I/O errors", "エラー数"),
];

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        // Ledger times in the station's local time, to the second: what a register
        // shows and Excel reads as a date and time.
        Some(Value::String(s)) if s.len() == 27 && s.ends_with('Z') && s.as_bytes()[19] == b'.' => {
            clock::format_local(s, "%Y-%m-%d %H:%M:%S").unwrap_or_else(|| s.clone())
        }
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(other) => other.to_string(),
    }
}

fn rows_from<T: Serialize>(
    items: &[T],
    columns: &[Column],
    date_key: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    for item in items {
        let value = serde_json::to_value(item).map_err(|e| Error::Encode {
            what: "a report row".into(),
            problem: e.to_string(),
        })?;
        let date = value
            .get(date_key)
            .and_then(Value::as_str)
            .unwrap_or_default();
        if date < from || date >= to {
            continue;
        }
        rows.push(
            columns
                .iter()
                .map(|c| match value.get(c.key) {
                    // A deadline given as a day reads as that day.
                    Some(Value::String(at)) if c.key == "return_by" => {
                        clock::Timestamp::parse(at).map_or_else(|_| at.clone(), |t| t.deadline())
                    }
                    other => cell(other),
                })
                .collect(),
        );
    }
    Ok(rows)
}

/// A register's value as the Japanese form writes it (種類: USBメモリ, 状態: 持出し中,
/// 暗号化: 有 …); names, ids, dates and free text stay as they are.
fn in_japanese(kind: ReportKind, key: &str, value: &str) -> String {
    let word = match (kind, key, value) {
        (_, "kind", "usb") => "USBメモリ",
        (_, "kind", "hdd") => "磁気ディスク",
        (_, "kind", "ssd") => "SSD",
        (_, "kind", "optical") => "光ディスク",
        (_, "kind", "tape") => "磁気テープ",
        (_, "kind", "pc") => "パソコン",
        (_, "kind", "other") => "その他",
        (ReportKind::Media, "status", "pending") => "承認待ち",
        (ReportKind::Media, "status", "rejected") => "却下",
        (ReportKind::Media, "status", "in-stock") => "保管中",
        (ReportKind::Media, "status", "out") => "持出し中",
        (ReportKind::Media, "status", "wiped") => "消去済",
        (ReportKind::Media, "status", "destroyed") => "破壊済",
        (ReportKind::Media, "status", "lost") => "紛失",
        (ReportKind::Media, "status", "returned") => "返却済",
        (ReportKind::Wipes, "status", "erased") => "消去完了",
        (ReportKind::Wipes, "status", "failed") => "失敗",
        (ReportKind::Wipes, "status", "interrupted") => "中断",
        (ReportKind::Wipes, "verify", "passed") => "合格",
        (ReportKind::Wipes, "verify", "failed") => "不合格",
        (ReportKind::Wipes, "verify", "skipped") => "未実施",
        (ReportKind::Wipes | ReportKind::Disposals, "method", "zero") => "ゼロ書込み (1回)",
        (ReportKind::Wipes | ReportKind::Disposals, "method", "one") => "0xFF 書込み (1回)",
        (ReportKind::Wipes | ReportKind::Disposals, "method", "random") => "乱数書込み",
        (ReportKind::Wipes | ReportKind::Disposals, "method", "dod-short") => "DoD 5220.22-M (3回)",
        (ReportKind::Wipes | ReportKind::Disposals, "method", "dod") => "DoD 5220.22-M ECE (7回)",
        (ReportKind::Wipes | ReportKind::Disposals, "method", "gutmann") => "グートマン方式 (35回)",
        (ReportKind::Wipes | ReportKind::Disposals, "method", "schneier") => {
            "シュナイアー方式 (7回)"
        }
        (ReportKind::Wipes | ReportKind::Disposals, "method", "vsitr") => "VSITR (7回)",
        (ReportKind::Wipes | ReportKind::Disposals, "method", "hmg-is5") => {
            "HMG IS5 Enhanced (3回)"
        }
        (ReportKind::Disposals, "method", "destroyed") => "物理破壊",
        (ReportKind::Disposals, "method", "wiped") => "消去",
        (ReportKind::Summary, "section", "register") => "台帳の件数",
        (ReportKind::Summary, "section", "attention") => "対応が必要なもの",
        (ReportKind::Summary, "item", "carryouts") => "個人情報等取扱記録台帳（持出し）",
        (ReportKind::Summary, "item", "handovers") => "情報記録媒体授受簿",
        (ReportKind::Summary, "item", "downloads") => "個人データダウンロード等管理簿",
        (ReportKind::Summary, "item", "sends") => "送付簿",
        (ReportKind::Summary, "item", "disposals") => "個人情報記録媒体処分台帳",
        (ReportKind::Summary, "item", "operations") => "特定個人情報等の運用状況記録票",
        (ReportKind::Summary, "item", "incidents") => "情報漏えい等事案記録",
        (ReportKind::Summary, "item", "wipes") => "データ消去記録",
        (ReportKind::Summary, "item", "overdue-carryout") => "返却期限超過",
        (ReportKind::Summary, "item", "unencrypted-carryout") => "暗号化なしの持出し",
        (ReportKind::Summary, "item", "pending-request") => "未決定の申請",
        (ReportKind::Summary, "item", "unconfirmed-handover") => "受領未確認の授受",
        (ReportKind::Summary, "item", "media-whereabouts-unknown") => "所在不明の媒体",
        (ReportKind::Summary, "item", "failed-wipe") => "失敗した消去",
        (ReportKind::Summary, "item", "unfinished-wipe") => "結果のない消去",
        (ReportKind::Summary, "item", "backdated-retention") => "起算日を遡った保存",
        (ReportKind::Summary, "item", "download-not-deleted") => "ダウンロード未削除",
        (ReportKind::Summary, "item", "retention-overdue") => "保存期間満了後の未廃棄",
        (ReportKind::Summary, "item", "unconfirmed-send") => "受領未確認の送付",
        (ReportKind::Summary, "item", "unchecked-disposal") => "事後確認のない処分",
        (ReportKind::Summary, "item", "unchecked-operation") => "未確認の運用状況",
        (ReportKind::Summary, "item", "batch-overdue") => "証明書未提出の廃棄委託",
        (_, "state", "requested") => "申請中",
        (_, "state", "approved") => "承認済",
        (_, "state", "rejected") => "却下",
        (_, "state", "out") => "持出し中",
        (_, "state", "returned") => "返却済",
        (_, "state", "lost") => "紛失",
        (_, "approval", "pending") => "審査中",
        (_, "approval", "approved") => "許可",
        (_, "approval", "rejected") => "不許可",
        (ReportKind::Sends, "encrypted", "passphrase") => "有（パスワード）",
        (ReportKind::Sends, "encrypted", "public-key") => "有（受取人の公開鍵）",
        (ReportKind::Sends, "password_via", "public-key") => "不要（公開鍵で暗号化）",
        (ReportKind::Sends, "password_via", "phone") => "電話",
        (ReportKind::Sends, "password_via", "sms") => "ショートメッセージ",
        (ReportKind::Sends, "password_via", "letter") => "郵送",
        (ReportKind::Sends, "password_via", "in-person") => "手渡し",
        (ReportKind::Sends, "password_via", "separate-email") => "別のメール",
        (ReportKind::Operations, "kind", "input") => "入力",
        (ReportKind::Operations, "kind", "paper-disposal") => "書類廃棄",
        (ReportKind::Operations, "kind", "deletion") => "削除",
        (_, "direction", "send") => "送付",
        (_, "direction", "receive") => "受領",
        (_, "role", "clerk") => "事務取扱担当者",
        (_, "role", "it") => "システム管理担当者",
        (_, "role", "manager") => "保護責任者",
        (_, "role", "auditor") => "監査責任者",
        (_, "personal_data" | "encrypted", "yes") => "有",
        (_, "personal_data" | "encrypted", "no") => "無",
        (_, "encrypted", other) => {
            // A carry-out's protection: what protects it, after 有.
            return match (
                other.strip_prefix("yes: encrypted medium "),
                other.strip_prefix("yes: age-encrypted transfer "),
            ) {
                (Some(medium), _) => format!("有（暗号化媒体 {medium}）"),
                (_, Some(transfer)) => format!("有（暗号化送付 {transfer}）"),
                _ => other.to_owned(),
            };
        }
        _ => return value.to_owned(),
    };
    word.to_owned()
}

/// A cell that a spreadsheet would take for a formula, made text: `'` before a value
/// that begins with `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP's CSV
/// injection rule). A plain number (`-3`, `+1.5`) and a lone `-` stay as they are:
/// no spreadsheet runs them.
fn inert(text: &str) -> String {
    let sign = text.starts_with(['+', '-']);
    if !(sign || text.starts_with(['=', '@', '\t', '\r'])) || text == "-" {
        return text.to_owned();
    }
    // The sign is one byte, so the rest starts on a character boundary.
    let number = sign && text[1..].parse::<f64>().is_ok_and(f64::is_finite);
    if number {
        text.to_owned()
    } else {
        format!("'{text}")
    }
}

/// A cell's date (`2026-12-02`, `2026-12-02 17:00:00`) in the Japanese era calendar
/// (`令和8年12月2日`, `令和8年12月2日 17:00:00`); any other text as it is.
fn in_era(text: &str) -> String {
    // By bytes, but only where the tenth byte is a character boundary.
    let (Some(day), Some(rest)) = (text.get(..10), text.get(10..)) else {
        return text.to_owned();
    };
    match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(date) if rest.is_empty() || rest.starts_with(' ') => {
            format!("{}{rest}", crate::erasure::pdf::wareki(date))
        }
        _ => text.to_owned(),
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

impl Report {
    /// CSV with a UTF-8 byte-order mark and CRLF line ends, as Excel expects.
    pub fn to_csv(&self, lang: Lang) -> String {
        self.to_csv_in(lang, false)
    }

    /// CSV as [`Report::to_csv`]; with `era`, dates in the Japanese era calendar
    /// (`令和8年12月2日 17:00:00`), as paper forms write them. A cell that a
    /// spreadsheet would run as a formula (beginning with `=`, `+`, `-`, `@`, a tab
    /// or a carriage return) is written as text, with a leading `'`.
    pub fn to_csv_in(&self, lang: Lang, era: bool) -> String {
        let japanese = lang == Lang::Ja;
        let mut out = String::from("\u{feff}");
        let header: Vec<String> = self
            .columns
            .iter()
            .map(|c| csv_field(if japanese { c.ja } else { c.en }))
            .collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .zip(self.columns)
                .map(|(c, column)| {
                    let text = if japanese {
                        in_japanese(self.kind, column.key, c)
                    } else {
                        c.clone()
                    };
                    let text = if era { in_era(&text) } else { text };
                    csv_field(&inert(&text))
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// JSON: an object with the title and the rows as objects keyed by column.
    pub fn to_json(&self, lang: Lang) -> Value {
        let japanese = lang == Lang::Ja;
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut map = Map::new();
                for (c, v) in self.columns.iter().zip(row) {
                    map.insert(c.key.to_string(), Value::String(v.clone()));
                }
                Value::Object(map)
            })
            .collect();
        let headers: Map<String, Value> = self
            .columns
            .iter()
            .map(|c| {
                (
                    c.key.to_string(),
                    Value::String(if japanese { c.ja } else { c.en }.to_string()),
                )
            })
            .collect();
        serde_json::json!({ "title": self.kind.title(lang), "headers": headers, "rows": rows })
    }
}

impl Station {
    /// A register's rows whose date falls between `from` and `to` (inclusive dates).
    pub fn report(&self, kind: ReportKind, from: &str, to: &str) -> Result<Report> {
        let from_at = clock::stamp(clock::parse_date_or_time(from)?);
        let to_date = clock::parse_date(to)?;
        let to_at = clock::stamp(clock::start_of_local_day(to_date + Duration::days(1)));
        if to_at <= from_at {
            return Err(Error::BadValue {
                field: crate::error::Field::Period,
                value: format!("{from} to {to}"),
                rule: crate::error::Rule::Backwards,
            });
        }
        let (columns, rows) = match kind {
            ReportKind::Carryouts => (
                CARRYOUTS,
                rows_from(
                    &self.carryouts(CarryoutFilter::All)?,
                    CARRYOUTS,
                    "requested_at",
                    &from_at,
                    &to_at,
                )?,
            ),
            ReportKind::Handovers => (
                HANDOVERS,
                rows_from(&self.handovers()?, HANDOVERS, "at", &from_at, &to_at)?,
            ),
            ReportKind::Downloads => (
                DOWNLOADS,
                rows_from(
                    &self.downloads()?,
                    DOWNLOADS,
                    "requested_at",
                    &from_at,
                    &to_at,
                )?,
            ),
            ReportKind::Media => (
                MEDIA,
                rows_from(&self.media(None)?, MEDIA, "added_at", &from_at, &to_at)?,
            ),
            ReportKind::Wipes => (
                WIPES,
                rows_from(&self.wipe_rows()?, WIPES, "at", &from_at, &to_at)?,
            ),
            // Everyone registered by the end of the period, removed or not: an ID
            // register keeps its removed lines.
            // Every file registered by the end of the period: the register as it
            // stood then.
            ReportKind::Summary => (SUMMARY, self.summary_rows(from, to)?),
            ReportKind::Disposals => (
                DISPOSALS,
                rows_from(&self.disposal_rows()?, DISPOSALS, "at", &from_at, &to_at)?,
            ),
            ReportKind::Files => (
                FILES,
                rows_from(&self.personal_files()?, FILES, "added_at", "", &to_at)?,
            ),
            ReportKind::Incidents => (
                INCIDENTS,
                rows_from(
                    &self.incidents()?,
                    INCIDENTS,
                    "reported_at",
                    &from_at,
                    &to_at,
                )?,
            ),
            ReportKind::Sends => (
                SENDS,
                rows_from(&self.sends()?, SENDS, "at", &from_at, &to_at)?,
            ),
            ReportKind::Operations => (
                OPERATIONS,
                rows_from(&self.operations()?, OPERATIONS, "at", &from_at, &to_at)?,
            ),
            ReportKind::People => (
                PEOPLE,
                rows_from(&self.people_rows()?, PEOPLE, "since", "", &to_at)?,
            ),
        };
        Ok(Report {
            kind,
            columns,
            rows,
        })
    }

    /// Each registered person's department, by name.
    fn departments(&self) -> Result<std::collections::BTreeMap<String, Option<String>>> {
        Ok(self
            .register()?
            .into_iter()
            .map(|p| (p.name, p.department))
            .collect())
    }

    /// The periodic review's counts: for each register, the records of the period by
    /// the department of the person who made them (from the people register); then
    /// what `report audit` finds now, by kind.
    fn summary_rows(&self, from: &str, to: &str) -> Result<Vec<Vec<String>>> {
        let departments = self.departments()?;
        let mut rows = Vec::new();
        // Each register, and the column that names who made the record.
        for (kind, who) in [
            (ReportKind::Carryouts, "requester"),
            (ReportKind::Handovers, "by"),
            (ReportKind::Downloads, "requester"),
            (ReportKind::Sends, "by"),
            (ReportKind::Disposals, "executor"),
            (ReportKind::Operations, "by"),
            (ReportKind::Incidents, "reported_by"),
            (ReportKind::Wipes, "actor"),
        ] {
            let report = self.report(kind, from, to)?;
            let Some(at) = report.columns.iter().position(|c| c.key == who) else {
                continue;
            };
            let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
            for row in &report.rows {
                let department = departments
                    .get(&row[at])
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| "-".into());
                *counts.entry(department).or_default() += 1;
            }
            if counts.is_empty() {
                counts.insert("-".into(), 0);
            }
            for (department, count) in counts {
                rows.push(vec![
                    "register".to_owned(),
                    kind.as_str().to_owned(),
                    department,
                    count.to_string(),
                ]);
            }
        }
        let mut findings: std::collections::BTreeMap<String, usize> = Default::default();
        for finding in self.audit()? {
            *findings.entry(finding.kind).or_default() += 1;
        }
        for (kind, count) in findings {
            rows.push(vec![
                "attention".to_owned(),
                kind,
                "-".to_owned(),
                count.to_string(),
            ]);
        }
        Ok(rows)
    }

    /// Every disposal, by every path: retention disposals (their certificates),
    /// media wiped for disposal (erasure certificates whose destination is
    /// disposal), vendors' certificates, and media retired as destroyed. The
    /// after-check is the certificate's sign-off; the section is the department of
    /// the person who did it, from the people register.
    fn disposal_rows(&self) -> Result<Vec<Value>> {
        let departments = self.departments()?;
        let department = |name: &str| departments.get(name).cloned().flatten();
        let mut rows = Vec::new();
        let mut certified_media = std::collections::BTreeSet::new();
        for cert in self.certificates()? {
            let doc: Value = serde_json::from_str(&cert.body).unwrap_or(Value::Null);
            let at = |path: &str| -> Option<String> {
                let mut v = &doc;
                for key in path.split('.') {
                    v = v.get(key)?;
                }
                v.as_str().map(str::to_owned)
            };
            let checker = at("validator.name");
            use crate::erasure::certificate::CertificateKind as Kind;
            let row = match cert.kind {
                Kind::Disposal => {
                    let executor = at("executor.name").unwrap_or_default();
                    let media = at("what.media");
                    if let Some(m) = &media {
                        certified_media.insert(m.clone());
                    }
                    serde_json::json!({
                        // The retained item (its files are in its certificate), and
                        // the medium when it held one.
                        "item": match &media {
                            Some(m) => format!("{} / {m}", cert.subject),
                            None => cert.subject.clone(),
                        },
                        "serial": cert.serial,
                        "at": at("disposed_at").unwrap_or_else(|| cert.issued_at.to_string()),
                        "date": at("disposed_at"),
                        "method": match at("retention.early") {
                            Some(reason) => format!(
                                "{} (early: {reason})",
                                at("method.name").unwrap_or_default()
                            ),
                            None => at("method.name").unwrap_or_default(),
                        },
                        "approver": at("approver.name"),
                        "department": at("executor.department").or_else(|| department(&executor)),
                        "executor": executor,
                        "checker": checker,
                        "certificate": cert.id,
                    })
                }
                Kind::Erasure if at("destination").as_deref() == Some("disposal") => {
                    let executor = at("operator.name").unwrap_or_default();
                    if let Some(m) = at("medium.media_record") {
                        certified_media.insert(m);
                    }
                    serde_json::json!({
                        "item": at("medium.media_record")
                            .or_else(|| at("medium.device"))
                            .unwrap_or_default(),
                        "serial": at("medium.serial"),
                        "at": at("sanitization.ended").unwrap_or_else(|| cert.issued_at.to_string()),
                        "date": at("sanitization.ended"),
                        "method": at("sanitization.method"),
                        "approver": Value::Null,
                        "department": at("operator.department").or_else(|| department(&executor)),
                        "executor": executor,
                        "checker": checker,
                        "certificate": cert.id,
                    })
                }
                Kind::Vendor => serde_json::json!({
                    "item": cert.subject,
                    "serial": cert.serial,
                    "at": cert.issued_at,
                    "date": at("date"),
                    "method": at("method"),
                    "approver": Value::Null,
                    "department": Value::Null,
                    "executor": at("vendor"),
                    "checker": checker,
                    "certificate": cert.id,
                }),
                _ => continue,
            };
            rows.push(row);
        }
        // The manager's check after a medium's disposal.
        let checkers: std::collections::BTreeMap<String, String> = self
            .ledger
            .entries(&LogFilter {
                kind: Some("media-signoff".into()),
                ..Default::default()
            })?
            .into_iter()
            .map(|e| (e.subject, e.actor))
            .collect();
        // Media destroyed, or retired as wiped, that no disposal certificate names.
        for e in self.ledger.entries(&LogFilter {
            kind: Some("media-retire".into()),
            ..Default::default()
        })? {
            let p = e.payload.clone().unwrap_or(Value::Null);
            let reason = p.get("reason").and_then(Value::as_str);
            if !matches!(reason, Some("destroyed" | "wiped"))
                || certified_media.contains(&e.subject)
            {
                continue;
            }
            let proof = p.get("proof").cloned().unwrap_or(Value::Null);
            let method = match proof.get("destruction_method").and_then(Value::as_str) {
                Some(method) => match proof.get("witness").and_then(Value::as_str) {
                    Some(witness) => format!("{method} (witness {witness})"),
                    None => method.to_owned(),
                },
                None => reason.unwrap_or_default().to_owned(),
            };
            // The department and contractor the disposal recorded (004 art.11-6);
            // for a disposal recorded before it did, the people register's.
            let section = p
                .get("department")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| department(&e.actor));
            rows.push(serde_json::json!({
                "item": e.subject,
                "serial": p.get("serial"),
                "at": e.at,
                "date": e.at,
                "method": method,
                "approver": p.get("approver"),
                "department": section,
                "executor": e.actor,
                "contractor": p.get("contractor"),
                "checker": checkers.get(&e.subject),
                "certificate": proof.get("erasure_certificate"),
            }));
        }
        rows.sort_by(|a, b| {
            a["at"]
                .as_str()
                .unwrap_or("")
                .cmp(b["at"].as_str().unwrap_or(""))
        });
        Ok(rows)
    }

    /// The people register, flattened for the ID register.
    fn people_rows(&self) -> Result<Vec<Value>> {
        let system = format!("custody ({})", self.config.station);
        Ok(self
            .register()?
            .into_iter()
            .map(|p| {
                serde_json::json!({
                    "system": system,
                    "user_id": p.name,
                    "name": p.name,
                    "department": p.department,
                    "role": p.role,
                    "since": p.since,
                    "removed": p.removed,
                    "id": p.id,
                    "key_id": p.keys.key_id.or(p.keys.pending),
                })
            })
            .collect())
    }

    /// Wipe results from the ledger, flattened for the report.
    fn wipe_rows(&self) -> Result<Vec<Value>> {
        let entries = self.ledger.entries(&LogFilter {
            kind: Some("wipe".into()),
            ..Default::default()
        })?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let p = e.payload.unwrap_or(Value::Null);
                let identity = p.get("device").cloned().unwrap_or(Value::Null);
                serde_json::json!({
                    "id": e.subject,
                    "at": e.at,
                    "actor": e.actor,
                    "target": p.get("target"),
                    "model": identity.get("model"),
                    "serial": identity.get("serial"),
                    "method": p.get("method"),
                    "status": p.get("status"),
                    "verify": p.get("verify").and_then(|v| v.get("result")),
                    "errors": p.get("errors").and_then(Value::as_array).map(Vec::len),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_field("plain 日本"), "plain 日本");
        for (risky, inert_text) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
        ] {
            assert_eq!(inert(risky), inert_text);
        }
        for plain in ["-", "-3", "+1.5", "組合員名簿", "a=b", "2026-12-02"] {
            assert_eq!(inert(plain), plain);
        }
        assert_eq!(in_era("2026-12-02"), "令和8年12月2日");
        assert_eq!(in_era("2019-04-30 23:59:00"), "平成31年4月30日 23:59:00");
        assert_eq!(in_era("2026-12-02T01:00"), "2026-12-02T01:00");
        assert_eq!(in_era("MD-1"), "MD-1");
        assert_eq!(in_era("本部監査室へ持出し"), "本部監査室へ持出し");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
