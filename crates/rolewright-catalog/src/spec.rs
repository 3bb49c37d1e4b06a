//! Role spec files, the arguments of `rolewright role new` kept in git as TOML or JSON, and the
//! defaults of the settings that neither the flags nor the spec give.
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
//!
//! Only `persona` is required: `name-suffix`, `account` and `region` take the defaults of
//! [`RoleSpec::fill_defaults`], as their flags do.

use std::collections::BTreeMap;

use rolewright_iam::arn::ArnParts;
use serde::Deserialize;

use crate::parameter::{PARAMETERS, check_value};
use crate::role::RoleSpec;

/// The region of a role when neither the flags, the spec nor the environment name one; the CLI
/// says so when it is used, since a role's ARNs in the wrong region grant nothing useful.
pub const FALLBACK_REGION: &str = "us-east-1";

/// The environment variables that name a region, in the order the AWS CLI and SDKs read them.
pub const REGION_VARIABLES: [&str; 2] = ["AWS_REGION", "AWS_DEFAULT_REGION"];

/// Where [`RoleSpec::fill_defaults`] found the role's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionOrigin {
    /// The spec already had one (from `--region` or the spec file).
    Given,
    /// This environment variable (one of [`REGION_VARIABLES`]).
    Environment(&'static str),
    /// None was found: [`FALLBACK_REGION`]. The user should be told.
    Fallback,
}

/// Why the role's account cannot be defaulted: the user has to give it. [`crate::Catalog::build`]
/// reports it, with the spec's other problems, when the account is still empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The roles to pass are in different accounts; which one is the role's is the user's call.
    #[error(
        "the --pass-role ARNs name different accounts, {}; pass --account to choose the role's account",
        sentence(.accounts)
    )]
    Conflicting {
        /// The accounts, in the order the ARNs name them.
        accounts: Vec<String>,
    },
    /// There is no role to pass.
    #[error("no account given and no --pass-role ARN to take it from; pass --account")]
    NoPassRole,
    /// The roles to pass are not role ARNs, so they name no account.
    #[error(
        "no account given, and no --pass-role value is a role ARN naming one ({}); pass --account, or give the roles as ARNs (`arn:aws:iam::ACCOUNT:role/NAME`)",
        sentence(.values)
    )]
    NotInPassRoles {
        /// The values given.
        values: Vec<String>,
    },
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn sentence(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl RoleSpec {
    /// Fills the settings left empty, as `rolewright role new` documents them:
    ///
    /// - the name suffix: the persona id (`SageMaker-data-scientist`);
    /// - the account: the one the `PassRoles` ARNs name, when they all name the same one;
    ///   otherwise it stays empty and [`crate::Catalog::build`] says why ([`AccountError`]), beside
    ///   every other problem of the spec;
    /// - the region: the first of [`REGION_VARIABLES`] that `environment` gives a non-empty
    ///   value for, else [`FALLBACK_REGION`].
    ///
    /// A setting already given is kept, so flags and spec files come first. `environment` looks
    /// a variable up (the CLI passes `std::env::var`; tests pass a table). The result says where
    /// the region came from, so that the caller can tell the user about the fallback.
    ///
    /// ```
    /// use rolewright_catalog::RoleSpec;
    /// use rolewright_catalog::spec::RegionOrigin;
    ///
    /// let mut spec = RoleSpec::new("data-scientist", "", "", "");
    /// spec.set("PassRoles", ["arn:aws:iam::111122223333:role/SageMaker-compute"]);
    /// assert_eq!(spec.fill_defaults(|_| None), RegionOrigin::Fallback);
    /// assert_eq!(
    ///     (spec.name_suffix.as_str(), spec.account.as_str(), spec.region.as_str()),
    ///     ("data-scientist", "111122223333", "us-east-1")
    /// );
    /// ```
    pub fn fill_defaults(&mut self, environment: impl Fn(&str) -> Option<String>) -> RegionOrigin {
        if self.name_suffix.is_empty() {
            self.name_suffix.clone_from(&self.persona);
        }
        let origin = if !self.region.is_empty() {
            RegionOrigin::Given
        } else {
            let found = REGION_VARIABLES.iter().find_map(|&name| {
                environment(name)
                    .filter(|v| !v.is_empty())
                    .map(|v| (name, v))
            });
            match found {
                Some((name, value)) => {
                    self.region = value;
                    RegionOrigin::Environment(name)
                }
                None => {
                    self.region = FALLBACK_REGION.to_string();
                    RegionOrigin::Fallback
                }
            }
        };
        if self.account.is_empty()
            && let Ok(account) = self.pass_role_account()
        {
            self.account = account;
        }
        origin
    }

    /// The one account the roles to pass are in. Values that are not role ARNs are left out
    /// here; [`crate::Catalog::build`] reports them.
    pub(crate) fn pass_role_account(&self) -> Result<String, AccountError> {
        let values = self
            .parameters
            .get("PassRoles")
            .cloned()
            .unwrap_or_default();
        if values.is_empty() {
            return Err(AccountError::NoPassRole);
        }
        let mut accounts: Vec<String> = Vec::new();
        for value in &values {
            if check_value("PassRoles", value).is_some() {
                continue;
            }
            if let Some(arn) = ArnParts::parse(value)
                && !arn.account.is_empty()
                && !accounts.iter().any(|a| a == arn.account)
            {
                accounts.push(arn.account.to_string());
            }
        }
        match <[String; 1]>::try_from(accounts) {
            Ok([account]) => Ok(account),
            Err(accounts) if accounts.is_empty() => Err(AccountError::NotInPassRoles { values }),
            Err(accounts) => Err(AccountError::Conflicting { accounts }),
        }
    }
}

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

    /// Turns the file into a [`RoleSpec`]; a missing persona, an empty value and an unknown
    /// parameter are reported, all of them. A missing `name-suffix`, `account` or `region` is
    /// left empty for [`RoleSpec::fill_defaults`], after the command line's flags are applied.
    pub fn into_spec(self) -> Result<RoleSpec, Vec<String>> {
        let mut problems = Vec::new();
        let persona = self.persona.unwrap_or_else(|| {
            problems.push("the spec needs `persona`".to_string());
            String::new()
        });
        // An empty value is a slip (an unset template variable, say), not a request for the
        // default: the default would be used without the user knowing.
        let mut optional = |v: Option<String>, key: &str| {
            if v.as_deref() == Some("") {
                problems.push(format!(
                    "the spec's `{key}` is empty; give a value or leave it out for the default"
                ));
            }
            v.unwrap_or_default()
        };
        let suffix = optional(self.name_suffix, "name-suffix");
        let account = optional(self.account, "account");
        let region = optional(self.region, "region");
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
        assert_eq!(
            problems,
            [
                "unknown parameter `s3-buckets` in the spec; expected one of s3-bucket, ecr-repo, \
              pass-role, athena-workgroup, glue-database, subnet, security-group, data-key, \
              volume-key, kendra-index, mlflow-tracking-server"
            ]
        );
        let problems = SpecFile::parse(r#"{"region": "", "account": ""}"#)
            .unwrap()
            .into_spec()
            .unwrap_err();
        assert_eq!(
            problems,
            [
                "the spec needs `persona`",
                "the spec's `account` is empty; give a value or leave it out for the default",
                "the spec's `region` is empty; give a value or leave it out for the default",
            ]
        );
        assert!(
            SpecFile::parse("persona = 1")
                .unwrap_err()
                .contains("invalid type")
        );
    }

    /// A spec file without the three settings, as the CLI reads one before its flags.
    fn bare(pass_roles: &[&str]) -> RoleSpec {
        let mut spec = SpecFile::parse("persona = \"data-scientist\"")
            .unwrap()
            .into_spec()
            .unwrap();
        spec.set("PassRoles", pass_roles.iter().copied());
        spec
    }

    fn environment(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    const ROLE_A: &str = "arn:aws:iam::111122223333:role/SageMaker-compute";
    const ROLE_B: &str = "arn:aws:iam::444455556666:role/SageMaker-batch";
    const ROLE_C: &str = "arn:aws:iam::777788889999:role/SageMaker-other";

    #[test]
    fn the_defaults_fill_only_what_was_left_out() {
        let mut spec = bare(&[ROLE_A, "arn:aws:iam::111122223333:role/SageMaker-batch"]);
        assert_eq!(spec.fill_defaults(environment(&[])), RegionOrigin::Fallback);
        assert_eq!(
            (&*spec.name_suffix, &*spec.account, &*spec.region),
            ("data-scientist", "111122223333", "us-east-1")
        );

        let mut spec = RoleSpec::new("mlops", "ops", "555566667777", "eu-central-1");
        spec.set("PassRoles", [ROLE_A, ROLE_B]);
        let given = spec.clone();
        assert_eq!(
            spec.fill_defaults(environment(&[("AWS_REGION", "eu-west-1")])),
            RegionOrigin::Given
        );
        assert_eq!(spec, given);
    }

    #[test]
    fn the_region_comes_from_aws_region_then_aws_default_region_then_us_east_1() {
        let region = |vars: &[(&str, &str)]| {
            let mut spec = bare(&[ROLE_A]);
            let origin = spec.fill_defaults(environment(vars));
            (spec.region, origin)
        };
        let both = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "ap-south-1"),
        ];
        assert_eq!(
            region(&both),
            ("eu-west-1".into(), RegionOrigin::Environment("AWS_REGION"))
        );
        assert_eq!(
            region(&both[1..]),
            (
                "ap-south-1".into(),
                RegionOrigin::Environment("AWS_DEFAULT_REGION")
            )
        );
        assert_eq!(
            region(&[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "ap-south-1")]),
            (
                "ap-south-1".into(),
                RegionOrigin::Environment("AWS_DEFAULT_REGION")
            )
        );
        assert_eq!(
            region(&[("AWS_REGION", "")]),
            ("us-east-1".into(), RegionOrigin::Fallback)
        );
    }

    #[test]
    fn the_account_is_the_pass_roles_when_they_agree() {
        let account = |roles: &[&str]| {
            let mut spec = bare(roles);
            spec.fill_defaults(environment(&[]));
            if spec.account.is_empty() {
                spec.pass_role_account()
            } else {
                Ok(spec.account)
            }
        };
        assert_eq!(account(&[ROLE_A, ROLE_A]), Ok("111122223333".into()));
        // A value that is not a role ARN names no account (the build reports it).
        assert_eq!(
            account(&[ROLE_A, "SageMaker-compute", "arn:aws:s3:::ml-data"]),
            Ok("111122223333".into())
        );
        let conflict = account(&[ROLE_A, ROLE_B, ROLE_A, ROLE_C]).unwrap_err();
        assert_eq!(
            conflict.to_string(),
            "the --pass-role ARNs name different accounts, `111122223333`, `444455556666` and \
             `777788889999`; pass --account to choose the role's account"
        );
        assert_eq!(
            account(&[]).unwrap_err().to_string(),
            "no account given and no --pass-role ARN to take it from; pass --account"
        );
        assert_eq!(
            account(&["SageMaker-compute", "arn:aws:iam:::role/NoAccount"])
                .unwrap_err()
                .to_string(),
            "no account given, and no --pass-role value is a role ARN naming one \
             (`SageMaker-compute` and `arn:aws:iam:::role/NoAccount`); pass --account, or give \
             the roles as ARNs (`arn:aws:iam::ACCOUNT:role/NAME`)"
        );
    }

    /// The build says why the account could not be defaulted, beside every other problem.
    #[test]
    fn an_account_left_empty_is_reported_with_the_other_problems() {
        let mut spec = bare(&[ROLE_A, ROLE_B, "SageMaker-compute"]);
        spec.set("S3Buckets", ["B"]);
        spec.fill_defaults(environment(&[]));
        assert_eq!(spec.account, "");
        assert_eq!(
            crate::Catalog::builtin().build(&spec),
            Err(crate::RoleError::Invalid(vec![
                "the --pass-role ARNs name different accounts, `111122223333` and \
                 `444455556666`; pass --account to choose the role's account"
                    .to_string(),
                "--pass-role: `SageMaker-compute` is not an ARN of the form \
                 `arn:PARTITION:iam:...:role/NAME`"
                    .to_string(),
                "--s3-bucket: `B` is not an S3 bucket name (3 to 63 lowercase letters, digits, \
                 dots and hyphens)"
                    .to_string(),
            ]))
        );
    }
}
