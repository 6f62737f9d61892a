//! The error responses shared by many operations, for the OpenAPI
//! document (`responses(...)` in the handlers' annotations).
#![allow(dead_code)] // the variants exist for the spec only

use super::Problem;

/// Errors any endpoint with a JSON body may give.
#[derive(utoipa::IntoResponses)]
pub enum JsonBodyErrors {
    /// Malformed JSON, a missing field, a wrong type or an invalid value.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// The body is larger than 64 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// The database is unavailable; retry later.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Errors any endpoint that needs an access token may give.
#[derive(utoipa::IntoResponses)]
pub enum BearerErrors {
    /// Missing, invalid or expired access token, or an ended session.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The database is unavailable; retry later.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Errors of the admin endpoints.
#[derive(utoipa::IntoResponses)]
pub enum AdminErrors {
    /// Missing, invalid or expired access token, or an ended session.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The caller is not an admin.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such user in the caller's organization.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The database is unavailable; retry later.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Errors of a change behind a step-up (the current password and, with 2FA
/// on, a code or recovery code in the body).
#[derive(utoipa::IntoResponses)]
pub enum StepUpErrors {
    /// Wrong password (`invalid_password`) or code (`invalid_code`): nothing
    /// changes, the failure is counted, recorded in the login history and
    /// audit log, and the 5th failure of a session ends it; or no valid
    /// access token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// Too many wrong codes (`too_many_attempts`, see `Retry-After`) or
    /// locked (`account_locked`).
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyAttempts(Problem),
}
