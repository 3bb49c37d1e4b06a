//! Identifiers as AWS writes them: `AIDA…`/`AROA…`/`ANPA…` ids, `AKIA…`/`ASIA…` access keys,
//! 40-character secrets, session tokens and request ids, all from the operating system's
//! cryptographic random source.

use rand::Rng;
use rand::distr::{Alphanumeric, SampleString};

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn upper(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| UPPER_ALNUM[rng.random_range(0..UPPER_ALNUM.len())] as char)
        .collect()
}

/// `bytes` random bytes as hexadecimal (keys).
pub fn hex_secret(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// `len` random lowercase letters and digits (SageMaker domain ids: `d-` and 12 of them).
pub fn lowercase_alphanumeric(len: usize) -> String {
    const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| LOWER_ALNUM[rng.random_range(0..LOWER_ALNUM.len())] as char)
        .collect()
}

/// A unique id with AWS's four-letter prefix (`AIDA`, `AROA`, `ANPA`): 21 characters.
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}{}", upper(17))
}

/// An access key id (`AKIA` long-term, `ASIA` temporary): 20 characters.
pub fn access_key_id(prefix: &str) -> String {
    format!("{prefix}{}", upper(16))
}

/// A 40-character secret access key.
pub fn secret() -> String {
    let mut s = Alphanumeric.sample_string(&mut rand::rng(), 38);
    s.insert(12, '/');
    s.insert(27, '+');
    s
}

/// A session token (opaque, URL-safe base64 of 96 random bytes).
pub fn session_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 96];
    rand::rng().fill(&mut bytes[..]);
    format!(
        "IQoJb3JpZ2luX2Vj{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A request id (a version 4 UUID).
pub fn request_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill(&mut b[..]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = String::with_capacity(32);
    for x in b {
        h.push(HEX[usize::from(x >> 4)] as char);
        h.push(HEX[usize::from(x & 0xf)] as char);
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_aws() {
        assert_eq!(access_key_id("AKIA").len(), 20);
        assert_eq!(unique_id("AROA").len(), 21);
        assert_eq!(secret().len(), 40);
        let r = request_id();
        assert_eq!(r.len(), 36);
        assert_eq!(&r[14..15], "4");
        assert_ne!(access_key_id("AKIA"), access_key_id("AKIA"));
    }
}
