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
