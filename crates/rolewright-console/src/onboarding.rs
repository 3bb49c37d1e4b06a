//! Onboarding to Studio: a domain created (`CreateDomain`: name, IAM authentication, the
//! default execution role chosen from the account's roles, network access, VPC and subnets) and
//! a user added to it (`CreateUserProfile` with an execution role, and optionally JumpStart
//! enabled for it at once, seed 000's second use case). The roles offered are those SageMaker
//! may assume, the ones the Create role wizard and `rolewright role new` built (named
//! `SageMaker-…` or `sagemaker-…`, as the catalog names them) first.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::{Markup, html};
use rolewright_server::error::ApiError;
use serde_json::json;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, Form, Problem, error_summary, field_errors, problem, text_field};
use crate::roles::{all_roles, trusted_entities};
use crate::session::{Signed, SignedForm, SignedIn};
use crate::studio::{domain_link, s};
use crate::xml;

/// A role that may be an execution role.
struct RoleChoice {
    name: String,
    arn: String,
    /// Built from a persona (its name is the catalog's).
    built: bool,
}

/// The roles SageMaker may assume, the catalog's first, each group by name.
async fn execution_roles(principal: &Principal<'_>) -> Result<Vec<RoleChoice>, ApiError> {
    let mut choices: Vec<RoleChoice> = all_roles(principal)
        .await?
        .into_iter()
        .filter(|(_, _, member)| {
            trusted_entities(&xml::document(member, "AssumeRolePolicyDocument").unwrap_or_default())
                .split(", ")
                .any(|p| p == rolewright_server::sagemaker::SERVICE_PRINCIPAL)
        })
        .map(|(name, arn, _)| RoleChoice {
            built: name.starts_with("SageMaker-") || name.starts_with("sagemaker-"),
            name,
            arn,
        })
        .collect();
    choices.sort_by(|a, b| b.built.cmp(&a.built).then_with(|| a.name.cmp(&b.name)));
    Ok(choices)
}

/// A `select` of execution roles; `extra` is a first option (value, text) when given.
fn role_select(
    id: &str,
    label: &str,
    hint: &str,
    roles: &[RoleChoice],
    chosen: &str,
    extra: Option<(&str, &str)>,
    problems: &[Problem],
) -> Markup {
    let errors = field_errors(problems, id);
    let (built, others): (Vec<&RoleChoice>, Vec<&RoleChoice>) = roles.iter().partition(|r| r.built);
    html! {
        div.field.invalid[!errors.is_empty()] {
            label for=(id) { (label) }
            span.hint id={ (id) "-hint" } { (hint) }
            @if !errors.is_empty() { span.field-error id={ (id) "-error" } { @for e in &errors { (e) " " } } }
            select id=(id) name=(id) aria-describedby={ (id) "-hint" @if !errors.is_empty() { " " (id) "-error" } } {
                @if let Some((value, text)) = extra {
                    option value=(value) selected[chosen == value] { (text) }
                } @else {
                    option value="" selected[chosen.is_empty()] { "Choose a role" }
                }
                @if !built.is_empty() {
                    optgroup label="Roles built from a persona" {
                        @for r in &built { option value=(r.arn) selected[chosen == r.arn] { (r.name) } }
                    }
                }
                @if !others.is_empty() {
                    optgroup label="Other roles SageMaker may assume" {
                        @for r in &others { option value=(r.arn) selected[chosen == r.arn] { (r.name) } }
                    }
                }
            }
        }
    }
}

/// Whether `name` is a SageMaker domain or user profile name: letters, digits and inner
/// hyphens, at most 63 characters.
fn studio_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// Whether `id` is a VPC or subnet id (`vpc-…`, `subnet-…`).
fn network_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty() && id.len() <= 32 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Values typed one a line or separated by commas.
fn values(text: &str) -> Vec<String> {
    text.split([',', '\n', ' '])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

fn domain_form(
    signed: &Signed,
    roles: &[RoleChoice],
    form: &Form,
    problems: &[Problem],
    failure: Option<&ApiError>,
) -> Markup {
    let value = |k: &str| form.get(k).unwrap_or("").to_string();
    let access = form.get("network").unwrap_or("PublicInternetOnly");
    let subnet_errors = field_errors(problems, "subnets");
    html! {
        p { a href="/console/studio" { "Studio domains" } " › Create domain" }
        h1 { "Create a Studio domain" }
        (error_summary(problems))
        (failure_summary(failure, "The domain was not created"))
        form method="post" action="/console/studio/new" novalidate {
            input type="hidden" name="csrf" value=(signed.csrf);
            (text_field("domain_name", "Domain name", Some("Letters, digits and hyphens, up to 63 characters."), &value("domain_name"), problems, "text"))
            fieldset {
                legend { "Authentication" }
                div.check {
                    input id="auth_iam" type="radio" name="auth_mode" value="IAM" checked;
                    label for="auth_iam" { strong { "AWS Identity and Access Management (IAM)" } ": users open Studio through a presigned domain URL. IAM Identity Center is not served here." }
                }
            }
            (role_select("execution_role", "Default execution role", "The role the domain's users run as unless their profile names another.", roles, &value("execution_role"), None, problems))
            fieldset {
                legend { "Network access" }
                div.check {
                    input id="network_public" type="radio" name="network" value="PublicInternetOnly" checked[access != "VpcOnly"];
                    label for="network_public" { strong { "Public internet only" } ": Studio reaches the internet through SageMaker." }
                }
                div.check {
                    input id="network_vpc" type="radio" name="network" value="VpcOnly" checked[access == "VpcOnly"];
                    label for="network_vpc" { strong { "VPC only" } ": all traffic goes through your VPC (a VPC and its subnets are then required)." }
                }
            }
            (text_field("vpc_id", "VPC ID (optional for public internet)", Some("Such as vpc-0123456789abcdef0."), &value("vpc_id"), problems, "text"))
            div.field.invalid[!subnet_errors.is_empty()] {
                label for="subnets" { "Subnet IDs (optional for public internet)" }
                span.hint id="subnets-hint" { "One a line, such as subnet-0123456789abcdef0; up to 16." }
                @if !subnet_errors.is_empty() { span.field-error id="subnets-error" { @for e in &subnet_errors { (e) " " } } }
                textarea id="subnets" name="subnets" aria-describedby="subnets-hint" spellcheck="false" { (value("subnets")) }
            }
            div.buttons {
                button type="submit" { "Create domain" }
                a href="/console/studio" { "Cancel" }
            }
        }
    }
}

fn failure_summary(failure: Option<&ApiError>, title: &str) -> Markup {
    html! {
        @if let Some(e) = failure {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (title) }
                p { strong { (e.code) } ": " span.aws-message { (e.message) } }
            }
        }
    }
}

/// `GET /console/studio/new`.
pub async fn new_domain(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let roles = match execution_roles(&principal).await {
        Ok(r) => r,
        Err(e) => return page::api_error(&signed, &e),
    };
    let body = domain_form(&signed, &roles, &Form::default(), &[], None);
    page::html(
        StatusCode::OK,
        page::layout("Create domain", Some(&signed), body),
    )
}

/// `POST /console/studio/new`: `CreateDomain`.
pub async fn create_domain(
    State(console): State<Arc<Console>>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let name = form.get("domain_name").unwrap_or("").trim().to_string();
    let role = form.get("execution_role").unwrap_or("").trim().to_string();
    let vpc = form.get("vpc_id").unwrap_or("").trim().to_string();
    let subnets = values(form.get("subnets").unwrap_or(""));
    let vpc_only = form.get("network") == Some("VpcOnly");
    let mut problems = Vec::new();
    if name.is_empty() {
        problems.push(problem("domain_name", "Enter a domain name"));
    } else if !studio_name(&name) {
        problems.push(problem("domain_name", format!("Domain name `{name}` may have only letters, digits and hyphens inside, up to 63 characters")));
    }
    if role.is_empty() {
        problems.push(problem(
            "execution_role",
            "Choose the default execution role",
        ));
    }
    if !vpc.is_empty() && !network_id(&vpc, "vpc-") {
        problems.push(problem(
            "vpc_id",
            format!("`{vpc}` is not a VPC ID: it looks like vpc-0123456789abcdef0"),
        ));
    }
    if let Some(bad) = subnets.iter().find(|s| !network_id(s, "subnet-")) {
        problems.push(problem(
            "subnets",
            format!("`{bad}` is not a subnet ID: it looks like subnet-0123456789abcdef0"),
        ));
    }
    if subnets.len() > 16 {
        problems.push(problem("subnets", "Give at most 16 subnets"));
    }
    if vpc_only && vpc.is_empty() {
        problems.push(problem(
            "vpc_id",
            "Enter the VPC ID: a VPC-only domain needs its VPC",
        ));
    }
    if vpc_only && subnets.is_empty() {
        problems.push(problem(
            "subnets",
            "Enter at least one subnet ID: a VPC-only domain needs subnets",
        ));
    }
    if vpc.is_empty() != subnets.is_empty() && !vpc_only {
        problems.push(problem(
            if vpc.is_empty() { "vpc_id" } else { "subnets" },
            "Give both the VPC ID and its subnets, or neither",
        ));
    }
    let refuse = |problems: &[Problem], failure: Option<&ApiError>, roles: &[RoleChoice]| {
        let status = if failure.is_some_and(|e| e.code == "AccessDenied") {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::BAD_REQUEST
        };
        page::html(
            status,
            page::layout(
                "Create domain",
                Some(&signed),
                domain_form(&signed, roles, &form, problems, failure),
            ),
        )
    };
    if !problems.is_empty() {
        let roles = execution_roles(&principal).await.unwrap_or_default();
        return refuse(&problems, None, &roles);
    }
    let mut input = json!({
        "DomainName": name,
        "AuthMode": "IAM",
        "DefaultUserSettings": {"ExecutionRole": role},
        "AppNetworkAccessType": if vpc_only { "VpcOnly" } else { "PublicInternetOnly" },
    });
    if !vpc.is_empty() {
        input["VpcId"] = json!(vpc);
        input["SubnetIds"] = json!(subnets);
    }
    match principal.sagemaker("CreateDomain", input).await {
        Ok(answer) => {
            let id = s(&answer, "DomainArn")
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            page::redirect(&format!("{}?created=1", domain_link(&id)))
        }
        Err(e) => {
            let roles = execution_roles(&principal).await.unwrap_or_default();
            refuse(&[], Some(&e), &roles)
        }
    }
}

fn user_form(
    signed: &Signed,
    domain: &str,
    domain_name: &str,
    roles: &[RoleChoice],
    form: &Form,
    problems: &[Problem],
    failure: Option<&ApiError>,
) -> Markup {
    let value = |k: &str| form.get(k).unwrap_or("").to_string();
    let here = domain_link(domain);
    html! {
        p { a href="/console/studio" { "Studio domains" } " › " a href=(here) { (domain_name) } " › Add user" }
        h1 { "Add a user to " (domain_name) }
        (error_summary(problems))
        (failure_summary(failure, "The user profile was not created"))
        form method="post" action={ (here) "/users/new" } novalidate {
            input type="hidden" name="csrf" value=(signed.csrf);
            (text_field("user_name", "User profile name", Some("Letters, digits and hyphens, up to 63 characters; usually the person's name."), &value("user_name"), problems, "text"))
            (role_select("execution_role", "Execution role", "The role this user's Studio apps run as. Roles built with Create role for a persona are listed first.", roles, &value("execution_role"), Some(("", "The domain's default execution role")), problems))
            div.check {
                input id="enable_jumpstart" type="checkbox" name="enable_jumpstart" value="1" checked[form.get("enable_jumpstart").is_some()];
                label for="enable_jumpstart" { strong { "Enable JumpStart and project templates" } " for this user: associates its execution role with the SageMaker portfolio (and turns the portfolio on) once the profile is created." }
            }
            div.buttons {
                button type="submit" { "Add user" }
                a href=(here) { "Cancel" }
            }
        }
    }
}

/// `GET /console/studio/{domain}/users/new`.
pub async fn new_user(
    State(console): State<Arc<Console>>,
    Path(domain): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let described = match principal
        .sagemaker("DescribeDomain", json!({"DomainId": domain}))
        .await
    {
        Ok(d) => d,
        Err(e) => return page::api_error(&signed, &e),
    };
    let roles = match execution_roles(&principal).await {
        Ok(r) => r,
        Err(e) => return page::api_error(&signed, &e),
    };
    let body = user_form(
        &signed,
        &domain,
        &s(&described, "DomainName"),
        &roles,
        &Form::default(),
        &[],
        None,
    );
    page::html(
        StatusCode::OK,
        page::layout("Add user", Some(&signed), body),
    )
}

/// `POST /console/studio/{domain}/users/new`: `CreateUserProfile`, then, when asked, JumpStart
/// enabled for the new user.
pub async fn create_user(
    State(console): State<Arc<Console>>,
    Path(domain): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let described = match principal
        .sagemaker("DescribeDomain", json!({"DomainId": domain}))
        .await
    {
        Ok(d) => d,
        Err(e) => return page::api_error(&signed, &e),
    };
    let domain_name = s(&described, "DomainName");
    let name = form.get("user_name").unwrap_or("").trim().to_string();
    let role = form.get("execution_role").unwrap_or("").trim().to_string();
    let mut problems = Vec::new();
    if name.is_empty() {
        problems.push(problem("user_name", "Enter a user profile name"));
    } else if !studio_name(&name) {
        problems.push(problem("user_name", format!("User profile name `{name}` may have only letters, digits and hyphens inside, up to 63 characters")));
    }
    if !problems.is_empty() {
        let roles = execution_roles(&principal).await.unwrap_or_default();
        let body = user_form(
            &signed,
            &domain,
            &domain_name,
            &roles,
            &form,
            &problems,
            None,
        );
        return page::html(
            StatusCode::BAD_REQUEST,
            page::layout("Add user", Some(&signed), body),
        );
    }
    let mut input = json!({"DomainId": domain, "UserProfileName": name});
    if !role.is_empty() {
        input["UserSettings"] = json!({"ExecutionRole": role});
    }
    match principal.sagemaker("CreateUserProfile", input).await {
        Ok(_) if form.get("enable_jumpstart").is_some() => {
            page::redirect(&crate::jumpstart::start(
                &console,
                &principal,
                &domain,
                crate::jumpstart::Scope::User(name),
            ))
        }
        Ok(_) => page::redirect(&format!(
            "{}?added={}",
            domain_link(&domain),
            page::encode_query(&name)
        )),
        Err(e) => {
            let roles = execution_roles(&principal).await.unwrap_or_default();
            let status = if e.code == "AccessDenied" {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            let body = user_form(&signed, &domain, &domain_name, &roles, &form, &[], Some(&e));
            page::html(status, page::layout("Add user", Some(&signed), body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn studio_names_and_network_ids_are_checked_as_sagemaker_does() {
        assert!(studio_name("team-ml-1"));
        assert!(!studio_name("-team"));
        assert!(!studio_name("team_ml"));
        assert!(!studio_name(&"a".repeat(64)));
        assert!(network_id("vpc-0123abc", "vpc-"));
        assert!(!network_id("vpc-", "vpc-"));
        assert!(!network_id("subnet-1", "vpc-"));
        assert_eq!(
            values("subnet-a, subnet-b\nsubnet-c"),
            ["subnet-a", "subnet-b", "subnet-c"]
        );
    }
}
