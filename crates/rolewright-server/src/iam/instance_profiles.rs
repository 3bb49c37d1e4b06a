//! Instance profiles: a role's container for EC2. Kept because teardown scripts list and empty
//! them before deleting a role (`DeleteRole` refuses a role still in a profile).

use super::{no_such_role, page_of, page_params, write_role, write_tags};
use crate::authz::request_tags;
use crate::error::ApiError;
use crate::ids;
use crate::model::{Change, InstanceProfile, State, kind};
use crate::server::{Cx, Reply};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

fn missing(name: &str) -> ApiError {
    ApiError::no_such_entity(format!("Instance Profile {name} cannot be found."))
}

fn resource(state: &State, name: &str) -> String {
    match state.instance_profiles.get(&name.to_ascii_lowercase()) {
        Some(p) => state.instance_profile_arn(p),
        None => format!("arn:aws:iam::{}:instance-profile/{name}", state.account),
    }
}

fn write_profile(x: &mut XmlWriter, state: &State, profile: &InstanceProfile) {
    x.leaf("Path", &profile.path)
        .leaf("InstanceProfileName", &profile.name)
        .leaf("InstanceProfileId", &profile.id)
        .leaf("Arn", &state.instance_profile_arn(profile))
        .time("CreateDate", profile.created)
        .open("Roles");
    for role in profile.roles.iter().filter_map(|r| state.role(r)) {
        x.open("member");
        write_role(x, state, role, false);
        x.close("member");
    }
    x.close("Roles");
    if !profile.tags.is_empty() {
        write_tags(x, "Tags", &profile.tags);
    }
}

fn authorize_profile(cx: &mut Cx<'_>, name: &str, action: &str) -> Result<(), ApiError> {
    let state = cx.app.store.read();
    let arn = resource(&state, name);
    cx.authorize(&state, action, &arn, |_| {})
}

/// `CreateInstanceProfile`.
pub async fn create(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("InstanceProfileName", Check::Name(128));
    let path = p
        .optional("Path", Check::Path)
        .unwrap_or_else(|| "/".into());
    let tags = p.tags("Tags");
    p.finish()?;
    {
        let state = cx.app.store.read();
        let arn = format!(
            "arn:aws:iam::{}:instance-profile{path}{name}",
            state.account
        );
        let request = tags.clone();
        cx.authorize(&state, "iam:CreateInstanceProfile", &arn, |ctx| {
            request_tags(ctx, &request)
        })?;
    }
    let now = cx.facts.now;
    let profile = cx
        .write(|state| {
            let key = name.to_ascii_lowercase();
            if state.instance_profiles.contains_key(&key) {
                return Err(ApiError::already_exists(format!(
                    "Instance Profile {name} already exists."
                )));
            }
            let profile = InstanceProfile {
                name: name.clone(),
                path: path.clone(),
                id: ids::unique_id("AIPA"),
                created: now,
                roles: Vec::new(),
                tags: tags.clone(),
            };
            let change = Change::put(kind::INSTANCE_PROFILE, key.clone(), &profile);
            state.instance_profiles.insert(key, profile.clone());
            Ok((profile, vec![change]))
        })
        .await?;
    let state = cx.app.store.read();
    let mut x = XmlWriter::new();
    x.open("InstanceProfile");
    write_profile(&mut x, &state, &profile);
    x.close("InstanceProfile");
    Ok(Reply::Xml(x))
}

/// `GetInstanceProfile`.
pub fn get(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("InstanceProfileName", Check::Name(128));
    p.finish()?;
    authorize_profile(cx, &name, "iam:GetInstanceProfile")?;
    let state = cx.app.store.read();
    let profile = state
        .instance_profiles
        .get(&name.to_ascii_lowercase())
        .ok_or_else(|| missing(&name))?;
    let mut x = XmlWriter::new();
    x.open("InstanceProfile");
    write_profile(&mut x, &state, profile);
    x.close("InstanceProfile");
    Ok(Reply::Xml(x))
}

/// `ListInstanceProfiles`.
pub fn list(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let prefix = p.optional("PathPrefix", Check::PathPrefix);
    let (max, marker) = page_params(p);
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:ListInstanceProfiles", "*", |_| {})?;
    let items = state
        .instance_profiles
        .iter()
        .filter(|(_, ip)| prefix.as_deref().is_none_or(|pre| ip.path.starts_with(pre)))
        .map(|(k, ip)| (k.clone(), ip));
    Ok(page_of(
        "InstanceProfiles",
        items,
        marker.as_deref(),
        max,
        |x, profile| write_profile(x, &state, profile),
    ))
}

/// `ListInstanceProfilesForRole`.
pub fn list_for_role(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let role = p.required("RoleName", Check::Name(64));
    let (max, marker) = page_params(p);
    p.finish()?;
    {
        let state = cx.app.store.read();
        let arn = super::role_resource(&state, &role);
        cx.authorize(&state, "iam:ListInstanceProfilesForRole", &arn, |_| {})?;
    }
    let state = cx.app.store.read();
    if state.role(&role).is_none() {
        return Err(no_such_role(&role));
    }
    let items = state
        .instance_profiles
        .iter()
        .filter(|(_, ip)| ip.roles.iter().any(|r| r.eq_ignore_ascii_case(&role)))
        .map(|(k, ip)| (k.clone(), ip));
    Ok(page_of(
        "InstanceProfiles",
        items,
        marker.as_deref(),
        max,
        |x, profile| write_profile(x, &state, profile),
    ))
}

/// `DeleteInstanceProfile`: refused while it holds a role.
pub async fn delete(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("InstanceProfileName", Check::Name(128));
    p.finish()?;
    authorize_profile(cx, &name, "iam:DeleteInstanceProfile")?;
    cx.write(|state| {
        let key = name.to_ascii_lowercase();
        let profile = state
            .instance_profiles
            .get(&key)
            .ok_or_else(|| missing(&name))?;
        if !profile.roles.is_empty() {
            return Err(ApiError::delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        state.instance_profiles.remove(&key);
        Ok(((), vec![Change::delete(kind::INSTANCE_PROFILE, key)]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `AddRoleToInstanceProfile`: a profile holds one role.
pub async fn add_role(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("InstanceProfileName", Check::Name(128));
    let role = p.required("RoleName", Check::Name(64));
    p.finish()?;
    authorize_profile(cx, &name, "iam:AddRoleToInstanceProfile")?;
    cx.write(|state| {
        let role_name = state
            .role(&role)
            .map(|r| r.name.clone())
            .ok_or_else(|| no_such_role(&role))?;
        let key = name.to_ascii_lowercase();
        let profile = state
            .instance_profiles
            .get_mut(&key)
            .ok_or_else(|| missing(&name))?;
        if !profile.roles.is_empty() {
            return Err(ApiError::limit_exceeded(
                "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
            ));
        }
        profile.roles.push(role_name);
        let change = Change::put(kind::INSTANCE_PROFILE, key, profile);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `RemoveRoleFromInstanceProfile`.
pub async fn remove_role(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("InstanceProfileName", Check::Name(128));
    let role = p.required("RoleName", Check::Name(64));
    p.finish()?;
    authorize_profile(cx, &name, "iam:RemoveRoleFromInstanceProfile")?;
    cx.write(|state| {
        let key = name.to_ascii_lowercase();
        let profile = state
            .instance_profiles
            .get_mut(&key)
            .ok_or_else(|| missing(&name))?;
        let before = profile.roles.len();
        profile.roles.retain(|r| !r.eq_ignore_ascii_case(&role));
        if profile.roles.len() == before {
            return Err(no_such_role(&role));
        }
        let change = Change::put(kind::INSTANCE_PROFILE, key, profile);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}
