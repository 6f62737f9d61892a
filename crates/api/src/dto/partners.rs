//! Partner API keys, token introspection (RFC 7662) and revocation
//! (RFC 7009).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a key may do.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub enum ApiKeyScope {
    /// `GET /v1/users`, `GET /v1/users/{id}`, `GET /v1/users/{id}/login-history`.
    #[serde(rename = "users:read")]
    UsersRead,
    /// `GET /v1/audit-events`.
    #[serde(rename = "audit:read")]
    AuditRead,
    /// `POST /v1/oauth/introspect`.
    #[serde(rename = "tokens:introspect")]
    TokensIntrospect,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// What the key is for, shown in the list (1–100 characters).
    #[schema(example = "Helpdesk sync")]
    pub name: String,
    #[schema(min_items = 1, example = json!(["users:read", "tokens:introspect"]))]
    pub scopes: Vec<ApiKeyScope>,
    /// When the key stops working (RFC 3339); never if absent.
    #[serde(default)]
    #[schema(format = DateTime, example = "2027-06-30T00:00:00Z")]
    pub expires_at: Option<String>,
}

/// A key as listed: never the key itself.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyView {
    #[schema(example = "0f8fad5b-d9cb-469f-a165-70867728950e")]
    pub id: String,
    #[schema(example = "Helpdesk sync")]
    pub name: String,
    pub scopes: Vec<ApiKeyScope>,
    #[schema(format = DateTime, example = "2026-11-30T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2026-11-30T10:05:00.000Z")]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime, example = "2027-06-30T00:00:00.000Z")]
    pub expires_at: Option<String>,
}

/// A new key: `key` is shown this once and stored only as a hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    /// Send as `Authorization: Bearer agk_…`. Shown once.
    #[schema(example = "agk_3q2-7wX0dY1yHk8m6mYp1Hq3qfVbC2E4yq9t0nqzS5w")]
    pub key: String,
    #[schema(example = "0f8fad5b-d9cb-469f-a165-70867728950e")]
    pub id: String,
    #[schema(example = "Helpdesk sync")]
    pub name: String,
    pub scopes: Vec<ApiKeyScope>,
    #[schema(format = DateTime, example = "2026-11-30T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2027-06-30T00:00:00.000Z")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
}

/// RFC 7662 / RFC 7009 request: `application/x-www-form-urlencoded`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
    /// An access token or a refresh token.
    #[schema(example = "rt_Xk3…")]
    pub token: String,
    /// `access_token` or `refresh_token`; a hint only (RFC 7009 §2.1).
    #[serde(default)]
    #[allow(dead_code)]
    pub token_type_hint: Option<String>,
}

/// The kind of token introspected.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IntrospectedTokenType {
    AccessToken,
    RefreshToken,
}

/// RFC 7662 §2.2. An inactive token (unknown, expired, revoked, of another
/// organization) is `{"active": false}` and nothing else.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<IntrospectedTokenType>,
    /// The user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The client kind the session was opened for (`web`, `mobile`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Expiry, Unix seconds (for a refresh token: the session's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The organization id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Factors the session proved (RFC 8176).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}
