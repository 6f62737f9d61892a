//! Health and keys.

#[allow(unused_imports)]
use super::common::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: String,
}

/// JSON Web Key Set (RFC 7517) of the access-token signing keys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}
