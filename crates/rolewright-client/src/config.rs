//! The standard AWS configuration: which profile, region, endpoint and credentials a command
//! uses, resolved from flags, then environment variables, then the shared files
//! (`~/.aws/credentials`, `~/.aws/config`), as the AWS CLI and the SDKs do.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use rolewright_sigv4::Credentials;

/// What the command line says; each field wins over the environment and the files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--endpoint-url`.
    pub endpoint_url: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--region`.
    pub region: Option<String>,
}

/// The environment variables and home folder that configuration is read from: the process's
/// own ([`Environment::from_process`]) or, in tests, any set of pairs.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The current process's environment.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment holding exactly these variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable's value; an empty value counts as unset, as in the AWS CLI.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn home(&self) -> PathBuf {
        self.get("HOME")
            .or_else(|| self.get("USERPROFILE"))
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
    }

    /// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub fn credentials_file(&self) -> PathBuf {
        self.get("AWS_SHARED_CREDENTIALS_FILE").map_or_else(
            || self.home().join(".aws").join("credentials"),
            expand_home(self),
        )
    }

    /// The shared config file: `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub fn config_file(&self) -> PathBuf {
        self.get("AWS_CONFIG_FILE").map_or_else(
            || self.home().join(".aws").join("config"),
            expand_home(self),
        )
    }
}

fn expand_home(env: &Environment) -> impl Fn(&str) -> PathBuf + '_ {
    move |path| match path.strip_prefix("~/") {
        Some(rest) => env.home().join(rest),
        None => PathBuf::from(path),
    }
}

/// Where a setting came from, for messages that tell the user what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, e.g. `--region`.
    Flag(&'static str),
    /// An environment variable, e.g. `AWS_REGION`.
    Env(&'static str),
    /// A key of a profile in a shared file.
    File {
        /// The file.
        path: PathBuf,
        /// The profile.
        profile: String,
    },
    /// Nothing set it; the built-in default applies.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) | Source::Env(name) => f.write_str(name),
            Source::File { path, profile } => {
                write!(f, "profile `{profile}` in {}", path.display())
            }
            Source::Default => f.write_str("the default"),
        }
    }
}

/// The configuration a client works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    /// The profile in use (`default` unless named).
    pub profile: String,
    /// The region requests are sent to and signed for.
    pub region: String,
    /// Where the region came from.
    pub region_source: Source,
    /// An endpoint that every service is sent to (`rolewright serve`, LocalStack), without a
    /// trailing `/`; `None` for AWS's own endpoints.
    pub endpoint_url: Option<String>,
    /// The keys requests are signed with.
    pub credentials: Credentials,
    /// Where the keys came from.
    pub credentials_source: Source,
}

/// Why no usable configuration could be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No keys anywhere.
    #[error(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add \
         aws_access_key_id and aws_secret_access_key to profile `{profile}` in {} \
         (AWS_SHARED_CREDENTIALS_FILE) or {} (AWS_CONFIG_FILE)",
        credentials_file.display(),
        config_file.display()
    )]
    NoCredentials {
        /// The profile looked in.
        profile: String,
        /// The credentials file looked in.
        credentials_file: PathBuf,
        /// The config file looked in.
        config_file: PathBuf,
    },
    /// One of the two key variables is set without the other.
    #[error("{present} is set but {missing} is not: set both, or neither to use a profile")]
    PartialEnvironmentKeys {
        /// The variable that is set.
        present: &'static str,
        /// The one that is missing.
        missing: &'static str,
    },
    /// A profile has an access key id without a secret, or the reverse.
    #[error("profile `{profile}` in {} has {present} but no {missing}", path.display())]
    IncompleteProfile {
        /// The profile.
        profile: String,
        /// Its file.
        path: PathBuf,
        /// The key it has.
        present: &'static str,
        /// The key it lacks.
        missing: &'static str,
    },
    /// A named profile is in neither file.
    #[error(
        "the AWS profile `{profile}` (from {from}) is in neither {} nor {}",
        credentials_file.display(),
        config_file.display()
    )]
    ProfileNotFound {
        /// The profile.
        profile: String,
        /// Where its name came from.
        from: Source,
        /// The credentials file looked in.
        credentials_file: PathBuf,
        /// The config file looked in.
        config_file: PathBuf,
    },
    /// A profile gets its keys in a way this client does not do (role assumption, SSO, an
    /// external process).
    #[error(
        "profile `{profile}` in {} uses `{key}`, which rolewright does not support: export \
         AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (for example from \
         `aws configure export-credentials --format env`) instead",
        path.display()
    )]
    UnsupportedProfile {
        /// The profile.
        profile: String,
        /// Its file.
        path: PathBuf,
        /// The key that names the unsupported method.
        key: String,
    },
    /// No region anywhere.
    #[error(
        "no AWS region: pass --region, set AWS_REGION, or add `region = ...` to profile \
         `{profile}` in {}",
        config_file.display()
    )]
    NoRegion {
        /// The profile looked in.
        profile: String,
        /// The config file looked in.
        config_file: PathBuf,
    },
    /// An endpoint URL that is not `http://` or `https://`.
    #[error("the endpoint URL `{url}` (from {from}) must start with http:// or https://")]
    BadEndpoint {
        /// The URL.
        url: String,
        /// Where it came from.
        from: Source,
    },
    /// A shared file exists but cannot be read.
    #[error("cannot read {}: {message}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        message: String,
    },
}

/// One shared file, parsed: profile name → key → value.
#[derive(Debug, Default)]
struct SharedFile {
    path: PathBuf,
    profiles: BTreeMap<String, BTreeMap<String, String>>,
}

impl SharedFile {
    fn read(path: PathBuf, is_config: bool) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(ConfigError::Unreadable {
                    path,
                    message: e.to_string(),
                });
            }
        };
        Ok(Self {
            profiles: parse_ini(&text, is_config),
            path,
        })
    }

    fn profile(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.profiles.get(name)
    }

    fn value(&self, profile: &str, key: &str) -> Option<&str> {
        self.profile(profile)
            .and_then(|p| p.get(key))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Parses an AWS shared file. In the config file a profile's section is `[profile NAME]`
/// (`[default]` for the default one) and other sections (`[sso-session ...]`, `[services ...]`)
/// are skipped; in the credentials file it is `[NAME]`. Indented lines under a key with no value
/// are that key's sub-settings (`s3 =` and its block) and are skipped.
fn parse_ini(text: &str, is_config: bool) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut profiles: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_block = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let inner = inner.trim();
            current = if !is_config {
                Some(inner.to_string())
            } else if inner == "default" {
                Some("default".to_string())
            } else {
                inner
                    .strip_prefix("profile")
                    .filter(|rest| rest.starts_with(char::is_whitespace))
                    .map(|rest| rest.trim().to_string())
            };
            if let Some(name) = &current {
                profiles.entry(name.clone()).or_default();
            }
            in_block = false;
            continue;
        }
        if in_block && raw.starts_with(char::is_whitespace) {
            continue;
        }
        let Some(name) = &current else { continue };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        in_block = value.is_empty();
        if let Some(profile) = profiles.get_mut(name) {
            profile.insert(key, value.to_string());
        }
    }
    profiles
}

const ACCESS_KEY: &str = "aws_access_key_id";
const SECRET_KEY: &str = "aws_secret_access_key";
const SESSION_TOKEN: &str = "aws_session_token";

/// Keys that make a profile get its credentials some other way.
const UNSUPPORTED_KEYS: &[&str] = &[
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
];

/// Resolves the configuration: `overrides` first, then `env`, then the shared files.
///
/// The profile is `--profile`, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`.
/// Credentials come from the profile when `--profile` names it; otherwise from
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) when set, else from the
/// profile in the credentials file, then in the config file. The region is `--region`, else
/// `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region`. The endpoint is
/// `--endpoint-url`, else `AWS_ENDPOINT_URL`, else the profile's `endpoint_url`.
pub fn resolve(overrides: &Overrides, env: &Environment) -> Result<AwsConfig, ConfigError> {
    let (profile, profile_source) = if let Some(p) = overrides.profile.as_deref() {
        (p.to_string(), Source::Flag("--profile"))
    } else if let Some(p) = env.get("AWS_PROFILE") {
        (p.to_string(), Source::Env("AWS_PROFILE"))
    } else if let Some(p) = env.get("AWS_DEFAULT_PROFILE") {
        (p.to_string(), Source::Env("AWS_DEFAULT_PROFILE"))
    } else {
        ("default".to_string(), Source::Default)
    };
    let credentials_file = SharedFile::read(env.credentials_file(), false)?;
    let config_file = SharedFile::read(env.config_file(), true)?;
    let known =
        credentials_file.profile(&profile).is_some() || config_file.profile(&profile).is_some();
    if !known && profile_source != Source::Default {
        return Err(ConfigError::ProfileNotFound {
            profile,
            from: profile_source,
            credentials_file: credentials_file.path,
            config_file: config_file.path,
        });
    }

    let from_env = if matches!(profile_source, Source::Flag(_)) {
        None
    } else {
        environment_credentials(env)?
    };
    let (credentials, credentials_source) = match from_env {
        Some(found) => found,
        None => profile_credentials(&profile, &credentials_file)?
            .or(profile_credentials(&profile, &config_file)?)
            .ok_or_else(|| ConfigError::NoCredentials {
                profile: profile.clone(),
                credentials_file: credentials_file.path.clone(),
                config_file: config_file.path.clone(),
            })?,
    };

    let file_source = || Source::File {
        path: config_file.path.clone(),
        profile: profile.clone(),
    };
    let (region, region_source) = if let Some(r) = overrides.region.as_deref() {
        (r.to_string(), Source::Flag("--region"))
    } else if let Some(r) = env.get("AWS_REGION") {
        (r.to_string(), Source::Env("AWS_REGION"))
    } else if let Some(r) = env.get("AWS_DEFAULT_REGION") {
        (r.to_string(), Source::Env("AWS_DEFAULT_REGION"))
    } else if let Some(r) = config_file.value(&profile, "region") {
        (r.to_string(), file_source())
    } else {
        return Err(ConfigError::NoRegion {
            profile,
            config_file: config_file.path,
        });
    };

    let endpoint = if let Some(u) = overrides.endpoint_url.as_deref() {
        Some((u.to_string(), Source::Flag("--endpoint-url")))
    } else if let Some(u) = env.get("AWS_ENDPOINT_URL") {
        Some((u.to_string(), Source::Env("AWS_ENDPOINT_URL")))
    } else {
        config_file
            .value(&profile, "endpoint_url")
            .map(|u| (u.to_string(), file_source()))
    };
    let endpoint_url = match endpoint {
        None => None,
        Some((url, source)) => {
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url
                    .split_once("://")
                    .is_some_and(|(_, rest)| rest.is_empty())
            {
                return Err(ConfigError::BadEndpoint { url, from: source });
            }
            Some(url.trim_end_matches('/').to_string())
        }
    };

    Ok(AwsConfig {
        profile,
        region,
        region_source,
        endpoint_url,
        credentials,
        credentials_source,
    })
}

fn environment_credentials(
    env: &Environment,
) -> Result<Option<(Credentials, Source)>, ConfigError> {
    match (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => {
            let mut credentials = Credentials::new(id, secret);
            if let Some(token) = env.get("AWS_SESSION_TOKEN") {
                credentials = credentials.with_session_token(token);
            }
            Ok(Some((credentials, Source::Env("AWS_ACCESS_KEY_ID"))))
        }
        (Some(_), None) => Err(ConfigError::PartialEnvironmentKeys {
            present: "AWS_ACCESS_KEY_ID",
            missing: "AWS_SECRET_ACCESS_KEY",
        }),
        (None, Some(_)) => Err(ConfigError::PartialEnvironmentKeys {
            present: "AWS_SECRET_ACCESS_KEY",
            missing: "AWS_ACCESS_KEY_ID",
        }),
        (None, None) => Ok(None),
    }
}

fn profile_credentials(
    profile: &str,
    file: &SharedFile,
) -> Result<Option<(Credentials, Source)>, ConfigError> {
    let path = || file.path.clone();
    match (
        file.value(profile, ACCESS_KEY),
        file.value(profile, SECRET_KEY),
    ) {
        (Some(id), Some(secret)) => {
            let mut credentials = Credentials::new(id, secret);
            if let Some(token) = file.value(profile, SESSION_TOKEN) {
                credentials = credentials.with_session_token(token);
            }
            Ok(Some((
                credentials,
                Source::File {
                    path: path(),
                    profile: profile.to_string(),
                },
            )))
        }
        (Some(_), None) => Err(ConfigError::IncompleteProfile {
            profile: profile.to_string(),
            path: path(),
            present: ACCESS_KEY,
            missing: SECRET_KEY,
        }),
        (None, Some(_)) => Err(ConfigError::IncompleteProfile {
            profile: profile.to_string(),
            path: path(),
            present: SECRET_KEY,
            missing: ACCESS_KEY,
        }),
        (None, None) => match UNSUPPORTED_KEYS
            .iter()
            .find(|k| file.value(profile, k).is_some())
        {
            Some(key) => Err(ConfigError::UnsupportedProfile {
                profile: profile.to_string(),
                path: path(),
                key: (*key).to_string(),
            }),
            None => Ok(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(tempfile::TempDir);

    impl Dir {
        fn new() -> Self {
            Dir(tempfile::tempdir().unwrap())
        }
        fn write(&self, name: &str, text: &str) -> String {
            let path = self.0.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        }
        fn home(&self) -> String {
            self.0.path().to_string_lossy().into_owned()
        }
    }

    const CREDENTIALS: &str = "\
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default

# a comment
[rolewright]
aws_access_key_id=AKIDROLEWRIGHT
aws_secret_access_key=secret-rolewright
aws_session_token = token-rolewright
";

    const CONFIG: &str = "\
[default]
region = eu-west-1

[profile rolewright]
region = us-west-2
endpoint_url = http://127.0.0.1:4566/
s3 =
  endpoint_url = http://elsewhere

[sso-session corp]
region = ap-south-1

[profile assumer]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = default
";

    fn files(dir: &Dir) -> Vec<(String, String)> {
        vec![
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                dir.write("credentials", CREDENTIALS),
            ),
            ("AWS_CONFIG_FILE".into(), dir.write("config", CONFIG)),
        ]
    }

    fn env(dir: &Dir, extra: &[(&str, &str)]) -> Environment {
        let mut pairs = files(dir);
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        );
        Environment::from_pairs(pairs)
    }

    #[test]
    fn the_default_profile_gives_keys_and_region_from_the_files() {
        let dir = Dir::new();
        let config = resolve(&Overrides::default(), &env(&dir, &[])).unwrap();
        assert_eq!(config.profile, "default");
        assert_eq!(
            config.credentials,
            Credentials::new("AKIDDEFAULT", "secret-default")
        );
        assert_eq!(config.region, "eu-west-1");
        assert_eq!(config.endpoint_url, None);
        assert!(matches!(config.credentials_source, Source::File { .. }));
    }

    #[test]
    fn a_named_profile_gives_its_token_region_and_endpoint_but_not_nested_settings() {
        let dir = Dir::new();
        let config = resolve(
            &Overrides::default(),
            &env(&dir, &[("AWS_PROFILE", "rolewright")]),
        )
        .unwrap();
        assert_eq!(
            config.credentials,
            Credentials::new("AKIDROLEWRIGHT", "secret-rolewright")
                .with_session_token("token-rolewright")
        );
        assert_eq!(config.region, "us-west-2");
        assert_eq!(
            config.endpoint_url.as_deref(),
            Some("http://127.0.0.1:4566")
        );
    }

    #[test]
    fn environment_keys_and_region_win_over_the_files() {
        let dir = Dir::new();
        let config = resolve(
            &Overrides::default(),
            &env(
                &dir,
                &[
                    ("AWS_PROFILE", "rolewright"),
                    ("AWS_ACCESS_KEY_ID", "AKIDENV"),
                    ("AWS_SECRET_ACCESS_KEY", "secret-env"),
                    ("AWS_SESSION_TOKEN", "token-env"),
                    ("AWS_DEFAULT_REGION", "ca-central-1"),
                    ("AWS_ENDPOINT_URL", "https://example.test"),
                ],
            ),
        )
        .unwrap();
        assert_eq!(
            config.credentials,
            Credentials::new("AKIDENV", "secret-env").with_session_token("token-env")
        );
        assert_eq!(config.credentials_source, Source::Env("AWS_ACCESS_KEY_ID"));
        assert_eq!(config.region, "ca-central-1");
        assert_eq!(config.endpoint_url.as_deref(), Some("https://example.test"));
    }

    #[test]
    fn aws_region_wins_over_aws_default_region() {
        let dir = Dir::new();
        let config = resolve(
            &Overrides::default(),
            &env(
                &dir,
                &[
                    ("AWS_REGION", "us-east-2"),
                    ("AWS_DEFAULT_REGION", "ca-central-1"),
                ],
            ),
        )
        .unwrap();
        assert_eq!(config.region, "us-east-2");
        assert_eq!(config.region_source, Source::Env("AWS_REGION"));
    }

    #[test]
    fn flags_win_over_everything_and_a_profile_flag_wins_over_environment_keys() {
        let dir = Dir::new();
        let overrides = Overrides {
            endpoint_url: Some("http://localhost:9000".into()),
            profile: Some("rolewright".into()),
            region: Some("sa-east-1".into()),
        };
        let config = resolve(
            &overrides,
            &env(
                &dir,
                &[
                    ("AWS_PROFILE", "default"),
                    ("AWS_ACCESS_KEY_ID", "AKIDENV"),
                    ("AWS_SECRET_ACCESS_KEY", "secret-env"),
                    ("AWS_REGION", "us-east-2"),
                    ("AWS_ENDPOINT_URL", "https://example.test"),
                ],
            ),
        )
        .unwrap();
        assert_eq!(config.profile, "rolewright");
        assert_eq!(config.credentials.access_key_id, "AKIDROLEWRIGHT");
        assert_eq!(config.region, "sa-east-1");
        assert_eq!(config.region_source, Source::Flag("--region"));
        assert_eq!(
            config.endpoint_url.as_deref(),
            Some("http://localhost:9000")
        );
    }

    #[test]
    fn the_default_files_live_under_home() {
        let dir = Dir::new();
        std::fs::create_dir_all(dir.0.path().join(".aws")).unwrap();
        dir.write(".aws/credentials", CREDENTIALS);
        dir.write(".aws/config", CONFIG);
        let config = resolve(
            &Overrides::default(),
            &Environment::from_pairs([("HOME", dir.home())]),
        )
        .unwrap();
        assert_eq!(config.credentials.access_key_id, "AKIDDEFAULT");
        assert_eq!(config.region, "eu-west-1");
    }

    #[test]
    fn no_credentials_names_the_variables_and_the_files() {
        let dir = Dir::new();
        let env =
            Environment::from_pairs([("HOME", dir.home()), ("AWS_REGION", "us-east-1".into())]);
        let err = resolve(&Overrides::default(), &env).unwrap_err();
        let home = dir.home();
        assert_eq!(
            err.to_string(),
            format!(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add \
                 aws_access_key_id and aws_secret_access_key to profile `default` in \
                 {home}/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE) or {home}/.aws/config \
                 (AWS_CONFIG_FILE)"
            )
        );
    }

    #[test]
    fn an_unknown_profile_is_named_with_where_it_came_from() {
        let dir = Dir::new();
        let err = resolve(
            &Overrides::default(),
            &env(&dir, &[("AWS_PROFILE", "nobody")]),
        )
        .unwrap_err();
        let home = dir.home();
        assert_eq!(
            err.to_string(),
            format!(
                "the AWS profile `nobody` (from AWS_PROFILE) is in neither {home}/credentials \
                 nor {home}/config"
            )
        );
    }

    #[test]
    fn half_a_key_pair_in_the_environment_is_an_error() {
        let dir = Dir::new();
        let err = resolve(
            &Overrides::default(),
            &env(&dir, &[("AWS_ACCESS_KEY_ID", "AKIDENV")]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither to \
             use a profile"
        );
    }

    #[test]
    fn a_role_assuming_profile_is_refused_with_what_to_do() {
        let dir = Dir::new();
        let err = resolve(
            &Overrides {
                profile: Some("assumer".into()),
                ..Overrides::default()
            },
            &env(&dir, &[]),
        )
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::UnsupportedProfile { ref key, .. } if key == "role_arn"),
            "{err}"
        );
    }

    #[test]
    fn no_region_names_the_flag_the_variable_and_the_file() {
        let dir = Dir::new();
        let credentials = dir.write("credentials", CREDENTIALS);
        let env = Environment::from_pairs([
            ("AWS_SHARED_CREDENTIALS_FILE", credentials),
            ("HOME", dir.home()),
        ]);
        let err = resolve(&Overrides::default(), &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no AWS region: pass --region, set AWS_REGION, or add `region = ...` to profile \
                 `default` in {}/.aws/config",
                dir.home()
            )
        );
    }

    #[test]
    fn an_endpoint_without_a_scheme_is_refused() {
        let dir = Dir::new();
        let err = resolve(
            &Overrides::default(),
            &env(&dir, &[("AWS_ENDPOINT_URL", "127.0.0.1:4566")]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the endpoint URL `127.0.0.1:4566` (from AWS_ENDPOINT_URL) must start with http:// \
             or https://"
        );
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let dir = Dir::new();
        let config = resolve(
            &Overrides::default(),
            &env(&dir, &[("AWS_REGION", ""), ("AWS_ACCESS_KEY_ID", "")]),
        )
        .unwrap();
        assert_eq!(config.region, "eu-west-1");
        assert_eq!(config.credentials.access_key_id, "AKIDDEFAULT");
    }
}
