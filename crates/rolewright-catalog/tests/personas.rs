//! The personas as the seeds define them (the defaults) and the console's variants: their exact
//! activities, and the seed's Data Scientist built from nothing but its buckets and roles to pass.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use rolewright_catalog::{Catalog, PERSONAS, PersonaOrigin, RoleError, RoleSpec};

const ACCOUNT: &str = "111122223333";
const PASS_ROLE: &str = "arn:aws:iam::111122223333:role/SageMaker-compute";

/// Every persona, in order: id, origin, and the activities it preselects.
const EXPECTED: &[(&str, PersonaOrigin, &[&str])] = &[
    (
        "data-scientist",
        PersonaOrigin::Seeds,
        &[
            "run-studio-apps",
            "manage-experiments",
            "manage-jobs",
            "manage-models",
            "manage-pipelines",
            "s3-bucket-access",
        ],
    ),
    (
        "mlops",
        PersonaOrigin::Seeds,
        &[
            "run-studio-apps",
            "manage-models",
            "manage-endpoints",
            "manage-pipelines",
            "visualize-experiments",
        ],
    ),
    ("compute", PersonaOrigin::Seeds, &["access-aws-services"]),
    ("custom", PersonaOrigin::Seeds, &[]),
    (
        "data-scientist-console",
        PersonaOrigin::ConsoleVariant {
            of: "data-scientist",
        },
        &[
            "run-studio-apps",
            "manage-jobs",
            "manage-models",
            "manage-glue-tables",
            "canvas-ai-services",
            "canvas-mlops",
            "canvas-kendra",
            "use-mlflow",
            "mlflow-aws-services",
            "run-studio-emr-serverless",
        ],
    ),
    (
        "mlops-console",
        PersonaOrigin::ConsoleVariant { of: "mlops" },
        &[
            "run-studio-apps",
            "manage-models",
            "manage-pipelines",
            "visualize-experiments",
            "s3-full-access",
        ],
    ),
];

#[test]
fn every_persona_preselects_exactly_the_activities_of_its_source() {
    let got: Vec<(&str, PersonaOrigin, &[&str])> = PERSONAS
        .iter()
        .map(|p| (p.id, p.origin, p.activities))
        .collect();
    assert_eq!(got, EXPECTED);
    // Every preselected activity ships with rolewright: none is skipped with a note.
    let catalog = Catalog::builtin();
    for p in PERSONAS {
        assert_eq!(
            catalog.persona_activities(p).1,
            Vec::<&str>::new(),
            "{}",
            p.id
        );
    }
}

/// The seeds list activities by their console names; these are the same activities.
#[test]
fn the_seeds_personas_are_the_activities_the_seeds_name() {
    let catalog = Catalog::builtin();
    let names = |id: &str| -> Vec<String> {
        let p = rolewright_catalog::persona(id).unwrap();
        catalog
            .persona_activities(p)
            .0
            .iter()
            .map(|a| a.name.clone())
            .collect()
    };
    assert_eq!(
        names("data-scientist"),
        [
            "Run Studio Applications",
            "Manage Experiments",
            "Manage ML Jobs",
            "Manage Models",
            "Manage Pipelines",
            "Amazon S3 Bucket Access",
        ]
    );
    assert_eq!(
        names("mlops"),
        [
            "Run Studio Applications",
            "Manage Models",
            "Manage Endpoints",
            "Manage Pipelines",
            "Search and Visualize Experiments",
        ]
    );
    assert_eq!(names("compute"), ["Access Required AWS Services"]);
}

/// Seed 004's lab gives only the roles to pass and the S3 bucket, and gets all six activities.
#[test]
fn the_seeds_data_scientist_needs_only_a_bucket_and_the_roles_to_pass() {
    let mut spec = RoleSpec::new("data-scientist", "ds", ACCOUNT, "us-east-1");
    spec.set("S3Buckets", ["ml-data"]);
    spec.set("PassRoles", [PASS_ROLE]);
    let role = Catalog::builtin().build(&spec).unwrap();
    assert_eq!(
        role.activities,
        [
            "run-studio-apps",
            "manage-experiments",
            "manage-jobs",
            "manage-models",
            "manage-pipelines",
            "s3-bucket-access",
        ]
    );
    assert_eq!(role.warnings, Vec::<String>::new());
    let names: Vec<&str> = role
        .inline_policies
        .iter()
        .chain(&role.managed_policies)
        .map(|p| p.name.as_str())
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
    assert_eq!(role.attached_policy_arns, Vec::<String>::new());
}

#[test]
fn the_seeds_mlops_needs_only_the_roles_to_pass() {
    let mut spec = RoleSpec::new("mlops", "ops", ACCOUNT, "us-east-1");
    spec.set("PassRoles", [PASS_ROLE]);
    let role = Catalog::builtin().build(&spec).unwrap();
    assert_eq!(
        role.activities,
        [
            "run-studio-apps",
            "manage-models",
            "manage-endpoints",
            "manage-pipelines",
            "visualize-experiments",
        ]
    );
    assert_eq!(role.warnings, Vec::<String>::new());
}

/// The console variant asks for more than the seed's flow gives; what it cannot link is left out
/// with a note naming the flags, which is why it is not the default.
#[test]
fn the_console_data_scientist_with_the_seeds_parameters_leaves_activities_out() {
    let mut spec = RoleSpec::new("data-scientist-console", "ds", ACCOUNT, "us-east-1");
    spec.set("S3Buckets", ["ml-data"]);
    spec.set("PassRoles", [PASS_ROLE]);
    let role = Catalog::builtin().build(&spec).unwrap();
    assert_eq!(
        role.activities,
        [
            "run-studio-apps",
            "manage-jobs",
            "manage-models",
            "canvas-ai-services",
            "canvas-mlops",
            "mlflow-aws-services",
            "run-studio-emr-serverless",
        ]
    );
    assert_eq!(
        role.warnings,
        [
            "persona activity `manage-glue-tables` is left out: it needs --glue-database; add it to include it",
            "persona activity `canvas-kendra` is left out: it needs --kendra-index; add it to include it",
            "persona activity `use-mlflow` is left out: it needs --mlflow-tracking-server; add it to include it",
        ]
    );
}

#[test]
fn an_unknown_persona_lists_every_valid_one() {
    let mut spec = RoleSpec::new("data-scientists", "ds", ACCOUNT, "us-east-1");
    spec.set("S3Buckets", ["ml-data"]);
    let err = Catalog::builtin().build(&spec).unwrap_err();
    assert_eq!(
        err,
        RoleError::Invalid(vec![
            "unknown persona `data-scientists`; choose data-scientist, mlops, compute, custom, \
             data-scientist-console or mlops-console (see `rolewright personas`)"
                .to_string()
        ])
    );
}
