//! AWS managed policies (`arn:aws:iam::aws:policy/...`) with AWS's published documents, built
//! into the binary from `data/managed-policies/`; read-only for every caller.

use serde::Deserialize;

use crate::model::{ManagedPolicy, PolicyVersion};
use crate::wire::xml::parse_iso_time;

include!(concat!(env!("OUT_DIR"), "/managed.rs"));

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct File {
    policy_name: String,
    path: String,
    arn: String,
    policy_id: Option<String>,
    default_version_id: String,
    create_date: String,
    update_date: String,
    description: Option<String>,
    document: serde_json::Value,
}

/// Every embedded AWS managed policy. A file that does not parse is skipped and logged (the test
/// suite checks that all of them parse).
pub fn all() -> Vec<ManagedPolicy> {
    EMBEDDED
        .iter()
        .filter_map(|(name, text)| match parse(text) {
            Ok(policy) => Some(policy),
            Err(e) => {
                tracing::error!(policy = %name, error = %e, "an AWS managed policy built into the binary is unreadable; it is left out");
                None
            }
        })
        .collect()
}

fn parse(text: &str) -> Result<ManagedPolicy, String> {
    let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let created = parse_iso_time(&file.create_date).ok_or("bad CreateDate")?;
    let updated = parse_iso_time(&file.update_date).ok_or("bad UpdateDate")?;
    let document = serde_json::to_string_pretty(&file.document).map_err(|e| e.to_string())?;
    let version_number = file
        .default_version_id
        .trim_start_matches('v')
        .parse::<u32>()
        .unwrap_or(1);
    Ok(ManagedPolicy {
        id: file
            .policy_id
            .unwrap_or_else(|| stable_id(&file.policy_name)),
        name: file.policy_name,
        path: file.path,
        arn: file.arn,
        description: file.description,
        created,
        updated,
        versions: vec![PolicyVersion {
            id: file.default_version_id.clone(),
            document,
            created: updated,
        }],
        default_version: file.default_version_id,
        next_version: version_number + 1,
        tags: Vec::new(),
        aws_managed: true,
    })
}

/// A stable `ANPA…` id for a policy whose real id is not recorded.
fn stable_id(name: &str) -> String {
    let hash = rolewright_iam::policy::text_hash(name);
    format!("ANPA{hash:016X}Z")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_embedded_policy_parses_and_is_valid() {
        let all = super::all();
        assert_eq!(all.len(), super::EMBEDDED.len());
        assert!(all.iter().any(|p| p.name == "AdministratorAccess"));
        for p in &all {
            assert!(p.arn.starts_with("arn:aws:iam::aws:policy/"), "{}", p.arn);
            rolewright_iam::PolicyDocument::parse(p.default_document())
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
    }
}
