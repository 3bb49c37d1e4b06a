//! Compiled policies: each statement's actions, resources, principals and conditions turned into
//! matchers once, and statements indexed by service prefix so a request only visits the
//! statements that can name its action.

use std::sync::Arc;

use crate::arn::{ArnParts, ArnPattern, ArnTemplate};
use crate::ast::{Effect, PolicyDocument, Principal as PrincipalElement, PrincipalKind, Statement};
use crate::condition::{CompiledCondition, compile_block};
use crate::request::{AwsPrincipalKind, Principal, Request};
use crate::wildcard::{Wildcard, fold};

/// How a statement's `Principal` matched the caller; this decides which other policies still
/// limit a grant from a resource policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// The statement names the caller's account (`123456789012` or its `root` ARN): it delegates
    /// to the account, whose identity policies must also allow.
    Account,
    /// The statement names the IAM role whose session is calling (or the role itself).
    Role,
    /// The statement names the caller exactly (user, session, service), or everyone (`*`).
    Direct,
}

/// A policy compiled for evaluation. `Send + Sync`; evaluate it from any number of threads.
/// Clones share the compiled statements, so that one policy attached to many principals (a
/// managed policy, a role's trust policy) can take part in many policy sets for the price of a
/// few reference counts.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) name: Option<Arc<str>>,
    pub(crate) statements: Arc<[CompiledStatement]>,
    /// For each service prefix that some statement names, every statement that can match its
    /// actions (those naming it and those matching any service), in document order. A policy names a
    /// handful of services, so a short list scanned in order beats hashing.
    by_service: Arc<[(u64, Box<[u32]>)]>,
    /// Statements whose actions can match any service (`*`, `NotAction`, `s*:Get*`, ...).
    any_service: Arc<[u32]>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledStatement {
    pub(crate) index: usize,
    pub(crate) sid: Option<Arc<str>>,
    pub(crate) effect: Effect,
    principal: Option<PrincipalMatcher>,
    actions: Option<ActionMatcher>,
    resources: Option<ResourceMatcher>,
    conditions: Vec<CompiledCondition>,
}

#[derive(Debug, Clone)]
struct ActionMatcher {
    negated: bool,
    /// Literal actions, lowercased, with their hashes, sorted by hash: a lookup compares
    /// integers and touches text only on a hash hit.
    exact: Vec<(u64, Box<str>)>,
    /// Wildcard actions, with their service prefix when it has no wildcard.
    patterns: Vec<(Option<Box<str>>, Wildcard)>,
}

#[derive(Debug, Clone)]
struct ResourceMatcher {
    negated: bool,
    patterns: Vec<ArnTemplate>,
    /// The patterns as written, for narrowing requests that name a set of resources.
    texts: Vec<Box<str>>,
}

#[derive(Debug, Clone)]
struct PrincipalMatcher {
    negated: bool,
    everyone: bool,
    aws_everyone: bool,
    accounts: Vec<String>,
    /// Exact ARNs of users, sessions and other identities.
    arns: Vec<String>,
    /// Roles, by (account, name), which also match their sessions.
    roles: Vec<(String, String, String)>,
    services: Vec<String>,
    others: Vec<String>,
}

impl CompiledPolicy {
    /// Compiles a parsed document.
    ///
    /// ```
    /// use rolewright_iam::{CompiledPolicy, PolicyDocument};
    /// let doc = PolicyDocument::parse(r#"{"Version": "2012-10-17", "Statement": [
    ///     {"Effect": "Allow", "Action": "sagemaker:Describe*", "Resource": "*"}]}"#)?;
    /// let policy = CompiledPolicy::new(&doc).with_name("describe");
    /// assert_eq!(policy.name(), Some("describe"));
    /// # Ok::<(), rolewright_iam::PolicyErrors>(())
    /// ```
    pub fn new(document: &PolicyDocument) -> CompiledPolicy {
        let variables = document.supports_variables();
        let statements: Vec<CompiledStatement> = document
            .statements
            .iter()
            .enumerate()
            .map(|(i, s)| compile_statement(i, s, variables))
            .collect();
        let mut by_service: Vec<(u64, Vec<u32>)> = Vec::new();
        let mut any_service = Vec::new();
        for (i, statement) in statements.iter().enumerate() {
            let i = i as u32;
            match statement.services() {
                Some(services) => {
                    for service in services {
                        let service = text_hash(service);
                        match by_service.iter_mut().find(|(s, _)| *s == service) {
                            Some((_, slot)) => {
                                if slot.last() != Some(&i) {
                                    slot.push(i);
                                }
                            }
                            None => by_service.push((service, vec![i])),
                        }
                    }
                }
                None => any_service.push(i),
            }
        }
        // Fold the any-service statements into each service's list, so that a request walks
        // one list in document order.
        let by_service: Vec<(u64, Box<[u32]>)> = by_service
            .into_iter()
            .map(|(service, mut list)| {
                list.extend(&any_service);
                list.sort_unstable();
                list.dedup();
                (service, list.into_boxed_slice())
            })
            .collect();
        CompiledPolicy {
            name: None,
            statements: statements.into(),
            by_service: by_service.into(),
            any_service: any_service.into(),
        }
    }

    /// Names the policy, so decisions can say which policy matched.
    pub fn with_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The policy's name, when it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// For a request that names a set of resources (`arn:aws:s3:::bucket/*`), the narrower
    /// sets that this policy's `Allow` statements reach: an Allow on `bucket/public/*` narrows
    /// the request to `bucket/public/*`, an Allow on `*` leaves it as it is.
    pub(crate) fn allowed_subsets(&self, request: &Request, out: &mut Vec<String>) {
        let requested = ArnPattern::new(&request.resource);
        for statement in self.statements.iter() {
            if statement.effect != Effect::Allow {
                continue;
            }
            let Some(actions) = &statement.actions else {
                continue;
            };
            if !actions.matches(&request.action_folded, request.action_hash) {
                continue;
            }
            let Some(resources) = &statement.resources else {
                continue;
            };
            if resources.negated {
                continue;
            }
            for (pattern, text) in resources.patterns.iter().zip(&resources.texts) {
                let ArnTemplate::Fixed(pattern) = pattern else {
                    continue;
                };
                if !pattern.relates_to(&request.resource, false) {
                    continue;
                }
                // A shortened ARN (`arn:aws:sqs`) names no set of its own to narrow to.
                let full = !text.starts_with("arn:") || ArnParts::parse(text).is_some();
                let narrower = if full && requested.relates_to(text, true) {
                    text.to_string()
                } else {
                    request.resource.clone()
                };
                if !out.contains(&narrower) {
                    out.push(narrower);
                }
            }
        }
    }

    /// Whether a `Deny` of this policy reaches part, but not all, of the set of resources the
    /// request names: only then can narrowing the request change an allowed decision.
    pub(crate) fn denies_part_of(&self, request: &Request) -> bool {
        self.statements.iter().any(|statement| {
            statement.effect == Effect::Deny
                && statement
                    .actions
                    .as_ref()
                    .is_some_and(|a| a.matches(&request.action_folded, request.action_hash))
                && statement.resources.as_ref().is_some_and(|r| {
                    r.negated
                        || r.patterns.iter().any(|p| match p {
                            ArnTemplate::Fixed(p) => p.relates_to(&request.resource, false),
                            ArnTemplate::Variable(_) => true,
                        })
                })
        })
    }

    /// Calls `f` for every statement that matches the request, in document order.
    /// `principal_required` is set for resource-based policies, where a statement without a
    /// `Principal` never applies.
    pub(crate) fn for_each_match(
        &self,
        request: &Request,
        arn: Option<&ArnParts<'_>>,
        kind: MatchMode,
        mut f: impl FnMut(&CompiledStatement, Option<PrincipalMatch>),
    ) {
        // Services are told apart by hash alone: a collision would only visit extra
        // statements, which then check the action text itself.
        let service = request.service_hash;
        let candidates = self
            .by_service
            .iter()
            .find(|(s, _)| *s == service)
            .map_or(&self.any_service[..], |(_, v)| v);
        for &next in candidates {
            let statement = &self.statements[next as usize];
            if let Some(m) = statement.matches(request, arn, kind) {
                f(statement, m);
            }
        }
    }
}

/// How statements are matched, by the kind of policy they are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchMode {
    /// Identity-like policies: no principal, a resource is required.
    Identity,
    /// Resource policies: a principal is required, an absent resource means this resource.
    Resource,
    /// A resource policy evaluated for a caller with a permissions boundary: AWS then applies a
    /// `Deny` with `NotPrincipal` to the caller even when `NotPrincipal` names it.
    ResourceBoundedCaller,
    /// Organization and endpoint policies: a principal is checked when present.
    Guardrail,
}

fn compile_statement(index: usize, s: &Statement, variables: bool) -> CompiledStatement {
    let actions = s.action.as_ref().map(|a| {
        let mut exact = Vec::new();
        let mut patterns = Vec::new();
        for action in &a.value.values {
            if !action.contains(['*', '?']) {
                let text = fold(action, true);
                exact.push((text_hash(&text), text.into_boxed_str()));
                continue;
            }
            let w = Wildcard::new(action, true);
            match w.exact_text() {
                Some(text) => exact.push((text_hash(text), text.into())),
                None => {
                    let service = action
                        .split_once(':')
                        .map(|(s, _)| s)
                        .filter(|s| !s.contains(['*', '?']))
                        .map(|s| s.to_ascii_lowercase().into_boxed_str());
                    patterns.push((service, w));
                }
            }
        }
        exact.sort_unstable_by_key(|(hash, _)| *hash);
        exact.dedup();
        ActionMatcher {
            negated: a.negated,
            exact,
            patterns,
        }
    });
    let resources = s.resource.as_ref().map(|r| ResourceMatcher {
        negated: r.negated,
        patterns: r
            .value
            .values
            .iter()
            .map(|v| ArnTemplate::new(v, variables))
            .collect(),
        texts: r.value.values.iter().map(|v| v.as_str().into()).collect(),
    });
    let principal = s
        .principal
        .as_ref()
        .map(|p| compile_principal(p.negated, &p.value));
    let conditions = s
        .condition
        .iter()
        .flatten()
        .flat_map(|block| compile_block(block, variables))
        .collect();
    CompiledStatement {
        index,
        sid: s.sid.as_deref().map(Arc::from),
        effect: s.effect,
        principal,
        actions,
        resources,
        conditions,
    }
}

fn compile_principal(negated: bool, p: &PrincipalElement) -> PrincipalMatcher {
    let mut m = PrincipalMatcher {
        negated,
        everyone: false,
        aws_everyone: false,
        accounts: Vec::new(),
        arns: Vec::new(),
        roles: Vec::new(),
        services: Vec::new(),
        others: Vec::new(),
    };
    match p {
        PrincipalElement::Wildcard => m.everyone = true,
        PrincipalElement::Bare(value) => add_aws_principal(&mut m, value),
        PrincipalElement::Identifiers(ids) => {
            for (kind, list) in ids {
                for value in &list.values {
                    match kind {
                        PrincipalKind::Aws => add_aws_principal(&mut m, value),
                        PrincipalKind::Service => m.services.push(value.to_ascii_lowercase()),
                        PrincipalKind::Federated | PrincipalKind::CanonicalUser => {
                            if value == "*" {
                                m.everyone = true;
                            } else {
                                m.others.push(value.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    m
}

fn add_aws_principal(m: &mut PrincipalMatcher, value: &str) {
    if value == "*" {
        m.aws_everyone = true;
        return;
    }
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        m.accounts.push(value.to_string());
        return;
    }
    match Principal::parse(value) {
        Ok(Principal::Aws(p)) => match p.kind {
            AwsPrincipalKind::Root => m.accounts.push(p.account),
            AwsPrincipalKind::Role { name } => m.roles.push((p.account, name, p.arn)),
            _ => m.arns.push(p.arn),
        },
        _ => m.arns.push(value.to_string()),
    }
}

impl PrincipalMatcher {
    fn listed(&self, principal: &Principal) -> Option<PrincipalMatch> {
        if self.everyone {
            return Some(PrincipalMatch::Direct);
        }
        match principal {
            Principal::Anonymous => self.aws_everyone.then_some(PrincipalMatch::Direct),
            Principal::Service(name) => {
                let lower = name.to_ascii_lowercase();
                self.services
                    .contains(&lower)
                    .then_some(PrincipalMatch::Direct)
            }
            Principal::Aws(p) => {
                if self.aws_everyone || self.arns.contains(&p.arn) {
                    return Some(PrincipalMatch::Direct);
                }
                let role_match = match &p.kind {
                    AwsPrincipalKind::Role { .. } => {
                        self.roles.iter().any(|(_, _, arn)| *arn == p.arn)
                    }
                    AwsPrincipalKind::AssumedRole { role, .. } => self
                        .roles
                        .iter()
                        .any(|(account, name, _)| *account == p.account && name == role),
                    _ => false,
                };
                if role_match {
                    return Some(PrincipalMatch::Role);
                }
                if self.accounts.contains(&p.account) {
                    return Some(PrincipalMatch::Account);
                }
                None
            }
        }
    }

    fn matches(&self, principal: &Principal) -> Option<PrincipalMatch> {
        let listed = self.listed(principal);
        if self.negated {
            match listed {
                Some(_) => None,
                None => Some(PrincipalMatch::Direct),
            }
        } else {
            listed
        }
    }
}

impl ActionMatcher {
    fn matches(&self, action_folded: &str, action_hash: u64) -> bool {
        let start = self.exact.partition_point(|(h, _)| *h < action_hash);
        let listed = self.exact[start..]
            .iter()
            .take_while(|(h, _)| *h == action_hash)
            .any(|(_, a)| **a == *action_folded)
            || self
                .patterns
                .iter()
                .any(|(_, p)| p.matches_folded(action_folded));
        listed != self.negated
    }
}

impl ResourceMatcher {
    fn matches(&self, request: &Request, arn: Option<&ArnParts<'_>>, effect: Effect) -> bool {
        // When the request names a set of resources, an Allow needs to reach some of them and a
        // Deny must cover all of them; through `NotResource` the two roles swap.
        let covers = (effect == Effect::Deny) != self.negated;
        let listed = self.patterns.iter().any(|p| match p {
            ArnTemplate::Fixed(pattern) => resource_pattern_matches(pattern, request, arn, covers),
            ArnTemplate::Variable(t) => match t.resolve_pieces(&request.context) {
                Some(pieces) => resource_pattern_matches(
                    &ArnPattern::from_pieces(&pieces),
                    request,
                    arn,
                    covers,
                ),
                None => false,
            },
        });
        listed != self.negated
    }
}

fn resource_pattern_matches(
    pattern: &ArnPattern,
    request: &Request,
    arn: Option<&ArnParts<'_>>,
    covers: bool,
) -> bool {
    if request.wildcard_only_action {
        // An action without resource types is authorized only by `Resource: "*"`.
        return matches!(pattern, ArnPattern::Everything);
    }
    if request.resource_is_pattern {
        return pattern.relates_to(&request.resource, covers);
    }
    pattern.matches(&request.resource, arn)
}

impl CompiledStatement {
    /// The lowercased service prefixes this statement can match, or `None` when it can match
    /// actions of any service.
    fn services(&self) -> Option<Vec<&str>> {
        let actions = self.actions.as_ref()?;
        if actions.negated {
            return None;
        }
        let mut out: Vec<&str> = Vec::new();
        // Actions without `:` never match a request; index them under their own text.
        let exact = actions
            .exact
            .iter()
            .map(|(_, a)| a.split_once(':').map_or(&**a, |(s, _)| s));
        for service in exact {
            if !out.contains(&service) {
                out.push(service);
            }
        }
        for (service, _) in &actions.patterns {
            let service = service.as_deref()?;
            if !out.contains(&service) {
                out.push(service);
            }
        }
        Some(out)
    }

    fn matches(
        &self,
        request: &Request,
        arn: Option<&ArnParts<'_>>,
        mode: MatchMode,
    ) -> Option<Option<PrincipalMatch>> {
        let actions = self.actions.as_ref()?;
        if !actions.matches(&request.action_folded, request.action_hash) {
            return None;
        }
        let resource_mode = matches!(mode, MatchMode::Resource | MatchMode::ResourceBoundedCaller);
        let principal_match = match (&self.principal, mode) {
            (Some(p), MatchMode::ResourceBoundedCaller)
                if p.negated
                    && self.effect == Effect::Deny
                    && matches!(*request.principal, Principal::Aws(_)) =>
            {
                Some(PrincipalMatch::Direct)
            }
            // Identity-like policies have no principal to match; the validator flags one.
            (Some(_), MatchMode::Identity) => None,
            (Some(p), _) => Some(p.matches(&request.principal)?),
            (None, _) if resource_mode => return None,
            (None, _) => None,
        };
        match &self.resources {
            Some(r) => {
                if !r.matches(request, arn, self.effect) {
                    return None;
                }
            }
            None if resource_mode => {}
            None => return None,
        }
        if !self.conditions.iter().all(|c| c.evaluate(&request.context)) {
            return None;
        }
        Some(principal_match)
    }
}

/// FNV-1a, a fast hash for the short strings (action names, service prefixes) of the indexes.
pub fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
