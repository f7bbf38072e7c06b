//! `custody disposal batch …`: media handed to a disposal contractor together, the
//! certificates due back by a date, and the batch closed once every serial is
//! accounted for.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use custody_core::RecordId;
use custody_core::registers::batch::Batch;

use crate::commands::{open_station, print_created};
use crate::i18n::t;
use crate::output::{Printer, Table};

/// `custody disposal …`.
#[derive(Debug, Subcommand)]
pub enum DisposalCommand {
    /// Batches of media handed to a disposal contractor.
    #[command(subcommand)]
    Batch(BatchCommand),
}

/// `custody disposal batch …`.
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Hand media to a disposal contractor as one batch (managers): a handover
    /// register entry for each, and the day their certificates are due.
    New {
        /// The disposal contractor.
        #[arg(long)]
        contractor: String,
        /// The media, comma-separated (MD-1,MD-2,…).
        #[arg(long, value_delimiter = ',', required = true)]
        media: Vec<String>,
        /// Days until the certificates are due.
        #[arg(long, default_value_t = 60)]
        due_days: u32,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a batch: each serial and what accounts for it.
    Show {
        /// The batch (BT-…).
        id: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the batches.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close a batch once every serial is accounted for (managers).
    Close {
        /// The batch (BT-…).
        id: String,
    },
}

/// `custody disposal …`.
pub fn disposal(cmd: DisposalCommand) -> Result<ExitCode> {
    let DisposalCommand::Batch(cmd) = cmd;
    let mut station = open_station()?;
    match cmd {
        BatchCommand::New {
            contractor,
            media,
            due_days,
            json,
        } => {
            let media = media
                .iter()
                .map(|m| RecordId::parse(m.trim()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let id = station.new_batch(&contractor, &media, Some(due_days))?;
            print_created(&id, &t!("what-batch"), json)?;
        }
        BatchCommand::Show { id, json } => {
            let batch = station.batch(&RecordId::parse(&id)?)?;
            Printer::new(json).print(&batch, show)?;
        }
        BatchCommand::List { json } => {
            Printer::new(json).print(&station.batches()?, |list| {
                let mut table =
                    Table::new(&["ID", "CONTRACTOR", "DUE", "SERIALS", "OPEN", "CLOSED"]);
                for b in list {
                    let open = b.items.iter().filter(|i| i.accounted_by.is_none()).count();
                    table.row([
                        b.id.to_string(),
                        b.contractor.clone(),
                        b.due_on.clone(),
                        b.items.len().to_string(),
                        open.to_string(),
                        b.closed_at.map(|t| t.to_string()).unwrap_or_default(),
                    ]);
                }
                table.render()
            })?;
        }
        BatchCommand::Close { id } => {
            let batch = station.close_batch(&RecordId::parse(&id)?)?;
            crate::output::text(&t!("batch-closed", id = batch.id))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(b: &Batch) -> String {
    let mut out = t!(
        "batch-title",
        id = b.id,
        contractor = b.contractor,
        due = b.due_on
    ) + "\n";
    let mut table = Table::new(&["MEDIUM", "SERIAL", "HANDOVER", "ACCOUNTED-BY"]);
    for i in &b.items {
        table.row([
            i.media.to_string(),
            i.serial.clone(),
            i.handover.to_string(),
            i.accounted_by.clone().unwrap_or_else(|| t!("batch-open")),
        ]);
    }
    out.push_str(&table.render());
    out
}
