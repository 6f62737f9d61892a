//! Encryption at rest for TOTP secrets: XChaCha20-Poly1305 with a random
//! 192-bit nonce per write and the owner's id as associated data, so a
//! ciphertext copied onto another user's row does not decrypt.

use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand_core::OsRng;

/// Format version, so the scheme or key can change without ambiguity.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretBoxError {
    #[error("the encryption key must be 32 bytes")]
    KeyLength,
    #[error("a stored secret could not be decrypted (wrong key or tampered row)")]
    Decrypt,
    #[error("a secret could not be encrypted")]
    Encrypt,
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key redacted>)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8]) -> Result<Self, SecretBoxError> {
        let cipher =
            XChaCha20Poly1305::new_from_slice(key).map_err(|_| SecretBoxError::KeyLength)?;
        Ok(Self { cipher })
    }

    pub fn seal(&self, plaintext: &[u8], owner: &str) -> Result<Vec<u8>, SecretBoxError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            // Encryption only fails for inputs beyond 256 GiB.
            .map_err(|_| SecretBoxError::Encrypt)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, stored: &[u8], owner: &str) -> Result<Vec<u8>, SecretBoxError> {
        if stored.len() < 1 + NONCE_LEN || stored[0] != VERSION {
            return Err(SecretBoxError::Decrypt);
        }
        let nonce = XNonce::from_slice(&stored[1..1 + NONCE_LEN]);
        self.cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &stored[1 + NONCE_LEN..],
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SecretBoxError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_for_their_owner_only() {
        let sb = SecretBox::new(&[9; 32]).unwrap();
        let sealed = sb.seal(b"the secret", "user-1").unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"the secret"));
        assert_eq!(sb.open(&sealed, "user-1").unwrap(), b"the secret");
        assert_eq!(sb.open(&sealed, "user-2"), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn another_key_or_a_flipped_bit_does_not_open() {
        let sealed = SecretBox::new(&[9; 32]).unwrap().seal(b"s", "u").unwrap();
        assert!(SecretBox::new(&[8; 32])
            .unwrap()
            .open(&sealed, "u")
            .is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(SecretBox::new(&[9; 32])
            .unwrap()
            .open(&tampered, "u")
            .is_err());
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let sb = SecretBox::new(&[9; 32]).unwrap();
        assert_ne!(sb.seal(b"s", "u").unwrap(), sb.seal(b"s", "u").unwrap());
    }

    #[test]
    fn keys_must_be_32_bytes() {
        assert_eq!(
            SecretBox::new(&[0; 16]).unwrap_err(),
            SecretBoxError::KeyLength
        );
    }
}
