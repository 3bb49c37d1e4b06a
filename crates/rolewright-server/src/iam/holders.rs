//! Operations that users and roles share: inline policies, managed policy attachments, tags
//! and permissions boundaries (`PutRolePolicy` and `PutUserPolicy` are one function).

use rolewright_iam::PolicyType;

use super::{
    check_document, check_policy_arn, group_resource, no_such_group, no_such_policy, no_such_role,
    no_such_user, page_params, paginate, policy_size, role_resource, user_resource, write_tags,
};
use crate::authz::{request_tags, resource_tags};
use crate::error::ApiError;
use std::collections::BTreeMap;

use crate::model::{Change, Group, InlinePolicies, InlinePolicy, Role, State, Tag, User, kind};
use crate::server::{Cx, Reply};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// Users or roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderKind {
    /// IAM users.
    User,
    /// IAM roles.
    Role,
    /// IAM groups (inline and managed policies only).
    Group,
}

impl HolderKind {
    fn name_param(self) -> &'static str {
        match self {
            HolderKind::User => "UserName",
            HolderKind::Role => "RoleName",
            HolderKind::Group => "GroupName",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            HolderKind::User => "User",
            HolderKind::Role => "Role",
            HolderKind::Group => "Group",
        }
    }

    fn resource(self, state: &State, name: &str) -> String {
        match self {
            HolderKind::User => user_resource(state, name),
            HolderKind::Role => role_resource(state, name),
            HolderKind::Group => group_resource(state, name),
        }
    }

    fn missing(self, name: &str) -> ApiError {
        match self {
            HolderKind::User => no_such_user(name),
            HolderKind::Role => no_such_role(name),
            HolderKind::Group => no_such_group(name),
        }
    }

    /// Inline policy quota: 2,048 characters for a user, 5,120 for a group, 10,240 for a role
    /// (all its inline policies together).
    fn inline_quota(self) -> usize {
        match self {
            HolderKind::User => 2048,
            HolderKind::Group => 5120,
            HolderKind::Role => 10_240,
        }
    }
}

/// The parts of a user, role or group that these operations touch.
trait PolicyHolder {
    fn inline(&self) -> &InlinePolicies;
    fn attached(&self) -> &[String];
    fn tags(&self) -> &[Tag];
    fn parts(&mut self) -> HolderMut<'_>;
}

macro_rules! policy_holder {
    ($($entity:ty),*) => {$(
        impl PolicyHolder for $entity {
            fn inline(&self) -> &InlinePolicies {
                &self.inline
            }
            fn attached(&self) -> &[String] {
                &self.attached
            }
            fn tags(&self) -> &[Tag] {
                &self.tags
            }
            fn parts(&mut self) -> HolderMut<'_> {
                HolderMut {
                    inline: &mut self.inline,
                    attached: &mut self.attached,
                    tags: &mut self.tags,
                    boundary: &mut self.boundary,
                }
            }
        }
    )*};
}

policy_holder!(User, Role, Group);

fn holder<'s>(state: &'s State, kind: HolderKind, name: &str) -> Option<&'s dyn PolicyHolder> {
    match kind {
        HolderKind::User => state.user(name).map(|u| u as &dyn PolicyHolder),
        HolderKind::Role => state.role(name).map(|r| r as &dyn PolicyHolder),
        HolderKind::Group => state.group(name).map(|g| g as &dyn PolicyHolder),
    }
}

/// Mutable parts of a user, role or group.
struct HolderMut<'s> {
    inline: &'s mut InlinePolicies,
    attached: &'s mut Vec<String>,
    tags: &'s mut Vec<Tag>,
    boundary: &'s mut Option<String>,
}

/// Applies `edit` to the user, role or group and returns the change that persists it.
fn edit_holder<T>(
    state: &mut State,
    kind: HolderKind,
    name: &str,
    edit: impl FnOnce(HolderMut<'_>) -> Result<T, ApiError>,
) -> Result<(T, Vec<Change>), ApiError> {
    let key = name.to_ascii_lowercase();
    match kind {
        HolderKind::User => edit_in(&mut state.users, kind::USER, key, kind.missing(name), edit),
        HolderKind::Role => edit_in(&mut state.roles, kind::ROLE, key, kind.missing(name), edit),
        HolderKind::Group => edit_in(
            &mut state.groups,
            kind::GROUP,
            key,
            kind.missing(name),
            edit,
        ),
    }
}

fn edit_in<E: PolicyHolder + serde::Serialize, T>(
    entities: &mut BTreeMap<String, E>,
    entity_kind: &'static str,
    key: String,
    missing: ApiError,
    edit: impl FnOnce(HolderMut<'_>) -> Result<T, ApiError>,
) -> Result<(T, Vec<Change>), ApiError> {
    let entity = entities.get_mut(&key).ok_or(missing)?;
    let value = edit(entity.parts())?;
    Ok((value, vec![Change::put(entity_kind, key, &*entity)]))
}

/// Authorizes `action` on the named user, role or group, with its tags as resource tags and
/// `extend` for the request's own keys.
pub(super) fn authorize_on(
    cx: &mut Cx<'_>,
    kind: HolderKind,
    name: &str,
    action: &str,
    extend: impl FnOnce(&mut rolewright_iam::RequestContext),
) -> Result<(), ApiError> {
    let state = cx.app.store.read();
    let resource = kind.resource(&state, name);
    let tags: Vec<Tag> = holder(&state, kind, name)
        .map(|h| h.tags().to_vec())
        .unwrap_or_default();
    cx.authorize(&state, action, &resource, |ctx| {
        resource_tags(ctx, &tags);
        extend(ctx);
    })
}

/// Authorizes `action` on the named user, role or group (with its tags as resource tags).
pub(super) fn authorize_holder(
    cx: &mut Cx<'_>,
    kind: HolderKind,
    name: &str,
    action: &str,
) -> Result<(), ApiError> {
    authorize_on(cx, kind, name, action, |_| {})
}

/// `PutRolePolicy` / `PutUserPolicy`.
pub async fn put_inline(
    cx: &mut Cx<'_>,
    p: &mut Params,
    kind: HolderKind,
) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let policy_name = p.required("PolicyName", Check::Name(128));
    let document = p.required("PolicyDocument", Check::Document);
    p.finish()?;
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:Put{}Policy", kind.noun()),
        |_| {},
    )?;
    check_document(&document, PolicyType::Identity)?;
    cx.write(|state| {
        edit_holder(state, kind, &name, |h| {
            let key = policy_name.to_ascii_lowercase();
            let others: usize = h
                .inline
                .iter()
                .filter(|(k, _)| **k != key)
                .map(|(_, v)| policy_size(&v.document))
                .sum();
            let quota = kind.inline_quota();
            if others + policy_size(&document) > quota {
                return Err(ApiError::limit_exceeded(format!(
                    "Maximum policy size of {quota} bytes exceeded for {} {name}",
                    kind.noun().to_ascii_lowercase()
                )));
            }
            h.inline.insert(
                key,
                InlinePolicy {
                    name: policy_name.clone(),
                    document: document.clone(),
                },
            );
            Ok(())
        })
    })
    .await?;
    Ok(Reply::Empty)
}

/// `GetRolePolicy` / `GetUserPolicy`.
pub fn get_inline(cx: &mut Cx<'_>, p: &mut Params, kind: HolderKind) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let policy_name = p.required("PolicyName", Check::Name(128));
    p.finish()?;
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:Get{}Policy", kind.noun()),
        |_| {},
    )?;
    let state = cx.app.store.read();
    let h = holder(&state, kind, &name).ok_or_else(|| kind.missing(&name))?;
    let policy = h
        .inline()
        .get(&policy_name.to_ascii_lowercase())
        .ok_or_else(|| {
            ApiError::no_such_entity(format!(
                "The {} policy with name {policy_name} cannot be found.",
                kind.noun().to_ascii_lowercase()
            ))
        })?;
    let display = match kind {
        HolderKind::User => state.user(&name).map(|u| u.name.clone()),
        HolderKind::Role => state.role(&name).map(|r| r.name.clone()),
        HolderKind::Group => state.group(&name).map(|g| g.name.clone()),
    }
    .unwrap_or(name);
    let mut x = XmlWriter::new();
    x.leaf(kind.name_param(), &display)
        .leaf("PolicyName", &policy.name)
        .document("PolicyDocument", &policy.document);
    Ok(Reply::Xml(x))
}

/// `ListRolePolicies` / `ListUserPolicies`.
pub fn list_inline(cx: &mut Cx<'_>, p: &mut Params, kind: HolderKind) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let (max, marker) = page_params(p);
    p.finish()?;
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:List{}Policies", kind.noun()),
        |_| {},
    )?;
    let state = cx.app.store.read();
    let h = holder(&state, kind, &name).ok_or_else(|| kind.missing(&name))?;
    let (names, next) = paginate(
        h.inline().iter().map(|(k, v)| (k.clone(), v.name.as_str())),
        marker.as_deref(),
        max,
    );
    let mut x = XmlWriter::new();
    x.members("PolicyNames", names).page(next.as_deref());
    Ok(Reply::Xml(x))
}

/// `DeleteRolePolicy` / `DeleteUserPolicy`.
pub async fn delete_inline(
    cx: &mut Cx<'_>,
    p: &mut Params,
    kind: HolderKind,
) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let policy_name = p.required("PolicyName", Check::Name(128));
    p.finish()?;
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:Delete{}Policy", kind.noun()),
        |_| {},
    )?;
    cx.write(|state| {
        edit_holder(state, kind, &name, |h| {
            h.inline
                .remove(&policy_name.to_ascii_lowercase())
                .map(|_| ())
                .ok_or_else(|| {
                    ApiError::no_such_entity(format!(
                        "The {} policy with name {policy_name} cannot be found.",
                        kind.noun().to_ascii_lowercase()
                    ))
                })
        })
    })
    .await?;
    Ok(Reply::Empty)
}

/// `AttachRolePolicy` / `AttachUserPolicy`.
pub async fn attach(cx: &mut Cx<'_>, p: &mut Params, kind: HolderKind) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let arn = p.required("PolicyArn", Check::Arn);
    p.finish()?;
    check_policy_arn(&arn)?;
    let policy_arn = arn.clone();
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:Attach{}Policy", kind.noun()),
        |ctx| {
            ctx.set("iam:PolicyARN", policy_arn);
        },
    )?;
    cx.write(|state| {
        if !state.policies.contains_key(&arn) {
            return Err(no_such_policy(&arn));
        }
        edit_holder(state, kind, &name, |h| {
            if h.attached.contains(&arn) {
                return Ok(());
            }
            if h.attached.len() >= 10 {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for PoliciesPer{}: 10",
                    kind.noun()
                )));
            }
            h.attached.push(arn.clone());
            Ok(())
        })
    })
    .await?;
    Ok(Reply::Empty)
}

/// `DetachRolePolicy` / `DetachUserPolicy`.
pub async fn detach(cx: &mut Cx<'_>, p: &mut Params, kind: HolderKind) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let arn = p.required("PolicyArn", Check::Arn);
    p.finish()?;
    check_policy_arn(&arn)?;
    let policy_arn = arn.clone();
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:Detach{}Policy", kind.noun()),
        |ctx| {
            ctx.set("iam:PolicyARN", policy_arn);
        },
    )?;
    cx.write(|state| {
        edit_holder(state, kind, &name, |h| {
            let before = h.attached.len();
            h.attached.retain(|a| *a != arn);
            if h.attached.len() == before {
                return Err(ApiError::no_such_entity(format!(
                    "Policy {arn} was not found."
                )));
            }
            Ok(())
        })
    })
    .await?;
    Ok(Reply::Empty)
}

/// `ListAttachedRolePolicies` / `ListAttachedUserPolicies`.
pub fn list_attached(cx: &mut Cx<'_>, p: &mut Params, kind: HolderKind) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let prefix = p.optional("PathPrefix", Check::PathPrefix);
    let (max, marker) = page_params(p);
    p.finish()?;
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:ListAttached{}Policies", kind.noun()),
        |_| {},
    )?;
    let state = cx.app.store.read();
    let h = holder(&state, kind, &name).ok_or_else(|| kind.missing(&name))?;
    let items = h.attached().iter().enumerate().filter_map(|(i, arn)| {
        let policy = state.policies.get(arn)?;
        let keep = prefix
            .as_deref()
            .is_none_or(|pre| policy.path.starts_with(pre));
        keep.then(|| (format!("{i:06}"), policy))
    });
    let (policies, next) = paginate(items, marker.as_deref(), max);
    let mut x = XmlWriter::new();
    x.open("AttachedPolicies");
    for policy in policies {
        x.open("member")
            .leaf("PolicyName", &policy.name)
            .leaf("PolicyArn", &policy.arn)
            .close("member");
    }
    x.close("AttachedPolicies").page(next.as_deref());
    Ok(Reply::Xml(x))
}

/// `TagRole` / `TagUser`: at most 50 tags in all; an existing key's value is replaced.
pub async fn tag(cx: &mut Cx<'_>, p: &mut Params, kind: HolderKind) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    if !p.has_list("Tags") {
        p.required("Tags", Check::Length(0, 0));
    }
    let tags = p.tags("Tags");
    p.finish()?;
    let request = tags.clone();
    authorize_on(cx, kind, &name, &format!("iam:Tag{}", kind.noun()), |ctx| {
        request_tags(ctx, &request);
    })?;
    cx.write(|state| {
        edit_holder(state, kind, &name, |h| {
            *h.tags = super::merge_tags(h.tags, &tags)?;
            Ok(())
        })
    })
    .await?;
    Ok(Reply::Empty)
}

/// `UntagRole` / `UntagUser`.
pub async fn untag(cx: &mut Cx<'_>, p: &mut Params, kind: HolderKind) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    if !p.has_list("TagKeys") {
        p.required("TagKeys", Check::Length(0, 0));
    }
    let keys = p.list("TagKeys", Check::Length(1, 128));
    p.finish()?;
    let request = keys.clone();
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:Untag{}", kind.noun()),
        |ctx| {
            ctx.set_multi("aws:TagKeys", request);
        },
    )?;
    cx.write(|state| {
        edit_holder(state, kind, &name, |h| {
            h.tags.retain(|t| !keys.contains(&t.key));
            Ok(())
        })
    })
    .await?;
    Ok(Reply::Empty)
}

/// `ListRoleTags` / `ListUserTags`.
pub fn list_tags(cx: &mut Cx<'_>, p: &mut Params, kind: HolderKind) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let (max, marker) = page_params(p);
    p.finish()?;
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:List{}Tags", kind.noun()),
        |_| {},
    )?;
    let state = cx.app.store.read();
    let h = holder(&state, kind, &name).ok_or_else(|| kind.missing(&name))?;
    let (tags, next) = paginate(
        h.tags()
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("{i:03}"), t.clone())),
        marker.as_deref(),
        max,
    );
    let mut x = XmlWriter::new();
    write_tags(&mut x, "Tags", &tags);
    x.page(next.as_deref());
    Ok(Reply::Xml(x))
}

/// `PutRolePermissionsBoundary` / `PutUserPermissionsBoundary`.
pub async fn put_boundary(
    cx: &mut Cx<'_>,
    p: &mut Params,
    kind: HolderKind,
) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    let arn = p.required("PermissionsBoundary", Check::Arn);
    p.finish()?;
    check_policy_arn(&arn)?;
    let boundary = arn.clone();
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:Put{}PermissionsBoundary", kind.noun()),
        |ctx| {
            ctx.set("iam:PermissionsBoundary", boundary);
        },
    )?;
    cx.write(|state| {
        if !state.policies.contains_key(&arn) {
            return Err(no_such_policy(&arn));
        }
        edit_holder(state, kind, &name, |h| {
            *h.boundary = Some(arn.clone());
            Ok(())
        })
    })
    .await?;
    Ok(Reply::Empty)
}

/// `DeleteRolePermissionsBoundary` / `DeleteUserPermissionsBoundary`.
pub async fn delete_boundary(
    cx: &mut Cx<'_>,
    p: &mut Params,
    kind: HolderKind,
) -> Result<Reply, ApiError> {
    let name = p.required(kind.name_param(), Check::Name(64));
    p.finish()?;
    authorize_on(
        cx,
        kind,
        &name,
        &format!("iam:Delete{}PermissionsBoundary", kind.noun()),
        |_| {},
    )?;
    cx.write(|state| {
        edit_holder(state, kind, &name, |h| {
            *h.boundary = None;
            Ok(())
        })
    })
    .await?;
    Ok(Reply::Empty)
}

/// Whether a user or role still has policies (for `DeleteConflict`).
pub fn conflicts(inline: &InlinePolicies, attached: &[String]) -> Option<ApiError> {
    if !inline.is_empty() {
        return Some(ApiError::delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !attached.is_empty() {
        return Some(ApiError::delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    None
}
