//! Every operation of every service table is driven by an end-to-end test in `tests/e2e/`
//! (boto3's snake_case method or botocore's operation name in `test_botocore_parse`, the AWS
//! CLI's kebab-case command, or a raw `Action=`/target).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail by panicking"
)]

use std::path::PathBuf;

fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let after_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
            let acronym_end = i > 0
                && chars[i - 1].is_ascii_uppercase()
                && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if after_lower || acronym_end {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

#[test]
fn snake_case_follows_botocore() {
    assert_eq!(snake("CreateUser"), "create_user");
    assert_eq!(
        snake("CreatePresignedDomainUrl"),
        "create_presigned_domain_url"
    );
    assert_eq!(
        snake("EnableSagemakerServicecatalogPortfolio"),
        "enable_sagemaker_servicecatalog_portfolio"
    );
    assert_eq!(snake("ListEntitiesForPolicy"), "list_entities_for_policy");
}

/// The names in run.py's `MODULES = [...]` list.
fn ci_modules(run_py: &str) -> Vec<String> {
    let start = run_py.find("MODULES = [").expect("run.py lists MODULES") + "MODULES = [".len();
    let end = start + run_py[start..].find(']').expect("MODULES ends");
    run_py[start..end]
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn only_the_modules_ci_runs_count() {
    let modules =
        ci_modules("MODULES = [\"test_a\", \"test_b\",\n  \"test_c\"]\nPENDING = [\"test_d\"]");
    assert_eq!(modules, ["test_a", "test_b", "test_c"]);
}

#[test]
fn every_operation_has_an_end_to_end_test() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
    // Only the modules CI runs count (run.py's MODULES, not its PENDING acceptance tests); the
    // harness holds shared steps.
    let mut text = std::fs::read_to_string(dir.join("harness.py")).unwrap();
    for module in ci_modules(&std::fs::read_to_string(dir.join("run.py")).unwrap()) {
        text.push_str(&std::fs::read_to_string(dir.join(format!("{module}.py"))).unwrap());
    }
    let mut missing = Vec::new();
    for service in rolewright_server::operation::SERVICES {
        for op in service.operations {
            let method = snake(op.name);
            let forms = [
                format!(".{method}("),
                format!("{} {}", service.name, method.replace('_', "-")),
                format!("Action={}", op.name),
                format!("\"Action\": \"{}\"", op.name),
                // test_botocore_parse: `self.call(client, "Op", ...)` and its shorthand `c("Op", ...)`.
                format!("c(\"{}\"", op.name),
                format!("call(self.{}, \"{}\"", service.name, op.name),
                format!("SageMaker.{}\"", op.name),
                format!("AWS242ServiceCatalogService.{}\"", op.name),
            ];
            if !forms.iter().any(|f| text.contains(f.as_str())) {
                missing.push(format!("{}:{}", service.name, op.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} operations have no end-to-end test in tests/e2e/: {}",
        missing.len(),
        missing.join(", ")
    );
}
