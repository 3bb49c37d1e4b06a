//! Drift of a live role from the role its spec builds: grants added and removed by action and
//! resource (the semantic diff of `role diff`), trust policy, permissions boundary, attached
//! policies and tags; and the writes that make the live role match.

use rolewright_catalog::diff::{Grant, diff};
use rolewright_reference::Reference;
use serde_json::Value;

use crate::change::{Change, normalize};
use crate::role_state::RoleState;

/// How a live role differs from its spec; empty when it does not.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Drift {
    /// The role does not exist.
    pub missing: bool,
    /// Grants the live role has that the spec's does not.
    pub added: Vec<Grant>,
    /// Grants the spec's role has that the live one does not.
    pub removed: Vec<Grant>,
    /// The trust policies (spec, live), when they differ.
    pub trust: Option<(Value, Value)>,
    /// The boundaries (spec, live), when they differ.
    pub boundary: Option<(Option<String>, Option<String>)>,
    /// Managed policies attached live but not in the spec.
    pub attached_added: Vec<String>,
    /// Managed policies of the spec not attached live.
    pub attached_removed: Vec<String>,
    /// Tags that differ: key, the spec's value, the live value.
    pub tags: Vec<(String, Option<String>, Option<String>)>,
}

impl Drift {
    /// Whether the live role matches its spec.
    pub fn is_empty(&self) -> bool {
        *self == Drift::default()
    }
}

/// Compares the role a spec builds with the live role (`None`: it does not exist). AWS managed
/// policies the spec attaches are known by ARN: their grants are the live ones'.
pub fn drift(spec: &RoleState, live: Option<&RoleState>, reference: &Reference) -> Drift {
    let Some(live) = live else {
        return Drift {
            missing: true,
            removed: diff(&[], &spec.documents(), reference).0,
            ..Drift::default()
        };
    };
    let mut spec_documents = spec.documents();
    for p in spec.attached.iter().filter(|p| p.document.is_none()) {
        if let Some(doc) = live
            .attached
            .iter()
            .find(|l| l.arn == p.arn)
            .and_then(|l| l.document.clone())
        {
            spec_documents.push(doc);
        }
    }
    let (added, removed) = diff(&spec_documents, &live.documents(), reference);
    let has = |role: &RoleState, arn: &str| role.attached.iter().any(|p| p.arn == arn);
    let mut tags = Vec::new();
    for (k, v) in &spec.tags {
        let l = live
            .tags
            .iter()
            .find(|(lk, _)| lk == k)
            .map(|(_, lv)| lv.clone());
        if l.as_ref() != Some(v) {
            tags.push((k.clone(), Some(v.clone()), l));
        }
    }
    for (k, v) in &live.tags {
        if !spec.tags.iter().any(|(sk, _)| sk == k) {
            tags.push((k.clone(), None, Some(v.clone())));
        }
    }
    Drift {
        missing: false,
        added,
        removed,
        trust: (normalize(&spec.trust) != normalize(&live.trust))
            .then(|| (spec.trust.clone(), live.trust.clone())),
        boundary: (spec.boundary != live.boundary)
            .then(|| (spec.boundary.clone(), live.boundary.clone())),
        attached_added: live
            .attached
            .iter()
            .filter(|p| !has(spec, &p.arn))
            .map(|p| p.arn.clone())
            .collect(),
        attached_removed: spec
            .attached
            .iter()
            .filter(|p| !has(live, &p.arn))
            .map(|p| p.arn.clone())
            .collect(),
        tags,
    }
}

/// The writes that make the live role (`None`: it does not exist) what the spec builds.
pub fn sync_changes(spec: &RoleState, live: Option<&RoleState>) -> Vec<Change> {
    let empty = RoleState::default();
    let mut changes = Vec::new();
    let live = match live {
        Some(l) => {
            if normalize(&spec.trust) != normalize(&l.trust) {
                changes.push(Change::UpdateTrust(spec.trust.clone()));
            }
            l
        }
        None => {
            changes.push(Change::CreateRole {
                name: spec.name.clone(),
                trust: spec.trust.clone(),
                description: spec.description.clone(),
            });
            &empty
        }
    };
    for p in &spec.inline {
        let same = live
            .inline
            .iter()
            .any(|l| l.name == p.name && normalize(&l.document) == normalize(&p.document));
        if !same {
            changes.push(Change::PutInline {
                name: p.name.clone(),
                document: p.document.clone(),
            });
        }
    }
    for l in &live.inline {
        if !spec.inline.iter().any(|p| p.name == l.name) {
            changes.push(Change::DeleteInline(l.name.clone()));
        }
    }
    for p in &spec.attached {
        let current = live.attached.iter().find(|l| l.arn == p.arn);
        match (&p.document, current) {
            (Some(doc), Some(l)) => {
                if l.document.as_ref().map(normalize) != Some(normalize(doc)) {
                    changes.push(Change::NewDefaultVersion {
                        arn: p.arn.clone(),
                        document: doc.clone(),
                    });
                }
            }
            (Some(doc), None) => {
                changes.push(Change::CreatePolicy {
                    name: p.name.clone(),
                    document: doc.clone(),
                });
                changes.push(Change::Attach(p.arn.clone()));
            }
            (None, None) => changes.push(Change::Attach(p.arn.clone())),
            (None, Some(_)) => {}
        }
    }
    for l in &live.attached {
        if !spec.attached.iter().any(|p| p.arn == l.arn) {
            changes.push(Change::Detach(l.arn.clone()));
        }
    }
    if spec.boundary != live.boundary {
        changes.push(match &spec.boundary {
            Some(b) => Change::PutBoundary(b.clone()),
            None => Change::DeleteBoundary,
        });
    }
    for (k, v) in &spec.tags {
        if !live.tags.iter().any(|(lk, lv)| lk == k && lv == v) {
            changes.push(Change::Tag(k.clone(), v.clone()));
        }
    }
    for (k, _) in &live.tags {
        if !spec.tags.iter().any(|(sk, _)| sk == k) {
            changes.push(Change::Untag(k.clone()));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role_state::NamedDocument;
    use serde_json::json;

    fn role() -> RoleState {
        RoleState {
            name: "ds".into(),
            arn: "arn:aws:iam::123456789012:role/ds".into(),
            trust: json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            inline: vec![NamedDocument {
                name: "p".into(),
                document: json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::d/*"}]}),
            }],
            tags: vec![("team".into(), "ml".into())],
            ..RoleState::default()
        }
    }

    #[test]
    fn a_role_like_its_spec_has_no_drift() {
        let spec = role();
        let mut live = role();
        live.inline[0].document["Statement"][0]["Action"] = json!(["s3:GetObject"]);
        assert!(drift(&spec, Some(&live), Reference::embedded()).is_empty());
        assert_eq!(sync_changes(&spec, Some(&live)), []);
    }

    #[test]
    fn edits_are_drift_and_sync_undoes_them() {
        let spec = role();
        let mut live = role();
        live.inline.push(NamedDocument {
            name: "extra".into(),
            document: json!({"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}),
        });
        live.tags.clear();
        let d = drift(&spec, Some(&live), Reference::embedded());
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.added[0].action, "s3:PutObject");
        assert_eq!(d.tags, [("team".to_string(), Some("ml".to_string()), None)]);
        assert_eq!(
            sync_changes(&spec, Some(&live)),
            [
                Change::DeleteInline("extra".into()),
                Change::Tag("team".into(), "ml".into())
            ]
        );
    }
}
