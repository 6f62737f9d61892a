//! The application's use cases, free of HTTP: each composes auth-core
//! rules with persistence units of work and returns a domain outcome or a
//! [`ServiceError`]. The HTTP layer (`routes`) and the command line
//! (`cli`) call the same functions; neither adds rules of its own.
//!
//! Use cases are synchronous (argon2 and database work block); the HTTP
//! layer runs them off its async workers. Each reads the time once from
//! [`Services::clock`] and passes it into the rules.

pub mod api_keys;
pub mod authenticators;
pub mod challenge;
pub mod devices;
pub mod enrollment;
pub mod letters;
pub mod login;
pub mod oauth;
pub mod operator;
pub mod organization;
pub mod password;
pub mod password_reset;
pub mod profile;
pub mod record;
pub mod refresh;
pub mod refusal;
pub mod removal;
pub mod second_factor;
pub mod sessions;
pub mod step_up;
pub mod tokens;
pub mod two_factor;
pub mod users;
pub mod webhooks;

use std::time::Duration;

use auth_core::{
    password::PasswordHasher,
    policy::Requirement,
    throttle::{PasswordPolicy, SecondFactorPolicy},
    totp::{Algorithm, TotpParams},
};
use persistence::{records::UserRecord, Store, StoreError, Tx};

pub use refusal::{Decided, Refusal, ServiceError};

use crate::{clock::Clock, config::Settings, keys::KeyRing, metrics::Metrics};

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
    pub recovery: password_reset::RecoveryPolicy,
    /// How long the refresh token just rotated away from still yields the
    /// same successor.
    pub refresh_grace: Duration,
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
            recovery: password_reset::RecoveryPolicy {
                reset_ttl: s.password_reset_ttl,
                invitation_ttl: s.invitation_ttl,
                limits: auth_core::password_reset::ResetLimits::default(),
                admin_set_passwords: s.admin_set_passwords,
                public_url: s.public_url.clone(),
            },
            refresh_grace: s.refresh_grace,
        }
    }

    /// TOTP parameters for an authenticator made with `algorithm`.
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
    pub tokens: KeyRing,
    pub metrics: std::sync::Arc<Metrics>,
    pub policy: AuthPolicy,
    pub clock: Clock,
}

impl Services {
    /// Where 2FA stands for `user` under their organization's policy.
    pub(crate) fn requirement(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
    ) -> Result<Requirement, StoreError> {
        let org = tx
            .organization(&user.organization_id)?
            .ok_or_else(|| StoreError::Corrupt(format!("user {} has no organization", user.id)))?;
        Ok(Requirement::of(&user.facts(), &org.policy))
    }
}
