//! Webhook endpoints: the HTTP contract, organization isolation, SSRF
//! refusals, and signed delivery with retries to a real HTTP receiver.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use api::egress::EgressPolicy;
use auth_core::webhook_signature::WebhookSecret;
use base64::Engine as _;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::{
    helpers::{
        enable_two_factor, spawn_app, spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
        OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD,
    },
    notifications::{wait_for_mail, FAST_OUTBOX},
};

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A minimal HTTP receiver: answers each request with the next status of
/// `answers` (then 200) and records what it got.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

async fn receiver(answers: &[u16]) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let answers = Arc::new(Mutex::new(answers.to_vec()));
    let seen = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            let answers = answers.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_string();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        break (i + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect();
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                seen.lock().unwrap().push(Received { headers, body });
                let status = {
                    let mut a = answers.lock().unwrap();
                    if a.is_empty() {
                        200
                    } else {
                        a.remove(0)
                    }
                };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 7\r\nconnection: close\r\n\r\nanswer!"
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    Receiver { url, got }
}

impl Receiver {
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..500 {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the receiver got {:?}", self.got.lock().unwrap());
    }
}

/// Verifies a Standard Webhooks signature header against a `whsec_` secret.
fn verify(secret: &str, r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let expected = WebhookSecret::from_bytes(key).sign(
        r.header("webhook-id"),
        r.header("webhook-timestamp").parse().unwrap(),
        r.body.as_bytes(),
    );
    r.header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

async fn admin(app: &TestApp) -> String {
    app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await
}

async fn create(app: &TestApp, token: &str, url: &str, events: Value) -> crate::helpers::Reply {
    app.post(
        "/v1/organization/webhooks",
        json!({"url": url, "events": events}),
        Some(token),
    )
    .await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> crate::helpers::Reply {
    app.send(app.client.delete(app.url(path)).bearer_auth(token))
        .await
}

#[tokio::test]
async fn an_admin_creates_lists_changes_and_deletes_an_endpoint() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = admin(&app).await;
    let r = create(
        &app,
        &token,
        "https://93.184.216.34/in",
        json!(["two_factor.enabled"]),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["url"], "https://93.184.216.34/in");
    assert_eq!(r.body["events"], json!(["two_factor.enabled"]));
    assert!(r.body["created_at"].is_string());
    let secret = r.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));

    let list = app.get("/v1/organization/webhooks", Some(&token)).await;
    let items = list.assert_ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert!(items[0].get("secret").is_none(), "the secret is shown once");

    let path = format!("/v1/organization/webhooks/{id}");
    let one = app.get(&path, Some(&token)).await;
    assert_eq!(one.assert_ok()["enabled"], true);
    assert!(one.body.get("secret").is_none());

    let changed = app
        .patch(
            &path,
            json!({"events": ["*"], "enabled": false}),
            Some(&token),
        )
        .await;
    assert_eq!(changed.assert_ok()["events"], json!(["*"]));
    assert_eq!(changed.body["enabled"], false);

    let rotated = app
        .post(&format!("{path}/rotate-secret"), json!({}), Some(&token))
        .await;
    let new_secret = rotated.assert_ok()["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(rotated.body["previous_secret_expires_at"].is_string());

    let gone = delete(&app, &path, &token).await;
    assert_eq!(gone.status.as_u16(), 204);
    app.get(&path, Some(&token))
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn bad_endpoint_bodies_are_problems() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    create(
        &app,
        &token,
        "https://93.184.216.34",
        json!(["no.such.event"]),
    )
    .await
    .assert_problem(400, "invalid_request");
    create(&app, &token, "https://93.184.216.34", json!([]))
        .await
        .assert_problem(400, "invalid_request");
    create(&app, &token, "not a url", json!(["*"]))
        .await
        .assert_problem(400, "invalid_request");
    create(&app, &token, "ftp://93.184.216.34", json!(["*"]))
        .await
        .assert_problem(400, "invalid_request");
}

#[tokio::test]
async fn endpoints_of_one_organization_do_not_exist_for_another() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let r = create(&app, &token, "https://93.184.216.34/in", json!(["*"])).await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let other = app
        .access_token(OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD)
        .await;
    let path = format!("/v1/organization/webhooks/{id}");
    app.get(&path, Some(&other))
        .await
        .assert_problem(404, "not_found");
    app.patch(&path, json!({"enabled": false}), Some(&other))
        .await
        .assert_problem(404, "not_found");
    delete(&app, &path, &other)
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("{path}/test"), json!({}), Some(&other))
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{path}/deliveries"), Some(&other))
        .await
        .assert_problem(404, "not_found");
    let list = app.get("/v1/organization/webhooks", Some(&other)).await;
    assert_eq!(list.assert_ok()["items"], json!([]));
    // Still there for its own organization.
    app.get(&path, Some(&token)).await.assert_ok();
}

#[tokio::test]
async fn webhooks_are_for_admins_only() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let r = app
        .post(
            "/v1/users",
            json!({"email": "agent@acme.test", "name": "Agent", "role": "agent", "password": "an agent password"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let agent = app
        .access_token("agent@acme.test", "an agent password")
        .await;
    app.get("/v1/organization/webhooks", Some(&agent))
        .await
        .assert_problem(403, "forbidden");
    app.get("/v1/organization/webhooks", None)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn urls_reaching_internal_addresses_are_refused() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    for url in [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.7/hook",
        "https://[::1]/hook",
        "https://192.168.1.10/hook",
    ] {
        let r = create(&app, &token, url, json!(["*"])).await;
        r.assert_problem(422, "webhook_url_refused");
    }
    let ok = create(&app, &token, "https://93.184.216.34/hook", json!(["*"])).await;
    assert_eq!(
        ok.status.as_u16(),
        201,
        "a public address is fine: {}",
        ok.body
    );
    let id = ok.body["id"].as_str().unwrap();
    app.patch(
        &format!("/v1/organization/webhooks/{id}"),
        json!({"url": "https://127.0.0.1/x"}),
        Some(&token),
    )
    .await
    .assert_problem(422, "webhook_url_refused");
}

#[test]
fn production_refuses_plain_http() {
    let strict = EgressPolicy {
        allow_private: false,
        require_https: true,
    };
    assert!(api::egress::parse("http://hooks.example.com/", strict).is_err());
}

#[tokio::test]
async fn enabling_two_factor_sends_a_signed_event_retried_until_the_receiver_accepts() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = admin(&app).await;
    let rx = receiver(&[500, 503]).await;
    let r = create(&app, &token, &rx.url, json!(["two_factor.enabled"])).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let id = r.body["id"].as_str().unwrap().to_owned();

    enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let got = rx.wait_for(3).await;
    let first = &got[0];
    assert!(
        got.iter()
            .all(|g| g.header("webhook-id") == first.header("webhook-id")),
        "every attempt carries the same webhook-id"
    );
    for g in &got {
        assert!(verify(&secret, g), "signature: {g:?}");
    }
    let body: Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(body["type"], "two_factor.enabled");
    assert!(body["timestamp"].is_string());
    assert_eq!(body["data"]["user_id"], app.acme_admin_id.as_str());
    assert_eq!(body["data"]["organization_id"], app.acme_org_id.as_str());
    assert_eq!(body["data"]["actor"]["type"], "user");
    assert_eq!(body["data"]["ip"], "127.0.0.1");

    // The attempts, as the admin sees them.
    let path = format!("/v1/organization/webhooks/{id}/deliveries");
    let mut delivered = Value::Null;
    for _ in 0..200 {
        let list = app.get(&path, Some(&token)).await;
        let item = list.assert_ok()["items"][0].clone();
        if item["state"] == "delivered" {
            delivered = item;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(delivered["type"], "two_factor.enabled");
    assert_eq!(delivered["event_id"], first.header("webhook-id"));
    assert_eq!(delivered["attempts"], 3);
    assert_eq!(delivered["status_code"], 200);
    assert!(delivered["delivered_at"].is_string());
}

#[tokio::test]
async fn only_subscribed_events_of_the_own_organization_are_sent() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = admin(&app).await;
    let acme_rx = receiver(&[]).await;
    let other_rx = receiver(&[]).await;
    create(&app, &token, &acme_rx.url, json!(["two_factor.disabled"])).await;
    let other = app
        .access_token(OTHER_ADMIN_EMAIL, OTHER_ADMIN_PASSWORD)
        .await;
    create(&app, &other, &other_rx.url, json!(["*"])).await;

    enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    // Globex subscribed to everything: its own events only. Queue one and
    // wait for it; by then Acme's event was long fanned out.
    let r = app.get("/v1/organization/webhooks", Some(&other)).await;
    let other_id = r.body["items"][0]["id"].as_str().unwrap().to_owned();
    let t = app
        .post(
            &format!("/v1/organization/webhooks/{other_id}/test"),
            json!({}),
            Some(&other),
        )
        .await;
    assert_eq!(t.status.as_u16(), 202, "{}", t.body);
    let got = other_rx.wait_for(1).await;
    let types: Vec<String> = got
        .iter()
        .map(|g| {
            serde_json::from_str::<Value>(&g.body).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["webhook.test"], "no Acme event reaches Globex");
    assert_eq!(
        got[0].header("webhook-id"),
        t.body["event_id"].as_str().unwrap()
    );
    assert!(
        acme_rx.got.lock().unwrap().is_empty(),
        "two_factor.enabled was not subscribed"
    );
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_for_a_day() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = admin(&app).await;
    let rx = receiver(&[]).await;
    let r = create(&app, &token, &rx.url, json!(["*"])).await;
    let old = r.body["secret"].as_str().unwrap().to_owned();
    let id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/organization/webhooks/{id}");
    let new = app
        .post(&format!("{path}/rotate-secret"), json!({}), Some(&token))
        .await
        .body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("{path}/test"), json!({}), Some(&token))
        .await;
    let got = rx.wait_for(1).await;
    assert!(verify(&new, &got[0]) && verify(&old, &got[0]));

    // A day later (a new token: the old one expired meanwhile).
    app.clock.advance(Duration::from_secs(24 * 3600 + 60));
    let token = admin(&app).await;
    let queued = app
        .post(&format!("{path}/test"), json!({}), Some(&token))
        .await;
    assert_eq!(queued.status.as_u16(), 202, "{}", queued.body);
    let got = rx.wait_for(2).await;
    assert!(verify(&new, &got[1]));
    assert!(!verify(&old, &got[1]), "the old secret expired");
}

#[tokio::test]
async fn subscriptions_by_audit_name_are_stored_as_webhook_types_and_payloads_carry_them() {
    let app = spawn_app_with(FAST_OUTBOX).await;
    let token = admin(&app).await;
    let rx = receiver(&[]).await;
    let r = create(
        &app,
        &token,
        &rx.url,
        json!([
            "user.password_changed",
            "two_factor.enforced",
            "password.changed"
        ]),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(
        r.body["events"],
        json!(["password.changed", "two_factor.required"]),
        "old names are aliases, stored once as the webhook type"
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let patched = app
        .patch(
            &format!("/v1/organization/webhooks/{id}"),
            json!({"events": ["two_factor.locked", "user.password_changed"]}),
            Some(&token),
        )
        .await;
    assert_eq!(
        patched.assert_ok()["events"],
        json!(["account.locked", "password.changed"])
    );

    let changed = app
        .post(
            "/v1/me/password",
            json!({"current_password": ADMIN_PASSWORD, "new_password": "a brand new passphrase"}),
            Some(&token),
        )
        .await;
    assert!(changed.status.is_success(), "{}", changed.body);
    let got = rx.wait_for(1).await;
    assert!(verify(&secret, &got[0]));
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "password.changed");

    let token = app
        .access_token(ADMIN_EMAIL, "a brand new passphrase")
        .await;
    let deliveries = app
        .get(
            &format!("/v1/organization/webhooks/{id}/deliveries"),
            Some(&token),
        )
        .await;
    assert_eq!(
        deliveries.assert_ok()["items"][0]["type"],
        "password.changed"
    );
    let audit = app.get("/v1/audit-events?limit=5", Some(&token)).await;
    let actions: Vec<&str> = audit.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"user.password_changed"),
        "the audit log keeps its published names: {actions:?}"
    );
}

#[tokio::test]
async fn an_unknown_event_name_is_a_clear_bad_request() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let r = create(
        &app,
        &token,
        "https://93.184.216.34/in",
        json!(["account.locked", "account.exploded"]),
    )
    .await;
    r.assert_problem(400, "invalid_request");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("account.exploded"),
        "{}",
        r.body
    );
}

/// The endpoint as its admin sees it, with a fresh token (moving the clock
/// by days expires the previous one).
async fn endpoint_now(app: &TestApp, id: &str) -> Value {
    let token = admin(app).await;
    let r = app
        .get(&format!("/v1/organization/webhooks/{id}"), Some(&token))
        .await;
    r.assert_ok().clone()
}

async fn queue_test(app: &TestApp, id: &str) {
    let token = admin(app).await;
    let r = app
        .post(
            &format!("/v1/organization/webhooks/{id}/test"),
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
}

#[tokio::test]
async fn an_endpoint_failing_for_the_configured_days_is_disabled_and_the_admins_are_told() {
    let mut settings = FAST_OUTBOX.to_vec();
    settings.push(("AUTHGATE_WEBHOOK_DISABLE_AFTER_DAYS", "5"));
    let app = spawn_app_with(&settings).await;
    let token = admin(&app).await;
    let rx = receiver(&[500; 10_000]).await;
    let r = create(&app, &token, &rx.url, json!(["*"])).await;
    let id = r.body["id"].as_str().unwrap().to_owned();

    queue_test(&app, &id).await;
    rx.wait_for(2).await;
    let failing = endpoint_now(&app, &id).await;
    assert_eq!(failing["enabled"], true, "{failing}");
    assert!(failing["failing_since"].is_string(), "{failing}");

    // Four days of failures: still on.
    app.clock.advance(Duration::from_secs(4 * 86_400));
    let seen = rx.got.lock().unwrap().len();
    queue_test(&app, &id).await;
    rx.wait_for(seen + 2).await;
    assert_eq!(endpoint_now(&app, &id).await["enabled"], true);

    // Past five days: the next failure turns it off and mails the admin.
    app.clock.advance(Duration::from_secs(86_400 + 60));
    queue_test(&app, &id).await;
    let mail = wait_for_mail(&app, "a webhook endpoint was disabled").await;
    assert!(mail.contains(&format!("To: {ADMIN_EMAIL}")), "{mail}");
    assert!(mail.contains("5 day(s)"), "{mail}");
    let mut off = Value::Null;
    for _ in 0..200 {
        off = endpoint_now(&app, &id).await;
        if off["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(off["enabled"], false, "{off}");
    assert!(off["disabled_at"].is_string(), "{off}");
    assert_eq!(off["disabled_reason"], "failing", "{off}");

    // The admin fixes the receiver and turns it back on: a fresh start.
    let token = admin(&app).await;
    let on = app
        .patch(
            &format!("/v1/organization/webhooks/{id}"),
            json!({"enabled": true}),
            Some(&token),
        )
        .await;
    let on = on.assert_ok();
    assert_eq!(on["enabled"], true);
    assert!(
        on["failing_since"].is_null() && on["disabled_at"].is_null(),
        "{on}"
    );
}
