//! A YAML reader for the part of YAML that CloudFormation templates use, keeping the line and
//! column of every value and turning the short forms (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) into
//! the long forms they stand for.
//!
//! General YAML libraries drop positions once a document is loaded, and every template error
//! must say where it is, hence this reader. It reads one document of block and flow
//! collections, plain, quoted and block scalars (`|`, `>`, with chomping and indentation
//! indicators), comments, anchors and aliases, and the tags CloudFormation defines. Scalars are
//! resolved as CloudFormation's YAML 1.1 reader resolves them: `yes`, `No`, `on` and `OFF` are
//! booleans and `012` is octal, as CloudFormation users find out (aws-amplify/amplify-cli#6224:
//! `AllowedValues: [Yes, No]`). Not read: complex keys (`? `), merge keys (`<<`), several
//! documents, and tags CloudFormation does not know.
//!
//! `\r\n` line ends are read as `\n`; byte offsets then count the text without the `\r`.

use std::collections::HashMap;

use crate::node::{Location, Node, NodeValue};
use crate::path::JsonPath;

/// Why a text is not a YAML document this reader accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// What is wrong, lowercase.
    pub message: String,
    /// Where.
    pub location: Location,
}

/// Deepest nesting of collections accepted.
const MAX_DEPTH: usize = 128;

/// The CloudFormation function tags: `!Name` stands for `{"Fn::Name": ...}`, except `!Ref` and
/// `!Condition`, which stand for `{"Ref": ...}` and `{"Condition": ...}`.
const FUNCTION_TAGS: &[&str] = &[
    "And",
    "Base64",
    "Cidr",
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "Equals",
    "FindInMap",
    "GetAZs",
    "GetAtt",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "RefAll",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
    "ValueOf",
    "ValueOfAll",
];

/// Reads `text` as one YAML document; an error comes with the JSON path of the value being
/// read when it was found.
pub(crate) fn parse(text: &str) -> Result<Node, (YamlError, JsonPath)> {
    let normalized;
    let text = if text.contains('\r') {
        normalized = text.replace("\r\n", "\n");
        normalized.as_str()
    } else {
        text
    };
    let mut parser = Parser {
        src: text,
        pos: 0,
        line: 1,
        line_start: 0,
        anchors: HashMap::new(),
        depth: 0,
        path: JsonPath::root(),
    };
    if parser.src.starts_with('\u{feff}') {
        parser.pos = '\u{feff}'.len_utf8();
        parser.line_start = parser.pos;
    }
    // A failed read leaves `path` where it failed: paths are restored only on success.
    parser.document().map_err(|e| (e, parser.path.clone()))
}

/// Where a block value sits, which decides what may follow on the same line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// The whole document.
    Document,
    /// After `key:`.
    MapValue,
    /// After `- `.
    SeqEntry,
}

/// A node's tag and anchor.
#[derive(Debug, Default)]
struct Properties {
    tag: Option<(String, Location)>,
    anchor: Option<String>,
}

impl Properties {
    fn is_empty(&self) -> bool {
        self.tag.is_none() && self.anchor.is_none()
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    line_start: usize,
    anchors: HashMap<String, Node>,
    depth: usize,
    /// The JSON path of the value being read.
    path: JsonPath,
}

#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    line: u32,
    line_start: usize,
}

fn is_blank(c: Option<char>) -> bool {
    matches!(c, None | Some(' ' | '\t' | '\n'))
}

fn is_flow_indicator(c: char) -> bool {
    matches!(c, ',' | '[' | ']' | '{' | '}')
}

impl<'a> Parser<'a> {
    // -----------------------------------------------------------------------------------------
    // Cursor.

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_nth(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.line_start = self.pos;
        }
        Some(c)
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }

    fn reset(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.line = mark.line;
        self.line_start = mark.line_start;
    }

    /// The 0-based column of the cursor, in characters.
    fn column(&self) -> usize {
        self.src[self.line_start..self.pos].chars().count()
    }

    fn location(&self) -> Location {
        Location {
            line: self.line,
            column: u32::try_from(self.column() + 1).unwrap_or(u32::MAX),
            offset: self.pos,
        }
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, YamlError> {
        Err(YamlError {
            message: message.into(),
            location: self.location(),
        })
    }

    fn eof(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some('\n'))
    }

    fn skip_inline_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// Skips a comment that starts at the cursor.
    fn skip_comment(&mut self) {
        if self.peek() == Some('#') {
            while !self.at_line_end() {
                self.bump();
            }
        }
    }

    /// Whether only spaces come before the cursor on its line.
    fn at_indentation(&self) -> bool {
        self.src[self.line_start..self.pos]
            .chars()
            .all(|c| c == ' ')
    }

    /// From the end of a line (or a blank one), moves to the first character of the next line
    /// with content, past blank and comment lines. Tabs in the indentation are refused.
    fn skip_to_content_line(&mut self) -> Result<(), YamlError> {
        loop {
            while self.peek() == Some(' ') {
                self.bump();
            }
            match self.peek() {
                Some('\t') => {
                    let only_spaces = self.at_indentation();
                    self.skip_inline_space();
                    if only_spaces && !matches!(self.peek(), None | Some('\n' | '#')) {
                        return self.error("tabs are not allowed in indentation");
                    }
                }
                Some('#') => self.skip_comment(),
                Some('\n') => {
                    self.bump();
                }
                _ => return Ok(()),
            }
        }
    }

    /// After a value: the rest of its line must be blank or a comment; moves to the next line
    /// with content. A value that already ended at the start of the next content line (a
    /// block collection, a block scalar, an empty value) is left where it is.
    fn finish_line(&mut self) -> Result<(), YamlError> {
        if self.eof() || self.at_indentation() {
            return Ok(());
        }
        self.skip_inline_space();
        if self.peek() == Some('#') {
            if !matches!(self.src[..self.pos].chars().last(), Some(' ' | '\t')) {
                return self.error("a comment must be separated from the value by a space");
            }
            self.skip_comment();
        }
        if !self.at_line_end() {
            return match self.peek() {
                Some(':') => self.error("mapping values are not allowed in this context"),
                _ => self.error("unexpected characters after the value"),
            };
        }
        self.skip_to_content_line()
    }

    /// Whether the cursor is at `---` or `...` in column 0.
    fn at_document_marker(&self) -> bool {
        self.pos == self.line_start
            && (self.src[self.pos..].starts_with("---") || self.src[self.pos..].starts_with("..."))
            && is_blank(self.src[self.pos + 3..].chars().next())
    }

    /// Whether the cursor is at a block sequence entry (`-` then a blank).
    fn at_sequence_entry(&self) -> bool {
        self.peek() == Some('-') && is_blank(self.peek_nth(1))
    }

    fn enter(&mut self) -> Result<(), YamlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // -----------------------------------------------------------------------------------------
    // Document.

    fn document(&mut self) -> Result<Node, YamlError> {
        let start = self.location();
        // Directives and comments before the document.
        loop {
            self.skip_to_content_line()?;
            if self.pos == self.line_start && self.peek() == Some('%') {
                while !self.at_line_end() {
                    self.bump();
                }
                continue;
            }
            break;
        }
        if self.src[self.pos..].starts_with("---")
            && is_blank(self.src[self.pos + 3..].chars().next())
        {
            for _ in 0..3 {
                self.bump();
            }
        }
        let node = if self.eof() {
            Node::new(NodeValue::Null, start)
        } else {
            self.block_value(-1, Context::Document)?
        };
        self.finish_line()?;
        if self.src[self.pos..].starts_with("...") && self.at_document_marker() {
            for _ in 0..3 {
                self.bump();
            }
            self.finish_line()?;
        }
        if self.at_document_marker() && self.src[self.pos..].starts_with("---") {
            return self.error("a template holds one YAML document; found a second `---`");
        }
        if !self.eof() {
            return self.error("unexpected content: check the indentation");
        }
        Ok(node)
    }

    // -----------------------------------------------------------------------------------------
    // Block structure.

    /// A value after `key:`, after `- `, or the document. `min` is the indentation of the
    /// parent (the key or the dash); a value on the next lines must be indented more, except a
    /// block sequence under a key, which may sit at the key's indentation.
    fn block_value(&mut self, min: isize, context: Context) -> Result<Node, YamlError> {
        let start = self.location();
        let mut props = Properties::default();
        loop {
            self.skip_inline_space();
            self.skip_comment();
            if self.at_line_end() {
                self.skip_to_content_line()?;
                if self.eof() || self.at_document_marker() {
                    return self.apply(props, self.empty(start));
                }
                let column = self.column() as isize;
                let nested = column > min
                    || (column == min && context == Context::MapValue && self.at_sequence_entry());
                if !nested {
                    return self.apply(props, self.empty(start));
                }
                if props.is_empty() && matches!(self.peek(), Some('!' | '&')) {
                    props = self.properties()?;
                    continue;
                }
                let node = self.block_node(column as usize, min)?;
                return self.apply(props, node);
            }
            if props.is_empty() && matches!(self.peek(), Some('!' | '&')) {
                props = self.properties()?;
                continue;
            }
            let node = match context {
                Context::MapValue => self.inline_node(min)?,
                Context::SeqEntry | Context::Document => {
                    let column = self.column();
                    self.block_node(column, min)?
                }
            };
            return self.apply(props, node);
        }
    }

    /// A node that starts at the cursor, in column `indent`: a block sequence, a block mapping
    /// or a single (scalar or flow) value.
    fn block_node(&mut self, indent: usize, min: isize) -> Result<Node, YamlError> {
        if self.at_sequence_entry() {
            return self.block_sequence(indent);
        }
        if self.peek() == Some('?') && is_blank(self.peek_nth(1)) {
            return self.error("complex mapping keys (`? `) are not supported in templates");
        }
        if self.looks_like_key() {
            return self.block_mapping(indent);
        }
        self.inline_node(min)
    }

    fn block_sequence(&mut self, indent: usize) -> Result<Node, YamlError> {
        self.enter()?;
        let start = self.location();
        let mut items = Vec::new();
        loop {
            self.bump(); // the dash
            let inner = self.path.index(items.len());
            let saved = std::mem::replace(&mut self.path, inner);
            let item = self.block_value(indent as isize, Context::SeqEntry)?;
            self.path = saved;
            items.push(item);
            self.finish_line()?;
            if self.eof() || self.at_document_marker() {
                break;
            }
            let column = self.column();
            if column < indent {
                break;
            }
            if column > indent {
                return self.error("bad indentation of a sequence entry");
            }
            if !self.at_sequence_entry() {
                break;
            }
        }
        self.leave();
        Ok(Node::new(NodeValue::Array(items), start))
    }

    fn block_mapping(&mut self, indent: usize) -> Result<Node, YamlError> {
        self.enter()?;
        let start = self.location();
        let mut entries: Vec<(String, Location, Node)> = Vec::new();
        loop {
            let key_location = self.location();
            let key = self.mapping_key()?;
            if entries.iter().any(|(k, _, _)| *k == key) {
                return Err(YamlError {
                    message: format!("duplicate key `{key}`"),
                    location: key_location,
                });
            }
            let inner = self.path.key(&key);
            let saved = std::mem::replace(&mut self.path, inner);
            let value = self.block_value(indent as isize, Context::MapValue)?;
            self.path = saved;
            entries.push((key, key_location, value));
            self.finish_line()?;
            if self.eof() || self.at_document_marker() {
                break;
            }
            let column = self.column();
            if column < indent {
                break;
            }
            if column > indent {
                return self.error("bad indentation of a mapping entry");
            }
            if self.at_sequence_entry() {
                return self.error(
                    "a sequence entry cannot follow mapping entries at the same indentation",
                );
            }
            if !self.looks_like_key() {
                return self.error("expected a mapping key (`key: value`)");
            }
        }
        self.leave();
        Ok(Node::new(NodeValue::Object(entries), start))
    }

    /// Whether the current line, from the cursor, starts with an implicit key: a plain or
    /// quoted scalar followed by `:` and a blank.
    fn looks_like_key(&self) -> bool {
        let rest = &self.src[self.pos..];
        let line = rest.split('\n').next().unwrap_or("");
        let mut chars = line.char_indices().peekable();
        match chars.peek().map(|(_, c)| *c) {
            Some(q @ ('"' | '\'')) => {
                chars.next();
                let mut escaped = false;
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    if q == '"' {
                        if escaped {
                            escaped = false;
                        } else if c == '\\' {
                            escaped = true;
                        } else if c == '"' {
                            end = Some(i + 1);
                            break;
                        }
                    } else if c == '\'' {
                        if chars.peek().map(|(_, c)| *c) == Some('\'') {
                            chars.next();
                        } else {
                            end = Some(i + 1);
                            break;
                        }
                    }
                }
                let Some(end) = end else { return false };
                let after = line[end..].trim_start_matches([' ', '\t']);
                after.starts_with(':') && is_blank(after[1..].chars().next())
            }
            Some(c) if self.plain_can_start(c, self.peek_nth(1), false) => {
                let mut previous_blank = false;
                let iter = line.char_indices().peekable();
                for (i, c) in iter {
                    if c == '#' && previous_blank {
                        return false;
                    }
                    if c == ':' && is_blank(line[i + 1..].chars().next()) {
                        return true;
                    }
                    previous_blank = c == ' ' || c == '\t';
                }
                false
            }
            _ => false,
        }
    }

    /// A key and its `:`.
    fn mapping_key(&mut self) -> Result<String, YamlError> {
        let key = match self.peek() {
            Some('"') => self.double_quoted(false)?,
            Some('\'') => self.single_quoted(false)?,
            _ => {
                let start = self.pos;
                loop {
                    match self.peek() {
                        Some(':') if is_blank(self.peek_nth(1)) => break,
                        None | Some('\n') => return self.error("expected `:` after a mapping key"),
                        _ => {
                            self.bump();
                        }
                    }
                }
                self.src[start..self.pos].trim_end().to_string()
            }
        };
        self.skip_inline_space();
        if self.peek() != Some(':') {
            return self.error("expected `:` after a mapping key");
        }
        self.bump();
        Ok(key)
    }

    /// A scalar or flow collection in block context. Continuation lines of a multi-line scalar
    /// must be indented more than `min`.
    fn inline_node(&mut self, min: isize) -> Result<Node, YamlError> {
        let start = self.location();
        match self.peek() {
            Some('[') => self.flow_sequence(),
            Some('{') => self.flow_mapping(),
            Some('"') => Ok(Node::new(
                NodeValue::String(self.double_quoted(true)?),
                start,
            )),
            Some('\'') => Ok(Node::new(
                NodeValue::String(self.single_quoted(true)?),
                start,
            )),
            Some('|' | '>') => Ok(Node::new(NodeValue::String(self.block_scalar(min)?), start)),
            Some('*') => self.alias(),
            Some(c) if self.plain_can_start(c, self.peek_nth(1), false) => {
                let text = self.plain(min, false)?;
                Ok(Node::new(resolve_plain(&text), start))
            }
            Some(c) => self.error(format!("`{c}` cannot start a value")),
            None => Ok(self.empty(start)),
        }
    }

    fn empty(&self, location: Location) -> Node {
        Node::new(NodeValue::Null, location)
    }

    // -----------------------------------------------------------------------------------------
    // Properties: tags and anchors.

    fn properties(&mut self) -> Result<Properties, YamlError> {
        let mut props = Properties::default();
        loop {
            match self.peek() {
                Some('!') if props.tag.is_none() => {
                    let location = self.location();
                    let start = self.pos;
                    if self.peek_nth(1) == Some('<') {
                        return self
                            .error("verbatim tags (`!<...>`) are not supported in templates");
                    }
                    while !is_blank(self.peek())
                        && !matches!(self.peek(), Some(',' | '[' | ']' | '{' | '}'))
                    {
                        self.bump();
                    }
                    props.tag = Some((self.src[start..self.pos].to_string(), location));
                }
                Some('&') if props.anchor.is_none() => {
                    self.bump();
                    let start = self.pos;
                    while !is_blank(self.peek())
                        && !matches!(self.peek(), Some(',' | '[' | ']' | '{' | '}'))
                    {
                        self.bump();
                    }
                    if self.pos == start {
                        return self.error("an anchor needs a name");
                    }
                    props.anchor = Some(self.src[start..self.pos].to_string());
                }
                _ => return Ok(props),
            }
            self.skip_inline_space();
        }
    }

    fn alias(&mut self) -> Result<Node, YamlError> {
        let location = self.location();
        self.bump();
        let start = self.pos;
        while !is_blank(self.peek()) && !matches!(self.peek(), Some(',' | '[' | ']' | '{' | '}')) {
            self.bump();
        }
        let name = &self.src[start..self.pos];
        match self.anchors.get(name) {
            Some(node) => {
                let mut node = node.clone();
                node.location = location;
                Ok(node)
            }
            None => Err(YamlError {
                message: format!("unknown alias `*{name}`"),
                location,
            }),
        }
    }

    /// Applies a tag and records an anchor.
    fn apply(&mut self, props: Properties, node: Node) -> Result<Node, YamlError> {
        let node = match props.tag {
            None => node,
            Some((tag, location)) => tagged(&tag, location, node)?,
        };
        if let Some(anchor) = props.anchor {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    // -----------------------------------------------------------------------------------------
    // Flow collections.

    /// Skips blanks, line ends and comments inside a flow collection.
    fn skip_flow_space(&mut self) -> Result<(), YamlError> {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\n') => {
                    self.bump();
                }
                Some('#') => {
                    let after_blank = self.pos == self.line_start
                        || matches!(self.src[..self.pos].chars().last(), Some(' ' | '\t'));
                    if !after_blank {
                        return Ok(());
                    }
                    self.skip_comment();
                }
                None => return self.error("unterminated flow collection"),
                _ => return Ok(()),
            }
        }
    }

    fn flow_sequence(&mut self) -> Result<Node, YamlError> {
        self.enter()?;
        let start = self.location();
        self.bump(); // [
        let mut items = Vec::new();
        loop {
            self.skip_flow_space()?;
            if self.peek() == Some(']') {
                self.bump();
                break;
            }
            let item_start = self.location();
            let inner = self.path.index(items.len());
            let saved = std::mem::replace(&mut self.path, inner);
            let mut item = self.flow_node()?;
            self.skip_flow_space()?;
            // A single pair inside a sequence: `[key: value]`.
            if self.peek() == Some(':') {
                self.bump();
                self.skip_flow_space()?;
                let value = if matches!(self.peek(), Some(',' | ']')) {
                    self.empty(self.location())
                } else {
                    self.flow_node()?
                };
                let key = match item.scalar_text() {
                    Some(k) => k,
                    None => return self.error("a flow mapping key must be a scalar"),
                };
                item = Node::new(
                    NodeValue::Object(vec![(key, item.location, value)]),
                    item_start,
                );
                self.skip_flow_space()?;
            }
            self.path = saved;
            items.push(item);
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {
                    self.bump();
                    break;
                }
                _ => return self.error("expected `,` or `]` in a flow sequence"),
            }
        }
        self.leave();
        Ok(Node::new(NodeValue::Array(items), start))
    }

    fn flow_mapping(&mut self) -> Result<Node, YamlError> {
        self.enter()?;
        let start = self.location();
        self.bump(); // {
        let mut entries: Vec<(String, Location, Node)> = Vec::new();
        loop {
            self.skip_flow_space()?;
            if self.peek() == Some('}') {
                self.bump();
                break;
            }
            let key_location = self.location();
            let key = match self.peek() {
                Some('"') => self.double_quoted(true)?,
                Some('\'') => self.single_quoted(true)?,
                Some(c) if self.plain_can_start(c, self.peek_nth(1), true) => {
                    self.plain(-1, true)?
                }
                _ => return self.error("expected a key in a flow mapping"),
            };
            if entries.iter().any(|(k, _, _)| *k == key) {
                return Err(YamlError {
                    message: format!("duplicate key `{key}`"),
                    location: key_location,
                });
            }
            self.skip_flow_space()?;
            let inner = self.path.key(&key);
            let saved = std::mem::replace(&mut self.path, inner);
            let value = if self.peek() == Some(':') {
                self.bump();
                self.skip_flow_space()?;
                if matches!(self.peek(), Some(',' | '}')) {
                    self.empty(self.location())
                } else {
                    self.flow_node()?
                }
            } else {
                self.empty(self.location())
            };
            self.path = saved;
            entries.push((key, key_location, value));
            self.skip_flow_space()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    break;
                }
                _ => return self.error("expected `,` or `}` in a flow mapping"),
            }
        }
        self.leave();
        Ok(Node::new(NodeValue::Object(entries), start))
    }

    /// A value inside a flow collection.
    fn flow_node(&mut self) -> Result<Node, YamlError> {
        let start = self.location();
        let props = self.properties()?;
        if !props.is_empty() {
            self.skip_flow_space()?;
        }
        let node = match self.peek() {
            Some('[') => self.flow_sequence()?,
            Some('{') => self.flow_mapping()?,
            Some('"') => Node::new(NodeValue::String(self.double_quoted(true)?), start),
            Some('\'') => Node::new(NodeValue::String(self.single_quoted(true)?), start),
            Some('*') => self.alias()?,
            Some(',' | ']' | '}') => self.empty(start),
            Some(':')
                if is_blank(self.peek_nth(1))
                    || matches!(self.peek_nth(1), Some(',' | ']' | '}')) =>
            {
                self.empty(start)
            }
            Some(c) if self.plain_can_start(c, self.peek_nth(1), true) => {
                let location = self.location();
                let text = self.plain(-1, true)?;
                Node::new(resolve_plain(&text), location)
            }
            Some(c) => return self.error(format!("`{c}` cannot start a value")),
            None => return self.error("unterminated flow collection"),
        };
        self.apply(props, node)
    }

    // -----------------------------------------------------------------------------------------
    // Scalars.

    /// Whether a plain scalar may start with `c` (followed by `next`).
    fn plain_can_start(&self, c: char, next: Option<char>, flow: bool) -> bool {
        match c {
            '-' | '?' | ':' => !(is_blank(next) || (flow && next.is_some_and(is_flow_indicator))),
            ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
            | '@' | '`' => false,
            ' ' | '\t' | '\n' => false,
            _ => true,
        }
    }

    /// A plain scalar, folded over continuation lines indented more than `min`.
    fn plain(&mut self, min: isize, flow: bool) -> Result<String, YamlError> {
        let mut text = self.plain_line(flow);
        loop {
            // Try a continuation line; give it back if it is not one.
            let mark = self.mark();
            self.skip_inline_space();
            if !self.at_line_end() {
                self.reset(mark);
                break;
            }
            let mut breaks = 0;
            let mut continued = false;
            while self.peek() == Some('\n') {
                self.bump();
                breaks += 1;
                while matches!(self.peek(), Some(' ' | '\t')) {
                    self.bump();
                }
                if self.at_line_end() {
                    continue;
                }
                let column = self.column() as isize;
                let start_ok = match self.peek() {
                    Some('#') => false,
                    Some(c) if flow => !is_flow_indicator(c) && c != ':',
                    Some(_) => column > min && !self.at_document_marker(),
                    None => false,
                };
                continued = start_ok;
                break;
            }
            if !continued {
                self.reset(mark);
                break;
            }
            let more = self.plain_line(flow);
            if more.is_empty() {
                self.reset(mark);
                break;
            }
            if breaks == 1 {
                text.push(' ');
            } else {
                for _ in 1..breaks {
                    text.push('\n');
                }
            }
            text.push_str(&more);
        }
        Ok(text)
    }

    /// The rest of a plain scalar on the current line, without trailing blanks.
    fn plain_line(&mut self, flow: bool) -> String {
        let start = self.pos;
        let mut end = self.pos;
        loop {
            match self.peek() {
                None | Some('\n') => break,
                Some(':') => {
                    let next = self.peek_nth(1);
                    if is_blank(next) || (flow && next.is_some_and(is_flow_indicator)) {
                        break;
                    }
                    self.bump();
                    end = self.pos;
                }
                Some('#') => {
                    if matches!(self.src[..self.pos].chars().last(), Some(' ' | '\t')) {
                        break;
                    }
                    self.bump();
                    end = self.pos;
                }
                Some(c) if flow && is_flow_indicator(c) => break,
                Some(' ' | '\t') => {
                    self.bump();
                }
                Some(_) => {
                    self.bump();
                    end = self.pos;
                }
            }
        }
        let text = self.src[start..end].to_string();
        // Leave the cursor right after the text, before trailing blanks.
        let extra = self.pos - end;
        if extra > 0 {
            self.pos = end;
        }
        text
    }

    /// A single-quoted scalar (`''` is a quote). `multiline` allows line folding.
    fn single_quoted(&mut self, multiline: bool) -> Result<String, YamlError> {
        let start = self.location();
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(YamlError {
                        message: "unterminated single-quoted string".into(),
                        location: start,
                    });
                }
                Some('\'') => {
                    self.bump();
                    if self.peek() == Some('\'') {
                        self.bump();
                        out.push('\'');
                    } else {
                        return Ok(out);
                    }
                }
                Some('\n') => {
                    if !multiline {
                        return self.error("a key cannot span lines");
                    }
                    self.fold_quoted_break(&mut out)?;
                }
                Some(c) => {
                    self.bump();
                    out.push(c);
                }
            }
        }
    }

    /// A double-quoted scalar with YAML's escapes.
    fn double_quoted(&mut self, multiline: bool) -> Result<String, YamlError> {
        let start = self.location();
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(YamlError {
                        message: "unterminated double-quoted string".into(),
                        location: start,
                    });
                }
                Some('"') => {
                    self.bump();
                    return Ok(out);
                }
                Some('\\') => {
                    let escape_location = self.location();
                    self.bump();
                    let Some(c) = self.bump() else {
                        return self.error("unterminated double-quoted string");
                    };
                    match c {
                        '0' => out.push('\0'),
                        'a' => out.push('\u{7}'),
                        'b' => out.push('\u{8}'),
                        't' | '\t' => out.push('\t'),
                        'n' => out.push('\n'),
                        'v' => out.push('\u{b}'),
                        'f' => out.push('\u{c}'),
                        'r' => out.push('\r'),
                        'e' => out.push('\u{1b}'),
                        ' ' => out.push(' '),
                        '"' => out.push('"'),
                        '/' => out.push('/'),
                        '\\' => out.push('\\'),
                        'N' => out.push('\u{85}'),
                        '_' => out.push('\u{a0}'),
                        'L' => out.push('\u{2028}'),
                        'P' => out.push('\u{2029}'),
                        'x' | 'u' | 'U' => {
                            let len = match c {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let mut code = 0u32;
                            for _ in 0..len {
                                let digit = self.peek().and_then(|d| d.to_digit(16));
                                match digit {
                                    Some(d) => {
                                        code = code * 16 + d;
                                        self.bump();
                                    }
                                    None => {
                                        return Err(YamlError {
                                            message: format!(
                                                "`\\{c}` needs {len} hexadecimal digits"
                                            ),
                                            location: escape_location,
                                        });
                                    }
                                }
                            }
                            match char::from_u32(code) {
                                Some(ch) => out.push(ch),
                                None => {
                                    return Err(YamlError {
                                        message: format!("`\\{c}{code:x}` is not a character"),
                                        location: escape_location,
                                    });
                                }
                            }
                        }
                        '\n' => {
                            // An escaped line break: joined without a space.
                            while matches!(self.peek(), Some(' ' | '\t')) {
                                self.bump();
                            }
                        }
                        other => {
                            return Err(YamlError {
                                message: format!("unknown escape `\\{other}`"),
                                location: escape_location,
                            });
                        }
                    }
                }
                Some('\n') => {
                    if !multiline {
                        return self.error("a key cannot span lines");
                    }
                    self.fold_quoted_break(&mut out)?;
                }
                Some(c) => {
                    self.bump();
                    out.push(c);
                }
            }
        }
    }

    /// A line break inside a quoted scalar: trailing blanks dropped, one break becomes a
    /// space, each further (empty) line a `\n`.
    fn fold_quoted_break(&mut self, out: &mut String) -> Result<(), YamlError> {
        while out.ends_with([' ', '\t']) {
            out.pop();
        }
        let mut breaks = 0;
        while self.peek() == Some('\n') {
            self.bump();
            breaks += 1;
            while matches!(self.peek(), Some(' ' | '\t')) {
                self.bump();
            }
        }
        if self.at_document_marker() {
            return self.error("a document marker inside a quoted string");
        }
        if breaks == 1 {
            out.push(' ');
        } else {
            for _ in 1..breaks {
                out.push('\n');
            }
        }
        Ok(())
    }

    /// A literal (`|`) or folded (`>`) block scalar whose content is indented more than `min`.
    fn block_scalar(&mut self, min: isize) -> Result<String, YamlError> {
        let folded = self.bump() == Some('>');
        let mut chomp = Chomp::Clip;
        let mut explicit: Option<usize> = None;
        for _ in 0..2 {
            match self.peek() {
                Some('-') => {
                    chomp = Chomp::Strip;
                    self.bump();
                }
                Some('+') => {
                    chomp = Chomp::Keep;
                    self.bump();
                }
                Some(d @ '1'..='9') if explicit.is_none() => {
                    explicit = d.to_digit(10).map(|d| d as usize);
                    self.bump();
                }
                _ => {}
            }
        }
        let before = self.pos;
        self.skip_inline_space();
        if self.peek() == Some('#') && self.pos > before {
            self.skip_comment();
        }
        if !self.at_line_end() {
            return self.error("unexpected characters after a block scalar indicator");
        }
        let parent = min.max(0) as usize;
        let mut indent = explicit.map(|d| if min < 0 { d } else { parent + d });
        let mut lines: Vec<String> = Vec::new();
        // Whether a line break follows the last line of the scalar.
        let mut final_break = false;
        loop {
            if self.peek() != Some('\n') {
                break;
            }
            let mark = self.mark();
            self.bump();
            if self.eof() {
                final_break = true;
                break;
            }
            let line_start = self.pos;
            let mut spaces = 0;
            while self.peek() == Some(' ') {
                self.bump();
                spaces += 1;
            }
            let blank = self.at_line_end();
            let content_indent = match indent {
                Some(i) => i,
                None if blank => {
                    // Blank lines before the first content line.
                    lines.push(String::new());
                    continue;
                }
                None => {
                    if (spaces as isize) <= min {
                        // No content: the scalar is empty.
                        self.reset(mark);
                        final_break = true;
                        break;
                    }
                    indent = Some(spaces);
                    spaces
                }
            };
            if blank {
                if spaces > content_indent {
                    lines.push(self.src[line_start + content_indent..self.pos].to_string());
                } else {
                    lines.push(String::new());
                }
                continue;
            }
            if spaces < content_indent {
                self.reset(mark);
                final_break = true;
                break;
            }
            let content_start = line_start + content_indent;
            while !self.at_line_end() {
                self.bump();
            }
            lines.push(self.src[content_start..self.pos].to_string());
        }
        let mut trailing = 0;
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
            trailing += 1;
        }
        let mut text = if folded {
            fold_lines(&lines)
        } else {
            lines.join("\n")
        };
        let has_content = !lines.is_empty();
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => {
                if has_content && (final_break || trailing > 0) {
                    text.push('\n');
                }
            }
            Chomp::Keep => {
                if has_content && (final_break || trailing > 0) {
                    text.push('\n');
                }
                for _ in 0..trailing {
                    text.push('\n');
                }
            }
        }
        self.skip_to_content_line()?;
        Ok(text)
    }
}

#[derive(Debug, Clone, Copy)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// Folds the lines of a `>` scalar: a break between two lines of text at the base indentation
/// becomes a space; breaks next to empty or more-indented lines stay.
fn fold_lines(lines: &[String]) -> String {
    let mut out = String::new();
    let mut previous_normal: Option<bool> = None;
    let mut empty_run = 0;
    for line in lines {
        if line.is_empty() {
            empty_run += 1;
            continue;
        }
        let normal = !line.starts_with([' ', '\t']);
        match previous_normal {
            None => {
                for _ in 0..empty_run {
                    out.push('\n');
                }
            }
            Some(previous) => {
                if previous && normal {
                    if empty_run == 0 {
                        out.push(' ');
                    } else {
                        for _ in 0..empty_run {
                            out.push('\n');
                        }
                    }
                } else {
                    for _ in 0..=empty_run {
                        out.push('\n');
                    }
                }
            }
        }
        empty_run = 0;
        out.push_str(line);
        previous_normal = Some(normal);
    }
    out
}

/// A plain scalar's value, as CloudFormation's YAML 1.1 reader resolves it.
fn resolve_plain(text: &str) -> NodeValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return NodeValue::Bool(true);
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return NodeValue::Bool(false);
        }
        _ => {}
    }
    match number_text(text) {
        Some(n) => NodeValue::Number(n),
        None => NodeValue::String(text.to_string()),
    }
}

/// The decimal text of a YAML 1.1 integer or float, or `None` when `text` is not a number.
/// Integers in other bases are written in decimal; decimal numbers keep their text.
fn number_text(text: &str) -> Option<String> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'-' => ("-", &text[1..]),
        b'+' => ("", &text[1..]),
        _ => ("", text),
    };
    if digits.is_empty() {
        return None;
    }
    let radix = |prefix: &str, radix: u32| -> Option<String> {
        let body = digits.strip_prefix(prefix)?.replace('_', "");
        if body.is_empty() {
            return None;
        }
        let value = u128::from_str_radix(&body, radix).ok()?;
        Some(format!("{sign}{value}"))
    };
    if let Some(n) = radix("0x", 16).or_else(|| radix("0b", 2)) {
        return Some(n);
    }
    if digits.len() > 1
        && digits.starts_with('0')
        && digits
            .bytes()
            .all(|b| (b'0'..=b'7').contains(&b) || b == b'_')
    {
        return radix("0", 8);
    }
    if digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        // `09` is neither octal nor decimal in YAML 1.1: a string.
        if digits.starts_with('_') || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        return Some(format!("{sign}{}", digits.replace('_', "")));
    }
    if matches!(digits, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return Some(text.to_string());
    }
    // [0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)? and the usual forms with an exponent.
    let mut seen_digit = false;
    let mut seen_dot = false;
    let mut seen_exp = false;
    let bytes = digits.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'0'..=b'9' => seen_digit = true,
            b'_' if !seen_exp => {}
            b'.' if !seen_dot && !seen_exp => seen_dot = true,
            b'e' | b'E' if seen_digit && !seen_exp => {
                seen_exp = true;
                if matches!(bytes.get(i + 1), Some(b'+' | b'-')) {
                    i += 1;
                }
                if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            }
            _ => return None,
        }
        i += 1;
    }
    if !(seen_digit && (seen_dot || seen_exp)) {
        return None;
    }
    let body = digits.replace('_', "");
    // JSON writes `.5` as `0.5` and `5.` as `5.0`.
    let body = if body.starts_with('.') {
        format!("0{body}")
    } else {
        body
    };
    let body = match body.find(['e', 'E']) {
        Some(e) if body[..e].ends_with('.') => format!("{}0{}", &body[..e], &body[e..]),
        None if body.ends_with('.') => format!("{body}0"),
        _ => body,
    };
    Some(format!("{sign}{body}"))
}

/// A node with a tag applied: CloudFormation's short forms become long forms.
fn tagged(tag: &str, location: Location, node: Node) -> Result<Node, YamlError> {
    let unsupported = |what: &str| YamlError {
        message: format!("the tag `{tag}` {what}"),
        location,
    };
    if let Some(standard) = tag.strip_prefix("!!") {
        return match standard {
            "str" => Ok(match node.scalar_text() {
                Some(text) => Node::new(NodeValue::String(text), node.location),
                None if matches!(node.value, NodeValue::Null) => {
                    Node::new(NodeValue::String(String::new()), node.location)
                }
                None => return Err(unsupported("applies to scalars only")),
            }),
            "int" | "float" => match node.scalar_text().and_then(|t| number_text(&t)) {
                Some(n) => Ok(Node::new(NodeValue::Number(n), node.location)),
                None => Err(unsupported("needs a number")),
            },
            "bool" | "null" | "map" | "seq" => Ok(node),
            _ => Err(unsupported("is not supported in templates")),
        };
    }
    let Some(name) = tag.strip_prefix('!') else {
        return Err(unsupported("is not supported in templates"));
    };
    let function = match name {
        "Ref" => "Ref".to_string(),
        "Condition" => "Condition".to_string(),
        _ if FUNCTION_TAGS.contains(&name) => format!("Fn::{name}"),
        _ => {
            return Err(YamlError {
                message: format!(
                    "unknown tag `{tag}`: CloudFormation's short forms are `!Ref`, `!Sub`, `!GetAtt`, `!Join`, ..."
                ),
                location,
            });
        }
    };
    let mut node = node;
    if matches!(node.value, NodeValue::Null) {
        // `!GetAZs` with nothing after it, as `!Select [0, !GetAZs ]` writes it.
        node.value = NodeValue::String(String::new());
    }
    if name == "GetAtt"
        && let NodeValue::String(s) = &node.value
        && let Some((resource, attribute)) = s.split_once('.')
    {
        let l = node.location;
        node = Node::new(
            NodeValue::Array(vec![
                Node::new(NodeValue::String(resource.to_string()), l),
                Node::new(NodeValue::String(attribute.to_string()), l),
            ]),
            l,
        );
    }
    Ok(Node::new(
        NodeValue::Object(vec![(function, location, node)]),
        location,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> serde_json::Value {
        match parse(text) {
            Ok(node) => node.to_json(),
            Err((e, _)) => panic!("{} at {}", e.message, e.location),
        }
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(node) => panic!("read {:?}", node.to_json()),
            Err((e, path)) => format!("{path}: {} at {}", e.message, e.location),
        }
    }

    #[test]
    fn block_structures() {
        let text = "\
# comment
Parameters:
  VpcId:
    Type: String   # trailing
    Description: The ID
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      Tags:
      - Key: a
        Value: b
      -
        Key: c
        Value: d
      List:
        - - x
          - y
        - [1, 2.5, yes, ~]
";
        assert_eq!(
            read(text),
            json!({
                "Parameters": {"VpcId": {"Type": "String", "Description": "The ID"}},
                "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
                    "Tags": [{"Key": "a", "Value": "b"}, {"Key": "c", "Value": "d"}],
                    "List": [["x", "y"], [1, 2.5, true, null]]
                }}}
            })
        );
    }

    #[test]
    fn short_forms_become_long_forms() {
        let text = "\
A: !Ref VpcId
B: !GetAtt Role.Arn
C: !GetAtt [Role, Arn]
D: !Select [0, !GetAZs ]
E: !Sub |
  arn:${AWS::Partition}:s3:::${Bucket}/*
F: !Join
  - ''
  - - a
    - !Ref B
G: !Condition IsProd
";
        assert_eq!(
            read(text),
            json!({
                "A": {"Ref": "VpcId"},
                "B": {"Fn::GetAtt": ["Role", "Arn"]},
                "C": {"Fn::GetAtt": ["Role", "Arn"]},
                "D": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
                "E": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*\n"},
                "F": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
                "G": {"Condition": "IsProd"}
            })
        );
    }

    #[test]
    fn scalars() {
        let text = "\
a: 'it''s'
b: \"tab\\tquote\\\" \\u00e9\"
c: >-
  folded
  text

  para
d: |+
  keep

e: plain
  continued
f: 0x1f
g: 012
h: 2012-10-17
i: -1
j: arn:aws:iam::123456789012:role/x
";
        assert_eq!(
            read(text),
            json!({
                "a": "it's", "b": "tab\tquote\" é", "c": "folded text\npara",
                "d": "keep\n\n", "e": "plain continued", "f": 31, "g": 10,
                "h": "2012-10-17", "i": -1, "j": "arn:aws:iam::123456789012:role/x"
            })
        );
    }

    #[test]
    fn positions_are_kept() {
        let node = parse("Resources:\n  Role:\n    Type: !Ref X\n").unwrap();
        let role = node.get("Resources").unwrap().get("Role").unwrap();
        assert_eq!((role.location.line, role.location.column), (3, 5));
        let ty = role.get("Type").unwrap();
        assert_eq!((ty.location.line, ty.location.column), (3, 11));
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(error("a: 1\na: 2\n"), "template: duplicate key `a` at 2:1");
        assert_eq!(
            error("a: b: c\n"),
            "template: mapping values are not allowed in this context at 1:5"
        );
        assert_eq!(
            error("a: [1, 2\n"),
            "a[1]: unterminated flow collection at 2:1"
        );
        assert_eq!(
            error("a: !Foo x\n"),
            "a: unknown tag `!Foo`: CloudFormation's short forms are `!Ref`, `!Sub`, `!GetAtt`, `!Join`, ... at 1:4"
        );
        assert_eq!(
            error("a:\n  b: 1\n c: 2\n"),
            "template: bad indentation of a mapping entry at 3:2"
        );
    }
}
