//! The embedded service models hold every operation the control plane serves, and validating an
//! empty body against each answers with AWS's "must not be null" for exactly its required members.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use rolewright_server::service_model::{InputError, ServiceModel, ShapeType};
use serde_json::json;

const SAGEMAKER: &[&str] = &[
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
    "EnableSagemakerServicecatalogPortfolio",
    "DisableSagemakerServicecatalogPortfolio",
    "GetSagemakerServicecatalogPortfolioStatus",
    "AddTags",
    "ListTags",
    "DeleteTags",
];

const SERVICECATALOG: &[&str] = &[
    "CreatePortfolio",
    "DescribePortfolio",
    "UpdatePortfolio",
    "DeletePortfolio",
    "ListPortfolios",
    "ListPortfoliosForProduct",
    "CreateProduct",
    "DescribeProduct",
    "DescribeProductAsAdmin",
    "DescribeProductView",
    "SearchProducts",
    "SearchProductsAsAdmin",
    "UpdateProduct",
    "DeleteProduct",
    "CreateProvisioningArtifact",
    "DescribeProvisioningArtifact",
    "ListProvisioningArtifacts",
    "DeleteProvisioningArtifact",
    "AssociateProductWithPortfolio",
    "DisassociateProductFromPortfolio",
    "AssociatePrincipalWithPortfolio",
    "DisassociatePrincipalFromPortfolio",
    "ListPrincipalsForPortfolio",
    "CreateConstraint",
    "DescribeConstraint",
    "UpdateConstraint",
    "DeleteConstraint",
    "ListConstraintsForPortfolio",
    "ListLaunchPaths",
    "ListAcceptedPortfolioShares",
    "AcceptPortfolioShare",
    "RejectPortfolioShare",
    "ProvisionProduct",
    "DescribeProvisionedProduct",
    "TerminateProvisionedProduct",
    "DescribeRecord",
    "ScanProvisionedProducts",
    "SearchProvisionedProducts",
    "ListRecordHistory",
];

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

fn walk(model: &ServiceModel, names: &[&str]) {
    let listed: Vec<&str> = model.operations().map(|op| op.name()).collect();
    let mut expected = names.to_vec();
    expected.sort_unstable();
    assert_eq!(
        listed, expected,
        "the model holds exactly the listed operations"
    );
    for name in names {
        let op = model
            .operation(name)
            .unwrap_or_else(|| panic!("{name} is missing"));
        for shape in op.input().iter().chain(op.output().iter()) {
            let shape = model
                .shape(shape)
                .unwrap_or_else(|| panic!("{name}: shape {shape} is missing"));
            assert_eq!(shape.shape_type(), ShapeType::Structure, "{name}");
        }
        for error in op.errors() {
            assert!(
                model.shape(error).is_some_and(|s| s.is_exception()),
                "{name}: {error}"
            );
        }
        let required: Vec<String> = op
            .input()
            .and_then(|input| model.shape(input))
            .map(|input| {
                input
                    .members()
                    .iter()
                    .filter(|m| m.required())
                    .map(|m| {
                        format!(
                            "Value null at '{}' failed to satisfy constraint: Member must not be null",
                            lower_first(m.name())
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        match model.validate_input(name, &json!({})) {
            Ok(()) => assert!(required.is_empty(), "{name} accepted {{}}"),
            Err(InputError::Validation { failures }) => assert_eq!(failures, required, "{name}"),
            Err(other) => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn every_sagemaker_operation_is_in_the_model() {
    walk(ServiceModel::sagemaker(), SAGEMAKER);
}

#[test]
fn every_service_catalog_operation_is_in_the_model() {
    walk(ServiceModel::servicecatalog(), SERVICECATALOG);
}

#[test]
fn create_domain_without_its_required_members() {
    let error = ServiceModel::sagemaker()
        .validate_input("CreateDomain", &json!({"DomainName": "studio"}))
        .unwrap_err();
    assert_eq!(error.code(), "ValidationException");
    assert_eq!(
        error.message(),
        "2 validation errors detected: \
         Value null at 'authMode' failed to satisfy constraint: Member must not be null; \
         Value null at 'defaultUserSettings' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn provision_product_checks_its_nested_parameters() {
    let error = ServiceModel::servicecatalog()
        .validate_input(
            "ProvisionProduct",
            &json!({
                "ProvisionedProductName": "-bad",
                "ProvisionToken": "t-1",
                "ProvisioningParameters": [{"Key": "", "Value": "x"}]
            }),
        )
        .unwrap_err();
    assert_eq!(
        error.message(),
        "2 validation errors detected: \
         Value '-bad' at 'provisionedProductName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9][a-zA-Z0-9._-]*; \
         Value '' at 'provisioningParameters.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}
