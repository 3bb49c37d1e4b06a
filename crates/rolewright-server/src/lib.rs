//! The rolewright control plane: an AWS-compatible IAM and STS service that boto3, the AWS CLI
//! and the AWS SDKs drive with `--endpoint-url`. Every request is SigV4-verified, authorized
//! by the rolewright policy engine, logged to an audit log, and every acknowledged write is on
//! disk (SQLite, WAL, full sync), with its secrets sealed under a master key.
//!
//! ```no_run
//! # async fn run() -> Result<(), rolewright_server::ServeError> {
//! let config = rolewright_server::Config::new("./rolewright-data");
//! let server = rolewright_server::Server::open(config).await?;
//! println!("listening on http://{}", server.local_addr());
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod audit;
pub mod auth;
pub mod authz;
pub mod cloudformation;
pub mod error;
pub mod iam;
pub mod ids;
pub mod managed;
pub mod master_key;
pub mod model;
pub mod operation;
pub mod router;
pub mod sagemaker;
pub mod server;
pub mod service_model;
pub mod servicecatalog;
pub mod store;
pub mod sts;
pub mod studio;
pub mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::serve::ListenerExt as _;

use crate::master_key::{KEY_FILE, MasterKey, MasterKeyError};
use crate::model::{AccessKey, Change, KeyStatus, State, kind};
pub use crate::router::app;
use crate::server::App;
pub use crate::server::Quotas;
pub use crate::store::Database;
use crate::store::{DB_FILE, Store, StoreError, create_private_file};

/// The bootstrap administrator's user name.
pub const ADMIN_USER: &str = "admin";
/// The profile written to `DIR/credentials`.
pub const PROFILE: &str = "rolewright";

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the SQLite database (unless `database` names another) and the credentials file
    /// live.
    pub data_dir: PathBuf,
    /// The database: `None` is SQLite in `data_dir`; `Database::Sqlite(DIR)` makes `DIR` the
    /// data directory; `Database::Postgres(URL)` shares a PostgreSQL database with other
    /// replicas (it needs `master_key_file`, the same for every replica).
    pub database: Option<Database>,
    /// The address to listen on (`127.0.0.1:4566`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// The account id used when the data directory is new.
    pub account_id: String,
    /// Limits.
    pub quotas: Quotas,
    /// The file holding the master key that seals the stored secrets; `None` uses
    /// `DATA_DIR/master.key`, created on first start.
    pub master_key_file: Option<PathBuf>,
}

impl Config {
    /// Defaults: 127.0.0.1:4566, account 123456789012.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            database: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 4566)),
            account_id: "123456789012".into(),
            quotas: Quotas::default(),
            master_key_file: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The master key file.
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    /// Listening or the data directory.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
}

/// A server bound to its address, ready to run.
pub struct Server {
    app: Arc<App>,
    /// Held while serving: one server per SQLite data directory.
    _lock: Option<std::fs::File>,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    credentials_file: PathBuf,
    created: bool,
}

impl Server {
    /// Opens the data directory (creating it, the account and the bootstrap administrator on
    /// first start), writes the administrator's credentials file if it is missing, and binds.
    pub async fn open(mut config: Config) -> Result<Server, ServeError> {
        if config.account_id.len() != 12 || !config.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ServeError::Config(format!(
                "--account-id must be 12 digits, not `{}`",
                config.account_id
            )));
        }
        if let Some(Database::Sqlite(dir)) = &config.database {
            config.data_dir = dir.clone();
            config.database = None;
        }
        create_private_dir(&config.data_dir)?;
        let lock = match &config.database {
            None => Some(lock_data_dir(&config.data_dir)?),
            Some(_) => None,
        };
        let store = open_store(&config).await?;
        {
            let state = store.read();
            if state.account != config.account_id && config.account_id != "123456789012" {
                let database = match &config.database {
                    Some(d) => d.describe(),
                    None => config.data_dir.display().to_string(),
                };
                return Err(ServeError::Config(format!(
                    "{} holds account {}; it cannot be served as account {}",
                    database, state.account, config.account_id
                )));
            }
        }
        let app = Arc::new_cyclic(|me| App {
            store,
            cache: Default::default(),
            quotas: config.quotas.clone(),
            last_used: Default::default(),
            signing_keys: Default::default(),
            me: me.clone(),
            private_paths: [
                Some(config.data_dir.clone()),
                config.master_key_file.clone(),
            ]
            .into_iter()
            .flatten()
            .filter_map(|p| p.canonicalize().ok())
            .collect(),
        });
        install_managed_policies(&app);
        let created = bootstrap(&app).await?;
        ensure_studio_key(&app).await?;
        // Alone, everything in progress was interrupted by the stop. On a shared database,
        // another replica may be running it: only what has stopped moving is.
        let idle_since = if app.store.is_shared() {
            server::now_ms() - ABANDONED_AFTER_MS
        } else {
            i64::MAX
        };
        recover_interrupted(&app, idle_since)
            .await
            .map_err(|e| ServeError::Config(format!("cannot end interrupted work: {e}")))?;
        let credentials_file = config.data_dir.join("credentials");
        // On a shared database, the administrator's keys go to the replica that created them;
        // `rolewright admin credentials --database-url` prints them for the others.
        let write = if app.store.is_shared() {
            created
        } else {
            !credentials_file.exists()
        };
        if write {
            write_credentials(&app, &credentials_file)?;
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServeError::Io {
                context: format!("cannot listen on {}", config.listen),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| ServeError::Io {
            context: "cannot read the listening address".into(),
            source,
        })?;
        Ok(Server {
            app,
            _lock: lock,
            listener,
            local_addr,
            credentials_file,
            created,
        })
    }

    /// The control plane's router on this server's state (what [`Server::run`] serves), for
    /// driving requests without a socket (`tower::ServiceExt::oneshot`).
    pub fn router(&self) -> axum::Router {
        app(self.app.clone())
    }

    /// The shared state this server serves, for front ends that run operations on it as a
    /// signed-in principal (the web console) beside [`Server::router`].
    pub fn state(&self) -> Arc<App> {
        self.app.clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The administrator's credentials file.
    pub fn credentials_file(&self) -> &Path {
        &self.credentials_file
    }

    /// Whether this start created the data directory's account and administrator.
    pub fn created(&self) -> bool {
        self.created
    }

    /// The account served.
    pub fn account(&self) -> String {
        self.app.store.read().account.clone()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and flushes the
    /// store.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.run_with(axum::Router::new(), shutdown).await
    }

    /// [`Server::run`], serving `extra`'s routes (the web console's) beside the control plane,
    /// which answers every path `extra` does not route.
    pub async fn run_with(
        self,
        extra: axum::Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let router = extra.merge(app(self.app.clone()));
        let (stop_persister, mut persister_stopped) = tokio::sync::watch::channel(false);
        let persister = {
            let app = self.app.clone();
            tokio::spawn(async move {
                // Every minute alone; every second on a shared database, where another replica
                // answers GetRole from the stored role. Stopped between writes, never in one.
                let period = if app.store.is_shared() { 1 } else { 60 };
                let mut every = tokio::time::interval(std::time::Duration::from_secs(period));
                let mut last_sweep = tokio::time::Instant::now();
                loop {
                    tokio::select! {
                        _ = every.tick() => app.persist_last_used().await,
                        _ = persister_stopped.changed() => break,
                    }
                    // On a shared database, what a stopped replica left in progress is ended
                    // by whichever replica sees it first.
                    if app.store.is_shared()
                        && last_sweep.elapsed() >= std::time::Duration::from_secs(60)
                    {
                        last_sweep = tokio::time::Instant::now();
                        let idle_since = server::now_ms() - ABANDONED_AFTER_MS;
                        if let Err(error) = recover_interrupted(&app, idle_since).await {
                            tracing::warn!(%error, "cannot end work left in progress");
                        }
                    }
                }
            })
        };
        // Every reply is one small write that the client waits for: send it at once.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY could not be set");
            }
        });
        let result = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop_persister.send(true);
        let _ = persister.await;
        self.app.persist_last_used().await;
        if let Err(error) = self.app.store.flush().await {
            tracing::error!(%error, "the last writes could not be stored at shutdown");
        }
        result.map_err(|source| ServeError::Io {
            context: "server stopped".into(),
            source,
        })
    }
}

/// Where a master key came from, for the messages that name it.
enum KeySource<'p> {
    /// `--master-key-file`.
    Given(&'p Path),
    /// `DATA_DIR/master.key`, there before this start.
    DataDir(PathBuf),
    /// `DATA_DIR/master.key`, made by this start.
    Created(PathBuf),
}

/// Opens the store with the configured master key, or with `DATA_DIR/master.key` (made when
/// missing). A key made now that cannot open the database is removed again, so that a later
/// start does not take it for the right one.
async fn open_store(config: &Config) -> Result<Store, ServeError> {
    let (key, source) = match (&config.master_key_file, &config.database) {
        (Some(file), _) => (MasterKey::read_file(file)?, KeySource::Given(file)),
        (None, Some(database)) => {
            return Err(ServeError::Config(format!(
                "{} is shared by every replica, so each must be given the same master key: \
                 pass --master-key-file FILE (make one with `rolewright admin new-master-key`)",
                database.describe()
            )));
        }
        (None, None) => {
            let (key, created) = MasterKey::load_or_create(&config.data_dir)?;
            let path = config.data_dir.join(KEY_FILE);
            if created {
                (key, KeySource::Created(path))
            } else {
                (key, KeySource::DataDir(path))
            }
        }
    };
    let database = config
        .database
        .clone()
        .unwrap_or_else(|| Database::Sqlite(config.data_dir.clone()));
    match Store::open_database(&database, &config.account_id, key).await {
        Ok(store) => {
            if let KeySource::Created(file) = &source {
                tracing::info!(
                    file = %file.display(),
                    "created the master key that seals the stored secrets; keep a copy of it: \
                     without it they cannot be read"
                );
            }
            Ok(store)
        }
        Err(StoreError::WrongMasterKey { path }) => {
            if let KeySource::Created(file) = &source {
                let _ = std::fs::remove_file(file);
            }
            Err(ServeError::Config(wrong_key_message(&path, &source)))
        }
        Err(e) => Err(e.into()),
    }
}

/// What to tell an operator whose master key does not open the database.
fn wrong_key_message(database: &Path, source: &KeySource<'_>) -> String {
    let db = database.display();
    match source {
        KeySource::Given(file) => format!(
            "the master key in {} does not open {db}: its secrets were sealed under another \
             master key; pass the --master-key-file they were sealed with",
            file.display()
        ),
        KeySource::DataDir(file) => format!(
            "the master key in {} does not open {db}: its secrets were sealed under another \
             master key; pass the key they were sealed with as --master-key-file FILE",
            file.display()
        ),
        KeySource::Created(file) => format!(
            "{db} holds secrets sealed under a master key, but {} is missing; pass the key they \
             were sealed with as --master-key-file FILE, or put it back in {}",
            file.display(),
            file.display()
        ),
    }
}

/// The bootstrap administrator's credentials as `DATA_DIR/credentials` holds them (the shared
/// credentials format, profile `rolewright`), read from the database with the master key in
/// `master_key_file`, or in `DATA_DIR/master.key` when none is given. Works beside a running
/// server.
pub fn admin_credentials(
    data_dir: &Path,
    master_key_file: Option<&Path>,
) -> Result<String, ServeError> {
    let default_file = data_dir.join(KEY_FILE);
    let (key, source) = match master_key_file {
        Some(file) => (Some(MasterKey::read_file(file)?), KeySource::Given(file)),
        None if default_file.exists() => (
            Some(MasterKey::read_file(&default_file)?),
            KeySource::DataDir(default_file),
        ),
        None => (None, KeySource::Created(default_file)),
    };
    let state = match store::read_state(data_dir, key.as_ref()) {
        Ok(state) => state,
        Err(StoreError::WrongMasterKey { path } | StoreError::NoMasterKey { path }) => {
            return Err(ServeError::Config(wrong_key_message(&path, &source)));
        }
        Err(e) => return Err(e.into()),
    };
    credentials_text(&state).ok_or_else(|| {
        ServeError::Config(format!(
            "{}: the administrator `{ADMIN_USER}` has no active access key",
            data_dir.join(DB_FILE).display()
        ))
    })
}

/// [`admin_credentials`] for any database: for PostgreSQL, `master_key_file` is required.
pub async fn admin_credentials_of(
    database: &Database,
    master_key_file: Option<&Path>,
) -> Result<String, ServeError> {
    let url = match database {
        Database::Sqlite(dir) => return admin_credentials(dir, master_key_file),
        Database::Postgres(url) => url,
    };
    let Some(file) = master_key_file else {
        return Err(ServeError::Config(format!(
            "{}: pass the --master-key-file its replicas are given",
            database.describe()
        )));
    };
    let key = MasterKey::read_file(file)?;
    let state = match store::read_database_state(database, Some(&key)).await {
        Ok(state) => state,
        Err(StoreError::WrongMasterKey { path } | StoreError::NoMasterKey { path }) => {
            return Err(ServeError::Config(wrong_key_message(
                &path,
                &KeySource::Given(file),
            )));
        }
        Err(e) => return Err(e.into()),
    };
    credentials_text(&state).ok_or_else(|| {
        ServeError::Config(format!(
            "{}: the administrator `{ADMIN_USER}` has no active access key",
            store::redact(url)
        ))
    })
}

/// `rolewright migrate`: copies the single-node deployment in `from_dir` (its secrets opened
/// with `from_key_file`, or `DIR/master.key` when there is one) into the PostgreSQL database
/// `to` (sealed under the key in `to_key_file`, which its replicas are then given), and reads
/// it back to compare (see [`store::migration`]). Holds the data directory's lock meanwhile, so
/// no server writes the source during the copy; refuses while one does.
#[cfg(feature = "postgres")]
pub async fn migrate_to_postgres(
    from_dir: &Path,
    from_key_file: Option<&Path>,
    to: &str,
    to_key_file: &Path,
    force: bool,
) -> Result<store::migration::MigrationReport, ServeError> {
    if !from_dir.join(DB_FILE).exists() {
        return Err(ServeError::Config(format!(
            "{}: no rolewright database here (looked for {DB_FILE})",
            from_dir.display()
        )));
    }
    let _lock = lock_data_dir(from_dir)?;
    let default_file = from_dir.join(KEY_FILE);
    let (from_key, source) = match from_key_file {
        Some(file) => (Some(MasterKey::read_file(file)?), KeySource::Given(file)),
        None if default_file.exists() => (
            Some(MasterKey::read_file(&default_file)?),
            KeySource::DataDir(default_file),
        ),
        None => (None, KeySource::Created(default_file)),
    };
    let to_key = MasterKey::read_file(to_key_file)?;
    match store::migration::sqlite_to_postgres(from_dir, from_key.as_ref(), to, &to_key, force)
        .await
    {
        Ok(report) => Ok(report),
        Err(StoreError::WrongMasterKey { path } | StoreError::NoMasterKey { path }) => {
            Err(ServeError::Config(wrong_key_message(&path, &source)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Takes the data directory's lock file, so that two servers never write one database.
fn lock_data_dir(dir: &Path) -> Result<std::fs::File, ServeError> {
    let path = dir.join("rolewright.lock");
    create_private_file(&path)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|source| ServeError::Io {
            context: format!("cannot open {}", path.display()),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServeError::Config(format!(
            "{} is in use by another `rolewright serve`; stop it or choose another --data-dir",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(source)) => Err(ServeError::Io {
            context: format!("cannot lock {}", path.display()),
            source,
        }),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), ServeError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| ServeError::Io {
        context: format!("cannot create the data directory {}", dir.display()),
        source,
    })
}

fn install_managed_policies(app: &App) {
    let policies = managed::all();
    // Not persisted: AWS managed policies come with the binary.
    app.store.setup(|state| {
        for policy in &policies {
            state.policies.insert(policy.arn.clone(), policy.clone());
        }
    });
}

/// Creates the administrator on a new data directory: user `admin` with AdministratorAccess
/// and one access key.
async fn bootstrap(app: &App) -> Result<bool, ServeError> {
    if app.store.read().bootstrapped && !app.store.is_shared() {
        return Ok(false);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Decided in the write, against the latest state: of replicas starting together on one
    // database, one creates the administrator.
    app.store
        .write(None, |state| {
            if state.bootstrapped {
                return Ok((false, Vec::new()));
            }
            let mut user = iam::new_user(ADMIN_USER, "/", now, Vec::new(), None);
            user.attached
                .push("arn:aws:iam::aws:policy/AdministratorAccess".into());
            let key = AccessKey {
                id: ids::access_key_id("AKIA"),
                secret: ids::secret(),
                user: user.name.clone(),
                status: KeyStatus::Active,
                created: now,
            };
            let changes = vec![
                Change::put(kind::USER, ADMIN_USER, &user),
                Change::put(kind::ACCESS_KEY, key.id.clone(), &key),
                Change::Put {
                    kind: kind::META,
                    id: "bootstrapped".into(),
                    body: "true".into(),
                },
            ];
            state.users.insert(ADMIN_USER.into(), user);
            state.access_keys.insert(key.id.clone(), key);
            state.bootstrapped = true;
            Ok((true, changes))
        })
        .await
        .map_err(|e| ServeError::Config(format!("cannot create the administrator: {e}")))
}

/// On a shared database, work in progress that has not moved for this long was left by a
/// replica that stopped (a live one moves its stacks and records within seconds); every replica
/// looks for it every minute.
const ABANDONED_AFTER_MS: i64 = 120_000;

/// Ends what a stopped server left half done: stacks in an `*_IN_PROGRESS` status and Service
/// Catalog records that had not ended, whose work died with the process, among those that have
/// not moved since `idle_since_ms`.
async fn recover_interrupted(app: &App, idle_since_ms: i64) -> Result<(), error::ApiError> {
    let ended = app
        .store
        .write(None, |state| {
            let mut changes = cloudformation::stack::interrupted(state, idle_since_ms);
            changes.extend(servicecatalog::provisioning::interrupted(
                state,
                idle_since_ms,
            ));
            let ended = changes.len();
            Ok((ended, changes))
        })
        .await?;
    if ended > 0 {
        tracing::warn!(
            ended,
            "stacks and provisioning records left in progress by a stopped server were ended \
             as failed"
        );
    }
    Ok(())
}

/// Makes the key presigned Studio URLs are signed with, once per data directory, so that links
/// outlive a restart.
async fn ensure_studio_key(app: &App) -> Result<(), ServeError> {
    if app.store.read().studio_url_key.is_some() {
        return Ok(());
    }
    let key = ids::hex_secret(32);
    app.store
        .write(None, |state| {
            if state.studio_url_key.is_some() {
                return Ok(((), Vec::new()));
            }
            state.studio_url_key = Some(key.clone());
            let change = Change::Put {
                kind: kind::META,
                id: "studio_url_key".into(),
                body: key,
            };
            Ok(((), vec![change]))
        })
        .await
        .map_err(|e| ServeError::Config(format!("cannot create the Studio URL key: {e}")))
}

/// The administrator's first active key in the shared-credentials format; `None` when it has
/// none.
fn credentials_text(state: &State) -> Option<String> {
    let key = state
        .access_keys
        .values()
        .find(|k| k.user == ADMIN_USER && k.status == KeyStatus::Active)?;
    Some(format!(
        "# rolewright bootstrap administrator (user {ADMIN_USER}, AdministratorAccess)\n[{PROFILE}]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = us-east-1\n",
        key.id, key.secret
    ))
}

/// Writes the administrator's first active key in the shared-credentials format, owner-only.
fn write_credentials(app: &App, path: &Path) -> Result<(), ServeError> {
    let Some(text) = credentials_text(&app.store.read()) else {
        return Ok(());
    };
    create_private_file(path)?;
    std::fs::write(path, text).map_err(|source| ServeError::Io {
        context: format!("cannot write {}", path.display()),
        source,
    })
}
