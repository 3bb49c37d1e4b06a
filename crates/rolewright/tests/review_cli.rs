//! `rolewright who-can`, `can` and `access-review`: on the review crate's test accounts (files in
//! the shape `aws iam get-account-authorization-details` prints) and on a real
//! `rolewright serve`; their JSON lines, exit codes and error messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use rolewright_client::{AwsClient, Environment, IAM_VERSION, Overrides, resolve};
use serde_json::{Value, json};

use common::{rolewright, stderr, stdout};

fn account(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../rolewright-review/tests/accounts")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("`{l}`: {e}")))
        .collect()
}

const A: &str = "arn:aws:iam::111122223333";

#[test]
fn who_can_prints_one_json_object_per_principal() {
    let chain = account("assume_chain.json");
    let bucket = format!("arn:aws:s3:::vault={}", account("vault_bucket_policy.json"));
    let out = rolewright(&[
        "who-can",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::vault/doc",
        "--account-details",
        &chain,
        "--resource-policy",
        &bucket,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let read = json!([{"policy": format!("{A}:role/hop3#vault"), "sid": "ReadVault", "index": 0}]);
    let assume = |role: &str| json!({"via": "assume-role", "action": "sts:AssumeRole", "resource": format!("{A}:role/{role}")});
    assert_eq!(
        lines(&out),
        vec![
            json!({"principal": format!("{A}:role/hop3"), "direct": true, "path": [], "statements": read}),
            json!({"principal": format!("{A}:user/bob"), "direct": true, "path": [],
                "statements": [{"policy": "arn:aws:s3:::vault#resource-policy", "sid": "Bob", "index": 2}]}),
            json!({"principal": "arn:aws:iam::444455556666:root", "direct": true, "path": [],
                "statements": [{"policy": "arn:aws:s3:::vault#resource-policy", "sid": "Partner", "index": 0}]}),
            json!({"principal": "cloudtrail.amazonaws.com", "direct": true, "path": [],
                "statements": [{"policy": "arn:aws:s3:::vault#resource-policy", "sid": "Logs", "index": 1}]}),
            json!({"principal": format!("{A}:role/hop1"), "direct": false,
                "path": [assume("hop2"), assume("hop3")], "statements": read}),
            json!({"principal": format!("{A}:role/hop2"), "direct": false,
                "path": [assume("hop3")], "statements": read}),
            json!({"principal": format!("{A}:user/alice"), "direct": false,
                "path": [assume("hop1"), assume("hop2"), assume("hop3")], "statements": read}),
        ]
    );
}

#[test]
fn who_can_with_a_session_context_finds_the_path_it_opens() {
    let pass = account("pass_role.json");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "who-can",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::training-data/x",
            "--account-details",
            &pass,
            "--format",
            "text",
        ];
        args.extend_from_slice(extra);
        rolewright(&args)
    };
    let without = stdout(&run(&[]));
    assert!(!without.contains("user/ds-mfa"), "{without}");
    let with = run(&["--context", "aws:MultiFactorAuthPresent=true"]);
    assert_eq!(with.status.code(), Some(0));
    let text = stdout(&with);
    assert!(
        text.starts_with(
            "s3:GetObject on arn:aws:s3:::training-data/x: 5 principals can (2 directly, 3 through a path)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{A}:user/ds-mfa  through 1 step\n  1. pass-role  sagemaker:CreateProcessingJob on {A}:role/sm-exec\n  allowed by {A}:role/sm-exec#data, statement 0 (Sid `ReadTrainingData`)\n"
        )),
        "{text}"
    );
}

#[test]
fn can_exits_0_when_it_can_and_2_when_it_cannot() {
    let trust = account("trust_edit.json");
    let ask = |who: &str| {
        rolewright(&[
            "can",
            who,
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::vault/doc",
            "--account-details",
            &trust,
            "--format",
            "json",
        ])
    };
    let yes = ask("trust-editor");
    assert_eq!(yes.status.code(), Some(0), "{}", stderr(&yes));
    assert_eq!(
        lines(&yes),
        vec![
            json!({"principal": format!("{A}:user/trust-editor"), "can": true,
            "path": [{"via": "trust-edit", "action": "iam:UpdateAssumeRolePolicy",
                "resource": format!("{A}:role/locked")}],
            "statements": [{"policy": format!("{A}:role/locked#vault"), "sid": "ReadVault", "index": 0}]})
        ]
    );
    let no = ask(&format!("{A}:user/trust-editor-denied"));
    assert_eq!(no.status.code(), Some(2));
    assert_eq!(
        lines(&no),
        vec![
            json!({"principal": format!("{A}:user/trust-editor-denied"), "can": false,
            "path": [], "statements": []})
        ]
    );
}

#[test]
fn access_review_lists_administrators_and_who_can_become_one() {
    let out = rolewright(&[
        "access-review",
        "--account-details",
        &account("group_membership.json"),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        lines(&out),
        vec![
            json!({"principal": format!("{A}:user/joiner"), "finding": "can-become-administrator",
                "path": [{"via": "group-membership", "action": "iam:AddUserToGroup",
                    "resource": format!("{A}:group/admins")}]}),
            json!({"principal": format!("{A}:user/member"), "finding": "administrator", "path": []}),
        ]
    );
}

#[test]
fn bad_input_is_an_error_that_says_what_is_wrong() {
    let dir = common::scratch("review-errors");
    let chain = account("assume_chain.json");
    let not_details = common::write(&dir, "list-roles.json", r#"{"Roles": 3}"#);
    let broken = common::write(&dir, "broken.json", "{\n  \"RoleDetailList\": [\n");
    let bad_policy = common::write(
        &dir,
        "policy.json",
        r#"{"Statement": [{"Effect": "allow"}]}"#,
    );
    let missing = dir.join("missing.json").to_string_lossy().into_owned();
    let vault_bad = format!("arn:aws:s3:::vault={bad_policy}");
    let cases: Vec<(Vec<&str>, i32, String)> = vec![
        (
            vec!["access-review", "--account-details", &missing],
            1,
            format!("error: cannot read `{missing}`: No such file or directory (os error 2)\n"),
        ),
        (
            vec!["access-review", "--account-details", &broken],
            3,
            format!(
                "error: `{broken}`: not the output of `aws iam get-account-authorization-details`: EOF while parsing a list (line 3, column 0)\n"
            ),
        ),
        (
            vec!["who-can", "s3:GetObject", "--account-details", &not_details],
            3,
            format!(
                "error: `{not_details}`: not the output of `aws iam get-account-authorization-details`: it has none of `UserDetailList`, `GroupDetailList`, `RoleDetailList` and `Policies` (line 1, column 1)\n"
            ),
        ),
        (
            vec!["who-can", "s3:GetObject", "--resource", "ml-data", "--account-details", &chain],
            3,
            "error: resource `ml-data` must be an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`) or `*`\n".into(),
        ),
        (
            vec!["who-can", "sagemaker:CreateTrainingJobs", "--account-details", &chain],
            3,
            "error: unknown action `sagemaker:CreateTrainingJobs`; did you mean `sagemaker:CreateTrainingJob`?\n".into(),
        ),
        (
            vec!["can", "carol", "s3:GetObject", "--account-details", &chain],
            3,
            "error: no user or role `carol` in the account snapshot; give a user or role ARN (or `user/NAME`, `role/NAME`) from the snapshot\n".into(),
        ),
        (
            vec!["who-can", "s3:GetObject", "--account-details", &chain, "--resource-policy", &bad_policy],
            3,
            format!(
                "error: resource policy `{bad_policy}` must be `ARN=FILE`, such as `arn:aws:s3:::ml-data=bucket-policy.json`\n"
            ),
        ),
        (
            vec![
                "who-can",
                "s3:GetObject",
                "--account-details",
                &chain,
                "--resource-policy",
                &vault_bad,
            ],
            3,
            format!(
                "error: `{bad_policy}`: resource `arn:aws:s3:::vault`: resource policy: `Effect` must be exactly `Allow` or `Deny`, found `allow` at `Statement[0].Effect` (line 1, column 27)\n"
            ),
        ),
        (
            vec!["who-can", "s3:GetObject", "--account-details", &chain, "--context", "aws:SourceIp"],
            3,
            "error: context `aws:SourceIp` must be `KEY=VALUE`, such as `aws:SourceIp=10.0.0.1`\n".into(),
        ),
    ];
    for (args, code, message) in cases {
        let out = rolewright(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), message, "{args:?}");
    }
}

/// A `rolewright serve` on a free port with a fresh data directory, stopped on drop.
struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    url: String,
    dir: PathBuf,
}

impl Server {
    fn start() -> Server {
        let dir = common::scratch("review-serve");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rolewright"))
            .args(["serve", "--data-dir"])
            .arg(&dir)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rolewright serve starts");
        let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        out.read_line(&mut line)
            .expect("the server prints its address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line `{line}`"))
            .to_string();
        Server {
            child,
            _stdout: out,
            url,
            dir,
        }
    }

    fn env(&self) -> Vec<(&'static str, Option<String>)> {
        let path = |name: &str| Some(self.dir.join(name).to_string_lossy().into_owned());
        vec![
            ("AWS_ENDPOINT_URL", Some(self.url.clone())),
            ("AWS_SHARED_CREDENTIALS_FILE", path("credentials")),
            ("AWS_PROFILE", Some("rolewright".into())),
            ("AWS_REGION", Some("us-east-1".into())),
            ("AWS_CONFIG_FILE", path("no-config")),
            ("HOME", path("")),
            ("AWS_DEFAULT_REGION", None),
            ("AWS_ACCESS_KEY_ID", None),
            ("AWS_SECRET_ACCESS_KEY", None),
            ("AWS_SESSION_TOKEN", None),
        ]
    }

    fn admin(&self) -> AwsClient {
        let env = Environment::from_pairs(
            self.env()
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
        );
        AwsClient::new(resolve(&Overrides::default(), &env).expect("config"), 2)
    }

    fn run(&self, args: &[&str]) -> Output {
        let vars = self.env();
        let borrowed: Vec<(&str, Option<&str>)> =
            vars.iter().map(|(k, v)| (*k, v.as_deref())).collect();
        common::rolewright_with_env(args, &borrowed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_account_is_read_from_a_running_control_plane() {
    let server = Server::start();
    let admin = server.admin();
    let iam = |action: &str, params: &[(&str, &str)]| {
        admin
            .query_call("iam", action, IAM_VERSION, params)
            .unwrap_or_else(|e| panic!("{action}: {e}"))
    };
    iam(
        "CreateRole",
        &[
            ("RoleName", "trainer"),
            (
                "AssumeRolePolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            ),
        ],
    );
    iam(
        "PutRolePolicy",
        &[
            ("RoleName", "trainer"),
            ("PolicyName", "data"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"Data","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::ml-data/*"}]}"#,
            ),
        ],
    );
    iam("CreateUser", &[("UserName", "ds")]);
    iam(
        "PutUserPolicy",
        &[
            ("UserName", "ds"),
            ("PolicyName", "ds"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/trainer","Condition":{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}},{"Effect":"Allow","Action":"sagemaker:CreateTrainingJob","Resource":"*"}]}"#,
            ),
        ],
    );
    let out = server.run(&[
        "can",
        "ds",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::ml-data/train.csv",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        lines(&out),
        vec![
            json!({"principal": "arn:aws:iam::123456789012:user/ds", "can": true,
            "path": [{"via": "pass-role", "action": "sagemaker:CreateTrainingJob",
                "resource": "arn:aws:iam::123456789012:role/trainer"}],
            "statements": [{"policy": "arn:aws:iam::123456789012:role/trainer#data", "sid": "Data", "index": 0}]})
        ]
    );
    let review = server.run(&["access-review", "--format", "json"]);
    assert_eq!(
        lines(&review),
        vec![json!({"principal": "arn:aws:iam::123456789012:user/admin",
            "finding": "administrator", "path": []})]
    );
    // A user without iam:GetAccountAuthorizationDetails is told so.
    let keys = iam("CreateAccessKey", &[("UserName", "ds")]);
    let id = rolewright_client::xml::first_text(&keys, "AccessKeyId").unwrap();
    let secret = rolewright_client::xml::first_text(&keys, "SecretAccessKey").unwrap();
    let mut vars = server.env();
    vars.retain(|(k, _)| *k != "AWS_PROFILE" && *k != "AWS_SHARED_CREDENTIALS_FILE");
    vars.push(("AWS_ACCESS_KEY_ID", Some(id)));
    vars.push(("AWS_SECRET_ACCESS_KEY", Some(secret)));
    vars.push((
        "AWS_SHARED_CREDENTIALS_FILE",
        Some(server.dir.join("none").to_string_lossy().into_owned()),
    ));
    let borrowed: Vec<(&str, Option<&str>)> =
        vars.iter().map(|(k, v)| (*k, v.as_deref())).collect();
    let denied = common::rolewright_with_env(&["access-review"], &borrowed);
    assert_eq!(denied.status.code(), Some(1));
    let message = stderr(&denied);
    assert!(
        message.starts_with("error: cannot read the account: ")
            && message.contains("iam:GetAccountAuthorizationDetails")
            && message.ends_with("(give `--account-details FILE` to read a file instead)\n"),
        "{message}"
    );
}
