//! Simulation cases: a request, the policies around it, and the expected decision, in the JSON
//! schema that the `iam-simulate` conformance corpus uses (and that `rolewright simulate --cases`
//! reads). Reading files is the caller's job; this module turns JSON values into results.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::evaluator::{Decision, Outcome, PolicySet};
use crate::parser::{PolicyType, parse_policy};
use crate::policy::CompiledPolicy;
use crate::request::{ActionCatalog, Principal, Request};
use crate::{ContextValue, RequestContext};

/// One case, as written in a case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineCase {
    /// The case's name.
    pub name: String,
    /// What it checks.
    #[serde(default)]
    pub description: Option<String>,
    /// The request.
    pub request: CaseRequest,
    /// Identity-based policies.
    #[serde(default)]
    pub identity_policies: Vec<Box<RawValue>>,
    /// The session policy.
    #[serde(default)]
    pub session_policy: Option<Box<RawValue>>,
    /// Permissions boundaries.
    #[serde(default)]
    pub permission_boundaries: Option<Vec<Box<RawValue>>>,
    /// Service control policies, one entry per organization level, root first.
    #[serde(default)]
    pub service_control_policies: Option<Vec<OrgLevel>>,
    /// Resource control policies, one entry per level, root first.
    #[serde(default)]
    pub resource_control_policies: Option<Vec<OrgLevel>>,
    /// The resource's policy.
    #[serde(default)]
    pub resource_policy: Option<Box<RawValue>>,
    /// VPC endpoint policies.
    #[serde(default)]
    pub endpoint_policies: Option<Vec<Box<RawValue>>>,
    /// The simulation mode; only `Strict` cases are decided.
    #[serde(default)]
    pub simulation: Option<CaseSimulation>,
    /// The expected decision; a case without one is decided but neither passes nor fails.
    #[serde(default)]
    pub expected: Option<CaseExpectation>,
}

/// The request of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseRequest {
    /// An ARN, a service principal, or `{"type": "Anonymous"}`.
    pub principal: serde_json::Value,
    /// `service:Action`.
    pub action: String,
    /// The resource and its account.
    pub resource: CaseResource,
    /// Condition keys: a string, or an array for a multi-valued key.
    #[serde(default)]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
    /// Whether the action supports no resource types.
    #[serde(default)]
    pub wildcard_only_action: Option<bool>,
}

/// The resource of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResource {
    /// An ARN or `*`.
    pub resource: String,
    /// The account that owns it.
    pub account_id: String,
}

/// One organization level.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgLevel {
    /// The level's id (`o-...`, `ou-...`, an account).
    #[serde(default)]
    pub org_identifier: Option<String>,
    /// The policies attached at that level.
    #[serde(default)]
    pub policies: Vec<Box<RawValue>>,
}

impl OrgLevel {
    fn compile(&self, what: &str) -> Result<Vec<CompiledPolicy>, String> {
        self.policies
            .iter()
            .enumerate()
            .map(|(i, p)| compile(p, PolicyType::Generic, &format!("{what}.policies[{i}]")))
            .collect()
    }
}

/// The simulation settings of a case.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseSimulation {
    /// `Strict` or `Discovery`.
    #[serde(default)]
    pub mode: Option<String>,
}

/// What a case expects.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseExpectation {
    /// `Allowed`, `ImplicitlyDenied` or `ExplicitlyDenied`.
    pub response: Option<String>,
    /// The policy kinds that blocked it (compared as a set; absent means none).
    #[serde(default)]
    pub blocked_by: Option<Vec<String>>,
}

/// The result of running a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseResult {
    /// The case was decided.
    Decided {
        /// The engine's decision.
        outcome: Outcome,
        /// The engine's `blockedBy` codes, sorted.
        blocked_by: Vec<String>,
        /// Whether decision and `blockedBy` equal the expectation; `None` without one.
        pass: Option<bool>,
    },
    /// A `Discovery`-mode case: that simulator's own feature, not an AWS decision.
    Skipped,
    /// The case could not be run (an invalid policy or principal).
    Invalid(String),
}

impl EngineCase {
    /// Whether the case is a `Discovery` case, which is not decided.
    pub fn is_discovery(&self) -> bool {
        self.simulation
            .as_ref()
            .and_then(|s| s.mode.as_deref())
            .is_some_and(|m| m == "Discovery")
    }

    /// Builds the request and policy set, decides, and compares with the expectation.
    pub fn run(&self) -> CaseResult {
        self.run_with(None)
    }

    /// Like [`EngineCase::run`], asking `catalog` whether the action is wildcard-only when the
    /// case does not say.
    pub fn run_with(&self, catalog: Option<&dyn ActionCatalog>) -> CaseResult {
        if self.is_discovery() {
            return CaseResult::Skipped;
        }
        let (set, request) = match self.prepare_with(catalog) {
            Ok(x) => x,
            Err(e) => return CaseResult::Invalid(e),
        };
        let decision = set.evaluate(&request);
        self.judge(&decision)
    }

    /// Compares a decision with the expectation.
    pub fn judge(&self, decision: &Decision) -> CaseResult {
        let blocked_by: BTreeSet<String> = decision
            .blocked_by
            .iter()
            .map(|k| k.code().to_string())
            .collect();
        let pass = self.expected.as_ref().map(|expected| {
            let expected_blocked: BTreeSet<String> =
                expected.blocked_by.iter().flatten().cloned().collect();
            expected.response.as_deref() == Some(decision.outcome.as_str())
                && blocked_by == expected_blocked
        });
        CaseResult::Decided {
            outcome: decision.outcome,
            blocked_by: blocked_by.into_iter().collect(),
            pass,
        }
    }

    /// Builds the compiled policy set and the request.
    pub fn prepare(&self) -> Result<(PolicySet, Request), String> {
        self.prepare_with(None)
    }

    /// Builds the compiled policy set and the request, with `catalog` for wildcard-only actions.
    pub fn prepare_with(
        &self,
        catalog: Option<&dyn ActionCatalog>,
    ) -> Result<(PolicySet, Request), String> {
        let mut set = PolicySet::new();
        for (i, p) in self.identity_policies.iter().enumerate() {
            set = set.with_identity(compile(
                p,
                PolicyType::Generic,
                &format!("identityPolicies[{i}]"),
            )?);
        }
        if let Some(p) = &self.resource_policy {
            set = set.with_resource(compile(p, PolicyType::Generic, "resourcePolicy")?);
        }
        for (i, p) in self.permission_boundaries.iter().flatten().enumerate() {
            set = set.with_boundary(compile(
                p,
                PolicyType::Generic,
                &format!("permissionBoundaries[{i}]"),
            )?);
        }
        if let Some(p) = &self.session_policy {
            set = set.with_session(compile(p, PolicyType::Generic, "sessionPolicy")?);
        }
        for (l, level) in self.service_control_policies.iter().flatten().enumerate() {
            set = set.with_scp_level(level.compile(&format!("serviceControlPolicies[{l}]"))?);
        }
        for (l, level) in self.resource_control_policies.iter().flatten().enumerate() {
            let mut policies = level.compile(&format!("resourceControlPolicies[{l}]"))?;
            // AWS attaches `RCPFullAWSAccess` to every level of an organization with RCPs enabled.
            policies.push(rcp_full_aws_access());
            set = set.with_rcp_level(policies);
        }
        for (i, p) in self.endpoint_policies.iter().flatten().enumerate() {
            set = set.with_endpoint(compile(
                p,
                PolicyType::Generic,
                &format!("endpointPolicies[{i}]"),
            )?);
        }
        let principal = match &self.request.principal {
            serde_json::Value::String(s) => Principal::parse(s).map_err(|e| e.to_string())?,
            serde_json::Value::Object(o)
                if o.get("type").and_then(|t| t.as_str()) == Some("Anonymous") =>
            {
                Principal::Anonymous
            }
            other => {
                return Err(format!(
                    "request principal `{other}` is not a string or {{\"type\": \"Anonymous\"}}"
                ));
            }
        };
        let mut context = RequestContext::new();
        for (key, value) in self.request.context.iter().flatten() {
            let value = match value {
                serde_json::Value::Array(items) => {
                    ContextValue::Multi(items.iter().map(json_text).collect())
                }
                other => ContextValue::Single(json_text(other)),
            };
            context.insert(key, value);
        }
        let mut request = Request::new(
            principal,
            &self.request.action,
            &self.request.resource.resource,
        )
        .with_resource_account(self.request.resource.account_id.clone())
        .with_context(context)
        .with_wildcard_only_action(self.request.wildcard_only_action.unwrap_or(false));
        if let (None, Some(catalog)) = (self.request.wildcard_only_action, catalog) {
            request.infer_wildcard_only_action(catalog);
        }
        Ok((set, request))
    }
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Policies in case files are read from their raw text by the policy reader, so duplicate keys,
/// key order and number spellings are judged as in a policy file.
fn compile(value: &RawValue, t: PolicyType, what: &str) -> Result<CompiledPolicy, String> {
    let outcome = parse_policy(value.get(), t);
    match outcome.document {
        Some(doc) => Ok(CompiledPolicy::new(&doc).with_name(what.to_string())),
        None => {
            let errors: Vec<String> = outcome
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{} at `{}`", d.message, d.path))
                .collect();
            Err(format!(
                "{what} is not a valid policy: {}",
                errors.join("; ")
            ))
        }
    }
}

/// AWS's default resource control policy, `RCPFullAWSAccess`.
pub fn rcp_full_aws_access() -> CompiledPolicy {
    let doc = crate::ast::PolicyDocument {
        version: Some(crate::ast::VERSION_2012.to_string()),
        id: None,
        statements: vec![crate::ast::Statement {
            principal: Some(crate::ast::Negatable {
                negated: false,
                value: crate::ast::Principal::Wildcard,
            }),
            action: Some(crate::ast::Negatable {
                negated: false,
                value: crate::ast::StringList::one("*"),
            }),
            resource: Some(crate::ast::Negatable {
                negated: false,
                value: crate::ast::StringList::one("*"),
            }),
            ..crate::ast::Statement::new(crate::ast::Effect::Allow)
        }],
        statement_is_object: false,
    };
    CompiledPolicy::new(&doc).with_name("RCPFullAWSAccess")
}

/// Reads a case file's text: a JSON array of cases, a single case object, or JSON Lines.
pub fn parse_cases(text: &str) -> Result<Vec<EngineCase>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    match serde_json::from_str::<EngineCase>(text) {
        Ok(case) => Ok(vec![case]),
        Err(whole) => {
            let mut out = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let case = serde_json::from_str(line).map_err(|e| {
                    if n == 0 {
                        whole.to_string()
                    } else {
                        format!("line {}: {e}", n + 1)
                    }
                })?;
                out.push(case);
            }
            Ok(out)
        }
    }
}
