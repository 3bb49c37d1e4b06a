//! Just enough XML reading for query-protocol answers: the text of the first or of every
//! element with a given name, entities decoded. AWS's answers have no attributes on the
//! elements read here, no CDATA and no comments.

/// The decoded text of the first `<tag>…</tag>`, if any.
pub fn first_text(xml: &str, tag: &str) -> Option<String> {
    all_text(xml, tag).next()
}

/// The decoded text of every `<tag>…</tag>`, in document order (non-nested uses only).
pub fn all_text<'a>(xml: &'a str, tag: &str) -> impl Iterator<Item = String> + 'a {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut rest = xml;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let len = rest[start..].find(&close)?;
        let text = &rest[start..start + len];
        rest = &rest[start + len + close.len()..];
        Some(unescape(text))
    })
}

/// Decodes the five named entities and numeric character references.
pub fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_element_in_order_with_entities_decoded() {
        let xml =
            "<R><member><Arn>a&amp;b</Arn></member><member><Arn>&#x63;&#100;</Arn></member></R>";
        assert_eq!(all_text(xml, "Arn").collect::<Vec<_>>(), ["a&b", "cd"]);
        assert_eq!(first_text(xml, "Nope"), None);
    }

    #[test]
    fn a_stray_ampersand_stays() {
        assert_eq!(unescape("a & b &zz; c"), "a & b &zz; c");
    }
}
