//! `rolewright personas`, `activities` and `role new|test|diff` as a user runs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{rolewright, rolewright_with_env, scratch, stderr, stdout, write};

/// The seeds' command as issue 9 writes it (seed 004's flow): the Data Scientist persona, one
/// bucket and the role to pass; the name suffix, account and region take their defaults.
const SEED_DS: &[&str] = &[
    "role",
    "new",
    "--persona",
    "data-scientist",
    "--s3-bucket",
    "ml-data",
    "--pass-role",
    "arn:aws:iam::111122223333:role/SageMaker-compute",
];

/// The seeds' Data Scientist activities.
const SIX: [&str; 6] = [
    "run-studio-apps",
    "manage-experiments",
    "manage-jobs",
    "manage-models",
    "manage-pipelines",
    "s3-bucket-access",
];

/// The child sees no region, whatever the test runner's environment holds.
const NO_REGION: &[(&str, Option<&str>)] = &[("AWS_REGION", None), ("AWS_DEFAULT_REGION", None)];

/// What `role new` says when it falls back to us-east-1.
const REGION_NOTE: &str = "note: no region given, so the role's ARNs use us-east-1; choose the \
                           region with --region or AWS_REGION\n";

/// The KMS flags, which select the variants of run-studio-apps whose ARNs name the region and
/// account (the plain variants use `arn:aws:sagemaker:*:*:*/*` and the user's own ARNs only).
fn kms_keys(region: &str) -> Vec<String> {
    let key = format!("arn:aws:kms:{region}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    [
        "--data-key".to_string(),
        key.clone(),
        "--volume-key".to_string(),
        key,
    ]
    .into()
}

/// Every string of `value` that is an ARN.
fn arns(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) if s.starts_with("arn:") => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(arns).collect(),
        serde_json::Value::Object(map) => map.values().flat_map(arns).collect(),
        _ => Vec::new(),
    }
}

/// The regions and accounts the role's ARNs name, leaving out empty fields and wildcards.
fn regions_and_accounts(role: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let (mut regions, mut accounts) = (Vec::new(), Vec::new());
    for arn in arns(role) {
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        for (list, field) in [(&mut regions, fields[3]), (&mut accounts, fields[4])] {
            if !field.is_empty() && field != "*" && !list.iter().any(|f| f == field) {
                list.push(field.to_string());
            }
        }
    }
    (regions, accounts)
}

fn role_json(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Seed 004's flow with every setting given, for the tests of what the role holds.
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

/// Seed 004's lab gives only the roles to pass and the S3 bucket, and issue 9 item 7 writes the
/// command with nothing else: the role has all six of the seeds' Data Scientist activities,
/// nothing is left out or added, the account is the pass-role's, and the region falls back to
/// us-east-1 with a note.
#[test]
fn the_seeds_data_scientist_command_gives_all_six_activities() {
    let out = rolewright_with_env(SEED_DS, NO_REGION);
    let role = role_json(&out);
    assert_eq!(stderr(&out), REGION_NOTE);
    assert_eq!(role["RoleName"], "SageMaker-data-scientist");
    assert_eq!(role["Activities"], serde_json::json!(SIX));
    assert_eq!(role["ManagedPolicies"], serde_json::json!([]));
    assert_eq!(role["ManagedPolicyArns"], serde_json::json!([]));
    let (regions, accounts) = regions_and_accounts(&role);
    assert_eq!(
        (regions, accounts),
        (vec![], vec!["111122223333".to_string()])
    );

    // With KMS keys the policies name the region and account in ARNs and conditions they build.
    let mut args: Vec<String> = SEED_DS.iter().map(|a| a.to_string()).collect();
    args.extend(kms_keys("us-east-1"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = rolewright_with_env(&args, NO_REGION);
    let role = role_json(&out);
    assert_eq!(stderr(&out), REGION_NOTE);
    assert_eq!(role["Activities"], serde_json::json!(SIX));
    assert!(
        arns(&role).contains(&"arn:aws:sagemaker:us-east-1:111122223333:*/*".to_string()),
        "{role}"
    );
    assert!(stdout(&out).contains("\"sagemaker.us-east-1.amazonaws.com\""));
    assert_eq!(
        regions_and_accounts(&role),
        (
            vec!["us-east-1".to_string()],
            vec!["111122223333".to_string()]
        )
    );
}

/// Without --region (or a spec's `region`), AWS_REGION, then AWS_DEFAULT_REGION, as the AWS CLI.
#[test]
fn role_new_takes_the_region_from_aws_region_then_aws_default_region() {
    let region_of = |vars: &[(&str, Option<&str>)], extra: &[&str]| -> (String, String) {
        let mut args: Vec<String> = SEED_DS.iter().map(|a| a.to_string()).collect();
        args.extend(kms_keys("eu-west-1"));
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = rolewright_with_env(&args, vars);
        let role = role_json(&out);
        assert_eq!(role["Activities"], serde_json::json!(SIX));
        let sagemaker: Vec<String> = arns(&role)
            .into_iter()
            .filter(|a| {
                a.starts_with("arn:aws:sagemaker:") && !a.starts_with("arn:aws:sagemaker:*")
            })
            .collect();
        assert_eq!(sagemaker.len(), 1, "{sagemaker:?}");
        (sagemaker[0].clone(), stderr(&out))
    };
    let linked = |region: &str| format!("arn:aws:sagemaker:{region}:111122223333:*/*");
    assert_eq!(
        region_of(
            &[
                ("AWS_REGION", Some("eu-west-1")),
                ("AWS_DEFAULT_REGION", None)
            ],
            &[]
        ),
        (linked("eu-west-1"), String::new())
    );
    assert_eq!(
        region_of(
            &[
                ("AWS_REGION", None),
                ("AWS_DEFAULT_REGION", Some("eu-west-1"))
            ],
            &[]
        ),
        (linked("eu-west-1"), String::new())
    );
    assert_eq!(
        region_of(
            &[
                ("AWS_REGION", Some("eu-west-1")),
                ("AWS_DEFAULT_REGION", Some("ap-south-1"))
            ],
            &[]
        ),
        (linked("eu-west-1"), String::new())
    );
    // An empty variable is not a region.
    assert_eq!(
        region_of(
            &[
                ("AWS_REGION", Some("")),
                ("AWS_DEFAULT_REGION", Some("eu-west-1"))
            ],
            &[]
        ),
        (linked("eu-west-1"), String::new())
    );
    assert_eq!(
        region_of(
            &[("AWS_REGION", Some("ap-south-1"))],
            &["--region", "eu-west-1"]
        ),
        (linked("eu-west-1"), String::new())
    );
}

/// Without --account, the role is in the account its --pass-role ARNs name; when they name
/// several, or none, the user is asked for --account (exit 3, as for any invalid input).
#[test]
fn role_new_without_account_needs_pass_roles_in_one_account() {
    let base = [
        "role",
        "new",
        "--persona",
        "data-scientist",
        "--s3-bucket",
        "ml-data",
    ];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        rolewright_with_env(&args, &[("AWS_REGION", Some("us-east-1"))])
    };
    let two = [
        "--pass-role",
        "arn:aws:iam::111122223333:role/SageMaker-compute",
        "--pass-role",
        "arn:aws:iam::444455556666:role/SageMaker-batch",
    ];
    let out = run(&two);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: the --pass-role ARNs name different accounts, `111122223333` and \
         `444455556666`; pass --account to choose the role's account\n"
    );
    // --account settles it.
    let mut chosen = two.to_vec();
    chosen.extend(["--account", "444455556666"]);
    let out = run(&chosen);
    assert_eq!(role_json(&out)["Activities"], serde_json::json!(SIX));
    assert_eq!(stderr(&out), "");
    // Roles in one account, named twice or more, are that account.
    let out = run(&[
        "--pass-role",
        "arn:aws:iam::111122223333:role/SageMaker-compute",
        "--pass-role",
        "arn:aws:iam::111122223333:role/SageMaker-batch",
    ]);
    assert_eq!(
        regions_and_accounts(&role_json(&out)).1,
        ["111122223333".to_string()]
    );
    // No role to pass: nothing to take the account from.
    let out = rolewright_with_env(
        &[
            "role",
            "new",
            "--persona",
            "custom",
            "--activity",
            "s3-bucket-access",
            "--s3-bucket",
            "ml-data",
        ],
        &[("AWS_REGION", Some("us-east-1"))],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: no account given and no --pass-role ARN to take it from; pass --account\n"
    );
    // --pass-role takes ARNs only (a plain role name is refused with or without --account), and
    // a name names no account; the account is reported with the other problems.
    let out = run(&["--pass-role", "SageMaker-compute"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: no account given, and no --pass-role value is a role ARN naming one \
         (`SageMaker-compute`); pass --account, or give the roles as ARNs \
         (`arn:aws:iam::ACCOUNT:role/NAME`)\n\
         error: --pass-role: `SageMaker-compute` is not an ARN of the form \
         `arn:PARTITION:iam:...:role/NAME`\n"
    );
    let out = run(&[
        "--pass-role",
        "SageMaker-compute",
        "--account",
        "111122223333",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: --pass-role: `SageMaker-compute` is not an ARN of the form \
         `arn:PARTITION:iam:...:role/NAME`\n"
    );
}

/// A spec file gives the name suffix, account and region as the flags do: a flag wins over the
/// spec, and the spec over the defaults (AWS_REGION included).
#[test]
fn role_new_settings_come_from_the_flags_then_the_spec_then_the_defaults() {
    let dir = scratch("spec-defaults");
    let key = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let parameters = format!(
        "[parameters]\ns3-bucket = [\"ml-data\"]\n\
         pass-role = [\"arn:aws:iam::111122223333:role/SageMaker-compute\"]\n\
         data-key = [\"{key}\"]\nvolume-key = [\"{key}\"]\n"
    );
    let full = write(
        &dir,
        "full.toml",
        &format!(
            "persona = \"data-scientist\"\nname-suffix = \"team-a\"\n\
             account = \"555566667777\"\nregion = \"eu-central-1\"\n{parameters}"
        ),
    );
    let bare = write(
        &dir,
        "bare.toml",
        &format!("persona = \"data-scientist\"\n{parameters}"),
    );
    let env = [
        ("AWS_REGION", Some("ap-south-1")),
        ("AWS_DEFAULT_REGION", None),
    ];
    let linked = |role: &serde_json::Value| -> Vec<String> {
        arns(role)
            .into_iter()
            .filter(|a| {
                a.starts_with("arn:aws:sagemaker:") && !a.starts_with("arn:aws:sagemaker:*")
            })
            .collect()
    };

    // The spec's values, over AWS_REGION and the pass-role's account.
    let out = rolewright_with_env(&["role", "new", "--spec", &full], &env);
    let role = role_json(&out);
    assert_eq!(stderr(&out), "");
    assert_eq!(role["RoleName"], "SageMaker-team-a");
    assert_eq!(
        linked(&role),
        ["arn:aws:sagemaker:eu-central-1:555566667777:*/*"]
    );

    // The flags' values, over the spec's.
    let out = rolewright_with_env(
        &[
            "role",
            "new",
            "--spec",
            &full,
            "--name-suffix",
            "team-b",
            "--account",
            "111122223333",
            "--region",
            "eu-west-1",
        ],
        &env,
    );
    let role = role_json(&out);
    assert_eq!(role["RoleName"], "SageMaker-team-b");
    assert_eq!(
        linked(&role),
        ["arn:aws:sagemaker:eu-west-1:111122223333:*/*"]
    );

    // Neither: the defaults.
    let out = rolewright_with_env(&["role", "new", "--spec", &bare], &env);
    let role = role_json(&out);
    assert_eq!(stderr(&out), "");
    assert_eq!(role["RoleName"], "SageMaker-data-scientist");
    assert_eq!(
        linked(&role),
        ["arn:aws:sagemaker:ap-south-1:111122223333:*/*"]
    );
    let out = rolewright_with_env(&["role", "new", "--spec", &bare], NO_REGION);
    assert_eq!(
        linked(&role_json(&out)),
        ["arn:aws:sagemaker:us-east-1:111122223333:*/*"]
    );
    assert_eq!(stderr(&out), REGION_NOTE);

    // An empty value is a mistake, not a request for the default.
    let empty = write(
        &dir,
        "empty.toml",
        &format!("persona = \"data-scientist\"\nregion = \"\"\n{parameters}"),
    );
    let out = rolewright_with_env(&["role", "new", "--spec", &empty], &env);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: `{empty}`: the spec's `region` is empty; give a value or leave it out for \
             the default\n"
        )
    );
    let out = rolewright_with_env(&["role", "new", "--spec", &bare, "--region", ""], &env);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(
            "error: a value is required for '--region <REGION>' but none was supplied"
        ),
        "{}",
        stderr(&out)
    );
}

/// `role new --help` says what each of the three settings defaults to.
#[test]
fn role_new_help_explains_each_default() {
    let help = stdout(&rolewright(&["role", "new", "--help"]))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "--name-suffix <NAME_SUFFIX> The role name's suffix: the role is `SageMaker-SUFFIX` (or \
         --name-prefix and SUFFIX). Default: the persona id, so `--persona data-scientist` \
         gives `SageMaker-data-scientist`",
        "--account <ID> The account the role lives in (12 digits). Default: the account the \
         --pass-role ARNs name, when they all name the same one; otherwise --account is required",
        "--region <REGION> The region of the role's resources. Default: AWS_REGION, then \
         AWS_DEFAULT_REGION, then us-east-1 (with a note on standard error)",
        "--spec <FILE> Read the role from a TOML or JSON spec file kept in git (the same fields \
         as these flags). Flags given as well override or extend it; what neither gives takes \
         the flag's default",
    ] {
        assert!(help.contains(expected), "{expected}\n\nnot in\n\n{help}");
    }
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

/// Use JumpStart and Projects (issue 10 item 7) is an activity like any other: listed, added
/// with `--activity` without parameters, scoped to the role's account and region, written in
/// every format, and passing the persona test.
#[test]
fn use_jumpstart_projects_is_added_with_activity_and_scoped_to_the_role() {
    let out = rolewright(&["activities", "--format", "json"]);
    let activities: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let entry = activities
        .iter()
        .find(|a| a["id"] == "use-jumpstart-projects")
        .unwrap();
    assert_eq!(entry["name"], "Use JumpStart and Projects");
    assert_eq!(entry["parameters"], serde_json::json!([]));

    let base = [
        "role",
        "new",
        "--persona",
        "custom",
        "--name-suffix",
        "studio",
        "--activity",
        "use-jumpstart-projects",
        "--account",
        "444455556666",
        "--region",
        "eu-west-1",
    ];
    let role = role_json(&rolewright(&base));
    assert_eq!(
        role["Activities"],
        serde_json::json!(["use-jumpstart-projects"])
    );
    let text = role["Policies"].to_string();
    assert!(
        text.contains("arn:aws:sagemaker:eu-west-1:444455556666:project/*"),
        "{text}"
    );
    assert!(
        !text.contains("us-east-1") && !text.contains("iam:PassRole"),
        "{text}"
    );
    let (regions, accounts) = regions_and_accounts(&role);
    assert_eq!(regions, ["eu-west-1"]);
    // `aws` owns the public JumpStart hub; product ARNs leave the account open (an imported
    // portfolio's products are the owner's; see the activity's documentation).
    assert_eq!(accounts, ["444455556666", "aws"]);

    for format in [
        "cloudformation",
        "cloudformation-yaml",
        "terraform",
        "aws-cli",
    ] {
        let mut args = base.to_vec();
        args.extend(["--format", format]);
        let out = rolewright(&args);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("servicecatalog:ProvisionProduct"),
            "{format}"
        );
    }

    let dir = scratch("jumpstart-projects");
    let file = dir.join("studio.json");
    let file_arg = file.to_string_lossy().into_owned();
    let mut args = base.to_vec();
    args.extend(["--out", &file_arg]);
    assert_eq!(rolewright(&args).status.code(), Some(0));
    let out = rolewright(&["role", "test", &file_arg, "--account", "444455556666"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).trim_end().ends_with("0 failed"),
        "{}",
        stderr(&out)
    );
}
