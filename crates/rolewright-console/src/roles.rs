//! Roles: the list (search and pages over `ListRoles`), a role's detail (`GetRole`, its inline
//! and attached policies, tags, permissions boundary and last use), and deletion (`DeleteRole`,
//! with IAM's `DeleteConflict` explained and the policies removed first when asked).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::{Markup, html};
use rolewright_server::error::ApiError;
use serde_json::Value;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, encode_query};
use crate::session::{Signed, SignedForm, SignedIn};
use crate::xml;

/// Roles per page of the list.
const PAGE_SIZE: usize = 20;

/// One row of the list.
struct RoleRow {
    name: String,
    description: String,
    created: String,
    trusted: String,
}

/// Who a trust policy lets assume the role: its principals' services, accounts and providers.
pub fn trusted_entities(document: &str) -> String {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return String::new();
    };
    let statements = match &doc["Statement"] {
        Value::Array(list) => list.clone(),
        single => vec![single.clone()],
    };
    let mut out: Vec<String> = Vec::new();
    for s in statements {
        if s["Effect"] != "Allow" {
            continue;
        }
        match &s["Principal"] {
            Value::String(p) => out.push(p.clone()),
            Value::Object(map) => {
                for values in map.values() {
                    match values {
                        Value::String(v) => out.push(v.clone()),
                        Value::Array(list) => {
                            out.extend(list.iter().filter_map(|v| v.as_str().map(String::from)))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out.dedup();
    out.join(", ")
}

/// Every role the principal may list, through `ListRoles` pages.
pub async fn all_roles(
    principal: &Principal<'_>,
) -> Result<Vec<(String, String, String)>, ApiError> {
    let mut roles = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = vec![("MaxItems", "1000")];
        if let Some(m) = &marker {
            pairs.push(("Marker", m.as_str()));
        }
        let answer = principal.iam("ListRoles", &pairs).await?;
        for member in xml::members(&answer, "Roles") {
            roles.push((
                xml::text(member, "RoleName").unwrap_or_default(),
                xml::text(member, "Arn").unwrap_or_default(),
                member.to_string(),
            ));
        }
        match xml::text(&answer, "IsTruncated").as_deref() {
            Some("true") => marker = xml::text(&answer, "Marker"),
            _ => break,
        }
        if marker.is_none() {
            break;
        }
    }
    Ok(roles)
}

/// `GET /console/roles?q=&page=`.
pub async fn list(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let query = page::query(&parts);
    let search = query.get("q").unwrap_or("").trim().to_string();
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let roles = match all_roles(&principal).await {
        Ok(r) => r,
        Err(e) => return page::api_error(&signed, &e),
    };
    let needle = search.to_lowercase();
    let matching: Vec<&(String, String, String)> = roles
        .iter()
        .filter(|(name, arn, _)| {
            needle.is_empty()
                || name.to_lowercase().contains(&needle)
                || arn.to_lowercase().contains(&needle)
        })
        .collect();
    let pages = matching.len().div_ceil(PAGE_SIZE).max(1);
    let current = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    // Only the page shown is read further (its trust policies decoded and parsed).
    let shown: Vec<RoleRow> = matching
        .iter()
        .skip((current - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|(name, _, member)| RoleRow {
            name: name.clone(),
            description: xml::text(member, "Description").unwrap_or_default(),
            created: xml::text(member, "CreateDate").unwrap_or_default(),
            trusted: trusted_entities(
                &xml::document(member, "AssumeRolePolicyDocument").unwrap_or_default(),
            ),
        })
        .collect();
    let total = matching.len();
    let link = |n: usize| {
        if search.is_empty() {
            format!("/console/roles?page={n}")
        } else {
            format!("/console/roles?q={}&page={n}", encode_query(&search))
        }
    };
    let notice = query.get("deleted").map(|n| format!("Role {n} deleted."));
    let created = query.get("created");
    let body = html! {
        h1 { "Roles" }
        @if let Some(notice) = &notice {
            div.notice role="status" { p { (notice) } }
        }
        @if let Some(name) = created {
            div.notice role="status" {
                p { "Role " (name) " created. " a href={ "/console/roles/" (encode_query(name)) } { "Go to role" } }
            }
        }
        div.buttons { a.button href="/console/create-role" { "Create role" } }
        form method="get" action="/console/roles" role="search" {
            div.field {
                label for="q" { "Search roles" }
                span.hint id="q-hint" { "Part of a role's name or ARN." }
                input id="q" name="q" type="search" value=(search) aria-describedby="q-hint";
            }
            button.secondary type="submit" { "Search" }
        }
        @if total == 0 {
            p {
                @if search.is_empty() { "There are no roles in this account yet. " a href="/console/create-role" { "Create one" } "." }
                @else { "No role matches " strong { (search) } ". " a href="/console/roles" { "Show all roles" } }
            }
        } @else {
            table {
                caption {
                    "Roles (" (total) ")"
                    @if pages > 1 { ", page " (current) " of " (pages) }
                }
                thead { tr { th scope="col" { "Role name" } th scope="col" { "Trusted entities" } th scope="col" { "Description" } th scope="col" { "Created" } } }
                tbody {
                    @for row in &shown {
                        tr {
                            td { a href={ "/console/roles/" (encode_query(&row.name)) } { (row.name) } }
                            td { (row.trusted) }
                            td { (row.description) }
                            td { (row.created) }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages of roles" {
                    ul {
                        @if current > 1 { li { a href=(link(current - 1)) rel="prev" { "Previous" } } }
                        @for n in 1..=pages {
                            li {
                                @if n == current { span aria-current="page" { (n) } }
                                @else { a href=(link(n)) { (n) } }
                            }
                        }
                        @if current < pages { li { a href=(link(current + 1)) rel="next" { "Next" } } }
                    }
                }
            }
        }
    };
    page::html(StatusCode::OK, page::layout("Roles", Some(&signed), body))
}

/// A policy document, indented for reading.
pub fn pretty(document: &str) -> String {
    serde_json::from_str::<Value>(document)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| document.to_string())
}

/// What the role holds that `DeleteRole` refuses to delete with it.
pub struct Holdings {
    pub inline: Result<Vec<(String, String)>, ApiError>,
    pub attached: Result<Vec<(String, String)>, ApiError>,
}

pub async fn holdings(principal: &Principal<'_>, name: &str) -> Holdings {
    let inline = match principal
        .iam("ListRolePolicies", &[("RoleName", name)])
        .await
    {
        Ok(answer) => {
            let mut out = Vec::new();
            for policy in xml::members(&answer, "PolicyNames") {
                let policy = rolewright_client::xml::unescape(policy);
                let document = principal
                    .iam(
                        "GetRolePolicy",
                        &[("RoleName", name), ("PolicyName", policy.as_str())],
                    )
                    .await
                    .map(|a| xml::document(&a, "PolicyDocument").unwrap_or_default())
                    .unwrap_or_else(|e| format!("(not shown: {e})"));
                out.push((policy, document));
            }
            Ok(out)
        }
        Err(e) => Err(e),
    };
    let attached = principal
        .iam("ListAttachedRolePolicies", &[("RoleName", name)])
        .await
        .map(|answer| {
            xml::members(&answer, "AttachedPolicies")
                .into_iter()
                .map(|m| {
                    (
                        xml::text(m, "PolicyName").unwrap_or_default(),
                        xml::text(m, "PolicyArn").unwrap_or_default(),
                    )
                })
                .collect()
        });
    Holdings { inline, attached }
}

fn denied_note(error: &ApiError) -> Markup {
    html! { p.warnings { "Not shown: " strong { (error.code) } ": " (error.message) } }
}

/// `GET /console/roles/{name}`.
pub async fn detail(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let role = match principal.iam("GetRole", &[("RoleName", &name)]).await {
        Ok(answer) => answer,
        Err(e) => return page::api_error(&signed, &e),
    };
    let role = xml::element(&role, "Role").unwrap_or_default().to_string();
    let held = holdings(&principal, &name).await;
    let trust = xml::document(&role, "AssumeRolePolicyDocument").unwrap_or_default();
    let tags: Vec<(String, String)> = xml::members(&role, "Tags")
        .into_iter()
        .map(|m| {
            (
                xml::text(m, "Key").unwrap_or_default(),
                xml::text(m, "Value").unwrap_or_default(),
            )
        })
        .collect();
    let boundary = xml::text(&role, "PermissionsBoundaryArn");
    let last_used = xml::element(&role, "RoleLastUsed").and_then(|u| {
        xml::text(u, "LastUsedDate").map(|d| (d, xml::text(u, "Region").unwrap_or_default()))
    });
    let field = |tag: &str| xml::text(&role, tag).unwrap_or_default();
    let activities = tags
        .iter()
        .find(|(k, _)| k == crate::wizard::ACTIVITIES_TAG)
        .map(|(_, v)| v.clone());
    let edited = page::query(&parts).get("edited").is_some();
    let drift = crate::role_edit::drift_section(&console, &signed, &principal, &name).await;
    let body = html! {
        p { a href="/console/roles" { "Roles" } " › " (name) }
        @if edited { (page::notice("The role's activities were saved.")) }
        h1 { (name) }
        dl.summary {
            dt { "ARN" } dd { code { (field("Arn")) } }
            dt { "Description" } dd { @if field("Description").is_empty() { "None" } @else { (field("Description")) } }
            dt { "Path" } dd { code { (field("Path")) } }
            dt { "Role ID" } dd { code { (field("RoleId")) } }
            dt { "Created" } dd { (field("CreateDate")) }
            dt { "Maximum session duration" } dd { (field("MaxSessionDuration")) " seconds" }
            dt { "Last used" } dd {
                @match &last_used {
                    Some((when, region)) => { (when) " in " (region) }
                    None => { "Never: no session of this role has made a request" }
                }
            }
            dt { "Permissions boundary" } dd {
                @match &boundary { Some(arn) => { code { (arn) } } None => { "Not set" } }
            }
            @if let Some(list) = &activities {
                dt { "Built from ML activities" } dd { (list.replace(' ', ", ")) }
            }
        }
        h2 { "Trust policy" }
        p { "Trusted entities: " (trusted_entities(&trust)) }
        pre aria-label="Trust policy document" tabindex="0" { (pretty(&trust)) }
        h2 { "Permissions policies" }
        h3 { "Inline policies" }
        @match &held.inline {
            Err(e) => { (denied_note(e)) }
            Ok(list) if list.is_empty() => { p { "No inline policies." } }
            Ok(list) => {
                @for (policy, document) in list {
                    details {
                        summary { (policy) }
                        pre aria-label={ "Policy " (policy) } tabindex="0" { (pretty(document)) }
                    }
                }
            }
        }
        h3 { "Attached managed policies" }
        @match &held.attached {
            Err(e) => { (denied_note(e)) }
            Ok(list) if list.is_empty() => { p { "No managed policies attached." } }
            Ok(list) => {
                table {
                    thead { tr { th scope="col" { "Policy name" } th scope="col" { "ARN" } } }
                    tbody { @for (policy, arn) in list { tr { td { (policy) } td { code { (arn) } } } } }
                }
            }
        }
        h2 { "Tags" }
        @if tags.is_empty() { p { "No tags." } } @else {
            table {
                thead { tr { th scope="col" { "Key" } th scope="col" { "Value" } } }
                tbody { @for (k, v) in &tags { tr { td { (k) } td { (v) } } } }
            }
        }
        (drift)
        div.buttons {
            a.button href={ "/console/roles/" (encode_query(&name)) "/activities" } { "Edit activities" }
            a.button.secondary href={ "/console/roles/" (encode_query(&name)) "/usage" } { "Usage and trim" }
            a.button.secondary href={ "/console/roles/" (encode_query(&name)) "/delete" } { "Delete role" }
        }
    };
    page::html(StatusCode::OK, page::layout(&name, Some(&signed), body))
}

fn delete_page(
    signed: &Signed,
    name: &str,
    held: Option<&Holdings>,
    conflict: Option<&ApiError>,
) -> Markup {
    let inline: Vec<&str> = held
        .and_then(|h| h.inline.as_ref().ok())
        .map(|l| l.iter().map(|(n, _)| n.as_str()).collect())
        .unwrap_or_default();
    let attached: Vec<&str> = held
        .and_then(|h| h.attached.as_ref().ok())
        .map(|l| l.iter().map(|(_, a)| a.as_str()).collect())
        .unwrap_or_default();
    let action = format!("/console/roles/{}/delete", encode_query(name));
    html! {
        p { a href="/console/roles" { "Roles" } " › " a href={ "/console/roles/" (encode_query(name)) } { (name) } " › Delete" }
        h1 { "Delete role " (name) "?" }
        @if let Some(error) = conflict {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "IAM refused to delete the role" }
                p { strong { (error.code) } ": " span.aws-message { (error.message) } }
                p { (explain_conflict(&error.message)) }
            }
        }
        p { "Deleting a role cannot be undone. Sessions of the role end with it, and whatever passes or assumes it (a Studio user profile, a job) stops working." }
        @if !inline.is_empty() || !attached.is_empty() {
            p { "IAM deletes only a role that holds no policies. This one has:" }
            ul {
                @for p in &inline { li { "inline policy " code { (p) } } }
                @for a in &attached { li { "attached managed policy " code { (a) } } }
            }
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(signed.csrf);
            @if !inline.is_empty() || !attached.is_empty() {
                div.check {
                    input id="remove_policies" type="checkbox" name="remove_policies" value="1";
                    label for="remove_policies" { "Delete its inline policies and detach its managed policies first (" code { "DeleteRolePolicy" } ", " code { "DetachRolePolicy" } ")" }
                }
            }
            div.buttons {
                button.warning type="submit" { "Delete role" }
                a href={ "/console/roles/" (encode_query(name)) } { "Cancel" }
            }
        }
    }
}

/// What a `DeleteConflict` means and what to do about it.
fn explain_conflict(message: &str) -> &'static str {
    if message.contains("must delete policies first") {
        "The role still has inline policies. Delete them first (DeleteRolePolicy), or tick the box below to have the console delete them for you."
    } else if message.contains("must detach all policies first") {
        "The role still has managed policies attached. Detach them first (DetachRolePolicy), or tick the box below to have the console detach them for you."
    } else if message.contains("instance profile") {
        "The role is in an instance profile. Remove it from the instance profile first (RemoveRoleFromInstanceProfile)."
    } else {
        "Remove what still uses the role, then try again."
    }
}

/// `GET /console/roles/{name}/delete`: the confirmation.
pub async fn confirm_delete(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    if let Err(e) = principal.iam("GetRole", &[("RoleName", &name)]).await {
        return page::api_error(&signed, &e);
    }
    let held = holdings(&principal, &name).await;
    page::html(
        StatusCode::OK,
        page::layout(
            &format!("Delete {name}"),
            Some(&signed),
            delete_page(&signed, &name, Some(&held), None),
        ),
    )
}

/// `POST /console/roles/{name}/delete`: `DeleteRole`, after removing the role's policies when
/// asked.
pub async fn delete(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    if form.get("remove_policies") == Some("1") {
        let held = holdings(&principal, &name).await;
        let mut steps = Vec::new();
        for (policy, _) in held.inline.unwrap_or_default() {
            steps.push(("DeleteRolePolicy", "PolicyName", policy));
        }
        for (_, arn) in held.attached.unwrap_or_default() {
            steps.push(("DetachRolePolicy", "PolicyArn", arn));
        }
        for (op, key, value) in steps {
            if let Err(e) = principal
                .iam(op, &[("RoleName", &name), (key, &value)])
                .await
            {
                return page::api_error(&signed, &e);
            }
        }
    }
    match principal.iam("DeleteRole", &[("RoleName", &name)]).await {
        Ok(_) => page::redirect(&format!("/console/roles?deleted={}", encode_query(&name))),
        Err(e) if e.code == "DeleteConflict" => {
            let held = holdings(&principal, &name).await;
            page::html(
                StatusCode::CONFLICT,
                page::layout(
                    &format!("Delete {name}"),
                    Some(&signed),
                    delete_page(&signed, &name, Some(&held), Some(&e)),
                ),
            )
        }
        Err(e) => page::api_error(&signed, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_entities_name_every_principal() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["sagemaker.amazonaws.com","glue.amazonaws.com"]},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(
            trusted_entities(doc),
            "sagemaker.amazonaws.com, glue.amazonaws.com, arn:aws:iam::111122223333:root"
        );
    }
}
