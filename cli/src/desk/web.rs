//! The desk's HTTP side: the accept loop (plain or TLS), the headers every response
//! carries, the origin check of every post, the reader's language and the CSRF token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use custody_core::Lang;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt as _;

use super::Desk;
use crate::Refused;
use crate::i18n::t;

/// What the browser may do with a page of the desk: scripts, styles and images from
/// the desk itself only, no inline script, forms posted only to the desk, and no
/// framing by any other page.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Serves the desk on `addr` until Ctrl-C or SIGTERM.
pub(crate) async fn serve(
    desk: Arc<Desk>,
    addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    station: String,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Refused(t!("serve-cannot-listen", listen = addr, why = e)))?;
    let local = listener.local_addr()?;
    if local.ip().is_loopback() {
        let port = local.port();
        let _ = desk.hosts.set(vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ]);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!(
        "{}",
        t!(
            "serve-listening",
            station = station,
            url = format!("{scheme}://{local}/")
        )
    );
    // Sessions left idle end here, each said in the door journal.
    let sweeper = {
        let desk = desk.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(30));
            loop {
                every.tick().await;
                for name in desk.memory.sweep() {
                    desk.knock(custody_core::people::access::Door::Expired, &name, "")
                        .await;
                }
            }
        })
    };
    let app = super::pages::router(desk);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut stop = std::pin::pin!(stopped());
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, say: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let app = app.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(Peer(peer.ip()));
                    app.clone().oneshot(req)
                });
            let mut http = hyper::server::conn::http1::Builder::new();
            // A client that opens a connection and sends nothing is let go.
            http.timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30));
            match acceptor {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await;
                    if let Ok(Ok(stream)) = handshake {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                }
            }
        });
    }
    sweeper.abort();
    eprintln!("{}", t!("serve-stopped"));
    Ok(())
}

/// The address a request came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) std::net::IpAddr);

/// Resolves on Ctrl-C or SIGTERM.
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// The headers of every response, and the refusal of a post from another site.
pub(crate) async fn guard(State(desk): State<Arc<Desk>>, request: Request, next: Next) -> Response {
    let cross_site = request.method() != Method::GET
        && request.method() != Method::HEAD
        && !same_origin(request.headers(), desk.tls);
    let lang = Reader::lang_of(request.headers(), request.uri().query(), desk.lang);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let elsewhere = desk
        .hosts
        .get()
        .is_some_and(|hosts| !hosts.iter().any(|h| h == host));
    let mut response = if elsewhere {
        super::pages::refusal(
            &desk,
            lang,
            StatusCode::MISDIRECTED_REQUEST,
            "desk-wrong-host",
        )
    } else if cross_site {
        super::pages::refusal(&desk, lang, StatusCode::FORBIDDEN, "desk-forbidden-origin")
    } else {
        // Core's errors worded for this page are worded in the reader's language.
        crate::i18n::READER.scope(lang, next.run(request)).await
    };
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if desk.tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// Whether a post comes from the desk's own pages: a browser says where a request
/// comes from (`Origin`, `Sec-Fetch-Site`); a script that says nothing is let through,
/// since it carries no cookie of a browser to abuse.
fn same_origin(headers: &HeaderMap, tls: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // A browser that says where the request comes from is believed: a form
        // posted under a strict referrer policy says `Origin: null`.
        return site.as_bytes() == b"same-origin";
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let scheme = if tls { "https" } else { "http" };
    origin.as_bytes() == format!("{scheme}://{host}").as_bytes()
}

/// Who reads a page: their language, and the CSRF token of their browser.
pub(crate) struct Reader {
    /// The language of the page.
    pub(crate) lang: Lang,
    /// The token every form of the page carries; it must match the cookie.
    pub(crate) csrf: String,
    /// Cookies the response must set (a new token, a changed language).
    set_cookies: Vec<String>,
    /// Whether the token is new to this browser (so no form can carry it yet).
    fresh: bool,
}

impl Reader {
    /// `?lang=` first, then the reader's cookie, then the station's language.
    fn lang_of(headers: &HeaderMap, query: Option<&str>, default: Lang) -> Lang {
        let asked = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| pair.strip_prefix("lang="));
        asked
            .or_else(|| cookie(headers, "custody-lang"))
            .and_then(parse_lang)
            .unwrap_or(default)
    }

    /// The response with the cookies this reader needs.
    pub(crate) fn respond(&self, response: impl IntoResponse) -> Response {
        let mut response = response.into_response();
        for cookie in &self.set_cookies {
            if let Ok(value) = HeaderValue::from_str(cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// Whether a posted form's token is this browser's (compared in constant time).
    pub(crate) fn csrf_matches(&self, posted: &str) -> bool {
        !self.fresh
            && posted.len() == self.csrf.len()
            && posted
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl FromRequestParts<Arc<Desk>> for Reader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        desk: &Arc<Desk>,
    ) -> Result<Self, Self::Rejection> {
        let lang = Reader::lang_of(&parts.headers, parts.uri.query(), desk.lang);
        let secure = if desk.tls { "; Secure" } else { "" };
        let mut set_cookies = Vec::new();
        let asked = parts
            .uri
            .query()
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| pair.strip_prefix("lang="))
            .and_then(parse_lang);
        if let Some(asked) = asked {
            set_cookies.push(format!(
                "custody-lang={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict{secure}",
                asked.as_str()
            ));
        }
        let name = csrf_cookie(desk.tls);
        let mut fresh = false;
        let csrf = match cookie(&parts.headers, name).filter(|t| t.len() == 43) {
            Some(token) => token.to_owned(),
            None => {
                fresh = true;
                let token = new_token();
                set_cookies.push(format!(
                    "{name}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
                ));
                token
            }
        };
        Ok(Reader {
            lang,
            csrf,
            set_cookies,
            fresh,
        })
    }
}

/// The CSRF cookie's name: `__Host-` under TLS, which browsers only accept when it is
/// `Secure`, for this host and path `/`.
fn csrf_cookie(tls: bool) -> &'static str {
    if tls {
        "__Host-custody-csrf"
    } else {
        "custody-csrf"
    }
}

/// A cookie's value from the request.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(n, v)| (n == name).then_some(v))
}

fn parse_lang(code: &str) -> Option<Lang> {
    Lang::parse(code).ok()
}

/// 32 random bytes, base64url without padding (43 characters).
pub(crate) fn new_token() -> String {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    // The system's random source failing is not something a page can work around.
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
