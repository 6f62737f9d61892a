//! The token issuer in use, re-read from disk when the key directory
//! changes: an instance that meets a token signed with a key it does not
//! know re-reads the keys (at most every few seconds), and every instance
//! re-reads them each minute, so all sign with a rotated key soon after
//! and keep verifying the old one until its tokens have expired.

use std::{
    sync::{Mutex, PoisonError, RwLock, RwLockReadGuard},
    time::{Duration, Instant},
};

use auth_core::{
    jwt::{AccessClaims, SigningKey, Subject, TokenError, TokenIssuer},
    UnixTime,
};

use super::{rotation::load_signing, verified::VerifiedTokens};
use crate::{clock::Clock, config::Settings};

/// How often an unknown key id may trigger a re-read.
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(5);

pub struct KeyRing {
    settings: Settings,
    clock: Clock,
    issuer: RwLock<TokenIssuer>,
    last_reload: Mutex<Instant>,
    verified: VerifiedTokens,
}

impl KeyRing {
    pub fn new(
        settings: &Settings,
        clock: Clock,
        signing: SigningKey,
        retired: Vec<SigningKey>,
    ) -> Self {
        Self {
            issuer: RwLock::new(Self::issuer(settings, signing, retired)),
            settings: settings.clone(),
            clock,
            verified: VerifiedTokens::new(),
            last_reload: Mutex::new(
                Instant::now()
                    .checked_sub(RELOAD_AT_MOST_EVERY)
                    .unwrap_or_else(Instant::now),
            ),
        }
    }

    fn issuer(settings: &Settings, signing: SigningKey, retired: Vec<SigningKey>) -> TokenIssuer {
        TokenIssuer::new(
            signing,
            retired,
            settings.issuer.clone(),
            settings.audience.clone(),
            settings.access_token_ttl,
        )
    }

    fn current(&self) -> RwLockReadGuard<'_, TokenIssuer> {
        self.issuer.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Re-reads the keys; keeps the current ones if the files are unusable.
    pub fn reload(&self) {
        *self
            .last_reload
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        match load_signing(&self.settings, self.clock.now()) {
            Ok((signing, retired)) => {
                let fresh = Self::issuer(&self.settings, signing, retired);
                let mut guard = self.issuer.write().unwrap_or_else(PoisonError::into_inner);
                if fresh.active_kid() != guard.active_kid() {
                    tracing::info!(kid = fresh.active_kid(), "signing key changed");
                }
                *guard = fresh;
            }
            Err(e) => {
                tracing::error!(error = %e, "re-reading the signing keys failed; keeping the current ones");
            }
        }
    }

    pub fn sign(
        &self,
        subject: &Subject<'_>,
        jti: String,
        now: UnixTime,
    ) -> Result<String, TokenError> {
        self.current().sign(subject, jti, now)
    }

    pub fn verify(&self, token: &str, now: UnixTime) -> Result<AccessClaims, TokenError> {
        let key = VerifiedTokens::key(token);
        if let Some(claims) = self.verified.get(&key) {
            return if claims.exp > now.as_secs() {
                Ok(claims)
            } else {
                Err(TokenError::Expired)
            };
        }
        let verified = self.verify_signature(token, now);
        if let Ok(claims) = &verified {
            self.verified.put(key, claims.clone());
        }
        verified
    }

    fn verify_signature(&self, token: &str, now: UnixTime) -> Result<AccessClaims, TokenError> {
        match self.current().verify(token, now) {
            Err(TokenError::UnknownKey) => {}
            other => return other,
        }
        // Perhaps another instance rotated the key: look again, rarely.
        let due = self
            .last_reload
            .lock()
            .map(|t| t.elapsed() >= RELOAD_AT_MOST_EVERY)
            .unwrap_or(true);
        if due {
            self.reload();
        }
        self.current().verify(token, now)
    }

    pub fn jwks(&self) -> serde_json::Value {
        self.current().jwks()
    }

    pub fn ttl(&self) -> Duration {
        self.current().ttl()
    }

    /// The `iss` of every token (`AUTHGATE_ISSUER`).
    pub fn issuer_url(&self) -> String {
        self.current().issuer().to_owned()
    }

    /// The algorithms of the keys that verify, the active one first.
    pub fn algorithms(&self) -> Vec<auth_core::jwt::SigningAlg> {
        self.current().algorithms()
    }
}
