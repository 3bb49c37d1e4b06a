//! Account-level IAM operations that onboarding and audit scripts call around the main ones:
//! the account summary and alias, console login profiles, policy tags, and when an access key
//! was last used.

use super::holders::{HolderKind, authorize_holder};
use super::{check_policy_arn, no_such_policy, no_such_user, user_resource, write_tags};
use crate::error::ApiError;
use crate::model::{Change, LoginProfile, kind};
use crate::server::{Cx, Reply};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// `GetAccountSummary`: entity counts and the quotas this server enforces.
pub fn summary(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:GetAccountSummary", "*", |_| {})?;
    let quotas = &cx.app.quotas;
    let customer_policies = state.policies.values().filter(|p| !p.aws_managed).count();
    let versions: usize = state
        .policies
        .values()
        .filter(|p| !p.aws_managed)
        .map(|p| p.versions.len())
        .sum();
    let entries: [(&str, usize); 18] = [
        ("Users", state.users.len()),
        ("UsersQuota", quotas.users),
        ("Roles", state.roles.len()),
        ("RolesQuota", quotas.roles),
        ("Groups", state.groups.len()),
        ("GroupsQuota", 300),
        ("Policies", customer_policies),
        ("PoliciesQuota", quotas.policies),
        ("PolicyVersionsInUse", versions),
        ("PolicyVersionsInUseQuota", 10_000),
        ("InstanceProfiles", state.instance_profiles.len()),
        ("InstanceProfilesQuota", 1000),
        ("AccessKeysPerUserQuota", 2),
        ("AttachedPoliciesPerRoleQuota", 10),
        ("AttachedPoliciesPerUserQuota", 10),
        ("AttachedPoliciesPerGroupQuota", 10),
        ("PolicySizeQuota", 6144),
        ("AccountMFAEnabled", 0),
    ];
    let mut x = XmlWriter::new();
    x.open("SummaryMap");
    for (key, value) in entries {
        x.open("entry")
            .leaf("key", key)
            .leaf("value", &value.to_string())
            .close("entry");
    }
    x.close("SummaryMap");
    Ok(Reply::Xml(x))
}

/// `ListAccountAliases`.
pub fn list_aliases(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:ListAccountAliases", "*", |_| {})?;
    let mut x = XmlWriter::new();
    x.members("AccountAliases", state.account_alias.as_deref())
        .page(None);
    Ok(Reply::Xml(x))
}

/// `ListVirtualMFADevices`: nothing in the control plane creates MFA devices, so the list is
/// one empty page, whatever `AssignmentStatus` asks for (checked as IAM checks it). Audit
/// tools call it while they read the account.
pub fn list_virtual_mfa_devices(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let status = p.optional("AssignmentStatus", Check::Length(1, 32));
    if let Some(s) = &status
        && !matches!(s.as_str(), "Assigned" | "Unassigned" | "Any")
    {
        p.fail(format!(
            "Value '{s}' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Assigned, Unassigned, Any]"
        ));
    }
    let _ = super::page_params(p);
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:ListVirtualMFADevices", "*", |_| {})?;
    let mut x = XmlWriter::new();
    x.open("VirtualMFADevices")
        .close("VirtualMFADevices")
        .page(None);
    Ok(Reply::Xml(x))
}

/// `CreateAccountAlias`: one alias per account, 3–63 of lowercase letters, digits and hyphens.
pub async fn create_alias(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let alias = p.required("AccountAlias", Check::Length(3, 63));
    let valid = alias
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !alias.starts_with('-')
        && !alias.ends_with('-');
    if !valid {
        p.fail(format!(
            "Value '{alias}' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){{1,61}}[a-z0-9]$"
        ));
    }
    p.finish()?;
    {
        let state = cx.app.store.read();
        cx.authorize(&state, "iam:CreateAccountAlias", "*", |_| {})?;
    }
    cx.write(|state| {
        if state.account_alias.as_deref() == Some(alias.as_str()) {
            return Err(ApiError::already_exists(format!(
                "The account alias {alias} already exists."
            )));
        }
        state.account_alias = Some(alias.clone());
        let change = Change::Put {
            kind: kind::META,
            id: "account_alias".into(),
            body: alias.clone(),
        };
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `DeleteAccountAlias`.
pub async fn delete_alias(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let alias = p.required("AccountAlias", Check::Length(3, 63));
    p.finish()?;
    {
        let state = cx.app.store.read();
        cx.authorize(&state, "iam:DeleteAccountAlias", "*", |_| {})?;
    }
    cx.write(|state| {
        if state.account_alias.as_deref() != Some(alias.as_str()) {
            return Err(ApiError::no_such_entity(format!(
                "The account alias {alias} cannot be found."
            )));
        }
        state.account_alias = None;
        Ok(((), vec![Change::delete(kind::META, "account_alias")]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// AWS's default password policy: at least 8 characters (the password is checked, then
/// discarded).
fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() > 128 {
        return Err(ApiError::new(
            "PasswordPolicyViolation",
            400,
            "Password should have a maximum length of 128",
        ));
    }
    if password.chars().count() < 8 {
        return Err(ApiError::new(
            "PasswordPolicyViolation",
            400,
            "Password should have a minimum length of 8",
        ));
    }
    Ok(())
}

fn no_login_profile(name: &str) -> ApiError {
    ApiError::no_such_entity(format!("Login Profile for User {name} cannot be found."))
}

fn write_login_profile(x: &mut XmlWriter, user: &str, profile: &LoginProfile) {
    x.open("LoginProfile")
        .leaf("UserName", user)
        .time("CreateDate", profile.created)
        .leaf(
            "PasswordResetRequired",
            if profile.reset_required {
                "true"
            } else {
                "false"
            },
        )
        .close("LoginProfile");
}

/// `CreateLoginProfile`.
pub async fn create_login_profile(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("UserName", Check::Name(64));
    // Read without the usual checks: their messages would echo the password.
    let password = p.get("Password").map(str::to_string);
    let reset_required = p.bool("PasswordResetRequired").unwrap_or(false);
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:CreateLoginProfile")?;
    if let Some(password) = &password {
        check_password(password)?;
    }
    let now = cx.facts.now;
    let (user, profile) = cx
        .write(|state| {
            let key = name.to_ascii_lowercase();
            let user = state
                .users
                .get_mut(&key)
                .ok_or_else(|| no_such_user(&name))?;
            if user.login_profile.is_some() {
                return Err(ApiError::already_exists(format!(
                    "Login Profile for user {name} already exists."
                )));
            }
            let profile = LoginProfile {
                created: now,
                reset_required,
            };
            user.login_profile = Some(profile.clone());
            let change = Change::put(kind::USER, key, user);
            Ok(((user.name.clone(), profile), vec![change]))
        })
        .await?;
    let mut x = XmlWriter::new();
    write_login_profile(&mut x, &user, &profile);
    Ok(Reply::Xml(x))
}

/// `GetLoginProfile`.
pub fn get_login_profile(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("UserName", Check::Name(64));
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:GetLoginProfile")?;
    let state = cx.app.store.read();
    let user = state.user(&name).ok_or_else(|| no_such_user(&name))?;
    let profile = user
        .login_profile
        .as_ref()
        .ok_or_else(|| no_login_profile(&name))?;
    let mut x = XmlWriter::new();
    write_login_profile(&mut x, &user.name, profile);
    Ok(Reply::Xml(x))
}

/// `UpdateLoginProfile` (a new password, or the reset flag).
pub async fn update_login_profile(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("UserName", Check::Name(64));
    // Read without the usual checks: their messages would echo the password.
    let password = p.get("Password").map(str::to_string);
    let reset_required = p.bool("PasswordResetRequired");
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:UpdateLoginProfile")?;
    if let Some(password) = &password {
        check_password(password)?;
    }
    cx.write(|state| {
        let key = name.to_ascii_lowercase();
        let user = state
            .users
            .get_mut(&key)
            .ok_or_else(|| no_such_user(&name))?;
        let profile = user
            .login_profile
            .as_mut()
            .ok_or_else(|| no_login_profile(&name))?;
        if let Some(reset) = reset_required {
            profile.reset_required = reset;
        }
        let change = Change::put(kind::USER, key, user);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `DeleteLoginProfile`.
pub async fn delete_login_profile(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("UserName", Check::Name(64));
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:DeleteLoginProfile")?;
    cx.write(|state| {
        let key = name.to_ascii_lowercase();
        let user = state
            .users
            .get_mut(&key)
            .ok_or_else(|| no_such_user(&name))?;
        if user.login_profile.take().is_none() {
            return Err(no_login_profile(&name));
        }
        let change = Change::put(kind::USER, key, user);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `TagPolicy` (customer managed policies).
pub async fn tag_policy(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    let tags = p.tags("Tags");
    p.finish()?;
    check_policy_arn(&arn)?;
    super::policies::authorize_policy(cx, &arn, "iam:TagPolicy", &tags)?;
    cx.write(|state| {
        let policy = super::policies::customer_policy(state, &arn)?;
        policy.tags = super::merge_tags(&policy.tags, &tags)?;
        let change = Change::put(kind::POLICY, arn.clone(), policy);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `UntagPolicy`.
pub async fn untag_policy(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    let keys = p.list("TagKeys", Check::Length(1, 128));
    p.finish()?;
    check_policy_arn(&arn)?;
    super::policies::authorize_policy(cx, &arn, "iam:UntagPolicy", &[])?;
    cx.write(|state| {
        let policy = super::policies::customer_policy(state, &arn)?;
        policy.tags.retain(|t| !keys.contains(&t.key));
        let change = Change::put(kind::POLICY, arn.clone(), policy);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `ListPolicyTags`.
pub fn list_policy_tags(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    p.finish()?;
    check_policy_arn(&arn)?;
    super::policies::authorize_policy(cx, &arn, "iam:ListPolicyTags", &[])?;
    let state = cx.app.store.read();
    let policy = state
        .policies
        .get(&arn)
        .ok_or_else(|| no_such_policy(&arn))?;
    let mut x = XmlWriter::new();
    write_tags(&mut x, "Tags", &policy.tags);
    x.page(None);
    Ok(Reply::Xml(x))
}

/// `GetAccessKeyLastUsed`: the key's user; when it was last used is not tracked per key, so
/// the service and region are `N/A`, as IAM reports a key never used.
pub fn access_key_last_used(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let id = p.required("AccessKeyId", Check::Length(16, 128));
    p.finish()?;
    let state = cx.app.store.read();
    let key = state.access_keys.get(&id).ok_or_else(|| {
        ApiError::access_denied(format!(
            "User: {} is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key {id}",
            cx.caller.arn
        ))
    })?;
    let resource = user_resource(&state, &key.user);
    let user = key.user.clone();
    cx.authorize(&state, "iam:GetAccessKeyLastUsed", &resource, |_| {})?;
    let mut x = XmlWriter::new();
    x.leaf("UserName", &user)
        .open("AccessKeyLastUsed")
        .leaf("ServiceName", "N/A")
        .leaf("Region", "N/A")
        .close("AccessKeyLastUsed");
    Ok(Reply::Xml(x))
}

/// `GetAccountAuthorizationDetails`: every user, group, role and managed policy with its
/// policies, as audit tools read the account (`Filter` narrows the entity types). Only the
/// managed policies in use are listed unless `LocalManagedPolicy` or `AWSManagedPolicy` is asked
/// for, as IAM does.
pub fn authorization_details(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let filters = p.list("Filter", Check::Length(1, 32));
    let (max, marker) = super::page_params(p);
    for f in &filters {
        if !matches!(
            f.as_str(),
            "User" | "Role" | "Group" | "LocalManagedPolicy" | "AWSManagedPolicy"
        ) {
            p.fail(format!(
                "Value '{f}' at 'filter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]"
            ));
        }
    }
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:GetAccountAuthorizationDetails", "*", |_| {})?;
    let wants = |kind: &str| filters.is_empty() || filters.iter().any(|f| f == kind);
    // One page over all entities, in a fixed order: users, groups, roles, policies.
    enum Entry<'s> {
        User(&'s crate::model::User),
        Group(&'s crate::model::Group),
        Role(&'s crate::model::Role),
        Policy(&'s crate::model::ManagedPolicy),
    }
    let mut entries: Vec<(String, Entry<'_>)> = Vec::new();
    if wants("User") {
        entries.extend(
            state
                .users
                .iter()
                .map(|(k, u)| (format!("1{k}"), Entry::User(u))),
        );
    }
    if wants("Group") {
        entries.extend(
            state
                .groups
                .iter()
                .map(|(k, g)| (format!("2{k}"), Entry::Group(g))),
        );
    }
    if wants("Role") {
        entries.extend(
            state
                .roles
                .iter()
                .map(|(k, r)| (format!("3{k}"), Entry::Role(r))),
        );
    }
    let policy_wanted = |aws: bool, arn: &str| {
        if filters.is_empty() {
            state.attachment_count(arn) > 0 || state.boundary_count(arn) > 0 || !aws
        } else {
            wants(if aws {
                "AWSManagedPolicy"
            } else {
                "LocalManagedPolicy"
            })
        }
    };
    entries.extend(
        state
            .policies
            .iter()
            .filter(|(arn, p)| policy_wanted(p.aws_managed, arn))
            .map(|(arn, p)| (format!("4{arn}"), Entry::Policy(p))),
    );
    let (page, next) = super::paginate(entries, marker.as_deref(), max);
    let inline_list = |x: &mut XmlWriter, tag: &str, inline: &crate::model::InlinePolicies| {
        x.open(tag);
        for policy in inline.values() {
            x.open("member")
                .leaf("PolicyName", &policy.name)
                .document("PolicyDocument", &policy.document)
                .close("member");
        }
        x.close(tag);
    };
    let attached_list = |x: &mut XmlWriter, attached: &[String]| {
        x.open("AttachedManagedPolicies");
        for arn in attached {
            let name = state.policies.get(arn).map_or("", |p| p.name.as_str());
            x.open("member")
                .leaf("PolicyName", name)
                .leaf("PolicyArn", arn)
                .close("member");
        }
        x.close("AttachedManagedPolicies");
    };
    let (mut users, mut groups, mut roles, mut policies) = (
        XmlWriter::new(),
        XmlWriter::new(),
        XmlWriter::new(),
        XmlWriter::new(),
    );
    for entry in page {
        match entry {
            Entry::User(u) => {
                let x = &mut users;
                x.open("member");
                super::write_user(x, &state, u, false);
                inline_list(x, "UserPolicyList", &u.inline);
                x.members(
                    "GroupList",
                    state.groups_of(&u.name).map(|g| g.name.as_str()),
                );
                attached_list(x, &u.attached);
                super::write_boundary(x, u.boundary.as_deref());
                if !u.tags.is_empty() {
                    write_tags(x, "Tags", &u.tags);
                }
                x.close("member");
            }
            Entry::Group(g) => {
                let x = &mut groups;
                x.open("member")
                    .leaf("Path", &g.path)
                    .leaf("GroupName", &g.name)
                    .leaf("GroupId", &g.id)
                    .leaf("Arn", &state.group_arn(g))
                    .time("CreateDate", g.created);
                inline_list(x, "GroupPolicyList", &g.inline);
                attached_list(x, &g.attached);
                x.close("member");
            }
            Entry::Role(r) => {
                let x = &mut roles;
                // A RoleDetail, not a Role: it has no Description and no MaxSessionDuration.
                x.open("member")
                    .leaf("Path", &r.path)
                    .leaf("RoleName", &r.name)
                    .leaf("RoleId", &r.id)
                    .leaf("Arn", &state.role_arn(r))
                    .time("CreateDate", r.created)
                    .document("AssumeRolePolicyDocument", &r.trust_policy);
                super::write_boundary(x, r.boundary.as_deref());
                if !r.tags.is_empty() {
                    write_tags(x, "Tags", &r.tags);
                }
                x.open("InstanceProfileList");
                for profile in state
                    .instance_profiles
                    .values()
                    .filter(|ip| ip.roles.iter().any(|n| n.eq_ignore_ascii_case(&r.name)))
                {
                    x.open("member")
                        .leaf("Path", &profile.path)
                        .leaf("InstanceProfileName", &profile.name)
                        .leaf("InstanceProfileId", &profile.id)
                        .leaf("Arn", &state.instance_profile_arn(profile))
                        .time("CreateDate", profile.created)
                        .open("Roles");
                    for role in profile.roles.iter().filter_map(|n| state.role(n)) {
                        x.open("member");
                        super::write_role(x, &state, role, false);
                        x.close("member");
                    }
                    x.close("Roles").close("member");
                }
                x.close("InstanceProfileList");
                inline_list(x, "RolePolicyList", &r.inline);
                attached_list(x, &r.attached);
                super::write_last_used(x, cx.app.role_last_used(r));
                x.close("member");
            }
            Entry::Policy(policy) => {
                let x = &mut policies;
                // A ManagedPolicyDetail, not a Policy: it has no Tags.
                x.open("member");
                super::write_policy_detail(x, &state, policy);
                x.open("PolicyVersionList");
                for version in &policy.versions {
                    x.open("member");
                    super::policies::write_version(x, policy, version, true);
                    x.close("member");
                }
                x.close("PolicyVersionList").close("member");
            }
        }
    }
    let mut x = XmlWriter::new();
    for (tag, part) in [
        ("UserDetailList", users),
        ("GroupDetailList", groups),
        ("RoleDetailList", roles),
        ("Policies", policies),
    ] {
        x.open(tag).raw(part).close(tag);
    }
    x.page(next.as_deref());
    Ok(Reply::Xml(x))
}
