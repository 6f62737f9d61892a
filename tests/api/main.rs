//! End-to-end tests: the real application over real HTTP, one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot go on should stop

mod helpers;

mod architecture;
mod attacks;
mod cli;
mod docker;
mod enforcement;
mod errors;
mod hygiene;
mod instances;
mod login;
mod openapi;
mod operations;
mod partners;
mod self_service;
