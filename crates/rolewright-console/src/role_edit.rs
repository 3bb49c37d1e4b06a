//! Editing a role's ML activities: the wizard's activity step pre-filled from the activities the
//! role was built from (its `rolewright:activities` tag, or the description `rolewright role new`
//! writes) with the parameter values read back from its policies; the semantic diff of its
//! policies (`rolewright role diff`'s) and the IAM calls Save will make, shown before saving; and
//! Save, which makes them as the signed-in principal.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::{Markup, html};
use rolewright_catalog::RoleDefinition;
use rolewright_catalog::diff::Grant;
use rolewright_server::error::ApiError;
use serde_json::Value;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, Problem, encode_query, error_summary};
use crate::roles::{holdings, pretty};
use crate::session::{Signed, SignedForm, SignedIn};
use crate::wizard::{self, ACTIVITIES_TAG, Checks, Draft};
use crate::xml;

/// The words `rolewright role new` ends a role's default description with, before the ids.
const DESCRIPTION_MARK: &str = "built by rolewright from activities: ";

/// An edit not saved yet: the role it is for and the answers so far.
#[derive(Debug, Clone)]
pub struct RoleEdit {
    role: String,
    draft: Draft,
}

/// The role as IAM holds it now.
struct Current {
    name: String,
    description: String,
    tags: Vec<(String, String)>,
    inline: Vec<(String, Value)>,
    /// Attached managed policies: name, ARN and default version's document (when readable).
    attached: Vec<(String, String, Option<Value>)>,
}

impl Current {
    /// The activities the role was built from: its tag, else its default description.
    fn activities(&self, console: &Console) -> Vec<String> {
        let listed: Vec<String> = match self.tags.iter().find(|(k, _)| k == ACTIVITIES_TAG) {
            Some((_, v)) => v.split_whitespace().map(String::from).collect(),
            None => self
                .description
                .split_once(DESCRIPTION_MARK)
                .map(|(_, ids)| ids.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default(),
        };
        listed
            .into_iter()
            .filter(|id| console.catalog.activity(id).is_some())
            .collect()
    }

    fn documents(&self) -> Vec<Value> {
        self.inline
            .iter()
            .map(|(_, d)| d.clone())
            .chain(self.attached.iter().filter_map(|(_, _, d)| d.clone()))
            .collect()
    }

    /// The draft the role was built from, as far as its tag and its policies tell.
    fn draft(&self, console: &Console) -> Draft {
        let activities = self.activities(console);
        let lists = recover_lists(console, self, &activities);
        // Managed policies the person attached, not those an activity brings.
        let brought = activity_managed_arns(console);
        let own_prefix = format!("{}-", self.name);
        let managed = self
            .attached
            .iter()
            .filter(|(name, arn, _)| !brought.contains(arn) && !name.starts_with(&own_prefix))
            .map(|(_, arn, _)| arn.clone())
            .collect();
        Draft::for_role(
            &self.name,
            &self.description,
            activities,
            lists,
            self.tags.clone(),
            managed,
        )
    }
}

/// Every AWS managed policy ARN some activity attaches.
fn activity_managed_arns(console: &Console) -> Vec<String> {
    console
        .catalog
        .activities()
        .iter()
        .flat_map(|a| a.managed_policies.iter())
        .map(|p| format!("arn:aws:iam::aws:policy/{p}"))
        .collect()
}

/// A managed policy's default version's document (`GetPolicy`, `GetPolicyVersion`).
async fn managed_document(principal: &Principal<'_>, arn: &str) -> Result<Value, ApiError> {
    let policy = principal.iam("GetPolicy", &[("PolicyArn", arn)]).await?;
    let version = xml::text(&policy, "DefaultVersionId").unwrap_or_else(|| "v1".into());
    let answer = principal
        .iam(
            "GetPolicyVersion",
            &[("PolicyArn", arn), ("VersionId", &version)],
        )
        .await?;
    Ok(parse(
        &xml::document(&answer, "Document").unwrap_or_default(),
    ))
}

fn parse(document: &str) -> Value {
    serde_json::from_str(document).unwrap_or(Value::Null)
}

async fn current(principal: &Principal<'_>, name: &str) -> Result<Current, ApiError> {
    let answer = principal.iam("GetRole", &[("RoleName", name)]).await?;
    let role = xml::element(&answer, "Role").unwrap_or_default();
    let tags = xml::members(role, "Tags")
        .into_iter()
        .map(|m| {
            (
                xml::text(m, "Key").unwrap_or_default(),
                xml::text(m, "Value").unwrap_or_default(),
            )
        })
        .collect();
    let held = holdings(principal, name).await;
    let inline = held
        .inline?
        .into_iter()
        .map(|(n, d)| (n, parse(&d)))
        .collect();
    let mut attached = Vec::new();
    for (policy, arn) in held.attached? {
        let document = managed_document(principal, &arn).await.ok();
        attached.push((policy, arn, document));
    }
    Ok(Current {
        name: xml::text(role, "RoleName").unwrap_or_else(|| name.to_string()),
        description: xml::text(role, "Description").unwrap_or_default(),
        tags,
        inline,
        attached,
    })
}

/// One piece of a template string: literal text, a `{{single}}` value, or the `[[list]]` value
/// to read back.
enum Piece<'t> {
    Text(&'t str),
    Single,
    List(&'t str),
}

fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let next = [("{{", "}}"), ("[[", "]]")]
            .iter()
            .filter_map(|(open, close)| rest.find(open).map(|at| (at, *open, *close)))
            .min_by_key(|(at, _, _)| *at);
        let Some((at, open, close)) = next else {
            out.push(Piece::Text(rest));
            break;
        };
        let Some(end) = rest[at + 2..].find(close) else {
            out.push(Piece::Text(rest));
            break;
        };
        if at > 0 {
            out.push(Piece::Text(&rest[..at]));
        }
        let name = &rest[at + 2..at + 2 + end];
        out.push(if open == "{{" {
            Piece::Single
        } else {
            Piece::List(name)
        });
        rest = &rest[at + 2 + end + 2..];
    }
    out
}

/// The list value `text` was linked from `pieces` with, when it was: single values (partition,
/// region, account) hold no `:` or `/`.
fn read_back<'a>(pieces: &[Piece<'_>], text: &'a str) -> Option<&'a str> {
    fn go<'a>(
        pieces: &[Piece<'_>],
        text: &'a str,
        start: usize,
        got: Option<&'a str>,
    ) -> Option<Option<&'a str>> {
        let rest = &text[start..];
        let Some((first, others)) = pieces.split_first() else {
            return rest.is_empty().then_some(got);
        };
        match first {
            Piece::Text(t) => rest
                .starts_with(t)
                .then(|| go(others, text, start + t.len(), got))
                .flatten(),
            Piece::Single => {
                let stop = rest.find([':', '/']).unwrap_or(rest.len());
                (1..=stop)
                    .filter(|k| rest.is_char_boundary(*k))
                    .find_map(|k| go(others, text, start + k, got))
            }
            Piece::List(_) => (1..=rest.len())
                .filter(|k| rest.is_char_boundary(*k))
                .find_map(|k| go(others, text, start + k, Some(&rest[..k]))),
        }
    }
    go(pieces, text, 0, None).flatten()
}

/// Every string of `value` by the object keys that lead to it (arrays are looked through).
fn strings_by_path<'v>(
    value: &'v Value,
    path: &mut Vec<&'v str>,
    out: &mut Vec<(String, &'v str)>,
) {
    match value {
        Value::String(s) => out.push((path.join("\u{1f}"), s)),
        Value::Array(items) => items.iter().for_each(|v| strings_by_path(v, path, out)),
        Value::Object(map) => {
            for (k, v) in map {
                path.push(k);
                strings_by_path(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The list parameters the role's policies were linked with: each activity's templates (every
/// variant) read back against the strings at the same place in the role's policies of that
/// activity (named `ROLE-ACTIVITY`, or `ROLE-ACTIVITY-N` when split), keeping the values the
/// catalog accepts for the parameter.
fn recover_lists(
    console: &Console,
    role: &Current,
    activities: &[String],
) -> BTreeMap<String, Vec<String>> {
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let named: Vec<(&str, &Value)> = role
        .inline
        .iter()
        .map(|(n, d)| (n.as_str(), d))
        .chain(
            role.attached
                .iter()
                .filter_map(|(n, _, d)| d.as_ref().map(|d| (n.as_str(), d))),
        )
        .collect();
    for id in activities {
        let Some(activity) = console.catalog.activity(id) else {
            continue;
        };
        let base = format!("{}-{id}", role.name);
        let of_activity = |n: &str| {
            n == base
                || n.strip_prefix(&base)
                    .and_then(|r| r.strip_prefix('-'))
                    .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
        };
        let mut documents: Vec<&Value> = named
            .iter()
            .filter(|(n, _)| of_activity(n))
            .map(|(_, d)| *d)
            .collect();
        if documents.is_empty() {
            documents = named.iter().map(|(_, d)| *d).collect();
        }
        let mut have = Vec::new();
        for d in &documents {
            strings_by_path(d, &mut Vec::new(), &mut have);
        }
        let v = &activity.variants;
        let templates = [
            Some(&v.base),
            v.vpc.as_ref(),
            v.kms.as_ref(),
            v.vpc_kms.as_ref(),
        ];
        let mut wanted = Vec::new();
        for t in templates.into_iter().flatten() {
            strings_by_path(t, &mut Vec::new(), &mut wanted);
        }
        for (path, template) in wanted {
            let shape = pieces(template);
            let Some(list) = shape.iter().find_map(|p| match p {
                Piece::List(name) => Some(*name),
                _ => None,
            }) else {
                continue;
            };
            for (at, text) in &have {
                if *at != path {
                    continue;
                }
                if let Some(value) = read_back(&shape, text)
                    && rolewright_catalog::check_value(list, value).is_none()
                {
                    let values = lists.entry(list.to_string()).or_default();
                    if !values.iter().any(|v| v == value) {
                        values.push(value.to_string());
                    }
                }
            }
        }
    }
    lists
}

fn edit_of(console: &Console, signed: &Signed, role: &str) -> Option<Draft> {
    console
        .sessions
        .with(&signed.token, |s| s.role_edit.clone())
        .flatten()
        .filter(|e| e.role == role)
        .map(|e| e.draft)
}

fn keep(console: &Console, signed: &Signed, edit: Option<RoleEdit>) {
    console.sessions.with(&signed.token, |s| s.role_edit = edit);
}

fn base(name: &str) -> String {
    format!("/console/roles/{}", encode_query(name))
}

fn crumbs(name: &str, last: &str) -> Markup {
    html! {
        p { a href="/console/roles" { "Roles" } " › " a href=(base(name)) { (name) } " › " (last) }
    }
}

/// `GET /console/roles/{name}/activities`: the activity step, pre-filled from the role (or from
/// the edit under way, when Back was chosen).
pub async fn form(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let draft = match edit_of(&console, &signed, &name) {
        Some(d) => d,
        None => match current(&principal, &name).await {
            Ok(role) => role.draft(&console),
            Err(e) => return page::api_error(&signed, &e),
        },
    };
    form_page(&console, &signed, &principal, &name, &draft, &[]).await
}

async fn form_page(
    console: &Console,
    signed: &Signed,
    principal: &Principal<'_>,
    name: &str,
    draft: &Draft,
    problems: &[Problem],
) -> Response<Body> {
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = html! {
        (crumbs(name, "Edit activities"))
        h1 { "Edit the ML activities of " (name) }
        p { "Choose the activities the role should have and the values they need. The next page shows what changes in the role's policies before anything is saved. Network and encryption settings are kept as the role has them." }
        (error_summary(problems))
        form method="post" action={ (base(name)) "/activities" } novalidate {
            input type="hidden" name="csrf" value=(signed.csrf);
            (wizard::activities(console, principal, draft, problems).await)
            div.buttons {
                button type="submit" name="go" value="review" { "Review changes" }
                button.secondary type="submit" name="go" value="cancel" { "Cancel" }
            }
        }
    };
    page::html(
        status,
        page::layout(&format!("Edit activities of {name}"), Some(signed), body),
    )
}

/// `POST /console/roles/{name}/activities`: keeps the answers, then shows the review (or the
/// form again with what to fix).
pub async fn save_form(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    if form.get("go") == Some("cancel") {
        keep(&console, &signed, None);
        return page::redirect(&base(&name));
    }
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let mut draft = match edit_of(&console, &signed, &name) {
        Some(d) => d,
        None => match current(&principal, &name).await {
            Ok(role) => role.draft(&console),
            Err(e) => return page::api_error(&signed, &e),
        },
    };
    wizard::save_activities(&console, &mut draft, &form);
    keep(
        &console,
        &signed,
        Some(RoleEdit {
            role: name.clone(),
            draft: draft.clone(),
        }),
    );
    let problems = wizard::validate(&console, &principal, 1, &draft).await;
    if !problems.is_empty() {
        return form_page(&console, &signed, &principal, &name, &draft, &problems).await;
    }
    page::redirect(&format!("{}/activities/review", base(&name)))
}

/// One IAM call Save makes, and what it is for.
struct Step {
    op: &'static str,
    params: Vec<(&'static str, String)>,
    what: String,
}

fn step(op: &'static str, params: Vec<(&'static str, String)>, what: String) -> Step {
    Step { op, params, what }
}

/// The calls that turn the role IAM holds into the role built: inline policies put and deleted,
/// customer managed policies given a new default version (or created and attached) and
/// detached, AWS managed policies of activities attached and detached, the activities tag set.
fn plan(account: &str, now: &Current, new: &RoleDefinition) -> Vec<Step> {
    let name = now.name.clone();
    let own = format!("{name}-");
    let mut steps = Vec::new();
    for p in &new.inline_policies {
        let same = now
            .inline
            .iter()
            .any(|(n, d)| *n == p.name && *d == p.document);
        if !same {
            steps.push(step(
                "PutRolePolicy",
                vec![
                    ("RoleName", name.clone()),
                    ("PolicyName", p.name.clone()),
                    ("PolicyDocument", p.document.to_string()),
                ],
                format!("inline policy {}", p.name),
            ));
        }
    }
    for p in &new.managed_policies {
        let arn = format!("arn:aws:iam::{account}:policy/{}", p.name);
        match now.attached.iter().find(|(_, a, _)| *a == arn) {
            Some((_, _, Some(d))) if *d == p.document => {}
            Some(_) => steps.push(step(
                "CreatePolicyVersion",
                vec![
                    ("PolicyArn", arn.clone()),
                    ("PolicyDocument", p.document.to_string()),
                    ("SetAsDefault", "true".into()),
                ],
                format!("new default version of managed policy {}", p.name),
            )),
            None => {
                steps.push(step(
                    "CreatePolicy",
                    vec![
                        ("PolicyName", p.name.clone()),
                        ("PolicyDocument", p.document.to_string()),
                    ],
                    format!("managed policy {}", p.name),
                ));
                steps.push(step(
                    "AttachRolePolicy",
                    vec![("RoleName", name.clone()), ("PolicyArn", arn.clone())],
                    format!("managed policy {}", p.name),
                ));
            }
        }
    }
    for arn in &new.attached_policy_arns {
        if !now.attached.iter().any(|(_, a, _)| a == arn) {
            steps.push(step(
                "AttachRolePolicy",
                vec![("RoleName", name.clone()), ("PolicyArn", arn.clone())],
                format!("managed policy {arn}"),
            ));
        }
    }
    for (policy, _) in &now.inline {
        if policy.starts_with(&own) && !new.inline_policies.iter().any(|p| p.name == *policy) {
            steps.push(step(
                "DeleteRolePolicy",
                vec![("RoleName", name.clone()), ("PolicyName", policy.clone())],
                format!("inline policy {policy}"),
            ));
        }
    }
    let kept: Vec<String> = new
        .managed_policies
        .iter()
        .map(|p| format!("arn:aws:iam::{account}:policy/{}", p.name))
        .chain(new.attached_policy_arns.iter().cloned())
        .collect();
    let own_arn = format!("arn:aws:iam::{account}:policy/{own}");
    for (policy, arn, _) in &now.attached {
        let ours = arn.starts_with(&own_arn) || arn.starts_with("arn:aws:iam::aws:policy/");
        if ours && !kept.contains(arn) {
            steps.push(step(
                "DetachRolePolicy",
                vec![("RoleName", name.clone()), ("PolicyArn", arn.clone())],
                format!("managed policy {policy}"),
            ));
        }
    }
    let value = new.activities.join(" ");
    let tagged = now
        .tags
        .iter()
        .find(|(k, _)| k == ACTIVITIES_TAG)
        .map(|(_, v)| v.as_str());
    if tagged != Some(value.as_str()) && !value.is_empty() && value.len() <= 256 {
        steps.push(step(
            "TagRole",
            vec![
                ("RoleName", name.clone()),
                ("Tags.member.1.Key", ACTIVITIES_TAG.into()),
                ("Tags.member.1.Value", value),
            ],
            format!("tag {ACTIVITIES_TAG}"),
        ));
    }
    steps
}

/// The documents the built role holds: its own, and those of the managed policies it attaches
/// by ARN (read from what is attached now, or from IAM).
async fn new_documents(
    principal: &Principal<'_>,
    now: &Current,
    new: &RoleDefinition,
) -> Vec<Value> {
    let mut out: Vec<Value> = new
        .inline_policies
        .iter()
        .chain(&new.managed_policies)
        .map(|p| p.document.clone())
        .collect();
    for arn in &new.attached_policy_arns {
        let known = now
            .attached
            .iter()
            .find(|(_, a, _)| a == arn)
            .and_then(|(_, _, d)| d.clone());
        match known {
            Some(d) => out.push(d),
            None => {
                if let Ok(d) = managed_document(principal, arn).await {
                    out.push(d);
                }
            }
        }
    }
    out
}

pub(crate) fn grants_table(title: &str, grants: &[Grant], empty: &str) -> Markup {
    let table = page::table(
        None,
        &["Action", "Resource", "Condition"],
        grants,
        html! { (empty) },
        |g| {
            html! {
                td { code { (g.action) } }
                td { code { (g.resource) } }
                td { @match &g.condition { Some(c) => { code { (c) } } None => { "None" } } }
            }
        },
    );
    html! { h3 { (title) } (table) }
}

/// What the review shows: the role built, the diff, the calls, and whether Save may go on.
struct Review {
    role: RoleDefinition,
    added: Vec<Grant>,
    removed: Vec<Grant>,
    steps: Vec<Step>,
    blocking: Vec<String>,
}

async fn review_of(
    console: &Console,
    principal: &Principal<'_>,
    name: &str,
    draft: &Draft,
) -> Result<Result<Review, Vec<String>>, ApiError> {
    let now = current(principal, name).await?;
    Ok(review_against(console, principal, &now, draft).await)
}

/// The review of `draft` against the role as already read.
async fn review_against(
    console: &Console,
    principal: &Principal<'_>,
    now: &Current,
    draft: &Draft,
) -> Result<Review, Vec<String>> {
    let account = principal.account().to_string();
    let role = match wizard::build(console, &account, draft) {
        Ok(r) => r,
        Err(e) => return Err(e.to_string().lines().map(String::from).collect()),
    };
    let new = new_documents(principal, now, &role).await;
    let (added, removed) = rolewright_catalog::diff::diff(
        &now.documents(),
        &new,
        rolewright_reference::Reference::embedded(),
    );
    let steps = plan(&account, now, &role);
    let blocking = Checks::of(&role, &account).blocking();
    Ok(Review {
        role,
        added,
        removed,
        steps,
        blocking,
    })
}

/// `GET /console/roles/{name}/activities/review`: the diff of the role's policies and the calls
/// Save makes.
pub async fn review(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let Some(draft) = edit_of(&console, &signed, &name) else {
        return page::redirect(&format!("{}/activities", base(&name)));
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let review = match review_of(&console, &principal, &name, &draft).await {
        Ok(r) => r,
        Err(e) => return page::api_error(&signed, &e),
    };
    let edit = format!("{}/activities", base(&name));
    let content = match &review {
        Err(problems) => html! {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "The role cannot be built with these activities" }
                ul { @for p in problems { li { (p) } } }
                p { a href=(edit) { "Change the activities" } }
            }
        },
        Ok(r) => review_markup(&signed, &name, r),
    };
    let body = html! {
        (crumbs(&name, "Review changes"))
        h1 { "Review the changes to " (name) }
        (content)
    };
    page::html(
        StatusCode::OK,
        page::layout(&format!("Review changes to {name}"), Some(&signed), body),
    )
}

fn review_markup(signed: &Signed, name: &str, r: &Review) -> Markup {
    let edit = format!("{}/activities", base(name));
    html! {
        dl.summary {
            dt { "ML activities" } dd { (r.role.activities.join(", ")) }
        }
        @if !r.blocking.is_empty() {
            div.error-summary role="alert" {
                h2 { "These activities cannot be saved" }
                ul { @for b in &r.blocking { li { (b) } } }
            }
        }
        h2 { "What the role's policies grant after saving" }
        p.hint { "Grants by action and resource, as " code { "rolewright role diff" } " compares them." }
        (grants_table(&format!("Grants added ({})", r.added.len()), &r.added, "No grant is added."))
        (grants_table(&format!("Grants removed ({})", r.removed.len()), &r.removed, "No grant is removed."))
        h2 { "What Save does" }
        @if r.steps.is_empty() {
            p.empty { "Nothing: the role already holds these policies." }
        } @else {
            ol id="edit-steps" {
                @for s in &r.steps { li { code { (s.op) } ": " (s.what) } }
            }
        }
        h2 { "Policy documents after saving" }
        @for p in r.role.inline_policies.iter().chain(&r.role.managed_policies) {
            details {
                summary { (p.name) }
                pre tabindex="0" aria-label={ "Policy " (p.name) } { (pretty(&p.document.to_string())) }
            }
        }
        form method="post" action={ (base(name)) "/activities/save" } {
            input type="hidden" name="csrf" value=(signed.csrf);
            div.buttons {
                @if r.blocking.is_empty() && !r.steps.is_empty() {
                    button type="submit" { "Save changes" }
                }
                a.button.secondary href=(edit) { "Back" }
                a href=(base(name)) { "Cancel" }
            }
        }
    }
}

/// Runs one step; a new version refused for the five-version quota makes room by deleting the
/// oldest version that is not the default, as the console of AWS asks one to.
async fn run(principal: &Principal<'_>, s: &Step) -> Result<(), ApiError> {
    let pairs: Vec<(&str, &str)> = s.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match principal.iam(s.op, &pairs).await {
        Err(e) if s.op == "CreatePolicyVersion" && e.code == "LimitExceeded" => {
            let arn = s
                .params
                .iter()
                .find(|(k, _)| *k == "PolicyArn")
                .map_or("", |(_, v)| v.as_str());
            let versions = principal
                .iam("ListPolicyVersions", &[("PolicyArn", arn)])
                .await?;
            let oldest = xml::members(&versions, "Versions")
                .into_iter()
                .filter(|m| xml::text(m, "IsDefaultVersion").as_deref() != Some("true"))
                .filter_map(|m| xml::text(m, "VersionId"))
                .min_by_key(|v| v.trim_start_matches('v').parse::<u64>().unwrap_or(u64::MAX));
            let Some(oldest) = oldest else { return Err(e) };
            principal
                .iam(
                    "DeletePolicyVersion",
                    &[("PolicyArn", arn), ("VersionId", &oldest)],
                )
                .await?;
            principal.iam(s.op, &pairs).await.map(|_| ())
        }
        other => other.map(|_| ()),
    }
}

/// `POST /console/roles/{name}/activities/save`: makes the review's calls as the principal, in
/// order, stopping at the first refused.
pub async fn save(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedForm {
        parts,
        signed,
        form: _,
    }: SignedForm,
) -> Response<Body> {
    let Some(draft) = edit_of(&console, &signed, &name) else {
        return page::redirect(&format!("{}/activities", base(&name)));
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let review = match review_of(&console, &principal, &name, &draft).await {
        Ok(Ok(r)) if r.blocking.is_empty() => r,
        Ok(_) => return page::redirect(&format!("{}/activities/review", base(&name))),
        Err(e) => return page::api_error(&signed, &e),
    };
    for (i, s) in review.steps.iter().enumerate() {
        if let Err(e) = run(&principal, s).await {
            let done = &review.steps[..i];
            let mut page = page::api_error(&signed, &e);
            if !done.is_empty() {
                let body = html! {
                    div.error-summary role="alert" tabindex="-1" {
                        h1 { "The role was changed only in part" }
                        p { strong { (e.code) } ": " span.aws-message { (e.message) } }
                        p { "Done before the refusal:" }
                        ul { @for d in done { li { code { (d.op) } ": " (d.what) } } }
                    }
                    p { a href=(base(&name)) { "Open the role" } }
                };
                page = page::html(
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                    page::layout("Role changed in part", Some(&signed), body),
                );
            }
            return page;
        }
    }
    keep(&console, &signed, None);
    page::redirect(&format!("{}?edited=1", base(&name)))
}

/// Drift on the role page: the role against what the ML activities it was built from (its
/// `rolewright:activities` tag, or `role new`'s description) build with the values its policies
/// hold, as `rolewright role drift` compares a role with its spec. Nothing for a role built
/// otherwise.
pub(crate) async fn drift_section(
    console: &Console,
    signed: &Signed,
    principal: &Principal<'_>,
    name: &str,
) -> Markup {
    let Ok(now) = current(principal, name).await else {
        return html! {};
    };
    if now.activities(console).is_empty() {
        return html! {};
    }
    // The role as just read: its policies are compared, not read again.
    let review = match review_against(console, principal, &now, &now.draft(console)).await {
        Ok(r) => r,
        Err(problems) => {
            return html! {
                h2 id="drift" { "Drift from its ML activities" }
                p { "Its activities do not build a role any more: " (problems.join("; ")) }
            };
        }
    };
    let drifted = !review.added.is_empty() || !review.removed.is_empty();
    html! {
        h2 id="drift" { "Drift from its ML activities" }
        @if !drifted {
            p.status.ok { "No drift: the role grants what its activities ("
                (review.role.activities.join(", ")) ") build." }
        } @else {
            p.status.failed { "Drifted: the role's policies were changed since they were built from "
                (review.role.activities.join(", ")) "." }
            (grants_table(&format!("Grants the role holds that its activities do not ({})", review.removed.len()), &review.removed, "None."))
            (grants_table(&format!("Grants its activities give that the role lacks ({})", review.added.len()), &review.added, "None."))
            form method="post" action={ (base(name)) "/drift" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                p { "Make it match shows the calls that put the policies back as the activities build them, before anything is saved." }
                button type="submit" { "Make it match" }
            }
        }
    }
}

/// `POST /console/roles/{name}/drift`: starts an edit of the role with the activities it was
/// built from, and shows its review (the diff and the calls Save makes).
pub async fn make_match(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    SignedForm {
        parts,
        signed,
        form: _,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let draft = match current(&principal, &name).await {
        Ok(role) => role.draft(&console),
        Err(e) => return page::api_error(&signed, &e),
    };
    keep(
        &console,
        &signed,
        Some(RoleEdit {
            role: name.clone(),
            draft,
        }),
    );
    page::redirect(&format!("{}/activities/review", base(&name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linked_string_gives_back_its_list_value() {
        let shape = pieces("arn:{{Partition}}:s3:::[[S3Buckets]]/*");
        assert_eq!(read_back(&shape, "arn:aws:s3:::ml-data/*"), Some("ml-data"));
        assert_eq!(read_back(&shape, "arn:aws:s3:::ml-data"), None);
        let exact = pieces("[[VpcSubnets]]");
        assert_eq!(read_back(&exact, "subnet-1"), Some("subnet-1"));
        let ecr = pieces("arn:{{Partition}}:ecr:{{Region}}:{{AccountId}}:repository/[[Names]]");
        assert_eq!(
            read_back(&ecr, "arn:aws:ecr:us-east-1:123456789012:repository/ml"),
            Some("ml")
        );
    }
}
