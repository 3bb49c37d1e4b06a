//! The SageMaker actions that make SageMaker run code as a passed role: a caller who may pass a
//! role to SageMaker and take one of these actions gains the role's permissions.
//!
//! Jobs and notebook instances run the caller's code (container, script, lifecycle
//! configuration) as soon as they are created, so the create action alone counts. A model runs
//! only once it is deployed, so `CreateModel` counts with `CreateEndpointConfig` and
//! `CreateEndpoint`; a pipeline runs when it is started, so `CreatePipeline` counts with
//! `StartPipelineExecution`; a Studio domain, user profile or space runs apps as its execution
//! role once its user opens Studio, so those count with `CreatePresignedDomainUrl`.

/// A way to run code as a passed role.
#[derive(Debug, Clone, Copy)]
pub struct RoleRunner {
    /// The action that takes the role (`ExecutionRoleArn`, `RoleArn`, `DefaultUserSettings`).
    pub action: &'static str,
    /// The resource type it creates, in AWS's service authorization data.
    pub resource_type: &'static str,
    /// Further actions, with their resource types, without which the code never runs.
    pub with: &'static [(&'static str, &'static str)],
}

/// Every way, cheapest first.
pub const ROLE_RUNNERS: &[RoleRunner] = &[
    runner("CreateTrainingJob", "training-job"),
    runner("CreateProcessingJob", "processing-job"),
    runner("CreateNotebookInstance", "notebook-instance"),
    runner("CreateAutoMLJob", "automl-job"),
    runner("CreateAutoMLJobV2", "automl-job"),
    runner(
        "CreateHyperParameterTuningJob",
        "hyper-parameter-tuning-job",
    ),
    runner("CreateCompilationJob", "compilation-job"),
    runner("CreateMonitoringSchedule", "monitoring-schedule"),
    runner("CreateCluster", "cluster"),
    RoleRunner {
        action: "CreatePipeline",
        resource_type: "pipeline",
        with: &[("StartPipelineExecution", "pipeline")],
    },
    RoleRunner {
        action: "CreateModel",
        resource_type: "model",
        with: &[
            ("CreateEndpointConfig", "endpoint-config"),
            ("CreateEndpoint", "endpoint"),
        ],
    },
    RoleRunner {
        action: "CreateUserProfile",
        resource_type: "user-profile",
        with: &[("CreatePresignedDomainUrl", "user-profile")],
    },
    RoleRunner {
        action: "CreateDomain",
        resource_type: "domain",
        with: &[("CreatePresignedDomainUrl", "user-profile")],
    },
    RoleRunner {
        action: "CreateSpace",
        resource_type: "space",
        with: &[("CreatePresignedDomainUrl", "user-profile")],
    },
];

const fn runner(action: &'static str, resource_type: &'static str) -> RoleRunner {
    RoleRunner {
        action,
        resource_type,
        with: &[],
    }
}

/// The SageMaker service principal, to which the roles are passed.
pub const SERVICE: &str = "sagemaker.amazonaws.com";
