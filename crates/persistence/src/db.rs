use std::{fmt, time::Duration};

use diesel::{
    connection::SimpleConnection,
    pg::PgConnection,
    r2d2::{ManageConnection, Pool, PooledConnection},
    sqlite::SqliteConnection,
    Connection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use crate::url::DatabaseUrl;
use crate::{checkpoint::Checkpoints, error::StoreError, secret_box::SecretBox};

/// One connection type over both backends, so every query is written once
/// against the portable schema.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub(crate) type Conn = AnyConnection;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

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

/// SQLite's `synchronous` setting (`AUTHGATE_SQLITE_SYNCHRONOUS`). In WAL
/// mode `Normal` never corrupts the database and loses nothing when the
/// process crashes, but a power cut or kernel panic may drop the last
/// acknowledged commits; `Full` syncs the WAL on every commit, so an
/// acknowledged commit survives those too, at the cost of an fsync per
/// write. See BENCHMARKS.md.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    Normal,
    #[default]
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// Opens connections of the backend the URL names, and nothing else: a
/// PostgreSQL URL never falls back to creating a SQLite file.
#[derive(Debug)]
struct Manager {
    url: DatabaseUrl,
    busy_timeout: Duration,
    synchronous: Synchronous,
}

impl Manager {
    fn establish(&self) -> Result<Conn, StoreError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(|e| {
                    StoreError::Unavailable(format!(
                        "cannot connect to PostgreSQL at {}: {e}",
                        self.url
                    ))
                }),
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| {
                        StoreError::Unavailable(format!("cannot open {}: {e}", path.display()))
                    })?;
                // Checkpoints run on a background thread (see `checkpoints`),
                // not in whichever request happens to fill the WAL.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
                    self.busy_timeout.as_millis(),
                    self.synchronous.pragma(),
                ))
                .map_err(|e| StoreError::Unavailable(format!("cannot configure {}: {e}", path.display())))?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

#[derive(Debug)]
struct ConnectError(String);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnectError;

    fn connect(&self) -> Result<Conn, ConnectError> {
        self.establish().map_err(|e| ConnectError(e.to_string()))
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, _conn: &mut Conn) -> bool {
        // Checked on checkout by `is_valid`; a broken connection fails it.
        false
    }
}

type ConnPool = Pool<Manager>;

/// The bounded pool plus the key that seals TOTP secrets.
#[derive(Clone)]
pub struct Store {
    pool: ConnPool,
    secrets: SecretBox,
    backend: &'static str,
    /// SQLite admits one writer at a time. Writers of this process queue
    /// here, in order, instead of polling in SQLite's busy handler (which
    /// sleeps 1, 2, 5 … 100 ms between tries); other processes on the same
    /// file still meet the busy timeout.
    writer: Option<std::sync::Arc<std::sync::Mutex<()>>>,
    /// SQLite: the background checkpointer, stopped with the last clone.
    _checkpoints: Option<std::sync::Arc<Checkpoints>>,
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
    /// SQLite runs with `synchronous = NORMAL` here (tests, tools); the
    /// server passes its configured setting to [`Store::open_with`].
    pub fn open(config: &DbConfig, secrets: SecretBox) -> Result<Self, StoreError> {
        Self::open_with(config, secrets, Synchronous::Normal)
    }

    /// [`Store::open`] with SQLite's durability chosen.
    pub fn open_with(
        config: &DbConfig,
        secrets: SecretBox,
        synchronous: Synchronous,
    ) -> Result<Self, StoreError> {
        if let DatabaseUrl::Sqlite(path) = &config.url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let manager = Manager {
            url: config.url.clone(),
            busy_timeout: config.busy_timeout,
            synchronous,
        };
        // One direct connection first: it reports the real error (refused,
        // authentication, unknown database) and applies the migrations.
        let mut first = manager.establish()?;
        migrate(&mut first)?;
        drop(first);
        // Connections are then made on demand, so an outage after start
        // means 503s until the database is back, not a dead process.
        let pool = Pool::builder()
            .max_size(config.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(config.pool_timeout)
            // A PostgreSQL connection can die under us (restart, failover):
            // check it on checkout. A SQLite file cannot; skip the round trip.
            .test_on_check_out(matches!(config.url, DatabaseUrl::Postgres(_)))
            .build_unchecked(manager);
        Ok(Self {
            pool,
            secrets,
            backend: config.url.backend(),
            writer: matches!(config.url, DatabaseUrl::Sqlite(_)).then(Default::default),
            _checkpoints: match &config.url {
                DatabaseUrl::Sqlite(path) => {
                    Some(std::sync::Arc::new(Checkpoints::start(path.clone())))
                }
                DatabaseUrl::Postgres(_) => None,
            },
        })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// At shutdown, after the last request: SQLite's final truncating
    /// checkpoint runs now and is waited for, so a clean stop leaves no WAL
    /// behind. Further use of the store still works (without checkpoints).
    pub fn close(&self) {
        if let Some(c) = &self._checkpoints {
            c.finish();
        }
    }

    fn conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Open and idle connections of the pool, and its bound.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// Cheap reachability probe for readiness checks.
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    /// One read statement, without a transaction around it (a single round
    /// trip on PostgreSQL instead of three): for the per-request lookup.
    pub fn query<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut pooled = self.conn()?;
        let conn: &mut Conn = &mut pooled;
        f(&mut Tx {
            conn,
            secrets: &self.secrets,
        })
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
        let _turn = self
            .writer
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let mut pooled = self.conn()?;
        let conn: &mut Conn = &mut pooled;
        let secrets = &self.secrets;
        conn.transaction::<T, TxError<StoreError>, _>(|c| {
            if let AnyConnection::Sqlite(_) = c {
                // A write statement (matching no row) takes SQLite's write
                // lock now, as BEGIN IMMEDIATE would, so writers queue on
                // the busy timeout instead of failing on lock upgrade.
                c.batch_execute("UPDATE organizations SET name = name WHERE 1 = 0")?;
            }
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

fn migrate(conn: &mut Conn) -> Result<usize, StoreError> {
    let applied = match conn {
        AnyConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| StoreError::Migration(e.to_string()))
}
