//! Configuration: defaults, then a TOML file (`--config FILE` or `SHEGONG_SYNC_CONFIG`), then
//! environment variables `SHEGONG_SYNC__<KEY>` (e.g. `SHEGONG_SYNC__LISTEN=127.0.0.1:0`).
//! Unknown keys are errors, in the file and in the environment, so a typo never goes unnoticed.
//! The annotated example is `sync-server/shegong-sync.example.toml` ([`EXAMPLE`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Deserialize;

use crate::server::ServerSettings;

/// The annotated example configuration, with every default.
pub const EXAMPLE: &str = include_str!("../shegong-sync.example.toml");

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "SHEGONG_SYNC__";
/// The environment variable naming the configuration file.
pub const FILE_ENV: &str = "SHEGONG_SYNC_CONFIG";
/// The database's file name inside `data_dir`.
pub const DATABASE_FILE: &str = "shegong-sync.db";

/// A value kept out of logs: `Debug` shows `<redacted>`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub max_clock_ahead_secs: u64,
    pub login_max_failures_per_user: u32,
    pub login_max_failures_per_address: u32,
    pub login_failure_window_secs: u64,
    pub login_lockout_secs: u64,
    pub max_concurrent_password_hashes: usize,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub database_key: Option<Secret>,
    pub log: String,
    /// Serve `GET /metrics` (to this machine only, unless `metrics_token` is set).
    pub metrics: bool,
    /// The bearer token a scrape from another machine presents.
    pub metrics_token: Option<Secret>,
    /// Where the server keeps its state (`[database]`): SQLite in `data_dir`, or PostgreSQL.
    pub database: DatabaseConfig,
}

/// The storage backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// One file in `data_dir` (the default; a station's or a pilot's server).
    #[default]
    Sqlite,
    /// A PostgreSQL database (a county's or a city's server).
    Postgres,
}

/// The `[database]` table. For PostgreSQL: `url` (`postgres://user@host:port/dbname`, or the
/// `key=value` form), or `host`/`port`/`user`/`dbname` (which also override the URL's); the
/// password comes from `password_file` or the environment (`SHEGONG_SYNC__DATABASE__PASSWORD`),
/// never from the command line, and is not read from this file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub backend: Backend,
    /// A URL may hold a password: kept out of logs like one.
    pub url: Option<Secret>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub dbname: Option<String>,
    /// A file holding the password (its first line).
    pub password_file: Option<PathBuf>,
    /// Only from the environment (`SHEGONG_SYNC__DATABASE__PASSWORD`).
    #[serde(skip)]
    pub password: Option<Secret>,
    /// The schema holding the tables, created if missing; unset: the connection's default.
    pub schema: Option<String>,
    /// Connections kept to PostgreSQL, at most.
    pub max_connections: usize,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            backend: Backend::Sqlite,
            url: None,
            host: None,
            port: None,
            user: None,
            dbname: None,
            password_file: None,
            password: None,
            schema: None,
            max_connections: crate::storage::postgres::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl DatabaseConfig {
    fn check(&self) -> Result<(), String> {
        if self.backend == Backend::Postgres && self.url.is_none() && self.host.is_none() {
            return Err("backend = \"postgres\" needs url or host".into());
        }
        if let Some(schema) = &self.schema
            && !crate::storage::postgres::is_plain_schema_name(schema)
        {
            return Err(format!("schema {schema:?}: use lowercase ASCII letters, digits and underscores"));
        }
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        Ok(())
    }

    /// How to reach PostgreSQL: the URL, then the separate keys over it, then the password.
    /// Reads `password_file` when set.
    pub fn postgres_options(&self) -> Result<crate::storage::postgres::PostgresOptions, String> {
        use crate::storage::postgres::{PgConfig, PostgresOptions};
        let mut pg = match &self.url {
            // The URL is not repeated in the message: it may hold a password.
            Some(url) => url.expose().parse::<PgConfig>().map_err(|e| format!("[database] url is not valid: {e}"))?,
            None => PgConfig::new(),
        };
        if let Some(host) = &self.host {
            pg.host(host);
        }
        if let Some(port) = self.port {
            pg.port(port);
        }
        if let Some(user) = &self.user {
            pg.user(user);
        }
        if let Some(dbname) = &self.dbname {
            pg.dbname(dbname);
        }
        if let Some(password) = &self.password {
            pg.password(password.expose());
        } else if let Some(file) = &self.password_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read the password file {}: {e}", file.display()))?;
            pg.password(text.lines().next().unwrap_or_default());
        }
        if pg.get_application_name().is_none() {
            pg.application_name("shegong-sync");
        }
        Ok(PostgresOptions { config: pg, schema: self.schema.clone(), max_connections: self.max_connections })
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            data_dir: PathBuf::from("shegong-sync-data"),
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            max_clock_ahead_secs: 300,
            login_max_failures_per_user: 5,
            login_max_failures_per_address: 50,
            login_failure_window_secs: 900,
            login_lockout_secs: 900,
            max_concurrent_password_hashes: 4,
            tls_cert: None,
            tls_key: None,
            database_key: None,
            log: "info".into(),
            metrics: true,
            metrics_token: None,
            database: DatabaseConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {key}: {message}")]
    Env { key: String, message: String },
    #[error("tls_cert and tls_key go together: set both or neither")]
    HalfTls,
    #[error("[database]: {0}")]
    Database(String),
}

/// HTTPS material: PEM files of the certificate (chain) and of its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Config {
    /// Defaults, then `file` if given, then the `SHEGONG_SYNC__*` variables among `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
                Self::from_toml(&text).map_err(|message| ConfigError::Parse { path: path.to_owned(), message })?
            }
            None => Self::default(),
        };
        for (key, value) in env {
            if let Some(name) = key.strip_prefix(ENV_PREFIX) {
                config
                    .set(&name.to_ascii_lowercase(), &value)
                    .map_err(|message| ConfigError::Env { key: key.clone(), message })?;
            }
        }
        config.tls()?;
        config.database.check().map_err(ConfigError::Database)?;
        Ok(config)
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Sets one key from its text form, as an environment variable gives it.
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        fn number(value: &str) -> Result<u64, String> {
            value.trim().parse().map_err(|_| format!("{value:?} is not a whole number"))
        }
        fn path(value: &str) -> Option<PathBuf> {
            (!value.trim().is_empty()).then(|| PathBuf::from(value.trim()))
        }
        match key {
            "listen" => {
                self.listen =
                    value.trim().parse().map_err(|_| format!("{value:?} is not an address like 127.0.0.1:7878"))?;
            }
            "data_dir" => self.data_dir = path(value).ok_or("the data directory cannot be empty")?,
            "access_token_ttl_secs" => self.access_token_ttl_secs = number(value)?,
            "refresh_token_ttl_secs" => self.refresh_token_ttl_secs = number(value)?,
            "max_clock_ahead_secs" => self.max_clock_ahead_secs = number(value)?,
            "login_max_failures_per_user" => {
                self.login_max_failures_per_user = u32::try_from(number(value)?).map_err(|e| e.to_string())?;
            }
            "login_max_failures_per_address" => {
                self.login_max_failures_per_address = u32::try_from(number(value)?).map_err(|e| e.to_string())?;
            }
            "login_failure_window_secs" => self.login_failure_window_secs = number(value)?,
            "login_lockout_secs" => self.login_lockout_secs = number(value)?,
            "max_concurrent_password_hashes" => {
                self.max_concurrent_password_hashes = usize::try_from(number(value)?).map_err(|e| e.to_string())?;
            }
            "tls_cert" => self.tls_cert = path(value),
            "tls_key" => self.tls_key = path(value),
            "database_key" => self.database_key = (!value.is_empty()).then(|| Secret::new(value)),
            "log" => self.log = value.into(),
            "metrics" => {
                self.metrics = match value.trim() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(format!("{value:?} is not true or false")),
                };
            }
            "metrics_token" => self.metrics_token = (!value.trim().is_empty()).then(|| Secret::new(value.trim())),
            "database__backend" => {
                self.database.backend = match value.trim() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    _ => return Err(format!("{value:?} is not sqlite or postgres")),
                };
            }
            "database__url" => self.database.url = (!value.trim().is_empty()).then(|| Secret::new(value.trim())),
            "database__host" => self.database.host = (!value.trim().is_empty()).then(|| value.trim().to_owned()),
            "database__port" => {
                self.database.port = Some(u16::try_from(number(value)?).map_err(|e| e.to_string())?);
            }
            "database__user" => self.database.user = (!value.trim().is_empty()).then(|| value.trim().to_owned()),
            "database__dbname" => self.database.dbname = (!value.trim().is_empty()).then(|| value.trim().to_owned()),
            "database__password_file" => self.database.password_file = path(value),
            "database__password" => self.database.password = (!value.is_empty()).then(|| Secret::new(value)),
            "database__schema" => self.database.schema = (!value.trim().is_empty()).then(|| value.trim().to_owned()),
            "database__max_connections" => {
                self.database.max_connections = usize::try_from(number(value)?).map_err(|e| e.to_string())?;
            }
            other => return Err(format!("unknown setting {other:?}")),
        }
        Ok(())
    }

    /// The TLS files, when HTTPS is configured.
    pub fn tls(&self) -> Result<Option<TlsFiles>, ConfigError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert: cert.clone(), key: key.clone() })),
            (None, None) => Ok(None),
            _ => Err(ConfigError::HalfTls),
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    pub fn settings(&self) -> ServerSettings {
        let secs = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        ServerSettings {
            access_token_ttl: secs(self.access_token_ttl_secs),
            refresh_token_ttl: secs(self.refresh_token_ttl_secs),
            max_clock_ahead: secs(self.max_clock_ahead_secs),
            login: crate::LoginLimits {
                max_failures_per_user: self.login_max_failures_per_user,
                max_failures_per_address: self.login_max_failures_per_address,
                window: secs(self.login_failure_window_secs),
                lockout: secs(self.login_lockout_secs),
                max_concurrent_hashes: self.max_concurrent_password_hashes,
                ..crate::LoginLimits::default()
            },
            metrics: match (self.metrics, &self.metrics_token) {
                (false, _) => crate::MetricsAccess::Off,
                (true, None) => crate::MetricsAccess::Local,
                (true, Some(token)) => crate::MetricsAccess::Token(token.clone()),
            },
            ..ServerSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_example_file_holds_exactly_the_defaults() {
        assert_eq!(Config::from_toml(EXAMPLE), Ok(Config::default()));
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("sync.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\naccess_token_ttl_secs = 60\n").expect("write");
        let config = Config::load(
            Some(&file),
            env(&[
                ("SHEGONG_SYNC__LISTEN", "127.0.0.1:0"),
                ("SHEGONG_SYNC__DATA_DIR", "/tmp/x"),
                ("PATH", "/usr/bin"),
                ("SHEGONG_SYNC_CONFIG", "ignored here"),
            ]),
        )
        .expect("loads");
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.access_token_ttl_secs, 60);
        assert_eq!(config.settings().access_token_ttl, Duration::seconds(60));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_their_name() {
        let typo = Config::load(None, env(&[("SHEGONG_SYNC__LISTN", "x")])).expect_err("unknown key");
        assert!(typo.to_string().contains("SHEGONG_SYNC__LISTN"), "{typo}");
        let bad = Config::load(None, env(&[("SHEGONG_SYNC__ACCESS_TOKEN_TTL_SECS", "soon")])).expect_err("bad number");
        assert!(bad.to_string().contains("ACCESS_TOKEN_TTL_SECS"), "{bad}");
        assert!(Config::from_toml("colour = \"blue\"").is_err());
        let half = Config::load(None, env(&[("SHEGONG_SYNC__TLS_CERT", "/c.pem")])).expect_err("half TLS");
        assert!(matches!(half, ConfigError::HalfTls));
    }

    #[test]
    fn metrics_are_local_by_default_and_a_token_opens_them_to_the_network() {
        assert_eq!(Config::default().settings().metrics, crate::MetricsAccess::Local);
        let off = Config::load(None, env(&[("SHEGONG_SYNC__METRICS", "false")])).expect("loads");
        assert_eq!(off.settings().metrics, crate::MetricsAccess::Off);
        let token = Config::from_toml("metrics_token = \"scrape-me\"").expect("parses");
        assert_eq!(token.settings().metrics, crate::MetricsAccess::Token(Secret::new("scrape-me")));
        assert!(!format!("{token:?}").contains("scrape-me"));
        let bad = Config::load(None, env(&[("SHEGONG_SYNC__METRICS", "maybe")])).expect_err("not a boolean");
        assert!(bad.to_string().contains("SHEGONG_SYNC__METRICS"), "{bad}");
    }

    #[test]
    fn postgres_is_chosen_by_the_database_table_and_its_password_comes_from_the_environment() {
        let file = Config::from_toml(
            "[database]\nbackend = \"postgres\"\nurl = \"postgres://shegong@db.example:5433/sync\"\nschema = \"county\"\n",
        )
        .expect("parses");
        assert_eq!(file.database.backend, Backend::Postgres);
        assert!(Config::from_toml("[database]\npassword = \"in-the-file\"\n").is_err(), "no password in the file");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sync.toml");
        std::fs::write(&path, "[database]\nbackend = \"postgres\"\nhost = \"/run/postgresql\"\n").expect("write");
        let config = Config::load(
            Some(&path),
            env(&[("SHEGONG_SYNC__DATABASE__PASSWORD", "pg-secret-1"), ("SHEGONG_SYNC__DATABASE__DBNAME", "sync")]),
        )
        .expect("loads");
        let options = config.database.postgres_options().expect("options");
        assert_eq!(options.config.get_password(), Some(&b"pg-secret-1"[..]));
        assert_eq!(options.config.get_dbname(), Some("sync"));
        assert!(!format!("{config:?}").contains("pg-secret-1"));
        assert!(!format!("{options:?}").contains("pg-secret-1"));
    }

    #[test]
    fn the_password_file_gives_its_first_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secret = dir.path().join("pgpass");
        std::fs::write(&secret, "from-the-file\n").expect("write");
        let config = Config::load(
            None,
            env(&[
                ("SHEGONG_SYNC__DATABASE__BACKEND", "postgres"),
                ("SHEGONG_SYNC__DATABASE__URL", "postgres://shegong@127.0.0.1/sync"),
                ("SHEGONG_SYNC__DATABASE__PASSWORD_FILE", secret.to_str().expect("utf-8")),
            ]),
        )
        .expect("loads");
        let options = config.database.postgres_options().expect("options");
        assert_eq!(options.config.get_password(), Some(&b"from-the-file"[..]));
    }

    #[test]
    fn a_postgres_backend_without_a_server_or_with_a_bad_schema_is_refused_with_its_name() {
        let bare = Config::load(None, env(&[("SHEGONG_SYNC__DATABASE__BACKEND", "postgres")])).expect_err("no url");
        assert!(bare.to_string().contains("url or host"), "{bare}");
        let schema = Config::load(
            None,
            env(&[("SHEGONG_SYNC__DATABASE__HOST", "localhost"), ("SHEGONG_SYNC__DATABASE__SCHEMA", "a;b")]),
        )
        .expect_err("bad schema");
        assert!(schema.to_string().contains("schema"), "{schema}");
        let backend = Config::load(None, env(&[("SHEGONG_SYNC__DATABASE__BACKEND", "mysql")])).expect_err("unknown");
        assert!(backend.to_string().contains("SHEGONG_SYNC__DATABASE__BACKEND"), "{backend}");
    }

    #[test]
    fn the_database_key_never_shows_in_debug_output() {
        let config = Config::load(None, env(&[("SHEGONG_SYNC__DATABASE_KEY", "hunter2-very-secret")])).expect("loads");
        assert_eq!(config.database_key.as_ref().map(Secret::expose), Some("hunter2-very-secret"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
