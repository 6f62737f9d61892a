//! Authenticators: one row per TOTP secret, keyed by its own id. The
//! product allows one per user today (a unique index enforces it); the
//! queries below already address an authenticator by its id.

use auth_core::{
    enrollment::{EnabledFactor, EnrollmentSource, PendingEnrollment, TwoFactor, TwoFactorStatus},
    ids::{FactorId, UserId},
    totp::{Algorithm, TimeStep, TotpSecret},
    UnixTime,
};
use diesel::prelude::*;

use crate::{error::corrupt, schema::authenticators as au, StoreError, Tx};

const PENDING: &str = "pending";
const ENABLED: &str = "enabled";

/// The name an authenticator gets until the user names it.
pub const DEFAULT_AUTHENTICATOR_NAME: &str = "Authenticator";

#[derive(Queryable, Selectable)]
#[diesel(table_name = au)]
struct AuthenticatorRow {
    id: String,
    user_id: String,
    name: String,
    state: String,
    secret_ciphertext: Vec<u8>,
    algorithm: String,
    source: Option<String>,
    last_used_step: Option<i64>,
    created_at: i64,
    enabled_at: Option<i64>,
}

/// A user's authenticator as stored: its id and name, its state in the
/// enrollment state machine and the algorithm it was made with.
#[derive(Clone, Debug)]
pub struct StoredFactor {
    /// `None` when the user has no authenticator.
    pub id: Option<FactorId>,
    pub name: Option<String>,
    pub state: TwoFactor,
    pub algorithm: Algorithm,
}

/// A new pending authenticator.
#[derive(Clone, Debug)]
pub struct NewFactor<'a> {
    pub id: &'a FactorId,
    pub user_id: &'a UserId,
    pub name: &'a str,
    pub pending: &'a PendingEnrollment,
    pub algorithm: Algorithm,
}

pub(crate) fn status_of(state: Option<&str>) -> Result<TwoFactorStatus, StoreError> {
    match state {
        None => Ok(TwoFactorStatus::Disabled),
        Some(PENDING) => Ok(TwoFactorStatus::Pending),
        Some(ENABLED) => Ok(TwoFactorStatus::Enabled),
        Some(other) => Err(corrupt(format!("unknown authenticator state {other:?}"))),
    }
}

impl Tx<'_> {
    /// The user's authenticator, with its secret decrypted.
    pub fn two_factor(&mut self, user_id: &UserId) -> Result<StoredFactor, StoreError> {
        let Some(row) = au::table
            .filter(au::user_id.eq(user_id.as_str()))
            .select(AuthenticatorRow::as_select())
            // At most one row (a unique index); no `LIMIT ?`, which SQLite
            // would prepare again on every run.
            .get_result(self.conn)
            .optional()?
        else {
            return Ok(StoredFactor {
                id: None,
                name: None,
                state: TwoFactor::Disabled,
                algorithm: Algorithm::default(),
            });
        };
        let secret =
            TotpSecret::from_bytes(self.secrets.open(&row.secret_ciphertext, &row.user_id)?)
                .map_err(corrupt)?;
        let algorithm = row.algorithm.parse().map_err(corrupt)?;
        let state = match row.state.as_str() {
            PENDING => TwoFactor::Pending(PendingEnrollment {
                secret,
                started_at: UnixTime::from_millis(row.created_at),
            }),
            ENABLED => TwoFactor::Enabled(EnabledFactor {
                secret,
                enabled_at: UnixTime::from_millis(
                    row.enabled_at
                        .ok_or_else(|| corrupt("enabled authenticator without enabled_at"))?,
                ),
                last_used_step: row.last_used_step.map(TimeStep),
                source: row
                    .source
                    .as_deref()
                    .and_then(EnrollmentSource::parse)
                    .ok_or_else(|| corrupt("enabled authenticator without a valid source"))?,
            }),
            other => return Err(corrupt(format!("unknown authenticator state {other:?}"))),
        };
        Ok(StoredFactor {
            id: Some(FactorId::from_stored(row.id)),
            name: Some(row.name),
            state,
            algorithm,
        })
    }

    /// The state only: no secret is read or decrypted.
    pub fn two_factor_status(&mut self, user_id: &UserId) -> Result<TwoFactorStatus, StoreError> {
        let state = au::table
            .filter(au::user_id.eq(user_id.as_str()))
            .select(au::state)
            .get_result::<String>(self.conn)
            .optional()?;
        status_of(state.as_deref())
    }

    /// Stores a new pending authenticator, replacing any earlier pending
    /// one of the user. The caller has checked that none is enabled.
    pub fn save_pending_factor(&mut self, new: &NewFactor<'_>) -> Result<(), StoreError> {
        diesel::delete(
            au::table
                .filter(au::user_id.eq(new.user_id.as_str()))
                .filter(au::state.eq(PENDING)),
        )
        .execute(self.conn)?;
        let sealed = self
            .secrets
            .seal(new.pending.secret.as_bytes(), new.user_id.as_str())?;
        diesel::insert_into(au::table)
            .values((
                au::id.eq(new.id.as_str()),
                au::user_id.eq(new.user_id.as_str()),
                au::name.eq(new.name),
                au::state.eq(PENDING),
                au::secret_ciphertext.eq(sealed),
                au::algorithm.eq(new.algorithm.as_str()),
                au::created_at.eq(new.pending.started_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Turns the pending authenticator `id`, begun at `started_at`, into
    /// an enabled one. False when it was replaced or removed meanwhile.
    pub fn enable_factor(
        &mut self,
        id: &FactorId,
        started_at: UnixTime,
        factor: &EnabledFactor,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            au::table
                .find(id.as_str())
                .filter(au::state.eq(PENDING))
                .filter(au::created_at.eq(started_at.as_millis())),
        )
        .set((
            au::state.eq(ENABLED),
            au::enabled_at.eq(factor.enabled_at.as_millis()),
            au::last_used_step.eq(factor.last_used_step.map(|s| s.0)),
            au::source.eq(factor.source.as_str()),
        ))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Marks `step` used on authenticator `id`, if it is newer than the
    /// last used one. One conditional UPDATE: of concurrent submissions of
    /// a code, exactly one sees `true`.
    pub fn record_totp_step(
        &mut self,
        id: &FactorId,
        step: TimeStep,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            au::table
                .find(id.as_str())
                .filter(au::state.eq(ENABLED))
                .filter(
                    au::last_used_step
                        .is_null()
                        .or(au::last_used_step.lt(step.0)),
                ),
        )
        .set((
            au::last_used_step.eq(step.0),
            au::last_used_at.eq(now.as_millis()),
        ))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Removes every authenticator of the user, pending or enabled. True
    /// when there was one.
    pub fn delete_factors(&mut self, user_id: &UserId) -> Result<bool, StoreError> {
        Ok(
            diesel::delete(au::table.filter(au::user_id.eq(user_id.as_str())))
                .execute(self.conn)?
                > 0,
        )
    }
}
