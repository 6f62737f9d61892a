//! Parsing request values into domain types, before any use case runs: a
//! value that does not parse is a `400` (or, for a path id, a `404`).

use auth_core::{
    identity::{DisplayName, Email, Role},
    ids::{SessionId, UserId},
    password::Password,
    recovery::RecoveryCode,
    totp::OtpCode,
};

use crate::{
    dto::{RoleDto, TwoFactorPolicyDto},
    problem::ApiError,
    service::{second_factor::SecondFactor, step_up::StepUp},
};

pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

pub fn page_limit(limit: Option<u32>) -> Result<i64, ApiError> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        n @ 1..=MAX_PAGE => Ok(i64::from(n)),
        _ => Err(ApiError::InvalidRequest(format!(
            "limit must be 1 to {MAX_PAGE}"
        ))),
    }
}

pub fn code(code: &str) -> Result<OtpCode, ApiError> {
    code.parse()
        .map_err(|_| ApiError::InvalidRequest("code must be 6 digits".into()))
}

pub fn recovery_code(code: &str) -> Result<RecoveryCode, ApiError> {
    RecoveryCode::parse(code).ok_or_else(|| {
        ApiError::InvalidRequest("recovery_code must look like xxxx-xxxx-xxxx-xxxx".into())
    })
}

/// Exactly one of a TOTP code and a recovery code.
pub fn second_factor(code: Option<&str>, recovery: Option<&str>) -> Result<SecondFactor, ApiError> {
    match (code, recovery) {
        (Some(c), None) => Ok(SecondFactor::Totp(self::code(c)?)),
        (None, Some(rc)) => Ok(SecondFactor::Recovery(recovery_code(rc)?)),
        _ => Err(ApiError::InvalidRequest(
            "give exactly one of code and recovery_code".into(),
        )),
    }
}

/// The proof of a step-up: the password (reported as `password_field`
/// when malformed) and, when given, one second factor.
pub fn step_up(
    password: String,
    password_field: Option<&str>,
    code: Option<&str>,
    recovery: Option<&str>,
) -> Result<StepUp, ApiError> {
    Ok(StepUp {
        password: password_attempt(password, password_field)?,
        second_factor: match (code, recovery) {
            (None, None) => None,
            (code, recovery) => Some(second_factor(code, recovery)?),
        },
    })
}

pub fn email(s: &str) -> Result<Email, ApiError> {
    s.parse()
        .map_err(|_| ApiError::InvalidRequest("email is not a valid email address".into()))
}

pub fn name(s: &str) -> Result<DisplayName, ApiError> {
    s.parse().map_err(|e: auth_core::identity::IdentityError| {
        ApiError::InvalidRequest(format!("name: {e}"))
    })
}

/// A password typed to prove who one is (any length up to the maximum).
pub fn password_attempt(s: String, field: Option<&str>) -> Result<Password, ApiError> {
    Password::attempt(s).map_err(|e| invalid(field, &e))
}

/// A password being set (the length rules apply).
pub fn new_password(s: String, field: Option<&str>) -> Result<Password, ApiError> {
    Password::new_secret(s).map_err(|e| invalid(field, &e))
}

fn invalid(field: Option<&str>, e: &dyn std::fmt::Display) -> ApiError {
    ApiError::InvalidRequest(match field {
        Some(f) => format!("{f}: {e}"),
        None => e.to_string(),
    })
}

/// A user id from the path: one that cannot exist is simply not found.
pub fn user_id(s: &str) -> Result<UserId, ApiError> {
    UserId::parse(s).ok_or(ApiError::NotFound("user"))
}

pub fn session_id(s: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(s).ok_or(ApiError::NotFound("session"))
}

pub fn role(r: RoleDto) -> Role {
    match r {
        RoleDto::Admin => Role::Admin,
        RoleDto::Agent => Role::Agent,
    }
}

pub fn policy(p: TwoFactorPolicyDto) -> auth_core::policy::OrgTwoFactorPolicy {
    use auth_core::policy::OrgTwoFactorPolicy as P;
    match p {
        TwoFactorPolicyDto::Optional => P::Optional,
        TwoFactorPolicyDto::RequiredForAdmins => P::RequiredForAdmins,
        TwoFactorPolicyDto::RequiredForAll => P::RequiredForAll,
    }
}
