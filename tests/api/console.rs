//! The web console at `/console/`: embedded files, served with a strict
//! Content-Security-Policy, revalidated by ETag, compressed on request.
//! Its behaviour in a browser is tested in tests/console (Playwright).

use std::collections::BTreeSet;

use api::console::{asset_names, CONTENT_SECURITY_POLICY};

use crate::helpers::*;

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn expected_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        other => panic!("unexpected console file type {other:?}"),
    }
}

#[tokio::test]
async fn the_console_page_is_served_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/console/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
    let csp = header(&res, "content-security-policy");
    assert_eq!(csp, CONTENT_SECURITY_POLICY);
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(header(&res, "x-frame-options"), "DENY");
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="js/app.js"></script>"#));
}

#[tokio::test]
async fn every_console_file_has_its_type_an_etag_and_is_revalidated() {
    let app = spawn_app().await;
    for name in asset_names() {
        let res = app
            .client
            .get(app.url(&format!("/console/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{name}");
        assert_eq!(header(&res, "content-type"), expected_type(name), "{name}");
        assert_eq!(header(&res, "cache-control"), "no-cache", "{name}");
        assert_eq!(
            header(&res, "content-security-policy"),
            CONTENT_SECURITY_POLICY
        );
        let etag = header(&res, "etag");
        assert!(etag.starts_with('"') && etag.len() > 10, "{name}: {etag}");

        let again = app
            .client
            .get(app.url(&format!("/console/{name}")))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{name}");
        assert_eq!(header(&again, "etag"), etag);
        assert!(again.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn console_files_are_compressed_for_browsers_that_accept_it() {
    let app = spawn_app().await;
    for (accept, encoding) in [("br", "br"), ("gzip", "gzip")] {
        let res = app
            .client
            .get(app.url("/console/js/organization.js"))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "content-encoding"), encoding);
    }
    let plain = app
        .client
        .get(app.url("/console/js/organization.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&plain, "content-encoding"), "");
}

#[tokio::test]
async fn the_bare_console_path_redirects_to_the_page_and_unknown_files_are_404() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(app.url("/console")).send().await.unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(header(&res, "location"), "/console/");

    app.get("/console/js/missing.js", None)
        .await
        .assert_problem(404, "not_found");
}

/// Every file the page or a module refers to is one the binary embeds,
/// so a module added without its line in `console.rs` fails here rather
/// than in a browser.
#[test]
fn every_file_the_console_refers_to_is_embedded() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
    let embedded: BTreeSet<&str> = asset_names().collect();
    let mut referred = BTreeSet::new();
    let html = std::fs::read_to_string(root.join("index.html")).unwrap();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let target = part.split('"').next().unwrap();
            if !target.starts_with('#') {
                referred.insert(target.to_owned());
            }
        }
    }
    for name in embedded.iter().filter(|n| n.ends_with(".js")) {
        let js = std::fs::read_to_string(root.join(name)).unwrap();
        for quote in ["\"./", "'./"] {
            for part in js.split(quote).skip(1) {
                let target = part.split(['"', '\'']).next().unwrap();
                referred.insert(format!("js/{target}"));
            }
        }
    }
    for file in &referred {
        assert!(embedded.contains(file.as_str()), "{file} is not embedded");
    }
    let on_disk = std::fs::read_dir(root.join("js")).unwrap().count();
    let embedded_js = embedded.iter().filter(|n| n.starts_with("js/")).count();
    assert_eq!(
        on_disk, embedded_js,
        "a file under console/js is not embedded"
    );
}

#[test]
fn the_console_offers_exactly_the_webhook_types_the_server_sends() {
    let script = include_str!("../../crates/api/console/js/webhooks.js");
    let start = script.find("const EVENTS = [").expect("the EVENTS list");
    let end = start + script[start..].find("];").expect("its end");
    let offered: Vec<&str> = script[start..end].split('"').skip(1).step_by(2).collect();
    assert_eq!(offered, auth_core::events::webhook_types());
}
