//! Removing a user: deactivated and anonymised, never deleted outright, so
//! the login history and the audit log keep their ids.

use auth_core::{
    events::{SecurityEvent, REMOVED},
    identity::{Email, Role},
    ids::UserId,
};
use persistence::{records::RequestOrigin, Anonymised, StoreError};

use super::{
    record::{record, Context},
    refusal::{refuse, Decided, Missing, Refusal, SelfChange},
    users::end_everything,
    ServiceError, Services,
};

/// The placeholder address a removed user keeps: unique (it carries the
/// id) and in a reserved domain (RFC 2606), so it can never be mailed or
/// registered by a real person.
fn placeholder_email(id: &UserId) -> Result<Email, ServiceError> {
    format!("removed-{}@removed.invalid", id.as_str().to_lowercase())
        .parse()
        .map_err(|_| ServiceError::Internal("a removed user's placeholder email did not parse"))
}

impl Services {
    /// Removes a user of the admin's organization: sessions and logins in
    /// flight end, authenticators, recovery codes and password tokens are
    /// deleted, the email is freed, and the records that keep the id lose
    /// the person's address, email and name.
    pub fn remove_user(
        &self,
        admin: &persistence::records::UserRecord,
        id: &UserId,
        origin: &RequestOrigin,
    ) -> Result<(), ServiceError> {
        if *id == admin.id {
            return Err(Refusal::CannotModifySelf(SelfChange::Remove).into());
        }
        let email = placeholder_email(id)?;
        // A hash of a random password nobody was told: the row keeps a
        // valid hash, and no password opens it.
        let (password_hash, _) = self.hash_new_password(None)?;
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let Some(user) = tx.user_in_organization(&admin.organization_id, id)? else {
                    return refuse(Refusal::NotFound(Missing::User));
                };
                if user.role == Role::Admin
                    && !user.disabled
                    && tx.lock_and_count_active_admins(&user.organization_id)? <= 1
                {
                    return refuse(Refusal::LastAdmin);
                }
                let (sessions_ended, _) = end_everything(tx, &user.id, now)?;
                tx.anonymise_user(
                    &user.id,
                    &Anonymised {
                        email: &email,
                        name: REMOVED,
                        password_hash: &password_hash,
                    },
                    now,
                )?;
                let removed = tx
                    .user_by_id(&user.id)?
                    .ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
                record(
                    tx,
                    &Context::of_user(admin, origin, now),
                    &removed,
                    SecurityEvent::UserRemoved { sessions_ended },
                )?;
                Ok(Decided::Done(()))
            })?
            .into_result()
    }
}
