//! `/v1/organization/api-keys`: an organization's partner API keys,
//! managed by its admins (with an access token; a key cannot make keys).

use actix_web::{web, HttpResponse};
use auth_core::{api_key::Scopes, ids::ApiKeyId};

use super::{blocking, json};
use crate::clock::rfc3339;
use crate::{
    dto::{ApiKeyList, ApiKeyScope, CreateApiKeyRequest, CreatedApiKey},
    extract::{Admin, Body, Origin},
    problem::{
        responses::{AdminErrors, JsonBodyErrors},
        ApiError,
    },
    service::{api_keys::NewKeyInput, Services},
};

fn scope_name(s: ApiKeyScope) -> &'static str {
    match s {
        ApiKeyScope::UsersRead => "users:read",
        ApiKeyScope::AuditRead => "audit:read",
        ApiKeyScope::TokensIntrospect => "tokens:introspect",
    }
}

fn instant(value: &str) -> Result<auth_core::UnixTime, ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| auth_core::UnixTime::from_millis(t.timestamp_millis()))
        .map_err(|_| ApiError::InvalidRequest("expires_at must be an RFC 3339 date-time".into()))
}

/// The organization's API keys (revoked ones are gone), newest first.
#[utoipa::path(get, path = "/v1/organization/api-keys", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ApiKeyList), AdminErrors))]
pub async fn list_api_keys(
    services: web::Data<Services>,
    Admin(auth): Admin,
) -> Result<HttpResponse, ApiError> {
    let keys = blocking(&services, move |s| s.list_api_keys(&auth.principal.user)).await?;
    Ok(json(&ApiKeyList::from(keys)))
}

/// Create a key for a partner. The key is in this response only; Authgate
/// keeps a hash. Scopes name what it may read; it never exceeds its
/// creator's admin rights and stops working if they lose them.
#[utoipa::path(post, path = "/v1/organization/api-keys", tag = "admin", security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKey), AdminErrors, JsonBodyErrors))]
pub async fn create_api_key(
    services: web::Data<Services>,
    Admin(auth): Admin,
    origin: Origin,
    body: Body<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let scopes = Scopes::parse(body.scopes.iter().map(|s| scope_name(*s)))
        .map_err(|e| ApiError::InvalidRequest(format!("scopes: {e}")))?;
    let input = NewKeyInput {
        name: body.name,
        scopes,
        expires_at: body.expires_at.as_deref().map(instant).transpose()?,
    };
    let created = blocking(&services, move |s| {
        s.create_api_key(&auth.principal.user, input, &origin.0)
    })
    .await?;
    Ok(HttpResponse::Created().json(CreatedApiKey::from(created)))
}

/// Revoke a key: it stops working at once.
#[utoipa::path(delete, path = "/v1/organization/api-keys/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "API key id")),
    responses((status = 204, description = "Revoked"), AdminErrors))]
pub async fn revoke_api_key(
    services: web::Data<Services>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ApiKeyId::parse(&id).ok_or(ApiError::NotFound("API key"))?;
    blocking(&services, move |s| {
        s.revoke_api_key(&auth.principal.user, &id, &origin.0)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn scope_dto(s: auth_core::api_key::Scope) -> ApiKeyScope {
    use auth_core::api_key::Scope;
    match s {
        Scope::UsersRead => ApiKeyScope::UsersRead,
        Scope::AuditRead => ApiKeyScope::AuditRead,
        Scope::TokensIntrospect => ApiKeyScope::TokensIntrospect,
    }
}

impl From<persistence::api_keys::ApiKeyRecord> for crate::dto::ApiKeyView {
    fn from(k: persistence::api_keys::ApiKeyRecord) -> Self {
        Self {
            id: k.id.into_string(),
            name: k.name,
            scopes: k.scopes.iter().map(scope_dto).collect(),
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
            expires_at: k.expires_at.map(rfc3339),
        }
    }
}

impl From<Vec<persistence::api_keys::ApiKeyRecord>> for ApiKeyList {
    fn from(keys: Vec<persistence::api_keys::ApiKeyRecord>) -> Self {
        Self {
            items: keys.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<crate::service::api_keys::CreatedKey> for CreatedApiKey {
    fn from(c: crate::service::api_keys::CreatedKey) -> Self {
        let r = c.record;
        Self {
            key: c.key.expose().to_owned(),
            id: r.id.into_string(),
            name: r.name,
            scopes: r.scopes.iter().map(scope_dto).collect(),
            created_at: rfc3339(r.created_at),
            expires_at: r.expires_at.map(rfc3339),
        }
    }
}
