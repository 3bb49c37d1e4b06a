//! Role spec files: the arguments of `rolewright role new` kept in git as TOML or JSON.
//!
//! ```toml
//! persona = "data-scientist"
//! name-suffix = "ds"
//! account = "111122223333"
//! region = "us-east-1"
//! activities = ["manage-endpoints"]
//!
//! [parameters]
//! s3-bucket = ["ml-data"]
//! pass-role = ["arn:aws:iam::111122223333:role/SageMaker-compute"]
//!
//! [tags]
//! team = "ml"
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::parameter::PARAMETERS;
use crate::role::RoleSpec;

/// A spec file, keyed as the command-line flags are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SpecFile {
    /// The persona id.
    pub persona: Option<String>,
    /// The role name's suffix.
    pub name_suffix: Option<String>,
    /// The role name's prefix.
    pub name_prefix: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Activities to add.
    #[serde(default)]
    pub activities: Vec<String>,
    /// Activities to leave out.
    #[serde(default)]
    pub without_activities: Vec<String>,
    /// List parameters by flag name without dashes (`s3-bucket`, `pass-role`, ...).
    #[serde(default)]
    pub parameters: BTreeMap<String, Vec<String>>,
    /// The account.
    pub account: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The partition.
    pub partition: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Extra managed policy ARNs.
    #[serde(default)]
    pub managed_policies: Vec<String>,
    /// A permissions boundary ARN.
    pub boundary: Option<String>,
}

impl SpecFile {
    /// Reads a spec: JSON when the text starts with `{`, TOML otherwise.
    pub fn parse(text: &str) -> Result<SpecFile, String> {
        if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            toml::from_str(text).map_err(|e| e.to_string())
        }
    }

    /// Turns the file into a [`RoleSpec`]; every missing field and unknown parameter is reported.
    pub fn into_spec(self) -> Result<RoleSpec, Vec<String>> {
        let mut problems = Vec::new();
        let mut need = |v: Option<String>, key: &str| {
            v.unwrap_or_else(|| {
                problems.push(format!("the spec needs `{key}`"));
                String::new()
            })
        };
        let persona = need(self.persona, "persona");
        let suffix = need(self.name_suffix, "name-suffix");
        let account = need(self.account, "account");
        let region = need(self.region, "region");
        let mut spec = RoleSpec::new(&persona, &suffix, &account, &region);
        if let Some(p) = self.name_prefix {
            spec.name_prefix = p;
        }
        if let Some(p) = self.partition {
            spec.partition = p;
        }
        spec.description = self.description;
        spec.add_activities = self.activities;
        spec.remove_activities = self.without_activities;
        spec.tags = self.tags.into_iter().collect();
        spec.managed_policy_arns = self.managed_policies;
        spec.permissions_boundary = self.boundary;
        for (flag, values) in self.parameters {
            match PARAMETERS
                .iter()
                .find(|p| p.flag.trim_start_matches('-') == flag)
            {
                Some(p) => {
                    spec.set(p.placeholder, values);
                }
                None => {
                    let known: Vec<&str> = PARAMETERS
                        .iter()
                        .map(|p| p.flag.trim_start_matches('-'))
                        .collect();
                    problems.push(format!(
                        "unknown parameter `{flag}` in the spec; expected one of {}",
                        known.join(", ")
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_specs() {
        let toml = "persona = \"compute\"\nname-suffix = \"jobs\"\naccount = \"111122223333\"\nregion = \"us-east-1\"\n[parameters]\ns3-bucket = [\"ml-data\"]\n[tags]\nteam = \"ml\"\n";
        let spec = SpecFile::parse(toml).unwrap().into_spec().unwrap();
        assert_eq!(spec.parameters["S3Buckets"], ["ml-data"]);
        assert_eq!(spec.tags, [("team".to_string(), "ml".to_string())]);
        let json = r#"{"persona": "compute", "parameters": {"s3-buckets": ["x"]}}"#;
        let problems = SpecFile::parse(json).unwrap().into_spec().unwrap_err();
        assert_eq!(problems[0], "the spec needs `name-suffix`");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("unknown parameter `s3-buckets` in the spec"))
        );
        assert!(
            SpecFile::parse("persona = 1")
                .unwrap_err()
                .contains("invalid type")
        );
    }
}
