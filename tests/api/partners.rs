//! Partners and standard clients: discovery, ES256, the refresh grace and
//! refresh error codes, API keys, introspection and revocation.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, OTHER_ADMIN_EMAIL,
    OTHER_ADMIN_PASSWORD,
};

fn header_of(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

/// Verifies `token` as a partner would: discovery → jwks_uri → the key
/// named by `kid`, with the algorithm the key declares.
async fn verify_through_discovery(app: &TestApp, token: &str) -> Value {
    let discovery = app.get("/.well-known/openid-configuration", None).await;
    let discovery = discovery.assert_ok().clone();
    let issuer = discovery["issuer"].as_str().unwrap();
    let jwks_path = discovery["jwks_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(issuer)
        .expect("the JWKS lives under the issuer");
    let jwks = app.get(jwks_path, None).await.assert_ok().clone();
    let kid = header_of(token)["kid"].as_str().unwrap().to_owned();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the token's key is published")
            .clone(),
    )
    .unwrap();
    let alg: jsonwebtoken::Algorithm = jwk
        .common
        .key_algorithm
        .unwrap()
        .to_string()
        .parse()
        .unwrap();
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.set_audience(&["authgate"]);
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
        &validation,
    )
    .expect("the token verifies with the published key")
    .claims
}

#[tokio::test]
async fn discovery_names_the_issuer_every_token_carries_and_the_endpoints() {
    let app = spawn_app_with(&[("AUTHGATE_ISSUER", "https://auth.acme.test/")]).await;
    let d = app.get("/.well-known/openid-configuration", None).await;
    let d = d.assert_ok();
    assert_eq!(d["issuer"], "https://auth.acme.test");
    assert_eq!(
        d["jwks_uri"],
        "https://auth.acme.test/.well-known/jwks.json"
    );
    assert_eq!(
        d["introspection_endpoint"],
        "https://auth.acme.test/v1/oauth/introspect"
    );
    assert_eq!(
        d["revocation_endpoint"],
        "https://auth.acme.test/v1/oauth/revoke"
    );
    assert_eq!(
        d["token_endpoint"],
        "https://auth.acme.test/v1/auth/refresh"
    );
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["EdDSA"]));
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let claims = verify_through_discovery(&app, &token).await;
    assert_eq!(claims["iss"], "https://auth.acme.test");
}

#[tokio::test]
async fn es256_tokens_verify_through_discovery_and_declare_their_algorithm() {
    let app = spawn_app_with(&[("AUTHGATE_SIGNING_ALG", "ES256")]).await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(header_of(&token)["alg"], "ES256");
    let jwks = app.get("/.well-known/jwks.json", None).await;
    let key = &jwks.assert_ok()["keys"][0];
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (
            &json!("EC"),
            &json!("P-256"),
            &json!("ES256"),
            &json!("sig")
        )
    );
    assert!(key.get("d").is_none(), "no private part");
    let d = app.get("/.well-known/openid-configuration", None).await;
    assert_eq!(
        d.assert_ok()["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    verify_through_discovery(&app, &token).await;
    app.get("/v1/me", Some(&token)).await.assert_ok();
}

fn refresh_body(t: &Value) -> Value {
    json!({"refresh_token": t["refresh_token"]})
}

#[tokio::test]
async fn a_refresh_token_presented_again_within_the_grace_returns_the_same_successor() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let second = app
        .post("/v1/auth/refresh", refresh_body(&first), None)
        .await;
    let second = second.assert_ok().clone();
    // The response was lost; the client retries a few seconds later.
    app.clock.advance(Duration::from_secs(10));
    let retried = app
        .post("/v1/auth/refresh", refresh_body(&first), None)
        .await;
    let retried = retried.assert_ok().clone();
    assert_eq!(retried["refresh_token"], second["refresh_token"]);
    app.get("/v1/me", retried["access_token"].as_str())
        .await
        .assert_ok();
    // The successor goes on working and rotates as usual.
    let third = app
        .post("/v1/auth/refresh", refresh_body(&second), None)
        .await;
    assert_ne!(third.assert_ok()["refresh_token"], second["refresh_token"]);
    // The sealed successor is not stored in plain text.
    let needle = second["refresh_token"].as_str().unwrap().as_bytes();
    assert!(!app
        .database_contents()
        .windows(needle.len())
        .any(|w| w == needle));
}

#[tokio::test]
async fn outside_the_grace_a_reused_refresh_token_revokes_the_session() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let second = app
        .post("/v1/auth/refresh", refresh_body(&first), None)
        .await
        .assert_ok()
        .clone();
    app.clock.advance(Duration::from_secs(21));
    app.post("/v1/auth/refresh", refresh_body(&first), None)
        .await
        .assert_problem(401, "session_revoked");
    app.post("/v1/auth/refresh", refresh_body(&second), None)
        .await
        .assert_problem(401, "session_revoked");
}

#[tokio::test]
async fn an_older_refresh_token_gets_no_grace_even_within_the_window() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let second = app
        .post("/v1/auth/refresh", refresh_body(&first), None)
        .await;
    let second = second.assert_ok().clone();
    app.post("/v1/auth/refresh", refresh_body(&second), None)
        .await
        .assert_ok();
    // `first` is two rotations old: only the latest predecessor has grace.
    app.post("/v1/auth/refresh", refresh_body(&first), None)
        .await
        .assert_problem(401, "session_revoked");
}

#[tokio::test]
async fn refresh_failures_say_why() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": "rt_nonsense"}),
            None,
        )
        .await;
    r.assert_problem(401, "refresh_token_invalid");

    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    app.post(
        "/v1/auth/logout",
        json!({}),
        tokens["access_token"].as_str(),
    )
    .await;
    let r = app
        .post("/v1/auth/refresh", refresh_body(&tokens), None)
        .await;
    r.assert_problem(401, "session_revoked");

    // A password-only session, then the organization requires 2FA of all
    // with a day's grace, and the day passes.
    let session = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let admin = session["access_token"].as_str().unwrap();
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_all", "grace_period_hours": 24}),
        Some(admin),
    )
    .await
    .assert_ok();
    app.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let r = app
        .post("/v1/auth/refresh", refresh_body(&session), None)
        .await;
    r.assert_problem(401, "second_factor_now_required");
}

async fn create_key(app: &TestApp, admin: &str, scopes: Value) -> Value {
    let r = app
        .post(
            "/v1/organization/api-keys",
            json!({"name": "Helpdesk sync", "scopes": scopes}),
            Some(admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body
}

#[tokio::test]
async fn an_api_key_is_shown_once_stored_hashed_and_listed_without_the_key() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let created = create_key(&app, &admin, json!(["users:read"])).await;
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("agk_") && key.len() > 40, "{key}");
    assert_eq!(created["scopes"], json!(["users:read"]));
    let list = app.get("/v1/organization/api-keys", Some(&admin)).await;
    let item = &list.assert_ok()["items"][0];
    assert_eq!(item["id"], created["id"]);
    assert_eq!(item["name"], "Helpdesk sync");
    assert!(item.get("key").is_none());
    assert!(item["last_used_at"].is_null());
    assert!(!app
        .database_contents()
        .windows(key.len())
        .any(|w| w == key.as_bytes()));
    app.get("/v1/users", Some(key)).await.assert_ok();
    let list = app.get("/v1/organization/api-keys", Some(&admin)).await;
    assert!(list.assert_ok()["items"][0]["last_used_at"].is_string());
    let log = app.get("/v1/audit-events?limit=5", Some(&admin)).await;
    assert!(log.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "api_key.created"));
}

#[tokio::test]
async fn an_api_key_reads_only_what_its_scopes_allow() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let users = create_key(&app, &admin, json!(["users:read"])).await;
    let users = users["key"].as_str().unwrap();
    let audit = create_key(&app, &admin, json!(["audit:read"])).await;
    let audit = audit["key"].as_str().unwrap();

    app.get("/v1/users", Some(users)).await.assert_ok();
    app.get(&format!("/v1/users/{}", app.acme_admin_id), Some(users))
        .await
        .assert_ok();
    app.get("/v1/audit-events", Some(users))
        .await
        .assert_problem(403, "insufficient_scope");
    app.get("/v1/audit-events", Some(audit)).await.assert_ok();
    app.get("/v1/users", Some(audit))
        .await
        .assert_problem(403, "insufficient_scope");
    // Nothing else: not the admin's own account, no writes, no keys.
    app.get("/v1/me", Some(users))
        .await
        .assert_problem(401, "unauthorized");
    app.patch(
        &format!("/v1/users/{}", app.acme_admin_id),
        json!({"name": "x"}),
        Some(users),
    )
    .await
    .assert_problem(401, "unauthorized");
    app.get("/v1/organization/api-keys", Some(users))
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn an_api_key_sees_only_its_own_organization() {
    let app = spawn_app().await;
    let acme = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let key = create_key(&app, &acme, json!(["users:read"])).await;
    let key = key["key"].as_str().unwrap();
    let users = app.get("/v1/users", Some(key)).await;
    assert!(users.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["email"] != OTHER_ADMIN_EMAIL));
    let globex = app
        .access_token(OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD)
        .await;
    let me = app.get("/v1/me", Some(&globex)).await;
    let globex_admin = me.assert_ok()["id"].as_str().unwrap().to_owned();
    app.get(&format!("/v1/users/{globex_admin}"), Some(key))
        .await
        .assert_problem(404, "not_found");
    // Another organization's admin can neither list nor revoke it.
    let theirs = app.get("/v1/organization/api-keys", Some(&globex)).await;
    assert_eq!(theirs.assert_ok()["items"], json!([]));
}

#[tokio::test]
async fn revoked_expired_and_orphaned_keys_stop_working() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let created = create_key(&app, &admin, json!(["users:read"])).await;
    let key = created["key"].as_str().unwrap();
    let r = app
        .send(
            app.client
                .delete(app.url(&format!(
                    "/v1/organization/api-keys/{}",
                    created["id"].as_str().unwrap()
                )))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    app.get("/v1/users", Some(key))
        .await
        .assert_problem(401, "unauthorized");

    let expiring = app
        .post(
            "/v1/organization/api-keys",
            json!({"name": "short", "scopes": ["users:read"],
                   "expires_at": api::clock::rfc3339(app.clock.now().plus(Duration::from_secs(3600)))}),
            Some(&admin),
        )
        .await;
    let expiring = expiring.body["key"].as_str().unwrap().to_owned();
    app.get("/v1/users", Some(&expiring)).await.assert_ok();
    app.clock.advance(Duration::from_secs(3601));
    app.get("/v1/users", Some(&expiring))
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn a_key_never_outlives_its_creators_admin_rights() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // A second admin creates a key, then is demoted.
    let r = app
        .post(
            "/v1/users",
            json!({"email": "second@acme.test", "name": "Second", "role": "admin",
                   "password": "second admin password"}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let second_id = r.body["user"]["id"]
        .as_str()
        .or(r.body["id"].as_str())
        .unwrap()
        .to_owned();
    let second = app
        .access_token("second@acme.test", "second admin password")
        .await;
    let key = create_key(&app, &second, json!(["users:read"])).await;
    let key = key["key"].as_str().unwrap();
    app.get("/v1/users", Some(key)).await.assert_ok();
    app.patch(
        &format!("/v1/users/{second_id}"),
        json!({"role": "agent"}),
        Some(&admin),
    )
    .await
    .assert_ok();
    app.get("/v1/users", Some(key))
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn bad_key_requests_are_clear_problems() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for body in [
        json!({"name": "x", "scopes": []}),
        json!({"name": "x", "scopes": ["users:write"]}),
        json!({"name": "", "scopes": ["users:read"]}),
        json!({"name": "x", "scopes": ["users:read"], "expires_at": "tomorrow"}),
        json!({"name": "x", "scopes": ["users:read"], "expires_at": "2000-01-01T00:00:00Z"}),
    ] {
        app.post("/v1/organization/api-keys", body.clone(), Some(&admin))
            .await
            .assert_problem(400, "invalid_request");
    }
    let r = app
        .send(
            app.client
                .delete(app.url("/v1/organization/api-keys/no-such-key"))
                .bearer_auth(&admin),
        )
        .await;
    r.assert_problem(404, "not_found");
}

async fn introspect(app: &TestApp, key: Option<&str>, token: &str) -> crate::helpers::Reply {
    let mut req = app
        .client
        .post(app.url("/v1/oauth/introspect"))
        .form(&[("token", token)]);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    app.send(req).await
}

#[tokio::test]
async fn introspection_is_active_until_the_session_ends() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let key = create_key(&app, &admin, json!(["tokens:introspect"])).await;
    let key = key["key"].as_str().unwrap();
    let session = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let access = session["access_token"].as_str().unwrap();
    let refresh = session["refresh_token"].as_str().unwrap();

    let r = introspect(&app, Some(key), access).await;
    let body = r.assert_ok();
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "access_token");
    assert_eq!(body["sub"], app.acme_admin_id.as_str());
    let r = introspect(&app, Some(key), refresh).await;
    assert_eq!(r.assert_ok()["active"], true);
    assert_eq!(r.body["token_type"], "refresh_token");

    app.post("/v1/auth/logout", json!({}), Some(access)).await;
    for token in [access, refresh, "garbage"] {
        let r = introspect(&app, Some(key), token).await;
        assert_eq!(r.assert_ok(), &json!({"active": false}), "{token}");
    }
}

#[tokio::test]
async fn introspection_needs_a_key_with_its_scope_and_sees_one_organization() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let reader = create_key(&app, &admin, json!(["users:read"])).await;
    let introspector = create_key(&app, &admin, json!(["tokens:introspect"])).await;
    let introspector = introspector["key"].as_str().unwrap();
    introspect(&app, None, &admin)
        .await
        .assert_problem(401, "unauthorized");
    introspect(&app, Some(&admin), &admin)
        .await
        .assert_problem(401, "unauthorized");
    introspect(&app, reader["key"].as_str(), &admin)
        .await
        .assert_problem(403, "insufficient_scope");
    let globex = app
        .access_token(OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD)
        .await;
    let r = introspect(&app, Some(introspector), &globex).await;
    assert_eq!(r.assert_ok(), &json!({"active": false}));
    // Form-encoded only, and a token is required.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/oauth/introspect"))
                .bearer_auth(introspector)
                .json(&json!({"token": admin})),
        )
        .await;
    r.assert_problem(415, "unsupported_media_type");
    introspect(&app, Some(introspector), "")
        .await
        .assert_problem(400, "invalid_request");
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_session_and_always_answers_200() {
    let app = spawn_app().await;
    let session = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let revoke = |token: String| {
        app.send(
            app.client
                .post(app.url("/v1/oauth/revoke"))
                .form(&[("token", token)]),
        )
    };
    let r = revoke(session["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(r.status.as_u16(), 200);
    app.post("/v1/auth/refresh", refresh_body(&session), None)
        .await
        .assert_problem(401, "session_revoked");
    app.get("/v1/me", session["access_token"].as_str())
        .await
        .assert_problem(401, "unauthorized");
    for again in [session["refresh_token"].as_str().unwrap(), "rt_unknown"] {
        let r = revoke(again.to_owned()).await;
        assert_eq!(r.status.as_u16(), 200, "{again}");
    }
}
