//! Reading keys from an AWS shared-credentials file (`~/.aws/credentials` format).

use std::path::Path;

use rolewright_sigv4::Credentials;

/// Why a credentials file could not give a profile's keys.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read credentials file `{path}`: {reason}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The profile has no section in the file.
    #[error(
        "profile `{profile}` not found in `{path}`: add a `[{profile}]` section or pass --profile"
    )]
    NoProfile {
        /// The file.
        path: String,
        /// The profile asked for.
        profile: String,
    },
    /// The profile lacks a required key.
    #[error("profile `{profile}` in `{path}` has no `{key}`")]
    MissingKey {
        /// The file.
        path: String,
        /// The profile.
        profile: String,
        /// The missing key name.
        key: &'static str,
    },
}

/// Loads the keys of `profile` from the shared-credentials file at `path`.
pub fn load(path: &Path, profile: &str) -> Result<Credentials, CredentialsError> {
    let text = std::fs::read_to_string(path).map_err(|e| CredentialsError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse(&text, profile, &path.display().to_string())
}

/// Parses shared-credentials text; `path` is only used in messages.
pub fn parse(text: &str, profile: &str, path: &str) -> Result<Credentials, CredentialsError> {
    let mut in_profile = false;
    let mut found = false;
    let (mut key_id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            // The config-file spelling `[profile NAME]` is accepted too.
            let name = section.trim();
            let name = name.strip_prefix("profile ").map_or(name, str::trim);
            in_profile = name == profile;
            found |= in_profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().to_owned();
            match key.trim().to_ascii_lowercase().as_str() {
                "aws_access_key_id" => key_id = Some(value),
                "aws_secret_access_key" => secret = Some(value),
                "aws_session_token" => token = Some(value),
                _ => {}
            }
        }
    }
    if !found {
        return Err(CredentialsError::NoProfile {
            path: path.to_owned(),
            profile: profile.to_owned(),
        });
    }
    let missing = |key| CredentialsError::MissingKey {
        path: path.to_owned(),
        profile: profile.to_owned(),
        key,
    };
    Ok(Credentials {
        access_key_id: key_id.ok_or_else(|| missing("aws_access_key_id"))?,
        secret_access_key: secret.ok_or_else(|| missing("aws_secret_access_key"))?,
        session_token: token.filter(|t| !t.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secretdefault

# the admin
[rolewright]
aws_access_key_id=AKIDRW
aws_secret_access_key = rw/secret+key
aws_session_token = tok

[partial]
aws_access_key_id = AKIDPARTIAL
";

    #[test]
    fn reads_the_named_profile() {
        let c = parse(FILE, "rolewright", "creds").unwrap();
        assert_eq!(c.access_key_id, "AKIDRW");
        assert_eq!(c.secret_access_key, "rw/secret+key");
        assert_eq!(c.session_token.as_deref(), Some("tok"));
        let c = parse(FILE, "default", "creds").unwrap();
        assert_eq!(c.access_key_id, "AKIDDEFAULT");
        assert_eq!(c.session_token, None);
    }

    #[test]
    fn reports_missing_profile_and_keys() {
        assert_eq!(
            parse(FILE, "nope", "creds").unwrap_err().to_string(),
            "profile `nope` not found in `creds`: add a `[nope]` section or pass --profile"
        );
        assert_eq!(
            parse(FILE, "partial", "creds").unwrap_err().to_string(),
            "profile `partial` in `creds` has no `aws_secret_access_key`"
        );
    }
}
