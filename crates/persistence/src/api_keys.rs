//! Partner API keys: stored by hash, listed and revoked per organization.

use auth_core::{
    api_key::Scopes,
    ids::{ApiKeyId, OrganizationId, UserId},
    opaque_token::TokenHash,
    UnixTime,
};
use diesel::prelude::*;

use crate::{error::corrupt, schema::api_keys, StoreError, Tx};

/// A key as stored; the key itself is not, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub scopes: Scopes,
    pub created_by: Option<UserId>,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
    pub expires_at: Option<UnixTime>,
}

pub struct NewApiKey<'a> {
    pub id: &'a ApiKeyId,
    pub organization_id: &'a OrganizationId,
    pub name: &'a str,
    pub key_hash: &'a TokenHash,
    pub scopes: &'a Scopes,
    pub created_by: &'a UserId,
    pub created_at: UnixTime,
    pub expires_at: Option<UnixTime>,
}

/// How often `last_used_at` is written: a busy key does not turn every
/// read into a write.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
struct ApiKeyRow {
    id: String,
    organization_id: String,
    name: String,
    scopes: String,
    created_by: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
}

impl TryFrom<ApiKeyRow> for ApiKeyRecord {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: ApiKeyId::from_stored(r.id),
            organization_id: OrganizationId::from_stored(r.organization_id),
            name: r.name,
            scopes: Scopes::from_stored(&r.scopes).map_err(corrupt)?,
            created_by: r.created_by.map(UserId::from_stored),
            created_at: UnixTime::from_millis(r.created_at),
            last_used_at: r.last_used_at.map(UnixTime::from_millis),
            expires_at: r.expires_at.map(UnixTime::from_millis),
        })
    }
}

impl Tx<'_> {
    pub fn insert_api_key(&mut self, k: &NewApiKey<'_>) -> Result<(), StoreError> {
        diesel::insert_into(api_keys::table)
            .values((
                api_keys::id.eq(k.id.as_str()),
                api_keys::organization_id.eq(k.organization_id.as_str()),
                api_keys::name.eq(k.name),
                api_keys::key_hash.eq(k.key_hash.as_str()),
                api_keys::scopes.eq(k.scopes.to_stored()),
                api_keys::created_by.eq(Some(k.created_by.as_str())),
                api_keys::created_at.eq(k.created_at.as_millis()),
                api_keys::expires_at.eq(k.expires_at.map(UnixTime::as_millis)),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// An organization's keys that are not revoked (expired ones too, so
    /// an admin sees them), newest first.
    pub fn organization_api_keys(
        &mut self,
        organization_id: &OrganizationId,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        api_keys::table
            .filter(api_keys::organization_id.eq(organization_id.as_str()))
            .filter(api_keys::revoked_at.is_null())
            .order((api_keys::created_at.desc(), api_keys::id.asc()))
            .select(ApiKeyRow::as_select())
            .load(self.conn)?
            .into_iter()
            .map(ApiKeyRecord::try_from)
            .collect()
    }

    /// Revokes one of the organization's keys; `None` if it has no such
    /// live key.
    pub fn revoke_api_key(
        &mut self,
        organization_id: &OrganizationId,
        id: &ApiKeyId,
        now: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let found = api_keys::table
            .find(id.as_str())
            .filter(api_keys::organization_id.eq(organization_id.as_str()))
            .filter(api_keys::revoked_at.is_null())
            .select(ApiKeyRow::as_select())
            .get_result(self.conn)
            .optional()?;
        let Some(row) = found else { return Ok(None) };
        diesel::update(api_keys::table.find(id.as_str()))
            .set(api_keys::revoked_at.eq(now.as_millis()))
            .execute(self.conn)?;
        row.try_into().map(Some)
    }

    /// The live key with this hash (not revoked, not expired), its use
    /// recorded.
    pub fn use_api_key(
        &mut self,
        key_hash: &TokenHash,
        now: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let found = api_keys::table
            .filter(api_keys::key_hash.eq(key_hash.as_str()))
            .filter(api_keys::revoked_at.is_null())
            .filter(
                api_keys::expires_at
                    .is_null()
                    .or(api_keys::expires_at.gt(now.as_millis())),
            )
            .select(ApiKeyRow::as_select())
            .get_result(self.conn)
            .optional()?;
        let Some(row) = found else { return Ok(None) };
        let stale = row
            .last_used_at
            .is_none_or(|t| t <= now.as_millis() - LAST_USED_RESOLUTION_MS);
        let mut record = ApiKeyRecord::try_from(row)?;
        if stale {
            diesel::update(api_keys::table.find(record.id.as_str()))
                .set(api_keys::last_used_at.eq(now.as_millis()))
                .execute(self.conn)?;
            record.last_used_at = Some(now);
        }
        Ok(Some(record))
    }
}
