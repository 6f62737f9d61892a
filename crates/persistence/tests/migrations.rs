//! The SQLite and PostgreSQL migration trees stay in lockstep: same version
//! names, and applied, the same tables with the same columns.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot go on should stop

use std::{collections::BTreeMap, time::Duration};

use auth_core::{ids::UserId, totp::TimeStep};
use diesel::migration::MigrationSource;
use diesel::{
    connection::SimpleConnection,
    sql_types::{Binary, Text},
    Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use persistence::{DatabaseUrl, DbConfig, SecretBox, Store};

mod support;

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

/// Types as the schema means them, whatever each backend calls them.
fn portable(ty: &str) -> &'static str {
    match ty.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer",
        "text" => "text",
        "blob" | "bytea" => "bytes",
        "boolean" => "boolean",
        other => panic!("a backend-only column type: {other}"),
    }
}

type Shape = BTreeMap<(String, String), (&'static str, bool)>;

fn open(url: DatabaseUrl) {
    Store::open(
        &DbConfig {
            url,
            pool_size: 1,
            pool_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        },
        SecretBox::new(&[1; 32]).unwrap(),
    )
    .unwrap();
}

fn shape(columns: Vec<Column>) -> Shape {
    columns
        .into_iter()
        .filter(|c| !c.table_name.starts_with("__diesel"))
        .map(|c| {
            (
                (c.table_name, c.column_name),
                (portable(&c.data_type), c.nullable == "YES"),
            )
        })
        .collect()
}

fn version_names(dir: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(dir);
    let mut names: Vec<String> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn both_trees_have_the_same_versions() {
    assert_eq!(version_names("sqlite"), version_names("postgres"));
}

#[test]
fn both_backends_end_up_with_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_path = dir.path().join("m.db");
    open(DatabaseUrl::Sqlite(sqlite_path.clone()));
    let mut sqlite = SqliteConnection::establish(&sqlite_path.to_string_lossy()).unwrap();
    let sqlite_columns: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
         CASE WHEN p.\"notnull\" = 1 OR p.pk = 1 THEN 'NO' ELSE 'YES' END AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .load(&mut sqlite)
    .unwrap();

    let pg = support::TestDb::postgres();
    open(pg.url.clone());
    let mut conn = PgConnection::establish(&support::postgres_url()).unwrap();
    let pg_columns: Vec<Column> = diesel::sql_query(format!(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text AS nullable \
         FROM information_schema.columns WHERE table_schema = '{}'",
        pg.schema().unwrap()
    ))
    .load(&mut conn)
    .unwrap();

    let (s, p) = (shape(sqlite_columns), shape(pg_columns));
    assert!(s.len() > 40, "the schema was read ({} columns)", s.len());
    assert_eq!(s, p);
}

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The last version of the migration set before authenticators had ids.
const BEFORE_AUTHENTICATORS: &str = "2026-11-29-000002";

/// Applies the migrations up to and including `last`, as a database made
/// by an earlier release has them.
fn migrate_up_to<C, DB>(conn: &mut C, source: EmbeddedMigrations, last: &str)
where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB> + diesel::migration::MigrationConnection,
    EmbeddedMigrations: MigrationSource<DB>,
{
    conn.setup().unwrap();
    // Diesel's versions are the directory names' digits.
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let mut migrations = MigrationSource::<DB>::migrations(&source).unwrap();
    migrations.sort_by_key(|m| digits(&m.name().version().to_string()));
    let mut applied = 0;
    for m in migrations {
        if digits(&m.name().version().to_string()) <= digits(last) {
            conn.run_migration(&m).unwrap();
            applied += 1;
        }
    }
    assert_eq!(applied, 2, "the earlier release had two migrations");
}

/// An organization, a user and an enabled factor, as the earlier schema
/// stored them (the secret sealed to the user's id).
fn seed_previous_schema(conn: &mut impl SimpleConnection, user: &str) {
    conn.batch_execute(&format!(
        "INSERT INTO organizations (id, name, two_factor_policy, grace_period_hours, policy_since, created_at) \
         VALUES ('o1', 'Org', 'optional', 0, 1, 1); \
         INSERT INTO users (id, organization_id, email, name, role, password_hash, two_factor_required, disabled, created_at, updated_at) \
         VALUES ('{user}', 'o1', 'a@b.c', 'A', 'agent', 'x', FALSE, FALSE, 1, 1);"
    ))
    .unwrap();
}

const INSERT_FACTOR: &str = "INSERT INTO totp_factors \
    (user_id, state, secret_ciphertext, algorithm, started_at, enabled_at, last_used_step, source) \
    VALUES ($1, 'enabled', $2, 'SHA1', 5, 6, 123, 'self')";

#[test]
fn a_database_of_the_previous_release_keeps_its_authenticator() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::TestDb::new(dir.path());
    let key = [9u8; 32];
    let user = "0b9f3a52-5d0c-4a57-9d8e-2f9a3c1e7b64";
    let secret = b"12345678901234567890".to_vec();
    let sealed = SecretBox::new(&key).unwrap().seal(&secret, user).unwrap();
    match &db.url {
        DatabaseUrl::Sqlite(path) => {
            let mut c = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
            migrate_up_to(&mut c, SQLITE, BEFORE_AUTHENTICATORS);
            seed_previous_schema(&mut c, user);
            diesel::sql_query(
                INSERT_FACTOR
                    .replace('$', "?")
                    .replace("?1", "?")
                    .replace("?2", "?"),
            )
            .bind::<Text, _>(user)
            .bind::<Binary, _>(&sealed)
            .execute(&mut c)
            .unwrap();
        }
        DatabaseUrl::Postgres(url) => {
            let mut c = PgConnection::establish(url).unwrap();
            migrate_up_to(&mut c, POSTGRES, BEFORE_AUTHENTICATORS);
            seed_previous_schema(&mut c, user);
            diesel::sql_query(INSERT_FACTOR)
                .bind::<Text, _>(user)
                .bind::<Binary, _>(&sealed)
                .execute(&mut c)
                .unwrap();
        }
    }
    // Opening the store applies the rest.
    let store = Store::open(
        &DbConfig {
            url: db.url.clone(),
            pool_size: 1,
            pool_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        },
        SecretBox::new(&key).unwrap(),
    )
    .unwrap();
    let ring = store
        .read(|tx| tx.keyring(&UserId::from_stored(user.into())))
        .unwrap();
    let [migrated] = ring.confirmed.as_slice() else {
        panic!("the migrated authenticator is enabled: {ring:?}");
    };
    assert_eq!(migrated.factor.secret.as_bytes(), secret.as_slice());
    assert_eq!(migrated.factor.last_used_step, Some(TimeStep(123)));
    assert_eq!(migrated.id.as_str().len(), 36, "a UUID: {}", migrated.id);
    assert_eq!(migrated.name.as_str(), "Authenticator");
}
