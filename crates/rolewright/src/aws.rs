//! The standard AWS flags of commands that talk to a control plane (`rolewright serve` or AWS)
//! and the client they resolve to.

use rolewright_client::{AwsClient, ConfigError, Environment, Overrides, resolve};

/// `--endpoint-url`, `--profile` and `--region`, which win over AWS_ENDPOINT_URL, AWS_PROFILE
/// and AWS_REGION/AWS_DEFAULT_REGION, which win over the shared files (AWS_CONFIG_FILE,
/// AWS_SHARED_CREDENTIALS_FILE, ~/.aws). Keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
/// AWS_SESSION_TOKEN, else the profile's.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// Send every request to this URL instead of AWS's endpoints, e.g. the
    /// `http://127.0.0.1:4566` of `rolewright serve` [default: AWS_ENDPOINT_URL, then the
    /// profile's endpoint_url].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The profile of the shared files to use [default: AWS_PROFILE, then `default`].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The region [default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

impl AwsArgs {
    /// A client for these flags and the process's environment, keeping up to `connections`
    /// connections open.
    pub fn client(&self, connections: usize) -> Result<AwsClient, ConfigError> {
        let overrides = Overrides {
            endpoint_url: self.endpoint_url.clone(),
            profile: self.profile.clone(),
            region: self.region.clone(),
        };
        let config = resolve(&overrides, &Environment::from_process())?;
        Ok(AwsClient::new(config, connections))
    }
}
