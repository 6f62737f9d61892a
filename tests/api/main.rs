//! End-to-end tests: the real application over real HTTP, one binary.

mod helpers;

mod attacks;
mod cli;
mod enforcement;
mod errors;
mod instances;
mod login;
mod openapi;
mod operations;
mod self_service;
