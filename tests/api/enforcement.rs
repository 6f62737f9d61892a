//! Issue: admins enforce 2FA; support recovers locked-out admins; audit log.

use serde_json::{json, Value};

use crate::helpers::*;

const AGENT_EMAIL: &str = "agent@acme.test";
const AGENT_PASSWORD: &str = "agent password 1";

async fn admin_token(app: &TestApp) -> String {
    app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await
}

async fn create_agent(app: &TestApp, admin: &str, require_two_factor: bool) -> String {
    let r = app
        .post(
            "/v1/users",
            json!({"email": AGENT_EMAIL, "name": "Agent", "role": "agent", "password": AGENT_PASSWORD, "require_two_factor": require_two_factor}),
            Some(admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body["user"]["id"].as_str().unwrap().to_owned()
}

/// Completes a forced enrollment from an `enrollment_required` login.
async fn enroll_at_login(app: &TestApp, login: &Value) -> (Authenticator, Value) {
    assert_eq!(login["status"], "enrollment_required", "{login}");
    assert!(login.get("access_token").is_none());
    let challenge = login["challenge_token"].as_str().unwrap();
    let e = app
        .post(
            "/v1/auth/enrollment",
            json!({"challenge_token": challenge}),
            None,
        )
        .await;
    let e = e.assert_ok();
    assert!(e["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    assert!(e["qr_png"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    let mut auth = app.authenticator(e["secret"].as_str().unwrap());
    let tokens = app
        .post(
            "/v1/auth/enrollment/confirm",
            json!({"challenge_token": challenge, "code": auth.fresh_code().await}),
            None,
        )
        .await;
    (auth, tokens.assert_ok().clone())
}

async fn patch_user(app: &TestApp, admin: &str, id: &str, body: Value) -> Reply {
    app.patch(&format!("/v1/users/{id}"), body, Some(admin))
        .await
}

#[tokio::test]
async fn an_agent_created_with_required_two_factor_enrolls_at_first_login() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, true).await;
    let user = app.get(&format!("/v1/users/{id}"), Some(&admin)).await;
    assert_eq!(
        user.assert_ok()["two_factor"],
        json!({"status": "disabled", "enforced": true, "enforced_by": "admin"})
    );

    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    let login = login.assert_ok().clone();
    // The enrollment challenge opens only the enrollment calls.
    let challenge = login["challenge_token"].as_str().unwrap();
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": challenge, "code": "123456"}),
        None,
    )
    .await
    .assert_problem(401, "invalid_challenge");
    app.get("/v1/me", Some(challenge))
        .await
        .assert_problem(401, "unauthorized");

    let (_, tokens) = enroll_at_login(&app, &login).await;
    assert_eq!(tokens["status"], "authenticated");
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );
    let me = app.get("/v1/me", tokens["access_token"].as_str()).await;
    assert_eq!(
        me.assert_ok()["two_factor"],
        json!({"status": "enabled", "enforced": true, "enforced_by": "admin", "recovery_codes_remaining": 10})
    );
    assert_eq!(
        app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body["status"],
        "otp_required"
    );
}

#[tokio::test]
async fn a_wrong_code_at_forced_enrollment_issues_no_token() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    create_agent(&app, &admin, true).await;
    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body;
    let challenge = login["challenge_token"].as_str().unwrap();
    let e = app
        .post(
            "/v1/auth/enrollment",
            json!({"challenge_token": challenge}),
            None,
        )
        .await;
    let auth = app.authenticator(e.assert_ok()["secret"].as_str().unwrap());
    app.post(
        "/v1/auth/enrollment/confirm",
        json!({"challenge_token": challenge, "code": auth.wrong_code()}),
        None,
    )
    .await
    .assert_problem(401, "invalid_code");
    assert_eq!(
        app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body["status"],
        "enrollment_required"
    );
}

#[tokio::test]
async fn forcing_two_factor_ends_the_agents_sessions_and_requires_enrollment() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, false).await;
    let session = app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body;
    assert_eq!(session["status"], "authenticated");

    let r = patch_user(&app, &admin, &id, json!({"require_two_factor": true})).await;
    assert_eq!(r.assert_ok()["two_factor"]["enforced_by"], "admin");

    app.post(
        "/v1/auth/refresh",
        json!({"refresh_token": session["refresh_token"]}),
        None,
    )
    .await
    .assert_problem(401, "session_revoked");
    app.get("/v1/me", session["access_token"].as_str())
        .await
        .assert_problem(401, "unauthorized");
    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    enroll_at_login(&app, login.assert_ok()).await;
}

#[tokio::test]
async fn forcing_two_factor_on_a_self_enrolled_agent_keeps_the_factor() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, false).await;
    let agent = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &agent, AGENT_PASSWORD).await;
    let proven = login_with_code(&app, AGENT_EMAIL, AGENT_PASSWORD, &mut auth).await;

    let r = patch_user(&app, &admin, &id, json!({"require_two_factor": true})).await;
    assert_eq!(
        r.assert_ok()["two_factor"],
        json!({"status": "enabled", "enforced": true, "enforced_by": "admin", "recovery_codes_remaining": 10})
    );
    // A session that proved a code already meets the requirement: it lives on.
    app.get("/v1/me", proven["access_token"].as_str())
        .await
        .assert_ok();
    let r = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": proven["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    // No re-enrollment: the existing authenticator keeps working.
    let tokens = login_with_code(&app, AGENT_EMAIL, AGENT_PASSWORD, &mut auth).await;
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );
}

#[tokio::test]
async fn forced_agent_cannot_disable_two_factor() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    create_agent(&app, &admin, true).await;
    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body;
    let (mut auth, tokens) = enroll_at_login(&app, &login).await;
    let agent = tokens["access_token"].as_str().unwrap();

    let r = app
        .post(
            "/v1/me/two-factor/disable",
            json!({"password": AGENT_PASSWORD}),
            Some(agent),
        )
        .await;
    r.assert_problem(403, "two_factor_enforced");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("contact your administrator"),
        "{}",
        r.body
    );
    assert_eq!(
        app.get("/v1/me", Some(agent)).await.body["two_factor"]["status"],
        "enabled"
    );
    login_with_code(&app, AGENT_EMAIL, AGENT_PASSWORD, &mut auth).await;
}

#[tokio::test]
async fn self_enabled_agent_disables_two_factor_with_the_right_password_and_a_code() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    create_agent(&app, &admin, false).await;
    let agent = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &agent, AGENT_PASSWORD).await;

    app.post(
        "/v1/me/two-factor/disable",
        json!({"password": "wrong"}),
        Some(&agent),
    )
    .await
    .assert_problem(401, "invalid_password");
    assert_eq!(
        app.get("/v1/me", Some(&agent)).await.body["two_factor"]["status"],
        "enabled"
    );
    app.post(
        "/v1/me/two-factor/disable",
        json!({"password": AGENT_PASSWORD}),
        Some(&agent),
    )
    .await
    .assert_problem(403, "step_up_required");
    let r = app
        .post(
            "/v1/me/two-factor/disable",
            json!({"password": AGENT_PASSWORD, "code": auth.fresh_code().await}),
            Some(&agent),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "disabled");
    assert_eq!(
        app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn lifting_the_requirement_keeps_two_factor_but_lets_the_agent_disable_it() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, true).await;
    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body;
    let (mut auth, tokens) = enroll_at_login(&app, &login).await;
    let agent = tokens["access_token"].as_str().unwrap();

    let r = patch_user(&app, &admin, &id, json!({"require_two_factor": false})).await;
    assert_eq!(
        r.assert_ok()["two_factor"],
        json!({"status": "enabled", "enforced": false, "enforced_by": null, "recovery_codes_remaining": 10})
    );
    assert_eq!(
        app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body["status"],
        "otp_required"
    );
    let r = app
        .post(
            "/v1/me/two-factor/disable",
            json!({"password": AGENT_PASSWORD, "code": auth.fresh_code().await}),
            Some(agent),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "disabled");
}

#[tokio::test]
async fn resetting_an_agents_two_factor_removes_it_and_ends_sessions() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, true).await;
    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body;
    let (_, tokens) = enroll_at_login(&app, &login).await;

    // Still required: the agent scans a new QR code at the next login.
    let r = app
        .post(
            &format!("/v1/users/{id}/two-factor/reset"),
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.assert_ok()["two_factor"]["status"], "disabled");
    app.post(
        "/v1/auth/refresh",
        json!({"refresh_token": tokens["refresh_token"]}),
        None,
    )
    .await
    .assert_problem(401, "session_revoked");
    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    let (_, tokens) = enroll_at_login(&app, login.assert_ok()).await;

    // Not required any more: after a reset the agent logs in with the password.
    patch_user(&app, &admin, &id, json!({"require_two_factor": false}))
        .await
        .assert_ok();
    app.post(
        &format!("/v1/users/{id}/two-factor/reset"),
        json!({}),
        Some(&admin),
    )
    .await
    .assert_ok();
    app.get("/v1/me", tokens["access_token"].as_str())
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(
        app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn an_organization_policy_without_grace_requires_enrollment_of_everyone() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    create_agent(&app, &admin, false).await;
    let r = app
        .patch(
            "/v1/organization",
            json!({"two_factor_policy": "required_for_all", "grace_period_hours": 0}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.assert_ok()["two_factor_policy"], "required_for_all");
    for (email, password) in [(AGENT_EMAIL, AGENT_PASSWORD), (ADMIN_EMAIL, ADMIN_PASSWORD)] {
        let login = app.login(email, password).await;
        assert_eq!(
            login.assert_ok()["status"],
            "enrollment_required",
            "{email}"
        );
    }
    // The admin's pre-policy session can no longer be refreshed without 2FA.
    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    let (_, tokens) = enroll_at_login(&app, login.assert_ok()).await;
    let me = app.get("/v1/me", tokens["access_token"].as_str()).await;
    assert_eq!(me.assert_ok()["two_factor"]["enforced_by"], "organization");
}

#[tokio::test]
async fn during_a_grace_period_users_log_in_and_are_told_the_deadline() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    create_agent(&app, &admin, false).await;
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_all", "grace_period_hours": 48}),
        Some(&admin),
    )
    .await
    .assert_ok();
    let r = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    let body = r.assert_ok();
    assert_eq!(body["status"], "authenticated");
    let deadline = body["two_factor_enrollment_deadline"]
        .as_str()
        .expect("a deadline");
    let me = app.get("/v1/me", body["access_token"].as_str()).await;
    let tf = &me.assert_ok()["two_factor"];
    assert_eq!(tf["enforced_by"], "organization");
    assert_eq!(tf["enrollment_deadline"], deadline);
    app.patch(
        "/v1/organization",
        json!({"grace_period_hours": 721}),
        Some(&admin),
    )
    .await
    .assert_problem(400, "invalid_request");
}

#[tokio::test]
async fn admin_and_organization_requirements_are_independent() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    // A session that proved a code outlives the organization's new rule.
    enable_two_factor(&app, &admin, ADMIN_PASSWORD).await;
    let id = create_agent(&app, &admin, true).await;
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_all"}),
        Some(&admin),
    )
    .await
    .assert_ok();
    let view = |r: Reply| r.body["two_factor"]["enforced_by"].clone();
    assert_eq!(
        view(app.get(&format!("/v1/users/{id}"), Some(&admin)).await),
        "admin"
    );
    // Lifting the organization policy leaves the admin's requirement.
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "optional"}),
        Some(&admin),
    )
    .await
    .assert_ok();
    assert_eq!(
        view(app.get(&format!("/v1/users/{id}"), Some(&admin)).await),
        "admin"
    );
    // And lifting the admin's requirement leaves the organization's.
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_all"}),
        Some(&admin),
    )
    .await
    .assert_ok();
    assert_eq!(
        view(patch_user(&app, &admin, &id, json!({"require_two_factor": false})).await),
        "organization"
    );
}

#[tokio::test]
async fn an_admin_of_another_organization_gets_404_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, false).await;
    let other = app
        .access_token(OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD)
        .await;
    app.get(&format!("/v1/users/{id}"), Some(&other))
        .await
        .assert_problem(404, "not_found");
    patch_user(
        &app,
        &other,
        &id,
        json!({"require_two_factor": true, "disabled": true}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/v1/users/{id}/two-factor/reset"),
        json!({}),
        Some(&other),
    )
    .await
    .assert_problem(404, "not_found");
    app.get(&format!("/v1/users/{id}/login-history"), Some(&other))
        .await
        .assert_problem(404, "not_found");
    let missing = app.get("/v1/users/no-such-id", Some(&other)).await;
    assert_eq!(
        missing.body,
        app.get(&format!("/v1/users/{id}"), Some(&other)).await.body,
        "indistinguishable"
    );
    let listed = app.get("/v1/users", Some(&other)).await;
    assert!(listed.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["id"] != id));
    let user = app.get(&format!("/v1/users/{id}"), Some(&admin)).await;
    assert_eq!(user.body["disabled"], false);
    assert_eq!(user.body["two_factor"]["enforced"], false);
    assert_eq!(
        app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn an_agent_calling_an_admin_endpoint_gets_403() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, false).await;
    let agent = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    let calls = [
        app.get("/v1/users", Some(&agent)).await,
        app.post(
            "/v1/users",
            json!({"email": "x@acme.test", "name": "X", "role": "admin"}),
            Some(&agent),
        )
        .await,
        app.get(&format!("/v1/users/{}", app.acme_admin_id), Some(&agent))
            .await,
        patch_user(&app, &agent, &id, json!({"role": "admin"})).await,
        app.post(
            &format!("/v1/users/{}/two-factor/reset", app.acme_admin_id),
            json!({}),
            Some(&agent),
        )
        .await,
        app.get(
            &format!("/v1/users/{}/login-history", app.acme_admin_id),
            Some(&agent),
        )
        .await,
        app.get("/v1/organization", Some(&agent)).await,
        app.patch(
            "/v1/organization",
            json!({"two_factor_policy": "optional"}),
            Some(&agent),
        )
        .await,
        app.get("/v1/audit-events", Some(&agent)).await,
    ];
    for r in calls {
        r.assert_problem(403, "forbidden");
    }
    let me = app.get("/v1/me", Some(&agent)).await;
    assert_eq!(me.assert_ok()["role"], "agent");
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_and_their_sessions_end() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, false).await;
    let session = app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body;
    patch_user(&app, &admin, &id, json!({"disabled": true}))
        .await
        .assert_ok();
    app.login(AGENT_EMAIL, AGENT_PASSWORD)
        .await
        .assert_problem(403, "account_disabled");
    app.get("/v1/me", session["access_token"].as_str())
        .await
        .assert_problem(401, "unauthorized");
    app.post(
        "/v1/auth/refresh",
        json!({"refresh_token": session["refresh_token"]}),
        None,
    )
    .await
    .assert_problem(401, "session_revoked");
    // A wrong password still gets the generic answer: nothing is revealed.
    app.login(AGENT_EMAIL, "wrong")
        .await
        .assert_problem(401, "invalid_credentials");
    patch_user(&app, &admin, &id, json!({"disabled": false}))
        .await
        .assert_ok();
    assert_eq!(
        app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn admins_manage_users_of_their_organization() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let created = app
        .post(
            "/v1/users",
            json!({"email": "New@Acme.test", "name": "New", "role": "agent"}),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201);
    let password = created.body["generated_password"]
        .as_str()
        .expect("a one-time password")
        .to_owned();
    let id = created.body["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["user"]["email"], "new@acme.test");
    assert_eq!(
        app.login("new@acme.test", &password).await.body["status"],
        "authenticated"
    );
    let again = app.get(&format!("/v1/users/{id}"), Some(&admin)).await;
    assert!(again.body.get("generated_password").is_none());

    app.post(
        "/v1/users",
        json!({"email": "new@acme.test", "name": "Dup", "role": "agent"}),
        Some(&admin),
    )
    .await
    .assert_problem(409, "email_taken");
    app.post(
        "/v1/users",
        json!({"email": "short@acme.test", "name": "S", "role": "agent", "password": "short"}),
        Some(&admin),
    )
    .await
    .assert_problem(400, "invalid_request");
    app.post(
        "/v1/users",
        json!({"email": "r@acme.test", "name": "R", "role": "owner"}),
        Some(&admin),
    )
    .await
    .assert_problem(400, "invalid_request");

    let r = patch_user(
        &app,
        &admin,
        &id,
        json!({"name": "Renamed", "role": "admin"}),
    )
    .await;
    assert_eq!(r.assert_ok()["role"], "admin");
    assert_eq!(r.body["name"], "Renamed");
    patch_user(&app, &admin, &app.acme_admin_id, json!({"role": "agent"}))
        .await
        .assert_problem(409, "cannot_modify_self");
    patch_user(&app, &admin, &app.acme_admin_id, json!({"disabled": true}))
        .await
        .assert_problem(409, "cannot_modify_self");

    let page = app.get("/v1/users?limit=1", Some(&admin)).await;
    let page = page.assert_ok();
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_offset"], 1);
    let rest = app.get("/v1/users?limit=1&offset=1", Some(&admin)).await;
    assert_eq!(rest.assert_ok()["next_offset"], Value::Null);

    let history = app
        .get(&format!("/v1/users/{id}/login-history"), Some(&admin))
        .await;
    assert_eq!(history.assert_ok()["items"][0]["outcome"], "success");
}

#[tokio::test]
async fn two_factor_changes_and_admin_actions_are_in_the_audit_log() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let id = create_agent(&app, &admin, false).await;
    let agent = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    enable_two_factor(&app, &agent, AGENT_PASSWORD).await;
    patch_user(&app, &admin, &id, json!({"require_two_factor": true}))
        .await
        .assert_ok();
    patch_user(&app, &admin, &id, json!({"require_two_factor": false}))
        .await
        .assert_ok();
    app.post(
        &format!("/v1/users/{id}/two-factor/reset"),
        json!({}),
        Some(&admin),
    )
    .await
    .assert_ok();
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_admins", "grace_period_hours": 24}),
        Some(&admin),
    )
    .await
    .assert_ok();

    let log = app
        .get(&format!("/v1/audit-events?user_id={id}"), Some(&admin))
        .await;
    let actions: Vec<&str> = log.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "two_factor.reset",
            "two_factor.requirement_lifted",
            "two_factor.enforced",
            "two_factor.enabled",
            "two_factor.enrollment_started",
            "user.created"
        ]
    );
    let reset = &log.body["items"][0];
    assert_eq!(reset["actor_type"], "user");
    assert_eq!(reset["actor_id"], app.acme_admin_id);
    assert_eq!(reset["ip"], "127.0.0.1");
    let all = app.get("/v1/audit-events?limit=1", Some(&admin)).await;
    assert_eq!(
        all.assert_ok()["items"][0]["action"],
        "organization.policy_changed"
    );
    assert_eq!(
        all.body["items"][0]["details"]["two_factor_policy"]["to"],
        "required_for_admins"
    );
    // Another organization sees none of it.
    let other = app
        .access_token(OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD)
        .await;
    let theirs = app
        .get(&format!("/v1/audit-events?user_id={id}"), Some(&other))
        .await;
    assert_eq!(theirs.assert_ok()["items"], json!([]));
}

#[tokio::test]
async fn support_resets_a_locked_out_admin_and_the_audit_log_records_why() {
    let app = spawn_app().await;
    let token = admin_token(&app).await;
    enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_admins"}),
        Some(&token),
    )
    .await
    .assert_ok();
    let support = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_authgate"))
            .envs(app.binary_env())
            .arg("support")
            .args(args)
            .output()
            .unwrap()
    };

    // No reason, no action.
    let refused = support(&["reset-two-factor", "--email", ADMIN_EMAIL, "--reason", "  "]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("reason"));
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body["status"],
        "otp_required"
    );

    let done = support(&[
        "reset-two-factor",
        "--email",
        ADMIN_EMAIL,
        "--reason",
        "lost phone, ticket 4711",
    ]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let out = String::from_utf8_lossy(&done.stdout);
    assert!(
        out.contains("removed") && out.contains("ended 1 session"),
        "{out}"
    );
    app.get("/v1/me", Some(&token))
        .await
        .assert_problem(401, "unauthorized");

    // 2FA is still required of admins: a new QR code at login.
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, tokens) = enroll_at_login(&app, login.assert_ok()).await;
    let log = app
        .get(
            &format!("/v1/audit-events?user_id={}", app.acme_admin_id),
            tokens["access_token"].as_str(),
        )
        .await;
    let event = log.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "support.two_factor_reset")
        .expect("a support event")
        .clone();
    assert_eq!(event["actor_type"], "support");
    assert_eq!(event["details"]["reason"], "lost phone, ticket 4711");

    let unlock = support(&["unlock", "--email", ADMIN_EMAIL, "--reason", "user request"]);
    assert!(unlock.status.success());
    let missing = support(&["unlock", "--email", "nobody@acme.test", "--reason", "x"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user"));
}

#[tokio::test]
async fn an_organization_policy_change_ends_password_only_sessions_at_once() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    // The admin's session proves a code once 2FA is on; the agent's does not.
    enable_two_factor(&app, &admin, ADMIN_PASSWORD).await;
    create_agent(&app, &admin, false).await;
    let agent = app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body;
    app.get("/v1/me", agent["access_token"].as_str())
        .await
        .assert_ok();

    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_all", "grace_period_hours": 0}),
        Some(&admin),
    )
    .await
    .assert_ok();

    // The agent's password-only session ends now, not at its next refresh.
    app.get("/v1/me", agent["access_token"].as_str())
        .await
        .assert_problem(401, "unauthorized");
    app.post(
        "/v1/auth/refresh",
        json!({"refresh_token": agent["refresh_token"]}),
        None,
    )
    .await
    .assert_problem(401, "session_revoked");
    // The admin's session proved a code: it meets the new rule.
    let audit = app.get("/v1/audit-events?limit=1", Some(&admin)).await;
    let changed = &audit.assert_ok()["items"][0];
    assert_eq!(changed["action"], "organization.policy_changed");
    assert_eq!(changed["details"]["sessions_ended"], 1);
}

#[tokio::test]
async fn a_grace_period_keeps_password_only_sessions_until_it_ends() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    enable_two_factor(&app, &admin, ADMIN_PASSWORD).await;
    create_agent(&app, &admin, false).await;
    let agent = app.login(AGENT_EMAIL, AGENT_PASSWORD).await.body;
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_all", "grace_period_hours": 48}),
        Some(&admin),
    )
    .await
    .assert_ok();
    app.get("/v1/me", agent["access_token"].as_str())
        .await
        .assert_ok();
    let audit = app.get("/v1/audit-events?limit=1", Some(&admin)).await;
    assert!(audit.assert_ok()["items"][0]["details"]
        .get("sessions_ended")
        .is_none());
}

#[tokio::test]
async fn the_admin_who_requires_two_factor_keeps_the_session_that_made_the_change() {
    let app = spawn_app().await;
    let here = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let elsewhere = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let token = here["access_token"].as_str().unwrap();
    app.patch(
        "/v1/organization",
        json!({"two_factor_policy": "required_for_all", "grace_period_hours": 0}),
        Some(token),
    )
    .await
    .assert_ok();
    // Like a password change, the change keeps the session that made it…
    app.get("/v1/me", Some(token)).await.assert_ok();
    // …and ends the admin's other password-only sessions at once.
    app.get("/v1/me", elsewhere["access_token"].as_str())
        .await
        .assert_problem(401, "unauthorized");
    // The new rule still applies to it at its next refresh.
    app.post(
        "/v1/auth/refresh",
        json!({"refresh_token": here["refresh_token"]}),
        None,
    )
    .await
    .assert_problem(401, "second_factor_now_required");
}
