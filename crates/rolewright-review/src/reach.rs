//! Which resources a policy's `Allow` statements can reach for an action: a cheap filter that
//! keeps the graph from asking the engine about every pair of principals. It only ever errs on
//! the side of asking: a resource it rules out is one no `Allow` statement of the policy can
//! name (policy variables, `NotResource` and a missing `Resource` rule nothing out), so the
//! engine's decision, not this filter, is the answer for every pair it keeps.

use std::sync::Arc;

use rolewright_iam::wildcard::Wildcard;
use rolewright_iam::{Effect, PolicyDocument};

/// The `Allow` statements of one policy, as action and resource patterns.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    statements: Arc<[ReachStatement]>,
}

#[derive(Debug)]
struct ReachStatement {
    /// `(negated, patterns)`; `None` when the statement has no `Action` element.
    actions: Option<(bool, Vec<Wildcard>)>,
    /// The resource patterns; `None` when any resource may match (`NotResource`, no
    /// `Resource`, or a pattern with a policy variable).
    resources: Option<Vec<Wildcard>>,
}

impl Reach {
    /// The `Allow` statements of `document`.
    pub fn of(document: &PolicyDocument) -> Reach {
        let statements: Vec<ReachStatement> = document
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
            .map(|s| ReachStatement {
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
                resources: s.resource.as_ref().and_then(|r| {
                    (!r.negated && !r.value.values.iter().any(|p| p.contains("${"))).then(|| {
                        // Matched whole and ignoring case: wider than IAM's part-by-part match.
                        r.value
                            .values
                            .iter()
                            .map(|p| Wildcard::new(p, true))
                            .collect()
                    })
                }),
            })
            .collect();
        Reach {
            statements: statements.into(),
        }
    }

    /// Whether some `Allow` statement may grant `action` (lowercase) on `resource`.
    pub fn may_reach(&self, action_folded: &str, resource: &str) -> bool {
        self.statements.iter().any(|s| {
            let action = match &s.actions {
                None => true,
                Some((negated, patterns)) => {
                    patterns.iter().any(|p| p.matches_folded(action_folded)) != *negated
                }
            };
            action
                && s.resources
                    .as_ref()
                    .is_none_or(|patterns| patterns.iter().any(|p| p.matches(resource)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resources_no_allow_can_name_are_ruled_out() {
        let doc = PolicyDocument::parse(
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/ml-*"},
                {"Effect": "Allow", "Action": "iam:CreateAccessKey",
                 "Resource": "arn:aws:iam::1:user/${aws:username}"},
                {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}]}"#,
        )
        .unwrap();
        let reach = Reach::of(&doc);
        assert!(reach.may_reach("iam:passrole", "arn:aws:iam::1:role/ml-train"));
        assert!(!reach.may_reach("iam:passrole", "arn:aws:iam::1:role/admin"));
        assert!(reach.may_reach("iam:createaccesskey", "arn:aws:iam::1:user/anyone"));
        assert!(!reach.may_reach("sts:assumerole", "arn:aws:iam::1:role/ml-train"));
    }
}
