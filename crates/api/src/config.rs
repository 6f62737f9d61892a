//! Typed configuration from `AUTHGATE_*` variables. Every command reads the
//! same settings; a bad value stops startup with a message naming the
//! variable.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use auth_core::{
    client_address::TrustedProxies,
    identity::Email,
    jwt::{SigningAlg, MAX_ACCESS_TTL},
    password::PasswordParams,
    totp::{Algorithm, TotpParams},
};
use persistence::DatabaseUrl;
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where a key comes from: given inline, given as a file, or (outside
/// production) generated once into the data directory. An inline key is
/// held as a secret: `Debug` (and so any log of the settings) redacts it.
#[derive(Clone, Debug)]
pub enum KeySource {
    Inline(SecretString),
    File(PathBuf),
    Generated,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub environment: Environment,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub db_pool_size: u32,
    pub db_pool_timeout: Duration,
    pub workers: usize,
    /// Threads that hash passwords (argon2), and logins that may wait.
    pub hash_workers: usize,
    pub hash_queue: usize,
    pub shutdown_timeout: Duration,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub challenge_ttl: Duration,
    pub max_code_attempts: i32,
    pub enrollment_ttl: Duration,
    pub totp: TotpParams,
    pub totp_issuer: String,
    pub password: PasswordParams,
    pub signing_key: KeySource,
    pub encryption_key: KeySource,
    pub bootstrap_admin_email: Email,
    /// Proxies whose forwarding headers are believed
    /// (`AUTHGATE_TRUSTED_PROXIES`); empty: the peer is the client.
    pub trusted_proxies: TrustedProxies,
    /// Where `/metrics` is served (`AUTHGATE_METRICS_LISTEN`); never on
    /// the public listener. None: not served.
    pub metrics_listen: Option<SocketAddr>,
    /// Password checks one client address may have in flight at once.
    pub hash_per_address: usize,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// Browser origins allowed to call the API (CORS), e.g. the web app's
    /// `https://…` and the extension's `chrome-extension://<id>`.
    pub cors_allowed_origins: Vec<String>,
    /// The JWS algorithm of generated and rotated signing keys.
    pub signing_alg: SigningAlg,
    /// How long a just-rotated refresh token still yields its successor.
    pub refresh_grace: Duration,
    /// The bootstrap admin's password, instead of a generated one printed
    /// at first start (`AUTHGATE_BOOTSTRAP_ADMIN_PASSWORD(_FILE)`).
    pub bootstrap_admin_password: Option<SecretString>,
    /// How long a forgotten-password link works.
    pub password_reset_ttl: Duration,
    /// How long an invitation's set-password link works.
    pub invitation_ttl: Duration,
    /// Where people open Authgate's pages (`https://login.example.com`):
    /// links in mails are built from it; without it mails carry the token
    /// alone.
    pub public_url: Option<String>,
    /// The operator's escape hatch for air-gapped setups: admins may set a
    /// user's first password (`POST /v1/users` with `password`) instead
    /// of sending an invitation. Off by default.
    pub admin_set_passwords: bool,
    /// Notifications and webhooks (issue #10).
    pub outbox: OutboxSettings,
    /// `AUTHGATE_SQLITE_SYNCHRONOUS`: `full` (default) or `normal`.
    pub sqlite_synchronous: persistence::Synchronous,
}

/// How events leave the process: mail, webhooks, and the dispatcher's
/// pace. See the README's "Notifications and webhooks".
#[derive(Clone, Debug)]
pub struct OutboxSettings {
    /// `AUTHGATE_SMTP_URL` (`smtp://host:port`, `smtps://user:pass@host`);
    /// `None`: mail is written as `.eml` files to `<data dir>/mail/`.
    /// Held as a secret: it may carry a password.
    pub smtp_url: Option<SecretString>,
    /// `AUTHGATE_MAIL_FROM`.
    pub mail_from: String,
    /// `AUTHGATE_WEBHOOK_ALLOW_PRIVATE`: allow endpoints on loopback and
    /// private networks (tests, local development).
    pub webhook_allow_private: bool,
    /// `AUTHGATE_WEBHOOK_TIMEOUT_SECS`: per attempt, connect and answer.
    pub webhook_timeout: Duration,
    /// `AUTHGATE_WEBHOOK_DISABLE_AFTER_DAYS`: an endpoint failing without
    /// one success for this long is disabled (admins are emailed).
    pub webhook_disable_after: Duration,
    /// `AUTHGATE_OUTBOX_POLL_MS`: how often the dispatcher looks for work.
    pub poll_interval: Duration,
    /// `AUTHGATE_OUTBOX_BACKOFF_MS`, `AUTHGATE_OUTBOX_MAX_BACKOFF_SECS`,
    /// `AUTHGATE_OUTBOX_MAX_AGE_SECS`, `AUTHGATE_OUTBOX_LEASE_SECS`.
    pub retry: auth_core::delivery::RetryPolicy,
}

/// `scheme://host[:port]` with no path: what a browser sends as `Origin`.
fn parse_origin(origin: &str) -> Result<String, String> {
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or_else(|| format!("{origin:?} is not scheme://host"))?;
    if !matches!(
        scheme,
        "https" | "http" | "chrome-extension" | "moz-extension"
    ) {
        return Err(format!(
            "{origin:?}: scheme must be https, http, chrome-extension or moz-extension"
        ));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if scheme.starts_with("http") => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    if host_ok && port_ok {
        Ok(origin.to_owned())
    } else {
        Err(format!(
            "{origin:?} is not an origin (scheme://host[:port], no path)"
        ))
    }
}

/// `http(s)://host[:port][/path]`, kept without a trailing slash.
fn parse_public_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?} is not an http(s):// URL"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if !matches!(scheme, "https" | "http") || host.is_empty() {
        return Err(format!("{url:?} is not an http(s):// URL"));
    }
    if url.contains(['?', '#', ' ', '"', '<', '>']) {
        return Err(format!("{url:?}: no query, fragment or spaces"));
    }
    Ok(url.to_owned())
}

/// `smtp://` or `smtps://`, with a host; kept whole for the mail transport.
fn parse_smtp_url(raw: &str) -> Result<SecretString, String> {
    let url =
        url::Url::parse(raw.trim()).map_err(|_| "is not a URL (smtp://host:port)".to_owned())?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err("scheme must be smtp or smtps".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    Ok(SecretString::from(raw.trim().to_owned()))
}

/// An issuer identifier (RFC 8414 §2): an `https` (or, for local use,
/// `http`) URL with no query or fragment; a trailing `/` is dropped so
/// `iss` and the discovery document agree byte for byte.
fn parse_issuer(issuer: &str) -> Result<String, String> {
    let issuer = issuer.trim();
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .ok_or_else(|| format!("{issuer:?} is not an http(s) URL"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || issuer.contains(['?', '#', ' ']) {
        return Err(format!(
            "{issuer:?} must be a URL like https://auth.example.com (no query or fragment)"
        ));
    }
    Ok(issuer.trim_end_matches('/').to_owned())
}

/// The issuer when none is configured: the listen address as a URL, with
/// a wildcard address read as `localhost`.
fn default_issuer(listen: SocketAddr) -> String {
    let host = if listen.ip().is_unspecified() {
        "localhost".to_owned()
    } else if listen.is_ipv6() {
        format!("[{}]", listen.ip())
    } else {
        listen.ip().to_string()
    };
    format!("http://{host}:{}", listen.port())
}

/// The longest a challenge may live.
pub const MAX_CHALLENGE_TTL: Duration = Duration::from_secs(5 * 60);

struct Vars<F>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn get(&self, var: &'static str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, var: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(var) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|e| ConfigError {
                var,
                message: format!("invalid value {v:?}: {e}"),
            }),
        }
    }

    fn ranged<T>(
        &self,
        var: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
        T::Err: std::fmt::Display,
    {
        let v = self.parse(var, default)?;
        if range.contains(&v) {
            Ok(v)
        } else {
            Err(ConfigError {
                var,
                message: format!("{v} is outside {}..={}", range.start(), range.end()),
            })
        }
    }

    fn secs(
        &self,
        var: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        self.ranged(var, default, range).map(Duration::from_secs)
    }

    /// A value given inline or as a file (`VAR` or `VAR_FILE`, as Docker
    /// and Kubernetes secrets are mounted); a file's trailing newline is
    /// dropped. Both at once is an error: which one wins would be a guess.
    fn inline_or_file(
        &self,
        inline: &'static str,
        file: &'static str,
    ) -> Result<Option<String>, ConfigError> {
        match (self.get(inline), self.get(file)) {
            (Some(_), Some(_)) => Err(ConfigError {
                var: file,
                message: format!("set either {inline} or {file}, not both"),
            }),
            (Some(v), None) => Ok(Some(v)),
            (None, Some(path)) => std::fs::read_to_string(path.trim())
                .map(|v| Some(v.trim_end_matches(['\n', '\r']).to_owned()))
                .map_err(|e| ConfigError {
                    var: file,
                    message: format!("cannot read {path:?}: {e}"),
                }),
            (None, None) => Ok(None),
        }
    }

    fn key(&self, inline: &'static str, file: &'static str) -> KeySource {
        if let Some(v) = self.get(inline) {
            KeySource::Inline(SecretString::from(v))
        } else if let Some(p) = self.get(file) {
            KeySource::File(PathBuf::from(p))
        } else {
            KeySource::Generated
        }
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let v = Vars(lookup);
        let environment = match v.get("AUTHGATE_ENV").as_deref().map(str::trim) {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(ConfigError {
                    var: "AUTHGATE_ENV",
                    message: format!("expected development or production, got {other:?}"),
                })
            }
        };
        let data_dir = PathBuf::from(
            v.get("AUTHGATE_DATA_DIR")
                .unwrap_or_else(|| "./data".into()),
        );
        let database_url =
            match v.inline_or_file("AUTHGATE_DATABASE_URL", "AUTHGATE_DATABASE_URL_FILE")? {
                Some(url) => DatabaseUrl::parse(&url).map_err(|e| ConfigError {
                    var: "AUTHGATE_DATABASE_URL",
                    message: e.to_string(),
                })?,
                None => DatabaseUrl::Sqlite(data_dir.join("authgate.db")),
            };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let log_format = match v.get("AUTHGATE_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    var: "AUTHGATE_LOG_FORMAT",
                    message: format!("expected text or json, got {other:?}"),
                })
            }
        };
        // The old switch believed any client's headers: refuse it rather
        // than silently change what it meant.
        if v.get("AUTHGATE_TRUST_PROXY_HEADERS").is_some() {
            return Err(ConfigError {
                var: "AUTHGATE_TRUST_PROXY_HEADERS",
                message: "no longer supported: list your proxies' addresses in AUTHGATE_TRUSTED_PROXIES (e.g. 10.0.0.0/8) instead".into(),
            });
        }
        let algorithm: Algorithm = v
            .parse("AUTHGATE_TOTP_ALGORITHM", Algorithm::Sha1)
            .map_err(|_| ConfigError {
                var: "AUTHGATE_TOTP_ALGORITHM",
                message: "expected SHA1, SHA256 or SHA512".into(),
            })?;
        let listen = v.parse("AUTHGATE_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let settings = Self {
            environment,
            listen,
            database_url,
            db_pool_size: v.ranged("AUTHGATE_DB_POOL_SIZE", 8, 1..=256)?,
            db_pool_timeout: v.secs("AUTHGATE_DB_POOL_TIMEOUT_SECS", 3, 1..=60)?,
            workers: v.ranged("AUTHGATE_WORKERS", cores, 1..=256)?,
            hash_workers: v.ranged("AUTHGATE_HASH_WORKERS", cores, 1..=256)?,
            hash_queue: v.ranged("AUTHGATE_HASH_QUEUE", 64 * cores, 1..=100_000)?,
            shutdown_timeout: v.secs("AUTHGATE_SHUTDOWN_TIMEOUT_SECS", 30, 0..=600)?,
            issuer: v
                .get("AUTHGATE_ISSUER")
                .map(|i| parse_issuer(&i))
                .transpose()
                .map_err(|message| ConfigError {
                    var: "AUTHGATE_ISSUER",
                    message,
                })?
                .unwrap_or_else(|| default_issuer(listen)),
            audience: v
                .get("AUTHGATE_AUDIENCE")
                .unwrap_or_else(|| "authgate".into()),
            access_token_ttl: v.secs(
                "AUTHGATE_ACCESS_TOKEN_TTL_SECS",
                900,
                60..=MAX_ACCESS_TTL.as_secs(),
            )?,
            refresh_token_ttl: v.secs(
                "AUTHGATE_REFRESH_TOKEN_TTL_SECS",
                30 * 86400,
                300..=365 * 86400,
            )?,
            challenge_ttl: v.secs(
                "AUTHGATE_CHALLENGE_TTL_SECS",
                300,
                30..=MAX_CHALLENGE_TTL.as_secs(),
            )?,
            max_code_attempts: v.ranged("AUTHGATE_MAX_CODE_ATTEMPTS", 5, 1..=20)?,
            enrollment_ttl: v.secs("AUTHGATE_ENROLLMENT_TTL_SECS", 600, 60..=3600)?,
            totp: TotpParams {
                algorithm,
                period_secs: 30,
                window: v.ranged("AUTHGATE_TOTP_WINDOW", 1, 0..=3)?,
            },
            totp_issuer: v
                .get("AUTHGATE_TOTP_ISSUER")
                .unwrap_or_else(|| "Authgate".into()),
            password: PasswordParams {
                memory_kib: v.ranged(
                    "AUTHGATE_ARGON2_MEMORY_KIB",
                    PasswordParams::default().memory_kib,
                    8..=4 * 1024 * 1024,
                )?,
                iterations: v.ranged(
                    "AUTHGATE_ARGON2_ITERATIONS",
                    PasswordParams::default().iterations,
                    1..=100,
                )?,
                parallelism: v.ranged(
                    "AUTHGATE_ARGON2_PARALLELISM",
                    PasswordParams::default().parallelism,
                    1..=16,
                )?,
            },
            signing_key: v.key("AUTHGATE_SIGNING_KEY", "AUTHGATE_SIGNING_KEY_FILE"),
            encryption_key: v.key("AUTHGATE_ENCRYPTION_KEY", "AUTHGATE_ENCRYPTION_KEY_FILE"),
            bootstrap_admin_email: v
                .get("AUTHGATE_BOOTSTRAP_ADMIN_EMAIL")
                .unwrap_or_else(|| "admin@localhost".into())
                .trim()
                .parse::<Email>()
                .map_err(|e| ConfigError {
                    var: "AUTHGATE_BOOTSTRAP_ADMIN_EMAIL",
                    message: e.to_string(),
                })?,
            trusted_proxies: TrustedProxies::parse_list(
                &v.get("AUTHGATE_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|e| ConfigError {
                var: "AUTHGATE_TRUSTED_PROXIES",
                message: e.to_string(),
            })?,
            metrics_listen: v
                .get("AUTHGATE_METRICS_LISTEN")
                .map(|a| {
                    a.trim().parse::<SocketAddr>().map_err(|e| ConfigError {
                        var: "AUTHGATE_METRICS_LISTEN",
                        message: format!("invalid value {a:?}: {e}"),
                    })
                })
                .transpose()?,
            hash_per_address: v.ranged("AUTHGATE_HASH_PER_ADDRESS", cores.max(2), 1..=100_000)?,
            log_filter: v.get("AUTHGATE_LOG").unwrap_or_else(|| "info".into()),
            log_format,
            cors_allowed_origins: v
                .get("AUTHGATE_CORS_ALLOWED_ORIGINS")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(parse_origin)
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
                .map_err(|message| ConfigError {
                    var: "AUTHGATE_CORS_ALLOWED_ORIGINS",
                    message,
                })?
                .unwrap_or_default(),
            password_reset_ttl: v.secs("AUTHGATE_PASSWORD_RESET_TTL_SECS", 1800, 300..=86400)?,
            invitation_ttl: v.secs("AUTHGATE_INVITATION_TTL_SECS", 7 * 86400, 3600..=30 * 86400)?,
            public_url: v
                .get("AUTHGATE_PUBLIC_URL")
                .map(|u| parse_public_url(&u))
                .transpose()
                .map_err(|message| ConfigError {
                    var: "AUTHGATE_PUBLIC_URL",
                    message,
                })?,
            admin_set_passwords: v.parse("AUTHGATE_ADMIN_SET_PASSWORDS", false)?,
            outbox: OutboxSettings {
                smtp_url: match v.get("AUTHGATE_SMTP_URL") {
                    None => None,
                    Some(url) => Some(parse_smtp_url(&url).map_err(|message| ConfigError {
                        var: "AUTHGATE_SMTP_URL",
                        message,
                    })?),
                },
                mail_from: v
                    .get("AUTHGATE_MAIL_FROM")
                    .unwrap_or_else(|| "Authgate <authgate@localhost>".into()),
                webhook_allow_private: v.parse("AUTHGATE_WEBHOOK_ALLOW_PRIVATE", false)?,
                webhook_timeout: v.secs("AUTHGATE_WEBHOOK_TIMEOUT_SECS", 10, 1..=60)?,
                webhook_disable_after: v
                    .secs("AUTHGATE_WEBHOOK_DISABLE_AFTER_DAYS", 5, 1..=90)
                    .map(|d| d * 86400)?,
                poll_interval: Duration::from_millis(v.ranged(
                    "AUTHGATE_OUTBOX_POLL_MS",
                    1000,
                    10..=60_000,
                )?),
                retry: auth_core::delivery::RetryPolicy {
                    base_backoff: Duration::from_millis(v.ranged(
                        "AUTHGATE_OUTBOX_BACKOFF_MS",
                        10_000,
                        10..=3_600_000,
                    )?),
                    max_backoff: v.secs("AUTHGATE_OUTBOX_MAX_BACKOFF_SECS", 3600, 1..=86400)?,
                    max_age: v.secs("AUTHGATE_OUTBOX_MAX_AGE_SECS", 3 * 86400, 10..=30 * 86400)?,
                    lease: v.secs("AUTHGATE_OUTBOX_LEASE_SECS", 60, 1..=3600)?,
                },
            },
            sqlite_synchronous: match v
                .get("AUTHGATE_SQLITE_SYNCHRONOUS")
                .as_deref()
                .map(str::trim)
            {
                None | Some("full") => persistence::Synchronous::Full,
                Some("normal") => persistence::Synchronous::Normal,
                Some(other) => {
                    return Err(ConfigError {
                        var: "AUTHGATE_SQLITE_SYNCHRONOUS",
                        message: format!("expected full or normal, got {other:?}"),
                    })
                }
            },
            signing_alg: v.parse("AUTHGATE_SIGNING_ALG", SigningAlg::EdDSA)?,
            refresh_grace: v.secs("AUTHGATE_REFRESH_GRACE_SECS", 20, 0..=30)?,
            bootstrap_admin_password: v
                .inline_or_file(
                    "AUTHGATE_BOOTSTRAP_ADMIN_PASSWORD",
                    "AUTHGATE_BOOTSTRAP_ADMIN_PASSWORD_FILE",
                )?
                .map(SecretString::from),
            data_dir,
        };
        if environment == Environment::Production {
            for (var, source) in [
                ("AUTHGATE_SIGNING_KEY(_FILE)", &settings.signing_key),
                ("AUTHGATE_ENCRYPTION_KEY(_FILE)", &settings.encryption_key),
            ] {
                if matches!(source, KeySource::Generated) {
                    return Err(ConfigError {
                        var: if var.starts_with("AUTHGATE_SIGNING") {
                            "AUTHGATE_SIGNING_KEY_FILE"
                        } else {
                            "AUTHGATE_ENCRYPTION_KEY_FILE"
                        },
                        message: format!("{var} must be configured when AUTHGATE_ENV=production; keys are never generated in production"),
                    });
                }
            }
        }
        Ok(settings)
    }

    /// The server sends security notifications; in production they must
    /// reach a mail server, not only the disk. (Other commands send none.)
    pub fn require_mail_in_production(&self) -> Result<(), ConfigError> {
        if self.environment == Environment::Production && self.outbox.smtp_url.is_none() {
            return Err(ConfigError {
                var: "AUTHGATE_SMTP_URL",
                message: "must be configured when AUTHGATE_ENV=production: security notifications are emailed, never only written to disk".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_safe_and_local() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            s.database_url,
            DatabaseUrl::Sqlite("./data/authgate.db".into())
        );
        assert_eq!(s.access_token_ttl, Duration::from_secs(900));
        assert_eq!(s.password, PasswordParams::default());
        assert_eq!(s.bootstrap_admin_email.as_str(), "admin@localhost");
    }

    #[test]
    fn the_database_defaults_into_the_data_dir() {
        let s = settings(&[("AUTHGATE_DATA_DIR", "/srv/ag")]).unwrap();
        assert_eq!(
            s.database_url,
            DatabaseUrl::Sqlite("/srv/ag/authgate.db".into())
        );
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = settings(&[("AUTHGATE_LISTEN", "nowhere")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_LISTEN");
        let err = settings(&[("AUTHGATE_ACCESS_TOKEN_TTL_SECS", "3600")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_ACCESS_TOKEN_TTL_SECS");
        let err = settings(&[("AUTHGATE_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_DATABASE_URL");
    }

    #[test]
    fn cors_origins_include_extensions_and_reject_paths() {
        let s = settings(&[(
            "AUTHGATE_CORS_ALLOWED_ORIGINS",
            "https://app.example.com, chrome-extension://abcdefghijklmnopabcdefghijklmnop,http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(s.cors_allowed_origins.len(), 3);
        for bad in ["https://app.example.com/path", "ftp://x", "*", "https://"] {
            let err = settings(&[("AUTHGATE_CORS_ALLOWED_ORIGINS", bad)]).unwrap_err();
            assert_eq!(err.var, "AUTHGATE_CORS_ALLOWED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn production_refuses_to_start_without_smtp() {
        let err = settings(&[
            ("AUTHGATE_ENV", "production"),
            ("AUTHGATE_SIGNING_KEY_FILE", "/k/s.pem"),
            ("AUTHGATE_ENCRYPTION_KEY_FILE", "/k/e.key"),
        ])
        .unwrap()
        .require_mail_in_production()
        .unwrap_err();
        assert_eq!(err.var, "AUTHGATE_SMTP_URL");
        assert!(err.to_string().contains("AUTHGATE_SMTP_URL"));
        assert!(settings(&[]).unwrap().require_mail_in_production().is_ok());
    }

    #[test]
    fn sqlite_syncs_every_commit_unless_told_otherwise() {
        assert_eq!(
            settings(&[]).unwrap().sqlite_synchronous,
            persistence::Synchronous::Full
        );
        assert_eq!(
            settings(&[("AUTHGATE_SQLITE_SYNCHRONOUS", "normal")])
                .unwrap()
                .sqlite_synchronous,
            persistence::Synchronous::Normal
        );
        let err = settings(&[("AUTHGATE_SQLITE_SYNCHRONOUS", "off")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_SQLITE_SYNCHRONOUS");
    }

    #[test]
    fn an_smtp_url_must_be_smtp_or_smtps_with_a_host() {
        assert!(settings(&[("AUTHGATE_SMTP_URL", "smtp://127.0.0.1:2525")])
            .unwrap()
            .outbox
            .smtp_url
            .is_some());
        for bad in ["http://x", "smtp://", "nonsense"] {
            let err = settings(&[("AUTHGATE_SMTP_URL", bad)]).unwrap_err();
            assert_eq!(err.var, "AUTHGATE_SMTP_URL", "{bad}");
        }
    }

    #[test]
    fn trusted_proxies_are_address_blocks_and_the_old_switch_is_refused() {
        let s = settings(&[("AUTHGATE_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8")]).unwrap();
        assert!(s.trusted_proxies.trusts("10.1.2.3".parse().unwrap()));
        assert!(settings(&[]).unwrap().trusted_proxies.is_empty());
        let err = settings(&[("AUTHGATE_TRUSTED_PROXIES", "10.0.0.0/8,proxy")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_TRUSTED_PROXIES");
        let err = settings(&[("AUTHGATE_TRUST_PROXY_HEADERS", "true")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_TRUST_PROXY_HEADERS");
    }

    #[test]
    fn metrics_are_off_unless_given_their_own_address() {
        assert_eq!(settings(&[]).unwrap().metrics_listen, None);
        let s = settings(&[("AUTHGATE_METRICS_LISTEN", "127.0.0.1:9100")]).unwrap();
        assert_eq!(
            s.metrics_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9100)))
        );
        let err = settings(&[("AUTHGATE_METRICS_LISTEN", "9100")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_METRICS_LISTEN");
    }

    #[test]
    fn production_refuses_to_start_without_configured_keys() {
        let err = settings(&[("AUTHGATE_ENV", "production")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_SIGNING_KEY_FILE");
        let ok = settings(&[
            ("AUTHGATE_ENV", "production"),
            ("AUTHGATE_SIGNING_KEY_FILE", "/k/s.pem"),
            ("AUTHGATE_ENCRYPTION_KEY_FILE", "/k/e.key"),
        ]);
        assert!(ok.is_ok());
    }

    #[test]
    fn the_issuer_is_a_url_derived_from_the_listen_address_by_default() {
        assert_eq!(settings(&[]).unwrap().issuer, "http://127.0.0.1:8080");
        let s = settings(&[("AUTHGATE_LISTEN", "0.0.0.0:9000")]).unwrap();
        assert_eq!(s.issuer, "http://localhost:9000");
        let s = settings(&[("AUTHGATE_ISSUER", "https://auth.example.com/")]).unwrap();
        assert_eq!(s.issuer, "https://auth.example.com");
        for bad in ["authgate", "https://", "https://a.example/?x=1", "ftp://a"] {
            let err = settings(&[("AUTHGATE_ISSUER", bad)]).unwrap_err();
            assert_eq!(err.var, "AUTHGATE_ISSUER", "{bad}");
        }
    }

    #[test]
    fn the_signing_algorithm_is_eddsa_or_es256() {
        assert_eq!(settings(&[]).unwrap().signing_alg, SigningAlg::EdDSA);
        let s = settings(&[("AUTHGATE_SIGNING_ALG", "ES256")]).unwrap();
        assert_eq!(s.signing_alg, SigningAlg::ES256);
        let err = settings(&[("AUTHGATE_SIGNING_ALG", "RS256")]).unwrap_err();
        assert_eq!(err.var, "AUTHGATE_SIGNING_ALG");
    }

    #[test]
    fn the_database_url_and_bootstrap_password_may_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("database_url");
        std::fs::write(&url, "postgres://authgate:s3cret@db:5432/authgate\n").unwrap();
        let pw = dir.path().join("password");
        std::fs::write(&pw, "a long bootstrap password\n").unwrap();
        let (url, pw) = (url.to_string_lossy(), pw.to_string_lossy());
        let s = settings(&[
            ("AUTHGATE_DATABASE_URL_FILE", &url),
            ("AUTHGATE_BOOTSTRAP_ADMIN_PASSWORD_FILE", &pw),
        ])
        .unwrap();
        assert!(matches!(s.database_url, DatabaseUrl::Postgres(_)));
        use secrecy::ExposeSecret as _;
        assert_eq!(
            s.bootstrap_admin_password.unwrap().expose_secret(),
            "a long bootstrap password"
        );
        let both = settings(&[
            ("AUTHGATE_DATABASE_URL", "postgres://x@y/z"),
            ("AUTHGATE_DATABASE_URL_FILE", &url),
        ]);
        assert_eq!(both.unwrap_err().var, "AUTHGATE_DATABASE_URL_FILE");
        let missing = settings(&[("AUTHGATE_DATABASE_URL_FILE", "/no/such/file")]);
        assert_eq!(missing.unwrap_err().var, "AUTHGATE_DATABASE_URL_FILE");
    }
}
