//! Loads the signing and encryption keys, generating them on first start
//! (outside production) into `<data dir>/keys/` with owner-only permissions.

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
    pub encryption: [u8; 32],
}

pub fn load(settings: &Settings) -> Result<Keys, KeyError> {
    let dir = settings.data_dir.join("keys");
    let signing_pem = material(&settings.signing_key, &dir.join("signing.pem"), || {
        SigningKey::generate(&mut OsRng).to_pkcs8_pem()
    })?;
    let signing = SigningKey::from_pkcs8_pem(&signing_pem).map_err(|e| KeyError::Invalid {
        var: "AUTHGATE_SIGNING_KEY",
        message: e.to_string(),
    })?;
    let encryption_b64 = material(
        &settings.encryption_key,
        &dir.join("encryption.key"),
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
        encryption,
    })
}

fn material(
    source: &KeySource,
    generated_path: &Path,
    generate: impl FnOnce() -> String,
) -> Result<String, KeyError> {
    match source {
        KeySource::Inline(v) => Ok(v.clone()),
        KeySource::File(path) => read(path),
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
    fn a_configured_key_file_that_is_missing_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = settings(tmp.path());
        s.signing_key = KeySource::File(tmp.path().join("nope.pem"));
        assert!(matches!(load(&s), Err(KeyError::Io { .. })));
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
