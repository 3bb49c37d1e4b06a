//! The persona test, automated: representative requests against a generated role, with the
//! decision each must get, decided by the engine (the "test your new persona" notebook of the
//! Role Manager lab).

use std::collections::BTreeSet;

use rolewright_iam::{CompiledPolicy, Outcome, PolicyDocument, PolicySet, Principal, Request};
use serde_json::Value;

/// A role read back from a file: its name, the activities it was built from (when known) and its
/// permission policies.
#[derive(Debug, Clone, PartialEq)]
pub struct RolePolicies {
    /// The role's name.
    pub name: String,
    /// The activities, when the file records them.
    pub activities: Option<Vec<String>>,
    /// The permission policy documents (inline and customer-managed).
    pub documents: Vec<Value>,
}

impl RolePolicies {
    /// Reads rolewright's role JSON (`rolewright role new`) or a CloudFormation template with one
    /// `AWS::IAM::Role` (its inline policies and the `AWS::IAM::ManagedPolicy` resources it
    /// references).
    pub fn from_json(value: &Value) -> Result<RolePolicies, String> {
        if let Some(resources) = value.get("Resources").and_then(Value::as_object) {
            let (_, role) = resources
                .iter()
                .find(|(_, r)| r["Type"] == "AWS::IAM::Role")
                .ok_or("the template has no AWS::IAM::Role resource")?;
            let props = &role["Properties"];
            let mut documents: Vec<Value> = props["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["PolicyDocument"].clone())
                .collect();
            for arn in props["ManagedPolicyArns"].as_array().into_iter().flatten() {
                if let Some(id) = arn.get("Ref").and_then(Value::as_str)
                    && let Some(policy) = resources.get(id)
                {
                    documents.push(policy["Properties"]["PolicyDocument"].clone());
                }
            }
            let activities = role["Metadata"]["rolewright"]["Activities"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                });
            return Ok(RolePolicies {
                name: props["RoleName"].as_str().unwrap_or("role").to_string(),
                activities,
                documents,
            });
        }
        let name = value["RoleName"].as_str().ok_or("the file is neither a rolewright role (RoleName) nor a CloudFormation template (Resources)")?;
        let mut documents = Vec::new();
        for key in ["Policies", "ManagedPolicies"] {
            documents.extend(
                value[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| p["PolicyDocument"].clone()),
            );
        }
        let activities = value["Activities"].as_array().map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        });
        Ok(RolePolicies {
            name: name.to_string(),
            activities,
            documents,
        })
    }
}

/// One row of the persona test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRow {
    /// What the row checks, in words.
    pub check: String,
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The condition keys set, as `key=value`.
    pub context: Vec<String>,
    /// The decision the role must get.
    pub expected: Outcome,
    /// The decision it gets.
    pub actual: Outcome,
}

impl TestRow {
    /// Whether the expectation holds (any denial satisfies an expected denial).
    pub fn holds(&self) -> bool {
        (self.expected == Outcome::Allowed) == (self.actual == Outcome::Allowed)
    }
}

/// Every string inside `value`, in document order.
fn strings(value: &Value, out: &mut Vec<String>) {
    crate::link::walk_strings(value, &mut |s| out.push(s.to_string()));
}

/// The condition keys and values of the statement that grants `sagemaker:CreateTrainingJob` with
/// conditions (its `Null` checks excepted): what a request must carry to be allowed.
fn job_conditions(documents: &[Value]) -> Vec<(String, Vec<String>)> {
    for doc in documents {
        for s in doc["Statement"].as_array().into_iter().flatten() {
            let mut actions = Vec::new();
            strings(&s["Action"], &mut actions);
            if s["Effect"] != "Allow"
                || !actions
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case("sagemaker:CreateTrainingJob"))
            {
                continue;
            }
            let Some(blocks) = s["Condition"].as_object() else {
                continue;
            };
            let mut out = Vec::new();
            for (operator, entries) in blocks {
                if operator == "Null" {
                    continue;
                }
                for (key, values) in entries.as_object().into_iter().flatten() {
                    let mut v = Vec::new();
                    strings(values, &mut v);
                    out.push((key.clone(), v));
                }
            }
            return out;
        }
    }
    Vec::new()
}

/// Runs the persona test on a role in account `account`.
pub fn persona_test(role: &RolePolicies, account: &str) -> Result<Vec<TestRow>, String> {
    let mut set = PolicySet::new();
    for (i, doc) in role.documents.iter().enumerate() {
        let parsed =
            PolicyDocument::parse(&doc.to_string()).map_err(|e| format!("policy {i}: {e}"))?;
        set = set.with_identity(CompiledPolicy::new(&parsed));
    }
    let principal = Principal::parse(&format!(
        "arn:aws:sts::{account}:assumed-role/{}/persona-test",
        role.name
    ))
    .map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    for doc in &role.documents {
        strings(doc, &mut all);
    }
    let partition = all
        .iter()
        .find_map(|s| s.strip_prefix("arn:").and_then(|r| r.split(':').next()))
        .unwrap_or("aws")
        .to_string();
    let buckets: BTreeSet<String> = all
        .iter()
        .filter_map(|s| s.strip_prefix(&format!("arn:{partition}:s3:::")))
        .filter_map(|r| r.strip_suffix("/*"))
        .filter(|b| !b.contains(['*', '?', '$']))
        .map(String::from)
        .collect();
    let pass_roles: BTreeSet<String> = all
        .iter()
        .filter(|s| {
            s.starts_with(&format!("arn:{partition}:iam::"))
                && s.contains(":role/")
                && !s.contains(['*', '?'])
        })
        .cloned()
        .collect();

    let mut rows = Vec::new();
    let mut run = |check: String,
                   action: &str,
                   resource: String,
                   context: Vec<(String, Vec<String>)>,
                   expected: Outcome| {
        let mut request =
            Request::new(principal.clone(), action, &resource).with_resource_account(account);
        for (k, v) in &context {
            let multi = k.to_ascii_lowercase().starts_with("sagemaker:vpc");
            if v.len() == 1 && !multi {
                request.context_mut().set(k, v[0].clone());
            } else {
                request.context_mut().set_multi(k, v.iter().cloned());
            }
        }
        let actual = set.evaluate(&request).outcome;
        rows.push(TestRow {
            check,
            action: action.to_string(),
            resource,
            context: context
                .iter()
                .map(|(k, v)| format!("{k}={}", v.join(",")))
                .collect(),
            expected,
            actual,
        });
    };

    // S3 access only to the named buckets.
    let full_s3 = {
        let probe = Request::new(
            principal.clone(),
            "s3:GetObject",
            &format!("arn:{partition}:s3:::rolewright-unnamed-bucket/key"),
        )
        .with_resource_account(account);
        role.activities
            .as_ref()
            .is_some_and(|a| a.iter().any(|id| id.starts_with("s3-full-access")))
            || (role.activities.is_none() && set.evaluate(&probe).outcome == Outcome::Allowed)
    };
    for bucket in &buckets {
        run(
            format!("objects of the named bucket `{bucket}` are readable"),
            "s3:GetObject",
            format!("arn:{partition}:s3:::{bucket}/data/part-0000.csv"),
            vec![],
            Outcome::Allowed,
        );
    }
    run(
        if full_s3 {
            "S3 Full Access reaches every bucket".into()
        } else {
            "a bucket that was not named is out of reach".into()
        },
        "s3:GetObject",
        format!("arn:{partition}:s3:::rolewright-unnamed-bucket/key"),
        vec![],
        if full_s3 {
            Outcome::Allowed
        } else {
            Outcome::ImplicitlyDenied
        },
    );

    // PassRole only to the named roles, and only to SageMaker.
    for r in &pass_roles {
        run(
            "the named role can be passed to SageMaker".into(),
            "iam:PassRole",
            r.clone(),
            vec![(
                "iam:PassedToService".into(),
                vec!["sagemaker.amazonaws.com".into()],
            )],
            Outcome::Allowed,
        );
        run(
            "the named role cannot be passed to another service".into(),
            "iam:PassRole",
            r.clone(),
            vec![(
                "iam:PassedToService".into(),
                vec!["ec2.amazonaws.com".into()],
            )],
            Outcome::ImplicitlyDenied,
        );
    }
    run(
        "a role that was not named cannot be passed".into(),
        "iam:PassRole",
        format!("arn:{partition}:iam::{account}:role/rolewright-unnamed-role"),
        vec![(
            "iam:PassedToService".into(),
            vec!["sagemaker.amazonaws.com".into()],
        )],
        Outcome::ImplicitlyDenied,
    );

    // No endpoint deployment unless Manage Endpoints is selected.
    if let Some(activities) = &role.activities {
        let endpoints = activities.iter().any(|a| a == "manage-endpoints");
        run(
            if endpoints {
                "Manage Endpoints deploys endpoints".into()
            } else {
                "no endpoint deployment without Manage Endpoints".into()
            },
            "sagemaker:CreateEndpoint",
            format!("arn:{partition}:sagemaker:us-east-1:{account}:endpoint/persona-test"),
            vec![],
            if endpoints {
                Outcome::Allowed
            } else {
                Outcome::ImplicitlyDenied
            },
        );
    }

    // With VPC customization, no training job outside the approved subnets. The approved
    // request meets every condition of the statement that grants the job (subnets, security
    // groups, and the KMS keys of a KMS variant).
    let trains = role
        .activities
        .as_ref()
        .is_none_or(|a| a.iter().any(|id| id == "manage-jobs"));
    let conditions = job_conditions(&role.documents);
    let has_vpc = conditions
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("sagemaker:VpcSubnets"));
    if trains && has_vpc {
        let job =
            format!("arn:{partition}:sagemaker:us-east-1:{account}:training-job/persona-test");
        run(
            "a training job in the approved subnets is allowed".into(),
            "sagemaker:CreateTrainingJob",
            job.clone(),
            conditions.clone(),
            Outcome::Allowed,
        );
        let other: Vec<(String, Vec<String>)> = conditions
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("sagemaker:VpcSubnets") {
                    (k.clone(), vec!["subnet-rolewright-other".to_string()])
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect();
        run(
            "a training job in another subnet is refused".into(),
            "sagemaker:CreateTrainingJob",
            job.clone(),
            other,
            Outcome::ImplicitlyDenied,
        );
        let without: Vec<(String, Vec<String>)> = conditions
            .iter()
            .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("sagemaker:vpc"))
            .cloned()
            .collect();
        run(
            "a training job without a VPC is refused".into(),
            "sagemaker:CreateTrainingJob",
            job,
            without,
            Outcome::ImplicitlyDenied,
        );
    }
    Ok(rows)
}
