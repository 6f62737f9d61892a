//! `/v1/auth/*`: the login flow.

use actix_web::{web, HttpResponse};
use auth_core::{identity::ClientKind, opaque_token::TokenHash};

use super::{blocking, hashing, json, params};
use crate::{
    dto::{
        AuthenticatedResponse, ChallengeRequest, EnrollmentConfirmRequest, EnrollmentResponse,
        LoginRequest, LoginResponse, OtpRequest, RefreshRequest, TokenResponse,
    },
    extract::{Authenticated, Body, Origin},
    hash_pool::HashPool,
    problem::{
        responses::{BearerErrors, JsonBodyErrors},
        ApiError, Problem,
    },
    service::{login::LoginInput, Services},
};

fn authenticated(tokens: impl Into<TokenResponse>) -> HttpResponse {
    json(&AuthenticatedResponse::Authenticated(tokens.into()))
}

/// Log in with email and password.
///
/// Answers `authenticated` (tokens), `otp_required` or
/// `enrollment_required` (a challenge token for the next step, no tokens).
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong email or password (one answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins from the caller's address (`too_many_requests`, see `Retry-After`; never for an account that logged in from that address before), or too many logins from it at once", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn login(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    origin: Origin,
    body: Body<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = LoginInput {
        email: params::email(&body.email)?,
        password: params::password_attempt(body.password, None)?,
        client: body.client.map_or(ClientKind::Api, Into::into),
        device: body.device_token.as_deref().map(TokenHash::of),
    };
    // Per-address refusals come before the hashing pool, and each address
    // gets only its share of the pool.
    let group = origin.group();
    let (email, from) = (input.email.clone(), origin.0.clone());
    let admitted = blocking(&services, move |s| s.admit_login(&email, &from)).await?;
    let step = hashing(&pool, &services, group.as_deref(), move |s| {
        s.login(input, admitted, &origin.0)
    })
    .await?;
    Ok(json(&LoginResponse::from(step)))
}

/// Complete a login with a TOTP code, or with a recovery code.
#[utoipa::path(post, path = "/v1/auth/otp", tag = "auth", request_body = OtpRequest,
    responses(
        (status = 200, body = AuthenticatedResponse),
        (status = 401, description = "Wrong or expired code (`invalid_code`), a right code already used (`code_already_used`, see `Retry-After`), or an unusable challenge (`invalid_challenge`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes: wait (`too_many_attempts`, see `Retry-After`) or, once locked (`account_locked`), ask an admin", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn otp(
    services: web::Data<Services>,
    origin: Origin,
    body: Body<OtpRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let proof = params::second_factor(body.code.as_deref(), body.recovery_code.as_deref())?;
    let remember = body.remember_device.unwrap_or(false);
    let tokens = blocking(&services, move |s| {
        s.verify_second_factor(&body.challenge_token, &proof, remember, &origin.0)
    })
    .await?;
    Ok(authenticated(tokens))
}

/// Forced enrollment at login: get the QR code.
///
/// Only an `enrollment_required` challenge token is accepted.
#[utoipa::path(post, path = "/v1/auth/enrollment", tag = "auth", request_body = ChallengeRequest,
    responses(
        (status = 200, body = EnrollmentResponse),
        (status = 401, description = "Unusable challenge", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "2FA is already enabled", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn enrollment(
    services: web::Data<Services>,
    origin: Origin,
    body: Body<ChallengeRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.into_inner().challenge_token;
    let ticket = blocking(&services, move |s| {
        s.start_enrollment_at_login(&token, &origin.0)
    })
    .await?;
    Ok(json(&EnrollmentResponse::from(ticket)))
}

/// Forced enrollment at login: confirm with the first code and get tokens.
#[utoipa::path(post, path = "/v1/auth/enrollment/confirm", tag = "auth", request_body = EnrollmentConfirmRequest,
    responses(
        (status = 200, body = AuthenticatedResponse),
        (status = 401, description = "Wrong code or unusable challenge", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment in progress, or it expired", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn enrollment_confirm(
    services: web::Data<Services>,
    origin: Origin,
    body: Body<EnrollmentConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let code = params::code(&body.code)?;
    let tokens = blocking(&services, move |s| {
        s.confirm_enrollment_at_login(&body.challenge_token, &code, &origin.0)
    })
    .await?;
    Ok(authenticated(tokens))
}

/// Exchange a refresh token for a new token pair (the old one stops working).
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = AuthenticatedResponse),
        (status = 401, description = "Unknown, used, revoked or expired refresh token", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn refresh(
    services: web::Data<Services>,
    body: Body<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.into_inner().refresh_token;
    let tokens = blocking(&services, move |s| s.refresh(&token)).await?;
    Ok(authenticated(tokens))
}

/// End the current session: its refresh token and access tokens stop working.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Logged out"), BearerErrors))]
pub async fn logout(
    services: web::Data<Services>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let session_id = auth.principal.session.id;
    blocking(&services, move |s| s.logout(&session_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
