//! Issue #12: "remember this device" — a device token earned with a code
//! stands in for the code at later logins, never for the password, and
//! dies with any change of the account's factors or password.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

/// Logs in with password and code, asking to remember the device; returns
/// the token body (with `device_token`).
async fn remembered_login(app: &TestApp, password: &str, auth: &mut Authenticator) -> Value {
    let r = app.login(ADMIN_EMAIL, password).await;
    assert_eq!(r.assert_ok()["status"], "otp_required", "{}", r.body);
    let code = auth.fresh_code().await;
    let r = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": r.body["challenge_token"], "code": code, "remember_device": true}),
            None,
        )
        .await;
    assert_eq!(r.assert_ok()["amr"], json!(["pwd", "otp"]));
    r.body.clone()
}

async fn login_with_device(app: &TestApp, password: &str, device: &Value) -> Reply {
    app.post(
        "/v1/auth/login",
        json!({"email": ADMIN_EMAIL, "password": password, "device_token": device}),
        None,
    )
    .await
}

#[tokio::test]
async fn a_remembered_device_skips_the_code_but_never_the_password() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    // Without asking, no device token.
    let plain = login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut auth).await;
    assert!(plain.get("device_token").is_none(), "{plain}");

    let tokens = remembered_login(&app, ADMIN_PASSWORD, &mut auth).await;
    let device = tokens["device_token"].clone();
    assert!(device.as_str().unwrap().starts_with("dt_"), "{tokens}");
    let stored = String::from_utf8_lossy(&app.database_contents()).into_owned();
    assert!(
        !stored.contains(device.as_str().unwrap()),
        "the database holds only a hash of the device token"
    );

    let r = login_with_device(&app, ADMIN_PASSWORD, &device).await;
    assert_eq!(r.assert_ok()["status"], "authenticated", "{}", r.body);
    assert_eq!(r.body["amr"], json!(["pwd", "device"]));
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&access)["amr"], json!(["pwd", "device"]));
    // The session it opened refreshes like one that proved a code.
    let refreshed = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": r.body["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(refreshed.status.as_u16(), 200, "{}", refreshed.body);

    login_with_device(&app, "not the password", &device)
        .await
        .assert_problem(401, "invalid_credentials");
    let junk = json!("dt_not-a-device-of-anybody");
    assert_eq!(
        login_with_device(&app, ADMIN_PASSWORD, &junk).await.body["status"],
        "otp_required"
    );
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body["status"],
        "otp_required",
        "other devices still need the code"
    );

    // Strangers' wrong codes make the code step wait; the known device does not.
    for _ in 0..8 {
        let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        app.post(
            "/v1/auth/otp",
            json!({"challenge_token": r.body["challenge_token"], "code": auth.wrong_code()}),
            None,
        )
        .await;
    }
    let r = login_with_device(&app, ADMIN_PASSWORD, &device).await;
    assert_eq!(r.assert_ok()["status"], "authenticated", "{}", r.body);

    let history = app.get("/v1/me/login-history?limit=1", Some(&access)).await;
    assert_eq!(
        history.assert_ok()["items"][0]["outcome"],
        "remembered_device"
    );

    // The owner sees the device and forgets it.
    let list = app.get("/v1/me/devices", Some(&access)).await;
    let items = list.assert_ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", list.body);
    assert!(items[0]["last_used_at"].is_string());
    assert!(
        !list.body.to_string().contains("dt_"),
        "the token is never shown again"
    );
    let id = items[0]["id"].as_str().unwrap();
    let forget = |bearer: String| {
        let url = app.url(&format!("/v1/me/devices/{id}"));
        let client = app.client.clone();
        async move { client.delete(url).bearer_auth(bearer).send().await.unwrap() }
    };
    assert_eq!(forget(access.clone()).await.status().as_u16(), 204);
    assert_eq!(forget(access.clone()).await.status().as_u16(), 404);
    assert_eq!(
        login_with_device(&app, ADMIN_PASSWORD, &device).await.body["status"],
        "otp_required"
    );
}

#[tokio::test]
async fn remembered_devices_die_when_the_password_or_two_factor_changes() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;

    let tokens = remembered_login(&app, ADMIN_PASSWORD, &mut auth).await;
    let device = tokens["device_token"].clone();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let code = auth.fresh_code().await;
    let r = app
        .post(
            "/v1/me/password",
            json!({"current_password": ADMIN_PASSWORD, "new_password": "a brand new password", "code": code}),
            Some(&access),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(
        login_with_device(&app, "a brand new password", &device)
            .await
            .body["status"],
        "otp_required",
        "a password change forgets every device"
    );

    let tokens = remembered_login(&app, "a brand new password", &mut auth).await;
    let device = tokens["device_token"].clone();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let code = auth.fresh_code().await;
    let r = app
        .post(
            "/v1/me/two-factor/disable",
            json!({"password": "a brand new password", "code": code}),
            Some(&access),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "disabled");
    // 2FA on again: the old device is no factor of the new authenticator.
    enable_two_factor(&app, &access, "a brand new password").await;
    assert_eq!(
        login_with_device(&app, "a brand new password", &device)
            .await
            .body["status"],
        "otp_required",
        "disabling 2FA forgets every device"
    );
    assert_eq!(
        app.get("/v1/me/devices", Some(&access)).await.assert_ok()["items"],
        json!([])
    );
}

#[tokio::test]
async fn an_organization_can_turn_remembering_off_or_shorten_it() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let tokens = remembered_login(&app, ADMIN_PASSWORD, &mut auth).await;
    let device = tokens["device_token"].clone();
    let admin = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/v1/organization", Some(&admin)).await.assert_ok()["remember_device_days"],
        30
    );

    app.patch(
        "/v1/organization",
        json!({"remember_device_days": 31}),
        Some(&admin),
    )
    .await
    .assert_problem(400, "invalid_request");
    let off = app
        .patch(
            "/v1/organization",
            json!({"remember_device_days": 0}),
            Some(&admin),
        )
        .await;
    assert_eq!(off.assert_ok()["remember_device_days"], 0);
    assert_eq!(
        login_with_device(&app, ADMIN_PASSWORD, &device).await.body["status"],
        "otp_required",
        "off: no device skips the code"
    );
    let none = remembered_login(&app, ADMIN_PASSWORD, &mut auth).await;
    assert!(none.get("device_token").is_none(), "{none}");

    app.patch(
        "/v1/organization",
        json!({"remember_device_days": 7}),
        Some(&admin),
    )
    .await
    .assert_ok();
    let tokens = remembered_login(&app, ADMIN_PASSWORD, &mut auth).await;
    let week = tokens["device_token"].clone();
    assert_eq!(
        login_with_device(&app, ADMIN_PASSWORD, &week).await.body["status"],
        "authenticated"
    );
    let audit = app.get("/v1/audit-events?limit=1", Some(&admin)).await;
    assert_eq!(
        audit.assert_ok()["items"][0]["details"]["remember_device_days"],
        json!({"from": 0, "to": 7})
    );
    if app.clock.is_adjustable() {
        app.clock.advance(Duration::from_secs(8 * 24 * 3600));
        assert_eq!(
            login_with_device(&app, ADMIN_PASSWORD, &week).await.body["status"],
            "otp_required",
            "a week later the device is forgotten"
        );
    }
}
