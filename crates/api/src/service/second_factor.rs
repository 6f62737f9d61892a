//! The second step of a login: a TOTP code or a recovery code for the
//! challenge the password step opened.

use std::time::Duration;

use auth_core::{
    authenticators::{AuthenticatorRef, CodeCheck, Keyring},
    enrollment::TwoFactorStatus,
    events::{Actor, SecurityEvent},
    opaque_token::TokenHash,
    outcome::LoginOutcome,
    recovery::RecoveryCode,
    throttle::{Budget, SecondFactorPolicy, ThrottleState, Verdict},
    totp::OtpCode,
    UnixTime,
};
use persistence::{
    records::{ChallengeKind, RequestOrigin, UserRecord},
    StoreError, Tx,
};

use super::{
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

/// How a second factor fared: the outcome as the login history names it,
/// and the authenticator a code matched (right or replayed).
pub(crate) struct Checked {
    pub outcome: LoginOutcome,
    pub authenticator: Option<AuthenticatorRef>,
}

impl Services {
    /// Step two. Wrong and expired codes are one refusal to the caller; a
    /// right code used a second time is told apart (`code_already_used`) and
    /// does not count, so the owner's two devices never lock each other
    /// out. The throttle of the budget this address answers to is checked
    /// before the code.
    pub fn verify_second_factor(
        &self,
        token: &str,
        proof: &SecondFactor,
        remember_device: bool,
        origin: &RequestOrigin,
    ) -> Result<IssuedTokens, ServiceError> {
        self.known_challenge(token)?;
        let now = self.clock.now();
        let opened = self.store.write(|tx| {
            let live = proceed!(self.live_challenge(tx, token, ChallengeKind::Otp, origin, now)?);
            let user = &live.user;
            // Serializes concurrent attempts on this account, across instances.
            // Another submission on this challenge may have finished while
            // this one waited for the lock: look again, so that a used
            // challenge can never spend a second recovery code.
            if tx.lock_user(&user.id)?
                && tx
                    .challenge_by_token(&TokenHash::of(token))?
                    .is_none_or(|(_, consumed)| consumed)
            {
                return refuse(Refusal::InvalidChallenge);
            }
            let ring = tx.keyring(&user.id)?;
            if ring.status() != TwoFactorStatus::Enabled {
                // The authenticators were reset after the password step.
                tx.consume_challenge(&live.challenge.id, now)?;
                return refuse(Refusal::InvalidChallenge);
            }
            // More authenticators, more codes per guess: a slower budget.
            let policy = self
                .policy
                .second_factor
                .for_authenticators(ring.confirmed.len());
            // The budget of this address only: strangers' failures never
            // wait or lock the owner's known addresses, nor the reverse.
            let (budget, throttle) = self.code_budget(tx, user, origin, now)?;
            let verdict = policy.check(&throttle, now);
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
            let Checked {
                outcome,
                authenticator,
            } = self.check_second_factor(tx, user, &ring, proof, now)?;
            if outcome == LoginOutcome::ReplayedCode {
                // The right code, already accepted once: the owner in a
                // second tab or on a second device, not a guess. Recorded,
                // but neither the throttle nor the challenge counts it.
                self.record_attempt_with(
                    tx,
                    &live.attempt(origin, now),
                    outcome,
                    authenticator.as_ref(),
                )?;
                let next = self.policy.totp.next_step_at(now);
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
                self.count_code_failure(tx, user, budget, &policy, throttle, origin, now)?;
                return self.refuse_code(tx, &live, outcome, origin, now);
            }
            if !tx.consume_challenge(&live.challenge.id, now)? {
                return refuse(Refusal::InvalidChallenge);
            }
            let after = policy.after_success(throttle);
            if after != throttle {
                tx.save_otp_throttle(&user.id, budget, &after)?;
            }
            self.record_attempt_with(
                tx,
                &live.attempt(origin, now),
                outcome,
                authenticator.as_ref(),
            )?;
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

    /// Checks `proof` against every confirmed authenticator of the user or
    /// their recovery codes, spending what it matches (that authenticator's
    /// step, the recovery code). The outcome is named as the login history
    /// names it: `Success`, `RecoveryCode`, or why it failed.
    pub(crate) fn check_second_factor(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        ring: &Keyring,
        proof: &SecondFactor,
        now: UnixTime,
    ) -> Result<Checked, StoreError> {
        Ok(match proof {
            SecondFactor::Totp(code) => {
                match ring.check(code, now, |algorithm| self.policy.totp_for(algorithm)) {
                    CodeCheck::Accepted {
                        authenticator,
                        accepted,
                    } => Checked {
                        // The conditional update decides between concurrent
                        // submissions, on any instance.
                        outcome: if tx.record_totp_step(&authenticator.id, &accepted, now)? {
                            LoginOutcome::Success
                        } else {
                            LoginOutcome::ReplayedCode
                        },
                        authenticator: Some(authenticator.reference()),
                    },
                    CodeCheck::Replayed { authenticator } => Checked {
                        outcome: LoginOutcome::ReplayedCode,
                        authenticator: Some(authenticator.reference()),
                    },
                    CodeCheck::Invalid => Checked {
                        outcome: LoginOutcome::WrongCode,
                        authenticator: None,
                    },
                }
            }
            SecondFactor::Recovery(code) => Checked {
                outcome: if tx.use_recovery_code(&user.id, &code.hash(&user.id), now)? {
                    LoginOutcome::RecoveryCode
                } else {
                    LoginOutcome::WrongRecoveryCode
                },
                authenticator: None,
            },
        })
    }

    /// The second-factor budget a code sent from `origin` answers to, and
    /// its state: the owner's when the account signed in (was issued
    /// tokens) from that address group within the password stage's
    /// `familiar_for`, the strangers' otherwise.
    pub(crate) fn code_budget(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<(Budget, ThrottleState), StoreError> {
        tx.otp_throttle_for_address(
            &user.id,
            origin.ip_group.as_deref(),
            now.minus(self.policy.password.familiar_for),
        )
    }

    /// Counts a wrong code in `budget` (whose state before was `throttle`).
    /// The failure that hard-locks a budget is recorded as
    /// `two_factor.locked`, naming the budget: it mails the owner and fires
    /// `account.locked`.
    #[allow(clippy::too_many_arguments)] // one failure's facts
    pub(crate) fn count_code_failure(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        budget: Budget,
        policy: &SecondFactorPolicy,
        throttle: ThrottleState,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let after = policy.after_failure(throttle, now);
        tx.save_otp_throttle(&user.id, budget, &after)?;
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
                    budget: Some(budget),
                },
            )?;
        }
        Ok(())
    }
}
