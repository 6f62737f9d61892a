//! Operator commands run on the server host, for users who cannot help
//! themselves (an admin who lost their authenticator). Every action ends
//! the user's sessions and is written to the audit log with the reason.

use auth_core::{identity::Email, UnixTime};
use persistence::records::{Actor, RequestOrigin};
use serde_json::json;

use super::{two_factor::audit, Services};
use crate::problem::ApiError;

/// Why support acted: required, so the audit log always says.
#[derive(Clone, Debug)]
pub struct SupportReason(String);

impl std::str::FromStr for SupportReason {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.chars().count() {
            0 => Err("a reason is required (for the audit log)"),
            1..=500 => Ok(Self(s.to_owned())),
            _ => Err("the reason must be at most 500 characters"),
        }
    }
}

#[derive(Debug)]
pub struct SupportReport {
    pub user_id: String,
    pub email: String,
    pub factor_removed: bool,
    pub sessions_ended: usize,
    pub challenges_ended: usize,
    pub was_locked: bool,
}

impl Services {
    fn support_action(
        &self,
        email: &Email,
        reason: &SupportReason,
        action: &str,
        remove_factor: bool,
        now: UnixTime,
    ) -> Result<SupportReport, ApiError> {
        self.store.write(|tx| {
            let Some(user) = tx.user_by_email(email)? else {
                return Ok(Err(ApiError::NotFound("user")));
            };
            let factor_removed = remove_factor && tx.delete_factor(&user.id)?;
            if remove_factor {
                tx.delete_recovery_codes(&user.id)?;
            }
            let was_locked = tx.otp_throttle(&user.id)?.locked_at.is_some();
            tx.save_otp_throttle(&user.id, &auth_core::throttle::SecondFactorPolicy::unlocked())?;
            let challenges_ended = tx.revoke_user_challenges(&user.id, now)?;
            let sessions_ended = tx.revoke_user_sessions(&user.id, now)?;
            audit(
                tx,
                &user,
                Actor::Support,
                action,
                &RequestOrigin::default(),
                json!({"reason": reason.0, "factor_removed": factor_removed, "was_locked": was_locked, "sessions_ended": sessions_ended}),
                now,
            )?;
            Ok(Ok(SupportReport {
                user_id: user.id,
                email: user.email.to_string(),
                factor_removed,
                sessions_ended,
                challenges_ended,
                was_locked,
            }))
        })?
    }

    /// Removes the user's factor. If 2FA is required of them they set up a
    /// new authenticator at their next login; otherwise they log in with
    /// their password.
    pub fn support_reset_two_factor(
        &self,
        email: &Email,
        reason: &SupportReason,
        now: UnixTime,
    ) -> Result<SupportReport, ApiError> {
        self.support_action(email, reason, "support.two_factor_reset", true, now)
    }

    /// Lifts the second-factor lock and waits, and ends the user's sessions
    /// and login challenges in flight.
    pub fn support_unlock(
        &self,
        email: &Email,
        reason: &SupportReason,
        now: UnixTime,
    ) -> Result<SupportReport, ApiError> {
        self.support_action(email, reason, "support.unlocked", false, now)
    }
}
