//! Personas: the starting points of a role, each a list of preselected activities.
//!
//! The four defaults (`data-scientist`, `mlops`, `compute`, `custom`) are the personas as
//! SageMaker Role Manager's launch material defines them (the seeds: the AWS Machine Learning
//! Blog post that introduced Role Manager, and the SageMaker Immersion Day lab that walks through
//! it). The console has since changed what it preselects for Data Scientist and MLOps (Glue,
//! Canvas, MLflow, EMR Serverless; S3 Full Access instead of Manage Endpoints); those lists are
//! kept as variants with their own ids, `data-scientist-console` and `mlops-console`, so that a
//! role can start from either and nobody gets the newer, wider list by surprise. The console's
//! SageMaker Compute is unchanged, so `compute` has no variant.

/// A persona.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persona {
    /// The id (`data-scientist`).
    pub id: &'static str,
    /// The console's name.
    pub name: &'static str,
    /// What the persona is for.
    pub description: &'static str,
    /// The activities it preselects, in the order its source lists them.
    pub activities: &'static [&'static str],
    /// Whether this is the seeds' definition or a console variant.
    pub origin: PersonaOrigin,
    /// Where its list of activities is documented.
    pub source: &'static str,
}

/// Where a persona's list of activities comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonaOrigin {
    /// The persona as the seeds define it: one of the defaults.
    Seeds,
    /// The current console's preselection for the default persona `of`.
    ConsoleVariant {
        /// The id of the default persona this is a variant of.
        of: &'static str,
    },
}

impl PersonaOrigin {
    /// The origin's name in JSON output: `seeds` or `console-variant`.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonaOrigin::Seeds => "seeds",
            PersonaOrigin::ConsoleVariant { .. } => "console-variant",
        }
    }

    /// The default persona this is a variant of, if it is one.
    pub fn variant_of(self) -> Option<&'static str> {
        match self {
            PersonaOrigin::Seeds => None,
            PersonaOrigin::ConsoleVariant { of } => Some(of),
        }
    }
}

/// Every persona: the seeds' four (the defaults), then the current console's variants.
/// Activities that a catalog does not have are skipped by [`crate::Catalog::persona_activities`]
/// with a note.
pub const PERSONAS: &[Persona] = &[
    Persona {
        id: "data-scientist",
        name: "Data Scientist",
        description: "processes S3 data, runs experiments and produces models in Studio",
        activities: &[
            "run-studio-apps",
            "manage-experiments",
            "manage-jobs",
            "manage-models",
            "manage-pipelines",
            "s3-bucket-access",
        ],
        origin: PersonaOrigin::Seeds,
        source: "AWS Machine Learning Blog, \"Define customized permissions in minutes with Amazon SageMaker Role Manager\"; SageMaker Immersion Day, lab 10a \"SageMaker Role Manager\"",
    },
    Persona {
        id: "mlops",
        name: "MLOps",
        description: "manages models, endpoints and pipelines, and audits resources",
        activities: &[
            "run-studio-apps",
            "manage-models",
            "manage-endpoints",
            "manage-pipelines",
            "visualize-experiments",
        ],
        origin: PersonaOrigin::Seeds,
        source: "AWS Machine Learning Blog, \"Define customized permissions in minutes with Amazon SageMaker Role Manager\" (what MLOps does); SageMaker developer guide, \"Persona reference\", 2023 (its activities)",
    },
    Persona {
        id: "compute",
        name: "SageMaker Compute",
        description: "the execution role of jobs, endpoints and notebooks",
        activities: &["access-aws-services"],
        origin: PersonaOrigin::Seeds,
        source: "AWS Machine Learning Blog, \"Define customized permissions in minutes with Amazon SageMaker Role Manager\"; the current console preselects the same",
    },
    Persona {
        id: "custom",
        name: "Custom Role Settings",
        description: "starts from no activity; add the ones the role needs",
        activities: &[],
        origin: PersonaOrigin::Seeds,
        source: "AWS Machine Learning Blog, \"Define customized permissions in minutes with Amazon SageMaker Role Manager\"",
    },
    Persona {
        id: "data-scientist-console",
        name: "Data Scientist",
        description: "Studio, jobs and models, with Glue tables, Canvas, MLflow and EMR Serverless",
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
        origin: PersonaOrigin::ConsoleVariant {
            of: "data-scientist",
        },
        source: "SageMaker AI developer guide, \"Persona reference\" (docs.aws.amazon.com/sagemaker/latest/dg/role-manager-personas.html)",
    },
    Persona {
        id: "mlops-console",
        name: "MLOps",
        description: "models, pipelines and experiments, with full S3 access instead of endpoints",
        activities: &[
            "run-studio-apps",
            "manage-models",
            "manage-pipelines",
            "visualize-experiments",
            "s3-full-access",
        ],
        origin: PersonaOrigin::ConsoleVariant { of: "mlops" },
        source: "SageMaker AI developer guide, \"Persona reference\" (docs.aws.amazon.com/sagemaker/latest/dg/role-manager-personas.html)",
    },
];

/// Looks a persona up by id.
pub fn persona(id: &str) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| p.id == id)
}

/// Looks a persona up by id; an unknown id is an error that lists the valid ones.
pub fn find_persona(id: &str) -> Result<&'static Persona, UnknownPersona> {
    persona(id).ok_or_else(|| UnknownPersona { id: id.to_string() })
}

/// A persona id that is not one of [`PERSONAS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown persona `{id}`; choose {} (see `rolewright personas`)",
    persona_ids()
)]
pub struct UnknownPersona {
    /// The id given.
    pub id: String,
}

/// Every persona id, as a sentence: `a, b or c`.
fn persona_ids() -> String {
    let ids: Vec<&str> = PERSONAS.iter().map(|p| p.id).collect();
    match ids.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_variants_name_a_default() {
        for (i, p) in PERSONAS.iter().enumerate() {
            assert!(PERSONAS[..i].iter().all(|q| q.id != p.id), "{}", p.id);
            if let Some(of) = p.origin.variant_of() {
                assert_eq!(persona(of).map(|d| d.origin), Some(PersonaOrigin::Seeds));
                assert!(p.id.starts_with(of), "{} is a variant of {of}", p.id);
            }
        }
    }

    #[test]
    fn an_unknown_persona_lists_every_id() {
        assert_eq!(
            find_persona("data-scientists")
                .map(|p| p.id)
                .unwrap_err()
                .to_string(),
            "unknown persona `data-scientists`; choose data-scientist, mlops, compute, custom, \
             data-scientist-console or mlops-console (see `rolewright personas`)"
        );
    }
}
