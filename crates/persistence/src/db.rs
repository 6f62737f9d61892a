use std::{path::PathBuf, time::Duration};

use diesel::{
    connection::SimpleConnection,
    r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection},
    sqlite::SqliteConnection,
    Connection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::{error::StoreError, secret_box::SecretBox};

pub(crate) type Conn = SqliteConnection;
type ConnPool = Pool<ConnectionManager<Conn>>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Where the data lives, parsed from `AUTHGATE_DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// `sqlite://PATH` or a plain path. Other schemes are refused rather
    /// than mistaken for a file name.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::InvalidUrl("the URL is empty".into()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl("sqlite:// needs a file path".into()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(StoreError::InvalidUrl(format!(
                "unsupported scheme {scheme:?}; use sqlite://PATH or a file path"
            )));
        }
        if url == ":memory:" {
            return Err(StoreError::InvalidUrl(
                ":memory: gives each pooled connection its own database; use a file".into(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }
}

#[derive(Clone, Debug)]
pub struct DbConfig {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    /// Longest wait for a pooled connection; past it the request fails
    /// with "unavailable" instead of hanging.
    pub pool_timeout: Duration,
    /// SQLite only: how long a writer waits for another's lock.
    pub busy_timeout: Duration,
}

#[derive(Debug)]
struct SqlitePragmas {
    busy_timeout_ms: u128,
}

impl CustomizeConnection<Conn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            self.busy_timeout_ms
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The bounded pool plus the key that seals TOTP secrets.
#[derive(Clone)]
pub struct Store {
    pool: ConnPool,
    secrets: SecretBox,
}

/// One unit of work on one connection, inside a transaction.
pub struct Tx<'a> {
    pub(crate) conn: &'a mut Conn,
    pub(crate) secrets: &'a SecretBox,
}

enum TxError<E> {
    Db(diesel::result::Error),
    App(E),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

impl Store {
    /// Opens the pool and applies pending migrations. Never panics: a bad
    /// path or a failed migration comes back as an error to report.
    pub fn open(config: &DbConfig, secrets: SecretBox) -> Result<Self, StoreError> {
        let DatabaseUrl::Sqlite(path) = &config.url;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let manager = ConnectionManager::<Conn>::new(path.to_string_lossy());
        let pool = Pool::builder()
            .max_size(config.pool_size.max(1))
            .connection_timeout(config.pool_timeout)
            .connection_customizer(Box::new(SqlitePragmas {
                busy_timeout_ms: config.busy_timeout.as_millis(),
            }))
            .build(manager)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let store = Self { pool, secrets };
        store.migrate()?;
        Ok(store)
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        conn.run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    fn conn(&self) -> Result<PooledConnection<ConnectionManager<Conn>>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Cheap reachability probe for readiness checks.
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    /// A read-only unit of work (one consistent snapshot).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let secrets = &self.secrets;
        conn.transaction::<T, TxError<StoreError>, _>(|c| {
            f(&mut Tx { conn: c, secrets }).map_err(TxError::App)
        })
        .map_err(Self::unwrap_tx_error)
    }

    /// A unit of work that writes: all of it commits, or none of it. On
    /// SQLite the write lock is taken up front so that concurrent writers
    /// queue on the busy timeout instead of failing on lock upgrade.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let secrets = &self.secrets;
        conn.immediate_transaction::<T, TxError<StoreError>, _>(|c| {
            f(&mut Tx { conn: c, secrets }).map_err(TxError::App)
        })
        .map_err(Self::unwrap_tx_error)
    }

    fn unwrap_tx_error(e: TxError<StoreError>) -> StoreError {
        match e {
            TxError::Db(d) => StoreError::from(d),
            TxError::App(e) => e,
        }
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
