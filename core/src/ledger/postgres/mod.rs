//! The PostgreSQL backend: the office's one ledger, shared by several stations.
//!
//! [`Db`] is a connection to the database; [`DbTx`] one write transaction on it. Both
//! run the portable statements of [`super::store::Query`], translated on the way:
//! `?N` becomes `$N`, the schema `main` is `custody`, and the scratch schema that
//! `verify` rebuilds the projections in is the session's own temporary schema.
//! Parameters and columns are converted by the types PostgreSQL infers for them, so
//! the statements stay the ones SQLite runs.
//!
//! # Locking
//!
//! Every write transaction first takes a transaction-scoped advisory lock
//! ([`APPEND_LOCK`]) and only then reads the head: appends from every station and
//! process serialize inside the database, so two can never extend the same head. The
//! lock is released by the commit or the rollback, also when the process dies
//! (the server ends its session). A writer waits at most [`super::BUSY_TIMEOUT`].
//!
//! # The connection
//!
//! The address is a `postgres://` URL without a password. The password comes from a
//! password file in PostgreSQL's own format (`host:port:database:user:password`):
//! the one `password_file` in config.toml names, else `PGPASSFILE`, else
//! `~/.pgpass`. It is never read from the URL, the config itself or the command line,
//! and never written anywhere; the file's text is zeroized once read (the client's
//! own copy lives as long as connecting). Connecting gives up after the
//! configured timeout, so a station never hangs on a server that is gone.
//!
//! `CUSTODY_DEBUG_SQL=1` prints, in PostgreSQL's words, a statement the server
//! refused to prepare (never its parameters): for porting a statement that only
//! SQLite understood.

pub(crate) mod schema;

use std::cell::{Cell as Flag, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};
use zeroize::Zeroizing;

use super::store::{Backend, Cell, Query, Row};
use crate::error::{Error, Result, StorageError};

/// The advisory lock every append takes ("custody" in ASCII).
pub(crate) const APPEND_LOCK: i64 = 0x0063_7573_746f_6479;

/// Where a station's ledger is, and how it connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `postgres://user@host:port/database?…`, without a password.
    pub url: String,
    /// A password file in PostgreSQL's format; else `PGPASSFILE`, else `~/.pgpass`.
    pub password_file: Option<PathBuf>,
    /// How long connecting may take.
    pub connect_timeout: Duration,
}

impl Target {
    /// Whether `text` names a PostgreSQL database rather than a file.
    pub fn is_postgres(text: &str) -> bool {
        text.starts_with("postgres://") || text.starts_with("postgresql://")
    }

    /// Checks the address: a `postgres://` URL that PostgreSQL's rules parse, with
    /// no password in it.
    pub fn check(&self) -> Result<()> {
        let address = self.address();
        if !Target::is_postgres(&self.url) {
            return Err(refused(
                &address,
                "the address is not a postgres:// URL".into(),
            ));
        }
        let (url, _) = split_tls(&self.url).map_err(|problem| refused(&address, problem))?;
        let config: postgres::Config = url.parse().map_err(storage(&address))?;
        if config.get_password().is_some() {
            return Err(refused(
                &address,
                "the address holds a password; remove it and put the password in a password file (PGPASSFILE)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The address as messages show it. One that holds a password is shown rebuilt
    /// from what PostgreSQL's parser reads in it (role, hosts, ports, database), the
    /// password as `***`; one the parser cannot read is not shown at all.
    pub fn address(&self) -> PathBuf {
        let parsed = tls_settings(&self.url).0.parse::<postgres::Config>().ok();
        let config: postgres::Config = match parsed {
            Some(config) if Target::is_postgres(&self.url) => config,
            _ => {
                let scheme = self.url.split("://").next().unwrap_or_default();
                let scheme: String = scheme.chars().take(12).collect();
                return PathBuf::from(format!("{scheme}://… (an address that cannot be read)"));
            }
        };
        if config.get_password().is_none() {
            return PathBuf::from(&self.url);
        }
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let name = match host {
                    postgres::config::Host::Tcp(name) => name.clone(),
                    postgres::config::Host::Unix(path) => path.display().to_string(),
                };
                match config.get_ports().get(i) {
                    Some(port) => format!("{name}:{port}"),
                    None => name,
                }
            })
            .collect();
        PathBuf::from(format!(
            "postgres://{}:***@{}/{}",
            config.get_user().unwrap_or_default(),
            hosts.join(","),
            config.get_dbname().unwrap_or_default()
        ))
    }

    /// The role the address connects as, when it names one.
    pub fn user(&self) -> Option<String> {
        let config: postgres::Config = tls_settings(&self.url).0.parse().ok()?;
        config.get_user().map(str::to_owned)
    }
}

/// How a station's connection is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tls {
    /// No TLS (`sslmode` disable, allow or prefer, or none): over a unix socket, or a
    /// network the office trusts.
    Off,
    /// TLS, the server's certificate checked against the authorities in this file
    /// and its name against the address's host (`sslmode=verify-full`).
    VerifyFull(PathBuf),
}

/// Splits the TLS settings that libpq reads from an address's query (`sslmode`,
/// `sslrootcert`) off the rest, which the client's parser reads. Only
/// `verify-full` turns TLS on: a TLS connection whose server is not checked
/// (`require`, `verify-ca`) is refused, as it can be intercepted unseen.
fn split_tls(url: &str) -> std::result::Result<(String, Tls), String> {
    let (rest, mode, roots) = tls_settings(url);
    let tls = match mode.as_deref() {
        None | Some("disable" | "allow" | "prefer") => Tls::Off,
        Some("verify-full") => {
            let roots = roots
                .or_else(|| {
                    std::env::var_os("HOME")
                        .map(|home| PathBuf::from(home).join(".postgresql/root.crt"))
                        .filter(|path| path.is_file())
                })
                .ok_or(
                    "sslmode=verify-full needs the certificate of the authority that signed the server's: add sslrootcert=/path/to/ca.pem to the address, or put it in ~/.postgresql/root.crt",
                )?;
            Tls::VerifyFull(roots)
        }
        Some(mode @ ("require" | "verify-ca")) => {
            return Err(format!(
                "sslmode={mode} does not check that the server is the one named in the address; use sslmode=verify-full with sslrootcert=/path/to/ca.pem (docs/postgres.md)"
            ));
        }
        Some(other) => {
            return Err(format!(
                "sslmode={other} is not a mode PostgreSQL knows; use sslmode=verify-full across a network"
            ));
        }
    };
    Ok((rest, tls))
}

/// The address without `sslmode` and `sslrootcert`, and their values.
fn tls_settings(url: &str) -> (String, Option<String>, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None, None);
    };
    let mut kept = Vec::new();
    let (mut mode, mut roots) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("sslmode", value)) => mode = Some(value.to_owned()),
            Some(("sslrootcert", value)) => roots = Some(PathBuf::from(percent_decoded(value))),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, mode, roots)
}

/// `%XX` escapes decoded (a path in an address's query).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A TLS connector (rustls) that trusts only the authorities in the PEM file `roots`
/// and checks the server's name against the address's host.
fn verifying_connector(
    roots: &Path,
    address: &Path,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let unreadable = |why: String| {
        refused(
            address,
            format!(
                "the authorities' certificates in {} (sslrootcert) cannot be read: {why}",
                roots.display()
            ),
        )
    };
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(roots).map_err(|e| unreadable(e.to_string()))? {
        let cert = cert.map_err(|e| unreadable(e.to_string()))?;
        store.add(cert).map_err(|e| unreadable(e.to_string()))?;
    }
    if store.is_empty() {
        return Err(unreadable("it holds no certificate".into()));
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| unreadable(e.to_string()))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn storage(address: &Path) -> impl Fn(postgres::Error) -> Error + '_ {
    move |source| Error::Storage {
        path: address.to_path_buf(),
        source: StorageError::new(source),
    }
}

fn refused(address: &Path, problem: String) -> Error {
    Error::Storage {
        path: address.to_path_buf(),
        source: StorageError::new(std::io::Error::other(problem)),
    }
}

/// The connection to the ledger's database.
pub(crate) struct Db {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    address: PathBuf,
    in_transaction: Flag<bool>,
}

impl Db {
    /// Connects to `target`, whose database must hold a ledger, applying any
    /// migrations it lacks (which only the schema's owner can).
    pub(crate) fn open(target: &Target) -> Result<Db> {
        let db = Db::connect(target)?;
        let version = db.version()?.ok_or_else(|| {
            refused(
                &db.address,
                "the database holds no custody ledger (run custody init --database with this address first)"
                    .into(),
            )
        })?;
        db.migrate(version, None)?;
        Ok(db)
    }

    /// Lays the schema into `target`'s empty database, granting the role stations
    /// connect as (`station_role`, by default the role connecting) what it may do.
    pub(crate) fn create(target: &Target, station_role: Option<&str>) -> Result<Db> {
        let db = Db::connect(target)?;
        let role = match station_role {
            Some(role) => role.to_owned(),
            None => db
                .value::<String>("SELECT current_user::text", &[])?
                .unwrap_or_default(),
        };
        if let Some(version) = db.version()? {
            // A schema laid by an `init` or a `ledger migrate` that failed before its
            // first entry is taken as it is, when this role owns it, it grants the
            // same station role, and every table is empty. A ledger is never laid over.
            let rows: i64 = ["entries", "payloads", "signatures", "checkpoints"]
                .iter()
                .chain(super::project::TABLES.iter().map(|(table, _)| table))
                .map(|table| {
                    db.value::<i64>(&format!("SELECT COUNT(*) FROM custody.{table}"), &[])
                        .map(|n| n.unwrap_or(0))
                })
                .sum::<Result<i64>>()?;
            if rows > 0 {
                return Err(refused(
                    &db.address,
                    "the database already holds a custody ledger; custody never lays a second one over it"
                        .into(),
                ));
            }
            let owner: Option<String> = db.value(
                "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'custody'",
                &[],
            )?;
            let me: Option<String> = db.value("SELECT current_user::text", &[])?;
            let granted: Option<String> =
                db.value("SELECT station_role FROM custody.schema_version", &[])?;
            if owner != me || granted.as_deref() != Some(role.as_str()) {
                return Err(refused(
                    &db.address,
                    format!(
                        "the database holds an empty custody schema owned by {} for the station role {}; drop the schema custody (as its owner) and try again",
                        owner.unwrap_or_default(),
                        granted.unwrap_or_default()
                    ),
                ));
            }
            db.migrate(version, None)?;
            return Ok(db);
        }
        let tables: i64 = db
            .value(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
                &[],
            )?
            .unwrap_or(0);
        if tables > 0 {
            return Err(refused(
                &db.address,
                format!(
                    "the database is not empty ({tables} tables); give custody a database of its own"
                ),
            ));
        }
        db.migrate(0, Some(&role))?;
        Ok(db)
    }

    fn connect(target: &Target) -> Result<Db> {
        let address = target.address();
        target.check()?;
        let (url, tls) = split_tls(&target.url).map_err(|problem| refused(&address, problem))?;
        let mut config: postgres::Config = url.parse().map_err(storage(&address))?;
        config.connect_timeout(target.connect_timeout);
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        config.application_name("custody");
        if let Some(password) = password_for(&config, target.password_file.as_deref())? {
            config.password(password.as_bytes());
        }
        let client = match &tls {
            Tls::Off => config.connect(NoTls).map_err(storage(&address)),
            Tls::VerifyFull(roots) => {
                config.ssl_mode(postgres::config::SslMode::Require);
                config
                    .connect(verifying_connector(roots, &address)?)
                    .map_err(|e| match e.to_string() {
                        why if why.contains("invalid peer certificate") => refused(
                            &address,
                            format!(
                                "{why}: the server's certificate is not one to trust. Check that sslrootcert names the authority that signed it and that the address names the server as its certificate does"
                            ),
                        ),
                        _ => storage(&address)(e),
                    })
            }
        }?;
        // The password is in the config's own copy only as long as connecting.
        drop(config);
        let db = Db {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            address,
            in_transaction: Flag::new(false),
        };
        let lock_wait = super::BUSY_TIMEOUT.as_millis();
        db.batch(&format!(
            "SET search_path = custody, pg_temp; SET lock_timeout = {lock_wait}; SET TIME ZONE 'UTC'"
        ))?;
        Ok(db)
    }

    fn batch(&self, sql: &str) -> Result<()> {
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(storage(&self.address))
    }

    /// The schema version, or `None` when the database holds no ledger.
    fn version(&self) -> Result<Option<i64>> {
        let exists: bool = self
            .value::<bool>(
                "SELECT to_regclass('custody.schema_version') IS NOT NULL",
                &[],
            )?
            .unwrap_or(false);
        if !exists {
            return Ok(None);
        }
        self.value("SELECT version FROM custody.schema_version", &[])
    }

    fn migrate(&self, version: i64, station_role: Option<&str>) -> Result<()> {
        let latest = schema::MIGRATIONS.len() as i64;
        if version > latest {
            return Err(Error::DatabaseTooNew {
                path: self.address.clone(),
                found: version,
                supported: latest,
            });
        }
        if version == latest {
            return Ok(());
        }
        self.batch("BEGIN")?;
        let applied = (|| -> Result<()> {
            self.batch(&format!("SELECT pg_advisory_xact_lock({APPEND_LOCK})"))?;
            let role = match station_role {
                Some(role) => {
                    self.batch(
                        "CREATE SCHEMA custody; \
                         CREATE TABLE custody.schema_version (version BIGINT NOT NULL, station_role TEXT NOT NULL); \
                         INSERT INTO custody.schema_version VALUES (0, '');",
                    )?;
                    self.execute(
                        "UPDATE custody.schema_version SET station_role = ?1",
                        &[Cell::Text(role.to_owned())],
                    )?;
                    role.to_owned()
                }
                None => self
                    .value::<String>("SELECT station_role FROM custody.schema_version", &[])?
                    .unwrap_or_default(),
            };
            // Another station may have migrated while this one waited for the lock.
            let now: i64 = self
                .value("SELECT version FROM custody.schema_version", &[])?
                .unwrap_or(0);
            for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(now as usize) {
                let sql = sql
                    .replace("TXT", schema::TEXT)
                    .replace("{station}", &quote_ident(&role));
                self.batch(&sql)?;
                self.execute(
                    "UPDATE custody.schema_version SET version = ?1",
                    &[Cell::Int(i as i64 + 1)],
                )?;
            }
            Ok(())
        })();
        match applied {
            Ok(()) => self.batch("COMMIT"),
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Starts a write transaction that holds the append lock from the start.
    pub(crate) fn begin(&self) -> Result<DbTx<'_>> {
        // One round trip: the lock is taken inside the transaction it serializes.
        self.in_transaction.set(true);
        let tx = DbTx { db: self };
        tx.db.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({APPEND_LOCK})"
        ))?;
        Ok(tx)
    }

    /// Runs `f` on one snapshot of the database: a station appending meanwhile
    /// changes nothing it reads.
    pub(crate) fn snapshot<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        if self.in_transaction.get() {
            return f(self);
        }
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ")?;
        self.in_transaction.set(true);
        let value = f(self);
        self.in_transaction.set(false);
        match value {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The address, for messages.
    pub(crate) fn address(&self) -> &Path {
        &self.address
    }

    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client
            .borrow_mut()
            .prepare(&translate(sql))
            .map_err(|e| {
                debug_refused(sql);
                storage(&self.address)(e)
            })?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn run_rows(&self, sql: &str, args: &[Cell]) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        let rows = with_params(args, |params| {
            self.client.borrow_mut().query(&statement, params)
        })
        .map_err(storage(&self.address))?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| row.try_get::<_, Read>(i).map(|r| r.0))
                    .collect::<std::result::Result<Vec<Cell>, _>>()
                    .map(|cells| Row { cells })
                    .map_err(storage(&self.address))
            })
            .collect()
    }

    fn run_execute(&self, sql: &str, args: &[Cell]) -> Result<usize> {
        let statement = self.statement(sql)?;
        let changed = with_params(args, |params| {
            self.client.borrow_mut().execute(&statement, params)
        })
        .map_err(storage(&self.address))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    /// Creates empty copies of `tables` in this session's temporary schema (where
    /// `verify` rebuilds the projections), dropped when the transaction ends, and
    /// returns that schema's name. The search path names `pg_temp` last, so the
    /// copies never stand in for the ledger's own tables.
    pub(crate) fn scratch(&self, tables: &[&str]) -> Result<&'static str> {
        for table in tables {
            self.batch(&format!(
                "DROP TABLE IF EXISTS pg_temp.{table}; \
                 CREATE TEMPORARY TABLE {table} (LIKE custody.{table}) ON COMMIT DROP"
            ))?;
        }
        Ok("pg_temp")
    }

    /// The columns of `table`, in order.
    pub(crate) fn columns(&self, table: &str) -> Result<Vec<String>> {
        self.map(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = 'custody' AND table_name = ?1 ORDER BY ordinal_position",
            &[Cell::Text(table.to_owned())],
            |r| r.get(0),
        )
    }
}

impl Drop for DbTx<'_> {
    fn drop(&mut self) {
        if self.db.in_transaction.get() {
            let _ = self.db.batch("ROLLBACK");
            self.db.in_transaction.set(false);
        }
    }
}

/// One write transaction on the database.
pub(crate) struct DbTx<'a> {
    db: &'a Db,
}

impl DbTx<'_> {
    /// Makes everything done in the transaction durable.
    pub(crate) fn commit(self) -> Result<()> {
        let result = self.db.batch("COMMIT");
        self.db.in_transaction.set(false);
        result
    }
}

impl Query for Db {
    fn rows(&self, sql: &str, args: &[Cell]) -> Result<Vec<Row>> {
        self.run_rows(sql, args)
    }

    fn execute(&self, sql: &str, args: &[Cell]) -> Result<usize> {
        self.run_execute(sql, args)
    }
}

impl Query for DbTx<'_> {
    fn rows(&self, sql: &str, args: &[Cell]) -> Result<Vec<Row>> {
        self.db.run_rows(sql, args)
    }

    fn execute(&self, sql: &str, args: &[Cell]) -> Result<usize> {
        self.db.run_execute(sql, args)
    }

    fn execute_all(&self, statements: &[(String, Vec<Cell>)]) -> Result<()> {
        match statements {
            [] => Ok(()),
            [(sql, args)] => self.db.run_execute(sql, args).map(|_| ()),
            [first @ .., (last, last_args)] => {
                // WITH s0 AS (first statement), s1 AS (…) last statement: one
                // round trip, parameters numbered on from one statement to the next.
                let mut sql = String::from("WITH ");
                let mut args: Vec<Cell> = Vec::new();
                for (i, (statement, cells)) in first.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "s{i} AS ({})",
                        shift_params(statement, args.len())
                    ));
                    args.extend(cells.iter().cloned());
                }
                sql.push(' ');
                sql.push_str(&shift_params(last, args.len()));
                args.extend(last_args.iter().cloned());
                self.db.run_execute(&sql, &args).map(|_| ())
            }
        }
    }
}

/// Reads the chain in pages on this thread and hands each page to `f`, on a second
/// thread once there is more than one page, so that reading and checking overlap.
/// Each page bounds the joined tables by its start as well: PostgreSQL does not carry
/// `e.seq > ?1` across an outer join, and a merge join would otherwise read payloads
/// and signatures from their first row for every page.
pub(crate) fn stream_chain(
    db: &Db,
    after: i64,
    batch: usize,
    f: &mut (dyn FnMut(Vec<super::verify::Row>) -> Result<()> + Send),
) -> Result<()> {
    const SQL: &str = "SELECT e.seq, e.at, e.actor, e.station, e.kind, e.subject, e.commitment, \
         e.prev_hash, e.hash, p.salt, p.body, p.erased IS NOT NULL, p.seq IS NOT NULL, \
         s.signature FROM entries e LEFT JOIN payloads p ON p.seq = e.seq AND p.seq > ?1 \
         LEFT JOIN signatures s ON s.seq = e.seq AND s.seq > ?1 \
         WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2";
    let page = |from: i64| -> Result<Vec<super::verify::Row>> {
        db.rows(SQL, &[Cell::Int(from), Cell::Int(batch as i64)])?
            .iter()
            .map(chain_row)
            .collect()
    };
    let first = page(after)?;
    if first.len() < batch {
        return f(first);
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<super::verify::Row>>(2);
    let mut next = first.last().map_or(after, |r| r.seq);
    let _ = tx.send(first);
    std::thread::scope(|scope| -> Result<()> {
        let worker = scope.spawn(move || -> Result<()> {
            for chunk in rx {
                f(chunk)?;
            }
            Ok(())
        });
        let mut read_error = None;
        loop {
            match page(next) {
                Ok(rows) if rows.is_empty() => break,
                Ok(rows) => {
                    let full = rows.len() == batch;
                    next = rows.last().map_or(next, |r| r.seq);
                    if tx.send(rows).is_err() || !full {
                        break;
                    }
                }
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        worker.join().expect("the verify worker does not panic")?;
        read_error.map_or(Ok(()), Err)
    })
}

fn chain_row(r: &Row) -> Result<super::verify::Row> {
    Ok(super::verify::Row {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        station: r.get(3)?,
        kind: r.get(4)?,
        subject: r.get(5)?,
        commitment: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
        salt: r.get(9)?,
        body: r.get(10)?,
        erased: r.get(11)?,
        has_payload: r.get(12)?,
        signature: r.get(13)?,
    })
}

/// Entries of `kinds` whose JSON payload has `value` at `field` (`$.request`).
pub(crate) fn entries_with(
    db: &impl Query,
    kinds: &[&str],
    field: &str,
    value: &str,
) -> Result<Vec<(i64, String)>> {
    let list = kinds
        .iter()
        .map(|k| format!("'{}'", k.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let path = field
        .trim_start_matches('$')
        .split('.')
        .filter(|part| !part.is_empty())
        .map(|part| part.replace(['{', '}', ',', '"'], ""))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT e.seq, e.subject FROM entries e JOIN payloads p ON p.seq = e.seq \
         WHERE e.kind IN ({list}) AND (p.body::jsonb #>> '{{{path}}}') = ?1 ORDER BY e.seq"
    );
    let rows = db.rows(&sql, &[Cell::Text(value.into())])?;
    rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
}

impl Backend for Db {
    fn path(&self) -> &Path {
        &self.address
    }

    fn stream_chain(
        &self,
        after: i64,
        batch: usize,
        f: &mut (dyn FnMut(Vec<super::verify::Row>) -> Result<()> + Send),
    ) -> Result<()> {
        stream_chain(self, after, batch, f)
    }

    fn entries_with(&self, kinds: &[&str], field: &str, value: &str) -> Result<Vec<(i64, String)>> {
        entries_with(self, kinds, field, value)
    }
}

impl Backend for DbTx<'_> {
    fn path(&self) -> &Path {
        &self.db.address
    }

    fn stream_chain(
        &self,
        after: i64,
        batch: usize,
        f: &mut (dyn FnMut(Vec<super::verify::Row>) -> Result<()> + Send),
    ) -> Result<()> {
        stream_chain(self.db, after, batch, f)
    }

    fn entries_with(&self, kinds: &[&str], field: &str, value: &str) -> Result<Vec<(i64, String)>> {
        entries_with(self, kinds, field, value)
    }
}

/// A portable statement in PostgreSQL's words: `?N` → `$N`, `main.` → `custody.`,
/// `rebuilt.` → `pg_temp.`; nothing inside a quoted string or name is touched.
pub(crate) fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.char_indices().peekable();
    let mut quote: Option<char> = None;
    let mut previous: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            previous = Some(c);
            continue;
        }
        let starts_word = !previous.is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '.');
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => out.push('$'),
            _ if starts_word && sql[i..].starts_with("main.") => {
                out.push_str("custody.");
                for _ in 0.."main".len() {
                    chars.next();
                }
                previous = Some('.');
                continue;
            }
            _ if starts_word && sql[i..].starts_with("rebuilt.") => {
                out.push_str("pg_temp.");
                for _ in 0.."rebuilt".len() {
                    chars.next();
                }
                previous = Some('.');
                continue;
            }
            _ => out.push(c),
        }
        previous = Some(c);
    }
    out
}

/// A portable statement with its parameters `?N` numbered from `offset + 1`;
/// nothing inside a quoted string or name is touched.
fn shift_params(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        out.push(c);
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                match digits.parse::<usize>() {
                    Ok(n) => out.push_str(&(n + offset).to_string()),
                    Err(_) => out.push_str(&digits),
                }
            }
            (None, _) => {}
        }
    }
    out
}

/// Prints a statement the server refused to prepare, when `CUSTODY_DEBUG_SQL` is set.
#[allow(clippy::print_stderr)] // a developer's switch, off unless set; no parameter is printed
fn debug_refused(sql: &str) {
    if std::env::var_os("CUSTODY_DEBUG_SQL").is_some() {
        eprintln!("{}", translate(sql));
    }
}

/// `name` as a quoted identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs `f` with `args` as the client's parameters.
fn with_params<T>(args: &[Cell], f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> T) -> T {
    let params: Vec<Param<'_>> = args.iter().map(Param).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
    f(&refs)
}

/// A cell as a parameter of the type PostgreSQL inferred for it.
#[derive(Debug)]
struct Param<'a>(&'a Cell);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self.0 {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    n.to_string().as_str().to_sql(ty, out)
                }
                _ => Err(format!("an integer cannot be a parameter of type {ty}").into()),
            },
            Cell::Text(t) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    t.as_str().to_sql(ty, out)
                }
                Type::INT8 => t.parse::<i64>()?.to_sql(ty, out),
                Type::INT4 => t.parse::<i32>()?.to_sql(ty, out),
                _ => Err(format!("text cannot be a parameter of type {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column read as a cell, whatever PostgreSQL type it has that custody uses.
struct Read(Cell);

impl<'a> FromSql<'a> for Read {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Read, Box<dyn StdError + Sync + Send>> {
        Ok(Read(match *ty {
            Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Cell::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Cell::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::OID => Cell::Int(i64::from(u32::from_sql(ty, raw)?)),
            Type::BOOL => Cell::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::NUMERIC => Cell::Int(numeric_integer(raw)?),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
                Cell::Text(<&str>::from_sql(&Type::TEXT, raw)?.to_owned())
            }
            _ => return Err(format!("custody does not read columns of type {ty}").into()),
        }))
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Read, Box<dyn StdError + Sync + Send>> {
        Ok(Read(Cell::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A NUMERIC in PostgreSQL's binary form (what `SUM` of integers gives), which must
/// be a whole number that fits in 64 bits.
fn numeric_integer(raw: &[u8]) -> std::result::Result<i64, Box<dyn StdError + Sync + Send>> {
    let word = |i: usize| -> std::result::Result<i16, Box<dyn StdError + Sync + Send>> {
        raw.get(i..i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a NUMERIC value is cut short".into())
    };
    let digits = word(0)?;
    let weight = word(2)?;
    let sign = word(4)? as u16;
    if sign != 0x0000 && sign != 0x4000 {
        return Err("a NUMERIC value is not a finite number".into());
    }
    let too_large = || -> Box<dyn StdError + Sync + Send> { "a NUMERIC value is too large".into() };
    let mut value: i128 = 0;
    for d in 0..digits.max(0) as usize {
        let digit = i128::from(word(8 + 2 * d)?);
        value = value
            .checked_mul(10_000)
            .and_then(|v| v.checked_add(digit))
            .ok_or_else(too_large)?;
    }
    // The digits are base-10000 groups; `weight` places the first one.
    let scale = i32::from(weight) + 1 - i32::from(digits);
    if scale < 0 {
        return Err("a NUMERIC value is not a whole number".into());
    }
    for _ in 0..scale {
        value = value.checked_mul(10_000).ok_or_else(too_large)?;
    }
    if sign == 0x4000 {
        value = -value;
    }
    i64::try_from(value).map_err(|_| "a NUMERIC value is too large".into())
}

/// The password for `config`'s user, host, port and database from a password file:
/// `file`, else `PGPASSFILE`, else `~/.pgpass`. A file others can read is refused,
/// as PostgreSQL's own tools do.
fn password_for(
    config: &postgres::Config,
    file: Option<&Path>,
) -> Result<Option<Zeroizing<String>>> {
    let path = match file {
        Some(path) => path.to_path_buf(),
        None => match std::env::var_os("PGPASSFILE") {
            Some(path) => PathBuf::from(path),
            None => match std::env::var_os("HOME") {
                Some(home) => Path::new(&home).join(".pgpass"),
                None => return Ok(None),
            },
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.is_none() => return Ok(None),
        Err(e) => return Err(Error::File { path, source: e }),
    };
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs_err::metadata(&path)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::File {
                path,
                source: std::io::Error::other(
                    "the password file can be read by others; make it private (chmod 600)",
                ),
            });
        }
    }
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_owned();
    let database = config.get_dbname().unwrap_or(&user).to_owned();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        let [h, p, d, u, password] = fields.as_slice() else {
            continue;
        };
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if matches(h, &host) && matches(p, &port) && matches(d, &database) && matches(u, &user) {
            return Ok(Some(Zeroizing::new(password.to_string())));
        }
    }
    Ok(None)
}

/// The fields of one password-file line: `:` separates, `\` escapes.
fn pgpass_fields(line: &str) -> Vec<Zeroizing<String>> {
    let mut fields = vec![Zeroizing::new(String::new())];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("one field at least").push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(Zeroizing::new(String::new())),
            c => fields.last_mut().expect("one field at least").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_verify_full_turns_tls_on_and_its_settings_are_taken_off_the_address() {
        let (rest, tls) = split_tls(
            "postgres://s@db.lan:5433/custody?application_name=x&sslmode=verify-full&sslrootcert=/etc/custody/office%20ca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://s@db.lan:5433/custody?application_name=x");
        assert_eq!(tls, Tls::VerifyFull("/etc/custody/office ca.pem".into()));
        assert!(rest.parse::<postgres::Config>().is_ok());
        let (rest, tls) =
            split_tls("postgres://s@/custody?host=/run/postgresql&sslmode=disable").unwrap();
        assert_eq!(
            (rest.as_str(), tls),
            ("postgres://s@/custody?host=/run/postgresql", Tls::Off)
        );
        assert_eq!(split_tls("postgres://s@db/c").unwrap().1, Tls::Off);
        for unchecked in ["require", "verify-ca"] {
            let why = split_tls(&format!(
                "postgres://s@db/c?sslmode={unchecked}&sslrootcert=/ca.pem"
            ))
            .unwrap_err();
            assert!(why.contains("verify-full"), "{why}");
        }
        assert!(split_tls("postgres://s@db/c?sslmode=sometimes").is_err());
    }

    #[test]
    fn parameters_are_numbered_on_outside_quotes_only() {
        assert_eq!(
            shift_params("INSERT INTO t(a, b) VALUES (?1, ?2) -- '?3'", 4),
            "INSERT INTO t(a, b) VALUES (?5, ?6) -- '?3'"
        );
        assert_eq!(shift_params("SELECT \"?1\", ?12", 10), "SELECT \"?1\", ?22");
    }

    #[test]
    fn statements_are_translated_outside_quotes_only() {
        assert_eq!(
            translate("SELECT x FROM main.t WHERE a = ?1 AND b = '?2 main.' AND c = ?12"),
            "SELECT x FROM custody.t WHERE a = $1 AND b = '?2 main.' AND c = $12"
        );
        assert_eq!(
            translate("INSERT INTO rebuilt.media SELECT * FROM domain.x"),
            "INSERT INTO pg_temp.media SELECT * FROM domain.x"
        );
    }

    #[test]
    fn a_password_in_an_address_is_never_shown() {
        let shown = |url: &str| {
            Target {
                url: url.into(),
                password_file: None,
                connect_timeout: Duration::from_secs(1),
            }
            .address()
            .display()
            .to_string()
        };
        assert_eq!(
            shown("postgres://me:secret@db:5432/x"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(
            shown("postgres://me@db/x?password=secret&sslmode=require"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(
            shown("postgres://me:se/cret@db/x"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(
            shown("postgres://me@db/x?pass%77ord=secret"),
            "postgres://me:***@db:5432/x"
        );
        assert!(!shown("pg://me:secret@db/x?x=%zz").contains("secret"));
        assert_eq!(shown("postgres://me@db/x"), "postgres://me@db/x");
    }

    #[test]
    fn password_file_lines_split_with_escapes() {
        let fields = pgpass_fields(r"db\:host:5432:*:me:pa\:ss:word");
        let fields: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
        assert_eq!(fields, ["db:host", "5432", "*", "me", "pa:ss:word"]);
    }

    #[test]
    fn whole_numerics_decode() {
        // 123456789 = [1][2345][6789], weight 2.
        let raw = [0, 3, 0, 2, 0, 0, 0, 0, 0, 1, 0x09, 0x29, 0x1a, 0x85];
        assert_eq!(numeric_integer(&raw).unwrap(), 123_456_789);
        // 20000 = [2] weight 1 (trailing zero groups are dropped).
        let raw = [0, 1, 0, 1, 0x40, 0, 0, 0, 0, 2];
        assert_eq!(numeric_integer(&raw).unwrap(), -20_000);
        assert_eq!(numeric_integer(&[0, 0, 0, 0, 0, 0, 0, 0]).unwrap(), 0);
    }
}
