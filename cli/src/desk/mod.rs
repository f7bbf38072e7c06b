//! `custody serve`: the desk, pages in a browser over the same core the command line
//! calls.
//!
//! The server is axum on hyper, with TLS through rustls when `--tls-cert` and
//! `--tls-key` are given. It listens on a loopback address unless TLS is on. Pages
//! are rendered on the server from templates compiled into the binary (askama,
//! escaped by default); the style sheet and the icon are in the binary too. Every
//! response carries a strict Content-Security-Policy (no inline script, no other
//! origin, no framing). Every form that posts carries a token that must match the
//! cookie the page set (CSRF), and a post from another origin is refused.
//!
//! The web layer holds no SQL, no policy and no cryptography of its own: each page
//! opens the station and calls the same workflow `custody` calls.

mod acts;
mod filing;
mod kept;
mod lists;
mod oversight;
mod pages;
mod people;
mod records;
mod session;
mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::Args;
use custody_core::Station;
use custody_core::people::actor_name;

use crate::Refused;
use crate::i18n::t;

/// `custody serve …`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address and port to listen on. An address other than loopback
    /// (127.0.0.1, ::1) needs --tls-cert and --tls-key.
    #[arg(long, value_name = "ADDRESS:PORT", default_value = "127.0.0.1:8750")]
    pub listen: String,
    /// The TLS certificate chain (PEM) the desk presents; with --tls-key, the desk
    /// speaks HTTPS only.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// What every request of the desk shares.
pub(crate) struct Desk {
    /// The data home the desk serves.
    pub(crate) home: PathBuf,
    /// The person who runs the desk: the station is opened in their name to read.
    pub(crate) runner: String,
    /// Whether the desk speaks HTTPS (cookies are then `Secure` and `__Host-`).
    pub(crate) tls: bool,
    /// The language of pages for a reader who has not chosen one: the station's,
    /// else Japanese.
    pub(crate) lang: custody_core::Lang,
    /// The station's name, shown on every page.
    pub(crate) station: String,
    /// Sessions, acts waiting for a signature, failed sign-ins.
    pub(crate) memory: session::Memory,
    /// Stations kept open for signed-in people between their requests.
    pub(crate) kept: kept::Kept,
    /// The host names a desk on loopback answers to (its address, localhost), so
    /// that a page elsewhere cannot reach it under a name of its own (DNS
    /// rebinding). Set once listening; unset beyond loopback, where TLS names it.
    pub(crate) hosts: std::sync::OnceLock<Vec<String>>,
}

impl Desk {
    /// Opens the station for one request.
    pub(crate) fn station(&self) -> custody_core::Result<Station> {
        Station::open(&self.home, &self.runner)
    }

    /// Writes what happened at the door (a sign-in, sign-out, failed attempt) in the
    /// data home's door journal. A journal that cannot be written is said on the
    /// desk's output, and the desk goes on.
    pub(crate) async fn knock(
        self: &Arc<Self>,
        event: custody_core::people::access::Door,
        name: &str,
        from: &str,
    ) {
        let (desk, name, from) = (self.clone(), name.to_owned(), from.to_owned());
        let written = tokio::task::spawn_blocking(move || {
            custody_core::people::access::record(&desk.home, event, &name, &from)
        })
        .await;
        if let Ok(Err(e)) = written {
            eprintln!("{}", t!("desk-log-journal", why = e.to_string()));
        }
    }

    /// Who owns an act prepared in a session: the session.
    pub(crate) fn memory_owner(&self, headers: &axum::http::HeaderMap) -> String {
        web::cookie(headers, session::session_cookie(self.tls))
            .unwrap_or_default()
            .to_owned()
    }
}

/// Runs the desk until it is stopped (Ctrl-C or SIGTERM).
pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    let addr: SocketAddr = args
        .listen
        .parse()
        .map_err(|_| Refused(t!("serve-bad-listen", listen = args.listen)))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_config(cert, key)?),
        _ => None,
    };
    if tls.is_none() && !addr.ip().is_loopback() {
        return Err(Refused(t!("serve-needs-tls", listen = addr)).into());
    }
    let home = custody_core::default_home()?;
    let runner = actor_name()?;
    // Opened once before listening, so that a desk without a data home (or with a
    // broken one) says so at once rather than on every page.
    let station = Station::open(&home, &runner)?;
    crate::i18n::configure(station.config().language);
    let name = station.config().station.clone();
    let lang = station.config().language.unwrap_or(custody_core::Lang::Ja);
    drop(station);
    let desk = Arc::new(Desk {
        home,
        runner,
        tls: tls.is_some(),
        lang,
        station: name.clone(),
        memory: session::Memory::default(),
        kept: kept::Kept::default(),
        hosts: std::sync::OnceLock::new(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context(t!("serve-no-runtime"))?;
    runtime.block_on(web::serve(desk, addr, tls, name))?;
    Ok(ExitCode::SUCCESS)
}

/// The rustls configuration from a PEM certificate chain and key; a file that does
/// not hold what it should is refused with its name.
fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let unreadable = |file: &Path, why: String| {
        Refused(t!("serve-tls-unreadable", file = file.display(), why = why))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| unreadable(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(unreadable(cert, t!("serve-tls-no-certificate")).into());
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| unreadable(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| unreadable(cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| unreadable(key, e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
