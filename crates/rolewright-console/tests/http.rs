//! The console's HTTP rules without a socket (`Router::oneshot` on the console merged with the
//! control plane, as `rolewright serve` serves them): the redirect from `/`, sign-in with an
//! access key pair, the session cookie's flags, expiry and revocation, CSRF refusals, and a denied
//! principal's 403 page with AWS's AccessDenied text.
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
use rolewright_server::{Config, Server};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const HOST: &str = "127.0.0.1:4566";

struct Fixture {
    server: Server,
    router: Router,
    key_id: String,
    secret: String,
    dir: tempfile::TempDir,
}

async fn fixture(settings: Settings) -> Fixture {
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
    let router = rolewright_console::router(server.state(), settings).merge(server.router());
    Fixture {
        key_id: value("aws_access_key_id"),
        secret: value("aws_secret_access_key"),
        router,
        server,
        dir,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A response with its body read.
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }

    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    /// The value of the hidden `csrf` input of the page's first form that has one.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").unwrap() + 19;
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

/// The `name=value` part of the `Set-Cookie` of `name`.
fn cookie_pair(answer: &Answer, name: &str) -> String {
    answer
        .cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no cookie {name} in {:?}", answer.cookies()))
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", rolewright_client::client::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
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

    async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::get(path).header(header::HOST, HOST);
        if let Some(c) = cookie {
            request = request.header(header::COOKIE, c);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
        body: String,
    ) -> Answer {
        let mut request = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            request = request.header(header::COOKIE, c);
        }
        if let Some(o) = origin {
            request = request.header(header::ORIGIN, o);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Signs in with a key pair; gives the session cookie (`name=value`) and the sign-in answer.
    async fn sign_in(&self, key_id: &str, secret: &str) -> (Option<String>, Answer) {
        self.sign_in_with(key_id, secret, "").await
    }

    /// [`Fixture::sign_in`] with an STS session token.
    async fn sign_in_with(
        &self,
        key_id: &str,
        secret: &str,
        session_token: &str,
    ) -> (Option<String>, Answer) {
        let page = self.get("/console/signin", None).await;
        assert_eq!(page.status, StatusCode::OK);
        let signin_cookie = cookie_pair(&page, "rolewright_console_signin");
        let answer = self
            .post(
                "/console/signin",
                Some(&signin_cookie),
                Some("http://127.0.0.1:4566"),
                form(&[
                    ("csrf", &page.csrf()),
                    ("access_key_id", key_id),
                    ("secret_access_key", secret),
                    ("session_token", session_token),
                ]),
            )
            .await;
        let session = answer
            .cookies()
            .into_iter()
            .find(|c| {
                c.starts_with("rolewright_console=") && !c.starts_with("rolewright_console=;")
            })
            .map(|c| c.split(';').next().unwrap().to_string());
        (session, answer)
    }

    /// An IAM call signed by the administrator, through the control plane's own front.
    async fn admin_iam(&self, body: &str) -> String {
        self.admin_call("iam", body).await
    }

    /// A query-protocol call to `service` signed by the administrator.
    async fn admin_call(&self, service: &str, body: &str) -> String {
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
        let added = rolewright_sigv4::sign(&unsigned, &creds, "us-east-1", service, now());
        let mut request = Request::post("/")
            .header("host", HOST)
            .header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in &added {
            request = request.header(k.as_str(), v.as_str());
        }
        let answer = self
            .send(request.body(Body::from(body.to_string())).unwrap())
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }
}

impl Fixture {
    /// A JSON-protocol call (`X-Amz-Target: {target}.{op}`) to `service`, signed by the
    /// administrator.
    async fn admin_json(&self, service: &str, target: &str, op: &str, input: Value) -> Value {
        let body = input.to_string();
        let target = format!("{target}.{op}");
        let headers: Vec<(&str, &[u8])> = vec![
            ("host", HOST.as_bytes()),
            ("content-type", b"application/x-amz-json-1.1"),
            ("x-amz-target", target.as_bytes()),
        ];
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
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target.as_str());
        for (k, v) in &added {
            request = request.header(k.as_str(), v.as_str());
        }
        let answer = self.send(request.body(Body::from(body)).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{op}: {}", answer.body);
        serde_json::from_str(&answer.body).unwrap_or(Value::Null)
    }

    async fn sagemaker(&self, op: &str, input: Value) -> Value {
        self.admin_json("sagemaker", "SageMaker", op, input).await
    }

    async fn catalog(&self, op: &str, input: Value) -> Value {
        self.admin_json("servicecatalog", "AWS242ServiceCatalogService", op, input)
            .await
    }
}

fn between<'t>(text: &'t str, open: &str, close: &str) -> &'t str {
    let start = text.find(open).unwrap() + open.len();
    &text[start..start + text[start..].find(close).unwrap()]
}

#[tokio::test]
async fn a_browser_at_the_root_is_sent_to_the_console_and_clients_reach_the_api() {
    let f = fixture(Settings::default()).await;
    let request = Request::get("/")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .body(Body::empty())
        .unwrap();
    let answer = f.send(request).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/console/");

    let api = f.get("/", None).await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert!(
        api.body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{}",
        api.body
    );

    let signed = f.admin_iam("Action=ListRoles&Version=2010-05-08").await;
    assert!(signed.contains("<ListRolesResult>"), "{signed}");

    let page = f.get("/console/roles", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/console/signin?next=/console/roles");
}

#[tokio::test]
async fn signing_in_sets_an_http_only_strict_expiring_cookie_and_signing_out_revokes_it() {
    let f = fixture(Settings::default()).await;
    let (session, answer) = f.sign_in(&f.key_id, &f.secret).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/console/");
    let set = answer
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("rolewright_console=") && !c.starts_with("rolewright_console=;"))
        .unwrap();
    let token = session.unwrap();
    assert_eq!(
        set,
        format!("{token}; Path=/console/; HttpOnly; SameSite=Strict; Max-Age=28800")
    );
    let home = f.get("/console/", Some(&token)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(":user/admin"), "{}", home.body);

    // Sign-out is a form too: refused without its token or from another site.
    let csrf = home.csrf();
    let refused = f
        .post("/console/signout", Some(&token), None, String::new())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let foreign = f
        .post(
            "/console/signout",
            Some(&token),
            Some("http://evil.example"),
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert!(
        foreign.body.contains("sent from another site"),
        "{}",
        foreign.body
    );
    let out = f
        .post(
            "/console/signout",
            Some(&token),
            None,
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/console/signin?signed_out=1");
    assert!(
        out.cookies()
            .iter()
            .any(|c| c
                == "rolewright_console=; Path=/console/; HttpOnly; SameSite=Strict; Max-Age=0"),
        "{:?}",
        out.cookies()
    );
    // The cookie is dead on the server, whatever the browser keeps.
    let after = f.get("/console/roles", Some(&token)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().starts_with("/console/signin"));
}

#[tokio::test]
async fn a_session_expires() {
    let settings = Settings {
        session_seconds: 1,
        ..Settings::default()
    };
    let f = fixture(settings).await;
    let (session, answer) = f.sign_in(&f.key_id, &f.secret).await;
    assert!(answer.cookies().iter().any(|c| c.ends_with("Max-Age=1")));
    let token = session.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let after = f.get("/console/", Some(&token)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().starts_with("/console/signin"));
}

#[tokio::test]
async fn sign_in_refuses_a_wrong_secret_a_missing_token_and_a_foreign_origin() {
    let f = fixture(Settings::default()).await;
    let (session, answer) = f.sign_in(&f.key_id, "wrong").await;
    assert!(session.is_none());
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer
            .body
            .contains("The access key ID, secret access key or session token is not valid."),
        "{}",
        answer.body
    );
    let (session, _) = f.sign_in("AKIAUNKNOWNKEY000000", &f.secret).await;
    assert!(session.is_none());

    let page = f.get("/console/signin", None).await;
    let signin_cookie = cookie_pair(&page, "rolewright_console_signin");
    let keys = [
        ("access_key_id", f.key_id.as_str()),
        ("secret_access_key", f.secret.as_str()),
    ];
    // No token in the form.
    let no_token = f
        .post("/console/signin", Some(&signin_cookie), None, form(&keys))
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert!(
        no_token.body.contains("security token is missing or wrong"),
        "{}",
        no_token.body
    );
    // The form's token without the cookie it was issued with.
    let csrf = page.csrf();
    let mut with_token = keys.to_vec();
    with_token.push(("csrf", &csrf));
    let no_cookie = f
        .post("/console/signin", None, None, form(&with_token))
        .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    // From another site.
    let foreign = f
        .post(
            "/console/signin",
            Some(&signin_cookie),
            Some("http://evil.example"),
            form(&with_token),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    // And right.
    let ok = f
        .post(
            "/console/signin",
            Some(&signin_cookie),
            Some("http://127.0.0.1:4566"),
            form(&with_token),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_console_action_without_the_forms_token_is_refused() {
    let f = fixture(Settings::default()).await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();
    f.admin_iam(&form(&[
        ("Action", "CreateRole"),
        ("Version", "2010-05-08"),
        ("RoleName", "keep-me"),
        (
            "AssumeRolePolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        ),
    ]))
    .await;
    let refused = f
        .post(
            "/console/roles/keep-me/delete",
            Some(&token),
            None,
            String::new(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let wrong = f
        .post(
            "/console/roles/keep-me/delete",
            Some(&token),
            None,
            form(&[("csrf", "0000")]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let wizard = f
        .post(
            "/console/create-role/details",
            Some(&token),
            None,
            form(&[("name_suffix", "x"), ("go", "next")]),
        )
        .await;
    assert_eq!(wizard.status, StatusCode::FORBIDDEN);
    let still = f.get("/console/roles/keep-me", Some(&token)).await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.body);

    // With the token, the role is deleted through DeleteRole.
    let csrf = still.csrf();
    let deleted = f
        .post(
            "/console/roles/keep-me/delete",
            Some(&token),
            Some("http://127.0.0.1:4566"),
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    assert_eq!(deleted.location(), "/console/roles?deleted=keep-me");
    let gone = f.get("/console/roles/keep-me", Some(&token)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(
        gone.body
            .contains("The role with name keep-me cannot be found."),
        "{}",
        gone.body
    );
}

#[tokio::test]
async fn a_user_without_iam_permissions_gets_a_403_page_with_the_access_denied_text() {
    let f = fixture(Settings::default()).await;
    f.admin_iam("Action=CreateUser&Version=2010-05-08&UserName=dana")
        .await;
    f.admin_iam(&form(&[
        ("Action", "PutUserPolicy"),
        ("Version", "2010-05-08"),
        ("UserName", "dana"),
        ("PolicyName", "studio"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:*","Resource":"*"}]}"#,
        ),
    ]))
    .await;
    let key = f
        .admin_iam("Action=CreateAccessKey&Version=2010-05-08&UserName=dana")
        .await;
    let (id, secret) = (
        between(&key, "<AccessKeyId>", "<"),
        between(&key, "<SecretAccessKey>", "<"),
    );
    let (session, _) = f.sign_in(id, secret).await;
    let token = session.unwrap();
    let page = f.get("/console/roles", Some(&token)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains(
            "User: arn:aws:iam::123456789012:user/dana is not authorized to perform: \
             iam:ListRoles on resource: arn:aws:iam::123456789012:role/ because no \
             identity-based policy allows the iam:ListRoles action"
        ),
        "{}",
        page.body
    );
    let wizard = f.get("/console/create-role/policies", Some(&token)).await;
    assert_eq!(wizard.status, StatusCode::FORBIDDEN);
    assert!(wizard.body.contains("iam:ListPolicies"), "{}", wizard.body);

    // The denial is in the audit log, as the console's call by dana.
    let query = rolewright_server::audit::AuditQuery {
        principal: Some("arn:aws:iam::123456789012:user/dana".into()),
        action: Some("iam:ListRoles".into()),
        decision: Some("denied".into()),
        since_ms: None,
        until_ms: None,
        limit: 10,
    };
    let mut records = Vec::new();
    for _ in 0..50 {
        records = rolewright_server::audit::query(&f.dir.path().join("data"), &query).unwrap();
        if !records.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].user_agent.as_deref(), Some("rolewright-console"));
    drop(f.server);
}

#[tokio::test]
async fn an_sts_session_signs_in_with_its_token_and_only_with_it() {
    let f = fixture(Settings::default()).await;
    f.admin_iam(&form(&[
        ("Action", "CreateRole"),
        ("Version", "2010-05-08"),
        ("RoleName", "operator"),
        (
            "AssumeRolePolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"sts:AssumeRole"}]}"#,
        ),
    ]))
    .await;
    let assumed = f
        .admin_call(
            "sts",
            &form(&[
                ("Action", "AssumeRole"),
                ("Version", "2011-06-15"),
                ("RoleArn", "arn:aws:iam::123456789012:role/operator"),
                ("RoleSessionName", "console"),
            ]),
        )
        .await;
    let id = between(&assumed, "<AccessKeyId>", "<");
    let secret = between(&assumed, "<SecretAccessKey>", "<");
    let token = between(&assumed, "<SessionToken>", "<");
    let (none, refused) = f.sign_in(id, secret).await;
    assert!(none.is_none());
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (session, answer) = f.sign_in_with(id, secret, token).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let home = f.get("/console/", Some(&session.unwrap())).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body
            .contains("arn:aws:sts::123456789012:assumed-role/operator/console"),
        "{}",
        home.body
    );
}

#[tokio::test]
async fn behind_a_tls_proxy_the_cookies_are_secure() {
    let f = fixture(Settings::default()).await;
    let request = Request::get("/console/signin")
        .header(header::HOST, HOST)
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    let page = f.send(request).await;
    let cookie = page
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("rolewright_console_signin="))
        .unwrap();
    assert!(cookie.ends_with("; Max-Age=3600; Secure"), "{cookie}");
    let plain = f.get("/console/signin", None).await;
    assert!(!plain.cookies().iter().any(|c| c.contains("Secure")));
}

const SAGEMAKER_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// What the Studio, Service Catalog and stacks pages show: a stack with an output, a domain with
/// alice (who has a running app) and bob, and a portfolio with a product, a launch constraint,
/// a principal and a provisioned product.
struct Resources {
    domain: String,
    provisioned: String,
}

async fn resources(f: &Fixture) -> Resources {
    f.admin_iam(&form(&[
        ("Action", "CreateRole"),
        ("Version", "2010-05-08"),
        ("RoleName", "StudioRole"),
        ("AssumeRolePolicyDocument", SAGEMAKER_TRUST),
    ]))
    .await;
    let role = "arn:aws:iam::123456789012:role/StudioRole";
    let template = r#"{"Description":"A role for the console's tests","Resources":{"AppRole":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"stack-made-role","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}}}},"Outputs":{"RoleArn":{"Value":{"Fn::GetAtt":["AppRole","Arn"]},"Description":"The role made"}}}"#;
    f.admin_call(
        "cloudformation",
        &form(&[
            ("Action", "CreateStack"),
            ("Version", "2010-05-15"),
            ("StackName", "team-roles"),
            ("TemplateBody", template),
            ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
        ]),
    )
    .await;

    let created = f
        .sagemaker(
            "CreateDomain",
            json!({
                "DomainName": "team",
                "AuthMode": "IAM",
                "DefaultUserSettings": {"ExecutionRole": role},
                "SubnetIds": ["subnet-0123456789abcdef0"],
                "VpcId": "vpc-0123456789abcdef0",
            }),
        )
        .await;
    let domain = created["DomainArn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    for user in ["alice", "bob"] {
        f.sagemaker(
            "CreateUserProfile",
            json!({"DomainId": domain, "UserProfileName": user, "UserSettings": {"ExecutionRole": role}}),
        )
        .await;
    }
    f.sagemaker(
        "CreateApp",
        json!({"DomainId": domain, "UserProfileName": "alice", "AppType": "JupyterServer", "AppName": "default"}),
    )
    .await;

    let portfolio = f
        .catalog(
            "CreatePortfolio",
            json!({"DisplayName": "ML templates", "ProviderName": "Platform team", "IdempotencyToken": "p1"}),
        )
        .await["PortfolioDetail"]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = f.dir.path().join("product.json");
    std::fs::write(
        &path,
        r#"{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}}}}}"#,
    )
    .unwrap();
    let product = f
        .catalog(
            "CreateProduct",
            json!({
                "Name": "Notebook role", "Owner": "Platform team", "ProductType": "CLOUD_FORMATION_TEMPLATE",
                "IdempotencyToken": "t1",
                "ProvisioningArtifactParameters": {"Name": "v1", "Type": "CLOUD_FORMATION_TEMPLATE",
                    "Info": {"LoadTemplateFromURL": format!("file://{}", path.display())}},
            }),
        )
        .await;
    let product_id = product["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        .as_str()
        .unwrap()
        .to_string();
    let artifact = product["ProvisioningArtifactDetail"]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    f.catalog(
        "AssociateProductWithPortfolio",
        json!({"ProductId": product_id, "PortfolioId": portfolio}),
    )
    .await;
    let me = f
        .admin_call("sts", "Action=GetCallerIdentity&Version=2011-06-15")
        .await;
    let me = between(&me, "<Arn>", "<").to_string();
    f.catalog(
        "AssociatePrincipalWithPortfolio",
        json!({"PortfolioId": portfolio, "PrincipalARN": me, "PrincipalType": "IAM"}),
    )
    .await;
    f.admin_iam(&form(&[
        ("Action", "CreateRole"),
        ("Version", "2010-05-08"),
        ("RoleName", "LaunchRole"),
        (
            "AssumeRolePolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"servicecatalog.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        ),
    ]))
    .await;
    f.admin_iam(&form(&[
        ("Action", "PutRolePolicy"),
        ("Version", "2010-05-08"),
        ("RoleName", "LaunchRole"),
        ("PolicyName", "all"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ),
    ]))
    .await;
    f.catalog(
        "CreateConstraint",
        json!({
            "PortfolioId": portfolio, "ProductId": product_id, "Type": "LAUNCH",
            "Parameters": "{\"RoleArn\":\"arn:aws:iam::123456789012:role/LaunchRole\"}",
            "Description": "Role used for provisioning", "IdempotencyToken": "c1",
        }),
    )
    .await;
    let provisioned = f
        .catalog(
            "ProvisionProduct",
            json!({
                "ProductId": product_id, "ProvisioningArtifactId": artifact,
                "ProvisionedProductName": "notebook-role", "ProvisionToken": "pp1",
            }),
        )
        .await["RecordDetail"]["ProvisionedProductId"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..100 {
        let status = f
            .catalog("DescribeProvisionedProduct", json!({"Id": provisioned}))
            .await["ProvisionedProductDetail"]["Status"]
            .clone();
        if status != "UNDER_CHANGE" {
            assert_eq!(status, "AVAILABLE");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Resources {
        domain,
        provisioned,
    }
}

#[tokio::test]
async fn the_stacks_studio_and_service_catalog_pages_render_for_the_administrator() {
    let f = fixture(Settings::default()).await;
    let made = resources(&f).await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();

    let home = f.get("/console/", Some(&token)).await;
    for link in ["/console/stacks", "/console/studio", "/console/catalog"] {
        assert!(home.body.contains(&format!("href=\"{link}\"")), "{link}");
    }

    let stacks = f.get("/console/stacks", Some(&token)).await;
    assert_eq!(stacks.status, StatusCode::OK, "{}", stacks.body);
    assert!(stacks.body.contains("team-roles"), "{}", stacks.body);
    assert!(stacks.body.contains("CREATE_COMPLETE"), "{}", stacks.body);
    let stack = f.get("/console/stacks/team-roles", Some(&token)).await;
    assert_eq!(stack.status, StatusCode::OK, "{}", stack.body);
    for text in [
        "arn:aws:iam::123456789012:role/stack-made-role",
        "AWS::IAM::Role",
        "AppRole",
        "The role made",
        "Delete stack",
    ] {
        assert!(stack.body.contains(text), "{text}: {}", stack.body);
    }

    let studio = f.get("/console/studio", Some(&token)).await;
    assert_eq!(studio.status, StatusCode::OK, "{}", studio.body);
    assert!(studio.body.contains(&made.domain), "{}", studio.body);
    let domain = f
        .get(&format!("/console/studio/{}", made.domain), Some(&token))
        .await;
    assert_eq!(domain.status, StatusCode::OK, "{}", domain.body);
    for text in [
        "alice",
        "bob",
        "arn:aws:iam::123456789012:role/StudioRole",
        "JupyterServer",
        "InService",
    ] {
        assert!(domain.body.contains(text), "{text}: {}", domain.body);
    }
    let alice = f
        .get(
            &format!("/console/studio/{}/users/alice", made.domain),
            Some(&token),
        )
        .await;
    assert_eq!(alice.status, StatusCode::OK, "{}", alice.body);
    assert!(alice.body.contains("JupyterServer"), "{}", alice.body);
    assert!(
        alice.body.contains(
            "JumpStart: <strong>disabled</strong>; project templates: <strong>disabled</strong>"
        ),
        "{}",
        alice.body
    );
    assert!(
        alice
            .body
            .contains("SageMaker Service Catalog portfolio switch is off"),
        "{}",
        alice.body
    );
    assert!(
        alice
            .body
            .contains("disabled aria-describedby=\"edit-reason\""),
        "{}",
        alice.body
    );
    assert!(
        alice
            .body
            .contains("The user profile has apps that are not Deleted: JupyterServer default"),
        "{}",
        alice.body
    );
    let refused = f
        .get(
            &format!("/console/studio/{}/users/alice/edit", made.domain),
            Some(&token),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let bob = f
        .get(
            &format!("/console/studio/{}/users/bob", made.domain),
            Some(&token),
        )
        .await;
    assert_eq!(bob.status, StatusCode::OK, "{}", bob.body);
    assert!(bob.body.contains("No apps."), "{}", bob.body);
    let edit_path = format!("/console/studio/{}/users/bob/edit", made.domain);
    assert!(bob.body.contains(&edit_path), "{}", bob.body);
    let edit = f.get(&edit_path, Some(&token)).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    let saved = f
        .post(
            &edit_path,
            Some(&token),
            Some("http://127.0.0.1:4566"),
            form(&[
                ("csrf", &edit.csrf()),
                (
                    "execution_role",
                    "arn:aws:iam::123456789012:role/LaunchRole",
                ),
            ]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let described = f
        .sagemaker(
            "DescribeUserProfile",
            json!({"DomainId": made.domain, "UserProfileName": "bob"}),
        )
        .await;
    assert_eq!(
        described["UserSettings"]["ExecutionRole"],
        "arn:aws:iam::123456789012:role/LaunchRole"
    );

    let catalog = f.get("/console/catalog", Some(&token)).await;
    assert_eq!(catalog.status, StatusCode::OK, "{}", catalog.body);
    assert!(catalog.body.contains("ML templates"), "{}", catalog.body);
    let at = catalog.body.find("/console/catalog/portfolios/").unwrap();
    let link = catalog.body[at..].split('"').next().unwrap().to_string();
    let portfolio = f.get(&link, Some(&token)).await;
    assert_eq!(portfolio.status, StatusCode::OK, "{}", portfolio.body);
    for text in [
        "Notebook role",
        "LAUNCH",
        "Role used for provisioning",
        "LaunchRole",
        "arn:aws:iam::123456789012:user/",
    ] {
        assert!(portfolio.body.contains(text), "{text}: {}", portfolio.body);
    }
    let provisioned = f.get("/console/catalog/provisioned", Some(&token)).await;
    assert_eq!(provisioned.status, StatusCode::OK, "{}", provisioned.body);
    assert!(
        provisioned.body.contains("notebook-role"),
        "{}",
        provisioned.body
    );
    assert!(
        provisioned.body.contains(&made.provisioned),
        "{}",
        provisioned.body
    );

    // Terminate and delete, with the form's token.
    let csrf = provisioned.csrf();
    let terminated = f
        .post(
            &format!(
                "/console/catalog/provisioned/{}/terminate",
                made.provisioned
            ),
            Some(&token),
            Some("http://127.0.0.1:4566"),
            form(&[("csrf", &csrf), ("name", "notebook-role")]),
        )
        .await;
    assert_eq!(
        terminated.status,
        StatusCode::SEE_OTHER,
        "{}",
        terminated.body
    );
    assert_eq!(
        terminated.location(),
        "/console/catalog/provisioned?terminated=notebook-role"
    );
    let deleted = f
        .post(
            "/console/stacks/team-roles/delete",
            Some(&token),
            Some("http://127.0.0.1:4566"),
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    let gone = f.get("/console/stacks", Some(&token)).await;
    assert!(
        !gone.body.contains("/console/stacks/team-roles\""),
        "{}",
        gone.body
    );
    drop(f.server);
}

#[tokio::test]
async fn stacks_studio_and_catalog_refuse_the_unauthorized_and_forms_without_the_token() {
    let f = fixture(Settings::default()).await;
    let made = resources(&f).await;
    f.admin_iam("Action=CreateUser&Version=2010-05-08&UserName=erin")
        .await;
    let key = f
        .admin_iam("Action=CreateAccessKey&Version=2010-05-08&UserName=erin")
        .await;
    let (id, secret) = (
        between(&key, "<AccessKeyId>", "<"),
        between(&key, "<SecretAccessKey>", "<"),
    );
    let (session, _) = f.sign_in(id, secret).await;
    let erin = session.unwrap();
    let denied = |action: &str, resource: &str| {
        format!(
            "User: arn:aws:iam::123456789012:user/erin is not authorized to perform: {action} \
             on resource: {resource} because no identity-based policy allows the {action} action"
        )
    };
    let domain_arn = format!(
        "arn:aws:sagemaker:us-east-1:123456789012:domain/{}",
        made.domain
    );
    for (path, action, resource) in [
        (
            "/console/stacks".to_string(),
            "cloudformation:DescribeStacks",
            None,
        ),
        (
            "/console/stacks/team-roles".to_string(),
            "cloudformation:DescribeStacks",
            None,
        ),
        (
            "/console/studio".to_string(),
            "sagemaker:ListDomains",
            Some("*".to_string()),
        ),
        (
            format!("/console/studio/{}", made.domain),
            "sagemaker:DescribeDomain",
            Some(domain_arn.clone()),
        ),
        (
            format!("/console/studio/{}/users/alice", made.domain),
            "sagemaker:DescribeUserProfile",
            None,
        ),
        (
            "/console/catalog".to_string(),
            "servicecatalog:ListPortfolios",
            None,
        ),
        (
            "/console/catalog/provisioned".to_string(),
            "servicecatalog:SearchProvisionedProducts",
            None,
        ),
    ] {
        let page = f.get(&path, Some(&erin)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        assert!(page.body.contains("Access denied"), "{path}: {}", page.body);
        match resource {
            Some(resource) => assert!(
                page.body.contains(&denied(action, &resource)),
                "{path}: {}",
                page.body
            ),
            None => assert!(
                page.body
                    .contains(&format!("is not authorized to perform: {action}")),
                "{path}: {}",
                page.body
            ),
        }
    }

    // The administrator's forms without their token are refused, and nothing changes.
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let admin = session.unwrap();
    for path in [
        "/console/stacks/team-roles/delete".to_string(),
        format!(
            "/console/catalog/provisioned/{}/terminate",
            made.provisioned
        ),
        format!("/console/studio/{}/users/bob/edit", made.domain),
    ] {
        let refused = f.post(&path, Some(&admin), None, String::new()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        let wrong = f
            .post(&path, Some(&admin), None, form(&[("csrf", "0000")]))
            .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{path}");
    }
    let stack = f.get("/console/stacks/team-roles", Some(&admin)).await;
    assert!(stack.body.contains("CREATE_COMPLETE"), "{}", stack.body);
    let provisioned = f.get("/console/catalog/provisioned", Some(&admin)).await;
    assert!(
        provisioned.body.contains("AVAILABLE"),
        "{}",
        provisioned.body
    );
    drop(f.server);
}

impl Fixture {
    /// A form posted in a session, from this console's origin.
    async fn submit(&self, path: &str, token: &str, pairs: &[(&str, &str)]) -> Answer {
        self.post(
            path,
            Some(token),
            Some("http://127.0.0.1:4566"),
            form(pairs),
        )
        .await
    }

    /// A user with one inline policy, signed in; gives the session cookie.
    async fn user_with(&self, name: &str, policy: &str) -> String {
        self.admin_iam(&format!(
            "Action=CreateUser&Version=2010-05-08&UserName={name}"
        ))
        .await;
        self.admin_iam(&form(&[
            ("Action", "PutUserPolicy"),
            ("Version", "2010-05-08"),
            ("UserName", name),
            ("PolicyName", "p"),
            ("PolicyDocument", policy),
        ]))
        .await;
        let key = self
            .admin_iam(&format!(
                "Action=CreateAccessKey&Version=2010-05-08&UserName={name}"
            ))
            .await;
        let (id, secret) = (
            between(&key, "<AccessKeyId>", "<"),
            between(&key, "<SecretAccessKey>", "<"),
        );
        self.sign_in(id, secret).await.0.unwrap()
    }

    async fn sagemaker_role(&self, name: &str) {
        self.admin_iam(&form(&[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", name),
            (
                "AssumeRolePolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            ),
        ]))
        .await;
    }

    /// Follows a page that refreshes itself until it no longer does.
    async fn until_done(&self, path: &str, token: &str) -> Answer {
        for _ in 0..100 {
            let page = self.get(path, Some(token)).await;
            if !page.body.contains("data-refresh") {
                return page;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{path} is still in progress")
    }
}

#[tokio::test]
async fn a_domain_and_a_user_are_created_from_forms_and_jumpstart_is_enabled_as_a_job() {
    let f = fixture(Settings::default()).await;
    f.sagemaker_role("OtherRole").await;
    f.sagemaker_role("SageMaker-ds").await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();

    let new = f.get("/console/studio/new", Some(&token)).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.body);
    let built = new.body.find("Roles built from a persona").unwrap();
    let ds = new.body.find(">SageMaker-ds<").unwrap();
    let other = new.body.find(">OtherRole<").unwrap();
    assert!(built < ds && ds < other, "the wizard's roles come first");
    let csrf = new.csrf();

    let refused = f
        .post(
            "/console/studio/new",
            Some(&token),
            None,
            form(&[("domain_name", "team")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let invalid = f
        .submit(
            "/console/studio/new",
            &token,
            &[
                ("csrf", &csrf),
                ("domain_name", "bad_name"),
                ("vpc_id", "vpc-1"),
                ("network", "PublicInternetOnly"),
            ],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    for message in [
        "Domain name `bad_name` may have only letters, digits and hyphens inside, up to 63 characters",
        "Choose the default execution role",
        "Give both the VPC ID and its subnets, or neither",
    ] {
        assert!(
            invalid.body.contains(message),
            "{message}: {}",
            invalid.body
        );
    }
    let ds_arn = "arn:aws:iam::123456789012:role/SageMaker-ds";
    let created = f
        .submit(
            "/console/studio/new",
            &token,
            &[
                ("csrf", &csrf),
                ("domain_name", "team"),
                ("execution_role", "arn:aws:iam::123456789012:role/OtherRole"),
                ("network", "PublicInternetOnly"),
                ("vpc_id", "vpc-0123456789abcdef0"),
                (
                    "subnets",
                    "subnet-0123456789abcdef0\nsubnet-0123456789abcdef1",
                ),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let domain_page = created.location().split('?').next().unwrap().to_string();
    let domain = domain_page.rsplit('/').next().unwrap().to_string();
    let page = f.get(created.location(), Some(&token)).await;
    assert!(page.body.contains("Domain created."), "{}", page.body);
    assert!(page.body.contains("Add the first user"), "{}", page.body);

    let add = format!("{domain_page}/users/new");
    let form_page = f.get(&add, Some(&token)).await;
    assert_eq!(form_page.status, StatusCode::OK, "{}", form_page.body);
    assert!(
        form_page
            .body
            .contains("The domain's default execution role"),
        "{}",
        form_page.body
    );
    let bad = f
        .submit(&add, &token, &[("csrf", &csrf), ("user_name", "-carol")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("User profile name `-carol` may have only"),
        "{}",
        bad.body
    );
    // Bob uses the domain's role; carol a custom one, JumpStart enabled at onboarding.
    let bob = f
        .submit(
            &add,
            &token,
            &[
                ("csrf", &csrf),
                ("user_name", "bob"),
                ("execution_role", ""),
            ],
        )
        .await;
    assert_eq!(bob.status, StatusCode::SEE_OTHER, "{}", bob.body);
    assert_eq!(bob.location(), format!("{domain_page}?added=bob"));
    let before = f
        .get(&format!("{domain_page}/users/bob"), Some(&token))
        .await;
    assert!(
        before
            .body
            .contains("switch is off (EnableSagemakerServicecatalogPortfolio)"),
        "{}",
        before.body
    );
    assert!(
        before
            .body
            .contains("Enable JumpStart and Projects for bob"),
        "{}",
        before.body
    );
    let carol = f
        .submit(
            &add,
            &token,
            &[
                ("csrf", &csrf),
                ("user_name", "carol"),
                ("execution_role", ds_arn),
                ("enable_jumpstart", "1"),
            ],
        )
        .await;
    assert_eq!(carol.status, StatusCode::SEE_OTHER, "{}", carol.body);
    assert!(
        carol.location().starts_with("/console/jobs/"),
        "{}",
        carol.location()
    );
    let job = f.until_done(carol.location(), &token).await;
    assert!(job.body.contains("Done."), "{}", job.body);
    assert!(
        job.body
            .contains("1 user profiles in scope: 1 newly enabled"),
        "{}",
        job.body
    );
    for step in [
        "Turned the SageMaker Service Catalog portfolio switch on",
        "Created the role AmazonSageMakerServiceCatalogProductsLaunchRole",
        "Associated arn:aws:iam::123456789012:role/SageMaker-ds with the SageMaker portfolio",
    ] {
        assert!(job.body.contains(step), "{step}: {}", job.body);
    }
    let enabled = f
        .get(&format!("{domain_page}/users/carol"), Some(&token))
        .await;
    assert!(
        enabled
            .body
            .contains("JumpStart and project templates: <strong>enabled</strong>"),
        "{}",
        enabled.body
    );
    // Another principal may not see the job.
    let other = f.user_with("eve", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:*","Resource":"*"}]}"#).await;
    assert_eq!(
        f.get(carol.location(), Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );

    // All users: bob's (the domain's) role is associated too.
    let all = f
        .submit(
            &format!("/console/studio/{domain}/jumpstart"),
            &token,
            &[("csrf", &csrf), ("scope", "all")],
        )
        .await;
    assert_eq!(all.status, StatusCode::SEE_OTHER, "{}", all.body);
    let job = f.until_done(all.location(), &token).await;
    assert!(
        job.body.contains(
            "2 user profiles in scope: 1 newly enabled, 1 already enabled, 0 still disabled"
        ),
        "{}",
        job.body
    );
    let list = f.get(&domain_page, Some(&token)).await;
    assert_eq!(
        list.body.matches("<td>enabled</td>").count(),
        2,
        "{}",
        list.body
    );
}

#[tokio::test]
async fn apps_are_deleted_from_the_console_and_the_jumpstart_reads_are_the_principals() {
    let f = fixture(Settings::default()).await;
    let made = resources(&f).await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();
    let alice = format!("/console/studio/{}/users/alice", made.domain);
    let page = f.get(&alice, Some(&token)).await;
    assert!(
        page.body.contains("Delete app JupyterServer default"),
        "{}",
        page.body
    );
    let delete = format!("/console/studio/{}/apps/delete", made.domain);
    let fields = [
        ("app_type", "JupyterServer"),
        ("app_name", "default"),
        ("user_profile", "alice"),
        ("back", alice.as_str()),
    ];
    let refused = f.post(&delete, Some(&token), None, form(&fields)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let csrf = page.csrf();
    let mut with_token = vec![("csrf", csrf.as_str())];
    with_token.extend(fields);
    let deleted = f.submit(&delete, &token, &with_token).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    assert_eq!(deleted.location(), format!("{alice}?app_deleted=1"));
    let after = f.get(deleted.location(), Some(&token)).await;
    assert!(
        after.body.contains("Deletion of the app started."),
        "{}",
        after.body
    );

    // A principal with SageMaker rights only sees why the status is not shown.
    let dana = f
        .user_with("dana", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:*","Resource":"*"}]}"#)
        .await;
    let page = f.get(&alice, Some(&dana)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("User: arn:aws:iam::123456789012:user/dana is not authorized to perform: servicecatalog:ListAcceptedPortfolioShares"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Enable JumpStart and Projects for"),
        "{}",
        page.body
    );
    let job = f
        .submit(
            &format!("/console/studio/{}/jumpstart", made.domain),
            &dana,
            &[("csrf", &page.csrf()), ("user", "alice")],
        )
        .await;
    let stopped = f.until_done(job.location(), &dana).await;
    assert!(stopped.body.contains("The job stopped"), "{}", stopped.body);
    assert!(
        stopped
            .body
            .contains("servicecatalog:ListAcceptedPortfolioShares"),
        "{}",
        stopped.body
    );
}

async fn presigned_url(f: &Fixture, domain: &str) -> String {
    f.sagemaker(
        "CreatePresignedDomainUrl",
        json!({"DomainId": domain, "UserProfileName": "alice"}),
    )
    .await["AuthorizedUrl"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_presigned_domain_url_signs_a_studio_user_in_once_as_its_execution_role() {
    let f = fixture(Settings::default()).await;
    let made = resources(&f).await;
    f.admin_iam(&form(&[
        ("Action", "PutRolePolicy"),
        ("Version", "2010-05-08"),
        ("RoleName", "StudioRole"),
        ("PolicyName", "studio"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sagemaker:Describe*","sagemaker:List*"],"Resource":"*"}]}"#,
        ),
    ]))
    .await;
    let first = presigned_url(&f, &made.domain).await;
    let token = first.split("token=").nth(1).unwrap().to_string();
    let opened = f
        .get(&format!("/console/studio/open?token={token}"), None)
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let own = format!("/console/studio/{}/users/alice", made.domain);
    assert_eq!(opened.location(), own);
    let cookie = cookie_pair(&opened, "rolewright_console");
    assert!(
        opened
            .cookies()
            .iter()
            .any(|c| c.contains("HttpOnly") && c.contains("SameSite=Strict"))
    );
    let page = f.get(&own, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("arn:aws:sts::123456789012:assumed-role/StudioRole/alice"),
        "{}",
        page.body
    );
    assert!(page.body.contains("JupyterServer"), "{}", page.body);

    // Once only; a tampered token is not ours.
    let again = f
        .get(&format!("/console/studio/open?token={token}"), None)
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(
        again.body.contains("the link was used already"),
        "{}",
        again.body
    );
    assert!(!again.cookies().iter().any(|c| c.starts_with("rolewright_console=") && !c.starts_with("rolewright_console=;")));
    let tampered = f
        .get(&format!("/console/studio/open?token=x{token}"), None)
        .await;
    assert_eq!(tampered.status, StatusCode::FORBIDDEN);
    assert!(
        tampered.body.contains("the link is not valid"),
        "{}",
        tampered.body
    );

    // The data scientist is denied an admin page with AWS's text.
    let roles = f.get("/console/roles", Some(&cookie)).await;
    assert_eq!(roles.status, StatusCode::FORBIDDEN);
    assert!(
        roles.body.contains(
            "User: arn:aws:sts::123456789012:assumed-role/StudioRole/alice is not authorized to perform: iam:ListRoles"
        ),
        "{}",
        roles.body
    );

    // Pasted into the sign-in page's second form, a fresh URL works too; without the form's
    // token it does not.
    let signin = f.get("/console/signin", None).await;
    let signin_cookie = cookie_pair(&signin, "rolewright_console_signin");
    let fresh = presigned_url(&f, &made.domain).await;
    let refused = f
        .post(
            "/console/signin/studio",
            Some(&signin_cookie),
            None,
            form(&[("presigned_url", &fresh)]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let pasted = f
        .post(
            "/console/signin/studio",
            Some(&signin_cookie),
            Some("http://127.0.0.1:4566"),
            form(&[("csrf", &signin.csrf()), ("presigned_url", &fresh)]),
        )
        .await;
    assert_eq!(pasted.status, StatusCode::SEE_OTHER, "{}", pasted.body);
    assert_eq!(pasted.location(), own);
}

#[tokio::test]
async fn a_product_is_provisioned_from_its_parameters_and_its_record_is_followed() {
    let f = fixture(Settings::default()).await;
    let _made = resources(&f).await;
    let portfolio = f.catalog("ListPortfolios", json!({})).await["PortfolioDetails"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = f.dir.path().join("parameters.json");
    std::fs::write(
        &path,
        r#"{"Parameters":{
            "RoleName":{"Type":"String","Description":"The role's name","MaxLength":64},
            "Tier":{"Type":"String","Default":"small","AllowedValues":["small","large"]},
            "Token":{"Type":"String","NoEcho":true,"Default":"hidden"},
            "Size":{"Type":"Number","Default":5,"MinValue":1,"MaxValue":10}},
          "Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":{"Ref":"RoleName"},"AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}}}},
          "Outputs":{"RoleArn":{"Value":{"Fn::GetAtt":["R","Arn"]},"Description":"The role made"}}}"#,
    )
    .unwrap();
    let product = f
        .catalog(
            "CreateProduct",
            json!({
                "Name": "Team role", "Owner": "Platform team", "ProductType": "CLOUD_FORMATION_TEMPLATE",
                "IdempotencyToken": "t2",
                "ProvisioningArtifactParameters": {"Name": "v1", "Type": "CLOUD_FORMATION_TEMPLATE",
                    "Info": {"LoadTemplateFromURL": format!("file://{}", path.display())}},
            }),
        )
        .await;
    let id = product["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        .as_str()
        .unwrap()
        .to_string();
    f.catalog(
        "AssociateProductWithPortfolio",
        json!({"ProductId": id, "PortfolioId": portfolio}),
    )
    .await;
    f.catalog(
        "CreateConstraint",
        json!({
            "PortfolioId": portfolio, "ProductId": id, "Type": "LAUNCH",
            "Parameters": "{\"RoleArn\":\"arn:aws:iam::123456789012:role/LaunchRole\"}",
            "IdempotencyToken": "c2",
        }),
    )
    .await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();
    let listed = f
        .get(
            &format!("/console/catalog/portfolios/{portfolio}"),
            Some(&token),
        )
        .await;
    let link = format!("/console/catalog/products/{id}/provision");
    assert!(listed.body.contains(&link), "{}", listed.body);
    let page = f.get(&link, Some(&token)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for part in [
        r#"<select id="param-Tier""#,
        r#"<option value="small" selected>small</option>"#,
        r#"name="param-Token" type="password""#,
        "The role&#39;s name Type String. Required. Length at most 64.",
        r#"name="param-Size" type="text" value="5""#,
    ] {
        assert!(
            page.body.contains(part) || page.body.contains(&part.replace("&#39;", "'")),
            "{part}: {}",
            page.body
        );
    }
    let csrf = page.csrf();
    let refused = f
        .post(
            &link,
            Some(&token),
            None,
            form(&[("provisioned_name", "x")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let invalid = f
        .submit(
            &link,
            &token,
            &[
                ("csrf", &csrf),
                ("provisioned_name", "-x"),
                ("param-Size", "20"),
                ("param-Tier", "huge"),
            ],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    for message in [
        "Provisioned product name `-x` may have only letters",
        "Enter a value for RoleName: it has no default",
        "Tier must be one of small, large",
        "Size must be at most 10",
    ] {
        assert!(
            invalid.body.contains(message),
            "{message}: {}",
            invalid.body
        );
    }
    let started = f
        .submit(
            &link,
            &token,
            &[
                ("csrf", &csrf),
                ("provisioned_name", "team-role"),
                ("param-RoleName", "made-by-form"),
                ("param-Tier", "large"),
                ("param-Size", "3"),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert!(
        started.location().starts_with("/console/catalog/records/"),
        "{}",
        started.location()
    );
    let record = f.until_done(started.location(), &token).await;
    assert!(record.body.contains("SUCCEEDED"), "{}", record.body);
    assert!(
        record
            .body
            .contains("arn:aws:iam::123456789012:role/made-by-form"),
        "{}",
        record.body
    );
    assert!(record.body.contains("The role made"), "{}", record.body);
}

#[tokio::test]
async fn the_simulator_decides_with_the_engine_and_highlights_the_deciding_statements() {
    let f = fixture(Settings::default()).await;
    f.sagemaker_role("SageMaker-ds").await;
    f.admin_iam(&form(&[
        ("Action", "PutRolePolicy"),
        ("Version", "2010-05-08"),
        ("RoleName", "SageMaker-ds"),
        ("PolicyName", "data"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"List","Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::ml-data/*"}]}"#,
        ),
    ]))
    .await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();
    let page = f.get("/console/simulator", Some(&token)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("role SageMaker-ds"), "{}", page.body);
    assert!(
        page.body.contains(r#"<option value="sagemaker:">"#),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let refused = f
        .post(
            "/console/simulator",
            Some(&token),
            None,
            form(&[("action", "s3:GetObject")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let role = "arn:aws:iam::123456789012:role/SageMaker-ds";
    let asked = f
        .submit(
            "/console/simulator",
            &token,
            &[
                ("csrf", &csrf),
                ("mode", "principal"),
                ("principal_arn", role),
                ("action", "s3:GetObject"),
                ("resource", "arn:aws:s3:::ml-data/train.csv"),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    assert_eq!(asked.location(), "/console/simulator#result");
    let shown = f.get("/console/simulator", Some(&token)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(
        shown
            .body
            .contains(r#"<span id="decision" class="pass">Allowed</span>"#),
        "{}",
        shown.body
    );
    assert!(
        shown
            .body
            .contains("Allowed by role/SageMaker-ds/data, statement 1 (Sid `Read`)"),
        "{}",
        shown.body
    );
    assert_eq!(
        shown
            .body
            .matches(r#"class="statement matched allow""#)
            .count(),
        1,
        "{}",
        shown.body
    );
    assert!(
        shown
            .body
            .contains("Inline policy data of role SageMaker-ds"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("s3:GetObject"));
    assert!(
        shown.body.contains(r#"<option value="s3:GetObject">"#),
        "the service's actions complete"
    );

    // Pasted policies: an explicit deny, in AWS's words.
    f.submit(
        "/console/simulator",
        &token,
        &[
            ("csrf", &csrf),
            ("mode", "custom"),
            ("identity_policy", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#),
            ("scp_policy", r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#),
            ("action", "s3:DeleteObject"),
            ("resource", "arn:aws:s3:::ml-data/x"),
            ("context", "aws:SourceIp=10.0.0.1"),
        ],
    )
    .await;
    let denied = f.get("/console/simulator", Some(&token)).await;
    assert!(denied.body.contains("Explicitly denied"), "{}", denied.body);
    assert!(
        denied.body.contains("User: arn:aws:iam::123456789012:user/simulated is not authorized to perform: s3:DeleteObject on resource: arn:aws:s3:::ml-data/x with an explicit deny in a service control policy"),
        "{}",
        denied.body
    );
    assert_eq!(
        denied
            .body
            .matches(r#"class="statement matched deny""#)
            .count(),
        1,
        "{}",
        denied.body
    );

    // What cannot be read is said beside its field.
    f.submit(
        "/console/simulator",
        &token,
        &[
            ("csrf", &csrf),
            ("mode", "custom"),
            ("identity_policy", r#"{"Statement":[{"Effect":"Allow"}"#),
            ("action", "GetObject"),
            ("context", "aws:SourceIp"),
        ],
    )
    .await;
    let invalid = f.get("/console/simulator", Some(&token)).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert!(
        invalid.body.contains("Identity-based policy: "),
        "{}",
        invalid.body
    );
    assert!(
        invalid
            .body
            .contains("action `GetObject` must be `service:Action`, such as `s3:GetObject`"),
        "{}",
        invalid.body
    );

    // Simulating is authorized as the principal, with AWS's actions.
    let dana = f
        .user_with("dana", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:List*","Resource":"*"}]}"#)
        .await;
    let page = f.get("/console/simulator", Some(&dana)).await;
    f.submit(
        "/console/simulator",
        &dana,
        &[
            ("csrf", &page.csrf()),
            ("mode", "principal"),
            ("principal_arn", role),
            ("action", "s3:GetObject"),
            ("resource", "*"),
        ],
    )
    .await;
    let refused = f.get("/console/simulator", Some(&dana)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("User: arn:aws:iam::123456789012:user/dana is not authorized to perform: iam:SimulatePrincipalPolicy on resource: role SageMaker-ds because no identity-based policy allows the iam:SimulatePrincipalPolicy action"),
        "{}",
        refused.body
    );
    f.submit(
        "/console/simulator",
        &dana,
        &[("csrf", &page.csrf()), ("mode", "custom"), ("identity_policy", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#), ("action", "s3:GetObject")],
    )
    .await;
    let refused = f.get("/console/simulator", Some(&dana)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("iam:SimulateCustomPolicy"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn the_audit_log_is_filtered_newest_first_with_every_decision_and_authorized() {
    let f = fixture(Settings::default()).await;
    let dana = f
        .user_with("dana", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:*","Resource":"*"}]}"#)
        .await;
    assert_eq!(
        f.get("/console/roles", Some(&dana)).await.status,
        StatusCode::FORBIDDEN
    );
    let refused = f.get("/console/audit", Some(&dana)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("User: arn:aws:iam::123456789012:user/dana is not authorized to perform: cloudtrail:LookupEvents on resource: * because no identity-based policy allows the cloudtrail:LookupEvents action"),
        "{}",
        refused.body
    );
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();
    let all = f.get("/console/audit", Some(&token)).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let newest = all.body.find("cloudtrail:LookupEvents").unwrap();
    let older = all.body.find("iam:CreateUser").unwrap();
    assert!(newest < older, "newest first");
    let denied = f
        .get("/console/audit?principal=arn%3Aaws%3Aiam%3A%3A123456789012%3Auser%2Fdana&decision=denied&action=iam%3AListRoles", Some(&token))
        .await;
    assert_eq!(denied.status, StatusCode::OK, "{}", denied.body);
    assert!(denied.body.contains("Records (1)"), "{}", denied.body);
    assert!(
        denied
            .body
            .contains("because no identity-based policy allows the iam:ListRoles action"),
        "{}",
        denied.body
    );
    let later = f
        .get("/console/audit?since=2999-01-01T00:00", Some(&token))
        .await;
    assert!(
        later.body.contains("No record matches these filters."),
        "{}",
        later.body
    );
    let bad = f.get("/console/audit?since=yesterday", Some(&token)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("`yesterday` is not a time: write it as 2026-05-01T09:30 (UTC)"),
        "{}",
        bad.body
    );
}

/// Makes a SageMaker Compute role through the wizard's forms, as the principal of `token`.
async fn wizard_compute_role(f: &Fixture, token: &str, suffix: &str) {
    let page = f.get("/console/create-role/details", Some(token)).await;
    let csrf = page.csrf();
    let steps: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "details",
            vec![("name_suffix", suffix), ("persona", "compute")],
        ),
        (
            "activities",
            vec![
                ("activity", "access-aws-services"),
                ("S3Buckets", "ml-data"),
                (
                    "ECRRepoArns",
                    "arn:aws:ecr:us-east-1:123456789012:repository/ml",
                ),
            ],
        ),
        ("policies", vec![]),
    ];
    for (step, fields) in steps {
        let mut pairs = vec![("csrf", csrf.as_str()), ("go", "next")];
        pairs.extend(fields);
        let answer = f
            .post(
                &format!("/console/create-role/{step}"),
                Some(token),
                None,
                form(&pairs),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{step}: {}",
            answer.body
        );
    }
    let submitted = f
        .post(
            "/console/create-role/submit",
            Some(token),
            None,
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
}

#[tokio::test]
async fn a_roles_activities_are_edited_with_the_diff_shown_before_saving() {
    let f = fixture(Settings::default()).await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();
    wizard_compute_role(&f, &token, "edit-me").await;
    let role = "/console/roles/SageMaker-edit-me";

    // The role's page offers the edit; the form is pre-filled from the role.
    let detail = f.get(role, Some(&token)).await;
    assert!(
        detail.body.contains(&format!("href=\"{role}/activities\"")),
        "{}",
        detail.body
    );
    let edit = f.get(&format!("{role}/activities"), Some(&token)).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    assert!(
        edit.body.contains(
            "id=\"activity-access-aws-services\" type=\"checkbox\" name=\"activity\" value=\"access-aws-services\" checked"
        ),
        "{}",
        edit.body
    );
    assert!(
        !edit.body.contains("value=\"manage-experiments\" checked"),
        "{}",
        edit.body
    );
    assert!(edit.body.contains(">ml-data</textarea>"), "{}", edit.body);
    assert!(
        edit.body
            .contains(">arn:aws:ecr:us-east-1:123456789012:repository/ml</textarea>"),
        "{}",
        edit.body
    );

    // Without the form's token, nothing is kept or saved.
    let csrf = edit.csrf();
    let refused = f
        .post(
            &format!("{role}/activities"),
            Some(&token),
            None,
            form(&[("activity", "manage-experiments"), ("go", "review")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // A missing parameter is said beside its field.
    let missing = f
        .post(
            &format!("{role}/activities"),
            Some(&token),
            None,
            form(&[
                ("csrf", &csrf),
                ("activity", "access-aws-services"),
                ("S3Buckets", ""),
                ("go", "review"),
            ]),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing
            .body
            .contains("Access Required AWS Services needs at least one S3 bucket name"),
        "{}",
        missing.body
    );

    // Another bucket and one more activity: the review shows the grants added and the calls.
    let changed = f
        .post(
            &format!("{role}/activities"),
            Some(&token),
            None,
            form(&[
                ("csrf", &csrf),
                ("activity", "access-aws-services"),
                ("activity", "manage-experiments"),
                ("S3Buckets", "ml-data\nml-more"),
                (
                    "ECRRepoArns",
                    "arn:aws:ecr:us-east-1:123456789012:repository/ml",
                ),
                ("go", "review"),
            ]),
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(changed.location(), format!("{role}/activities/review"));
    let review = f.get(changed.location(), Some(&token)).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    for part in [
        "<td><code>s3:GetObject</code></td><td><code>arn:aws:s3:::ml-more/*</code></td>",
        "<td><code>s3:ListBucket</code></td><td><code>arn:aws:s3:::ml-more</code></td>",
        "sagemaker:CreateExperiment",
        "Grants removed (0)",
        "No grant is removed.",
        "<code>PutRolePolicy</code>: inline policy SageMaker-edit-me-access-aws-services",
        "<code>PutRolePolicy</code>: inline policy SageMaker-edit-me-manage-experiments",
        "<code>TagRole</code>: tag rolewright:activities",
    ] {
        assert!(review.body.contains(part), "{part}: {}", review.body);
    }
    // The grants the role keeps are not listed.
    assert!(
        !review.body.contains("<code>arn:aws:s3:::ml-data/*</code>"),
        "{}",
        review.body
    );
    // Back keeps what was entered.
    let back = f.get(&format!("{role}/activities"), Some(&token)).await;
    assert!(
        back.body.contains(">ml-data\nml-more</textarea>"),
        "{}",
        back.body
    );

    // Save without the token is refused; with it, the calls are made and the role holds them.
    let no_token = f
        .post(
            &format!("{role}/activities/save"),
            Some(&token),
            None,
            String::new(),
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let foreign = f
        .post(
            &format!("{role}/activities/save"),
            Some(&token),
            Some("http://evil.example"),
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let saved = f
        .post(
            &format!("{role}/activities/save"),
            Some(&token),
            Some("http://127.0.0.1:4566"),
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), format!("{role}?edited=1"));
    let policy = f
        .admin_iam(
            "Action=GetRolePolicy&Version=2010-05-08&RoleName=SageMaker-edit-me&PolicyName=SageMaker-edit-me-access-aws-services",
        )
        .await;
    assert!(policy.contains("ml-more"), "{policy}");
    let after = f.get(&format!("{role}?edited=1"), Some(&token)).await;
    assert!(
        after.body.contains("The role&#39;s activities were saved.")
            || after.body.contains("The role's activities were saved."),
        "{}",
        after.body
    );
    assert!(
        after
            .body
            .contains("access-aws-services, manage-experiments"),
        "{}",
        after.body
    );
    // Edited again, the form starts from the saved role, and a removed activity's policy goes.
    let again = f.get(&format!("{role}/activities"), Some(&token)).await;
    assert!(
        again.body.contains("value=\"manage-experiments\" checked"),
        "{}",
        again.body
    );
    assert!(
        again.body.contains(">ml-data\nml-more</textarea>"),
        "{}",
        again.body
    );
    let removed = f
        .post(
            &format!("{role}/activities"),
            Some(&token),
            None,
            form(&[
                ("csrf", &csrf),
                ("activity", "access-aws-services"),
                ("S3Buckets", "ml-data\nml-more"),
                (
                    "ECRRepoArns",
                    "arn:aws:ecr:us-east-1:123456789012:repository/ml",
                ),
                ("go", "review"),
            ]),
        )
        .await;
    let review = f.get(removed.location(), Some(&token)).await;
    assert!(
        review.body.contains("Grants added (0)")
            && review.body.contains(
                "<code>DeleteRolePolicy</code>: inline policy SageMaker-edit-me-manage-experiments"
            ),
        "{}",
        review.body
    );

    // A reader who may not write policies gets AWS's AccessDenied text on Save.
    f.admin_iam("Action=CreateUser&Version=2010-05-08&UserName=rita")
        .await;
    f.admin_iam(&form(&[
        ("Action", "PutUserPolicy"),
        ("Version", "2010-05-08"),
        ("UserName", "rita"),
        ("PolicyName", "read"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}"#,
        ),
    ]))
    .await;
    let key = f
        .admin_iam("Action=CreateAccessKey&Version=2010-05-08&UserName=rita")
        .await;
    let (session, _) = f
        .sign_in(
            between(&key, "<AccessKeyId>", "<"),
            between(&key, "<SecretAccessKey>", "<"),
        )
        .await;
    let rita = session.unwrap();
    let edit = f.get(&format!("{role}/activities"), Some(&rita)).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    let csrf = edit.csrf();
    let posted = f
        .post(
            &format!("{role}/activities"),
            Some(&rita),
            None,
            form(&[
                ("csrf", &csrf),
                ("activity", "access-aws-services"),
                ("S3Buckets", "ml-data"),
                (
                    "ECRRepoArns",
                    "arn:aws:ecr:us-east-1:123456789012:repository/ml",
                ),
                ("go", "review"),
            ]),
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let denied = f
        .post(
            &format!("{role}/activities/save"),
            Some(&rita),
            None,
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
    assert!(
        denied.body.contains(
            "User: arn:aws:iam::123456789012:user/rita is not authorized to perform: \
             iam:PutRolePolicy on resource: role SageMaker-edit-me because no identity-based policy allows the iam:PutRolePolicy action"
        ),
        "{}",
        denied.body
    );
    drop(f.server);
}

#[tokio::test]
async fn who_can_lists_the_principals_and_their_paths_and_is_authorized_as_the_reader() {
    let f = fixture(Settings::default()).await;
    f.admin_iam("Action=CreateUser&Version=2010-05-08&UserName=pat")
        .await;
    f.admin_iam(&form(&[
        ("Action", "PutUserPolicy"),
        ("Version", "2010-05-08"),
        ("UserName", "pat"),
        ("PolicyName", "assume"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/runner"}]}"#,
        ),
    ]))
    .await;
    f.admin_iam(&form(&[
        ("Action", "CreateRole"),
        ("Version", "2010-05-08"),
        ("RoleName", "runner"),
        (
            "AssumeRolePolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/pat"},"Action":"sts:AssumeRole"}]}"#,
        ),
    ]))
    .await;
    f.admin_iam(&form(&[
        ("Action", "PutRolePolicy"),
        ("Version", "2010-05-08"),
        ("RoleName", "runner"),
        ("PolicyName", "train"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Train","Effect":"Allow","Action":"sagemaker:CreateTrainingJob","Resource":"*"}]}"#,
        ),
    ]))
    .await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let token = session.unwrap();
    let empty = f.get("/console/who-can", Some(&token)).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("<label for=\"action\">Action</label>"));
    assert!(
        empty.body.contains("<option value=\"sagemaker:\">"),
        "{}",
        empty.body
    );

    let answer = f
        .get(
            "/console/who-can?action=sagemaker%3ACreateTrainingJob&resource=&context=&ask=1",
            Some(&token),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    for part in [
        "3 principals can perform <code>sagemaker:CreateTrainingJob</code> on <code>*</code>",
        "2 directly, 1 by a path.",
        "<code>arn:aws:iam::123456789012:user/admin</code> <span class=\"pass\">directly</span>",
        "<code>arn:aws:iam::123456789012:role/runner</code> <span class=\"pass\">directly</span>",
        "<code>arn:aws:iam::123456789012:user/pat</code> <span class=\"indirect\">by a path of 1 step</span>",
        "<ol class=\"path\" aria-label=\"Path of arn:aws:iam::123456789012:user/pat\"><li class=\"node\"><code>arn:aws:iam::123456789012:user/pat</code></li><li class=\"edge\"><span aria-hidden=\"true\">→ </span><span class=\"via\">assume-role</span> <code>sts:AssumeRole</code></li><li class=\"node\"><code>arn:aws:iam::123456789012:role/runner</code></li>",
        "<code>arn:aws:iam::123456789012:role/runner#train</code>, statement 0 (<code>Train</code>)",
    ] {
        assert!(answer.body.contains(part), "{part}: {}", answer.body);
    }
    // The action is one of the service data's, with a suggestion; the context must read.
    let wrong = f
        .get(
            "/console/who-can?action=sagemaker%3ACreateTrainingJobs&context=nokey",
            Some(&token),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong.body.contains(
            "unknown action `sagemaker:CreateTrainingJobs`; did you mean `sagemaker:CreateTrainingJob`?"
        ),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("href=\"#context\""), "{}", wrong.body);

    // Reading the account is iam:GetAccountAuthorizationDetails, as the signed-in principal.
    let key = f
        .admin_iam("Action=CreateAccessKey&Version=2010-05-08&UserName=pat")
        .await;
    let (session, _) = f
        .sign_in(
            between(&key, "<AccessKeyId>", "<"),
            between(&key, "<SecretAccessKey>", "<"),
        )
        .await;
    let denied = f
        .get(
            "/console/who-can?action=sagemaker%3ACreateTrainingJob",
            Some(&session.unwrap()),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
    assert!(
        denied.body.contains(
            "User: arn:aws:iam::123456789012:user/pat is not authorized to perform: \
             iam:GetAccountAuthorizationDetails"
        ),
        "{}",
        denied.body
    );
    drop(f.server);
}

#[tokio::test]
async fn a_roles_usage_shows_what_its_sessions_used_and_the_trim_that_keeps_only_that() {
    let f = fixture(Settings::default()).await;
    f.admin_iam(&form(&[
        ("Action", "CreateRole"),
        ("Version", "2010-05-08"),
        ("RoleName", "reader"),
        (
            "AssumeRolePolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"sts:AssumeRole"}]}"#,
        ),
    ]))
    .await;
    f.admin_iam(&form(&[
        ("Action", "PutRolePolicy"),
        ("Version", "2010-05-08"),
        ("RoleName", "reader"),
        ("PolicyName", "reads"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles","s3:GetObject"],"Resource":"*"}]}"#,
        ),
    ]))
    .await;
    // The role's session lists roles through the console: a use of iam:ListRoles.
    let assumed = f
        .admin_call(
            "sts",
            &form(&[
                ("Action", "AssumeRole"),
                ("Version", "2011-06-15"),
                ("RoleArn", "arn:aws:iam::123456789012:role/reader"),
                ("RoleSessionName", "work"),
            ]),
        )
        .await;
    let (id, secret, token) = (
        between(&assumed, "<AccessKeyId>", "<"),
        between(&assumed, "<SecretAccessKey>", "<"),
        between(&assumed, "<SessionToken>", "<"),
    );
    let (session, _) = f.sign_in_with(id, secret, token).await;
    let worker = session.unwrap();
    assert_eq!(
        f.get("/console/roles", Some(&worker)).await.status,
        StatusCode::OK
    );
    // The session may not read the audit log: AWS's text, as for every refusal.
    let refused = f.get("/console/roles/reader/usage", Some(&worker)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body.contains("cloudtrail:LookupEvents"),
        "{}",
        refused.body
    );

    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let admin = session.unwrap();
    let detail = f.get("/console/roles/reader", Some(&admin)).await;
    assert!(
        detail.body.contains("href=\"/console/roles/reader/usage\""),
        "{}",
        detail.body
    );
    let usage = f.get("/console/roles/reader/usage", Some(&admin)).await;
    assert_eq!(usage.status, StatusCode::OK, "{}", usage.body);
    let row =
        |action: &str| between(&usage.body, &format!("<code>{action}</code>"), "</tr>").to_string();
    assert!(
        row("iam:ListRoles").starts_with("</td><td>1</td>"),
        "{}",
        usage.body
    );
    assert!(
        row("s3:GetObject").contains("<td>0</td><td>never</td>"),
        "{}",
        usage.body
    );
    // The trim keeps the used action and drops the other; the log is younger than 90 days.
    assert!(
        usage.body.contains("Grants the trim removes"),
        "{}",
        usage.body
    );
    let removed = between(&usage.body, "Grants the trim removes", "</table>");
    assert!(removed.contains("s3:GetObject"), "{removed}");
    assert!(!removed.contains("iam:ListRoles"), "{removed}");
    assert!(
        usage
            .body
            .contains("The audit log does not reach back to the window"),
        "{}",
        usage.body
    );
    assert!(
        usage
            .body
            .contains("rolewright role trim reader --since 90d --apply"),
        "{}",
        usage.body
    );
    let bad = f
        .get("/console/roles/reader/usage?since=forever", Some(&admin))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("is neither a duration (90d, 12h, 30m, 45s) nor a time"),
        "{}",
        bad.body
    );
    let missing = f.get("/console/roles/nobody/usage", Some(&admin)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
}

#[tokio::test]
async fn trim_rollback_and_make_it_match_need_the_forms_token_and_the_callers_permission() {
    let f = fixture(Settings::default()).await;
    let (session, _) = f.sign_in(&f.key_id, &f.secret).await;
    let admin = session.unwrap();
    f.sagemaker_role("keep-me").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:CreateModel","Resource":"*"}]}"#;
    f.admin_iam(&form(&[
        ("Action", "PutRolePolicy"),
        ("Version", "2010-05-08"),
        ("RoleName", "keep-me"),
        ("PolicyName", "models"),
        ("PolicyDocument", policy),
    ]))
    .await;
    let reader = f
        .user_with(
            "reader",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","cloudtrail:LookupEvents"],"Resource":"*"}]}"#,
        )
        .await;
    // A window the audit log covers (the setup is older), in which the role did nothing.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let since = rolewright_server::wire::xml::iso_time(now());
    let models = || async {
        let answer = f
            .admin_iam("Action=GetRolePolicy&Version=2010-05-08&RoleName=keep-me&PolicyName=models")
            .await;
        between(&answer, "<PolicyDocument>", "<").to_string()
    };
    let before = models().await;

    for path in [
        "/console/roles/keep-me/usage/trim",
        "/console/roles/keep-me/usage/rollback",
        "/console/roles/keep-me/drift",
    ] {
        let refused = f.post(path, Some(&admin), None, String::new()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        let wrong = f
            .post(
                path,
                Some(&admin),
                None,
                form(&[("csrf", "0000"), ("since", &since)]),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(models().await, before, "a refused form changes nothing");

    // A reader sees the proposal but may not write it: refused with IAM's text, nothing written.
    let usage = f
        .get(
            &format!("/console/roles/keep-me/usage?since={since}"),
            Some(&reader),
        )
        .await;
    assert_eq!(usage.status, StatusCode::OK, "{}", usage.body);
    assert!(usage.body.contains("Apply the trim"), "{}", usage.body);
    let denied = f
        .submit(
            "/console/roles/keep-me/usage/trim",
            &reader,
            &[("csrf", &usage.csrf()), ("since", &since)],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
    assert!(
        denied.body.contains(
            "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: iam:"
        ),
        "{}",
        denied.body
    );
    assert!(
        denied.body.contains("so the role is as it was"),
        "{}",
        denied.body
    );
    assert_eq!(models().await, before);
    let rollback = f
        .submit(
            "/console/roles/keep-me/usage/rollback",
            &reader,
            &[("csrf", &usage.csrf())],
        )
        .await;
    assert_eq!(rollback.status, StatusCode::CONFLICT, "{}", rollback.body);
    assert!(
        rollback
            .body
            .contains("role `keep-me` has no trim to roll back"),
        "{}",
        rollback.body
    );

    // The administrator applies it: the unused policy goes, and the page offers the rollback.
    let page = f
        .get(
            &format!("/console/roles/keep-me/usage?since={since}"),
            Some(&admin),
        )
        .await;
    let applied = f
        .submit(
            "/console/roles/keep-me/usage/trim",
            &admin,
            &[("csrf", &page.csrf()), ("since", &since)],
        )
        .await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    assert!(
        applied.location().ends_with("&trimmed=1"),
        "{}",
        applied.location()
    );
    let listed = f
        .admin_iam("Action=ListRolePolicies&Version=2010-05-08&RoleName=keep-me")
        .await;
    assert!(!listed.contains("<member>models</member>"), "{listed}");
    let after = f.get(applied.location(), Some(&admin)).await;
    assert!(after.body.contains("Roll back the trim"), "{}", after.body);
    let back = f
        .submit(
            "/console/roles/keep-me/usage/rollback",
            &admin,
            &[("csrf", &after.csrf()), ("since", &since)],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(models().await, before, "the rollback restores the policy");
}
