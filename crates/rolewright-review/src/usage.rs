//! What a role used: the authorization decisions of the role and its sessions (from the
//! control plane's audit log or from CloudTrail records), matched to each ML activity and each
//! action the role's policies grant.

use std::collections::BTreeMap;

use rolewright_catalog::Catalog;
use rolewright_iam::wildcard::Wildcard;
use rolewright_reference::Reference;
use serde::Serialize;
use serde_json::Value;

use crate::role_state::{RoleState, statements, strings};

/// One authorization decision of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Unix milliseconds.
    pub time_ms: i64,
    /// The caller's ARN (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` for a session).
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN it was decided on (`*` when unknown).
    pub resource: String,
    /// Whether it was allowed.
    pub allowed: bool,
}

/// The calls of a source and how far back the source reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The calls, in any order.
    pub calls: Vec<Call>,
    /// The time of the oldest record the source holds (Unix milliseconds), `None` when empty.
    pub oldest_ms: Option<i64>,
}

/// Why CloudTrail records cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudTrailError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// No `Records` array.
    #[error("no top-level `Records` array (a CloudTrail log file is `{{\"Records\": [...]}}`)")]
    NoRecords,
    /// A record's time does not read.
    #[error("`Records[{index}].eventTime` `{time}` is not a time like 2026-11-23T10:00:00Z")]
    Time {
        /// The record.
        index: usize,
        /// What it says.
        time: String,
    },
}

/// Error codes by which AWS says a call was not authorized; any other error came after
/// authorization, so the permission was used.
fn is_denial(code: &str) -> bool {
    code.contains("AccessDenied") || code.contains("Unauthorized")
}

/// The request parameters that name a role passed to a service (SageMaker's `RoleArn`,
/// `ExecutionRole`, ...): each is an `iam:PassRole` decision CloudTrail does not log itself.
const PASSED_ROLE_PARAMETERS: &[&str] = &["roleArn", "executionRole", "executionRoleArn"];

/// The decisions of one CloudTrail log file (`{"Records": [...]}`): each record's event as
/// `service:Action` on the first ARN of its `resources`, and each role it passes as
/// `iam:PassRole` on that role.
pub fn calls_from_cloudtrail(text: &str) -> Result<History, CloudTrailError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| CloudTrailError::Json(e.to_string()))?;
    let records = value["Records"]
        .as_array()
        .ok_or(CloudTrailError::NoRecords)?;
    let mut history = History::default();
    for (index, r) in records.iter().enumerate() {
        let time_text = r["eventTime"].as_str().unwrap_or_default();
        let time_ms = parse_time(time_text).ok_or_else(|| CloudTrailError::Time {
            index,
            time: time_text.to_string(),
        })?;
        history.oldest_ms = Some(history.oldest_ms.map_or(time_ms, |o| o.min(time_ms)));
        let identity = &r["userIdentity"];
        let principal = identity["arn"]
            .as_str()
            .or_else(|| identity["sessionContext"]["sessionIssuer"]["arn"].as_str())
            .unwrap_or_default()
            .to_string();
        let service = r["eventSource"]
            .as_str()
            .unwrap_or_default()
            .split('.')
            .next()
            .unwrap_or_default();
        let name = r["eventName"].as_str().unwrap_or_default();
        if service.is_empty() || name.is_empty() {
            continue;
        }
        let allowed = !r["errorCode"].as_str().is_some_and(is_denial);
        let resource = r["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|x| x["ARN"].as_str())
            .unwrap_or("*")
            .to_string();
        history.calls.push(Call {
            time_ms,
            principal: principal.clone(),
            action: format!("{service}:{name}"),
            resource,
            allowed,
        });
        let parameters = &r["requestParameters"];
        for key in PASSED_ROLE_PARAMETERS {
            if let Some(role) = parameters[*key].as_str().filter(|a| a.contains(":role/")) {
                history.calls.push(Call {
                    time_ms,
                    principal: principal.clone(),
                    action: "iam:PassRole".into(),
                    resource: role.to_string(),
                    allowed,
                });
            }
        }
    }
    Ok(history)
}

/// Whether `principal` is the role `role_arn` or one of its sessions
/// (`arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`; CloudTrail may name the role
/// itself as the session's issuer).
pub fn is_role_or_session(principal: &str, role_arn: &str) -> bool {
    if principal == role_arn {
        return true;
    }
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    let [_, partition, _, _, account, resource] = parts.as_slice() else {
        return false;
    };
    let name = resource.rsplit('/').next().unwrap_or(resource);
    principal.starts_with(&format!(
        "arn:{partition}:sts::{account}:assumed-role/{name}/"
    ))
}

/// One action a policy grants, and its use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionUsage {
    /// `service:Action`.
    pub action: String,
    /// Allowed calls in the window.
    pub calls: usize,
    /// The last allowed call (Unix milliseconds).
    pub last_used_ms: Option<i64>,
    /// The resources it was used on.
    pub resources: Vec<String>,
}

/// One ML activity of the role (or the policies no activity accounts for), with the actions its
/// policies grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityUsage {
    /// The activity id; `None` for policies added by hand.
    pub activity: Option<String>,
    /// Its policies (inline names, attached ARNs).
    pub policies: Vec<String>,
    /// The last allowed call of any of its actions.
    pub last_used_ms: Option<i64>,
    /// Each action its policies grant.
    pub actions: Vec<ActionUsage>,
}

impl ActivityUsage {
    /// Whether any of its actions was used.
    pub fn used(&self) -> bool {
        self.last_used_ms.is_some()
    }
}

/// The usage of a role in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    /// The role's ARN.
    pub role: String,
    /// The window's start (Unix milliseconds).
    pub since_ms: i64,
    /// By activity, in the role's order; policies of no activity last.
    pub activities: Vec<ActivityUsage>,
}

/// The allowed calls of `role` and its sessions at or after `since_ms`.
pub fn role_calls<'a>(role: &RoleState, calls: &'a [Call], since_ms: i64) -> Vec<&'a Call> {
    calls
        .iter()
        .filter(|c| {
            c.allowed && c.time_ms >= since_ms && is_role_or_session(&c.principal, &role.arn)
        })
        .collect()
}

/// The actions (wildcards expanded with the service data; unknown names kept as written) a
/// statement's `Action` grants.
pub fn expand(pattern: &str, reference: &Reference) -> Vec<String> {
    let expanded: Vec<String> = reference
        .expand(pattern)
        .iter()
        .map(|a| a.full_name())
        .collect();
    if expanded.is_empty() {
        vec![pattern.to_string()]
    } else {
        expanded
    }
}

/// Whether `statement` (an `Allow` with `Resource` or `NotResource`) names `resource`; a call
/// whose resource is unknown (`*`) matches every statement.
pub fn names_resource(statement: &Value, resource: &str) -> bool {
    if resource == "*" {
        return true;
    }
    let any = |v: &Value| {
        strings(v)
            .iter()
            .any(|p| Wildcard::new(p, false).matches(resource))
    };
    match statement.get("Resource") {
        Some(r) => any(r),
        None => statement.get("NotResource").is_some_and(|r| !any(r)),
    }
}

/// Per activity and per action granted, whether and when the role and its sessions used it.
pub fn usage(
    role: &RoleState,
    calls: &[Call],
    since_ms: i64,
    catalog: &Catalog,
    reference: &Reference,
) -> UsageReport {
    let used = role_calls(role, calls, since_ms);
    let mut groups: Vec<ActivityUsage> = role
        .activities(catalog)
        .into_iter()
        .map(|id| ActivityUsage {
            activity: Some(id),
            policies: Vec::new(),
            last_used_ms: None,
            actions: Vec::new(),
        })
        .collect();
    for (policy, document) in role.policies() {
        let activity = role.activity_of_policy(policy, catalog);
        let index = match groups.iter().position(|g| g.activity == activity) {
            Some(i) => i,
            None => {
                groups.push(ActivityUsage {
                    activity: activity.clone(),
                    policies: Vec::new(),
                    last_used_ms: None,
                    actions: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        group.policies.push(policy.to_string());
        let mut actions: BTreeMap<String, ActionUsage> = group
            .actions
            .drain(..)
            .map(|a| (a.action.to_ascii_lowercase(), a))
            .collect();
        for s in statements(document) {
            if s["Effect"] != "Allow" || s.get("Action").is_none() {
                continue;
            }
            for pattern in strings(&s["Action"]) {
                for action in expand(&pattern, reference) {
                    let key = action.to_ascii_lowercase();
                    let entry = actions.entry(key.clone()).or_insert_with(|| ActionUsage {
                        action: action.clone(),
                        calls: 0,
                        last_used_ms: None,
                        resources: Vec::new(),
                    });
                    for c in used.iter().filter(|c| {
                        c.action.eq_ignore_ascii_case(&action) && names_resource(&s, &c.resource)
                    }) {
                        if !entry.resources.contains(&c.resource) {
                            entry.resources.push(c.resource.clone());
                            entry.calls += 1;
                        } else {
                            entry.calls += 1;
                        }
                        entry.last_used_ms = entry.last_used_ms.max(Some(c.time_ms));
                    }
                }
            }
        }
        group.actions = actions.into_values().collect();
        for a in &mut group.actions {
            a.resources.sort();
        }
        group.last_used_ms = group.actions.iter().filter_map(|a| a.last_used_ms).max();
    }
    UsageReport {
        role: role.arn.clone(),
        since_ms,
        activities: groups,
    }
}

/// The start of a window in Unix milliseconds: `now_ms` minus a duration (`90d`, `12h`, `30m`,
/// `45s`), or a time ([`parse_time`]); `None` when `since` is neither.
pub fn window_start(since: &str, now_ms: i64) -> Option<i64> {
    let unit = |c: char| match c {
        's' => Some(1_000),
        'm' => Some(60_000),
        'h' => Some(3_600_000),
        'd' => Some(86_400_000),
        _ => None,
    };
    if let Some(last) = since.chars().last()
        && let Some(ms) = unit(last)
        && let Ok(n) = since[..since.len() - 1].parse::<i64>()
    {
        return Some(now_ms - n * ms);
    }
    parse_time(since)
}

/// Unix milliseconds of an ISO 8601 UTC time (`2026-11-23T10:00:00Z`, fractions of a second
/// allowed, or a bare date).
pub fn parse_time(text: &str) -> Option<i64> {
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, t.trim_end_matches('Z')),
        None => (text, "00:00:00"),
    };
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (whole, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = whole.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next().flatten().unwrap_or(0));
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    let millis = fraction
        .get(..fraction.len().min(3))
        .filter(|f| !f.is_empty())
        .and_then(|f| format!("{f:0<3}").parse::<i64>().ok())
        .unwrap_or(0);
    Some(((days_from_civil(y, m, day) * 24 + h) * 60 + min) * 60_000 + s * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's well-known formula).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_cloudtrail_writes_them() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-11-23T10:00:00Z"), Some(1_795_428_000_000));
        assert_eq!(
            parse_time("2026-11-23T10:00:00.25Z"),
            Some(1_795_428_000_250)
        );
        assert_eq!(parse_time("2026-11-23"), Some(1_795_392_000_000));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn sessions_of_a_role_are_the_role() {
        let role = "arn:aws:iam::123456789012:role/ds";
        assert!(is_role_or_session(
            "arn:aws:sts::123456789012:assumed-role/ds/alice",
            role
        ));
        assert!(is_role_or_session(role, role));
        assert!(!is_role_or_session(
            "arn:aws:sts::123456789012:assumed-role/ds2/alice",
            role
        ));
    }
}
