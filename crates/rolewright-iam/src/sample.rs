//! A sample Data Scientist role and requests against it, for examples, tests and benchmarks.
//!
//! The role is six inline policies built from the official Role Manager CDK templates (run
//! Studio apps, manage ML jobs, manage models, manage experiments, S3 bucket access, access AWS
//! services), with example values in their placeholders: 18 statements, 4 of them with conditions.

use crate::request::{Principal, Request};

/// The role as JSON: `{"description", "principal", "policies": [{"name", "policy"}]}`.
pub const DATA_SCIENTIST_ROLE: &str = include_str!("../benches/fixtures/data-scientist-role.json");

/// The caller that the sample requests use: a session of the sample role.
pub const DATA_SCIENTIST_SESSION: &str =
    "arn:aws:sts::123456789012:assumed-role/SageMaker-ds/alice";

/// The six policy documents of the sample role, as compact JSON text.
pub fn data_scientist_policy_texts() -> Vec<String> {
    let fixture: serde_json::Value = serde_json::from_str(DATA_SCIENTIST_ROLE).unwrap_or_default();
    fixture["policies"]
        .as_array()
        .map(|policies| policies.iter().map(|p| p["policy"].to_string()).collect())
        .unwrap_or_default()
}

/// Representative requests of a data scientist: allowed ones (training jobs, reading the
/// training bucket, passing the execution role to SageMaker) and denied ones (other buckets,
/// endpoints, EC2, passing the role to another service).
pub fn data_scientist_requests() -> Vec<Request> {
    let principal = Principal::parse(DATA_SCIENTIST_SESSION).unwrap_or(Principal::Anonymous);
    let r = |action: &str, resource: &str| {
        Request::new(principal.clone(), action, resource).with_resource_account("123456789012")
    };
    let mut pass_role = r(
        "iam:PassRole",
        "arn:aws:iam::123456789012:role/SageMaker-ds-execution",
    );
    pass_role
        .context_mut()
        .set("iam:PassedToService", "sagemaker.amazonaws.com");
    let mut pass_role_elsewhere = pass_role.clone();
    pass_role_elsewhere
        .context_mut()
        .set("iam:PassedToService", "ec2.amazonaws.com");
    vec![
        r(
            "sagemaker:CreateTrainingJob",
            "arn:aws:sagemaker:us-east-1:123456789012:training-job/exp-1",
        ),
        r(
            "s3:GetObject",
            "arn:aws:s3:::ml-training-data/train/part-0001.csv",
        ),
        r("s3:PutObject", "arn:aws:s3:::finance-data/report.csv"),
        pass_role,
        pass_role_elsewhere,
        r(
            "sagemaker:CreateEndpoint",
            "arn:aws:sagemaker:us-east-1:123456789012:endpoint/prod",
        ),
        r(
            "ecr:BatchGetImage",
            "arn:aws:ecr:us-east-1:123456789012:repository/ml-images",
        ),
        r("sagemaker:ListApps", "*"),
        r(
            "ec2:RunInstances",
            "arn:aws:ec2:us-east-1:123456789012:instance/*",
        ),
        r(
            "sagemaker:DescribeModel",
            "arn:aws:sagemaker:us-east-1:123456789012:model/churn",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompiledPolicy, Outcome, PolicyDocument, PolicySet};

    #[test]
    fn the_sample_role_grants_what_a_data_scientist_needs_and_no_more() {
        let mut set = PolicySet::new();
        for text in data_scientist_policy_texts() {
            set = set.with_identity(CompiledPolicy::new(&PolicyDocument::parse(&text).unwrap()));
        }
        let outcomes: Vec<(String, Outcome)> = data_scientist_requests()
            .iter()
            .map(|r| (r.action().to_string(), set.evaluate(r).outcome))
            .collect();
        let allowed: Vec<&str> = outcomes
            .iter()
            .filter(|(_, o)| *o == Outcome::Allowed)
            .map(|(a, _)| a.as_str())
            .collect();
        assert_eq!(
            allowed,
            [
                "sagemaker:CreateTrainingJob",
                "s3:GetObject",
                "iam:PassRole",
                "ecr:BatchGetImage",
                "sagemaker:ListApps",
                "sagemaker:DescribeModel"
            ]
        );
    }
}
