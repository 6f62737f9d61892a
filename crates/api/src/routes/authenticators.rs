//! `/v1/me/two-factor/authenticators`: several named authenticators per
//! user. The enrollment endpoints stay as "set up the first one".

use actix_web::{web, HttpResponse};
use auth_core::{authenticators::AuthenticatorName, ids::FactorId};

use super::{blocking, hashing, json, me::caller, params};
use crate::{
    dto::{
        AddAuthenticatorRequest, AuthenticatorList, AuthenticatorView, CodeRequest,
        ConfirmedAuthenticatorResponse, PendingAuthenticatorResponse, RenameAuthenticatorRequest,
        StepUpRequest,
    },
    extract::{Authenticated, Body, Origin},
    hash_pool::HashPool,
    problem::{
        responses::{BearerErrors, JsonBodyErrors, StepUpErrors},
        ApiError, Problem,
    },
    service::{Refusal, Services},
};

fn authenticator_id(s: &str) -> Result<FactorId, ApiError> {
    FactorId::parse(s).ok_or(ApiError::NotFound("authenticator"))
}

fn name(s: &str) -> Result<AuthenticatorName, ApiError> {
    s.parse()
        .map_err(|e: auth_core::authenticators::NameError| {
            ApiError::InvalidRequest(format!("name: {e}"))
        })
}

/// The user's confirmed authenticators, oldest first.
#[utoipa::path(get, path = "/v1/me/two-factor/authenticators", operation_id = "list_authenticators", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = AuthenticatorList), BearerErrors))]
pub async fn list(
    services: web::Data<Services>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let list = blocking(&services, move |s| s.authenticators(&auth.principal.user)).await?;
    Ok(json(&AuthenticatorList(
        list.into_iter().map(AuthenticatorView::from).collect(),
    )))
}

/// Add an authenticator (a new phone, a backup): needs the current password
/// and, while 2FA is on, a current code from an existing authenticator or a
/// recovery code. Answers with its QR code; it counts once confirmed with
/// its first code. Adding again before confirming replaces the pending one.
/// With no authenticator yet, this is the same as starting enrollment.
#[utoipa::path(post, path = "/v1/me/two-factor/authenticators", operation_id = "add_authenticator", tag = "me", security(("bearer" = [])),
    request_body = AddAuthenticatorRequest,
    responses(
        (status = 201, body = PendingAuthenticatorResponse),
        (status = 403, description = "2FA is on and neither `code` nor `recovery_code` was given (`step_up_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user already has the most authenticators allowed, 5 (`too_many_authenticators`)", body = Problem, content_type = "application/problem+json"),
        StepUpErrors,
        JsonBodyErrors,
    ))]
pub async fn add(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    body: Body<AddAuthenticatorRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let name = name(&b.name)?;
    let proof = params::step_up(
        b.password,
        None,
        b.code.as_deref(),
        b.recovery_code.as_deref(),
    )?;
    let added = hashing(&pool, &services, origin.group().as_deref(), move |s| {
        s.add_authenticator(&caller(&auth, &origin), &proof, &name)
    })
    .await?;
    Ok(HttpResponse::Created().json(PendingAuthenticatorResponse::from(added)))
}

/// Confirm a new authenticator with its first code. The first one turns
/// 2FA on (the answer then carries the recovery codes, shown once, and the
/// user's other sessions end); a further one is added and the user is told
/// by email.
#[utoipa::path(post, path = "/v1/me/two-factor/authenticators/{id}/confirm", operation_id = "confirm_authenticator", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Authenticator id, from adding it")),
    request_body = CodeRequest,
    responses(
        (status = 200, body = ConfirmedAuthenticatorResponse),
        (status = 401, description = "Wrong code (it stays pending), or no valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pending authenticator (replaced by a newer one, or already confirmed)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It expired (`enrollment_expired`: add it again), or the user reached the most authenticators allowed (`too_many_authenticators`)", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn confirm(
    services: web::Data<Services>,
    auth: Authenticated,
    origin: Origin,
    id: web::Path<String>,
    body: Body<CodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = authenticator_id(&id)?;
    let code = params::code(&body.code)?;
    let confirmed = blocking(&services, move |s| {
        let p = &auth.principal;
        s.confirm_authenticator(&p.user, &p.session.id, &id, &code, &origin.0)
    })
    .await?;
    Ok(json(&ConfirmedAuthenticatorResponse::from(confirmed)))
}

/// Rename an authenticator.
#[utoipa::path(patch, path = "/v1/me/two-factor/authenticators/{id}", operation_id = "rename_authenticator", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Authenticator id")),
    request_body = RenameAuthenticatorRequest,
    responses(
        (status = 200, body = AuthenticatorView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such authenticator of this user", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn rename(
    services: web::Data<Services>,
    auth: Authenticated,
    origin: Origin,
    id: web::Path<String>,
    body: Body<RenameAuthenticatorRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = authenticator_id(&id)?;
    let name = name(&body.name)?;
    let renamed = blocking(&services, move |s| {
        s.rename_authenticator(&auth.principal.user, &id, &name, &origin.0)
    })
    .await?;
    Ok(json(&AuthenticatorView::from(renamed)))
}

/// Remove an authenticator; needs the password and a current code (from
/// any authenticator) or a recovery code in the body. The last one cannot
/// be removed while 2FA is required of the user; without a requirement,
/// removing the last one turns 2FA off (as `POST /v1/me/two-factor/disable`
/// does: recovery codes and remembered devices go, other sessions end).
#[utoipa::path(delete, path = "/v1/me/two-factor/authenticators/{id}", operation_id = "remove_authenticator", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Authenticator id")),
    request_body = StepUpRequest,
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The last authenticator while 2FA is required (`two_factor_enforced`), or no password and code given (`step_up_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such authenticator of this user", body = Problem, content_type = "application/problem+json"),
        StepUpErrors,
    ))]
pub async fn remove(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    auth: Authenticated,
    origin: Origin,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = authenticator_id(&id)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::Refused(Refusal::StepUpRequired));
    }
    let b: StepUpRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::InvalidRequest(format!("invalid body: {e}")))?;
    let proof = params::step_up(
        b.password,
        None,
        b.code.as_deref(),
        b.recovery_code.as_deref(),
    )?;
    hashing(&pool, &services, origin.group().as_deref(), move |s| {
        s.remove_authenticator(&caller(&auth, &origin), &id, &proof)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
