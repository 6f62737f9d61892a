//! Removing a user: the account is gone for good, the email is free again,
//! and what is kept (history, audit) keeps the id but not the person.

use serde_json::json;

use crate::helpers::*;

const AGENT_EMAIL: &str = "leaving@acme.test";
const AGENT_PASSWORD: &str = "a leaving agent's password";

async fn create_user(app: &TestApp, admin: &str, email: &str, role: &str) -> String {
    let r = app
        .post(
            "/v1/users",
            json!({"email": email, "name": "Leaving Agent", "role": role, "password": AGENT_PASSWORD}),
            Some(admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body["user"]["id"].as_str().unwrap().to_owned()
}

async fn delete(app: &TestApp, path: &str, bearer: &str) -> Reply {
    app.send(app.client.delete(app.url(path)).bearer_auth(bearer))
        .await
}

#[tokio::test]
async fn a_removed_user_cannot_sign_in_and_their_email_can_be_used_again() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let id = create_user(&app, &admin, AGENT_EMAIL, "agent").await;
    let agent = app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    enable_two_factor(&app, &agent, AGENT_PASSWORD).await;

    let r = delete(&app, &format!("/v1/users/{id}"), &admin).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);

    // Their session ended and their credentials are gone.
    app.get("/v1/me", Some(&agent))
        .await
        .assert_problem(401, "unauthorized");
    app.login(AGENT_EMAIL, AGENT_PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    // To the admin the user no longer exists.
    app.get(&format!("/v1/users/{id}"), Some(&admin))
        .await
        .assert_problem(404, "not_found");
    let list = app.get("/v1/users", Some(&admin)).await;
    assert!(!list.body.to_string().contains(&id), "{}", list.body);
    delete(&app, &format!("/v1/users/{id}"), &admin)
        .await
        .assert_problem(404, "not_found");

    // The address is free for a new account, which starts from nothing.
    let again = create_user(&app, &admin, AGENT_EMAIL, "agent").await;
    assert_ne!(again, id);
    let r = app.login(AGENT_EMAIL, AGENT_PASSWORD).await;
    assert_eq!(r.body["status"], "authenticated", "{}", r.body);
}

#[tokio::test]
async fn the_audit_log_keeps_a_removed_users_id_but_not_their_email() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let id = create_user(&app, &admin, AGENT_EMAIL, "agent").await;
    app.access_token(AGENT_EMAIL, AGENT_PASSWORD).await;
    assert_eq!(
        delete(&app, &format!("/v1/users/{id}"), &admin)
            .await
            .status
            .as_u16(),
        204
    );

    let audit = app.get("/v1/audit-events", Some(&admin)).await;
    let entries = audit.assert_ok()["items"].as_array().unwrap().clone();
    let about: Vec<_> = entries
        .iter()
        .filter(|e| e["target_user_id"] == id.as_str())
        .collect();
    let actions: Vec<_> = about
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"user.created"), "{actions:?}");
    assert!(actions.contains(&"user.removed"), "{actions:?}");
    assert!(
        !audit.body.to_string().contains(AGENT_EMAIL),
        "the removed user's email is still in the audit log: {}",
        audit.body
    );
    let created = about
        .iter()
        .find(|e| e["action"] == "user.created")
        .unwrap();
    assert_eq!(created["details"]["email"], "[removed]");
    assert_eq!(created["details"]["role"], "agent");
}

#[tokio::test]
async fn an_admin_cannot_remove_themselves() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    delete(&app, &format!("/v1/users/{}", app.acme_admin_id), &admin)
        .await
        .assert_problem(409, "cannot_modify_self");
    app.get("/v1/me", Some(&admin)).await.assert_ok();
}

#[tokio::test]
async fn two_admins_removing_each_other_at_once_leave_one_admin() {
    let app = spawn_app().await;
    let first = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let second_id = create_user(&app, &first, "second-admin@acme.test", "admin").await;
    let second = app
        .access_token("second-admin@acme.test", AGENT_PASSWORD)
        .await;
    let first_path = format!("/v1/users/{}", app.acme_admin_id);
    let second_path = format!("/v1/users/{second_id}");
    let (a, b) = tokio::join!(
        delete(&app, &second_path, &first),
        delete(&app, &first_path, &second),
    );
    let removed = [&a, &b].iter().filter(|r| r.status.as_u16() == 204).count();
    assert_eq!(removed, 1, "{} / {}", a.body, b.body);
    for r in [&a, &b] {
        if r.status.as_u16() != 204 {
            // Refused as the last admin, or already signed out by the
            // other removal.
            assert!(
                matches!(r.status.as_u16(), 401 | 409),
                "{} {}",
                r.status,
                r.body
            );
        }
    }
    let still_admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body["status"]
        == "authenticated"
        || app
            .login("second-admin@acme.test", AGENT_PASSWORD)
            .await
            .body["status"]
            == "authenticated";
    assert!(still_admin, "the organization lost every admin");
}

#[tokio::test]
async fn an_email_taken_in_another_organization_looks_like_one_taken_in_ours() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    create_user(&app, &admin, AGENT_EMAIL, "agent").await;
    let body = |email: &str| json!({"email": email, "name": "Someone", "role": "agent", "password": AGENT_PASSWORD});
    let ours = app.post("/v1/users", body(AGENT_EMAIL), Some(&admin)).await;
    let theirs = app
        .post("/v1/users", body(OTHER_ADMIN_EMAIL), Some(&admin))
        .await;
    ours.assert_problem(409, "email_taken");
    theirs.assert_problem(409, "email_taken");
    assert_eq!(ours.body["detail"], theirs.body["detail"]);
    // A look-alike encoding of a taken address is the same address.
    create_user(&app, &admin, "jos\u{e9}@acme.test", "agent").await;
    app.post("/v1/users", body("JOSE\u{301}@acme.test"), Some(&admin))
        .await
        .assert_problem(409, "email_taken");
}
