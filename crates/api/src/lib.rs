//! Authgate's HTTP edge and command line over the use cases in `service`.
//!
//! Layers, each using only those below it: `service` (use cases, free of
//! HTTP) ← `routes` (handlers: parse, call one use case, present) ←
//! `startup` (the application) ← `cli` (the binary's commands). See
//! ARCHITECTURE.md at the repository root.

pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod dispatch;
pub mod dto;
pub mod egress;
pub mod extract;
pub mod hash_pool;
pub mod keys;
pub mod metrics;
pub mod middleware;
pub mod notify;
pub mod openapi;
pub mod partner_auth;
pub mod password_mail;
pub mod problem;
pub mod routes;
pub mod service;
pub mod startup;
pub mod telemetry;
