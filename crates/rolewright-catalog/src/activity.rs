//! ML activities as data: one file per activity, with its policy for each VPC/KMS variant, its
//! trust policy, its required parameters and the fixes made to the official template.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use crate::link;

/// One activity, as its file describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivityTemplate {
    /// The id the CLI and role files use (`manage-jobs`).
    pub id: String,
    /// The console's name (`Manage ML Jobs`).
    pub name: String,
    /// What the activity lets a role do.
    pub description: String,
    /// Where the policy comes from.
    #[serde(default)]
    pub source: Value,
    /// List placeholders the activity requires.
    #[serde(default)]
    pub parameters: Vec<String>,
    /// Whether a VPC variant exists.
    #[serde(default)]
    pub supports_vpc: bool,
    /// Whether a KMS variant exists.
    #[serde(default)]
    pub supports_kms: bool,
    /// The permissions policy for each variant (`base`, `vpc`, `kms`, `vpc-kms`).
    pub variants: Variants,
    /// The trust policy the activity needs.
    pub trust: Value,
    /// AWS managed policies the activity attaches (the Canvas activities), by name, preceded by
    /// the policy's path when it is not `/` (`service-role/AmazonSageMakerCanvasDirectDeployAccess`).
    #[serde(default)]
    pub managed_policies: Vec<String>,
    /// Deliberate differences from the official template.
    #[serde(default)]
    pub fixes: Vec<String>,
}

/// The policy of each variant.
#[derive(Debug, Clone, Deserialize)]
pub struct Variants {
    /// Without VPC or KMS customization.
    pub base: Value,
    /// With VPC customization.
    #[serde(default)]
    pub vpc: Option<Value>,
    /// With KMS customization.
    #[serde(default)]
    pub kms: Option<Value>,
    /// With both.
    #[serde(default, rename = "vpc-kms")]
    pub vpc_kms: Option<Value>,
}

/// Which customizations a role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Customization {
    /// Subnets and security groups were given.
    pub vpc: bool,
    /// KMS keys were given.
    pub kms: bool,
}

impl ActivityTemplate {
    /// Reads an activity file.
    pub fn parse(text: &str) -> Result<ActivityTemplate, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// The policy for a customization, falling back to the variants the activity has (an
    /// activity without a VPC variant ignores VPC settings, as the console does).
    pub fn policy(&self, c: Customization) -> &Value {
        let v = &self.variants;
        let chosen = match (c.vpc && self.supports_vpc, c.kms && self.supports_kms) {
            (true, true) => v.vpc_kms.as_ref().or(v.vpc.as_ref()).or(v.kms.as_ref()),
            (true, false) => v.vpc.as_ref(),
            (false, true) => v.kms.as_ref(),
            (false, false) => None,
        };
        chosen.unwrap_or(&v.base)
    }

    /// The list placeholders the policy for `c` uses, required ones included.
    pub fn list_placeholders(&self, c: Customization) -> BTreeSet<String> {
        let mut lists = link::placeholders(self.policy(c)).1;
        lists.extend(link::placeholders(&self.trust).1);
        lists
    }
}
