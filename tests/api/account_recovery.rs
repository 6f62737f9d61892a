//! Nobody stays locked out, and no way back weakens the account: a
//! forgotten password is reset by email plus the second factor; invited
//! users choose their own password; admins send resets and never see one.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{
    helpers::*,
    notifications::{wait_for_mail, FAST_OUTBOX},
};

const AGENT_EMAIL: &str = "forgetful@acme.test";
const AGENT_PASSWORD: &str = "the agent's first password";
const NEW_PASSWORD: &str = "a brand new password";

async fn create_agent(app: &TestApp, admin: &str) -> String {
    let r = app
        .post(
            "/v1/users",
            json!({"email": AGENT_EMAIL, "name": "Forgetful Agent", "role": "agent", "password": AGENT_PASSWORD}),
            Some(admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body["user"]["id"].as_str().unwrap().to_owned()
}

/// The `.eml` files whose text contains `needle`.
fn mails_with(app: &TestApp, needle: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(app.dir.path().join("mail")) else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|m| m.replace("=\r\n", "").replace("=\n", ""))
        .filter(|m| m.contains(needle))
        .collect()
}

/// The `pr_…` token in a mail.
fn token_in(mail: &str) -> String {
    let start = mail.find("pr_").expect("a pr_ token in the mail");
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// Waits for a mail containing `needle` with a token not in `known`.
async fn new_token(app: &TestApp, needle: &str, known: &[&str]) -> String {
    for _ in 0..500 {
        if let Some(t) = mails_with(app, needle)
            .iter()
            .map(|m| token_in(m))
            .find(|t| !known.contains(&t.as_str()))
        {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no new mail containing {needle:?}");
}

async fn reset_token(app: &TestApp) -> String {
    new_token(app, "Reset your Authgate password", &[]).await
}

async fn confirm(app: &TestApp, body: Value) -> Reply {
    app.post("/v1/auth/password-reset/confirm", body, None)
        .await
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_email_and_every_session_ends() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    create_agent(&app, &admin).await;
    let old_session = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;

    let known = app
        .post(
            "/v1/auth/password-reset",
            json!({"email": AGENT_EMAIL}),
            None,
        )
        .await;
    let unknown = app
        .post(
            "/v1/auth/password-reset",
            json!({"email": "nobody@acme.test"}),
            None,
        )
        .await;
    assert_eq!(known.status.as_u16(), 202, "{}", known.body);
    assert_eq!(unknown.status.as_u16(), 202);
    assert_eq!(
        known.body, unknown.body,
        "known and unknown emails answer alike"
    );

    let token = reset_token(&app).await;
    assert!(token.len() >= 3 + 22, "at least 128 bits: {token}");
    let r = confirm(&app, json!({"token": token, "new_password": NEW_PASSWORD})).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);

    app.login(AGENT_EMAIL, AGENT_PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    assert_eq!(
        app.login(AGENT_EMAIL, NEW_PASSWORD).await.body["status"],
        "authenticated"
    );
    app.get("/v1/me", Some(&old_session))
        .await
        .assert_problem(401, "unauthorized");
    // Single use.
    confirm(
        &app,
        json!({"token": token, "new_password": "yet another password"}),
    )
    .await
    .assert_problem(400, "invalid_password_token");
    // The person is told.
    wait_for_mail(&app, "Your password was changed").await;
    assert!(mails_with(&app, "nobody@acme.test").is_empty());
}

#[tokio::test]
async fn a_reset_never_removes_the_second_factor() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    create_agent(&app, &admin).await;
    let agent = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    let mut authenticator = enable_two_factor(&app, &agent, AGENT_PASSWORD).await;
    let code = authenticator.fresh_code().await;
    let codes = app
        .post(
            "/v1/me/two-factor/recovery-codes",
            json!({"password": AGENT_PASSWORD, "code": code}),
            Some(&agent),
        )
        .await;
    let recovery = codes.assert_ok()["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();

    app.post(
        "/v1/auth/password-reset",
        json!({"email": AGENT_EMAIL}),
        None,
    )
    .await;
    let token = reset_token(&app).await;

    // Without the second factor: refused, and the token still works.
    confirm(&app, json!({"token": token, "new_password": NEW_PASSWORD}))
        .await
        .assert_problem(403, "second_factor_required");
    confirm(
        &app,
        json!({"token": token, "new_password": NEW_PASSWORD, "code": authenticator.wrong_code()}),
    )
    .await
    .assert_problem(401, "invalid_code");
    let code = authenticator.fresh_code().await;
    let r = confirm(
        &app,
        json!({"token": token, "new_password": NEW_PASSWORD, "code": code}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);

    // 2FA is still on: the new password alone is not enough.
    let login = app.login(AGENT_EMAIL, NEW_PASSWORD).await;
    assert_eq!(login.body["status"], "otp_required", "{}", login.body);

    // A recovery code proves the second factor too.
    {
        app.post(
            "/v1/auth/password-reset",
            json!({"email": AGENT_EMAIL}),
            None,
        )
        .await;
        let second = new_token(&app, "Reset your Authgate password", &[&token]).await;
        let r = confirm(
            &app,
            json!({"token": second, "new_password": AGENT_PASSWORD, "recovery_code": recovery}),
        )
        .await;
        assert_eq!(r.status.as_u16(), 204, "{}", r.body);
        assert_eq!(
            app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body["status"],
            "otp_required"
        );
    }
}

#[tokio::test]
async fn an_invited_user_sets_their_own_password_and_the_admin_never_sees_one() {
    let app = spawn_app_with(&[
        ("AUTHGATE_ADMIN_SET_PASSWORDS", "false"),
        ("AUTHGATE_OUTBOX_POLL_MS", "20"),
    ])
    .await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Admins do not choose passwords by default.
    app.post(
        "/v1/users",
        json!({"email": AGENT_EMAIL, "name": "Invited", "role": "agent", "password": AGENT_PASSWORD}),
        Some(&admin),
    )
    .await
    .assert_problem(400, "invalid_request");
    let r = app
        .post(
            "/v1/users",
            json!({"email": AGENT_EMAIL, "name": "Invited", "role": "agent", "require_two_factor": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(r.body["invitation_sent"], true);
    assert!(r.body.get("generated_password").is_none(), "{}", r.body);
    let id = r.body["user"]["id"].as_str().unwrap().to_owned();

    let token = new_token(&app, "You are invited to Authgate", &[]).await;
    let r = confirm(&app, json!({"token": token, "new_password": NEW_PASSWORD})).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    // Required 2FA still sends the new user to enrollment first.
    let login = app.login(AGENT_EMAIL, NEW_PASSWORD).await;
    assert_eq!(
        login.body["status"], "enrollment_required",
        "{}",
        login.body
    );
    // Accepted: no second invitation.
    app.post(
        &format!("/v1/users/{id}/invitation"),
        json!({}),
        Some(&admin),
    )
    .await
    .assert_problem(409, "invitation_accepted");
}

#[tokio::test]
async fn an_invitation_expires_and_a_resent_one_replaces_it() {
    let app = spawn_app_with(&[
        ("AUTHGATE_ADMIN_SET_PASSWORDS", "false"),
        ("AUTHGATE_OUTBOX_POLL_MS", "20"),
    ])
    .await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = app
        .post(
            "/v1/users",
            json!({"email": AGENT_EMAIL, "name": "Invited", "role": "agent"}),
            Some(&admin),
        )
        .await;
    let id = r.body["user"]["id"].as_str().unwrap().to_owned();
    let first = new_token(&app, "You are invited to Authgate", &[]).await;

    app.clock.advance(Duration::from_secs(7 * 86400 + 1));
    confirm(&app, json!({"token": first, "new_password": NEW_PASSWORD}))
        .await
        .assert_problem(400, "invalid_password_token");

    // A week later the admin signs in again and sends a new one.
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = app
        .post(
            &format!("/v1/users/{id}/invitation"),
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let second = new_token(&app, "You are invited to Authgate", &[&first]).await;
    let r = confirm(&app, json!({"token": second, "new_password": NEW_PASSWORD})).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    assert_eq!(
        app.login(AGENT_EMAIL, NEW_PASSWORD).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn an_admin_sends_a_reset_and_only_within_their_organization() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let id = create_agent(&app, &admin).await;
    let other = app
        .access_token(OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD)
        .await;
    app.post(
        &format!("/v1/users/{id}/password-reset"),
        json!({}),
        Some(&other),
    )
    .await
    .assert_problem(404, "not_found");

    let r = app
        .post(
            &format!("/v1/users/{id}/password-reset"),
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    assert!(
        !r.body.to_string().contains("pr_"),
        "the admin never sees the token"
    );
    let token = reset_token(&app).await;
    let r = confirm(&app, json!({"token": token, "new_password": NEW_PASSWORD})).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    assert_eq!(
        app.login(AGENT_EMAIL, NEW_PASSWORD).await.body["status"],
        "authenticated"
    );
    let audit = app.get("/v1/audit-events", Some(&admin)).await;
    let actions = audit.body.to_string();
    assert!(actions.contains("password.reset_sent"), "{actions}");
    assert!(actions.contains("\"password.reset\""), "{actions}");
    assert!(!actions.contains(&token), "no token in the audit log");
}

#[tokio::test]
async fn reset_mails_are_limited_per_account_and_a_newer_token_ends_the_older() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    create_agent(&app, &admin).await;
    for _ in 0..7 {
        let r = app
            .post(
                "/v1/auth/password-reset",
                json!({"email": AGENT_EMAIL}),
                None,
            )
            .await;
        assert_eq!(r.status.as_u16(), 202);
    }
    wait_for_mail(&app, "Reset your Authgate password").await;
    // Let the mail writer finish what it was given.
    let mut sent = 0;
    for _ in 0..50 {
        sent = mails_with(&app, "Reset your Authgate password").len();
        if sent >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sent, 5, "five mails an hour per account");
    let tokens: Vec<String> = mails_with(&app, "Reset your Authgate password")
        .iter()
        .map(|m| token_in(m))
        .collect();
    let mut usable = 0;
    for t in &tokens {
        let r = confirm(&app, json!({"token": t, "new_password": NEW_PASSWORD})).await;
        if r.status.as_u16() == 204 {
            usable += 1;
        } else {
            r.assert_problem(400, "invalid_password_token");
        }
    }
    assert_eq!(usable, 1, "only the newest token works");
}

#[tokio::test]
async fn support_mails_a_reset_with_a_reason_and_the_second_factor_is_still_asked() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &admin, ADMIN_PASSWORD).await;
    let support = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_authgate"))
            .envs(app.binary_env())
            .args(["support", "send-password-reset"])
            .args(args)
            .output()
            .unwrap()
    };

    let refused = support(&["--email", ADMIN_EMAIL, "--reason", " "]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--reason"));
    assert!(mails_with(&app, "Reset your Authgate password").is_empty());
    let missing = support(&["--email", "nobody@acme.test", "--reason", "ticket 12"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user"));

    let done = support(&[
        "--email",
        ADMIN_EMAIL,
        "--reason",
        "forgot password, ticket 4712",
    ]);
    let out = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        out.contains("mailed") && !out.contains("pr_"),
        "support never sees the token: {out}"
    );
    let token = reset_token(&app).await;
    confirm(&app, json!({"token": token, "new_password": NEW_PASSWORD}))
        .await
        .assert_problem(403, "second_factor_required");
    let code = auth.fresh_code().await;
    let r = confirm(
        &app,
        json!({"token": token, "new_password": NEW_PASSWORD, "code": code}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);

    // The reset kept the second factor, and the audit log says who and why.
    let tokens = login_with_code(&app, ADMIN_EMAIL, NEW_PASSWORD, &mut auth).await;
    let audit = app
        .get(
            &format!("/v1/audit-events?user_id={}", app.acme_admin_id),
            tokens["access_token"].as_str(),
        )
        .await;
    let sent = audit.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "password.reset_sent")
        .expect("the support reset is audited")
        .clone();
    assert_eq!(sent["actor_type"], "support");
    assert_eq!(sent["details"]["reason"], "forgot password, ticket 4712");
    assert!(!audit.body.to_string().contains(&token));
}
