//! The audit log page: the control plane's records (`Store::query_audit`), newest first,
//! filtered by principal, action, decision and time, each request with every authorization
//! decision it made and each denial with AWS's reason. Reading it is authorized as
//! `cloudtrail:LookupEvents` on `*`, the action AWS asks for CloudTrail's event history.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode};
use maud::html;
use rolewright_server::audit::{AuditQuery, AuditRecord};
use rolewright_server::wire::xml::{iso_time, parse_iso_time};

use crate::Console;
use crate::call::Principal;
use crate::page::{self, Problem, error_summary, problem, text_field};
use crate::session::SignedIn;

/// The action that reading the log is authorized as.
pub const ACTION: &str = "cloudtrail:LookupEvents";
/// How many records are shown unless asked for more.
const DEFAULT_LIMIT: usize = 100;
/// The most records one page shows.
const MAX_LIMIT: usize = 1000;

/// Unix milliseconds of a time typed as `YYYY-MM-DDTHH:MM[:SS][Z]` (a `datetime-local` field's
/// value, read as UTC).
fn time_ms(text: &str) -> Option<i64> {
    let mut t = text.trim().trim_end_matches('Z').replace(' ', "T");
    if t.len() == 16 {
        t.push_str(":00");
    }
    parse_iso_time(&format!("{t}Z")).map(|s| s * 1000)
}

fn decision_tag(decision: &str) -> maud::Markup {
    let class = match decision {
        "denied" => "status failed",
        "error" => "status progress",
        _ => "status ok",
    };
    html! { span class=(class) { (decision) } }
}

/// `GET /console/audit?principal=&action=&decision=&since=&until=&limit=`.
pub async fn list(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    if let Err(e) = principal.authorize(ACTION, "*") {
        return page::api_error(&signed, &e);
    }
    let form = page::query(&parts);
    let value = |k: &str| form.get(k).map(str::trim).unwrap_or("").to_string();
    let mut problems: Vec<Problem> = Vec::new();
    let mut time = |field: &str| -> Option<i64> {
        let text = value(field);
        if text.is_empty() {
            return None;
        }
        let parsed = time_ms(&text);
        if parsed.is_none() {
            problems.push(problem(
                field,
                format!("`{text}` is not a time: write it as 2026-05-01T09:30 (UTC)"),
            ));
        }
        parsed
    };
    let since_ms = time("since");
    let until_ms = time("until");
    let decision = value("decision");
    if !matches!(decision.as_str(), "" | "allowed" | "denied" | "error") {
        problems.push(problem("decision", "Choose allowed, denied or error"));
    }
    let limit = value("limit")
        .parse::<usize>()
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let records: Vec<AuditRecord> = if problems.is_empty() {
        let query = AuditQuery {
            principal: Some(value("principal")).filter(|p| !p.is_empty()),
            action: Some(value("action")).filter(|a| !a.is_empty()),
            decision: Some(decision.clone()).filter(|d| !d.is_empty()),
            since_ms,
            until_ms,
            limit,
        };
        // What the console just wrote is read back too.
        console.app.store.flush().await.ok();
        match console.app.store.query_audit(&query).await {
            Ok(mut r) => {
                r.reverse();
                r
            }
            Err(e) => {
                return page::error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The audit log cannot be read",
                    &e.to_string(),
                );
            }
        }
    } else {
        Vec::new()
    };
    let filtered = ["principal", "action", "decision", "since", "until"]
        .iter()
        .any(|k| !value(k).is_empty());
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = html! {
        h1 { "Audit log" }
        p { "Every request to this control plane, the console's included, newest first: who, what, on which resource, and each authorization decision with the statement that allowed it or AWS's reason for the denial. Reading it needs " code { (ACTION) } " on " code { "*" } "." }
        (error_summary(&problems))
        form method="get" action="/console/audit" novalidate {
            fieldset {
                legend { "Filter" }
                (text_field("principal", "Principal ARN", Some("Exactly, such as arn:aws:iam::123456789012:user/dana."), &value("principal"), &problems, "text"))
                (text_field("action", "Action", Some("Any the request authorized, such as iam:PassRole."), &value("action"), &problems, "text"))
                div.field {
                    label for="decision" { "Decision" }
                    select id="decision" name="decision" {
                        @for (v, label) in [("", "Any"), ("allowed", "Allowed"), ("denied", "Denied"), ("error", "Error (refused before authorization)")] {
                            option value=(v) selected[decision == v] { (label) }
                        }
                    }
                }
                (text_field("since", "From (UTC, optional)", Some("Such as 2026-05-01T09:30."), &value("since"), &problems, "datetime-local"))
                (text_field("until", "Until (UTC, optional)", None, &value("until"), &problems, "datetime-local"))
                div.field {
                    label for="limit" { "Show at most" }
                    select id="limit" name="limit" {
                        @for n in [50usize, 100, 500, 1000] { option value=(n) selected[n == limit] { (n) " records" } }
                    }
                }
            }
            div.buttons {
                button type="submit" { "Filter" }
                @if filtered { a href="/console/audit" { "Clear filters" } }
            }
        }
        @if problems.is_empty() {
            (page::table(
                Some(&format!("Records ({}{}), newest first", records.len(), if records.len() == limit { ", more exist" } else { "" })),
                &["Time", "Principal", "Action and resource", "Decision", "Decisions and reasons"],
                &records,
                html! { @if filtered { "No record matches these filters." } @else { "The audit log is empty." } },
                |r| html! {
                    td { (iso_time(r.time_ms / 1000)) br; code { (r.request_id) } }
                    td { code { (r.principal.clone().unwrap_or_else(|| "(not authenticated)".into())) } br; (r.source_ip.clone().unwrap_or_default()) }
                    td { code { (r.action.clone().unwrap_or_default()) } br; code { (r.resource.clone().unwrap_or_default()) } }
                    td {
                        (decision_tag(&r.decision))
                        @if r.status != 0 { " (HTTP " (r.status) ")" }
                        @if let Some(code) = &r.error_code { br; strong { (code) } }
                    }
                    td {
                        @if r.decisions.is_empty() {
                            (r.reason.clone().unwrap_or_default())
                        } @else {
                            ol.decisions {
                                @for d in &r.decisions {
                                    li {
                                        (decision_tag(&d.decision)) " " code { (d.action) } " on " code { (d.resource) } ": "
                                        span.aws-message { (d.reason) }
                                    }
                                }
                            }
                            @if r.decision == "error" { @if let Some(reason) = &r.reason { p { (reason) } } }
                        }
                    }
                },
            ))
        }
    };
    page::html(status, page::layout("Audit log", Some(&signed), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_a_datetime_field_writes_them() {
        assert_eq!(time_ms("1970-01-01T00:01"), Some(60_000));
        assert_eq!(time_ms("1970-01-01T00:01:02Z"), Some(62_000));
        assert_eq!(time_ms("yesterday"), None);
    }
}
