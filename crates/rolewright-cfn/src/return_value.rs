//! What `Ref` and `Fn::GetAtt` return for each type rolewright provisions, as the
//! CloudFormation template reference documents it ("Return values" of each resource page,
//! awsdocs/aws-cloudformation-user-guide `doc_source/aws-resource-*.md`).
//!
//! The attributes are the types' `readOnlyProperties`, as the registry defines `Fn::GetAtt`; a
//! test keeps this table and `data/schemas.json` in step. Where the two disagree with older
//! reference pages (`AWS::IAM::Policy` and `AWS::ServiceCatalog::LaunchRoleConstraint` list no
//! `Id` attribute there), the schema wins, as the registry answers `Fn::GetAtt` from it.

/// What `Ref` of a resource returns; the provider supplies the value, as the physical id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefValue {
    /// The resource's name (the property that holds it).
    Name(&'static str),
    /// The resource's ARN.
    Arn,
    /// The identifier the service gives it (the property that holds it).
    Id(&'static str),
    /// Several identifiers joined by `|`, in the order given (a composite primary identifier).
    Composite(&'static [&'static str]),
}

/// What a type returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnValues {
    /// The type.
    pub type_name: &'static str,
    /// What `Ref` returns.
    pub reference: RefValue,
    /// The reference page's words for it.
    pub reference_text: &'static str,
    /// The attributes `Fn::GetAtt` accepts.
    pub attributes: &'static [&'static str],
}

impl ReturnValues {
    /// Whether `Fn::GetAtt` accepts `attribute`.
    pub fn has_attribute(&self, attribute: &str) -> bool {
        self.attributes.contains(&attribute)
    }
}

const TABLE: &[ReturnValues] = &[
    ReturnValues {
        type_name: "AWS::IAM::Role",
        reference: RefValue::Name("RoleName"),
        reference_text: "the resource name",
        attributes: &["Arn", "RoleId"],
    },
    ReturnValues {
        type_name: "AWS::IAM::Policy",
        reference: RefValue::Id("Id"),
        reference_text: "the resource name",
        attributes: &["Id"],
    },
    ReturnValues {
        type_name: "AWS::IAM::ManagedPolicy",
        reference: RefValue::Arn,
        reference_text: "the ARN",
        attributes: &[
            "PolicyArn",
            "AttachmentCount",
            "CreateDate",
            "DefaultVersionId",
            "IsAttachable",
            "PermissionsBoundaryUsageCount",
            "PolicyId",
            "UpdateDate",
        ],
    },
    ReturnValues {
        type_name: "AWS::IAM::User",
        reference: RefValue::Name("UserName"),
        reference_text: "the resource name",
        attributes: &["Arn"],
    },
    ReturnValues {
        type_name: "AWS::IAM::Group",
        reference: RefValue::Name("GroupName"),
        reference_text: "the resource name",
        attributes: &["Arn"],
    },
    ReturnValues {
        type_name: "AWS::IAM::InstanceProfile",
        reference: RefValue::Name("InstanceProfileName"),
        reference_text: "the resource name",
        attributes: &["Arn"],
    },
    ReturnValues {
        type_name: "AWS::IAM::AccessKey",
        reference: RefValue::Id("Id"),
        reference_text: "the AccessKeyId",
        attributes: &["SecretAccessKey", "Id"],
    },
    ReturnValues {
        type_name: "AWS::SageMaker::Domain",
        reference: RefValue::Id("DomainId"),
        reference_text: "the Domain ID, such as d-xxxxxxxxxxxx",
        attributes: &[
            "DomainArn",
            "Url",
            "DomainId",
            "HomeEfsFileSystemId",
            "SecurityGroupIdForDomainBoundary",
            "SingleSignOnManagedApplicationInstanceId",
            "SingleSignOnApplicationArn",
        ],
    },
    ReturnValues {
        type_name: "AWS::SageMaker::UserProfile",
        reference: RefValue::Composite(&["DomainId", "UserProfileName"]),
        reference_text: "the Domain ID and the user profile name",
        attributes: &["UserProfileArn"],
    },
    ReturnValues {
        type_name: "AWS::SageMaker::Space",
        reference: RefValue::Composite(&["DomainId", "SpaceName"]),
        reference_text: "the ID of the domain that the space is associated with and the name of the space",
        attributes: &["SpaceArn", "Url"],
    },
    ReturnValues {
        type_name: "AWS::SageMaker::App",
        reference: RefValue::Composite(&["AppType", "AppName", "DomainId", "UserProfileName"]),
        reference_text: "the app type, app name, Domain ID, and user profile name",
        attributes: &["AppArn", "BuiltInLifecycleConfigArn"],
    },
    ReturnValues {
        type_name: "AWS::ServiceCatalog::Portfolio",
        reference: RefValue::Id("Id"),
        reference_text: "the portfolio identifier",
        attributes: &["PortfolioName", "Id"],
    },
    ReturnValues {
        type_name: "AWS::ServiceCatalog::CloudFormationProduct",
        reference: RefValue::Id("Id"),
        reference_text: "the ID of the product, such as prod-nd24wbqkm4pju",
        attributes: &[
            "Id",
            "ProvisioningArtifactIds",
            "ProvisioningArtifactNames",
            "ProductName",
        ],
    },
    ReturnValues {
        type_name: "AWS::ServiceCatalog::PortfolioProductAssociation",
        reference: RefValue::Composite(&["PortfolioId", "ProductId"]),
        reference_text: "a unique identifier for the association",
        attributes: &[],
    },
    ReturnValues {
        type_name: "AWS::ServiceCatalog::PortfolioPrincipalAssociation",
        reference: RefValue::Composite(&["PortfolioId", "PrincipalARN"]),
        reference_text: "a unique identifier for the association",
        attributes: &[],
    },
    ReturnValues {
        type_name: "AWS::ServiceCatalog::LaunchRoleConstraint",
        reference: RefValue::Id("Id"),
        reference_text: "identifier of the constraint",
        attributes: &["Id"],
    },
    ReturnValues {
        type_name: "AWS::ServiceCatalog::AcceptedPortfolioShare",
        reference: RefValue::Id("PortfolioId"),
        reference_text: "a unique identifier",
        attributes: &[],
    },
];

/// What `type_name` returns; `None` for a type rolewright does not provision.
pub fn return_values(type_name: &str) -> Option<&'static ReturnValues> {
    TABLE.iter().find(|r| r.type_name == type_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_table_covers_the_schemas_and_their_read_only_properties() {
        let types: BTreeSet<&str> = crate::schema::supported_types().collect();
        let table: BTreeSet<&str> = TABLE.iter().map(|r| r.type_name).collect();
        assert_eq!(types, table);
        for r in TABLE {
            let schema = crate::schema::schema(r.type_name).unwrap();
            let attributes: BTreeSet<&str> = r.attributes.iter().copied().collect();
            let read_only: BTreeSet<&str> = schema.read_only.iter().map(String::as_str).collect();
            assert_eq!(attributes, read_only, "{}", r.type_name);
        }
    }
}
