//! A role's usage: per ML activity and per action it grants, whether and when the role and its
//! sessions used it in a window, from the audit log's decisions, and the trim proposal (the
//! smallest role that still allows everything used) as the semantic diff of its policies and
//! the IAM calls `rolewright role trim --apply` makes, with Apply and Roll back, which write
//! them as the signed-in principal (`rolewright_review::apply`: quotas first, a failure
//! part-way undone). Computed by `rolewright-review`, as `rolewright role usage` and `role
//! trim` compute it. Reading it needs the role (`iam:GetAccountAuthorizationDetails`) and the
//! audit log (`cloudtrail:LookupEvents`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::html;
use rolewright_review::apply::{ApplyError, IamCalls, IamFailure, TRIM_TAG, apply_trim, rollback};
use rolewright_review::role_state::RoleState;
use rolewright_review::trim::TrimProposal;
use rolewright_review::usage::{Call, usage, window_start};
use rolewright_server::audit::{AuditQuery, AuditRecord};
use rolewright_server::wire::xml::iso_time;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, encode_query};
use crate::session::{Signed, SignedForm, SignedIn};

/// The calls of the audit log's records: one per authorization decision (`rolewright role
/// usage` reads them the same way).
pub fn calls(records: &[AuditRecord]) -> Vec<Call> {
    records
        .iter()
        .filter_map(|r| r.principal.as_ref().map(|p| (r, p)))
        .flat_map(|(r, principal)| {
            r.decisions.iter().map(move |d| Call {
                time_ms: r.time_ms,
                principal: principal.clone(),
                action: d.action.clone(),
                resource: d.resource.clone(),
                allowed: d.decision == "allowed",
            })
        })
        .collect()
}

fn when(ms: Option<i64>) -> String {
    ms.map_or_else(|| "never".to_string(), |t| iso_time(t / 1000))
}

/// IAM as the signed-in principal, for the trim's writes (`rolewright_review::apply`).
impl IamCalls for Principal<'_> {
    async fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<String, IamFailure> {
        self.iam(action, params).await.map_err(|e| IamFailure {
            code: e.code.to_string(),
            message: e.message,
        })
    }

    fn text(answer: &str, tag: &str) -> Option<String> {
        crate::xml::text(answer, tag)
    }
}

/// A role's usage in a window and the trim it allows.
struct Analysis {
    role: RoleState,
    since_text: String,
    since_ms: i64,
    /// Whether the audit log reaches back to the window's start.
    covered: bool,
    /// The oldest record in the window.
    oldest: Option<i64>,
    calls: Vec<Call>,
    proposal: TrimProposal,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Reads the role (as the principal) and the audit log, and computes the trim; or the page
/// that says what failed.
async fn analyse(
    console: &Console,
    principal: &Principal<'_>,
    signed: &Signed,
    name: &str,
    since_text: &str,
) -> Result<Analysis, Response<Body>> {
    principal
        .authorize(crate::audit_log::ACTION, "*")
        .map_err(|e| page::api_error(signed, &e))?;
    let since_text = if since_text.is_empty() {
        "90d"
    } else {
        since_text
    }
    .to_string();
    let Some(since_ms) = window_start(&since_text, now_ms()) else {
        return Err(page::error_page(
            StatusCode::BAD_REQUEST,
            "The window does not read",
            &format!(
                "`{since_text}` is neither a duration (90d, 12h, 30m, 45s) nor a time \
                 (2026-11-23T10:00:00Z)."
            ),
        ));
    };
    let role = read_role(principal, signed, name).await?;
    console.app.store.flush().await.ok();
    let store = &console.app.store;
    let read = |q: AuditQuery| async move { store.query_audit(&q).await };
    let (records, before) = match (
        read(AuditQuery {
            since_ms: Some(since_ms),
            limit: usize::MAX,
            ..AuditQuery::default()
        })
        .await,
        read(AuditQuery {
            until_ms: Some(since_ms),
            limit: 1,
            ..AuditQuery::default()
        })
        .await,
    ) {
        (Ok(r), Ok(b)) => (r, b),
        (Err(e), _) | (_, Err(e)) => {
            return Err(page::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The audit log cannot be read",
                &e.to_string(),
            ));
        }
    };
    let calls = calls(&records);
    let proposal = rolewright_review::trim::trim(
        &role,
        &calls,
        since_ms,
        &[],
        &console.catalog,
        rolewright_reference::Reference::embedded(),
    );
    Ok(Analysis {
        role,
        since_text,
        since_ms,
        covered: !before.is_empty(),
        oldest: records.first().map(|r| r.time_ms),
        calls,
        proposal,
    })
}

/// The live role, read as the principal.
async fn read_role(
    principal: &Principal<'_>,
    signed: &Signed,
    name: &str,
) -> Result<RoleState, Response<Body>> {
    let details = match crate::who_can::details(principal).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            return Err(page::error_page(
                StatusCode::BAD_GATEWAY,
                "The account could not be read",
                &e,
            ));
        }
        Err(e) => return Err(page::api_error(signed, &e)),
    };
    RoleState::from_account_details(&details, name)
        .map_err(|e| page::error_page(StatusCode::NOT_FOUND, "No such role", &e.to_string()))
}

fn usage_path(name: &str, since: &str, outcome: &str) -> String {
    format!(
        "/console/roles/{}/usage?since={}&{outcome}=1",
        encode_query(name),
        encode_query(since)
    )
}

/// The page for a write that IAM's quotas refused or that failed part-way.
fn write_failed(what: &str, e: &ApplyError) -> Response<Body> {
    let status = match e {
        ApplyError::Quota(_) | ApplyError::NoTrim(_) => StatusCode::CONFLICT,
        ApplyError::Failed { failure, .. } if failure.code == "AccessDenied" => {
            StatusCode::FORBIDDEN
        }
        _ => StatusCode::BAD_GATEWAY,
    };
    page::error_page(status, what, &e.to_string())
}

/// `POST /console/roles/{name}/usage/trim` (`since`): writes the trim the usage page proposes,
/// as the signed-in principal, with its undo recorded on the role.
pub async fn apply(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let since = form.get("since").unwrap_or("").trim().to_string();
    let a = match analyse(&console, &principal, &signed, &name, &since).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    if !a.covered {
        return page::error_page(
            StatusCode::CONFLICT,
            "Not enough history to trim",
            &format!(
                "The audit log does not reach back to the window's start ({}), so the trim \
                 would remove permissions merely because their use is not recorded. Choose a \
                 shorter window.",
                iso_time(a.since_ms / 1000)
            ),
        );
    }
    if a.proposal.changes.is_empty() {
        return page::redirect(&usage_path(&name, &a.since_text, "untrimmed"));
    }
    let when = iso_time(now_ms() / 1000);
    match apply_trim(&principal, &a.role, &a.proposal.changes, &when).await {
        Ok(_) => page::redirect(&usage_path(&name, &a.since_text, "trimmed")),
        Err(e) => write_failed("The trim was not written", &e),
    }
}

/// `POST /console/roles/{name}/usage/rollback`: undoes the role's last trim.
pub async fn roll_back(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let role = match read_role(&principal, &signed, &name).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let since = form.get("since").unwrap_or("90d").trim().to_string();
    match rollback(&principal, &role).await {
        Ok(_) => page::redirect(&usage_path(&name, &since, "rolledback")),
        Err(e) => write_failed("The trim was not rolled back", &e),
    }
}

/// `GET /console/roles/{name}/usage?since=90d`.
pub async fn show(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let query = page::query(&parts);
    let since = query.get("since").unwrap_or("").trim().to_string();
    let a = match analyse(&console, &principal, &signed, &name, &since).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let Analysis {
        role,
        since_text,
        since_ms,
        covered,
        oldest,
        calls,
        proposal,
    } = a;
    let catalog = &console.catalog;
    let reference = rolewright_reference::Reference::embedded();
    let report = usage(&role, &calls, since_ms, catalog, reference);
    let (added, removed) =
        rolewright_catalog::diff::diff(&role.documents(), &proposal.trimmed.documents(), reference);
    let trimmed_at = role
        .tags
        .iter()
        .find(|(k, _)| k == TRIM_TAG)
        .map(|(_, v)| v.clone());
    let command = format!(
        "rolewright role trim {name} --since {since_text} --apply --endpoint-url http://{}",
        parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1:4566")
    );
    let body = html! {
        p { a href={ "/console/roles/" (encode_query(&name)) } { "← " (name) } }
        h1 { "Usage of " (name) }
        @if query.get("trimmed").is_some() {
            div.notice role="status" { p { "Trimmed " (name) ". Roll back below restores it as it was." } }
        }
        @if query.get("rolledback").is_some() {
            div.notice role="status" { p { "Rolled back the trim of " (name) ": it grants what it granted before." } }
        }
        @if query.get("untrimmed").is_some() {
            div.notice role="status" { p { "Nothing to trim: " (name) " uses everything it grants in this window." } }
        }
        form method="get" {
            label for="since" { "Window" }
            span.hint id="since-hint" { "A duration back from now (90d, 12h, 30m) or a time (2026-11-23T10:00:00Z)" }
            input id="since" name="since" type="text" value=(since_text) aria-describedby="since-hint" spellcheck="false";
            button type="submit" { "Show" }
        }
        p { "Since " (iso_time(since_ms / 1000)) ": what the role and its sessions were allowed to do, from every decision in the audit log (" (calls.iter().filter(|c| rolewright_review::usage::is_role_or_session(&c.principal, &role.arn)).count()) " decisions of this role)." }
        @for activity in &report.activities {
            h2 {
                (activity.activity.as_deref().unwrap_or("Other policies"))
                " — "
                @if activity.used() { span.status.ok { "used " (when(activity.last_used_ms)) } }
                @else { span.status.failed { "not used" } }
            }
            p { "Policies: " @for (i, p) in activity.policies.iter().enumerate() { @if i > 0 { ", " } code { (p) } } }
            (page::table(None, &["Action", "Calls", "Last used", "Resources"], &activity.actions,
                html! { "This activity grants no action." },
                |a| html! {
                    td { code { (a.action) } }
                    td { (a.calls) }
                    td { (when(a.last_used_ms)) }
                    td { @for r in &a.resources { code { (r) } " " } }
                }))
        }
        h2 { "Trim proposal" }
        @if !covered {
            div.notice role="status" { p {
                "The audit log does not reach back to the window's start"
                @if let Some(o) = oldest { " (its oldest record in the window is from " (iso_time(o / 1000)) ")" }
                ", so a trim would remove permissions merely because their use is not recorded. "
                code { "rolewright role trim" } " refuses it; choose a shorter window."
            } }
        }
        @if proposal.changes.is_empty() {
            p.empty { "Nothing to trim: the role uses everything it grants in this window." }
        } @else {
            @if !proposal.dropped_activities.is_empty() {
                p { "Activities not used at all, dropped first: " @for (i, a) in proposal.dropped_activities.iter().enumerate() { @if i > 0 { ", " } code { (a) } } }
            }
            (crate::role_edit::grants_table("Grants the trim removes", &removed, "None."))
            (crate::role_edit::grants_table("Grants it adds", &added, "None."))
            h3 { "The IAM calls it makes" }
            ol { @for c in &proposal.changes { li { code { (c.to_string()) } } } }
            @if covered {
                form method="post" action={ "/console/roles/" (encode_query(&name)) "/usage/trim" } {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    input type="hidden" name="since" value=(since_text);
                    p { "Applying writes these calls as you, with the undo recorded on the role: Roll back (or " code { "rolewright role rollback " (name) } ") restores it. IAM's quotas are checked first, and a write that fails part-way is undone." }
                    button type="submit" { "Apply the trim" }
                }
            }
            p { "Or from the command line:" }
            pre { code { (command) } }
        }
        @if let Some(at) = &trimmed_at {
            h2 { "Last trim" }
            form method="post" action={ "/console/roles/" (encode_query(&name)) "/usage/rollback" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                input type="hidden" name="since" value=(since_text);
                p { "Trimmed at " (at) "." }
                button.secondary type="submit" { "Roll back the trim" }
            }
        }
    };
    page::html(
        StatusCode::OK,
        page::layout(&format!("Usage of {name}"), Some(&signed), body),
    )
}
