//! Setting a password with a mailed link: a forgotten password, an
//! admin- or support-sent reset, and an invitation. The rules are in
//! `auth_core::password_reset`; this runs them against the store.
//!
//! The use cases return a [`PasswordLetter`] (the token and who gets it);
//! the caller mails it after the transaction commits, so the token lives
//! only in the mail and, hashed, in the database.

use std::time::Duration;

use auth_core::{
    enrollment::TwoFactorStatus,
    events::SecurityEvent,
    identity::Email,
    ids::UserId,
    opaque_token::TokenHash,
    outcome::LoginOutcome,
    password::{Password, PasswordHash},
    password_reset::{ResetLimits, TokenState},
    throttle::Verdict,
    UnixTime,
};
use persistence::{
    records::{RequestOrigin, UserChanges, UserRecord},
    StoreError, TokenPurpose, Tx,
};
use rand_core::OsRng;

use super::{
    letters::PasswordLetter,
    operator::{Operator, Target},
    record::{record, Attempt, Context},
    refusal::{refuse, Decided, Missing, Refusal},
    second_factor::SecondFactor,
    users::end_everything,
    ServiceError, Services,
};

/// Token lifetimes and request limits, from configuration.
#[derive(Clone, Debug)]
pub struct RecoveryPolicy {
    pub reset_ttl: Duration,
    pub invitation_ttl: Duration,
    pub limits: ResetLimits,
    /// Admins may set first passwords (the air-gapped escape hatch).
    pub admin_set_passwords: bool,
    /// Links in mails start here (`AUTHGATE_PUBLIC_URL`).
    pub public_url: Option<String>,
}

/// The new password and, for an account with 2FA, its second factor.
pub struct PasswordResetInput {
    pub token: String,
    pub new_password: Password,
    pub proof: Option<SecondFactor>,
}

/// What a redeemed token did.
#[derive(Debug)]
pub struct PasswordSet {
    pub purpose: TokenPurpose,
    pub sessions_ended: usize,
}

impl Services {
    /// "Forgot password?": answered alike whether or not the email has an
    /// account; a mail is due only for an active account under both limits.
    /// Every request is recorded, so both kinds do the same database work.
    pub fn request_password_reset(
        &self,
        email: &Email,
        origin: &RequestOrigin,
    ) -> Result<Option<PasswordLetter>, ServiceError> {
        let now = self.clock.now();
        let limits = self.policy.recovery.limits;
        Ok(self.store.write(|tx| {
            let user = tx.user_by_email(email)?.filter(|u| !u.disabled);
            let (for_account, from_address) = tx.reset_requests_since(
                user.as_ref().map(|u| &u.id),
                origin.ip.as_deref(),
                limits.window_start(now),
            )?;
            let request_id = UserId::generate(&mut OsRng);
            tx.record_reset_request(
                request_id.as_str(),
                user.as_ref().map(|u| &u.id),
                origin.ip.as_deref(),
                now,
            )?;
            let Some(user) = user else { return Ok(None) };
            if !limits.allows(for_account, from_address) {
                tracing::info!(user_id = %user.id, "password reset request over the limit: no mail");
                return Ok(None);
            }
            let letter = self.issue_password_token(tx, &user, TokenPurpose::Reset, now)?;
            record(
                tx,
                &Context::of_user(&user, origin, now),
                &user,
                SecurityEvent::PasswordResetSent { reason: None },
            )?;
            Ok(Some(letter))
        })?)
    }

    /// An admin (their organization's users) or support (anyone, with a
    /// reason) sends a user a reset link; nobody but the user sees a
    /// password.
    pub fn send_password_reset(
        &self,
        operator: Operator<'_>,
        target: &Target,
        origin: &RequestOrigin,
    ) -> Result<PasswordLetter, ServiceError> {
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let Some(user) = operator.find(tx, target)?.filter(|u| !u.disabled) else {
                    return refuse(Refusal::NotFound(Missing::User));
                };
                let letter = self.issue_password_token(tx, &user, TokenPurpose::Reset, now)?;
                let ctx = Context {
                    actor: operator.actor(),
                    origin,
                    at: now,
                };
                let reason = operator.reason().map(str::to_owned);
                record(tx, &ctx, &user, SecurityEvent::PasswordResetSent { reason })?;
                Ok(Decided::Done(letter))
            })?
            .into_result()
    }

    /// Sends an invitation again (a new link; the old one dies), as long
    /// as the user has not accepted one.
    pub fn resend_invitation(
        &self,
        admin: &UserRecord,
        id: &UserId,
        origin: &RequestOrigin,
    ) -> Result<PasswordLetter, ServiceError> {
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let Some(user) = tx.user_in_organization(&admin.organization_id, id)? else {
                    return refuse(Refusal::NotFound(Missing::User));
                };
                if tx.invitation_accepted(&user.id)? {
                    return refuse(Refusal::InvitationAccepted);
                }
                let letter = self.issue_password_token(tx, &user, TokenPurpose::Invitation, now)?;
                record(
                    tx,
                    &Context::of_user(admin, origin, now),
                    &user,
                    SecurityEvent::UserInvited {},
                )?;
                Ok(Decided::Done(letter))
            })?
            .into_result()
    }

    /// Sets the password with a mailed token. An account with 2FA must also
    /// prove it: a reset never leaves an account with the password alone.
    /// A missing or wrong second factor leaves the token usable; wrong
    /// codes count toward the account's second-factor throttle and appear
    /// in the login history. Success ends every session.
    pub fn reset_password(
        &self,
        input: PasswordResetInput,
        origin: &RequestOrigin,
    ) -> Result<PasswordSet, ServiceError> {
        let (hash, _) = self.hash_new_password(Some(input.new_password))?;
        let token_hash = TokenHash::of(&input.token);
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let Some(stored) = tx.password_token(&token_hash)? else {
                    return refuse(Refusal::InvalidPasswordToken);
                };
                if TokenState::of(stored.expires_at, stored.consumed_at, now) != TokenState::Usable
                {
                    return refuse(Refusal::InvalidPasswordToken);
                }
                let Some(user) = tx.user_by_id(&stored.user_id)?.filter(|u| !u.disabled) else {
                    return refuse(Refusal::InvalidPasswordToken);
                };
                let second_factor =
                    match self.prove_for_reset(tx, &user, input.proof.as_ref(), origin, now)? {
                        Decided::Done(how) => how,
                        Decided::Refused(r) => return refuse(r),
                    };
                if !tx.redeem_password_token(&stored.id, now)? {
                    return refuse(Refusal::InvalidPasswordToken);
                }
                Ok(Decided::Done(self.set_password(
                    tx,
                    &user,
                    &hash,
                    stored.purpose,
                    second_factor,
                    origin,
                    now,
                )?))
            })?
            .into_result()
    }

    #[allow(clippy::too_many_arguments)] // one unit of work, named parts
    fn set_password(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        hash: &PasswordHash,
        purpose: TokenPurpose,
        second_factor: Option<&'static str>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<PasswordSet, StoreError> {
        tx.update_user(
            &user.id,
            &UserChanges {
                password_hash: Some(hash.clone()),
                ..UserChanges::default()
            },
            now,
        )?;
        let (sessions_ended, _) = end_everything(tx, &user.id, now)?;
        tx.revoke_password_tokens(&user.id, now)?;
        let ctx = Context::of_user(user, origin, now);
        let event = match purpose {
            TokenPurpose::Invitation => SecurityEvent::InvitationAccepted {},
            TokenPurpose::Reset => SecurityEvent::PasswordReset {
                sessions_ended,
                second_factor: second_factor.map(str::to_owned),
            },
        };
        record(tx, &ctx, user, event)?;
        if purpose == TokenPurpose::Reset {
            // The "password changed" notification follows this event.
            record(
                tx,
                &ctx,
                user,
                SecurityEvent::PasswordChanged { sessions_ended },
            )?;
        }
        Ok(PasswordSet {
            purpose,
            sessions_ended,
        })
    }

    /// The second factor a reset needs: nothing for an account without 2FA;
    /// otherwise a code or a recovery code, under the second-factor budget
    /// of the caller's address.
    /// Refusals commit (the failure is counted and recorded).
    fn prove_for_reset(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        proof: Option<&SecondFactor>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Decided<Option<&'static str>>, StoreError> {
        let ring = tx.keyring(&user.id)?;
        if ring.status() != TwoFactorStatus::Enabled {
            return Ok(Decided::Done(None));
        }
        let Some(proof) = proof else {
            return Ok(Decided::Refused(Refusal::SecondFactorRequired));
        };
        tx.lock_user(&user.id)?;
        let (budget, throttle) = self.code_budget(tx, user, origin, now)?;
        let attempt = Attempt {
            user: Some(user),
            client: None,
            origin,
            at: now,
        };
        let policy = self
            .policy
            .second_factor
            .for_authenticators(ring.confirmed.len());
        match policy.check(&throttle, now) {
            Verdict::Allowed => {}
            Verdict::Wait { until } => {
                self.record_attempt(tx, &attempt, LoginOutcome::Locked)?;
                return Ok(Decided::Refused(Refusal::TooManyAttempts {
                    retry_after: Duration::from_secs(now.until(until).as_secs_f64().ceil() as u64),
                }));
            }
            Verdict::Locked => {
                self.record_attempt(tx, &attempt, LoginOutcome::Locked)?;
                return Ok(Decided::Refused(Refusal::Locked));
            }
        }
        let checked = self.check_second_factor(tx, user, &ring, proof, now)?;
        match checked.outcome {
            LoginOutcome::Success => {
                tx.save_otp_throttle(&user.id, budget, &policy.after_success(throttle))?;
                Ok(Decided::Done(Some("otp")))
            }
            LoginOutcome::RecoveryCode => {
                tx.save_otp_throttle(&user.id, budget, &policy.after_success(throttle))?;
                let remaining = tx.remaining_recovery_codes(&user.id)?;
                record(
                    tx,
                    &Context::of_user(user, origin, now),
                    user,
                    SecurityEvent::RecoveryCodeUsed { remaining },
                )?;
                Ok(Decided::Done(Some("recovery_code")))
            }
            failed => {
                self.count_code_failure(tx, user, budget, &policy, throttle, origin, now)?;
                self.record_attempt(tx, &attempt, failed)?;
                Ok(Decided::Refused(Refusal::InvalidCode))
            }
        }
    }
}
