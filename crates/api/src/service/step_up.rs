//! Re-authentication before a sensitive change (OWASP ASVS 2.x
//! re-authentication): an access token alone may read the account, but
//! changing who can get in needs the password again and, where 2FA is on, a
//! current code or recovery code.
//!
//! A failure counts like a failed login: the password towards the
//! per-account limits, a code through the second-factor throttle; it appears
//! in the login history and the audit log (`user.step_up_failed`), and after
//! [`STEP_UP_FAILURES_END_SESSION`] failures the session making them ends.

use std::time::Duration;

use auth_core::{
    enrollment::TwoFactorStatus,
    events::SecurityEvent,
    ids::SessionId,
    outcome::LoginOutcome,
    password::Password,
    throttle::{PasswordFailures, Verdict},
    UnixTime,
};
use persistence::{
    records::{RequestOrigin, UserRecord},
    StoreError, Tx,
};

use super::{
    record::{record, Attempt, Context},
    refusal::{refuse, Decided, Refusal, ServiceError},
    second_factor::SecondFactor,
    Services,
};

/// Failed step-ups after which the session that made them ends.
pub const STEP_UP_FAILURES_END_SESSION: u32 = 5;

/// What the caller offers to prove it is the account's owner.
pub struct StepUp {
    pub password: Password,
    pub second_factor: Option<SecondFactor>,
}

/// What a change needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// The password only (starting enrollment, ending other sessions).
    Password,
    /// The password and, when 2FA is on, a code or recovery code.
    PasswordAndSecondFactor,
}

/// The session and user re-authenticating.
pub struct Caller<'a> {
    pub user: &'a UserRecord,
    pub session: &'a SessionId,
    pub origin: &'a RequestOrigin,
}

impl Services {
    /// Checks `proof` for `needs`; hashes a password, so it runs on the
    /// hashing pool. `Ok` means the caller proved what the change needs.
    pub fn step_up(
        &self,
        caller: &Caller<'_>,
        proof: &StepUp,
        needs: Needs,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let limits = &self.policy.password;
        let failures: PasswordFailures = self.store.read(|tx| {
            tx.password_failures(
                Some(&caller.user.id),
                caller.origin.ip_group.as_deref(),
                now.minus(limits.window),
                now.minus(limits.familiar_for),
            )
        })?;
        let password_outcome = if !limits.account_allows(&failures) {
            // Same work as a wrong password: the answer reveals nothing.
            self.hasher.verify_dummy(&proof.password);
            Some(LoginOutcome::Throttled)
        } else if self.password_matches(caller.user, &proof.password)? {
            None
        } else {
            Some(LoginOutcome::WrongPassword)
        };
        if let Some(outcome) = password_outcome {
            return self
                .store
                .write(|tx| self.fail_step_up(tx, caller, outcome, Refusal::InvalidPassword, now))?
                .into_result();
        }
        if needs == Needs::Password {
            return Ok(());
        }
        self.store
            .write(|tx| self.step_up_second_factor(tx, caller, proof, now))?
            .into_result()
    }

    fn password_matches(
        &self,
        user: &UserRecord,
        password: &Password,
    ) -> Result<bool, ServiceError> {
        self.hasher
            .verify(password, &user.password_hash)
            .map_err(|e| {
                tracing::error!(user_id = %user.id, error = %e, "stored password hash is unusable");
                ServiceError::Internal("stored password hash is unusable")
            })
    }

    /// The code or recovery code, under the second-factor budget of the
    /// caller's address (the same one the login's code step uses).
    fn step_up_second_factor(
        &self,
        tx: &mut Tx<'_>,
        caller: &Caller<'_>,
        proof: &StepUp,
        now: UnixTime,
    ) -> Result<Decided<()>, StoreError> {
        let user = caller.user;
        if tx.two_factor_status(&user.id)? != TwoFactorStatus::Enabled {
            return Ok(Decided::Done(()));
        }
        let Some(second) = &proof.second_factor else {
            return refuse(Refusal::StepUpRequired);
        };
        tx.lock_user(&user.id)?;
        let ring = tx.keyring(&user.id)?;
        if ring.status() != TwoFactorStatus::Enabled {
            return Ok(Decided::Done(()));
        }
        let (budget, throttle) = self.code_budget(tx, user, caller.origin, now)?;
        let policy = self
            .policy
            .second_factor
            .for_authenticators(ring.confirmed.len());
        let waiting = match policy.check(&throttle, now) {
            Verdict::Allowed => None,
            Verdict::Wait { until } => Some(Refusal::TooManyAttempts {
                retry_after: Duration::from_secs(now.until(until).as_secs_f64().ceil() as u64),
            }),
            Verdict::Locked => Some(Refusal::Locked),
        };
        if let Some(refusal) = waiting {
            return self.fail_step_up(tx, caller, LoginOutcome::Locked, refusal, now);
        }
        let failed = match self
            .check_second_factor(tx, user, &ring, second, now)?
            .outcome
        {
            LoginOutcome::Success => None,
            LoginOutcome::RecoveryCode => {
                let remaining = tx.remaining_recovery_codes(&user.id)?;
                record(
                    tx,
                    &Context::of_user(user, caller.origin, now),
                    user,
                    SecurityEvent::RecoveryCodeUsed { remaining },
                )?;
                None
            }
            failed => Some(failed),
        };
        match failed {
            None => {
                let after = policy.after_success(throttle);
                if after != throttle {
                    tx.save_otp_throttle(&user.id, budget, &after)?;
                }
                Ok(Decided::Done(()))
            }
            Some(outcome) => {
                self.count_code_failure(tx, user, budget, &policy, throttle, caller.origin, now)?;
                self.fail_step_up(tx, caller, outcome, Refusal::InvalidCode, now)
            }
        }
    }

    /// Writes a failed step-up down (history, audit, the session's count,
    /// which may end it) and refuses; the writes commit.
    fn fail_step_up<T>(
        &self,
        tx: &mut Tx<'_>,
        caller: &Caller<'_>,
        outcome: LoginOutcome,
        refusal: Refusal,
        now: UnixTime,
    ) -> Result<Decided<T>, StoreError> {
        let user = caller.user;
        self.record_attempt(
            tx,
            &Attempt {
                user: Some(user),
                client: None,
                origin: caller.origin,
                at: now,
            },
            outcome,
        )?;
        let failures = tx.count_step_up_failure(caller.session)?;
        let session_ended =
            failures >= STEP_UP_FAILURES_END_SESSION && tx.revoke_session(caller.session, now)?;
        record(
            tx,
            &Context::of_user(user, caller.origin, now),
            user,
            SecurityEvent::StepUpFailed {
                reason: outcome.as_str().to_owned(),
                session_id: caller.session.clone(),
                session_ended,
            },
        )?;
        refuse(refusal)
    }
}
