//! Apps of user profiles and spaces: Pending, then InService; Deleting, then Deleted and still listed.

use super::*;

/// An app's status at `now` (unix milliseconds).
pub fn app_status(app: &App, now: i64) -> &'static str {
    match app.deleted_ms {
        Some(deleted) if now - deleted < APP_TRANSITION_MS => "Deleting",
        Some(_) => "Deleted",
        None if now - app.created_ms < APP_TRANSITION_MS => "Pending",
        None => "InService",
    }
}

/// What names an app: domain, user profile, space, type, name.
pub(super) type AppId = (String, Option<String>, Option<String>, String, String);

/// Reads the members that name an app: the domain, its owner (a user profile or a space, one of
/// them: a rule of SageMaker's, not of its model), the type and the name.
pub(super) fn app_input(input: &Members) -> Result<AppId, ApiError> {
    let profile = input.string("UserProfileName");
    let space = input.string("SpaceName");
    if profile.is_some() == space.is_some() {
        return Err(ApiError::new(
            "ValidationException",
            400,
            "Exactly one of UserProfileName and SpaceName must be given.",
        ));
    }
    Ok((
        input.required("DomainId"),
        profile,
        space,
        input.required("AppType"),
        input.required("AppName"),
    ))
}

pub(super) fn record_not_found(arn: &str) -> ApiError {
    ApiError::new(
        "ValidationException",
        400,
        format!("RecordNotFound: App [{arn}] does not exist."),
    )
}

pub(super) async fn create_app(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let tags = tags_input(&input)?;
    let resource_spec = input.get("ResourceSpec").cloned();
    let (domain_id, profile, space, app_type, name) = app_input(&input)?;
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
pub(super) fn authorize_app(
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

pub(super) fn describe_app(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (domain_id, profile, space, app_type, name) = app_input(&input)?;
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

pub(super) fn app_details(arn: &str, app: &App, now: i64, full: bool) -> Value {
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

pub(super) fn list_apps(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (max, token) = page_input(&input);
    // `SortBy` has one value, `CreationTime`, the only order there is.
    let order = input.str("SortOrder").unwrap_or("Descending");
    let domain = input.str("DomainIdEquals");
    let profile = input.string("UserProfileNameEquals");
    let space = input.string("SpaceNameEquals");
    let state = cx.app.store.read();
    cx.authorize(&state, "sagemaker:ListApps", "*", |_| {})?;
    let now = now_ms();
    let mut apps: Vec<&App> = state
        .apps
        .values()
        .filter(|a| domain.is_none_or(|d| a.domain_id == d))
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

pub(super) async fn delete_app(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (domain_id, profile, space, app_type, name) = app_input(&input)?;
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
