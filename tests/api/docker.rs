//! The Docker path without a Docker daemon: the secrets recipe and the
//! configuration docker-compose.yml gives the container, run for real
//! against the binary (SQLite in place of the compose file's PostgreSQL).

use std::{
    io::{BufRead, BufReader},
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Command, Stdio},
};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn the_secrets_recipe_is_readable_by_the_container_and_url_safe() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("secrets");
    let out = Command::new("bash")
        .arg(repo().join("scripts/docker-secrets"))
        .arg(&dir)
        .env("AUTHGATE_SIGNING_ALG", "ES256")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "only the host user enters the directory");
    for f in [
        "signing.pem",
        "encryption.key",
        "postgres_password",
        "database_url",
        "bootstrap_admin_password",
    ] {
        assert_eq!(
            mode(&dir.join(f)),
            0o644,
            "{f}: uid 10001 must read the bind mount"
        );
    }
    let password = std::fs::read_to_string(dir.join("postgres_password")).unwrap();
    assert!(password.trim().chars().all(|c| c.is_ascii_hexdigit()));
    let url = std::fs::read_to_string(dir.join("database_url")).unwrap();
    assert_eq!(
        url.trim(),
        format!(
            "postgres://authgate:{}@postgres:5432/authgate",
            password.trim()
        )
    );
    assert!(api::config::Settings::from_lookup(|k| {
        (k == "AUTHGATE_DATABASE_URL").then(|| url.trim().to_owned())
    })
    .is_ok());

    // The container's configuration, as docker-compose.yml sets it.
    let compose = std::fs::read_to_string(repo().join("docker-compose.yml")).unwrap();
    for var in [
        "AUTHGATE_ENV: production",
        "AUTHGATE_DATABASE_URL_FILE: /run/secrets/database_url",
        "AUTHGATE_SIGNING_KEY_FILE: /run/secrets/signing_key",
        "AUTHGATE_ENCRYPTION_KEY_FILE: /run/secrets/encryption_key",
        "AUTHGATE_BOOTSTRAP_ADMIN_PASSWORD_FILE: /run/secrets/bootstrap_admin_password",
        "AUTHGATE_SMTP_URL:",
    ] {
        assert!(compose.contains(var), "docker-compose.yml lacks {var}");
    }
    // Run that configuration (secret paths mapped to the files just made,
    // the database URL file pointing at SQLite): it starts in production
    // mode and the bootstrap admin logs in with the password file's text.
    let sqlite_url = tmp.path().join("database_url_sqlite");
    std::fs::write(
        &sqlite_url,
        format!("sqlite://{}\n", tmp.path().join("ag.db").display()),
    )
    .unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_authgate"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHGATE_ENV", "production")
        .env("AUTHGATE_LISTEN", "127.0.0.1:0")
        .env("AUTHGATE_DATA_DIR", tmp.path())
        .env("AUTHGATE_SIGNING_ALG", "ES256")
        .env("AUTHGATE_DATABASE_URL_FILE", &sqlite_url)
        .env("AUTHGATE_SIGNING_KEY_FILE", dir.join("signing.pem"))
        .env("AUTHGATE_ENCRYPTION_KEY_FILE", dir.join("encryption.key"))
        .env("AUTHGATE_BOOTSTRAP_ADMIN_EMAIL", "admin@example.com")
        // Production needs a mail server configured (not reached at start).
        .env("AUTHGATE_SMTP_URL", "smtp://127.0.0.1:2525")
        .env(
            "AUTHGATE_BOOTSTRAP_ADMIN_PASSWORD_FILE",
            dir.join("bootstrap_admin_password"),
        )
        .env("AUTHGATE_ARGON2_MEMORY_KIB", "64")
        .env("AUTHGATE_ARGON2_ITERATIONS", "1")
        .env("AUTHGATE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let listening = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.contains("listening on"))
        .expect("the server starts");
    let port: u16 = listening.rsplit(':').next().unwrap().parse().unwrap();
    let password = std::fs::read_to_string(dir.join("bootstrap_admin_password")).unwrap();
    let body = serde_json::json!({"email": "admin@example.com", "password": password.trim()});
    let res = std::process::Command::new("curl")
        .args(["-fsS", "-H", "content-type: application/json", "-d"])
        .arg(body.to_string())
        .arg(format!("http://127.0.0.1:{port}/v1/auth/login"))
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap_or_default();
    assert_eq!(
        reply["status"],
        "authenticated",
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
}
