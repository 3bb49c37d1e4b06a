//! `rolewright serve` driven by real AWS clients (boto3 and the AWS CLI): runs one module of
//! `tests/e2e/run.py` per test against this build's binary.
//!
//! The Python comes from `ROLEWRIGHT_PYTHON`, else `<workspace>/target/ci-venv/bin/python`, which
//! must have boto3 and awscli. When that venv is missing (a fresh clone), the first test creates
//! it: `python3 -m venv target/ci-venv && target/ci-venv/bin/pip install boto3 awscli`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::path::PathBuf;
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    match std::env::var_os("ROLEWRIGHT_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => {
            let venv = workspace().join("target/ci-venv");
            let python = venv.join("bin/python");
            static PROVISION: std::sync::Once = std::sync::Once::new();
            PROVISION.call_once(|| provision(&venv, &python));
            python
        }
    }
}

/// Creates the venv with boto3 and the AWS CLI when it lacks them (a fresh clone).
fn provision(venv: &std::path::Path, python: &std::path::Path) {
    let ready = Command::new(python)
        .args(["-c", "import boto3, awscli"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ready {
        return;
    }
    eprintln!("creating {} with boto3 and awscli", venv.display());
    let created = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(venv)
        .status()
        .is_ok_and(|s| s.success());
    let installed = created
        && Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "boto3",
                "awscli",
            ])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        installed,
        "could not create {} with boto3 and awscli; create it by hand: python3 -m venv \
         target/ci-venv && target/ci-venv/bin/pip install boto3 awscli",
        venv.display()
    );
}

/// Runs `tests/e2e/run.py MODULE` and fails with its whole output unless every test passed.
fn run_module(module: &str) {
    run_modules(&[module], &[]);
}

/// Runs `tests/e2e/run.py MODULES` (every module when empty) with `vars` set, and fails with
/// its whole output unless every test passed.
fn run_modules(modules: &[&str], vars: &[(&str, &str)]) {
    let module = if modules.is_empty() {
        "(every module)".to_string()
    } else {
        modules.join(" ")
    };
    let python = python();
    assert!(
        python.exists(),
        "no Python with boto3 and the AWS CLI at {} (set ROLEWRIGHT_PYTHON, or create it: \
         python3 -m venv target/ci-venv && target/ci-venv/bin/pip install boto3 awscli)",
        python.display()
    );
    let out = Command::new(&python)
        .arg(workspace().join("tests/e2e/run.py"))
        .args(modules)
        .env("ROLEWRIGHT_BIN", env!("CARGO_BIN_EXE_rolewright"))
        .env("NO_COLOR", "1")
        .envs(vars.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tests/e2e/run.py {module} failed ({}):\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}",
        out.status
    );
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.ends_with(" 0 failed")),
        "unexpected summary from tests/e2e/run.py {module}:\n{stdout}"
    );
}

#[test]
fn iam_through_boto3() {
    run_module("test_iam_boto3");
}

#[test]
fn sts_and_authorization_through_boto3() {
    run_module("test_sts_authz");
}

#[test]
fn aws_cli() {
    run_module("test_cli");
}

#[test]
fn query_protocol_and_sigv4_on_the_wire() {
    run_module("test_protocol");
}

#[test]
fn a_thousand_malformed_requests() {
    run_module("test_malformed");
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    run_module("test_crash");
}

#[test]
fn audit_log() {
    run_module("test_audit");
}

#[test]
fn permissions_change_the_moment_the_stored_state_does() {
    run_module("test_permissions_change");
}

#[test]
fn a_refused_commit_leaves_nothing_visible_and_the_store_recovers() {
    run_module("test_store_faults");
}

#[test]
fn sagemaker_studio_through_boto3() {
    run_module("test_sagemaker");
}

#[test]
fn service_catalog_through_boto3() {
    run_module("test_servicecatalog");
}

#[test]
fn service_catalog_over_rpc_v2_cbor_through_botocore() {
    run_module("test_servicecatalog_cbor");
}

#[test]
fn every_response_parses_in_botocore_and_conforms_to_its_shape() {
    run_module("test_botocore_parse");
}

#[test]
fn the_seed_flows_role_manager_to_studio_and_jumpstart_for_custom_roles() {
    run_module("test_seed_flows");
}

#[test]
fn cloudformation_stacks_of_iam_resources_through_boto3_and_the_aws_cli() {
    run_module("test_cloudformation_api");
}

#[test]
fn a_role_new_template_deployed_updated_and_deleted_with_aws_cloudformation_deploy() {
    run_module("test_cloudformation");
}

#[test]
fn seed_002_studio_provisioned_through_service_catalog_as_the_launch_role() {
    run_module("test_provisioning");
}

#[test]
fn two_replicas_sharing_postgresql_through_boto3() {
    run_module("test_replicas");
}

#[test]
fn a_single_node_moved_into_postgresql_with_rolewright_migrate() {
    run_module("test_migrate");
}

#[test]
fn role_trim_narrows_pass_role_to_the_roles_passed() {
    run_module("test_trim_passrole");
}

/// The whole suite again, each server being two replicas sharing one PostgreSQL database behind
/// a proxy that sends each request to the next (`E2E_DATABASE=postgres`, tests/e2e/harness.py);
/// the tests about SQLite's files skip themselves.
#[test]
fn the_whole_suite_on_two_replicas_sharing_postgresql() {
    if rolewright_pgtest::bin_dir().is_none() && std::env::var_os("CI").is_none() {
        eprintln!(
            "\n*** SKIPPED the_whole_suite_on_two_replicas_sharing_postgresql: PostgreSQL is not \
             installed here (apt-get install -y postgresql); replicas are NOT tested ***\n"
        );
        return;
    }
    run_modules(&[], &[("E2E_DATABASE", "postgres")]);
}
