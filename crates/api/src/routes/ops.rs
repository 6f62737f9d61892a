//! Health, readiness and the public signing keys.

use actix_web::{web, HttpResponse};

use super::{blocking, json};
use crate::{
    dto::{HealthResponse, Jwks},
    problem::{ApiError, Problem},
    service::Services,
};

/// Liveness: the process answers. Never touches the database.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = HealthResponse)))]
pub async fn healthz() -> HttpResponse {
    json(&HealthResponse {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, body = HealthResponse),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(services: web::Data<Services>) -> Result<HttpResponse, ApiError> {
    blocking(&services, |s| Ok(s.store.ping()?)).await?;
    Ok(json(&HealthResponse {
        status: "ready".into(),
    }))
}

/// Public keys that verify access tokens (RFC 7517).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "ops", responses((status = 200, body = Jwks)))]
pub async fn jwks(services: web::Data<Services>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(services.tokens.jwks())
}
