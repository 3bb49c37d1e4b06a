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
    "GetProvisionedProductOutputs",
    "DescribeProvisioningParameters",
    "UpdateProvisionedProduct",
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

/// The message of the `ValidationException` the model gives `input`.
fn refusal(model: &ServiceModel, operation: &str, input: serde_json::Value) -> String {
    match model.validate_input(operation, &input) {
        Err(error @ InputError::Validation { .. }) => error.message(),
        other => panic!("{operation} {input}: {other:?}"),
    }
}

#[test]
fn sagemaker_ids_and_names_follow_the_models_patterns() {
    let model = ServiceModel::sagemaker();
    let profile = |domain: &str, name: &str| {
        model.validate_input(
            "DescribeUserProfile",
            &json!({"DomainId": domain, "UserProfileName": name}),
        )
    };
    assert_eq!(profile("d-abc123def456", "alice-1"), Ok(()));
    assert_eq!(profile("d-a-b", "A1"), Ok(()));
    for domain in ["d-", "x-abc", "d-ABC", "d-abc-"] {
        let error = profile(domain, "alice").unwrap_err();
        assert_eq!(
            error.message(),
            format!(
                "1 validation error detected: Value '{domain}' at 'domainId' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: ^d-(-*[a-z0-9]){{1,61}}"
            )
        );
    }
    for name in ["-alice", "alice_1", "alice-"] {
        let error = profile("d-abc123def456", name).unwrap_err();
        assert_eq!(
            error.message(),
            format!(
                "1 validation error detected: Value '{name}' at 'userProfileName' failed to \
                 satisfy constraint: Member must satisfy regular expression pattern: \
                 ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}"
            )
        );
    }
}

#[test]
fn sagemaker_validation_names_members_in_lower_camel_case() {
    assert_eq!(
        refusal(
            ServiceModel::sagemaker(),
            "DescribeUserProfile",
            json!({"UserProfileName": "-bad"})
        ),
        "2 validation errors detected: Value null at 'domainId' failed to satisfy constraint: \
         Member must not be null; Value '-bad' at 'userProfileName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: \
         ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
    );
}

#[test]
fn sagemaker_enums_ranges_and_tag_lists_are_the_models() {
    let model = ServiceModel::sagemaker();
    assert_eq!(
        refusal(
            model,
            "CreateApp",
            json!({"DomainId": "d-abc123def456", "UserProfileName": "alice", "AppType": "Nope", "AppName": "default"})
        ),
        "1 validation error detected: Value 'Nope' at 'appType' failed to satisfy constraint: \
         Member must satisfy enum value set: [JupyterServer, KernelGateway, DetailedProfiler, \
         TensorBoard, CodeEditor, JupyterLab, RStudioServerPro, RSessionGateway, Canvas]"
    );
    assert_eq!(
        refusal(
            model,
            "CreatePresignedDomainUrl",
            json!({"DomainId": "d-abc123def456", "UserProfileName": "alice", "ExpiresInSeconds": 4, "SessionExpirationDurationInSeconds": 50000})
        ),
        "2 validation errors detected: Value '50000' at 'sessionExpirationDurationInSeconds' \
         failed to satisfy constraint: Member must have value less than or equal to 43200; \
         Value '4' at 'expiresInSeconds' failed to satisfy constraint: Member must have value \
         greater than or equal to 5"
    );
    let arn = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc123def456";
    assert_eq!(
        refusal(
            model,
            "AddTags",
            json!({"ResourceArn": arn, "Tags": [{"Key": "", "Value": "x".repeat(257)}]})
        ),
        format!(
            "2 validation errors detected: Value '' at 'tags.1.member.key' failed to satisfy \
             constraint: Member must have length greater than or equal to 1; Value '{}' at \
             'tags.1.member.value' failed to satisfy constraint: Member must have length less \
             than or equal to 256",
            "x".repeat(257)
        )
    );
    assert_eq!(
        refusal(model, "DeleteTags", json!({"ResourceArn": arn})),
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[test]
fn sagemaker_list_tags_max_results_has_a_minimum_and_no_maximum() {
    let model = ServiceModel::sagemaker();
    let arn = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc123def456";
    let list = |max: i64| {
        model.validate_input("ListTags", &json!({"ResourceArn": arn, "MaxResults": max}))
    };
    // So the handler's refusal of more than 100 is its own (see `sagemaker::tag::list_tags`).
    assert_eq!(list(1000), Ok(()));
    assert_eq!(
        list(49).unwrap_err().message(),
        "1 validation error detected: Value '49' at 'maxResults' failed to satisfy constraint: \
         Member must have value greater than or equal to 50"
    );
}

#[test]
fn service_catalog_validation_names_members_in_lower_camel_case() {
    assert_eq!(
        refusal(
            ServiceModel::servicecatalog(),
            "ListPortfoliosForProduct",
            json!({"ProductId": "bad id!", "PageSize": 500})
        ),
        "2 validation errors detected: Value 'bad id!' at 'productId' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-]*; Value \
         '500' at 'pageSize' failed to satisfy constraint: Member must have value less than or \
         equal to 100"
    );
}

#[test]
fn service_catalog_tokens_tags_and_lengths_are_the_models() {
    let model = ServiceModel::servicecatalog();
    assert_eq!(
        refusal(
            model,
            "CreatePortfolio",
            json!({
                "DisplayName": "", "ProviderName": "x".repeat(51), "IdempotencyToken": "-t",
                "Tags": [{"Key": "k,", "Value": ""}], "AcceptLanguage": "x".repeat(101),
            })
        ),
        format!(
            "6 validation errors detected: Value '{long_language}' at 'acceptLanguage' failed \
             to satisfy constraint: Member must have length less than or equal to 100; Value '' \
             at 'displayName' failed to satisfy constraint: Member must have length greater than \
             or equal to 1; Value '{long_provider}' at 'providerName' failed to satisfy \
             constraint: Member must have length less than or equal to 50; Value 'k,' at \
             'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$; Value '' at \
             'tags.1.member.value' failed to satisfy constraint: Member must have length greater \
             than or equal to 1; Value '-t' at 'idempotencyToken' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [a-zA-Z0-9][a-zA-Z0-9_-]*",
            long_language = "x".repeat(101),
            long_provider = "x".repeat(51),
        )
    );
    let tags: Vec<_> = (0..21)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    assert!(
        refusal(model, "UpdatePortfolio", json!({"Id": "port-1", "AddTags": tags}))
            .ends_with("at 'addTags' failed to satisfy constraint: Member must have length less than or equal to 20")
    );
    assert_eq!(
        refusal(
            model,
            "CreateProvisioningArtifact",
            json!({"ProductId": "prod-1", "IdempotencyToken": "t1", "Parameters": null})
        ),
        "1 validation error detected: Value null at 'parameters' failed to satisfy constraint: \
         Member must not be null"
    );
    assert_eq!(
        refusal(
            model,
            "CreateProduct",
            json!({
                "Name": "p", "Owner": "o", "ProductType": "CLOUD_FORMATION_TEMPLATE",
                "IdempotencyToken": "t1",
                "ProvisioningArtifactParameters": {"Name": "x".repeat(8193), "Type": "NOPE"},
            })
        ),
        format!(
            "2 validation errors detected: Value '{}' at \
             'provisioningArtifactParameters.name' failed to satisfy constraint: Member must \
             have length less than or equal to 8192; Value 'NOPE' at \
             'provisioningArtifactParameters.type' failed to satisfy constraint: Member must \
             satisfy enum value set: [CLOUD_FORMATION_TEMPLATE, MARKETPLACE_AMI, \
             MARKETPLACE_CAR, TERRAFORM_OPEN_SOURCE, TERRAFORM_CLOUD, EXTERNAL]",
            "x".repeat(8193)
        )
    );
}

#[test]
fn service_catalog_filter_keys_are_the_models_but_for_null_values() {
    let model = ServiceModel::servicecatalog();
    assert_eq!(
        refusal(
            model,
            "SearchProducts",
            json!({"Filters": {"Bogus": ["x"]}})
        ),
        "1 validation error detected: Value '{Bogus=[x]}' at 'filters' failed to satisfy \
         constraint: Map keys must satisfy constraint: [Member must satisfy enum value set: \
         [FullTextSearch, Owner, ProductType, SourceProductId]]"
    );
    // A null entry is left out, key and all: the handler refuses an unknown key itself.
    assert_eq!(
        model.validate_input("SearchProducts", &json!({"Filters": {"Bogus": null}})),
        Ok(())
    );
}
