//! Every error the API returns, and the one place where each becomes an
//! HTTP status and an RFC 9457 `application/problem+json` body with a
//! stable `code`. Use-case refusals arrive as [`Refusal`]s and are mapped
//! here, nowhere else.

pub mod responses;

use actix_web::{
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::{header, StatusCode},
    HttpRequest, HttpResponse, ResponseError,
};
use persistence::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    hash_pool::PoolRefusal,
    service::{Refusal, ServiceError},
};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the request body exceeds {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("a valid access token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("no such endpoint")]
    RouteNotFound,
    #[error("this endpoint does not support the {0} method")]
    MethodNotAllowed(String),
    /// A use case said no.
    #[error(transparent)]
    Refused(Refusal),
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    #[error("too many logins at once; try again in a moment")]
    Overloaded,
    #[error("an internal error occurred")]
    Internal,
    /// Too many password checks from the caller's address at once.
    #[error("too many logins from your address at once; try again in a moment")]
    TooManyRequests,
}

/// Status, code and title of a refusal.
fn refusal_problem(r: &Refusal) -> (StatusCode, &'static str, &'static str) {
    use StatusCode as S;
    match r {
        Refusal::InvalidCredentials => (
            S::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid credentials",
        ),
        Refusal::InvalidPassword => (S::UNAUTHORIZED, "invalid_password", "Invalid password"),
        Refusal::InvalidCode => (S::UNAUTHORIZED, "invalid_code", "Invalid code"),
        Refusal::InvalidChallenge => (S::UNAUTHORIZED, "invalid_challenge", "Invalid challenge"),
        Refusal::SessionEnded => (S::UNAUTHORIZED, "unauthorized", "Unauthorized"),
        Refusal::AccountDisabled => (S::FORBIDDEN, "account_disabled", "Account disabled"),
        Refusal::TwoFactorEnforced(_) => (
            S::FORBIDDEN,
            "two_factor_enforced",
            "Two-factor authentication is enforced",
        ),
        Refusal::NotFound(_) => (S::NOT_FOUND, "not_found", "Not found"),
        Refusal::TooManyAttempts { .. } => (
            S::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many attempts",
        ),
        Refusal::Locked => (S::TOO_MANY_REQUESTS, "account_locked", "Locked"),
        Refusal::CodeAlreadyUsed { .. } => {
            (S::UNAUTHORIZED, "code_already_used", "Code already used")
        }
        Refusal::TwoFactorAlreadyEnabled => (S::CONFLICT, "two_factor_already_enabled", "Conflict"),
        Refusal::NoPendingEnrollment => (S::CONFLICT, "no_pending_enrollment", "Conflict"),
        Refusal::EnrollmentExpired => (S::CONFLICT, "enrollment_expired", "Conflict"),
        Refusal::TwoFactorNotEnabled | Refusal::RecoveryCodesNeedTwoFactor => {
            (S::CONFLICT, "two_factor_not_enabled", "Conflict")
        }
        Refusal::CannotModifySelf(_) => (S::CONFLICT, "cannot_modify_self", "Conflict"),
        Refusal::EmailTaken => (S::CONFLICT, "email_taken", "Conflict"),
        Refusal::InvalidInput(_) => (S::BAD_REQUEST, "invalid_request", "Invalid request"),
        Refusal::LastAdmin => (S::CONFLICT, "last_admin", "Conflict"),
        Refusal::InvalidPasswordToken => (
            S::BAD_REQUEST,
            "invalid_password_token",
            "Invalid or expired link",
        ),
        Refusal::SecondFactorRequired => (
            S::FORBIDDEN,
            "second_factor_required",
            "Second factor required",
        ),
        Refusal::InvitationAccepted => (S::CONFLICT, "invitation_accepted", "Conflict"),
        Refusal::UnsafeWebhookUrl(_) => (
            S::UNPROCESSABLE_ENTITY,
            "webhook_url_refused",
            "Webhook URL refused",
        ),
        Refusal::RefreshTokenInvalid => (
            S::UNAUTHORIZED,
            "refresh_token_invalid",
            "Invalid refresh token",
        ),
        Refusal::SessionRevoked => (S::UNAUTHORIZED, "session_revoked", "Session ended"),
        Refusal::SecondFactorNowRequired => (
            S::UNAUTHORIZED,
            "second_factor_now_required",
            "Second factor now required",
        ),
        Refusal::MissingScope(_) => (S::FORBIDDEN, "insufficient_scope", "Insufficient scope"),
        Refusal::StepUpRequired => (S::FORBIDDEN, "step_up_required", "Step-up required"),
        Refusal::TooManyAuthenticators { .. } => {
            (S::CONFLICT, "too_many_authenticators", "Conflict")
        }
        // Removing the last one would turn enforced 2FA off.
        Refusal::LastAuthenticatorRequired(_) => (
            S::FORBIDDEN,
            "two_factor_enforced",
            "Two-factor authentication is enforced",
        ),
        Refusal::AddressThrottled { .. } => (
            S::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests",
        ),
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            ApiError::InvalidRequest(_) => (S::BAD_REQUEST, "invalid_request", "Invalid request"),
            ApiError::PayloadTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            ApiError::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            ApiError::Unauthorized => (S::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => (S::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::NotFound(_) | ApiError::RouteNotFound => {
                (S::NOT_FOUND, "not_found", "Not found")
            }
            ApiError::MethodNotAllowed(_) => (
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
            ),
            ApiError::Refused(r) => refusal_problem(r),
            ApiError::Unavailable => (
                S::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "Service unavailable",
            ),
            ApiError::Overloaded => (S::SERVICE_UNAVAILABLE, "overloaded", "Service unavailable"),
            ApiError::Internal => (
                S::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal server error",
            ),
            ApiError::TooManyRequests => (
                S::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests",
            ),
        }
    }

    pub fn code(&self) -> &'static str {
        self.parts().1
    }
}

/// RFC 9457 problem details, as every error body.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[schema(example = "urn:authgate:problem:invalid_credentials")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    #[schema(example = "invalid_credentials")]
    pub code: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, title) = self.parts();
        let body = Problem {
            r#type: format!("urn:authgate:problem:{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: code.to_owned(),
        };
        let mut res = HttpResponse::build(status);
        res.content_type("application/problem+json")
            .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            ApiError::Unauthorized | ApiError::Refused(Refusal::SessionEnded) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // RFC 6750 §3: a refresh failure says why, for clients that
            // read only the header.
            ApiError::Refused(
                Refusal::RefreshTokenInvalid
                | Refusal::SessionRevoked
                | Refusal::SecondFactorNowRequired,
            ) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            ApiError::Refused(Refusal::MissingScope(scope)) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
                ));
            }
            ApiError::Unavailable | ApiError::Overloaded | ApiError::TooManyRequests => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::Refused(
                Refusal::TooManyAttempts { retry_after }
                | Refusal::AddressThrottled { retry_after }
                | Refusal::CodeAlreadyUsed { retry_after },
            ) => {
                res.insert_header((
                    header::RETRY_AFTER,
                    retry_after.as_secs().max(1).to_string(),
                ));
            }
            // Only a person can lift the lock; suggest checking back daily.
            ApiError::Refused(Refusal::Locked) => {
                res.insert_header((header::RETRY_AFTER, "86400"));
            }
            _ => {}
        }
        res.json(body)
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::InvalidInput(message) => ApiError::InvalidRequest(message),
            Refusal::NotFound(missing) => ApiError::NotFound(missing.noun()),
            other => ApiError::Refused(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                ApiError::Unavailable
            }
            StoreError::EmailTaken => Refusal::EmailTaken.into(),
            other => {
                tracing::error!(error = %other, "storage error");
                ApiError::Internal
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused(r) => r.into(),
            ServiceError::Store(s) => s.into(),
            // Logged with its details where it happened.
            ServiceError::Internal(_) => ApiError::Internal,
        }
    }
}

impl From<PoolRefusal> for ApiError {
    fn from(e: PoolRefusal) -> Self {
        match e {
            PoolRefusal::Overloaded => ApiError::Overloaded,
            PoolRefusal::Failed => ApiError::Internal,
            PoolRefusal::Busy => ApiError::TooManyRequests,
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("blocking task failed");
        ApiError::Internal
    }
}

pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::InvalidRequest(format!("invalid body: {e}"))
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::InvalidRequest(format!("malformed JSON: {e}"))
        }
        _ => ApiError::InvalidRequest("the request body could not be read".into()),
    }
    .into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::InvalidRequest(format!("invalid query string: {err}")).into()
}

pub fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound("resource").into()
}

/// Every `code` a problem can carry: the `Problem.code` enum of the
/// OpenAPI document and the README's table (tests compare all three).
pub const CODES: &[&str] = &[
    "invalid_request",
    "invalid_credentials",
    "invalid_password",
    "invalid_code",
    "invalid_challenge",
    "unauthorized",
    "refresh_token_invalid",
    "session_revoked",
    "second_factor_now_required",
    "account_disabled",
    "two_factor_enforced",
    "forbidden",
    "insufficient_scope",
    "not_found",
    "method_not_allowed",
    "two_factor_already_enabled",
    "no_pending_enrollment",
    "enrollment_expired",
    "two_factor_not_enabled",
    "cannot_modify_self",
    "email_taken",
    "payload_too_large",
    "unsupported_media_type",
    "too_many_attempts",
    "account_locked",
    "database_unavailable",
    "overloaded",
    "internal_error",
    "last_admin",
    "invalid_password_token",
    "second_factor_required",
    "invitation_accepted",
    "code_already_used",
    "webhook_url_refused",
    "step_up_required",
    "too_many_requests",
    "too_many_authenticators",
];

#[cfg(test)]
mod tests {
    use std::{collections::BTreeSet, time::Duration};

    use super::*;
    use crate::service::refusal::{Missing, SelfChange};

    /// One of every error, through every variant (a new variant breaks the
    /// exhaustive match below until it is listed here too).
    fn every_error() -> Vec<ApiError> {
        let refusals = [
            Refusal::InvalidCredentials,
            Refusal::InvalidPassword,
            Refusal::InvalidCode,
            Refusal::InvalidChallenge,
            Refusal::SessionEnded,
            Refusal::AccountDisabled,
            Refusal::TwoFactorEnforced(auth_core::policy::EnforcedBy::Admin),
            Refusal::NotFound(Missing::User),
            Refusal::TooManyAttempts {
                retry_after: Duration::from_secs(1),
            },
            Refusal::Locked,
            Refusal::CodeAlreadyUsed {
                retry_after: Duration::from_secs(1),
            },
            Refusal::TwoFactorAlreadyEnabled,
            Refusal::NoPendingEnrollment,
            Refusal::EnrollmentExpired,
            Refusal::TwoFactorNotEnabled,
            Refusal::RecoveryCodesNeedTwoFactor,
            Refusal::CannotModifySelf(SelfChange::Demote),
            Refusal::EmailTaken,
            Refusal::InvalidInput("x".into()),
            Refusal::RefreshTokenInvalid,
            Refusal::SessionRevoked,
            Refusal::SecondFactorNowRequired,
            Refusal::MissingScope("users:read"),
            Refusal::LastAdmin,
            Refusal::InvalidPasswordToken,
            Refusal::SecondFactorRequired,
            Refusal::InvitationAccepted,
            Refusal::UnsafeWebhookUrl("x".into()),
            Refusal::StepUpRequired,
            Refusal::TooManyAuthenticators { max: 5 },
            Refusal::LastAuthenticatorRequired(auth_core::policy::EnforcedBy::Organization),
            Refusal::AddressThrottled {
                retry_after: Duration::from_secs(1),
            },
        ];
        for r in &refusals {
            // Exhaustive: adding a Refusal variant fails to compile here.
            match r {
                Refusal::InvalidCredentials
                | Refusal::InvalidPassword
                | Refusal::InvalidCode
                | Refusal::InvalidChallenge
                | Refusal::SessionEnded
                | Refusal::AccountDisabled
                | Refusal::TwoFactorEnforced(_)
                | Refusal::NotFound(_)
                | Refusal::TooManyAttempts { .. }
                | Refusal::Locked
                | Refusal::CodeAlreadyUsed { .. }
                | Refusal::TwoFactorAlreadyEnabled
                | Refusal::NoPendingEnrollment
                | Refusal::EnrollmentExpired
                | Refusal::TwoFactorNotEnabled
                | Refusal::RecoveryCodesNeedTwoFactor
                | Refusal::CannotModifySelf(_)
                | Refusal::EmailTaken
                | Refusal::InvalidInput(_)
                | Refusal::RefreshTokenInvalid
                | Refusal::SessionRevoked
                | Refusal::SecondFactorNowRequired
                | Refusal::MissingScope(_)
                | Refusal::LastAdmin
                | Refusal::InvalidPasswordToken
                | Refusal::SecondFactorRequired
                | Refusal::InvitationAccepted
                | Refusal::UnsafeWebhookUrl(_)
                | Refusal::StepUpRequired
                | Refusal::TooManyAuthenticators { .. }
                | Refusal::LastAuthenticatorRequired(_)
                | Refusal::AddressThrottled { .. } => {}
            }
        }
        let mut all: Vec<ApiError> = refusals.into_iter().map(ApiError::Refused).collect();
        all.extend([
            ApiError::InvalidRequest("x".into()),
            ApiError::PayloadTooLarge,
            ApiError::UnsupportedMediaType,
            ApiError::Unauthorized,
            ApiError::Forbidden("x"),
            ApiError::NotFound("x"),
            ApiError::RouteNotFound,
            ApiError::MethodNotAllowed("PUT".into()),
            ApiError::Unavailable,
            ApiError::Overloaded,
            ApiError::TooManyRequests,
            ApiError::Internal,
        ]);
        all
    }

    #[test]
    fn the_list_of_codes_is_exactly_the_codes_errors_carry() {
        let produced: BTreeSet<&str> = every_error().iter().map(ApiError::code).collect();
        let listed: BTreeSet<&str> = CODES.iter().copied().collect();
        assert_eq!(listed.len(), CODES.len(), "no code is listed twice");
        assert_eq!(produced, listed);
    }
}
