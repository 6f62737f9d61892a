//! A clean stop leaves a tidy SQLite database: the final truncating
//! checkpoint runs before the process exits.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

const BIN: &str = env!("CARGO_BIN_EXE_authgate");

#[tokio::test]
async fn after_sigterm_the_wal_is_gone_or_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHGATE_DATA_DIR", dir.path())
        .env("AUTHGATE_ARGON2_MEMORY_KIB", "64")
        .env("AUTHGATE_ARGON2_ITERATIONS", "1")
        .env("AUTHGATE_LOG", "warn")
        .env("AUTHGATE_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    // The bootstrap admin is printed first, then the listening line.
    let listening = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.starts_with("authgate listening"))
        .unwrap();
    let port: u16 = listening.rsplit(':').next().unwrap().parse().unwrap();
    // Some writes, so the WAL has content: failed logins are recorded.
    let client = reqwest::Client::new();
    for _ in 0..20 {
        client
            .post(format!("http://127.0.0.1:{port}/v1/auth/login"))
            .json(&serde_json::json!({"email": "nobody@x.test", "password": "wrong password", "client": "web"}))
            .send()
            .await
            .unwrap();
    }
    let wal = dir.path().join("authgate.db-wal");
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0,
        "the WAL holds the writes while running"
    );
    let pid = server.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = server.wait().unwrap();
    assert!(status.success(), "a clean stop: {status:?}");
    let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(left, 0, "the WAL was checkpointed into the database");
}
