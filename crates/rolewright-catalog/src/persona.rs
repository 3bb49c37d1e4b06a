//! Personas: the console's starting points, each a list of preselected activities.

/// A persona.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persona {
    /// The id (`data-scientist`).
    pub id: &'static str,
    /// The console's name.
    pub name: &'static str,
    /// What the persona is for.
    pub description: &'static str,
    /// The activities the console preselects.
    pub activities: &'static [&'static str],
}

/// The console's personas with their current preselected activities (SageMaker AI developer
/// guide, "Persona reference"). Activities that rolewright does not ship yet are skipped by
/// [`crate::Catalog::persona_activities`] with a note.
pub const PERSONAS: &[Persona] = &[
    Persona {
        id: "data-scientist",
        name: "Data Scientist",
        description: "experiments, trains and evaluates models in Studio, with data in S3 and Glue",
        activities: &[
            "run-studio-apps",
            "manage-jobs",
            "manage-models",
            "manage-glue-tables",
            "canvas-ai-services",
            "canvas-mlops",
            "canvas-kendra",
            "use-mlflow",
            "mlflow-aws-services",
            "run-studio-emr-serverless",
        ],
    },
    Persona {
        id: "mlops",
        name: "MLOps",
        description: "builds pipelines, registers and deploys models, watches experiments",
        activities: &[
            "run-studio-apps",
            "manage-models",
            "manage-pipelines",
            "visualize-experiments",
            "s3-full-access",
        ],
    },
    Persona {
        id: "compute",
        name: "SageMaker Compute",
        description: "the execution role of jobs, endpoints and notebooks",
        activities: &["access-aws-services"],
    },
    Persona {
        id: "custom",
        name: "Custom Role Settings",
        description: "starts from no activity; add the ones the role needs",
        activities: &[],
    },
];

/// Looks a persona up by id.
pub fn persona(id: &str) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| p.id == id)
}
