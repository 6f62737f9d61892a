//! Turning a queued event into deliveries: an email to the person it is
//! about (for the events people are told about), and one webhook call per
//! subscribed endpoint of the event's organization, and of no other.

use auth_core::{
    events::{subscribed_type, webhook_type, NOTIFIED_ACTIONS},
    UnixTime,
};
use persistence::{
    outbox::{Channel, NewDelivery, OutboxEvent},
    webhooks::EndpointRecord,
    StoreError, Tx,
};

/// Events fanned out per transaction.
const BATCH: i64 = 100;

/// Whether an endpoint subscribed to the webhook type of `action` (`*`
/// subscribes to all). Entries are read through [`subscribed_type`], so an
/// audit action name stored before the webhook types existed still counts.
pub fn subscribes(endpoint: &EndpointRecord, action: &str) -> bool {
    let wanted = webhook_type(action);
    endpoint
        .events
        .iter()
        .any(|e| e == "*" || (wanted.is_some() && subscribed_type(e) == wanted))
}

/// The recipients of one event.
pub fn targets(event: &OutboxEvent, endpoints: &[EndpointRecord]) -> Vec<(Channel, String)> {
    let mut out = Vec::new();
    if let Some(user) = &event.user_id {
        if NOTIFIED_ACTIONS.contains(&event.event_type.as_str()) {
            out.push((Channel::Email, user.clone()));
        }
    }
    for e in endpoints {
        // The endpoints passed are the event's organization's; a test
        // event goes to the endpoint it names, subscribed or not.
        let wanted = match &event.endpoint_id {
            Some(only) => *only == e.id,
            None => e.enabled && subscribes(e, &event.event_type),
        };
        if wanted {
            out.push((Channel::Webhook, e.id.clone()));
        }
    }
    out
}

/// Fans out a batch of events in the caller's transaction; on PostgreSQL
/// other instances skip the rows this one holds. Returns how many.
pub fn fan_out(tx: &mut Tx<'_>, now: UnixTime) -> Result<usize, StoreError> {
    let events = tx.unfanned_events(BATCH)?;
    for event in &events {
        let endpoints = match &event.organization_id {
            Some(org) => tx.endpoints(org)?,
            None => Vec::new(),
        };
        for (channel, target) in targets(event, &endpoints) {
            tx.insert_delivery(&NewDelivery {
                event,
                channel,
                target: &target,
                at: now,
            })?;
        }
        tx.mark_fanned_out(&event.id, now)?;
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, endpoint: Option<&str>) -> OutboxEvent {
        OutboxEvent {
            id: "ev".into(),
            organization_id: Some("org".into()),
            user_id: Some("u1".into()),
            event_type: action.into(),
            payload: serde_json::json!({}),
            endpoint_id: endpoint.map(Into::into),
            created_at: UnixTime::from_secs(1),
        }
    }

    fn endpoint(id: &str, events: &[&str], enabled: bool) -> EndpointRecord {
        EndpointRecord {
            id: id.into(),
            organization_id: "org".into(),
            url: "https://x.example".into(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            enabled,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
            created_at: UnixTime::from_secs(0),
            updated_at: UnixTime::from_secs(0),
        }
    }

    #[test]
    fn the_user_is_mailed_and_subscribed_enabled_endpoints_are_called() {
        let eps = [
            endpoint("a", &["two_factor.enabled"], true),
            endpoint("b", &["*"], true),
            endpoint("c", &["two_factor.disabled"], true),
            endpoint("d", &["*"], false),
        ];
        let t = targets(&event("two_factor.enabled", None), &eps);
        assert_eq!(
            t,
            [
                (Channel::Email, "u1".to_owned()),
                (Channel::Webhook, "a".to_owned()),
                (Channel::Webhook, "b".to_owned())
            ]
        );
    }

    #[test]
    fn endpoints_subscribe_by_webhook_type_or_by_its_older_audit_name() {
        let eps = [
            endpoint("new", &["account.locked"], true),
            endpoint("old", &["two_factor.locked"], true),
            endpoint("other", &["two_factor.enabled"], true),
        ];
        let t = targets(&event("two_factor.locked", None), &eps);
        assert_eq!(
            t,
            [
                (Channel::Email, "u1".to_owned()),
                (Channel::Webhook, "new".to_owned()),
                (Channel::Webhook, "old".to_owned())
            ]
        );
        let reset = [endpoint("r", &["two_factor.reset"], true)];
        assert_eq!(
            targets(&event("support.two_factor_reset", None), &reset),
            [
                (Channel::Email, "u1".to_owned()),
                (Channel::Webhook, "r".to_owned())
            ],
            "a reset by support is a two_factor.reset too"
        );
    }

    #[test]
    fn events_not_in_the_notification_list_are_not_mailed() {
        let t = targets(&event("two_factor.enrollment_started", None), &[]);
        assert!(t.is_empty());
    }

    #[test]
    fn a_test_event_goes_only_to_its_endpoint() {
        let eps = [endpoint("a", &["*"], true), endpoint("b", &[], true)];
        let t = targets(&event("webhook.test", Some("b")), &eps);
        assert_eq!(t, [(Channel::Webhook, "b".to_owned())]);
    }
}
