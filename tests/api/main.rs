//! End-to-end tests: the real application over real HTTP, one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot go on should stop

mod helpers;

mod account_recovery;
mod architecture;
mod attacks;
mod authenticators;
mod cli;
mod console;
mod docker;
mod durability;
mod enforcement;
mod errors;
mod hygiene;
mod instances;
mod last_login;
mod login;
mod notifications;
mod openapi;
mod operations;
mod owner_limits;
mod partners;
mod remembered_devices;
mod removal;
mod self_service;
mod step_up;
mod webhooks;
