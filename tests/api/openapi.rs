//! The committed OpenAPI document matches the code, and covers every route.

use api::{openapi::spec_json, routes::ROUTES};

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json")
}

#[test]
fn the_committed_spec_matches_the_code() {
    let generated = spec_json().unwrap();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -q -p api --bin authgate -- openapi > openapi/openapi.json` \
         (or UPDATE_OPENAPI=1 cargo test -p api --test api openapi)"
    );
}

#[test]
fn every_route_is_in_the_spec_and_every_spec_operation_is_routed() {
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is served but not documented"
        );
    }
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            assert!(
                ROUTES.contains(&(method.as_str(), path.as_str())),
                "{method} {path} is documented but not served"
            );
        }
    }
}

#[test]
fn every_operation_has_its_own_operation_id() {
    // Client generators name functions after them: two handlers both
    // called `list` would give one of them the other's types.
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let id = op["operationId"].as_str().expect("an operationId");
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id:?} is used by {other} and {method} {path}");
            }
        }
    }
}

#[test]
fn the_web_console_is_served_but_kept_out_of_the_spec() {
    // The console is HTML and scripts, not JSON API: it is routed by
    // `api::console::configure`, outside `ROUTES`, on purpose.
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    let prefix = api::console::PREFIX;
    assert!(paths.keys().all(|p| !p.starts_with(prefix)));
    assert!(ROUTES.iter().all(|(_, p)| !p.starts_with(prefix)));
}

fn operations(spec: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((format!("{} {path}", method.to_uppercase()), op));
        }
    }
    ops
}

#[test]
fn every_tagged_union_has_a_discriminator_whose_mapping_names_each_variant() {
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let login = &schemas["LoginResponse"];
    assert_eq!(login["discriminator"]["propertyName"], "status");
    let mapping = login["discriminator"]["mapping"].as_object().unwrap();
    let mut tags: Vec<_> = mapping.keys().cloned().collect();
    tags.sort();
    assert_eq!(
        tags,
        ["authenticated", "enrollment_required", "otp_required"]
    );
    for (name, schema) in schemas {
        let Some(variants) = schema["oneOf"].as_array() else {
            continue;
        };
        // `Option<Enum>` fields are `oneOf: [null, $ref]` inside objects,
        // never components; every component union is a tagged enum.
        let discriminator = &schema["discriminator"];
        let property = discriminator["propertyName"].as_str().unwrap_or_else(|| {
            panic!("{name} is a oneOf without a discriminator");
        });
        let mapping = discriminator["mapping"].as_object().unwrap();
        assert_eq!(mapping.len(), variants.len(), "{name}");
        for variant in variants {
            let reference = variant["$ref"].as_str().unwrap();
            let (tag, _) = mapping
                .iter()
                .find(|(_, r)| r.as_str() == Some(reference))
                .unwrap_or_else(|| panic!("{name}: {reference} is not in the mapping"));
            let target = &schemas[reference.rsplit('/').next().unwrap()];
            let declared = target["allOf"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|part| part["properties"][property]["enum"].as_array())
                .unwrap();
            assert_eq!(
                declared,
                &vec![serde_json::json!(tag)],
                "{name}: {reference}"
            );
        }
    }
}

#[test]
fn every_response_declares_the_headers_authgate_really_sends() {
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    for (op_name, op) in operations(&spec) {
        let protected = op["security"].as_array().is_some_and(|s| !s.is_empty());
        for (status, response) in op["responses"].as_object().unwrap() {
            let headers = &response["headers"];
            assert!(
                headers["X-Request-Id"].is_object(),
                "{op_name} {status} lacks X-Request-Id"
            );
            if status == "429" || status == "503" {
                assert!(
                    headers["Retry-After"].is_object(),
                    "{op_name} {status} lacks Retry-After"
                );
            }
            if status == "401" && protected {
                assert!(
                    headers["WWW-Authenticate"].is_object(),
                    "{op_name} 401 lacks WWW-Authenticate"
                );
            }
        }
    }
}

#[test]
fn every_operation_shows_an_example_of_its_request_body_and_main_response() {
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let has_example = |content: &serde_json::Value| {
        content.as_object().unwrap().values().all(|media| {
            media.get("example").is_some()
                || media["examples"].as_object().is_some_and(|e| !e.is_empty())
        })
    };
    for (op_name, op) in operations(&spec) {
        if let Some(body) = op.get("requestBody") {
            assert!(
                has_example(&body["content"]),
                "{op_name}: no request example (add its schema to crates/api/src/openapi_examples.json)"
            );
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            if let (true, Some(content)) = (status.starts_with('2'), response.get("content")) {
                assert!(
                    has_example(content),
                    "{op_name} {status}: no response example (add its schema to crates/api/src/openapi_examples.json)"
                );
            }
        }
    }
}

#[test]
fn signing_keys_and_audit_details_have_a_shape_generators_can_use() {
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let schemas = &spec["components"]["schemas"];
    assert_eq!(
        schemas["Jwks"]["properties"]["keys"]["items"]["$ref"],
        "#/components/schemas/Jwk"
    );
    for member in ["kty", "crv", "x", "y", "kid", "alg", "use"] {
        assert!(schemas["Jwk"]["properties"][member].is_object(), "{member}");
    }
    assert_eq!(
        schemas["AuditEventView"]["properties"]["details"]["additionalProperties"],
        true
    );
}

/// The declared `Jwk` schema, checked against what the server publishes
/// for both signing algorithms: every member is declared and every
/// required member is there, with one of the declared values.
#[tokio::test]
async fn the_published_keys_match_the_declared_jwk_schema_for_both_algorithms() {
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let jwk = &spec["components"]["schemas"]["Jwk"];
    for alg in ["EdDSA", "ES256"] {
        let app = crate::helpers::spawn_app_with(&[("AUTHGATE_SIGNING_ALG", alg)]).await;
        let jwks = app.get("/.well-known/jwks.json", None).await.body;
        let key = jwks["keys"][0].as_object().unwrap();
        for (member, value) in key {
            let declared = &jwk["properties"][member];
            assert!(declared.is_object(), "{alg}: `{member}` is not declared");
            if let Some(allowed) = declared["enum"].as_array() {
                assert!(allowed.contains(value), "{alg}: {member} = {value}");
            }
        }
        for required in jwk["required"].as_array().unwrap() {
            assert!(
                key.contains_key(required.as_str().unwrap()),
                "{alg}: {required}"
            );
        }
    }
}

/// The headers the spec declares are the ones a client really gets.
#[tokio::test]
async fn a_refused_bearer_request_carries_the_declared_headers() {
    let app = crate::helpers::spawn_app().await;
    let res = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert!(!res.headers()["x-request-id"].is_empty());
}

#[test]
fn every_timestamp_is_declared_as_a_date_time() {
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let mut seen = 0;
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        for (property, declared) in properties {
            let timestamp = property == "at"
                || property.ends_with("_at")
                || property.ends_with("_since")
                || property.ends_with("deadline");
            if timestamp {
                seen += 1;
                assert_eq!(declared["format"], "date-time", "{name}.{property}");
            }
        }
    }
    assert!(seen > 20, "only {seen} timestamps found");
}
