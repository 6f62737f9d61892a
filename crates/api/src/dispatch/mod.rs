//! The outbox dispatcher: started with the server, it fans queued events
//! out into deliveries and delivers them (email, webhooks), off the
//! request path: no request ever waits on the network.
//!
//! Delivery is at least once. Each round claims due deliveries under a
//! lease (`AUTHGATE_OUTBOX_LEASE_SECS`), tries them, and records each
//! outcome; a failure is retried with exponential backoff and jitter until
//! the maximum age, after which the delivery is dead (kept, visible in
//! `GET /v1/organization/webhooks/{id}/deliveries`). If the process dies
//! mid-delivery the lease runs out and any instance delivers again, with
//! the same event id. A graceful stop finishes the round in flight and
//! hands back its leases.

pub mod fanout;
pub mod webhook;

use std::sync::Arc;

use auth_core::{
    delivery::{should_disable_endpoint, NextStep},
    identity::Role,
    ids::{OrganizationId, UserId},
    UnixTime,
};
use persistence::outbox::{AttemptRecord, Channel, DeliveryRecord, DeliveryState};
use rand_core::RngCore;

use crate::{
    config::OutboxSettings,
    egress::EgressPolicy,
    notify::{templates, Mail, Mailer},
    service::Services,
};

/// Deliveries claimed per round.
const BATCH: i64 = 32;

/// What one attempt came to.
#[derive(Clone, Debug)]
pub struct Attempt {
    outcome: Outcome,
    status: Option<i32>,
    error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// Try again later.
    Failed,
    /// Never deliverable (the recipient is gone): dead at once.
    Abandoned,
}

impl Attempt {
    fn delivered(status: Option<i32>) -> Self {
        Self {
            outcome: Outcome::Delivered,
            status,
            error: None,
        }
    }

    fn failed(status: Option<i32>, error: &str) -> Self {
        Self {
            outcome: Outcome::Failed,
            status,
            error: Some(webhook::excerpt(error)),
        }
    }

    fn abandoned(error: &str) -> Self {
        Self {
            outcome: Outcome::Abandoned,
            status: None,
            error: Some(error.to_owned()),
        }
    }
}

pub struct Dispatcher {
    services: Arc<Services>,
    mailer: Mailer,
    egress: EgressPolicy,
    settings: OutboxSettings,
    /// This process's name on the leases it takes.
    owner: String,
}

/// Stops the dispatcher: finishes the round in flight, hands back leases.
pub struct DispatcherHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl DispatcherHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// A number in `[0, 1)` for spreading retries.
fn jitter() -> f64 {
    f64::from(rand_core::OsRng.next_u32()) / (f64::from(u32::MAX) + 1.0)
}

async fn blocking<T: Send + 'static>(
    services: &Arc<Services>,
    f: impl FnOnce(&Services) -> Result<T, persistence::StoreError> + Send + 'static,
) -> Result<T, persistence::StoreError> {
    let s = services.clone();
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .unwrap_or_else(|_| {
            Err(persistence::StoreError::Unavailable(
                "worker panicked".into(),
            ))
        })
}

impl Dispatcher {
    pub fn new(
        services: Arc<Services>,
        mailer: Mailer,
        egress: EgressPolicy,
        settings: OutboxSettings,
    ) -> Self {
        Self {
            services,
            mailer,
            egress,
            settings,
            owner: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// Runs on the current Tokio runtime until the handle stops it.
    pub fn start(self) -> DispatcherHandle {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let this = Arc::new(self);
        let task = tokio::spawn(async move {
            loop {
                if *stopped.borrow() {
                    break;
                }
                let busy = match this.round().await {
                    Ok(n) => n > 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox round failed; retrying");
                        false
                    }
                };
                if !busy {
                    tokio::select! {
                        _ = stopped.changed() => {}
                        () = tokio::time::sleep(this.settings.poll_interval) => {}
                    }
                }
            }
            let owner = this.owner.clone();
            if let Err(e) = blocking(&this.services, move |s| {
                s.store.write(|tx| tx.release_leases(&owner))
            })
            .await
            {
                tracing::warn!(error = %e, "could not hand back outbox leases; they expire on their own");
            }
        });
        DispatcherHandle { stop, task }
    }

    /// One round: fan out, claim, deliver. Returns the work done.
    pub async fn round(self: &Arc<Self>) -> Result<usize, persistence::StoreError> {
        let now = self.services.clock.now();
        let (unfanned, due) = blocking(&self.services, move |s| {
            s.store.query(|tx| tx.outbox_work(now))
        })
        .await?;
        let mut work = 0;
        if unfanned {
            work += blocking(&self.services, move |s| {
                s.store.write(|tx| fanout::fan_out(tx, now))
            })
            .await?;
        }
        if !(due || unfanned) {
            return Ok(work);
        }
        let owner = self.owner.clone();
        let lease_until = self.settings.retry.lease_until(now);
        let claimed = blocking(&self.services, move |s| {
            s.store
                .write(|tx| tx.claim_deliveries(&owner, now, lease_until, BATCH))
        })
        .await?;
        work += claimed.len();
        let mut set = tokio::task::JoinSet::new();
        for d in claimed {
            let this = self.clone();
            set.spawn(async move { this.deliver(d).await });
        }
        while let Some(done) = set.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::warn!(error = %e, "recording a delivery failed; it is retried when its lease ends");
            }
        }
        Ok(work)
    }

    async fn deliver(self: Arc<Self>, d: DeliveryRecord) -> Result<(), persistence::StoreError> {
        let attempt = match d.channel {
            Channel::Email => self.email(&d).await?,
            Channel::Webhook => self.webhook(&d).await?,
        };
        let now = self.services.clock.now();
        let failures = u32::try_from(d.attempts).unwrap_or(0).saturating_add(1);
        let (state, next) = match attempt.outcome {
            Outcome::Delivered => (DeliveryState::Delivered, now),
            Outcome::Abandoned => (DeliveryState::Dead, now),
            Outcome::Failed => {
                match self.settings.retry.after_attempt(
                    false,
                    d.created_at,
                    now,
                    failures,
                    jitter(),
                ) {
                    NextStep::RetryAt(at) => (DeliveryState::Pending, at),
                    NextStep::Dead | NextStep::Delivered => (DeliveryState::Dead, now),
                }
            }
        };
        match state {
            DeliveryState::Delivered => {
                tracing::info!(delivery = %d.id, event = %d.event_id, channel = d.channel.as_str(), "delivered");
            }
            DeliveryState::Pending => {
                tracing::info!(delivery = %d.id, event = %d.event_id, channel = d.channel.as_str(), error = attempt.error.as_deref().unwrap_or(""), "delivery failed; will retry");
            }
            DeliveryState::Dead => {
                tracing::warn!(delivery = %d.id, event = %d.event_id, channel = d.channel.as_str(), error = attempt.error.as_deref().unwrap_or(""), "delivery given up");
            }
        }
        let owner = self.owner.clone();
        let id = d.id.clone();
        let error = attempt.error.clone();
        blocking(&self.services, move |s| {
            s.store.write(|tx| {
                tx.record_attempt_outcome(
                    &id,
                    &owner,
                    &AttemptRecord {
                        state,
                        next_attempt_at: next,
                        status: attempt.status,
                        error: error.as_deref(),
                        at: now,
                    },
                )
            })
        })
        .await?;
        if d.channel == Channel::Webhook && attempt.outcome != Outcome::Abandoned {
            self.track_endpoint(&d.target, attempt.outcome == Outcome::Delivered, now)
                .await?;
        }
        Ok(())
    }

    async fn email(&self, d: &DeliveryRecord) -> Result<Attempt, persistence::StoreError> {
        let event_id = d.event_id.clone();
        let user_id = UserId::from_stored(d.target.clone());
        let (event, user) = blocking(&self.services, move |s| {
            s.store
                .read(|tx| Ok((tx.outbox_event(&event_id)?, tx.user_by_id(&user_id)?)))
        })
        .await?;
        let (Some(event), Some(user)) = (event, user) else {
            return Ok(Attempt::abandoned("the recipient no longer exists"));
        };
        let Some(rendered) = templates::render(&event.event_type, &event.payload) else {
            return Ok(Attempt::abandoned("no email for this event"));
        };
        let mail = Mail {
            to: user.email.as_str().to_owned(),
            subject: rendered.subject,
            text: rendered.text,
            message_id: Some(event.id.clone()),
        };
        Ok(match self.mailer.send(&mail).await {
            Ok(()) => Attempt::delivered(None),
            Err(e) => Attempt::failed(None, &e.to_string()),
        })
    }

    async fn webhook(&self, d: &DeliveryRecord) -> Result<Attempt, persistence::StoreError> {
        let event_id = d.event_id.clone();
        let endpoint_id = d.target.clone();
        let now = self.services.clock.now();
        let (event, endpoint) = blocking(&self.services, move |s| {
            s.store.read(|tx| {
                Ok((
                    tx.outbox_event(&event_id)?,
                    tx.signing_endpoint(&endpoint_id, now)?,
                ))
            })
        })
        .await?;
        let (Some(event), Some(endpoint)) = (event, endpoint) else {
            return Ok(Attempt::abandoned("the endpoint was deleted"));
        };
        if !endpoint.endpoint.enabled && event.endpoint_id.is_none() {
            return Ok(Attempt::abandoned("the endpoint is disabled"));
        }
        Ok(webhook::send(
            &endpoint,
            &event,
            now.as_secs(),
            self.egress,
            self.settings.webhook_timeout,
        )
        .await)
    }

    /// Keeps an endpoint's failure clock; one failing for the whole
    /// `AUTHGATE_WEBHOOK_DISABLE_AFTER_DAYS` is disabled and its
    /// organization's admins are emailed.
    async fn track_endpoint(
        &self,
        endpoint_id: &str,
        succeeded: bool,
        now: UnixTime,
    ) -> Result<(), persistence::StoreError> {
        let id = endpoint_id.to_owned();
        let disable_after = self.settings.webhook_disable_after;
        let disabled = blocking(&self.services, move |s| {
            s.store.write(|tx| {
                tx.note_endpoint_result(&id, succeeded, now)?;
                let Some(e) = tx.signing_endpoint(&id, now)?.map(|e| e.endpoint) else {
                    return Ok(None);
                };
                if e.enabled
                    && should_disable_endpoint(e.failing_since, now, disable_after)
                    && tx.disable_endpoint(&id, now)?
                {
                    let org = OrganizationId::from_stored(e.organization_id.clone());
                    let (users, _) = tx.users_of_organization(&org, 0, 1000)?;
                    let admins: Vec<String> = users
                        .into_iter()
                        .filter(|u| u.role == Role::Admin && !u.disabled)
                        .map(|u| u.email.as_str().to_owned())
                        .collect();
                    return Ok(Some((e.url, admins)));
                }
                Ok(None)
            })
        })
        .await?;
        if let Some((url, admins)) = disabled {
            tracing::warn!(
                endpoint = endpoint_id,
                "webhook endpoint disabled after failing too long"
            );
            let days = disable_after.as_secs() / 86400;
            let rendered = templates::endpoint_disabled(&url, days);
            for to in admins {
                let mail = Mail {
                    to,
                    subject: rendered.subject.clone(),
                    text: rendered.text.clone(),
                    message_id: None,
                };
                if let Err(e) = self.mailer.send(&mail).await {
                    tracing::warn!(error = %e, "could not tell an admin about a disabled endpoint");
                }
            }
        }
        Ok(())
    }
}
