//! `start --useHttps --cert X.pfx --password ...`: a PKCS#12 file as Core
//! Tools takes it, made here by the openssl command in each encryption
//! that openssl and .NET write, served and called over TLS by a client
//! that trusts only its certificate; and every file that cannot serve
//! refused with one line naming it.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use cargo_azfunc::handler::client::free_port;
use cargo_azfunc::process::Process;
use support::fake_app;
use support::tls::get_when_up;
use tempfile::TempDir;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

const PASSWORD: &str = "s3cret pass";

/// `openssl ARGS` in `dir`: whether it succeeded, and what it said.
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command (.ci/run installs it)");
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), said)
}

fn openssl_ok(dir: &Path, args: &[&str]) {
    let (ok, said) = openssl(dir, args);
    assert!(ok, "openssl {args:?}: {said}");
}

/// key.pem (RSA, as Core Tools' own openssl recipe makes) and cert.pem, a
/// self-signed certificate for localhost and 127.0.0.1, in a new folder.
fn certificate() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    openssl_ok(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            // An end-entity certificate: rustls refuses a CA as a server's.
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    dir
}

/// `openssl pkcs12 -export` of key.pem and cert.pem to `name` with
/// `password` and the `extra` arguments; whether this openssl could.
fn export(dir: &Path, name: &str, password: &str, extra: &[&str]) -> bool {
    let passout = format!("pass:{password}");
    let mut args = vec![
        "pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-out", name, "-passout",
        &passout,
    ];
    args.extend_from_slice(extra);
    let (ok, said) = openssl(dir, &args);
    if !ok {
        eprintln!("openssl {args:?}: {said}");
    }
    ok
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("UTF-8 temp path")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("cargo-azfunc runs")
}

/// The error line, which must be the only line on stderr.
fn one_error_line(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].starts_with("cargo-azfunc: error: "), "{text}");
    lines[0].to_owned()
}

/// Serves the fake app with `--useHttps --cert pfx` and `password_args`,
/// calls `GET /api/echo/7` over TLS trusting only `trust`, and checks
/// that the request's URL the handler got says https.
async fn served_over_tls(app: &Path, pfx: &Path, password_args: &[&str], trust: &Path) {
    let port = free_port();
    let port_text = port.to_string();
    let mut args = vec![
        "start",
        "--app",
        path(app),
        "--port",
        &port_text,
        "--useHttps",
        "--cert",
        path(pfx),
    ];
    args.extend_from_slice(password_args);
    let mut process = Process::start_with_args(Path::new(BIN), &args, &[]).expect("spawned");
    let reply = get_when_up(trust, port, "/api/echo/7", Duration::from_secs(20)).await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            let _ = process.child.kill();
            let (out, err) = process.output();
            panic!("{} not served: {e}\n{out}{err}", pfx.display());
        }
    };
    let seen: serde_json::Value = serde_json::from_str(&reply.body).expect("Echo's JSON");
    assert_eq!(
        seen["envelope"]["Data"]["req"]["Url"],
        format!("https://localhost:{port}/api/echo/7"),
        "{seen}"
    );
    let served = std::fs::read(trust).expect("cert.pem");
    let served = CertificateDer::from_pem_slice(&served).expect("PEM");
    assert_eq!(reply.certificate, served.to_vec());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pfx_is_served_in_each_encryption_openssl_and_dotnet_write() {
    let made = certificate();
    let dir = made.path();
    let app = fake_app();
    let trust = dir.join("cert.pem");
    // The password as Core Tools also takes it: a file holding it.
    let password_file = dir.join("password.txt");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("written");

    // openssl 3's default: AES-256-CBC with PBKDF2 and an HMAC-SHA256 MAC.
    assert!(export(dir, "aes.pfx", PASSWORD, &[]));
    served_over_tls(
        app.path(),
        &dir.join("aes.pfx"),
        &["--password", PASSWORD],
        &trust,
    )
    .await;

    // .NET's Export(Pkcs12): the key in 3DES, 2000 rounds, a SHA-1 MAC, the
    // certificate unencrypted (as `dotnet dev-certs https -ep` writes).
    assert!(export(
        dir,
        "dotnet.pfx",
        PASSWORD,
        &[
            "-keypbe",
            "PBE-SHA1-3DES",
            "-certpbe",
            "NONE",
            "-macalg",
            "sha1",
            "-iter",
            "2000"
        ]
    ));
    served_over_tls(
        app.path(),
        &dir.join("dotnet.pfx"),
        &["--password", path(&password_file)],
        &trust,
    )
    .await;

    // An empty password, as --password's default.
    assert!(export(dir, "open.pfx", "", &[]));
    served_over_tls(app.path(), &dir.join("open.pfx"), &[], &trust).await;

    // openssl 1.x's default (openssl 3's -legacy): the certificate in
    // RC2-40, the key in 3DES. openssl 3 needs its legacy provider for it.
    if export(dir, "legacy.pfx", PASSWORD, &["-legacy"]) {
        served_over_tls(
            app.path(),
            &dir.join("legacy.pfx"),
            &["--password", PASSWORD],
            &trust,
        )
        .await;
    } else {
        eprintln!("this openssl has no -legacy: the RC2 case is not run");
    }
}

#[test]
fn a_pfx_that_cannot_serve_is_refused_naming_the_file() {
    let made = certificate();
    let dir = made.path();
    let app = fake_app();
    let app = path(app.path());
    assert!(export(dir, "good.pfx", PASSWORD, &[]));
    let start = |cert: &Path, password: Option<&str>| {
        let mut args = vec!["start", "--app", app, "--useHttps", "--cert", path(cert)];
        if let Some(password) = password {
            args.extend(["--password", password]);
        }
        one_error_line(&run(&args))
    };
    let named = |line: &str, file: &Path| {
        assert!(
            line.contains(&format!("--cert {}:", file.display())),
            "{line}"
        );
    };

    let good = dir.join("good.pfx");
    let line = start(&good, Some("not it"));
    named(&line, &good);
    assert!(line.contains("the password does not open it"), "{line}");
    let line = start(&good, None);
    named(&line, &good);
    assert!(line.contains("give its password with --password"), "{line}");

    // Cut short, and not a certificate file at all.
    let bytes = std::fs::read(&good).expect("good.pfx");
    let cut = dir.join("cut.pfx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("written");
    let line = start(&cut, Some(PASSWORD));
    named(&line, &cut);
    assert!(line.contains("PKCS#12"), "{line}");
    let garbage = dir.join("garbage.pfx");
    std::fs::write(&garbage, b"\x00\x01 not a certificate").expect("written");
    let line = start(&garbage, Some(PASSWORD));
    named(&line, &garbage);
    assert!(line.contains("neither PEM nor a PKCS#12"), "{line}");

    // Far too large to be a certificate file: not read whole.
    let huge = dir.join("huge.pfx");
    std::fs::File::create(&huge)
        .and_then(|file| file.set_len(1 << 30))
        .expect("a sparse file");
    let line = start(&huge, Some(PASSWORD));
    named(&line, &huge);
    assert!(line.contains("no certificate file is"), "{line}");

    // A certificate with no key, and a key with no certificate.
    assert!(export(dir, "nokey.pfx", PASSWORD, &["-nokeys"]));
    let nokey = dir.join("nokey.pfx");
    let line = start(&nokey, Some(PASSWORD));
    named(&line, &nokey);
    assert!(line.contains("no private key"), "{line}");
    assert!(export(dir, "nocert.pfx", PASSWORD, &["-nocerts"]));
    let nocert = dir.join("nocert.pfx");
    let line = start(&nocert, Some(PASSWORD));
    named(&line, &nocert);
    assert!(
        line.contains("no certificate for its private key"),
        "{line}"
    );

    // PEM has no password to give.
    let pem = dir.join("both.pem");
    let both = std::fs::read_to_string(dir.join("cert.pem")).expect("cert.pem")
        + &std::fs::read_to_string(dir.join("key.pem")).expect("key.pem");
    std::fs::write(&pem, both).expect("written");
    let line = start(&pem, Some(PASSWORD));
    named(&line, &pem);
    assert!(line.contains("--password does not open"), "{line}");

    // clap's usage error: --password needs --cert.
    let output = run(&["start", "--app", app, "--useHttps", "--password", "x"]);
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("--cert"), "{said}");
}
