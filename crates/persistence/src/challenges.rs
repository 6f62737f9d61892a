use auth_core::{
    ids::{ChallengeId, UserId},
    opaque_token::TokenHash,
    UnixTime,
};
use diesel::prelude::*;

use crate::{
    error::corrupt,
    records::{ChallengeKind, ChallengeRecord, NewChallenge},
    schema::login_challenges as ch,
    StoreError, Tx,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = ch)]
struct ChallengeRow {
    id: String,
    user_id: String,
    kind: String,
    client: String,
    failed_attempts: i32,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<ChallengeRow> for ChallengeRecord {
    type Error = StoreError;
    fn try_from(r: ChallengeRow) -> Result<Self, StoreError> {
        Ok(Self {
            kind: match r.kind.as_str() {
                "otp" => ChallengeKind::Otp,
                "enrollment" => ChallengeKind::Enrollment,
                other => return Err(corrupt(format!("unknown challenge kind {other:?}"))),
            },
            client: r.client.parse().map_err(corrupt)?,
            id: ChallengeId::from_stored(r.id),
            user_id: UserId::from_stored(r.user_id),
            failed_attempts: r.failed_attempts,
            created_at: UnixTime::from_millis(r.created_at),
            expires_at: UnixTime::from_millis(r.expires_at),
        })
    }
}

impl Tx<'_> {
    pub fn insert_challenge(&mut self, c: &NewChallenge) -> Result<(), StoreError> {
        diesel::insert_into(ch::table)
            .values((
                ch::id.eq(c.id.as_str()),
                ch::token_hash.eq(c.token_hash.as_str()),
                ch::user_id.eq(c.user_id.as_str()),
                ch::kind.eq(c.kind.as_str()),
                ch::client.eq(c.client.as_str()),
                ch::failed_attempts.eq(0),
                ch::created_at.eq(c.created_at.as_millis()),
                ch::expires_at.eq(c.expires_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// The challenge a token stands for, whether or not it is still usable;
    /// the caller decides (and records) why it is not.
    pub fn challenge_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<(ChallengeRecord, bool)>, StoreError> {
        let row = ch::table
            .filter(ch::token_hash.eq(token.as_str()))
            .select((ChallengeRow::as_select(), ch::consumed_at.is_not_null()))
            .get_result::<(ChallengeRow, bool)>(self.conn)
            .optional()?;
        row.map(|(r, consumed)| Ok((r.try_into()?, consumed)))
            .transpose()
    }

    /// Spends a challenge. False if it was already spent or has expired,
    /// so a challenge completes a login at most once.
    pub fn consume_challenge(
        &mut self,
        id: &ChallengeId,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            ch::table
                .find(id.as_str())
                .filter(ch::consumed_at.is_null())
                .filter(ch::expires_at.gt(now.as_millis())),
        )
        .set(ch::consumed_at.eq(now.as_millis()))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Counts a wrong code against the challenge; returns the new count.
    pub fn count_challenge_failure(&mut self, id: &ChallengeId) -> Result<i32, StoreError> {
        let id = id.as_str();
        diesel::update(ch::table.find(id))
            .set(ch::failed_attempts.eq(ch::failed_attempts + 1))
            .execute(self.conn)?;
        Ok(ch::table
            .find(id)
            .select(ch::failed_attempts)
            .get_result(self.conn)?)
    }

    /// Spends every open challenge of a user (their factor or status changed).
    pub fn revoke_user_challenges(
        &mut self,
        user_id: &UserId,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            ch::table
                .filter(ch::user_id.eq(user_id.as_str()))
                .filter(ch::consumed_at.is_null()),
        )
        .set(ch::consumed_at.eq(now.as_millis()))
        .execute(self.conn)?)
    }
}
