//! `POST /v1/oauth/introspect` (RFC 7662) and `POST /v1/oauth/revoke`
//! (RFC 7009): form-encoded, as OAuth libraries send them.

use actix_web::{error::UrlencodedError, web, HttpRequest, HttpResponse};

use super::{blocking, json};
use crate::{
    dto::{IntrospectedTokenType, IntrospectionResponse, TokenForm},
    partner_auth::{ApiKeyCaller, TokensIntrospect},
    problem::{ApiError, Problem, MAX_BODY_BYTES},
    service::{
        oauth::{Introspection, TokenKind},
        Services,
    },
};

/// Form bodies that cannot be read become problem details like JSON ones.
pub fn form_error(err: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
    match err {
        UrlencodedError::Overflow { .. } => ApiError::PayloadTooLarge,
        UrlencodedError::ContentType => ApiError::UnsupportedMediaType,
        other => ApiError::InvalidRequest(format!("invalid form body: {other}")),
    }
    .into()
}

/// The form-body settings of these endpoints.
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(form_error)
}

fn token(form: &TokenForm) -> Result<String, ApiError> {
    let t = form.token.trim();
    if t.is_empty() || t.len() > 4096 {
        return Err(ApiError::InvalidRequest(
            "token is required (at most 4096 characters)".into(),
        ));
    }
    Ok(t.to_owned())
}

/// Is this access or refresh token live? For partners: authenticate with
/// an API key that has `tokens:introspect` (`Authorization: Bearer
/// agk_…`). `active` turns false the moment the session ends (logout,
/// revocation, an admin disabling the user), even while an access token's
/// signature and expiry still pass. Tokens of other organizations are
/// inactive.
#[utoipa::path(post, path = "/v1/oauth/introspect", tag = "partners",
    security(("api_key" = [])),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = IntrospectionResponse),
        (status = 400, description = "No `token` in the form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `tokens:introspect` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not form-encoded", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn introspect(
    services: web::Data<Services>,
    caller: ApiKeyCaller<TokensIntrospect>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, ApiError> {
    let token = token(&form)?;
    let org = caller.key.organization_id;
    let answer = blocking(&services, move |s| s.introspect(&org, &token)).await?;
    Ok(json(&IntrospectionResponse::from(answer)))
}

/// Revoke a refresh token (or an access token): its session ends. The
/// answer is `200` whatever the token was (RFC 7009 §2.2), so it reveals
/// nothing. Holding the token is the authorization.
#[utoipa::path(post, path = "/v1/oauth/revoke", tag = "auth",

    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "No `token` in the form", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not form-encoded", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    services: web::Data<Services>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, ApiError> {
    let token = token(&form)?;
    blocking(&services, move |s| s.revoke_token(&token)).await?;
    Ok(HttpResponse::Ok().finish())
}

impl From<Introspection> for IntrospectionResponse {
    fn from(i: Introspection) -> Self {
        match i {
            Introspection::Inactive => Self {
                active: false,
                token_type: None,
                sub: None,
                client_id: None,
                iss: None,
                aud: None,
                exp: None,
                iat: None,
                jti: None,
                sid: None,
                org: None,
                role: None,
                amr: None,
            },
            Introspection::Active(t) => Self {
                active: true,
                token_type: Some(match t.kind {
                    TokenKind::Access => IntrospectedTokenType::AccessToken,
                    TokenKind::Refresh => IntrospectedTokenType::RefreshToken,
                }),
                sub: Some(t.subject),
                client_id: Some(t.client_id),
                iss: Some(t.issuer),
                aud: t.audience,
                exp: Some(t.expires_at),
                iat: Some(t.issued_at),
                jti: t.jti,
                sid: Some(t.session_id),
                org: Some(t.organization_id),
                role: Some(t.role),
                amr: Some(t.amr),
            },
        }
    }
}
