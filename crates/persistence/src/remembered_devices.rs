//! Remembered devices: a hashed device token per device that proved a
//! second factor with "remember this device". They end when they expire,
//! when the user revokes one, and all at once when the account's factors
//! or password change.

use auth_core::{identity::ClientKind, ids::UserId, opaque_token::TokenHash, UnixTime};
use diesel::prelude::*;

use crate::{error::corrupt, schema::remembered_devices as rd, StoreError, Tx};

pub struct NewDevice<'a> {
    pub id: &'a str,
    pub user_id: &'a UserId,
    pub hash: &'a TokenHash,
    pub client: ClientKind,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// A live remembered device, as its owner sees it.
#[derive(Clone, Debug)]
pub struct DeviceRecord {
    pub id: String,
    pub client: ClientKind,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
    pub expires_at: UnixTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = rd)]
struct DeviceRow {
    id: String,
    client: String,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: i64,
}

impl TryFrom<DeviceRow> for DeviceRecord {
    type Error = StoreError;
    fn try_from(r: DeviceRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            client: r.client.parse().map_err(corrupt)?,
            ip: r.ip,
            user_agent: r.user_agent,
            created_at: UnixTime::from_millis(r.created_at),
            last_used_at: r.last_used_at.map(UnixTime::from_millis),
            expires_at: UnixTime::from_millis(r.expires_at),
        })
    }
}

impl Tx<'_> {
    pub fn remember_device(&mut self, d: &NewDevice<'_>) -> Result<(), StoreError> {
        diesel::insert_into(rd::table)
            .values((
                rd::id.eq(d.id),
                rd::user_id.eq(d.user_id.as_str()),
                rd::token_hash.eq(d.hash.as_str()),
                rd::client.eq(d.client.as_str()),
                rd::ip.eq(d.ip),
                rd::user_agent.eq(d.user_agent),
                rd::created_at.eq(d.created_at.as_millis()),
                rd::expires_at.eq(d.expires_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Marks the user's live device with this token hash as used now;
    /// false when there is none (unknown, another user's, expired or
    /// revoked): one conditional update, so a revocation racing a login
    /// is decided by the database.
    /// Only devices remembered after `remembered_since` count (an
    /// organization may have shortened the lifetime since).
    pub fn use_remembered_device(
        &mut self,
        user_id: &UserId,
        hash: &TokenHash,
        remembered_since: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            rd::table
                .filter(rd::token_hash.eq(hash.as_str()))
                .filter(rd::user_id.eq(user_id.as_str()))
                .filter(rd::revoked_at.is_null())
                .filter(rd::created_at.gt(remembered_since.as_millis()))
                .filter(rd::expires_at.gt(now.as_millis())),
        )
        .set(rd::last_used_at.eq(now.as_millis()))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// The user's live devices, newest first.
    pub fn remembered_devices(
        &mut self,
        user_id: &UserId,
        now: UnixTime,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        rd::table
            .filter(rd::user_id.eq(user_id.as_str()))
            .filter(rd::revoked_at.is_null())
            .filter(rd::expires_at.gt(now.as_millis()))
            .order((rd::created_at.desc(), rd::id.desc()))
            .select(DeviceRow::as_select())
            .load::<DeviceRow>(self.conn)?
            .into_iter()
            .map(DeviceRecord::try_from)
            .collect()
    }

    /// Forgets one of the user's devices; false when it is not theirs or
    /// already gone.
    pub fn forget_device(
        &mut self,
        user_id: &UserId,
        id: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            rd::table
                .filter(rd::id.eq(id))
                .filter(rd::user_id.eq(user_id.as_str()))
                .filter(rd::revoked_at.is_null()),
        )
        .set(rd::revoked_at.eq(now.as_millis()))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Forgets every device of the user; returns how many were live.
    pub fn forget_devices(&mut self, user_id: &UserId, now: UnixTime) -> Result<usize, StoreError> {
        Ok(diesel::update(
            rd::table
                .filter(rd::user_id.eq(user_id.as_str()))
                .filter(rd::revoked_at.is_null()),
        )
        .set(rd::revoked_at.eq(now.as_millis()))
        .execute(self.conn)?)
    }
}
