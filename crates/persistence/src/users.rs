use auth_core::{
    ids::{OrganizationId, UserId},
    password::PasswordHash,
    UnixTime,
};
use diesel::{prelude::*, result::DatabaseErrorKind};

use crate::{
    error::corrupt,
    records::{NewUser, UserChanges, UserRecord},
    schema::users,
    StoreError, Tx,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: String,
    organization_id: String,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    two_factor_required: bool,
    disabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            email: r.email.parse().map_err(corrupt)?,
            role: r.role.parse().map_err(corrupt)?,
            password_hash: PasswordHash::from_stored(r.password_hash),
            id: UserId::from_stored(r.id),
            organization_id: OrganizationId::from_stored(r.organization_id),
            name: r.name,
            two_factor_required: r.two_factor_required,
            disabled: r.disabled,
            created_at: UnixTime::from_millis(r.created_at),
            updated_at: UnixTime::from_millis(r.updated_at),
        })
    }
}

impl Tx<'_> {
    pub fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError> {
        diesel::insert_into(users::table)
            .values((
                users::id.eq(user.id.as_str()),
                users::organization_id.eq(user.organization_id.as_str()),
                users::email.eq(user.email.as_str()),
                users::name.eq(user.name.as_str()),
                users::role.eq(user.role.as_str()),
                users::password_hash.eq(user.password_hash.as_str()),
                users::two_factor_required.eq(user.two_factor_required),
                users::disabled.eq(false),
                users::created_at.eq(user.created_at.as_millis()),
                users::updated_at.eq(user.created_at.as_millis()),
            ))
            .execute(self.conn)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    StoreError::EmailTaken
                }
                e => e.into(),
            })?;
        Ok(())
    }

    pub fn user_by_email(
        &mut self,
        email: &auth_core::identity::Email,
    ) -> Result<Option<UserRecord>, StoreError> {
        users::table
            .filter(users::email.eq(email.as_str()))
            .select(UserRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(UserRecord::try_from)
            .transpose()
    }

    pub fn user_by_id(&mut self, id: &UserId) -> Result<Option<UserRecord>, StoreError> {
        users::table
            .find(id.as_str())
            .select(UserRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(UserRecord::try_from)
            .transpose()
    }

    /// A user of `organization_id` only: other organizations' users, and
    /// removed users, are indistinguishable from users that do not exist.
    pub fn user_in_organization(
        &mut self,
        organization_id: &OrganizationId,
        id: &UserId,
    ) -> Result<Option<UserRecord>, StoreError> {
        users::table
            .find(id.as_str())
            .filter(users::organization_id.eq(organization_id.as_str()))
            .filter(users::deleted_at.is_null())
            .select(UserRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(UserRecord::try_from)
            .transpose()
    }

    /// Users of an organization, oldest first, `limit` from `offset`.
    pub fn users_of_organization(
        &mut self,
        organization_id: &OrganizationId,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<UserRecord>, i64), StoreError> {
        let organization_id = organization_id.as_str();
        let total = users::table
            .filter(users::organization_id.eq(organization_id))
            .filter(users::deleted_at.is_null())
            .count()
            .get_result(self.conn)?;
        let rows = users::table
            .filter(users::organization_id.eq(organization_id))
            .filter(users::deleted_at.is_null())
            .order((users::created_at.asc(), users::id.asc()))
            .offset(offset)
            .limit(limit)
            .select(UserRow::as_select())
            .load(self.conn)?;
        let users = rows
            .into_iter()
            .map(UserRecord::try_from)
            .collect::<Result<_, _>>()?;
        Ok((users, total))
    }

    pub fn update_user(
        &mut self,
        id: &UserId,
        changes: &UserChanges,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        // One statement per field keeps the query portable and typed; they
        // all run in the caller's transaction.
        let target = users::table.find(id.as_str());
        if let Some(name) = &changes.name {
            diesel::update(target)
                .set(users::name.eq(name.as_str()))
                .execute(self.conn)?;
        }
        if let Some(role) = changes.role {
            diesel::update(target)
                .set(users::role.eq(role.as_str()))
                .execute(self.conn)?;
        }
        if let Some(required) = changes.two_factor_required {
            diesel::update(target)
                .set(users::two_factor_required.eq(required))
                .execute(self.conn)?;
        }
        if let Some(disabled) = changes.disabled {
            diesel::update(target)
                .set(users::disabled.eq(disabled))
                .execute(self.conn)?;
        }
        if let Some(hash) = &changes.password_hash {
            diesel::update(target)
                .set(users::password_hash.eq(hash.as_str()))
                .execute(self.conn)?;
        }
        diesel::update(target)
            .set(users::updated_at.eq(now.as_millis()))
            .execute(self.conn)?;
        Ok(())
    }
}

impl Tx<'_> {
    /// Takes the user's row lock (PostgreSQL) or the write lock (SQLite)
    /// before a read-decide-write on the throttle, so that concurrent
    /// attempts on several instances are counted one after another.
    /// True when a row lock was taken now, so that what the transaction
    /// read before may have changed while it waited; false on SQLite, whose
    /// write transaction held the database's one write lock from its start.
    pub fn lock_user(&mut self, id: &UserId) -> Result<bool, StoreError> {
        if let crate::db::AnyConnection::Sqlite(_) = self.conn {
            return Ok(false);
        }
        diesel::update(users::table.find(id.as_str()))
            .set(users::otp_failures.eq(users::otp_failures))
            .execute(self.conn)?;
        Ok(true)
    }

    pub fn otp_throttle(
        &mut self,
        id: &UserId,
    ) -> Result<auth_core::throttle::ThrottleState, StoreError> {
        let (failures, last, tat, locked) = users::table
            .find(id.as_str())
            .select((
                users::otp_failures,
                users::otp_last_failure_at,
                users::otp_budget_tat,
                users::otp_locked_at,
            ))
            .get_result::<(i32, Option<i64>, Option<i64>, Option<i64>)>(self.conn)?;
        Ok(auth_core::throttle::ThrottleState {
            consecutive_failures: u32::try_from(failures).unwrap_or(0),
            last_failure_at: last.map(UnixTime::from_millis),
            budget_tat: tat.map(UnixTime::from_millis),
            locked_at: locked.map(UnixTime::from_millis),
        })
    }

    pub fn save_otp_throttle(
        &mut self,
        id: &UserId,
        s: &auth_core::throttle::ThrottleState,
    ) -> Result<(), StoreError> {
        diesel::update(users::table.find(id.as_str()))
            .set((
                users::otp_failures.eq(i32::try_from(s.consecutive_failures).unwrap_or(i32::MAX)),
                users::otp_last_failure_at.eq(s.last_failure_at.map(UnixTime::as_millis)),
                users::otp_budget_tat.eq(s.budget_tat.map(UnixTime::as_millis)),
                users::otp_locked_at.eq(s.locked_at.map(UnixTime::as_millis)),
            ))
            .execute(self.conn)?;
        Ok(())
    }
}
