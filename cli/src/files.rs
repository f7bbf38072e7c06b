//! `custody files …`: the register of files of personal data (特定個人情報ファイル
//! 管理簿, 004 art.9-2), kept by the manager.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use custody_core::RecordId;
use custody_core::registers::files::{FileFields, PersonalFile};

use crate::commands::{open_station, print_created};
use crate::i18n::t;
use crate::output::{Printer, Table};

/// What the register says of a file (004 art.9-2 (1)-(9), and its retention).
#[derive(Debug, Clone, Args)]
pub struct FileArgs {
    /// (1) Its name.
    #[arg(long)]
    pub name: Option<String>,
    /// (2) The section whose work uses it.
    #[arg(long)]
    pub department: Option<String>,
    /// (3) What it is used for.
    #[arg(long)]
    pub purpose: Option<String>,
    /// (4) The items it records.
    #[arg(long)]
    pub items: Option<String>,
    /// (5) Its range: the file, list or data names.
    #[arg(long)]
    pub scope: Option<String>,
    /// (6) How it is collected (from the person, from another body …).
    #[arg(long)]
    pub collection: Option<String>,
    /// (7) To whom it is regularly provided.
    #[arg(long)]
    pub recipients: Option<String>,
    /// (8) How it is kept (system, PC, removable media, paper …).
    #[arg(long)]
    pub management: Option<String>,
    /// (9) Its kind (system, spreadsheet, application forms, printed lists …).
    #[arg(long)]
    pub kind: Option<String>,
    /// How long it is kept.
    #[arg(long)]
    pub retention: Option<String>,
}

impl From<FileArgs> for FileFields {
    fn from(a: FileArgs) -> FileFields {
        FileFields {
            name: a.name,
            department: a.department,
            purpose: a.purpose,
            items: a.items,
            scope: a.scope,
            collection: a.collection,
            recipients: a.recipients,
            management: a.management,
            kind: a.kind,
            retention: a.retention,
        }
    }
}

/// `custody files …`.
#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// Register a file of personal data (managers); its name, section and purpose
    /// are needed.
    Add {
        #[command(flatten)]
        fields: FileArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change what the register says of a file (managers).
    Update {
        /// The file (FL-…).
        id: String,
        #[command(flatten)]
        fields: FileArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one file's entries.
    Show {
        /// The file (FL-…).
        id: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the register of files.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `custody files …`.
pub fn files(cmd: FilesCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        FilesCommand::Add { fields, json } => {
            let id = station.add_personal_file(&fields.into())?;
            print_created(&id, &t!("what-file"), json)?;
        }
        FilesCommand::Update { id, fields, json } => {
            let file = station.update_personal_file(&RecordId::parse(&id)?, &fields.into())?;
            Printer::new(json).print(&file, show)?;
        }
        FilesCommand::Show { id, json } => {
            let file = station.personal_file(&RecordId::parse(&id)?)?;
            Printer::new(json).print(&file, show)?;
        }
        FilesCommand::List { json } => {
            Printer::new(json).print(&station.personal_files()?, |list| {
                let mut table = Table::new(&["ID", "NAME", "DEPARTMENT", "PURPOSE", "KIND"]);
                for f in list {
                    table.row([
                        f.id.to_string(),
                        f.name.clone(),
                        f.department.clone(),
                        f.purpose.clone(),
                        f.kind.clone().unwrap_or_else(|| "-".into()),
                    ]);
                }
                table.render()
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One file, a field a line.
fn show(f: &PersonalFile) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let fields = [
        ("file-name", f.name.clone()),
        ("file-department", f.department.clone()),
        ("file-purpose", f.purpose.clone()),
        ("file-items", dash(&f.items)),
        ("file-scope", dash(&f.scope)),
        ("file-collection", dash(&f.collection)),
        ("file-recipients", dash(&f.recipients)),
        ("file-management", dash(&f.management)),
        ("file-kind", dash(&f.kind)),
        ("file-retention", dash(&f.retention)),
    ];
    let mut out = format!("{}\n", f.id);
    for (id, value) in fields {
        out.push_str(&format!("  {}: {value}\n", crate::i18n::text(id, &[])));
    }
    if !f.records.is_empty() {
        let records: Vec<String> = f.records.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "  {}: {}\n",
            crate::i18n::text("file-records", &[]),
            records.join(", ")
        ));
    }
    out
}
