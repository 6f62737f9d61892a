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
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("agk_…")
                    .description(Some(
                        "A partner API key (`agk_…`) from `/v1/organization/api-keys`",
                    ))
                    .build(),
            ),
        );
    }
}

/// What generated clients need beyond the handlers' annotations: the enum
/// of every problem `code`, `security: []` on the public operations (those
/// that declare no scheme), and a `servers` entry.
struct ClientContract;

impl Modify for ClientContract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            schema::{Object, Schema, Type},
            RefOr,
        };
        if let Some(RefOr::T(Schema::Object(problem))) = openapi
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("Problem"))
        {
            let mut code = Object::with_type(Type::String);
            code.description = Some("Stable machine-readable code; the README's table says what a client should do for each.".into());
            code.enum_values = Some(crate::problem::CODES.iter().map(|c| (*c).into()).collect());
            code.example = Some("invalid_credentials".into());
            problem
                .properties
                .insert("code".into(), RefOr::T(Schema::Object(code)));
        }
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
                &mut item.put,
            ]
            .into_iter()
            .flatten()
            {
                if op.security.is_none() {
                    op.security = Some(Vec::new());
                }
            }
        }
        openapi.servers = Some(vec![utoipa::openapi::Server::new("/")]);
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
        routes::me::devices,
        routes::me::forget_device,
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
        routes::accounts::remove_user,
        routes::accounts::request_password_reset,
        routes::accounts::confirm_password_reset,
        routes::accounts::send_password_reset,
        routes::accounts::resend_invitation,
        routes::ops::healthz,
        routes::ops::readyz,
        routes::ops::jwks,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::get,
        routes::webhooks::update,
        routes::webhooks::delete,
        routes::webhooks::test,
        routes::webhooks::rotate_secret,
        routes::webhooks::deliveries,
        routes::discovery::openid_configuration,
        routes::api_keys::list_api_keys,
        routes::api_keys::create_api_key,
        routes::api_keys::revoke_api_key,
        routes::oauth::introspect,
        routes::oauth::revoke,
    ),
    components(schemas(Problem, dto::Client)),
    modifiers(&BearerAuth, &ClientContract),
    tags(
        (name = "auth", description = "Logging in, step by step"),
        (name = "me", description = "The signed-in user's own account"),
        (name = "admin", description = "Organization admins: users, 2FA enforcement, policy, audit log"),
        (name = "ops", description = "Health and keys"),
        (name = "webhooks", description = "Organization admins: signed webhooks (Standard Webhooks) for security events"),
        (name = "partners", description = "Partner servers with an API key: token introspection"),
    )
)]
pub struct ApiDoc;

/// The document as committed: pretty JSON with a trailing newline.
pub fn spec_json() -> Result<String, serde_json::Error> {
    let mut s = ApiDoc::openapi().to_pretty_json()?;
    s.push('\n');
    Ok(s)
}
