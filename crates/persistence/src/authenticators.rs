//! Authenticators: one row per TOTP secret, keyed by its own id. A user
//! holds several confirmed ones (the application caps them) and at most
//! one pending; `auth_core::authenticators` holds the rules.

use auth_core::{
    authenticators::{AuthenticatorName, Confirmed, Keyring, Pending},
    drift::Drift,
    enrollment::{Accepted, EnabledFactor, EnrollmentSource, PendingEnrollment, TwoFactorStatus},
    ids::{FactorId, UserId},
    totp::{Algorithm, TimeStep, TotpSecret},
    UnixTime,
};
use diesel::prelude::*;

use crate::{error::corrupt, schema::authenticators as au, StoreError, Tx};

const PENDING: &str = "pending";
const ENABLED: &str = "enabled";

/// The name an authenticator gets when the user was not asked for one
/// (the first one, set up through the enrollment endpoints).
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
    last_used_at: Option<i64>,
    drift_sixteenths: i32,
}

/// A confirmed authenticator as its owner sees it: never its secret.
#[derive(Clone, Debug)]
pub struct AuthenticatorRecord {
    pub id: FactorId,
    pub name: AuthenticatorName,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

/// A new pending authenticator.
#[derive(Clone, Debug)]
pub struct NewFactor<'a> {
    pub id: &'a FactorId,
    pub user_id: &'a UserId,
    pub name: &'a AuthenticatorName,
    pub pending: &'a PendingEnrollment,
    pub algorithm: Algorithm,
}

/// The status a set of stored states amounts to: enabled while any one is.
pub(crate) fn status_of_states<'a>(
    states: impl IntoIterator<Item = &'a str>,
) -> Result<TwoFactorStatus, StoreError> {
    let mut status = TwoFactorStatus::Disabled;
    for state in states {
        match state {
            ENABLED => return Ok(TwoFactorStatus::Enabled),
            PENDING => status = TwoFactorStatus::Pending,
            other => return Err(corrupt(format!("unknown authenticator state {other:?}"))),
        }
    }
    Ok(status)
}

enum Row {
    Confirmed(Confirmed),
    Pending(Pending),
}

impl Tx<'_> {
    fn open_row(&self, row: AuthenticatorRow) -> Result<Row, StoreError> {
        // Sealed with the user's id as associated data: a row copied to
        // another user does not decrypt.
        let secret =
            TotpSecret::from_bytes(self.secrets.open(&row.secret_ciphertext, &row.user_id)?)
                .map_err(corrupt)?;
        let algorithm = row.algorithm.parse().map_err(corrupt)?;
        let id = FactorId::from_stored(row.id);
        let name = AuthenticatorName::from_stored(row.name);
        let created_at = UnixTime::from_millis(row.created_at);
        Ok(match row.state.as_str() {
            PENDING => Row::Pending(Pending {
                id,
                name,
                algorithm,
                enrollment: PendingEnrollment {
                    secret,
                    started_at: created_at,
                },
            }),
            ENABLED => Row::Confirmed(Confirmed {
                id,
                name,
                algorithm,
                factor: EnabledFactor {
                    secret,
                    enabled_at: UnixTime::from_millis(
                        row.enabled_at
                            .ok_or_else(|| corrupt("enabled authenticator without enabled_at"))?,
                    ),
                    last_used_step: row.last_used_step.map(TimeStep),
                    drift: Drift::from_sixteenths(i64::from(row.drift_sixteenths)),
                    source: row
                        .source
                        .as_deref()
                        .and_then(EnrollmentSource::parse)
                        .ok_or_else(|| corrupt("enabled authenticator without a valid source"))?,
                },
                created_at,
                last_used_at: row.last_used_at.map(UnixTime::from_millis),
            }),
            other => return Err(corrupt(format!("unknown authenticator state {other:?}"))),
        })
    }

    /// Every authenticator of the user, secrets decrypted: confirmed ones
    /// oldest first, and the pending one if any.
    pub fn keyring(&mut self, user_id: &UserId) -> Result<Keyring, StoreError> {
        let rows = au::table
            .filter(au::user_id.eq(user_id.as_str()))
            .order((au::created_at.asc(), au::id.asc()))
            .select(AuthenticatorRow::as_select())
            .load(self.conn)?;
        let mut ring = Keyring::default();
        for row in rows {
            match self.open_row(row)? {
                Row::Confirmed(c) => ring.confirmed.push(c),
                // At most one is kept (`save_pending_factor`); the newest wins.
                Row::Pending(p) => ring.pending = Some(p),
            }
        }
        Ok(ring)
    }

    /// The user's confirmed authenticators, oldest first, without reading
    /// or decrypting any secret.
    pub fn authenticator_list(
        &mut self,
        user_id: &UserId,
    ) -> Result<Vec<AuthenticatorRecord>, StoreError> {
        let rows: Vec<(String, String, i64, Option<i64>)> = au::table
            .filter(au::user_id.eq(user_id.as_str()))
            .filter(au::state.eq(ENABLED))
            .order((au::created_at.asc(), au::id.asc()))
            .select((au::id, au::name, au::created_at, au::last_used_at))
            .load(self.conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, last_used_at)| AuthenticatorRecord {
                id: FactorId::from_stored(id),
                name: AuthenticatorName::from_stored(name),
                created_at: UnixTime::from_millis(created_at),
                last_used_at: last_used_at.map(UnixTime::from_millis),
            })
            .collect())
    }

    /// The state only: no secret is read or decrypted.
    pub fn two_factor_status(&mut self, user_id: &UserId) -> Result<TwoFactorStatus, StoreError> {
        let states: Vec<String> = au::table
            .filter(au::user_id.eq(user_id.as_str()))
            .select(au::state)
            .load(self.conn)?;
        status_of_states(states.iter().map(String::as_str))
    }

    /// How many confirmed authenticators the user has.
    pub fn authenticator_count(&mut self, user_id: &UserId) -> Result<i64, StoreError> {
        Ok(au::table
            .filter(au::user_id.eq(user_id.as_str()))
            .filter(au::state.eq(ENABLED))
            .count()
            .get_result(self.conn)?)
    }

    /// Stores a new pending authenticator, replacing any earlier pending
    /// one of the user. The caller checked the cap.
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
                au::name.eq(new.name.as_str()),
                au::state.eq(PENDING),
                au::secret_ciphertext.eq(sealed),
                au::algorithm.eq(new.algorithm.as_str()),
                au::created_at.eq(new.pending.started_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Turns the pending authenticator `id`, begun at `started_at`, into
    /// a confirmed one. False when it was replaced or removed meanwhile.
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
            au::last_used_at.eq(factor.enabled_at.as_millis()),
            au::drift_sixteenths.eq(drift_column(factor.drift)),
            au::source.eq(factor.source.as_str()),
        ))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Marks the accepted step used on authenticator `id`, with the drift
    /// learned from it, if the step is newer than the last used one. One
    /// conditional UPDATE: of concurrent submissions of a code (on any
    /// instance), exactly one sees `true`.
    pub fn record_totp_step(
        &mut self,
        id: &FactorId,
        accepted: &Accepted,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let step = accepted.step.0;
        let n = diesel::update(
            au::table
                .find(id.as_str())
                .filter(au::state.eq(ENABLED))
                .filter(au::last_used_step.is_null().or(au::last_used_step.lt(step))),
        )
        .set((
            au::last_used_step.eq(step),
            au::drift_sixteenths.eq(drift_column(accepted.drift)),
            au::last_used_at.eq(now.as_millis()),
        ))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Renames one of the user's confirmed authenticators; false when the
    /// user has no such one.
    pub fn rename_authenticator(
        &mut self,
        user_id: &UserId,
        id: &FactorId,
        name: &AuthenticatorName,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            au::table
                .find(id.as_str())
                .filter(au::user_id.eq(user_id.as_str()))
                .filter(au::state.eq(ENABLED)),
        )
        .set(au::name.eq(name.as_str()))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Removes one of the user's confirmed authenticators; false when the
    /// user has no such one.
    pub fn delete_authenticator(
        &mut self,
        user_id: &UserId,
        id: &FactorId,
    ) -> Result<bool, StoreError> {
        let n = diesel::delete(
            au::table
                .find(id.as_str())
                .filter(au::user_id.eq(user_id.as_str()))
                .filter(au::state.eq(ENABLED)),
        )
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Removes every authenticator of the user, pending or confirmed. True
    /// when there was one.
    pub fn delete_factors(&mut self, user_id: &UserId) -> Result<bool, StoreError> {
        Ok(
            diesel::delete(au::table.filter(au::user_id.eq(user_id.as_str())))
                .execute(self.conn)?
                > 0,
        )
    }
}

fn drift_column(drift: Drift) -> i32 {
    // Always within ±MAX_DRIFT_STEPS × 16.
    i32::try_from(drift.as_sixteenths()).unwrap_or_default()
}
