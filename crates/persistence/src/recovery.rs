use auth_core::{ids::UserId, UnixTime};
use diesel::prelude::*;

use crate::{schema::recovery_codes as rc, StoreError, Tx};

impl Tx<'_> {
    /// Replaces a user's recovery codes with a new set (given as hashes).
    pub fn replace_recovery_codes(
        &mut self,
        user_id: &UserId,
        hashes: &[String],
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let user_id = user_id.as_str();
        diesel::delete(rc::table.filter(rc::user_id.eq(user_id))).execute(self.conn)?;
        for hash in hashes {
            diesel::insert_into(rc::table)
                .values((
                    rc::id.eq(uuid::Uuid::new_v4().to_string()),
                    rc::user_id.eq(user_id),
                    rc::code_hash.eq(hash),
                    rc::created_at.eq(now.as_millis()),
                ))
                .execute(self.conn)?;
        }
        Ok(())
    }

    /// Spends a recovery code: true once, false for an unknown or used code.
    pub fn use_recovery_code(
        &mut self,
        user_id: &UserId,
        hash: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            rc::table
                .filter(rc::user_id.eq(user_id.as_str()))
                .filter(rc::code_hash.eq(hash))
                .filter(rc::used_at.is_null()),
        )
        .set(rc::used_at.eq(now.as_millis()))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    pub fn remaining_recovery_codes(&mut self, user_id: &UserId) -> Result<i64, StoreError> {
        Ok(rc::table
            .filter(rc::user_id.eq(user_id.as_str()))
            .filter(rc::used_at.is_null())
            .count()
            .get_result(self.conn)?)
    }

    pub fn delete_recovery_codes(&mut self, user_id: &UserId) -> Result<(), StoreError> {
        diesel::delete(rc::table.filter(rc::user_id.eq(user_id.as_str()))).execute(self.conn)?;
        Ok(())
    }
}
