//! One role as it stands (read from an account's authorization details, or built from a spec):
//! its trust policy, inline and attached policies with their documents, boundary and tags, and
//! which ML activity each policy came from.

use rolewright_catalog::{Catalog, RoleDefinition};
use serde_json::Value;

/// The words `rolewright role new` writes into a role's default description before the
/// activity ids.
const DESCRIPTION_MARK: &str = "built by rolewright from activities: ";

/// A policy document with its name.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedDocument {
    /// The policy's name.
    pub name: String,
    /// The document.
    pub document: Value,
}

/// A managed policy attached to the role.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachedPolicy {
    /// Its ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The default version's id (`v1`), when known.
    pub default_version: Option<String>,
    /// The default version's document, when known (a spec's AWS managed policies are known by
    /// ARN only).
    pub document: Option<Value>,
}

impl AttachedPolicy {
    /// Whether AWS manages it (`arn:aws:iam::aws:policy/...`), so that nobody can change it.
    pub fn is_aws_managed(&self) -> bool {
        self.arn.split(':').nth(4) == Some("aws")
    }
}

/// A role: what it grants and how it is set up.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoleState {
    /// The role name.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The description, when known.
    pub description: Option<String>,
    /// The trust policy.
    pub trust: Value,
    /// Inline policies.
    pub inline: Vec<NamedDocument>,
    /// Attached managed policies.
    pub attached: Vec<AttachedPolicy>,
    /// The permissions boundary's ARN.
    pub boundary: Option<String>,
    /// Tags, in the order given.
    pub tags: Vec<(String, String)>,
}

/// Why a role cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleStateError {
    /// No role has that name.
    #[error("no role `{0}` in the account")]
    NoSuchRole(String),
    /// A document is not JSON.
    #[error("policy `{policy}` of role `{role}` is not a JSON document")]
    Document {
        /// The role.
        role: String,
        /// The policy.
        policy: String,
    },
}

impl RoleState {
    /// The role `name` from the JSON of IAM's `GetAccountAuthorizationDetails` (as `aws iam
    /// get-account-authorization-details` prints it, documents as objects or URL-encoded).
    pub fn from_account_details(details: &Value, name: &str) -> Result<RoleState, RoleStateError> {
        let role = details["RoleDetailList"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["RoleName"] == name)
            .ok_or_else(|| RoleStateError::NoSuchRole(name.to_string()))?;
        let fail = |policy: &str| RoleStateError::Document {
            role: name.to_string(),
            policy: policy.to_string(),
        };
        let trust =
            document(&role["AssumeRolePolicyDocument"]).ok_or_else(|| fail("trust policy"))?;
        let mut inline = Vec::new();
        for p in role["RolePolicyList"].as_array().into_iter().flatten() {
            let policy = p["PolicyName"].as_str().unwrap_or_default().to_string();
            let document = document(&p["PolicyDocument"]).ok_or_else(|| fail(&policy))?;
            inline.push(NamedDocument {
                name: policy,
                document,
            });
        }
        let policies: Vec<&Value> = details["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let mut attached = Vec::new();
        for a in role["AttachedManagedPolicies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let arn = a["PolicyArn"].as_str().unwrap_or_default().to_string();
            let policy = policies.iter().find(|p| p["Arn"] == arn.as_str());
            let default = policy.and_then(|p| {
                p["PolicyVersionList"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|v| v["IsDefaultVersion"] == true || v["IsDefaultVersion"] == "true")
            });
            let document = match default {
                Some(v) => Some(document(&v["Document"]).ok_or_else(|| fail(&arn))?),
                None => None,
            };
            attached.push(AttachedPolicy {
                name: a["PolicyName"].as_str().unwrap_or_default().to_string(),
                default_version: default
                    .and_then(|v| v["VersionId"].as_str())
                    .map(str::to_string),
                document,
                arn,
            });
        }
        let tags = role["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                (
                    t["Key"].as_str().unwrap_or_default().to_string(),
                    t["Value"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        Ok(RoleState {
            name: name.to_string(),
            arn: role["Arn"].as_str().unwrap_or_default().to_string(),
            description: role["Description"].as_str().map(str::to_string),
            trust,
            inline,
            attached,
            boundary: role["PermissionsBoundary"]["PermissionsBoundaryArn"]
                .as_str()
                .map(str::to_string),
            tags,
        })
    }

    /// The role a spec builds, as it would stand in `account` of `partition`: its
    /// customer-managed policies get the ARNs IAM gives them.
    pub fn from_definition(role: &RoleDefinition, partition: &str, account: &str) -> RoleState {
        let mut attached: Vec<AttachedPolicy> = role
            .managed_policies
            .iter()
            .map(|p| AttachedPolicy {
                arn: format!("arn:{partition}:iam::{account}:policy/{}", p.name),
                name: p.name.clone(),
                default_version: None,
                document: Some(p.document.clone()),
            })
            .collect();
        attached.extend(role.attached_policy_arns.iter().map(|arn| AttachedPolicy {
            arn: arn.clone(),
            name: arn.rsplit('/').next().unwrap_or(arn).to_string(),
            default_version: None,
            document: None,
        }));
        RoleState {
            name: role.name.clone(),
            arn: format!("arn:{partition}:iam::{account}:role/{}", role.name),
            description: Some(role.description.clone()),
            trust: role.trust_policy.clone(),
            inline: role
                .inline_policies
                .iter()
                .map(|p| NamedDocument {
                    name: p.name.clone(),
                    document: p.document.clone(),
                })
                .collect(),
            attached,
            boundary: role.permissions_boundary.clone(),
            tags: role.tags.clone(),
        }
    }

    /// Every permission document in force: the inline policies', then the attached policies'
    /// default versions.
    pub fn documents(&self) -> Vec<Value> {
        self.inline
            .iter()
            .map(|p| p.document.clone())
            .chain(self.attached.iter().filter_map(|p| p.document.clone()))
            .collect()
    }

    /// The ML activities the role was built from: those its description lists (the one `role
    /// new` writes), then those its policy names tell (`ROLE-ACTIVITY`, `ROLE-ACTIVITY-N`).
    pub fn activities(&self, catalog: &Catalog) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if let Some(list) = self
            .description
            .as_deref()
            .and_then(|d| d.split_once(DESCRIPTION_MARK))
            .map(|(_, list)| list)
        {
            for id in list.split(',').map(str::trim) {
                if catalog.activity(id).is_some() && !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
            }
        }
        let names = self
            .inline
            .iter()
            .map(|p| p.name.as_str())
            .chain(self.attached.iter().map(|p| p.name.as_str()));
        for name in names {
            if let Some(id) = self.activity_of_name(name, catalog)
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
        out
    }

    /// The activity a policy name says it holds (`ROLE-ACTIVITY` or `ROLE-ACTIVITY-N`).
    fn activity_of_name(&self, name: &str, catalog: &Catalog) -> Option<String> {
        let rest = name.strip_prefix(&self.name)?.strip_prefix('-')?;
        if catalog.activity(rest).is_some() {
            return Some(rest.to_string());
        }
        let (id, n) = rest.rsplit_once('-')?;
        (n.parse::<u32>().is_ok() && catalog.activity(id).is_some()).then(|| id.to_string())
    }

    /// The activity a policy of the role (an inline policy's name, or an attached policy's
    /// ARN) belongs to: by its name, or for an AWS managed policy, the role's activity that
    /// attaches it. `None` for policies added by hand.
    pub fn activity_of_policy(&self, policy: &str, catalog: &Catalog) -> Option<String> {
        if let Some(a) = self.attached.iter().find(|a| a.arn == policy) {
            if let Some(id) = self.activity_of_name(&a.name, catalog) {
                return Some(id);
            }
            return self.activities(catalog).into_iter().find(|id| {
                catalog.activity(id).is_some_and(|t| {
                    t.managed_policies
                        .iter()
                        .any(|m| a.arn.ends_with(&format!(":policy/{m}")))
                })
            });
        }
        self.activity_of_name(policy, catalog)
    }

    /// Every permission policy with the key [`RoleState::activity_of_policy`] takes (an inline
    /// policy's name, an attached policy's ARN) and its document.
    pub fn policies(&self) -> Vec<(&str, &Value)> {
        self.inline
            .iter()
            .map(|p| (p.name.as_str(), &p.document))
            .chain(
                self.attached
                    .iter()
                    .filter_map(|p| p.document.as_ref().map(|d| (p.arn.as_str(), d))),
            )
            .collect()
    }
}

/// A policy document as the AWS CLI prints it (an object), as the query protocol sends it (a
/// URL-encoded string), or as JSON text in a string.
pub fn document(value: &Value) -> Option<Value> {
    match value {
        Value::Object(_) => Some(value.clone()),
        Value::String(s) if s.trim_start().starts_with('{') => serde_json::from_str(s).ok(),
        Value::String(s) => serde_json::from_str(&crate::snapshot::percent_decode(s)?).ok(),
        _ => None,
    }
}

/// The statements of a document, whether `Statement` is an object or an array.
pub fn statements(document: &Value) -> Vec<Value> {
    match &document["Statement"] {
        Value::Array(s) => s.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The strings of an element that takes a string or an array of strings.
pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_role_is_read_from_authorization_details_with_its_activities() {
        let details = json!({
            "RoleDetailList": [{"RoleName": "ds", "Arn": "arn:aws:iam::123456789012:role/ds",
                "AssumeRolePolicyDocument": "%7B%22Statement%22%3A%5B%5D%7D",
                "RolePolicyList": [{"PolicyName": "ds-manage-jobs", "PolicyDocument": {"Statement": []}},
                    {"PolicyName": "extra", "PolicyDocument": {"Statement": []}}],
                "AttachedManagedPolicies": [{"PolicyName": "p", "PolicyArn": "arn:aws:iam::123456789012:policy/p"}],
                "Tags": [{"Key": "team", "Value": "ml"}]}],
            "Policies": [{"Arn": "arn:aws:iam::123456789012:policy/p", "PolicyVersionList": [
                {"VersionId": "v2", "IsDefaultVersion": true, "Document": {"Statement": []}}]}]
        });
        let role = RoleState::from_account_details(&details, "ds").unwrap();
        assert_eq!(role.trust, json!({"Statement": []}));
        assert_eq!(role.attached[0].default_version.as_deref(), Some("v2"));
        assert_eq!(role.tags, [("team".to_string(), "ml".to_string())]);
        let catalog = Catalog::builtin();
        assert_eq!(role.activities(&catalog), ["manage-jobs"]);
        assert_eq!(role.activity_of_policy("extra", &catalog), None);
        assert_eq!(
            RoleState::from_account_details(&details, "nope")
                .unwrap_err()
                .to_string(),
            "no role `nope` in the account"
        );
    }
}
