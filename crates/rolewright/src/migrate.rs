//! `rolewright migrate`: moves a single-node deployment from its SQLite data directory into a
//! PostgreSQL database that replicas then share, and proves the copy whole.

use std::path::PathBuf;

use clap::Args;
use rolewright_server::Database;

use crate::exit;

/// What `rolewright migrate --help` says.
pub const LONG_ABOUT: &str = "Move a single-node deployment into PostgreSQL: every entity (users, \
    roles, policies, keys, sessions, Studio, Service Catalog and CloudFormation state) and the \
    whole audit log, in one transaction. Secrets are opened with the source's master key and \
    sealed again under --master-key-file, the key every replica of the target is then given.\n\n\
    Afterwards the target is read back and compared with the source: one line per kind \
    (KIND SOURCE TARGET ok), the audit log last, then a checksum line over everything. Exits 1 \
    on any mismatch.\n\n\
    Stop `rolewright serve` on the data directory and every replica of the target first. A \
    target that already holds entities or audit records is refused unless --force, which \
    replaces them.\n\n  \
    (umask 077; rolewright admin new-master-key > shared.key)\n  \
    rolewright migrate --from sqlite:./rolewright-data \\\n      \
    --to postgres://rolewright@db:5432/rolewright --master-key-file shared.key\n  \
    rolewright serve --database-url postgres://rolewright@db:5432/rolewright \\\n      \
    --master-key-file shared.key --data-dir ./rolewright-data";

/// Arguments of `rolewright migrate`.
#[derive(Args)]
pub struct MigrateArgs {
    /// The deployment to move: `sqlite:DIR`, its data directory.
    #[arg(long, value_name = "sqlite:DIR")]
    from: String,
    /// Where to: `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE` (the database must exist).
    #[arg(long, value_name = "URL")]
    to: String,
    /// The master key the target's secrets are sealed under (64 hexadecimal characters, from
    /// `rolewright admin new-master-key`); give the same file to every replica.
    #[arg(long, value_name = "FILE")]
    master_key_file: PathBuf,
    /// The master key the source's secrets are sealed under; DIR/master.key when not given.
    #[arg(long, value_name = "FILE")]
    from_master_key_file: Option<PathBuf>,
    /// Replace whatever the target holds.
    #[arg(long)]
    force: bool,
}

/// Runs `rolewright migrate`.
pub fn run(args: &MigrateArgs) -> u8 {
    // Parsed here rather than by clap, whose errors would echo a password in the URL.
    let from = match Database::parse(&args.from) {
        Ok(Database::Sqlite(dir)) => dir,
        Ok(Database::Postgres(url)) => {
            eprintln!(
                "error: --from `{}` is PostgreSQL; migrate moves a SQLite data directory \
                 (--from sqlite:DIR) into PostgreSQL",
                rolewright_server::store::redact(&url)
            );
            return exit::INVALID;
        }
        Err(e) => {
            eprintln!("error: {}", e.replace("--database-url", "--from"));
            return exit::INVALID;
        }
    };
    let to = match Database::parse(&args.to) {
        Ok(Database::Postgres(url)) => url,
        Ok(Database::Sqlite(dir)) => {
            eprintln!(
                "error: --to `sqlite:{}` is SQLite; the target is a PostgreSQL URL \
                 (--to postgres://USER@HOST:PORT/DATABASE)",
                dir.display()
            );
            return exit::INVALID;
        }
        Err(e) => {
            eprintln!("error: {}", e.replace("--database-url", "--to"));
            return exit::INVALID;
        }
    };
    run_on(args, &from, &to)
}

#[cfg(feature = "postgres")]
fn run_on(args: &MigrateArgs, from: &std::path::Path, to: &str) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::ERROR;
        }
    };
    let report = runtime.block_on(rolewright_server::migrate_to_postgres(
        from,
        args.from_master_key_file.as_deref(),
        to,
        &args.master_key_file,
        args.force,
    ));
    match report {
        Ok(report) => {
            for line in report.lines() {
                println!("{line}");
            }
            if report.matches() {
                eprintln!(
                    "migrated {} into {}; start the replicas with --database-url and \
                     --master-key-file {}",
                    from.display(),
                    rolewright_server::store::redact(to),
                    args.master_key_file.display()
                );
                exit::OK
            } else {
                eprintln!(
                    "error: the copy in {} does not read back as the source (see MISMATCH \
                     above); do not serve it",
                    rolewright_server::store::redact(to)
                );
                exit::ERROR
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

#[cfg(not(feature = "postgres"))]
fn run_on(_: &MigrateArgs, _: &std::path::Path, to: &str) -> u8 {
    eprintln!(
        "error: {}",
        rolewright_server::store::StoreError::Unsupported(rolewright_server::store::redact(to))
    );
    exit::ERROR
}
