//! The parameters activities take: what each list placeholder means, its command-line flag, and
//! how a value is checked before it is linked into a policy.

use rolewright_iam::arn::ArnParts;

/// One kind of list parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter {
    /// The placeholder name in activity files (`S3Buckets`).
    pub placeholder: &'static str,
    /// The command-line flag (`--s3-bucket`).
    pub flag: &'static str,
    /// What a value is, for messages ("S3 bucket name").
    pub what: &'static str,
}

/// Every list parameter, in the order the CLI lists them.
pub const PARAMETERS: &[Parameter] = &[
    Parameter {
        placeholder: "S3Buckets",
        flag: "--s3-bucket",
        what: "S3 bucket name",
    },
    Parameter {
        placeholder: "ECRRepoArns",
        flag: "--ecr-repo",
        what: "ECR repository ARN",
    },
    Parameter {
        placeholder: "PassRoles",
        flag: "--pass-role",
        what: "IAM role ARN",
    },
    Parameter {
        placeholder: "WorkGroupNames",
        flag: "--athena-workgroup",
        what: "Athena workgroup name",
    },
    Parameter {
        placeholder: "GlueDbNames",
        flag: "--glue-database",
        what: "Glue database name",
    },
    Parameter {
        placeholder: "VpcSubnets",
        flag: "--subnet",
        what: "VPC subnet id",
    },
    Parameter {
        placeholder: "VpcSecurityGroups",
        flag: "--security-group",
        what: "VPC security group id",
    },
    Parameter {
        placeholder: "DataKmsKeys",
        flag: "--data-key",
        what: "KMS key ARN for data",
    },
    Parameter {
        placeholder: "VolumeKmsKeys",
        flag: "--volume-key",
        what: "KMS key ARN for volumes",
    },
    Parameter {
        placeholder: "KendraIndexIds",
        flag: "--kendra-index",
        what: "Kendra index id",
    },
    Parameter {
        placeholder: "MlflowTrackingServers",
        flag: "--mlflow-tracking-server",
        what: "MLflow tracking server name",
    },
];

/// Looks a parameter up by placeholder name.
pub fn parameter(placeholder: &str) -> Option<&'static Parameter> {
    PARAMETERS.iter().find(|p| p.placeholder == placeholder)
}

/// Why a value is not acceptable for its parameter, when it is not.
pub fn check_value(placeholder: &str, value: &str) -> Option<String> {
    let arn_of = |service: &str, prefix: &str| -> Option<String> {
        let ok = ArnParts::parse(value).is_some_and(|a| {
            a.service == service
                && a.resource.starts_with(prefix)
                && a.resource.len() > prefix.len()
        });
        (!ok).then(|| {
            format!(
                "`{value}` is not an ARN of the form `arn:PARTITION:{service}:...:{prefix}NAME`"
            )
        })
    };
    match placeholder {
        "S3Buckets" => {
            let ok = (3..=63).contains(&value.len())
                && value.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'
                })
                && value
                    .as_bytes()
                    .first()
                    .is_some_and(u8::is_ascii_alphanumeric)
                && value
                    .as_bytes()
                    .last()
                    .is_some_and(u8::is_ascii_alphanumeric);
            (!ok).then(|| format!("`{value}` is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)"))
        }
        "ECRRepoArns" => arn_of("ecr", "repository/"),
        "PassRoles" => arn_of("iam", "role/"),
        "DataKmsKeys" | "VolumeKmsKeys" => {
            if ArnParts::parse(value).is_none()
                && value.len() >= 32
                && value.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            {
                return Some(format!(
                    "`{value}` is a KMS key id; IAM needs the key ARN, `arn:aws:kms:REGION:ACCOUNT:key/{value}`"
                ));
            }
            arn_of("kms", "key/")
        }
        "VpcSubnets" => (!value.starts_with("subnet-"))
            .then(|| format!("`{value}` is not a subnet id (`subnet-...`)")),
        "VpcSecurityGroups" => (!value.starts_with("sg-"))
            .then(|| format!("`{value}` is not a security group id (`sg-...`)")),
        _ => (value.is_empty() || value.contains(['*', '"', ' ']))
            .then(|| format!("`{value}` is not a valid name")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked() {
        assert_eq!(check_value("S3Buckets", "ml-data"), None);
        assert!(check_value("S3Buckets", "ML_Data").is_some());
        assert_eq!(
            check_value("PassRoles", "arn:aws:iam::123456789012:role/SageMaker-x"),
            None
        );
        assert_eq!(
            check_value("VolumeKmsKeys", "1234abcd-12ab-34cd-56ef-1234567890ab").as_deref(),
            Some(
                "`1234abcd-12ab-34cd-56ef-1234567890ab` is a KMS key id; IAM needs the key ARN, `arn:aws:kms:REGION:ACCOUNT:key/1234abcd-12ab-34cd-56ef-1234567890ab`"
            )
        );
        assert_eq!(
            check_value(
                "DataKmsKeys",
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd"
            ),
            None
        );
        assert!(check_value("VpcSubnets", "sg-1").is_some());
    }
}
