//! Counting a session's failed re-authentications.

use auth_core::ids::SessionId;
use diesel::prelude::*;

use crate::{schema::sessions, StoreError, Tx};

impl Tx<'_> {
    /// Counts one more failed step-up of the session; returns the count.
    pub fn count_step_up_failure(&mut self, session_id: &SessionId) -> Result<u32, StoreError> {
        diesel::update(sessions::table.find(session_id.as_str()))
            .set(sessions::step_up_failures.eq(sessions::step_up_failures + 1))
            .execute(self.conn)?;
        let n: i32 = sessions::table
            .find(session_id.as_str())
            .select(sessions::step_up_failures)
            .get_result(self.conn)?;
        Ok(u32::try_from(n).unwrap_or(0))
    }
}
