//! The policy simulator: a principal of the account (its policies as the control plane holds
//! them, authorized as `iam:SimulatePrincipalPolicy` on it) or pasted policies (identity,
//! permissions boundary, session, resource, SCP; authorized as `iam:SimulateCustomPolicy`), an
//! action completed from the service authorization data, a resource and condition keys. The
//! request is built by [`rolewright_iam::simulation`], as `rolewright simulate` builds it, and
//! decided by the engine; the page shows the decision, AWS's reason text, and each document
//! with its deciding statements highlighted. The form is posted (with the session's token),
//! kept in the session and shown again by the `GET` it redirects to.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use maud::{Markup, html};
use rolewright_iam::simulation::{SimulatedRequest, describe};
use rolewright_iam::{
    CompiledPolicy, Decision, Effect, MatchedStatement, PolicySet, PolicyType, parse_policy,
};
use rolewright_reference::Reference;
use rolewright_server::error::ApiError;
use serde_json::Value;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, Form, Problem, error_summary, field_errors, problem, text_field};
use crate::roles::{all_roles, pretty};
use crate::session::{Signed, SignedIn};
use crate::xml;

/// The pasted policies: form field, label, policy type, the name the decision gives it.
const PASTED: [(&str, &str, PolicyType, &str); 5] = [
    (
        "identity_policy",
        "Identity-based policy",
        PolicyType::Identity,
        "identity policy",
    ),
    (
        "boundary_policy",
        "Permissions boundary",
        PolicyType::Boundary,
        "permissions boundary",
    ),
    (
        "session_policy",
        "Session policy",
        PolicyType::Session,
        "session policy",
    ),
    (
        "resource_policy",
        "Resource-based policy",
        PolicyType::Resource,
        "resource policy",
    ),
    (
        "scp_policy",
        "Service control policy (SCP)",
        PolicyType::ServiceControl,
        "SCP",
    ),
];

/// One document shown beside the decision: the name the engine knows it by, a title, and its
/// text or why it may not be read.
struct Document {
    name: String,
    title: String,
    text: Result<String, ApiError>,
}

/// `GET /console/simulator/actions?service=`: the service's actions, one a line, for the
/// action field's completion.
pub async fn actions(State(console): State<Arc<Console>>, request: Request) -> Response<Body> {
    let (parts, _) = request.into_parts();
    if let Err(page) = console.signed_in(&parts) {
        return page;
    }
    let query = page::query(&parts);
    let prefix = query.get("service").unwrap_or("").to_ascii_lowercase();
    let text = match Reference::embedded().service(&prefix) {
        Some(service) => service
            .actions()
            .map(|a| a.full_name())
            .collect::<Vec<_>>()
            .join("\n"),
        None => String::new(),
    };
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The completions offered for the action typed so far: the service's actions once its prefix
/// is typed, else the services.
pub fn completions(action: &str) -> Vec<String> {
    let reference = Reference::embedded();
    match action
        .split_once(':')
        .and_then(|(p, _)| reference.service(&p.to_ascii_lowercase()))
    {
        Some(service) => service.actions().map(|a| a.full_name()).collect(),
        None => reference
            .services()
            .iter()
            .map(|s| format!("{}:", s.prefix()))
            .collect(),
    }
}

/// Every user and role the principal may list, as (ARN, label).
async fn principals_of_account(
    principal: &Principal<'_>,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String)> = all_roles(principal)
        .await?
        .into_iter()
        .map(|(name, arn, _)| (arn, format!("role {name}")))
        .collect();
    let users = principal.iam("ListUsers", &[("MaxItems", "1000")]).await?;
    for member in xml::members(&users, "Users") {
        out.push((
            xml::text(member, "Arn").unwrap_or_default(),
            format!("user {}", xml::text(member, "UserName").unwrap_or_default()),
        ));
    }
    Ok(out)
}

fn form_page(
    signed: &Signed,
    form: &Form,
    choices: &Result<Vec<(String, String)>, ApiError>,
    problems: &[Problem],
    result: Option<Markup>,
) -> Markup {
    let value = |k: &str| form.get(k).unwrap_or("").to_string();
    let custom = form.get("mode") == Some("custom");
    let chosen = value("principal_arn");
    let principal_errors = field_errors(problems, "principal_arn");
    let context_errors = field_errors(problems, "context");
    html! {
        h1 { "Policy simulator" }
        p { "Decide one request with the policy engine that authorizes every call here: as a principal of this account with its own policies (" code { "iam:SimulatePrincipalPolicy" } " on it), or with policies you paste (" code { "iam:SimulateCustomPolicy" } ")." }
        (error_summary(problems))
        @if let Some(result) = result { (result) }
        form method="post" action="/console/simulator" novalidate {
            input type="hidden" name="csrf" value=(signed.csrf);
            fieldset {
                legend { "Whose policies" }
                div.check {
                    input id="mode_principal" type="radio" name="mode" value="principal" checked[!custom];
                    label for="mode_principal" { strong { "A principal of this account" } ": its identity policies, its groups' and its permissions boundary." }
                }
                div.check {
                    input id="mode_custom" type="radio" name="mode" value="custom" checked[custom];
                    label for="mode_custom" { strong { "Policies I paste" } ": any of the documents below." }
                }
            }
            div.field.invalid[!principal_errors.is_empty()] {
                label for="principal_arn" { "Principal (for a principal of this account)" }
                @if !principal_errors.is_empty() { span.field-error id="principal_arn-error" { @for e in &principal_errors { (e) " " } } }
                @match choices {
                    Ok(list) => {
                        select id="principal_arn" name="principal_arn" {
                            option value="" selected[chosen.is_empty()] { "Choose a user or role" }
                            @for (arn, label) in list { option value=(arn) selected[*arn == chosen] { (label) } }
                        }
                    }
                    Err(e) => {
                        span.hint { "The principals cannot be listed (" (e.code) ": " (e.message) "); type an ARN." }
                        input id="principal_arn" name="principal_arn" type="text" value=(chosen) spellcheck="false";
                    }
                }
            }
            (text_field("caller_arn", "Caller ARN (for pasted policies)", Some("Who makes the request; default a user of this account named simulated."), &value("caller_arn"), problems, "text"))
            details open[custom || PASTED.iter().any(|(f, ..)| !value(f).is_empty())] {
                summary { "Policies to paste" }
                @for (field, label, _, _) in PASTED {
                    @let errors = field_errors(problems, field);
                    div.field.invalid[!errors.is_empty()] {
                        label for=(field) { (label) " (optional)" }
                        @if field == "resource_policy" { span.hint { "Also used with a principal of this account: the policy of the resource acted on." } }
                        @if !errors.is_empty() { span.field-error id={ (field) "-error" } { @for e in &errors { (e) " " } } }
                        textarea id=(field) name=(field) rows="6" spellcheck="false" { (value(field)) }
                    }
                }
            }
            div.field.invalid[!field_errors(problems, "action").is_empty()] {
                label for="action" { "Action" }
                span.hint id="action-hint" { "service:Action, such as s3:GetObject; type the service's prefix and a colon for its actions." }
                @for e in field_errors(problems, "action") { span.field-error { (e) } }
                input id="action" name="action" type="text" list="action-list" value=(value("action")) aria-describedby="action-hint" spellcheck="false" autocomplete="off" data-actions="/console/simulator/actions";
                datalist id="action-list" { @for a in completions(&value("action")) { option value=(a) {} } }
            }
            (text_field("resource", "Resource", Some("An ARN; * for actions without resource types."), &value("resource"), problems, "text"))
            div.field.invalid[!context_errors.is_empty()] {
                label for="context" { "Condition keys (optional)" }
                span.hint id="context-hint" { "KEY=VALUE, one a line, such as aws:SourceIp=10.0.0.1; repeat a key, or write KEY=[\"a\",\"b\"], for several values." }
                @if !context_errors.is_empty() { span.field-error id="context-error" { @for e in &context_errors { (e) " " } } }
                textarea id="context" name="context" rows="3" aria-describedby="context-hint" spellcheck="false" { (value("context")) }
            }
            div.buttons { button type="submit" { "Simulate" } }
        }
    }
}

/// `GET /console/simulator`: the form, and the last simulation of this session decided again.
pub async fn show(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let choices = principals_of_account(&principal).await;
    let asked = console
        .sessions
        .with(&signed.token, |s| s.simulation.clone())
        .flatten();
    let (form, problems, result, status) = match asked {
        None => (Form::default(), Vec::new(), None, StatusCode::OK),
        Some(form) => match simulate(&console, &principal, &form).await {
            Ok(result) => (form, Vec::new(), Some(result), StatusCode::OK),
            Err(Refusal::Problems(problems)) => (form, problems, None, StatusCode::BAD_REQUEST),
            Err(Refusal::Api(e)) => return page::api_error(&signed, &e),
        },
    };
    let body = form_page(&signed, &form, &choices, &problems, result);
    page::html(
        status,
        page::layout("Policy simulator", Some(&signed), body),
    )
}

/// `POST /console/simulator`: keeps the form in the session, then shows it decided.
pub async fn ask(State(console): State<Arc<Console>>, request: Request) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let (signed, form) = match console.signed_form(&parts, body).await {
        Ok(ok) => ok,
        Err(refused) => return refused,
    };
    let kept = Form(form.0.into_iter().filter(|(k, _)| k != "csrf").collect());
    console
        .sessions
        .with(&signed.token, |s| s.simulation = Some(kept));
    page::redirect("/console/simulator#result")
}

/// Why a simulation was not run.
enum Refusal {
    Problems(Vec<Problem>),
    Api(ApiError),
}

/// Reads, authorizes and decides the form's request.
async fn simulate(
    console: &Console,
    principal: &Principal<'_>,
    form: &Form,
) -> Result<Markup, Refusal> {
    let custom = form.get("mode") == Some("custom");
    let mut problems = Vec::new();
    let mut set = PolicySet::new();
    let mut documents = Vec::new();
    let account = principal.account().to_string();
    for (field, label, policy_type, name) in PASTED {
        let text = form.get(field).unwrap_or("").trim();
        if text.is_empty() || (!custom && field != "resource_policy") {
            continue;
        }
        let outcome = parse_policy(text, policy_type);
        let Some(doc) = outcome.document else {
            for d in outcome.diagnostics.iter().filter(|d| d.is_error()) {
                problems.push(problem(field, format!("{label}: {d}")));
            }
            continue;
        };
        let compiled = CompiledPolicy::new(&doc).with_name(name);
        set = match policy_type {
            PolicyType::Identity => set.with_identity(compiled),
            PolicyType::Boundary => set.with_boundary(compiled),
            PolicyType::Session => set.with_session(compiled),
            PolicyType::Resource => set.with_resource(compiled),
            _ => set.with_scp_level(vec![compiled]),
        };
        documents.push(Document {
            name: name.to_string(),
            title: label.to_string(),
            text: Ok(text.to_string()),
        });
    }
    let caller = if custom {
        match form
            .get("caller_arn")
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => c.to_string(),
            None => format!("arn:aws:iam::{account}:user/simulated"),
        }
    } else {
        let arn = form.get("principal_arn").unwrap_or("").trim().to_string();
        if arn.is_empty() {
            problems.push(problem("principal_arn", "Choose the principal to simulate"));
        }
        arn
    };
    if custom && documents.is_empty() && problems.is_empty() {
        problems.push(problem(
            "identity_policy",
            "Paste at least one policy to simulate",
        ));
    }
    let action = form.get("action").unwrap_or("").trim().to_string();
    if action.is_empty() {
        problems.push(problem("action", "Enter the action, such as s3:GetObject"));
    }
    let simulated = SimulatedRequest {
        principal: caller.clone(),
        action,
        resource: form.get("resource").unwrap_or("*").to_string(),
        context: form
            .get("context")
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        ..SimulatedRequest::default()
    };
    let request = match simulated.build(Reference::embedded()) {
        Ok(r) => Some(r),
        Err(e) => {
            let field = match e {
                rolewright_iam::simulation::SimulationError::Principal(_) if custom => "caller_arn",
                rolewright_iam::simulation::SimulationError::Principal(_) => "principal_arn",
                rolewright_iam::simulation::SimulationError::Action(_) => "action",
                _ => "context",
            };
            if !problems.iter().any(|p| p.field == field) {
                problems.push(problem(field, e.to_string()));
            }
            None
        }
    };
    let Some(request) = request.filter(|_| problems.is_empty()) else {
        return Err(Refusal::Problems(problems));
    };
    if custom {
        principal
            .authorize("iam:SimulateCustomPolicy", "*")
            .map_err(Refusal::Api)?;
    } else {
        principal
            .authorize("iam:SimulatePrincipalPolicy", &caller)
            .map_err(Refusal::Api)?;
        let own = {
            let state = console.app.store.read();
            let (kind, name) = holder(&caller).ok_or_else(|| {
                Refusal::Problems(vec![problem(
                    "principal_arn",
                    format!("`{caller}` is not a user or role of this account"),
                )])
            })?;
            let set = match kind {
                "role" => state
                    .role(name)
                    .map(|r| console.app.cache.role_set(&state, r)),
                _ => state
                    .user(name)
                    .map(|u| console.app.cache.user_set(&state, u)),
            };
            set.ok_or_else(|| {
                Refusal::Api(ApiError::no_such_entity(format!(
                    "No such entity: {caller}"
                )))
            })?
        };
        let mut own = own;
        for doc in &documents {
            if let Ok(text) = &doc.text
                && let Some(d) = parse_policy(text, PolicyType::Resource).document
            {
                own = own.with_resource(CompiledPolicy::new(&d).with_name(doc.name.clone()));
            }
        }
        set = own;
        let mut read = principal_documents(principal, &caller).await;
        read.append(&mut documents);
        documents = read;
    }
    let decision = set.evaluate(&request);
    Ok(result(&decision, &request, &documents))
}

/// `role`/`user` and the name, of a user or role ARN.
fn holder(arn: &str) -> Option<(&'static str, &str)> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let (kind, rest) = resource.split_once('/')?;
    let name = rest.rsplit('/').next()?;
    match kind {
        "role" => Some(("role", name)),
        "user" => Some(("user", name)),
        _ => None,
    }
}

/// A managed policy's default version, read as the principal.
async fn managed_document(principal: &Principal<'_>, arn: &str) -> Result<String, ApiError> {
    let policy = principal.iam("GetPolicy", &[("PolicyArn", arn)]).await?;
    let version = xml::text(&policy, "DefaultVersionId").unwrap_or_default();
    let answer = principal
        .iam(
            "GetPolicyVersion",
            &[("PolicyArn", arn), ("VersionId", version.as_str())],
        )
        .await?;
    Ok(xml::document(&answer, "Document").unwrap_or_default())
}

/// The policies of one holder (`Role`, `User`, `Group` named `name`), read as the principal:
/// the inline ones by the engine's names (`role/NAME/POLICY`), the managed ones by ARN.
async fn holder_documents(
    principal: &Principal<'_>,
    kind: &str,
    name: &str,
    out: &mut Vec<Document>,
) {
    let param = format!("{kind}Name");
    let lower = kind.to_ascii_lowercase();
    match principal
        .iam(&format!("List{kind}Policies"), &[(param.as_str(), name)])
        .await
    {
        Ok(answer) => {
            for policy in xml::members(&answer, "PolicyNames") {
                let policy = rolewright_client::xml::unescape(policy);
                let text = principal
                    .iam(
                        &format!("Get{kind}Policy"),
                        &[(param.as_str(), name), ("PolicyName", policy.as_str())],
                    )
                    .await
                    .map(|a| xml::document(&a, "PolicyDocument").unwrap_or_default());
                out.push(Document {
                    name: format!("{lower}/{name}/{policy}"),
                    title: format!("Inline policy {policy} of {lower} {name}"),
                    text,
                });
            }
        }
        Err(e) => out.push(Document {
            name: String::new(),
            title: format!("Inline policies of {lower} {name}"),
            text: Err(e),
        }),
    }
    match principal
        .iam(
            &format!("ListAttached{kind}Policies"),
            &[(param.as_str(), name)],
        )
        .await
    {
        Ok(answer) => {
            for m in xml::members(&answer, "AttachedPolicies") {
                let arn = xml::text(m, "PolicyArn").unwrap_or_default();
                let text = managed_document(principal, &arn).await;
                out.push(Document {
                    title: format!(
                        "Managed policy {} attached to {lower} {name}",
                        xml::text(m, "PolicyName").unwrap_or_default()
                    ),
                    name: arn,
                    text,
                });
            }
        }
        Err(e) => out.push(Document {
            name: String::new(),
            title: format!("Managed policies of {lower} {name}"),
            text: Err(e),
        }),
    }
}

/// The documents of a simulated principal, as far as the signed-in principal may read them.
async fn principal_documents(principal: &Principal<'_>, arn: &str) -> Vec<Document> {
    let mut out = Vec::new();
    let Some((kind, name)) = holder(arn) else {
        return out;
    };
    let (kind, get) = if kind == "role" {
        ("Role", "GetRole")
    } else {
        ("User", "GetUser")
    };
    holder_documents(principal, kind, name, &mut out).await;
    if kind == "User"
        && let Ok(groups) = principal
            .iam("ListGroupsForUser", &[("UserName", name)])
            .await
    {
        for g in xml::members(&groups, "Groups") {
            let group = xml::text(g, "GroupName").unwrap_or_default();
            holder_documents(principal, "Group", &group, &mut out).await;
        }
    }
    if let Ok(answer) = principal.iam(get, &[(&format!("{kind}Name"), name)]).await
        && let Some(boundary) = xml::text(&answer, "PermissionsBoundaryArn")
    {
        let text = managed_document(principal, &boundary).await;
        out.push(Document {
            title: format!(
                "Permissions boundary {}",
                boundary.rsplit('/').next().unwrap_or("")
            ),
            name: boundary,
            text,
        });
    }
    out
}

/// The statements of a document, each as its own JSON text.
fn statements(text: &str) -> Vec<String> {
    match serde_json::from_str::<Value>(text).map(|v| v["Statement"].clone()) {
        Ok(Value::Array(list)) => list
            .iter()
            .map(|s| serde_json::to_string_pretty(s).unwrap_or_default())
            .collect(),
        Ok(one @ Value::Object(_)) => vec![serde_json::to_string_pretty(&one).unwrap_or_default()],
        _ => vec![pretty(text)],
    }
}

fn result(
    decision: &Decision,
    request: &rolewright_iam::Request,
    documents: &[Document],
) -> Markup {
    let allowed = decision.is_allowed();
    let message = decision.access_denied_message(request);
    let deciding: Vec<&MatchedStatement> = if allowed {
        decision.statements(Effect::Allow).collect()
    } else {
        decision.statements(Effect::Deny).collect()
    };
    let matched = |name: &str, index: usize| -> Option<&MatchedStatement> {
        decision
            .matched
            .iter()
            .find(|m| m.policy_name.as_deref() == Some(name) && m.statement_index == index)
    };
    let outcome = match decision.outcome {
        rolewright_iam::Outcome::Allowed => "Allowed",
        rolewright_iam::Outcome::ImplicitlyDenied => "Implicitly denied",
        rolewright_iam::Outcome::ExplicitlyDenied => "Explicitly denied",
    };
    html! {
        section id="result" aria-labelledby="result-title" {
            h2 id="result-title" { "Decision: " span id="decision" class=(if allowed { "pass" } else { "fail" }) { (outcome) } }
            p { code { (request.action()) } " on " code { (request.resource()) } " by " code { (request.principal().display_name()) } }
            @match &message {
                Some(text) => { p id="reason" { span.aws-message { (text) } } }
                None => { p id="reason" { "Allowed by " @for (i, m) in deciding.iter().enumerate() { @if i > 0 { "; " } (describe(m)) } "." } }
            }
            @if !allowed && !deciding.is_empty() {
                p { "Denied by " @for (i, m) in deciding.iter().enumerate() { @if i > 0 { "; " } (describe(m)) } "." }
            }
            @if !decision.blocked_by.is_empty() {
                p { "Blocked by: " (decision.blocked_by.iter().map(|k| k.aws_words()).collect::<Vec<_>>().join(", ")) "." }
            }
            h3 { "Documents" }
            @if documents.is_empty() { p { "No policy applies to this principal." } }
            @for doc in documents {
                h4 { (doc.title) }
                @match &doc.text {
                    Err(e) => { p.warnings { "Not shown: " strong { (e.code) } ": " (e.message) } }
                    Ok(text) => {
                        ol.statements {
                            @for (i, st) in statements(text).iter().enumerate() {
                                @let hit = matched(&doc.name, i);
                                li class=(match hit { Some(m) if m.effect == Effect::Deny => "statement matched deny", Some(_) => "statement matched allow", None => "statement" }) {
                                    @if let Some(m) = hit {
                                        strong.match-label { "Matched: " (m.effect.as_str()) }
                                    }
                                    pre tabindex="0" aria-label={ (doc.title) ", statement " (i) } { (st) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_and_statements_are_read_from_their_text() {
        assert_eq!(holder("arn:aws:iam::1:role/path/ds"), Some(("role", "ds")));
        assert_eq!(holder("arn:aws:iam::1:user/dana"), Some(("user", "dana")));
        assert_eq!(holder("arn:aws:iam::1:group/g"), None);
        let two = r#"{"Statement":[{"Effect":"Allow"},{"Effect":"Deny"}]}"#;
        assert_eq!(statements(two).len(), 2);
        assert_eq!(statements(r#"{"Statement":{"Effect":"Allow"}}"#).len(), 1);
        assert!(completions("s3:").iter().any(|a| a == "s3:GetObject"));
        assert!(completions("").iter().any(|a| a == "sagemaker:"));
    }
}
