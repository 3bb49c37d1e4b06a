//! `rolewright personas`, `activities` and `role new|test|diff` as a user runs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{rolewright, scratch, stderr, stdout};

/// Seed 004's flow: the Data Scientist persona, one bucket and the role to pass (plus the name
/// suffix, account and region `role new` requires).
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
    assert_eq!(
        ids,
        [
            "data-scientist",
            "mlops",
            "compute",
            "custom",
            "data-scientist-console",
            "mlops-console"
        ]
    );
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
    assert_eq!(
        stderr(&out),
        "error: unknown persona `data-scientists`; choose data-scientist, mlops, compute, custom, \
         data-scientist-console or mlops-console (see `rolewright personas`)\n"
    );
}

/// `rolewright personas` in full: the seeds' four are the defaults, the console's lists are
/// variants with their own ids, and each says which it is and where its list comes from.
#[test]
fn personas_say_which_is_the_seeds_and_which_a_console_variant() {
    let out = rolewright(&["personas"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let blog = "AWS Machine Learning Blog, \"Define customized permissions in minutes with Amazon SageMaker Role Manager\"";
    let reference = "SageMaker AI developer guide, \"Persona reference\" (docs.aws.amazon.com/sagemaker/latest/dg/role-manager-personas.html)";
    let pad = " ".repeat(24);
    let expected = [
        "data-scientist          Data Scientist — processes S3 data, runs experiments and produces models in Studio".to_string(),
        format!("{pad}activities: run-studio-apps, manage-experiments, manage-jobs, manage-models, manage-pipelines, s3-bucket-access"),
        format!("{pad}origin: the seeds' definition (the default)"),
        format!("{pad}source: {blog}; SageMaker Immersion Day, lab 10a \"SageMaker Role Manager\""),
        "mlops                   MLOps — manages models, endpoints and pipelines, and audits resources".to_string(),
        format!("{pad}activities: run-studio-apps, manage-models, manage-endpoints, manage-pipelines, visualize-experiments"),
        format!("{pad}origin: the seeds' definition (the default)"),
        format!("{pad}source: {blog} (what MLOps does); SageMaker developer guide, \"Persona reference\", 2023 (its activities)"),
        "compute                 SageMaker Compute — the execution role of jobs, endpoints and notebooks".to_string(),
        format!("{pad}activities: access-aws-services"),
        format!("{pad}origin: the seeds' definition (the default)"),
        format!("{pad}source: {blog}; the current console preselects the same"),
        "custom                  Custom Role Settings — starts from no activity; add the ones the role needs".to_string(),
        format!("{pad}activities: (none)"),
        format!("{pad}origin: the seeds' definition (the default)"),
        format!("{pad}source: {blog}"),
        "data-scientist-console  Data Scientist — Studio, jobs and models, with Glue tables, Canvas, MLflow and EMR Serverless".to_string(),
        format!("{pad}activities: run-studio-apps, manage-jobs, manage-models, manage-glue-tables, canvas-ai-services, canvas-mlops, canvas-kendra, use-mlflow, mlflow-aws-services, run-studio-emr-serverless"),
        format!("{pad}origin: the current console's variant of data-scientist"),
        format!("{pad}source: {reference}"),
        "mlops-console           MLOps — models, pipelines and experiments, with full S3 access instead of endpoints".to_string(),
        format!("{pad}activities: run-studio-apps, manage-models, manage-pipelines, visualize-experiments, s3-full-access"),
        format!("{pad}origin: the current console's variant of mlops"),
        format!("{pad}source: {reference}"),
    ];
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), expected);

    let out = rolewright(&["personas", "--format", "json"]);
    let personas: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let summary: Vec<serde_json::Value> = personas
        .iter()
        .map(|p| {
            serde_json::json!([
                p["id"],
                p["origin"],
                p["variantOf"],
                p["activities"].as_array().unwrap().len()
            ])
        })
        .collect();
    assert_eq!(
        summary,
        [
            serde_json::json!(["data-scientist", "seeds", null, 6]),
            serde_json::json!(["mlops", "seeds", null, 5]),
            serde_json::json!(["compute", "seeds", null, 1]),
            serde_json::json!(["custom", "seeds", null, 0]),
            serde_json::json!([
                "data-scientist-console",
                "console-variant",
                "data-scientist",
                10
            ]),
            serde_json::json!(["mlops-console", "console-variant", "mlops", 5]),
        ]
    );
    assert_eq!(
        personas[0],
        serde_json::json!({
            "id": "data-scientist",
            "name": "Data Scientist",
            "description": "processes S3 data, runs experiments and produces models in Studio",
            "activities": [
                "run-studio-apps", "manage-experiments", "manage-jobs", "manage-models",
                "manage-pipelines", "s3-bucket-access"
            ],
            "origin": "seeds",
            "variantOf": null,
            "source": format!("{blog}; SageMaker Immersion Day, lab 10a \"SageMaker Role Manager\""),
        })
    );
    assert_eq!(personas[5]["source"], reference);
}

/// Seed 004's lab gives only the roles to pass and the S3 bucket: the role has all six of the
/// seeds' Data Scientist activities, and nothing is left out or added.
#[test]
fn the_seeds_data_scientist_command_gives_all_six_activities() {
    let out = rolewright(DS);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let role: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        role["Activities"],
        serde_json::json!([
            "run-studio-apps",
            "manage-experiments",
            "manage-jobs",
            "manage-models",
            "manage-pipelines",
            "s3-bucket-access"
        ])
    );
    assert_eq!(role["ManagedPolicies"], serde_json::json!([]));
    assert_eq!(role["ManagedPolicyArns"], serde_json::json!([]));
}

#[test]
fn console_variants_work_wherever_a_persona_does() {
    let ids = |persona: &str| -> Vec<String> {
        let out = rolewright(&["activities", "--persona", persona, "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        list.iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids("data-scientist-console"),
        [
            "run-studio-apps",
            "manage-jobs",
            "manage-models",
            "manage-glue-tables",
            "canvas-ai-services",
            "canvas-mlops",
            "canvas-kendra",
            "use-mlflow",
            "mlflow-aws-services",
            "run-studio-emr-serverless"
        ]
    );
    assert_eq!(
        ids("mlops-console"),
        [
            "run-studio-apps",
            "manage-models",
            "manage-pipelines",
            "visualize-experiments",
            "s3-full-access"
        ]
    );
    // The console's Data Scientist asks for more than the seed's flow gives, and says so.
    let mut args = DS.to_vec();
    args[3] = "data-scientist-console";
    let out = rolewright(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "warning: persona activity `manage-glue-tables` is left out: it needs --glue-database; add it to include it\n\
         warning: persona activity `canvas-kendra` is left out: it needs --kendra-index; add it to include it\n\
         warning: persona activity `use-mlflow` is left out: it needs --mlflow-tracking-server; add it to include it\n"
    );
    // The help names the variants.
    let words = |args: &[&str]| -> String {
        stdout(&rolewright(args))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        words(&["personas", "--help"]).starts_with(
            "List the personas and their activities: the seeds' data-scientist, mlops, compute \
             and custom (the defaults), and the current console's variants \
             data-scientist-console and mlops-console."
        ),
        "{}",
        words(&["personas", "--help"])
    );
    assert!(
        words(&["role", "new", "--help"]).contains(
            "--persona <PERSONA> The persona: data-scientist, mlops, compute or custom (no \
             activity), as the seeds define them, or a console variant, data-scientist-console \
             or mlops-console (see `rolewright personas`)"
        ),
        "{}",
        words(&["role", "new", "--help"])
    );
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
    assert_eq!(
        names,
        [
            "SageMaker-ds-run-studio-apps",
            "SageMaker-ds-manage-experiments",
            "SageMaker-ds-manage-jobs",
            "SageMaker-ds-manage-models",
            "SageMaker-ds-manage-pipelines",
            "SageMaker-ds-s3-bucket-access",
        ]
    );
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
