//! The registers' commands: approvals, media, carry-outs, handovers, downloads and
//! reports.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use custody_core::RecordId;
use custody_core::registers::carryout::{Carryout, CarryoutFilter, NewCarryout};
use custody_core::registers::destroy::DestroyMethod;
use custody_core::registers::handover::{Direction, NewHandover};
use custody_core::registers::media::{DataClass, MediaKind, MediaStatus, NewMedium, RetireReason};
use custody_core::registers::requests::{Approval, Request, RequestKind};
use custody_core::report::ReportKind;
use serde_json::json;

use crate::args::vocabulary;
use crate::commands::{open_station, print_created};
use crate::i18n::t;
use crate::output::{self, Printer, Table};

/// `custody approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The request (RQ-…), carry-out (CO-…) or download (DL-…) to approve.
    pub id: String,
    /// A comment for the record.
    #[arg(long)]
    pub comment: Option<String>,
    /// For a carry-out of personal data that is not encrypted: why it may go as it
    /// is (recorded with the approval; without it such a carry-out is refused).
    #[arg(long, value_name = "REASON")]
    pub accept_unencrypted: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `custody reject`.
#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The request to reject.
    pub id: String,
    /// Why (recorded, and shown to the requester).
    #[arg(long)]
    pub reason: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `custody requests`.
#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// Only requests still waiting for a decision.
    #[arg(long)]
    pub pending: bool,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Kinds of media.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MediaKindArg {
    /// USB stick.
    Usb,
    /// Hard disk.
    Hdd,
    /// Solid-state disk.
    Ssd,
    /// CD, DVD, Blu-ray.
    Optical,
    /// Backup tape.
    Tape,
    /// A whole PC.
    Pc,
    /// Anything else.
    Other,
}

impl From<MediaKindArg> for MediaKind {
    fn from(arg: MediaKindArg) -> MediaKind {
        match arg {
            MediaKindArg::Usb => MediaKind::Usb,
            MediaKindArg::Hdd => MediaKind::Hdd,
            MediaKindArg::Ssd => MediaKind::Ssd,
            MediaKindArg::Optical => MediaKind::Optical,
            MediaKindArg::Tape => MediaKind::Tape,
            MediaKindArg::Pc => MediaKind::Pc,
            MediaKindArg::Other => MediaKind::Other,
        }
    }
}

/// What a virus check found.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CheckResultArg {
    /// Nothing.
    Clean,
    /// Malware (removed or not): the medium stays in until a later check is clean.
    Infected,
}

/// `custody media …`.
#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Register a removable medium; a manager approves it for use.
    Add {
        /// What kind of medium.
        #[arg(long, value_enum)]
        kind: MediaKindArg,
        /// Its serial number.
        #[arg(long)]
        serial: String,
        /// The label stuck on it.
        #[arg(long)]
        label: Option<String>,
        /// Make and model.
        #[arg(long)]
        model: Option<String>,
        /// The department that owns it.
        #[arg(long)]
        owner: Option<String>,
        /// Where it is kept (e.g. "cabinet B, shelf 2").
        #[arg(long)]
        location: Option<String>,
        /// It encrypts what it holds (hardware-encrypted stick, encrypted disk).
        #[arg(long)]
        encrypted: bool,
        /// Its capacity as printed on it (16GB, 500G, 1TB, 64GiB, or bytes): a wipe
        /// certificate is proof of its erasure only for a device of this size.
        #[arg(long, value_name = "SIZE")]
        capacity: Option<String>,
        /// What it holds: general, or my-number (data of the My Number systems; such a
        /// medium leaves only physically destroyed, after a wipe).
        #[arg(long, value_name = "CLASS", default_value = "general",
              value_parser = vocabulary(DataClass::WORDS, DataClass::parse))]
        holds: DataClass,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List registered media.
    List {
        /// Only media with this status.
        #[arg(long, value_parser = vocabulary(MediaStatus::WORDS, MediaStatus::parse))]
        status: Option<MediaStatus>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one medium with its whole history.
    Show {
        /// The medium (MD-…).
        id: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record a virus check of a medium: on registration and after data is written
    /// to it. A medium leaves on a carry-out only when its latest check found nothing.
    Check {
        /// The medium (MD-…).
        id: String,
        /// The tool and its version (ClamAV 1.4 …).
        #[arg(long)]
        tool: String,
        /// What it found.
        #[arg(long, value_enum)]
        result: CheckResultArg,
        /// The day of the check, if not today.
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
    /// Take a medium out of service.
    Retire {
        /// The medium (MD-…).
        id: String,
        /// Why.
        #[arg(long, value_parser = vocabulary(RetireReason::WORDS, RetireReason::parse))]
        reason: RetireReason,
        /// File the disposal request a manager approves before the medium is
        /// destroyed or retired as wiped.
        #[arg(long)]
        request: bool,
        /// How it was physically destroyed (shredded, drilled, crushed …).
        #[arg(long, requires = "witness")]
        method: Option<String>,
        /// Who destroyed it (a person or a contractor's worker); you, if not given.
        #[arg(long, requires = "method")]
        destroyed_by: Option<String>,
        /// The registered person who watched the destruction.
        #[arg(long, requires = "method")]
        witness: Option<String>,
        /// The contractor who did the disposal, if one did.
        #[arg(long)]
        contractor: Option<String>,
    },
    /// Record a medium's physical destruction, photographed and witnessed: the
    /// witness signs with their own key, and a destruction certificate (XC-…) is
    /// issued. Media of the My Number systems are closed this way only.
    Destroy {
        /// The medium (MD-…).
        id: String,
        /// How: shred, disintegrate, drill or degauss.
        #[arg(long, value_parser = vocabulary(DestroyMethod::WORDS, DestroyMethod::parse))]
        method: DestroyMethod,
        /// Who destroyed it (a person, or a contractor's operator).
        #[arg(long, value_name = "NAME")]
        by: String,
        /// The registered person who watched; they unlock their own key to sign.
        #[arg(long, value_name = "NAME")]
        witness: String,
        /// The contractor who did it, if one did.
        #[arg(long, value_name = "NAME")]
        contractor: Option<String>,
        /// A photo of the destruction in which the medium can be recognised (JPEG or
        /// PNG); give it once per photo.
        #[arg(long = "photo", value_name = "FILE", required = true)]
        photos: Vec<std::path::PathBuf>,
        /// The witness's key file (default: $XDG_CONFIG_HOME/custody/keys/WITNESS.key).
        #[arg(long, value_name = "FILE")]
        witness_key: Option<std::path::PathBuf>,
        /// Read the witness's passphrase from the first line of FILE (for scripts);
        /// without it the witness types it on the terminal.
        #[arg(long, env = "CUSTODY_WITNESS_KEY_PASSPHRASE_FILE", value_name = "FILE")]
        witness_passphrase_file: Option<std::path::PathBuf>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record a manager's check after a medium's disposal (a manager who did not do
    /// it).
    SignOff {
        /// The medium (MD-…).
        id: String,
        /// A comment for the record.
        #[arg(long)]
        comment: Option<String>,
    },
}

/// `custody carryout …`.
#[derive(Debug, Subcommand)]
pub enum CarryoutCommand {
    /// Request permission to take data or media out of the office.
    New {
        /// What is taken out.
        #[arg(long)]
        what: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Where to.
        #[arg(long = "to")]
        destination: String,
        /// When it will be back: a date (2026-12-01, by the end of that day) or a local
        /// time (2026-12-01 17:00, or with an offset: 2026-12-01T17:00+09:00).
        #[arg(long)]
        return_by: String,
        /// How it travels (in person in a locked bag, registered mail, courier with tracking …).
        #[arg(long)]
        transport: String,
        /// The registered medium it travels on (MD-…).
        #[arg(long)]
        media: Option<String>,
        /// The encrypted transfer that holds the data (TX-…).
        #[arg(long)]
        transfer: Option<String>,
        /// It holds personal data.
        #[arg(long)]
        personal_data: bool,
        /// How many records it holds.
        #[arg(long)]
        records: Option<u64>,
        /// The registered file of personal data it concerns (FL-…).
        #[arg(long, value_name = "FL-…")]
        file: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a carry-out (a manager other than the requester).
    Approve(ApproveArgs),
    /// Record that an approved carry-out has left the office.
    Out {
        /// The carry-out (CO-…).
        id: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record that it is back.
    Return {
        /// The carry-out (CO-…).
        id: String,
        /// Its condition on return.
        #[arg(long)]
        condition: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close a carry-out that was lost while out; its medium is lost with it and an
    /// incident is opened.
    Lost {
        /// The carry-out (CO-…).
        id: String,
        /// What happened, as far as is known.
        #[arg(long)]
        what: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List carry-outs.
    List {
        /// Only those not yet returned.
        #[arg(long, conflicts_with = "overdue")]
        open: bool,
        /// Only those out past their return time.
        #[arg(long)]
        overdue: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one carry-out.
    Show {
        /// The carry-out (CO-…).
        id: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `custody handover …`.
#[derive(Debug, Subcommand)]
pub enum HandoverCommand {
    /// Record a handover of a medium to or from an outside party.
    New {
        /// The registered medium (MD-…).
        #[arg(long)]
        media: String,
        /// send (we hand it over) or receive (we receive it).
        #[arg(long, value_parser = vocabulary(Direction::WORDS, Direction::parse))]
        direction: Direction,
        /// The other party.
        #[arg(long)]
        counterparty: String,
        /// Why.
        #[arg(long)]
        purpose: String,
        /// How (by hand, registered mail, courier with tracking …).
        #[arg(long)]
        method: String,
        /// How many media or items.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record the receiving side's confirmation of receipt.
    Confirm {
        /// The handover (HO-…).
        id: String,
        /// Who confirmed receipt.
        #[arg(long)]
        by: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List handovers.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `custody download …`.
#[derive(Debug, Subcommand)]
pub enum DownloadCommand {
    /// Request permission to download personal data from a business system.
    New {
        /// What data.
        #[arg(long)]
        content: String,
        /// From which system.
        #[arg(long)]
        system: String,
        /// The registered file of personal data it concerns (FL-…).
        #[arg(long, value_name = "FL-…")]
        file: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record that the downloaded copy was deleted.
    Deleted {
        /// The download (DL-…).
        id: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List downloads.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Report formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// CSV for Excel (UTF-8 with BOM).
    Csv,
    /// JSON.
    Json,
    /// PDF, for the periodic review (`report summary`), written with -o.
    Pdf,
}

/// `custody report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// carryouts, handovers, downloads, media, wipes, people (the ID register,
    /// 様式1), sends, disposals, operations, incidents, files, summary (the periodic
    /// review), or audit (what needs attention).
    #[arg(value_parser = report_kinds())]
    pub kind: String,
    /// First day, local time (2026-04-01); required except for `audit`.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, inclusive; required except for `audit`.
    #[arg(long)]
    pub to: Option<String>,
    /// Output format (pdf: the periodic review's page, `report summary -o FILE`).
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ReportFormat,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Dates in the Japanese era calendar (令和8年12月2日), as paper forms write them
    /// (CSV).
    #[arg(long)]
    pub era: bool,
    /// For `report audit`: print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The registers a report covers, and `audit`.
fn report_kinds() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(ReportKind::WORDS.iter().copied().chain(["audit"]))
}

fn id(text: &str) -> Result<RecordId> {
    Ok(RecordId::parse(text)?)
}

/// `custody approve`.
pub fn approve(args: ApproveArgs) -> Result<ExitCode> {
    let mut station = open_station()?;
    let target = id(&args.id)?;
    // The approver sees what they decide on, and every warning the requester saw,
    // whatever they answer.
    if let Ok(request) = station.request(&target) {
        let mut shown = serde_json::to_value(&request)?;
        shown["facts"] = facts(&station, &request)?;
        if !args.json {
            eprint!("{}", request_text(&shown, false));
        }
        for w in shown["facts"]["warnings"].as_array().into_iter().flatten() {
            let _ = w;
            eprintln!(
                "{}: {}",
                crate::i18n::t!("warning-prefix"),
                crate::i18n::t!("warning-unencrypted", id = target)
            );
        }
    }
    let request = station.approve_with(
        &target,
        &Approval {
            comment: args.comment.as_deref(),
            accept_unencrypted: args.accept_unencrypted.as_deref(),
        },
    )?;
    let by = &station.actor().name;
    Printer::new(args.json).print(&request, |r| {
        t!(
            "approved-by",
            id = r.id,
            by = by,
            summary = summary_words(r.kind.as_str(), &r.summary)
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A request's summary in the language of messages. Core makes the summaries of
/// carry-out, download and disposal requests from their fields in fixed English
/// ("carry out WHAT to WHERE", "download WHAT from SYSTEM", "dispose of RT-1 (CLASS,
/// due DATE)"); those are worded again from the same fields. A send request's
/// summary is the requester's own words.
fn summary_words(kind: &str, summary: &str) -> String {
    let worded = match kind {
        "carryout" => summary
            .strip_prefix("carry out ")
            .and_then(|rest| rest.rsplit_once(" to "))
            .map(|(what, to)| t!("summary-carryout", what = what, to = to)),
        "download" => summary
            .strip_prefix("download ")
            .and_then(|rest| rest.rsplit_once(" from "))
            .map(|(what, system)| t!("summary-download", what = what, system = system)),
        "disposal" if summary.contains(") EARLY, before its date ") => summary
            .strip_prefix("dispose of ")
            .and_then(|rest| rest.split_once(" ("))
            .and_then(|(id, rest)| {
                let (class, rest) = rest.split_once(") EARLY, before its date ")?;
                let (due, reason) = rest.split_once(": no longer needed, ")?;
                Some(t!(
                    "summary-disposal-early",
                    id = id,
                    class = class,
                    due = due,
                    reason = reason
                ))
            }),
        "disposal" if summary.starts_with("dispose of medium ") => summary
            .strip_prefix("dispose of medium ")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|rest| rest.split_once(" ("))
            .and_then(|(id, rest)| {
                let (kind, serial) = rest.split_once(" serial ")?;
                Some(t!(
                    "summary-medium-disposal",
                    id = id,
                    kind = crate::i18n::word("media-kind", kind),
                    serial = serial
                ))
            }),
        "medium" => summary
            .strip_prefix("use ")
            .and_then(|rest| rest.split_once(" medium serial "))
            .map(|(kind, serial)| {
                t!(
                    "summary-medium",
                    kind = crate::i18n::word("media-kind", kind),
                    serial = serial
                )
            }),
        "backdate" => summary
            .strip_prefix("start the retention period of ")
            .and_then(|rest| rest.split_once(" ("))
            .and_then(|(id, rest)| {
                let (class, rest) = rest.split_once(") on ")?;
                let rest = rest.strip_prefix("the event date ").unwrap_or(rest);
                let (start, reason) = rest.split_once(", not today: ")?;
                Some(t!(
                    "summary-backdate",
                    id = id,
                    class = class,
                    start = start,
                    reason = reason
                ))
            }),
        "disposal" => summary
            .strip_prefix("dispose of ")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|rest| rest.split_once(" ("))
            .and_then(|(id, rest)| {
                let (class, due) = rest.split_once(", due ")?;
                Some(if due == "after its event" {
                    t!("summary-disposal-after-event", id = id, class = class)
                } else {
                    t!("summary-disposal", id = id, class = class, due = due)
                })
            }),
        _ => None,
    };
    worded.unwrap_or_else(|| summary.to_owned())
}

/// `custody reject`.
pub fn reject(args: RejectArgs) -> Result<ExitCode> {
    let mut station = open_station()?;
    let request = station.reject(&id(&args.id)?, &args.reason)?;
    let by = &station.actor().name;
    Printer::new(args.json).print(&request, |r| {
        t!("rejected-by", id = r.id, by = by, reason = args.reason)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `custody requests`.
pub fn requests(args: RequestsArgs) -> Result<ExitCode> {
    let station = open_station()?;
    let list = station.requests(args.pending)?;
    if args.pending {
        let shown = pending(&station, &list)?;
        Printer::new(args.json).print(&shown, |list| {
            if list.is_empty() {
                return t!("no-pending-requests");
            }
            list.iter()
                .map(|r| request_text(r, true))
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    Printer::new(args.json).print(&list, |list| {
        let mut table = Table::new(&["ID", "KIND", "REQUESTER", "FILED", "STATUS", "BY", "WHAT"]);
        for r in list {
            table.row([
                r.id.to_string(),
                crate::i18n::word("request-kind", &r.kind.to_string()),
                r.requester.clone(),
                r.requested_at.local_minute(),
                crate::i18n::word("state", &r.status.to_string()),
                r.decided_by.clone().unwrap_or_default(),
                summary_words(r.kind.as_str(), &r.summary),
            ]);
        }
        table.render()
    })?;
    Ok(ExitCode::SUCCESS)
}

/// What waits for a decision (`list`, from `requests(true)`), each request with what
/// the decision is about: `requests --pending --json`, and the desk's `/api/inbox`.
pub(crate) fn pending(
    station: &custody_core::Station,
    list: &[Request],
) -> custody_core::Result<Vec<serde_json::Value>> {
    list.iter()
        .map(|r| {
            let mut value = serde_json::to_value(r)
                .map_err(|e| custody_core::Error::Io(std::io::Error::other(e)))?;
            value["facts"] = facts(station, r)?;
            Ok(value)
        })
        .collect()
}

/// What a manager decides on, for a request: for a carry-out, what goes where until
/// when, whether it is personal data and encrypted, the medium, the requester's
/// reason, and the warnings the requester saw; for a download, what from which
/// system.
fn facts(station: &custody_core::Station, r: &Request) -> custody_core::Result<serde_json::Value> {
    Ok(match r.kind {
        RequestKind::Carryout => {
            let c = station.carryout(&r.id)?;
            let medium = c
                .media
                .as_ref()
                .map(|m| station.medium(m).map(|h| h.medium))
                .transpose()?;
            let mut warnings = Vec::new();
            if c.personal_data && c.encrypted == "no" {
                warnings.push("personal data that is not encrypted".to_string());
            }
            json!({
                "what": c.what,
                "destination": c.destination,
                "return_by": c.return_by,
                "return_by_day": c.return_by.deadline(),
                "transport": c.transport,
                "personal_data": c.personal_data,
                "records": c.records,
                "encrypted": c.encrypted,
                "media": medium.map(|m| json!({
                    "id": m.id, "kind": m.kind, "serial": m.serial,
                    "encrypted": m.encrypted, "status": m.status,
                })),
                "transfer": c.transfer,
                "reason": c.reason,
                "warnings": warnings,
            })
        }
        RequestKind::Download => {
            let d = station.downloads()?.into_iter().find(|d| d.id == r.id);
            json!({
                "content": d.as_ref().map(|d| d.content.clone()),
                "system": d.as_ref().map(|d| d.system.clone()),
                "warnings": [],
            })
        }
        _ => json!({ "warnings": [] }),
    })
}

/// A request with its facts (see [`facts`]) as a block of text; its warnings too
/// with `warnings`.
fn request_text(r: &serde_json::Value, warnings: bool) -> String {
    use crate::i18n::t;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    };
    let f = &r["facts"];
    let filed = custody_core::Timestamp::parse(r["requested_at"].as_str().unwrap_or(""))
        .map(|t| t.local_minute())
        .unwrap_or_default();
    let mut out = format!(
        "{}  {}  {}\n  {}\n",
        text(&r["id"]),
        text(&r["kind"]),
        t!("facts-filed", at = filed, by = text(&r["requester"])),
        summary_words(
            r["kind"].as_str().unwrap_or(""),
            r["summary"].as_str().unwrap_or("")
        ),
    );
    let mut line = |label: String, value: String| {
        let label = format!("{label}:");
        let pad = 15usize.saturating_sub(unicode_width::UnicodeWidthStr::width(label.as_str()));
        out.push_str(&format!("  {label}{}{value}\n", " ".repeat(pad.max(1))));
    };
    if r["kind"] == "carryout" {
        let personal = match (f["personal_data"] == true, f["records"].as_i64()) {
            (true, Some(n)) => t!("facts-yes-records", n = n),
            (true, None) => t!("facts-yes"),
            (false, _) => t!("facts-no"),
        };
        let medium = match &f["media"] {
            serde_json::Value::Null => "-".into(),
            m => t!(
                "facts-medium-line",
                id = text(&m["id"]),
                kind = text(&m["kind"]),
                serial = text(&m["serial"]),
                encrypted = if m["encrypted"] == true {
                    t!("facts-encrypted-medium")
                } else {
                    t!("facts-unencrypted-medium")
                },
                status = text(&m["status"])
            ),
        };
        let encrypted = text(&f["encrypted"]);
        let encrypted = match encrypted.as_str() {
            "no" => t!("facts-no"),
            _ => encrypted,
        };
        line(t!("facts-to"), text(&f["destination"]));
        line(t!("facts-return-by"), text(&f["return_by_day"]));
        line(t!("facts-transport"), text(&f["transport"]));
        line(t!("facts-personal-data"), personal);
        line(t!("facts-encrypted"), encrypted);
        line(t!("facts-medium"), medium);
        line(t!("facts-reason"), text(&f["reason"]));
    }
    if r["kind"] == "download" {
        line(t!("facts-content"), text(&f["content"]));
        line(t!("facts-system"), text(&f["system"]));
    }
    if warnings && f["warnings"].as_array().is_some_and(|w| !w.is_empty()) {
        out.push_str(&format!("  {}\n", t!("facts-warning-unencrypted")));
    }
    out
}

/// `custody media …`.
pub fn media(cmd: MediaCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        MediaCommand::Add {
            kind,
            serial,
            label,
            model,
            owner,
            location,
            encrypted,
            capacity,
            holds,
            json,
        } => {
            let new = NewMedium {
                kind: kind.into(),
                serial,
                label,
                model,
                owner,
                location,
                encrypted,
                capacity: capacity
                    .as_deref()
                    .map(custody_core::registers::media::parse_capacity)
                    .transpose()?,
                data_class: holds,
            };
            let created = station.add_medium(&new)?;
            print_created(&created, &t!("what-medium"), json)?;
            if !json {
                eprintln!("{}", t!("medium-needs-approval", id = created));
            }
        }
        MediaCommand::List { status, json } => {
            Printer::new(json).print(&station.media(status)?, |list| {
                let mut table = Table::new(&[
                    "ID",
                    "KIND",
                    "SERIAL",
                    "LABEL",
                    "STATUS",
                    "LOCATION",
                    "ENCRYPTED",
                ]);
                for m in list {
                    table.row([
                        m.id.to_string(),
                        crate::i18n::word("media-kind", &m.kind.to_string()),
                        m.serial.clone(),
                        m.label.clone().unwrap_or_default(),
                        crate::i18n::word("status", &m.status.to_string()),
                        m.location.clone().unwrap_or_default(),
                        yes_no(m.encrypted),
                    ]);
                }
                table.render()
            })?;
        }
        MediaCommand::Show { id: text, json } => {
            let shown = station.medium(&id(&text)?)?;
            if json {
                output::json(&shown)?;
            } else {
                let m = &shown.medium;
                let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                let mut text = t!(
                    "medium-title",
                    id = m.id,
                    kind = crate::i18n::word("media-kind", &m.kind.to_string()),
                    serial = m.serial
                ) + "\n";
                let mut fields = vec![
                    (
                        "label-status",
                        crate::i18n::word("status", &m.status.to_string()),
                    ),
                    ("label-label", dash(&m.label)),
                    ("label-model", dash(&m.model)),
                    ("label-owner", dash(&m.owner)),
                    ("label-location", dash(&m.location)),
                    ("label-encrypted", yes_no(m.encrypted)),
                    (
                        "label-holds",
                        crate::i18n::word("data-class", m.data_class.as_str()),
                    ),
                    ("label-registered", m.added_at.to_string()),
                ];
                if let Some(cert) = &m.certificate {
                    fields.push(("label-certificate", cert.to_string()));
                }
                text.push_str(&labelled(&fields));
                text.push_str(&format!("\n{}\n", t!("label-history")));
                for e in &shown.history {
                    text.push_str(&format!(
                        "  {}  {:<18} {:<6} {}\n",
                        e.at, e.kind, e.subject, e.actor
                    ));
                }
                output::text(&text)?;
            }
        }
        MediaCommand::Check {
            id: text,
            tool,
            result,
            on,
        } => {
            use custody_core::registers::media::CheckResult;
            let target = id(&text)?;
            let result = match result {
                CheckResultArg::Clean => CheckResult::Clean,
                CheckResultArg::Infected => CheckResult::Infected,
            };
            station.check_medium(&target, &tool, result, on.as_deref())?;
            output::text(&t!(
                "medium-checked",
                id = target,
                result = crate::i18n::word("check-result", result.as_str())
            ))?;
        }
        MediaCommand::Retire {
            id: text,
            reason,
            request,
            method,
            destroyed_by,
            witness,
            contractor,
        } => {
            let target = id(&text)?;
            if request {
                let filed = station.request_medium_disposal(&target)?;
                print_created(&filed, &t!("what-disposal-request"), false)?;
                eprintln!("{}", t!("approve-next", id = filed));
                return Ok(ExitCode::SUCCESS);
            }
            let destruction = method.map(|method| custody_core::retention::Destruction {
                by: destroyed_by.unwrap_or_else(|| station.actor().name.clone()),
                method,
                witness,
            });
            let retire = custody_core::registers::media::Retirement {
                reason,
                destruction,
                contractor,
            };
            let incident = station.retire_medium(&target, &retire)?;
            output::text(&t!(
                "medium-retired",
                id = target,
                reason = crate::i18n::word("retire-reason", &reason.to_string())
            ))?;
            if let Some(incident) = incident {
                eprintln!("{}", t!("incident-opened-for-loss", id = incident));
            }
        }
        MediaCommand::Destroy {
            id: text,
            method,
            by,
            witness,
            contractor,
            photos,
            witness_key,
            witness_passphrase_file,
            json,
        } => {
            let target = id(&text)?;
            let key = crate::unlock::witness_key(
                &witness,
                witness_key.as_deref(),
                witness_passphrase_file.as_deref(),
            )?;
            let destroy = custody_core::registers::destroy::Destroy {
                method,
                by,
                witness,
                contractor,
                photos,
            };
            let done = station.destroy_medium(&target, &destroy, key.as_ref())?;
            if json {
                output::json(&done)?;
            } else {
                output::text(&t!(
                    "medium-destroyed",
                    id = target,
                    certificate = done.certificate,
                    count = done.photos.len()
                ))?;
            }
        }
        MediaCommand::SignOff { id: text, comment } => {
            let target = id(&text)?;
            station.sign_off_medium_disposal(&target, comment.as_deref())?;
            output::text(&t!(
                "medium-signed-off",
                id = target,
                by = station.actor().name
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn yes_no(yes: bool) -> String {
    if yes { t!("yes") } else { t!("no") }
}

/// Fields one a line, `label: value`, the values lined up (labels are catalogue
/// ids, `label-…`).
fn labelled(fields: &[(&str, String)]) -> String {
    use unicode_width::UnicodeWidthStr;
    let labels: Vec<String> = fields
        .iter()
        .map(|(id, _)| crate::i18n::text(id, &[]) + &t!("label-colon"))
        .collect();
    let width = labels.iter().map(|l| l.width()).max().unwrap_or(0) + 1;
    let mut text = String::new();
    for (label, (_, value)) in labels.iter().zip(fields) {
        text.push_str(label);
        text.push_str(&" ".repeat(width - label.width()));
        text.push_str(value);
        text.push('\n');
    }
    text
}

/// How a carry-out is protected, as core words it (`no`, `yes: encrypted medium
/// MD-1`, `yes: age-encrypted transfer TX-1`), in the language of messages.
pub(crate) fn protection(encrypted: &str) -> String {
    if let Some(medium) = encrypted.strip_prefix("yes: encrypted medium ") {
        t!("encrypted-medium", id = medium)
    } else if let Some(transfer) = encrypted.strip_prefix("yes: age-encrypted transfer ") {
        t!("encrypted-transfer", id = transfer)
    } else if encrypted == "no" {
        t!("no")
    } else {
        encrypted.to_owned()
    }
}

/// A carry-out, one field a line.
fn carryout_details(c: &Carryout) -> String {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let time =
        |t: &Option<custody_core::Timestamp>| t.map_or_else(|| "-".into(), |t| t.to_string());
    let id = |i: &Option<RecordId>| i.as_ref().map_or_else(|| "-".into(), ToString::to_string);
    let title = format!(
        "{}  {}{}\n",
        c.id,
        crate::i18n::word("carryout-state", &c.state.to_string()),
        if c.overdue {
            t!("overdue-mark")
        } else {
            String::new()
        }
    );
    let personal = match c.records {
        Some(n) => t!("with-records", yes = yes_no(c.personal_data), count = n),
        None => yes_no(c.personal_data),
    };
    title
        + &labelled(&[
            ("label-what", c.what.clone()),
            ("label-reason", c.reason.clone()),
            ("label-to", c.destination.clone()),
            ("label-transport", c.transport.clone()),
            ("label-return-by", c.return_by.deadline()),
            ("label-medium", id(&c.media)),
            ("label-transfer", id(&c.transfer)),
            ("label-personal-data", personal),
            ("label-encrypted", protection(&c.encrypted)),
            (
                "label-requested",
                t!("at-by", at = c.requested_at, by = c.requester),
            ),
            (
                "label-decision",
                format!(
                    "{} {} {}",
                    crate::i18n::word("approval", &c.approval.to_string()),
                    or_dash(&c.approver),
                    time(&c.decided_at)
                ),
            ),
            (
                "label-out",
                format!("{} {}", time(&c.out_at), or_dash(&c.out_by)),
            ),
            (
                "label-returned",
                format!(
                    "{} {} {}",
                    time(&c.returned_at),
                    or_dash(&c.returned_by),
                    or_dash(&c.condition)
                ),
            ),
        ])
}

fn carryout_line(c: &Carryout) -> String {
    t!(
        "carryout-line",
        id = c.id,
        state = crate::i18n::word("carryout-state", &c.state.to_string()),
        what = c.what,
        to = c.destination,
        by = c.return_by.deadline(),
        approval = crate::i18n::word("approval", &c.approval.to_string()),
        overdue = if c.overdue {
            t!("overdue-tag")
        } else {
            String::new()
        },
        encrypted = protection(&c.encrypted)
    )
}

/// `custody carryout …`.
pub fn carryout(cmd: CarryoutCommand) -> Result<ExitCode> {
    if let CarryoutCommand::Approve(args) = cmd {
        return approve(args);
    }
    let mut station = open_station()?;
    match cmd {
        CarryoutCommand::Approve(_) => unreachable!("handled above"),
        CarryoutCommand::New {
            what,
            reason,
            destination,
            return_by,
            transport,
            media,
            transfer,
            personal_data,
            records,
            file,
            json,
        } => {
            let new = NewCarryout {
                what,
                reason,
                destination,
                return_by,
                transport,
                media: media.as_deref().map(id).transpose()?,
                transfer: transfer.as_deref().map(id).transpose()?,
                personal_data,
                records,
                personal_file: file.as_deref().map(id).transpose()?,
            };
            let created = station.new_carryout(&new)?;
            let shown = station.carryout(&created)?;
            if personal_data && shown.encrypted == "no" && !json {
                eprintln!(
                    "{}: {}",
                    t!("warning-prefix"),
                    t!("warning-carryout-unencrypted", id = created)
                );
            }
            print_created(&created, &t!("what-carryout-request"), json)?;
            if !json {
                eprintln!("{}", t!("approve-next", id = created));
            }
        }
        CarryoutCommand::Out { id: text, json } => {
            let c = station.carryout_out(&id(&text)?)?;
            Printer::new(json).print(&c, carryout_line)?;
        }
        CarryoutCommand::Return {
            id: text,
            condition,
            json,
        } => {
            let c = station.carryout_return(&id(&text)?, condition.as_deref())?;
            Printer::new(json).print(&c, carryout_line)?;
        }
        CarryoutCommand::Lost {
            id: text,
            what,
            json,
        } => {
            let (c, incident) = station.carryout_lost(&id(&text)?, &what)?;
            if json {
                output::json(&serde_json::json!({ "carryout": c, "incident": incident }))?;
            } else {
                output::text(&carryout_line(&c))?;
                eprintln!("{}", t!("incident-opened-for-loss", id = incident));
            }
        }
        CarryoutCommand::List {
            open,
            overdue,
            json,
        } => {
            let filter = if overdue {
                CarryoutFilter::Overdue
            } else if open {
                CarryoutFilter::Open
            } else {
                CarryoutFilter::All
            };
            Printer::new(json).print(&station.carryouts(filter)?, |list| {
                if list.is_empty() {
                    return t!("no-carryouts");
                }
                let lines: Vec<String> = list.iter().map(carryout_line).collect();
                lines.join("\n")
            })?;
        }
        CarryoutCommand::Show { id: text, json } => {
            let c = station.carryout(&id(&text)?)?;
            Printer::new(json).print(&c, carryout_details)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `custody handover …`.
pub fn handover(cmd: HandoverCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        HandoverCommand::New {
            media,
            direction,
            counterparty,
            purpose,
            method,
            count,
            json,
        } => {
            let new = NewHandover {
                media: id(&media)?,
                direction,
                counterparty,
                purpose,
                method,
                count,
            };
            let created = station.new_handover(&new)?;
            print_created(&created, &t!("what-handover"), json)?;
        }
        HandoverCommand::Confirm { id: text, by, json } => {
            let h = station.confirm_handover(&id(&text)?, &by)?;
            Printer::new(json).print(&h, |h| t!("receipt-confirmed", id = h.id, by = by))?;
        }
        HandoverCommand::List { json } => {
            Printer::new(json).print(&station.handovers()?, |list| {
                let mut table = Table::new(&[
                    "ID",
                    "DATE",
                    "DIRECTION",
                    "COUNTERPARTY",
                    "MEDIUM",
                    "COUNT",
                    "RECEIPT",
                ]);
                for h in list {
                    table.row([
                        h.id.to_string(),
                        h.at.local_date().to_string(),
                        crate::i18n::word("direction", &h.direction.to_string()),
                        h.counterparty.clone(),
                        format!("{} ({})", h.media, h.serial),
                        h.count.to_string(),
                        h.confirmed_by
                            .clone()
                            .unwrap_or_else(|| t!("not-confirmed")),
                    ]);
                }
                table.render()
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `custody download …`.
pub fn download(cmd: DownloadCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        DownloadCommand::New {
            content,
            system,
            file,
            json,
        } => {
            let file = file.as_deref().map(id).transpose()?;
            let created = station.new_download(&content, &system, file.as_ref())?;
            print_created(&created, &t!("what-download-request"), json)?;
        }
        DownloadCommand::Deleted { id: text, json } => {
            let d = station.download_deleted(&id(&text)?)?;
            Printer::new(json).print(&d, |d| {
                let at = d.deleted_at.map(|t| t.to_string()).unwrap_or_default();
                t!("download-deleted", id = d.id, at = at)
            })?;
        }
        DownloadCommand::List { json } => {
            Printer::new(json).print(&station.downloads()?, |list| {
                let mut table =
                    Table::new(&["ID", "DATE", "CONTENT", "SYSTEM", "APPROVAL", "DELETED"]);
                for d in list {
                    table.row([
                        d.id.to_string(),
                        d.requested_at.local_date().to_string(),
                        d.content.clone(),
                        d.system.clone(),
                        crate::i18n::word("approval", &d.approval.to_string()),
                        d.deleted_at
                            .map(|t| t.local_date().to_string())
                            .unwrap_or_default(),
                    ]);
                }
                table.render()
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A finding of `report audit` in `lang`: its kind, and what is wrong, worded from
/// its facts (core's English words when the catalogue has none).
pub(crate) fn finding_words(
    lang: custody_core::Lang,
    f: &custody_core::report::Finding,
) -> (String, String) {
    // Words of closed sets among the facts, in the person's language.
    let worded: Vec<(&str, String)> = f
        .facts
        .iter()
        .map(|(name, value)| {
            let value = match name.as_str() {
                "kind" => crate::i18n::word_in(lang, "media-kind", value),
                "operation" => crate::i18n::word_in(lang, "operation-kind", value),
                "status" => crate::i18n::word_in(lang, "wipe-outcome", value),
                _ => value.clone(),
            };
            (name.as_str(), value)
        })
        .collect();
    let facts: Vec<(&str, &str)> = worded
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let id = format!("finding-{}", f.kind);
    let detail = crate::i18n::lookup(lang, &id).map_or_else(
        || f.detail.clone(),
        |_| crate::i18n::text_in(lang, &id, &facts),
    );
    (crate::i18n::word_in(lang, "finding-kind", &f.kind), detail)
}

/// `custody report …`.
pub fn report(args: ReportArgs) -> Result<ExitCode> {
    let station = open_station()?;
    if args.kind == "audit" {
        let findings = station.audit()?;
        if args.json || matches!(args.format, ReportFormat::Json) {
            output::json(&json!({ "findings": findings, "count": findings.len() }))?;
        } else if findings.is_empty() {
            output::text(&t!("audit-nothing"))?;
        } else {
            let mut table = Table::new(&["FINDING", "RECORD", "DETAIL"]);
            for f in &findings {
                let (kind, detail) = finding_words(crate::i18n::lang(), f);
                table.row([kind, f.id.clone(), detail]);
            }
            output::text(&table.render())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let kind = ReportKind::parse(&args.kind)?;
    let (from, to) = match (args.from, args.to, kind) {
        (Some(from), Some(to), _) => (from, to),
        // The ID register lists everyone registered until today unless asked otherwise.
        (None, None, ReportKind::People) => (
            "2000-01-01".to_owned(),
            custody_core::clock::today().to_string(),
        ),
        _ => anyhow::bail!(crate::Refused(t!("report-needs-range"))),
    };
    if matches!(args.format, ReportFormat::Pdf)
        && (kind != ReportKind::Summary || args.output.is_none())
    {
        anyhow::bail!(crate::Refused(t!("report-pdf-summary-only")));
    }
    let report = station.report(kind, &from, &to)?;
    let lang = crate::i18n::chosen().unwrap_or(custody_core::Lang::Ja);
    let text = match args.format {
        ReportFormat::Csv => report.to_csv_in(lang, args.era).into_bytes(),
        ReportFormat::Json => {
            (serde_json::to_string_pretty(&report.to_json(lang))? + "\n").into_bytes()
        }
        ReportFormat::Pdf => report.to_pdf(
            lang,
            &custody_core::report::pdf::PageHeading {
                organisation: station.config().organisation.clone(),
                station: station.config().station.clone(),
                from: from.clone(),
                to: to.clone(),
                made_at: custody_core::clock::Timestamp::now().to_string(),
                made_by: station.actor().name.clone(),
            },
        )?,
    };
    match args.output {
        Some(path) => {
            custody_core::config::write_atomic(&path, &text)
                .with_context(|| t!("cannot-write-report", path = path.display()))?;
            eprintln!(
                "{}",
                t!(
                    "report-written",
                    rows = report.rows.len(),
                    path = path.display()
                )
            );
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(&text)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
