//! Roles: a persona and its adjusted activities, linked with their parameters, merged into one
//! trust policy, and packed into IAM's quotas as inline and customer-managed policies.

use std::collections::{BTreeMap, BTreeSet};

use rolewright_iam::size::{
    MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY, ROLE_INLINE_POLICIES_TOTAL, check_role_name,
    text_size,
};
use serde_json::{Value, json};

use crate::Catalog;
use crate::activity::{ActivityTemplate, Customization};
use crate::link::{Bindings, link};
use crate::parameter::{check_value, parameter};
use crate::persona::find_persona;

/// What a role should be: the input of [`Catalog::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    /// The persona id (`data-scientist`, `mlops`, `compute`, `custom`, or a console variant
    /// such as `data-scientist-console`; see [`crate::PERSONAS`]).
    pub persona: String,
    /// The role name's suffix.
    pub name_suffix: String,
    /// The role name's prefix: `SageMaker-` as the CDK library, or `sagemaker-` as the console.
    pub name_prefix: String,
    /// The role's description.
    pub description: Option<String>,
    /// Activities added to the persona's.
    pub add_activities: Vec<String>,
    /// Activities removed from the persona's.
    pub remove_activities: Vec<String>,
    /// List parameters by placeholder (`S3Buckets` → bucket names).
    pub parameters: BTreeMap<String, Vec<String>>,
    /// The account the role lives in.
    pub account: String,
    /// The region its resources are in.
    pub region: String,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Extra managed policies to attach, by ARN.
    pub managed_policy_arns: Vec<String>,
    /// A permissions boundary, by ARN.
    pub permissions_boundary: Option<String>,
}

impl RoleSpec {
    /// A spec with the CDK's defaults: prefix `SageMaker-`, partition `aws`.
    pub fn new(persona: &str, name_suffix: &str, account: &str, region: &str) -> RoleSpec {
        RoleSpec {
            persona: persona.to_string(),
            name_suffix: name_suffix.to_string(),
            name_prefix: "SageMaker-".to_string(),
            description: None,
            add_activities: Vec::new(),
            remove_activities: Vec::new(),
            parameters: BTreeMap::new(),
            account: account.to_string(),
            region: region.to_string(),
            partition: "aws".to_string(),
            tags: Vec::new(),
            managed_policy_arns: Vec::new(),
            permissions_boundary: None,
        }
    }

    /// Sets a list parameter.
    pub fn set<I, S>(&mut self, placeholder: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.parameters.insert(
            placeholder.to_string(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }
}

/// A named policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    /// The policy's name (deterministic: the role name and what it holds).
    pub name: String,
    /// The document.
    pub document: Value,
}

/// A role ready to deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDefinition {
    /// The role's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The activities it was built from, in order.
    pub activities: Vec<String>,
    /// The trust policy, merged over all activities.
    pub trust_policy: Value,
    /// Inline policies.
    pub inline_policies: Vec<NamedPolicy>,
    /// Customer-managed policies created for the role (when inline policies do not fit).
    pub managed_policies: Vec<NamedPolicy>,
    /// Managed policies attached by ARN (AWS managed ones of activities, and the spec's).
    pub attached_policy_arns: Vec<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// The permissions boundary.
    pub permissions_boundary: Option<String>,
    /// Things the user should know that did not stop the build (unused parameters, persona
    /// activities not in this catalog).
    pub warnings: Vec<String>,
}

/// Why a role cannot be built. Every problem found is listed, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// The spec names things that do not exist or values IAM would refuse.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// The policies do not fit IAM's quotas.
    #[error("{0}")]
    TooLarge(String),
}

impl RoleDefinition {
    /// The role as JSON: name, description, trust policy, policies, attachments, tags.
    pub fn to_json(&self) -> Value {
        let policies = |list: &[NamedPolicy]| -> Vec<Value> {
            list.iter()
                .map(|p| json!({"PolicyName": p.name, "PolicyDocument": p.document}))
                .collect()
        };
        let mut role = json!({
            "RoleName": self.name,
            "Description": self.description,
            "Activities": self.activities,
            "AssumeRolePolicyDocument": self.trust_policy,
            "Policies": policies(&self.inline_policies),
            "ManagedPolicies": policies(&self.managed_policies),
            "ManagedPolicyArns": self.attached_policy_arns,
            "Tags": self.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        });
        if let Some(b) = &self.permissions_boundary {
            role["PermissionsBoundary"] = Value::String(b.clone());
        }
        role
    }
}

impl Catalog {
    /// Builds a role: checks the spec (every problem at once), links every activity, merges the
    /// trust policies and packs the policies into IAM's quotas.
    pub fn build(&self, spec: &RoleSpec) -> Result<RoleDefinition, RoleError> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let name = format!("{}{}", spec.name_prefix, spec.name_suffix);
        if let Err(e) = check_role_name(&name) {
            problems.push(e.to_string());
        }
        if !matches!(spec.partition.as_str(), "aws" | "aws-cn" | "aws-us-gov") {
            problems.push(format!(
                "partition `{}` must be `aws`, `aws-cn` or `aws-us-gov`",
                spec.partition
            ));
        }
        if spec.account.is_empty() {
            // `RoleSpec::fill_defaults` takes the account from the roles to pass when it can; say
            // why it could not.
            problems.push(match spec.pass_role_account() {
                Err(why) => why.to_string(),
                Ok(_) => "no account given; pass --account".to_string(),
            });
        } else if spec.account.len() != 12 || !spec.account.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!(
                "account `{}` must be a 12-digit AWS account id (add --account)",
                spec.account
            ));
        }
        if spec.region.is_empty() {
            problems.push("a region is required (add --region)".to_string());
        }

        // The activities: the persona's, adjusted.
        let mut ids: Vec<String> = Vec::new();
        match find_persona(&spec.persona) {
            Ok(p) => {
                let (have, missing) = self.persona_activities(p);
                ids.extend(have.iter().map(|a| a.id.clone()));
                if !missing.is_empty() {
                    warnings.push(format!(
                        "persona `{}` also preselects {}, which this catalog does not have",
                        p.id,
                        missing.join(", ")
                    ));
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
        for id in &spec.add_activities {
            if self.activity(id).is_none() {
                problems.push(format!(
                    "unknown activity `{id}` (see `rolewright activities`)"
                ));
            } else if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        for id in &spec.remove_activities {
            if self.activity(id).is_none() {
                problems.push(format!(
                    "unknown activity `{id}` (see `rolewright activities`)"
                ));
            }
            ids.retain(|a| a != id);
        }
        let activities: Vec<&ActivityTemplate> =
            ids.iter().filter_map(|id| self.activity(id)).collect();
        if activities.is_empty() && problems.is_empty() {
            problems.push("the role has no activity; add one with --activity".to_string());
        }

        let has = |p: &str| spec.parameters.get(p).is_some_and(|v| !v.is_empty());
        let customization = Customization {
            vpc: has("VpcSubnets") || has("VpcSecurityGroups"),
            kms: has("DataKmsKeys") || has("VolumeKmsKeys"),
        };
        if customization.vpc && !(has("VpcSubnets") && has("VpcSecurityGroups")) {
            problems.push("VPC customization needs both subnets (--subnet) and security groups (--security-group)".to_string());
        }

        // Values, then what each activity needs.
        for (placeholder, values) in &spec.parameters {
            for v in values {
                if let Some(problem) = check_value(placeholder, v) {
                    let flag = parameter(placeholder).map_or(placeholder.as_str(), |p| p.flag);
                    problems.push(format!("{flag}: {problem}"));
                }
            }
        }
        // A persona's preselected activity whose parameters were not all given is left out,
        // with a warning naming the flags: the console preselects, the admin decides. An activity the
        // user asked for by name must get its parameters.
        let explicit: BTreeSet<&str> = spec.add_activities.iter().map(String::as_str).collect();
        let (activities, skipped): (Vec<&ActivityTemplate>, Vec<&ActivityTemplate>) =
            activities.into_iter().partition(|a| {
                let needed = a.list_placeholders(customization);
                explicit.contains(a.id.as_str()) || needed.iter().all(|p| has(p))
            });
        // When nothing would be left, the persona's activities were meant: say what they need.
        let (activities, skipped) = if activities.is_empty() && !skipped.is_empty() {
            (skipped, Vec::new())
        } else {
            (activities, skipped)
        };
        for a in &skipped {
            let flags: Vec<&str> = a
                .list_placeholders(customization)
                .iter()
                .filter(|p| !has(p))
                .filter_map(|p| parameter(p).map(|p| p.flag))
                .collect();
            warnings.push(format!(
                "persona activity `{}` is left out: it needs {}; add {} to include it",
                a.id,
                flags.join(" and "),
                if flags.len() == 1 { "it" } else { "them" }
            ));
        }
        ids.retain(|id| !skipped.iter().any(|a| a.id == *id));
        if activities.is_empty() && problems.is_empty() {
            problems.push("no activity is left for the role; give the parameters of the persona's activities or add one with --activity".to_string());
        }
        let mut used = BTreeSet::new();
        for a in &activities {
            for placeholder in a.list_placeholders(customization) {
                used.insert(placeholder.clone());
                if !has(&placeholder) {
                    let (flag, what) = parameter(&placeholder)
                        .map_or((placeholder.as_str(), "value"), |p| (p.flag, p.what));
                    problems.push(format!(
                        "activity `{}` needs at least one {what}: add {flag}",
                        a.id
                    ));
                }
            }
        }
        for (placeholder, values) in &spec.parameters {
            if !values.is_empty() && !used.contains(placeholder) {
                let flag = parameter(placeholder).map_or(placeholder.as_str(), |p| p.flag);
                warnings.push(format!("{flag} is not used by any selected activity"));
            }
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(RoleError::Invalid(problems));
        }

        let mut bindings = Bindings::default();
        bindings
            .single
            .insert("Partition".into(), spec.partition.clone());
        bindings
            .single
            .insert("AccountId".into(), spec.account.clone());
        bindings.single.insert("Region".into(), spec.region.clone());
        bindings.lists = spec.parameters.clone();

        let mut linked = Vec::new();
        let mut trusts = Vec::new();
        let mut attached = Vec::new();
        for a in &activities {
            let policy = link(a.policy(customization), &bindings)
                .map_err(|e| RoleError::Invalid(vec![format!("activity `{}`: {e}", a.id)]))?;
            let trust = link(&a.trust, &bindings)
                .map_err(|e| RoleError::Invalid(vec![format!("activity `{}`: {e}", a.id)]))?;
            if policy["Statement"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
            {
                linked.push((a.id.clone(), policy));
            }
            trusts.push(trust);
            for m in &a.managed_policies {
                let arn = format!("arn:{}:iam::aws:policy/{m}", spec.partition);
                if !attached.contains(&arn) {
                    attached.push(arn);
                }
            }
        }
        for arn in &spec.managed_policy_arns {
            if !attached.contains(arn) {
                attached.push(arn.clone());
            }
        }
        let (inline_policies, managed_policies) = pack(&name, linked, attached.len())?;
        Ok(RoleDefinition {
            description: spec.description.clone().unwrap_or_else(|| {
                format!(
                    "{} role built by rolewright from activities: {}",
                    spec.persona,
                    ids.join(", ")
                )
            }),
            name,
            activities: ids,
            trust_policy: merge_trust(&trusts),
            inline_policies,
            managed_policies,
            attached_policy_arns: attached,
            tags: spec.tags.clone(),
            permissions_boundary: spec.permissions_boundary.clone(),
            warnings,
        })
    }
}

fn size(v: &Value) -> usize {
    text_size(&v.to_string())
}

/// Inline while the role's total fits, then customer-managed policies of at most 6,144
/// characters each (an activity too large for one is split by statements), at most 10 attached.
fn pack(
    role: &str,
    linked: Vec<(String, Value)>,
    already_attached: usize,
) -> Result<(Vec<NamedPolicy>, Vec<NamedPolicy>), RoleError> {
    let mut inline = Vec::new();
    let mut managed = Vec::new();
    let mut inline_total = 0;
    for (id, policy) in linked {
        let s = size(&policy);
        if inline_total + s <= ROLE_INLINE_POLICIES_TOTAL {
            inline_total += s;
            inline.push(NamedPolicy {
                name: format!("{role}-{id}"),
                document: policy,
            });
            continue;
        }
        if s <= MANAGED_POLICY {
            managed.push(NamedPolicy {
                name: format!("{role}-{id}"),
                document: policy,
            });
            continue;
        }
        // Split the statements over as many managed policies as needed.
        let version = policy["Version"].clone();
        let mut part = Vec::new();
        let mut n = 1;
        for statement in policy["Statement"].as_array().into_iter().flatten() {
            let candidate: Vec<Value> = part.iter().cloned().chain([statement.clone()]).collect();
            if size(&json!({"Version": version, "Statement": candidate})) > MANAGED_POLICY {
                if part.is_empty() {
                    return Err(RoleError::TooLarge(format!(
                        "a statement of activity `{id}` alone is larger than IAM's 6,144-character managed policy quota; remove some of its resources"
                    )));
                }
                managed.push(NamedPolicy {
                    name: format!("{role}-{id}-{n}"),
                    document: json!({"Version": version, "Statement": part}),
                });
                n += 1;
                part = vec![statement.clone()];
            } else {
                part.push(statement.clone());
            }
        }
        if !part.is_empty() {
            managed.push(NamedPolicy {
                name: format!("{role}-{id}-{n}"),
                document: json!({"Version": version, "Statement": part}),
            });
        }
    }
    let total = managed.len() + already_attached;
    if total > MANAGED_POLICIES_PER_ROLE {
        return Err(RoleError::TooLarge(format!(
            "the role needs {total} managed policies ({} created for its activities, {already_attached} attached by ARN), more than IAM's default quota of {MANAGED_POLICIES_PER_ROLE}; drop activities (--without-activity), resources, or --managed-policy ARNs",
            managed.len()
        )));
    }
    Ok((inline, managed))
}

/// One trust policy for all activities: identical statements once, and statements that differ
/// only in their `Service` principals merged into one.
fn merge_trust(trusts: &[Value]) -> Value {
    let mut merged: Vec<Value> = Vec::new();
    for trust in trusts {
        let statements = match &trust["Statement"] {
            Value::Array(s) => s.clone(),
            Value::Object(_) => vec![trust["Statement"].clone()],
            _ => Vec::new(),
        };
        for statement in statements {
            if merged.contains(&statement) {
                continue;
            }
            let key = |s: &Value| {
                let mut s = s.clone();
                if let Some(p) = s.get_mut("Principal").and_then(Value::as_object_mut) {
                    p.remove("Service");
                }
                s
            };
            if let Some(existing) = merged.iter_mut().find(|m| key(m) == key(&statement)) {
                let services = |s: &Value| -> BTreeSet<String> {
                    match &s["Principal"]["Service"] {
                        Value::String(one) => [one.clone()].into(),
                        Value::Array(many) => many
                            .iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect(),
                        _ => BTreeSet::new(),
                    }
                };
                let all: BTreeSet<String> = services(existing)
                    .union(&services(&statement))
                    .cloned()
                    .collect();
                let value = if all.len() == 1 {
                    Value::String(all.into_iter().next().unwrap_or_default())
                } else {
                    Value::Array(all.into_iter().map(Value::String).collect())
                };
                existing["Principal"]["Service"] = value;
            } else {
                merged.push(statement);
            }
        }
    }
    // A conditional statement is redundant beside the same statement without the condition.
    let unconditional: Vec<Value> = merged
        .iter()
        .filter(|s| s.get("Condition").is_none())
        .cloned()
        .collect();
    merged.retain(|s| {
        let mut bare = s.clone();
        match bare.as_object_mut().and_then(|o| o.remove("Condition")) {
            Some(_) => !unconditional.contains(&bare),
            None => true,
        }
    });
    json!({"Version": "2012-10-17", "Statement": merged})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_merge_service_principals() {
        let a = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let b = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert_eq!(
            merge_trust(&[a.clone(), a.clone(), b]),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["glue.amazonaws.com", "sagemaker.amazonaws.com"]}, "Action": "sts:AssumeRole"}]})
        );
        assert_eq!(merge_trust(std::slice::from_ref(&a)), a);
        let conditional = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sagemaker:*"}}}]});
        assert_eq!(merge_trust(&[conditional.clone(), a.clone()]), a);
        assert_eq!(merge_trust(std::slice::from_ref(&conditional)), conditional);
    }

    #[test]
    fn packing_moves_to_managed_policies_and_splits_large_ones() {
        let statement = |i: usize| json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::bucket-{i:04}-{}/*", "x".repeat(80))});
        let big = json!({"Version": "2012-10-17", "Statement": (0..150).map(statement).collect::<Vec<_>>()});
        let small = json!({"Version": "2012-10-17", "Statement": [statement(0)]});
        let (inline, managed) =
            pack("R", vec![("a".into(), small.clone()), ("b".into(), big)], 0).unwrap();
        assert_eq!(inline.len(), 1);
        assert!(managed.len() >= 3, "{}", managed.len());
        assert!(managed.iter().all(|m| size(&m.document) <= MANAGED_POLICY));
        assert_eq!(managed[0].name, "R-b-1");
        let err = pack("R", vec![("a".into(), small)], 10).map(|_| ());
        assert_eq!(err, Ok(()));
    }
}
