//! Turning 2FA off and replacing recovery codes, from the profile.

use auth_core::{
    authenticators::AuthenticatorRef,
    enrollment::TwoFactorStatus,
    events::SecurityEvent,
    ids::UserId,
    policy::{may_disable, DisableError},
    recovery::RecoveryCode,
    UnixTime,
};
use persistence::{StoreError, Tx};
use rand_core::OsRng;

use super::{
    profile::TwoFactorSummary,
    record::{record, Context},
    refusal::{refuse, Decided, Refusal},
    step_up::{Caller, Needs, StepUp},
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

    /// Turns 2FA off after the password and a second factor, unless
    /// someone requires it; the user's other sessions end.
    pub fn disable_two_factor(
        &self,
        caller: &Caller<'_>,
        proof: &StepUp,
    ) -> Result<TwoFactorSummary, ServiceError> {
        let user = caller.user;
        // Say "not possible" before asking for proof that would be wasted.
        self.store.read(|tx| {
            Ok(Self::may_turn_off(
                tx.two_factor_status(&user.id)?,
                &self.requirement(tx, user)?,
            ))
        })??;
        self.step_up(caller, proof, Needs::PasswordAndSecondFactor)?;
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let requirement = self.requirement(tx, user)?;
                if let Err(refusal) =
                    Self::may_turn_off(tx.two_factor_status(&user.id)?, &requirement)
                {
                    return refuse(refusal);
                }
                Self::turn_two_factor_off(tx, caller, None, now)?;
                Ok(Decided::Done(self.two_factor_summary(tx, user, now)?))
            })?
            .into_result()
    }

    /// Everything that goes with 2FA: the authenticators, the recovery
    /// codes, the remembered devices and the caller's other sessions; the
    /// user is told. `authenticator` names the last one when its removal is
    /// what turned 2FA off.
    pub(crate) fn turn_two_factor_off(
        tx: &mut Tx<'_>,
        caller: &Caller<'_>,
        authenticator: Option<AuthenticatorRef>,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let user = caller.user;
        tx.delete_factors(&user.id)?;
        tx.delete_recovery_codes(&user.id)?;
        tx.forget_devices(&user.id, now)?;
        tx.revoke_user_sessions(&user.id, Some(caller.session), now)?;
        record(
            tx,
            &Context::of_user(user, caller.origin, now),
            user,
            SecurityEvent::TwoFactorDisabled { authenticator },
        )
    }

    fn may_turn_off(
        status: TwoFactorStatus,
        requirement: &auth_core::policy::Requirement,
    ) -> Result<(), Refusal> {
        if status == TwoFactorStatus::Disabled {
            return Err(Refusal::TwoFactorNotEnabled);
        }
        if let Err(DisableError::Enforced(by)) = may_disable(requirement) {
            return Err(Refusal::TwoFactorEnforced(by));
        }
        Ok(())
    }

    /// Replaces the recovery codes, after the password and a second factor.
    pub fn regenerate_recovery_codes(
        &self,
        caller: &Caller<'_>,
        proof: &StepUp,
    ) -> Result<Vec<RecoveryCode>, ServiceError> {
        self.step_up(caller, proof, Needs::PasswordAndSecondFactor)?;
        let (user, origin) = (caller.user, caller.origin);
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
