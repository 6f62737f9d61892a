//! Single-use password tokens (forgotten-password resets and invitations)
//! and the record of reset requests that limits them. Only hashes of
//! tokens are stored.

use auth_core::{ids::UserId, opaque_token::TokenHash, UnixTime};
use diesel::prelude::*;

use crate::{
    error::corrupt,
    schema::{password_reset_requests as prr, password_tokens as pt},
    StoreError, Tx,
};

/// What a password token is for; both are redeemed the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    Reset,
    Invitation,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Invitation => "invitation",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "reset" => Ok(Self::Reset),
            "invitation" => Ok(Self::Invitation),
            other => Err(corrupt(format!("unknown password token purpose {other:?}"))),
        }
    }
}

pub struct NewPasswordToken<'a> {
    pub id: &'a str,
    pub user_id: &'a UserId,
    pub purpose: TokenPurpose,
    pub hash: &'a TokenHash,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

#[derive(Clone, Debug)]
pub struct PasswordTokenRecord {
    pub id: String,
    pub user_id: UserId,
    pub purpose: TokenPurpose,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub consumed_at: Option<UnixTime>,
}

impl Tx<'_> {
    /// Issues a token; every earlier unused token of the user dies with it
    /// (only the newest mail works).
    pub fn issue_password_token(&mut self, t: &NewPasswordToken<'_>) -> Result<(), StoreError> {
        self.revoke_password_tokens(t.user_id, t.created_at)?;
        diesel::insert_into(pt::table)
            .values((
                pt::id.eq(t.id),
                pt::user_id.eq(t.user_id.as_str()),
                pt::purpose.eq(t.purpose.as_str()),
                pt::token_hash.eq(t.hash.as_str()),
                pt::created_at.eq(t.created_at.as_millis()),
                pt::expires_at.eq(t.expires_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Ends every unused token of the user (password changed, user removed,
    /// a newer token issued). Returns how many ended.
    pub fn revoke_password_tokens(
        &mut self,
        user_id: &UserId,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            pt::table
                .filter(pt::user_id.eq(user_id.as_str()))
                .filter(pt::consumed_at.is_null()),
        )
        .set(pt::consumed_at.eq(now.as_millis()))
        .execute(self.conn)?)
    }

    pub fn password_token(
        &mut self,
        hash: &TokenHash,
    ) -> Result<Option<PasswordTokenRecord>, StoreError> {
        let row = pt::table
            .filter(pt::token_hash.eq(hash.as_str()))
            .select((
                pt::id,
                pt::user_id,
                pt::purpose,
                pt::created_at,
                pt::expires_at,
                pt::consumed_at,
            ))
            .get_result::<(String, String, String, i64, i64, Option<i64>)>(self.conn)
            .optional()?;
        row.map(|(id, user_id, purpose, created, expires, consumed)| {
            Ok(PasswordTokenRecord {
                id,
                user_id: UserId::from_stored(user_id),
                purpose: TokenPurpose::parse(&purpose)?,
                created_at: UnixTime::from_millis(created),
                expires_at: UnixTime::from_millis(expires),
                consumed_at: consumed.map(UnixTime::from_millis),
            })
        })
        .transpose()
    }

    /// Redeems a token once: false when another request already ended it.
    pub fn redeem_password_token(&mut self, id: &str, now: UnixTime) -> Result<bool, StoreError> {
        Ok(diesel::update(
            pt::table
                .filter(pt::id.eq(id))
                .filter(pt::consumed_at.is_null()),
        )
        .set((
            pt::consumed_at.eq(now.as_millis()),
            pt::redeemed_at.eq(now.as_millis()),
        ))
        .execute(self.conn)?
            == 1)
    }

    /// Whether the user ever set their password with an invitation.
    pub fn invitation_accepted(&mut self, user_id: &UserId) -> Result<bool, StoreError> {
        Ok(pt::table
            .filter(pt::user_id.eq(user_id.as_str()))
            .filter(pt::purpose.eq(TokenPurpose::Invitation.as_str()))
            .filter(pt::redeemed_at.is_not_null())
            .count()
            .get_result::<i64>(self.conn)?
            > 0)
    }

    /// Records a forgotten-password request (known email or not).
    pub fn record_reset_request(
        &mut self,
        id: &str,
        user_id: Option<&UserId>,
        ip: Option<&str>,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        diesel::insert_into(prr::table)
            .values((
                prr::id.eq(id),
                prr::user_id.eq(user_id.map(UserId::as_str)),
                prr::ip.eq(ip),
                prr::created_at.eq(now.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Reset requests since `since`: for the account and from the address.
    pub fn reset_requests_since(
        &mut self,
        user_id: Option<&UserId>,
        ip: Option<&str>,
        since: UnixTime,
    ) -> Result<(i64, i64), StoreError> {
        let for_account = match user_id {
            Some(u) => prr::table
                .filter(prr::user_id.eq(u.as_str()))
                .filter(prr::created_at.ge(since.as_millis()))
                .count()
                .get_result(self.conn)?,
            None => 0,
        };
        let from_address = match ip {
            Some(ip) => prr::table
                .filter(prr::ip.eq(ip))
                .filter(prr::created_at.ge(since.as_millis()))
                .count()
                .get_result(self.conn)?,
            None => 0,
        };
        Ok((for_account, from_address))
    }
}
