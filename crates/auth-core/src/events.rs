//! Security events: everything that changes who can get into an account,
//! as one typed vocabulary. The audit log stores each event's serialised
//! form (`action` and `details`); the same value is what later leaves the
//! process by email or webhook, so there is one source for all of them.
//!
//! Serialised, an event is `{"action": "two_factor.enabled", "details":
//! {...}}`; the action names are part of the API (`GET /v1/audit-events`)
//! and never change. Events carry ids and facts, never a secret, code,
//! token or password.

use serde::{Deserialize, Serialize};

use crate::{
    enrollment::EnrollmentSource,
    identity::Role,
    ids::{SessionId, UserId},
    policy::OrgTwoFactorPolicy,
};

/// Who caused an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user: the person themselves or one of their admins.
    User(UserId),
    /// An operator on the server host (the `authgate support` commands).
    Support,
    /// Authgate itself (a lock after too many wrong codes, a reused token).
    System,
}

impl Actor {
    /// `user`, `support` or `system`, as stored and shown.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::Support => "support",
            Actor::System => "system",
        }
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Actor::User(id) => Some(id),
            Actor::Support | Actor::System => None,
        }
    }
}

/// A value before and after a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", content = "details")]
pub enum SecurityEvent {
    #[serde(rename = "organization.created")]
    OrganizationCreated { name: String, admin_email: String },
    #[serde(rename = "organization.policy_changed")]
    PolicyChanged {
        two_factor_policy: Change<OrgTwoFactorPolicy>,
        grace_period_hours: Change<u64>,
    },
    #[serde(rename = "user.created")]
    UserCreated {
        email: String,
        role: Role,
        require_two_factor: bool,
    },
    #[serde(rename = "user.updated")]
    UserUpdated {
        name: Option<String>,
        role: Option<Role>,
        previous_role: Option<Role>,
    },
    #[serde(rename = "user.disabled")]
    UserDisabled { sessions_ended: usize },
    #[serde(rename = "user.enabled")]
    UserEnabled {},
    #[serde(rename = "user.password_changed")]
    PasswordChanged { sessions_ended: usize },
    #[serde(rename = "user.unlocked")]
    UserUnlocked { was_locked: bool },
    #[serde(rename = "support.unlocked")]
    SupportUnlocked {
        reason: String,
        factor_removed: bool,
        was_locked: bool,
        sessions_ended: usize,
    },
    #[serde(rename = "two_factor.enrollment_started")]
    EnrollmentStarted {},
    #[serde(rename = "two_factor.enabled")]
    TwoFactorEnabled { source: EnrollmentSource },
    #[serde(rename = "two_factor.disabled")]
    TwoFactorDisabled {},
    /// An admin now requires 2FA of the user (at creation or later).
    #[serde(rename = "two_factor.enforced")]
    TwoFactorRequired {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sessions_ended: Option<usize>,
    },
    #[serde(rename = "two_factor.requirement_lifted")]
    TwoFactorRequirementLifted {},
    /// An admin removed the user's authenticator.
    #[serde(rename = "two_factor.reset")]
    TwoFactorReset {
        factor_removed: bool,
        sessions_ended: usize,
        was_locked: bool,
    },
    /// Support removed the user's authenticator.
    #[serde(rename = "support.two_factor_reset")]
    SupportTwoFactorReset {
        reason: String,
        factor_removed: bool,
        was_locked: bool,
        sessions_ended: usize,
    },
    /// Too many wrong codes: second-factor sign-in is locked.
    #[serde(rename = "two_factor.locked")]
    TwoFactorLocked { consecutive_failures: u32 },
    #[serde(rename = "two_factor.recovery_code_used")]
    RecoveryCodeUsed { remaining: i64 },
    #[serde(rename = "two_factor.recovery_codes_replaced")]
    RecoveryCodesReplaced {},
    #[serde(rename = "session.refresh_token_reused")]
    RefreshTokenReused { session_id: SessionId },
    /// A signed-in session failed to re-authenticate (wrong password or
    /// code) before a sensitive change; after a few the session ends.
    #[serde(rename = "user.step_up_failed")]
    StepUpFailed {
        /// `wrong_password`, `throttled`, `wrong_code`, `replayed_code`,
        /// `wrong_recovery_code` or `locked` (as in the login history).
        reason: String,
        session_id: SessionId,
        session_ended: bool,
    },
}

impl SecurityEvent {
    /// The stable action name (`two_factor.enabled`, …).
    pub fn action(&self) -> String {
        self.split().0
    }

    /// The event's typed fields as a JSON object.
    pub fn details(&self) -> serde_json::Value {
        self.split().1
    }

    /// `(action, details)`, as the audit log stores them.
    pub fn split(&self) -> (String, serde_json::Value) {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => {
                let action = match map.remove("action") {
                    Some(serde_json::Value::String(a)) => a,
                    _ => String::new(),
                };
                let details = map
                    .remove("details")
                    .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()));
                (action, details)
            }
            // Every variant is a struct of plain fields: always an object.
            _ => (String::new(), serde_json::Value::Null),
        }
    }

    /// Reads an event back from its stored `(action, details)`.
    pub fn from_parts(action: &str, details: serde_json::Value) -> Option<Self> {
        serde_json::from_value(serde_json::json!({"action": action, "details": details})).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_split_into_the_stored_action_and_details() {
        let e = SecurityEvent::TwoFactorEnabled {
            source: EnrollmentSource::SelfService,
        };
        assert_eq!(e.action(), "two_factor.enabled");
        assert_eq!(e.details(), json!({"source": "self"}));
        let empty = SecurityEvent::TwoFactorDisabled {};
        assert_eq!(empty.details(), json!({}));
    }

    #[test]
    fn an_absent_optional_field_is_left_out() {
        let at_creation = SecurityEvent::TwoFactorRequired {
            sessions_ended: None,
        };
        assert_eq!(at_creation.action(), "two_factor.enforced");
        assert_eq!(at_creation.details(), json!({}));
        let later = SecurityEvent::TwoFactorRequired {
            sessions_ended: Some(2),
        };
        assert_eq!(later.details(), json!({"sessions_ended": 2}));
    }

    #[test]
    fn events_read_back_from_their_stored_form() {
        let e = SecurityEvent::PolicyChanged {
            two_factor_policy: Change {
                from: OrgTwoFactorPolicy::Optional,
                to: OrgTwoFactorPolicy::RequiredForAll,
            },
            grace_period_hours: Change { from: 0, to: 24 },
        };
        let (action, details) = e.split();
        assert_eq!(
            details["two_factor_policy"],
            json!({"from": "optional", "to": "required_for_all"})
        );
        assert_eq!(SecurityEvent::from_parts(&action, details), Some(e));
        assert_eq!(SecurityEvent::from_parts("no.such", json!({})), None);
    }

    #[test]
    fn actors_name_their_kind() {
        let id = UserId::from_stored("u1".into());
        assert_eq!(Actor::User(id.clone()).kind(), "user");
        assert_eq!(Actor::User(id.clone()).user_id(), Some(&id));
        assert_eq!(Actor::Support.kind(), "support");
        assert_eq!(Actor::System.user_id(), None);
    }
}
