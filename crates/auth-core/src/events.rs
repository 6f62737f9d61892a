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
    authenticators::AuthenticatorRef,
    enrollment::EnrollmentSource,
    identity::{ClientKind, Role},
    ids::{ApiKeyId, SessionId, UserId},
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
        /// Set when the lifetime of remembered devices changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remember_device_days: Option<Change<u32>>,
        /// Sessions that had not proven a second factor, ended because
        /// the new rule requires one of their users (set when any ended).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sessions_ended: Option<usize>,
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
    /// The first authenticator was confirmed: 2FA is on.
    #[serde(rename = "two_factor.enabled")]
    TwoFactorEnabled {
        source: EnrollmentSource,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authenticator: Option<AuthenticatorRef>,
    },
    /// 2FA is off: turned off, or its last authenticator removed (named).
    #[serde(rename = "two_factor.disabled")]
    TwoFactorDisabled {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authenticator: Option<AuthenticatorRef>,
    },
    /// Another authenticator was confirmed while 2FA was already on.
    #[serde(rename = "two_factor.authenticator_added")]
    AuthenticatorAdded { authenticator: AuthenticatorRef },
    /// One of several authenticators was removed; 2FA stays on.
    #[serde(rename = "two_factor.authenticator_removed")]
    AuthenticatorRemoved { authenticator: AuthenticatorRef },
    #[serde(rename = "two_factor.authenticator_renamed")]
    AuthenticatorRenamed {
        authenticator_id: crate::ids::FactorId,
        name: Change<String>,
    },
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
    /// Too many wrong codes: second-factor sign-in is locked, for codes
    /// from strangers' addresses or from the owner's (`budget`; absent in
    /// events written before the account had two budgets).
    #[serde(rename = "two_factor.locked")]
    TwoFactorLocked {
        consecutive_failures: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget: Option<crate::throttle::Budget>,
    },
    #[serde(rename = "two_factor.recovery_code_used")]
    RecoveryCodeUsed { remaining: i64 },
    #[serde(rename = "two_factor.recovery_codes_replaced")]
    RecoveryCodesReplaced {},
    #[serde(rename = "session.refresh_token_reused")]
    RefreshTokenReused { session_id: SessionId },
    /// A login from a client and address never seen on the account before.
    #[serde(rename = "login.new_device")]
    NewDeviceLogin {
        client: ClientKind,
        /// The authenticator whose code completed the login, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authenticator: Option<AuthenticatorRef>,
    },
    /// An admin asked for a test delivery to one webhook endpoint.
    #[serde(rename = "webhook.test")]
    WebhookTest { endpoint_id: String },
    /// The user was removed: deactivated and anonymised.
    #[serde(rename = "user.removed")]
    UserRemoved { sessions_ended: usize },
    /// An invitation mail (with a set-password link) was sent.
    #[serde(rename = "user.invited")]
    UserInvited {},
    /// The invited user set their password.
    #[serde(rename = "user.invitation_accepted")]
    InvitationAccepted {},
    /// A password reset mail was sent (asked by the user, an admin or
    /// support; the actor says which).
    #[serde(rename = "password.reset_sent")]
    PasswordResetSent {
        /// Support's stated reason; support acts outside any organization,
        /// so the audit log must say why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The password was set with a reset link.
    #[serde(rename = "password.reset")]
    PasswordReset {
        sessions_ended: usize,
        /// How the second factor was proven, when the account has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        second_factor: Option<String>,
    },
    /// A partner API key was created (its id and name, never the key).
    #[serde(rename = "api_key.created")]
    ApiKeyCreated {
        key_id: ApiKeyId,
        name: String,
        scopes: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<i64>,
    },
    #[serde(rename = "api_key.revoked")]
    ApiKeyRevoked { key_id: ApiKeyId, name: String },
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

/// What replaces a removed person's email or name in kept records.
pub const REMOVED: &str = "[removed]";

/// Every action name, for validating webhook subscriptions.
pub const ACTIONS: &[&str] = &[
    "organization.created",
    "organization.policy_changed",
    "user.created",
    "user.updated",
    "user.disabled",
    "user.enabled",
    "user.password_changed",
    "user.unlocked",
    "support.unlocked",
    "two_factor.enrollment_started",
    "two_factor.enabled",
    "two_factor.disabled",
    "two_factor.authenticator_added",
    "two_factor.authenticator_removed",
    "two_factor.authenticator_renamed",
    "two_factor.enforced",
    "two_factor.requirement_lifted",
    "two_factor.reset",
    "support.two_factor_reset",
    "two_factor.locked",
    "two_factor.recovery_code_used",
    "two_factor.recovery_codes_replaced",
    "session.refresh_token_reused",
    "login.new_device",
    "webhook.test",
    "user.removed",
    "user.invited",
    "user.invitation_accepted",
    "password.reset_sent",
    "password.reset",
    "api_key.created",
    "api_key.revoked",
    "user.step_up_failed",
];

/// Each action and the `type` its webhook carries. Webhook types name what
/// happened to the account as a receiver thinks of it (`account.locked`
/// rather than the audit log's `two_factor.locked`); events that differ only
/// in who acted share a type, and the payload's `actor` tells them apart.
/// The audit names stay as they are: they are a published contract too.
const WEBHOOK_TYPES: &[(&str, &str)] = &[
    ("organization.created", "organization.created"),
    ("organization.policy_changed", "organization.policy_changed"),
    ("user.created", "user.created"),
    ("user.updated", "user.updated"),
    ("user.disabled", "user.disabled"),
    ("user.enabled", "user.enabled"),
    ("user.password_changed", "password.changed"),
    ("user.unlocked", "account.unlocked"),
    ("support.unlocked", "account.unlocked"),
    (
        "two_factor.enrollment_started",
        "two_factor.enrollment_started",
    ),
    ("two_factor.enabled", "two_factor.enabled"),
    ("two_factor.disabled", "two_factor.disabled"),
    ("two_factor.authenticator_added", "authenticator.added"),
    ("two_factor.authenticator_removed", "authenticator.removed"),
    ("two_factor.authenticator_renamed", "authenticator.renamed"),
    ("two_factor.enforced", "two_factor.required"),
    (
        "two_factor.requirement_lifted",
        "two_factor.requirement_lifted",
    ),
    ("two_factor.reset", "two_factor.reset"),
    ("support.two_factor_reset", "two_factor.reset"),
    ("two_factor.locked", "account.locked"),
    ("two_factor.recovery_code_used", "recovery_code.used"),
    (
        "two_factor.recovery_codes_replaced",
        "recovery_codes.regenerated",
    ),
    ("session.refresh_token_reused", "session.token_reused"),
    ("login.new_device", "login.new_device"),
    ("webhook.test", "webhook.test"),
    ("user.removed", "user.removed"),
    ("user.invited", "user.invited"),
    ("user.invitation_accepted", "user.invitation_accepted"),
    ("password.reset_sent", "password.reset_requested"),
    ("password.reset", "password.reset"),
    ("api_key.created", "api_key.created"),
    ("api_key.revoked", "api_key.revoked"),
    ("user.step_up_failed", "step_up.failed"),
];

/// The webhook `type` of an audit action (`two_factor.locked` →
/// `account.locked`); `None` for a name that is no action.
pub fn webhook_type(action: &str) -> Option<&'static str> {
    WEBHOOK_TYPES
        .iter()
        .find(|(a, _)| *a == action)
        .map(|(_, t)| *t)
}

/// What a webhook subscription entry means, as the webhook type it is
/// stored as: a webhook type is itself, and an audit action name (what
/// subscriptions used before the webhook types existed) is an alias of its
/// type. `None` for anything else.
pub fn subscribed_type(name: &str) -> Option<&'static str> {
    WEBHOOK_TYPES
        .iter()
        .find(|(_, t)| *t == name)
        .map(|(_, t)| *t)
        .or_else(|| webhook_type(name))
}

/// Every webhook type, each once, in a stable order (for documentation and
/// error messages).
pub fn webhook_types() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::with_capacity(WEBHOOK_TYPES.len());
    for (_, t) in WEBHOOK_TYPES {
        if !out.contains(t) {
            out.push(t);
        }
    }
    out
}

/// Actions the person concerned is told about by email (what happened to
/// their account's protection, or a sign of someone else using it).
pub const NOTIFIED_ACTIONS: &[&str] = &[
    "two_factor.enabled",
    "two_factor.disabled",
    "two_factor.authenticator_added",
    "two_factor.authenticator_removed",
    "two_factor.reset",
    "support.two_factor_reset",
    "two_factor.enforced",
    "two_factor.recovery_code_used",
    "two_factor.recovery_codes_replaced",
    "user.password_changed",
    "two_factor.locked",
    "login.new_device",
];

impl SecurityEvent {
    /// The stable action name (`two_factor.enabled`, …).
    pub fn action(&self) -> String {
        self.split().0
    }

    /// The `type` a webhook for this event carries (see [`webhook_type`]).
    pub fn webhook_type(&self) -> &'static str {
        webhook_type(&self.action()).unwrap_or("unknown")
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

    /// The same event with the person's email and name replaced, for the
    /// audit entries a removed user leaves behind (they keep the ids).
    #[must_use]
    pub fn without_personal_data(self) -> Self {
        match self {
            Self::OrganizationCreated { name, .. } => Self::OrganizationCreated {
                name,
                admin_email: REMOVED.into(),
            },
            Self::UserCreated {
                role,
                require_two_factor,
                ..
            } => Self::UserCreated {
                email: REMOVED.into(),
                role,
                require_two_factor,
            },
            Self::UserUpdated {
                name,
                role,
                previous_role,
            } => Self::UserUpdated {
                name: name.map(|_| REMOVED.into()),
                role,
                previous_role,
            },
            Self::TwoFactorEnabled {
                source,
                authenticator,
            } => Self::TwoFactorEnabled {
                source,
                authenticator: authenticator.map(AuthenticatorRef::without_name),
            },
            Self::TwoFactorDisabled { authenticator } => Self::TwoFactorDisabled {
                authenticator: authenticator.map(AuthenticatorRef::without_name),
            },
            Self::AuthenticatorAdded { authenticator } => Self::AuthenticatorAdded {
                authenticator: authenticator.without_name(),
            },
            Self::AuthenticatorRemoved { authenticator } => Self::AuthenticatorRemoved {
                authenticator: authenticator.without_name(),
            },
            Self::AuthenticatorRenamed {
                authenticator_id, ..
            } => Self::AuthenticatorRenamed {
                authenticator_id,
                name: Change {
                    from: REMOVED.into(),
                    to: REMOVED.into(),
                },
            },
            Self::NewDeviceLogin {
                client,
                authenticator,
            } => Self::NewDeviceLogin {
                client,
                authenticator: authenticator.map(AuthenticatorRef::without_name),
            },
            other => other,
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
            authenticator: None,
        };
        assert_eq!(e.action(), "two_factor.enabled");
        assert_eq!(e.details(), json!({"source": "self"}));
        let empty = SecurityEvent::TwoFactorDisabled {
            authenticator: None,
        };
        assert_eq!(empty.details(), json!({}));
        let named = SecurityEvent::AuthenticatorAdded {
            authenticator: AuthenticatorRef {
                id: crate::ids::FactorId::from_stored("f1".into()),
                name: "Work phone".into(),
            },
        };
        assert_eq!(
            named.details(),
            json!({"authenticator": {"id": "f1", "name": "Work phone"}})
        );
        assert_eq!(named.webhook_type(), "authenticator.added");
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
    fn a_removed_users_events_lose_their_email_and_name_but_nothing_else() {
        let created = SecurityEvent::UserCreated {
            email: "ana@acme.test".into(),
            role: crate::identity::Role::Agent,
            require_two_factor: true,
        };
        let redacted = created.without_personal_data().details();
        assert_eq!(
            redacted,
            json!({"email": REMOVED, "role": "agent", "require_two_factor": true})
        );
        let renamed = SecurityEvent::UserUpdated {
            name: Some("Ana Silva".into()),
            role: None,
            previous_role: None,
        };
        assert_eq!(
            renamed.without_personal_data().details()["name"],
            json!(REMOVED)
        );
        let enabled = SecurityEvent::TwoFactorDisabled {
            authenticator: None,
        };
        assert_eq!(enabled.clone().without_personal_data(), enabled);
        let added = SecurityEvent::AuthenticatorAdded {
            authenticator: AuthenticatorRef {
                id: crate::ids::FactorId::from_stored("f1".into()),
                name: "Ana's phone".into(),
            },
        };
        assert_eq!(
            added.without_personal_data().details(),
            json!({"authenticator": {"id": "f1", "name": REMOVED}})
        );
    }

    #[test]
    fn events_read_back_from_their_stored_form() {
        let e = SecurityEvent::PolicyChanged {
            two_factor_policy: Change {
                from: OrgTwoFactorPolicy::Optional,
                to: OrgTwoFactorPolicy::RequiredForAll,
            },
            grace_period_hours: Change { from: 0, to: 24 },
            remember_device_days: Some(Change { from: 30, to: 7 }),
            sessions_ended: Some(2),
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
    fn every_notified_action_is_an_action() {
        for a in NOTIFIED_ACTIONS {
            assert!(ACTIONS.contains(a), "{a}");
        }
        let e = SecurityEvent::NewDeviceLogin {
            client: ClientKind::Web,
            authenticator: None,
        };
        assert!(ACTIONS.contains(&e.action().as_str()));
        assert_eq!(e.details(), json!({"client": "web"}));
        let t = SecurityEvent::WebhookTest {
            endpoint_id: "e1".into(),
        };
        assert_eq!(t.action(), "webhook.test");
    }

    #[test]
    fn every_action_has_a_webhook_type_named_as_the_issue_asks() {
        for a in ACTIONS {
            assert!(webhook_type(a).is_some(), "{a}");
        }
        assert_eq!(WEBHOOK_TYPES.len(), ACTIONS.len(), "one row per action");
        for (from, to) in [
            ("two_factor.enabled", "two_factor.enabled"),
            ("two_factor.disabled", "two_factor.disabled"),
            ("two_factor.authenticator_added", "authenticator.added"),
            ("two_factor.authenticator_removed", "authenticator.removed"),
            ("two_factor.authenticator_renamed", "authenticator.renamed"),
            ("two_factor.reset", "two_factor.reset"),
            ("support.two_factor_reset", "two_factor.reset"),
            ("two_factor.enforced", "two_factor.required"),
            ("two_factor.locked", "account.locked"),
            ("user.password_changed", "password.changed"),
            ("two_factor.recovery_code_used", "recovery_code.used"),
            ("password.reset", "password.reset"),
        ] {
            assert_eq!(webhook_type(from), Some(to), "{from}");
        }
        assert_eq!(webhook_type("no.such"), None);
        let locked = SecurityEvent::TwoFactorLocked {
            consecutive_failures: 5,
            budget: Some(crate::throttle::Budget::Stranger),
        };
        assert_eq!(
            locked.details(),
            json!({"consecutive_failures": 5, "budget": "stranger"})
        );
        assert_eq!(locked.action(), "two_factor.locked", "the audit name stays");
        assert_eq!(locked.webhook_type(), "account.locked");
    }

    #[test]
    fn subscriptions_take_webhook_types_and_audit_names_as_aliases() {
        assert_eq!(subscribed_type("account.locked"), Some("account.locked"));
        assert_eq!(subscribed_type("two_factor.locked"), Some("account.locked"));
        assert_eq!(
            subscribed_type("two_factor.enforced"),
            Some("two_factor.required")
        );
        assert_eq!(
            subscribed_type("support.two_factor_reset"),
            Some("two_factor.reset")
        );
        assert_eq!(
            subscribed_type("two_factor.enabled"),
            Some("two_factor.enabled")
        );
        assert_eq!(subscribed_type("no.such"), None);
        assert_eq!(subscribed_type("*"), None, "the wildcard is the caller's");
        for a in ACTIONS {
            if webhook_types().contains(a) {
                assert_eq!(webhook_type(a), Some(*a), "{a} cannot mean two types");
            }
        }
        for t in webhook_types() {
            assert_eq!(subscribed_type(t), Some(t), "{t}");
            assert!(
                t.split('.').count() == 2
                    && t.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
                "{t}"
            );
        }
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
