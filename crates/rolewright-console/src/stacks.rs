//! CloudFormation stacks: the list with each stack's status (`DescribeStacks`), a stack's page
//! with its outputs, resources (`ListStackResources`) and events (`DescribeStackEvents`), and
//! deletion (`DeleteStack`, a form with the session's CSRF token).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::{Markup, html};

use crate::Console;
use crate::call::Principal;
use crate::page::{self, encode_query};
use crate::session::{SignedForm, SignedIn};
use crate::xml;

/// A status as a tag whose class tells success, progress and failure apart.
pub fn status_tag(status: &str) -> Markup {
    let class = if status.contains("FAILED") || status.contains("ROLLBACK") {
        "status failed"
    } else if status.contains("IN_PROGRESS") || status.contains("PENDING") {
        "status progress"
    } else {
        "status ok"
    };
    html! { span class=(class) { (status) } }
}

fn link(name: &str) -> String {
    format!("/console/stacks/{}", encode_query(name))
}

/// `GET /console/stacks`.
pub async fn list(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let mut stacks = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut pairs = Vec::new();
        if let Some(t) = &token {
            pairs.push(("NextToken", t.as_str()));
        }
        let answer = match principal.cloudformation("DescribeStacks", &pairs).await {
            Ok(a) => a,
            Err(e) => return page::api_error(&signed, &e),
        };
        for member in xml::members(&answer, "Stacks") {
            stacks.push([
                xml::text(member, "StackName").unwrap_or_default(),
                xml::text(member, "StackStatus").unwrap_or_default(),
                xml::text(member, "CreationTime").unwrap_or_default(),
                xml::text(member, "Description").unwrap_or_default(),
            ]);
        }
        token = xml::text(&answer, "NextToken");
        if token.is_none() {
            break;
        }
    }
    let query = page::query(&parts);
    let body = html! {
        h1 { "Stacks" }
        @if let Some(name) = query.get("deleted") {
            div.notice role="status" { p { "Deletion of stack " (name) " started." } }
        }
        @if stacks.is_empty() {
            p { "There are no stacks in this region. Create one with " code { "aws cloudformation create-stack" } " or from a role's CloudFormation download." }
        } @else {
            table {
                caption { "Stacks (" (stacks.len()) ")" }
                thead { tr { th scope="col" { "Stack name" } th scope="col" { "Status" } th scope="col" { "Created" } th scope="col" { "Description" } } }
                tbody {
                    @for [name, status, created, description] in &stacks {
                        tr {
                            td { a href=(link(name)) { (name) } }
                            td { (status_tag(status)) }
                            td { (created) }
                            td { (description) }
                        }
                    }
                }
            }
        }
    };
    page::html(StatusCode::OK, page::layout("Stacks", Some(&signed), body))
}

/// `GET /console/stacks/{name}`.
pub async fn detail(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let described = match principal
        .cloudformation("DescribeStacks", &[("StackName", &name)])
        .await
    {
        Ok(a) => a,
        Err(e) => return page::api_error(&signed, &e),
    };
    let stack = xml::members(&described, "Stacks")
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let resources = match principal
        .cloudformation("ListStackResources", &[("StackName", &name)])
        .await
    {
        Ok(a) => a,
        Err(e) => return page::api_error(&signed, &e),
    };
    let events = match principal
        .cloudformation("DescribeStackEvents", &[("StackName", &name)])
        .await
    {
        Ok(a) => a,
        Err(e) => return page::api_error(&signed, &e),
    };
    let field = |tag: &str| xml::text(&stack, tag).unwrap_or_default();
    let status = field("StackStatus");
    let outputs = xml::members(&stack, "Outputs");
    let resources = xml::members(&resources, "StackResourceSummaries");
    let events = xml::members(&events, "StackEvents");
    let text = |m: &str, tag: &str| xml::text(m, tag).unwrap_or_default();
    let deletable = status != "DELETE_COMPLETE" && status != "DELETE_IN_PROGRESS";
    let body = html! {
        p { a href="/console/stacks" { "Stacks" } " › " (name) }
        h1 { (name) }
        dl.summary {
            dt { "Status" } dd { (status_tag(&status)) }
            @if !field("StackStatusReason").is_empty() {
                dt { "Status reason" } dd { (field("StackStatusReason")) }
            }
            dt { "Stack ID" } dd { code { (field("StackId")) } }
            dt { "Description" } dd { @if field("Description").is_empty() { "None" } @else { (field("Description")) } }
            dt { "Created" } dd { (field("CreationTime")) }
            @if !field("RoleARN").is_empty() {
                dt { "IAM role" } dd { code { (field("RoleARN")) } }
            }
        }
        h2 { "Outputs" }
        @if outputs.is_empty() { p { "This stack has no outputs." } } @else {
            table {
                thead { tr { th scope="col" { "Key" } th scope="col" { "Value" } th scope="col" { "Description" } th scope="col" { "Export name" } } }
                tbody {
                    @for o in &outputs {
                        tr { td { (text(o, "OutputKey")) } td { code { (text(o, "OutputValue")) } } td { (text(o, "Description")) } td { (text(o, "ExportName")) } }
                    }
                }
            }
        }
        h2 { "Resources" }
        @if resources.is_empty() { p { "This stack has no resources." } } @else {
            table {
                thead { tr { th scope="col" { "Logical ID" } th scope="col" { "Physical ID" } th scope="col" { "Type" } th scope="col" { "Status" } } }
                tbody {
                    @for r in &resources {
                        tr {
                            td { (text(r, "LogicalResourceId")) }
                            td { code { (text(r, "PhysicalResourceId")) } }
                            td { (text(r, "ResourceType")) }
                            td { (status_tag(&text(r, "ResourceStatus"))) }
                        }
                    }
                }
            }
        }
        h2 { "Events" }
        @if events.is_empty() { p { "No events." } } @else {
            table {
                caption { "Newest first" }
                thead { tr { th scope="col" { "Time" } th scope="col" { "Logical ID" } th scope="col" { "Status" } th scope="col" { "Reason" } } }
                tbody {
                    @for e in &events {
                        tr {
                            td { (text(e, "Timestamp")) }
                            td { (text(e, "LogicalResourceId")) }
                            td { (status_tag(&text(e, "ResourceStatus"))) }
                            td { (text(e, "ResourceStatusReason")) }
                        }
                    }
                }
            }
        }
        @if deletable {
            h2 { "Delete" }
            p { "Deleting the stack deletes the resources it created (except those it retains)." }
            form method="post" action={ (link(&name)) "/delete" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                div.buttons { button.warning type="submit" { "Delete stack" } }
            }
        }
    };
    page::html(StatusCode::OK, page::layout(&name, Some(&signed), body))
}

/// `POST /console/stacks/{name}/delete`: `DeleteStack`.
pub async fn delete(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedForm {
        parts,
        signed,
        form: _,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    match principal
        .cloudformation("DeleteStack", &[("StackName", &name)])
        .await
    {
        Ok(_) => page::redirect(&format!("/console/stacks?deleted={}", encode_query(&name))),
        Err(e) => page::api_error(&signed, &e),
    }
}
