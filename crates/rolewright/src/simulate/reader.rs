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
//! Request objects are read in full the first time; the caller then records the text of each one
//! whose request it built, and later copies are recognized in the same way, without being read.

use std::borrow::Cow;

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

/// A policy document of a case: its text, and its id when it is one of the known documents.
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
    /// The text of the request object.
    pub request_text: &'a str,
    /// The id of the request, when its text is one of the known requests; the request's fields
    /// below are then not read.
    pub known_request: Option<u32>,
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
        self.request_text = "";
        self.known_request = None;
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
    known: &Known,
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
/// returns where the object ends. What follows it is the caller's to check. Documents and
/// requests that are among `known` are recognized without being read.
pub fn read_case<'a>(
    text: &'a str,
    start: usize,
    view: &mut CaseView<'a>,
    known: &Known,
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
            Some(Case::Request) => {
                let start = c.at;
                match c.known.requests.find(c.bytes(), start) {
                    Some((end, id)) => {
                        c.at = end;
                        view.known_request = Some(id);
                    }
                    None => read_request(c, view)?,
                }
                view.request_text = c.text.get(start..c.at).ok_or(Unsupported)?;
            }
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

const PRINCIPAL_FIELDS: [Field<()>; 1] = [field("type", ())];

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

/// A string principal, or an object whose `type` is `Anonymous`, as `EngineCase::prepare` judges
/// it (other fields are only checked).
fn read_principal<'a>(c: &mut Cursor<'a, '_>) -> Result<CasePrincipal<'a>, Unsupported> {
    match c.peek() {
        Some(b'"') => Ok(CasePrincipal::Text(c.string()?)),
        Some(b'{') => {
            let mut anonymous = false;
            c.object(&PRINCIPAL_FIELDS, |c, field| {
                match field {
                    Some(()) => anonymous = c.string()? == "Anonymous",
                    None => c.ignore()?,
                }
                Ok(())
            })?;
            if anonymous {
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
    /// The name and its closing quote as three little-endian words, zero-padded, and which of
    /// their bytes count: a key is recognized by three comparisons of words.
    quoted: [u64; 3],
    mask: [u64; 3],
}

/// A field named `name` (at most 23 bytes: a longer one does not compile).
const fn field<K>(name: &'static str, key: K) -> Field<K> {
    let bytes = name.as_bytes();
    let (mut quoted, mut mask) = ([0u64; 3], [0u64; 3]);
    let mut i = 0;
    while i <= bytes.len() {
        let b = if i < bytes.len() { bytes[i] } else { b'"' };
        quoted[i / 8] |= (b as u64) << (8 * (i % 8));
        mask[i / 8] |= 0xff << (8 * (i % 8));
        i += 1;
    }
    Field {
        name,
        key,
        quoted,
        mask,
    }
}

impl<K> Field<K> {
    /// Whether `text` (what follows a key's opening quote, as [`key_words`]) starts with this
    /// field's `name"`.
    fn starts(&self, text: &[u64; 3]) -> bool {
        text[0] & self.mask[0] == self.quoted[0]
            && text[1] & self.mask[1] == self.quoted[1]
            && text[2] & self.mask[2] == self.quoted[2]
    }
}

/// The first 24 bytes of `text` (zero-padded) as three little-endian words.
fn key_words(text: &[u8]) -> [u64; 3] {
    let at = |i: usize| word(text.get(i..).unwrap_or_default());
    [at(0), at(8), at(16)]
}

/// A position in a case's text. Every method either reads exactly one JSON token or value, the
/// way serde would, or fails.
struct Cursor<'a, 'k> {
    text: &'a str,
    at: usize,
    known: &'k Known,
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
            let text = key_words(rest.get(1..).unwrap_or_default());
            let known = fields.iter().position(|f| f.starts(&text));
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
        let (end, known) = match self.known.documents.find(self.bytes(), start) {
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

/// What the reader recognizes where it starts instead of reading it: policy documents the caller
/// has checked, and request objects whose request it has built.
#[derive(Debug, Default)]
pub struct Known {
    /// Policy documents, with the ids of their compiled policies.
    pub documents: KnownObjects,
    /// Request objects, with the ids of their requests.
    pub requests: KnownObjects,
}

/// JSON objects already read and checked, so that a later copy is recognized where it starts.
/// They are the leaves of a crit-bit tree: each branch tests the first bit at which the texts
/// on its two sides differ, so a walk that reads a few bytes of the input reaches the only known
/// text that can start there, which is then compared byte for byte. A JSON object ends at its
/// last `}` and nowhere before, so no checked object is the beginning of another (as such a tree
/// needs), and a checked object's text found at a position is the whole value there.
#[derive(Debug, Default)]
pub struct KnownObjects {
    /// The texts one after the other, kept together so that comparisons read nearby memory.
    bytes: Vec<u8>,
    /// Where each text is in `bytes`, and its id.
    texts: Vec<(std::ops::Range<usize>, u32)>,
    branches: Vec<Branch>,
    root: Option<Link>,
}

/// Where a walk goes next: a branch, or (with [`Link::TEXT`] set) an index into `texts`. One
/// word, so that a walk is a short chain of loads without a `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link(u32);

impl Link {
    const TEXT: u32 = 1 << 31;

    fn text(index: u32) -> Option<Link> {
        (index < Link::TEXT).then_some(Link(index | Link::TEXT))
    }

    fn branch(index: u32) -> Option<Link> {
        (index < Link::TEXT).then_some(Link(index))
    }

    fn to_text(self) -> Option<usize> {
        (self.0 & Link::TEXT != 0).then_some((self.0 & !Link::TEXT) as usize)
    }

    fn to_branch(self) -> Option<usize> {
        (self.0 & Link::TEXT == 0).then_some(self.0 as usize)
    }
}

/// Texts whose byte `at` has the bit `mask` go to `next[1]`, the others to `next[0]`.
#[derive(Debug)]
struct Branch {
    at: u32,
    mask: u8,
    next: [Link; 2],
}

impl Branch {
    fn side(&self, text: &[u8]) -> usize {
        let byte = text.get(self.at as usize).copied().unwrap_or(0);
        usize::from(byte & self.mask != 0)
    }

    /// Whether this branch tests a bit before `(at, mask)` in the order walks test them.
    fn is_before(&self, at: u32, mask: u8) -> bool {
        self.at < at || (self.at == at && self.mask > mask)
    }
}

impl KnownObjects {
    /// Records a checked object's text with its id.
    pub fn insert(&mut self, text: &str, id: u32) {
        let text = text.as_bytes();
        let Some(leaf) = u32::try_from(self.texts.len()).ok().and_then(Link::text) else {
            return;
        };
        if text.len() < 2 || text.last() != Some(&b'}') {
            return;
        }
        let Some(closest) = self.closest(text) else {
            self.push(text, id);
            self.root = Some(leaf);
            return;
        };
        // The first bit at which the new text and the closest known one differ; a text equal to
        // a known one, or the beginning of one, is not recorded.
        let Some((at, mask)) = self.text(closest).and_then(|(known, _)| {
            let at = text.iter().zip(known.iter()).position(|(a, b)| a != b)?;
            let diff = text.get(at)? ^ known.get(at)?;
            Some((u32::try_from(at).ok()?, 0x80u8 >> diff.leading_zeros()))
        }) else {
            return;
        };
        let Some(new) = u32::try_from(self.branches.len())
            .ok()
            .and_then(Link::branch)
        else {
            return;
        };
        // The new branch goes where the walk for the new text meets a later bit, or a text.
        let mut parent: Option<(usize, usize)> = None;
        let Some(mut link) = self.root else {
            return;
        };
        while let Some(b) = link.to_branch() {
            let Some(node) = self.branches.get(b).filter(|n| n.is_before(at, mask)) else {
                break;
            };
            let side = node.side(text);
            parent = Some((b, side));
            link = node.next[side];
        }
        let mut next = [link, leaf];
        if text.get(at as usize).is_some_and(|&b| b & mask == 0) {
            next.swap(0, 1);
        }
        self.push(text, id);
        self.branches.push(Branch { at, mask, next });
        match parent {
            Some((b, side)) => {
                if let Some(node) = self.branches.get_mut(b) {
                    node.next[side] = new;
                }
            }
            None => self.root = Some(new),
        }
    }

    /// The end and id of a known object whose text starts at `start`.
    fn find(&self, bytes: &[u8], start: usize) -> Option<(usize, u32)> {
        let rest = bytes.get(start..)?;
        if rest.first() != Some(&b'{') {
            return None;
        }
        let (known, id) = self.text(self.closest(rest)?)?;
        rest.starts_with(known).then_some((start + known.len(), id))
    }

    fn push(&mut self, text: &[u8], id: u32) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(text);
        self.texts.push((start..self.bytes.len(), id));
    }

    fn text(&self, index: usize) -> Option<(&[u8], u32)> {
        let (range, id) = self.texts.get(index)?;
        Some((self.bytes.get(range.clone())?, *id))
    }

    /// The index of the text that a walk for `text` reaches.
    fn closest(&self, text: &[u8]) -> Option<usize> {
        let mut link = self.root?;
        while let Some(node) = link.to_branch().and_then(|b| self.branches.get(b)) {
            link = node.next[node.side(text)];
        }
        link.to_text()
    }
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
        read_whole_case(text, &mut view, &Known::default()).map(|()| view)
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
        let mut known = KnownObjects::default();
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
        // At the very end of the text, and where no document starts.
        let last = text.rfind(long).unwrap();
        assert_eq!(
            known.find(text.as_bytes(), last),
            Some((last + long.len(), 9))
        );
        assert_eq!(known.find(text.as_bytes(), first + 1), None);
        assert_eq!(known.find(b"{\"a\":", 0), None);
    }

    #[test]
    fn known_objects_are_found_as_a_search_of_every_text_finds_them() {
        // Objects that share long beginnings, as policies do, from a small xorshift generator.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut word = |n: u64| -> String {
            (0..n % 9)
                .map(|_| ['a', 'b', 'c', '}', ' '][(next() % 5) as usize])
                .collect()
        };
        let mut texts: Vec<String> = Vec::new();
        for i in 0..400u64 {
            let text = match i % 3 {
                0 => format!(r#"{{"k":"{}"}}"#, word(i)),
                1 => format!(r#"{{"k":"{}","l":{{"m":"{}"}}}}"#, word(i), word(i + 1)),
                _ => format!(r#"{{"k{}":[]}}"#, word(i)),
            };
            texts.push(text);
        }
        let mut known = KnownObjects::default();
        let mut first: Vec<(&str, u32)> = Vec::new();
        for (id, text) in texts.iter().enumerate().step_by(2) {
            let id = id as u32;
            known.insert(text, id);
            if !first.iter().any(|(t, _)| t == text) {
                first.push((text, id));
            }
        }
        for text in &texts {
            for input in [
                format!("{text},1"),
                text.to_string(),
                text[..text.len() - 1].to_string(),
                format!("{}x", &text[..text.len() / 2]),
            ] {
                let want = first
                    .iter()
                    .find(|(t, _)| input.starts_with(t))
                    .map(|(t, id)| (t.len(), *id));
                assert_eq!(known.find(input.as_bytes(), 0), want, "{input}");
            }
        }
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
