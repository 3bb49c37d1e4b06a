//! `rolewright personas`, `activities` and `role new|test|diff` as a user runs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{rolewright, scratch, stderr};

const DS: &[&str] = &[
    "role",
    "new",
    "--persona",
    "data-scientist",
    "--name-suffix",
    "ds",
    "--s3-bucket",
    "ml-data",
    "--pass-role",
    "arn:aws:iam::111122223333:role/SageMaker-compute",
    "--glue-database",
    "ml_db",
    "--account",
    "111122223333",
    "--region",
    "us-east-1",
];

#[test]
fn personas_and_activities_are_listed() {
    let out = rolewright(&["personas", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let personas: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = personas.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["data-scientist", "mlops", "compute", "custom"]);
    let out = rolewright(&["activities", "--persona", "compute", "--format", "json"]);
    let activities: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(activities[0]["id"], "access-aws-services");
    assert_eq!(
        activities[0]["parameters"],
        serde_json::json!(["--ecr-repo", "--s3-bucket"])
    );
    assert_eq!(activities[0]["supportsVpc"], true);
    let out = rolewright(&["activities", "--persona", "data-scientists"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("unknown persona `data-scientists`"));
}

#[test]
fn role_new_writes_a_role_that_passes_its_persona_test() {
    let dir = scratch("new");
    let file = dir.join("ds.json");
    let mut args = DS.to_vec();
    let file_arg = file.to_string_lossy().into_owned();
    args.extend(["--out", &file_arg, "--tag", "team=ml"]);
    let out = rolewright(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let role: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(role["RoleName"], "SageMaker-ds");
    assert_eq!(
        role["Tags"],
        serde_json::json!([{"Key": "team", "Value": "ml"}])
    );
    let names: Vec<&str> = role["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    for expected in [
        "SageMaker-ds-run-studio-apps",
        "SageMaker-ds-manage-jobs",
        "SageMaker-ds-manage-models",
        "SageMaker-ds-manage-glue-tables",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let out = rolewright(&["role", "test", &file_arg, "--account", "111122223333"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ok   a bucket that was not named is out of reach"),
        "{text}"
    );
    assert!(
        text.contains("ok   the named role cannot be passed to another service"),
        "{text}"
    );
    assert!(
        text.contains("ok   no endpoint deployment without Manage Endpoints"),
        "{text}"
    );
    assert!(stderr(&out).trim_end().ends_with("0 failed"));
}

#[test]
fn role_new_reports_every_missing_parameter_with_its_flag() {
    let out = rolewright(&[
        "role",
        "new",
        "--persona",
        "compute",
        "--name-suffix",
        "jobs",
        "--account",
        "111122223333",
        "--region",
        "us-east-1",
        "--athena-workgroup",
        "primary",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("error: activity `access-aws-services` needs at least one S3 bucket name: add --s3-bucket"), "{err}");
    assert!(err.contains("error: activity `access-aws-services` needs at least one ECR repository ARN: add --ecr-repo"), "{err}");
}

#[test]
fn role_new_warns_about_unused_parameters_and_checks_vpc_pairs() {
    let mut args = DS.to_vec();
    args.extend(["--athena-workgroup", "primary"]);
    let out = rolewright(&args);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("warning: --athena-workgroup is not used by any selected activity")
    );
    let mut args = DS.to_vec();
    args.extend(["--subnet", "subnet-0abc"]);
    let out = rolewright(&args);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains(
        "VPC customization needs both subnets (--subnet) and security groups (--security-group)"
    ));
}

#[test]
fn role_diff_shows_what_changed() {
    let dir = scratch("diff");
    let (old, new) = (dir.join("old.json"), dir.join("new.json"));
    std::fs::write(&old, r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}]}"#).unwrap();
    std::fs::write(&new, r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject*", "Resource": "arn:aws:s3:::a/*"}]}"#).unwrap();
    let out = rolewright(&[
        "role",
        "diff",
        &old.to_string_lossy(),
        &new.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    // `s3:GetObject*` still grants s3:GetObject, and adds GetObjectAcl, GetObjectTagging, ...
    assert!(!text.contains("s3:GetObject on"), "{text}");
    assert!(
        text.lines()
            .any(|l| l == "+ s3:GetObjectAcl on arn:aws:s3:::a/*"),
        "{text}"
    );
    assert!(
        text.lines()
            .all(|l| l.starts_with("+ s3:GetObject") && l.ends_with(" on arn:aws:s3:::a/*")),
        "{text}"
    );
    assert!(
        stderr(&out)
            .trim_end()
            .ends_with(" grants added, 0 removed"),
        "{}",
        stderr(&out)
    );
}
