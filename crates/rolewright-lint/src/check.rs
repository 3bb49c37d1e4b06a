//! The checks that need AWS's service authorization data, statement by statement.

use std::collections::{BTreeSet, HashMap};

use rolewright_iam::PolicyType;
use rolewright_iam::arn::ArnParts;
use rolewright_iam::ast::{
    BaseOperator, ConditionBlock, Effect, PolicyDocument, SetQualifier, Statement, StringList,
    VERSION_2008,
};
use rolewright_iam::condition::{IpNet, parse_date, parse_number};
use rolewright_iam::variable::Template;
use rolewright_iam::wildcard::Wildcard;
use rolewright_reference::{AccessLevel, ActionRef, KeyType, Reference};

use crate::{Finding, Severity};

/// Guesses the policy type: statements with a `Principal` make a resource policy (a trust policy
/// when every action is an `sts:AssumeRole*` or `sts:TagSession`), otherwise an identity policy.
pub fn infer_type(document: &PolicyDocument) -> PolicyType {
    let has_principal = document.statements.iter().any(|s| s.principal.is_some());
    if !has_principal {
        return PolicyType::Identity;
    }
    let trust = document.statements.iter().all(|s| {
        s.action.as_ref().is_some_and(|a| {
            !a.negated
                && a.value.values.iter().all(|v| {
                    let v = v.to_ascii_lowercase();
                    v.starts_with("sts:assumerole")
                        || v == "sts:tagsession"
                        || v == "sts:setsourceidentity"
                })
        })
    });
    if trust {
        PolicyType::Trust
    } else {
        PolicyType::Resource
    }
}

/// Actions that let their holder give themselves more permissions (the well-known IAM
/// privilege-escalation paths).
const ESCALATION_ACTIONS: &[&str] = &[
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:attachuserpolicy",
    "iam:attachgrouppolicy",
    "iam:attachrolepolicy",
    "iam:putuserpolicy",
    "iam:putgrouppolicy",
    "iam:putrolepolicy",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:updateassumerolepolicy",
    "iam:addusertogroup",
    "iam:deleterolepermissionsboundary",
    "iam:deleteuserpermissionsboundary",
    "iam:putrolepermissionsboundary",
    "iam:putuserpermissionsboundary",
];

/// Answers of [`Ctx::fits`]: by (service, action, hash of the resource), the resources with
/// that hash and whether the action accepts them.
type FitsCache = HashMap<(&'static str, &'static str, u64), Vec<(String, bool)>>;

struct Ctx<'r> {
    reference: &'r Reference,
    policy_type: PolicyType,
    findings: Vec<Finding>,
    /// Whether an action accepts a resource, by a hash of (service, action, resource) with the
    /// resource kept to confirm a hit: policies repeat the same resources across statements, and
    /// each answer costs an ARN match per resource type.
    fits: std::cell::RefCell<FitsCache>,
}

/// The actions a statement's `Action` element names, resolved against the reference.
struct StatementActions<'r> {
    /// Every known action the element matches (empty for `NotAction` and `*`).
    actions: Vec<ActionRef<'r>>,
    /// The element is `*` or `NotAction`: too broad to reason about per action.
    unbounded: bool,
}

pub fn run(
    document: &PolicyDocument,
    policy_type: PolicyType,
    reference: &Reference,
) -> Vec<Finding> {
    let mut ctx = Ctx {
        reference,
        policy_type,
        findings: Vec::new(),
        fits: std::cell::RefCell::new(HashMap::new()),
    };
    match document.version.as_deref() {
        None => ctx.findings.push(
            Finding::new(
                "missing-version",
                Severity::Warning,
                "",
                "the policy has no `Version`, so policy variables such as `${aws:username}` are not substituted",
            )
            .with_help("add \"Version\": \"2012-10-17\""),
        ),
        Some(VERSION_2008) => ctx.findings.push(
            Finding::new(
                "old-version",
                Severity::Warning,
                "Version",
                "`Version` 2008-10-17 does not substitute policy variables",
            )
            .with_help("use \"Version\": \"2012-10-17\""),
        ),
        Some(_) => {}
    }
    check_sids(&mut ctx, document);
    let resolved: Vec<StatementActions<'_>> = document
        .statements
        .iter()
        .enumerate()
        .map(|(i, s)| ctx.actions(document, i, s))
        .collect();
    for (i, statement) in document.statements.iter().enumerate() {
        let path = document.statement_path(i);
        let actions = &resolved[i];
        if statement.action.is_none() {
            ctx.findings.push(Finding::new(
                "missing-action",
                Severity::Error,
                path.clone(),
                "the statement has neither `Action` nor `NotAction`, so it applies to nothing",
            ));
        }
        ctx.broad_grants(&path, statement);
        ctx.resources(&path, statement, actions);
        ctx.conditions(&path, statement, actions);
        ctx.dangerous_actions(document, &path, statement, actions);
    }
    ctx.redundancy(document);
    ctx.findings
}

fn check_sids(ctx: &mut Ctx<'_>, document: &PolicyDocument) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let strict = matches!(
        ctx.policy_type,
        PolicyType::Identity | PolicyType::Boundary | PolicyType::Session | PolicyType::Generic
    );
    for (i, statement) in document.statements.iter().enumerate() {
        let Some(sid) = statement.sid.as_deref() else {
            continue;
        };
        let path = format!("{}.Sid", document.statement_path(i));
        if sid.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(sid, i) {
            ctx.findings.push(
                Finding::new(
                    "duplicate-sid",
                    Severity::Error,
                    path.clone(),
                    format!("`Sid` `{sid}` is also the Sid of statement {first}"),
                )
                .with_help("give each statement its own Sid"),
            );
        }
        if strict && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            let fixed: String = sid.chars().filter(char::is_ascii_alphanumeric).collect();
            ctx.findings.push(
                Finding::new(
                    "invalid-sid",
                    Severity::Error,
                    path,
                    format!("`Sid` `{sid}` may contain only letters and digits in an IAM policy"),
                )
                .with_help(format!("write `{fixed}`")),
            );
        }
    }
}

/// Whether `action` is `full` (`iam:PassRole`), ignoring case, without building its name.
fn is_action(action: &ActionRef<'_>, full: &str) -> bool {
    full.split_once(':').is_some_and(|(service, name)| {
        action.service_prefix().eq_ignore_ascii_case(service)
            && action.name().eq_ignore_ascii_case(name)
    })
}

/// Whether `action` is one of the privilege-escalation actions.
fn is_escalation(action: &ActionRef<'_>) -> bool {
    action.service_prefix().eq_ignore_ascii_case("iam")
        && ESCALATION_ACTIONS
            .iter()
            .any(|full| is_action(action, full))
}

fn is_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

impl<'r> Ctx<'r> {
    fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Whether `action` accepts `resource` as one of its resource types.
    fn fits(&self, action: &ActionRef<'r>, resource: &str) -> bool {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        resource.hash(&mut hasher);
        let key = (action.service_prefix(), action.name(), hasher.finish());
        if let Some(known) = self
            .fits
            .borrow()
            .get(&key)
            .and_then(|bucket| bucket.iter().find(|(r, _)| r == resource))
        {
            return known.1;
        }
        let fits = !self
            .reference
            .resource_types_for(action, resource)
            .is_empty();
        self.fits
            .borrow_mut()
            .entry(key)
            .or_default()
            .push((resource.to_string(), fits));
        fits
    }

    fn actions(
        &mut self,
        document: &PolicyDocument,
        index: usize,
        statement: &Statement,
    ) -> StatementActions<'r> {
        let mut out = StatementActions {
            actions: Vec::new(),
            unbounded: false,
        };
        let Some(element) = &statement.action else {
            return out;
        };
        out.unbounded = element.negated;
        let name = if element.negated {
            "NotAction"
        } else {
            "Action"
        };
        let base = format!("{}.{name}", document.statement_path(index));
        for (j, action) in element.value.values.iter().enumerate() {
            // Built only when a finding needs it.
            let path = || {
                if element.value.single {
                    base.clone()
                } else {
                    format!("{base}[{j}]")
                }
            };
            if action == "*" {
                out.unbounded = true;
                continue;
            }
            let Some((service, _)) = action.split_once(':') else {
                continue;
            };
            if !is_wildcard(service) && self.reference.service(service).is_none() {
                let mut f = Finding::new(
                    "unknown-service",
                    Severity::Error,
                    path(),
                    format!("`{service}` in `{action}` is not the prefix of an AWS service"),
                );
                if let Some(s) = self.reference.closest_service(service) {
                    f = f.with_help(format!("did you mean `{s}`?"));
                }
                self.push(f);
                continue;
            }
            if is_wildcard(action) {
                let expanded = self.reference.expand(action);
                if expanded.is_empty() {
                    self.push(Finding::new(
                        "wildcard-matches-nothing",
                        Severity::Error,
                        path(),
                        format!("`{action}` matches no AWS action"),
                    ));
                }
                if !element.negated {
                    out.actions.extend(expanded);
                }
                continue;
            }
            match self.reference.action(action) {
                Some(a) => {
                    if !element.negated {
                        out.actions.push(a);
                    }
                }
                None => {
                    // Unmatchable spellings (commas, spaces) were reported by the parser.
                    if action.contains([',', ' ']) || action.ends_with(':') {
                        continue;
                    }
                    let mut f = Finding::new(
                        "unknown-action",
                        Severity::Error,
                        path(),
                        format!("`{action}` is not an action of `{service}`"),
                    );
                    if let Some(s) = self.reference.closest_action(action) {
                        f = f.with_help(format!("did you mean `{s}`?"));
                    }
                    self.push(f);
                }
            }
        }
        out
    }

    fn broad_grants(&mut self, path: &str, statement: &Statement) {
        if statement.effect != Effect::Allow {
            return;
        }
        if statement.action.as_ref().is_some_and(|a| a.negated) {
            self.push(
                Finding::new(
                    "allow-not-action",
                    Severity::SecurityWarning,
                    format!("{path}.NotAction"),
                    "`Allow` with `NotAction` grants every action not listed, including actions AWS adds later",
                )
                .with_help("list the actions to allow in `Action` instead"),
            );
        }
        if statement.resource.as_ref().is_some_and(|r| r.negated) {
            self.push(
                Finding::new(
                    "allow-not-resource",
                    Severity::SecurityWarning,
                    format!("{path}.NotResource"),
                    "`Allow` with `NotResource` grants every resource not listed, in every account",
                )
                .with_help("list the resources to allow in `Resource` instead"),
            );
        }
    }

    fn resources(&mut self, path: &str, statement: &Statement, actions: &StatementActions<'r>) {
        let Some(element) = &statement.resource else {
            return;
        };
        let name = if element.negated {
            "NotResource"
        } else {
            "Resource"
        };
        let base = format!("{path}.{name}");
        let mut arns: Vec<&str> = Vec::new();
        let mut has_star = false;
        for (k, resource) in element.value.values.iter().enumerate() {
            let rpath = if element.value.single {
                base.clone()
            } else {
                format!("{base}[{k}]")
            };
            if resource == "*" {
                has_star = true;
                continue;
            }
            if ArnParts::parse(resource).is_none() && !resource.starts_with("arn:") {
                let looks_like_key_id = resource.len() >= 32
                    && resource.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
                let mut f = Finding::new(
                    "malformed-arn",
                    Severity::Error,
                    rpath,
                    format!("resource `{resource}` is not an ARN"),
                );
                if looks_like_key_id {
                    f = f.with_help(format!(
                        "a KMS key id is not an ARN; write `arn:aws:kms:REGION:ACCOUNT:key/{resource}`"
                    ));
                }
                self.push(f);
                continue;
            }
            arns.push(resource);
            if element.negated || actions.unbounded || actions.actions.is_empty() {
                continue;
            }
            let fits = actions.actions.iter().any(|a| self.fits(a, resource));
            if !fits {
                let services: BTreeSet<&str> =
                    actions.actions.iter().map(|a| a.service_prefix()).collect();
                let patterns = self.patterns_for(actions, 4);
                let mut f = Finding::new(
                    "resource-mismatch",
                    Severity::Error,
                    rpath,
                    format!(
                        "resource `{resource}` matches no resource type of the statement's {} actions, so it grants nothing",
                        services.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                );
                if !patterns.is_empty() {
                    f = f.with_help(format!("these actions accept {}", patterns.join(", ")));
                }
                self.push(f);
            } else if effectively_star(resource) {
                self.push(
                    Finding::new(
                        "resource-effectively-star",
                        Severity::Suggestion,
                        rpath,
                        format!("`{resource}` matches every resource of its type in every account and region"),
                    )
                    .with_help("name the account and region, or the resources themselves"),
                );
            }
        }
        if element.negated || actions.unbounded || statement.effect != Effect::Allow {
            return;
        }
        if has_star {
            // `iam:PassRole` on `*` has its own, stronger finding.
            let specific: Vec<&ActionRef<'r>> = actions
                .actions
                .iter()
                .filter(|a| !a.is_wildcard_only())
                .filter(|a| !is_action(a, "iam:PassRole"))
                .collect();
            if !specific.is_empty() {
                let names: Vec<String> = specific.iter().take(3).map(|a| a.full_name()).collect();
                let more = if specific.len() > 3 {
                    format!(" and {} more", specific.len() - 3)
                } else {
                    String::new()
                };
                let patterns = self.patterns_for(actions, 4);
                self.push(
                    Finding::new(
                        "resource-star",
                        Severity::Suggestion,
                        base.clone(),
                        format!(
                            "`Resource: \"*\"` grants {}{more} on every resource, though they accept specific resources",
                            names.join(", ")
                        ),
                    )
                    .with_help(format!("name the resources: {}", patterns.join(", "))),
                );
            }
        } else if !arns.is_empty() {
            // Actions that none of the resources fit are never granted by this statement.
            let unreachable: Vec<String> = actions
                .actions
                .iter()
                .filter(|action| !arns.iter().any(|arn| self.fits(action, arn)))
                .map(|a| format!("`{}`", a.full_name()))
                .collect();
            if !unreachable.is_empty() {
                let shown: Vec<&str> = unreachable.iter().take(5).map(String::as_str).collect();
                let more = if unreachable.len() > 5 {
                    format!(" and {} more", unreachable.len() - 5)
                } else {
                    String::new()
                };
                self.push(
                    Finding::new(
                        "action-resource-mismatch",
                        Severity::Warning,
                        base.clone(),
                        format!(
                            "{}{more} accept none of the statement's resources, so the statement never grants them",
                            shown.join(", ")
                        ),
                    )
                    .with_help("move them to a statement with the resources they accept (`rolewright actions NAME` shows them)"),
                );
            }
        }
    }

    fn patterns_of(&self, action: &ActionRef<'r>) -> Vec<String> {
        action
            .resource_types()
            .iter()
            .filter_map(|rt| {
                self.reference
                    .resource_type(action.service_prefix(), rt.name)
            })
            .map(|rt| format!("`{}`", rt.arn_pattern()))
            .collect()
    }

    fn patterns_for(&self, actions: &StatementActions<'r>, limit: usize) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for action in &actions.actions {
            for pattern in self.patterns_of(action) {
                if seen.insert(pattern.clone()) {
                    out.push(pattern);
                }
            }
        }
        if out.len() > limit {
            let more = out.len() - limit;
            out.truncate(limit);
            out.push(format!("and {more} more"));
        }
        out
    }

    fn conditions(&mut self, path: &str, statement: &Statement, actions: &StatementActions<'r>) {
        let Some(blocks) = &statement.condition else {
            return;
        };
        for block in blocks {
            for entry in &block.entries {
                let epath = format!("{path}.Condition.{}.{}", block.operator_name, entry.key);
                self.condition_entry(
                    &epath,
                    statement,
                    block,
                    &entry.key,
                    &entry.values.values,
                    actions,
                );
            }
        }
    }

    fn condition_entry(
        &mut self,
        path: &str,
        statement: &Statement,
        block: &ConditionBlock,
        key: &str,
        values: &[String],
        actions: &StatementActions<'r>,
    ) {
        let op = block.operator;
        let Some(known) = self.reference.condition_key(key) else {
            let mut f = Finding::new(
                "unknown-condition-key",
                Severity::Error,
                path,
                format!("condition key `{key}` does not exist"),
            );
            if let Some(s) = self.reference.closest_condition_key(key) {
                f = f.with_help(format!("did you mean `{s}`?"));
            }
            self.push(f);
            return;
        };
        let global = key.to_ascii_lowercase().starts_with("aws:");
        if !global && !actions.unbounded && !actions.actions.is_empty() {
            let supported = actions
                .actions
                .iter()
                .any(|a| self.reference.action_supports_condition_key(a, key));
            if !supported {
                self.push(Finding::new(
                    "condition-key-not-applicable",
                    Severity::Warning,
                    path,
                    format!(
                        "no action of this statement supports condition key `{key}`, so the condition {}",
                        if op.base.is_negated() || op.if_exists { "always holds" } else { "never holds" }
                    ),
                ));
            }
        }
        let key_type = known.key_type;
        // Operator family against key type.
        let (compatible, usable) = compatibility(op.base, key_type);
        if !compatible {
            self.push(
                Finding::new(
                    "condition-type-mismatch",
                    Severity::Error,
                    path,
                    format!(
                        "`{}` cannot compare condition key `{key}`, which is of type {}",
                        block.operator_name,
                        key_type.as_str()
                    ),
                )
                .with_help(format!("use a {} operator", key_type.operator_family())),
            );
        } else if usable {
            self.push(
                Finding::new(
                    "condition-type-usable",
                    Severity::Suggestion,
                    path,
                    format!(
                        "condition key `{key}` is of type {}; `{}` compares it as text",
                        key_type.as_str(),
                        block.operator_name
                    ),
                )
                .with_help(format!("use a {} operator", key_type.operator_family())),
            );
        }
        // Set operators.
        match (op.set, key_type.is_multi_valued()) {
            (Some(SetQualifier::ForAllValues | SetQualifier::ForAnyValue), false)
                if !matches!(key_type, KeyType::Unknown) =>
            {
                self.push(
                    Finding::new(
                        "set-operator-on-single-valued-key",
                        Severity::Warning,
                        path,
                        format!(
                            "`{}` is for multi-valued keys, but `{key}` has a single value",
                            block.operator_name
                        ),
                    )
                    .with_help(format!(
                        "write `{}{}`",
                        op.base.as_str(),
                        if op.if_exists { "IfExists" } else { "" }
                    )),
                );
            }
            (None, true) if op.base != BaseOperator::Null => {
                self.push(Finding::new(
                    "missing-set-operator",
                    Severity::Warning,
                    path,
                    format!("`{key}` can have several values; `{}` without `ForAnyValue:` or `ForAllValues:` is ambiguous", block.operator_name),
                ).with_help(format!("write `ForAnyValue:{}` or `ForAllValues:{}`", block.operator_name, block.operator_name)));
            }
            _ => {}
        }
        // Values.
        for value in values {
            if Template::parse(value).is_some() {
                continue;
            }
            if let Some(problem) = value_problem(op.base, value) {
                self.push(Finding::new(
                    "invalid-condition-value",
                    Severity::Error,
                    path,
                    format!(
                        "`{value}` is not {problem}, so `{}` never matches it",
                        block.operator_name
                    ),
                ));
            }
        }
        if statement.effect == Effect::Allow
            && key.eq_ignore_ascii_case("aws:MultiFactorAuthPresent")
            && op.base == BaseOperator::Bool
            && values.iter().any(|v| v.eq_ignore_ascii_case("false"))
        {
            self.push(
                Finding::new(
                    "mfa-condition-false",
                    Severity::SecurityWarning,
                    path,
                    "allowing when `aws:MultiFactorAuthPresent` is false also allows requests with long-term keys, where the key is absent",
                )
                .with_help("to require MFA, allow with `\"Bool\": {\"aws:MultiFactorAuthPresent\": \"true\"}`; to deny without it, use `BoolIfExists` with `false` in a Deny"),
            );
        }
    }

    fn dangerous_actions(
        &mut self,
        document: &PolicyDocument,
        path: &str,
        statement: &Statement,
        actions: &StatementActions<'r>,
    ) {
        if statement.effect != Effect::Allow
            || matches!(
                self.policy_type,
                PolicyType::ServiceControl | PolicyType::ResourceControl
            )
        {
            return;
        }
        let resources: Vec<&str> = statement
            .resource
            .as_ref()
            .filter(|r| !r.negated)
            .map(|r| r.value.values.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let on_star = resources.contains(&"*");
        let apath = if statement.action.as_ref().is_some_and(|a| !a.negated) {
            format!("{path}.Action")
        } else {
            path.to_string()
        };
        let grants = |name: &str| actions.actions.iter().any(|a| is_action(a, name));
        if grants("iam:PassRole") {
            if on_star {
                self.push(
                    Finding::new(
                        "passrole-star",
                        Severity::SecurityWarning,
                        apath.clone(),
                        "`iam:PassRole` on `*` lets the holder hand any role, including administrator roles, to a service",
                    )
                    .with_help("name the roles: `arn:aws:iam::ACCOUNT:role/NAME`"),
                );
            }
            let has_service_condition = statement.condition.iter().flatten().any(|b| {
                b.entries
                    .iter()
                    .any(|e| e.key.eq_ignore_ascii_case("iam:PassedToService"))
            });
            if !has_service_condition {
                self.push(
                    Finding::new(
                        "passrole-without-service",
                        Severity::SecurityWarning,
                        apath.clone(),
                        "`iam:PassRole` without an `iam:PassedToService` condition lets the role go to any service",
                    )
                    .with_help("add \"Condition\": {\"StringEquals\": {\"iam:PassedToService\": \"sagemaker.amazonaws.com\"}}"),
                );
            }
        }
        let escalations: Vec<String> = actions
            .actions
            .iter()
            .filter(|a| is_escalation(a))
            .map(|a| format!("`{}`", a.full_name()))
            .collect();
        if !escalations.is_empty() && (on_star || resources.is_empty()) {
            self.push(Finding::new(
                "privilege-escalation",
                Severity::SecurityWarning,
                apath.clone(),
                format!(
                    "{} on `*` let the holder raise their own permissions",
                    escalations.join(", ")
                ),
            ));
        }
        let denied = |action: &ActionRef<'r>| {
            document.statements.iter().any(|s| {
                s.effect == Effect::Deny
                    && s.condition.is_none()
                    && s.action.as_ref().is_some_and(|a| {
                        !a.negated
                            && a.value
                                .values
                                .iter()
                                .any(|p| Wildcard::new(p, true).matches(&action.full_name()))
                    })
                    && s.resource
                        .as_ref()
                        .is_some_and(|r| !r.negated && r.value.values.iter().any(|v| v == "*"))
            })
        };
        // Whole-service grants (`s3:*`) already give everything a policy change could add.
        let full_services: BTreeSet<String> = statement
            .action
            .iter()
            .filter(|a| !a.negated)
            .flat_map(|a| a.value.values.iter())
            .filter_map(|v| v.strip_suffix(":*").map(str::to_ascii_lowercase))
            .collect();
        let managing: Vec<&ActionRef<'r>> = actions
            .actions
            .iter()
            .filter(|a| a.access_level() == AccessLevel::PermissionsManagement)
            .filter(|a| !is_escalation(a))
            .filter(|a| !is_action(a, "iam:PassRole"))
            .filter(|a| !full_services.contains(a.service_prefix()))
            .filter(|a| !denied(a))
            .collect();
        // An ACL change restricted to a canned or granted ACL (`s3:x-amz-acl`,
        // `s3:x-amz-grant-*`) cannot hand out arbitrary access.
        let acl_restricted = statement.condition.iter().flatten().any(|b| {
            // Only an exact comparison pins the ACL; `StringLike "*"` would not.
            b.operator.base == BaseOperator::StringEquals
                && b.operator.set.is_none()
                && b.entries.iter().any(|e| {
                    let k = e.key.to_ascii_lowercase();
                    (k == "s3:x-amz-acl" || k.starts_with("s3:x-amz-grant"))
                        && e.values.values.iter().all(|v| !is_wildcard(v))
                })
        });
        let (policy_writes, others): (Vec<&ActionRef<'r>>, Vec<&ActionRef<'r>>) = managing
            .into_iter()
            .filter(|a| !(acl_restricted && a.name().contains("Acl")))
            .partition(|a| a.name().contains("Policy") || a.name().contains("Acl"));
        let list = |v: &[&ActionRef<'r>]| {
            let shown: Vec<String> = v
                .iter()
                .take(4)
                .map(|a| format!("`{}`", a.full_name()))
                .collect();
            let more = if v.len() > 4 {
                format!(" and {} more", v.len() - 4)
            } else {
                String::new()
            };
            format!("{}{more}", shown.join(", "))
        };
        if !policy_writes.is_empty() {
            self.push(
                Finding::new(
                    "resource-policy-write",
                    Severity::SecurityWarning,
                    apath.clone(),
                    format!(
                        "{} rewrite a resource-based policy or ACL; the holder can grant themselves, or anyone, whatever else the resource allows",
                        list(&policy_writes)
                    ),
                )
                .with_help("keep policy changes with administrators, or deny them explicitly"),
            );
        }
        if !others.is_empty() && on_star {
            self.push(
                Finding::new(
                    "permissions-management",
                    Severity::Warning,
                    apath,
                    format!(
                        "{} on `*` change who may access resources (permissions, ACLs, grants)",
                        list(&others)
                    ),
                )
                .with_help("name the resources these actions may change"),
            );
        }
    }

    fn redundancy(&mut self, document: &PolicyDocument) {
        // Statements without conditions, principals or negations, with their patterns compiled
        // once: comparing every pair must not rebuild matchers.
        let compiled: Vec<Option<Compiled>> = document
            .statements
            .iter()
            .map(|s| {
                let simple = s.condition.is_none()
                    && s.principal.is_none()
                    && s.action.as_ref().is_some_and(|a| !a.negated)
                    && s.resource.as_ref().is_some_and(|r| !r.negated);
                simple.then(|| Compiled::new(s))
            })
            .collect();
        for (i, a) in compiled.iter().enumerate() {
            let Some(a) = a else {
                continue;
            };
            for (j, b) in compiled.iter().enumerate() {
                let Some(b) = b else {
                    continue;
                };
                if i == j || a.effect != b.effect {
                    continue;
                }
                // Identical statements: report the later one only.
                if b.covers(a) && (!a.covers(b) || j < i) {
                    self.push(
                        Finding::new(
                            "redundant-statement",
                            Severity::Suggestion,
                            document.statement_path(i),
                            format!("statement {i} grants nothing that statement {j} does not already grant"),
                        )
                        .with_help(format!("remove statement {i}")),
                    );
                    break;
                }
            }
        }
    }
}

/// A statement's action and resource patterns, compiled for comparisons: plain values in a set,
/// wildcard patterns in a list, so a pair of statements costs one lookup per value.
struct Compiled {
    effect: Effect,
    actions: Patterns,
    resources: Patterns,
}

struct Patterns {
    /// Plain values (lowercased for actions).
    exact: std::collections::HashSet<String>,
    /// Wildcard patterns.
    wild: Vec<Wildcard>,
    /// One bit per plain value (by hash): when this set has no wildcard, a value whose bit is
    /// missing here cannot be covered, which rejects most pairs without a lookup.
    mask: u64,
}

impl Patterns {
    fn new(values: Option<&StringList>, ignore_case: bool) -> Patterns {
        let mut exact = std::collections::HashSet::new();
        let mut wild = Vec::new();
        let mut mask = 0u64;
        for v in values.iter().flat_map(|l| l.values.iter()) {
            if is_wildcard(v) {
                wild.push(Wildcard::new(v, ignore_case));
            } else {
                let v = if ignore_case {
                    v.to_ascii_lowercase()
                } else {
                    v.clone()
                };
                mask |= bit(&v);
                exact.insert(v);
            }
        }
        Patterns { exact, wild, mask }
    }

    /// Whether every value `other` names is matched here.
    fn covers(&self, other: &Patterns) -> bool {
        if self.wild.is_empty() && other.mask & !self.mask != 0 {
            return false;
        }
        other
            .exact
            .iter()
            .all(|v| self.exact.contains(v) || self.wild.iter().any(|w| w.matches_folded(v)))
            && other
                .wild
                .iter()
                .all(|o| self.wild.iter().any(|w| w.covers(o)))
    }
}

/// A bit chosen by the text's hash, for [`Patterns::mask`].
fn bit(text: &str) -> u64 {
    1 << (rolewright_iam::policy::text_hash(text) % 64)
}

impl Compiled {
    fn new(s: &Statement) -> Compiled {
        Compiled {
            effect: s.effect,
            actions: Patterns::new(s.action.as_ref().map(|a| &a.value), true),
            resources: Patterns::new(s.resource.as_ref().map(|r| &r.value), false),
        }
    }

    /// Whether this statement matches every action and resource that `other` names.
    fn covers(&self, other: &Compiled) -> bool {
        self.actions.covers(&other.actions) && self.resources.covers(&other.resources)
    }
}

/// `arn:*:svc:*:*:type/*` and the like: every resource of a type, in every account.
fn effectively_star(resource: &str) -> bool {
    let Some(arn) = ArnParts::parse(resource) else {
        return false;
    };
    let any = |s: &str| s == "*";
    let tail_any = arn.resource == "*"
        || arn
            .resource
            .strip_suffix("/*")
            .is_some_and(|t| !is_wildcard(t));
    any(arn.partition) && any(arn.region) && any(arn.account) && tail_any
}

/// Whether `op` can compare a key of `key_type`, and whether it only "works" (as text).
fn compatibility(op: BaseOperator, key_type: KeyType) -> (bool, bool) {
    use BaseOperator as Op;
    if op == Op::Null || key_type == KeyType::Unknown {
        return (true, false);
    }
    let base = key_type.scalar();
    match op {
        Op::StringEquals
        | Op::StringNotEquals
        | Op::StringEqualsIgnoreCase
        | Op::StringNotEqualsIgnoreCase
        | Op::StringLike
        | Op::StringNotLike => match base {
            KeyType::String => (true, false),
            KeyType::Arn => (true, true),
            _ => (false, false),
        },
        Op::NumericEquals
        | Op::NumericNotEquals
        | Op::NumericLessThan
        | Op::NumericLessThanEquals
        | Op::NumericGreaterThan
        | Op::NumericGreaterThanEquals => (base == KeyType::Numeric, false),
        Op::DateEquals
        | Op::DateNotEquals
        | Op::DateLessThan
        | Op::DateLessThanEquals
        | Op::DateGreaterThan
        | Op::DateGreaterThanEquals => (base == KeyType::Date, false),
        Op::Bool => (base == KeyType::Bool, false),
        Op::BinaryEquals => (base == KeyType::Binary || base == KeyType::String, false),
        Op::IpAddress | Op::NotIpAddress => (base == KeyType::IpAddress, false),
        Op::ArnEquals | Op::ArnLike | Op::ArnNotEquals | Op::ArnNotLike => {
            (base == KeyType::Arn || base == KeyType::String, false)
        }
        Op::Null => (true, false),
    }
}

/// What a value must be for `op` to read it, when it is not.
fn value_problem(op: BaseOperator, value: &str) -> Option<&'static str> {
    use BaseOperator::*;
    match op {
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => parse_number(value).is_none().then_some("a number"),
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => parse_date(value)
            .is_none()
            .then_some("a date (ISO 8601 or epoch seconds)"),
        Bool | Null => (!value.eq_ignore_ascii_case("true")
            && !value.eq_ignore_ascii_case("false"))
        .then_some("`true` or `false`"),
        IpAddress | NotIpAddress => IpNet::parse(value)
            .is_none()
            .then_some("an IP address or CIDR block"),
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
            (value != "*" && ArnParts::parse(value).is_none()).then_some("an ARN")
        }
        _ => None,
    }
}
