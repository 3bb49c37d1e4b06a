//! A fast reader for the case objects of `rolewright simulate --cases`. It reads the usual shape
//! of a case straight from its text, borrowing strings and policy documents instead of building a
//! JSON tree, and hands every case it is not sure about back to the exact reader
//! ([`rolewright_iam::case::EngineCase`] through serde), so that what a case means never depends
//! on which reader read it.
//!
//! The fast reader accepts a subset of what serde accepts, and reads it to the same values:
//! anything else (a duplicate field, an escaped key, a principal that is not a string or an
//! anonymous object, an error of any kind) is [`Unsupported`], and the caller reads that case
//! again with serde. Values it has no fast path for (unknown fields, a context with numbers or
//! repeated keys, a principal object) are read by serde in place, from their own text.
//!
//! Policy documents are only delimited here, not checked: the caller checks each distinct
//! document text once (with serde and the policy reader) and compares later copies byte for byte
//! with the checked one, so a document is never trusted without having been read once in full.

use std::borrow::Cow;
use std::collections::HashMap;

use rolewright_iam::{ContextValue, RequestContext};

/// The fast reader cannot vouch for this case; read it with serde instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

/// Documents nested deeper than this are left to serde, whose recursion limit (128 levels,
/// counted from the case object) then decides, as it always did.
const MAX_DEPTH: usize = 100;

/// The caller of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasePrincipal<'a> {
    /// A principal string, for `Principal::parse`.
    Text(Cow<'a, str>),
    /// `{"type": "Anonymous"}`.
    Anonymous,
}

/// A policy document of a case: its text, and its id when it is one of the [`KnownDocuments`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doc<'a> {
    /// The document's text.
    pub text: &'a str,
    /// The id it was given, when it was found among the known documents.
    pub known: Option<u32>,
}

/// One case as read by the fast reader: its request, its expectation, and the texts of its
/// policy documents, in the groups `EngineCase::prepare` compiles them in.
#[derive(Debug, Default)]
pub struct CaseView<'a> {
    /// The case's name.
    pub name: Cow<'a, str>,
    /// The caller.
    pub principal: Option<CasePrincipal<'a>>,
    /// `service:Action`.
    pub action: Cow<'a, str>,
    /// The resource ARN or `*`.
    pub resource: Cow<'a, str>,
    /// The account that owns the resource.
    pub account_id: Cow<'a, str>,
    /// The request's condition keys.
    pub context: RequestContext,
    /// `request.wildcardOnlyAction`.
    pub wildcard_only_action: Option<bool>,
    /// `identityPolicies`.
    pub identity: Vec<Doc<'a>>,
    /// `resourcePolicy`.
    pub resource_policy: Option<Doc<'a>>,
    /// `permissionBoundaries`.
    pub boundaries: Vec<Doc<'a>>,
    /// `sessionPolicy`.
    pub session: Option<Doc<'a>>,
    /// The documents of every SCP level, root first; `scp_levels` holds each level's count.
    pub scp_docs: Vec<Doc<'a>>,
    /// How many of `scp_docs` each SCP level has.
    pub scp_levels: Vec<usize>,
    /// The documents of every RCP level, root first.
    pub rcp_docs: Vec<Doc<'a>>,
    /// How many of `rcp_docs` each RCP level has.
    pub rcp_levels: Vec<usize>,
    /// `endpointPolicies`.
    pub endpoints: Vec<Doc<'a>>,
    /// `simulation.mode` is `Discovery`.
    pub discovery: bool,
    /// The case has an `expected` object.
    pub has_expected: bool,
    /// `expected.response`.
    pub response: Option<Cow<'a, str>>,
    /// `expected.blockedBy`, as written (absent and empty alike).
    pub blocked_by: Vec<Cow<'a, str>>,
}

impl CaseView<'_> {
    fn clear(&mut self) {
        self.name = Cow::Borrowed("");
        self.principal = None;
        self.action = Cow::Borrowed("");
        self.resource = Cow::Borrowed("");
        self.account_id = Cow::Borrowed("");
        self.context = RequestContext::new();
        self.wildcard_only_action = None;
        self.identity.clear();
        self.resource_policy = None;
        self.boundaries.clear();
        self.session = None;
        self.scp_docs.clear();
        self.scp_levels.clear();
        self.rcp_docs.clear();
        self.rcp_levels.clear();
        self.endpoints.clear();
        self.discovery = false;
        self.has_expected = false;
        self.response = None;
        self.blocked_by.clear();
    }
}

/// Reads a text that is one case object and nothing else but whitespace (an element of a JSON
/// array) into `view`.
pub fn read_whole_case<'a>(
    text: &'a str,
    view: &mut CaseView<'a>,
    known: &KnownDocuments,
) -> Result<(), Unsupported> {
    let mut c = Cursor { text, at: 0, known };
    c.whitespace();
    c.at = read_case(text, c.at, view, known)?;
    c.whitespace();
    if c.at == text.len() {
        Ok(())
    } else {
        Err(Unsupported)
    }
}

/// Reads the case object that starts at `start` in `text` into `view`, reusing its buffers;
/// returns where the object ends. What follows it is the caller's to check. Documents that are
/// among `known` are recognized without being read.
pub fn read_case<'a>(
    text: &'a str,
    start: usize,
    view: &mut CaseView<'a>,
    known: &KnownDocuments,
) -> Result<usize, Unsupported> {
    view.clear();
    let mut c = Cursor {
        text,
        at: start,
        known,
    };
    let seen = c.object(&CASE_FIELDS, |c, field| {
        match field {
            Some(Case::Name) => view.name = c.string()?,
            Some(Case::Description) => {
                if !c.null() {
                    c.string()?;
                }
            }
            Some(Case::Request) => read_request(c, view)?,
            Some(Case::IdentityPolicies) => c.documents(&mut view.identity)?,
            Some(Case::SessionPolicy) => {
                if !c.null() {
                    view.session = Some(c.document()?);
                }
            }
            Some(Case::PermissionBoundaries) => {
                if !c.null() {
                    c.documents(&mut view.boundaries)?;
                }
            }
            Some(Case::ServiceControlPolicies) => {
                if !c.null() {
                    c.levels(&mut view.scp_docs, &mut view.scp_levels)?;
                }
            }
            Some(Case::ResourceControlPolicies) => {
                if !c.null() {
                    c.levels(&mut view.rcp_docs, &mut view.rcp_levels)?;
                }
            }
            Some(Case::ResourcePolicy) => {
                if !c.null() {
                    view.resource_policy = Some(c.document()?);
                }
            }
            Some(Case::EndpointPolicies) => {
                if !c.null() {
                    c.documents(&mut view.endpoints)?;
                }
            }
            Some(Case::Simulation) => {
                if !c.null() {
                    c.object(&SIMULATION_FIELDS, |c, field| {
                        match field {
                            Some(()) => {
                                if !c.null() {
                                    view.discovery = c.string()? == "Discovery";
                                }
                            }
                            None => c.ignore()?,
                        }
                        Ok(())
                    })?;
                }
            }
            Some(Case::Expected) => {
                if !c.null() {
                    view.has_expected = true;
                    read_expected(c, view)?;
                }
            }
            // serde ignores fields it does not know, but only once they are valid JSON.
            None => c.ignore()?,
        }
        Ok(())
    })?;
    if !seen.has(Case::Name) || !seen.has(Case::Request) {
        return Err(Unsupported);
    }
    Ok(c.at)
}

/// The fields of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Name,
    Description,
    Request,
    IdentityPolicies,
    ResourcePolicy,
    PermissionBoundaries,
    ServiceControlPolicies,
    ResourceControlPolicies,
    SessionPolicy,
    EndpointPolicies,
    Simulation,
    Expected,
}

/// The fields of a case by name, in the order case files usually write them: the fields of an
/// object are looked for in the order of their table.
const CASE_FIELDS: [Field<Case>; 12] = [
    field("name", Case::Name),
    field("description", Case::Description),
    field("request", Case::Request),
    field("identityPolicies", Case::IdentityPolicies),
    field("resourcePolicy", Case::ResourcePolicy),
    field("permissionBoundaries", Case::PermissionBoundaries),
    field("serviceControlPolicies", Case::ServiceControlPolicies),
    field("resourceControlPolicies", Case::ResourceControlPolicies),
    field("sessionPolicy", Case::SessionPolicy),
    field("endpointPolicies", Case::EndpointPolicies),
    field("simulation", Case::Simulation),
    field("expected", Case::Expected),
];

/// The fields of a case's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    Action,
    Resource,
    Principal,
    Context,
    WildcardOnlyAction,
}

const REQUEST_FIELDS: [Field<Req>; 5] = [
    field("action", Req::Action),
    field("resource", Req::Resource),
    field("principal", Req::Principal),
    field("context", Req::Context),
    field("wildcardOnlyAction", Req::WildcardOnlyAction),
];

const RESOURCE_FIELDS: [Field<Two>; 2] = [
    field("resource", Two::First),
    field("accountId", Two::Second),
];

const EXPECTED_FIELDS: [Field<Two>; 2] = [
    field("response", Two::First),
    field("blockedBy", Two::Second),
];

const LEVEL_FIELDS: [Field<Two>; 2] = [
    field("orgIdentifier", Two::First),
    field("policies", Two::Second),
];

const SIMULATION_FIELDS: [Field<()>; 1] = [field("mode", ())];

/// The fields of a request's resource, and of an expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Two {
    First,
    Second,
}

fn read_request<'a>(c: &mut Cursor<'a, '_>, view: &mut CaseView<'a>) -> Result<(), Unsupported> {
    let seen = c.object(&REQUEST_FIELDS, |c, field| {
        match field {
            Some(Req::Principal) => view.principal = Some(read_principal(c)?),
            Some(Req::Action) => view.action = c.string()?,
            Some(Req::Resource) => {
                let parts = c.object(&RESOURCE_FIELDS, |c, field| {
                    match field {
                        Some(Two::First) => view.resource = c.string()?,
                        Some(Two::Second) => view.account_id = c.string()?,
                        None => c.ignore()?,
                    }
                    Ok(())
                })?;
                if !parts.has(Two::First) || !parts.has(Two::Second) {
                    return Err(Unsupported);
                }
            }
            Some(Req::Context) => {
                if !c.null() {
                    view.context = read_context(c)?;
                }
            }
            Some(Req::WildcardOnlyAction) => {
                if !c.null() {
                    view.wildcard_only_action = Some(c.boolean()?);
                }
            }
            None => c.ignore()?,
        }
        Ok(())
    })?;
    if !seen.has(Req::Principal) || !seen.has(Req::Action) || !seen.has(Req::Resource) {
        return Err(Unsupported);
    }
    Ok(())
}

/// A string principal, or an object read by serde and judged as `EngineCase::prepare` judges it.
fn read_principal<'a>(c: &mut Cursor<'a, '_>) -> Result<CasePrincipal<'a>, Unsupported> {
    match c.peek() {
        Some(b'"') => Ok(CasePrincipal::Text(c.string()?)),
        Some(b'{') => {
            let value: serde_json::Value = c.serde_value()?;
            if value.get("type").and_then(|t| t.as_str()) == Some("Anonymous") {
                Ok(CasePrincipal::Anonymous)
            } else {
                Err(Unsupported)
            }
        }
        _ => Err(Unsupported),
    }
}

/// Condition keys whose values are strings or arrays of strings, each key written once, are read
/// here; any other context is read by serde into its map, as `EngineCase` reads it (a later
/// duplicate key replaces an earlier one in its place, numbers keep serde's spelling).
fn read_context(c: &mut Cursor<'_, '_>) -> Result<RequestContext, Unsupported> {
    let start = c.at;
    let mut fast = || -> Result<RequestContext, Unsupported> {
        let mut context = RequestContext::new();
        let mut keys: Vec<Cow<'_, str>> = Vec::new();
        c.expect(b'{')?;
        c.whitespace();
        if c.eat(b'}') {
            return Ok(context);
        }
        loop {
            c.whitespace();
            let key = c.string()?;
            if keys.contains(&key) {
                return Err(Unsupported);
            }
            c.whitespace();
            c.expect(b':')?;
            c.whitespace();
            let value = match c.peek() {
                Some(b'"') => ContextValue::Single(c.string()?.into_owned()),
                Some(b'[') => {
                    let mut values = Vec::new();
                    c.list(|c| {
                        values.push(c.string()?.into_owned());
                        Ok(())
                    })?;
                    ContextValue::Multi(values)
                }
                _ => return Err(Unsupported),
            };
            context.insert(&key, value);
            keys.push(key);
            c.whitespace();
            if c.eat(b',') {
                continue;
            }
            c.expect(b'}')?;
            return Ok(context);
        }
    };
    if let Ok(context) = fast() {
        return Ok(context);
    }
    c.at = start;
    let map: serde_json::Map<String, serde_json::Value> = c.serde_value()?;
    let mut context = RequestContext::new();
    for (key, value) in &map {
        let value = match value {
            serde_json::Value::Array(items) => {
                ContextValue::Multi(items.iter().map(json_text).collect())
            }
            other => ContextValue::Single(json_text(other)),
        };
        context.insert(key, value);
    }
    Ok(context)
}

/// A context value as text, as `EngineCase::prepare` writes it.
fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn read_expected<'a>(c: &mut Cursor<'a, '_>, view: &mut CaseView<'a>) -> Result<(), Unsupported> {
    c.object(&EXPECTED_FIELDS, |c, field| {
        match field {
            Some(Two::First) => {
                if !c.null() {
                    view.response = Some(c.string()?);
                }
            }
            Some(Two::Second) => {
                if !c.null() {
                    c.list(|c| {
                        let code = c.string()?;
                        view.blocked_by.push(code);
                        Ok(())
                    })?;
                }
            }
            None => c.ignore()?,
        }
        Ok(())
    })
    .map(|_| ())
}

/// Which of an object's known fields were given (serde refuses a known field given twice).
struct Seen<'k, K> {
    fields: &'k [Field<K>],
    mask: u32,
}

impl<K: PartialEq> Seen<'_, K> {
    fn has(&self, key: K) -> bool {
        self.fields
            .iter()
            .position(|f| f.key == key)
            .is_some_and(|i| self.mask & (1 << i) != 0)
    }
}

/// A known field of an object: its name and what it stands for.
struct Field<K> {
    name: &'static str,
    key: K,
}

const fn field<K>(name: &'static str, key: K) -> Field<K> {
    Field { name, key }
}

impl<K> Field<K> {
    /// Whether `text` (what follows a key's opening quote) starts with this field's `name"`.
    /// The first byte tells most fields apart at once.
    fn starts(&self, text: &[u8]) -> bool {
        let name = self.name.as_bytes();
        text.first() == name.first()
            && text.get(..name.len()) == Some(name)
            && text.get(name.len()) == Some(&b'"')
    }
}

/// A position in a case's text. Every method either reads exactly one JSON token or value, the
/// way serde would, or fails.
struct Cursor<'a, 'k> {
    text: &'a str,
    at: usize,
    known: &'k KnownDocuments,
}

impl<'a> Cursor<'a, '_> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes().get(self.at..).unwrap_or_default()
    }

    /// JSON's whitespace, which is all serde skips.
    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), Unsupported> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(Unsupported)
        }
    }

    fn null(&mut self) -> bool {
        if self.rest().starts_with(b"null") {
            self.at += 4;
            true
        } else {
            false
        }
    }

    fn boolean(&mut self) -> Result<bool, Unsupported> {
        let rest = self.rest();
        if rest.starts_with(b"true") {
            self.at += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.at += 5;
            Ok(false)
        } else {
            Err(Unsupported)
        }
    }

    /// A string: borrowed when it has no escapes, decoded by serde when it has.
    fn string(&mut self) -> Result<Cow<'a, str>, Unsupported> {
        self.expect(b'"')?;
        let start = self.at;
        let bytes = self.bytes();
        let mut at = start;
        let mut escaped = false;
        loop {
            at = skip_plain(bytes, at, true);
            match bytes.get(at) {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    at += 2;
                }
                // serde refuses control characters inside strings.
                Some(0..0x20) | None => return Err(Unsupported),
                Some(_) => at += 1,
            }
        }
        self.at = at + 1;
        if escaped {
            let quoted = self.text.get(start - 1..self.at).ok_or(Unsupported)?;
            serde_json::from_str::<String>(quoted)
                .map(Cow::Owned)
                .map_err(|_| Unsupported)
        } else {
            self.text
                .get(start..at)
                .map(Cow::Borrowed)
                .ok_or(Unsupported)
        }
    }

    /// `{` then `key: value` pairs, then `}`. Each value is read by `field`, which is given the
    /// field when the key is one of `fields` and `None` otherwise. Known keys are recognized by
    /// comparing the text with each of them, which is cheaper than finding where a key ends;
    /// keys with escapes are left to serde, which compares them decoded.
    fn object<'k, K: Copy>(
        &mut self,
        fields: &'k [Field<K>],
        mut field: impl FnMut(&mut Self, Option<K>) -> Result<(), Unsupported>,
    ) -> Result<Seen<'k, K>, Unsupported> {
        let mut seen = Seen { fields, mask: 0 };
        self.whitespace();
        self.expect(b'{')?;
        self.whitespace();
        if self.eat(b'}') {
            return Ok(seen);
        }
        loop {
            self.whitespace();
            let rest = self.rest();
            if rest.first() != Some(&b'"') {
                return Err(Unsupported);
            }
            let text = rest.get(1..).unwrap_or_default();
            let known = fields.iter().position(|f| f.starts(text));
            let key = match known {
                Some(i) => {
                    if seen.mask & (1 << i) != 0 {
                        return Err(Unsupported);
                    }
                    seen.mask |= 1 << i;
                    let f = &fields[i];
                    self.at += f.name.len() + 2;
                    Some(f.key)
                }
                None => match self.string()? {
                    Cow::Borrowed(_) => None,
                    Cow::Owned(_) => return Err(Unsupported),
                },
            };
            self.whitespace();
            self.expect(b':')?;
            self.whitespace();
            field(self, key)?;
            self.whitespace();
            if self.eat(b',') {
                continue;
            }
            self.expect(b'}')?;
            return Ok(seen);
        }
    }

    /// `[` then values, each read by `item`, then `]`.
    fn list(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), Unsupported>,
    ) -> Result<(), Unsupported> {
        self.expect(b'[')?;
        self.whitespace();
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            self.whitespace();
            item(self)?;
            self.whitespace();
            if self.eat(b',') {
                continue;
            }
            return self.expect(b']');
        }
    }

    fn documents(&mut self, out: &mut Vec<Doc<'a>>) -> Result<(), Unsupported> {
        self.list(|c| {
            let doc = c.document()?;
            out.push(doc);
            Ok(())
        })
    }

    /// Organization levels: `[{"orgIdentifier": ..., "policies": [...]}, ...]`.
    fn levels(
        &mut self,
        docs: &mut Vec<Doc<'a>>,
        counts: &mut Vec<usize>,
    ) -> Result<(), Unsupported> {
        self.list(|c| {
            let before = docs.len();
            c.object(&LEVEL_FIELDS, |c, field| {
                match field {
                    Some(Two::First) => {
                        if !c.null() {
                            c.string()?;
                        }
                    }
                    Some(Two::Second) => c.documents(docs)?,
                    None => c.ignore()?,
                }
                Ok(())
            })?;
            counts.push(docs.len() - before);
            Ok(())
        })
    }

    /// A policy document (an object): one of the known documents when its text starts here,
    /// else the text up to the matching bracket outside strings. This delimits, it does not
    /// check: see the module's documentation.
    fn document(&mut self) -> Result<Doc<'a>, Unsupported> {
        let start = self.at;
        let (end, known) = match self.known.find(self.bytes(), start) {
            Some((end, id)) => (end, Some(id)),
            None => (object_end(self.bytes(), start).ok_or(Unsupported)?, None),
        };
        self.at = end;
        let text = self.text.get(start..end).ok_or(Unsupported)?;
        Ok(Doc { text, known })
    }

    /// A value of a field nobody reads, checked by serde as it checks ignored fields.
    fn ignore(&mut self) -> Result<(), Unsupported> {
        self.serde_value::<serde::de::IgnoredAny>().map(|_| ())
    }

    /// The value at the cursor, read by serde from its own text.
    fn serde_value<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, Unsupported> {
        let rest = self.text.get(self.at..).ok_or(Unsupported)?;
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        let value = match stream.next() {
            Some(Ok(value)) => value,
            _ => return Err(Unsupported),
        };
        let end = self.at + stream.byte_offset();
        if nesting(self.rest().get(..end - self.at).unwrap_or_default()) > MAX_DEPTH {
            return Err(Unsupported);
        }
        self.at = end;
        Ok(value)
    }
}

/// Policy documents already read and checked, by a hash of their text, so that a later copy is
/// recognized where it starts: the hash of the text up to each `}` is looked up, and a text
/// found is compared byte for byte. A JSON object ends at its last `}` and nowhere before, so a
/// checked document's text found at a position is the whole value there.
#[derive(Debug, Default)]
pub struct KnownDocuments {
    /// One bit per value of the low bits of a hash: most texts up to a `}` are no document, and
    /// this tells so without a table lookup.
    filter: Vec<u64>,
    by_hash: HashMap<u64, Vec<u32>, PassThrough>,
    texts: Vec<(Box<str>, u32)>,
    longest: usize,
}

impl KnownDocuments {
    /// Records a checked document's text with its id.
    pub fn insert(&mut self, text: &str, id: u32) {
        let Ok(index) = u32::try_from(self.texts.len()) else {
            return;
        };
        let bytes = text.as_bytes();
        if bytes.len() < 2 || bytes.last() != Some(&b'}') {
            return;
        }
        // The same sum as `find` makes: whole words, then the last one to eight bytes.
        let last = (bytes.len() - 1) / 8 * 8;
        let mut h = HASH_SEED;
        for chunk in bytes[..last].chunks_exact(8) {
            h = mix(h, word(chunk));
        }
        let key = finish(mix(h, word(&bytes[last..])), bytes.len());
        if self.filter.is_empty() {
            self.filter = vec![0; FILTER_WORDS];
        }
        let bit = key as usize % (FILTER_WORDS * 64);
        if let Some(w) = self.filter.get_mut(bit / 64) {
            *w |= 1 << (bit % 64);
        }
        self.by_hash.entry(key).or_default().push(index);
        self.texts.push((text.into(), id));
        self.longest = self.longest.max(bytes.len());
    }

    /// The end and id of a known document whose text starts at `start`.
    fn find(&self, bytes: &[u8], start: usize) -> Option<(usize, u32)> {
        if self.texts.is_empty() || bytes.get(start) != Some(&b'{') {
            return None;
        }
        let mut h = HASH_SEED;
        let mut at = start;
        while at - start < self.longest {
            let w = word(bytes.get(at..at + 8)?);
            let mut closes = zero_bytes(w ^ (ONES * u64::from(b'}')));
            while closes != 0 {
                let length = at - start + (closes.trailing_zeros() / 8) as usize + 1;
                let kept = length - (at - start);
                let partial = if kept == 8 {
                    w
                } else {
                    w & ((1 << (8 * kept)) - 1)
                };
                let key = finish(mix(h, partial), length);
                let bit = key as usize % (FILTER_WORDS * 64);
                let maybe = self
                    .filter
                    .get(bit / 64)
                    .is_some_and(|w| w & (1 << (bit % 64)) != 0);
                if maybe && let Some(found) = self.by_hash.get(&key) {
                    for &index in found {
                        if let Some((text, id)) = self.texts.get(index as usize)
                            && bytes.get(start..start + length) == Some(text.as_bytes())
                        {
                            return Some((start + length, *id));
                        }
                    }
                }
                closes &= closes - 1;
            }
            h = mix(h, w);
            at += 8;
        }
        None
    }
}

/// The filter's size: 64 Kib, so that it stays sparse for thousands of documents.
const FILTER_WORDS: usize = 1024;
const HASH_SEED: u64 = 0x243f_6a88_85a3_08d3;
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(23) ^ w).wrapping_mul(MULTIPLIER)
}

fn finish(h: u64, length: usize) -> u64 {
    let h = (h ^ length as u64).wrapping_mul(MULTIPLIER);
    h ^ (h >> 29)
}

/// The first eight bytes (fewer at the end, zero-padded) as a little-endian word.
fn word(chunk: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    match chunk.first_chunk::<8>() {
        Some(eight) => word = *eight,
        None => word[..chunk.len()].copy_from_slice(chunk),
    }
    u64::from_le_bytes(word)
}

/// The high bit of each byte of `x` that is zero, and no other bit.
fn zero_bytes(x: u64) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW) + LOW) | x | LOW)
}

/// The hashes of [`KnownDocuments`] are already mixed: the table uses them as they are.
#[derive(Debug, Default, Clone, Copy)]
struct PassThrough;

impl std::hash::BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

struct PassThroughHasher(u64);

impl std::hash::Hasher for PassThroughHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Where the object starting at `start` ends (just after its `}`), or `None` when it does not
/// start with `{`, does not end, or nests deeper than [`MAX_DEPTH`].
fn object_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start) != Some(&b'{') {
        return None;
    }
    let mut depth = 0usize;
    let mut at = start;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'"' => {
                at += 1;
                loop {
                    at = skip_plain(bytes, at, false);
                    match bytes.get(at)? {
                        b'"' => break,
                        b'\\' => at += 2,
                        _ => at += 1,
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
            }
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Skips, eight bytes at a time, string bytes that are neither `"` nor `\\` (nor, when
/// `controls` is set, a control character); returns where the first such byte is, or where
/// fewer than eight bytes are left, from where the caller goes on byte by byte.
fn skip_plain(bytes: &[u8], mut at: usize, controls: bool) -> usize {
    // The lowest set bit of this mask is in the first zero byte of `x`; bits above it may be
    // set by the borrow, which is harmless since only the lowest one is used.
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let mut special =
            zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')));
        if controls {
            special |= w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        }
        if special != 0 {
            return at + (special.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at
}

/// How deeply a JSON text nests arrays and objects.
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<CaseView<'_>, Unsupported> {
        let mut view = CaseView::default();
        read_whole_case(text, &mut view, &KnownDocuments::default()).map(|()| view)
    }

    const REQUEST: &str = r#""request": {"principal": "arn:aws:iam::111111111111:user/a", "action": "s3:GetObject", "resource": {"resource": "arn:aws:s3:::b/k", "accountId": "111111111111"}}"#;

    #[test]
    fn reads_the_usual_shape_borrowing_documents() {
        let text = format!(
            r#"{{"name": "n", {REQUEST}, "identityPolicies": [{{"Statement": [{{"Action": "s3:*", "Resource": "a\"}}]"}}]}}, {{}}], "serviceControlPolicies": [{{"orgIdentifier": "r", "policies": [{{}}]}}, {{"policies": []}}], "expected": {{"response": "Allowed", "blockedBy": ["scp"], "conditions": [1]}}}}"#
        );
        let view = read(&text).unwrap();
        assert_eq!(view.name, "n");
        fn texts<'a>(docs: &[Doc<'a>]) -> Vec<&'a str> {
            docs.iter().map(|d| d.text).collect()
        }
        assert_eq!(
            texts(&view.identity),
            [
                r#"{"Statement": [{"Action": "s3:*", "Resource": "a\"}]"}]}"#,
                "{}"
            ]
        );
        assert_eq!(texts(&view.scp_docs), ["{}"]);
        assert_eq!(view.scp_levels, [1, 0]);
        assert_eq!(view.response.as_deref(), Some("Allowed"));
        assert_eq!(view.blocked_by, ["scp"]);
        assert!(matches!(view.name, Cow::Borrowed(_)));
    }

    #[test]
    fn decodes_escapes_and_reads_other_contexts_as_serde_does() {
        let text = r#"{"name": "a \"quoted\" \u00e9", "request": {"principal": {"type": "Anonymous", "x": 1}, "action": "s3:GetObject", "resource": {"resource": "*", "accountId": "1"}, "context": {"k": 1.50, "K": "x", "k": [true, "y"]}}}"#;
        let view = read(text).unwrap();
        assert_eq!(view.name, "a \"quoted\" é");
        assert_eq!(view.principal, Some(CasePrincipal::Anonymous));
        // serde's map keeps the first place of `k` with the last value; `K` then replaces it.
        assert_eq!(
            view.context.get("k"),
            Some(&ContextValue::Single("x".into()))
        );
    }

    #[test]
    fn leaves_to_serde_what_it_cannot_vouch_for() {
        for text in [
            format!(r#"{{"name": "n", "name": "m", {REQUEST}}}"#),
            format!(r#"{{"na\u006de": "n", {REQUEST}}}"#),
            format!(r#"{{"name": "n", {REQUEST},}}"#),
            format!(r#"{{"name": "n", {REQUEST}}} x"#),
            format!(r#"{{"name": "n\t", {REQUEST}}}"#).replace("\\t", "\t"),
            format!(r#"{{"name": "n", {REQUEST}, "identityPolicies": null}}"#),
            format!(r#"{{"name": "n", {REQUEST}, "identityPolicies": ["{{}}"]}}"#),
            format!(r#"{{"name": "n", {REQUEST}, "unknown": [1, }}"#),
            r#"{"name": "n"}"#.to_string(),
            r#"["n", null, {}]"#.to_string(),
        ] {
            assert_eq!(read(&text).err(), Some(Unsupported), "{text}");
        }
    }

    #[test]
    fn known_documents_are_found_where_they_start_and_nowhere_else() {
        let mut known = KnownDocuments::default();
        let short = r#"{"a":{}}"#;
        let long = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#;
        known.insert(short, 7);
        known.insert(long, 9);
        let text = format!(r#"[{short},{long},{{"a":{{}},"b":1}}, {long}"#);
        let at = |needle: &str, from: usize| text[from..].find(needle).map(|i| i + from).unwrap();
        let first = at(short, 0);
        assert_eq!(
            known.find(text.as_bytes(), first),
            Some((first + short.len(), 7))
        );
        let second = at(long, 0);
        assert_eq!(
            known.find(text.as_bytes(), second),
            Some((second + long.len(), 9))
        );
        // The same start but a longer object is not the short document.
        let third = at(r#"{"a":{},"b""#, 0);
        assert_eq!(known.find(text.as_bytes(), third), None);
        // Too close to the end of the text to read whole words: left to the bracket scan.
        let last = text.rfind(long).unwrap();
        assert_eq!(known.find(text.as_bytes(), last), None);
    }

    #[test]
    fn documents_are_delimited_by_brackets_outside_strings() {
        let bytes = br#"{"a": "}\\", "b": [{}]} , 1"#;
        assert_eq!(object_end(bytes, 0), Some(23));
        assert_eq!(object_end(b"{\"a\": [", 0), None);
        assert_eq!(nesting(br#"[{"]": [1]}]"#), 3);
    }

    #[test]
    fn plain_string_bytes_are_skipped_a_word_at_a_time() {
        let text = b"abcdefghijklmnop\"";
        assert_eq!(skip_plain(text, 0, true), 16);
        assert_eq!(skip_plain(b"abcdefg\\hijklmnop", 0, false), 7);
        assert_eq!(skip_plain(b"abcdefgh\tijklmnop", 0, true), 8);
        assert_eq!(skip_plain(b"abcdefgh\tijklmnop", 0, false), 16);
        assert_eq!(skip_plain(b"ab\x01\"cdefghijk", 0, true), 2);
        assert_eq!(skip_plain(b"ab\x01\"cdefghijk", 0, false), 3);
        assert_eq!(skip_plain("ééééé\"".as_bytes(), 0, true), 8);
    }
}
