//! `custody incident …`: leaks, losses and breaches of the rules (情報漏えい等事案,
//! 004 arts.27–28), reported by whoever finds them and handled by the manager.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use custody_core::RecordId;
use custody_core::registers::incident::{IncidentUpdate, NewIncident};

use crate::commands::{open_station, print_created};
use crate::i18n::t;
use crate::output::{Printer, Table};

/// `custody incident …`.
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Report a leak, a loss or a breach of the rules, or a sign of one, at once.
    New {
        /// What happened.
        #[arg(long)]
        what: String,
        /// The day it was found, if not today.
        #[arg(long, value_name = "DATE")]
        found: Option<String>,
        /// A record it concerns (MD-…, CO-…, TX-…, RT-…); repeatable.
        #[arg(long = "record", value_name = "ID")]
        records: Vec<String>,
        /// Who has been told so far.
        #[arg(long)]
        told: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record the cause, the measures and their effect, and when the Commission and
    /// the people concerned were told (managers).
    Update {
        /// The incident (IN-…).
        id: String,
        /// Why it happened.
        #[arg(long)]
        cause: Option<String>,
        /// What was done, and to prevent it again.
        #[arg(long)]
        measures: Option<String>,
        /// Whether the measures worked.
        #[arg(long)]
        effect: Option<String>,
        /// The day it was reported to the Personal Information Protection Commission.
        #[arg(long, value_name = "DATE")]
        commission: Option<String>,
        /// The day the people concerned were told.
        #[arg(long, value_name = "DATE")]
        people: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the incidents.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `custody incident …`.
pub fn incident(cmd: IncidentCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        IncidentCommand::New {
            what,
            found,
            records,
            told,
            json,
        } => {
            let records = records
                .iter()
                .map(|r| RecordId::parse(r))
                .collect::<custody_core::Result<Vec<_>>>()?;
            let id = station.open_incident(&NewIncident {
                what,
                found_on: found,
                records,
                told,
            })?;
            print_created(&id, &t!("what-incident"), json)?;
        }
        IncidentCommand::Update {
            id,
            cause,
            measures,
            effect,
            commission,
            people,
            json,
        } => {
            let updated = station.update_incident(
                &RecordId::parse(&id)?,
                &IncidentUpdate {
                    cause,
                    measures,
                    effect,
                    commission_on: commission,
                    people_on: people,
                },
            )?;
            Printer::new(json).print(&updated, |i| t!("incident-updated", id = i.id))?;
        }
        IncidentCommand::List { json } => {
            Printer::new(json).print(&station.incidents()?, |list| {
                let mut table = Table::new(&["ID", "FOUND", "WHAT", "RECORDS", "BY", "MEASURES"]);
                for i in list {
                    table.row([
                        i.id.to_string(),
                        i.found_on.clone(),
                        i.what.clone(),
                        i.records.clone(),
                        i.reported_by.clone(),
                        i.measures.clone().unwrap_or_else(|| "-".into()),
                    ]);
                }
                table.render()
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
