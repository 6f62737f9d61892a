//! `/v1/me/*`: the signed-in user's own account.

use actix_web::{web, HttpResponse};

use super::{blocking, hashing, json, params, present};
use crate::{
    dto::{
        ChangePasswordRequest, CodeRequest, DeviceList, EnrollmentResponse, LoginHistoryPage,
        MeResponse, PageQuery, PasswordRequest, RecoveryCodesResponse, SessionList, StepUpRequest,
        TwoFactorView,
    },
    extract::{Authenticated, Body, Origin},
    hash_pool::HashPool,
    problem::{
        responses::{BearerErrors, JsonBodyErrors, StepUpErrors},
        ApiError, Problem,
    },
    service::{step_up::Caller, Services},
};

/// The signed-in user, their organization and 2FA state.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), BearerErrors))]
pub async fn me(services: web::Data<Services>, auth: Authenticated) -> HttpResponse {
    json(&MeResponse::from(services.profile(&auth.principal)))
}

/// Start setting up 2FA: a new secret and its QR code. Starting again
/// replaces a pending secret. Needs the current password (a stolen access
/// token alone cannot enroll an authenticator).
#[utoipa::path(post, path = "/v1/me/two-factor/enrollment", tag = "me", security(("bearer" = [])),
    request_body = PasswordRequest,
    responses(
        (status = 200, body = EnrollmentResponse),
        (status = 401, description = "Wrong password (`invalid_password`; counted, recorded, the 5th failure of a session ends it), or no valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "2FA is already enabled", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn start_enrollment(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    body: Body<PasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let proof = params::step_up(body.into_inner().password, None, None, None)?;
    let ticket = hashing(&pool, &services, origin.group().as_deref(), move |s| {
        s.start_enrollment(&caller(&auth, &origin), &proof)
    })
    .await?;
    Ok(json(&EnrollmentResponse::from(ticket)))
}

/// The signed-in session making a change, for the step-up.
pub(super) fn caller<'a>(auth: &'a Authenticated, origin: &'a Origin) -> Caller<'a> {
    Caller {
        user: &auth.principal.user,
        session: &auth.principal.session.id,
        origin: &origin.0,
    }
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

/// Turn 2FA off; needs the password and a current code or recovery code.
/// Refused while an admin or the organization's policy requires 2FA.
#[utoipa::path(post, path = "/v1/me/two-factor/disable", tag = "me", security(("bearer" = [])),
    request_body = StepUpRequest,
    responses(
        (status = 200, body = TwoFactorView),
        StepUpErrors,
        (status = 403, description = "2FA is enforced (`two_factor_enforced`), or no second factor was given (`step_up_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "2FA is not enabled", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn disable_two_factor(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    body: Body<StepUpRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let proof = params::step_up(
        b.password,
        None,
        b.code.as_deref(),
        b.recovery_code.as_deref(),
    )?;
    let summary = hashing(&pool, &services, origin.group().as_deref(), move |s| {
        s.disable_two_factor(&caller(&auth, &origin), &proof)
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

/// Replace the recovery codes (needs the password and a current code or
/// recovery code); the old set stops working.
#[utoipa::path(post, path = "/v1/me/two-factor/recovery-codes", tag = "me", security(("bearer" = [])),
    request_body = StepUpRequest,
    responses(
        (status = 200, body = RecoveryCodesResponse),
        (status = 403, description = "2FA is on and neither `code` nor `recovery_code` was given (`step_up_required`)", body = Problem, content_type = "application/problem+json"),
        StepUpErrors,
        (status = 409, description = "2FA is not enabled", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn regenerate_recovery_codes(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    body: Body<StepUpRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let proof = params::step_up(
        b.password,
        None,
        b.code.as_deref(),
        b.recovery_code.as_deref(),
    )?;
    let codes = hashing(&pool, &services, origin.group().as_deref(), move |s| {
        s.regenerate_recovery_codes(&caller(&auth, &origin), &proof)
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

/// End one of the user's sessions: its tokens stop working at once. Ending
/// another session than the current one needs the password in the body
/// (`{"password": …}`); ending the current one is a logout and needs none.
#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    request_body(content = PasswordRequest, description = "Required unless `id` is the current session"),
    responses(
        (status = 204, description = "Ended"),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong password (`invalid_password`; counted, recorded, the 5th failure of a session ends it), or no valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another session, and no password given (`step_up_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live session of this user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn end_session(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = params::session_id(&id)?;
    let proof = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let b: PasswordRequest = serde_json::from_slice(&body)
            .map_err(|e| ApiError::InvalidRequest(format!("invalid body: {e}")))?;
        Some(params::step_up(b.password, None, None, None)?)
    };
    if id == auth.principal.session.id {
        blocking(&services, move |s| {
            s.end_session(&caller(&auth, &origin), &id, proof.as_ref())
        })
        .await?;
    } else {
        hashing(&pool, &services, origin.group().as_deref(), move |s| {
            s.end_session(&caller(&auth, &origin), &id, proof.as_ref())
        })
        .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password; every other session ends. Needs the current
/// password and, when 2FA is on, a current code or recovery code.
#[utoipa::path(post, path = "/v1/me/password", tag = "me", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "2FA is on and neither `code` nor `recovery_code` was given (`step_up_required`)", body = Problem, content_type = "application/problem+json"),
        StepUpErrors,
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
    let proof = params::step_up(
        body.current_password,
        Some("current_password"),
        body.code.as_deref(),
        body.recovery_code.as_deref(),
    )?;
    let new = params::new_password(body.new_password, Some("new_password"))?;
    hashing(&pool, &services, origin.group().as_deref(), move |s| {
        s.change_password(&caller(&auth, &origin), &proof, &new)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The user's remembered devices (live ones), newest first.
#[utoipa::path(get, path = "/v1/me/devices", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = DeviceList), BearerErrors))]
pub async fn devices(
    services: web::Data<Services>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let list = blocking(&services, move |s| s.devices(&auth.principal.user)).await?;
    Ok(json(&DeviceList::from(list)))
}

/// Forget a remembered device: its `device_token` no longer skips the code.
#[utoipa::path(delete, path = "/v1/me/devices/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 404, description = "No such live device of this user", body = Problem, content_type = "application/problem+json"),
        BearerErrors,
    ))]
pub async fn forget_device(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    blocking(&services, move |s| {
        s.forget_device(&auth.principal.user, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
