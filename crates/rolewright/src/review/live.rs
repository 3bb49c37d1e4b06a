//! The account snapshot read from a control plane or AWS: every page of IAM's
//! `GetAccountAuthorizationDetails` (query protocol, XML), merged by
//! [`AccountDetails`] into the JSON shape that `aws iam get-account-authorization-details`
//! prints, so that one reader serves both sources.

use rolewright_client::authorization_details::AccountDetails;
use rolewright_client::{AwsClient, AwsError, IAM_VERSION};
use serde_json::Value;

/// Why the snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The answer is not what IAM answers.
    #[error("the answer of iam:GetAccountAuthorizationDetails does not read: {0}")]
    Answer(String),
}

/// Reads every page and merges them into one JSON object.
pub fn account_details(client: &AwsClient) -> Result<Value, LiveError> {
    let mut details = AccountDetails::default();
    let mut marker: Option<String> = None;
    loop {
        let mut params = vec![("MaxItems", "1000")];
        if let Some(m) = &marker {
            params.push(("Marker", m.as_str()));
        }
        let answer = client.query_call(
            "iam",
            "GetAccountAuthorizationDetails",
            IAM_VERSION,
            &params,
        )?;
        marker = details.add_page(&answer).map_err(LiveError::Answer)?;
        if marker.is_none() {
            break;
        }
    }
    Ok(details.into_value())
}
