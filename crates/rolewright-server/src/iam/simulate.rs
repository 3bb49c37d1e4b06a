//! The policy simulator (`SimulatePrincipalPolicy`, `SimulateCustomPolicy`), answered by the
//! same engine that authorizes every call.

use rolewright_iam::{
    CompiledPolicy, ContextValue, Outcome, PolicyDocument, PolicySet, Principal, Request,
    RequestContext,
};

use crate::error::ApiError;
use crate::server::{Cx, Reply};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

fn parse_input(
    text: &str,
    name: String,
    policy_type: rolewright_iam::PolicyType,
) -> Result<CompiledPolicy, ApiError> {
    super::check_document(text, policy_type)?;
    let doc = PolicyDocument::parse(text).map_err(|e| ApiError::malformed_policy(e.to_string()))?;
    Ok(CompiledPolicy::new(&doc).with_name(name))
}

/// `ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M, ContextKeyType}`.
fn context_entries(p: &mut Params) -> RequestContext {
    let mut ctx = RequestContext::new();
    for prefix in p.structs("ContextEntries") {
        let key = p.required(&format!("{prefix}ContextKeyName"), Check::Length(5, 256));
        let values = p.list(&format!("{prefix}ContextKeyValues"), Check::Length(0, 4096));
        let key_type = p
            .optional(&format!("{prefix}ContextKeyType"), Check::Length(1, 16))
            .unwrap_or_else(|| "string".into());
        if key_type.ends_with("List") || values.len() != 1 {
            ctx.insert(&key, ContextValue::Multi(values));
        } else if let Some(v) = values.into_iter().next() {
            ctx.set(&key, v);
        }
    }
    ctx
}

struct Simulation {
    set: PolicySet,
    principal: Principal,
    actions: Vec<String>,
    resources: Vec<String>,
    context: RequestContext,
    account: String,
}

/// `SourcePolicyId` and `SourcePolicyType` as IAM reports them: the bare policy name with
/// `role`/`user` for inline policies, the name with `aws-managed`/`user-managed` for managed
/// ones, and `PolicyInputList.N` with `IAM Policy` for policies given in the request.
fn source(name: &str) -> (String, &'static str) {
    if let Some(rest) = name.strip_prefix("arn:") {
        let policy = rest.rsplit('/').next().unwrap_or(rest).to_string();
        let kind = if name.starts_with("arn:aws:iam::aws:") {
            "aws-managed"
        } else {
            "user-managed"
        };
        return (policy, kind);
    }
    for (prefix, kind) in [("role/", "role"), ("user/", "user"), ("group/", "group")] {
        if let Some(rest) = name.strip_prefix(prefix) {
            let policy = rest.split_once('/').map_or(rest, |(_, p)| p);
            return (policy.to_string(), kind);
        }
    }
    if name == "ResourcePolicy" {
        return (name.to_string(), "resource");
    }
    (name.to_string(), "IAM Policy")
}

fn run(sim: Simulation) -> Reply {
    let mut x = XmlWriter::new();
    x.open("EvaluationResults");
    for action in &sim.actions {
        for resource in &sim.resources {
            let mut request = Request::new(sim.principal.clone(), action, resource)
                .with_resource_account(sim.account.clone())
                .with_context(sim.context.clone());
            request.infer_wildcard_only_action(rolewright_reference::Reference::embedded());
            let decision = sim.set.evaluate(&request);
            let verdict = match decision.outcome {
                Outcome::Allowed => "allowed",
                Outcome::ImplicitlyDenied => "implicitDeny",
                Outcome::ExplicitlyDenied => "explicitDeny",
            };
            x.open("member")
                .leaf("EvalActionName", action)
                .leaf("EvalResourceName", resource)
                .leaf("EvalDecision", verdict)
                .open("MatchedStatements");
            for m in &decision.matched {
                let (id, kind) = source(m.policy_name.as_deref().unwrap_or("policy"));
                x.open("member")
                    .leaf("SourcePolicyId", &id)
                    .leaf("SourcePolicyType", kind)
                    .close("member");
            }
            x.close("MatchedStatements")
                .open("MissingContextValues")
                .close("MissingContextValues")
                .close("member");
        }
    }
    x.close("EvaluationResults").page(None);
    Reply::Xml(x)
}

fn common(
    p: &mut Params,
) -> (
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Option<String>,
    RequestContext,
) {
    if !p.has_list("ActionNames") {
        p.required("ActionNames", Check::Length(0, 0));
    }
    let actions = p.list("ActionNames", Check::Length(3, 128));
    let mut resources = p.list("ResourceArns", Check::Length(1, 2048));
    if resources.is_empty() {
        resources.push("*".into());
    }
    let boundaries = p.list("PermissionsBoundaryPolicyInputList", Check::Document);
    let resource_policy = p.optional("ResourcePolicy", Check::Document);
    let context = context_entries(p);
    (actions, resources, boundaries, resource_policy, context)
}

fn add_inputs(
    mut set: PolicySet,
    inputs: &[String],
    boundaries: &[String],
    resource_policy: Option<&str>,
) -> Result<PolicySet, ApiError> {
    use rolewright_iam::PolicyType;
    for (i, text) in inputs.iter().enumerate() {
        set = set.with_identity(parse_input(
            text,
            format!("PolicyInputList.{}", i + 1),
            PolicyType::Identity,
        )?);
    }
    for (i, text) in boundaries.iter().enumerate() {
        set = set.with_boundary(parse_input(
            text,
            format!("PermissionsBoundaryPolicyInputList.{}", i + 1),
            PolicyType::Boundary,
        )?);
    }
    if let Some(text) = resource_policy {
        set = set.with_resource(parse_input(
            text,
            "ResourcePolicy".into(),
            PolicyType::Resource,
        )?);
    }
    Ok(set)
}

/// `SimulatePrincipalPolicy`: a user's or role's own policies, plus any given.
pub fn simulate_principal(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let source = p.required("PolicySourceArn", Check::Arn);
    let inputs = p.list("PolicyInputList", Check::Document);
    let caller_arn = p.optional("CallerArn", Check::Length(1, 2048));
    let (actions, resources, boundaries, resource_policy, context) = common(p);
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:SimulatePrincipalPolicy", &source, |_| {})?;
    let principal = Principal::parse(&source)
        .map_err(|_| ApiError::invalid_input(format!("Invalid ARN: {source}")))?;
    let not_found = || ApiError::no_such_entity(format!("No such entity: {source}"));
    let own = match &principal {
        Principal::Aws(aws) => match &aws.kind {
            rolewright_iam::request::AwsPrincipalKind::User { name } => {
                let user = state.user(name).ok_or_else(not_found)?;
                cx.app.cache.user_set(&state, user)
            }
            rolewright_iam::request::AwsPrincipalKind::Role { name } => {
                let role = state.role(name).ok_or_else(not_found)?;
                cx.app.cache.role_set(&state, role)
            }
            _ => {
                return Err(ApiError::invalid_input(format!(
                    "PolicySourceArn must be a user, group or role: {source}"
                )));
            }
        },
        _ => return Err(not_found()),
    };
    let set = add_inputs(own, &inputs, &boundaries, resource_policy.as_deref())?;
    let principal = match caller_arn {
        Some(arn) => Principal::parse(&arn)
            .map_err(|_| ApiError::invalid_input(format!("Invalid CallerArn: {arn}")))?,
        None => principal,
    };
    Ok(run(Simulation {
        set,
        principal,
        actions,
        resources,
        context,
        account: state.account.clone(),
    }))
}

/// `SimulateCustomPolicy`: only the policies given.
pub fn simulate_custom(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    if !p.has_list("PolicyInputList") {
        p.required("PolicyInputList", Check::Length(0, 0));
    }
    let inputs = p.list("PolicyInputList", Check::Document);
    let caller_arn = p.optional("CallerArn", Check::Length(1, 2048));
    let (actions, resources, boundaries, resource_policy, context) = common(p);
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:SimulateCustomPolicy", "*", |_| {})?;
    let set = add_inputs(
        PolicySet::new(),
        &inputs,
        &boundaries,
        resource_policy.as_deref(),
    )?;
    let principal_arn =
        caller_arn.unwrap_or_else(|| format!("arn:aws:iam::{}:user/simulated", state.account));
    let principal = Principal::parse(&principal_arn)
        .map_err(|_| ApiError::invalid_input(format!("Invalid CallerArn: {principal_arn}")))?;
    Ok(run(Simulation {
        set,
        principal,
        actions,
        resources,
        context,
        account: state.account.clone(),
    }))
}
