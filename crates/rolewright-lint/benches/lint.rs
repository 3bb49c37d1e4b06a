//! Criterion benchmark of the linter on a 100-statement policy.
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented functions"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rolewright_lint::{LintType, lint};
use rolewright_reference::Reference;

/// The Data Scientist role's statements, each with its own Sid.
fn role_statements() -> Vec<serde_json::Value> {
    let mut statements = Vec::new();
    for text in rolewright_iam::sample::data_scientist_policy_texts() {
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if let Some(list) = doc["Statement"].as_array() {
            statements.extend(list.iter().cloned());
        }
    }
    statements
}

/// A 100-statement policy of the size IAM allows: each statement takes one action of one of
/// the role's statements, with that statement's resources and conditions.
fn hundred_statements() -> String {
    let mut out = Vec::new();
    for source in role_statements() {
        let actions: Vec<serde_json::Value> = match &source["Action"] {
            serde_json::Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        for pair in actions.chunks(1) {
            let mut s = source.clone();
            s["Action"] = serde_json::Value::Array(pair.to_vec());
            out.push(s);
        }
    }
    // The role has 94 actions; the last six statements start over.
    let mut out: Vec<serde_json::Value> = (0..100).map(|i| out[i % out.len()].clone()).collect();
    for (i, s) in out.iter_mut().enumerate() {
        s["Sid"] = serde_json::Value::String(format!("S{i}"));
    }
    assert_eq!(out.len(), 100);
    serde_json::json!({"Version": "2012-10-17", "Statement": out}).to_string()
}

/// The role's 18 statements repeated to 100 (about 1,500 actions: far past IAM's size quotas,
/// a stress case).
fn hundred_large_statements() -> String {
    let statements = role_statements();
    let out: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            let mut s = statements[i % statements.len()].clone();
            s["Sid"] = serde_json::Value::String(format!("S{i}"));
            s
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": out}).to_string()
}

fn bench(c: &mut Criterion) {
    let reference = Reference::embedded();
    for (name, policy) in [
        ("lint_100_statements", hundred_statements()),
        ("lint_100_large_statements", hundred_large_statements()),
    ] {
        // Warm the reference's lazily read services, as a long-running tool would have them.
        let _ = lint(&policy, LintType::Auto, reference);
        c.bench_function(name, |b| {
            b.iter(|| lint(black_box(&policy), LintType::Auto, reference))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
