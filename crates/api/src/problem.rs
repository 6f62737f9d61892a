//! Every error the API returns, and the one place where each becomes an
//! HTTP status and an RFC 9457 `application/problem+json` body with a
//! stable `code`.

use actix_web::{
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::{header, StatusCode},
    HttpRequest, HttpResponse, ResponseError,
};
use auth_core::policy::EnforcedBy;
use persistence::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

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
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("the password is incorrect")]
    InvalidPassword,
    #[error("the code is not valid")]
    InvalidCode,
    #[error("the login challenge is invalid, used or expired; log in again")]
    InvalidChallenge,
    #[error("a valid access token is required")]
    Unauthorized,
    #[error("this account is disabled; contact your administrator")]
    AccountDisabled,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("two-factor authentication is required by your {}; contact your administrator to turn it off", match .0 { EnforcedBy::Admin => "administrator", EnforcedBy::Organization => "organization's policy" })]
    TwoFactorEnforced(EnforcedBy),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("no such endpoint")]
    RouteNotFound,
    #[error("this endpoint does not support the {0} method")]
    MethodNotAllowed(String),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("too many wrong codes; try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("two-factor sign-in is locked after too many wrong codes; contact your administrator to unlock it")]
    Locked,
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    #[error("too many logins at once; try again in a moment")]
    Overloaded,
    #[error("an internal error occurred")]
    Internal,
}

impl ApiError {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::InvalidPassword => "invalid_password",
            ApiError::InvalidCode => "invalid_code",
            ApiError::InvalidChallenge => "invalid_challenge",
            ApiError::Unauthorized => "unauthorized",
            ApiError::AccountDisabled => "account_disabled",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::TwoFactorEnforced(_) => "two_factor_enforced",
            ApiError::NotFound(_) | ApiError::RouteNotFound => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict { code, .. } => code,
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::Locked => "account_locked",
            ApiError::Unavailable => "database_unavailable",
            ApiError::Overloaded => "overloaded",
            ApiError::Internal => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) => "Invalid request",
            ApiError::PayloadTooLarge => "Payload too large",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::InvalidCredentials => "Invalid credentials",
            ApiError::InvalidPassword => "Invalid password",
            ApiError::InvalidCode => "Invalid code",
            ApiError::InvalidChallenge => "Invalid challenge",
            ApiError::Unauthorized => "Unauthorized",
            ApiError::AccountDisabled => "Account disabled",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::TwoFactorEnforced(_) => "Two-factor authentication is enforced",
            ApiError::NotFound(_) | ApiError::RouteNotFound => "Not found",
            ApiError::MethodNotAllowed(_) => "Method not allowed",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::TooManyAttempts { .. } => "Too many attempts",
            ApiError::Locked => "Locked",
            ApiError::Unavailable | ApiError::Overloaded => "Service unavailable",
            ApiError::Internal => "Internal server error",
        }
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
        match self {
            ApiError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InvalidCredentials
            | ApiError::InvalidPassword
            | ApiError::InvalidCode
            | ApiError::InvalidChallenge
            | ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::AccountDisabled | ApiError::Forbidden(_) | ApiError::TwoFactorEnforced(_) => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound(_) | ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooManyAttempts { .. } | ApiError::Locked => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let body = Problem {
            r#type: format!("urn:authgate:problem:{}", self.code()),
            title: self.title().to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code().to_owned(),
        };
        let mut res = HttpResponse::build(status);
        res.content_type("application/problem+json")
            .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            ApiError::Unauthorized => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::Unavailable | ApiError::Overloaded => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::TooManyAttempts { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
            }
            // Only a person can lift the lock; suggest checking back daily.
            ApiError::Locked => {
                res.insert_header((header::RETRY_AFTER, "86400"));
            }
            _ => {}
        }
        res.json(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                ApiError::Unavailable
            }
            StoreError::EmailTaken => {
                ApiError::conflict("email_taken", "a user with this email already exists")
            }
            other => {
                tracing::error!(error = %other, "storage error");
                ApiError::Internal
            }
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
