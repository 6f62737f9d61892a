//! Issue: attack resistance — brute-force limits, recovery codes, session
//! lifecycle, forged tokens, CORS, and nothing secret in the database.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::helpers::*;

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

async fn challenge(app: &TestApp) -> String {
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.assert_ok()["status"], "otp_required");
    r.body["challenge_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn wrong_codes_lead_to_waits_with_retry_after_and_the_history_says_locked() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    // Five free failures.
    for _ in 0..5 {
        let ch = challenge(&app).await;
        app.post(
            "/v1/auth/otp",
            json!({"challenge_token": ch, "code": auth.wrong_code()}),
            None,
        )
        .await
        .assert_problem(401, "invalid_code");
    }
    let ch = challenge(&app).await;
    // Now even the right code must wait: this address's budget spent its
    // burst of five, and the next guess refills in 96 h (w = 1).
    let res = app
        .client
        .post(app.url("/v1/auth/otp"))
        .json(&json!({"challenge_token": ch, "code": auth.fresh_code().await}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=96 * 3600).contains(&retry), "{retry}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");

    let history = app
        .get("/v1/me/login-history?limit=1", Some(&token))
        .await
        .body;
    assert_eq!(history["items"][0]["outcome"], "locked");

    // An admin unlock lifts the wait at once.
    let other_admin = app
        .post(
            "/v1/users",
            json!({"email": "second@acme.test", "name": "Second", "role": "admin", "password": "second admin pw"}),
            Some(&token),
        )
        .await;
    assert_eq!(other_admin.status.as_u16(), 201);
    let second = app
        .access_token("second@acme.test", "second admin pw")
        .await;
    let r = app
        .post(
            &format!("/v1/users/{}/unlock", app.acme_admin_id),
            json!({}),
            Some(&second),
        )
        .await;
    assert_eq!(r.assert_ok()["locked"], false);
    let tokens = login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut auth).await;
    assert_eq!(tokens["status"], "authenticated");
}

#[tokio::test]
async fn password_guessing_from_a_stranger_does_not_lock_out_the_owner() {
    let app = spawn_app_with(&[("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    let from = |ip: &'static str, password: &str| {
        app.client
            .post(app.url("/v1/auth/login"))
            .header("X-Forwarded-For", ip)
            .json(&json!({"email": ADMIN_EMAIL, "password": password}))
    };
    // The owner logs in from their office: that address becomes familiar.
    assert_eq!(
        app.send(from("198.51.100.7", ADMIN_PASSWORD))
            .await
            .status
            .as_u16(),
        200
    );
    // A stranger guesses 100 times in an hour.
    for _ in 0..100 {
        app.send(from("203.0.113.9", "guess"))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // Now even the right password from a stranger is refused, and the
    // answer is exactly the wrong-password answer.
    let throttled = app.send(from("203.0.113.9", ADMIN_PASSWORD)).await;
    let wrong = app.send(from("198.51.100.7", "typo")).await;
    throttled.assert_problem(401, "invalid_credentials");
    assert_eq!(throttled.body, wrong.body);
    // The owner, from their familiar address, still gets in.
    let owner = app.send(from("198.51.100.7", ADMIN_PASSWORD)).await;
    assert_eq!(owner.assert_ok()["status"], "authenticated");
    let token = owner.body["access_token"].as_str().unwrap();
    let history = app.get("/v1/me/login-history?limit=3", Some(token)).await;
    let outcomes: Vec<_> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            json!("success"),
            json!("wrong_password"),
            json!("throttled")
        ]
    );
}

#[tokio::test]
async fn recovery_codes_work_once_each_and_can_be_replaced() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    let mut auth = app.authenticator(r.body["secret"].as_str().unwrap());
    let enabled = app
        .post(
            "/v1/me/two-factor/enrollment/confirm",
            json!({"code": auth.fresh_code().await}),
            Some(&token),
        )
        .await;
    let codes: Vec<String> = enabled.assert_ok()["recovery_codes"]
        .as_array()
        .expect("ten codes, once")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    for c in &codes {
        assert!(c.len() == 19 && c.matches('-').count() == 3, "{c}");
    }
    let me = app.get("/v1/me", Some(&token)).await;
    assert!(
        me.body["two_factor"].get("recovery_codes").is_none(),
        "shown once only"
    );

    let ch = challenge(&app).await;
    let used = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": ch, "recovery_code": codes[0].to_uppercase()}),
            None,
        )
        .await;
    let session = used.assert_ok()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app.get("/v1/me", Some(&session)).await;
    assert_eq!(me.body["two_factor"]["recovery_codes_remaining"], 9);
    let history = app
        .get("/v1/me/login-history?limit=1", Some(&session))
        .await;
    assert_eq!(history.body["items"][0]["outcome"], "recovery_code");
    let audit = app.get("/v1/audit-events?limit=1", Some(&session)).await;
    assert_eq!(
        audit.body["items"][0]["action"],
        "two_factor.recovery_code_used"
    );

    let ch = challenge(&app).await;
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": ch, "recovery_code": codes[0]}),
        None,
    )
    .await
    .assert_problem(401, "invalid_code");
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": ch, "code": "123456", "recovery_code": codes[1]}),
        None,
    )
    .await
    .assert_problem(400, "invalid_request");

    app.post(
        "/v1/me/two-factor/recovery-codes",
        json!({"password": "wrong"}),
        Some(&session),
    )
    .await
    .assert_problem(401, "invalid_password");
    app.post(
        "/v1/me/two-factor/recovery-codes",
        json!({"password": ADMIN_PASSWORD}),
        Some(&session),
    )
    .await
    .assert_problem(403, "step_up_required");
    let fresh = app
        .post(
            "/v1/me/two-factor/recovery-codes",
            json!({"password": ADMIN_PASSWORD, "code": auth.fresh_code().await}),
            Some(&session),
        )
        .await;
    let fresh: Vec<String> = fresh.assert_ok()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": ch, "recovery_code": codes[1]}),
        None,
    )
    .await
    .assert_problem(401, "invalid_code");
    let ok = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge(&app).await, "recovery_code": fresh[3]}),
            None,
        )
        .await;
    assert_eq!(ok.assert_ok()["status"], "authenticated");
    let _ = auth.fresh_code().await;
}

#[tokio::test]
async fn forced_enrollment_at_login_also_returns_recovery_codes() {
    let app = spawn_app().await;
    let admin = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.post(
        "/v1/users",
        json!({"email": "agent@acme.test", "name": "A", "role": "agent", "password": "agent password", "require_two_factor": true}),
        Some(&admin),
    )
    .await;
    let login = app.login("agent@acme.test", "agent password").await.body;
    let ch = login["challenge_token"].as_str().unwrap();
    let e = app
        .post("/v1/auth/enrollment", json!({"challenge_token": ch}), None)
        .await;
    let mut auth = app.authenticator(e.body["secret"].as_str().unwrap());
    let tokens = app
        .post(
            "/v1/auth/enrollment/confirm",
            json!({"challenge_token": ch, "code": auth.fresh_code().await}),
            None,
        )
        .await;
    assert_eq!(
        tokens.assert_ok()["recovery_codes"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn users_list_and_end_their_sessions_and_a_password_change_ends_the_others() {
    let app = spawn_app().await;
    let phone = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let laptop = app
        .post(
            "/v1/auth/login",
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "client": "extension"}),
            None,
        )
        .await
        .body;
    let laptop_token = laptop["access_token"].as_str().unwrap();
    let list = app.get("/v1/me/sessions", Some(laptop_token)).await;
    let items = list.assert_ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    let current: Vec<_> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["client"], "extension");
    let phone_id = items.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Ending another session needs the password.
    app.send(
        app.client
            .delete(app.url(&format!("/v1/me/sessions/{phone_id}")))
            .bearer_auth(laptop_token),
    )
    .await
    .assert_problem(403, "step_up_required");
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/v1/me/sessions/{phone_id}")))
                .bearer_auth(laptop_token)
                .json(&json!({"password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    app.get("/v1/me", phone["access_token"].as_str())
        .await
        .assert_problem(401, "unauthorized");
    let again = app
        .send(
            app.client
                .delete(app.url(&format!("/v1/me/sessions/{phone_id}")))
                .bearer_auth(laptop_token)
                .json(&json!({"password": ADMIN_PASSWORD})),
        )
        .await;
    again.assert_problem(404, "not_found");

    // Change the password from the laptop: a third session ends.
    let tablet = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.post(
        "/v1/me/password",
        json!({"current_password": "wrong", "new_password": "a new password"}),
        Some(laptop_token),
    )
    .await
    .assert_problem(401, "invalid_password");
    app.post(
        "/v1/me/password",
        json!({"current_password": ADMIN_PASSWORD, "new_password": "short"}),
        Some(laptop_token),
    )
    .await
    .assert_problem(400, "invalid_request");
    let r = app
        .post(
            "/v1/me/password",
            json!({"current_password": ADMIN_PASSWORD, "new_password": "a new password"}),
            Some(laptop_token),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    app.get("/v1/me", Some(&tablet))
        .await
        .assert_problem(401, "unauthorized");
    app.get("/v1/me", Some(laptop_token)).await.assert_ok();
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    assert_eq!(
        app.login(ADMIN_EMAIL, "a new password").await.body["status"],
        "authenticated"
    );
}

fn jwt(header: Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string()),
        B64URL.encode(signature)
    )
}

#[tokio::test]
async fn forged_expired_and_misdirected_tokens_are_refused() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.get("/v1/me", Some(&token)).await.assert_ok();
    let good = claims(&token);
    let kid = app.get("/.well-known/jwks.json", None).await.body["keys"][0].clone();

    // alg: none
    let none = jwt(
        json!({"alg": "none", "typ": "at+jwt", "kid": kid["kid"]}),
        &good,
        b"",
    );
    // HS256 keyed with the public key (algorithm confusion)
    let public = B64URL.decode(kid["x"].as_str().unwrap()).unwrap();
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            typ: Some("at+jwt".into()),
            kid: kid["kid"].as_str().map(str::to_owned),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &good,
        &jsonwebtoken::EncodingKey::from_secret(&public).unwrap(),
    )
    .unwrap();
    // Properly signed with the server's own key, but wrong audience,
    // wrong issuer, or expired.
    let pem = std::fs::read_to_string(app.dir.path().join("keys/signing.pem")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_ed_pem(pem.as_bytes()).unwrap();
    let signed = |claims: &Value| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.typ = Some("at+jwt".into());
        header.kid = kid["kid"].as_str().map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    };
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    assert_eq!(
        app.get("/v1/me", Some(&signed(&good)))
            .await
            .status
            .as_u16(),
        200,
        "the control token works"
    );
    let wrong_aud = signed(&with("aud", json!("someone-else")));
    let wrong_iss = signed(&with("iss", json!("https://evil.example")));
    let expired = signed(&with("exp", json!(good["iat"].as_i64().unwrap() - 1)));
    // A valid signature over other claims.
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64URL.encode(with("role", json!("agent")).to_string()),
        parts[2]
    );
    let challenge_token = {
        let t = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        enable_two_factor(&app, &t, ADMIN_PASSWORD).await;
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body["challenge_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (name, t) in [
        ("alg none", none),
        ("HS256 with the public key", hs),
        ("wrong aud", wrong_aud),
        ("wrong iss", wrong_iss),
        ("expired", expired),
        ("tampered payload", tampered),
        ("challenge token", challenge_token),
    ] {
        let r = app.get("/v1/me", Some(&t)).await;
        assert_eq!(r.status.as_u16(), 401, "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn the_database_holds_no_secret_in_plain_text() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let token = first["access_token"].as_str().unwrap();
    let r = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": ADMIN_PASSWORD}),
            Some(token),
        )
        .await;
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let mut auth = app.authenticator(&secret);
    let enabled = app
        .post(
            "/v1/me/two-factor/enrollment/confirm",
            json!({"code": auth.fresh_code().await}),
            Some(token),
        )
        .await;
    let codes: Vec<String> = enabled.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let later = login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut auth).await;
    let raw_secret: String = auth
        .secret()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let contents = String::from_utf8_lossy(&app.database_contents()).into_owned();
    let mut needles = vec![
        ("TOTP secret", secret.clone()),
        ("TOTP secret bytes", raw_secret),
        ("password", ADMIN_PASSWORD.to_owned()),
        (
            "refresh token",
            later["refresh_token"].as_str().unwrap().to_owned(),
        ),
        (
            "refresh token",
            first["refresh_token"].as_str().unwrap().to_owned(),
        ),
    ];
    for c in &codes {
        needles.push(("recovery code", c.clone()));
        needles.push(("recovery code", c.replace('-', "")));
    }
    for (what, needle) in needles {
        assert!(
            !contents.contains(&needle),
            "the database holds a {what} in plain text"
        );
        assert!(
            !contents.contains(&needle.to_lowercase()),
            "the database holds a {what} in plain text"
        );
    }
    let raw = app.database_contents();
    assert!(
        !raw.windows(20).any(|w| w == auth.secret().as_bytes()),
        "raw secret bytes"
    );
}

#[tokio::test]
async fn cors_allows_the_configured_origins_only_and_token_responses_are_not_cached() {
    let extension = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
    let app = spawn_app_with(&[(
        "AUTHGATE_CORS_ALLOWED_ORIGINS",
        &format!("https://app.inbox.test,{extension}"),
    )])
    .await;
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/auth/login"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = preflight(extension).await.unwrap();
    assert!(ok.status().is_success());
    assert_eq!(ok.headers()["access-control-allow-origin"], extension);
    assert!(ok
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(denied
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("Origin", "https://app.inbox.test")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.inbox.test");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
}

#[tokio::test]
async fn rotated_signing_keys_keep_old_tokens_valid_and_sign_new_ones() {
    let app = spawn_app().await;
    let old_token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_authgate"))
        .envs(app.binary_env())
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A token signed with the new key makes the server look again (and it
    // would anyway within a minute).
    let pem = std::fs::read_to_string(app.dir.path().join("keys/signing.pem")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_ed_pem(pem.as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    // "signing key OLD retired; new signing key NEW"
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let new_kid = stdout
        .lines()
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .unwrap()
        .to_owned();
    header.kid = Some(new_kid.clone());
    let new_token = jsonwebtoken::encode(&header, &claims(&old_token), &key).unwrap();
    app.get("/v1/me", Some(&new_token)).await.assert_ok();
    app.get("/v1/me", Some(&old_token)).await.assert_ok();
    let jwks = app.get("/.well-known/jwks.json", None).await;
    let kids: Vec<_> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0], json!(new_kid), "the new key signs");
    let fresh = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let header: Value =
        serde_json::from_slice(&B64URL.decode(fresh.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["kid"], json!(new_kid));
}
