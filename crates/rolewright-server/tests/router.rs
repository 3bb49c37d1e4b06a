//! The router without a socket (`app(state)` driven by `tower::ServiceExt::oneshot`): routing by
//! protocol, AWS's error shapes per protocol, and the operation tables behind them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed fixture is a failed test

use axum::body::{Body, to_bytes};
use axum::http::{Request, Response, StatusCode};
use rolewright_server::{Config, Server};
use tower::ServiceExt as _;

struct Fixture {
    server: Server,
    key_id: String,
    secret: String,
    _dir: tempfile::TempDir,
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
    Fixture {
        key_id: value("aws_access_key_id"),
        secret: value("aws_secret_access_key"),
        server,
        _dir: dir,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Fixture {
    /// A POST to `/` signed by the administrator for `service`.
    fn signed(&self, service: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
        let mut all: Vec<(&str, &[u8])> = vec![("host", b"127.0.0.1")];
        all.extend(headers.iter().map(|(k, v)| (*k, v.as_bytes())));
        let unsigned = rolewright_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &all,
            body: body.as_bytes(),
        };
        let creds = rolewright_sigv4::Credentials::new(&self.key_id, &self.secret);
        let added = rolewright_sigv4::sign(&unsigned, &creds, "us-east-1", service, now());
        let mut request = Request::post("/");
        for (k, v) in headers.iter().copied().chain([("host", "127.0.0.1")]) {
            request = request.header(k, v);
        }
        for (k, v) in &added {
            request = request.header(k.as_str(), v.as_str());
        }
        request.body(Body::from(body.to_string())).unwrap()
    }

    async fn send(&self, request: Request<Body>) -> (Response<Body>, String) {
        let response = self.server.router().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap();
        (
            Response::from_parts(parts, Body::empty()),
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

#[tokio::test]
async fn an_unsigned_query_request_gets_the_query_error_document() {
    let f = fixture().await;
    let request = Request::post("/")
        .header(FORM.0, FORM.1)
        .body(Body::from("Action=ListUsers&Version=2010-05-08"))
        .unwrap();
    let (response, body) = f.send(request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()["content-type"], "text/xml");
    assert!(response.headers().contains_key("x-amzn-requestid"));
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
    assert!(
        body.contains("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"),
        "{body}"
    );
}

#[tokio::test]
async fn a_signed_query_call_is_served_and_an_unknown_action_is_invalid_action() {
    let f = fixture().await;
    let ok = f.signed(
        "sts",
        &[FORM],
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    let (response, body) = f.send(ok).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    assert!(body.contains("<GetCallerIdentityResult>"), "{body}");
    assert!(body.contains(":user/admin</Arn>"), "{body}");

    let unknown = f.signed("iam", &[FORM], "Action=MakeMeAdmin&Version=2010-05-08");
    let (response, body) = f.send(unknown).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    assert!(
        body.contains("Could not find operation MakeMeAdmin for version 2010-05-08"),
        "{body}"
    );
}

#[tokio::test]
async fn json_errors_carry_the_type_in_the_body_and_the_error_type_header() {
    let f = fixture().await;
    let target = ("x-amz-target", "SageMaker.MakeMeAdmin");
    let json = ("content-type", "application/x-amz-json-1.1");
    let (response, body) = f.send(f.signed("sagemaker", &[target, json], "{}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "UnknownOperationException"
    );
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["__type"], "UnknownOperationException");
    assert_eq!(
        value["message"],
        "The operation SageMaker.MakeMeAdmin is not served by rolewright"
    );

    let describe = ("x-amz-target", "SageMaker.DescribeDomain");
    let (_, body) = f
        .send(f.signed(
            "sagemaker",
            &[describe, json],
            r#"{"DomainId":"d-000000000000"}"#,
        ))
        .await;
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["__type"], "ResourceNotFound", "{body}");
}

#[tokio::test]
async fn a_json_call_signed_for_another_service_is_refused() {
    let f = fixture().await;
    let target = ("x-amz-target", "SageMaker.ListDomains");
    let json = ("content-type", "application/x-amz-json-1.1");
    let (response, body) = f.send(f.signed("iam", &[target, json], "{}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        body.contains("Credential should be scoped to correct service: 'sagemaker'"),
        "{body}"
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_before_anything_is_read() {
    let f = fixture().await;
    let request = Request::post("/")
        .header(FORM.0, FORM.1)
        .header("content-length", (2 * 1024 * 1024).to_string())
        .body(Body::from("Action=ListUsers"))
        .unwrap();
    let (response, body) = f.send(request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body.contains("<Code>RequestEntityTooLarge</Code>"),
        "{body}"
    );
}

#[tokio::test]
async fn the_studio_page_without_a_session_is_a_refusal_page() {
    let f = fixture().await;
    let request = Request::get("/studio/home").body(Body::empty()).unwrap();
    let (response, body) = f.send(request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(body.contains("<html"), "{body}");
}

#[tokio::test]
async fn every_listed_operation_is_routed_to_a_handler() {
    // An operation listed but not dispatched would answer InvalidAction/UnknownOperation; the
    // tables and the dispatch come from one list, and this proves it on the wire.
    let f = fixture().await;
    for service in rolewright_server::operation::SERVICES {
        for op in service.operations {
            let request = match service.protocol {
                "query" => {
                    let version = match service.name {
                        "sts" => "2011-06-15",
                        "cloudformation" => "2010-05-15",
                        _ => "2010-05-08",
                    };
                    f.signed(
                        service.name,
                        &[FORM],
                        &format!("Action={}&Version={version}", op.name),
                    )
                }
                _ => {
                    let prefix = if service.name == "sagemaker" {
                        "SageMaker"
                    } else {
                        "AWS242ServiceCatalogService"
                    };
                    let target = format!("{prefix}.{}", op.name);
                    f.signed(
                        service.name,
                        &[
                            ("x-amz-target", &target),
                            ("content-type", "application/x-amz-json-1.1"),
                        ],
                        "{}",
                    )
                }
            };
            let (_, body) = f.send(request).await;
            assert!(
                !body.contains("InvalidAction") && !body.contains("UnknownOperation"),
                "{}:{} is listed but not routed: {body}",
                service.name,
                op.name
            );
        }
    }
}

#[tokio::test]
async fn health_answers_without_authentication_and_says_the_database_is_up() {
    let f = fixture().await;
    let request = Request::get("/health").body(Body::empty()).unwrap();
    let (response, body) = f.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"status": "ok", "database": "up", "applied_seq": 0, "lag_ms": 0})
    );
}
