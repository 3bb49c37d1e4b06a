//! The account's SageMaker Service Catalog portfolio switch, whether JumpStart and Projects are open to a user, and presigned Studio URLs.

use super::*;

pub(super) async fn set_portfolio(cx: &mut Cx<'_>, enabled: bool) -> Result<Reply, ApiError> {
    let action = if enabled {
        "sagemaker:EnableSagemakerServicecatalogPortfolio"
    } else {
        "sagemaker:DisableSagemakerServicecatalogPortfolio"
    };
    {
        let state = cx.app.store.read();
        cx.authorize(&state, action, "*", |_| {})?;
    }
    cx.write(|state| {
        state.sagemaker_portfolio = enabled;
        let change = Change::Put {
            kind: kind::META,
            id: "sagemaker_portfolio".into(),
            body: enabled.to_string(),
        };
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
}

pub(super) fn portfolio_status(cx: &mut Cx<'_>) -> Result<Reply, ApiError> {
    let state = cx.app.store.read();
    cx.authorize(
        &state,
        "sagemaker:GetSagemakerServicecatalogPortfolioStatus",
        "*",
        |_| {},
    )?;
    let status = if state.sagemaker_portfolio {
        "Enabled"
    } else {
        "Disabled"
    };
    Ok(Reply::Json(json!({"Status": status})))
}

/// Whether JumpStart and project templates are open to a user profile, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JumpStartStatus {
    /// The profile's execution role, or the domain's when the profile has none.
    pub execution_role: Option<String>,
    /// Each missing condition, in words; empty when enabled.
    pub reasons: Vec<String>,
}

/// The roles SageMaker's portfolio products launch and run as (seed 000).
pub const SERVICE_CATALOG_ROLES: [&str; 2] = [
    "AmazonSageMakerServiceCatalogProductsLaunchRole",
    "AmazonSageMakerServiceCatalogProductsUseRole",
];

/// JumpStart and Projects are open to a user when the account's SageMaker portfolio is
/// enabled, its execution role (or the domain's) is associated with that portfolio, the
/// portfolio's launch and use roles exist, and `StudioWebPortalSettings.HiddenMlTools` hides
/// neither.
pub fn jumpstart_status(state: &State, domain: &Domain, profile: &UserProfile) -> JumpStartStatus {
    let domain_defaults = domain.settings.get("DefaultUserSettings");
    let execution_role = profile
        .settings
        .get("ExecutionRole")
        .or_else(|| domain_defaults.and_then(|d| d.get("ExecutionRole")))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut reasons = Vec::new();
    if !state.sagemaker_portfolio {
        reasons.push(
            "the account's SageMaker Service Catalog portfolio is disabled \
             (EnableSagemakerServicecatalogPortfolio)"
                .to_string(),
        );
    }
    match &execution_role {
        None => {
            reasons.push("neither the user profile nor the domain has an execution role".into())
        }
        Some(role) => {
            if !crate::servicecatalog::role_in_sagemaker_portfolio(state, role) {
                reasons.push(format!(
                    "the execution role {role} is not associated with the SageMaker portfolio \
                     (AssociatePrincipalWithPortfolio)"
                ));
            }
        }
    }
    for name in SERVICE_CATALOG_ROLES {
        if state.role(name).is_none() {
            reasons.push(format!("the role {name} does not exist"));
        }
    }
    let hidden = profile
        .settings
        .get("StudioWebPortalSettings")
        .or_else(|| domain_defaults.and_then(|d| d.get("StudioWebPortalSettings")))
        .and_then(|s| s.get("HiddenMlTools"))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for tool in ["JumpStart", "Projects"] {
        if hidden.iter().any(|h| h == tool) {
            reasons.push(format!(
                "StudioWebPortalSettings.HiddenMlTools hides {tool}"
            ));
        }
    }
    JumpStartStatus {
        execution_role,
        reasons,
    }
}

pub(super) fn create_presigned_domain_url(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let expires_in = input.int("ExpiresInSeconds").unwrap_or(300);
    let session = input
        .int("SessionExpirationDurationInSeconds")
        .unwrap_or(43200);
    let (domain_id, name) = profile_input(&input);
    let state = cx.app.store.read();
    let (profile, _) = authorize_profile(
        cx,
        &state,
        &domain_id,
        &name,
        "sagemaker:CreatePresignedDomainUrl",
    )?;
    let domain = state
        .domains
        .get(&domain_id)
        .ok_or_else(|| not_found("Domain", &domain_arn(&state, &cx.facts.region, &domain_id)))?;
    if domain.auth_mode != "IAM" {
        return Err(ApiError::new(
            "ValidationException",
            400,
            format!(
                "Domain {domain_id} uses {} authentication; presigned URLs are for domains in IAM mode.",
                domain.auth_mode
            ),
        ));
    }
    let key = state
        .studio_url_key
        .clone()
        .ok_or_else(ApiError::service_failure)?;
    let grant = crate::studio::Grant {
        domain_id: profile.domain_id.clone(),
        user_profile: profile.name.clone(),
        expires: cx.facts.now + expires_in,
        session_seconds: session,
        kind: "url".into(),
        nonce: ids::lowercase_alphanumeric(16),
    };
    let token = crate::studio::sign(key.as_bytes(), &grant);
    Ok(Reply::Json(json!({
        "AuthorizedUrl": format!("http://{}{}?token={token}", cx.host, crate::studio::OPEN_PATH)
    })))
}
