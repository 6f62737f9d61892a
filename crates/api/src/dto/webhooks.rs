//! `/v1/organization/webhooks`: endpoints, their secrets (shown once) and
//! their delivery attempts.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where to POST events: `https://…` (`http://` only outside
    /// production). Must not resolve to a loopback, private, link-local or
    /// metadata address unless `AUTHGATE_WEBHOOK_ALLOW_PRIVATE=true`.
    pub url: String,
    /// Webhook types to receive (such as `two_factor.enabled`,
    /// `account.locked`, `password.changed`; the list is in the README), or
    /// `["*"]` for all. Audit action names (`two_factor.locked`, …) are
    /// accepted as aliases and stored as their webhook types.
    pub events: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    /// Replaces the subscribed webhook types (audit names accepted as
    /// aliases, as on creation).
    pub events: Option<Vec<String>>,
    /// Turn the endpoint off or (back) on; on again restarts its failure clock.
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// False once disabled by an admin or after failing for
    /// `AUTHGATE_WEBHOOK_DISABLE_AFTER_DAYS`.
    pub enabled: bool,
    /// Since when every delivery failed (RFC 3339); null while healthy.
    pub failing_since: Option<String>,
    /// While disabled: when it was turned off (RFC 3339).
    pub disabled_at: Option<String>,
    /// While disabled: `admin` (turned off with PATCH) or `failing` (every
    /// delivery failed for `AUTHGATE_WEBHOOK_DISABLE_AFTER_DAYS`; the
    /// organization's admins were emailed).
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A new endpoint. `secret` (`whsec_…`, Standard Webhooks) is shown here
/// only: store it in the receiver to verify `webhook-signature`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub enabled: bool,
    pub created_at: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

/// The new secret, shown once. The previous one keeps signing (a second
/// signature in `webhook-signature`) until `previous_secret_expires_at`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RotatedWebhookSecret {
    pub id: String,
    pub secret: String,
    pub previous_secret_expires_at: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct WebhookTestQueued {
    /// The `webhook-id` the test delivery will carry.
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    /// The `webhook-id`: the same on every attempt.
    pub event_id: String,
    /// The webhook type, as in the payload's `type`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending` (will be tried, again), `delivered`, or `dead` (given up
    /// after `AUTHGATE_OUTBOX_MAX_AGE_SECS`).
    pub state: String,
    pub attempts: i32,
    /// The receiver's last HTTP status, if it answered.
    pub status_code: Option<i32>,
    /// A short excerpt of the last error or answer.
    pub error: Option<String>,
    pub created_at: String,
    pub last_attempt_at: Option<String>,
    /// While pending: when the next attempt is due.
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Items, 1 to 100 (default 20), newest first.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}
