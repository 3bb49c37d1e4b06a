//! Who can: every principal of the account that can perform an action on a resource, directly
//! or by a path (assuming roles, passing a role to SageMaker, editing policies or trust,
//! joining a group, making credentials), each path drawn as a list of steps with arrows. The
//! account is read as the signed-in principal (`iam:GetAccountAuthorizationDetails`) and
//! analysed by `rolewright-review`, as `rolewright who-can` does. The analysis is kept
//! ([`AnalysisCache`]) until the store's change position moves; the reader is authorized on
//! every request all the same.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode};
use maud::{Markup, html};
use rolewright_client::authorization_details::AccountDetails;
use rolewright_iam::RequestContext;
use rolewright_review::{Access, AccessAnalysis, AccountSnapshot, Query};
use rolewright_server::error::ApiError;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, Problem, error_summary, field_errors, problem, text_field};
use crate::session::SignedIn;
use crate::simulator::completions;

/// The account's details, every page, read as the principal: the JSON that `aws iam
/// get-account-authorization-details` prints, or why the answer did not read.
pub(crate) async fn details(
    principal: &Principal<'_>,
) -> Result<Result<serde_json::Value, String>, ApiError> {
    let mut details = AccountDetails::default();
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = vec![("MaxItems", "1000")];
        if let Some(m) = &marker {
            pairs.push(("Marker", m.as_str()));
        }
        let answer = principal
            .iam("GetAccountAuthorizationDetails", &pairs)
            .await?;
        marker = match details.add_page(&answer) {
            Ok(m) => m,
            Err(e) => return Ok(Err(e)),
        };
        if marker.is_none() {
            break;
        }
    }
    Ok(Ok(details.into_value()))
}

/// The account's snapshot and its analyses, kept for the store's change position they were read
/// at: reading the account (`GetAccountAuthorizationDetails`, every page) and building the
/// analysis is what a who-can answer costs on a large account; each query on a built analysis
/// is cheap. Whoever reads it must still be authorized to read the account: the cache only saves
/// the reading, never the decision.
#[derive(Default)]
pub(crate) struct AnalysisCache {
    kept: Mutex<Option<Kept>>,
}

/// One reading of the account.
struct Kept {
    /// The store's change position, read before the account was.
    position: u64,
    account: String,
    /// The account's details as read (`GetAccountAuthorizationDetails`): a reading at a newer
    /// position that answers the same details (the write was a session, a tag elsewhere, a
    /// role's last use) keeps the analyses, which depend on nothing else.
    details: Arc<serde_json::Value>,
    snapshot: Arc<AccountSnapshot>,
    /// The analyses built on it, one per set of condition keys asked with, newest last.
    analyses: Vec<(RequestContext, Arc<AccessAnalysis>)>,
}

/// A kept reading: the details, their snapshot, and the analysis asked for if it was built.
type Reading = (
    Arc<serde_json::Value>,
    Arc<AccountSnapshot>,
    Option<Arc<AccessAnalysis>>,
);

/// How many sets of condition keys are kept analysed on one snapshot: most questions are asked
/// with none, and each analysis holds the account's compiled policies.
const KEPT_ANALYSES: usize = 4;

impl AnalysisCache {
    /// The snapshot of `account` kept at `position`, and its analysis for `environment` if one
    /// was built.
    fn get(&self, position: u64, account: &str, environment: &RequestContext) -> Option<Reading> {
        let kept = lock(&self.kept);
        let kept = kept
            .as_ref()
            .filter(|k| k.position == position && k.account == account)?;
        let analysis = kept
            .analyses
            .iter()
            .find(|(e, _)| e == environment)
            .map(|(_, a)| a.clone());
        Some((kept.details.clone(), kept.snapshot.clone(), analysis))
    }

    /// What is kept for `account` if it was read from the same `details`, kept from now on for
    /// `position` (not older than the one it was read at).
    fn same_details(
        &self,
        position: u64,
        account: &str,
        details: &serde_json::Value,
        environment: &RequestContext,
    ) -> Option<Reading> {
        {
            let mut kept = lock(&self.kept);
            let k = kept.as_mut().filter(|k| {
                k.account == account && k.position <= position && *k.details == *details
            })?;
            k.position = position;
        }
        self.get(position, account, environment)
    }

    /// Keeps `analysis` of `snapshot`, read at `position`; a snapshot of another position or
    /// account replaces what was kept.
    fn keep(
        &self,
        position: u64,
        account: &str,
        details: &Arc<serde_json::Value>,
        snapshot: &Arc<AccountSnapshot>,
        environment: RequestContext,
        analysis: &Arc<AccessAnalysis>,
    ) {
        let mut kept = lock(&self.kept);
        let same = kept
            .as_ref()
            .is_some_and(|k| k.position == position && k.account == account);
        if !same {
            // A reading of an older position than the one kept is not worth keeping over it.
            if kept.as_ref().is_some_and(|k| k.position > position) {
                return;
            }
            *kept = Some(Kept {
                position,
                account: account.to_string(),
                details: details.clone(),
                snapshot: snapshot.clone(),
                analyses: Vec::new(),
            });
        }
        if let Some(k) = kept.as_mut() {
            k.analyses.retain(|(e, _)| *e != environment);
            if k.analyses.len() == KEPT_ANALYSES {
                k.analyses.remove(0);
            }
            k.analyses.push((environment, analysis.clone()));
        }
    }
}

/// Locks the cache; a panic elsewhere while it was held leaves what it holds whole (each change
/// is one assignment).
fn lock(kept: &Mutex<Option<Kept>>) -> std::sync::MutexGuard<'_, Option<Kept>> {
    match kept.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The account's analysis for `environment`, read as the principal, from the cache while the
/// store has not changed since it was built. The principal is authorized to read the account
/// (`iam:GetAccountAuthorizationDetails`) either way, and the decision audited: a cached
/// analysis is shown only to whoever could have read the account now.
async fn analysis(
    console: &Console,
    principal: &Principal<'_>,
    environment: &RequestContext,
) -> Result<Result<Arc<AccessAnalysis>, String>, ApiError> {
    // Read before the account: a write in between makes the kept reading newer than its
    // position, so it is read again next time, never older.
    let position = console.app.store.change_position();
    let account_id = principal.account().to_string();
    let (details, snapshot, analysis) =
        match console.who_can.get(position, &account_id, environment) {
            Some(reading) => {
                principal.authorize("iam:GetAccountAuthorizationDetails", "*")?;
                reading
            }
            None => {
                let details = match details(principal).await? {
                    Ok(d) => d,
                    Err(e) => return Ok(Err(e)),
                };
                match console
                    .who_can
                    .same_details(position, &account_id, &details, environment)
                {
                    Some(reading) => reading,
                    None => match AccountSnapshot::from_value(details.clone()) {
                        Ok(snapshot) => (Arc::new(details), Arc::new(snapshot), None),
                        Err(e) => return Ok(Err(e.to_string())),
                    },
                }
            }
        };
    if let Some(analysis) = analysis {
        return Ok(Ok(analysis));
    }
    let built = Arc::new(AccessAnalysis::new(&snapshot, environment));
    console.who_can.keep(
        position,
        &account_id,
        &details,
        &snapshot,
        environment.clone(),
        &built,
    );
    Ok(Ok(built))
}

/// One principal's path, drawn as nodes joined by arrows: the principal, then each step's
/// action and what it is taken on, then the request it ends with.
fn path_markup(access: &Access, query: &Query) -> Markup {
    html! {
        ol.path aria-label={ "Path of " (access.principal) } {
            li.node { code { (access.principal) } }
            @for step in &access.path {
                li.edge { span aria-hidden="true" { "→ " } span.via { (step.via.as_str()) } " " code { (step.action) } }
                li.node { code { (step.resource) } }
            }
            li.edge { span aria-hidden="true" { "→ " } span.via { "request" } " " code { (query.action) } }
            li.node.goal { code { (query.resource) } }
        }
    }
}

fn statements_markup(access: &Access) -> Markup {
    html! {
        @if !access.statements.is_empty() {
            ul.statements {
                @for s in &access.statements {
                    li {
                        code { (s.policy) } ", statement " (s.index)
                        @if let Some(sid) = &s.sid { " (" code { (sid) } ")" }
                    }
                }
            }
        }
    }
}

/// `GET /console/who-can?action=&resource=&context=`: the form, and the answer once an action
/// is given.
pub async fn show(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let form = page::query(&parts);
    let action = form.get("action").unwrap_or("").trim().to_string();
    let resource = form.get("resource").unwrap_or("").trim().to_string();
    let context_text = form.get("context").unwrap_or("").to_string();
    let asked = !action.is_empty() || form.get("ask").is_some();
    let mut problems: Vec<Problem> = Vec::new();
    let mut answer: Option<(Query, Vec<Access>)> = None;
    if asked {
        let pairs: Vec<String> = context_text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        let environment = rolewright_iam::simulation::context_from_pairs(&pairs)
            .map_err(|e| problems.push(problem("context", e.to_string())))
            .ok();
        let query = if action.is_empty() {
            problems.push(problem(
                "action",
                "Enter the action, such as sagemaker:CreateTrainingJob",
            ));
            None
        } else {
            let resource = (!resource.is_empty()).then_some(resource.as_str());
            Query::new(&action, resource)
                .map_err(|e| problems.push(problem("action", e.to_string())))
                .ok()
        };
        if let (Some(environment), Some(query)) = (environment, query) {
            let principal = Principal::new(&console, signed.caller.clone(), &parts);
            let analysis = match analysis(&console, &principal, &environment).await {
                Ok(Ok(a)) => a,
                Ok(Err(e)) => {
                    return page::error_page(
                        StatusCode::BAD_GATEWAY,
                        "The account could not be read",
                        &e,
                    );
                }
                Err(e) => return page::api_error(&signed, &e),
            };
            let found = analysis.who_can(&query);
            answer = Some((query, found));
        }
    }
    let action_errors = field_errors(&problems, "action");
    let context_errors = field_errors(&problems, "context");
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = html! {
        h1 { "Who can" }
        p { "Every user and role of the account that can make a request, directly or by a path: assuming roles, passing a role to a SageMaker job, app, notebook, pipeline or endpoint, rewriting policies or trust, joining a group, making credentials. The account is read as you, with " code { "iam:GetAccountAuthorizationDetails" } "." }
        (error_summary(&problems))
        form method="get" action="/console/who-can" role="search" novalidate {
            div.field.invalid[!action_errors.is_empty()] {
                label for="action" { "Action" }
                span.hint id="action-hint" { "service:Action, such as sagemaker:CreateTrainingJob; type the service's prefix and a colon for its actions." }
                @if !action_errors.is_empty() { span.field-error id="action-error" { @for e in &action_errors { (e) " " } } }
                input id="action" name="action" type="text" list="action-list" value=(action) aria-describedby="action-hint" spellcheck="false" autocomplete="off" data-actions="/console/simulator/actions" aria-invalid=[(!action_errors.is_empty()).then_some("true")];
                datalist id="action-list" { @for a in completions(&action) { option value=(a) {} } }
            }
            (text_field("resource", "Resource (optional)", Some("An ARN; empty for any resource."), &resource, &problems, "text"))
            div.field.invalid[!context_errors.is_empty()] {
                label for="context" { "Condition keys (optional)" }
                span.hint id="context-hint" { "KEY=VALUE, one a line, such as aws:SourceIp=10.0.0.1: every request of every path carries them." }
                @if !context_errors.is_empty() { span.field-error id="context-error" { @for e in &context_errors { (e) " " } } }
                textarea id="context" name="context" rows="3" aria-describedby="context-hint" spellcheck="false" { (context_text) }
            }
            div.buttons { button type="submit" name="ask" value="1" { "Find who can" } }
        }
        @if let Some((query, found)) = &answer {
            @let direct = found.iter().filter(|a| a.direct).count();
            h2 id="who-can-answer" { (found.len()) " principals can perform " code { (query.action) } " on " code { (query.resource) } }
            @if found.is_empty() {
                p.empty { "No principal of the account can, directly or by a path." }
            } @else {
                p { (direct) " directly, " (found.len() - direct) " by a path." }
                ul.who-can {
                    @for a in found {
                        li {
                            h3 { code { (a.principal) } " " @if a.direct { span.pass { "directly" } } @else { span.indirect { "by a path of " (a.path.len()) @if a.path.len() == 1 { " step" } @else { " steps" } } } }
                            (path_markup(a, query))
                            @if !a.statements.is_empty() { p.hint { "Granted at the end by:" } }
                            (statements_markup(a))
                        }
                    }
                }
            }
        }
    };
    page::html(status, page::layout("Who can", Some(&signed), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(role: &str) -> serde_json::Value {
        serde_json::json!({"RoleDetailList": [{"RoleName": role,
            "Arn": format!("arn:aws:iam::111122223333:role/{role}"),
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "RolePolicyList": [], "AttachedManagedPolicies": []}]})
    }

    fn kept_at(cache: &AnalysisCache, position: u64, value: serde_json::Value) {
        let snapshot = Arc::new(AccountSnapshot::from_value(value.clone()).unwrap());
        let analysis = Arc::new(AccessAnalysis::new(&snapshot, &RequestContext::default()));
        cache.keep(
            position,
            "111122223333",
            &Arc::new(value),
            &snapshot,
            RequestContext::default(),
            &analysis,
        );
    }

    #[test]
    fn a_newer_position_with_the_same_account_details_keeps_the_analysis() {
        let cache = AnalysisCache::default();
        let none = RequestContext::default();
        kept_at(&cache, 3, details("a"));
        assert!(
            cache.get(4, "111122223333", &none).is_none(),
            "position 4 is not kept yet"
        );
        // The write at 4 was not to the account's principals or policies: same details.
        let (_, _, analysis) = cache
            .same_details(4, "111122223333", &details("a"), &none)
            .unwrap();
        assert!(analysis.is_some(), "the analysis is kept");
        assert!(cache.get(4, "111122223333", &none).is_some());
        // Other details, an older position or another account do not match.
        assert!(
            cache
                .same_details(5, "111122223333", &details("b"), &none)
                .is_none()
        );
        assert!(
            cache
                .same_details(2, "111122223333", &details("a"), &none)
                .is_none()
        );
        assert!(
            cache
                .same_details(6, "444455556666", &details("a"), &none)
                .is_none()
        );
    }
}
