//! `rolewright lint` and `rolewright summarize` as a user runs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::rolewright;

use std::path::PathBuf;

fn write(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("rolewright-lint-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn lint_reports_findings_as_json_and_exits_3_on_errors() {
    let file = write(
        "bad.json",
        r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "sagemaker:CreateTrainingJobs", "Resource": "*"},
  {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "1234abcd-12ab-34cd-56ef-1234567890ab"},
  {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
]}"#,
    );
    let out = rolewright(&["lint", "--format", "json", &file]);
    assert_eq!(out.status.code(), Some(3));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("unknown-action", "ERROR", "Statement[0].Action"),
            ("malformed-arn", "ERROR", "Statement[1].Resource"),
            ("passrole-star", "SECURITY_WARNING", "Statement[2].Action"),
            (
                "passrole-without-service",
                "SECURITY_WARNING",
                "Statement[2].Action"
            ),
        ]
    );
    assert_eq!(
        findings[0]["help"],
        "did you mean `sagemaker:CreateTrainingJob`?"
    );
    assert_eq!(
        findings[0]["message"],
        "`sagemaker:CreateTrainingJobs` is not an action of `sagemaker`"
    );
    assert_eq!(findings[0]["line"], 2);
    for key in ["code", "severity", "path", "message", "help"] {
        assert!(findings[1].get(key).is_some(), "missing {key}");
    }
}

#[test]
fn lint_of_a_clean_policy_exits_0_with_a_count() {
    let file = write(
        "good.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::ml-data/*"}]}"#,
    );
    let out = rolewright(&["lint", &file]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{file}: 0 errors, 0 security warnings, 0 warnings, 0 suggestions\n")
    );
}

#[test]
fn lint_human_output_shows_the_line_and_a_fix() {
    let file = write(
        "cond.json",
        "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:ListBucket\",\n \"Resource\": \"arn:aws:s3:::ml-data\", \"Condition\": {\"NumericEquals\": {\"s3:prefix\": \"home\"}}}]}",
    );
    let out = rolewright(&["lint", &file]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ERROR[condition-type-mismatch]: `NumericEquals` cannot compare condition key `s3:prefix`, which is of type String"),
        "{text}"
    );
    assert!(text.contains(&format!("--> {file}:2:")), "{text}");
    assert!(text.contains("= help: use a String operator"), "{text}");
}

#[test]
fn summarize_groups_grants_by_service_and_access_level() {
    let file = write(
        "summary.json",
        r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::ml-data", "arn:aws:s3:::ml-data/*"]},
  {"Effect": "Allow", "Action": "sagemaker:Describe*", "Resource": "*"},
  {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
]}"#,
    );
    let out = rolewright(&["summarize", &file]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.contains(
            &"s3 List: 1 action on bucket — resources: arn:aws:s3:::ml-data, arn:aws:s3:::ml-data/*"
        ),
        "{text}"
    );
    assert!(
        lines.contains(
            &"s3 Read: 1 action on object — resources: arn:aws:s3:::ml-data, arn:aws:s3:::ml-data/*"
        ),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("sagemaker Read: ")),
        "{text}"
    );
    assert_eq!(lines.last(), Some(&"denied: s3:DeleteObject"));
}

#[test]
fn simulate_knows_wildcard_only_actions_from_the_service_data() {
    let file = write(
        "bucket.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::ml-data"}]}"#,
    );
    // s3:ListAllMyBuckets has no resource types: a bucket ARN does not grant it.
    let out = rolewright(&[
        "simulate",
        "--policy",
        &file,
        "--action",
        "s3:ListAllMyBuckets",
    ]);
    assert_eq!(out.status.code(), Some(2));
    // s3:ListBucket does have resource types: asking about every resource finds the grant.
    let out = rolewright(&["simulate", "--policy", &file, "--action", "s3:ListBucket"]);
    assert_eq!(out.status.code(), Some(0));
}
