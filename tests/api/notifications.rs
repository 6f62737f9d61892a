//! Security events reach the person: the outbox is delivered by email.
//! Without `AUTHGATE_SMTP_URL` each mail is an `.eml` file in
//! `<data dir>/mail/` (the SMTP path is covered by the Python suite with a
//! real SMTP server, `tests/interop/test_events.py`).

use std::time::Duration;

use serde_json::json;

use crate::helpers::{
    enable_two_factor, login_with_code, spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// A quick dispatcher so tests wait milliseconds, not seconds.
pub const FAST_OUTBOX: &[(&str, &str)] = &[
    ("AUTHGATE_OUTBOX_POLL_MS", "20"),
    ("AUTHGATE_OUTBOX_BACKOFF_MS", "20"),
    ("AUTHGATE_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("AUTHGATE_WEBHOOK_TIMEOUT_SECS", "2"),
];

/// The `.eml` files written so far.
fn mails(app: &TestApp) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(app.dir.path().join("mail")) else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect()
}

/// Waits (a bounded number of polls, not a timing assertion) until a mail
/// whose text contains `needle` exists.
pub async fn wait_for_mail(app: &TestApp, needle: &str) -> String {
    for _ in 0..500 {
        if let Some(m) = mails(app).into_iter().find(|m| unfold(m).contains(needle)) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no mail containing {needle:?}; mails: {:?}", mails(app));
}

/// The mail with quoted-printable soft line breaks joined.
fn unfold(mail: &str) -> String {
    mail.replace("=\r\n", "").replace("=\n", "")
}

#[tokio::test]
async fn enabling_two_factor_emails_the_user_without_any_secret() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    let secret = r.assert_ok()["secret"].as_str().unwrap().to_owned();
    let mut auth = app.authenticator(&secret);
    let code = auth.fresh_code().await;
    let r = app
        .post(
            "/v1/me/two-factor/enrollment/confirm",
            json!({"code": code}),
            Some(&token),
        )
        .await;
    let recovery: Vec<String> = r.assert_ok()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();

    let mail = wait_for_mail(&app, "Two-factor authentication was turned on").await;
    let text = unfold(&mail);
    assert!(text.contains(&format!("To: {ADMIN_EMAIL}")), "{text}");
    assert!(
        text.contains("Two-factor authentication is now on"),
        "{text}"
    );
    assert!(text.contains("When: "), "{text}");
    assert!(text.contains("Address: 127.0.0.1"), "{text}");
    assert!(text.contains("Client: authgate-tests/1.0"), "{text}");
    assert!(text.contains("If this was not you"), "{text}");
    assert!(text.contains("Message-ID: <"), "{text}");
    assert!(!text.contains(&secret), "the TOTP secret is never mailed");
    assert!(!text.contains(&code), "the code is never mailed");
    for rc in &recovery {
        assert!(
            !text.contains(rc.as_str()),
            "recovery codes are never mailed"
        );
    }
}

#[tokio::test]
async fn turning_two_factor_off_is_mailed_too_and_the_start_of_an_enrollment_is_not() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    wait_for_mail(&app, "Two-factor authentication was turned on").await;
    let tokens = login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut auth).await;
    let code = auth.fresh_code().await;
    let r = app
        .post(
            "/v1/me/two-factor/disable",
            json!({"password": ADMIN_PASSWORD, "code": code}),
            Some(tokens["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "disabled");
    wait_for_mail(&app, "Two-factor authentication was turned off").await;
    assert!(
        !mails(&app).iter().any(|m| m.contains("enrollment_started")),
        "starting an enrollment is not something people are mailed about"
    );
    assert_eq!(mails(&app).len(), 2);
}

#[tokio::test]
async fn metrics_show_the_outbox() {
    let mut settings = FAST_OUTBOX.to_vec();
    settings.push(("AUTHGATE_METRICS_LISTEN", "127.0.0.1:0"));
    let app = spawn_app_with(&settings).await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    wait_for_mail(&app, "Two-factor authentication was turned on").await;
    let text = app
        .client
        .get(format!("{}/metrics", app.metrics_base.as_deref().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("authgate_outbox_depth "), "{text}");
    assert!(text.contains("authgate_outbox_oldest_pending_age_seconds "));
    assert!(text.contains("authgate_outbox_deliveries{outcome=\"delivered\"} "));
}

/// Logs in through the trusted proxy, as if from `address`.
async fn login_from(app: &TestApp, address: &str, client: &str) -> serde_json::Value {
    let r = app
        .send(
            app.client
                .post(app.url("/v1/auth/login"))
                .header("X-Forwarded-For", address)
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "client": client})),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "authenticated", "{}", r.body);
    r.body
}

#[tokio::test]
async fn a_login_from_a_new_client_or_address_is_mailed_but_not_the_first_or_a_familiar_one() {
    let mut settings = FAST_OUTBOX.to_vec();
    settings.push(("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1/32"));
    let app = spawn_app_with(&settings).await;
    // The first login of the account, then the same place again: no notice.
    login_from(&app, "198.51.100.4", "web").await;
    login_from(&app, "198.51.100.4", "web").await;
    // A new address, then a new client kind from a known address.
    let tokens = login_from(&app, "203.0.113.9", "web").await;
    login_from(&app, "198.51.100.4", "mobile").await;

    let mail = wait_for_mail(&app, "Address: 203.0.113.9").await;
    let text = unfold(&mail);
    assert!(
        text.contains("Subject: Authgate: New sign-in to your account"),
        "{text}"
    );
    assert!(text.contains(&format!("To: {ADMIN_EMAIL}")), "{text}");
    assert!(text.contains("(the web client)"), "{text}");
    assert!(text.contains("When: "), "{text}");
    assert!(text.contains("change your password now"), "{text}");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert!(
        !text.contains(access) && !text.contains(refresh),
        "no token is mailed"
    );
    wait_for_mail(&app, "(the mobile client)").await;

    // Exactly those two, in the audit log (written with the login itself).
    let audit = app.get("/v1/audit-events?limit=100", Some(access)).await;
    let new_device: Vec<&serde_json::Value> = audit.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login.new_device")
        .collect();
    assert_eq!(new_device.len(), 2, "{new_device:?}");
    let addresses: Vec<&str> = new_device.iter().filter_map(|e| e["ip"].as_str()).collect();
    assert!(addresses.contains(&"203.0.113.9"), "{new_device:?}");
}
