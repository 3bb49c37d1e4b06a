//! Studio domains: create, describe, list, update (refused while apps run, as AWS does) and delete.

use super::*;

pub(super) fn domain_status(domain: &Domain, now: i64) -> &'static str {
    if now - domain.created_ms < DOMAIN_PENDING_MS {
        "Pending"
    } else {
        "InService"
    }
}

pub(super) fn domain_url(domain: &Domain) -> String {
    format!(
        "https://{}.studio.{}.sagemaker.aws",
        domain.id, domain.region
    )
}

/// Settings members of CreateDomain kept as given and returned by DescribeDomain.
pub(super) const DOMAIN_SETTINGS: &[&str] = &[
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

pub(super) async fn create_domain(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let name = input.required("DomainName");
    let auth_mode = input.required("AuthMode");
    let defaults = input
        .object("DefaultUserSettings")
        .cloned()
        .unwrap_or_default();
    let tags = tags_input(&input)?;
    let mut settings = Map::new();
    for key in DOMAIN_SETTINGS {
        if let Some(v) = input.get(key) {
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
pub(super) fn authorize_domain(
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

pub(super) fn describe_domain(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("DomainId");
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

pub(super) fn list_domains(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (max, token) = page_input(&input);
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

pub(super) async fn update_domain(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("DomainId");
    let defaults = input.object("DefaultUserSettings").cloned();
    let domain_settings = input.object("DomainSettingsForUpdate").cloned();
    let space = input.object("DefaultSpaceSettings").cloned();
    let mut updates = Map::new();
    for key in [
        "SubnetIds",
        "AppNetworkAccessType",
        "AppSecurityGroupManagement",
        "TagPropagation",
        "VpcId",
    ] {
        if let Some(v) = input.get(key) {
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

pub(super) async fn delete_domain(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("DomainId");
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

/// Whether an UpdateDomain carries changes AWS refuses while apps run: the network (subnets,
/// access type), the execution role identity, and custom images.
pub(super) fn refused_with_apps(updates: &Map<String, Value>) -> bool {
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
