use crate::secret_box::SecretBoxError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had in time, or the database is busy: the
    /// request may succeed later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Secret(#[from] SecretBoxError),
    #[error("database error: {0}")]
    Query(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => StoreError::Unavailable(info.message().to_owned()),
            Error::BrokenTransactionManager => {
                StoreError::Unavailable("the connection broke mid-transaction".into())
            }
            // PostgreSQL shutting down or restarting under us.
            Error::DatabaseError(_, info)
                if [
                    "terminating connection",
                    "server closed the connection",
                    "no connection to the server",
                    "the database system is",
                ]
                .iter()
                .any(|m| info.message().contains(m)) =>
            {
                StoreError::Unavailable(info.message().to_owned())
            }
            // SQLite's busy timeout ran out: contention, not a bug.
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => {
                StoreError::Unavailable(info.message().to_owned())
            }
            _ => StoreError::Query(e),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
