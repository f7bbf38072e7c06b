//! The desk (`custody serve`) over real HTTP, with curl as the browser: a certificate
//! verified from an upload, the token every form must carry, the headers every
//! response carries, fields shown as text, TLS, and the refusal to listen beyond
//! loopback without it.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use custody_tests::{Home, require_tool, server_certificate};
use serde_json::Value;

/// A running `custody serve`, stopped (SIGTERM) on drop.
struct Desk {
    child: Child,
    /// `http://127.0.0.1:PORT/` or `https://…/`.
    url: String,
    /// The authority that signed the desk's TLS certificate, when it speaks TLS.
    ca: Option<PathBuf>,
}

impl Desk {
    /// Starts the desk on 127.0.0.1 at a free port, run by ito.
    fn start(home: &Home, extra: &[&str]) -> Desk {
        let mut child = home
            .cmd("ito")
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // The first line says where the desk is; wait for it, bounded.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stderr);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining, so that the desk never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("the desk did not say where it listens: {line:?}"))
            .to_owned();
        Desk {
            child,
            url,
            ca: None,
        }
    }

    /// Stops the desk as systemd does, and returns its exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP exchange as curl saw it.
struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Vec<String> {
        self.headers
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The page's token for the desk's script (`<meta name="csrf">`).
    fn meta_csrf(&self) -> String {
        let tag = "<meta name=\"csrf\" content=\"";
        let at = self.body.find(tag).expect("a page") + tag.len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }

    /// The value of the form's hidden CSRF field.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a token")
            + 19;
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

/// A browser: curl with a cookie jar of its own.
struct Browser<'d> {
    desk: &'d Desk,
    jar: PathBuf,
    /// Arguments for every request (the host name the address bar shows).
    extra: Vec<String>,
}

impl<'d> Browser<'d> {
    fn new(desk: &'d Desk, dir: &Path, name: &str) -> Browser<'d> {
        Browser {
            desk,
            jar: dir.join(format!("{name}.cookies")),
            extra: Vec::new(),
        }
    }

    /// A browser that opened the desk as `localhost:PORT`, as a person must for
    /// passkeys to work (not by its IP address).
    fn at_localhost(desk: &'d Desk, dir: &Path, name: &str) -> Browser<'d> {
        let mut browser = Browser::new(desk, dir, name);
        browser.extra = vec!["-H".into(), format!("Host: localhost:{}", port(desk))];
        browser
    }

    fn request(&self, path: &str, args: &[&str]) -> Reply {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-i", "--max-time", "60"])
            .arg("--cookie-jar")
            .arg(&self.jar)
            .arg("--cookie")
            .arg(&self.jar);
        if let Some(ca) = &self.desk.ca {
            cmd.arg("--cacert").arg(ca);
        }
        let url = format!("{}{}", self.desk.url, path.trim_start_matches('/'));
        let out = cmd.args(&self.extra).args(args).arg(&url).output().unwrap();
        assert!(
            out.status.success(),
            "curl {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        Reply {
            status,
            headers: head.to_owned(),
            body: body.to_owned(),
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.request(path, &[])
    }

    /// Saves the body of `path` to `to` byte for byte; the reply's headers, no body.
    fn download(&self, path: &str, to: &Path) -> Reply {
        let headers = to.with_extension("headers");
        let url = format!("{}{}", self.desk.url, path.trim_start_matches('/'));
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "60", "--cookie"])
            .arg(&self.jar)
            .arg("-D")
            .arg(&headers)
            .arg("-o")
            .arg(to)
            .arg(&url)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {url}");
        let head = std::fs::read_to_string(&headers).unwrap();
        Reply {
            status: head.split_whitespace().nth(1).unwrap().parse().unwrap(),
            headers: head,
            body: String::new(),
        }
    }

    /// Posts `body` as JSON with the token of the page last read, as the desk's
    /// script does.
    fn post_json(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let header = format!("x-csrf-token: {token}");
        let data = body.to_string();
        let reply = self.request(
            path,
            &[
                "-H",
                "content-type: application/json",
                "-H",
                &header,
                "--data-binary",
                &data,
            ],
        );
        let json = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        (reply.status, json)
    }

    /// Posts the verify form with `csrf`, the certificate and its signature.
    fn verify(
        &self,
        path: &str,
        csrf: Option<&str>,
        cert: &Path,
        sig: &Path,
        extra: &[&str],
    ) -> Reply {
        let mut args = Vec::new();
        let token;
        if let Some(csrf) = csrf {
            token = format!("csrf={csrf}");
            args.extend(["-F", token.as_str()]);
        }
        let cert = format!("certificate=@{}", cert.display());
        let sig = format!("signature=@{}", sig.display());
        args.extend(["-F", cert.as_str(), "-F", sig.as_str()]);
        args.extend_from_slice(extra);
        self.request(path, &args)
    }
}

fn signature_of(file: &Path) -> PathBuf {
    PathBuf::from(format!("{}.minisig", file.display()))
}

/// A disposal certificate of this station, exported with its signature.
fn certificate(home: &Home) -> PathBuf {
    let id = home.disposal_certificate("ito");
    home.export_certificate(&id, "cert.json")
}

/// The same certificate with one digit changed, beside the original signature.
fn altered(home: &Home, file: &Path) -> PathBuf {
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes.iter().position(|&b| b == b'1').unwrap();
    bytes[at] = b'2';
    let altered = home.path("altered.json");
    std::fs::write(&altered, &bytes).unwrap();
    std::fs::copy(signature_of(file), signature_of(&altered)).unwrap();
    altered
}

#[test]
fn the_desk_verifies_an_uploaded_certificate_and_says_what_fails() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let cert = certificate(&home);
    let desk = Desk::start(&home, &[]);
    let browser = Browser::new(&desk, home.dir.path(), "auditor");

    // Japanese by default, and no sign-in needed.
    let form = browser.get("/verify");
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<html lang=\"ja\">"), "{}", form.body);
    assert!(form.body.contains("証明書の検証"), "{}", form.body);
    let csrf = form.csrf();
    let page = browser.verify("/verify", Some(&csrf), &cert, &signature_of(&cert), &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("class=\"verdict valid\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("有効"), "{}", page.body);
    let cli = home
        .run("kato", ["cert", "verify", cert.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert!(page.body.contains(cli["id"].as_str().unwrap()));
    assert!(page.body.contains(cli["sha256"].as_str().unwrap()));

    // In English once asked, and the choice is kept.
    let english = browser.get("/verify?lang=en");
    assert!(english.body.contains("<html lang=\"en\">"));
    let again = browser.get("/verify");
    assert!(
        again.body.contains("Verify a certificate"),
        "{}",
        again.body
    );

    // One changed digit: invalid, and the page says which check failed.
    let bad = altered(&home, &cert);
    let page = browser.verify("/verify", Some(&csrf), &bad, &signature_of(&bad), &[]);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("class=\"verdict invalid\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("INVALID: do not rely on this certificate")
    );
    assert!(
        page.body
            .contains("<tr class=\"fail\"><td>FAILED</td><th scope=\"row\">signature</th>"),
        "{}",
        page.body
    );

    // The script's twin answers as `custody cert verify --json` does.
    let api = browser.verify("/api/verify", None, &cert, &signature_of(&cert), &[]);
    assert_eq!(api.status, 200, "{}", api.body);
    let json: Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json, cli);
    let api = browser.verify("/api/verify", None, &bad, &signature_of(&bad), &[]);
    let json: Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["checks"][0]["ok"], false);

    // Only one of the two files: said, nothing checked.
    let missing = browser.request(
        "/verify",
        &[
            "-F",
            &format!("csrf={csrf}"),
            "-F",
            &format!("certificate=@{}", cert.display()),
        ],
    );
    assert_eq!(missing.status, 400);
    assert!(
        missing.body.contains("Choose both files"),
        "{}",
        missing.body
    );

    // Stopped as systemd stops it: cleanly.
    assert!(desk.stop().success());
}

#[test]
fn every_post_without_this_browsers_token_is_refused() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let cert = certificate(&home);
    let sig = signature_of(&cert);
    let desk = Desk::start(&home, &[]);
    let browser = Browser::new(&desk, home.dir.path(), "one");
    let token = browser.get("/verify?lang=en").csrf();

    // No token, a wrong one, and another browser's: refused before anything is read.
    for csrf in [None, Some("x".repeat(43).as_str()), Some("")] {
        let reply = browser.verify("/verify", csrf, &cert, &sig, &[]);
        assert_eq!(reply.status, 403, "{csrf:?}: {}", reply.body);
        assert!(!reply.body.contains("verdict"), "{}", reply.body);
        assert!(
            reply.body.contains("This form has expired"),
            "{}",
            reply.body
        );
    }
    let other = Browser::new(&desk, home.dir.path(), "two");
    other.get("/verify");
    let reply = other.verify("/verify", Some(&token), &cert, &sig, &[]);
    assert_eq!(reply.status, 403);
    // A browser that never opened the page has no cookie for a token to match.
    let fresh = Browser::new(&desk, home.dir.path(), "three");
    let reply = fresh.verify("/verify", Some(&token), &cert, &sig, &[]);
    assert_eq!(reply.status, 403);

    // The right token from another site's page: refused by where it comes from.
    for header in ["Origin: http://evil.example", "Sec-Fetch-Site: cross-site"] {
        let reply = browser.verify("/verify", Some(&token), &cert, &sig, &["-H", header]);
        assert_eq!(reply.status, 403, "{header}: {}", reply.body);
        assert!(reply.body.contains("another site"), "{}", reply.body);
    }
    // The same from the desk's own page goes through, as a browser sends it: with
    // its origin, or (a form, under a strict referrer policy) `Origin: null` and
    // `Sec-Fetch-Site: same-origin`.
    let origin = format!("Origin: {}", desk.url.trim_end_matches('/'));
    let reply = browser.verify("/verify", Some(&token), &cert, &sig, &["-H", &origin]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("verdict valid"));
    let form = ["-H", "Origin: null", "-H", "Sec-Fetch-Site: same-origin"];
    let reply = browser.verify("/verify", Some(&token), &cert, &sig, &form);
    assert_eq!(reply.status, 200, "{}", reply.body);
    // A `null` origin that says nothing else is not the desk's.
    let reply = browser.verify(
        "/verify",
        Some(&token),
        &cert,
        &sig,
        &["-H", "Origin: null"],
    );
    assert_eq!(reply.status, 403, "{}", reply.body);
}

#[test]
fn every_response_carries_the_headers_that_keep_pages_safe() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    let browser = Browser::new(&desk, home.dir.path(), "b");
    for path in [
        "/",
        "/verify",
        "/no-such-page",
        "/static/desk.css",
        "/favicon.ico",
    ] {
        let reply = browser.get(path);
        let csp = reply.header("content-security-policy").join(" ");
        for part in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            reply.header("x-content-type-options"),
            ["nosniff"],
            "{path}"
        );
        assert_eq!(reply.header("x-frame-options"), ["DENY"], "{path}");
        assert!(
            reply.header("strict-transport-security").is_empty(),
            "{path}"
        );
    }
    assert_eq!(browser.get("/no-such-page").status, 404);
    let icon = browser.get("/favicon.ico");
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), ["image/svg+xml"]);
    // Pages are not kept by caches; and no page carries inline script.
    let page = Browser::new(&desk, home.dir.path(), "c").get("/");
    assert_eq!(page.header("cache-control"), ["no-store"]);
    for (at, _) in page.body.match_indices("<script") {
        assert!(
            page.body[at..].starts_with("<script src=\"/static/desk.js\" defer></script>"),
            "only the desk's own script file, never inline: {}",
            page.body
        );
    }
    let cookie = page.header("set-cookie").join("\n");
    assert!(cookie.starts_with("custody-csrf="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no TLS, no Secure: {cookie}");
}

#[test]
fn under_tls_cookies_are_secure_and_host_only() {
    if !require_tool("curl") || !require_tool("openssl") {
        return;
    }
    let home = Home::with_people();
    let tls = home.path("tls");
    std::fs::create_dir(&tls).unwrap();
    let ca = server_certificate(&tls, "IP:127.0.0.1");
    let (cert, key) = (tls.join("server.pem"), tls.join("server.key"));
    let mut desk = Desk::start(
        &home,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(desk.url.starts_with("https://127.0.0.1:"), "{}", desk.url);
    desk.ca = Some(ca);
    let browser = Browser::new(&desk, home.dir.path(), "b");
    let page = browser.get("/verify");
    assert_eq!(page.status, 200);
    let cookie = page.header("set-cookie").join("\n");
    assert!(cookie.starts_with("__Host-custody-csrf="), "{cookie}");
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag}: {cookie}");
    }
    assert!(!page.header("strict-transport-security").is_empty());
    // Plain HTTP on the TLS port gets nothing.
    let plain = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .arg(desk.url.replace("https://", "http://"))
        .output()
        .unwrap();
    assert!(!plain.status.success() || !String::from_utf8_lossy(&plain.stdout).contains("<html"));
    let cert = certificate(&home);
    let reply = browser.verify(
        "/verify",
        Some(&page.csrf()),
        &cert,
        &signature_of(&cert),
        &[],
    );
    assert!(reply.body.contains("verdict valid"), "{}", reply.body);
}

#[test]
fn the_desk_will_not_listen_beyond_loopback_without_tls() {
    let home = Home::with_people();
    for listen in ["0.0.0.0:8750", "192.0.2.1:8750", "[::]:8750"] {
        let out = home
            .run("ito", ["serve", "--listen", listen])
            .expect_code(2);
        assert!(
            out.stderr.contains("without TLS"),
            "{listen}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("--tls-cert"), "{}", out.stderr);
    }
    let out = home
        .run("ito", ["serve", "--listen", "the office"])
        .expect_code(2);
    assert!(out.stderr.contains("127.0.0.1:8750"), "{}", out.stderr);
    // A TLS key that is not one: named, and refused before listening.
    let junk = home.path("junk.pem");
    std::fs::write(&junk, "not a key\n").unwrap();
    let out = home
        .run(
            "ito",
            [
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                junk.to_str().unwrap(),
                "--tls-key",
                junk.to_str().unwrap(),
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("junk.pem"), "{}", out.stderr);
    // Without a data home there is nothing to serve.
    let empty = Home::uninit();
    let out = empty.run("ito", ["serve", "--listen", "127.0.0.1:0"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
}

#[test]
fn fields_of_an_uploaded_certificate_are_shown_as_text() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    let browser = Browser::new(&desk, home.dir.path(), "b");
    let token = browser.get("/verify").csrf();
    let doc = home.path("hostile.json");
    std::fs::write(
        &doc,
        r#"{"schema":"<script>alert(1)</script>","certificate_id":"\"><img src=x onerror=alert(2)>"}"#,
    )
    .unwrap();
    std::fs::write(signature_of(&doc), "<script>alert(3)</script>\n").unwrap();
    let page = browser.verify("/verify", Some(&token), &doc, &signature_of(&doc), &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("verdict invalid"));
    for raw in ["<script>alert", "<img src=x"] {
        assert!(
            !page.body.contains(raw),
            "{raw} reached the page as markup: {}",
            page.body
        );
    }
    // Shown, as the text it is.
    let text = page
        .body
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    assert!(
        text.contains("\"><img src=x onerror=alert(2)>"),
        "{}",
        page.body
    );
    assert!(text.contains("<script>alert(1)</script>"), "{}", page.body);
}

#[test]
fn a_manager_invites_a_person_to_enroll_a_passkey_with_a_link_shown_once() {
    let home = Home::with_people();
    let out = home
        .run(
            "sato",
            [
                "people",
                "invite",
                "tanaka",
                "--desk",
                "https://desk.example:8443",
            ],
        )
        .ok();
    let link = out.stdout.trim();
    assert!(
        link.starts_with("https://desk.example:8443/enrol/"),
        "{link}"
    );
    assert!(out.stderr.contains("works once"), "{}", out.stderr);
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(token.len(), 43, "{token}");
    // Recorded, signed by sato, with the token's hash and not the token.
    let log = home
        .run("kato", ["log", "--kind", "passkey-invite", "--json"])
        .ok();
    assert!(log.stdout.contains("token_sha256"), "{}", log.stdout);
    assert!(!log.stdout.contains(token), "{}", log.stdout);
    home.run("kato", ["ledger", "verify"]).ok();
    // Each invitation is new; --json says the same.
    let again = home
        .run("sato", ["people", "invite", "tanaka", "--json"])
        .ok()
        .json();
    assert!(
        again["link"]
            .as_str()
            .unwrap()
            .starts_with("http://localhost:8750/enrol/")
    );
    assert_ne!(again["link"].as_str().unwrap(), link);
    // Only managers invite; only to an address where passkeys work.
    let out = home
        .run("suzuki", ["people", "invite", "tanaka"])
        .expect_code(2);
    assert!(!out.stdout.contains("/enrol/"), "{}", out.stdout);
    let out = home
        .run(
            "sato",
            [
                "people",
                "invite",
                "tanaka",
                "--desk",
                "http://192.168.1.5:8750",
            ],
        )
        .expect_code(2);
    assert!(out.stderr.contains("host name"), "{}", out.stderr);
    home.run("sato", ["people", "invite", "nobody"])
        .expect_code(2);
}

/// A passkey of the test's own: a P-256 key that answers as a browser's platform
/// authenticator does (user present and verified), for the origin it was made at.
struct SoftPasskey {
    pair: ring::signature::EcdsaKeyPair,
    credential: Vec<u8>,
    origin: String,
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl SoftPasskey {
    fn new(origin: &str, credential: &[u8]) -> SoftPasskey {
        use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        SoftPasskey {
            pair,
            credential: credential.to_vec(),
            origin: origin.to_owned(),
        }
    }

    /// What `getPublicKey()` gives: SubjectPublicKeyInfo DER, in base64.
    fn public_key(&self) -> String {
        use base64::Engine as _;
        use ring::signature::KeyPair as _;
        let mut spki = hex_bytes("3059301306072a8648ce3d020106082a8648ce3d030107034200");
        spki.extend_from_slice(self.pair.public_key().as_ref());
        base64::engine::general_purpose::STANDARD.encode(spki)
    }

    /// The assertion over `challenge` (base64url) for the act `pending`, as the
    /// desk's script posts it.
    fn sign(&self, pending: &Value, challenge: &Value) -> Value {
        use sha2::Digest as _;
        let rp_id = self
            .origin
            .split("://")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap();
        let client = serde_json::json!({
            "type": "webauthn.get",
            "challenge": challenge.as_str().unwrap(),
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string();
        let mut data = sha2::Sha256::digest(rp_id.as_bytes()).to_vec();
        data.extend_from_slice(&[0x05, 0, 0, 0, 1]);
        let mut signed = data.clone();
        signed.extend_from_slice(&sha2::Sha256::digest(client.as_bytes()));
        let signature = self
            .pair
            .sign(&ring::rand::SystemRandom::new(), &signed)
            .unwrap();
        serde_json::json!({
            "pending": pending,
            "credential": b64url(&self.credential),
            "authenticator_data": b64url(&data),
            "client_data_json": b64url(client.as_bytes()),
            "signature": b64url(signature.as_ref()),
        })
    }
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The port of a desk's address.
fn port(desk: &Desk) -> String {
    desk.url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned()
}

/// `name`, invited by sato, enrolls `passkey` at the desk in `browser`.
fn enrol(home: &Home, desk: &Desk, browser: &Browser<'_>, name: &str, passkey: &SoftPasskey) {
    let key_id = enrol_unconfirmed(home, desk, browser, name, passkey);
    // It signs once another manager confirms it, as the person reads its id out.
    let manager = if name == "sato" { "tanaka" } else { "sato" };
    home.run(
        manager,
        ["people", "confirm", name, "--passkey", "--key-id", &key_id],
    )
    .ok();
}

/// `name` enrols `passkey` with an invitation by sato; returns the passkey's id, which
/// the desk showed them to read out.
fn enrol_unconfirmed(
    home: &Home,
    desk: &Desk,
    browser: &Browser<'_>,
    name: &str,
    passkey: &SoftPasskey,
) -> String {
    let origin = format!("http://localhost:{}", port(desk));
    let link = home
        .run("sato", ["people", "invite", name, "--desk", &origin])
        .ok()
        .stdout;
    let token = link.trim().rsplit('/').next().unwrap().to_owned();
    enrol_with(browser, &token, name, passkey)
}

/// `name` enrols `passkey` with the invitation whose link carries `token`; returns
/// the passkey's id.
fn enrol_with(browser: &Browser<'_>, token: &str, name: &str, passkey: &SoftPasskey) -> String {
    let page = browser.get(&format!("/enrol/{token}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(name), "{}", page.body);
    let csrf = page.meta_csrf();
    let (status, prepared) = browser.post_json(
        &format!("/api/enrol/{token}/prepare"),
        &csrf,
        &serde_json::json!({ "credential": b64url(&passkey.credential), "public_key": passkey.public_key() }),
    );
    assert_eq!(status, 200, "{prepared}");
    assert_eq!(prepared["record"]["kind"], "passkey-enroll");
    let signed = passkey.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, done) = browser.post_json(&format!("/api/enrol/{token}/finish"), &csrf, &signed);
    assert_eq!(status, 200, "{done}");
    // The link works once.
    assert_eq!(browser.get(&format!("/enrol/{token}")).status, 403);
    done["key_id"].as_str().unwrap().to_owned()
}

/// `name` signs in with `passkey`; returns the page token of the session's browser.
fn sign_in(browser: &Browser<'_>, name: &str, passkey: &SoftPasskey) -> (u16, Value) {
    let csrf = browser.get("/signin").meta_csrf();
    let (status, prepared) = browser.post_json(
        "/api/signin/prepare",
        &csrf,
        &serde_json::json!({ "name": name }),
    );
    if status != 200 {
        return (status, prepared);
    }
    let signed = passkey.sign(&prepared["pending"], &prepared["challenge"]);
    browser.post_json("/api/signin/finish", &csrf, &signed)
}

/// Entries in the ledger.
fn entries(home: &Home) -> usize {
    home.run("kato", ["log", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_manager_approves_a_clerks_request_with_a_passkey_and_verify_checks_it() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let (tanaka, suzuki) = (
        SoftPasskey::new(&origin, b"tanaka-passkey"),
        SoftPasskey::new(&origin, b"suzuki-passkey"),
    );
    let manager = Browser::new(&desk, home.dir.path(), "tanaka");
    let clerk = Browser::new(&desk, home.dir.path(), "suzuki");
    enrol(&home, &desk, &manager, "tanaka", &tanaka);
    enrol(&home, &desk, &clerk, "suzuki", &suzuki);

    let summary =
        "member list to the auditor <script>alert(1)</script> \"><img src=x onerror=alert(2)>";
    let request = |summary: &str| {
        home.run(
            "suzuki",
            [
                "request",
                "new",
                "--kind",
                "send",
                "--summary",
                summary,
                "--json",
            ],
        )
        .ok()
        .json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (first, second) = (request(summary), request("the second list"));

    // Not signed in: the inbox sends people to sign in; a made-up session is nobody.
    let stranger = Browser::new(&desk, home.dir.path(), "stranger");
    let made_up = format!("Cookie: custody-session={}", "A".repeat(43));
    let reply = stranger.request("/inbox", &["-H", &made_up]);
    assert_eq!(reply.status, 303, "{}", reply.headers);
    assert_eq!(reply.header("location"), ["/signin"]);

    // The clerk signs in: sees the requests, as text, and no approve button.
    let (status, reply) = sign_in(&clerk, "suzuki", &suzuki);
    assert_eq!(status, 200, "{reply}");
    let inbox = clerk.get("/inbox");
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert!(inbox.body.contains(&first), "{}", inbox.body);
    assert!(!inbox.body.contains("<script>alert(1)"), "{}", inbox.body);
    assert!(!inbox.body.contains("<img src=x"), "{}", inbox.body);
    assert!(!inbox.body.contains("data-decision"), "{}", inbox.body);
    // For scripts: the same as `requests --pending --json`; nobody's without a session.
    let api: Value = serde_json::from_str(&clerk.get("/api/inbox").body).unwrap();
    let cli = home
        .run("suzuki", ["requests", "--pending", "--json"])
        .ok()
        .json();
    assert_eq!(api, cli);
    assert_eq!(api.as_array().unwrap().len(), 2, "{api:#}");
    assert_eq!(stranger.get("/api/inbox").status, 401);
    // Even by a hand-made request, a clerk cannot approve: 403, nothing recorded.
    let before = entries(&home);
    let (status, reply) = clerk.post_json(
        &format!("/api/requests/{first}/prepare"),
        &inbox.meta_csrf(),
        &serde_json::json!({ "decision": "approve" }),
    );
    assert_eq!(status, 403, "{reply}");
    assert_eq!(entries(&home), before);
    // Worded in the reader's language (the desk's default, Japanese), not the
    // station's locale (C here): the bug was English refusals on Japanese pages.
    let words = reply["error"].as_str().unwrap();
    assert!(words.contains("保護責任者"), "{reply}");

    // The manager signs in (a new session id, set now) and approves with the passkey.
    let (status, reply) = sign_in(&manager, "tanaka", &tanaka);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["signed_in"], "tanaka");
    let inbox = manager.get("/inbox");
    assert!(
        inbox.body.contains("data-decision=\"approve\""),
        "{}",
        inbox.body
    );
    let csrf = inbox.meta_csrf();
    let (status, prepared) = manager.post_json(
        &format!("/api/requests/{first}/prepare"),
        &csrf,
        &serde_json::json!({ "decision": "approve", "note": "checked the list" }),
    );
    assert_eq!(status, 200, "{prepared}");
    assert_eq!(prepared["record"]["kind"], "approve");
    assert_eq!(prepared["record"]["subject"], first.as_str());
    let approval = tanaka.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, reply) =
        manager.post_json(&format!("/api/requests/{first}/finish"), &csrf, &approval);
    assert_eq!(status, 200, "{reply}");

    // That assertion, replayed on another decision: refused, nothing recorded.
    let (status, prepared) = manager.post_json(
        &format!("/api/requests/{second}/prepare"),
        &csrf,
        &serde_json::json!({ "decision": "reject", "note": "not needed" }),
    );
    assert_eq!(status, 200, "{prepared}");
    let mut replayed = approval.clone();
    replayed["pending"] = prepared["pending"].clone();
    let before = entries(&home);
    let (status, reply) =
        manager.post_json(&format!("/api/requests/{second}/finish"), &csrf, &replayed);
    assert_eq!(status, 409, "{reply}");
    assert_eq!(entries(&home), before);

    let requests = home.run("kato", ["requests", "--json"]).ok().json();
    let state = |id: &str| {
        requests
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(state(&first)["status"], "approved");
    assert_eq!(state(&first)["decided_by"], "tanaka");
    assert_eq!(state(&second)["status"], "pending");
    // The ledger checks every passkey signature offline, and says so.
    let verified = home.run("kato", ["ledger", "verify"]).ok();
    assert!(
        verified.stdout.contains("signed with the person's passkey"),
        "{}",
        verified.stdout
    );

    // A role changed at the command line holds at the next request, though the desk
    // keeps the manager's opened station between requests.
    assert_eq!(manager.get("/audit").status, 200);
    home.run("sato", ["people", "role", "tanaka", "--role", "clerk"])
        .ok();
    assert_eq!(manager.get("/audit").status, 403);

    // Removed from the register: the session stops at once.
    home.run(
        "sato",
        ["people", "remove", "tanaka", "--reason", "left the office"],
    )
    .ok();
    let reply = manager.get("/inbox");
    assert_eq!(reply.status, 303);
    let (status, _) = sign_in(&manager, "tanaka", &tanaka);
    assert_eq!(status, 403);

    // The approval checked by hand, with the recipe of docs/ledger-format.md.
    if custody_tests::require_sqlite() && require_tool("openssl") && require_tool("sqlite3") {
        let seq = home.sql("SELECT MAX(seq) FROM entries WHERE kind = 'approve'");
        let out = recipe(&home, "passkey-signature", seq.trim());
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{out:?}");
        assert!(shown.contains("Verified OK"), "{shown}");
        assert!(
            shown.contains(&format!(
                "the challenge is this act: approve {first} by tanaka"
            )),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("\"origin\":\"{origin}\"")),
            "{shown}"
        );
        // The same recipe on the note of another act's signature fails.
        let enrol = home.sql("SELECT MAX(seq) FROM entries WHERE kind = 'passkey-enroll'");
        home.sql(&format!(
            "DROP TRIGGER signatures_no_update; UPDATE signatures SET signature = \
             (SELECT signature FROM signatures WHERE seq = {}) WHERE seq = {}",
            enrol.trim(),
            seq.trim()
        ));
        assert!(
            !recipe(&home, "passkey-signature", seq.trim())
                .status
                .success()
        );
        home.run("kato", ["ledger", "verify"]).expect_code(1);
    }
}

/// Runs the recipe `name` of docs/ledger-format.md as written, on entry `seq`.
fn recipe(home: &Home, name: &str, seq: &str) -> std::process::Output {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ledger-format.md"),
    )
    .unwrap();
    let start = doc
        .find(&format!("<!-- recipe: {name} -->"))
        .expect("the recipe is marked in docs/ledger-format.md");
    let block = &doc[start..];
    let block = &block[block.find("```sh\n").unwrap() + 6..];
    let script = &block[..block.find("```").unwrap()];
    Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(home.dir.path())
        .env("DB", home.ledger())
        .env("SEQ", seq)
        .output()
        .unwrap()
}

/// In the browser, on `name`'s enrolment page: registers the passkey, and reads out
/// the id the page then shows, which another manager confirms (the page is kept as
/// screenshot `shot`); then opens the sign-in page.
fn enrol_in(browser: &Chromium, home: &Home, origin: &str, name: &str, shot: Option<&str>) {
    browser.click("#enrol");
    let mut key_id = String::new();
    for _ in 0..300 {
        key_id = browser.texts("#key-id").pop().unwrap_or_default();
        if !key_id.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(key_id.len(), 16, "{}", browser.page_text());
    if let Some(shot) = shot {
        browser.screenshot(shot);
    }
    let manager = if name == "sato" { "tanaka" } else { "sato" };
    home.run(
        manager,
        ["people", "confirm", name, "--passkey", "--key-id", &key_id],
    )
    .ok();
    browser.open(&format!("{origin}/signin"));
}

/// A headless Chromium driven through ChromeDriver (the W3C WebDriver protocol, over
/// HTTP on 127.0.0.1), with a virtual authenticator that holds passkeys as a phone
/// or a laptop would. Stopped on drop.
struct Chromium {
    driver: Child,
    base: String,
    session: String,
    /// The virtual authenticator's id.
    authenticator: String,
    _profile: tempfile::TempDir,
}

impl Chromium {
    fn start() -> Chromium {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        // Ready when it answers, within a minute.
        let ready = (0..600).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            Command::new("curl")
                .args(["-sf", "--max-time", "2"])
                .arg(format!("{base}/status"))
                .output()
                .is_ok_and(|o| o.status.success())
        });
        assert!(ready, "chromedriver did not start");
        let profile = tempfile::tempdir().unwrap();
        let mut chromium = Chromium {
            driver,
            base,
            session: String::new(),
            authenticator: String::new(),
            _profile: profile,
        };
        let profile = chromium._profile.path().display().to_string();
        let created = chromium.call(
            "POST",
            "/session",
            &serde_json::json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1280,800",
                             format!("--user-data-dir={profile}")],
                },
            }}}),
        );
        chromium.session = created["sessionId"].as_str().unwrap().to_owned();
        let authenticator = chromium.session_call(
            "POST",
            "/webauthn/authenticator",
            &serde_json::json!({
                "protocol": "ctap2", "transport": "internal",
                "hasResidentKey": true, "hasUserVerification": true,
                "isUserConsenting": true, "isUserVerified": true,
            }),
        );
        chromium.authenticator = authenticator.as_str().unwrap().to_owned();
        chromium
    }

    /// Whether the authenticator's user verification (fingerprint, PIN) succeeds.
    fn verifies_user(&self, verified: bool) {
        self.session_call(
            "POST",
            &format!("/webauthn/authenticator/{}/uv", self.authenticator),
            &serde_json::json!({ "isUserVerified": verified }),
        );
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let mut curl = Command::new("curl");
        curl.args(["-sS", "--max-time", "120", "-X", method]);
        if method != "GET" {
            curl.args(["-H", "content-type: application/json", "--data-binary"])
                .arg(body.to_string());
        }
        let out = curl.arg(format!("{}{path}", self.base)).output().unwrap();
        let reply: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{path}: {}", String::from_utf8_lossy(&out.stdout)));
        assert!(
            reply["value"].get("error").is_none(),
            "{method} {path}: {reply}"
        );
        reply["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: &Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn open(&self, url: &str) {
        self.session_call("POST", "/url", &serde_json::json!({ "url": url }));
    }

    fn url(&self) -> String {
        self.session_call("GET", "/url", &Value::Null)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The elements `css` finds.
    fn find(&self, css: &str) -> Vec<String> {
        self.session_call(
            "POST",
            "/elements",
            &serde_json::json!({ "using": "css selector", "value": css }),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e.as_object()
                .unwrap()
                .values()
                .next()
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
    }

    /// Presses and releases one key (a WebDriver key code: Tab is U+E004, Enter
    /// U+E007).
    fn press(&self, key: &str) {
        self.session_call(
            "POST",
            "/actions",
            &serde_json::json!({ "actions": [{
                "type": "key", "id": "keyboard",
                "actions": [{ "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }],
            }]}),
        );
    }

    /// The element that has the keyboard's focus.
    fn active(&self) -> String {
        let element = self.session_call("GET", "/element/active", &Value::Null);
        element
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The window's size in CSS pixels.
    fn resize(&self, width: u32, height: u32) {
        self.session_call(
            "POST",
            "/window/rect",
            &serde_json::json!({ "width": width, "height": height }),
        );
    }

    /// What `script` (a function body) returns in the page.
    fn script(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            &serde_json::json!({ "script": script, "args": [] }),
        )
    }

    /// The rendered text of each element `css` finds.
    fn texts(&self, css: &str) -> Vec<String> {
        self.find(css)
            .iter()
            .map(|id| {
                self.session_call("GET", &format!("/element/{id}/text"), &Value::Null)
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    fn click(&self, css: &str) {
        let element = self
            .find(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {css}"));
        self.session_call(
            "POST",
            &format!("/element/{element}/click"),
            &serde_json::json!({}),
        );
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self
            .find(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {css}"));
        self.session_call(
            "POST",
            &format!("/element/{element}/value"),
            &serde_json::json!({ "text": text }),
        );
    }

    /// Sets an input's value as a picker would (a date input takes typed keys in
    /// the browser's locale's order, which a test should not depend on).
    fn set_value(&self, css: &str, value: &str) {
        self.session_call(
            "POST",
            "/execute/sync",
            &serde_json::json!({
                "script": "document.querySelector(arguments[0]).value = arguments[1];",
                "args": [css, value],
            }),
        );
    }

    /// Waits (at most 30 s) until the page's address ends with `path`.
    fn wait_for(&self, path: &str) {
        for _ in 0..300 {
            if self.url().ends_with(path) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the browser stayed at {}, showing: {}",
            self.url(),
            self.page_text()
        );
    }

    fn page_text(&self) -> String {
        let body = self.find("body");
        self.session_call("GET", &format!("/element/{}/text", body[0]), &Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Writes a screenshot of the page as `name`.png in target/desk-screenshots/.
    fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let png = self.session_call("GET", "/screenshot", &Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/desk-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    /// What the pages logged to the console at level SEVERE (errors).
    fn console_errors(&self) -> Vec<String> {
        self.session_call("POST", "/se/log", &serde_json::json!({ "type": "browser" }))
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = Command::new("curl")
                .args(["-sS", "--max-time", "30", "-X", "DELETE"])
                .arg(format!("{}/session/{}", self.base, self.session))
                .output();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
fn in_chromium_a_manager_enrolls_signs_in_and_approves_and_a_clerk_is_not_shown_approve() {
    if !require_tool("chromium") || !require_tool("chromedriver") || !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    // An IP address is not a passkey's relying party: the browser opens localhost.
    let origin = format!("http://localhost:{}", port(&desk));
    let request = home
        .run(
            "suzuki",
            [
                "request",
                "new",
                "--kind",
                "send",
                "--summary",
                "会員名簿を監査人へ送付",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let certificate = home.disposal_certificate("ito");
    // A carry-out out without encryption, for the audit to find.
    let carryout = carried_out(&home, "suzuki", "組合員名簿 (USB)", "2099-04-01");
    // A retained item for the manager to put on hold.
    let minutes = home.path("minutes.csv");
    std::fs::write(&minutes, "番号,氏名\n1,佐藤\n").unwrap();
    let item = home
        .run(
            "suzuki",
            [
                "retain",
                "add",
                minutes.to_str().unwrap(),
                "--class",
                "backup",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Chromium::start();

    // tanaka opens the link, makes a passkey and signs its registration.
    let link = home
        .run("sato", ["people", "invite", "tanaka", "--desk", &origin])
        .ok()
        .stdout;
    browser.open(link.trim());
    enrol_in(&browser, &home, &origin, "tanaka", Some("enrolled"));
    browser.screenshot("signin");
    // Signs in with it, and finds the clerk's request in the inbox.
    browser.type_into("#name", "tanaka");
    browser.click("#signin button[type=submit]");
    browser.wait_for("/inbox");
    assert!(
        browser.page_text().contains(&request),
        "{}",
        browser.page_text()
    );
    browser.screenshot("inbox");
    // Before the passkey is asked, the page shows what it will sign, as the ledger will
    // record it. Here the person's fingerprint is not recognised: nothing is recorded,
    // the page says so, and what would have been signed stays shown.
    let approve = format!("button.decide[data-request=\"{request}\"][data-decision=\"approve\"]");
    browser.verifies_user(false);
    browser.click(&approve);
    for _ in 0..300 {
        if browser.find("#status.problem").len() == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let shown = browser.texts("#record dd");
    assert!(shown.contains(&"approve".to_owned()), "{shown:?}");
    assert!(shown.contains(&request), "{shown:?}");
    assert!(shown.contains(&"tanaka".to_owned()), "{shown:?}");
    let said = browser.texts("#status.problem");
    assert!(
        said.len() == 1 && said[0].contains("何も記録されていません"),
        "{said:?}"
    );
    browser.screenshot("approve-refused");
    let pending = home
        .run("kato", ["requests", "--pending", "--json"])
        .ok()
        .json();
    assert!(
        pending
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == request.as_str()),
        "{pending:#}"
    );
    // At tablet width the inbox still fits: nothing runs off the side.
    browser.resize(768, 1024);
    browser.open(&format!("{origin}/inbox"));
    let fits = browser.script("return document.documentElement.scrollWidth <= window.innerWidth");
    assert_eq!(fits, true, "the inbox is wider than a tablet");
    browser.screenshot("inbox-tablet");
    browser.resize(1280, 800);
    browser.open(&format!("{origin}/inbox"));
    // Approves by keyboard alone: Tab to the approve button, Enter; the passkey
    // signs the approval.
    browser.verifies_user(true);
    let target = browser.find(&approve).pop().unwrap();
    let mut reached = false;
    for _ in 0..60 {
        browser.press("\u{E004}");
        if browser.active() == target {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reached the approve button");
    browser.press("\u{E007}");
    for _ in 0..300 {
        if browser.find("button.decide").is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        browser.find("button.decide").is_empty(),
        "{}",
        browser.page_text()
    );
    let requests = home.run("kato", ["requests", "--json"]).ok().json();
    let decided = requests
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == request.as_str())
        .unwrap()
        .clone();
    assert_eq!(decided["status"], "approved", "{decided}");
    assert_eq!(decided["decided_by"], "tanaka");
    let verified = home.run("kato", ["ledger", "verify"]).ok();
    assert!(
        verified.stdout.contains("signed with the person's passkey"),
        "{}",
        verified.stdout
    );

    browser.open(&format!("{origin}/certificates/{certificate}"));
    assert!(browser.page_text().contains(&certificate));
    browser.screenshot("certificate");
    // The manager signs it off: the passkey confirms twice, then the page shows the
    // certificate re-issued with their name, valid.
    browser.type_into("#so-comment", "処分記録と照合しました");
    browser.click("#sign-off button[type=submit]");
    for _ in 0..300 {
        if browser.find("#sign-off").is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        browser.find("#sign-off").is_empty(),
        "{}",
        browser.page_text()
    );
    assert!(!browser.find(".verdict.valid").is_empty());
    assert!(
        browser.page_text().contains("処分記録と照合しました"),
        "{}",
        browser.page_text()
    );
    browser.screenshot("signed-off");
    // From the people page, the manager invites kato: the link is made and shown in
    // this browser; the desk recorded only its hash, signed with the passkey.
    browser.open(&format!("{origin}/people"));
    browser.click("button.invite[data-name=\"kato\"]");
    let mut link = Value::Null;
    for _ in 0..300 {
        link = browser.script("return document.getElementById('invite-link').value");
        if link.as_str().is_some_and(|l| !l.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let link = link.as_str().unwrap_or_default().to_owned();
    assert!(
        link.starts_with(&format!("{origin}/enrol/")),
        "{link:?} {}",
        browser.page_text()
    );
    browser.screenshot("people");
    let token = link.rsplit('/').next().unwrap();
    let invites = home
        .run("kato", ["log", "--kind", "passkey-invite", "--json"])
        .ok()
        .json();
    let recorded = invites.as_array().unwrap().last().unwrap()["payload"].clone();
    assert_eq!(recorded["name"], "kato");
    assert!(!recorded.to_string().contains(token), "{recorded}");
    // The manager's audit: the carry-out, linked to its record.
    browser.click("a[href=\"/audit\"]");
    browser.wait_for("/audit");
    assert!(
        !browser
            .find(&format!("a[href=\"/records/{carryout}\"]"))
            .is_empty(),
        "{}",
        browser.page_text()
    );
    browser.screenshot("audit");
    // The ledger, verified as the page opens, and the registers to download.
    browser.click("a[href=\"/ledger\"]");
    browser.wait_for("/ledger");
    assert!(!browser.find(".verdict.valid").is_empty());
    browser.screenshot("ledger");
    browser.click("a[href=\"/registers\"]");
    browser.wait_for("/registers");
    browser.screenshot("registers");
    // The carry-outs, from the pages listed at home.
    browser.click("a.brand");
    browser.wait_for("/");
    browser.click("a[href=\"/carryouts\"]");
    browser.wait_for("/carryouts");
    assert!(browser.page_text().contains(&carryout));
    browser.screenshot("carryouts");
    // Puts the retained item on hold, signed with the passkey.
    browser.open(&format!("{origin}/retention"));
    browser.type_into(&format!("#hold-{item}"), "開示請求への対応中");
    browser.click(&format!("button[data-act=\"hold\"][data-id=\"{item}\"]"));
    for _ in 0..300 {
        if !browser
            .find(&format!("button[data-act=\"release\"][data-id=\"{item}\"]"))
            .is_empty()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    browser.screenshot("retention");
    let listed = home.run("kato", ["retain", "list", "--json"]).ok().json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == item.as_str() && r["hold_reason"] == "開示請求への対応中"),
        "{listed}"
    );

    // The clerk, in the same browser after tanaka signs out, is not shown approve.
    browser.click("form.inline button");
    browser.wait_for("/");
    let link = home
        .run("sato", ["people", "invite", "suzuki", "--desk", &origin])
        .ok()
        .stdout;
    let second = home
        .run(
            "suzuki",
            [
                "request",
                "new",
                "--kind",
                "send",
                "--summary",
                "second list",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    browser.open(link.trim());
    enrol_in(&browser, &home, &origin, "suzuki", None);
    browser.type_into("#name", "suzuki");
    browser.click("#signin button[type=submit]");
    browser.wait_for("/inbox");
    assert!(browser.page_text().contains(&second));
    assert!(
        browser.find("button.decide").is_empty(),
        "{}",
        browser.page_text()
    );

    // The clerk files a carry-out from the form, signed with the passkey.
    browser.click("a[href=\"/file\"]");
    browser.wait_for("/file");
    browser.type_into("#co-what", "研修資料（会員名簿を含む）");
    browser.type_into("#co-reason", "支部研修");
    browser.type_into("#co-destination", "北支部");
    browser.set_value("#co-return-by", "2099-04-01");
    browser.type_into("#co-transport", "暗号化USBで手持ち");
    browser.click("#co-personal");
    browser.screenshot("file");
    browser.click("#file-carryout button[type=submit]");
    browser.wait_for("/carryouts");
    assert!(
        browser.page_text().contains("北支部"),
        "{}",
        browser.page_text()
    );
    let filed = home.run("kato", ["carryout", "list", "--json"]).ok().json();
    assert!(
        filed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["destination"] == "北支部" && c["requester"] == "suzuki"),
        "{filed}"
    );

    browser.open(&format!("{origin}/verify"));
    browser.screenshot("verify");
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn certificates_are_listed_shown_and_downloaded_as_the_command_line_exports_them() {
    if !require_tool("curl") || !require_tool("pdftotext") {
        return;
    }
    let home = Home::with_people();
    let id = home.disposal_certificate("ito");
    // The desk's address, as the office publishes it, is printed on certificates.
    let config = home.home.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("desk = \"https://desk.example.jp\"\n{text}"),
    )
    .unwrap();
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let auditor = Browser::new(&desk, home.dir.path(), "kato");
    // Signed in only.
    let reply = auditor.get("/certificates");
    assert_eq!(reply.status, 303);
    assert_eq!(auditor.get("/api/certificates").status, 401);
    let kato = SoftPasskey::new(&origin, b"kato-passkey");
    enrol(&home, &desk, &auditor, "kato", &kato);
    let (status, reply) = sign_in(&auditor, "kato", &kato);
    assert_eq!(status, 200, "{reply}");

    let list = auditor.get("/certificates");
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains(&format!("href=\"/certificates/{id}\"")),
        "{}",
        list.body
    );
    let api: Value = serde_json::from_str(&auditor.get("/api/certificates").body).unwrap();
    let cli = home.run("kato", ["cert", "list", "--json"]).ok().json();
    assert_eq!(api, cli);

    let api: Value =
        serde_json::from_str(&auditor.get(&format!("/api/certificates/{id}")).body).unwrap();
    let cli = home
        .run("kato", ["cert", "show", &id, "--json"])
        .ok()
        .json();
    assert_eq!(api["document"], cli);
    assert_eq!(api["verdict"]["valid"], true, "{api:#}");
    assert_eq!(auditor.get("/api/certificates/DC-999").status, 404);

    let page = auditor.get(&format!("/certificates/{id}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("class=\"verdict valid\""),
        "{}",
        page.body
    );
    // The files, as the command line exports them: the JSON and its signature
    // verify; the PDF reads.
    let json = home.path("desk.json");
    let sig = signature_of(&json);
    for (file, to) in [
        ("certificate.json", &json),
        ("certificate.json.minisig", &sig),
    ] {
        let reply = auditor.download(&format!("/certificates/{id}/{file}"), to);
        assert_eq!(reply.status, 200);
    }
    assert_eq!(
        std::fs::read(&json).unwrap(),
        std::fs::read(home.export_certificate(&id, "cli.json")).unwrap()
    );
    let verdict = home
        .run("kato", ["cert", "verify", json.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(verdict["valid"], true);
    let pdf = home.path("desk.pdf");
    let reply = auditor.download(&format!("/certificates/{id}/certificate.pdf"), &pdf);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), ["application/pdf"]);
    let text = custody_tests::sh("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    assert!(text.contains(&id), "{text}");
    // The address printed on the page leads anyone, not signed in, to the check of
    // that certificate against the ledger.
    let sha256 = home.run("kato", ["cert", "list", "--json"]).ok().json()["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let printed = format!("https://desk.example.jp/verify/{id}/{sha256}");
    let joined: String = text.split_whitespace().collect();
    assert!(joined.contains(&printed), "{printed} not in {text}");
    let anyone = Browser::new(&desk, home.dir.path(), "anyone");
    let check = anyone.get(&format!("/verify/{id}/{sha256}"));
    assert_eq!(check.status, 200, "{}", check.body);
    assert!(
        check.body.contains("class=\"verdict valid\""),
        "{}",
        check.body
    );
    assert!(check.body.contains(&sha256), "{}", check.body);
    let api: Value =
        serde_json::from_str(&anyone.get(&format!("/api/verify/{id}/{sha256}")).body).unwrap();
    assert_eq!(api["valid"], true, "{api:#}");
    assert_eq!(api["id"], id.as_str(), "{api:#}");
    assert_eq!(
        anyone.get(&format!("/api/verify/DC-999/{sha256}")).status,
        404
    );
    // A hash that is not the certificate's, or a number the ledger does not hold:
    // not found, and no verdict.
    let other = format!("{}0", &sha256[..63]);
    let other = if other == sha256 {
        format!("{}1", &sha256[..63])
    } else {
        other
    };
    for path in [
        format!("/verify/{id}/{other}"),
        format!("/verify/DC-999/{sha256}"),
    ] {
        let reply = anyone.get(&path);
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        assert!(!reply.body.contains("verdict valid"), "{}", reply.body);
    }
    assert_eq!(
        auditor.get(&format!("/certificates/{id}/other.txt")).status,
        404
    );
    assert_eq!(auditor.get("/certificates/DC-999").status, 404);
}

#[test]
fn sign_in_answers_strangers_alike_and_makes_repeated_failures_wait() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let browser = Browser::new(&desk, home.dir.path(), "b");
    let tanaka = SoftPasskey::new(&origin, b"tanaka-passkey");
    enrol(&home, &desk, &browser, "tanaka", &tanaka);
    let csrf = browser.get("/signin").meta_csrf();
    // Registered with a passkey, registered without one, not registered: the same
    // answer, until the signature is refused.
    let mut shapes = Vec::new();
    for name in ["tanaka", "suzuki", "nobody"] {
        let (status, reply) = browser.post_json(
            "/api/signin/prepare",
            &csrf,
            &serde_json::json!({ "name": name }),
        );
        assert_eq!(status, 200, "{name}: {reply}");
        let mut keys: Vec<&String> = reply.as_object().unwrap().keys().collect();
        keys.sort();
        shapes.push(format!("{keys:?}"));
    }
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "{shapes:?}");
    // A signature over a made-up act is a failed sign-in; after five, the address
    // waits, even with the right passkey.
    let mut last = 0;
    for _ in 0..5 {
        let (status, prepared) = browser.post_json(
            "/api/signin/prepare",
            &csrf,
            &serde_json::json!({ "name": "nobody" }),
        );
        if status != 200 {
            last = status;
            break;
        }
        let signed = tanaka.sign(&prepared["pending"], &prepared["challenge"]);
        let (status, _) = browser.post_json("/api/signin/finish", &csrf, &signed);
        assert_eq!(status, 403);
    }
    let (status, _) = sign_in(&browser, "tanaka", &tanaka);
    assert_eq!(status, 429, "{last}");
    // Each refusal is in the door journal once, with the name given; the last
    // attempt, made to wait.
    let journal = std::fs::read_to_string(home.home.join("access.jsonl")).unwrap();
    let seen: Vec<(String, String)> = journal
        .lines()
        .map(|line| {
            let knock: Value = serde_json::from_str(line).unwrap();
            (
                knock["event"].as_str().unwrap().to_owned(),
                knock["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected = vec![("failed", "suzuki"), ("failed", "nobody")];
    expected.extend([("failed", "nobody"); 5]);
    expected.push(("throttled", "tanaka"));
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(e, n)| (e.to_owned(), n.to_owned()))
        .collect();
    assert_eq!(seen, expected, "{journal}");
}

#[test]
fn a_desk_on_loopback_answers_at_its_own_address_only() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    let browser = Browser::new(&desk, home.dir.path(), "b");
    let port = port(&desk);
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let reply = browser.request("/verify", &["-H", &format!("Host: {host}")]);
        assert_eq!(reply.status, 200, "{host}");
    }
    // A name of another site's choosing (DNS rebinding) reaches nothing.
    let reply = browser.request("/verify", &["-H", &format!("Host: rebind.example:{port}")]);
    assert_eq!(reply.status, 421, "{}", reply.body);
    assert!(
        !reply.body.contains("name=\"csrf\" value"),
        "{}",
        reply.body
    );
}

#[test]
fn overseers_read_the_audit_the_ledger_and_the_registers_and_a_clerk_cannot() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    // A carry-out of unencrypted personal data, approved and out: the audit flags it.
    // Its description holds markup, which must stay words.
    let carryout = carried_out(
        &home,
        "suzuki",
        "組合員名簿 <script>alert(1)</script>",
        "2099-04-01",
    );
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let auditor = Browser::new(&desk, home.dir.path(), "kato");
    assert_eq!(auditor.get("/audit").status, 303);
    assert_eq!(auditor.get("/api/audit").status, 401);
    let kato = SoftPasskey::new(&origin, b"kato-passkey");
    enrol(&home, &desk, &auditor, "kato", &kato);
    let clerk = Browser::new(&desk, home.dir.path(), "suzuki");
    let suzuki = SoftPasskey::new(&origin, b"suzuki-passkey");
    enrol(&home, &desk, &clerk, "suzuki", &suzuki);
    assert_eq!(sign_in(&auditor, "kato", &kato).0, 200);
    assert_eq!(sign_in(&clerk, "suzuki", &suzuki).0, 200);

    // The audit: the same findings as the command line's, each linked to its record.
    let page = auditor.get("/audit");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("<a href=\"/records/{carryout}\">{carryout}</a>")),
        "{}",
        page.body
    );
    assert!(page.body.contains("暗号化なしの持出し"), "{}", page.body);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(
        page.body.contains("&#60;script&#62;alert(1)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"/registers\""), "{}", page.body);

    // The door journal: each sign-in, a sign-out, and a stranger's failed attempt,
    // newest first, for overseers only.
    let token = clerk.get("/file").csrf();
    let out = clerk.request("/signout", &["--data-urlencode", &format!("csrf={token}")]);
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(clerk.get("/file").status, 303);
    let stranger = Browser::new(&desk, home.dir.path(), "stranger");
    let csrf = stranger.get("/signin").meta_csrf();
    let (status, _) = stranger.post_json(
        "/api/signin/prepare",
        &csrf,
        &serde_json::json!({ "name": "mallory" }),
    );
    assert_eq!(status, 200);
    let knocks: Value = serde_json::from_str(&auditor.get("/api/access").body).unwrap();
    let seen: Vec<(&str, &str)> = knocks
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["event"].as_str().unwrap(), k["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("failed", "mallory"),
            ("sign-out", "suzuki"),
            ("sign-in", "suzuki"),
            ("sign-in", "kato"),
        ],
        "{knocks:#}"
    );
    assert!(knocks[0]["from"] == "127.0.0.1", "{knocks:#}");
    let page = auditor.get("/audit");
    assert!(page.body.contains("⚠ サインイン失敗"), "{}", page.body);
    assert!(page.body.contains("<td>mallory</td>"), "{}", page.body);
    assert_eq!(stranger.get("/api/access").status, 401);
    assert_eq!(sign_in(&clerk, "suzuki", &suzuki).0, 200);
    assert_eq!(clerk.get("/api/access").status, 403);
    let kinds_and_ids = |findings: &Value| -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["kind"].as_str().unwrap().to_owned(),
                    f["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let api: Value = serde_json::from_str(&auditor.get("/api/audit").body).unwrap();
    let cli = home.run("kato", ["report", "audit", "--json"]).ok().json();
    assert_eq!(kinds_and_ids(&api), kinds_and_ids(&cli));
    assert!(
        kinds_and_ids(&api).contains(&("unencrypted-carryout".to_owned(), carryout.clone())),
        "{api}"
    );

    // A finding's record: every entry about it.
    let record = auditor.get(&format!("/records/{carryout}"));
    assert_eq!(record.status, 200, "{}", record.body);
    assert!(record.body.contains("本部監査室"), "{}", record.body);
    let api: Value =
        serde_json::from_str(&auditor.get(&format!("/api/records/{carryout}")).body).unwrap();
    let seqs = |entries: &Value| -> Vec<i64> {
        entries
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect()
    };
    let cli = home
        .run("kato", ["log", "--subject", &carryout, "--json"])
        .ok()
        .json();
    assert_eq!(seqs(&api["entries"]), seqs(&cli));
    assert!(seqs(&cli).len() >= 3, "{cli}");
    assert_eq!(auditor.get("/records/CO-999").status, 404);
    assert_eq!(auditor.get("/api/records/CO-999").status, 404);

    // The ledger: verified here and now, with its signed head and its export.
    let ledger = auditor.get("/ledger");
    assert_eq!(ledger.status, 200, "{}", ledger.body);
    assert!(
        ledger.body.contains("class=\"verdict valid\""),
        "{}",
        ledger.body
    );
    assert!(
        ledger.body.contains("custody-checkpoint/v1"),
        "{}",
        ledger.body
    );
    let api: Value = serde_json::from_str(&auditor.get("/api/ledger").body).unwrap();
    assert_eq!(api["ok"], true, "{api}");
    let cli = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    assert_eq!(api["entries"], cli["entries"]);
    assert_eq!(api["head"], cli["head"]);
    let exported = home.path("desk-ledger.jsonl");
    let reply = auditor.download("/ledger/export.jsonl", &exported);
    assert_eq!(reply.status, 200);
    assert_eq!(
        std::fs::read_to_string(&exported).unwrap(),
        home.run("kato", ["ledger", "export"]).ok().stdout
    );

    // Registers, downloaded as the command line writes them.
    let registers = auditor.get("/registers");
    assert_eq!(registers.status, 200, "{}", registers.body);
    assert!(registers.body.contains("個人情報等取扱記録台帳"));
    let range = ["--from", "2000-01-01", "--to", "2099-12-31"];
    for (path, extra) in [
        (
            "/registers/carryouts.csv?from=2000-01-01&to=2099-12-31",
            None,
        ),
        (
            "/registers/download.csv?kind=carryouts&from=2000-01-01&to=2099-12-31&era=1",
            Some("--era"),
        ),
    ] {
        let csv = home.path("desk-register.csv");
        let reply = auditor.download(path, &csv);
        assert_eq!(reply.status, 200);
        assert!(
            reply.header("content-type")[0].starts_with("text/csv"),
            "{}",
            reply.headers
        );
        let mut args = vec!["report", "carryouts"];
        args.extend(range);
        args.extend(extra);
        let cli = home.run("kato", args).ok().stdout;
        let desk = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(desk, cli);
        assert!(desk.contains(&carryout), "{desk}");
    }
    let backwards = auditor.get("/registers/carryouts.csv?from=2026-12-05&to=2026-12-01");
    assert_eq!(backwards.status, 400, "{}", backwards.body);
    let unknown = auditor.get("/registers/secrets.csv?from=2026-12-01&to=2026-12-05");
    assert_eq!(unknown.status, 400, "{}", unknown.body);

    // A clerk reads none of it, even by address, and is not shown the way there.
    let inbox = clerk.get("/inbox");
    assert_eq!(inbox.status, 200);
    assert!(!inbox.body.contains("href=\"/audit\""), "{}", inbox.body);
    for path in [
        "/audit",
        "/ledger",
        "/registers",
        "/ledger/export.jsonl",
        &format!("/records/{carryout}"),
        "/registers/carryouts.csv?from=2000-01-01&to=2099-12-31",
    ] {
        let reply = clerk.get(path);
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
        assert!(!reply.body.contains(&carryout), "{path}: {}", reply.body);
    }
    for path in ["/api/audit", "/api/ledger", "/api/registers/carryouts"] {
        assert_eq!(clerk.get(path).status, 403, "{path}");
    }
}

/// `requester` files a carry-out of personal data, `what`, to be back by
/// `return_by`; another manager approves it unencrypted and it goes out. Returns its
/// id.
fn carried_out(home: &Home, requester: &str, what: &str, return_by: &str) -> String {
    let id = home
        .run(
            requester,
            [
                "carryout",
                "new",
                "--what",
                what,
                "--reason",
                "年次監査",
                "--to",
                "本部監査室",
                "--transport",
                "施錠鞄で手持ち",
                "--personal-data",
                "--records",
                "10",
                "--return-by",
                return_by,
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let approver = if requester == "sato" {
        "tanaka"
    } else {
        "sato"
    };
    home.run(
        approver,
        ["approve", &id, "--accept-unencrypted", "手渡しで即日返却"],
    )
    .ok();
    home.run(requester, ["carryout", "out", &id]).ok();
    id
}

#[test]
fn registers_show_what_needs_attention_first_and_a_clerk_sees_only_their_own() {
    if !require_tool("curl") || !require_tool("date") {
        return;
    }
    let home = Home::with_people();
    let on_time = carried_out(&home, "suzuki", "名簿 A", "2099-04-01");
    // Due back in a few seconds: overdue by the time the desk is read.
    let soon = custody_tests::sh("date", &["-u", "-d", "+6 seconds", "+%Y-%m-%dT%H:%M:%SZ"]);
    let late = carried_out(&home, "suzuki", "名簿 B", soon.trim());
    let others = carried_out(&home, "tanaka", "名簿 C", "2099-04-01");
    // One retained item past its period, one on hold.
    let old = home.path("old.csv");
    std::fs::write(&old, "番号,氏名\n1,佐藤\n").unwrap();
    let due = home
        .run(
            "suzuki",
            [
                "retain",
                "add",
                old.to_str().unwrap(),
                "--class",
                "backup",
                "--since",
                "2000-01-01",
                "--backdate-reason",
                "transcribed from the paper register",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    home.approve_backdates("tanaka");
    let kept = home.path("kept.csv");
    std::fs::write(&kept, "番号,氏名\n2,鈴木\n").unwrap();
    let held = home
        .run(
            "suzuki",
            [
                "retain",
                "add",
                kept.to_str().unwrap(),
                "--class",
                "backup",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    home.run(
        "sato",
        ["retain", "hold", &held, "--reason", "開示請求への対応中"],
    )
    .ok();

    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let auditor = Browser::new(&desk, home.dir.path(), "kato");
    assert_eq!(auditor.get("/carryouts").status, 303);
    assert_eq!(auditor.get("/api/carryouts").status, 401);
    let kato = SoftPasskey::new(&origin, b"kato-passkey");
    enrol(&home, &desk, &auditor, "kato", &kato);
    let clerk = Browser::new(&desk, home.dir.path(), "suzuki");
    let suzuki = SoftPasskey::new(&origin, b"suzuki-passkey");
    enrol(&home, &desk, &clerk, "suzuki", &suzuki);
    assert_eq!(sign_in(&auditor, "kato", &kato).0, 200);
    assert_eq!(sign_in(&clerk, "suzuki", &suzuki).0, 200);
    // Wait, bounded, until the late one is overdue.
    for _ in 0..100 {
        let list = home
            .run("kato", ["carryout", "list", "--overdue", "--json"])
            .ok()
            .json();
        if !list.as_array().unwrap().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // The auditor: every carry-out, the overdue one first and marked in words.
    let page = auditor.get("/carryouts");
    assert_eq!(page.status, 200, "{}", page.body);
    let at = |id: &str| {
        page.body
            .find(&format!(">{id}</a>"))
            .unwrap_or_else(|| panic!("{id} not listed: {}", page.body))
    };
    assert!(at(&late) < at(&on_time) && at(&late) < at(&others));
    let row = &page.body[at(&late)..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("⚠ 返却期限超過"), "{row}");
    assert_eq!(page.body.matches("class=\"flag\"").count(), 1);
    let api: Value = serde_json::from_str(&auditor.get("/api/carryouts").body).unwrap();
    let cli = home.run("kato", ["carryout", "list", "--json"]).ok().json();
    assert_eq!(api, cli);
    for (path, cli_args) in [
        ("/api/media", vec!["media", "list", "--json"]),
        ("/api/handovers", vec!["handover", "list", "--json"]),
        ("/api/downloads", vec!["download", "list", "--json"]),
    ] {
        let api: Value = serde_json::from_str(&auditor.get(path).body).unwrap();
        assert_eq!(api, home.run("kato", cli_args).ok().json(), "{path}");
    }
    for path in ["/media", "/handovers", "/downloads"] {
        assert_eq!(auditor.get(path).status, 200, "{path}");
    }
    let retention = auditor.get("/retention");
    assert_eq!(retention.status, 200, "{}", retention.body);
    assert!(retention.body.contains(&due), "{}", retention.body);
    assert!(
        retention.body.contains("⚠ 保存期間満了"),
        "{}",
        retention.body
    );
    assert!(
        retention.body.contains("開示請求への対応中"),
        "{}",
        retention.body
    );
    let api: Value = serde_json::from_str(&auditor.get("/api/retention").body).unwrap();
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(ids(&api["due"]).contains(&due), "{api}");
    assert_eq!(ids(&api["held"]), vec![held.clone()], "{api}");
    let home_page = auditor.get("/");
    assert!(
        home_page.body.contains("href=\"/media\""),
        "{}",
        home_page.body
    );

    // The clerk: their own carry-outs, not tanaka's, and not the office's media.
    let page = clerk.get("/carryouts");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&late) && page.body.contains(&on_time));
    assert!(!page.body.contains(&format!(">{others}<")), "{}", page.body);
    assert!(
        page.body.contains("class=\"flag\">⚠ 返却期限超過"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("href=\"/records/"), "{}", page.body);
    let api: Value = serde_json::from_str(&clerk.get("/api/carryouts").body).unwrap();
    let mut mine = ids(&api);
    mine.sort();
    let mut expected = vec![on_time.clone(), late.clone()];
    expected.sort();
    assert_eq!(mine, expected);
    for path in ["/media", "/handovers", "/retention"] {
        let reply = clerk.get(path);
        assert_eq!(reply.status, 403, "{path}");
        assert!(!reply.body.contains(&held), "{path}");
    }
    for path in ["/api/media", "/api/handovers", "/api/retention"] {
        assert_eq!(clerk.get(path).status, 403, "{path}");
    }
    assert_eq!(clerk.get("/downloads").status, 200);
    let home_page = clerk.get("/");
    assert!(home_page.body.contains("href=\"/carryouts\""));
    assert!(
        !home_page.body.contains("href=\"/media\""),
        "{}",
        home_page.body
    );
}

#[test]
fn a_clerk_files_a_carryout_a_send_and_a_download_signed_with_their_passkey() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let (tanaka, suzuki) = (
        SoftPasskey::new(&origin, b"tanaka-passkey"),
        SoftPasskey::new(&origin, b"suzuki-passkey"),
    );
    let manager = Browser::new(&desk, home.dir.path(), "tanaka");
    let clerk = Browser::new(&desk, home.dir.path(), "suzuki");
    enrol(&home, &desk, &manager, "tanaka", &tanaka);
    enrol(&home, &desk, &clerk, "suzuki", &suzuki);
    assert_eq!(sign_in(&manager, "tanaka", &tanaka).0, 200);
    assert_eq!(sign_in(&clerk, "suzuki", &suzuki).0, 200);
    let page = clerk.get("/file");
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.meta_csrf();
    let carryout = serde_json::json!({
        "what": "組合員名簿 (紙)", "reason": "年次監査", "destination": "本部監査室",
        "return_by": "2099-04-01", "transport": "施錠鞄で手持ち",
        "personal_data": true, "records": "1200", "media": "", "transfer": "",
    });

    // Without this browser's token, nothing is prepared; bad fields are refused with
    // words, and nothing is recorded.
    let before = entries(&home);
    let (status, _) = clerk.post_json("/api/file/carryout/prepare", "forged", &carryout);
    assert_eq!(status, 403);
    for (field, value) in [
        ("return_by", "2001-01-01"),
        ("records", "many"),
        ("media", "not an id"),
    ] {
        let mut bad = carryout.clone();
        bad[field] = Value::String(value.to_owned());
        let (status, reply) = clerk.post_json("/api/file/carryout/prepare", &csrf, &bad);
        assert_eq!(status, 400, "{field}: {reply}");
        assert!(
            reply["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{reply}"
        );
    }
    let (status, _) = clerk.post_json("/api/file/loan/prepare", &csrf, &carryout);
    assert_eq!(status, 400);
    assert_eq!(entries(&home), before);

    // The carry-out, prepared (what will be recorded is shown), signed, recorded.
    let (status, prepared) = clerk.post_json("/api/file/carryout/prepare", &csrf, &carryout);
    assert_eq!(status, 200, "{prepared}");
    assert_eq!(prepared["record"]["kind"], "carryout-request");
    assert_eq!(prepared["record"]["actor"], "suzuki");
    assert_eq!(prepared["record"]["payload"]["what"], "組合員名簿 (紙)");
    assert_eq!(entries(&home), before);
    let signed = suzuki.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, filed) = clerk.post_json("/api/file/finish", &csrf, &signed);
    assert_eq!(status, 200, "{filed}");
    assert_eq!(filed["next"], "/carryouts");
    let co = filed["filed"].as_str().unwrap().to_owned();
    let shown = home
        .run("kato", ["carryout", "show", &co, "--json"])
        .ok()
        .json();
    assert_eq!(shown["requester"], "suzuki");
    assert_eq!(shown["destination"], "本部監査室");
    assert_eq!(shown["records"], 1200);
    // The same signature does not file it twice.
    let (status, _) = clerk.post_json("/api/file/finish", &csrf, &signed);
    assert_eq!(status, 409);

    // A request to send and a download, the same way.
    let mut filed_ids = vec![co.clone()];
    for (kind, body, kind_recorded) in [
        (
            "send",
            serde_json::json!({ "summary": "会員名簿を監査人へ送付" }),
            "request",
        ),
        (
            "download",
            serde_json::json!({ "content": "会員名簿 2026年度", "system": "会員管理システム" }),
            "download-request",
        ),
    ] {
        let (status, prepared) =
            clerk.post_json(&format!("/api/file/{kind}/prepare"), &csrf, &body);
        assert_eq!(status, 200, "{prepared}");
        assert_eq!(prepared["record"]["kind"], kind_recorded);
        let signed = suzuki.sign(&prepared["pending"], &prepared["challenge"]);
        let (status, filed) = clerk.post_json("/api/file/finish", &csrf, &signed);
        assert_eq!(status, 200, "{filed}");
        filed_ids.push(filed["filed"].as_str().unwrap().to_owned());
    }
    let verified = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    // Three filings and two sign-ins and two enrolments, each signed with a passkey.
    assert_eq!(verified["passkey_signed"], 7, "{verified}");

    // The manager reads the carry-out whole, and approves it only with a reason to
    // let personal data leave unencrypted.
    let inbox = manager.get("/inbox");
    assert!(inbox.body.contains("本部監査室"), "{}", inbox.body);
    assert!(inbox.body.contains("施錠鞄で手持ち"), "{}", inbox.body);
    assert!(
        inbox.body.contains(&format!("id=\"accept-{co}\"")),
        "{}",
        inbox.body
    );
    let csrf = inbox.meta_csrf();
    let (status, refused) = manager.post_json(
        &format!("/api/requests/{co}/prepare"),
        &csrf,
        &serde_json::json!({ "decision": "approve", "note": "" }),
    );
    assert_eq!(status, 403, "{refused}");
    let (status, prepared) = manager.post_json(
        &format!("/api/requests/{co}/prepare"),
        &csrf,
        &serde_json::json!({ "decision": "approve", "note": "", "accept_unencrypted": "紙の原本で、手渡しのみ" }),
    );
    assert_eq!(status, 200, "{prepared}");
    let signed = tanaka.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, done) = manager.post_json(&format!("/api/requests/{co}/finish"), &csrf, &signed);
    assert_eq!(status, 200, "{done}");
    let shown = home
        .run("kato", ["carryout", "show", &co, "--json"])
        .ok()
        .json();
    assert_eq!(shown["approval"], "approved", "{shown}");

    // The clerk sees where each of their requests stands.
    let mine = clerk.get("/file");
    for id in &filed_ids {
        assert!(
            mine.body.contains(&format!(">{id}<")),
            "{id}: {}",
            mine.body
        );
    }
    assert!(mine.body.contains("tanaka"), "{}", mine.body);
    // For scripts: the clerk's own requests, as `requests --json` prints each.
    let api: Value = serde_json::from_str(&clerk.get("/api/file").body).unwrap();
    let cli = home.run("kato", ["requests", "--json"]).ok().json();
    let theirs: Vec<Value> = cli
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["requester"] == "suzuki")
        .cloned()
        .collect();
    assert_eq!(api, Value::Array(theirs));
    assert_eq!(api.as_array().unwrap().len(), filed_ids.len(), "{api:#}");
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn a_manager_holds_and_releases_a_retained_item_with_a_passkey_and_a_clerk_cannot() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let file = home.path("minutes.csv");
    std::fs::write(&file, "番号,氏名\n1,佐藤\n").unwrap();
    let item = home
        .run(
            "suzuki",
            [
                "retain",
                "add",
                file.to_str().unwrap(),
                "--class",
                "backup",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let (tanaka, suzuki) = (
        SoftPasskey::new(&origin, b"tanaka-passkey"),
        SoftPasskey::new(&origin, b"suzuki-passkey"),
    );
    let manager = Browser::new(&desk, home.dir.path(), "tanaka");
    let clerk = Browser::new(&desk, home.dir.path(), "suzuki");
    enrol(&home, &desk, &manager, "tanaka", &tanaka);
    enrol(&home, &desk, &clerk, "suzuki", &suzuki);
    assert_eq!(sign_in(&manager, "tanaka", &tanaka).0, 200);
    assert_eq!(sign_in(&clerk, "suzuki", &suzuki).0, 200);

    let page = manager.get("/retention");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("data-act=\"hold\" data-id=\"{item}\"")),
        "{}",
        page.body
    );
    let csrf = page.meta_csrf();
    let hold = serde_json::json!({ "reason": "開示請求への対応中" });

    // A clerk's hand-made hold is refused, and nothing is recorded.
    let before = entries(&home);
    let clerk_csrf = clerk.get("/file").meta_csrf();
    let (status, refused) = clerk.post_json(
        &format!("/api/retained/{item}/hold/prepare"),
        &clerk_csrf,
        &hold,
    );
    assert_eq!(status, 403, "{refused}");
    // Without a reason, or this browser's token, nothing is prepared either.
    let (status, _) = manager.post_json(
        &format!("/api/retained/{item}/hold/prepare"),
        &csrf,
        &serde_json::json!({ "reason": "" }),
    );
    assert_eq!(status, 400);
    let (status, _) = manager.post_json(
        &format!("/api/retained/{item}/hold/prepare"),
        "forged",
        &hold,
    );
    assert_eq!(status, 403);
    assert_eq!(entries(&home), before);

    // The manager holds it, signed with the passkey; then releases it.
    let (status, prepared) =
        manager.post_json(&format!("/api/retained/{item}/hold/prepare"), &csrf, &hold);
    assert_eq!(status, 200, "{prepared}");
    assert_eq!(prepared["record"]["kind"], "retain-hold");
    assert_eq!(
        prepared["record"]["payload"]["reason"],
        "開示請求への対応中"
    );
    let signed = tanaka.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, done) = manager.post_json("/api/retained/finish", &csrf, &signed);
    assert_eq!(status, 200, "{done}");
    let listed = home.run("kato", ["retain", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["hold_reason"], "開示請求への対応中", "{listed}");
    let page = manager.get("/retention");
    assert!(
        page.body
            .contains(&format!("data-act=\"release\" data-id=\"{item}\"")),
        "{}",
        page.body
    );
    let (status, prepared) = manager.post_json(
        &format!("/api/retained/{item}/release/prepare"),
        &csrf,
        &serde_json::json!({}),
    );
    assert_eq!(status, 200, "{prepared}");
    let signed = tanaka.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, done) = manager.post_json("/api/retained/finish", &csrf, &signed);
    assert_eq!(status, 200, "{done}");
    let listed = home.run("kato", ["retain", "list", "--json"]).ok().json();
    assert!(listed[0]["hold_reason"].is_null(), "{listed}");
    let verified = home.run("kato", ["ledger", "verify", "--json"]).ok().json();
    // Two enrolments, two sign-ins, the hold and the release.
    assert_eq!(verified["passkey_signed"], 6, "{verified}");
}

#[test]
fn a_manager_approves_a_disposal_at_the_desk_and_it_is_disposed_of() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let file = home.path("old.csv");
    std::fs::write(&file, "番号,氏名\n1,佐藤\n").unwrap();
    let item = home
        .run(
            "suzuki",
            [
                "retain",
                "add",
                file.to_str().unwrap(),
                "--class",
                "backup",
                "--since",
                "2000-01-01",
                "--backdate-reason",
                "transcribed from the paper register",
                "--json",
            ],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    home.approve_backdates("sato");
    let request = home
        .run(
            "suzuki",
            ["retain", "dispose", &item, "--request", "--json"],
        )
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let tanaka = SoftPasskey::new(&origin, b"tanaka-passkey");
    let manager = Browser::new(&desk, home.dir.path(), "tanaka");
    enrol(&home, &desk, &manager, "tanaka", &tanaka);
    assert_eq!(sign_in(&manager, "tanaka", &tanaka).0, 200);
    let inbox = manager.get("/inbox");
    assert!(
        inbox.body.contains(&format!(
            "data-request=\"{request}\" data-decision=\"approve\""
        )),
        "{}",
        inbox.body
    );
    let csrf = inbox.meta_csrf();
    let (status, prepared) = manager.post_json(
        &format!("/api/requests/{request}/prepare"),
        &csrf,
        &serde_json::json!({ "decision": "approve", "note": "保存期間満了を確認" }),
    );
    assert_eq!(status, 200, "{prepared}");
    let signed = tanaka.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, done) =
        manager.post_json(&format!("/api/requests/{request}/finish"), &csrf, &signed);
    assert_eq!(status, 200, "{done}");
    let done = home
        .run("suzuki", ["retain", "dispose", &item, "--json"])
        .ok()
        .json();
    assert!(done["certificate"].as_str().is_some(), "{done}");
    home.run("kato", ["ledger", "verify"]).ok();
}

#[test]
fn a_manager_signs_a_certificate_off_with_a_passkey_and_cert_verify_checks_it() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    // Disposed of by ito: tanaka (a manager) signs it off.
    let id = home.disposal_certificate("ito");
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let manager = Browser::new(&desk, home.dir.path(), "tanaka");
    let tanaka = SoftPasskey::new(&origin, b"tanaka-passkey");
    enrol(&home, &desk, &manager, "tanaka", &tanaka);
    assert_eq!(sign_in(&manager, "tanaka", &tanaka).0, 200);
    let clerk = Browser::new(&desk, home.dir.path(), "suzuki");
    let suzuki = SoftPasskey::new(&origin, b"suzuki-passkey");
    enrol(&home, &desk, &clerk, "suzuki", &suzuki);
    assert_eq!(sign_in(&clerk, "suzuki", &suzuki).0, 200);

    // A clerk is not offered the sign-off, and is refused it by hand.
    let page = clerk.get(&format!("/certificates/{id}"));
    assert!(!page.body.contains("id=\"sign-off\""), "{}", page.body);
    let (status, reply) = clerk.post_json(
        &format!("/api/certificates/{id}/sign-off/statement"),
        &page.meta_csrf(),
        &serde_json::json!({}),
    );
    assert_eq!(status, 403, "{reply}");

    let page = manager.get(&format!("/certificates/{id}"));
    assert!(page.body.contains("id=\"sign-off\""), "{}", page.body);
    let csrf = page.meta_csrf();
    let before = entries(&home);
    // First signature: the statement of what the manager checked.
    let (status, statement) = manager.post_json(
        &format!("/api/certificates/{id}/sign-off/statement"),
        &csrf,
        &serde_json::json!({}),
    );
    assert_eq!(status, 200, "{statement}");
    let text = statement["record"]["payload"]["statement"]
        .as_str()
        .unwrap();
    assert!(
        text.starts_with(&format!("custody-sign-off/v1\n{id}\n")),
        "{text}"
    );
    let first = tanaka.sign(&statement["pending"], &statement["challenge"]);
    let form = |at: &Value| {
        let mut body = first.clone();
        body["at"] = at.clone();
        body["comment"] = "照合済み: 台帳と処分記録".into();
        body["title"] = "総務課長".into();
        body
    };
    // A statement signed for another time does not hold: refused, nothing recorded.
    let (status, reply) = manager.post_json(
        &format!("/api/certificates/{id}/sign-off/prepare"),
        &csrf,
        &form(&"2026-01-01T00:00:00Z".into()),
    );
    assert_ne!(status, 200, "{reply}");
    assert_eq!(entries(&home), before);
    // Second signature: the ledger entry, over the certificate as re-issued.
    let (status, prepared) = manager.post_json(
        &format!("/api/certificates/{id}/sign-off/prepare"),
        &csrf,
        &form(&statement["at"]),
    );
    assert_eq!(status, 200, "{prepared}");
    assert_eq!(prepared["record"]["kind"], "cert-sign-off");
    assert_eq!(entries(&home), before);
    let signed = tanaka.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, done) = manager.post_json("/api/certificates/sign-off/finish", &csrf, &signed);
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["next"], format!("/certificates/{id}"));
    assert_eq!(entries(&home), before + 1);

    // The re-issued certificate carries tanaka's passkey signature; `cert verify`
    // checks it against the passkey the people register holds.
    let json = home.export_certificate(&id, "signed-off.json");
    let document: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(document["validator"]["name"], "tanaka");
    assert_eq!(document["validator"]["title"], "総務課長");
    assert_eq!(
        document["validator"]["signature"]["format"],
        "custody-passkey/v1"
    );
    let verdict = home
        .run("kato", ["cert", "verify", json.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(verdict["valid"], true, "{verdict:#}");
    let people = verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "people")
        .unwrap()
        .clone();
    assert_eq!(people["ok"], true, "{people:#}");
    assert!(people.to_string().contains("tanaka"), "{people:#}");
    let verified = home.run("kato", ["ledger", "verify"]).ok();
    assert!(
        verified.stdout.contains("signed with the person's passkey"),
        "{}",
        verified.stdout
    );
    // The page no longer offers it, and a second sign-off is refused.
    let page = manager.get(&format!("/certificates/{id}"));
    assert!(!page.body.contains("id=\"sign-off\""), "{}", page.body);
    let (status, reply) = manager.post_json(
        &format!("/api/certificates/{id}/sign-off/statement"),
        &csrf,
        &serde_json::json!({}),
    );
    assert_ne!(status, 200, "{reply}");
}

#[test]
fn a_passkey_signs_in_only_once_another_manager_confirms_it() {
    if !require_tool("curl") {
        return;
    }
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let browser = Browser::new(&desk, home.dir.path(), "tanaka");
    let tanaka = SoftPasskey::new(&origin, b"tanaka-passkey");
    let key_id = enrol_unconfirmed(&home, &desk, &browser, "tanaka", &tanaka);
    assert_eq!(key_id.len(), 16, "{key_id}");
    // Enrolled, not confirmed: no sign-in.
    assert_eq!(sign_in(&browser, "tanaka", &tanaka).0, 403);
    // Not by themselves, not with another id.
    let own = home
        .cmd("tanaka")
        .args([
            "people",
            "confirm",
            "tanaka",
            "--passkey",
            "--key-id",
            &key_id,
        ])
        .output()
        .unwrap();
    assert!(!own.status.success(), "{own:?}");
    let wrong = home
        .cmd("sato")
        .args([
            "people",
            "confirm",
            "tanaka",
            "--passkey",
            "--key-id",
            "0123456789ABCDEF",
        ])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("read it out again"),
        "{wrong:?}"
    );
    // Confirmed by sato, as tanaka reads it out: tanaka signs in.
    home.run(
        "sato",
        [
            "people",
            "confirm",
            "tanaka",
            "--passkey",
            "--key-id",
            &key_id.to_lowercase(),
        ],
    )
    .ok();
    assert_eq!(sign_in(&browser, "tanaka", &tanaka).0, 200);
    let verified = home.run("kato", ["ledger", "verify"]).ok();
    assert!(verified.stdout.contains("passkey"), "{}", verified.stdout);
    let confirmed = home
        .run("kato", ["log", "--kind", "passkey-confirm", "--json"])
        .ok()
        .json();
    assert_eq!(
        confirmed[0]["payload"]["key_id"],
        key_id.as_str(),
        "{confirmed:#}"
    );
}

#[test]
fn a_manager_invites_from_the_desk_and_the_desk_never_holds_the_link() {
    if !require_tool("curl") {
        return;
    }
    use sha2::Digest as _;
    let home = Home::with_people();
    let desk = Desk::start(&home, &[]);
    let origin = format!("http://localhost:{}", port(&desk));
    let manager = Browser::at_localhost(&desk, home.dir.path(), "tanaka");
    let tanaka = SoftPasskey::new(&origin, b"tanaka-passkey");
    enrol(&home, &desk, &manager, "tanaka", &tanaka);
    assert_eq!(sign_in(&manager, "tanaka", &tanaka).0, 200);
    let auditor = Browser::new(&desk, home.dir.path(), "kato");
    let kato = SoftPasskey::new(&origin, b"kato-passkey");
    enrol(&home, &desk, &auditor, "kato", &kato);
    assert_eq!(sign_in(&auditor, "kato", &kato).0, 200);

    // The register, as the command line lists it; an auditor is not offered invite.
    let api: Value = serde_json::from_str(&auditor.get("/api/people").body).unwrap();
    assert_eq!(
        api,
        home.run("kato", ["people", "list", "--json"]).ok().json()
    );
    let page = auditor.get("/people");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("data-name=\"suzuki\""), "{}", page.body);
    let token = "bWFkZS1pbi10aGUtbWFuYWdlcnMtYnJvd3Nlci0xMjM0NTY";
    let hash: String = sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let before = entries(&home);
    let (status, reply) = auditor.post_json(
        "/api/people/suzuki/invite/prepare",
        &page.meta_csrf(),
        &serde_json::json!({ "token_sha256": hash }),
    );
    assert_eq!(status, 403, "{reply}");

    // The manager invites suzuki: only the token's hash goes to the desk.
    let page = manager.get("/people");
    assert!(page.body.contains("data-name=\"suzuki\""), "{}", page.body);
    let csrf = page.meta_csrf();
    let (status, reply) = manager.post_json(
        "/api/people/suzuki/invite/prepare",
        &csrf,
        &serde_json::json!({ "token_sha256": "not a hash" }),
    );
    assert_eq!(status, 409, "{reply}");
    assert_eq!(entries(&home), before);
    let (status, prepared) = manager.post_json(
        "/api/people/suzuki/invite/prepare",
        &csrf,
        &serde_json::json!({ "token_sha256": hash }),
    );
    assert_eq!(status, 200, "{prepared}");
    assert_eq!(prepared["record"]["kind"], "passkey-invite");
    assert_eq!(prepared["record"]["payload"]["confirm"], true);
    let signed = tanaka.sign(&prepared["pending"], &prepared["challenge"]);
    let (status, done) = manager.post_json("/api/people/invite/finish", &csrf, &signed);
    assert_eq!(status, 200, "{done}");
    assert!(!done["expires"].as_str().unwrap().is_empty(), "{done}");
    assert_eq!(entries(&home), before + 1);
    let export = home.run("kato", ["ledger", "export"]).ok().stdout;
    assert!(export.contains(&hash));
    assert!(!export.contains(token));

    // suzuki enrols with the link the manager's browser holds; once sato confirms
    // the passkey, suzuki signs in; the ledger verifies the passkey-signed invitation.
    let clerk = Browser::new(&desk, home.dir.path(), "suzuki");
    let suzuki = SoftPasskey::new(&origin, b"suzuki-passkey");
    let key_id = enrol_with(&clerk, token, "suzuki", &suzuki);
    assert_eq!(sign_in(&clerk, "suzuki", &suzuki).0, 403);
    home.run(
        "sato",
        [
            "people",
            "confirm",
            "suzuki",
            "--passkey",
            "--key-id",
            &key_id,
        ],
    )
    .ok();
    assert_eq!(sign_in(&clerk, "suzuki", &suzuki).0, 200);
    home.run("kato", ["ledger", "verify"]).ok();
}
