//! What can be wrong with a template or its parameter values, in CloudFormation's own words.
//!
//! Every error carries the JSON path and the line and column it is about. Its message
//! ([`TemplateError::message`]) is AWS's text where AWS has one, so that the control plane can
//! answer `ValidationError` exactly as CloudFormation does; `Display` adds the location in
//! front. Where a message is AWS's, the comment above it says where the text was seen; texts no
//! public source confirmed are marked "not confirmed" and follow the nearest confirmed form.

use std::fmt;

use crate::node::Location;
use crate::path::JsonPath;

/// Joins names the way CloudFormation lists them inside `[...]`.
fn list(names: &[String]) -> String {
    names.join(", ")
}

/// One problem, as CloudFormation words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    // -----------------------------------------------------------------------------------------
    // Reading.
    /// The text is not JSON. AWS knowledge center "How do I resolve AWS CloudFormation template
    /// validation errors" names "JSON not well-formed"; the position suffix is not confirmed.
    #[error("Template format error: JSON not well-formed. (line {line}, column {column})")]
    JsonNotWellFormed {
        /// Line of the problem.
        line: u32,
        /// Column of the problem.
        column: u32,
    },
    /// The text is not YAML (same source and caveat as [`ErrorKind::JsonNotWellFormed`]).
    #[error("Template format error: YAML not well-formed. (line {line}, column {column})")]
    YamlNotWellFormed {
        /// Line of the problem.
        line: u32,
        /// Column of the problem.
        column: u32,
    },
    /// The document is not an object (a YAML mapping). Seen as "Template format error:
    /// unsupported structure" (bobbyhadz.com, "Template Format Error - unsupported structure").
    #[error("Template format error: unsupported structure.")]
    UnsupportedStructure,

    // -----------------------------------------------------------------------------------------
    // Template structure.
    /// Unknown top-level sections. AWS knowledge center (template validation errors).
    #[error("Template format error: Invalid template property or properties [{}]", list(.0))]
    InvalidTemplateProperties(Vec<String>),
    /// `AWSTemplateFormatVersion` other than `2010-09-09` (not confirmed).
    #[error("Template format error: '{0}' is not a supported AWSTemplateFormatVersion")]
    UnsupportedFormatVersion(String),
    /// A section that must be an object is not (not confirmed).
    #[error("Template format error: The {0} section must be an object.")]
    SectionNotAnObject(String),
    /// A member that must be an object is not. serverless/serverless#1443 quotes "Template
    /// format error: Every Resources member must be an object."
    #[error("Template format error: Every {0} member must be an object.")]
    NotAnObject(String),
    /// A member that must be a string is not. AWS knowledge center: "Every Condition member
    /// must be a string".
    #[error("Template format error: Every {0} member must be a string.")]
    NotAString(String),
    /// A member that must be a list is not. aws-cloudformation/cfn-lint#1295 quotes "Template
    /// format error: Every AllowedValues member must be a list."
    #[error("Template format error: Every {0} member must be a list.")]
    NotAList(String),
    /// A member that must be a number is not (not confirmed; the form of the three above).
    #[error("Template format error: Every {0} member must be a number.")]
    NotANumber(String),
    /// `Transform` names macros, which rolewright does not run (rolewright's text).
    #[error(
        "Template format error: Transform {} is not supported: rolewright runs templates without macros; expand the template before deploying it",
        list(.0)
    )]
    Transform(Vec<String>),
    /// No resources. AWS knowledge center; JulieElkinsAWS/CFtemplates#1 quotes the whole text.
    #[error("Template format error: At least one Resources member must be defined.")]
    NoResources,
    /// A logical name with characters other than A-Z, a-z and 0-9. serverless/serverless#12694
    /// quotes "Template format error: Resource name myApiGatewayDeployment${sls:instanceId} is
    /// non alphanumeric." (the other kinds are not confirmed).
    #[error("Template format error: {kind} name {name} is non alphanumeric.")]
    NonAlphanumeric {
        /// `Resource`, `Parameter`, `Output`, `Condition` or `Mapping`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A resource without `Type`. Text as issue 11 quotes it from CloudFormation.
    #[error("Template format error: Every Resources object must contain a Type member.")]
    MissingType,
    /// A resource attribute CloudFormation does not know (not confirmed).
    #[error("Invalid template resource property '{0}'")]
    InvalidResourceAttribute(String),
    /// A `DeletionPolicy` or `UpdateReplacePolicy` CloudFormation does not know (not confirmed).
    #[error(
        "Template format error: Unrecognized {attribute} {value}; valid values are [Delete, Retain, RetainExceptOnCreate, Snapshot]"
    )]
    InvalidPolicy {
        /// `DeletionPolicy` or `UpdateReplacePolicy`.
        attribute: &'static str,
        /// The value.
        value: String,
    },
    /// A condition name that the template does not define. aws-cloudformation/cfn-lint#92
    /// quotes "Template format error: Condition ListenForHttps is not defined."
    #[error("Template format error: Condition {0} is not defined.")]
    UndefinedCondition(String),
    /// `Ref`, `DependsOn` or `Fn::Sub` naming nothing the template defines (or a resource whose
    /// condition is false). Seen in many reports, e.g. cloudnative/lambda-chat#25 (the whole
    /// ValidationError) and aws-solutions/media-insights-on-aws#145 (a conditional resource).
    #[error(
        "Template format error: Unresolved resource dependencies [{}] in the {block} block of the template",
        list(names)
    )]
    UnresolvedDependencies {
        /// The names.
        names: Vec<String>,
        /// `Resources` or `Outputs`.
        block: &'static str,
    },
    /// A condition that refers to a resource. aws-cloudformation/cfn-lint#99 quotes the text.
    #[error(
        "Template format error: Unresolved dependencies [{}]. Cannot reference resources in the Conditions block of the template",
        list(.0)
    )]
    ConditionDependsOnResource(Vec<String>),
    /// Conditions that refer to each other in a circle (not confirmed; the resources' form).
    #[error("Template format error: Circular dependency between conditions: [{}]", list(.0))]
    CircularConditions(Vec<String>),
    /// Resources that depend on each other in a circle. Quoted as "Circular dependency between
    /// resources: [SecurityGroupA, SecurityGroupB]" (cloudwithgagan.com, oneuptime.com).
    #[error("Circular dependency between resources: [{}]", list(.0))]
    CircularResources(Vec<String>),
    /// An output without `Value` (not confirmed).
    #[error("Template format error: Every Outputs member must contain a Value object")]
    MissingOutputValue,
    /// An export name that depends on a resource. aws-cloudformation/cfn-lint#1632 quotes the
    /// text, two spaces included.
    #[error(
        "Template format error: Output {0} is malformed.  The Name field of Export must not depend on any resources, imported values, or Fn::GetAZs."
    )]
    ExportNameDependsOnResource(String),
    /// Two outputs of the template export the same name (not confirmed).
    #[error("Template format error: Duplicate Export names found: [{}]", list(.0))]
    DuplicateExport(Vec<String>),
    /// The export name belongs to another stack (CloudFormation's text as users report it;
    /// not confirmed by a quoted source).
    #[error("Export with name {name} is already exported by stack {stack}")]
    ExportAlreadyExported {
        /// The export name.
        name: String,
        /// The stack that exports it.
        stack: String,
    },
    /// `Fn::ImportValue` of a name no stack exports. aws-cloudformation/aws-cloudformation-
    /// templates#263 quotes "No export named production:ECSTaskExecutionRole found."
    #[error("No export named {0} found.")]
    ImportNotFound(String),

    // -----------------------------------------------------------------------------------------
    // Intrinsic functions.
    /// A function CloudFormation does not have (not confirmed).
    #[error(
        "Template format error: Encountered unsupported function: {0} Supported functions are: [Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Sub, Fn::Cidr]"
    )]
    UnsupportedFunction(String),
    /// `Ref` whose value is not a string (not confirmed).
    #[error("Template format error: Every Ref object must have a single String value.")]
    RefShape,
    /// `Fn::GetAtt` of the wrong shape. ittus/aws-lambda-vpc-nat-examples#28 quotes the text.
    #[error(
        "Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute"
    )]
    GetAttShape,
    /// `Fn::GetAtt` of a resource the template does not define. Quoted by cloudwithgagan.com
    /// and openillumi.com ("Template error: instance of Fn::GetAtt references undefined
    /// resource").
    #[error("Template error: instance of Fn::GetAtt references undefined resource {0}")]
    GetAttUndefinedResource(String),
    /// `Fn::GetAtt` of an attribute the type does not have. ralphwillgoss.github.io (2021-11-01)
    /// quotes "Template error: resource S3Bucket does not support attribute type BucketName in
    /// Fn::GetAtt".
    #[error(
        "Template error: resource {resource} does not support attribute type {attribute} in Fn::GetAtt"
    )]
    GetAttUnsupportedAttribute {
        /// The logical id.
        resource: String,
        /// The attribute.
        attribute: String,
    },
    /// `Fn::Sub` of the wrong shape (not confirmed).
    #[error(
        "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string"
    )]
    SubShape,
    /// A `${...}` in `Fn::Sub` that is not a name. aws-cloudformation/cfn-lint#1430 and
    /// kirodotdev/KiroCrew#2596 quote the text.
    #[error(
        "Template error: variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons"
    )]
    SubVariableName,
    /// A `${...}` in `Fn::Sub` whose value is a list or an object (not confirmed).
    #[error("Template error: variable {0} in Fn::Sub expression does not resolve to a string")]
    SubNotString(String),
    /// `Fn::Join` of the wrong shape (not confirmed).
    #[error(
        "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined."
    )]
    JoinShape,
    /// `Fn::Split` of the wrong shape (not confirmed).
    #[error(
        "Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split."
    )]
    SplitShape,
    /// `Fn::Select` of the wrong shape (not confirmed).
    #[error(
        "Template error: Fn::Select requires a list argument with two elements: an integer index and a list"
    )]
    SelectShape,
    /// `Fn::Select` past the end of its list (not confirmed).
    #[error("Template error: Fn::Select cannot select nonexistent value at index {0}")]
    SelectIndex(i64),
    /// `Fn::If` of the wrong shape. aws-cloudformation/cfn-lint#316 quotes the text.
    #[error(
        "Template error: Fn::If requires a list argument with the first element being a condition"
    )]
    IfShape,
    /// `Fn::Equals` of the wrong shape (not confirmed).
    #[error("Template error: every Fn::Equals object requires a list of 2 string parameters.")]
    EqualsShape,
    /// `Fn::Not` of the wrong shape (not confirmed).
    #[error("Template error: every Fn::Not object requires a list of 1 boolean parameter.")]
    NotShape,
    /// `Fn::And` or `Fn::Or` of the wrong shape (not confirmed).
    #[error(
        "Template error: every {0} object requires a list of at least 2 and at most 10 boolean parameters."
    )]
    AndOrShape(&'static str),
    /// `Condition` whose value is not a string (not confirmed).
    #[error("Template error: every Condition object requires a single String value.")]
    ConditionShape,
    /// A condition function whose value is not a boolean (not confirmed).
    #[error("Template error: {0} must evaluate to a boolean value")]
    NotBoolean(&'static str),
    /// `Fn::FindInMap` of the wrong shape. cloudtools/troposphere#479 and aws/aws-cdk#27987
    /// quote the text.
    #[error(
        "Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value"
    )]
    FindInMapShape,
    /// `Fn::FindInMap` of a mapping the template does not have (as reproduced on taourl.com;
    /// not confirmed by AWS).
    #[error(
        "Template error: Mapping named '{0}' is not present in the 'Mappings' section of template"
    )]
    MappingNotFound(String),
    /// `Fn::FindInMap` of keys the mapping does not have (not confirmed).
    #[error("Template error: Unable to get mapping for {map}::{top}::{second}")]
    MappingKeyNotFound {
        /// The mapping.
        map: String,
        /// The top-level key.
        top: String,
        /// The second-level key.
        second: String,
    },
    /// `Fn::Base64` of the wrong shape (not confirmed).
    #[error("Template error: every Fn::Base64 object requires a String value")]
    Base64Shape,
    /// `Fn::GetAZs` of the wrong shape (not confirmed).
    #[error("Template error: every Fn::GetAZs object requires a String value, the region")]
    GetAzsShape,
    /// `Fn::ImportValue` of the wrong shape (not confirmed).
    #[error(
        "Template error: every Fn::ImportValue object requires a String value, the export name"
    )]
    ImportValueShape,
    /// `Fn::Cidr` of the wrong shape or values (not confirmed).
    #[error(
        "Template error: every Fn::Cidr object requires three parameters, an IPv4 CIDR block, a count of subnets and the number of subnet bits"
    )]
    CidrShape,

    // -----------------------------------------------------------------------------------------
    // Parameter declarations.
    /// A parameter without `Type`. bridgecrewio/checkov#2965 quotes the text.
    #[error("Template format error: Every Parameters object must contain a Type member.")]
    ParameterMissingType,
    /// A parameter type CloudFormation does not have. AWS knowledge center.
    #[error("Template format error: Unrecognized parameter type: {0}")]
    UnrecognizedParameterType(String),
    /// A parameter attribute CloudFormation does not have. AWS knowledge center.
    #[error("Template format error: Invalid template parameter property '{0}'")]
    InvalidParameterProperty(String),
    /// An `AllowedPattern` that is not a regular expression (rolewright's text).
    #[error(
        "Template format error: AllowedPattern {pattern} of parameter {name} is not a valid regular expression"
    )]
    InvalidPattern {
        /// The parameter.
        name: String,
        /// The pattern.
        pattern: String,
    },

    // -----------------------------------------------------------------------------------------
    // Parameter values.
    /// Parameters with neither a value nor a default. Quoted in openedx-unsupported/
    /// configuration#1993, sat-utils/sat-api#25 and boto/botocore#2598.
    #[error("Parameters: [{}] must have values", list(.0))]
    MissingParameterValues(Vec<String>),
    /// Values for parameters the template does not declare. Quoted in aws-samples/amazon-ec2-
    /// image-builder-samples#18 and buildkite/elastic-ci-stack-for-aws#2.
    #[error("Parameters: [{}] do not exist in the template", list(.0))]
    UnknownParameters(Vec<String>),
    /// Values for a template without parameters. aws/aws-toolkit-azure-devops#75 quotes it.
    #[error("Parameter values specified for a template which does not require them.")]
    ParametersNotExpected,
    /// A value outside `AllowedValues`. aws-amplify/amplify-cli#6224 quotes it.
    #[error("Parameter '{0}' must be one of AllowedValues")]
    NotAllowedValue(String),
    /// A value that does not match `AllowedPattern`. aws/aws-connected-device-framework#183
    /// and aws-quickstart/quickstart-pivotal-cloudfoundry#9 quote it.
    #[error("Parameter '{name}' must match pattern {pattern}")]
    PatternMismatch {
        /// The parameter.
        name: String,
        /// The pattern, as written.
        pattern: String,
    },
    /// A value shorter than `MinLength`. aws-cloudformation/cloudformation-coverage-roadmap#930
    /// quotes it.
    #[error("Parameter '{name}' must contain at least {limit} characters")]
    TooShort {
        /// The parameter.
        name: String,
        /// The limit.
        limit: String,
    },
    /// A value longer than `MaxLength` (not confirmed; the `MinLength` form).
    #[error("Parameter '{name}' must contain at most {limit} characters")]
    TooLong {
        /// The parameter.
        name: String,
        /// The limit.
        limit: String,
    },
    /// A `Number` or `List<Number>` value that is not a number. aws/aws-cli#7992 quotes it.
    #[error("Parameter '{0}' must be a number.")]
    NotANumberValue(String),
    /// A number under `MinValue` (not confirmed).
    #[error("Parameter '{name}' must be a number not less than {limit}")]
    TooSmall {
        /// The parameter.
        name: String,
        /// The limit.
        limit: String,
    },
    /// A number over `MaxValue` (not confirmed).
    #[error("Parameter '{name}' must be a number not greater than {limit}")]
    TooLarge {
        /// The parameter.
        name: String,
        /// The limit.
        limit: String,
    },
    /// Any constraint failure of a parameter that has a `ConstraintDescription`, which replaces
    /// the reason. aws-ia/taskcat#627 and aws/aws-cli#7750 quote it.
    #[error("Parameter {name} failed to satisfy constraint: {description}")]
    ConstraintDescription {
        /// The parameter.
        name: String,
        /// The template's `ConstraintDescription`.
        description: String,
    },
    /// A Systems Manager parameter type, which rolewright cannot resolve (rolewright's text).
    #[error(
        "Parameter '{name}' has type {type_name}: rolewright has no Systems Manager Parameter Store to read it from; declare it as String and pass the value"
    )]
    SsmParameterType {
        /// The parameter.
        name: String,
        /// Its type.
        type_name: String,
    },

    // -----------------------------------------------------------------------------------------
    // Resources and their schemas.
    /// A type rolewright does not provision. AWS's text (`Unrecognized resource types:
    /// [XXXXXXXX]`, AWS knowledge center) with the logical id added.
    #[error(
        "Template format error: Unrecognized resource types: [{type_name}] (resource {logical_id})"
    )]
    UnsupportedResourceType {
        /// The logical id.
        logical_id: String,
        /// The type.
        type_name: String,
    },
    /// A property the type does not have. AWS knowledge center and aws/aws-sdk#740 quote
    /// "Encountered unsupported property XXXXXXXX".
    #[error("Encountered unsupported property {property}")]
    UnsupportedProperty {
        /// The logical id.
        logical_id: String,
        /// The type.
        type_name: String,
        /// The property.
        property: String,
    },
    /// A required property missing once the properties are resolved. The registry's message as
    /// stack events show it (not confirmed by a quoted source).
    #[error(
        "Properties validation failed for resource {logical_id} with message: #: required key [{property}] not found"
    )]
    RequiredProperty {
        /// The logical id.
        logical_id: String,
        /// The property.
        property: String,
    },
    /// A resource whose value is not known yet (rolewright's text: the provider resolved a
    /// resource before the ones it depends on).
    #[error(
        "Resource {resource} has no {what} yet: create it before the resources that refer to it"
    )]
    ValueNotKnown {
        /// The resource referred to.
        resource: String,
        /// `physical ID` or `attribute X`.
        what: String,
    },
    /// An update that replaces a resource but keeps its custom name (not confirmed by a
    /// quoted source; CloudFormation's text as users report it).
    #[error(
        "CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename {name} and update the stack again."
    )]
    CustomNamedReplacement {
        /// The name kept.
        name: String,
    },
    /// An update that changes resource types (not confirmed).
    #[error(
        "Update of resource type is not permitted. The new template modifies resource type of the following resources: [{}]",
        list(.0)
    )]
    ResourceTypeChanged(Vec<String>),
}

/// One problem with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub kind: ErrorKind,
    /// The JSON path of the value it is about.
    pub path: JsonPath,
    /// Where that value starts.
    pub location: Location,
    /// A suggestion or detail that AWS's text lacks.
    pub help: Option<String>,
}

impl TemplateError {
    /// An error about the value at `path`, starting at `location`.
    pub fn new(kind: ErrorKind, path: JsonPath, location: Location) -> TemplateError {
        TemplateError {
            kind,
            path,
            location,
            help: None,
        }
    }

    /// The same error with a suggestion or detail.
    pub fn with_help(mut self, help: impl Into<String>) -> TemplateError {
        self.help = Some(help.into());
        self
    }

    /// The message alone: AWS's text where AWS has one, as `ValidationError` carries it.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {}): {}",
            self.path, self.location.line, self.location.column, self.kind
        )?;
        if let Some(help) = &self.help {
            write!(f, "; {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TemplateError {}

/// Every problem found, in the order of the template. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateErrors(Vec<TemplateError>);

impl TemplateErrors {
    /// The list; `None` when it is empty.
    pub fn new(errors: Vec<TemplateError>) -> Option<TemplateErrors> {
        (!errors.is_empty()).then_some(TemplateErrors(errors))
    }

    /// One error.
    pub fn one(error: TemplateError) -> TemplateErrors {
        TemplateErrors(vec![error])
    }

    /// The first error: the one CloudFormation would answer with.
    pub fn first(&self) -> &TemplateError {
        // Never empty by construction.
        &self.0[0]
    }

    /// The first error's message, as a `ValidationError` carries it.
    pub fn message(&self) -> String {
        self.first().message()
    }

    /// Every error.
    pub fn iter(&self) -> impl Iterator<Item = &TemplateError> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: there is at least one error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors, owned.
    pub fn into_vec(self) -> Vec<TemplateError> {
        self.0
    }
}

impl fmt::Display for TemplateErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TemplateErrors {}

impl From<TemplateError> for TemplateErrors {
    fn from(e: TemplateError) -> TemplateErrors {
        TemplateErrors::one(e)
    }
}

impl From<Box<TemplateError>> for TemplateErrors {
    fn from(e: Box<TemplateError>) -> TemplateErrors {
        TemplateErrors::one(*e)
    }
}

/// Collects errors; turns into `Err` when any were pushed.
#[derive(Debug, Default)]
pub(crate) struct Errors(Vec<TemplateError>);

impl Errors {
    pub(crate) fn push(&mut self, e: TemplateError) {
        self.0.push(e);
    }

    pub(crate) fn add(&mut self, kind: ErrorKind, path: &JsonPath, location: Location) {
        self.0
            .push(TemplateError::new(kind, path.clone(), location));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T, TemplateErrors> {
        match TemplateErrors::new(self.0) {
            Some(errors) => Err(errors),
            None => Ok(value),
        }
    }
}
