//! The signed-in user's own account (`/v1/me/*`).

#[allow(unused_imports)]
use super::common::*;
use super::EnrollmentResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    #[schema(example = "123456", pattern = "^ *([0-9] *){6}$")]
    pub code: String,
}

/// Re-authentication with the password only (starting enrollment from the
/// profile, ending another session).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The current password.
    pub password: String,
}

/// Re-authentication for a change to how one logs in: the current password
/// and, when 2FA is on, exactly one of `code` and `recovery_code`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUpRequest {
    /// The current password.
    pub password: String,
    /// A current code from the authenticator app (when 2FA is on).
    #[schema(example = "123456", pattern = "^ *([0-9] *){6}$")]
    pub code: Option<String>,
    /// Instead of `code`: one unused recovery code (it is spent).
    #[schema(example = "abcd-efgh-ijkl-mnop")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: RoleDto,
    pub organization: OrganizationRef,
    pub two_factor: TwoFactorView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesResponse {
    /// Shown once; each works once instead of a code. The old set is void.
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    pub new_password: String,
    /// When 2FA is on: a current code from the authenticator app…
    #[schema(example = "123456", pattern = "^ *([0-9] *){6}$")]
    pub code: Option<String>,
    /// …or instead one unused recovery code (it is spent).
    pub recovery_code: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub client: Client,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub last_used_at: String,
    /// Factors this session proved (RFC 8176).
    pub amr: Vec<String>,
    /// The session making this request.
    pub current: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

/// A remembered device: with the password, its `device_token` stands in
/// for the code until `expires_at`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub client: Client,
    /// Where the device was remembered from.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339, UTC; `null` until it first skips a code.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceList {
    pub items: Vec<DeviceView>,
}

/// Adding an authenticator: its name and a step-up (the current password
/// and, when 2FA is on, a current `code` from an existing authenticator or
/// a `recovery_code`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddAuthenticatorRequest {
    /// What to call it ("Work phone"): 1 to 64 characters.
    #[schema(example = "Work phone", min_length = 1, max_length = 64)]
    pub name: String,
    /// The current password.
    pub password: String,
    /// A current code from one of the user's authenticators (when 2FA is on).
    #[schema(example = "123456", pattern = "^ *([0-9] *){6}$")]
    pub code: Option<String>,
    /// Instead of `code`: one unused recovery code (it is spent).
    #[schema(example = "abcd-efgh-ijkl-mnop")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameAuthenticatorRequest {
    /// 1 to 64 characters.
    #[schema(example = "Old phone", min_length = 1, max_length = 64)]
    pub name: String,
}

/// One confirmed authenticator (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthenticatorView {
    pub id: String,
    pub name: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339, UTC: when its code last proved a login or a change.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
}

/// The user's confirmed authenticators, oldest first: a JSON array.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct AuthenticatorList(pub Vec<AuthenticatorView>);

/// A new authenticator waiting for its first code (`POST …/{id}/confirm`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PendingAuthenticatorResponse {
    pub id: String,
    pub name: String,
    /// What to put in the authenticator app, as enrollment shows it.
    #[serde(flatten)]
    pub enrollment: EnrollmentResponse,
}

/// A confirmed authenticator. When it was the user's first, 2FA is now on
/// and `recovery_codes` holds the recovery codes, shown once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmedAuthenticatorResponse {
    pub id: String,
    pub name: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}
