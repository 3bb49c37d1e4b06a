//! Personas and ML activities as data, parameter linking, and least-privilege SageMaker roles.
//!
//! The catalog is a folder of activity files (`activities/*.json`), built into the library and
//! open to a team's own files. A role is built from a persona, adjusted activities and the
//! parameters they need; every required parameter is checked first, and all problems are
//! reported together.
//!
//! ```
//! use rolewright_catalog::{Catalog, RoleSpec};
//!
//! let catalog = Catalog::builtin();
//! let mut spec = RoleSpec::new("compute", "jobs", "111122223333", "us-east-1");
//! spec.set("S3Buckets", ["ml-data"]);
//! spec.set("ECRRepoArns", ["arn:aws:ecr:us-east-1:111122223333:repository/ml"]);
//! let role = catalog.build(&spec)?;
//! assert_eq!(role.name, "SageMaker-jobs");
//! assert!(role.inline_policies.iter().any(|p| p.name == "SageMaker-jobs-access-aws-services"));
//! # Ok::<(), rolewright_catalog::RoleError>(())
//! ```
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

mod activity;
pub mod builder;
pub mod check;
pub mod diff;
pub mod emit;
pub mod jumpstart;
mod link;
mod parameter;
mod persona;
mod role;
pub mod spec;

pub use activity::{ActivityTemplate, Customization};
pub use link::{Bindings, LinkError, link, placeholders};
pub use parameter::{PARAMETERS, Parameter, check_value, parameter};
pub use persona::{PERSONAS, Persona, PersonaOrigin, UnknownPersona, find_persona, persona};
pub use role::{NamedPolicy, RoleDefinition, RoleError, RoleSpec};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// A set of activities by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    activities: Vec<ActivityTemplate>,
}

impl Catalog {
    /// The activities built into rolewright.
    pub fn builtin() -> Catalog {
        let mut catalog = Catalog::default();
        for (name, text) in embedded::EMBEDDED {
            match ActivityTemplate::parse(text) {
                Ok(a) => catalog.activities.push(a),
                // Built-in files are tested; a broken one is left out rather than taking the
                // whole catalog down.
                Err(e) => debug_assert!(false, "{name}: {e}"),
            }
        }
        catalog
    }

    /// Adds (or replaces, by id) activities read from files, such as a team's own.
    pub fn add(&mut self, activity: ActivityTemplate) {
        self.activities.retain(|a| a.id != activity.id);
        self.activities.push(activity);
        self.activities.sort_by(|a, b| a.id.cmp(&b.id));
    }

    /// Every activity, by id.
    pub fn activities(&self) -> &[ActivityTemplate] {
        &self.activities
    }

    /// One activity.
    pub fn activity(&self, id: &str) -> Option<&ActivityTemplate> {
        self.activities.iter().find(|a| a.id == id)
    }

    /// The persona's activities that this catalog has, and those it lacks.
    pub fn persona_activities(
        &self,
        persona: &Persona,
    ) -> (Vec<&ActivityTemplate>, Vec<&'static str>) {
        let mut have = Vec::new();
        let mut missing = Vec::new();
        for id in persona.activities {
            match self.activity(id) {
                Some(a) => have.push(a),
                None => missing.push(*id),
            }
        }
        (have, missing)
    }
}
