//! `/v1/users`, `/v1/organization`, `/v1/audit-events`: admins only, and
//! only within their own organization. The reads also take a partner API
//! key of the organization with the matching scope (`users:read`,
//! `audit:read`).

use actix_web::{web, HttpResponse};
use auth_core::ids::UserId;

use super::{blocking, hashing, json, params};
use crate::{
    dto::{
        AuditPage, AuditQuery, CreateUserRequest, CreateUserResponse, LoginHistoryPage,
        OffsetQuery, OrganizationView, PageQuery, UpdateOrganizationRequest, UpdateUserRequest,
        UserListPage, UserView,
    },
    extract::{Admin, Body, Origin},
    hash_pool::HashPool,
    partner_auth::{AdminOrKey, AuditRead, UsersRead},
    problem::{
        responses::{AdminErrors, JsonBodyErrors},
        ApiError, Problem,
    },
    service::{
        operator::{Operator, Target},
        organization::PolicyUpdate,
        users::{NewUserInput, UserUpdate},
        Services,
    },
};

/// The organization's users, oldest first.
#[utoipa::path(get, path = "/v1/users", tag = "admin", security(("bearer" = []), ("api_key" = [])), params(OffsetQuery),
    responses(
        (status = 200, body = UserListPage),
        (status = 400, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn list_users(
    services: web::Data<Services>,
    AdminOrKey(admin, ..): AdminOrKey<UsersRead>,
    query: web::Query<OffsetQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = params::page_limit(query.limit)?;
    let offset = match query.offset.unwrap_or(0) {
        n @ 0..=1_000_000 => i64::from(n),
        _ => {
            return Err(ApiError::InvalidRequest(
                "offset must be 0 to 1000000".into(),
            ))
        }
    };
    let list = blocking(&services, move |s| s.list_users(&admin, offset, limit)).await?;
    Ok(json(&UserListPage::from(list)))
}

/// Create a user; with `require_two_factor` they must set up 2FA at their
/// first login, before any token is issued.
#[utoipa::path(post, path = "/v1/users", tag = "admin", security(("bearer" = [])), request_body = CreateUserRequest,
    responses(
        (status = 201, body = CreateUserResponse),
        (status = 409, description = "The email is taken (`email_taken`)", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
        JsonBodyErrors,
    ))]
pub async fn create_user(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    mailer: web::Data<crate::notify::Mailer>,
    Admin(auth): Admin,
    origin: Origin,
    body: Body<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = NewUserInput {
        email: params::email(&body.email)?,
        name: params::name(&body.name)?,
        role: params::role(body.role),
        password: body
            .password
            .map(|p| params::new_password(p, Some("password")))
            .transpose()?,
        require_two_factor: body.require_two_factor,
    };
    let mut created = hashing(&pool, &services, None, move |s| {
        s.create_user(&auth.principal.user, input, &origin.0)
    })
    .await?;
    let invitation = created.invitation.take();
    let mut response = CreateUserResponse::from(created);
    if let Some(letter) = invitation {
        response.invitation_sent = true;
        super::accounts::post_letter(&mailer, &services, letter);
    }
    Ok(HttpResponse::Created().json(response))
}

/// One user of the organization.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "admin", security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), AdminErrors))]
pub async fn get_user(
    services: web::Data<Services>,
    AdminOrKey(admin, ..): AdminOrKey<UsersRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = params::user_id(&id)?;
    let user = blocking(&services, move |s| s.get_user(&admin, &id)).await?;
    Ok(json(&UserView::from(user)))
}

/// Change a user: name, role, `require_two_factor` (force or lift) and
/// `disabled`. Forcing 2FA or disabling ends the user's sessions at once.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserView),
        (status = 409, description = "An admin cannot demote or disable themselves", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
        JsonBodyErrors,
    ))]
pub async fn update_user(
    services: web::Data<Services>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
    body: Body<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let update = UserUpdate {
        name: body.name.as_deref().map(params::name).transpose()?,
        role: body.role.map(params::role),
        require_two_factor: body.require_two_factor,
        disabled: body.disabled,
    };
    let id = params::user_id(&id)?;
    let user = blocking(&services, move |s| {
        s.update_user(&auth.principal.user, &id, update, &origin.0)
    })
    .await?;
    Ok(json(&UserView::from(user)))
}

/// Remove all of a user's authenticators (lost phones) and end their
/// sessions. If 2FA is still required they scan a new QR code at their next
/// login.
#[utoipa::path(post, path = "/v1/users/{id}/two-factor/reset", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = UserView),
        (status = 409, description = "Admins reset their own 2FA through support or their profile", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn reset_two_factor(
    services: web::Data<Services>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let target = Target::Id(params::user_id(&id)?);
    let report = blocking(&services, move |s| {
        s.reset_two_factor(Operator::Admin(&auth.principal.user), &target, &origin.0)
    })
    .await?;
    Ok(json(&UserView::from(report.user)))
}

/// A user's login attempts, newest first.
#[utoipa::path(get, path = "/v1/users/{id}/login-history", tag = "admin", security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path, description = "User id"), PageQuery),
    responses(
        (status = 200, body = LoginHistoryPage),
        (status = 400, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn user_login_history(
    services: web::Data<Services>,
    AdminOrKey(admin, ..): AdminOrKey<UsersRead>,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = params::page_limit(query.limit)?;
    let before = query.before;
    let id = params::user_id(&id)?;
    let page = blocking(&services, move |s| {
        s.user_login_history(&admin, &id, before, limit)
    })
    .await?;
    Ok(json(&LoginHistoryPage::from(page)))
}

/// The organization and its 2FA policy.
#[utoipa::path(get, path = "/v1/organization", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = OrganizationView), AdminErrors))]
pub async fn get_organization(
    services: web::Data<Services>,
    Admin(auth): Admin,
) -> Result<HttpResponse, ApiError> {
    let org = blocking(&services, move |s| s.organization(&auth.principal.user)).await?;
    Ok(json(&OrganizationView::from(org)))
}

/// Change the organization's 2FA policy or grace period.
#[utoipa::path(patch, path = "/v1/organization", tag = "admin", security(("bearer" = [])),
    request_body = UpdateOrganizationRequest,
    responses((status = 200, body = OrganizationView), AdminErrors, JsonBodyErrors))]
pub async fn update_organization(
    services: web::Data<Services>,
    Admin(auth): Admin,
    origin: Origin,
    body: Body<UpdateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let update = PolicyUpdate {
        two_factor: body.two_factor_policy.map(params::policy),
        grace_period_hours: body.grace_period_hours,
        remember_device_days: body.remember_device_days,
    };
    let org = blocking(&services, move |s| {
        s.update_organization(
            &auth.principal.user,
            &auth.principal.session.id,
            update,
            &origin.0,
        )
    })
    .await?;
    Ok(json(&OrganizationView::from(org)))
}

/// The organization's audit log, newest first.
#[utoipa::path(get, path = "/v1/audit-events", tag = "admin", security(("bearer" = []), ("api_key" = [])), params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn audit_events(
    services: web::Data<Services>,
    AdminOrKey(admin, ..): AdminOrKey<AuditRead>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = params::page_limit(query.limit)?;
    let user_id = match query.user_id.as_deref().map(UserId::parse) {
        None => None,
        Some(Some(id)) => Some(id),
        // No user has such an id: nothing is about them.
        Some(None) => {
            return Ok(json(&AuditPage {
                items: vec![],
                next_before: None,
            }))
        }
    };
    let page = blocking(&services, move |s| {
        s.audit_events(&admin, user_id.as_ref(), query.before, limit)
    })
    .await?;
    Ok(json(&AuditPage::from(page)))
}

/// Lift a user's two-factor lock (too many wrong codes) and waits.
#[utoipa::path(post, path = "/v1/users/{id}/unlock", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), AdminErrors))]
pub async fn unlock_user(
    services: web::Data<Services>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let target = Target::Id(params::user_id(&id)?);
    let report = blocking(&services, move |s| {
        s.unlock(Operator::Admin(&auth.principal.user), &target, &origin.0)
    })
    .await?;
    Ok(json(&UserView::from(report.user)))
}
