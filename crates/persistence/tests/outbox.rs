//! The outbox on this run's backend (SQLite, or PostgreSQL with
//! `AUTHGATE_TEST_DATABASE=postgres`): written with its audit event or not
//! at all, fanned out once, and claimed under leases that exclude other
//! dispatchers until they run out or are handed back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot go on should stop

use std::time::Duration;

use auth_core::{
    enrollment::EnrollmentSource,
    events::{Actor, SecurityEvent},
    ids::{OrganizationId, UserId},
    UnixTime,
};
use persistence::{
    outbox::{AttemptRecord, Channel, DeliveryState, NewDelivery},
    records::{NewAuditEvent, NewOrganization},
    DbConfig, SecretBox, Store, StoreError,
};

mod support;
use support::TestDb;

const T0: UnixTime = UnixTime::from_secs(1_700_000_000);

fn open(dir: &std::path::Path) -> (Store, TestDb) {
    let db = TestDb::new(dir);
    let store = Store::open(
        &DbConfig {
            url: db.url.clone(),
            pool_size: 4,
            pool_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        },
        SecretBox::new(&[3; 32]).unwrap(),
    )
    .unwrap();
    (store, db)
}

fn org(store: &Store) -> OrganizationId {
    let id = OrganizationId::from_stored(uuid::Uuid::new_v4().to_string());
    store
        .write(|tx| {
            tx.insert_organization(&NewOrganization {
                id: id.clone(),
                name: "Org".parse().unwrap(),
                created_at: T0,
            })
        })
        .unwrap();
    id
}

fn audit(tx: &mut persistence::Tx<'_>, org: &OrganizationId) -> Result<(), StoreError> {
    let user = UserId::from_stored("u1".into());
    tx.append_audit(&NewAuditEvent {
        organization_id: Some(org),
        actor: &Actor::User(user.clone()),
        target_user_id: Some(&user),
        event: &SecurityEvent::TwoFactorEnabled {
            source: EnrollmentSource::SelfService,
            authenticator: None,
        },
        ip: Some("203.0.113.9"),
        user_agent: Some("Firefox"),
        at: T0,
    })
}

/// Queues one event and fans it out into one email delivery.
fn queued_delivery(store: &Store) -> OrganizationId {
    let org = org(store);
    store.write(|tx| audit(tx, &org)).unwrap();
    store
        .write(|tx| {
            for e in tx.unfanned_events(10)? {
                tx.insert_delivery(&NewDelivery {
                    event: &e,
                    channel: Channel::Email,
                    target: "u1",
                    at: T0,
                })?;
                tx.mark_fanned_out(&e.id, T0)?;
            }
            Ok(())
        })
        .unwrap();
    org
}

#[test]
fn an_audit_event_is_queued_with_ids_and_facts_but_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    let org = org(&store);
    store.write(|tx| audit(tx, &org)).unwrap();
    let events = store.read(|tx| tx.outbox_events_of(org.as_str())).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.event_type, "two_factor.enabled");
    assert_eq!(e.user_id.as_deref(), Some("u1"));
    assert_eq!(e.payload["event_id"], e.id.as_str());
    assert_eq!(e.payload["ip"], "203.0.113.9");
    assert_eq!(e.payload["user_agent"], "Firefox");
    assert_eq!(e.payload["actor"]["type"], "user");
    assert_eq!(e.payload["details"]["source"], "self");
}

#[test]
fn a_rolled_back_change_leaves_no_outbox_row() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    let org = org(&store);
    let failed: Result<(), StoreError> = store.write(|tx| {
        audit(tx, &org)?;
        Err(StoreError::Corrupt(
            "the change failed after its event".into(),
        ))
    });
    assert!(failed.is_err());
    assert!(store
        .read(|tx| tx.outbox_events_of(org.as_str()))
        .unwrap()
        .is_empty());
    assert_eq!(store.read(|tx| tx.outbox_work(T0)).unwrap(), (false, false));
}

#[test]
fn a_fanned_out_event_is_not_fanned_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    queued_delivery(&store);
    assert!(store.write(|tx| tx.unfanned_events(10)).unwrap().is_empty());
    assert_eq!(store.read(|tx| tx.outbox_work(T0)).unwrap(), (false, true));
}

#[test]
fn a_claimed_delivery_is_nobody_elses_until_its_lease_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    queued_delivery(&store);
    let lease = T0.plus(Duration::from_secs(60));
    let a = store
        .write(|tx| tx.claim_deliveries("a", T0, lease, 10))
        .unwrap();
    assert_eq!(a.len(), 1);
    let b = store
        .write(|tx| tx.claim_deliveries("b", T0.plus(Duration::from_secs(59)), lease, 10))
        .unwrap();
    assert!(b.is_empty(), "held by a");

    // a died: once its lease ran out, b takes the same delivery.
    let later = T0.plus(Duration::from_secs(61));
    let b = store
        .write(|tx| tx.claim_deliveries("b", later, later.plus(Duration::from_secs(60)), 10))
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].id, a[0].id);
    assert_eq!(
        b[0].event_id, a[0].event_id,
        "the same event id, for deduplication"
    );

    // a's late outcome is not written over b's lease.
    let attempt = AttemptRecord {
        state: DeliveryState::Delivered,
        next_attempt_at: later,
        status: None,
        error: None,
        at: later,
    };
    assert!(!store
        .write(|tx| tx.record_attempt_outcome(&a[0].id, "a", &attempt))
        .unwrap());
    assert!(store
        .write(|tx| tx.record_attempt_outcome(&b[0].id, "b", &attempt))
        .unwrap());
    let done = store
        .read(|tx| tx.deliveries_to(Channel::Email, "u1", 10))
        .unwrap();
    assert_eq!(done[0].state, DeliveryState::Delivered);
    assert_eq!(done[0].attempts, 1);
    assert!(
        store
            .write(|tx| tx.claim_deliveries("c", later.plus(Duration::from_secs(3600)), lease, 10))
            .unwrap()
            .is_empty(),
        "delivered is final"
    );
}

#[test]
fn handed_back_leases_are_due_again_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    queued_delivery(&store);
    let lease = T0.plus(Duration::from_secs(60));
    assert_eq!(
        store
            .write(|tx| tx.claim_deliveries("a", T0, lease, 10))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.write(|tx| tx.release_leases("a")).unwrap(), 1);
    assert_eq!(
        store
            .write(|tx| tx.claim_deliveries("b", T0, lease, 10))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_failed_delivery_waits_for_its_next_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    queued_delivery(&store);
    let lease = T0.plus(Duration::from_secs(60));
    let d = store
        .write(|tx| tx.claim_deliveries("a", T0, lease, 10))
        .unwrap();
    let retry_at = T0.plus(Duration::from_secs(30));
    store
        .write(|tx| {
            tx.record_attempt_outcome(
                &d[0].id,
                "a",
                &AttemptRecord {
                    state: DeliveryState::Pending,
                    next_attempt_at: retry_at,
                    status: Some(500),
                    error: Some("HTTP 500"),
                    at: T0,
                },
            )
        })
        .unwrap();
    let early = T0.plus(Duration::from_secs(29));
    assert!(store
        .write(|tx| tx.claim_deliveries("a", early, lease, 10))
        .unwrap()
        .is_empty());
    let again = store
        .write(|tx| tx.claim_deliveries("a", retry_at, retry_at.plus(Duration::from_secs(60)), 10))
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].last_status, Some(500));
    let stats = store.read(|tx| tx.outbox_stats()).unwrap();
    assert_eq!((stats.depth, stats.pending, stats.delivered), (1, 1, 0));
    assert_eq!(stats.oldest_pending, Some(T0));
}

#[test]
fn concurrent_claimers_never_share_a_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    for _ in 0..20 {
        queued_delivery(&store);
    }
    let lease = T0.plus(Duration::from_secs(60));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .write(|tx| tx.claim_deliveries(&format!("w{i}"), T0, lease, 3))
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|d| d.id));
                }
            })
        })
        .collect();
    let mut all: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(n, 20, "every delivery claimed");
    assert_eq!(all.len(), 20, "none claimed twice");
}
