//! Who must use two-factor authentication, and what a login yields.
//!
//! Two independent sources can require 2FA of a user: an admin (on that
//! user) and the organization's policy (on a role). Lifting one never lifts
//! the other; when both apply the admin's is reported.

use std::time::Duration;

use crate::{
    enrollment::TwoFactorStatus, identity::string_enum, identity::IdentityError, identity::Role,
    UnixTime,
};
use std::{fmt, str::FromStr};

/// Longest grace period an organization may grant: 30 days.
pub const MAX_GRACE_PERIOD: Duration = Duration::from_secs(720 * 3600);

string_enum!(
    /// The organization-wide rule.
    OrgTwoFactorPolicy, IdentityError::InvalidPolicy,
    { Optional => "optional", RequiredForAdmins => "required_for_admins", RequiredForAll => "required_for_all" }
);

impl OrgTwoFactorPolicy {
    pub fn applies_to(self, role: Role) -> bool {
        match self {
            OrgTwoFactorPolicy::Optional => false,
            OrgTwoFactorPolicy::RequiredForAdmins => role == Role::Admin,
            OrgTwoFactorPolicy::RequiredForAll => true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrganizationPolicy {
    pub two_factor: OrgTwoFactorPolicy,
    pub grace_period: Duration,
    /// When the current rule took effect; the grace period counts from here
    /// (or from the user's creation, if later).
    pub since: UnixTime,
}

impl OrganizationPolicy {
    pub fn optional(since: UnixTime) -> Self {
        Self {
            two_factor: OrgTwoFactorPolicy::Optional,
            grace_period: Duration::ZERO,
            since,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnforcedBy {
    Admin,
    Organization,
}

impl EnforcedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EnforcedBy::Admin => "admin",
            EnforcedBy::Organization => "organization",
        }
    }
}

/// The facts about one user that enforcement depends on.
#[derive(Clone, Copy, Debug)]
pub struct UserFacts {
    pub role: Role,
    pub required_by_admin: bool,
    pub created_at: UnixTime,
}

/// Whether 2FA is required of a user, by whom, and from when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub enforced_by: Option<EnforcedBy>,
    /// Until this instant a user without 2FA may still log in (organization
    /// grace period). `None` when enrollment is due at once or not required.
    pub grace_until: Option<UnixTime>,
}

impl Requirement {
    pub const NONE: Requirement = Requirement {
        enforced_by: None,
        grace_until: None,
    };

    pub fn of(user: &UserFacts, org: &OrganizationPolicy) -> Self {
        if user.required_by_admin {
            return Self {
                enforced_by: Some(EnforcedBy::Admin),
                grace_until: None,
            };
        }
        if org.two_factor.applies_to(user.role) {
            let start = org.since.max(user.created_at);
            let deadline = start.plus(org.grace_period);
            return Self {
                enforced_by: Some(EnforcedBy::Organization),
                grace_until: (deadline > start).then_some(deadline),
            };
        }
        Self::NONE
    }

    pub fn is_enforced(&self) -> bool {
        self.enforced_by.is_some()
    }
}

/// What a correct password leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginDecision {
    /// Every required factor is proven; `enrollment_deadline` says until when
    /// a grace period lets the user go without 2FA.
    Authenticated {
        enrollment_deadline: Option<UnixTime>,
    },
    /// The user has 2FA: a code must follow.
    OtpRequired,
    /// 2FA is required and not set up: the user must enroll before any token.
    EnrollmentRequired,
}

pub fn decide_login(
    status: TwoFactorStatus,
    requirement: &Requirement,
    now: UnixTime,
) -> LoginDecision {
    if status == TwoFactorStatus::Enabled {
        return LoginDecision::OtpRequired;
    }
    match (requirement.enforced_by, requirement.grace_until) {
        (None, _) => LoginDecision::Authenticated {
            enrollment_deadline: None,
        },
        (Some(_), Some(deadline)) if now < deadline => LoginDecision::Authenticated {
            enrollment_deadline: Some(deadline),
        },
        (Some(_), _) => LoginDecision::EnrollmentRequired,
    }
}

/// Whether a session may still be given tokens: it must have proven every
/// factor the account requires now (2FA may have been enabled or required
/// since the session began).
pub fn session_suffices(
    status: TwoFactorStatus,
    requirement: &Requirement,
    proved_otp: bool,
    now: UnixTime,
) -> bool {
    match decide_login(status, requirement, now) {
        LoginDecision::Authenticated { .. } => true,
        LoginDecision::OtpRequired => proved_otp,
        LoginDecision::EnrollmentRequired => false,
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DisableError {
    #[error("two-factor authentication is required by your {}; contact your administrator to change it", match .0 { EnforcedBy::Admin => "administrator", EnforcedBy::Organization => "organization" })]
    Enforced(EnforcedBy),
}

/// A user may turn 2FA off only when nobody requires it of them.
pub fn may_disable(requirement: &Requirement) -> Result<(), DisableError> {
    match requirement.enforced_by {
        Some(by) => Err(DisableError::Enforced(by)),
        None => Ok(()),
    }
}

/// A grace period from an admin's input, in hours (0 to 720).
pub fn grace_period_from_hours(hours: u32) -> Option<Duration> {
    let d = Duration::from_secs(u64::from(hours) * 3600);
    (d <= MAX_GRACE_PERIOD).then_some(d)
}

impl fmt::Display for EnforcedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EnforcedBy {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "admin" => Ok(EnforcedBy::Admin),
            "organization" => Ok(EnforcedBy::Organization),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TwoFactorStatus::*;

    const T0: UnixTime = UnixTime::from_secs(1_700_000_000);
    const HOUR: Duration = Duration::from_secs(3600);

    fn agent(required_by_admin: bool) -> UserFacts {
        UserFacts {
            role: Role::Agent,
            required_by_admin,
            created_at: T0,
        }
    }

    fn org(two_factor: OrgTwoFactorPolicy, grace: Duration) -> OrganizationPolicy {
        OrganizationPolicy {
            two_factor,
            grace_period: grace,
            since: T0,
        }
    }

    const OPTIONAL: OrganizationPolicy = OrganizationPolicy {
        two_factor: OrgTwoFactorPolicy::Optional,
        grace_period: Duration::ZERO,
        since: T0,
    };

    #[test]
    fn a_user_without_two_factor_or_requirement_is_authenticated_by_password() {
        let req = Requirement::of(&agent(false), &OPTIONAL);
        assert_eq!(
            decide_login(Disabled, &req, T0),
            LoginDecision::Authenticated {
                enrollment_deadline: None
            }
        );
    }

    #[test]
    fn a_user_with_two_factor_must_give_a_code() {
        assert_eq!(
            decide_login(Enabled, &Requirement::NONE, T0),
            LoginDecision::OtpRequired
        );
        let forced = Requirement::of(&agent(true), &OPTIONAL);
        assert_eq!(
            decide_login(Enabled, &forced, T0),
            LoginDecision::OtpRequired
        );
    }

    #[test]
    fn an_agent_forced_by_an_admin_must_enroll_before_any_token() {
        let req = Requirement::of(&agent(true), &OPTIONAL);
        assert_eq!(req.enforced_by, Some(EnforcedBy::Admin));
        assert_eq!(
            decide_login(Disabled, &req, T0),
            LoginDecision::EnrollmentRequired
        );
        assert_eq!(
            decide_login(Pending, &req, T0),
            LoginDecision::EnrollmentRequired
        );
    }

    #[test]
    fn an_organization_grace_period_lets_users_in_until_its_deadline() {
        let req = Requirement::of(
            &agent(false),
            &org(OrgTwoFactorPolicy::RequiredForAll, 24 * HOUR),
        );
        let deadline = T0.plus(24 * HOUR);
        assert_eq!(
            decide_login(Disabled, &req, T0.plus(HOUR)),
            LoginDecision::Authenticated {
                enrollment_deadline: Some(deadline)
            }
        );
        assert_eq!(
            decide_login(Disabled, &req, deadline),
            LoginDecision::EnrollmentRequired
        );
    }

    #[test]
    fn organization_policy_without_grace_requires_enrollment_at_once() {
        let req = Requirement::of(
            &agent(false),
            &org(OrgTwoFactorPolicy::RequiredForAll, Duration::ZERO),
        );
        assert_eq!(
            decide_login(Disabled, &req, T0),
            LoginDecision::EnrollmentRequired
        );
    }

    #[test]
    fn users_created_after_the_policy_get_their_own_grace_period() {
        let policy = org(OrgTwoFactorPolicy::RequiredForAll, 24 * HOUR);
        let late = UserFacts {
            created_at: T0.plus(100 * HOUR),
            ..agent(false)
        };
        assert_eq!(
            Requirement::of(&late, &policy).grace_until,
            Some(T0.plus(124 * HOUR))
        );
    }

    #[test]
    fn required_for_admins_does_not_apply_to_agents() {
        let policy = org(OrgTwoFactorPolicy::RequiredForAdmins, Duration::ZERO);
        assert_eq!(Requirement::of(&agent(false), &policy).enforced_by, None);
        let admin = UserFacts {
            role: Role::Admin,
            ..agent(false)
        };
        assert_eq!(
            Requirement::of(&admin, &policy).enforced_by,
            Some(EnforcedBy::Organization)
        );
    }

    #[test]
    fn when_admin_and_organization_both_require_it_the_admin_is_reported() {
        let policy = org(OrgTwoFactorPolicy::RequiredForAll, Duration::ZERO);
        assert_eq!(
            Requirement::of(&agent(true), &policy).enforced_by,
            Some(EnforcedBy::Admin)
        );
    }

    #[test]
    fn a_password_only_session_does_not_suffice_once_two_factor_is_on_or_required() {
        let none = Requirement::of(&agent(false), &OPTIONAL);
        assert!(session_suffices(Disabled, &none, false, T0));
        assert!(!session_suffices(Enabled, &none, false, T0));
        assert!(session_suffices(Enabled, &none, true, T0));
        let forced = Requirement::of(&agent(true), &OPTIONAL);
        assert!(!session_suffices(Disabled, &forced, false, T0));
    }

    #[test]
    fn forced_agent_cannot_disable_two_factor() {
        let req = Requirement::of(&agent(true), &OPTIONAL);
        assert_eq!(
            may_disable(&req),
            Err(DisableError::Enforced(EnforcedBy::Admin))
        );
        let err = may_disable(&req).unwrap_err().to_string();
        assert!(err.contains("contact your administrator"), "{err}");
    }

    #[test]
    fn self_enabled_agent_may_disable_two_factor() {
        assert_eq!(
            may_disable(&Requirement::of(&agent(false), &OPTIONAL)),
            Ok(())
        );
    }

    #[test]
    fn grace_periods_beyond_thirty_days_are_refused() {
        assert_eq!(grace_period_from_hours(720), Some(MAX_GRACE_PERIOD));
        assert_eq!(grace_period_from_hours(721), None);
    }
}
