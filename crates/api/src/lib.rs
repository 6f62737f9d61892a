//! Authgate's HTTP edge: configuration, startup, handlers and the CLI.

pub mod cli;
pub mod config;
pub mod dto;
pub mod extract;
pub mod hash_pool;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod service;
pub mod startup;
pub mod telemetry;
