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
use crate::i18n::t;
use crate::output::{self, Printer, Table};

/// Runs one command; returns the exit code for a run that did not fail outright.
pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Init(args) => init(args),
        Command::People(cmd) => people(cmd),
        Command::Unlock => unlock(),
        Command::Lock => lock(),
        Command::AgentServe => crate::agent::serve(),
        Command::Note(args) => note(args),
        Command::Log(args) => log(args),
        Command::Ledger(cmd) => ledger(cmd),
        Command::Station(cmd) => station(cmd),
        Command::Send(args) => crate::send::send(args),
        Command::Open(args) => crate::send::open(args),
        Command::Contacts(cmd) => crate::send::contacts(cmd),
        Command::Policy(cmd) => crate::send::policy(cmd),
        Command::Request(cmd) => crate::send::request(cmd),
        Command::Approve(args) => crate::registers::approve(args),
        Command::Reject(args) => crate::registers::reject(args),
        Command::Requests(args) => crate::registers::requests(args),
        Command::Media(cmd) => crate::registers::media(cmd),
        Command::Carryout(cmd) => crate::registers::carryout(cmd),
        Command::Handover(cmd) => crate::registers::handover(cmd),
        Command::Operation(cmd) => crate::operation::operation(cmd),
        Command::Disposal(cmd) => crate::batch::disposal(cmd),
        Command::Incident(cmd) => crate::incident::incident(cmd),
        Command::Files(cmd) => crate::files::files(cmd),
        Command::Transfer(cmd) => crate::send::transfer(cmd),
        Command::Download(cmd) => crate::registers::download(cmd),
        Command::Report(args) => crate::registers::report(args),
        Command::Retain(cmd) => crate::retain::retain(cmd),
        Command::Cert(cmd) => crate::cert::cert(cmd),
        Command::Keys(cmd) => crate::cert::keys(cmd),
        Command::Doctor(args) => doctor(args),
        Command::Demo(args) => crate::demo::run(&args),
        Command::Serve(args) => crate::desk::run(&args),
        Command::Completions { shell } => {
            // Made whole first: clap_complete panics on a write error, and a closed
            // pipe (`| head`) is no error of ours.
            let mut cmd = <crate::args::Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "custody", &mut script);
            output::bytes(&script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir: Some(dir) } => {
            let cmd = <crate::args::Cli as clap::CommandFactory>::command();
            fs_err::create_dir_all(&dir)?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| t!("cannot-write-into", path = dir.display()))?;
            eprintln!("{}", t!("man-written", dir = dir.display()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir: None } => {
            let cmd = <crate::args::Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            output::bytes(&page)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Devices(args) => crate::wipe::devices(args),
        Command::Wipe(args) => crate::wipe::wipe(args),
    }
}

/// Opens the data home for the person running this command; their key is unlocked
/// when a write first needs it.
pub fn open_station() -> Result<Station> {
    let home = default_home()?;
    let mut station = Station::open(&home, &actor_name()?)?;
    crate::i18n::configure(station.config().language);
    crate::agent::set_window(station.config().keys.unlock_minutes);
    station.set_unlocker(crate::unlock::unlocker());
    Ok(station)
}

/// Prints a created record's id: the bare id, or `{"id": …}` with `--json`.
pub fn print_created(id: &custody_core::RecordId, what: &str, json: bool) -> Result<()> {
    if json {
        output::json(&json!({ "id": id }))
    } else {
        eprintln!("{}", t!("recorded", what = what, id = id));
        output::text(id.as_str())
    }
}

fn station(cmd: crate::args::StationCommand) -> Result<ExitCode> {
    use crate::args::StationCommand;
    match cmd {
        StationCommand::Join {
            url,
            station,
            password_file,
            json,
        } => {
            let home = default_home()?;
            if home.join("config.toml").exists() {
                return Err(custody_core::Error::HomeExists(home).into());
            }
            let settings = custody_core::config::DatabaseSettings {
                url: Some(url),
                password_file: password_file
                    .as_ref()
                    .map(std::path::absolute)
                    .transpose()?,
                connect_timeout_seconds: None,
            };
            let report = Station::join(
                &home,
                &settings,
                &station,
                &actor_name()?,
                crate::unlock::unlocker(),
            )?;
            if json {
                output::json(&report)?;
            } else {
                output::text(&t!(
                    "station-joined",
                    station = report.station.as_str(),
                    database = report.database.as_str(),
                    checked = report.checked,
                    seq = report.seq,
                    key_id = report.key_id.as_str(),
                    manager = report.manager.as_str(),
                    count = report.stations.len(),
                    home = report.home.display()
                ))?;
            }
        }
        StationCommand::List { json } => {
            let station = open_station()?;
            let stations: Vec<_> = station
                .ledger()
                .stations(station.public_key())?
                .into_iter()
                .map(|(info, _)| info)
                .collect();
            if json {
                output::json(&stations)?;
            } else {
                let lines: Vec<String> = stations
                    .iter()
                    .map(|s| {
                        t!(
                            "station-line",
                            name = s.name.as_str(),
                            key_id = s.key_id.as_str(),
                            since = s.since
                        )
                    })
                    .collect();
                output::text(&lines.join("\n"))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn init(args: InitArgs) -> Result<ExitCode> {
    let home = default_home()?;
    let manager = actor_name()?;
    if home.join("config.toml").exists() {
        return Err(custody_core::Error::HomeExists(home).into());
    }
    let hints: Vec<&str> = [args.org.as_deref(), args.station.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let shared = match &args.database {
        None => None,
        Some(url) => {
            let settings = custody_core::config::DatabaseSettings {
                url: Some(url.clone()),
                password_file: args
                    .password_file
                    .as_ref()
                    .map(std::path::absolute)
                    .transpose()?,
                connect_timeout_seconds: None,
            };
            if let Some(target) = settings.target() {
                target.check()?;
            }
            Some(custody_core::SharedLedger {
                settings,
                schema_owner: args.schema_owner.clone(),
            })
        }
    };
    let (new, key_path) = crate::unlock::new_key(&manager, &hints)?;
    let text = new.file_text;
    let report = Station::init_on(
        &home,
        &new.key,
        args.org.as_deref(),
        args.station.as_deref(),
        shared.as_ref(),
        || crate::unlock::write_key(&key_path, &text),
    )?;
    if args.json {
        output::json(&report)?;
    } else {
        output::text(&format!(
            "created the custody data home at {}\n\
             organisation: {}\nstation:      {}\nmanager:      {} ({})\n\
             station key:  {} (public key {})\n\
             your key:     {} (in {}; keep it, and your passphrase, to yourself)\n\n\
             Keep a copy of the public key outside this machine: anyone can check\n\
             certificates and ledger heads with it (minisign -V -p station.pub).\n\
             Next: register your colleagues with `custody people add NAME --role clerk`;\n\
             each then runs `custody people enroll`, and you confirm their key.",
            report.home.display(),
            report.organisation,
            report.station,
            report.manager,
            report.id,
            report.key_id,
            report.public_key.display(),
            report.manager_key_id,
            report.manager_key_file.display(),
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
            department,
            json,
        } => {
            let role = Role::from(r);
            let id = station.add_person(&name, role, department.as_deref())?;
            print_created(
                &id,
                &t!(
                    "what-person-as",
                    name = name,
                    role = crate::i18n::word("role", role.as_str())
                ),
                json,
            )?;
            if !json {
                eprintln!("{}", t!("person-added-next", name = name));
            }
        }
        PeopleCommand::Enroll { json } => enroll(&mut station, false, json)?,
        PeopleCommand::Rekey { json } => enroll(&mut station, true, json)?,
        PeopleCommand::Confirm {
            name,
            key_id,
            passkey,
            json,
        } => {
            let id = if passkey {
                station.confirm_passkey(&name, &key_id)?
            } else {
                station.confirm_key(&name, &key_id)?
            };
            let key_id = key_id.to_ascii_uppercase();
            let what = if passkey {
                t!("what-passkey-of", name = name, key_id = key_id)
            } else {
                t!("what-key-of", name = name, key_id = key_id)
            };
            print_created(&id, &what, json)?;
        }
        PeopleCommand::Invite { name, desk, json } => {
            let invitation = station.invite_passkey(&name, &desk)?;
            let expires = invitation.expires.local_minute();
            if json {
                output::json(&json!({
                    "name": invitation.name,
                    "seq": invitation.seq,
                    "link": invitation.link().as_str(),
                    "expires": invitation.expires,
                }))?;
            } else {
                eprintln!(
                    "{}",
                    t!(
                        "people-invited",
                        name = invitation.name,
                        seq = invitation.seq,
                        expires = expires
                    )
                );
                output::text(invitation.link().as_str())?;
            }
        }
        PeopleCommand::Role {
            name,
            role: r,
            json,
        } => {
            let role = Role::from(r);
            let id = station.set_role(&name, role)?;
            print_created(
                &id,
                &t!(
                    "what-person-as",
                    name = name,
                    role = crate::i18n::word("role", role.as_str())
                ),
                json,
            )?;
        }
        PeopleCommand::Remove { name, reason, json } => {
            let id = station.remove_person(&name, &reason)?;
            print_created(&id, &t!("what-removal", name = name), json)?;
        }
        PeopleCommand::List { json } => {
            Printer::new(json).print(&station.register()?, |people| {
                let mut table = Table::new(&[
                    "ID",
                    "NAME",
                    "ROLE",
                    "DEPARTMENT",
                    "STATUS",
                    "KEY ID",
                    "SINCE",
                ]);
                for p in people {
                    table.row([
                        p.id.to_string(),
                        p.name.clone(),
                        crate::i18n::word("role", p.role.as_str()),
                        p.department.clone().unwrap_or_else(|| "-".into()),
                        crate::i18n::word("person-status", p.status()),
                        p.keys
                            .key_id
                            .clone()
                            .or_else(|| p.keys.pending.clone())
                            .unwrap_or_else(|| "-".into()),
                        p.since.to_string(),
                    ]);
                }
                table.render()
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `people enroll` and `people rekey`: a new key for the person at the keyboard,
/// written where they keep it, recorded, and shown for a manager to confirm.
fn enroll(station: &mut Station, replace: bool, json: bool) -> Result<()> {
    let name = station.actor().name.clone();
    let organisation = station.config().organisation.clone();
    let (new, path) = crate::unlock::new_key(&name, &[organisation.as_str()])?;
    crate::unlock::write_key(&path, &new.file_text)?;
    let recorded = station.enroll(&new.key, replace);
    let id = match recorded {
        Ok(id) => id,
        Err(e) => {
            // Nothing was recorded: the key file goes too.
            let _ = std::fs::remove_file(&path);
            return Err(e.into());
        }
    };
    let key_id = custody_core::people::key::Signer::public(&new.key).key_id();
    if json {
        return output::json(&json!({
            "id": id, "name": name, "key_id": key_id, "key_file": path,
        }));
    }
    output::text(&t!(
        "key-enrolled",
        name = name,
        key_id = key_id,
        path = path.display(),
        id = id
    ))
}

/// `custody unlock`: the key unlocked now, kept by the agent for the window.
fn unlock() -> Result<ExitCode> {
    let mut station = open_station()?;
    let name = station.actor().name.clone();
    if crate::agent::borrow(&name).is_some() {
        output::text(&t!("key-already-unlocked", name = name))?;
        return Ok(ExitCode::SUCCESS);
    }
    let path = crate::unlock::key_path(&name)?;
    let passphrase = crate::unlock::passphrase_for(&name, &path)?;
    let key = custody_core::people::key::PersonalKey::load(&path, &name, &passphrase)?;
    station.unlock(Box::new(key))?;
    if !crate::agent::keep(&path, &name, &passphrase) {
        return Ok(ExitCode::from(crate::EXIT_FAILED));
    }
    output::text(&t!(
        "key-unlocked",
        name = name,
        minutes = crate::agent::window()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `custody lock`.
fn lock() -> Result<ExitCode> {
    let count = custody_core::people::agent::lock_all();
    output::text(&match count {
        0 => t!("lock-none"),
        1 => t!("lock-one"),
        n => t!("lock-many", count = n),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn doctor(args: DoctorArgs) -> Result<ExitCode> {
    let station = open_station()?;
    let report = station.doctor(&args.dirs, args.dry_run)?;
    if args.json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (leftover, socket) = if report.cleaned {
        ("doctor-removed-leftover", "doctor-removed-socket")
    } else {
        ("doctor-would-remove-leftover", "doctor-would-remove-socket")
    };
    let mut lines = Vec::new();
    for path in &report.leftovers {
        lines.push(crate::i18n::text(
            leftover,
            &[("path", &path.display().to_string())],
        ));
    }
    for path in &report.stale_sockets {
        lines.push(crate::i18n::text(
            socket,
            &[("path", &path.display().to_string())],
        ));
    }
    for dir in &report.running {
        lines.push(t!("doctor-running", path = dir.display()));
    }
    for (seq, detail) in &report.unfinished_wipes {
        lines.push(t!("doctor-unfinished-wipe", seq = seq, detail = detail));
    }
    if lines.is_empty() {
        lines.push(t!("doctor-nothing"));
    }
    let text = lines.join("\n");
    output::text(text.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

fn note(args: NoteArgs) -> Result<ExitCode> {
    let mut station = open_station()?;
    match (args.text, args.file) {
        (Some(text), _) => {
            let id = station.note(&text)?;
            print_created(&id, &t!("what-note"), args.json)?;
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
                eprintln!("{}", t!("notes-recorded", count = ids.len()));
                if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
                    output::text(&format!("{first}..{last}"))?;
                }
            }
        }
        (None, None) => follow_notes(&mut station, args.json)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The most lines of a feed recorded in one transaction.
const FOLLOW_GROUP: usize = 100;

/// `custody note --follow`: each non-empty line of standard input recorded as a note
/// of its own. A line is recorded as soon as the ledger is free; the lines that
/// arrived meanwhile are recorded together in the next transaction (each its own
/// entry, signed), so that a busy feed keeps up with its source (group commit). Every
/// id is printed (a JSON line with `json`) once its transaction is durable. A refused
/// line stops the feed and says how many were recorded before it.
fn follow_notes(station: &mut Station, json: bool) -> Result<()> {
    use std::io::BufRead;
    let (lines, arrived) = std::sync::mpsc::channel::<(usize, std::io::Result<String>)>();
    std::thread::spawn(move || {
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let failed = line.is_err();
            if lines.send((n + 1, line)).is_err() || failed {
                break;
            }
        }
    });
    let mut count = 0usize;
    let stopped = |line: usize, count: usize, e: anyhow::Error| {
        eprintln!("{}", t!("notes-follow-stopped", line = line, count = count));
        Err(e)
    };
    while let Ok(first) = arrived.recv() {
        // The lines waiting now, up to the first one refused (recorded after them).
        let mut group: Vec<(usize, String)> = Vec::new();
        let mut refused: Option<(usize, anyhow::Error)> = None;
        let mut next = Some(first);
        while let Some((n, line)) = next.take() {
            match line {
                Err(e) => refused = Some((n, e.into())),
                Ok(text) if text.trim().is_empty() => {}
                Ok(text) => match Station::check_note(&text) {
                    Ok(()) => group.push((n, text)),
                    Err(e) => refused = Some((n, e.into())),
                },
            }
            if refused.is_none() && group.len() < FOLLOW_GROUP {
                next = arrived.try_recv().ok();
            }
        }
        if let Some((&(first_line, _), _)) = group.split_first() {
            let texts: Vec<String> = group.into_iter().map(|(_, text)| text).collect();
            match station.notes(&texts) {
                Ok(ids) => {
                    for id in &ids {
                        if json {
                            output::text(&json!({ "id": id }).to_string())?;
                        } else {
                            output::text(id.as_str())?;
                        }
                    }
                    count += ids.len();
                }
                Err(e) => return stopped(first_line, count, e.into()),
            }
        }
        if let Some((line, e)) = refused {
            return stopped(line, count, e);
        }
    }
    eprintln!("{}", t!("notes-recorded", count = count));
    Ok(())
}

/// An entry's payload as named texts, times read locally; `None` once erased.
pub(crate) fn payload_fields(payload: Option<&Value>) -> Option<Vec<(String, String)>> {
    let Some(Value::Object(map)) = payload else {
        return None;
    };
    let mut fields = Vec::new();
    for (key, value) in map {
        // Nothing to read in an empty field.
        if key == "id" || value.is_null() {
            continue;
        }
        let text = match value {
            // A time in a payload reads as people read every time: local, to the
            // minute (a deadline as its day).
            Value::String(s) if s.len() == 27 && s.ends_with('Z') => {
                custody_core::Timestamp::parse(s).map_or_else(
                    |_| s.clone(),
                    |t| {
                        if key == "return_by" {
                            t.deadline()
                        } else {
                            t.local_minute()
                        }
                    },
                )
            }
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        fields.push((key.clone(), text));
    }
    Some(fields)
}

/// A one-line summary of a payload for the log table.
fn summary(payload: Option<&Value>) -> String {
    let Some(fields) = payload_fields(payload) else {
        return t!("payload-erased");
    };
    let parts: Vec<String> = fields
        .into_iter()
        .map(|(key, text)| format!("{key}={text}"))
        .collect();
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
        subject: args
            .subject
            .as_deref()
            .map(custody_core::RecordId::parse)
            .transpose()?
            .map(|id| id.to_string()),
    })?;
    Printer::new(args.json).print(&entries, |entries| {
        let mut table = Table::new(&["SEQ", "TIME", "ACTOR", "KIND", "RECORD", "DETAILS"]);
        for e in entries {
            table.row([
                e.seq.to_string(),
                e.at.to_string(),
                e.actor.clone(),
                crate::i18n::word("entry-kind", &e.kind),
                e.subject.clone(),
                summary(e.payload.as_ref()),
            ]);
        }
        table.render()
    })?;
    Ok(ExitCode::SUCCESS)
}

/// What `ledger verify` says of a ledger found tampered with.
/// What `ledger verify` found, in `lang`, one line per finding.
pub(crate) fn verify_lines(
    lang: custody_core::Lang,
    report: &custody_core::ledger::VerifyReport,
) -> Vec<String> {
    let say = |id: &str, args: &[(&str, String)]| {
        let args: Vec<(&str, &str)> = args.iter().map(|(n, v)| (*n, v.as_str())).collect();
        crate::i18n::text_in(lang, id, &args)
    };
    let mut lines = vec![
        say(
            "verify-ok",
            &[
                ("entries", report.entries.to_string()),
                ("checked", report.payloads_checked.to_string()),
                ("erased", report.payloads_erased.to_string()),
                ("checkpoints", report.checkpoints.to_string()),
                ("head", report.head.clone()),
                ("key_id", report.key_id.clone()),
            ],
        ),
        if report.replica {
            say("verify-replica", &[])
        } else {
            say(
                "verify-rows",
                &[("rows", report.projection_rows.to_string())],
            )
        },
        say("verify-signed", &[("count", report.signed.to_string())]),
    ];
    if report.passkey_signed > 0 {
        lines.push(say(
            "verify-passkey-signed",
            &[("count", report.passkey_signed.to_string())],
        ));
    }
    if let Some(seen) = report.behind_witness {
        lines.push(say(
            "verify-behind",
            &[
                ("seen", seen.to_string()),
                ("size", report.entries.to_string()),
            ],
        ));
    }
    if let Some(last) = report.before_personal_keys {
        lines.push(say("verify-before-keys", &[("last", last.to_string())]));
    }
    if let Some(size) = report.witnessed {
        lines.push(say("verify-witnessed", &[("size", size.to_string())]));
    }
    if let Some(seq) = report.restore_acknowledged {
        lines.push(say(
            "verify-restore-acknowledged",
            &[("seq", seq.to_string())],
        ));
    }
    if report.stations.len() > 1 {
        let names: Vec<String> = report
            .stations
            .iter()
            .map(|s| format!("{} ({})", s.name, s.key_id))
            .collect();
        lines.push(say(
            "verify-stations",
            &[
                ("count", report.stations.len().to_string()),
                ("stations", names.join(", ")),
            ],
        ));
    }
    if let Some(size) = report.extends {
        lines.push(say("verify-extends", &[("size", size.to_string())]));
    }
    lines
}

fn tampered_verdict(seq: i64, problem: &str, json: bool) -> Result<ExitCode> {
    if json {
        output::json(&json!({ "ok": false, "seq": seq, "problem": problem }))?;
    }
    eprintln!(
        "{}",
        t!(
            "verify-tampered",
            seq = seq,
            problem = crate::i18n::reword("breach-", problem)
        )
    );
    eprintln!("{}: {}", t!("hint-prefix"), t!("hint-tampered"));
    Ok(ExitCode::from(crate::EXIT_FAILED))
}

fn ledger(cmd: LedgerCommand) -> Result<ExitCode> {
    let mut station = match open_station() {
        Ok(station) => station,
        Err(e) => {
            // Opening proves the actor's role from the entries; what it finds wrong
            // there is verify's verdict too.
            if let LedgerCommand::Verify { json, .. } = &cmd
                && let Some(custody_core::Error::Tampered { seq, problem }) =
                    e.downcast_ref::<custody_core::Error>()
            {
                return tampered_verdict(*seq, problem, *json);
            }
            return Err(e);
        }
    };
    match cmd {
        LedgerCommand::Migrate {
            to,
            schema_owner,
            password_file,
            json,
        } => {
            let settings = custody_core::config::DatabaseSettings {
                url: Some(to),
                password_file: password_file
                    .as_ref()
                    .map(std::path::absolute)
                    .transpose()?,
                connect_timeout_seconds: station.config().database.connect_timeout_seconds,
            };
            if let Some(target) = settings.target() {
                target.check()?;
            }
            let report = station.migrate_to(&custody_core::SharedLedger {
                settings,
                schema_owner,
            })?;
            if json {
                output::json(&report)?;
            } else {
                output::text(&t!(
                    "ledger-migrated",
                    database = report.database.as_str(),
                    entries = report.entries,
                    rows = report.rows,
                    head = report.head.as_str(),
                    projection = report.projection_rows,
                    archive = report.archive.display()
                ))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        LedgerCommand::AcceptRestore { reason, json } => {
            let report = station.accept_restore(&reason)?;
            if json {
                output::json(&report)?;
            } else {
                output::text(&t!(
                    "ledger-restore-accepted",
                    seq = report.seq,
                    seen = report.seen_size,
                    seen_head = report.seen_head.as_str(),
                    restored = report.restored_size,
                    restored_head = report.restored_head.as_str()
                ))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        LedgerCommand::ErasePayloads { disposed: _ } => {
            let erased = station.erase_disposed_payloads()?;
            output::text(&t!("payloads-erased", count = erased))?;
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
        LedgerCommand::Verify {
            against,
            station_key,
            database,
            json,
        } => match match &database {
            Some(url) => station.verify_copy(url, against.as_deref(), station_key.as_deref()),
            None => station.verify(against.as_deref(), station_key.as_deref()),
        } {
            Ok(report) => {
                if json {
                    let mut value = serde_json::to_value(&report)?;
                    value["ok"] = Value::Bool(true);
                    output::json(&value)?;
                } else {
                    let lines = verify_lines(crate::i18n::lang(), &report);
                    output::text(&lines.join("\n"))?;
                }
            }
            Err(custody_core::Error::ProjectionsDiffer { rows }) => {
                if json {
                    output::json(&json!({ "ok": false, "projections": rows }))?;
                }
                eprintln!("{}", t!("verify-tables-differ", count = rows.len()));
                for row in &rows {
                    eprintln!("  {row}");
                }
                eprintln!("{}: {}", t!("hint-prefix"), t!("hint-tables-edited"));
                return Ok(ExitCode::from(crate::EXIT_FAILED));
            }
            Err(custody_core::Error::Tampered { seq, problem }) => {
                return tampered_verdict(seq, &problem, json);
            }
            Err(e) => return Err(e.into()),
        },
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
                    .with_context(|| t!("cannot-write-into", path = dir.display()))?;
                let count = {
                    let mut out = std::io::BufWriter::new(tmp.as_file_mut());
                    let count = station.ledger().export_jsonl(&mut out)?;
                    std::io::Write::flush(&mut out)?;
                    count
                };
                tmp.as_file().sync_all()?;
                tmp.persist_noclobber(&path)
                    .map_err(|e| e.error)
                    .with_context(|| t!("cannot-create", path = path.display()))?;
                eprintln!("{}", t!("exported", count = count, path = path.display()));
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
