//! IAM groups and their members; a user gets the policies of every group it belongs to.

use super::holders::conflicts;
use super::holders::{HolderKind, authorize_holder};
use super::{
    no_such_group, no_such_user, page_of, page_params, paginate, user_resource, write_user,
};
use crate::error::ApiError;
use crate::ids;
use crate::model::{Change, Group, State, kind};
use crate::server::{Cx, Reply};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// Groups per account (AWS's default quota).
const GROUPS_PER_ACCOUNT: usize = 300;
/// Groups a user can be in.
const GROUPS_PER_USER: usize = 10;

fn write_group(x: &mut XmlWriter, state: &State, group: &Group) {
    x.leaf("Path", &group.path)
        .leaf("GroupName", &group.name)
        .leaf("GroupId", &group.id)
        .leaf("Arn", &state.group_arn(group))
        .time("CreateDate", group.created);
}

/// `CreateGroup`.
pub async fn create_group(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("GroupName", Check::Name(128));
    let path = p
        .optional("Path", Check::Path)
        .unwrap_or_else(|| "/".into());
    p.finish()?;
    {
        let state = cx.app.store.read();
        let arn = format!("arn:aws:iam::{}:group{path}{name}", state.account);
        cx.authorize(&state, "iam:CreateGroup", &arn, |_| {})?;
    }
    let now = cx.facts.now;
    let group = cx
        .write(|state| {
            let key = name.to_ascii_lowercase();
            if state.groups.contains_key(&key) {
                return Err(ApiError::already_exists(format!(
                    "Group with name {name} already exists."
                )));
            }
            if state.groups.len() >= GROUPS_PER_ACCOUNT {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for GroupsPerAccount: {GROUPS_PER_ACCOUNT}"
                )));
            }
            let group = Group {
                name: name.clone(),
                path: path.clone(),
                id: ids::unique_id("AGPA"),
                created: now,
                members: Vec::new(),
                inline: Default::default(),
                attached: Vec::new(),
                tags: Vec::new(),
                boundary: None,
            };
            let change = Change::put(kind::GROUP, key.clone(), &group);
            state.groups.insert(key, group.clone());
            Ok((group, vec![change]))
        })
        .await?;
    let state = cx.app.store.read();
    let mut x = XmlWriter::new();
    x.open("Group");
    write_group(&mut x, &state, &group);
    x.close("Group");
    Ok(Reply::Xml(x))
}

/// `GetGroup`: the group and its users.
pub fn get_group(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("GroupName", Check::Name(128));
    let (max, marker) = page_params(p);
    p.finish()?;
    authorize_holder(cx, HolderKind::Group, &name, "iam:GetGroup")?;
    let state = cx.app.store.read();
    let group = state.group(&name).ok_or_else(|| no_such_group(&name))?;
    let members = group
        .members
        .iter()
        .filter_map(|m| state.user(m))
        .map(|u| (u.name.to_ascii_lowercase(), u));
    let (users, next) = paginate(members, marker.as_deref(), max);
    let mut x = XmlWriter::new();
    x.open("Group");
    write_group(&mut x, &state, group);
    x.close("Group").open("Users");
    for user in users {
        x.open("member");
        write_user(&mut x, &state, user, false);
        x.close("member");
    }
    x.close("Users").page(next.as_deref());
    Ok(Reply::Xml(x))
}

/// `ListGroups`.
pub fn list_groups(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let prefix = p.optional("PathPrefix", Check::PathPrefix);
    let (max, marker) = page_params(p);
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:ListGroups", "*", |_| {})?;
    let items = state
        .groups
        .iter()
        .filter(|(_, g)| prefix.as_deref().is_none_or(|pre| g.path.starts_with(pre)))
        .map(|(k, g)| (k.clone(), g));
    Ok(page_of(
        "Groups",
        items,
        marker.as_deref(),
        max,
        |x, group| write_group(x, &state, group),
    ))
}

/// `DeleteGroup`: refused while it has members or policies.
pub async fn delete_group(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("GroupName", Check::Name(128));
    p.finish()?;
    authorize_holder(cx, HolderKind::Group, &name, "iam:DeleteGroup")?;
    cx.write(|state| {
        let key = name.to_ascii_lowercase();
        let group = state.groups.get(&key).ok_or_else(|| no_such_group(&name))?;
        if !group.members.is_empty() {
            return Err(ApiError::delete_conflict(
                "Cannot delete entity, must remove users from group first.",
            ));
        }
        if let Some(conflict) = conflicts(&group.inline, &group.attached) {
            return Err(conflict);
        }
        state.groups.remove(&key);
        Ok(((), vec![Change::delete(kind::GROUP, key)]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `AddUserToGroup` (adding a member twice is not an error).
pub async fn add_user(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("GroupName", Check::Name(128));
    let user = p.required("UserName", Check::Name(64));
    p.finish()?;
    authorize_holder(cx, HolderKind::Group, &name, "iam:AddUserToGroup")?;
    cx.write(|state| {
        let user_name = state
            .user(&user)
            .map(|u| u.name.clone())
            .ok_or_else(|| no_such_user(&user))?;
        if state.groups_of(&user_name).count() >= GROUPS_PER_USER
            && state
                .group(&name)
                .is_some_and(|g| !g.members.contains(&user_name))
        {
            return Err(ApiError::limit_exceeded(format!(
                "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"
            )));
        }
        let key = name.to_ascii_lowercase();
        let group = state
            .groups
            .get_mut(&key)
            .ok_or_else(|| no_such_group(&name))?;
        if !group
            .members
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&user_name))
        {
            group.members.push(user_name);
        }
        let change = Change::put(kind::GROUP, key, group);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `RemoveUserFromGroup`.
pub async fn remove_user(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("GroupName", Check::Name(128));
    let user = p.required("UserName", Check::Name(64));
    p.finish()?;
    authorize_holder(cx, HolderKind::Group, &name, "iam:RemoveUserFromGroup")?;
    cx.write(|state| {
        if state.user(&user).is_none() {
            return Err(no_such_user(&user));
        }
        let key = name.to_ascii_lowercase();
        let group = state
            .groups
            .get_mut(&key)
            .ok_or_else(|| no_such_group(&name))?;
        let before = group.members.len();
        group.members.retain(|m| !m.eq_ignore_ascii_case(&user));
        if group.members.len() == before {
            return Err(ApiError::no_such_entity(format!(
                "The user with name {user} cannot be found in group {name}."
            )));
        }
        let change = Change::put(kind::GROUP, key, group);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `ListGroupsForUser`.
pub fn list_groups_for_user(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let user = p.required("UserName", Check::Name(128));
    let (max, marker) = page_params(p);
    p.finish()?;
    {
        let state = cx.app.store.read();
        let resource = user_resource(&state, &user);
        cx.authorize(&state, "iam:ListGroupsForUser", &resource, |_| {})?;
    }
    let state = cx.app.store.read();
    if state.user(&user).is_none() {
        return Err(no_such_user(&user));
    }
    let items = state
        .groups_of(&user)
        .map(|g| (g.name.to_ascii_lowercase(), g));
    Ok(page_of(
        "Groups",
        items,
        marker.as_deref(),
        max,
        |x, group| write_group(x, &state, group),
    ))
}
