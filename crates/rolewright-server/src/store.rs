//! Durable state: the in-memory `State` is the read path; every change goes through one writer
//! thread that commits batches to SQLite (WAL, `synchronous=FULL`) and acknowledges a write only
//! after its batch is on disk (group commit).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::oneshot;

use crate::audit::AuditRecord;
use crate::error::ApiError;
use crate::model::{
    AccessKey, Change, Group, InstanceProfile, ManagedPolicy, Role, Session, State, User, kind,
};

/// The database file inside the data directory.
pub const DB_FILE: &str = "rolewright.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    principal TEXT,
    source_ip TEXT,
    service TEXT,
    action TEXT,
    resource TEXT,
    decision TEXT NOT NULL,
    reason TEXT,
    error_code TEXT,
    status INTEGER NOT NULL,
    user_agent TEXT
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time_ms);
";

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
    /// A stored entity no longer parses.
    #[error("database {path}: stored {kind} `{id}` is unreadable: {message}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// Entity kind.
        kind: String,
        /// Entity id.
        id: String,
        /// What failed.
        message: String,
    },
    /// Filesystem trouble.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

enum Job {
    Write {
        changes: Vec<Change>,
        audit: Option<Box<AuditRecord>>,
        ack: Option<oneshot::Sender<bool>>,
    },
    Flush(oneshot::Sender<bool>),
}

/// The state and its writer.
pub struct Store {
    state: Arc<RwLock<State>>,
    jobs: mpsc::Sender<Job>,
    audits: Arc<Mutex<Vec<AuditRecord>>>,
    failed: Arc<AtomicBool>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database in `dir` and loads the state. `account` is used
    /// only when the database is new.
    pub fn open(dir: &Path, account: &str) -> Result<Store, StoreError> {
        let path = dir.join(DB_FILE);
        let conn = open_connection(&path)?;
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        conn.execute_batch(SCHEMA).map_err(sqlite)?;
        let mut state = load(&conn, &path)?;
        if state.account.is_empty() {
            state.account = account.to_string();
            conn.execute(
                "INSERT OR REPLACE INTO entities (kind, id, body) VALUES (?1, 'account', ?2)",
                params![kind::META, account],
            )
            .map_err(sqlite)?;
        }
        let state = Arc::new(RwLock::new(state));
        let failed = Arc::new(AtomicBool::new(false));
        let (jobs, receiver) = mpsc::channel();
        let audits = Arc::new(Mutex::new(Vec::new()));
        {
            let failed = failed.clone();
            let path = path.clone();
            let audits = audits.clone();
            std::thread::Builder::new()
                .name("rolewright-store".into())
                .spawn(move || write_loop(conn, receiver, audits, failed, path))
                .map_err(|source| StoreError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        Ok(Store {
            state,
            jobs,
            audits,
            failed,
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the state.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        match self.state.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Write access for setting up what is not persisted (the AWS managed policies) before
    /// serving.
    pub fn state_for_setup(&self) -> Option<std::sync::RwLockWriteGuard<'_, State>> {
        self.state.write().ok()
    }

    /// Applies a change to the state and waits until it is durable. `apply` must validate
    /// before it mutates: when it returns an error, the state must be untouched. The audit
    /// record, when given, is committed in the same transaction as the change.
    pub async fn write<T>(
        &self,
        audit: Option<AuditRecord>,
        apply: impl FnOnce(&mut State) -> Result<(T, Vec<Change>), ApiError>,
    ) -> Result<T, ApiError> {
        if self.failed.load(Ordering::Acquire) {
            return Err(ApiError::service_failure());
        }
        let (ack, done) = oneshot::channel();
        let value = {
            let mut state = match self.state.write() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            let (value, changes) = apply(&mut state)?;
            state.generation += 1;
            // Sent under the lock so that the disk sees changes in the order memory did.
            if self
                .jobs
                .send(Job::Write {
                    changes,
                    audit: audit.map(Box::new),
                    ack: Some(ack),
                })
                .is_err()
            {
                return Err(ApiError::service_failure());
            }
            value
        };
        match done.await {
            Ok(true) => Ok(value),
            _ => Err(ApiError::service_failure()),
        }
    }

    /// Buffers an audit record; it is committed with the next write, or within 25 ms.
    pub fn audit(&self, record: AuditRecord) {
        let buffered = {
            let mut audits = lock(&self.audits);
            audits.push(record);
            audits.len()
        };
        if buffered == AUDIT_NUDGE {
            let _ = self.jobs.send(Job::Write {
                changes: Vec::new(),
                audit: None,
                ack: None,
            });
        }
    }

    /// Waits until everything queued so far is on disk.
    pub async fn flush(&self) -> bool {
        let (ack, done) = oneshot::channel();
        if self.jobs.send(Job::Flush(ack)).is_err() {
            return false;
        }
        done.await.unwrap_or(false)
    }
}

/// Opens the database with the durability settings: WAL and a full sync on every commit. The
/// file is created owner-only, since it holds secret keys.
fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    if !path.exists() {
        create_private_file(path)?;
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )
    .map_err(|source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    })?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
        .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
        .and_then(|_| conn.busy_timeout(std::time::Duration::from_secs(5)))
        .map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(conn)
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

fn load(conn: &Connection, path: &Path) -> Result<State, StoreError> {
    let sqlite = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let mut state = State::default();
    let mut statement = conn
        .prepare("SELECT kind, id, body FROM entities")
        .map_err(sqlite)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .map_err(sqlite)?;
    for row in rows {
        let (entity_kind, id, body) = row.map_err(sqlite)?;
        let corrupt = |message: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            kind: entity_kind.clone(),
            id: id.clone(),
            message,
        };
        match entity_kind.as_str() {
            kind::META if id == "account" => state.account = body,
            kind::META if id == "bootstrapped" => state.bootstrapped = true,
            kind::META if id == "account_alias" => state.account_alias = Some(body),
            kind::USER => {
                let user: User = serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?;
                state.users.insert(id, user);
            }
            kind::ROLE => {
                let role: Role = serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?;
                state.roles.insert(id, role);
            }
            kind::POLICY => {
                let policy: ManagedPolicy =
                    serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?;
                state.policies.insert(id, policy);
            }
            kind::ACCESS_KEY => {
                let key: AccessKey =
                    serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?;
                state.access_keys.insert(id, key);
            }
            kind::GROUP => {
                let group: Group =
                    serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?;
                state.groups.insert(id, group);
            }
            kind::INSTANCE_PROFILE => {
                let profile: InstanceProfile =
                    serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?;
                state.instance_profiles.insert(id, profile);
            }
            kind::SESSION => {
                let session: Session =
                    serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?;
                state.sessions.insert(id, session);
            }
            _ => {}
        }
    }
    Ok(state)
}

/// Audit records wait in memory at most this long before they are committed (sooner when a
/// write commits).
const AUDIT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(25);
/// Above this many buffered records the writer is woken at once.
const AUDIT_NUDGE: usize = 8192;

fn write_loop(
    mut conn: Connection,
    jobs: mpsc::Receiver<Job>,
    audits: Arc<Mutex<Vec<AuditRecord>>>,
    failed: Arc<AtomicBool>,
    path: PathBuf,
) {
    const MAX_BATCH: usize = 4096;
    loop {
        // A write someone waits for wakes the thread at once; audit records only accumulate
        // in the buffer, so a busy read load costs a few commits per second and no wake-ups.
        let first = match jobs.recv_timeout(AUDIT_INTERVAL) {
            Ok(job) => Some(job),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut batch: Vec<Job> = first.into_iter().collect();
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let records = std::mem::take(&mut *lock(&audits));
        if batch.is_empty() && records.is_empty() {
            continue;
        }
        let ok = if failed.load(Ordering::Acquire) {
            false
        } else {
            match commit(&mut conn, &batch, &records) {
                Ok(()) => true,
                Err(e) => {
                    eprintln!(
                        "rolewright: cannot write {}: {e}; further writes are refused",
                        path.display()
                    );
                    failed.store(true, Ordering::Release);
                    false
                }
            }
        };
        for job in batch {
            match job {
                Job::Write { ack: Some(ack), .. } | Job::Flush(ack) => {
                    let _ = ack.send(ok);
                }
                Job::Write { ack: None, .. } => {}
            }
        }
    }
}

/// Locks a mutex; a panic elsewhere while it was held does not make its data unusable here.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn commit(conn: &mut Connection, batch: &[Job], records: &[AuditRecord]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut put = tx.prepare_cached(
            "INSERT OR REPLACE INTO entities (kind, id, body) VALUES (?1, ?2, ?3)",
        )?;
        let mut delete = tx.prepare_cached("DELETE FROM entities WHERE kind = ?1 AND id = ?2")?;
        let mut audit = tx.prepare_cached(
            "INSERT INTO audit (time_ms, request_id, principal, source_ip, service, action, \
             resource, decision, reason, error_code, status, user_agent) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for job in batch {
            let Job::Write {
                changes,
                audit: record,
                ..
            } = job
            else {
                continue;
            };
            for change in changes {
                match change {
                    Change::Put { kind, id, body } => {
                        put.execute(params![kind, id, body])?;
                    }
                    Change::Delete { kind, id } => {
                        delete.execute(params![kind, id])?;
                    }
                }
            }
            if let Some(r) = record {
                insert_audit(&mut audit, r)?;
            }
        }
        for r in records {
            insert_audit(&mut audit, r)?;
        }
    }
    tx.commit()
}

fn insert_audit(
    statement: &mut rusqlite::CachedStatement<'_>,
    r: &AuditRecord,
) -> rusqlite::Result<()> {
    statement
        .execute(params![
            r.time_ms,
            r.request_id,
            r.principal,
            r.source_ip,
            r.service,
            r.action,
            r.resource,
            r.decision,
            r.reason,
            r.error_code,
            r.status,
            r.user_agent,
        ])
        .map(|_| ())
}

/// Opens the database read-only (for `rolewright audit` beside a running server).
pub fn open_read_only(dir: &Path) -> Result<Connection, StoreError> {
    let path = dir.join(DB_FILE);
    if !path.exists() {
        return Err(StoreError::Io {
            path,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no database here; start `rolewright serve --data-dir` on this directory first",
            ),
        });
    }
    Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|source| StoreError::Sqlite { path, source })
}
