//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! committed as `openapi/openapi.json` (a test keeps the two identical).

use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::{dto, problem::Problem, routes};

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
pub fn spec_json() -> Result<String, serde_json::Error> {
    let mut s = ApiDoc::openapi().to_pretty_json()?;
    s.push('\n');
    Ok(s)
}
