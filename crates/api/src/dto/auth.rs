//! The login flow (`/v1/auth/*`).

#[allow(unused_imports)]
use super::common::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "ana@example.com", format = Email)]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    /// Which client logs in; recorded in the login history. Default `api`.
    pub client: Option<Client>,
    /// A `device_token` this device got with "remember this device": with
    /// the right password it stands in for the code (`amr`
    /// `["pwd","device"]`). An unknown, expired or forgotten one is
    /// ignored: the login asks for the code as usual.
    #[schema(example = "dt_3q2-7wEvQmF1n0ZpX4c9sT6uYbKjHdLaGeRoNiMcV8k")]
    pub device_token: Option<String>,
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
    /// Authentication methods proven (RFC 8176): `["pwd"]`, `["pwd","otp"]`,
    /// or `["pwd","device"]` (a remembered device stood in for the code).
    pub amr: Vec<String>,
    /// During an organization's grace period: when 2FA becomes mandatory
    /// for this user (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_factor_enrollment_deadline: Option<String>,
    /// Only when this response turned 2FA on: the recovery codes, shown
    /// once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
    /// Only when the code step asked `remember_device` and the
    /// organization allows it: send it as `device_token` at later logins
    /// of this account from this device. Keep it like a refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
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
    /// "Remember this device": the answer carries a `device_token` that
    /// skips the code at later logins (30 days at most; the organization
    /// may shorten it or turn it off). Default `false`.
    pub remember_device: Option<bool>,
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
