//! Webhook endpoints of an organization, managed by its admins: create
//! (the secret is shown once), list, read, change, delete, rotate the
//! secret, queue a test event, and read recent delivery attempts.

use std::time::Duration;

use auth_core::{
    events::{subscribed_type, SecurityEvent},
    webhook_signature::WebhookSecret,
};
use persistence::{
    outbox::{Channel, DeliveryRecord},
    records::{RequestOrigin, UserRecord},
    webhooks::{EndpointChanges, EndpointRecord, NewEndpoint},
};
use rand_core::OsRng;

use super::{
    record::{record_for_organization, Context},
    refusal::{Missing, Refusal},
    ServiceError, Services,
};
use crate::egress::{self, EgressPolicy};

/// After a rotation the previous secret still signs for this long, so
/// receivers can switch without losing a delivery.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);
/// Endpoints per organization.
pub const MAX_ENDPOINTS: usize = 20;
const MAX_EVENTS: usize = 64;

pub struct NewEndpointInput {
    pub url: String,
    pub events: Vec<String>,
}

#[derive(Default)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// A new endpoint and its secret, shown this once.
pub struct CreatedEndpoint {
    pub endpoint: EndpointRecord,
    pub secret: WebhookSecret,
}

fn not_found() -> ServiceError {
    Refusal::NotFound(Missing::WebhookEndpoint).into()
}

/// Subscribed webhook types (or `*`), each once. An audit action name is
/// taken as an alias and stored as its webhook type, so endpoints set up
/// with the older names keep receiving the same events.
fn events(list: Vec<String>) -> Result<Vec<String>, Refusal> {
    if list.is_empty() || list.len() > MAX_EVENTS {
        return Err(Refusal::InvalidInput(format!(
            "events must list 1 to {MAX_EVENTS} event types (or \"*\")"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for e in list {
        let name = if e == "*" {
            e
        } else {
            subscribed_type(&e)
                .ok_or_else(|| {
                    Refusal::InvalidInput(format!(
                        "events: unknown event type {:?} (see the webhook types in the README, or use \"*\")",
                        e.chars().take(64).collect::<String>()
                    ))
                })?
                .to_owned()
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// An endpoint as shown: subscriptions stored before the webhook types
/// existed read as the types they stand for.
fn shown(mut e: EndpointRecord) -> EndpointRecord {
    let mut events: Vec<String> = Vec::with_capacity(e.events.len());
    for name in e.events {
        let name = subscribed_type(&name).map_or(name, str::to_owned);
        if !events.contains(&name) {
            events.push(name);
        }
    }
    e.events = events;
    e
}

/// A URL webhooks may call: parsed, resolved and judged now (and again
/// before every delivery).
fn url(raw: &str, policy: EgressPolicy) -> Result<String, Refusal> {
    let parsed = egress::parse(raw.trim(), policy).map_err(|e| match e {
        egress::EgressError::NotAUrl => Refusal::InvalidInput(e.to_string()),
        other => Refusal::UnsafeWebhookUrl(other.to_string()),
    })?;
    egress::vet_blocking(&parsed, policy).map_err(|e| Refusal::UnsafeWebhookUrl(e.to_string()))?;
    Ok(parsed.to_string())
}

impl Services {
    pub fn create_webhook(
        &self,
        admin: &UserRecord,
        input: NewEndpointInput,
        policy: EgressPolicy,
    ) -> Result<CreatedEndpoint, ServiceError> {
        let events = events(input.events)?;
        let url = url(&input.url, policy)?;
        let secret = WebhookSecret::generate(&mut OsRng);
        let id = uuid::Uuid::new_v4().to_string();
        let org = admin.organization_id.as_str();
        let at = self.clock.now();
        let endpoint = self.store.write(|tx| {
            if tx.endpoints(org)?.len() >= MAX_ENDPOINTS {
                return Ok(None);
            }
            tx.insert_endpoint(&NewEndpoint {
                id: &id,
                organization_id: org,
                url: &url,
                events: &events,
                secret: &secret,
                at,
            })
            .map(Some)
        })?;
        let endpoint = endpoint.map(shown).ok_or_else(|| {
            Refusal::InvalidInput(format!(
                "an organization may have at most {MAX_ENDPOINTS} webhook endpoints"
            ))
        })?;
        Ok(CreatedEndpoint { endpoint, secret })
    }

    pub fn list_webhooks(&self, admin: &UserRecord) -> Result<Vec<EndpointRecord>, ServiceError> {
        Ok(self
            .store
            .read(|tx| tx.endpoints(admin.organization_id.as_str()))?
            .into_iter()
            .map(shown)
            .collect())
    }

    pub fn get_webhook(
        &self,
        admin: &UserRecord,
        id: &str,
    ) -> Result<EndpointRecord, ServiceError> {
        self.store
            .read(|tx| tx.endpoint(admin.organization_id.as_str(), id))?
            .map(shown)
            .ok_or_else(not_found)
    }

    pub fn update_webhook(
        &self,
        admin: &UserRecord,
        id: &str,
        update: EndpointUpdate,
        policy: EgressPolicy,
    ) -> Result<EndpointRecord, ServiceError> {
        let changes = EndpointChanges {
            events: update.events.map(events).transpose()?,
            url: update.url.map(|u| url(&u, policy)).transpose()?,
            enabled: update.enabled,
        };
        let at = self.clock.now();
        self.store
            .write(|tx| tx.update_endpoint(admin.organization_id.as_str(), id, &changes, at))?
            .map(shown)
            .ok_or_else(not_found)
    }

    pub fn delete_webhook(&self, admin: &UserRecord, id: &str) -> Result<(), ServiceError> {
        if self
            .store
            .write(|tx| tx.delete_endpoint(admin.organization_id.as_str(), id))?
        {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// A new secret; the previous one keeps signing for [`ROTATION_OVERLAP`].
    pub fn rotate_webhook_secret(
        &self,
        admin: &UserRecord,
        id: &str,
    ) -> Result<WebhookSecret, ServiceError> {
        let secret = WebhookSecret::generate(&mut OsRng);
        let at = self.clock.now();
        let rotated = self.store.write(|tx| {
            tx.rotate_endpoint_secret(
                admin.organization_id.as_str(),
                id,
                &secret,
                at.plus(ROTATION_OVERLAP),
                at,
            )
        })?;
        if rotated {
            Ok(secret)
        } else {
            Err(not_found())
        }
    }

    /// Queues a `webhook.test` event for this endpoint alone; returns the
    /// event's id (its `webhook-id`).
    pub fn test_webhook(
        &self,
        admin: &UserRecord,
        id: &str,
        origin: &RequestOrigin,
    ) -> Result<String, ServiceError> {
        let ctx = Context::of_user(admin, origin, self.clock.now());
        let org = admin.organization_id.clone();
        let queued = self.store.write(|tx| {
            if tx.endpoint(org.as_str(), id)?.is_none() {
                return Ok(None);
            }
            record_for_organization(
                tx,
                &ctx,
                &org,
                SecurityEvent::WebhookTest {
                    endpoint_id: id.to_owned(),
                },
            )?;
            // The event just queued, in this transaction.
            Ok(tx.latest_event_for_endpoint(id)?.map(|e| e.id))
        })?;
        queued.ok_or_else(not_found)
    }

    /// Recent attempts to deliver to one endpoint, newest first.
    pub fn webhook_deliveries(
        &self,
        admin: &UserRecord,
        id: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, ServiceError> {
        let org = admin.organization_id.as_str();
        self.store
            .read(|tx| {
                if tx.endpoint(org, id)?.is_none() {
                    return Ok(None);
                }
                tx.deliveries_to(Channel::Webhook, id, limit).map(Some)
            })?
            .ok_or_else(not_found)
    }
}

#[cfg(test)]
mod tests {
    use auth_core::UnixTime;

    use super::*;

    #[test]
    fn subscriptions_stored_with_audit_names_show_as_webhook_types() {
        let stored = EndpointRecord {
            id: "e".into(),
            organization_id: "o".into(),
            url: "https://x.example".into(),
            events: vec![
                "two_factor.locked".into(),
                "account.locked".into(),
                "user.password_changed".into(),
            ],
            enabled: true,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
            created_at: UnixTime::from_secs(0),
            updated_at: UnixTime::from_secs(0),
        };
        assert_eq!(shown(stored).events, ["account.locked", "password.changed"]);
    }

    #[test]
    fn new_subscriptions_are_normalised_and_unknown_names_refused() {
        let ok = events(vec!["two_factor.enforced".into(), "*".into()]).ok();
        assert_eq!(ok, Some(vec!["two_factor.required".into(), "*".into()]));
        assert!(events(vec!["two_factor.exploded".into()]).is_err());
    }
}
