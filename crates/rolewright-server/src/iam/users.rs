//! IAM users and their access keys.

use super::holders::conflicts;
use super::holders::{HolderKind, authorize_holder};
use super::{
    check_policy_arn, no_such_policy, no_such_user, page_of, page_params, paginate, write_user,
};
use crate::auth::Identity;
use crate::authz::request_tags;
use crate::error::ApiError;
use crate::ids;
use crate::model::{AccessKey, Change, KeyStatus, User, kind};
use crate::server::{Cx, Reply};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// Long-term access keys per user.
const ACCESS_KEYS_PER_USER: usize = 2;

/// `CreateUser`.
pub async fn create_user(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("UserName", Check::Name(64));
    let path = p
        .optional("Path", Check::Path)
        .unwrap_or_else(|| "/".into());
    let boundary = p.optional("PermissionsBoundary", Check::Arn);
    let tags = p.tags("Tags");
    p.finish()?;
    if let Some(b) = &boundary {
        check_policy_arn(b)?;
    }
    {
        let state = cx.app.store.read();
        let arn = format!("arn:aws:iam::{}:user{path}{name}", state.account);
        let (request, bound) = (tags.clone(), boundary.clone());
        cx.authorize(&state, "iam:CreateUser", &arn, |ctx| {
            request_tags(ctx, &request);
            if let Some(b) = bound {
                ctx.set("iam:PermissionsBoundary", b);
            }
        })?;
        // Setting a boundary at creation is also a PutUserPermissionsBoundary, as IAM checks it.
        if let Some(b) = boundary.clone() {
            cx.authorize(&state, "iam:PutUserPermissionsBoundary", &arn, |ctx| {
                ctx.set("iam:PermissionsBoundary", b);
            })?;
        }
    }
    let now = cx.facts.now;
    let quota = cx.app.quotas.users;
    let user = cx
        .write(|state| {
            let key = name.to_ascii_lowercase();
            if state.users.contains_key(&key) {
                return Err(ApiError::already_exists(format!(
                    "User with name {name} already exists."
                )));
            }
            if state.users.len() >= quota {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for UsersPerAccount: {quota}"
                )));
            }
            if let Some(b) = &boundary
                && !state.policies.contains_key(b)
            {
                return Err(no_such_policy(b));
            }
            let user = new_user(&name, &path, now, tags.clone(), boundary.clone());
            let change = Change::put(kind::USER, key.clone(), &user);
            state.users.insert(key, user.clone());
            Ok((user, vec![change]))
        })
        .await?;
    let state = cx.app.store.read();
    let mut x = XmlWriter::new();
    x.open("User");
    write_user(&mut x, &state, &user, true);
    x.close("User");
    Ok(Reply::Xml(x))
}

/// A new user with no policies.
pub fn new_user(
    name: &str,
    path: &str,
    now: i64,
    tags: Vec<crate::model::Tag>,
    boundary: Option<String>,
) -> User {
    User {
        name: name.to_string(),
        path: path.to_string(),
        id: ids::unique_id("AIDA"),
        created: now,
        tags,
        boundary,
        inline: Default::default(),
        attached: Vec::new(),
        login_profile: None,
    }
}

/// The user a request names, or the calling user when the name is omitted (AWS's rule for
/// `GetUser`, `CreateAccessKey`, `ListAccessKeys` ...).
fn target_user(cx: &Cx<'_>, p: &mut Params) -> Result<String, ApiError> {
    if let Some(name) = p.optional("UserName", Check::Name(128)) {
        return Ok(name);
    }
    match &cx.caller.identity {
        Identity::User(name) => Ok(name.clone()),
        Identity::Session { .. } => Err(ApiError::new(
            "ValidationError",
            400,
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

/// `GetUser`.
pub fn get_user(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = target_user(cx, p)?;
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:GetUser")?;
    let state = cx.app.store.read();
    let user = state.user(&name).ok_or_else(|| no_such_user(&name))?;
    let mut x = XmlWriter::new();
    x.open("User");
    write_user(&mut x, &state, user, true);
    x.close("User");
    Ok(Reply::Xml(x))
}

/// `ListUsers`.
pub fn list_users(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let prefix = p.optional("PathPrefix", Check::PathPrefix);
    let (max, marker) = page_params(p);
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "iam:ListUsers", "*", |_| {})?;
    let items = state
        .users
        .iter()
        .filter(|(_, u)| prefix.as_deref().is_none_or(|pre| u.path.starts_with(pre)))
        .map(|(k, u)| (k.clone(), u));
    Ok(page_of(
        "Users",
        items,
        marker.as_deref(),
        max,
        |x, user| write_user(x, &state, user, false),
    ))
}

/// `DeleteUser`: refused while the user has access keys or policies.
pub async fn delete_user(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = p.required("UserName", Check::Name(64));
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:DeleteUser")?;
    cx.write(|state| {
        let key = name.to_ascii_lowercase();
        let user = state.users.get(&key).ok_or_else(|| no_such_user(&name))?;
        if state
            .access_keys
            .values()
            .any(|k| k.user.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::delete_conflict(
                "Cannot delete entity, must delete access keys first.",
            ));
        }
        if let Some(conflict) = conflicts(&user.inline, &user.attached) {
            return Err(conflict);
        }
        if user.login_profile.is_some() {
            return Err(ApiError::delete_conflict(
                "Cannot delete entity, must delete login profile first.",
            ));
        }
        if state.groups_of(&name).next().is_some() {
            return Err(ApiError::delete_conflict(
                "Cannot delete entity, must remove user from all groups first.",
            ));
        }
        state.users.remove(&key);
        Ok(((), vec![Change::delete(kind::USER, key)]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `CreateAccessKey`: at most two per user; the secret is returned once.
pub async fn create_access_key(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = target_user(cx, p)?;
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:CreateAccessKey")?;
    let now = cx.facts.now;
    let key = cx
        .write(|state| {
            let user = state.user(&name).ok_or_else(|| no_such_user(&name))?;
            let user_name = user.name.clone();
            let count = state
                .access_keys
                .values()
                .filter(|k| k.user.eq_ignore_ascii_case(&name))
                .count();
            if count >= ACCESS_KEYS_PER_USER {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
                )));
            }
            let key = AccessKey {
                id: ids::access_key_id("AKIA"),
                secret: ids::secret(),
                user: user_name,
                status: KeyStatus::Active,
                created: now,
            };
            let change = Change::put(kind::ACCESS_KEY, key.id.clone(), &key);
            state.access_keys.insert(key.id.clone(), key.clone());
            Ok((key, vec![change]))
        })
        .await?;
    let mut x = XmlWriter::new();
    x.open("AccessKey")
        .leaf("UserName", &key.user)
        .leaf("AccessKeyId", &key.id)
        .leaf("Status", key.status.as_str())
        .leaf("SecretAccessKey", &key.secret)
        .time("CreateDate", key.created)
        .close("AccessKey");
    Ok(Reply::Xml(x))
}

/// `ListAccessKeys` (never the secrets).
pub fn list_access_keys(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = target_user(cx, p)?;
    let (max, marker) = page_params(p);
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:ListAccessKeys")?;
    let state = cx.app.store.read();
    let user = state.user(&name).ok_or_else(|| no_such_user(&name))?;
    let items = state
        .access_keys
        .values()
        .filter(|k| k.user.eq_ignore_ascii_case(&user.name))
        .map(|k| (k.id.clone(), k));
    let (keys, next) = paginate(items, marker.as_deref(), max);
    let mut x = XmlWriter::new();
    x.open("AccessKeyMetadata");
    for key in keys {
        x.open("member")
            .leaf("UserName", &key.user)
            .leaf("AccessKeyId", &key.id)
            .leaf("Status", key.status.as_str())
            .time("CreateDate", key.created)
            .close("member");
    }
    x.close("AccessKeyMetadata").page(next.as_deref());
    Ok(Reply::Xml(x))
}

/// `ListMFADevices`: the user's MFA devices. Nothing in the control plane creates them, so the
/// list is one empty page; the user must exist. Audit tools call it for every user.
pub fn list_mfa_devices(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = target_user(cx, p)?;
    let _ = page_params(p);
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:ListMFADevices")?;
    let state = cx.app.store.read();
    state.user(&name).ok_or_else(|| no_such_user(&name))?;
    let mut x = XmlWriter::new();
    x.open("MFADevices").close("MFADevices").page(None);
    Ok(Reply::Xml(x))
}

fn key_of_user<'s>(
    state: &'s crate::model::State,
    user: &str,
    id: &str,
) -> Result<&'s AccessKey, ApiError> {
    state
        .access_keys
        .get(id)
        .filter(|k| k.user.eq_ignore_ascii_case(user))
        .ok_or_else(|| {
            ApiError::no_such_entity(format!("The Access Key with id {id} cannot be found."))
        })
}

/// `UpdateAccessKey` (Active / Inactive).
pub async fn update_access_key(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = target_user(cx, p)?;
    let id = p.required("AccessKeyId", Check::Length(16, 128));
    let status = p.required("Status", Check::Length(1, 16));
    p.finish()?;
    let status = match status.as_str() {
        "Active" => KeyStatus::Active,
        "Inactive" => KeyStatus::Inactive,
        other => {
            return Err(crate::error::validation_error(&[format!(
                "Value '{other}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
            )]));
        }
    };
    authorize_holder(cx, HolderKind::User, &name, "iam:UpdateAccessKey")?;
    cx.write(|state| {
        key_of_user(state, &name, &id)?;
        let Some(key) = state.access_keys.get_mut(&id) else {
            return Err(ApiError::no_such_entity(format!(
                "The Access Key with id {id} cannot be found."
            )));
        };
        key.status = status;
        let change = Change::put(kind::ACCESS_KEY, id.clone(), key);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// `DeleteAccessKey`.
pub async fn delete_access_key(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = target_user(cx, p)?;
    let id = p.required("AccessKeyId", Check::Length(16, 128));
    p.finish()?;
    authorize_holder(cx, HolderKind::User, &name, "iam:DeleteAccessKey")?;
    cx.write(|state| {
        key_of_user(state, &name, &id)?;
        state.access_keys.remove(&id);
        Ok(((), vec![Change::delete(kind::ACCESS_KEY, id.clone())]))
    })
    .await?;
    Ok(Reply::Empty)
}
