//! The review on accounts built for it (`tests/accounts/*.json`, in the shape that
//! `aws iam get-account-authorization-details` prints): one account per kind of edge, a chain
//! of three assumed roles, conditions that block a path or that the caller satisfies, a
//! boundary and explicit denies that stop paths, and a bucket policy naming outside
//! principals. Every answer is asserted whole: the principals, their paths and statements.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::path::Path;

use rolewright_iam::RequestContext;
use rolewright_review::{
    Access, AccessAnalysis, AccountSnapshot, CanAnswer, Finding, FindingKind, Query, StatementRef,
    Step, Via, WRITTEN_BY_PATH,
};

const ACCOUNT: &str = "111122223333";

fn snapshot(name: &str) -> AccountSnapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/accounts")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    AccountSnapshot::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn analysis(name: &str) -> AccessAnalysis {
    AccessAnalysis::new(&snapshot(name), &RequestContext::new())
}

fn user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

fn group(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:group/{name}")
}

fn step(via: Via, action: &str, resource: &str) -> Step {
    Step {
        via,
        action: action.into(),
        resource: resource.into(),
    }
}

fn statement(policy: &str, sid: Option<&str>, index: usize) -> StatementRef {
    StatementRef {
        policy: policy.into(),
        sid: sid.map(str::to_string),
        index,
    }
}

fn access(principal: &str, path: Vec<Step>, statements: Vec<StatementRef>) -> Access {
    Access {
        principal: principal.into(),
        direct: path.is_empty(),
        path,
        statements,
    }
}

fn vault_read() -> Query {
    Query::new("s3:GetObject", Some("arn:aws:s3:::vault/doc")).unwrap()
}

/// The statement of a policy-edit path's end: the policy the attacker writes.
fn written() -> Vec<StatementRef> {
    vec![statement(WRITTEN_BY_PATH, None, 0)]
}

#[test]
fn a_chain_of_three_assumed_roles_and_a_deny_and_a_boundary_that_stop_one() {
    let analysis = analysis("assume_chain");
    let read = vec![statement(
        &format!("{}#vault", role("hop3")),
        Some("ReadVault"),
        0,
    )];
    let assume = |name: &str| step(Via::AssumeRole, "sts:AssumeRole", &role(name));
    assert_eq!(
        analysis.who_can(&vault_read()),
        vec![
            access(&role("hop3"), vec![], read.clone()),
            access(
                &role("hop1"),
                vec![assume("hop2"), assume("hop3")],
                read.clone()
            ),
            access(&role("hop2"), vec![assume("hop3")], read.clone()),
            access(
                &user("alice"),
                vec![assume("hop1"), assume("hop2"), assume("hop3")],
                read.clone()
            ),
        ]
    );
    // `denied` may assume any role but hop1 and hop3; hop2 trusts only hop1.
    let denied = analysis.can("denied", &vault_read()).unwrap();
    assert_eq!(
        denied,
        CanAnswer {
            principal: user("denied"),
            can: false,
            path: vec![],
            statements: vec![],
        }
    );
    // `capped` may assume hop1, but its permissions boundary does not allow it.
    assert!(!analysis.can("capped", &vault_read()).unwrap().can);
    let alice = analysis.can(&user("alice"), &vault_read()).unwrap();
    assert_eq!(alice.path.len(), 3);
    assert!(alice.can);
}

#[test]
fn passing_a_role_to_sagemaker_with_the_conditions_its_policies_set() {
    let analysis = analysis("pass_role");
    let query = Query::new("s3:GetObject", Some("arn:aws:s3:::training-data/train.csv")).unwrap();
    let read = vec![statement(
        &format!("{}#data", role("sm-exec")),
        Some("ReadTrainingData"),
        0,
    )];
    // ds chooses the approved subnet and volume key its policy asks for; mlops deploys a
    // model (model, endpoint configuration and endpoint). ds-ec2-only may pass the role to
    // EC2 only, ds-mfa's processing jobs need MFA the session lacks, ds-model-only cannot
    // deploy its model; ec2-exec reads the data but SageMaker cannot assume it.
    assert_eq!(
        analysis.who_can(&query),
        vec![
            access(
                &role("ec2-exec"),
                vec![],
                vec![statement(&format!("{}#data", role("ec2-exec")), None, 0)]
            ),
            access(&role("sm-exec"), vec![], read.clone()),
            access(
                &user("ds"),
                vec![step(
                    Via::PassRole,
                    "sagemaker:CreateTrainingJob",
                    &role("sm-exec")
                )],
                read.clone()
            ),
            access(
                &user("mlops"),
                vec![step(
                    Via::PassRole,
                    "sagemaker:CreateModel",
                    &role("sm-exec")
                )],
                read.clone()
            ),
        ]
    );
    // With MFA in the session, ds-mfa's processing job runs as the role.
    let mut mfa = RequestContext::new();
    mfa.set("aws:MultiFactorAuthPresent", "true");
    let with_mfa = AccessAnalysis::new(&snapshot("pass_role"), &mfa);
    let answer = with_mfa.can("ds-mfa", &query).unwrap();
    assert_eq!(
        answer.path,
        vec![step(
            Via::PassRole,
            "sagemaker:CreateProcessingJob",
            &role("sm-exec")
        )]
    );
}

#[test]
fn a_condition_the_caller_cannot_meet_blocks_the_path() {
    let analysis = analysis("pass_role");
    let query = Query::new("s3:GetObject", Some("arn:aws:s3:::training-data/train.csv")).unwrap();
    for who in ["ds-mfa", "ds-ec2-only", "ds-model-only"] {
        let answer = analysis.can(who, &query).unwrap();
        assert!(!answer.can, "{who}: {answer:?}");
    }
}

#[test]
fn rewriting_permissions_of_oneself_a_group_a_policy_and_another_role() {
    let analysis = analysis("policy_edit");
    let edit = |action: &str, resource: &str| step(Via::PolicyEdit, action, resource);
    let versioner_policy = format!("arn:aws:iam::{ACCOUNT}:policy/versioner-policy");
    let rolled_back = format!("arn:aws:iam::{ACCOUNT}:policy/rolled-back");
    // `bounded` may write its own policy, but its boundary allows only that; `bounded-escaper`'s
    // boundary lets it remove the boundary too. `attacher-limited` may attach ReadOnlyAccess only.
    assert_eq!(
        analysis.who_can(&vault_read()),
        vec![
            access(
                &role("attacher"),
                vec![edit("iam:AttachRolePolicy", &role("attacher"))],
                written()
            ),
            access(
                &role("bounded-escaper"),
                vec![
                    edit("iam:PutRolePolicy", &role("bounded-escaper")),
                    edit(
                        "iam:DeleteRolePermissionsBoundary",
                        &role("bounded-escaper")
                    ),
                ],
                written()
            ),
            access(
                &user("group-editor"),
                vec![edit("iam:PutGroupPolicy", &group("devs"))],
                written()
            ),
            access(
                &user("other-editor"),
                vec![
                    edit("iam:PutRolePolicy", &role("target")),
                    step(Via::AssumeRole, "sts:AssumeRole", &role("target")),
                ],
                written()
            ),
            access(
                &user("rollbacker"),
                vec![edit("iam:SetDefaultPolicyVersion", &rolled_back)],
                vec![statement(
                    &format!("{rolled_back}#other-versions"),
                    Some("OldGrant"),
                    0
                )]
            ),
            access(
                &user("self-editor"),
                vec![edit("iam:PutUserPolicy", &user("self-editor"))],
                written()
            ),
            access(
                &user("versioner"),
                vec![edit("iam:CreatePolicyVersion", &versioner_policy)],
                written()
            ),
        ]
    );
    let bounded = analysis.can("bounded", &vault_read()).unwrap();
    assert!(!bounded.can);
}

#[test]
fn rewriting_a_trust_policy_unless_a_deny_forbids_assuming() {
    let analysis = analysis("trust_edit");
    assert_eq!(
        analysis.who_can(&vault_read()),
        vec![
            access(
                &role("locked"),
                vec![],
                vec![statement(
                    &format!("{}#vault", role("locked")),
                    Some("ReadVault"),
                    0
                )]
            ),
            access(
                &user("trust-editor"),
                vec![step(
                    Via::TrustEdit,
                    "iam:UpdateAssumeRolePolicy",
                    &role("locked")
                )],
                vec![statement(
                    &format!("{}#vault", role("locked")),
                    Some("ReadVault"),
                    0
                )]
            ),
        ]
    );
}

#[test]
fn joining_a_group_in_an_export_with_url_encoded_documents() {
    let analysis = analysis("group_membership");
    assert_eq!(
        analysis.access_review(),
        vec![
            Finding {
                principal: user("joiner"),
                finding: FindingKind::CanBecomeAdministrator,
                path: vec![step(
                    Via::GroupMembership,
                    "iam:AddUserToGroup",
                    &group("admins")
                )],
            },
            Finding {
                principal: user("member"),
                finding: FindingKind::Administrator,
                path: vec![],
            },
        ]
    );
    let joined = analysis.can("joiner", &vault_read()).unwrap();
    assert_eq!(
        joined.statements,
        vec![statement(
            "arn:aws:iam::aws:policy/AdministratorAccess",
            None,
            0
        )]
    );
}

#[test]
fn new_credentials_for_another_user() {
    let analysis = analysis("credentials");
    let read = vec![statement(
        &format!("{}#vault", user("dba")),
        Some("ReadVault"),
        0,
    )];
    assert_eq!(
        analysis.who_can(&vault_read()),
        vec![
            access(&user("dba"), vec![], read.clone()),
            access(
                &user("helpdesk"),
                vec![step(Via::Credentials, "iam:CreateAccessKey", &user("dba"))],
                read.clone()
            ),
            access(
                &user("password-reset"),
                vec![step(
                    Via::Credentials,
                    "iam:UpdateLoginProfile",
                    &user("dba")
                )],
                read.clone()
            ),
        ]
    );
}

#[test]
fn the_access_review_of_the_policy_edit_account() {
    let analysis = analysis("policy_edit");
    let edit = |action: &str, resource: &str| step(Via::PolicyEdit, action, resource);
    let finding = |principal: String, path: Vec<Step>| Finding {
        principal,
        finding: FindingKind::CanBecomeAdministrator,
        path,
    };
    assert_eq!(
        analysis.access_review(),
        vec![
            finding(
                role("attacher"),
                vec![edit("iam:AttachRolePolicy", &role("attacher"))]
            ),
            finding(
                role("bounded-escaper"),
                vec![
                    edit("iam:PutRolePolicy", &role("bounded-escaper")),
                    edit(
                        "iam:DeleteRolePermissionsBoundary",
                        &role("bounded-escaper")
                    ),
                ]
            ),
            finding(
                user("group-editor"),
                vec![edit("iam:PutGroupPolicy", &group("devs"))]
            ),
            finding(
                user("other-editor"),
                vec![
                    edit("iam:PutRolePolicy", &role("target")),
                    step(Via::AssumeRole, "sts:AssumeRole", &role("target")),
                ]
            ),
            finding(
                user("self-editor"),
                vec![edit("iam:PutUserPolicy", &user("self-editor"))]
            ),
            finding(
                user("versioner"),
                vec![edit(
                    "iam:CreatePolicyVersion",
                    &format!("arn:aws:iam::{ACCOUNT}:policy/versioner-policy")
                )]
            ),
        ]
    );
}

#[test]
fn a_bucket_policy_lists_outside_accounts_and_services_as_direct() {
    let mut snapshot = snapshot("assume_chain");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/accounts/vault_bucket_policy.json"),
    )
    .unwrap();
    snapshot
        .add_resource_policy("arn:aws:s3:::vault", &text)
        .unwrap();
    let analysis = AccessAnalysis::new(&snapshot, &RequestContext::new());
    let who: Vec<(String, bool, usize)> = analysis
        .who_can(&vault_read())
        .into_iter()
        .map(|a| (a.principal, a.direct, a.path.len()))
        .collect();
    let policy = "arn:aws:s3:::vault#resource-policy";
    assert_eq!(
        who,
        vec![
            (role("hop3"), true, 0),
            (user("bob"), true, 0),
            ("arn:aws:iam::444455556666:root".to_string(), true, 0),
            ("cloudtrail.amazonaws.com".to_string(), true, 0),
            (role("hop1"), false, 2),
            (role("hop2"), false, 1),
            (user("alice"), false, 3),
        ]
    );
    let bob = analysis.can("bob", &vault_read()).unwrap();
    assert_eq!(bob.statements, vec![statement(policy, Some("Bob"), 2)]);
}

#[test]
fn questions_about_what_the_snapshot_lacks_are_errors_that_say_so() {
    let analysis = analysis("assume_chain");
    assert_eq!(
        analysis
            .can("carol", &vault_read())
            .unwrap_err()
            .to_string(),
        "no user or role `carol` in the account snapshot; give a user or role ARN (or `user/NAME`, `role/NAME`) from the snapshot"
    );
    assert_eq!(
        Query::new("s3:GetObject", Some("vault/doc"))
            .unwrap_err()
            .to_string(),
        "resource `vault/doc` must be an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`) or `*`"
    );
    assert_eq!(
        Query::new("s3:Get*", None).unwrap_err().to_string(),
        "action `s3:Get*` has a wildcard; ask about one action at a time"
    );
    assert_eq!(
        Query::new("GetObject", None).unwrap_err().to_string(),
        "action `GetObject` must be `service:Action`, such as `sagemaker:CreateTrainingJob`"
    );
}
