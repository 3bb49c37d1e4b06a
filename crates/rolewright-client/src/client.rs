//! Signed calls: one blocking HTTP agent (http:// and https://), SigV4 with the resolved
//! credentials, AWS's endpoints or the configured one, and retries of throttled or failed tries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rolewright_sigv4::{Request, sign};
use serde_json::Value;

use crate::config::AwsConfig;
use crate::error::{AwsError, parse_json_error, parse_query_error};

/// The content type of query-protocol requests (IAM, STS).
pub const QUERY_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// The content type of JSON 1.1 requests (SageMaker, Service Catalog).
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// How many times a call is tried when the failure is retryable.
const ATTEMPTS: u32 = 4;
/// The first pause between tries; each next one is three times longer.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The most one HTTP exchange may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Where one service's requests go and the region they are signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL requests are posted to.
    pub url: String,
    /// The `Host` header (the URL's authority).
    pub host: String,
    /// The request path (`/` unless the endpoint URL has one).
    pub path: String,
    /// The region in the signature's scope.
    pub signing_region: String,
}

/// A client for every service, sharing one connection pool. Cheap to share between threads
/// (`&AwsClient` is `Send`).
#[derive(Debug)]
pub struct AwsClient {
    config: AwsConfig,
    agent: ureq::Agent,
    user_agent: String,
}

impl AwsClient {
    /// A client for `config`, with up to `connections` idle connections kept per host.
    pub fn new(config: AwsConfig, connections: usize) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .max_idle_connections(connections.max(1) * 2)
            .max_idle_connections_per_host(connections.max(1))
            .max_redirects(0)
            .build()
            .into();
        Self {
            config,
            agent,
            user_agent: format!("rolewright/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// Where `service`'s requests go: the configured endpoint URL for every service when there
    /// is one (signed for the configured region, IAM included, as the AWS CLI does), else AWS's
    /// own endpoint (`iam.amazonaws.com`, signed for us-east-1; `api.sagemaker.REGION...`;
    /// `SERVICE.REGION.amazonaws.com` for the others).
    pub fn endpoint(&self, service: &str) -> Endpoint {
        let region = self.config.region.as_str();
        let (url, signing_region) = match (&self.config.endpoint_url, service) {
            (Some(url), _) => (url.clone(), region),
            (None, "iam") => ("https://iam.amazonaws.com".to_string(), "us-east-1"),
            (None, "sagemaker") => (
                format!("https://api.sagemaker.{region}.amazonaws.com"),
                region,
            ),
            (None, service) => (format!("https://{service}.{region}.amazonaws.com"), region),
        };
        let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        let (host, path) = match after_scheme.find('/') {
            Some(at) => (&after_scheme[..at], &after_scheme[at..]),
            None => (after_scheme, "/"),
        };
        Endpoint {
            host: host.to_string(),
            path: path.to_string(),
            signing_region: signing_region.to_string(),
            url,
        }
    }

    /// Calls a JSON 1.1 operation (`X-Amz-Target: {target_prefix}.{operation}`) and returns its
    /// output; an empty answer is `{}`.
    pub fn json_call(
        &self,
        service: &str,
        target_prefix: &str,
        operation: &str,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let name = format!("{service}:{operation}");
        let body = input.to_string();
        let target = format!("{target_prefix}.{operation}");
        let headers = [
            ("content-type", JSON_CONTENT_TYPE),
            ("x-amz-target", target.as_str()),
        ];
        let answer = self.post(service, &name, &headers, body.as_bytes())?;
        if answer.status / 100 == 2 {
            if answer.body.trim().is_empty() {
                return Ok(Value::Object(serde_json::Map::new()));
            }
            return serde_json::from_str(&answer.body).map_err(|e| {
                AwsError::response(&name, answer.status, format!("the answer is not JSON: {e}"))
            });
        }
        let (code, message) = parse_json_error(answer.error_type.as_deref(), &answer.body);
        Err(AwsError {
            request_id: answer.request_id,
            ..AwsError::service(name, answer.status, code, message)
        })
    }

    /// Calls a query-protocol action (`Action`, `Version` and `params`, form-encoded) and
    /// returns the XML answer.
    pub fn query_call(
        &self,
        service: &str,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
    ) -> Result<String, AwsError> {
        let name = format!("{service}:{action}");
        let mut body = format!("Action={}&Version={}", encode(action), encode(version));
        for (key, value) in params {
            body.push('&');
            body.push_str(&encode(key));
            body.push('=');
            body.push_str(&encode(value));
        }
        let headers = [("content-type", QUERY_CONTENT_TYPE)];
        let answer = self.post(service, &name, &headers, body.as_bytes())?;
        if answer.status / 100 == 2 {
            return Ok(answer.body);
        }
        let (code, message, request_id) = parse_query_error(&answer.body);
        let message = if message.is_empty() && code == "UnknownError" {
            answer.body.trim().to_string()
        } else {
            message
        };
        Err(AwsError {
            request_id: request_id.or(answer.request_id),
            ..AwsError::service(name, answer.status, code, message)
        })
    }

    /// Posts a signed request, trying again (with growing pauses) while the failure is
    /// retryable; a service error answer is returned as an answer, for the protocol to read.
    fn post(
        &self,
        service: &str,
        name: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, AwsError> {
        let endpoint = self.endpoint(service);
        let mut pause = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let result = self.post_once(service, name, &endpoint, headers, body);
            let retry = match &result {
                Ok(answer) => answer.is_retryable(),
                Err(e) => e.is_retryable(),
            };
            if !retry || attempt >= ATTEMPTS {
                return result;
            }
            std::thread::sleep(pause);
            pause *= 3;
            attempt += 1;
        }
    }

    fn post_once(
        &self,
        service: &str,
        name: &str,
        endpoint: &Endpoint,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, AwsError> {
        let mut signed_headers: Vec<(&str, &[u8])> = vec![("host", endpoint.host.as_bytes())];
        signed_headers.extend(headers.iter().map(|(k, v)| (*k, v.as_bytes())));
        let request = Request {
            method: "POST",
            path: &endpoint.path,
            query: "",
            headers: &signed_headers,
            body,
        };
        let added = sign(
            &request,
            &self.config.credentials,
            &endpoint.signing_region,
            service,
            now_unix(),
        );
        let mut builder = self
            .agent
            .post(&endpoint.url)
            .header("host", &endpoint.host)
            .header("user-agent", &self.user_agent);
        for (key, value) in headers {
            builder = builder.header(*key, *value);
        }
        for (key, value) in &added {
            builder = builder.header(key.as_str(), value.as_str());
        }
        let mut response = builder
            .send(body)
            .map_err(|e| AwsError::transport(name, &endpoint.url, e))?;
        let header = |n: &str| {
            response
                .headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let error_type = header("x-amzn-errortype");
        let request_id = header("x-amzn-requestid").or_else(|| header("x-amz-request-id"));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| AwsError::transport(name, &endpoint.url, e))?;
        Ok(Answer {
            status,
            error_type,
            request_id,
            body: text,
        })
    }
}

/// An HTTP answer, before the protocol reads it.
struct Answer {
    status: u16,
    error_type: Option<String>,
    request_id: Option<String>,
    body: String,
}

impl Answer {
    fn is_retryable(&self) -> bool {
        if self.status / 100 == 2 {
            return false;
        }
        let throttled = [
            "Throttling",
            "TooManyRequests",
            "RequestLimitExceeded",
            "SlowDown",
        ]
        .iter()
        .any(|code| {
            self.body.contains(code) || self.error_type.as_deref().is_some_and(|t| t.contains(code))
        });
        throttled || matches!(self.status, 429 | 500 | 502 | 503 | 504)
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, as SigV4 and AWS's query
/// protocol expect.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;
    use rolewright_sigv4::Credentials;

    fn client(endpoint_url: Option<&str>) -> AwsClient {
        AwsClient::new(
            AwsConfig {
                profile: "default".into(),
                region: "eu-west-1".into(),
                region_source: Source::Flag("--region"),
                endpoint_url: endpoint_url.map(str::to_string),
                credentials: Credentials::new("AKID", "secret"),
                credentials_source: Source::Flag("test"),
            },
            2,
        )
    }

    #[test]
    fn aws_endpoints_per_service_with_iam_signed_for_us_east_1() {
        let c = client(None);
        let iam = c.endpoint("iam");
        assert_eq!(iam.url, "https://iam.amazonaws.com");
        assert_eq!(iam.signing_region, "us-east-1");
        assert_eq!(
            c.endpoint("sagemaker").host,
            "api.sagemaker.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            c.endpoint("servicecatalog").url,
            "https://servicecatalog.eu-west-1.amazonaws.com"
        );
        assert_eq!(c.endpoint("sts").host, "sts.eu-west-1.amazonaws.com");
        assert_eq!(c.endpoint("sts").path, "/");
    }

    #[test]
    fn a_configured_endpoint_takes_every_service_signed_for_the_region() {
        let c = client(Some("http://127.0.0.1:4566"));
        for service in ["iam", "sts", "sagemaker", "servicecatalog"] {
            let e = c.endpoint(service);
            assert_eq!(e.url, "http://127.0.0.1:4566");
            assert_eq!(e.host, "127.0.0.1:4566");
            assert_eq!(e.path, "/");
            assert_eq!(e.signing_region, "eu-west-1");
        }
        assert_eq!(
            client(Some("https://proxy.test/aws")).endpoint("iam").path,
            "/aws"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("a b/c=d&e~f"), "a%20b%2Fc%3Dd%26e~f");
        assert_eq!(encode("{\"x\":1}"), "%7B%22x%22%3A1%7D");
    }

    #[test]
    fn an_unreachable_endpoint_is_a_transport_error_naming_it() {
        // Port 9 (discard) on localhost is closed on test machines.
        let c = client(Some("http://127.0.0.1:9"));
        let err = c
            .query_call("sts", "GetCallerIdentity", "2011-06-15", &[])
            .unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Transport);
        assert!(
            err.to_string()
                .starts_with("sts:GetCallerIdentity: cannot reach http://127.0.0.1:9: "),
            "{err}"
        );
    }
}
