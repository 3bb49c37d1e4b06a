//! An authorization request: who (the principal), what (the action), on what (the resource), with
//! which condition keys. Built once and evaluated against any number of policy sets.

use std::fmt;
use std::sync::Arc;

use crate::arn::ArnParts;
use crate::context::RequestContext;

/// What the evaluator may need to know about AWS's actions, supplied by a crate that has the
/// service authorization data (this crate has none).
pub trait ActionCatalog {
    /// Whether `action` (`service:Action`, any case) supports no resource types, so that only
    /// `Resource: "*"` grants it; `None` when the action is unknown.
    fn is_wildcard_only(&self, action: &str) -> Option<bool>;
}

/// The caller, as IAM identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An unauthenticated caller.
    Anonymous,
    /// An AWS service principal (`sagemaker.amazonaws.com`).
    Service(String),
    /// An IAM identity or the account root.
    Aws(AwsPrincipal),
}

/// An IAM identity, parsed from its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsPrincipal {
    /// The ARN as given.
    pub arn: String,
    /// The partition (`aws`).
    pub partition: String,
    /// The owning account.
    pub account: String,
    /// What kind of identity.
    pub kind: AwsPrincipalKind,
}

/// The kinds of IAM identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsPrincipalKind {
    /// `arn:aws:iam::123456789012:root`
    Root,
    /// `arn:aws:iam::123456789012:user/path/name`
    User {
        /// The user name (last path segment).
        name: String,
    },
    /// `arn:aws:iam::123456789012:role/path/name`
    Role {
        /// The role name (last path segment).
        name: String,
    },
    /// `arn:aws:sts::123456789012:assumed-role/role-name/session-name`
    AssumedRole {
        /// The role name.
        role: String,
        /// The session name.
        session: String,
    },
    /// `arn:aws:sts::123456789012:federated-user/name`
    FederatedUser {
        /// The federated user name.
        name: String,
    },
    /// Any other ARN in an account (a group, an IAM identity center user, ...).
    Other,
}

/// Why a principal string could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a principal: {reason}")]
pub struct PrincipalError {
    /// The text given.
    pub input: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl Principal {
    /// Parses an IAM ARN, an assumed-role session ARN, a 12-digit account id (the account root),
    /// a service principal (`*.amazonaws.com`), or `anonymous`.
    pub fn parse(text: &str) -> Result<Principal, PrincipalError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("anonymous") || text == "*" {
            return Ok(Principal::Anonymous);
        }
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Principal::Aws(AwsPrincipal {
                arn: format!("arn:aws:iam::{text}:root"),
                partition: "aws".into(),
                account: text.into(),
                kind: AwsPrincipalKind::Root,
            }));
        }
        let Some(arn) = ArnParts::parse(text) else {
            if text.contains('.') && !text.contains(':') && !text.contains('/') {
                return Ok(Principal::Service(text.to_string()));
            }
            return Err(PrincipalError {
                input: text.into(),
                reason: "expected an IAM ARN, an account id, a service principal such as `sagemaker.amazonaws.com`, or `anonymous`",
            });
        };
        if arn.account.is_empty() {
            return Err(PrincipalError {
                input: text.into(),
                reason: "the ARN has no account id",
            });
        }
        let last = |path: &str| path.rsplit('/').next().unwrap_or(path).to_string();
        let kind = match (arn.service, arn.resource.split_once('/')) {
            ("iam", None) if arn.resource == "root" => AwsPrincipalKind::Root,
            ("iam", Some(("user", rest))) => AwsPrincipalKind::User { name: last(rest) },
            ("iam", Some(("role", rest))) => AwsPrincipalKind::Role { name: last(rest) },
            ("sts", Some(("assumed-role", rest))) => match rest.split_once('/') {
                Some((role, session)) => AwsPrincipalKind::AssumedRole {
                    role: role.into(),
                    session: session.into(),
                },
                None => {
                    return Err(PrincipalError {
                        input: text.into(),
                        reason: "an assumed-role ARN is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`",
                    });
                }
            },
            ("sts", Some(("federated-user", name))) => {
                AwsPrincipalKind::FederatedUser { name: name.into() }
            }
            _ => AwsPrincipalKind::Other,
        };
        Ok(Principal::Aws(AwsPrincipal {
            arn: text.into(),
            partition: arn.partition.into(),
            account: arn.account.into(),
            kind,
        }))
    }

    /// The account the principal belongs to, when it has one.
    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Aws(p) => Some(&p.account),
            _ => None,
        }
    }

    /// The ARN, service name or `anonymous`, as AWS prints it in error messages.
    pub fn display_name(&self) -> &str {
        match self {
            Principal::Anonymous => "anonymous",
            Principal::Service(s) => s,
            Principal::Aws(p) => &p.arn,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// One request to authorize.
#[derive(Debug, Clone)]
pub struct Request {
    /// Shared, so that many requests by one caller need not copy its ARN and names.
    pub(crate) principal: Arc<Principal>,
    pub(crate) action: String,
    /// The action lowercased, for case-insensitive matching.
    pub(crate) action_folded: String,
    /// Hashes of the folded action and of its service prefix, for the policies' indexes.
    pub(crate) action_hash: u64,
    pub(crate) service_hash: u64,
    pub(crate) resource: String,
    /// The account that owns the resource, when `has_resource_account`; the text is kept
    /// otherwise, so that a renewed request can use its buffer again.
    resource_account: String,
    has_resource_account: bool,
    /// Whether principal and resource share an account, decided when the request is built.
    same_account: bool,
    pub(crate) context: RequestContext,
    pub(crate) wildcard_only_action: bool,
    /// Where the resource's ARN parts end (the offsets of its first five `:`), when it is an ARN.
    pub(crate) arn_colons: Option<[u16; 5]>,
    /// The resource is itself a pattern (`*`, `arn:aws:s3:::bucket/*`): "some resource like this".
    pub(crate) resource_is_pattern: bool,
}

impl Request {
    /// A request by `principal` to perform `action` (`service:Action`, any case) on `resource`
    /// (an ARN, or `*` for actions without resource types).
    pub fn new(principal: Principal, action: &str, resource: &str) -> Self {
        Self::new_shared(Arc::new(principal), action, resource)
    }

    /// [`Request::new`] for a principal that many requests share, such as a caller whose
    /// requests are decided one after the other.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rolewright_iam::{Principal, Request};
    /// let caller = Arc::new(Principal::parse("arn:aws:iam::123456789012:role/ds").unwrap());
    /// let read = Request::new_shared(Arc::clone(&caller), "s3:GetObject", "arn:aws:s3:::b/k");
    /// let list = Request::new_shared(caller, "s3:ListBucket", "arn:aws:s3:::b");
    /// assert_eq!(read.principal(), list.principal());
    /// ```
    pub fn new_shared(principal: Arc<Principal>, action: &str, resource: &str) -> Self {
        let mut request = Request {
            same_account: false,
            principal,
            action: String::new(),
            action_hash: 0,
            service_hash: 0,
            action_folded: String::new(),
            resource: String::new(),
            resource_account: String::new(),
            has_resource_account: false,
            context: RequestContext::new(),
            wildcard_only_action: false,
            arn_colons: None,
            resource_is_pattern: false,
        };
        request.fill(action, resource);
        request
    }

    /// Makes this request the one [`Request::new_shared`] builds for these arguments, reusing
    /// its buffers: for callers that decide many requests one after the other. The context is
    /// emptied and the request is not wildcard-only.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rolewright_iam::{Principal, Request};
    /// let caller = Arc::new(Principal::parse("arn:aws:iam::123456789012:role/ds").unwrap());
    /// let mut request = Request::new_shared(Arc::clone(&caller), "s3:GetObject", "arn:aws:s3:::b/k");
    /// request.context_mut().set("aws:SourceVpc", "vpc-1");
    /// request.renew(Arc::clone(&caller), "iam:GetRole", "arn:aws:iam::123456789012:role/x");
    /// assert_eq!(request.action(), "iam:GetRole");
    /// assert_eq!(request.resource_account(), Some("123456789012"));
    /// assert!(request.context().is_empty());
    /// ```
    pub fn renew(&mut self, principal: Arc<Principal>, action: &str, resource: &str) {
        self.principal = principal;
        self.context.clear();
        self.wildcard_only_action = false;
        self.fill(action, resource);
    }

    /// Sets what depends on the action and the resource, reusing the strings' buffers.
    fn fill(&mut self, action: &str, resource: &str) {
        // The ARN is split once; its account and part boundaries both come from that split.
        let arn = ArnParts::parse(resource);
        let account = arn.map(|a| a.account).filter(|a| !a.is_empty());
        set_text(&mut self.action, action);
        set_text(&mut self.action_folded, action);
        self.action_folded.make_ascii_lowercase();
        let service = self
            .action_folded
            .split_once(':')
            .map_or(self.action_folded.as_str(), |(s, _)| s);
        self.service_hash = crate::policy::text_hash(service);
        self.action_hash = crate::policy::text_hash(&self.action_folded);
        set_text(&mut self.resource, resource);
        self.arn_colons = arn.and_then(|a| arn_colons(resource, &a));
        self.resource_is_pattern = is_pattern(resource);
        self.set_account(account);
    }

    /// Sets the account that owns the resource (needed when the ARN has none, as in S3).
    pub fn with_resource_account(mut self, account: impl Into<String>) -> Self {
        self.resource_account = account.into();
        self.has_resource_account = true;
        self.same_account = same_account(&self.principal, self.resource_account());
        self
    }

    /// [`Request::with_resource_account`] in place, reusing the account's buffer.
    pub fn set_resource_account(&mut self, account: &str) {
        self.set_account(Some(account));
    }

    fn set_account(&mut self, account: Option<&str>) {
        set_text(&mut self.resource_account, account.unwrap_or_default());
        self.has_resource_account = account.is_some();
        self.same_account = same_account(&self.principal, self.resource_account());
    }

    /// The same request for another resource (or set of resources), keeping its account.
    pub(crate) fn with_resource(&self, resource: &str) -> Request {
        let mut r = self.clone();
        r.resource = resource.to_string();
        r.arn_colons = ArnParts::parse(resource).and_then(|a| arn_colons(resource, &a));
        r.resource_is_pattern = is_pattern(resource);
        r
    }

    /// Replaces the condition keys.
    pub fn with_context(mut self, context: RequestContext) -> Self {
        self.context = context;
        self
    }

    /// Says whether the action supports no resource types, so that only `Resource: "*"` applies
    /// (set it for actions such as `s3:ListAllMyBuckets`, whose resource is `*`).
    pub fn with_wildcard_only_action(mut self, wildcard_only: bool) -> Self {
        self.wildcard_only_action = wildcard_only;
        self
    }

    /// [`Request::with_wildcard_only_action`] in place.
    pub fn set_wildcard_only_action(&mut self, wildcard_only: bool) {
        self.wildcard_only_action = wildcard_only;
    }

    /// Asks `catalog` whether the action has no resource types and, when it knows, records the
    /// answer. Call it for requests that do not say so themselves.
    pub fn infer_wildcard_only_action(&mut self, catalog: &dyn ActionCatalog) {
        if let Some(wildcard_only) = catalog.is_wildcard_only(&self.action) {
            self.wildcard_only_action = wildcard_only;
        }
    }

    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The action as given.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The resource as given.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The resource's account, when known.
    pub fn resource_account(&self) -> Option<&str> {
        self.has_resource_account
            .then_some(self.resource_account.as_str())
    }

    /// The condition keys.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// Mutable access to the condition keys.
    pub fn context_mut(&mut self) -> &mut RequestContext {
        &mut self.context
    }

    /// The resource's ARN parts, from offsets found once when the request was built.
    pub(crate) fn arn_parts(&self) -> Option<ArnParts<'_>> {
        let c = self.arn_colons?.map(usize::from);
        let r = self.resource.as_str();
        Some(ArnParts {
            partition: &r[c[0] + 1..c[1]],
            service: &r[c[1] + 1..c[2]],
            region: &r[c[2] + 1..c[3]],
            account: &r[c[3] + 1..c[4]],
            resource: &r[c[4] + 1..],
        })
    }

    /// Whether the principal and the resource belong to the same account.
    pub fn is_same_account(&self) -> bool {
        self.same_account
    }
}

/// Whether a resource names a set of resources (`*` or `?` in it). Both are ASCII, so the
/// bytes tell, eight at a time: this runs for every request built, and a search for either of
/// two `char`s cost as much as the rest of building the request.
fn is_pattern(resource: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each zero byte of `x`, exactly.
    let zero_bytes = |x: u64| !(((x & LOW) + LOW) | x | LOW);
    let mut words = resource.as_bytes().chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        if zero_bytes(w ^ (ONES * u64::from(b'*'))) | zero_bytes(w ^ (ONES * u64::from(b'?'))) != 0
        {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b == b'*' || b == b'?')
}

/// Replaces `kept` with `text`, keeping its buffer.
fn set_text(kept: &mut String, text: &str) {
    kept.clear();
    kept.push_str(text);
}

fn same_account(principal: &Principal, resource_account: Option<&str>) -> bool {
    match (principal.account(), resource_account) {
        (Some(p), Some(r)) => p == r,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The offsets of the first five `:` of `text` (`arn:` included), from its split `arn`.
fn arn_colons(text: &str, arn: &ArnParts<'_>) -> Option<[u16; 5]> {
    // Each part is a slice of `text`; the colon before it sits just ahead of its start.
    let before =
        |part: &str| u16::try_from(part.as_ptr() as usize - text.as_ptr() as usize - 1).ok();
    Some([
        3,
        before(arn.service)?,
        before(arn.region)?,
        before(arn.account)?,
        before(arn.resource)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_is_a_pattern_when_it_has_a_wildcard_anywhere() {
        for (resource, pattern) in [
            ("*", true),
            ("arn:aws:s3:::bucket/key", false),
            ("arn:aws:s3:::bucket/*", true),
            ("arn:aws:s3:::bucket/k?y/exactly-16", true),
            ("arn:aws:s3:::bucket/é/ключ", false),
            ("", false),
        ] {
            assert_eq!(is_pattern(resource), pattern, "{resource}");
        }
    }

    #[test]
    fn principals_parse() {
        let p = Principal::parse("arn:aws:sts::123456789012:assumed-role/ml/alice").unwrap();
        assert_eq!(
            p,
            Principal::Aws(AwsPrincipal {
                arn: "arn:aws:sts::123456789012:assumed-role/ml/alice".into(),
                partition: "aws".into(),
                account: "123456789012".into(),
                kind: AwsPrincipalKind::AssumedRole {
                    role: "ml".into(),
                    session: "alice".into()
                },
            })
        );
        assert_eq!(
            Principal::parse("sagemaker.amazonaws.com"),
            Ok(Principal::Service("sagemaker.amazonaws.com".into()))
        );
        assert_eq!(Principal::parse("anonymous"), Ok(Principal::Anonymous));
        assert_eq!(
            Principal::parse("bob").unwrap_err().to_string(),
            "`bob` is not a principal: expected an IAM ARN, an account id, a service principal such as `sagemaker.amazonaws.com`, or `anonymous`"
        );
    }
}
