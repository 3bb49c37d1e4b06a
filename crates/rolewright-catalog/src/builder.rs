//! A builder shaped like the official CDK library's: activities by constructor with typed
//! options, a persona of activities, VPC and KMS customization, and `create_role` /
//! `grant_permissions_to`.
//!
//! ```
//! use rolewright_catalog::builder::{Activity, Persona};
//! use rolewright_catalog::Catalog;
//!
//! let catalog = Catalog::builtin();
//! let mut persona = Persona::new(vec![
//!     Activity::manage_jobs(["arn:aws:iam::111122223333:role/SageMaker-compute"]),
//!     Activity::s3_bucket_access(["ml-data"]),
//! ]);
//! persona.customize_vpc(["subnet-0abc"], ["sg-0abc"]);
//! let role = persona.create_role(&catalog, "ds", "Data scientist", "111122223333", "us-east-1")?;
//! assert_eq!(role.name, "SageMaker-ds");
//!
//! // Or add the statements to an identity that already exists.
//! let statements = persona.grant_permissions_to(&catalog, "111122223333", "us-east-1")?;
//! assert!(statements.iter().any(|s| s["Action"].to_string().contains("sagemaker:CreateTrainingJob")));
//! # Ok::<(), rolewright_catalog::RoleError>(())
//! ```

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Catalog;
use crate::role::{RoleDefinition, RoleError, RoleSpec};

/// An activity with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    id: String,
    parameters: BTreeMap<String, Vec<String>>,
}

fn list<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> Vec<String> {
    values.into_iter().map(Into::into).collect()
}

impl Activity {
    /// Any activity by id, for a team's own activity files.
    pub fn custom(
        id: &str,
        parameters: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Activity {
        Activity {
            id: id.to_string(),
            parameters: parameters.into_iter().collect(),
        }
    }

    fn with(id: &str, params: &[(&str, Vec<String>)]) -> Activity {
        Activity {
            id: id.to_string(),
            parameters: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    /// Access Required AWS Services (the compute role): S3 buckets and ECR repositories.
    pub fn access_aws_services<B, R, S1, S2>(s3_buckets: B, ecr_repositories: R) -> Activity
    where
        B: IntoIterator<Item = S1>,
        R: IntoIterator<Item = S2>,
        S1: Into<String>,
        S2: Into<String>,
    {
        Activity::with(
            "access-aws-services",
            &[
                ("S3Buckets", list(s3_buckets)),
                ("ECRRepoArns", list(ecr_repositories)),
            ],
        )
    }

    /// Run Studio Applications, passing the given roles.
    pub fn run_studio_apps<I: IntoIterator<Item = S>, S: Into<String>>(
        roles_to_pass: I,
    ) -> Activity {
        Activity::with("run-studio-apps", &[("PassRoles", list(roles_to_pass))])
    }

    /// Run Studio Applications, version 2.
    pub fn run_studio_apps_v2() -> Activity {
        Activity::with("run-studio-apps-v2", &[])
    }

    /// Manage ML Jobs, passing the given roles.
    pub fn manage_jobs<I: IntoIterator<Item = S>, S: Into<String>>(roles_to_pass: I) -> Activity {
        Activity::with("manage-jobs", &[("PassRoles", list(roles_to_pass))])
    }

    /// Manage Models, passing the given roles.
    pub fn manage_models<I: IntoIterator<Item = S>, S: Into<String>>(roles_to_pass: I) -> Activity {
        Activity::with("manage-models", &[("PassRoles", list(roles_to_pass))])
    }

    /// Manage Pipelines, passing the given roles.
    pub fn manage_pipelines<I: IntoIterator<Item = S>, S: Into<String>>(
        roles_to_pass: I,
    ) -> Activity {
        Activity::with("manage-pipelines", &[("PassRoles", list(roles_to_pass))])
    }

    /// Manage Model Monitoring, passing the given roles.
    pub fn monitor_models<I: IntoIterator<Item = S>, S: Into<String>>(
        roles_to_pass: I,
    ) -> Activity {
        Activity::with("monitor-models", &[("PassRoles", list(roles_to_pass))])
    }

    /// Manage Endpoints.
    pub fn manage_endpoints() -> Activity {
        Activity::with("manage-endpoints", &[])
    }

    /// Manage Experiments.
    pub fn manage_experiments() -> Activity {
        Activity::with("manage-experiments", &[])
    }

    /// Search and Visualize Experiments.
    pub fn visualize_experiments() -> Activity {
        Activity::with("visualize-experiments", &[])
    }

    /// Amazon S3 Full Access (version 2 grants deletes too).
    pub fn s3_full_access(version: u8) -> Activity {
        Activity::with(
            if version >= 2 {
                "s3-full-access-v2"
            } else {
                "s3-full-access"
            },
            &[],
        )
    }

    /// Amazon S3 Bucket Access to the given buckets.
    pub fn s3_bucket_access<I: IntoIterator<Item = S>, S: Into<String>>(buckets: I) -> Activity {
        Activity::with("s3-bucket-access", &[("S3Buckets", list(buckets))])
    }

    /// Query Athena Workgroups.
    pub fn query_athena_workgroups<I: IntoIterator<Item = S>, S: Into<String>>(
        workgroups: I,
    ) -> Activity {
        Activity::with(
            "query-athena-workgroups",
            &[("WorkGroupNames", list(workgroups))],
        )
    }

    /// Manage AWS Glue Tables in the given databases, with data in the given buckets.
    pub fn manage_glue_tables<D, B, S1, S2>(databases: D, s3_buckets: B) -> Activity
    where
        D: IntoIterator<Item = S1>,
        B: IntoIterator<Item = S2>,
        S1: Into<String>,
        S2: Into<String>,
    {
        Activity::with(
            "manage-glue-tables",
            &[
                ("GlueDbNames", list(databases)),
                ("S3Buckets", list(s3_buckets)),
            ],
        )
    }
}

/// A persona: activities plus shared VPC and KMS settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Persona {
    activities: Vec<Activity>,
    vpc: Option<(Vec<String>, Vec<String>)>,
    kms: Option<(Vec<String>, Vec<String>)>,
    partition: Option<String>,
}

impl Persona {
    /// A persona of these activities.
    pub fn new(activities: Vec<Activity>) -> Persona {
        Persona {
            activities,
            ..Persona::default()
        }
    }

    /// Runs jobs in these subnets and security groups (the activities' VPC variants).
    pub fn customize_vpc<S, G, S1, S2>(&mut self, subnets: S, security_groups: G) -> &mut Self
    where
        S: IntoIterator<Item = S1>,
        G: IntoIterator<Item = S2>,
        S1: Into<String>,
        S2: Into<String>,
    {
        self.vpc = Some((list(subnets), list(security_groups)));
        self
    }

    /// Encrypts data and volumes with these KMS keys, by ARN (the activities' KMS variants).
    pub fn customize_kms<D, V, S1, S2>(&mut self, data_keys: D, volume_keys: V) -> &mut Self
    where
        D: IntoIterator<Item = S1>,
        V: IntoIterator<Item = S2>,
        S1: Into<String>,
        S2: Into<String>,
    {
        self.kms = Some((list(data_keys), list(volume_keys)));
        self
    }

    /// Builds in another partition (`aws-cn`, `aws-us-gov`).
    pub fn in_partition(&mut self, partition: &str) -> &mut Self {
        self.partition = Some(partition.to_string());
        self
    }

    fn spec(&self, suffix: &str, account: &str, region: &str) -> RoleSpec {
        let mut spec = RoleSpec::new("custom", suffix, account, region);
        if let Some(p) = &self.partition {
            spec.partition.clone_from(p);
        }
        for a in &self.activities {
            spec.add_activities.push(a.id.clone());
            for (k, v) in &a.parameters {
                let mut all = spec.parameters.get(k).cloned().unwrap_or_default();
                all.extend(v.iter().cloned());
                all.dedup();
                spec.set(k, all);
            }
        }
        if let Some((subnets, groups)) = &self.vpc {
            spec.set("VpcSubnets", subnets.clone());
            spec.set("VpcSecurityGroups", groups.clone());
        }
        if let Some((data, volume)) = &self.kms {
            spec.set("DataKmsKeys", data.clone());
            spec.set("VolumeKmsKeys", volume.clone());
        }
        spec
    }

    /// A role named `SageMaker-<suffix>`.
    pub fn create_role(
        &self,
        catalog: &Catalog,
        suffix: &str,
        description: &str,
        account: &str,
        region: &str,
    ) -> Result<RoleDefinition, RoleError> {
        let mut spec = self.spec(suffix, account, region);
        spec.description = Some(description.to_string());
        catalog.build(&spec)
    }

    /// The persona's statements, to add to an identity that already exists.
    pub fn grant_permissions_to(
        &self,
        catalog: &Catalog,
        account: &str,
        region: &str,
    ) -> Result<Vec<Value>, RoleError> {
        let role = catalog.build(&self.spec("grant", account, region))?;
        Ok(role
            .inline_policies
            .iter()
            .chain(&role.managed_policies)
            .flat_map(|p| {
                p.document["Statement"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect())
    }
}
