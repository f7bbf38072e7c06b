//! `config.toml`: organisation, station, people (a mirror of the ledger), retention
//! classes with their legal basis, and policy switches.
//!
//! The file is meant to be read and edited by people: it is written once from a
//! commented template, and later changes (a person added) edit it in place so the
//! comments and any local edits survive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ConfigProblem, Error, Result};
use crate::people::Role;

crate::vocab::vocabulary! {
    /// What starts a retention period.
    pub enum Trigger (crate::error::Field::RetentionClass) {
        /// From the registration date (or a start date given at registration).
        Created = "created",
        /// From an event date (e.g. loss of eligibility), set when it happens.
        Event = "event",
    }
}

/// One retention class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionClass {
    /// How many years items of this class are kept.
    pub years: u32,
    /// What starts the period.
    pub trigger: Trigger,
    /// The rule that sets the period, quoted for the disposal record.
    pub basis: String,
}

/// A person as mirrored in `config.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonEntry {
    /// Login or chosen name.
    pub name: String,
    /// Their role.
    pub role: Role,
}

/// Whether sending needs an approved request. In config.toml, `required` makes one
/// station stricter and `none` leaves it to the office's policy in the ledger
/// ([`crate::send::policy`]), which requires one unless a manager relaxed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendApproval {
    /// No approval needed (in config.toml: as the office's policy says).
    #[default]
    None,
    /// Every send names a request approved by a manager other than the sender.
    Required,
}

/// `[send]` policy switches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendPolicy {
    /// Whether a send needs an approved request.
    #[serde(default)]
    pub approval: SendApproval,
    /// Days within which a recipient's confirmation of receipt is expected (7 by
    /// default); `report audit` lists sends older than that without one.
    #[serde(default = "default_confirm_days")]
    pub confirm_within_days: u32,
}

impl Default for SendPolicy {
    fn default() -> Self {
        SendPolicy {
            approval: SendApproval::default(),
            confirm_within_days: default_confirm_days(),
        }
    }
}

fn default_confirm_days() -> u32 {
    7
}

/// `[open]` limits on what opening a received file may cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenPolicy {
    /// The most memory a passphrase file's scrypt may ask for, in MiB (1024 by
    /// default: work factor 20). A file asking for more is refused before any work.
    #[serde(default = "default_scrypt_memory")]
    pub max_scrypt_memory_mib: u64,
}

impl Default for OpenPolicy {
    fn default() -> Self {
        OpenPolicy {
            max_scrypt_memory_mib: default_scrypt_memory(),
        }
    }
}

fn default_scrypt_memory() -> u64 {
    crate::send::seal::scrypt_memory_mib(crate::send::seal::DEFAULT_MAX_WORK_FACTOR)
}

/// `[keys]` settings for personal keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPolicy {
    /// How many minutes a key unlocked on a terminal stays unlocked (15 by default,
    /// 1 to 480).
    #[serde(default = "default_unlock_minutes")]
    pub unlock_minutes: u32,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy {
            unlock_minutes: default_unlock_minutes(),
        }
    }
}

fn default_unlock_minutes() -> u32 {
    15
}

/// `[retention]` settings besides the classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Overwrite method used when disposing of files.
    #[serde(default = "default_shred_method")]
    pub shred_method: String,
    /// Whether the last overwrite pass is read back.
    #[serde(default = "default_true")]
    pub shred_verify: bool,
    /// Classes as the first version kept them here. The ledger now fixes every class
    /// (the `init` entry and signed amendments); a class listed here that differs from
    /// the ledger's refuses retention commands until it is removed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<String, RetentionClass>,
}

fn default_shred_method() -> String {
    "random".into()
}

fn default_true() -> bool {
    true
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The organisation's name, printed on certificates.
    pub organisation: String,
    /// This station's name, recorded in every entry.
    pub station: String,
    /// The language custody speaks at this station (`"ja"` or `"en"`), whatever the
    /// locale says; `--lang` still wins. Unset: the locale decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::Lang>,
    /// The desk's address as people open it (`https://HOST[:PORT]`): printed on
    /// certificates, leading to the desk's page that checks the printed certificate
    /// against the ledger. Unset: no address is printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk: Option<String>,
    /// People and their roles: a mirror of the ledger, which is authoritative.
    #[serde(default)]
    pub people: Vec<PersonEntry>,
    /// Sending policy.
    #[serde(default)]
    pub send: SendPolicy,
    /// Limits on opening received files.
    #[serde(default)]
    pub open: OpenPolicy,
    /// Personal keys: how long one stays unlocked.
    #[serde(default)]
    pub keys: KeyPolicy,
    /// Retention classes and disposal settings.
    pub retention: RetentionPolicy,
    /// What closes a medium's life, by what it holds.
    #[serde(default)]
    pub media: MediaPolicy,
    /// How often a wipe makes its progress durable, to be resumed from.
    #[serde(default)]
    pub wipe: WipePolicy,
    /// Where the ledger is when it is the office's shared database.
    #[serde(default, skip_serializing_if = "DatabaseSettings::is_local")]
    pub database: DatabaseSettings,
}

/// `[database]`: the office's PostgreSQL database that holds the ledger, shared by
/// every station; unset, the ledger is the file `ledger.db` in the data home. The
/// password is never here: it is read from the password file this names, else from
/// `PGPASSFILE`, else `~/.pgpass` (PostgreSQL's format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user@host:port/database?sslmode=…`, without a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A password file in PostgreSQL's format (`host:port:database:user:password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// How long connecting to the server may take, in seconds (1 to 300; 10 unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_seconds: Option<u64>,
}

impl DatabaseSettings {
    fn is_local(&self) -> bool {
        self.url.is_none()
    }

    /// The shared database to connect to, when there is one.
    pub fn target(&self) -> Option<crate::ledger::Target> {
        self.url.as_ref().map(|url| crate::ledger::Target {
            url: url.clone(),
            password_file: self.password_file.clone(),
            connect_timeout: std::time::Duration::from_secs(
                self.connect_timeout_seconds.unwrap_or(10),
            ),
        })
    }
}

/// `[wipe]`: how often a wipe flushes the device and journals how far it got. A
/// resumed wipe writes again at most this much (1 GiB and 30 seconds by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WipePolicy {
    /// MiB written between two journal lines, at most (1 to 1048576).
    #[serde(default = "default_journal_mib")]
    pub journal_every_mib: u64,
    /// Seconds between two journal lines, at most (1 to 3600).
    #[serde(default = "default_journal_seconds")]
    pub journal_every_seconds: u64,
}

impl Default for WipePolicy {
    fn default() -> Self {
        WipePolicy {
            journal_every_mib: default_journal_mib(),
            journal_every_seconds: default_journal_seconds(),
        }
    }
}

fn default_journal_mib() -> u64 {
    1024
}

fn default_journal_seconds() -> u64 {
    30
}

/// `[media]`: the classes of data whose media leave the office only physically
/// destroyed, after a wipe. `my-number` (the My Number systems, マイナンバー利用事務系)
/// is always among them; a station may add `general`, never remove `my-number`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaPolicy {
    /// The data classes whose media must be destroyed.
    #[serde(default = "default_destroy")]
    pub destroy: Vec<String>,
}

impl Default for MediaPolicy {
    fn default() -> Self {
        MediaPolicy {
            destroy: default_destroy(),
        }
    }
}

fn default_destroy() -> Vec<String> {
    vec!["my-number".into()]
}

impl MediaPolicy {
    /// Whether media holding data of `class` must be physically destroyed.
    pub fn must_destroy(&self, class: &str) -> bool {
        class == "my-number" || self.destroy.iter().any(|c| c == class)
    }
}

/// The retention classes every home starts with, from the regulations' digest; a
/// config may lengthen them but never shorten them.
pub fn default_classes() -> BTreeMap<String, RetentionClass> {
    let class = |years, trigger, basis: &str| RetentionClass {
        years,
        trigger,
        basis: basis.to_string(),
    };
    BTreeMap::from([
        (
            "system-data".to_string(),
            class(
                5,
                Trigger::Created,
                "システム等運用管理規程 第20条第1項(1): 情報システム等で保有するデータ 5年",
            ),
        ),
        (
            "media-data".to_string(),
            class(
                3,
                Trigger::Created,
                "システム等運用管理規程 第20条第1項(2): 電子媒体に収録されたデータ 3年",
            ),
        ),
        (
            "backup".to_string(),
            class(
                5,
                Trigger::Created,
                "システム等運用管理規程 第20条第1項(3): バックアップを目的としたデータ 5年",
            ),
        ),
        (
            "my-number".to_string(),
            class(
                3,
                Trigger::Event,
                "システム等運用管理規程 第20条第3項: 個人番号データ 資格喪失又は扶養削除の日から3年",
            ),
        ),
        (
            // Kept only while the member is eligible (003 art.14): due on the day
            // eligibility is lost, recorded as the event.
            "my-number-system".to_string(),
            class(
                0,
                Trigger::Event,
                "岡山県市町村職員共済組合 特定個人情報等取扱要綱 第14条: 個人番号管理システムの保存データ 組合員等が資格を喪失するまでの間",
            ),
        ),
        (
            // Kept until no longer needed (004 art.11): the day it is no longer
            // needed is recorded as the event, and it is due that day.
            "until-unneeded".to_string(),
            class(
                0,
                Trigger::Event,
                "邑智郡総合事務組合特定個人情報等取扱規程 第11条: 不要となった場合は速やかに削除又は廃棄",
            ),
        ),
        (
            "records".to_string(),
            class(
                7,
                Trigger::Created,
                "邑智郡総合事務組合特定個人情報等取扱規程 第2条第7号: 記録等の保存期間 7年",
            ),
        ),
        (
            "disclosure".to_string(),
            class(
                10,
                Trigger::Created,
                "地方職員共済組合愛知県支部 個人情報の保護に関する細則 第16条第2項: 個人情報の開示等台帳 10年",
            ),
        ),
    ])
}

impl Config {
    /// A new configuration for `organisation` and `station`, with the default classes
    /// and `first_manager` as the only person.
    pub fn new(organisation: &str, station: &str, first_manager: &str) -> Config {
        Config {
            organisation: organisation.to_string(),
            station: station.to_string(),
            people: vec![PersonEntry {
                name: first_manager.to_string(),
                role: Role::Manager,
            }],
            send: SendPolicy::default(),
            open: OpenPolicy::default(),
            keys: KeyPolicy::default(),
            retention: RetentionPolicy {
                shred_method: default_shred_method(),
                shred_verify: true,
                classes: BTreeMap::new(),
            },
            language: None,
            desk: None,
            media: MediaPolicy::default(),
            wipe: WipePolicy::default(),
            database: DatabaseSettings::default(),
        }
    }

    /// Reads and checks `config.toml`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = fs_err::read_to_string(path)?;
        let config: Config = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            problem: ConfigProblem::Syntax(e.message().to_owned()),
        })?;
        config.check(path)?;
        Ok(config)
    }

    fn check(&self, path: &Path) -> Result<()> {
        let bad = |problem: ConfigProblem| Error::Config {
            path: path.to_path_buf(),
            problem,
        };
        for (name, floor) in default_classes() {
            match self.retention.classes.get(&name) {
                None => {}
                Some(class) if class.years < floor.years => {
                    return Err(bad(ConfigProblem::ClassTooShort {
                        name: name.clone(),
                        years: class.years,
                        floor: floor.years,
                        basis: floor.basis.clone(),
                    }));
                }
                Some(class) if class.trigger != floor.trigger => {
                    return Err(bad(ConfigProblem::ClassTrigger {
                        name: name.clone(),
                        event: floor.trigger == Trigger::Event,
                    }));
                }
                Some(_) => {}
            }
        }
        for (name, class) in &self.retention.classes {
            if class.years == 0 || class.basis.trim().is_empty() {
                return Err(bad(ConfigProblem::ClassIncomplete { name: name.clone() }));
            }
        }
        crate::ledger::check_field(crate::error::Field::Station, &self.station)?;
        if !(1..=480).contains(&self.keys.unlock_minutes) {
            return Err(bad(ConfigProblem::Setting {
                name: "keys.unlock_minutes",
                problem: format!("{} is not from 1 to 480 minutes", self.keys.unlock_minutes),
            }));
        }
        if let Some(desk) = &self.desk
            && let Err(e) = crate::people::passkey::desk_origin(desk)
        {
            return Err(bad(ConfigProblem::Setting {
                name: "desk",
                problem: e.to_string(),
            }));
        }
        if !(1..=1 << 20).contains(&self.wipe.journal_every_mib) {
            return Err(bad(ConfigProblem::Setting {
                name: "wipe.journal_every_mib",
                problem: format!(
                    "{} is not from 1 to 1048576 MiB",
                    self.wipe.journal_every_mib
                ),
            }));
        }
        if let Some(url) = &self.database.url
            && !crate::ledger::Target::is_postgres(url)
        {
            return Err(bad(ConfigProblem::Setting {
                name: "database.url",
                problem: format!(
                    "{} is not a postgres:// address",
                    crate::ledger::Target {
                        url: url.clone(),
                        password_file: None,
                        connect_timeout: std::time::Duration::from_secs(1),
                    }
                    .address()
                    .display()
                ),
            }));
        }
        if let Some(seconds) = self.database.connect_timeout_seconds
            && !(1..=300).contains(&seconds)
        {
            return Err(bad(ConfigProblem::Setting {
                name: "database.connect_timeout_seconds",
                problem: format!("{seconds} is not from 1 to 300 seconds"),
            }));
        }
        if !(1..=3600).contains(&self.wipe.journal_every_seconds) {
            return Err(bad(ConfigProblem::Setting {
                name: "wipe.journal_every_seconds",
                problem: format!(
                    "{} is not from 1 to 3600 seconds",
                    self.wipe.journal_every_seconds
                ),
            }));
        }
        Ok(())
    }

    /// The text of a new `config.toml`, with comments for the people who edit it.
    pub fn to_template(&self) -> Result<String> {
        let body = toml::to_string_pretty(self).map_err(|e| Error::Encode {
            what: "the configuration".into(),
            problem: e.to_string(),
        })?;
        Ok(format!(
            "# custody configuration.\n\
             #\n\
             # organisation and station appear on every record and certificate.\n\
             # [[people]] mirrors the ledger, which is authoritative: add people with\n\
             # `custody people add NAME --role clerk|it|manager|auditor`, not here.\n\
             # [send] approval = \"required\" makes this station require an approved request\n\
             # for every send even where the office's policy is relaxed; \"none\" leaves it to\n\
             # that policy, kept in the ledger (custody policy show), which requires one\n\
             # unless a manager changed it. confirm_within_days: after how many days a send\n\
             # without a confirmed receipt (custody transfer confirm) is listed by the audit.\n\
             # [open] max_scrypt_memory_mib: the most memory a passphrase-protected file\n\
             # may make scrypt use when opened; a file asking for more is refused.\n\
             # [keys] unlock_minutes: how long a personal key unlocked on a terminal\n\
             # stays unlocked (1 to 480).\n\
             # [wipe] journal_every_mib, journal_every_seconds: how often a wipe makes its\n\
             # progress durable; `custody wipe --resume` writes again at most that much.\n\
             # [database] url: the office's PostgreSQL database that holds the ledger (no\n\
             # password in it: password_file, PGPASSFILE or ~/.pgpass gives it);\n\
             # connect_timeout_seconds: how long connecting may take (10 unset).\n\
             # Retention classes (their periods and legal basis) are fixed in the ledger:\n\
             # see `custody retain class list`; a manager lengthens one or adds one with\n\
             # `custody retain class set`, which is signed and recorded.\n\n{body}"
        ))
    }

    /// Sets `[database]` in place, keeping the rest of the file.
    pub fn write_database(path: &Path, database: &DatabaseSettings) -> Result<()> {
        let text = fs_err::read_to_string(path)?;
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| Error::Config {
            path: path.to_path_buf(),
            problem: ConfigProblem::Syntax(format!("{e}")),
        })?;
        let mut table = toml_edit::Table::new();
        if let Some(url) = &database.url {
            table["url"] = toml_edit::value(url.clone());
        }
        if let Some(file) = &database.password_file {
            table["password_file"] = toml_edit::value(file.display().to_string());
        }
        if let Some(seconds) = database.connect_timeout_seconds {
            table["connect_timeout_seconds"] =
                toml_edit::value(i64::try_from(seconds).unwrap_or(300));
        }
        doc["database"] = toml_edit::Item::Table(table);
        write_atomic(path, doc.to_string().as_bytes())
    }

    /// Rewrites the `[[people]]` mirror in place, keeping the rest of the file.
    pub fn write_people(path: &Path, people: &[PersonEntry]) -> Result<()> {
        let text = fs_err::read_to_string(path)?;
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| Error::Config {
            path: path.to_path_buf(),
            problem: ConfigProblem::Syntax(format!("{e}")),
        })?;
        let mut array = toml_edit::ArrayOfTables::new();
        for person in people {
            let mut table = toml_edit::Table::new();
            table["name"] = toml_edit::value(person.name.clone());
            table["role"] = toml_edit::value(person.role.as_str());
            array.push(table);
        }
        doc["people"] = toml_edit::Item::ArrayOfTables(array);
        write_atomic(path, doc.to_string().as_bytes())
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it over
/// `path`, so a reader sees the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| Error::File {
        path: dir.to_path_buf(),
        source: e,
    })?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.error.kind(),
            format!("{}: {}", path.display(), e.error),
        ))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_round_trips_and_shortening_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let config = Config::new("Org", "desk-1", "sato");
        fs_err::write(&path, config.to_template().unwrap()).unwrap();
        assert_eq!(Config::load(&path).unwrap(), config);
        // Classes are no longer written here; one that the first version kept here
        // and that someone shortened is still refused.
        let text = fs_err::read_to_string(&path).unwrap();
        assert!(!text.contains("[retention.classes"));
        let shorter = format!(
            "{text}\n[retention.classes.records]\nyears = 6\ntrigger = \"created\"\nbasis = \"x\"\n"
        );
        fs_err::write(&path, &shorter).unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("records") && err.contains("never shortened"),
            "{err}"
        );
    }

    #[test]
    fn the_desk_address_is_an_address_a_browser_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let template = Config::new("Org", "desk-1", "sato").to_template().unwrap();
        fs_err::write(
            &path,
            format!("desk = \"https://desk.example.jp:8443\"\n{template}"),
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.desk.as_deref(), Some("https://desk.example.jp:8443"));
        // Written back where a top-level setting must be, before the tables.
        fs_err::write(&path, config.to_template().unwrap()).unwrap();
        assert_eq!(Config::load(&path).unwrap(), config);
        for bad in [
            "desk.example.jp",
            "https://192.168.10.5",
            "https://desk/verify",
        ] {
            fs_err::write(&path, format!("desk = \"{bad}\"\n{template}")).unwrap();
            match Config::load(&path) {
                Err(Error::Config {
                    problem: ConfigProblem::Setting { name: "desk", .. },
                    ..
                }) => {}
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn people_mirror_is_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs_err::write(
            &path,
            Config::new("Org", "d", "sato").to_template().unwrap(),
        )
        .unwrap();
        let people = vec![
            PersonEntry {
                name: "sato".into(),
                role: Role::Manager,
            },
            PersonEntry {
                name: "鈴木".into(),
                role: Role::Clerk,
            },
        ];
        Config::write_people(&path, &people).unwrap();
        let text = fs_err::read_to_string(&path).unwrap();
        assert!(text.starts_with("# custody configuration."));
        assert_eq!(Config::load(&path).unwrap().people, people);
    }
}
