//! The data home of a station, opened: configuration, signing key, ledger and the
//! person at the keyboard. Every workflow starts from a [`Station`].

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::config::{Config, DatabaseSettings, PersonEntry};
use crate::error::{ConfigProblem, Error, Field, Result, Rule};
use crate::keys::{StationKey, StationPublicKey};
use crate::ledger::store::{Query, args};
use crate::ledger::{
    Entry, HeadBlock, Ledger, LogFilter, Mode, RecordId, VerifyReport, Writer, prove,
};
use crate::people::key::{PersonalKey, Signer};
use crate::people::{Actor, Person, Role, check_name};

/// The data home: `$CUSTODY_HOME`, else `~/.local/share/custody`.
pub fn default_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CUSTODY_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(data).join("custody"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/custody")),
        None => Err(Error::NoHomePlace),
    }
}

/// What `custody init` created.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// The data home.
    pub home: PathBuf,
    /// Organisation name.
    pub organisation: String,
    /// Station name.
    pub station: String,
    /// The first manager.
    pub manager: String,
    /// The first manager's personal key id.
    pub manager_key_id: String,
    /// Where the first manager's key file was written.
    pub manager_key_file: PathBuf,
    /// The station key's id.
    pub key_id: String,
    /// The station public key file.
    pub public_key: PathBuf,
    /// The record id of the first manager.
    pub id: RecordId,
}

/// What `custody ledger migrate` did.
#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    /// Entries in the ledger, now in the database.
    pub entries: i64,
    /// The hash of the last entry, the same in both.
    pub head: String,
    /// Rows copied, over every table.
    pub rows: u64,
    /// Register rows rebuilt from the entries in the database and found equal.
    pub projection_rows: i64,
    /// The database's address.
    pub database: String,
    /// The ledger file, kept read-only as the archive.
    pub archive: PathBuf,
}

/// What `custody station join` did.
#[derive(Debug, Clone, Serialize)]
pub struct JoinReport {
    /// The new station's data home.
    pub home: PathBuf,
    /// The organisation, as the ledger's `init` entry names it.
    pub organisation: String,
    /// The new station's name.
    pub station: String,
    /// The manager whose signed entry registered it.
    pub manager: String,
    /// The new station key's id.
    pub key_id: String,
    /// The station public key file.
    pub public_key: PathBuf,
    /// The `station-join` entry.
    pub seq: i64,
    /// Entries checked in full before joining.
    pub checked: i64,
    /// The database's address.
    pub database: String,
    /// Every station of the ledger now.
    pub stations: Vec<crate::ledger::StationInfo>,
}

/// What `custody ledger accept-restore` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// The `ledger-restored` entry.
    pub seq: i64,
    /// How many entries this station had seen.
    pub seen_size: i64,
    /// The hash of the last entry it had seen.
    pub seen_head: String,
    /// How many entries the restored ledger held before the acknowledgement.
    pub restored_size: i64,
    /// Its last entry's hash.
    pub restored_head: String,
}

/// Where `init` lays a ledger that several stations share.
#[derive(Debug, Clone)]
pub struct SharedLedger {
    /// How this station connects from now on (`[database]` in config.toml).
    pub settings: DatabaseSettings,
    /// The address to lay the schema with, as the role that owns it, when stations
    /// connect as another role (the usual case: they may only add entries).
    pub schema_owner: Option<String>,
}

impl SharedLedger {
    fn create(&self, home: &Path) -> Result<Ledger> {
        let Some(target) = self.settings.target() else {
            return Ledger::create(&home.join("ledger.db"));
        };
        match &self.schema_owner {
            None => Ledger::create_shared(&target, None, home),
            Some(owner) => {
                let owner = crate::ledger::Target {
                    url: owner.clone(),
                    ..target.clone()
                };
                drop(Ledger::create_shared(
                    &owner,
                    target.user().as_deref(),
                    home,
                )?);
                Ledger::open_shared(&target, home)
            }
        }
    }
}

/// How a front end obtains the actor's unlocked key when a workflow first needs to
/// write: from the agent, a key file and a passphrase, a prompt.
pub type Unlocker = Box<dyn FnMut(&str) -> Result<Box<dyn Signer>> + Send>;

/// An opened data home.
pub struct Station {
    pub(crate) home: PathBuf,
    pub(crate) config: Config,
    pub(crate) key: StationKey,
    pub(crate) ledger: Ledger,
    pub(crate) actor: Actor,
    /// The actor's unlocked key, which signs every entry this station writes.
    pub(crate) signer: Option<Box<dyn Signer>>,
    /// Unlocks the actor's key the first time a write needs it.
    pub(crate) unlocker: Option<Unlocker>,
    /// The act being prepared for, or signed by, the actor's passkey (the desk).
    pub(crate) passkey: Option<crate::people::passkey::PasskeyAct>,
}

// A front end may keep an opened station between requests, on any thread.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Station>();
};

impl std::fmt::Debug for Station {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Station")
            .field("home", &self.home)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "station".into())
}

impl Station {
    /// Creates a data home at `home` (which must not exist, or be an empty folder):
    /// key pair, config, ledger with its first entries. The actor becomes the first
    /// manager. Everything is built in a temporary folder beside `home` and renamed
    /// into place, so a failure leaves nothing behind.
    ///
    /// `manager_key` is the first manager's new personal key: the `init` entry
    /// records its public half, so that it stands from the first entry on, and every
    /// entry is signed by it. `write_key` writes its secret file where the manager
    /// keeps it, once everything else is ready; a failure after that removes it again.
    pub fn init(
        home: &Path,
        manager_key: &PersonalKey,
        organisation: Option<&str>,
        station: Option<&str>,
        write_key: impl FnOnce() -> Result<PathBuf>,
    ) -> Result<InitReport> {
        Station::init_on(home, manager_key, organisation, station, None, write_key)
    }

    /// Like [`Station::init`], with the ledger in the office's PostgreSQL database
    /// when `shared` says where: its schema is laid into the empty database (as the
    /// role that owns it), and the data home holds the config, the station key and
    /// the witness, never a copy of the ledger.
    pub fn init_on(
        home: &Path,
        manager_key: &PersonalKey,
        organisation: Option<&str>,
        station: Option<&str>,
        shared: Option<&SharedLedger>,
        write_key: impl FnOnce() -> Result<PathBuf>,
    ) -> Result<InitReport> {
        let manager = manager_key.name();
        check_name(manager)?;
        let organisation = organisation
            .unwrap_or("(organisation not set)")
            .trim()
            .to_string();
        let station = station.map(str::to_string).unwrap_or_else(hostname);
        check_name(&station)?;
        if organisation.is_empty() || organisation.chars().any(char::is_control) {
            return Err(Error::BadValue {
                field: Field::Organisation,
                value: organisation,
                rule: Rule::NoControl,
            });
        }
        let tmp = new_home(home)?;
        let keys = private_dir(&tmp.path().join("keys"))?;
        let key = StationKey::generate(&keys, &station)?;
        let mut config = Config::new(&organisation, &station, manager);
        let local = match shared {
            None => Some(Ledger::create(&tmp.path().join("ledger.db"))?),
            Some(shared) => {
                // The schema only: the first entries are written once the home is in
                // place, so that a failure before then leaves an empty schema (which
                // the next attempt takes), never entries signed by a key now gone.
                config.database = shared.settings.clone();
                drop(shared.create(tmp.path())?);
                None
            }
        };
        fs_err::write(tmp.path().join("config.toml"), config.to_template()?)?;
        let public = key.public().clone();
        let personal = manager_key.public();
        let first_entries = |ledger: &mut Ledger| {
            ledger.write(&station, &key, manager_key, |w| {
                w.append(
                    manager,
                    "init",
                    "",
                    &json!({
                        "organisation": organisation,
                        "station": station,
                        "key_id": public.key_id(),
                        "public_key": public.to_base64(),
                        // The first manager's personal key stands from this entry on:
                        // it signs every entry, beginning with this one.
                        "manager_key": {
                            "key_id": personal.key_id(),
                            "public_key": personal.to_base64(),
                        },
                        "custody_version": crate::VERSION,
                        // The retention classes and their legal basis are fixed here,
                        // in the ledger, not in config.toml: a class changes only by a
                        // signed, recorded amendment that may lengthen it, never
                        // shorten.
                        "retention_classes": crate::config::default_classes(),
                    }),
                )?;
                add_person_in(w, manager, manager, Role::Manager, None)
            })
        };
        let id = match local {
            Some(mut ledger) => {
                let id = first_entries(&mut ledger)?;
                drop(ledger);
                let key_file = write_key()?;
                if let Err(e) = move_into_place(tmp, home) {
                    let _ = std::fs::remove_file(&key_file);
                    return Err(e);
                }
                (id, key_file)
            }
            None => {
                let key_file = write_key()?;
                if let Err(e) = move_into_place(tmp, home) {
                    let _ = std::fs::remove_file(&key_file);
                    return Err(e);
                }
                let written = config
                    .database
                    .target()
                    .map(|target| Ledger::open_shared(&target, home))
                    .transpose()
                    .and_then(|ledger| match ledger {
                        Some(mut ledger) => first_entries(&mut ledger),
                        None => Err(Error::NoHome(home.to_path_buf())),
                    });
                match written {
                    Ok(id) => (id, key_file),
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(home);
                        let _ = std::fs::remove_file(&key_file);
                        return Err(e);
                    }
                }
            }
        };
        let (id, key_file) = id;
        Ok(InitReport {
            home: home.to_path_buf(),
            organisation,
            station,
            manager: manager.to_owned(),
            manager_key_id: personal.key_id(),
            manager_key_file: key_file,
            key_id: public.key_id(),
            public_key: home.join("keys/station.pub"),
            id,
        })
    }

    /// Makes a new station of the office ledger that `settings` connect to: a data home
    /// at `home` (which must not exist, or be an empty folder) holding the config, a
    /// new station key and the witness, never a copy of the ledger. The whole chain
    /// is checked first, with every personal signature; then `actor`, a manager with a
    /// confirmed key (unlocked by `unlocker`), records a `station-join` entry naming the
    /// station and its key, signed by their personal key, and the new key signs its
    /// first checkpoint. A failure leaves no data home and no entry.
    pub fn join(
        home: &Path,
        settings: &DatabaseSettings,
        station: &str,
        actor: &str,
        unlocker: Unlocker,
    ) -> Result<JoinReport> {
        check_name(station)?;
        check_name(actor)?;
        let target = settings.target().ok_or_else(|| Error::Config {
            path: home.join("config.toml"),
            problem: ConfigProblem::Setting {
                name: "database.url",
                problem: "a station joins the office database: give its address".into(),
            },
        })?;
        target.check()?;
        let tmp = new_home(home)?;
        let keys = private_dir(&tmp.path().join("keys"))?;
        let key = StationKey::generate(&keys, station)?;
        let ledger = Ledger::open_shared(&target, tmp.path())?;
        let checked = ledger.verify(key.public(), None)?;
        if let Some(taken) = checked.stations.iter().find(|s| s.name == station) {
            return Err(Error::Duplicate {
                field: Field::Station,
                value: station.to_owned(),
                existing: format!("since entry {} (key {})", taken.since, taken.key_id),
            });
        }
        // The chain was just checked in full: it is this station's first witness.
        ledger.witness(&checked);
        let organisation = ledger
            .entries(&LogFilter {
                kind: Some("init".into()),
                ..LogFilter::default()
            })?
            .into_iter()
            .find(|e| e.seq == 1)
            .and_then(|e| {
                e.payload
                    .as_ref()
                    .and_then(|p| p.get("organisation"))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "(organisation not set)".into());
        let database = ledger.path().display().to_string();
        drop(ledger);
        let mut config = Config::new(&organisation, station, actor);
        config.database = settings.clone();
        fs_err::write(tmp.path().join("config.toml"), config.to_template()?)?;
        move_into_place(tmp, home)?;
        let joined = Station::open_joining(home, actor).and_then(|mut joined| {
            joined.set_unlocker(unlocker);
            let seq = joined.record_join()?;
            Ok((joined, seq))
        });
        let (joined, seq) = match joined {
            Ok(done) => done,
            Err(e) => {
                let _ = std::fs::remove_dir_all(home);
                return Err(e);
            }
        };
        // The station has joined: a failure to list the stations now changes nothing.
        let stations = joined
            .ledger
            .stations(joined.key.public())
            .map(|all| all.into_iter().map(|(info, _)| info).collect())
            .unwrap_or_default();
        Ok(JoinReport {
            home: home.to_path_buf(),
            organisation,
            station: station.to_owned(),
            manager: joined.actor.name.clone(),
            key_id: joined.key.public().key_id(),
            public_key: home.join("keys/station.pub"),
            seq,
            checked: checked.entries,
            database,
            stations,
        })
    }

    /// Records the `station-join` entry of this station, signed by the actor (a
    /// manager); its checkpoint is the new station key's first.
    fn record_join(&mut self) -> Result<i64> {
        self.actor
            .require_role(&[Role::Manager], "join a station to the office ledger")?;
        let actor = self.actor.name.clone();
        let station = self.config.station.clone();
        let public = self.key.public().clone();
        self.write_in(Mode::Joining, |w, _| {
            let appended = w.append(
                &actor,
                "station-join",
                "",
                &json!({
                    "station": station,
                    "key_id": public.key_id(),
                    "public_key": public.to_base64(),
                    "custody_version": crate::VERSION,
                }),
            )?;
            Ok(appended.seq)
        })
    }

    /// Opens the data home at `home` for the person named `actor` (usually
    /// [`crate::people::actor_name`]).
    pub fn open(home: &Path, actor: &str) -> Result<Station> {
        Station::open_as(home, actor, false)
    }

    /// Opens the data home of a station that is joining the ledger (its key not yet
    /// registered).
    fn open_joining(home: &Path, actor: &str) -> Result<Station> {
        Station::open_as(home, actor, true)
    }

    fn open_as(home: &Path, actor: &str, joining: bool) -> Result<Station> {
        check_name(actor)?;
        let config_path = home.join("config.toml");
        if !config_path.is_file() {
            return Err(Error::NoHome(home.to_path_buf()));
        }
        let config = Config::load(&config_path)?;
        let key = StationKey::load(&home.join("keys"))?;
        let ledger = match config.database.target() {
            Some(target) => Ledger::open_shared(&target, home)?,
            None => Ledger::open(&home.join("ledger.db"))?,
        };
        if joining {
            ledger.set_joining();
        }
        let mut station = Station {
            home: home.to_path_buf(),
            config,
            key,
            ledger,
            actor: Actor {
                name: actor.to_string(),
                role: None,
            },
            signer: None,
            unlocker: None,
            passkey: None,
        };
        // The name as registered, when the person typed another spelling of it.
        // Names and roles only: opening a ledger whose entries were tampered with must
        // still work, so that verify can say where.
        let people = station.registered()?;
        if !people.iter().any(|p| p.name == actor)
            && let Some(person) = people
                .into_iter()
                .find(|p| crate::people::name_key(&p.name) == crate::people::name_key(actor))
        {
            station.actor.name = person.name;
        }
        station.actor.role = station.role_of(&station.actor.name)?;
        station.check_people_mirror()?;
        Ok(station)
    }

    fn check_people_mirror(&mut self) -> Result<()> {
        let ledger = self.registered()?;
        for person in &self.config.people {
            if !ledger.contains(person) {
                return Err(Error::Config {
                    path: self.home.join("config.toml"),
                    problem: ConfigProblem::PersonNotInLedger {
                        name: person.name.clone(),
                        role: person.role.to_string(),
                    },
                });
            }
        }
        if ledger.len() != self.config.people.len() {
            // A crash between the ledger commit and the mirror's rewrite: repair.
            Config::write_people(&self.home.join("config.toml"), &ledger)?;
            self.config.people = ledger;
        }
        Ok(())
    }

    /// The data home.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Who is running this command.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The ledger, for reading.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The station's signing key.
    pub fn key(&self) -> &StationKey {
        &self.key
    }

    /// Gives the station the way to unlock the actor's key when a write first needs
    /// it.
    pub fn set_unlocker(&mut self, unlocker: Unlocker) {
        self.unlocker = Some(unlocker);
    }

    /// The key that signs this station's writes, unlocking it first if needed.
    fn signer(&mut self) -> Result<&dyn Signer> {
        self.unlock_now()?;
        match self.signer.as_deref() {
            Some(signer) => Ok(signer),
            None => Err(self.locked()),
        }
    }

    /// Runs `f` in one ledger transaction, each entry signed by the actor's key,
    /// signing a checkpoint when it appended. Refused, with nothing written, when the
    /// actor's key cannot be unlocked.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        self.write_signed(|w, _| f(w))
    }

    /// Runs `f` in one transaction signed by `key`, which need not stand yet: for
    /// the enrolment that records it.
    pub(crate) fn write_as<T>(
        &mut self,
        key: &dyn Signer,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T>,
    ) -> Result<T> {
        self.ledger.write(&self.config.station, &self.key, key, f)
    }

    /// Like [`Station::write`], also handing the station key to `f` (for signing
    /// certificates in the same transaction).
    pub(crate) fn write_signed<T>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>, &StationKey) -> Result<T>,
    ) -> Result<T> {
        self.write_in(Mode::Append, f)
    }

    /// Like [`Station::write_signed`], for a transaction of another `mode` (a
    /// station joining, a restore acknowledged).
    fn write_in<T>(
        &mut self,
        mode: Mode,
        f: impl FnOnce(&mut Writer<'_>, &StationKey) -> Result<T>,
    ) -> Result<T> {
        if let Some(act) = &self.passkey {
            let signer = crate::ledger::ActSigner::Passkey(act);
            let key = &self.key;
            return self
                .ledger
                .write_with(&self.config.station, key, signer, mode, |w| f(w, key));
        }
        self.signer()?;
        let Station {
            ledger,
            config,
            key,
            signer,
            ..
        } = self;
        let signer = signer.as_deref().ok_or_else(|| Error::Locked {
            actor: String::new(),
            looked: PathBuf::new(),
            exists: false,
        })?;
        ledger.write_at(&config.station, key, signer, mode, |w| f(w, key))
    }

    /// Refuses paths inside the data home: its ledger, keys and certificates are never
    /// wiped, shredded or retained as ordinary files. By name here (a folder holding
    /// the home, a path inside it); by device and inode (a hard link to the ledger)
    /// in [`Station::refuse_data_home_files`] and the wipe checks.
    pub(crate) fn refuse_data_home<P: AsRef<Path>>(&self, paths: &[P]) -> Result<()> {
        let home = fs_err::canonicalize(&self.home)?;
        for path in paths {
            let path = path.as_ref();
            let resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            if resolved.starts_with(&home) || home.starts_with(&resolved) {
                return Err(Error::DataHome {
                    path: path.to_path_buf(),
                    home,
                    inside: None,
                });
            }
        }
        Ok(())
    }

    /// Refuses any of `files` that is a file of the data home under another name (a
    /// hard link), by device and inode number.
    pub(crate) fn refuse_data_home_files<P: AsRef<Path>>(&self, files: &[P]) -> Result<()> {
        let protected = crate::erasure::protected_home(&self.home)?;
        for file in files {
            let file = file.as_ref();
            let meta = fs_err::metadata(file)?;
            if let Some(inside) = protected.find(custody_wipe::Identity::of(&meta)) {
                return Err(Error::DataHome {
                    path: file.to_path_buf(),
                    home: self.home.clone(),
                    inside: Some(inside.to_path_buf()),
                });
            }
        }
        Ok(())
    }

    /// The role of `name`, if registered: taken from the proven entries that
    /// registered them, never from the table alone (a role edited into the table is
    /// refused as tampering).
    pub fn role_of(&self, name: &str) -> Result<Option<Role>> {
        let row: Option<(String, String)> = self.ledger.db().one(
            "SELECT role, id FROM people WHERE name = ?1",
            args![name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let Some((role, id)) = row else {
            return Ok(None);
        };
        let mut prover = self.ledger.prover(self.key.public());
        let derived = prover
            .about(&id)?
            .iter()
            .filter(|e| {
                matches!(e.kind.as_str(), "person-add" | "person-role")
                    && prove::field(e, "name") == Some(name)
            })
            .filter_map(|e| prove::field(e, "role").map(str::to_owned))
            .next_back();
        prove::backed("people", name, &[("role", Some(role.clone()), derived)])?;
        Role::parse(&role).map(Some)
    }

    /// Everyone registered, in order of registration.
    pub fn people(&self) -> Result<Vec<Person>> {
        self.ledger.db().map(
            "SELECT p.name, p.role, p.id, e.at, p.seq FROM people p JOIN entries e ON e.seq = p.seq ORDER BY p.seq",
            &[],
            |r| {
                Ok(Person {
                    name: r.get(0)?,
                    role: r.get(1)?,
                    id: r.get(2)?,
                    // A time that is not one is a changed entry: say which.
                    since: r.get(3).map_err(|_| Error::Tampered {
                        seq: r.get(4).unwrap_or(0),
                        problem: "the entry's time is not a time (an entry was changed)".into(),
                    })?,
                })
            },
        )
    }

    /// The names and roles registered, in order of registration: the `config.toml`
    /// mirror's view.
    fn registered(&self) -> Result<Vec<PersonEntry>> {
        self.ledger.db().map(
            "SELECT name, role FROM people WHERE removed_seq IS NULL ORDER BY seq",
            &[],
            |r| {
                Ok(PersonEntry {
                    name: r.get(0)?,
                    role: r.get(1)?,
                })
            },
        )
    }

    /// Registers a person (managers only), with their department when given;
    /// returns their record id.
    pub fn add_person(
        &mut self,
        name: &str,
        role: Role,
        department: Option<&str>,
    ) -> Result<RecordId> {
        self.actor.require_role(&[Role::Manager], "add people")?;
        check_name(name)?;
        if let Some(department) = department {
            crate::people::register::check_department(department)?;
        }
        if let Some(existing) = self.role_of(name)? {
            return Err(Error::Duplicate {
                field: Field::Person,
                value: name.to_owned(),
                existing: format!("as {existing}"),
            });
        }
        // One person, one name: no second spelling of a registered name, and no name
        // that looks like one (through which a manager could approve their own
        // requests).
        for person in self.people()? {
            if let Some(why) = crate::people::clash(name, &person.name) {
                return Err(Error::NameClash {
                    name: name.to_owned(),
                    why,
                    existing: person.name,
                    role: person.role,
                });
            }
        }
        let actor = self.actor.name.clone();
        let id = self.write(|w| add_person_in(w, &actor, name, role, department))?;
        self.rewrite_people_mirror()?;
        Ok(id)
    }

    /// Rewrites the `config.toml` mirror of the people register.
    pub(crate) fn rewrite_people_mirror(&mut self) -> Result<()> {
        let mirror = self.registered()?;
        Config::write_people(&self.home.join("config.toml"), &mirror)?;
        self.config.people = mirror;
        Ok(())
    }

    /// Says whether `text` can be a note (what [`Station::note`] and
    /// [`Station::notes`] refuse), without recording anything.
    pub fn check_note(text: &str) -> Result<()> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 4000 {
            return Err(note_length(text));
        }
        Ok(())
    }

    /// Appends an operation record (運用状況記録); returns its id.
    pub fn note(&mut self, text: &str) -> Result<RecordId> {
        self.actor.require_writer("record a note")?;
        Station::check_note(text)?;
        let text = text.trim();
        let actor = self.actor.name.clone();
        self.write(|w| {
            let (id, _) = w.create_record(&actor, "note", "NT", json!({ "text": text }))?;
            Ok(id)
        })
    }

    /// Appends many operation records in one transaction (transcribing a paper
    /// register, importing a day's notes); returns their ids. All or none are recorded.
    pub fn notes(&mut self, texts: &[String]) -> Result<Vec<RecordId>> {
        self.actor.require_writer("record notes")?;
        for (line, text) in texts.iter().enumerate() {
            Station::check_note(text).map_err(|error| Error::InLine {
                line: line + 1,
                error: Box::new(error),
            })?;
        }
        let actor = self.actor.name.clone();
        self.write(|w| {
            texts
                .iter()
                .map(|text| {
                    w.create_record(&actor, "note", "NT", json!({ "text": text.trim() }))
                        .map(|(id, _)| id)
                })
                .collect()
        })
    }

    /// Entries matching `filter`.
    pub fn log(&self, filter: &LogFilter) -> Result<Vec<Entry>> {
        self.ledger.entries(filter)
    }

    /// The latest signed checkpoint as a block to keep outside the machine.
    pub fn head(&self) -> Result<HeadBlock> {
        let checkpoint = self
            .ledger
            .latest_checkpoint()?
            .ok_or_else(|| Error::Tampered {
                seq: 0,
                problem: "the ledger has no signed checkpoint".into(),
            })?;
        Ok(HeadBlock {
            station: checkpoint.station,
            size: checkpoint.size,
            head: checkpoint.head,
            at: checkpoint.at,
            signature: checkpoint.signature,
        })
    }

    /// Verifies the whole ledger: against the station key (or the public key in
    /// `key_file`, one kept outside the machine), which must be the key the `init`
    /// entry registered; against the last head this station verified; and against an
    /// earlier head block read from `against`. A successful check becomes this
    /// station's witness.
    pub fn verify(&self, against: Option<&Path>, key_file: Option<&Path>) -> Result<VerifyReport> {
        let report = self.verify_ledger(&self.ledger, against, key_file, false)?;
        self.ledger.witness(&report);
        Ok(report)
    }

    /// Like [`Station::verify`], of the copy of the office ledger in the database at
    /// `url` (a streaming replica, for auditors), with this station's keys and
    /// witness: the copy must extend the head this station saw. The password comes
    /// from this station's password file. The witness is left as it is.
    pub fn verify_copy(
        &self,
        url: &str,
        against: Option<&Path>,
        key_file: Option<&Path>,
    ) -> Result<VerifyReport> {
        let config_path = self.home.join("config.toml");
        if !self.ledger.is_shared() {
            return Err(Error::Config {
                path: config_path,
                problem: ConfigProblem::Setting {
                    name: "database.url",
                    problem: "this station's ledger is a file, not the office database: a copy of the office ledger is verified at one of its stations".into(),
                },
            });
        }
        let settings = DatabaseSettings {
            url: Some(url.to_owned()),
            ..self.config.database.clone()
        };
        let target = settings
            .target()
            .ok_or_else(|| Error::NoHome(self.home.clone()))?;
        target.check()?;
        let copy = Ledger::open_shared(&target, &self.home)?;
        self.verify_ledger(&copy, against, key_file, true)
    }

    /// Verifies `ledger`: this station's, or (`copy`) a copy of it that may lag
    /// behind what this station saw (a replica catching up), which is then said,
    /// not taken for a removal.
    fn verify_ledger(
        &self,
        ledger: &Ledger,
        against: Option<&Path>,
        key_file: Option<&Path>,
        copy: bool,
    ) -> Result<VerifyReport> {
        let block = match against {
            Some(path) => Some(HeadBlock::parse(&fs_err::read_to_string(path)?)?),
            None => None,
        };
        let outside = key_file.map(StationPublicKey::load).transpose()?;
        let key = outside.as_ref().unwrap_or(self.key.public());
        if let Some(outside) = &outside
            && outside.key_id() != self.key.public().key_id()
        {
            return Err(Error::Tampered {
                seq: 0,
                problem: format!(
                    "the data home's station key ({}) is not the key you gave ({}): its key pair was replaced, or this is another station",
                    self.key.public().key_id(),
                    outside.key_id()
                ),
            });
        }
        crate::ledger::check_registered_key(ledger.db(), &self.config.station, key, false)
            .map_err(|problem| Error::Tampered { seq: 1, problem })?;
        let lagging = match ledger.seen() {
            Some((seen, _)) if copy && seen > ledger.size()? => Some(seen),
            _ => None,
        };
        let witnessed = match lagging {
            Some(_) => None,
            None => ledger.check_witness()?,
        };
        let mut report = ledger.verify(key, block.as_ref())?;
        report.behind_witness = lagging;
        let seen = ledger.seen_witness();
        if let Some(w) = &seen {
            crate::ledger::check_anchor(w, report.anchor.as_ref())?;
        }
        if lagging.is_some() {
            // A copy behind this station: its head must be the entry this station's
            // own database holds at that place.
            let own: Option<String> = self.ledger.db().value(
                "SELECT hash FROM entries WHERE seq = ?1",
                args![report.entries],
            )?;
            if own.as_deref() != Some(report.head.as_str()) {
                return Err(Error::Tampered {
                    seq: report.entries,
                    problem: format!(
                        "the copy's last entry has hash {}, but the office ledger holds {} there: the copy is not a copy of it",
                        report.head,
                        own.as_deref().unwrap_or("nothing")
                    ),
                });
            }
        }
        report.restore_acknowledged = ledger.restore_acknowledged();
        // The quick look above read the registration; the full check proved it.
        if !report
            .stations
            .iter()
            .any(|s| s.name == self.config.station && s.key_id == key.key_id())
        {
            return Err(Error::Tampered {
                seq: 1,
                problem: format!(
                    "station {} with key {} is not registered in this ledger (a manager adds a station with custody station join)",
                    self.config.station,
                    key.key_id()
                ),
            });
        }
        report.witnessed = witnessed;
        Ok(report)
    }

    /// Acknowledges a restored copy of the ledger (managers): one that no longer
    /// extends the head this station saw, because a backup was restored. The whole
    /// chain as it is now is checked (every hash, signature, checkpoint and register);
    /// then the manager's signed `ledger-restored` entry records what this station
    /// had seen, what the ledger now holds and why; it becomes this station's
    /// witness. Other stations whose head predates the entry take the restored
    /// ledger too, after checking it in full. `reason` says what happened (which
    /// backup, why).
    pub fn accept_restore(&mut self, reason: &str) -> Result<RestoreReport> {
        self.actor
            .require_role(&[Role::Manager], "acknowledge a restored ledger")?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 4000 {
            return Err(Error::BadValue {
                field: Field::Reason,
                value: reason.chars().take(40).collect(),
                rule: Rule::Length { min: 1, max: 4000 },
            });
        }
        crate::ledger::check_field(Field::Reason, reason)?;
        let nothing = || Error::Nothing {
            what: crate::error::Nothing::ToAcknowledge,
        };
        let seen = self.ledger.seen().ok_or_else(nothing)?;
        if self.ledger.check_witness().is_ok() {
            return Err(nothing());
        }
        let now = self.ledger.verify(self.key.public(), None)?;
        let actor = self.actor.name.clone();
        let seq = self.write_in(Mode::AcceptingRestore, |w, _| {
            let appended = w.append(
                &actor,
                "ledger-restored",
                "",
                &json!({
                    "seen_size": seen.0,
                    "seen_head": seen.1,
                    "restored_size": now.entries,
                    "restored_head": now.head,
                    "reason": reason,
                }),
            )?;
            Ok(appended.seq)
        })?;
        Ok(RestoreReport {
            seq,
            seen_size: seen.0,
            seen_head: seen.1,
            restored_size: now.entries,
            restored_head: now.head,
        })
    }

    /// Moves this desk's ledger into the office's database (managers): checks the
    /// whole chain first, lays the schema into the empty database, copies every row
    /// as it is in one transaction, verifies the copy there (the same entries, the
    /// same head, every register rebuilt), then points config.toml at the database
    /// and leaves the file in place, read-only, as the archive. Nothing changes here
    /// unless every step succeeded.
    pub fn migrate_to(self, shared: &SharedLedger) -> Result<MigrateReport> {
        self.actor
            .require_role(&[Role::Manager], "move the ledger into the office database")?;
        let config_path = self.home.join("config.toml");
        if self.ledger.is_shared() {
            return Err(Error::Config {
                path: config_path,
                problem: ConfigProblem::Setting {
                    name: "database.url",
                    problem: "the ledger is already in the office database".into(),
                },
            });
        }
        let before = self.verify(None, None)?;
        let target = shared.create(&self.home)?;
        let mut ledger = self.ledger;
        let (rows, after) = ledger.copy_into(
            &target,
            self.key.public(),
            (before.entries, &before.head),
            || Config::write_database(&config_path, &shared.settings),
        )?;
        let database = target.path().display().to_string();
        let archive = ledger.archive((after.entries, &after.head))?;
        Ok(MigrateReport {
            entries: after.entries,
            head: after.head,
            rows,
            projection_rows: after.projection_rows,
            database,
            archive,
        })
    }

    /// The station's public key.
    pub fn public_key(&self) -> &StationPublicKey {
        self.key.public()
    }
}

fn add_person_in(
    w: &mut Writer<'_>,
    actor: &str,
    name: &str,
    role: Role,
    department: Option<&str>,
) -> Result<RecordId> {
    let mut payload = json!({ "name": name, "role": role.as_str() });
    if let Some(department) = department {
        payload["department"] = department.trim().into();
    }
    let (id, _) = w.create_record(actor, "person-add", "PE", payload)?;
    Ok(id)
}

/// A temporary folder beside `home`, to build a data home in and rename into place;
/// `home` must not exist, or be an empty folder.
fn new_home(home: &Path) -> Result<tempfile::TempDir> {
    if home.exists() {
        let empty = home.is_dir() && fs_err::read_dir(home)?.next().is_none();
        if !empty {
            return Err(Error::HomeExists(home.to_path_buf()));
        }
    }
    let parent = match home.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&parent)?;
    tempfile::Builder::new()
        .prefix(".custody-init-")
        .tempdir_in(&parent)
        .map_err(|e| Error::File {
            path: parent.to_path_buf(),
            source: e,
        })
}

/// Creates a folder only its owner can read (0700).
fn private_dir(path: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| Error::File {
            path: path.to_path_buf(),
            source: e,
        })?;
    Ok(path.to_path_buf())
}

/// Renames the finished data home from its temporary folder into place (0700); on
/// failure the temporary folder is removed and nothing is left at `home`.
fn move_into_place(tmp: tempfile::TempDir, home: &Path) -> Result<()> {
    {
        use std::os::unix::fs::PermissionsExt;
        // Still owned by `tmp`: a failure here removes it.
        fs_err::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    let dir = tmp.keep();
    if let Err(e) = std::fs::rename(&dir, home) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(if home.exists() {
            Error::HomeExists(home.to_path_buf())
        } else {
            Error::File {
                path: home.to_path_buf(),
                source: e,
            }
        });
    }
    Ok(())
}

/// A note of the wrong length.
fn note_length(text: &str) -> Error {
    Error::BadValue {
        field: Field::Note,
        value: text.chars().take(40).collect(),
        rule: Rule::Length { min: 1, max: 4000 },
    }
}
