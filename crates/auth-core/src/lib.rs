//! Authgate's domain core: every rule of two-factor login as pure logic.
//!
//! Nothing here performs I/O or reads a clock: time arrives as [`UnixTime`]
//! and randomness as a caller-supplied CSPRNG, so each rule can be tested at
//! any instant and with any random source.

pub mod api_key;
pub mod authenticators;
pub mod client_address;
pub mod delivery;
pub mod drift;
pub mod enrollment;
pub mod events;
pub mod identity;
pub mod ids;
pub mod jwt;
pub mod netguard;
pub mod opaque_token;
pub mod otpauth;
pub mod outcome;
pub mod password;
pub mod password_reset;
pub mod policy;
pub mod qr;
pub mod recovery;
pub mod remembered_device;
pub mod throttle;
pub mod time;
pub mod totp;
pub mod webhook_signature;

pub use time::UnixTime;
