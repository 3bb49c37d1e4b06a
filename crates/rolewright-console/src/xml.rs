//! Reading the query protocol's XML answers that the console's calls return: elements by name
//! (nested lists included), their text, and IAM's percent-encoded policy documents.

use rolewright_client::xml::unescape;

/// The raw inside of the first `<tag>…</tag>`, counting nested elements of the same name.
pub fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    elements(xml, tag).into_iter().next()
}

/// The raw inside of every outermost `<tag>…</tag>`, in document order.
pub fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = xml[at..].find(&open) {
        let start = at + found + open.len();
        let mut depth = 1;
        let mut cursor = start;
        let end = loop {
            let next_open = xml[cursor..].find(&open).map(|i| cursor + i);
            let Some(next_close) = xml[cursor..].find(&close).map(|i| cursor + i) else {
                return out;
            };
            match next_open {
                Some(o) if o < next_close => {
                    depth += 1;
                    cursor = o + open.len();
                }
                _ => {
                    depth -= 1;
                    cursor = next_close + close.len();
                    if depth == 0 {
                        break next_close;
                    }
                }
            }
        };
        out.push(&xml[start..end]);
        at = cursor;
    }
    out
}

/// The decoded text of the first `<tag>`.
pub fn text(xml: &str, tag: &str) -> Option<String> {
    element(xml, tag).map(unescape)
}

/// The `member`s of the first list `<tag>`.
pub fn members<'a>(xml: &'a str, list: &str) -> Vec<&'a str> {
    element(xml, list)
        .map(|inner| elements(inner, "member"))
        .unwrap_or_default()
}

/// A policy document as IAM returns it (percent-encoded), decoded.
pub fn document(xml: &str, tag: &str) -> Option<String> {
    text(xml, tag).map(|t| percent_decode(&t))
}

/// Decodes `%XX` escapes; anything else is kept.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_members_stay_inside_their_parent() {
        let xml = "<R><Roles><member><RoleName>a</RoleName><Tags><member><Key>k</Key></member></Tags></member>\
                   <member><RoleName>b&amp;c</RoleName></member></Roles></R>";
        let roles = members(xml, "Roles");
        assert_eq!(roles.len(), 2);
        assert_eq!(text(roles[0], "RoleName").as_deref(), Some("a"));
        assert_eq!(members(roles[0], "Tags").len(), 1);
        assert_eq!(text(roles[1], "RoleName").as_deref(), Some("b&c"));
        assert!(members(roles[1], "Tags").is_empty());
    }

    #[test]
    fn documents_are_percent_decoded() {
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%E2%9C%93"), "✓");
    }
}
