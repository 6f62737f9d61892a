//! The second step of a login: a TOTP code or a recovery code for the
//! challenge the password step opened.

use std::time::Duration;

use auth_core::{
    enrollment::{EnabledFactor, TwoFactor, VerifyError},
    events::{Actor, SecurityEvent},
    ids::FactorId,
    opaque_token::TokenHash,
    outcome::LoginOutcome,
    recovery::RecoveryCode,
    throttle::{ThrottleState, Verdict},
    totp::Algorithm,
    totp::OtpCode,
    UnixTime,
};
use persistence::{
    records::{ChallengeKind, RequestOrigin, UserRecord},
    StoreError, Tx,
};

use super::{
    challenge::LiveChallenge,
    record::{record, Context},
    refusal::{proceed, refuse, Decided, Refusal, ServiceError},
    tokens::{Amr, Grant, IssuedTokens},
    Services,
};

/// What proves the second factor at login.
pub enum SecondFactor {
    Totp(OtpCode),
    Recovery(RecoveryCode),
}

impl Services {
    /// Step two. Wrong and expired codes are one refusal to the caller; a
    /// right code used a second time is told apart (`code_already_used`) and
    /// does not count, so the owner's two devices never lock each other
    /// out. The account's throttle is checked before the code.
    pub fn verify_second_factor(
        &self,
        token: &str,
        proof: &SecondFactor,
        remember_device: bool,
        origin: &RequestOrigin,
    ) -> Result<IssuedTokens, ServiceError> {
        let now = self.clock.now();
        let opened = self.store.write(|tx| {
            let live = proceed!(self.live_challenge(tx, token, ChallengeKind::Otp, origin, now)?);
            let user = &live.user;
            // Serializes concurrent attempts on this account, across instances.
            tx.lock_user(&user.id)?;
            // Another submission on this challenge may have finished while
            // this one waited for the lock: look again, so that a used
            // challenge can never spend a second recovery code.
            if tx
                .challenge_by_token(&TokenHash::of(token))?
                .is_none_or(|(_, consumed)| consumed)
            {
                return refuse(Refusal::InvalidChallenge);
            }
            let throttle = tx.otp_throttle(&user.id)?;
            let verdict = self.policy.second_factor.check(&throttle, now);
            let waiting = matches!(verdict, Verdict::Wait { .. });
            let refusal = match verdict {
                Verdict::Allowed => None,
                // A recovery code is the owner's way through a wait that
                // strangers' wrong codes caused; only a hard lock stops it
                // (a wrong one still counts toward that lock).
                Verdict::Wait { .. } if matches!(proof, SecondFactor::Recovery(_)) => None,
                Verdict::Wait { until } => Some(Refusal::TooManyAttempts {
                    retry_after: Duration::from_secs(now.until(until).as_secs_f64().ceil() as u64),
                }),
                Verdict::Locked => Some(Refusal::Locked),
            };
            if let Some(refusal) = refusal {
                self.record_attempt(tx, &live.attempt(origin, now), LoginOutcome::Locked)?;
                return refuse(refusal);
            }
            let stored = tx.two_factor(&user.id)?;
            let (TwoFactor::Enabled(factor), Some(factor_id)) = (stored.state, stored.id) else {
                // The authenticator was reset after the password step.
                tx.consume_challenge(&live.challenge.id, now)?;
                return refuse(Refusal::InvalidChallenge);
            };
            let outcome = self.check_second_factor(
                tx,
                user,
                &factor,
                &factor_id,
                stored.algorithm,
                proof,
                now,
            )?;
            if outcome == LoginOutcome::ReplayedCode {
                // The right code, already accepted once: the owner in a
                // second tab or on a second device, not a guess. Recorded,
                // but neither the throttle nor the challenge counts it.
                self.record_attempt(tx, &live.attempt(origin, now), outcome)?;
                let next = self.policy.totp_for(stored.algorithm).next_step_at(now);
                return refuse(Refusal::CodeAlreadyUsed {
                    retry_after: now.until(next),
                });
            }
            if !matches!(outcome, LoginOutcome::Success | LoginOutcome::RecoveryCode) {
                if waiting {
                    // Only a recovery code gets this far during a wait; a
                    // wrong one must not hurry the hard lock (SECURITY.md).
                    return self.refuse_code(tx, &live, outcome, origin, now);
                }
                return self.fail_second_factor(tx, &live, throttle, outcome, origin, now);
            }
            if !tx.consume_challenge(&live.challenge.id, now)? {
                return refuse(Refusal::InvalidChallenge);
            }
            let after = self.policy.second_factor.after_success(throttle);
            if after != throttle {
                tx.save_otp_throttle(&user.id, &after)?;
            }
            self.record_attempt(tx, &live.attempt(origin, now), outcome)?;
            if outcome == LoginOutcome::RecoveryCode {
                let remaining = tx.remaining_recovery_codes(&user.id)?;
                record(
                    tx,
                    &Context::of_user(user, origin, now),
                    user,
                    SecurityEvent::RecoveryCodeUsed { remaining },
                )?;
            }
            let grant = Grant {
                client: live.challenge.client,
                amr: Amr::PasswordOtp,
                enrollment_deadline: None,
            };
            let device = if remember_device {
                self.remember_device(tx, user, live.challenge.client, origin, now)?
            } else {
                None
            };
            Ok(Decided::Done((
                self.open_session(tx, user, grant, origin, now)?,
                device,
            )))
        })?;
        let (opened, device) = opened.into_result()?;
        let mut tokens = self.sign_session(opened, now)?;
        tokens.device_token = device;
        Ok(tokens)
    }

    /// Checks `proof` against the user's enabled authenticator or their
    /// recovery codes, spending what it matches (the TOTP step, the
    /// recovery code). The outcome is named as the login history names it:
    /// `Success`, `RecoveryCode`, or why it failed.
    #[allow(clippy::too_many_arguments)] // the parts of one stored factor
    pub(crate) fn check_second_factor(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        factor: &EnabledFactor,
        factor_id: &FactorId,
        algorithm: Algorithm,
        proof: &SecondFactor,
        now: UnixTime,
    ) -> Result<LoginOutcome, StoreError> {
        Ok(match proof {
            SecondFactor::Totp(code) => {
                let params = self.policy.totp_for(algorithm);
                match factor.verify(code, now, &params) {
                    // The conditional update decides between concurrent submissions.
                    Ok(step) if tx.record_totp_step(factor_id, step, now)? => LoginOutcome::Success,
                    Ok(_) | Err(VerifyError::Replayed) => LoginOutcome::ReplayedCode,
                    Err(VerifyError::InvalidCode) => LoginOutcome::WrongCode,
                }
            }
            SecondFactor::Recovery(code) => {
                if tx.use_recovery_code(&user.id, &code.hash(&user.id), now)? {
                    LoginOutcome::RecoveryCode
                } else {
                    LoginOutcome::WrongRecoveryCode
                }
            }
        })
    }

    /// A failed second factor: counted by the account's throttle as well.
    fn fail_second_factor<T>(
        &self,
        tx: &mut Tx<'_>,
        live: &LiveChallenge,
        throttle: ThrottleState,
        outcome: LoginOutcome,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Decided<T>, StoreError> {
        let user = &live.user;
        let after = self.policy.second_factor.after_failure(throttle, now);
        tx.save_otp_throttle(&user.id, &after)?;
        if after.locked_at.is_some() && throttle.locked_at.is_none() {
            let ctx = Context {
                actor: Actor::System,
                origin,
                at: now,
            };
            record(
                tx,
                &ctx,
                user,
                SecurityEvent::TwoFactorLocked {
                    consecutive_failures: after.consecutive_failures,
                },
            )?;
        }
        self.refuse_code(tx, live, outcome, origin, now)
    }
}
