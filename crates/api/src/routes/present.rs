//! Use-case outcomes as response bodies: the one place where domain
//! values become the API's JSON shapes.

use auth_core::{
    enrollment::TwoFactorStatus,
    identity::{ClientKind, Role},
    policy::{EnforcedBy, OrgTwoFactorPolicy},
    recovery::RecoveryCode,
    throttle::Budget,
};
use persistence::{
    records::{AuditEventRecord, LoginEventRecord, OrganizationRecord, Page},
    AuthenticatorRecord, DeviceRecord,
};

use crate::{
    clock::rfc3339,
    dto::{
        AuditEventView, AuditPage, AuthenticatorRefView, AuthenticatorView, BudgetDto,
        ChallengeResponse, Client, ConfirmedAuthenticatorResponse, CreateUserResponse, DeviceList,
        DeviceView, EnforcedByDto, EnrollmentResponse, LoginEventView, LoginHistoryPage,
        LoginResponse, MeResponse, OrganizationRef, OrganizationView, PendingAuthenticatorResponse,
        RoleDto, SessionList as SessionListDto, SessionView, TokenResponse, TwoFactorPolicyDto,
        TwoFactorStatusDto, TwoFactorView, UserListPage, UserView,
    },
    service::{
        authenticators::{AddedAuthenticator, ConfirmedAuthenticator},
        challenge::Challenge,
        enrollment::EnrollmentTicket,
        login::LoginStep,
        profile::{Profile, TwoFactorSummary},
        sessions::SessionList,
        tokens::IssuedTokens,
        users::{CreatedUser, UserList, UserSummary},
    },
};

pub fn codes(codes: &[RecoveryCode]) -> Vec<String> {
    codes.iter().map(|c| c.expose().to_owned()).collect()
}

impl From<ClientKind> for Client {
    fn from(c: ClientKind) -> Self {
        match c {
            ClientKind::Web => Client::Web,
            ClientKind::Mobile => Client::Mobile,
            ClientKind::Extension => Client::Extension,
            ClientKind::Api => Client::Api,
        }
    }
}

impl From<Budget> for BudgetDto {
    fn from(budget: Budget) -> Self {
        match budget {
            Budget::Stranger => BudgetDto::Stranger,
            Budget::Owner => BudgetDto::Owner,
        }
    }
}

impl From<Role> for RoleDto {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => RoleDto::Admin,
            Role::Agent => RoleDto::Agent,
        }
    }
}

impl From<OrgTwoFactorPolicy> for TwoFactorPolicyDto {
    fn from(p: OrgTwoFactorPolicy) -> Self {
        match p {
            OrgTwoFactorPolicy::Optional => TwoFactorPolicyDto::Optional,
            OrgTwoFactorPolicy::RequiredForAdmins => TwoFactorPolicyDto::RequiredForAdmins,
            OrgTwoFactorPolicy::RequiredForAll => TwoFactorPolicyDto::RequiredForAll,
        }
    }
}

impl From<IssuedTokens> for TokenResponse {
    fn from(t: IssuedTokens) -> Self {
        TokenResponse {
            access_token: t.access_token,
            refresh_token: t.refresh_token.expose().to_owned(),
            token_type: "Bearer".into(),
            expires_in: t.expires_in.as_secs(),
            amr: t.amr.methods().iter().map(|s| (*s).to_owned()).collect(),
            two_factor_enrollment_deadline: t.enrollment_deadline.map(rfc3339),
            recovery_codes: t.recovery_codes.as_deref().map(codes),
            device_token: t.device_token.map(|d| d.expose().to_owned()),
        }
    }
}

impl From<Challenge> for ChallengeResponse {
    fn from(c: Challenge) -> Self {
        ChallengeResponse {
            challenge_token: c.token.expose().to_owned(),
            expires_in: c.expires_in.as_secs(),
        }
    }
}

impl From<LoginStep> for LoginResponse {
    fn from(step: LoginStep) -> Self {
        match step {
            LoginStep::Authenticated(t) => LoginResponse::Authenticated(t.into()),
            LoginStep::OtpRequired(c) => LoginResponse::OtpRequired(c.into()),
            LoginStep::EnrollmentRequired(c) => LoginResponse::EnrollmentRequired(c.into()),
        }
    }
}

impl From<EnrollmentTicket> for EnrollmentResponse {
    fn from(t: EnrollmentTicket) -> Self {
        EnrollmentResponse {
            secret: t.secret,
            otpauth_uri: t.otpauth_uri,
            qr_svg: t.qr_svg,
            qr_png: t.qr_png,
            expires_in: t.expires_in.as_secs(),
        }
    }
}

impl From<TwoFactorSummary> for TwoFactorView {
    fn from(s: TwoFactorSummary) -> Self {
        TwoFactorView {
            status: match s.status {
                TwoFactorStatus::Disabled => TwoFactorStatusDto::Disabled,
                TwoFactorStatus::Pending => TwoFactorStatusDto::Pending,
                TwoFactorStatus::Enabled => TwoFactorStatusDto::Enabled,
            },
            enforced: s.enforced_by.is_some(),
            enforced_by: s.enforced_by.map(|by| match by {
                EnforcedBy::Admin => EnforcedByDto::Admin,
                EnforcedBy::Organization => EnforcedByDto::Organization,
            }),
            enrollment_deadline: s.enrollment_deadline.map(rfc3339),
            recovery_codes_remaining: s.recovery_codes_remaining,
            recovery_codes: s.recovery_codes.as_deref().map(codes),
        }
    }
}

impl From<Profile> for MeResponse {
    fn from(p: Profile) -> Self {
        MeResponse {
            id: p.user.id.into_string(),
            email: p.user.email.to_string(),
            name: p.user.name,
            role: p.user.role.into(),
            organization: OrganizationRef {
                id: p.organization.id.into_string(),
                name: p.organization.name,
            },
            two_factor: p.two_factor.into(),
        }
    }
}

impl From<Page<LoginEventRecord>> for LoginHistoryPage {
    fn from(page: Page<LoginEventRecord>) -> Self {
        LoginHistoryPage {
            items: page
                .items
                .into_iter()
                .map(|e| LoginEventView {
                    id: e.id,
                    at: rfc3339(e.at),
                    outcome: e.outcome.as_str().to_owned(),
                    client: e.client.map(Client::from),
                    ip: e.ip,
                    user_agent: e.user_agent,
                    authenticator: e.authenticator.map(|a| AuthenticatorRefView {
                        id: a.id.into_string(),
                        name: a.name,
                    }),
                })
                .collect(),
            next_before: page.next_before,
        }
    }
}

impl From<Vec<DeviceRecord>> for DeviceList {
    fn from(devices: Vec<DeviceRecord>) -> Self {
        DeviceList {
            items: devices
                .into_iter()
                .map(|d| DeviceView {
                    client: d.client.into(),
                    ip: d.ip,
                    user_agent: d.user_agent,
                    created_at: rfc3339(d.created_at),
                    last_used_at: d.last_used_at.map(rfc3339),
                    expires_at: rfc3339(d.expires_at),
                    id: d.id,
                })
                .collect(),
        }
    }
}

impl From<SessionList> for SessionListDto {
    fn from(list: SessionList) -> Self {
        SessionListDto {
            items: list
                .sessions
                .into_iter()
                .map(|s| SessionView {
                    current: s.id == list.current,
                    client: s.client.into(),
                    ip: s.ip,
                    user_agent: s.user_agent,
                    created_at: rfc3339(s.created_at),
                    last_used_at: rfc3339(s.last_used_at),
                    amr: s.amr,
                    id: s.id.into_string(),
                })
                .collect(),
        }
    }
}

impl From<UserSummary> for UserView {
    fn from(s: UserSummary) -> Self {
        UserView {
            id: s.user.id.into_string(),
            email: s.user.email.to_string(),
            name: s.user.name,
            role: s.user.role.into(),
            disabled: s.user.disabled,
            locked: !s.locked.is_empty(),
            locked_budgets: s.locked.into_iter().map(BudgetDto::from).collect(),
            created_at: rfc3339(s.user.created_at),
            authenticators: s.two_factor.authenticators,
            two_factor: s.two_factor.into(),
            last_login_at: s.last_login_at.map(rfc3339),
        }
    }
}

impl From<UserList> for UserListPage {
    fn from(list: UserList) -> Self {
        UserListPage {
            items: list.items.into_iter().map(UserView::from).collect(),
            total: list.total,
            next_offset: list.next_offset,
        }
    }
}

impl From<CreatedUser> for CreateUserResponse {
    fn from(c: CreatedUser) -> Self {
        CreateUserResponse {
            user: c.user.into(),
            generated_password: c.generated_password.map(|p| p.expose().to_owned()),
            invitation_sent: c.invitation.is_some(),
        }
    }
}

impl From<OrganizationRecord> for OrganizationView {
    fn from(org: OrganizationRecord) -> Self {
        OrganizationView {
            two_factor_policy: org.policy.two_factor.into(),
            grace_period_hours: u32::try_from(org.policy.grace_period.as_secs() / 3600)
                .unwrap_or(u32::MAX),
            policy_since: rfc3339(org.policy.since),
            remember_device_days: org.remember_device_days,
            id: org.id.into_string(),
            name: org.name,
        }
    }
}

impl From<Page<AuditEventRecord>> for AuditPage {
    fn from(page: Page<AuditEventRecord>) -> Self {
        AuditPage {
            items: page
                .items
                .into_iter()
                .map(|e| AuditEventView {
                    id: e.id,
                    at: rfc3339(e.at),
                    actor_type: e.actor_type,
                    actor_id: e.actor_id,
                    target_user_id: e.target_user_id,
                    action: e.action,
                    ip: e.ip,
                    details: e.details,
                })
                .collect(),
            next_before: page.next_before,
        }
    }
}

impl From<AuthenticatorRecord> for AuthenticatorView {
    fn from(a: AuthenticatorRecord) -> Self {
        AuthenticatorView {
            id: a.id.into_string(),
            name: a.name.as_str().to_owned(),
            created_at: rfc3339(a.created_at),
            last_used_at: a.last_used_at.map(rfc3339),
        }
    }
}

impl From<AddedAuthenticator> for PendingAuthenticatorResponse {
    fn from(a: AddedAuthenticator) -> Self {
        PendingAuthenticatorResponse {
            id: a.id.into_string(),
            name: a.name.as_str().to_owned(),
            enrollment: a.ticket.into(),
        }
    }
}

impl From<ConfirmedAuthenticator> for ConfirmedAuthenticatorResponse {
    fn from(c: ConfirmedAuthenticator) -> Self {
        let a = AuthenticatorView::from(c.authenticator);
        ConfirmedAuthenticatorResponse {
            id: a.id,
            name: a.name,
            created_at: a.created_at,
            last_used_at: a.last_used_at,
            recovery_codes: c.recovery_codes.as_deref().map(codes),
        }
    }
}
