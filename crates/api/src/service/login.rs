//! Password login, the TOTP step, refresh and logout.

use auth_core::{
    enrollment::{TwoFactor, VerifyError},
    identity::{ClientKind, Email},
    opaque_token::{OpaqueToken, TokenHash},
    outcome::LoginOutcome,
    password::Password,
    policy::{decide_login, session_suffices, LoginDecision, Requirement},
    recovery::RecoveryCode,
    throttle::{PasswordFailures, ThrottleState, Verdict},
    totp::OtpCode,
    UnixTime,
};
use persistence::{
    records::{
        Actor, ChallengeKind, ChallengeRecord, NewChallenge, NewLoginEvent, RequestOrigin,
        UserRecord,
    },
    Rotation, StoreError, Tx,
};
use rand_core::OsRng;

use super::{
    new_id,
    tokens::{Grant, AMR_PASSWORD, AMR_PASSWORD_OTP},
    Services,
};
use crate::{
    dto::{ChallengeResponse, LoginResponse, TokenResponse},
    problem::ApiError,
};

/// What proves the second factor at login.
pub enum SecondFactor {
    Totp(OtpCode),
    Recovery(RecoveryCode),
}

pub struct LoginInput {
    pub email: Email,
    pub password: Password,
    pub client: ClientKind,
}

/// Outcome of a unit of work that must commit even when the caller gets an
/// error (a failed attempt is still recorded).
pub type Committed<T> = Result<T, ApiError>;

impl Services {
    pub fn record_login(
        &self,
        tx: &mut Tx<'_>,
        user: Option<&UserRecord>,
        outcome: LoginOutcome,
        client: Option<ClientKind>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.metrics.login(outcome);
        tx.insert_login_event(&NewLoginEvent {
            user_id: user.map(|u| u.id.clone()),
            organization_id: user.map(|u| u.organization_id.clone()),
            outcome,
            client,
            origin: origin.clone(),
            at: now,
        })
    }

    /// Where 2FA stands for `user` under their organization's policy.
    pub fn requirement(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
    ) -> Result<Requirement, StoreError> {
        let org = tx
            .organization(&user.organization_id)?
            .ok_or_else(|| StoreError::Corrupt(format!("user {} has no organization", user.id)))?;
        Ok(Requirement::of(&user.facts(), &org.policy))
    }

    fn open_challenge(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        kind: ChallengeKind,
        client: ClientKind,
        now: UnixTime,
    ) -> Result<ChallengeResponse, StoreError> {
        let token = OpaqueToken::generate("ch", &mut OsRng);
        tx.insert_challenge(&NewChallenge {
            id: new_id(),
            token_hash: token.hash(),
            user_id: user.id.clone(),
            kind,
            client,
            created_at: now,
            expires_at: now.plus(self.policy.challenge_ttl),
        })?;
        Ok(ChallengeResponse {
            challenge_token: token.expose().to_owned(),
            expires_in: self.policy.challenge_ttl.as_secs(),
        })
    }

    /// Step one: email and password. Unknown email, wrong password: the
    /// same error after the same work.
    pub fn login(
        &self,
        input: LoginInput,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<LoginResponse, ApiError> {
        let client = Some(input.client);
        let limits = &self.policy.password;
        let (user, failures) = self.store.read(|tx| {
            let user = tx.user_by_email(&input.email)?;
            let failures: PasswordFailures = tx.password_failures(
                user.as_ref().map(|u| u.id.as_str()),
                origin.ip.as_deref(),
                now.minus(limits.window),
                now.minus(limits.familiar_for),
            )?;
            Ok((user, failures))
        })?;
        if !limits.allows(&failures) {
            // Throttled: the same work and the same answer as a wrong
            // password, so throttling reveals nothing either.
            self.hasher.verify_dummy(&input.password);
            self.store.write(|tx| {
                self.record_login(
                    tx,
                    user.as_ref(),
                    LoginOutcome::Throttled,
                    client,
                    origin,
                    now,
                )
            })?;
            return Err(ApiError::InvalidCredentials);
        }
        let Some(user) = user else {
            self.hasher.verify_dummy(&input.password);
            self.store.write(|tx| {
                self.record_login(tx, None, LoginOutcome::UnknownAccount, client, origin, now)
            })?;
            return Err(ApiError::InvalidCredentials);
        };
        let matches = self
            .hasher
            .verify(&input.password, &user.password_hash)
            .map_err(|e| {
                tracing::error!(user_id = %user.id, error = %e, "stored password hash is unusable");
                ApiError::Internal
            })?;
        let result: Committed<LoginResponse> = self.store.write(|tx| {
            if !matches {
                self.record_login(
                    tx,
                    Some(&user),
                    LoginOutcome::WrongPassword,
                    client,
                    origin,
                    now,
                )?;
                return Ok(Err(ApiError::InvalidCredentials));
            }
            // Re-read inside the transaction: the account may have changed
            // while the password was being hashed.
            let Some(user) = tx.user_by_id(&user.id)? else {
                return Ok(Err(ApiError::InvalidCredentials));
            };
            if user.disabled {
                self.record_login(
                    tx,
                    Some(&user),
                    LoginOutcome::AccountDisabled,
                    client,
                    origin,
                    now,
                )?;
                return Ok(Err(ApiError::AccountDisabled));
            }
            let requirement = self.requirement(tx, &user)?;
            let status = tx.two_factor_status(&user.id)?;
            let response = match decide_login(status, &requirement, now) {
                LoginDecision::Authenticated {
                    enrollment_deadline,
                } => {
                    self.record_login(tx, Some(&user), LoginOutcome::Success, client, origin, now)?;
                    LoginResponse::Authenticated(self.open_session(
                        tx,
                        &user,
                        Grant {
                            client: input.client,
                            amr: AMR_PASSWORD,
                            enrollment_deadline,
                        },
                        origin,
                        now,
                    )?)
                }
                LoginDecision::OtpRequired => {
                    self.record_login(
                        tx,
                        Some(&user),
                        LoginOutcome::OtpRequired,
                        client,
                        origin,
                        now,
                    )?;
                    LoginResponse::OtpRequired(self.open_challenge(
                        tx,
                        &user,
                        ChallengeKind::Otp,
                        input.client,
                        now,
                    )?)
                }
                LoginDecision::EnrollmentRequired => {
                    self.record_login(
                        tx,
                        Some(&user),
                        LoginOutcome::EnrollmentRequired,
                        client,
                        origin,
                        now,
                    )?;
                    LoginResponse::EnrollmentRequired(self.open_challenge(
                        tx,
                        &user,
                        ChallengeKind::Enrollment,
                        input.client,
                        now,
                    )?)
                }
            };
            Ok(Ok(response))
        })?;
        result
    }

    /// Finds a usable challenge of `kind` for `token`, recording why not
    /// when it is not. The outer error aborts; the inner one commits.
    pub fn live_challenge(
        &self,
        tx: &mut Tx<'_>,
        token: &str,
        kind: ChallengeKind,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Committed<(ChallengeRecord, UserRecord)>, StoreError> {
        let Some((challenge, consumed)) = tx.challenge_by_token(&TokenHash::of(token))? else {
            return Ok(Err(ApiError::InvalidChallenge));
        };
        // A challenge of the other kind is as good as no challenge.
        if challenge.kind != kind || consumed {
            return Ok(Err(ApiError::InvalidChallenge));
        }
        let Some(user) = tx.user_by_id(&challenge.user_id)? else {
            return Ok(Err(ApiError::InvalidChallenge));
        };
        if now >= challenge.expires_at {
            tx.consume_challenge(&challenge.id, now)?;
            self.record_login(
                tx,
                Some(&user),
                LoginOutcome::ChallengeExpired,
                Some(challenge.client),
                origin,
                now,
            )?;
            return Ok(Err(ApiError::InvalidChallenge));
        }
        if user.disabled {
            tx.consume_challenge(&challenge.id, now)?;
            self.record_login(
                tx,
                Some(&user),
                LoginOutcome::AccountDisabled,
                Some(challenge.client),
                origin,
                now,
            )?;
            return Ok(Err(ApiError::AccountDisabled));
        }
        Ok(Ok((challenge, user)))
    }

    /// Counts a wrong code against a challenge and records it; a challenge
    /// that used up its attempts is spent, so the next try must log in again.
    pub fn refuse_code<T>(
        &self,
        tx: &mut Tx<'_>,
        challenge: &ChallengeRecord,
        user: &UserRecord,
        outcome: LoginOutcome,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Committed<T>, StoreError> {
        self.record_login(tx, Some(user), outcome, Some(challenge.client), origin, now)?;
        if tx.count_challenge_failure(&challenge.id)? >= self.policy.max_code_attempts {
            tx.consume_challenge(&challenge.id, now)?;
            self.record_login(
                tx,
                Some(user),
                LoginOutcome::TooManyAttempts,
                Some(challenge.client),
                origin,
                now,
            )?;
        }
        Ok(Err(ApiError::InvalidCode))
    }

    /// A failed second factor: counted by the account's throttle as well.
    fn fail_second_factor<T>(
        &self,
        tx: &mut Tx<'_>,
        (challenge, user): (&ChallengeRecord, &UserRecord),
        throttle: ThrottleState,
        outcome: LoginOutcome,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Committed<T>, StoreError> {
        let after = self.policy.second_factor.after_failure(throttle, now);
        tx.save_otp_throttle(&user.id, &after)?;
        if after.locked_at.is_some() && throttle.locked_at.is_none() {
            super::two_factor::audit(
                tx,
                user,
                Actor::System,
                "two_factor.locked",
                origin,
                serde_json::json!({"consecutive_failures": after.consecutive_failures}),
                now,
            )?;
        }
        self.refuse_code(tx, challenge, user, outcome, origin, now)
    }

    /// Step two: a TOTP code (or a recovery code) for the challenge. Wrong,
    /// expired and replayed codes are one error to the caller; the history
    /// tells them apart. The account's throttle is checked before the code.
    pub fn verify_second_factor(
        &self,
        token: &str,
        proof: &SecondFactor,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<TokenResponse, ApiError> {
        let opened = self.store.write(|tx| {
            let (challenge, user) =
                match self.live_challenge(tx, token, ChallengeKind::Otp, origin, now)? {
                    Ok(found) => found,
                    Err(e) => return Ok(Err(e)),
                };
            // Serializes concurrent attempts on this account, across instances.
            tx.lock_user(&user.id)?;
            let throttle = tx.otp_throttle(&user.id)?;
            let refusal = match self.policy.second_factor.check(&throttle, now) {
                Verdict::Allowed => None,
                Verdict::Wait { until } => Some(ApiError::TooManyAttempts {
                    retry_after_secs: now.until(until).as_secs_f64().ceil() as u64,
                }),
                Verdict::Locked => Some(ApiError::Locked),
            };
            if let Some(refusal) = refusal {
                let client = Some(challenge.client);
                self.record_login(tx, Some(&user), LoginOutcome::Locked, client, origin, now)?;
                return Ok(Err(refusal));
            }
            let stored = tx.two_factor(&user.id)?;
            let TwoFactor::Enabled(factor) = stored.state else {
                // The factor was reset after the password step.
                tx.consume_challenge(&challenge.id, now)?;
                return Ok(Err(ApiError::InvalidChallenge));
            };
            let outcome = match proof {
                SecondFactor::Totp(code) => {
                    let params = self.policy.totp_for(stored.algorithm);
                    match factor.verify(code, now, &params) {
                        // The conditional update decides between concurrent submissions.
                        Ok(step) if tx.record_totp_step(&user.id, step)? => LoginOutcome::Success,
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
            };
            if !matches!(outcome, LoginOutcome::Success | LoginOutcome::RecoveryCode) {
                return self.fail_second_factor(
                    tx,
                    (&challenge, &user),
                    throttle,
                    outcome,
                    origin,
                    now,
                );
            }
            if !tx.consume_challenge(&challenge.id, now)? {
                return Ok(Err(ApiError::InvalidChallenge));
            }
            let after = self.policy.second_factor.after_success(throttle);
            if after != throttle {
                tx.save_otp_throttle(&user.id, &after)?;
            }
            self.record_login(
                tx,
                Some(&user),
                outcome,
                Some(challenge.client),
                origin,
                now,
            )?;
            if outcome == LoginOutcome::RecoveryCode {
                let remaining = tx.remaining_recovery_codes(&user.id)?;
                super::two_factor::audit(
                    tx,
                    &user,
                    Actor::User(&user.id),
                    "two_factor.recovery_code_used",
                    origin,
                    serde_json::json!({"remaining": remaining}),
                    now,
                )?;
            }
            let tokens = self.open_session_unsigned(
                tx,
                &user,
                Grant {
                    client: challenge.client,
                    amr: AMR_PASSWORD_OTP,
                    enrollment_deadline: None,
                },
                origin,
                now,
            )?;
            Ok(Ok(tokens))
        })??;
        Ok(self.sign_session(opened, now))
    }

    /// Exchanges a refresh token for a new pair. Refused when the account
    /// now requires a factor the session never proved.
    pub fn refresh(&self, presented: &str, now: UnixTime) -> Result<TokenResponse, ApiError> {
        self.store.write(|tx| {
            let replacement = OpaqueToken::generate("rt", &mut OsRng);
            let session = match tx.rotate_refresh_token(&TokenHash::of(presented), &replacement.hash(), now)? {
                Rotation::Rotated(session) => session,
                Rotation::Unknown => return Ok(Err(ApiError::Unauthorized)),
                Rotation::Reused { session_id } => {
                    tracing::warn!(%session_id, "a rotated refresh token was presented again; session revoked");
                    if let Some((_, user)) = tx.session_owner(&session_id)? {
                        super::two_factor::audit(
                            tx,
                            &user,
                            Actor::System,
                            "session.refresh_token_reused",
                            &RequestOrigin::default(),
                            serde_json::json!({"session_id": session_id}),
                            now,
                        )?;
                    }
                    return Ok(Err(ApiError::Unauthorized));
                }
            };
            let user = match tx.user_by_id(&session.user_id)? {
                Some(u) if !u.disabled => u,
                _ => {
                    tx.revoke_session(&session.id, now)?;
                    return Ok(Err(ApiError::Unauthorized));
                }
            };
            let requirement = self.requirement(tx, &user)?;
            let status = tx.two_factor_status(&user.id)?;
            let amr = Self::session_amr(&session);
            if !session_suffices(status, &requirement, amr.contains(&"otp"), now) {
                tx.revoke_session(&session.id, now)?;
                return Ok(Err(ApiError::Unauthorized));
            }
            Ok(Ok(self.access_token(
                &user,
                &session.id,
                session.client,
                amr,
                replacement,
                now,
            )))
        })?
    }

    pub fn logout(&self, session_id: &str, now: UnixTime) -> Result<(), ApiError> {
        self.store.write(|tx| tx.revoke_session(session_id, now))?;
        Ok(())
    }
}
