//! `rolewright personas`, `rolewright activities` and `rolewright role new`: the Role Manager
//! catalog on the command line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use clap::builder::NonEmptyStringValueParser;
use rolewright_catalog::spec::{FALLBACK_REGION, RegionOrigin};
use rolewright_catalog::{
    Catalog, Customization, PARAMETERS, PERSONAS, RoleError, RoleSpec, find_persona,
};
use rolewright_lint::{LintType, Severity, lint};
use rolewright_reference::Reference;

use crate::{Format, exit};

/// `rolewright personas`: the seeds' personas (the defaults), then the console's variants, each
/// with where its list comes from.
pub fn personas(format: Format) -> u8 {
    let catalog = Catalog::builtin();
    match format {
        Format::Json => {
            let items: Vec<_> = PERSONAS
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "id": p.id, "name": p.name, "description": p.description,
                        "activities": p.activities, "origin": p.origin.as_str(),
                        "variantOf": p.origin.variant_of(), "source": p.source,
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(items));
        }
        Format::Human => {
            let width = PERSONAS.iter().map(|p| p.id.len()).max().unwrap_or(0) + 2;
            for p in PERSONAS {
                let (have, missing) = catalog.persona_activities(p);
                let ids: Vec<&str> = have.iter().map(|a| a.id.as_str()).collect();
                println!("{:<width$}{} — {}", p.id, p.name, p.description);
                println!(
                    "{:<width$}activities: {}",
                    "",
                    if ids.is_empty() {
                        "(none)".to_string()
                    } else {
                        ids.join(", ")
                    }
                );
                if !missing.is_empty() {
                    println!(
                        "{:<width$}not yet in rolewright: {}",
                        "",
                        missing.join(", ")
                    );
                }
                match p.origin.variant_of() {
                    None => println!("{:<width$}origin: the seeds' definition (the default)", ""),
                    Some(of) => {
                        println!(
                            "{:<width$}origin: the current console's variant of {of}",
                            ""
                        );
                    }
                }
                println!("{:<width$}source: {}", "", p.source);
            }
        }
    }
    exit::OK
}

/// `rolewright activities [--persona P]`.
pub fn activities(persona_id: Option<&str>, format: Format) -> u8 {
    let catalog = Catalog::builtin();
    let list: Vec<_> = match persona_id {
        Some(id) => match find_persona(id) {
            Ok(p) => catalog.persona_activities(p).0,
            Err(e) => {
                eprintln!("error: {e}");
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
    /// Read the role from a TOML or JSON spec file kept in git (the same fields as these flags).
    /// Flags given as well override or extend it; what neither gives takes the flag's default.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// A folder of extra activity files (`*.json`), added to the built-in catalog.
    #[arg(long, value_name = "DIR")]
    catalog: Option<PathBuf>,
    /// The persona: data-scientist, mlops, compute or custom (no activity), as the seeds define
    /// them, or a console variant, data-scientist-console or mlops-console (see `rolewright
    /// personas`).
    #[arg(long, required_unless_present = "spec")]
    persona: Option<String>,
    /// The role name's suffix: the role is `SageMaker-SUFFIX` (or --name-prefix and SUFFIX).
    /// Default: the persona id, so `--persona data-scientist` gives `SageMaker-data-scientist`.
    #[arg(long, value_parser = NonEmptyStringValueParser::new())]
    name_suffix: Option<String>,
    /// The role name's prefix: `SageMaker-` as the CDK library, `sagemaker-` as the console.
    #[arg(long)]
    name_prefix: Option<String>,
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
    /// The account the role lives in (12 digits). Default: the account the --pass-role ARNs
    /// name, when they all name the same one; otherwise --account is required.
    #[arg(long, value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    account: Option<String>,
    /// The region of the role's resources. Default: AWS_REGION, then AWS_DEFAULT_REGION, then
    /// us-east-1 (with a note on standard error).
    #[arg(long, value_name = "REGION", value_parser = NonEmptyStringValueParser::new())]
    region: Option<String>,
    /// The partition: aws, aws-cn or aws-us-gov (default aws).
    #[arg(long)]
    partition: Option<String>,
    /// A tag, KEY=VALUE (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// An extra managed policy ARN to attach (repeatable).
    #[arg(long = "managed-policy", value_name = "ARN")]
    managed_policies: Vec<String>,
    /// A permissions boundary ARN.
    #[arg(long, value_name = "ARN")]
    boundary: Option<String>,
    /// What to write: rolewright's role JSON, a CloudFormation template (JSON or YAML), Terraform,
    /// or a bash script of AWS CLI calls.
    #[arg(long, value_enum, default_value = "json")]
    format: RoleFormat,
    /// Where to write the role (standard output by default).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Output formats of `rolewright role new`.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum RoleFormat {
    /// rolewright's role JSON.
    Json,
    /// A CloudFormation template, JSON.
    Cloudformation,
    /// A CloudFormation template, YAML.
    CloudformationYaml,
    /// Terraform (aws_iam_role and its policies).
    Terraform,
    /// A bash script of AWS CLI calls.
    AwsCli,
}

/// `rolewright role new`: builds, lints and writes a role.
pub fn new(args: &RoleNewArgs) -> u8 {
    let mut spec = match &args.spec {
        Some(path) => {
            let text = match crate::validate::read_input(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::ERROR;
                }
            };
            match rolewright_catalog::spec::SpecFile::parse(&text)
                .map_err(|e| vec![e])
                .and_then(|f| f.into_spec())
            {
                Ok(s) => s,
                Err(problems) => {
                    for p in problems {
                        eprintln!("error: `{}`: {p}", path.display());
                    }
                    return exit::INVALID;
                }
            }
        }
        None => RoleSpec::new("", "", "", ""),
    };
    let set = |slot: &mut String, value: &Option<String>| {
        if let Some(v) = value {
            slot.clone_from(v);
        }
    };
    set(&mut spec.persona, &args.persona);
    set(&mut spec.name_suffix, &args.name_suffix);
    set(&mut spec.name_prefix, &args.name_prefix);
    set(&mut spec.account, &args.account);
    set(&mut spec.region, &args.region);
    set(&mut spec.partition, &args.partition);
    if args.description.is_some() {
        spec.description.clone_from(&args.description);
    }
    spec.add_activities.extend(args.activities.iter().cloned());
    spec.remove_activities.extend(args.without.iter().cloned());
    spec.managed_policy_arns
        .extend(args.managed_policies.iter().cloned());
    if args.boundary.is_some() {
        spec.permissions_boundary.clone_from(&args.boundary);
    }
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
            let mut all = spec
                .parameters
                .get(placeholder)
                .cloned()
                .unwrap_or_default();
            all.extend(values.iter().cloned());
            spec.set(placeholder, all);
        }
    }
    // Flags, then the spec, then the defaults: what is still empty now was given by neither. An
    // account that cannot be defaulted is reported by `build` with the other problems.
    let region = spec.fill_defaults(|name| std::env::var(name).ok());
    let mut catalog = Catalog::builtin();
    if let Some(dir) = &args.catalog
        && let Err(code) = add_activities(&mut catalog, dir)
    {
        return code;
    }
    let role = match catalog.build(&spec) {
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
    if region == RegionOrigin::Fallback {
        eprintln!(
            "note: no region given, so the role's ARNs use {FALLBACK_REGION}; choose the region \
             with --region or AWS_REGION"
        );
    }
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
    // And the persona test: the role must grant what its activities promise and nothing else.
    match rolewright_catalog::check::RolePolicies::from_json(&role.to_json())
        .and_then(|r| rolewright_catalog::check::persona_test(&r, &spec.account))
    {
        Ok(rows) => {
            for row in rows.iter().filter(|r| !r.holds()) {
                eprintln!(
                    "error: persona test: {} ({} on {}): expected {}, got {}",
                    row.check, row.action, row.resource, row.expected, row.actual
                );
                refused = true;
            }
        }
        Err(e) => {
            eprintln!("error: persona test: {e}");
            refused = true;
        }
    }
    if refused {
        eprintln!("error: the role was not written");
        return exit::INVALID;
    }
    use rolewright_catalog::emit;
    let text = match args.format {
        RoleFormat::Json => match serde_json::to_string_pretty(&role.to_json()) {
            Ok(t) => t + "\n",
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        },
        RoleFormat::Cloudformation => emit::cloudformation_json(&role),
        RoleFormat::CloudformationYaml => emit::cloudformation_yaml(&role),
        RoleFormat::Terraform => emit::terraform(&role),
        RoleFormat::AwsCli => emit::aws_cli(&role, &spec.partition, &spec.account),
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

/// Adds a team's activity files to the catalog; a file that does not parse is an error.
fn add_activities(catalog: &mut Catalog, dir: &std::path::Path) -> Result<(), u8> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        eprintln!("error: cannot read `{}`: {e}", dir.display());
        exit::ERROR
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let text = crate::validate::read_input(&path).map_err(|e| {
            eprintln!("error: {e}");
            exit::ERROR
        })?;
        match rolewright_catalog::ActivityTemplate::parse(&text) {
            Ok(a) => catalog.add(a),
            Err(e) => {
                eprintln!("error: `{}` is not an activity file: {e}", path.display());
                return Err(exit::INVALID);
            }
        }
    }
    Ok(())
}

fn read_role_json(path: &std::path::Path) -> Result<serde_json::Value, u8> {
    let text = crate::validate::read_input(path).map_err(|e| {
        eprintln!("error: {e}");
        exit::ERROR
    })?;
    serde_json::from_str(&text).map_err(|e| {
        eprintln!("error: `{}` is not JSON: {e}", path.display());
        exit::INVALID
    })
}

/// `rolewright role test FILE`: the persona test table; exits 0 when every expectation holds.
pub fn test(path: &std::path::Path, account: &str, format: Format) -> u8 {
    let value = match read_role_json(path) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let role = match rolewright_catalog::check::RolePolicies::from_json(&value) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: `{}`: {e}", path.display());
            return exit::INVALID;
        }
    };
    let rows = match rolewright_catalog::check::persona_test(&role, account) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: `{}`: {e}", path.display());
            return exit::INVALID;
        }
    };
    let failed = rows.iter().filter(|r| !r.holds()).count();
    match format {
        Format::Json => {
            let items: Vec<_> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "check": r.check, "action": r.action, "resource": r.resource, "context": r.context,
                        "expected": r.expected.as_str(), "actual": r.actual.as_str(), "pass": r.holds(),
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(items));
        }
        Format::Human => {
            for r in &rows {
                println!(
                    "{} {}\n     {} on {}{}\n     expected {}, got {}",
                    if r.holds() { "ok  " } else { "FAIL" },
                    r.check,
                    r.action,
                    r.resource,
                    if r.context.is_empty() {
                        String::new()
                    } else {
                        format!(" with {}", r.context.join(" "))
                    },
                    r.expected,
                    r.actual
                );
            }
        }
    }
    eprintln!("{} passed, {failed} failed", rows.len() - failed);
    if failed == 0 { exit::OK } else { exit::ERROR }
}

/// `rolewright role diff OLD NEW`.
pub fn diff(old: &std::path::Path, new: &std::path::Path, format: Format) -> u8 {
    let load = |p: &std::path::Path| -> Result<Vec<serde_json::Value>, u8> {
        let value = read_role_json(p)?;
        // A role file, a CloudFormation template, or a bare policy document.
        if value.get("Statement").is_some() {
            return Ok(vec![value]);
        }
        rolewright_catalog::check::RolePolicies::from_json(&value)
            .map(|r| r.documents)
            .map_err(|e| {
                eprintln!("error: `{}`: {e}", p.display());
                exit::INVALID
            })
    };
    let (a, b) = match (load(old), load(new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let (added, removed) = rolewright_catalog::diff::diff(&a, &b, Reference::embedded());
    print_grant_diff(&added, &removed, format);
    exit::OK
}

/// Prints grants added (`+`) and removed (`-`), as `role diff` does: also for `role trim` and
/// `role drift`.
pub fn print_grant_diff(
    added: &[rolewright_catalog::diff::Grant],
    removed: &[rolewright_catalog::diff::Grant],
    format: Format,
) {
    let line = |sign: &str, g: &rolewright_catalog::diff::Grant| {
        format!(
            "{sign} {} on {}{}",
            g.action,
            g.resource,
            g.condition
                .as_ref()
                .map(|c| format!(" when {c}"))
                .unwrap_or_default()
        )
    };
    match format {
        Format::Json => {
            let j = |v: &[rolewright_catalog::diff::Grant]| -> Vec<serde_json::Value> {
                v.iter().map(|g| serde_json::json!({"action": g.action, "resource": g.resource, "condition": g.condition})).collect()
            };
            println!(
                "{}",
                serde_json::json!({"added": j(added), "removed": j(removed)})
            );
        }
        Format::Human => {
            for g in added {
                println!("{}", line("+", g));
            }
            for g in removed {
                println!("{}", line("-", g));
            }
            eprintln!("{} grants added, {} removed", added.len(), removed.len());
        }
    }
}
