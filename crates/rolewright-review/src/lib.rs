//! Access review of an AWS account: who can perform an action, directly or by escalating
//! through other principals (assuming roles, passing roles to SageMaker, rewriting policies,
//! trust policies, group memberships and credentials), and who can become an administrator.
//!
//! The input is an [`AccountSnapshot`], the shape of IAM's `GetAccountAuthorizationDetails`
//! (read from what `aws iam get-account-authorization-details` prints), with resource policies
//! added by ARN. For one role, [`usage`] tells what it used of each activity and action,
//! [`trim`] proposes the smallest role that still allows it, and [`drift`] compares a live role
//! with its spec. Every decision is the engine's (`rolewright-iam`), with AWS's service data
//! (`rolewright-reference`); this crate does no I/O.
//!
//! ```
//! use rolewright_review::{AccessAnalysis, AccountSnapshot, FindingKind, Query};
//!
//! let snapshot = AccountSnapshot::from_json(r#"{
//!   "UserDetailList": [{"UserName": "ops", "Arn": "arn:aws:iam::111122223333:user/ops",
//!     "UserPolicyList": [{"PolicyName": "self-service", "PolicyDocument": {
//!       "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!         "Action": "iam:PutUserPolicy", "Resource": "arn:aws:iam::111122223333:user/ops"}]}}]}]
//! }"#)?;
//! let analysis = AccessAnalysis::new(&snapshot, &Default::default());
//!
//! // `ops` may write its own policies: it can do anything, in one step.
//! let answer = analysis.can("ops", &Query::new("s3:DeleteBucket", Some("arn:aws:s3:::data"))?)?;
//! assert!(answer.can);
//! assert_eq!(answer.path[0].action, "iam:PutUserPolicy");
//!
//! let review = analysis.access_review();
//! assert_eq!(review[0].finding, FindingKind::CanBecomeAdministrator);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod analysis;
pub mod answer;
pub mod apply;
pub mod change;
pub mod choice;
pub mod drift;
pub mod reach;
pub mod role_state;
pub mod sagemaker;
pub mod snapshot;
pub mod trim;
pub mod usage;

pub use analysis::{AccessAnalysis, Query, QueryError};
pub use answer::{
    Access, CanAnswer, Finding, FindingKind, StatementRef, Step, Via, WRITTEN_BY_PATH,
};
pub use snapshot::{AccountSnapshot, SnapshotError};
