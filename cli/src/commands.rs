//! One function per command: open the station, make one call into core, render.

use std::process::ExitCode;

use anyhow::{Context, Result};
use custody_core::ledger::LogFilter;
use custody_core::people::{Role, actor_name};
use custody_core::{Station, clock, default_home};
use serde_json::{Value, json};

use crate::args::{
    Command, DoctorArgs, ExportFormat, InitArgs, LedgerCommand, LogArgs, NoteArgs, PeopleCommand,
};
use crate::output::{self, Printer, Table};

/// Runs one command; returns the exit code for a run that did not fail outright.
pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Init(args) => init(args),
        Command::People(cmd) => people(cmd),
        Command::Note(args) => note(args),
        Command::Log(args) => log(args),
        Command::Ledger(cmd) => ledger(cmd),
        Command::Send(args) => crate::send::send(args),
        Command::Open(args) => crate::send::open(args),
        Command::Contacts(cmd) => crate::send::contacts(cmd),
        Command::Request(cmd) => crate::send::request(cmd),
        Command::Approve(args) => crate::registers::approve(args),
        Command::Reject(args) => crate::registers::reject(args),
        Command::Requests(args) => crate::registers::requests(args),
        Command::Media(cmd) => crate::registers::media(cmd),
        Command::Carryout(cmd) => crate::registers::carryout(cmd),
        Command::Handover(cmd) => crate::registers::handover(cmd),
        Command::Download(cmd) => crate::registers::download(cmd),
        Command::Report(args) => crate::registers::report(args),
        Command::Retain(cmd) => crate::retain::retain(cmd),
        Command::Cert(cmd) => crate::cert::cert(cmd),
        Command::Keys(cmd) => crate::cert::keys(cmd),
        Command::Doctor(args) => doctor(args),
        Command::Demo => crate::demo::run(),
        Command::Completions { shell } => {
            let mut cmd = <crate::args::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "custody", &mut std::io::stdout().lock());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <crate::args::Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Devices(args) => crate::wipe::devices(args),
        Command::Wipe(args) => crate::wipe::wipe(args),
    }
}

/// Opens the data home for the person running this command.
pub fn open_station() -> Result<Station> {
    let home = default_home()?;
    Ok(Station::open(&home, &actor_name()?)?)
}

/// Prints a created record's id: the bare id, or `{"id": …}` with `--json`.
pub fn print_created(id: &custody_core::RecordId, what: &str, json: bool) -> Result<()> {
    if json {
        output::json(&json!({ "id": id }))
    } else {
        eprintln!("recorded {what} {id}");
        output::text(id.as_str())
    }
}

fn init(args: InitArgs) -> Result<ExitCode> {
    let home = default_home()?;
    let report = Station::init(
        &home,
        &actor_name()?,
        args.org.as_deref(),
        args.station.as_deref(),
    )?;
    if args.json {
        output::json(&report)?;
    } else {
        output::text(&format!(
            "created the custody data home at {}\n\
             organisation: {}\nstation:      {}\nmanager:      {} ({})\n\
             station key:  {} (public key {})\n\n\
             Keep a copy of the public key outside this machine: anyone can check\n\
             certificates and ledger heads with it (minisign -V -p station.pub).\n\
             Next: register your colleagues with `custody people add NAME --role clerk`.",
            report.home.display(),
            report.organisation,
            report.station,
            report.manager,
            report.id,
            report.key_id,
            report.public_key.display(),
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn people(cmd: PeopleCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        PeopleCommand::Add {
            name,
            role: r,
            json,
        } => {
            let role = Role::from(r);
            let id = station.add_person(&name, role)?;
            print_created(&id, &format!("{name} as {role}"), json)?;
        }
        PeopleCommand::List { json } => {
            Printer::new(json).print(&station.people()?, |people| {
                let mut table = Table::new(&["ID", "NAME", "ROLE", "SINCE"]);
                for p in people {
                    table.row([
                        p.id.to_string(),
                        p.name.clone(),
                        p.role.to_string(),
                        p.since.to_string(),
                    ]);
                }
                table.render()
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn doctor(args: DoctorArgs) -> Result<ExitCode> {
    let station = open_station()?;
    let report = station.doctor(&args.dirs, args.dry_run)?;
    if args.json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if report.cleaned {
        "removed"
    } else {
        "would remove"
    };
    let mut text = String::new();
    for path in &report.leftovers {
        text.push_str(&format!(
            "{verb} the leftover of an interrupted send or open: {}\n",
            path.display()
        ));
    }
    for path in &report.stale_sockets {
        text.push_str(&format!(
            "{verb} a stale agent socket: {}\n",
            path.display()
        ));
    }
    for dir in &report.running {
        text.push_str(&format!(
            "left alone: a send or open is still running in {}\n",
            dir.display()
        ));
    }
    for (seq, detail) in &report.unfinished_wipes {
        text.push_str(&format!(
            "unfinished wipe (ledger entry {seq}): {detail}; wipe those targets again\n"
        ));
    }
    if text.is_empty() {
        text.push_str("nothing was left behind\n");
    }
    output::text(text.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

fn note(args: NoteArgs) -> Result<ExitCode> {
    let mut station = open_station()?;
    match (args.text, args.file) {
        (Some(text), _) => {
            let id = station.note(&text)?;
            print_created(&id, "note", args.json)?;
        }
        (None, Some(file)) => {
            let text = fs_err::read_to_string(&file)?;
            let lines: Vec<String> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect();
            let ids = station.notes(&lines)?;
            if args.json {
                output::json(&json!({ "ids": ids, "count": ids.len() }))?;
            } else {
                eprintln!("recorded {} notes", ids.len());
                if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
                    output::text(&format!("{first}..{last}"))?;
                }
            }
        }
        (None, None) => unreachable!("clap requires TEXT or --file"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A one-line summary of a payload for the log table.
fn summary(payload: Option<&Value>) -> String {
    let Some(Value::Object(map)) = payload else {
        return "(payload erased)".into();
    };
    let mut parts = Vec::new();
    for (key, value) in map {
        if key == "id" {
            continue;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!("{key}={text}"));
    }
    let line = parts.join("  ");
    if line.chars().count() > 100 {
        line.chars().take(99).collect::<String>() + "…"
    } else {
        line
    }
}

fn log(args: LogArgs) -> Result<ExitCode> {
    let station = open_station()?;
    let since = args
        .since
        .as_deref()
        .map(|s| clock::parse_date_or_time(s).map(clock::stamp))
        .transpose()?;
    let entries = station.log(&LogFilter {
        kind: args.kind,
        since,
        actor: args.actor,
        subject: None,
    })?;
    Printer::new(args.json).print(&entries, |entries| {
        let mut table = Table::new(&["SEQ", "TIME", "ACTOR", "KIND", "RECORD", "DETAILS"]);
        for e in entries {
            table.row([
                e.seq.to_string(),
                e.at.to_string(),
                e.actor.clone(),
                e.kind.clone(),
                e.subject.clone(),
                summary(e.payload.as_ref()),
            ]);
        }
        table.render()
    })?;
    Ok(ExitCode::SUCCESS)
}

fn ledger(cmd: LedgerCommand) -> Result<ExitCode> {
    let mut station = open_station()?;
    match cmd {
        LedgerCommand::ErasePayloads { disposed: _ } => {
            let erased = station.erase_disposed_payloads()?;
            output::text(&format!(
                "erased {erased} payloads of disposed items; their commitments keep the ledger verifiable"
            ))?;
        }
        LedgerCommand::Head { json } => {
            let head = station.head()?;
            if json {
                output::json(&json!({
                    "station": head.station,
                    "size": head.size,
                    "head": head.head,
                    "at": head.at,
                    "signature": head.signature,
                    "key_id": station.public_key().key_id(),
                }))?;
            } else {
                output::text(&head.to_text())?;
            }
        }
        LedgerCommand::Verify { against, key, json } => {
            match station.verify(against.as_deref(), key.as_deref()) {
                Ok(report) => {
                    if json {
                        let mut value = serde_json::to_value(&report)?;
                        value["ok"] = Value::Bool(true);
                        output::json(&value)?;
                    } else {
                        let mut line = format!(
                            "OK: {} entries, {} payloads checked, {} payloads erased, {} signed checkpoints; head {} (key {})\n\
                         {} table rows rebuilt from the entries, every one as recorded",
                            report.entries,
                            report.payloads_checked,
                            report.payloads_erased,
                            report.checkpoints,
                            report.head,
                            report.key_id,
                            report.projection_rows
                        );
                        if let Some(size) = report.witnessed {
                            line.push_str(&format!(
                            "\nthe ledger extends the head of {size} entries this station verified last"
                        ));
                        }
                        if let Some(size) = report.extends {
                            line.push_str(&format!(
                                "\nthe ledger extends the external head of {size} entries"
                            ));
                        }
                        output::text(&line)?;
                    }
                }
                Err(custody_core::Error::ProjectionsDiffer { rows }) => {
                    if json {
                        output::json(&json!({ "ok": false, "projections": rows }))?;
                    }
                    eprintln!(
                        "TAMPERED: the chain verifies, but {} table rows are not what its entries make:",
                        rows.len()
                    );
                    for row in &rows {
                        eprintln!("  {row}");
                    }
                    eprintln!(
                        "hint: someone edited the tables behind custody's back; keep this ledger file as evidence and tell your auditor."
                    );
                    return Ok(ExitCode::from(crate::EXIT_FAILED));
                }
                Err(custody_core::Error::Tampered { seq, problem }) => {
                    if json {
                        output::json(&json!({ "ok": false, "seq": seq, "problem": problem }))?;
                    }
                    eprintln!("TAMPERED: ledger verification failed at entry {seq}: {problem}");
                    eprintln!(
                        "hint: keep this ledger file as evidence and tell your auditor; do not record anything more."
                    );
                    return Ok(ExitCode::from(crate::EXIT_FAILED));
                }
                Err(e) => return Err(e.into()),
            }
        }
        LedgerCommand::Export {
            format: ExportFormat::Jsonl,
            output,
        } => match output {
            Some(path) => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                let mut tmp = tempfile::NamedTempFile::new_in(dir)
                    .with_context(|| format!("cannot write into {}", dir.display()))?;
                let count = {
                    let mut out = std::io::BufWriter::new(tmp.as_file_mut());
                    let count = station.ledger().export_jsonl(&mut out)?;
                    std::io::Write::flush(&mut out)?;
                    count
                };
                tmp.as_file().sync_all()?;
                tmp.persist_noclobber(&path)
                    .map_err(|e| e.error)
                    .with_context(|| {
                        format!("cannot create {} (it may exist already)", path.display())
                    })?;
                eprintln!("exported {count} entries to {}", path.display());
            }
            None => {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                station.ledger().export_jsonl(&mut out)?;
                std::io::Write::flush(&mut out)?;
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
