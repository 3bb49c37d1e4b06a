//! The botocore service models of SageMaker and Service Catalog: their operations and shapes, and
//! input validation that answers as AWS does (`ValidationException` with AWS's texts, or
//! `SerializationException` for a value of the wrong JSON type).
//!
//! The models are facts extracted from botocore by `scripts/extract-service-models` into
//! `data/models/*.json` (see its README) and embedded in the binary; each is parsed once, on
//! first use. Every operation is validated by the same code from its model, so handlers receive
//! input that already satisfies the model:
//!
//! ```
//! use rolewright_server::service_model::ServiceModel;
//!
//! let sagemaker = ServiceModel::sagemaker();
//! let input = serde_json::json!({"DomainId": "d-abc123", "UserProfileName": "bad_name"});
//! let error = sagemaker.validate_input("CreateUserProfile", &input).unwrap_err();
//! assert_eq!(error.code(), "ValidationException");
//! assert_eq!(
//!     error.message(),
//!     "1 validation error detected: Value 'bad_name' at 'userProfileName' failed to satisfy \
//!      constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
//! );
//! ```
//!
//! # How AWS writes the failures, and where the evidence is thin
//!
//! Read from AWS answers quoted in public issues (the server side of these services is not
//! public); each choice below names its source, and the unit tests pin every form.
//!
//! * **Paths.** Member names are lowerCamelCased by lowering the first letter only
//!   (`SAMLOptions` → `sAMLOptions`: OpenSearch, "Value at
//!   'advancedSecurityOptions.sAMLOptions.masterUserName'",
//!   ministryofjustice/cloud-platform-infrastructure#4097). Nested structures join with dots
//!   (`humanLoopConfig.workteamArn`: SageMaker, aws-samples/amazon-a2i-sample-jupyter-notebooks#43).
//!   A list element that is a structure, list or map is `name.N.member` with a 1-based `N`
//!   (`tags.1.member.key`: EBS, awslabs/coldsnap#378; `tags.6.member.value`: IAM,
//!   SWO-GS/auto-tag#90; `pipeline.stages.2.member.actions.1.member.configuration`: CodePipeline,
//!   hashicorp/terraform-provider-aws#41023).
//! * **Scalar list elements** are not reported one by one: the list gets one failure,
//!   "Member must satisfy constraint: [...]" listing *every* constraint of the element shape
//!   (Lambda: "Value '[…]' at 'vpcConfig.subnetIds' failed to satisfy constraint: Member must
//!   satisfy constraint: [Member must have length less than or equal to 1024, Member must have
//!   length greater than or equal to 0, Member must satisfy regular expression pattern: …]",
//!   appleboy/lambda-action#72; ECR registryIds, aws-actions/amazon-ecr-login#225).
//! * **Maps**: "Map keys must satisfy constraint: [...]" (QuickSight, boto/boto3#2601) and
//!   "Map value must satisfy constraint: [...]" (CodePipeline, awslabs/aws-service-catalog-factory#279),
//!   again listing every constraint. Inside the brackets the order is maximum length, minimum
//!   length, pattern in every example; enum and value ranges follow by analogy (unverified). A
//!   map value that is itself a structure, list or map is entered at `name.KEY` (no evidence;
//!   no map of these models has such values with constraints).
//! * **Order and separator**: "N validation errors detected: " then the failures joined by
//!   "; " ("1 validation error detected: " for one). AWS's order is not the model's: SageMaker's
//!   DescribeUserProfile answered `userProfileName` before `domainId` and, for each, the pattern
//!   before the length (2025, aws-samples/sagemaker-ssh-helper#70), while CreateModel gave the
//!   length first (2019). Being unable to reproduce what looks like hash order, this module
//!   reports members in the model's order and, within a member, pattern, then length, then enum
//!   (the latest SageMaker answer's order), so that answers are deterministic.
//! * **Values** are shown whole in single quotes (the 256-character EBS tag key above was not
//!   cut); `null` without quotes for a missing required member; lists as Java prints them,
//!   `[a, b]`; maps and structures as `{k=v}` (unverified). A `sensitive` shape's value is left
//!   out: "Value at 'body' failed …" (SageMaker Runtime, aws/aws-sdk-js#4203).
//! * **Patterns** are matched against the whole value, as Java's `matches()` does: IAM rejected a
//!   tag value with a comma against `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, which any substring search
//!   would accept (SWO-GS/auto-tag#90). The message prints the pattern as AWS's model writes it,
//!   with the anchors botocore stopped copying (`patternText`, see the extraction script). Java's
//!   ASCII-only `\d`, `\w`, `\s` are translated for the `regex` crate, whose classes are Unicode.
//!   A pattern the `regex` crate cannot compile (lookaround) is not checked; in these models
//!   there is one, `NonEmptyString64` (`(?!\s*$).+`), see [`ServiceModel::unchecked_patterns`].
//! * **Lengths** count Unicode scalar values, as Smithy's `length` trait specifies.
//! * **Wrong JSON types** fail deserialization before any validation, with the first one in the
//!   document: `SerializationException`, messages as measured against awsJson1.1 services:
//!   "STRING_VALUE can not be converted to an Integer", "NUMBER_VALUE can not be converted to a
//!   String", "TRUE_VALUE …", "Start of list found where not expected", "Start of structure or
//!   map found where not expected.", "Expected list or null", "Expected map or null", "Expected
//!   null" (a scalar where a structure is modelled). Conversions to Long, Boolean, Float, Double
//!   and Timestamp follow the same form unverified. A fractional number where an integer is
//!   modelled is truncated and accepted, as AWS does. `null` is the same as absent, also inside
//!   lists; members the model does not know are ignored.
//! * Not checked: that a `union` has exactly one member set (no evidence of AWS's text).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Number, Value};

use crate::error::ApiError;

const SAGEMAKER: &str = include_str!("../data/models/sagemaker.json");
const SERVICECATALOG: &str = include_str!("../data/models/servicecatalog.json");

/// Why a request's input was refused before reaching its handler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Values that break the model's constraints: AWS's `ValidationException`.
    #[error("{}", validation_message(.failures))]
    Validation {
        /// One text per failure, in the order reported ("Value 'x' at 'name' failed to
        /// satisfy constraint: ...").
        failures: Vec<String>,
    },
    /// A value of the wrong JSON type: AWS's `SerializationException`.
    #[error("{}", .message.as_deref().unwrap_or(""))]
    Serialization {
        /// AWS's text; `None` where AWS sends no message (a body that is not a JSON object).
        message: Option<String>,
        /// Where the value is (`defaultUserSettings.executionRole`), for logs; not in AWS's text.
        path: String,
    },
    /// The operation is not in the model: AWS's `UnknownOperationException`.
    #[error("unknown operation `{operation}`")]
    UnknownOperation {
        /// The operation asked for.
        operation: String,
    },
}

fn validation_message(failures: &[String]) -> String {
    let n = failures.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", failures.join("; "))
}

impl InputError {
    /// AWS's error code.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::Validation { .. } => "ValidationException",
            InputError::Serialization { .. } => "SerializationException",
            InputError::UnknownOperation { .. } => "UnknownOperationException",
        }
    }

    /// AWS's message; empty where AWS sends none (leave the `message` member out then).
    pub fn message(&self) -> String {
        match self {
            InputError::UnknownOperation { .. } => String::new(),
            other => other.to_string(),
        }
    }
}

impl From<InputError> for ApiError {
    fn from(error: InputError) -> ApiError {
        ApiError::new(error.code(), 400, error.message())
    }
}

/// One AWS service's model: its operations and the shapes they use.
#[derive(Debug)]
pub struct ServiceModel {
    metadata: Metadata,
    operations: BTreeMap<String, Operation>,
    shapes: Vec<Shape>,
    by_name: HashMap<String, usize>,
}

/// The service-level facts of a model.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// `2017-07-24`.
    pub api_version: String,
    /// `SageMaker`, `Service Catalog`.
    pub service_id: String,
    /// The `X-Amz-Target` prefix (`SageMaker`, `AWS242ServiceCatalogService`).
    pub target_prefix: Option<String>,
    /// The SigV4 service name, where it differs from the endpoint prefix.
    pub signing_name: Option<String>,
    /// `api.sagemaker`, `servicecatalog`.
    pub endpoint_prefix: String,
    /// The protocol botocore names first.
    pub protocol: String,
    /// Every protocol the service speaks.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// `1.1`.
    pub json_version: Option<String>,
}

/// An operation: its input, output and modelled error shapes.
#[derive(Debug, Clone)]
pub struct Operation {
    name: String,
    input: Option<String>,
    output: Option<String>,
    errors: Vec<String>,
}

impl Operation {
    /// `CreateDomain`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The input structure's shape name, if the operation takes input.
    pub fn input(&self) -> Option<&str> {
        self.input.as_deref()
    }
    /// The output structure's shape name, if the operation returns one.
    pub fn output(&self) -> Option<&str> {
        self.output.as_deref()
    }
    /// The modelled error shapes (`ResourceNotFound`, `InvalidParametersException`).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }
}

/// What kind of value a shape holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeType {
    /// A JSON object with named members.
    Structure,
    /// A JSON array.
    List,
    /// A JSON object with arbitrary keys.
    Map,
    /// A string (also enums).
    String,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    Long,
    /// A single-precision number.
    Float,
    /// A double-precision number.
    Double,
    /// `true` or `false`.
    Boolean,
    /// Epoch seconds on the JSON protocols.
    Timestamp,
    /// Base64 text.
    Blob,
}

impl ShapeType {
    fn parse(name: &str) -> Option<ShapeType> {
        Some(match name {
            "structure" => ShapeType::Structure,
            "list" => ShapeType::List,
            "map" => ShapeType::Map,
            "string" => ShapeType::String,
            "integer" => ShapeType::Integer,
            "long" => ShapeType::Long,
            "float" => ShapeType::Float,
            "double" => ShapeType::Double,
            "boolean" => ShapeType::Boolean,
            "timestamp" => ShapeType::Timestamp,
            "blob" => ShapeType::Blob,
            _ => return None,
        })
    }

    fn is_number(self) -> bool {
        matches!(
            self,
            ShapeType::Integer | ShapeType::Long | ShapeType::Float | ShapeType::Double
        )
    }

    fn is_aggregate(self) -> bool {
        matches!(
            self,
            ShapeType::Structure | ShapeType::List | ShapeType::Map
        )
    }
}

/// A shape of the model.
#[derive(Debug)]
pub struct Shape {
    name: String,
    shape_type: ShapeType,
    members: Vec<Member>,
    /// The list member, or the map key and value.
    element: Option<usize>,
    value: Option<usize>,
    element_name: Option<String>,
    value_name: Option<String>,
    min: Option<Number>,
    max: Option<Number>,
    pattern: Option<Pattern>,
    enum_values: Vec<String>,
    union: bool,
    exception: bool,
    sensitive: bool,
}

impl Shape {
    /// The shape's name in the model.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// What it holds.
    pub fn shape_type(&self) -> ShapeType {
        self.shape_type
    }
    /// A structure's members, in the model's order (empty for other shapes).
    pub fn members(&self) -> &[Member] {
        &self.members
    }
    /// A structure's member by its wire name.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }
    /// A list's member shape, or a map's key shape.
    pub fn element(&self) -> Option<&str> {
        self.element_name.as_deref()
    }
    /// A map's value shape.
    pub fn map_value(&self) -> Option<&str> {
        self.value_name.as_deref()
    }
    /// Minimum length (strings, lists, maps) or value (numbers).
    pub fn min(&self) -> Option<&Number> {
        self.min.as_ref()
    }
    /// Maximum length or value.
    pub fn max(&self) -> Option<&Number> {
        self.max.as_ref()
    }
    /// The pattern as AWS prints it.
    pub fn pattern(&self) -> Option<&str> {
        self.pattern.as_ref().map(|p| p.text.as_str())
    }
    /// An enum's values, in the model's order.
    pub fn enum_values(&self) -> &[String] {
        &self.enum_values
    }
    /// A union: exactly one member is set.
    pub fn is_union(&self) -> bool {
        self.union
    }
    /// An error shape.
    pub fn is_exception(&self) -> bool {
        self.exception
    }
    /// Values AWS never echoes.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }
}

/// A member of a structure.
#[derive(Debug)]
pub struct Member {
    name: String,
    /// `domainName`: how AWS names it in validation messages.
    location: String,
    shape_name: String,
    shape: usize,
    required: bool,
    idempotency_token: bool,
    json_value: bool,
}

impl Member {
    /// The wire name (`DomainName`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The member's shape name.
    pub fn shape(&self) -> &str {
        &self.shape_name
    }
    /// Whether the member must be present.
    pub fn required(&self) -> bool {
        self.required
    }
    /// An idempotency token, filled in by the SDKs when the caller leaves it out.
    pub fn idempotency_token(&self) -> bool {
        self.idempotency_token
    }
    /// A string holding a JSON document.
    pub fn json_value(&self) -> bool {
        self.json_value
    }
}

/// A pattern, compiled on its first use.
#[derive(Debug)]
struct Pattern {
    /// As the model's current botocore copy writes it (Java syntax).
    source: String,
    /// As AWS prints it.
    text: String,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// `None` when the `regex` crate cannot compile it: that check is skipped.
    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(&format!("^(?:{})$", java_to_rust(&self.source))).ok())
            .as_ref()
    }
}

/// Rewrites Java's ASCII-only shorthand classes for the `regex` crate, where `\d`, `\w` and
/// `\s` are Unicode-aware; everything else the two dialects share as written.
fn java_to_rust(pattern: &str) -> String {
    const DIGIT: &str = "0-9";
    const WORD: &str = "0-9A-Za-z_";
    const SPACE: &str = "\\t\\n\\x0B\\x0C\\r\\x20";
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut class_depth = 0usize;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let ascii = match next {
                    'd' | 'D' => Some(DIGIT),
                    'w' | 'W' => Some(WORD),
                    's' | 'S' => Some(SPACE),
                    _ => None,
                };
                match ascii {
                    Some(set) if class_depth > 0 && next.is_ascii_lowercase() => out.push_str(set),
                    Some(set) if class_depth == 0 => {
                        let negate = if next.is_ascii_uppercase() { "^" } else { "" };
                        let _ = write!(out, "[{negate}{set}]");
                    }
                    // A negated shorthand inside a class has no ASCII spelling: keep Unicode's.
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' => {
                class_depth += 1;
                out.push(c);
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The model file's layout (see `data/models/README.md`).
#[derive(Deserialize)]
struct ModelFile {
    metadata: Metadata,
    operations: BTreeMap<String, OperationFile>,
    shapes: BTreeMap<String, ShapeFile>,
}

#[derive(Deserialize)]
struct OperationFile {
    input: Option<String>,
    output: Option<String>,
    #[serde(default)]
    errors: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShapeFile {
    #[serde(rename = "type")]
    shape_type: String,
    #[serde(default)]
    members: Vec<MemberFile>,
    member: Option<String>,
    key: Option<String>,
    value: Option<String>,
    min: Option<Number>,
    max: Option<Number>,
    pattern: Option<String>,
    pattern_text: Option<String>,
    #[serde(rename = "enum", default)]
    enum_values: Vec<String>,
    #[serde(default)]
    union: bool,
    #[serde(default)]
    exception: bool,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberFile {
    name: String,
    shape: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    idempotency_token: bool,
    #[serde(default)]
    jsonvalue: bool,
}

/// Why an embedded model could not be read (a bug in the data files; the tests catch it).
#[derive(Debug, thiserror::Error)]
enum ModelError {
    #[error("the model is not valid JSON of the expected layout: {0}")]
    Json(#[from] serde_json::Error),
    #[error("shape `{0}` has the unknown type `{1}`")]
    Type(String, String),
    #[error("shape `{0}` is referenced but not defined")]
    Missing(String),
}

/// `DomainName` → `domainName`: AWS lowers the first letter only (`SAMLOptions` → `sAMLOptions`).
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl ServiceModel {
    /// SageMaker (`SageMaker.*` targets, awsJson1.1).
    pub fn sagemaker() -> &'static ServiceModel {
        static MODEL: OnceLock<ServiceModel> = OnceLock::new();
        MODEL.get_or_init(|| embedded(SAGEMAKER))
    }

    /// Service Catalog (`AWS242ServiceCatalogService.*` targets, awsJson1.1 from botocore).
    pub fn servicecatalog() -> &'static ServiceModel {
        static MODEL: OnceLock<ServiceModel> = OnceLock::new();
        MODEL.get_or_init(|| embedded(SERVICECATALOG))
    }

    fn parse(text: &str) -> Result<ServiceModel, ModelError> {
        let file: ModelFile = serde_json::from_str(text)?;
        let by_name: HashMap<String, usize> = file
            .shapes
            .keys()
            .enumerate()
            .map(|(i, name)| (name.clone(), i))
            .collect();
        let id = |name: &str| {
            by_name
                .get(name)
                .copied()
                .ok_or_else(|| ModelError::Missing(name.to_string()))
        };
        let mut shapes = Vec::with_capacity(file.shapes.len());
        for (name, shape) in &file.shapes {
            let shape_type = ShapeType::parse(&shape.shape_type)
                .ok_or_else(|| ModelError::Type(name.clone(), shape.shape_type.clone()))?;
            let members = shape
                .members
                .iter()
                .map(|m| {
                    Ok(Member {
                        name: m.name.clone(),
                        location: lower_camel(&m.name),
                        shape_name: m.shape.clone(),
                        shape: id(&m.shape)?,
                        required: m.required,
                        idempotency_token: m.idempotency_token,
                        json_value: m.jsonvalue,
                    })
                })
                .collect::<Result<Vec<_>, ModelError>>()?;
            let element_name = shape.member.clone().or_else(|| shape.key.clone());
            shapes.push(Shape {
                name: name.clone(),
                shape_type,
                members,
                element: element_name.as_deref().map(id).transpose()?,
                value: shape.value.as_deref().map(id).transpose()?,
                element_name,
                value_name: shape.value.clone(),
                min: shape.min.clone(),
                max: shape.max.clone(),
                pattern: shape.pattern.as_ref().map(|source| Pattern {
                    source: source.clone(),
                    text: shape.pattern_text.clone().unwrap_or_else(|| source.clone()),
                    compiled: OnceLock::new(),
                }),
                enum_values: shape.enum_values.clone(),
                union: shape.union,
                exception: shape.exception,
                sensitive: shape.sensitive,
            });
        }
        let mut operations = BTreeMap::new();
        for (name, op) in file.operations {
            for shape in op.input.iter().chain(&op.output).chain(&op.errors) {
                id(shape)?;
            }
            operations.insert(
                name.clone(),
                Operation {
                    name,
                    input: op.input,
                    output: op.output,
                    errors: op.errors,
                },
            );
        }
        Ok(ServiceModel {
            metadata: file.metadata,
            operations,
            shapes,
            by_name,
        })
    }

    /// The service-level facts.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// An operation by name (`CreateDomain`).
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// Every operation of the model, by name.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.values()
    }

    /// A shape by name.
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.by_name.get(name).map(|&i| &self.shapes[i])
    }

    /// The shapes whose pattern the `regex` crate cannot compile, so that validation skips them:
    /// `(shape, pattern)`.
    pub fn unchecked_patterns(&self) -> Vec<(&str, &str)> {
        self.shapes
            .iter()
            .filter_map(|s| {
                let pattern = s.pattern.as_ref()?;
                pattern
                    .regex()
                    .is_none()
                    .then_some((s.name.as_str(), pattern.source.as_str()))
            })
            .collect()
    }

    /// Checks an operation's input (the request's JSON body) against the model: first that every
    /// value has its shape's JSON type (else `SerializationException`), then every constraint
    /// (else `ValidationException` listing every failure). `null` is taken as an empty body.
    pub fn validate_input(&self, operation: &str, input: &Value) -> Result<(), InputError> {
        let op = self
            .operation(operation)
            .ok_or_else(|| InputError::UnknownOperation {
                operation: operation.to_string(),
            })?;
        let Some(shape) = op.input.as_deref().and_then(|name| self.by_name.get(name)) else {
            return Ok(());
        };
        if input.is_null() {
            return self.validate_value(*shape, &Value::Object(Default::default()));
        }
        match input {
            Value::Object(_) => self.validate_value(*shape, input),
            Value::Array(_) => Err(InputError::Serialization {
                message: Some(LIST_NOT_EXPECTED.into()),
                path: String::new(),
            }),
            _ => Err(InputError::Serialization {
                message: None,
                path: String::new(),
            }),
        }
    }

    fn validate_value(&self, shape: usize, value: &Value) -> Result<(), InputError> {
        let mut path = String::new();
        self.check_types(shape, value, &mut path)?;
        let mut failures = Vec::new();
        self.check_constraints(shape, value, &mut path, &mut failures);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(InputError::Validation { failures })
        }
    }

    /// Deserialization, in document order: the first value of the wrong JSON type wins.
    fn check_types(
        &self,
        shape: usize,
        value: &Value,
        path: &mut String,
    ) -> Result<(), InputError> {
        if value.is_null() {
            return Ok(());
        }
        let s = &self.shapes[shape];
        let fail = |message: String, path: &str| {
            Err(InputError::Serialization {
                message: Some(message),
                path: path.to_string(),
            })
        };
        match (s.shape_type, value) {
            (ShapeType::Structure, Value::Object(object)) => {
                for (key, item) in object {
                    if let Some(member) = s.member(key) {
                        let len = path.len();
                        push_member(path, &member.location);
                        self.check_types(member.shape, item, path)?;
                        path.truncate(len);
                    }
                }
                Ok(())
            }
            (ShapeType::List, Value::Array(items)) => {
                let element = s.element.unwrap_or(shape);
                for (i, item) in items.iter().filter(|v| !v.is_null()).enumerate() {
                    let len = path.len();
                    let _ = write!(path, ".{}.member", i + 1);
                    self.check_types(element, item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            (ShapeType::Map, Value::Object(object)) => {
                let target = s.value.unwrap_or(shape);
                for (key, item) in object {
                    let len = path.len();
                    let _ = write!(path, ".{key}");
                    self.check_types(target, item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            (ShapeType::String | ShapeType::Blob, Value::String(_))
            | (ShapeType::Boolean, Value::Bool(_))
            | (ShapeType::Timestamp, Value::Number(_) | Value::String(_)) => Ok(()),
            (t, Value::Number(_)) if t.is_number() => Ok(()),
            (_, Value::Array(_)) => fail(LIST_NOT_EXPECTED.into(), path),
            (_, Value::Object(_)) => fail(MAP_NOT_EXPECTED.into(), path),
            (ShapeType::Structure, _) => fail("Expected null".into(), path),
            (ShapeType::List, _) => fail("Expected list or null".into(), path),
            (ShapeType::Map, _) => fail("Expected map or null".into(), path),
            (target, scalar) => {
                let found = match scalar {
                    Value::String(_) => "STRING_VALUE",
                    Value::Bool(true) => "TRUE_VALUE",
                    Value::Bool(false) => "FALSE_VALUE",
                    _ => "NUMBER_VALUE",
                };
                let wanted = match target {
                    ShapeType::Integer => "an Integer",
                    ShapeType::Long => "a Long",
                    ShapeType::Float => "a Float",
                    ShapeType::Double => "a Double",
                    ShapeType::Boolean => "a Boolean",
                    ShapeType::Timestamp => "a Timestamp",
                    ShapeType::Blob => "a Blob",
                    _ => "a String",
                };
                fail(format!("{found} can not be converted to {wanted}"), path)
            }
        }
    }

    /// Validation, in the model's order; types are already right.
    fn check_constraints(
        &self,
        shape: usize,
        value: &Value,
        path: &mut String,
        failures: &mut Vec<String>,
    ) {
        let s = &self.shapes[shape];
        match (s.shape_type, value) {
            (ShapeType::Structure, Value::Object(object)) => {
                for member in &s.members {
                    let len = path.len();
                    push_member(path, &member.location);
                    match object.get(&member.name).filter(|v| !v.is_null()) {
                        Some(item) => self.check_constraints(member.shape, item, path, failures),
                        None if member.required => failures.push(format!(
                            "Value null at '{path}' failed to satisfy constraint: Member must not be null"
                        )),
                        None => {}
                    }
                    path.truncate(len);
                }
            }
            (ShapeType::List, Value::Array(items)) => {
                let items: Vec<&Value> = items.iter().filter(|v| !v.is_null()).collect();
                if let Some(why) = length_failure(s, items.len()) {
                    failures.push(failure(s, &render_list(&items), path, &why));
                }
                let Some(element) = s.element else { return };
                let element_shape = &self.shapes[element];
                if element_shape.shape_type.is_aggregate() {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.len();
                        let _ = write!(path, ".{}.member", i + 1);
                        self.check_constraints(element, item, path, failures);
                        path.truncate(len);
                    }
                } else if items
                    .iter()
                    .any(|item| !self.scalar_ok(element_shape, item))
                {
                    let why = format!(
                        "Member must satisfy constraint: [{}]",
                        constraint_list(element_shape)
                    );
                    failures.push(failure(s, &render_list(&items), path, &why));
                }
            }
            (ShapeType::Map, Value::Object(object)) => {
                let entries: Vec<(&String, &Value)> =
                    object.iter().filter(|(_, v)| !v.is_null()).collect();
                let rendered = || render_map(&entries);
                if let Some(why) = length_failure(s, entries.len()) {
                    failures.push(failure(s, &rendered(), path, &why));
                }
                if let Some(key) = s.element {
                    let key_shape = &self.shapes[key];
                    let keys_ok = entries
                        .iter()
                        .all(|(k, _)| self.scalar_ok(key_shape, &Value::String((*k).clone())));
                    if !keys_ok {
                        let why = format!(
                            "Map keys must satisfy constraint: [{}]",
                            constraint_list(key_shape)
                        );
                        failures.push(failure(s, &rendered(), path, &why));
                    }
                }
                let Some(target) = s.value else { return };
                let value_shape = &self.shapes[target];
                if value_shape.shape_type.is_aggregate() {
                    for (key, item) in &entries {
                        let len = path.len();
                        let _ = write!(path, ".{key}");
                        self.check_constraints(target, item, path, failures);
                        path.truncate(len);
                    }
                } else if entries.iter().any(|(_, v)| !self.scalar_ok(value_shape, v)) {
                    let why = format!(
                        "Map value must satisfy constraint: [{}]",
                        constraint_list(value_shape)
                    );
                    failures.push(failure(s, &rendered(), path, &why));
                }
            }
            (ShapeType::String, Value::String(text)) => {
                let shown = format!("'{text}'");
                if let Some(pattern) = &s.pattern
                    && let Some(regex) = pattern.regex()
                    && !regex.is_match(text)
                {
                    let why = format!(
                        "Member must satisfy regular expression pattern: {}",
                        pattern.text
                    );
                    failures.push(failure(s, &shown, path, &why));
                }
                if let Some(why) = length_failure(s, text.chars().count()) {
                    failures.push(failure(s, &shown, path, &why));
                }
                if !s.enum_values.is_empty() && !s.enum_values.iter().any(|v| v == text) {
                    failures.push(failure(s, &shown, path, &enum_text(s)));
                }
            }
            (t, Value::Number(n)) if t.is_number() => {
                if let Some((shown, why)) = range_failure(s, n) {
                    failures.push(failure(s, &format!("'{shown}'"), path, &why));
                }
            }
            _ => {}
        }
    }

    /// Whether a scalar list element or map key/value satisfies every constraint of its shape.
    fn scalar_ok(&self, s: &Shape, value: &Value) -> bool {
        match value {
            Value::String(text) => {
                let pattern_ok = s
                    .pattern
                    .as_ref()
                    .and_then(Pattern::regex)
                    .is_none_or(|regex| regex.is_match(text));
                pattern_ok
                    && length_failure(s, text.chars().count()).is_none()
                    && (s.enum_values.is_empty() || s.enum_values.iter().any(|v| v == text))
            }
            Value::Number(n) if s.shape_type.is_number() => range_failure(s, n).is_none(),
            _ => true,
        }
    }
}

const LIST_NOT_EXPECTED: &str = "Start of list found where not expected";
const MAP_NOT_EXPECTED: &str = "Start of structure or map found where not expected.";

#[expect(
    clippy::expect_used,
    reason = "the embedded models are data of this crate; the unit tests parse both"
)]
fn embedded(text: &str) -> ServiceModel {
    ServiceModel::parse(text).expect("the embedded service model is valid")
}

fn push_member(path: &mut String, location: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(location);
}

fn failure(s: &Shape, shown: &str, path: &str, why: &str) -> String {
    if s.sensitive {
        format!("Value at '{path}' failed to satisfy constraint: {why}")
    } else {
        format!("Value {shown} at '{path}' failed to satisfy constraint: {why}")
    }
}

fn as_count(bound: &Number) -> Option<u64> {
    bound
        .as_u64()
        .or_else(|| bound.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

fn length_failure(s: &Shape, len: usize) -> Option<String> {
    let len = len as u64;
    if let Some(max) = s.max.as_ref().and_then(as_count)
        && len > max
    {
        return Some(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    if let Some(min) = s.min.as_ref().and_then(as_count)
        && len < min
    {
        return Some(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    None
}

/// A range failure with the value as AWS shows it: integers truncated, as AWS reads them.
fn range_failure(s: &Shape, n: &Number) -> Option<(String, String)> {
    let integral = matches!(s.shape_type, ShapeType::Integer | ShapeType::Long);
    let (value, shown) = if integral {
        let whole = n
            .as_i64()
            .map(|i| i as f64)
            .unwrap_or_else(|| n.as_f64().unwrap_or(0.0).trunc());
        (whole, format!("{}", whole as i64))
    } else {
        (n.as_f64().unwrap_or(0.0), n.to_string())
    };
    if let Some(max) = &s.max
        && value > max.as_f64().unwrap_or(f64::INFINITY)
    {
        return Some((
            shown,
            format!("Member must have value less than or equal to {max}"),
        ));
    }
    if let Some(min) = &s.min
        && value < min.as_f64().unwrap_or(f64::NEG_INFINITY)
    {
        return Some((
            shown,
            format!("Member must have value greater than or equal to {min}"),
        ));
    }
    None
}

fn enum_text(s: &Shape) -> String {
    format!(
        "Member must satisfy enum value set: [{}]",
        s.enum_values.join(", ")
    )
}

/// Every constraint of a scalar shape, as AWS lists them inside "[...]".
fn constraint_list(s: &Shape) -> String {
    let mut parts = Vec::new();
    if s.shape_type.is_number() {
        if let Some(max) = &s.max {
            parts.push(format!(
                "Member must have value less than or equal to {max}"
            ));
        }
        if let Some(min) = &s.min {
            parts.push(format!(
                "Member must have value greater than or equal to {min}"
            ));
        }
    } else {
        if let Some(max) = &s.max {
            parts.push(format!(
                "Member must have length less than or equal to {max}"
            ));
        }
        if let Some(min) = &s.min {
            parts.push(format!(
                "Member must have length greater than or equal to {min}"
            ));
        }
        if let Some(pattern) = &s.pattern {
            parts.push(format!(
                "Member must satisfy regular expression pattern: {}",
                pattern.text
            ));
        }
    }
    if !s.enum_values.is_empty() {
        parts.push(enum_text(s));
    }
    parts.join(", ")
}

/// A value as Java's `toString` prints it: strings bare, lists `[a, b]`, objects `{k=v}`.
fn render(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => out.push_str(text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().filter(|v| !v.is_null()).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, out);
            }
            out.push(']');
        }
        Value::Object(object) => {
            out.push('{');
            for (i, (key, item)) in object.iter().filter(|(_, v)| !v.is_null()).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                render(item, out);
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn render_list(items: &[&Value]) -> String {
    let mut out = String::from("'[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        render(item, &mut out);
    }
    out.push_str("]'");
    out
}

fn render_map(entries: &[(&String, &Value)]) -> String {
    let mut out = String::from("'{");
    for (i, (key, item)) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(key);
        out.push('=');
        render(item, &mut out);
    }
    out.push_str("}'");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sagemaker() -> &'static ServiceModel {
        ServiceModel::sagemaker()
    }

    fn message(model: &ServiceModel, operation: &str, input: Value) -> String {
        match model.validate_input(operation, &input) {
            Ok(()) => panic!("{operation} accepted {input}"),
            Err(error) => format!("{}: {}", error.code(), error.message()),
        }
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/SageMakerExecution";

    #[test]
    fn both_embedded_models_parse_and_name_their_protocol() {
        let sm = ServiceModel::sagemaker();
        assert_eq!(sm.metadata().target_prefix.as_deref(), Some("SageMaker"));
        assert_eq!(sm.metadata().signing_name.as_deref(), Some("sagemaker"));
        let sc = ServiceModel::servicecatalog();
        assert_eq!(
            sc.metadata().target_prefix.as_deref(),
            Some("AWS242ServiceCatalogService")
        );
        assert!(sc.metadata().protocols.iter().any(|p| p == "json"));
    }

    #[test]
    fn every_served_json_operation_is_in_its_embedded_model() {
        for (model, operations) in [
            (ServiceModel::sagemaker(), crate::sagemaker::OPERATIONS),
            (
                ServiceModel::servicecatalog(),
                crate::servicecatalog::OPERATIONS,
            ),
        ] {
            for op in operations {
                assert!(
                    model.operation(op.name).is_some(),
                    "{} is served but missing from the model: add it to scripts/extract-service-models",
                    op.name
                );
            }
        }
    }

    #[test]
    fn a_valid_create_user_profile_passes() {
        let input = json!({
            "DomainId": "d-abc123def456",
            "UserProfileName": "alice",
            "Tags": [{"Key": "team", "Value": "ml"}],
            "UserSettings": {"ExecutionRole": ROLE, "SecurityGroups": ["sg-0123"]},
            "SomethingNew": {"ignored": true}
        });
        assert_eq!(
            sagemaker().validate_input("CreateUserProfile", &input),
            Ok(())
        );
    }

    #[test]
    fn missing_required_members_are_null_in_model_order() {
        assert_eq!(
            message(sagemaker(), "CreateDomain", json!({})),
            "ValidationException: 3 validation errors detected: \
             Value null at 'domainName' failed to satisfy constraint: Member must not be null; \
             Value null at 'authMode' failed to satisfy constraint: Member must not be null; \
             Value null at 'defaultUserSettings' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn an_explicit_null_is_absent() {
        assert_eq!(
            message(sagemaker(), "DescribeDomain", json!({"DomainId": null})),
            "ValidationException: 1 validation error detected: Value null at 'domainId' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn a_too_long_user_profile_name_breaks_pattern_and_length() {
        let name = "a".repeat(64);
        assert_eq!(
            message(
                sagemaker(),
                "DescribeUserProfile",
                json!({"DomainId": "d-abc123def456", "UserProfileName": name})
            ),
            format!(
                "ValidationException: 2 validation errors detected: \
                 Value '{name}' at 'userProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}; \
                 Value '{name}' at 'userProfileName' failed to satisfy constraint: Member must have length less than or equal to 63"
            )
        );
    }

    #[test]
    fn a_pattern_violation_prints_the_pattern_as_aws_does() {
        assert_eq!(
            message(
                sagemaker(),
                "DescribeUserProfile",
                json!({"DomainId": "d-abc123def456", "UserProfileName": "my_user"})
            ),
            "ValidationException: 1 validation error detected: Value 'my_user' at 'userProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
        );
    }

    /// The four failures of aws-samples/sagemaker-ssh-helper#70, in this module's order
    /// (AWS listed `userProfileName` first).
    #[test]
    fn four_failures_in_one_message() {
        let value = r#"{"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/Sparse-Transformer", "ResourceName": "Sparse-Transformer"}"#;
        let text = message(
            sagemaker(),
            "DescribeUserProfile",
            json!({"DomainId": value, "UserProfileName": value}),
        );
        assert_eq!(
            text,
            format!(
                "ValidationException: 4 validation errors detected: \
                 Value '{value}' at 'domainId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^d-(-*[a-z0-9]){{1,61}}; \
                 Value '{value}' at 'domainId' failed to satisfy constraint: Member must have length less than or equal to 63; \
                 Value '{value}' at 'userProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}; \
                 Value '{value}' at 'userProfileName' failed to satisfy constraint: Member must have length less than or equal to 63"
            )
        );
    }

    #[test]
    fn an_enum_violation_lists_the_values_in_model_order() {
        assert_eq!(
            message(
                sagemaker(),
                "CreateApp",
                json!({"DomainId": "d-abc123def456", "UserProfileName": "alice", "AppType": "Jupyter", "AppName": "default"})
            ),
            "ValidationException: 1 validation error detected: Value 'Jupyter' at 'appType' failed to satisfy constraint: Member must satisfy enum value set: [JupyterServer, KernelGateway, DetailedProfiler, TensorBoard, CodeEditor, JupyterLab, RStudioServerPro, RSessionGateway, Canvas]"
        );
    }

    #[test]
    fn a_nested_violation_names_its_path() {
        assert_eq!(
            message(
                sagemaker(),
                "CreateDomain",
                json!({
                    "DomainName": "studio",
                    "AuthMode": "IAM",
                    "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::1:r"}
                })
            ),
            "ValidationException: 2 validation errors detected: \
             Value 'arn:aws:iam::1:r' at 'defaultUserSettings.executionRole' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$; \
             Value 'arn:aws:iam::1:r' at 'defaultUserSettings.executionRole' failed to satisfy constraint: Member must have length greater than or equal to 20"
        );
    }

    #[test]
    fn a_tag_key_of_129_characters_is_a_list_member_path() {
        let key = "k".repeat(129);
        assert_eq!(
            message(
                sagemaker(),
                "AddTags",
                json!({
                    "ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc123def456",
                    "Tags": [{"Key": "ok", "Value": "v"}, {"Key": key, "Value": "v"}]
                })
            ),
            format!(
                "ValidationException: 1 validation error detected: Value '{key}' at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"
            )
        );
    }

    #[test]
    fn a_required_member_inside_a_list_element() {
        assert_eq!(
            message(
                ServiceModel::servicecatalog(),
                "CreatePortfolio",
                json!({"DisplayName": "p", "ProviderName": "me", "IdempotencyToken": "t1", "Tags": [{"Key": "k"}]})
            ),
            "ValidationException: 1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn scalar_list_elements_fail_the_list_with_every_constraint() {
        assert_eq!(
            message(
                sagemaker(),
                "UpdateDomain",
                json!({"DomainId": "d-abc123def456", "SubnetIds": ["subnet-1", "subnet_2"]})
            ),
            "ValidationException: 1 validation error detected: Value '[subnet-1, subnet_2]' at 'subnetIds' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 32, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: [-0-9a-zA-Z]+]"
        );
    }

    #[test]
    fn list_length_is_checked_on_the_list() {
        assert_eq!(
            message(
                sagemaker(),
                "UpdateDomain",
                json!({"DomainId": "d-abc123def456", "SubnetIds": []})
            ),
            "ValidationException: 1 validation error detected: Value '[]' at 'subnetIds' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
    }

    #[test]
    fn map_keys_fail_the_map_with_every_constraint() {
        assert_eq!(
            message(
                ServiceModel::servicecatalog(),
                "SearchProducts",
                json!({"Filters": {"Owner": ["me"], "Colour": ["red"]}})
            ),
            "ValidationException: 1 validation error detected: Value '{Owner=[me], Colour=[red]}' at 'filters' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy enum value set: [FullTextSearch, Owner, ProductType, SourceProductId]]"
        );
    }

    #[test]
    fn max_results_zero_is_a_range_violation() {
        assert_eq!(
            message(sagemaker(), "ListUserProfiles", json!({"MaxResults": 0})),
            "ValidationException: 1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        assert_eq!(
            message(
                ServiceModel::servicecatalog(),
                "ListPortfolios",
                json!({"PageSize": 101})
            ),
            "ValidationException: 1 validation error detected: Value '101' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 100"
        );
    }

    #[test]
    fn a_fractional_integer_is_truncated_as_aws_does() {
        assert_eq!(
            sagemaker().validate_input("ListUserProfiles", &json!({"MaxResults": 10.7})),
            Ok(())
        );
        assert_eq!(
            message(sagemaker(), "ListUserProfiles", json!({"MaxResults": 0.5})),
            "ValidationException: 1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
    }

    #[test]
    fn wrong_json_types_are_serialization_exceptions() {
        for (input, expected) in [
            (
                json!({"MaxResults": "10"}),
                "STRING_VALUE can not be converted to an Integer",
            ),
            (
                json!({"MaxResults": true}),
                "TRUE_VALUE can not be converted to an Integer",
            ),
            (
                json!({"MaxResults": [1]}),
                "Start of list found where not expected",
            ),
            (
                json!({"MaxResults": {}}),
                "Start of structure or map found where not expected.",
            ),
            (
                json!({"DomainIdEquals": 12}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                json!({"DomainIdEquals": false}),
                "FALSE_VALUE can not be converted to a String",
            ),
        ] {
            assert_eq!(
                message(sagemaker(), "ListUserProfiles", input.clone()),
                format!("SerializationException: {expected}"),
                "{input}"
            );
        }
        assert_eq!(
            message(
                sagemaker(),
                "UpdateDomain",
                json!({"DomainId": "d-abc123def456", "SubnetIds": "subnet-1"})
            ),
            "SerializationException: Expected list or null"
        );
        assert_eq!(
            message(
                sagemaker(),
                "UpdateDomain",
                json!({"DomainId": "d-abc123def456", "DefaultUserSettings": "x"})
            ),
            "SerializationException: Expected null"
        );
        assert_eq!(
            message(
                ServiceModel::servicecatalog(),
                "SearchProducts",
                json!({"Filters": ["Owner"]})
            ),
            "SerializationException: Start of list found where not expected"
        );
        assert_eq!(
            message(
                ServiceModel::servicecatalog(),
                "SearchProducts",
                json!({"Filters": "Owner"})
            ),
            "SerializationException: Expected map or null"
        );
    }

    #[test]
    fn a_type_error_wins_over_validation_failures_and_names_its_path() {
        let error = sagemaker()
            .validate_input(
                "CreateDomain",
                &json!({"DomainName": "bad name", "DefaultUserSettings": {"SecurityGroups": [1]}}),
            )
            .unwrap_err();
        assert_eq!(
            error,
            InputError::Serialization {
                message: Some("NUMBER_VALUE can not be converted to a String".into()),
                path: "defaultUserSettings.securityGroups.1.member".into(),
            }
        );
    }

    #[test]
    fn the_first_type_error_in_the_document_is_reported() {
        assert_eq!(
            message(
                sagemaker(),
                "ListUserProfiles",
                json!({"SortBy": 1, "MaxResults": "x"})
            ),
            "SerializationException: NUMBER_VALUE can not be converted to a String"
        );
    }

    #[test]
    fn a_body_that_is_not_an_object() {
        assert_eq!(
            sagemaker().validate_input("ListDomains", &json!([])),
            Err(InputError::Serialization {
                message: Some("Start of list found where not expected".into()),
                path: String::new(),
            })
        );
        let error = sagemaker()
            .validate_input("ListDomains", &json!("x"))
            .unwrap_err();
        assert_eq!(error.code(), "SerializationException");
        assert_eq!(error.message(), "");
        assert_eq!(
            sagemaker().validate_input("ListDomains", &Value::Null),
            Ok(())
        );
    }

    #[test]
    fn nulls_inside_lists_are_skipped() {
        assert_eq!(
            sagemaker().validate_input(
                "DeleteTags",
                &json!({"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc", "TagKeys": ["a", null]})
            ),
            Ok(())
        );
    }

    #[test]
    fn an_unknown_operation() {
        let error = sagemaker()
            .validate_input("CreateTrainingJob", &json!({}))
            .unwrap_err();
        assert_eq!(error.code(), "UnknownOperationException");
        let api: ApiError = error.into();
        assert_eq!(api.code, "UnknownOperationException");
    }

    #[test]
    fn the_api_error_carries_code_and_message() {
        let error = sagemaker()
            .validate_input("DescribeDomain", &json!({}))
            .unwrap_err();
        let api = ApiError::from(error);
        assert_eq!(api.code, "ValidationException");
        assert_eq!(api.status, 400);
        assert_eq!(
            api.message,
            "1 validation error detected: Value null at 'domainId' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn patterns_match_the_whole_value() {
        // `[-0-9a-zA-Z]+` would find a match inside `sg_1-a` if it were a search.
        assert_eq!(
            message(
                sagemaker(),
                "UpdateDomain",
                json!({"DomainId": "d-abc123def456", "DefaultUserSettings": {"SecurityGroups": ["sg_1-a"]}})
            ),
            "ValidationException: 1 validation error detected: Value '[sg_1-a]' at 'defaultUserSettings.securityGroups' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 32, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: [-0-9a-zA-Z]+]"
        );
    }

    #[test]
    fn java_digit_classes_are_ascii() {
        assert_eq!(java_to_rust(r"\d{12}"), "[0-9]{12}");
        assert_eq!(java_to_rust(r"[\d\-]+\S"), r"[0-9\-]+[^\t\n\x0B\x0C\r\x20]");
        assert_eq!(java_to_rust(r"a\\d"), r"a\\d");
        // Arabic-Indic digits are digits to Unicode, not to Java.
        let role = format!("arn:aws:iam::{}:role/x", "\u{661}".repeat(12));
        let text = message(
            sagemaker(),
            "CreateDomain",
            json!({"DomainName": "d", "AuthMode": "IAM", "DefaultUserSettings": {"ExecutionRole": role}}),
        );
        assert!(
            text.contains("Member must satisfy regular expression pattern"),
            "{text}"
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        // 63 two-byte letters would be 126 bytes; the pattern fails, the length does not.
        let name = "é".repeat(63);
        let text = message(
            sagemaker(),
            "DescribeUserProfile",
            json!({"DomainId": "d-abc123def456", "UserProfileName": name}),
        );
        assert!(!text.contains("length"), "{text}");
    }

    #[test]
    fn lower_camel_lowers_the_first_letter_only() {
        assert_eq!(lower_camel("DomainName"), "domainName");
        assert_eq!(lower_camel("EFSFileSystem"), "eFSFileSystem");
        assert_eq!(lower_camel(""), "");
    }

    #[test]
    fn every_pattern_compiles_but_the_one_with_lookahead() {
        assert_eq!(
            sagemaker().unchecked_patterns(),
            vec![("NonEmptyString64", r"(?!\s*$).+")]
        );
        assert_eq!(ServiceModel::servicecatalog().unchecked_patterns(), vec![]);
    }

    #[test]
    fn shapes_expose_members_and_traits() {
        let sc = ServiceModel::servicecatalog();
        let op = sc.operation("ProvisionProduct").unwrap();
        let input = sc.shape(op.input().unwrap()).unwrap();
        let token = input.member("ProvisionToken").unwrap();
        assert!(token.idempotency_token() && token.required());
        assert_eq!(token.shape(), "IdempotencyToken");
        let sm = sagemaker();
        let tags = sm.shape("TagList").unwrap();
        assert_eq!(tags.shape_type(), ShapeType::List);
        assert_eq!(tags.element(), Some("Tag"));
        assert_eq!(
            sm.shape("UserProfileName").unwrap().pattern(),
            Some("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
        );
        assert!(sm.shape("ResourceNotFound").unwrap().is_exception());
        assert!(sm.shape("CustomFileSystem").unwrap().is_union());
    }
}
