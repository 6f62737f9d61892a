//! Health, readiness and the public signing keys.

use actix_web::{web, HttpResponse};

use super::{blocking, json};
use crate::{
    dto::{HealthResponse, Jwks},
    hash_pool::HashPool,
    metrics::Metrics,
    problem::{ApiError, Problem},
    service::{ServiceError, Services},
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
    blocking(&services, |s| s.store.ping().map_err(ServiceError::from)).await?;
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

/// Prometheus metrics: requests and latency per route, login outcomes
/// (including throttle refusals), database and hashing pool usage. Served
/// only on the separate `AUTHGATE_METRICS_LISTEN` listener, never on the
/// public port (so not part of the public API document).
pub async fn metrics(
    services: web::Data<Services>,
    metrics: web::Data<Metrics>,
    hash_pool: web::Data<HashPool>,
) -> HttpResponse {
    let (open, idle, max) = services.store.pool_state();
    let text = metrics.render(&[
        (
            "authgate_db_pool_connections",
            "Open database connections.",
            f64::from(open),
        ),
        (
            "authgate_db_pool_idle_connections",
            "Idle database connections.",
            f64::from(idle),
        ),
        (
            "authgate_db_pool_max_connections",
            "Bound of the database pool.",
            f64::from(max),
        ),
        (
            "authgate_hash_pool_in_use",
            "Password hashes queued or running.",
            hash_pool.in_use() as f64,
        ),
        (
            "authgate_hash_pool_workers",
            "Password hashing threads.",
            hash_pool.workers() as f64,
        ),
        (
            "authgate_hash_pool_capacity",
            "Password hashes that may wait.",
            hash_pool.capacity() as f64,
        ),
    ]);
    // The outbox (issue #10); left out when the database does not answer.
    let now = services.clock.now();
    let outbox = blocking(&services, |s| {
        s.store
            .query(|tx| tx.outbox_stats())
            .map_err(ServiceError::from)
    })
    .await
    .ok();
    let text = text + &crate::metrics::outbox_text(outbox, now);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
