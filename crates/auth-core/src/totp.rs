//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP).
//!
//! Verification checks every step of the window without stopping early and
//! compares in constant time, then reports the matched step so that storage
//! can refuse a step that was already used (replay).

use std::{fmt, str::FromStr};

use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq;

use crate::UnixTime;

/// Bytes in a newly generated secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_LEN: usize = 20;
/// Digits in a code. Authenticator apps show six.
pub const DIGITS: u32 = 6;

const BASE32: base32::Alphabet = base32::Alphabet::Rfc4648 { padding: false };

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// What Google and Microsoft Authenticator use.
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
}

impl FromStr for Algorithm {
    type Err = TotpError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "SHA1" => Ok(Algorithm::Sha1),
            "SHA256" => Ok(Algorithm::Sha256),
            "SHA512" => Ok(Algorithm::Sha512),
            _ => Err(TotpError::UnknownAlgorithm),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    #[error("a TOTP secret must be 16 to 64 bytes")]
    SecretLength,
    #[error("a TOTP secret must be RFC 4648 base32")]
    SecretEncoding,
    #[error("a code is exactly 6 digits")]
    MalformedCode,
    #[error("unknown TOTP algorithm")]
    UnknownAlgorithm,
}

/// A shared TOTP key. Its `Debug` never prints the key, and its memory is
/// wiped when it is dropped.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = vec![0u8; SECRET_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        if (16..=64).contains(&bytes.len()) {
            Ok(Self(bytes))
        } else {
            Err(TotpError::SecretLength)
        }
    }

    /// Accepts what people type or apps export: any case, spaces, padding.
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = base32::decode(BASE32, &cleaned).ok_or(TotpError::SecretEncoding)?;
        Self::from_bytes(bytes)
    }

    pub fn to_base32(&self) -> String {
        base32::encode(BASE32, &self.0)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// Exactly six ASCII digits. Spaces, as in "123 456", are dropped first;
/// anything else is refused before any account is looked up.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode([u8; 6]);

impl OtpCode {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for OtpCode {
    type Err = TotpError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut digits = [0u8; 6];
        let mut n = 0;
        for b in s.bytes().filter(|b| *b != b' ') {
            if !b.is_ascii_digit() || n == digits.len() {
                return Err(TotpError::MalformedCode);
            }
            digits[n] = b;
            n += 1;
        }
        if n == digits.len() {
            Ok(Self(digits))
        } else {
            Err(TotpError::MalformedCode)
        }
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(<redacted>)")
    }
}

/// The index of a 30-second period since the epoch (RFC 6238's `T`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeStep(pub i64);

/// How codes are made and how far from "now" a code may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TotpParams {
    pub algorithm: Algorithm,
    pub period_secs: u32,
    /// Steps accepted on either side of the current one, for clock drift.
    pub window: u8,
}

impl Default for TotpParams {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Sha1,
            period_secs: 30,
            window: 1,
        }
    }
}

impl TotpParams {
    pub fn step_at(&self, now: UnixTime) -> TimeStep {
        TimeStep(now.as_secs().div_euclid(i64::from(self.period_secs.max(1))))
    }

    /// Where `now` lies, in sixteenths of a step since the epoch: the unit
    /// the learned clock drift is kept in.
    pub fn sixteenths_at(&self, now: UnixTime) -> i64 {
        let period_ms = i64::from(self.period_secs.max(1)) * 1000;
        now.as_millis().saturating_mul(16).div_euclid(period_ms)
    }

    /// When the step after the current one begins: the earliest moment a
    /// fresh code exists, for "this code was already used; wait for the next".
    pub fn next_step_at(&self, now: UnixTime) -> UnixTime {
        let period = i64::from(self.period_secs.max(1));
        UnixTime::from_secs((self.step_at(now).0 + 1).saturating_mul(period))
    }

    /// The code an authenticator shows during `step`.
    pub fn code_at_step(&self, secret: &TotpSecret, step: TimeStep) -> OtpCode {
        let period = u64::from(self.period_secs.max(1));
        let time = u64::try_from(step.0).unwrap_or(0).saturating_mul(period);
        let text = match self.algorithm {
            Algorithm::Sha1 => {
                totp_lite::totp_custom::<totp_lite::Sha1>(period, DIGITS, secret.as_bytes(), time)
            }
            Algorithm::Sha256 => {
                totp_lite::totp_custom::<totp_lite::Sha256>(period, DIGITS, secret.as_bytes(), time)
            }
            Algorithm::Sha512 => {
                totp_lite::totp_custom::<totp_lite::Sha512>(period, DIGITS, secret.as_bytes(), time)
            }
        };
        let mut digits = [b'0'; 6];
        digits.copy_from_slice(&text.as_bytes()[..6]);
        OtpCode(digits)
    }

    /// The code an authenticator shows at `now`.
    pub fn code_at(&self, secret: &TotpSecret, now: UnixTime) -> OtpCode {
        self.code_at_step(secret, self.step_at(now))
    }

    /// The step `code` belongs to, if it lies within the window around `now`.
    /// When a code matches several steps (one chance in a million), the
    /// latest wins, so a replay check built on it is never weaker.
    pub fn verify(&self, secret: &TotpSecret, code: &OtpCode, now: UnixTime) -> Option<TimeStep> {
        self.verify_around(secret, code, self.step_at(now))
    }

    /// The same, with the window around `centre` rather than the current
    /// step: where an authenticator whose clock is off shows its codes
    /// (`crate::drift`). The window keeps its width; only its centre moves.
    pub fn verify_around(
        &self,
        secret: &TotpSecret,
        code: &OtpCode,
        centre: TimeStep,
    ) -> Option<TimeStep> {
        let current = centre.0;
        let window = i64::from(self.window);
        let mut matched = None;
        for step in (current - window)..=(current + window) {
            if step < 0 {
                continue;
            }
            let candidate = self.code_at_step(secret, TimeStep(step));
            if bool::from(candidate.0.ct_eq(&code.0)) {
                matched = Some(TimeStep(step));
            }
        }
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B: the seeds are ASCII "1234567890" repeated to the
    // hash's block-free key length, and the codes are 8 digits; authenticator
    // apps show the last 6, which is what a 6-digit HOTP truncation yields.
    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    const VECTORS: &[(i64, &str, &str, &str)] = &[
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];

    fn params(algorithm: Algorithm) -> TotpParams {
        TotpParams {
            algorithm,
            ..TotpParams::default()
        }
    }

    fn secret(bytes: &[u8]) -> TotpSecret {
        TotpSecret::from_bytes(bytes.to_vec()).unwrap()
    }

    #[test]
    fn every_rfc6238_appendix_b_vector_matches() {
        for (t, sha1, sha256, sha512) in VECTORS {
            let now = UnixTime::from_secs(*t);
            for (alg, seed, expected) in [
                (Algorithm::Sha1, SEED_SHA1, sha1),
                (Algorithm::Sha256, SEED_SHA256, sha256),
                (Algorithm::Sha512, SEED_SHA512, sha512),
            ] {
                let code = params(alg).code_at(&secret(seed), now);
                assert_eq!(code.as_str(), &expected[2..], "{alg:?} at {t}");
            }
        }
    }

    #[test]
    fn rfc6238_vectors_verify_and_report_their_step() {
        for (t, sha1, _, _) in VECTORS {
            let now = UnixTime::from_secs(*t);
            let code: OtpCode = sha1[2..].parse().unwrap();
            let step = params(Algorithm::Sha1).verify(&secret(SEED_SHA1), &code, now);
            assert_eq!(step, Some(TimeStep(t / 30)));
        }
    }

    #[test]
    fn codes_one_step_away_are_accepted_and_two_steps_away_are_not() {
        let p = TotpParams::default();
        let s = secret(SEED_SHA1);
        let now = UnixTime::from_secs(1_700_000_000);
        let here = p.step_at(now).0;
        for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = p.code_at_step(&s, TimeStep(here + offset));
            assert_eq!(
                p.verify(&s, &code, now),
                accepted.then_some(TimeStep(here + offset)),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn a_wider_window_accepts_more_drift() {
        let p = TotpParams {
            window: 2,
            ..TotpParams::default()
        };
        let s = secret(SEED_SHA1);
        let now = UnixTime::from_secs(1_700_000_000);
        let code = p.code_at_step(&s, TimeStep(p.step_at(now).0 - 2));
        assert!(p.verify(&s, &code, now).is_some());
    }

    #[test]
    fn codes_with_spaces_are_accepted() {
        assert_eq!("123 456".parse::<OtpCode>().unwrap().as_str(), "123456");
        assert_eq!(" 12 34 56 ".parse::<OtpCode>().unwrap().as_str(), "123456");
    }

    #[test]
    fn anything_but_six_digits_is_rejected() {
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "１２３４５６",
            "123-456",
            "12\t3456",
        ] {
            assert_eq!(
                bad.parse::<OtpCode>(),
                Err(TotpError::MalformedCode),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn generated_secrets_are_160_bits_and_round_trip_through_base32() {
        let s = TotpSecret::generate(&mut rand_core::OsRng);
        assert_eq!(s.as_bytes().len(), 20);
        let text = s.to_base32();
        assert_eq!(text.len(), 32);
        assert!(!text.contains('='));
        assert_eq!(TotpSecret::from_base32(&text).unwrap(), s);
        assert_eq!(TotpSecret::from_base32(&text.to_lowercase()).unwrap(), s);
    }

    #[test]
    fn two_generated_secrets_differ() {
        let a = TotpSecret::generate(&mut rand_core::OsRng);
        let b = TotpSecret::generate(&mut rand_core::OsRng);
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_and_codes_never_print() {
        let s = secret(SEED_SHA1);
        assert!(!format!("{s:?}").contains("1234"));
        let c: OtpCode = "123456".parse().unwrap();
        assert!(!format!("{c:?}").contains("123456"));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 10]),
            Err(TotpError::SecretLength)
        );
        assert_eq!(
            TotpSecret::from_base32("not base32!"),
            Err(TotpError::SecretEncoding)
        );
    }

    #[test]
    fn the_next_code_arrives_at_the_start_of_the_next_step() {
        let p = TotpParams::default();
        assert_eq!(
            p.next_step_at(UnixTime::from_millis(59_999)),
            UnixTime::from_secs(60)
        );
        assert_eq!(
            p.next_step_at(UnixTime::from_secs(60)),
            UnixTime::from_secs(90)
        );
    }
}
