//! The SQLite backend, the default: one embedded database file in the data directory (WAL,
//! `synchronous=FULL`), written by one writer thread that commits the queued writes in batches
//! (group commit). One process serves a data directory (its lock file), so the working copy
//! writes are validated against is never behind the database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};
use tokio::sync::oneshot;

use super::{Refusal, StoreError, Working, create_private_file, load_rows, lock};
use crate::audit::{AuditDecision, AuditRecord};
use crate::master_key::{CHECK_ID, MasterKey};
use crate::model::{Change, State, kind};

/// The database file inside the data directory.
pub const DB_FILE: &str = "rolewright.db";

/// The schema version this build writes (`PRAGMA user_version`; 0 is the same schema, from
/// before versions were recorded).
pub const SCHEMA_VERSION: i64 = 1;

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
CREATE TABLE IF NOT EXISTS audit_decision (
    audit_seq INTEGER NOT NULL REFERENCES audit (seq),
    position INTEGER NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (audit_seq, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_decision_action ON audit_decision (action, decision);
";

/// What the writer thread is asked to do.
pub(super) enum Job {
    Write {
        changes: Vec<Change>,
        audit: Option<Box<AuditRecord>>,
        /// Whether the commit must be synced before the write is acknowledged.
        durable: bool,
        /// The working copy's epoch the write was validated in.
        epoch: u64,
        ack: oneshot::Sender<Result<(), Refusal>>,
    },
    Flush(oneshot::Sender<Result<(), Refusal>>),
    /// Wakes the writer to commit buffered audit records.
    Nudge,
}

/// What [`open`] hands the store: the loaded state and the writer's queue.
pub(super) struct Opened {
    pub(super) committed: Arc<RwLock<State>>,
    pub(super) working: Arc<Mutex<Working>>,
    pub(super) jobs: mpsc::Sender<Job>,
    pub(super) audits: Arc<Mutex<Vec<AuditRecord>>>,
    /// Set while the database refuses commits.
    pub(super) failing: Arc<AtomicBool>,
    /// Moved each time committed changes are published ([`super::Store::change_position`]).
    pub(super) position: Arc<AtomicU64>,
}

/// Opens (creating if needed) the database in `dir`, loads the state with its secrets opened
/// by `key`, and starts the writer thread. See [`super::Store::open`].
pub(super) fn open(dir: &Path, account: &str, key: MasterKey) -> Result<Opened, StoreError> {
    let path = dir.join(DB_FILE);
    let mut conn = open_connection(&path)?;
    let sqlite = |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    };
    migrate(&conn, &path)?;
    let check = check_key(&conn, &path, Some(&key))?;
    let (mut state, plaintext) = load(&conn, &path, Some(&key))?;
    if check.is_none() || !plaintext.is_empty() {
        seal_in_place(&mut conn, &path, &key, check.is_none(), &plaintext)?;
    }
    scrub(&conn, &path)?;
    if state.account.is_empty() {
        state.account = account.to_string();
        conn.execute(
            "INSERT OR REPLACE INTO entities (kind, id, body) VALUES (?1, 'account', ?2)",
            params![kind::META, account],
        )
        .map_err(sqlite)?;
    }
    let working = Arc::new(Mutex::new(Working {
        state: state.clone(),
        epoch: 0,
    }));
    let committed = Arc::new(RwLock::new(state));
    let (jobs, receiver) = mpsc::channel();
    let audits = Arc::new(Mutex::new(Vec::new()));
    let failing = Arc::new(AtomicBool::new(false));
    let position = Arc::new(AtomicU64::new(0));
    let writer = Writer {
        conn,
        key,
        jobs: receiver,
        audits: audits.clone(),
        committed: committed.clone(),
        working: working.clone(),
        path: path.clone(),
        epoch: 0,
        failing: failing.clone(),
        position: position.clone(),
        synchronous_full: true,
    };
    std::thread::Builder::new()
        .name("rolewright-store".into())
        .spawn(move || writer.run())
        .map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    Ok(Opened {
        committed,
        working,
        jobs,
        audits,
        failing,
        position,
    })
}

/// Creates the tables and records the schema version; refuses a database of a newer version.
fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let sqlite = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(sqlite)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            database: path.display().to_string(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    conn.execute_batch(SCHEMA).map_err(sqlite)?;
    if version < SCHEMA_VERSION {
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sqlite)?;
    }
    Ok(())
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

/// Checks the key against the database's key check value, and returns that value (`None` when
/// the database has none yet: it is new, or was written before sealing).
pub(super) fn check_key(
    conn: &Connection,
    path: &Path,
    key: Option<&MasterKey>,
) -> Result<Option<String>, StoreError> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT body FROM entities WHERE kind = ?1 AND id = ?2",
            params![kind::META, CHECK_ID],
            |row| row.get(0),
        )
        .optional()
        .map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
    match (&stored, key) {
        (Some(check), Some(key)) if !key.opens_check_value(check) => {
            Err(StoreError::WrongMasterKey {
                path: path.to_path_buf(),
            })
        }
        (Some(_), None) => Err(StoreError::NoMasterKey {
            path: path.to_path_buf(),
        }),
        _ => Ok(stored),
    }
}

/// A row read with a secret in plaintext: its kind, id and body.
use super::PlaintextRow;

/// The `meta` row that says plaintext secrets were sealed but the file may still hold their old
/// copies; [`scrub`] removes it once they are gone, so that a crash between the two is scrubbed
/// at the next open.
pub(super) const SCRUB_PENDING: &str = "plaintext_scrub_pending";

/// Records the key check value when there is none and seals the plaintext rows, in one
/// transaction that also marks the file for [`scrub`] when rows were sealed.
fn seal_in_place(
    conn: &mut Connection,
    path: &Path,
    key: &MasterKey,
    record_check: bool,
    rows: &[PlaintextRow],
) -> Result<(), StoreError> {
    let sqlite = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let sealing = |e: crate::master_key::SealError| StoreError::Sqlite {
        path: path.to_path_buf(),
        source: rusqlite::Error::ToSqlConversionFailure(e.into()),
    };
    let tx = conn.transaction().map_err(sqlite)?;
    {
        let mut put = tx
            .prepare("INSERT OR REPLACE INTO entities (kind, id, body) VALUES (?1, ?2, ?3)")
            .map_err(sqlite)?;
        if record_check {
            let check = key.check_value().map_err(sealing)?;
            put.execute(params![kind::META, CHECK_ID, check])
                .map_err(sqlite)?;
        }
        for (entity_kind, id, body) in rows {
            let sealed = key.seal_row(entity_kind, id, body).map_err(sealing)?;
            put.execute(params![entity_kind, id, sealed.as_ref()])
                .map_err(sqlite)?;
        }
        if !rows.is_empty() {
            put.execute(params![kind::META, SCRUB_PENDING, "true"])
                .map_err(sqlite)?;
        }
    }
    tx.commit().map_err(sqlite)?;
    if !rows.is_empty() {
        tracing::info!(
            database = %path.display(),
            sealed = rows.len(),
            "secrets stored in plaintext by an earlier version are now sealed under the master key"
        );
    }
    Ok(())
}

/// When the file is marked, rewrites it and empties the write-ahead log, so that the plaintext
/// of sealed secrets is left neither in free pages nor in old log frames; then removes the mark.
fn scrub(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let sqlite = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let pending = conn
        .query_row(
            "SELECT 1 FROM entities WHERE kind = ?1 AND id = ?2",
            params![kind::META, SCRUB_PENDING],
            |_| Ok(()),
        )
        .optional()
        .map_err(sqlite)?
        .is_some();
    if !pending {
        return Ok(());
    }
    conn.execute_batch("VACUUM").map_err(sqlite)?;
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
        .map_err(sqlite)?;
    if busy != 0 {
        tracing::warn!(
            database = %path.display(),
            "another connection kept the write-ahead log from being emptied; old plaintext \
             secrets may stay in it until the next start"
        );
        return Ok(());
    }
    conn.execute(
        "DELETE FROM entities WHERE kind = ?1 AND id = ?2",
        params![kind::META, SCRUB_PENDING],
    )
    .map_err(sqlite)?;
    Ok(())
}

/// Loads every entity, opening sealed secrets with `key`, and returns the rows whose secrets
/// were found in plaintext (with the plaintext body, to be sealed).
fn load(
    conn: &Connection,
    path: &Path,
    key: Option<&MasterKey>,
) -> Result<(State, Vec<PlaintextRow>), StoreError> {
    load_rows(stored_rows(conn, path)?, path, key)
}

/// Every stored entity row (kind, id, body), its secrets as stored.
pub(super) fn stored_rows(
    conn: &Connection,
    path: &Path,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let sqlite = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let mut statement = conn
        .prepare("SELECT kind, id, body FROM entities")
        .map_err(sqlite)?;
    statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .map_err(sqlite)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sqlite)
}
/// Audit records wait in memory at most this long before they are committed (sooner when a
/// write commits).
pub(super) const AUDIT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(25);
/// Above this many buffered records the writer is woken at once.
pub(super) const AUDIT_NUDGE: usize = 8192;
/// While the database refuses commits, audit records wait for it, up to this many; older ones
/// are then dropped (and the loss logged), so that a long outage cannot exhaust memory.
pub(super) const AUDIT_BACKLOG: usize = 1_000_000;
/// The most jobs committed in one transaction.
const MAX_BATCH: usize = 4096;

/// The writer thread: commits batches, then publishes them to the committed state.
struct Writer {
    conn: Connection,
    /// Seals secrets on their way to the database.
    key: MasterKey,
    jobs: mpsc::Receiver<Job>,
    audits: Arc<Mutex<Vec<AuditRecord>>>,
    committed: Arc<RwLock<State>>,
    working: Arc<Mutex<Working>>,
    path: PathBuf,
    /// The working copy's epoch as of the last refused commit.
    epoch: u64,
    /// Whether the last commit was refused (to log the recovery once, and for `/health`).
    failing: Arc<AtomicBool>,
    /// Whether the connection syncs every commit (`synchronous=FULL`, as it is opened).
    synchronous_full: bool,
    /// Moved after each publish that changed the committed state.
    position: Arc<AtomicU64>,
}

impl Writer {
    fn run(mut self) {
        loop {
            // A write someone waits for wakes the thread at once; audit records only accumulate
            // in the buffer, so a busy read load costs a few commits per second and no wake-ups.
            let first = match self.jobs.recv_timeout(AUDIT_INTERVAL) {
                Ok(job) => Some(job),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut batch: Vec<Job> = first.into_iter().collect();
            while batch.len() < MAX_BATCH {
                match self.jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let records = std::mem::take(&mut *lock(&self.audits));
            if batch.is_empty() && records.is_empty() {
                continue;
            }
            self.commit_batch(batch, records);
        }
    }

    fn commit_batch(&mut self, batch: Vec<Job>, records: Vec<AuditRecord>) {
        // Writes validated before the last reset may depend on a refused write: refuse them too.
        let (live, stale): (Vec<Job>, Vec<Job>) = batch
            .into_iter()
            .partition(|job| !matches!(job, Job::Write { epoch, .. } if *epoch != self.epoch));
        for job in stale {
            if let Job::Write { ack, .. } = job {
                let _ = ack.send(Err("an earlier write it may depend on was refused".into()));
            }
        }
        // A batch of relaxed writes and audit records only is committed without a sync; the
        // next synced commit syncs it too (one log, written in order).
        let sync = live
            .iter()
            .any(|job| matches!(job, Job::Write { durable: true, .. } | Job::Flush(_)));
        let outcome = self
            .synchronous(sync)
            .and_then(|()| commit(&mut self.conn, &self.key, &live, &records))
            .map_err(|e| e.to_string());
        match &outcome {
            Ok(()) => {
                self.publish(&live);
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::warn!(database = %self.path.display(), "the database takes writes again");
                }
            }
            Err(error) => {
                let writes = live
                    .iter()
                    .filter(|j| matches!(j, Job::Write { .. }))
                    .count();
                tracing::error!(
                    database = %self.path.display(),
                    %error,
                    refused_writes = writes,
                    "cannot commit to the database; the writes are refused and nothing of them is visible"
                );
                self.failing.store(true, Ordering::Relaxed);
                self.reset_working();
                self.requeue_audits(records);
            }
        }
        for job in live {
            match job {
                Job::Write { ack, .. } | Job::Flush(ack) => {
                    let _ = ack.send(outcome.clone());
                }
                Job::Nudge => {}
            }
        }
    }

    /// Sets SQLite's `synchronous` to FULL (a sync at every commit) or NORMAL (none until the
    /// next FULL commit or checkpoint), when it is not set so already.
    fn synchronous(&mut self, full: bool) -> rusqlite::Result<()> {
        if self.synchronous_full != full {
            let mode = if full { "FULL" } else { "NORMAL" };
            self.conn.pragma_update(None, "synchronous", mode)?;
            self.synchronous_full = full;
        }
        Ok(())
    }

    /// Applies committed changes to the readers' state, moving its generation when a change can
    /// alter a decision.
    fn publish(&self, jobs: &[Job]) {
        let mut committed = match self.committed.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut permissions_changed = false;
        let mut changed = false;
        for job in jobs {
            let Job::Write { changes, .. } = job else {
                continue;
            };
            changed |= !changes.is_empty();
            for change in changes {
                match committed.apply_change(change) {
                    Ok(changed) => permissions_changed |= changed,
                    Err(error) => {
                        // The working copy produced the body; it always reads back.
                        tracing::error!(%error, "a committed change does not read back");
                        permissions_changed = true;
                    }
                }
            }
        }
        if permissions_changed {
            committed.generation += 1;
        }
        // Moved while the new state is held, so whoever reads the new position reads this state
        // or a newer one.
        if changed {
            self.position.fetch_add(1, Ordering::Release);
        }
    }

    /// Forgets the refused writes: the working copy becomes the committed state again, in a new
    /// epoch.
    fn reset_working(&mut self) {
        let mut working = lock(&self.working);
        let committed = match self.committed.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        working.state = committed.clone();
        working.epoch += 1;
        self.epoch = working.epoch;
    }

    /// Puts audit records that could not be committed back at the head of the buffer.
    fn requeue_audits(&self, mut records: Vec<AuditRecord>) {
        let mut audits = lock(&self.audits);
        records.append(&mut audits);
        if records.len() > AUDIT_BACKLOG {
            let dropped = records.len() - AUDIT_BACKLOG;
            records.drain(..dropped);
            tracing::error!(
                dropped,
                "audit records dropped: the database has refused commits for too long"
            );
        }
        *audits = records;
    }
}

fn commit(
    conn: &mut Connection,
    key: &MasterKey,
    batch: &[Job],
    records: &[AuditRecord],
) -> rusqlite::Result<()> {
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
        let mut decision = tx.prepare_cached(
            "INSERT INTO audit_decision (audit_seq, position, action, resource, decision, reason) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut insert = |r: &AuditRecord| -> rusqlite::Result<()> {
            let seq = insert_audit(&mut audit, r)?;
            insert_decisions(&mut decision, seq, r.decisions_to_store())
        };
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
                        let stored = key
                            .seal_row(kind, id, body)
                            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
                        put.execute(params![kind, id, stored.as_ref()])?;
                    }
                    Change::Delete { kind, id } => {
                        delete.execute(params![kind, id])?;
                    }
                }
            }
            if let Some(r) = record {
                insert(r)?;
            }
        }
        for r in records {
            insert(r)?;
        }
    }
    tx.commit()
}

fn insert_audit(
    statement: &mut rusqlite::CachedStatement<'_>,
    r: &AuditRecord,
) -> rusqlite::Result<i64> {
    statement.insert(params![
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
}

fn insert_decisions(
    statement: &mut rusqlite::CachedStatement<'_>,
    seq: i64,
    decisions: &[AuditDecision],
) -> rusqlite::Result<()> {
    for (position, d) in decisions.iter().enumerate() {
        statement.execute(params![
            seq,
            position as i64,
            d.action,
            d.resource,
            d.decision,
            d.reason
        ])?;
    }
    Ok(())
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

/// Reads the state of a data directory without serving it (for `rolewright admin
/// credentials`, also beside a running server). Its secrets are opened with `key`; without one,
/// only a database that holds no sealed secret can be read.
pub(super) fn read_state(dir: &Path, key: Option<&MasterKey>) -> Result<State, StoreError> {
    let conn = open_read_only(dir)?;
    let path = dir.join(DB_FILE);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|source| StoreError::Sqlite {
            path: path.clone(),
            source,
        })?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            database: path.display().to_string(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    check_key(&conn, &path, key)?;
    load(&conn, &path, key).map(|(state, _)| state)
}
