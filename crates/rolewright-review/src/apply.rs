//! Writing to a live role through IAM's Query API, the caller's client doing the wire: a trim
//! (with its undo recorded on the role), its rollback, and a drift's sync. IAM's quotas are
//! checked before the first write, and a write that fails part-way is undone, newest first, so
//! that the role is either all changed or as it was.
//!
//! A trim applied is recorded on the role itself, so that [`rollback`] needs nothing but the
//! account: tags `rolewright:trim` (when), `rolewright:trim:inline:POLICY` (the ARN of an
//! unattached customer-managed policy under the path `/rolewright-pretrim/` holding the inline
//! policy's document before the trim, or `-` for an inline policy the trim added),
//! `rolewright:trim:version:N` (`ARN OLD NEW`: the default version before and the one the trim
//! created) and `rolewright:trim:detached:N` (an ARN the trim detached).

use std::future::Future;

use rolewright_iam::size::{
    MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY, ROLE_INLINE_POLICIES_TOTAL, TRUST_POLICY,
};
use serde_json::Value;

use crate::change::Change;
use crate::role_state::{AttachedPolicy, NamedDocument, RoleState, document};

/// The tag that marks a trimmed role, and the prefix of the tags that record the trim.
pub const TRIM_TAG: &str = "rolewright:trim";
/// The path of the managed policies that keep inline policies as they were before a trim.
pub const PRETRIM_PATH: &str = "/rolewright-pretrim/";
/// Tags a role may have (IAM's quota).
pub const TAGS_PER_ROLE: usize = 50;
/// Versions a managed policy may have (IAM's quota).
pub const VERSIONS_PER_POLICY: usize = 5;
/// The longest tag key IAM takes.
const TAG_KEY_MAX: usize = 128;
/// The longest tag value IAM takes.
const TAG_VALUE_MAX: usize = 256;

/// An IAM error answer: its code (`AccessDenied`, `NoSuchEntity`, ...) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamFailure {
    /// The error code.
    pub code: String,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for IamFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// IAM's Query API, as the caller reaches it (the command line's AWS client, the console's
/// signed-in principal).
pub trait IamCalls {
    /// Makes one call (`PutRolePolicy` with its form parameters) and answers the response's
    /// XML.
    fn call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> impl Future<Output = Result<String, IamFailure>> + Send;

    /// The text of the first element `tag` of an answer, unescaped (`VersionId`, `Arn`).
    fn text(answer: &str, tag: &str) -> Option<String>;
}

/// Why a write did not happen, or did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The written role would break one of IAM's quotas; nothing was written.
    #[error("{0} (nothing was written)")]
    Quota(String),
    /// The role has no trim to roll back.
    #[error(
        "role `{0}` has no trim to roll back (no `{TRIM_TAG}` tag: `rolewright role trim --apply` writes one)"
    )]
    NoTrim(String),
    /// The trim's record on the role does not read.
    #[error("the trim's record on the role does not read: {0}")]
    Record(String),
    /// A write failed; those before it were undone (or, when `left` is not empty, some could
    /// not be).
    #[error("{}", failed_text(.step, .failure, *.undone, .left))]
    Failed {
        /// The write that failed.
        step: String,
        /// IAM's answer.
        failure: IamFailure,
        /// How many writes before it were undone.
        undone: usize,
        /// The undo steps that failed too, with IAM's answer.
        left: Vec<String>,
    },
}

fn failed_text(step: &str, failure: &IamFailure, undone: usize, left: &[String]) -> String {
    let before = match undone {
        0 => "nothing had been written before it".to_string(),
        1 => "the write before it was undone".to_string(),
        n => format!("the {n} writes before it were undone"),
    };
    if left.is_empty() {
        format!("{step} failed ({failure}); {before}, so the role is as it was")
    } else {
        format!(
            "{step} failed ({failure}), and undoing what was written failed too, so the role is left part-written: {}",
            left.join("; ")
        )
    }
}

/// One IAM call: the action and its form parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IamCall {
    action: &'static str,
    params: Vec<(&'static str, String)>,
}

impl IamCall {
    fn new(action: &'static str, params: &[(&'static str, &str)]) -> IamCall {
        IamCall {
            action,
            params: params.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        }
    }
}

impl std::fmt::Display for IamCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let named = self
            .params
            .iter()
            .find(|(k, _)| matches!(*k, "PolicyName" | "PolicyArn" | "TagKeys.member.1"))
            .or_else(|| self.params.iter().find(|(k, _)| *k == "Tags.member.1.Key"));
        match named {
            Some((_, v)) => write!(f, "iam:{} `{v}`", self.action),
            None => write!(f, "iam:{}", self.action),
        }
    }
}

/// The IAM call that makes `change` on the role `role`.
fn call_of(role: &str, change: &Change) -> IamCall {
    let text = |v: &Value| v.to_string();
    match change {
        Change::CreateRole {
            name,
            trust,
            description,
        } => {
            let trust = text(trust);
            let mut p = vec![
                ("RoleName", name.as_str()),
                ("AssumeRolePolicyDocument", &trust),
            ];
            if let Some(d) = description {
                p.push(("Description", d));
            }
            IamCall::new("CreateRole", &p)
        }
        Change::UpdateTrust(doc) => IamCall::new(
            "UpdateAssumeRolePolicy",
            &[("RoleName", role), ("PolicyDocument", &text(doc))],
        ),
        Change::PutInline { name, document } => IamCall::new(
            "PutRolePolicy",
            &[
                ("RoleName", role),
                ("PolicyName", name),
                ("PolicyDocument", &text(document)),
            ],
        ),
        Change::DeleteInline(name) => IamCall::new(
            "DeleteRolePolicy",
            &[("RoleName", role), ("PolicyName", name)],
        ),
        Change::CreatePolicy { name, document } => IamCall::new(
            "CreatePolicy",
            &[("PolicyName", name), ("PolicyDocument", &text(document))],
        ),
        Change::NewDefaultVersion { arn, document } => IamCall::new(
            "CreatePolicyVersion",
            &[
                ("PolicyArn", arn),
                ("PolicyDocument", &text(document)),
                ("SetAsDefault", "true"),
            ],
        ),
        Change::Attach(arn) => IamCall::new(
            "AttachRolePolicy",
            &[("RoleName", role), ("PolicyArn", arn)],
        ),
        Change::Detach(arn) => IamCall::new(
            "DetachRolePolicy",
            &[("RoleName", role), ("PolicyArn", arn)],
        ),
        Change::PutBoundary(arn) => IamCall::new(
            "PutRolePermissionsBoundary",
            &[("RoleName", role), ("PermissionsBoundary", arn)],
        ),
        Change::DeleteBoundary => {
            IamCall::new("DeleteRolePermissionsBoundary", &[("RoleName", role)])
        }
        Change::Tag(k, v) => IamCall::new(
            "TagRole",
            &[
                ("RoleName", role),
                ("Tags.member.1.Key", k),
                ("Tags.member.1.Value", v),
            ],
        ),
        Change::Untag(k) => {
            IamCall::new("UntagRole", &[("RoleName", role), ("TagKeys.member.1", k)])
        }
    }
}

/// The role as it stands after `changes` (documents of newly attached policies unknown).
pub fn after_changes(before: &RoleState, changes: &[Change]) -> RoleState {
    let mut role = before.clone();
    for change in changes {
        apply_to(&mut role, change);
    }
    role
}

/// Records one change on the in-memory role.
fn apply_to(role: &mut RoleState, change: &Change) {
    match change {
        Change::CreateRole {
            trust, description, ..
        } => {
            role.trust = trust.clone();
            role.description = description.clone();
        }
        Change::UpdateTrust(doc) => role.trust = doc.clone(),
        Change::PutInline { name, document } => {
            match role.inline.iter_mut().find(|p| p.name == *name) {
                Some(p) => p.document = document.clone(),
                None => role.inline.push(NamedDocument {
                    name: name.clone(),
                    document: document.clone(),
                }),
            }
        }
        Change::DeleteInline(name) => role.inline.retain(|p| p.name != *name),
        Change::CreatePolicy { .. } => {}
        Change::NewDefaultVersion { arn, document } => {
            for p in role.attached.iter_mut().filter(|p| p.arn == *arn) {
                p.document = Some(document.clone());
            }
        }
        Change::Attach(arn) => {
            if !role.attached.iter().any(|p| p.arn == *arn) {
                role.attached.push(AttachedPolicy {
                    arn: arn.clone(),
                    name: arn.rsplit('/').next().unwrap_or(arn).to_string(),
                    default_version: None,
                    document: None,
                });
            }
        }
        Change::Detach(arn) => role.attached.retain(|p| p.arn != *arn),
        Change::PutBoundary(arn) => role.boundary = Some(arn.clone()),
        Change::DeleteBoundary => role.boundary = None,
        Change::Tag(k, v) => match role.tags.iter_mut().find(|(key, _)| key == k) {
            Some(t) => t.1 = v.clone(),
            None => role.tags.push((k.clone(), v.clone())),
        },
        Change::Untag(k) => role.tags.retain(|(key, _)| key != k),
    }
}

/// The size IAM counts for a document: its JSON without whitespace.
fn size(document: &Value) -> usize {
    document.to_string().chars().count()
}

/// Checks the role that `changes` make, and the documents they write, against IAM's quotas.
pub fn check_quotas(before: &RoleState, changes: &[Change]) -> Result<(), ApplyError> {
    let after = after_changes(before, changes);
    let name = &before.name;
    let inline: usize = after.inline.iter().map(|p| size(&p.document)).sum();
    if inline > ROLE_INLINE_POLICIES_TOTAL {
        return Err(ApplyError::Quota(format!(
            "role `{name}`'s inline policies would total {inline} characters, over IAM's quota of {ROLE_INLINE_POLICIES_TOTAL} for a role"
        )));
    }
    for change in changes {
        let (policy, doc) = match change {
            Change::CreatePolicy { name, document } => (name.as_str(), document),
            Change::NewDefaultVersion { arn, document } => (arn.as_str(), document),
            _ => continue,
        };
        let n = size(doc);
        if n > MANAGED_POLICY {
            return Err(ApplyError::Quota(format!(
                "managed policy `{policy}` would be {n} characters, over IAM's quota of {MANAGED_POLICY} for a managed policy"
            )));
        }
    }
    if let Change::UpdateTrust(doc) = changes
        .iter()
        .rfind(|c| matches!(c, Change::UpdateTrust(_)))
        .unwrap_or(&Change::DeleteBoundary)
    {
        let n = size(doc);
        if n > TRUST_POLICY {
            return Err(ApplyError::Quota(format!(
                "role `{name}`'s trust policy would be {n} characters, over IAM's default quota of {TRUST_POLICY}"
            )));
        }
    }
    let attached = after.attached.len();
    if attached > MANAGED_POLICIES_PER_ROLE.max(before.attached.len()) {
        return Err(ApplyError::Quota(format!(
            "role `{name}` would have {attached} managed policies attached, over IAM's default quota of {MANAGED_POLICIES_PER_ROLE}"
        )));
    }
    if after.tags.len() > TAGS_PER_ROLE {
        return Err(ApplyError::Quota(format!(
            "role `{name}` would have {} tags, over IAM's quota of {TAGS_PER_ROLE}",
            after.tags.len()
        )));
    }
    for change in changes {
        if let Change::Tag(k, v) = change {
            if k.chars().count() > TAG_KEY_MAX {
                return Err(ApplyError::Quota(format!(
                    "tag key `{k}` is longer than IAM's {TAG_KEY_MAX} characters"
                )));
            }
            if v.chars().count() > TAG_VALUE_MAX {
                return Err(ApplyError::Quota(format!(
                    "the value of tag `{k}` is longer than IAM's {TAG_VALUE_MAX} characters"
                )));
            }
        }
    }
    Ok(())
}

/// The writes made, with what undoes each, so that a failure part-way can be undone.
struct Writer<'a, C> {
    iam: &'a C,
    /// The role as the writes so far have left it.
    current: RoleState,
    /// For each write made, the calls that undo it, in order.
    undo: Vec<Vec<IamCall>>,
}

impl<'a, C: IamCalls + Sync> Writer<'a, C> {
    fn new(iam: &'a C, role: &RoleState) -> Writer<'a, C> {
        Writer {
            iam,
            current: role.clone(),
            undo: Vec::new(),
        }
    }

    async fn send(&self, call: &IamCall) -> Result<String, IamFailure> {
        let params: Vec<(&str, &str)> = call.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.iam.call(call.action, &params).await
    }

    /// Makes `call`; on success remembers `inverse` for an undo, on failure undoes every
    /// write made so far and says so.
    async fn call(&mut self, call: IamCall, inverse: Vec<IamCall>) -> Result<String, ApplyError> {
        match self.send(&call).await {
            Ok(answer) => {
                if !inverse.is_empty() {
                    self.undo.push(inverse);
                }
                Ok(answer)
            }
            Err(failure) => Err(self.undo_all(call.to_string(), failure).await),
        }
    }

    /// Undoes every write made, newest first.
    async fn undo_all(&mut self, step: String, failure: IamFailure) -> ApplyError {
        let undone = self.undo.len();
        let mut left = Vec::new();
        while let Some(group) = self.undo.pop() {
            for call in group {
                if let Err(e) = self.send(&call).await {
                    left.push(format!("{call}: {e}"));
                }
            }
        }
        ApplyError::Failed {
            step,
            failure,
            undone,
            left,
        }
    }

    fn role(&self) -> String {
        self.current.name.clone()
    }

    /// The change that puts the role's `change`d part back as it is now.
    fn inverse_of(&self, change: &Change) -> Vec<Change> {
        let now = &self.current;
        let inline = |name: &str| now.inline.iter().find(|p| p.name == name);
        match change {
            Change::CreateRole { .. } | Change::CreatePolicy { .. } => Vec::new(),
            Change::UpdateTrust(_) if now.trust.is_object() => {
                vec![Change::UpdateTrust(now.trust.clone())]
            }
            Change::UpdateTrust(_) => Vec::new(),
            Change::PutInline { name, .. } | Change::DeleteInline(name) => match inline(name) {
                Some(p) => vec![Change::PutInline {
                    name: name.clone(),
                    document: p.document.clone(),
                }],
                None if matches!(change, Change::PutInline { .. }) => {
                    vec![Change::DeleteInline(name.clone())]
                }
                None => Vec::new(),
            },
            Change::NewDefaultVersion { .. } => Vec::new(),
            Change::Attach(arn) if now.attached.iter().any(|p| p.arn == *arn) => Vec::new(),
            Change::Attach(arn) => vec![Change::Detach(arn.clone())],
            Change::Detach(arn) if now.attached.iter().any(|p| p.arn == *arn) => {
                vec![Change::Attach(arn.clone())]
            }
            Change::Detach(_) => Vec::new(),
            Change::PutBoundary(_) | Change::DeleteBoundary => match &now.boundary {
                Some(b) => vec![Change::PutBoundary(b.clone())],
                None if matches!(change, Change::PutBoundary(_)) => vec![Change::DeleteBoundary],
                None => Vec::new(),
            },
            Change::Tag(k, _) | Change::Untag(k) => {
                match now.tags.iter().find(|(key, _)| key == k) {
                    Some((_, v)) => vec![Change::Tag(k.clone(), v.clone())],
                    None if matches!(change, Change::Tag(..)) => vec![Change::Untag(k.clone())],
                    None => Vec::new(),
                }
            }
        }
    }

    /// Makes one change; `CreatePolicyVersion` answers the new version's id.
    async fn change(&mut self, change: &Change) -> Result<Option<String>, ApplyError> {
        let role = self.role();
        let mut new_version = None;
        match change {
            Change::CreateRole { name, .. } => {
                let inverse = vec![IamCall::new("DeleteRole", &[("RoleName", name)])];
                self.call(call_of(&role, change), inverse).await?;
            }
            Change::CreatePolicy { name, document } => {
                match self.send(&call_of(&role, change)).await {
                    Ok(answer) => {
                        let arn = C::text(&answer, "Arn").unwrap_or_default();
                        self.undo
                            .push(vec![IamCall::new("DeletePolicy", &[("PolicyArn", &arn)])]);
                    }
                    Err(e) if e.code == "EntityAlreadyExists" => {
                        let arn = format!("{}:policy/{name}", account_prefix(&self.current));
                        let again = Change::NewDefaultVersion {
                            arn: arn.clone(),
                            document: document.clone(),
                        };
                        new_version = Some(self.new_version(&again, &arn).await?);
                    }
                    Err(e) => {
                        return Err(self.undo_all(call_of(&role, change).to_string(), e).await);
                    }
                }
            }
            Change::NewDefaultVersion { arn, .. } => {
                new_version = Some(self.new_version(change, arn).await?);
            }
            other => {
                let inverse = self
                    .inverse_of(other)
                    .iter()
                    .map(|c| call_of(&role, c))
                    .collect();
                self.call(call_of(&role, other), inverse).await?;
            }
        }
        apply_to(&mut self.current, change);
        Ok(new_version)
    }

    /// A new default version of a managed policy, making room first when it has IAM's five
    /// (the oldest version that is not the default goes, as the IAM console does).
    async fn new_version(&mut self, change: &Change, arn: &str) -> Result<String, ApplyError> {
        let list = IamCall::new("ListPolicyVersions", &[("PolicyArn", arn)]);
        let answer = match self.send(&list).await {
            Ok(a) => a,
            Err(e) => return Err(self.undo_all(list.to_string(), e).await),
        };
        let versions = versions::<C>(&answer);
        let default = versions
            .iter()
            .find(|(_, d)| *d)
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| "v1".into());
        if versions.len() >= VERSIONS_PER_POLICY
            && let Some(oldest) = versions
                .iter()
                .filter(|(_, d)| !d)
                .map(|(v, _)| v)
                .min_by_key(|v| v.trim_start_matches('v').parse::<u64>().unwrap_or(u64::MAX))
        {
            let delete = IamCall::new(
                "DeletePolicyVersion",
                &[("PolicyArn", arn), ("VersionId", oldest)],
            );
            self.call(delete, Vec::new()).await?;
        }
        let answer = self.call(call_of(&self.role(), change), Vec::new()).await?;
        let new = C::text(&answer, "VersionId").unwrap_or_default();
        self.undo.push(vec![
            IamCall::new(
                "SetDefaultPolicyVersion",
                &[("PolicyArn", arn), ("VersionId", &default)],
            ),
            IamCall::new(
                "DeletePolicyVersion",
                &[("PolicyArn", arn), ("VersionId", &new)],
            ),
        ]);
        Ok(new)
    }
}

/// The versions of a `ListPolicyVersions` answer: id and whether it is the default.
fn versions<C: IamCalls>(answer: &str) -> Vec<(String, bool)> {
    answer
        .split("<member>")
        .skip(1)
        .filter_map(|m| {
            let id = C::text(m, "VersionId")?;
            Some((id, C::text(m, "IsDefaultVersion")? == "true"))
        })
        .collect()
}

/// `arn:PARTITION:iam::ACCOUNT` of a role's ARN.
fn account_prefix(role: &RoleState) -> String {
    let parts: Vec<&str> = role.arn.split(':').collect();
    format!(
        "arn:{}:iam::{}",
        parts.get(1).copied().unwrap_or("aws"),
        parts.get(4).copied().unwrap_or_default()
    )
}

/// The tags that record the role's last trim.
pub fn trim_record(role: &RoleState) -> Vec<(String, String)> {
    let prefix = format!("{TRIM_TAG}:");
    role.tags
        .iter()
        .filter(|(k, _)| k == TRIM_TAG || k.starts_with(&prefix))
        .cloned()
        .collect()
}

/// Whether the role carries a trim that [`rollback`] can undo.
pub fn has_trim(role: &RoleState) -> bool {
    role.tags.iter().any(|(k, _)| k == TRIM_TAG)
}

/// The record a trim leaves, as tags, with a placeholder for each saved inline policy's ARN
/// (known once it is saved): key, value, and whether it waits for an ARN.
fn planned_record(role: &RoleState, changes: &[Change], when: &str) -> Vec<(String, String, bool)> {
    let mut record = vec![(TRIM_TAG.to_string(), when.to_string(), false)];
    let mut n = 0;
    for change in changes {
        match change {
            Change::PutInline { name, .. } | Change::DeleteInline(name) => {
                let key = format!("{TRIM_TAG}:inline:{name}");
                if record.iter().any(|(k, _, _)| *k == key) {
                    continue;
                }
                let saved = role.inline.iter().any(|p| p.name == *name);
                let placeholder = if saved {
                    // An ARN as long as the one the save will answer.
                    format!(
                        "{}:policy{PRETRIM_PATH}{}.{name}",
                        account_prefix(role),
                        role.name
                    )
                } else {
                    "-".to_string()
                };
                record.push((key, placeholder, saved));
            }
            Change::NewDefaultVersion { arn, .. } => {
                n += 1;
                // The longest ids the record could hold, for the quota check.
                record.push((
                    format!("{TRIM_TAG}:version:{n}"),
                    format!("{arn} v9999 v9999"),
                    false,
                ));
            }
            Change::Detach(arn) => {
                n += 1;
                record.push((format!("{TRIM_TAG}:detached:{n}"), arn.clone(), false));
            }
            _ => {}
        }
    }
    record
}

/// Writes a trim's `changes` to the live `role`, recording on the role what [`rollback`]
/// needs; an earlier trim's record (and the policies it kept) is replaced once this one is
/// written. `when` is the time the record shows (`2026-12-06T10:00:00Z`). Answers the writes
/// made, as text.
pub async fn apply_trim<C: IamCalls + Sync>(
    iam: &C,
    role: &RoleState,
    changes: &[Change],
    when: &str,
) -> Result<Vec<String>, ApplyError> {
    let earlier = trim_record(role);
    let planned = planned_record(role, changes, when);
    let mut all: Vec<Change> = earlier
        .iter()
        .map(|(k, _)| Change::Untag(k.clone()))
        .collect();
    all.extend(changes.iter().cloned());
    all.extend(
        planned
            .iter()
            .map(|(k, v, _)| Change::Tag(k.clone(), v.clone())),
    );
    check_quotas(role, &all)?;

    let mut writer = Writer::new(iam, role);
    let mut done = Vec::new();
    for (k, _) in &earlier {
        writer.change(&Change::Untag(k.clone())).await?;
    }
    let mut record: Vec<(String, String)> = Vec::new();
    for (key, value, saved) in &planned {
        if !saved {
            record.push((key.clone(), value.clone()));
            continue;
        }
        let name = key.trim_start_matches(&format!("{TRIM_TAG}:inline:"));
        let Some(old) = role.inline.iter().find(|p| p.name == name) else {
            continue;
        };
        let save = IamCall::new(
            "CreatePolicy",
            &[
                ("PolicyName", &format!("{}.{name}", role.name)),
                ("Path", PRETRIM_PATH),
                ("PolicyDocument", &old.document.to_string()),
                (
                    "Description",
                    &format!(
                        "inline policy `{name}` of role `{}` before `rolewright role trim`",
                        role.name
                    ),
                ),
            ],
        );
        let answer = writer.call(save, Vec::new()).await?;
        let arn = C::text(&answer, "Arn").unwrap_or_default();
        writer
            .undo
            .push(vec![IamCall::new("DeletePolicy", &[("PolicyArn", &arn)])]);
        record.push((key.clone(), arn));
    }
    let mut version_tags = record
        .iter_mut()
        .filter(|(k, _)| k.starts_with(&format!("{TRIM_TAG}:version:")));
    for change in changes {
        let new = writer.change(change).await?;
        if let (Change::NewDefaultVersion { arn, .. }, Some(new)) = (change, new) {
            let old = role
                .attached
                .iter()
                .find(|p| p.arn == *arn)
                .and_then(|p| p.default_version.clone())
                .unwrap_or_else(|| "v1".into());
            if let Some((_, v)) = version_tags.next() {
                *v = format!("{arn} {old} {new}");
            }
        }
        done.push(change.to_string());
    }
    for (k, v) in record {
        writer.change(&Change::Tag(k.clone(), v.clone())).await?;
    }
    // Written: the earlier trim's kept policies can go (a failure here loses nothing).
    for (k, v) in &earlier {
        if k.starts_with(&format!("{TRIM_TAG}:inline:")) && v != "-" {
            let _ = writer
                .send(&IamCall::new("DeletePolicy", &[("PolicyArn", v)]))
                .await;
        }
    }
    Ok(done)
}

/// Undoes the role's last trim ([`apply_trim`]): detached policies attached again, default
/// versions set back (the trim's versions deleted), inline policies restored from the
/// policies that kept them (then deleted), the record removed. Answers the writes made.
pub async fn rollback<C: IamCalls + Sync>(
    iam: &C,
    role: &RoleState,
) -> Result<Vec<String>, ApplyError> {
    if !has_trim(role) {
        return Err(ApplyError::NoTrim(role.name.clone()));
    }
    let record = trim_record(role);
    let mut writer = Writer::new(iam, role);
    let mut done = Vec::new();
    let mut cleanup: Vec<IamCall> = Vec::new();
    let name = role.name.clone();
    for (k, v) in &record {
        if k.starts_with(&format!("{TRIM_TAG}:detached:")) {
            writer.change(&Change::Attach(v.clone())).await?;
            done.push(format!("attach `{v}`"));
        } else if k.starts_with(&format!("{TRIM_TAG}:version:")) {
            let parts: Vec<&str> = v.split(' ').collect();
            let [arn, old, new] = parts.as_slice() else {
                return Err(ApplyError::Record(format!(
                    "tag `{k}` = `{v}` is not `ARN OLD NEW`"
                )));
            };
            let set = |version: &str| {
                IamCall::new(
                    "SetDefaultPolicyVersion",
                    &[("PolicyArn", arn), ("VersionId", version)],
                )
            };
            writer.call(set(old), vec![set(new)]).await?;
            cleanup.push(IamCall::new(
                "DeletePolicyVersion",
                &[("PolicyArn", arn), ("VersionId", new)],
            ));
            done.push(format!("default version of `{arn}` back to {old}"));
        } else if let Some(policy) = k.strip_prefix(&format!("{TRIM_TAG}:inline:")) {
            if v == "-" {
                writer
                    .change(&Change::DeleteInline(policy.to_string()))
                    .await?;
                done.push(format!("delete inline policy `{policy}`"));
                continue;
            }
            let get = IamCall::new("GetPolicy", &[("PolicyArn", v)]);
            let answer = writer.call(get, Vec::new()).await?;
            let version = C::text(&answer, "DefaultVersionId").unwrap_or_else(|| "v1".into());
            let get = IamCall::new(
                "GetPolicyVersion",
                &[("PolicyArn", v), ("VersionId", &version)],
            );
            let answer = writer.call(get, Vec::new()).await?;
            let Some(doc) = C::text(&answer, "Document").and_then(|d| document(&Value::String(d)))
            else {
                return Err(ApplyError::Record(format!(
                    "the saved policy `{v}` of `{name}` has no document"
                )));
            };
            writer
                .change(&Change::PutInline {
                    name: policy.to_string(),
                    document: doc,
                })
                .await?;
            cleanup.push(IamCall::new("DeletePolicy", &[("PolicyArn", v)]));
            done.push(format!("restore inline policy `{policy}`"));
        }
    }
    for (k, _) in &record {
        writer.change(&Change::Untag(k.clone())).await?;
    }
    for call in cleanup {
        let _ = writer.send(&call).await;
    }
    Ok(done)
}

/// Writes `changes` to the live role (`role drift --sync`'s, after checking IAM's quotas),
/// undoing them all when one fails. `role` is the live role, or the spec's when the role does
/// not exist yet.
pub async fn write_changes<C: IamCalls + Sync>(
    iam: &C,
    role: &RoleState,
    changes: &[Change],
) -> Result<Vec<String>, ApplyError> {
    check_quotas(role, changes)?;
    let mut writer = Writer::new(iam, role);
    let mut done = Vec::new();
    for change in changes {
        writer.change(change).await?;
        done.push(change.to_string());
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role() -> RoleState {
        RoleState {
            name: "r".into(),
            arn: "arn:aws:iam::111122223333:role/r".into(),
            trust: json!({"Version": "2012-10-17", "Statement": []}),
            ..RoleState::default()
        }
    }

    fn big(n: usize) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{}", "b".repeat(n))}]})
    }

    #[test]
    fn inline_policies_over_the_role_quota_are_refused_before_writing() {
        let changes = vec![
            Change::PutInline {
                name: "a".into(),
                document: big(6000),
            },
            Change::PutInline {
                name: "b".into(),
                document: big(6000),
            },
        ];
        let e = check_quotas(&role(), &changes).unwrap_err().to_string();
        assert!(e.contains("inline policies would total"), "{e}");
        assert!(e.contains("quota of 10240"), "{e}");
        assert!(e.ends_with("(nothing was written)"), "{e}");
    }

    #[test]
    fn a_managed_policy_over_6144_characters_is_refused() {
        let changes = vec![Change::CreatePolicy {
            name: "p".into(),
            document: big(6200),
        }];
        let e = check_quotas(&role(), &changes).unwrap_err().to_string();
        assert!(e.starts_with("managed policy `p` would be"), "{e}");
        assert!(e.contains("quota of 6144"), "{e}");
    }

    #[test]
    fn more_than_fifty_tags_are_refused() {
        let mut r = role();
        r.tags = (0..49).map(|i| (format!("k{i}"), "v".into())).collect();
        let ok = vec![Change::Tag("x".into(), "1".into())];
        assert!(check_quotas(&r, &ok).is_ok());
        let over = vec![
            Change::Tag("x".into(), "1".into()),
            Change::Tag("y".into(), "1".into()),
        ];
        let e = check_quotas(&r, &over).unwrap_err().to_string();
        assert!(
            e.contains("would have 51 tags, over IAM's quota of 50"),
            "{e}"
        );
        // Re-tagging an existing key adds no tag.
        let same = vec![
            Change::Tag("k1".into(), "2".into()),
            Change::Tag("x".into(), "1".into()),
        ];
        assert!(check_quotas(&r, &same).is_ok());
    }

    #[test]
    fn a_tag_key_longer_than_iam_takes_is_refused() {
        let long = vec![Change::Tag(
            format!("{TRIM_TAG}:inline:{}", "p".repeat(120)),
            "-".into(),
        )];
        let e = check_quotas(&role(), &long).unwrap_err().to_string();
        assert!(e.contains("longer than IAM's 128 characters"), "{e}");
    }

    /// Reads answers only: enough for what the tests parse.
    struct Reader;

    impl IamCalls for Reader {
        fn call(
            &self,
            _: &str,
            _: &[(&str, &str)],
        ) -> impl Future<Output = Result<String, IamFailure>> + Send {
            std::future::ready(Ok(String::new()))
        }

        fn text(answer: &str, tag: &str) -> Option<String> {
            let start = answer.find(&format!("<{tag}>"))? + tag.len() + 2;
            let end = answer[start..].find(&format!("</{tag}>"))? + start;
            Some(answer[start..end].to_string())
        }
    }

    #[test]
    fn versions_of_a_list_answer_are_read_with_the_default() {
        let answer = "<ListPolicyVersionsResult><Versions><member><VersionId>v2</VersionId>\
            <IsDefaultVersion>true</IsDefaultVersion></member><member><VersionId>v1</VersionId>\
            <IsDefaultVersion>false</IsDefaultVersion></member></Versions></ListPolicyVersionsResult>";
        assert_eq!(
            versions::<Reader>(answer),
            vec![("v2".to_string(), true), ("v1".to_string(), false)]
        );
    }
}
