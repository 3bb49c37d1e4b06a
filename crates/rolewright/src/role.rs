//! `rolewright personas`, `rolewright activities` and `rolewright role new`: the Role Manager
//! catalog on the command line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use rolewright_catalog::{
    Catalog, Customization, PARAMETERS, PERSONAS, RoleError, RoleSpec, persona,
};
use rolewright_lint::{LintType, Severity, lint};
use rolewright_reference::Reference;

use crate::{Format, exit};

/// `rolewright personas`.
pub fn personas(format: Format) -> u8 {
    let catalog = Catalog::builtin();
    match format {
        Format::Json => {
            let items: Vec<_> = PERSONAS
                .iter()
                .map(|p| serde_json::json!({"id": p.id, "name": p.name, "description": p.description, "activities": p.activities}))
                .collect();
            println!("{}", serde_json::Value::Array(items));
        }
        Format::Human => {
            for p in PERSONAS {
                let (have, missing) = catalog.persona_activities(p);
                let ids: Vec<&str> = have.iter().map(|a| a.id.as_str()).collect();
                println!("{:<16} {} — {}", p.id, p.name, p.description);
                println!(
                    "{:<16} activities: {}",
                    "",
                    if ids.is_empty() {
                        "(none)".to_string()
                    } else {
                        ids.join(", ")
                    }
                );
                if !missing.is_empty() {
                    println!("{:<16} not yet in rolewright: {}", "", missing.join(", "));
                }
            }
        }
    }
    exit::OK
}

/// `rolewright activities [--persona P]`.
pub fn activities(persona_id: Option<&str>, format: Format) -> u8 {
    let catalog = Catalog::builtin();
    let list: Vec<_> = match persona_id {
        Some(id) => match persona(id) {
            Some(p) => catalog.persona_activities(p).0,
            None => {
                eprintln!(
                    "error: unknown persona `{id}`; choose data-scientist, mlops, compute or custom"
                );
                return exit::INVALID;
            }
        },
        None => catalog.activities().iter().collect(),
    };
    let flags = |a: &rolewright_catalog::ActivityTemplate| -> Vec<&'static str> {
        a.list_placeholders(Customization::default())
            .iter()
            .filter_map(|p| rolewright_catalog::parameter(p).map(|p| p.flag))
            .collect()
    };
    match format {
        Format::Json => {
            let items: Vec<_> = list
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "id": a.id, "name": a.name, "description": a.description,
                        "parameters": flags(a), "supportsVpc": a.supports_vpc, "supportsKms": a.supports_kms,
                        "fixes": a.fixes,
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(items));
        }
        Format::Human => {
            for a in list {
                let custom = match (a.supports_vpc, a.supports_kms) {
                    (true, true) => "VPC, KMS",
                    (true, false) => "VPC",
                    (false, true) => "KMS",
                    (false, false) => "-",
                };
                let params = flags(a);
                println!(
                    "{:<26} {} — {} [needs: {}; customizable: {custom}]",
                    a.id,
                    a.name,
                    a.description,
                    if params.is_empty() {
                        "nothing".to_string()
                    } else {
                        params.join(" ")
                    }
                );
            }
        }
    }
    exit::OK
}

/// Arguments of `rolewright role new`.
#[derive(Args, Debug)]
pub struct RoleNewArgs {
    /// The persona: data-scientist, mlops, compute, or custom (no activity).
    #[arg(long)]
    persona: String,
    /// The role name's suffix: the role is `SageMaker-SUFFIX`.
    #[arg(long)]
    name_suffix: String,
    /// The role name's prefix: `SageMaker-` as the CDK library, `sagemaker-` as the console.
    #[arg(long, default_value = "SageMaker-")]
    name_prefix: String,
    /// The role's description.
    #[arg(long)]
    description: Option<String>,
    /// An activity to add (repeatable; see `rolewright activities`).
    #[arg(long = "activity", value_name = "ID")]
    activities: Vec<String>,
    /// An activity of the persona to leave out (repeatable).
    #[arg(long = "without-activity", value_name = "ID")]
    without: Vec<String>,
    /// S3 bucket names (repeatable).
    #[arg(long = "s3-bucket", value_name = "NAME")]
    s3_buckets: Vec<String>,
    /// ECR repository ARNs (repeatable).
    #[arg(long = "ecr-repo", value_name = "ARN")]
    ecr_repos: Vec<String>,
    /// Roles the role may pass to SageMaker (repeatable).
    #[arg(long = "pass-role", value_name = "ARN")]
    pass_roles: Vec<String>,
    /// Athena workgroups (repeatable).
    #[arg(long = "athena-workgroup", value_name = "NAME")]
    workgroups: Vec<String>,
    /// Glue databases (repeatable).
    #[arg(long = "glue-database", value_name = "NAME")]
    glue_databases: Vec<String>,
    /// VPC subnets (repeatable; with --security-group, selects the VPC variants).
    #[arg(long = "subnet", value_name = "ID")]
    subnets: Vec<String>,
    /// VPC security groups (repeatable).
    #[arg(long = "security-group", value_name = "ID")]
    security_groups: Vec<String>,
    /// KMS key ARNs for data (repeatable; selects the KMS variants).
    #[arg(long = "data-key", value_name = "ARN")]
    data_keys: Vec<String>,
    /// KMS key ARNs for volumes (repeatable).
    #[arg(long = "volume-key", value_name = "ARN")]
    volume_keys: Vec<String>,
    /// Kendra index ids (repeatable).
    #[arg(long = "kendra-index", value_name = "ID")]
    kendra_indexes: Vec<String>,
    /// MLflow tracking server names (repeatable).
    #[arg(long = "mlflow-tracking-server", value_name = "NAME")]
    mlflow_servers: Vec<String>,
    /// The account the role lives in.
    #[arg(long, value_name = "ID")]
    account: String,
    /// The region of its resources.
    #[arg(long, value_name = "REGION")]
    region: String,
    /// The partition: aws, aws-cn or aws-us-gov.
    #[arg(long, default_value = "aws")]
    partition: String,
    /// A tag, KEY=VALUE (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// An extra managed policy ARN to attach (repeatable).
    #[arg(long = "managed-policy", value_name = "ARN")]
    managed_policies: Vec<String>,
    /// A permissions boundary ARN.
    #[arg(long, value_name = "ARN")]
    boundary: Option<String>,
    /// Where to write the role (standard output by default).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `rolewright role new`: builds, lints and writes a role.
pub fn new(args: &RoleNewArgs) -> u8 {
    let mut spec = RoleSpec::new(
        &args.persona,
        &args.name_suffix,
        &args.account,
        &args.region,
    );
    spec.name_prefix = args.name_prefix.clone();
    spec.description = args.description.clone();
    spec.add_activities = args.activities.clone();
    spec.remove_activities = args.without.clone();
    spec.partition = args.partition.clone();
    spec.managed_policy_arns = args.managed_policies.clone();
    spec.permissions_boundary = args.boundary.clone();
    for tag in &args.tags {
        match tag.split_once('=') {
            Some((k, v)) => spec.tags.push((k.to_string(), v.to_string())),
            None => {
                eprintln!("error: tag `{tag}` must be KEY=VALUE");
                return exit::INVALID;
            }
        }
    }
    let lists: BTreeMap<&str, &Vec<String>> = [
        ("S3Buckets", &args.s3_buckets),
        ("ECRRepoArns", &args.ecr_repos),
        ("PassRoles", &args.pass_roles),
        ("WorkGroupNames", &args.workgroups),
        ("GlueDbNames", &args.glue_databases),
        ("VpcSubnets", &args.subnets),
        ("VpcSecurityGroups", &args.security_groups),
        ("DataKmsKeys", &args.data_keys),
        ("VolumeKmsKeys", &args.volume_keys),
        ("KendraIndexIds", &args.kendra_indexes),
        ("MlflowTrackingServers", &args.mlflow_servers),
    ]
    .into();
    debug_assert_eq!(lists.len(), PARAMETERS.len());
    for (placeholder, values) in lists {
        if !values.is_empty() {
            spec.set(placeholder, values.iter().cloned());
        }
    }
    let role = match Catalog::builtin().build(&spec) {
        Ok(r) => r,
        Err(RoleError::Invalid(problems)) => {
            for p in problems {
                eprintln!("error: {p}");
            }
            return exit::INVALID;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID;
        }
    };
    for w in &role.warnings {
        eprintln!("warning: {w}");
    }
    // Refuse to write what the linter finds wrong or unsafe.
    let mut refused = false;
    for policy in role.inline_policies.iter().chain(&role.managed_policies) {
        for f in lint(
            &policy.document.to_string(),
            LintType::Type(rolewright_iam::PolicyType::Identity),
            Reference::embedded(),
        ) {
            if matches!(f.severity, Severity::Error | Severity::SecurityWarning) {
                eprintln!(
                    "error: policy `{}`: {}[{}] at {}: {}",
                    policy.name, f.severity, f.code, f.path, f.message
                );
                refused = true;
            }
        }
    }
    if refused {
        eprintln!("error: the role was not written");
        return exit::INVALID;
    }
    let text = match serde_json::to_string_pretty(&role.to_json()) {
        Ok(t) => t + "\n",
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    match &args.out {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => {
                eprintln!("wrote role `{}` to {}", role.name, path.display());
                exit::OK
            }
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                exit::ERROR
            }
        },
        None => {
            print!("{text}");
            exit::OK
        }
    }
}
