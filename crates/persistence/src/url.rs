//! `AUTHGATE_DATABASE_URL`: which backend, and where.

use std::{fmt, path::PathBuf};

use crate::error::StoreError;

/// Where the data lives, parsed from `AUTHGATE_DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    /// A libpq URL, `postgres://` or `postgresql://`.
    Postgres(String),
}

impl DatabaseUrl {
    /// `postgres://…` and `postgresql://…` select PostgreSQL; `sqlite://PATH`
    /// or a plain path select SQLite. Other schemes are refused rather than
    /// mistaken for a file name.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::InvalidUrl("the URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl("sqlite:// needs a file path".into()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(StoreError::InvalidUrl(format!(
                "unsupported scheme {scheme:?}; use postgres://, postgresql://, sqlite://PATH or a file path"
            )));
        }
        if url == ":memory:" {
            return Err(StoreError::InvalidUrl(
                ":memory: gives each pooled connection its own database; use a file".into(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

/// Never prints a password that may be embedded in the URL.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                match rest.split_once('@') {
                    Some((userinfo, host)) => {
                        let user = userinfo.split(':').next().unwrap_or_default();
                        let hidden = if userinfo.contains(':') { ":***" } else { "" };
                        write!(f, "{scheme}://{user}{hidden}@{host}")
                    }
                    None => write!(f, "{url}"),
                }
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_and_plain_paths_are_accepted() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://./data/a.db").unwrap(),
            DatabaseUrl::Sqlite("./data/a.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("/tmp/a.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/a.db".into())
        );
    }

    #[test]
    fn postgres_urls_select_postgres_and_never_print_the_password() {
        let url = DatabaseUrl::parse("postgresql://app:s3cret@db:5432/authgate").unwrap();
        assert_eq!(url.backend(), "postgres");
        assert_eq!(url.to_string(), "postgresql://app:***@db:5432/authgate");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            DatabaseUrl::parse("postgres://h/db").unwrap().backend(),
            "postgres"
        );
    }

    #[test]
    fn unknown_schemes_and_memory_databases_are_refused() {
        assert!(matches!(
            DatabaseUrl::parse("mysql://x/y"),
            Err(StoreError::InvalidUrl(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse(":memory:"),
            Err(StoreError::InvalidUrl(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse(""),
            Err(StoreError::InvalidUrl(_))
        ));
    }
}
