//! The who-can page's cached analysis (`Router::oneshot` on the console merged with the control
//! plane, on a real store): a write moves the store's change position and the next answer
//! reads the account again; reading the page moves nothing; and a principal refused
//! `iam:GetAccountAuthorizationDetails` is refused, and audited, even while an administrator's
//! reading of the account is kept.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, Response, StatusCode, header};
use rolewright_console::Settings;
use rolewright_server::audit::AuditQuery;
use rolewright_server::{Config, Server};
use tower::ServiceExt as _;

const HOST: &str = "127.0.0.1:4566";
const ASK: &str = "/console/who-can?action=sagemaker%3ACreateTrainingJob&resource=&context=&ask=1";
const TRAIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:CreateTrainingJob","Resource":"*"}]}"#;
const SAGEMAKER_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

struct Fixture {
    server: Server,
    router: Router,
    key_id: String,
    secret: String,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", rolewright_client::client::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn between<'t>(text: &'t str, open: &str, close: &str) -> &'t str {
    let start = text.find(open).unwrap() + open.len();
    &text[start..start + text[start..].find(close).unwrap()]
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn fixture() -> Fixture {
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
    let router =
        rolewright_console::router(server.state(), Settings::default()).merge(server.router());
    Fixture {
        key_id: value("aws_access_key_id"),
        secret: value("aws_secret_access_key"),
        router,
        server,
        _dir: dir,
    }
}

impl Fixture {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response: Response<Body> = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> Answer {
        let request = Request::get(path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, cookie);
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Signs in with a key pair; gives the session cookie (`name=value`).
    async fn sign_in(&self, key_id: &str, secret: &str) -> String {
        let page = self
            .send(
                Request::get("/console/signin")
                    .header(header::HOST, HOST)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let csrf = between(&page.body, "name=\"csrf\" value=\"", "\"").to_string();
        let request = Request::post("/console/signin")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                header::COOKIE,
                page.cookie("rolewright_console_signin").unwrap(),
            )
            .body(Body::from(form(&[
                ("csrf", &csrf),
                ("access_key_id", key_id),
                ("secret_access_key", secret),
                ("session_token", ""),
            ])))
            .unwrap();
        let answer = self.send(request).await;
        answer
            .cookie("rolewright_console")
            .unwrap_or_else(|| panic!("not signed in: {}", answer.body))
    }

    /// An IAM call signed by the administrator, through the control plane's own front.
    async fn admin_iam(&self, pairs: &[(&str, &str)]) -> String {
        let mut all = vec![("Version", "2010-05-08")];
        all.extend_from_slice(pairs);
        let body = form(&all);
        let headers: Vec<(&str, &[u8])> = vec![
            ("host", HOST.as_bytes()),
            ("content-type", b"application/x-www-form-urlencoded"),
        ];
        let unsigned = rolewright_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let creds = rolewright_sigv4::Credentials::new(&self.key_id, &self.secret);
        let added = rolewright_sigv4::sign(&unsigned, &creds, "us-east-1", "iam", now());
        let mut request = Request::post("/")
            .header("host", HOST)
            .header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in &added {
            request = request.header(k.as_str(), v.as_str());
        }
        let answer = self.send(request.body(Body::from(body)).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }

    /// Creates a SageMaker role allowed `sagemaker:CreateTrainingJob`.
    async fn trainer(&self, name: &str) {
        self.admin_iam(&[
            ("Action", "CreateRole"),
            ("RoleName", name),
            ("AssumeRolePolicyDocument", SAGEMAKER_TRUST),
        ])
        .await;
        self.admin_iam(&[
            ("Action", "PutRolePolicy"),
            ("RoleName", name),
            ("PolicyName", "train"),
            ("PolicyDocument", TRAIN),
        ])
        .await;
    }

    fn change_position(&self) -> u64 {
        self.server.state().store.change_position()
    }
}

fn listed(answer: &Answer, role: &str) -> bool {
    answer.body.contains(&format!(
        "<code>arn:aws:iam::123456789012:role/{role}</code> <span class=\"pass\">directly</span>"
    ))
}

#[tokio::test]
async fn a_write_after_a_who_can_answer_is_in_the_next_answer() {
    let f = fixture().await;
    f.trainer("early").await;
    let admin = f.sign_in(&f.key_id, &f.secret).await;
    let first = f.get(ASK, &admin).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(listed(&first, "early"), "{}", first.body);
    assert!(!listed(&first, "late"), "{}", first.body);
    assert!(
        first.body.contains(
            "2 principals can perform <code>sagemaker:CreateTrainingJob</code> on <code>*</code>"
        ),
        "{}",
        first.body
    );

    // Answering writes nothing: the kept analysis stays valid.
    let read_at = f.change_position();
    let again = f.get(ASK, &admin).await;
    assert_eq!(again.body, first.body);
    assert_eq!(
        f.change_position(),
        read_at,
        "reading the page moves nothing"
    );

    f.trainer("late").await;
    assert!(
        f.change_position() > read_at,
        "the write moved the position"
    );
    let after = f.get(ASK, &admin).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert!(listed(&after, "late"), "{}", after.body);
    assert!(
        after.body.contains(
            "3 principals can perform <code>sagemaker:CreateTrainingJob</code> on <code>*</code>"
        ),
        "{}",
        after.body
    );

    // Removing the grant is a write as well: the role is gone from the next answer.
    f.admin_iam(&[
        ("Action", "DeleteRolePolicy"),
        ("RoleName", "early"),
        ("PolicyName", "train"),
    ])
    .await;
    let removed = f.get(ASK, &admin).await;
    assert!(!listed(&removed, "early"), "{}", removed.body);
    assert!(listed(&removed, "late"), "{}", removed.body);
    drop(f.server);
}

#[tokio::test]
async fn a_principal_refused_the_account_details_is_refused_while_the_analysis_is_kept() {
    let f = fixture().await;
    f.trainer("early").await;
    f.admin_iam(&[("Action", "CreateUser"), ("UserName", "pat")])
        .await;
    // Allowed everything but reading the account.
    f.admin_iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "pat"),
        ("PolicyName", "most"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:GetAccountAuthorizationDetails","Resource":"*"}]}"#,
        ),
    ])
    .await;
    let key = f
        .admin_iam(&[("Action", "CreateAccessKey"), ("UserName", "pat")])
        .await;
    let pat = f
        .sign_in(
            between(&key, "<AccessKeyId>", "<"),
            between(&key, "<SecretAccessKey>", "<"),
        )
        .await;
    let admin = f.sign_in(&f.key_id, &f.secret).await;
    let warm = f.get(ASK, &admin).await;
    assert_eq!(warm.status, StatusCode::OK, "{}", warm.body);
    assert!(listed(&warm, "early"), "{}", warm.body);
    let position = f.change_position();

    let started_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for _ in 0..2 {
        let denied = f.get(ASK, &pat).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
        assert!(
            denied.body.contains(
                "User: arn:aws:iam::123456789012:user/pat is not authorized to perform: \
                 iam:GetAccountAuthorizationDetails on resource: * with an explicit deny in an \
                 identity-based policy"
            ),
            "{}",
            denied.body
        );
        assert!(!listed(&denied, "early"), "{}", denied.body);
    }
    assert_eq!(f.change_position(), position, "the analysis was still kept");
    // The administrator is answered from it still, and authorized again for it.
    let again = f.get(ASK, &admin).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);

    let store = &f.server.state().store;
    store.flush().await.unwrap();
    let decisions = |principal: &str| AuditQuery {
        principal: Some(format!("arn:aws:iam::123456789012:user/{principal}")),
        action: Some("iam:GetAccountAuthorizationDetails".into()),
        since_ms: Some(started_ms),
        limit: 100,
        ..AuditQuery::default()
    };
    let refused = store.query_audit(&decisions("pat")).await.unwrap();
    assert_eq!(
        refused
            .iter()
            .map(|r| r.decision.as_str())
            .collect::<Vec<_>>(),
        ["denied", "denied"],
        "each refusal is audited"
    );
    let allowed = store.query_audit(&decisions("admin")).await.unwrap();
    assert_eq!(
        allowed
            .iter()
            .map(|r| r.decision.as_str())
            .collect::<Vec<_>>(),
        ["allowed"],
        "a kept analysis is still a decision"
    );
    drop(f.server);
}
