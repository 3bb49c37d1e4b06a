//! Shared spaces of a domain.

use super::*;

/// Members of CreateSpace kept as given.
pub(super) const SPACE_SETTINGS: &[&str] = &[
    "SpaceSettings",
    "OwnershipSettings",
    "SpaceSharingSettings",
    "SpaceDisplayName",
];

/// `DomainId` and `SpaceName`.
pub(super) fn space_input(input: &Members) -> (String, String) {
    (input.required("DomainId"), input.required("SpaceName"))
}

pub(super) async fn create_space(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let tags = tags_input(&input)?;
    let (domain_id, name) = space_input(&input);
    let mut settings = Map::new();
    for key in SPACE_SETTINGS {
        if let Some(v) = input.get(key) {
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

pub(super) fn authorize_space(
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

pub(super) fn describe_space(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (domain_id, name) = space_input(&input);
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

pub(super) fn list_spaces(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let query = ListQuery::read(&input, "SpaceNameContains");
    let state = cx.app.store.read();
    cx.authorize(&state, "sagemaker:ListSpaces", "*", |_| {})?;
    let mut spaces: Vec<&Space> = state
        .spaces
        .values()
        .filter(|p| query.domain.is_none_or(|d| p.domain_id == d))
        .filter(|p| query.contains.is_none_or(|c| p.name.contains(c)))
        .collect();
    let time = |p: &Space| query.time(p.created_ms, p.modified_ms);
    spaces.sort_by(|a, b| time(a).cmp(&time(b)).then_with(|| a.name.cmp(&b.name)));
    if query.descending {
        spaces.reverse();
    }
    let items = spaces
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("{i:010}"), p))
        .collect();
    let (page, next) = page(items, query.token.as_deref(), query.max);
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

pub(super) async fn update_space(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let settings = input.object("SpaceSettings").cloned();
    let display = input.string("SpaceDisplayName");
    let (domain_id, name) = space_input(&input);
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

pub(super) async fn delete_space(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let (domain_id, name) = space_input(&input);
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
