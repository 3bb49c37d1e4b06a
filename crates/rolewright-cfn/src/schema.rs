//! The resource types rolewright provisions, known only as schemas: property names, required
//! properties, and which property changes replace the resource.
//!
//! The facts come from the resource provider schemas AWS publishes, as PyPI `cfn-lint` bundles
//! them; `scripts/extract-cfn-schemas` copies what is needed into `data/schemas.json`, which is
//! embedded here (see `data/README.md`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The schema facts of one resource type. Property paths are JSON pointers without their
/// `/properties/` prefix (`DomainSettings/KmsKeyId`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSchema {
    /// Every property, in the schema's order.
    pub properties: Vec<String>,
    /// Properties a template must set.
    pub required: Vec<String>,
    /// Properties whose change replaces the resource.
    pub create_only: Vec<String>,
    /// Properties whose change may replace the resource, depending on the change.
    pub conditional_create_only: Vec<String>,
    /// Properties only the service sets (what `Fn::GetAtt` returns).
    pub read_only: Vec<String>,
    /// Properties the service never returns.
    pub write_only: Vec<String>,
    /// The properties that identify a resource.
    pub primary_identifier: Vec<String>,
}

/// How a change to a property affects the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Replacement {
    /// Updated in place.
    Never,
    /// Replaced for some changes (CloudFormation's "Conditional").
    Conditionally,
    /// Replaced.
    Always,
}

impl Replacement {
    /// A property's `RequiresRecreation` in a change set: `Never`, `Conditionally`, `Always`.
    pub fn requires_recreation(self) -> &'static str {
        match self {
            Replacement::Never => "Never",
            Replacement::Conditionally => "Conditionally",
            Replacement::Always => "Always",
        }
    }

    /// A resource's `Replacement` in a change set: `False`, `Conditional`, `True`.
    pub fn replacement(self) -> &'static str {
        match self {
            Replacement::Never => "False",
            Replacement::Conditionally => "Conditional",
            Replacement::Always => "True",
        }
    }
}

impl ResourceSchema {
    /// Whether a template may set `property` (it exists and the service does not own it).
    pub fn accepts(&self, property: &str) -> bool {
        self.properties.iter().any(|p| p == property)
            && !self.read_only.iter().any(|p| p == property)
    }

    /// The properties a template may set.
    pub fn settable(&self) -> impl Iterator<Item = &str> {
        self.properties
            .iter()
            .map(String::as_str)
            .filter(|p| !self.read_only.iter().any(|r| r == p))
    }

    /// How a change at `path` (a top-level property, or a pointer below it) affects the
    /// resource.
    pub fn replacement(&self, path: &str) -> Replacement {
        let covers = |pointer: &str| path == pointer || path.starts_with(&format!("{pointer}/"));
        if self.create_only.iter().any(|p| covers(p)) {
            Replacement::Always
        } else if self.conditional_create_only.iter().any(|p| covers(p)) {
            Replacement::Conditionally
        } else {
            Replacement::Never
        }
    }

    /// The create-only pointers below the top-level `property` (for a nested comparison).
    pub(crate) fn nested_rules<'a>(
        &'a self,
        property: &'a str,
    ) -> impl Iterator<Item = (&'a str, Replacement)> {
        let prefix = format!("{property}/");
        let always = self
            .create_only
            .iter()
            .filter(move |p| p.starts_with(&prefix))
            .map(|p| (p.as_str(), Replacement::Always));
        let prefix = format!("{property}/");
        let conditional = self
            .conditional_create_only
            .iter()
            .filter(move |p| p.starts_with(&prefix))
            .map(|p| (p.as_str(), Replacement::Conditionally));
        always.chain(conditional)
    }
}

#[derive(Debug, Deserialize)]
struct SchemaFile {
    format: u32,
    types: BTreeMap<String, ResourceSchema>,
}

const SCHEMAS_JSON: &str = include_str!("../data/schemas.json");

fn schemas() -> &'static BTreeMap<String, ResourceSchema> {
    static SCHEMAS: OnceLock<BTreeMap<String, ResourceSchema>> = OnceLock::new();
    SCHEMAS.get_or_init(|| match serde_json::from_str::<SchemaFile>(SCHEMAS_JSON) {
        Ok(file) if file.format == 1 => file.types,
        // The file is generated and tested; a broken one leaves no type supported rather than
        // taking the process down.
        _ => BTreeMap::new(),
    })
}

/// The schema of a type rolewright provisions; `None` for any other type.
pub fn schema(type_name: &str) -> Option<&'static ResourceSchema> {
    schemas().get(type_name)
}

/// The types rolewright provisions, sorted.
pub fn supported_types() -> impl Iterator<Item = &'static str> {
    schemas().keys().map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schemas_hold_the_seventeen_types() {
        assert_eq!(supported_types().count(), 17);
        let role = schema("AWS::IAM::Role").unwrap();
        assert_eq!(role.required, ["AssumeRolePolicyDocument"]);
        assert_eq!(role.replacement("RoleName"), Replacement::Always);
        assert_eq!(role.replacement("Policies"), Replacement::Never);
        assert!(!role.accepts("Arn"));
        let domain = schema("AWS::SageMaker::Domain").unwrap();
        assert_eq!(
            domain.replacement("DomainSettings/RStudioServerProDomainSettings/DefaultResourceSpec"),
            Replacement::Always
        );
        assert_eq!(domain.replacement("DomainSettings"), Replacement::Never);
        assert_eq!(domain.replacement("VpcId"), Replacement::Conditionally);
        assert!(schema("AWS::Lambda::Function").is_none());
    }
}
