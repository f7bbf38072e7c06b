//! `custody operation …`: the operation records of My Number data (特定個人情報等の
//! 運用状況記録票, 003 別紙1) — inputs, paper disposals, deletions — and their check by
//! another person.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use custody_core::RecordId;
use custody_core::registers::operation::{NewOperation, Operation, OperationKind};

use crate::commands::{open_station, print_created};
use crate::i18n::t;
use crate::output::{Printer, Table};

/// What was done.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OperationKindArg {
    /// Data put into a system (入力).
    Input,
    /// Paper with My Number data shredded or dissolved (書類廃棄).
    PaperDisposal,
    /// Electronic data deleted (削除).
    Deletion,
}

impl From<OperationKindArg> for OperationKind {
    fn from(arg: OperationKindArg) -> OperationKind {
        match arg {
            OperationKindArg::Input => OperationKind::Input,
            OperationKindArg::PaperDisposal => OperationKind::PaperDisposal,
            OperationKindArg::Deletion => OperationKind::Deletion,
        }
    }
}

/// `custody operation …`.
#[derive(Debug, Subcommand)]
pub enum OperationCommand {
    /// Record an input, a paper disposal or a deletion of My Number data; another
    /// person checks it with `custody operation check`.
    New {
        /// What was done.
        #[arg(long, value_enum)]
        kind: OperationKindArg,
        /// What it was about: the forms or data, and how.
        #[arg(long)]
        content: String,
        /// How many items.
        #[arg(long)]
        count: Option<u32>,
        /// The system concerned (個人番号管理システム …).
        #[arg(long)]
        system: Option<String>,
        /// The day it was done, if not today (2026-12-01, 令和8年12月1日).
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record your check of an operation that another person did (目視チェック).
    Check {
        /// The operation record (OP-…).
        id: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the operation records.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `custody operation …`.
pub fn operation(cmd: OperationCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        OperationCommand::New {
            kind,
            content,
            count,
            system,
            on,
            json,
        } => {
            let id = station.record_operation(&NewOperation {
                kind: kind.into(),
                content,
                count,
                system,
                on,
            })?;
            print_created(&id, &t!("what-operation"), json)?;
            if !json {
                eprintln!("{}", t!("operation-check-next", id = id));
            }
        }
        OperationCommand::Check { id, json } => {
            let done = station.check_operation(&RecordId::parse(&id)?)?;
            Printer::new(json).print(&done, |o| {
                t!(
                    "operation-checked",
                    id = o.id,
                    by = o.checked_by.clone().unwrap_or_default()
                )
            })?;
        }
        OperationCommand::List { json } => {
            Printer::new(json).print(&station.operations()?, |list| rows(list))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rows(list: &[Operation]) -> String {
    let mut table = Table::new(&["ID", "DATE", "KIND", "CONTENT", "COUNT", "BY", "CHECKED BY"]);
    for o in list {
        table.row([
            o.id.to_string(),
            o.done_on.clone(),
            crate::i18n::word("operation-kind", o.kind.as_str()),
            o.content.clone(),
            o.count.map(|n| n.to_string()).unwrap_or_default(),
            o.by.clone(),
            o.checked_by.clone().unwrap_or_else(|| t!("not-checked")),
        ]);
    }
    table.render()
}
