//! A small JSON reader that keeps the line and column of every value and rejects duplicate keys.
//!
//! IAM diagnostics must point at the exact place in the user's file, and IAM rejects duplicate
//! keys that ordinary JSON readers silently collapse, so policies are read with this reader
//! rather than `serde_json`. It is bounded: documents larger than [`Limits::max_bytes`] or
//! nested deeper than [`Limits::max_depth`] are refused before any work proportional to them.

use std::fmt;

/// A position in the source text, 1-based, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number (in characters), starting at 1.
    pub column: u32,
    /// Byte offset into the source.
    pub offset: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A JSON value together with where it starts in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    /// The value.
    pub value: JsonValue,
    /// Where the value starts.
    pub location: Location,
}

/// A JSON value. Objects keep their keys in source order, each with the key's location.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, kept as written so that `10.0` and `10` stay distinct strings for IAM.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Spanned>),
    /// An object: keys with their locations, in order.
    Object(Vec<(String, Location, Spanned)>),
}

impl JsonValue {
    /// The JSON type name used in diagnostics (`string`, `object`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "boolean",
            JsonValue::Number(_) => "number",
            JsonValue::String(_) => "string",
            JsonValue::Array(_) => "array",
            JsonValue::Object(_) => "object",
        }
    }
}

/// Bounds on what the reader accepts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest document in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and objects.
    pub max_depth: usize,
}

impl Default for Limits {
    /// 1 MiB and 32 levels: far beyond any IAM quota (the largest policy IAM stores is
    /// 10,240 characters, and a policy needs at most 5 levels), yet cheap to refuse.
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 32,
        }
    }
}

/// Why a document could not be read as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {}, column {}", location.line, location.column)]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub location: Location,
    /// The JSON path of the object that holds a duplicate key, when that is the error.
    pub path: Option<String>,
}

/// Reads `text` as one JSON value.
pub fn parse(text: &str, limits: Limits) -> Result<Spanned, JsonError> {
    if text.len() > limits.max_bytes {
        return Err(JsonError {
            message: format!(
                "document is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
            location: Location {
                line: 1,
                column: 1,
                offset: 0,
            },
            path: None,
        });
    }
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        pos: 0,
        line: 1,
        line_start: 0,
        continuation_bytes: 0,
        limits,
        path: Vec::new(),
    };
    // A leading byte-order mark is common in files saved by Windows editors.
    if reader.bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.pos = 3;
        reader.line_start = 3;
    }
    reader.skip_whitespace();
    let value = reader.value(0)?;
    reader.skip_whitespace();
    if reader.pos < reader.bytes.len() {
        return Err(reader.error("unexpected characters after the end of the JSON document"));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    line: u32,
    line_start: usize,
    /// UTF-8 continuation bytes passed since the start of the line, so that columns count
    /// characters without rescanning the line (minified policies are one long line).
    continuation_bytes: usize,
    limits: Limits,
    path: Vec<PathPart>,
}

enum PathPart {
    /// A key, as the byte range of its raw text in the source (kept as a range so that reading
    /// a document allocates nothing for paths that no error will ever print).
    Key(usize, usize),
    Index(usize),
}

impl Reader<'_> {
    fn location(&self) -> Location {
        let column = (self.pos - self.line_start - self.continuation_bytes) as u32 + 1;
        Location {
            line: self.line,
            column,
            offset: self.pos,
        }
    }

    fn error(&self, message: impl Into<String>) -> JsonError {
        JsonError {
            message: message.into(),
            location: self.location(),
            path: None,
        }
    }

    fn path_string(&self) -> String {
        let mut out = String::new();
        for part in &self.path {
            match part {
                PathPart::Key(start, end) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&self.text[*start..*end]);
                }
                PathPart::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                    self.continuation_bytes = 0;
                }
                _ => break,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Spanned, JsonError> {
        let location = self.location();
        let value = match self.bytes.get(self.pos) {
            None => return Err(self.error("unexpected end of document, expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => JsonValue::String(self.string()?),
            Some(b't') => self.keyword("true", JsonValue::Bool(true))?,
            Some(b'f') => self.keyword("false", JsonValue::Bool(false))?,
            Some(b'n') => self.keyword("null", JsonValue::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => {
                let c = self.text[self.pos..].chars().next().unwrap_or('?');
                return Err(self.error(format!("unexpected character `{c}`, expected a value")));
            }
        };
        Ok(Spanned { value, location })
    }

    fn keyword(&mut self, word: &str, value: JsonValue) -> Result<JsonValue, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error(format!("invalid literal, expected `{word}`")))
        }
    }

    fn number(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |r: &mut Self| {
            let s = r.pos;
            while matches!(r.bytes.get(r.pos), Some(b'0'..=b'9')) {
                r.pos += 1;
            }
            r.pos - s
        };
        let int_start = self.pos;
        if digits(self) == 0 {
            return Err(self.error("invalid number"));
        }
        if self.bytes[int_start] == b'0' && self.pos - int_start > 1 {
            self.pos = int_start;
            return Err(self.error("invalid number: leading zeros are not allowed"));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.error("invalid number: expected digits after `.`"));
            }
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number: expected digits in the exponent"));
            }
        }
        Ok(JsonValue::Number(self.text[start..self.pos].to_string()))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        // Opening quote.
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                if b & 0xC0 == 0x80 {
                    self.continuation_bytes += 1;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escape = self.bytes.get(self.pos).copied();
                    self.pos += 1;
                    match escape {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let c = self.unicode_escape()?;
                            out.push(c);
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.error("invalid escape sequence in string"));
                        }
                    }
                }
                Some(_) => {
                    return Err(
                        self.error("control character in string (escape it as \\n, \\t, ...)")
                    );
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let Some(digits) = self.text.get(self.pos..self.pos + 4) else {
            return Err(self.error("invalid \\u escape: expected 4 hex digits"));
        };
        let value = u32::from_str_radix(digits, 16)
            .map_err(|_| self.error("invalid \\u escape: expected 4 hex digits"))?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.error("invalid \\u escape: expected 4 hex digits"));
        }
        self.pos += 4;
        Ok(value)
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            if self.bytes.get(self.pos) == Some(&b'\\')
                && self.bytes.get(self.pos + 1) == Some(&b'u')
            {
                self.pos += 2;
                let second = self.hex4()?;
                if (0xDC00..0xE000).contains(&second) {
                    let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    return char::from_u32(code)
                        .ok_or_else(|| self.error("invalid surrogate pair"));
                }
            }
            return Err(self.error("unpaired surrogate in \\u escape"));
        }
        char::from_u32(first).ok_or_else(|| self.error("invalid \\u escape (lone surrogate)"))
    }

    fn enter(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth >= self.limits.max_depth {
            return Err(self.error(format!(
                "document is nested more than {} levels deep",
                self.limits.max_depth
            )));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.enter(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(JsonValue::Array(items));
        }
        loop {
            self.skip_whitespace();
            self.path.push(PathPart::Index(items.len()));
            let item = self.value(depth + 1)?;
            self.path.pop();
            items.push(item);
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonValue::Array(items));
                }
                None => return Err(self.error("unexpected end of document inside an array")),
                Some(_) => return Err(self.error("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.enter(depth)?;
        self.pos += 1;
        let mut members: Vec<(String, Location, Spanned)> = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(JsonValue::Object(members));
        }
        loop {
            self.skip_whitespace();
            let key_location = self.location();
            match self.bytes.get(self.pos) {
                Some(b'"') => {}
                None => return Err(self.error("unexpected end of document inside an object")),
                Some(_) => return Err(self.error("expected a string key in object")),
            }
            let key_start = self.pos + 1;
            let key = self.string()?;
            let key_end = self.pos - 1;
            if members.iter().any(|(k, _, _)| *k == key) {
                let path = self.path_string();
                return Err(JsonError {
                    message: format!("duplicate key `{key}`"),
                    location: key_location,
                    path: Some(path),
                });
            }
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error(format!("expected `:` after key `{key}`")));
            }
            self.pos += 1;
            self.skip_whitespace();
            self.path.push(PathPart::Key(key_start, key_end));
            let value = self.value(depth + 1)?;
            self.path.pop();
            members.push((key, key_location, value));
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonValue::Object(members));
                }
                None => return Err(self.error("unexpected end of document inside an object")),
                Some(_) => return Err(self.error("expected `,` or `}` in object")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Spanned, JsonError> {
        parse(text, Limits::default())
    }

    #[test]
    fn locations_are_line_and_column() -> Result<(), JsonError> {
        let doc = read("{\n  \"a\": [1, \"x\"]\n}")?;
        let JsonValue::Object(members) = doc.value else {
            unreachable!()
        };
        assert_eq!((members[0].1.line, members[0].1.column), (2, 3));
        assert_eq!(
            (members[0].2.location.line, members[0].2.location.column),
            (2, 8)
        );
        Ok(())
    }

    #[test]
    fn duplicate_keys_are_refused_with_their_path() {
        let err = read(r#"{"Statement": [{"Effect": "Allow", "Effect": "Deny"}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate key `Effect` at line 1, column 36"
        );
        assert_eq!(err.path.as_deref(), Some("Statement[0]"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(10_000);
        let err = read(&text).unwrap_err();
        assert_eq!(err.message, "document is nested more than 32 levels deep");
    }

    #[test]
    fn oversized_documents_are_refused_before_reading() {
        let text = format!("\"{}\"", "a".repeat(2 << 20));
        let err = read(&text).unwrap_err();
        assert!(
            err.message
                .starts_with("document is 2097154 bytes, more than the limit")
        );
    }

    #[test]
    fn malformed_documents_say_where() {
        assert_eq!(
            read("{\"a\": tru}").unwrap_err().to_string(),
            "invalid literal, expected `true` at line 1, column 7"
        );
        assert_eq!(
            read("{\"a\": 1,}").unwrap_err().to_string(),
            "expected a string key in object at line 1, column 9"
        );
        assert_eq!(
            read("[1] x").unwrap_err().to_string(),
            "unexpected characters after the end of the JSON document at line 1, column 5"
        );
        assert_eq!(
            read("\"abc").unwrap_err().to_string(),
            "unterminated string at line 1, column 5"
        );
    }

    #[test]
    fn escapes_and_unicode() -> Result<(), JsonError> {
        let doc = read(r#""a\u00e9\ud83d\ude00\n""#)?;
        assert_eq!(doc.value, JsonValue::String("aé😀\n".into()));
        assert!(read(r#""\ud83d""#).is_err());
        Ok(())
    }
}
