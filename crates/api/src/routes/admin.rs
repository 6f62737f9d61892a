//! `/v1/users`, `/v1/organization`, `/v1/audit-events`: admins only, and
//! only within their own organization.

use actix_web::{web, HttpResponse};
use auth_core::{
    identity::{DisplayName, Email, Role},
    password::Password,
};

use super::{blocking, hashing, json};
use crate::{
    dto::{
        AuditPage, AuditQuery, CreateUserRequest, CreateUserResponse, LoginHistoryPage,
        OffsetQuery, OrganizationView, PageQuery, RoleDto, UpdateOrganizationRequest,
        UpdateUserRequest, UserListPage, UserView,
    },
    extract::{Admin, Body, Origin},
    hash_pool::HashPool,
    openapi::{AdminErrors, JsonBodyErrors},
    problem::{ApiError, Problem},
    service::{
        account::page_limit,
        admin::{policy_from_dto, NewUserInput, UserUpdate},
        now, Services,
    },
};

fn role(r: RoleDto) -> Role {
    match r {
        RoleDto::Admin => Role::Admin,
        RoleDto::Agent => Role::Agent,
    }
}

fn name(s: &str) -> Result<DisplayName, ApiError> {
    s.parse().map_err(|e: auth_core::identity::IdentityError| {
        ApiError::InvalidRequest(format!("name: {e}"))
    })
}

/// The organization's users, oldest first.
#[utoipa::path(get, path = "/v1/users", tag = "admin", security(("bearer" = [])), params(OffsetQuery),
    responses(
        (status = 200, body = UserListPage),
        (status = 400, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn list_users(
    services: web::Data<Services>,
    Admin(auth): Admin,
    query: web::Query<OffsetQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(query.limit)?;
    let offset = match query.offset.unwrap_or(0) {
        n @ 0..=1_000_000 => i64::from(n),
        _ => {
            return Err(ApiError::InvalidRequest(
                "offset must be 0 to 1000000".into(),
            ))
        }
    };
    let page = blocking(&services, move |s| {
        s.list_users(&auth.user, offset, limit, now())
    })
    .await?;
    Ok(json(&page))
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
    Admin(auth): Admin,
    origin: Origin,
    body: Body<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = NewUserInput {
        email: body
            .email
            .parse::<Email>()
            .map_err(|_| ApiError::InvalidRequest("email is not a valid email address".into()))?,
        name: name(&body.name)?,
        role: role(body.role),
        password: body
            .password
            .map(Password::new_secret)
            .transpose()
            .map_err(|e| ApiError::InvalidRequest(format!("password: {e}")))?,
        require_two_factor: body.require_two_factor,
    };
    let created = hashing(&pool, &services, move |s| {
        s.create_user(&auth.user, input, &origin.0, now())
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// One user of the organization.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), AdminErrors))]
pub async fn get_user(
    services: web::Data<Services>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let user = blocking(&services, move |s| s.get_user(&auth.user, &id, now())).await?;
    Ok(json(&user))
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
        name: body.name.as_deref().map(name).transpose()?,
        role: body.role.map(role),
        require_two_factor: body.require_two_factor,
        disabled: body.disabled,
    };
    let id = id.into_inner();
    let user = blocking(&services, move |s| {
        s.update_user(&auth.user, &id, update, &origin.0, now())
    })
    .await?;
    Ok(json(&user))
}

/// Remove a user's authenticator (lost phone) and end their sessions. If
/// 2FA is still required they scan a new QR code at their next login.
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
    let id = id.into_inner();
    let user = blocking(&services, move |s| {
        s.reset_user_two_factor(&auth.user, &id, &origin.0, now())
    })
    .await?;
    Ok(json(&user))
}

/// A user's login attempts, newest first.
#[utoipa::path(get, path = "/v1/users/{id}/login-history", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"), PageQuery),
    responses(
        (status = 200, body = LoginHistoryPage),
        (status = 400, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn user_login_history(
    services: web::Data<Services>,
    Admin(auth): Admin,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(query.limit)?;
    let before = query.before;
    let id = id.into_inner();
    let page = blocking(&services, move |s| {
        s.user_login_history(&auth.user, &id, before, limit)
    })
    .await?;
    Ok(json(&page))
}

/// The organization and its 2FA policy.
#[utoipa::path(get, path = "/v1/organization", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = OrganizationView), AdminErrors))]
pub async fn get_organization(
    services: web::Data<Services>,
    Admin(auth): Admin,
) -> Result<HttpResponse, ApiError> {
    let org = blocking(&services, move |s| s.organization(&auth.user)).await?;
    Ok(json(&org))
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
    let policy = body.two_factor_policy.map(policy_from_dto);
    let grace = body.grace_period_hours;
    let org = blocking(&services, move |s| {
        s.update_organization(&auth.user, policy, grace, &origin.0, now())
    })
    .await?;
    Ok(json(&org))
}

/// The organization's audit log, newest first.
#[utoipa::path(get, path = "/v1/audit-events", tag = "admin", security(("bearer" = [])), params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn audit_events(
    services: web::Data<Services>,
    Admin(auth): Admin,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let page = blocking(&services, move |s| {
        s.audit_events(&auth.user, query.user_id.as_deref(), query.before, limit)
    })
    .await?;
    Ok(json(&page))
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
    let id = id.into_inner();
    let user = blocking(&services, move |s| {
        s.unlock_user(&auth.user, &id, &origin.0, now())
    })
    .await?;
    Ok(json(&user))
}
