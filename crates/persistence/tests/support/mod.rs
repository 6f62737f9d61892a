//! Which database a test run uses: SQLite in a temporary directory by
//! default; with `AUTHGATE_TEST_DATABASE=postgres`, a schema of its own on
//! the PostgreSQL at `AUTHGATE_TEST_POSTGRES_URL`, dropped afterwards.
#![allow(dead_code)] // each test binary uses part of this module

use diesel::{Connection, PgConnection, RunQueryDsl};
use persistence::DatabaseUrl;

pub fn on_postgres() -> bool {
    std::env::var("AUTHGATE_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

pub fn postgres_url() -> String {
    std::env::var("AUTHGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test?sslmode=disable".into())
}

pub struct TestDb {
    pub url: DatabaseUrl,
    schema: Option<String>,
}

impl TestDb {
    pub fn new(dir: &std::path::Path) -> Self {
        if on_postgres() {
            Self::postgres()
        } else {
            Self {
                url: DatabaseUrl::Sqlite(dir.join("t.db")),
                schema: None,
            }
        }
    }

    pub fn postgres() -> Self {
        let admin = postgres_url();
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required: {e}"));
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .unwrap();
        let sep = if admin.contains('?') { '&' } else { '?' };
        Self {
            url: DatabaseUrl::parse(&format!("{admin}{sep}options=-csearch_path%3D{schema}"))
                .unwrap(),
            schema: Some(schema),
        }
    }

    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(schema) = &self.schema {
            if let Ok(mut conn) = PgConnection::establish(&postgres_url()) {
                let _ =
                    diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut conn);
            }
        }
    }
}
