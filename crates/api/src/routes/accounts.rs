//! Accounts coming and going: removing a user (and, with the mail path,
//! password resets and invitations).

use actix_web::{web, HttpResponse};

use super::{hashing, params};
use crate::{
    extract::{Admin, Origin},
    hash_pool::HashPool,
    problem::{responses::AdminErrors, ApiError, Problem},
    service::Services,
};

/// Remove a user: deactivated and anonymised. Sessions end; authenticators
/// and recovery codes are deleted; the email is freed for a new user; the
/// login history and audit entries keep the id but lose email, name and
/// addresses. An admin cannot remove themselves or the last active admin.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "The admin's own account, or the organization's last active admin", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn remove_user(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = params::user_id(&id)?;
    hashing(&pool, &services, move |s| {
        s.remove_user(&auth.principal.user, &id, &origin.0)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
