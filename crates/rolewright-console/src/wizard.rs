//! The Create role wizard, in SageMaker Role Manager's four steps: role details (name suffix,
//! description, persona, network and encryption), ML activities preselected by the persona with
//! the parameters they need, additional managed policies and tags, and the review (every policy
//! document, the lint findings and the persona test) whose Submit creates the role through IAM's
//! own operations as the signed-in principal. Answers are kept in the session, so Back and the
//! step links keep what was entered.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Response, StatusCode, header};
use maud::{Markup, html};
use rolewright_catalog::{Customization, PERSONAS, RoleDefinition, RoleError, RoleSpec, emit};
use rolewright_lint::{LintType, Severity};
use rolewright_server::error::ApiError;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, Form, Problem, encode_query, error_summary, field_errors, problem};
use crate::roles::{all_roles, pretty};
use crate::session::{Signed, SignedForm, SignedIn};
use crate::xml;

/// The tag that records which activities a role was built from (shown on the role's page).
pub const ACTIVITIES_TAG: &str = "rolewright:activities";
/// The role name's prefix, as `rolewright role new` names roles.
const NAME_PREFIX: &str = "SageMaker-";
/// Tags a person may add: AWS's 50, less the activities tag.
const MAX_TAGS: usize = 49;
/// Managed policies per page of step 3.
const POLICY_PAGE: usize = 10;
/// The parameters step 1 asks for (network and encryption); step 2 asks for the others.
const STEP_ONE_LISTS: [(&str, &str, &str); 4] = [
    (
        "VpcSubnets",
        "VPC subnets",
        "Subnet ids, such as subnet-0123456789abcdef0, one a line.",
    ),
    (
        "VpcSecurityGroups",
        "VPC security groups",
        "Security group ids, such as sg-0123456789abcdef0, one a line.",
    ),
    (
        "DataKmsKeys",
        "Data encryption keys",
        "KMS key ARNs for data at rest, one a line.",
    ),
    (
        "VolumeKmsKeys",
        "Volume encryption keys",
        "KMS key ARNs for storage volumes, one a line.",
    ),
];

/// The wizard's steps: path segment and title.
const STEPS: [(&str, &str); 4] = [
    ("details", "Enter role details"),
    ("activities", "Configure ML activities"),
    ("policies", "Add additional policies & tags"),
    ("review", "Review role"),
];

/// What has been entered so far.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    name_suffix: String,
    description: String,
    persona: String,
    /// List parameters by placeholder (network, encryption and the activities').
    lists: BTreeMap<String, Vec<String>>,
    /// The chosen activities, once step 2 was saved for `activities_persona`.
    activities: Option<Vec<String>>,
    activities_persona: String,
    managed: Vec<String>,
    tags: Vec<(String, String)>,
    extra_tag_rows: usize,
    /// The existing role being edited (its whole name), when the draft is no new role's.
    role_name: Option<String>,
}

fn lines(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

impl Draft {
    /// The draft of an existing role: its name, description, activities, parameter values,
    /// tags (without the activities tag) and managed policies kept as they are. The persona is
    /// `custom`, so that only the activities named count.
    pub fn for_role(
        name: &str,
        description: &str,
        activities: Vec<String>,
        lists: BTreeMap<String, Vec<String>>,
        tags: Vec<(String, String)>,
        managed: Vec<String>,
    ) -> Draft {
        Draft {
            description: description.to_string(),
            persona: "custom".into(),
            lists,
            activities: Some(activities),
            activities_persona: "custom".into(),
            managed,
            tags: tags
                .into_iter()
                .filter(|(k, _)| k != ACTIVITIES_TAG)
                .collect(),
            role_name: Some(name.to_string()),
            ..Draft::default()
        }
    }

    fn customization(&self) -> Customization {
        let has = |p: &str| self.lists.get(p).is_some_and(|v| !v.is_empty());
        Customization {
            vpc: has("VpcSubnets") || has("VpcSecurityGroups"),
            kms: has("DataKmsKeys") || has("VolumeKmsKeys"),
        }
    }

    /// The activities chosen, or the persona's while step 2 has not been saved for it.
    pub fn chosen(&self, console: &Console) -> Vec<String> {
        match &self.activities {
            Some(list) if self.activities_persona == self.persona => list.clone(),
            _ => rolewright_catalog::persona(&self.persona)
                .map(|p| {
                    let (have, _) = console.catalog.persona_activities(p);
                    have.iter().map(|a| a.id.clone()).collect()
                })
                .unwrap_or_default(),
        }
    }

    fn spec(&self, console: &Console, account: &str) -> RoleSpec {
        let mut spec = RoleSpec::new(
            &self.persona,
            &self.name_suffix,
            account,
            &console.settings.region,
        );
        spec.name_prefix = NAME_PREFIX.into();
        if let Some(name) = &self.role_name {
            spec.name_prefix = String::new();
            spec.name_suffix.clone_from(name);
        }
        spec.description = Some(self.description.clone()).filter(|d| !d.is_empty());
        let persona: Vec<String> = rolewright_catalog::persona(&self.persona)
            .map(|p| p.activities.iter().map(|a| a.to_string()).collect())
            .unwrap_or_default();
        // The console's choice is explicit: every chosen activity is named, so that each one
        // needs its parameters (none is left out silently, as a persona's may be).
        let chosen = self.chosen(console);
        spec.remove_activities = persona
            .iter()
            .filter(|a| !chosen.contains(a) && console.catalog.activity(a).is_some())
            .cloned()
            .collect();
        spec.add_activities = chosen;
        spec.parameters = self
            .lists
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        spec.tags = self.tags.clone();
        spec.managed_policy_arns = self.managed.clone();
        spec
    }
}

fn step_index(step: &str) -> Option<usize> {
    STEPS.iter().position(|(s, _)| *s == step)
}

fn draft_of(console: &Console, signed: &Signed) -> Draft {
    console
        .sessions
        .with(&signed.token, |s| s.draft.clone())
        .unwrap_or_default()
}

fn keep(console: &Console, signed: &Signed, draft: Draft) {
    console.sessions.with(&signed.token, |s| s.draft = draft);
}

/// `GET /console/create-role`: the first step (what was entered before is kept).
pub async fn start() -> Response<Body> {
    page::redirect("/console/create-role/details")
}

/// `GET /console/create-role/{step}`.
pub async fn show(
    State(console): State<Arc<Console>>,
    Path(step): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let Some(index) = step_index(&step) else {
        return page::not_found().await;
    };
    let draft = draft_of(&console, &signed);
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    render(&console, &signed, &principal, &parts, index, &draft, &[]).await
}

/// `POST /console/create-role/{step}`: saves the step's answers, then goes where its button says
/// (next, back, another page of policies, one more tag row); `submit` creates the role and
/// `check` answers the as-you-type validation.
pub async fn save(
    State(console): State<Arc<Console>>,
    Path(step): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    match step.as_str() {
        "check" => return check_values(&form),
        "submit" => return submit(&console, &signed, &principal, &parts).await,
        "cancel" => {
            keep(&console, &signed, Draft::default());
            return page::redirect("/console/roles");
        }
        _ => {}
    }
    let Some(index) = step_index(&step) else {
        return page::not_found().await;
    };
    let mut draft = draft_of(&console, &signed);
    let go = form.get("go").unwrap_or("next").to_string();
    let mut target_query = String::new();
    match index {
        0 => save_details(&mut draft, &form),
        1 => save_activities(&console, &mut draft, &form),
        2 => {
            save_policies(&mut draft, &form);
            if go == "add_tag" {
                draft.extra_tag_rows += 1;
            }
            let q = form.get("q").unwrap_or("").trim();
            if !q.is_empty() {
                target_query = format!("?q={}", encode_query(q));
            }
            if let Some(n) = go.strip_prefix("page:") {
                target_query = format!(
                    "{}{}page={}",
                    target_query,
                    if target_query.is_empty() { "?" } else { "&" },
                    encode_query(n)
                );
            }
        }
        _ => {}
    }
    keep(&console, &signed, draft.clone());
    match go.as_str() {
        "back" if index > 0 => {
            page::redirect(&format!("/console/create-role/{}", STEPS[index - 1].0))
        }
        "next" => {
            let problems = validate(&console, &principal, index, &draft).await;
            if problems.is_empty() && index + 1 < STEPS.len() {
                page::redirect(&format!("/console/create-role/{}", STEPS[index + 1].0))
            } else {
                let mut r = render(
                    &console, &signed, &principal, &parts, index, &draft, &problems,
                )
                .await;
                if !problems.is_empty() {
                    *r.status_mut() = StatusCode::BAD_REQUEST;
                }
                r
            }
        }
        _ => page::redirect(&format!(
            "/console/create-role/{}{target_query}",
            STEPS[index].0
        )),
    }
}

fn save_details(draft: &mut Draft, form: &Form) {
    draft.name_suffix = form.get("name_suffix").unwrap_or("").trim().to_string();
    draft.description = form.get("description").unwrap_or("").trim().to_string();
    draft.persona = form.get("persona").unwrap_or("").to_string();
    for (placeholder, _, _) in STEP_ONE_LISTS {
        draft.lists.insert(
            placeholder.into(),
            lines(form.get(placeholder).unwrap_or("")),
        );
    }
}

pub fn save_activities(console: &Console, draft: &mut Draft, form: &Form) {
    let chosen: BTreeSet<&str> = form.all("activity").into_iter().collect();
    draft.activities = Some(
        console
            .catalog
            .activities()
            .iter()
            .filter(|a| chosen.contains(a.id.as_str()))
            .map(|a| a.id.clone())
            .collect(),
    );
    draft.activities_persona = draft.persona.clone();
    for placeholder in activity_placeholders(console) {
        if STEP_ONE_LISTS.iter().any(|(p, _, _)| *p == placeholder) {
            continue;
        }
        let mut values = lines(form.get(&placeholder).unwrap_or(""));
        for existing in form.all(&format!("{placeholder}_existing")) {
            if !values.iter().any(|v| v == existing) {
                values.push(existing.to_string());
            }
        }
        draft.lists.insert(placeholder, values);
    }
}

fn save_policies(draft: &mut Draft, form: &Form) {
    let shown: BTreeSet<&str> = form.all("shown").into_iter().collect();
    let checked: BTreeSet<&str> = form.all("policy").into_iter().collect();
    draft
        .managed
        .retain(|a| !shown.contains(a.as_str()) || checked.contains(a.as_str()));
    for arn in checked {
        if !draft.managed.iter().any(|a| a == arn) {
            draft.managed.push(arn.to_string());
        }
    }
    let mut tags = Vec::new();
    for i in 0..=MAX_TAGS {
        let key = form.get(&format!("tag_key_{i}")).unwrap_or("").trim();
        let value = form.get(&format!("tag_value_{i}")).unwrap_or("").trim();
        if form.get(&format!("tag_remove_{i}")).is_some() || (key.is_empty() && value.is_empty()) {
            continue;
        }
        tags.push((key.to_string(), value.to_string()));
    }
    if form.get("go").is_some_and(|g| g.starts_with("remove_tag:")) {
        let i: usize = form
            .get("go")
            .and_then(|g| g.strip_prefix("remove_tag:"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        let key = form.get(&format!("tag_key_{i}")).unwrap_or("").trim();
        if let Some(at) = tags.iter().position(|(k, _)| k == key) {
            tags.remove(at);
        }
    }
    tags.truncate(MAX_TAGS);
    draft.tags = tags;
    draft.extra_tag_rows = 0;
}

/// Every list placeholder any activity of the catalog uses, with or without customization.
fn activity_placeholders(console: &Console) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for a in console.catalog.activities() {
        for vpc in [false, true] {
            for kms in [false, true] {
                all.extend(a.list_placeholders(Customization { vpc, kms }));
            }
        }
    }
    all
}

fn field_id(placeholder: &str) -> String {
    placeholder.to_string()
}

/// The step's problems, each with its field.
pub async fn validate(
    console: &Console,
    principal: &Principal<'_>,
    index: usize,
    draft: &Draft,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    match index {
        0 => {
            if draft.name_suffix.is_empty() {
                problems.push(problem("name_suffix", "Enter a role name suffix"));
            } else {
                let name = format!("{NAME_PREFIX}{}", draft.name_suffix);
                if let Err(e) = rolewright_iam::size::check_role_name(&name) {
                    problems.push(problem("name_suffix", format!("Role name `{name}`: {e}")));
                } else if principal
                    .iam("GetRole", &[("RoleName", &name)])
                    .await
                    .is_ok()
                {
                    problems.push(problem(
                        "name_suffix",
                        format!("A role named {name} already exists: choose another suffix"),
                    ));
                }
            }
            if draft.description.chars().count() > 1000 {
                problems.push(problem(
                    "description",
                    "The description must be at most 1,000 characters",
                ));
            }
            if rolewright_catalog::persona(&draft.persona).is_none() {
                problems.push(problem("persona", "Choose a persona"));
            }
            for (placeholder, _, _) in STEP_ONE_LISTS {
                for value in draft.lists.get(placeholder).into_iter().flatten() {
                    if let Some(p) = rolewright_catalog::check_value(placeholder, value) {
                        problems.push(problem(placeholder, p));
                    }
                }
            }
            let c = draft.customization();
            let has = |p: &str| draft.lists.get(p).is_some_and(|v| !v.is_empty());
            if c.vpc && !has("VpcSubnets") {
                problems.push(problem(
                    "VpcSubnets",
                    "Enter the subnets too: VPC settings need both subnets and security groups",
                ));
            }
            if c.vpc && !has("VpcSecurityGroups") {
                problems.push(problem(
                    "VpcSecurityGroups",
                    "Enter the security groups too: VPC settings need both subnets and security groups",
                ));
            }
        }
        1 => {
            let chosen = draft.chosen(console);
            if chosen.is_empty() {
                problems.push(problem("activities", "Choose at least one ML activity"));
            }
            let c = draft.customization();
            let has = |p: &str| draft.lists.get(p).is_some_and(|v| !v.is_empty());
            for id in &chosen {
                let Some(a) = console.catalog.activity(id) else {
                    continue;
                };
                for placeholder in a.list_placeholders(c) {
                    if has(&placeholder) {
                        continue;
                    }
                    let what = rolewright_catalog::parameter(&placeholder)
                        .map_or(placeholder.as_str(), |p| p.what);
                    problems.push(problem(
                        &field_id(&placeholder),
                        format!("{} needs at least one {what}", a.name),
                    ));
                }
            }
            for placeholder in activity_placeholders(console) {
                if STEP_ONE_LISTS.iter().any(|(p, _, _)| *p == placeholder) {
                    continue;
                }
                for value in draft.lists.get(&placeholder).into_iter().flatten() {
                    if let Some(p) = rolewright_catalog::check_value(&placeholder, value) {
                        problems.push(problem(&field_id(&placeholder), p));
                    }
                }
            }
        }
        2 => {
            let mut seen = BTreeSet::new();
            for (i, (key, value)) in draft.tags.iter().enumerate() {
                let field = format!("tag_key_{i}");
                if key.is_empty() {
                    problems.push(problem(&field, "Enter a key for this tag, or remove it"));
                } else if key.chars().count() > 128 {
                    problems.push(problem(&field, "A tag key must be at most 128 characters"));
                } else if key.to_ascii_lowercase().starts_with("aws:") || key == ACTIVITIES_TAG {
                    problems.push(problem(&field, format!("The tag key `{key}` is reserved")));
                } else if !seen.insert(key.to_ascii_lowercase()) {
                    problems.push(problem(
                        &field,
                        format!("The tag key `{key}` is used twice"),
                    ));
                }
                if value.chars().count() > 256 {
                    problems.push(problem(
                        &format!("tag_value_{i}"),
                        "A tag value must be at most 256 characters",
                    ));
                }
            }
        }
        _ => {}
    }
    problems
}

fn steps_nav(index: usize) -> Markup {
    html! {
        nav aria-label="Create role steps" {
            ol.steps {
                @for (i, (slug, title)) in STEPS.iter().enumerate() {
                    li {
                        @if i == index { span aria-current="step" { "Step " (i + 1) ": " (title) } }
                        @else if i < index { a href={ "/console/create-role/" (slug) } { "Step " (i + 1) ": " (title) } }
                        @else { "Step " (i + 1) ": " (title) }
                    }
                }
            }
        }
    }
}

/// A textarea of values, one a line, with its hint, errors and live check.
pub fn list_field(
    id: &str,
    label: &str,
    hint: &str,
    values: &[String],
    problems: &[Problem],
) -> Markup {
    let errors = field_errors(problems, id);
    let described = format!("{id}-hint {id}-live");
    html! {
        div.field.invalid[!errors.is_empty()] {
            label for=(id) { (label) }
            span.hint id={ (id) "-hint" } { (hint) }
            @for e in &errors { span.field-error { "Error: " (e) } }
            textarea id=(id) name=(id) rows="3" spellcheck="false" data-check=(id) aria-describedby=(described) aria-invalid=[(!errors.is_empty()).then_some("true")] { (values.join("\n")) }
            span.field-error id={ (id) "-live" } aria-live="polite" {}
        }
    }
}

fn step_form(index: usize, signed: &Signed, content: Markup, can_submit: bool) -> Markup {
    let slug = STEPS[index].0;
    html! {
        form method="post" action={ "/console/create-role/" (slug) } novalidate {
            input type="hidden" name="csrf" value=(signed.csrf);
            (content)
            div.buttons {
                @if index + 1 < STEPS.len() { button type="submit" name="go" value="next" { "Next" } }
                @if index == STEPS.len() - 1 && can_submit {
                    button type="submit" formaction="/console/create-role/submit" { "Submit" }
                }
                @if index > 0 { button.secondary type="submit" name="go" value="back" { "Back" } }
                button.secondary type="submit" formaction="/console/create-role/cancel" { "Cancel" }
            }
        }
    }
}

async fn render(
    console: &Console,
    signed: &Signed,
    principal: &Principal<'_>,
    parts: &Parts,
    index: usize,
    draft: &Draft,
    problems: &[Problem],
) -> Response<Body> {
    let content = match index {
        0 => details(draft, problems),
        1 => activities(console, principal, draft, problems).await,
        2 => match policies(principal, parts, draft, problems).await {
            Ok(m) => m,
            Err(e) => return page::api_error(signed, &e),
        },
        _ => return review(console, signed, principal, draft, None),
    };
    let title = STEPS[index].1;
    let body = html! {
        p { a href="/console/roles" { "Roles" } " › Create role" }
        (steps_nav(index))
        h1 { (title) }
        (error_summary(problems))
        (step_form(index, signed, content, false))
    };
    page::html(StatusCode::OK, page::layout(title, Some(signed), body))
}

fn details(draft: &Draft, problems: &[Problem]) -> Markup {
    let name_errors = field_errors(problems, "name_suffix");
    let persona_errors = field_errors(problems, "persona");
    let description_errors = field_errors(problems, "description");
    html! {
        h2 { "Role details" }
        div.field.invalid[!name_errors.is_empty()] {
            label for="name_suffix" { "Role name suffix" }
            span.hint id="name_suffix-hint" { "The role is named " code { (NAME_PREFIX) "SUFFIX" } ": letters, digits and +=,.@_- only. It must be unique in the account." }
            @for e in &name_errors { span.field-error { "Error: " (e) } }
            input id="name_suffix" name="name_suffix" type="text" value=(draft.name_suffix) aria-describedby="name_suffix-hint" spellcheck="false" aria-invalid=[(!name_errors.is_empty()).then_some("true")];
        }
        div.field.invalid[!description_errors.is_empty()] {
            label for="description" { "Description (optional)" }
            @for e in &description_errors { span.field-error { "Error: " (e) } }
            textarea id="description" name="description" rows="2" { (draft.description) }
        }
        fieldset id="persona" aria-describedby="persona-hint" {
            legend { "Persona" }
            span.hint id="persona-hint" { "The persona preselects the ML activities of step 2; you can change them there." }
            @for e in &persona_errors { span.field-error { "Error: " (e) } }
            @for p in PERSONAS {
                div.check {
                    input id={ "persona-" (p.id) } type="radio" name="persona" value=(p.id) checked[draft.persona == p.id];
                    label for={ "persona-" (p.id) } {
                        strong { (p.name) }
                        @if let Some(of) = p.origin.variant_of() { " (current console's list, variant of " code { (of) } ")" }
                        ": " (p.description)
                    }
                }
            }
        }
        h2 { "Network setup (optional)" }
        p.hint { "Restrict the jobs and apps the role starts to your VPC. Give both subnets and security groups, or neither." }
        @for (placeholder, label, hint) in &STEP_ONE_LISTS[..2] {
            (list_field(placeholder, label, hint, draft.lists.get(*placeholder).map_or(&[][..], Vec::as_slice), problems))
        }
        h2 { "Encryption setup (optional)" }
        @for (placeholder, label, hint) in &STEP_ONE_LISTS[2..] {
            (list_field(placeholder, label, hint, draft.lists.get(*placeholder).map_or(&[][..], Vec::as_slice), problems))
        }
    }
}

pub async fn activities(
    console: &Console,
    principal: &Principal<'_>,
    draft: &Draft,
    problems: &[Problem],
) -> Markup {
    let chosen = draft.chosen(console);
    let c = draft.customization();
    let activity_errors = field_errors(problems, "activities");
    // Which activities use each parameter, for the labels.
    let mut users: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for a in console.catalog.activities() {
        for p in a.list_placeholders(c) {
            users.entry(p).or_default().push(a.name.as_str());
        }
    }
    let existing_roles: Vec<String> = match all_roles(principal).await {
        Ok(roles) => roles.into_iter().map(|(_, arn, _)| arn).take(200).collect(),
        Err(_) => Vec::new(),
    };
    let persona_name = rolewright_catalog::persona(&draft.persona).map_or("", |p| p.name);
    html! {
        fieldset id="activities" {
            legend { "ML activities" }
            @if draft.role_name.is_some() {
                span.hint { "Preselected from the activities the role was built from. Add or remove activities to fit what the role's users do." }
            } @else {
                span.hint { "Preselected for the " (persona_name) " persona. Add or remove activities to fit what the role's users do." }
            }
            @for e in &activity_errors { span.field-error { "Error: " (e) } }
            @for a in console.catalog.activities() {
                div.check {
                    input id={ "activity-" (a.id) } type="checkbox" name="activity" value=(a.id) checked[chosen.contains(&a.id)];
                    label for={ "activity-" (a.id) } {
                        strong { (a.name) } ": " (a.description)
                        @let needs: Vec<&str> = a.list_placeholders(c).iter()
                            .filter(|p| !STEP_ONE_LISTS.iter().any(|(s, _, _)| s == *p))
                            .filter_map(|p| rolewright_catalog::parameter(p).map(|p| p.what)).collect();
                        @if !needs.is_empty() { " " span.hint { "Needs: " (needs.join(", ")) "." } }
                    }
                }
            }
        }
        h2 { "Parameters of the activities" }
        p.hint { "Fill in what the activities you chose need; the others are ignored. Enter one value a line." }
        @for param in rolewright_catalog::PARAMETERS {
            @if !STEP_ONE_LISTS.iter().any(|(p, _, _)| *p == param.placeholder) {
                @if let Some(by) = users.get(param.placeholder) {
                    @let values = draft.lists.get(param.placeholder).cloned().unwrap_or_default();
                    @if param.placeholder == "PassRoles" && !existing_roles.is_empty() {
                        fieldset {
                            legend { "Roles to pass, from this account" }
                            span.hint { "Used by " (by.join(", ")) ". Choose the service roles the role's users may pass to SageMaker, such as a SageMaker Compute role." }
                            @for (i, arn) in existing_roles.iter().enumerate() {
                                div.check {
                                    input id={ "PassRoles_existing-" (i) } type="checkbox" name="PassRoles_existing" value=(arn) checked[values.contains(arn)];
                                    label for={ "PassRoles_existing-" (i) } { code { (arn) } }
                                }
                            }
                        }
                        @let others: Vec<String> = values.iter().filter(|v| !existing_roles.contains(v)).cloned().collect();
                        (list_field(param.placeholder, "Other roles to pass (ARNs)", "Role ARNs not listed above, one a line.", &others, problems))
                    } @else {
                        (list_field(param.placeholder, &format!("{}s", capitalize(param.what)), &format!("Used by {}.", by.join(", ")), &values, problems))
                    }
                }
            }
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every managed policy the principal may list (`ListPolicies`, all pages).
async fn all_policies(principal: &Principal<'_>) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = vec![("MaxItems", "1000")];
        if let Some(m) = &marker {
            pairs.push(("Marker", m.as_str()));
        }
        let answer = principal.iam("ListPolicies", &pairs).await?;
        for m in xml::members(&answer, "Policies") {
            out.push((
                xml::text(m, "PolicyName").unwrap_or_default(),
                xml::text(m, "Arn").unwrap_or_default(),
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
    out.sort();
    Ok(out)
}

async fn policies(
    principal: &Principal<'_>,
    parts: &Parts,
    draft: &Draft,
    problems: &[Problem],
) -> Result<Markup, ApiError> {
    let query = page::query(parts);
    let search = query.get("q").unwrap_or("").trim().to_string();
    let needle = search.to_lowercase();
    let all = all_policies(principal).await?;
    let matching: Vec<&(String, String)> = all
        .iter()
        .filter(|(name, arn)| {
            needle.is_empty()
                || name.to_lowercase().contains(&needle)
                || arn.to_lowercase().contains(&needle)
        })
        .collect();
    let pages = matching.len().div_ceil(POLICY_PAGE).max(1);
    let current = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let shown: Vec<&(String, String)> = matching
        .iter()
        .skip((current - 1) * POLICY_PAGE)
        .take(POLICY_PAGE)
        .copied()
        .collect();
    let rows = draft.tags.len()
        + draft.extra_tag_rows
        + usize::from(draft.tags.is_empty() && draft.extra_tag_rows == 0);
    let rows = rows.min(MAX_TAGS);
    let page_numbers: Vec<usize> = (1..=pages)
        .filter(|n| *n <= 2 || n.abs_diff(current) <= 2 || *n + 1 >= pages)
        .collect();
    Ok(html! {
        h2 { "Policies (" (draft.managed.len()) " selected)" }
        p.hint { "AWS managed and customer managed policies to attach besides the activities' policies." }
        @if !draft.managed.is_empty() {
            ul { @for arn in &draft.managed { li { code { (arn) } } } }
        }
        div.field {
            label for="q" { "Search policies" }
            input id="q" name="q" type="search" value=(search);
        }
        button.secondary type="submit" name="go" value="search" { "Search" }
        @if shown.is_empty() {
            p { "No policy matches " strong { (search) } "." }
        } @else {
            table {
                caption { (matching.len()) " policies, page " (current) " of " (pages) }
                thead { tr { th scope="col" { span.visually-hidden { "Select" } } th scope="col" { "Name" } th scope="col" { "ARN" } } }
                tbody {
                    @for (i, (name, arn)) in shown.iter().enumerate() {
                        tr {
                            td {
                                input type="hidden" name="shown" value=(arn);
                                input id={ "policy-" (i) } type="checkbox" name="policy" value=(arn) checked[draft.managed.contains(arn)] aria-label={ "Attach " (name) };
                            }
                            td { label for={ "policy-" (i) } { (name) } }
                            td { code { (arn) } }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages of policies" {
                    ul {
                        @if current > 1 { li { button.secondary type="submit" name="go" value={ "page:" (current - 1) } { "Previous" } } }
                        @for n in &page_numbers {
                            li {
                                @if *n == current { span aria-current="page" { "Page " (n) } }
                                @else { button.secondary type="submit" name="go" value={ "page:" (n) } aria-label={ "Page " (n) } { (n) } }
                            }
                        }
                        @if current < pages { li { button.secondary type="submit" name="go" value={ "page:" (current + 1) } { "Next page" } } }
                    }
                }
            }
        }
        h2 { "Tags" }
        p.hint { "Tags help you find and organize roles (a project, a cost centre). You can add up to " (MAX_TAGS.saturating_sub(draft.tags.len())) " more tags." }
        @for i in 0..rows {
            @let (key, value) = draft.tags.get(i).cloned().unwrap_or_default();
            @let key_errors = field_errors(problems, &format!("tag_key_{i}"));
            @let value_errors = field_errors(problems, &format!("tag_value_{i}"));
            fieldset {
                legend { "Tag " (i + 1) }
                div.field.invalid[!key_errors.is_empty()] {
                    label for={ "tag_key_" (i) } { "Key" }
                    @for e in &key_errors { span.field-error { "Error: " (e) } }
                    input id={ "tag_key_" (i) } name={ "tag_key_" (i) } type="text" value=(key);
                }
                div.field.invalid[!value_errors.is_empty()] {
                    label for={ "tag_value_" (i) } { "Value (optional)" }
                    @for e in &value_errors { span.field-error { "Error: " (e) } }
                    input id={ "tag_value_" (i) } name={ "tag_value_" (i) } type="text" value=(value);
                }
                button.secondary type="submit" name="go" value={ "remove_tag:" (i) } { "Remove tag " (i + 1) }
            }
        }
        @if rows < MAX_TAGS {
            button.secondary type="submit" name="go" value="add_tag" { "Add new tag" }
        }
    })
}

/// The role the draft describes, built by the catalog with the activities tag added.
pub fn build(console: &Console, account: &str, draft: &Draft) -> Result<RoleDefinition, RoleError> {
    let spec = draft.spec(console, account);
    let mut role = console.catalog.build(&spec)?;
    let value = role.activities.join(" ");
    if !value.is_empty() && value.len() <= 256 {
        role.tags.push((ACTIVITIES_TAG.into(), value));
    }
    Ok(role)
}

/// The findings that stop a role from being created: the linter's errors and security
/// warnings, and persona test rows that do not hold.
pub struct Checks {
    findings: Vec<(String, rolewright_lint::Finding)>,
    tests: Result<Vec<rolewright_catalog::check::TestRow>, String>,
}

impl Checks {
    pub fn of(role: &RoleDefinition, account: &str) -> Checks {
        let mut findings = Vec::new();
        for policy in role.inline_policies.iter().chain(&role.managed_policies) {
            for f in rolewright_lint::lint(
                &policy.document.to_string(),
                LintType::Type(rolewright_iam::PolicyType::Identity),
                rolewright_reference::Reference::embedded(),
            ) {
                findings.push((policy.name.clone(), f));
            }
        }
        let tests = rolewright_catalog::check::RolePolicies::from_json(&role.to_json())
            .and_then(|r| rolewright_catalog::check::persona_test(&r, account));
        Checks { findings, tests }
    }

    pub fn blocking(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .findings
            .iter()
            .filter(|(_, f)| matches!(f.severity, Severity::Error | Severity::SecurityWarning))
            .map(|(p, f)| {
                format!(
                    "policy {p}: {} [{}] at {}: {}",
                    f.severity, f.code, f.path, f.message
                )
            })
            .collect();
        match &self.tests {
            Ok(rows) => out.extend(rows.iter().filter(|r| !r.holds()).map(|r| {
                format!(
                    "persona test: {} ({} on {}): expected {}, got {}",
                    r.check, r.action, r.resource, r.expected, r.actual
                )
            })),
            Err(e) => out.push(format!("persona test: {e}")),
        }
        out
    }
}

fn review(
    console: &Console,
    signed: &Signed,
    principal: &Principal<'_>,
    draft: &Draft,
    failure: Option<&ApiError>,
) -> Response<Body> {
    let index = STEPS.len() - 1;
    let account = principal.account().to_string();
    let built = build(console, &account, draft);
    let content = match &built {
        Err(e) => {
            let problems = match e {
                RoleError::Invalid(list) => list.clone(),
                RoleError::TooLarge(t) => vec![t.clone()],
            };
            html! {
                div.error-summary role="alert" tabindex="-1" {
                    h2 { "The role cannot be built yet" }
                    ul { @for p in &problems { li { (p) } } }
                    p { "Go back to fix it: " a href="/console/create-role/details" { "role details" } ", " a href="/console/create-role/activities" { "ML activities" } "." }
                }
            }
        }
        Ok(role) => review_content(role, &Checks::of(role, &account), draft, failure, &account),
    };
    let can_submit = built
        .as_ref()
        .is_ok_and(|role| Checks::of(role, &account).blocking().is_empty());
    let body = html! {
        p { a href="/console/roles" { "Roles" } " › Create role" }
        (steps_nav(index))
        h1 { (STEPS[index].1) }
        (step_form(index, signed, content, can_submit))
    };
    let status = if failure.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page::html(status, page::layout(STEPS[index].1, Some(signed), body))
}

fn review_content(
    role: &RoleDefinition,
    checks: &Checks,
    draft: &Draft,
    failure: Option<&ApiError>,
    account: &str,
) -> Markup {
    let blocking = checks.blocking();
    let persona = rolewright_catalog::persona(&draft.persona).map_or("", |p| p.name);
    let cloudformation = emit::cloudformation_json(role);
    let terraform = emit::terraform(role);
    let cli = emit::aws_cli(role, "aws", account);
    html! {
        @if let Some(e) = failure {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "The role was not created" }
                p { strong { (e.code) } ": " span.aws-message { (e.message) } }
            }
        }
        @if !blocking.is_empty() {
            div.error-summary role="alert" {
                h2 { "This role cannot be submitted" }
                ul { @for b in &blocking { li { (b) } } }
            }
        }
        @if !role.warnings.is_empty() {
            div.warnings {
                h2 { "Warnings" }
                ul { @for w in &role.warnings { li { (w) } } }
            }
        }
        h2 { "Role" }
        dl.summary {
            dt { "Role name" } dd { code id="review-role-name" { (role.name) } }
            dt { "Description" } dd { (role.description) }
            dt { "Persona" } dd { (persona) }
            dt { "ML activities" } dd { (role.activities.join(", ")) }
            dt { "Managed policies attached" } dd {
                @if role.attached_policy_arns.is_empty() { "None" }
                @else { ul { @for a in &role.attached_policy_arns { li { code { (a) } } } } }
            }
            dt { "Tags" } dd {
                @if role.tags.is_empty() { "None" }
                @else { ul { @for (k, v) in &role.tags { li { code { (k) } " = " code { (v) } } } } }
            }
        }
        h2 { "Trust policy" }
        pre tabindex="0" aria-label="Trust policy document" { (pretty(&role.trust_policy.to_string())) }
        h2 { "Policy documents" }
        @for p in &role.inline_policies {
            h3 { "Inline policy " code { (p.name) } }
            pre tabindex="0" aria-label={ "Policy " (p.name) } { (pretty(&p.document.to_string())) }
        }
        @for p in &role.managed_policies {
            h3 { "Customer managed policy " code { (p.name) } " (created and attached)" }
            pre tabindex="0" aria-label={ "Policy " (p.name) } { (pretty(&p.document.to_string())) }
        }
        h2 { "Lint findings" }
        @if checks.findings.is_empty() {
            p.pass { "No findings: the linter found nothing to report in the role's policies." }
        } @else {
            table {
                thead { tr { th scope="col" { "Policy" } th scope="col" { "Severity" } th scope="col" { "Code" } th scope="col" { "Where" } th scope="col" { "Finding" } } }
                tbody {
                    @for (policy, f) in &checks.findings {
                        tr {
                            td { code { (policy) } }
                            td { (f.severity) }
                            td { code { (f.code) } }
                            td { code { (f.path) } }
                            td { (f.message) @if let Some(h) = &f.help { " " span.hint { (h) } } }
                        }
                    }
                }
            }
        }
        h2 { "Persona test" }
        p.hint { "Representative requests, decided by the policy engine against the role's policies." }
        @match &checks.tests {
            Err(e) => { p.fail { "The persona test could not run: " (e) } }
            Ok(rows) => {
                table id="persona-test" {
                    thead { tr { th scope="col" { "Check" } th scope="col" { "Action" } th scope="col" { "Resource" } th scope="col" { "Expected" } th scope="col" { "Decision" } th scope="col" { "Result" } } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { (r.check) }
                                td { code { (r.action) } }
                                td { code { (r.resource) } }
                                td { (r.expected) }
                                td { (r.actual) }
                                td { @if r.holds() { span.pass { "Pass" } } @else { span.fail { "Fail" } } }
                            }
                        }
                    }
                }
            }
        }
        h2 { "The same role as code" }
        p {
            "Download: "
            a href="/console/create-role/export/role.cloudformation.json" download { "CloudFormation (JSON)" } ", "
            a href="/console/create-role/export/role.cloudformation.yaml" download { "CloudFormation (YAML)" } ", "
            a href="/console/create-role/export/role.tf" download { "Terraform" } ", "
            a href="/console/create-role/export/role.sh" download { "AWS CLI script" } "."
        }
        details { summary { "CloudFormation (JSON)" } pre tabindex="0" { (cloudformation) } }
        details { summary { "Terraform" } pre tabindex="0" { (terraform) } }
        details { summary { "AWS CLI script" } pre tabindex="0" { (cli) } }
    }
}

/// `POST /console/create-role/check`: the catalog's messages for values as they are typed.
fn check_values(form: &Form) -> Response<Body> {
    let placeholder = form.get("placeholder").unwrap_or("");
    let problems: Vec<String> = if rolewright_catalog::parameter(placeholder).is_some() {
        lines(form.get("values").unwrap_or(""))
            .iter()
            .filter_map(|v| rolewright_catalog::check_value(placeholder, v))
            .collect()
    } else {
        Vec::new()
    };
    let mut r = Response::new(Body::from(serde_json::Value::from(problems).to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `POST /console/create-role/submit`: creates the role as the principal: `CreateRole`, then
/// `PutRolePolicy` for each inline policy, `CreatePolicy` and `AttachRolePolicy` for each
/// customer managed one, and `AttachRolePolicy` for each managed policy ARN.
async fn submit(
    console: &Console,
    signed: &Signed,
    principal: &Principal<'_>,
    parts: &Parts,
) -> Response<Body> {
    let _ = parts;
    let draft = draft_of(console, signed);
    let account = principal.account().to_string();
    let Ok(role) = build(console, &account, &draft) else {
        return review(console, signed, principal, &draft, None);
    };
    if !Checks::of(&role, &account).blocking().is_empty() {
        return review(console, signed, principal, &draft, None);
    }
    let trust = role.trust_policy.to_string();
    let mut create: Vec<(String, String)> = vec![
        ("RoleName".into(), role.name.clone()),
        ("AssumeRolePolicyDocument".into(), trust),
    ];
    if !role.description.is_empty() {
        create.push(("Description".into(), role.description.clone()));
    }
    if let Some(b) = &role.permissions_boundary {
        create.push(("PermissionsBoundary".into(), b.clone()));
    }
    for (i, (k, v)) in role.tags.iter().enumerate() {
        create.push((format!("Tags.member.{}.Key", i + 1), k.clone()));
        create.push((format!("Tags.member.{}.Value", i + 1), v.clone()));
    }
    let pairs: Vec<(&str, &str)> = create
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Err(e) = principal.iam("CreateRole", &pairs).await {
        return review(console, signed, principal, &draft, Some(&e));
    }
    let name = role.name.as_str();
    let mut steps: Vec<Result<(), ApiError>> = Vec::new();
    for p in &role.inline_policies {
        let document = p.document.to_string();
        steps.push(
            principal
                .iam(
                    "PutRolePolicy",
                    &[
                        ("RoleName", name),
                        ("PolicyName", &p.name),
                        ("PolicyDocument", &document),
                    ],
                )
                .await
                .map(|_| ()),
        );
    }
    for p in &role.managed_policies {
        let document = p.document.to_string();
        let created = principal
            .iam(
                "CreatePolicy",
                &[("PolicyName", &p.name), ("PolicyDocument", &document)],
            )
            .await;
        steps.push(match created {
            Ok(answer) => {
                let arn = xml::text(&answer, "Arn").unwrap_or_default();
                principal
                    .iam(
                        "AttachRolePolicy",
                        &[("RoleName", name), ("PolicyArn", &arn)],
                    )
                    .await
                    .map(|_| ())
            }
            Err(e) => Err(e),
        });
    }
    for arn in &role.attached_policy_arns {
        steps.push(
            principal
                .iam(
                    "AttachRolePolicy",
                    &[("RoleName", name), ("PolicyArn", arn)],
                )
                .await
                .map(|_| ()),
        );
    }
    let failures: Vec<ApiError> = steps.into_iter().filter_map(Result::err).collect();
    if !failures.is_empty() {
        let body = html! {
            div.error-summary role="alert" tabindex="-1" {
                h1 { "The role was created, but not all of its policies" }
                ul { @for e in &failures { li { strong { (e.code) } ": " span.aws-message { (e.message) } } } }
            }
            p { "The role " a href={ "/console/roles/" (encode_query(name)) } { (name) } " exists with the policies that could be added. Ask for the permissions named above, then add the rest, or delete the role and start again." }
        };
        return page::html(
            StatusCode::FORBIDDEN,
            page::layout("Role partly created", Some(signed), body),
        );
    }
    keep(console, signed, Draft::default());
    page::redirect(&format!("/console/roles?created={}", encode_query(name)))
}

/// `GET /console/create-role/export/{file}`: the role being built as a file to download
/// (`role.cloudformation.json`, `role.cloudformation.yaml`, `role.tf`, `role.sh`).
pub async fn export(
    State(console): State<Arc<Console>>,
    Path(file): Path<String>,
    SignedIn { signed, .. }: SignedIn,
) -> Response<Body> {
    let draft = draft_of(&console, &signed);
    let account = signed.caller.account.clone();
    let role = match build(&console, &account, &draft) {
        Ok(role) => role,
        Err(e) => {
            return page::error_page(
                StatusCode::CONFLICT,
                "The role cannot be built yet",
                &e.to_string(),
            );
        }
    };
    let (text, content_type) = match file.as_str() {
        "role.cloudformation.json" => (emit::cloudformation_json(&role), "application/json"),
        "role.cloudformation.yaml" => (emit::cloudformation_yaml(&role), "application/yaml"),
        "role.tf" => (emit::terraform(&role), "text/plain; charset=utf-8"),
        "role.sh" => (emit::aws_cli(&role, "aws", &account), "text/x-shellscript"),
        _ => return page::not_found().await,
    };
    let mut r = Response::new(Body::from(text));
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.{}\"",
        role.name,
        file.trim_start_matches("role.")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
