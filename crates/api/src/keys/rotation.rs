//! Signing-key rotation: `authgate keys rotate` moves the active key to
//! `retired/` (named by when it retired) and writes a new one; retired keys
//! stay trusted for verification until every token they signed expired.

use std::{
    fs,
    path::{Path, PathBuf},
};

use auth_core::{jwt::SigningKey, UnixTime};
use rand_core::OsRng;

use super::{
    files::{create_private, material, read, signing_key_path},
    KeyError,
};
use crate::config::Settings;

/// How long a retired key stays trusted: the longest an access token lives,
/// plus a minute of clock skew.
pub const RETIRED_KEY_RETENTION: std::time::Duration =
    std::time::Duration::from_secs(auth_core::jwt::MAX_ACCESS_TTL.as_secs() + 60);

fn parse_signing(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Invalid {
        var: "AUTHGATE_SIGNING_KEY",
        message: e.to_string(),
    })
}

fn horizon(now: UnixTime) -> i64 {
    now.minus(RETIRED_KEY_RETENTION).as_millis()
}

/// The active signing key and the retired ones still within retention.
pub fn load_signing(
    settings: &Settings,
    now: UnixTime,
) -> Result<(SigningKey, Vec<SigningKey>), KeyError> {
    let dir = settings.data_dir.join("keys");
    let signing_pem = material(
        &settings.signing_key,
        &dir.join("signing.pem"),
        "AUTHGATE_SIGNING_KEY_FILE",
        || SigningKey::generate(settings.signing_alg, &mut OsRng).to_pkcs8_pem(),
    )?;
    let signing = parse_signing(&signing_pem)?;
    let mut retired = Vec::new();
    if let Some(retired_dir) =
        signing_key_path(settings).and_then(|p| p.parent().map(|d| d.join("retired")))
    {
        for (retired_at, path) in retired_files(&retired_dir) {
            if retired_at >= horizon(now) {
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
pub fn rotate(settings: &Settings, now: UnixTime) -> Result<(String, String), KeyError> {
    let path = signing_key_path(settings).ok_or(KeyError::Invalid {
        var: "AUTHGATE_SIGNING_KEY",
        message: "an inline key cannot be rotated; use AUTHGATE_SIGNING_KEY_FILE".into(),
    })?;
    let (active, _) = load_signing(settings, now)?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
    let retired_dir = dir.join("retired");
    let stamp = now.as_millis();
    create_private(
        &retired_dir.join(format!("{stamp}-{}.pem", active.kid())),
        &active.to_pkcs8_pem(),
    )?;
    // The new key has the configured algorithm: rotating is also how a
    // deployment switches between EdDSA and ES256.
    let next = SigningKey::generate(settings.signing_alg, &mut OsRng);
    // Write beside, then rename: readers see the old key or the new one.
    let staging = dir.join(format!(".signing-{stamp}.pem"));
    create_private(&staging, &next.to_pkcs8_pem())?;
    fs::rename(&staging, &path).map_err(|source| KeyError::Io {
        path: path.clone(),
        source,
    })?;
    for (at, old) in retired_files(&retired_dir) {
        if at < horizon(now) {
            let _ = fs::remove_file(old);
        }
    }
    Ok((active.kid().to_owned(), next.kid().to_owned()))
}
