//! The PostgreSQL backend: replicas that share one database and agree through its ordered
//! change log.
//!
//! - `entities` holds every entity's current row (secrets sealed, as on SQLite); `change_log`
//!   holds each committed change with a sequence number; both are written in one transaction.
//! - A write takes the database-wide write lock (`pg_advisory_xact_lock`), reads the log past
//!   what this replica has applied, applies it, validates the write against that latest state,
//!   commits, and only then applies the write to memory and answers. Sequence numbers are drawn
//!   under the lock, so the log's order is the commit order and a reader never sees an entry
//!   before an earlier one.
//! - A `NOTIFY` in each write's transaction wakes the other replicas (one `LISTEN` connection
//!   each), which read the log past their last applied number; they also poll every second, so
//!   a lost notification costs at most that. A miss (an unknown access key or session) catches
//!   up before it is refused.
//! - Audit records are buffered and inserted every 25 ms, or with the write they belong to.
//! - Every database call is bounded (connection, lock and statement timeouts, and a deadline
//!   on the whole write), so a request never waits long on an unreachable database: it gets
//!   `ServiceUnavailable`, while reads served from memory go on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{AsyncMessage, NoTls};

use super::{Health, StoreError, Working, load_rows, lock};
use crate::audit::{AuditDecision, AuditQuery, AuditRecord};
use crate::error::ApiError;
use crate::master_key::{CHECK_ID, MasterKey, open_row};
use crate::model::{Change, State, kind};

/// The schema version this build writes; [`MIGRATIONS`]`[n]` takes version `n` to `n + 1`.
pub const SCHEMA_VERSION: i64 = 2;

const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE entities (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE change_log (
    seq BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT,
    time_ms BIGINT NOT NULL
);
CREATE TABLE audit (
    seq BIGSERIAL PRIMARY KEY,
    time_ms BIGINT NOT NULL,
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
    user_agent TEXT,
    decisions TEXT
);
CREATE INDEX audit_time ON audit (time_ms);
",
    "
CREATE TABLE rolewright_log_horizon (pruned_through BIGINT NOT NULL);
INSERT INTO rolewright_log_horizon (pruned_through) VALUES (0);
CREATE INDEX change_log_time ON change_log (time_ms);
",
];

/// The advisory lock every write (and the schema migration) holds until it commits.
pub(super) const WRITE_LOCK: i64 = 0x726f_6c65_7772_6974;
/// The channel writes notify.
const CHANNEL: &str = "rolewright_changes";
/// The channel on which each replica says how far it has applied the log (`ID SEQ`), after each
/// catch-up and at least every second.
const APPLIED_CHANNEL: &str = "rolewright_applied";
/// The longest a write waits, after its commit, for the other live replicas to apply it.
const PEER_WAIT: Duration = Duration::from_millis(100);
/// A replica that has not said how far it is for this long is not waited for.
const PEER_SILENCE: Duration = Duration::from_secs(3);
/// The longest a write may take in the database before it is given up.
const WRITE_DEADLINE: Duration = Duration::from_secs(8);
/// The longest a request waits for announced changes to be applied.
const SETTLE_LIMIT: Duration = Duration::from_millis(100);
/// How often a replica asks for changes it was not notified of.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Server-side settings of every connection: limits (milliseconds) within the write deadline,
/// and no JIT compilation, which costs ~100 ms a query whenever the planner's estimates are
/// large (tables not yet analyzed, as a new change log is) and never pays off for these small
/// keyed queries.
const SESSION_OPTIONS: &str = "-c statement_timeout=6000 -c lock_timeout=6000 \
                               -c idle_in_transaction_session_timeout=10000 -c jit=off";

/// The log past a sequence number, with the log's horizon (the newest entry pruned), in one
/// snapshot: a replica behind the horizon reloads instead.
const LOG_SINCE: &str = "SELECT h.pruned_through, c.seq, c.kind, c.id, c.body \
                         FROM rolewright_log_horizon h LEFT JOIN LATERAL \
                         (SELECT seq, kind, id, body FROM change_log WHERE seq > $1) c ON TRUE \
                         ORDER BY c.seq";
/// How long entries stay in the change log: a replica that has applied nothing for longer
/// reloads the whole state.
pub const LOG_RETENTION: Duration = Duration::from_secs(600);
/// How often each replica prunes the log.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);
/// The ARNs of the AWS managed policies, which come with the binary and are not stored.
const AWS_MANAGED: &str = "arn:aws:iam::aws:policy/";

/// One change read from the log, its secrets opened.
struct Entry {
    seq: i64,
    kind: String,
    id: String,
    body: Option<String>,
}

/// Why a write was not made.
enum WriteError {
    /// The database could not be asked or said no; nothing was committed.
    Database(String),
    /// The commit was sent but its outcome is unknown (the connection failed).
    Unknown(String),
}

/// How a write waiting for a batch is let in: with where to report its changes, or why the
/// batch cannot be had.
type Admit =
    tokio::sync::oneshot::Sender<Result<tokio::sync::mpsc::UnboundedSender<Pending>, String>>;

/// A write validated and applied to the working copy, waiting for its batch's commit.
struct Pending {
    changes: Vec<Change>,
    audit: Option<AuditRecord>,
    durability: super::Durability,
    /// Told the batch's newest log entry once it is committed and in memory.
    committed: tokio::sync::oneshot::Sender<Option<i64>>,
}

/// One replica's handle on the shared database.
pub(crate) struct Replica {
    pool: Pool,
    config: tokio_postgres::Config,
    key: MasterKey,
    name: String,
    pub(super) committed: Arc<RwLock<State>>,
    pub(super) working: Arc<Mutex<Working>>,
    pub(super) audits: Arc<Mutex<Vec<AuditRecord>>>,
    /// The newest log entry applied to memory.
    applied: AtomicI64,
    /// Moved each time the committed state changes: this replica's writes, another replica's
    /// entries applied, a reload ([`super::Store::change_position`]).
    pub(super) position: Arc<AtomicU64>,
    /// The newest log entry a notification announced.
    notified: AtomicI64,
    /// This replica's name on [`APPLIED_CHANNEL`].
    id: String,
    /// How far the other replicas said they have applied the log, and when they said it.
    peers: Mutex<std::collections::HashMap<String, (i64, std::time::Instant)>>,
    /// Woken when a peer says how far it is.
    peer_progress: tokio::sync::Notify,
    /// One batch or catch-up at a time in this replica (the database lock orders replicas).
    turn: tokio::sync::Mutex<()>,
    /// Writes waiting for the next batch.
    waiting: Mutex<Vec<Admit>>,
    /// Wakes the committer when a write waits.
    queued: Arc<tokio::sync::Notify>,
    /// One audit insert at a time.
    audit_turn: tokio::sync::Mutex<()>,
    up: AtomicBool,
    /// When (unix ms) the replica last confirmed it had every committed change.
    synced_ms: AtomicI64,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

/// The text of an error and its causes, each once.
pub(super) fn cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// `HOST:PORT` of the first host the configuration names.
pub(super) fn address(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

fn parse_config(url: &str) -> Result<tokio_postgres::Config, StoreError> {
    let name = super::redact(url);
    let mut config = tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Postgres {
        database: name.clone(),
        message: format!("not a PostgreSQL URL: {}", cause(&e)),
    })?;
    config
        .connect_timeout(Duration::from_secs(3))
        .keepalives_idle(Duration::from_secs(10))
        .application_name("rolewright")
        .options(SESSION_OPTIONS);
    Ok(config)
}

fn pool(config: &tokio_postgres::Config, name: &str) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        config.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(8)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(4)))
        .recycle_timeout(Some(Duration::from_secs(2)))
        .build()
        .map_err(|e| StoreError::Postgres {
            database: name.to_string(),
            message: cause(&e),
        })
}

/// Connects for one job, saying where and why when it cannot.
async fn client(
    pool: &Pool,
    config: &tokio_postgres::Config,
) -> Result<deadpool_postgres::Object, String> {
    pool.get().await.map_err(|e| {
        let why = match &e {
            deadpool_postgres::PoolError::Backend(e) => cause(e),
            deadpool_postgres::PoolError::Timeout(_) => "no answer in time".to_string(),
            other => cause(other),
        };
        format!("cannot connect to {}: {why}", address(config))
    })
}

fn now_ms() -> i64 {
    crate::server::now_ms()
}

impl Replica {
    /// Connects, migrates, checks the key, records the account when new, loads the state and
    /// starts following the log. All but the last under the write lock, so that replicas
    /// starting together neither race on the schema nor load a state a write is changing.
    pub(super) async fn open(
        url: &str,
        account: &str,
        key: MasterKey,
    ) -> Result<Arc<Replica>, StoreError> {
        let name = super::redact(url);
        let config = parse_config(url)?;
        let pool = pool(&config, &name)?;
        let failed = |message: String| StoreError::Postgres {
            database: name.clone(),
            message,
        };
        let db = |e: tokio_postgres::Error| failed(cause(&e));
        let mut client = client(&pool, &config).await.map_err(&failed)?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .await
            .map_err(db)?;
        migrate(&tx, &name).await?;
        let check: Option<String> = tx
            .query_opt(
                "SELECT body FROM entities WHERE kind = $1 AND id = $2",
                &[&kind::META, &CHECK_ID],
            )
            .await
            .map_err(db)?
            .map(|row| row.get(0));
        match check {
            Some(check) if !key.opens_check_value(&check) => {
                return Err(StoreError::WrongMasterKey {
                    path: PathBuf::from(&name),
                });
            }
            Some(_) => {}
            None => {
                let check = key.check_value().map_err(|e| failed(e.to_string()))?;
                tx.execute(
                    "INSERT INTO entities (kind, id, body) VALUES ($1, $2, $3)",
                    &[&kind::META, &CHECK_ID, &check],
                )
                .await
                .map_err(db)?;
            }
        }
        tx.execute(
            "INSERT INTO entities (kind, id, body) VALUES ($1, 'account', $2) \
             ON CONFLICT DO NOTHING",
            &[&kind::META, &account],
        )
        .await
        .map_err(db)?;
        let applied: i64 = tx
            .query_one("SELECT coalesce(max(seq), 0)::BIGINT FROM change_log", &[])
            .await
            .map_err(db)?
            .get(0);
        let rows = tx
            .query("SELECT kind, id, body FROM entities", &[])
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let rows = rows.into_iter().map(|r| (r.get(0), r.get(1), r.get(2)));
        let (state, _) = load_rows(rows, Path::new(&name), Some(&key))?;
        let replica = Arc::new(Replica {
            pool,
            config,
            key,
            name,
            working: Arc::new(Mutex::new(Working {
                state: state.clone(),
                epoch: 0,
            })),
            committed: Arc::new(RwLock::new(state)),
            audits: Arc::new(Mutex::new(Vec::new())),
            applied: AtomicI64::new(applied),
            position: Arc::new(AtomicU64::new(0)),
            notified: AtomicI64::new(applied),
            id: crate::ids::hex_secret(8),
            peers: Mutex::new(std::collections::HashMap::new()),
            peer_progress: tokio::sync::Notify::new(),
            turn: tokio::sync::Mutex::new(()),
            waiting: Mutex::new(Vec::new()),
            queued: Arc::new(tokio::sync::Notify::new()),
            audit_turn: tokio::sync::Mutex::new(()),
            up: AtomicBool::new(true),
            synced_ms: AtomicI64::new(now_ms()),
            tasks: Mutex::new(Vec::new()),
        });
        let follower = tokio::spawn(follow(Arc::downgrade(&replica)));
        let committer = tokio::spawn(commit_batches(
            Arc::downgrade(&replica),
            replica.queued.clone(),
        ));
        let auditor = tokio::spawn(insert_audits_every(Arc::downgrade(&replica)));
        lock(&replica.tasks).extend([
            follower.abort_handle(),
            committer.abort_handle(),
            auditor.abort_handle(),
        ]);
        Ok(replica)
    }

    /// The database's URL, without its password.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Stops following the log and inserting audit records (the store is dropped).
    pub(super) fn stop(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }

    /// Waits (at most [`PEER_WAIT`]) until every replica heard from lately has applied `seq`,
    /// so that an acknowledged write is seen by a request to any of them right after.
    async fn wait_for_peers(&self, seq: i64) {
        let deadline = tokio::time::Instant::now() + PEER_WAIT;
        loop {
            let progress = self.peer_progress.notified();
            let behind = lock(&self.peers)
                .values()
                .any(|(applied, seen)| *applied < seq && seen.elapsed() < PEER_SILENCE);
            if !behind {
                return;
            }
            if tokio::time::timeout_at(deadline, progress).await.is_err() {
                tracing::debug!(seq, "a replica did not apply a write within 100 ms");
                return;
            }
        }
    }

    /// Records how far a peer said it has applied the log (`ID SEQ`).
    fn peer_said(&self, payload: &str) {
        let Some((id, seq)) = payload.split_once(' ') else {
            return;
        };
        let Ok(seq) = seq.parse::<i64>() else {
            return;
        };
        if id == self.id {
            return;
        }
        let mut peers = lock(&self.peers);
        peers.retain(|_, (_, seen)| seen.elapsed() < PEER_SILENCE * 10);
        let entry = peers
            .entry(id.to_string())
            .or_insert((seq, std::time::Instant::now()));
        *entry = (entry.0.max(seq), std::time::Instant::now());
        drop(peers);
        self.peer_progress.notify_waiters();
    }

    /// Waits up to 100 ms for the announced entries to be applied.
    pub(super) async fn settle(&self) {
        let start = tokio::time::Instant::now();
        while self.notified.load(Ordering::Relaxed) > self.applied.load(Ordering::Relaxed)
            && start.elapsed() < SETTLE_LIMIT
        {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    pub(super) fn health(&self) -> Health {
        Health {
            database_up: self.up.load(Ordering::Relaxed),
            applied_seq: self.applied.load(Ordering::Relaxed),
            lag_ms: (now_ms() - self.synced_ms.load(Ordering::Relaxed)).max(0),
        }
    }

    fn mark_down(&self, why: &str) {
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::error!(database = %self.name, error = %why, "the database cannot be reached; writes are refused until it is back");
        }
    }

    fn mark_up(&self) {
        self.synced_ms.store(now_ms(), Ordering::Relaxed);
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::warn!(database = %self.name, "the database is reachable again");
        }
    }

    /// Opens the log's rows ([`LOG_SINCE`]); returns the horizon and the entries.
    fn entries(&self, rows: Vec<tokio_postgres::Row>) -> Result<(i64, Vec<Entry>), String> {
        let horizon = rows.first().map_or(0, |row| row.get::<_, i64>(0));
        let entries = rows
            .into_iter()
            .filter(|row| row.get::<_, Option<i64>>(1).is_some())
            .map(|row| {
                let seq: i64 = row.get(1);
                let entity_kind: String = row.get(2);
                let id: String = row.get(3);
                let body: Option<String> = row.get(4);
                let body = match body {
                    Some(stored) => Some(
                        open_row(Some(&self.key), &entity_kind, &id, &stored)
                            .map_err(|e| {
                                format!("change {seq} ({entity_kind} `{id}`) is unreadable: {e}")
                            })?
                            .body
                            .into_owned(),
                    ),
                    None => None,
                };
                Ok(Entry {
                    seq,
                    kind: entity_kind,
                    id,
                    body,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok((horizon, entries))
    }

    /// Replaces memory with the database's state, for a replica behind the log's horizon.
    /// `tx` holds the write lock, so the entities and the log's newest number agree.
    async fn reload(&self, tx: &tokio_postgres::Transaction<'_>) -> Result<(), String> {
        let newest: i64 = tx
            .query_one("SELECT coalesce(max(seq), 0)::BIGINT FROM change_log", &[])
            .await
            .map_err(|e| cause(&e))?
            .get(0);
        let rows = tx
            .query("SELECT kind, id, body FROM entities", &[])
            .await
            .map_err(|e| cause(&e))?;
        let rows = rows.into_iter().map(|r| (r.get(0), r.get(1), r.get(2)));
        let (mut state, _) =
            load_rows(rows, Path::new(&self.name), Some(&self.key)).map_err(|e| e.to_string())?;
        let mut working = lock(&self.working);
        let mut committed = match self.committed.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (arn, policy) in &committed.policies {
            if arn.starts_with(AWS_MANAGED) {
                state.policies.insert(arn.clone(), policy.clone());
            }
        }
        state.generation = committed.generation + 1;
        working.state = state.clone();
        working.epoch += 1;
        *committed = state;
        self.position.fetch_add(1, Ordering::Release);
        let behind = self.applied.swap(newest, Ordering::Relaxed);
        tracing::warn!(
            database = %self.name,
            applied = behind,
            now = newest,
            "this replica fell behind the change log's horizon; it reloaded the whole state"
        );
        Ok(())
    }

    /// Removes the log's entries older than `retention` (never the newest one), under the
    /// write lock, and moves the horizon past them.
    pub(super) async fn prune_log(&self, retention: Duration) -> Result<u64, String> {
        let mut client = client(&self.pool, &self.config).await?;
        let tx = client.transaction().await.map_err(|e| cause(&e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .await
            .map_err(|e| cause(&e))?;
        let before = now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let pruned: i64 = tx
            .query_one(
                "WITH gone AS (DELETE FROM change_log WHERE time_ms < $1 \
                 AND seq < (SELECT max(seq) FROM change_log) RETURNING seq), \
                 moved AS (UPDATE rolewright_log_horizon SET pruned_through = \
                 greatest(pruned_through, (SELECT max(seq) FROM gone)) \
                 WHERE EXISTS (SELECT 1 FROM gone)) \
                 SELECT count(*) FROM gone",
                &[&before],
            )
            .await
            .map_err(|e| cause(&e))?
            .get(0);
        tx.commit().await.map_err(|e| cause(&e))?;
        Ok(u64::try_from(pruned).unwrap_or_default())
    }

    /// Applies log entries past the applied number to the committed state and the working
    /// copy. Called with the turn held.
    fn apply_entries(&self, entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        let mut working = lock(&self.working);
        let mut committed = match self.committed.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let start = self.applied.load(Ordering::Relaxed);
        let mut applied = start;
        let mut permissions_changed = false;
        for entry in entries.iter().filter(|e| e.seq > start) {
            let body = entry.body.as_deref();
            match committed.apply_stored(&entry.kind, &entry.id, body) {
                Ok(changed) => permissions_changed |= changed,
                Err(error) => {
                    tracing::error!(%error, seq = entry.seq, "a logged change does not read back");
                    permissions_changed = true;
                }
            }
            let _ = working.state.apply_stored(&entry.kind, &entry.id, body);
            applied = entry.seq;
        }
        if permissions_changed {
            committed.generation += 1;
            working.state.generation = committed.generation;
        }
        if applied > start {
            // Moved while the new state is held: see `Replica::publish`.
            self.position.fetch_add(1, Ordering::Release);
        }
        self.applied.store(applied, Ordering::Relaxed);
    }

    /// Reads and applies the log past what this replica has applied; returns how many entries.
    pub(super) async fn catch_up(&self) -> Result<usize, String> {
        let deadline = tokio::time::Instant::now() + WRITE_DEADLINE;
        let Ok(turn) = tokio::time::timeout_at(deadline, self.turn.lock()).await else {
            return Err("waited too long behind other writes".to_string());
        };
        self.catch_up_in(turn, deadline).await
    }

    /// What the follower does when woken: [`Replica::catch_up`], after the batch under way if
    /// there is one. It waits rather than leaving the entries to the next batch: a batch catches
    /// up when it starts, so an entry committed by another replica just after this one's batch
    /// released the lock would otherwise wait for the next wake-up, and every request here
    /// (`settle`) and every write of the other replica (waiting for this one to apply it) with
    /// it.
    async fn catch_up_when_woken(&self) -> Result<usize, String> {
        self.catch_up().await
    }

    async fn catch_up_in(
        &self,
        _turn: tokio::sync::MutexGuard<'_, ()>,
        deadline: tokio::time::Instant,
    ) -> Result<usize, String> {
        let connected = tokio::time::timeout_at(deadline, client(&self.pool, &self.config))
            .await
            .unwrap_or_else(|_| Err("no connection in time".to_string()));
        let client = match connected {
            Ok(c) => c,
            Err(e) => {
                self.mark_down(&e);
                return Err(e);
            }
        };
        let since = self.applied.load(Ordering::Relaxed);
        let rows = match tokio::time::timeout_at(deadline, client.query(LOG_SINCE, &[&since])).await
        {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                let e = cause(&e);
                self.mark_down(&e);
                return Err(e);
            }
            Err(_) => {
                drop(deadpool_postgres::Object::take(client));
                let e = "the database did not answer in time".to_string();
                self.mark_down(&e);
                return Err(e);
            }
        };
        let (horizon, entries) = self.entries(rows)?;
        if horizon > since {
            let mut client = client;
            let reloaded = async {
                let tx = client.transaction().await.map_err(|e| cause(&e))?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
                    .await
                    .map_err(|e| cause(&e))?;
                self.reload(&tx).await?;
                tx.commit().await.map_err(|e| cause(&e))
            };
            match tokio::time::timeout_at(deadline, reloaded).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    drop(deadpool_postgres::Object::take(client));
                    return Err("the database did not answer in time".to_string());
                }
            }
            self.mark_up();
            return Ok(1);
        }
        self.apply_entries(&entries);
        self.mark_up();
        Ok(entries.len())
    }

    /// See [`super::Store::write`]. The write waits to be let into the next group commit:
    /// the committer ([`commit_batches`]) takes the database's write lock and catches up, then
    /// lets in every write waiting; each validates against that latest state and applies to the
    /// working copy here, in its own task; the committer commits them all in one transaction,
    /// and only then do they change memory and answer.
    pub(super) async fn write<T>(
        &self,
        durability: super::Durability,
        audit: Option<AuditRecord>,
        apply: impl FnOnce(&mut State) -> Result<(T, Vec<Change>), ApiError>,
    ) -> Result<T, ApiError> {
        // One deadline for the wait behind other writes and for this one's commit, so that a
        // request never waits long on a database that does not answer.
        let deadline = tokio::time::Instant::now() + WRITE_DEADLINE;
        let (admit, admitted) = tokio::sync::oneshot::channel();
        lock(&self.waiting).push(admit);
        self.queued.notify_one();
        // Every refusal below says the database is not answering: health says so by the time
        // the caller hears it (the committer, whose deadline started later, may not have yet).
        let report = match tokio::time::timeout_at(deadline, admitted).await {
            Ok(Ok(Ok(report))) => report,
            Ok(Ok(Err(why))) => {
                self.mark_down(&why);
                tracing::error!(database = %self.name, error = %why, "the change was not stored; it is not visible");
                return Err(ApiError::service_unavailable());
            }
            Ok(Err(_)) => {
                self.mark_down("the write's batch ended without it");
                return Err(ApiError::service_unavailable());
            }
            Err(_) => {
                self.mark_down("the write waited too long behind others");
                tracing::error!(database = %self.name, "the write waited too long behind others; it is refused");
                return Err(ApiError::service_unavailable());
            }
        };
        let (committed, done) = tokio::sync::oneshot::channel();
        let value = {
            let mut working = lock(&self.working);
            let (value, changes) = apply(&mut working.state)?;
            if changes.is_empty() && audit.is_none() {
                return Ok(value);
            }
            // Reported under the lock, so that the batch holds the writes in the order the
            // working copy took them.
            let pending = Pending {
                changes,
                audit,
                durability,
                committed,
            };
            if report.send(pending).is_err() {
                return Err(ApiError::service_unavailable());
            }
            value
        };
        drop(report);
        match tokio::time::timeout_at(deadline, done).await {
            Ok(Ok(seq)) => {
                if let Some(seq) = seq {
                    self.wait_for_peers(seq).await;
                }
                Ok(value)
            }
            // The batch failed (the committer said why in the log) or outlived the deadline.
            _ => {
                self.mark_down("the write's batch was not committed in time");
                Err(ApiError::service_unavailable())
            }
        }
    }

    /// Commits one batch: the writes in `waiting` are let in once the lock is held and memory
    /// caught up, and committed together. On any failure every write of the batch is refused
    /// (its sender dropped) and the working copy is reset to the committed state.
    async fn commit_batch(&self, waiting: Vec<Admit>) {
        let deadline = tokio::time::Instant::now() + WRITE_DEADLINE;
        let refuse = |waiting: Vec<Admit>, why: &str| {
            for admit in waiting {
                let _ = admit.send(Err(why.to_string()));
            }
        };
        let Ok(turn) = tokio::time::timeout_at(deadline, self.turn.lock()).await else {
            refuse(waiting, "waited too long behind other writes");
            return;
        };
        let mut client = match tokio::time::timeout_at(deadline, client(&self.pool, &self.config))
            .await
            .unwrap_or_else(|_| Err("no connection in time".to_string()))
        {
            Ok(c) => c,
            Err(e) => {
                self.mark_down(&e);
                refuse(waiting, &e);
                return;
            }
        };
        let outcome =
            tokio::time::timeout_at(deadline, self.commit_batch_in(&mut client, waiting)).await;
        let failure = match outcome {
            Ok(Ok(())) => {
                self.mark_up();
                return;
            }
            Ok(Err(WriteError::Database(e))) => e,
            Ok(Err(WriteError::Unknown(e))) => format!("{e} (the commit's outcome is unknown)"),
            Err(_) => {
                drop(deadpool_postgres::Object::take(client));
                "the database did not answer in time".to_string()
            }
        };
        // The working copy may hold the batch's changes: make it the committed state again. A
        // commit whose outcome is unknown is found in the log by the next catch-up.
        self.reset_working();
        drop(turn);
        self.mark_down(&failure);
        tracing::error!(database = %self.name, error = %failure, "the changes were not stored; they are not visible");
    }

    async fn commit_batch_in(
        &self,
        client: &mut deadpool_postgres::Object,
        waiting: Vec<Admit>,
    ) -> Result<(), WriteError> {
        let db = |e: tokio_postgres::Error| WriteError::Database(cause(&e));
        let mut waiting = Some(waiting);
        // Until the writes are let in, a failure refuses them saying why.
        let caught_up = async {
            let tx = client.transaction().await.map_err(db)?;
            let since = self.applied.load(Ordering::Relaxed);
            let lock_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&WRITE_LOCK];
            let since_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&since];
            tx.execute("SELECT pg_advisory_xact_lock($1)", &lock_params)
                .await
                .map_err(db)?;
            let rows = tx.query(LOG_SINCE, &since_params).await.map_err(db)?;
            let (horizon, entries) = self.entries(rows).map_err(WriteError::Database)?;
            if horizon > since {
                self.reload(&tx).await.map_err(WriteError::Database)?;
            } else {
                self.apply_entries(&entries);
            }
            Ok::<_, WriteError>(tx)
        }
        .await;
        let tx = match caught_up {
            Ok(tx) => tx,
            Err(e) => {
                let why = match &e {
                    WriteError::Database(why) | WriteError::Unknown(why) => why.clone(),
                };
                for admit in waiting.take().unwrap_or_default() {
                    let _ = admit.send(Err(why.clone()));
                }
                return Err(e);
            }
        };
        // Let the writes in; each reports its changes (or nothing, when it was refused or its
        // caller went away) by dropping its sender, and the batch closes when all have.
        let (report, mut reports) = tokio::sync::mpsc::unbounded_channel();
        for admit in waiting.take().unwrap_or_default() {
            let _ = admit.send(Ok(report.clone()));
        }
        drop(report);
        let mut batch: Vec<Pending> = Vec::new();
        while let Some(pending) = reports.recv().await {
            batch.push(pending);
        }
        if batch.is_empty() {
            return Ok(());
        }
        // The last change of an entity is the one that counts.
        let mut last: BTreeMap<(&str, &str), Option<&str>> = BTreeMap::new();
        for change in batch.iter().flat_map(|p| &p.changes) {
            match change {
                Change::Put { kind, id, body } => last.insert((kind, id), Some(body)),
                Change::Delete { kind, id } => last.insert((kind, id), None),
            };
        }
        let mut kinds = Vec::new();
        let mut ids = Vec::new();
        let mut bodies: Vec<Option<String>> = Vec::new();
        for ((entity_kind, id), body) in &last {
            let sealed = match body {
                Some(body) => Some(
                    self.key
                        .seal_row(entity_kind, id, body)
                        .map_err(|e| WriteError::Database(e.to_string()))?
                        .into_owned(),
                ),
                None => None,
            };
            kinds.push(entity_kind.to_string());
            ids.push(id.to_string());
            bodies.push(sealed);
        }
        let now = now_ms();
        let audits: Vec<&AuditRecord> = batch.iter().filter_map(|p| p.audit.as_ref()).collect();
        let log_params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&kinds, &ids, &bodies, &now];
        let row_params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&kinds, &ids, &bodies];
        let (logged, _, _, _) = tokio::try_join!(
            tx.query(
                "INSERT INTO change_log (kind, id, body, time_ms) \
                 SELECT k, i, b, $4 FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[]) AS c (k, i, b) \
                 RETURNING seq",
                &log_params,
            ),
            tx.execute(
                "INSERT INTO entities (kind, id, body) \
                 SELECT k, i, b FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[]) AS c (k, i, b) \
                 WHERE b IS NOT NULL \
                 ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body",
                &row_params,
            ),
            tx.execute(
                "DELETE FROM entities e USING unnest($1::TEXT[], $2::TEXT[], $3::TEXT[]) AS c (k, i, b) \
                 WHERE c.b IS NULL AND e.kind = c.k AND e.id = c.i",
                &row_params,
            ),
            insert_audits(&*tx, &audits),
        )
        .map_err(db)?;
        let seq = logged.iter().map(|r| r.get::<_, i64>(0)).max();
        if let Some(seq) = seq {
            // Delivered at commit, to every replica listening (this one too): the new entries,
            // and that this replica has applied everything up to them.
            let said = format!("{} {seq}", self.id);
            tx.execute(
                "SELECT pg_notify($1, $2), pg_notify($3, $4)",
                &[&CHANNEL, &seq.to_string(), &APPLIED_CHANNEL, &said],
            )
            .await
            .map_err(db)?;
        }
        if batch
            .iter()
            .all(|p| p.durability == super::Durability::Relaxed)
        {
            // Committed and visible at once; flushed to disk with the next synced commit.
            tx.batch_execute("SET LOCAL synchronous_commit TO OFF")
                .await
                .map_err(db)?;
        }
        tx.commit()
            .await
            .map_err(|e| WriteError::Unknown(cause(&e)))?;
        let changes: Vec<Change> = batch.iter_mut().flat_map(|p| p.changes.drain(..)).collect();
        self.publish(&changes, seq);
        for pending in batch {
            let _ = pending.committed.send(seq);
        }
        Ok(())
    }

    /// Applies a committed write to the committed state (the working copy has it already).
    fn publish(&self, changes: &[Change], seq: Option<i64>) {
        let mut committed = match self.committed.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut permissions_changed = false;
        for change in changes {
            match committed.apply_change(change) {
                Ok(changed) => permissions_changed |= changed,
                Err(error) => {
                    tracing::error!(%error, "a committed change does not read back");
                    permissions_changed = true;
                }
            }
        }
        if permissions_changed {
            committed.generation += 1;
        }
        // Moved while the new state is held, so whoever reads the new position reads this state
        // or a newer one.
        if !changes.is_empty() {
            self.position.fetch_add(1, Ordering::Release);
        }
        if let Some(seq) = seq {
            self.applied.fetch_max(seq, Ordering::Relaxed);
        }
    }

    fn reset_working(&self) {
        let mut working = lock(&self.working);
        let committed = match self.committed.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        working.state = committed.clone();
        working.epoch += 1;
    }

    /// Inserts the buffered audit records; on failure they go back to the buffer.
    pub(super) async fn flush_audits(&self) -> Result<(), String> {
        let _turn = self.audit_turn.lock().await;
        let records = std::mem::take(&mut *lock(&self.audits));
        if records.is_empty() {
            return Ok(());
        }
        let result = async {
            let client = client(&self.pool, &self.config).await?;
            let refs: Vec<&AuditRecord> = records.iter().collect();
            match tokio::time::timeout(WRITE_DEADLINE, insert_audits(&**client, &refs)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(cause(&e)),
                Err(_) => {
                    drop(deadpool_postgres::Object::take(client));
                    Err("the database did not answer in time".to_string())
                }
            }
        }
        .await;
        if let Err(e) = &result {
            let mut audits = lock(&self.audits);
            let mut back = records;
            back.append(&mut audits);
            if back.len() > super::sqlite::AUDIT_BACKLOG {
                let dropped = back.len() - super::sqlite::AUDIT_BACKLOG;
                back.drain(..dropped);
                tracing::error!(
                    dropped,
                    "audit records dropped: the database has refused them for too long"
                );
            }
            *audits = back;
            self.mark_down(e);
        }
        result
    }

    /// Audit records, oldest first.
    pub(super) async fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let client =
            client(&self.pool, &self.config)
                .await
                .map_err(|message| StoreError::Postgres {
                    database: self.name.clone(),
                    message,
                })?;
        query_audit(&**client, &self.name, q).await
    }
}

/// Creates or migrates the schema (the write lock held); refuses a newer one.
pub(super) async fn migrate(
    tx: &tokio_postgres::Transaction<'_>,
    name: &str,
) -> Result<(), StoreError> {
    let db = |e: tokio_postgres::Error| StoreError::Postgres {
        database: name.to_string(),
        message: cause(&e),
    };
    tx.batch_execute("CREATE TABLE IF NOT EXISTS rolewright_schema (version BIGINT NOT NULL)")
        .await
        .map_err(db)?;
    let found: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::BIGINT FROM rolewright_schema",
            &[],
        )
        .await
        .map_err(db)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            database: name.to_string(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS.iter().skip(found as usize) {
        tx.batch_execute(migration).await.map_err(db)?;
    }
    if found < SCHEMA_VERSION {
        tx.execute("DELETE FROM rolewright_schema", &[])
            .await
            .map_err(db)?;
        tx.execute(
            "INSERT INTO rolewright_schema (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )
        .await
        .map_err(db)?;
        tracing::info!(database = %name, from = found, to = SCHEMA_VERSION, "migrated the database schema");
    }
    Ok(())
}

/// Inserts audit records in one statement, in their order.
pub(super) async fn insert_audits(
    client: &impl tokio_postgres::GenericClient,
    records: &[&AuditRecord],
) -> Result<u64, tokio_postgres::Error> {
    if records.is_empty() {
        return Ok(0);
    }
    let time: Vec<i64> = records.iter().map(|r| r.time_ms).collect();
    let text = |f: fn(&AuditRecord) -> Option<String>| -> Vec<Option<String>> {
        records.iter().map(|r| f(r)).collect()
    };
    let request_id = text(|r| Some(r.request_id.clone()));
    let principal = text(|r| r.principal.clone());
    let source_ip = text(|r| r.source_ip.clone());
    let service = text(|r| r.service.clone());
    let action = text(|r| r.action.clone());
    let resource = text(|r| r.resource.clone());
    let decision = text(|r| Some(r.decision.clone()));
    let reason = text(|r| r.reason.clone());
    let error_code = text(|r| r.error_code.clone());
    let status: Vec<i32> = records.iter().map(|r| i32::from(r.status)).collect();
    let user_agent = text(|r| r.user_agent.clone());
    let decisions = text(|r| {
        let stored = r.decisions_to_store();
        (!stored.is_empty()).then(|| serde_json::to_string(stored).unwrap_or_default())
    });
    client
        .execute(
            "INSERT INTO audit (time_ms, request_id, principal, source_ip, service, action, \
             resource, decision, reason, error_code, status, user_agent, decisions) \
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], \
             $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::INTEGER[], \
             $12::TEXT[], $13::TEXT[])",
            &[
                &time,
                &request_id,
                &principal,
                &source_ip,
                &service,
                &action,
                &resource,
                &decision,
                &reason,
                &error_code,
                &status,
                &user_agent,
                &decisions,
            ],
        )
        .await
}

async fn query_audit(
    client: &impl tokio_postgres::GenericClient,
    name: &str,
    q: &AuditQuery,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut sql = String::from(
        "SELECT time_ms, request_id, principal, source_ip, service, action, resource, decision, \
         reason, error_code, status, user_agent, decisions FROM audit WHERE TRUE",
    );
    let mut args: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = Vec::new();
    let mut arg = |sql: &mut String,
                   text: &str,
                   value: Box<dyn tokio_postgres::types::ToSql + Sync + Send>| {
        args.push(value);
        sql.push_str(&text.replace('?', &format!("${}", args.len())));
    };
    if let Some(p) = &q.principal {
        arg(&mut sql, " AND principal = ?", Box::new(p.clone()));
    }
    if let Some(a) = &q.action {
        // A request matches an action it authorized, not only its operation's.
        arg(
            &mut sql,
            " AND (lower(action) = lower(?) OR EXISTS (SELECT 1 FROM \
             json_array_elements(coalesce(decisions, '[]')::JSON) d \
             WHERE lower(d->>'action') = lower(?)))",
            Box::new(a.clone()),
        );
    }
    if let Some(d) = &q.decision {
        arg(&mut sql, " AND decision = ?", Box::new(d.clone()));
    }
    if let Some(t) = q.since_ms {
        arg(&mut sql, " AND time_ms >= ?", Box::new(t));
    }
    if let Some(t) = q.until_ms {
        arg(&mut sql, " AND time_ms < ?", Box::new(t));
    }
    let limit = q.limit.min(i64::MAX as usize) as i64;
    arg(&mut sql, " ORDER BY seq DESC LIMIT ?", Box::new(limit));
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
        .iter()
        .map(|a| a.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let rows = client
        .query(&sql, &params)
        .await
        .map_err(|e| StoreError::Postgres {
            database: name.to_string(),
            message: cause(&e),
        })?;
    Ok(rows.iter().rev().map(record_from_row).collect())
}

/// An audit record from its row (the columns `time_ms` to `decisions`).
pub(super) fn record_from_row(row: &tokio_postgres::Row) -> AuditRecord {
    let status: i32 = row.get(10);
    let mut record = AuditRecord {
        time_ms: row.get(0),
        request_id: row.get(1),
        principal: row.get(2),
        source_ip: row.get(3),
        service: row.get(4),
        action: row.get(5),
        resource: row.get(6),
        decision: row.get(7),
        reason: row.get(8),
        error_code: row.get(9),
        status: u16::try_from(status).unwrap_or_default(),
        user_agent: row.get(11),
        decisions: Vec::new(),
    };
    if let Some(text) = row.get::<_, Option<String>>(12) {
        record.decisions = serde_json::from_str::<Vec<AuditDecision>>(&text).unwrap_or_default();
    }
    if record.decisions.is_empty() {
        // A lone decision is stored only in the record's own line.
        record.decisions.extend(record.headline());
    }
    record
}

/// Commits the replica's writes in batches, one batch at a time: every write waiting when a
/// batch starts is in it (group commit, as on SQLite), so that one lock, one catch-up and one
/// commit serve them all. Ends with the replica.
async fn commit_batches(replica: std::sync::Weak<Replica>, queued: Arc<tokio::sync::Notify>) {
    loop {
        let waiting = match replica.upgrade() {
            Some(r) => std::mem::take(&mut *lock(&r.waiting)),
            None => return,
        };
        if waiting.is_empty() {
            queued.notified().await;
            continue;
        }
        let Some(replica) = replica.upgrade() else {
            return;
        };
        replica.commit_batch(waiting).await;
    }
}

/// Follows the change log: a `LISTEN` connection wakes the replica on every commit; it also
/// polls, and reconnects when the connection drops. Ends with the replica.
async fn follow(replica: std::sync::Weak<Replica>) {
    loop {
        let Some(config) = replica.upgrade().map(|r| r.config.clone()) else {
            return;
        };
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (wake, mut woken) = tokio::sync::mpsc::unbounded_channel::<()>();
                let announced = replica.clone();
                let driver = tokio::spawn(async move {
                    while let Some(message) =
                        std::future::poll_fn(|cx| connection.poll_message(cx)).await
                    {
                        match message {
                            Ok(AsyncMessage::Notification(n)) => {
                                let Some(r) = announced.upgrade() else { break };
                                if n.channel() == APPLIED_CHANNEL {
                                    r.peer_said(n.payload());
                                    continue;
                                }
                                if let Ok(seq) = n.payload().parse::<i64>() {
                                    r.notified.fetch_max(seq, Ordering::Relaxed);
                                }
                                let _ = wake.send(());
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                });
                if client
                    .batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {APPLIED_CHANNEL}"))
                    .await
                    .is_ok()
                {
                    let mut poll = tokio::time::interval(POLL_INTERVAL);
                    let mut last_prune = tokio::time::Instant::now();
                    loop {
                        tokio::select! {
                            woke = woken.recv() => if woke.is_none() { break },
                            _ = poll.tick() => {}
                        }
                        while woken.try_recv().is_ok() {}
                        let Some(r) = replica.upgrade() else {
                            driver.abort();
                            return;
                        };
                        if r.catch_up_when_woken().await.is_err() {
                            break;
                        }
                        let said = format!("{} {}", r.id, r.applied.load(Ordering::Relaxed));
                        if client
                            .execute("SELECT pg_notify($1, $2)", &[&APPLIED_CHANNEL, &said])
                            .await
                            .is_err()
                        {
                            break;
                        }
                        if last_prune.elapsed() >= PRUNE_INTERVAL {
                            last_prune = tokio::time::Instant::now();
                            if let Err(error) = r.prune_log(LOG_RETENTION).await {
                                tracing::warn!(database = %r.name, %error, "cannot prune the change log");
                            }
                        }
                    }
                }
                driver.abort();
                if let Some(r) = replica.upgrade() {
                    r.mark_down("the connection that listens for changes was lost");
                }
            }
            Err(e) => {
                if let Some(r) = replica.upgrade() {
                    r.mark_down(&format!(
                        "cannot connect to {}: {}",
                        address(&config),
                        cause(&e)
                    ));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Inserts buffered audit records every 25 ms. Ends with the replica.
async fn insert_audits_every(replica: std::sync::Weak<Replica>) {
    let mut tick = tokio::time::interval(super::sqlite::AUDIT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(r) = replica.upgrade() else {
            return;
        };
        let _ = r.flush_audits().await;
    }
}

/// Reads a database's state without serving it (`rolewright admin credentials`).
pub(super) async fn read_state(url: &str, key: Option<&MasterKey>) -> Result<State, StoreError> {
    let name = super::redact(url);
    let config = parse_config(url)?;
    let failed = |message: String| StoreError::Postgres {
        database: name.clone(),
        message,
    };
    let db = |e: tokio_postgres::Error| failed(cause(&e));
    let (client, connection) = tokio::time::timeout(Duration::from_secs(5), config.connect(NoTls))
        .await
        .map_err(|_| failed(format!("cannot connect to {}: no answer", address(&config))))?
        .map_err(|e| {
            failed(format!(
                "cannot connect to {}: {}",
                address(&config),
                cause(&e)
            ))
        })?;
    let driver = tokio::spawn(connection);
    let version: Option<i64> = client
        .query_opt("SELECT max(version)::BIGINT FROM rolewright_schema", &[])
        .await
        .map_err(|e| failed(format!("no rolewright schema here ({})", cause(&e))))?
        .and_then(|row| row.get(0));
    let version = version.unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            database: name,
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    let rows = client
        .query("SELECT kind, id, body FROM entities", &[])
        .await
        .map_err(db)?;
    driver.abort();
    let rows: Vec<(String, String, String)> = rows
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let check = rows
        .iter()
        .find(|(k, id, _)| k == kind::META && id == CHECK_ID)
        .map(|(_, _, body)| body.clone());
    match (check, key) {
        (Some(check), Some(key)) if !key.opens_check_value(&check) => {
            return Err(StoreError::WrongMasterKey {
                path: PathBuf::from(&name),
            });
        }
        (Some(_), None) => {
            return Err(StoreError::NoMasterKey {
                path: PathBuf::from(&name),
            });
        }
        _ => {}
    }
    load_rows(rows, Path::new(&name), key).map(|(state, _)| state)
}

/// Reads audit records from a database without serving it (`rolewright audit`).
pub async fn query_database_audit(
    url: &str,
    q: &AuditQuery,
) -> Result<Vec<AuditRecord>, StoreError> {
    let name = super::redact(url);
    let config = parse_config(url)?;
    let (client, connection) = tokio::time::timeout(Duration::from_secs(5), config.connect(NoTls))
        .await
        .map_err(|_| StoreError::Postgres {
            database: name.clone(),
            message: format!("cannot connect to {}: no answer", address(&config)),
        })?
        .map_err(|e| StoreError::Postgres {
            database: name.clone(),
            message: format!("cannot connect to {}: {}", address(&config), cause(&e)),
        })?;
    let driver = tokio::spawn(connection);
    let result = query_audit(&client, &name, q).await;
    driver.abort();
    result
}
