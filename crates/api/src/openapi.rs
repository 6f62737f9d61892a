//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! committed as `openapi/openapi.json` (a test keeps the two identical).

use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::{dto, problem::Problem, routes};

/// Errors any endpoint with a JSON body may give.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum JsonBodyErrors {
    /// Malformed JSON, a missing field, a wrong type or an invalid value.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// The body is larger than 64 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// The database is unavailable; retry later.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Errors any endpoint that needs an access token may give.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BearerErrors {
    /// Missing, invalid or expired access token, or an ended session.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The database is unavailable; retry later.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Errors of the admin endpoints.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum AdminErrors {
    /// Missing, invalid or expired access token, or an ended session.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The caller is not an admin.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such user in the caller's organization.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The database is unavailable; retry later.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Authgate",
        description = "Two-factor login service of the team-inbox platform. Errors are RFC 9457 problem details with a stable `code`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        routes::auth::login,
        routes::auth::otp,
        routes::auth::enrollment,
        routes::auth::enrollment_confirm,
        routes::auth::refresh,
        routes::auth::logout,
        routes::me::me,
        routes::me::start_enrollment,
        routes::me::confirm_enrollment,
        routes::me::disable_two_factor,
        routes::me::login_history,
        routes::me::regenerate_recovery_codes,
        routes::me::sessions,
        routes::me::end_session,
        routes::me::change_password,
        routes::admin::list_users,
        routes::admin::create_user,
        routes::admin::get_user,
        routes::admin::update_user,
        routes::admin::reset_two_factor,
        routes::admin::user_login_history,
        routes::admin::unlock_user,
        routes::admin::get_organization,
        routes::admin::update_organization,
        routes::admin::audit_events,
        routes::ops::healthz,
        routes::ops::readyz,
        routes::ops::jwks,
        routes::ops::metrics,
    ),
    components(schemas(Problem, dto::Client)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Logging in, step by step"),
        (name = "me", description = "The signed-in user's own account"),
        (name = "admin", description = "Organization admins: users, 2FA enforcement, policy, audit log"),
        (name = "ops", description = "Health and keys"),
    )
)]
pub struct ApiDoc;

/// The document as committed: pretty JSON with a trailing newline.
pub fn spec_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    s.push('\n');
    s
}
