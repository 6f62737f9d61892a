//! Partner API keys: organization admins create, list and revoke them; a
//! key authenticates as `Bearer agk_…` on the endpoints its scopes allow.
//!
//! A key acts with the rights of the admin who created it, narrowed to its
//! scopes: it never grants more than an admin of its organization has, and
//! it stops working if that admin is disabled, demoted or removed.

use auth_core::{
    api_key::{Scope, Scopes},
    events::SecurityEvent,
    identity::Role,
    ids::ApiKeyId,
    opaque_token::{OpaqueToken, TokenHash},
    UnixTime,
};
use persistence::{
    api_keys::{ApiKeyRecord, NewApiKey},
    records::{RequestOrigin, UserRecord},
};
use rand_core::OsRng;

use super::{
    record::{record_for_organization, Context},
    refusal::{refuse, Decided, Refusal, ServiceError},
    Services,
};

/// Longest key name accepted.
pub const MAX_KEY_NAME_CHARS: usize = 100;

/// What an admin asks for.
pub struct NewKeyInput {
    pub name: String,
    pub scopes: Scopes,
    pub expires_at: Option<UnixTime>,
}

/// A key just created: the only time the key itself is seen.
pub struct CreatedKey {
    pub record: ApiKeyRecord,
    pub key: OpaqueToken,
}

/// Who called with a key: the key, and the admin it acts for.
pub struct KeyCaller {
    pub key: ApiKeyRecord,
    pub admin: UserRecord,
}

/// Refusals for a bad key: unknown, revoked, expired or orphaned keys
/// all read the same from outside.
#[derive(Debug)]
pub enum KeyRefusal {
    Unknown,
    MissingScope(Scope),
}

impl Services {
    pub fn create_api_key(
        &self,
        admin: &UserRecord,
        input: NewKeyInput,
        origin: &RequestOrigin,
    ) -> Result<CreatedKey, ServiceError> {
        let now = self.clock.now();
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_KEY_NAME_CHARS {
            return Err(Refusal::InvalidInput(format!(
                "name must be 1 to {MAX_KEY_NAME_CHARS} characters"
            ))
            .into());
        }
        if input.expires_at.is_some_and(|t| t <= now) {
            return Err(Refusal::InvalidInput("expires_at must be in the future".into()).into());
        }
        let key = OpaqueToken::generate("agk", &mut OsRng);
        let id = ApiKeyId::generate(&mut OsRng);
        let record = self.store.write(|tx| {
            tx.insert_api_key(&NewApiKey {
                id: &id,
                organization_id: &admin.organization_id,
                name: &name,
                key_hash: &key.hash(),
                scopes: &input.scopes,
                created_by: &admin.id,
                created_at: now,
                expires_at: input.expires_at,
            })?;
            record_for_organization(
                tx,
                &Context::of_user(admin, origin, now),
                &admin.organization_id,
                SecurityEvent::ApiKeyCreated {
                    key_id: id.clone(),
                    name: name.clone(),
                    scopes: input.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
                    expires_at: input.expires_at.map(UnixTime::as_millis),
                },
            )?;
            Ok(ApiKeyRecord {
                id: id.clone(),
                organization_id: admin.organization_id.clone(),
                name: name.clone(),
                scopes: input.scopes.clone(),
                created_by: Some(admin.id.clone()),
                created_at: now,
                last_used_at: None,
                expires_at: input.expires_at,
            })
        })?;
        Ok(CreatedKey { record, key })
    }

    pub fn list_api_keys(&self, admin: &UserRecord) -> Result<Vec<ApiKeyRecord>, ServiceError> {
        Ok(self
            .store
            .read(|tx| tx.organization_api_keys(&admin.organization_id))?)
    }

    pub fn revoke_api_key(
        &self,
        admin: &UserRecord,
        id: &ApiKeyId,
        origin: &RequestOrigin,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let Some(key) = tx.revoke_api_key(&admin.organization_id, id, now)? else {
                    return refuse(Refusal::NotFound(super::refusal::Missing::ApiKey));
                };
                record_for_organization(
                    tx,
                    &Context::of_user(admin, origin, now),
                    &admin.organization_id,
                    SecurityEvent::ApiKeyRevoked {
                        key_id: key.id,
                        name: key.name,
                    },
                )?;
                Ok(Decided::Done(()))
            })?
            .into_result()
    }

    /// The caller behind `presented` if it is a live key of an enabled
    /// admin and carries `scope`.
    pub fn authenticate_api_key(
        &self,
        presented: &str,
        scope: Scope,
    ) -> Result<Result<KeyCaller, KeyRefusal>, ServiceError> {
        let now = self.clock.now();
        Ok(self.store.write(|tx| {
            let Some(key) = tx.use_api_key(&TokenHash::of(presented), now)? else {
                return Ok(Err(KeyRefusal::Unknown));
            };
            let admin = match key.created_by.as_ref() {
                Some(id) => tx.user_by_id(id)?,
                None => None,
            };
            let Some(admin) = admin.filter(|a| {
                a.role == Role::Admin && !a.disabled && a.organization_id == key.organization_id
            }) else {
                return Ok(Err(KeyRefusal::Unknown));
            };
            if !key.scopes.allows(scope) {
                return Ok(Err(KeyRefusal::MissingScope(scope)));
            }
            tracing::debug!(key_id = %key.id, scope = %scope, "API key used");
            Ok(Ok(KeyCaller { key, admin }))
        })?)
    }
}
