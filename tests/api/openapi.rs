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
fn the_web_console_is_served_but_kept_out_of_the_spec() {
    // The console is HTML and scripts, not JSON API: it is routed by
    // `api::console::configure`, outside `ROUTES`, on purpose.
    let spec: serde_json::Value = serde_json::from_str(&spec_json().unwrap()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    let prefix = api::console::PREFIX;
    assert!(paths.keys().all(|p| !p.starts_with(prefix)));
    assert!(ROUTES.iter().all(|(_, p)| !p.starts_with(prefix)));
}
