//! The `rolewright` binary as a user runs it: arguments, files, output and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{rolewright, scratch, stderr, stdout, write};

use std::path::Path;

const READ_ML_DATA: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ReadTrainingData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::ml-data", "arn:aws:s3:::ml-data/*"]}
  ]
}"#;

#[test]
fn validate_accepts_a_valid_policy() {
    let dir = scratch("valid");
    let file = write(&dir, "p.json", READ_ML_DATA);
    let out = rolewright(&["validate", &file]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("{file}: valid identity policy\n"));
}

#[test]
fn validate_reports_path_line_column_and_snippet_and_exits_3() {
    let dir = scratch("invalid");
    let file = write(
        &dir,
        "p.json",
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": 42, \"Resource\": \"*\"}\n  ]\n}\n",
    );
    let out = rolewright(&["validate", &file]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains(
            "error[wrong-type]: `Action` must be a string or an array of strings, found a number"
        ),
        "{err}"
    );
    assert!(
        err.contains(&format!("--> {file}:4:35 at Statement[0].Action")),
        "{err}"
    );
    assert!(
        err.contains("4 |     {\"Effect\": \"Allow\", \"Action\": 42, \"Resource\": \"*\"}"),
        "{err}"
    );
    assert_eq!(stdout(&out), format!("{file}: 1 error, 0 warnings\n"));
}

#[test]
fn validate_applies_the_rules_of_the_policy_type() {
    let dir = scratch("types");
    let file = write(
        &dir,
        "scp.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}"#,
    );
    let out = rolewright(&["validate", "--type", "scp", "--format", "json", &file]);
    assert_eq!(out.status.code(), Some(3));
    let findings: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(findings[0]["code"], "not-allowed-for-type");
    assert_eq!(findings[0]["path"], "Statement[0].#Principal");
    assert_eq!(
        findings[0]["message"],
        "`Principal` is not allowed in a service control policy"
    );
    assert_eq!(findings[0]["line"], 1);
    // The same file is a fine resource policy.
    assert_eq!(
        rolewright(&["validate", "--type", "resource", &file])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn validate_explains_bad_arguments_and_missing_files() {
    let out = rolewright(&["validate", "--type", "spc", "x.json"]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2");
    assert!(stderr(&out).contains("unknown policy type `spc`, expected one of generic, identity"));
    let out = rolewright(&["validate", "/nonexistent/policy.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: cannot read `/nonexistent/policy.json`: No such file")
    );
}

#[test]
fn validate_refuses_duplicate_keys_and_huge_documents() {
    let dir = scratch("hostile");
    let dup = write(
        &dir,
        "dup.json",
        r#"{"Statement": [{"Effect": "Allow", "Effect": "Deny"}]}"#,
    );
    let out = rolewright(&["validate", &dup]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("error[duplicate-key]: duplicate key `Effect`"));
    let big = write(
        &dir,
        "big.json",
        &format!("{{\"Id\": \"{}\"}}", "x".repeat(10 << 20)),
    );
    let out = rolewright(&["validate", &big]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("document is 10485770 bytes, more than the limit of 1048576 bytes")
    );
    let deep = write(&dir, "deep.json", &"[".repeat(100_000));
    let out = rolewright(&["validate", &deep]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("document is nested more than 32 levels deep"));
}

#[test]
fn simulate_allows_and_says_which_statement() {
    let dir = scratch("allow");
    let file = write(&dir, "p.json", READ_ML_DATA);
    let out = rolewright(&[
        "simulate",
        "--policy",
        &file,
        "--principal",
        "arn:aws:iam::123456789012:user/alice",
        "--action",
        "S3:GETOBJECT",
        "--resource",
        "arn:aws:s3:::ml-data/train.csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "Allowed\n  allowed by identity policy {file}, statement 0 (Sid `ReadTrainingData`)\n"
        )
    );
}

#[test]
fn simulate_prints_the_decision_as_json() {
    let dir = scratch("json");
    let file = write(&dir, "p.json", READ_ML_DATA);
    let out = rolewright(&[
        "simulate",
        "--policy",
        &file,
        "--principal",
        "arn:aws:iam::123456789012:user/alice",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::ml-data/a",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let decision: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(decision["decision"], "Allowed");
    assert_eq!(decision["matched"][0]["sid"], "ReadTrainingData");
    assert_eq!(decision["matched"][0]["policyType"], "identity");
    assert_eq!(decision["message"], serde_json::Value::Null);
}

#[test]
fn simulate_denies_with_aws_words_and_exit_2() {
    let dir = scratch("deny");
    let file = write(&dir, "p.json", READ_ML_DATA);
    let out = rolewright(&[
        "simulate",
        "--policy",
        &file,
        "--principal",
        "arn:aws:iam::123456789012:user/alice",
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::ml-data/train.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stdout(&out),
        "ImplicitlyDenied\n  User: arn:aws:iam::123456789012:user/alice is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::ml-data/train.csv because no identity-based policy allows the s3:PutObject action\n"
    );
}

#[test]
fn simulate_with_scp_boundary_and_context() {
    let dir = scratch("guardrails");
    let allow_all = write(
        &dir,
        "all.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
    );
    let scp = write(
        &dir,
        "scp.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]}"#,
    );
    let base = [
        "simulate",
        "--policy",
        &allow_all,
        "--scp",
        &scp,
        "--action",
        "sagemaker:CreateDomain",
        "--resource",
        "arn:aws:sagemaker:ap-south-1:123456789012:domain/d-1",
    ];
    let mut denied = base.to_vec();
    denied.extend(["--context", "aws:RequestedRegion=ap-south-1"]);
    let out = rolewright(&denied);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("with an explicit deny in a service control policy"),
        "{}",
        stdout(&out)
    );
    let mut allowed = base.to_vec();
    allowed.extend(["--context", "aws:RequestedRegion=eu-west-1"]);
    assert_eq!(rolewright(&allowed).status.code(), Some(0));

    let boundary = write(
        &dir,
        "pb.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#,
    );
    let out = rolewright(&[
        "simulate",
        "--policy",
        &allow_all,
        "--boundary",
        &boundary,
        "--principal",
        "arn:aws:iam::123456789012:role/ds",
        "--action",
        "iam:CreateUser",
        "--resource",
        "arn:aws:iam::123456789012:user/x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("because no permissions boundary allows the iam:CreateUser action")
    );
}

#[test]
fn simulate_multi_valued_context() {
    let dir = scratch("multi");
    let p = write(
        &dir,
        "p.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}}]}"#,
    );
    let run = |ctx: &[&str]| {
        let mut args = vec![
            "simulate",
            "--policy",
            &p,
            "--action",
            "ec2:CreateTags",
            "--resource",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
        ];
        for c in ctx {
            args.extend(["--context", c]);
        }
        rolewright(&args).status.code()
    };
    assert_eq!(run(&["aws:TagKeys=team", "aws:TagKeys=env"]), Some(0));
    assert_eq!(run(&["aws:TagKeys=team", "aws:TagKeys=owner"]), Some(2));
    assert_eq!(run(&[r#"aws:TagKeys=["team"]"#]), Some(0));
    let out = rolewright(&[
        "simulate",
        "--policy",
        &p,
        "--action",
        "ec2:CreateTags",
        "--context",
        "novalue",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("context `novalue` must be `KEY=VALUE`"));
}

#[test]
fn simulate_refuses_invalid_policies_with_exit_3() {
    let dir = scratch("badpolicy");
    let p = write(
        &dir,
        "p.json",
        r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}"#,
    );
    let out = rolewright(&["simulate", "--policy", &p, "--action", "s3:GetObject"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("`Principal` is not allowed in an identity policy"));
    assert!(stderr(&out).contains(&format!("error: `{p}` is not a valid identity policy")));
}

#[test]
fn simulate_cases_prints_one_json_object_per_case_and_a_summary() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rolewright-iam/tests/cases");
    let out = rolewright(&[
        "simulate",
        "--cases",
        cases.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 74);
    for line in &lines {
        for key in ["file", "name", "decision", "blockedBy", "pass"] {
            assert!(line.get(key).is_some(), "missing {key} in {line}");
        }
        assert_eq!(line["pass"], true);
    }
    assert_eq!(
        stderr(&out).lines().last(),
        Some(format!("{} passed, 0 failed, 0 skipped", lines.len()).as_str())
    );
}

#[test]
fn simulate_cases_reads_jsonl_reports_failures_and_skips_discovery() {
    let dir = scratch("jsonl");
    let case = |name: &str, expected: &str, mode: &str| {
        format!(
            r#"{{"name": "{name}", "simulation": {{"mode": "{mode}"}}, "request": {{"principal": "arn:aws:iam::123456789012:user/a", "action": "s3:GetObject", "resource": {{"resource": "arn:aws:s3:::b/k", "accountId": "123456789012"}}}}, "identityPolicies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}]}}], "expected": {{"response": "{expected}"}}}}"#
        )
    };
    let text = [
        case("right", "Allowed", "Strict"),
        case("wrong", "ImplicitlyDenied", "Strict"),
        case("discovery", "Allowed", "Discovery"),
    ]
    .join("\n");
    let file = write(&dir, "cases.jsonl", &text);
    let out = rolewright(&["simulate", "--cases", &file, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[1]["name"], "wrong");
    assert_eq!(lines[1]["decision"], "Allowed");
    assert_eq!(lines[1]["pass"], false);
    assert_eq!(lines[2]["decision"], serde_json::Value::Null);
    assert_eq!(
        stderr(&out).lines().last(),
        Some("1 passed, 1 failed, 1 skipped")
    );

    let broken = write(&dir, "broken.json", "[{\"name\": 1}]");
    let out = rolewright(&["simulate", "--cases", &broken]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!(
        "error: `{broken}` is not a case file: invalid type"
    )));
}

#[test]
fn help_explains_every_command() {
    let out = rolewright(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for word in [
        "validate",
        "simulate",
        "bench",
        "Exit codes: 0 ok or allowed, 1 error, 2 denied, 3 invalid input",
    ] {
        assert!(help.contains(word), "{word} missing from --help");
    }
    let out = rolewright(&["simulate", "--help"]);
    assert!(stdout(&out).contains("--resource-account <ID>"));
}
