//! Issue #12, findings 3 and 4: a stolen access token alone cannot change
//! who gets into the account, and password checks behind a token are
//! limited, recorded, and end the session after five failures.

use serde_json::{json, Value};

use crate::helpers::*;

async fn history(app: &TestApp, token: &str, n: usize) -> Vec<Value> {
    let r = app
        .get(&format!("/v1/me/login-history?limit={n}"), Some(token))
        .await;
    r.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].clone())
        .collect()
}

#[tokio::test]
async fn a_stolen_access_token_alone_cannot_start_enrolling_an_authenticator() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.post("/v1/me/two-factor/enrollment", json!({}), Some(&token))
        .await
        .assert_problem(400, "invalid_request");
    app.post(
        "/v1/me/two-factor/enrollment",
        json!({"password": "a guess"}),
        Some(&token),
    )
    .await
    .assert_problem(401, "invalid_password");
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me.assert_ok()["two_factor"]["status"], "disabled");
    let r = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    assert!(r.assert_ok()["secret"].is_string());
}

#[tokio::test]
async fn password_guesses_behind_a_token_are_recorded_and_the_fifth_ends_the_session() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let change = |password: &str| json!({"current_password": password, "new_password": "attacker's password"});
    for n in 1..=4 {
        app.post(
            "/v1/me/password",
            change(&format!("guess {n}")),
            Some(&token),
        )
        .await
        .assert_problem(401, "invalid_password");
    }
    assert_eq!(
        history(&app, &token, 4).await,
        vec![json!("wrong_password"); 4]
    );
    let audit = app.get("/v1/audit-events?limit=4", Some(&token)).await;
    for e in audit.assert_ok()["items"].as_array().unwrap() {
        assert_eq!(e["action"], "user.step_up_failed", "{e}");
        assert_eq!(e["details"]["reason"], "wrong_password");
    }
    // The fifth failure ends the session: even the right password is too late.
    app.post("/v1/me/password", change("guess 5"), Some(&token))
        .await
        .assert_problem(401, "invalid_password");
    app.get("/v1/me", Some(&token))
        .await
        .assert_problem(401, "unauthorized");
    app.post("/v1/me/password", change(ADMIN_PASSWORD), Some(&token))
        .await
        .assert_problem(401, "unauthorized");
    // The owner's password is unchanged, and the audit log says why the
    // session ended.
    let owner = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let audit = app.get("/v1/audit-events?limit=1", Some(&owner)).await;
    let last = &audit.assert_ok()["items"][0];
    assert_eq!(last["action"], "user.step_up_failed");
    assert_eq!(last["details"]["session_ended"], true);
}

#[tokio::test]
async fn with_two_factor_on_a_change_needs_a_current_code_or_a_recovery_code() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let tokens = login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut auth).await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();

    // The password alone is not enough; that is not counted as a failure.
    let r = app
        .post(
            "/v1/me/two-factor/recovery-codes",
            json!({"password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    r.assert_problem(403, "step_up_required");
    app.post(
        "/v1/me/two-factor/recovery-codes",
        json!({"password": ADMIN_PASSWORD, "code": auth.wrong_code()}),
        Some(&token),
    )
    .await
    .assert_problem(401, "invalid_code");
    assert_eq!(history(&app, &token, 1).await, [json!("wrong_code")]);

    // A recovery code works instead of a code, once.
    let r = app
        .post(
            "/v1/me/two-factor/recovery-codes",
            json!({"password": ADMIN_PASSWORD, "code": auth.fresh_code().await}),
            Some(&token),
        )
        .await;
    let codes = r.assert_ok()["recovery_codes"].as_array().unwrap().clone();
    let rc = codes[0].as_str().unwrap();
    let body = |rc: &str| json!({"current_password": ADMIN_PASSWORD, "new_password": "a brand new password", "recovery_code": rc});
    let r = app.post("/v1/me/password", body(rc), Some(&token)).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let r = app
        .post(
            "/v1/me/password",
            json!({"current_password": "a brand new password", "new_password": "another password", "recovery_code": rc}),
            Some(&token),
        )
        .await;
    r.assert_problem(401, "invalid_code");
    // A current code from the app: 2FA turns off.
    let r = app
        .post(
            "/v1/me/two-factor/disable",
            json!({"password": "a brand new password", "code": auth.fresh_code().await}),
            Some(&token),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "disabled");
}

#[tokio::test]
async fn ending_another_session_needs_the_password_but_logging_out_this_one_does_not() {
    let app = spawn_app().await;
    let phone = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let laptop = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let sid = |t: &str| claims(t)["sid"].as_str().unwrap().to_owned();
    let delete = |id: String, token: &str, body: Option<Value>| {
        let mut req = app
            .client
            .delete(app.url(&format!("/v1/me/sessions/{id}")))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        app.send(req)
    };
    delete(sid(&phone), &laptop, None)
        .await
        .assert_problem(403, "step_up_required");
    delete(sid(&phone), &laptop, Some(json!({"password": "guess"})))
        .await
        .assert_problem(401, "invalid_password");
    app.get("/v1/me", Some(&phone)).await.assert_ok();
    let r = delete(
        sid(&phone),
        &laptop,
        Some(json!({"password": ADMIN_PASSWORD})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 204);
    app.get("/v1/me", Some(&phone))
        .await
        .assert_problem(401, "unauthorized");
    let r = delete(sid(&laptop), &laptop, None).await;
    assert_eq!(r.status.as_u16(), 204);
    app.get("/v1/me", Some(&laptop))
        .await
        .assert_problem(401, "unauthorized");
}
