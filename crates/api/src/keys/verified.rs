//! Tokens whose signature was already checked, keyed by their SHA-256: an
//! Ed25519 verification costs ~40 µs, a lookup well under one. Expiry is
//! still checked on every use, and the session on every request, so the
//! cache changes no outcome. Sharded to keep lock contention low; a full
//! shard is simply emptied.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use auth_core::jwt::AccessClaims;
use sha2::Digest;

const SHARDS: usize = 16;
const PER_SHARD: usize = 4096;

pub(super) struct VerifiedTokens {
    shards: Vec<Mutex<HashMap<[u8; 32], AccessClaims>>>,
}

impl VerifiedTokens {
    pub(super) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    pub(super) fn key(token: &str) -> [u8; 32] {
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    fn shard(&self, key: &[u8; 32]) -> MutexGuard<'_, HashMap<[u8; 32], AccessClaims>> {
        self.shards[usize::from(key[0]) % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn get(&self, key: &[u8; 32]) -> Option<AccessClaims> {
        self.shard(key).get(key).cloned()
    }

    pub(super) fn put(&self, key: [u8; 32], claims: AccessClaims) {
        let mut shard = self.shard(&key);
        if shard.len() >= PER_SHARD {
            shard.clear();
        }
        shard.insert(key, claims);
    }
}
