//! One webhook call, signed per Standard Webhooks: headers `webhook-id`
//! (the event id, the same on every retry and from every instance),
//! `webhook-timestamp` and `webhook-signature`; body `{type, timestamp,
//! data}`. Redirects are not followed, timeouts are short, and of the
//! answer only the status and a short excerpt are kept.

use std::time::Duration;

use auth_core::{events::webhook_type, webhook_signature::signature_header};
use persistence::{outbox::OutboxEvent, webhooks::SigningEndpoint};

use super::Attempt;
use crate::egress::{self, EgressPolicy};

/// The most of a receiver's answer (or of an error) ever kept.
pub const EXCERPT_CHARS: usize = 256;

pub fn excerpt(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(EXCERPT_CHARS)
        .collect()
}

/// The JSON body: the same bytes on every attempt. `type` is the webhook
/// type of the stored audit action (`two_factor.locked` is sent as
/// `account.locked`).
pub fn body(event: &OutboxEvent) -> String {
    let timestamp = chrono::DateTime::from_timestamp_millis(event.created_at.as_millis())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    serde_json::json!({
        "type": webhook_type(&event.event_type).unwrap_or(&event.event_type),
        "timestamp": timestamp,
        "data": event.payload,
    })
    .to_string()
}

pub async fn send(
    endpoint: &SigningEndpoint,
    event: &OutboxEvent,
    now_secs: i64,
    policy: EgressPolicy,
    timeout: Duration,
) -> Attempt {
    let url = match egress::parse(&endpoint.endpoint.url, policy) {
        Ok(u) => u,
        Err(e) => return Attempt::failed(None, &e.to_string()),
    };
    // Connect to the address that was vetted, not to a fresh lookup.
    let addr = match egress::vet(&url, policy).await {
        Ok(a) => a,
        Err(e) => return Attempt::failed(None, &e.to_string()),
    };
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("Authgate-Webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some(url::Host::Domain(domain)) = url.host() {
        builder = builder.resolve(domain, addr);
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return Attempt::failed(None, &format!("cannot build the client: {e}")),
    };
    let body = body(event);
    let mut secrets = vec![&endpoint.secret];
    if let Some(previous) = &endpoint.previous {
        secrets.push(previous);
    }
    let signature = signature_header(&secrets, &event.id, now_secs, body.as_bytes());
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", now_secs.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let mut res = match sent {
        Ok(r) => r,
        Err(e) => {
            let what = if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "connection failed".to_owned()
            } else {
                e.without_url().to_string()
            };
            return Attempt::failed(None, &what);
        }
    };
    let status = res.status();
    // Read at most a little of the answer: enough to show what went wrong.
    let mut head = Vec::new();
    while head.len() < EXCERPT_CHARS * 4 {
        match res.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = excerpt(&String::from_utf8_lossy(&head));
    if status.is_success() {
        Attempt::delivered(Some(i32::from(status.as_u16())))
    } else {
        let msg = if text.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            text
        };
        Attempt::failed(Some(i32::from(status.as_u16())), &msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_single_line() {
        let long = format!("line1\r\nline2{}", "x".repeat(1000));
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS);
        assert!(!e.contains('\n'));
    }

    #[test]
    fn the_body_is_type_timestamp_and_data() {
        let event = OutboxEvent {
            id: "e".into(),
            organization_id: None,
            user_id: None,
            event_type: "two_factor.enabled".into(),
            payload: serde_json::json!({"user_id": "u1"}),
            endpoint_id: None,
            created_at: auth_core::UnixTime::from_millis(1_764_525_600_123),
        };
        let v: serde_json::Value = serde_json::from_str(&body(&event)).unwrap();
        assert_eq!(v["type"], "two_factor.enabled");
        assert_eq!(v["timestamp"], "2025-11-30T18:00:00.123Z");
        assert_eq!(v["data"]["user_id"], "u1");
        let locked = OutboxEvent {
            event_type: "two_factor.locked".into(),
            ..event
        };
        let v: serde_json::Value = serde_json::from_str(&body(&locked)).unwrap();
        assert_eq!(
            v["type"], "account.locked",
            "the webhook type, not the audit name"
        );
    }
}
