//! The account snapshot: users, groups, roles and managed policies in the shape of IAM's
//! `GetAccountAuthorizationDetails`, read from the JSON that
//! `aws iam get-account-authorization-details` prints, plus resource policies by ARN.
//!
//! Two models, as in the engine: a serde wire model that accepts what the AWS CLI and boto3
//! print (unknown fields ignored, lists that may be missing, policy documents either as JSON
//! objects or as the URL-encoded strings of the query protocol), and the checked model below,
//! in which every policy document has been parsed and validated and every attachment refers to
//! a policy the snapshot has.

use std::collections::{HashMap, HashSet};

use rolewright_iam::{PolicyDocument, PolicyType, parse_policy};
use serde::Deserialize;
use serde_json::Value;

/// Why a snapshot could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The text is not JSON, or not in the shape of `GetAccountAuthorizationDetails`.
    #[error(
        "not the output of `aws iam get-account-authorization-details`: {message} (line {line}, column {column})"
    )]
    Shape {
        /// What serde found wrong.
        message: String,
        /// Where (1-based; 0 when unknown).
        line: usize,
        /// Where (1-based; 0 when unknown).
        column: usize,
    },
    /// A policy document does not read.
    #[error("{owner}: {policy}: {message}")]
    Policy {
        /// The entity the policy belongs to (`role `ds``).
        owner: String,
        /// Which policy (`inline policy `s3``, `trust policy`, `version v2`).
        policy: String,
        /// What is wrong with it.
        message: String,
    },
    /// An attachment, boundary or group membership names something the snapshot lacks.
    #[error("{owner}: {message}")]
    Reference {
        /// The entity that refers to it.
        owner: String,
        /// What is missing, and what to do.
        message: String,
    },
    /// An ARN that is not one.
    #[error("`{arn}` is not an ARN{context}")]
    Arn {
        /// The text given.
        arn: String,
        /// Where it was found (`, in the user list`), possibly empty.
        context: String,
    },
}

/// Everything the review knows about one account.
#[derive(Debug, Clone, Default)]
pub struct AccountSnapshot {
    /// The account id, from the entities' ARNs (empty for an empty snapshot).
    pub account: String,
    /// The partition (`aws`).
    pub partition: String,
    /// IAM users.
    pub users: Vec<User>,
    /// IAM groups.
    pub groups: Vec<Group>,
    /// IAM roles.
    pub roles: Vec<Role>,
    /// Managed policies (customer and AWS managed) with their versions.
    pub policies: Vec<ManagedPolicy>,
    /// Resource-based policies by resource ARN (bucket policies, key policies, ...).
    pub resource_policies: Vec<ResourcePolicy>,
}

/// An inline policy.
#[derive(Debug, Clone)]
pub struct InlinePolicy {
    /// Its name.
    pub name: String,
    /// Its document.
    pub document: PolicyDocument,
}

/// A user.
#[derive(Debug, Clone)]
pub struct User {
    /// The user name.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// The names of the groups the user is in.
    pub groups: Vec<String>,
    /// ARNs of the attached managed policies.
    pub attached: Vec<String>,
    /// ARN of the permissions boundary.
    pub boundary: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// A group.
#[derive(Debug, Clone)]
pub struct Group {
    /// The group name.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// ARNs of the attached managed policies.
    pub attached: Vec<String>,
}

/// A role.
#[derive(Debug, Clone)]
pub struct Role {
    /// The role name.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The trust policy.
    pub trust: PolicyDocument,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// ARNs of the attached managed policies.
    pub attached: Vec<String>,
    /// ARN of the permissions boundary.
    pub boundary: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// A managed policy.
#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    /// The policy name.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The versions; exactly one is the default.
    pub versions: Vec<PolicyVersion>,
}

impl ManagedPolicy {
    /// The default version's document.
    pub fn default_document(&self) -> Option<&PolicyDocument> {
        self.versions
            .iter()
            .find(|v| v.is_default)
            .map(|v| &v.document)
    }

    /// Whether AWS manages it (`arn:aws:iam::aws:policy/...`): nobody can change it.
    pub fn is_aws_managed(&self) -> bool {
        self.arn.split(':').nth(4) == Some("aws")
    }
}

/// One version of a managed policy.
#[derive(Debug, Clone)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub id: String,
    /// Whether it is the version in force.
    pub is_default: bool,
    /// The document.
    pub document: PolicyDocument,
}

/// A resource-based policy.
#[derive(Debug, Clone)]
pub struct ResourcePolicy {
    /// The resource's ARN.
    pub arn: String,
    /// The policy.
    pub document: PolicyDocument,
}

// The wire model: what the AWS CLI prints. Every list may be missing.

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireDetails {
    user_detail_list: Option<Vec<WireUser>>,
    group_detail_list: Option<Vec<WireGroup>>,
    role_detail_list: Option<Vec<WireRole>>,
    policies: Option<Vec<WirePolicy>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireUser {
    user_name: String,
    arn: String,
    #[serde(default)]
    user_policy_list: Vec<WireInline>,
    #[serde(default)]
    group_list: Vec<String>,
    #[serde(default)]
    attached_managed_policies: Vec<WireAttached>,
    permissions_boundary: Option<WireBoundary>,
    #[serde(default)]
    tags: Vec<WireTag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireGroup {
    group_name: String,
    arn: String,
    #[serde(default)]
    group_policy_list: Vec<WireInline>,
    #[serde(default)]
    attached_managed_policies: Vec<WireAttached>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRole {
    role_name: String,
    arn: String,
    assume_role_policy_document: Value,
    #[serde(default)]
    role_policy_list: Vec<WireInline>,
    #[serde(default)]
    attached_managed_policies: Vec<WireAttached>,
    permissions_boundary: Option<WireBoundary>,
    #[serde(default)]
    tags: Vec<WireTag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WirePolicy {
    policy_name: String,
    arn: String,
    #[serde(default)]
    default_version_id: Option<String>,
    #[serde(default)]
    policy_version_list: Vec<WireVersion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireVersion {
    document: Value,
    version_id: String,
    #[serde(default)]
    is_default_version: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireInline {
    policy_name: String,
    policy_document: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireAttached {
    policy_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireBoundary {
    permissions_boundary_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireTag {
    key: String,
    #[serde(default)]
    value: String,
}

impl AccountSnapshot {
    /// Reads the JSON of `aws iam get-account-authorization-details` (or of boto3's
    /// `get_account_authorization_details`, several pages merged into one object).
    ///
    /// ```
    /// use rolewright_review::AccountSnapshot;
    /// let snapshot = AccountSnapshot::from_json(r#"{"RoleDetailList": [{
    ///     "RoleName": "ds", "Arn": "arn:aws:iam::123456789012:role/ds",
    ///     "AssumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22sagemaker.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D"
    /// }]}"#)?;
    /// assert_eq!(snapshot.account, "123456789012");
    /// assert_eq!(snapshot.roles[0].trust.statements.len(), 1);
    /// # Ok::<(), rolewright_review::SnapshotError>(())
    /// ```
    pub fn from_json(text: &str) -> Result<AccountSnapshot, SnapshotError> {
        let wire: WireDetails = serde_json::from_str(text).map_err(|e| SnapshotError::Shape {
            message: strip_location(&e.to_string()),
            line: e.line(),
            column: e.column(),
        })?;
        Self::from_wire(wire)
    }

    /// Reads an already parsed JSON value of the same shape as [`AccountSnapshot::from_json`].
    pub fn from_value(value: Value) -> Result<AccountSnapshot, SnapshotError> {
        let wire: WireDetails =
            serde_json::from_value(value).map_err(|e| SnapshotError::Shape {
                message: strip_location(&e.to_string()),
                line: 0,
                column: 0,
            })?;
        Self::from_wire(wire)
    }

    fn from_wire(wire: WireDetails) -> Result<AccountSnapshot, SnapshotError> {
        if wire.user_detail_list.is_none()
            && wire.group_detail_list.is_none()
            && wire.role_detail_list.is_none()
            && wire.policies.is_none()
        {
            // Some other command's output (`aws iam list-roles`) would read as an empty account.
            return Err(SnapshotError::Shape {
                message: "it has none of `UserDetailList`, `GroupDetailList`, `RoleDetailList` and `Policies`".into(),
                line: 1,
                column: 1,
            });
        }
        let mut snapshot = AccountSnapshot::default();
        for p in wire.policies.unwrap_or_default() {
            let owner = format!("managed policy `{}`", p.arn);
            check_arn(&p.arn, "in the policy list")?;
            let mut versions = Vec::new();
            for v in p.policy_version_list {
                let is_default = v.is_default_version
                    || p.default_version_id.as_deref() == Some(v.version_id.as_str());
                let document = document(
                    &v.document,
                    PolicyType::Identity,
                    &owner,
                    &format!("version `{}`", v.version_id),
                )?;
                versions.push(PolicyVersion {
                    id: v.version_id,
                    is_default,
                    document,
                });
            }
            if !versions.iter().any(|v| v.is_default) {
                return Err(SnapshotError::Reference {
                    owner,
                    message: "no version is the default version (`IsDefaultVersion`)".into(),
                });
            }
            snapshot.policies.push(ManagedPolicy {
                name: p.policy_name,
                arn: p.arn,
                versions,
            });
        }
        for g in wire.group_detail_list.unwrap_or_default() {
            let owner = format!("group `{}`", g.group_name);
            check_arn(&g.arn, "in the group list")?;
            snapshot.groups.push(Group {
                inline: inline(&g.group_policy_list, &owner)?,
                attached: g
                    .attached_managed_policies
                    .into_iter()
                    .map(|a| a.policy_arn)
                    .collect(),
                name: g.group_name,
                arn: g.arn,
            });
        }
        for u in wire.user_detail_list.unwrap_or_default() {
            let owner = format!("user `{}`", u.user_name);
            check_arn(&u.arn, "in the user list")?;
            snapshot.users.push(User {
                inline: inline(&u.user_policy_list, &owner)?,
                groups: u.group_list,
                attached: u
                    .attached_managed_policies
                    .into_iter()
                    .map(|a| a.policy_arn)
                    .collect(),
                boundary: u.permissions_boundary.map(|b| b.permissions_boundary_arn),
                tags: u.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                name: u.user_name,
                arn: u.arn,
            });
        }
        for r in wire.role_detail_list.unwrap_or_default() {
            let owner = format!("role `{}`", r.role_name);
            check_arn(&r.arn, "in the role list")?;
            snapshot.roles.push(Role {
                trust: document(
                    &r.assume_role_policy_document,
                    PolicyType::Trust,
                    &owner,
                    "trust policy",
                )?,
                inline: inline(&r.role_policy_list, &owner)?,
                attached: r
                    .attached_managed_policies
                    .into_iter()
                    .map(|a| a.policy_arn)
                    .collect(),
                boundary: r.permissions_boundary.map(|b| b.permissions_boundary_arn),
                tags: r.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                name: r.role_name,
                arn: r.arn,
            });
        }
        snapshot.check_references()?;
        let first = snapshot
            .users
            .iter()
            .map(|u| &u.arn)
            .chain(snapshot.roles.iter().map(|r| &r.arn))
            .chain(snapshot.groups.iter().map(|g| &g.arn))
            .next();
        if let Some(arn) = first {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            snapshot.partition = parts.get(1).copied().unwrap_or("aws").to_string();
            snapshot.account = parts.get(4).copied().unwrap_or_default().to_string();
        } else {
            snapshot.partition = "aws".into();
        }
        Ok(snapshot)
    }

    /// Every attachment, boundary and group membership must name something listed: an export
    /// made with `--filter` leaves out what the review needs.
    fn check_references(&self) -> Result<(), SnapshotError> {
        let policies: HashSet<&str> = self.policies.iter().map(|p| p.arn.as_str()).collect();
        let groups: HashSet<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
        let missing_policy = |owner: String, what: &str, arn: &str| SnapshotError::Reference {
            owner,
            message: format!(
                "{what} `{arn}` is not in the snapshot's `Policies`; export the account without `--filter` so that every policy in use is listed"
            ),
        };
        for u in &self.users {
            for arn in &u.attached {
                if !policies.contains(arn.as_str()) {
                    return Err(missing_policy(
                        format!("user `{}`", u.name),
                        "attached policy",
                        arn,
                    ));
                }
            }
            if let Some(arn) = &u.boundary
                && !policies.contains(arn.as_str())
            {
                return Err(missing_policy(
                    format!("user `{}`", u.name),
                    "permissions boundary",
                    arn,
                ));
            }
            for g in &u.groups {
                if !groups.contains(g.as_str()) {
                    return Err(SnapshotError::Reference {
                        owner: format!("user `{}`", u.name),
                        message: format!(
                            "group `{g}` is not in the snapshot's `GroupDetailList`; export the account without `--filter`"
                        ),
                    });
                }
            }
        }
        for g in &self.groups {
            for arn in &g.attached {
                if !policies.contains(arn.as_str()) {
                    return Err(missing_policy(
                        format!("group `{}`", g.name),
                        "attached policy",
                        arn,
                    ));
                }
            }
        }
        for r in &self.roles {
            for arn in &r.attached {
                if !policies.contains(arn.as_str()) {
                    return Err(missing_policy(
                        format!("role `{}`", r.name),
                        "attached policy",
                        arn,
                    ));
                }
            }
            if let Some(arn) = &r.boundary
                && !policies.contains(arn.as_str())
            {
                return Err(missing_policy(
                    format!("role `{}`", r.name),
                    "permissions boundary",
                    arn,
                ));
            }
        }
        Ok(())
    }

    /// Adds (or replaces) the resource-based policy of `arn`, read from `text`.
    ///
    /// ```
    /// use rolewright_review::AccountSnapshot;
    /// let mut snapshot = AccountSnapshot::default();
    /// let err = snapshot.add_resource_policy("bucket", "{}").unwrap_err();
    /// assert_eq!(err.to_string(), "`bucket` is not an ARN");
    /// ```
    pub fn add_resource_policy(&mut self, arn: &str, text: &str) -> Result<(), SnapshotError> {
        check_arn(arn, "")?;
        let document = document(
            &Value::String(text.to_string()),
            PolicyType::Resource,
            &format!("resource `{arn}`"),
            "resource policy",
        )?;
        self.resource_policies.retain(|p| p.arn != arn);
        self.resource_policies.push(ResourcePolicy {
            arn: arn.to_string(),
            document,
        });
        Ok(())
    }

    /// Managed policies by ARN.
    pub fn policy_index(&self) -> HashMap<&str, &ManagedPolicy> {
        self.policies.iter().map(|p| (p.arn.as_str(), p)).collect()
    }
}

fn check_arn(arn: &str, context: &str) -> Result<(), SnapshotError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" && !parts[1].is_empty() && !parts[2].is_empty() {
        return Ok(());
    }
    Err(SnapshotError::Arn {
        arn: arn.to_string(),
        context: if context.is_empty() {
            String::new()
        } else {
            format!(", {context}")
        },
    })
}

fn inline(list: &[WireInline], owner: &str) -> Result<Vec<InlinePolicy>, SnapshotError> {
    list.iter()
        .map(|p| {
            Ok(InlinePolicy {
                name: p.policy_name.clone(),
                document: document(
                    &p.policy_document,
                    PolicyType::Identity,
                    owner,
                    &format!("inline policy `{}`", p.policy_name),
                )?,
            })
        })
        .collect()
}

/// A policy document as the AWS CLI prints it (a JSON object), or as the query protocol sends
/// it (a URL-encoded string), or as JSON text in a string.
fn document(
    value: &Value,
    policy_type: PolicyType,
    owner: &str,
    policy: &str,
) -> Result<PolicyDocument, SnapshotError> {
    let fail = |message: String| SnapshotError::Policy {
        owner: owner.to_string(),
        policy: policy.to_string(),
        message,
    };
    let text = match value {
        Value::Object(_) => value.to_string(),
        Value::String(s) if s.trim_start().starts_with('{') => s.clone(),
        Value::String(s) => percent_decode(s).ok_or_else(|| {
            fail("the document is neither JSON nor a URL-encoded JSON string".into())
        })?,
        _ => {
            return Err(fail(
                "the document must be a JSON object or a string".into(),
            ));
        }
    };
    let outcome = parse_policy(&text, policy_type);
    match outcome.document {
        Some(doc) => Ok(doc),
        None => {
            let first = outcome
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map_or_else(|| "invalid policy".to_string(), ToString::to_string);
            Err(fail(first))
        }
    }
}

/// Decodes `%XX` escapes (RFC 3986, as IAM encodes documents); `None` when the result is not
/// UTF-8 or an escape is broken.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// serde's messages end with ` at line L column C`, which the error says itself.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_read_as_objects_json_text_or_url_encoded_text() {
        let object = serde_json::json!({"Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}});
        let text = Value::String(object.to_string());
        let encoded = Value::String(
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow\
             %22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22%2A%22%7D%7D"
                .into(),
        );
        for v in [object, text, encoded] {
            let doc = document(&v, PolicyType::Identity, "o", "p").unwrap();
            assert_eq!(doc.version.as_deref(), Some("2012-10-17"));
        }
        let err = document(
            &Value::from(3),
            PolicyType::Identity,
            "role `x`",
            "trust policy",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "role `x`: trust policy: the document must be a JSON object or a string"
        );
    }

    #[test]
    fn a_missing_attached_policy_says_how_to_export() {
        let err = AccountSnapshot::from_json(
            r#"{"UserDetailList": [{"UserName": "a", "Arn": "arn:aws:iam::111122223333:user/a",
                "AttachedManagedPolicies": [{"PolicyName": "P", "PolicyArn": "arn:aws:iam::111122223333:policy/P"}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "user `a`: attached policy `arn:aws:iam::111122223333:policy/P` is not in the snapshot's `Policies`; export the account without `--filter` so that every policy in use is listed"
        );
    }

    #[test]
    fn a_shape_error_has_its_line() {
        let err =
            AccountSnapshot::from_json("{\n\"RoleDetailList\": [{\"RoleName\": 3}]}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not the output of `aws iam get-account-authorization-details`: invalid type: integer `3`, expected a string (line 2, column 33)"
        );
    }
}
