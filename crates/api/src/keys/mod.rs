//! The signing and encryption keys: loaded from configuration or, outside
//! production, generated on first start into `<data dir>/keys/` with
//! owner-only permissions; the signing key rotates without a coordinated
//! restart (see `rotation` and `ring`).

mod files;
mod ring;
mod rotation;
mod verified;

use std::path::PathBuf;

use auth_core::{jwt::SigningKey, UnixTime};
use base64::Engine as _;
use rand_core::{OsRng, RngCore};

pub use ring::KeyRing;
pub use rotation::{load_signing, rotate, RETIRED_KEY_RETENTION};

use crate::config::Settings;

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
    pub encryption: zeroize::Zeroizing<[u8; 32]>,
}

pub fn load(settings: &Settings, now: UnixTime) -> Result<Keys, KeyError> {
    let dir = settings.data_dir.join("keys");
    let (signing, retired) = load_signing(settings, now)?;
    if signing.alg() != settings.signing_alg {
        return Err(KeyError::Invalid {
            var: "AUTHGATE_SIGNING_ALG",
            message: format!(
                "is {} but the signing key {} is {}: run `authgate keys rotate` with AUTHGATE_SIGNING_ALG={} to switch (tokens of the old key stay valid until they expire), or configure a {} key",
                settings.signing_alg,
                signing.kid(),
                signing.alg(),
                settings.signing_alg,
                settings.signing_alg,
            ),
        });
    }
    let encryption_b64 = files::material(
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
        .map(zeroize::Zeroizing::new)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clock::Clock, config::KeySource};
    use auth_core::ids::{OrganizationId, SessionId, UserId};
    use std::{fs, path::Path};

    fn now() -> UnixTime {
        Clock::system().now()
    }

    fn settings(dir: &Path) -> Settings {
        let dir = dir.to_string_lossy().into_owned();
        Settings::from_lookup(|k| (k == "AUTHGATE_DATA_DIR").then(|| dir.clone())).unwrap()
    }

    #[test]
    fn keys_are_generated_once_with_owner_only_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(tmp.path());
        let first = load(&s, now()).unwrap();
        let second = load(&s, now()).unwrap();
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
        let before = load(&s, now()).unwrap().signing;
        let (old, new) = rotate(&s, now()).unwrap();
        assert_eq!(old, before.kid());
        let after = load(&s, now()).unwrap();
        assert_eq!(after.signing.kid(), new);
        assert_eq!(after.retired.len(), 1);
        assert_eq!(after.retired[0].kid(), old);
        let ring = KeyRing::new(&s, Clock::system(), after.signing, after.retired);
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn es256_keys_are_generated_when_configured_and_rotation_switches_algorithms() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_string_lossy().into_owned();
        let es256 = Settings::from_lookup(|k| match k {
            "AUTHGATE_DATA_DIR" => Some(dir.clone()),
            "AUTHGATE_SIGNING_ALG" => Some("ES256".into()),
            _ => None,
        })
        .unwrap();
        let eddsa = settings(tmp.path());
        let first = load(&es256, now()).unwrap().signing;
        assert_eq!(first.alg(), auth_core::jwt::SigningAlg::ES256);
        let err = load(&eddsa, now()).err().expect("a mismatch is an error");
        assert!(
            err.to_string().starts_with("AUTHGATE_SIGNING_ALG: "),
            "{err}"
        );
        rotate(&eddsa, now()).unwrap();
        let after = load(&eddsa, now()).unwrap();
        assert_eq!(after.signing.alg(), auth_core::jwt::SigningAlg::EdDSA);
        assert_eq!(after.retired[0].kid(), first.kid());
        let ring = KeyRing::new(&eddsa, Clock::system(), after.signing, after.retired);
        let algs: Vec<_> = ring.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["alg"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(algs, ["EdDSA", "ES256"]);
    }

    #[test]
    fn a_cached_token_still_expires() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(tmp.path());
        let keys = load(&s, now()).unwrap();
        let ring = KeyRing::new(&s, Clock::system(), keys.signing, keys.retired);
        let t0 = auth_core::UnixTime::from_secs(1_700_000_000);
        let (u, o, sid) = (
            UserId::from_stored("u".into()),
            OrganizationId::from_stored("o".into()),
            SessionId::from_stored("s".into()),
        );
        let subject = auth_core::jwt::Subject {
            user_id: &u,
            organization_id: &o,
            role: "agent",
            session_id: &sid,
            client: "web",
            amr: &["pwd"],
        };
        let token = ring.sign(&subject, "j".into(), t0).unwrap();
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
        let err = load(&s, now())
            .err()
            .expect("a missing key file is an error");
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
        assert!(
            !format!("{s:?}").contains("c2hvcnQ="),
            "Debug redacts inline keys"
        );
        assert!(matches!(
            load(&s, now()),
            Err(KeyError::Invalid {
                var: "AUTHGATE_ENCRYPTION_KEY",
                ..
            })
        ));
    }
}
