//! The real `authgate` binary.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
};

const BIN: &str = env!("CARGO_BIN_EXE_authgate");

fn authgate(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHGATE_DATA_DIR", dir)
        .env("AUTHGATE_ARGON2_MEMORY_KIB", "64")
        .env("AUTHGATE_ARGON2_ITERATIONS", "1")
        .env("AUTHGATE_LOG", "warn");
    cmd
}

#[test]
fn org_create_reads_the_password_from_stdin_and_serve_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = authgate(dir.path())
        .args([
            "org",
            "create",
            "--name",
            "Acme Inbox",
            "--admin-email",
            "Boss@Acme.test",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("admin boss@acme.test"), "{stdout}");
    assert!(
        !stdout.contains("password:"),
        "a given password is never echoed"
    );

    // serve on the same data dir: no bootstrap admin, the org admin logs in.
    let mut server = authgate(dir.path())
        .env("AUTHGATE_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port: u16 = first.rsplit(':').next().unwrap().parse().expect(&first);
    assert!(
        first.starts_with("authgate listening"),
        "no bootstrap on a database with an organization: {first}"
    );
    let status = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "content-type: application/json",
        ])
        .args([
            "-d",
            r#"{"email":"boss@acme.test","password":"a long enough password"}"#,
        ])
        .arg(format!("http://127.0.0.1:{port}/v1/auth/login"))
        .output()
        .unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "200");
}

#[test]
fn serve_bootstraps_an_admin_on_an_empty_database_and_prints_the_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = authgate(dir.path())
        .env("AUTHGATE_LISTEN", "127.0.0.1:0")
        .env("AUTHGATE_BOOTSTRAP_ADMIN_EMAIL", "first@example.com")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("authgate listening");
        printed.push(line);
        if done {
            break;
        }
    }
    server.kill().unwrap();
    let _ = server.wait();
    let text = printed.join("\n");
    assert!(text.contains("admin first@example.com"), "{text}");
    let password = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .expect("the generated password is printed");
    assert!(password.len() >= 20);
    assert!(dir.path().join("keys/signing.pem").exists());
    assert!(dir.path().join("keys/encryption.key").exists());
}

#[test]
fn production_without_configured_keys_refuses_to_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = authgate(dir.path())
        .env("AUTHGATE_ENV", "production")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AUTHGATE_SIGNING_KEY_FILE"), "{stderr}");
    assert!(
        !dir.path().join("keys").exists(),
        "no key is generated in production"
    );
}

#[test]
fn a_bad_setting_stops_startup_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = authgate(dir.path())
        .env("AUTHGATE_DATABASE_URL", "mysql://db/x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AUTHGATE_DATABASE_URL"));
}

#[test]
fn migrate_applies_the_schema_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = authgate(dir.path()).arg("migrate").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(dir.path().join("authgate.db").exists());
}

#[test]
fn openapi_prints_the_spec() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let spec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
}

#[test]
fn production_accepts_keys_made_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signing.pem");
    let status = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key)
        .status()
        .expect("openssl is installed");
    assert!(status.success());
    std::fs::write(
        dir.path().join("enc.key"),
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    )
    .unwrap();
    let out = authgate(dir.path())
        .env("AUTHGATE_ENV", "production")
        .env("AUTHGATE_SIGNING_KEY_FILE", &key)
        .env("AUTHGATE_ENCRYPTION_KEY_FILE", dir.path().join("enc.key"))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("keys").exists());
}

#[test]
fn operator_commands_refuse_to_run_without_the_servers_database() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("not-the-server");
    for args in [
        &[
            "support",
            "unlock",
            "--email",
            "a@acme.test",
            "--reason",
            "x",
        ][..],
        &[
            "support",
            "reset-two-factor",
            "--email",
            "a@acme.test",
            "--reason",
            "x",
        ],
        &[
            "support",
            "send-password-reset",
            "--email",
            "a@acme.test",
            "--reason",
            "x",
        ],
        &["keys", "rotate"],
    ] {
        let out = authgate(&empty)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no database at") && err.contains("AUTHGATE_DATA_DIR"),
            "{args:?}: {err}"
        );
        assert!(!empty.exists(), "nothing created for {args:?}");
        assert!(!dir.path().join("data").exists());
    }
}
