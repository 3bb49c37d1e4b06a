//! `rolewright jumpstart status|enable` against a real `rolewright serve`: domains and users
//! made with rolewright-client, the command run with the standard AWS configuration (variables
//! and flags), its reports and its exit codes.
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
use std::time::Instant;

use rolewright_client::{
    AwsClient, Environment, IAM_VERSION, Overrides, SAGEMAKER_TARGET, resolve, xml,
};
use serde_json::{Value, json};

use common::{stderr, stdout};

/// A `rolewright serve` on a free port with a fresh data directory, stopped on drop.
struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    url: String,
    dir: PathBuf,
}

impl Server {
    fn start(name: &str) -> Server {
        let dir = common::scratch(&format!("jumpstart-{name}"));
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

    fn credentials_file(&self) -> String {
        self.dir.join("credentials").to_string_lossy().into_owned()
    }

    /// The environment of a command run as the bootstrap administrator through variables.
    fn env(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("AWS_ENDPOINT_URL", Some(self.url.clone())),
            ("AWS_SHARED_CREDENTIALS_FILE", Some(self.credentials_file())),
            ("AWS_PROFILE", Some("rolewright".into())),
            ("AWS_REGION", Some("us-east-1".into())),
            (
                "AWS_CONFIG_FILE",
                Some(self.dir.join("no-config").to_string_lossy().into_owned()),
            ),
            ("HOME", Some(self.dir.to_string_lossy().into_owned())),
            ("AWS_DEFAULT_REGION", None),
            ("AWS_ACCESS_KEY_ID", None),
            ("AWS_SECRET_ACCESS_KEY", None),
            ("AWS_SESSION_TOKEN", None),
        ]
    }

    /// A client as the bootstrap administrator.
    fn admin(&self) -> AwsClient {
        let env = Environment::from_pairs(
            self.env()
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
        );
        AwsClient::new(
            resolve(&Overrides::default(), &env).expect("admin config"),
            8,
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Runs `rolewright` with this server's environment, changed by `extra`.
    fn run_with(&self, args: &[&str], extra: &[(&'static str, Option<String>)]) -> Output {
        let mut vars = self.env();
        for (k, v) in extra {
            vars.retain(|(name, _)| name != k);
            vars.push((k, v.clone()));
        }
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

fn sagemaker(client: &AwsClient, op: &str, input: Value) -> Value {
    client
        .json_call("sagemaker", SAGEMAKER_TARGET, op, &input)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn iam(client: &AwsClient, action: &str, params: &[(&str, &str)]) -> String {
    client
        .query_call("iam", action, IAM_VERSION, params)
        .unwrap_or_else(|e| panic!("{e}"))
}

const SAGEMAKER_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn create_role(client: &AwsClient, name: &str) -> String {
    let body = iam(
        client,
        "CreateRole",
        &[
            ("RoleName", name),
            ("AssumeRolePolicyDocument", SAGEMAKER_TRUST),
        ],
    );
    xml::first_text(&body, "Arn").expect("CreateRole gives the ARN")
}

fn create_domain(client: &AwsClient, name: &str, role: &str) -> String {
    let out = sagemaker(
        client,
        "CreateDomain",
        json!({
            "DomainName": name,
            "AuthMode": "IAM",
            "DefaultUserSettings": {"ExecutionRole": role},
            "SubnetIds": ["subnet-0123456789abcdef0"],
            "VpcId": "vpc-0123456789abcdef0",
        }),
    );
    let arn = out["DomainArn"].as_str().expect("DomainArn");
    arn.rsplit('/').next().expect("domain id").to_string()
}

fn create_user(client: &AwsClient, domain: &str, name: &str, settings: Value) {
    let mut input = json!({"DomainId": domain, "UserProfileName": name});
    if settings != Value::Null {
        input["UserSettings"] = settings;
    }
    sagemaker(client, "CreateUserProfile", input);
}

/// A domain whose default role is DomainRole, with alice (CustomA), bob (the domain's role),
/// carol (CustomA, JumpStart hidden) and dave (CustomB).
struct Team {
    domain: String,
    domain_role: String,
    custom_a: String,
    custom_b: String,
}

fn team(server: &Server) -> Team {
    let admin = server.admin();
    let domain_role = create_role(&admin, "DomainRole");
    let custom_a = create_role(&admin, "CustomA");
    let custom_b = create_role(&admin, "CustomB");
    let domain = create_domain(&admin, "team", &domain_role);
    create_user(&admin, &domain, "alice", json!({"ExecutionRole": custom_a}));
    create_user(&admin, &domain, "bob", Value::Null);
    create_user(
        &admin,
        &domain,
        "carol",
        json!({
            "ExecutionRole": custom_a,
            "StudioWebPortalSettings": {"HiddenMlTools": ["JumpStart"]},
        }),
    );
    create_user(&admin, &domain, "dave", json!({"ExecutionRole": custom_b}));
    Team {
        domain,
        domain_role,
        custom_a,
        custom_b,
    }
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(out)))
}

fn codes(user: &Value) -> Vec<String> {
    user["missing"]
        .as_array()
        .expect("missing is a list")
        .iter()
        .map(|m| m["code"].as_str().expect("code").to_string())
        .collect()
}

fn user<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("no user {name} in {status:#}"))
}

#[test]
fn status_on_a_fresh_domain_names_every_missing_condition() {
    let server = Server::start("fresh");
    let t = team(&server);
    let status = json_of(&server.run(&[
        "jumpstart",
        "status",
        "--domain",
        &t.domain,
        "--format",
        "json",
    ]));
    assert_eq!(status["domain"]["id"], t.domain);
    assert_eq!(status["domain"]["executionRole"], t.domain_role);
    assert_eq!(
        status["account"],
        json!({
            "portfolioSwitch": "Disabled",
            "portfolio": null,
            "launchRole": {"name": "AmazonSageMakerServiceCatalogProductsLaunchRole", "exists": false},
            "useRole": {"name": "AmazonSageMakerServiceCatalogProductsUseRole", "exists": false},
        })
    );
    let common = [
        "portfolio-disabled",
        "role-not-associated",
        "launch-role-missing",
        "use-role-missing",
    ];
    for name in ["alice", "bob", "dave"] {
        assert_eq!(codes(user(&status, name)), common, "{name}");
    }
    let mut carol = common.to_vec();
    carol.push("jumpstart-hidden");
    assert_eq!(codes(user(&status, "carol")), carol);
    let bob = user(&status, "bob");
    assert_eq!(bob["executionRole"], t.domain_role);
    assert_eq!(bob["executionRoleFrom"], "domain");
    assert_eq!(
        bob["missing"][1]["message"],
        format!(
            "the domain's execution role `{}`, which it uses, is not associated with the \
             SageMaker portfolio (AssociatePrincipalWithPortfolio)",
            t.domain_role
        )
    );
    assert_eq!(
        status["summary"],
        json!({"users": 4, "jumpstartEnabled": 0, "projectsEnabled": 0})
    );

    let human = server.run(&["jumpstart", "status", "--domain", &t.domain]);
    assert_eq!(human.status.code(), Some(0), "{}", stderr(&human));
    let text = stdout(&human);
    let expected_alice = format!(
        "  alice: JumpStart no, Projects no; execution role {a}\n\
         \x20   - the account's SageMaker Service Catalog portfolio switch is off (EnableSagemakerServicecatalogPortfolio)\n\
         \x20   - its execution role `{a}` is not associated with the SageMaker portfolio (AssociatePrincipalWithPortfolio)\n\
         \x20   - the role `AmazonSageMakerServiceCatalogProductsLaunchRole` does not exist\n\
         \x20   - the role `AmazonSageMakerServiceCatalogProductsUseRole` does not exist\n",
        a = t.custom_a
    );
    assert!(text.contains(&expected_alice), "{text}");
    assert!(
        text.contains("    - StudioWebPortalSettings.HiddenMlTools hides JumpStart (set on the user profile)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("0 of 4 users have JumpStart, 0 have project templates\n"),
        "{text}"
    );
}

#[test]
fn enable_all_users_then_everyone_but_the_hidden_one_is_enabled_and_a_second_run_changes_nothing() {
    let server = Server::start("all");
    let t = team(&server);
    let report = json_of(&server.run(&[
        "jumpstart",
        "enable",
        "--domain",
        &t.domain,
        "--all-users",
        "--format",
        "json",
    ]));
    assert_eq!(report["dryRun"], false);
    assert_eq!(report["changed"], true);
    assert_eq!(report["switchTurnedOn"], true);
    assert_eq!(
        report["rolesCreated"],
        json!([
            "AmazonSageMakerServiceCatalogProductsLaunchRole",
            "AmazonSageMakerServiceCatalogProductsUseRole"
        ])
    );
    assert_eq!(report["policiesCreated"], json!(["1PProductUseRolePolicy"]));
    assert_eq!(
        report["rolesAssociated"],
        json!([t.custom_a, t.custom_b, t.domain_role])
    );
    assert_eq!(report["usersInScope"], 4);
    assert_eq!(report["usersEnabled"], json!(["alice", "bob", "dave"]));
    assert_eq!(
        report["stillDisabled"],
        json!([{
            "name": "carol",
            "jumpstart": false,
            "projects": true,
            "missing": [{
                "code": "jumpstart-hidden",
                "message": "StudioWebPortalSettings.HiddenMlTools hides JumpStart (set on the user profile)",
            }],
        }])
    );
    let notes = report["notChanged"].to_string();
    assert!(
        notes.contains("HiddenMlTools is reported, not changed"),
        "{notes}"
    );
    assert_eq!(
        report["portfolio"]["name"],
        "Amazon SageMaker Solutions and ML Ops products"
    );

    // The roles are as the seed's template makes them.
    let admin = server.admin();
    let launch = iam(
        &admin,
        "GetRole",
        &[(
            "RoleName",
            "AmazonSageMakerServiceCatalogProductsLaunchRole",
        )],
    );
    assert_eq!(
        xml::first_text(&launch, "Path").as_deref(),
        Some("/service-role/")
    );
    let trust = xml::first_text(&launch, "AssumeRolePolicyDocument").expect("trust");
    assert!(trust.contains("servicecatalog.amazonaws.com"), "{trust}");
    let attached = iam(
        &admin,
        "ListAttachedRolePolicies",
        &[(
            "RoleName",
            "AmazonSageMakerServiceCatalogProductsLaunchRole",
        )],
    );
    assert_eq!(
        xml::all_text(&attached, "PolicyArn").collect::<Vec<_>>(),
        ["arn:aws:iam::aws:policy/AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy"]
    );
    let attached = iam(
        &admin,
        "ListAttachedRolePolicies",
        &[("RoleName", "AmazonSageMakerServiceCatalogProductsUseRole")],
    );
    assert_eq!(
        xml::all_text(&attached, "PolicyName").collect::<Vec<_>>(),
        ["1PProductUseRolePolicy"]
    );

    let status = json_of(&server.run(&[
        "jumpstart",
        "status",
        "--domain",
        &t.domain,
        "--format",
        "json",
    ]));
    assert_eq!(status["account"]["portfolioSwitch"], "Enabled");
    for name in ["alice", "bob", "dave"] {
        let u = user(&status, name);
        assert_eq!(
            (u["jumpstart"].clone(), u["projects"].clone()),
            (json!(true), json!(true)),
            "{u}"
        );
        assert_eq!(codes(u), Vec::<String>::new());
    }
    let carol = user(&status, "carol");
    assert_eq!(carol["jumpstart"], false);
    assert_eq!(carol["projects"], true);
    assert_eq!(codes(carol), ["jumpstart-hidden"]);

    let again = server.run(&["jumpstart", "enable", "--domain", &t.domain, "--all-users"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let text = stdout(&again);
    assert!(
        text.contains("nothing to change: everything enable does is already in place\n"),
        "{text}"
    );
    assert!(text.contains("users now enabled: none\n"), "{text}");
    let again = json_of(&server.run(&[
        "jumpstart",
        "enable",
        "--domain",
        &t.domain,
        "--all-users",
        "--format",
        "json",
    ]));
    assert_eq!(again["changed"], false);
    assert_eq!(again["rolesAssociated"], json!([]));
    assert_eq!(again["rolesCreated"], json!([]));
}

#[test]
fn enable_one_user_associates_only_its_role() {
    let server = Server::start("one");
    let t = team(&server);
    let out = server.run(&[
        "jumpstart",
        "enable",
        "--domain",
        &t.domain,
        "--user",
        "dave",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "domain {} (team) in us-east-1, user profile `dave`\nchanged:\n",
            t.domain
        )),
        "{text}"
    );
    assert!(
        text.contains("  associated 1 execution role with port-"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "    {}\nusers now enabled: 1 (dave)\nstill disabled: none\n",
            t.custom_b
        )),
        "{text}"
    );

    let status = json_of(&server.run(&[
        "jumpstart",
        "status",
        "--domain",
        &t.domain,
        "--format",
        "json",
    ]));
    assert_eq!(codes(user(&status, "dave")), Vec::<String>::new());
    assert_eq!(codes(user(&status, "alice")), ["role-not-associated"]);
    assert_eq!(codes(user(&status, "bob")), ["role-not-associated"]);

    let missing = server.run(&[
        "jumpstart",
        "enable",
        "--domain",
        &t.domain,
        "--user",
        "zed",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing),
        format!(
            "error: user profile `zed` not found in domain `{d}` (sagemaker:DescribeUserProfile: \
             ResourceNotFound: User profile [arn:aws:sagemaker:us-east-1:{acct}:user-profile/{d}/zed] \
             does not exist.)\n",
            d = t.domain,
            acct = t.custom_b.split(':').nth(4).unwrap_or_default()
        )
    );
}

#[test]
fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let server = Server::start("dry");
    let t = team(&server);
    let status_args = [
        "jumpstart",
        "status",
        "--domain",
        t.domain.as_str(),
        "--format",
        "json",
    ];
    let before = json_of(&server.run(&status_args));
    let plan = json_of(&server.run(&[
        "jumpstart",
        "enable",
        "--domain",
        &t.domain,
        "--all-users",
        "--dry-run",
        "--format",
        "json",
    ]));
    assert_eq!(plan["dryRun"], true);
    assert_eq!(plan["changed"], false);
    assert_eq!(plan["switchTurnedOn"], true);
    assert_eq!(plan["rolesCreated"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        plan["rolesAssociated"],
        json!([t.custom_a, t.custom_b, t.domain_role])
    );
    assert_eq!(plan["usersEnabled"], json!(["alice", "bob", "dave"]));
    let human = server.run(&[
        "jumpstart",
        "enable",
        "--domain",
        &t.domain,
        "--all-users",
        "--dry-run",
    ]);
    let text = stdout(&human);
    assert!(text.contains("dry run, nothing was changed; would:\n  turn on the SageMaker Service Catalog portfolio switch"), "{text}");
    assert!(
        text.contains("users would be enabled: 3 (alice, bob, dave)\n"),
        "{text}"
    );
    let after = json_of(&server.run(&status_args));
    assert_eq!(before, after);
}

#[test]
fn an_unknown_domain_exits_1_naming_it() {
    let server = Server::start("unknown");
    let admin = server.admin();
    let account = xml::first_text(
        &admin
            .query_call("sts", "GetCallerIdentity", "2011-06-15", &[])
            .expect("caller"),
        "Account",
    )
    .expect("account");
    for command in [
        &["jumpstart", "status", "--domain", "d-000000000000"][..],
        &[
            "jumpstart",
            "enable",
            "--domain",
            "d-000000000000",
            "--all-users",
        ][..],
    ] {
        let out = server.run(command);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout(&out), "");
        assert_eq!(
            stderr(&out),
            format!(
                "error: domain `d-000000000000` not found in region us-east-1 \
                 (sagemaker:DescribeDomain: ResourceNotFound: Domain \
                 [arn:aws:sagemaker:us-east-1:{account}:domain/d-000000000000] does not exist.)\n"
            )
        );
    }
}

#[test]
fn missing_credentials_exit_1_naming_what_is_missing() {
    let server = Server::start("nocreds");
    let none = server.dir.join("absent").to_string_lossy().into_owned();
    let config = server.dir.join("no-config").to_string_lossy().into_owned();
    let out = server.run_with(
        &["jumpstart", "status", "--domain", "d-000000000000"],
        &[
            ("AWS_SHARED_CREDENTIALS_FILE", Some(none.clone())),
            ("AWS_PROFILE", None),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add \
             aws_access_key_id and aws_secret_access_key to profile `default` in {none} \
             (AWS_SHARED_CREDENTIALS_FILE) or {config} (AWS_CONFIG_FILE)\n"
        )
    );
    let out = server.run_with(
        &[
            "jumpstart",
            "enable",
            "--domain",
            "d-000000000000",
            "--all-users",
        ],
        &[("AWS_ACCESS_KEY_ID", Some("AKIAEXAMPLE".into()))],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither \
         to use a profile\n"
    );
}

#[test]
fn a_denied_caller_exits_2_with_awss_message() {
    let server = Server::start("denied");
    let t = team(&server);
    let admin = server.admin();
    iam(&admin, "CreateUser", &[("UserName", "nobody")]);
    let key = iam(&admin, "CreateAccessKey", &[("UserName", "nobody")]);
    let id = xml::first_text(&key, "AccessKeyId").expect("key id");
    let secret = xml::first_text(&key, "SecretAccessKey").expect("secret");
    let account = t
        .domain_role
        .split(':')
        .nth(4)
        .unwrap_or_default()
        .to_string();
    let as_nobody = [
        ("AWS_ACCESS_KEY_ID", Some(id)),
        ("AWS_SECRET_ACCESS_KEY", Some(secret)),
        ("AWS_PROFILE", None),
    ];
    let out = server.run_with(&["jumpstart", "status", "--domain", &t.domain], &as_nobody);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.starts_with(&format!(
            "error: sagemaker:DescribeDomain: AccessDeniedException: User: \
             arn:aws:iam::{account}:user/nobody is not authorized to perform: \
             sagemaker:DescribeDomain on resource: \
             arn:aws:sagemaker:us-east-1:{account}:domain/{} because no identity-based policy \
             allows the sagemaker:DescribeDomain action\n",
            t.domain
        )),
        "{text}"
    );
}

/// Set up like the denied caller, then allowed to read SageMaker but not Service Catalog: the
/// denial names the Service Catalog call.
#[test]
fn a_caller_denied_service_catalog_exits_2_naming_the_call() {
    let server = Server::start("denied-catalog");
    let t = team(&server);
    let admin = server.admin();
    iam(&admin, "CreateUser", &[("UserName", "nobody")]);
    let key = iam(&admin, "CreateAccessKey", &[("UserName", "nobody")]);
    let id = xml::first_text(&key, "AccessKeyId").expect("key id");
    let secret = xml::first_text(&key, "SecretAccessKey").expect("secret");
    let account = t
        .domain_role
        .split(':')
        .nth(4)
        .unwrap_or_default()
        .to_string();
    let as_nobody = [
        ("AWS_ACCESS_KEY_ID", Some(id)),
        ("AWS_SECRET_ACCESS_KEY", Some(secret)),
        ("AWS_PROFILE", None),
    ];
    // Allowed to read SageMaker but not Service Catalog: the denial names that call.
    iam(
        &admin,
        "AttachUserPolicy",
        &[
            ("UserName", "nobody"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly",
            ),
        ],
    );
    let out = server.run_with(
        &["jumpstart", "enable", "--domain", &t.domain, "--all-users"],
        &as_nobody,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("AccessDenied"), "{text}");
    assert!(
        text.contains(&format!(
            "User: arn:aws:iam::{account}:user/nobody is not authorized to perform: "
        )),
        "{text}"
    );
    assert_eq!(stdout(&out), "");
}

/// A caller who may turn the switch on but not create roles: exit 2 with AWS's denial, and a
/// note of what had been changed before it.
#[test]
fn a_denial_midway_says_what_was_already_changed() {
    let server = Server::start("midway");
    let t = team(&server);
    let admin = server.admin();
    iam(&admin, "CreateUser", &[("UserName", "half")]);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sagemaker:*","servicecatalog:*","iam:GetRole"],"Resource":"*"}]}"#;
    iam(
        &admin,
        "PutUserPolicy",
        &[
            ("UserName", "half"),
            ("PolicyName", "no-iam-writes"),
            ("PolicyDocument", policy),
        ],
    );
    let key = iam(&admin, "CreateAccessKey", &[("UserName", "half")]);
    let as_half = [
        ("AWS_ACCESS_KEY_ID", xml::first_text(&key, "AccessKeyId")),
        (
            "AWS_SECRET_ACCESS_KEY",
            xml::first_text(&key, "SecretAccessKey"),
        ),
        ("AWS_PROFILE", None),
    ];
    let out = server.run_with(
        &["jumpstart", "enable", "--domain", &t.domain, "--all-users"],
        &as_half,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let account = t
        .domain_role
        .split(':')
        .nth(4)
        .unwrap_or_default()
        .to_string();
    let text = stderr(&out);
    assert!(
        text.starts_with(&format!(
            "note: before it failed, enable had turned the portfolio switch on\n\
             error: iam:CreateRole: AccessDenied: User: arn:aws:iam::{account}:user/half is not \
             authorized to perform: iam:CreateRole on resource: "
        )),
        "{text}"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn flags_and_the_default_shared_files_work_instead_of_variables() {
    let server = Server::start("flags");
    let t = team(&server);
    // The admin's keys in ~/.aws/credentials, found through HOME.
    let aws = server.dir.join(".aws");
    std::fs::create_dir_all(&aws).expect("mkdir");
    std::fs::copy(server.dir.join("credentials"), aws.join("credentials")).expect("copy");
    let out = server.run_with(
        &[
            "jumpstart",
            "status",
            "--domain",
            &t.domain,
            "--endpoint-url",
            &server.url,
            "--profile",
            "rolewright",
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
        &[
            ("AWS_ENDPOINT_URL", None),
            ("AWS_SHARED_CREDENTIALS_FILE", None),
            ("AWS_CONFIG_FILE", None),
            ("AWS_PROFILE", Some("nobody-by-this-name".into())),
            ("AWS_REGION", Some("eu-west-1".into())),
        ],
    );
    let status = json_of(&out);
    assert_eq!(status["domain"]["region"], "us-east-1");
    assert_eq!(status["summary"]["users"], 4);
}

/// At scale: `enable --all-users` on 1,000 users with 200 distinct roles pages through the
/// profiles and the principals and associates each role once. The speed goal (under 5 s) is
/// asserted in release builds (`cargo test --release -p rolewright --test jumpstart_cli`); a
/// debug build prints the time.
#[test]
fn enable_on_a_thousand_users_with_two_hundred_roles() {
    let server = Server::start("big");
    let admin = server.admin();
    let roles: Vec<String> = (0..200)
        .map(|i| create_role(&admin, &format!("ml-{i:03}")))
        .collect();
    let domain = create_domain(&admin, "big", &roles[0]);
    std::thread::scope(|scope| {
        for worker in 0..8 {
            let (admin, roles, domain) = (&admin, &roles, &domain);
            scope.spawn(move || {
                for i in (worker..1000).step_by(8) {
                    create_user(
                        admin,
                        domain,
                        &format!("user-{i:04}"),
                        json!({"ExecutionRole": roles[i % 200]}),
                    );
                }
            });
        }
    });
    let started = Instant::now();
    let report = json_of(&server.run(&[
        "jumpstart",
        "enable",
        "--domain",
        &domain,
        "--all-users",
        "--format",
        "json",
    ]));
    let took = started.elapsed();
    eprintln!("jumpstart enable --all-users, 1,000 users, 200 roles: {took:?}");
    assert_eq!(
        report["rolesAssociated"].as_array().map(Vec::len),
        Some(200)
    );
    assert_eq!(report["usersEnabled"].as_array().map(Vec::len), Some(1000));
    let started = Instant::now();
    let again = json_of(&server.run(&[
        "jumpstart",
        "enable",
        "--domain",
        &domain,
        "--all-users",
        "--format",
        "json",
    ]));
    eprintln!("again (nothing to change): {:?}", started.elapsed());
    assert_eq!(again["changed"], false);
    if !cfg!(debug_assertions) {
        assert!(took.as_secs_f64() < 5.0, "took {took:?}");
    }
}
