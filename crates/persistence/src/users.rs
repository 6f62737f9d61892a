use auth_core::{
    ids::{OrganizationId, UserId},
    password::PasswordHash,
    throttle::{Budget, ThrottleState, Throttles},
    UnixTime,
};
use diesel::{prelude::*, result::DatabaseErrorKind};

use crate::{
    error::corrupt,
    records::{NewUser, UserChanges, UserRecord},
    schema::{login_events as le, otp_owner_budgets as ob, users},
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

    /// The state of one of the user's second-factor budgets.
    pub fn otp_throttle(
        &mut self,
        id: &UserId,
        budget: Budget,
    ) -> Result<ThrottleState, StoreError> {
        Ok(self.otp_throttles(id)?.of(budget))
    }

    /// Both second-factor budgets of the user.
    pub fn otp_throttles(&mut self, id: &UserId) -> Result<Throttles, StoreError> {
        let (stranger, owner) = users::table
            .left_join(ob::table)
            .filter(users::id.eq(id.as_str()))
            .select((STRANGER_COLUMNS, OWNER_COLUMNS.nullable()))
            .get_result::<(ThrottleRow, Option<ThrottleRow>)>(self.conn)?;
        Ok(Throttles {
            stranger: throttle_state(stranger),
            owner: owner.map(throttle_state).unwrap_or_default(),
        })
    }

    /// The budget a code sent from `ip_group` answers to, and its state,
    /// in one statement (the code step is the hot path): the owner's when
    /// the account signed in from that address group since
    /// `familiar_since` (a login that issued tokens: `success`,
    /// `recovery_code`, `remembered_device`; a correct password is
    /// no proof, or a stranger who knows it would make their own address
    /// the owner's), the strangers' otherwise.
    pub fn otp_throttle_for_address(
        &mut self,
        id: &UserId,
        ip_group: Option<&str>,
        familiar_since: UnixTime,
    ) -> Result<(Budget, ThrottleState), StoreError> {
        let Some(group) = ip_group else {
            return Ok((Budget::Stranger, self.otp_throttle(id, Budget::Stranger)?));
        };
        let signed_in_from_here = le::table
            .filter(le::user_id.eq(id.as_str()))
            // OR, not `eq_any`: diesel prepares an `IN (…)` query anew on
            // every call, and this one is on the code step's hot path.
            .filter(
                le::outcome
                    .eq("success")
                    .or(le::outcome.eq("recovery_code"))
                    .or(le::outcome.eq("remembered_device")),
            )
            .filter(le::created_at.gt(familiar_since.as_millis()))
            .filter(le::ip_group.eq(group));
        let (stranger, owner, familiar) = users::table
            .left_join(ob::table)
            .filter(users::id.eq(id.as_str()))
            .select((
                STRANGER_COLUMNS,
                OWNER_COLUMNS.nullable(),
                diesel::dsl::exists(signed_in_from_here),
            ))
            .get_result::<(ThrottleRow, Option<ThrottleRow>, bool)>(self.conn)?;
        let budget = Budget::of(familiar);
        let state = match budget {
            Budget::Stranger => throttle_state(stranger),
            Budget::Owner => owner.map(throttle_state).unwrap_or_default(),
        };
        Ok((budget, state))
    }

    pub fn save_otp_throttle(
        &mut self,
        id: &UserId,
        budget: Budget,
        s: &ThrottleState,
    ) -> Result<(), StoreError> {
        let failures = i32::try_from(s.consecutive_failures).unwrap_or(i32::MAX);
        let last = s.last_failure_at.map(UnixTime::as_millis);
        let tat = s.budget_tat.map(UnixTime::as_millis);
        let locked = s.locked_at.map(UnixTime::as_millis);
        match budget {
            Budget::Stranger => {
                diesel::update(users::table.find(id.as_str()))
                    .set((
                        users::otp_failures.eq(failures),
                        users::otp_last_failure_at.eq(last),
                        users::otp_budget_tat.eq(tat),
                        users::otp_locked_at.eq(locked),
                    ))
                    .execute(self.conn)?;
            }
            // An untouched budget has no row (an unlock removes it).
            Budget::Owner if *s == ThrottleState::default() => {
                diesel::delete(ob::table.find(id.as_str())).execute(self.conn)?;
            }
            Budget::Owner => {
                let values = (
                    ob::failures.eq(failures),
                    ob::last_failure_at.eq(last),
                    ob::budget_tat.eq(tat),
                    ob::locked_at.eq(locked),
                );
                // Callers hold the user's lock (`lock_user`), so nothing
                // inserts between the update and the insert.
                let updated = diesel::update(ob::table.find(id.as_str()))
                    .set(values)
                    .execute(self.conn)?;
                if updated == 0 {
                    diesel::insert_into(ob::table)
                        .values((ob::user_id.eq(id.as_str()), values))
                        .execute(self.conn)?;
                }
            }
        }
        Ok(())
    }
}

type ThrottleRow = (i32, Option<i64>, Option<i64>, Option<i64>);

/// The `users.otp_*` columns: the strangers' budget (the one budget of old).
const STRANGER_COLUMNS: (
    users::otp_failures,
    users::otp_last_failure_at,
    users::otp_budget_tat,
    users::otp_locked_at,
) = (
    users::otp_failures,
    users::otp_last_failure_at,
    users::otp_budget_tat,
    users::otp_locked_at,
);

const OWNER_COLUMNS: (
    ob::failures,
    ob::last_failure_at,
    ob::budget_tat,
    ob::locked_at,
) = (
    ob::failures,
    ob::last_failure_at,
    ob::budget_tat,
    ob::locked_at,
);

fn throttle_state((failures, last, tat, locked): ThrottleRow) -> ThrottleState {
    ThrottleState {
        consecutive_failures: u32::try_from(failures).unwrap_or(0),
        last_failure_at: last.map(UnixTime::from_millis),
        budget_tat: tat.map(UnixTime::from_millis),
        locked_at: locked.map(UnixTime::from_millis),
    }
}
