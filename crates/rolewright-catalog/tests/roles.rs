//! Roles built from the built-in catalog: every persona links, every activity file is valid,
//! and the generated policies pass the engine's checks and the linter.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use rolewright_catalog::{Catalog, PERSONAS, RoleError, RoleSpec};
use rolewright_iam::{
    CompiledPolicy, Outcome, PolicyDocument, PolicySet, PolicyType, Principal, Request,
};
use rolewright_lint::{LintType, Severity, lint};
use rolewright_reference::Reference;

const ACCOUNT: &str = "111122223333";

fn full_spec(persona: &str, vpc: bool, kms: bool) -> RoleSpec {
    let mut spec = RoleSpec::new(persona, persona, ACCOUNT, "us-east-1");
    spec.set("S3Buckets", ["ml-data"]);
    spec.set(
        "ECRRepoArns",
        [format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/ml")],
    );
    spec.set(
        "PassRoles",
        [format!("arn:aws:iam::{ACCOUNT}:role/SageMaker-compute")],
    );
    spec.set("WorkGroupNames", ["primary"]);
    spec.set("GlueDbNames", ["ml_db"]);
    spec.set("KendraIndexIds", ["0123456789abcdef0123456789abcdef"]);
    spec.set("MlflowTrackingServers", ["mlflow-1"]);
    if vpc {
        spec.set("VpcSubnets", ["subnet-0abc"]);
        spec.set("VpcSecurityGroups", ["sg-0abc"]);
    }
    if kms {
        spec.set(
            "DataKmsKeys",
            [format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/data")],
        );
        spec.set(
            "VolumeKmsKeys",
            [format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/volume")],
        );
    }
    spec
}

#[test]
fn every_activity_in_every_variant_is_a_clean_identity_policy() {
    let catalog = Catalog::builtin();
    // Every file of activities/ parsed (a broken built-in file would be left out silently).
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/activities"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(catalog.activities().len(), files);
    assert_eq!(files, 25);
    for activity in catalog.activities() {
        for (vpc, kms) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut spec = full_spec("custom", vpc, kms);
            spec.add_activities.push(activity.id.clone());
            let role = catalog
                .build(&spec)
                .unwrap_or_else(|e| panic!("{} vpc={vpc} kms={kms}: {e}", activity.id));
            for policy in role.inline_policies.iter().chain(&role.managed_policies) {
                let text = policy.document.to_string();
                PolicyDocument::parse_as(&text, PolicyType::Identity).unwrap();
                let bad: Vec<String> = lint(
                    &text,
                    LintType::Type(PolicyType::Identity),
                    Reference::embedded(),
                )
                .into_iter()
                .filter(|f| matches!(f.severity, Severity::Error | Severity::SecurityWarning))
                .map(|f| format!("{} {} {}", f.code, f.path, f.message))
                .collect();
                assert!(
                    bad.is_empty(),
                    "{} vpc={vpc} kms={kms}: {bad:#?}",
                    activity.id
                );
            }
            PolicyDocument::parse_as(&role.trust_policy.to_string(), PolicyType::Trust).unwrap();
            assert!(
                !role.trust_policy.to_string().contains("[["),
                "{}",
                activity.id
            );
        }
    }
}

#[test]
fn every_persona_builds_with_every_customization() {
    let catalog = Catalog::builtin();
    for persona in PERSONAS.iter().filter(|p| p.id != "custom") {
        for (vpc, kms) in [(false, false), (true, false), (false, true), (true, true)] {
            let role = catalog
                .build(&full_spec(persona.id, vpc, kms))
                .unwrap_or_else(|e| panic!("{}: {e}", persona.id));
            assert_eq!(role.name, format!("SageMaker-{}", persona.id));
            assert!(!role.inline_policies.is_empty());
            let text = role.to_json().to_string();
            assert!(
                !text.contains("{{") && !text.contains("[["),
                "unlinked placeholder in {}",
                persona.id
            );
            assert!(
                !text.contains("\"Resource\":[]"),
                "empty resource list in {}",
                persona.id
            );
        }
    }
}

#[test]
fn missing_and_malformed_parameters_are_reported_together() {
    let mut spec = RoleSpec::new("compute", "jobs", ACCOUNT, "us-east-1");
    spec.set("VolumeKmsKeys", ["1234abcd-12ab-34cd-56ef-1234567890ab"]);
    let err = Catalog::builtin().build(&spec).unwrap_err();
    let RoleError::Invalid(problems) = err else {
        panic!("{err}")
    };
    assert!(problems.contains(&"--volume-key: `1234abcd-12ab-34cd-56ef-1234567890ab` is a KMS key id; IAM needs the key ARN, `arn:aws:kms:REGION:ACCOUNT:key/1234abcd-12ab-34cd-56ef-1234567890ab`".to_string()), "{problems:#?}");
    assert!(
        problems.contains(
            &"activity `access-aws-services` needs at least one S3 bucket name: add --s3-bucket"
                .to_string()
        ),
        "{problems:#?}"
    );
    assert!(
        problems.contains(
            &"activity `access-aws-services` needs at least one ECR repository ARN: add --ecr-repo"
                .to_string()
        ),
        "{problems:#?}"
    );
}

#[test]
fn names_and_unknown_ids_are_checked() {
    let catalog = Catalog::builtin();
    let mut spec = full_spec("data-scientist", false, false);
    spec.name_suffix = "a b".into();
    spec.add_activities.push("manage-everything".into());
    let RoleError::Invalid(problems) = catalog.build(&spec).unwrap_err() else {
        panic!()
    };
    assert_eq!(
        problems[0],
        "role name `SageMaker-a b` contains ` `; IAM allows only letters, digits and `+=,.@_-`"
    );
    assert!(problems.contains(
        &"unknown activity `manage-everything` (see `rolewright activities`)".to_string()
    ));
}

/// The persona test of SPEC §5, in part: what a Data Scientist role can and cannot do.
#[test]
fn a_data_scientist_role_grants_what_it_should_and_nothing_else() {
    let role = Catalog::builtin()
        .build(&full_spec("data-scientist", false, false))
        .unwrap();
    let mut set = PolicySet::new();
    for p in &role.inline_policies {
        set = set.with_identity(CompiledPolicy::new(
            &PolicyDocument::parse(&p.document.to_string()).unwrap(),
        ));
    }
    let me = Principal::parse(&format!(
        "arn:aws:sts::{ACCOUNT}:assumed-role/SageMaker-data-scientist/alice"
    ))
    .unwrap();
    let decide = |action: &str, resource: &str, ctx: &[(&str, &str)]| {
        let mut r = Request::new(me.clone(), action, resource).with_resource_account(ACCOUNT);
        for (k, v) in ctx {
            r.context_mut().set(k, *v);
        }
        set.evaluate(&r).outcome
    };
    let job = format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/exp-1");
    assert_eq!(
        decide("sagemaker:CreateTrainingJob", &job, &[]),
        Outcome::Allowed
    );
    assert_eq!(
        decide(
            "sagemaker:StopTransformJob",
            &format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:transform-job/t"),
            &[]
        ),
        Outcome::Allowed
    );
    let pass = format!("arn:aws:iam::{ACCOUNT}:role/SageMaker-compute");
    assert_eq!(
        decide(
            "iam:PassRole",
            &pass,
            &[("iam:PassedToService", "sagemaker.amazonaws.com")]
        ),
        Outcome::Allowed
    );
    assert_eq!(
        decide(
            "iam:PassRole",
            &pass,
            &[("iam:PassedToService", "ec2.amazonaws.com")]
        ),
        Outcome::ImplicitlyDenied
    );
    assert_eq!(
        decide(
            "iam:PassRole",
            &format!("arn:aws:iam::{ACCOUNT}:role/Admin"),
            &[("iam:PassedToService", "sagemaker.amazonaws.com")]
        ),
        Outcome::ImplicitlyDenied
    );
    assert_eq!(
        decide(
            "sagemaker:CreateEndpoint",
            &format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/prod"),
            &[]
        ),
        Outcome::ImplicitlyDenied
    );
    assert_eq!(
        decide("s3:GetObject", "arn:aws:s3:::other-bucket/x", &[]),
        Outcome::ImplicitlyDenied
    );
}
