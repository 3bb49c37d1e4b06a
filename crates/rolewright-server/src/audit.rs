//! The audit log, like CloudTrail: one record per request with time, principal, source address,
//! action, resource, decision, reason, request id and error code. Never a secret.

use std::path::Path;

use rusqlite::{ToSql, params_from_iter};
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
    /// At most this many records (the newest).
    pub limit: usize,
}

/// Reads records from the database in `dir`, oldest first.
pub fn query(dir: &Path, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
    let conn = open_read_only(dir)?;
    let path = dir.join(crate::store::DB_FILE);
    let mut sql = String::from(
        "SELECT time_ms, request_id, principal, source_ip, service, action, resource, decision, \
         reason, error_code, status, user_agent FROM audit WHERE 1=1",
    );
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(p) = &q.principal {
        sql.push_str(" AND principal = ?");
        args.push(Box::new(p.clone()));
    }
    if let Some(a) = &q.action {
        sql.push_str(" AND lower(action) = lower(?)");
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
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    args.push(Box::new(q.limit.min(i64::MAX as usize) as i64));
    let sqlite = |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    };
    let mut statement = conn.prepare(&sql).map_err(sqlite)?;
    let rows = statement
        .query_map(params_from_iter(args.iter()), |row| {
            Ok(AuditRecord {
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
            })
        })
        .map_err(sqlite)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(sqlite)?);
    }
    out.reverse();
    Ok(out)
}
