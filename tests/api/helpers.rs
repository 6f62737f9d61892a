use std::{path::PathBuf, sync::Arc, time::Duration};

use api::{
    clock::Clock,
    config::Settings,
    startup::{self, Application},
};
use auth_core::{
    totp::{TimeStep, TotpParams, TotpSecret},
    UnixTime,
};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const ADMIN_EMAIL: &str = "admin@acme.test";
pub const ADMIN_PASSWORD: &str = "acme admin password";
pub const OTHER_ADMIN_EMAIL: &str = "admin@globex.test";
pub const OTHER_ADMIN_PASSWORD: &str = "globex admin password";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub db: TestDb,
    pub acme_org_id: String,
    pub acme_admin_id: String,
    /// The server's clock: a test moves it forward instead of sleeping.
    pub clock: Clock,
    /// The private metrics listener, when `AUTHGATE_METRICS_LISTEN` is set.
    pub metrics_base: Option<String>,
}

/// Settings for a test: a private data dir, a free port, and argon2 made
/// cheap through configuration (the only cost knob tests touch).
pub fn test_settings(dir: &std::path::Path, db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    let data_dir = dir.to_string_lossy().into_owned();
    let database_url = db.url.clone();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    Settings::from_lookup(move |k| {
        if let Some((_, v)) = extra.iter().find(|(key, _)| key == k) {
            return Some(v.clone());
        }
        match k {
            "AUTHGATE_DATA_DIR" => Some(data_dir.clone()),
            "AUTHGATE_DATABASE_URL" => database_url.clone(),
            "AUTHGATE_LISTEN" => Some("127.0.0.1:0".into()),
            "AUTHGATE_ARGON2_MEMORY_KIB" => Some("64".into()),
            "AUTHGATE_ARGON2_ITERATIONS" => Some("1".into()),
            "AUTHGATE_WORKERS" => Some("2".into()),
            "AUTHGATE_LOG" => Some("warn".into()),
            // Most tests create users with a known password through the
            // operator's escape hatch; the invitation tests turn it off.
            "AUTHGATE_ADMIN_SET_PASSWORDS" => Some("true".into()),
            _ => None,
        }
    })
    .expect("test settings")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    let settings = test_settings(dir.path(), &db, extra);
    let clock = Clock::adjustable();
    let services =
        Arc::new(startup::services_with_clock(&settings, clock.clone()).expect("services"));
    let acme = services
        .create_organization(
            &"Acme".parse().unwrap(),
            &ADMIN_EMAIL.parse().unwrap(),
            Some(auth_core::password::Password::new_secret(ADMIN_PASSWORD.into()).unwrap()),
        )
        .unwrap();
    services
        .create_organization(
            &"Globex".parse().unwrap(),
            &OTHER_ADMIN_EMAIL.parse().unwrap(),
            Some(auth_core::password::Password::new_secret(OTHER_ADMIN_PASSWORD.into()).unwrap()),
        )
        .unwrap();
    let app = Application::build(&settings, services.clone()).expect("application");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics_base = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: reqwest::Client::builder()
            .user_agent("authgate-tests/1.0")
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        dir,
        db,
        acme_org_id: acme.organization_id.into_string(),
        acme_admin_id: acme.admin_id.into_string(),
        clock,
        metrics_base,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "body: {}",
            self.body
        );
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["title"].is_string()
                && self.body["detail"].is_string()
                && self.body["type"].is_string()
        );
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        &self.body
    }
}

impl TestApp {
    /// An authenticator app for `secret` on this app's clock.
    pub fn authenticator(&self, secret: &str) -> Authenticator {
        Authenticator::with_clock(secret, self.clock.clone())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = res.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            content_type,
            headers,
            body,
        }
    }

    pub async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> Reply {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn patch(&self, path: &str, body: Value, bearer: Option<&str>) -> Reply {
        let mut req = self.client.patch(self.url(path)).json(&body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            json!({"email": email, "password": password, "client": "web"}),
            None,
        )
        .await
    }

    /// Logs in a user without 2FA and returns the access token.
    pub async fn access_token(&self, email: &str, password: &str) -> String {
        let r = self.login(email, password).await;
        assert_eq!(r.assert_ok()["status"], "authenticated", "{}", r.body);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Everything the database holds, as bytes to search: the SQLite
    /// files, or every PostgreSQL row as JSON text (bytea as hex).
    pub fn database_contents(&self) -> Vec<u8> {
        match &self.db.schema {
            None => {
                let files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.is_file())
                    .collect();
                assert!(files
                    .iter()
                    .any(|f| f.extension().is_some_and(|e| e == "db")));
                files
                    .iter()
                    .flat_map(|f| std::fs::read(f).unwrap())
                    .collect()
            }
            Some(schema) => self.db.dump(schema).into_bytes(),
        }
    }

    /// Environment for the `authgate` binary to use this app's data.
    pub fn binary_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            (
                "AUTHGATE_DATA_DIR",
                self.dir.path().to_string_lossy().into_owned(),
            ),
            ("AUTHGATE_LOG", "warn".to_owned()),
        ];
        if let Some(url) = &self.db.url {
            env.push(("AUTHGATE_DATABASE_URL", url.clone()));
        }
        env
    }
}

/// What an authenticator app does: codes from the secret and the clock
/// the server runs on.
pub struct Authenticator {
    secret: TotpSecret,
    last: Option<i64>,
    clock: Clock,
}

impl Authenticator {
    /// On the wall clock, for servers in other processes.
    pub fn from_base32(secret: &str) -> Self {
        Self::with_clock(secret, Clock::system())
    }

    pub fn with_clock(secret: &str, clock: Clock) -> Self {
        Self {
            secret: TotpSecret::from_base32(secret).unwrap(),
            last: None,
            clock,
        }
    }

    pub fn secret(&self) -> &TotpSecret {
        &self.secret
    }

    fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// A code the server has not seen yet: the current step, or the next
    /// one (inside the ±1 window) when the current one was already used.
    /// When both are used, the next period is awaited: on a test's clock
    /// by moving it forward, on the wall clock by sleeping.
    pub async fn fresh_code(&mut self) -> String {
        let p = TotpParams::default();
        loop {
            let current = p.step_at(self.now()).0;
            let step = match self.last {
                Some(l) if l >= current => l + 1,
                _ => current,
            };
            if step <= current + 1 {
                self.last = Some(step);
                return p
                    .code_at_step(&self.secret, TimeStep(step))
                    .as_str()
                    .to_owned();
            }
            if self.clock.is_adjustable() {
                self.clock
                    .advance(Duration::from_secs(u64::from(p.period_secs)));
            } else {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    /// The code most recently handed out, to attempt a replay.
    pub fn last_code(&self) -> String {
        TotpParams::default()
            .code_at_step(
                &self.secret,
                TimeStep(self.last.expect("a code was issued")),
            )
            .as_str()
            .to_owned()
    }

    /// A code that is certainly wrong right now.
    pub fn wrong_code(&self) -> String {
        let p = TotpParams::default();
        let current = p.step_at(self.now()).0;
        let valid: Vec<String> = (current - 2..=current + 2)
            .map(|s| {
                p.code_at_step(&self.secret, TimeStep(s))
                    .as_str()
                    .to_owned()
            })
            .collect();
        (0..1_000_000)
            .map(|n| format!("{n:06}"))
            .find(|c| !valid.contains(c))
            .unwrap()
    }
}

/// The claims of a JWT, without verifying it (the server did).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Enables 2FA for the holder of `token` (whose password is `password`)
/// through the profile endpoints.
pub async fn enable_two_factor(app: &TestApp, token: &str, password: &str) -> Authenticator {
    enable_two_factor_with_codes(app, token, password).await.0
}

/// The same, also returning the ten recovery codes shown on enabling.
pub async fn enable_two_factor_with_codes(
    app: &TestApp,
    token: &str,
    password: &str,
) -> (Authenticator, Vec<String>) {
    let r = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": password}),
            Some(token),
        )
        .await;
    let mut auth = app.authenticator(r.assert_ok()["secret"].as_str().unwrap());
    let c = auth.fresh_code().await;
    let r = app
        .post(
            "/v1/me/two-factor/enrollment/confirm",
            json!({"code": c}),
            Some(token),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "enabled");
    let codes = r.body["recovery_codes"]
        .as_array()
        .expect("recovery codes on enabling")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (auth, codes)
}

/// Logs in with password and code; returns the token body.
pub async fn login_with_code(
    app: &TestApp,
    email: &str,
    password: &str,
    auth: &mut Authenticator,
) -> Value {
    let r = app.login(email, password).await;
    assert_eq!(r.assert_ok()["status"], "otp_required", "{}", r.body);
    let challenge = r.body["challenge_token"].as_str().unwrap().to_owned();
    let c = auth.fresh_code().await;
    let r = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": c}),
            None,
        )
        .await;
    r.assert_ok().clone()
}

/// The database a test runs on: SQLite in the test's data dir (default), or
/// with `AUTHGATE_TEST_DATABASE=postgres` a fresh schema of its own on the
/// PostgreSQL at `AUTHGATE_TEST_POSTGRES_URL`, dropped afterwards.
pub struct TestDb {
    pub url: Option<String>,
    pub schema: Option<String>,
    admin_url: String,
}

pub fn on_postgres() -> bool {
    std::env::var("AUTHGATE_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

pub fn postgres_url() -> String {
    std::env::var("AUTHGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test?sslmode=disable".into())
}

impl TestDb {
    pub fn new() -> Self {
        if !on_postgres() {
            return Self {
                url: None,
                schema: None,
                admin_url: String::new(),
            };
        }
        use diesel::{Connection, RunQueryDsl};
        let admin_url = postgres_url();
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin_url} is required for AUTHGATE_TEST_DATABASE=postgres: {e}")
        });
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .unwrap();
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        Self {
            url: Some(format!("{admin_url}{sep}options=-csearch_path%3D{schema}")),
            schema: Some(schema),
            admin_url,
        }
    }

    pub fn dump(&self, schema: &str) -> String {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            row: String,
        }
        let mut conn = diesel::PgConnection::establish(&self.admin_url).unwrap();
        let tables: Vec<Row> = diesel::sql_query(format!(
            "SELECT table_name::text AS row FROM information_schema.tables WHERE table_schema = '{schema}'"
        ))
        .load(&mut conn)
        .unwrap();
        assert!(tables.len() >= 7, "the schema has its tables");
        let mut out = String::new();
        for t in tables {
            let rows: Vec<Row> = diesel::sql_query(format!(
                "SELECT row_to_json(t)::text AS row FROM {schema}.{} t",
                t.row
            ))
            .load(&mut conn)
            .unwrap();
            for r in rows {
                out.push_str(&r.row);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(schema) = &self.schema {
            use diesel::{Connection, RunQueryDsl};
            if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin_url) {
                let _ =
                    diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut conn);
            }
        }
    }
}
