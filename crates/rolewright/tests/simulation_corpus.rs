//! The 56 wildcard-resource simulations of the iam-simulate corpus
//! (`../shared/conformance/iam-simulate/simulation`), read at run time. Each simulation is turned
//! into an engine case, decided with the service data telling which actions are wildcard-only,
//! and its overall result compared. The per-pattern breakdown that those cases also list, and
//! their Discovery mode, are iam-simulate's own report formats and are not compared.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness fails by panicking"
)]

#[path = "../../../tests/support/corpus.rs"]
mod support;

use rolewright_iam::case::{CaseResult, EngineCase};
use rolewright_reference::Reference;
use serde_json::{Value, json};
use support::{corpus, json_files};

/// `[{name, policy}]` → `[policy]`.
fn unwrap(list: &Value) -> Value {
    Value::Array(
        list.as_array()
            .into_iter()
            .flatten()
            .map(|p| p["policy"].clone())
            .collect(),
    )
}

fn levels(list: &Value) -> Value {
    Value::Array(
        list.as_array()
            .into_iter()
            .flatten()
            .map(|l| json!({"orgIdentifier": l["orgIdentifier"], "policies": unwrap(&l["policies"])}))
            .collect(),
    )
}

fn to_case(name: &str, sim: &Value, expected: &Value, options: &Value) -> EngineCase {
    let request = &sim["request"];
    let mut case = json!({
        "name": name,
        "request": {
            "principal": request["principal"],
            "action": request["action"],
            "resource": request["resource"],
            "context": request["contextVariables"],
        },
        "identityPolicies": unwrap(&sim["identityPolicies"]),
        "expected": {"response": expected["overallResult"]},
    });
    if options["simulationMode"] == "Discovery" {
        case["simulation"] = json!({"mode": "Discovery"});
    }
    if !sim["resourcePolicy"].is_null() && sim.get("resourcePolicy").is_some() {
        case["resourcePolicy"] = sim["resourcePolicy"].clone();
    }
    if let Some(pb) = sim.get("permissionBoundaryPolicies") {
        case["permissionBoundaries"] = unwrap(pb);
    }
    if let Some(scps) = sim
        .get("serviceControlPolicies")
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    {
        case["serviceControlPolicies"] = levels(scps);
    }
    if let Some(rcps) = sim
        .get("resourceControlPolicies")
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    {
        case["resourceControlPolicies"] = levels(rcps);
    }
    serde_json::from_value(case).unwrap()
}

#[test]
fn iam_simulate_wildcard_simulations_overall_result() {
    let paths = json_files(&corpus().join("iam-simulate/simulation"));
    let reference = Reference::embedded();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for path in &paths {
        let cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for c in &cases {
            let name = c["name"].as_str().unwrap();
            let case = to_case(
                name,
                &c["simulation"],
                &c["expected"],
                &c["simulationOptions"],
            );
            match case.run_with(Some(reference)) {
                // These cases list no blockedBy: only the decision is compared.
                CaseResult::Decided { outcome, .. }
                    if c["expected"]["overallResult"] == outcome.as_str() =>
                {
                    passed += 1
                }
                CaseResult::Skipped => skipped += 1,
                other => {
                    failed += 1;
                    eprintln!(
                        "FAIL {} :: {name} => {other:?}, expected {}",
                        path.display(),
                        c["expected"]["overallResult"]
                    );
                }
            }
        }
    }
    eprintln!(
        "iam-simulate wildcard simulations (overall result): {passed} passed, {failed} failed, {skipped} skipped"
    );
    assert_eq!(passed + failed + skipped, 56);
    // The figure reached when this harness was written; raise it as the engine learns more.
    assert!(passed >= MINIMUM, "{passed} passed, fewer than {MINIMUM}");
}

/// Still failing: a shortened `arn:aws:sqs` Resource in a resource policy, which iam-simulate does
/// not count as reaching the request (in an identity policy it does).
const MINIMUM: usize = 52;
