//! Durable state, on one of two backends: SQLite (the default, embedded, one process per data
//! directory; [`sqlite`]) or PostgreSQL (several replicas sharing one database; `postgres`,
//! behind the cargo feature of that name), chosen by a [`Database`] URL.
//!
//! Readers see the committed state only, from memory, on both backends: a write is validated
//! against a working copy, made durable, and only then applied to the committed state and
//! acknowledged. A refused commit leaves the committed state as it was and resets the working
//! copy to it.
//!
//! - SQLite validates each write against the working copy at once and commits the queued writes
//!   in batches from one writer thread (group commit); one process serves the file, so the
//!   working copy is never behind the database.
//! - PostgreSQL replicas share the database, so a write takes the database's write lock first,
//!   catches up from its ordered change log, validates against that latest state, commits the
//!   change and its log entries, and only then changes memory and answers. Other replicas are
//!   woken by `NOTIFY` and catch up by sequence number; an unknown access key or session token
//!   makes a replica catch up before it refuses the request.
//!
//! Secrets are sealed under the master key on their way to either database and opened on their
//! way back (`master_key`); a database whose key check value the key does not open is refused.
//! Each backend records its schema version and migrates older schemas at start; a database of a
//! newer version than this build knows is refused, saying so.

pub mod sqlite;

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "postgres")]
pub mod migration;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use tokio::sync::oneshot;

use crate::audit::{AuditQuery, AuditRecord};
use crate::error::ApiError;
use crate::master_key::{MasterKey, open_row};
use crate::model::{Change, State};

pub use sqlite::{DB_FILE, open_read_only};

/// Where the state lives: `sqlite:DIR` (a data directory) or `postgres://USER@HOST:PORT/DB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// The SQLite database in this data directory.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl Database {
    /// Reads a `--database-url`: `sqlite:DIR`, `sqlite://DIR`, or a PostgreSQL URL.
    pub fn parse(url: &str) -> Result<Database, String> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let dir = rest.strip_prefix("//").unwrap_or(rest);
            if dir.is_empty() {
                return Err(format!(
                    "--database-url `{url}` names no directory; write sqlite:DIR"
                ));
            }
            return Ok(Database::Sqlite(PathBuf::from(dir)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_string()));
        }
        Err(format!(
            "--database-url `{}` is neither sqlite:DIR nor postgres://USER@HOST:PORT/DATABASE",
            redact(url)
        ))
    }

    /// How messages name it: the directory, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(dir) => format!("sqlite:{}", dir.display()),
            Database::Postgres(url) => redact(url),
        }
    }
}

/// A URL with its password (the text between `:` and `@` of its authority) replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Why the store could not start or write.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// PostgreSQL could not be reached or said no.
    #[error("database {database}: {message}")]
    Postgres {
        /// The database's URL, without its password.
        database: String,
        /// What failed, with the cause.
        message: String,
    },
    /// The database was written by a newer rolewright.
    #[error(
        "database {database}: its schema is version {found}, newer than the {known} this \
         rolewright knows; a newer rolewright migrated it, so run that version (or newer)"
    )]
    SchemaTooNew {
        /// The database.
        database: String,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A stored entity no longer parses.
    #[error("database {path}: stored {kind} `{id}` is unreadable: {message}")]
    Corrupt {
        /// The database file (or PostgreSQL URL, without its password).
        path: PathBuf,
        /// Entity kind.
        kind: String,
        /// Entity id.
        id: String,
        /// What failed.
        message: String,
    },
    /// The master key does not open the key check value: the secrets were sealed under
    /// another key.
    #[error("database {path}: its secrets are sealed under another master key")]
    WrongMasterKey {
        /// The database file (or PostgreSQL URL, without its password).
        path: PathBuf,
    },
    /// The database's secrets are sealed and no master key was given.
    #[error("database {path}: its secrets are sealed and no master key was given")]
    NoMasterKey {
        /// The database file (or PostgreSQL URL, without its password).
        path: PathBuf,
    },
    /// Filesystem trouble.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The backend was not built in.
    #[error(
        "database {0}: this rolewright was built without PostgreSQL support (cargo feature \
         `postgres`)"
    )]
    Unsupported(String),
}

/// Why a write was not acknowledged.
pub(crate) type Refusal = String;

/// How soon a write must be on stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Synced before it is acknowledged: what a client is told has happened.
    Sync,
    /// Committed (readers see it, and a killed process keeps it), synced with the next `Sync`
    /// write: the steps of a longer operation whose last write is `Sync`. The log is a prefix
    /// on stable storage, so a power loss forgets the last steps, never a step in the middle.
    /// On PostgreSQL, committed with `synchronous_commit` off.
    Relaxed,
}

/// The state writes are validated against: the committed state plus the writes queued but not
/// yet committed. Its epoch moves each time it is reset to the committed state after a refused
/// commit.
pub(crate) struct Working {
    pub(crate) state: State,
    pub(crate) epoch: u64,
}

/// What makes the state durable.
enum Backend {
    Sqlite {
        jobs: std::sync::mpsc::Sender<sqlite::Job>,
        failing: Arc<std::sync::atomic::AtomicBool>,
        dir: PathBuf,
    },
    #[cfg(feature = "postgres")]
    Postgres(Arc<postgres::Replica>),
}

/// How the store stands with its database, for `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// Whether the database answers (SQLite: whether its last commit succeeded).
    pub database_up: bool,
    /// The newest change-log entry applied to memory (always 0 on SQLite, which has no log).
    pub applied_seq: i64,
    /// Milliseconds since the replica last confirmed with the database that it had every
    /// change (0 on SQLite, where memory is never behind).
    pub lag_ms: i64,
}

/// The state and its writer.
pub struct Store {
    committed: Arc<RwLock<State>>,
    working: Arc<Mutex<Working>>,
    audits: Arc<Mutex<Vec<AuditRecord>>>,
    backend: Backend,
    path: PathBuf,
    /// Moved by the backend each time the committed state changes ([`Store::change_position`]).
    position: Arc<AtomicU64>,
}

impl Store {
    /// Opens (creating if needed) the SQLite database in `dir` and loads the state, its secrets
    /// opened with `key`. `account` is used only when the database is new. A database sealed
    /// under another key is refused ([`StoreError::WrongMasterKey`]); one with plaintext
    /// secrets (written before sealing) has them sealed in place, and the old plaintext
    /// scrubbed from the file, before anything is served.
    pub fn open(dir: &Path, account: &str, key: MasterKey) -> Result<Store, StoreError> {
        let opened = sqlite::open(dir, account, key)?;
        Ok(Store {
            committed: opened.committed,
            working: opened.working,
            audits: opened.audits,
            backend: Backend::Sqlite {
                jobs: opened.jobs,
                failing: opened.failing,
                dir: dir.to_path_buf(),
            },
            path: dir.join(DB_FILE),
            position: opened.position,
        })
    }

    /// Opens the store on `database`: [`Store::open`] for SQLite; for PostgreSQL, connects,
    /// migrates the schema, checks the master key, loads the state and starts following the
    /// change log (which needs a Tokio runtime).
    pub async fn open_database(
        database: &Database,
        account: &str,
        key: MasterKey,
    ) -> Result<Store, StoreError> {
        match database {
            Database::Sqlite(dir) => Store::open(dir, account, key),
            #[cfg(feature = "postgres")]
            Database::Postgres(url) => {
                let replica = postgres::Replica::open(url, account, key).await?;
                Ok(Store {
                    committed: replica.committed.clone(),
                    working: replica.working.clone(),
                    audits: replica.audits.clone(),
                    path: PathBuf::from(replica.name()),
                    position: replica.position.clone(),
                    backend: Backend::Postgres(replica),
                })
            }
            #[cfg(not(feature = "postgres"))]
            Database::Postgres(url) => Err(StoreError::Unsupported(redact(url))),
        }
    }

    /// The database: the SQLite file, or the PostgreSQL URL without its password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether several replicas may share the database (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        !matches!(self.backend, Backend::Sqlite { .. })
    }

    /// Reads the committed state: everything acknowledged, nothing that was not.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        match self.committed.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Where the committed state stands in its history of changes: a number that moves (never
    /// back) each time the committed state changes, and only then: each committed write on
    /// SQLite; on PostgreSQL, this replica's writes and every batch of another replica's changes
    /// applied from the change log (and a reload). Reading it is one atomic load, so a reader can
    /// keep what it derived from the state (an analysis of the account) and rebuild only when the
    /// position has moved.
    ///
    /// The position moves while the new state is held for writing, so a reader that reads the
    /// position first and the state afterwards sees a state at least as new as the position
    /// says: what it derives may be newer than its key, never older. It counts from 0 each time
    /// the store opens, and is this process's alone (two replicas' positions are unrelated).
    pub fn change_position(&self) -> u64 {
        self.position.load(Ordering::Acquire)
    }

    /// Sets up what is not persisted (the AWS managed policies) before serving: `setup` runs on
    /// the committed state and on the working copy alike.
    pub fn setup(&self, setup: impl Fn(&mut State)) {
        let mut working = lock(&self.working);
        let mut committed = match self.committed.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        setup(&mut committed);
        setup(&mut working.state);
        self.position.fetch_add(1, Ordering::Release);
    }

    /// Validates and applies a change to the working copy, commits it, and only then makes it
    /// visible to readers and returns. `apply` must validate before it mutates: when it returns
    /// an error, the state must be untouched. The audit record, when given, is committed in
    /// the same transaction as the change. When the commit is refused, readers never see the
    /// change and the caller gets `ServiceFailure` (SQLite) or `ServiceUnavailable`
    /// (PostgreSQL unreachable).
    pub async fn write<T>(
        &self,
        audit: Option<AuditRecord>,
        apply: impl FnOnce(&mut State) -> Result<(T, Vec<Change>), ApiError>,
    ) -> Result<T, ApiError> {
        self.write_as(Durability::Sync, audit, apply).await
    }

    /// [`Store::write`] with the durability given: a `Relaxed` write is acknowledged once
    /// committed, before it is synced.
    pub async fn write_as<T>(
        &self,
        durability: Durability,
        audit: Option<AuditRecord>,
        apply: impl FnOnce(&mut State) -> Result<(T, Vec<Change>), ApiError>,
    ) -> Result<T, ApiError> {
        let jobs = match &self.backend {
            Backend::Sqlite { jobs, .. } => jobs,
            #[cfg(feature = "postgres")]
            // Boxed: the database's future is large, and writes nest deeply in a stack's work.
            Backend::Postgres(replica) => {
                return Box::pin(replica.write(durability, audit, apply)).await;
            }
        };
        let (ack, done) = oneshot::channel();
        let value = {
            let mut working = lock(&self.working);
            let epoch = working.epoch;
            let (value, changes) = apply(&mut working.state)?;
            // Sent under the lock so that the disk sees changes in the order the working copy did.
            let job = sqlite::Job::Write {
                changes,
                audit: audit.map(Box::new),
                durable: durability == Durability::Sync,
                epoch,
                ack,
            };
            if jobs.send(job).is_err() {
                return Err(ApiError::service_failure());
            }
            value
        };
        match done.await {
            Ok(Ok(())) => Ok(value),
            Ok(Err(reason)) => {
                tracing::error!(%reason, "the change was not stored; it is not visible");
                Err(ApiError::service_failure())
            }
            Err(_) => {
                tracing::error!("the store's writer has stopped");
                Err(ApiError::service_failure())
            }
        }
    }

    /// Buffers an audit record; it is committed with the next write, or within 25 ms.
    pub fn audit(&self, record: AuditRecord) {
        let buffered = {
            let mut audits = lock(&self.audits);
            audits.push(record);
            audits.len()
        };
        if buffered == sqlite::AUDIT_NUDGE
            && let Backend::Sqlite { jobs, .. } = &self.backend
        {
            let _ = jobs.send(sqlite::Job::Nudge);
        }
    }

    /// Waits until everything queued so far is on disk; an error says why it is not.
    pub async fn flush(&self) -> Result<(), String> {
        match &self.backend {
            Backend::Sqlite { jobs, .. } => {
                let (ack, done) = oneshot::channel();
                if jobs.send(sqlite::Job::Flush(ack)).is_err() {
                    return Err("the store's writer has stopped".into());
                }
                done.await
                    .unwrap_or_else(|_| Err("the store's writer has stopped".into()))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(replica) => replica.flush_audits().await,
        }
    }

    /// Brings memory up to date with the database's change log, for a read that missed (an
    /// access key or session token this replica has not seen). Says whether anything new was
    /// applied; an error when the database cannot be asked. Nothing to do on SQLite.
    pub async fn catch_up(&self) -> Result<bool, String> {
        match &self.backend {
            Backend::Sqlite { .. } => Ok(false),
            #[cfg(feature = "postgres")]
            Backend::Postgres(replica) => Box::pin(replica.catch_up()).await.map(|n| n > 0),
        }
    }

    /// Waits (briefly) until the changes this replica has been notified of are applied, so that
    /// a request arriving just after another replica's write sees it. Nothing to do on SQLite.
    pub async fn settle(&self) {
        #[cfg(feature = "postgres")]
        if let Backend::Postgres(replica) = &self.backend {
            replica.settle().await;
        }
    }

    /// Removes the change log's entries older than `retention` (replicas prune it every minute,
    /// keeping 10 minutes); a replica further behind reloads the whole state. Says how many
    /// entries went; nothing to do on SQLite, which has no log.
    pub async fn prune_log(&self, retention: std::time::Duration) -> Result<u64, String> {
        match &self.backend {
            Backend::Sqlite { .. } => {
                let _ = retention;
                Ok(0)
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(replica) => replica.prune_log(retention).await,
        }
    }

    /// How the store stands with its database.
    pub fn health(&self) -> Health {
        match &self.backend {
            Backend::Sqlite { failing, .. } => Health {
                database_up: !failing.load(Ordering::Relaxed),
                applied_seq: 0,
                lag_ms: 0,
            },
            #[cfg(feature = "postgres")]
            Backend::Postgres(replica) => replica.health(),
        }
    }

    /// Reads audit records from this store's database, oldest first (what `rolewright audit`
    /// prints). Flush first to see the records just buffered.
    pub async fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        match &self.backend {
            Backend::Sqlite { dir, .. } => crate::audit::query(dir, q),
            #[cfg(feature = "postgres")]
            Backend::Postgres(replica) => replica.query_audit(q).await,
        }
    }
}

#[cfg(feature = "postgres")]
impl Drop for Store {
    fn drop(&mut self) {
        if let Backend::Postgres(replica) = &self.backend {
            replica.stop();
        }
    }
}

/// Creates an empty file readable and writable by its owner only.
pub fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(|_| ())
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads the state of a data directory without serving it (for `rolewright admin
/// credentials`, also beside a running server). Its secrets are opened with `key`; without one,
/// only a database that holds no sealed secret can be read.
pub fn read_state(dir: &Path, key: Option<&MasterKey>) -> Result<State, StoreError> {
    sqlite::read_state(dir, key)
}

/// Reads the state of `database` without serving it (for `rolewright admin credentials`),
/// its secrets opened with `key`.
pub async fn read_database_state(
    database: &Database,
    key: Option<&MasterKey>,
) -> Result<State, StoreError> {
    match database {
        Database::Sqlite(dir) => read_state(dir, key),
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => postgres::read_state(url, key).await,
        #[cfg(not(feature = "postgres"))]
        Database::Postgres(url) => Err(StoreError::Unsupported(redact(url))),
    }
}

/// A row read with a secret in plaintext: its kind, id and body.
pub(crate) type PlaintextRow = (String, String, String);

/// Builds the state from stored rows (kind, id, body), opening sealed secrets with `key`, and
/// returns the rows whose secrets were found in plaintext (with the plaintext body, to be
/// sealed). `database` names the database in errors.
pub(crate) fn load_rows(
    rows: impl IntoIterator<Item = (String, String, String)>,
    database: &Path,
    key: Option<&MasterKey>,
) -> Result<(State, Vec<PlaintextRow>), StoreError> {
    let mut state = State::default();
    let mut plaintext = Vec::new();
    for (entity_kind, id, body) in rows {
        let corrupt = |message| StoreError::Corrupt {
            path: database.to_path_buf(),
            kind: entity_kind.clone(),
            id: id.clone(),
            message,
        };
        let opened = open_row(key, &entity_kind, &id, &body).map_err(corrupt)?;
        state
            .apply_stored(&entity_kind, &id, Some(&opened.body))
            .map_err(corrupt)?;
        if opened.had_plaintext {
            plaintext.push((entity_kind.clone(), id.clone(), body.clone()));
        }
    }
    Ok((state, plaintext))
}

/// Locks a mutex; a panic elsewhere while it was held does not make its data unusable here.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Database, redact};

    #[test]
    fn database_urls_name_sqlite_directories_or_postgres() {
        assert_eq!(
            Database::parse("sqlite:/var/lib/rw").unwrap(),
            Database::Sqlite("/var/lib/rw".into())
        );
        assert_eq!(
            Database::parse("sqlite://data").unwrap(),
            Database::Sqlite("data".into())
        );
        assert!(matches!(
            Database::parse("postgresql://u@h/db").unwrap(),
            Database::Postgres(_)
        ));
        assert_eq!(
            Database::parse("mysql://root:hunter2@h/db").unwrap_err(),
            "--database-url `mysql://root:***@h/db` is neither sqlite:DIR nor \
             postgres://USER@HOST:PORT/DATABASE"
        );
        assert_eq!(
            Database::parse("sqlite:").unwrap_err(),
            "--database-url `sqlite:` names no directory; write sqlite:DIR"
        );
    }

    #[test]
    fn a_redacted_url_shows_no_password() {
        assert_eq!(
            redact("postgres://rw:s3cret@db.internal:5432/rw?sslmode=disable"),
            "postgres://rw:***@db.internal:5432/rw?sslmode=disable"
        );
        assert_eq!(redact("postgres://rw@db/rw"), "postgres://rw@db/rw");
    }
}
