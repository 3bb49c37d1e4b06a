//! The IAM query-protocol requests the generator sends, signed with SigV4 and serialized to
//! bytes ready for the socket.

use std::fmt::Write as _;

use rolewright_sigv4::{Credentials, Request, sign};

use crate::target::Target;

/// The content type of every AWS query-protocol request.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// The content type of every JSON 1.1 request.
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The IAM API version sent with every action.
pub const IAM_VERSION: &str = "2010-05-08";
/// The trust policy given to every role the generator creates.
pub const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// The inline identity policy attached by the write workload.
pub const IDENTITY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::rolewright-loadgen-bucket/*"},{"Effect":"Allow","Action":"sagemaker:DescribeTrainingJob","Resource":"*"}]}"#;
/// The name of the inline policy put by the write workload.
pub const POLICY_NAME: &str = "loadgen-inline";

/// Which requests each operation sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// One `iam:GetRole` of the same role per operation.
    GetRole,
    /// `iam:CreateRole` of a fresh role, then `iam:PutRolePolicy` on it: one durable write.
    CreateRolePutPolicy,
    /// One `sagemaker:DescribeDomain` of the generator's domain (`<role-name>-studio`, created
    /// by --setup): the Studio call moto also serves.
    DescribeDomain,
    /// One `sagemaker:DescribeUserProfile` of a user among --users of the domain.
    DescribeUserProfile,
    /// One `sagemaker:ListUserProfiles` page (`--page-size` profiles, 100 by default) of the
    /// domain.
    ListUserProfiles,
    /// One durable `sagemaker:CreateUserProfile` of a fresh user in the domain.
    CreateUserProfile,
    /// One `sts:AssumeRole` of a role that trusts everyone (`<role-name>-assumable`, created by
    /// --setup): a durable session per operation, the write stream of a mixed load.
    AssumeRole,
}

impl Workload {
    /// How many HTTP requests one operation sends.
    pub fn requests_per_operation(self) -> u64 {
        match self {
            Self::GetRole => 1,
            Self::CreateRolePutPolicy => 2,
            Self::AssumeRole
            | Self::DescribeDomain
            | Self::DescribeUserProfile
            | Self::ListUserProfiles
            | Self::CreateUserProfile => 1,
        }
    }
}

/// Everything needed to sign and serialize requests for one target.
#[derive(Debug, Clone)]
pub struct Signer {
    target: Target,
    credentials: Credentials,
    region: String,
}

impl Signer {
    /// A signer for requests to `target` with `credentials`, scoped to `region` and `iam`.
    pub fn new(target: Target, credentials: Credentials, region: String) -> Self {
        Self {
            target,
            credentials,
            region,
        }
    }

    /// The same target and region, signing with other credentials.
    pub fn with_credentials(&self, credentials: Credentials) -> Self {
        Self {
            credentials,
            ..self.clone()
        }
    }

    /// The same credentials and region, for another server (a replica of the same database).
    pub fn with_target(&self, target: Target) -> Self {
        Self {
            target,
            ..self.clone()
        }
    }

    /// Signs the IAM query-protocol `body` at time `now_unix` and returns the whole HTTP request.
    pub fn build(&self, body: &str, now_unix: i64, out: &mut Vec<u8>) {
        self.build_for("iam", body, now_unix, out);
    }

    /// Signs a JSON 1.1 request (`X-Amz-Target: TARGET`) for `service` at time `now_unix` and
    /// returns the whole HTTP request.
    pub fn build_json(
        &self,
        service: &str,
        target: &str,
        body: &str,
        now_unix: i64,
        out: &mut Vec<u8>,
    ) {
        let headers = [
            ("Content-Type", JSON_CONTENT_TYPE),
            ("X-Amz-Target", target),
        ];
        self.build_with(service, &headers, body, now_unix, out);
    }

    /// Signs a query-protocol `body` for `service` (`iam`, `sts`) at time `now_unix` and returns
    /// the whole HTTP request.
    pub fn build_for(&self, service: &str, body: &str, now_unix: i64, out: &mut Vec<u8>) {
        self.build_with(
            service,
            &[("Content-Type", CONTENT_TYPE)],
            body,
            now_unix,
            out,
        );
    }

    /// Signs `POST /` with `Host`, the `headers` given and `body` for `service`, and writes the
    /// whole HTTP request into `out`.
    fn build_with(
        &self,
        service: &str,
        headers: &[(&str, &str)],
        body: &str,
        now_unix: i64,
        out: &mut Vec<u8>,
    ) {
        let mut signed_headers: Vec<(&str, &[u8])> = Vec::with_capacity(headers.len() + 1);
        signed_headers.push(("host", self.target.host_header.as_bytes()));
        signed_headers.extend(
            headers
                .iter()
                .map(|(name, value)| (*name, value.as_bytes())),
        );
        let request = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &signed_headers,
            body: body.as_bytes(),
        };
        let signed = sign(&request, &self.credentials, &self.region, service, now_unix);
        let mut head = String::with_capacity(640);
        // Writing to a String cannot fail.
        let _ = write!(
            head,
            "POST / HTTP/1.1\r\nHost: {}\r\n",
            self.target.host_header
        );
        for (name, value) in headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
        for (name, value) in &signed {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        head.push_str("\r\n");
        out.clear();
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(body.as_bytes());
    }
}

/// The body of `iam:GetRole`.
pub fn get_role_body(role_name: &str) -> String {
    format!(
        "Action=GetRole&Version={IAM_VERSION}&RoleName={}",
        form_encode(role_name)
    )
}

/// The trust policy of the role `assume-role` assumes: anyone the caller's policies let.
pub const OPEN_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
/// The STS API version.
pub const STS_VERSION: &str = "2011-06-15";

/// The name of the role `assume-role` assumes, beside the role `get-role` reads.
pub fn assumable_role_name(role_name: &str) -> String {
    format!("{role_name}-assumable")
}

/// The body of `sts:AssumeRole`.
pub fn assume_role_body(role_arn: &str, session_name: &str) -> String {
    format!(
        "Action=AssumeRole&Version={STS_VERSION}&RoleArn={}&RoleSessionName={}&DurationSeconds=3600",
        form_encode(role_arn),
        form_encode(session_name)
    )
}

/// The body of `iam:CreateRole` with the generator's trust policy.
pub fn create_role_body(role_name: &str, encoded_trust_policy: &str) -> String {
    format!(
        "Action=CreateRole&Version={IAM_VERSION}&RoleName={}&Path=%2Floadgen%2F&AssumeRolePolicyDocument={encoded_trust_policy}",
        form_encode(role_name)
    )
}

/// The body of `iam:PutRolePolicy` with the generator's identity policy.
pub fn put_role_policy_body(role_name: &str, encoded_policy: &str) -> String {
    format!(
        "Action=PutRolePolicy&Version={IAM_VERSION}&RoleName={}&PolicyName={POLICY_NAME}&PolicyDocument={encoded_policy}",
        form_encode(role_name)
    )
}

/// Percent-encodes everything but the unreserved characters, as AWS SDKs do for query bodies.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_form_encoded() {
        assert_eq!(
            get_role_body("my role+1"),
            "Action=GetRole&Version=2010-05-08&RoleName=my%20role%2B1"
        );
        assert_eq!(form_encode(r#"{"a":"b/c"}"#), "%7B%22a%22%3A%22b%2Fc%22%7D");
        let body = put_role_policy_body("r", "X");
        assert_eq!(
            body,
            "Action=PutRolePolicy&Version=2010-05-08&RoleName=r&PolicyName=loadgen-inline&PolicyDocument=X"
        );
    }

    #[test]
    fn built_requests_verify_on_the_server_side() {
        use rolewright_sigv4::{parse_authorization, signing_key, verify};

        let target = Target::parse("http://127.0.0.1:4566").unwrap();
        let creds = Credentials {
            access_key_id: "AKIDLOADGEN".into(),
            secret_access_key: "loadgen/secret".into(),
            session_token: Some("token".into()),
        };
        let signer = Signer::new(target, creds, "us-east-1".into());
        let now = 1_700_000_000;
        let body = create_role_body("r-1", &form_encode(TRUST_POLICY));
        let mut bytes = Vec::new();
        signer.build(&body, now, &mut bytes);

        let text = std::str::from_utf8(&bytes).unwrap();
        let (head, sent_body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(sent_body, body);
        let mut lines = head.split("\r\n");
        assert_eq!(lines.next(), Some("POST / HTTP/1.1"));
        let headers: Vec<(&str, &[u8])> = lines
            .map(|l| {
                let (n, v) = l.split_once(": ").unwrap();
                (n, v.as_bytes())
            })
            .collect();
        let length = headers
            .iter()
            .find(|(n, _)| *n == "Content-Length")
            .unwrap()
            .1;
        assert_eq!(length, body.len().to_string().as_bytes());
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: sent_body.as_bytes(),
        };
        let auth = parse_authorization(&req).unwrap();
        assert_eq!(
            (auth.region.as_str(), auth.service.as_str()),
            ("us-east-1", "iam")
        );
        assert_eq!(auth.security_token.as_deref(), Some("token"));
        let key = signing_key("loadgen/secret", &auth.date, &auth.region, &auth.service);
        assert!(verify(&req, &auth, &key, now).is_ok());
    }

    #[test]
    fn policies_are_valid_json() {
        for p in [TRUST_POLICY, IDENTITY_POLICY] {
            serde_json::from_str::<serde_json::Value>(p).unwrap();
        }
    }
}
