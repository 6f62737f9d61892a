//! Organization admins (`/v1/users`, `/v1/organization`, `/v1/audit-events`).

#[allow(unused_imports)]
use super::common::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: RoleDto,
    pub disabled: bool,
    /// Two-factor sign-in is hard-locked after too many wrong codes, in
    /// either budget (`locked_budgets` says which); `POST
    /// /v1/users/{id}/unlock` lifts both.
    pub locked: bool,
    /// The locked budgets: `stranger` (codes from addresses the user has
    /// not signed in from in the last 30 days; the user still signs in
    /// from their own addresses and remembered devices) and `owner` (codes
    /// from those addresses; remembered devices stop too). Empty when not
    /// locked.
    pub locked_budgets: Vec<BudgetDto>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub two_factor: TwoFactorView,
    /// Confirmed authenticators (`POST /v1/users/{id}/two-factor/reset`
    /// removes them all).
    pub authenticators: i64,
    /// The last successful sign-in (RFC 3339, UTC); null if never.
    pub last_login_at: Option<String>,
}

/// One of a user's two second-factor budgets (SECURITY.md).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BudgetDto {
    Stranger,
    Owner,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserListPage {
    pub items: Vec<UserView>,
    pub total: i64,
    /// Pass as `offset` for the next page; null on the last page.
    pub next_offset: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OffsetQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(format = Email)]
    pub email: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    pub role: RoleDto,
    /// Leave it out: the user gets an invitation email and sets their own
    /// password. Accepted only where the operator allows admins to set
    /// passwords (`AUTHGATE_ADMIN_SET_PASSWORDS=true`, for air-gapped
    /// setups); there, when absent, a one-time password is generated and
    /// returned once.
    #[schema(min_length = 8)]
    pub password: Option<String>,
    /// The user must set up 2FA at their first login.
    #[serde(default)]
    pub require_two_factor: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateUserResponse {
    pub user: UserView,
    /// Only when no password was given: shown this once, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
    /// An invitation email with a set-password link went to the user (the
    /// default; the admin never learns a password).
    pub invitation_sent: bool,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    pub role: Option<RoleDto>,
    /// Force 2FA on the user (true) or lift the admin's requirement (false).
    pub require_two_factor: Option<bool>,
    /// A disabled user cannot log in; their sessions end at once.
    pub disabled: Option<bool>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TwoFactorPolicyDto {
    Optional,
    RequiredForAdmins,
    RequiredForAll,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
    pub two_factor_policy: TwoFactorPolicyDto,
    /// Hours users without 2FA may still log in after the policy applies to them.
    pub grace_period_hours: u32,
    /// When the current policy took effect (RFC 3339).
    pub policy_since: String,
    /// Days a remembered device skips the code (at most 30); 0: users
    /// cannot remember devices.
    pub remember_device_days: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    pub two_factor_policy: Option<TwoFactorPolicyDto>,
    /// 0 to 720.
    #[schema(minimum = 0, maximum = 720)]
    pub grace_period_hours: Option<u32>,
    /// 0 (off) to 30. Shortening it also ends devices remembered longer
    /// ago than the new lifetime.
    #[schema(minimum = 0, maximum = 30)]
    pub remember_device_days: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// `user`, `support` or `system`.
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub target_user_id: Option<String>,
    #[schema(example = "two_factor.enforced")]
    pub action: String,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEventView>,
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only events about this user.
    pub user_id: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_before`.
    pub before: Option<i64>,
}
