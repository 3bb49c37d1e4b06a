//! Service Catalog over JSON 1.1 (`X-Amz-Target: AWS242ServiceCatalogService.*`): portfolios,
//! their principals (IAM and IAM_PATTERN), products with CloudFormation templates and their
//! versions (provisioning artifacts), product and portfolio links, LAUNCH constraints, launch
//! paths and the end user's product search, plus the AWS-owned "Amazon SageMaker Solutions and ML
//! Ops products" portfolio that SageMaker's portfolio switch imports (the one share an account
//! accepts or rejects). Every operation is authorized by the engine on the ARN the Service
//! Authorization Reference gives, with the request's and the resource's tags.
//!
//! Input is validated against the botocore model first (`service_model`, AWS's
//! `ValidationException` texts); the handlers then read it through [`Members`] and check only
//! what the model cannot say. `AcceptLanguage` is accepted and ignored: rolewright answers in
//! English.

pub mod provisioning;

use serde_json::{Map, Value, json};

use crate::auth::Identity;
use crate::authz::{request_tags, resource_tags};
use crate::error::ApiError;
use crate::ids;
use crate::model::{
    CatalogConstraint, Change, Portfolio, PortfolioPrincipal, PortfolioProduct, Product,
    ProvisioningArtifact, State, Tag, kind,
};
use crate::operation::operation_table;
use crate::server::{App, Cx, Reply, TemplateFileError};
use crate::service_model::InputError;
use crate::wire::json::timestamp;
use crate::wire::members::Members;

/// The service principal Service Catalog passes launch roles to.
pub const SERVICE_PRINCIPAL: &str = "servicecatalog.amazonaws.com";

/// The AWS-owned portfolio that `EnableSagemakerServicecatalogPortfolio` imports.
pub const SAGEMAKER_PORTFOLIO_NAME: &str = "Amazon SageMaker Solutions and ML Ops products";
/// Its provider.
pub const SAGEMAKER_PROVIDER: &str = "Amazon SageMaker";

/// IAM_PATTERN principals a portfolio may have (AWS's limit).
const MAX_PATTERNS: usize = 10;
/// Tags a portfolio or product may carry.
const MAX_TAGS: usize = 50;
/// The largest template read from a file (CloudFormation's limit for templates in S3).
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;
/// Items per page when `PageSize` is absent or 0.
const DEFAULT_PAGE: usize = 20;

operation_table! {
    service "servicecatalog";
    async fn run(cx, input: Members) else unknown_operation;
    "CreatePortfolio" on "Portfolio" => create_portfolio(cx, input).await,
    "DescribePortfolio" on "Portfolio" => describe_portfolio(cx, input),
    "UpdatePortfolio" on "Portfolio" => update_portfolio(cx, input).await,
    "DeletePortfolio" on "Portfolio" => delete_portfolio(cx, input).await,
    "ListPortfolios" on "*" => list_portfolios(cx, input),
    "AssociatePrincipalWithPortfolio" on "Portfolio" => associate_principal(cx, input).await,
    "DisassociatePrincipalFromPortfolio" on "Portfolio" => disassociate_principal(cx, input).await,
    "ListPrincipalsForPortfolio" on "Portfolio" => list_principals(cx, input),
    "ListAcceptedPortfolioShares" on "*" => list_accepted_shares(cx, input),
    "AcceptPortfolioShare" on "Portfolio" => accept_portfolio_share(cx, input),
    "RejectPortfolioShare" on "Portfolio" => reject_portfolio_share(cx, input).await,
    "CreateProduct" on "Product" => create_product(cx, input).await,
    "DescribeProduct" on "Product" => describe_product(cx, input),
    "DescribeProductAsAdmin" on "Product" => describe_product_as_admin(cx, input),
    "DescribeProductView" on "*" => describe_product_view(cx, input),
    "SearchProducts" on "*" => search_products(cx, input),
    "SearchProductsAsAdmin" on "*" => search_products_as_admin(cx, input),
    "UpdateProduct" on "Product" => update_product(cx, input).await,
    "DeleteProduct" on "Product" => delete_product(cx, input).await,
    "CreateProvisioningArtifact" on "Product" => create_provisioning_artifact(cx, input).await,
    "DescribeProvisioningArtifact" on "Product" => describe_provisioning_artifact(cx, input),
    "ListProvisioningArtifacts" on "Product" => list_provisioning_artifacts(cx, input),
    "DeleteProvisioningArtifact" on "Product" => delete_provisioning_artifact(cx, input).await,
    "AssociateProductWithPortfolio" on "*" => associate_product(cx, input).await,
    "DisassociateProductFromPortfolio" on "*" => disassociate_product(cx, input).await,
    "ListPortfoliosForProduct" on "Product" => list_portfolios_for_product(cx, input),
    "CreateConstraint" on "Product" => create_constraint(cx, input).await,
    "DescribeConstraint" on "*" => describe_constraint(cx, input),
    "UpdateConstraint" on "*" => update_constraint(cx, input).await,
    "DeleteConstraint" on "*" => delete_constraint(cx, input).await,
    "ListConstraintsForPortfolio" on "*" => list_constraints(cx, input),
    "ListLaunchPaths" on "Product" => list_launch_paths(cx, input),
    "ProvisionProduct" on "Product" => provisioning::provision_product(cx, input).await,
    "DescribeRecord" on "*" => provisioning::describe_record(cx, input),
    "ListRecordHistory" on "*" => provisioning::list_record_history(cx, input),
    "DescribeProvisionedProduct" on "*" => provisioning::describe_provisioned_product(cx, input),
    "SearchProvisionedProducts" on "*" => provisioning::search_provisioned_products(cx, input),
    "ScanProvisionedProducts" on "*" => provisioning::scan_provisioned_products(cx, input),
    "GetProvisionedProductOutputs" on "*" => provisioning::get_provisioned_product_outputs(cx, input),
    "DescribeProvisioningParameters" on "Product" => provisioning::describe_provisioning_parameters(cx, input),
    "UpdateProvisionedProduct" on "*" => provisioning::update_provisioned_product(cx, input).await,
    "TerminateProvisionedProduct" on "*" => provisioning::terminate_provisioned_product(cx, input).await,
}

fn unknown_operation(operation: &str) -> ApiError {
    ApiError::new(
        "UnknownOperationException",
        400,
        format!(
            "The operation AWS242ServiceCatalogService.{operation} is not served by rolewright"
        ),
    )
}

/// Runs one Service Catalog operation on its JSON input: every constraint of the model is
/// checked first, with AWS's texts, so that the handlers read valid input through [`Members`].
pub async fn dispatch(cx: &mut Cx<'_>, operation: &str, input: Value) -> Result<Reply, ApiError> {
    if !OPERATIONS.iter().any(|o| o.name == operation) {
        return Err(unknown_operation(operation));
    }
    crate::service_model::ServiceModel::servicecatalog().validate_input(operation, &input)?;
    ensure_imported_portfolio(cx).await?;
    run(cx, operation, Members::new(input)).await
}

// ---- input ----------------------------------------------------------------------------------

/// Tags one request may add: the model's maximum for `Tags` and `AddTags`.
const TAGS_PER_REQUEST: usize = 20;

/// The filter keys of the two searches (`ProductViewFilterBy`).
const FILTER_KEYS: [&str; 4] = ["FullTextSearch", "Owner", "ProductType", "SourceProductId"];

/// `PageSize` ([`DEFAULT_PAGE`] when absent or 0) and `PageToken`.
fn paging(input: &Members) -> (usize, Option<String>) {
    let size = match input.int("PageSize") {
        Some(n) if n > 0 => n as usize,
        _ => DEFAULT_PAGE,
    };
    (size, input.string("PageToken"))
}

/// A request's `Tags` or `AddTags`; `null` elements are refused ([`Members::refuse_null_tags`]).
fn tags_input(input: &Members, name: &str) -> Result<Vec<Tag>, ApiError> {
    input.refuse_null_tags(name, TAGS_PER_REQUEST, &["key", "value"])?;
    Ok(input.tags(name))
}

// ---- errors, names, ARNs --------------------------------------------------------------------

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParametersException", 400, message)
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new("ResourceNotFoundException", 400, message)
}

fn in_use(message: impl Into<String>) -> ApiError {
    ApiError::new("ResourceInUseException", 400, message)
}

fn limit(message: impl Into<String>) -> ApiError {
    ApiError::new("LimitExceededException", 400, message)
}

fn portfolio_not_found(id: &str) -> ApiError {
    not_found(format!("Portfolio not found: {id}"))
}

fn product_not_found(id: &str) -> ApiError {
    not_found(format!("Product not found: {id}"))
}

fn no_launch_paths(id: &str) -> ApiError {
    not_found(format!("No launch paths found for resource: {id}"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", ids::lowercase_alphanumeric(13))
}

fn portfolio_arn(state: &State, region: &str, id: &str) -> String {
    format!("arn:aws:catalog:{region}:{}:portfolio/{id}", state.account)
}

fn product_arn(state: &State, region: &str, id: &str) -> String {
    format!("arn:aws:catalog:{region}:{}:product/{id}", state.account)
}

/// A portfolio the caller can see: the imported SageMaker one only while the switch is on.
fn visible<'s>(state: &'s State, id: &str) -> Option<&'s Portfolio> {
    state
        .portfolios
        .get(id)
        .filter(|p| !p.imported || state.sagemaker_portfolio)
}

fn tag_list(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"Key": t.key, "Value": t.value}))
            .collect(),
    )
}

/// `existing` with `add` written over it and `remove` taken out, within AWS's 50 tags.
fn edit_tags(existing: &[Tag], add: &[Tag], remove: &[String]) -> Result<Vec<Tag>, ApiError> {
    let kept: Vec<Tag> = existing
        .iter()
        .filter(|t| !remove.contains(&t.key))
        .cloned()
        .collect();
    let tags = crate::model::merge_tags(&kept, add);
    if tags.len() > MAX_TAGS {
        return Err(limit(format!(
            "A resource can have at most {MAX_TAGS} tags; this request would give it {}",
            tags.len()
        )));
    }
    Ok(tags)
}

/// The keys a request sets or removes, for `aws:TagKeys`.
fn tag_keys_context(ctx: &mut rolewright_iam::RequestContext, add: &[Tag], remove: &[String]) {
    request_tags(ctx, add);
    let mut keys: Vec<String> = add.iter().map(|t| t.key.clone()).collect();
    keys.extend(remove.iter().cloned());
    if !keys.is_empty() {
        ctx.insert("aws:TagKeys", rolewright_iam::ContextValue::Multi(keys));
    }
}

/// `servicecatalog:accountLevel`, `roleLevel` and `userLevel` for an end user acting on what
/// is theirs. AWS's access levels are hierarchical (account level includes role and user
/// level), so a request for the caller's own view satisfies a policy granting any of them:
/// `AWSServiceCatalogEndUserFullAccess` grants with `userLevel = self`.
fn end_user_levels(ctx: &mut rolewright_iam::RequestContext) {
    for key in [
        "servicecatalog:accountLevel",
        "servicecatalog:roleLevel",
        "servicecatalog:userLevel",
    ] {
        ctx.set(key, "self");
    }
}

/// Service Catalog names the account's catalog, `arn:aws:catalog:REGION:ACCOUNT:*`, in the
/// denials of creations and account-level actions (AWS's text, NOTES §1.3), while the decision
/// itself is made on the resource the Service Authorization Reference gives.
fn catalog_denial(error: ApiError, evaluated: &str, region: &str, account: &str) -> ApiError {
    if error.code != "AccessDenied" {
        return error;
    }
    let message = error.message.replacen(
        &format!("on resource: {evaluated} "),
        &format!("on resource: arn:aws:catalog:{region}:{account}:* "),
        1,
    );
    ApiError { message, ..error }
}

/// Authorizes an action without resource types (on `*`).
fn authorize_account(
    cx: &mut Cx<'_>,
    state: &State,
    action: &str,
    extend: impl FnOnce(&mut rolewright_iam::RequestContext),
) -> Result<(), ApiError> {
    let region = cx.facts.region.clone();
    cx.authorize(state, action, "*", extend)
        .map_err(|e| catalog_denial(e, "*", &region, &state.account))
}

/// A page of `items` from the offset a token names, and the token of the next page.
fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match token {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| invalid(format!("The page token `{t}` is not valid")))?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("page-{end}"));
    Ok((items[start..end].to_vec(), next))
}

fn with_next(mut out: Value, next: Option<String>) -> Value {
    if let Some(next) = next {
        out["NextPageToken"] = json!(next);
    }
    out
}

// ---- the imported SageMaker portfolio ------------------------------------------------------

/// SageMaker's project templates, the products of the imported portfolio, by the names SageMaker's
/// developer guide gives them ("Use SageMaker-Provided Project Templates"), with what each sets up.
const SAGEMAKER_PRODUCTS: &[(&str, &str)] = &[
    (
        "MLOps template for model building, training, and deployment",
        "A CodeCommit repository whose SageMaker pipeline processes data, trains and registers \
         models, and a CodePipeline that deploys approved models to staging and production \
         endpoints",
    ),
    (
        "MLOps template for model building, training, deployment, and Amazon SageMaker Model Monitor",
        "The model building, training and deployment template, with data quality, model quality \
         and bias drift monitors on the deployed endpoints",
    ),
    (
        "MLOps template for image building, model building, and model deployment",
        "The model building, training and deployment template, with pipelines that build the \
         processing, training and inference images into ECR and SageMaker images",
    ),
    (
        "MLOps template for model building, training, and deployment with third-party Git repositories using CodePipeline",
        "Model building, training and deployment from third-party Git repositories reached \
         through an AWS CodeStar connection, automated with CodePipeline",
    ),
    (
        "MLOps template for model building, training, and deployment with third-party Git repositories using Jenkins",
        "Model building, training and deployment from third-party Git repositories reached \
         through an AWS CodeStar connection, automated with Jenkins",
    ),
];

/// The template a SageMaker product's version holds: SageMaker's own are not available offline,
/// so a stand-in with the parameters SageMaker passes to every project template.
fn sagemaker_template(name: &str) -> String {
    format!(
        "AWSTemplateFormatVersion: '2010-09-09'\n\
         Description: '{name}; a stand-in for the template of Amazon SageMaker'\n\
         Parameters:\n  SageMakerProjectName:\n    Type: String\n  \
         SageMakerProjectId:\n    Type: String\n\
         Resources:\n  ArtifactBucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      \
         BucketName: !Sub 'sagemaker-project-${{SageMakerProjectId}}'\n"
    )
}

/// SageMaker's products, as the imported portfolio brings them into the account.
fn sagemaker_products(region: &str, now: i64) -> Vec<Product> {
    SAGEMAKER_PRODUCTS
        .iter()
        .map(|(name, description)| Product {
            id: new_id("prod"),
            view_id: new_id("prodview"),
            region: region.to_string(),
            name: (*name).to_string(),
            owner: SAGEMAKER_PROVIDER.into(),
            description: Some((*description).to_string()),
            distributor: None,
            support_description: None,
            support_email: None,
            support_url: None,
            product_type: "CLOUD_FORMATION_TEMPLATE".into(),
            created_ms: now,
            tags: Vec::new(),
            artifacts: vec![ProvisioningArtifact {
                id: new_id("pa"),
                name: Some("v1".into()),
                description: None,
                artifact_type: "CLOUD_FORMATION_TEMPLATE".into(),
                created_ms: now,
                template: sagemaker_template(name),
                template_url: None,
                active: true,
                guidance: "DEFAULT".into(),
            }],
        })
        .collect()
}

/// Whether a product is one of SageMaker's, that is, in the imported portfolio.
fn sagemaker_owned(state: &State, product: &str) -> bool {
    state
        .portfolios
        .values()
        .any(|p| p.imported && p.products.iter().any(|l| l.product_id == product))
}

/// Whether an administrator sees a product: the account's always, SageMaker's while the
/// portfolio switch is on (`ProductSource: ACCOUNT` asks for the account's only).
fn admin_sees(state: &State, product: &str, account_only: bool) -> bool {
    !sagemaker_owned(state, product) || (state.sagemaker_portfolio && !account_only)
}

/// Creates the AWS-owned SageMaker portfolio with SageMaker's products, once, when the portfolio
/// switch is first seen on: ids are stable from then on, and its principals stay while the switch
/// is off. A portfolio imported before it came with products (an older data directory) gets them.
async fn ensure_imported_portfolio(cx: &Cx<'_>) -> Result<(), ApiError> {
    let complete = |state: &State| {
        state
            .portfolios
            .values()
            .any(|p| p.imported && !p.products.is_empty())
    };
    let needed = {
        let state = cx.app.store.read();
        state.sagemaker_portfolio && !complete(&state)
    };
    if !needed {
        return Ok(());
    }
    let region = cx.facts.region.clone();
    let id = new_id("port");
    let now = now_ms();
    let products = sagemaker_products(&region, now);
    cx.app
        .store
        .write(None, |state| {
            if complete(state) {
                return Ok(((), Vec::new()));
            }
            let mut portfolio = state
                .portfolios
                .values()
                .find(|p| p.imported)
                .cloned()
                .unwrap_or_else(|| Portfolio {
                    id: id.clone(),
                    region,
                    display_name: SAGEMAKER_PORTFOLIO_NAME.into(),
                    description: Some(
                        "Products from Amazon SageMaker: project templates and JumpStart solutions"
                            .into(),
                    ),
                    provider_name: SAGEMAKER_PROVIDER.into(),
                    created_ms: now,
                    tags: Vec::new(),
                    principals: Vec::new(),
                    products: Vec::new(),
                    imported: true,
                });
            let mut changes = Vec::new();
            for product in products {
                portfolio.products.push(PortfolioProduct {
                    product_id: product.id.clone(),
                    path_id: new_id("lpv3"),
                });
                changes.push(Change::put(
                    kind::CATALOG_PRODUCT,
                    product.id.clone(),
                    &product,
                ));
                state.products.insert(product.id.clone(), product);
            }
            changes.push(Change::put(
                kind::CATALOG_PORTFOLIO,
                portfolio.id.clone(),
                &portfolio,
            ));
            state.portfolios.insert(portfolio.id.clone(), portfolio);
            Ok(((), changes))
        })
        .await
}

// ---- portfolios -----------------------------------------------------------------------------

fn portfolio_detail(state: &State, p: &Portfolio) -> Value {
    let mut out = json!({
        "Id": p.id,
        "ARN": portfolio_arn(state, &p.region, &p.id),
        "DisplayName": p.display_name,
        "CreatedTime": timestamp(p.created_ms),
        "ProviderName": p.provider_name,
    });
    if let Some(d) = &p.description {
        out["Description"] = json!(d);
    }
    out
}

/// How long a creation's idempotency token is remembered.
const TOKEN_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// Answers a repeated creation with the first answer.
fn repeated(state: &State, key: &str) -> Option<Value> {
    state
        .catalog_tokens
        .get(key)
        .and_then(|t| t.get("answer"))
        .cloned()
}

/// Remembers a creation's answer under its token, and forgets the tokens older than a day so
/// that the map stays small.
fn remember(state: &mut State, key: String, answer: &Value) -> Vec<Change> {
    let now = now_ms();
    let expired: Vec<String> = state
        .catalog_tokens
        .iter()
        .filter(|(_, t)| {
            t.get("at_ms")
                .and_then(Value::as_i64)
                .is_none_or(|at| now - at > TOKEN_LIFETIME_MS)
        })
        .map(|(k, _)| k.clone())
        .collect();
    let mut changes = Vec::new();
    for k in expired {
        state.catalog_tokens.remove(&k);
        changes.push(Change::delete(kind::CATALOG_TOKEN, k));
    }
    let entry = json!({"at_ms": now, "answer": answer});
    changes.push(Change::put(kind::CATALOG_TOKEN, key.clone(), &entry));
    state.catalog_tokens.insert(key, entry);
    changes
}

async fn create_portfolio(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let name = input.required("DisplayName");
    let description = input.string("Description");
    let provider = input.required("ProviderName");
    let tags = tags_input(&input, "Tags")?;
    let token = input.required("IdempotencyToken");
    let id = new_id("port");
    let region = cx.facts.region.clone();
    let key = format!("CreatePortfolio/{token}");
    {
        let state = cx.app.store.read();
        let request = tags.clone();
        let arn = portfolio_arn(&state, &region, &id);
        cx.authorize(&state, "servicecatalog:CreatePortfolio", &arn, |ctx| {
            request_tags(ctx, &request)
        })
        .map_err(|e| catalog_denial(e, &arn, &region, &state.account))?;
        if let Some(answer) = repeated(&state, &key) {
            return Ok(Reply::Json(answer));
        }
    }
    let portfolio = Portfolio {
        id: id.clone(),
        region,
        display_name: name,
        description,
        provider_name: provider,
        created_ms: now_ms(),
        tags,
        principals: Vec::new(),
        products: Vec::new(),
        imported: false,
    };
    let answer = cx
        .write(|state| {
            if let Some(answer) = repeated(state, &key) {
                return Ok((answer, Vec::new()));
            }
            let answer = json!({
                "PortfolioDetail": portfolio_detail(state, &portfolio),
                "Tags": tag_list(&portfolio.tags),
            });
            let mut changes = vec![Change::put(kind::CATALOG_PORTFOLIO, id.clone(), &portfolio)];
            state.portfolios.insert(id, portfolio);
            changes.extend(remember(state, key, &answer));
            Ok((answer, changes))
        })
        .await?;
    Ok(Reply::Json(answer))
}

/// Authorizes `action` on a portfolio (with its tags) and returns it, or AWS's not-found.
fn authorize_portfolio(
    cx: &mut Cx<'_>,
    state: &State,
    id: &str,
    action: &str,
    extend: impl FnOnce(&mut rolewright_iam::RequestContext),
) -> Result<Portfolio, ApiError> {
    let portfolio = visible(state, id);
    let region = portfolio.map_or_else(|| cx.facts.region.clone(), |p| p.region.clone());
    let tags = portfolio.map(|p| p.tags.clone()).unwrap_or_default();
    cx.authorize(state, action, &portfolio_arn(state, &region, id), |ctx| {
        resource_tags(ctx, &tags);
        extend(ctx);
    })?;
    portfolio.cloned().ok_or_else(|| portfolio_not_found(id))
}

fn describe_portfolio(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    let state = cx.app.store.read();
    let portfolio =
        authorize_portfolio(cx, &state, &id, "servicecatalog:DescribePortfolio", |_| {})?;
    Ok(Reply::Json(json!({
        "PortfolioDetail": portfolio_detail(&state, &portfolio),
        "Tags": tag_list(&portfolio.tags),
        "TagOptions": [],
        "Budgets": [],
    })))
}

async fn update_portfolio(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    let name = input.string("DisplayName");
    let description = input.string("Description");
    let provider = input.string("ProviderName");
    let add = tags_input(&input, "AddTags")?;
    let remove = input.strings("RemoveTags");
    {
        let state = cx.app.store.read();
        let (a, r) = (add.clone(), remove.clone());
        let portfolio =
            authorize_portfolio(cx, &state, &id, "servicecatalog:UpdatePortfolio", |ctx| {
                tag_keys_context(ctx, &a, &r)
            })?;
        if portfolio.imported {
            return Err(invalid(format!(
                "Portfolio {id} is shared with this account and cannot be updated"
            )));
        }
    }
    let answer = cx
        .write(|state| {
            let mut portfolio = visible(state, &id)
                .cloned()
                .ok_or_else(|| portfolio_not_found(&id))?;
            portfolio.tags = edit_tags(&portfolio.tags, &add, &remove)?;
            if let Some(n) = name {
                portfolio.display_name = n;
            }
            if let Some(d) = description {
                portfolio.description = Some(d);
            }
            if let Some(p) = provider {
                portfolio.provider_name = p;
            }
            let answer = json!({
                "PortfolioDetail": portfolio_detail(state, &portfolio),
                "Tags": tag_list(&portfolio.tags),
            });
            let change = Change::put(kind::CATALOG_PORTFOLIO, id.clone(), &portfolio);
            state.portfolios.insert(id.clone(), portfolio);
            Ok((answer, vec![change]))
        })
        .await?;
    Ok(Reply::Json(answer))
}

async fn delete_portfolio(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    {
        let state = cx.app.store.read();
        let portfolio =
            authorize_portfolio(cx, &state, &id, "servicecatalog:DeletePortfolio", |_| {})?;
        if portfolio.imported {
            return Err(invalid(format!(
                "Portfolio {id} is shared with this account and cannot be deleted"
            )));
        }
    }
    cx.write(|state| {
        let portfolio = visible(state, &id).ok_or_else(|| portfolio_not_found(&id))?;
        if !portfolio.products.is_empty() {
            return Err(in_use(format!(
                "Portfolio {id} still has associated Products"
            )));
        }
        if !portfolio.principals.is_empty() {
            return Err(in_use(format!(
                "Portfolio {id} still has associated Principals"
            )));
        }
        state.portfolios.remove(&id);
        Ok((
            (),
            vec![Change::delete(kind::CATALOG_PORTFOLIO, id.clone())],
        ))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

fn list_portfolios(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (size, token) = paging(&input);
    let state = cx.app.store.read();
    authorize_account(cx, &state, "servicecatalog:ListPortfolios", |_| {})?;
    let mut local: Vec<&Portfolio> = state.portfolios.values().filter(|p| !p.imported).collect();
    local.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.id.cmp(&b.id)));
    let details: Vec<Value> = local.iter().map(|p| portfolio_detail(&state, p)).collect();
    let (items, next) = page(&details, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"PortfolioDetails": items}),
        next,
    )))
}

fn list_accepted_shares(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (size, token) = paging(&input);
    let share_type = share_type(&input);
    let state = cx.app.store.read();
    authorize_account(
        cx,
        &state,
        "servicecatalog:ListAcceptedPortfolioShares",
        |_| {},
    )?;
    // The SageMaker portfolio is the only share an account of rolewright accepts; it arrives
    // by account-to-account import.
    let details: Vec<Value> = if share_type == "IMPORTED" && state.sagemaker_portfolio {
        state
            .portfolios
            .values()
            .filter(|p| p.imported)
            .map(|p| portfolio_detail(&state, p))
            .collect()
    } else {
        Vec::new()
    };
    let (items, next) = page(&details, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"PortfolioDetails": items}),
        next,
    )))
}

/// `PortfolioShareType` (`IMPORTED` when absent).
fn share_type(input: &Members) -> String {
    input
        .string("PortfolioShareType")
        .unwrap_or_else(|| "IMPORTED".into())
}

/// Checks that `portfolio` is a share the account holds under `share_type`. The only one is the
/// imported SageMaker portfolio, an account-to-account (`IMPORTED`) share that SageMaker accepts
/// for the account when its portfolio switch goes on: rolewright serves one account and no
/// organization, and AWS answers `AWS_SERVICECATALOG` with ResourceNotFoundException.
fn held_share(portfolio: &Portfolio, share_type: &str) -> Result<(), ApiError> {
    if portfolio.imported && share_type == "IMPORTED" {
        Ok(())
    } else {
        Err(portfolio_not_found(&portfolio.id))
    }
}

fn accept_portfolio_share(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("PortfolioId");
    let share_type = share_type(&input);
    let state = cx.app.store.read();
    let portfolio = authorize_portfolio(
        cx,
        &state,
        &id,
        "servicecatalog:AcceptPortfolioShare",
        |_| {},
    )?;
    held_share(&portfolio, &share_type)?;
    // Already accepted (it is visible only while accepted): accepting again changes nothing.
    Ok(Reply::Json(json!({})))
}

/// Rejecting the SageMaker portfolio takes it out of the account, as
/// `DisableSagemakerServicecatalogPortfolio` does: the switch is the share's acceptance, and
/// `EnableSagemakerServicecatalogPortfolio` shares and accepts it again (same id, principals kept).
async fn reject_portfolio_share(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("PortfolioId");
    let share_type = share_type(&input);
    {
        let state = cx.app.store.read();
        let portfolio = authorize_portfolio(
            cx,
            &state,
            &id,
            "servicecatalog:RejectPortfolioShare",
            |_| {},
        )?;
        held_share(&portfolio, &share_type)?;
    }
    cx.write(|state| {
        let portfolio = visible(state, &id).ok_or_else(|| portfolio_not_found(&id))?;
        held_share(portfolio, &share_type)?;
        state.sagemaker_portfolio = false;
        let change = Change::Put {
            kind: kind::META,
            id: "sagemaker_portfolio".into(),
            body: false.to_string(),
        };
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

// ---- principals -----------------------------------------------------------------------------

/// Whether an IAM_PATTERN `pattern` (`*` any run of characters, `/` included; `?` zero or one
/// character) matches `text` in full.
fn pattern_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // row[j]: whether the pattern so far matches t[..j].
    let mut row = vec![false; t.len() + 1];
    row[0] = true;
    for c in &p {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            next[j] = match c {
                '*' => row[j] || (j > 0 && next[j - 1]),
                '?' => row[j] || (j > 0 && row[j - 1]),
                c => j > 0 && t[j - 1] == *c && row[j - 1],
            };
        }
        row = next;
    }
    row[t.len()]
}

/// The resource part (`role/path/name`) of an IAM principal ARN of one of the three types, and
/// its account, or why it is not one.
fn principal_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [head, partition, service, region, account, resource] = parts[..] else {
        return None;
    };
    if head != "arn" || partition.is_empty() || service != "iam" || !region.is_empty() {
        return None;
    }
    let (kind, rest) = resource.split_once('/')?;
    (matches!(kind, "user" | "group" | "role") && !rest.is_empty())
        .then_some((partition, account, resource))
}

/// Checks a principal to associate: an existing user, group or role for `IAM`, AWS's
/// account-less form for `IAM_PATTERN`.
fn check_principal(state: &State, arn: &str, principal_type: &str) -> Result<(), ApiError> {
    let Some((partition, account, resource)) = principal_parts(arn) else {
        return Err(invalid(format!(
            "Invalid PrincipalARN `{arn}`: expected an IAM user, group or role ARN \
             (arn:aws:iam::123456789012:role/NAME, or arn:aws:iam:::role/NAME for IAM_PATTERN)"
        )));
    };
    let wild = |s: &str| s.contains('*') || s.contains('?');
    let (kind, _) = resource.split_once('/').unwrap_or((resource, ""));
    if wild(partition) || wild(account) || wild(kind) {
        return Err(invalid(format!(
            "Invalid PrincipalARN `{arn}`: the wildcards * and ? are allowed only in the \
             resource path and name, after the resource type"
        )));
    }
    if principal_type == "IAM_PATTERN" {
        if !account.is_empty() {
            return Err(invalid(format!(
                "Invalid PrincipalARN `{arn}` for PrincipalType IAM_PATTERN: the ARN must have \
                 no account id (arn:{partition}:iam:::{resource})"
            )));
        }
        return Ok(());
    }
    if wild(resource) {
        return Err(invalid(format!(
            "Invalid PrincipalARN `{arn}` for PrincipalType IAM: wildcards need PrincipalType \
             IAM_PATTERN"
        )));
    }
    let exists = state.users.values().any(|u| state.user_arn(u) == arn)
        || state.roles.values().any(|r| state.role_arn(r) == arn)
        || state.groups.values().any(|g| state.group_arn(g) == arn);
    if !exists {
        return Err(invalid(format!(
            "Invalid PrincipalARN `{arn}`: no such IAM user, group or role in account {}",
            state.account
        )));
    }
    Ok(())
}

async fn associate_principal(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("PortfolioId");
    let arn = input.required("PrincipalARN");
    let principal_type = input.required("PrincipalType");
    {
        let state = cx.app.store.read();
        authorize_portfolio(
            cx,
            &state,
            &id,
            "servicecatalog:AssociatePrincipalWithPortfolio",
            |_| {},
        )?;
        check_principal(&state, &arn, &principal_type)?;
    }
    cx.write(|state| {
        let mut portfolio = visible(state, &id)
            .cloned()
            .ok_or_else(|| portfolio_not_found(&id))?;
        let principal = PortfolioPrincipal {
            arn: arn.clone(),
            principal_type: principal_type.clone(),
        };
        if portfolio.principals.contains(&principal) {
            return Ok(((), Vec::new()));
        }
        let patterns = portfolio
            .principals
            .iter()
            .filter(|p| p.principal_type == "IAM_PATTERN")
            .count();
        if principal_type == "IAM_PATTERN" && patterns >= MAX_PATTERNS {
            return Err(limit(format!(
                "Portfolio {id} already has {MAX_PATTERNS} principals of PrincipalType \
                 IAM_PATTERN, the most a portfolio can have"
            )));
        }
        portfolio.principals.push(principal);
        let change = Change::put(kind::CATALOG_PORTFOLIO, id.clone(), &portfolio);
        state.portfolios.insert(id.clone(), portfolio);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

async fn disassociate_principal(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("PortfolioId");
    let arn = input.required("PrincipalARN");
    let principal_type = input
        .string("PrincipalType")
        .unwrap_or_else(|| "IAM".into());
    {
        let state = cx.app.store.read();
        authorize_portfolio(
            cx,
            &state,
            &id,
            "servicecatalog:DisassociatePrincipalFromPortfolio",
            |_| {},
        )?;
    }
    cx.write(|state| {
        let mut portfolio = visible(state, &id)
            .cloned()
            .ok_or_else(|| portfolio_not_found(&id))?;
        let before = portfolio.principals.len();
        portfolio
            .principals
            .retain(|p| !(p.arn == arn && p.principal_type == principal_type));
        if portfolio.principals.len() == before {
            return Err(not_found(format!(
                "Principal {arn} of type {principal_type} is not associated with portfolio {id}"
            )));
        }
        let change = Change::put(kind::CATALOG_PORTFOLIO, id.clone(), &portfolio);
        state.portfolios.insert(id.clone(), portfolio);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

fn list_principals(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("PortfolioId");
    let (size, token) = paging(&input);
    let state = cx.app.store.read();
    let portfolio = authorize_portfolio(
        cx,
        &state,
        &id,
        "servicecatalog:ListPrincipalsForPortfolio",
        |_| {},
    )?;
    let principals: Vec<Value> = portfolio
        .principals
        .iter()
        .map(|p| json!({"PrincipalARN": p.arn, "PrincipalType": p.principal_type}))
        .collect();
    let (items, next) = page(&principals, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(json!({"Principals": items}), next)))
}

/// The ARNs a caller is known by to portfolio associations: a user and its groups, or the role
/// of a role session.
fn caller_principals(state: &State, identity: &Identity) -> Vec<String> {
    match identity {
        Identity::User(name) => {
            let mut arns: Vec<String> = state
                .user(name)
                .map(|u| state.user_arn(u))
                .into_iter()
                .collect();
            arns.extend(state.groups_of(name).map(|g| state.group_arn(g)));
            arns
        }
        Identity::Session { role, role_arn, .. } => vec![
            state
                .role(role)
                .map_or_else(|| role_arn.clone(), |r| state.role_arn(r)),
        ],
    }
}

/// `arn:aws:iam::123456789012:role/x` → `arn:aws:iam:::role/x`, the form patterns match.
fn without_account(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts[..] {
        [head, partition, service, region, _, resource] => {
            format!("{head}:{partition}:{service}:{region}::{resource}")
        }
        _ => arn.to_string(),
    }
}

fn grants_access(portfolio: &Portfolio, principals: &[String]) -> bool {
    portfolio.principals.iter().any(|p| {
        principals
            .iter()
            .any(|arn| match p.principal_type.as_str() {
                "IAM_PATTERN" => pattern_matches(&p.arn, &without_account(arn)),
                _ => p.arn == *arn,
            })
    })
}

/// Whether a role (by ARN) is a principal of the imported SageMaker portfolio, by an `IAM`
/// association or an `IAM_PATTERN`: what JumpStart and Projects need in Studio (seed 000).
pub fn role_in_sagemaker_portfolio(state: &State, role_arn: &str) -> bool {
    let principals = [role_arn.to_string()];
    state
        .portfolios
        .values()
        .any(|p| p.imported && grants_access(p, &principals))
}

/// The portfolios through which the caller may launch `product`, with their paths.
fn launch_paths<'s>(
    state: &'s State,
    identity: &Identity,
    product: &str,
) -> Vec<(&'s Portfolio, &'s PortfolioProduct)> {
    let principals = caller_principals(state, identity);
    let mut paths: Vec<(&Portfolio, &PortfolioProduct)> = state
        .portfolios
        .values()
        .filter(|p| visible(state, &p.id).is_some() && grants_access(p, &principals))
        .filter_map(|p| {
            p.products
                .iter()
                .find(|l| l.product_id == product)
                .map(|l| (p, l))
        })
        .collect();
    paths.sort_by_key(|a| a.0.created_ms);
    paths
}

// ---- products -------------------------------------------------------------------------------

fn view_summary(p: &Product) -> Value {
    let mut out = json!({
        "Id": p.view_id,
        "ProductId": p.id,
        "Name": p.name,
        "Owner": p.owner,
        "Type": p.product_type,
        "HasDefaultPath": false,
    });
    for (key, value) in [
        ("ShortDescription", &p.description),
        ("Distributor", &p.distributor),
        ("SupportEmail", &p.support_email),
        ("SupportDescription", &p.support_description),
        ("SupportUrl", &p.support_url),
    ] {
        if let Some(v) = value {
            out[key] = json!(v);
        }
    }
    out
}

fn view_detail(state: &State, p: &Product) -> Value {
    json!({
        "ProductViewSummary": view_summary(p),
        "Status": "AVAILABLE",
        "ProductARN": product_arn(state, &p.region, &p.id),
        "CreatedTime": timestamp(p.created_ms),
    })
}

fn artifact_detail(a: &ProvisioningArtifact) -> Value {
    let mut out = json!({
        "Id": a.id,
        "Type": a.artifact_type,
        "CreatedTime": timestamp(a.created_ms),
        "Active": a.active,
        "Guidance": a.guidance,
    });
    if let Some(n) = &a.name {
        out["Name"] = json!(n);
    }
    if let Some(d) = &a.description {
        out["Description"] = json!(d);
    }
    out
}

/// Where a template is read from: a `file://` URL or a local path. Service Catalog fetches
/// `https://` URLs from S3; rolewright runs offline and says so.
fn template_path(url: &str) -> Result<&str, ApiError> {
    if let Some(path) = url.strip_prefix("file://") {
        return Ok(path);
    }
    if url.contains("://") {
        return Err(invalid(format!(
            "LoadTemplateFromURL `{url}` cannot be fetched: rolewright reads templates from \
             file:// URLs and local paths only; save the template locally and pass \
             file:///path/to/template.yaml"
        )));
    }
    Ok(url)
}

/// Why a text is not a CloudFormation template with resources, if it is not. JSON is parsed;
/// YAML is checked for a top-level `Resources:` mapping with an entry, which is as far as a
/// server without a YAML parser (and CloudFormation's `!Ref` tags) can go.
fn template_problem(text: &str) -> Option<String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return match serde_json::from_str::<Value>(text) {
            Err(e) => Some(format!("the template is not valid JSON: {e}")),
            Ok(v) => match v.get("Resources") {
                Some(Value::Object(m)) if !m.is_empty() => None,
                _ => Some("the template has no Resources with at least one resource".into()),
            },
        };
    }
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && t != "---"
        })
        .collect();
    let top_level_key = |l: &str| {
        !l.starts_with([' ', '\t', '-'])
            && l.split_once(':')
                .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' ') || k.starts_with('"'))
    };
    if lines.first().is_none_or(|l| !top_level_key(l)) {
        return Some("the template is neither JSON nor a YAML mapping".into());
    }
    let resources = lines
        .iter()
        .position(|l| l.trim_end() == "Resources:" || l.starts_with("Resources: "));
    match resources {
        Some(i) if lines.get(i + 1).is_some_and(|l| l.starts_with([' ', '\t'])) => None,
        _ => Some("the template has no Resources with at least one resource".into()),
    }
}

/// Reads and checks the template `ProvisioningArtifactParameters.Info` names.
fn load_template(app: &App, params: &Map<String, Value>) -> Result<String, ApiError> {
    let info = params
        .get("Info")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            invalid("ProvisioningArtifactParameters.Info is required: give LoadTemplateFromURL")
        })?;
    if info.contains_key("ImportFromPhysicalId") {
        return Err(invalid(
            "ImportFromPhysicalId is not supported by rolewright: give LoadTemplateFromURL",
        ));
    }
    let url = info
        .get("LoadTemplateFromURL")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            invalid("ProvisioningArtifactParameters.Info must have LoadTemplateFromURL")
        })?;
    let path = template_path(url)?;
    let text = app
        .read_template_file(path, MAX_TEMPLATE_BYTES)
        .map_err(|e| match e {
            TemplateFileError::TooLarge(size) => invalid(format!(
                "The template `{url}` is {size} bytes; a template can be at most {MAX_TEMPLATE_BYTES}"
            )),
            e => invalid(format!("The template `{url}` cannot be read: {e}")),
        })?;
    let skip = params
        .get("DisableTemplateValidation")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !skip && let Some(problem) = template_problem(&text) {
        return Err(invalid(format!(
            "Invalid template at `{url}`: {problem}; a CloudFormation template in JSON or YAML \
             with a Resources section is expected"
        )));
    }
    Ok(text)
}

/// The product members shared by CreateProduct and UpdateProduct.
struct ProductFields {
    name: Option<String>,
    owner: Option<String>,
    description: Option<String>,
    distributor: Option<String>,
    support_description: Option<String>,
    support_email: Option<String>,
    support_url: Option<String>,
}

fn product_fields(input: &Members) -> ProductFields {
    ProductFields {
        name: input.string("Name"),
        owner: input.string("Owner"),
        description: input.string("Description"),
        distributor: input.string("Distributor"),
        support_description: input.string("SupportDescription"),
        support_email: input.string("SupportEmail"),
        support_url: input.string("SupportUrl"),
    }
}

async fn create_product(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let fields = product_fields(&input);
    let product_type = input.required("ProductType");
    let tags = tags_input(&input, "Tags")?;
    let token = input.required("IdempotencyToken");
    let params = input.object("ProvisioningArtifactParameters").cloned();
    let id = new_id("prod");
    let region = cx.facts.region.clone();
    let key = format!("CreateProduct/{token}");
    {
        let state = cx.app.store.read();
        let request = tags.clone();
        let arn = product_arn(&state, &region, &id);
        cx.authorize(&state, "servicecatalog:CreateProduct", &arn, |ctx| {
            request_tags(ctx, &request)
        })
        .map_err(|e| catalog_denial(e, &arn, &region, &state.account))?;
        if let Some(answer) = repeated(&state, &key) {
            return Ok(Reply::Json(answer));
        }
    }
    if product_type != "CLOUD_FORMATION_TEMPLATE" {
        return Err(invalid(format!(
            "ProductType {product_type} is not supported by rolewright: use CLOUD_FORMATION_TEMPLATE"
        )));
    }
    let params = params.ok_or_else(|| {
        invalid("ProvisioningArtifactParameters is required for a CLOUD_FORMATION_TEMPLATE product")
    })?;
    let template = load_template(cx.app, &params)?;
    let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let now = now_ms();
    let artifact = ProvisioningArtifact {
        id: new_id("pa"),
        name: text("Name"),
        description: text("Description"),
        artifact_type: text("Type").unwrap_or_else(|| "CLOUD_FORMATION_TEMPLATE".into()),
        created_ms: now,
        template,
        template_url: template_source(&params),
        active: true,
        guidance: "DEFAULT".into(),
    };
    let product = Product {
        id: id.clone(),
        view_id: new_id("prodview"),
        region,
        name: fields.name.unwrap_or_default(),
        owner: fields.owner.unwrap_or_default(),
        description: fields.description,
        distributor: fields.distributor,
        support_description: fields.support_description,
        support_email: fields.support_email,
        support_url: fields.support_url,
        product_type,
        created_ms: now,
        tags,
        artifacts: vec![artifact],
    };
    let answer = cx
        .write(|state| {
            if let Some(answer) = repeated(state, &key) {
                return Ok((answer, Vec::new()));
            }
            let answer = json!({
                "ProductViewDetail": view_detail(state, &product),
                "ProvisioningArtifactDetail": product.artifacts.first().map(artifact_detail),
                "Tags": tag_list(&product.tags),
            });
            let mut changes = vec![Change::put(kind::CATALOG_PRODUCT, id.clone(), &product)];
            state.products.insert(id, product);
            changes.extend(remember(state, key, &answer));
            Ok((answer, changes))
        })
        .await?;
    Ok(Reply::Json(answer))
}

/// Authorizes `action` on a product (with its tags) and returns it, or AWS's not-found.
fn authorize_product(
    cx: &mut Cx<'_>,
    state: &State,
    id: &str,
    action: &str,
    extend: impl FnOnce(&mut rolewright_iam::RequestContext),
) -> Result<Product, ApiError> {
    let product = state.products.get(id);
    let region = product.map_or_else(|| cx.facts.region.clone(), |p| p.region.clone());
    let tags = product.map(|p| p.tags.clone()).unwrap_or_default();
    cx.authorize(state, action, &product_arn(state, &region, id), |ctx| {
        resource_tags(ctx, &tags);
        extend(ctx);
    })?;
    product.cloned().ok_or_else(|| product_not_found(id))
}

/// The product an `Id` or `Name` member names (one of them is required).
fn product_by_id_or_name(
    state: &State,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<String, ApiError> {
    match (id, name) {
        (Some(id), _) => Ok(id.to_string()),
        (None, Some(name)) => state
            .products
            .values()
            .find(|p| p.name == name)
            .map(|p| p.id.clone())
            .ok_or_else(|| {
                not_found(format!(
                    "Product with name {name} does not exist or access was denied."
                ))
            }),
        (None, None) => Err(invalid("Either Id or Name must be specified")),
    }
}

fn launch_path_list(paths: &[(&Portfolio, &PortfolioProduct)]) -> Value {
    Value::Array(
        paths
            .iter()
            .map(|(p, l)| json!({"Id": l.path_id, "Name": p.display_name}))
            .collect(),
    )
}

fn describe_product(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.string("Id");
    let name = input.string("Name");
    let state = cx.app.store.read();
    let id = product_by_id_or_name(&state, id.as_deref(), name.as_deref())?;
    let product = authorize_product(
        cx,
        &state,
        &id,
        "servicecatalog:DescribeProduct",
        end_user_levels,
    )?;
    // The end user's view: a product only through a portfolio the caller is associated with.
    let paths = launch_paths(&state, &cx.caller.identity, &id);
    if paths.is_empty() {
        return Err(product_not_found(&id));
    }
    let artifacts: Vec<Value> = product
        .artifacts
        .iter()
        .map(|a| {
            let mut v = artifact_detail(a);
            if let Some(m) = v.as_object_mut() {
                m.remove("Type");
                m.remove("Active");
            }
            v
        })
        .collect();
    Ok(Reply::Json(json!({
        "ProductViewSummary": view_summary(&product),
        "ProvisioningArtifacts": artifacts,
        "Budgets": [],
        "LaunchPaths": launch_path_list(&paths),
    })))
}

fn describe_product_view(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let view = input.required("Id");
    let state = cx.app.store.read();
    authorize_account(
        cx,
        &state,
        "servicecatalog:DescribeProductView",
        end_user_levels,
    )?;
    let product = state
        .products
        .values()
        .find(|p| p.view_id == view)
        .filter(|p| !launch_paths(&state, &cx.caller.identity, &p.id).is_empty())
        .ok_or_else(|| not_found(format!("Product view not found: {view}")))?;
    let artifacts: Vec<Value> = product.artifacts.iter().map(artifact_detail).collect();
    Ok(Reply::Json(json!({
        "ProductViewSummary": view_summary(product),
        "ProvisioningArtifacts": artifacts,
    })))
}

fn describe_product_as_admin(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.string("Id");
    let name = input.string("Name");
    let state = cx.app.store.read();
    let id = product_by_id_or_name(&state, id.as_deref(), name.as_deref())?;
    let product = authorize_product(
        cx,
        &state,
        &id,
        "servicecatalog:DescribeProductAsAdmin",
        |_| {},
    )?;
    if !admin_sees(&state, &id, false) {
        return Err(product_not_found(&id));
    }
    let summaries: Vec<Value> = product
        .artifacts
        .iter()
        .map(|a| {
            let mut v = json!({
                "Id": a.id,
                "CreatedTime": timestamp(a.created_ms),
                "ProvisioningArtifactMetadata": {},
            });
            if let Some(n) = &a.name {
                v["Name"] = json!(n);
            }
            if let Some(d) = &a.description {
                v["Description"] = json!(d);
            }
            v
        })
        .collect();
    Ok(Reply::Json(json!({
        "ProductViewDetail": view_detail(&state, &product),
        "ProvisioningArtifactSummaries": summaries,
        "Tags": tag_list(&product.tags),
        "TagOptions": [],
        "Budgets": [],
    })))
}

/// `Filters`, `SortBy` and `SortOrder` of the two searches.
struct Search {
    filters: Vec<(String, Vec<String>)>,
    sort_by: Option<String>,
    descending: bool,
}

fn search_input(input: &Members) -> Result<Search, ApiError> {
    let strings = |values: &Value| -> Vec<String> {
        values
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let filters: Vec<(String, Vec<String>)> = input
        .object("Filters")
        .into_iter()
        .flatten()
        .map(|(key, values)| (key.clone(), strings(values)))
        .collect();
    // The model leaves out a filter whose values are null, and so never sees its key; an unknown
    // key is refused all the same, with the text rolewright has always given.
    let unknown: Vec<String> = filters
        .iter()
        .filter(|(key, _)| !FILTER_KEYS.contains(&key.as_str()))
        .map(|(key, _)| {
            format!(
                "Value '{key}' at 'filters' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                FILTER_KEYS.join(", ")
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(InputError::Validation { failures: unknown }.into());
    }
    Ok(Search {
        filters,
        sort_by: input.string("SortBy"),
        descending: input.str("SortOrder") == Some("DESCENDING"),
    })
}

impl Search {
    fn admits(&self, p: &Product) -> bool {
        self.filters.iter().all(|(key, values)| {
            values.is_empty()
                || values.iter().any(|v| match key.as_str() {
                    "FullTextSearch" => {
                        let v = v.to_lowercase();
                        [
                            Some(&p.name),
                            Some(&p.owner),
                            p.description.as_ref(),
                            p.distributor.as_ref(),
                        ]
                        .into_iter()
                        .flatten()
                        .any(|field| field.to_lowercase().contains(&v))
                    }
                    "Owner" => p.owner == *v,
                    "ProductType" => p.product_type == *v,
                    _ => p.id == *v,
                })
        })
    }

    fn apply<'p>(&self, mut products: Vec<&'p Product>) -> Vec<&'p Product> {
        products.retain(|p| self.admits(p));
        match self.sort_by.as_deref() {
            Some("Title") => products.sort_by(|a, b| a.name.cmp(&b.name)),
            Some("VersionCount") => products.sort_by_key(|p| p.artifacts.len()),
            _ => products.sort_by_key(|p| p.created_ms),
        }
        if self.descending {
            products.reverse();
        }
        products
    }
}

fn search_products(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (size, token) = paging(&input);
    let search = search_input(&input)?;
    let state = cx.app.store.read();
    authorize_account(cx, &state, "servicecatalog:SearchProducts", end_user_levels)?;
    let reachable: Vec<&Product> = state
        .products
        .values()
        .filter(|p| !launch_paths(&state, &cx.caller.identity, &p.id).is_empty())
        .collect();
    let summaries: Vec<Value> = search
        .apply(reachable)
        .into_iter()
        .map(view_summary)
        .collect();
    let (items, next) = page(&summaries, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"ProductViewSummaries": items, "ProductViewAggregations": {}}),
        next,
    )))
}

fn search_products_as_admin(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let portfolio = input.string("PortfolioId");
    let (size, token) = paging(&input);
    let search = search_input(&input)?;
    let account_only = input.str("ProductSource").is_some();
    let state = cx.app.store.read();
    authorize_account(cx, &state, "servicecatalog:SearchProductsAsAdmin", |_| {})?;
    let products: Vec<&Product> = match &portfolio {
        Some(id) => {
            let portfolio = visible(&state, id).ok_or_else(|| portfolio_not_found(id))?;
            portfolio
                .products
                .iter()
                .filter_map(|l| state.products.get(&l.product_id))
                .collect()
        }
        None => state
            .products
            .values()
            .filter(|p| admin_sees(&state, &p.id, account_only))
            .collect(),
    };
    let details: Vec<Value> = search
        .apply(products)
        .into_iter()
        .map(|p| view_detail(&state, p))
        .collect();
    let (items, next) = page(&details, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"ProductViewDetails": items}),
        next,
    )))
}

async fn update_product(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    let fields = product_fields(&input);
    let add = tags_input(&input, "AddTags")?;
    let remove = input.strings("RemoveTags");
    {
        let state = cx.app.store.read();
        let (a, r) = (add.clone(), remove.clone());
        authorize_product(cx, &state, &id, "servicecatalog:UpdateProduct", |ctx| {
            tag_keys_context(ctx, &a, &r)
        })?;
    }
    let answer = cx
        .write(|state| {
            let mut product = state
                .products
                .get(&id)
                .cloned()
                .ok_or_else(|| product_not_found(&id))?;
            product.tags = edit_tags(&product.tags, &add, &remove)?;
            let ProductFields {
                name,
                owner,
                description,
                distributor,
                support_description,
                support_email,
                support_url,
            } = fields;
            if let Some(v) = name {
                product.name = v;
            }
            if let Some(v) = owner {
                product.owner = v;
            }
            for (slot, value) in [
                (&mut product.description, description),
                (&mut product.distributor, distributor),
                (&mut product.support_description, support_description),
                (&mut product.support_email, support_email),
                (&mut product.support_url, support_url),
            ] {
                if value.is_some() {
                    *slot = value;
                }
            }
            let answer = json!({
                "ProductViewDetail": view_detail(state, &product),
                "Tags": tag_list(&product.tags),
            });
            let change = Change::put(kind::CATALOG_PRODUCT, id.clone(), &product);
            state.products.insert(id.clone(), product);
            Ok((answer, vec![change]))
        })
        .await?;
    Ok(Reply::Json(answer))
}

async fn delete_product(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    {
        let state = cx.app.store.read();
        authorize_product(cx, &state, &id, "servicecatalog:DeleteProduct", |_| {})?;
    }
    cx.write(|state| {
        if !state.products.contains_key(&id) {
            return Err(product_not_found(&id));
        }
        if let Some(p) = state
            .portfolios
            .values()
            .find(|p| p.products.iter().any(|l| l.product_id == id))
        {
            return Err(in_use(format!(
                "Product {id} is associated with portfolio {}; disassociate it first",
                p.id
            )));
        }
        state.products.remove(&id);
        Ok(((), vec![Change::delete(kind::CATALOG_PRODUCT, id.clone())]))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

// ---- provisioning artifacts -----------------------------------------------------------------

/// Versions a product may have (AWS's default quota).
const MAX_ARTIFACTS: usize = 100;

fn artifact_not_found(id: &str) -> ApiError {
    not_found(format!(
        "Provisioning artifact {id} does not exist or access was denied."
    ))
}

/// Where a template was read from: `Info.LoadTemplateFromURL` as given.
fn template_source(params: &Map<String, Value>) -> Option<String> {
    params
        .get("Info")
        .and_then(|info| info.get("LoadTemplateFromURL"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `out` with the artifact's `Info` (`{"TemplateUrl": ...}`), as AWS answers for a template
/// loaded from a URL. Artifacts stored before the URL was kept have none.
fn with_info(mut out: Value, a: &ProvisioningArtifact) -> Value {
    if let Some(url) = &a.template_url {
        out["Info"] = json!({"TemplateUrl": url});
    }
    out
}

/// The artifact of `product` that an id or a name names (one of them is required). Names need
/// not be unique; a name that more than one artifact carries is refused with AWS's text.
fn find_artifact<'p>(
    product: &'p Product,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<&'p ProvisioningArtifact, ApiError> {
    match (id, name) {
        (Some(id), _) => product
            .artifacts
            .iter()
            .find(|a| a.id == id)
            .ok_or_else(|| artifact_not_found(id)),
        (None, Some(name)) => {
            let named: Vec<&ProvisioningArtifact> = product
                .artifacts
                .iter()
                .filter(|a| a.name.as_deref() == Some(name))
                .collect();
            match named[..] {
                [one] => Ok(one),
                [] => Err(not_found(format!(
                    "Provisioning artifact with name {name} does not exist or access was denied."
                ))),
                _ => Err(invalid(format!(
                    "Multiple Provisioning Artifact with name {name} found."
                ))),
            }
        }
        (None, None) => Err(invalid(
            "Either ProvisioningArtifactId or ProvisioningArtifactName must be specified",
        )),
    }
}

/// Takes artifact `id` out of `product`, unless it is not there or is the last one: a product
/// always has at least one version.
fn remove_artifact(product: &mut Product, id: &str) -> Result<(), ApiError> {
    let Some(i) = product.artifacts.iter().position(|a| a.id == id) else {
        return Err(artifact_not_found(id));
    };
    if product.artifacts.len() == 1 {
        return Err(invalid(
            "You cannot delete the last provisioning artifact for a product, because a product \
             must have at least one provisioning artifact.",
        ));
    }
    product.artifacts.remove(i);
    Ok(())
}

async fn create_provisioning_artifact(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let product = input.required("ProductId");
    let params = input.object("Parameters").cloned().unwrap_or_default();
    let token = input.required("IdempotencyToken");
    let key = format!("CreateProvisioningArtifact/{token}");
    {
        let state = cx.app.store.read();
        authorize_product(
            cx,
            &state,
            &product,
            "servicecatalog:CreateProvisioningArtifact",
            |_| {},
        )?;
        if let Some(answer) = repeated(&state, &key) {
            return Ok(Reply::Json(answer));
        }
    }
    let artifact_type = params
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("CLOUD_FORMATION_TEMPLATE");
    if artifact_type != "CLOUD_FORMATION_TEMPLATE" {
        return Err(invalid(format!(
            "Type {artifact_type} is not supported by rolewright: use CLOUD_FORMATION_TEMPLATE"
        )));
    }
    // The member is `Parameters` here, `ProvisioningArtifactParameters` in CreateProduct.
    let template = load_template(cx.app, &params).map_err(|e| ApiError {
        message: e
            .message
            .replace("ProvisioningArtifactParameters.", "Parameters."),
        ..e
    })?;
    let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let artifact = ProvisioningArtifact {
        id: new_id("pa"),
        name: text("Name"),
        description: text("Description"),
        artifact_type: artifact_type.to_string(),
        created_ms: now_ms(),
        template,
        template_url: template_source(&params),
        active: true,
        guidance: "DEFAULT".into(),
    };
    let answer = cx
        .write(|state| {
            if let Some(answer) = repeated(state, &key) {
                return Ok((answer, Vec::new()));
            }
            let mut target = state
                .products
                .get(&product)
                .cloned()
                .ok_or_else(|| product_not_found(&product))?;
            if target.artifacts.len() >= MAX_ARTIFACTS {
                return Err(limit(format!(
                    "Product {product} already has {MAX_ARTIFACTS} provisioning artifacts, the \
                     most a product can have"
                )));
            }
            let answer = with_info(
                json!({
                    "ProvisioningArtifactDetail": artifact_detail(&artifact),
                    "Status": "CREATING",
                }),
                &artifact,
            );
            target.artifacts.push(artifact);
            let mut changes = vec![Change::put(kind::CATALOG_PRODUCT, product.clone(), &target)];
            state.products.insert(product.clone(), target);
            changes.extend(remember(state, key, &answer));
            Ok((answer, changes))
        })
        .await?;
    Ok(Reply::Json(answer))
}

fn describe_provisioning_artifact(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let artifact_id = input.string("ProvisioningArtifactId");
    let product_id = input.string("ProductId");
    let artifact_name = input.string("ProvisioningArtifactName");
    let product_name = input.string("ProductName");
    let with_parameters = input.bool("IncludeProvisioningArtifactParameters") == Some(true);
    let state = cx.app.store.read();
    if product_id.is_none() && product_name.is_none() {
        return Err(invalid("Either ProductId or ProductName must be specified"));
    }
    let id = product_by_id_or_name(&state, product_id.as_deref(), product_name.as_deref())?;
    let product = authorize_product(
        cx,
        &state,
        &id,
        "servicecatalog:DescribeProvisioningArtifact",
        |_| {},
    )?;
    let artifact = find_artifact(&product, artifact_id.as_deref(), artifact_name.as_deref())?;
    // `Info` is in every answer (AWS's own examples show it without `Verbose`), so `Verbose` adds
    // nothing here.
    let mut out = with_info(
        json!({
            "ProvisioningArtifactDetail": artifact_detail(artifact),
            "Status": "AVAILABLE",
        }),
        artifact,
    );
    if with_parameters {
        out["ProvisioningArtifactParameters"] =
            Value::Array(template_parameters(&artifact.template));
    }
    Ok(Reply::Json(out))
}

fn list_provisioning_artifacts(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let product = input.required("ProductId");
    let state = cx.app.store.read();
    let product = authorize_product(
        cx,
        &state,
        &product,
        "servicecatalog:ListProvisioningArtifacts",
        |_| {},
    )?;
    let details: Vec<Value> = product.artifacts.iter().map(artifact_detail).collect();
    Ok(Reply::Json(json!({"ProvisioningArtifactDetails": details})))
}

async fn delete_provisioning_artifact(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let product = input.required("ProductId");
    let artifact = input.required("ProvisioningArtifactId");
    {
        let state = cx.app.store.read();
        authorize_product(
            cx,
            &state,
            &product,
            "servicecatalog:DeleteProvisioningArtifact",
            |_| {},
        )?;
    }
    cx.write(|state| {
        let mut target = state
            .products
            .get(&product)
            .cloned()
            .ok_or_else(|| product_not_found(&product))?;
        remove_artifact(&mut target, &artifact)?;
        let change = Change::put(kind::CATALOG_PRODUCT, product.clone(), &target);
        state.products.insert(product.clone(), target);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

/// A template parameter's declared properties, as text: numbers and booleans as CloudFormation
/// reads them, lists (`AllowedValues`) as lists of text.
type Declared = Map<String, Value>;

/// The `Parameters` a template declares, in its order, as DescribeProvisioningArtifact answers
/// them (`ProvisioningArtifactParameters`). JSON templates are parsed; for YAML the block
/// mappings under a top-level `Parameters:` are read (scalars, `[a, b]` and `- a` lists), which
/// is what parameter declarations use.
fn template_parameters(text: &str) -> Vec<Value> {
    let declared = if text.trim_start().starts_with('{') {
        json_parameters(text)
    } else {
        yaml_parameters(text)
    };
    declared
        .into_iter()
        .map(|(key, props)| parameter_answer(&key, &props))
        .collect()
}

fn json_parameters(text: &str) -> Vec<(String, Declared)> {
    let Ok(Value::Object(template)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let Some(Value::Object(parameters)) = template.get("Parameters") else {
        return Vec::new();
    };
    parameters
        .iter()
        .map(|(key, props)| {
            let props = props.as_object().cloned().unwrap_or_default();
            (key.clone(), props)
        })
        .collect()
}

/// A YAML scalar without its quotes and trailing comment.
fn yaml_scalar(raw: &str) -> String {
    let raw = raw.trim();
    for quote in ['\'', '"'] {
        if let Some(inner) = raw.strip_prefix(quote)
            && let Some(end) = inner.rfind(quote)
        {
            return inner[..end].to_string();
        }
    }
    match raw.find(" #") {
        Some(i) => raw[..i].trim_end().to_string(),
        None => raw.to_string(),
    }
}

fn yaml_parameters(text: &str) -> Vec<(String, Declared)> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == "Parameters:") else {
        return Vec::new();
    };
    let block: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| indent(l) > 0)
        .copied()
        .collect();
    let Some(key_indent) = block.first().map(|l| indent(l)) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Declared)> = Vec::new();
    // The property whose `- item` lines follow.
    let mut open_list: Option<String> = None;
    for line in block {
        let depth = indent(line);
        let body = line.trim();
        if depth == key_indent {
            if let Some((key, _)) = body.split_once(':') {
                out.push((yaml_scalar(key), Declared::new()));
            }
            open_list = None;
            continue;
        }
        let Some((_, props)) = out.last_mut() else {
            continue;
        };
        if let Some(item) = body.strip_prefix("- ")
            && let Some(list) = open_list.as_ref().and_then(|name| props.get_mut(name))
            && let Some(items) = list.as_array_mut()
        {
            items.push(json!(yaml_scalar(item)));
            continue;
        }
        let Some((name, value)) = body.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_string(), value.trim());
        if value.is_empty() {
            props.insert(name.clone(), json!([]));
            open_list = Some(name);
        } else if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            let items: Vec<String> = inner
                .split(',')
                .map(yaml_scalar)
                .filter(|s| !s.is_empty())
                .collect();
            props.insert(name, json!(items));
            open_list = None;
        } else {
            props.insert(name, json!(yaml_scalar(value)));
            open_list = None;
        }
    }
    out
}

/// One `ProvisioningArtifactParameter`.
fn parameter_answer(key: &str, props: &Declared) -> Value {
    let text = |name: &str| match props.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    };
    let mut out = json!({
        "ParameterKey": key,
        "ParameterType": text("Type").unwrap_or_else(|| "String".into()),
        "IsNoEcho": text("NoEcho").is_some_and(|v| v.eq_ignore_ascii_case("true")),
    });
    if let Some(v) = text("Default") {
        out["DefaultValue"] = json!(v);
    }
    if let Some(v) = text("Description") {
        out["Description"] = json!(v);
    }
    let allowed: Vec<String> = props
        .get("AllowedValues")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut constraints = json!({"AllowedValues": allowed});
    for name in [
        "AllowedPattern",
        "ConstraintDescription",
        "MaxLength",
        "MinLength",
        "MaxValue",
        "MinValue",
    ] {
        if let Some(v) = text(name) {
            constraints[name] = json!(v);
        }
    }
    out["ParameterConstraints"] = constraints;
    out
}

// ---- product and portfolio links ------------------------------------------------------------

/// `ProductId` and `PortfolioId`.
fn link_input(input: &Members) -> (String, String) {
    (input.required("ProductId"), input.required("PortfolioId"))
}

async fn associate_product(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (product, portfolio) = link_input(&input);
    {
        let state = cx.app.store.read();
        authorize_account(
            cx,
            &state,
            "servicecatalog:AssociateProductWithPortfolio",
            |_| {},
        )?;
    }
    let path_id = new_id("lpv3");
    cx.write(|state| {
        if !state.products.contains_key(&product) {
            return Err(product_not_found(&product));
        }
        let mut target = visible(state, &portfolio)
            .cloned()
            .ok_or_else(|| portfolio_not_found(&portfolio))?;
        if target.products.iter().any(|l| l.product_id == product) {
            return Ok(((), Vec::new()));
        }
        target.products.push(PortfolioProduct {
            product_id: product.clone(),
            path_id,
        });
        let change = Change::put(kind::CATALOG_PORTFOLIO, portfolio.clone(), &target);
        state.portfolios.insert(portfolio.clone(), target);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

async fn disassociate_product(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (product, portfolio) = link_input(&input);
    {
        let state = cx.app.store.read();
        authorize_account(
            cx,
            &state,
            "servicecatalog:DisassociateProductFromPortfolio",
            |_| {},
        )?;
    }
    cx.write(|state| {
        let mut target = visible(state, &portfolio)
            .cloned()
            .ok_or_else(|| portfolio_not_found(&portfolio))?;
        if !target.products.iter().any(|l| l.product_id == product) {
            return Err(not_found(format!(
                "Product {product} is not associated with portfolio {portfolio}"
            )));
        }
        if let Some(c) = state
            .constraints
            .values()
            .find(|c| c.portfolio_id == portfolio && c.product_id == product)
        {
            return Err(in_use(format!(
                "Product {product} has constraint {} in portfolio {portfolio}; delete it first",
                c.id
            )));
        }
        target.products.retain(|l| l.product_id != product);
        let change = Change::put(kind::CATALOG_PORTFOLIO, portfolio.clone(), &target);
        state.portfolios.insert(portfolio.clone(), target);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

fn list_portfolios_for_product(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let product = input.required("ProductId");
    let (size, token) = paging(&input);
    let state = cx.app.store.read();
    authorize_product(
        cx,
        &state,
        &product,
        "servicecatalog:ListPortfoliosForProduct",
        |_| {},
    )?;
    let mut holding: Vec<&Portfolio> = state
        .portfolios
        .values()
        .filter(|p| visible(&state, &p.id).is_some())
        .filter(|p| p.products.iter().any(|l| l.product_id == product))
        .collect();
    holding.sort_by_key(|p| p.created_ms);
    let details: Vec<Value> = holding
        .iter()
        .map(|p| portfolio_detail(&state, p))
        .collect();
    let (items, next) = page(&details, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"PortfolioDetails": items}),
        next,
    )))
}

// ---- constraints ----------------------------------------------------------------------------

const CONSTRAINT_TYPES: &[&str] = &[
    "LAUNCH",
    "NOTIFICATION",
    "RESOURCE_UPDATE",
    "STACKSET",
    "TEMPLATE",
];

fn constraint_detail(state: &State, c: &CatalogConstraint) -> Value {
    let mut out = json!({
        "ConstraintId": c.id,
        "Type": c.constraint_type,
        "Owner": state.account,
        "ProductId": c.product_id,
        "PortfolioId": c.portfolio_id,
    });
    if let Some(d) = &c.description {
        out["Description"] = json!(d);
    }
    out
}

/// The launch role a LAUNCH constraint's parameters name: `{"RoleArn": ...}` or
/// `{"LocalRoleName": ...}`, exactly one.
fn launch_role(state: &State, parameters: &str) -> Result<String, ApiError> {
    let object = serde_json::from_str::<Value>(parameters)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .ok_or_else(|| invalid(format!("Parameters `{parameters}` must be a JSON object")))?;
    let text = |k: &str| {
        object
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (text("RoleArn"), text("LocalRoleName")) {
        (Some(arn), None) => Ok(arn.to_string()),
        (None, Some(name)) => state.role(name).map(|r| state.role_arn(r)).ok_or_else(|| {
            invalid(format!(
                "LocalRoleName {name}: no such role in account {}",
                state.account
            ))
        }),
        (Some(_), Some(_)) => Err(invalid(
            "Parameters of a LAUNCH constraint may have RoleArn or LocalRoleName, not both",
        )),
        (None, None) => Err(invalid(
            "Parameters of a LAUNCH constraint need RoleArn ({\"RoleArn\": \"arn:aws:iam::123456789012:role/LaunchRole\"}) or LocalRoleName",
        )),
    }
}

/// Checks a constraint's `Parameters`: a LAUNCH constraint's launch role must exist and the
/// caller must be allowed to pass it to Service Catalog; other types need a JSON object.
fn check_constraint_parameters(
    cx: &mut Cx<'_>,
    state: &State,
    constraint_type: &str,
    parameters: &str,
) -> Result<(), ApiError> {
    if constraint_type == "LAUNCH" {
        let role = launch_role(state, parameters)?;
        cx.authorize_pass_role(state, &role, SERVICE_PRINCIPAL)
            .map_err(|e| {
                if e.code == "InvalidParameterValue" {
                    invalid(format!("The launch role {role} does not exist"))
                } else {
                    e
                }
            })?;
    } else if serde_json::from_str::<Value>(parameters).map_or(true, |v| !v.is_object()) {
        return Err(invalid(format!(
            "Parameters `{parameters}` must be a JSON object"
        )));
    }
    Ok(())
}

async fn create_constraint(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let portfolio = input.required("PortfolioId");
    let product = input.required("ProductId");
    let parameters = input.required("Parameters");
    let constraint_type = input.required("Type");
    let description = input.string("Description");
    let token = input.required("IdempotencyToken");
    let key = format!("CreateConstraint/{token}");
    {
        let state = cx.app.store.read();
        authorize_product(
            cx,
            &state,
            &product,
            "servicecatalog:CreateConstraint",
            |_| {},
        )?;
        if let Some(answer) = repeated(&state, &key) {
            return Ok(Reply::Json(answer));
        }
        let target = visible(&state, &portfolio).ok_or_else(|| portfolio_not_found(&portfolio))?;
        if !target.products.iter().any(|l| l.product_id == product) {
            return Err(not_found(format!(
                "Product {product} is not associated with portfolio {portfolio}"
            )));
        }
        if !CONSTRAINT_TYPES.contains(&constraint_type.as_str()) {
            return Err(invalid(format!(
                "Type {constraint_type} is not a constraint type: use one of {}",
                CONSTRAINT_TYPES.join(", ")
            )));
        }
        check_constraint_parameters(cx, &state, &constraint_type, &parameters)?;
    }
    let constraint = CatalogConstraint {
        id: new_id("cons"),
        constraint_type: constraint_type.clone(),
        description,
        portfolio_id: portfolio.clone(),
        product_id: product.clone(),
        parameters: parameters.clone(),
        created_ms: now_ms(),
    };
    let answer = cx
        .write(|state| {
            if let Some(answer) = repeated(state, &key) {
                return Ok((answer, Vec::new()));
            }
            let same_link = |c: &&CatalogConstraint| {
                c.portfolio_id == portfolio && c.product_id == product
            };
            let existing: Vec<&CatalogConstraint> =
                state.constraints.values().filter(same_link).collect();
            if constraint_type == "LAUNCH" && existing.iter().any(|c| c.constraint_type == "LAUNCH")
            {
                return Err(ApiError::new(
                    "DuplicateResourceException",
                    400,
                    format!(
                        "Product {product} already has a LAUNCH constraint in portfolio {portfolio}"
                    ),
                ));
            }
            let clash = match constraint_type.as_str() {
                "LAUNCH" => "STACKSET",
                "STACKSET" => "LAUNCH",
                _ => "",
            };
            if existing.iter().any(|c| c.constraint_type == clash) {
                return Err(invalid(format!(
                    "A product cannot have both a LAUNCH and a STACKSET constraint in portfolio {portfolio}"
                )));
            }
            let answer = json!({
                "ConstraintDetail": constraint_detail(state, &constraint),
                "ConstraintParameters": constraint.parameters,
                "Status": "CREATING",
            });
            let mut changes = vec![Change::put(kind::CATALOG_CONSTRAINT, constraint.id.clone(), &constraint)];
            state.constraints.insert(constraint.id.clone(), constraint);
            changes.extend(remember(state, key, &answer));
            Ok((answer, changes))
        })
        .await?;
    Ok(Reply::Json(answer))
}

fn constraint_not_found(id: &str) -> ApiError {
    not_found(format!("Constraint not found: {id}"))
}

fn describe_constraint(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    let state = cx.app.store.read();
    authorize_account(cx, &state, "servicecatalog:DescribeConstraint", |_| {})?;
    let constraint = state
        .constraints
        .get(&id)
        .ok_or_else(|| constraint_not_found(&id))?;
    Ok(Reply::Json(json!({
        "ConstraintDetail": constraint_detail(&state, constraint),
        "ConstraintParameters": constraint.parameters,
        "Status": "AVAILABLE",
    })))
}

async fn update_constraint(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    let description = input.string("Description");
    let parameters = input.string("Parameters");
    {
        let state = cx.app.store.read();
        authorize_account(cx, &state, "servicecatalog:UpdateConstraint", |_| {})?;
        let constraint = state
            .constraints
            .get(&id)
            .ok_or_else(|| constraint_not_found(&id))?;
        if let Some(p) = &parameters {
            check_constraint_parameters(cx, &state, &constraint.constraint_type, p)?;
        }
    }
    let answer = cx
        .write(|state| {
            let mut constraint = state
                .constraints
                .get(&id)
                .cloned()
                .ok_or_else(|| constraint_not_found(&id))?;
            if let Some(d) = description {
                constraint.description = Some(d);
            }
            if let Some(p) = parameters {
                constraint.parameters = p;
            }
            // AWS's own example of UpdateConstraint answers CREATING, as CreateConstraint does.
            let answer = json!({
                "ConstraintDetail": constraint_detail(state, &constraint),
                "ConstraintParameters": constraint.parameters,
                "Status": "CREATING",
            });
            let change = Change::put(kind::CATALOG_CONSTRAINT, id.clone(), &constraint);
            state.constraints.insert(id.clone(), constraint);
            Ok((answer, vec![change]))
        })
        .await?;
    Ok(Reply::Json(answer))
}

async fn delete_constraint(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    {
        let state = cx.app.store.read();
        authorize_account(cx, &state, "servicecatalog:DeleteConstraint", |_| {})?;
    }
    cx.write(|state| {
        if state.constraints.remove(&id).is_none() {
            return Err(constraint_not_found(&id));
        }
        Ok((
            (),
            vec![Change::delete(kind::CATALOG_CONSTRAINT, id.clone())],
        ))
    })
    .await?;
    Ok(Reply::Json(json!({})))
}

fn list_constraints(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let portfolio = input.required("PortfolioId");
    let product = input.string("ProductId");
    let (size, token) = paging(&input);
    let state = cx.app.store.read();
    authorize_account(
        cx,
        &state,
        "servicecatalog:ListConstraintsForPortfolio",
        |_| {},
    )?;
    visible(&state, &portfolio).ok_or_else(|| portfolio_not_found(&portfolio))?;
    let mut found: Vec<&CatalogConstraint> = state
        .constraints
        .values()
        .filter(|c| c.portfolio_id == portfolio)
        .filter(|c| product.as_deref().is_none_or(|p| c.product_id == p))
        .collect();
    found.sort_by_key(|c| c.created_ms);
    let details: Vec<Value> = found.iter().map(|c| constraint_detail(&state, c)).collect();
    let (items, next) = page(&details, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"ConstraintDetails": items}),
        next,
    )))
}

/// The `ConstraintSummaries` of `product` in `portfolio`: each constraint's type and
/// description.
fn constraint_summaries(state: &State, portfolio: &str, product: &str) -> Vec<Value> {
    state
        .constraints
        .values()
        .filter(|c| c.portfolio_id == portfolio && c.product_id == product)
        .map(|c| {
            let mut v = json!({"Type": c.constraint_type});
            if let Some(d) = &c.description {
                v["Description"] = json!(d);
            }
            v
        })
        .collect()
}

fn list_launch_paths(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let product = input.required("ProductId");
    let (size, token) = paging(&input);
    let state = cx.app.store.read();
    authorize_product(
        cx,
        &state,
        &product,
        "servicecatalog:ListLaunchPaths",
        end_user_levels,
    )
    .map_err(|e| {
        if e.code == "ResourceNotFoundException" {
            no_launch_paths(&product)
        } else {
            e
        }
    })?;
    let paths = launch_paths(&state, &cx.caller.identity, &product);
    if paths.is_empty() {
        return Err(no_launch_paths(&product));
    }
    let summaries: Vec<Value> = paths
        .iter()
        .map(|(p, l)| {
            json!({
                "Id": l.path_id,
                "ConstraintSummaries": constraint_summaries(&state, &p.id, &product),
                "Tags": tag_list(&p.tags),
                "Name": p.display_name,
            })
        })
        .collect();
    let (items, next) = page(&summaries, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"LaunchPathSummaries": items}),
        next,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_authorized_as_its_servicecatalog_action() {
        for op in OPERATIONS {
            assert_eq!(op.action, format!("servicecatalog:{}", op.name));
        }
        assert_eq!(OPERATIONS.len(), 42);
    }

    #[test]
    fn sagemakers_products_are_valid_products_with_stand_in_templates() {
        let products = sagemaker_products("us-east-1", 0);
        assert_eq!(products.len(), SAGEMAKER_PRODUCTS.len());
        for p in &products {
            assert_eq!(p.owner, SAGEMAKER_PROVIDER);
            assert!(p.name.len() <= 8191 && p.name.starts_with("MLOps template for "));
            let template = &p.artifacts[0].template;
            assert_eq!(template_problem(template), None, "{template}");
            assert!(template.contains(&p.name), "{template}");
        }
        let ids: std::collections::BTreeSet<&str> =
            products.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), products.len());
    }

    #[test]
    fn iam_patterns_follow_awss_wildcards() {
        assert!(pattern_matches(
            "arn:aws:iam:::role/ResourceName_*",
            "arn:aws:iam:::role/ResourceName_x1"
        ));
        assert!(pattern_matches(
            "arn:aws:iam:::role/*/ResourceName_?",
            "arn:aws:iam:::role/pathA/pathB/ResourceName_1"
        ));
        assert!(pattern_matches(
            "arn:aws:iam:::role/*/ResourceName_?",
            "arn:aws:iam:::role/pathA/ResourceName_"
        ));
        assert!(!pattern_matches(
            "arn:aws:iam:::role/*/ResourceName_?",
            "arn:aws:iam:::role/pathA/ResourceName_12"
        ));
        assert!(pattern_matches(
            "arn:aws:iam:::role/exact",
            "arn:aws:iam:::role/exact"
        ));
        assert!(!pattern_matches(
            "arn:aws:iam:::role/exact",
            "arn:aws:iam:::role/exact2"
        ));
        assert_eq!(
            without_account("arn:aws:iam::123456789012:role/a/b"),
            "arn:aws:iam:::role/a/b"
        );
    }

    #[test]
    fn pattern_principals_must_be_account_less_with_wildcards_after_the_type() {
        let state = State::default();
        assert!(check_principal(&state, "arn:aws:iam:::role/ds-*", "IAM_PATTERN").is_ok());
        let wild_type = check_principal(&state, "arn:aws:iam:::*/ResourceName", "IAM_PATTERN");
        assert_eq!(
            wild_type.map_err(|e| e.code),
            Err("InvalidParametersException")
        );
        let with_account =
            check_principal(&state, "arn:aws:iam::123456789012:role/x", "IAM_PATTERN");
        assert!(with_account.is_err());
        let missing = check_principal(&state, "arn:aws:iam::123456789012:role/x", "IAM");
        assert!(
            missing
                .unwrap_err()
                .message
                .contains("no such IAM user, group or role")
        );
    }

    #[test]
    fn execution_roles_reach_the_sagemaker_portfolio_by_association_or_pattern() {
        let mut state = State::default();
        let principal = |arn: &str, principal_type: &str| PortfolioPrincipal {
            arn: arn.into(),
            principal_type: principal_type.into(),
        };
        state.portfolios.insert(
            "port-a".into(),
            Portfolio {
                id: "port-a".into(),
                region: "us-east-1".into(),
                display_name: SAGEMAKER_PORTFOLIO_NAME.into(),
                description: None,
                provider_name: SAGEMAKER_PROVIDER.into(),
                created_ms: 0,
                tags: Vec::new(),
                principals: vec![
                    principal("arn:aws:iam::123456789012:role/alice", "IAM"),
                    principal("arn:aws:iam:::role/team/*", "IAM_PATTERN"),
                ],
                products: Vec::new(),
                imported: true,
            },
        );
        let reaches = |arn: &str| role_in_sagemaker_portfolio(&state, arn);
        assert!(reaches("arn:aws:iam::123456789012:role/alice"));
        assert!(reaches("arn:aws:iam::123456789012:role/team/bob"));
        assert!(!reaches("arn:aws:iam::123456789012:role/carol"));
    }

    #[test]
    fn templates_need_resources() {
        assert_eq!(
            template_problem(r#"{"Resources": {"R": {"Type": "AWS::IAM::Role"}}}"#),
            None
        );
        assert!(template_problem(r#"{"Parameters": {}}"#).is_some());
        assert!(template_problem("{not json").is_some());
        let yaml = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Role:\n    Type: AWS::IAM::Role\n";
        assert_eq!(template_problem(yaml), None);
        assert!(template_problem("Description: x\nOutputs:\n  A: 1\n").is_some());
        assert!(template_problem("just some words\n").is_some());
    }

    #[test]
    fn pages_carry_their_offset() {
        let items: Vec<u32> = (0..5).collect();
        let (first, next) = page(&items, None, 2).unwrap();
        assert_eq!((first, next.as_deref()), (vec![0, 1], Some("page-2")));
        let (last, next) = page(&items, Some("page-4"), 2).unwrap();
        assert_eq!((last, next), (vec![4], None));
        assert!(page(&items, Some("bogus"), 2).is_err());
    }

    fn artifact(id: &str, name: Option<&str>) -> ProvisioningArtifact {
        ProvisioningArtifact {
            id: id.into(),
            name: name.map(str::to_string),
            description: None,
            artifact_type: "CLOUD_FORMATION_TEMPLATE".into(),
            created_ms: 0,
            template: String::new(),
            template_url: None,
            active: true,
            guidance: "DEFAULT".into(),
        }
    }

    fn product_with(artifacts: Vec<ProvisioningArtifact>) -> Product {
        Product {
            id: "prod-a".into(),
            view_id: "prodview-a".into(),
            region: "us-east-1".into(),
            name: "p".into(),
            owner: "o".into(),
            description: None,
            distributor: None,
            support_description: None,
            support_email: None,
            support_url: None,
            product_type: "CLOUD_FORMATION_TEMPLATE".into(),
            created_ms: 0,
            tags: Vec::new(),
            artifacts,
        }
    }

    #[test]
    fn artifacts_are_found_by_id_or_by_a_name_only_one_carries() {
        let product = product_with(vec![
            artifact("pa-1", Some("v1")),
            artifact("pa-2", Some("v2")),
            artifact("pa-3", Some("v2")),
        ]);
        let found = |id: Option<&str>, name: Option<&str>| {
            find_artifact(&product, id, name)
                .map(|a| a.id.clone())
                .map_err(|e| (e.code, e.message))
        };
        assert_eq!(found(Some("pa-2"), Some("v1")), Ok("pa-2".into()));
        assert_eq!(found(None, Some("v1")), Ok("pa-1".into()));
        assert_eq!(
            found(Some("pa-9"), None),
            Err((
                "ResourceNotFoundException",
                "Provisioning artifact pa-9 does not exist or access was denied.".into()
            ))
        );
        assert_eq!(
            found(None, Some("v2")),
            Err((
                "InvalidParametersException",
                "Multiple Provisioning Artifact with name v2 found.".into()
            ))
        );
        assert_eq!(
            found(None, Some("v3")).map_err(|e| e.0),
            Err("ResourceNotFoundException")
        );
        assert_eq!(
            found(None, None).map_err(|e| e.0),
            Err("InvalidParametersException")
        );
    }

    #[test]
    fn the_last_artifact_of_a_product_stays() {
        let mut product = product_with(vec![artifact("pa-1", None), artifact("pa-2", None)]);
        assert_eq!(
            remove_artifact(&mut product, "pa-9").map_err(|e| e.code),
            Err("ResourceNotFoundException")
        );
        assert!(remove_artifact(&mut product, "pa-1").is_ok());
        assert_eq!(product.artifacts.len(), 1);
        let last = remove_artifact(&mut product, "pa-2").unwrap_err();
        assert_eq!(last.code, "InvalidParametersException");
        assert_eq!(
            last.message,
            "You cannot delete the last provisioning artifact for a product, because a product \
             must have at least one provisioning artifact."
        );
        assert_eq!(product.artifacts[0].id, "pa-2");
    }

    #[test]
    fn template_parameters_are_read_from_json_and_yaml() {
        let json_template = r#"{"Parameters": {
            "Size": {"Type": "Number", "Default": 5, "MinValue": 1, "AllowedValues": [1, 5]},
            "Secret": {"Type": "String", "NoEcho": true, "Description": "kept"}
        }, "Resources": {"R": {"Type": "AWS::IAM::Role"}}}"#;
        let read = template_parameters(json_template);
        assert_eq!(
            read[0],
            json!({"ParameterKey": "Size", "ParameterType": "Number", "IsNoEcho": false,
                   "DefaultValue": "5",
                   "ParameterConstraints": {"AllowedValues": ["1", "5"], "MinValue": "1"}})
        );
        assert_eq!(read[1]["IsNoEcho"], json!(true));
        assert_eq!(read[1]["Description"], json!("kept"));

        let yaml = "AWSTemplateFormatVersion: '2010-09-09'\n\
                    Parameters:\n  \
                      DomainId:\n    \
                        Type: String\n    \
                        Description: \"the domain\" # a comment\n  \
                      Tier:\n    \
                        Type: String\n    \
                        Default: small\n    \
                        AllowedValues:\n      \
                          - small\n      \
                          - 'large'\n  \
                      Zones:\n    \
                        Type: CommaDelimitedList\n    \
                        AllowedValues: [a, b]\n\
                    Resources:\n  \
                      Profile:\n    \
                        Type: AWS::SageMaker::UserProfile\n";
        let read = template_parameters(yaml);
        let keys: Vec<&str> = read
            .iter()
            .filter_map(|p| p["ParameterKey"].as_str())
            .collect();
        assert_eq!(keys, ["DomainId", "Tier", "Zones"]);
        assert_eq!(read[0]["Description"], json!("the domain"));
        assert_eq!(read[1]["DefaultValue"], json!("small"));
        assert_eq!(
            read[1]["ParameterConstraints"]["AllowedValues"],
            json!(["small", "large"])
        );
        assert_eq!(
            read[2]["ParameterConstraints"]["AllowedValues"],
            json!(["a", "b"])
        );
        assert!(template_parameters("Resources:\n  R:\n    Type: X\n").is_empty());
    }

    #[test]
    fn only_the_imported_portfolio_is_a_share_and_only_as_imported() {
        let mut portfolio = Portfolio {
            id: "port-a".into(),
            region: "us-east-1".into(),
            display_name: SAGEMAKER_PORTFOLIO_NAME.into(),
            description: None,
            provider_name: SAGEMAKER_PROVIDER.into(),
            created_ms: 0,
            tags: Vec::new(),
            principals: Vec::new(),
            products: Vec::new(),
            imported: true,
        };
        assert!(held_share(&portfolio, "IMPORTED").is_ok());
        for other in ["AWS_ORGANIZATIONS", "AWS_SERVICECATALOG"] {
            let e = held_share(&portfolio, other).unwrap_err();
            assert_eq!(
                (e.code, e.message.as_str()),
                ("ResourceNotFoundException", "Portfolio not found: port-a")
            );
        }
        portfolio.imported = false;
        assert!(held_share(&portfolio, "IMPORTED").is_err());
    }
}
