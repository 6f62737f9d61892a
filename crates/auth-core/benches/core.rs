//! Micro-benchmarks of the CPU-heavy pure logic: TOTP verification, access
//! token signing/verification, QR rendering and argon2id.
//!
//! `cargo bench -p auth-core` runs them all in well under three minutes
//! (2 s of measurement per benchmark, argon2 with 10 flat samples).
//! Filter as usual: `cargo bench -p auth-core -- argon2`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot go on should stop

use std::{hint::black_box, time::Duration};

use auth_core::{
    ids::{OrganizationId, SessionId, UserId},
    jwt::{SigningKey, Subject, TokenIssuer},
    password::{Password, PasswordHasher, PasswordParams},
    qr,
    totp::{OtpCode, TotpParams, TotpSecret},
    UnixTime,
};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use rand_core::OsRng;

/// A fixed instant, so runs are comparable.
const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);

/// The shape of URI the enrollment endpoints encode (a 160-bit secret).
const OTPAUTH_URI: &str = "otpauth://totp/Authgate:agent.smith%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Authgate&algorithm=SHA1&digits=6&period=30";

fn totp(c: &mut Criterion) {
    let params = TotpParams::default(); // SHA-1, 30 s, window ±1
    let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
    let good = params.code_at(&secret, NOW);
    // Not a code of any step in the window; the work is the same (all three
    // steps are always computed), shown for completeness.
    let bad: OtpCode = {
        let mut n: u32 = good.as_str().parse().unwrap();
        loop {
            n = (n + 1) % 1_000_000;
            let candidate: OtpCode = format!("{n:06}").parse().unwrap();
            if params.verify(&secret, &candidate, NOW).is_none() {
                break candidate;
            }
        }
    };
    let mut g = c.benchmark_group("totp");
    g.bench_function("verify_window_1/valid", |b| {
        b.iter(|| params.verify(black_box(&secret), black_box(&good), black_box(NOW)));
    });
    g.bench_function("verify_window_1/invalid", |b| {
        b.iter(|| params.verify(black_box(&secret), black_box(&bad), black_box(NOW)));
    });
    g.finish();
}

fn jwt(c: &mut Criterion) {
    let issuer = TokenIssuer::new(
        SigningKey::from_seed([7; 32]),
        vec![],
        "authgate".into(),
        "authgate".into(),
        Duration::from_secs(900),
    );
    let user_id = UserId::from_stored("0b9f3a52-5d0c-4a57-9d8e-2f9a3c1e7b64".into());
    let organization_id =
        OrganizationId::from_stored("7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f".into());
    let session_id = SessionId::from_stored("3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7".into());
    let subject = Subject {
        user_id: &user_id,
        organization_id: &organization_id,
        role: "agent",
        session_id: &session_id,
        client: "web",
        amr: &["pwd", "otp"],
    };
    let token = issuer.sign(&subject, "jti-1".into(), NOW).unwrap();
    let later = NOW.plus(Duration::from_secs(10));
    assert!(issuer.verify(&token, later).is_ok());

    let mut g = c.benchmark_group("jwt");
    g.bench_function("sign_eddsa", |b| {
        b.iter(|| issuer.sign(black_box(&subject), "jti-1".into(), black_box(NOW)));
    });
    g.bench_function("verify_eddsa", |b| {
        b.iter(|| issuer.verify(black_box(&token), black_box(later)).unwrap());
    });
    g.finish();
}

fn qr_codes(c: &mut Criterion) {
    let mut g = c.benchmark_group("qr");
    // ~1.5 ms per call: fewer samples fit the 2 s budget.
    g.sample_size(30);
    g.bench_function("svg", |b| {
        b.iter(|| qr::svg(black_box(OTPAUTH_URI)).unwrap());
    });
    g.bench_function("png", |b| {
        b.iter(|| qr::png(black_box(OTPAUTH_URI)).unwrap());
    });
    g.finish();
}

fn argon2(c: &mut Criterion) {
    let params = PasswordParams::default(); // OWASP: 19 MiB, t=2, p=1
    let hasher = PasswordHasher::new(params, &mut OsRng).unwrap();
    let password = Password::new_secret("correct horse battery staple".into()).unwrap();
    let stored = hasher.hash(&password, &mut OsRng).unwrap();

    let mut g = c.benchmark_group("argon2");
    // ~20 ms per call: flat sampling keeps the run short.
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    g.bench_function("hash_owasp_default", |b| {
        b.iter(|| hasher.hash(black_box(&password), &mut OsRng).unwrap());
    });
    // What a password login actually spends (same cost, parameters read
    // back from the stored PHC string).
    g.bench_function("verify_owasp_default", |b| {
        b.iter(|| {
            hasher
                .verify(black_box(&password), black_box(&stored))
                .unwrap()
        });
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = totp, jwt, qr_codes, argon2
}
criterion_main!(benches);
