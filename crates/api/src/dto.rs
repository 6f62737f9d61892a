//! Request and response bodies: the API's JSON contract, documented in the
//! OpenAPI spec. Parsing into domain types happens in the service layer.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    Web,
    Mobile,
    Extension,
    Api,
}

impl From<Client> for auth_core::identity::ClientKind {
    fn from(c: Client) -> Self {
        use auth_core::identity::ClientKind as K;
        match c {
            Client::Web => K::Web,
            Client::Mobile => K::Mobile,
            Client::Extension => K::Extension,
            Client::Api => K::Api,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "ana@example.com", format = Email)]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    /// Which client logs in; recorded in the login history. Default `api`.
    pub client: Option<Client>,
}

/// Tokens issued once every required factor is proven.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// EdDSA-signed JWT (RFC 9068), at most 15 minutes.
    pub access_token: String,
    /// Opaque; exchange at `/v1/auth/refresh`. Rotates on every use.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Authentication methods proven (RFC 8176): `["pwd"]` or `["pwd","otp"]`.
    pub amr: Vec<String>,
    /// During an organization's grace period: when 2FA becomes mandatory
    /// for this user (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_factor_enrollment_deadline: Option<String>,
    /// Only when this response turned 2FA on: the recovery codes, shown
    /// once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// A second step is needed; no token has been issued.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChallengeResponse {
    /// Opaque; valid for this login's next step only.
    pub challenge_token: String,
    /// Seconds until the challenge expires.
    pub expires_in: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginResponse {
    /// Password accepted and nothing more is required.
    Authenticated(TokenResponse),
    /// The account has 2FA: send a code to `/v1/auth/otp`.
    OtpRequired(ChallengeResponse),
    /// 2FA is required but not set up: enroll through `/v1/auth/enrollment`.
    EnrollmentRequired(ChallengeResponse),
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AuthenticatedResponse {
    Authenticated(TokenResponse),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpRequest {
    pub challenge_token: String,
    /// Six digits from the authenticator app; spaces are ignored.
    #[schema(example = "123 456", pattern = "^ *([0-9] *){6}$")]
    pub code: Option<String>,
    /// Instead of `code`: one of the recovery codes (`xxxx-xxxx-xxxx-xxxx`,
    /// any case, dashes and spaces optional).
    #[schema(pattern = "^[ -]*([a-zA-Z2-7][ -]*){16}$")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentConfirmRequest {
    pub challenge_token: String,
    /// Six digits from the authenticator app; spaces are ignored.
    #[schema(example = "123456", pattern = "^ *([0-9] *){6}$")]
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    pub challenge_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    #[schema(example = "123456", pattern = "^ *([0-9] *){6}$")]
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub password: String,
}

/// What to put in an authenticator app.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentResponse {
    /// Base32 (RFC 4648, no padding), for typing in by hand.
    pub secret: String,
    /// Key Uri Format; the QR codes encode exactly this.
    pub otpauth_uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
    /// The QR code as `data:image/png;base64,…`.
    pub qr_png: String,
    /// Seconds left to confirm with a code.
    pub expires_in: u64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TwoFactorStatusDto {
    Disabled,
    Pending,
    Enabled,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EnforcedByDto {
    Admin,
    Organization,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorView {
    pub status: TwoFactorStatusDto,
    /// Whether someone other than the user requires 2FA of them.
    pub enforced: bool,
    pub enforced_by: Option<EnforcedByDto>,
    /// During an organization grace period: the deadline to enroll (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_deadline: Option<String>,
    /// Unused recovery codes left, while 2FA is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes_remaining: Option<i64>,
    /// Only in the response that turned 2FA on: the recovery codes, shown
    /// once. Each works once instead of a code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationRef {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    Admin,
    Agent,
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_before`.
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginEventView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub outcome: String,
    pub client: Option<Client>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginHistoryPage {
    pub items: Vec<LoginEventView>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: String,
}

/// JSON Web Key Set (RFC 7517) of the access-token signing keys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: RoleDto,
    pub disabled: bool,
    /// Two-factor sign-in is locked after too many wrong codes.
    pub locked: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub two_factor: TwoFactorView,
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
    /// At least 8 characters. When absent, a one-time password is
    /// generated and returned once.
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
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    pub two_factor_policy: Option<TwoFactorPolicyDto>,
    /// 0 to 720.
    #[schema(minimum = 0, maximum = 720)]
    pub grace_period_hours: Option<u32>,
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
