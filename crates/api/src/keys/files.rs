//! Key material on disk: read once configured, generated once (outside
//! production) with owner-only permissions.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use secrecy::ExposeSecret;

use super::KeyError;
use crate::config::{KeySource, Settings};

/// Where the active signing key lives on disk, if it does.
pub(super) fn signing_key_path(settings: &Settings) -> Option<PathBuf> {
    match &settings.signing_key {
        KeySource::Inline(_) => None,
        KeySource::File(path) => Some(path.clone()),
        KeySource::Generated => Some(settings.data_dir.join("keys").join("signing.pem")),
    }
}

/// The text of a key: inline, from its file, or generated into
/// `generated_path` the first time.
pub(super) fn material(
    source: &KeySource,
    generated_path: &Path,
    file_var: &'static str,
    generate: impl FnOnce() -> String,
) -> Result<String, KeyError> {
    match source {
        KeySource::Inline(v) => Ok(v.expose_secret().to_owned()),
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

pub(super) fn read(path: &Path) -> Result<String, KeyError> {
    fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes a new file readable by its owner only; an existing file is left
/// as it is.
pub(super) fn create_private(path: &Path, contents: &str) -> Result<(), KeyError> {
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
