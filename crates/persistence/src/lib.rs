//! Authgate's storage: SQL lives here and nowhere else.
//!
//! [`Store`] owns a bounded connection pool and hands out [`Tx`], a unit of
//! work in one transaction; the methods on `Tx` are the only queries the
//! service runs. Calls block: the HTTP layer runs them off its async workers.

pub mod api_keys;
mod audit;
mod authenticators;
mod challenges;
mod checkpoint;
mod db;
mod error;
mod events;
mod organizations;
pub mod outbox;
mod password_tokens;
pub mod records;
mod recovery;
mod remembered_devices;
mod removal;
mod schema;
pub mod secret_box;
mod sessions;
mod step_up;
mod url;
mod users;
pub mod webhooks;

pub use authenticators::{AuthenticatorRecord, NewFactor, DEFAULT_AUTHENTICATOR_NAME};
pub use db::{DatabaseUrl, DbConfig, Store, Synchronous, Tx};
pub use error::StoreError;
pub use password_tokens::{NewPasswordToken, PasswordTokenRecord, TokenPurpose};
pub use remembered_devices::{DeviceRecord, NewDevice};
pub use removal::Anonymised;
pub use secret_box::SecretBox;
pub use sessions::Rotation;
