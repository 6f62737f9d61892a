//! OpenID Connect / RFC 8414 discovery: where the keys and the token,
//! revocation and introspection endpoints are.

use actix_web::{web, HttpResponse};
use auth_core::api_key::Scope;

use crate::{dto::DiscoveryDocument, service::Services};

/// The discovery document. Its `issuer` is `AUTHGATE_ISSUER`, which every
/// access token carries as `iss`; gateways and libraries (AWS API Gateway
/// JWT authorizers, `jose`'s remote JWK sets, PyJWT) find the keys here.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "ops",

    responses((status = 200, body = DiscoveryDocument)))]
pub async fn openid_configuration(services: web::Data<Services>) -> HttpResponse {
    let issuer = services.tokens.issuer_url();
    let algs: Vec<String> = services
        .tokens
        .algorithms()
        .into_iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(DiscoveryDocument {
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            token_endpoint: format!("{issuer}/v1/auth/refresh"),
            revocation_endpoint: format!("{issuer}/v1/oauth/revoke"),
            introspection_endpoint: format!("{issuer}/v1/oauth/introspect"),
            id_token_signing_alg_values_supported: algs.clone(),
            token_endpoint_auth_signing_alg_values_supported: algs,
            grant_types_supported: list(&["refresh_token"]),
            response_types_supported: list(&["token"]),
            subject_types_supported: list(&["public"]),
            revocation_endpoint_auth_methods_supported: list(&["none"]),
            introspection_endpoint_auth_methods_supported: list(&["bearer"]),
            scopes_supported: Scope::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            issuer,
        })
}
