//! User profiles: each with its settings and execution role, inheriting the domain's when it has none.

use super::*;

pub(super) async fn create_user_profile(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let (domain_id, name) = profile_input(&input);
    let settings = input.object("UserSettings").cloned().unwrap_or_default();
    let tags = tags_input(&input)?;
    let sso_id = input.string("SingleSignOnUserIdentifier");
    let sso_value = input.string("SingleSignOnUserValue");
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

/// Authorizes `action` on the profile (with its tags) and returns it with its region, or
/// `ResourceNotFound`.
pub(super) fn authorize_profile<'s>(
    cx: &mut Cx<'_>,
    state: &'s State,
    domain_id: &str,
    name: &str,
    action: &str,
) -> Result<(&'s UserProfile, String), ApiError> {
    let region = state
        .domains
        .get(domain_id)
        .map_or_else(|| cx.facts.region.clone(), |d| d.region.clone());
    let arn = user_profile_arn(state, &region, domain_id, name);
    let profile = state.user_profiles.get(&profile_key(domain_id, name));
    let tags = profile.map_or(&[][..], |p| p.tags.as_slice());
    cx.authorize(state, action, &arn, |ctx| resource_tags(ctx, tags))?;
    match profile {
        Some(p) => Ok((p, region)),
        None => Err(not_found("User profile", &arn)),
    }
}

/// `DomainId` and `UserProfileName`.
pub(super) fn profile_input(input: &Members) -> (String, String) {
    (
        input.required("DomainId"),
        input.required("UserProfileName"),
    )
}

pub(super) fn describe_user_profile(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (domain_id, name) = profile_input(&input);
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

pub(super) fn list_user_profiles(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let query = ListQuery::read(&input, "UserProfileNameContains");
    let state = cx.app.store.read();
    cx.authorize(&state, "sagemaker:ListUserProfiles", "*", |_| {})?;
    // Profiles are keyed `DOMAIN/NAME`: one domain's are one range of the map ('0' follows '/').
    let in_scope: Box<dyn Iterator<Item = &UserProfile>> = match query.domain {
        Some(d) => Box::new(
            state
                .user_profiles
                .range(format!("{d}/")..format!("{d}0"))
                .map(|(_, p)| p),
        ),
        None => Box::new(state.user_profiles.values()),
    };
    let mut profiles: Vec<&UserProfile> = in_scope
        .filter(|p| query.contains.is_none_or(|c| p.name.contains(c)))
        .collect();
    let time = |p: &UserProfile| query.time(p.created_ms, p.modified_ms);
    let cmp = |a: &&UserProfile, b: &&UserProfile| {
        let o = time(a)
            .cmp(&time(b))
            .then_with(|| a.domain_id.cmp(&b.domain_id))
            .then_with(|| a.name.cmp(&b.name));
        if query.descending { o.reverse() } else { o }
    };
    // A page needs only the first offset + max + 1 profiles in order (the last one says whether
    // another page follows): select them in linear time, then sort just those.
    let offset = query
        .token
        .as_deref()
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let needed = offset.saturating_add(query.max).saturating_add(1);
    if needed < profiles.len() {
        profiles.select_nth_unstable_by(needed - 1, cmp);
        profiles.truncate(needed);
    }
    profiles.sort_by(cmp);
    let end = offset.saturating_add(query.max).min(profiles.len());
    let page = profiles
        .get(offset.min(end)..end)
        .unwrap_or_default()
        .to_vec();
    let next = (profiles.len() > end).then(|| crate::iam::encode_marker(&format!("{end:010}")));
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

pub(super) async fn update_user_profile(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let settings = input.object("UserSettings").cloned().unwrap_or_default();
    let (domain_id, name) = profile_input(&input);
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

pub(super) async fn delete_user_profile(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let (domain_id, name) = profile_input(&input);
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
