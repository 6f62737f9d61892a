//! Setting up an authenticator: from the profile (with an access token)
//! and at login when 2FA is required (with an enrollment challenge). The
//! state machine itself is `auth_core::enrollment`.

use std::time::Duration;

use auth_core::{
    enrollment::{EnrollmentError, EnrollmentSource, PendingEnrollment},
    events::SecurityEvent,
    identity::Email,
    ids::{FactorId, SessionId},
    otpauth,
    outcome::LoginOutcome,
    qr,
    totp::{OtpCode, TotpSecret},
    UnixTime,
};
use persistence::{
    records::{ChallengeKind, RequestOrigin, UserRecord},
    NewFactor, StoreError, Tx, DEFAULT_AUTHENTICATOR_NAME,
};
use rand_core::OsRng;

use super::{
    profile::TwoFactorSummary,
    record::{record, Context},
    refusal::{proceed, refuse, Decided, Refusal},
    step_up::{Caller, Needs, StepUp},
    tokens::{Amr, Grant, IssuedTokens},
    ServiceError, Services,
};

/// What to put in an authenticator app.
#[derive(Debug)]
pub struct EnrollmentTicket {
    /// Base32 (RFC 4648, no padding), for typing in by hand.
    pub secret: String,
    /// Key Uri Format; the QR codes encode exactly this.
    pub otpauth_uri: String,
    pub qr_svg: String,
    /// `data:image/png;base64,…`
    pub qr_png: String,
    pub expires_in: Duration,
}

fn refusal_of(e: EnrollmentError) -> Refusal {
    match e {
        EnrollmentError::AlreadyEnabled => Refusal::TwoFactorAlreadyEnabled,
        EnrollmentError::NotPending => Refusal::NoPendingEnrollment,
        EnrollmentError::Expired => Refusal::EnrollmentExpired,
        EnrollmentError::InvalidCode => Refusal::InvalidCode,
    }
}

impl Services {
    /// Starts (or restarts) enrollment; the QR code is drawn after the
    /// transaction so the write lock is not held for it.
    fn begin_enrollment(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Decided<PendingEnrollment>, StoreError> {
        let stored = tx.two_factor(&user.id)?;
        let pending = match stored.state.start(TotpSecret::generate(&mut OsRng), now) {
            Ok(p) => p,
            Err(e) => return refuse(refusal_of(e)),
        };
        tx.save_pending_factor(&NewFactor {
            id: &FactorId::generate(&mut OsRng),
            user_id: &user.id,
            name: DEFAULT_AUTHENTICATOR_NAME,
            pending: &pending,
            algorithm: self.policy.totp.algorithm,
        })?;
        record(
            tx,
            &Context::of_user(user, origin, now),
            user,
            SecurityEvent::EnrollmentStarted {},
        )?;
        Ok(Decided::Done(pending))
    }

    fn ticket(
        &self,
        email: &Email,
        pending: &PendingEnrollment,
        now: UnixTime,
    ) -> Result<EnrollmentTicket, ServiceError> {
        let uri = otpauth::key_uri(
            &self.policy.totp_issuer,
            email.as_str(),
            &pending.secret,
            &self.policy.totp,
        );
        let drawn = qr::svg(&uri).and_then(|svg| Ok((svg, qr::png_data_uri(&uri)?)));
        let (qr_svg, qr_png) = drawn.map_err(|e| {
            tracing::error!(error = %e, "QR rendering failed");
            ServiceError::Internal("QR rendering failed")
        })?;
        Ok(EnrollmentTicket {
            secret: pending.secret.to_base32(),
            qr_svg,
            qr_png,
            otpauth_uri: uri,
            expires_in: now.until(pending.expires_at(self.policy.enrollment_ttl)),
        })
    }

    /// From the profile: a new secret and its QR code.
    pub fn start_enrollment(
        &self,
        caller: &Caller<'_>,
        proof: &StepUp,
    ) -> Result<EnrollmentTicket, ServiceError> {
        // A stolen access token alone must not enroll its own authenticator.
        self.step_up(caller, proof, Needs::Password)?;
        let (user, origin) = (caller.user, caller.origin);
        let now = self.clock.now();
        let pending = self
            .store
            .write(|tx| self.begin_enrollment(tx, user, origin, now))?
            .into_result()?;
        self.ticket(&user.email, &pending, now)
    }

    /// Checks `code` against the pending enrollment and, if right, turns
    /// 2FA on.
    fn enable_pending(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        code: &OtpCode,
        source: EnrollmentSource,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Decided<()>, StoreError> {
        let stored = tx.two_factor(&user.id)?;
        let (pending, Some(id)) = (stored.state.into_pending(), stored.id) else {
            return refuse(Refusal::NoPendingEnrollment);
        };
        let pending = match pending {
            Ok(p) => p,
            Err(e) => return refuse(refusal_of(e)),
        };
        let started_at = pending.started_at;
        let params = self.policy.totp_for(stored.algorithm);
        let enabled = match pending.confirm(code, now, &params, self.policy.enrollment_ttl, source)
        {
            Ok(f) => f,
            Err(e) => return refuse(refusal_of(e)),
        };
        if !tx.enable_factor(&id, started_at, &enabled)? {
            return refuse(Refusal::NoPendingEnrollment);
        }
        record(
            tx,
            &Context::of_user(user, origin, now),
            user,
            SecurityEvent::TwoFactorEnabled { source },
        )
        .map(|()| Decided::Done(()))
    }

    /// From the profile: confirms with a code. The confirming session is
    /// marked as having proven the second factor; the user's other
    /// sessions end.
    pub fn confirm_enrollment(
        &self,
        user: &UserRecord,
        session: &SessionId,
        code: &OtpCode,
        origin: &RequestOrigin,
    ) -> Result<TwoFactorSummary, ServiceError> {
        let now = self.clock.now();
        self.store
            .write(|tx| {
                proceed!(self.enable_pending(
                    tx,
                    user,
                    code,
                    EnrollmentSource::SelfService,
                    origin,
                    now
                )?);
                let codes = Self::issue_recovery_codes(tx, &user.id, now)?;
                tx.set_session_amr(session, Amr::PasswordOtp.methods())?;
                tx.revoke_user_sessions(&user.id, Some(session), now)?;
                let mut summary = self.two_factor_summary(tx, user, now)?;
                summary.recovery_codes = Some(codes);
                Ok(Decided::Done(summary))
            })?
            .into_result()
    }

    /// Enrollment at login, step one: the QR code.
    pub fn start_enrollment_at_login(
        &self,
        token: &str,
        origin: &RequestOrigin,
    ) -> Result<EnrollmentTicket, ServiceError> {
        let now = self.clock.now();
        let (email, pending) = self
            .store
            .write(|tx| {
                let live = proceed!(self.live_challenge(
                    tx,
                    token,
                    ChallengeKind::Enrollment,
                    origin,
                    now
                )?);
                let pending = proceed!(self.begin_enrollment(tx, &live.user, origin, now)?);
                Ok(Decided::Done((live.user.email, pending)))
            })?
            .into_result()?;
        self.ticket(&email, &pending, now)
    }

    /// Enrollment at login, step two: the first code proves the new
    /// authenticator, and with it every factor the account requires.
    pub fn confirm_enrollment_at_login(
        &self,
        token: &str,
        code: &OtpCode,
        origin: &RequestOrigin,
    ) -> Result<IssuedTokens, ServiceError> {
        let now = self.clock.now();
        let opened = self.store.write(|tx| {
            let live =
                proceed!(self.live_challenge(tx, token, ChallengeKind::Enrollment, origin, now)?);
            let source = EnrollmentSource::Required;
            match self.enable_pending(tx, &live.user, code, source, origin, now)? {
                Decided::Done(()) => {}
                Decided::Refused(Refusal::InvalidCode) => {
                    return self.refuse_code(tx, &live, LoginOutcome::WrongCode, origin, now)
                }
                Decided::Refused(r) => return refuse(r),
            }
            if !tx.consume_challenge(&live.challenge.id, now)? {
                return refuse(Refusal::InvalidChallenge);
            }
            self.record_attempt(tx, &live.attempt(origin, now), LoginOutcome::Success)?;
            let codes = Self::issue_recovery_codes(tx, &live.user.id, now)?;
            let grant = Grant {
                client: live.challenge.client,
                amr: Amr::PasswordOtp,
                enrollment_deadline: None,
            };
            let opened = self.open_session(tx, &live.user, grant, origin, now)?;
            Ok(Decided::Done((opened, codes)))
        })?;
        let (opened, codes) = opened.into_result()?;
        let mut tokens = self.sign_session(opened, now)?;
        tokens.recovery_codes = Some(codes);
        Ok(tokens)
    }
}
