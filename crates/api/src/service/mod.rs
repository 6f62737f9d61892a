//! The application's use cases. Each function is synchronous (argon2 and
//! database work block), composes auth-core rules with persistence units of
//! work, and is run by the handlers off the async workers.

pub mod account;
pub mod admin;
pub mod login;
pub mod organizations;
pub mod support;
pub mod tokens;
pub mod two_factor;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::{
    password::PasswordHasher,
    throttle::{PasswordPolicy, SecondFactorPolicy},
    totp::{Algorithm, TotpParams},
    UnixTime,
};
use persistence::Store;

use crate::config::Settings;

/// The rule parameters taken from configuration.
#[derive(Clone, Debug)]
pub struct AuthPolicy {
    pub refresh_ttl: Duration,
    pub challenge_ttl: Duration,
    pub max_code_attempts: i32,
    pub enrollment_ttl: Duration,
    pub totp: TotpParams,
    pub totp_issuer: String,
    pub second_factor: SecondFactorPolicy,
    pub password: PasswordPolicy,
}

impl AuthPolicy {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            refresh_ttl: s.refresh_token_ttl,
            challenge_ttl: s.challenge_ttl,
            max_code_attempts: s.max_code_attempts,
            enrollment_ttl: s.enrollment_ttl,
            totp: s.totp,
            totp_issuer: s.totp_issuer.clone(),
            second_factor: SecondFactorPolicy::for_window(s.totp.window),
            password: PasswordPolicy::default(),
        }
    }

    /// TOTP parameters for a factor made with `algorithm`.
    pub fn totp_for(&self, algorithm: Algorithm) -> TotpParams {
        TotpParams {
            algorithm,
            ..self.totp
        }
    }
}

/// Everything a use case needs; shared by all workers.
pub struct Services {
    pub store: Store,
    pub hasher: PasswordHasher,
    pub tokens: crate::keys::KeyRing,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    pub policy: AuthPolicy,
}

/// The wall clock, read at the edge and passed into the rules.
pub fn now() -> UnixTime {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    UnixTime::from_millis(ms)
}

/// RFC 3339 in UTC with milliseconds, as every timestamp in the API.
pub fn rfc3339(t: UnixTime) -> String {
    chrono::DateTime::from_timestamp_millis(t.as_millis())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
