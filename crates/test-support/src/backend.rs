//! The storage the sync tests run on: SQLite by default, a real PostgreSQL with
//! `SHEGONG_TEST_BACKEND=postgres` (its server in `SHEGONG_TEST_POSTGRES_URL`, which
//! `scripts/with-postgres.sh` starts and sets). One suite, both backends: a test about sync
//! behaviour opens its server's storage here, never a backend by name; a test about the SQLite
//! file itself (encryption at rest, its backup file) opens `SqliteStorage` and says so.
//!
//! On PostgreSQL every database is a schema of its own in the one server (`t_<uuid>`), made and
//! migrated by the storage as it opens: cheap enough for one per test. `with-postgres.sh`
//! removes the whole cluster afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sync_server::config::{Backend, Config};
use sync_server::storage::Storage;

/// `sqlite` (the default) or `postgres`.
pub const BACKEND_ENV: &str = "SHEGONG_TEST_BACKEND";
/// The PostgreSQL server the tests use, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_ENV: &str = "SHEGONG_TEST_POSTGRES_URL";

/// The PostgreSQL server's URL when the tests run on PostgreSQL, `None` on SQLite.
///
/// # Panics
/// When `SHEGONG_TEST_BACKEND` names an unknown backend, or PostgreSQL without its URL: a run
/// that asked for PostgreSQL must never quietly test SQLite.
pub fn postgres_url() -> Option<String> {
    match std::env::var(BACKEND_ENV).unwrap_or_default().trim() {
        "" | "sqlite" => None,
        "postgres" => match std::env::var(POSTGRES_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => Some(url),
            _ => panic!("{BACKEND_ENV}=postgres needs {POSTGRES_URL_ENV} (scripts/with-postgres.sh sets it)"),
        },
        other => panic!("{BACKEND_ENV}={other:?}: expected sqlite or postgres"),
    }
}

/// Whether the tests run on PostgreSQL.
pub fn is_postgres() -> bool {
    postgres_url().is_some()
}

/// A fresh, empty, migrated database of its own: SQLite in memory, or a new PostgreSQL schema.
pub fn open_test_storage() -> Arc<dyn Storage> {
    match postgres_url() {
        None => Arc::new(sync_server::SqliteStorage::open_in_memory().expect("in-memory database")),
        Some(url) => TestDatabase::postgres(&url, Path::new(".")).open(),
    }
}

/// A server's database that a test can open again (a restart), hand to the server binary (its
/// environment), copy (a backup) and copy back (a restore).
#[derive(Debug, Clone)]
pub struct TestDatabase {
    data_dir: PathBuf,
    /// On PostgreSQL: the server and the schema.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// The database of the server whose data directory is `data_dir`: the SQLite file in it,
    /// or on PostgreSQL a schema named after the directory (the same one each time, as the file
    /// would be: a test and the server binary it runs agree on it).
    pub fn new(data_dir: &Path) -> Self {
        match postgres_url() {
            None => Self { data_dir: data_dir.to_owned(), postgres: None },
            Some(url) => {
                // FNV-1a of the path: stable, and distinct for the tests' distinct temp dirs.
                let hash = data_dir
                    .as_os_str()
                    .as_encoded_bytes()
                    .iter()
                    .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3));
                Self { data_dir: data_dir.to_owned(), postgres: Some((url, format!("d_{hash:016x}"))) }
            }
        }
    }

    fn postgres(url: &str, data_dir: &Path) -> Self {
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        Self { data_dir: data_dir.to_owned(), postgres: Some((url.to_owned(), schema)) }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The SQLite file (also on PostgreSQL, where nothing is there).
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(sync_server::config::DATABASE_FILE)
    }

    /// The server configuration that opens this database (the defaults otherwise).
    pub fn config(&self) -> Config {
        let mut config = Config { data_dir: self.data_dir.clone(), ..Config::default() };
        if let Some((url, schema)) = &self.postgres {
            config.database.backend = Backend::Postgres;
            config.database.url = Some(sync_server::config::Secret::new(url.clone()));
            config.database.schema = Some(schema.clone());
        }
        config
    }

    /// The environment that points the server binary (`shegong-sync`) at this database.
    pub fn server_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("SHEGONG_SYNC__DATA_DIR".to_owned(), self.data_dir.display().to_string())];
        if let Some((url, schema)) = &self.postgres {
            env.push(("SHEGONG_SYNC__DATABASE__BACKEND".to_owned(), "postgres".to_owned()));
            env.push(("SHEGONG_SYNC__DATABASE__URL".to_owned(), url.clone()));
            env.push(("SHEGONG_SYNC__DATABASE__SCHEMA".to_owned(), schema.clone()));
        }
        env
    }

    /// Opens it (creating and migrating it the first time), through the server's one entry
    /// point, `sync_server::open_storage`.
    pub fn open(&self) -> Arc<dyn Storage> {
        sync_server::open_storage(&self.config()).expect("the test database opens")
    }

    /// On PostgreSQL, runs `sql` with this database's schema first in the search path (what a
    /// test does by hand to a SQLite file with rusqlite); `None` on SQLite.
    pub fn postgres_sql(&self, sql: &str) -> Option<()> {
        let (url, schema) = self.postgres.as_ref()?;
        run_sql(url, format!("SET search_path TO {schema}; {sql}"));
        Some(())
    }

    /// Makes `to` a copy of this database as it is now (what a backup holds; or a template
    /// copied for each test). On PostgreSQL the copy is read in one snapshot; `to`'s schema is
    /// replaced. Nothing may have `to` open meanwhile.
    pub fn copy_to(&self, to: &TestDatabase) {
        match (&self.postgres, &to.postgres) {
            (None, None) => copy_sqlite(&self.sqlite_path(), &to.sqlite_path()),
            (Some((url, from)), Some((_, into))) => copy_schema(url, from, into),
            _ => panic!("a copy between backends"),
        }
    }
}

fn copy_sqlite(from: &Path, to: &Path) {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).expect("the copy's directory");
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    for suffix in ["", "-wal"] {
        let src = PathBuf::from(format!("{}{suffix}", from.display()));
        if src.exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).expect("copy");
        }
    }
}

/// Copies every table of schema `from` (structure, indexes, rows, identity counters) into a new
/// schema `into`, dropping any `into` there was, in one snapshot.
fn copy_schema(url: &str, from: &str, into: &str) {
    let sql = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ;
         DROP SCHEMA IF EXISTS {into} CASCADE;
         CREATE SCHEMA {into};
         DO $copy$
         DECLARE t text; c text;
         BEGIN
           FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = '{from}' LOOP
             EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING ALL)', '{into}', t, '{from}', t);
             EXECUTE format('INSERT INTO %I.%I OVERRIDING SYSTEM VALUE SELECT * FROM %I.%I', '{into}', t, '{from}', t);
           END LOOP;
           FOR t, c IN SELECT table_name, column_name FROM information_schema.columns
                       WHERE table_schema = '{into}' AND is_identity = 'YES' LOOP
             EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), COALESCE(MAX(%I), 0) + 1, false) FROM %I.%I',
                            '{into}.' || t, c, c, '{into}', t);
           END LOOP;
         END
         $copy$;
         COMMIT;"
    );
    run_sql(url, sql);
}

/// Runs `sql` (statements separated by `;`) on the PostgreSQL server at `url`.
fn run_sql(url: &str, sql: String) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the copy");
    let url = url.to_owned();
    // On a thread of its own: the caller may be inside a runtime already.
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
            let driver = tokio::spawn(connection);
            client.batch_execute(&sql).await.expect("the SQL runs");
            drop(client);
            let _ = driver.await;
        });
    })
    .join()
    .expect("the copy finished");
}
