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
        for op in operations_mut(openapi) {
            if op.security.is_none() {
                op.security = Some(Vec::new());
            }
        }
        openapi.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    }
}

fn operations_mut(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
            &mut item.put,
        ]
        .into_iter()
        .flatten()
    })
}

fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The tag property and its value of one `#[serde(tag = …)]` variant as
/// utoipa writes it: `allOf: [{$ref: Payload}, {properties: {tag: {enum: [value]}}}]`.
fn tag_of(variant: &utoipa::openapi::RefOr<utoipa::openapi::Schema>) -> Option<(String, String)> {
    use utoipa::openapi::{RefOr, Schema};
    let RefOr::T(Schema::AllOf(all)) = variant else {
        return None;
    };
    all.items.iter().find_map(|part| {
        let RefOr::T(Schema::Object(o)) = part else {
            return None;
        };
        o.properties.iter().find_map(|(name, prop)| match prop {
            RefOr::T(Schema::Object(p)) => match p.enum_values.as_deref() {
                Some([serde_json::Value::String(v)]) if o.required.contains(name) => {
                    Some((name.clone(), v.clone()))
                }
                _ => None,
            },
            _ => None,
        })
    })
}

/// Internally tagged enums become `oneOf` named variants with a
/// `discriminator`: Kotlin and Swift generators only make sealed types
/// when every variant is a component the mapping can point to. A variant
/// that several unions share (`authenticated`) is one component.
struct SealedUnions;

impl Modify for SealedUnions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{schema::Discriminator, RefOr, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let unions: Vec<String> = components
            .schemas
            .iter()
            .filter_map(|(name, schema)| match schema {
                RefOr::T(Schema::OneOf(one)) if !one.items.is_empty() => one
                    .items
                    .iter()
                    .all(|v| tag_of(v).is_some())
                    .then(|| name.clone()),
                _ => None,
            })
            .collect();
        for union in unions {
            let Some(RefOr::T(Schema::OneOf(one))) = components.schemas.get(&union).cloned() else {
                continue;
            };
            let mut sealed = one.clone();
            let mut discriminator = None;
            sealed.items.clear();
            for variant in one.items {
                let Some((property, value)) = tag_of(&variant) else {
                    continue;
                };
                let mut name = pascal_case(&value);
                if components.schemas.get(&name).is_some_and(|existing| {
                    tag_of(existing) != Some((property.clone(), value.clone()))
                }) {
                    name = format!("{union}{name}");
                }
                // A variant shared by several unions (`authenticated`) is
                // one component; the first copy (in name order) is kept.
                components.schemas.entry(name.clone()).or_insert(variant);
                let reference = format!("#/components/schemas/{name}");
                discriminator
                    .get_or_insert_with(|| Discriminator::new(property.clone()))
                    .mapping
                    .insert(value, reference.clone());
                sealed
                    .items
                    .push(RefOr::Ref(utoipa::openapi::Ref::new(reference)));
            }
            sealed.discriminator = discriminator;
            components
                .schemas
                .insert(union, RefOr::T(Schema::OneOf(sealed)));
        }
    }
}

fn header(description: &str, example: serde_json::Value) -> utoipa::openapi::header::Header {
    use utoipa::openapi::{
        header::HeaderBuilder,
        schema::{ObjectBuilder, Type},
    };
    let ty = if example.is_number() {
        Type::Integer
    } else {
        Type::String
    };
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(ty).examples([example]))
        .description(Some(description))
        .build()
}

/// The headers `problem::ApiError::error_response` and
/// `middleware::observe` really send, so that clients can read them
/// without guessing.
struct ResponseHeaders;

impl Modify for ResponseHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        let request_id = header(
            "Identifies this request in Authgate's logs (the caller's own `X-Request-Id` when it is 1–64 characters of `A-Za-z0-9-_.`, else a new UUID). Quote it when reporting a problem.",
            "5f0c6a4e-8f4b-4c47-9a53-0e7d2c8a1b90".into(),
        );
        let retry_after = header(
            "Seconds to wait before retrying (RFC 9110 §10.2.3): `1` when the service is saturated or its database unavailable (`overloaded`, `database_unavailable`) or this address already has too many password checks running (`too_many_requests`); the time left for `too_many_attempts` and for `too_many_requests` after failed logins; `86400` for `account_locked` (only an admin can unlock).",
            30.into(),
        );
        let bearer_challenge = header(
            "RFC 6750 challenge: `Bearer` when the access token is missing, invalid or its session ended (`unauthorized`); `Bearer error=\"invalid_token\"` when a refresh token is refused. Absent for a wrong password or code (`invalid_password`, `invalid_code`).",
            "Bearer".into(),
        );
        let scope_challenge = header(
            "RFC 6750 challenge naming the scope the API key lacks (`insufficient_scope`).",
            "Bearer error=\"insufficient_scope\", scope=\"users:read\"".into(),
        );
        for op in operations_mut(openapi) {
            let protected = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let api_key = op.security.as_ref().is_some_and(|reqs| {
                serde_json::to_value(reqs)
                    .map(|v| v.to_string().contains("\"api_key\""))
                    .unwrap_or(false)
            });
            let refresh = op.operation_id.as_deref() == Some("refresh");
            for (status, response) in &mut op.responses.responses {
                let RefOr::T(response) = response else {
                    continue;
                };
                response
                    .headers
                    .insert("X-Request-Id".into(), request_id.clone());
                match status.as_str() {
                    "429" | "503" => {
                        response
                            .headers
                            .insert("Retry-After".into(), retry_after.clone());
                    }
                    "401" if protected || refresh => {
                        response
                            .headers
                            .insert("WWW-Authenticate".into(), bearer_challenge.clone());
                    }
                    "403" if api_key => {
                        response
                            .headers
                            .insert("WWW-Authenticate".into(), scope_challenge.clone());
                    }
                    _ => {}
                }
            }
        }
    }
}

/// JSON values the derive can only call `object`, which generators turn
/// into `Record<string, never>`.
struct TypedFreeForms;

impl Modify for TypedFreeForms {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Type},
            RefOr, Schema,
        };
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let string = |description: &str, example: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
                .examples([example])
        };
        // What `auth_core::jwt` publishes for an Ed25519 (`OKP`) or P-256
        // (`EC`) key.
        let jwk = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("A public signing key (RFC 7517, RFC 8037 for `OKP`). Select the key by `kid` from the token header."))
            .property("kty", string("Key type.", "OKP").enum_values(Some(["OKP", "EC"])))
            .required("kty")
            .property("crv", string("Curve.", "Ed25519").enum_values(Some(["Ed25519", "P-256"])))
            .required("crv")
            .property("x", string("Public key (base64url); for `EC` the x coordinate.", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
            .required("x")
            .property("y", string("`EC` only: the y coordinate (base64url).", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"))
            .property("kid", string("Key id, as in the token header.", "q6Qd1p1zvVhT0Ycm"))
            .required("kid")
            .property("alg", string("Signing algorithm.", "EdDSA").enum_values(Some(["EdDSA", "ES256"])))
            .required("alg")
            .property("use", string("Always `sig`.", "sig").enum_values(Some(["sig"])))
            .required("use")
            .build();
        components
            .schemas
            .insert("Jwk".into(), RefOr::T(Schema::Object(jwk)));
        if let Some(RefOr::T(Schema::Object(jwks))) = components.schemas.get_mut("Jwks") {
            jwks.properties.insert(
                "keys".into(),
                RefOr::T(Schema::Array(
                    ArrayBuilder::new()
                        .items(utoipa::openapi::Ref::from_schema_name("Jwk"))
                        .description(Some("The current key first, then keys kept for tokens signed before a rotation."))
                        .build(),
                )),
            );
        }
        if let Some(RefOr::T(Schema::Object(event))) = components.schemas.get_mut("AuditEventView")
        {
            event.properties.insert(
                "details".into(),
                RefOr::T(Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .description(Some("Facts about the event; the keys depend on `action` (e.g. `{\"sessions_ended\": 2}` for `user.password_changed`, `{\"email\": …, \"role\": …, \"require_two_factor\": …}` for `user.created`; an empty object when there is nothing to add). Ids and facts only, never a secret, code or token. New keys may appear: ignore the ones you do not know."))
                        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
                        .examples([serde_json::json!({"sessions_ended": 2})])
                        .build(),
                )),
            );
        }
    }
}

/// Realistic bodies for every operation's request and main response, kept
/// as data (`openapi_examples.json`, keyed by component schema) so that
/// they are easy to read and review; Redocly's lint checks them against
/// the schemas. None of the tokens, secrets or codes in it is real.
struct Examples;

impl Modify for Examples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{example::ExampleBuilder, Content, RefOr};
        #[derive(serde::Deserialize)]
        struct Named {
            summary: String,
            value: serde_json::Value,
        }
        #[derive(serde::Deserialize)]
        struct Table {
            examples: std::collections::BTreeMap<String, serde_json::Value>,
            named: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Named>>,
        }
        // The file is part of the source; a broken edit fails the spec test.
        let Ok(table) = serde_json::from_str::<Table>(include_str!("openapi_examples.json")) else {
            tracing::error!("openapi_examples.json does not parse; the spec has no examples");
            return;
        };
        let fill = |content: &mut Content| {
            let Some(RefOr::Ref(r)) = &content.schema else {
                return;
            };
            let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") else {
                return;
            };
            if let Some(named) = table.named.get(name) {
                for (key, example) in named {
                    content.examples.insert(
                        key.clone(),
                        RefOr::T(
                            ExampleBuilder::new()
                                .summary(&example.summary)
                                .value(Some(example.value.clone()))
                                .build(),
                        ),
                    );
                }
            } else if let Some(value) = table.examples.get(name) {
                content.example = Some(value.clone());
            }
        };
        for op in operations_mut(openapi) {
            if let Some(body) = op.request_body.as_mut() {
                body.content.values_mut().for_each(fill);
            }
            for (status, response) in &mut op.responses.responses {
                if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                    response.content.values_mut().for_each(fill);
                }
            }
        }
    }
}

/// Every timestamp Authgate sends is `clock::rfc3339` (UTC, milliseconds);
/// naming them here once keeps DTOs added later from being plain strings
/// to generators.
struct Timestamps;

fn is_timestamp(property: &str) -> bool {
    property == "at"
        || property.ends_with("_at")
        || property.ends_with("_since")
        || property.ends_with("deadline")
}

impl Modify for Timestamps {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            schema::{KnownFormat, SchemaFormat, SchemaType, Type},
            RefOr, Schema,
        };
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::Object(object)) = schema else {
                continue;
            };
            for (name, property) in &mut object.properties {
                let RefOr::T(Schema::Object(p)) = property else {
                    continue;
                };
                let string = match &p.schema_type {
                    SchemaType::Type(t) => *t == Type::String,
                    SchemaType::Array(ts) => ts.contains(&Type::String),
                    SchemaType::AnyValue => false,
                };
                if string && p.format.is_none() && is_timestamp(name) {
                    p.format = Some(SchemaFormat::KnownFormat(KnownFormat::DateTime));
                }
            }
        }
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
        routes::authenticators::list,
        routes::authenticators::add,
        routes::authenticators::confirm,
        routes::authenticators::rename,
        routes::authenticators::remove,
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
    modifiers(&BearerAuth, &ClientContract, &SealedUnions, &ResponseHeaders, &TypedFreeForms, &Timestamps, &Examples),
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
