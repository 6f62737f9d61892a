//! Passwords: argon2id hashing with configurable cost, and a dummy
//! verification so that unknown emails take as long as wrong passwords.

use std::fmt;

use argon2::{
    password_hash::{PasswordHash as PhcHash, PasswordVerifier as _, SaltString},
    Argon2,
};
use base64::Engine as _;
use rand_core::CryptoRngCore;

pub const MIN_NEW_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("a password must be at least {MIN_NEW_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    #[error("the stored password hash is not a valid PHC string")]
    CorruptHash,
    #[error("hashing failed")]
    Hashing,
}

/// A password as typed. Its `Debug` never prints it, and its memory is
/// wiped when it is dropped.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct Password(String);

impl Password {
    /// Whatever was typed at login; only the size is bounded, so hashing
    /// cost cannot be inflated by a huge body.
    pub fn attempt(s: String) -> Result<Self, PasswordError> {
        if s.len() > MAX_PASSWORD_BYTES {
            Err(PasswordError::TooLong)
        } else {
            Ok(Self(s))
        }
    }

    /// A password being set: at least 8 characters (NIST SP 800-63B).
    pub fn new_secret(s: String) -> Result<Self, PasswordError> {
        if s.chars().count() < MIN_NEW_PASSWORD_CHARS {
            Err(PasswordError::TooShort)
        } else {
            Self::attempt(s)
        }
    }

    /// 144 random bits, printable: for one-time and bootstrap passwords.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = [0u8; 18];
        rng.fill_bytes(&mut bytes);
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A PHC-format argon2 hash, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// argon2id cost. Defaults are OWASP's: 19 MiB, 2 passes, 1 lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

thread_local! {
    /// argon2 working memory of this thread, reused across verifications.
    static WORK_MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Frees this thread's argon2 working memory. For threads that hashed once
/// and will not again (the bootstrap on the main thread): the hashing pool
/// keeps its memory on purpose.
pub fn release_work_memory() {
    WORK_MEMORY.with(|memory| *memory.borrow_mut() = Vec::new());
}

pub struct PasswordHasher {
    argon2: Argon2<'static>,
    dummy: PasswordHash,
}

impl PasswordHasher {
    /// Builds the hasher and a dummy hash with the same cost. The dummy is
    /// random bytes in PHC form, not a real hash: verifying against it
    /// costs exactly a real verification (the cost is in the parameters),
    /// without spending one at startup.
    pub fn new(
        params: PasswordParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, PasswordError> {
        let p = argon2::Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| PasswordError::Params(e.to_string()))?;
        let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
        let salt = SaltString::generate(&mut *rng);
        let mut output = [0u8; 32];
        rng.fill_bytes(&mut output);
        let dummy = PasswordHash(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.memory_kib,
            params.iterations,
            params.parallelism,
            salt.as_str(),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(output)
        ));
        Ok(Self { argon2, dummy })
    }

    /// Hashes with the configured cost, in this thread's reused working
    /// memory (see [`Self::verify`]); the result is a standard PHC string.
    pub fn hash(
        &self,
        password: &Password,
        rng: &mut impl CryptoRngCore,
    ) -> Result<PasswordHash, PasswordError> {
        let salt = SaltString::generate(rng);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_buf)
            .map_err(|_| PasswordError::Hashing)?;
        let params = self.argon2.params();
        let mut output = [0u8; 32];
        let blocks = params.block_count();
        WORK_MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            if memory.len() < blocks {
                memory.resize(blocks, argon2::Block::default());
            }
            self.argon2
                .hash_password_into_with_memory(
                    password.0.as_bytes(),
                    salt_bytes,
                    &mut output,
                    &mut memory[..blocks],
                )
                .map_err(|_| PasswordError::Hashing)
        })?;
        Ok(PasswordHash(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            salt.as_str(),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(output)
        )))
    }

    /// Verifies with the cost recorded in the hash itself, so hashes made
    /// under older settings keep working. The argon2 working memory (19 MiB
    /// by default) is kept per thread and reused: a fresh block per login
    /// cost ~5–8 % of the CPU in page faults and zeroing, and let the
    /// allocator hold several blocks per thread.
    pub fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, PasswordError> {
        let parsed = PhcHash::new(&hash.0).map_err(|_| PasswordError::CorruptHash)?;
        if parsed.algorithm != argon2::ARGON2ID_IDENT {
            return Ok(self
                .argon2
                .verify_password(password.0.as_bytes(), &parsed)
                .is_ok());
        }
        let params = argon2::Params::try_from(&parsed).map_err(|_| PasswordError::CorruptHash)?;
        let version = parsed
            .version
            .map_or(Ok(argon2::Version::V0x13), argon2::Version::try_from)
            .map_err(|_| PasswordError::CorruptHash)?;
        let mut salt_buf = [0u8; 64];
        let salt = parsed
            .salt
            .ok_or(PasswordError::CorruptHash)?
            .decode_b64(&mut salt_buf)
            .map_err(|_| PasswordError::CorruptHash)?;
        let expected = parsed.hash.ok_or(PasswordError::CorruptHash)?;
        let expected = expected.as_bytes();
        let mut actual = vec![0u8; expected.len()];
        let blocks = params.block_count();
        let argon2 = Argon2::new(argon2::Algorithm::Argon2id, version, params);
        WORK_MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            if memory.len() < blocks {
                memory.resize(blocks, argon2::Block::default());
            }
            argon2
                .hash_password_into_with_memory(
                    password.0.as_bytes(),
                    salt,
                    &mut actual,
                    &mut memory[..blocks],
                )
                .map_err(|_| PasswordError::CorruptHash)
        })?;
        Ok(bool::from(subtle::ConstantTimeEq::ct_eq(
            &actual[..],
            expected,
        )))
    }

    /// Spends the same work as a real verification and always fails: used
    /// when the email is unknown, so timing does not reveal accounts.
    pub fn verify_dummy(&self, password: &Password) {
        let _ = self.verify(password, &self.dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(
            PasswordParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            &mut OsRng,
        )
        .unwrap()
    }

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let h = cheap();
        let pw = Password::new_secret("correct horse".into()).unwrap();
        let hash = h.hash(&pw, &mut OsRng).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(h.verify(&pw, &hash).unwrap());
        assert!(!h
            .verify(&Password::attempt("wrong".into()).unwrap(), &hash)
            .unwrap());
        // The PHC string is standard: the argon2 crate's own verifier agrees.
        let phc = PhcHash::new(hash.as_str()).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &phc)
            .is_ok());
    }

    #[test]
    fn default_parameters_are_owasps() {
        let p = PasswordParams::default();
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19456, 2, 1));
    }

    #[test]
    fn the_dummy_hash_never_matches_and_parses_like_a_real_one() {
        let h = cheap();
        assert!(h.dummy.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(!h
            .verify(&Password::attempt(String::new()).unwrap(), &h.dummy)
            .unwrap());
    }

    #[test]
    fn hashes_of_another_cost_verify_with_reused_memory() {
        let h = cheap();
        let pw = Password::new_secret("correct horse".into()).unwrap();
        // A different cost than the hasher's: the hash's own parameters rule.
        let other = PasswordHasher::new(
            PasswordParams {
                memory_kib: 128,
                iterations: 2,
                parallelism: 2,
            },
            &mut OsRng,
        )
        .unwrap();
        for hash in [
            h.hash(&pw, &mut OsRng).unwrap(),
            other.hash(&pw, &mut OsRng).unwrap(),
        ] {
            assert!(h.verify(&pw, &hash).unwrap());
            assert!(!h
                .verify(&Password::attempt("nope".into()).unwrap(), &hash)
                .unwrap());
        }
    }

    #[test]
    fn hashes_are_salted() {
        let h = cheap();
        let pw = Password::new_secret("correct horse".into()).unwrap();
        assert_ne!(
            h.hash(&pw, &mut OsRng).unwrap(),
            h.hash(&pw, &mut OsRng).unwrap()
        );
    }

    #[test]
    fn new_passwords_have_a_minimum_length_and_attempts_a_maximum_size() {
        assert_eq!(
            Password::new_secret("short".into()),
            Err(PasswordError::TooShort)
        );
        assert_eq!(
            Password::attempt("x".repeat(2000)),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn a_corrupt_stored_hash_is_an_error_not_a_match() {
        let h = cheap();
        let pw = Password::attempt("x".into()).unwrap();
        assert_eq!(
            h.verify(&pw, &PasswordHash::from_stored("nonsense".into())),
            Err(PasswordError::CorruptHash)
        );
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = Password::generate(&mut OsRng);
        assert_eq!(a.expose().len(), 24);
        assert_ne!(a, Password::generate(&mut OsRng));
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
