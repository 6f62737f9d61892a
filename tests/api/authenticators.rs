//! Several named authenticators per user: adding one (with a step-up),
//! logging in with any of them, moving to a new phone without an admin,
//! the rules about the last one, the cap, and what admins see.

use serde_json::{json, Value};

use crate::{
    helpers::*,
    notifications::{wait_for_mail, FAST_OUTBOX},
};

const AGENT_EMAIL: &str = "agent@acme.test";
const AGENT_PASSWORD: &str = "agent password 1";
const LIST: &str = "/v1/me/two-factor/authenticators";

async fn delete(app: &TestApp, path: &str, body: Value, bearer: &str) -> Reply {
    app.send(
        app.client
            .delete(app.url(path))
            .bearer_auth(bearer)
            .json(&body),
    )
    .await
}

/// Adds an authenticator named `name`, proving the step-up with `proof`
/// (the password plus a code or recovery code), and confirms it. Returns
/// its id and the new authenticator app.
async fn add_authenticator(
    app: &TestApp,
    token: &str,
    name: &str,
    proof: Value,
) -> (String, Authenticator) {
    let mut body = proof;
    body["name"] = json!(name);
    let r = app.post(LIST, body, Some(token)).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(r.body["name"], name);
    assert!(r.body["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let id = r.body["id"].as_str().unwrap().to_owned();
    let mut auth = app.authenticator(r.body["secret"].as_str().unwrap());
    let r = app
        .post(
            &format!("{LIST}/{id}/confirm"),
            json!({"code": auth.fresh_code().await}),
            Some(token),
        )
        .await;
    assert_eq!(r.assert_ok()["id"], id.as_str());
    (id, auth)
}

/// An agent of Acme made by its admin; returns the agent's id.
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

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect()
}

async fn history_item(app: &TestApp, token: &str) -> Value {
    let h = app.get("/v1/me/login-history?limit=1", Some(token)).await;
    h.assert_ok()["items"][0].clone()
}

#[tokio::test]
async fn a_second_authenticator_signs_in_and_the_history_names_it() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut phone = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let code = phone.fresh_code().await;
    let (backup_id, mut backup) = add_authenticator(
        &app,
        &token,
        "Backup phone",
        json!({"password": ADMIN_PASSWORD, "code": code}),
    )
    .await;

    let list = app.get(LIST, Some(&token)).await;
    assert_eq!(names(list.assert_ok()), ["Authenticator", "Backup phone"]);
    for a in list.body.as_array().unwrap() {
        assert!(a["created_at"].is_string());
        assert!(a.get("secret").is_none(), "never the secret: {a}");
    }

    // Either authenticator completes a login; the history says which.
    let tokens = login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut backup).await;
    let access = tokens["access_token"].as_str().unwrap();
    let item = history_item(&app, access).await;
    assert_eq!(item["outcome"], "success");
    assert_eq!(
        item["authenticator"],
        json!({"id": backup_id, "name": "Backup phone"})
    );
    login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut phone).await;
    let item = history_item(&app, access).await;
    assert_eq!(item["authenticator"]["name"], "Authenticator");

    // The owner is told, and the event names the new authenticator.
    let mail = wait_for_mail(&app, "An authenticator was added to your account").await;
    assert!(mail.contains("Backup phone"), "{mail}");
    assert!(!mail.contains(&backup.secret().to_base32()));
    let audit = app.get("/v1/audit-events?limit=100", Some(access)).await;
    let event = audit.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "two_factor.authenticator_added")
        .expect("the event")
        .clone();
    assert_eq!(
        event["details"]["authenticator"],
        json!({"id": backup_id, "name": "Backup phone"}),
        "{}",
        audit.body
    );
}

#[tokio::test]
async fn a_used_code_of_one_authenticator_is_refused_and_the_other_still_works() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut phone = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let code = phone.fresh_code().await;
    let (_, mut backup) = add_authenticator(
        &app,
        &token,
        "Backup",
        json!({"password": ADMIN_PASSWORD, "code": code}),
    )
    .await;
    login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut backup).await;
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let challenge = r.assert_ok()["challenge_token"].clone();
    let replay = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": backup.last_code()}),
            None,
        )
        .await;
    replay.assert_problem(401, "code_already_used");
    // The same challenge still takes the other authenticator's code.
    let ok = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": phone.fresh_code().await}),
            None,
        )
        .await;
    ok.assert_ok();
}

#[tokio::test]
async fn adding_an_authenticator_needs_the_password_and_a_current_code() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut phone = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;

    let r = app
        .post(
            LIST,
            json!({"name": "Thief", "password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    r.assert_problem(403, "step_up_required");
    let r = app
        .post(
            LIST,
            json!({"name": "Thief", "password": "wrong password", "code": phone.fresh_code().await}),
            Some(&token),
        )
        .await;
    r.assert_problem(401, "invalid_password");
    let r = app
        .post(
            LIST,
            json!({"name": "Thief", "password": ADMIN_PASSWORD, "code": phone.wrong_code()}),
            Some(&token),
        )
        .await;
    r.assert_problem(401, "invalid_code");
    let r = app
        .post(
            LIST,
            json!({"name": "  ", "password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    r.assert_problem(400, "invalid_request");
    let list = app.get(LIST, Some(&token)).await;
    assert_eq!(
        names(list.assert_ok()),
        ["Authenticator"],
        "nothing was added"
    );
}

#[tokio::test]
async fn a_recovery_code_proves_the_step_up_when_the_old_phone_is_gone() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, recovery) = enable_two_factor_with_codes(&app, &token, ADMIN_PASSWORD).await;
    let (_, mut new_phone) = add_authenticator(
        &app,
        &token,
        "New phone",
        json!({"password": ADMIN_PASSWORD, "recovery_code": recovery[0]}),
    )
    .await;
    login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut new_phone).await;
}

#[tokio::test]
async fn a_forced_agent_moves_to_a_new_phone_without_an_admin() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let agent_id = create_agent(&app, &admin, true).await;

    // First login: the forced enrollment sets up the old phone.
    let login = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    let challenge = login.assert_ok()["challenge_token"].clone();
    let e = app
        .post(
            "/v1/auth/enrollment",
            json!({"challenge_token": challenge}),
            None,
        )
        .await;
    let mut old = app.authenticator(e.assert_ok()["secret"].as_str().unwrap());
    let tokens = app
        .post(
            "/v1/auth/enrollment/confirm",
            json!({"challenge_token": challenge, "code": old.fresh_code().await}),
            None,
        )
        .await;
    let token = tokens.assert_ok()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = app.get(LIST, Some(&token)).await;
    let old_id = list.assert_ok()[0]["id"].as_str().unwrap().to_owned();

    // The old phone proves the new one, then the new one removes the old.
    let code = old.fresh_code().await;
    let (new_id, mut new) = add_authenticator(
        &app,
        &token,
        "New phone",
        json!({"password": AGENT_PASSWORD, "code": code}),
    )
    .await;
    let r = delete(
        &app,
        &format!("{LIST}/{old_id}"),
        json!({"password": AGENT_PASSWORD, "code": new.fresh_code().await}),
        &token,
    )
    .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let list = app.get(LIST, Some(&token)).await;
    assert_eq!(names(list.assert_ok()), ["New phone"]);

    // The old phone no longer signs in; the new one does.
    let r = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    let challenge = r.assert_ok()["challenge_token"].clone();
    let r = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": old.fresh_code().await}),
            None,
        )
        .await;
    r.assert_problem(401, "invalid_code");
    login_with_code(&app, AGENT_EMAIL, AGENT_PASSWORD, &mut new).await;

    // The last one stays while the admin requires 2FA.
    let r = delete(
        &app,
        &format!("{LIST}/{new_id}"),
        json!({"password": AGENT_PASSWORD, "code": new.fresh_code().await}),
        &token,
    )
    .await;
    r.assert_problem(403, "two_factor_enforced");
    let user = app
        .get(&format!("/v1/users/{agent_id}"), Some(&admin))
        .await;
    assert_eq!(user.assert_ok()["two_factor"]["status"], "enabled");
    assert_eq!(user.body["authenticators"], 1);
}

#[tokio::test]
async fn removing_the_last_authenticator_without_a_requirement_turns_two_factor_off() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut phone = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let list = app.get(LIST, Some(&token)).await;
    let id = list.assert_ok()[0]["id"].as_str().unwrap().to_owned();
    let path = format!("{LIST}/{id}");

    // The password is asked, as for turning 2FA off.
    let r = delete(
        &app,
        &path,
        json!({"password": "wrong", "code": phone.fresh_code().await}),
        &token,
    )
    .await;
    r.assert_problem(401, "invalid_password");
    let r = app
        .send(app.client.delete(app.url(&path)).bearer_auth(&token))
        .await;
    r.assert_problem(403, "step_up_required");

    let r = delete(
        &app,
        &path,
        json!({"password": ADMIN_PASSWORD, "code": phone.fresh_code().await}),
        &token,
    )
    .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me.assert_ok()["two_factor"]["status"], "disabled");
    let list = app.get(LIST, Some(&token)).await;
    assert_eq!(list.assert_ok(), &json!([]));
    // Signing in needs the password only now, and the owner was told.
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.assert_ok()["status"], "authenticated");
    wait_for_mail(&app, "Two-factor authentication was turned off").await;
}

#[tokio::test]
async fn a_sixth_authenticator_is_refused_with_a_clear_error() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut phone = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    for n in 2..=5 {
        let code = phone.fresh_code().await;
        add_authenticator(
            &app,
            &token,
            &format!("Phone {n}"),
            json!({"password": ADMIN_PASSWORD, "code": code}),
        )
        .await;
    }
    let r = app
        .post(
            LIST,
            json!({"name": "Phone 6", "password": ADMIN_PASSWORD, "code": phone.fresh_code().await}),
            Some(&token),
        )
        .await;
    r.assert_problem(409, "too_many_authenticators");
    assert!(
        r.body["detail"].as_str().unwrap().contains('5'),
        "{}",
        r.body
    );
    let list = app.get(LIST, Some(&token)).await;
    assert_eq!(list.assert_ok().as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn renaming_an_authenticator_shows_in_the_list() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let list = app.get(LIST, Some(&token)).await;
    let id = list.assert_ok()[0]["id"].as_str().unwrap().to_owned();
    let r = app
        .patch(
            &format!("{LIST}/{id}"),
            json!({"name": " Work phone "}),
            Some(&token),
        )
        .await;
    assert_eq!(r.assert_ok()["name"], "Work phone");
    let list = app.get(LIST, Some(&token)).await;
    assert_eq!(names(list.assert_ok()), ["Work phone"]);
    let r = app
        .patch(
            &format!("{LIST}/{id}"),
            json!({"name": "x".repeat(65)}),
            Some(&token),
        )
        .await;
    r.assert_problem(400, "invalid_request");
    let r = app
        .patch(
            &format!("{LIST}/no-such-id"),
            json!({"name": "x"}),
            Some(&token),
        )
        .await;
    r.assert_problem(404, "not_found");
    // Another user's authenticator is not found either.
    let other = app
        .access_token(OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD)
        .await;
    let r = app
        .patch(
            &format!("{LIST}/{id}"),
            json!({"name": "mine"}),
            Some(&other),
        )
        .await;
    r.assert_problem(404, "not_found");
}

#[tokio::test]
async fn an_admin_sees_how_many_authenticators_a_user_has_and_resets_them_all() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let agent_id = create_agent(&app, &admin, false).await;
    let token = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    let mut phone = enable_two_factor(&app, &token, AGENT_PASSWORD).await;
    let token = login_with_code(&app, AGENT_EMAIL, AGENT_PASSWORD, &mut phone).await
        ["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = phone.fresh_code().await;
    add_authenticator(
        &app,
        &token,
        "Backup",
        json!({"password": AGENT_PASSWORD, "code": code}),
    )
    .await;

    let user = app
        .get(&format!("/v1/users/{agent_id}"), Some(&admin))
        .await;
    assert_eq!(user.assert_ok()["authenticators"], 2);
    let users = app.get("/v1/users", Some(&admin)).await;
    let listed = users.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == agent_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["authenticators"], 2);

    let r = app
        .post(
            &format!("/v1/users/{agent_id}/two-factor/reset"),
            json!({}),
            Some(&admin),
        )
        .await;
    r.assert_ok();
    let user = app
        .get(&format!("/v1/users/{agent_id}"), Some(&admin))
        .await;
    assert_eq!(user.assert_ok()["authenticators"], 0);
    assert_eq!(user.body["two_factor"]["status"], "disabled");
    // Neither authenticator is asked for any more: the password alone signs in.
    let r = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    assert_eq!(r.assert_ok()["status"], "authenticated");
}

#[tokio::test]
async fn the_enrollment_endpoints_still_set_up_the_first_authenticator_only() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Without any authenticator, the list adds the first one: 2FA turns on
    // and the recovery codes come with it.
    let r = app
        .post(
            LIST,
            json!({"name": "My phone", "password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let mut auth = app.authenticator(r.body["secret"].as_str().unwrap());
    let r = app
        .post(
            &format!("{LIST}/{id}/confirm"),
            json!({"code": auth.fresh_code().await}),
            Some(&token),
        )
        .await;
    assert_eq!(
        r.assert_ok()["recovery_codes"].as_array().unwrap().len(),
        10
    );
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me.assert_ok()["two_factor"]["status"], "enabled");
    // With one, the enrollment endpoint says to add another instead.
    let r = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    r.assert_problem(409, "two_factor_already_enabled");
    // Confirming an unknown or already confirmed id is not found.
    let r = app
        .post(
            &format!("{LIST}/{id}/confirm"),
            json!({"code": auth.fresh_code().await}),
            Some(&token),
        )
        .await;
    r.assert_problem(404, "not_found");
}

#[tokio::test]
async fn a_phone_whose_clock_drifts_keeps_signing_in_and_the_window_moves_without_widening() {
    use auth_core::totp::TotpParams;
    use std::time::Duration;

    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let phone = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let p = TotpParams::default();
    let code_at = |offset_secs: u64| {
        let at = app.clock.now().plus(Duration::from_secs(offset_secs));
        p.code_at(phone.secret(), at).as_str().to_owned()
    };
    // The phone gains 10 s a day; its owner signs in daily. After two weeks
    // it is 140 s (over 4 steps) ahead, far outside a fixed ±1 window.
    for day in 1..=14u64 {
        app.clock.advance(Duration::from_secs(86_400));
        let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let challenge = r.assert_ok()["challenge_token"].clone();
        let r = app
            .post(
                "/v1/auth/otp",
                json!({"challenge_token": challenge, "code": code_at(day * 10)}),
                None,
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "day {day}: {}", r.body);
    }
    // The window followed the phone: the code of the server's own step is
    // now outside it, so the window moved rather than widened.
    app.clock.advance(Duration::from_secs(60));
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let challenge = r.assert_ok()["challenge_token"].clone();
    let r = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": code_at(0)}),
            None,
        )
        .await;
    r.assert_problem(401, "invalid_code");
}

#[tokio::test]
async fn a_removed_users_authenticator_names_leave_the_audit_log() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let agent_id = create_agent(&app, &admin, false).await;
    let token = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    let mut phone = enable_two_factor(&app, &token, AGENT_PASSWORD).await;
    let code = phone.fresh_code().await;
    let (id, _) = add_authenticator(
        &app,
        &token,
        "Ana Silva's iPhone",
        json!({"password": AGENT_PASSWORD, "code": code}),
    )
    .await;
    let r = app
        .patch(
            &format!("{LIST}/{id}"),
            json!({"name": "Ana Silva's old iPhone"}),
            Some(&token),
        )
        .await;
    r.assert_ok();
    let audit = app.get("/v1/audit-events?limit=100", Some(&admin)).await;
    assert!(audit.assert_ok().to_string().contains("Ana Silva's iPhone"));

    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/v1/users/{agent_id}")))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let audit = app.get("/v1/audit-events?limit=100", Some(&admin)).await;
    let text = audit.assert_ok().to_string();
    assert!(!text.contains("Ana Silva"), "{text}");
    assert!(text.contains(&id), "the ids stay: {text}");
}
