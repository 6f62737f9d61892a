//! What the store reads and writes, in domain types. Rows that do not parse
//! into these are reported as corrupt rather than passed on.

use auth_core::{
    events::{Actor, SecurityEvent},
    identity::{ClientKind, DisplayName, Email, Role},
    ids::{ChallengeId, OrganizationId, SessionId, UserId},
    opaque_token::TokenHash,
    outcome::LoginOutcome,
    password::PasswordHash,
    policy::{OrganizationPolicy, UserFacts},
    UnixTime,
};

#[derive(Clone, Debug)]
pub struct OrganizationRecord {
    pub id: OrganizationId,
    pub name: String,
    pub policy: OrganizationPolicy,
    pub created_at: UnixTime,
    /// Lifetime of a remembered device, in days; 0 turns the feature off.
    pub remember_device_days: u32,
}

#[derive(Clone, Debug)]
pub struct NewOrganization {
    pub id: OrganizationId,
    pub name: DisplayName,
    pub created_at: UnixTime,
}

#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password_hash: PasswordHash,
    /// An admin requires 2FA of this user.
    pub two_factor_required: bool,
    pub disabled: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl UserRecord {
    pub fn facts(&self) -> UserFacts {
        UserFacts {
            role: self.role,
            required_by_admin: self.two_factor_required,
            created_at: self.created_at,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub name: DisplayName,
    pub role: Role,
    pub password_hash: PasswordHash,
    pub two_factor_required: bool,
    pub created_at: UnixTime,
}

/// A partial update of a user; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub name: Option<DisplayName>,
    pub role: Option<Role>,
    pub two_factor_required: Option<bool>,
    pub disabled: Option<bool>,
    pub password_hash: Option<PasswordHash>,
}

#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user_id: UserId,
    pub client: ClientKind,
    pub amr: Vec<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: UnixTime,
    pub last_used_at: UnixTime,
    pub expires_at: UnixTime,
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub refresh_token_hash: TokenHash,
    pub client: ClientKind,
    pub amr: Vec<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeKind {
    /// Password proven; a TOTP code must follow.
    Otp,
    /// Password proven; 2FA is required and must be set up first.
    Enrollment,
}

impl ChallengeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::Otp => "otp",
            ChallengeKind::Enrollment => "enrollment",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ChallengeRecord {
    pub id: ChallengeId,
    pub user_id: UserId,
    pub kind: ChallengeKind,
    pub client: ClientKind,
    pub failed_attempts: i32,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

#[derive(Clone, Debug)]
pub struct NewChallenge {
    pub id: ChallengeId,
    pub token_hash: TokenHash,
    pub user_id: UserId,
    pub kind: ChallengeKind,
    pub client: ClientKind,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// Where a request came from, for the history and the audit log.
#[derive(Clone, Debug, Default)]
pub struct RequestOrigin {
    /// Always a valid IP address (parsed at the edge), or nothing.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// What limits count the address as (`client_address::address_group`).
    pub ip_group: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewLoginEvent {
    pub user_id: Option<UserId>,
    pub organization_id: Option<OrganizationId>,
    pub outcome: LoginOutcome,
    pub client: Option<ClientKind>,
    pub origin: RequestOrigin,
    pub at: UnixTime,
    /// The authenticator whose code this attempt used, if a code matched one.
    pub authenticator: Option<auth_core::authenticators::AuthenticatorRef>,
}

#[derive(Clone, Debug)]
pub struct LoginEventRecord {
    pub id: i64,
    pub outcome: LoginOutcome,
    pub client: Option<ClientKind>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: UnixTime,
    pub authenticator: Option<auth_core::authenticators::AuthenticatorRef>,
}

/// A security event as the audit log records it: what happened, who did
/// it, to whom, from where and when.
#[derive(Clone, Debug)]
pub struct NewAuditEvent<'a> {
    pub organization_id: Option<&'a OrganizationId>,
    pub actor: &'a Actor,
    pub target_user_id: Option<&'a UserId>,
    pub event: &'a SecurityEvent,
    pub ip: Option<&'a str>,
    /// The client's `User-Agent`, told to the user and to webhooks (not
    /// kept in the audit log itself).
    pub user_agent: Option<&'a str>,
    pub at: UnixTime,
}

#[derive(Clone, Debug)]
pub struct AuditEventRecord {
    pub id: i64,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub target_user_id: Option<String>,
    pub action: String,
    pub ip: Option<String>,
    pub details: serde_json::Value,
    pub at: UnixTime,
}

/// One page of a newest-first list; pass `next_before` back to continue.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_before: Option<i64>,
}

/// The caller of an authenticated request, as read in one query.
#[derive(Clone, Debug)]
pub struct Principal {
    pub session: SessionRecord,
    pub user: UserRecord,
    pub organization: OrganizationRecord,
    pub two_factor: auth_core::enrollment::TwoFactorStatus,
    pub recovery_codes_remaining: i64,
}
