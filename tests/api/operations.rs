//! Issue: production operations — metrics, request ids, logs without
//! secrets, the bounded hashing pool, graceful shutdown.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::json;

use crate::{helpers::*, instances};

#[tokio::test]
async fn metrics_count_requests_per_route_login_outcomes_and_pools() {
    let app = spawn_app_with(&[("AUTHGATE_METRICS_LISTEN", "127.0.0.1:0")]).await;
    app.login(ADMIN_EMAIL, "wrong").await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.get("/v1/me", Some(&token)).await.assert_ok();
    let metrics = format!("{}/metrics", app.metrics_base.as_deref().unwrap());
    let res = app.client.get(metrics).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    for line in [
        "authgate_http_requests_total{method=\"POST\",route=\"/v1/auth/login\",status=\"4xx\"} 1",
        "authgate_http_requests_total{method=\"POST\",route=\"/v1/auth/login\",status=\"2xx\"} 1",
        "authgate_http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"2xx\"} 1",
        "authgate_login_attempts_total{outcome=\"invalid_credentials\"} 1",
        "authgate_login_attempts_total{outcome=\"success\"} 1",
        "authgate_login_attempts_total{outcome=\"locked\"} 0",
        "authgate_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/me\"} 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(text.contains("authgate_db_pool_max_connections 8"));
    assert!(text.contains("authgate_hash_pool_workers 2"));
}

#[tokio::test]
async fn metrics_are_not_on_the_public_port_and_never_tell_whether_an_account_exists() {
    let app = spawn_app_with(&[("AUTHGATE_METRICS_LISTEN", "127.0.0.1:0")]).await;
    app.get("/metrics", None)
        .await
        .assert_problem(404, "not_found");
    app.login("nobody@acme.test", "guess").await;
    app.login(ADMIN_EMAIL, "wrong").await;
    let metrics = format!("{}/metrics", app.metrics_base.as_deref().unwrap());
    let text = app
        .client
        .get(metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("authgate_login_attempts_total{outcome=\"invalid_credentials\"} 2"));
    assert!(!text.contains("unknown_account") && !text.contains("wrong_password"));
    // Off by default: nothing listens and the public port still says 404.
    let plain = spawn_app().await;
    assert!(plain.metrics_base.is_none());
    plain
        .get("/metrics", None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36);
    let res = app
        .client
        .get(app.url("/v1/nowhere"))
        .header("X-Request-Id", "trace-42.a_b")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-42.a_b");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503_while_other_endpoints_keep_answering() {
    let app = spawn_app_with(&[
        ("AUTHGATE_HASH_WORKERS", "1"),
        ("AUTHGATE_HASH_QUEUE", "1"),
        // Every storm login comes from one address: lift its share so that
        // the full queue is what refuses here.
        ("AUTHGATE_HASH_PER_ADDRESS", "100"),
        ("AUTHGATE_ARGON2_MEMORY_KIB", "8192"),
        ("AUTHGATE_ARGON2_ITERATIONS", "30"),
    ])
    .await;
    // A token first (this login hashes with the old, cheap hash's own cost).
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // A storm of logins with an expensive dummy hash (unknown emails).
    let storm: Vec<_> = (0..8)
        .map(|i| {
            let req = app
                .client
                .post(app.url("/v1/auth/login"))
                .json(&json!({"email": format!("nobody{i}@acme.test"), "password": "x"}));
            tokio::spawn(async move {
                let res = req.send().await.unwrap();
                let retry = res
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (res.status().as_u16(), retry)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Meanwhile health, the profile and refresh do not wait for hashes.
    assert_eq!(app.get("/healthz", None).await.status.as_u16(), 200);
    app.get("/v1/me", Some(&token)).await.assert_ok();
    let mut statuses = Vec::new();
    for t in storm {
        statuses.push(t.await.unwrap());
    }
    let overloaded: Vec<_> = statuses.iter().filter(|(s, _)| *s == 503).collect();
    assert!(!overloaded.is_empty(), "{statuses:?}");
    assert!(overloaded
        .iter()
        .all(|(_, retry)| retry.as_deref() == Some("1")));
    assert!(
        statuses.iter().all(|(s, _)| *s == 401 || *s == 503),
        "{statuses:?}"
    );
}

#[test]
fn sigterm_lets_an_in_flight_login_finish_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "AUTHGATE_DATA_DIR",
            dir.path().to_string_lossy().into_owned(),
        ),
        (
            "AUTHGATE_BOOTSTRAP_ADMIN_EMAIL",
            "boss@multi.test".to_owned(),
        ),
        // Every hash takes a good fraction of a second: the login is slow.
        ("AUTHGATE_ARGON2_MEMORY_KIB", "19456".to_owned()),
        ("AUTHGATE_ARGON2_ITERATIONS", "40".to_owned()),
    ];
    let (mut server, printed) = instances::start(&env);
    let password = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap()
        .to_owned();
    let base = server.base.clone();
    let in_flight = std::thread::spawn(move || {
        let body = json!({"email": "boss@multi.test", "password": password}).to_string();
        Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                "content-type: application/json",
                "-d",
                &body,
            ])
            .arg(format!("{base}/v1/auth/login"))
            .output()
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(150));
    let pid = server.pid();
    assert!(Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    let out = in_flight.join().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200",
        "the in-flight request completed"
    );
    let status = server.wait();
    assert!(status.success(), "exited cleanly: {status}");
}

#[test]
fn logs_name_the_request_and_never_hold_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_authgate"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHGATE_DATA_DIR", dir.path())
        .env("AUTHGATE_LISTEN", "127.0.0.1:0")
        .env("AUTHGATE_ARGON2_MEMORY_KIB", "64")
        .env("AUTHGATE_ARGON2_ITERATIONS", "1")
        .env("AUTHGATE_LOG", "debug")
        .env("AUTHGATE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut password = String::new();
    let base = loop {
        let line = stdout.next().unwrap().unwrap();
        if let Some(p) = line.trim().strip_prefix("password: ") {
            password = p.to_owned();
        }
        if let Some(addr) = line.strip_prefix("authgate listening on ") {
            break addr.to_owned();
        }
    };
    let login = |pw: &str| {
        let body = json!({"email": "admin@localhost", "password": pw}).to_string();
        let out = Command::new("curl")
            .args([
                "-s",
                "-H",
                "content-type: application/json",
                "-H",
                "X-Request-Id: req-from-test",
                "-d",
                &body,
            ])
            .arg(format!("{base}/v1/auth/login"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let tokens: serde_json::Value = serde_json::from_str(&login(&password)).unwrap();
    login("a wrong password");
    let _ = child.kill();
    let _ = child.wait();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.lines()
            .any(|l| l.contains("req-from-test") && l.contains("\"status\":200")),
        "{logs}"
    );
    for secret in [
        password.as_str(),
        "a wrong password",
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
