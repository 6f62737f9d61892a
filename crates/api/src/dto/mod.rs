//! Request and response bodies: the API's JSON contract, documented in the
//! OpenAPI spec. Parsing into domain types happens in the handlers; the
//! mapping from use-case outcomes to these bodies is in `routes::present`.

mod accounts;
mod admin;
mod auth;
mod common;
mod discovery;
mod me;
mod ops;
mod partners;
mod webhooks;

pub use accounts::*;
pub use admin::*;
pub use auth::*;
pub use common::*;
pub use discovery::*;
pub use me::*;
pub use ops::*;
pub use partners::*;
pub use webhooks::*;
