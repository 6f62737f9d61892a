//! Shapes shared by several resources.

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

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    Admin,
    Agent,
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
    /// The authenticator whose code this attempt used (its name then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticator: Option<AuthenticatorRefView>,
}

/// Which authenticator: its id and name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthenticatorRefView {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginHistoryPage {
    pub items: Vec<LoginEventView>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}
