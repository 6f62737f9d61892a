//! Password step details.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let unknown = app.login("nobody@acme.test", ADMIN_PASSWORD).await;
    let wrong = app.login(ADMIN_EMAIL, "not it").await;
    unknown.assert_problem(401, "invalid_credentials");
    wrong.assert_problem(401, "invalid_credentials");
    assert_eq!(unknown.body, wrong.body);
}

#[tokio::test]
async fn emails_are_matched_case_insensitively() {
    let app = spawn_app().await;
    let r = app.login("  ADMIN@Acme.Test ", ADMIN_PASSWORD).await;
    assert_eq!(r.assert_ok()["status"], "authenticated");
}

#[tokio::test]
async fn the_client_kind_is_recorded_and_defaults_to_api() {
    let app = spawn_app().await;
    app.post(
        "/v1/auth/login",
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "client": "extension"}),
        None,
    )
    .await
    .assert_ok();
    let token = app
        .post(
            "/v1/auth/login",
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            None,
        )
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&token)["client_id"], "api");
    let h = app.get("/v1/me/login-history", Some(&token)).await;
    let clients: Vec<_> = h.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["client"].clone())
        .collect();
    assert_eq!(clients, [json!("api"), json!("extension")]);
}

#[tokio::test]
async fn me_describes_the_user_and_organization() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let me = app.get("/v1/me", Some(&token)).await;
    let me = me.assert_ok();
    assert_eq!(me["id"], app.acme_admin_id);
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["organization"]["id"], app.acme_org_id);
    assert_eq!(me["organization"]["name"], "Acme");
    assert_eq!(
        me["two_factor"],
        json!({"status": "disabled", "enforced": false, "enforced_by": null})
    );
}

#[tokio::test]
async fn a_missing_or_forged_bearer_token_is_refused() {
    let app = spawn_app().await;
    app.get("/v1/me", None)
        .await
        .assert_problem(401, "unauthorized");
    app.get("/v1/me", Some("not-a-jwt"))
        .await
        .assert_problem(401, "unauthorized");
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[2] = "AAAA";
    app.get("/v1/me", Some(&parts.join(".")))
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn a_code_that_is_not_six_digits_is_rejected_before_any_lookup() {
    let app = spawn_app().await;
    for bad in ["12345", "1234567", "abcdef", ""] {
        app.post(
            "/v1/auth/otp",
            json!({"challenge_token": "ch_whatever", "code": bad}),
            None,
        )
        .await
        .assert_problem(400, "invalid_request");
    }
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": "ch_whatever", "code": "123456"}),
        None,
    )
    .await
    .assert_problem(401, "invalid_challenge");
}

#[tokio::test]
async fn a_challenge_dies_after_too_many_wrong_codes() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let challenge = r.body["challenge_token"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        app.post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": auth.wrong_code()}),
            None,
        )
        .await
        .assert_problem(401, "invalid_code");
    }
    let c = auth.fresh_code().await;
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": challenge, "code": c}),
        None,
    )
    .await
    .assert_problem(401, "invalid_challenge");
}
