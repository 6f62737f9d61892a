//! What a user (or their admin) reads about an account.

use auth_core::{
    enrollment::TwoFactorStatus,
    ids::UserId,
    policy::{EnforcedBy, Requirement},
    recovery::RecoveryCode,
    UnixTime,
};
use persistence::{
    records::{LoginEventRecord, OrganizationRecord, Page, Principal, UserRecord},
    StoreError, Tx,
};

use super::{ServiceError, Services};

/// Where 2FA stands for one user.
#[derive(Debug)]
pub struct TwoFactorSummary {
    pub status: TwoFactorStatus,
    /// Who requires 2FA of the user, if anyone but the user.
    pub enforced_by: Option<EnforcedBy>,
    /// During an organization grace period: the deadline to enroll.
    pub enrollment_deadline: Option<UnixTime>,
    /// Unused recovery codes, while 2FA is enabled.
    pub recovery_codes_remaining: Option<i64>,
    /// Confirmed authenticators.
    pub authenticators: i64,
    /// Only in the answer that turned 2FA on: the codes, shown once.
    pub recovery_codes: Option<Vec<RecoveryCode>>,
}

impl TwoFactorSummary {
    pub fn of(status: TwoFactorStatus, requirement: &Requirement, now: UnixTime) -> Self {
        Self {
            status,
            enforced_by: requirement.enforced_by,
            enrollment_deadline: match (status, requirement.grace_until) {
                (TwoFactorStatus::Enabled, _) => None,
                (_, Some(deadline)) if now < deadline => Some(deadline),
                _ => None,
            },
            recovery_codes_remaining: None,
            authenticators: 0,
            recovery_codes: None,
        }
    }
}

/// The signed-in user, their organization and 2FA state.
#[derive(Debug)]
pub struct Profile {
    pub user: UserRecord,
    pub organization: OrganizationRecord,
    pub two_factor: TwoFactorSummary,
}

impl Services {
    pub(crate) fn two_factor_summary(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        now: UnixTime,
    ) -> Result<TwoFactorSummary, StoreError> {
        let requirement = self.requirement(tx, user)?;
        Self::two_factor_summary_under(tx, user, &requirement, now)
    }

    /// The summary when the requirement is already known (a list of users
    /// reads their organization once, not once per user).
    pub(crate) fn two_factor_summary_under(
        tx: &mut Tx<'_>,
        user: &UserRecord,
        requirement: &Requirement,
        now: UnixTime,
    ) -> Result<TwoFactorSummary, StoreError> {
        let status = tx.two_factor_status(&user.id)?;
        let mut summary = TwoFactorSummary::of(status, requirement, now);
        if status == TwoFactorStatus::Enabled {
            summary.recovery_codes_remaining = Some(tx.remaining_recovery_codes(&user.id)?);
            summary.authenticators = tx.authenticator_count(&user.id)?;
        }
        Ok(summary)
    }

    /// The caller's profile, from what authentication already read: no
    /// further query.
    pub fn profile(&self, principal: &Principal) -> Profile {
        let requirement = Requirement::of(&principal.user.facts(), &principal.organization.policy);
        let mut two_factor =
            TwoFactorSummary::of(principal.two_factor, &requirement, self.clock.now());
        if principal.two_factor == TwoFactorStatus::Enabled {
            two_factor.recovery_codes_remaining = Some(principal.recovery_codes_remaining);
        }
        Profile {
            user: principal.user.clone(),
            organization: principal.organization.clone(),
            two_factor,
        }
    }

    pub fn login_history(
        &self,
        user_id: &UserId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<LoginEventRecord>, ServiceError> {
        Ok(self
            .store
            .read(|tx| tx.login_history(user_id, before, limit))?)
    }
}
