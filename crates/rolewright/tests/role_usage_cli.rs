//! `rolewright role usage`, `role trim`, `role rollback` and `role drift` against a real
//! `rolewright serve`: a recorded workload replayed after the trim, CloudTrail files, drift
//! from a spec, and the errors that say what is wrong.
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

use rolewright_client::{
    AwsClient, Environment, IAM_VERSION, Overrides, SAGEMAKER_TARGET, STS_VERSION, resolve, xml,
};
use serde_json::{Value, json};

use common::{stderr, stdout};

const ROLE: &str = "SageMaker-data-scientist";
const ACCOUNT: &str = "123456789012";

/// A `rolewright serve` on a free port with a fresh data directory, stopped on drop.
struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    url: String,
    dir: PathBuf,
}

impl Server {
    fn start(name: &str) -> Server {
        let dir = common::scratch(name);
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
            .expect("address")
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

    fn client(&self, keys: Option<(&str, &str, &str)>) -> AwsClient {
        let mut pairs: Vec<(String, String)> = self
            .env()
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect();
        if let Some((id, secret, token)) = keys {
            pairs.retain(|(k, _)| k != "AWS_PROFILE" && k != "AWS_SHARED_CREDENTIALS_FILE");
            pairs.push(("AWS_ACCESS_KEY_ID".into(), id.into()));
            pairs.push(("AWS_SECRET_ACCESS_KEY".into(), secret.into()));
            pairs.push(("AWS_SESSION_TOKEN".into(), token.into()));
        }
        AwsClient::new(
            resolve(&Overrides::default(), &Environment::from_pairs(pairs)).expect("config"),
            2,
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, self.env())
    }

    /// Runs the command with an IAM user's access key instead of the administrator's profile.
    fn run_as(&self, args: &[&str], key_id: &str, secret: &str) -> Output {
        let mut vars = self.env();
        vars.retain(|(k, _)| {
            !matches!(
                *k,
                "AWS_PROFILE"
                    | "AWS_SHARED_CREDENTIALS_FILE"
                    | "AWS_ACCESS_KEY_ID"
                    | "AWS_SECRET_ACCESS_KEY"
            )
        });
        vars.push(("AWS_ACCESS_KEY_ID", Some(key_id.into())));
        vars.push(("AWS_SECRET_ACCESS_KEY", Some(secret.into())));
        vars.push(("AWS_SHARED_CREDENTIALS_FILE", Some("/nonexistent".into())));
        self.run_with(args, vars)
    }

    fn run_with(&self, args: &[&str], vars: Vec<(&'static str, Option<String>)>) -> Output {
        let borrowed: Vec<(&str, Option<&str>)> =
            vars.iter().map(|(k, v)| (*k, v.as_deref())).collect();
        let data = self.dir.to_string_lossy().into_owned();
        let mut all: Vec<&str> = args.to_vec();
        if matches!(args.get(1), Some(&"usage") | Some(&"trim")) && !args.contains(&"--cloudtrail")
        {
            all.extend(["--data-dir", &data]);
        }
        common::rolewright_with_env(&all, &borrowed)
    }
}

impl Server {
    /// Waits until the audit log, written behind the requests, holds a session's call of
    /// `action`.
    fn wait_for_audit(&self, action: &str) {
        let dir = self.dir.to_string_lossy().into_owned();
        for _ in 0..100 {
            let out = self.run(&[
                "audit",
                "--data-dir",
                &dir,
                "--action",
                action,
                "--format",
                "json",
            ]);
            if stdout(&out).contains(":assumed-role/") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the audit log has no {action} of a session");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn iam(client: &AwsClient, action: &str, params: &[(&str, &str)]) -> String {
    client
        .query_call("iam", action, IAM_VERSION, params)
        .unwrap_or_else(|e| panic!("{action}: {e}"))
}

/// The data scientist role of `role new`, deployed as the role JSON says, with a trust
/// statement that lets the account's administrator assume it to record a workload.
fn deploy_data_scientist(admin: &AwsClient, dir: &std::path::Path) -> Value {
    let out = common::rolewright(&[
        "role",
        "new",
        "--persona",
        "data-scientist",
        "--s3-bucket",
        "ml-data",
        "--pass-role",
        "arn:aws:iam::123456789012:role/trainer",
        "--account",
        ACCOUNT,
        "--region",
        "us-east-1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let role: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut trust = role["AssumeRolePolicyDocument"].clone();
    trust["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}));
    iam(
        admin,
        "CreateRole",
        &[
            ("RoleName", ROLE),
            ("AssumeRolePolicyDocument", &trust.to_string()),
            ("Description", role["Description"].as_str().unwrap()),
        ],
    );
    for p in role["Policies"].as_array().unwrap() {
        iam(
            admin,
            "PutRolePolicy",
            &[
                ("RoleName", ROLE),
                ("PolicyName", p["PolicyName"].as_str().unwrap()),
                ("PolicyDocument", &p["PolicyDocument"].to_string()),
            ],
        );
    }
    assert_eq!(role["ManagedPolicies"], json!([]));
    std::fs::write(dir.join("role.json"), role.to_string()).unwrap();
    role
}

/// A session of the role, as a client.
fn session(server: &Server, admin: &AwsClient) -> AwsClient {
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}");
    let answer = admin
        .query_call(
            "sts",
            "AssumeRole",
            STS_VERSION,
            &[("RoleArn", &arn), ("RoleSessionName", "replay")],
        )
        .expect("AssumeRole");
    let text = |t: &str| xml::first_text(&answer, t).unwrap();
    let (id, secret, token) = (
        text("AccessKeyId"),
        text("SecretAccessKey"),
        text("SessionToken"),
    );
    server.client(Some((&id, &secret, &token)))
}

/// The recorded workload: the calls a data scientist made in Studio.
fn workload(domain: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("ListDomains", json!({})),
        ("DescribeDomain", json!({"DomainId": domain})),
        ("ListUserProfiles", json!({"DomainIdEquals": domain})),
        (
            "DescribeUserProfile",
            json!({"DomainId": domain, "UserProfileName": "alice"}),
        ),
    ]
}

fn replay(client: &AwsClient, calls: &[(&str, Value)]) {
    for (op, input) in calls {
        if let Err(e) = client.json_call("sagemaker", SAGEMAKER_TARGET, op, input) {
            panic!("sagemaker:{op} is no longer allowed: {e}");
        }
    }
}

/// The role's decision on each action, by iam:SimulatePrincipalPolicy.
fn decisions(admin: &AwsClient, actions: &[&str]) -> Vec<String> {
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}");
    let mut params = vec![("PolicySourceArn".to_string(), arn)];
    for (i, a) in actions.iter().enumerate() {
        params.push((format!("ActionNames.member.{}", i + 1), a.to_string()));
    }
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = iam(admin, "SimulatePrincipalPolicy", &borrowed);
    xml::all_text(&answer, "EvalDecision").collect()
}

fn inline_documents(admin: &AwsClient) -> Vec<(String, Value)> {
    let names: Vec<String> = xml::all_text(
        &iam(admin, "ListRolePolicies", &[("RoleName", ROLE)]),
        "member",
    )
    .collect();
    let mut out: Vec<(String, Value)> = names
        .into_iter()
        .map(|n| {
            let answer = iam(
                admin,
                "GetRolePolicy",
                &[("RoleName", ROLE), ("PolicyName", &n)],
            );
            let text = xml::first_text(&answer, "PolicyDocument").unwrap();
            let decoded = rolewright_review_decode(&text);
            (n, serde_json::from_str(&decoded).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// IAM answers documents URL-encoded.
fn rolewright_review_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The second after the next whole second, as `--since` takes it, once it has begun.
fn window_from_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let start = now.as_secs() + 1;
    std::thread::sleep(std::time::Duration::from_millis(
        (start * 1000 - now.as_millis() as u64) + 50,
    ));
    let days = start / 86_400;
    let (h, m, s) = (start % 86_400 / 3600, start % 3600 / 60, start % 60);
    // Civil date from days since 1970 (the inverse of the library's parser).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

const UNUSED: &[&str] = &[
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateModel",
    "s3:GetObject",
    "sagemaker:CreateApp",
];

#[test]
fn a_trimmed_role_still_allows_its_workload_and_denies_the_rest_until_rolled_back() {
    let server = Server::start("trim");
    let admin = server.client(None);
    let original = deploy_data_scientist(&admin, &server.dir);
    iam(
        &admin,
        "CreateRole",
        &[
            ("RoleName", "trainer"),
            (
                "AssumeRolePolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            ),
        ],
    );
    let domain = create_domain(&admin, "trainer");
    admin
        .json_call(
            "sagemaker",
            SAGEMAKER_TARGET,
            "CreateUserProfile",
            &json!({"DomainId": domain, "UserProfileName": "alice"}),
        )
        .unwrap();
    let before = inline_documents(&admin);
    assert_eq!(decisions(&admin, UNUSED), ["allowed"; 4]);

    // A window that starts after the setup: only the workload is in it.
    let since = window_from_now();
    let calls = workload(&domain);
    replay(&session(&server, &admin), &calls);
    server.wait_for_audit("sagemaker:DescribeUserProfile");

    let usage = server.run(&["role", "usage", ROLE, "--since", &since, "--format", "json"]);
    assert_eq!(usage.status.code(), Some(0), "{}", stderr(&usage));
    let report: Value = serde_json::from_str(&stdout(&usage)).unwrap();
    let used: Vec<(String, Vec<String>)> = report["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["activity"].as_str().unwrap().to_string(),
                a["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|x| !x["lastUsedMs"].is_null())
                    .map(|x| x["action"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let names: Vec<&str> = used.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        original["Activities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect::<Vec<_>>()
    );
    let studio = &used.iter().find(|(a, _)| a == "run-studio-apps").unwrap().1;
    for a in [
        "sagemaker:DescribeDomain",
        "sagemaker:DescribeUserProfile",
        "sagemaker:ListDomains",
        "sagemaker:ListUserProfiles",
    ] {
        assert!(studio.contains(&a.to_string()), "{a} in {studio:?}");
    }
    assert!(
        used.iter()
            .filter(|(a, _)| a != "run-studio-apps")
            .all(|(_, u)| u.is_empty()),
        "{used:?}"
    );

    // The proposal: a diff that removes and adds nothing used; nothing written.
    let proposal = server.run(&["role", "trim", ROLE, "--since", &since, "--format", "json"]);
    assert_eq!(proposal.status.code(), Some(0), "{}", stderr(&proposal));
    let diff: Value = serde_json::from_str(&stdout(&proposal)).unwrap();
    assert_eq!(diff["added"], json!([]));
    let removed: Vec<&str> = diff["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["action"].as_str().unwrap())
        .collect();
    for a in UNUSED {
        assert!(removed.contains(a), "{a} is removed");
    }
    for (op, _) in &calls {
        assert!(
            !removed.contains(&format!("sagemaker:{op}").as_str()),
            "{op} is kept"
        );
    }
    assert!(
        stderr(&proposal).contains("activity `manage-jobs` is unused: dropped\n"),
        "{}",
        stderr(&proposal)
    );
    assert_eq!(
        inline_documents(&admin),
        before,
        "without --apply nothing is written"
    );

    let applied = server.run(&["role", "trim", ROLE, "--since", &since, "--apply"]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    // Every call of the workload is still allowed, replayed as a new session of the trimmed role.
    replay(&session(&server, &admin), &calls);
    assert_eq!(decisions(&admin, UNUSED), ["implicitDeny"; 4]);
    let after: Vec<String> = inline_documents(&admin)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(after, [format!("{ROLE}-run-studio-apps")]);

    let rollback = server.run(&["role", "rollback", ROLE]);
    assert_eq!(rollback.status.code(), Some(0), "{}", stderr(&rollback));
    assert_eq!(inline_documents(&admin), before);
    assert_eq!(decisions(&admin, UNUSED), ["allowed"; 4]);
    let again = server.run(&["role", "rollback", ROLE]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        format!(
            "error: role `{ROLE}` has no trim to roll back (no `rolewright:trim` tag: `rolewright role trim --apply` writes one)\n"
        )
    );

    // A window longer than the audit log is refused.
    let short = server.run(&["role", "trim", ROLE, "--since", "90d", "--apply"]);
    assert_eq!(short.status.code(), Some(1));
    let message = stderr(&short);
    assert!(
        message.starts_with(&format!(
            "error: not enough history to trim `{ROLE}`: the window starts at "
        )),
        "{message}"
    );
    assert!(message.contains("(--since 90d), but the audit log does not reach back that far (its oldest record is from "), "{message}");
    assert!(
        message.ends_with("); give a shorter --since\n"),
        "{message}"
    );
}

fn cloudtrail(dir: &std::path::Path) -> String {
    let session = json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/alice"),
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}")}}});
    let records = json!({"Records": [
        {"eventTime": "2020-01-01T00:00:00Z", "eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity",
         "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/admin")}},
        {"eventTime": "2030-01-02T10:00:00Z", "eventSource": "sagemaker.amazonaws.com", "eventName": "DescribeDomain", "userIdentity": session},
        {"eventTime": "2030-01-02T11:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "userIdentity": session,
         "resources": [{"ARN": "arn:aws:s3:::ml-data/train.csv", "type": "AWS::S3::Object"}]},
        {"eventTime": "2030-01-02T12:00:00Z", "eventSource": "sagemaker.amazonaws.com", "eventName": "CreateModel", "userIdentity": session,
         "errorCode": "AccessDenied"},
    ]});
    common::write(dir, "trail.json", &records.to_string())
}

#[test]
fn usage_from_cloudtrail_files() {
    let server = Server::start("trail");
    let admin = server.client(None);
    deploy_data_scientist(&admin, &server.dir);
    let trail = cloudtrail(&server.dir);
    let out = server.run(&[
        "role",
        "usage",
        ROLE,
        "--cloudtrail",
        &trail,
        "--since",
        "2021-01-01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("role arn:aws:iam::{ACCOUNT}:role/{ROLE} since 2021-01-01T00:00:00Z\nrun-studio-apps: used, last 2030-01-02T10:00:00Z\n")), "{text}");
    assert!(
        text.contains(
            "\n  used    sagemaker:DescribeDomain (1 calls, last 2030-01-02T10:00:00Z, on *)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\ns3-bucket-access: used, last 2030-01-02T11:00:00Z\n"),
        "{text}"
    );
    assert!(text.contains("\n  used    s3:GetObject (1 calls, last 2030-01-02T11:00:00Z, on arn:aws:s3:::ml-data/train.csv)\n"), "{text}");
    // A denied call is not a use.
    assert!(text.contains("\nmanage-models: unused\n"), "{text}");
    assert!(
        text.contains("\n  unused  sagemaker:CreateModel\n"),
        "{text}"
    );

    let late = server.run(&[
        "role",
        "trim",
        ROLE,
        "--cloudtrail",
        &trail,
        "--since",
        "2019-06-01",
    ]);
    assert_eq!(late.status.code(), Some(1));
    assert_eq!(
        stderr(&late),
        format!(
            "error: not enough history to trim `{ROLE}`: the window starts at 2019-06-01T00:00:00Z (--since 2019-06-01), but the CloudTrail files do not reach back that far (its oldest record is from 2020-01-01T00:00:00Z); give a shorter --since\n"
        )
    );
    let bad = common::write(&server.dir, "bad.json", r#"{"records": []}"#);
    let out = server.run(&["role", "usage", ROLE, "--cloudtrail", &bad]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        format!(
            "error: `{bad}`: no top-level `Records` array (a CloudTrail log file is `{{\"Records\": [...]}}`)\n"
        )
    );
    let out = server.run(&["role", "usage", "nobody", "--cloudtrail", &trail]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: no role `nobody` in the account (see `aws iam list-roles`)\n"
    );
    let out = server.run(&[
        "role",
        "usage",
        ROLE,
        "--cloudtrail",
        &trail,
        "--since",
        "soon",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: --since `soon` is neither a duration (90d, 12h, 30m, 45s) nor a time (2026-11-23T10:00:00Z)\n"
    );
}

#[test]
fn drift_of_a_live_role_from_its_spec() {
    let server = Server::start("drift");
    let admin = server.client(None);
    let spec = common::write(
        &server.dir,
        "spec.toml",
        &format!(
            "persona = \"data-scientist\"\naccount = \"{ACCOUNT}\"\nregion = \"us-east-1\"\n[parameters]\ns3-bucket = [\"ml-data\"]\npass-role = [\"arn:aws:iam::{ACCOUNT}:role/trainer\"]\n[tags]\nteam = \"ml\"\n"
        ),
    );
    let drift = |extra: &[&str]| {
        let mut args = vec!["role", "drift", "--spec", spec.as_str()];
        args.extend(extra);
        server.run(&args)
    };
    // Missing: drift; --sync creates it; then none.
    let missing = drift(&[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stdout(&missing).starts_with(&format!("role `{ROLE}` does not exist\n- ")),
        "{}",
        stdout(&missing)
    );
    let created = drift(&["--sync"]);
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let none = drift(&[]);
    assert_eq!(
        none.status.code(),
        Some(0),
        "{}{}",
        stdout(&none),
        stderr(&none)
    );
    assert_eq!(stdout(&none), "");
    assert!(stderr(&none).ends_with(&format!(
        "no drift: role `{ROLE}` is what `{spec}` builds\n"
    )));

    // An added inline statement, a changed trust policy, a removed tag.
    iam(
        &admin,
        "PutRolePolicy",
        &[
            ("RoleName", ROLE),
            ("PolicyName", "extra"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::ml-data"}]}"#,
            ),
        ],
    );
    let out = drift(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        d["added"],
        json!([{"action": "s3:DeleteBucket", "resource": "arn:aws:s3:::ml-data", "condition": null}])
    );
    assert_eq!(
        (d["removed"].clone(), d["trust"].clone(), d["tags"].clone()),
        (json!([]), Value::Null, json!([]))
    );
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    iam(
        &admin,
        "UpdateAssumeRolePolicy",
        &[("RoleName", ROLE), ("PolicyDocument", trust)],
    );
    iam(
        &admin,
        "UntagRole",
        &[("RoleName", ROLE), ("TagKeys.member.1", "team")],
    );
    let out = drift(&[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "+ s3:DeleteBucket on arn:aws:s3:::ml-data\ntrust policy differs:\n  spec "
        ),
        "{text}"
    );
    assert!(text.contains(&format!("\n  live {trust}\n")), "{text}");
    assert!(
        text.ends_with("tag `team`: spec `ml`, live (none)\n"),
        "{text}"
    );
    assert!(stderr(&out).ends_with(&format!(
        "role `{ROLE}` drifted from `{spec}`; --sync makes it match\n"
    )));

    let synced = drift(&["--sync"]);
    assert_eq!(synced.status.code(), Some(0), "{}", stderr(&synced));
    assert_eq!(stdout(&synced), text, "the drift is shown before the sync");
    assert!(stderr(&synced).contains("writing: delete inline policy `extra`\n"));
    assert_eq!(drift(&[]).status.code(), Some(0));

    let bad = common::write(
        &server.dir,
        "bad.toml",
        "persona = \"data-scientist\"\ncolour = \"red\"\n",
    );
    let out = server.run(&["role", "drift", "--spec", &bad]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).starts_with(&format!(
            "error: `{bad}`: TOML parse error at line 2, column 1"
        )) && stderr(&out).contains("unknown field `colour`"),
        "{}",
        stderr(&out)
    );
}

/// A Studio domain whose users run as `role`; answers its id.
fn create_domain(admin: &AwsClient, role: &str) -> String {
    let answer = admin
        .json_call(
            "sagemaker",
            SAGEMAKER_TARGET,
            "CreateDomain",
            &json!({"DomainName": "studio", "AuthMode": "IAM",
            "DefaultUserSettings": {"ExecutionRole": format!("arn:aws:iam::{ACCOUNT}:role/{role}")},
            "SubnetIds": ["subnet-0123456789abcdef0"], "VpcId": "vpc-0123456789abcdef0"}),
        )
        .unwrap();
    answer["DomainArn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

/// The data scientist role deployed, a domain with user `alice`, and the workload replayed as a
/// session of the role; answers the window's start (`--since`) and the role's inline policies.
fn recorded_workload(server: &Server, admin: &AwsClient) -> (String, Vec<(String, Value)>) {
    deploy_data_scientist(admin, &server.dir);
    let domain = create_domain(admin, ROLE);
    admin
        .json_call(
            "sagemaker",
            SAGEMAKER_TARGET,
            "CreateUserProfile",
            &json!({"DomainId": domain, "UserProfileName": "alice"}),
        )
        .unwrap();
    let before = inline_documents(admin);
    let since = window_from_now();
    replay(&session(server, admin), &workload(&domain));
    server.wait_for_audit("sagemaker:DescribeUserProfile");
    (since, before)
}

fn tag_keys(admin: &AwsClient) -> Vec<String> {
    xml::all_text(&iam(admin, "ListRoleTags", &[("RoleName", ROLE)]), "Key").collect()
}

#[test]
fn a_trim_that_would_pass_the_tag_quota_is_refused_before_anything_is_written() {
    let server = Server::start("trim-quota");
    let admin = server.client(None);
    let (since, before) = recorded_workload(&server, &admin);
    let mut params = vec![("RoleName".to_string(), ROLE.to_string())];
    for i in 1..=49 {
        params.push((format!("Tags.member.{i}.Key"), format!("team-{i}")));
        params.push((format!("Tags.member.{i}.Value"), "ml".into()));
    }
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    iam(&admin, "TagRole", &borrowed);

    let applied = server.run(&["role", "trim", ROLE, "--since", &since, "--apply"]);
    assert_eq!(applied.status.code(), Some(1), "{}", stderr(&applied));
    let message = stderr(&applied);
    assert!(
        message.contains(&format!("error: role `{ROLE}` would have 5"))
            && message.contains(" tags, over IAM's quota of 50 (nothing was written)\n"),
        "{message}"
    );
    assert_eq!(inline_documents(&admin), before);
    assert_eq!(tag_keys(&admin).len(), 49);
}

#[test]
fn a_trim_that_fails_part_way_is_undone() {
    let server = Server::start("trim-undo");
    let admin = server.client(None);
    let (since, before) = recorded_workload(&server, &admin);
    // A reviewer who may do everything but tag roles: the trim's last writes are refused.
    iam(&admin, "CreateUser", &[("UserName", "reviewer")]);
    iam(
        &admin,
        "PutUserPolicy",
        &[
            ("UserName", "reviewer"),
            ("PolicyName", "all-but-tagging"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:TagRole","Resource":"*"}]}"#,
            ),
        ],
    );
    let key = iam(&admin, "CreateAccessKey", &[("UserName", "reviewer")]);
    let (id, secret) = (
        xml::first_text(&key, "AccessKeyId").unwrap(),
        xml::first_text(&key, "SecretAccessKey").unwrap(),
    );

    let applied = server.run_as(
        &["role", "trim", ROLE, "--since", &since, "--apply"],
        &id,
        &secret,
    );
    assert_eq!(applied.status.code(), Some(1), "{}", stderr(&applied));
    let message = stderr(&applied);
    let last = message.lines().last().unwrap();
    assert!(
        last.starts_with("error: iam:TagRole `rolewright:trim` failed (AccessDenied: User: arn:aws:iam::123456789012:user/reviewer is not authorized to perform: iam:TagRole on resource: "),
        "{message}"
    );
    assert!(
        last.ends_with(" writes before it were undone, so the role is as it was"),
        "{message}"
    );
    assert_eq!(
        inline_documents(&admin),
        before,
        "the policies are as they were"
    );
    assert!(
        tag_keys(&admin)
            .iter()
            .all(|k| !k.starts_with("rolewright:trim"))
    );
    let kept = iam(
        &admin,
        "ListPolicies",
        &[("Scope", "Local"), ("PathPrefix", "/rolewright-pretrim/")],
    );
    assert_eq!(xml::all_text(&kept, "PolicyName").count(), 0, "{kept}");
}

fn versions(admin: &AwsClient, arn: &str) -> (Vec<String>, String) {
    let answer = iam(admin, "ListPolicyVersions", &[("PolicyArn", arn)]);
    let mut ids: Vec<String> = xml::all_text(&answer, "VersionId").collect();
    ids.sort();
    let default = iam(admin, "GetPolicy", &[("PolicyArn", arn)]);
    (ids, xml::first_text(&default, "DefaultVersionId").unwrap())
}

#[test]
fn a_trim_of_a_policy_with_five_versions_makes_room_and_rollback_restores_the_default() {
    let server = Server::start("trim-versions");
    let admin = server.client(None);
    let document = |n: usize| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
            ["sagemaker:DescribeDomain", "sagemaker:CreateModel"], "Resource": "*",
            "Sid": format!("v{n}")}]})
        .to_string()
    };
    let created = iam(
        &admin,
        "CreatePolicy",
        &[
            ("PolicyName", "studio-extra"),
            ("PolicyDocument", &document(1)),
        ],
    );
    let arn = xml::first_text(&created, "Arn").unwrap();
    for n in 2..=5 {
        iam(
            &admin,
            "CreatePolicyVersion",
            &[
                ("PolicyArn", &arn),
                ("PolicyDocument", &document(n)),
                ("SetAsDefault", "true"),
            ],
        );
    }
    // The policy is attached before the workload, so the window sees its use.
    deploy_data_scientist(&admin, &server.dir);
    iam(
        &admin,
        "AttachRolePolicy",
        &[("RoleName", ROLE), ("PolicyArn", &arn)],
    );
    let domain = create_domain(&admin, ROLE);
    let since = window_from_now();
    replay(
        &session(&server, &admin),
        &[("DescribeDomain", json!({"DomainId": domain}))],
    );
    server.wait_for_audit("sagemaker:DescribeDomain");
    assert_eq!(
        versions(&admin, &arn),
        (
            ["v1", "v2", "v3", "v4", "v5"].map(String::from).to_vec(),
            "v5".to_string()
        )
    );

    let applied = server.run(&["role", "trim", ROLE, "--since", &since, "--apply"]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    // IAM keeps five versions: the oldest that is not the default made room for the trim's.
    assert_eq!(
        versions(&admin, &arn),
        (
            ["v2", "v3", "v4", "v5", "v6"].map(String::from).to_vec(),
            "v6".to_string()
        )
    );
    let v6 = iam(
        &admin,
        "GetPolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v6")],
    );
    let v6 = rolewright_review_decode(&xml::first_text(&v6, "Document").unwrap());
    assert!(v6.contains("sagemaker:DescribeDomain"), "{v6}");
    assert!(!v6.contains("sagemaker:CreateModel"), "{v6}");

    let rollback = server.run(&["role", "rollback", ROLE]);
    assert_eq!(rollback.status.code(), Some(0), "{}", stderr(&rollback));
    assert_eq!(
        versions(&admin, &arn),
        (
            ["v2", "v3", "v4", "v5"].map(String::from).to_vec(),
            "v5".to_string()
        )
    );
}
