//! The AWS IAM policy language: read, validate, compile and evaluate policies, with no I/O.
//!
//! ```
//! use rolewright_iam::{CompiledPolicy, Outcome, PolicyDocument, PolicySet, Principal, Request};
//!
//! // Parse once (errors carry a JSON path, line and column) ...
//! let doc = PolicyDocument::parse(r#"{
//!     "Version": "2012-10-17",
//!     "Statement": [{
//!         "Effect": "Allow",
//!         "Action": "sagemaker:CreateTrainingJob",
//!         "Resource": "arn:aws:sagemaker:*:123456789012:training-job/*",
//!         "Condition": {"ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["subnet-1"]}}
//!     }]
//! }"#)?;
//!
//! // ... compile once, evaluate many times.
//! let set = PolicySet::new().with_identity(CompiledPolicy::new(&doc));
//! let role = Principal::parse("arn:aws:iam::123456789012:role/ds").unwrap();
//! let mut request = Request::new(role, "sagemaker:CreateTrainingJob",
//!     "arn:aws:sagemaker:us-east-1:123456789012:training-job/exp-1");
//! request.context_mut().set_multi("sagemaker:VpcSubnets", ["subnet-1"]);
//! assert_eq!(set.evaluate(&request).outcome, Outcome::Allowed);
//!
//! request.context_mut().set_multi("sagemaker:VpcSubnets", ["subnet-9"]);
//! assert_eq!(set.evaluate(&request).outcome, Outcome::ImplicitlyDenied);
//! # Ok::<(), rolewright_iam::PolicyErrors>(())
//! ```
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod arn;
pub mod ast;
pub mod case;
pub mod condition;
pub mod context;
pub mod diagnostic;
pub mod evaluator;
pub mod json;
pub mod parser;
pub mod policy;
pub mod request;
pub mod sample;
pub mod simulation;
pub mod size;
pub mod variable;
pub mod wildcard;
pub mod wire;

pub use ast::{Effect, PolicyDocument, Statement};
pub use context::{ContextValue, RequestContext};
pub use diagnostic::{Diagnostic, DiagnosticCode, PolicyErrors, Severity};
pub use evaluator::{Decision, DenialReason, MatchedStatement, Outcome, PolicyKind, PolicySet};
pub use parser::{ParseOutcome, PolicyType, parse_policy};
pub use policy::CompiledPolicy;
pub use request::{ActionCatalog, Principal, PrincipalError, Request};
