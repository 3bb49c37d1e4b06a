//! IAM roles: create, get, list, update, delete, and the trust policy.

use rolewright_iam::PolicyType;

use super::holders::conflicts;
use super::holders::{HolderKind, authorize_holder};
use super::{
    check_document, check_policy_arn, no_such_policy, no_such_role, page_of, page_params,
    policy_size, write_role,
};
use crate::authz::request_tags;
use crate::error::ApiError;
use crate::ids;
use crate::model::{Change, Role, kind};
use crate::server::{Cx, Reply};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// Trust policies count against `ACLSizePerRole` (2,048 characters by default).
const TRUST_POLICY_QUOTA: usize = 2048;

fn check_trust_policy(text: &str) -> Result<(), ApiError> {
    check_document(text, PolicyType::Trust)?;
    if policy_size(text) > TRUST_POLICY_QUOTA {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}"
        )));
    }
    Ok(())
}

/// `CreateRole`.
pub async fn create_role(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("RoleName", Check::Name(64));
    let path = p
        .optional("Path", Check::Path)
        .unwrap_or_else(|| "/".into());
    let trust = p.required("AssumeRolePolicyDocument", Check::Document);
    let description = p.optional("Description", Check::Text(1000));
    let max_session = p.int("MaxSessionDuration", 3600, 43200).unwrap_or(3600) as u32;
    let boundary = p.optional("PermissionsBoundary", Check::Arn);
    let tags = p.tags("Tags");
    p.finish()?;
    if let Some(b) = &boundary {
        check_policy_arn(b)?;
    }
    {
        let state = cx.app.store.read();
        let arn = format!("arn:aws:iam::{}:role{path}{name}", state.account);
        let (request, bound) = (tags.clone(), boundary.clone());
        cx.authorize(&state, "iam:CreateRole", &arn, |ctx| {
            request_tags(ctx, &request);
            if let Some(b) = bound {
                ctx.set("iam:PermissionsBoundary", b);
            }
        })?;
        // Setting a boundary at creation is also a PutRolePermissionsBoundary, as IAM checks it.
        if let Some(b) = boundary.clone() {
            cx.authorize(&state, "iam:PutRolePermissionsBoundary", &arn, |ctx| {
                ctx.set("iam:PermissionsBoundary", b);
            })?;
        }
    }
    check_trust_policy(&trust)?;
    let now = cx.facts.now;
    let quota = cx.app.quotas.roles;
    let role = cx
        .write(|state| {
            let key = name.to_ascii_lowercase();
            if state.roles.contains_key(&key) {
                return Err(ApiError::already_exists(format!(
                    "Role with name {name} already exists."
                )));
            }
            if state.roles.len() >= quota {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for RolesPerAccount: {quota}"
                )));
            }
            if let Some(b) = &boundary
                && !state.policies.contains_key(b)
            {
                return Err(no_such_policy(b));
            }
            let role = Role {
                name: name.clone(),
                path: path.clone(),
                id: ids::unique_id("AROA"),
                created: now,
                trust_policy: trust.clone(),
                description: description.clone(),
                max_session_duration: max_session,
                tags: tags.clone(),
                boundary: boundary.clone(),
                inline: Default::default(),
                attached: Vec::new(),
                last_used: None,
            };
            let change = Change::put(kind::ROLE, key.clone(), &role);
            state.roles.insert(key, role.clone());
            Ok((role, vec![change]))
        })
        .await?;
    let state = cx.app.store.read();
    let mut x = XmlWriter::new();
    x.open("Role");
    write_role(&mut x, &state, &role, false);
    super::write_boundary(&mut x, role.boundary.as_deref());
    if !role.tags.is_empty() {
        super::write_tags(&mut x, "Tags", &role.tags);
    }
    x.close("Role");
    Ok(Reply::Xml(x))
}

/// `GetRole`.
pub fn get_role(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("RoleName", Check::Name(64));
    p.finish()?;
    authorize_holder(cx, HolderKind::Role, &name, "iam:GetRole")?;
    let state = cx.app.store.read();
    let role = state.role(&name).ok_or_else(|| no_such_role(&name))?;
    let mut x = XmlWriter::new();
    x.open("Role");
    write_role(&mut x, &state, role, true);
    super::write_last_used(&mut x, cx.app.role_last_used(role));
    x.close("Role");
    Ok(Reply::Xml(x))
}

/// `ListRoles`.
pub fn list_roles(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let prefix = p.optional("PathPrefix", Check::PathPrefix);
    let (max, marker) = page_params(p);
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:ListRoles", "*", |_| {})?;
    let items = state
        .roles
        .iter()
        .filter(|(_, r)| prefix.as_deref().is_none_or(|pre| r.path.starts_with(pre)))
        .map(|(k, r)| (k.clone(), r));
    Ok(page_of(
        "Roles",
        items,
        marker.as_deref(),
        max,
        |x, role| write_role(x, &state, role, false),
    ))
}

/// `DeleteRole`: refused while the role has inline or attached policies.
pub async fn delete_role(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("RoleName", Check::Name(64));
    p.finish()?;
    authorize_holder(cx, HolderKind::Role, &name, "iam:DeleteRole")?;
    cx.write(|state| {
        let key = name.to_ascii_lowercase();
        let role = state.roles.get(&key).ok_or_else(|| no_such_role(&name))?;
        if let Some(conflict) = conflicts(&role.inline, &role.attached) {
            return Err(conflict);
        }
        let in_profile = state
            .instance_profiles
            .values()
            .any(|p| p.roles.iter().any(|r| r.eq_ignore_ascii_case(&name)));
        if in_profile {
            return Err(ApiError::delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        state.roles.remove(&key);
        // Sessions of a deleted role end with it.
        let ended: Vec<String> = state
            .sessions
            .iter()
            .filter(|(_, s)| s.role.eq_ignore_ascii_case(&name))
            .map(|(id, _)| id.clone())
            .collect();
        let mut changes = vec![Change::delete(kind::ROLE, key)];
        for id in ended {
            state.sessions.remove(&id);
            changes.push(Change::delete(kind::SESSION, id));
        }
        Ok(((), changes))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `UpdateRole` (description and maximum session duration) and `UpdateRoleDescription`.
pub async fn update_role(
    cx: &mut Cx<'_>,
    p: &mut Params,
    description_only: bool,
) -> Result<Reply, ApiError> {
    let name = p.required("RoleName", Check::Name(64));
    let description = if description_only {
        Some(p.required("Description", Check::Text(1000)))
    } else {
        p.optional("Description", Check::Text(1000))
    };
    let max_session = if description_only {
        None
    } else {
        p.int("MaxSessionDuration", 3600, 43200)
    };
    p.finish()?;
    let action = if description_only {
        "iam:UpdateRoleDescription"
    } else {
        "iam:UpdateRole"
    };
    authorize_holder(cx, HolderKind::Role, &name, action)?;
    let role = cx
        .write(|state| {
            let key = name.to_ascii_lowercase();
            let role = state
                .roles
                .get_mut(&key)
                .ok_or_else(|| no_such_role(&name))?;
            if let Some(d) = &description {
                role.description = Some(d.clone());
            }
            if let Some(m) = max_session {
                role.max_session_duration = m as u32;
            }
            let change = Change::put(kind::ROLE, key, role);
            Ok((role.clone(), vec![change]))
        })
        .await?;
    if description_only {
        let state = cx.app.store.read();
        let mut x = XmlWriter::new();
        x.open("Role");
        write_role(&mut x, &state, &role, true);
        super::write_last_used(&mut x, cx.app.role_last_used(&role));
        x.close("Role");
        return Ok(Reply::Xml(x));
    }
    Ok(Reply::Xml(XmlWriter::new()))
}

/// `UpdateAssumeRolePolicy`.
pub async fn update_assume_role_policy(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("RoleName", Check::Name(64));
    let trust = p.required("PolicyDocument", Check::Document);
    p.finish()?;
    authorize_holder(cx, HolderKind::Role, &name, "iam:UpdateAssumeRolePolicy")?;
    check_trust_policy(&trust)?;
    cx.write(|state| {
        let key = name.to_ascii_lowercase();
        let role = state
            .roles
            .get_mut(&key)
            .ok_or_else(|| no_such_role(&name))?;
        role.trust_policy = trust.clone();
        let change = Change::put(kind::ROLE, key, role);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}
