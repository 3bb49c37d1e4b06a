//! Conformance: the external corpora in `../shared/conformance`, read at run time through one
//! harness per corpus, each reporting `N passed, N failed`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness fails by panicking, with the corpus path in the message"
)]

#[path = "../../../tests/support/corpus.rs"]
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use rolewright_iam::case::{CaseResult, parse_cases};
use rolewright_iam::{
    CompiledPolicy, Outcome, PolicyDocument, PolicySet, PolicyType, Principal, Request,
    parse_policy,
};
use support::{corpus, json_files};

/// Runs every case under `root`; returns (passed, failed, skipped) after printing failures.
fn run_case_folder(root: &Path, label: &str) -> (usize, usize, usize) {
    let files = json_files(root);
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let cases = parse_cases(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in cases {
            let shown = file
                .strip_prefix(root)
                .unwrap_or(file)
                .display()
                .to_string();
            match case.run() {
                CaseResult::Skipped => skipped += 1,
                CaseResult::Decided {
                    pass: Some(true), ..
                } => passed += 1,
                CaseResult::Decided {
                    outcome,
                    blocked_by,
                    ..
                } => {
                    failed += 1;
                    let expected = case.expected.as_ref();
                    eprintln!(
                        "FAIL {shown} :: {} => {outcome} {blocked_by:?}, expected {:?} {:?}",
                        case.name,
                        expected.and_then(|e| e.response.clone()),
                        expected.and_then(|e| e.blocked_by.clone())
                    );
                }
                CaseResult::Invalid(e) => {
                    failed += 1;
                    eprintln!("FAIL {shown} :: {} => invalid: {e}", case.name);
                }
            }
        }
    }
    eprintln!("{label}: {passed} passed, {failed} failed, {skipped} skipped");
    (passed, failed, skipped)
}

#[test]
fn iam_simulate_engine_strict_cases() {
    let (passed, failed, skipped) = run_case_folder(
        &corpus().join("iam-simulate/engine"),
        "iam-simulate engine (Strict)",
    );
    assert_eq!(
        (passed, failed, skipped),
        (359, 0, 72),
        "all 359 Strict cases must pass"
    );
}

/// The project's own cases, for what the corpus lacks: policy variables, `NotPrincipal`, and
/// the set forms of every operator.
#[test]
fn project_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let (passed, failed, _) = run_case_folder(&root, "project cases");
    assert!(
        passed >= 74,
        "expected at least 74 project cases, found {passed}"
    );
    assert_eq!(failed, 0);
}

#[test]
fn iam_simulate_condition_operators() {
    let text = fs::read_to_string(corpus().join("iam-simulate/condition-operators.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (mut passed, mut failed) = (0, 0);
    let principal = Principal::parse("arn:aws:iam::123456789012:user/test").unwrap();
    for (operator, group) in all.as_object().unwrap() {
        for test in group["tests"].as_array().unwrap() {
            let policy = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                    "Condition": {operator: {"rolewright:TestKey": test["policyValues"]}}
                }]
            });
            let doc = PolicyDocument::parse(&policy.to_string()).unwrap();
            let set = PolicySet::new().with_identity(CompiledPolicy::new(&doc));
            let mut request = Request::new(principal.clone(), "s3:GetObject", "arn:aws:s3:::b/k");
            for (k, v) in test["requestContext"].as_object().into_iter().flatten() {
                match v {
                    serde_json::Value::Array(items) => {
                        request.context_mut().set_multi(
                            k,
                            items
                                .iter()
                                .map(|i| i.as_str().unwrap_or_default().to_string()),
                        );
                    }
                    other => {
                        request
                            .context_mut()
                            .set(k, other.as_str().unwrap_or_default());
                    }
                }
            }
            request
                .context_mut()
                .set("rolewright:TestKey", test["testValue"].as_str().unwrap());
            let allowed = set.evaluate(&request).outcome == Outcome::Allowed;
            if allowed == test["expected"].as_bool().unwrap() {
                passed += 1;
            } else {
                failed += 1;
                eprintln!("FAIL {operator} :: {} (got {allowed})", test["name"]);
            }
        }
    }
    eprintln!("iam-simulate condition operators: {passed} passed, {failed} failed");
    assert_eq!((passed, failed), (162, 0));
}

fn type_of(file: &Path) -> PolicyType {
    match file.file_stem().and_then(|s| s.to_str()).unwrap_or("") {
        "identityPolicy" => PolicyType::Identity,
        "resourcePolicy" => PolicyType::Resource,
        "trustPolicy" => PolicyType::Trust,
        "sessionPolicy" => PolicyType::Session,
        "scp" => PolicyType::ServiceControl,
        "rcp" => PolicyType::ResourceControl,
        "endpointPolicy" => PolicyType::Endpoint,
        _ => PolicyType::Generic,
    }
}

#[test]
fn iam_policy_validate_cases() {
    let root = corpus().join("iam-policy-validate");
    let files = json_files(&root);
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
        for case in cases {
            let text = match case.get("policy") {
                Some(p) => serde_json::to_string_pretty(p).unwrap(),
                None => String::new(),
            };
            let outcome = parse_policy(&text, type_of(file));
            let ours: BTreeSet<String> = outcome
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.path.clone())
                .collect();
            let expected: BTreeSet<String> = case["expectedErrors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["path"].as_str().unwrap().to_string())
                .collect();
            if ours == expected {
                passed += 1;
            } else {
                failed += 1;
                eprintln!(
                    "FAIL {} :: {} => {:?}, expected {:?}",
                    file.strip_prefix(&root).unwrap().display(),
                    case["name"],
                    outcome
                        .diagnostics
                        .iter()
                        .filter(|d| d.is_error())
                        .map(|d| (&d.path, &d.message))
                        .collect::<Vec<_>>(),
                    expected
                );
            }
        }
    }
    eprintln!("iam-policy-validate: {passed} passed, {failed} failed");
    assert_eq!((passed, failed), (123, 0));
}
