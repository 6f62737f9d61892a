//! HTTP handlers: parse the request, run one use case off the async
//! workers, shape the response. No rules and no SQL live here.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod authenticators;
pub mod discovery;
pub mod me;
pub mod oauth;
pub mod ops;
mod params;
pub mod present;
pub mod webhooks;

use actix_web::{web, HttpResponse};

use crate::{
    hash_pool::HashPool,
    problem::ApiError,
    service::{ServiceError, Services},
};

/// Runs a use case on the blocking pool (database calls block), inside
/// the request's span so its log lines carry the request id.
pub async fn blocking<T, F>(services: &web::Data<Services>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Services) -> Result<T, ServiceError> + Send + 'static,
{
    let services = services.clone();
    let span = tracing::Span::current();
    Ok(web::block(move || span.in_scope(|| f(&services))).await??)
}

/// Runs a use case that hashes a password on the bounded hashing pool,
/// within the share of the caller's address group (`None`: uncapped, for
/// callers that are already authenticated admins).
pub async fn hashing<T, F>(
    pool: &web::Data<HashPool>,
    services: &web::Data<Services>,
    group: Option<&str>,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Services) -> Result<T, ServiceError> + Send + 'static,
{
    let services = services.clone();
    let span = tracing::Span::current();
    Ok(pool
        .run_for(group, move || span.in_scope(|| f(&services)))
        .await??)
}

pub fn json<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// A problem+json `405` with the `Allow` header RFC 9110 asks for.
fn method_not_allowed(
    allowed: &'static [&'static str],
) -> impl Fn(actix_web::HttpRequest) -> std::future::Ready<HttpResponse> + Clone {
    move |req: actix_web::HttpRequest| {
        let mut res = actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed(
            req.method().to_string(),
        ));
        let allow = allowed
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allow) {
            res.headers_mut().insert(actix_web::http::header::ALLOW, v);
        }
        std::future::ready(res)
    }
}

/// Declares each path once: its actix resource (with a problem+json `405`
/// for other methods) and its entry in [`ROUTES`], which a test compares
/// with the OpenAPI document.
macro_rules! routes {
    ($( $path:literal => { $( $method:ident : $handler:path ),+ $(,)? } ),+ $(,)?) => {
        /// Every (method, path) the API serves.
        pub const ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path), )+ )+ ];

        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $( .route(web::$method().to($handler)) )+
                        .default_service(web::to(method_not_allowed(&[ $( stringify!($method) ),+ ]))),
                );
            )+
        }
    };
}

routes! {
    "/v1/auth/login" => { post: auth::login },
    "/v1/auth/otp" => { post: auth::otp },
    "/v1/auth/enrollment" => { post: auth::enrollment },
    "/v1/auth/enrollment/confirm" => { post: auth::enrollment_confirm },
    "/v1/auth/refresh" => { post: auth::refresh },
    "/v1/auth/logout" => { post: auth::logout },
    "/v1/auth/password-reset" => { post: accounts::request_password_reset },
    "/v1/auth/password-reset/confirm" => { post: accounts::confirm_password_reset },
    "/v1/me" => { get: me::me },
    "/v1/me/two-factor/enrollment" => { post: me::start_enrollment },
    "/v1/me/two-factor/enrollment/confirm" => { post: me::confirm_enrollment },
    "/v1/me/two-factor/disable" => { post: me::disable_two_factor },
    "/v1/me/two-factor/recovery-codes" => { post: me::regenerate_recovery_codes },
    "/v1/me/two-factor/authenticators" => { get: authenticators::list, post: authenticators::add },
    "/v1/me/two-factor/authenticators/{id}" => { patch: authenticators::rename, delete: authenticators::remove },
    "/v1/me/two-factor/authenticators/{id}/confirm" => { post: authenticators::confirm },
    "/v1/me/login-history" => { get: me::login_history },
    "/v1/me/sessions" => { get: me::sessions },
    "/v1/me/sessions/{id}" => { delete: me::end_session },
    "/v1/me/devices" => { get: me::devices },
    "/v1/me/devices/{id}" => { delete: me::forget_device },
    "/v1/me/password" => { post: me::change_password },
    "/v1/users" => { get: admin::list_users, post: admin::create_user },
    "/v1/users/{id}" => { get: admin::get_user, patch: admin::update_user, delete: accounts::remove_user },
    "/v1/users/{id}/two-factor/reset" => { post: admin::reset_two_factor },
    "/v1/users/{id}/login-history" => { get: admin::user_login_history },
    "/v1/users/{id}/unlock" => { post: admin::unlock_user },
    "/v1/users/{id}/password-reset" => { post: accounts::send_password_reset },
    "/v1/users/{id}/invitation" => { post: accounts::resend_invitation },
    "/v1/organization" => { get: admin::get_organization, patch: admin::update_organization },
    "/v1/audit-events" => { get: admin::audit_events },
    "/healthz" => { get: ops::healthz },
    "/readyz" => { get: ops::readyz },
    "/.well-known/jwks.json" => { get: ops::jwks },
    "/v1/organization/webhooks" => { get: webhooks::list, post: webhooks::create },
    "/v1/organization/webhooks/{id}" => { get: webhooks::get, patch: webhooks::update, delete: webhooks::delete },
    "/v1/organization/webhooks/{id}/test" => { post: webhooks::test },
    "/v1/organization/webhooks/{id}/rotate-secret" => { post: webhooks::rotate_secret },
    "/v1/organization/webhooks/{id}/deliveries" => { get: webhooks::deliveries },
    "/.well-known/openid-configuration" => { get: discovery::openid_configuration },
    "/v1/organization/api-keys" => { get: api_keys::list_api_keys, post: api_keys::create_api_key },
    "/v1/organization/api-keys/{id}" => { delete: api_keys::revoke_api_key },
    "/v1/oauth/introspect" => { post: oauth::introspect },
    "/v1/oauth/revoke" => { post: oauth::revoke },
}
