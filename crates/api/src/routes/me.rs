//! `/v1/me/*`: the signed-in user's own account.

use actix_web::{web, HttpResponse};

use super::{blocking, hashing, json, params, present};
use crate::{
    dto::{
        ChangePasswordRequest, CodeRequest, EnrollmentResponse, LoginHistoryPage, MeResponse,
        PageQuery, PasswordRequest, RecoveryCodesResponse, SessionList, TwoFactorView,
    },
    extract::{Authenticated, Body, Origin},
    hash_pool::HashPool,
    problem::{
        responses::{BearerErrors, JsonBodyErrors},
        ApiError, Problem,
    },
    service::Services,
};

/// The signed-in user, their organization and 2FA state.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), BearerErrors))]
pub async fn me(services: web::Data<Services>, auth: Authenticated) -> HttpResponse {
    json(&MeResponse::from(services.profile(&auth.principal)))
}

/// Start setting up 2FA: a new secret and its QR code. Starting again
/// replaces a pending secret.
#[utoipa::path(post, path = "/v1/me/two-factor/enrollment", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, body = EnrollmentResponse),
        (status = 409, description = "2FA is already enabled", body = Problem, content_type = "application/problem+json"),
        BearerErrors,
    ))]
pub async fn start_enrollment(
    services: web::Data<Services>,
    auth: Authenticated,
    origin: Origin,
) -> Result<HttpResponse, ApiError> {
    let ticket = blocking(&services, move |s| {
        s.start_enrollment(&auth.principal.user, &origin.0)
    })
    .await?;
    Ok(json(&EnrollmentResponse::from(ticket)))
}

/// Turn 2FA on with a code from the authenticator app.
#[utoipa::path(post, path = "/v1/me/two-factor/enrollment/confirm", tag = "me", security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, body = TwoFactorView),
        (status = 401, description = "Wrong code (the enrollment stays pending), or no valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment in progress, it expired, or 2FA is already enabled", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn confirm_enrollment(
    services: web::Data<Services>,
    auth: Authenticated,
    origin: Origin,
    body: Body<CodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = params::code(&body.code)?;
    let summary = blocking(&services, move |s| {
        let p = &auth.principal;
        s.confirm_enrollment(&p.user, &p.session.id, &code, &origin.0)
    })
    .await?;
    Ok(json(&TwoFactorView::from(summary)))
}

/// Turn 2FA off; the password is always required. Refused while an admin
/// or the organization's policy requires 2FA.
#[utoipa::path(post, path = "/v1/me/two-factor/disable", tag = "me", security(("bearer" = [])),
    request_body = PasswordRequest,
    responses(
        (status = 200, body = TwoFactorView),
        (status = 401, description = "Wrong password (nothing changes), or no valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "2FA is enforced (`two_factor_enforced`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "2FA is not enabled", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn disable_two_factor(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    body: Body<PasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = params::password_attempt(body.into_inner().password, None)?;
    let summary = hashing(&pool, &services, move |s| {
        let p = &auth.principal;
        s.disable_two_factor(&p.user, &p.session.id, &password, &origin.0)
    })
    .await?;
    Ok(json(&TwoFactorView::from(summary)))
}

/// The user's login attempts, newest first.
#[utoipa::path(get, path = "/v1/me/login-history", tag = "me", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, body = LoginHistoryPage),
        (status = 400, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
        BearerErrors,
    ))]
pub async fn login_history(
    services: web::Data<Services>,
    auth: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = params::page_limit(query.limit)?;
    let before = query.before;
    let page = blocking(&services, move |s| {
        s.login_history(&auth.principal.user.id, before, limit)
    })
    .await?;
    Ok(json(&LoginHistoryPage::from(page)))
}

/// Replace the recovery codes (the password is required); the old set stops
/// working.
#[utoipa::path(post, path = "/v1/me/two-factor/recovery-codes", tag = "me", security(("bearer" = [])),
    request_body = PasswordRequest,
    responses(
        (status = 200, body = RecoveryCodesResponse),
        (status = 401, description = "Wrong password, or no valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "2FA is not enabled", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn regenerate_recovery_codes(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    body: Body<PasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = params::password_attempt(body.into_inner().password, None)?;
    let codes = hashing(&pool, &services, move |s| {
        s.regenerate_recovery_codes(&auth.principal.user, &password, &origin.0)
    })
    .await?;
    Ok(json(&RecoveryCodesResponse {
        recovery_codes: present::codes(&codes),
    }))
}

/// The user's live sessions (devices), most recently used first.
#[utoipa::path(get, path = "/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = SessionList), BearerErrors))]
pub async fn sessions(
    services: web::Data<Services>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let list = blocking(&services, move |s| {
        s.sessions(&auth.principal.user, &auth.principal.session.id)
    })
    .await?;
    Ok(json(&SessionList::from(list)))
}

/// End one of the user's sessions: its tokens stop working at once.
#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such live session of this user", body = Problem, content_type = "application/problem+json"),
        BearerErrors,
    ))]
pub async fn end_session(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = params::session_id(&id)?;
    blocking(&services, move |s| s.end_session(&auth.principal.user, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password; every other session ends.
#[utoipa::path(post, path = "/v1/me/password", tag = "me", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Wrong current password, or no valid access token", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn change_password(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    body: Body<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let current = params::password_attempt(body.current_password, Some("current_password"))?;
    let new = params::new_password(body.new_password, Some("new_password"))?;
    hashing(&pool, &services, move |s| {
        let p = &auth.principal;
        s.change_password(&p.user, &p.session.id, &current, &new, &origin.0)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
