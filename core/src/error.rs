//! The one error type of `custody-core`, and the words its variants carry.
//!
//! Every variant says what went wrong in terms of the record (the field, the record
//! id, the state it is in, the date it becomes allowed), never in terms of a front
//! end: no command-line flag and no `custody …` command appears in this text. The
//! command line adds its own advice for a variant (`custody::hint`); a web page words
//! the same variant its own way.

use std::path::PathBuf;

use crate::clock::Timestamp;
use crate::people::Role;
use crate::registers::requests::{RequestKind, RequestState};

/// Everything that can go wrong in a custody workflow.
///
/// [`Error::is_refusal`] tells a front end whether the failure is a refusal by policy
/// or bad input (the command line's exit code 2) or an operation that failed (exit
/// code 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed; fs-err already names the path.
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A file-system operation on a path failed.
    #[error("{}", path.display())]
    File {
        /// The path.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// The database keeping the ledger refused an operation.
    #[error("ledger database {path}")]
    Storage {
        /// The ledger file (or the database's address).
        path: PathBuf,
        /// What the database said.
        #[source]
        source: StorageError,
    },

    /// No data home exists where one was expected.
    #[error("no custody data home at {0}")]
    NoHome(PathBuf),

    /// Neither a configured place nor the user's home gives the data home a place.
    #[error("cannot find a place for the data home")]
    NoHomePlace,

    /// Creating a data home found something already there.
    #[error("{0} already holds a custody data home (or other files); refusing to overwrite it")]
    HomeExists(PathBuf),

    /// The ledger was written by a newer version.
    #[error(
        "ledger {path} has schema version {found}, newer than this version understands ({supported})"
    )]
    DatabaseTooNew {
        /// The ledger file.
        path: PathBuf,
        /// `user_version` found in the file.
        found: i64,
        /// The newest version this binary knows.
        supported: i64,
    },

    /// The configuration file is malformed or breaks a rule.
    #[error("config {path}: {problem}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        problem: ConfigProblem,
    },

    /// The station signing key could not be read or used.
    #[error("station key {path}: {problem}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },

    /// A person's own key could not be made, read or unlocked.
    #[error("personal key {}: {problem}", path.display())]
    PersonalKey {
        /// The key file (or, for a key not yet written, the person's name).
        path: PathBuf,
        /// What is wrong.
        problem: KeyProblem,
    },

    /// A new passphrase is too weak to protect a personal key.
    #[error("this passphrase is too weak: {why}")]
    WeakPassphrase {
        /// Why, with zxcvbn's advice when it has some.
        why: String,
    },

    /// Writing needs the actor's unlocked personal key, and there is none.
    #[error(
        "{actor} has no unlocked personal key, and every record is signed by the person who makes it"
    )]
    Locked {
        /// Who tried to write.
        actor: String,
        /// The key file custody looked for.
        looked: PathBuf,
        /// Whether a key file exists there (then it only needs unlocking).
        exists: bool,
    },

    /// An act signed with a passkey that cannot be recorded as it is.
    #[error("{why}")]
    PasskeyRefused {
        /// Why.
        why: PasskeyProblem,
    },

    /// A personal key that the people register does not let sign for the actor.
    #[error("the key {key_id} may not sign for {actor}: {why}")]
    KeyNotValid {
        /// Who tried to act.
        actor: String,
        /// The key's id.
        key_id: String,
        /// Why not.
        why: KeyStanding,
    },

    /// The actor is not allowed to do this.
    #[error("{actor} may not {action}: {reason}")]
    NotAllowed {
        /// Who tried.
        actor: String,
        /// What they tried, in words.
        action: String,
        /// Why not.
        reason: Box<Denial>,
    },

    /// The clock is earlier than the last ledger entry.
    #[error(
        "the clock says {now}, earlier than the last ledger entry ({last}); fix the system clock before recording anything"
    )]
    ClockBehind {
        /// The current time.
        now: String,
        /// The time of the latest entry.
        last: String,
    },

    /// A value given is not acceptable.
    #[error("{}", bad_value(*field, value, rule))]
    BadValue {
        /// What the value is for.
        field: Field,
        /// The value given.
        value: String,
        /// The rule it breaks.
        rule: Rule,
    },

    /// Two things were given of which only one may be.
    #[error("give the {} or the {}, not both", first.words(), second.words())]
    BothGiven {
        /// The first.
        first: Field,
        /// The second.
        second: Field,
    },

    /// A value is already registered.
    #[error("the {} {value} is already registered ({existing})", field.words())]
    Duplicate {
        /// What the value is.
        field: Field,
        /// The value.
        value: String,
        /// Where it is registered.
        existing: String,
    },

    /// A name that could be mistaken for a registered person's.
    #[error(
        "{name:?} {why} as {existing:?}, already registered as {role}; choose a name that cannot be mistaken for it"
    )]
    NameClash {
        /// The name given.
        name: String,
        /// How it clashes.
        why: &'static str,
        /// The registered name.
        existing: String,
        /// Their role.
        role: Role,
    },

    /// One line of a batch is not acceptable; nothing of the batch was recorded.
    #[error("line {line}: {error}; nothing was recorded")]
    InLine {
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        #[source]
        error: Box<Error>,
    },

    /// A record id (or a contact's name) that does not exist.
    #[error("there is no {} {id}", kind.words())]
    NoSuchRecord {
        /// What kind of record was looked for.
        kind: RecordKind,
        /// The id (or name) looked for.
        id: String,
    },

    /// The record already had this done to it.
    #[error("{id} {act}")]
    AlreadyDone {
        /// The record.
        id: String,
        /// What was done, when and by whom.
        act: Done,
    },

    /// The record still needs an earlier step.
    #[error("{id} {step}")]
    NotDone {
        /// The record.
        id: String,
        /// The step it has not had.
        step: Step,
    },

    /// A medium that cannot be carried out or handed over in its state.
    #[error("{id} is {status}, not in stock; it cannot be {action}")]
    Unavailable {
        /// The medium.
        id: String,
        /// Its status (or its retirement reason).
        status: String,
        /// What was tried ("carried out", "handed over").
        action: &'static str,
    },

    /// A record of one kind given where another was expected.
    #[error("{id} is a {kind} record, not a {expected} record")]
    WrongKind {
        /// The record.
        id: String,
        /// Its kind.
        kind: String,
        /// The kinds accepted here.
        expected: String,
    },

    /// A request of a kind that is filed as its own record, not as a plain request.
    #[error("a {} is requested as a record of its own, not as a plain request", kind.as_str())]
    FiledElsewhere {
        /// The kind.
        kind: RequestKind,
    },

    /// A retention class starts from a date other than the one given.
    #[error("{}", wrong_trigger(class, *event))]
    WrongTrigger {
        /// The class.
        class: String,
        /// True when the class runs from an event date (and none was given), false
        /// when it runs from the registration date (and an event date was given).
        event: bool,
    },

    /// A retention class amended while naming another class, or added without one.
    #[error("{}", class_base(name, *exists))]
    ClassBase {
        /// The class.
        name: String,
        /// Whether it exists already.
        exists: bool,
    },

    /// Sending without the recipient's key needs a channel for the passphrase.
    #[error(
        "there is no public key for {to}, so the file will be protected by a passphrase that must travel by another channel; say which (one of {})",
        crate::send::PasswordChannel::WORDS.join(", ")
    )]
    NeedsPasswordChannel {
        /// The recipient.
        to: String,
    },

    /// A passphrase is shown once, on a terminal; there is none.
    #[error("the passphrase is shown once on the terminal, and there is no terminal")]
    NeedsTerminal,

    /// A channel for a passphrase was given where a public key is used.
    #[error("{to}'s public key is used, so there is no passphrase to send")]
    NoPassphrase {
        /// The recipient.
        to: String,
    },

    /// The operating system does not say who the user is.
    #[error("cannot tell who you are (uid {uid} has no login name)")]
    UnknownActor {
        /// The user id.
        uid: u32,
    },

    /// A path given is not a file custody handles.
    #[error("{}", unsupported_file(path, problem))]
    UnsupportedFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        problem: FileProblem,
    },

    /// Nothing was named to act on.
    #[error("{}", match what { Nothing::ToRetain => "the folders hold no files to retain", Nothing::ToWipe => "name at least one target to wipe", Nothing::ToUpdate => "give at least one thing to record", Nothing::ToAcknowledge => "the ledger still extends the head this station saw: there is no restored copy to acknowledge" })]
    Nothing {
        /// What there is nothing of.
        what: Nothing,
    },

    /// A registered file is missing or changed since it was registered.
    #[error("{path} {}; nothing was disposed of", if *missing { "is missing or unreadable" } else { "changed since it was registered (its SHA-256 differs)" })]
    FileChanged {
        /// The file.
        path: String,
        /// True when it is gone or unreadable, false when its contents differ.
        missing: bool,
    },

    /// Another command changed the record between the checks and the act.
    #[error("{id} was put on hold or disposed of meanwhile; nothing was disposed of")]
    ChangedMeanwhile {
        /// The record.
        id: String,
    },

    /// Shredding a retained item's files stopped part-way.
    #[error("disposal of {id} failed at {path} after {shredded} of {total} files")]
    DisposalFailed {
        /// The item.
        id: String,
        /// The file that failed.
        path: String,
        /// Files shredded before it.
        shredded: usize,
        /// Files in the item.
        total: usize,
        /// What failed.
        #[source]
        source: custody_wipe::Error,
    },

    /// One serial number was given for several media.
    #[error(
        "one serial number names one medium; media whose serial cannot be read are wiped one at a time"
    )]
    SerialForSeveral,

    /// The device reports another serial number than the one given.
    #[error("{} reports serial {read}, not {given}; check that this is the right medium (the serial read from the device is what the certificate records)", path.display())]
    SerialMismatch {
        /// The device.
        path: PathBuf,
        /// What it reports.
        read: String,
        /// What was given.
        given: String,
    },

    /// A Host Protected Area or a DCO hides sectors of a disk from the overwrite.
    #[error("{} hides sectors from the overwrite ({state}: {visible} of {real} sectors visible); remove the hidden area first (hdparm -N p{real} for an HPA, hdparm --dco-restore for a DCO), or destroy the disk; nothing was written", path.display())]
    HiddenArea {
        /// The disk.
        path: PathBuf,
        /// `hpa`, `dco` or `hpa+dco`.
        state: &'static str,
        /// Sectors it reports.
        visible: u64,
        /// Sectors it has.
        real: u64,
    },

    /// A wipe cannot be resumed.
    #[error("wipe {reference} cannot be resumed: {why}")]
    CannotResume {
        /// The wipe as the user named it.
        reference: String,
        /// Why not.
        why: crate::erasure::ResumeProblem,
    },

    /// A target of a resumed wipe is not the device the wipe was writing; nothing was
    /// written.
    #[error("{} is not the device that wipe {reference} was writing: {why}; nothing was written", path.display())]
    ResumeDevice {
        /// The wipe as the user named it.
        reference: String,
        /// The target.
        path: PathBuf,
        /// What differs.
        why: crate::erasure::DeviceChange,
    },

    /// An output file exists already.
    #[error("{} exists already; choose another name", path.display())]
    OutputExists {
        /// The file.
        path: PathBuf,
    },

    /// A vendor's certificate is kept as the vendor's file, not rendered.
    #[error("{id} is the receipt of a vendor's certificate; the vendor's own file is kept in {}", folder.display())]
    VendorReceipt {
        /// The receipt.
        id: String,
        /// Where the vendor's file is kept.
        folder: PathBuf,
    },

    /// The station's own key given as a key to trust.
    #[error("that is this station's own key; it is always trusted")]
    OwnKey,

    /// A path that is (or holds) the data home given as something to wipe, shred or
    /// retain.
    #[error("{}", data_home(path, home, inside.as_deref()))]
    DataHome {
        /// The path given.
        path: PathBuf,
        /// The data home.
        home: PathBuf,
        /// The data home file it is another name of, if it is one.
        inside: Option<PathBuf>,
    },

    /// No font with Japanese glyphs for a PDF.
    #[error("{}", match named { Some(path) => format!("CUSTODY_FONT names {}, which does not exist", path.display()), None => "no Japanese font is installed for PDF certificates".to_owned() })]
    NoFont {
        /// The font named by `CUSTODY_FONT`, when it names one that does not exist.
        named: Option<PathBuf>,
    },

    /// A font file that cannot be used.
    #[error("{} is not a usable font", path.display())]
    BadFont {
        /// The file.
        path: PathBuf,
    },

    /// A certificate that cannot be rendered as a page.
    #[error("cannot render certificate {id} as a PDF: {problem}")]
    Render {
        /// The certificate.
        id: String,
        /// Why.
        problem: String,
    },

    /// A document in the ledger that cannot be read (a certificate's JSON).
    #[error("{what} is unreadable")]
    Unreadable {
        /// What.
        what: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },

    /// Text that should be a ledger head is not one.
    #[error("not a custody ledger head ({why})")]
    BadHead {
        /// What is wrong with it.
        why: String,
    },

    /// A value could not be turned into the ledger's canonical JSON.
    #[error("cannot encode {what} as canonical JSON: {problem}")]
    Encode {
        /// What.
        what: String,
        /// Why.
        problem: String,
    },

    /// Encrypting or opening a file failed or was refused.
    #[error(transparent)]
    Seal(#[from] crate::send::seal::Error),

    /// The wipe engine refused a method or a target, or could not read the system's
    /// description of its devices.
    #[error(transparent)]
    Wipe(#[from] custody_wipe::Error),

    /// Projection rows (the tables workflows read) differ from what the entries make:
    /// someone edited a table behind custody's back.
    #[error("{} projection rows are not backed by the ledger's entries: {}", rows.len(), rows.iter().map(ToString::to_string).collect::<Vec<_>>().join(" | "))]
    ProjectionsDiffer {
        /// Each differing row.
        rows: Vec<crate::ledger::RowMismatch>,
    },

    /// custody refuses to append to a chain it cannot vouch for (exit code 1).
    #[error("refusing to write to this ledger: at entry {seq}, {problem}; nothing was written")]
    WontWrite {
        /// The first entry found wrong.
        seq: i64,
        /// What was found.
        problem: String,
    },

    /// The ledger does not verify.
    #[error("ledger verification failed at entry {seq}: {problem}")]
    Tampered {
        /// The first bad sequence number (0 when it concerns the whole file).
        seq: i64,
        /// What is wrong.
        problem: String,
    },
}

impl Error {
    /// True when the failure is bad input or a refusal by policy (exit code 2), false
    /// when an operation was attempted and failed (exit code 1).
    pub fn is_refusal(&self) -> bool {
        use crate::send::seal::Error as Seal;
        match self {
            Error::Wipe(e) => {
                // A target or method refused before anything was touched; reading
                // /sys or /proc failing is an operation that failed.
                matches!(
                    e,
                    custody_wipe::Error::Refused { .. }
                        | custody_wipe::Error::TargetsRefused { .. }
                        | custody_wipe::Error::UnknownMethod { .. }
                        | custody_wipe::Error::PassesNotAllowed { .. }
                        | custody_wipe::Error::BadPassCount { .. }
                        | custody_wipe::Error::Io {
                            action: "resolve" | "examine",
                            ..
                        }
                )
            }
            Error::Seal(e) => matches!(
                e,
                Seal::OutputExists { .. }
                    | Seal::NoInput
                    | Seal::UnsupportedInput { .. }
                    | Seal::DuplicateName { .. }
                    | Seal::OutputInsideInput { .. }
                    | Seal::InvalidRecipient { .. }
                    | Seal::NoRecipients
                    | Seal::PassphraseRequired { .. }
                    | Seal::IdentityRequired { .. }
                    | Seal::InvalidIdentity { .. }
            ),
            Error::Io(_)
            | Error::File { .. }
            | Error::Storage { .. }
            | Error::Key { .. }
            | Error::PersonalKey {
                problem: KeyProblem::Generate(_),
                ..
            }
            | Error::DisposalFailed { .. }
            | Error::NoFont { .. }
            | Error::BadFont { .. }
            | Error::Render { .. }
            | Error::Unreadable { .. }
            | Error::Encode { .. }
            | Error::ProjectionsDiffer { .. }
            | Error::WontWrite { .. }
            | Error::Tampered { .. } => false,
            _ => true,
        }
    }
}

/// What a value is for: the field of a record or an argument of a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The organisation's name.
    Organisation,
    /// The station's name.
    Station,
    /// A person's name.
    Person,
    /// A role.
    Role,
    /// A contact's name in the address book.
    Contact,
    /// A serial number.
    Serial,
    /// An asset tag.
    AssetTag,
    /// A medium's label.
    Label,
    /// Make and model.
    Model,
    /// The owning department.
    Owner,
    /// Where something is kept.
    Location,
    /// Where a medium was sanitized or destroyed.
    Place,
    /// A photograph of a destruction.
    Photo,
    /// A person's title (役職).
    Title,
    /// The machine or person a medium came from.
    Origin,
    /// The desk's address (its web origin).
    DeskAddress,
    /// A capacity.
    Capacity,
    /// A kind of medium.
    MediaKind,
    /// A media status.
    MediaStatus,
    /// Why a medium is retired.
    RetireReason,
    /// Which way a handover goes.
    Direction,
    /// How many items.
    Count,
    /// The other party of a handover.
    Counterparty,
    /// What something is for.
    Purpose,
    /// How something is done (handover, destruction, a vendor's erasure).
    Method,
    /// Who confirmed receipt of a handover.
    ConfirmedBy,
    /// What a download holds.
    Content,
    /// The business system data comes from.
    System,
    /// What is carried out.
    What,
    /// Why.
    Reason,
    /// Where a carry-out goes.
    Destination,
    /// How a carry-out travels.
    Transport,
    /// A medium's condition on return.
    Condition,
    /// A free note.
    Note,
    /// A comment.
    Comment,
    /// A request's summary.
    Summary,
    /// Why a retention period starts early.
    BackdateReason,
    /// Who destroyed a medium.
    DestroyedBy,
    /// Who witnessed a medium's destruction.
    Witness,
    /// What a medium holds.
    DataClass,
    /// The contractor who did a disposal.
    Contractor,
    /// A vendor.
    Vendor,
    /// A trusted key's name.
    KeyName,
    /// A recipient.
    Recipient,
    /// The channel a passphrase travels by.
    PasswordChannel,
    /// Where a wiped medium goes.
    WipeDestination,
    /// A retention class.
    RetentionClass,
    /// A new retention class's name.
    ClassName,
    /// A retention period in years.
    Years,
    /// The rule behind a retention class.
    Basis,
    /// A report.
    Report,
    /// A date.
    Date,
    /// A carry-out's return deadline.
    ReturnBy,
    /// A time.
    Time,
    /// A record id.
    RecordId,
    /// A language.
    Lang,
    /// What kind of operation a record notes (input, paper disposal, deletion).
    OperationKind,
    /// What a generated passphrase is made of.
    Words,
    /// The actor of a ledger entry.
    Actor,
    /// The kind of a ledger entry.
    EntryKind,
    /// The subject of a ledger entry.
    Subject,
    /// A period's end before its start.
    Period,
    /// Files or folders to retain.
    Files,
    /// A registered medium.
    Medium,
    /// A class that another class refines.
    BaseClass,
    /// What a request asks for.
    RequestKind,
    /// Where a request is.
    RequestState,
    /// Where a carry-out is.
    CarryoutState,
    /// A kind of certificate.
    CertificateKind,
    /// A personal key.
    Key,
    /// A key id.
    KeyId,
    /// A department.
    Department,
}

impl Field {
    /// The field in words, without an article: `serial number`.
    pub fn words(self) -> &'static str {
        match self {
            Field::Organisation => "organisation name",
            Field::Station => "station name",
            Field::Person => "person's name",
            Field::Role => "role",
            Field::Contact => "contact",
            Field::Serial => "serial number",
            Field::AssetTag => "asset tag",
            Field::Label => "label",
            Field::Model => "model",
            Field::Owner => "owner",
            Field::Location => "location",
            Field::Place => "place of sanitization",
            Field::Photo => "photo",
            Field::Title => "title",
            Field::Origin => "origin",
            Field::DeskAddress => "desk address",
            Field::Capacity => "capacity",
            Field::MediaKind => "kind of medium",
            Field::MediaStatus => "media status",
            Field::RetireReason => "reason for retiring",
            Field::Direction => "direction",
            Field::Count => "count",
            Field::Counterparty => "counterparty",
            Field::Purpose => "purpose",
            Field::Method => "method",
            Field::ConfirmedBy => "name of who confirmed receipt",
            Field::Content => "description of the content",
            Field::System => "system",
            Field::What => "description of what is taken out",
            Field::Reason => "reason",
            Field::Destination => "destination",
            Field::Transport => "means of transport",
            Field::Condition => "condition",
            Field::Note => "note",
            Field::Comment => "comment",
            Field::Summary => "summary",
            Field::BackdateReason => "reason for the earlier start",
            Field::DestroyedBy => "name of who destroyed it",
            Field::Witness => "witness",
            Field::DataClass => "class of data it holds",
            Field::Contractor => "contractor",
            Field::Vendor => "vendor",
            Field::KeyName => "key's name",
            Field::Recipient => "recipient",
            Field::PasswordChannel => "channel for the passphrase",
            Field::WipeDestination => "destination of the wiped medium",
            Field::RetentionClass => "retention class",
            Field::ClassName => "class name",
            Field::Years => "retention period in years",
            Field::Basis => "basis",
            Field::Report => "report",
            Field::Date => "date",
            Field::ReturnBy => "return deadline",
            Field::Time => "time",
            Field::RecordId => "record id",
            Field::Lang => "language",
            Field::OperationKind => "operation kind",
            Field::Words => "passphrase words",
            Field::Actor => "actor",
            Field::EntryKind => "entry kind",
            Field::Subject => "subject",
            Field::Period => "period",
            Field::Files => "files or folders to retain",
            Field::Medium => "registered medium",
            Field::BaseClass => "class it refines",
            Field::RequestKind => "kind of request",
            Field::RequestState => "request state",
            Field::CarryoutState => "carry-out state",
            Field::CertificateKind => "kind of certificate",
            Field::Key => "personal key",
            Field::KeyId => "key id",
            Field::Department => "department",
        }
    }
}

/// The rule a value breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// One line of 1 to `max` characters.
    OneLine {
        /// The longest allowed.
        max: usize,
    },
    /// One of these words.
    OneOf(Vec<String>),
    /// Written like the example.
    Like(&'static str),
    /// A whole number from `min` to `max`.
    Range {
        /// The smallest allowed.
        min: i64,
        /// The largest allowed.
        max: i64,
    },
    /// From `min` to `max` characters.
    Length {
        /// The fewest allowed.
        min: usize,
        /// The most allowed.
        max: usize,
    },
    /// No control characters (line breaks and the like).
    NoControl,
    /// As described.
    Described(&'static str),
    /// The end comes before the start.
    Backwards,
}

fn bad_value(field: Field, value: &str, rule: &Rule) -> String {
    let field = field.words();
    match rule {
        Rule::OneLine { max } => format!("the {field} must be one line of 1 to {max} characters"),
        Rule::OneOf(words) => {
            format!(
                "{value:?} is not a valid {field}; use one of {}",
                words.join(", ")
            )
        }
        Rule::Like(example) => format!("{value:?} is not a valid {field}; write it like {example}"),
        Rule::Range { min, max } => format!("the {field} must be from {min} to {max}"),
        Rule::Length { min, max } => format!("the {field} needs {min} to {max} characters"),
        Rule::NoControl => {
            format!("the {field} {value:?} contains a control character (such as a line break)")
        }
        Rule::Described(how) => format!("{value:?} is not a valid {field}: {how}"),
        Rule::Backwards => format!("the {field} ends before it starts ({value})"),
    }
}

/// What kind of record was looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordKind {
    /// Any record of the ledger.
    Record,
    /// A registered medium (`MD-…`).
    Medium,
    /// A carry-out (`CO-…`).
    Carryout,
    /// A handover (`HO-…`).
    Handover,
    /// A download (`DL-…`).
    Download,
    /// A request (`RQ-…`, or a carry-out or download as its request).
    Request,
    /// A retained item (`RT-…`).
    Retained,
    /// A certificate (`EC-…`, `DC-…`, `VC-…`).
    Certificate,
    /// An encrypted transfer (`TX-…`).
    Transfer,
    /// A contact in the address book (by name).
    Contact,
    /// A registered person (by name).
    Person,
    /// An operation record (`OP-…`).
    Operation,
    /// An incident (`IN-…`).
    Incident,
    /// A file of personal data (`FL-…`).
    PersonalFile,
    /// A batch of media handed to a disposal contractor (`BT-…`).
    Batch,
}

impl RecordKind {
    /// The kind in words.
    pub fn words(self) -> &'static str {
        match self {
            RecordKind::Record => "record",
            RecordKind::Medium => "medium",
            RecordKind::Carryout => "carry-out",
            RecordKind::Handover => "handover",
            RecordKind::Download => "download",
            RecordKind::Request => "request",
            RecordKind::Retained => "retained item",
            RecordKind::Certificate => "certificate",
            RecordKind::Transfer => "encrypted transfer",
            RecordKind::Contact => "contact",
            RecordKind::Person => "registered person",
            RecordKind::Operation => "operation record",
            RecordKind::Incident => "incident",
            RecordKind::PersonalFile => "file of personal data",
            RecordKind::Batch => "disposal batch",
        }
    }
}

/// Why an actor may not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denial {
    /// They are not registered at this station.
    NotRegistered,
    /// Auditors read; they do not write.
    AuditorReadsOnly,
    /// It needs another role.
    NeedsRole {
        /// The roles that may.
        roles: Vec<Role>,
        /// The actor's role.
        has: Role,
    },
    /// Approvals are by someone other than the requester.
    TwoPersonRule,
    /// The request is not approved yet.
    NotApproved {
        /// The request.
        request: String,
        /// Who filed it.
        requester: String,
    },
    /// The request was rejected.
    Rejected {
        /// The request.
        request: String,
        /// Who rejected it.
        by: Option<String>,
        /// Why.
        note: Option<String>,
    },
    /// The approval was used already.
    ApprovalUsed {
        /// The request.
        request: String,
        /// The record that used it.
        used_by: String,
    },
    /// The request was filed by someone else.
    RequestedByOther {
        /// The request.
        request: String,
        /// Who filed it.
        requester: String,
    },
    /// Sending personal data needs a request approved beforehand (the default policy).
    ApprovalRequired,
    /// The actor did the work being signed off.
    OwnWork,
    /// The actor did the operation they would check; another person checks it.
    SameChecker,
    /// A medium leaves only when its latest virus check found nothing.
    VirusCheck {
        /// The medium.
        medium: String,
        /// What its latest check found, and when; none if it was never checked.
        found: Option<String>,
    },
    /// A retention period would start before `before`, with no reason given.
    Backdated {
        /// What it would start before: the files' last change, this station's first
        /// record, with their dates.
        before: String,
    },
    /// A retention class would be shortened.
    ClassShortened {
        /// Its current period.
        years: u32,
        /// Its basis.
        basis: String,
    },
    /// A new class would be shorter than the class it refines.
    ShorterThanBase {
        /// The class it refines.
        base: String,
        /// That class's period.
        years: u32,
        /// That class's basis.
        basis: String,
    },
    /// The item is on hold.
    OnHold {
        /// The item.
        id: String,
        /// Why.
        reason: String,
        /// Who put it on hold.
        by: Option<String>,
    },
    /// The item is not due.
    NotDue {
        /// The date it must be kept until.
        until: String,
        /// The rule that says so.
        basis: String,
    },
    /// The item's period runs from an event date not recorded yet.
    EventMissing {
        /// The item.
        id: String,
        /// Its class.
        class: String,
        /// The years it is kept from the event.
        years: u32,
    },
    /// A carry-out takes personal data out unencrypted and the approver did not say
    /// why that is accepted.
    Unencrypted {
        /// The carry-out.
        request: String,
    },
    /// No disposal request was filed.
    NoDisposalRequest {
        /// The item.
        id: String,
    },
    /// Serials of a batch that no certificate or destruction accounts for yet.
    Unaccounted {
        /// The serials, with their media.
        serials: Vec<String>,
    },
    /// Media of this class leave the office only physically destroyed, after a wipe.
    MustDestroy {
        /// The medium.
        medium: String,
        /// What it holds.
        class: String,
    },
    /// A medium that must be destroyed is closed only by a witnessed, photographed
    /// destruction (`custody media destroy`).
    DestroyWitnessed {
        /// The medium.
        medium: String,
    },
    /// The witness's key cannot sign for them.
    WitnessKey {
        /// The witness.
        witness: String,
        /// Why not.
        why: KeyStanding,
    },
    /// A destruction is witnessed by another registered person than who did it.
    Witness {
        /// Who was named as the witness; none when nobody was.
        witness: Option<String>,
    },
    /// Nothing proves that the medium was erased.
    NoErasureProof {
        /// Its serial number.
        serial: String,
        /// The certificates looked at, and why each does not prove it.
        refused: Vec<(String, String)>,
    },
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denial::NotRegistered => f.write_str("you are not registered at this station"),
            Denial::AuditorReadsOnly => f.write_str("auditors read the ledger; they do not write to it"),
            Denial::NeedsRole { roles, has } => {
                let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                write!(f, "this needs the role {} and you are {has}", names.join(" or "))
            }
            Denial::TwoPersonRule => f.write_str(
                "an approval is always by a different person than the requester (two-person rule); ask another manager",
            ),
            Denial::NotApproved { request, requester } => write!(
                f,
                "{request} is not approved yet; a manager other than {requester} approves it"
            ),
            Denial::Rejected { request, by, note } => write!(
                f,
                "{request} was rejected by {}: {}",
                by.as_deref().unwrap_or("a manager"),
                note.as_deref().unwrap_or("")
            ),
            Denial::ApprovalUsed { request, used_by } => write!(
                f,
                "the approval {request} was already used by {used_by}; file a new request"
            ),
            Denial::RequestedByOther { request, requester } => {
                write!(f, "{request} was requested by {requester}, not by you")
            }
            Denial::ApprovalRequired => f.write_str(
                "sending personal data needs a request approved beforehand by a manager other than the sender (the office's policy)",
            ),
            Denial::OwnWork => {
                f.write_str("you performed this work; a manager who did not must confirm it")
            }
            Denial::SameChecker => f.write_str(
                "you did this operation; it is checked by another person than the one who did it",
            ),
            Denial::VirusCheck { medium, found } => match found {
                None => write!(f, "{medium} has no recorded virus check; a medium leaves only when its latest check found nothing"),
                Some(found) => write!(f, "the latest virus check of {medium} found {found}; a medium leaves only when its latest check found nothing"),
            },
            Denial::Backdated { before } => write!(
                f,
                "the period would start before {before}, which makes the item due early; a reason must be given (it is recorded, listed by the audit, and a manager approves the earlier start)"
            ),
            Denial::ClassShortened { years, basis } => write!(
                f,
                "it keeps items {years} years ({basis}); a class may be lengthened, never shortened"
            ),
            Denial::ShorterThanBase { base, years, basis } => write!(
                f,
                "it holds data of class {base}, kept {years} years ({basis}); a class may be longer than the one it refines, never shorter"
            ),
            Denial::OnHold { reason, by, .. } => write!(
                f,
                "it is on hold ({reason}, by {}); a manager must release it first",
                by.as_deref().unwrap_or("a manager")
            ),
            Denial::NotDue { until, basis } => write!(f, "it must be kept until {until} ({basis})"),
            Denial::EventMissing { class, years, .. } => write!(
                f,
                "class {class} keeps it {years} years from an event date, which is not recorded yet"
            ),
            Denial::Unencrypted { request } => write!(
                f,
                "{request} takes personal data out without encryption (the warning its requester saw); approving it needs the reason that is accepted, which is recorded"
            ),
            Denial::Unaccounted { serials } => write!(
                f,
                "no accepted certificate or recorded destruction accounts yet for {}",
                serials.join(", ")
            ),
            Denial::MustDestroy { medium, class } => write!(
                f,
                "{medium} holds {class} data: it leaves the office only physically destroyed, after a wipe, with the destruction witnessed"
            ),
            Denial::WitnessKey { witness, why } => write!(
                f,
                "the key given for the witness {witness} cannot sign for them: {why}"
            ),
            Denial::DestroyWitnessed { medium } => write!(
                f,
                "{medium} must be destroyed with photos and its witness's own signature: record it with custody media destroy {medium} --method … --by … --witness … --photo …"
            ),
            Denial::Witness { witness: None } => f.write_str(
                "a physical destruction is recorded with the registered person who witnessed it",
            ),
            Denial::Witness {
                witness: Some(witness),
            } => write!(
                f,
                "{witness} cannot witness it: the witness is a person registered at this station, other than the one who destroyed it"
            ),
            Denial::NoDisposalRequest { .. } => f.write_str(
                "no disposal request was filed; one must be filed and approved by a manager",
            ),
            Denial::NoErasureProof { serial, refused } if refused.is_empty() => write!(
                f,
                "there is no erasure certificate for serial {serial}: wipe it, have a manager accept the vendor's certificate, or record its physical destruction"
            ),
            Denial::NoErasureProof { serial, refused } => {
                let why: Vec<String> = refused.iter().map(|(c, w)| format!("{c}: {w}")).collect();
                write!(
                    f,
                    "no certificate proves that this medium (serial {serial}) was erased: {}",
                    why.join("; ")
                )
            }
        }
    }
}

/// Something already done to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Done {
    /// A download's data was deleted.
    Deleted {
        /// When.
        at: Timestamp,
    },
    /// A handover was confirmed.
    Confirmed {
        /// By whom.
        by: Option<String>,
        /// When.
        at: Timestamp,
    },
    /// A request was decided.
    Decided {
        /// Approved or rejected.
        state: RequestState,
        /// By whom.
        by: Option<String>,
        /// When.
        at: Option<Timestamp>,
    },
    /// A carry-out left.
    CarriedOut {
        /// When.
        at: Timestamp,
    },
    /// A carry-out came back.
    Returned {
        /// When.
        at: Timestamp,
    },
    /// A carry-out was closed as lost.
    Lost {
        /// When.
        at: Timestamp,
    },
    /// A medium was retired.
    Retired {
        /// Why.
        reason: String,
    },
    /// A retained item's event date was set.
    EventDated {
        /// The date.
        date: String,
    },
    /// A retained item was disposed of.
    Disposed {
        /// When, if known.
        at: Option<Timestamp>,
    },
    /// A retained item was put on hold.
    Held {
        /// Why.
        reason: String,
    },
    /// A disposal request was filed for the item.
    DisposalRequested {
        /// The request.
        request: String,
        /// Its state.
        state: RequestState,
    },
    /// A certificate was signed off.
    SignedOff,
    /// A batch was closed.
    Closed {
        /// When.
        at: Timestamp,
    },
    /// A key was trusted.
    Trusted,
    /// A person was removed from the register.
    Removed {
        /// The entry that removed them.
        seq: i64,
    },
    /// A person has the role already.
    HasRole {
        /// The role.
        role: Role,
    },
}

impl std::fmt::Display for Done {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = |by: &Option<String>| by.clone().unwrap_or_else(|| "?".into());
        match self {
            Done::Deleted { at } => write!(f, "was already recorded as deleted at {at}"),
            Done::Confirmed { by, at } => write!(f, "was already confirmed by {} at {at}", who(by)),
            Done::Decided { state, by, at } => write!(
                f,
                "was already {state} by {} at {}",
                who(by),
                at.map_or_else(|| "?".to_owned(), |t| t.to_string())
            ),
            Done::CarriedOut { at } => write!(f, "was already carried out at {at}"),
            Done::Returned { at } => write!(f, "was already returned at {at}"),
            Done::Lost { at } => write!(f, "was closed as lost at {at}"),
            Done::Retired { reason } => write!(f, "was already retired ({reason})"),
            Done::EventDated { date } => write!(f, "already has the event date {date}"),
            Done::Disposed { at: Some(at) } => write!(f, "was already disposed of at {at}"),
            Done::Disposed { at: None } => f.write_str("was already disposed of"),
            Done::Held { reason } => write!(f, "is already on hold: {reason}"),
            Done::DisposalRequested { request, state } => {
                write!(f, "already has the disposal request {request} ({state})")
            }
            Done::SignedOff => f.write_str("was already signed off"),
            Done::Closed { at } => write!(f, "was already closed at {at}"),
            Done::Trusted => f.write_str("is already trusted"),
            Done::Removed { seq } => write!(f, "was already removed (entry {seq})"),
            Done::HasRole { role } => write!(f, "is already {role}"),
        }
    }
}

/// A step a record has not had yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// A carry-out that never left.
    CarriedOut,
    /// A medium that was neither destroyed nor retired as wiped.
    Disposed,
    /// An item that is not on hold.
    Held,
    /// A download that was never approved (the state it is in).
    Approved(RequestState),
    /// A person with no personal key enrolled (or none waiting for confirmation).
    Enrolled,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::CarriedOut => {
                f.write_str("was never carried out; its carrying out must be recorded first")
            }
            Step::Held => f.write_str("is not on hold"),
            Step::Disposed => f.write_str(
                "was neither destroyed nor retired as wiped; there is no disposal to check",
            ),
            Step::Enrolled => f.write_str("has no personal key waiting to be confirmed"),
            Step::Approved(state) => write!(
                f,
                "was never approved ({state}); a download that was not approved must not exist — record what happened and tell the manager"
            ),
        }
    }
}

/// What a path is, when it is not a file custody handles.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileProblem {
    /// A symbolic link.
    Symlink,
    /// A symbolic link inside a folder being registered.
    SymlinkInside {
        /// The folder.
        folder: PathBuf,
    },
    /// Neither a regular file nor a folder.
    NotRegular,
    /// A path that is not UTF-8.
    NotUtf8,
    /// An empty file.
    Empty,
}

fn unsupported_file(path: &std::path::Path, problem: &FileProblem) -> String {
    let path = path.display();
    match problem {
        FileProblem::Symlink => {
            format!("{path} is a symbolic link; register the file it points to instead")
        }
        FileProblem::SymlinkInside { folder } => format!(
            "{path} is a symbolic link inside {}; remove it or register its target separately",
            folder.display()
        ),
        FileProblem::NotRegular => format!("{path} is not a regular file or folder"),
        FileProblem::NotUtf8 => format!("{path} is not a UTF-8 path"),
        FileProblem::Empty => format!("{path} is empty"),
    }
}

/// What there is nothing of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Nothing {
    /// The folders given hold no files.
    ToRetain,
    /// No target was named.
    ToWipe,
    /// An update gave nothing to record.
    ToUpdate,
    /// The ledger was not restored: it extends what this station saw.
    ToAcknowledge,
}

/// What is wrong with the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// It is not valid TOML or has unknown settings.
    Syntax(String),
    /// A retention class shorter than its basis requires.
    ClassTooShort {
        /// The class.
        name: String,
        /// The years set.
        years: u32,
        /// The years required.
        floor: u32,
        /// The basis.
        basis: String,
    },
    /// A retention class starting from the wrong date.
    ClassTrigger {
        /// The class.
        name: String,
        /// True when it must start from an event date.
        event: bool,
    },
    /// A retention class with no years or no basis.
    ClassIncomplete {
        /// The class.
        name: String,
    },
    /// A class set differently from the ledger, which fixes every class.
    ClassDiffers {
        /// The class.
        name: String,
    },
    /// A person listed who is not registered in the ledger as such.
    PersonNotInLedger {
        /// Their name.
        name: String,
        /// The role listed.
        role: String,
    },
    /// A setting whose value is not usable.
    Setting {
        /// The setting.
        name: &'static str,
        /// Why.
        problem: String,
    },
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigProblem::Syntax(message) => {
                write!(f, "{message}; fix the file or restore it from a backup")
            }
            ConfigProblem::ClassTooShort {
                name,
                years,
                floor,
                basis,
            } => write!(
                f,
                "retention class {name} is set to {years} years, shorter than the {floor} years its basis requires ({basis}); a class may be lengthened, never shortened"
            ),
            ConfigProblem::ClassTrigger { name, event } => write!(
                f,
                "retention class {name} must start from its {} date",
                if *event { "event" } else { "registration" }
            ),
            ConfigProblem::ClassIncomplete { name } => {
                write!(
                    f,
                    "retention class {name} needs at least 1 year and a basis text"
                )
            }
            ConfigProblem::ClassDiffers { name } => write!(
                f,
                "it sets retention class {name} differently from the ledger, which fixes every class; remove the [retention.classes.{name}] section (classes are changed by a manager, signed and recorded)"
            ),
            ConfigProblem::PersonNotInLedger { name, role } => write!(
                f,
                "it lists {name} as {role} but the ledger does not; people are registered in the ledger, not by editing config.toml (remove that entry)"
            ),
            ConfigProblem::Setting { name, problem } => write!(f, "{name}: {problem}"),
        }
    }
}

fn wrong_trigger(class: &str, event: bool) -> String {
    if event {
        format!("class {class} runs from an event date, which is given when it happens")
    } else {
        format!("class {class} runs from the registration date, not from an event date")
    }
}

fn class_base(name: &str, exists: bool) -> String {
    if exists {
        format!("class {name} exists; amend it without naming another class")
    } else {
        format!(
            "{name} is a new class: name the class whose data it holds (its period is at least that class's)"
        )
    }
}

fn data_home(
    path: &std::path::Path,
    home: &std::path::Path,
    inside: Option<&std::path::Path>,
) -> String {
    match inside {
        Some(file) => format!(
            "{} is custody's data home file {} under another name; the ledger and the station key are never wiped, shredded or retained as files",
            path.display(),
            file.display()
        ),
        None => format!(
            "{} is (or holds) custody's data home {}; the ledger and the station key are never wiped, shredded or retained as files",
            path.display(),
            home.display()
        ),
    }
}

/// What a storage backend said when it refused an operation: its own error, kept as
/// the cause without naming the backend's types in custody's API.
#[derive(Debug)]
pub struct StorageError(Box<dyn std::error::Error + Send + Sync>);

impl StorageError {
    /// Wraps a backend's error.
    pub(crate) fn new(source: impl std::error::Error + Send + Sync + 'static) -> StorageError {
        StorageError(Box::new(source))
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// The result type of `custody-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is wrong with a personal key file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyProblem {
    /// There is no file there.
    Missing,
    /// The passphrase does not unlock it.
    WrongPassphrase,
    /// It is not a minisign secret key (the reason).
    NotAKey(String),
    /// It is not protected by a passphrase.
    NotEncrypted,
    /// Making or using it failed (the reason).
    Generate(String),
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyProblem::Missing => f.write_str("there is no key file there"),
            KeyProblem::WrongPassphrase => f.write_str("the passphrase does not unlock it"),
            KeyProblem::NotAKey(why) => write!(f, "not a minisign secret key ({why})"),
            KeyProblem::NotEncrypted => {
                f.write_str("it is not protected by a passphrase, so it cannot be a personal key")
            }
            KeyProblem::Generate(why) => f.write_str(why),
        }
    }
}

/// Why an act signed with a passkey is not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasskeyProblem {
    /// The act is prepared, and waits for the person's passkey (a front end asks for
    /// it; nothing was written).
    Needed,
    /// What the act is about changed between its preparation and its signature.
    Changed,
    /// The assertion does not hold: why.
    Invalid(String),
    /// The passkey does not stand for the person.
    Standing(KeyStanding),
    /// The act is one a passkey does not sign (the people register's own acts, a
    /// signature inside a document, an act of several entries): a personal key does.
    NeedsPersonalKey,
    /// The enrolment link is unknown, used or expired.
    Invitation,
}

impl std::fmt::Display for PasskeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasskeyProblem::Needed => f.write_str("this act waits for the person's passkey"),
            PasskeyProblem::Changed => f.write_str(
                "the record changed while the act was being signed: open it again and sign again",
            ),
            PasskeyProblem::Invalid(why) => write!(f, "the passkey's signature is refused: {why}"),
            PasskeyProblem::Standing(why) => write!(f, "the passkey may not sign: {why}"),
            PasskeyProblem::NeedsPersonalKey => f.write_str(
                "this act is signed with the person's personal key, not a passkey: do it at a terminal",
            ),
            PasskeyProblem::Invitation => f.write_str(
                "this enrolment link is not valid (used, expired, or never made): ask a manager for a new one",
            ),
        }
    }
}

/// Where a key stands in the people register.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStanding {
    /// The person is not registered.
    NotRegistered,
    /// The register has no key with this id for the person.
    NotTheirs,
    /// Enrolled, but no manager has confirmed it yet.
    NotConfirmed,
    /// Revoked (replaced by a new key, or the person was removed) at `seq`.
    Revoked {
        /// The entry that revoked it.
        seq: i64,
        /// Why.
        reason: String,
    },
    /// The person was removed from the register.
    Removed {
        /// The entry that removed them.
        seq: i64,
    },
}

impl std::fmt::Display for KeyStanding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyStanding::NotRegistered => f.write_str("the person is not registered"),
            KeyStanding::NotTheirs => {
                f.write_str("the people register holds no such key for this person")
            }
            KeyStanding::NotConfirmed => {
                f.write_str("it is enrolled, but no manager has confirmed it yet")
            }
            KeyStanding::Revoked { seq, reason } => {
                write!(f, "it was revoked at entry {seq} ({reason})")
            }
            KeyStanding::Removed { seq } => {
                write!(f, "the person was removed from the register at entry {seq}")
            }
        }
    }
}
