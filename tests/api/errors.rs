//! Bad input: always a 4xx problem+json, never a 500, nothing written.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_missing_fields_and_wrong_types_are_400_problems() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cases = [
        app.send(
            app.client
                .post(app.url("/v1/auth/login"))
                .header("content-type", "application/json")
                .body("{\"email\":"),
        )
        .await,
        app.post("/v1/auth/login", json!({"email": ADMIN_EMAIL}), None)
            .await,
        app.post(
            "/v1/auth/login",
            json!({"email": 42, "password": "x"}),
            None,
        )
        .await,
        app.post(
            "/v1/auth/login",
            json!({"email": ADMIN_EMAIL, "password": "x", "client": "desktop"}),
            None,
        )
        .await,
        app.post(
            "/v1/auth/login",
            json!({"email": "not-an-email", "password": "x"}),
            None,
        )
        .await,
        app.post("/v1/auth/login", json!([1, 2, 3]), None).await,
        app.post(
            "/v1/auth/login",
            json!({"email": ADMIN_EMAIL, "password": "x", "extra": true}),
            None,
        )
        .await,
        app.post(
            "/v1/auth/otp",
            json!({"challenge_token": null, "code": "123456"}),
            None,
        )
        .await,
        app.post("/v1/auth/refresh", json!({}), None).await,
        // A struct's fields given by position are not an object.
        app.post("/v1/auth/refresh", json!(["rt_x"]), None).await,
        app.post(
            "/v1/auth/login",
            json!([ADMIN_EMAIL, ADMIN_PASSWORD, "web"]),
            None,
        )
        .await,
        app.patch(
            "/v1/organization",
            json!(["required_for_all", 5]),
            Some(&admin),
        )
        .await,
    ];
    for r in cases {
        r.assert_problem(400, "invalid_request");
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    let app = spawn_app().await;
    let big = json!({"email": ADMIN_EMAIL, "password": "x".repeat(70 * 1024)});
    app.post("/v1/auth/login", big, None)
        .await
        .assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn a_non_json_body_is_refused_with_415() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .post(app.url("/v1/auth/login"))
                .header("content-type", "text/plain")
                .body("hello"),
        )
        .await;
    r.assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let r = app.client.put(app.url("/v1/users/x")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["allow"], "GET, PATCH, DELETE");
    app.get("/v1/nothing", None)
        .await
        .assert_problem(404, "not_found");
    app.get("/v1/auth/login", None)
        .await
        .assert_problem(405, "method_not_allowed");
}

#[tokio::test]
async fn nothing_is_written_for_a_rejected_request() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let before = app.get("/v1/me/login-history", Some(&token)).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    app.post("/v1/auth/login", json!({"email": ADMIN_EMAIL}), None)
        .await
        .assert_problem(400, "invalid_request");
    app.post(
        "/v1/auth/login",
        json!({"email": ADMIN_EMAIL, "password": "x".repeat(70 * 1024)}),
        None,
    )
    .await
    .assert_problem(413, "payload_too_large");
    let after = app.get("/v1/me/login-history", Some(&token)).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
}

#[tokio::test]
async fn health_and_docs_are_served_without_a_database_call_or_internet() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.assert_ok()["status"], "ok");
    assert_eq!(
        app.get("/readyz", None).await.assert_ok()["status"],
        "ready"
    );
    let docs = app.send(app.client.get(app.url("/docs/"))).await;
    assert_eq!(docs.status.as_u16(), 200);
    assert!(
        docs.body.as_str().unwrap().contains("swagger"),
        "Swagger UI is served from the binary"
    );
    let spec = app.get("/openapi.json", None).await;
    assert_eq!(spec.assert_ok()["info"]["title"], "Authgate");
}
