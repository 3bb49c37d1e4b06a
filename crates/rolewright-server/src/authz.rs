//! Authorization: the caller's identity policies (inline, customer managed, AWS managed), its
//! permissions boundary and session policies, compiled once per change of permissions and
//! evaluated by the engine for every call, with the request's condition keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rolewright_iam::{
    CompiledPolicy, ContextValue, Decision, Effect, PolicyDocument, PolicySet, Request,
    RequestContext,
};

use crate::auth::{Caller, Identity};
use crate::model::{InlinePolicies, State, Tag};
use crate::store::lock;
use crate::wire::xml::iso_time;

/// Compiled policy sets per caller, valid for one permissions generation of the state (which
/// moves only on changes that can alter a decision), and compiled managed policy versions.
#[derive(Default)]
pub struct PolicyCache {
    sets: Mutex<HashMap<String, (u64, Arc<PolicySet>)>>,
    /// Keyed by the policy's unique id and the version id: a version's document never changes,
    /// and a policy deleted and created again under the same ARN gets a new id.
    managed: Mutex<HashMap<(String, String), CompiledPolicy>>,
}

/// A request's facts that condition keys read.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    /// Unix seconds.
    pub now: i64,
    /// The caller's address, when known (`aws:SourceIp` is absent otherwise).
    pub source_ip: Option<String>,
    /// The region of the signature's scope.
    pub region: String,
}

fn compile(text: &str, name: String) -> Option<CompiledPolicy> {
    // Stored documents were validated on the way in; one that no longer parses grants nothing.
    let doc = PolicyDocument::parse(text).ok()?;
    Some(CompiledPolicy::new(&doc).with_name(name))
}

impl PolicyCache {
    fn managed(&self, state: &State, arn: &str) -> Option<CompiledPolicy> {
        let policy = state.policies.get(arn)?;
        let key = (policy.id.clone(), policy.default_version.clone());
        let mut cache = lock(&self.managed);
        if let Some(compiled) = cache.get(&key) {
            return Some(compiled.clone());
        }
        let compiled = compile(policy.default_document(), arn.to_string())?;
        cache.insert(key, compiled.clone());
        Some(compiled)
    }

    /// The policy set for a caller at the state's current generation.
    pub fn policy_set(&self, state: &State, caller: &Caller) -> Arc<PolicySet> {
        {
            let sets = lock(&self.sets);
            if let Some((generation, set)) = sets.get(&caller.access_key_id)
                && *generation == state.generation
            {
                return set.clone();
            }
        }
        let set = Arc::new(self.build(state, caller));
        let mut sets = lock(&self.sets);
        if sets.len() > 10_000 {
            sets.clear();
        }
        sets.insert(
            caller.access_key_id.clone(),
            (state.generation, set.clone()),
        );
        set
    }

    fn identity_policies(
        &self,
        state: &State,
        owner: &str,
        inline: &InlinePolicies,
        attached: &[String],
        mut set: PolicySet,
    ) -> PolicySet {
        for policy in inline.values() {
            if let Some(c) = compile(&policy.document, format!("{owner}/{}", policy.name)) {
                set = set.with_identity(c);
            }
        }
        for arn in attached {
            if let Some(c) = self.managed(state, arn) {
                set = set.with_identity(c);
            }
        }
        set
    }

    /// A user's identity policies (its own and its groups') and boundary.
    pub fn user_set(&self, state: &State, user: &crate::model::User) -> PolicySet {
        let owner = format!("user/{}", user.name);
        let mut set = PolicySet::new();
        set = self.identity_policies(state, &owner, &user.inline, &user.attached, set);
        for group in state.groups_of(&user.name) {
            let owner = format!("group/{}", group.name);
            set = self.identity_policies(state, &owner, &group.inline, &group.attached, set);
        }
        self.with_boundary(state, user.boundary.as_deref(), set)
    }

    /// A role's identity policies and boundary.
    pub fn role_set(&self, state: &State, role: &crate::model::Role) -> PolicySet {
        let owner = format!("role/{}", role.name);
        let set = self.identity_policies(
            state,
            &owner,
            &role.inline,
            &role.attached,
            PolicySet::new(),
        );
        self.with_boundary(state, role.boundary.as_deref(), set)
    }

    fn with_boundary(&self, state: &State, boundary: Option<&str>, set: PolicySet) -> PolicySet {
        match boundary.and_then(|b| self.managed(state, b)) {
            Some(b) => set.with_boundary(b),
            None => set,
        }
    }

    fn build(&self, state: &State, caller: &Caller) -> PolicySet {
        match &caller.identity {
            Identity::User(name) => state
                .user(name)
                .map_or_else(PolicySet::new, |user| self.user_set(state, user)),
            Identity::Session { role, .. } => {
                let mut set = state
                    .role(role)
                    .map_or_else(PolicySet::new, |r| self.role_set(state, r));
                if let Some(session) = state.sessions.get(&caller.access_key_id)
                    && let Some(policy) = session_policy(state, session)
                {
                    set = set.with_session(policy);
                }
                set
            }
        }
    }
}

/// The session policies of a session (inline and managed ARNs) as one policy: a session may do
/// what any of them allows.
fn session_policy(state: &State, session: &crate::model::Session) -> Option<CompiledPolicy> {
    if session.policy.is_none() && session.policy_arns.is_empty() {
        return None;
    }
    let mut statements = Vec::new();
    let texts = session.policy.iter().cloned().chain(
        session
            .policy_arns
            .iter()
            .filter_map(|arn| state.policies.get(arn))
            .map(|p| p.default_document().to_string()),
    );
    for text in texts {
        if let Ok(serde_json::Value::Object(doc)) = serde_json::from_str(&text) {
            match doc.get("Statement") {
                Some(serde_json::Value::Array(list)) => statements.extend(list.iter().cloned()),
                Some(one @ serde_json::Value::Object(_)) => statements.push(one.clone()),
                _ => {}
            }
        }
    }
    let merged = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    // An empty statement list is not a valid policy; it still means "the session may do nothing".
    let text = if statements.is_empty() {
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#
            .to_string()
    } else {
        merged.to_string()
    };
    compile(&text, "session policy".into())
}

fn tag_keys(ctx: &mut RequestContext, prefix: &str, tags: &[Tag]) {
    for tag in tags {
        ctx.set(&format!("{prefix}{}", tag.key), tag.value.clone());
    }
}

/// The condition keys every request carries: who is calling, from where, when.
pub fn base_context(state: &State, caller: &Caller, facts: &RequestFacts) -> RequestContext {
    let mut ctx = RequestContext::new();
    ctx.set("aws:PrincipalAccount", caller.account.clone());
    ctx.set("aws:userid", caller.user_id.clone());
    ctx.set("aws:CurrentTime", iso_time(facts.now));
    ctx.set("aws:EpochTime", facts.now.to_string());
    ctx.set("aws:SecureTransport", "false");
    if let Some(ip) = &facts.source_ip {
        ctx.set("aws:SourceIp", ip.clone());
    }
    ctx.set("aws:RequestedRegion", facts.region.clone());
    ctx.set("aws:ViaAWSService", "false");
    ctx.set("aws:PrincipalIsAWSService", "false");
    match &caller.identity {
        Identity::User(name) => {
            ctx.set("aws:PrincipalArn", caller.arn.clone());
            ctx.set("aws:PrincipalType", "User");
            ctx.set("aws:username", name.clone());
            if let Some(user) = state.user(name) {
                tag_keys(&mut ctx, "aws:PrincipalTag/", &user.tags);
            }
        }
        Identity::Session {
            role,
            role_arn,
            tags,
            issued,
        } => {
            ctx.set("aws:PrincipalArn", role_arn.clone());
            ctx.set("aws:PrincipalType", "AssumedRole");
            ctx.set("aws:TokenIssueTime", iso_time(*issued));
            if let Some(r) = state.role(role) {
                tag_keys(&mut ctx, "aws:PrincipalTag/", &r.tags);
            }
            // Session tags override the role's tags with the same key.
            tag_keys(&mut ctx, "aws:PrincipalTag/", tags);
        }
    }
    ctx
}

/// Adds `aws:RequestTag/*` and `aws:TagKeys` for the tags a request sets.
pub fn request_tags(ctx: &mut RequestContext, tags: &[Tag]) {
    if tags.is_empty() {
        return;
    }
    tag_keys(ctx, "aws:RequestTag/", tags);
    ctx.insert(
        "aws:TagKeys",
        ContextValue::Multi(tags.iter().map(|t| t.key.clone()).collect()),
    );
}

/// Adds `aws:ResourceTag/*` and `iam:ResourceTag/*` for the tags of the resource acted on.
pub fn resource_tags(ctx: &mut RequestContext, tags: &[Tag]) {
    tag_keys(ctx, "aws:ResourceTag/", tags);
    tag_keys(ctx, "iam:ResourceTag/", tags);
}

/// Decides one request for a caller.
pub fn decide(
    cache: &PolicyCache,
    state: &State,
    caller: &Caller,
    action: &str,
    resource: &str,
    context: RequestContext,
    resource_policy: Option<CompiledPolicy>,
) -> (Decision, Request) {
    let set = cache.policy_set(state, caller);
    // Callers authorize on `*` exactly the actions without resource types (`Cx::authorize_with`).
    let request = Request::new(caller.principal.clone(), action, resource)
        .with_resource_account(state.account.clone())
        .with_context(context)
        .with_wildcard_only_action(resource == "*");
    let decision = match resource_policy {
        Some(policy) => PolicySet::clone(&set)
            .with_resource(policy)
            .evaluate(&request),
        None => set.evaluate(&request),
    };
    (decision, request)
}

/// Whether the Service Authorization Reference lists no resource types for the action, so that
/// it is authorized on `*`.
pub fn wildcard_only(action: &str) -> bool {
    let catalog: &dyn rolewright_iam::ActionCatalog = rolewright_reference::Reference::embedded();
    catalog.is_wildcard_only(action) == Some(true)
}

/// A short reason for the audit log: the statement that allowed, or AWS's denial text.
pub fn reason(decision: &Decision, request: &Request) -> String {
    if let Some(message) = decision.access_denied_message(request) {
        return message;
    }
    match decision.statements(Effect::Allow).next() {
        Some(m) => format!(
            "allowed by {} statement {}",
            m.policy_name.as_deref().unwrap_or("a policy"),
            m.sid
                .as_deref()
                .map_or_else(|| m.statement_index.to_string(), str::to_string)
        ),
        None => "allowed".to_string(),
    }
}

/// Whether a role's trust policy lets `service` (`cloudformation.amazonaws.com`) assume it, as
/// an AWS service checks before acting as a role it was given.
pub fn trusts_service(trust_policy: &str, role_arn: &str, service: &str) -> bool {
    PolicyDocument::parse(trust_policy).ok().is_some_and(|doc| {
        let request = rolewright_iam::Request::new(
            rolewright_iam::Principal::Service(service.into()),
            "sts:AssumeRole",
            role_arn,
        );
        rolewright_iam::PolicySet::new()
            .with_resource(CompiledPolicy::new(&doc))
            .evaluate(&request)
            .is_allowed()
    })
}
