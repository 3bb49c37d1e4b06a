//! Authentication: every request's SigV4 signature is verified against the access key it
//! names (a user's long-term key or an STS session's temporary key), giving the `Caller`.

use rolewright_iam::Principal;
use rolewright_sigv4::{AuthErrorKind, Authorization};

use crate::error::ApiError;
use crate::model::{KeyStatus, State, Tag};

/// Who is calling, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `arn:aws:iam::ACCT:user/NAME` or `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// The account.
    pub account: String,
    /// `AIDA…` for a user, `AROA…:SESSION` for a role session.
    pub user_id: String,
    /// The access key used.
    pub access_key_id: String,
    /// User or role session.
    pub identity: Identity,
    /// The principal for the policy engine.
    pub principal: Principal,
}

/// The kind of caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// An IAM user (by name).
    User(String),
    /// A role session (role name, session access key id).
    Session {
        /// The role's name.
        role: String,
        /// The role's ARN.
        role_arn: String,
        /// Session tags.
        tags: Vec<Tag>,
        /// Unix seconds when issued.
        issued: i64,
    },
}

/// Maps a signature failure to AWS's code for the request's protocol.
pub fn auth_error(kind: AuthErrorKind, message: String) -> ApiError {
    match kind {
        AuthErrorKind::Missing => ApiError::new("MissingAuthenticationToken", 403, message),
        AuthErrorKind::Incomplete | AuthErrorKind::Unsupported => {
            ApiError::new("IncompleteSignature", 400, message)
        }
        AuthErrorKind::UnknownKey => ApiError::new("InvalidClientTokenId", 403, message),
        AuthErrorKind::Mismatch | AuthErrorKind::Expired => {
            ApiError::new("SignatureDoesNotMatch", 403, message)
        }
    }
}

fn invalid_token() -> ApiError {
    ApiError::new(
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
    )
}

/// Finds the secret for the key the request names and who it belongs to. Does not verify the
/// signature (the caller does, with the secret).
pub fn lookup(state: &State, auth: &Authorization, now: i64) -> Result<(String, Caller), ApiError> {
    lookup_key(
        state,
        &auth.access_key_id,
        auth.security_token.as_deref(),
        now,
    )
}

/// Finds the secret of an access key (a user's, or an STS session's with its token) and who it
/// belongs to, refusing an inactive key, a wrong or missing token and an expired session as a
/// signed request is refused (the console's sign-in checks a key pair with it).
pub fn lookup_key(
    state: &State,
    id: &str,
    security_token: Option<&str>,
    now: i64,
) -> Result<(String, Caller), ApiError> {
    if let Some(key) = state.access_keys.get(id) {
        if key.status != KeyStatus::Active {
            return Err(invalid_token());
        }
        if security_token.is_some() {
            return Err(invalid_token());
        }
        let user = state.user(&key.user).ok_or_else(invalid_token)?;
        let arn = state.user_arn(user);
        let principal = Principal::parse(&arn).map_err(|_| invalid_token())?;
        return Ok((
            key.secret.clone(),
            Caller {
                arn,
                account: state.account.clone(),
                user_id: user.id.clone(),
                access_key_id: id.to_string(),
                identity: Identity::User(user.name.clone()),
                principal,
            },
        ));
    }
    if let Some(session) = state.sessions.get(id) {
        if security_token != Some(session.token.as_str()) {
            return Err(invalid_token());
        }
        if now >= session.expires {
            return Err(ApiError::new(
                "ExpiredToken",
                403,
                "The security token included in the request is expired",
            ));
        }
        // A session belongs to the role it was issued for; a role deleted and created again
        // under the same name is another role (another id), whose permissions it never gets.
        let role = state
            .role(&session.role)
            .filter(|role| role.id == session.role_id)
            .ok_or_else(invalid_token)?;
        let arn = format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            state.account, role.name, session.session_name
        );
        let principal = Principal::parse(&arn).map_err(|_| invalid_token())?;
        return Ok((
            session.secret.clone(),
            Caller {
                arn,
                account: state.account.clone(),
                user_id: format!("{}:{}", role.id, session.session_name),
                access_key_id: id.to_string(),
                identity: Identity::Session {
                    role: role.name.clone(),
                    role_arn: state.role_arn(role),
                    tags: session.tags.clone(),
                    issued: session.issued,
                },
                principal,
            },
        ));
    }
    Err(invalid_token())
}

impl Caller {
    /// A session of `role` that an AWS service opened for itself to act as the role (the
    /// `RoleARN` of a CloudFormation stack, session `AWSCloudFormation`): the role's policies
    /// and no session policy. It exists only inside the server and signs no request.
    pub fn service_session(
        state: &State,
        role: &crate::model::Role,
        session_name: &str,
        issued: i64,
    ) -> Option<Caller> {
        let arn = format!(
            "arn:aws:sts::{}:assumed-role/{}/{session_name}",
            state.account, role.name
        );
        let principal = Principal::parse(&arn).ok()?;
        Some(Caller {
            arn,
            account: state.account.clone(),
            user_id: format!("{}:{session_name}", role.id),
            // Unique, so that no cached policy set of another caller is reused.
            access_key_id: crate::ids::access_key_id("ASIA"),
            identity: Identity::Session {
                role: role.name.clone(),
                role_arn: state.role_arn(role),
                tags: Vec::new(),
                issued,
            },
            principal,
        })
    }
}
