//! The retention commands, certificates, and payload erasure.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use custody_core::RecordId;
use custody_core::retention::{Destruction, NewRetained, Retained};
use serde_json::json;

use crate::commands::{open_station, print_created};
use crate::i18n::t;
use crate::output::{self, Printer, Table};

/// `custody retain …`.
#[derive(Debug, Subcommand)]
pub enum RetainCommand {
    /// Register files or folders (or a medium) with a retention class.
    Add(RetainAddArgs),
    /// List retained items.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List items whose retention date has passed.
    Due {
        /// As of this date instead of today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record the event that starts an event-class period (e.g. loss of eligibility).
    Event {
        /// The item (RT-…).
        id: String,
        /// The event's date.
        #[arg(long)]
        date: String,
        /// Why the date is before this station's first record (recorded, and listed
        /// by `custody report audit`).
        #[arg(long, value_name = "TEXT")]
        backdate_reason: Option<String>,
    },
    /// Put an item on hold: it is never disposed of while held (managers).
    Hold {
        /// The item (RT-…).
        id: String,
        /// Why (an investigation, a request for disclosure, litigation …).
        #[arg(long)]
        reason: String,
    },
    /// Release a hold (managers).
    Release {
        /// The item (RT-…).
        id: String,
    },
    /// Dispose of an item after its date, with an approved request; or file that request.
    Dispose(DisposeArgs),
    /// The retention classes: list them, add or lengthen one.
    #[command(subcommand)]
    Class(ClassCommand),
}

/// `custody retain add`.
#[derive(Debug, Args)]
pub struct RetainAddArgs {
    /// Files and folders to retain.
    #[arg(required_unless_present = "media", conflicts_with = "media")]
    pub paths: Vec<PathBuf>,
    /// Retain a registered medium (MD-…) instead of files.
    #[arg(long)]
    pub media: Option<String>,
    /// The retention class (`custody retain class list`: system-data, media-data,
    /// backup, my-number, records, disclosure, and any the office added).
    #[arg(long)]
    pub class: String,
    /// For classes that run from registration: the date the period started, if earlier
    /// (a manager approves that).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// For classes that run from an event: the event date, if already known (one
    /// before today, a manager approves).
    #[arg(long, value_name = "DATE")]
    pub event_date: Option<String>,
    /// A note.
    #[arg(long)]
    pub note: Option<String>,
    /// Why the period starts before today (a paper register transcribed, data moved
    /// from another system): recorded, listed by `custody report audit`, and filed as
    /// a request; the item counts from today until a manager approves it.
    #[arg(long, value_name = "TEXT")]
    pub backdate_reason: Option<String>,
    /// The registered file of personal data it belongs to (FL-…).
    #[arg(long, value_name = "FL-…")]
    pub file: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `custody retain class …`.
#[derive(Debug, Subcommand)]
pub enum ClassCommand {
    /// List the retention classes in force, with their period and legal basis.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a class that refines another (never shorter), or lengthen one and restate
    /// its basis (managers; signed and recorded).
    Set {
        /// The class's name (lower case, digits, hyphens).
        name: String,
        /// How many years its items are kept.
        #[arg(long)]
        years: u32,
        /// The rule that sets the period, quoted on disposal records.
        #[arg(long)]
        basis: String,
        /// For a new class: the class whose data it holds.
        #[arg(long, value_name = "CLASS")]
        like: Option<String>,
    },
}

/// `custody retain dispose`.
#[derive(Debug, Args)]
pub struct DisposeArgs {
    /// The item (RT-…).
    pub id: String,
    /// File a disposal request (a manager other than you approves it) instead of disposing.
    #[arg(long)]
    pub request: bool,
    /// With --request, before its date: why it is no longer needed (004 art.11); the
    /// manager's approval then allows its disposal before the date.
    #[arg(long, value_name = "REASON", requires = "request")]
    pub early: Option<String>,
    /// For a medium that was physically destroyed: who destroyed it.
    #[arg(long, requires = "method")]
    pub destroyed_by: Option<String>,
    /// For a medium that was physically destroyed: how.
    #[arg(long, requires = "destroyed_by")]
    pub method: Option<String>,
    /// For a medium that was physically destroyed: the registered person who watched
    /// it (required for a medium of the My Number systems).
    #[arg(long, requires = "destroyed_by")]
    pub witness: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn id(text: &str) -> Result<RecordId> {
    Ok(RecordId::parse(text)?)
}

fn rows(items: &[Retained]) -> String {
    let mut table = Table::new(&["ID", "CLASS", "DUE", "STATUS", "WHAT", "HOLD"]);
    for i in items {
        table.row([
            i.id.to_string(),
            i.class.clone(),
            i.due.clone().unwrap_or_else(|| t!("due-after-event")),
            crate::i18n::word("retained-status", &i.status.to_string()),
            match &i.media {
                Some(m) => t!("retained-medium", id = m),
                None => t!("retained-files", count = i.files.len()),
            },
            i.hold_reason.clone().unwrap_or_default(),
        ]);
    }
    table.render()
}

/// `custody retain …`.
pub fn retain(cmd: RetainCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        RetainCommand::Add(args) => {
            let new = NewRetained {
                paths: args.paths,
                media: args.media.as_deref().map(id).transpose()?,
                class: args.class,
                since: args.since,
                event_date: args.event_date,
                note: args.note,
                backdate_reason: args.backdate_reason,
                personal_file: args.file.as_deref().map(id).transpose()?,
            };
            let created = station.retain_add(&new)?;
            let item = station.retained(&created)?;
            if !args.json {
                eprintln!(
                    "{}",
                    t!(
                        "retained-kept",
                        class = item.class,
                        basis = item.basis,
                        due = item
                            .due
                            .clone()
                            .unwrap_or_else(|| t!("due-event-plus-period"))
                    )
                );
            }
            print_created(&created, &t!("what-retained-item"), args.json)?;
            if !args.json
                && let Some(request) = station.backdate_request(&created)?
            {
                eprintln!(
                    "{}",
                    t!("backdate-requested", id = created, request = request)
                );
            }
        }
        RetainCommand::List { json } => {
            Printer::new(json).print(&station.retained_list()?, |list| rows(list))?;
        }
        RetainCommand::Due { as_of, json } => {
            Printer::new(json)
                .print(&station.retained_due(as_of.as_deref())?, |list| rows(list))?;
        }
        RetainCommand::Event {
            id: text,
            date,
            backdate_reason,
        } => {
            let item = station.retain_event(&id(&text)?, &date, backdate_reason.as_deref())?;
            output::text(&t!(
                "retained-event",
                id = item.id,
                date = date,
                due = item.due.unwrap_or_default()
            ))?;
        }
        RetainCommand::Hold { id: text, reason } => {
            station.retain_hold(&id(&text)?, &reason)?;
            output::text(&t!("retained-held", id = text, reason = reason))?;
        }
        RetainCommand::Release { id: text } => {
            station.retain_release(&id(&text)?)?;
            output::text(&t!("retained-released", id = text))?;
        }
        RetainCommand::Class(ClassCommand::List { json }) => {
            Printer::new(json).print(&station.retention_classes()?, |classes| {
                let mut table = Table::new(&["CLASS", "KEPT", "FROM", "BASIS"]);
                for c in classes {
                    table.row([
                        c.name.clone(),
                        t!("years", count = c.years),
                        match c.trigger {
                            custody_core::config::Trigger::Created => t!("trigger-registration"),
                            custody_core::config::Trigger::Event => t!("trigger-event"),
                        },
                        c.basis.clone(),
                    ]);
                }
                table.render()
            })?;
        }
        RetainCommand::Class(ClassCommand::Set {
            name,
            years,
            basis,
            like,
        }) => {
            let class = station.set_retention_class(&name, years, &basis, like.as_deref())?;
            output::text(&t!(
                "class-set",
                name = class.name,
                years = class.years,
                basis = class.basis
            ))?;
        }
        RetainCommand::Dispose(args) => {
            let item = id(&args.id)?;
            if args.request {
                let request = station.request_disposal(&item, args.early.as_deref())?;
                print_created(&request, &t!("what-disposal-request"), args.json)?;
                if !args.json {
                    eprintln!("{}", t!("approve-next", id = request));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let destruction = match (args.destroyed_by, args.method) {
                (Some(by), Some(method)) => Some(Destruction {
                    by,
                    method,
                    witness: args.witness,
                }),
                _ => None,
            };
            station.unlock_now()?;
            let done = station.dispose(&item, destruction.as_ref())?;
            if args.json {
                output::json(&json!({
                    "id": done.certificate.id,
                    "item": done.item,
                    "files": done.files,
                    "certificate": done.certificate.id,
                    "sha256": done.certificate.sha256,
                }))?;
            } else {
                output::text(&t!(
                    "disposed",
                    id = done.item,
                    files = done.files.len(),
                    cert = done.certificate.id
                ))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
