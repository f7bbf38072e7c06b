//! The command line, as clap definitions; their doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// custody: encrypt, record, wipe and retain personal data, with a tamper-evident
/// ledger that managers and auditors can verify.
///
/// The data home is $CUSTODY_HOME, else ~/.local/share/custody. The person acting is
/// $CUSTODY_ACTOR, else your login name; that only says whose key to use: every
/// record is signed with the person's own key (`custody people enroll`), unlocked by
/// their passphrase.
#[derive(Debug, Parser)]
#[command(
    name = "custody",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Your personal key, for scripts.
    #[command(flatten)]
    pub keys: crate::unlock::KeyArgs,
    /// The language custody speaks (default: from LANG; ja_JP… is Japanese), and of
    /// the PDF or register it writes (default for those: Japanese, as the forms are).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data home: ledger, station signing key, config. You become its
    /// first manager.
    Init(InitArgs),
    /// The people register: add people, enroll and confirm their keys, roles,
    /// removal, list.
    #[command(subcommand)]
    People(PeopleCommand),
    /// Unlock your personal key for a while (15 minutes unless the station's config
    /// says otherwise), so that commands do not ask for the passphrase each time.
    Unlock,
    /// Lock every key unlocked in this session, now.
    Lock,
    /// The unlock agent itself (started by custody; not for typing).
    #[command(hide = true)]
    AgentServe,
    /// Record an operation note (運用状況記録) in the ledger.
    Note(NoteArgs),
    /// List ledger entries.
    Log(LogArgs),
    /// Check, print the head of, or export the ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// The stations that write to the office's ledger: join this machine as one, list
    /// them.
    #[command(subcommand)]
    Station(StationCommand),
    /// Encrypt files for sending: to the recipient's key, or to a passphrase that
    /// travels by another channel. Recorded as a transfer (TX-…).
    Send(crate::send::SendArgs),
    /// Decrypt a received .age file safely into a folder. Recorded (RX-…).
    Open(crate::send::OpenArgs),
    /// The transfers sent (送付簿) and the recipients' confirmations of receipt.
    #[command(subcommand)]
    Transfer(crate::send::TransferCommand),
    /// The address book of recipients' public keys.
    #[command(subcommand)]
    Contacts(crate::send::ContactsCommand),
    /// The office's policy on sending personal data, kept in the ledger.
    #[command(subcommand)]
    Policy(crate::send::PolicyCommand),
    /// File a request for permission (sending, when policy requires it).
    #[command(subcommand)]
    Request(crate::send::RequestCommand),
    /// Approve a request, carry-out or download (a manager other than the requester).
    Approve(crate::registers::ApproveArgs),
    /// Reject a request, carry-out or download, with a reason.
    Reject(crate::registers::RejectArgs),
    /// List requests and their decisions.
    Requests(crate::registers::RequestsArgs),
    /// The register of approved removable media.
    #[command(subcommand)]
    Media(crate::registers::MediaCommand),
    /// Carry-outs of data or media: request, approval, out, return.
    #[command(subcommand)]
    Carryout(crate::registers::CarryoutCommand),
    /// The media handover register (情報記録媒体授受簿).
    #[command(subcommand)]
    Handover(crate::registers::HandoverCommand),
    /// Operation records of My Number data (運用状況記録票): inputs, paper disposals,
    /// deletions, each checked by another person.
    #[command(subcommand)]
    Operation(crate::operation::OperationCommand),
    /// Disposal through a contractor: batches of media and the certificates due back.
    #[command(subcommand)]
    Disposal(crate::batch::DisposalCommand),
    /// Incidents (情報漏えい等事案): report a leak, a loss or a breach at once; the
    /// manager records its handling.
    #[command(subcommand)]
    Incident(crate::incident::IncidentCommand),
    /// The register of files of personal data (特定個人情報ファイル管理簿), kept by
    /// the manager.
    #[command(subcommand)]
    Files(crate::files::FilesCommand),
    /// The download register (個人データダウンロード等管理簿).
    #[command(subcommand)]
    Download(crate::registers::DownloadCommand),
    /// List block devices and whether each may be wiped (and why not).
    Devices(crate::wipe::DevicesArgs),
    /// Overwrite disks, USB media or disk images, several at once, and record each
    /// result in the ledger (IT staff and managers).
    Wipe(crate::wipe::WipeArgs),
    /// Registers as CSV or JSON for audits, or `report audit`: what needs attention.
    Report(crate::registers::ReportArgs),
    /// Retention: register items with a class, holds, and approved disposal.
    #[command(subcommand)]
    Retain(crate::retain::RetainCommand),
    /// Signed certificates (erasure, disposal, vendors'): list, show, export, verify, sign off.
    #[command(subcommand)]
    Cert(crate::cert::CertCommand),
    /// The station's signing key and the keys it trusts.
    #[command(subcommand)]
    Keys(crate::cert::KeysCommand),
    /// Find and remove what interrupted commands left behind: temporary output of a
    /// killed send or open, stale agent sockets; list wipes that never finished.
    Doctor(DoctorArgs),
    /// Serve the desk: pages in a browser over this data home. Anyone can verify a
    /// certificate there.
    Serve(crate::desk::ServeArgs),
    /// Walk through what custody does, in a throwaway data home.
    Demo(crate::demo::DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `custody man | man -l -`; with --dir, write
    /// one page for custody and one for every subcommand (custody-wipe.1, …) there.
    Man {
        /// Write every page into this folder instead of printing the top page.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

/// `custody init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Your organisation's name, printed on records and certificates.
    #[arg(long)]
    pub org: Option<String>,
    /// This station's name (default: the host name).
    #[arg(long)]
    pub station: Option<String>,
    /// Keep the ledger in the office's PostgreSQL database at this address
    /// (postgres://ROLE@HOST/DB, no password), shared by every station; it must be
    /// empty.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Lay the database's schema as this address's role, which owns it; stations
    /// then connect with --database as a role that may only add entries.
    #[arg(long, value_name = "URL", requires = "database")]
    pub schema_owner: Option<String>,
    /// The password file for the database (PostgreSQL's format; default PGPASSFILE,
    /// else ~/.pgpass).
    #[arg(long, value_name = "FILE", requires = "database")]
    pub password_file: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `custody doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// More folders to search for leftovers of interrupted sends and opens (the
    /// folders of runs this data home knows of are always searched).
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `custody people …`.
#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Register a person with a role (managers only). They then enroll their key.
    Add {
        /// Their name (login name, or what they set as CUSTODY_ACTOR).
        name: String,
        /// What they do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Their department (所属), for the ID register.
        #[arg(long)]
        department: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make your personal key (run by you): the secret half is written to your own
    /// config folder (or --key FILE, e.g. on a USB stick you keep), protected by your
    /// passphrase. A manager then confirms it.
    Enroll {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Confirm a person's enrolled key (a manager other than them), after comparing
    /// the key id they read out to you with the one they enrolled. With --passkey,
    /// confirm the passkey they enrolled at the desk, whose id the desk showed them.
    Confirm {
        /// Whose key.
        name: String,
        /// The key id the person reads out (16 hex digits).
        #[arg(long)]
        key_id: String,
        /// The key id is of a passkey enrolled at the desk.
        #[arg(long)]
        passkey: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Invite a person to enroll a passkey at the desk (managers): a link that works
    /// once, for 24 hours. Give it to them yourself, not by a channel others read.
    Invite {
        /// Who.
        name: String,
        /// The desk's address, as people open it: https://HOST or https://HOST:PORT,
        /// or http://localhost:PORT on the desk's own machine.
        #[arg(long, value_name = "URL", default_value = "http://localhost:8750")]
        desk: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replace your key (lost, or passphrase forgotten): a new key, which a manager
    /// confirms; the old one is revoked then.
    Rekey {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a person's role (managers).
    Role {
        /// Whose role.
        name: String,
        /// The new role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a person who moved or left (managers): their key is revoked from now
    /// on; their earlier records still verify.
    Remove {
        /// Who.
        name: String,
        /// Why (moved to another section, left the office).
        #[arg(long)]
        reason: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List registered people with status, role, department and key id.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Handles personal data: sends, records carry-outs.
    Clerk,
    /// Runs the station, wipes media.
    It,
    /// Approves, checks certificates, registers people.
    Manager,
    /// Reads everything, writes nothing.
    Auditor,
}

impl From<RoleArg> for custody_core::people::Role {
    fn from(arg: RoleArg) -> custody_core::people::Role {
        use custody_core::people::Role;
        match arg {
            RoleArg::Clerk => Role::Clerk,
            RoleArg::It => Role::It,
            RoleArg::Manager => Role::Manager,
            RoleArg::Auditor => Role::Auditor,
        }
    }
}

/// The language of a document (a certificate's PDF, a register's headers).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    /// Japanese: the office forms' own words, dates with the era name.
    Ja,
    /// English.
    En,
}

impl From<LangArg> for custody_core::Lang {
    fn from(arg: LangArg) -> custody_core::Lang {
        match arg {
            LangArg::Ja => custody_core::Lang::Ja,
            LangArg::En => custody_core::Lang::En,
        }
    }
}

/// A parser for a word of one of core's vocabularies: `--help` and clap's error list
/// the vocabulary's own words, so the command line never spells them a second time.
pub fn vocabulary<T>(
    words: &'static [&'static str],
    parse: fn(&str) -> custody_core::Result<T>,
) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: Clone + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(words).try_map(move |word: String| parse(&word))
}

/// `custody note`.
#[derive(Debug, Args)]
pub struct NoteArgs {
    /// What happened.
    #[arg(
        required_unless_present_any = ["file", "follow"],
        conflicts_with_all = ["file", "follow"]
    )]
    pub text: Option<String>,
    /// Record every non-empty line of this file as a note, all in one transaction
    /// (for transcribing a paper register).
    #[arg(long, value_name = "FILE", conflicts_with = "follow")]
    pub file: Option<PathBuf>,
    /// Record each line read from standard input as a note of its own as soon as it
    /// arrives, printing its id once it is recorded (for a feed from another system);
    /// lines that arrive while one is being recorded are recorded together next, each
    /// still its own note; a line refused stops the feed, and the lines before it stay
    /// recorded.
    #[arg(long)]
    pub follow: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `custody log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only entries of this kind (note, person-add, send, …).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only entries on or after this local date (2026-04-01) or time (2026-04-01 09:00).
    #[arg(long)]
    pub since: Option<String>,
    /// Only entries by this person.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only entries about this record (CO-12, PE-3, …).
    #[arg(long, value_name = "ID")]
    pub subject: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `custody ledger …`.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Print the latest signed checkpoint, to keep outside this machine (mail it to an
    /// auditor, print it into the paper register).
    Head {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recompute the whole chain, payload commitments and checkpoint signatures.
    Verify {
        /// An earlier head (the text `custody ledger head` printed): prove the ledger
        /// still extends it, so that a deleted tail or a restored old copy is caught.
        #[arg(long, value_name = "FILE")]
        against: Option<PathBuf>,
        /// The station's public key as kept outside this machine (station.pub): the
        /// checkpoints must carry its signature, and the ledger must have been created
        /// with it. Without it, the key in the data home is used.
        #[arg(long, value_name = "station.pub")]
        station_key: Option<PathBuf>,
        /// Verify the copy of the office ledger in this database instead (a streaming
        /// replica, for auditors), with this station's keys and the head it saw.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Erase the personal parts (paths, names) of the payloads of disposed items; the
    /// commitments keep the chain verifiable (managers).
    ErasePayloads {
        /// Erase the payloads of every entry about a disposed item.
        #[arg(long, required = true)]
        disposed: bool,
    },
    /// Move this desk's ledger into the office's PostgreSQL database (managers):
    /// every entry, signature and checkpoint copied as it is and verified there; the
    /// file stays, read-only, as the archive.
    Migrate {
        /// The database's address (postgres://ROLE@HOST/DB, no password); it must be
        /// empty.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Lay the database's schema as this address's role, which owns it; the
        /// station then connects with --to as a role that may only add entries.
        #[arg(long, value_name = "URL")]
        schema_owner: Option<String>,
        /// The password file for the database (PostgreSQL's format; default
        /// PGPASSFILE, else ~/.pgpass).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a restored backup of the office ledger (managers): the ledger no
    /// longer extends what this station saw, so every station refuses to write until
    /// a manager checks it in full and records, signed, what was lost and why.
    AcceptRestore {
        /// What happened: which backup was restored, and why.
        #[arg(long)]
        reason: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write every entry with its payload, for auditors.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// `custody station …`.
#[derive(Debug, Subcommand)]
pub enum StationCommand {
    /// Make this machine a station of the office's ledger in PostgreSQL (a manager,
    /// with their key): the whole ledger is checked first, then your signed entry
    /// registers the new station key. The data home keeps the config, the key and
    /// the last head this station saw, never a copy of the ledger.
    Join {
        /// The database's address (postgres://ROLE@HOST/DB, no password).
        #[arg(value_name = "URL")]
        url: String,
        /// This station's name, unique in the ledger.
        #[arg(long)]
        station: String,
        /// The password file for the database (PostgreSQL's format; default
        /// PGPASSFILE, else ~/.pgpass).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the stations registered in the ledger, with their keys.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Ledger export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
}
