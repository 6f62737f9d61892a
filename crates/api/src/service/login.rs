//! The password step of a login.

use auth_core::{
    identity::{ClientKind, Email},
    outcome::LoginOutcome,
    password::Password,
    policy::{decide_login, LoginDecision},
    throttle::PasswordFailures,
};
use persistence::records::{ChallengeKind, RequestOrigin};

use super::{
    challenge::Challenge,
    record::Attempt,
    refusal::{refuse, Decided, Refusal, ServiceError},
    tokens::{Amr, Grant, IssuedTokens},
    Services,
};

pub struct LoginInput {
    pub email: Email,
    pub password: Password,
    pub client: ClientKind,
}

/// Where a correct password leads.
#[derive(Debug)]
pub enum LoginStep {
    /// Nothing more is required: tokens.
    Authenticated(IssuedTokens),
    /// The account has 2FA: a code must follow.
    OtpRequired(Challenge),
    /// 2FA is required and not set up: enrollment must follow.
    EnrollmentRequired(Challenge),
}

impl Services {
    /// Step one: email and password. Unknown email, wrong password and a
    /// throttled attempt: the same refusal after the same work.
    pub fn login(
        &self,
        input: LoginInput,
        origin: &RequestOrigin,
    ) -> Result<LoginStep, ServiceError> {
        let now = self.clock.now();
        let limits = &self.policy.password;
        let (user, failures) = self.store.read(|tx| {
            let user = tx.user_by_email(&input.email)?;
            let failures: PasswordFailures = tx.password_failures(
                user.as_ref().map(|u| &u.id),
                origin.ip.as_deref(),
                now.minus(limits.window),
                now.minus(limits.familiar_for),
            )?;
            Ok((user, failures))
        })?;
        let client = Some(input.client);
        let attempt = |user| Attempt {
            user,
            client,
            origin,
            at: now,
        };
        let throttled = !limits.allows(&failures);
        let user = match user {
            Some(user) if !throttled => user,
            _ => {
                // Throttled or unknown: the same work and the same answer
                // as a wrong password, so neither reveals anything.
                self.hasher.verify_dummy(&input.password);
                let outcome = if throttled {
                    LoginOutcome::Throttled
                } else {
                    LoginOutcome::UnknownAccount
                };
                self.store
                    .write(|tx| self.record_attempt(tx, &attempt(user.as_ref()), outcome))?;
                return Err(Refusal::InvalidCredentials.into());
            }
        };
        let matches = self
            .hasher
            .verify(&input.password, &user.password_hash)
            .map_err(|e| {
                tracing::error!(user_id = %user.id, error = %e, "stored password hash is unusable");
                ServiceError::Internal("stored password hash is unusable")
            })?;
        let step = self.store.write(|tx| {
            if !matches {
                self.record_attempt(tx, &attempt(Some(&user)), LoginOutcome::WrongPassword)?;
                return refuse(Refusal::InvalidCredentials);
            }
            // Re-read inside the transaction: the account may have changed
            // while the password was being hashed.
            let Some(user) = tx.user_by_id(&user.id)? else {
                return refuse(Refusal::InvalidCredentials);
            };
            let attempt = Attempt {
                user: Some(&user),
                client,
                origin,
                at: now,
            };
            if user.disabled {
                self.record_attempt(tx, &attempt, LoginOutcome::AccountDisabled)?;
                return refuse(Refusal::AccountDisabled);
            }
            let requirement = self.requirement(tx, &user)?;
            let status = tx.two_factor_status(&user.id)?;
            let (outcome, next) = match decide_login(status, &requirement, now) {
                LoginDecision::Authenticated {
                    enrollment_deadline,
                } => (
                    LoginOutcome::Success,
                    Next::Session(Grant {
                        client: input.client,
                        amr: Amr::Password,
                        enrollment_deadline,
                    }),
                ),
                LoginDecision::OtpRequired => (
                    LoginOutcome::OtpRequired,
                    Next::Challenge(ChallengeKind::Otp),
                ),
                LoginDecision::EnrollmentRequired => (
                    LoginOutcome::EnrollmentRequired,
                    Next::Challenge(ChallengeKind::Enrollment),
                ),
            };
            self.record_attempt(tx, &attempt, outcome)?;
            Ok(Decided::Done(match next {
                Next::Session(grant) => {
                    Opened::Session(self.open_session(tx, &user, grant, origin, now)?)
                }
                Next::Challenge(kind) => Opened::Challenge(
                    kind,
                    self.open_challenge(tx, &user, kind, input.client, now)?,
                ),
            }))
        })?;
        Ok(match step.into_result()? {
            Opened::Session(opened) => LoginStep::Authenticated(self.sign_session(opened, now)?),
            Opened::Challenge(ChallengeKind::Otp, c) => LoginStep::OtpRequired(c),
            Opened::Challenge(ChallengeKind::Enrollment, c) => LoginStep::EnrollmentRequired(c),
        })
    }
}

enum Next {
    Session(Grant),
    Challenge(ChallengeKind),
}

enum Opened {
    Session(super::tokens::OpenedSession),
    Challenge(ChallengeKind, Challenge),
}
