//! The emitters, read back by real consumers where this machine has them: CloudFormation JSON by
//! serde_json, its YAML by PyYAML, the CLI script by bash with a stub `aws` recording its calls,
//! and Terraform's heredocs parsed back (and checked by `terraform fmt` when installed).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rolewright_catalog::{Catalog, RoleDefinition, RoleSpec, emit};
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";

/// A data scientist of the console's variant (its Canvas activities attach AWS managed
/// policies) with VPC and KMS customization, more activities than fit inline, extra policies, a
/// boundary, and a description and tags full of quoting hazards.
fn rich_spec() -> RoleSpec {
    let mut spec = RoleSpec::new("data-scientist-console", "ds", ACCOUNT, "us-east-1");
    spec.set("S3Buckets", ["ml-data", "ml-models", "ml-logs"]);
    spec.set(
        "ECRRepoArns",
        [format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/ml")],
    );
    spec.set(
        "PassRoles",
        [format!("arn:aws:iam::{ACCOUNT}:role/SageMaker-compute")],
    );
    spec.set("GlueDbNames", ["ml_db"]);
    spec.set("VpcSubnets", ["subnet-0abc"]);
    spec.set("VpcSecurityGroups", ["sg-0abc"]);
    spec.set(
        "DataKmsKeys",
        [format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/data")],
    );
    spec.set(
        "VolumeKmsKeys",
        [format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/volume")],
    );
    spec.set(
        "KendraIndexIds",
        ["0123456789abcdef0123456789abcdef01234567"],
    );
    spec.set(
        "MlflowTrackingServers",
        [format!(
            "arn:aws:sagemaker:us-east-1:{ACCOUNT}:mlflow-tracking-server/ts"
        )],
    );
    for a in [
        "manage-endpoints",
        "manage-pipelines",
        "monitor-models",
        "manage-experiments",
        "s3-bucket-access",
    ] {
        spec.add_activities.push(a.to_string());
    }
    spec.description =
        Some("Bob's role: `date` #1 $HOME ${aws:username} %{if} \"q\" \\ end".to_string());
    spec.tags = vec![
        ("team".to_string(), "ml".to_string()),
        ("cost:center".to_string(), "it's $5 ${x}".to_string()),
        ("2012-10-17".to_string(), "true".to_string()),
    ];
    spec.permissions_boundary = Some(format!("arn:aws:iam::{ACCOUNT}:policy/boundary"));
    spec.managed_policy_arns
        .push(format!("arn:aws:iam::{ACCOUNT}:policy/extra"));
    spec
}

/// The rich role, with at least one customer-managed policy whatever the packing thresholds.
fn rich_role() -> RoleDefinition {
    let mut role = Catalog::builtin().build(&rich_spec()).unwrap();
    if role.managed_policies.is_empty() {
        let moved = role.inline_policies.pop().unwrap();
        role.managed_policies.push(moved);
    }
    // Policy variables and quotes inside documents, which every format must carry literally.
    for policy in [&mut role.inline_policies[0], &mut role.managed_policies[0]] {
        policy.document["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [
                    "arn:aws:s3:::ml-data/home/${aws:username}/*",
                    "arn:aws:s3:::ml-data/it's/100%{x}/$${y}/*",
                ],
            }));
    }
    assert!(
        role.inline_policies.len() >= 2,
        "{}",
        role.inline_policies.len()
    );
    assert!(!role.attached_policy_arns.is_empty());
    role
}

/// The smallest role: one activity, no tags, boundary or managed policies.
fn small_role() -> RoleDefinition {
    let mut spec = RoleSpec::new("compute", "jobs", ACCOUNT, "us-east-1");
    spec.set("S3Buckets", ["ml-data"]);
    spec.set(
        "ECRRepoArns",
        [format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/ml")],
    );
    let role = Catalog::builtin().build(&spec).unwrap();
    assert!(role.managed_policies.is_empty() && role.attached_policy_arns.is_empty());
    assert!(role.tags.is_empty() && role.permissions_boundary.is_none());
    role
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("emit-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn tool_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------------
// CloudFormation

#[test]
fn cloudformation_json_is_a_template_of_the_role() {
    let role = rich_role();
    let text = emit::cloudformation_json(&role);
    assert!(
        text.starts_with("{\n  \"") && text.ends_with("}\n"),
        "not pretty"
    );
    let t: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(t["AWSTemplateFormatVersion"], "2010-09-09");
    assert!(t["Description"].as_str().unwrap().contains("SageMaker-ds"));

    let resources = t["Resources"].as_object().unwrap();
    assert_eq!(resources.len(), 1 + role.managed_policies.len());
    let r = &resources["SageMakerDsRole"];
    assert_eq!(r["Type"], "AWS::IAM::Role");
    let p = &r["Properties"];
    assert_eq!(p["RoleName"], json!(role.name));
    assert_eq!(p["Description"], json!(role.description));
    assert_eq!(p["AssumeRolePolicyDocument"], role.trust_policy);
    let inline: Vec<Value> = role
        .inline_policies
        .iter()
        .map(|p| json!({"PolicyName": p.name, "PolicyDocument": p.document}))
        .collect();
    assert_eq!(p["Policies"], json!(inline));
    assert_eq!(p["PermissionsBoundary"], json!(role.permissions_boundary));
    let tags: Vec<Value> = role
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    assert_eq!(p["Tags"], json!(tags));

    // Attached ARNs as they are, then a Ref to each customer-managed policy, which is a
    // resource of the template with the policy's name and document.
    let arns = p["ManagedPolicyArns"].as_array().unwrap();
    assert_eq!(
        arns.len(),
        role.attached_policy_arns.len() + role.managed_policies.len()
    );
    let (plain, refs) = arns.split_at(role.attached_policy_arns.len());
    assert_eq!(
        plain,
        role.attached_policy_arns
            .iter()
            .map(|a| json!(a))
            .collect::<Vec<_>>()
    );
    for (reference, policy) in refs.iter().zip(&role.managed_policies) {
        let id = reference["Ref"].as_str().unwrap();
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        let m = &resources[id];
        assert_eq!(m["Type"], "AWS::IAM::ManagedPolicy");
        assert_eq!(m["Properties"]["ManagedPolicyName"], json!(policy.name));
        assert_eq!(m["Properties"]["PolicyDocument"], policy.document);
    }
    assert_eq!(
        t["Outputs"]["RoleArn"]["Value"],
        json!({"Fn::GetAtt": ["SageMakerDsRole", "Arn"]})
    );

    // Nothing empty or absent is written.
    let small = small_role();
    let t: Value = serde_json::from_str(&emit::cloudformation_json(&small)).unwrap();
    let p = t["Resources"]["SageMakerJobsRole"]["Properties"]
        .as_object()
        .unwrap();
    let keys: Vec<&str> = p.keys().map(String::as_str).collect();
    for absent in ["ManagedPolicyArns", "PermissionsBoundary", "Tags"] {
        assert!(!keys.contains(&absent), "{absent} in {keys:?}");
    }
    assert_eq!(t["Resources"].as_object().unwrap().len(), 1);
}

/// Runs `command` with `input` on its stdin and its stdout captured.
fn run_with_stdin(command: &mut Command, input: &[u8]) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// `yaml.safe_load` of each text, as JSON; `None` (with a note) when PyYAML is not installed.
fn pyyaml_load(texts: &[String]) -> Option<Vec<Value>> {
    if !tool_works("python3", &["-c", "import yaml"]) {
        eprintln!(
            "SKIPPED: python3 with PyYAML (`pip install pyyaml`) is not installed; the YAML was not read back"
        );
        return None;
    }
    let out = run_with_stdin(
        Command::new("python3").args([
            "-c",
            "import json, sys, yaml\nprint(json.dumps([yaml.safe_load(t) for t in json.load(sys.stdin)]))",
        ]),
        json!(texts).to_string().as_bytes(),
    );
    assert!(out.status.success());
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn cloudformation_yaml_reads_back_as_the_json_template() {
    let role = rich_role();
    let yaml = emit::cloudformation_yaml(&role);
    assert!(yaml.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\n"));
    assert!(
        yaml.contains("Version: \"2012-10-17\"\n"),
        "dates are quoted"
    );
    assert!(yaml.contains("Type: \"AWS::IAM::Role\"\n"));
    assert!(
        yaml.contains("  - SageMakerDsRole\n"),
        "safe words stay plain"
    );
    assert!(!yaml.contains('\t'));

    // Strings YAML could misread, every kind of value, and nesting.
    let hazards = json!({
        "strings": ["", " a", "a ", "true", "False", "yes", "No", "on", "OFF", "y", "null", "~",
            "2012-10-17", "111122223333", "0o17", "0x1f", "1e3", "1_000", ".inf", "-.5", "-", "- a",
            "---", "...", "? x", "a: b", "a:b", "#x", "a #b", "*x", "&x", "!x", "|", ">", "'", "\"",
            "%x", "@x", "`x`", "{a}", "[a]", "a,b", "<<", "=", "é", "line\nbreak", "tab\tin",
            "\u{7}bell", "\u{85}nel", "\u{2028}ls", "back\\slash", "Allow", "s3/key name"],
        "n": 1, "neg": -7, "f": 1.5, "b": false, "z": null, "e": [], "o": {},
        "nested": [[1, [2, []]], {"k": {"kk": [{}]}}, [{"a": 1, "b": [true]}]],
        "key: with colon": {"true": "x", "": "empty key"},
    });
    let expected = [
        serde_json::from_str::<Value>(&emit::cloudformation_json(&role)).unwrap(),
        serde_json::from_str::<Value>(&emit::cloudformation_json(&small_role())).unwrap(),
        hazards.clone(),
    ];
    let texts = [
        yaml,
        emit::cloudformation_yaml(&small_role()),
        emit::to_yaml(&hazards),
    ];
    if let Some(loaded) = pyyaml_load(&texts) {
        for (i, (got, want)) in loaded.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "document {i}:\n{}", texts[i]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AWS CLI

/// Runs the script with a stub `aws` first in PATH; returns the exit status and each call's
/// arguments. The stub fails when its arguments contain `fail_on`.
fn run_with_stub_aws(name: &str, script: &str, fail_on: Option<&str>) -> (bool, Vec<Vec<String>>) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir(name);
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.join("calls");
    let stub = bin.join("aws");
    fs::write(
        &stub,
        "#!/bin/sh\n\
         { printf '%s\\0' \"$#\" \"$AWS_PAGER\"; for a in \"$@\"; do printf '%s\\0' \"$a\"; done; } >> \"$STUB_LOG\"\n\
         case \" $* \" in *\" $STUB_FAIL_ON \"*) exit 3;; esac\n",
    )
    .unwrap();
    fs::set_permissions(&stub, fs::Permissions::from_mode(0o755)).unwrap();
    let script_path = dir.join("create-role.sh");
    fs::write(&script_path, script).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("bash")
        .arg(&script_path)
        .env("PATH", path)
        .env("STUB_LOG", &log)
        .env("STUB_FAIL_ON", fail_on.unwrap_or("\u{1}never"))
        .env("PARTITION", "wrong")
        .stdin(Stdio::null())
        .status()
        .unwrap();
    let raw = fs::read(&log).unwrap_or_default();
    let mut fields = raw
        .split(|b| *b == 0)
        .map(|f| String::from_utf8(f.to_vec()).unwrap());
    let mut calls = Vec::new();
    while let Some(count) = fields.next().filter(|f| !f.is_empty()) {
        let n: usize = count.parse().unwrap();
        assert_eq!(
            fields.next().as_deref(),
            Some(""),
            "AWS_PAGER is exported empty"
        );
        calls.push(fields.by_ref().take(n).collect::<Vec<_>>());
    }
    let _ = fs::remove_dir_all(&dir);
    (status.success(), calls)
}

/// The value after `option` in one call.
fn arg<'a>(call: &'a [String], option: &str) -> &'a str {
    let i = call
        .iter()
        .position(|a| a == option)
        .unwrap_or_else(|| panic!("{option} missing in {call:?}"));
    &call[i + 1]
}

fn json_arg(call: &[String], option: &str) -> Value {
    serde_json::from_str(arg(call, option)).unwrap_or_else(|e| panic!("{option}: {e}"))
}

#[test]
fn cli_script_makes_the_calls_in_order_with_exact_arguments() {
    let role = rich_role();
    let script = emit::aws_cli(&role, "aws", ACCOUNT);
    assert!(script.starts_with("#!/usr/bin/env bash\n"));
    assert!(script.contains("\nset -euo pipefail\n"));
    assert!(tool_works("bash", &["-n", "-c", &script]), "bash -n");

    let (ok, calls) = run_with_stub_aws("cli", &script, None);
    assert!(ok);
    let expected_len = 1
        + role.inline_policies.len()
        + 2 * role.managed_policies.len()
        + role.attached_policy_arns.len();
    assert_eq!(calls.len(), expected_len, "{calls:#?}");
    let mut calls = calls.iter();

    let create = calls.next().unwrap();
    assert_eq!(create[..2], ["iam", "create-role"]);
    assert_eq!(arg(create, "--role-name"), role.name);
    assert_eq!(arg(create, "--description"), role.description);
    assert_eq!(
        json_arg(create, "--assume-role-policy-document"),
        role.trust_policy
    );
    assert_eq!(
        Some(arg(create, "--permissions-boundary").to_string()),
        role.permissions_boundary
    );
    let tags: Vec<Value> = role
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    assert_eq!(json_arg(create, "--tags"), json!(tags));

    for policy in &role.inline_policies {
        let call = calls.next().unwrap();
        assert_eq!(call[..2], ["iam", "put-role-policy"]);
        assert_eq!(arg(call, "--role-name"), role.name);
        assert_eq!(arg(call, "--policy-name"), policy.name);
        assert_eq!(json_arg(call, "--policy-document"), policy.document);
    }
    for policy in &role.managed_policies {
        let call = calls.next().unwrap();
        assert_eq!(call[..2], ["iam", "create-policy"]);
        assert_eq!(arg(call, "--policy-name"), policy.name);
        assert_eq!(json_arg(call, "--policy-document"), policy.document);
        let call = calls.next().unwrap();
        assert_eq!(call[..2], ["iam", "attach-role-policy"]);
        assert_eq!(arg(call, "--role-name"), role.name);
        assert_eq!(
            arg(call, "--policy-arn"),
            format!("arn:aws:iam::{ACCOUNT}:policy/{}", policy.name),
            "the script's PARTITION wins over the environment's"
        );
    }
    for arn in &role.attached_policy_arns {
        let call = calls.next().unwrap();
        assert_eq!(call[..2], ["iam", "attach-role-policy"]);
        assert_eq!(arg(call, "--role-name"), role.name);
        assert_eq!(arg(call, "--policy-arn"), arn);
    }

    // The smallest role: create-role without the options it has no value for, and one policy.
    let small = small_role();
    let (ok, calls) = run_with_stub_aws("cli-small", &emit::aws_cli(&small, "aws", ACCOUNT), None);
    assert!(ok);
    assert_eq!(calls.len(), 1 + small.inline_policies.len());
    for absent in ["--tags", "--permissions-boundary"] {
        assert!(!calls[0].iter().any(|a| a == absent), "{absent}");
    }
}

#[test]
fn cli_script_stops_at_the_first_failing_call() {
    let role = rich_role();
    let (ok, calls) = run_with_stub_aws(
        "cli-fail",
        &emit::aws_cli(&role, "aws", ACCOUNT),
        Some("put-role-policy"),
    );
    assert!(!ok);
    assert_eq!(
        calls.len(),
        2,
        "create-role, then the failing put-role-policy"
    );
}

// ---------------------------------------------------------------------------------------------
// Terraform

/// One `resource "TYPE" "NAME" { ... }` block: its lines between the braces.
struct Block {
    kind: String,
    name: String,
    body: Vec<String>,
}

fn blocks(hcl: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = hcl.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("resource \"") {
            let parts: Vec<&str> = rest.trim_end_matches(" {").split('"').collect();
            assert!(
                parts.len() == 4 && parts[1] == " " && parts[3].is_empty(),
                "{line}"
            );
            let body: Vec<String> = lines
                .by_ref()
                .take_while(|l| *l != "}")
                .map(String::from)
                .collect();
            out.push(Block {
                kind: parts[0].to_string(),
                name: parts[2].to_string(),
                body,
            });
        } else {
            assert!(
                line.is_empty() || line.starts_with('#'),
                "stray line {line:?}"
            );
        }
    }
    out
}

impl Block {
    /// The raw expression of a one-line `key = value` attribute.
    fn attr(&self, key: &str) -> Option<&str> {
        self.body.iter().find_map(|l| {
            let (k, v) = l.trim().split_once(" = ")?;
            (k.trim_end() == key).then_some(v)
        })
    }

    /// A quoted string attribute's value.
    fn string(&self, key: &str) -> Option<String> {
        self.attr(key).map(hcl_unquote)
    }

    /// A `<<-EOT` heredoc attribute, as Terraform reads it, parsed as JSON.
    fn heredoc_json(&self, key: &str) -> Value {
        let start = self
            .body
            .iter()
            .position(|l| l.trim() == format!("{key} = <<-EOT"))
            .unwrap_or_else(|| panic!("no heredoc {key}"));
        let lines: Vec<&str> = self.body[start + 1..]
            .iter()
            .take_while(|l| l.trim() != "EOT")
            .map(String::as_str)
            .collect();
        let indent = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        let text: String = lines
            .iter()
            .map(|l| format!("{}\n", &l[indent..]))
            .collect();
        // Terraform reads `${` and `%{` as interpolation and directives: they must be escaped.
        let unescaped = text.replace("$${", "").replace("%%{", "");
        assert!(
            !unescaped.contains("${") && !unescaped.contains("%{"),
            "{key}: unescaped template sequence"
        );
        let text = text.replace("$${", "${").replace("%%{", "%{");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{key}: {e}\n{text}"))
    }
}

fn hcl_unquote(quoted: &str) -> String {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not a string: {quoted}"));
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            Some(other) => out.push(other),
            None => panic!("dangling escape in {quoted}"),
        }
    }
    out.replace("$${", "${").replace("%%{", "%{")
}

#[test]
fn terraform_has_every_resource_and_heredocs_of_the_documents() {
    let role = rich_role();
    let hcl = emit::terraform(&role);
    let all = blocks(&hcl);
    for b in &all {
        assert!(
            b.name.starts_with(|c: char| c.is_ascii_lowercase())
                && b.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{}",
            b.name
        );
        let same = all
            .iter()
            .filter(|o| o.kind == b.kind && o.name == b.name)
            .count();
        assert_eq!(same, 1, "{} {} is not unique", b.kind, b.name);
    }
    let of = |kind: &str| all.iter().filter(|b| b.kind == kind).collect::<Vec<_>>();

    let roles = of("aws_iam_role");
    assert_eq!(roles.len(), 1);
    let r = roles[0];
    assert_eq!(r.name, "sagemaker_ds");
    assert_eq!(r.string("name").unwrap(), role.name);
    assert_eq!(r.string("description").unwrap(), role.description);
    assert_eq!(r.string("permissions_boundary"), role.permissions_boundary);
    assert_eq!(r.heredoc_json("assume_role_policy"), role.trust_policy);
    for (k, v) in &role.tags {
        let line = r
            .body
            .iter()
            .find(|l| l.trim_start().starts_with(&format!("\"{}\"", k)))
            .unwrap_or_else(|| panic!("tag {k}"));
        let (key, value) = line.trim().split_once(" = ").unwrap();
        assert_eq!(hcl_unquote(key.trim_end()), *k);
        assert_eq!(hcl_unquote(value), *v);
    }

    let inline = of("aws_iam_role_policy");
    assert_eq!(inline.len(), role.inline_policies.len());
    for (b, policy) in inline.iter().zip(&role.inline_policies) {
        assert_eq!(b.string("name").unwrap(), policy.name);
        assert_eq!(b.attr("role"), Some("aws_iam_role.sagemaker_ds.id"));
        assert_eq!(b.heredoc_json("policy"), policy.document);
    }

    let managed = of("aws_iam_policy");
    assert_eq!(managed.len(), role.managed_policies.len());
    for (b, policy) in managed.iter().zip(&role.managed_policies) {
        assert_eq!(b.string("name").unwrap(), policy.name);
        assert_eq!(b.heredoc_json("policy"), policy.document);
    }

    let attachments = of("aws_iam_role_policy_attachment");
    assert_eq!(
        attachments.len(),
        role.managed_policies.len() + role.attached_policy_arns.len()
    );
    let targets: Vec<&str> = attachments
        .iter()
        .map(|b| {
            assert_eq!(b.attr("role"), Some("aws_iam_role.sagemaker_ds.name"));
            b.attr("policy_arn").unwrap()
        })
        .collect();
    let expected: Vec<String> = managed
        .iter()
        .map(|b| format!("aws_iam_policy.{}.arn", b.name))
        .chain(role.attached_policy_arns.iter().map(|a| format!("\"{a}\"")))
        .collect();
    assert_eq!(targets, expected);

    let small_role = small_role();
    let small = emit::terraform(&small_role);
    let small_blocks = blocks(&small);
    assert_eq!(
        small_blocks.len(),
        1 + small_role.inline_policies.len(),
        "{small}"
    );
    assert!(small_blocks[0].attr("permissions_boundary").is_none());
    assert!(!small.contains("\n  tags = {"));

    terraform_fmt_check(&[&hcl, &small]);
}

/// `terraform fmt` leaves the text as it is (skipped when terraform is not installed).
fn terraform_fmt_check(texts: &[&str]) {
    if !tool_works("terraform", &["version"]) {
        eprintln!("SKIPPED: terraform is not installed; `terraform fmt` did not check the HCL");
        return;
    }
    for text in texts {
        let out = run_with_stdin(
            Command::new("terraform")
                .args(["fmt", "-no-color", "-"])
                .env("CHECKPOINT_DISABLE", "1")
                .stderr(Stdio::null()),
            text.as_bytes(),
        );
        assert!(
            out.status.success(),
            "terraform fmt could not parse:\n{text}"
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), *text);
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism

#[test]
fn same_role_same_bytes() {
    type Emitter = fn(&RoleDefinition) -> String;
    let emitters: [(&str, Emitter); 4] = [
        ("cloudformation_json", emit::cloudformation_json),
        ("cloudformation_yaml", emit::cloudformation_yaml),
        ("terraform", emit::terraform),
        ("aws_cli", |r| emit::aws_cli(r, "aws", ACCOUNT)),
    ];
    let a = rich_role();
    let b = rich_role();
    for (name, f) in emitters {
        let first = f(&a);
        assert_eq!(first, f(&a), "{name}");
        assert_eq!(first, f(&b), "{name}: a rebuilt role");
        assert!(first.ends_with('\n') && !first.ends_with("\n\n"), "{name}");
    }
}
