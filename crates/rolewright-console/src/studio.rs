//! SageMaker Studio: the domains (`ListDomains`), a domain's page with its settings, user
//! profiles (with their execution roles and JumpStart status) and apps, a user profile's page
//! with its apps, spaces and JumpStart and Projects status (read and decided by
//! [`crate::jumpstart`], with the button that enables them), apps deleted (`DeleteApp`), and the
//! profile's Edit, refused while it has apps that are not `Deleted`, as Studio refuses it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::{Markup, html};
use rolewright_catalog::jumpstart::{self as js, UserStatus};
use rolewright_server::error::ApiError;
use serde_json::{Value, json};

use crate::Console;
use crate::call::Principal;
use crate::page::{self, encode_query};
use crate::session::{Signed, SignedForm, SignedIn};
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

/// A domain's page.
pub fn domain_link(domain: &str) -> String {
    format!("/console/studio/{}", encode_query(domain))
}

/// A user profile's page.
pub fn profile_link(domain: &str, name: &str) -> String {
    format!(
        "/console/studio/{}/users/{}",
        encode_query(domain),
        encode_query(name)
    )
}

/// The apps of a domain or a user profile, each with its status and, while it is not deleted,
/// a Delete button (`DeleteApp`) that comes back to `back`.
fn apps_table(signed: &Signed, apps: &[Value], with_owner: bool, back: &str) -> Markup {
    let mut headers = vec!["App type", "Name"];
    if with_owner {
        headers.push("User profile or space");
    }
    headers.extend(["Status", "Created", ""]);
    page::table(None, &headers, apps, html! { "No apps." }, |app| {
        let deletable = !matches!(s(app, "Status").as_str(), "Deleted" | "Deleting");
        html! {
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
            td {
                @if deletable {
                    form method="post" action={ (domain_link(&s(app, "DomainId"))) "/apps/delete" } {
                        input type="hidden" name="csrf" value=(signed.csrf);
                        input type="hidden" name="app_type" value=(s(app, "AppType"));
                        input type="hidden" name="app_name" value=(s(app, "AppName"));
                        input type="hidden" name="user_profile" value=(s(app, "UserProfileName"));
                        input type="hidden" name="space" value=(s(app, "SpaceName"));
                        input type="hidden" name="back" value=(back);
                        button.warning type="submit" aria-label={ "Delete app " (s(app, "AppType")) " " (s(app, "AppName")) } { "Delete" }
                    }
                }
            }
        }
    })
}

/// `GET /console/studio`.
pub async fn domains(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let domains =
        match all_pages(&principal, "sagemaker", "ListDomains", json!({}), "Domains").await {
            Ok(d) => d,
            Err(e) => return page::api_error(&signed, &e),
        };
    let query = page::query(&parts);
    let body = html! {
        h1 { "Studio domains" }
        @if let Some(name) = query.get("created") { (page::notice(&format!("Domain {name} created."))) }
        div.buttons { a.button href="/console/studio/new" { "Create domain" } }
        (page::table(
            Some(&format!("Domains ({})", domains.len())),
            &["Name", "Domain ID", "Status", "Created"],
            &domains,
            html! { "There are no SageMaker domains in this region yet. " a href="/console/studio/new" { "Create one" } "." },
            |d| html! {
                td { a href=(domain_link(&s(d, "DomainId"))) { (s(d, "DomainName")) } }
                td { code { (s(d, "DomainId")) } }
                td { (status_tag(&s(d, "Status"))) }
                td { (when(d, "CreationTime")) }
            },
        ))
    };
    page::html(
        StatusCode::OK,
        page::layout("Studio domains", Some(&signed), body),
    )
}

/// A user's JumpStart and Projects status, in one word.
fn jumpstart_word(status: &UserStatus) -> &'static str {
    match (status.jumpstart, status.projects) {
        (true, true) => "enabled",
        (false, false) => "disabled",
        (true, false) => "JumpStart only",
        (false, true) => "Projects only",
    }
}

/// `GET /console/studio/{domain}?page=`.
pub async fn domain(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
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
    // The account's JumpStart conditions, read once for the users shown; a principal who may
    // not read them sees why instead of a status.
    let account = crate::jumpstart::read_account(&principal).await;
    let js_domain = crate::jumpstart::domain_of(&id, &principal.region(), &domain);
    let pages = profiles.len().div_ceil(PAGE_SIZE).max(1);
    let query = page::query(&parts);
    let current = query
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
        let (role, jumpstart) = match principal
            .sagemaker(
                "DescribeUserProfile",
                json!({"DomainId": id, "UserProfileName": name}),
            )
            .await
        {
            Ok(d) => {
                let profile = crate::jumpstart::profile_of(&d);
                let jumpstart = match &account {
                    Ok(a) => jumpstart_word(&js::evaluate(&js_domain, &profile, a)).to_string(),
                    Err(e) => format!("(not shown: {})", e.code),
                };
                let role = profile
                    .own_role
                    .unwrap_or_else(|| "the domain's".to_string());
                (role, jumpstart)
            }
            Err(e) => (format!("(not shown: {})", e.code), String::new()),
        };
        shown.push((name, role, s(p, "Status"), jumpstart));
    }
    let defaults = &domain["DefaultUserSettings"];
    let name = s(&domain, "DomainName");
    let here = domain_link(&id);
    let body = html! {
        p { a href="/console/studio" { "Studio domains" } " › " (name) }
        h1 { (name) }
        @if query.get("created").is_some() { (page::notice("Domain created. It reads Pending for a moment, then InService.")) }
        @if let Some(user) = query.get("added") { (page::notice(&format!("User profile {user} added."))) }
        @if query.get("app_deleted").is_some() { (page::notice("Deletion of the app started.")) }
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
        div.buttons { a.button href={ (here) "/users/new" } { "Add user" } }
        (page::table(
            Some(&if pages > 1 {
                format!("User profiles ({}), page {current} of {pages}", profiles.len())
            } else {
                format!("User profiles ({})", profiles.len())
            }),
            &["Name", "Execution role", "Status", "JumpStart and Projects"],
            &shown,
            html! { "This domain has no user profiles yet. " a href={ (here) "/users/new" } { "Add the first user" } "." },
            |(user, role, status, jumpstart)| html! {
                td { a href=(profile_link(&id, user)) { (user) } }
                td { code { (role) } }
                td { (status_tag(status)) }
                td { (jumpstart) }
            },
        ))
        @if pages > 1 {
            nav.pages aria-label="Pages of user profiles" {
                ul {
                    @for n in 1..=pages {
                        li {
                            @if n == current { span aria-current="page" { (n) } }
                            @else { a href={ (here) "?page=" (n) } { (n) } }
                        }
                    }
                }
            }
        }
        @if !profiles.is_empty() {
            h3 { "JumpStart for users with custom roles" }
            p { "Users whose execution role differs from the domain's do not get JumpStart and project templates until their role is associated with the SageMaker portfolio. This turns the portfolio switch on, creates the two Service Catalog roles when missing, and associates every user's execution role and the domain's; apps and user settings are not touched." }
            form method="post" action={ (here) "/jumpstart" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                input type="hidden" name="scope" value="all";
                div.buttons { button type="submit" { "Enable JumpStart for all users with custom roles" } }
            }
        }
        h2 { "Apps" }
        (apps_table(&signed, &apps, true, &here))
    };
    page::html(StatusCode::OK, page::layout(&name, Some(&signed), body))
}

/// What a user profile's page and its Edit read: the profile, its apps and its spaces.
struct Profile {
    described: Value,
    apps: Vec<Value>,
    /// Or why they may not be read (a data scientist's role lists no spaces).
    spaces: Result<Vec<Value>, ApiError>,
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
    let spaces = profile_spaces(principal, domain, name).await;
    Ok(Profile {
        described,
        apps,
        spaces,
    })
}

/// The spaces a profile owns or shares.
async fn profile_spaces(
    principal: &Principal<'_>,
    domain: &str,
    name: &str,
) -> Result<Vec<Value>, ApiError> {
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
    Ok(spaces)
}

/// `GET /console/studio/{domain}/users/{name}`.
pub async fn profile(
    State(console): State<Arc<Console>>,
    Path((domain, name)): Path<(String, String)>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let profile = match read_profile(&principal, &domain, &name).await {
        Ok(p) => p,
        Err(e) => return page::api_error(&signed, &e),
    };
    // The status is decided from what the principal may read: the domain, and the account's
    // portfolio switch, SageMaker portfolio and Service Catalog roles.
    let status = match principal
        .sagemaker("DescribeDomain", json!({"DomainId": domain}))
        .await
    {
        Ok(described) => crate::jumpstart::read_account(&principal)
            .await
            .map(|account| {
                let d = crate::jumpstart::domain_of(&domain, &principal.region(), &described);
                js::evaluate(
                    &d,
                    &crate::jumpstart::profile_of(&profile.described),
                    &account,
                )
            }),
        Err(e) => Err(e),
    };
    let refusal = profile.edit_refusal();
    let query = page::query(&parts);
    let here = profile_link(&domain, &name);
    let role = s(&profile.described["UserSettings"], "ExecutionRole");
    let body = html! {
        p { a href="/console/studio" { "Studio domains" } " › " a href=(domain_link(&domain)) { (domain) } " › " (name) }
        h1 { (name) }
        @if query.get("updated").is_some() { (page::notice("User profile updated.")) }
        @if query.get("app_deleted").is_some() { (page::notice("Deletion of the app started.")) }
        dl.summary {
            dt { "Domain" } dd { code { (domain) } }
            dt { "Status" } dd { (status_tag(&s(&profile.described, "Status"))) }
            dt { "Execution role" } dd {
                @if role.is_empty() { "The domain's default" } @else { code { (role) } }
            }
            dt { "Created" } dd { (when(&profile.described, "CreationTime")) }
        }
        h2 { "JumpStart and Projects" }
        @match &status {
            Ok(st) if st.fully_enabled() => {
                p id="jumpstart" { "JumpStart and project templates: " strong { "enabled" } "." }
            }
            Ok(st) => {
                p id="jumpstart" {
                    "JumpStart: " strong { (if st.jumpstart { "enabled" } else { "disabled" }) } "; project templates: "
                    strong { (if st.projects { "enabled" } else { "disabled" }) } ", because:"
                }
                ul id="jumpstart-reasons" { @for m in &st.missing { li { (m.message()) } } }
                form method="post" action={ (domain_link(&domain)) "/jumpstart" } {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    input type="hidden" name="user" value=(name);
                    div.buttons { button type="submit" { "Enable JumpStart and Projects for " (name) } }
                }
            }
            Err(e) => {
                p id="jumpstart" { "Not shown: " strong { (e.code) } ": " span.aws-message { (e.message) } }
            }
        }
        h2 { "Apps" }
        (apps_table(&signed, &profile.apps, false, &here))
        h2 { "Spaces" }
        @match &profile.spaces {
            Ok(spaces) => {
                (page::table(None, &["Name", "Owner", "Sharing", "Status"], spaces, html! { "No spaces." }, |sp| html! {
                    td { (s(sp, "SpaceName")) }
                    td { (s(&sp["OwnershipSettings"], "OwnerUserProfileName")) }
                    td { (s(&sp["SpaceSharingSettings"], "SharingType")) }
                    td { (status_tag(&s(sp, "Status"))) }
                }))
            }
            Err(e) => { p { "Not shown: " strong { (e.code) } ": " span.aws-message { (e.message) } } }
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
                div.buttons { a.button.secondary href={ (here) "/edit" } { "Edit user profile" } }
            }
        }
    };
    page::html(StatusCode::OK, page::layout(&name, Some(&signed), body))
}

/// `POST /console/studio/{domain}/apps/delete`: `DeleteApp`, then back to the page it was
/// asked from.
pub async fn delete_app(
    State(console): State<Arc<Console>>,
    Path(domain): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let mut input = json!({
        "DomainId": domain,
        "AppType": form.get("app_type").unwrap_or(""),
        "AppName": form.get("app_name").unwrap_or(""),
    });
    for (field, member) in [("user_profile", "UserProfileName"), ("space", "SpaceName")] {
        if let Some(v) = form.get(field).filter(|v| !v.is_empty()) {
            input[member] = json!(v);
        }
    }
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/console/studio/") && !b.contains(".."))
        .map_or_else(|| domain_link(&domain), str::to_string);
    match principal.sagemaker("DeleteApp", input).await {
        Ok(_) => page::redirect(&format!("{back}?app_deleted=1")),
        Err(e) => page::api_error(&signed, &e),
    }
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
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
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
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
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
