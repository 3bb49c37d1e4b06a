//! CloudFormation templates: read (JSON and YAML), validate, link parameters and plan, with no
//! I/O.
//!
//! A template is read once, with a JSON path and a line and column on every error, and checked
//! as CloudFormation's `ValidateTemplate` checks it; YAML's short forms (`!Ref`, `!GetAtt A.B`,
//! `!Sub`, ...) are read as the long forms. Linking it with parameter values for a stack checks
//! every parameter first, evaluates the conditions once and gives a [`Plan`]: the resources in
//! dependency order, each resolved when the resources it refers to exist. The resource types
//! are known only as schemas ([`schema()`]), and errors use CloudFormation's own texts.
//!
//! ```
//! use std::collections::BTreeMap;
//! use rolewright_cfn::{CreatedResources, StackContext, Template};
//!
//! let template = Template::parse(r#"
//! Parameters:
//!   UserProfileName:
//!     Type: String
//! Resources:
//!   Role:
//!     Type: AWS::IAM::Role
//!     Properties:
//!       AssumeRolePolicyDocument:
//!         Version: "2012-10-17"
//!         Statement:
//!           - Effect: Allow
//!             Principal: {Service: sagemaker.amazonaws.com}
//!             Action: sts:AssumeRole
//!   Profile:
//!     Type: AWS::SageMaker::UserProfile
//!     Properties:
//!       DomainId: d-abc123
//!       UserProfileName: !Ref UserProfileName
//!       UserSettings:
//!         ExecutionRole: !GetAtt Role.Arn
//! "#)?;
//!
//! // Every parameter is checked first, with CloudFormation's messages ...
//! let stack = StackContext::new("111122223333", "us-east-1", "SC-111122223333-pp-abc");
//! let missing = template.link(&stack, &BTreeMap::new()).unwrap_err();
//! assert_eq!(missing.message(), "Parameters: [UserProfileName] must have values");
//!
//! // ... then the plan gives the order, and resolves each resource once the ones it
//! // refers to exist.
//! let values = BTreeMap::from([("UserProfileName".to_string(), "alice".to_string())]);
//! let plan = template.link(&stack, &values)?;
//! let order: Vec<&str> = plan.resources.iter().map(|r| r.logical_id.as_str()).collect();
//! assert_eq!(order, ["Role", "Profile"]);
//!
//! let mut created = CreatedResources::new();
//! created.insert("Role", "SageMakerRole", [(
//!     "Arn".to_string(),
//!     "arn:aws:iam::111122223333:role/SageMakerRole".into(),
//! )]);
//! let profile = plan.resolve("Profile", &created)?;
//! assert_eq!(profile["UserSettings"]["ExecutionRole"], "arn:aws:iam::111122223333:role/SageMakerRole");
//! # Ok::<(), rolewright_cfn::TemplateErrors>(())
//! ```
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod capability;
pub mod change;
pub mod error;
mod evaluate;
pub mod expr;
mod graph;
pub mod link;
pub mod node;
pub mod parameter;
pub mod path;
pub mod plan;
pub mod reader;
pub mod return_value;
pub mod schema;
pub mod template;
mod yaml;

pub use capability::{Capability, CapabilityRequirement};
pub use change::{ChangeAction, PreviousResource, PropertyChange, ResourceChange};
pub use error::{ErrorKind, TemplateError, TemplateErrors};
pub use expr::{Expr, ExprKind, SubPart};
pub use link::{Export, StackContext};
pub use node::{Location, Node, NodeValue};
pub use parameter::{ParameterDecl, ParameterType, ParameterValue};
pub use path::JsonPath;
pub use plan::{
    CreatedResources, LinkedParameter, OutputValue, Plan, PlannedOutput, PlannedResource,
    ResourceValue, ResourceValues,
};
pub use reader::{TemplateFormat, detect_format, read_document};
pub use return_value::{RefValue, ReturnValues, return_values};
pub use schema::{Replacement, ResourceSchema, schema, supported_types};
pub use template::{
    ConditionDecl, DeletionPolicy, Mapping, Output, PSEUDO_PARAMETERS, Resource, Template,
};

#[cfg(test)]
mod tests {
    /// The control plane keeps templates and plans across threads.
    #[test]
    fn templates_and_plans_cross_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<crate::Template>();
        shared::<crate::Plan>();
        shared::<crate::TemplateErrors>();
    }
}
