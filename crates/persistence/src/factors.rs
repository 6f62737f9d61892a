use auth_core::{
    enrollment::{EnabledFactor, EnrollmentSource, PendingEnrollment, TwoFactor, TwoFactorStatus},
    totp::{Algorithm, TimeStep, TotpSecret},
    UnixTime,
};
use diesel::prelude::*;

use crate::{error::corrupt, schema::totp_factors, StoreError, Tx};

const PENDING: &str = "pending";
const ENABLED: &str = "enabled";

#[derive(Queryable, Selectable)]
#[diesel(table_name = totp_factors)]
struct FactorRow {
    user_id: String,
    state: String,
    secret_ciphertext: Vec<u8>,
    algorithm: String,
    started_at: i64,
    enabled_at: Option<i64>,
    last_used_step: Option<i64>,
    source: Option<String>,
}

/// A user's factor as stored: its state and the algorithm it was made with.
#[derive(Clone, Debug)]
pub struct StoredFactor {
    pub state: TwoFactor,
    pub algorithm: Algorithm,
}

impl Tx<'_> {
    fn seal(&self, user_id: &str, secret: &TotpSecret) -> Vec<u8> {
        self.secrets.seal(secret.as_bytes(), user_id)
    }

    pub fn two_factor(&mut self, user_id: &str) -> Result<StoredFactor, StoreError> {
        let Some(row) = totp_factors::table
            .find(user_id)
            .select(FactorRow::as_select())
            .get_result(self.conn)
            .optional()?
        else {
            return Ok(StoredFactor {
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
                started_at: UnixTime::from_millis(row.started_at),
            }),
            ENABLED => TwoFactor::Enabled(EnabledFactor {
                secret,
                enabled_at: UnixTime::from_millis(
                    row.enabled_at
                        .ok_or_else(|| corrupt("enabled factor without enabled_at"))?,
                ),
                last_used_step: row.last_used_step.map(TimeStep),
                source: row
                    .source
                    .as_deref()
                    .and_then(EnrollmentSource::parse)
                    .ok_or_else(|| corrupt("enabled factor without a valid source"))?,
            }),
            other => return Err(corrupt(format!("unknown factor state {other:?}"))),
        };
        Ok(StoredFactor { state, algorithm })
    }

    /// The factor's state only: no secret is read or decrypted.
    pub fn two_factor_status(&mut self, user_id: &str) -> Result<TwoFactorStatus, StoreError> {
        let state = totp_factors::table
            .find(user_id)
            .select(totp_factors::state)
            .get_result::<String>(self.conn)
            .optional()?;
        match state.as_deref() {
            None => Ok(TwoFactorStatus::Disabled),
            Some(PENDING) => Ok(TwoFactorStatus::Pending),
            Some(ENABLED) => Ok(TwoFactorStatus::Enabled),
            Some(other) => Err(corrupt(format!("unknown factor state {other:?}"))),
        }
    }

    /// Stores a new pending enrollment, replacing any earlier pending one.
    /// The caller has checked that no factor is enabled.
    pub fn save_pending_factor(
        &mut self,
        user_id: &str,
        pending: &PendingEnrollment,
        algorithm: Algorithm,
    ) -> Result<(), StoreError> {
        diesel::delete(
            totp_factors::table
                .find(user_id)
                .filter(totp_factors::state.eq(PENDING)),
        )
        .execute(self.conn)?;
        diesel::insert_into(totp_factors::table)
            .values((
                totp_factors::user_id.eq(user_id),
                totp_factors::state.eq(PENDING),
                totp_factors::secret_ciphertext.eq(self.seal(user_id, &pending.secret)),
                totp_factors::algorithm.eq(algorithm.as_str()),
                totp_factors::started_at.eq(pending.started_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Turns the pending enrollment begun at `started_at` into an enabled
    /// factor. False when it was replaced or removed meanwhile.
    pub fn enable_factor(
        &mut self,
        user_id: &str,
        started_at: UnixTime,
        factor: &EnabledFactor,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            totp_factors::table
                .find(user_id)
                .filter(totp_factors::state.eq(PENDING))
                .filter(totp_factors::started_at.eq(started_at.as_millis())),
        )
        .set((
            totp_factors::state.eq(ENABLED),
            totp_factors::enabled_at.eq(factor.enabled_at.as_millis()),
            totp_factors::last_used_step.eq(factor.last_used_step.map(|s| s.0)),
            totp_factors::source.eq(factor.source.as_str()),
        ))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Marks `step` used, if it is newer than the last used one. One
    /// conditional UPDATE: of concurrent submissions of a code, exactly one
    /// sees `true`.
    pub fn record_totp_step(&mut self, user_id: &str, step: TimeStep) -> Result<bool, StoreError> {
        let n = diesel::update(
            totp_factors::table
                .find(user_id)
                .filter(totp_factors::state.eq(ENABLED))
                .filter(
                    totp_factors::last_used_step
                        .is_null()
                        .or(totp_factors::last_used_step.lt(step.0)),
                ),
        )
        .set(totp_factors::last_used_step.eq(step.0))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Removes the factor, pending or enabled. True when there was one.
    pub fn delete_factor(&mut self, user_id: &str) -> Result<bool, StoreError> {
        Ok(diesel::delete(totp_factors::table.find(user_id)).execute(self.conn)? == 1)
    }
}
