//! Admins see when each user last signed in (the console's users list).

use serde_json::json;

use crate::helpers::*;

async fn last_login_of(app: &TestApp, admin: &str, email: &str) -> serde_json::Value {
    let list = app.get("/v1/users?limit=100", Some(admin)).await;
    list.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap()["last_login_at"]
        .clone()
}

#[tokio::test]
async fn a_user_who_never_signed_in_has_no_last_login_and_a_signed_in_one_has_its_time() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.post(
        "/v1/users",
        json!({"email": "ana@acme.test", "name": "Ana", "role": "agent", "password": "ana password 1"}),
        Some(&admin),
    )
    .await;
    assert_eq!(
        last_login_of(&app, &admin, "ana@acme.test").await,
        serde_json::Value::Null
    );

    // A wrong password is not a sign-in.
    app.login("ana@acme.test", "not her password").await;
    assert_eq!(
        last_login_of(&app, &admin, "ana@acme.test").await,
        serde_json::Value::Null
    );

    app.login("ana@acme.test", "ana password 1")
        .await
        .assert_ok();
    let at = last_login_of(&app, &admin, "ana@acme.test").await;
    let at = at.as_str().expect("an RFC 3339 time after signing in");
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
}

#[tokio::test]
async fn a_password_accepted_while_a_code_is_still_owed_is_not_a_sign_in() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let admin = login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut auth).await;
    let admin = admin["access_token"].as_str().unwrap().to_owned();
    let before = last_login_of(&app, &admin, ADMIN_EMAIL).await;

    app.clock.advance(std::time::Duration::from_secs(60));
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.assert_ok()["status"], "otp_required");
    assert_eq!(last_login_of(&app, &admin, ADMIN_EMAIL).await, before);
}
