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
        Refusal::TwoFactorAlreadyEnabled => (S::CONFLICT, "two_factor_already_enabled", "Conflict"),
        Refusal::NoPendingEnrollment => (S::CONFLICT, "no_pending_enrollment", "Conflict"),
        Refusal::EnrollmentExpired => (S::CONFLICT, "enrollment_expired", "Conflict"),
        Refusal::TwoFactorNotEnabled | Refusal::RecoveryCodesNeedTwoFactor => {
            (S::CONFLICT, "two_factor_not_enabled", "Conflict")
        }
        Refusal::CannotModifySelf(_) => (S::CONFLICT, "cannot_modify_self", "Conflict"),
        Refusal::EmailTaken => (S::CONFLICT, "email_taken", "Conflict"),
        Refusal::InvalidInput(_) => (S::BAD_REQUEST, "invalid_request", "Invalid request"),
        Refusal::StepUpRequired => (S::FORBIDDEN, "step_up_required", "Step-up required"),
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
            ApiError::Unavailable | ApiError::Overloaded | ApiError::TooManyRequests => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::Refused(
                Refusal::TooManyAttempts { retry_after }
                | Refusal::AddressThrottled { retry_after },
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
