//! Resource providers of the Service Catalog types (`AWS::ServiceCatalog::Portfolio`,
//! `CloudFormationProduct`, `PortfolioProductAssociation`, `PortfolioPrincipalAssociation`,
//! `LaunchRoleConstraint`, `AcceptedPortfolioShare`): each creates, updates and deletes through
//! the Service Catalog operations a direct call runs (`servicecatalog::dispatch`), as the stack's
//! principal. The properties are the operations' members; associations are known by their
//! identifiers joined with `|`, as CloudFormation's `Ref` gives them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::providers::{Created, Principal};
use crate::error::ApiError;

/// A text property.
fn text(props: &Map<String, Value>, name: &str) -> Option<String> {
    props.get(name).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The named properties that are set, as an operation's input.
fn members(props: &Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|n| props.get(*n).map(|v| (n.to_string(), v.clone())))
        .collect()
}

fn token() -> Value {
    Value::String(crate::ids::request_id())
}

/// A `|`-joined physical id's parts.
fn parts(physical_id: &str) -> Vec<&str> {
    physical_id.split('|').collect()
}

/// Tags as `[{Key, Value}]`, by key.
fn tags(props: &Map<String, Value>) -> BTreeMap<String, String> {
    props
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let key = t.get("Key")?.as_str()?.to_string();
            let value = t.get("Value").and_then(Value::as_str).unwrap_or_default();
            Some((key, value.to_string()))
        })
        .collect()
}

/// `AddTags` and `RemoveTags` from the tags before to the tags after.
fn tag_edit(old: &Map<String, Value>, new: &Map<String, Value>, input: &mut Map<String, Value>) {
    let (before, after) = (tags(old), tags(new));
    let add: Vec<Value> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    let remove: Vec<Value> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .map(|k| json!(k))
        .collect();
    if !add.is_empty() {
        input.insert("AddTags".into(), Value::Array(add));
    }
    if !remove.is_empty() {
        input.insert("RemoveTags".into(), Value::Array(remove));
    }
}

/// An answer's member at a JSON pointer, as text.
fn at(answer: &Value, pointer: &str) -> String {
    answer
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn attributes(pairs: &[(&str, String)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
        .collect()
}

/// A LAUNCH constraint's `Parameters`: `RoleArn` or `LocalRoleName`.
fn launch_parameters(props: &Map<String, Value>) -> String {
    match (text(props, "RoleArn"), text(props, "LocalRoleName")) {
        (Some(arn), _) => json!({"RoleArn": arn}).to_string(),
        (None, Some(name)) => json!({"LocalRoleName": name}).to_string(),
        (None, None) => "{}".into(),
    }
}

const PORTFOLIO: &[&str] = &[
    "DisplayName",
    "ProviderName",
    "Description",
    "AcceptLanguage",
];
const PRODUCT: &[&str] = &[
    "Name",
    "Owner",
    "Description",
    "Distributor",
    "SupportDescription",
    "SupportEmail",
    "SupportUrl",
    "AcceptLanguage",
];

/// An artifact's parameters, of type `CLOUD_FORMATION_TEMPLATE` unless it says otherwise.
fn artifact(value: &Value) -> Value {
    let mut a = value.clone();
    if let Some(m) = a.as_object_mut() {
        m.entry("Type")
            .or_insert_with(|| json!("CLOUD_FORMATION_TEMPLATE"));
    }
    a
}

fn artifacts(props: &Map<String, Value>) -> Vec<Value> {
    props
        .get("ProvisioningArtifactParameters")
        .and_then(Value::as_array)
        .map(|l| l.iter().map(artifact).collect())
        .unwrap_or_default()
}

/// A product's attributes, read back with `DescribeProductAsAdmin`.
async fn product_attributes(
    p: &Principal<'_>,
    id: &str,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let answer = p
        .call_servicecatalog("DescribeProductAsAdmin", json!({"Id": id}))
        .await?;
    let versions = answer
        .get("ProvisioningArtifactSummaries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let joined = |key: &str| {
        versions
            .iter()
            .filter_map(|v| v.get(key).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(",")
    };
    Ok(attributes(&[
        ("Id", id.to_string()),
        (
            "ProductName",
            at(&answer, "/ProductViewDetail/ProductViewSummary/Name"),
        ),
        ("ProvisioningArtifactIds", joined("Id")),
        ("ProvisioningArtifactNames", joined("Name")),
    ]))
}

async fn create_product(
    p: &Principal<'_>,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    let mut input = members(props, PRODUCT);
    input.insert(
        "ProductType".into(),
        json!(text(props, "ProductType").unwrap_or_else(|| "CLOUD_FORMATION_TEMPLATE".into())),
    );
    if let Some(tags) = props.get("Tags") {
        input.insert("Tags".into(), tags.clone());
    }
    let versions = artifacts(props);
    if let Some(first) = versions.first() {
        input.insert("ProvisioningArtifactParameters".into(), first.clone());
    }
    input.insert("IdempotencyToken".into(), token());
    let answer = p
        .call_servicecatalog("CreateProduct", Value::Object(input))
        .await?;
    let id = at(&answer, "/ProductViewDetail/ProductViewSummary/ProductId");
    let more = async {
        for version in versions.iter().skip(1) {
            let input =
                json!({"ProductId": id, "Parameters": version, "IdempotencyToken": token()});
            p.call_servicecatalog("CreateProvisioningArtifact", input)
                .await?;
        }
        product_attributes(p, &id).await
    };
    match more.await {
        Ok(attributes) => Ok(Created {
            physical_id: id,
            attributes,
        }),
        Err(e) => {
            // A half-made product is removed before the failure is reported.
            let _ = p
                .call_servicecatalog("DeleteProduct", json!({"Id": id}))
                .await;
            Err(e)
        }
    }
}

/// Creates a Service Catalog resource.
pub async fn create(
    p: &Principal<'_>,
    type_name: &str,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    match type_name {
        "AWS::ServiceCatalog::Portfolio" => {
            let mut input = members(props, PORTFOLIO);
            if let Some(tags) = props.get("Tags") {
                input.insert("Tags".into(), tags.clone());
            }
            input.insert("IdempotencyToken".into(), token());
            let answer = p
                .call_servicecatalog("CreatePortfolio", Value::Object(input))
                .await?;
            let id = at(&answer, "/PortfolioDetail/Id");
            let name = at(&answer, "/PortfolioDetail/DisplayName");
            Ok(Created {
                attributes: attributes(&[("Id", id.clone()), ("PortfolioName", name)]),
                physical_id: id,
            })
        }
        "AWS::ServiceCatalog::CloudFormationProduct" => create_product(p, props).await,
        "AWS::ServiceCatalog::PortfolioProductAssociation" => {
            let input = members(
                props,
                &[
                    "PortfolioId",
                    "ProductId",
                    "SourcePortfolioId",
                    "AcceptLanguage",
                ],
            );
            p.call_servicecatalog("AssociateProductWithPortfolio", Value::Object(input))
                .await?;
            let id = format!(
                "{}|{}",
                text(props, "PortfolioId").unwrap_or_default(),
                text(props, "ProductId").unwrap_or_default()
            );
            Ok(Created {
                physical_id: id,
                attributes: BTreeMap::new(),
            })
        }
        "AWS::ServiceCatalog::PortfolioPrincipalAssociation" => {
            let input = members(
                props,
                &[
                    "PortfolioId",
                    "PrincipalARN",
                    "PrincipalType",
                    "AcceptLanguage",
                ],
            );
            p.call_servicecatalog("AssociatePrincipalWithPortfolio", Value::Object(input))
                .await?;
            let id = format!(
                "{}|{}",
                text(props, "PortfolioId").unwrap_or_default(),
                text(props, "PrincipalARN").unwrap_or_default()
            );
            Ok(Created {
                physical_id: id,
                attributes: BTreeMap::new(),
            })
        }
        "AWS::ServiceCatalog::LaunchRoleConstraint" => {
            let mut input = members(
                props,
                &["PortfolioId", "ProductId", "Description", "AcceptLanguage"],
            );
            input.insert("Type".into(), json!("LAUNCH"));
            input.insert("Parameters".into(), json!(launch_parameters(props)));
            input.insert("IdempotencyToken".into(), token());
            let answer = p
                .call_servicecatalog("CreateConstraint", Value::Object(input))
                .await?;
            let id = at(&answer, "/ConstraintDetail/ConstraintId");
            Ok(Created {
                attributes: attributes(&[("Id", id.clone())]),
                physical_id: id,
            })
        }
        "AWS::ServiceCatalog::AcceptedPortfolioShare" => {
            let input = members(props, &["PortfolioId", "AcceptLanguage"]);
            p.call_servicecatalog("AcceptPortfolioShare", Value::Object(input))
                .await?;
            Ok(Created {
                physical_id: text(props, "PortfolioId").unwrap_or_default(),
                attributes: BTreeMap::new(),
            })
        }
        other => Err(super::providers::unrecognized(other)),
    }
}

/// Deletes a Service Catalog resource; one already gone counts as deleted.
pub async fn delete(
    p: &Principal<'_>,
    type_name: &str,
    physical_id: &str,
    props: &Map<String, Value>,
) -> Result<(), ApiError> {
    let ids = parts(physical_id);
    let (op, input) = match type_name {
        "AWS::ServiceCatalog::Portfolio" => ("DeletePortfolio", json!({"Id": physical_id})),
        "AWS::ServiceCatalog::CloudFormationProduct" => {
            ("DeleteProduct", json!({"Id": physical_id}))
        }
        "AWS::ServiceCatalog::PortfolioProductAssociation" => (
            "DisassociateProductFromPortfolio",
            json!({"PortfolioId": ids[0], "ProductId": ids.get(1).copied().unwrap_or_default()}),
        ),
        "AWS::ServiceCatalog::PortfolioPrincipalAssociation" => {
            let mut input = json!({
                "PortfolioId": ids[0],
                "PrincipalARN": ids.get(1).copied().unwrap_or_default(),
            });
            if let Some(t) = text(props, "PrincipalType") {
                input["PrincipalType"] = json!(t);
            }
            ("DisassociatePrincipalFromPortfolio", input)
        }
        "AWS::ServiceCatalog::LaunchRoleConstraint" => {
            ("DeleteConstraint", json!({"Id": physical_id}))
        }
        "AWS::ServiceCatalog::AcceptedPortfolioShare" => {
            ("RejectPortfolioShare", json!({"PortfolioId": physical_id}))
        }
        _ => return Ok(()),
    };
    match p.call_servicecatalog(op, input).await {
        Err(e) if e.code == "ResourceNotFoundException" => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Updates a Service Catalog resource in place (what its schema does not mark create-only);
/// gives its attributes after.
pub async fn update(
    p: &Principal<'_>,
    type_name: &str,
    physical_id: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<BTreeMap<String, Value>, ApiError> {
    match type_name {
        "AWS::ServiceCatalog::Portfolio" => {
            let mut input = members(new, PORTFOLIO);
            input.insert("Id".into(), json!(physical_id));
            tag_edit(old, new, &mut input);
            let answer = p
                .call_servicecatalog("UpdatePortfolio", Value::Object(input))
                .await?;
            let name = at(&answer, "/PortfolioDetail/DisplayName");
            Ok(attributes(&[
                ("Id", physical_id.to_string()),
                ("PortfolioName", name),
            ]))
        }
        "AWS::ServiceCatalog::CloudFormationProduct" => {
            let mut input = members(new, PRODUCT);
            input.insert("Id".into(), json!(physical_id));
            tag_edit(old, new, &mut input);
            p.call_servicecatalog("UpdateProduct", Value::Object(input))
                .await?;
            // Versions are added by name; with ReplaceProvisioningArtifacts, the ones the
            // template no longer lists go.
            let named = |v: &Value| v.get("Name").and_then(Value::as_str).map(str::to_string);
            let before: Vec<String> = artifacts(old).iter().filter_map(named).collect();
            let after = artifacts(new);
            for version in after
                .iter()
                .filter(|v| named(v).is_none_or(|n| !before.contains(&n)))
            {
                let input = json!({"ProductId": physical_id, "Parameters": version, "IdempotencyToken": token()});
                p.call_servicecatalog("CreateProvisioningArtifact", input)
                    .await?;
            }
            if new
                .get("ReplaceProvisioningArtifacts")
                .and_then(Value::as_bool)
                == Some(true)
            {
                let kept: Vec<String> = after.iter().filter_map(named).collect();
                let attributes = product_attributes(p, physical_id).await?;
                let ids = attributes
                    .get("ProvisioningArtifactIds")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let names = attributes
                    .get("ProvisioningArtifactNames")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                for (id, name) in ids.split(',').zip(names.split(',')) {
                    if !kept.iter().any(|k| k == name) {
                        let input = json!({"ProductId": physical_id, "ProvisioningArtifactId": id});
                        p.call_servicecatalog("DeleteProvisioningArtifact", input)
                            .await?;
                    }
                }
            }
            product_attributes(p, physical_id).await
        }
        "AWS::ServiceCatalog::LaunchRoleConstraint" => {
            let mut input = members(new, &["Description", "AcceptLanguage"]);
            input.insert("Id".into(), json!(physical_id));
            input.insert("Parameters".into(), json!(launch_parameters(new)));
            p.call_servicecatalog("UpdateConstraint", Value::Object(input))
                .await?;
            Ok(attributes(&[("Id", physical_id.to_string())]))
        }
        // Every property of the associations and the share is create-only: a change replaces.
        _ => Ok(BTreeMap::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_edits_add_changed_and_remove_dropped_keys() {
        let old = json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]});
        let new = json!({"Tags": [{"Key": "a", "Value": "9"}, {"Key": "c", "Value": "3"}]});
        let mut input = Map::new();
        tag_edit(
            old.as_object().unwrap_or(&Map::new()),
            new.as_object().unwrap_or(&Map::new()),
            &mut input,
        );
        assert_eq!(
            Value::Object(input),
            json!({
                "AddTags": [{"Key": "a", "Value": "9"}, {"Key": "c", "Value": "3"}],
                "RemoveTags": ["b"],
            })
        );
    }

    #[test]
    fn a_launch_constraint_names_its_role_by_arn_or_by_local_name() {
        let by_arn = json!({"RoleArn": "arn:aws:iam::123456789012:role/Launch"});
        assert_eq!(
            launch_parameters(by_arn.as_object().unwrap_or(&Map::new())),
            r#"{"RoleArn":"arn:aws:iam::123456789012:role/Launch"}"#
        );
        let by_name = json!({"LocalRoleName": "Launch"});
        assert_eq!(
            launch_parameters(by_name.as_object().unwrap_or(&Map::new())),
            r#"{"LocalRoleName":"Launch"}"#
        );
    }
}
