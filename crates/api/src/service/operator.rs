//! Acting on someone else's account for them: resetting a lost
//! authenticator and lifting a second-factor lock. Each is one operation,
//! whoever runs it; the [`Operator`] decides how the user is found (an
//! admin only within their organization, support anywhere), what an admin
//! may not do to themselves, and how the audit log names the event.

use auth_core::{
    events::{Actor, SecurityEvent},
    identity::Email,
    ids::UserId,
    throttle::{Budget, SecondFactorPolicy},
};
use persistence::{
    records::{RequestOrigin, UserRecord},
    StoreError, Tx,
};

use super::{
    record::{record, Context},
    refusal::{refuse, Decided, Missing, Refusal, SelfChange},
    users::{end_everything, UserSummary},
    ServiceError, Services,
};

/// Why support acted: required, so the audit log always says.
#[derive(Clone, Debug)]
pub struct SupportReason(String);

impl SupportReason {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SupportReason {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.chars().count() {
            0 => Err("a reason is required (for the audit log)"),
            1..=500 => Ok(Self(s.to_owned())),
            _ => Err("the reason must be at most 500 characters"),
        }
    }
}

/// Who acts on the account.
#[derive(Clone, Copy, Debug)]
pub enum Operator<'a> {
    /// An admin of the user's organization, through the API.
    Admin(&'a UserRecord),
    /// An operator on the server host, through `authgate support`.
    Support(&'a SupportReason),
}

/// Which account: an admin names a user by id, support by email.
#[derive(Clone, Debug)]
pub enum Target {
    Id(UserId),
    Email(Email),
}

/// What an operation did, for the caller to show.
#[derive(Debug)]
pub struct OperatorReport {
    pub user: UserSummary,
    pub factor_removed: bool,
    pub was_locked: bool,
    pub sessions_ended: usize,
    pub challenges_ended: usize,
}

/// The parts of an operation that differ by operator.
struct Effects {
    remove_factor: bool,
    end_sessions: bool,
}

impl Operator<'_> {
    pub(super) fn actor(&self) -> Actor {
        match self {
            Operator::Admin(admin) => Actor::User(admin.id.clone()),
            Operator::Support(_) => Actor::Support,
        }
    }

    /// Support's reason; admins act within their organization and need none.
    pub(super) fn reason(&self) -> Option<&str> {
        match self {
            Operator::Admin(_) => None,
            Operator::Support(reason) => Some(reason.as_str()),
        }
    }

    pub(super) fn find(
        &self,
        tx: &mut Tx<'_>,
        target: &Target,
    ) -> Result<Option<UserRecord>, StoreError> {
        match (self, target) {
            (Operator::Admin(admin), Target::Id(id)) => {
                tx.user_in_organization(&admin.organization_id, id)
            }
            (Operator::Admin(admin), Target::Email(email)) => Ok(tx
                .user_by_email(email)?
                .filter(|u| u.organization_id == admin.organization_id)),
            (Operator::Support(_), Target::Id(id)) => tx.user_by_id(id),
            (Operator::Support(_), Target::Email(email)) => tx.user_by_email(email),
        }
    }

    fn is_self(&self, user: &UserRecord) -> bool {
        matches!(self, Operator::Admin(admin) if admin.id == user.id)
    }
}

impl Services {
    /// Removes the user's authenticator and recovery codes (a lost phone),
    /// lifts any lock and ends their sessions. If 2FA is still required of
    /// them they set up a new authenticator at their next login; otherwise
    /// they log in with their password. Admins reset their own 2FA through
    /// support or their profile.
    pub fn reset_two_factor(
        &self,
        operator: Operator<'_>,
        target: &Target,
        origin: &RequestOrigin,
    ) -> Result<OperatorReport, ServiceError> {
        self.operate(
            operator,
            target,
            origin,
            Effects {
                remove_factor: true,
                end_sessions: true,
            },
        )
    }

    /// Lifts the second-factor lock and waits. Support also ends the
    /// user's sessions and logins in flight (the account may have been
    /// under attack); an admin's unlock leaves them.
    pub fn unlock(
        &self,
        operator: Operator<'_>,
        target: &Target,
        origin: &RequestOrigin,
    ) -> Result<OperatorReport, ServiceError> {
        let end_sessions = matches!(operator, Operator::Support(_));
        self.operate(
            operator,
            target,
            origin,
            Effects {
                remove_factor: false,
                end_sessions,
            },
        )
    }

    fn operate(
        &self,
        operator: Operator<'_>,
        target: &Target,
        origin: &RequestOrigin,
        effects: Effects,
    ) -> Result<OperatorReport, ServiceError> {
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let Some(user) = operator.find(tx, target)? else {
                    return refuse(Refusal::NotFound(Missing::User));
                };
                if effects.remove_factor && operator.is_self(&user) {
                    return refuse(Refusal::CannotModifySelf(SelfChange::ResetTwoFactor));
                }
                let factor_removed = effects.remove_factor && tx.delete_factors(&user.id)?;
                if effects.remove_factor {
                    tx.delete_recovery_codes(&user.id)?;
                    tx.forget_devices(&user.id, now)?;
                }
                // Both budgets start over: a person decided.
                let was_locked = !tx.otp_throttles(&user.id)?.locked().is_empty();
                for budget in Budget::ALL {
                    tx.save_otp_throttle(&user.id, budget, &SecondFactorPolicy::unlocked())?;
                }
                let (sessions_ended, challenges_ended) = if effects.end_sessions {
                    end_everything(tx, &user.id, now)?
                } else {
                    (0, 0)
                };
                let event = match (operator, effects.remove_factor) {
                    (Operator::Admin(_), true) => SecurityEvent::TwoFactorReset {
                        factor_removed,
                        sessions_ended,
                        was_locked,
                    },
                    (Operator::Admin(_), false) => SecurityEvent::UserUnlocked { was_locked },
                    (Operator::Support(reason), true) => SecurityEvent::SupportTwoFactorReset {
                        reason: reason.as_str().to_owned(),
                        factor_removed,
                        was_locked,
                        sessions_ended,
                    },
                    (Operator::Support(reason), false) => SecurityEvent::SupportUnlocked {
                        reason: reason.as_str().to_owned(),
                        factor_removed,
                        was_locked,
                        sessions_ended,
                    },
                };
                let ctx = Context {
                    actor: operator.actor(),
                    origin,
                    at: now,
                };
                record(tx, &ctx, &user, event)?;
                Ok(Decided::Done(OperatorReport {
                    user: self.user_summary(tx, &user, now)?,
                    factor_removed,
                    was_locked,
                    sessions_ended,
                    challenges_ended,
                }))
            })?
            .into_result()
    }
}
