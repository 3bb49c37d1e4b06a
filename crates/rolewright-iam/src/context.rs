//! The request context: condition keys and their values, looked up case-insensitively as IAM does.

/// The value of one context key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key (`aws:username`).
    Single(String),
    /// A multi-valued key (`aws:TagKeys`), possibly empty.
    Multi(Vec<String>),
}

impl ContextValue {
    /// The values as a slice, one element for a single value.
    pub fn values(&self) -> &[String] {
        match self {
            ContextValue::Single(v) => std::slice::from_ref(v),
            ContextValue::Multi(vs) => vs,
        }
    }
}

/// Condition keys of a request. Keys compare without regard to case; values keep their case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// Lowercased keys with their values. A short list scanned linearly beats a hash map for
    /// the dozen keys a request carries.
    entries: Vec<(String, ContextValue)>,
}

impl RequestContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key, replacing any earlier value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.insert(key, ContextValue::Single(value.into()))
    }

    /// Sets a multi-valued key, replacing any earlier value.
    pub fn set_multi<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.insert(
            key,
            ContextValue::Multi(values.into_iter().map(Into::into).collect()),
        )
    }

    /// Sets a key to a value.
    pub fn insert(&mut self, key: &str, value: ContextValue) -> &mut Self {
        let key = key.to_ascii_lowercase();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
        self
    }

    /// Adds a value to a key, making it multi-valued when it already had one.
    pub fn push(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        let lower = key.to_ascii_lowercase();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == lower) {
            Some((_, existing)) => {
                let mut values = existing.values().to_vec();
                values.push(value);
                *existing = ContextValue::Multi(values);
            }
            None => self.entries.push((lower, ContextValue::Single(value))),
        }
        self
    }

    /// Whether the key is present.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Looks a key up, ignoring case.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.get_lowercase(&key.to_ascii_lowercase())
        } else {
            self.get_lowercase(key)
        }
    }

    /// Looks up a key that the caller has already lowercased.
    pub fn get_lowercase(&self, key: &str) -> Option<&ContextValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Every key (lowercased) and value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_values_keep_it() {
        let mut ctx = RequestContext::new();
        ctx.set("aws:PrincipalTag/Team", "ML");
        assert_eq!(
            ctx.get("AWS:principaltag/team"),
            Some(&ContextValue::Single("ML".into()))
        );
        ctx.push("aws:TagKeys", "a").push("AWS:TAGKEYS", "b");
        assert_eq!(
            ctx.get("aws:tagkeys").map(ContextValue::values),
            Some(&["a".to_string(), "b".to_string()][..])
        );
    }
}
