//! Managed policies: customer managed policies with up to five versions, and the read-only
//! AWS managed policies.

use rolewright_iam::PolicyType;

use super::{
    check_document, check_policy_arn, no_such_policy, page_of, page_params, policy_size,
    write_policy,
};
use crate::authz::request_tags;
use crate::error::ApiError;
use crate::ids;
use crate::model::{Change, ManagedPolicy, PolicyVersion, State, kind};
use crate::server::{Cx, Reply};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// Characters of a managed policy (whitespace excluded).
const POLICY_SIZE_QUOTA: usize = 6144;
/// Versions kept per managed policy.
const VERSIONS_PER_POLICY: usize = 5;

fn check_managed_document(text: &str) -> Result<(), ApiError> {
    check_document(text, PolicyType::Identity)?;
    if policy_size(text) > POLICY_SIZE_QUOTA {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for PolicySize: {POLICY_SIZE_QUOTA}"
        )));
    }
    Ok(())
}

/// A customer managed policy to change; AWS managed ones are `UnmodifiableEntity`.
pub(super) fn customer_policy<'s>(
    state: &'s mut State,
    arn: &str,
) -> Result<&'s mut ManagedPolicy, ApiError> {
    match state.policies.get_mut(arn) {
        Some(p) if p.aws_managed => Err(ApiError::unmodifiable(format!(
            "Cannot modify an AWS managed policy: {arn}"
        ))),
        Some(p) => Ok(p),
        None => Err(no_such_policy(arn)),
    }
}

/// Authorizes `action` on a managed policy, with its tags as resource tags and `request` as
/// the tags the request sets.
pub(super) fn authorize_policy(
    cx: &mut Cx<'_>,
    arn: &str,
    action: &str,
    request: &[crate::model::Tag],
) -> Result<(), ApiError> {
    let state = cx.app.store.read();
    let existing = state
        .policies
        .get(arn)
        .map(|p| p.tags.clone())
        .unwrap_or_default();
    cx.authorize(&state, action, arn, |ctx| {
        crate::authz::resource_tags(ctx, &existing);
        request_tags(ctx, request);
    })
}

/// `CreatePolicy`.
pub async fn create_policy(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("PolicyName", Check::Name(128));
    let path = p
        .optional("Path", Check::Path)
        .unwrap_or_else(|| "/".into());
    let document = p.required("PolicyDocument", Check::Document);
    let description = p.optional("Description", Check::Length(0, 1000));
    let tags = p.tags("Tags");
    p.finish()?;
    let arn = {
        let state = cx.app.store.read();
        format!("arn:aws:iam::{}:policy{path}{name}", state.account)
    };
    {
        let state = cx.app.store.read();
        let request = tags.clone();
        cx.authorize(&state, "iam:CreatePolicy", &arn, |ctx| {
            request_tags(ctx, &request)
        })?;
    }
    check_managed_document(&document)?;
    let now = cx.facts.now;
    let quota = cx.app.quotas.policies;
    let policy = cx
        .write(|state| {
            let exists = state
                .policies
                .values()
                .any(|p| !p.aws_managed && p.name.eq_ignore_ascii_case(&name));
            if exists {
                return Err(ApiError::already_exists(format!(
                    "A policy called {name} already exists. Duplicate names are not allowed."
                )));
            }
            if state.policies.values().filter(|p| !p.aws_managed).count() >= quota {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for PoliciesPerAccount: {quota}"
                )));
            }
            let policy = ManagedPolicy {
                name: name.clone(),
                path: path.clone(),
                id: ids::unique_id("ANPA"),
                arn: arn.clone(),
                description: description.clone(),
                created: now,
                updated: now,
                versions: vec![PolicyVersion {
                    id: "v1".into(),
                    document: document.clone(),
                    created: now,
                }],
                default_version: "v1".into(),
                next_version: 2,
                tags: tags.clone(),
                aws_managed: false,
            };
            let change = Change::put(kind::POLICY, arn.clone(), &policy);
            state.policies.insert(arn.clone(), policy.clone());
            Ok((policy, vec![change]))
        })
        .await?;
    let state = cx.app.store.read();
    let mut x = XmlWriter::new();
    x.open("Policy");
    write_policy(&mut x, &state, &policy);
    x.close("Policy");
    Ok(Reply::Xml(x))
}

/// `GetPolicy`.
pub fn get_policy(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    p.finish()?;
    check_policy_arn(&arn)?;
    authorize_policy(cx, &arn, "iam:GetPolicy", &[])?;
    let state = cx.app.store.read();
    let policy = state
        .policies
        .get(&arn)
        .ok_or_else(|| no_such_policy(&arn))?;
    let mut x = XmlWriter::new();
    x.open("Policy");
    write_policy(&mut x, &state, policy);
    x.close("Policy");
    Ok(Reply::Xml(x))
}

/// `DeletePolicy`: refused while attached, used as a boundary, or with non-default versions.
pub async fn delete_policy(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    p.finish()?;
    check_policy_arn(&arn)?;
    authorize_policy(cx, &arn, "iam:DeletePolicy", &[])?;
    cx.write(|state| {
        let attached = state.attachment_count(&arn) + state.boundary_count(&arn);
        let policy = customer_policy(state, &arn)?;
        if attached > 0 {
            return Err(ApiError::delete_conflict(
                "Cannot delete a policy attached to entities.",
            ));
        }
        if policy.versions.len() > 1 {
            return Err(ApiError::delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must \
                 delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        state.policies.remove(&arn);
        Ok(((), vec![Change::delete(kind::POLICY, arn.clone())]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `ListPolicies` (`Scope` All | AWS | Local, `OnlyAttached`, `PathPrefix`).
pub fn list_policies(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let scope = p
        .optional("Scope", Check::Length(1, 8))
        .unwrap_or_else(|| "All".into());
    let only_attached = p.bool("OnlyAttached").unwrap_or(false);
    let prefix = p.optional("PathPrefix", Check::PathPrefix);
    let (max, marker) = page_params(p);
    if !matches!(scope.as_str(), "All" | "AWS" | "Local") {
        p.fail(format!(
            "Value '{scope}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"
        ));
    }
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:ListPolicies", "*", |_| {})?;
    let items = state
        .policies
        .iter()
        .filter(|(_, pol)| match scope.as_str() {
            "AWS" => pol.aws_managed,
            "Local" => !pol.aws_managed,
            _ => true,
        })
        .filter(|(_, pol)| {
            prefix
                .as_deref()
                .is_none_or(|pre| pol.path.starts_with(pre))
        })
        .filter(|(arn, _)| !only_attached || state.attachment_count(arn) > 0)
        .map(|(arn, pol)| (arn.clone(), pol));
    Ok(page_of(
        "Policies",
        items,
        marker.as_deref(),
        max,
        |x, policy| write_policy(x, &state, policy),
    ))
}

/// Writes a `PolicyVersion` structure's members (the document only when asked).
pub(super) fn write_version(
    x: &mut XmlWriter,
    policy: &ManagedPolicy,
    version: &PolicyVersion,
    document: bool,
) {
    if document {
        x.document("Document", &version.document);
    }
    x.leaf("VersionId", &version.id)
        .leaf(
            "IsDefaultVersion",
            if version.id == policy.default_version {
                "true"
            } else {
                "false"
            },
        )
        .time("CreateDate", version.created);
}

/// `CreatePolicyVersion`: at most five versions; `SetAsDefault` makes it the default.
pub async fn create_version(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    let document = p.required("PolicyDocument", Check::Document);
    let set_default = p.bool("SetAsDefault").unwrap_or(false);
    p.finish()?;
    check_policy_arn(&arn)?;
    authorize_policy(cx, &arn, "iam:CreatePolicyVersion", &[])?;
    check_managed_document(&document)?;
    let now = cx.facts.now;
    let (policy, version) = cx
        .write(|state| {
            let policy = customer_policy(state, &arn)?;
            if policy.versions.len() >= VERSIONS_PER_POLICY {
                return Err(ApiError::limit_exceeded(format!(
                    "A managed policy can have up to {VERSIONS_PER_POLICY} versions. Before you \
                     create a new version, you must delete an existing version."
                )));
            }
            let version = PolicyVersion {
                id: format!("v{}", policy.next_version),
                document: document.clone(),
                created: now,
            };
            policy.next_version += 1;
            policy.versions.push(version.clone());
            if set_default {
                policy.default_version = version.id.clone();
                policy.updated = now;
            }
            let change = Change::put(kind::POLICY, arn.clone(), policy);
            Ok(((policy.clone(), version), vec![change]))
        })
        .await?;
    let mut x = XmlWriter::new();
    x.open("PolicyVersion");
    write_version(&mut x, &policy, &version, false);
    x.close("PolicyVersion");
    Ok(Reply::Xml(x))
}

/// `GetPolicyVersion`.
pub fn get_version(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    let id = p.required("VersionId", Check::VersionId);
    p.finish()?;
    check_policy_arn(&arn)?;
    authorize_policy(cx, &arn, "iam:GetPolicyVersion", &[])?;
    let state = cx.app.store.read();
    let policy = state
        .policies
        .get(&arn)
        .ok_or_else(|| no_such_policy(&arn))?;
    let version = policy.versions.iter().find(|v| v.id == id).ok_or_else(|| {
        ApiError::no_such_entity(format!(
            "Policy {arn} version {id} does not exist or is not attachable."
        ))
    })?;
    let mut x = XmlWriter::new();
    x.open("PolicyVersion");
    write_version(&mut x, policy, version, true);
    x.close("PolicyVersion");
    Ok(Reply::Xml(x))
}

/// `ListPolicyVersions`.
pub fn list_versions(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    let (max, marker) = page_params(p);
    p.finish()?;
    check_policy_arn(&arn)?;
    authorize_policy(cx, &arn, "iam:ListPolicyVersions", &[])?;
    let state = cx.app.store.read();
    let policy = state
        .policies
        .get(&arn)
        .ok_or_else(|| no_such_policy(&arn))?;
    // Newest first, as IAM lists them.
    let items = policy
        .versions
        .iter()
        .rev()
        .enumerate()
        .map(|(i, v)| (format!("{i:03}"), v));
    Ok(page_of(
        "Versions",
        items,
        marker.as_deref(),
        max,
        |x, version| write_version(x, policy, version, false),
    ))
}

/// `DeletePolicyVersion`: the default version cannot be deleted.
pub async fn delete_version(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    let id = p.required("VersionId", Check::VersionId);
    p.finish()?;
    check_policy_arn(&arn)?;
    authorize_policy(cx, &arn, "iam:DeletePolicyVersion", &[])?;
    cx.write(|state| {
        let policy = customer_policy(state, &arn)?;
        if !policy.versions.iter().any(|v| v.id == id) {
            return Err(ApiError::no_such_entity(format!(
                "Policy {arn} version {id} does not exist or is not attachable."
            )));
        }
        if policy.default_version == id {
            return Err(ApiError::delete_conflict(
                "Cannot delete the default version of a policy.",
            ));
        }
        policy.versions.retain(|v| v.id != id);
        let change = Change::put(kind::POLICY, arn.clone(), policy);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `SetDefaultPolicyVersion`.
pub async fn set_default_version(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    let id = p.required("VersionId", Check::VersionId);
    p.finish()?;
    check_policy_arn(&arn)?;
    authorize_policy(cx, &arn, "iam:SetDefaultPolicyVersion", &[])?;
    let now = cx.facts.now;
    cx.write(|state| {
        let policy = customer_policy(state, &arn)?;
        if !policy.versions.iter().any(|v| v.id == id) {
            return Err(ApiError::no_such_entity(format!(
                "Policy {arn} version {id} does not exist or is not attachable."
            )));
        }
        policy.default_version = id.clone();
        policy.updated = now;
        let change = Change::put(kind::POLICY, arn.clone(), policy);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `ListEntitiesForPolicy`: the groups, users and roles a policy is attached to or bounds
/// (`PolicyUsageFilter` narrows to one use, `EntityFilter` to one kind, `PathPrefix` to a path),
/// one page of them across the three lists.
pub fn list_entities(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let arn = p.required("PolicyArn", Check::Arn);
    let entity = p.optional("EntityFilter", Check::Length(1, 32));
    let usage = p.optional("PolicyUsageFilter", Check::Length(1, 32));
    let prefix = p.optional("PathPrefix", Check::PathPrefix);
    let (max, marker) = page_params(p);
    if let Some(e) = &entity
        && !matches!(
            e.as_str(),
            "User" | "Role" | "LocalManagedPolicy" | "Group" | "AWSManagedPolicy"
        )
    {
        p.fail(format!(
            "Value '{e}' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]"
        ));
    }
    if let Some(u) = &usage
        && !matches!(u.as_str(), "PermissionsPolicy" | "PermissionsBoundary")
    {
        p.fail(format!(
            "Value '{u}' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]"
        ));
    }
    p.finish()?;
    check_policy_arn(&arn)?;
    authorize_policy(cx, &arn, "iam:ListEntitiesForPolicy", &[])?;
    let state = cx.app.store.read();
    if !state.policies.contains_key(&arn) {
        return Err(no_such_policy(&arn));
    }
    let wants = |kind: &str| entity.as_deref().is_none_or(|e| e == kind);
    let uses = |attached: &[String], boundary: Option<&str>| {
        let as_policy = attached.contains(&arn);
        let as_boundary = boundary == Some(arn.as_str());
        match usage.as_deref() {
            Some("PermissionsPolicy") => as_policy,
            Some("PermissionsBoundary") => as_boundary,
            _ => as_policy || as_boundary,
        }
    };
    let in_path = |path: &str| prefix.as_deref().is_none_or(|pre| path.starts_with(pre));
    enum Entity<'s> {
        Group(&'s crate::model::Group),
        User(&'s crate::model::User),
        Role(&'s crate::model::Role),
    }
    // One page across groups, users and roles, in that order.
    let mut items: Vec<(String, Entity<'_>)> = Vec::new();
    if wants("Group") {
        items.extend(
            state
                .groups
                .iter()
                .filter(|(_, g)| uses(&g.attached, None) && in_path(&g.path))
                .map(|(k, g)| (format!("1{k}"), Entity::Group(g))),
        );
    }
    if wants("User") {
        items.extend(
            state
                .users
                .iter()
                .filter(|(_, u)| uses(&u.attached, u.boundary.as_deref()) && in_path(&u.path))
                .map(|(k, u)| (format!("2{k}"), Entity::User(u))),
        );
    }
    if wants("Role") {
        items.extend(
            state
                .roles
                .iter()
                .filter(|(_, r)| uses(&r.attached, r.boundary.as_deref()) && in_path(&r.path))
                .map(|(k, r)| (format!("3{k}"), Entity::Role(r))),
        );
    }
    let (page, next) = super::paginate(items, marker.as_deref(), max);
    let mut x = XmlWriter::new();
    x.open("PolicyGroups");
    for item in &page {
        if let Entity::Group(group) = item {
            x.open("member")
                .leaf("GroupName", &group.name)
                .leaf("GroupId", &group.id)
                .close("member");
        }
    }
    x.close("PolicyGroups").open("PolicyUsers");
    for item in &page {
        if let Entity::User(user) = item {
            x.open("member")
                .leaf("UserName", &user.name)
                .leaf("UserId", &user.id)
                .close("member");
        }
    }
    x.close("PolicyUsers").open("PolicyRoles");
    for item in &page {
        if let Entity::Role(role) = item {
            x.open("member")
                .leaf("RoleName", &role.name)
                .leaf("RoleId", &role.id)
                .close("member");
        }
    }
    x.close("PolicyRoles").page(next.as_deref());
    Ok(Reply::Xml(x))
}
