//! The access analysis of one snapshot: every principal's effective policies compiled once, the
//! graph of how principals become one another or gain permissions, and the three questions
//! asked of it (who can, can, access review).
//!
//! # The graph
//!
//! A node is a principal as an attacker holds it: an IAM user or role, possibly with
//! permissions it gained on the way (a policy it wrote to itself, a boundary it removed, a
//! group it joined, an older policy version it made the default). An edge is one step an
//! attacker holding the node can take, decided by the engine with the node's identity
//! policies, its boundary and, where one applies, the resource's policy:
//!
//! * `assume-role`: `sts:AssumeRole` on the role, with its trust policy (a trust policy that
//!   names the account needs the caller's policies to allow it too; one that names the caller
//!   itself does not, in the same account, as in AWS);
//! * `pass-role`: `iam:PassRole` on the role with `iam:PassedToService` set to
//!   `sagemaker.amazonaws.com`, the role's trust policy letting SageMaker assume it, and one
//!   of the SageMaker actions that run code as the role ([`crate::sagemaker`]) on some resource
//!   of its type, with the request values the caller chooses ([`crate::choice`]);
//! * `credentials`: `iam:CreateAccessKey`, `iam:CreateLoginProfile` or `iam:UpdateLoginProfile`
//!   on another user;
//! * `trust-edit`: `iam:UpdateAssumeRolePolicy` on a role, then `sts:AssumeRole` under a trust
//!   policy that names the caller;
//! * `policy-edit` on itself: `iam:PutRolePolicy`/`iam:PutUserPolicy`, `iam:AttachRolePolicy`/
//!   `iam:AttachUserPolicy` of `AdministratorAccess`, `iam:PutGroupPolicy`/
//!   `iam:AttachGroupPolicy` on one of its groups, or `iam:CreatePolicyVersion` on a customer
//!   managed policy it has: the node then holds a policy allowing everything, still limited by
//!   its boundary and its `Deny` statements. `iam:DeleteRolePermissionsBoundary`/
//!   `iam:DeleteUserPermissionsBoundary`, `iam:Put*PermissionsBoundary` with
//!   `AdministratorAccess`, or a new version of the boundary policy remove the boundary.
//!   `iam:SetDefaultPolicyVersion` on a policy it has adds the `Allow` statements of the
//!   policy's other versions;
//! * `policy-edit` on another principal that the caller then becomes in one step (the two steps
//!   appear in the path);
//! * `group-membership`: `iam:AddUserToGroup` on a group, for the user itself: it gains the
//!   group's policies (one joined group at a time).
//!
//! From an administrator, or from a node that already holds a policy allowing everything, only
//! the steps to other principals are followed: rewriting permissions gains it nothing more.
//!
//! The graph does not depend on the question, so it is built once per snapshot; a who-can
//! decides the request once per node and walks the graph backwards from the nodes that can, so
//! every principal gets its shortest path (fewest edges) in one pass.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use rolewright_iam::ast::{Principal as PrincipalElement, PrincipalKind};
use rolewright_iam::{
    CompiledPolicy, ContextValue, Decision, Effect, PolicyDocument, PolicyKind, PolicySet,
    Principal, Request, RequestContext,
};
use rolewright_reference::Reference;

use crate::answer::{
    Access, CanAnswer, Finding, FindingKind, StatementRef, Step, Via, WRITTEN_BY_PATH,
};
use crate::choice::{self, Conditional};
use crate::reach::Reach;
use crate::sagemaker::{self, ROLE_RUNNERS};
use crate::snapshot::{AccountSnapshot, InlinePolicy};

/// Why a question cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Not `service:Action`.
    #[error("action `{action}` must be `service:Action`, such as `sagemaker:CreateTrainingJob`")]
    ActionShape {
        /// The text given.
        action: String,
    },
    /// A wildcard in the action.
    #[error("action `{action}` has a wildcard; ask about one action at a time")]
    ActionWildcard {
        /// The text given.
        action: String,
    },
    /// An action AWS does not have.
    #[error("unknown action `{action}`{help}")]
    UnknownAction {
        /// The text given.
        action: String,
        /// `; did you mean `...`?`, or empty.
        help: String,
    },
    /// A resource that is neither an ARN nor `*`.
    #[error(
        "resource `{resource}` must be an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`) or `*`"
    )]
    Resource {
        /// The text given.
        resource: String,
    },
    /// A principal the snapshot does not have.
    #[error("no user or role `{principal}` in the account snapshot{help}")]
    UnknownPrincipal {
        /// The text given.
        principal: String,
        /// A hint, or empty.
        help: String,
    },
}

/// One request asked about: an action on a resource (`*`, or an ARN pattern, for "some
/// resource"), in the session context given when the analysis was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `service:Action`.
    pub action: String,
    /// The resource ARN, or `*`.
    pub resource: String,
}

impl Query {
    /// A query, checked: one known action, and an ARN or `*`.
    ///
    /// ```
    /// use rolewright_review::Query;
    /// let err = Query::new("sagemaker:CreateTrainingJobs", None).unwrap_err();
    /// assert_eq!(err.to_string(),
    ///     "unknown action `sagemaker:CreateTrainingJobs`; did you mean `sagemaker:CreateTrainingJob`?");
    /// ```
    pub fn new(action: &str, resource: Option<&str>) -> Result<Query, QueryError> {
        let action = action.trim();
        let Some((service, name)) = action.split_once(':') else {
            return Err(QueryError::ActionShape {
                action: action.into(),
            });
        };
        if service.is_empty() || name.is_empty() || name.contains(':') {
            return Err(QueryError::ActionShape {
                action: action.into(),
            });
        }
        if action.contains(['*', '?']) {
            return Err(QueryError::ActionWildcard {
                action: action.into(),
            });
        }
        let reference = Reference::embedded();
        let Some(known) = reference.action(action) else {
            let help = reference
                .closest_action(action)
                .map(|a| format!("; did you mean `{}`?", a.full_name()))
                .unwrap_or_default();
            return Err(QueryError::UnknownAction {
                action: action.into(),
                help,
            });
        };
        let resource = resource.unwrap_or("*").trim();
        if resource != "*" && rolewright_iam::arn::ArnParts::parse(resource).is_none() {
            return Err(QueryError::Resource {
                resource: resource.into(),
            });
        }
        Ok(Query {
            action: known.full_name(),
            resource: resource.into(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentityKind {
    User,
    Role,
}

/// A user or role with its policies compiled.
struct Identity {
    arn: String,
    kind: IdentityKind,
    principal: Arc<Principal>,
    /// The keys every request of this principal carries, the session's included.
    context: RequestContext,
    /// Its tags, which requests on it see as `iam:ResourceTag/*` and `aws:ResourceTag/*`.
    tags: Vec<(String, String)>,
    inline: Vec<Compiled>,
    groups: Vec<usize>,
    attached: Vec<usize>,
    boundary: Option<usize>,
    /// For a role: its trust policy.
    trust: Option<(CompiledPolicy, Conditional)>,
}

/// An identity policy, compiled, with what the condition search and the reach filter need.
#[derive(Clone)]
struct Compiled {
    policy: CompiledPolicy,
    conditional: Conditional,
    reach: Reach,
}

impl Compiled {
    fn new(document: &PolicyDocument, name: String) -> Compiled {
        Compiled {
            policy: CompiledPolicy::new(document).with_name(name),
            conditional: Conditional::of(document),
            reach: Reach::of(document),
        }
    }
}

struct GroupInfo {
    arn: String,
    inline: Vec<Compiled>,
    attached: Vec<usize>,
}

struct Managed {
    arn: String,
    customer: bool,
    compiled: Compiled,
    /// The `Allow` statements of the versions that are not the default.
    others: Option<Compiled>,
}

/// What a node has gained on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
struct Gains {
    allow_all: bool,
    no_boundary: bool,
    all_versions: bool,
    extra_group: Option<usize>,
}

struct Node {
    identity: usize,
    gains: Gains,
    set: PolicySet,
    conditional: Vec<Conditional>,
    /// What the identity policies' `Allow` statements can reach.
    reach: Vec<Reach>,
    groups: Vec<usize>,
    /// Managed policies it has, directly or through its groups.
    managed: Vec<usize>,
}

struct Edge {
    to: usize,
    steps: Vec<Step>,
}

/// A resource policy to decide with.
#[derive(Clone, Copy)]
struct Grant<'a> {
    compiled: &'a CompiledPolicy,
    conditional: &'a Conditional,
}

/// The analysis of one snapshot. Build it once ([`AccessAnalysis::new`]) and ask it any number
/// of questions.
///
/// ```
/// use rolewright_review::{AccessAnalysis, AccountSnapshot, Query, Via};
/// let snapshot = AccountSnapshot::from_json(r#"{
///   "UserDetailList": [{"UserName": "alice", "Arn": "arn:aws:iam::111122223333:user/alice",
///     "UserPolicyList": [{"PolicyName": "assume", "PolicyDocument": {"Version": "2012-10-17",
///       "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}}]}],
///   "RoleDetailList": [{"RoleName": "trainer", "Arn": "arn:aws:iam::111122223333:role/trainer",
///     "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
///       "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]},
///     "RolePolicyList": [{"PolicyName": "train", "PolicyDocument": {"Version": "2012-10-17",
///       "Statement": [{"Sid": "Train", "Effect": "Allow", "Action": "sagemaker:CreateTrainingJob",
///         "Resource": "*"}]}}]}]
/// }"#)?;
/// let analysis = AccessAnalysis::new(&snapshot, &Default::default());
/// let who = analysis.who_can(&Query::new("sagemaker:CreateTrainingJob", None)?);
/// assert_eq!(who.len(), 2);
/// assert_eq!(who[0].principal, "arn:aws:iam::111122223333:role/trainer");
/// assert!(who[0].direct);
/// assert_eq!(who[1].principal, "arn:aws:iam::111122223333:user/alice");
/// assert_eq!(who[1].path[0].via, Via::AssumeRole);
/// assert_eq!(who[1].statements[0].sid.as_deref(), Some("Train"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AccessAnalysis {
    reference: &'static Reference,
    account: String,
    partition: String,
    environment: RequestContext,
    identities: Vec<Identity>,
    by_arn: HashMap<String, usize>,
    groups: Vec<GroupInfo>,
    managed: Vec<Managed>,
    resource_policies: HashMap<String, (CompiledPolicy, Conditional, PolicyDocument)>,
    allow_all: CompiledPolicy,
    allow_all_reach: Reach,
    /// A trust policy that delegates to the account: the caller's own policies decide.
    account_trust: CompiledPolicy,
    /// Roles whose trust policy names the principal's ARN, by ARN.
    trusted_by: HashMap<String, Vec<usize>>,
    /// Roles whose trust policy names the account: the caller's own policies must allow too.
    open_roles: Vec<usize>,
    /// Roles whose trust policy names everyone, or uses `NotPrincipal` or a pattern: the
    /// trust policy alone may grant.
    anyone_roles: Vec<usize>,
    /// Roles SageMaker may assume.
    sagemaker_roles: Vec<usize>,
    nodes: Vec<Node>,
    node_index: HashMap<(usize, Gains), usize>,
    edges: Vec<Vec<Edge>>,
    reverse: Vec<Vec<(usize, usize)>>,
}

/// How many principals a node's shortest path is searched among at most: the graph of a real
/// account is far smaller; this only bounds a pathological one.
const MAX_NODES: usize = 200_000;

impl AccessAnalysis {
    /// Compiles the snapshot's policies and builds the graph. `environment` holds the session's
    /// condition keys (`aws:SourceIp`, `aws:MultiFactorAuthPresent`, ...), which every request
    /// of every path carries.
    pub fn new(snapshot: &AccountSnapshot, environment: &RequestContext) -> AccessAnalysis {
        let reference = Reference::embedded();
        let partition = if snapshot.partition.is_empty() {
            "aws".to_string()
        } else {
            snapshot.partition.clone()
        };
        let account = snapshot.account.clone();
        let managed: Vec<Managed> = snapshot
            .policies
            .iter()
            .map(|p| {
                let default = p.default_document().cloned().unwrap_or_else(empty_document);
                let mut others = PolicyDocument {
                    version: default.version.clone(),
                    id: None,
                    statements: Vec::new(),
                    statement_is_object: false,
                };
                for v in p.versions.iter().filter(|v| !v.is_default) {
                    others.statements.extend(
                        v.document
                            .statements
                            .iter()
                            .filter(|s| s.effect == Effect::Allow)
                            .cloned(),
                    );
                }
                Managed {
                    arn: p.arn.clone(),
                    customer: !p.is_aws_managed(),
                    compiled: Compiled::new(&default, p.arn.clone()),
                    others: (!others.statements.is_empty())
                        .then(|| Compiled::new(&others, format!("{}#other-versions", p.arn))),
                }
            })
            .collect();
        let managed_by_arn: HashMap<&str, usize> = managed
            .iter()
            .enumerate()
            .map(|(i, m)| (m.arn.as_str(), i))
            .collect();
        let attached = |arns: &[String]| -> Vec<usize> {
            arns.iter()
                .filter_map(|a| managed_by_arn.get(a.as_str()).copied())
                .collect()
        };
        let inline = |owner: &str, list: &[InlinePolicy]| -> Vec<Compiled> {
            list.iter()
                .map(|p| Compiled::new(&p.document, format!("{owner}#{}", p.name)))
                .collect()
        };
        let groups: Vec<GroupInfo> = snapshot
            .groups
            .iter()
            .map(|g| GroupInfo {
                arn: g.arn.clone(),
                inline: inline(&g.arn, &g.inline),
                attached: attached(&g.attached),
            })
            .collect();
        let group_by_name: HashMap<&str, usize> = snapshot
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.name.as_str(), i))
            .collect();
        let mut identities = Vec::new();
        for u in &snapshot.users {
            let principal = Principal::parse(&u.arn).unwrap_or(Principal::Anonymous);
            let mut context = environment.clone();
            context.set("aws:username", u.name.as_str());
            context.set("aws:PrincipalType", "User");
            identities.push(Identity {
                arn: u.arn.clone(),
                kind: IdentityKind::User,
                principal: Arc::new(principal),
                context: principal_context(context, &u.arn, &account, &u.tags),
                tags: u.tags.clone(),
                inline: inline(&u.arn, &u.inline),
                groups: u
                    .groups
                    .iter()
                    .filter_map(|g| group_by_name.get(g.as_str()).copied())
                    .collect(),
                attached: attached(&u.attached),
                boundary: u
                    .boundary
                    .as_deref()
                    .and_then(|b| managed_by_arn.get(b).copied()),
                trust: None,
            });
        }
        for r in &snapshot.roles {
            let principal = Principal::parse(&r.arn).unwrap_or(Principal::Anonymous);
            let mut context = environment.clone();
            context.set("aws:PrincipalType", "AssumedRole");
            identities.push(Identity {
                arn: r.arn.clone(),
                kind: IdentityKind::Role,
                principal: Arc::new(principal),
                context: principal_context(context, &r.arn, &account, &r.tags),
                tags: r.tags.clone(),
                inline: inline(&r.arn, &r.inline),
                groups: Vec::new(),
                attached: attached(&r.attached),
                boundary: r
                    .boundary
                    .as_deref()
                    .and_then(|b| managed_by_arn.get(b).copied()),
                trust: Some((
                    CompiledPolicy::new(&r.trust).with_name(format!("{}#trust-policy", r.arn)),
                    Conditional::of(&r.trust),
                )),
            });
        }
        let by_arn = identities
            .iter()
            .enumerate()
            .map(|(i, id)| (id.arn.clone(), i))
            .collect();
        let resource_policies = snapshot
            .resource_policies
            .iter()
            .map(|p| {
                (
                    p.arn.clone(),
                    (
                        CompiledPolicy::new(&p.document)
                            .with_name(format!("{}#resource-policy", p.arn)),
                        Conditional::of(&p.document),
                        p.document.clone(),
                    ),
                )
            })
            .collect();
        let allow_all = compile(ALLOW_ALL, WRITTEN_BY_PATH);
        let account_trust = compile(
            &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
                "Action": "sts:AssumeRole"}]})
            .to_string(),
            "account trust",
        );
        let mut analysis = AccessAnalysis {
            reference,
            account,
            partition,
            environment: environment.clone(),
            identities,
            by_arn,
            groups,
            managed,
            resource_policies,
            allow_all,
            allow_all_reach: Reach::of(&allow_all_document()),
            account_trust,
            trusted_by: HashMap::new(),
            open_roles: Vec::new(),
            anyone_roles: Vec::new(),
            sagemaker_roles: Vec::new(),
            nodes: Vec::new(),
            node_index: HashMap::new(),
            edges: Vec::new(),
            reverse: Vec::new(),
        };
        analysis.index_trust(snapshot);
        analysis.build_graph();
        analysis
    }

    /// Which roles each principal may be trusted by, from the trust policies' `Principal`
    /// elements: the engine decides each candidate, this only keeps it from deciding every pair.
    fn index_trust(&mut self, snapshot: &AccountSnapshot) {
        let root_forms = [
            self.account.clone(),
            format!("arn:{}:iam::{}:root", self.partition, self.account),
        ];
        for (r, role) in snapshot.roles.iter().enumerate() {
            let id = snapshot.users.len() + r;
            let (mut account, mut anyone) = (false, false);
            for statement in &role.trust.statements {
                if statement.effect != Effect::Allow {
                    continue;
                }
                let Some(principal) = &statement.principal else {
                    continue;
                };
                if principal.negated {
                    anyone = true;
                    continue;
                }
                let mut names: Vec<&str> = Vec::new();
                match &principal.value {
                    PrincipalElement::Wildcard => anyone = true,
                    PrincipalElement::Bare(text) => names.push(text),
                    PrincipalElement::Identifiers(list) => {
                        for (kind, values) in list {
                            if *kind == PrincipalKind::Aws {
                                names.extend(values.values.iter().map(String::as_str));
                            }
                        }
                    }
                }
                for text in names {
                    if text == "*" || text.contains(['*', '?']) {
                        anyone = true;
                    } else if root_forms.iter().any(|r| r == text) {
                        account = true;
                    } else {
                        let list = self.trusted_by.entry(text.to_string()).or_default();
                        if !list.contains(&id) {
                            list.push(id);
                        }
                    }
                }
            }
            if account {
                self.open_roles.push(id);
            }
            if anyone {
                self.anyone_roles.push(id);
            }
            let service = Principal::Service(sagemaker::SERVICE.into());
            let Some((trust, conditional)) = &self.identities[id].trust else {
                continue;
            };
            let set = PolicySet::new().with_resource(trust.clone());
            let mut request = Request::new(service, "sts:AssumeRole", &self.identities[id].arn);
            let mut context = self.environment.clone();
            context.set("aws:SourceAccount", self.account.as_str());
            *request.context_mut() = context.clone();
            let mut allowed = set.evaluate_brief(&request).is_allowed();
            if !allowed {
                // SageMaker sets the source of the job, whose name the caller chooses.
                let chosen = |key: &str| key.eq_ignore_ascii_case("aws:SourceArn");
                for candidate in choice::candidates_with(
                    self.reference,
                    "sts:AssumeRole",
                    &context,
                    &[conditional],
                    &chosen,
                ) {
                    *request.context_mut() = candidate;
                    if set.evaluate_brief(&request).is_allowed() {
                        allowed = true;
                        break;
                    }
                }
            }
            if allowed {
                self.sagemaker_roles.push(id);
            }
        }
    }

    /// The node of an identity with these gains, made when new.
    fn node(&mut self, identity: usize, gains: Gains) -> usize {
        if let Some(&n) = self.node_index.get(&(identity, gains)) {
            return n;
        }
        let id = &self.identities[identity];
        let mut groups = id.groups.clone();
        if let Some(g) = gains.extra_group
            && !groups.contains(&g)
        {
            groups.push(g);
        }
        let mut set = PolicySet::new();
        let mut conditional = Vec::new();
        let mut reach = Vec::new();
        let mut managed: Vec<usize> = id.attached.clone();
        let mut add = |c: &Compiled, set: &mut PolicySet| {
            *set = std::mem::take(set).with_identity(c.policy.clone());
            conditional.push(c.conditional.clone());
            reach.push(c.reach.clone());
        };
        for c in &id.inline {
            add(c, &mut set);
        }
        for &g in &groups {
            let group = &self.groups[g];
            for c in &group.inline {
                add(c, &mut set);
            }
            for &m in &group.attached {
                if !managed.contains(&m) {
                    managed.push(m);
                }
            }
        }
        for &m in &managed {
            let policy = &self.managed[m];
            add(&policy.compiled, &mut set);
            if gains.all_versions
                && let Some(c) = &policy.others
            {
                add(c, &mut set);
            }
        }
        if gains.allow_all {
            set = set.with_identity(self.allow_all.clone());
            reach.push(self.allow_all_reach.clone());
        }
        if let Some(b) = id.boundary
            && !gains.no_boundary
        {
            set = set.with_boundary(self.managed[b].compiled.policy.clone());
            conditional.push(self.managed[b].compiled.conditional.clone());
        }
        let n = self.nodes.len();
        self.nodes.push(Node {
            identity,
            gains,
            set,
            conditional,
            reach,
            groups,
            managed,
        });
        self.node_index.insert((identity, gains), n);
        n
    }

    fn build_graph(&mut self) {
        for i in 0..self.identities.len() {
            self.node(i, Gains::default());
        }
        // Rounds: the steps of every node not yet expanded are found on all cores (finding
        // only reads), then the nodes they reach are made, which may need another round.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let mut next = 0;
        while next < self.nodes.len() && self.nodes.len() < MAX_NODES {
            let batch: Vec<usize> = (next..self.nodes.len()).collect();
            let chunk = batch.len().div_ceil(threads).max(1);
            let this = &*self;
            let found: Vec<Vec<(usize, Gains, Vec<Step>)>> = std::thread::scope(|scope| {
                let workers: Vec<_> = batch
                    .chunks(chunk)
                    .map(|nodes| {
                        scope.spawn(move || {
                            nodes.iter().map(|&n| this.out_edges(n)).collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap_or_default())
                    .collect()
            });
            for (n, steps_found) in batch.into_iter().zip(found) {
                let mut edges: Vec<Edge> = Vec::new();
                for (identity, gains, steps) in steps_found {
                    let to = self.node(identity, gains);
                    if to != n && !edges.iter().any(|e| e.to == to) {
                        edges.push(Edge { to, steps });
                    }
                }
                self.edges.push(edges);
                next = n + 1;
            }
        }
        self.edges.resize_with(self.nodes.len(), Vec::new);
        self.reverse = vec![Vec::new(); self.nodes.len()];
        for (from, edges) in self.edges.iter().enumerate() {
            for (e, edge) in edges.iter().enumerate() {
                self.reverse[edge.to].push((from, e));
            }
        }
    }

    fn pattern(&self, kind: &str) -> String {
        format!("arn:{}:iam::{}:{kind}/*", self.partition, self.account)
    }

    fn admin_policy_arn(&self) -> String {
        format!("arn:{}:iam::aws:policy/AdministratorAccess", self.partition)
    }

    /// Every step the node can take: (identity, gains, steps) of the node it reaches.
    fn out_edges(&self, n: usize) -> Vec<(usize, Gains, Vec<Step>)> {
        let node = &self.nodes[n];
        let me = node.identity;
        let mut out: Vec<(usize, Gains, Vec<Step>)> = Vec::new();
        let act_as = self.act_as(n);
        for (target, step) in &act_as {
            out.push((*target, Gains::default(), vec![step.clone()]));
        }
        // An administrator gains nothing by rewriting permissions; it only becomes others
        // (whose names resource policies may grant to).
        if self.is_administrator(n) {
            return out;
        }
        // Gains of its own.
        let gains = node.gains;
        if !gains.allow_all
            && let Some(step) = self.edit_step(n, me, &node.groups, &node.managed)
        {
            out.push((
                me,
                Gains {
                    allow_all: true,
                    ..gains
                },
                vec![step],
            ));
        }
        if !gains.no_boundary
            && let Some(step) = self.boundary_step(n, me)
        {
            out.push((
                me,
                Gains {
                    no_boundary: true,
                    ..gains
                },
                vec![step],
            ));
        }
        if gains.allow_all {
            // Groups, older versions and others' permissions add nothing to allowing all.
            return out;
        }
        if !gains.all_versions
            && let Some(step) = self.version_step(n, &node.managed)
        {
            out.push((
                me,
                Gains {
                    all_versions: true,
                    ..gains
                },
                vec![step],
            ));
        }
        if self.identities[me].kind == IdentityKind::User && gains.extra_group.is_none() {
            for (g, step) in self.join_steps(n) {
                out.push((
                    me,
                    Gains {
                        extra_group: Some(g),
                        ..gains
                    },
                    vec![step],
                ));
            }
        }
        // Others' permissions, rewritten, then used.
        for (target, step) in act_as {
            let t = &self.identities[target];
            let mut managed = t.attached.clone();
            for &g in &t.groups {
                for &m in &self.groups[g].attached {
                    if !managed.contains(&m) {
                        managed.push(m);
                    }
                }
            }
            if let Some(edit) = self.edit_step(n, target, &t.groups, &managed) {
                out.push((
                    target,
                    Gains {
                        allow_all: true,
                        ..Gains::default()
                    },
                    vec![edit, step],
                ));
            }
        }
        out
    }

    /// The principals the node becomes in one step, each with the first way found.
    fn act_as(&self, n: usize) -> Vec<(usize, Step)> {
        let me = self.nodes[n].identity;
        let mut out: Vec<(usize, Step)> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::from([me]);
        let roles = self.pattern("role");
        // assume-role
        let mut candidates: Vec<usize> = Vec::new();
        let account_grant = Grant {
            compiled: &self.account_trust,
            conditional: &Conditional::default(),
        };
        if self
            .decide(n, "sts:AssumeRole", &roles, &[], Some(account_grant), false)
            .is_some()
        {
            candidates.extend(&self.open_roles);
        }
        // A trust policy that names the account needs the caller's own Allow.
        candidates.retain(|r| self.may(n, "sts:assumerole", &self.identities[*r].arn));
        candidates.extend(
            self.trusted_by
                .get(&self.identities[me].arn)
                .into_iter()
                .flatten(),
        );
        candidates.extend(&self.anyone_roles);
        candidates.sort_unstable();
        candidates.dedup();
        for role in candidates {
            if seen.contains(&role) {
                continue;
            }
            let target = &self.identities[role];
            let Some((trust, conditional)) = &target.trust else {
                continue;
            };
            let grant = Grant {
                compiled: trust,
                conditional,
            };
            let tags = resource_tags(&target.tags);
            if self
                .decide(n, "sts:AssumeRole", &target.arn, &tags, Some(grant), false)
                .is_some()
            {
                seen.insert(role);
                out.push((role, step(Via::AssumeRole, "sts:AssumeRole", &target.arn)));
            }
        }
        // pass-role
        if !self.sagemaker_roles.is_empty() {
            let passed = key("iam:PassedToService", sagemaker::SERVICE);
            if self
                .decide(
                    n,
                    "iam:PassRole",
                    &roles,
                    std::slice::from_ref(&passed),
                    None,
                    false,
                )
                .is_some()
                && let Some(runner) = self.role_runner(n)
            {
                for &role in &self.sagemaker_roles {
                    if seen.contains(&role)
                        || !self.may(n, "iam:passrole", &self.identities[role].arn)
                    {
                        continue;
                    }
                    let target = &self.identities[role];
                    let mut keys = resource_tags(&target.tags);
                    keys.push(passed.clone());
                    if self
                        .decide(n, "iam:PassRole", &target.arn, &keys, None, false)
                        .is_some()
                    {
                        seen.insert(role);
                        out.push((role, step(Via::PassRole, &runner, &target.arn)));
                    }
                }
            }
        }
        // credentials
        let users = self.pattern("user");
        for action in [
            "iam:CreateAccessKey",
            "iam:CreateLoginProfile",
            "iam:UpdateLoginProfile",
        ] {
            if self.decide(n, action, &users, &[], None, false).is_none() {
                continue;
            }
            let folded = action.to_ascii_lowercase();
            for (u, target) in self.identities.iter().enumerate() {
                if target.kind != IdentityKind::User
                    || seen.contains(&u)
                    || !self.may(n, &folded, &target.arn)
                {
                    continue;
                }
                let tags = resource_tags(&target.tags);
                if self
                    .decide(n, action, &target.arn, &tags, None, false)
                    .is_some()
                {
                    seen.insert(u);
                    out.push((u, step(Via::Credentials, action, &target.arn)));
                }
            }
        }
        // trust-edit
        if self
            .decide(n, "iam:UpdateAssumeRolePolicy", &roles, &[], None, false)
            .is_some()
        {
            let me_arn = &self.identities[me].arn;
            let naming_me = compile(
                &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": me_arn}, "Action": "sts:AssumeRole"}]})
                .to_string(),
                "rewritten trust policy",
            );
            let grant = Grant {
                compiled: &naming_me,
                conditional: &Conditional::default(),
            };
            for (r, target) in self.identities.iter().enumerate() {
                if target.kind != IdentityKind::Role
                    || seen.contains(&r)
                    || !self.may(n, "iam:updateassumerolepolicy", &target.arn)
                {
                    continue;
                }
                let tags = resource_tags(&target.tags);
                if self
                    .decide(
                        n,
                        "iam:UpdateAssumeRolePolicy",
                        &target.arn,
                        &tags,
                        None,
                        false,
                    )
                    .is_some()
                    && self
                        .decide(n, "sts:AssumeRole", &target.arn, &tags, Some(grant), false)
                        .is_some()
                {
                    seen.insert(r);
                    out.push((
                        r,
                        step(Via::TrustEdit, "iam:UpdateAssumeRolePolicy", &target.arn),
                    ));
                }
            }
        }
        out
    }

    /// The first SageMaker action (with those it needs) by which the node runs code as a role
    /// it passes, as `sagemaker:Action`.
    fn role_runner(&self, n: usize) -> Option<String> {
        let service = self.reference.service("sagemaker")?;
        let resource = |resource_type: &str| {
            service
                .resource_type(resource_type)
                .map(|rt| self.arn_pattern(rt.arn_pattern()))
        };
        'runners: for runner in ROLE_RUNNERS {
            let steps = std::iter::once((runner.action, runner.resource_type))
                .chain(runner.with.iter().copied());
            for (action, resource_type) in steps {
                let Some(arn) = resource(resource_type) else {
                    continue 'runners;
                };
                let action = format!("sagemaker:{action}");
                if self.decide(n, &action, &arn, &[], None, false).is_none() {
                    continue 'runners;
                }
            }
            return Some(format!("sagemaker:{}", runner.action));
        }
        None
    }

    /// An ARN pattern of AWS's data with this account: `arn:aws:sagemaker:*:111122223333:training-job/*`.
    fn arn_pattern(&self, template: &str) -> String {
        let text = template
            .replace("${Partition}", &self.partition)
            .replace("${Account}", &self.account);
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            out.push('*');
            rest = rest[start..]
                .find('}')
                .map_or("", |end| &rest[start + end + 1..]);
        }
        out.push_str(rest);
        out
    }

    /// A step by which the node gives `target` every permission (an inline policy, an
    /// attachment of AdministratorAccess, a group's policy, a new version of a managed policy).
    fn edit_step(
        &self,
        n: usize,
        target: usize,
        groups: &[usize],
        managed: &[usize],
    ) -> Option<Step> {
        let t = &self.identities[target];
        let admin = key("iam:PolicyARN", self.admin_policy_arn());
        let tags = resource_tags(&t.tags);
        let mut with_admin = tags.clone();
        with_admin.push(admin.clone());
        let (put, attach) = match t.kind {
            IdentityKind::Role => ("iam:PutRolePolicy", "iam:AttachRolePolicy"),
            IdentityKind::User => ("iam:PutUserPolicy", "iam:AttachUserPolicy"),
        };
        if self.decide(n, put, &t.arn, &tags, None, false).is_some() {
            return Some(step(Via::PolicyEdit, put, &t.arn));
        }
        if self
            .decide(n, attach, &t.arn, &with_admin, None, false)
            .is_some()
        {
            return Some(step(Via::PolicyEdit, attach, &t.arn));
        }
        for &g in groups {
            let arn = &self.groups[g].arn;
            if self
                .decide(n, "iam:PutGroupPolicy", arn, &[], None, false)
                .is_some()
            {
                return Some(step(Via::PolicyEdit, "iam:PutGroupPolicy", arn));
            }
            if self
                .decide(
                    n,
                    "iam:AttachGroupPolicy",
                    arn,
                    std::slice::from_ref(&admin),
                    None,
                    false,
                )
                .is_some()
            {
                return Some(step(Via::PolicyEdit, "iam:AttachGroupPolicy", arn));
            }
        }
        for &m in managed {
            let policy = &self.managed[m];
            if policy.customer
                && self
                    .decide(n, "iam:CreatePolicyVersion", &policy.arn, &[], None, false)
                    .is_some()
            {
                return Some(step(
                    Via::PolicyEdit,
                    "iam:CreatePolicyVersion",
                    &policy.arn,
                ));
            }
        }
        None
    }

    /// A step by which the node frees itself of its permissions boundary.
    fn boundary_step(&self, n: usize, me: usize) -> Option<Step> {
        let t = &self.identities[me];
        let boundary = t.boundary?;
        let (delete, put) = match t.kind {
            IdentityKind::Role => (
                "iam:DeleteRolePermissionsBoundary",
                "iam:PutRolePermissionsBoundary",
            ),
            IdentityKind::User => (
                "iam:DeleteUserPermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
            ),
        };
        let tags = resource_tags(&t.tags);
        if self.decide(n, delete, &t.arn, &tags, None, false).is_some() {
            return Some(step(Via::PolicyEdit, delete, &t.arn));
        }
        let mut keys = tags;
        keys.push(key("iam:PermissionsBoundary", self.admin_policy_arn()));
        if self.decide(n, put, &t.arn, &keys, None, false).is_some() {
            return Some(step(Via::PolicyEdit, put, &t.arn));
        }
        let policy = &self.managed[boundary];
        if policy.customer
            && self
                .decide(n, "iam:CreatePolicyVersion", &policy.arn, &[], None, false)
                .is_some()
        {
            return Some(step(
                Via::PolicyEdit,
                "iam:CreatePolicyVersion",
                &policy.arn,
            ));
        }
        None
    }

    /// A step by which the node makes older versions of its policies count.
    fn version_step(&self, n: usize, managed: &[usize]) -> Option<Step> {
        managed.iter().find_map(|&m| {
            let policy = &self.managed[m];
            (policy.customer
                && policy.others.is_some()
                && self
                    .decide(
                        n,
                        "iam:SetDefaultPolicyVersion",
                        &policy.arn,
                        &[],
                        None,
                        false,
                    )
                    .is_some())
            .then(|| step(Via::PolicyEdit, "iam:SetDefaultPolicyVersion", &policy.arn))
        })
    }

    /// The groups a user node can add itself to.
    fn join_steps(&self, n: usize) -> Vec<(usize, Step)> {
        let node = &self.nodes[n];
        if self
            .decide(
                n,
                "iam:AddUserToGroup",
                &self.pattern("group"),
                &[],
                None,
                false,
            )
            .is_none()
        {
            return Vec::new();
        }
        self.groups
            .iter()
            .enumerate()
            .filter(|(g, group)| {
                !node.groups.contains(g) && self.may(n, "iam:addusertogroup", &group.arn)
            })
            .filter(|(_, group)| {
                self.decide(n, "iam:AddUserToGroup", &group.arn, &[], None, false)
                    .is_some()
            })
            .map(|(g, group)| {
                (
                    g,
                    step(Via::GroupMembership, "iam:AddUserToGroup", &group.arn),
                )
            })
            .collect()
    }

    /// Whether some `Allow` of the node's identity policies may grant `action` (lowercase) on
    /// `resource`: a filter before the engine decides (see [`crate::reach`]).
    fn may(&self, n: usize, action_folded: &str, resource: &str) -> bool {
        self.nodes[n]
            .reach
            .iter()
            .any(|r| r.may_reach(action_folded, resource))
    }

    /// Decides a request of the node, with the values the caller chooses; the decision when
    /// allowed (with its matched statements when `record`).
    fn decide(
        &self,
        n: usize,
        action: &str,
        resource: &str,
        keys: &[(String, ContextValue)],
        grant: Option<Grant<'_>>,
        record: bool,
    ) -> Option<Decision> {
        let node = &self.nodes[n];
        let id = &self.identities[node.identity];
        let mut context = id.context.clone();
        for (k, v) in keys {
            context.insert(k, v.clone());
        }
        let owned;
        let set = match grant {
            Some(g) => {
                owned = node.set.clone().with_resource(g.compiled.clone());
                &owned
            }
            None => &node.set,
        };
        let mut request = Request::new_shared(Arc::clone(&id.principal), action, resource);
        if request.resource_account().is_none() {
            request.set_resource_account(&self.account);
        }
        request.infer_wildcard_only_action(self.reference);
        *request.context_mut() = context.clone();
        let finish = |request: &Request| {
            Some(if record {
                set.evaluate(request)
            } else {
                set.evaluate_brief(request)
            })
        };
        if set.evaluate_brief(&request).is_allowed() {
            return finish(&request);
        }
        let mut policies: Vec<&Conditional> = node.conditional.iter().collect();
        if let Some(g) = grant {
            policies.push(g.conditional);
        }
        if policies.iter().all(|p| p.is_empty()) {
            return None;
        }
        for candidate in choice::candidates(self.reference, action, &context, &policies) {
            *request.context_mut() = candidate;
            if set.evaluate_brief(&request).is_allowed() {
                return finish(&request);
            }
        }
        None
    }

    /// The resource policy that bears on a request: a role's trust policy for
    /// `sts:AssumeRole*`, else the one given for the resource.
    fn grant_for(&self, query: &Query) -> Option<Grant<'_>> {
        if query
            .action
            .to_ascii_lowercase()
            .starts_with("sts:assumerole")
            && let Some(&i) = self.by_arn.get(&query.resource)
            && let Some((compiled, conditional)) = &self.identities[i].trust
        {
            return Some(Grant {
                compiled,
                conditional,
            });
        }
        self.resource_policy(&query.resource)
            .map(|(compiled, conditional, _)| Grant {
                compiled,
                conditional,
            })
    }

    /// The resource policy given for `resource`, or for the bucket an S3 object is in.
    fn resource_policy(
        &self,
        resource: &str,
    ) -> Option<&(CompiledPolicy, Conditional, PolicyDocument)> {
        self.resource_policies.get(resource).or_else(|| {
            let bucket = resource.strip_prefix("arn:")?.split_once(":s3:::")?.1;
            let (bucket, _) = bucket.split_once('/')?;
            let partition = resource.split(':').nth(1)?;
            self.resource_policies
                .get(&format!("arn:{partition}:s3:::{bucket}"))
        })
    }

    /// The keys a request on the query's resource carries: its tags, when it is a principal.
    fn query_keys(&self, query: &Query) -> Vec<(String, ContextValue)> {
        self.by_arn
            .get(&query.resource)
            .map(|&i| resource_tags(&self.identities[i].tags))
            .unwrap_or_default()
    }

    /// Which nodes can perform the query directly, with the statements that grant it.
    fn goals(&self, query: &Query) -> Vec<Option<Vec<StatementRef>>> {
        let grant = self.grant_for(query);
        let keys = self.query_keys(query);
        (0..self.nodes.len())
            .map(|n| {
                self.decide(n, &query.action, &query.resource, &keys, grant, true)
                    .map(|d| statements(&d))
            })
            .collect()
    }

    /// Shortest paths to any goal, for every node: (edge index, next node) per node on a path.
    fn backwards(&self, goal: &[bool]) -> Vec<Option<Option<(usize, usize)>>> {
        let mut next: Vec<Option<Option<(usize, usize)>>> = vec![None; self.nodes.len()];
        let mut queue = VecDeque::new();
        for (n, &g) in goal.iter().enumerate() {
            if g {
                next[n] = Some(None);
                queue.push_back(n);
            }
        }
        while let Some(m) = queue.pop_front() {
            for &(from, e) in &self.reverse[m] {
                if next[from].is_none() {
                    next[from] = Some(Some((e, m)));
                    queue.push_back(from);
                }
            }
        }
        next
    }

    /// The steps from `n` along `next`, and the goal node reached.
    fn path(&self, mut n: usize, next: &[Option<Option<(usize, usize)>>]) -> (Vec<Step>, usize) {
        let mut steps = Vec::new();
        while let Some(Some((e, m))) = next[n] {
            steps.extend(self.edges[n][e].steps.iter().cloned());
            n = m;
        }
        (steps, n)
    }

    /// Every principal that can perform the request, directly or by a path, with the
    /// statements that grant it at the end; sorted: direct first, then by ARN.
    pub fn who_can(&self, query: &Query) -> Vec<Access> {
        let goals = self.goals(query);
        let flags: Vec<bool> = goals.iter().map(Option::is_some).collect();
        let next = self.backwards(&flags);
        let mut out = Vec::new();
        for (i, identity) in self.identities.iter().enumerate() {
            let Some(&n) = self.node_index.get(&(i, Gains::default())) else {
                continue;
            };
            if next[n].is_none() {
                continue;
            }
            let (path, end) = self.path(n, &next);
            out.push(Access {
                principal: identity.arn.clone(),
                direct: path.is_empty(),
                path,
                statements: goals[end].clone().unwrap_or_default(),
            });
        }
        out.extend(self.outside_principals(query));
        out.sort_by(|a, b| {
            b.direct
                .cmp(&a.direct)
                .then_with(|| a.principal.cmp(&b.principal))
        });
        out
    }

    /// Accounts, outside principals and services that the resource's policy grants the
    /// request to. An outside account's own policies are not in the snapshot; it is listed
    /// when the resource policy grants it, since its administrators can pass the grant on.
    fn outside_principals(&self, query: &Query) -> Vec<Access> {
        let Some((compiled, _, document)) = self.resource_policy(&query.resource) else {
            return Vec::new();
        };
        let own_root = format!("arn:{}:iam::{}:root", self.partition, self.account);
        let mut names: Vec<String> = Vec::new();
        for statement in document
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
        {
            let Some(principal) = &statement.principal else {
                continue;
            };
            if principal.negated {
                continue;
            }
            let mut add = |text: &str| {
                let text = if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
                    format!("arn:{}:iam::{text}:root", self.partition)
                } else {
                    text.to_string()
                };
                if text != own_root && !self.by_arn.contains_key(&text) && !names.contains(&text) {
                    names.push(text);
                }
            };
            match &principal.value {
                PrincipalElement::Wildcard => add("*"),
                PrincipalElement::Bare(text) => add(text),
                PrincipalElement::Identifiers(list) => {
                    for (kind, values) in list {
                        if matches!(kind, PrincipalKind::Aws | PrincipalKind::Service) {
                            values.values.iter().for_each(|v| add(v));
                        }
                    }
                }
            }
        }
        names
            .into_iter()
            .filter_map(|name| {
                let principal = Principal::parse(&name).ok()?;
                let mut set = PolicySet::new().with_resource(compiled.clone());
                if matches!(principal, Principal::Aws(_)) {
                    set = set.with_identity(self.allow_all.clone());
                }
                let mut request = Request::new(principal, &query.action, &query.resource);
                if request.resource_account().is_none() {
                    request.set_resource_account(&self.account);
                }
                request.infer_wildcard_only_action(self.reference);
                *request.context_mut() = self.environment.clone();
                let decision = set.evaluate(&request);
                decision.is_allowed().then(|| Access {
                    principal: name,
                    direct: true,
                    path: Vec::new(),
                    statements: statements(&decision)
                        .into_iter()
                        .filter(|s| s.policy != WRITTEN_BY_PATH)
                        .collect(),
                })
            })
            .collect()
    }

    /// The identity a principal names: its ARN, `user/NAME`, `role/NAME`, or a name that only
    /// one user or role has.
    fn identity_of(&self, principal: &str) -> Result<usize, QueryError> {
        if let Some(&i) = self.by_arn.get(principal) {
            return Ok(i);
        }
        let wanted = principal.trim();
        let matches: Vec<usize> = self
            .identities
            .iter()
            .enumerate()
            .filter(|(_, id)| {
                // `user/path/name`: the part of the ARN after its fifth colon.
                let tail = id.arn.splitn(6, ':').nth(5).unwrap_or_default();
                let name = tail.rsplit('/').next().unwrap_or(tail);
                let kind = tail.split('/').next().unwrap_or_default();
                wanted == name || wanted == format!("{kind}/{name}")
            })
            .map(|(i, _)| i)
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(QueryError::UnknownPrincipal {
                principal: principal.into(),
                help: "; give a user or role ARN (or `user/NAME`, `role/NAME`) from the snapshot"
                    .into(),
            }),
            _ => Err(QueryError::UnknownPrincipal {
                principal: principal.into(),
                help: "; both a user and a role have that name: write `user/NAME` or `role/NAME`"
                    .into(),
            }),
        }
    }

    /// Whether one principal can perform the request, with its shortest path.
    pub fn can(&self, principal: &str, query: &Query) -> Result<CanAnswer, QueryError> {
        let identity = self.identity_of(principal)?;
        let start = self
            .node_index
            .get(&(identity, Gains::default()))
            .copied()
            .unwrap_or_default();
        let grant = self.grant_for(query);
        let keys = self.query_keys(query);
        // Forward, deciding each node as it is reached: one principal's reach is small.
        let mut parent: HashMap<usize, Option<(usize, usize)>> = HashMap::from([(start, None)]);
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            if let Some(decision) =
                self.decide(n, &query.action, &query.resource, &keys, grant, true)
            {
                let mut path = Vec::new();
                let mut at = n;
                while let Some(Some((from, e))) = parent.get(&at) {
                    path.splice(0..0, self.edges[*from][*e].steps.iter().cloned());
                    at = *from;
                }
                return Ok(CanAnswer {
                    principal: self.identities[identity].arn.clone(),
                    can: true,
                    path,
                    statements: statements(&decision),
                });
            }
            for (e, edge) in self.edges[n].iter().enumerate() {
                if let std::collections::hash_map::Entry::Vacant(slot) = parent.entry(edge.to) {
                    slot.insert(Some((n, e)));
                    queue.push_back(edge.to);
                }
            }
        }
        Ok(CanAnswer {
            principal: self.identities[identity].arn.clone(),
            can: false,
            path: Vec::new(),
            statements: Vec::new(),
        })
    }

    /// Whether a node is an administrator: see [`AccessAnalysis::access_review`].
    fn is_administrator(&self, n: usize) -> bool {
        let p = &self.partition;
        let a = &self.account;
        let probes = [
            (
                "rolewrightprobe:AnyAction".to_string(),
                format!("arn:{p}:rolewrightprobe:us-east-1:{a}:probe/any"),
            ),
            (
                "iam:PutRolePolicy".to_string(),
                format!("arn:{p}:iam::{a}:role/rolewright-probe-role"),
            ),
            (
                "iam:CreateAccessKey".to_string(),
                format!("arn:{p}:iam::{a}:user/rolewright-probe-user"),
            ),
            (
                "iam:PassRole".to_string(),
                format!("arn:{p}:iam::{a}:role/rolewright-probe-role"),
            ),
            (
                "s3:GetObject".to_string(),
                format!("arn:{p}:s3:::rolewright-probe-bucket/object"),
            ),
            (
                "secretsmanager:GetSecretValue".to_string(),
                format!("arn:{p}:secretsmanager:us-east-1:{a}:secret:rolewright-probe-secret"),
            ),
            (
                "sagemaker:CreateTrainingJob".to_string(),
                format!("arn:{p}:sagemaker:us-east-1:{a}:training-job/rolewright-probe-job"),
            ),
        ];
        let node = &self.nodes[n];
        let id = &self.identities[node.identity];
        probes.iter().all(|(action, resource)| {
            let mut request = Request::new_shared(Arc::clone(&id.principal), action, resource);
            if request.resource_account().is_none() {
                request.set_resource_account(a);
            }
            *request.context_mut() = id.context.clone();
            node.set.evaluate_brief(&request).is_allowed()
        })
    }

    /// The principals that are administrators, and those that can become one, with the
    /// shortest path; sorted by ARN.
    ///
    /// An *administrator* is allowed everything on everything, in the session context given:
    /// checked as being allowed, with no condition values chosen, an action of a made-up
    /// service on a made-up resource (which only `"Action": "*"` or a `NotAction`, with
    /// `"Resource": "*"`, grants) and a few sensitive actions on made-up resources of their
    /// own (`iam:PutRolePolicy`, `iam:CreateAccessKey`, `iam:PassRole`, `s3:GetObject`,
    /// `secretsmanager:GetSecretValue`, `sagemaker:CreateTrainingJob`), so that a `Deny` on a service or a
    /// boundary that leaves services out stops it. A principal *can become* an administrator
    /// when a path of the graph (see the module documentation) leads to a principal, or to
    /// gained permissions, that is one: `iam:*` on `*` is thus "can become" by attaching
    /// `AdministratorAccess` to itself, in one `policy-edit` step.
    pub fn access_review(&self) -> Vec<Finding> {
        let admin: Vec<bool> = (0..self.nodes.len())
            .map(|n| self.is_administrator(n))
            .collect();
        let next = self.backwards(&admin);
        let mut out = Vec::new();
        for (i, identity) in self.identities.iter().enumerate() {
            let Some(&n) = self.node_index.get(&(i, Gains::default())) else {
                continue;
            };
            if next[n].is_none() {
                continue;
            }
            let (path, _) = self.path(n, &next);
            out.push(Finding {
                principal: identity.arn.clone(),
                finding: if path.is_empty() {
                    FindingKind::Administrator
                } else {
                    FindingKind::CanBecomeAdministrator
                },
                path,
            });
        }
        out.sort_by(|a, b| a.principal.cmp(&b.principal));
        out
    }

    /// How many nodes and edges the graph has (principals, and principals with gains).
    pub fn graph_size(&self) -> (usize, usize) {
        (self.nodes.len(), self.edges.iter().map(Vec::len).sum())
    }
}

fn step(via: Via, action: &str, resource: &str) -> Step {
    Step {
        via,
        action: action.to_string(),
        resource: resource.to_string(),
    }
}

/// The statements of an allowed decision that grant it (identity and resource policies).
fn statements(decision: &Decision) -> Vec<StatementRef> {
    let mut out: Vec<StatementRef> = Vec::new();
    for m in decision.statements(Effect::Allow) {
        if !matches!(m.kind, PolicyKind::Identity | PolicyKind::Resource) {
            continue;
        }
        let s = StatementRef {
            policy: m.policy_name.as_deref().unwrap_or_default().to_string(),
            sid: m.sid.as_deref().map(str::to_string),
            index: m.statement_index,
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The keys that describe a principal in its own requests.
fn principal_context(
    mut context: RequestContext,
    arn: &str,
    account: &str,
    tags: &[(String, String)],
) -> RequestContext {
    context.set("aws:PrincipalArn", arn);
    context.set("aws:PrincipalAccount", account);
    for (k, v) in tags {
        context.set(&format!("aws:PrincipalTag/{k}"), v.as_str());
    }
    context
}

/// The keys of a request on a tagged user or role.
fn resource_tags(tags: &[(String, String)]) -> Vec<(String, ContextValue)> {
    let mut keys = Vec::with_capacity(tags.len() * 2);
    for (k, v) in tags {
        for prefix in ["aws", "iam"] {
            keys.push((
                format!("{prefix}:ResourceTag/{k}"),
                ContextValue::Single(v.clone()),
            ));
        }
    }
    keys
}

/// A condition key with one value.
fn key(name: &str, value: impl Into<String>) -> (String, ContextValue) {
    (name.to_string(), ContextValue::Single(value.into()))
}

fn compile(text: &str, name: &str) -> CompiledPolicy {
    match PolicyDocument::parse(text) {
        Ok(doc) => CompiledPolicy::new(&doc).with_name(name),
        Err(_) => CompiledPolicy::new(&empty_document()).with_name(name),
    }
}

fn allow_all_document() -> PolicyDocument {
    PolicyDocument::parse(ALLOW_ALL).unwrap_or_else(|_| empty_document())
}

const ALLOW_ALL: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#;

fn empty_document() -> PolicyDocument {
    PolicyDocument {
        version: Some("2012-10-17".into()),
        id: None,
        statements: Vec::new(),
        statement_is_object: false,
    }
}
