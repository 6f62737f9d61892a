//! Real `authgate serve` processes: several instances on one database, and
//! the behaviour through a database outage.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_authgate");
const EMAIL: &str = "boss@multi.test";
const PASSWORD: &str = "multi instance password";

/// A running `authgate serve`, killed on drop. Its log goes to a file,
/// shown only when the test fails: a passing run prints none of the
/// errors an outage test provokes on purpose.
pub struct Instance {
    pub base: String,
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Instance {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
            eprintln!("--- log of authgate at {} ---\n{log}", self.base);
        }
    }
}

fn command(env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHGATE_ARGON2_MEMORY_KIB", "64")
        .env("AUTHGATE_ARGON2_ITERATIONS", "1")
        .env("AUTHGATE_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    cmd
}

/// Starts `authgate serve` on a free port; returns it with what it printed
/// before listening (the bootstrap admin's password, on an empty database).
pub fn start(env: &[(&str, String)]) -> (Instance, Vec<String>) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = command(env)
        .env("AUTHGATE_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut printed = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(addr) = line.strip_prefix("authgate listening on ") {
            return (
                Instance {
                    base: addr.to_owned(),
                    child,
                    log,
                },
                printed,
            );
        }
        printed.push(line);
    }
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(log.path()).unwrap_or_default();
    panic!("authgate exited before listening ({status}): {printed:?}\n{log}");
}

async fn post(client: &reqwest::Client, base: &str, path: &str, body: Value) -> (u16, Value) {
    let res = client
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn login(client: &reqwest::Client, base: &str) -> (u16, Value) {
    post(
        client,
        base,
        "/v1/auth/login",
        json!({"email": EMAIL, "password": PASSWORD}),
    )
    .await
}

/// Two `authgate serve` processes on one database (the test's SQLite file
/// or PostgreSQL schema), with an organization made by the CLI first.
struct Pair {
    a: Instance,
    b: Instance,
    _dir: tempfile::TempDir,
    _db: TestDb,
}

fn two_instances() -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    let mut env = vec![(
        "AUTHGATE_DATA_DIR",
        dir.path().to_string_lossy().into_owned(),
    )];
    if let Some(url) = &db.url {
        env.push(("AUTHGATE_DATABASE_URL", url.clone()));
    }
    // Keys, schema and the organization come first, from the CLI.
    let mut create = command(&env)
        .args(["org", "create", "--name", "Multi", "--admin-email", EMAIL])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    assert!(create.wait().unwrap().success());
    let (a, _) = start(&env);
    let (b, _) = start(&env);
    Pair {
        a,
        b,
        _dir: dir,
        _db: db,
    }
}

/// `n` code-step challenges, opened alternately on A and on B.
async fn challenges_on_both(
    client: &reqwest::Client,
    a: &Instance,
    b: &Instance,
    n: usize,
) -> Vec<String> {
    let mut challenges = Vec::new();
    for i in 0..n {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let (status, ch) = login(client, base).await;
        assert_eq!(status, 200, "{ch}");
        challenges.push(ch["challenge_token"].as_str().unwrap().to_owned());
    }
    challenges
}

/// Sends `code` to every challenge at once, each to the other instance
/// than the one that opened it; the answers, in challenge order.
async fn submit_crosswise(
    client: &reqwest::Client,
    a: &Instance,
    b: &Instance,
    challenges: Vec<String>,
    code: &str,
) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = challenges
        .into_iter()
        .enumerate()
        .map(|(i, challenge)| {
            let url = format!("{}/v1/auth/otp", if i % 2 == 0 { &b.base } else { &a.base });
            let req = client
                .post(url)
                .json(&json!({"challenge_token": challenge, "code": code}));
            tokio::spawn(async move {
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                (status, res.json().await.unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

#[tokio::test]
async fn instances_sharing_a_database_share_replay_sessions_and_challenges() {
    let Pair { a, b, _dir, _db } = two_instances();
    let client = reqwest::Client::new();

    // Enroll through A.
    let (_, tokens) = login(&client, &a.base).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let bearer = |req: reqwest::RequestBuilder| req.bearer_auth(&access);
    let e: Value = bearer(client.post(format!("{}/v1/me/two-factor/enrollment", a.base)))
        .json(&serde_json::json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut auth = Authenticator::from_base32(e["secret"].as_str().unwrap());
    let confirm = bearer(client.post(format!("{}/v1/me/two-factor/enrollment/confirm", b.base)))
        .json(&json!({"code": auth.fresh_code().await}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        confirm.status().as_u16(),
        200,
        "the pending enrollment made by A is confirmed through B"
    );

    // A challenge from A is accepted by B; the code it used is refused by A.
    let (_, ch) = login(&client, &a.base).await;
    let code = auth.fresh_code().await;
    let (status, tokens) = post(
        &client,
        &b.base,
        "/v1/auth/otp",
        json!({"challenge_token": ch["challenge_token"], "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let (_, ch) = login(&client, &b.base).await;
    let (status, body) = post(
        &client,
        &a.base,
        "/v1/auth/otp",
        json!({"challenge_token": ch["challenge_token"], "code": code}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("code_already_used")),
        "replay across instances"
    );

    // Logged out through A: B refuses the refresh token.
    let access = tokens["access_token"].as_str().unwrap();
    let out = client
        .post(format!("{}/v1/auth/logout", a.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    let (status, _) = post(
        &client,
        &b.base,
        "/v1/auth/refresh",
        json!({"refresh_token": tokens["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 401);

    // 50 submissions of one valid code, spread over both: exactly one wins.
    let challenges = challenges_on_both(&client, &a, &b, 50).await;
    let code = auth.fresh_code().await;
    let statuses: Vec<u16> = submit_crosswise(&client, &a, &b, challenges, &code)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 401, 429].contains(s)),
        "{statuses:?}"
    );
}

/// A private PostgreSQL cluster on a spare port, which the test stops and
/// starts. initdb refuses to run as root, so as root it runs as `postgres`.
struct Cluster {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
}

impl Cluster {
    fn shell(&self, script: &str) {
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        let status = if as_root {
            Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", script])
                .status()
        } else {
            Command::new("sh").args(["-c", script]).status()
        }
        .unwrap();
        assert!(status.success(), "{script}");
    }

    fn new() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect(
                "PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql)",
            )
            .map(|e| e.unwrap().path().join("bin"))
            .find(|p| p.join("initdb").exists())
            .expect("initdb");
        let dir = tempfile::Builder::new()
            .prefix("authgate-pg")
            .tempdir_in("/tmp")
            .unwrap();
        Command::new("chmod")
            .args(["777"])
            .arg(dir.path())
            .status()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { dir, bin, port };
        cluster.shell(&format!(
            "{}/initdb -D {}/data -U postgres --auth=trust >/dev/null",
            cluster.bin.display(),
            cluster.dir.path().display()
        ));
        cluster.start();
        cluster
    }

    fn pg_ctl(&self, action: &str) {
        let d = self.dir.path().display();
        self.shell(&format!(
            "{}/pg_ctl -D {d}/data -l {d}/log -o '-p {} -k {d} -c listen_addresses=127.0.0.1' -m fast -w {action} >/dev/null",
            self.bin.display(),
            self.port
        ));
    }

    fn start(&self) {
        self.pg_ctl("start");
    }

    fn stop(&self) {
        self.pg_ctl("stop");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let d = self.dir.path().display();
        let _ = Command::new("su")
            .args([
                "postgres",
                "-s",
                "/bin/sh",
                "-c",
                &format!(
                    "{}/pg_ctl -D {d}/data -m immediate stop",
                    self.bin.display()
                ),
            ])
            .output();
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args(["-D", &format!("{d}/data"), "-m", "immediate", "stop"])
            .output();
    }
}

#[tokio::test]
async fn a_database_outage_gives_503_and_service_resumes_without_a_restart() {
    if !on_postgres() {
        eprintln!("this test runs in the PostgreSQL pass (AUTHGATE_TEST_DATABASE=postgres)");
        return;
    }
    let cluster = Cluster::new();
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "AUTHGATE_DATA_DIR",
            dir.path().to_string_lossy().into_owned(),
        ),
        ("AUTHGATE_DATABASE_URL", cluster.url()),
        ("AUTHGATE_DB_POOL_TIMEOUT_SECS", "2".to_owned()),
        ("AUTHGATE_BOOTSTRAP_ADMIN_EMAIL", EMAIL.to_owned()),
    ];
    let (server, printed) = start(&env);
    let password = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .expect("bootstrap password")
        .to_owned();
    let client = reqwest::Client::new();
    let creds = json!({"email": EMAIL, "password": password});
    let (status, tokens) = post(&client, &server.base, "/v1/auth/login", creds.clone()).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    cluster.stop();
    let started = Instant::now();
    let (status, body) = post(&client, &server.base, "/v1/auth/login", creds.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("database_unavailable")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "answered within the pool timeout, no hang"
    );
    let me = client
        .get(format!("{}/v1/me", server.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 503);
    assert_eq!(me.headers()["content-type"], "application/problem+json");
    let ready = client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200, "the process is alive");

    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = post(&client, &server.base, "/v1/auth/login", creds.clone()).await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume (last status {status})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

#[tokio::test]
async fn two_instances_accept_a_code_from_the_second_authenticator_exactly_once() {
    let Pair { a, b, _dir, _db } = two_instances();
    let client = reqwest::Client::new();
    let (_, tokens) = login(&client, &a.base).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let send = |base: &str, path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&access)
            .json(&body)
            .send()
    };
    // The first authenticator through A, the second through B.
    let e: Value = send(
        &a.base,
        "/v1/me/two-factor/enrollment",
        json!({"password": PASSWORD}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut first = Authenticator::from_base32(e["secret"].as_str().unwrap());
    let r = send(
        &a.base,
        "/v1/me/two-factor/enrollment/confirm",
        json!({"code": first.fresh_code().await}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let added: Value = send(
        &b.base,
        "/v1/me/two-factor/authenticators",
        json!({"name": "Second", "password": PASSWORD, "code": first.fresh_code().await}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = added["id"].as_str().expect("added").to_owned();
    let mut second = Authenticator::from_base32(added["secret"].as_str().unwrap());
    let r = send(
        &a.base,
        &format!("/v1/me/two-factor/authenticators/{id}/confirm"),
        json!({"code": second.fresh_code().await}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200, "confirmed through A what B added");

    // 20 challenges, half from each instance; one code of the second
    // authenticator sent to all of them at once, crosswise.
    let challenges = challenges_on_both(&client, &a, &b, 20).await;
    let code = second.fresh_code().await;
    let answers = submit_crosswise(&client, &a, &b, challenges, &code).await;
    let accepted = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(accepted, 1, "{answers:?}");
    for (status, body) in &answers {
        if *status != 200 {
            assert_eq!(
                (*status, body["code"].as_str()),
                (401, Some("code_already_used")),
                "{answers:?}"
            );
        }
    }
    // The history names the second authenticator for the one success.
    let winner = &answers.iter().find(|(s, _)| *s == 200).unwrap().1;
    let history: Value = client
        .get(format!("{}/v1/me/login-history?limit=50", b.base))
        .bearer_auth(winner["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let successes: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "success" && e["authenticator"]["id"] == id.as_str())
        .collect();
    assert_eq!(successes.len(), 1, "{history}");
    assert_eq!(successes[0]["authenticator"]["name"], "Second");
}
