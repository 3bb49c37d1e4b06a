//! Every console page's server time on a domain of 1,000 users and an account of 1,000 roles
//! (issue 13, item 9: each under 100 ms). The state is filled through the API (signed IAM and
//! SageMaker calls), then each page's `GET` is timed as the signed-in administrator, in
//! process (`Router::oneshot`, no socket), and the median and p95 printed per page.
//!
//! Then who-can cold and warm: the page keeps its analysis of the account until the store's
//! change position moves, so each cold run follows a write (an untimed `TagRole`) and each warm
//! run asks the same question again; a third run follows a write the account's details do not
//! show (`CreateAccountAlias`), where the details are read again but the analysis is kept.
//!
//! `cargo bench -p rolewright-console --bench pages` (`PAGES_RUNS=N` for other than 20 runs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a bench fails by panicking and reports on standard output"
)]

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use rolewright_console::Settings;
use rolewright_server::{Config, Server};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const HOST: &str = "127.0.0.1:4566";
const ROLES: usize = 1000;
const USERS: usize = 1000;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", rolewright_client::client::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

struct Bench {
    router: Router,
    key_id: String,
    secret: String,
}

impl Bench {
    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    async fn signed(&self, service: &str, target: Option<&str>, body: String) -> String {
        let content_type: &[u8] = if target.is_some() {
            b"application/x-amz-json-1.1"
        } else {
            b"application/x-www-form-urlencoded"
        };
        let mut headers: Vec<(&str, &[u8])> =
            vec![("host", HOST.as_bytes()), ("content-type", content_type)];
        if let Some(t) = target {
            headers.push(("x-amz-target", t.as_bytes()));
        }
        let unsigned = rolewright_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let creds = rolewright_sigv4::Credentials::new(&self.key_id, &self.secret);
        let added = rolewright_sigv4::sign(&unsigned, &creds, "us-east-1", service, now());
        let mut request = Request::post("/")
            .header("host", HOST)
            .header("content-type", std::str::from_utf8(content_type).unwrap());
        if let Some(t) = target {
            request = request.header("x-amz-target", t);
        }
        for (k, v) in &added {
            request = request.header(k.as_str(), v.as_str());
        }
        let (status, _, text) = self.send(request.body(Body::from(body)).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        text
    }

    async fn iam(&self, pairs: &[(&str, &str)]) -> String {
        let mut all = vec![("Version", "2010-05-08")];
        all.extend_from_slice(pairs);
        self.signed("iam", None, encode(&all)).await
    }

    async fn sagemaker(&self, op: &str, input: Value) -> Value {
        let text = self
            .signed(
                "sagemaker",
                Some(&format!("SageMaker.{op}")),
                input.to_string(),
            )
            .await;
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let request = Request::get(path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = self.send(request).await;
        (status, body)
    }

    async fn sign_in(&self) -> String {
        let request = Request::get("/console/signin")
            .header(header::HOST, HOST)
            .body(Body::empty())
            .unwrap();
        let (_, headers, body) = self.send(request).await;
        let form_cookie = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("rolewright_console_signin="))
            .unwrap();
        let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = body[at..].split('"').next().unwrap();
        let request = Request::post("/console/signin")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, form_cookie)
            .body(Body::from(encode(&[
                ("csrf", csrf),
                ("access_key_id", &self.key_id),
                ("secret_access_key", &self.secret),
            ])))
            .unwrap();
        let (_, headers, _) = self.send(request).await;
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("rolewright_console=") && c.len() > 20)
            .unwrap()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let runs: usize = std::env::var("PAGES_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let server = Server::open(config).await.unwrap();
    let text = std::fs::read_to_string(server.credentials_file()).unwrap();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            .unwrap()
    };
    let bench = Bench {
        router: rolewright_console::router(server.state(), Settings::default())
            .merge(server.router()),
        key_id: value("aws_access_key_id"),
        secret: value("aws_secret_access_key"),
    };

    let started = Instant::now();
    for i in 0..ROLES {
        let name = format!("SageMaker-team{i:04}");
        let bucket = format!("ml-data-{i:04}");
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": format!("arn:aws:s3:::{bucket}/*")},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{bucket}")},
            {"Effect": "Allow", "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"], "Resource": "*"},
        ]})
        .to_string();
        bench
            .iam(&[
                ("Action", "CreateRole"),
                ("RoleName", &name),
                ("AssumeRolePolicyDocument", TRUST),
                ("Tags.member.1.Key", "rolewright:activities"),
                ("Tags.member.1.Value", "access-aws-services"),
            ])
            .await;
        bench
            .iam(&[
                ("Action", "PutRolePolicy"),
                ("RoleName", &name),
                ("PolicyName", &format!("{name}-access-aws-services")),
                ("PolicyDocument", &policy),
            ])
            .await;
    }
    let role = "arn:aws:iam::123456789012:role/SageMaker-team0000";
    let created = bench
        .sagemaker(
            "CreateDomain",
            json!({"DomainName": "team", "AuthMode": "IAM",
                "DefaultUserSettings": {"ExecutionRole": role},
                "SubnetIds": ["subnet-0123456789abcdef0"], "VpcId": "vpc-0123456789abcdef0"}),
        )
        .await;
    let domain = created["DomainArn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    for i in 0..USERS {
        let execution = format!(
            "arn:aws:iam::123456789012:role/SageMaker-team{:04}",
            i % ROLES
        );
        bench
            .sagemaker(
                "CreateUserProfile",
                json!({"DomainId": domain, "UserProfileName": format!("user{i:04}"),
                    "UserSettings": {"ExecutionRole": execution}}),
            )
            .await;
    }
    println!(
        "filled {ROLES} roles and a domain of {USERS} users through the API in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let cookie = bench.sign_in().await;
    // The wizard's steps read the draft of the session: give it a persona first.
    let pages: Vec<(String, String)> = [
        ("home", "/console/".to_string()),
        ("roles", "/console/roles".to_string()),
        ("roles search", "/console/roles?q=team09".to_string()),
        ("roles page 50", "/console/roles?page=50".to_string()),
        (
            "role detail",
            "/console/roles/SageMaker-team0500".to_string(),
        ),
        (
            "role edit activities",
            "/console/roles/SageMaker-team0500/activities".to_string(),
        ),
        ("wizard details", "/console/create-role/details".to_string()),
        (
            "wizard activities",
            "/console/create-role/activities".to_string(),
        ),
        (
            "wizard policies",
            "/console/create-role/policies".to_string(),
        ),
        ("wizard review", "/console/create-role/review".to_string()),
        ("studio domains", "/console/studio".to_string()),
        ("studio domain", format!("/console/studio/{domain}")),
        (
            "studio user",
            format!("/console/studio/{domain}/users/user0500"),
        ),
        (
            "studio add user",
            format!("/console/studio/{domain}/users/new"),
        ),
        (
            "studio edit user",
            format!("/console/studio/{domain}/users/user0500/edit"),
        ),
        ("catalog", "/console/catalog".to_string()),
        (
            "catalog provisioned",
            "/console/catalog/provisioned".to_string(),
        ),
        ("stacks", "/console/stacks".to_string()),
        ("simulator", "/console/simulator".to_string()),
        ("audit log", "/console/audit".to_string()),
        ("who can (form)", "/console/who-can".to_string()),
        (
            "who can sagemaker:CreateTrainingJob",
            "/console/who-can?action=sagemaker%3ACreateTrainingJob".to_string(),
        ),
    ]
    .into_iter()
    .map(|(n, p)| (n.to_string(), p))
    .collect();
    println!(
        "{:<38} {:>10} {:>10}  status",
        "page", "median ms", "p95 ms"
    );
    for (name, path) in &pages {
        let mut times = Vec::with_capacity(runs);
        let mut status = StatusCode::OK;
        for _ in 0..runs {
            let t = Instant::now();
            let (s, _) = bench.get(path, &cookie).await;
            times.push(t.elapsed());
            status = s;
        }
        times.sort();
        println!(
            "{name:<38} {:>10.1} {:>10.1}  {}",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.95).as_secs_f64() * 1000.0,
            status.as_u16()
        );
    }

    let ask = "/console/who-can?action=sagemaker%3ACreateTrainingJob";
    let answered = "principals can perform <code>sagemaker:CreateTrainingJob</code>";
    let mut cold = Vec::with_capacity(runs);
    let mut warm = Vec::with_capacity(runs);
    let mut same = Vec::with_capacity(runs);
    for i in 0..runs {
        bench
            .iam(&[
                ("Action", "TagRole"),
                ("RoleName", "SageMaker-team0000"),
                ("Tags.member.1.Key", "bench-run"),
                ("Tags.member.1.Value", &i.to_string()),
            ])
            .await;
        for times in [&mut cold, &mut warm] {
            let t = Instant::now();
            let (status, body) = bench.get(ask, &cookie).await;
            times.push(t.elapsed());
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(body.contains(answered), "{body}");
        }
        // A write the account's details do not show (its alias): read again, analysis kept.
        bench
            .iam(&[
                ("Action", "CreateAccountAlias"),
                ("AccountAlias", &format!("bench-{i}")),
            ])
            .await;
        let t = Instant::now();
        let (status, body) = bench.get(ask, &cookie).await;
        same.push(t.elapsed());
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(answered), "{body}");
    }
    cold.sort();
    warm.sort();
    same.sort();
    let median = |sorted: &[Duration]| percentile(sorted, 0.5).as_secs_f64() * 1000.0;
    println!();
    println!(
        "{:<38} {:>10} {:>10}",
        "who can, analysis kept or not", "median ms", "p95 ms"
    );
    for (name, times) in [
        ("cold (after a write)", &cold),
        ("warm (the same position)", &warm),
        ("after a write outside the details", &same),
    ] {
        println!(
            "{name:<38} {:>10.2} {:>10.2}",
            median(times),
            percentile(times, 0.95).as_secs_f64() * 1000.0
        );
    }
    println!(
        "cold / warm (medians) {:.1}x",
        median(&cold) / median(&warm)
    );
    drop(server);
}
