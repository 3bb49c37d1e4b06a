//! XML output for the query protocol: the `<OpResponse>`/`<OpResult>` wrappers, `member` lists,
//! ISO timestamps, percent-encoded policy documents and the `ErrorResponse` shape.

use std::fmt::Write as _;

use crate::error::ApiError;

/// Builds one response document.
pub struct XmlWriter {
    out: String,
}

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Appends `text` escaped for an XML element.
fn escape_into(out: &mut String, text: &str) {
    let plain = |c: char| {
        !matches!(c, '&' | '<' | '>' | '"' | '\'' | '\u{fffe}' | '\u{ffff}')
            && (c >= ' ' || matches!(c, '\t' | '\n' | '\r'))
    };
    if text.chars().all(plain) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all (echoed from bad input) become U+FFFD.
            c if !plain(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// Percent-encodes a policy document as IAM does in responses (RFC 3986 unreserved kept).
pub fn encode_document(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `2026-11-23T04:58:14Z` from unix seconds.
pub fn iso_time(unix: i64) -> String {
    let amz = rolewright_sigv4::format_amz_date(unix);
    // YYYYMMDDTHHMMSSZ → YYYY-MM-DDTHH:MM:SSZ
    if amz.len() == 16 {
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            &amz[0..4],
            &amz[4..6],
            &amz[6..8],
            &amz[9..11],
            &amz[11..13],
            &amz[13..15]
        )
    } else {
        amz
    }
}

/// Unix seconds from `YYYY-MM-DDTHH:MM:SS[.fff]Z` (or the compact `YYYYMMDDTHHMMSSZ`).
pub fn parse_iso_time(text: &str) -> Option<i64> {
    let compact: String = text
        .split('.')
        .next()?
        .trim_end_matches('Z')
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let compact = if compact.len() == 8 {
        format!("{compact}T000000Z")
    } else {
        format!("{compact}Z")
    };
    rolewright_sigv4::parse_amz_date(&compact)
}

impl XmlWriter {
    /// An empty result body; `wrap` adds the operation's wrappers.
    pub fn new() -> XmlWriter {
        XmlWriter {
            out: String::with_capacity(512),
        }
    }

    /// Opens an element.
    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// Closes an element.
    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// A text element.
    pub fn leaf(&mut self, tag: &str, text: &str) -> &mut Self {
        self.open(tag);
        escape_into(&mut self.out, text);
        self.close(tag)
    }

    /// Appends what another writer built (members written apart, then placed in order).
    pub fn raw(&mut self, part: XmlWriter) -> &mut Self {
        self.out.push_str(&part.out);
        self
    }

    /// A text element when the value is present.
    pub fn leaf_opt(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.leaf(tag, text);
        }
        self
    }

    /// A timestamp element.
    pub fn time(&mut self, tag: &str, unix: i64) -> &mut Self {
        self.leaf(tag, &iso_time(unix))
    }

    /// A policy document element, percent-encoded.
    pub fn document(&mut self, tag: &str, text: &str) -> &mut Self {
        self.leaf(tag, &encode_document(text))
    }

    /// A list of text members.
    pub fn members<'a>(
        &mut self,
        tag: &str,
        items: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        self.open(tag);
        for item in items {
            self.leaf("member", item);
        }
        self.close(tag)
    }

    /// `IsTruncated` and, when truncated, `Marker`.
    pub fn page(&mut self, next_marker: Option<&str>) -> &mut Self {
        self.leaf(
            "IsTruncated",
            if next_marker.is_some() {
                "true"
            } else {
                "false"
            },
        );
        self.leaf_opt("Marker", next_marker)
    }

    /// The whole response: `<{op}Response xmlns=...><{op}Result>...</{op}Result>` and the
    /// request id.
    pub fn wrap(self, op: &str, namespace: &str, request_id: &str) -> String {
        format!(
            "<{op}Response xmlns=\"{namespace}\"><{op}Result>{}</{op}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>",
            self.out
        )
    }
}

impl Default for XmlWriter {
    fn default() -> Self {
        XmlWriter::new()
    }
}

/// The response of an operation without output.
pub fn empty_response(op: &str, namespace: &str, request_id: &str) -> String {
    format!(
        "<{op}Response xmlns=\"{namespace}\"><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>"
    )
}

/// AWS's query-protocol error document.
pub fn error_document(error: &ApiError, namespace: &str, request_id: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        if error.receiver { "Receiver" } else { "Sender" },
        error.code,
        escape(&error.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_percent_encoded_like_iam() {
        assert_eq!(
            encode_document("{\"a\": \"b/c\"}"),
            "%7B%22a%22%3A%20%22b%2Fc%22%7D"
        );
    }

    #[test]
    fn times_round_trip() {
        let t = 1_795_000_000;
        assert_eq!(parse_iso_time(&iso_time(t)), Some(t));
        assert_eq!(
            parse_iso_time("2026-11-23T04:58:14.123Z"),
            parse_iso_time("2026-11-23T04:58:14Z")
        );
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        assert_eq!(
            escape("a\u{1}b\u{0}c\u{fffe}\td"),
            "a\u{fffd}b\u{fffd}c\u{fffd}\td"
        );
    }

    #[test]
    fn error_documents_escape_messages() {
        let e = ApiError::no_such_entity("The role with name <x> cannot be found.");
        let doc = error_document(&e, "ns", "rid");
        assert!(doc.contains("<Code>NoSuchEntity</Code><Message>The role with name &lt;x&gt; cannot be found.</Message>"));
    }
}
