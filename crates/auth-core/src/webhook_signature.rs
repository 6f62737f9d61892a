//! Standard Webhooks signatures (<https://www.standardwebhooks.com>):
//! `v1,<base64 HMAC-SHA256>` over `id.timestamp.body`, with a secret
//! written `whsec_<base64 of the key bytes>`.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

const PREFIX: &str = "whsec_";
/// Key bytes of a generated secret (the spec asks for 24 to 64).
const KEY_BYTES: usize = 32;

/// An endpoint's signing secret. Shown to the admin once, stored sealed.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut key = Zeroizing::new(vec![0u8; KEY_BYTES]);
        rng.fill_bytes(&mut key);
        Self(key)
    }

    /// From its key bytes (as unsealed from storage).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_…`, the form receivers configure.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(self.0.as_slice()))
    }

    /// `v1,<base64>` for one message.
    pub fn sign(&self, id: &str, timestamp_secs: i64, body: &[u8]) -> String {
        // HMAC accepts a key of any length: this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_secs.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one signature per valid secret,
/// space-separated (the newest first), so a receiver still configured with
/// the previous secret keeps verifying during a rotation.
pub fn signature_header(
    secrets: &[&WebhookSecret],
    id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp_secs, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_specifications_example() {
        // The example in the Standard Webhooks reference libraries.
        let secret =
            WebhookSecret::from_bytes(STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_generated_secret_is_whsec_and_32_random_bytes() {
        let s = WebhookSecret::generate(&mut rand_core::OsRng);
        let shown = s.expose();
        assert!(shown.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&shown[6..]).unwrap().len(), 32);
        assert_ne!(
            shown,
            WebhookSecret::generate(&mut rand_core::OsRng).expose()
        );
        assert!(!format!("{s:?}").contains(&shown[6..]));
    }

    #[test]
    fn during_a_rotation_both_secrets_sign() {
        let new = WebhookSecret::from_bytes(vec![1; 32]);
        let old = WebhookSecret::from_bytes(vec![2; 32]);
        let header = signature_header(&[&new, &old], "id", 5, b"{}");
        let parts: Vec<_> = header.split(' ').collect();
        assert_eq!(parts, [new.sign("id", 5, b"{}"), old.sign("id", 5, b"{}")]);
    }
}
