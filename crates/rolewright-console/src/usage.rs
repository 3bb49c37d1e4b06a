//! A role's usage: per ML activity and per action it grants, whether and when the role and its
//! sessions used it in a window, from the audit log's decisions, and the trim proposal (the
//! smallest role that still allows everything used) as the semantic diff of its policies and
//! the IAM calls `rolewright role trim --apply` makes. Computed by `rolewright-review`, as
//! `rolewright role usage` and `role trim` compute it. Reading it needs the role
//! (`iam:GetAccountAuthorizationDetails`) and the audit log (`cloudtrail:LookupEvents`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{Response, StatusCode};
use maud::html;
use rolewright_review::role_state::RoleState;
use rolewright_review::usage::{Call, usage, window_start};
use rolewright_server::audit::{AuditQuery, AuditRecord};
use rolewright_server::wire::xml::iso_time;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, encode_query};

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

/// `GET /console/roles/{name}/usage?since=90d`.
pub async fn show(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    request: Request,
) -> Response<Body> {
    let (parts, _) = request.into_parts();
    let signed = match console.signed_in(&parts) {
        Ok(s) => s,
        Err(page) => return page,
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    if let Err(e) = principal.authorize(crate::audit_log::ACTION, "*") {
        return page::api_error(&signed, &e);
    }
    let form = page::query(&parts);
    let since_text = form.get("since").map_or("90d", str::trim).to_string();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let Some(since_ms) = window_start(&since_text, now_ms) else {
        return page::error_page(
            StatusCode::BAD_REQUEST,
            "The window does not read",
            &format!(
                "`{since_text}` is neither a duration (90d, 12h, 30m, 45s) nor a time \
                 (2026-11-23T10:00:00Z)."
            ),
        );
    };
    let details = match crate::who_can::details(&principal).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            return page::error_page(StatusCode::BAD_GATEWAY, "The account could not be read", &e);
        }
        Err(e) => return page::api_error(&signed, &e),
    };
    let role = match RoleState::from_account_details(&details, &name) {
        Ok(r) => r,
        Err(e) => return page::error_page(StatusCode::NOT_FOUND, "No such role", &e.to_string()),
    };
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
            return page::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The audit log cannot be read",
                &e.to_string(),
            );
        }
    };
    let covered = !before.is_empty();
    let oldest = records.first().map(|r| r.time_ms);
    let calls = calls(&records);
    let catalog = &console.catalog;
    let reference = rolewright_reference::Reference::embedded();
    let report = usage(&role, &calls, since_ms, catalog, reference);
    let proposal = rolewright_review::trim::trim(&role, &calls, since_ms, &[], catalog, reference);
    let (added, removed) =
        rolewright_catalog::diff::diff(&role.documents(), &proposal.trimmed.documents(), reference);
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
            p { "Apply it, with its undo recorded on the role (" code { "rolewright role rollback " (name) } " restores it), from the command line:" }
            pre { code { (command) } }
        }
    };
    page::html(
        StatusCode::OK,
        page::layout(&format!("Usage of {name}"), Some(&signed), body),
    )
}
