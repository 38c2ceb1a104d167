//! Running the server on a socket: plain HTTP, or HTTPS with rustls (its `ring` provider), until
//! Ctrl-C or SIGTERM.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;

use crate::config::{Backend, Config, TlsFiles};
use crate::server::Server;
use crate::storage::{PostgresStorage, SqliteStorage, Storage, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot load the TLS certificate or key: {0}")]
    Tls(String),
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens (creating if needed, and migrating) the configured database: the one way the server,
/// the admin commands, the benchmarks and the tests open a backend from configuration.
pub fn open_storage(config: &Config) -> Result<Arc<dyn Storage>, StorageError> {
    match config.database.backend {
        Backend::Sqlite => {
            std::fs::create_dir_all(&config.data_dir)
                .map_err(|e| StorageError::Backend(format!("cannot create {}: {e}", config.data_dir.display())))?;
            let key = config.database_key.as_ref().map(|k| k.expose());
            Ok(Arc::new(SqliteStorage::open_with_key(&config.database_path(), key)?))
        }
        Backend::Postgres => {
            let options = config.database.postgres_options().map_err(StorageError::Backend)?;
            Ok(Arc::new(PostgresStorage::open(options)?))
        }
    }
}

/// Serves `server` on `listen` until `shutdown` completes. Once the socket is bound,
/// `on_listening` gets the base URL (`http://ADDR` or `https://ADDR`, with the real port when
/// `listen` asked for port 0).
pub async fn serve(
    server: Server,
    listen: SocketAddr,
    tls: Option<TlsFiles>,
    on_listening: impl FnOnce(&str),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = crate::http::router(server);
    let listener = std::net::TcpListener::bind(listen).map_err(|source| ServeError::Bind { addr: listen, source })?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    match tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            on_listening(&format!("http://{addr}"));
            // With each connection's address: sign-in failures are counted per address.
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown)
                .await?;
        }
        Some(files) => {
            let config = RustlsConfig::from_pem_chain_file(&files.cert, &files.key)
                .await
                .map_err(|e| ServeError::Tls(format!("{} / {}: {e}", files.cert.display(), files.key.display())))?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stopper.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            let server = axum_server::from_tcp_rustls(listener, config)?.handle(handle);
            on_listening(&format!("https://{addr}"));
            server.serve(app.into_make_service_with_connect_info::<SocketAddr>()).await?;
        }
    }
    Ok(())
}
