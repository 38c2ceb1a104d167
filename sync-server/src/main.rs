//! `shegong-sync`: runs the sync server (`serve`) and administers it (`admin ...`).
//!
//! `serve` prints one line to stdout once the socket is bound, `listening on http://ADDR` (or
//! `https://`), so a script or test can start it on port 0 and read the port. Each `admin create-*`
//! command prints the new record's id. Logs go to stderr.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use domain::entity::EntityKind;
use domain::org::{Post, RoleKind};
use domain::{Labelled as _, field};
use sync_server::admin::{parse_post, parse_role};
use sync_server::config::Backend;
use sync_server::password_input::read_password;
use sync_server::{
    AdminError, AuditActor, Config, DEMO_PASSWORD, NewUser, Server, SqliteStorage, UserEdit, open_storage, serve,
    system_clock,
};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(name = "shegong-sync", version, about = "Shegong (社工) sync server")]
struct Cli {
    /// Configuration file (TOML); see shegong-sync.example.toml. Environment variables
    /// SHEGONG_SYNC__* override it.
    #[arg(long, global = true, env = "SHEGONG_SYNC_CONFIG")]
    config: Option<PathBuf>,
    /// Admin commands: the person acting, written to the audit log with the operating-system
    /// account running the command (useful when that account is shared).
    #[arg(long, global = true)]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the sync API until Ctrl-C or SIGTERM.
    Serve,
    /// Print the sync API's OpenAPI description (JSON), as `GET /v1/openapi.json` answers it.
    Openapi,
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
        /// Read the password (at least 8 characters) as one line of standard input instead of
        /// typing it at the terminal; there is no argument for the password itself.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password.
    SetPassword {
        #[arg(long)]
        username: String,
        /// Read the new password as one line of standard input instead of typing it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create the demo station, users and data (once; a second run changes nothing).
    SeedDemo,
    /// Give the database a new generation: run it after restoring the database from a backup,
    /// before serving, so devices sync again from the start; prints the new generation.
    NewGeneration,
    /// Manage registered devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// List stations, villages or users: a table, or JSON with --json.
    List {
        what: ListWhat,
        #[arg(long)]
        json: bool,
    },
    /// Edit a record; devices receive the change by sync.
    #[command(subcommand)]
    Edit(EditCommand),
    /// Deactivate a user: they can no longer sign in or pull, their devices drop their data,
    /// and their unsent changes are still received and kept.
    #[command(subcommand)]
    Deactivate(DeactivateCommand),
    /// Show the audit log of administrative actions, oldest first.
    Audit {
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent copy of the database to a new file while the server keeps serving.
    /// To restore: stop the server, copy the file back over the database, run
    /// `admin new-generation`, start the server.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ListWhat {
    Stations,
    Villages,
    Users,
}

#[derive(Debug, Subcommand)]
enum EditCommand {
    /// Change a user's name, role, station, service point or post.
    User {
        /// The user's id or username.
        user: String,
        #[arg(long)]
        display_name: Option<String>,
        /// social-worker, deputy-head, supervisor or admin.
        #[arg(long, value_parser = role_arg)]
        role: Option<RoleKind>,
        #[arg(long)]
        station: Option<Uuid>,
        #[arg(long)]
        service_point: Option<Uuid>,
        /// service or administrative.
        #[arg(long, value_parser = post_arg)]
        post: Option<Post>,
    },
    /// Rename a station or change its county.
    Station {
        id: Uuid,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        county: Option<String>,
    },
    /// Rename a village.
    Village {
        id: Uuid,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DeactivateCommand {
    /// Deactivate a user (by id or username).
    User { user: String },
    /// Deactivate a station: its records stay, no new recipients, households or visits.
    Station { id: Uuid },
    /// Deactivate a village (merged into another, say): its records stay, nobody new is placed in it.
    Village { id: Uuid },
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
    // Needs no configuration or database: the description is the code's.
    if let Command::Openapi = cli.command {
        println!("{}", sync_server::openapi::json());
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(config) => config,
        Err(e) => return fail(&format!("配置有误 / configuration error: {e}")),
    };
    init_logging(&config.log);
    let storage = match open_storage(&config) {
        Ok(storage) => storage,
        Err(e) => return fail(&format!("无法打开数据库 / cannot open the database {}: {e}", database_name(&config))),
    };
    let server = Server::new(storage, config.settings(), system_clock());
    match cli.command {
        Command::Serve => run_server(server, &config),
        Command::Openapi => ExitCode::SUCCESS,
        Command::Admin(command) => match run_admin(&server, &config, command, cli.actor) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("{} / {e}", e.message_zh())),
        },
    }
}

/// The database as messages name it: the SQLite file, or PostgreSQL's database (never its URL,
/// which may hold a password).
fn database_name(config: &Config) -> String {
    match config.database.backend {
        Backend::Sqlite => config.database_path().display().to_string(),
        Backend::Postgres => {
            let db = config.database.dbname.as_deref().unwrap_or("(from the url)");
            format!("PostgreSQL {db}")
        }
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

/// What an admin command did, for the audit log: action, target, detail (never a password).
type Done = (&'static str, String, String);

fn run_admin(server: &Server, config: &Config, command: AdminCommand, actor: Option<String>) -> Result<(), AdminError> {
    let admin = server.admin();
    let done: Option<Done> = match command {
        AdminCommand::CreateStation { name, county } => {
            let id = admin.create_station(&name, &county)?;
            println!("{id}");
            Some(("create station", id.to_string(), format!("name={name} county={county}")))
        }
        AdminCommand::CreateServicePoint { station, name } => {
            let id = admin.create_service_point(station, &name)?;
            println!("{id}");
            Some(("create service point", id.to_string(), format!("station={station} name={name}")))
        }
        AdminCommand::CreateVillage { station, service_point, name } => {
            let id = admin.create_village(station, service_point, &name)?;
            println!("{id}");
            Some(("create village", id.to_string(), format!("service_point={service_point} name={name}")))
        }
        AdminCommand::CreateUser {
            username,
            display_name,
            role,
            station,
            service_point,
            post,
            supervises,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
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
            let id = admin.create_user(&user)?;
            println!("{id}");
            Some(("create user", id.to_string(), format!("username={} role={}", user.username, role.as_str())))
        }
        AdminCommand::SetPassword { username, password_stdin } => {
            let password = read_password(password_stdin)?;
            admin.set_password(&username, &password)?;
            println!("ok");
            Some(("set password", username, String::new()))
        }
        AdminCommand::Device(DeviceCommand::Revoke { device_id }) => {
            admin.revoke_device(device_id)?;
            println!("revoked {device_id}");
            Some(("revoke device", device_id.to_string(), String::new()))
        }
        AdminCommand::NewGeneration => {
            let generation = admin.new_generation()?;
            println!("{generation}");
            Some(("new generation", String::new(), generation))
        }
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
            seed.created.then(|| ("seed demo", seed.station_id.to_string(), String::new()))
        }
        AdminCommand::List { what, json } => {
            print_list(&admin, what, json)?;
            None
        }
        AdminCommand::Edit(EditCommand::User { user, display_name, role, station, service_point, post }) => {
            let id = admin.find_user(&user)?;
            let edit = UserEdit { display_name, role, station_id: station, service_point_id: service_point, post };
            admin.edit_user(id, &edit)?;
            println!("ok");
            Some(("edit user", id.to_string(), edit.describe()))
        }
        AdminCommand::Edit(EditCommand::Station { id, name, county }) => {
            admin.edit_station(id, name.as_deref(), county.as_deref())?;
            println!("ok");
            let detail = [("name", &name), ("county", &county)]
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(" ");
            Some(("edit station", id.to_string(), detail))
        }
        AdminCommand::Edit(EditCommand::Village { id, name }) => {
            admin.edit_village(id, name.as_deref())?;
            println!("ok");
            Some(("edit village", id.to_string(), name.map(|n| format!("name={n}")).unwrap_or_default()))
        }
        AdminCommand::Deactivate(DeactivateCommand::User { user }) => {
            let id = admin.find_user(&user)?;
            if admin.deactivate_user(id)? {
                println!("deactivated {id}");
                Some(("deactivate user", id.to_string(), String::new()))
            } else {
                println!("{id} was already inactive; nothing changed");
                None
            }
        }
        AdminCommand::Deactivate(DeactivateCommand::Station { id }) => deactivate(&admin, EntityKind::Station, id)?,
        AdminCommand::Deactivate(DeactivateCommand::Village { id }) => deactivate(&admin, EntityKind::Village, id)?,
        AdminCommand::Audit { json } => {
            print_audit(&admin.audit_entries()?, json)?;
            None
        }
        AdminCommand::Backup { to } => {
            // Audited before the copy is made, so the backup itself holds the entry of its making
            // (a restore brings back the log as it was then); a failure is audited too.
            let who = AuditActor::of_this_process(actor.clone());
            let target = to.display().to_string();
            if config.database.backend == Backend::Postgres {
                // PostgreSQL's own tools copy a live database consistently; this command does not.
                return Err(AdminError::Internal(
                    "在 PostgreSQL 上请用 pg_dump 备份 / on PostgreSQL, back up with pg_dump \
                     (see sync-server/README.md, \"PostgreSQL\")"
                        .into(),
                ));
            }
            admin.audit(&who, "backup", &target, "")?;
            let backup =
                SqliteStorage::open_with_key(&config.database_path(), config.database_key.as_ref().map(|k| k.expose()))
                    .and_then(|storage| storage.backup_to(&to));
            if let Err(e) = backup {
                admin.audit(&who, "backup failed", &target, &e.to_string())?;
                return Err(AdminError::Internal(e.to_string()));
            }
            println!("backed up to {}", to.display());
            None
        }
    };
    if let Some((action, target, detail)) = done {
        admin.audit(&AuditActor::of_this_process(actor), action, &target, &detail)?;
    }
    Ok(())
}

/// Deactivates a station or village; audited only when it changed something.
fn deactivate(admin: &sync_server::Admin<'_>, kind: EntityKind, id: Uuid) -> Result<Option<Done>, AdminError> {
    if !admin.deactivate_place(kind, id)? {
        println!("{id} was already inactive; nothing changed");
        return Ok(None);
    }
    println!("deactivated {id}");
    let action = if kind == EntityKind::Station { "deactivate station" } else { "deactivate village" };
    Ok(Some((action, id.to_string(), String::new())))
}

fn print_json(value: &impl serde::Serialize) -> Result<(), AdminError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| AdminError::Internal(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn print_list(admin: &sync_server::Admin<'_>, what: ListWhat, json: bool) -> Result<(), AdminError> {
    let (kind, columns): (EntityKind, &[(&str, &str)]) = match what {
        ListWhat::Stations => (
            EntityKind::Station,
            &[("name", field::station::NAME), ("county", field::station::COUNTY), ("active", field::station::ACTIVE)],
        ),
        ListWhat::Villages => (
            EntityKind::Village,
            &[
                ("name", field::village::NAME),
                ("station", field::village::STATION_ID),
                ("service_point", field::village::SERVICE_POINT_ID),
                ("active", field::village::ACTIVE),
            ],
        ),
        ListWhat::Users => (
            EntityKind::User,
            &[
                ("username", field::user::USERNAME),
                ("display_name", field::user::DISPLAY_NAME),
                ("role", field::user::ROLE),
                ("station", field::user::STATION_ID),
                ("active", field::user::ACTIVE),
            ],
        ),
    };
    let rows: Vec<Vec<(&str, String)>> = admin
        .list(kind)?
        .iter()
        .map(|state| {
            let mut row = vec![("id", state.id.to_string())];
            for (label, name) in columns {
                let text = match state.get(name) {
                    // A place made before it could be deactivated is active (`domain::places`).
                    None if kind != EntityKind::User && *name == field::station::ACTIVE => "true".into(),
                    None => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                row.push((label, text));
            }
            row
        })
        .collect();
    if json {
        let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
            .iter()
            .map(|row| row.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone()))).collect())
            .collect();
        return print_json(&objects);
    }
    let mut header = vec![("id", String::new())];
    header.extend(columns.iter().map(|(label, _)| (*label, String::new())));
    print_table(&header.iter().map(|(k, _)| *k).collect::<Vec<_>>(), &rows);
    Ok(())
}

fn print_audit(entries: &[sync_server::storage::AuditEntry], json: bool) -> Result<(), AdminError> {
    if json {
        return print_json(&entries);
    }
    let rows: Vec<Vec<(&str, String)>> = entries
        .iter()
        .map(|e| {
            vec![
                ("seq", e.seq.to_string()),
                ("at", e.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %:z").to_string()),
                ("os_user", e.os_user.clone()),
                ("actor", e.actor.clone().unwrap_or_default()),
                ("action", e.action.clone()),
                ("target", e.target.clone()),
                ("detail", e.detail.clone()),
            ]
        })
        .collect();
    print_table(&["seq", "at", "os_user", "actor", "action", "target", "detail"], &rows);
    Ok(())
}

/// A plain table: a header row and columns padded to their widest cell (counted in characters).
fn print_table(header: &[&str], rows: &[Vec<(&str, String)>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, (_, cell)) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(|(_, cell)| cell.as_str()).collect());
    }
}
