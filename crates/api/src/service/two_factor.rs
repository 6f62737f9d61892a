//! Setting up and turning off two-factor authentication: from the profile
//! (with an access token) and at login (with an enrollment challenge).

use auth_core::{
    enrollment::{EnrollmentError, EnrollmentSource, PendingEnrollment, TwoFactorStatus},
    identity::Email,
    otpauth,
    outcome::LoginOutcome,
    password::Password,
    policy::{may_disable, DisableError},
    qr,
    recovery::RecoveryCode,
    totp::{OtpCode, TotpSecret},
    UnixTime,
};
use persistence::{
    records::{Actor, ChallengeKind, NewAuditEvent, RequestOrigin, SessionRecord, UserRecord},
    StoreError, Tx,
};
use rand_core::OsRng;

use super::{
    login::Committed,
    tokens::{Grant, AMR_PASSWORD_OTP},
    Services,
};
use crate::{
    dto::{EnrollmentResponse, TokenResponse, TwoFactorView},
    problem::ApiError,
};

fn enrollment_error(e: EnrollmentError) -> ApiError {
    match e {
        EnrollmentError::AlreadyEnabled => ApiError::conflict(
            "two_factor_already_enabled",
            "two-factor authentication is already enabled; disable it first to set up a new authenticator",
        ),
        EnrollmentError::NotPending => ApiError::conflict(
            "no_pending_enrollment",
            "no enrollment is in progress; start one first",
        ),
        EnrollmentError::Expired => ApiError::conflict(
            "enrollment_expired",
            "the enrollment expired; start again to get a new QR code",
        ),
        EnrollmentError::InvalidCode => ApiError::InvalidCode,
    }
}

pub fn audit(
    tx: &mut Tx<'_>,
    user: &UserRecord,
    actor: Actor<'_>,
    action: &str,
    origin: &RequestOrigin,
    details: serde_json::Value,
    now: UnixTime,
) -> Result<(), StoreError> {
    tx.append_audit(&NewAuditEvent {
        organization_id: Some(&user.organization_id),
        actor,
        target_user_id: Some(&user.id),
        action,
        ip: origin.ip.as_deref(),
        details,
        at: now,
    })
}

impl Services {
    /// Starts (or restarts) enrollment; the QR code is rendered after the
    /// transaction so the write lock is not held for it.
    fn begin_enrollment(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        actor: Actor<'_>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Committed<PendingEnrollment>, StoreError> {
        let stored = tx.two_factor(&user.id)?;
        let pending = match stored.state.start(TotpSecret::generate(&mut OsRng), now) {
            Ok(p) => p,
            Err(e) => return Ok(Err(enrollment_error(e))),
        };
        tx.save_pending_factor(&user.id, &pending, self.policy.totp.algorithm)?;
        audit(
            tx,
            user,
            actor,
            "two_factor.enrollment_started",
            origin,
            serde_json::json!({}),
            now,
        )?;
        Ok(Ok(pending))
    }

    fn enrollment_response(
        &self,
        email: &Email,
        pending: &PendingEnrollment,
        now: UnixTime,
    ) -> Result<EnrollmentResponse, ApiError> {
        let uri = otpauth::key_uri(
            &self.policy.totp_issuer,
            email.as_str(),
            &pending.secret,
            &self.policy.totp,
        );
        let render = |e: qr::QrError| {
            tracing::error!(error = %e, "QR rendering failed");
            ApiError::Internal
        };
        Ok(EnrollmentResponse {
            secret: pending.secret.to_base32(),
            qr_svg: qr::svg(&uri).map_err(render)?,
            qr_png: qr::png_data_uri(&uri).map_err(render)?,
            otpauth_uri: uri,
            expires_in: now
                .until(pending.expires_at(self.policy.enrollment_ttl))
                .as_secs(),
        })
    }

    pub fn start_enrollment(
        &self,
        user: &UserRecord,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<EnrollmentResponse, ApiError> {
        let pending = self
            .store
            .write(|tx| self.begin_enrollment(tx, user, Actor::User(&user.id), origin, now))??;
        self.enrollment_response(&user.email, &pending, now)
    }

    /// Checks `code` against the pending enrollment and, if right, turns
    /// 2FA on. The outer error aborts; the inner one is the refusal.
    fn enable_pending(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        code: &OtpCode,
        source: EnrollmentSource,
        now: UnixTime,
    ) -> Result<Committed<()>, StoreError> {
        let stored = tx.two_factor(&user.id)?;
        let pending = match stored.state.into_pending() {
            Ok(p) => p,
            Err(e) => return Ok(Err(enrollment_error(e))),
        };
        let started_at = pending.started_at;
        let params = self.policy.totp_for(stored.algorithm);
        let enabled = match pending.confirm(code, now, &params, self.policy.enrollment_ttl, source)
        {
            Ok(f) => f,
            Err(e) => return Ok(Err(enrollment_error(e))),
        };
        if !tx.enable_factor(&user.id, started_at, &enabled)? {
            return Ok(Err(enrollment_error(EnrollmentError::NotPending)));
        }
        Ok(Ok(()))
    }

    /// Confirms with a code; the confirming session is marked as having
    /// proven the second factor and the user's other sessions end.
    pub fn confirm_enrollment(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
        code: &OtpCode,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<TwoFactorView, ApiError> {
        self.store.write(|tx| {
            if let Err(e) =
                self.enable_pending(tx, user, code, EnrollmentSource::SelfService, now)?
            {
                return Ok(Err(e));
            }
            let codes = self.issue_recovery_codes(tx, &user.id, now)?;
            tx.set_session_amr(&session.id, AMR_PASSWORD_OTP)?;
            tx.revoke_other_sessions(&user.id, &session.id, now)?;
            audit(
                tx,
                user,
                Actor::User(&user.id),
                "two_factor.enabled",
                origin,
                serde_json::json!({"source": "self"}),
                now,
            )?;
            let mut view = self.two_factor_view(tx, user, now)?;
            view.recovery_codes = Some(codes);
            Ok(Ok(view))
        })?
    }

    /// Turns 2FA off after checking the password, unless someone requires it.
    pub fn disable_two_factor(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
        password: &Password,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<TwoFactorView, ApiError> {
        let matches = self
            .hasher
            .verify(password, &user.password_hash)
            .map_err(|_| ApiError::Internal)?;
        if !matches {
            return Err(ApiError::InvalidPassword);
        }
        self.store.write(|tx| {
            let requirement = self.requirement(tx, user)?;
            if tx.two_factor_status(&user.id)? == TwoFactorStatus::Disabled {
                return Ok(Err(ApiError::conflict(
                    "two_factor_not_enabled",
                    "two-factor authentication is not enabled",
                )));
            }
            if let Err(DisableError::Enforced(by)) = may_disable(&requirement) {
                return Ok(Err(ApiError::TwoFactorEnforced(by)));
            }
            tx.delete_factor(&user.id)?;
            tx.delete_recovery_codes(&user.id)?;
            tx.revoke_other_sessions(&user.id, &session.id, now)?;
            audit(
                tx,
                user,
                Actor::User(&user.id),
                "two_factor.disabled",
                origin,
                serde_json::json!({}),
                now,
            )?;
            Ok(Ok(self.two_factor_view(tx, user, now)?))
        })?
    }

    /// Forced enrollment at login, step one: the QR code.
    pub fn start_enrollment_at_login(
        &self,
        token: &str,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<EnrollmentResponse, ApiError> {
        let (email, pending) = self.store.write(|tx| {
            let (_, user) =
                match self.live_challenge(tx, token, ChallengeKind::Enrollment, origin, now)? {
                    Ok(found) => found,
                    Err(e) => return Ok(Err(e)),
                };
            Ok(self
                .begin_enrollment(tx, &user, Actor::User(&user.id), origin, now)?
                .map(|p| (user.email.clone(), p)))
        })??;
        self.enrollment_response(&email, &pending, now)
    }

    /// Forced enrollment at login, step two: the first code proves the new
    /// factor, and with it every factor the account requires.
    pub fn confirm_enrollment_at_login(
        &self,
        token: &str,
        code: &OtpCode,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<TokenResponse, ApiError> {
        self.store.write(|tx| {
            let (challenge, user) =
                match self.live_challenge(tx, token, ChallengeKind::Enrollment, origin, now)? {
                    Ok(found) => found,
                    Err(e) => return Ok(Err(e)),
                };
            match self.enable_pending(tx, &user, code, EnrollmentSource::Required, now)? {
                Ok(()) => {}
                Err(ApiError::InvalidCode) => {
                    return self.refuse_code(
                        tx,
                        &challenge,
                        &user,
                        LoginOutcome::WrongCode,
                        origin,
                        now,
                    )
                }
                Err(e) => return Ok(Err(e)),
            }
            if !tx.consume_challenge(&challenge.id, now)? {
                return Ok(Err(ApiError::InvalidChallenge));
            }
            audit(
                tx,
                &user,
                Actor::User(&user.id),
                "two_factor.enabled",
                origin,
                serde_json::json!({"source": "required"}),
                now,
            )?;
            self.record_login(
                tx,
                Some(&user),
                LoginOutcome::Success,
                Some(challenge.client),
                origin,
                now,
            )?;
            let codes = self.issue_recovery_codes(tx, &user.id, now)?;
            let mut tokens = self.open_session(
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
            tokens.recovery_codes = Some(codes);
            Ok(Ok(tokens))
        })?
    }

    /// A new set of recovery codes; the old set stops working. Returned
    /// once, stored only as hashes.
    fn issue_recovery_codes(
        &self,
        tx: &mut Tx<'_>,
        user_id: &str,
        now: UnixTime,
    ) -> Result<Vec<String>, StoreError> {
        let codes = RecoveryCode::generate_set(&mut OsRng);
        let hashes: Vec<String> = codes.iter().map(|c| c.hash(user_id)).collect();
        tx.replace_recovery_codes(user_id, &hashes, now)?;
        Ok(codes.iter().map(|c| c.expose().to_owned()).collect())
    }

    /// Replaces the recovery codes, after checking the password.
    pub fn regenerate_recovery_codes(
        &self,
        user: &UserRecord,
        password: &Password,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Vec<String>, ApiError> {
        if !self
            .hasher
            .verify(password, &user.password_hash)
            .map_err(|_| ApiError::Internal)?
        {
            return Err(ApiError::InvalidPassword);
        }
        self.store.write(|tx| {
            if tx.two_factor_status(&user.id)? != TwoFactorStatus::Enabled {
                return Ok(Err(ApiError::conflict(
                    "two_factor_not_enabled",
                    "recovery codes exist only while two-factor authentication is enabled",
                )));
            }
            let codes = self.issue_recovery_codes(tx, &user.id, now)?;
            audit(
                tx,
                user,
                Actor::User(&user.id),
                "two_factor.recovery_codes_replaced",
                origin,
                serde_json::json!({}),
                now,
            )?;
            Ok(Ok(codes))
        })?
    }
}
