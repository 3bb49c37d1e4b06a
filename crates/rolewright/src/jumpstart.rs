//! `rolewright jumpstart status|enable`: whether SageMaker JumpStart and project templates are
//! open to each user profile of a domain, and the seed's automation that opens them for users
//! with custom execution roles (seed 000), over the AWS wire protocol.
//!
//! A user has JumpStart and project templates when the account's SageMaker Service Catalog
//! portfolio switch is on, its execution role (or the domain's) is a principal of the imported
//! SageMaker portfolio, the portfolio's launch and use roles exist, and
//! `StudioWebPortalSettings.HiddenMlTools` does not hide the tool.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rolewright_client::{
    AwsClient, AwsError, ConfigError, IAM_VERSION, SAGEMAKER_TARGET, SERVICE_CATALOG_TARGET, xml,
};
use serde_json::{Value, json};

use rolewright_catalog::jumpstart::*;

use crate::aws::AwsArgs;
use crate::{Format, exit};

/// How many calls run at once while describing profiles and associating roles.
const WORKERS: usize = 8;
/// From how many items a progress bar is shown.
const PROGRESS_FROM: usize = 20;
/// How long `enable` waits for the switch to read Enabled and the portfolio to be imported.
const SWITCH_WAIT: Duration = Duration::from_secs(120);

// ---- command line -------------------------------------------------------------------------

/// `rolewright jumpstart ...`.
#[derive(Subcommand)]
pub enum JumpstartCommand {
    /// Show, per user profile of a domain, whether JumpStart and project templates are enabled
    /// and, when not, which condition is missing.
    ///
    /// The conditions: the account's SageMaker Service Catalog portfolio switch is on; the
    /// profile's execution role (or the domain's, when it has none) is associated with the
    /// imported SageMaker portfolio; the roles AmazonSageMakerServiceCatalogProductsLaunchRole
    /// and ...UseRole exist; StudioWebPortalSettings.HiddenMlTools (the profile's, else the
    /// domain's default) hides neither JumpStart nor Projects.
    ///
    /// --format json prints one document:
    /// `{"domain":{"id","name","region","executionRole"},
    /// "account":{"portfolioSwitch":"Enabled|Disabled","portfolio":{"id","name"}|null,
    /// "launchRole":{"name","exists"},"useRole":{"name","exists"}},
    /// "users":[{"name","executionRole","executionRoleFrom":"user|domain|null","jumpstart",
    /// "projects","missing":[{"code","message"}]}],
    /// "summary":{"users","jumpstartEnabled","projectsEnabled"}}`.
    /// Codes: portfolio-disabled, portfolio-not-imported, no-execution-role,
    /// role-not-associated, launch-role-missing, use-role-missing, jumpstart-hidden,
    /// projects-hidden.
    ///
    /// Exits 0 with the report, 1 on an error (unknown domain, no credentials), 2 when AWS
    /// denies a call (AWS's message is printed), 3 on input AWS rejects.
    #[command(
        after_help = "Example:\n  rolewright jumpstart status --domain d-abc123def456 --endpoint-url http://127.0.0.1:4566"
    )]
    Status(StatusArgs),
    /// Enable JumpStart and project templates for all users of a domain (retrofit) or one
    /// user (onboarding): turns the portfolio switch on, creates the two Service Catalog roles
    /// when missing, and associates each distinct execution role with the SageMaker portfolio
    /// once.
    ///
    /// The roles are created as the seed's template does:
    /// AmazonSageMakerServiceCatalogProductsLaunchRole (path /service-role/, trusted by
    /// servicecatalog.amazonaws.com, AWS managed policy
    /// AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy) and
    /// AmazonSageMakerServiceCatalogProductsUseRole (path /service-role/, trusted by the
    /// services the products run on, customer managed policy 1PProductUseRolePolicy, created
    /// with it). With --all-users the domain's default execution role is associated too.
    ///
    /// Idempotent: what is already in place is left alone, and a second run reports nothing to
    /// change. Never touches apps or user settings: a HiddenMlTools that hides JumpStart or
    /// Projects is reported, not changed. --dry-run prints the plan and changes nothing. A
    /// progress bar is shown on standard error for large domains (not when standard error is
    /// not a terminal, nor with NO_COLOR).
    ///
    /// --format json prints one document:
    /// `{"domain":{...},"dryRun","changed","switchTurnedOn","rolesCreated":[NAME],
    /// "policiesCreated":[NAME],"rolesAssociated":[ARN],"portfolio":{"id","name"}|null,
    /// "usersInScope","usersEnabled":[NAME],"stillDisabled":[{"name","jumpstart","projects",
    /// "missing":[{"code","message"}]}],"notChanged":[TEXT]}`.
    ///
    /// `usersEnabled` names the users in scope that now have both JumpStart and project
    /// templates and did not before; `stillDisabled` those that lack either, and why. With
    /// --dry-run the lists say what would be done.
    ///
    /// Exits 0 with the report, 1 on an error (unknown domain or user, no credentials), 2 when
    /// AWS denies a call (AWS's message is printed), 3 on input AWS rejects.
    #[command(
        after_help = "Examples:\n  rolewright jumpstart enable --domain d-abc123def456 --all-users\n  rolewright jumpstart enable --domain d-abc123def456 --user alice --dry-run"
    )]
    Enable(EnableArgs),
}

/// The arguments of `jumpstart status`.
#[derive(Args)]
pub struct StatusArgs {
    /// The SageMaker domain id (`d-...`).
    #[arg(long, value_name = "ID")]
    domain: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[command(flatten)]
    aws: AwsArgs,
}

/// The arguments of `jumpstart enable`.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["all_users", "user"])))]
pub struct EnableArgs {
    /// The SageMaker domain id (`d-...`).
    #[arg(long, value_name = "ID")]
    domain: String,
    /// Every user profile of the domain, and the domain's default execution role.
    #[arg(long)]
    all_users: bool,
    /// One user profile (at onboarding).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Print what would be changed, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[command(flatten)]
    aws: AwsArgs,
}

/// Runs a `jumpstart` command and returns its exit code.
pub fn run(command: &JumpstartCommand) -> u8 {
    let result = match command {
        JumpstartCommand::Status(args) => status(args),
        JumpstartCommand::Enable(args) => enable(args),
    };
    match result {
        Ok(()) => exit::OK,
        Err(failure) => {
            eprintln!("error: {failure}");
            if let Some(help) = failure.help() {
                eprintln!("help: {help}");
            }
            failure.exit_code()
        }
    }
}

// ---- failures -----------------------------------------------------------------------------

/// Why a command could not finish.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Config(Box<ConfigError>),
    #[error("{0}")]
    Aws(Box<AwsError>),
    #[error("domain `{domain}` not found in region {region} ({source})")]
    DomainNotFound {
        domain: String,
        region: String,
        source: Box<AwsError>,
    },
    #[error("user profile `{user}` not found in domain `{domain}` ({source})")]
    UserNotFound {
        user: String,
        domain: String,
        source: Box<AwsError>,
    },
    #[error("{0}")]
    Timeout(String),
}

impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Self {
        Failure::Aws(Box::new(e))
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Config(Box::new(e))
    }
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Aws(e) if e.is_access_denied() => exit::DENIED,
            Failure::Aws(e) if e.code == "ValidationException" => exit::INVALID,
            _ => exit::ERROR,
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            Failure::Aws(e)
                if matches!(
                    e.code.as_str(),
                    "InvalidClientTokenId"
                        | "UnrecognizedClientException"
                        | "SignatureDoesNotMatch"
                        | "InvalidSignatureException"
                        | "ExpiredToken"
                        | "ExpiredTokenException"
                ) =>
            {
                Some(
                    "the keys were refused: check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the \
                     profile (--profile, AWS_PROFILE) and that they belong to this endpoint"
                        .into(),
                )
            }
            Failure::Aws(e) if e.is_access_denied() => Some(format!(
                "the caller needs `{}` (rolewright jumpstart reads SageMaker, Service Catalog \
                 and IAM; enable also writes them)",
                e.operation
            )),
            _ => None,
        }
    }
}

// ---- calls --------------------------------------------------------------------------------

fn sagemaker(client: &AwsClient, operation: &str, input: &Value) -> Result<Value, AwsError> {
    client.json_call("sagemaker", SAGEMAKER_TARGET, operation, input)
}

fn catalog(client: &AwsClient, operation: &str, input: &Value) -> Result<Value, AwsError> {
    client.json_call("servicecatalog", SERVICE_CATALOG_TARGET, operation, input)
}

fn iam(client: &AwsClient, action: &str, params: &[(&str, &str)]) -> Result<String, AwsError> {
    client.query_call("iam", action, IAM_VERSION, params)
}

fn text(value: &Value, path: &[&str]) -> Option<String> {
    let mut v = value;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    value.and_then(Value::as_array).map(|list| {
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

fn describe_domain(client: &AwsClient, id: &str) -> Result<Domain, Failure> {
    let out = sagemaker(client, "DescribeDomain", &json!({"DomainId": id})).map_err(|e| {
        if e.is_not_found() {
            Failure::DomainNotFound {
                domain: id.to_string(),
                region: client.config().region.clone(),
                source: Box::new(e),
            }
        } else {
            e.into()
        }
    })?;
    let defaults = out.get("DefaultUserSettings");
    Ok(Domain {
        id: id.to_string(),
        name: text(&out, &["DomainName"]).unwrap_or_default(),
        region: client.config().region.clone(),
        default_role: defaults.and_then(|d| text(d, &["ExecutionRole"])),
        default_hidden: strings(
            defaults
                .and_then(|d| d.get("StudioWebPortalSettings"))
                .and_then(|s| s.get("HiddenMlTools")),
        )
        .unwrap_or_default(),
    })
}

fn list_profile_names(client: &AwsClient, domain: &str) -> Result<Vec<String>, Failure> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"DomainIdEquals": domain, "MaxResults": 100});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let out = sagemaker(client, "ListUserProfiles", &input)?;
        for p in out
            .get("UserProfiles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = text(p, &["UserProfileName"]) {
                names.push(name);
            }
        }
        token = text(&out, &["NextToken"]);
        if token.is_none() {
            return Ok(names);
        }
    }
}

fn describe_profile(client: &AwsClient, domain: &str, name: &str) -> Result<Profile, Failure> {
    let out = sagemaker(
        client,
        "DescribeUserProfile",
        &json!({"DomainId": domain, "UserProfileName": name}),
    )
    .map_err(|e| {
        if e.is_not_found() {
            Failure::UserNotFound {
                user: name.to_string(),
                domain: domain.to_string(),
                source: Box::new(e),
            }
        } else {
            e.into()
        }
    })?;
    let settings = out.get("UserSettings");
    Ok(Profile {
        name: name.to_string(),
        own_role: settings.and_then(|s| text(s, &["ExecutionRole"])),
        own_hidden: strings(
            settings
                .and_then(|s| s.get("StudioWebPortalSettings"))
                .and_then(|s| s.get("HiddenMlTools")),
        ),
    })
}

/// Runs `work` on every item with a few workers, in the items' order, stopping at the first
/// failure; `progress` advances once per item.
fn concurrently<T: Sync, R: Send>(
    items: &[T],
    progress: &ProgressBar,
    work: impl Fn(&T) -> Result<R, Failure> + Sync,
) -> Result<Vec<R>, Failure> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<R, Failure>>>> =
        Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(items.len()) {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = work(item);
                    if result.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    progress.inc(1);
                    let mut all = results.lock().unwrap_or_else(|p| p.into_inner());
                    all[i] = Some(result);
                }
            });
        }
    });
    let all = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut out = Vec::with_capacity(items.len());
    let mut first_failure = None;
    for result in all {
        match result {
            Some(Ok(r)) => out.push(r),
            Some(Err(e)) => {
                first_failure.get_or_insert(e);
            }
            None => {}
        }
    }
    match first_failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn progress_bar(len: usize, message: &'static str) -> ProgressBar {
    let show = len >= PROGRESS_FROM
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stderr().is_terminal();
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg:24} [{bar:40}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

fn describe_profiles(
    client: &AwsClient,
    domain: &str,
    names: &[String],
) -> Result<Vec<Profile>, Failure> {
    let bar = progress_bar(names.len(), "describing user profiles");
    let result = concurrently(names, &bar, |name| describe_profile(client, domain, name));
    bar.finish_and_clear();
    result
}

fn portfolio_status(client: &AwsClient) -> Result<bool, Failure> {
    let out = sagemaker(
        client,
        "GetSagemakerServicecatalogPortfolioStatus",
        &json!({}),
    )?;
    Ok(text(&out, &["Status"]).as_deref() == Some("Enabled"))
}

fn find_portfolio(client: &AwsClient) -> Result<Option<Portfolio>, Failure> {
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"PortfolioShareType": "IMPORTED", "PageSize": 20});
        if let Some(t) = &token {
            input["PageToken"] = json!(t);
        }
        let out = catalog(client, "ListAcceptedPortfolioShares", &input)?;
        let found = out
            .get("PortfolioDetails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| {
                text(p, &["ProviderName"]).as_deref() == Some(SAGEMAKER_PROVIDER)
                    || text(p, &["DisplayName"]).as_deref() == Some(SAGEMAKER_PORTFOLIO)
            });
        if let Some(p) = found {
            return Ok(Some(Portfolio {
                id: text(p, &["Id"]).unwrap_or_default(),
                name: text(p, &["DisplayName"]).unwrap_or_default(),
            }));
        }
        token = text(&out, &["NextPageToken"]);
        if token.is_none() {
            return Ok(None);
        }
    }
}

fn list_principals(client: &AwsClient, portfolio: &str) -> Result<Principals, Failure> {
    let mut principals = Principals::default();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"PortfolioId": portfolio, "PageSize": 20});
        if let Some(t) = &token {
            input["PageToken"] = json!(t);
        }
        let out = catalog(client, "ListPrincipalsForPortfolio", &input)?;
        for p in out
            .get("Principals")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(arn) = text(p, &["PrincipalARN"]) else {
                continue;
            };
            if text(p, &["PrincipalType"]).as_deref() == Some("IAM_PATTERN") {
                principals.patterns.push(arn);
            } else {
                principals.exact.insert(arn);
            }
        }
        token = text(&out, &["NextPageToken"]);
        if token.is_none() {
            return Ok(principals);
        }
    }
}

/// The role's ARN, or `None` when it does not exist.
fn get_role(client: &AwsClient, name: &str) -> Result<Option<String>, Failure> {
    match iam(client, "GetRole", &[("RoleName", name)]) {
        Ok(body) => Ok(xml::first_text(&body, "Arn")),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn read_account(client: &AwsClient) -> Result<Account, Failure> {
    let switch_on = portfolio_status(client)?;
    let portfolio = find_portfolio(client)?;
    let principals = match &portfolio {
        Some(p) => list_principals(client, &p.id)?,
        None => Principals::default(),
    };
    Ok(Account {
        switch_on,
        portfolio,
        principals,
        launch_role: get_role(client, LAUNCH_ROLE)?.is_some(),
        use_role: get_role(client, USE_ROLE)?.is_some(),
    })
}

fn domain_json(domain: &Domain) -> Value {
    json!({
        "id": domain.id,
        "name": domain.name,
        "region": domain.region,
        "executionRole": domain.default_role,
    })
}

fn portfolio_json(portfolio: Option<&Portfolio>) -> Value {
    portfolio.map_or(Value::Null, |p| json!({"id": p.id, "name": p.name}))
}

fn print_json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: {e}"),
    }
}

fn yes_no(open: bool) -> &'static str {
    if open { "yes" } else { "no" }
}

fn print_user(u: &UserStatus) {
    let role = match (&u.role, u.role_from) {
        (Some(r), Some(Origin::Domain)) => format!("{r} (the domain's)"),
        (Some(r), _) => r.clone(),
        (None, _) => "none".into(),
    };
    println!(
        "  {}: JumpStart {}, Projects {}; execution role {role}",
        u.name,
        yes_no(u.jumpstart),
        yes_no(u.projects)
    );
    for m in &u.missing {
        println!("    - {}", m.message());
    }
}

// ---- status -------------------------------------------------------------------------------

fn status(args: &StatusArgs) -> Result<(), Failure> {
    let client = args.aws.client(WORKERS)?;
    let domain = describe_domain(&client, &args.domain)?;
    let names = list_profile_names(&client, &domain.id)?;
    let profiles = describe_profiles(&client, &domain.id, &names)?;
    let account = read_account(&client)?;
    let users: Vec<UserStatus> = profiles
        .iter()
        .map(|p| evaluate(&domain, p, &account))
        .collect();
    let jumpstart = users.iter().filter(|u| u.jumpstart).count();
    let projects = users.iter().filter(|u| u.projects).count();
    match args.format {
        Format::Json => print_json(&json!({
            "domain": domain_json(&domain),
            "account": {
                "portfolioSwitch": if account.switch_on { "Enabled" } else { "Disabled" },
                "portfolio": portfolio_json(account.portfolio.as_ref()),
                "launchRole": {"name": LAUNCH_ROLE, "exists": account.launch_role},
                "useRole": {"name": USE_ROLE, "exists": account.use_role},
            },
            "users": users.iter().map(UserStatus::to_json).collect::<Vec<_>>(),
            "summary": {
                "users": users.len(),
                "jumpstartEnabled": jumpstart,
                "projectsEnabled": projects,
            },
        })),
        Format::Human => {
            println!(
                "domain {} ({}) in {}, {} user profile{}",
                domain.id,
                domain.name,
                domain.region,
                users.len(),
                if users.len() == 1 { "" } else { "s" }
            );
            println!(
                "portfolio switch: {}",
                if account.switch_on { "on" } else { "off" }
            );
            match &account.portfolio {
                Some(p) => println!("SageMaker portfolio: {} ({})", p.id, p.name),
                None => println!("SageMaker portfolio: not imported"),
            }
            for (name, exists) in [
                (LAUNCH_ROLE, account.launch_role),
                (USE_ROLE, account.use_role),
            ] {
                println!("{name}: {}", if exists { "exists" } else { "missing" });
            }
            println!("users:");
            for u in &users {
                print_user(u);
            }
            println!(
                "{jumpstart} of {} users have JumpStart, {projects} have project templates",
                users.len()
            );
        }
    }
    Ok(())
}

// ---- enable -------------------------------------------------------------------------------

/// What `enable` changed, or would change.
#[derive(Debug, Default)]
struct Changes {
    switch_turned_on: bool,
    roles_created: Vec<&'static str>,
    policies_created: Vec<&'static str>,
    roles_associated: Vec<String>,
}

impl Changes {
    /// What was done, in one line.
    fn summary(&self) -> String {
        let mut done = Vec::new();
        if self.switch_turned_on {
            done.push("turned the portfolio switch on".to_string());
        }
        if !self.roles_created.is_empty() {
            done.push(format!("created {}", self.roles_created.join(" and ")));
        }
        if !self.roles_associated.is_empty() {
            done.push(format!(
                "associated {} execution role{}",
                self.roles_associated.len(),
                if self.roles_associated.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ));
        }
        done.join(", ")
    }

    fn any(&self) -> bool {
        self.switch_turned_on
            || !self.roles_created.is_empty()
            || !self.policies_created.is_empty()
            || !self.roles_associated.is_empty()
    }
}

fn enable(args: &EnableArgs) -> Result<(), Failure> {
    let client = args.aws.client(WORKERS)?;
    let domain = describe_domain(&client, &args.domain)?;
    let profiles = match &args.user {
        Some(name) => vec![describe_profile(&client, &domain.id, name)?],
        None => {
            let names = list_profile_names(&client, &domain.id)?;
            describe_profiles(&client, &domain.id, &names)?
        }
    };
    let mut account = read_account(&client)?;
    let before: Vec<UserStatus> = profiles
        .iter()
        .map(|p| evaluate(&domain, p, &account))
        .collect();

    // Every distinct execution role in scope, in a stable order.
    let mut roles: BTreeSet<String> = profiles
        .iter()
        .filter_map(|p| effective_role(&domain, p).map(|(r, _)| r))
        .collect();
    if args.all_users
        && let Some(r) = &domain.default_role
    {
        roles.insert(r.clone());
    }

    let mut changes = Changes::default();
    if let Err(failure) = apply(&client, args, &mut account, &roles, &mut changes) {
        if !args.dry_run && changes.any() {
            eprintln!("note: before it failed, enable had {}", changes.summary());
        }
        return Err(failure);
    }
    // Whatever the switch's state was, the portfolio is (or will be) imported by now.
    let mut after_account = account.clone();
    if after_account.portfolio.is_none() {
        after_account.portfolio = Some(Portfolio {
            id: String::new(),
            name: SAGEMAKER_PORTFOLIO.into(),
        });
    }
    let after: Vec<UserStatus> = profiles
        .iter()
        .map(|p| evaluate(&domain, p, &after_account))
        .collect();
    report(args, &domain, &account, &changes, &before, &after);
    Ok(())
}

/// Makes (or, in a dry run, plans) every change, recording each in `changes` as it is made,
/// and keeps `account` up to date with them.
fn apply(
    client: &AwsClient,
    args: &EnableArgs,
    account: &mut Account,
    roles: &BTreeSet<String>,
    changes: &mut Changes,
) -> Result<(), Failure> {
    if !account.switch_on {
        if !args.dry_run {
            turn_switch_on(client)?;
        }
        changes.switch_turned_on = true;
        account.switch_on = true;
    }
    if account.portfolio.is_none() && !args.dry_run {
        let portfolio = wait_for_portfolio(client)?;
        account.principals = list_principals(client, &portfolio.id)?;
        account.portfolio = Some(portfolio);
    }
    if !account.launch_role {
        if !args.dry_run {
            create_launch_role(client)?;
        }
        changes.roles_created.push(LAUNCH_ROLE);
        account.launch_role = true;
    }
    if !account.use_role {
        // A dry run does not know whether the policy exists; the template creates it.
        let policy_created = args.dry_run || create_use_role(client)?;
        changes.roles_created.push(USE_ROLE);
        if policy_created {
            changes.policies_created.push(USE_ROLE_POLICY);
        }
        account.use_role = true;
    }
    let to_associate: Vec<String> = roles
        .iter()
        .filter(|r| !account.principals.covers(r))
        .cloned()
        .collect();
    if args.dry_run {
        for role in &to_associate {
            account.principals.exact.insert(role.clone());
        }
        changes.roles_associated = to_associate;
        return Ok(());
    }
    let Some(portfolio) = account.portfolio.clone() else {
        return Ok(());
    };
    let done = Mutex::new(Vec::new());
    let bar = progress_bar(to_associate.len(), "associating roles");
    let result = concurrently(&to_associate, &bar, |role| {
        catalog(
            client,
            "AssociatePrincipalWithPortfolio",
            &json!({"PortfolioId": portfolio.id, "PrincipalARN": role, "PrincipalType": "IAM"}),
        )?;
        done.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(role.clone());
        Ok(())
    });
    bar.finish_and_clear();
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort();
    for role in &done {
        account.principals.exact.insert(role.clone());
    }
    changes.roles_associated = done;
    result.map(|_| ())
}

fn turn_switch_on(client: &AwsClient) -> Result<(), Failure> {
    sagemaker(client, "EnableSagemakerServicecatalogPortfolio", &json!({}))?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    while !portfolio_status(client)? {
        if started.elapsed() > SWITCH_WAIT {
            return Err(Failure::Timeout(format!(
                "the SageMaker Service Catalog portfolio switch did not read Enabled within {} s \
                 of EnableSagemakerServicecatalogPortfolio",
                SWITCH_WAIT.as_secs()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(5));
    }
    Ok(())
}

fn wait_for_portfolio(client: &AwsClient) -> Result<Portfolio, Failure> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        if let Some(p) = find_portfolio(client)? {
            return Ok(p);
        }
        if started.elapsed() > SWITCH_WAIT {
            return Err(Failure::Timeout(format!(
                "the SageMaker portfolio (provider `{SAGEMAKER_PROVIDER}`) did not appear in \
                 ListAcceptedPortfolioShares within {} s of the switch reading Enabled",
                SWITCH_WAIT.as_secs()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// Creates a role; `Ok(None)` when it already exists (a concurrent run made it), else its ARN.
fn create_role(
    client: &AwsClient,
    name: &str,
    trust: &str,
    description: &str,
) -> Result<Option<String>, Failure> {
    match iam(
        client,
        "CreateRole",
        &[
            ("RoleName", name),
            ("Path", ROLE_PATH),
            ("AssumeRolePolicyDocument", trust),
            ("Description", description),
        ],
    ) {
        Ok(body) => Ok(xml::first_text(&body, "Arn")),
        Err(e) if e.code == "EntityAlreadyExists" => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn attach(client: &AwsClient, role: &str, policy_arn: &str) -> Result<(), Failure> {
    iam(
        client,
        "AttachRolePolicy",
        &[("RoleName", role), ("PolicyArn", policy_arn)],
    )?;
    Ok(())
}

fn create_launch_role(client: &AwsClient) -> Result<(), Failure> {
    if create_role(
        client,
        LAUNCH_ROLE,
        LAUNCH_ROLE_TRUST,
        "Service Catalog launches the Amazon SageMaker portfolio's products as this role",
    )?
    .is_some()
    {
        attach(client, LAUNCH_ROLE, LAUNCH_ROLE_POLICY_ARN)?;
    }
    Ok(())
}

/// Creates the use role with its policy; whether the policy was created (it may exist from
/// an earlier setup, and is then attached as it is).
fn create_use_role(client: &AwsClient) -> Result<bool, Failure> {
    let Some(role_arn) = create_role(
        client,
        USE_ROLE,
        &use_role_trust(),
        "The resources of the Amazon SageMaker portfolio's products run as this role",
    )?
    else {
        return Ok(false);
    };
    let account = role_arn.split(':').nth(4).unwrap_or_default().to_string();
    let partition = role_arn.split(':').nth(1).unwrap_or("aws").to_string();
    let (policy_arn, created) = match iam(
        client,
        "CreatePolicy",
        &[
            ("PolicyName", USE_ROLE_POLICY),
            ("PolicyDocument", USE_ROLE_POLICY_DOCUMENT),
            (
                "Description",
                "What the Amazon SageMaker portfolio's products do as AmazonSageMakerServiceCatalogProductsUseRole",
            ),
        ],
    ) {
        Ok(body) => (
            xml::first_text(&body, "Arn").unwrap_or_else(|| {
                format!("arn:{partition}:iam::{account}:policy/{USE_ROLE_POLICY}")
            }),
            true,
        ),
        Err(e) if e.code == "EntityAlreadyExists" => (
            format!("arn:{partition}:iam::{account}:policy/{USE_ROLE_POLICY}"),
            false,
        ),
        Err(e) => return Err(e.into()),
    };
    attach(client, USE_ROLE, &policy_arn)?;
    Ok(created)
}

fn report(
    args: &EnableArgs,
    domain: &Domain,
    account: &Account,
    changes: &Changes,
    before: &[UserStatus],
    after: &[UserStatus],
) {
    let enabled: Vec<&str> = before
        .iter()
        .zip(after)
        .filter(|(b, a)| a.fully_enabled() && !b.fully_enabled())
        .map(|(_, a)| a.name.as_str())
        .collect();
    let still: Vec<&UserStatus> = after.iter().filter(|u| !u.fully_enabled()).collect();
    let hidden_note = still.iter().any(|u| {
        u.missing
            .iter()
            .any(|m| matches!(m, Missing::Hidden { .. }))
    });
    let mut not_changed = vec!["apps and user settings are never touched".to_string()];
    if hidden_note {
        not_changed.push(
            "StudioWebPortalSettings.HiddenMlTools is reported, not changed: edit the profile \
             (UpdateUserProfile) or the domain's defaults to show JumpStart or Projects"
                .to_string(),
        );
    }
    match args.format {
        Format::Json => print_json(&json!({
            "domain": domain_json(domain),
            "dryRun": args.dry_run,
            "changed": changes.any() && !args.dry_run,
            "switchTurnedOn": changes.switch_turned_on,
            "rolesCreated": changes.roles_created,
            "policiesCreated": changes.policies_created,
            "rolesAssociated": changes.roles_associated,
            "portfolio": portfolio_json(account.portfolio.as_ref()),
            "usersInScope": after.len(),
            "usersEnabled": enabled,
            "stillDisabled": still.iter().map(|u| json!({
                "name": u.name,
                "jumpstart": u.jumpstart,
                "projects": u.projects,
                "missing": u.missing.iter().map(Missing::to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "notChanged": not_changed,
        })),
        Format::Human => {
            let scope = match &args.user {
                Some(u) => format!("user profile `{u}`"),
                None => format!(
                    "{} user profile{}",
                    after.len(),
                    if after.len() == 1 { "" } else { "s" }
                ),
            };
            println!(
                "domain {} ({}) in {}, {scope}",
                domain.id, domain.name, domain.region
            );
            let (lead, on, create, associate) = if args.dry_run {
                (
                    "dry run, nothing was changed; would:",
                    "turn on",
                    "create",
                    "associate",
                )
            } else {
                ("changed:", "turned on", "created", "associated")
            };
            if !changes.any() {
                println!("nothing to change: everything enable does is already in place");
            } else {
                println!("{lead}");
                if changes.switch_turned_on {
                    println!(
                        "  {on} the SageMaker Service Catalog portfolio switch \
                         (EnableSagemakerServicecatalogPortfolio)"
                    );
                }
                for role in &changes.roles_created {
                    let what = if *role == LAUNCH_ROLE {
                        "trusted by servicecatalog.amazonaws.com, with \
                         AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy"
                            .to_string()
                    } else {
                        format!(
                            "trusted by the products' services, with {} customer managed \
                             policy {USE_ROLE_POLICY}",
                            if changes.policies_created.contains(&USE_ROLE_POLICY) {
                                "a new"
                            } else {
                                "the existing"
                            }
                        )
                    };
                    println!("  {create} role {ROLE_PATH}{role} ({what})");
                }
                if !changes.roles_associated.is_empty() {
                    let portfolio = match account.portfolio.as_ref() {
                        Some(p) => format!("{} ({})", p.id, p.name),
                        None => "the SageMaker portfolio, once imported".into(),
                    };
                    println!(
                        "  {associate} {} execution role{} with {portfolio}:",
                        changes.roles_associated.len(),
                        if changes.roles_associated.len() == 1 {
                            ""
                        } else {
                            "s"
                        }
                    );
                    for role in &changes.roles_associated {
                        println!("    {role}");
                    }
                }
            }
            let verb = if args.dry_run { "would be" } else { "now" };
            if enabled.is_empty() {
                println!("users {verb} enabled: none");
            } else {
                println!(
                    "users {verb} enabled: {} ({})",
                    enabled.len(),
                    enabled.join(", ")
                );
            }
            if still.is_empty() {
                println!("still disabled: none");
            } else {
                println!("still disabled: {}", still.len());
                for u in &still {
                    print_user(u);
                }
            }
            for note in &not_changed {
                println!("note: {note}");
            }
        }
    }
}
