//! How a use case says no.
//!
//! A [`Refusal`] is an answer the caller must hear (wrong code, not found,
//! enforced by an admin); a [`ServiceError`] adds the failures that are not
//! the caller's doing (the database, an unusable stored hash). The HTTP
//! layer maps both to problem details in one place (`problem.rs`); the CLI
//! prints them.
//!
//! Some refusals must still commit what the unit of work wrote: a wrong
//! code is recorded in the login history and counted by the throttle even
//! though the caller is refused. Such units return [`Decided`]: `Refused`
//! commits, an `Err` rolls back.

use std::time::Duration;

use auth_core::policy::EnforcedBy;
use persistence::StoreError;

/// What an admin may not do to their own account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfChange {
    Demote,
    Disable,
    ResetTwoFactor,
    Remove,
}

impl SelfChange {
    fn verb(self) -> &'static str {
        match self {
            SelfChange::Demote => "demote",
            SelfChange::Disable => "disable",
            SelfChange::ResetTwoFactor => "reset two-factor authentication of",
            SelfChange::Remove => "remove",
        }
    }
}

/// A record a caller named that is not there (or not theirs to see).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    User,
    Session,
    WebhookEndpoint,
    ApiKey,
    Device,
    Authenticator,
}

impl Missing {
    pub fn noun(self) -> &'static str {
        match self {
            Missing::User => "user",
            Missing::Session => "session",
            Missing::WebhookEndpoint => "webhook endpoint",
            Missing::ApiKey => "API key",
            Missing::Device => "remembered device",
            Missing::Authenticator => "authenticator",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("the password is incorrect")]
    InvalidPassword,
    #[error("the code is not valid")]
    InvalidCode,
    #[error("the login challenge is invalid, used or expired; log in again")]
    InvalidChallenge,
    /// The session or refresh token no longer stands for a live session.
    #[error("a valid access token is required")]
    SessionEnded,
    #[error("this account is disabled; contact your administrator")]
    AccountDisabled,
    #[error("two-factor authentication is required by your {}; contact your administrator to turn it off", match .0 { EnforcedBy::Admin => "administrator", EnforcedBy::Organization => "organization's policy" })]
    TwoFactorEnforced(EnforcedBy),
    #[error("{} not found", .0.noun())]
    NotFound(Missing),
    #[error("too many wrong codes; try again in {} seconds", .retry_after.as_secs())]
    TooManyAttempts { retry_after: Duration },
    #[error("two-factor sign-in is locked after too many wrong codes; contact your administrator to unlock it")]
    Locked,
    /// A right code sent a second time (two tabs, the app and the
    /// extension): not a guess, so it does not count as a failure.
    #[error("this code was already used; wait for the next one (about {} seconds)", .retry_after.as_secs().max(1))]
    CodeAlreadyUsed { retry_after: Duration },
    #[error("two-factor authentication is already enabled; add another authenticator from the list of authenticators instead")]
    TwoFactorAlreadyEnabled,
    #[error("no enrollment is in progress; start one first")]
    NoPendingEnrollment,
    #[error("the enrollment expired; start again to get a new QR code")]
    EnrollmentExpired,
    #[error("two-factor authentication is not enabled")]
    TwoFactorNotEnabled,
    #[error("recovery codes exist only while two-factor authentication is enabled")]
    RecoveryCodesNeedTwoFactor,
    #[error("an admin cannot {} their own account; ask another admin", .0.verb())]
    CannotModifySelf(SelfChange),
    #[error("a user with this email already exists")]
    EmailTaken,
    /// A value the caller sent breaks a rule (not a malformed request,
    /// which the HTTP layer refuses before any use case runs).
    #[error("{0}")]
    InvalidInput(String),
    #[error(
        "the organization's last active admin cannot be removed; make another user admin first"
    )]
    LastAdmin,
    #[error(
        "the link is invalid, already used, replaced by a newer one or expired; ask for a new one"
    )]
    InvalidPasswordToken,
    #[error("this account has two-factor authentication: send a current `code` from the authenticator app, or a `recovery_code`")]
    SecondFactorRequired,
    #[error("the user already accepted their invitation; send a password reset instead")]
    InvitationAccepted,
    /// A webhook URL that may not be called (scheme, or where it resolves).
    #[error("{0}")]
    UnsafeWebhookUrl(String),
    /// A refresh token that Authgate never issued (or garbled): log in
    /// again.
    #[error("the refresh token is not valid; log in again")]
    RefreshTokenInvalid,
    /// The refresh token's session has ended: logged out, revoked by the
    /// user or an admin, expired, or ended because an old refresh token was
    /// presented again (reuse).
    #[error("the session has ended (logged out, revoked, expired or its refresh token was reused); log in again")]
    SessionRevoked,
    /// The account now requires a second factor this session never
    /// proved; the session was ended.
    #[error("the account now requires two-factor authentication, which this session did not prove; log in again")]
    SecondFactorNowRequired,
    /// An API key without the scope this endpoint needs.
    #[error("this API key lacks the scope {0}")]
    MissingScope(&'static str),
    /// Too many failed logins from the caller's address (over all
    /// accounts); decided before any password is hashed.
    #[error("too many failed logins from your address; try again in {} seconds", .retry_after.as_secs())]
    AddressThrottled { retry_after: Duration },
    /// A sensitive change needs more proof than was given (the password,
    /// or with 2FA on a code or recovery code as well).
    #[error("this change needs your current password and, with two-factor authentication on, a current code or a recovery code")]
    StepUpRequired,
    #[error("you already have {max} authenticators, the most allowed; remove one first")]
    TooManyAuthenticators { max: usize },
    #[error("this is your last authenticator and two-factor authentication is required by your {}; add another authenticator before removing this one", match .0 { EnforcedBy::Admin => "administrator", EnforcedBy::Organization => "organization's policy" })]
    LastAuthenticatorRequired(EnforcedBy),
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(StoreError),
    /// Something that should not happen did (an unusable stored hash, a QR
    /// code that cannot be drawn); logged where it happens.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::EmailTaken => ServiceError::Refused(Refusal::EmailTaken),
            other => ServiceError::Store(other),
        }
    }
}

/// What a unit of work decided: done, or refused with what it wrote still
/// committed.
#[must_use]
#[derive(Debug)]
pub enum Decided<T> {
    Done(T),
    Refused(Refusal),
}

impl<T> Decided<T> {
    pub fn into_result(self) -> Result<T, ServiceError> {
        match self {
            Decided::Done(v) => Ok(v),
            Decided::Refused(r) => Err(ServiceError::Refused(r)),
        }
    }
}

/// Ends a unit of work with a refusal (its writes still commit).
pub fn refuse<T>(refusal: Refusal) -> Result<Decided<T>, StoreError> {
    Ok(Decided::Refused(refusal))
}

/// Unwraps a `Decided`, or returns its refusal from the enclosing unit of
/// work (which then commits).
macro_rules! proceed {
    ($decided:expr) => {
        match $decided {
            $crate::service::Decided::Done(v) => v,
            $crate::service::Decided::Refused(r) => return Ok($crate::service::Decided::Refused(r)),
        }
    };
}
pub(crate) use proceed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_the_api_has_always_said_them() {
        assert_eq!(
            Refusal::TwoFactorEnforced(EnforcedBy::Admin).to_string(),
            "two-factor authentication is required by your administrator; contact your administrator to turn it off"
        );
        assert_eq!(
            Refusal::CannotModifySelf(SelfChange::ResetTwoFactor).to_string(),
            "an admin cannot reset two-factor authentication of their own account; ask another admin"
        );
        assert_eq!(
            Refusal::NotFound(Missing::User).to_string(),
            "user not found"
        );
        assert_eq!(
            Refusal::TooManyAttempts {
                retry_after: Duration::from_secs(7)
            }
            .to_string(),
            "too many wrong codes; try again in 7 seconds"
        );
    }

    #[test]
    fn a_taken_email_is_a_refusal_not_a_storage_failure() {
        assert!(matches!(
            ServiceError::from(StoreError::EmailTaken),
            ServiceError::Refused(Refusal::EmailTaken)
        ));
    }

    #[test]
    fn a_decided_refusal_becomes_the_error() {
        let d: Decided<()> = Decided::Refused(Refusal::Locked);
        assert!(matches!(
            d.into_result(),
            Err(ServiceError::Refused(Refusal::Locked))
        ));
    }
}
