//! Writes to a live role, as data: what `role trim --apply`, `role rollback` and `role drift
//! --sync` ask the control plane (or AWS) to do, one IAM call each, in order.

use serde_json::Value;

/// One IAM write.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `iam:CreateRole`.
    CreateRole {
        /// The role name.
        name: String,
        /// The trust policy.
        trust: Value,
        /// The description.
        description: Option<String>,
    },
    /// `iam:UpdateAssumeRolePolicy`.
    UpdateTrust(Value),
    /// `iam:PutRolePolicy`.
    PutInline {
        /// The policy's name.
        name: String,
        /// The document.
        document: Value,
    },
    /// `iam:DeleteRolePolicy`.
    DeleteInline(String),
    /// `iam:CreatePolicy` of a customer-managed policy (a new default version when one of that
    /// name exists).
    CreatePolicy {
        /// The policy's name.
        name: String,
        /// The document.
        document: Value,
    },
    /// `iam:CreatePolicyVersion` with `SetAsDefault`.
    NewDefaultVersion {
        /// The policy's ARN.
        arn: String,
        /// The document.
        document: Value,
    },
    /// `iam:AttachRolePolicy`.
    Attach(String),
    /// `iam:DetachRolePolicy`.
    Detach(String),
    /// `iam:PutRolePermissionsBoundary`.
    PutBoundary(String),
    /// `iam:DeleteRolePermissionsBoundary`.
    DeleteBoundary,
    /// `iam:TagRole`.
    Tag(String, String),
    /// `iam:UntagRole`.
    Untag(String),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::CreateRole { name, .. } => write!(f, "create role `{name}`"),
            Change::UpdateTrust(_) => write!(f, "update the trust policy"),
            Change::PutInline { name, .. } => write!(f, "put inline policy `{name}`"),
            Change::DeleteInline(name) => write!(f, "delete inline policy `{name}`"),
            Change::CreatePolicy { name, .. } => write!(f, "create managed policy `{name}`"),
            Change::NewDefaultVersion { arn, .. } => {
                write!(f, "new default version of `{arn}`")
            }
            Change::Attach(arn) => write!(f, "attach `{arn}`"),
            Change::Detach(arn) => write!(f, "detach `{arn}`"),
            Change::PutBoundary(arn) => write!(f, "set the permissions boundary `{arn}`"),
            Change::DeleteBoundary => write!(f, "remove the permissions boundary"),
            Change::Tag(k, v) => write!(f, "tag `{k}` = `{v}`"),
            Change::Untag(k) => write!(f, "untag `{k}`"),
        }
    }
}

/// A policy document in a form where equal meaning is equal JSON: `Statement` always an
/// array, every string-or-array element (actions, resources, principals) a sorted array.
pub fn normalize(document: &Value) -> Value {
    let mut doc = document.clone();
    let statements = crate::role_state::statements(document);
    if let Some(map) = doc.as_object_mut() {
        map.insert(
            "Statement".into(),
            Value::Array(statements.iter().map(normalize_statement).collect()),
        );
    }
    doc
}

fn normalize_statement(statement: &Value) -> Value {
    let mut s = statement.clone();
    let Some(map) = s.as_object_mut() else {
        return s;
    };
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = map.get_mut(key) {
            *v = sorted(v);
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if let Some(Value::Object(p)) = map.get_mut(key) {
            for v in p.values_mut() {
                *v = sorted(v);
            }
        }
    }
    s
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Array(_) => {
            let mut list = crate::role_state::strings(value);
            list.sort();
            list.dedup();
            Value::Array(list.into_iter().map(Value::String).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_that_mean_the_same_normalize_the_same() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
            "Principal": {"Service": "sagemaker.amazonaws.com"}, "Resource": ["b", "a"]}});
        let b = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
            "Principal": {"Service": ["sagemaker.amazonaws.com"]}, "Resource": ["a", "b"]}]});
        assert_eq!(normalize(&a), normalize(&b));
    }
}
