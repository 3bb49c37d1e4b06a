//! Smithy RPC v2 CBOR (`smithy-protocol: rpc-v2-cbor`): a CBOR (RFC 8949) decoder and encoder,
//! and the conversion between CBOR and the JSON 1.1 documents the handlers read and write, driven
//! by the service model where the two differ (timestamps, blobs).
//!
//! An rpcv2Cbor request is `POST {prefix?}/service/<ServiceName>/operation/<Operation>` with
//! `smithy-protocol: rpc-v2-cbor`, `Content-Type: application/cbor` and the input structure as a
//! CBOR map; an empty body is an empty input. The reply carries the same `smithy-protocol` header
//! and the output structure (or the error) as a CBOR map. Where JSON 1.1 writes a timestamp as
//! epoch seconds and a blob as base64 text, CBOR writes tag 1 around the epoch seconds and a byte
//! string, so the conversion walks the operation's shapes: a decoded request becomes exactly the
//! document a JSON 1.1 client would have sent, and the handlers cannot tell the two apart.
//!
//! ```
//! use rolewright_server::service_model::ServiceModel;
//! use rolewright_server::wire::cbor;
//!
//! let model = ServiceModel::servicecatalog();
//! // {"Id": "port-1"}
//! let body = [0xa1, 0x62, b'I', b'd', 0x66, b'p', b'o', b'r', b't', b'-', b'1'];
//! let input = cbor::decode_input(model, "DescribePortfolio", &body).unwrap();
//! assert_eq!(input, serde_json::json!({"Id": "port-1"}));
//! // A timestamp of the output shape is tag 1 around epoch seconds.
//! let output = serde_json::json!({"PortfolioDetail": {"CreatedTime": 1700000000}});
//! let bytes = cbor::encode_output(model, "DescribePortfolio", &output);
//! assert_eq!(cbor::decode(&bytes).unwrap(), cbor::Item::Map(vec![(
//!     "PortfolioDetail".into(),
//!     cbor::Item::Map(vec![(
//!         "CreatedTime".into(),
//!         cbor::Item::Tag(1, Box::new(cbor::Item::Unsigned(1_700_000_000))),
//!     )]),
//! )]));
//! ```
//!
//! The decoder refuses what is not well-formed CBOR with a message naming the byte offset:
//! truncated items, lengths beyond the body, indefinite lengths where RFC 8949 forbids them (on
//! integers and tags, or a chunk of another type inside an indefinite string), a break code
//! outside an indefinite item, reserved additional information, nesting deeper than
//! [`MAX_DEPTH`], map keys that are not text strings or appear twice, invalid UTF-8 and bytes
//! after the top-level item. Tags other than 1 (bignums, decimal fractions) are refused because
//! no served shape uses them.
//!
//! Error replies carry `__type`, the error's absolute shape ID: the service's namespace for the
//! errors its model declares (`com.amazonaws.servicecatalog#ResourceNotFoundException`), and
//! `com.amazon.coral.service#` (`com.amazon.coral.validate#ValidationException`) for the errors
//! every AWS service answers, as AWS's JSON services name them.

use std::collections::HashSet;
use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::error::ApiError;
use crate::service_model::{ServiceModel, Shape, ShapeType};

/// The `Content-Type` of every rpcv2Cbor body.
pub const CONTENT_TYPE: &str = "application/cbor";
/// The header naming the protocol, on requests and replies.
pub const PROTOCOL_HEADER: &str = "smithy-protocol";
/// Its value.
pub const PROTOCOL: &str = "rpc-v2-cbor";
/// How deeply arrays, maps and tags may nest in a request (the served shapes need fewer than 10).
pub const MAX_DEPTH: usize = 64;

/// A service served over rpcv2Cbor.
#[derive(Debug)]
pub struct Service {
    /// The service shape's name, the `<ServiceName>` of the path (`AWS242ServiceCatalogService`).
    pub name: &'static str,
    /// The SigV4 scope service (`servicecatalog`).
    pub signing_name: &'static str,
    /// The Smithy namespace of its shapes (`com.amazonaws.servicecatalog`).
    pub namespace: &'static str,
    /// Its model.
    pub model: fn() -> &'static ServiceModel,
}

/// The services that speak rpcv2Cbor: Service Catalog only (SageMaker, IAM and STS do not).
pub const SERVICES: &[Service] = &[Service {
    name: "AWS242ServiceCatalogService",
    signing_name: "servicecatalog",
    namespace: "com.amazonaws.servicecatalog",
    model: ServiceModel::servicecatalog,
}];

/// The service and operation an rpcv2Cbor path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'a> {
    /// The service name as written, without a namespace (`AWS242ServiceCatalogService`).
    pub service: &'a str,
    /// `CreatePortfolio`.
    pub operation: &'a str,
}

/// Reads `{prefix?}/service/<ServiceName>/operation/<Operation>`; `None` for any other path. The
/// service may be written with its namespace (`com.amazonaws.servicecatalog.AWS242…`), as the
/// protocol asks servers to accept; the operation may not.
pub fn route(path: &str) -> Option<Route<'_>> {
    let at = path.rfind("/service/")?;
    let rest = &path[at + "/service/".len()..];
    let (service, operation) = rest.split_once("/operation/")?;
    let service = service.rsplit('.').next().unwrap_or(service);
    let identifier = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    (identifier(service) && identifier(operation)).then_some(Route { service, operation })
}

/// The rpcv2Cbor service of this name.
pub fn service(name: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.name == name)
}

// ---- data items -----------------------------------------------------------------------------

/// One CBOR data item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Major type 0.
    Unsigned(u64),
    /// Major type 1: the value is `-1 - n`.
    Negative(u64),
    /// Major type 2.
    Bytes(Vec<u8>),
    /// Major type 3.
    Text(String),
    /// Major type 4.
    Array(Vec<Item>),
    /// Major type 5 with text keys, in the order written.
    Map(Vec<(String, Item)>),
    /// Major type 6: a tag and its content.
    Tag(u64, Box<Item>),
    /// `true` or `false`.
    Bool(bool),
    /// `null`, and `undefined`, which the protocol reads as `null`.
    Null,
    /// A half-, single- or double-precision float.
    Float(f64),
}

impl Item {
    fn kind(&self) -> &'static str {
        match self {
            Item::Unsigned(_) | Item::Negative(_) => "an integer",
            Item::Bytes(_) => "a byte string",
            Item::Text(_) => "a text string",
            Item::Array(_) => "an array",
            Item::Map(_) => "a map",
            Item::Tag(..) => "a tagged item",
            Item::Bool(_) => "a boolean",
            Item::Null => "null",
            Item::Float(_) => "a float",
        }
    }
}

/// Why a body is not CBOR the protocol accepts, or cannot become the operation's input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    /// The body stops inside an item.
    #[error("the body ends at byte {offset}, inside a data item")]
    Truncated {
        /// Where the missing bytes would start.
        offset: usize,
    },
    /// A string, array or map declares more than the body holds.
    #[error(
        "the item at byte {offset} declares {length} {unit} but the body has only {} left",
        bytes_text(*.remaining)
    )]
    LengthBeyondBody {
        /// The item's initial byte.
        offset: usize,
        /// The declared length.
        length: u64,
        /// `bytes`, `elements` or `entries`.
        unit: &'static str,
        /// What is left of the body after the item's head.
        remaining: usize,
    },
    /// Additional information 31 on an integer, a tag or a simple value.
    #[error("an indefinite length is not allowed for major type {major} (byte {offset})")]
    IndefiniteNotAllowed {
        /// The item's initial byte.
        offset: usize,
        /// Its major type.
        major: u8,
    },
    /// A chunk of an indefinite-length string that is not a definite string of the same type.
    #[error(
        "a chunk of the indefinite-length {kind} at byte {offset} must be a definite-length {kind}"
    )]
    BadChunk {
        /// The chunk's initial byte.
        offset: usize,
        /// `byte string` or `text string`.
        kind: &'static str,
    },
    /// A break code (0xff) where no indefinite-length item is open, or between a map key and its
    /// value.
    #[error("unexpected break code (0xff) at byte {offset}")]
    UnexpectedBreak {
        /// Where it is.
        offset: usize,
    },
    /// Additional information 28 to 30.
    #[error("reserved additional information {info} at byte {offset}")]
    Reserved {
        /// The item's initial byte.
        offset: usize,
        /// The value found.
        info: u8,
    },
    /// A simple value other than false, true, null and undefined.
    #[error("unsupported simple value {value} at byte {offset}")]
    UnsupportedSimple {
        /// The item's initial byte.
        offset: usize,
        /// The simple value.
        value: u8,
    },
    /// Arrays, maps and tags nested too deeply.
    #[error("items nest deeper than {MAX_DEPTH} levels (byte {offset})")]
    TooDeep {
        /// The initial byte of the item one level too deep.
        offset: usize,
    },
    /// A map key that is not a text string.
    #[error("the map key at byte {offset} is {found}, not a text string")]
    NonStringKey {
        /// The key's initial byte.
        offset: usize,
        /// What it is.
        found: &'static str,
    },
    /// A key written twice in one map.
    #[error("the map key `{key}` at byte {offset} appears twice in its map")]
    DuplicateKey {
        /// The second key's initial byte.
        offset: usize,
        /// The key.
        key: String,
    },
    /// A text string that is not UTF-8.
    #[error("the text string at byte {offset} is not valid UTF-8")]
    InvalidUtf8 {
        /// The string's (or chunk's) initial byte.
        offset: usize,
    },
    /// Bytes after the top-level item.
    #[error("unexpected {} after the top-level item (from byte {offset})", bytes_text(*.count))]
    TrailingBytes {
        /// The first byte after the item.
        offset: usize,
        /// How many follow.
        count: usize,
    },
    /// The top-level item is not a map.
    #[error("the request body must be a CBOR map (the operation's input structure), not {found}")]
    NotAMap {
        /// What it is.
        found: &'static str,
    },
    /// A negative integer below `i64::MIN`.
    #[error("the integer at `{path}` is out of range")]
    IntegerOutOfRange {
        /// Where it is (`Tags[0].Key`).
        path: String,
    },
    /// A byte string where the model has another type.
    #[error("a byte string at `{path}`, where the model has {expected}")]
    UnexpectedBytes {
        /// Where it is.
        path: String,
        /// What the model has there.
        expected: &'static str,
    },
    /// Tag 1 around something that is not a finite number.
    #[error("the timestamp (tag 1) at `{path}` must hold a finite number of epoch seconds")]
    InvalidTimestamp {
        /// Where it is.
        path: String,
    },
    /// A tag other than 1.
    #[error("unsupported CBOR tag {tag} at `{path}` (only tag 1, epoch seconds, is accepted)")]
    UnsupportedTag {
        /// The tag.
        tag: u64,
        /// Where it is.
        path: String,
    },
}

fn bytes_text(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

impl From<CborError> for ApiError {
    fn from(error: CborError) -> ApiError {
        let message = match &error {
            CborError::NotAMap { .. }
            | CborError::IntegerOutOfRange { .. }
            | CborError::UnexpectedBytes { .. }
            | CborError::InvalidTimestamp { .. }
            | CborError::UnsupportedTag { .. } => error.to_string(),
            _ => format!("the request body is not valid CBOR: {error}"),
        };
        ApiError::new("SerializationException", 400, message)
    }
}

/// Decodes one complete CBOR item; anything after it is an error.
pub fn decode(bytes: &[u8]) -> Result<Item, CborError> {
    let mut decoder = Decoder { bytes, pos: 0 };
    let item = decoder.item(0)?;
    if decoder.pos < bytes.len() {
        return Err(CborError::TrailingBytes {
            offset: decoder.pos,
            count: bytes.len() - decoder.pos,
        });
    }
    Ok(item)
}

const BREAK: u8 = 0xff;
const INDEFINITE: u8 = 31;

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(CborError::Truncated { offset: self.pos })?;
        self.pos += 1;
        Ok(b)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], CborError> {
        let slice = self
            .bytes
            .get(self.pos..self.pos + N)
            .ok_or(CborError::Truncated {
                offset: self.bytes.len(),
            })?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.pos += N;
        Ok(out)
    }

    /// The argument of a head whose additional information is `info`. Callers deal with 31
    /// (indefinite length) first, where the major type allows it.
    fn argument(&mut self, start: usize, info: u8) -> Result<u64, CborError> {
        Ok(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.fixed()?)),
            26 => u64::from(u32::from_be_bytes(self.fixed()?)),
            27 => u64::from_be_bytes(self.fixed()?),
            28..=30 => {
                return Err(CborError::Reserved {
                    offset: start,
                    info,
                });
            }
            _ => {
                return Err(CborError::IndefiniteNotAllowed {
                    offset: start,
                    major: 0,
                });
            }
        })
    }

    /// `length` bytes of content, checked against what the body holds before anything is read.
    fn content(&mut self, start: usize, length: u64) -> Result<&'a [u8], CborError> {
        let remaining = self.remaining();
        if length > remaining as u64 {
            return Err(CborError::LengthBeyondBody {
                offset: start,
                length,
                unit: "bytes",
                remaining,
            });
        }
        let n = length as usize;
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// Every container counts itself against the limit before reading its elements.
    fn item(&mut self, depth: usize) -> Result<Item, CborError> {
        let start = self.pos;
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        if initial == BREAK {
            return Err(CborError::UnexpectedBreak { offset: start });
        }
        if info == INDEFINITE && matches!(major, 0 | 1 | 6) {
            return Err(CborError::IndefiniteNotAllowed {
                offset: start,
                major,
            });
        }
        if matches!(major, 4..=6) && depth >= MAX_DEPTH {
            return Err(CborError::TooDeep { offset: start });
        }
        match major {
            0 => Ok(Item::Unsigned(self.argument(start, info)?)),
            1 => Ok(Item::Negative(self.argument(start, info)?)),
            2 => Ok(Item::Bytes(self.string(start, major, info)?)),
            3 => {
                let bytes = self.string(start, major, info)?;
                String::from_utf8(bytes)
                    .map(Item::Text)
                    .map_err(|_| CborError::InvalidUtf8 { offset: start })
            }
            4 => {
                let mut items = Vec::new();
                if info == INDEFINITE {
                    while !self.at_break()? {
                        items.push(self.item(depth + 1)?);
                    }
                } else {
                    let count = self.argument(start, info)?;
                    self.check_count(start, count, 1, "elements")?;
                    for _ in 0..count {
                        items.push(self.item(depth + 1)?);
                    }
                }
                Ok(Item::Array(items))
            }
            5 => {
                let mut entries = Vec::new();
                let mut seen = HashSet::new();
                if info == INDEFINITE {
                    while !self.at_break()? {
                        self.entry(depth, &mut entries, &mut seen)?;
                    }
                } else {
                    let count = self.argument(start, info)?;
                    self.check_count(start, count, 2, "entries")?;
                    for _ in 0..count {
                        self.entry(depth, &mut entries, &mut seen)?;
                    }
                }
                Ok(Item::Map(entries))
            }
            6 => {
                let tag = self.argument(start, info)?;
                Ok(Item::Tag(tag, Box::new(self.item(depth + 1)?)))
            }
            _ => self.simple(start, info),
        }
    }

    /// Whether the next byte closes an indefinite-length item (and consumes it if so).
    fn at_break(&mut self) -> Result<bool, CborError> {
        match self.peek() {
            None => Err(CborError::Truncated { offset: self.pos }),
            Some(BREAK) => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }

    /// Each element takes at least `min_bytes`, so a count the body cannot hold is refused before
    /// anything is allocated for it.
    fn check_count(
        &self,
        start: usize,
        count: u64,
        min_bytes: u64,
        unit: &'static str,
    ) -> Result<(), CborError> {
        let remaining = self.remaining();
        if count.saturating_mul(min_bytes) > remaining as u64 {
            return Err(CborError::LengthBeyondBody {
                offset: start,
                length: count,
                unit,
                remaining,
            });
        }
        Ok(())
    }

    fn entry(
        &mut self,
        depth: usize,
        entries: &mut Vec<(String, Item)>,
        seen: &mut HashSet<String>,
    ) -> Result<(), CborError> {
        let at = self.pos;
        let key = match self.item(depth + 1)? {
            Item::Text(key) => key,
            other => {
                return Err(CborError::NonStringKey {
                    offset: at,
                    found: other.kind(),
                });
            }
        };
        if !seen.insert(key.clone()) {
            return Err(CborError::DuplicateKey { offset: at, key });
        }
        let value = self.item(depth + 1)?;
        entries.push((key, value));
        Ok(())
    }

    /// A byte or text string's content, joining the chunks of an indefinite-length one.
    fn string(&mut self, start: usize, major: u8, info: u8) -> Result<Vec<u8>, CborError> {
        if info != INDEFINITE {
            let length = self.argument(start, info)?;
            let content = self.content(start, length)?;
            return Ok(content.to_vec());
        }
        let kind = if major == 2 {
            "byte string"
        } else {
            "text string"
        };
        let mut out = Vec::new();
        while !self.at_break()? {
            let chunk_start = self.pos;
            let initial = self.byte()?;
            let chunk_info = initial & 0x1f;
            if initial >> 5 != major || chunk_info == INDEFINITE {
                return Err(CborError::BadChunk {
                    offset: chunk_start,
                    kind,
                });
            }
            let length = self.argument(chunk_start, chunk_info)?;
            let content = self.content(chunk_start, length)?;
            // Each chunk of a text string is valid UTF-8 by itself (RFC 8949 §3.2.3).
            if major == 3 && std::str::from_utf8(content).is_err() {
                return Err(CborError::InvalidUtf8 {
                    offset: chunk_start,
                });
            }
            out.extend_from_slice(content);
        }
        Ok(out)
    }

    fn simple(&mut self, start: usize, info: u8) -> Result<Item, CborError> {
        match info {
            20 => Ok(Item::Bool(false)),
            21 => Ok(Item::Bool(true)),
            22 | 23 => Ok(Item::Null),
            24 => {
                let value = self.byte()?;
                Err(CborError::UnsupportedSimple {
                    offset: start,
                    value,
                })
            }
            25 => Ok(Item::Float(half_to_f64(u16::from_be_bytes(self.fixed()?)))),
            26 => Ok(Item::Float(f64::from(f32::from_be_bytes(self.fixed()?)))),
            27 => Ok(Item::Float(f64::from_be_bytes(self.fixed()?))),
            28..=30 => Err(CborError::Reserved {
                offset: start,
                info,
            }),
            INDEFINITE => Err(CborError::UnexpectedBreak { offset: start }),
            value => Err(CborError::UnsupportedSimple {
                offset: start,
                value,
            }),
        }
    }
}

/// IEEE 754 binary16 to f64 (clients must be able to send half floats, RFC 8949 appendix D).
fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1024.0 + mantissa) * 2f64.powi(e - 25),
    };
    sign * magnitude
}

/// Encodes an item with definite lengths and the shortest head; floats as single precision when
/// that loses nothing, else double (never half, which the protocol advises against).
pub fn encode(item: &Item) -> Vec<u8> {
    let mut out = Vec::new();
    write_item(&mut out, item);
    out
}

fn write_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[m | 24, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(m | 25);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(m | 26);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn write_item(out: &mut Vec<u8>, item: &Item) {
    match item {
        Item::Unsigned(n) => write_head(out, 0, *n),
        Item::Negative(n) => write_head(out, 1, *n),
        Item::Bytes(b) => {
            write_head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        Item::Text(s) => {
            write_head(out, 3, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        Item::Array(items) => {
            write_head(out, 4, items.len() as u64);
            for i in items {
                write_item(out, i);
            }
        }
        Item::Map(entries) => {
            write_head(out, 5, entries.len() as u64);
            for (k, v) in entries {
                write_head(out, 3, k.len() as u64);
                out.extend_from_slice(k.as_bytes());
                write_item(out, v);
            }
        }
        Item::Tag(tag, inner) => {
            write_head(out, 6, *tag);
            write_item(out, inner);
        }
        Item::Bool(false) => out.push(0xf4),
        Item::Bool(true) => out.push(0xf5),
        Item::Null => out.push(0xf6),
        Item::Float(f) => {
            let single = *f as f32;
            if f64::from(single) == *f || f.is_nan() {
                out.push(0xfa);
                out.extend_from_slice(&single.to_bits().to_be_bytes());
            } else {
                out.push(0xfb);
                out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
        }
    }
}

// ---- the JSON documents of the handlers -----------------------------------------------------

/// A shape's name as a type, for messages (`a string`).
fn type_name(shape: &Shape) -> &'static str {
    match shape.shape_type() {
        ShapeType::Structure => "a structure",
        ShapeType::List => "a list",
        ShapeType::Map => "a map",
        ShapeType::String => "a string",
        ShapeType::Integer | ShapeType::Long => "an integer",
        ShapeType::Float | ShapeType::Double => "a float",
        ShapeType::Boolean => "a boolean",
        ShapeType::Timestamp => "a timestamp",
        ShapeType::Blob => "a blob",
    }
}

/// Where the members, elements and values of `shape` point.
fn member_shape<'m>(
    model: &'m ServiceModel,
    shape: Option<&Shape>,
    key: &str,
) -> Option<&'m Shape> {
    let shape = shape?;
    let name = match shape.shape_type() {
        ShapeType::Structure => shape.member(key)?.shape(),
        ShapeType::Map => shape.map_value()?,
        _ => return None,
    };
    model.shape(name)
}

fn element_shape<'m>(model: &'m ServiceModel, shape: Option<&Shape>) -> Option<&'m Shape> {
    let shape = shape?;
    if shape.shape_type() != ShapeType::List {
        return None;
    }
    model.shape(shape.element()?)
}

/// Reads an rpcv2Cbor request body as the JSON 1.1 document of `operation`'s input: an empty
/// body is `{}`, tag-1 timestamps become epoch seconds and byte strings (blobs) base64 text. Type
/// mismatches other than those are left for the model's validation, which answers as JSON 1.1
/// does.
pub fn decode_input(model: &ServiceModel, operation: &str, body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let item = decode(body)?;
    if !matches!(item, Item::Map(_)) {
        return Err(CborError::NotAMap { found: item.kind() }.into());
    }
    let shape = model
        .operation(operation)
        .and_then(|op| op.input())
        .and_then(|name| model.shape(name));
    let mut path = String::new();
    Ok(to_json(model, item, shape, &mut path)?)
}

fn to_json(
    model: &ServiceModel,
    item: Item,
    shape: Option<&Shape>,
    path: &mut String,
) -> Result<Value, CborError> {
    Ok(match item {
        Item::Unsigned(n) => Value::from(n),
        Item::Negative(n) => match i64::try_from(n) {
            Ok(n) => Value::from(-1 - n),
            Err(_) => return Err(CborError::IntegerOutOfRange { path: path.clone() }),
        },
        Item::Float(f) => match Number::from_f64(f) {
            Some(n) => Value::Number(n),
            // JSON 1.1 writes the non-finite values as these strings.
            None if f.is_nan() => Value::from("NaN"),
            None if f > 0.0 => Value::from("Infinity"),
            None => Value::from("-Infinity"),
        },
        Item::Bytes(bytes) => match shape {
            Some(s) if s.shape_type() != ShapeType::Blob => {
                return Err(CborError::UnexpectedBytes {
                    path: path.clone(),
                    expected: type_name(s),
                });
            }
            _ => Value::from(base64::engine::general_purpose::STANDARD.encode(bytes)),
        },
        Item::Text(s) => Value::from(s),
        Item::Bool(b) => Value::from(b),
        Item::Null => Value::Null,
        Item::Array(items) => {
            let element = element_shape(model, shape);
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                out.push(to_json(model, item, element, path)?);
                path.truncate(len);
            }
            Value::Array(out)
        }
        Item::Map(entries) => {
            let mut out = Map::new();
            for (key, item) in entries {
                let target = member_shape(model, shape, &key);
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key);
                let value = to_json(model, item, target, path)?;
                path.truncate(len);
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Item::Tag(1, inner) => match *inner {
            number @ (Item::Unsigned(_) | Item::Negative(_)) => to_json(model, number, None, path)?,
            Item::Float(f) if f.is_finite() => to_json(model, Item::Float(f), None, path)?,
            _ => return Err(CborError::InvalidTimestamp { path: path.clone() }),
        },
        Item::Tag(tag, _) => {
            return Err(CborError::UnsupportedTag {
                tag,
                path: path.clone(),
            });
        }
    })
}

/// Writes a handler's JSON 1.1 output document of `operation` as CBOR: timestamps of the output
/// shape as tag 1 around epoch seconds, blobs as byte strings, `null` members left out.
pub fn encode_output(model: &ServiceModel, operation: &str, value: &Value) -> Vec<u8> {
    let shape = model
        .operation(operation)
        .and_then(|op| op.output())
        .and_then(|name| model.shape(name));
    encode(&from_json(model, value, shape))
}

fn number_item(n: &Number) -> Item {
    if let Some(u) = n.as_u64() {
        Item::Unsigned(u)
    } else if let Some(i) = n.as_i64() {
        // `i` is negative here: -1 - i fits in u64.
        Item::Negative((-(i + 1)) as u64)
    } else {
        Item::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn from_json(model: &ServiceModel, value: &Value, shape: Option<&Shape>) -> Item {
    let shape_type = shape.map(Shape::shape_type);
    match value {
        Value::Null => Item::Null,
        Value::Bool(b) => Item::Bool(*b),
        Value::Number(n) if shape_type == Some(ShapeType::Timestamp) => {
            let seconds = match number_item(n) {
                // Whole seconds travel as an integer, as the SDKs write them.
                Item::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    if f < 0.0 {
                        Item::Negative((-f - 1.0) as u64)
                    } else {
                        Item::Unsigned(f as u64)
                    }
                }
                other => other,
            };
            Item::Tag(1, Box::new(seconds))
        }
        Value::Number(n) => number_item(n),
        Value::String(s) => match shape_type {
            Some(ShapeType::Blob) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_or_else(|_| Item::Text(s.clone()), Item::Bytes),
            Some(ShapeType::Float | ShapeType::Double) => match s.as_str() {
                "NaN" => Item::Float(f64::NAN),
                "Infinity" => Item::Float(f64::INFINITY),
                "-Infinity" => Item::Float(f64::NEG_INFINITY),
                _ => Item::Text(s.clone()),
            },
            _ => Item::Text(s.clone()),
        },
        Value::Array(items) => {
            let element = element_shape(model, shape);
            Item::Array(items.iter().map(|v| from_json(model, v, element)).collect())
        }
        Value::Object(object) => Item::Map(
            object
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    (
                        k.clone(),
                        from_json(model, v, member_shape(model, shape, k)),
                    )
                })
                .collect(),
        ),
    }
}

// ---- errors ---------------------------------------------------------------------------------

/// The absolute shape ID AWS names an error by in `__type`.
pub fn error_type(error: &ApiError) -> String {
    let code = error.json_code();
    let modelled = SERVICES.iter().find(|s| {
        (s.model)()
            .shape(code)
            .is_some_and(|shape| shape.is_exception())
    });
    match (modelled, code) {
        (Some(service), _) => format!("{}#{code}", service.namespace),
        (None, "ValidationException") => format!("com.amazon.coral.validate#{code}"),
        (None, _) => format!("com.amazon.coral.service#{code}"),
    }
}

/// The HTTP status of an error: as in JSON 1.1 (client errors 400, authentication 403, faults
/// 500), and 415 for a body that is not CBOR, as Smithy's `UnsupportedMediaTypeException` has it.
pub fn error_status(error: &ApiError) -> u16 {
    match error.code {
        "UnsupportedMediaTypeException" => 415,
        _ => error.json_status(),
    }
}

/// The CBOR error body: `{"__type": <shape ID>, "message": ...}`.
pub fn error_body(error: &ApiError) -> Vec<u8> {
    encode(&Item::Map(vec![
        ("__type".into(), Item::Text(error_type(error))),
        ("message".into(), Item::Text(error.message.clone())),
    ]))
}

/// Checks what the protocol requires of a request before its body is read as CBOR: `POST`,
/// `smithy-protocol: rpc-v2-cbor`, no `X-Amz-Target`, and `Content-Type: application/cbor`
/// whenever there is a body.
pub fn check_request(
    method: &str,
    smithy_protocol: Option<&str>,
    content_type: Option<&str>,
    has_target: bool,
    has_body: bool,
) -> Result<(), ApiError> {
    if method != "POST" {
        return Err(ApiError::new(
            "UnknownOperationException",
            400,
            format!(
                "rpcv2Cbor requests use POST, not `{}`",
                method.chars().take(16).collect::<String>()
            ),
        ));
    }
    match smithy_protocol {
        Some(p) if p.trim() == PROTOCOL => {}
        other => {
            return Err(ApiError::new(
                "UnknownOperationException",
                400,
                format!(
                    "a request to /service/…/operation/… must carry the header `{PROTOCOL_HEADER}: {PROTOCOL}`{}",
                    other.map_or_else(String::new, |p| format!(
                        ", not `{}`",
                        p.chars().take(64).collect::<String>()
                    ))
                ),
            ));
        }
    }
    if has_target {
        return Err(ApiError::new(
            "SerializationException",
            400,
            "an rpcv2Cbor request must not carry an X-Amz-Target header: send the operation in the path only",
        ));
    }
    let media_type = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    match media_type {
        None if !has_body => Ok(()),
        Some(t) if t == CONTENT_TYPE => Ok(()),
        _ => Err(ApiError::new(
            "UnsupportedMediaTypeException",
            415,
            format!(
                "an rpcv2Cbor request body must be sent with `Content-Type: {CONTENT_TYPE}`, not {}",
                content_type.map_or_else(
                    || "without a Content-Type".to_string(),
                    |c| format!("`{}`", c.chars().take(100).collect::<String>())
                )
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn err(bytes: &[u8]) -> String {
        decode(bytes).unwrap_err().to_string()
    }

    fn catalog() -> &'static ServiceModel {
        ServiceModel::servicecatalog()
    }

    #[test]
    fn decodes_every_major_type() {
        assert_eq!(decode(&[0x00]).unwrap(), Item::Unsigned(0));
        assert_eq!(decode(&[0x17]).unwrap(), Item::Unsigned(23));
        assert_eq!(decode(&[0x18, 0x18]).unwrap(), Item::Unsigned(24));
        assert_eq!(decode(&[0x19, 0x03, 0xe8]).unwrap(), Item::Unsigned(1000));
        assert_eq!(
            decode(&[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap(),
            Item::Unsigned(u64::MAX)
        );
        assert_eq!(decode(&[0x20]).unwrap(), Item::Negative(0));
        assert_eq!(decode(&[0x38, 0x63]).unwrap(), Item::Negative(99));
        assert_eq!(
            decode(&[0x43, 1, 2, 3]).unwrap(),
            Item::Bytes(vec![1, 2, 3])
        );
        assert_eq!(
            decode(&[0x62, b'h', b'i']).unwrap(),
            Item::Text("hi".into())
        );
        assert_eq!(
            decode(&[0x82, 0x01, 0xf6]).unwrap(),
            Item::Array(vec![Item::Unsigned(1), Item::Null])
        );
        assert_eq!(
            decode(&[0xa1, 0x61, b'a', 0xf5]).unwrap(),
            Item::Map(vec![("a".into(), Item::Bool(true))])
        );
        assert_eq!(
            decode(&[0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00]).unwrap(),
            Item::Tag(1, Box::new(Item::Unsigned(1_700_000_000)))
        );
        assert_eq!(decode(&[0xf4]).unwrap(), Item::Bool(false));
        assert_eq!(
            decode(&[0xf7]).unwrap(),
            Item::Null,
            "undefined reads as null"
        );
        assert_eq!(decode(&[0xf9, 0x3c, 0x00]).unwrap(), Item::Float(1.0));
        assert_eq!(decode(&[0xf9, 0x7b, 0xff]).unwrap(), Item::Float(65504.0));
        assert_eq!(
            decode(&[0xf9, 0x00, 0x01]).unwrap(),
            Item::Float(5.960464477539063e-8)
        );
        assert_eq!(
            decode(&[0xf9, 0xfc, 0x00]).unwrap(),
            Item::Float(f64::NEG_INFINITY)
        );
        assert!(matches!(decode(&[0xf9, 0x7e, 0x00]).unwrap(), Item::Float(f) if f.is_nan()));
        assert_eq!(
            decode(&[0xfa, 0x47, 0xc3, 0x50, 0x00]).unwrap(),
            Item::Float(100000.0)
        );
        assert_eq!(
            decode(&[0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]).unwrap(),
            Item::Float(1.1)
        );
    }

    #[test]
    fn decodes_indefinite_lengths() {
        // The Smithy protocol tests' empty structure: an indefinite map closed at once.
        assert_eq!(decode(&[0xbf, 0xff]).unwrap(), Item::Map(vec![]));
        assert_eq!(
            decode(&[0x9f, 0x01, 0x9f, 0xff, 0xff]).unwrap(),
            Item::Array(vec![Item::Unsigned(1), Item::Array(vec![])])
        );
        assert_eq!(
            decode(&[0x5f, 0x42, 1, 2, 0x41, 3, 0xff]).unwrap(),
            Item::Bytes(vec![1, 2, 3])
        );
        assert_eq!(
            decode(&[0x7f, 0x62, b'a', b'b', 0x61, b'c', 0xff]).unwrap(),
            Item::Text("abc".into())
        );
        assert_eq!(
            decode(&[0xbf, 0x61, b'k', 0x7f, 0xff, 0xff]).unwrap(),
            Item::Map(vec![("k".into(), Item::Text(String::new()))])
        );
    }

    #[test]
    fn refuses_malformed_input_with_clear_messages() {
        let cases: &[(&[u8], &str)] = &[
            (&[], "the body ends at byte 0, inside a data item"),
            (&[0x19, 0x01], "the body ends at byte 2, inside a data item"),
            (
                &[0x82, 0x01],
                "the item at byte 0 declares 2 elements but the body has only 1 byte left",
            ),
            (
                &[0x82, 0x01, 0x19, 0x01],
                "the body ends at byte 4, inside a data item",
            ),
            (
                &[0xa1, 0x61, b'a'],
                "the body ends at byte 3, inside a data item",
            ),
            (&[0x9f, 0x01], "the body ends at byte 2, inside a data item"),
            (
                &[0x65, b'a', b'b'],
                "the item at byte 0 declares 5 bytes but the body has only 2 bytes left",
            ),
            (
                &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                "the item at byte 0 declares 18446744073709551615 bytes but the body has only 0 bytes left",
            ),
            (
                &[0x9a, 0xff, 0xff, 0xff, 0xff, 0x01],
                "the item at byte 0 declares 4294967295 elements but the body has only 1 byte left",
            ),
            (
                &[0xa2, 0x61, b'a', 0x01],
                "the item at byte 0 declares 2 entries but the body has only 3 bytes left",
            ),
            (
                &[0x1f],
                "an indefinite length is not allowed for major type 0 (byte 0)",
            ),
            (
                &[0x3f],
                "an indefinite length is not allowed for major type 1 (byte 0)",
            ),
            (
                &[0xdf, 0x01],
                "an indefinite length is not allowed for major type 6 (byte 0)",
            ),
            (
                &[0x5f, 0x61, b'a', 0xff],
                "a chunk of the indefinite-length byte string at byte 1 must be a definite-length byte string",
            ),
            (
                &[0x7f, 0x7f, 0xff, 0xff],
                "a chunk of the indefinite-length text string at byte 1 must be a definite-length text string",
            ),
            (&[0xff], "unexpected break code (0xff) at byte 0"),
            (
                &[0x82, 0x01, 0xff],
                "unexpected break code (0xff) at byte 2",
            ),
            (
                &[0xbf, 0x61, b'a', 0xff],
                "unexpected break code (0xff) at byte 3",
            ),
            (&[0x1c], "reserved additional information 28 at byte 0"),
            (&[0xfd], "reserved additional information 29 at byte 0"),
            (&[0xf0], "unsupported simple value 16 at byte 0"),
            (&[0xf8, 0x20], "unsupported simple value 32 at byte 0"),
            (
                &[0xa1, 0x01, 0x02],
                "the map key at byte 1 is an integer, not a text string",
            ),
            (
                &[0xa1, 0x41, b'a', 0x02],
                "the map key at byte 1 is a byte string, not a text string",
            ),
            (
                &[0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02],
                "the map key `a` at byte 4 appears twice in its map",
            ),
            (
                &[0x62, 0xc3, 0x28],
                "the text string at byte 0 is not valid UTF-8",
            ),
            (
                &[0x7f, 0x61, 0xc3, 0x61, 0xa9, 0xff],
                "the text string at byte 1 is not valid UTF-8",
            ),
            (
                &[0xa0, 0x00, 0x00],
                "unexpected 2 bytes after the top-level item (from byte 1)",
            ),
        ];
        for (bytes, message) in cases {
            assert_eq!(&err(bytes), message, "input {bytes:02x?}");
        }
    }

    #[test]
    fn refuses_nesting_deeper_than_the_limit() {
        let mut ok = vec![0x81; MAX_DEPTH - 1];
        ok.push(0x80);
        assert!(decode(&ok).is_ok());
        let mut deep = vec![0x81; MAX_DEPTH];
        deep.push(0x80);
        assert_eq!(
            err(&deep),
            format!("items nest deeper than {MAX_DEPTH} levels (byte {MAX_DEPTH})")
        );
        // Tags count too, and a million-deep body fails fast instead of exhausting the stack.
        let tags = vec![0xc1; 1_000_000];
        assert_eq!(
            err(&tags),
            format!("items nest deeper than {MAX_DEPTH} levels (byte 64)")
        );
        let indefinite = vec![0x9f; 1_000_000];
        assert_eq!(
            err(&indefinite),
            format!("items nest deeper than {MAX_DEPTH} levels (byte 64)")
        );
    }

    #[test]
    fn encodes_with_the_shortest_heads() {
        assert_eq!(encode(&Item::Unsigned(23)), [0x17]);
        assert_eq!(encode(&Item::Unsigned(24)), [0x18, 24]);
        assert_eq!(encode(&Item::Unsigned(256)), [0x19, 1, 0]);
        assert_eq!(encode(&Item::Unsigned(65536)), [0x1a, 0, 1, 0, 0]);
        assert_eq!(
            encode(&Item::Unsigned(1 << 32)),
            [0x1b, 0, 0, 0, 1, 0, 0, 0, 0]
        );
        assert_eq!(encode(&Item::Negative(0)), [0x20]);
        assert_eq!(encode(&Item::Float(1.5)), [0xfa, 0x3f, 0xc0, 0, 0]);
        assert_eq!(
            encode(&Item::Float(1.1)),
            [0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]
        );
        assert_eq!(encode(&Item::Map(vec![])), [0xa0]);
    }

    #[test]
    fn input_becomes_the_json_document_of_json_1_1() {
        // {"DisplayName": "ds", "ProviderName": "ml", "Tags": [{"Key": "k", "Value": "v"}]}
        let body = encode(&Item::Map(vec![
            ("DisplayName".into(), Item::Text("ds".into())),
            ("ProviderName".into(), Item::Text("ml".into())),
            (
                "Tags".into(),
                Item::Array(vec![Item::Map(vec![
                    ("Key".into(), Item::Text("k".into())),
                    ("Value".into(), Item::Text("v".into())),
                ])]),
            ),
        ]));
        assert_eq!(
            decode_input(catalog(), "CreatePortfolio", &body).unwrap(),
            json!({"DisplayName": "ds", "ProviderName": "ml", "Tags": [{"Key": "k", "Value": "v"}]})
        );
        assert_eq!(
            decode_input(catalog(), "ListPortfolios", &[]).unwrap(),
            json!({})
        );
        assert_eq!(
            decode_input(catalog(), "ListPortfolios", &[0xbf, 0xff]).unwrap(),
            json!({})
        );
        // A timestamp becomes epoch seconds; a byte string where nothing is modelled, base64.
        let body = encode(&Item::Map(vec![
            (
                "When".into(),
                Item::Tag(1, Box::new(Item::Float(1_700_000_000.5))),
            ),
            ("Raw".into(), Item::Bytes(b"hi".to_vec())),
            ("Minus".into(), Item::Negative(41)),
        ]));
        assert_eq!(
            decode_input(catalog(), "ListPortfolios", &body).unwrap(),
            json!({"When": 1_700_000_000.5, "Raw": "aGk=", "Minus": -42})
        );
    }

    #[test]
    fn input_that_cannot_become_json_is_a_serialization_exception() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                vec![0x80],
                "the request body must be a CBOR map (the operation's input structure), not an array",
            ),
            (
                encode(&Item::Map(vec![(
                    "DisplayName".into(),
                    Item::Bytes(b"ds".to_vec()),
                )])),
                "a byte string at `DisplayName`, where the model has a string",
            ),
            (
                encode(&Item::Map(vec![(
                    "Tags".into(),
                    Item::Array(vec![Item::Map(vec![(
                        "Key".into(),
                        Item::Tag(2, Box::new(Item::Bytes(vec![1]))),
                    )])]),
                )])),
                "unsupported CBOR tag 2 at `Tags[0].Key` (only tag 1, epoch seconds, is accepted)",
            ),
            (
                encode(&Item::Map(vec![(
                    "At".into(),
                    Item::Tag(1, Box::new(Item::Text("now".into()))),
                )])),
                "the timestamp (tag 1) at `At` must hold a finite number of epoch seconds",
            ),
            (
                encode(&Item::Map(vec![("N".into(), Item::Negative(u64::MAX))])),
                "the integer at `N` is out of range",
            ),
            (
                vec![0xa1, 0x61, b'a'],
                "the request body is not valid CBOR: the body ends at byte 3, inside a data item",
            ),
        ];
        for (body, message) in cases {
            let error = decode_input(catalog(), "CreatePortfolio", &body).unwrap_err();
            assert_eq!(error.code, "SerializationException");
            assert_eq!(error.status, 400);
            assert_eq!(error.message, message);
        }
    }

    #[test]
    fn output_timestamps_are_tag_1_and_nulls_are_left_out() {
        let output = json!({
            "PortfolioDetail": {"Id": "port-1", "CreatedTime": 1_700_000_000.123, "Description": null},
            "Tags": [{"Key": "k", "Value": "v"}],
        });
        let item = decode(&encode_output(catalog(), "CreatePortfolio", &output)).unwrap();
        assert_eq!(
            item,
            Item::Map(vec![
                (
                    "PortfolioDetail".into(),
                    Item::Map(vec![
                        ("Id".into(), Item::Text("port-1".into())),
                        (
                            "CreatedTime".into(),
                            Item::Tag(1, Box::new(Item::Float(1_700_000_000.123))),
                        ),
                    ]),
                ),
                (
                    "Tags".into(),
                    Item::Array(vec![Item::Map(vec![
                        ("Key".into(), Item::Text("k".into())),
                        ("Value".into(), Item::Text("v".into())),
                    ])]),
                ),
            ])
        );
        // Whole seconds (as `json::timestamp` writes 1700000000000 ms) travel as an integer.
        let output = json!({"PortfolioDetail": {"CreatedTime": 1_700_000_000.0}});
        assert_eq!(
            decode(&encode_output(catalog(), "DescribePortfolio", &output)).unwrap(),
            Item::Map(vec![(
                "PortfolioDetail".into(),
                Item::Map(vec![(
                    "CreatedTime".into(),
                    Item::Tag(1, Box::new(Item::Unsigned(1_700_000_000))),
                )]),
            )])
        );
        // A number outside a timestamp member is not tagged.
        let output = json!({"PortfolioDetail": {"Id": 5}});
        assert_eq!(
            decode(&encode_output(catalog(), "DescribePortfolio", &output)).unwrap(),
            Item::Map(vec![(
                "PortfolioDetail".into(),
                Item::Map(vec![("Id".into(), Item::Unsigned(5))]),
            )])
        );
        assert_eq!(
            encode_output(catalog(), "DeletePortfolio", &json!({})),
            [0xa0]
        );
    }

    #[test]
    fn errors_name_their_absolute_shape_id() {
        let cases = [
            (
                ApiError::new(
                    "ResourceNotFoundException",
                    400,
                    "Portfolio not found: port-1",
                ),
                "com.amazonaws.servicecatalog#ResourceNotFoundException",
                400,
            ),
            (
                ApiError::access_denied("User: x is not authorized"),
                "com.amazon.coral.service#AccessDeniedException",
                400,
            ),
            (
                ApiError::new("ValidationException", 400, "1 validation error detected"),
                "com.amazon.coral.validate#ValidationException",
                400,
            ),
            (
                ApiError::new("UnsupportedMediaTypeException", 415, "not cbor"),
                "com.amazon.coral.service#UnsupportedMediaTypeException",
                415,
            ),
            (
                ApiError::new("InvalidClientTokenId", 403, "no such key"),
                "com.amazon.coral.service#UnrecognizedClientException",
                403,
            ),
        ];
        for (error, shape_id, status) in cases {
            assert_eq!(error_type(&error), shape_id);
            assert_eq!(error_status(&error), status);
            assert_eq!(
                decode(&error_body(&error)).unwrap(),
                Item::Map(vec![
                    ("__type".into(), Item::Text(shape_id.into())),
                    ("message".into(), Item::Text(error.message.clone())),
                ])
            );
        }
    }

    #[test]
    fn routes_the_operation_path() {
        let route_of = |p| route(p).map(|r| (r.service, r.operation));
        assert_eq!(
            route_of("/service/AWS242ServiceCatalogService/operation/CreatePortfolio"),
            Some(("AWS242ServiceCatalogService", "CreatePortfolio"))
        );
        assert_eq!(
            route_of(
                "/v1/service/com.amazonaws.servicecatalog.AWS242ServiceCatalogService/operation/ListPortfolios"
            ),
            Some(("AWS242ServiceCatalogService", "ListPortfolios"))
        );
        for path in [
            "/",
            "/service/AWS242ServiceCatalogService",
            "/service/AWS242ServiceCatalogService/operation/",
            "/service/AWS242ServiceCatalogService/operation/List/More",
            "/service/Svc/operation/com.example.Op",
            "/service/Bad-Name/operation/Op",
        ] {
            assert_eq!(route_of(path), None, "{path}");
        }
        assert!(service("AWS242ServiceCatalogService").is_some());
        assert!(service("SageMaker").is_none());
    }

    #[test]
    fn checks_the_protocol_headers() {
        let check = |method, protocol, content_type, target, body| {
            check_request(method, protocol, content_type, target, body)
                .map_err(|e| (e.code, e.status, e.message))
        };
        let cbor = Some("application/cbor");
        assert_eq!(
            check("POST", Some("rpc-v2-cbor"), cbor, false, true),
            Ok(())
        );
        assert_eq!(
            check("POST", Some("rpc-v2-cbor"), None, false, false),
            Ok(())
        );
        assert_eq!(
            check(
                "POST",
                Some("rpc-v2-cbor"),
                Some("Application/CBOR; x=1"),
                false,
                true
            ),
            Ok(())
        );
        assert_eq!(
            check("POST", Some("rpc-v2-cbor"), Some("application/json"), false, true),
            Err((
                "UnsupportedMediaTypeException",
                415,
                "an rpcv2Cbor request body must be sent with `Content-Type: application/cbor`, not `application/json`".into()
            ))
        );
        assert_eq!(
            check("POST", Some("rpc-v2-cbor"), None, false, true),
            Err((
                "UnsupportedMediaTypeException",
                415,
                "an rpcv2Cbor request body must be sent with `Content-Type: application/cbor`, not without a Content-Type".into()
            ))
        );
        assert_eq!(
            check("POST", None, cbor, false, true),
            Err((
                "UnknownOperationException",
                400,
                "a request to /service/…/operation/… must carry the header `smithy-protocol: rpc-v2-cbor`".into()
            ))
        );
        assert_eq!(
            check("POST", Some("rpc-v2-json"), cbor, false, true),
            Err((
                "UnknownOperationException",
                400,
                "a request to /service/…/operation/… must carry the header `smithy-protocol: rpc-v2-cbor`, not `rpc-v2-json`".into()
            ))
        );
        assert_eq!(
            check("GET", Some("rpc-v2-cbor"), cbor, false, true),
            Err((
                "UnknownOperationException",
                400,
                "rpcv2Cbor requests use POST, not `GET`".into()
            ))
        );
        assert_eq!(
            check("POST", Some("rpc-v2-cbor"), cbor, true, true).map_err(|e| e.0),
            Err("SerializationException")
        );
    }

    fn any_item() -> impl Strategy<Value = Item> {
        let leaf = prop_oneof![
            any::<u64>().prop_map(Item::Unsigned),
            any::<u64>().prop_map(Item::Negative),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Item::Bytes),
            ".{0,20}".prop_map(Item::Text),
            any::<bool>().prop_map(Item::Bool),
            Just(Item::Null),
            any::<f64>()
                .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
                .prop_map(Item::Float),
            any::<f32>()
                .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
                .prop_map(|f| Item::Float(f64::from(f))),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Item::Array),
                proptest::collection::btree_map(".{0,8}", inner.clone(), 0..8)
                    .prop_map(|m| Item::Map(m.into_iter().collect())),
                (any::<u64>(), inner).prop_map(|(t, i)| Item::Tag(t, Box::new(i))),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_item_survives_a_round_trip(item in any_item()) {
            prop_assert_eq!(decode(&encode(&item)).unwrap(), item);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
            let _ = decode_input(catalog(), "CreatePortfolio", &bytes);
        }

        #[test]
        fn every_cut_of_a_valid_body_is_an_error(item in any_item(), cut in 0usize..1000) {
            let bytes = encode(&item);
            let cut = cut % bytes.len().max(1);
            prop_assert!(decode(&bytes[..cut]).is_err());
        }
    }
}
