//! `rolewright migrate`: a single-node deployment's SQLite database copied into PostgreSQL —
//! every entity, its secrets opened with the source's master key and sealed again under the
//! target's, and the whole audit log — in one transaction, then read back and compared kind by
//! kind and by a checksum over everything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use tokio_postgres::NoTls;

use super::postgres::{WRITE_LOCK, address, cause, insert_audits, migrate, record_from_row};
use super::sqlite::{SCHEMA_VERSION, SCRUB_PENDING, check_key, stored_rows};
use super::{DB_FILE, StoreError, open_read_only};
use crate::audit::AuditRecord;
use crate::master_key::{CHECK_ID, MasterKey, open_row};
use crate::model::kind;

/// Rows and audit records are copied and read back in pages of this many.
const PAGE: usize = 2000;

/// The name migration connections go by; replicas go by `rolewright`.
const APPLICATION: &str = "rolewright-migrate";

/// How many of one kind the source had and the target has after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The entity kind (`role`, `user`, ...), or `audit` for the audit log's records.
    pub kind: String,
    /// In the SQLite database.
    pub source: u64,
    /// In the PostgreSQL database, read back after the commit.
    pub target: u64,
}

/// What a migration copied, and whether the target reads back as the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// One per kind, in name order, the audit log last.
    pub tallies: Vec<Tally>,
    /// SHA-256 (hex) over every entity (kind, id, body with its secrets open, in canonical
    /// JSON) in (kind, id) order and every audit record in log order, as the source holds them.
    pub source_checksum: String,
    /// The same over the target, read back after the commit.
    pub target_checksum: String,
}

impl MigrationReport {
    /// Whether every count and the checksum agree.
    pub fn matches(&self) -> bool {
        self.source_checksum == self.target_checksum
            && self.tallies.iter().all(|t| t.source == t.target)
    }

    /// The report as printed: one line per kind (`KIND SOURCE TARGET ok|MISMATCH`), then
    /// `checksum sha256:HEX ok` (or both checksums and MISMATCH).
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .tallies
            .iter()
            .map(|t| {
                let verdict = if t.source == t.target {
                    "ok"
                } else {
                    "MISMATCH"
                };
                format!("{:<28} {:>9} {:>9}  {verdict}", t.kind, t.source, t.target)
            })
            .collect();
        if self.source_checksum == self.target_checksum {
            lines.push(format!("checksum sha256:{}  ok", self.source_checksum));
        } else {
            lines.push(format!(
                "checksum sha256:{} (source) sha256:{} (target)  MISMATCH",
                self.source_checksum, self.target_checksum
            ));
        }
        lines
    }
}

/// Everything read from one side, for comparison.
#[derive(Default)]
struct Summary {
    counts: BTreeMap<String, u64>,
    audits: u64,
    digest: Sha256,
}

impl Summary {
    /// Adds the entities (kind, id, body with secrets open), in (kind, id) order.
    fn entities(&mut self, mut rows: Vec<(String, String, String)>) {
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        for (entity_kind, id, body) in rows {
            *self.counts.entry(entity_kind.clone()).or_default() += 1;
            self.digest.update(entity_kind.as_bytes());
            self.digest.update([0]);
            self.digest.update(id.as_bytes());
            self.digest.update([0]);
            self.digest.update(canonical(&body).as_bytes());
            self.digest.update(b"\n");
        }
    }

    fn audit(&mut self, record: &AuditRecord) {
        self.audits += 1;
        self.digest.update(b"audit\0");
        self.digest
            .update(serde_json::to_string(record).unwrap_or_default().as_bytes());
        self.digest.update(b"\n");
    }

    fn finish(self) -> (BTreeMap<String, u64>, u64, String) {
        let hex = self
            .digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        (self.counts, self.audits, hex)
    }
}

/// A body as JSON with its object keys sorted, so that two bodies that hold the same fields
/// compare equal whatever order they were written in; a body that is not JSON, as it is.
fn canonical(body: &str) -> String {
    fn sorted(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(
                    entries.into_iter().map(|(k, v)| (k, sorted(v))).collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sorted).collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => sorted(value).to_string(),
        Err(_) => body.to_string(),
    }
}

/// Whether a row belongs to its database rather than to the deployment: the key check value
/// (the target gets its own key's) and SQLite's scrub marker.
fn own_row(entity_kind: &str, id: &str) -> bool {
    entity_kind == kind::META && (id == CHECK_ID || id == SCRUB_PENDING)
}

/// Copies the SQLite database in `dir` (secrets opened with `from_key`) into the PostgreSQL
/// database at `url` (sealed under `to_key`), then reads the target back and compares. The
/// target must hold no entity and no audit record unless `force`, which replaces what it
/// holds; no replica may be connected to it. Nothing is written to the target unless
/// everything is (one transaction). The caller keeps servers off `dir` meanwhile.
pub async fn sqlite_to_postgres(
    dir: &Path,
    from_key: Option<&MasterKey>,
    url: &str,
    to_key: &MasterKey,
    force: bool,
) -> Result<MigrationReport, StoreError> {
    let name = super::redact(url);
    let failed = |message: String| StoreError::Postgres {
        database: name.clone(),
        message,
    };
    let db = |e: tokio_postgres::Error| failed(cause(&e));

    // The source, read in one snapshot.
    let path = dir.join(DB_FILE);
    let sqlite = |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    };
    let conn = open_read_only(dir)?;
    conn.execute_batch("BEGIN").map_err(sqlite)?;
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
    check_key(&conn, &path, from_key)?;
    let rows = opened(stored_rows(&conn, &path)?, &path, from_key)?;

    // The target: connected without the replicas' statement timeout, which a large copy would
    // outlast.
    let mut config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
        failed(format!("not a PostgreSQL URL: {}", cause(&e)))
    })?;
    config
        .connect_timeout(Duration::from_secs(5))
        .application_name(APPLICATION);
    let (mut client, connection) = config.connect(NoTls).await.map_err(|e| {
        failed(format!(
            "cannot connect to {}: {}",
            address(&config),
            cause(&e)
        ))
    })?;
    let driver = tokio::spawn(connection);
    let copied = async {
        let tx = client.transaction().await.map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .await
            .map_err(db)?;
        let replicas: i64 = tx
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'rolewright' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .map_err(db)?
            .get(0);
        if replicas > 0 {
            return Err(failed(format!(
                "{replicas} connection(s) of a running `rolewright serve` use this database; \
                 stop every replica first (they would go on serving what they hold in memory)"
            )));
        }
        migrate(&tx, &name).await?;
        let held: i64 = tx
            .query_one(
                "SELECT count(*) FROM entities WHERE kind <> $1",
                &[&kind::META],
            )
            .await
            .map_err(db)?
            .get(0);
        let audited: i64 = tx
            .query_one("SELECT count(*) FROM audit", &[])
            .await
            .map_err(db)?
            .get(0);
        if held + audited > 0 && !force {
            return Err(failed(format!(
                "the target is not empty: it holds {held} entities and {audited} audit records \
                 (a server has run on it); pass --force to replace them with the source's"
            )));
        }
        tx.batch_execute("DELETE FROM entities; DELETE FROM audit; DELETE FROM change_log")
            .await
            .map_err(db)?;
        let check = to_key.check_value().map_err(|e| failed(e.to_string()))?;
        let mut sealed: Vec<(String, String, String)> = Vec::with_capacity(rows.len() + 1);
        sealed.push((kind::META.to_string(), CHECK_ID.to_string(), check));
        for (entity_kind, id, body) in &rows {
            let body = to_key
                .seal_row(entity_kind, id, body)
                .map_err(|e| failed(e.to_string()))?;
            sealed.push((entity_kind.clone(), id.clone(), body.into_owned()));
        }
        for page in sealed.chunks(PAGE) {
            let column = |f: fn(&(String, String, String)) -> &String| -> Vec<&String> {
                page.iter().map(f).collect()
            };
            tx.execute(
                "INSERT INTO entities (kind, id, body) \
                 SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[])",
                &[&column(|r| &r.0), &column(|r| &r.1), &column(|r| &r.2)],
            )
            .await
            .map_err(db)?;
        }
        let mut source = Summary::default();
        source.entities(rows);
        let mut after = 0;
        loop {
            let page = crate::audit::read_after(&conn, after, PAGE).map_err(sqlite)?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = *last;
            for (_, record) in &page {
                source.audit(record);
            }
            let records: Vec<&AuditRecord> = page.iter().map(|(_, r)| r).collect();
            insert_audits(&tx, &records).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(source)
    }
    .await;
    let source = match copied {
        Ok(source) => source,
        Err(e) => {
            driver.abort();
            return Err(e);
        }
    };
    let target = read_back(&client, to_key, &name).await;
    driver.abort();
    let target = target?;
    Ok(report(source, target))
}

/// Rows with their secrets opened, without the database's own rows.
fn opened(
    rows: Vec<(String, String, String)>,
    database: &Path,
    key: Option<&MasterKey>,
) -> Result<Vec<(String, String, String)>, StoreError> {
    rows.into_iter()
        .filter(|(k, id, _)| !own_row(k, id))
        .map(|(entity_kind, id, body)| {
            let body = open_row(key, &entity_kind, &id, &body)
                .map_err(|message| StoreError::Corrupt {
                    path: database.to_path_buf(),
                    kind: entity_kind.clone(),
                    id: id.clone(),
                    message,
                })?
                .body
                .into_owned();
            Ok((entity_kind, id, body))
        })
        .collect()
}

/// The target as committed: its entities opened with the key they were sealed under, and its
/// audit log in order.
async fn read_back(
    client: &tokio_postgres::Client,
    key: &MasterKey,
    name: &str,
) -> Result<Summary, StoreError> {
    let db = |e: tokio_postgres::Error| StoreError::Postgres {
        database: name.to_string(),
        message: format!("reading the copy back: {}", cause(&e)),
    };
    let rows = client
        .query("SELECT kind, id, body FROM entities", &[])
        .await
        .map_err(db)?
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let mut summary = Summary::default();
    summary.entities(opened(rows, &PathBuf::from(name), Some(key))?);
    let mut after = 0_i64;
    loop {
        let page = client
            .query(
                "SELECT time_ms, request_id, principal, source_ip, service, action, resource, \
                 decision, reason, error_code, status, user_agent, decisions, seq FROM audit \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &(PAGE as i64)],
            )
            .await
            .map_err(db)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.get(13);
        for row in &page {
            summary.audit(&record_from_row(row));
        }
    }
    Ok(summary)
}

fn report(source: Summary, target: Summary) -> MigrationReport {
    let (source_counts, source_audits, source_checksum) = source.finish();
    let (target_counts, target_audits, target_checksum) = target.finish();
    let kinds: std::collections::BTreeSet<&String> =
        source_counts.keys().chain(target_counts.keys()).collect();
    let mut tallies: Vec<Tally> = kinds
        .into_iter()
        .map(|k| Tally {
            kind: k.clone(),
            source: source_counts.get(k).copied().unwrap_or(0),
            target: target_counts.get(k).copied().unwrap_or(0),
        })
        .collect();
    tallies.push(Tally {
        kind: "audit".into(),
        source: source_audits,
        target: target_audits,
    });
    MigrationReport {
        tallies,
        source_checksum,
        target_checksum,
    }
}

#[cfg(test)]
mod tests {
    use super::{MigrationReport, Tally, canonical};

    #[test]
    fn a_count_or_checksum_that_differs_is_reported_as_a_mismatch() {
        let tally = |kind: &str, source, target| Tally {
            kind: kind.into(),
            source,
            target,
        };
        let mut report = MigrationReport {
            tallies: vec![tally("role", 3, 3), tally("audit", 10, 10)],
            source_checksum: "ab".repeat(32),
            target_checksum: "ab".repeat(32),
        };
        assert!(report.matches());
        assert_eq!(
            report.lines(),
            [
                format!("{:<28} {:>9} {:>9}  ok", "role", 3, 3),
                format!("{:<28} {:>9} {:>9}  ok", "audit", 10, 10),
                format!("checksum sha256:{}  ok", "ab".repeat(32)),
            ]
        );
        report.tallies[0].target = 2;
        assert!(!report.matches());
        assert!(report.lines()[0].ends_with("3         2  MISMATCH"));
        report.tallies[0].target = 3;
        report.target_checksum = "cd".repeat(32);
        assert!(!report.matches());
        assert!(report.lines()[2].ends_with("(target)  MISMATCH"));
    }

    #[test]
    fn bodies_with_the_same_fields_in_another_order_are_the_same() {
        assert_eq!(
            canonical(r#"{"b":1,"a":{"y":[{"q":1,"p":2}],"x":null}}"#),
            canonical(r#"{"a":{"x":null,"y":[{"p":2,"q":1}]},"b":1}"#)
        );
        assert_eq!(canonical("acct-123"), "acct-123");
    }
}
