//! One simulated request, as `rolewright simulate` and the console's policy simulator ask it: the
//! caller, action, resource and `KEY=VALUE` condition keys read into a [`Request`], and the
//! decision's matched statements and outcome described in words and as JSON.

use crate::{
    ActionCatalog, ContextValue, Decision, MatchedStatement, Principal, Request, RequestContext,
};

/// Why a simulated request could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulationError {
    /// The caller does not read as a principal.
    #[error("{0}")]
    Principal(String),
    /// The action is not `service:Action`.
    #[error("action `{0}` must be `service:Action`, such as `s3:GetObject`")]
    Action(String),
    /// A condition key is not `KEY=VALUE`.
    #[error("context `{0}` must be `KEY=VALUE`, such as `aws:SourceIp=10.0.0.1`")]
    ContextPair(String),
    /// A condition key's value starts like a JSON array and is not one.
    #[error("context `{pair}`: the value looks like a JSON array but is not one: {error}")]
    ContextArray {
        /// The pair as given.
        pair: String,
        /// What JSON said.
        error: String,
    },
}

/// What a simulated request is made of, as the user wrote it.
#[derive(Debug, Clone, Default)]
pub struct SimulatedRequest {
    /// A user, role or assumed-role ARN, an account id, a service principal, or `anonymous`.
    pub principal: String,
    /// `service:Action`, any case.
    pub action: String,
    /// The resource ARN, `*` for actions without resource types.
    pub resource: String,
    /// The account owning the resource; the ARN's, else the caller's, when `None`.
    pub resource_account: Option<String>,
    /// Condition keys, `KEY=VALUE` each (a key repeated is multi-valued; `KEY=["a","b"]` too).
    pub context: Vec<String>,
    /// The action is known to have no resource types; otherwise the catalog is asked.
    pub wildcard_only: bool,
}

impl SimulatedRequest {
    /// The engine's request; `catalog` tells which actions have no resource types.
    pub fn build(&self, catalog: &dyn ActionCatalog) -> Result<Request, SimulationError> {
        let principal = Principal::parse(self.principal.trim())
            .map_err(|e| SimulationError::Principal(e.to_string()))?;
        let action = self.action.trim();
        if action != "*" && action.split(':').count() != 2 {
            return Err(SimulationError::Action(action.to_string()));
        }
        let resource = match self.resource.trim() {
            "" => "*",
            r => r,
        };
        let mut request = Request::new(principal.clone(), action, resource);
        if self.wildcard_only {
            request = request.with_wildcard_only_action(true);
        } else {
            request.infer_wildcard_only_action(catalog);
        }
        let account = self
            .resource_account
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or_else(|| request.resource_account().map(str::to_string))
            .or_else(|| principal.account().map(str::to_string));
        if let Some(account) = account {
            request = request.with_resource_account(account);
        }
        for pair in &self.context {
            add_context(request.context_mut(), pair)?;
        }
        Ok(request)
    }
}

/// Reads `KEY=VALUE` condition keys into a context, as [`SimulatedRequest::build`] reads its
/// `context` (a key repeated is multi-valued; `KEY=["a","b"]` too): for other commands that
/// take `--context` flags.
///
/// ```
/// use rolewright_iam::simulation::context_from_pairs;
/// let context = context_from_pairs(&["aws:MultiFactorAuthPresent=true".to_string()])?;
/// assert_eq!(context.get("aws:multifactorauthpresent").unwrap().values(), ["true"]);
/// # Ok::<(), rolewright_iam::simulation::SimulationError>(())
/// ```
pub fn context_from_pairs(pairs: &[String]) -> Result<RequestContext, SimulationError> {
    let mut context = RequestContext::new();
    for pair in pairs {
        add_context(&mut context, pair)?;
    }
    Ok(context)
}

/// Adds one `KEY=VALUE` condition key to a context.
fn add_context(context: &mut RequestContext, pair: &str) -> Result<(), SimulationError> {
    let Some((key, value)) = pair.split_once('=') else {
        return Err(SimulationError::ContextPair(pair.to_string()));
    };
    let key = key.trim();
    if value.trim_start().starts_with('[') {
        let items = serde_json::from_str::<Vec<serde_json::Value>>(value).map_err(|e| {
            SimulationError::ContextArray {
                pair: pair.to_string(),
                error: e.to_string(),
            }
        })?;
        let values = items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect();
        context.insert(key, ContextValue::Multi(values));
        return Ok(());
    }
    context.push(key, value);
    Ok(())
}

/// A matched statement in words: `POLICY, statement N (Sid `S`)`.
pub fn describe(m: &MatchedStatement) -> String {
    let policy = m
        .policy_name
        .as_deref()
        .map_or_else(|| m.kind.aws_words().to_string(), str::to_string);
    match &m.sid {
        Some(sid) => format!("{policy}, statement {} (Sid `{sid}`)", m.statement_index),
        None => format!("{policy}, statement {}", m.statement_index),
    }
}

/// The decision as JSON: the request, the outcome, every matched statement, the policy types
/// that blocked it, and AWS's AccessDenied text when denied.
pub fn decision_json(decision: &Decision, request: &Request) -> serde_json::Value {
    let matched: Vec<serde_json::Value> = decision
        .matched
        .iter()
        .map(|m| {
            serde_json::json!({
                "policyType": m.kind.code(),
                "policy": m.policy_name.as_deref(),
                "statement": m.statement_index,
                "sid": m.sid.as_deref(),
                "effect": m.effect.as_str(),
            })
        })
        .collect();
    serde_json::json!({
        "principal": request.principal().display_name(),
        "action": request.action(),
        "resource": request.resource(),
        "decision": decision.outcome.as_str(),
        "matched": matched,
        "blockedBy": decision.blocked_by.iter().map(|k| k.code()).collect::<Vec<_>>(),
        "message": decision.access_denied_message(request),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoCatalog;
    impl ActionCatalog for NoCatalog {
        fn is_wildcard_only(&self, _: &str) -> Option<bool> {
            None
        }
    }

    fn request(context: &[&str]) -> SimulatedRequest {
        SimulatedRequest {
            principal: "arn:aws:iam::111122223333:user/alice".into(),
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::b/k".into(),
            context: context.iter().map(|s| (*s).to_string()).collect(),
            ..SimulatedRequest::default()
        }
    }

    #[test]
    fn context_pairs_repeat_or_list_into_multi_valued_keys() {
        let built = request(&["aws:TagKeys=a", "aws:TagKeys=b", "s3:prefix=[\"x\", 1]"])
            .build(&NoCatalog)
            .unwrap();
        let keys = built.context();
        assert_eq!(keys.get("aws:tagkeys").unwrap().values(), ["a", "b"]);
        assert_eq!(keys.get("s3:prefix").unwrap().values(), ["x", "1"]);
        assert_eq!(built.resource_account(), Some("111122223333"));
    }

    #[test]
    fn malformed_input_is_refused_with_the_whole_message() {
        let mut bad = request(&["aws:SourceIp"]);
        assert_eq!(
            bad.build(&NoCatalog).unwrap_err().to_string(),
            "context `aws:SourceIp` must be `KEY=VALUE`, such as `aws:SourceIp=10.0.0.1`"
        );
        bad.context = vec!["k=[1,".into()];
        assert!(
            bad.build(&NoCatalog)
                .unwrap_err()
                .to_string()
                .starts_with("context `k=[1,`: the value looks like a JSON array but is not one: ")
        );
        bad.action = "GetObject".into();
        assert_eq!(
            bad.build(&NoCatalog).unwrap_err().to_string(),
            "action `GetObject` must be `service:Action`, such as `s3:GetObject`"
        );
    }
}
