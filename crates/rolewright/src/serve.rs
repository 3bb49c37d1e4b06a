//! `rolewright serve` and `rolewright audit`: start the control plane, and read its audit log.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use rolewright_server::audit::{AuditQuery, query};
use rolewright_server::{Config, Database, Quotas, Server};

use crate::{Format, exit};

/// Arguments of `rolewright serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Where the database and the administrator's credentials file live.
    #[arg(long, default_value = "./rolewright-data")]
    data_dir: PathBuf,
    /// The database: `sqlite:DIR` (the same as --data-dir DIR) or
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`. Several replicas may share one
    /// PostgreSQL database: each keeps the state in memory, caught up from the database's
    /// change log, and every write is checked against the latest state under the database's
    /// lock. With PostgreSQL, --master-key-file is required (the same file for every replica),
    /// and --data-dir only holds the credentials file, written by the replica that created the
    /// administrator. The schema is created or migrated at start; a database migrated by a
    /// newer rolewright is refused. GET /health tells whether the database is reachable.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// The master key that seals secret access keys and session secrets in the database: a
    /// file of 64 hexadecimal characters (32 random bytes; a trailing newline is allowed), as
    /// `rolewright admin new-master-key` writes. Without it, DATA_DIR/master.key is used, and
    /// created readable by its owner only when missing. A database sealed under one key refuses
    /// to start with another: keep a copy of the key, without it the stored secrets are lost.
    #[arg(long, value_name = "FILE")]
    master_key_file: Option<PathBuf>,
    /// Address to listen on: `127.0.0.1:4566`, `:4566` or `4566` (loopback), `localhost:0`.
    /// Port 0 picks a free port. Only loopback addresses are accepted unless --allow-remote is
    /// given.
    #[arg(long, default_value = "127.0.0.1:4566", value_parser = parse_listen)]
    listen: SocketAddr,
    /// The AWS account id served (used when the data directory is new).
    #[arg(long, default_value = "123456789012")]
    account_id: String,
    /// Listen on a non-loopback address. Requests are still signed and authorized, but travel
    /// over plain HTTP.
    #[arg(long)]
    allow_remote: bool,
    /// Roles per account (AWS's default quota is 1,000).
    #[arg(long, default_value_t = 1000)]
    max_roles: usize,
    /// The shortest session sts:AssumeRole grants, in seconds (AWS: 900). Tests lower it to
    /// watch temporary credentials expire.
    #[arg(long, default_value_t = 900, hide = true)]
    min_session_seconds: i64,
    /// How log lines on standard error look: `text` for people, `json` (one object per line,
    /// with the request id of every event) for log collectors. `RUST_LOG` chooses what is
    /// logged (default `info`; `RUST_LOG=debug` logs every request).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

/// How `rolewright serve` writes its log.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line.
    Json,
}

/// Sends the server's log to standard error, filtered by `RUST_LOG` (default `info`).
fn init_logging(format: LogFormat) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text)
            .map_err(|e| format!("RUST_LOG `{text}` is not a log filter: {e}"))?,
        _ => EnvFilter::new("info"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(
                std::env::var_os("NO_COLOR").is_none()
                    && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            )
            .try_init(),
    };
    installed.map_err(|e| format!("cannot set up logging: {e}"))
}

/// Reads `--database-url` (not through clap, whose errors would echo a password in it); an
/// error is printed, and the exit code returned.
pub fn parse_database(text: Option<&str>) -> Result<Option<Database>, u8> {
    match text.map(Database::parse).transpose() {
        Ok(database) => Ok(database),
        Err(e) => {
            eprintln!("error: {e}");
            Err(exit::INVALID)
        }
    }
}

/// Arguments of `rolewright audit`.
#[derive(Args)]
pub struct AuditArgs {
    /// The server's data directory.
    #[arg(long, default_value = "./rolewright-data")]
    data_dir: PathBuf,
    /// The server's database instead: `sqlite:DIR` or `postgres://USER@HOST:PORT/DATABASE`.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Only calls by this principal ARN.
    #[arg(long)]
    principal: Option<String>,
    /// Only calls that authorized this action (`iam:CreateRole`, or `iam:PassRole` to find the
    /// calls that passed a role), whether as their operation or as one of their decisions.
    #[arg(long)]
    action: Option<String>,
    /// Only this decision: allowed, denied (by authorization) or error (refused before).
    #[arg(long, value_parser = ["allowed", "denied", "error"])]
    decision: Option<String>,
    /// Only calls at or after this time (`2026-11-23T10:00:00Z` or `2026-11-23`).
    #[arg(long)]
    since: Option<String>,
    /// At most this many records (the newest).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Reads `--listen`: a socket address, `:PORT` or `PORT` (on 127.0.0.1), or `localhost:PORT`.
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        return port
            .parse::<u16>()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .map_err(|_| format!("`{port}` is not a port number"));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        format!("`{text}` is not an address to listen on; write 127.0.0.1:4566, :4566 or 4566")
    })
}

/// Runs the server until SIGINT or SIGTERM.
pub fn serve(args: &ServeArgs) -> u8 {
    if let Err(e) = init_logging(args.log_format) {
        eprintln!("error: {e}");
        return exit::INVALID;
    }
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        eprintln!(
            "error: {} is not a loopback address; pass --allow-remote to listen on it",
            args.listen
        );
        return exit::ERROR;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::ERROR;
        }
    };
    let database = match parse_database(args.database_url.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let mut config = Config::new(&args.data_dir);
    config.database = database;
    config.listen = args.listen;
    config.account_id = args.account_id.clone();
    config.master_key_file = args.master_key_file.clone();
    config.quotas = Quotas {
        roles: args.max_roles,
        min_session_seconds: args.min_session_seconds.clamp(1, 900),
        ..Quotas::default()
    };
    runtime.block_on(async {
        let server = match Server::open(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        };
        let addr = server.local_addr();
        let shutdown = shutdown_signal();
        println!("listening on http://{addr}");
        println!("console: http://{addr}{}", rolewright_console::PATH);
        let credentials = absolute(server.credentials_file());
        if credentials.exists() {
            println!(
                "account {}: administrator keys in {} (profile rolewright{})",
                server.account(),
                credentials.display(),
                if server.created() { ", created now" } else { "" }
            );
            println!(
                "try: AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE=rolewright aws --endpoint-url http://{addr} iam list-roles",
                credentials.display()
            );
        } else {
            // On a shared database, a replica that did not create the administrator.
            println!(
                "account {}: no credentials file at {} (the administrator's keys are in the one \
                 of the replica that created them); `rolewright admin credentials` prints them",
                server.account(),
                credentials.display()
            );
        }
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        let console = rolewright_console::router(server.state(), console_settings());
        match server.run_with(console, shutdown).await {
            Ok(()) => {
                eprintln!("rolewright: stopped");
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::ERROR
            }
        }
    })
}

/// The console's settings: its calls are made in `AWS_REGION` (then `AWS_DEFAULT_REGION`, then
/// `us-east-1`), the region the roles it builds name.
fn console_settings() -> rolewright_console::Settings {
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|r| !r.trim().is_empty()));
    let mut settings = rolewright_console::Settings::default();
    if let Some(region) = region {
        settings.region = region;
    }
    settings
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Completes on SIGTERM or SIGINT. The handlers are installed when this is called, not when it
/// is first polled: a signal sent as soon as `listening on` is printed must stop the server
/// gracefully, not kill it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, interrupt) {
                (Some(mut term), Some(mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                (Some(mut only), None) | (None, Some(mut only)) => {
                    only.recv().await;
                }
                (None, None) => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Prints audit records.
pub fn audit(args: &AuditArgs) -> u8 {
    let since_ms = match &args.since {
        Some(text) => match rolewright_server::wire::xml::parse_iso_time(text) {
            Some(t) => Some(t * 1000),
            None => {
                eprintln!(
                    "error: --since `{text}` is not a time; write 2026-11-23T10:00:00Z or 2026-11-23"
                );
                return exit::INVALID;
            }
        },
        None => None,
    };
    let q = AuditQuery {
        principal: args.principal.clone(),
        action: args.action.clone(),
        decision: args.decision.clone(),
        since_ms,
        until_ms: None,
        limit: args.limit,
    };
    let database = match parse_database(args.database_url.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let records = match &database {
        None => query(&args.data_dir, &q),
        Some(Database::Sqlite(dir)) => query(dir, &q),
        Some(Database::Postgres(url)) => query_postgres(url, &q),
    };
    let records = match records {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    match args.format {
        Format::Json => {
            for r in &records {
                println!("{}", serde_json::to_string(r).unwrap_or_default());
            }
        }
        Format::Human => {
            for r in &records {
                let time = rolewright_server::wire::xml::iso_time(r.time_ms / 1000);
                println!(
                    "{time} {:<7} {:<3} {} {} {} {}{}",
                    r.decision,
                    r.status,
                    r.principal.as_deref().unwrap_or("-"),
                    r.action.as_deref().unwrap_or("-"),
                    r.resource.as_deref().unwrap_or("-"),
                    r.error_code
                        .as_deref()
                        .map(|c| format!("{c}: "))
                        .unwrap_or_default(),
                    r.reason.as_deref().unwrap_or("")
                );
                // A request that needed several decisions lists each beneath it.
                if r.decisions.len() > 1 {
                    for d in &r.decisions {
                        println!(
                            "    {:<7} {} {} {}",
                            d.decision, d.action, d.resource, d.reason
                        );
                    }
                }
            }
            eprintln!("{} records", records.len());
        }
    }
    exit::OK
}

/// Reads the audit log from PostgreSQL.
#[cfg(feature = "postgres")]
pub(crate) fn query_postgres(
    url: &str,
    q: &AuditQuery,
) -> Result<Vec<rolewright_server::audit::AuditRecord>, rolewright_server::store::StoreError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| rolewright_server::store::StoreError::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    runtime.block_on(rolewright_server::store::postgres::query_database_audit(
        url, q,
    ))
}

#[cfg(not(feature = "postgres"))]
pub(crate) fn query_postgres(
    url: &str,
    _: &AuditQuery,
) -> Result<Vec<rolewright_server::audit::AuditRecord>, rolewright_server::store::StoreError> {
    Err(rolewright_server::store::StoreError::Unsupported(
        rolewright_server::store::redact(url),
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_listen;

    #[test]
    fn listen_addresses_default_to_loopback() {
        assert_eq!(parse_listen(":0").unwrap().to_string(), "127.0.0.1:0");
        assert_eq!(parse_listen("4566").unwrap().to_string(), "127.0.0.1:4566");
        assert_eq!(
            parse_listen("localhost:9000").unwrap().to_string(),
            "127.0.0.1:9000"
        );
        assert_eq!(parse_listen("[::1]:80").unwrap().to_string(), "[::1]:80");
        assert!(
            parse_listen("nowhere")
                .unwrap_err()
                .contains("not an address")
        );
    }
}
