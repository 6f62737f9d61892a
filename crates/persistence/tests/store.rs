//! The store against a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot go on should stop

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use auth_core::{
    drift::Drift,
    enrollment::{Accepted, EnabledFactor, EnrollmentSource, PendingEnrollment},
    identity::Role,
    ids::{FactorId, OrganizationId, UserId},
    password::PasswordHash,
    totp::{Algorithm, TimeStep, TotpSecret},
    UnixTime,
};
use persistence::{
    records::{NewOrganization, NewUser},
    DatabaseUrl, DbConfig, NewFactor, SecretBox, Store, StoreError,
};

const T0: UnixTime = UnixTime::from_secs(1_700_000_000);

mod support;
use support::TestDb;

fn config(url: DatabaseUrl) -> DbConfig {
    DbConfig {
        url,
        pool_size: 8,
        pool_timeout: Duration::from_secs(5),
        busy_timeout: Duration::from_secs(5),
    }
}

/// A store on this run's backend (see `support`), with its guard.
fn open(dir: &std::path::Path) -> (Store, TestDb) {
    let db = TestDb::new(dir);
    let store = Store::open(&config(db.url.clone()), SecretBox::new(&[3; 32]).unwrap()).unwrap();
    (store, db)
}

fn seed_user(store: &Store, email: &str) -> UserId {
    let org = NewOrganization {
        id: OrganizationId::from_stored(uuid::Uuid::new_v4().to_string()),
        name: "Org".parse().unwrap(),
        created_at: T0,
    };
    let user = NewUser {
        id: UserId::from_stored(uuid::Uuid::new_v4().to_string()),
        organization_id: org.id.clone(),
        email: email.parse().unwrap(),
        name: "U".parse().unwrap(),
        role: Role::Agent,
        password_hash: PasswordHash::from_stored(
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA".into(),
        ),
        two_factor_required: false,
        created_at: T0,
    };
    store
        .write(|tx| {
            tx.insert_organization(&org)?;
            tx.insert_user(&user)
        })
        .unwrap();
    user.id
}

fn enable(store: &Store, user: &UserId, secret: TotpSecret) -> FactorId {
    let pending = PendingEnrollment {
        secret: secret.clone(),
        started_at: T0,
    };
    let id = FactorId::from_stored(uuid::Uuid::new_v4().to_string());
    store
        .write(|tx| {
            tx.save_pending_factor(&NewFactor {
                id: &id,
                user_id: user,
                name: &"Phone".parse().unwrap(),
                pending: &pending,
                algorithm: Algorithm::Sha1,
            })?;
            let ok = tx.enable_factor(
                &id,
                T0,
                &EnabledFactor {
                    secret,
                    enabled_at: T0,
                    last_used_step: None,
                    drift: Drift::NONE,
                    source: EnrollmentSource::SelfService,
                },
            )?;
            assert!(ok);
            Ok(())
        })
        .unwrap();
    id
}

fn step(n: i64) -> Accepted {
    Accepted {
        step: TimeStep(n),
        drift: Drift::from_sixteenths(n % 7),
    }
}

#[test]
fn of_concurrent_submissions_of_one_step_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    let user = seed_user(&store, "a@b.c");
    let factor = enable(&store, &user, TotpSecret::from_bytes(vec![1; 20]).unwrap());
    let threads = 16;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (store, factor, barrier) = (store.clone(), factor.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store
                    .write(|tx| tx.record_totp_step(&factor, &step(100), T0))
                    .unwrap()
            })
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);
    // An older step is refused too, a newer one accepted.
    assert!(!store
        .write(|tx| tx.record_totp_step(&factor, &step(99), T0))
        .unwrap());
    assert!(store
        .write(|tx| tx.record_totp_step(&factor, &step(101), T0))
        .unwrap());
    // The drift learned with the accepted step is kept with it.
    let ring = store.read(|tx| tx.keyring(&user)).unwrap();
    assert_eq!(ring.confirmed[0].factor.last_used_step, Some(TimeStep(101)));
    assert_eq!(ring.confirmed[0].factor.drift, step(101).drift);
}

#[test]
fn a_user_holds_several_authenticators_and_each_is_removed_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    let user = seed_user(&store, "a@b.c");
    let other = seed_user(&store, "x@y.z");
    let first = enable(&store, &user, TotpSecret::from_bytes(vec![1; 20]).unwrap());
    let second = enable(&store, &user, TotpSecret::from_bytes(vec![2; 20]).unwrap());
    let ring = store.read(|tx| tx.keyring(&user)).unwrap();
    assert_eq!(ring.confirmed.len(), 2);
    assert_eq!(store.read(|tx| tx.authenticator_count(&user)).unwrap(), 2);
    // Another user can neither rename nor remove them.
    assert!(!store
        .write(|tx| tx.delete_authenticator(&other, &first))
        .unwrap());
    assert!(!store
        .write(|tx| tx.rename_authenticator(&other, &first, &"Mine".parse().unwrap()))
        .unwrap());
    assert!(store
        .write(|tx| tx.rename_authenticator(&user, &second, &"Backup".parse().unwrap()))
        .unwrap());
    assert!(store
        .write(|tx| tx.delete_authenticator(&user, &first))
        .unwrap());
    let ring = store.read(|tx| tx.keyring(&user)).unwrap();
    assert_eq!(ring.confirmed.len(), 1);
    assert_eq!(ring.confirmed[0].id, second);
    assert_eq!(ring.confirmed[0].name.as_str(), "Backup");
}

#[test]
fn secrets_are_stored_encrypted_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = open(dir.path());
    let user = seed_user(&store, "a@b.c");
    let secret = TotpSecret::from_bytes(b"plain secret 1234567".to_vec()).unwrap();
    let factor = enable(&store, &user, secret.clone());
    let ring = store.read(|tx| tx.keyring(&user)).unwrap();
    assert_eq!(ring.confirmed.len(), 1);
    assert_eq!(ring.confirmed[0].factor.secret, secret);
    assert_eq!(ring.confirmed[0].id, factor);
    assert_eq!(ring.confirmed[0].name.as_str(), "Phone");
    // Another key cannot read it.
    let other = Store::open(&config(db.url.clone()), SecretBox::new(&[4; 32]).unwrap()).unwrap();
    assert!(matches!(
        other.read(|tx| tx.keyring(&user)),
        Err(StoreError::Secret(_))
    ));
}

#[test]
fn emails_are_unique_whatever_their_case() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    seed_user(&store, "Ana@Example.com");
    let org_id = store
        .read(|tx| {
            Ok(tx
                .user_by_email(&"ana@example.com".parse().unwrap())?
                .unwrap()
                .organization_id)
        })
        .unwrap();
    let dup = NewUser {
        id: UserId::from_stored("other".into()),
        organization_id: org_id,
        email: "ANA@example.COM".parse().unwrap(),
        name: "Dup".parse().unwrap(),
        role: Role::Agent,
        password_hash: PasswordHash::from_stored("x".into()),
        two_factor_required: false,
        created_at: T0,
    };
    assert!(matches!(
        store.write(|tx| tx.insert_user(&dup)),
        Err(StoreError::EmailTaken)
    ));
}

#[test]
fn a_failed_unit_of_work_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open(dir.path());
    let org = NewOrganization {
        id: OrganizationId::from_stored("o".into()),
        name: "Org".parse().unwrap(),
        created_at: T0,
    };
    let result: Result<(), StoreError> = store.write(|tx| {
        tx.insert_organization(&org)?;
        Err(StoreError::Corrupt("abort".into()))
    });
    assert!(result.is_err());
    assert_eq!(store.read(|tx| tx.count_organizations()).unwrap(), 0);
}

#[test]
fn a_database_path_that_cannot_be_created_is_a_clean_error() {
    let result = Store::open(
        &DbConfig {
            url: DatabaseUrl::Sqlite("/proc/nope/x.db".into()),
            pool_size: 1,
            pool_timeout: Duration::from_secs(1),
            busy_timeout: Duration::from_secs(1),
        },
        SecretBox::new(&[3; 32]).unwrap(),
    );
    assert!(matches!(result, Err(StoreError::Unavailable(_))));
}

#[test]
fn a_postgres_url_whose_server_is_down_reports_the_real_error_and_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let cwd_before: Vec<_> = std::fs::read_dir(".")
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let url = DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/authgate").unwrap();
    let err = match Store::open(&config(url), SecretBox::new(&[3; 32]).unwrap()) {
        Err(StoreError::Unavailable(msg)) => msg,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a closed port cannot be a database"),
    };
    assert!(
        err.contains("PostgreSQL") && err.contains("127.0.0.1"),
        "{err}"
    );
    assert!(
        err.to_lowercase().contains("refused") || err.contains("connect"),
        "{err}"
    );
    let cwd_after: Vec<_> = std::fs::read_dir(".")
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(cwd_before, cwd_after, "no SQLite file appears");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
