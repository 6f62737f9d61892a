//! Loads the signing and encryption keys, generating them on first start
//! (outside production) into `<data dir>/keys/` with owner-only permissions,
//! and rotates the signing key.
//!
//! Rotation keeps every instance consistent without a coordinated restart:
//! `authgate keys rotate` moves the active key to `retired/` (named by when
//! it retired) and writes a new one. An instance that meets a token signed
//! with a key it does not know re-reads the key directory (at most every few
//! seconds) and every instance re-reads it each minute, so all of them sign
//! with the new key soon after and keep verifying the old one until tokens
//! signed with it have expired.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use auth_core::jwt::SigningKey;
use base64::Engine as _;
use rand_core::{OsRng, RngCore};

use crate::config::{KeySource, Settings};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{var}: {message}")]
    Invalid { var: &'static str, message: String },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct Keys {
    pub signing: SigningKey,
    /// Recently retired signing keys, still trusted for verification.
    pub retired: Vec<SigningKey>,
    pub encryption: [u8; 32],
}

/// How long a retired key stays trusted: the longest an access token lives,
/// plus a minute of clock skew.
pub const RETIRED_KEY_RETENTION: std::time::Duration =
    std::time::Duration::from_secs(auth_core::jwt::MAX_ACCESS_TTL.as_secs() + 60);

/// Where the active signing key lives on disk, if it does.
fn signing_key_path(settings: &Settings) -> Option<PathBuf> {
    match &settings.signing_key {
        KeySource::Inline(_) => None,
        KeySource::File(path) => Some(path.clone()),
        KeySource::Generated => Some(settings.data_dir.join("keys").join("signing.pem")),
    }
}

fn parse_signing(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Invalid {
        var: "AUTHGATE_SIGNING_KEY",
        message: e.to_string(),
    })
}

/// The active signing key and the retired ones still within retention.
pub fn load_signing(settings: &Settings) -> Result<(SigningKey, Vec<SigningKey>), KeyError> {
    let dir = settings.data_dir.join("keys");
    let signing_pem = material(
        &settings.signing_key,
        &dir.join("signing.pem"),
        "AUTHGATE_SIGNING_KEY_FILE",
        || SigningKey::generate(&mut OsRng).to_pkcs8_pem(),
    )?;
    let signing = parse_signing(&signing_pem)?;
    let mut retired = Vec::new();
    if let Some(retired_dir) =
        signing_key_path(settings).and_then(|p| p.parent().map(|d| d.join("retired")))
    {
        let horizon = crate::service::now().as_millis()
            - i64::try_from(RETIRED_KEY_RETENTION.as_millis()).unwrap_or(0);
        for (retired_at, path) in retired_files(&retired_dir) {
            if retired_at >= horizon {
                retired.push(parse_signing(&read(&path)?)?);
            }
        }
    }
    Ok((signing, retired))
}

/// `retired/<unix millis>-<kid>.pem` files, newest first.
fn retired_files(dir: &Path) -> Vec<(i64, PathBuf)> {
    let mut files: Vec<(i64, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let at = name.strip_suffix(".pem")?.split('-').next()?.parse().ok()?;
            Some((at, e.path()))
        })
        .collect();
    files.sort_by(|a, b| b.cmp(a));
    files
}

/// Retires the active signing key and installs a new one; returns the old
/// and new key ids. Retired keys past retention are deleted.
pub fn rotate(settings: &Settings) -> Result<(String, String), KeyError> {
    let path = signing_key_path(settings).ok_or(KeyError::Invalid {
        var: "AUTHGATE_SIGNING_KEY",
        message: "an inline key cannot be rotated; use AUTHGATE_SIGNING_KEY_FILE".into(),
    })?;
    let (active, _) = load_signing(settings)?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
    let retired_dir = dir.join("retired");
    let now = crate::service::now().as_millis();
    create_private(
        &retired_dir.join(format!("{now}-{}.pem", active.kid())),
        &active.to_pkcs8_pem(),
    )?;
    let next = SigningKey::generate(&mut OsRng);
    // Write beside, then rename: readers see the old key or the new one.
    let staging = dir.join(format!(".signing-{now}.pem"));
    create_private(&staging, &next.to_pkcs8_pem())?;
    fs::rename(&staging, &path).map_err(|source| KeyError::Io {
        path: path.clone(),
        source,
    })?;
    let horizon = now - i64::try_from(RETIRED_KEY_RETENTION.as_millis()).unwrap_or(0);
    for (at, old) in retired_files(&retired_dir) {
        if at < horizon {
            let _ = fs::remove_file(old);
        }
    }
    Ok((active.kid().to_owned(), next.kid().to_owned()))
}

pub fn load(settings: &Settings) -> Result<Keys, KeyError> {
    let dir = settings.data_dir.join("keys");
    let (signing, retired) = load_signing(settings)?;
    let encryption_b64 = material(
        &settings.encryption_key,
        &dir.join("encryption.key"),
        "AUTHGATE_ENCRYPTION_KEY_FILE",
        || {
            let mut key = [0u8; 32];
            OsRng.fill_bytes(&mut key);
            format!(
                "{}\n",
                base64::engine::general_purpose::STANDARD.encode(key)
            )
        },
    )?;
    let encryption = base64::engine::general_purpose::STANDARD
        .decode(encryption_b64.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| KeyError::Invalid {
            var: "AUTHGATE_ENCRYPTION_KEY",
            message: "expected 32 bytes, base64-encoded".into(),
        })?;
    Ok(Keys {
        signing,
        retired,
        encryption,
    })
}

fn material(
    source: &KeySource,
    generated_path: &Path,
    file_var: &'static str,
    generate: impl FnOnce() -> String,
) -> Result<String, KeyError> {
    match source {
        KeySource::Inline(v) => Ok(v.clone()),
        KeySource::File(path) => read(path).map_err(|e| KeyError::Invalid {
            var: file_var,
            message: e.to_string(),
        }),
        KeySource::Generated => match read(generated_path) {
            Ok(v) => Ok(v),
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                create_private(generated_path, &generate())?;
                // Another process may have won the race; use what is on disk.
                read(generated_path)
            }
            Err(e) => Err(e),
        },
    }
}

fn read(path: &Path) -> Result<String, KeyError> {
    fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })
}

fn create_private(path: &Path, contents: &str) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io)?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(contents.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}

/// The token issuer, re-read from disk when the key directory changes.
pub struct KeyRing {
    settings: Settings,
    issuer: std::sync::RwLock<auth_core::jwt::TokenIssuer>,
    last_reload: std::sync::Mutex<std::time::Instant>,
    verified: VerifiedTokens,
}

/// Tokens whose signature was already checked, keyed by their SHA-256: an
/// Ed25519 verification costs ~40 µs, a lookup well under one. Expiry is
/// still checked on every use, and the session on every request, so the
/// cache changes no outcome. Sharded to keep lock contention low; a full
/// shard is simply emptied.
struct VerifiedTokens {
    shards:
        Vec<std::sync::Mutex<std::collections::HashMap<[u8; 32], auth_core::jwt::AccessClaims>>>,
}

const VERIFIED_SHARDS: usize = 16;
const VERIFIED_PER_SHARD: usize = 4096;

impl VerifiedTokens {
    fn new() -> Self {
        Self {
            shards: (0..VERIFIED_SHARDS)
                .map(|_| std::sync::Mutex::new(std::collections::HashMap::new()))
                .collect(),
        }
    }

    fn key(token: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    fn shard(
        &self,
        key: &[u8; 32],
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<[u8; 32], auth_core::jwt::AccessClaims>>
    {
        self.shards[usize::from(key[0]) % VERIFIED_SHARDS]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, key: &[u8; 32]) -> Option<auth_core::jwt::AccessClaims> {
        self.shard(key).get(key).cloned()
    }

    fn put(&self, key: [u8; 32], claims: auth_core::jwt::AccessClaims) {
        let mut shard = self.shard(&key);
        if shard.len() >= VERIFIED_PER_SHARD {
            shard.clear();
        }
        shard.insert(key, claims);
    }
}

/// How often an unknown key id may trigger a re-read.
const RELOAD_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl KeyRing {
    pub fn new(settings: &Settings, signing: SigningKey, retired: Vec<SigningKey>) -> Self {
        Self {
            issuer: std::sync::RwLock::new(Self::issuer(settings, signing, retired)),
            settings: settings.clone(),
            verified: VerifiedTokens::new(),
            last_reload: std::sync::Mutex::new(
                std::time::Instant::now()
                    .checked_sub(RELOAD_AT_MOST_EVERY)
                    .unwrap_or_else(std::time::Instant::now),
            ),
        }
    }

    fn issuer(
        settings: &Settings,
        signing: SigningKey,
        retired: Vec<SigningKey>,
    ) -> auth_core::jwt::TokenIssuer {
        auth_core::jwt::TokenIssuer::new(
            signing,
            retired,
            settings.issuer.clone(),
            settings.audience.clone(),
            settings.access_token_ttl,
        )
    }

    fn current(&self) -> std::sync::RwLockReadGuard<'_, auth_core::jwt::TokenIssuer> {
        self.issuer
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Re-reads the keys; keeps the current ones if the files are unusable.
    pub fn reload(&self) {
        *self
            .last_reload
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = std::time::Instant::now();
        match load_signing(&self.settings) {
            Ok((signing, retired)) => {
                let fresh = Self::issuer(&self.settings, signing, retired);
                let mut guard = self
                    .issuer
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if fresh.active_kid() != guard.active_kid() {
                    tracing::info!(kid = fresh.active_kid(), "signing key changed");
                }
                *guard = fresh;
            }
            Err(e) => {
                tracing::error!(error = %e, "re-reading the signing keys failed; keeping the current ones")
            }
        }
    }

    pub fn sign(
        &self,
        subject: &auth_core::jwt::Subject<'_>,
        jti: String,
        now: auth_core::UnixTime,
    ) -> String {
        self.current().sign(subject, jti, now)
    }

    pub fn verify(
        &self,
        token: &str,
        now: auth_core::UnixTime,
    ) -> Result<auth_core::jwt::AccessClaims, auth_core::jwt::TokenError> {
        let key = VerifiedTokens::key(token);
        if let Some(claims) = self.verified.get(&key) {
            return if claims.exp > now.as_secs() {
                Ok(claims)
            } else {
                Err(auth_core::jwt::TokenError::Expired)
            };
        }
        let verified = self.verify_signature(token, now);
        if let Ok(claims) = &verified {
            self.verified.put(key, claims.clone());
        }
        verified
    }

    fn verify_signature(
        &self,
        token: &str,
        now: auth_core::UnixTime,
    ) -> Result<auth_core::jwt::AccessClaims, auth_core::jwt::TokenError> {
        match self.current().verify(token, now) {
            Err(auth_core::jwt::TokenError::UnknownKey) => {}
            other => return other,
        }
        // Perhaps another instance rotated the key: look again, rarely.
        let due = self
            .last_reload
            .lock()
            .map(|t| t.elapsed() >= RELOAD_AT_MOST_EVERY)
            .unwrap_or(true);
        if due {
            self.reload();
        }
        self.current().verify(token, now)
    }

    pub fn jwks(&self) -> serde_json::Value {
        self.current().jwks()
    }

    pub fn ttl(&self) -> std::time::Duration {
        self.current().ttl()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> Settings {
        let dir = dir.to_string_lossy().into_owned();
        Settings::from_lookup(|k| (k == "AUTHGATE_DATA_DIR").then(|| dir.clone())).unwrap()
    }

    #[test]
    fn keys_are_generated_once_with_owner_only_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(tmp.path());
        let first = load(&s).unwrap();
        let second = load(&s).unwrap();
        assert_eq!(first.signing.kid(), second.signing.kid());
        assert_eq!(first.encryption, second.encryption);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in ["signing.pem", "encryption.key"] {
                let mode = fs::metadata(tmp.path().join("keys").join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
    }

    #[test]
    fn rotation_retires_the_old_key_and_both_verify() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(tmp.path());
        let before = load(&s).unwrap().signing;
        let (old, new) = rotate(&s).unwrap();
        assert_eq!(old, before.kid());
        let after = load(&s).unwrap();
        assert_eq!(after.signing.kid(), new);
        assert_eq!(after.retired.len(), 1);
        assert_eq!(after.retired[0].kid(), old);
        let ring = KeyRing::new(&s, after.signing, after.retired);
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_cached_token_still_expires() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(tmp.path());
        let keys = load(&s).unwrap();
        let ring = KeyRing::new(&s, keys.signing, keys.retired);
        let t0 = auth_core::UnixTime::from_secs(1_700_000_000);
        let subject = auth_core::jwt::Subject {
            user_id: "u",
            organization_id: "o",
            role: "agent",
            session_id: "s",
            client: "web",
            amr: &["pwd"],
        };
        let token = ring.sign(&subject, "j".into(), t0);
        assert!(ring.verify(&token, t0).is_ok());
        assert!(ring.verify(&token, t0).is_ok(), "from the cache");
        let later = t0.plus(ring.ttl());
        assert_eq!(
            ring.verify(&token, later),
            Err(auth_core::jwt::TokenError::Expired)
        );
        let mut forged = token.clone();
        forged.push('x');
        assert!(
            ring.verify(&forged, t0).is_err(),
            "another string is verified afresh"
        );
    }

    #[test]
    fn a_configured_key_file_that_is_missing_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = settings(tmp.path());
        s.signing_key = KeySource::File(tmp.path().join("nope.pem"));
        let err = load(&s).err().expect("a missing key file is an error");
        assert!(
            err.to_string()
                .starts_with("AUTHGATE_SIGNING_KEY_FILE: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn a_malformed_encryption_key_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = settings(tmp.path());
        s.encryption_key = KeySource::Inline("c2hvcnQ=".into());
        assert!(matches!(
            load(&s),
            Err(KeyError::Invalid {
                var: "AUTHGATE_ENCRYPTION_KEY",
                ..
            })
        ));
    }
}
