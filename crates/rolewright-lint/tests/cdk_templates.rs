//! The official Role Manager CDK templates (`../shared/reference/role-manager-cdk-templates`),
//! with real values in their placeholders, linted: the only errors must be the KMS key ids that
//! the CDK library puts where IAM wants key ARNs, and the template defects listed below.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness fails by panicking"
)]

use std::path::PathBuf;

use rolewright_lint::{LintType, Severity, lint};
use rolewright_reference::Reference;

const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

/// Errors in the official templates besides the key ids, each a real defect that IAM accepts
/// but that can never grant anything: (template, code, text in the message, why).
const KNOWN_DEFECTS: &[(&str, &str, &str, &str)] = &[(
    "manageGlueTables",
    "resource-mismatch",
    "/*` matches no resource type",
    "s3:PutBucketAcl is granted on object ARNs (`bucket/*`); it acts on buckets, so the statement grants nothing",
)];

fn values(name: &str) -> Vec<&'static str> {
    match name {
        "S3Buckets" => vec!["ml-training-data", "ml-model-artifacts"],
        "ECRRepoArns" => vec!["arn:aws:ecr:us-east-1:123456789012:repository/ml-images"],
        "PassRoles" => vec!["arn:aws:iam::123456789012:role/SageMaker-execution"],
        "VpcSubnets" => vec!["subnet-0a1b2c3d4e5f67890"],
        "VpcSecurityGroups" => vec!["sg-0a1b2c3d4e5f67890"],
        // What the CDK library asks its users for: key ids, not key ARNs.
        "DataKmsKeys" | "VolumeKmsKeys" => vec![KEY_ID],
        "WorkGroupNames" => vec!["ml-analytics"],
        "GlueDbNames" => vec!["ml_features"],
        other => panic!("unknown placeholder {other}"),
    }
}

/// Fills `{{AccountId}}`/`{{Region}}` and repeats each string holding `[[Name]]` once per value.
fn fill(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(
            s.replace("{{AccountId}}", "123456789012")
                .replace("{{Region}}", "us-east-1"),
        ),
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match item.as_str().and_then(|s| s.find("[[").map(|i| (s, i))) {
                    Some((s, i)) => {
                        let end = s[i..].find("]]").unwrap() + i;
                        for v in values(&s[i + 2..end]) {
                            let filled = format!("{}{}{}", &s[..i], v, &s[end + 2..]);
                            out.push(fill(&Value::String(filled)));
                        }
                    }
                    None => out.push(fill(item)),
                }
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), fill(v))).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn only_the_kms_key_ids_are_errors() {
    let dir = std::env::var_os("ROLEWRIGHT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("reference/role-manager-cdk-templates");
    assert!(
        dir.is_dir(),
        "\n\n*** CDK TEMPLATES NOT FOUND at {} ***\n",
        dir.display()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("_index.json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 28);
    let (mut key_id_errors, mut other_errors) = (0, Vec::new());
    for file in &files {
        let template: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let policy = serde_json::to_string_pretty(&fill(&template["templateJson"])).unwrap();
        let name = file.file_name().unwrap().to_string_lossy();
        for f in lint(&policy, LintType::Auto, Reference::embedded()) {
            eprintln!("{name}: {} {} {} {}", f.severity, f.code, f.path, f.message);
            if f.severity != Severity::Error {
                continue;
            }
            if f.code == "malformed-arn" && f.message.contains(KEY_ID) {
                assert_eq!(
                    f.help.as_deref(),
                    Some(format!("a KMS key id is not an ARN; write `arn:aws:kms:REGION:ACCOUNT:key/{KEY_ID}`").as_str())
                );
                key_id_errors += 1;
            } else if KNOWN_DEFECTS.iter().any(|(t, code, text, _)| {
                name.starts_with(t) && f.code == *code && f.message.contains(text)
            }) {
                continue;
            } else {
                other_errors.push(format!("{name}: {} {} {}", f.code, f.path, f.message));
            }
        }
    }
    assert!(
        other_errors.is_empty(),
        "errors on what IAM accepts: {other_errors:#?}"
    );
    // Every KMS variant passes key ids at least once.
    assert!(
        key_id_errors >= 9,
        "expected the KMS key ids of the 9 KMS variants, found {key_id_errors}"
    );
}
