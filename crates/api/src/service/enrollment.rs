//! Setting up an authenticator: from the profile (with an access token),
//! from the list of authenticators (another one, `authenticators.rs`) and
//! at login when 2FA is required (with an enrollment challenge). The state
//! machines are `auth_core::enrollment` and `auth_core::authenticators`.

use std::time::Duration;

use auth_core::{
    authenticators::{AuthenticatorName, AuthenticatorRef, MAX_AUTHENTICATORS},
    enrollment::{EnrollmentError, EnrollmentSource, PendingEnrollment, TwoFactorStatus},
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

use super::refusal::Missing;
use rand_core::OsRng;

use super::{
    profile::TwoFactorSummary,
    record::{record, Context},
    refusal::{proceed, refuse, Decided, Refusal},
    step_up::{Caller, Needs, StepUp},
    tokens::{Amr, Grant, IssuedTokens},
    ServiceError, Services,
};

/// Which enrollment: the first authenticator (turning 2FA on), or another.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind<'a> {
    First,
    Another(&'a AuthenticatorName),
}

/// A confirmed authenticator, and whether it was the first (2FA turned on).
#[derive(Debug)]
pub(crate) struct Enabled {
    pub authenticator: AuthenticatorRef,
    pub first: bool,
}

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
    /// Starts (or restarts) setting up an authenticator; the QR code is
    /// drawn after the transaction so the write lock is not held for it.
    /// `Kind::First` is the enrollment endpoints' "turn 2FA on" (refused
    /// while 2FA is on); `Kind::Another` adds one up to the cap.
    pub(crate) fn begin_enrollment(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        kind: Kind<'_>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Decided<(FactorId, PendingEnrollment)>, StoreError> {
        let ring = tx.keyring(&user.id)?;
        let default_name;
        let name = match kind {
            Kind::First => {
                if ring.status() == TwoFactorStatus::Enabled {
                    return refuse(Refusal::TwoFactorAlreadyEnabled);
                }
                default_name = AuthenticatorName::from_stored(DEFAULT_AUTHENTICATOR_NAME.into());
                &default_name
            }
            Kind::Another(name) => {
                if ring.may_add(MAX_AUTHENTICATORS).is_err() {
                    return refuse(Refusal::TooManyAuthenticators {
                        max: MAX_AUTHENTICATORS,
                    });
                }
                name
            }
        };
        let pending = PendingEnrollment {
            secret: TotpSecret::generate(&mut OsRng),
            started_at: now,
        };
        let id = FactorId::generate(&mut OsRng);
        tx.save_pending_factor(&NewFactor {
            id: &id,
            user_id: &user.id,
            name,
            pending: &pending,
            algorithm: self.policy.totp.algorithm,
        })?;
        record(
            tx,
            &Context::of_user(user, origin, now),
            user,
            SecurityEvent::EnrollmentStarted {},
        )?;
        Ok(Decided::Done((id, pending)))
    }

    pub(crate) fn ticket(
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
        let (_, pending) = self
            .store
            .write(|tx| self.begin_enrollment(tx, user, Kind::First, origin, now))?
            .into_result()?;
        self.ticket(&user.email, &pending, now)
    }

    /// Checks `code` against the pending authenticator (`which`, or
    /// whichever is pending) and, if right, confirms it. The first one turns
    /// 2FA on (`two_factor.enabled`); a further one is `authenticator_added`.
    #[allow(clippy::too_many_arguments)] // one confirmation's facts
    pub(crate) fn enable_pending(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        which: Option<&FactorId>,
        code: &OtpCode,
        source: EnrollmentSource,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Decided<Enabled>, StoreError> {
        let ring = tx.keyring(&user.id)?;
        let first = ring.status() != TwoFactorStatus::Enabled;
        if which.is_none() && !first {
            // The enrollment endpoints only ever set up the first one.
            return refuse(Refusal::TwoFactorAlreadyEnabled);
        }
        let pending = match (ring.pending, which) {
            (Some(p), Some(id)) if &p.id == id => p,
            (_, Some(_)) => return refuse(Refusal::NotFound(Missing::Authenticator)),
            (Some(p), None) => p,
            (None, None) => return refuse(Refusal::NoPendingEnrollment),
        };
        if !first && ring.confirmed.len() >= MAX_AUTHENTICATORS {
            return refuse(Refusal::TooManyAuthenticators {
                max: MAX_AUTHENTICATORS,
            });
        }
        let started_at = pending.enrollment.started_at;
        let params = self.policy.totp_for(pending.algorithm);
        let enabled =
            match pending
                .enrollment
                .confirm(code, now, &params, self.policy.enrollment_ttl, source)
            {
                Ok(f) => f,
                Err(e) => return refuse(refusal_of(e)),
            };
        if !tx.enable_factor(&pending.id, started_at, &enabled)? {
            return refuse(Refusal::NoPendingEnrollment);
        }
        let authenticator = AuthenticatorRef {
            id: pending.id,
            name: pending.name.as_str().to_owned(),
        };
        let event = if first {
            SecurityEvent::TwoFactorEnabled {
                source,
                authenticator: Some(authenticator.clone()),
            }
        } else {
            SecurityEvent::AuthenticatorAdded {
                authenticator: authenticator.clone(),
            }
        };
        record(tx, &Context::of_user(user, origin, now), user, event)?;
        Ok(Decided::Done(Enabled {
            authenticator,
            first,
        }))
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
                    None,
                    code,
                    EnrollmentSource::SelfService,
                    origin,
                    now
                )?);
                let codes = self.two_factor_turned_on(tx, user, session, now)?;
                let mut summary = self.two_factor_summary(tx, user, now)?;
                summary.recovery_codes = Some(codes);
                Ok(Decided::Done(summary))
            })?
            .into_result()
    }

    /// What follows the first authenticator's confirmation from the profile:
    /// recovery codes (returned, shown once), the confirming session counts
    /// as having proven the second factor, the user's other sessions end.
    pub(crate) fn two_factor_turned_on(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        session: &SessionId,
        now: UnixTime,
    ) -> Result<Vec<auth_core::recovery::RecoveryCode>, StoreError> {
        let codes = Self::issue_recovery_codes(tx, &user.id, now)?;
        tx.set_session_amr(session, Amr::PasswordOtp.methods())?;
        tx.revoke_user_sessions(&user.id, Some(session), now)?;
        Ok(codes)
    }

    /// Enrollment at login, step one: the QR code.
    pub fn start_enrollment_at_login(
        &self,
        token: &str,
        origin: &RequestOrigin,
    ) -> Result<EnrollmentTicket, ServiceError> {
        self.known_challenge(token)?;
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
                let (_, pending) =
                    proceed!(self.begin_enrollment(tx, &live.user, Kind::First, origin, now)?);
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
        self.known_challenge(token)?;
        let now = self.clock.now();
        let opened = self.store.write(|tx| {
            let live =
                proceed!(self.live_challenge(tx, token, ChallengeKind::Enrollment, origin, now)?);
            let source = EnrollmentSource::Required;
            let enabled =
                match self.enable_pending(tx, &live.user, None, code, source, origin, now)? {
                    Decided::Done(enabled) => enabled,
                    Decided::Refused(Refusal::InvalidCode) => {
                        return self.refuse_code(tx, &live, LoginOutcome::WrongCode, origin, now)
                    }
                    Decided::Refused(r) => return refuse(r),
                };
            if !tx.consume_challenge(&live.challenge.id, now)? {
                return refuse(Refusal::InvalidChallenge);
            }
            self.record_attempt_with(
                tx,
                &live.attempt(origin, now),
                LoginOutcome::Success,
                Some(&enabled.authenticator),
            )?;
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
