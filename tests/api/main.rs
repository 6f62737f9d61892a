//! End-to-end tests: the real application over real HTTP, one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot go on should stop

mod helpers;

mod architecture;
mod attacks;
mod cli;
mod enforcement;
mod errors;
mod instances;
mod login;
mod openapi;
mod operations;
mod owner_limits;
mod self_service;
mod step_up;
