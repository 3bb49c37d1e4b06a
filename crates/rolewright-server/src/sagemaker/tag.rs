//! AddTags, ListTags and DeleteTags on domains, user profiles, spaces and apps.

use super::*;

pub(super) fn tag_list(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"Key": t.key, "Value": t.value}))
            .collect(),
    )
}

pub(super) fn merge_tags(existing: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, ApiError> {
    let merged = crate::model::merge_tags(existing, new);
    if merged.len() > 50 {
        return Err(ApiError::new(
            "ResourceLimitExceeded",
            400,
            "A resource can have at most 50 tags.",
        ));
    }
    Ok(merged)
}

/// What an ARN given to the tagging operations names.
pub(super) enum Tagged {
    Domain(String),
    UserProfile(String),
    Space(String),
    App(String),
}

pub(super) fn tagged(state: &State, arn: &str) -> Option<Tagged> {
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
    if let Some(rest) = resource.strip_prefix("space/") {
        return state
            .spaces
            .contains_key(rest)
            .then(|| Tagged::Space(rest.to_string()));
    }
    if resource.starts_with("app/") {
        // An app's ARN lowercases its type; find the live app it names.
        return state
            .apps
            .iter()
            .filter(|(_, app)| app.deleted_ms.is_none())
            .find(|(_, app)| {
                let region = state.domains.get(&app.domain_id).map(|d| d.region.as_str());
                region.is_some_and(|region| app_arn(state, region, app) == arn)
            })
            .map(|(key, _)| Tagged::App(key.clone()));
    }
    None
}

pub(super) fn tags_of(state: &State, target: &Tagged) -> Vec<Tag> {
    match target {
        Tagged::Domain(id) => state.domains.get(id).map(|d| d.tags.clone()),
        Tagged::UserProfile(key) => state.user_profiles.get(key).map(|p| p.tags.clone()),
        Tagged::Space(key) => state.spaces.get(key).map(|s| s.tags.clone()),
        Tagged::App(key) => state.apps.get(key).map(|a| a.tags.clone()),
    }
    .unwrap_or_default()
}

/// Authorizes a tagging action on `arn` and returns what it names, or `ResourceNotFound`.
pub(super) fn authorize_tagging(
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

pub(super) fn edit_tags(
    state: &mut State,
    target: &Tagged,
    edit: impl FnOnce(&[Tag]) -> Result<Vec<Tag>, ApiError>,
) -> Result<Vec<Change>, ApiError> {
    let gone = || ApiError::new("ResourceNotFound", 400, "The resource was deleted.");
    match target {
        Tagged::Domain(id) => {
            let domain = state.domains.get_mut(id).ok_or_else(gone)?;
            domain.tags = edit(&domain.tags)?;
            Ok(vec![Change::put(kind::DOMAIN, id.clone(), domain)])
        }
        Tagged::UserProfile(key) => {
            let profile = state.user_profiles.get_mut(key).ok_or_else(gone)?;
            profile.tags = edit(&profile.tags)?;
            Ok(vec![Change::put(kind::USER_PROFILE, key.clone(), profile)])
        }
        Tagged::Space(key) => {
            let space = state.spaces.get_mut(key).ok_or_else(gone)?;
            space.tags = edit(&space.tags)?;
            Ok(vec![Change::put(kind::SPACE, key.clone(), space)])
        }
        Tagged::App(key) => {
            let app = state.apps.get_mut(key).ok_or_else(gone)?;
            app.tags = edit(&app.tags)?;
            Ok(vec![Change::put(kind::APP, key.clone(), app)])
        }
    }
}

pub(super) async fn add_tags(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let arn = input.required("ResourceArn");
    let tags = tags_input(&input)?;
    let target = authorize_tagging(cx, &arn, "sagemaker:AddTags", &tags, &[])?;
    let added = tags.clone();
    cx.write(|state| {
        let changes = edit_tags(state, &target, |old| merge_tags(old, &added))?;
        Ok(((), changes))
    })
    .await?;
    Ok(Reply::Json(json!({"Tags": tag_list(&tags)})))
}

pub(super) fn list_tags(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let arn = input.required("ResourceArn");
    let (max, token) = page_input(&input);
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

pub(super) async fn delete_tags(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let arn = input.required("ResourceArn");
    let keys = input.strings("TagKeys");
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
