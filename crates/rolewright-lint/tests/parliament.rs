//! Conformance with duo-labs/parliament's lint cases (`../shared/conformance/parliament`, read at
//! run time), through a documented map from parliament's finding ids to rolewright's codes.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness fails by panicking"
)]

#[path = "../../../tests/support/corpus.rs"]
mod support;

use std::collections::BTreeSet;

use rolewright_lint::{LintType, lint};
use rolewright_reference::Reference;
use support::corpus;

/// rolewright code → the parliament ids it stands for. Codes not listed have no parliament
/// counterpart and are left out of the comparison (`missing-version`, `passrole-*`,
/// `allow-not-*`, `redundant-statement`, `set-operator-*`, ...): parliament does not check those.
const MAP: &[(&str, &[&str])] = &[
    ("json-syntax", &["MALFORMED_JSON"]),
    // Everything the parser refuses is a malformed policy for parliament.
    ("duplicate-key", &["MALFORMED"]),
    ("unknown-key", &["MALFORMED"]),
    ("missing-element", &["MALFORMED"]),
    ("conflicting-elements", &["MALFORMED"]),
    ("invalid-value", &["MALFORMED"]),
    ("required-for-type", &["MALFORMED"]),
    ("not-allowed-for-type", &["MALFORMED"]),
    ("restricted-for-type", &["MALFORMED"]),
    ("missing-action", &["MALFORMED"]),
    ("invalid-action", &["MALFORMED"]),
    // An unknown operator has no type, so parliament also reports that it cannot compare the key.
    ("invalid-operator", &["UNKNOWN_OPERATOR", "MISMATCHED_TYPE"]),
    ("unknown-action", &["UNKNOWN_ACTION"]),
    ("unknown-service", &["UNKNOWN_PREFIX"]),
    ("wildcard-matches-nothing", &["UNKNOWN_ACTION"]),
    ("unknown-condition-key", &["UNKNOWN_CONDITION_FOR_ACTION"]),
    (
        "condition-key-not-applicable",
        &["UNKNOWN_CONDITION_FOR_ACTION"],
    ),
    ("condition-type-mismatch", &["MISMATCHED_TYPE"]),
    ("invalid-condition-value", &["MISMATCHED_TYPE"]),
    ("condition-type-usable", &["MISMATCHED_TYPE_BUT_USABLE"]),
    ("malformed-arn", &["INVALID_ARN"]),
    ("resource-mismatch", &["RESOURCE_MISMATCH"]),
    ("action-resource-mismatch", &["RESOURCE_MISMATCH"]),
    ("resource-star", &["RESOURCE_STAR"]),
    ("resource-effectively-star", &["RESOURCE_EFFECTIVELY_STAR"]),
    (
        "resource-policy-write",
        &["RESOURCE_POLICY_PRIVILEGE_ESCALATION"],
    ),
    ("privilege-escalation", &["PRIVILEGE_ESCALATION"]),
    ("duplicate-sid", &["DUPLICATE_SID"]),
    ("invalid-sid", &["INVALID_SID"]),
    ("mfa-condition-false", &["BAD_PATTERN_FOR_MFA"]),
];

/// Cases where rolewright deliberately differs, by parliament test name and policy excerpt, with
/// the reason. A difference counts as explained only when it is exactly the one listed.
/// One explained difference: (parliament test, excerpt of its policy, ids parliament expects that
/// rolewright does not give, ids rolewright gives that parliament does not, why).
type Difference = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

const DIFFERENCES: &[Difference] = &[(
    "test_resource_policy_privilege_escalation_at_bucket_level",
    r#""s3:*Bucket*", "s3:*Object*""#,
    &[],
    &["RESOURCE_POLICY_PRIVILEGE_ESCALATION"],
    "`s3:*Bucket*` grants `s3:PutBucketPolicy` (and `s3:DeleteBucketPolicy`) on `bucket1`: the \
         holder can rewrite the bucket policy, which parliament reports when the action is named \
         but not when a wildcard grants it. rolewright expands wildcards first.",
)];

fn parliament_ids(code: &str, path: &str) -> Vec<&'static str> {
    // A resource that is not even a string (a CloudFormation `Fn::Sub` object) is an invalid ARN
    // to parliament and a type error to the parser.
    if code == "wrong-type" {
        return if path.contains("Resource") {
            vec!["INVALID_ARN"]
        } else {
            vec!["MALFORMED"]
        };
    }
    MAP.iter()
        .find(|(c, _)| *c == code)
        .map(|(_, ids)| ids.to_vec())
        .unwrap_or_default()
}

#[test]
fn parliament_finding_ids() {
    let text =
        std::fs::read_to_string(corpus().join("parliament/derived-finding-id-cases.json")).unwrap();
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let reference = Reference::embedded();
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        let policy = case["policy"].as_str().unwrap();
        let test = case["test"].as_str().unwrap();
        let expected: BTreeSet<&str> = case["expected_finding_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let findings = lint(policy, LintType::Auto, reference);
        let ours: BTreeSet<&str> = findings
            .iter()
            .flat_map(|f| parliament_ids(f.code, &f.path))
            .collect();
        let missing: Vec<&str> = expected.difference(&ours).copied().collect();
        let extra: Vec<&str> = ours.difference(&expected).copied().collect();
        let explained = DIFFERENCES.iter().any(|(t, excerpt, m, e, _)| {
            *t == test
                && policy.contains(excerpt)
                && m == &missing.as_slice()
                && e == &extra.as_slice()
        });
        if (missing.is_empty() && extra.is_empty()) || explained {
            passed += 1;
        } else {
            failed += 1;
            eprintln!(
                "FAIL {test}: missing {missing:?}, extra {extra:?}; ours: {:?}",
                findings
                    .iter()
                    .map(|f| (f.code, f.path.as_str()))
                    .collect::<Vec<_>>()
            );
        }
    }
    eprintln!("parliament: {passed} passed, {failed} failed");
    assert_eq!((passed, failed), (46, 0));
}
