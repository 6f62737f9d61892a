//! The password step of a login.

use auth_core::{
    identity::{ClientKind, Email},
    ids::UserId,
    opaque_token::TokenHash,
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
    /// The hash of a remembered device's token, if the client sent one.
    pub device: Option<TokenHash>,
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

/// A login attempt that passed the per-address limit, with what the
/// password step needs (read before hashing).
pub struct Admitted {
    user: Option<persistence::records::UserRecord>,
    failures: PasswordFailures,
    now: auth_core::UnixTime,
}

/// An id no account has (ids are UUIDs): what an unknown email's queries
/// look up.
const NO_ACCOUNT: &str = "no-such-account";

/// How long a caller refused by the per-address limit is told to wait (the
/// count slides over an hour; trying again sooner only costs a read).
const ADDRESS_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

impl Services {
    /// Before any hashing: the per-address limit. It depends only on the
    /// caller's address (and whether this account knows that address), so
    /// refusing it at once reveals nothing and spends no argon2 time.
    pub fn admit_login(
        &self,
        email: &Email,
        origin: &RequestOrigin,
    ) -> Result<Admitted, ServiceError> {
        let now = self.clock.now();
        let limits = &self.policy.password;
        let (user, failures) = self.store.read(|tx| {
            let user = tx.user_by_email(email)?;
            // An unknown email runs the same per-account queries (for an id
            // no account has), so the database work does not tell known
            // emails from unknown ones (issue 12, finding 7).
            let nobody = UserId::from_stored(NO_ACCOUNT.into());
            let failures: PasswordFailures = tx.password_failures(
                Some(user.as_ref().map_or(&nobody, |u| &u.id)),
                origin.ip_group.as_deref(),
                now.minus(limits.window),
                now.minus(limits.familiar_for),
            )?;
            Ok((user, failures))
        })?;
        if !limits.address_allows(&failures) {
            return Err(Refusal::AddressThrottled {
                retry_after: ADDRESS_RETRY,
            }
            .into());
        }
        Ok(Admitted {
            user,
            failures,
            now,
        })
    }

    /// Step one: email and password. Unknown email, wrong password and a
    /// throttled account: the same refusal after the same work.
    pub fn login(
        &self,
        input: LoginInput,
        admitted: Admitted,
        origin: &RequestOrigin,
    ) -> Result<LoginStep, ServiceError> {
        let Admitted {
            user,
            failures,
            now,
        } = admitted;
        let limits = &self.policy.password;
        let client = Some(input.client);
        let attempt = |user| Attempt {
            user,
            client,
            origin,
            at: now,
        };
        let throttled = !limits.account_allows(&failures);
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
            // Re-read inside the transaction, holding the account's lock:
            // the account may have changed while the password was being
            // hashed. A password change that committed meanwhile means the
            // password just checked is no longer the account's; one that
            // commits after this login will end the session it opens.
            tx.lock_user(&user.id)?;
            let verified = user.password_hash.clone();
            let Some(user) = tx.user_by_id(&user.id)? else {
                return refuse(Refusal::InvalidCredentials);
            };
            let attempt = Attempt {
                user: Some(&user),
                client,
                origin,
                at: now,
            };
            if user.password_hash != verified {
                self.record_attempt(tx, &attempt, LoginOutcome::WrongPassword)?;
                return refuse(Refusal::InvalidCredentials);
            }
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
                LoginDecision::OtpRequired => match &input.device {
                    Some(device) if self.device_lets_in(tx, &user, device, now)? => (
                        LoginOutcome::RememberedDevice,
                        Next::Session(Grant {
                            client: input.client,
                            amr: Amr::PasswordDevice,
                            enrollment_deadline: None,
                        }),
                    ),
                    _ => (
                        LoginOutcome::OtpRequired,
                        Next::Challenge(ChallengeKind::Otp),
                    ),
                },
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
