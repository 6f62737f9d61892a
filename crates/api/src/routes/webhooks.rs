//! `/v1/organization/webhooks`: organization admins manage where events
//! are pushed. Only their own organization's endpoints exist for them.

use actix_web::{web, HttpResponse};
use persistence::{
    outbox::{DeliveryRecord, DeliveryState},
    webhooks::EndpointRecord,
};

use super::{blocking, json, params};
use crate::{
    clock::rfc3339,
    dto::{
        CreateWebhookRequest, CreatedWebhook, DeliveriesQuery, DeliveryList, DeliveryView,
        RotatedWebhookSecret, UpdateWebhookRequest, WebhookList, WebhookTestQueued, WebhookView,
    },
    egress::EgressPolicy,
    extract::{Admin, Body, Origin},
    problem::{
        responses::{AdminErrors, JsonBodyErrors},
        ApiError, Problem,
    },
    service::{
        webhooks::{EndpointUpdate, NewEndpointInput, ROTATION_OVERLAP},
        Services,
    },
};

impl From<EndpointRecord> for WebhookView {
    fn from(e: EndpointRecord) -> Self {
        Self {
            id: e.id,
            url: e.url,
            events: e.events,
            enabled: e.enabled,
            failing_since: e.failing_since.map(rfc3339),
            disabled_at: e.disabled_at.map(rfc3339),
            disabled_reason: e.disabled_reason,
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(d: DeliveryRecord) -> Self {
        Self {
            next_attempt_at: (d.state == DeliveryState::Pending)
                .then(|| rfc3339(d.next_attempt_at)),
            id: d.id,
            event_id: d.event_id,
            event_type: auth_core::events::webhook_type(&d.event_type)
                .map_or(d.event_type, str::to_owned),
            state: d.state.as_str().to_owned(),
            attempts: d.attempts,
            status_code: d.last_status,
            error: d.last_error,
            created_at: rfc3339(d.created_at),
            last_attempt_at: d.last_attempt_at.map(rfc3339),
            delivered_at: d.delivered_at.map(rfc3339),
        }
    }
}

const URL_REFUSED: &str = "The URL is not allowed (`webhook_url_refused`): not https in production, or it resolves to a loopback, private, link-local or metadata address";

/// Register an endpoint. The response holds its signing secret, shown
/// only here.
#[utoipa::path(post, path = "/v1/organization/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, body = CreatedWebhook),
        (status = 422, description = URL_REFUSED, body = Problem, content_type = "application/problem+json"),
        AdminErrors,
        JsonBodyErrors,
    ))]
pub async fn create(
    services: web::Data<Services>,
    egress: web::Data<EgressPolicy>,
    Admin(auth): Admin,
    body: Body<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let policy = **egress;
    let created = blocking(&services, move |s| {
        s.create_webhook(
            &auth.principal.user,
            NewEndpointInput {
                url: body.url,
                events: body.events,
            },
            policy,
        )
    })
    .await?;
    let e = created.endpoint;
    Ok(HttpResponse::Created().json(CreatedWebhook {
        id: e.id,
        url: e.url,
        events: e.events,
        secret: created.secret.expose(),
        enabled: e.enabled,
        created_at: rfc3339(e.created_at),
    }))
}

/// The organization's endpoints (secrets are never shown again).
#[utoipa::path(get, path = "/v1/organization/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = WebhookList), AdminErrors))]
pub async fn list(
    services: web::Data<Services>,
    Admin(auth): Admin,
) -> Result<HttpResponse, ApiError> {
    let items = blocking(&services, move |s| s.list_webhooks(&auth.principal.user)).await?;
    Ok(json(&WebhookList {
        items: items.into_iter().map(WebhookView::from).collect(),
    }))
}

/// One endpoint.
#[utoipa::path(get, path = "/v1/organization/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 200, body = WebhookView), AdminErrors))]
pub async fn get(
    services: web::Data<Services>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let e = blocking(&services, move |s| s.get_webhook(&auth.principal.user, &id)).await?;
    Ok(json(&WebhookView::from(e)))
}

/// Change an endpoint's URL, events, or whether it is enabled.
#[utoipa::path(patch, path = "/v1/organization/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, body = WebhookView),
        (status = 422, description = URL_REFUSED, body = Problem, content_type = "application/problem+json"),
        AdminErrors,
        JsonBodyErrors,
    ))]
pub async fn update(
    services: web::Data<Services>,
    egress: web::Data<EgressPolicy>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<UpdateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let policy = **egress;
    let e = blocking(&services, move |s| {
        s.update_webhook(
            &auth.principal.user,
            &id,
            EndpointUpdate {
                url: body.url,
                events: body.events,
                enabled: body.enabled,
            },
            policy,
        )
    })
    .await?;
    Ok(json(&WebhookView::from(e)))
}

/// Delete an endpoint; nothing more is sent to it.
#[utoipa::path(delete, path = "/v1/organization/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 204, description = "Deleted"), AdminErrors))]
pub async fn delete(
    services: web::Data<Services>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    blocking(&services, move |s| {
        s.delete_webhook(&auth.principal.user, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Queue a `webhook.test` event for this endpoint alone.
#[utoipa::path(post, path = "/v1/organization/webhooks/{id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 202, body = WebhookTestQueued), AdminErrors))]
pub async fn test(
    services: web::Data<Services>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let event_id = blocking(&services, move |s| {
        s.test_webhook(&auth.principal.user, &id, &origin.0)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(WebhookTestQueued {
        event_id,
        event_type: "webhook.test".into(),
    }))
}

/// Replace the signing secret. The new one is shown once; the previous one
/// keeps signing alongside it for 24 hours.
#[utoipa::path(post, path = "/v1/organization/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 200, body = RotatedWebhookSecret), AdminErrors))]
pub async fn rotate_secret(
    services: web::Data<Services>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let at = services.clock.now();
    let endpoint_id = id.clone();
    let secret = blocking(&services, move |s| {
        s.rotate_webhook_secret(&auth.principal.user, &id)
    })
    .await?;
    Ok(json(&RotatedWebhookSecret {
        id: endpoint_id,
        secret: secret.expose(),
        previous_secret_expires_at: rfc3339(at.plus(ROTATION_OVERLAP)),
    }))
}

/// Recent delivery attempts to this endpoint, newest first.
#[utoipa::path(get, path = "/v1/organization/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id"), DeliveriesQuery),
    responses(
        (status = 200, body = DeliveryList),
        (status = 400, description = "Invalid limit", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn deliveries(
    services: web::Data<Services>,
    Admin(auth): Admin,
    id: web::Path<String>,
    query: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = params::page_limit(query.limit)?;
    let items = blocking(&services, move |s| {
        s.webhook_deliveries(&auth.principal.user, &id, limit)
    })
    .await?;
    Ok(json(&DeliveryList {
        items: items.into_iter().map(DeliveryView::from).collect(),
    }))
}
