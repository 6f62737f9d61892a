//! Issue: self-service two-factor login, end to end.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn login_without_two_factor_is_authenticated_with_password_amr() {
    let app = spawn_app().await;
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = r.assert_ok();
    assert_eq!(body["status"], "authenticated");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("rt_"));
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["amr"], json!(["pwd"]));
    assert_eq!(c["sub"], app.acme_admin_id);
    assert_eq!(c["org"], app.acme_org_id);
    assert_eq!(c["role"], "admin");
    assert!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap() <= 900);
}

#[tokio::test]
async fn enrollment_shows_a_qr_code_and_only_the_right_code_enables_it() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let r = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    let e = r.assert_ok().clone();
    let secret = e["secret"].as_str().unwrap();
    let uri = e["otpauth_uri"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in unpadded base32");
    assert!(
        uri.starts_with("otpauth://totp/Authgate:admin%40acme.test?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}&")));
    assert!(uri.contains("&algorithm=SHA1&digits=6&period=30"));
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(decode_qr_png(e["qr_png"].as_str().unwrap()), uri);

    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me.assert_ok()["two_factor"]["status"], "pending");

    let mut auth = app.authenticator(secret);
    let wrong = app
        .post(
            "/v1/me/two-factor/enrollment/confirm",
            json!({"code": auth.wrong_code()}),
            Some(&token),
        )
        .await;
    wrong.assert_problem(401, "invalid_code");
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(
        me.assert_ok()["two_factor"]["status"],
        "pending",
        "a wrong code keeps it pending"
    );

    let right = app
        .post(
            "/v1/me/two-factor/enrollment/confirm",
            json!({"code": auth.fresh_code().await}),
            Some(&token),
        )
        .await;
    assert_eq!(right.assert_ok()["status"], "enabled");
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(
        me.assert_ok()["two_factor"],
        json!({"status": "enabled", "enforced": false, "enforced_by": null, "recovery_codes_remaining": 10})
    );
}

#[tokio::test]
async fn restarting_enrollment_replaces_the_secret() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    let mut old = app.authenticator(first.assert_ok()["secret"].as_str().unwrap());
    let second = app
        .post(
            "/v1/me/two-factor/enrollment",
            json!({"password": ADMIN_PASSWORD}),
            Some(&token),
        )
        .await;
    assert_ne!(first.body["secret"], second.assert_ok()["secret"]);
    let r = app
        .post(
            "/v1/me/two-factor/enrollment/confirm",
            json!({"code": old.fresh_code().await}),
            Some(&token),
        )
        .await;
    r.assert_problem(401, "invalid_code");
}

#[tokio::test]
async fn with_two_factor_a_token_needs_password_and_a_fresh_code() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;

    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = r.assert_ok();
    assert_eq!(body["status"], "otp_required");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    assert!(body["expires_in"].as_u64().unwrap() <= 300);
    let challenge = body["challenge_token"].as_str().unwrap().to_owned();

    let wrong = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": auth.wrong_code()}),
            None,
        )
        .await;
    wrong.assert_problem(401, "invalid_code");

    let code = auth.fresh_code().await;
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let ok = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": spaced}),
            None,
        )
        .await;
    let tokens = ok.assert_ok();
    assert_eq!(tokens["status"], "authenticated");
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );

    // The challenge is spent.
    let again = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": code}),
            None,
        )
        .await;
    again.assert_problem(401, "invalid_challenge");

    // The same code on a new challenge is a replay: refused, told apart
    // from a wrong code, and not counted (the owner's second device).
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let challenge = r.assert_ok()["challenge_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let replay = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": auth.last_code()}),
            None,
        )
        .await;
    replay.assert_problem(401, "code_already_used");
    let wait: u64 = replay.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "until the next code: {wait}");
    assert_ne!(replay.body["detail"], wrong.body["detail"]);
}

#[tokio::test]
async fn a_challenge_token_is_not_an_access_token() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let challenge = r.assert_ok()["challenge_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app.get("/v1/me", Some(&challenge)).await;
    me.assert_problem(401, "unauthorized");
    let refresh = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": challenge}),
            None,
        )
        .await;
    refresh.assert_problem(401, "refresh_token_invalid");
}

#[tokio::test]
async fn disabling_needs_the_right_password_and_a_code_and_then_login_is_immediate() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;

    let wrong = app
        .post(
            "/v1/me/two-factor/disable",
            json!({"password": "not the password"}),
            Some(&token),
        )
        .await;
    wrong.assert_problem(401, "invalid_password");
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me.assert_ok()["two_factor"]["status"], "enabled");
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body["status"],
        "otp_required"
    );

    let tokens = login_with_code(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &mut auth).await;
    let token = tokens["access_token"].as_str().unwrap();
    let ok = app
        .post(
            "/v1/me/two-factor/disable",
            json!({"password": ADMIN_PASSWORD, "code": auth.fresh_code().await}),
            Some(token),
        )
        .await;
    assert_eq!(ok.assert_ok()["status"], "disabled");
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.assert_ok()["status"], "authenticated");
    assert_eq!(
        claims(r.body["access_token"].as_str().unwrap())["amr"],
        json!(["pwd"])
    );
}

#[tokio::test]
async fn the_login_history_shows_every_attempt_with_its_outcome() {
    let app = spawn_app().await;
    app.login(ADMIN_EMAIL, "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;

    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let challenge = r.body["challenge_token"].as_str().unwrap().to_owned();
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": challenge, "code": auth.wrong_code()}),
        None,
    )
    .await
    .assert_problem(401, "invalid_code");
    let c = auth.fresh_code().await;
    let tokens = app
        .post(
            "/v1/auth/otp",
            json!({"challenge_token": challenge, "code": c}),
            None,
        )
        .await;
    let token = tokens.assert_ok()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let challenge = r.body["challenge_token"].as_str().unwrap().to_owned();
    app.post(
        "/v1/auth/otp",
        json!({"challenge_token": challenge, "code": c}),
        None,
    )
    .await
    .assert_problem(401, "code_already_used");

    let history = app.get("/v1/me/login-history", Some(&token)).await;
    let items = history.assert_ok()["items"].as_array().unwrap().clone();
    let outcomes: Vec<&str> = items
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "replayed_code",
            "otp_required",
            "success",
            "wrong_code",
            "otp_required",
            "success",
            "wrong_password"
        ],
        "newest first"
    );
    let newest = &items[0];
    assert_eq!(newest["client"], "web");
    assert_eq!(newest["ip"], "127.0.0.1");
    assert_eq!(newest["user_agent"], "authgate-tests/1.0");
    assert!(newest["at"].as_str().unwrap().ends_with('Z'));

    // Paginated: two per page, following the cursor.
    let page1 = app.get("/v1/me/login-history?limit=2", Some(&token)).await;
    let page1 = page1.assert_ok();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_before"].as_i64().unwrap();
    let page2 = app
        .get(
            &format!("/v1/me/login-history?limit=2&before={cursor}"),
            Some(&token),
        )
        .await;
    assert_eq!(page2.assert_ok()["items"][0]["outcome"], "success");
    app.get("/v1/me/login-history?limit=0", Some(&token))
        .await
        .assert_problem(400, "invalid_request");
}

#[tokio::test]
async fn the_database_holds_no_totp_secret_in_plain_text() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let base32 = auth.secret().to_base32();
    let raw = auth.secret().as_bytes().to_vec();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let contents = app.database_contents();
    for needle in [
        base32.as_bytes(),
        base32.to_lowercase().as_bytes(),
        &raw[..],
        hex.as_bytes(),
    ] {
        assert!(
            !contents.windows(needle.len()).any(|w| w == needle),
            "the database contains the TOTP secret"
        );
    }
}

#[tokio::test]
async fn refresh_rotates_the_token_and_logout_ends_the_session() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let refresh = |t: &serde_json::Value| json!({"refresh_token": t["refresh_token"]});
    let second = app.post("/v1/auth/refresh", refresh(&first), None).await;
    let second = second.assert_ok().clone();
    assert_ne!(first["refresh_token"], second["refresh_token"]);
    assert_eq!(
        claims(second["access_token"].as_str().unwrap())["amr"],
        json!(["pwd"])
    );
    let third = app
        .post("/v1/auth/refresh", refresh(&second), None)
        .await
        .assert_ok()
        .clone();

    let access = third["access_token"].as_str().unwrap();
    let logout = app.post("/v1/auth/logout", json!({}), Some(access)).await;
    assert_eq!(logout.status.as_u16(), 204);
    app.get("/v1/me", Some(access))
        .await
        .assert_problem(401, "unauthorized");
    app.post("/v1/auth/refresh", refresh(&third), None)
        .await
        .assert_problem(401, "session_revoked");
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_whole_session() {
    let app = spawn_app().await;
    let stolen = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let refresh = |t: &serde_json::Value| json!({"refresh_token": t["refresh_token"]});
    // The legitimate client rotates; then, after the grace, the thief
    // replays the old token.
    let current = app
        .post("/v1/auth/refresh", refresh(&stolen), None)
        .await
        .assert_ok()
        .clone();
    app.clock.advance(std::time::Duration::from_secs(21));
    app.post("/v1/auth/refresh", refresh(&stolen), None)
        .await
        .assert_problem(401, "session_revoked");
    // The whole session is gone: the current refresh and access tokens too.
    app.post("/v1/auth/refresh", refresh(&current), None)
        .await
        .assert_problem(401, "session_revoked");
    app.get("/v1/me", current["access_token"].as_str())
        .await
        .assert_problem(401, "unauthorized");
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let log = app.get("/v1/audit-events?limit=5", Some(&token)).await;
    assert!(log.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "session.refresh_token_reused"));
}

#[tokio::test]
async fn enabling_two_factor_ends_other_password_only_sessions() {
    let app = spawn_app().await;
    let laptop = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let phone = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    enable_two_factor(&app, &phone, ADMIN_PASSWORD).await;
    app.get("/v1/me", Some(laptop["access_token"].as_str().unwrap()))
        .await
        .assert_problem(401, "unauthorized");
    app.post(
        "/v1/auth/refresh",
        json!({"refresh_token": laptop["refresh_token"]}),
        None,
    )
    .await
    .assert_problem(401, "session_revoked");
    app.get("/v1/me", Some(&phone)).await.assert_ok();
}

#[tokio::test]
async fn access_tokens_verify_against_the_published_jwks() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let jwks = app.get("/.well-known/jwks.json", None).await;
    let key = &jwks.assert_ok()["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert!(key.get("d").is_none(), "no private part");
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], key["kid"]);
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["authgate"]);
    jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation)
        .expect("signature verifies");
}

/// Decodes the PNG with zbarimg (Debian's zbar-tools), a decoder nobody on
/// this team wrote.
fn decode_qr_png(data_uri: &str) -> String {
    let b64 = data_uri
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URI");
    let png = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    let file = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(file.path(), png).unwrap();
    let out = std::process::Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(file.path())
        .output()
        .expect("zbarimg is installed (apt-get install zbar-tools; .ci/run does it)");
    assert!(
        out.status.success(),
        "zbarimg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

#[tokio::test]
async fn of_concurrent_logins_with_one_code_exactly_one_is_authenticated() {
    let app = spawn_app().await;
    let token = app.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut auth = enable_two_factor(&app, &token, ADMIN_PASSWORD).await;
    let mut challenges = Vec::new();
    for _ in 0..12 {
        let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        challenges.push(
            r.assert_ok()["challenge_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let code = auth.fresh_code().await;
    let attempts = challenges.into_iter().map(|challenge| {
        let body = json!({"challenge_token": challenge, "code": code});
        let req = app.client.post(app.url("/v1/auth/otp")).json(&body);
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 401, 429].contains(s)),
        "{statuses:?}"
    );
}

async fn futures_join_all<F: std::future::Future<Output = u16> + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
