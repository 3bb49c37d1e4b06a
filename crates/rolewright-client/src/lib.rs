//! A small AWS client for rolewright's commands that talk to a control plane: the standard AWS
//! configuration, and SigV4-signed JSON 1.1 (SageMaker, Service Catalog) and query-protocol
//! (IAM, STS) calls, over http:// (`rolewright serve`) or https:// (AWS).
//!
//! # Resolving the configuration
//!
//! Flags win over environment variables, which win over the shared files, as in the AWS CLI:
//!
//! ```
//! use rolewright_client::{Environment, Overrides, resolve};
//!
//! let env = Environment::from_pairs([
//!     ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
//!     ("AWS_SECRET_ACCESS_KEY", "secret"),
//!     ("AWS_REGION", "eu-west-1"),
//!     ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
//!     ("HOME", "/nonexistent"),
//! ]);
//! let flags = Overrides { region: Some("us-east-1".into()), ..Overrides::default() };
//! let config = resolve(&flags, &env).unwrap();
//! assert_eq!(config.region, "us-east-1");
//! assert_eq!(config.endpoint_url.as_deref(), Some("http://127.0.0.1:4566"));
//! ```
//!
//! # Calling a service
//!
//! ```no_run
//! use rolewright_client::{AwsClient, Environment, Overrides, resolve};
//! use serde_json::json;
//!
//! let config = resolve(&Overrides::default(), &Environment::from_process())?;
//! let client = AwsClient::new(config, 4);
//! let domain = client.json_call("sagemaker", "SageMaker", "DescribeDomain",
//!     &json!({"DomainId": "d-abc123"}))?;
//! let role = client.query_call("iam", "GetRole", "2010-05-08",
//!     &[("RoleName", "AmazonSageMakerServiceCatalogProductsUseRole")])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Failures are [`AwsError`]s with AWS's code and message and the HTTP status; the library
//! prints nothing.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod authorization_details;
pub mod client;
pub mod config;
pub mod error;
pub mod xml;

pub use client::{AwsClient, Endpoint};
pub use config::{AwsConfig, ConfigError, Environment, Overrides, Source, resolve};
pub use error::{AwsError, ErrorKind};
pub use rolewright_sigv4::Credentials;

/// The IAM API version.
pub const IAM_VERSION: &str = "2010-05-08";
/// The STS API version.
pub const STS_VERSION: &str = "2011-06-15";
/// SageMaker's JSON 1.1 target prefix.
pub const SAGEMAKER_TARGET: &str = "SageMaker";
/// Service Catalog's JSON 1.1 target prefix.
pub const SERVICE_CATALOG_TARGET: &str = "AWS242ServiceCatalogService";
