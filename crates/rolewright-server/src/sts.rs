//! STS over the query protocol: `GetCallerIdentity` and `AssumeRole`, whose temporary
//! credentials the server accepts until they expire.

use rolewright_iam::{CompiledPolicy, PolicyDocument, PolicyType};

use crate::auth::Identity;
use crate::authz::request_tags;
use crate::error::{ApiError, validation_error};
use crate::iam::{check_document, policy_size};
use crate::ids;
use crate::model::{Change, Session, kind};
use crate::operation::operation_table;
use crate::server::{Cx, Reply, invalid_action};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// Characters allowed in an inline session policy (whitespace excluded).
const SESSION_POLICY_QUOTA: usize = 2048;

operation_table! {
    service "sts";
    pub async fn dispatch(cx, p: &mut Params) else |other| invalid_action(other, "2011-06-15");
    "GetCallerIdentity" on "*" => get_caller_identity(cx),
    "AssumeRole" on "role" => assume_role(cx, p).await,
    "GetAccessKeyInfo" on "*" => get_access_key_info(cx, p),
}

/// `GetCallerIdentity`: needs no permission (AWS answers it even under an explicit deny).
fn get_caller_identity(cx: &mut Cx<'_>) -> Result<Reply, ApiError> {
    cx.note_allowed(
        "sts:GetCallerIdentity",
        "GetCallerIdentity needs no permission",
    );
    let mut x = XmlWriter::new();
    x.leaf("Arn", &cx.caller.arn)
        .leaf("UserId", &cx.caller.user_id)
        .leaf("Account", &cx.caller.account);
    Ok(Reply::Xml(x))
}

/// `GetAccessKeyInfo`: the account that owns an access key (this account for its own keys).
fn get_access_key_info(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let id = p.required("AccessKeyId", Check::Length(16, 128));
    p.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "sts:GetAccessKeyInfo", "*", |_| {})?;
    let known = state.access_keys.contains_key(&id) || state.sessions.contains_key(&id);
    if !known {
        return Err(ApiError::new(
            "InvalidParameterValue",
            400,
            format!("The access key {id} does not belong to an account served here."),
        ));
    }
    let mut x = XmlWriter::new();
    x.leaf("Account", &state.account);
    Ok(Reply::Xml(x))
}

/// The role name of `arn:aws:iam::ACCOUNT:role/path/name` in this account.
fn role_name_of(arn: &str, account: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (acct, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    (acct == account).then(|| path_and_name.rsplit('/').next().unwrap_or("").to_string())
}

/// `AssumeRole`: allowed when the role's trust policy and the caller's own policies (per
/// IAM's rules for a resource policy in the same account) allow `sts:AssumeRole`.
async fn assume_role(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let role_arn = p.required("RoleArn", Check::Arn);
    let session_name = p.required("RoleSessionName", Check::SessionName);
    let min = cx.app.quotas_min_session();
    let duration = p.int("DurationSeconds", min, 43200).unwrap_or(3600);
    let policy = p.optional("Policy", Check::Document);
    let mut policy_arns = Vec::new();
    for prefix in p.structs("PolicyArns") {
        if let Some(arn) = p.optional(&format!("{prefix}arn"), Check::Arn) {
            policy_arns.push(arn);
        }
    }
    let tags = p.tags("Tags");
    let external_id = p.optional("ExternalId", Check::Length(2, 1224));
    let source_identity = p.optional("SourceIdentity", Check::SessionName);
    p.finish()?;
    if let Some(text) = &policy {
        check_document(text, PolicyType::Session)?;
        let size = policy_size(text);
        if size > SESSION_POLICY_QUOTA {
            return Err(ApiError::new(
                "PackedPolicyTooLarge",
                400,
                format!(
                    "Packed policy consumes {}% of allotted space, please use smaller policy.",
                    size * 100 / SESSION_POLICY_QUOTA
                ),
            ));
        }
    }
    let chained = matches!(cx.caller.identity, Identity::Session { .. });
    let (role_name, role_id) = {
        let state = cx.app.store.read();
        let role = role_name_of(&role_arn, &state.account).and_then(|n| state.role(&n).cloned());
        let trust = role.as_ref().and_then(|r| {
            PolicyDocument::parse(&r.trust_policy)
                .ok()
                .map(|d| CompiledPolicy::new(&d).with_name(format!("role/{}/trust", r.name)))
        });
        let mut ctx = cx.context(&state);
        request_tags(&mut ctx, &tags);
        ctx.set("sts:RoleSessionName", session_name.clone());
        if let Some(e) = &external_id {
            ctx.set("sts:ExternalId", e.clone());
        }
        if let Some(s) = &source_identity {
            ctx.set("sts:SourceIdentity", s.clone());
        }
        match (role, trust) {
            (Some(role), Some(trust)) => {
                let resource = state.role_arn(&role);
                cx.authorize_with(
                    &state,
                    "sts:AssumeRole",
                    &resource,
                    ctx.clone(),
                    Some(trust.clone()),
                )?;
                if !tags.is_empty() {
                    cx.authorize_with(&state, "sts:TagSession", &resource, ctx, Some(trust))?;
                }
                if duration as u32 > role.max_session_duration {
                    return Err(ApiError::new(
                        "ValidationError",
                        400,
                        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                    ));
                }
                if chained && duration > 3600 && p.get("DurationSeconds").is_some() {
                    return Err(ApiError::new(
                        "ValidationError",
                        400,
                        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
                    ));
                }
                for arn in &policy_arns {
                    if !state.policies.contains_key(arn) {
                        return Err(validation_error(&[format!(
                            "Value '{arn}' at 'policyArns' failed to satisfy constraint: the policy does not exist"
                        )]));
                    }
                }
                (role.name.clone(), role.id.clone())
            }
            // A role that does not exist is refused the way AWS refuses it: AccessDenied.
            _ => {
                let message = format!(
                    "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                    cx.caller.arn
                );
                cx.note_denied("sts:AssumeRole", &role_arn, &message);
                return Err(ApiError::access_denied(message));
            }
        }
    };
    let now = cx.facts.now;
    let duration = if chained {
        duration.min(3600)
    } else {
        duration
    };
    let session = Session {
        key_id: ids::access_key_id("ASIA"),
        secret: ids::secret(),
        token: ids::session_token(),
        expires: now + duration,
        issued: now,
        role: role_name.clone(),
        role_id: role_id.clone(),
        session_name: session_name.clone(),
        policy: policy.clone(),
        policy_arns,
        tags,
        source_identity: source_identity.clone(),
    };
    let stored = session.clone();
    cx.write(move |state| {
        let mut changes = Vec::new();
        // Expired sessions are dropped as new ones are issued.
        let expired: Vec<String> = state
            .sessions
            .iter()
            .filter(|(_, s)| s.expires <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            state.sessions.remove(&id);
            changes.push(Change::delete(kind::SESSION, id));
        }
        changes.push(Change::put(kind::SESSION, stored.key_id.clone(), &stored));
        state.sessions.insert(stored.key_id.clone(), stored);
        Ok(((), changes))
    })
    .await?;
    let account = cx.caller.account.clone();
    let mut x = XmlWriter::new();
    x.open("Credentials")
        .leaf("AccessKeyId", &session.key_id)
        .leaf("SecretAccessKey", &session.secret)
        .leaf("SessionToken", &session.token)
        .time("Expiration", session.expires)
        .close("Credentials")
        .open("AssumedRoleUser")
        .leaf("AssumedRoleId", &format!("{role_id}:{session_name}"))
        .leaf(
            "Arn",
            &format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"),
        )
        .close("AssumedRoleUser");
    if let Some(text) = &policy {
        x.leaf(
            "PackedPolicySize",
            &(policy_size(text) * 100 / SESSION_POLICY_QUOTA).to_string(),
        );
    }
    x.leaf_opt("SourceIdentity", source_identity.as_deref());
    Ok(Reply::Xml(x))
}
