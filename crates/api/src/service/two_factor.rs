//! Turning 2FA off and replacing recovery codes, from the profile.

use auth_core::{
    enrollment::TwoFactorStatus,
    events::SecurityEvent,
    ids::{SessionId, UserId},
    password::Password,
    policy::{may_disable, DisableError},
    recovery::RecoveryCode,
    UnixTime,
};
use persistence::{
    records::{RequestOrigin, UserRecord},
    StoreError, Tx,
};
use rand_core::OsRng;

use super::{
    profile::TwoFactorSummary,
    record::{record, Context},
    refusal::{refuse, Decided, Refusal},
    ServiceError, Services,
};

impl Services {
    /// A new set of recovery codes; the old set stops working. Returned
    /// once, stored only as hashes.
    pub(crate) fn issue_recovery_codes(
        tx: &mut Tx<'_>,
        user_id: &UserId,
        now: UnixTime,
    ) -> Result<Vec<RecoveryCode>, StoreError> {
        let codes = RecoveryCode::generate_set(&mut OsRng);
        let hashes: Vec<String> = codes.iter().map(|c| c.hash(user_id)).collect();
        tx.replace_recovery_codes(user_id, &hashes, now)?;
        Ok(codes)
    }

    /// Turns 2FA off after checking the password, unless someone requires
    /// it; the user's other sessions end.
    pub fn disable_two_factor(
        &self,
        user: &UserRecord,
        session: &SessionId,
        password: &Password,
        origin: &RequestOrigin,
    ) -> Result<TwoFactorSummary, ServiceError> {
        self.check_password(user, password)?;
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let requirement = self.requirement(tx, user)?;
                if tx.two_factor_status(&user.id)? == TwoFactorStatus::Disabled {
                    return refuse(Refusal::TwoFactorNotEnabled);
                }
                if let Err(DisableError::Enforced(by)) = may_disable(&requirement) {
                    return refuse(Refusal::TwoFactorEnforced(by));
                }
                tx.delete_factors(&user.id)?;
                tx.delete_recovery_codes(&user.id)?;
                tx.revoke_user_sessions(&user.id, Some(session), now)?;
                record(
                    tx,
                    &Context::of_user(user, origin, now),
                    user,
                    SecurityEvent::TwoFactorDisabled {},
                )?;
                Ok(Decided::Done(self.two_factor_summary(tx, user, now)?))
            })?
            .into_result()
    }

    /// Replaces the recovery codes, after checking the password.
    pub fn regenerate_recovery_codes(
        &self,
        user: &UserRecord,
        password: &Password,
        origin: &RequestOrigin,
    ) -> Result<Vec<RecoveryCode>, ServiceError> {
        self.check_password(user, password)?;
        let now = self.clock.now();
        self.store
            .write(|tx| {
                if tx.two_factor_status(&user.id)? != TwoFactorStatus::Enabled {
                    return refuse(Refusal::RecoveryCodesNeedTwoFactor);
                }
                let codes = Self::issue_recovery_codes(tx, &user.id, now)?;
                record(
                    tx,
                    &Context::of_user(user, origin, now),
                    user,
                    SecurityEvent::RecoveryCodesReplaced {},
                )?;
                Ok(Decided::Done(codes))
            })?
            .into_result()
    }
}
