//! The audit log, like CloudTrail: one record per request with time, principal, source address,
//! action, resource, decision, reason, request id and error code, and every authorization
//! decision the request needed (action, resource, decision, the deciding statement or AWS's
//! denial text). Never a secret.

use std::path::Path;

use rusqlite::{Connection, ToSql, params_from_iter};
use serde::Serialize;

use crate::store::{StoreError, open_read_only};

/// One logged request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Unix milliseconds.
    pub time_ms: i64,
    /// The request id returned to the caller.
    pub request_id: String,
    /// The caller's ARN, when authenticated.
    pub principal: Option<String>,
    /// The caller's address.
    pub source_ip: Option<String>,
    /// `iam`, `sts`, ...
    pub service: Option<String>,
    /// `iam:CreateRole`.
    pub action: Option<String>,
    /// The resource ARN authorized.
    pub resource: Option<String>,
    /// `allowed`, `denied` (authorization), or `error` (refused before authorization).
    pub decision: String,
    /// Why: the matching statement or AWS's AccessDenied text or the error message.
    pub reason: Option<String>,
    /// The AWS error code, when the request failed.
    pub error_code: Option<String>,
    /// HTTP status.
    pub status: u16,
    /// The client's User-Agent.
    pub user_agent: Option<String>,
    /// Every authorization decision of the request, in the order they were made (CreateRole
    /// with a boundary decides `iam:CreateRole` and `iam:PutRolePermissionsBoundary`; a call
    /// that names an execution role also decides `iam:PassRole`).
    pub decisions: Vec<AuditDecision>,
}

/// One authorization decision within a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditDecision {
    /// `iam:PassRole`.
    pub action: String,
    /// The resource ARN it was decided on (`*` for actions without resource types).
    pub resource: String,
    /// `allowed` or `denied`.
    pub decision: String,
    /// The statement that allowed it (`allowed by POLICY statement SID`), or AWS's AccessDenied
    /// text.
    pub reason: String,
}

impl AuditRecord {
    /// The decisions to store beside the record's own line: none when the request made exactly
    /// one and the line already says it (most requests), since [`query`] reads it back from
    /// the line; that halves what the audit log writes per request.
    pub(crate) fn decisions_to_store(&self) -> &[AuditDecision] {
        match self.decisions.as_slice() {
            [only] if self.states(only) => &[],
            all => all,
        }
    }

    /// Whether the record's own line says exactly `d`.
    fn states(&self, d: &AuditDecision) -> bool {
        self.decision == d.decision
            && self.action.as_deref() == Some(d.action.as_str())
            && self.resource.as_deref() == Some(d.resource.as_str())
            && self.reason.as_deref() == Some(d.reason.as_str())
    }

    /// The decision the record's own line states, when it states one.
    pub(crate) fn headline(&self) -> Option<AuditDecision> {
        if self.decision != "allowed" && self.decision != "denied" {
            return None;
        }
        Some(AuditDecision {
            action: self.action.clone()?,
            resource: self.resource.clone()?,
            decision: self.decision.clone(),
            reason: self.reason.clone()?,
        })
    }
}

/// What to select.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Exact principal ARN.
    pub principal: Option<String>,
    /// Exact action (`iam:CreateRole`), case-insensitive.
    pub action: Option<String>,
    /// `allowed`, `denied` or `error`.
    pub decision: Option<String>,
    /// Unix milliseconds; records at or after.
    pub since_ms: Option<i64>,
    /// Unix milliseconds; records before.
    pub until_ms: Option<i64>,
    /// At most this many records (the newest).
    pub limit: usize,
}

/// Reads records from the database in `dir`, oldest first.
pub fn query(dir: &Path, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
    let conn = open_read_only(dir)?;
    let path = dir.join(crate::store::DB_FILE);
    // A database last served by an older rolewright has no per-decision table yet.
    let has_decisions = conn.prepare("SELECT 1 FROM audit_decision LIMIT 0").is_ok();
    let mut sql = String::from(
        "SELECT time_ms, request_id, principal, source_ip, service, action, resource, decision, \
         reason, error_code, status, user_agent, seq FROM audit WHERE 1=1",
    );
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(p) = &q.principal {
        sql.push_str(" AND principal = ?");
        args.push(Box::new(p.clone()));
    }
    if let Some(a) = &q.action {
        if has_decisions {
            // A request matches an action it authorized, not only its operation's.
            sql.push_str(
                " AND (lower(action) = lower(?) OR seq IN (SELECT audit_seq FROM audit_decision \
                 WHERE lower(audit_decision.action) = lower(?)))",
            );
            args.push(Box::new(a.clone()));
        } else {
            sql.push_str(" AND lower(action) = lower(?)");
        }
        args.push(Box::new(a.clone()));
    }
    if let Some(d) = &q.decision {
        sql.push_str(" AND decision = ?");
        args.push(Box::new(d.clone()));
    }
    if let Some(t) = q.since_ms {
        sql.push_str(" AND time_ms >= ?");
        args.push(Box::new(t));
    }
    if let Some(t) = q.until_ms {
        sql.push_str(" AND time_ms < ?");
        args.push(Box::new(t));
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    args.push(Box::new(q.limit.min(i64::MAX as usize) as i64));
    let sqlite = |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    };
    let mut statement = conn.prepare(&sql).map_err(sqlite)?;
    let rows = statement
        .query_map(params_from_iter(args.iter()), record_of)
        .map_err(sqlite)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, mut record) = row.map_err(sqlite)?;
        complete(&conn, has_decisions, seq, &mut record).map_err(sqlite)?;
        out.push(record);
    }
    out.reverse();
    Ok(out)
}

/// Up to `limit` records after sequence number `after`, oldest first, each with its sequence
/// number: the whole log in pages (what `rolewright migrate` copies).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn read_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<(i64, AuditRecord)>> {
    let has_decisions = conn.prepare("SELECT 1 FROM audit_decision LIMIT 0").is_ok();
    let mut statement = conn.prepare_cached(
        "SELECT time_ms, request_id, principal, source_ip, service, action, resource, decision, \
         reason, error_code, status, user_agent, seq FROM audit WHERE seq > ? ORDER BY seq \
         LIMIT ?",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement
        .query_map(rusqlite::params![after, limit], record_of)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (seq, mut record) in rows {
        complete(conn, has_decisions, seq, &mut record)?;
        out.push((seq, record));
    }
    Ok(out)
}

/// A record's own line (the columns `time_ms` to `user_agent`, then `seq`).
fn record_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, AuditRecord)> {
    let seq: i64 = row.get(12)?;
    let record = AuditRecord {
        time_ms: row.get(0)?,
        request_id: row.get(1)?,
        principal: row.get(2)?,
        source_ip: row.get(3)?,
        service: row.get(4)?,
        action: row.get(5)?,
        resource: row.get(6)?,
        decision: row.get(7)?,
        reason: row.get(8)?,
        error_code: row.get(9)?,
        status: row.get(10)?,
        user_agent: row.get(11)?,
        decisions: Vec::new(),
    };
    Ok((seq, record))
}

/// Adds a record's decisions: those stored beside it, or the lone one its line states.
fn complete(
    conn: &Connection,
    has_decisions: bool,
    seq: i64,
    record: &mut AuditRecord,
) -> rusqlite::Result<()> {
    if has_decisions {
        record.decisions = decisions_of(conn, seq)?;
    }
    if record.decisions.is_empty() {
        // A lone decision is stored only in the record's own line.
        record.decisions.extend(record.headline());
    }
    Ok(())
}

fn decisions_of(conn: &Connection, seq: i64) -> rusqlite::Result<Vec<AuditDecision>> {
    let mut statement = conn.prepare_cached(
        "SELECT action, resource, decision, reason FROM audit_decision WHERE audit_seq = ? \
         ORDER BY position",
    )?;
    let rows = statement.query_map([seq], |row| {
        Ok(AuditDecision {
            action: row.get(0)?,
            resource: row.get(1)?,
            decision: row.get(2)?,
            reason: row.get(3)?,
        })
    })?;
    rows.collect()
}
