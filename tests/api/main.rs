//! End-to-end tests: the real application over real HTTP, one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot go on should stop

mod helpers;

mod account_recovery;
mod architecture;
mod attacks;
mod cli;
mod durability;
mod console;
mod enforcement;
mod errors;
mod instances;
mod last_login;
mod login;
mod notifications;
mod openapi;
mod operations;
mod removal;
mod self_service;
mod webhooks;
