//! The SQLite and PostgreSQL migration trees stay in lockstep: same version
//! names, and applied, the same tables with the same columns.

use std::{collections::BTreeMap, time::Duration};

use diesel::{
    sql_types::Text, Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection,
};
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
