//! One AWS service: its prefix and name, actions, resource types and condition keys.
//!
//! The embedded reference reads a service's records the first time something asks for them
//! (about 20 µs for a typical service), so that loading it costs one scan for the service lines
//! instead of reading 22,000 actions that one policy never names.

use std::fmt;
use std::sync::OnceLock;

use crate::action::{Action, ActionRef, find_action};
use crate::compare::cmp_ignore_case;
use crate::condition::{ConditionKey, find_key};
use crate::resource::ResourceType;
use crate::snapshot::{self, ParseError};

/// An AWS service (`sagemaker`, Amazon SageMaker). Its lists are sorted by name, ignoring case.
#[derive(Clone)]
pub struct Service {
    pub(crate) prefix: &'static str,
    pub(crate) name: &'static str,
    /// The whole snapshot, to number lines in errors.
    pub(crate) snapshot: &'static str,
    /// The service's records: the snapshot's lines after its `S` line.
    pub(crate) records: &'static str,
    pub(crate) body: OnceLock<ServiceBody>,
}

/// What a service's records hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceBody {
    pub(crate) actions: Box<[Action]>,
    pub(crate) resource_types: Box<[ResourceType]>,
    pub(crate) condition_keys: Box<[ConditionKey]>,
}

impl Service {
    /// The prefix policies use: `sagemaker`.
    pub fn prefix(&self) -> &'static str {
        self.prefix
    }

    /// AWS's name for the service: `Amazon SageMaker`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Reads the records now; the embedded reference does so on first use.
    pub(crate) fn read(&self) -> Result<&ServiceBody, ParseError> {
        if let Some(body) = self.body.get() {
            return Ok(body);
        }
        let body = snapshot::parse_service(self)?;
        Ok(self.body.get_or_init(|| body))
    }

    pub(crate) fn body(&self) -> &ServiceBody {
        self.body.get_or_init(|| {
            #[expect(
                clippy::expect_used,
                reason = "a reference from `Reference::parse` has read every service; the \
                          embedded one is generated, and a unit test reads all of it"
            )]
            snapshot::parse_service(self).expect("the embedded snapshot is valid")
        })
    }

    /// Every action, sorted by name.
    pub fn actions(&self) -> impl ExactSizeIterator<Item = ActionRef<'_>> + DoubleEndedIterator {
        self.body().actions.iter().map(move |action| ActionRef {
            service: self,
            action,
        })
    }

    /// An action by name, ignoring case: `createtrainingjob`.
    pub fn action(&self, name: &str) -> Option<ActionRef<'_>> {
        find_action(&self.body().actions, name).map(|action| ActionRef {
            service: self,
            action,
        })
    }

    /// Every resource type, sorted by name.
    pub fn resource_types(&self) -> &[ResourceType] {
        &self.body().resource_types
    }

    /// A resource type by name, ignoring case: `training-job`.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        let types = &self.body().resource_types;
        types
            .binary_search_by(|rt| cmp_ignore_case(rt.name, name))
            .ok()
            .and_then(|i| types.get(i))
    }

    /// The condition keys AWS lists for the service (which include a few `aws:` keys), sorted.
    pub fn condition_keys(&self) -> &[ConditionKey] {
        &self.body().condition_keys
    }

    /// One of the service's condition keys, ignoring case, a placeholder standing for any text.
    pub fn condition_key(&self, key: &str) -> Option<&ConditionKey> {
        find_key(&self.body().condition_keys, key)
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("prefix", &self.prefix)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Service {
    fn eq(&self, other: &Self) -> bool {
        self.prefix == other.prefix && self.name == other.name && self.records == other.records
    }
}

impl Eq for Service {}
