//! SageMaker Studio over JSON 1.1 (`X-Amz-Target: SageMaker.*`): domains, user profiles, tags
//! and the account's Service Catalog portfolio switch. Every operation is authorized by the
//! engine on the ARN the Service Authorization Reference gives, with the request's tags and
//! SageMaker condition keys, and checks `iam:PassRole` on every execution role it is given.

use serde_json::{Map, Value, json};

use crate::authz::request_tags;
use crate::error::ApiError;
use crate::ids;
use crate::model::{App, Change, Domain, Space, State, Tag, UserProfile, kind};
use crate::operation::operation_table;
use crate::server::{Cx, Reply};
use crate::wire::json::timestamp;
use crate::wire::members::Members;

mod app;
mod domain;
mod jumpstart;
mod space;
mod tag;
mod user_profile;

use self::app::*;
use self::domain::*;
use self::jumpstart::*;
use self::space::*;
use self::tag::*;
use self::user_profile::*;

pub use self::app::app_status;
pub use self::jumpstart::{JumpStartStatus, SERVICE_CATALOG_ROLES, jumpstart_status};

/// The service principal SageMaker passes execution roles to.
pub const SERVICE_PRINCIPAL: &str = "sagemaker.amazonaws.com";

/// How long a new domain or app reports `Pending` before `InService`, and a deleted app
/// `Deleting` before `Deleted`, so that scripts which poll see the transitions they wait for.
const DOMAIN_PENDING_MS: i64 = 1000;
/// See [`DOMAIN_PENDING_MS`].
const APP_TRANSITION_MS: i64 = 1000;

operation_table! {
    service "sagemaker";
    async fn run(cx, input: Members) else unknown_operation;
    "CreateDomain" on "domain" => create_domain(cx, input).await,
    "DescribeDomain" on "domain" => describe_domain(cx, input),
    "ListDomains" on "*" => list_domains(cx, input),
    "UpdateDomain" on "domain" => update_domain(cx, input).await,
    "DeleteDomain" on "domain" => delete_domain(cx, input).await,
    "CreateUserProfile" on "user-profile" => create_user_profile(cx, input).await,
    "DescribeUserProfile" on "user-profile" => describe_user_profile(cx, input),
    "ListUserProfiles" on "*" => list_user_profiles(cx, input),
    "UpdateUserProfile" on "user-profile" => update_user_profile(cx, input).await,
    "DeleteUserProfile" on "user-profile" => delete_user_profile(cx, input).await,
    "CreateSpace" on "space" => create_space(cx, input).await,
    "DescribeSpace" on "space" => describe_space(cx, input),
    "ListSpaces" on "*" => list_spaces(cx, input),
    "UpdateSpace" on "space" => update_space(cx, input).await,
    "DeleteSpace" on "space" => delete_space(cx, input).await,
    "CreateApp" on "app" => create_app(cx, input).await,
    "DescribeApp" on "app" => describe_app(cx, input),
    "ListApps" on "*" => list_apps(cx, input),
    "DeleteApp" on "app" => delete_app(cx, input).await,
    "CreatePresignedDomainUrl" on "user-profile" => create_presigned_domain_url(cx, input),
    "AddTags" on "domain|user-profile|space|app" => add_tags(cx, input).await,
    "ListTags" on "domain|user-profile|space|app" => list_tags(cx, input),
    "DeleteTags" on "domain|user-profile|space|app" => delete_tags(cx, input).await,
    "EnableSagemakerServicecatalogPortfolio" on "*" => set_portfolio(cx, true).await,
    "DisableSagemakerServicecatalogPortfolio" on "*" => set_portfolio(cx, false).await,
    "GetSagemakerServicecatalogPortfolioStatus" on "*" => portfolio_status(cx),
}

fn unknown_operation(operation: &str) -> ApiError {
    ApiError::new(
        "UnknownOperationException",
        400,
        format!("The operation SageMaker.{operation} is not served by rolewright"),
    )
}

/// Runs one SageMaker operation on its JSON input: every constraint of the model is checked
/// first, with AWS's texts, so that the handlers read valid input through [`Members`].
pub async fn dispatch(cx: &mut Cx<'_>, operation: &str, input: Value) -> Result<Reply, ApiError> {
    if !OPERATIONS.iter().any(|o| o.name == operation) {
        return Err(unknown_operation(operation));
    }
    crate::service_model::ServiceModel::sagemaker().validate_input(operation, &input)?;
    run(cx, operation, Members::new(input)).await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn domain_arn(state: &State, region: &str, id: &str) -> String {
    format!("arn:aws:sagemaker:{region}:{}:domain/{id}", state.account)
}

fn user_profile_arn(state: &State, region: &str, domain: &str, name: &str) -> String {
    format!(
        "arn:aws:sagemaker:{region}:{}:user-profile/{domain}/{name}",
        state.account
    )
}

fn profile_key(domain: &str, name: &str) -> String {
    format!("{domain}/{name}")
}

fn not_found(what: &str, arn: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound",
        400,
        format!("{what} [{arn}] does not exist."),
    )
}

fn in_use(message: String) -> ApiError {
    ApiError::new("ResourceInUse", 400, message)
}

/// `aws:ResourceTag/*` and `sagemaker:ResourceTag/*` from the tags of the resource acted on.
fn resource_tags(ctx: &mut rolewright_iam::RequestContext, tags: &[Tag]) {
    for tag in tags {
        ctx.set(&format!("aws:ResourceTag/{}", tag.key), tag.value.clone());
        ctx.set(
            &format!("sagemaker:ResourceTag/{}", tag.key),
            tag.value.clone(),
        );
    }
}

/// The SageMaker condition keys a domain's or profile's settings carry.
fn settings_keys(ctx: &mut rolewright_iam::RequestContext, settings: &Map<String, Value>) {
    use rolewright_iam::ContextValue;
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let groups = strings(settings.get("SecurityGroups"));
    if !groups.is_empty() {
        ctx.insert("sagemaker:VpcSecurityGroupIds", ContextValue::Multi(groups));
    }
    if let Some(key) = settings
        .get("SharingSettings")
        .and_then(|s| s.get("S3KmsKeyId"))
        .and_then(Value::as_str)
    {
        ctx.set("sagemaker:DomainSharingOutputKmsKeyArn", key.to_string());
    }
}

/// The execution roles a settings structure names (`ExecutionRole`).
fn execution_roles(settings: &Map<String, Value>) -> Vec<String> {
    settings
        .get("ExecutionRole")
        .and_then(Value::as_str)
        .map(|r| vec![r.to_string()])
        .unwrap_or_default()
}

/// Checks `iam:PassRole` to SageMaker on each role; a role that does not exist is AWS's
/// `ValidationException`.
fn pass_roles(cx: &mut Cx<'_>, state: &State, roles: &[String]) -> Result<(), ApiError> {
    for role in roles {
        cx.authorize_pass_role(state, role, SERVICE_PRINCIPAL)
            .map_err(|e| {
                if e.code == "InvalidParameterValue" {
                    ApiError::new(
                        "ValidationException",
                        400,
                        format!("Role {role} does not exist or cannot be assumed by {SERVICE_PRINCIPAL}."),
                    )
                } else {
                    e
                }
            })?;
    }
    Ok(())
}

/// `a` with `b`'s members written over it, structures merged member by member (what an Update
/// operation does with the settings it is given).
fn merge(a: &mut Map<String, Value>, b: &Map<String, Value>) {
    for (k, v) in b {
        match (a.get_mut(k), v) {
            (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
            _ => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

/// `NextToken` and `MaxResults` (default 10, as SageMaker's list operations use).
fn page_input(input: &Members) -> (usize, Option<String>) {
    let max = input.int("MaxResults").unwrap_or(10) as usize;
    let token = input.str("NextToken").map(crate::iam::decode_marker);
    (max, token)
}

/// What ListUserProfiles and ListSpaces are asked: a page, an order (`SortBy`, `SortOrder`;
/// by creation time, ascending, when absent) and the filters on the domain and the name.
struct ListQuery<'i> {
    max: usize,
    token: Option<String>,
    by_last_modified: bool,
    descending: bool,
    domain: Option<&'i str>,
    contains: Option<&'i str>,
}

impl<'i> ListQuery<'i> {
    /// Reads the query; `contains` names the member that filters on the name.
    fn read(input: &'i Members, contains: &str) -> ListQuery<'i> {
        let (max, token) = page_input(input);
        ListQuery {
            max,
            token,
            by_last_modified: input.str("SortBy") == Some("LastModifiedTime"),
            descending: input.str("SortOrder") == Some("Descending"),
            domain: input.str("DomainIdEquals"),
            contains: input.str(contains),
        }
    }

    /// The time sorted by, of a resource created and last modified at these times.
    fn time(&self, created_ms: i64, modified_ms: i64) -> i64 {
        if self.by_last_modified {
            modified_ms
        } else {
            created_ms
        }
    }
}

/// The request's `Tags`; `null` elements are refused ([`Members::refuse_null_tags`]).
fn tags_input(input: &Members) -> Result<Vec<Tag>, ApiError> {
    input.refuse_null_tags("Tags", 50, &["key"])?;
    Ok(input.tags("Tags"))
}

fn page<T>(items: Vec<(String, T)>, token: Option<&str>, max: usize) -> (Vec<T>, Option<String>) {
    crate::iam::paginate(items, token, max)
}

fn space_arn(state: &State, region: &str, domain: &str, name: &str) -> String {
    format!(
        "arn:aws:sagemaker:{region}:{}:space/{domain}/{name}",
        state.account
    )
}

fn app_arn(state: &State, region: &str, app: &App) -> String {
    let owner = app
        .user_profile
        .as_deref()
        .or(app.space.as_deref())
        .unwrap_or_default();
    format!(
        "arn:aws:sagemaker:{region}:{}:app/{}/{owner}/{}/{}",
        state.account,
        app.domain_id,
        app.app_type.to_ascii_lowercase(),
        app.name
    )
}

fn app_key(domain: &str, owner: &str, app_type: &str, name: &str) -> String {
    format!("{domain}/{owner}/{app_type}/{name}")
}

fn region_of(cx: &Cx<'_>, state: &State, domain_id: &str) -> String {
    state
        .domains
        .get(domain_id)
        .map_or_else(|| cx.facts.region.clone(), |d| d.region.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_authorized_as_its_sagemaker_action() {
        for op in OPERATIONS {
            assert_eq!(op.action, format!("sagemaker:{}", op.name));
        }
        assert_eq!(OPERATIONS.len(), 26);
    }
}
