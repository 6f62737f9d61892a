//! The two-factor enrollment state machine.
//!
//! ```text
//!            start(secret)              confirm(valid code, in time)
//! Disabled ───────────────▶ Pending ─────────────────────────────▶ Enabled
//!     ▲                      │  ▲ start again: new secret             │
//!     │                      └──┘                                     │
//!     └────────────── disable (password checked by the caller) ───────┘
//! ```
//!
//! * Only a valid code for the *pending* secret, before the enrollment
//!   expires, turns two-factor on; the step of that code counts as used.
//! * Starting again while pending replaces the secret (a new QR code).
//! * Starting while enabled is refused: a working factor is never silently
//!   replaced; it must be disabled or reset first.
//! * An enabled factor accepts each time step at most once (replay).
//!
//! Transitions consume the old state and return the new one, so a stale
//! state cannot be used after it changed.

use std::time::Duration;

use crate::{
    drift::Drift,
    totp::{OtpCode, TimeStep, TotpParams, TotpSecret},
    UnixTime,
};

/// How long a started enrollment waits for its first code.
pub const DEFAULT_PENDING_TTL: Duration = Duration::from_secs(10 * 60);

/// Who caused the factor to be set up; kept for the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum EnrollmentSource {
    /// The user chose to, from their profile.
    #[serde(rename = "self")]
    SelfService,
    /// The user was made to, at login, because 2FA was required of them.
    #[serde(rename = "required")]
    Required,
}

impl EnrollmentSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentSource::SelfService => "self",
            EnrollmentSource::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "self" => Some(Self::SelfService),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwoFactorStatus {
    Disabled,
    Pending,
    Enabled,
}

impl TwoFactorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TwoFactorStatus::Disabled => "disabled",
            TwoFactorStatus::Pending => "pending",
            TwoFactorStatus::Enabled => "enabled",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnrollmentError {
    #[error("two-factor authentication is already enabled")]
    AlreadyEnabled,
    #[error("no enrollment is in progress")]
    NotPending,
    #[error("the enrollment expired; start again")]
    Expired,
    #[error("the code is not valid")]
    InvalidCode,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the code is not valid")]
    InvalidCode,
    /// Valid, but its time step was already used. Callers must not tell the
    /// user apart from `InvalidCode`; the distinction is for the history.
    #[error("the code was already used")]
    Replayed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TwoFactor {
    Disabled,
    Pending(PendingEnrollment),
    Enabled(EnabledFactor),
}

impl TwoFactor {
    pub fn status(&self) -> TwoFactorStatus {
        match self {
            TwoFactor::Disabled => TwoFactorStatus::Disabled,
            TwoFactor::Pending(_) => TwoFactorStatus::Pending,
            TwoFactor::Enabled(_) => TwoFactorStatus::Enabled,
        }
    }

    /// Begin (or restart) enrollment with a fresh secret.
    pub fn start(
        &self,
        secret: TotpSecret,
        now: UnixTime,
    ) -> Result<PendingEnrollment, EnrollmentError> {
        match self {
            TwoFactor::Enabled(_) => Err(EnrollmentError::AlreadyEnabled),
            TwoFactor::Disabled | TwoFactor::Pending(_) => Ok(PendingEnrollment {
                secret,
                started_at: now,
            }),
        }
    }

    /// The pending enrollment, if one is in progress.
    pub fn into_pending(self) -> Result<PendingEnrollment, EnrollmentError> {
        match self {
            TwoFactor::Pending(p) => Ok(p),
            TwoFactor::Enabled(_) => Err(EnrollmentError::AlreadyEnabled),
            TwoFactor::Disabled => Err(EnrollmentError::NotPending),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEnrollment {
    pub secret: TotpSecret,
    pub started_at: UnixTime,
}

impl PendingEnrollment {
    pub fn expires_at(&self, ttl: Duration) -> UnixTime {
        self.started_at.plus(ttl)
    }

    /// Turn two-factor on, if `code` is valid for the pending secret.
    pub fn confirm(
        self,
        code: &OtpCode,
        now: UnixTime,
        params: &TotpParams,
        ttl: Duration,
        source: EnrollmentSource,
    ) -> Result<EnabledFactor, EnrollmentError> {
        if now >= self.expires_at(ttl) {
            return Err(EnrollmentError::Expired);
        }
        let step = params
            .verify(&self.secret, code, now)
            .ok_or(EnrollmentError::InvalidCode)?;
        Ok(EnabledFactor {
            secret: self.secret,
            enabled_at: now,
            last_used_step: Some(step),
            // The first code already says how far off the phone's clock is.
            drift: Drift::NONE.learn(step, params, now),
            source,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnabledFactor {
    pub secret: TotpSecret,
    pub enabled_at: UnixTime,
    /// The latest step accepted; codes of this step or earlier are refused.
    pub last_used_step: Option<TimeStep>,
    /// How far this authenticator's clock is off (`crate::drift`).
    pub drift: Drift,
    pub source: EnrollmentSource,
}

/// A code accepted by one authenticator: the step to mark used and the
/// drift learned from it, to be stored together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub step: TimeStep,
    pub drift: Drift,
}

impl EnabledFactor {
    /// The step of `code` if it is valid (in the window around the learned
    /// drift) and newer than any step used before. Storage must still record
    /// that step atomically, since two requests can pass this check at once.
    pub fn verify(
        &self,
        code: &OtpCode,
        now: UnixTime,
        params: &TotpParams,
    ) -> Result<Accepted, VerifyError> {
        let step = params
            .verify_around(&self.secret, code, self.drift.centre(params, now))
            .ok_or(VerifyError::InvalidCode)?;
        match self.last_used_step {
            Some(last) if step <= last => Err(VerifyError::Replayed),
            _ => Ok(Accepted {
                step,
                drift: self.drift.learn(step, params, now),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = UnixTime::from_secs(1_700_000_000);

    fn secret(byte: u8) -> TotpSecret {
        TotpSecret::from_bytes(vec![byte; 20]).unwrap()
    }

    fn p() -> TotpParams {
        TotpParams::default()
    }

    fn confirm(
        pending: PendingEnrollment,
        code: &OtpCode,
        now: UnixTime,
    ) -> Result<EnabledFactor, EnrollmentError> {
        pending.confirm(
            code,
            now,
            &p(),
            DEFAULT_PENDING_TTL,
            EnrollmentSource::SelfService,
        )
    }

    #[test]
    fn a_valid_code_for_the_pending_secret_enables_two_factor() {
        let pending = TwoFactor::Disabled.start(secret(1), T0).unwrap();
        let code = p().code_at(&secret(1), T0);
        let enabled = confirm(pending, &code, T0).unwrap();
        assert_eq!(enabled.last_used_step, Some(p().step_at(T0)));
        assert_eq!(
            TwoFactor::Enabled(enabled).status(),
            TwoFactorStatus::Enabled
        );
    }

    #[test]
    fn a_wrong_code_keeps_the_enrollment_pending() {
        let pending = TwoFactor::Disabled.start(secret(1), T0).unwrap();
        let wrong = p().code_at(&secret(2), T0);
        assert_eq!(
            confirm(pending, &wrong, T0),
            Err(EnrollmentError::InvalidCode)
        );
    }

    #[test]
    fn restarting_replaces_the_secret_so_the_old_one_no_longer_confirms() {
        let first = TwoFactor::Disabled.start(secret(1), T0).unwrap();
        let second = TwoFactor::Pending(first).start(secret(2), T0).unwrap();
        assert_eq!(second.secret, secret(2));
        let old_code = p().code_at(&secret(1), T0);
        assert_eq!(
            confirm(second, &old_code, T0),
            Err(EnrollmentError::InvalidCode)
        );
    }

    #[test]
    fn a_pending_enrollment_expires_after_ten_minutes() {
        let pending = TwoFactor::Disabled.start(secret(1), T0).unwrap();
        let later = T0.plus(DEFAULT_PENDING_TTL);
        let code = p().code_at(&secret(1), later);
        assert_eq!(
            confirm(pending, &code, later),
            Err(EnrollmentError::Expired)
        );
    }

    #[test]
    fn an_enabled_factor_cannot_be_restarted() {
        let pending = TwoFactor::Disabled.start(secret(1), T0).unwrap();
        let enabled = confirm(pending, &p().code_at(&secret(1), T0), T0).unwrap();
        assert_eq!(
            TwoFactor::Enabled(enabled).start(secret(2), T0),
            Err(EnrollmentError::AlreadyEnabled)
        );
    }

    #[test]
    fn confirming_without_a_pending_enrollment_is_an_error() {
        assert_eq!(
            TwoFactor::Disabled.into_pending(),
            Err(EnrollmentError::NotPending)
        );
    }

    #[test]
    fn the_confirming_code_cannot_be_replayed_at_login() {
        let pending = TwoFactor::Disabled.start(secret(1), T0).unwrap();
        let code = p().code_at(&secret(1), T0);
        let enabled = confirm(pending, &code, T0).unwrap();
        assert_eq!(enabled.verify(&code, T0, &p()), Err(VerifyError::Replayed));
        let next = T0.plus(Duration::from_secs(30));
        assert!(enabled
            .verify(&p().code_at(&secret(1), next), next, &p())
            .is_ok());
    }

    #[test]
    fn an_older_step_than_the_last_used_is_refused() {
        let factor = EnabledFactor {
            secret: secret(1),
            enabled_at: T0,
            last_used_step: Some(p().step_at(T0)),
            drift: Drift::NONE,
            source: EnrollmentSource::SelfService,
        };
        let previous = p().code_at_step(&secret(1), TimeStep(p().step_at(T0).0 - 1));
        assert_eq!(
            factor.verify(&previous, T0, &p()),
            Err(VerifyError::Replayed)
        );
    }
}
