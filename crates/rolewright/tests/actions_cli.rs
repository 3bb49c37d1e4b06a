//! `rolewright actions` as a user runs it: wildcard expansion, one action's details, suggestions
//! and exit codes, against the embedded service authorization snapshot.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{rolewright, stderr, stdout};

use std::process::Command;

#[test]
fn a_wildcard_lists_matching_actions_with_access_levels() {
    let out = rolewright(&["actions", "sagemaker:*TrainingJob"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "sagemaker:CreateTrainingJob    Write\n\
         sagemaker:DeleteTrainingJob    Write\n\
         sagemaker:DescribeTrainingJob  Read\n\
         sagemaker:StopTrainingJob      Write\n\
         sagemaker:UpdateTrainingJob    Write\n"
    );
    assert_eq!(stderr(&out), "5 actions match `sagemaker:*TrainingJob`\n");
}

#[test]
fn inner_wildcards_and_any_case_match_like_iam() {
    let out = rolewright(&["actions", "S3:get*acl"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "s3:GetBucketAcl         Read\n\
         s3:GetObjectAcl         Read\n\
         s3:GetObjectVersionAcl  Read\n"
    );
    let one = rolewright(&["actions", "s3:GetObjectAc?"]);
    assert_eq!(stdout(&one), "s3:GetObjectAcl  Read\n");
    assert_eq!(stderr(&one), "1 action matches `s3:GetObjectAc?`\n");
}

#[test]
fn describe_star_lists_only_describe_actions() {
    let out = rolewright(&["actions", "sagemaker:Describe*"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 50, "{}", lines.len());
    assert!(
        lines.iter().all(|l| l.starts_with("sagemaker:Describe")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["sagemaker:DescribeTrainingJob", "Read"]),
        "{text}"
    );
}

#[test]
fn one_action_shows_its_details() {
    let out = rolewright(&["actions", "iam:passrole"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "iam:PassRole\n\
         \x20 service: AWS Identity and Access Management (IAM) (iam)\n\
         \x20 access level: Write\n\
         \x20 wildcard-only: no\n\
         \x20 resource types:\n\
         \x20   role (required): arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}\n\
         \x20 condition keys:\n\
         \x20   iam:AssociatedResourceArn (ARN)\n\
         \x20   iam:PassedToService (String)\n"
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_wildcard_only_action_says_so() {
    let out = rolewright(&["actions", "s3:ListAllMyBuckets"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "s3:ListAllMyBuckets",
            "  service: Amazon S3 (s3)",
            "  access level: List",
            "  wildcard-only: yes, grant it with \"Resource\": \"*\"",
            "  resource types: none",
        ]
    );
}

#[test]
fn training_job_details_mark_the_required_resource_type() {
    let out = rolewright(&["actions", "sagemaker:CreateTrainingJob"]);
    let text = stdout(&out);
    assert!(
        text.lines().any(|l| l
            == "    training-job (required): arn:${Partition}:sagemaker:${Region}:${Account}:training-job/${TrainingJobName}"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "    sagemaker:VpcSubnets (ArrayOfString)"),
        "{text}"
    );
}

#[test]
fn json_lists_and_details() {
    let out = rolewright(&["actions", "--format", "json", "s3:Get*Acl"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"action": "s3:GetBucketAcl", "accessLevel": "Read", "wildcardOnly": false},
            {"action": "s3:GetObjectAcl", "accessLevel": "Read", "wildcardOnly": false},
            {"action": "s3:GetObjectVersionAcl", "accessLevel": "Read", "wildcardOnly": false},
        ])
    );
    let out = rolewright(&["actions", "--format", "json", "iam:PassRole"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "action": "iam:PassRole",
            "service": "iam",
            "serviceName": "AWS Identity and Access Management (IAM)",
            "accessLevel": "Write",
            "wildcardOnly": false,
            "resourceTypes": [{
                "name": "role",
                "required": true,
                "arnPatterns": ["arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"],
                "conditionKeys": [],
            }],
            "conditionKeys": [
                {"name": "iam:AssociatedResourceArn", "type": "ARN"},
                {"name": "iam:PassedToService", "type": "String"},
            ],
        })
    );
}

#[test]
fn a_misspelled_action_exits_3_with_a_suggestion() {
    let out = rolewright(&["actions", "sagemaker:CreateTrainingJobs"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: `sagemaker:CreateTrainingJobs` is not an action of `sagemaker`\n\
         help: did you mean `sagemaker:CreateTrainingJob`?\n"
    );
}

#[test]
fn a_misspelled_service_exits_3_with_a_suggestion() {
    let out = rolewright(&["actions", "sagemkr:Describe*"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: no AWS service has the prefix `sagemkr`\n\
         help: did you mean `sagemaker:Describe*`?\n"
    );
    let out = rolewright(&["actions", "sagemaker:Descrbe*"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: `sagemaker:Descrbe*` matches no AWS action\n\
         help: did you mean `sagemaker:Describe*`?\n"
    );
}

#[test]
fn nothing_near_enough_gives_no_suggestion() {
    let out = rolewright(&["actions", "*:Xyzzy"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stderr(&out), "error: `*:Xyzzy` matches no AWS action\n");
    let out = rolewright(&["actions", "--format", "json", "nope:*"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "[]\n");
    assert_eq!(
        stderr(&out),
        "error: no AWS service has the prefix `nope`\n"
    );
}

#[test]
fn a_bare_service_prefix_suggests_all_its_actions() {
    let out = rolewright(&["actions", "sagemaker"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: `sagemaker` is not `service:Action`, such as `s3:GetObject`\n\
         help: did you mean `sagemaker:*`?\n"
    );
}

#[test]
fn actions_tell_which_resource_types_an_arn_fits() {
    let out = Command::new(env!("CARGO_BIN_EXE_rolewright"))
        .args([
            "actions",
            "kms:Decrypt",
            "--resource",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "kms:Decrypt: `arn:aws:kms:us-east-1:123456789012:key/1234abcd` fits resource type `key`\n"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_rolewright"))
        .args([
            "actions",
            "kms:Decrypt",
            "--resource",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "kms:Decrypt: `1234abcd-12ab-34cd-56ef-1234567890ab` fits none of its resource types\n"
    );
}
