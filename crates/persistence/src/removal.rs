//! Removing a user: the row stays (ids in the login history and the audit
//! log keep resolving, and nothing dangles), everything that identifies or
//! authenticates the person goes.

use auth_core::{
    events::SecurityEvent,
    identity::{Email, Role},
    ids::{OrganizationId, UserId},
    password::PasswordHash,
    UnixTime,
};
use diesel::prelude::*;

use crate::{
    schema::{
        audit_events as ae, authenticators, login_events, organizations, password_reset_requests,
        password_tokens, recovery_codes, sessions, users,
    },
    StoreError, Tx,
};

/// What stands in for a removed user's identity.
pub struct Anonymised<'a> {
    /// A unique placeholder that frees the real address for a new user.
    pub email: &'a Email,
    pub name: &'a str,
    /// A hash no password matches in practice (of random bytes).
    pub password_hash: &'a PasswordHash,
}

impl Tx<'_> {
    /// Admins of an organization who can still sign in (not removed, not
    /// disabled), counted under the organization's row lock so that two
    /// admins removing each other at once cannot both succeed.
    pub fn lock_and_count_active_admins(
        &mut self,
        organization_id: &OrganizationId,
    ) -> Result<i64, StoreError> {
        // SQLite: the write transaction already holds the one write lock.
        if let crate::db::AnyConnection::Postgresql(_) = self.conn {
            diesel::update(organizations::table.find(organization_id.as_str()))
                .set(organizations::id.eq(organizations::id))
                .execute(self.conn)?;
        }
        Ok(users::table
            .filter(users::organization_id.eq(organization_id.as_str()))
            .filter(users::role.eq(Role::Admin.as_str()))
            .filter(users::disabled.eq(false))
            .filter(users::deleted_at.is_null())
            .count()
            .get_result(self.conn)?)
    }

    /// Deactivates and anonymises a user in the caller's transaction. The
    /// caller ends sessions and challenges first (so the counts it records
    /// are right); this drops credentials and scrubs personal data from
    /// every record that keeps the user's id.
    pub fn anonymise_user(
        &mut self,
        id: &UserId,
        with: &Anonymised<'_>,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let uid = id.as_str();
        diesel::update(users::table.find(uid))
            .set((
                users::email.eq(with.email.as_str()),
                users::name.eq(with.name),
                users::password_hash.eq(with.password_hash.as_str()),
                users::disabled.eq(true),
                users::deleted_at.eq(now.as_millis()),
                users::updated_at.eq(now.as_millis()),
            ))
            .execute(self.conn)?;
        diesel::delete(authenticators::table.filter(authenticators::user_id.eq(uid)))
            .execute(self.conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(uid)))
            .execute(self.conn)?;
        diesel::delete(password_tokens::table.filter(password_tokens::user_id.eq(uid)))
            .execute(self.conn)?;
        diesel::update(
            password_reset_requests::table.filter(password_reset_requests::user_id.eq(uid)),
        )
        .set(password_reset_requests::ip.eq(None::<String>))
        .execute(self.conn)?;
        diesel::update(sessions::table.filter(sessions::user_id.eq(uid)))
            .set((
                sessions::ip.eq(None::<String>),
                sessions::user_agent.eq(None::<String>),
            ))
            .execute(self.conn)?;
        diesel::update(login_events::table.filter(login_events::user_id.eq(uid)))
            .set((
                login_events::ip.eq(None::<String>),
                login_events::user_agent.eq(None::<String>),
                // People name authenticators after themselves ("Ana's phone").
                login_events::authenticator_name.eq(None::<String>),
            ))
            .execute(self.conn)?;
        self.scrub_audit(id)
    }

    /// The audit log is append-only except here: a removed person's
    /// address and email leave the entries about them, the ids and actions
    /// stay.
    fn scrub_audit(&mut self, id: &UserId) -> Result<(), StoreError> {
        let uid = id.as_str();
        let about = ae::target_user_id.eq(uid).or(ae::actor_id.eq(uid));
        let rows: Vec<(i64, String, String)> = ae::table
            .filter(about)
            .select((ae::id, ae::action, ae::details))
            .load(self.conn)?;
        for (row, action, details) in rows {
            let Some(event) = serde_json::from_str(&details)
                .ok()
                .and_then(|d| SecurityEvent::from_parts(&action, d))
            else {
                continue;
            };
            let scrubbed = event.without_personal_data().details().to_string();
            if scrubbed != details {
                diesel::update(ae::table.find(row))
                    .set(ae::details.eq(scrubbed))
                    .execute(self.conn)?;
            }
        }
        diesel::update(ae::table.filter(ae::actor_id.eq(uid)))
            .set(ae::ip.eq(None::<String>))
            .execute(self.conn)?;
        Ok(())
    }
}
