//! Recovery codes: ten one-time codes handed out when 2FA is enabled, for
//! the day the phone is lost. 80 random bits each, read as
//! `xxxx-xxxx-xxxx-xxxx` (base32, lower case), stored only as hashes.

use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

use crate::ids::UserId;

pub const RECOVERY_CODE_COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// One recovery code as shown to the user.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

impl RecoveryCode {
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = [0u8; 10];
        rng.fill_bytes(&mut bytes);
        // 80 bits → 16 base32 characters, 5 bits each.
        let mut bits: u128 = 0;
        for b in bytes {
            bits = (bits << 8) | u128::from(b);
        }
        let chars: Vec<u8> = (0..16)
            .rev()
            .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize])
            .collect();
        let groups: Vec<&str> = chars
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        Self(groups.join("-"))
    }

    pub fn generate_set(rng: &mut impl CryptoRngCore) -> Vec<Self> {
        (0..RECOVERY_CODE_COUNT)
            .map(|_| Self::generate(rng))
            .collect()
    }

    /// Accepts what people type: any case, with or without dashes and spaces.
    pub fn parse(typed: &str) -> Option<Self> {
        let cleaned: String = typed
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if cleaned.len() != 16 || !cleaned.bytes().all(|b| ALPHABET.contains(&b)) {
            return None;
        }
        let groups: Vec<&str> = (0..4).map(|i| &cleaned[i * 4..i * 4 + 4]).collect();
        Some(Self(groups.join("-")))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The stored form: SHA-256 over the owner and the code. The code has
    /// 80 bits of entropy, so a fast hash cannot be inverted by guessing;
    /// the owner in the input makes equal codes of two users differ.
    pub fn hash(&self, user_id: &UserId) -> String {
        let mut h = Sha256::new();
        h.update(b"authgate-recovery-code\0");
        h.update(user_id.as_str().as_bytes());
        h.update(b"\0");
        h.update(self.0.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_for_reading_and_distinct() {
        let set = RecoveryCode::generate_set(&mut rand_core::OsRng);
        assert_eq!(set.len(), 10);
        for c in &set {
            assert_eq!(c.expose().len(), 19);
            assert_eq!(c.expose().matches('-').count(), 3);
        }
        let mut unique: Vec<_> = set.iter().map(|c| c.expose().to_owned()).collect();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
    }

    #[test]
    fn typed_variants_parse_to_the_same_code() {
        let c = RecoveryCode::generate(&mut rand_core::OsRng);
        let shouted = c.expose().to_uppercase().replace('-', " ");
        assert_eq!(RecoveryCode::parse(&shouted), Some(c.clone()));
        assert_eq!(RecoveryCode::parse("too-short"), None);
        assert_eq!(
            RecoveryCode::parse("0000-0000-0000-0000"),
            None,
            "0 is not in the alphabet"
        );
    }

    #[test]
    fn the_hash_depends_on_the_owner_and_hides_the_code() {
        let c = RecoveryCode::parse("abcd-efgh-ijkl-mnop").unwrap();
        let (u1, u2) = (
            UserId::from_stored("u1".into()),
            UserId::from_stored("u2".into()),
        );
        assert_ne!(c.hash(&u1), c.hash(&u2));
        assert!(!c.hash(&u1).contains("abcd"));
        assert!(!format!("{c:?}").contains("abcd"));
    }
}
