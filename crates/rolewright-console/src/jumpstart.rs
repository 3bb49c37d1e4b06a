//! JumpStart and project templates in the console (seed 000): a user's status, read with the
//! calls `rolewright jumpstart status` makes (as the signed-in principal, so a principal who may
//! not read them sees the denial, not the state) and decided by the same
//! [`rolewright_catalog::jumpstart::evaluate`]; and the enabling, one user at onboarding or all
//! users of a domain, run as a [`crate::job`] with the calls and the order of
//! `rolewright jumpstart enable`: the portfolio switch, the two Service Catalog roles, then one
//! association per distinct execution role.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Response;
use maud::html;
use rolewright_catalog::jumpstart::{
    self as js, Account, LAUNCH_ROLE, LAUNCH_ROLE_POLICY_ARN, LAUNCH_ROLE_TRUST, Principals,
    ROLE_PATH, SAGEMAKER_PORTFOLIO, SAGEMAKER_PROVIDER, USE_ROLE, USE_ROLE_POLICY,
    USE_ROLE_POLICY_DOCUMENT, UserStatus,
};
use rolewright_server::error::ApiError;
use serde_json::{Value, json};

use crate::Console;
use crate::call::Principal;
use crate::job::Progress;
use crate::page;
use crate::session::SignedForm;
use crate::studio::{all_pages, profile_link, s};
use crate::xml;

/// How many times the imported portfolio is looked for after the switch is turned on, a
/// tenth of a second apart.
const PORTFOLIO_TRIES: usize = 100;

fn strings(value: &Value) -> Option<Vec<String>> {
    value.as_array().map(|list| {
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

fn non_empty(value: &Value) -> Option<String> {
    value.as_str().filter(|t| !t.is_empty()).map(str::to_string)
}

/// A domain as `DescribeDomain` answers it, in the terms of the decision.
pub fn domain_of(id: &str, region: &str, described: &Value) -> js::Domain {
    let defaults = &described["DefaultUserSettings"];
    js::Domain {
        id: id.to_string(),
        name: s(described, "DomainName"),
        region: region.to_string(),
        default_role: non_empty(&defaults["ExecutionRole"]),
        default_hidden: strings(&defaults["StudioWebPortalSettings"]["HiddenMlTools"])
            .unwrap_or_default(),
    }
}

/// A user profile as `DescribeUserProfile` answers it.
pub fn profile_of(described: &Value) -> js::Profile {
    let settings = &described["UserSettings"];
    js::Profile {
        name: s(described, "UserProfileName"),
        own_role: non_empty(&settings["ExecutionRole"]),
        own_hidden: strings(&settings["StudioWebPortalSettings"]["HiddenMlTools"]),
    }
}

async fn find_portfolio(principal: &Principal<'_>) -> Result<Option<js::Portfolio>, ApiError> {
    let shares = all_pages(
        principal,
        "servicecatalog",
        "ListAcceptedPortfolioShares",
        json!({"PortfolioShareType": "IMPORTED", "PageSize": 20}),
        "PortfolioDetails",
    )
    .await?;
    Ok(shares
        .iter()
        .find(|p| {
            s(p, "ProviderName") == SAGEMAKER_PROVIDER || s(p, "DisplayName") == SAGEMAKER_PORTFOLIO
        })
        .map(|p| js::Portfolio {
            id: s(p, "Id"),
            name: s(p, "DisplayName"),
        }))
}

async fn list_principals(
    principal: &Principal<'_>,
    portfolio: &str,
) -> Result<Principals, ApiError> {
    let listed = all_pages(
        principal,
        "servicecatalog",
        "ListPrincipalsForPortfolio",
        json!({"PortfolioId": portfolio, "PageSize": 20}),
        "Principals",
    )
    .await?;
    let mut principals = Principals::default();
    for p in listed {
        let arn = s(&p, "PrincipalARN");
        if s(&p, "PrincipalType") == "IAM_PATTERN" {
            principals.patterns.push(arn);
        } else {
            principals.exact.insert(arn);
        }
    }
    Ok(principals)
}

async fn role_exists(principal: &Principal<'_>, name: &str) -> Result<bool, ApiError> {
    match principal.iam("GetRole", &[("RoleName", name)]).await {
        Ok(_) => Ok(true),
        Err(e) if e.code == "NoSuchEntity" => Ok(false),
        Err(e) => Err(e),
    }
}

/// The account-wide conditions, read as the principal.
pub async fn read_account(principal: &Principal<'_>) -> Result<Account, ApiError> {
    let status = principal
        .sagemaker("GetSagemakerServicecatalogPortfolioStatus", json!({}))
        .await?;
    let portfolio = find_portfolio(principal).await?;
    let principals = match &portfolio {
        Some(p) => list_principals(principal, &p.id).await?,
        None => Principals::default(),
    };
    Ok(Account {
        switch_on: s(&status, "Status") == "Enabled",
        portfolio,
        principals,
        launch_role: role_exists(principal, LAUNCH_ROLE).await?,
        use_role: role_exists(principal, USE_ROLE).await?,
    })
}

/// Who is in scope of an enabling: one user, or all users of the domain.
#[derive(Clone)]
pub enum Scope {
    /// Every user profile, and the domain's default execution role.
    AllUsers,
    /// One user profile.
    User(String),
}

/// `POST /console/studio/{domain}/jumpstart`: enables JumpStart for all users (`scope=all`)
/// or one (`user=NAME`), as a job.
pub async fn enable(
    State(console): State<Arc<Console>>,
    Path(domain): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let scope = match form.get("user") {
        Some(user) if !user.is_empty() => Scope::User(user.to_string()),
        _ => Scope::AllUsers,
    };
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    page::redirect(&start(&console, &principal, &domain, scope))
}

/// Starts enabling JumpStart for `scope` as `principal`; gives the job page's address.
pub fn start(
    console: &Arc<Console>,
    principal: &Principal<'_>,
    domain: &str,
    scope: Scope,
) -> String {
    let (title, back) = match &scope {
        Scope::AllUsers => (
            format!("Enable JumpStart for all users of {domain}"),
            (
                format!("/console/studio/{}", page::encode_query(domain)),
                format!("Back to domain {domain}"),
            ),
        ),
        Scope::User(name) => (
            format!("Enable JumpStart for {name}"),
            (profile_link(domain, name), format!("Back to {name}")),
        ),
    };
    let (id, progress) = console.jobs.start(&title, &principal.caller.arn, back);
    let (source_ip, host) = principal.origin();
    let caller = principal.caller.clone();
    let console = console.clone();
    let domain = domain.to_string();
    tokio::spawn(async move {
        let principal = Principal::detached(&console, caller, source_ip, host);
        match run(&principal, &domain, &scope, &progress).await {
            Ok(report) => progress.finish(report),
            Err(e) => progress.fail(e),
        }
    });
    format!("/console/jobs/{id}")
}

/// The seed's automation, step by step, each step reported as it is done.
async fn run(
    principal: &Principal<'_>,
    domain_id: &str,
    scope: &Scope,
    progress: &Progress,
) -> Result<maud::Markup, ApiError> {
    let described = principal
        .sagemaker("DescribeDomain", json!({"DomainId": domain_id}))
        .await?;
    let domain = domain_of(domain_id, &principal.region(), &described);
    let names = match scope {
        Scope::User(name) => vec![name.clone()],
        Scope::AllUsers => all_pages(
            principal,
            "sagemaker",
            "ListUserProfiles",
            json!({"DomainIdEquals": domain_id, "MaxResults": 100}),
            "UserProfiles",
        )
        .await?
        .iter()
        .map(|p| s(p, "UserProfileName"))
        .collect(),
    };
    progress.step(format!(
        "Read domain {} ({} user profiles in scope)",
        domain.name,
        names.len()
    ));
    progress.items(names.len());
    let mut profiles = Vec::new();
    for name in &names {
        let described = principal
            .sagemaker(
                "DescribeUserProfile",
                json!({"DomainId": domain_id, "UserProfileName": name}),
            )
            .await?;
        profiles.push(profile_of(&described));
        progress.advance();
    }
    let mut account = read_account(principal).await?;
    let before: Vec<UserStatus> = profiles
        .iter()
        .map(|p| js::evaluate(&domain, p, &account))
        .collect();
    let mut roles: BTreeSet<String> = profiles
        .iter()
        .filter_map(|p| js::effective_role(&domain, p).map(|(r, _)| r))
        .collect();
    if matches!(scope, Scope::AllUsers)
        && let Some(r) = &domain.default_role
    {
        roles.insert(r.clone());
    }

    if !account.switch_on {
        principal
            .sagemaker("EnableSagemakerServicecatalogPortfolio", json!({}))
            .await?;
        account.switch_on = true;
        progress.step("Turned the SageMaker Service Catalog portfolio switch on");
    }
    if account.portfolio.is_none() {
        let mut found = None;
        for _ in 0..PORTFOLIO_TRIES {
            found = find_portfolio(principal).await?;
            if found.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let Some(portfolio) = found else {
            return Err(ApiError::new(
                "PortfolioNotImported",
                500,
                format!(
                    "the SageMaker portfolio (provider `{SAGEMAKER_PROVIDER}`) did not appear in ListAcceptedPortfolioShares after the switch was turned on"
                ),
            ));
        };
        account.principals = list_principals(principal, &portfolio.id).await?;
        account.portfolio = Some(portfolio);
    }
    if !account.launch_role {
        if create_role(
            principal,
            LAUNCH_ROLE,
            LAUNCH_ROLE_TRUST,
            "Service Catalog launches the Amazon SageMaker portfolio's products as this role",
        )
        .await?
        .is_some()
        {
            attach(principal, LAUNCH_ROLE, LAUNCH_ROLE_POLICY_ARN).await?;
        }
        account.launch_role = true;
        progress.step(format!("Created the role {LAUNCH_ROLE}"));
    }
    if !account.use_role {
        if let Some(arn) = create_role(
            principal,
            USE_ROLE,
            &js::use_role_trust(),
            "The resources of the Amazon SageMaker portfolio's products run as this role",
        )
        .await?
        {
            let policy = create_use_policy(principal, &arn).await?;
            attach(principal, USE_ROLE, &policy).await?;
        }
        account.use_role = true;
        progress.step(format!(
            "Created the role {USE_ROLE} with {USE_ROLE_POLICY}"
        ));
    }
    let to_associate: Vec<String> = roles
        .iter()
        .filter(|r| !account.principals.covers(r))
        .cloned()
        .collect();
    let portfolio = account.portfolio.clone().map(|p| p.id).unwrap_or_default();
    progress.items(to_associate.len());
    for role in &to_associate {
        principal
            .servicecatalog(
                "AssociatePrincipalWithPortfolio",
                json!({"PortfolioId": portfolio, "PrincipalARN": role, "PrincipalType": "IAM"}),
            )
            .await?;
        account.principals.exact.insert(role.clone());
        progress.advance();
        progress.step(format!("Associated {role} with the SageMaker portfolio"));
    }
    if to_associate.is_empty() {
        progress.step(
            "Every execution role in scope was already associated with the SageMaker portfolio",
        );
    }
    let after: Vec<UserStatus> = profiles
        .iter()
        .map(|p| js::evaluate(&domain, p, &account))
        .collect();
    Ok(report(domain_id, &before, &after))
}

/// Creates a role under the Service Catalog roles' path; `None` when it exists already.
async fn create_role(
    principal: &Principal<'_>,
    name: &str,
    trust: &str,
    description: &str,
) -> Result<Option<String>, ApiError> {
    match principal
        .iam(
            "CreateRole",
            &[
                ("RoleName", name),
                ("Path", ROLE_PATH),
                ("AssumeRolePolicyDocument", trust),
                ("Description", description),
            ],
        )
        .await
    {
        Ok(answer) => Ok(xml::text(&answer, "Arn")),
        Err(e) if e.code == "EntityAlreadyExists" => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates `1PProductUseRolePolicy` (or finds it made by an earlier setup); gives its ARN.
async fn create_use_policy(principal: &Principal<'_>, role_arn: &str) -> Result<String, ApiError> {
    let account = role_arn.split(':').nth(4).unwrap_or_default();
    let partition = role_arn.split(':').nth(1).unwrap_or("aws");
    let known = format!("arn:{partition}:iam::{account}:policy/{USE_ROLE_POLICY}");
    match principal
        .iam(
            "CreatePolicy",
            &[
                ("PolicyName", USE_ROLE_POLICY),
                ("PolicyDocument", USE_ROLE_POLICY_DOCUMENT),
                (
                    "Description",
                    "What the Amazon SageMaker portfolio's products do as AmazonSageMakerServiceCatalogProductsUseRole",
                ),
            ],
        )
        .await
    {
        Ok(answer) => Ok(xml::text(&answer, "Arn").unwrap_or(known)),
        Err(e) if e.code == "EntityAlreadyExists" => Ok(known),
        Err(e) => Err(e),
    }
}

async fn attach(principal: &Principal<'_>, role: &str, policy: &str) -> Result<(), ApiError> {
    principal
        .iam(
            "AttachRolePolicy",
            &[("RoleName", role), ("PolicyArn", policy)],
        )
        .await
        .map(|_| ())
}

fn report(domain: &str, before: &[UserStatus], after: &[UserStatus]) -> maud::Markup {
    let enabled: Vec<&UserStatus> = before
        .iter()
        .zip(after)
        .filter(|(b, a)| a.fully_enabled() && !b.fully_enabled())
        .map(|(_, a)| a)
        .collect();
    let still: Vec<&UserStatus> = after.iter().filter(|u| !u.fully_enabled()).collect();
    html! {
        h2 { "Report" }
        p id="jumpstart-report" {
            (after.len()) " user profiles in scope: "
            (enabled.len()) " newly enabled, "
            (after.len() - enabled.len() - still.len()) " already enabled, "
            (still.len()) " still disabled."
        }
        h3 { "Enabled now" }
        (page::table(None, &["User profile", "Execution role"], &enabled, html! { "No user was changed." }, |u| html! {
            td { a href=(profile_link(domain, &u.name)) { (u.name) } }
            td { code { (u.role.clone().unwrap_or_default()) } }
        }))
        @if !still.is_empty() {
            h3 { "Still disabled" }
            (page::table(None, &["User profile", "Why"], &still, html! {}, |u| html! {
                td { a href=(profile_link(domain, &u.name)) { (u.name) } }
                td { ul { @for m in &u.missing { li { (m.message()) } } } }
            }))
            p { "Apps and user settings are never touched: a HiddenMlTools that hides JumpStart or Projects is reported, not changed." }
        }
    }
}
