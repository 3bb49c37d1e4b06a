//! SageMaker Studio over JSON 1.1 (`X-Amz-Target: SageMaker.*`): domains, user profiles, tags
//! and the account's Service Catalog portfolio switch. Every operation is authorized by the
//! engine on the ARN the Service Authorization Reference gives, with the request's tags and
//! SageMaker condition keys, and checks `iam:PassRole` on every execution role it is given.

use serde_json::{Map, Value, json};

use crate::authz::request_tags;
use crate::error::ApiError;
use crate::ids;
use crate::model::{App, Change, Domain, Space, State, Tag, UserProfile, kind};
use crate::server::{Cx, Reply};
use crate::wire::json::timestamp;

/// One SageMaker operation: its name and the IAM action it is authorized as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// `CreateDomain`.
    pub name: &'static str,
    /// `sagemaker:CreateDomain`.
    pub action: &'static str,
}

macro_rules! operations {
    ($($name:literal),* $(,)?) => {
        /// Every operation served, in the order of the SageMaker API reference's Studio pages.
        pub const OPERATIONS: &[Operation] = &[
            $(Operation { name: $name, action: concat!("sagemaker:", $name) }),*
        ];
    };
}

operations![
    "CreateDomain",
    "DescribeDomain",
    "ListDomains",
    "UpdateDomain",
    "DeleteDomain",
    "CreateUserProfile",
    "DescribeUserProfile",
    "ListUserProfiles",
    "UpdateUserProfile",
    "DeleteUserProfile",
    "CreateSpace",
    "DescribeSpace",
    "ListSpaces",
    "UpdateSpace",
    "DeleteSpace",
    "CreateApp",
    "DescribeApp",
    "ListApps",
    "DeleteApp",
    "CreatePresignedDomainUrl",
    "AddTags",
    "ListTags",
    "DeleteTags",
    "EnableSagemakerServicecatalogPortfolio",
    "DisableSagemakerServicecatalogPortfolio",
    "GetSagemakerServicecatalogPortfolioStatus",
];

/// The service principal SageMaker passes execution roles to.
pub const SERVICE_PRINCIPAL: &str = "sagemaker.amazonaws.com";

/// How long a new domain or app reports `Pending` before `InService`, and a deleted app
/// `Deleting` before `Deleted`, so that scripts which poll see the transitions they wait for.
const DOMAIN_PENDING_MS: i64 = 1000;
/// See [`DOMAIN_PENDING_MS`].
const APP_TRANSITION_MS: i64 = 1000;

/// The app types of the model.
const APP_TYPES: &[&str] = &[
    "JupyterServer",
    "KernelGateway",
    "DetailedProfiler",
    "TensorBoard",
    "CodeEditor",
    "JupyterLab",
    "RStudioServerPro",
    "RSessionGateway",
    "Canvas",
];

/// Runs one SageMaker operation on its JSON input.
pub async fn dispatch(cx: &mut Cx<'_>, op: &str, input: Value) -> Result<Reply, ApiError> {
    let Some(operation) = OPERATIONS.iter().find(|o| o.name == op) else {
        return Err(ApiError::new(
            "UnknownOperationException",
            400,
            format!("The operation SageMaker.{op} is not served by rolewright"),
        ));
    };
    let input = Input::new(input);
    match operation.name {
        "CreateDomain" => create_domain(cx, input).await,
        "DescribeDomain" => describe_domain(cx, input),
        "ListDomains" => list_domains(cx, input),
        "UpdateDomain" => update_domain(cx, input).await,
        "DeleteDomain" => delete_domain(cx, input).await,
        "CreateUserProfile" => create_user_profile(cx, input).await,
        "DescribeUserProfile" => describe_user_profile(cx, input),
        "ListUserProfiles" => list_user_profiles(cx, input),
        "UpdateUserProfile" => update_user_profile(cx, input).await,
        "DeleteUserProfile" => delete_user_profile(cx, input).await,
        "CreateSpace" => create_space(cx, input).await,
        "DescribeSpace" => describe_space(cx, input),
        "ListSpaces" => list_spaces(cx, input),
        "UpdateSpace" => update_space(cx, input).await,
        "DeleteSpace" => delete_space(cx, input).await,
        "CreateApp" => create_app(cx, input).await,
        "DescribeApp" => describe_app(cx, input),
        "ListApps" => list_apps(cx, input),
        "DeleteApp" => delete_app(cx, input).await,
        "CreatePresignedDomainUrl" => create_presigned_domain_url(cx, input),
        "AddTags" => add_tags(cx, input).await,
        "ListTags" => list_tags(cx, input),
        "DeleteTags" => delete_tags(cx, input).await,
        "EnableSagemakerServicecatalogPortfolio" => set_portfolio(cx, true).await,
        "DisableSagemakerServicecatalogPortfolio" => set_portfolio(cx, false).await,
        _ => portfolio_status(cx),
    }
}

/// A model pattern as AWS shows it in messages, and its matcher.
type Pattern = (&'static str, fn(&str) -> bool);

/// A request's members, with AWS's validation texts for what is missing or malformed.
struct Input {
    members: Map<String, Value>,
    failures: Vec<String>,
}

/// `DomainName` → `domainName`, as AWS names members in validation messages.
fn member_path(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

impl Input {
    fn new(value: Value) -> Input {
        let members = match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Input {
            members,
            failures: Vec::new(),
        }
    }

    fn fail(&mut self, name: &str, value: Option<&str>, constraint: &str) {
        let shown = value.map_or_else(|| "null".to_string(), |v| format!("'{v}'"));
        self.failures.push(format!(
            "Value {shown} at '{}' failed to satisfy constraint: {constraint}",
            member_path(name)
        ));
    }

    /// A string member, checked against a length range and a pattern.
    fn string(
        &mut self,
        name: &str,
        required: bool,
        max: usize,
        pattern: Option<Pattern>,
    ) -> Option<String> {
        match self.members.get(name) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(name, None, "Member must not be null");
                }
                None
            }
            Some(Value::String(text)) => {
                let text = text.clone();
                if text.chars().count() > max {
                    self.fail(
                        name,
                        Some(&text),
                        &format!("Member must have length less than or equal to {max}"),
                    );
                } else if let Some((shown, matches)) = pattern
                    && !matches(&text)
                {
                    self.fail(
                        name,
                        Some(&text),
                        &format!("Member must satisfy regular expression pattern: {shown}"),
                    );
                }
                Some(text)
            }
            Some(_) => {
                self.failures.push(format!(
                    "Value at '{}' failed to satisfy constraint: Member must be a string",
                    member_path(name)
                ));
                None
            }
        }
    }

    fn one_of(&mut self, name: &str, required: bool, values: &[&str]) -> Option<String> {
        let text = self.string(name, required, 256, None)?;
        if !values.contains(&text.as_str()) {
            self.fail(
                name,
                Some(&text),
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                ),
            );
        }
        Some(text)
    }

    fn object(&mut self, name: &str, required: bool) -> Option<Map<String, Value>> {
        match self.members.get(name) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(name, None, "Member must not be null");
                }
                None
            }
            Some(Value::Object(map)) => Some(map.clone()),
            Some(_) => {
                self.failures.push(format!(
                    "Value at '{}' failed to satisfy constraint: Member must be a structure",
                    member_path(name)
                ));
                None
            }
        }
    }

    fn int(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.members.get(name)?.as_i64();
        match value {
            Some(n) if n < min => {
                self.fail(
                    name,
                    Some(&n.to_string()),
                    &format!("Member must have value greater than or equal to {min}"),
                );
                None
            }
            Some(n) if n > max => {
                self.fail(
                    name,
                    Some(&n.to_string()),
                    &format!("Member must have value less than or equal to {max}"),
                );
                None
            }
            other => other,
        }
    }

    fn strings(&self, name: &str) -> Vec<String> {
        self.members
            .get(name)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `Tags: [{"Key", "Value"}]`, at most 50, keys 1..128 and values 0..256 characters.
    fn tags(&mut self, name: &str) -> Vec<Tag> {
        let mut tags = Vec::new();
        let Some(list) = self.members.get(name).and_then(Value::as_array).cloned() else {
            return tags;
        };
        if list.len() > 50 {
            self.failures.push(format!(
                "Value '{}' at '{}' failed to satisfy constraint: Member must have length less than or equal to 50",
                Value::Array(list.clone()),
                member_path(name)
            ));
        }
        for (i, item) in list.iter().enumerate() {
            let key = item.get("Key").and_then(Value::as_str);
            let value = item.get("Value").and_then(Value::as_str).unwrap_or("");
            let path = format!("{}.{}.member", member_path(name), i + 1);
            match key {
                None => self.failures.push(format!(
                    "Value null at '{path}.key' failed to satisfy constraint: Member must not be null"
                )),
                Some(k) if k.is_empty() || k.chars().count() > 128 => self.failures.push(format!(
                    "Value '{k}' at '{path}.key' failed to satisfy constraint: Member must have length {}",
                    if k.is_empty() { "greater than or equal to 1" } else { "less than or equal to 128" }
                )),
                Some(k) => tags.push(Tag {
                    key: k.to_string(),
                    value: value.to_string(),
                }),
            }
            if value.chars().count() > 256 {
                self.failures.push(format!(
                    "Value '{value}' at '{path}.value' failed to satisfy constraint: Member must have length less than or equal to 256"
                ));
            }
        }
        tags
    }

    /// AWS's `ValidationException` for everything collected so far.
    fn finish(&mut self) -> Result<(), ApiError> {
        if self.failures.is_empty() {
            return Ok(());
        }
        let n = self.failures.len();
        let noun = if n == 1 { "error" } else { "errors" };
        Err(ApiError::new(
            "ValidationException",
            400,
            format!(
                "{n} validation {noun} detected: {}",
                self.failures.join("; ")
            ),
        ))
    }
}

fn domain_id_pattern(text: &str) -> bool {
    // d-(-*[a-z0-9]){1,61}
    text.strip_prefix("d-").is_some_and(|rest| {
        !rest.is_empty()
            && !rest.ends_with('-')
            && rest.chars().filter(|c| *c != '-').count() <= 61
            && rest
                .chars()
                .all(|c| c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

fn resource_name_pattern(text: &str) -> bool {
    // [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && !text.ends_with('-')
        && text.chars().all(|c| c == '-' || c.is_ascii_alphanumeric())
}

const DOMAIN_ID: Option<Pattern> = Some(("d-(-*[a-z0-9]){1,61}", domain_id_pattern));
const PROFILE_NAME: Option<Pattern> =
    Some(("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", resource_name_pattern));

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

fn tag_list(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"Key": t.key, "Value": t.value}))
            .collect(),
    )
}

fn merge_tags(existing: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, ApiError> {
    let mut merged = existing.to_vec();
    for t in new {
        match merged.iter_mut().find(|m| m.key == t.key) {
            Some(m) => m.value = t.value.clone(),
            None => merged.push(t.clone()),
        }
    }
    if merged.len() > 50 {
        return Err(ApiError::new(
            "ResourceLimitExceeded",
            400,
            "A resource can have at most 50 tags.",
        ));
    }
    Ok(merged)
}

fn domain_status(domain: &Domain, now: i64) -> &'static str {
    if now - domain.created_ms < DOMAIN_PENDING_MS {
        "Pending"
    } else {
        "InService"
    }
}

fn domain_url(domain: &Domain) -> String {
    format!(
        "https://{}.studio.{}.sagemaker.aws",
        domain.id, domain.region
    )
}

/// Settings members of CreateDomain kept as given and returned by DescribeDomain.
const DOMAIN_SETTINGS: &[&str] = &[
    "DefaultUserSettings",
    "DomainSettings",
    "SubnetIds",
    "VpcId",
    "AppNetworkAccessType",
    "HomeEfsFileSystemKmsKeyId",
    "KmsKeyId",
    "AppSecurityGroupManagement",
    "TagPropagation",
    "DefaultSpaceSettings",
];

async fn create_domain(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let name = input.string("DomainName", true, 63, PROFILE_NAME);
    let auth_mode = input.one_of("AuthMode", true, &["SSO", "IAM"]);
    let defaults = input.object("DefaultUserSettings", true);
    let tags = input.tags("Tags");
    if let Some(access) = input
        .members
        .get("AppNetworkAccessType")
        .and_then(Value::as_str)
        && !matches!(access, "PublicInternetOnly" | "VpcOnly")
    {
        let access = access.to_string();
        input.fail(
            "AppNetworkAccessType",
            Some(&access),
            "Member must satisfy enum value set: [PublicInternetOnly, VpcOnly]",
        );
    }
    input.finish()?;
    let (Some(name), Some(auth_mode), Some(defaults)) = (name, auth_mode, defaults) else {
        return Err(ApiError::new(
            "ValidationException",
            400,
            "DomainName, AuthMode and DefaultUserSettings are required",
        ));
    };
    let mut settings = Map::new();
    for key in DOMAIN_SETTINGS {
        if let Some(v) = input.members.get(*key) {
            settings.insert((*key).to_string(), v.clone());
        }
    }
    let id = format!("d-{}", ids::lowercase_alphanumeric(12));
    let region = cx.facts.region.clone();
    {
        let state = cx.app.store.read();
        let arn = domain_arn(&state, &region, &id);
        let subnets = input.strings("SubnetIds");
        let (request, access, kms) = (
            tags.clone(),
            settings
                .get("AppNetworkAccessType")
                .and_then(Value::as_str)
                .map(str::to_string),
            settings
                .get("KmsKeyId")
                .and_then(Value::as_str)
                .map(str::to_string),
        );
        let (defaults_for_keys, mode) = (defaults.clone(), auth_mode.clone());
        cx.authorize(&state, "sagemaker:CreateDomain", &arn, |ctx| {
            request_tags(ctx, &request);
            ctx.set("sagemaker:AuthMode", mode);
            if !subnets.is_empty() {
                ctx.insert(
                    "sagemaker:VpcSubnets",
                    rolewright_iam::ContextValue::Multi(subnets),
                );
            }
            if let Some(a) = access {
                ctx.set("sagemaker:AppNetworkAccessType", a);
            }
            if let Some(k) = kms {
                ctx.set("sagemaker:VolumeKmsKeyArn", k);
            }
            settings_keys(ctx, &defaults_for_keys);
        })?;
        let mut roles = execution_roles(&defaults);
        if let Some(space) = settings
            .get("DefaultSpaceSettings")
            .and_then(Value::as_object)
        {
            roles.extend(execution_roles(space));
        }
        roles.dedup();
        pass_roles(cx, &state, &roles)?;
    }
    let now = now_ms();
    let domain = Domain {
        id: id.clone(),
        name,
        region: region.clone(),
        auth_mode,
        created_ms: now,
        modified_ms: now,
        settings,
        home_efs: format!("fs-{}", ids::lowercase_alphanumeric(17)),
        tags,
    };
    let url = domain_url(&domain);
    cx.write(|state| {
        let change = Change::put(kind::DOMAIN, id.clone(), &domain);
        state.domains.insert(id.clone(), domain);
        Ok(((), vec![change]))
    })
    .await?;
    let state = cx.app.store.read();
    Ok(Reply::Json(json!({
        "DomainArn": domain_arn(&state, &region, &id),
        "DomainId": id,
        "Url": url,
    })))
}

/// Authorizes `action` on a domain (with its tags) and returns it, or `ResourceNotFound`.
fn authorize_domain(
    cx: &mut Cx<'_>,
    state: &State,
    id: &str,
    action: &str,
) -> Result<Domain, ApiError> {
    let region = state
        .domains
        .get(id)
        .map_or_else(|| cx.facts.region.clone(), |d| d.region.clone());
    let arn = domain_arn(state, &region, id);
    let tags = state
        .domains
        .get(id)
        .map(|d| d.tags.clone())
        .unwrap_or_default();
    cx.authorize(state, action, &arn, |ctx| resource_tags(ctx, &tags))?;
    state
        .domains
        .get(id)
        .cloned()
        .ok_or_else(|| not_found("Domain", &arn))
}

fn describe_domain(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let id = input.string("DomainId", true, 63, DOMAIN_ID);
    input.finish()?;
    let id = id.unwrap_or_default();
    let state = cx.app.store.read();
    let domain = authorize_domain(cx, &state, &id, "sagemaker:DescribeDomain")?;
    let now = now_ms();
    let mut out = Map::new();
    out.insert(
        "DomainArn".into(),
        json!(domain_arn(&state, &domain.region, &domain.id)),
    );
    out.insert("DomainId".into(), json!(domain.id));
    out.insert("DomainName".into(), json!(domain.name));
    out.insert("HomeEfsFileSystemId".into(), json!(domain.home_efs));
    out.insert("Status".into(), json!(domain_status(&domain, now)));
    out.insert("CreationTime".into(), timestamp(domain.created_ms));
    out.insert("LastModifiedTime".into(), timestamp(domain.modified_ms));
    out.insert("AuthMode".into(), json!(domain.auth_mode));
    out.insert("Url".into(), json!(domain_url(&domain)));
    for (k, v) in &domain.settings {
        out.insert(k.clone(), v.clone());
    }
    out.entry("AppNetworkAccessType")
        .or_insert_with(|| json!("PublicInternetOnly"));
    Ok(Reply::Json(Value::Object(out)))
}

/// `NextToken` and `MaxResults` (1..100, default 10 as SageMaker's list operations use).
fn page_input(input: &mut Input) -> (usize, Option<String>) {
    let max = input.int("MaxResults", 1, 100).unwrap_or(10) as usize;
    let token = input
        .string("NextToken", false, 8192, None)
        .map(|t| crate::iam::decode_marker(&t));
    (max, token)
}

fn page<T>(items: Vec<(String, T)>, token: Option<&str>, max: usize) -> (Vec<T>, Option<String>) {
    crate::iam::paginate(items, token, max)
}

fn list_domains(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (max, token) = page_input(&mut input);
    input.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "sagemaker:ListDomains", "*", |_| {})?;
    let now = now_ms();
    let mut domains: Vec<&Domain> = state.domains.values().collect();
    domains.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then(a.id.cmp(&b.id)));
    let items = domains
        .into_iter()
        .enumerate()
        .map(|(i, d)| (format!("{i:010}"), d))
        .collect();
    let (page, next) = page(items, token.as_deref(), max);
    let list: Vec<Value> = page
        .into_iter()
        .map(|d| {
            json!({
                "DomainArn": domain_arn(&state, &d.region, &d.id),
                "DomainId": d.id,
                "DomainName": d.name,
                "Status": domain_status(d, now),
                "CreationTime": timestamp(d.created_ms),
                "LastModifiedTime": timestamp(d.modified_ms),
                "Url": domain_url(d),
            })
        })
        .collect();
    let mut out = json!({"Domains": list});
    if let Some(next) = next {
        out["NextToken"] = json!(next);
    }
    Ok(Reply::Json(out))
}

async fn update_domain(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let id = input.string("DomainId", true, 63, DOMAIN_ID);
    let defaults = input.object("DefaultUserSettings", false);
    let domain_settings = input.object("DomainSettingsForUpdate", false);
    let space = input.object("DefaultSpaceSettings", false);
    input.finish()?;
    let id = id.unwrap_or_default();
    let mut updates = Map::new();
    for key in [
        "SubnetIds",
        "AppNetworkAccessType",
        "AppSecurityGroupManagement",
        "TagPropagation",
        "VpcId",
    ] {
        if let Some(v) = input.members.get(key) {
            updates.insert(key.to_string(), v.clone());
        }
    }
    if let Some(d) = &defaults {
        updates.insert("DefaultUserSettings".into(), Value::Object(d.clone()));
    }
    if let Some(d) = &domain_settings {
        updates.insert("DomainSettings".into(), Value::Object(d.clone()));
    }
    if let Some(s) = &space {
        updates.insert("DefaultSpaceSettings".into(), Value::Object(s.clone()));
    }
    let region = {
        let state = cx.app.store.read();
        let existing = state
            .domains
            .get(&id)
            .map(|d| d.tags.clone())
            .unwrap_or_default();
        let region = state
            .domains
            .get(&id)
            .map_or_else(|| cx.facts.region.clone(), |d| d.region.clone());
        let arn = domain_arn(&state, &region, &id);
        let (keys, subnets) = (
            defaults.clone().unwrap_or_default(),
            input.strings("SubnetIds"),
        );
        let access = updates
            .get("AppNetworkAccessType")
            .and_then(Value::as_str)
            .map(str::to_string);
        cx.authorize(&state, "sagemaker:UpdateDomain", &arn, |ctx| {
            resource_tags(ctx, &existing);
            settings_keys(ctx, &keys);
            if !subnets.is_empty() {
                ctx.insert(
                    "sagemaker:VpcSubnets",
                    rolewright_iam::ContextValue::Multi(subnets),
                );
            }
            if let Some(a) = access {
                ctx.set("sagemaker:AppNetworkAccessType", a);
            }
        })?;
        if !state.domains.contains_key(&id) {
            return Err(not_found("Domain", &arn));
        }
        if refused_with_apps(&updates) {
            let now = now_ms();
            let running = state.apps.values().any(|a| {
                a.domain_id == id && matches!(app_status(a, now), "InService" | "Pending")
            });
            if running {
                return Err(ApiError::new(
                    "ValidationException",
                    400,
                    format!(
                        "Unable to update Domain [{arn}] with InService App. Delete all InService apps in the domain including shared Apps for [domain-shared] User Profile, and try again."
                    ),
                ));
            }
        }
        let mut roles = defaults.as_ref().map(execution_roles).unwrap_or_default();
        roles.extend(space.as_ref().map(execution_roles).unwrap_or_default());
        pass_roles(cx, &state, &roles)?;
        region
    };
    let now = now_ms();
    cx.write(|state| {
        let arn = domain_arn(state, &region, &id);
        let domain = state
            .domains
            .get_mut(&id)
            .ok_or_else(|| not_found("Domain", &arn))?;
        merge(&mut domain.settings, &updates);
        domain.modified_ms = now;
        let change = Change::put(kind::DOMAIN, id.clone(), domain);
        Ok(((), vec![change]))
    })
    .await?;
    let state = cx.app.store.read();
    Ok(Reply::Json(
        json!({"DomainArn": domain_arn(&state, &region, &id)}),
    ))
}

async fn delete_domain(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let id = input.string("DomainId", true, 63, DOMAIN_ID);
    input.finish()?;
    let id = id.unwrap_or_default();
    let region = {
        let state = cx.app.store.read();
        authorize_domain(cx, &state, &id, "sagemaker:DeleteDomain")?.region
    };
    cx.write(|state| {
        let arn = domain_arn(state, &region, &id);
        if !state.domains.contains_key(&id) {
            return Err(not_found("Domain", &arn));
        }
        if state.user_profiles.values().any(|p| p.domain_id == id) {
            return Err(in_use(format!(
                "Unable to delete Domain [{arn}] because UserProfile(s) are associated with it. Delete the user profiles first."
            )));
        }
        if state.spaces.values().any(|p| p.domain_id == id) {
            return Err(in_use(format!(
                "Unable to delete Domain [{arn}] because Space(s) are associated with it. Delete the spaces first."
            )));
        }
        state.domains.remove(&id);
        Ok(((), vec![Change::delete(kind::DOMAIN, id.clone())]))
    })
    .await?;
    Ok(Reply::Empty)
}

async fn create_user_profile(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let domain_id = input.string("DomainId", true, 63, DOMAIN_ID);
    let name = input.string("UserProfileName", true, 63, PROFILE_NAME);
    let settings = input.object("UserSettings", false).unwrap_or_default();
    let tags = input.tags("Tags");
    let sso_id = input.string("SingleSignOnUserIdentifier", false, 256, None);
    let sso_value = input.string("SingleSignOnUserValue", false, 256, None);
    input.finish()?;
    let (domain_id, name) = (domain_id.unwrap_or_default(), name.unwrap_or_default());
    let region = {
        let state = cx.app.store.read();
        let region = state
            .domains
            .get(&domain_id)
            .map_or_else(|| cx.facts.region.clone(), |d| d.region.clone());
        let arn = user_profile_arn(&state, &region, &domain_id, &name);
        let (request, keys) = (tags.clone(), settings.clone());
        cx.authorize(&state, "sagemaker:CreateUserProfile", &arn, |ctx| {
            request_tags(ctx, &request);
            settings_keys(ctx, &keys);
        })?;
        if !state.domains.contains_key(&domain_id) {
            return Err(not_found(
                "Domain",
                &domain_arn(&state, &region, &domain_id),
            ));
        }
        pass_roles(cx, &state, &execution_roles(&settings))?;
        region
    };
    let now = now_ms();
    let profile = UserProfile {
        domain_id: domain_id.clone(),
        name: name.clone(),
        created_ms: now,
        modified_ms: now,
        settings,
        home_uid: format!("{}", 200_000 + (now % 800_000)),
        single_sign_on: sso_id.zip(sso_value),
        tags,
    };
    cx.write(|state| {
        let key = profile_key(&domain_id, &name);
        if state.user_profiles.contains_key(&key) {
            return Err(in_use(format!(
                "Resource Arn: {} already exists",
                user_profile_arn(state, &region, &domain_id, &name)
            )));
        }
        let change = Change::put(kind::USER_PROFILE, key.clone(), &profile);
        state.user_profiles.insert(key, profile);
        Ok(((), vec![change]))
    })
    .await?;
    let state = cx.app.store.read();
    Ok(Reply::Json(json!({
        "UserProfileArn": user_profile_arn(&state, &region, &domain_id, &name)
    })))
}

/// Reads `DomainId` and `UserProfileName`, authorizes `action` on the profile (with its tags)
/// and returns it with its region, or `ResourceNotFound`.
fn authorize_profile(
    cx: &mut Cx<'_>,
    state: &State,
    domain_id: &str,
    name: &str,
    action: &str,
) -> Result<(UserProfile, String), ApiError> {
    let region = state
        .domains
        .get(domain_id)
        .map_or_else(|| cx.facts.region.clone(), |d| d.region.clone());
    let arn = user_profile_arn(state, &region, domain_id, name);
    let profile = state.user_profiles.get(&profile_key(domain_id, name));
    let tags = profile.map(|p| p.tags.clone()).unwrap_or_default();
    cx.authorize(state, action, &arn, |ctx| resource_tags(ctx, &tags))?;
    match profile {
        Some(p) => Ok((p.clone(), region)),
        None => Err(not_found("User profile", &arn)),
    }
}

fn profile_input(input: &mut Input) -> Result<(String, String), ApiError> {
    let domain_id = input.string("DomainId", true, 63, DOMAIN_ID);
    let name = input.string("UserProfileName", true, 63, PROFILE_NAME);
    input.finish()?;
    Ok((domain_id.unwrap_or_default(), name.unwrap_or_default()))
}

fn describe_user_profile(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (domain_id, name) = profile_input(&mut input)?;
    let state = cx.app.store.read();
    let (profile, region) = authorize_profile(
        cx,
        &state,
        &domain_id,
        &name,
        "sagemaker:DescribeUserProfile",
    )?;
    let mut out = json!({
        "DomainId": profile.domain_id,
        "UserProfileArn": user_profile_arn(&state, &region, &profile.domain_id, &profile.name),
        "UserProfileName": profile.name,
        "HomeEfsFileSystemUid": profile.home_uid,
        "Status": "InService",
        "LastModifiedTime": timestamp(profile.modified_ms),
        "CreationTime": timestamp(profile.created_ms),
        "UserSettings": Value::Object(profile.settings.clone()),
    });
    if let Some((id, value)) = &profile.single_sign_on {
        out["SingleSignOnUserIdentifier"] = json!(id);
        out["SingleSignOnUserValue"] = json!(value);
    }
    Ok(Reply::Json(out))
}

fn list_user_profiles(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (max, token) = page_input(&mut input);
    let sort_by = input
        .one_of("SortBy", false, &["CreationTime", "LastModifiedTime"])
        .unwrap_or_else(|| "CreationTime".into());
    let order = input
        .one_of("SortOrder", false, &["Ascending", "Descending"])
        .unwrap_or_else(|| "Ascending".into());
    let domain = input.string("DomainIdEquals", false, 63, DOMAIN_ID);
    let contains = input.string("UserProfileNameContains", false, 63, None);
    input.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "sagemaker:ListUserProfiles", "*", |_| {})?;
    let mut profiles: Vec<&UserProfile> = state
        .user_profiles
        .values()
        .filter(|p| domain.as_deref().is_none_or(|d| p.domain_id == d))
        .filter(|p| contains.as_deref().is_none_or(|c| p.name.contains(c)))
        .collect();
    let time = |p: &UserProfile| {
        if sort_by == "LastModifiedTime" {
            p.modified_ms
        } else {
            p.created_ms
        }
    };
    profiles.sort_by(|a, b| {
        time(a)
            .cmp(&time(b))
            .then_with(|| a.domain_id.cmp(&b.domain_id))
            .then_with(|| a.name.cmp(&b.name))
    });
    if order == "Descending" {
        profiles.reverse();
    }
    let items = profiles
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("{i:010}"), p))
        .collect();
    let (page, next) = page(items, token.as_deref(), max);
    let list: Vec<Value> = page
        .into_iter()
        .map(|p| {
            json!({
                "DomainId": p.domain_id,
                "UserProfileName": p.name,
                "Status": "InService",
                "CreationTime": timestamp(p.created_ms),
                "LastModifiedTime": timestamp(p.modified_ms),
            })
        })
        .collect();
    let mut out = json!({"UserProfiles": list});
    if let Some(next) = next {
        out["NextToken"] = json!(next);
    }
    Ok(Reply::Json(out))
}

async fn update_user_profile(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let settings = input.object("UserSettings", false).unwrap_or_default();
    let (domain_id, name) = profile_input(&mut input)?;
    let region = {
        let state = cx.app.store.read();
        let (_, region) =
            authorize_profile(cx, &state, &domain_id, &name, "sagemaker:UpdateUserProfile")?;
        pass_roles(cx, &state, &execution_roles(&settings))?;
        region
    };
    let now = now_ms();
    cx.write(|state| {
        let arn = user_profile_arn(state, &region, &domain_id, &name);
        let profile = state
            .user_profiles
            .get_mut(&profile_key(&domain_id, &name))
            .ok_or_else(|| not_found("User profile", &arn))?;
        merge(&mut profile.settings, &settings);
        profile.modified_ms = now;
        let change = Change::put(kind::USER_PROFILE, profile_key(&domain_id, &name), profile);
        Ok(((), vec![change]))
    })
    .await?;
    let state = cx.app.store.read();
    Ok(Reply::Json(json!({
        "UserProfileArn": user_profile_arn(&state, &region, &domain_id, &name)
    })))
}

async fn delete_user_profile(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (domain_id, name) = profile_input(&mut input)?;
    let region = {
        let state = cx.app.store.read();
        authorize_profile(cx, &state, &domain_id, &name, "sagemaker:DeleteUserProfile")?.1
    };
    let now = now_ms();
    cx.write(|state| {
        let key = profile_key(&domain_id, &name);
        let arn = user_profile_arn(state, &region, &domain_id, &name);
        if !state.user_profiles.contains_key(&key) {
            return Err(not_found("User profile", &arn));
        }
        if state.apps.values().any(|a| {
            a.domain_id == domain_id
                && a.user_profile.as_deref() == Some(name.as_str())
                && app_status(a, now) != "Deleted"
        }) {
            return Err(in_use(format!(
                "Unable to delete UserProfile [{arn}] because App(s) are associated with it."
            )));
        }
        state.user_profiles.remove(&key);
        Ok(((), vec![Change::delete(kind::USER_PROFILE, key)]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// What an ARN given to the tagging operations names.
enum Tagged {
    Domain(String),
    UserProfile(String),
}

fn tagged(state: &State, arn: &str) -> Option<Tagged> {
    let resource = arn.splitn(6, ':').nth(5)?;
    if let Some(id) = resource.strip_prefix("domain/") {
        return state
            .domains
            .contains_key(id)
            .then(|| Tagged::Domain(id.to_string()));
    }
    if let Some(rest) = resource.strip_prefix("user-profile/") {
        return state
            .user_profiles
            .contains_key(rest)
            .then(|| Tagged::UserProfile(rest.to_string()));
    }
    None
}

fn tags_of(state: &State, target: &Tagged) -> Vec<Tag> {
    match target {
        Tagged::Domain(id) => state.domains.get(id).map(|d| d.tags.clone()),
        Tagged::UserProfile(key) => state.user_profiles.get(key).map(|p| p.tags.clone()),
    }
    .unwrap_or_default()
}

/// Authorizes a tagging action on `arn` and returns what it names, or `ResourceNotFound`.
fn authorize_tagging(
    cx: &mut Cx<'_>,
    arn: &str,
    action: &str,
    request: &[Tag],
    keys: &[String],
) -> Result<Tagged, ApiError> {
    let state = cx.app.store.read();
    let target = tagged(&state, arn);
    let existing = target
        .as_ref()
        .map(|t| tags_of(&state, t))
        .unwrap_or_default();
    let (request, keys) = (request.to_vec(), keys.to_vec());
    cx.authorize(&state, action, arn, |ctx| {
        resource_tags(ctx, &existing);
        request_tags(ctx, &request);
        if !keys.is_empty() {
            ctx.insert("aws:TagKeys", rolewright_iam::ContextValue::Multi(keys));
        }
    })?;
    target.ok_or_else(|| not_found("Resource", arn))
}

fn edit_tags(
    state: &mut State,
    target: &Tagged,
    edit: impl FnOnce(&[Tag]) -> Result<Vec<Tag>, ApiError>,
) -> Result<Vec<Change>, ApiError> {
    match target {
        Tagged::Domain(id) => {
            let domain = state.domains.get_mut(id).ok_or_else(|| {
                ApiError::new("ResourceNotFound", 400, "The resource was deleted.")
            })?;
            domain.tags = edit(&domain.tags)?;
            Ok(vec![Change::put(kind::DOMAIN, id.clone(), domain)])
        }
        Tagged::UserProfile(key) => {
            let profile = state.user_profiles.get_mut(key).ok_or_else(|| {
                ApiError::new("ResourceNotFound", 400, "The resource was deleted.")
            })?;
            profile.tags = edit(&profile.tags)?;
            Ok(vec![Change::put(kind::USER_PROFILE, key.clone(), profile)])
        }
    }
}

async fn add_tags(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let arn = input.string("ResourceArn", true, 256, None);
    if !input.members.contains_key("Tags") {
        input.fail("Tags", None, "Member must not be null");
    }
    let tags = input.tags("Tags");
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let target = authorize_tagging(cx, &arn, "sagemaker:AddTags", &tags, &[])?;
    let added = tags.clone();
    cx.write(|state| {
        let changes = edit_tags(state, &target, |old| merge_tags(old, &added))?;
        Ok(((), changes))
    })
    .await?;
    Ok(Reply::Json(json!({"Tags": tag_list(&tags)})))
}

fn list_tags(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let arn = input.string("ResourceArn", true, 256, None);
    let (max, token) = page_input(&mut input);
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let target = authorize_tagging(cx, &arn, "sagemaker:ListTags", &[], &[])?;
    let state = cx.app.store.read();
    let tags = tags_of(&state, &target);
    let items = tags
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("{i:010}"), t.clone()))
        .collect();
    let (page, next) = page(items, token.as_deref(), max.max(50));
    let mut out = json!({"Tags": tag_list(&page)});
    if let Some(next) = next {
        out["NextToken"] = json!(next);
    }
    Ok(Reply::Json(out))
}

async fn delete_tags(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let arn = input.string("ResourceArn", true, 256, None);
    if !input.members.contains_key("TagKeys") {
        input.fail("TagKeys", None, "Member must not be null");
    }
    let keys = input.strings("TagKeys");
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let target = authorize_tagging(cx, &arn, "sagemaker:DeleteTags", &[], &keys)?;
    cx.write(|state| {
        let changes = edit_tags(state, &target, |old| {
            Ok(old
                .iter()
                .filter(|t| !keys.contains(&t.key))
                .cloned()
                .collect())
        })?;
        Ok(((), changes))
    })
    .await?;
    Ok(Reply::Empty)
}

async fn set_portfolio(cx: &mut Cx<'_>, enabled: bool) -> Result<Reply, ApiError> {
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

fn portfolio_status(cx: &mut Cx<'_>) -> Result<Reply, ApiError> {
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

/// Whether an UpdateDomain carries changes AWS refuses while apps run: the network (subnets,
/// access type), the execution role identity, and custom images.
fn refused_with_apps(updates: &Map<String, Value>) -> bool {
    let custom_images = |settings: Option<&Value>| {
        settings
            .and_then(Value::as_object)
            .is_some_and(|s| s.values().any(|app| app.get("CustomImages").is_some()))
    };
    updates.contains_key("SubnetIds")
        || updates.contains_key("AppNetworkAccessType")
        || updates
            .get("DomainSettings")
            .is_some_and(|d| d.get("ExecutionRoleIdentityConfig").is_some())
        || custom_images(updates.get("DefaultUserSettings"))
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

/// An app's status at `now` (unix milliseconds).
pub fn app_status(app: &App, now: i64) -> &'static str {
    match app.deleted_ms {
        Some(deleted) if now - deleted < APP_TRANSITION_MS => "Deleting",
        Some(_) => "Deleted",
        None if now - app.created_ms < APP_TRANSITION_MS => "Pending",
        None => "InService",
    }
}

fn region_of(cx: &Cx<'_>, state: &State, domain_id: &str) -> String {
    state
        .domains
        .get(domain_id)
        .map_or_else(|| cx.facts.region.clone(), |d| d.region.clone())
}

/// Members of CreateSpace kept as given.
const SPACE_SETTINGS: &[&str] = &[
    "SpaceSettings",
    "OwnershipSettings",
    "SpaceSharingSettings",
    "SpaceDisplayName",
];

fn space_input(input: &mut Input) -> Result<(String, String), ApiError> {
    let domain_id = input.string("DomainId", true, 63, DOMAIN_ID);
    let name = input.string("SpaceName", true, 63, PROFILE_NAME);
    input.finish()?;
    Ok((domain_id.unwrap_or_default(), name.unwrap_or_default()))
}

async fn create_space(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let tags = input.tags("Tags");
    let (domain_id, name) = space_input(&mut input)?;
    let mut settings = Map::new();
    for key in SPACE_SETTINGS {
        if let Some(v) = input.members.get(*key) {
            settings.insert((*key).to_string(), v.clone());
        }
    }
    let region = {
        let state = cx.app.store.read();
        let region = region_of(cx, &state, &domain_id);
        let arn = space_arn(&state, &region, &domain_id, &name);
        let request = tags.clone();
        cx.authorize(&state, "sagemaker:CreateSpace", &arn, |ctx| {
            request_tags(ctx, &request)
        })?;
        if !state.domains.contains_key(&domain_id) {
            return Err(not_found(
                "Domain",
                &domain_arn(&state, &region, &domain_id),
            ));
        }
        region
    };
    let now = now_ms();
    let space = Space {
        domain_id: domain_id.clone(),
        name: name.clone(),
        created_ms: now,
        modified_ms: now,
        settings,
        tags,
    };
    cx.write(|state| {
        let key = profile_key(&domain_id, &name);
        if state.spaces.contains_key(&key) {
            return Err(in_use(format!(
                "Resource Arn: {} already exists",
                space_arn(state, &region, &domain_id, &name)
            )));
        }
        let change = Change::put(kind::SPACE, key.clone(), &space);
        state.spaces.insert(key, space);
        Ok(((), vec![change]))
    })
    .await?;
    let state = cx.app.store.read();
    Ok(Reply::Json(
        json!({"SpaceArn": space_arn(&state, &region, &domain_id, &name)}),
    ))
}

fn authorize_space(
    cx: &mut Cx<'_>,
    state: &State,
    domain_id: &str,
    name: &str,
    action: &str,
) -> Result<(Space, String), ApiError> {
    let region = region_of(cx, state, domain_id);
    let arn = space_arn(state, &region, domain_id, name);
    let space = state.spaces.get(&profile_key(domain_id, name));
    let tags = space.map(|p| p.tags.clone()).unwrap_or_default();
    cx.authorize(state, action, &arn, |ctx| resource_tags(ctx, &tags))?;
    match space {
        Some(s) => Ok((s.clone(), region)),
        None => Err(not_found("Space", &arn)),
    }
}

fn describe_space(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (domain_id, name) = space_input(&mut input)?;
    let state = cx.app.store.read();
    let (space, region) =
        authorize_space(cx, &state, &domain_id, &name, "sagemaker:DescribeSpace")?;
    let mut out = Map::new();
    out.insert("DomainId".into(), json!(space.domain_id));
    out.insert(
        "SpaceArn".into(),
        json!(space_arn(&state, &region, &space.domain_id, &space.name)),
    );
    out.insert("SpaceName".into(), json!(space.name));
    out.insert("Status".into(), json!("InService"));
    out.insert("CreationTime".into(), timestamp(space.created_ms));
    out.insert("LastModifiedTime".into(), timestamp(space.modified_ms));
    for (k, v) in &space.settings {
        out.insert(k.clone(), v.clone());
    }
    Ok(Reply::Json(Value::Object(out)))
}

fn list_spaces(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (max, token) = page_input(&mut input);
    let order = input
        .one_of("SortOrder", false, &["Ascending", "Descending"])
        .unwrap_or_else(|| "Ascending".into());
    let sort_by = input
        .one_of("SortBy", false, &["CreationTime", "LastModifiedTime"])
        .unwrap_or_else(|| "CreationTime".into());
    let domain = input.string("DomainIdEquals", false, 63, DOMAIN_ID);
    let contains = input.string("SpaceNameContains", false, 63, None);
    input.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "sagemaker:ListSpaces", "*", |_| {})?;
    let mut spaces: Vec<&Space> = state
        .spaces
        .values()
        .filter(|p| domain.as_deref().is_none_or(|d| p.domain_id == d))
        .filter(|p| contains.as_deref().is_none_or(|c| p.name.contains(c)))
        .collect();
    let time = |p: &Space| {
        if sort_by == "LastModifiedTime" {
            p.modified_ms
        } else {
            p.created_ms
        }
    };
    spaces.sort_by(|a, b| time(a).cmp(&time(b)).then_with(|| a.name.cmp(&b.name)));
    if order == "Descending" {
        spaces.reverse();
    }
    let items = spaces
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("{i:010}"), p))
        .collect();
    let (page, next) = page(items, token.as_deref(), max);
    let list: Vec<Value> = page
        .into_iter()
        .map(|p| {
            let mut item = json!({
                "DomainId": p.domain_id,
                "SpaceName": p.name,
                "Status": "InService",
                "CreationTime": timestamp(p.created_ms),
                "LastModifiedTime": timestamp(p.modified_ms),
            });
            if let Some(name) = p.settings.get("SpaceDisplayName") {
                item["SpaceDisplayName"] = name.clone();
            }
            item
        })
        .collect();
    let mut out = json!({"Spaces": list});
    if let Some(next) = next {
        out["NextToken"] = json!(next);
    }
    Ok(Reply::Json(out))
}

async fn update_space(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let settings = input.object("SpaceSettings", false);
    let display = input.string("SpaceDisplayName", false, 64, None);
    let (domain_id, name) = space_input(&mut input)?;
    let region = {
        let state = cx.app.store.read();
        authorize_space(cx, &state, &domain_id, &name, "sagemaker:UpdateSpace")?.1
    };
    let now = now_ms();
    cx.write(|state| {
        let arn = space_arn(state, &region, &domain_id, &name);
        let space = state
            .spaces
            .get_mut(&profile_key(&domain_id, &name))
            .ok_or_else(|| not_found("Space", &arn))?;
        if let Some(s) = &settings {
            let mut update = Map::new();
            update.insert("SpaceSettings".into(), Value::Object(s.clone()));
            merge(&mut space.settings, &update);
        }
        if let Some(d) = &display {
            space.settings.insert("SpaceDisplayName".into(), json!(d));
        }
        space.modified_ms = now;
        let change = Change::put(kind::SPACE, profile_key(&domain_id, &name), space);
        Ok(((), vec![change]))
    })
    .await?;
    let state = cx.app.store.read();
    Ok(Reply::Json(
        json!({"SpaceArn": space_arn(&state, &region, &domain_id, &name)}),
    ))
}

async fn delete_space(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (domain_id, name) = space_input(&mut input)?;
    let region = {
        let state = cx.app.store.read();
        authorize_space(cx, &state, &domain_id, &name, "sagemaker:DeleteSpace")?.1
    };
    let now = now_ms();
    cx.write(|state| {
        let key = profile_key(&domain_id, &name);
        let arn = space_arn(state, &region, &domain_id, &name);
        if !state.spaces.contains_key(&key) {
            return Err(not_found("Space", &arn));
        }
        if state.apps.values().any(|a| {
            a.domain_id == domain_id
                && a.space.as_deref() == Some(name.as_str())
                && app_status(a, now) != "Deleted"
        }) {
            return Err(in_use(format!(
                "Unable to delete Space [{arn}] because App(s) are associated with it."
            )));
        }
        state.spaces.remove(&key);
        Ok(((), vec![Change::delete(kind::SPACE, key)]))
    })
    .await?;
    Ok(Reply::Empty)
}

/// What names an app: domain, user profile, space, type, name.
type AppId = (String, Option<String>, Option<String>, String, String);

/// Reads the members that name an app: the domain, its owner (a user profile or a space, one of
/// them), the type and the name.
fn app_input(input: &mut Input) -> Result<AppId, ApiError> {
    let domain_id = input.string("DomainId", true, 63, DOMAIN_ID);
    let profile = input.string("UserProfileName", false, 63, PROFILE_NAME);
    let space = input.string("SpaceName", false, 63, PROFILE_NAME);
    let app_type = input.one_of("AppType", true, APP_TYPES);
    let name = input.string("AppName", true, 63, PROFILE_NAME);
    input.finish()?;
    if profile.is_some() == space.is_some() {
        return Err(ApiError::new(
            "ValidationException",
            400,
            "Exactly one of UserProfileName and SpaceName must be given.",
        ));
    }
    Ok((
        domain_id.unwrap_or_default(),
        profile,
        space,
        app_type.unwrap_or_default(),
        name.unwrap_or_default(),
    ))
}

fn record_not_found(arn: &str) -> ApiError {
    ApiError::new(
        "ValidationException",
        400,
        format!("RecordNotFound: App [{arn}] does not exist."),
    )
}

async fn create_app(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let tags = input.tags("Tags");
    let resource_spec = input.members.get("ResourceSpec").cloned();
    let (domain_id, profile, space, app_type, name) = app_input(&mut input)?;
    let now = now_ms();
    let app = App {
        domain_id: domain_id.clone(),
        user_profile: profile.clone(),
        space: space.clone(),
        app_type: app_type.clone(),
        name: name.clone(),
        created_ms: now,
        deleted_ms: None,
        resource_spec: resource_spec.clone(),
        tags: tags.clone(),
    };
    let owner = profile.clone().or(space.clone()).unwrap_or_default();
    let region = {
        let state = cx.app.store.read();
        let region = region_of(cx, &state, &domain_id);
        let arn = app_arn(&state, &region, &app);
        let (request, instance) = (
            tags.clone(),
            resource_spec
                .as_ref()
                .and_then(|r| r.get("InstanceType"))
                .and_then(Value::as_str)
                .map(str::to_string),
        );
        cx.authorize(&state, "sagemaker:CreateApp", &arn, |ctx| {
            request_tags(ctx, &request);
            if let Some(i) = instance {
                ctx.insert(
                    "sagemaker:InstanceTypes",
                    rolewright_iam::ContextValue::Multi(vec![i]),
                );
            }
        })?;
        if !state.domains.contains_key(&domain_id) {
            return Err(not_found(
                "Domain",
                &domain_arn(&state, &region, &domain_id),
            ));
        }
        let owner_exists = match (&profile, &space) {
            (Some(p), _) => state
                .user_profiles
                .contains_key(&profile_key(&domain_id, p)),
            (_, Some(s)) => state.spaces.contains_key(&profile_key(&domain_id, s)),
            _ => false,
        };
        if !owner_exists {
            return Err(match &profile {
                Some(p) => not_found(
                    "User profile",
                    &user_profile_arn(&state, &region, &domain_id, p),
                ),
                None => not_found("Space", &space_arn(&state, &region, &domain_id, &owner)),
            });
        }
        region
    };
    let key = app_key(&domain_id, &owner, &app_type, &name);
    let stored = app.clone();
    cx.write(|state| {
        if let Some(existing) = state.apps.get(&key)
            && app_status(existing, now) != "Deleted"
        {
            return Err(in_use(format!(
                "App [{}] already exists with status {}",
                app_arn(state, &region, existing),
                app_status(existing, now)
            )));
        }
        let change = Change::put(kind::APP, key.clone(), &stored);
        state.apps.insert(key.clone(), stored);
        Ok(((), vec![change]))
    })
    .await?;
    let state = cx.app.store.read();
    Ok(Reply::Json(
        json!({"AppArn": app_arn(&state, &region, &app)}),
    ))
}

/// Authorizes `action` on the app named by the input; returns it (`None` when it does not
/// exist) with its ARN and region.
fn authorize_app(
    cx: &mut Cx<'_>,
    state: &State,
    input: (&str, Option<&str>, Option<&str>, &str, &str),
    action: &str,
) -> Result<(Option<App>, String, String), ApiError> {
    let (domain_id, profile, space, app_type, name) = input;
    let owner = profile.or(space).unwrap_or_default();
    let region = region_of(cx, state, domain_id);
    let found = state
        .apps
        .get(&app_key(domain_id, owner, app_type, name))
        .cloned();
    let probe = App {
        domain_id: domain_id.to_string(),
        user_profile: profile.map(str::to_string),
        space: space.map(str::to_string),
        app_type: app_type.to_string(),
        name: name.to_string(),
        created_ms: 0,
        deleted_ms: None,
        resource_spec: None,
        tags: Vec::new(),
    };
    let arn = app_arn(state, &region, &probe);
    let tags = found.as_ref().map(|a| a.tags.clone()).unwrap_or_default();
    cx.authorize(state, action, &arn, |ctx| resource_tags(ctx, &tags))?;
    Ok((found, arn, region))
}

fn describe_app(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (domain_id, profile, space, app_type, name) = app_input(&mut input)?;
    let state = cx.app.store.read();
    let (found, arn, _) = authorize_app(
        cx,
        &state,
        (
            &domain_id,
            profile.as_deref(),
            space.as_deref(),
            &app_type,
            &name,
        ),
        "sagemaker:DescribeApp",
    )?;
    let app = found.ok_or_else(|| record_not_found(&arn))?;
    Ok(Reply::Json(app_details(&arn, &app, now_ms(), true)))
}

fn app_details(arn: &str, app: &App, now: i64, full: bool) -> Value {
    let mut out = json!({
        "DomainId": app.domain_id,
        "AppType": app.app_type,
        "AppName": app.name,
        "Status": app_status(app, now),
        "CreationTime": timestamp(app.created_ms),
    });
    if let Some(p) = &app.user_profile {
        out["UserProfileName"] = json!(p);
    }
    if let Some(s) = &app.space {
        out["SpaceName"] = json!(s);
    }
    if let Some(spec) = &app.resource_spec {
        out["ResourceSpec"] = spec.clone();
    }
    if full {
        out["AppArn"] = json!(arn);
        out["LastUserActivityTimestamp"] = timestamp(app.created_ms);
    }
    out
}

fn list_apps(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (max, token) = page_input(&mut input);
    let order = input
        .one_of("SortOrder", false, &["Ascending", "Descending"])
        .unwrap_or_else(|| "Descending".into());
    input.one_of("SortBy", false, &["CreationTime"]);
    let domain = input.string("DomainIdEquals", false, 63, DOMAIN_ID);
    let profile = input.string("UserProfileNameEquals", false, 63, PROFILE_NAME);
    let space = input.string("SpaceNameEquals", false, 63, PROFILE_NAME);
    input.finish()?;
    let state = cx.app.store.read();
    cx.authorize(&state, "sagemaker:ListApps", "*", |_| {})?;
    let now = now_ms();
    let mut apps: Vec<&App> = state
        .apps
        .values()
        .filter(|a| domain.as_deref().is_none_or(|d| a.domain_id == d))
        .filter(|a| profile.is_none() || a.user_profile == profile)
        .filter(|a| space.is_none() || a.space == space)
        .collect();
    apps.sort_by(|a, b| {
        a.created_ms
            .cmp(&b.created_ms)
            .then_with(|| a.name.cmp(&b.name))
    });
    if order == "Descending" {
        apps.reverse();
    }
    let items = apps
        .into_iter()
        .enumerate()
        .map(|(i, a)| (format!("{i:010}"), a))
        .collect();
    let (page, next) = page(items, token.as_deref(), max);
    let list: Vec<Value> = page
        .into_iter()
        .map(|a| app_details("", a, now, false))
        .collect();
    let mut out = json!({"Apps": list});
    if let Some(next) = next {
        out["NextToken"] = json!(next);
    }
    Ok(Reply::Json(out))
}

async fn delete_app(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let (domain_id, profile, space, app_type, name) = app_input(&mut input)?;
    let arn = {
        let state = cx.app.store.read();
        let (found, arn, _) = authorize_app(
            cx,
            &state,
            (
                &domain_id,
                profile.as_deref(),
                space.as_deref(),
                &app_type,
                &name,
            ),
            "sagemaker:DeleteApp",
        )?;
        if found.is_none() {
            return Err(record_not_found(&arn));
        }
        arn
    };
    let owner = profile.or(space).unwrap_or_default();
    let key = app_key(&domain_id, &owner, &app_type, &name);
    let now = now_ms();
    cx.write(|state| {
        let app = state
            .apps
            .get_mut(&key)
            .ok_or_else(|| record_not_found(&arn))?;
        if app.deleted_ms.is_some() {
            return Err(ApiError::new(
                "ResourceInUse",
                400,
                format!("App [{arn}] is already {}.", app_status(app, now)),
            ));
        }
        app.deleted_ms = Some(now);
        let change = Change::put(kind::APP, key.clone(), app);
        Ok(((), vec![change]))
    })
    .await?;
    Ok(Reply::Empty)
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
            if !role_in_sagemaker_portfolio(state, role) {
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

/// Whether a role is a principal of the SageMaker portfolio (wired to Service Catalog's
/// principals as that service lands; until then no role is).
fn role_in_sagemaker_portfolio(_state: &State, _role: &str) -> bool {
    false
}

fn create_presigned_domain_url(cx: &mut Cx<'_>, mut input: Input) -> Result<Reply, ApiError> {
    let expires_in = input.int("ExpiresInSeconds", 5, 300).unwrap_or(300);
    let session = input
        .int("SessionExpirationDurationInSeconds", 1800, 43200)
        .unwrap_or(43200);
    let (domain_id, name) = profile_input(&mut input)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_follow_the_model() {
        assert!(domain_id_pattern("d-abc123def456"));
        assert!(!domain_id_pattern("d-"));
        assert!(!domain_id_pattern("x-abc"));
        assert!(!domain_id_pattern("d-ABC"));
        assert!(resource_name_pattern("alice-1"));
        assert!(!resource_name_pattern("-alice"));
        assert!(!resource_name_pattern("alice_1"));
    }

    #[test]
    fn every_operation_is_authorized_as_its_sagemaker_action() {
        for op in OPERATIONS {
            assert_eq!(op.action, format!("sagemaker:{}", op.name));
        }
        assert_eq!(OPERATIONS.len(), 26);
    }

    #[test]
    fn validation_names_members_in_lower_camel_case() {
        let mut input = Input::new(json!({"UserProfileName": "-bad"}));
        input.string("DomainId", true, 63, DOMAIN_ID);
        input.string("UserProfileName", true, 63, PROFILE_NAME);
        let error = input.finish().unwrap_err();
        assert_eq!(
            error.message,
            "2 validation errors detected: Value null at 'domainId' failed to satisfy constraint: \
             Member must not be null; Value '-bad' at 'userProfileName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
        );
    }
}
