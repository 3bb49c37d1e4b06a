//! One fixture per lint rule: the policy that triggers it and the finding it must give.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use rolewright_lint::{CODES, LintType, Severity, lint};
use rolewright_reference::Reference;

fn stmt(body: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": [{body}]}}"#)
}

/// (code, policy, a fragment the message must contain)
fn fixtures() -> Vec<(&'static str, String, &'static str)> {
    vec![
        ("unknown-service", stmt(r#"{"Effect": "Allow", "Action": "sagemakr:ListApps", "Resource": "*"}"#), "`sagemakr` in `sagemakr:ListApps` is not the prefix of an AWS service"),
        ("unknown-action", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "*"}"#), "`s3:GetObjects` is not an action of `s3`"),
        ("wildcard-matches-nothing", stmt(r#"{"Effect": "Allow", "Action": "s3:Fly*", "Resource": "*"}"#), "`s3:Fly*` matches no AWS action"),
        ("missing-action", stmt(r#"{"Effect": "Allow", "Resource": "*"}"#), "neither `Action` nor `NotAction`"),
        ("malformed-arn", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "ml-data/*"}"#), "resource `ml-data/*` is not an ARN"),
        ("resource-mismatch", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:sagemaker:us-east-1:123456789012:model/m"}"#), "matches no resource type of the statement's s3 actions"),
        ("action-resource-mismatch", stmt(r#"{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::b/*"}"#), "`s3:ListAllMyBuckets` accept none of the statement's resources"),
        ("unknown-condition-key", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:UserNmae": "x"}}}"#), "condition key `aws:UserNmae` does not exist"),
        ("condition-key-not-applicable", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"sagemaker:VpcSubnets": "x"}}}"#), "no action of this statement supports condition key `sagemaker:VpcSubnets`"),
        ("condition-type-mismatch", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"aws:SourceIp": "true"}}}"#), "`Bool` cannot compare condition key `aws:SourceIp`, which is of type IPAddress"),
        ("condition-type-usable", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:s3:::b"}}}"#), "compares it as text"),
        ("invalid-condition-value", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "soon"}}}"#), "`soon` is not a date"),
        ("set-operator-on-single-valued-key", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"aws:username": "x"}}}"#), "has a single value"),
        ("missing-set-operator", stmt(r#"{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"StringEquals": {"aws:TagKeys": "team"}}}"#), "can have several values"),
        ("mfa-condition-false", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}"#), "long-term keys"),
        ("resource-star", stmt(r#"{"Effect": "Allow", "Action": "sagemaker:CreateTrainingJob", "Resource": "*"}"#), "on every resource, though they accept specific resources"),
        ("resource-effectively-star", stmt(r#"{"Effect": "Allow", "Action": "cloudtrail:GetEventSelectors", "Resource": "arn:*:cloudtrail:*:*:trail/*"}"#), "in every account and region"),
        ("passrole-star", stmt(r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}"#), "`iam:PassRole` on `*`"),
        ("passrole-without-service", stmt(r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/x"}"#), "without an `iam:PassedToService` condition"),
        ("allow-not-action", stmt(r#"{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}"#), "`Allow` with `NotAction`"),
        ("allow-not-resource", stmt(r#"{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}"#), "`Allow` with `NotResource`"),
        ("privilege-escalation", stmt(r#"{"Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "*"}"#), "raise their own permissions"),
        ("resource-policy-write", stmt(r#"{"Effect": "Allow", "Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::b"}"#), "rewrite a resource-based policy"),
        ("permissions-management", stmt(r#"{"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*"}"#), "change who may access resources"),
        ("duplicate-sid", stmt(r#"{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, {"Sid": "A", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}"#), "`Sid` `A` is also the Sid of statement 0"),
        ("invalid-sid", stmt(r#"{"Sid": "read data!", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#), "may contain only letters and digits"),
        ("missing-version", r#"{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#.to_string(), "has no `Version`"),
        ("old-version", r#"{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#.to_string(), "does not substitute policy variables"),
        ("redundant-statement", stmt(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#), "statement 1 grants nothing that statement 0 does not already grant"),
        ("empty-array", stmt(r#"{"Effect": "Allow", "Action": [], "Resource": "*"}"#), "empty list"),
    ]
}

#[test]
fn every_rule_has_a_fixture_that_triggers_it() {
    let reference = Reference::embedded();
    let fixtures = fixtures();
    for (code, severity, _) in CODES {
        let (_, policy, fragment) = fixtures
            .iter()
            .find(|(c, _, _)| c == code)
            .unwrap_or_else(|| panic!("no fixture for `{code}`"));
        let findings = lint(policy, LintType::Auto, reference);
        let finding = findings
            .iter()
            .find(|f| f.code == *code)
            .unwrap_or_else(|| panic!("`{code}` not reported for {policy}: {findings:#?}"));
        assert_eq!(finding.severity, *severity, "{code}");
        assert!(
            finding.message.contains(fragment),
            "{code}: {}",
            finding.message
        );
    }
}

#[test]
fn a_least_privilege_policy_has_no_findings() {
    let policy = stmt(
        r#"{"Sid": "Train", "Effect": "Allow", "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"],
            "Resource": "arn:aws:sagemaker:us-east-1:123456789012:training-job/*",
            "Condition": {"ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["subnet-1"]}}},
           {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/SageMaker-exec",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}"#,
    );
    let findings = lint(&policy, LintType::Auto, Reference::embedded());
    assert_eq!(findings, vec![]);
}

#[test]
fn auto_type_reads_principals_as_resource_policies() {
    let policy = stmt(
        r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#,
    );
    assert!(
        lint(&policy, LintType::Auto, Reference::embedded())
            .iter()
            .all(|f| f.severity != Severity::Error)
    );
    let as_identity = lint(
        &policy,
        LintType::Type(rolewright_iam::PolicyType::Identity),
        Reference::embedded(),
    );
    assert_eq!(as_identity[0].code, "not-allowed-for-type");
}
