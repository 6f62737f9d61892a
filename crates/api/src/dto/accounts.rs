//! Password resets and invitations.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(format = Email)]
    pub email: String,
}

/// Set a new password with the token from a reset or invitation email.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirmRequest {
    /// The `pr_…` token from the email.
    pub token: String,
    #[schema(min_length = 8)]
    pub new_password: String,
    /// When the account has 2FA: a current 6-digit code…
    #[schema(pattern = r"^\d{6}$")]
    pub code: Option<String>,
    /// …or one of its recovery codes.
    pub recovery_code: Option<String>,
}

/// A mail is on its way (or, for a forgotten password, is on its way if
/// the address has an account: the answer is the same either way).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MailAccepted {
    pub message: String,
}
