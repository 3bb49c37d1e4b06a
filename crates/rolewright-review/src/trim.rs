//! The smallest role that still allows everything a role used: unused activities dropped first,
//! then unused actions (the used part of an AWS managed policy moved into an inline policy, a
//! customer-managed policy given a new version), `iam:PassRole` narrowed to the roles passed.

use std::collections::BTreeSet;

use rolewright_catalog::Catalog;
use rolewright_iam::wildcard::Wildcard;
use rolewright_reference::Reference;
use serde_json::{Value, json};

use crate::change::{Change, normalize};
use crate::role_state::{NamedDocument, RoleState, statements, strings};
use crate::usage::{Call, expand, names_resource, role_calls};

/// A trim of a role, ready to review and apply.
#[derive(Debug, Clone, PartialEq)]
pub struct TrimProposal {
    /// The role as it would stand after the trim.
    pub trimmed: RoleState,
    /// Activities of which nothing was used (their policies removed).
    pub dropped_activities: Vec<String>,
    /// The IAM writes that make the live role the trimmed one.
    pub changes: Vec<Change>,
}

/// The name of the inline policy that holds the used part of an AWS managed policy.
pub fn replacement_name(role: &str, policy: &str) -> String {
    format!("{role}-trimmed-{policy}")
}

/// Proposes the trim of `role` from the calls at or after `since_ms`; actions matching a
/// `keep` pattern (`sagemaker:CreateTrainingJob`, `s3:Get*`) count as used.
pub fn trim(
    role: &RoleState,
    calls: &[Call],
    since_ms: i64,
    keep: &[String],
    catalog: &Catalog,
    reference: &Reference,
) -> TrimProposal {
    let used = role_calls(role, calls, since_ms);
    let keep: Vec<Wildcard> = keep.iter().map(|k| Wildcard::new(k, true)).collect();
    let mut trimmed = role.clone();
    let mut changes = Vec::new();
    let mut kept_activities: BTreeSet<String> = BTreeSet::new();

    trimmed.inline.clear();
    for p in &role.inline {
        let after = trim_document(&p.document, &used, &keep, reference);
        if let (Some(doc), Some(a)) = (&after, role.activity_of_policy(&p.name, catalog))
            && grants_anything(doc)
        {
            kept_activities.insert(a);
        }
        match after {
            Some(doc) => {
                if normalize(&doc) != normalize(&p.document) {
                    changes.push(Change::PutInline {
                        name: p.name.clone(),
                        document: doc.clone(),
                    });
                }
                trimmed.inline.push(NamedDocument {
                    name: p.name.clone(),
                    document: doc,
                });
            }
            None => changes.push(Change::DeleteInline(p.name.clone())),
        }
    }
    trimmed.attached.clear();
    for p in &role.attached {
        let Some(document) = &p.document else {
            // Nothing is known of what it grants, so nothing can be said to be unused.
            trimmed.attached.push(p.clone());
            continue;
        };
        let after = trim_document(document, &used, &keep, reference);
        if let (Some(doc), Some(a)) = (&after, role.activity_of_policy(&p.arn, catalog))
            && grants_anything(doc)
        {
            kept_activities.insert(a);
        }
        match after {
            Some(doc) if normalize(&doc) == normalize(document) => trimmed.attached.push(p.clone()),
            Some(doc) if p.is_aws_managed() => {
                let name = replacement_name(&role.name, &p.name);
                changes.push(Change::Detach(p.arn.clone()));
                changes.push(Change::PutInline {
                    name: name.clone(),
                    document: doc.clone(),
                });
                trimmed.inline.push(NamedDocument {
                    name,
                    document: doc,
                });
            }
            Some(doc) => {
                changes.push(Change::NewDefaultVersion {
                    arn: p.arn.clone(),
                    document: doc.clone(),
                });
                let mut q = p.clone();
                q.document = Some(doc);
                trimmed.attached.push(q);
            }
            None => changes.push(Change::Detach(p.arn.clone())),
        }
    }
    let dropped_activities = role
        .activities(catalog)
        .into_iter()
        .filter(|a| !kept_activities.contains(a))
        .collect();
    TrimProposal {
        trimmed,
        dropped_activities,
        changes,
    }
}

/// Whether a document has an `Allow`.
fn grants_anything(document: &Value) -> bool {
    statements(document).iter().any(|s| s["Effect"] == "Allow")
}

/// A string when there is one, an array otherwise.
fn one_or_many(list: Vec<String>) -> Value {
    match <[String; 1]>::try_from(list) {
        Ok([one]) => Value::String(one),
        Err(many) => Value::Array(many.into_iter().map(Value::String).collect()),
    }
}

/// The document with only what was used: `Allow` statements keep the used actions (a pattern
/// all of whose actions were used stays as written) and an `iam:PassRole` statement names only
/// the roles passed; `Deny` and `NotAction` statements stay as they are. `None` when nothing
/// is left.
fn trim_document(
    document: &Value,
    used: &[&Call],
    keep: &[Wildcard],
    reference: &Reference,
) -> Option<Value> {
    let mut out = Vec::new();
    for s in statements(document) {
        if s["Effect"] != "Allow" || s.get("Action").is_none() {
            out.push(s);
            continue;
        }
        let kept_by_flag = |a: &str| keep.iter().any(|k| k.matches(a));
        let used_here = |a: &str| {
            kept_by_flag(a)
                || used
                    .iter()
                    .any(|c| c.action.eq_ignore_ascii_case(a) && names_resource(&s, &c.resource))
        };
        let passes: BTreeSet<String> = used
            .iter()
            .filter(|c| {
                c.action.eq_ignore_ascii_case("iam:PassRole")
                    && c.resource != "*"
                    && names_resource(&s, &c.resource)
            })
            .map(|c| c.resource.clone())
            .collect();
        let narrow_pass = !passes.is_empty()
            && !kept_by_flag("iam:PassRole")
            && s.get("Resource").is_some()
            && strings(&s["Resource"]).into_iter().collect::<BTreeSet<_>>() != passes;
        let mut actions: Vec<String> = Vec::new();
        let mut passes_role = false;
        for pattern in strings(&s["Action"]) {
            let all = expand(&pattern, reference);
            let kept: Vec<String> = all.iter().filter(|a| used_here(a)).cloned().collect();
            let pass = kept.iter().any(|a| a.eq_ignore_ascii_case("iam:PassRole"));
            if narrow_pass && pass {
                passes_role = true;
                actions.extend(
                    kept.into_iter()
                        .filter(|a| !a.eq_ignore_ascii_case("iam:PassRole")),
                );
            } else if !kept.is_empty() && kept.len() == all.len() {
                actions.push(pattern);
            } else {
                actions.extend(kept);
            }
        }
        let mut seen = BTreeSet::new();
        actions.retain(|a| seen.insert(a.to_ascii_lowercase()));
        if !actions.is_empty() {
            let mut t = s.clone();
            t["Action"] = one_or_many(actions);
            out.push(t);
        }
        if passes_role {
            let mut t = s.clone();
            t["Action"] = json!("iam:PassRole");
            t["Resource"] = one_or_many(passes.into_iter().collect());
            if let Some(sid) = s["Sid"].as_str() {
                t["Sid"] = Value::String(format!("{sid}PassRole"));
            }
            out.push(t);
        }
    }
    if out.is_empty() {
        return None;
    }
    let mut doc = document.clone();
    doc["Statement"] = Value::Array(out);
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role_state::AttachedPolicy;

    const ROLE: &str = "arn:aws:iam::123456789012:role/ds";

    fn call(action: &str, resource: &str) -> Call {
        Call {
            time_ms: 10,
            principal: "arn:aws:sts::123456789012:assumed-role/ds/s".into(),
            action: action.into(),
            resource: resource.into(),
            allowed: true,
        }
    }

    fn role() -> RoleState {
        RoleState {
            name: "ds".into(),
            arn: ROLE.into(),
            inline: vec![
                NamedDocument {
                    name: "ds-manage-jobs".into(),
                    document: json!({"Version": "2012-10-17", "Statement": [
                        {"Sid": "Jobs", "Effect": "Allow", "Action": ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"], "Resource": "*"},
                        {"Sid": "Pass", "Effect": "Allow", "Action": ["iam:PassRole", "iam:GetRole"], "Resource": "arn:aws:iam::123456789012:role/*"},
                        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::secret/*"}]}),
                },
                NamedDocument {
                    name: "ds-manage-models".into(),
                    document: json!({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": "*"}]}),
                },
            ],
            attached: vec![AttachedPolicy {
                arn: "arn:aws:iam::aws:policy/ReadOnly".into(),
                name: "ReadOnly".into(),
                default_version: Some("v1".into()),
                document: Some(json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]})),
            }],
            ..RoleState::default()
        }
    }

    #[test]
    fn unused_activities_then_actions_go_and_pass_role_names_the_roles_passed() {
        let calls = [
            call(
                "sagemaker:DescribeTrainingJob",
                "arn:aws:sagemaker:us-east-1:123456789012:training-job/a",
            ),
            call("iam:PassRole", "arn:aws:iam::123456789012:role/trainer"),
            call("iam:GetRole", "arn:aws:iam::123456789012:role/trainer"),
            call("s3:GetObject", "arn:aws:s3:::data/x"),
        ];
        let p = trim(
            &role(),
            &calls,
            0,
            &[],
            &Catalog::builtin(),
            Reference::embedded(),
        );
        assert_eq!(p.dropped_activities, ["manage-models"]);
        assert_eq!(
            p.changes,
            [
                Change::PutInline {
                    name: "ds-manage-jobs".into(),
                    document: json!({"Version": "2012-10-17", "Statement": [
                        {"Sid": "Jobs", "Effect": "Allow", "Action": "sagemaker:DescribeTrainingJob", "Resource": "*"},
                        {"Sid": "Pass", "Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::123456789012:role/*"},
                        {"Sid": "PassPassRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/trainer"},
                        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::secret/*"}]}),
                },
                Change::DeleteInline("ds-manage-models".into()),
                Change::Detach("arn:aws:iam::aws:policy/ReadOnly".into()),
                Change::PutInline {
                    name: "ds-trimmed-ReadOnly".into(),
                    document: json!({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
                },
            ]
        );
    }

    #[test]
    fn kept_actions_and_calls_of_other_principals() {
        let mut other = call("sagemaker:CreateModel", "*");
        other.principal = "arn:aws:sts::123456789012:assumed-role/ds2/s".into();
        let keep = ["sagemaker:Create*".to_string()];
        let p = trim(
            &role(),
            &[other],
            0,
            &keep,
            &Catalog::builtin(),
            Reference::embedded(),
        );
        // Nothing of `ds` was used but what --keep keeps.
        assert_eq!(p.dropped_activities, ["manage-jobs"]);
        assert_eq!(p.trimmed.inline.len(), 2, "{:?}", p.trimmed.inline);
        assert_eq!(p.trimmed.inline[1].name, "ds-manage-models");
        assert!(p.trimmed.attached.is_empty());
    }
}
