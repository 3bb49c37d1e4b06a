//! What a new version of a role grants that the old did not, and what it no longer grants, by
//! action and resource.

use std::collections::BTreeSet;

use rolewright_reference::Reference;
use serde_json::Value;

/// One grant: an action (wildcards expanded) on a resource pattern, and whether a condition
/// limits it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// `service:Action`, as AWS spells it.
    pub action: String,
    /// The resource pattern as written.
    pub resource: String,
    /// The condition, as compact JSON, when one applies.
    pub condition: Option<String>,
}

/// The grants of a set of policy documents (their `Allow` statements with `Action` and
/// `Resource`; `NotAction` and `NotResource` grants are listed with the element as written).
pub fn grants(documents: &[Value], reference: &Reference) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for doc in documents {
        let statements = match &doc["Statement"] {
            Value::Array(s) => s.clone(),
            Value::Object(_) => vec![doc["Statement"].clone()],
            _ => Vec::new(),
        };
        for s in statements {
            if s["Effect"] != "Allow" {
                continue;
            }
            let list = |v: &Value| -> Vec<String> {
                match v {
                    Value::String(one) => vec![one.clone()],
                    Value::Array(many) => many
                        .iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect(),
                    _ => Vec::new(),
                }
            };
            let actions: Vec<String> = match s.get("Action") {
                Some(a) => list(a)
                    .into_iter()
                    .flat_map(|p| {
                        let expanded: Vec<String> =
                            reference.expand(&p).iter().map(|a| a.full_name()).collect();
                        if expanded.is_empty() {
                            vec![p]
                        } else {
                            expanded
                        }
                    })
                    .collect(),
                None => list(&s["NotAction"])
                    .into_iter()
                    .map(|a| format!("everything but {a}"))
                    .collect(),
            };
            let resources: Vec<String> = match s.get("Resource") {
                Some(r) => list(r),
                None => list(&s["NotResource"])
                    .into_iter()
                    .map(|r| format!("everything but {r}"))
                    .collect(),
            };
            let condition = s.get("Condition").map(Value::to_string);
            for action in &actions {
                for resource in &resources {
                    out.insert(Grant {
                        action: action.clone(),
                        resource: resource.clone(),
                        condition: condition.clone(),
                    });
                }
            }
        }
    }
    out
}

/// (added, removed) grants from `old` to `new`.
pub fn diff(old: &[Value], new: &[Value], reference: &Reference) -> (Vec<Grant>, Vec<Grant>) {
    let (a, b) = (grants(old, reference), grants(new, reference));
    (
        b.difference(&a).cloned().collect(),
        a.difference(&b).cloned().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn added_and_removed_grants() {
        let old = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}]});
        let new = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}]});
        let (added, removed) = diff(&[old], &[new], Reference::embedded());
        let names = |g: &[Grant]| {
            g.iter()
                .map(|g| format!("{} {}", g.action, g.resource))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&added),
            [
                "s3:GetObject arn:aws:s3:::b/*",
                "s3:PutObject arn:aws:s3:::b/*"
            ]
        );
        assert_eq!(names(&removed), ["s3:GetObject arn:aws:s3:::a/*"]);
    }
}
