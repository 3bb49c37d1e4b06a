//! The authorization decision: AWS's policy evaluation logic over every policy type.
//!
//! The order follows AWS's documented flow. An explicit `Deny` in any applicable policy wins.
//! Otherwise every guardrail must allow: each level of service control policies (for IAM
//! principals), each level of resource control policies, the VPC endpoint policy. Then the grant
//! itself: in the same account, identity policies or the resource policy; across accounts, both.
//! Permissions boundaries and session policies limit identity grants, and resource grants that
//! name a role rather than the calling session or user. A few services add rules of their own:
//! role trust policies and KMS key policies must grant even within the account, and resources
//! that AWS manages (AWS managed policies, reserved roles, `alias/aws/` KMS aliases) cannot be
//! changed by anyone.

use std::fmt;
use std::sync::Arc;

use crate::arn::ArnParts;
use crate::ast::Effect;
use crate::policy::{CompiledPolicy, MatchMode, PrincipalMatch};
use crate::request::{AwsPrincipalKind, Principal, Request};

/// The three answers IAM gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Allowed.
    Allowed,
    /// Denied because nothing allowed it.
    ImplicitlyDenied,
    /// Denied by a `Deny` statement.
    ExplicitlyDenied,
}

impl Outcome {
    /// The name used in reports (`Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "Allowed",
            Outcome::ImplicitlyDenied => "ImplicitlyDenied",
            Outcome::ExplicitlyDenied => "ExplicitlyDenied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of policy that take part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// Service control policy.
    ServiceControl,
    /// Resource control policy.
    ResourceControl,
    /// VPC endpoint policy.
    Endpoint,
    /// Permissions boundary.
    Boundary,
    /// Session policy.
    Session,
    /// Identity-based policy.
    Identity,
    /// Resource-based policy (including role trust policies and KMS key policies).
    Resource,
}

impl PolicyKind {
    /// The short code used in `blockedBy` (`scp`, `rcp`, `vpce`, `pb`, `session`, `identity`, `resource`).
    pub fn code(self) -> &'static str {
        match self {
            PolicyKind::ServiceControl => "scp",
            PolicyKind::ResourceControl => "rcp",
            PolicyKind::Endpoint => "vpce",
            PolicyKind::Boundary => "pb",
            PolicyKind::Session => "session",
            PolicyKind::Identity => "identity",
            PolicyKind::Resource => "resource",
        }
    }

    /// The words AWS uses in AccessDenied messages.
    pub fn aws_words(self) -> &'static str {
        match self {
            PolicyKind::ServiceControl => "service control policy",
            PolicyKind::ResourceControl => "resource control policy",
            PolicyKind::Endpoint => "VPC endpoint policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Session => "session policy",
            PolicyKind::Identity => "identity-based policy",
            PolicyKind::Resource => "resource-based policy",
        }
    }
}

/// A statement that matched the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    /// The kind of policy it is in.
    pub kind: PolicyKind,
    /// Which policy of that kind (index in the order given; for SCPs and RCPs, counted across levels).
    pub policy_index: usize,
    /// The policy's name, when it has one.
    pub policy_name: Option<Arc<str>>,
    /// The statement's index in its policy.
    pub statement_index: usize,
    /// The statement's `Sid`.
    pub sid: Option<Arc<str>>,
    /// Its effect.
    pub effect: Effect,
}

/// Why a request was denied, in AWS's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialReason {
    /// A `Deny` statement in a policy of this kind.
    ExplicitDeny(PolicyKind),
    /// No policy of this kind allows the action.
    NoAllow(PolicyKind),
    /// AWS itself forbids the action on this resource (an AWS managed policy, a reserved role,
    /// an AWS managed KMS alias).
    ServiceRule(&'static str),
}

/// An authorization decision, with what led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The answer.
    pub outcome: Outcome,
    /// Every statement that matched, allow and deny, in policy order.
    pub matched: Vec<MatchedStatement>,
    /// The policy kinds that stopped a request that identity or resource policies allowed.
    pub blocked_by: Vec<PolicyKind>,
    /// The main reason for a denial; `None` when allowed.
    pub reason: Option<DenialReason>,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }

    /// The statements that matched with the given effect.
    pub fn statements(&self, effect: Effect) -> impl Iterator<Item = &MatchedStatement> {
        self.matched.iter().filter(move |m| m.effect == effect)
    }

    /// AWS's AccessDenied message for this decision, or `None` when allowed:
    /// "User: ARN is not authorized to perform: ACTION on resource: ARN because no
    /// identity-based policy allows the ACTION action".
    pub fn access_denied_message(&self, request: &Request) -> Option<String> {
        let reason = self.reason?;
        let who = match &*request.principal {
            Principal::Aws(p) => match p.kind {
                AwsPrincipalKind::AssumedRole { .. } => format!("User: {}", p.arn),
                _ => format!("User: {}", p.arn),
            },
            other => format!("User: {}", other.display_name()),
        };
        let action = &request.action;
        let because = match reason {
            DenialReason::ExplicitDeny(kind) => {
                format!(
                    "with an explicit deny in {} {}",
                    article(kind.aws_words()),
                    kind.aws_words()
                )
            }
            DenialReason::NoAllow(kind) => {
                format!("because no {} allows the {action} action", kind.aws_words())
            }
            DenialReason::ServiceRule(rule) => format!("because {rule}"),
        };
        Some(format!(
            "{who} is not authorized to perform: {action} on resource: {} {because}",
            request.resource
        ))
    }
}

fn article(words: &str) -> &'static str {
    if words.starts_with(['a', 'e', 'i', 'o', 'u', 'V']) && !words.starts_with("VPC") {
        "an"
    } else {
        "a"
    }
}

/// All the policies that bear on a principal's requests, compiled. Build one per principal (or
/// per request in a simulator) and evaluate it as often as needed; it is `Send + Sync`.
///
/// ```
/// use rolewright_iam::{CompiledPolicy, Outcome, PolicyDocument, PolicySet, Principal, Request};
///
/// let doc = PolicyDocument::parse(r#"{"Version": "2012-10-17", "Statement": [
///     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::ml-data/*"}]}"#)?;
/// let set = PolicySet::new().with_identity(CompiledPolicy::new(&doc));
/// let alice = Principal::parse("arn:aws:iam::123456789012:user/alice").unwrap();
///
/// let read = Request::new(alice.clone(), "s3:GetObject", "arn:aws:s3:::ml-data/train.csv")
///     .with_resource_account("123456789012");
/// assert_eq!(set.evaluate(&read).outcome, Outcome::Allowed);
///
/// let write = Request::new(alice, "s3:PutObject", "arn:aws:s3:::ml-data/train.csv")
///     .with_resource_account("123456789012");
/// let decision = set.evaluate(&write);
/// assert_eq!(decision.outcome, Outcome::ImplicitlyDenied);
/// assert_eq!(decision.access_denied_message(&write).unwrap(),
///     "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: s3:PutObject \
///      on resource: arn:aws:s3:::ml-data/train.csv because no identity-based policy allows \
///      the s3:PutObject action");
/// # Ok::<(), rolewright_iam::PolicyErrors>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    identity: Vec<CompiledPolicy>,
    resource: Option<CompiledPolicy>,
    boundaries: Vec<CompiledPolicy>,
    session: Option<CompiledPolicy>,
    scp_levels: Vec<Vec<CompiledPolicy>>,
    rcp_levels: Vec<Vec<CompiledPolicy>>,
    endpoints: Vec<CompiledPolicy>,
}

impl PolicySet {
    /// An empty set: every request is implicitly denied.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an identity-based policy (inline or managed).
    pub fn with_identity(mut self, policy: CompiledPolicy) -> Self {
        self.identity.push(policy);
        self
    }

    /// Sets the resource-based policy of the requested resource (a role's trust policy for
    /// `sts:AssumeRole`, a key policy for KMS).
    pub fn with_resource(mut self, policy: CompiledPolicy) -> Self {
        self.resource = Some(policy);
        self
    }

    /// Adds a permissions boundary policy.
    pub fn with_boundary(mut self, policy: CompiledPolicy) -> Self {
        self.boundaries.push(policy);
        self
    }

    /// Sets the session policy.
    pub fn with_session(mut self, policy: CompiledPolicy) -> Self {
        self.session = Some(policy);
        self
    }

    /// Adds one level of service control policies (root first); every level must allow.
    pub fn with_scp_level(mut self, policies: Vec<CompiledPolicy>) -> Self {
        self.scp_levels.push(policies);
        self
    }

    /// Adds one level of resource control policies (root first); every level must allow.
    pub fn with_rcp_level(mut self, policies: Vec<CompiledPolicy>) -> Self {
        self.rcp_levels.push(policies);
        self
    }

    /// Adds a VPC endpoint policy.
    pub fn with_endpoint(mut self, policy: CompiledPolicy) -> Self {
        self.endpoints.push(policy);
        self
    }

    /// Decides the request.
    pub fn evaluate(&self, request: &Request) -> Decision {
        self.decide(request, true)
    }

    /// Decides the request as [`PolicySet::evaluate`] does, without listing the statements
    /// that matched (`matched` is empty): for callers that need only the outcome, the reason
    /// and the kinds of policy that blocked it, such as a run of many simulation cases. It is
    /// cheaper: nothing is collected, named or sorted per matching statement.
    ///
    /// ```
    /// use rolewright_iam::{CompiledPolicy, PolicyDocument, PolicySet, Principal, Request};
    /// let doc = PolicyDocument::parse(r#"{"Version": "2012-10-17", "Statement": [
    ///     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#)?;
    /// let set = PolicySet::new().with_identity(CompiledPolicy::new(&doc));
    /// let caller = Principal::parse("arn:aws:iam::123456789012:role/ds").unwrap();
    /// let request = Request::new(caller, "s3:GetObject", "arn:aws:s3:::b/k");
    /// let brief = set.evaluate_brief(&request);
    /// assert_eq!(brief.outcome, set.evaluate(&request).outcome);
    /// assert!(brief.matched.is_empty());
    /// # Ok::<(), rolewright_iam::PolicyErrors>(())
    /// ```
    pub fn evaluate_brief(&self, request: &Request) -> Decision {
        self.decide(request, false)
    }

    fn decide(&self, request: &Request, record: bool) -> Decision {
        let decision = self.evaluate_exactly(request, record);
        // Narrowing a set can only turn an allowed decision into a denied one, and only when a
        // Deny reaches part of the set, or when a policy that must allow too (a boundary, a
        // session policy, an SCP or RCP, an endpoint policy) may allow a part the grant does
        // not reach: each overlapping the set is not both allowing one part of it.
        if decision.outcome == Outcome::Allowed
            && request.resource_is_pattern
            && !request.wildcard_only_action
            && (self.has_guards() || self.all_policies().any(|p| p.denies_part_of(request)))
        {
            return self.evaluate_subsets(request, record);
        }
        decision
    }

    /// Whether a policy besides the grants must allow the request too.
    fn has_guards(&self) -> bool {
        !self.boundaries.is_empty()
            || self.session.is_some()
            || !self.endpoints.is_empty()
            || self.scp_levels.iter().any(|level| !level.is_empty())
            || self.rcp_levels.iter().any(|level| !level.is_empty())
    }

    fn all_policies(&self) -> impl Iterator<Item = &CompiledPolicy> {
        self.identity
            .iter()
            .chain(&self.resource)
            .chain(&self.boundaries)
            .chain(&self.session)
            .chain(self.scp_levels.iter().flatten())
            .chain(self.rcp_levels.iter().flatten())
            .chain(&self.endpoints)
    }

    /// A request for a set of resources is allowed when some part of the set is: the set is
    /// narrowed to what each `Allow` reaches, each part is decided, and an allowed part wins,
    /// then an explicit denial. A `Deny` thus denies a part only when it covers all of it.
    fn evaluate_subsets(&self, request: &Request, record: bool) -> Decision {
        let mut subsets = Vec::new();
        for policy in self.identity.iter().chain(&self.resource) {
            policy.allowed_subsets(request, &mut subsets);
        }
        if subsets.iter().all(|s| *s == request.resource) {
            return self.evaluate_exactly(request, record);
        }
        let mut best: Option<Decision> = None;
        for subset in subsets {
            let decision = self.evaluate_exactly(&request.with_resource(&subset), record);
            let rank = |d: &Decision| match d.outcome {
                Outcome::Allowed => 2,
                Outcome::ExplicitlyDenied => 1,
                Outcome::ImplicitlyDenied => 0,
            };
            if best.as_ref().is_none_or(|b| rank(&decision) > rank(b)) {
                let allowed = decision.outcome == Outcome::Allowed;
                best = Some(decision);
                if allowed {
                    break;
                }
            }
        }
        best.unwrap_or_else(|| self.evaluate_exactly(request, record))
    }

    fn evaluate_exactly(&self, request: &Request, record: bool) -> Decision {
        let mut ev = Evaluation {
            request,
            arn: request.arn_parts(),
            record,
            matched: Vec::new(),
        };
        ev.run(self)
    }
}

/// A small set of policy kinds, without allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct KindSet(u8);

const KIND_ORDER: [PolicyKind; 7] = [
    PolicyKind::ServiceControl,
    PolicyKind::ResourceControl,
    PolicyKind::Endpoint,
    PolicyKind::Boundary,
    PolicyKind::Session,
    PolicyKind::Identity,
    PolicyKind::Resource,
];

impl KindSet {
    fn with(self, kind: PolicyKind) -> Self {
        KindSet(self.0 | 1 << kind as u8)
    }

    fn contains(self, kind: PolicyKind) -> bool {
        self.0 & (1 << kind as u8) != 0
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn first(self) -> Option<PolicyKind> {
        KIND_ORDER.into_iter().find(|k| self.contains(*k))
    }
}

/// What one group of policies said.
#[derive(Debug, Clone, Copy, Default)]
struct Verdict {
    allow: bool,
    deny: bool,
}

struct Evaluation<'r> {
    request: &'r Request,
    arn: Option<ArnParts<'r>>,
    /// Whether the matching statements are listed in the decision.
    record: bool,
    matched: Vec<MatchedStatement>,
}

/// Actions that AWS never allows on AWS managed policies.
const MANAGED_POLICY_WRITES: &[&str] = &[
    "iam:createpolicy",
    "iam:createpolicyversion",
    "iam:deletepolicy",
    "iam:deletepolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:tagpolicy",
    "iam:untagpolicy",
];

/// Actions that AWS never allows on roles it manages (`/aws-reserved/` paths).
const RESERVED_ROLE_WRITES: &[&str] = &[
    "iam:attachrolepolicy",
    "iam:createrole",
    "iam:createservicelinkedrole",
    "iam:deleterole",
    "iam:deleterolepermissionsboundary",
    "iam:deleterolepolicy",
    "iam:deleteservicelinkedrole",
    "iam:detachrolepolicy",
    "iam:passrole",
    "iam:putrolepermissionsboundary",
    "iam:putrolepolicy",
    "iam:tagrole",
    "iam:untagrole",
    "iam:updateassumerolepolicy",
    "iam:updaterole",
    "iam:updateroledescription",
];

/// Actions that change the permissions of a service-linked role, which only its service may do.
const SERVICE_LINKED_ROLE_WRITES: &[&str] = &[
    "iam:attachrolepolicy",
    "iam:deleterole",
    "iam:deleterolepermissionsboundary",
    "iam:deleterolepolicy",
    "iam:detachrolepolicy",
    "iam:putrolepermissionsboundary",
    "iam:putrolepolicy",
    "iam:updateassumerolepolicy",
];

const KMS_ALIAS_WRITES: &[&str] = &["kms:createalias", "kms:deletealias", "kms:updatealias"];

impl Evaluation<'_> {
    fn run(&mut self, set: &PolicySet) -> Decision {
        let request = self.request;
        let action = request.action_folded.as_str();
        if action == "sts:getcalleridentity" {
            return Decision {
                outcome: Outcome::Allowed,
                matched: Vec::new(),
                blocked_by: Vec::new(),
                reason: None,
            };
        }
        let principal = &*request.principal;
        let is_iam_principal = matches!(principal, Principal::Aws(_));
        let is_service = matches!(principal, Principal::Service(_));

        // Guardrails.
        let scp = (is_iam_principal && !set.scp_levels.is_empty())
            .then(|| self.levels(&set.scp_levels, PolicyKind::ServiceControl));
        let rcp = (!is_service && !set.rcp_levels.is_empty())
            .then(|| self.levels(&set.rcp_levels, PolicyKind::ResourceControl));
        // Every endpoint policy on the path must allow.
        let endpoint = (!set.endpoints.is_empty()).then(|| {
            let mut all = Verdict {
                allow: true,
                deny: false,
            };
            for (i, p) in set.endpoints.iter().enumerate() {
                let v = self.any_of(
                    std::slice::from_ref(p),
                    i,
                    PolicyKind::Endpoint,
                    MatchMode::Guardrail,
                );
                all.allow &= v.allow;
                all.deny |= v.deny;
            }
            all
        });

        // Grants.
        let identity = if is_iam_principal {
            self.any_of(&set.identity, 0, PolicyKind::Identity, MatchMode::Identity)
        } else {
            Verdict::default()
        };
        let (resource, resource_grant) = match &set.resource {
            Some(p) => {
                let mode = if is_iam_principal && !set.boundaries.is_empty() {
                    MatchMode::ResourceBoundedCaller
                } else {
                    MatchMode::Resource
                };
                let (v, grant) = self.policy(p, 0, PolicyKind::Resource, mode);
                (Some(v), grant)
            }
            None => (None, None),
        };
        let boundary = (is_iam_principal && !set.boundaries.is_empty()).then(|| {
            self.any_of(
                &set.boundaries,
                0,
                PolicyKind::Boundary,
                MatchMode::Identity,
            )
        });
        let session = match (&set.session, is_iam_principal) {
            (Some(p), true) => Some(
                self.policy(p, 0, PolicyKind::Session, MatchMode::Identity)
                    .0,
            ),
            _ => None,
        };

        self.matched
            .sort_by_key(|m| (m.kind, m.policy_index, m.statement_index));
        let matched = std::mem::take(&mut self.matched);

        let denied = |v: Option<Verdict>| v.is_some_and(|v| v.deny);
        let not_allowed = |v: Option<Verdict>| v.is_some_and(|v| !v.allow);

        let boundary_ok = !not_allowed(boundary);
        let session_ok = !not_allowed(session);
        let same_account = request.is_same_account();
        let resource_allows = resource.is_some_and(|v| v.allow);
        let needs_resource_grant = self.resource_policy_required();

        // Whether the grant stands, before guardrails and explicit denies, given whether the
        // boundary and the session policy allow.
        let grant = |boundary_ok: bool, session_ok: bool| match principal {
            Principal::Anonymous | Principal::Service(_) => {
                resource_grant.is_some_and(|g| g != PrincipalMatch::Account)
            }
            Principal::Aws(_) => {
                let identity_grant = identity.allow && boundary_ok && session_ok;
                let resource_only = match resource_grant {
                    Some(PrincipalMatch::Direct) => session_ok,
                    Some(PrincipalMatch::Role) => session_ok && boundary_ok,
                    Some(PrincipalMatch::Account) | None => false,
                };
                if same_account && !needs_resource_grant {
                    identity_grant || resource_only
                } else if same_account {
                    resource_only || (identity_grant && resource_allows)
                } else {
                    identity_grant && resource_allows
                }
            }
        };
        let granted = grant(boundary_ok, session_ok);
        // Whether identity and resource policies alone would grant it.
        let base_allowed = grant(true, true);
        let union_rules =
            matches!(principal, Principal::Aws(_)) && same_account && !needs_resource_grant;

        let service_rule = self.service_rule();

        let explicit_kinds: KindSet = [
            (PolicyKind::ServiceControl, denied(scp)),
            (PolicyKind::ResourceControl, denied(rcp)),
            (PolicyKind::Endpoint, denied(endpoint)),
            (PolicyKind::Boundary, denied(boundary)),
            (PolicyKind::Session, denied(session)),
            (PolicyKind::Identity, identity.deny),
            (PolicyKind::Resource, denied(resource)),
        ]
        .into_iter()
        .filter(|(_, d)| *d)
        .fold(KindSet::default(), |set, (k, _)| set.with(k));

        let guardrail_fail = [
            (PolicyKind::ServiceControl, not_allowed(scp)),
            (PolicyKind::ResourceControl, not_allowed(rcp)),
            (PolicyKind::Endpoint, not_allowed(endpoint)),
        ];

        let outcome = if !explicit_kinds.is_empty() {
            Outcome::ExplicitlyDenied
        } else if granted && service_rule.is_none() && guardrail_fail.iter().all(|(_, f)| !f) {
            Outcome::Allowed
        } else {
            Outcome::ImplicitlyDenied
        };

        // What stopped a request that identity and resource policies would have allowed.
        let mut blocked_by = Vec::new();
        if outcome != Outcome::Allowed && base_allowed {
            for (kind, failed) in guardrail_fail {
                if failed || explicit_kinds.contains(kind) {
                    blocked_by.push(kind);
                }
            }
            if explicit_kinds.contains(PolicyKind::Boundary)
                || grant(true, session_ok) && !grant(boundary_ok, session_ok)
            {
                blocked_by.push(PolicyKind::Boundary);
            }
            // Within an account either grant suffices, so the other side's explicit deny is
            // what stopped it.
            if union_rules {
                if identity.deny && resource_grant.is_some() {
                    blocked_by.push(PolicyKind::Identity);
                }
                if explicit_kinds.contains(PolicyKind::Resource) && identity.allow {
                    blocked_by.push(PolicyKind::Resource);
                }
            }
        }

        let reason = match outcome {
            Outcome::Allowed => None,
            Outcome::ExplicitlyDenied => explicit_kinds.first().map(DenialReason::ExplicitDeny),
            Outcome::ImplicitlyDenied => Some(if let Some(rule) = service_rule {
                DenialReason::ServiceRule(rule)
            } else if let Some((kind, _)) = guardrail_fail.iter().find(|(_, f)| *f) {
                DenialReason::NoAllow(*kind)
            } else if !granted && identity.allow && !boundary_ok {
                DenialReason::NoAllow(PolicyKind::Boundary)
            } else if !granted && (identity.allow || resource_allows) && !session_ok {
                DenialReason::NoAllow(PolicyKind::Session)
            } else if (identity.allow
                && !resource_allows
                && (!same_account || needs_resource_grant))
                || matches!(principal, Principal::Anonymous | Principal::Service(_))
            {
                DenialReason::NoAllow(PolicyKind::Resource)
            } else {
                DenialReason::NoAllow(PolicyKind::Identity)
            }),
        };

        Decision {
            outcome,
            matched,
            blocked_by,
            reason,
        }
    }

    /// Whether the resource policy must grant even within the account: role trust policies for
    /// `sts:AssumeRole*` and KMS key policies.
    fn resource_policy_required(&self) -> bool {
        let action = self.request.action_folded.as_str();
        let Some(arn) = &self.arn else {
            return false;
        };
        if arn.service == "iam" && arn.resource.starts_with("role/") {
            return action.starts_with("sts:assumerole")
                || matches!(
                    action,
                    "sts:tagsession" | "sts:setsourceidentity" | "sts:setcontext"
                );
        }
        arn.service == "kms" && action.starts_with("kms:") && arn.resource.starts_with("key/")
    }

    /// A rule of AWS's own that denies the request whatever the policies say.
    fn service_rule(&self) -> Option<&'static str> {
        let action = self.request.action_folded.as_str();
        let arn = self.arn.as_ref()?;
        if arn.service == "iam"
            && arn.account == "aws"
            && arn.resource.starts_with("policy/")
            && MANAGED_POLICY_WRITES.contains(&action)
        {
            return Some("AWS managed policies cannot be changed");
        }
        if arn.service == "iam"
            && arn.resource.starts_with("role/aws-reserved/")
            && RESERVED_ROLE_WRITES.contains(&action)
        {
            return Some("roles under /aws-reserved/ are managed by AWS and cannot be changed");
        }
        if arn.service == "iam"
            && arn.resource.starts_with("role/aws-service-role/")
            && SERVICE_LINKED_ROLE_WRITES.contains(&action)
        {
            return Some("service-linked roles can only be changed by their service");
        }
        if arn.service == "kms"
            && arn.resource.starts_with("alias/aws/")
            && KMS_ALIAS_WRITES.contains(&action)
        {
            return Some(
                "aliases under alias/aws/ belong to AWS managed keys and cannot be changed",
            );
        }
        None
    }

    /// Evaluates one policy, recording its matching statements. Returns the verdict and, for
    /// resource policies, the strongest principal match among the allowing statements.
    fn policy(
        &mut self,
        policy: &CompiledPolicy,
        index: usize,
        kind: PolicyKind,
        mode: MatchMode,
    ) -> (Verdict, Option<PrincipalMatch>) {
        let mut verdict = Verdict::default();
        let mut grant: Option<PrincipalMatch> = None;
        let record = self.record;
        let matched = &mut self.matched;
        policy.for_each_match(
            self.request,
            self.arn.as_ref(),
            mode,
            |statement, principal_match| {
                match statement.effect {
                    Effect::Allow => {
                        verdict.allow = true;
                        if let Some(m) = principal_match {
                            grant = Some(grant.map_or(m, |g| g.max(m)));
                        }
                    }
                    Effect::Deny => verdict.deny = true,
                }
                if !record {
                    return;
                }
                matched.push(MatchedStatement {
                    kind,
                    policy_index: index,
                    policy_name: policy.name.clone(),
                    statement_index: statement.index,
                    sid: statement.sid.clone(),
                    effect: statement.effect,
                });
            },
        );
        (verdict, grant)
    }

    /// Evaluates organization policy levels: each level must allow, any deny denies.
    fn levels(&mut self, levels: &[Vec<CompiledPolicy>], kind: PolicyKind) -> Verdict {
        let mut all = Verdict {
            allow: true,
            deny: false,
        };
        let mut index = 0;
        for level in levels {
            let v = self.any_of(level, index, kind, MatchMode::Guardrail);
            all.allow &= v.allow;
            all.deny |= v.deny;
            index += level.len();
        }
        all
    }

    /// Evaluates policies of which any may allow (identity policies, the policies of one
    /// organization level): numbered from `first_index` in the matched statements.
    fn any_of(
        &mut self,
        policies: &[CompiledPolicy],
        first_index: usize,
        kind: PolicyKind,
        mode: MatchMode,
    ) -> Verdict {
        let mut v = Verdict::default();
        for (i, p) in policies.iter().enumerate() {
            let r = self.policy(p, first_index + i, kind, mode).0;
            v.allow |= r.allow;
            v.deny |= r.deny;
        }
        v
    }
}
