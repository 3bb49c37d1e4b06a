//! Request values the caller chooses. A caller who creates a training job picks its subnets,
//! its volume key and its tags; a caller who assumes a role picks its external id and session
//! name. A condition on such a key does not stop a path when some value satisfies it, so the
//! review tries, besides the request as it is, the values the policies themselves name.
//!
//! # The rule
//!
//! A key is *chosen by the caller* for an action when it belongs to the action's own service
//! (`sagemaker:VpcSubnets` for `sagemaker:CreateTrainingJob`, `sts:ExternalId` for
//! `sts:AssumeRole`) and the review did not fix it (the session's `--context`, or the keys a
//! step sets itself, such as `iam:PassedToService`); `aws:RequestTag/*` and `aws:TagKeys` are
//! chosen too. Keys about an existing resource (`*:ResourceTag/*`) are chosen only by `Create*`
//! actions, whose resource is new. Global keys (`aws:SourceIp`, `aws:MultiFactorAuthPresent`,
//! ...) are never chosen: they are the session's, given by `--context` or absent. (The service's
//! keys rather than the action's listed ones: AWS's data lists `sagemaker:VolumeKmsKeyArn` for
//! `CreateTrainingJob`, while policies commonly write `sagemaker:VolumeKmsKey`.)
//!
//! For each `Allow` statement that can name the action and has conditions on chosen keys, one
//! candidate request sets each such key to a value that satisfies that statement (a value it
//! lists, with `*` and `?` filled in; a number just past a bound; a made-up value for a negated
//! operator; the key left out for `Null: true`). Keys the candidate does not set yet are then
//! set to values that keep each `Deny` naming the action from applying. The request is allowed
//! when the request as given, or one of the candidates, is allowed by the engine. The search
//! is exact for the conditions policies write on job parameters (equality, `Like`, `Arn*`,
//! `Null`, `Bool`, numeric and date bounds, each alone or under `ForAnyValue`/`ForAllValues`);
//! a statement that asks for two conflicting values of one key is not satisfiable, and the
//! search agrees.

use std::sync::Arc;

use rolewright_iam::ast::{BaseOperator, ConditionBlock, SetQualifier};
use rolewright_iam::wildcard::Wildcard;
use rolewright_iam::{ContextValue, Effect, PolicyDocument, RequestContext};
use rolewright_reference::Reference;

/// A made-up value, for operators that a listed value would not satisfy.
const CHOSEN: &str = "rolewright-chosen-value";

/// Statements of one policy that have conditions, kept for the search.
#[derive(Debug, Clone, Default)]
pub struct Conditional {
    statements: Arc<[ConditionalStatement]>,
}

#[derive(Debug)]
struct ConditionalStatement {
    effect: Effect,
    /// `None` when the statement has no `Action` element (trust policies always have one).
    actions: Option<(bool, Vec<Wildcard>)>,
    blocks: Vec<ConditionBlock>,
}

impl Conditional {
    /// The statements of `document` that have a `Condition`.
    pub fn of(document: &PolicyDocument) -> Conditional {
        let statements: Vec<ConditionalStatement> = document
            .statements
            .iter()
            .filter_map(|s| {
                let blocks = s.condition.as_ref()?;
                Some(ConditionalStatement {
                    effect: s.effect,
                    actions: s.action.as_ref().map(|a| {
                        (
                            a.negated,
                            a.value
                                .values
                                .iter()
                                .map(|p| Wildcard::new(p, true))
                                .collect(),
                        )
                    }),
                    blocks: blocks.clone(),
                })
            })
            .collect();
        Conditional {
            statements: statements.into(),
        }
    }

    /// Whether no statement has conditions.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}

impl ConditionalStatement {
    fn names(&self, action_folded: &str) -> bool {
        match &self.actions {
            None => true,
            Some((negated, patterns)) => {
                patterns.iter().any(|p| p.matches_folded(action_folded)) != *negated
            }
        }
    }
}

/// Whether the caller of `action` chooses the value of `key` (see the module's rule).
pub fn chosen_by_caller(action: &str, key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.starts_with("aws:requesttag/") || key == "aws:tagkeys" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    let Some((key_service, key_name)) = key.split_once(':') else {
        return false;
    };
    if !service.eq_ignore_ascii_case(key_service) {
        return false;
    }
    !key_name.starts_with("resourcetag/") || name.to_ascii_lowercase().starts_with("create")
}

/// The candidate requests' contexts, each `base` plus chosen values, for a request of
/// `action` under the conditional statements of `policies`. Empty when no statement naming
/// the action has a condition on a key the caller chooses.
pub fn candidates(
    reference: &Reference,
    action: &str,
    base: &RequestContext,
    policies: &[&Conditional],
) -> Vec<RequestContext> {
    candidates_with(reference, action, base, policies, &|key| {
        chosen_by_caller(action, key)
    })
}

/// [`candidates`] with another rule for which keys the caller chooses (keys set in `base`
/// are never chosen).
pub fn candidates_with(
    reference: &Reference,
    action: &str,
    base: &RequestContext,
    policies: &[&Conditional],
    chosen_by: &dyn Fn(&str) -> bool,
) -> Vec<RequestContext> {
    let folded = action.to_ascii_lowercase();
    let chosen = |key: &str| !base.contains(key) && chosen_by(key);
    let multi = |key: &str, set: Option<SetQualifier>| {
        set.is_some()
            || reference
                .condition_key(key)
                .is_some_and(|k| k.key_type.is_multi_valued())
    };
    let relevant = || {
        policies
            .iter()
            .flat_map(|p| p.statements.iter())
            .filter(|s| s.names(&folded))
    };
    // Values that keep the Deny statements from applying, for keys no Allow sets.
    let mut avoid: Vec<(String, Option<ContextValue>)> = Vec::new();
    for statement in relevant().filter(|s| s.effect == Effect::Deny) {
        for block in &statement.blocks {
            for entry in &block.entries {
                if !chosen(&entry.key)
                    || avoid
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case(&entry.key))
                {
                    continue;
                }
                let value = pick(block, &entry.values.values, false)
                    .map(|v| wrap(v, multi(&entry.key, block.operator.set)));
                avoid.push((entry.key.clone(), value));
            }
        }
    }
    let mut out: Vec<RequestContext> = Vec::new();
    let mut push = |chosen_values: Vec<(String, Option<ContextValue>)>| {
        let mut context = base.clone();
        let mut set_keys: Vec<String> = Vec::new();
        for (key, value) in chosen_values.iter().chain(&avoid) {
            if set_keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                continue;
            }
            set_keys.push(key.clone());
            if let Some(value) = value {
                context.insert(key, value.clone());
            }
        }
        if !set_keys.is_empty() && !out.contains(&context) {
            out.push(context);
        }
    };
    for statement in relevant().filter(|s| s.effect == Effect::Allow) {
        let mut values: Vec<(String, Option<ContextValue>)> = Vec::new();
        // `Null: false` only asks for some value: the values other operators ask for come first.
        let (null, other): (Vec<_>, Vec<_>) = statement
            .blocks
            .iter()
            .partition(|b| b.operator.base == BaseOperator::Null);
        for block in other.into_iter().chain(null) {
            for entry in &block.entries {
                if !chosen(&entry.key) {
                    continue;
                }
                let value = pick(block, &entry.values.values, true)
                    .map(|v| wrap(v, multi(&entry.key, block.operator.set)));
                values.push((entry.key.clone(), value));
            }
        }
        if !values.is_empty() {
            push(values);
        }
    }
    // Allow statements without conditions, guarded only by Deny statements.
    push(Vec::new());
    out
}

fn wrap(value: String, multi: bool) -> ContextValue {
    if multi {
        ContextValue::Multi(vec![value])
    } else {
        ContextValue::Single(value)
    }
}

/// A value for one key of a condition block that makes it hold (`satisfy`) or fail; `None`
/// leaves the key out of the request.
fn pick(block: &ConditionBlock, values: &[String], satisfy: bool) -> Option<String> {
    let op = block.operator.base;
    let first = values.first().map_or("", String::as_str);
    if op == BaseOperator::Null {
        // `Null: true` holds when the key is absent.
        let absent = first.eq_ignore_ascii_case("true") == satisfy;
        return (!absent).then(|| CHOSEN.to_string());
    }
    if op == BaseOperator::Bool {
        let truth = first.eq_ignore_ascii_case("true") == satisfy;
        return Some(truth.to_string());
    }
    // A negated operator holds for a value it does not list, and fails for one it lists.
    let listed = op.is_negated() != satisfy;
    let numeric = |delta: f64| {
        let n: f64 = first.parse().unwrap_or(0.0);
        format_number(n + delta)
    };
    use BaseOperator as B;
    Some(match (op, listed) {
        (B::NumericLessThan, true) => numeric(-1.0),
        (B::NumericGreaterThan, true) => numeric(1.0),
        (B::NumericLessThan | B::NumericLessThanEquals, false) => numeric(1.0),
        (B::NumericGreaterThan | B::NumericGreaterThanEquals, false) => numeric(-1.0),
        (B::NumericEquals | B::NumericNotEquals, false) => numeric(1.0),
        (B::DateLessThan, true) | (B::DateGreaterThan | B::DateGreaterThanEquals, false) => {
            "1971-01-01T00:00:00Z".into()
        }
        (B::DateGreaterThan, true) | (B::DateLessThan | B::DateLessThanEquals, false) => {
            "2099-01-01T00:00:00Z".into()
        }
        (B::DateEquals | B::DateNotEquals, false) => "1971-01-01T00:00:00Z".into(),
        (B::IpAddress | B::NotIpAddress, true) => {
            first.split('/').next().unwrap_or(first).to_string()
        }
        (_, true) => fill(first),
        (_, false) => CHOSEN.into(),
    })
}

/// A pattern's wildcards filled in, so that the text matches the pattern.
fn fill(pattern: &str) -> String {
    pattern.replace(['*', '?'], "x")
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> PolicyDocument {
        PolicyDocument::parse(text).unwrap()
    }

    #[test]
    fn a_subnet_condition_gives_the_subnet_it_lists() {
        let policy = Conditional::of(&doc(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": "sagemaker:CreateTrainingJob", "Resource": "*",
                "Condition": {"Null": {"sagemaker:VpcSubnets": "false"},
                    "ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["subnet-1"]}}}]}"#,
        ));
        let found = candidates(
            Reference::embedded(),
            "sagemaker:CreateTrainingJob",
            &RequestContext::new(),
            &[&policy],
        );
        // The subnet, not the placeholder that `Null` alone would take.
        assert_eq!(
            found[0].get("sagemaker:vpcsubnets"),
            Some(&ContextValue::Multi(vec!["subnet-1".into()]))
        );
    }

    #[test]
    fn session_keys_are_not_chosen() {
        assert!(!chosen_by_caller(
            "sts:AssumeRole",
            "aws:MultiFactorAuthPresent"
        ));
        assert!(chosen_by_caller("sts:AssumeRole", "sts:ExternalId"));
        assert!(chosen_by_caller(
            "sagemaker:CreateTrainingJob",
            "sagemaker:VolumeKmsKey"
        ));
        assert!(chosen_by_caller(
            "sagemaker:CreateTrainingJob",
            "aws:RequestTag/team"
        ));
        assert!(!chosen_by_caller(
            "sagemaker:StopTrainingJob",
            "sagemaker:ResourceTag/team"
        ));
        assert!(!chosen_by_caller(
            "sagemaker:CreateTrainingJob",
            "s3:prefix"
        ));
    }
}
