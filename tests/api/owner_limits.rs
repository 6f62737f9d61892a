//! Issue #12: limits that tell the owner from an attacker — client
//! addresses behind trusted proxies, per-address limits answered before the
//! hashing pool, and one client's share of that pool.

use serde_json::{json, Value};

use crate::helpers::*;

fn login_from(
    app: &TestApp,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> reqwest::RequestBuilder {
    app.client
        .post(app.url("/v1/auth/login"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"email": email, "password": password}))
}

async fn newest_history_ip(app: &TestApp, token: &str) -> Value {
    let history = app.get("/v1/me/login-history?limit=1", Some(token)).await;
    history.assert_ok()["items"][0]["ip"].clone()
}

#[tokio::test]
async fn three_hundred_unknown_email_failures_from_one_address_do_not_lock_out_its_owners() {
    // No proxy is trusted: every client shares the address the server sees
    // (as behind a proxy whose headers are ignored).
    let app = spawn_app().await;
    let owner = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = app
        .post(
            "/v1/users",
            json!({"email": "newcomer@acme.test", "name": "Newcomer", "role": "agent", "password": "newcomer password"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);

    for n in 0..300 {
        app.login(&format!("nobody{n}@example.test"), "guess")
            .await
            .assert_problem(401, "invalid_credentials");
    }

    // The owner, who logged in from this address before, still gets in.
    let again = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(again.assert_ok()["status"], "authenticated");
    // An account that never used this address is told to wait — not told
    // its password is wrong — and so is the next unknown email: the answer
    // depends only on the address, decided before any hashing.
    let newcomer = app.login("newcomer@acme.test", "newcomer password").await;
    newcomer.assert_problem(429, "too_many_requests");
    let unknown = app.login("nobody-else@example.test", "guess").await;
    unknown.assert_problem(429, "too_many_requests");
    assert_eq!(newcomer.body, unknown.body);
}

#[tokio::test]
async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    let r = app
        .send(login_from(
            &app,
            "198.51.100.7",
            ADMIN_EMAIL,
            ADMIN_PASSWORD,
        ))
        .await;
    let token = r.assert_ok()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(newest_history_ip(&app, &token).await, "127.0.0.1");
    let sessions = app.get("/v1/me/sessions", Some(&token)).await;
    assert_eq!(sessions.assert_ok()["items"][0]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_right_most_hop_that_is_not_a_proxy() {
    let app = spawn_app_with(&[("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8")]).await;
    // The client claimed 1.1.1.1; the edge proxy saw 203.0.113.9; an inner
    // proxy at 10.0.0.2 passed it on.
    let r = app
        .send(login_from(
            &app,
            "1.1.1.1, 203.0.113.9, 10.0.0.2",
            ADMIN_EMAIL,
            ADMIN_PASSWORD,
        ))
        .await;
    let token = r.assert_ok()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(newest_history_ip(&app, &token).await, "203.0.113.9");

    let forwarded = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}));
    let token = app.send(forwarded).await.assert_ok()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(newest_history_ip(&app, &token).await, "2001:db8:cafe::17");
}

#[tokio::test]
async fn junk_forwarded_values_are_never_stored() {
    let app = spawn_app_with(&[("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    let long = "9".repeat(4000);
    for junk in [
        "<script>alert(1)</script>",
        "unknown",
        long.as_str(),
        "1.2.3.4.5",
    ] {
        let r = app
            .send(login_from(&app, junk, ADMIN_EMAIL, ADMIN_PASSWORD))
            .await;
        let token = r.assert_ok()["access_token"].as_str().unwrap().to_owned();
        assert_eq!(
            newest_history_ip(&app, &token).await,
            "127.0.0.1",
            "{junk:.40}"
        );
        let sessions = app.get("/v1/me/sessions", Some(&token)).await;
        for s in sessions.assert_ok()["items"].as_array().unwrap() {
            assert_eq!(s["ip"], "127.0.0.1");
        }
    }
    let audit = app
        .get(
            "/v1/audit-events?limit=100",
            Some(&app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await),
        )
        .await;
    for e in audit.assert_ok()["items"].as_array().unwrap() {
        assert!(
            e["ip"].is_null()
                || e["ip"]
                    .as_str()
                    .unwrap()
                    .parse::<std::net::IpAddr>()
                    .is_ok(),
            "{e}"
        );
    }
}

#[tokio::test]
async fn fresh_ipv6_addresses_from_one_slash_64_share_one_allowance() {
    let app = spawn_app_with(&[("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    for n in 1..=300 {
        app.send(login_from(
            &app,
            &format!("2001:db8:1:2::{n:x}"),
            &format!("nobody{n}@example.test"),
            "guess",
        ))
        .await
        .assert_problem(401, "invalid_credentials");
    }
    app.send(login_from(
        &app,
        "2001:db8:1:2:ffff::1",
        "x@example.test",
        "guess",
    ))
    .await
    .assert_problem(429, "too_many_requests");
    // The neighbouring /64 is someone else.
    app.send(login_from(
        &app,
        "2001:db8:1:3::1",
        "x@example.test",
        "guess",
    ))
    .await
    .assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn one_flooding_client_gets_only_its_share_of_the_hashing_pool() {
    // Real argon2 cost here (no cheap test parameters), one worker, and a
    // share of one job per address: a flood cannot queue ahead of others.
    let app = spawn_app_with(&[
        ("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1/32"),
        ("AUTHGATE_ARGON2_MEMORY_KIB", "19456"),
        ("AUTHGATE_ARGON2_ITERATIONS", "2"),
        ("AUTHGATE_HASH_WORKERS", "1"),
        ("AUTHGATE_HASH_PER_ADDRESS", "1"),
    ])
    .await;
    let send = |req: reqwest::RequestBuilder| async move {
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap())
    };
    let mut flood = tokio::task::JoinSet::new();
    for n in 0..24 {
        flood.spawn(send(login_from(
            &app,
            "203.0.113.9",
            &format!("nobody{n}@example.test"),
            "guess",
        )));
    }
    let owner = tokio::spawn(send(login_from(
        &app,
        "198.51.100.7",
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
    )));
    let (status, body) = owner.await.unwrap();
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("authenticated"))
    );
    let mut refused = 0;
    while let Some(r) = flood.join_next().await {
        let (status, body) = r.unwrap();
        match status {
            429 => {
                assert_eq!(body["code"], "too_many_requests");
                refused += 1;
            }
            _ => assert_eq!(
                (status, body["code"].clone()),
                (401, json!("invalid_credentials"))
            ),
        }
    }
    assert!(
        refused > 0,
        "24 concurrent logins from one address all got a hashing slot"
    );
}

async fn otp(app: &TestApp, code: &str) -> Reply {
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.assert_ok()["status"], "otp_required");
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": r.body["challenge_token"], "code": code}),
        None,
    )
    .await
}

#[tokio::test]
async fn the_owner_sending_one_code_from_two_devices_is_told_to_wait_and_never_throttled() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let code = auth.fresh_code().await;
    assert_eq!(
        otp(&app, &code).await.assert_ok()["status"],
        "authenticated"
    );
    // The web app, the extension, a retry: far more than the five free
    // failures, and none of them counts.
    for _ in 0..8 {
        let again = otp(&app, &code).await;
        again.assert_problem(401, "code_already_used");
        assert!(again.headers.contains_key("retry-after"));
    }
    let next = auth.fresh_code().await;
    assert_eq!(
        otp(&app, &next).await.assert_ok()["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn a_recovery_code_gets_the_owner_through_a_wait_that_wrong_codes_caused() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (auth, codes) = enable_two_factor_with_codes(&app, &token, ADMIN_PASSWORD).await;
    let recovery = codes[0].clone();
    // Somebody who knows the password guesses codes until a wait begins.
    let mut waiting = false;
    for _ in 0..10 {
        let r = otp(&app, &auth.wrong_code()).await;
        if r.status.as_u16() == 429 {
            r.assert_problem(429, "too_many_attempts");
            waiting = true;
            break;
        }
        r.assert_problem(401, "invalid_code");
    }
    assert!(waiting, "wrong codes lead to a wait");

    // A wrong recovery code is checked during the wait, refused like a
    // wrong code, and does not lengthen the wait.
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": r.body["challenge_token"], "recovery_code": "aaaa-aaaa-aaaa-aaaa"}),
        None,
    )
    .await
    .assert_problem(401, "invalid_code");

    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let done = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": r.body["challenge_token"], "recovery_code": recovery}),
            None,
        )
        .await;
    assert_eq!(done.assert_ok()["status"], "authenticated");
    assert_eq!(done.body["amr"], json!(["pwd", "otp"]));
}

#[tokio::test]
async fn racing_recovery_codes_on_one_challenge_spend_exactly_one() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, codes) = enable_two_factor_with_codes(&app, &token, ADMIN_PASSWORD).await;

    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let challenge = r.body["challenge_token"].as_str().unwrap().to_owned();
    let tasks: Vec<_> = codes[..5]
        .iter()
        .map(|rc| {
            let req = app
                .client
                .post(app.url("/v1/auth/otp"))
                .json(&json!({"challenge_token": challenge, "recovery_code": rc}));
            tokio::spawn(async move { req.send().await.unwrap().json::<Value>().await.unwrap() })
        })
        .collect();
    let mut signed_in = None;
    for t in tasks {
        let body = t.await.unwrap();
        if body["status"] == "authenticated" {
            assert!(signed_in.is_none(), "one challenge, one sign-in");
            signed_in = Some(body["access_token"].as_str().unwrap().to_owned());
        }
    }
    let access = signed_in.expect("one of them signed in");
    let me = app.get("/v1/me", Some(&access)).await;
    assert_eq!(
        me.assert_ok()["two_factor"]["recovery_codes_remaining"],
        9,
        "the losers' recovery codes are still good"
    );
}

/// Finding 7: a junk challenge or refresh token took SQLite's one write
/// lock just to learn it was junk, so a flood of them queued real logins
/// behind it. Now junk is answered from a read: with the write lock held
/// elsewhere (here by the test itself), junk is still refused at once with
/// 401, where a write would wait out the busy timeout and answer 503.
#[tokio::test]
async fn junk_challenge_and_refresh_tokens_never_queue_for_the_write_lock() {
    use diesel::{connection::SimpleConnection, Connection, SqliteConnection};
    if on_postgres() {
        return; // PostgreSQL has no single database-wide write lock to queue for.
    }
    let app = spawn_app().await;
    let db = std::fs::read_dir(app.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "db"))
        .expect("the SQLite file");
    let mut writer = SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    writer.batch_execute("BEGIN IMMEDIATE").unwrap();

    let junk = "ch_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": junk, "code": "123456"}),
        None,
    )
    .await
    .assert_problem(401, "invalid_challenge");
    app.post(
        "/v1/auth/enrollment/confirm",
        json!({"challenge_token": junk, "code": "123456"}),
        None,
    )
    .await
    .assert_problem(401, "invalid_challenge");
    app.post(
        "/v1/auth/refresh",
        json!({"refresh_token": "rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
        None,
    )
    .await
    .assert_problem(401, "refresh_token_invalid");
    // A real write does wait for the lock, which is what junk used to do.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .assert_problem(503, "database_unavailable");
    writer.batch_execute("ROLLBACK").unwrap();
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.assert_ok()["status"], "authenticated");
}

/// Finding 7: a login that checked the old password while the password was
/// being changed could open a session after the change had ended the
/// others, and keep it. Now every session opened with the old password
/// ends with the change, however the two interleave.
#[tokio::test]
async fn no_session_opened_with_the_old_password_survives_a_password_change() {
    // One test client is many people here: lift the per-address share of
    // the hashing pool so that the change is not queued out.
    let app = spawn_app_with(&[("AUTHGATE_HASH_PER_ADDRESS", "1000")]).await;
    let owner = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let logins: Vec<_> = (0..24)
        .map(|_| {
            let req = app
                .client
                .post(app.url("/v1/auth/login"))
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}));
            tokio::spawn(async move {
                let res = req.send().await.unwrap();
                res.json::<Value>().await.unwrap()
            })
        })
        .collect();
    let change = app
        .post(
            "/v1/me/password",
            json!({"current_password": ADMIN_PASSWORD, "new_password": "a brand new password"}),
            Some(&owner),
        )
        .await;
    assert_eq!(change.status.as_u16(), 204, "{}", change.body);
    for login in logins {
        let body = login.await.unwrap();
        if let Some(token) = body["access_token"].as_str() {
            app.get("/v1/me", Some(token))
                .await
                .assert_problem(401, "unauthorized");
        }
    }
    // The owner's own session, which made the change, lives on.
    app.get("/v1/me", Some(&owner)).await.assert_ok();
}

/// The owner's home address (they sign in from it) and a stranger's.
const HOME: &str = "198.51.100.7";
const STRANGER: &str = "203.0.113.9";

/// The code step sent from `from`.
async fn code_from(app: &TestApp, from: &str, challenge: &Value, body: Value) -> Reply {
    let mut body = body;
    body["challenge_token"] = challenge.clone();
    app.send(
        app.client
            .post(app.url("/v1/auth/otp"))
            .header("X-Forwarded-For", from)
            .json(&body),
    )
    .await
}

/// The password step from `from`, expecting the code step; its challenge.
async fn challenge_from(app: &TestApp, from: &str) -> Value {
    let r = app
        .send(login_from(app, from, ADMIN_EMAIL, ADMIN_PASSWORD))
        .await;
    assert_eq!(r.assert_ok()["status"], "otp_required", "{}", r.body);
    r.body["challenge_token"].clone()
}

/// A whole login from `from` with a right code, remembering the device.
async fn owner_signs_in(app: &TestApp, from: &str, auth: &mut Authenticator) -> Value {
    let challenge = challenge_from(app, from).await;
    let code = auth.fresh_code().await;
    let r = code_from(
        app,
        from,
        &challenge,
        json!({"code": code, "remember_device": true}),
    )
    .await;
    assert_eq!(r.assert_ok()["status"], "authenticated", "{}", r.body);
    r.body.clone()
}

fn seconds(r: &Reply) -> u64 {
    r.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

/// A proxy in front, fast mail, and an owner with 2FA who signed in from
/// home; their authenticator.
async fn owner_at_home(app: &TestApp) -> Authenticator {
    let r = app
        .send(login_from(app, HOME, ADMIN_EMAIL, ADMIN_PASSWORD))
        .await;
    let token = r.assert_ok()["access_token"].as_str().unwrap().to_owned();
    enable_two_factor(app, &token, ADMIN_PASSWORD).await
}

#[tokio::test]
async fn a_stranger_who_hard_locks_the_codes_leaves_the_owner_signing_in_from_home() {
    let mut env = vec![("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1/32")];
    env.extend_from_slice(crate::notifications::FAST_OUTBOX);
    let app = spawn_app_with(&env).await;
    let mut auth = owner_at_home(&app).await;
    let mut device = owner_signs_in(&app, HOME, &mut auth).await["device_token"].clone();

    // Somebody who knows the password guesses codes from elsewhere, as fast
    // as the throttle lets them, for as long as it takes (about a year: one
    // guess per 96 h after the first few). The owner signs in from home
    // every three weeks meanwhile, as owners do.
    let mut wrong = 0;
    let mut since_owner = std::time::Duration::ZERO;
    let locked = loop {
        let challenge = challenge_from(&app, STRANGER).await;
        let r = code_from(
            &app,
            STRANGER,
            &challenge,
            json!({"code": auth.wrong_code()}),
        )
        .await;
        match (r.status.as_u16(), r.body["code"].as_str()) {
            (401, Some("invalid_code")) => wrong += 1,
            (429, Some("too_many_attempts")) => {
                let wait = std::time::Duration::from_secs(seconds(&r));
                app.clock.advance(wait);
                since_owner += wait;
            }
            (429, Some("account_locked")) => break r,
            _ => panic!("after {wrong} wrong codes: {} {}", r.status, r.body),
        }
        if since_owner > std::time::Duration::from_secs(21 * 86_400) {
            device = owner_signs_in(&app, HOME, &mut auth).await["device_token"].clone();
            since_owner = std::time::Duration::ZERO;
        }
    };
    assert_eq!(wrong, 100, "the hundredth consecutive wrong code locks");
    assert_eq!(locked.body["code"], "account_locked");

    // Even the right code is refused from strangers' addresses now ...
    let challenge = challenge_from(&app, STRANGER).await;
    let code = auth.fresh_code().await;
    code_from(&app, STRANGER, &challenge, json!({"code": code}))
        .await
        .assert_problem(429, "account_locked");
    // ... but the owner at home signs in with a code, and the remembered
    // device signs in without one, wherever it is.
    let tokens = owner_signs_in(&app, HOME, &mut auth).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    for from in [HOME, "192.0.2.44"] {
        let r = app
            .send(
                app.client
                    .post(app.url("/v1/auth/login"))
                    .header("X-Forwarded-For", from)
                    .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "device_token": device})),
            )
            .await;
        assert_eq!(r.assert_ok()["amr"], json!(["pwd", "device"]), "{from}");
    }

    // The owner is told, the audit log names the budget, and the admin
    // view says which budget is locked.
    crate::notifications::wait_for_mail(&app, "does not usually sign in from").await;
    let audit = app.get("/v1/audit-events?limit=100", Some(&access)).await;
    let lock = audit.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "two_factor.locked")
        .cloned()
        .unwrap_or_else(|| panic!("no lock in {}", audit.body));
    assert_eq!(lock["details"]["budget"], "stranger");
    assert_eq!(lock["details"]["consecutive_failures"], 100);
    let me = app
        .get(&format!("/v1/users/{}", app.acme_admin_id), Some(&access))
        .await;
    assert_eq!(me.assert_ok()["locked"], true);
    assert_eq!(me.body["locked_budgets"], json!(["stranger"]));

    // A step-up answers to the budget of its address too: the same session
    // meets the lock from a stranger's address and proves a code from home.
    let step_up = |from: &str, code: String| {
        app.client
            .post(app.url("/v1/me/two-factor/recovery-codes"))
            .header("X-Forwarded-For", from)
            .bearer_auth(&access)
            .json(&json!({"password": ADMIN_PASSWORD, "code": code}))
    };
    app.send(step_up(STRANGER, auth.fresh_code().await))
        .await
        .assert_problem(429, "account_locked");
    let r = app.send(step_up(HOME, auth.fresh_code().await)).await;
    assert_eq!(
        r.assert_ok()["recovery_codes"].as_array().unwrap().len(),
        10
    );
}

#[tokio::test]
async fn the_owner_s_wrong_codes_at_home_do_not_spend_the_strangers_budget() {
    let app = spawn_app_with(&[("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    let mut auth = owner_at_home(&app).await;
    owner_signs_in(&app, HOME, &mut auth).await;
    // Wrong codes from home until the owner's budget says wait.
    let mut waiting = None;
    for _ in 0..10 {
        let challenge = challenge_from(&app, HOME).await;
        let r = code_from(&app, HOME, &challenge, json!({"code": auth.wrong_code()})).await;
        if r.status.as_u16() == 429 {
            waiting = Some(r);
            break;
        }
        r.assert_problem(401, "invalid_code");
    }
    waiting
        .expect("wrong codes at home lead to a wait")
        .assert_problem(429, "too_many_attempts");
    // Home waits even for the right code; a code from another address
    // answers to the other budget, which nobody spent.
    let challenge = challenge_from(&app, HOME).await;
    let code = auth.fresh_code().await;
    code_from(&app, HOME, &challenge, json!({"code": code}))
        .await
        .assert_problem(429, "too_many_attempts");
    let elsewhere = owner_signs_in(&app, "192.0.2.44", &mut auth).await;
    assert_eq!(elsewhere["amr"], json!(["pwd", "otp"]));
}
