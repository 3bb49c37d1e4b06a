//! IAM over the query protocol: users, access keys, roles, inline and managed policies with
//! versions, attachments, tags, permissions boundaries and the policy simulator.

mod account;
mod groups;
mod holders;
mod instance_profiles;
mod policies;
mod roles;
mod simulate;
mod users;

use rolewright_iam::PolicyType;

use self::holders::HolderKind::{Group as G, Role as R, User as U};
use crate::error::ApiError;
use crate::model::{ManagedPolicy, Role, State, Tag, User};
use crate::operation::operation_table;
use crate::server::{Reply, invalid_action};
use crate::wire::query::Params;
use crate::wire::xml::XmlWriter;

pub use holders::HolderKind;
pub use users::new_user;

operation_table! {
    service "iam";
    pub async fn dispatch(cx, p: &mut Params) else |other| invalid_action(other, "2010-05-08");
    "CreateUser" on "user" => users::create_user(cx, p).await,
    "GetUser" on "user" => users::get_user(cx, p),
    "ListUsers" on "*" => users::list_users(cx, p),
    "DeleteUser" on "user" => users::delete_user(cx, p).await,
    "CreateAccessKey" on "user" => users::create_access_key(cx, p).await,
    "ListAccessKeys" on "user" => users::list_access_keys(cx, p),
    "ListMFADevices" on "user" => users::list_mfa_devices(cx, p),
    "UpdateAccessKey" on "user" => users::update_access_key(cx, p).await,
    "DeleteAccessKey" on "user" => users::delete_access_key(cx, p).await,
    "CreateRole" on "role" => roles::create_role(cx, p).await,
    "GetRole" on "role" => roles::get_role(cx, p),
    "ListRoles" on "*" => roles::list_roles(cx, p),
    "DeleteRole" on "role" => roles::delete_role(cx, p).await,
    "UpdateRole" on "role" => roles::update_role(cx, p, false).await,
    "UpdateRoleDescription" on "role" => roles::update_role(cx, p, true).await,
    "UpdateAssumeRolePolicy" on "role" => roles::update_assume_role_policy(cx, p).await,
    "PutRolePolicy" on "role" => holders::put_inline(cx, p, R).await,
    "PutUserPolicy" on "user" => holders::put_inline(cx, p, U).await,
    "GetRolePolicy" on "role" => holders::get_inline(cx, p, R),
    "GetUserPolicy" on "user" => holders::get_inline(cx, p, U),
    "ListRolePolicies" on "role" => holders::list_inline(cx, p, R),
    "ListUserPolicies" on "user" => holders::list_inline(cx, p, U),
    "DeleteRolePolicy" on "role" => holders::delete_inline(cx, p, R).await,
    "DeleteUserPolicy" on "user" => holders::delete_inline(cx, p, U).await,
    "AttachRolePolicy" on "role" => holders::attach(cx, p, R).await,
    "AttachUserPolicy" on "user" => holders::attach(cx, p, U).await,
    "DetachRolePolicy" on "role" => holders::detach(cx, p, R).await,
    "DetachUserPolicy" on "user" => holders::detach(cx, p, U).await,
    "ListAttachedRolePolicies" on "role" => holders::list_attached(cx, p, R),
    "ListAttachedUserPolicies" on "user" => holders::list_attached(cx, p, U),
    "TagRole" on "role" => holders::tag(cx, p, R).await,
    "TagUser" on "user" => holders::tag(cx, p, U).await,
    "UntagRole" on "role" => holders::untag(cx, p, R).await,
    "UntagUser" on "user" => holders::untag(cx, p, U).await,
    "ListRoleTags" on "role" => holders::list_tags(cx, p, R),
    "ListUserTags" on "user" => holders::list_tags(cx, p, U),
    "PutRolePermissionsBoundary" on "role" => holders::put_boundary(cx, p, R).await,
    "PutUserPermissionsBoundary" on "user" => holders::put_boundary(cx, p, U).await,
    "DeleteRolePermissionsBoundary" on "role" => holders::delete_boundary(cx, p, R).await,
    "DeleteUserPermissionsBoundary" on "user" => holders::delete_boundary(cx, p, U).await,
    "CreatePolicy" on "policy" => policies::create_policy(cx, p).await,
    "GetPolicy" on "policy" => policies::get_policy(cx, p),
    "DeletePolicy" on "policy" => policies::delete_policy(cx, p).await,
    "ListPolicies" on "*" => policies::list_policies(cx, p),
    "CreatePolicyVersion" on "policy" => policies::create_version(cx, p).await,
    "GetPolicyVersion" on "policy" => policies::get_version(cx, p),
    "ListPolicyVersions" on "policy" => policies::list_versions(cx, p),
    "DeletePolicyVersion" on "policy" => policies::delete_version(cx, p).await,
    "SetDefaultPolicyVersion" on "policy" => policies::set_default_version(cx, p).await,
    "ListEntitiesForPolicy" on "policy" => policies::list_entities(cx, p),
    "CreateGroup" on "group" => groups::create_group(cx, p).await,
    "GetGroup" on "group" => groups::get_group(cx, p),
    "ListGroups" on "*" => groups::list_groups(cx, p),
    "DeleteGroup" on "group" => groups::delete_group(cx, p).await,
    "AddUserToGroup" on "group" => groups::add_user(cx, p).await,
    "RemoveUserFromGroup" on "group" => groups::remove_user(cx, p).await,
    "ListGroupsForUser" on "user" => groups::list_groups_for_user(cx, p),
    "PutGroupPolicy" on "group" => holders::put_inline(cx, p, G).await,
    "GetGroupPolicy" on "group" => holders::get_inline(cx, p, G),
    "ListGroupPolicies" on "group" => holders::list_inline(cx, p, G),
    "DeleteGroupPolicy" on "group" => holders::delete_inline(cx, p, G).await,
    "AttachGroupPolicy" on "group" => holders::attach(cx, p, G).await,
    "DetachGroupPolicy" on "group" => holders::detach(cx, p, G).await,
    "ListAttachedGroupPolicies" on "group" => holders::list_attached(cx, p, G),
    "GetAccountSummary" on "*" => account::summary(cx, p),
    "GetAccountAuthorizationDetails" on "*" => account::authorization_details(cx, p),
    "ListAccountAliases" on "*" => account::list_aliases(cx, p),
    "ListVirtualMFADevices" on "*" => account::list_virtual_mfa_devices(cx, p),
    "CreateAccountAlias" on "*" => account::create_alias(cx, p).await,
    "DeleteAccountAlias" on "*" => account::delete_alias(cx, p).await,
    "CreateLoginProfile" on "user" => account::create_login_profile(cx, p).await,
    "GetLoginProfile" on "user" => account::get_login_profile(cx, p),
    "UpdateLoginProfile" on "user" => account::update_login_profile(cx, p).await,
    "DeleteLoginProfile" on "user" => account::delete_login_profile(cx, p).await,
    "TagPolicy" on "policy" => account::tag_policy(cx, p).await,
    "UntagPolicy" on "policy" => account::untag_policy(cx, p).await,
    "ListPolicyTags" on "policy" => account::list_policy_tags(cx, p),
    "GetAccessKeyLastUsed" on "user" => account::access_key_last_used(cx, p),
    "CreateInstanceProfile" on "instance-profile" => instance_profiles::create(cx, p).await,
    "GetInstanceProfile" on "instance-profile" => instance_profiles::get(cx, p),
    "ListInstanceProfiles" on "*" => instance_profiles::list(cx, p),
    "ListInstanceProfilesForRole" on "role" => instance_profiles::list_for_role(cx, p),
    "DeleteInstanceProfile" on "instance-profile" => instance_profiles::delete(cx, p).await,
    "AddRoleToInstanceProfile" on "instance-profile" => instance_profiles::add_role(cx, p).await,
    "RemoveRoleFromInstanceProfile" on "instance-profile" => instance_profiles::remove_role(cx, p).await,
    "SimulatePrincipalPolicy" on "group|role|user" => simulate::simulate_principal(cx, p),
    "SimulateCustomPolicy" on "*" => simulate::simulate_custom(cx, p),
}

/// Checks a policy document as IAM does on the way in: `MalformedPolicyDocument` with the
/// first problem's message, located.
pub fn check_document(text: &str, policy_type: PolicyType) -> Result<(), ApiError> {
    let outcome = rolewright_iam::parse_policy(text, policy_type);
    let first_error = outcome
        .diagnostics
        .iter()
        .find(|d| d.severity == rolewright_iam::Severity::Error);
    match (first_error, outcome.document) {
        (None, Some(_)) => Ok(()),
        (Some(d), _) => {
            let at = d
                .location
                .as_ref()
                .map(|l| format!(" (line {}, column {})", l.line, l.column))
                .unwrap_or_default();
            Err(ApiError::malformed_policy(format!("{}{at}", d.message)))
        }
        (None, None) => Err(ApiError::malformed_policy("Syntax errors in policy.")),
    }
}

/// Policy size as IAM counts it (whitespace excluded).
pub fn policy_size(text: &str) -> usize {
    rolewright_iam::size::text_size(text)
}

/// The role's ARN if it exists, else the ARN it would have at the root path (what IAM
/// authorizes a request about a missing role against).
pub fn role_resource(state: &State, name: &str) -> String {
    match state.role(name) {
        Some(role) => state.role_arn(role),
        None => format!("arn:aws:iam::{}:role/{name}", state.account),
    }
}

/// The user's ARN if it exists, else the root-path ARN.
pub fn user_resource(state: &State, name: &str) -> String {
    match state.user(name) {
        Some(user) => state.user_arn(user),
        None => format!("arn:aws:iam::{}:user/{name}", state.account),
    }
}

/// `NoSuchEntity` for a role.
pub fn no_such_role(name: &str) -> ApiError {
    ApiError::no_such_entity(format!("The role with name {name} cannot be found."))
}

/// The group's ARN if it exists, else the root-path ARN.
pub fn group_resource(state: &State, name: &str) -> String {
    match state.group(name) {
        Some(group) => state.group_arn(group),
        None => format!("arn:aws:iam::{}:group/{name}", state.account),
    }
}

/// `NoSuchEntity` for a group.
pub fn no_such_group(name: &str) -> ApiError {
    ApiError::no_such_entity(format!("The group with name {name} cannot be found."))
}

/// `NoSuchEntity` for a user.
pub fn no_such_user(name: &str) -> ApiError {
    ApiError::no_such_entity(format!("The user with name {name} cannot be found."))
}

/// `NoSuchEntity` for a managed policy.
pub fn no_such_policy(arn: &str) -> ApiError {
    ApiError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

/// Checks that a text is a managed policy ARN (`arn:aws:iam::ACCOUNT|aws:policy/...`).
pub fn check_policy_arn(arn: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[3].is_empty()
        && (parts[4] == "aws"
            || (parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit())))
        && parts[5].starts_with("policy/");
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_input(format!("ARN {arn} is not valid.")))
    }
}

/// `existing` with `new` applied (a key already there gets the new value); at most 50 tags.
pub fn merge_tags(existing: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, ApiError> {
    let merged = crate::model::merge_tags(existing, new);
    if merged.len() > 50 {
        return Err(ApiError::limit_exceeded(
            "The number of tags has reached the maximum limit.",
        ));
    }
    Ok(merged)
}

/// Writes `<Tags>` members.
pub fn write_tags(x: &mut XmlWriter, tag: &str, tags: &[Tag]) {
    x.open(tag);
    for t in tags {
        x.open("member")
            .leaf("Key", &t.key)
            .leaf("Value", &t.value)
            .close("member");
    }
    x.close(tag);
}

/// Writes a `Role` structure's members. `full` adds the boundary and tags, which list
/// operations leave out.
pub fn write_role(x: &mut XmlWriter, state: &State, role: &Role, full: bool) {
    x.leaf("Path", &role.path)
        .leaf("RoleName", &role.name)
        .leaf("RoleId", &role.id)
        .leaf("Arn", &state.role_arn(role))
        .time("CreateDate", role.created)
        .document("AssumeRolePolicyDocument", &role.trust_policy)
        .leaf_opt("Description", role.description.as_deref())
        .leaf("MaxSessionDuration", &role.max_session_duration.to_string());
    if full {
        write_boundary(x, role.boundary.as_deref());
        if !role.tags.is_empty() {
            write_tags(x, "Tags", &role.tags);
        }
    }
}

/// Writes `RoleLastUsed` (GetRole): empty for a role whose sessions never made a request.
pub fn write_last_used(x: &mut XmlWriter, last_used: Option<(i64, String)>) {
    x.open("RoleLastUsed");
    if let Some((when, region)) = last_used {
        x.time("LastUsedDate", when).leaf("Region", &region);
    }
    x.close("RoleLastUsed");
}

/// Writes `PermissionsBoundary` when set.
pub fn write_boundary(x: &mut XmlWriter, boundary: Option<&str>) {
    if let Some(arn) = boundary {
        x.open("PermissionsBoundary")
            .leaf("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
            .leaf("PermissionsBoundaryArn", arn)
            .close("PermissionsBoundary");
    }
}

/// Writes a `User` structure's members.
pub fn write_user(x: &mut XmlWriter, state: &State, user: &User, full: bool) {
    x.leaf("Path", &user.path)
        .leaf("UserName", &user.name)
        .leaf("UserId", &user.id)
        .leaf("Arn", &state.user_arn(user))
        .time("CreateDate", user.created);
    if full {
        write_boundary(x, user.boundary.as_deref());
        if !user.tags.is_empty() {
            write_tags(x, "Tags", &user.tags);
        }
    }
}

/// Writes a `Policy` structure's members.
pub fn write_policy(x: &mut XmlWriter, state: &State, policy: &ManagedPolicy) {
    write_policy_detail(x, state, policy);
    if !policy.tags.is_empty() {
        write_tags(x, "Tags", &policy.tags);
    }
}

/// Writes the members a `Policy` shares with a `ManagedPolicyDetail` (which has no tags).
pub fn write_policy_detail(x: &mut XmlWriter, state: &State, policy: &ManagedPolicy) {
    x.leaf("PolicyName", &policy.name)
        .leaf("PolicyId", &policy.id)
        .leaf("Arn", &policy.arn)
        .leaf("Path", &policy.path)
        .leaf("DefaultVersionId", &policy.default_version)
        .leaf(
            "AttachmentCount",
            &state.attachment_count(&policy.arn).to_string(),
        )
        .leaf(
            "PermissionsBoundaryUsageCount",
            &state.boundary_count(&policy.arn).to_string(),
        )
        .leaf("IsAttachable", "true")
        .leaf_opt("Description", policy.description.as_deref())
        .time("CreateDate", policy.created)
        .time("UpdateDate", policy.updated);
}

/// `MaxItems` (1..1000, default 100) and the decoded `Marker` of a list request.
pub fn page_params(p: &mut Params) -> (usize, Option<String>) {
    let max = p.int("MaxItems", 1, 1000).unwrap_or(100) as usize;
    let marker = p.optional("Marker", crate::wire::query::Check::Length(1, 320));
    (max, marker.map(|m| decode_marker(&m)))
}

/// Markers are the next item's sort key, base64-encoded so callers treat them as opaque.
pub fn encode_marker(key: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// The sort key a marker from [`encode_marker`] stands for.
pub fn decode_marker(marker: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(marker)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| marker.to_string())
}

/// One page of a list as IAM writes it: `<{tag}>` with one `<member>` per item written by
/// `member`, then `IsTruncated` and `Marker`.
pub fn page_of<T>(
    tag: &str,
    items: impl IntoIterator<Item = (String, T)>,
    marker: Option<&str>,
    max: usize,
    mut member: impl FnMut(&mut XmlWriter, T),
) -> Reply {
    let (page, next) = paginate(items, marker, max);
    let mut x = XmlWriter::new();
    x.open(tag);
    for item in page {
        x.open("member");
        member(&mut x, item);
        x.close("member");
    }
    x.close(tag).page(next.as_deref());
    Reply::Xml(x)
}

/// One page of sorted `(key, item)` pairs starting at the marker's key: the items and the
/// marker of the next page.
pub fn paginate<T>(
    items: impl IntoIterator<Item = (String, T)>,
    marker: Option<&str>,
    max: usize,
) -> (Vec<T>, Option<String>) {
    let mut out = Vec::new();
    let mut next = None;
    for (key, item) in items {
        if marker.is_some_and(|m| key.as_str() < m) {
            continue;
        }
        if out.len() == max {
            next = Some(encode_marker(&key));
            break;
        }
        out.push(item);
    }
    (out, next)
}
