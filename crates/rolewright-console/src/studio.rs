//! SageMaker Studio: the domains (`ListDomains`), a domain's page with its settings, user
//! profiles (with their execution roles and status) and apps, a user profile's page with its
//! apps, spaces and JumpStart and Projects status (the control plane's own
//! [`rolewright_server::sagemaker::jumpstart_status`]), and the profile's Edit, refused while it
//! has apps that are not `Deleted`, as Studio refuses it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{Response, StatusCode};
use maud::{Markup, html};
use rolewright_server::error::ApiError;
use serde_json::{Value, json};

use crate::Console;
use crate::call::Principal;
use crate::page::{self, encode_query};
use crate::stacks::status_tag;

/// User profiles per page of a domain.
const PAGE_SIZE: usize = 50;

/// Every item of a paged JSON list (`NextToken`), under `key`.
pub async fn all_pages(
    principal: &Principal<'_>,
    service: &str,
    op: &str,
    input: Value,
    key: &str,
) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = input.clone();
        if let Some(t) = &token {
            let name = if service == "sagemaker" {
                "NextToken"
            } else {
                "PageToken"
            };
            request[name] = json!(t);
        }
        let answer = if service == "sagemaker" {
            principal.sagemaker(op, request).await?
        } else {
            principal.servicecatalog(op, request).await?
        };
        if let Some(list) = answer[key].as_array() {
            out.extend(list.iter().cloned());
        }
        token = answer["NextToken"]
            .as_str()
            .or_else(|| answer["NextPageToken"].as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// A JSON member's text (strings as they are, numbers and the rest as JSON).
pub fn s(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A JSON timestamp (seconds since the epoch) in ISO 8601.
pub fn when(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::Number(n) => n
            .as_f64()
            .map(|secs| rolewright_server::wire::xml::iso_time(secs as i64))
            .unwrap_or_default(),
        Value::String(text) => text.clone(),
        _ => String::new(),
    }
}

fn domain_link(domain: &str) -> String {
    format!("/console/studio/{}", encode_query(domain))
}

fn profile_link(domain: &str, name: &str) -> String {
    format!(
        "/console/studio/{}/users/{}",
        encode_query(domain),
        encode_query(name)
    )
}

fn apps_table(apps: &[Value], with_owner: bool) -> Markup {
    html! {
        @if apps.is_empty() { p { "No apps." } } @else {
            table {
                thead { tr {
                    th scope="col" { "App type" } th scope="col" { "Name" }
                    @if with_owner { th scope="col" { "User profile or space" } }
                    th scope="col" { "Status" } th scope="col" { "Created" }
                } }
                tbody {
                    @for app in apps {
                        tr {
                            td { (s(app, "AppType")) }
                            td { (s(app, "AppName")) }
                            @if with_owner {
                                td {
                                    @if !s(app, "UserProfileName").is_empty() {
                                        a href=(profile_link(&s(app, "DomainId"), &s(app, "UserProfileName"))) { (s(app, "UserProfileName")) }
                                    } @else { "space " (s(app, "SpaceName")) }
                                }
                            }
                            td { (status_tag(&s(app, "Status"))) }
                            td { (when(app, "CreationTime")) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/studio`.
pub async fn domains(State(console): State<Arc<Console>>, request: Request) -> Response<Body> {
    let (parts, _) = request.into_parts();
    let signed = match console.signed_in(&parts) {
        Ok(s) => s,
        Err(page) => return page,
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let domains =
        match all_pages(&principal, "sagemaker", "ListDomains", json!({}), "Domains").await {
            Ok(d) => d,
            Err(e) => return page::api_error(&signed, &e),
        };
    let body = html! {
        h1 { "Studio domains" }
        @if domains.is_empty() {
            p { "There are no SageMaker domains in this region. Create one with " code { "aws sagemaker create-domain" } "." }
        } @else {
            table {
                caption { "Domains (" (domains.len()) ")" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Domain ID" } th scope="col" { "Status" } th scope="col" { "Created" } } }
                tbody {
                    @for d in &domains {
                        tr {
                            td { a href=(domain_link(&s(d, "DomainId"))) { (s(d, "DomainName")) } }
                            td { code { (s(d, "DomainId")) } }
                            td { (status_tag(&s(d, "Status"))) }
                            td { (when(d, "CreationTime")) }
                        }
                    }
                }
            }
        }
    };
    page::html(
        StatusCode::OK,
        page::layout("Studio domains", Some(&signed), body),
    )
}

/// `GET /console/studio/{domain}?page=`.
pub async fn domain(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    request: Request,
) -> Response<Body> {
    let (parts, _) = request.into_parts();
    let signed = match console.signed_in(&parts) {
        Ok(s) => s,
        Err(page) => return page,
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let domain = match principal
        .sagemaker("DescribeDomain", json!({"DomainId": id}))
        .await
    {
        Ok(d) => d,
        Err(e) => return page::api_error(&signed, &e),
    };
    let profiles = match all_pages(
        &principal,
        "sagemaker",
        "ListUserProfiles",
        json!({"DomainIdEquals": id, "MaxResults": 100}),
        "UserProfiles",
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return page::api_error(&signed, &e),
    };
    let apps = match all_pages(
        &principal,
        "sagemaker",
        "ListApps",
        json!({"DomainIdEquals": id, "MaxResults": 100}),
        "Apps",
    )
    .await
    {
        Ok(a) => a,
        Err(e) => return page::api_error(&signed, &e),
    };
    let pages = profiles.len().div_ceil(PAGE_SIZE).max(1);
    let current = page::query(&parts)
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    // Only the profiles shown are described (for their execution roles).
    let mut shown = Vec::new();
    for p in profiles
        .iter()
        .skip((current - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
    {
        let name = s(p, "UserProfileName");
        let role = match principal
            .sagemaker(
                "DescribeUserProfile",
                json!({"DomainId": id, "UserProfileName": name}),
            )
            .await
        {
            Ok(d) => d["UserSettings"]["ExecutionRole"]
                .as_str()
                .map_or_else(|| "the domain's".to_string(), str::to_string),
            Err(e) => format!("(not shown: {})", e.code),
        };
        shown.push((name, role, s(p, "Status")));
    }
    let defaults = &domain["DefaultUserSettings"];
    let name = s(&domain, "DomainName");
    let body = html! {
        p { a href="/console/studio" { "Studio domains" } " › " (name) }
        h1 { (name) }
        h2 { "Settings" }
        dl.summary {
            dt { "Domain ID" } dd { code { (s(&domain, "DomainId")) } }
            dt { "Status" } dd { (status_tag(&s(&domain, "Status"))) }
            dt { "Authentication" } dd { (s(&domain, "AuthMode")) }
            dt { "Default execution role" } dd { code { (s(defaults, "ExecutionRole")) } }
            dt { "Network access" } dd { (s(&domain, "AppNetworkAccessType")) }
            @if !s(&domain, "VpcId").is_empty() {
                dt { "VPC" } dd { code { (s(&domain, "VpcId")) } }
            }
            @if !s(&domain, "KmsKeyId").is_empty() {
                dt { "KMS key" } dd { code { (s(&domain, "KmsKeyId")) } }
            }
            dt { "Studio URL" } dd { code { (s(&domain, "Url")) } }
        }
        details {
            summary { "Default user settings (JSON)" }
            pre tabindex="0" aria-label="Default user settings" { (serde_json::to_string_pretty(defaults).unwrap_or_default()) }
        }
        h2 { "User profiles" }
        @if shown.is_empty() { p { "This domain has no user profiles yet. Add one with " code { "aws sagemaker create-user-profile" } "." } } @else {
            table {
                caption {
                    "User profiles (" (profiles.len()) ")"
                    @if pages > 1 { ", page " (current) " of " (pages) }
                }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Execution role" } th scope="col" { "Status" } } }
                tbody {
                    @for (user, role, status) in &shown {
                        tr {
                            td { a href=(profile_link(&id, user)) { (user) } }
                            td { code { (role) } }
                            td { (status_tag(status)) }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages of user profiles" {
                    ul {
                        @for n in 1..=pages {
                            li {
                                @if n == current { span aria-current="page" { (n) } }
                                @else { a href={ (domain_link(&id)) "?page=" (n) } { (n) } }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Apps" }
        (apps_table(&apps, true))
    };
    page::html(StatusCode::OK, page::layout(&name, Some(&signed), body))
}

/// What a user profile's page and its Edit read: the profile, its apps and its spaces.
struct Profile {
    described: Value,
    apps: Vec<Value>,
    spaces: Vec<Value>,
}

impl Profile {
    /// Why the profile may not be edited now, if it may not.
    fn edit_refusal(&self) -> Option<String> {
        let running: Vec<String> = self
            .apps
            .iter()
            .filter(|a| s(a, "Status") != "Deleted")
            .map(|a| {
                format!(
                    "{} {} ({})",
                    s(a, "AppType"),
                    s(a, "AppName"),
                    s(a, "Status")
                )
            })
            .collect();
        (!running.is_empty()).then(|| {
            format!(
                "The user profile has apps that are not Deleted: {}. Delete its apps first, then edit it.",
                running.join(", ")
            )
        })
    }
}

async fn read_profile(
    principal: &Principal<'_>,
    domain: &str,
    name: &str,
) -> Result<Profile, ApiError> {
    let described = principal
        .sagemaker(
            "DescribeUserProfile",
            json!({"DomainId": domain, "UserProfileName": name}),
        )
        .await?;
    let apps = all_pages(
        principal,
        "sagemaker",
        "ListApps",
        json!({"DomainIdEquals": domain, "UserProfileNameEquals": name, "MaxResults": 100}),
        "Apps",
    )
    .await?;
    let listed = all_pages(
        principal,
        "sagemaker",
        "ListSpaces",
        json!({"DomainIdEquals": domain, "MaxResults": 100}),
        "Spaces",
    )
    .await?;
    // A space's owner is in its description only.
    let mut spaces = Vec::new();
    for sp in listed {
        let space = principal
            .sagemaker(
                "DescribeSpace",
                json!({"DomainId": domain, "SpaceName": s(&sp, "SpaceName")}),
            )
            .await?;
        if space["OwnershipSettings"]["OwnerUserProfileName"].as_str() == Some(name)
            || space["SpaceSharingSettings"]["SharingType"].as_str() == Some("Shared")
        {
            spaces.push(space);
        }
    }
    Ok(Profile {
        described,
        apps,
        spaces,
    })
}

/// `GET /console/studio/{domain}/users/{name}`.
pub async fn profile(
    State(console): State<Arc<Console>>,
    Path((domain, name)): Path<(String, String)>,
    request: Request,
) -> Response<Body> {
    let (parts, _) = request.into_parts();
    let signed = match console.signed_in(&parts) {
        Ok(s) => s,
        Err(page) => return page,
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let profile = match read_profile(&principal, &domain, &name).await {
        Ok(p) => p,
        Err(e) => return page::api_error(&signed, &e),
    };
    // The profile was just described as the principal; the status is the control plane's own
    // reading of it (the Studio page's and `rolewright jumpstart status`'s conditions).
    let status = {
        let state = principal.state();
        match (
            state.domains.get(&domain),
            state.user_profiles.get(&format!("{domain}/{name}")),
        ) {
            (Some(d), Some(p)) => {
                Some(rolewright_server::sagemaker::jumpstart_status(&state, d, p))
            }
            _ => None,
        }
    };
    let refusal = profile.edit_refusal();
    let updated = page::query(&parts).get("updated").is_some();
    let body = html! {
        p { a href="/console/studio" { "Studio domains" } " › " a href=(domain_link(&domain)) { (domain) } " › " (name) }
        h1 { (name) }
        @if updated { div.notice role="status" { p { "User profile updated." } } }
        dl.summary {
            dt { "Domain" } dd { code { (domain) } }
            dt { "Status" } dd { (status_tag(&s(&profile.described, "Status"))) }
            dt { "Execution role" } dd {
                @match status.as_ref().and_then(|st| st.execution_role.clone()) {
                    Some(role) => { code { (role) } }
                    None => { "None" }
                }
            }
            dt { "Created" } dd { (when(&profile.described, "CreationTime")) }
        }
        h2 { "JumpStart and Projects" }
        @match &status {
            Some(st) if st.reasons.is_empty() => {
                p id="jumpstart" { "JumpStart and project templates: " strong { "enabled" } "." }
            }
            Some(st) => {
                p id="jumpstart" { "JumpStart and project templates: " strong { "disabled" } ", because:" }
                ul { @for reason in &st.reasons { li { (reason) } } }
                p { "Run " code { "rolewright jumpstart enable --domain " (domain) " --user " (name) } " to enable them." }
            }
            None => { p { "Not known." } }
        }
        h2 { "Apps" }
        (apps_table(&profile.apps, false))
        h2 { "Spaces" }
        @if profile.spaces.is_empty() { p { "No spaces." } } @else {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Owner" } th scope="col" { "Sharing" } th scope="col" { "Status" } } }
                tbody {
                    @for sp in &profile.spaces {
                        tr {
                            td { (s(sp, "SpaceName")) }
                            td { (s(&sp["OwnershipSettings"], "OwnerUserProfileName")) }
                            td { (s(&sp["SpaceSharingSettings"], "SharingType")) }
                            td { (status_tag(&s(sp, "Status"))) }
                        }
                    }
                }
            }
        }
        h2 { "Edit" }
        @match &refusal {
            Some(reason) => {
                div.buttons {
                    button.secondary type="button" disabled aria-describedby="edit-reason" { "Edit user profile" }
                }
                p id="edit-reason" { (reason) }
            }
            None => {
                div.buttons { a.button.secondary href={ (profile_link(&domain, &name)) "/edit" } { "Edit user profile" } }
            }
        }
    };
    page::html(StatusCode::OK, page::layout(&name, Some(&signed), body))
}

fn edit_form(
    signed: &crate::session::Signed,
    domain: &str,
    name: &str,
    role: &str,
    refusal: Option<&str>,
) -> Markup {
    html! {
        p { a href="/console/studio" { "Studio domains" } " › " a href=(domain_link(domain)) { (domain) } " › " a href=(profile_link(domain, name)) { (name) } " › Edit" }
        h1 { "Edit user profile " (name) }
        @if let Some(reason) = refusal {
            div.error-summary role="alert" {
                h2 { "This user profile cannot be edited now" }
                p { (reason) }
            }
        } @else {
            form method="post" action={ (profile_link(domain, name)) "/edit" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                div.field {
                    label for="execution_role" { "Execution role ARN" }
                    span.hint id="role-hint" { "The role Studio's apps of this user run as." }
                    input id="execution_role" name="execution_role" type="text" value=(role) aria-describedby="role-hint" required;
                }
                div.buttons {
                    button type="submit" { "Save" }
                    a href=(profile_link(domain, name)) { "Cancel" }
                }
            }
        }
    }
}

/// `GET /console/studio/{domain}/users/{name}/edit`.
pub async fn edit_form_page(
    State(console): State<Arc<Console>>,
    Path((domain, name)): Path<(String, String)>,
    request: Request,
) -> Response<Body> {
    let (parts, _) = request.into_parts();
    let signed = match console.signed_in(&parts) {
        Ok(s) => s,
        Err(page) => return page,
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let profile = match read_profile(&principal, &domain, &name).await {
        Ok(p) => p,
        Err(e) => return page::api_error(&signed, &e),
    };
    let refusal = profile.edit_refusal();
    let role = s(&profile.described["UserSettings"], "ExecutionRole");
    let status = if refusal.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    page::html(
        status,
        page::layout(
            &format!("Edit {name}"),
            Some(&signed),
            edit_form(&signed, &domain, &name, &role, refusal.as_deref()),
        ),
    )
}

/// `POST /console/studio/{domain}/users/{name}/edit`: `UpdateUserProfile`, refused while the
/// profile has apps that are not `Deleted`.
pub async fn edit(
    State(console): State<Arc<Console>>,
    Path((domain, name)): Path<(String, String)>,
    request: Request,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let (signed, form) = match console.signed_form(&parts, body).await {
        Ok(ok) => ok,
        Err(refused) => return refused,
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let profile = match read_profile(&principal, &domain, &name).await {
        Ok(p) => p,
        Err(e) => return page::api_error(&signed, &e),
    };
    let role = form.get("execution_role").unwrap_or("").trim().to_string();
    if let Some(reason) = profile.edit_refusal() {
        return page::html(
            StatusCode::CONFLICT,
            page::layout(
                &format!("Edit {name}"),
                Some(&signed),
                edit_form(&signed, &domain, &name, &role, Some(&reason)),
            ),
        );
    }
    let input = json!({
        "DomainId": domain,
        "UserProfileName": name,
        "UserSettings": {"ExecutionRole": role},
    });
    match principal.sagemaker("UpdateUserProfile", input).await {
        Ok(_) => page::redirect(&format!("{}?updated=1", profile_link(&domain, &name))),
        Err(e) => page::api_error(&signed, &e),
    }
}
