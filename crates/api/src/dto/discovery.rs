//! The discovery document (RFC 8414, OpenID Connect Discovery 1.0).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a partner or an API gateway finds Authgate's keys and endpoints.
/// Authgate issues access tokens only (no ID tokens, no authorization
/// endpoint); the OpenID fields libraries require are present so that
/// OIDC-discovery clients (`jose`, PyJWT, API gateways) accept it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DiscoveryDocument {
    /// Equal to the `iss` of every access token.
    #[schema(example = "https://auth.example.com")]
    pub issuer: String,
    #[schema(example = "https://auth.example.com/.well-known/jwks.json")]
    pub jwks_uri: String,
    /// Where tokens are renewed (`POST`, JSON `{"refresh_token": …}`);
    /// they are first obtained by logging in at `/v1/auth/login`.
    #[schema(example = "https://auth.example.com/v1/auth/refresh")]
    pub token_endpoint: String,
    #[schema(example = "https://auth.example.com/v1/oauth/revoke")]
    pub revocation_endpoint: String,
    #[schema(example = "https://auth.example.com/v1/oauth/introspect")]
    pub introspection_endpoint: String,
    /// The `alg` values of the keys in the JWKS, the active one first.
    #[schema(example = json!(["EdDSA"]))]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Same as above: the algorithms access tokens are signed with.
    #[schema(example = json!(["EdDSA"]))]
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    #[schema(example = json!(["refresh_token"]))]
    pub grant_types_supported: Vec<String>,
    #[schema(example = json!(["token"]))]
    pub response_types_supported: Vec<String>,
    #[schema(example = json!(["public"]))]
    pub subject_types_supported: Vec<String>,
    /// Revocation needs no client authentication: holding the token is
    /// enough (RFC 7009 §2.1 for public clients).
    #[schema(example = json!(["none"]))]
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// Introspection takes an API key (`agk_…`) with `tokens:introspect`
    /// as a Bearer token.
    #[schema(example = json!(["bearer"]))]
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    #[schema(example = json!(["users:read", "audit:read", "tokens:introspect"]))]
    pub scopes_supported: Vec<String>,
}
