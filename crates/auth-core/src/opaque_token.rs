//! Opaque bearer secrets (refresh and challenge tokens): 256 random bits,
//! handed out once and stored only as a SHA-256 digest.

use std::fmt;

use base64::Engine as _;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

/// A freshly minted secret, e.g. `rt_3q2+…`. Its `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct OpaqueToken(String);

impl OpaqueToken {
    /// The prefix (`rt`, `ch`) tells kinds apart and lets secret scanners
    /// recognise a leaked token.
    pub fn generate(prefix: &str, rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self(format!(
            "{prefix}_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// A token issued earlier and kept sealed (the refresh grace hands
    /// the same successor out again).
    pub fn from_secret(token: String) -> Self {
        Self(token)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueToken(<redacted>)")
    }
}

/// Hex SHA-256 of a token. A fast hash suffices: the token has 256 bits of
/// entropy, so the digest cannot be inverted by guessing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        // Written by table, not with `format!("{b:02x}")` per byte: that
        // was 32 small allocations and ~23 k instructions per hash, and a
        // code step hashes three tokens (its challenge twice, the new
        // refresh token once).
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::digest(token.as_bytes());
        let mut hex = String::with_capacity(2 * digest.len());
        for &b in &digest {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_prefix_and_256_bits() {
        let t = OpaqueToken::generate("rt", &mut rand_core::OsRng);
        assert!(t.expose().starts_with("rt_"));
        assert_eq!(t.expose().len(), 3 + 43);
    }

    #[test]
    fn the_hash_is_stable_and_not_the_token() {
        let t = OpaqueToken::generate("ch", &mut rand_core::OsRng);
        assert_eq!(t.hash(), TokenHash::of(t.expose()));
        assert_eq!(t.hash().as_str().len(), 64);
        assert!(!t.hash().as_str().contains(&t.expose()[3..]));
        assert!(!format!("{t:?}").contains(&t.expose()[3..]));
    }

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        assert_eq!(
            TokenHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            TokenHash::of("").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
