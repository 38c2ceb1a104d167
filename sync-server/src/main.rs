//! `shegong-sync`: runs the sync server (`serve`) and administers it (`admin ...`).
//!
//! `serve` prints one line to stdout once the socket is bound, `listening on http://ADDR` (or
//! `https://`), so a script or test can start it on port 0 and read the port. Each `admin create-*`
//! command prints the new record's id. Logs go to stderr.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use domain::org::{Post, RoleKind};
use sync_server::admin::{parse_post, parse_role};
use sync_server::{AdminError, Config, DEMO_PASSWORD, NewUser, Server, open_storage, serve, system_clock};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(name = "shegong-sync", version, about = "Shegong (社工) sync server")]
struct Cli {
    /// Configuration file (TOML); see shegong-sync.example.toml. Environment variables
    /// SHEGONG_SYNC__* override it.
    #[arg(long, global = true, env = "SHEGONG_SYNC_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the sync API until Ctrl-C or SIGTERM.
    Serve,
    /// Create organisation records and users (written to the database directly).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a station (社工站); prints its id.
    CreateStation {
        #[arg(long)]
        name: String,
        /// The county (区/县) whose civil-affairs bureau runs it.
        #[arg(long)]
        county: String,
    },
    /// Create a service point (社工点) of a station; prints its id.
    CreateServicePoint {
        #[arg(long)]
        station: Uuid,
        #[arg(long)]
        name: String,
    },
    /// Create a village (村/社区) under a service point; prints its id.
    CreateVillage {
        #[arg(long)]
        station: Uuid,
        #[arg(long)]
        service_point: Uuid,
        #[arg(long)]
        name: String,
    },
    /// Create a user; prints their id.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// social-worker, deputy-head, supervisor or admin.
        #[arg(long, value_parser = role_arg)]
        role: RoleKind,
        /// Social workers and deputy heads: their station.
        #[arg(long)]
        station: Option<Uuid>,
        /// Social workers: the service point they sit at.
        #[arg(long)]
        service_point: Option<Uuid>,
        /// Social workers: service or administrative.
        #[arg(long, value_parser = post_arg)]
        post: Option<Post>,
        /// Supervisors: the stations they supervise.
        #[arg(long, num_args = 1..)]
        supervises: Vec<Uuid>,
        /// At least 8 characters. May come from SHEGONG_SYNC_PASSWORD instead.
        #[arg(long, env = "SHEGONG_SYNC_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Set a user's password.
    SetPassword {
        #[arg(long)]
        username: String,
        #[arg(long, env = "SHEGONG_SYNC_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Create the demo station, users and data (once; a second run changes nothing).
    SeedDemo,
    /// Give the database a new generation: run it after restoring the database from a backup,
    /// before serving, so devices sync again from the start; prints the new generation.
    NewGeneration,
    /// Manage registered devices.
    #[command(subcommand)]
    Device(DeviceCommand),
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Revoke a device (a lost or stolen laptop): its tokens stop working at once; when it next
    /// connects it hands over its unsent work, then wipes its local data.
    Revoke {
        /// The device's id.
        device_id: Uuid,
    },
}

fn role_arg(text: &str) -> Result<RoleKind, String> {
    parse_role(text).ok_or_else(|| "expected social-worker, deputy-head, supervisor or admin".into())
}

fn post_arg(text: &str) -> Result<Post, String> {
    parse_post(text).ok_or_else(|| "expected service or administrative".into())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(config) => config,
        Err(e) => return fail(&format!("配置有误 / configuration error: {e}")),
    };
    init_logging(&config.log);
    let storage = match open_storage(&config) {
        Ok(storage) => storage,
        Err(e) => {
            return fail(&format!(
                "无法打开数据库 / cannot open the database {}: {e}",
                config.database_path().display()
            ));
        }
    };
    let server = Server::new(Arc::new(storage), config.settings(), system_clock());
    match cli.command {
        Command::Serve => run_server(server, &config),
        Command::Admin(command) => match run_admin(&server, command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("{} / {e}", e.message_zh())),
        },
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("shegong-sync: {message}");
    ExitCode::FAILURE
}

fn init_logging(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(default_filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}

fn run_server(server: Server, config: &Config) -> ExitCode {
    let tls = match config.tls() {
        Ok(tls) => tls,
        Err(e) => return fail(&e.to_string()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let result = runtime.block_on(serve(
        server,
        config.listen,
        tls,
        |url| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {url}");
            let _ = out.flush();
            tracing::info!(%url, "listening");
        },
        shutdown_signal(),
    ));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

fn run_admin(server: &Server, command: AdminCommand) -> Result<(), AdminError> {
    let admin = server.admin();
    match command {
        AdminCommand::CreateStation { name, county } => println!("{}", admin.create_station(&name, &county)?),
        AdminCommand::CreateServicePoint { station, name } => {
            println!("{}", admin.create_service_point(station, &name)?)
        }
        AdminCommand::CreateVillage { station, service_point, name } => {
            println!("{}", admin.create_village(station, service_point, &name)?);
        }
        AdminCommand::CreateUser {
            username,
            display_name,
            role,
            station,
            service_point,
            post,
            supervises,
            password,
        } => {
            let user = NewUser {
                username,
                display_name,
                role,
                post,
                station_id: station,
                service_point_id: service_point,
                supervised_station_ids: supervises,
                password,
            };
            println!("{}", admin.create_user(&user)?);
        }
        AdminCommand::SetPassword { username, password } => {
            admin.set_password(&username, &password)?;
            println!("ok");
        }
        AdminCommand::Device(DeviceCommand::Revoke { device_id }) => {
            admin.revoke_device(device_id)?;
            println!("revoked {device_id}");
        }
        AdminCommand::NewGeneration => println!("{}", admin.new_generation()?),
        AdminCommand::SeedDemo => {
            let seed = admin.seed_demo()?;
            if seed.created {
                println!("seeded the demo station {}", seed.station_id);
            } else {
                println!("the demo station {} is already there; nothing changed", seed.station_id);
            }
            for (username, role) in &seed.users {
                println!("user {username} ({role:?}) password {DEMO_PASSWORD}");
            }
        }
    }
    Ok(())
}
