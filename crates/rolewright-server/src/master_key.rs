//! The master key that seals secrets at rest: secret access keys, STS session secrets and tokens,
//! and the Studio URL key are stored encrypted (XChaCha20-Poly1305, a fresh random nonce for
//! every encryption, the row's kind, id and field as associated data) and are plaintext only in
//! memory. Nothing here knows SQLite: a store passes each row through [`MasterKey::seal_row`]
//! before it writes it and through [`open_row`] after it reads it, whichever database it is.

use std::borrow::Cow;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use serde_json::{Map, Value};

use crate::model::kind;

/// The key file `rolewright serve` makes in a SQLite data directory when no
/// `--master-key-file` is given.
pub const KEY_FILE: &str = "master.key";

/// The `meta` row holding the key check value: a known text sealed under the master key, so that
/// a wrong key is refused at start instead of failing request by request.
pub const CHECK_ID: &str = "master_key_check";

/// How a sealed value starts; the version leaves room for another cipher or key rotation.
const SEALED_PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
const CHECK_TEXT: &[u8] = b"rolewright master key check";
/// A key file is 65 bytes; anything much longer is not one (and is not read whole).
const MAX_FILE_LEN: u64 = 1024;

/// 32 bytes that seal and open stored secrets. Its `Debug` shows nothing of the key.
pub struct MasterKey {
    bytes: [u8; KEY_LEN],
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// Why a master key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The file cannot be read.
    #[error("master key file {path}: cannot read it: {source}")]
    Read {
        /// The key file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not hold a key.
    #[error(
        "master key file {path}: {problem}; it must hold the 64 hexadecimal characters (32 bytes) \
         that `rolewright admin new-master-key` prints, optionally followed by a newline"
    )]
    Format {
        /// The key file.
        path: PathBuf,
        /// What is wrong, without any of the file's content.
        problem: String,
    },
    /// The generated key could not be written.
    #[error("cannot create the master key file {path}: {source}")]
    Create {
        /// The key file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The operating system gave no random bytes.
    #[error("cannot draw a master key from the operating system's random source: {0}")]
    Random(String),
}

/// A value could not be sealed (the row is not what its kind stores).
#[derive(Debug, thiserror::Error)]
#[error("cannot seal the secrets of {kind} `{id}`: {message}")]
pub struct SealError {
    kind: String,
    id: String,
    message: String,
}

/// A stored row made readable: its body with every secret in plaintext.
#[derive(Debug)]
pub struct OpenedRow<'b> {
    /// The body as the model reads it.
    pub body: Cow<'b, str>,
    /// Whether a secret was stored in plaintext (by a version before sealing); the store seals
    /// such rows in place.
    pub had_plaintext: bool,
}

/// Where a stored row keeps secrets.
enum SecretPlace {
    /// These string fields of a JSON object; sealed, `F` is stored as `F_sealed`. The renamed
    /// field makes a version that knows no sealing refuse the row instead of using the sealed
    /// text as a secret.
    Fields(&'static [&'static str]),
    /// The whole body.
    Body,
}

fn secret_place(entity_kind: &str, id: &str) -> Option<SecretPlace> {
    match (entity_kind, id) {
        (kind::ACCESS_KEY, _) => Some(SecretPlace::Fields(&["secret"])),
        (kind::SESSION, _) => Some(SecretPlace::Fields(&["secret", "token"])),
        (kind::META, "studio_url_key") => Some(SecretPlace::Body),
        _ => None,
    }
}

/// The associated data of one sealed value: a sealed secret opens only in the row and field it
/// was sealed for, so that rows cannot be swapped in the database.
fn context(entity_kind: &str, id: &str, field: &str) -> String {
    format!("rolewright/{entity_kind}/{id}/{field}")
}

impl MasterKey {
    fn from_bytes(bytes: [u8; KEY_LEN]) -> MasterKey {
        MasterKey {
            cipher: XChaCha20Poly1305::new(&bytes.into()),
            bytes,
        }
    }

    /// A new key from the operating system's random source.
    pub fn generate() -> Result<MasterKey, MasterKeyError> {
        use rand::TryRngCore as _;
        let mut bytes = [0u8; KEY_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| MasterKeyError::Random(e.to_string()))?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// The key as a key file holds it: 64 lowercase hexadecimal characters.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(KEY_LEN * 2);
        for b in self.bytes {
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        text
    }

    /// Reads a key file's content: 64 hexadecimal characters (either case) and at most one
    /// newline after them. The error says what is wrong without repeating the content.
    pub fn from_hex(text: &[u8]) -> Result<MasterKey, String> {
        let digits = text.strip_suffix(b"\n").unwrap_or(text);
        if digits.is_empty() {
            return Err(if text.is_empty() {
                "it is empty".into()
            } else {
                "it holds only a newline".into()
            });
        }
        if let Some(at) = digits.iter().position(|b| !b.is_ascii_hexdigit()) {
            let problem = match digits[at] {
                b'\n' | b'\r' => "is a line break, not a hexadecimal digit",
                b' ' | b'\t' => "is a space, not a hexadecimal digit",
                _ => "is not a hexadecimal digit",
            };
            return Err(format!("character {} {problem}", at + 1));
        }
        if digits.len() != KEY_LEN * 2 {
            return Err(format!(
                "it holds {} hexadecimal characters, not {}",
                digits.len(),
                KEY_LEN * 2
            ));
        }
        let mut bytes = [0u8; KEY_LEN];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
        }
        Ok(MasterKey::from_bytes(bytes))
    }

    /// Reads a key file. A file that others can read is used, with a warning in the log.
    pub fn read_file(path: &Path) -> Result<MasterKey, MasterKeyError> {
        let read = |source| MasterKeyError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read)?;
        let metadata = file.metadata().map_err(read)?;
        if !metadata.is_file() {
            return Err(MasterKeyError::Format {
                path: path.to_path_buf(),
                problem: "it is not a regular file".into(),
            });
        }
        let mut text = Vec::new();
        file.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut text)
            .map_err(read)?;
        if text.len() as u64 > MAX_FILE_LEN {
            return Err(MasterKeyError::Format {
                path: path.to_path_buf(),
                problem: format!("it is longer than {MAX_FILE_LEN} bytes"),
            });
        }
        let key = MasterKey::from_hex(&text).map_err(|problem| MasterKeyError::Format {
            path: path.to_path_buf(),
            problem,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            if metadata.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    "the master key file can be read by other users; `chmod 600` it"
                );
            }
        }
        Ok(key)
    }

    /// Reads `DIR/master.key`, or, when there is none, generates a key and writes it there
    /// (owner-only, complete or not at all) before anything is sealed with it. Says whether the
    /// file was created now.
    pub fn load_or_create(dir: &Path) -> Result<(MasterKey, bool), MasterKeyError> {
        let path = dir.join(KEY_FILE);
        if path.exists() {
            return MasterKey::read_file(&path).map(|key| (key, false));
        }
        let key = MasterKey::generate()?;
        key.write_new(&path)?;
        Ok((key, true))
    }

    /// Writes the key to a new owner-only file, through a temporary file renamed into place and
    /// synced, so that a crash leaves either no key file or a whole one.
    fn write_new(&self, path: &Path) -> Result<(), MasterKeyError> {
        let create = |source| MasterKeyError::Create {
            path: path.to_path_buf(),
            source,
        };
        let partial = path.with_extension("key.partial");
        let _ = std::fs::remove_file(&partial);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&partial).map_err(create)?;
        file.write_all(format!("{}\n", self.to_hex()).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(create)?;
        drop(file);
        std::fs::rename(&partial, path).map_err(create)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(create)?;
        }
        Ok(())
    }

    /// Seals `plaintext` for `context` under a fresh random nonce.
    fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| "the cipher refused the value".to_string())?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!(
            "{SEALED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Opens what [`MasterKey::seal`] made for the same context; `None` when this key did not
    /// seal it or it was altered.
    fn open(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        let encoded = sealed.strip_prefix(SEALED_PREFIX)?;
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(encoded)
            .ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }

    /// The key check value to store in the `meta` row [`CHECK_ID`].
    pub fn check_value(&self) -> Result<String, SealError> {
        self.seal(CHECK_TEXT, &context(kind::META, CHECK_ID, ""))
            .map_err(|message| SealError {
                kind: kind::META.into(),
                id: CHECK_ID.into(),
                message,
            })
    }

    /// Whether a stored key check value was made by this key.
    pub fn opens_check_value(&self, stored: &str) -> bool {
        self.open(stored, &context(kind::META, CHECK_ID, ""))
            .is_some_and(|text| text == CHECK_TEXT)
    }

    /// The body to store for a row: its secrets sealed, everything else as it was. Rows without
    /// secrets are returned as they are.
    pub fn seal_row<'b>(
        &self,
        entity_kind: &str,
        id: &str,
        body: &'b str,
    ) -> Result<Cow<'b, str>, SealError> {
        let fail = |message: String| SealError {
            kind: entity_kind.into(),
            id: id.into(),
            message,
        };
        match secret_place(entity_kind, id) {
            None => Ok(Cow::Borrowed(body)),
            Some(SecretPlace::Body) => self
                .seal(body.as_bytes(), &context(entity_kind, id, ""))
                .map(Cow::Owned)
                .map_err(fail),
            Some(SecretPlace::Fields(fields)) => {
                let mut object: Map<String, Value> =
                    serde_json::from_str(body).map_err(|e| fail(e.to_string()))?;
                for field in fields {
                    match object.shift_remove(*field) {
                        Some(Value::String(secret)) => {
                            let sealed = self
                                .seal(secret.as_bytes(), &context(entity_kind, id, field))
                                .map_err(fail)?;
                            object.insert(format!("{field}_sealed"), Value::String(sealed));
                        }
                        Some(_) => return Err(fail(format!("`{field}` is not a string"))),
                        None => {}
                    }
                }
                serde_json::to_string(&object)
                    .map(Cow::Owned)
                    .map_err(|e| fail(e.to_string()))
            }
        }
    }
}

/// A stored row's body with its secrets opened. A secret stored in plaintext (by a version
/// before sealing) is taken as it is and reported in [`OpenedRow::had_plaintext`]. Without a key,
/// only rows that hold no sealed secret can be read. The error never contains a secret.
pub fn open_row<'b>(
    key: Option<&MasterKey>,
    entity_kind: &str,
    id: &str,
    body: &'b str,
) -> Result<OpenedRow<'b>, String> {
    let unopened = |field: &str| match key {
        Some(_) => format!(
            "its sealed `{field}` does not open with this master key (sealed under another key, \
             or altered)"
        ),
        None => format!("its `{field}` is sealed and no master key was given"),
    };
    let open = |sealed: &str, field: &str| -> Result<Vec<u8>, String> {
        key.and_then(|k| k.open(sealed, &context(entity_kind, id, field)))
            .ok_or_else(|| unopened(if field.is_empty() { "body" } else { field }))
    };
    match secret_place(entity_kind, id) {
        None => Ok(OpenedRow {
            body: Cow::Borrowed(body),
            had_plaintext: false,
        }),
        Some(SecretPlace::Body) => {
            if !body.starts_with(SEALED_PREFIX) {
                return Ok(OpenedRow {
                    body: Cow::Borrowed(body),
                    had_plaintext: true,
                });
            }
            let plaintext = open(body, "")?;
            let text = String::from_utf8(plaintext).map_err(|_| "its body is not text")?;
            Ok(OpenedRow {
                body: Cow::Owned(text),
                had_plaintext: false,
            })
        }
        Some(SecretPlace::Fields(fields)) => {
            let mut object: Map<String, Value> =
                serde_json::from_str(body).map_err(|e| e.to_string())?;
            let mut had_plaintext = false;
            let mut changed = false;
            for field in fields {
                match object.shift_remove(&format!("{field}_sealed")) {
                    Some(Value::String(sealed)) => {
                        let plaintext = open(&sealed, field)?;
                        let text = String::from_utf8(plaintext)
                            .map_err(|_| format!("its `{field}` is not text"))?;
                        object.insert((*field).to_string(), Value::String(text));
                        changed = true;
                    }
                    Some(_) => return Err(format!("its `{field}_sealed` is not a string")),
                    None => had_plaintext |= object.contains_key(*field),
                }
            }
            let body = if changed {
                Cow::Owned(serde_json::to_string(&object).map_err(|e| e.to_string())?)
            } else {
                Cow::Borrowed(body)
            };
            Ok(OpenedRow {
                body,
                had_plaintext,
            })
        }
    }
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn key() -> MasterKey {
        MasterKey::from_hex(HEX.as_bytes()).unwrap()
    }

    #[test]
    fn a_key_file_is_64_hex_characters_with_an_optional_newline() {
        assert_eq!(key().to_hex(), HEX);
        let with_newline = format!("{}\n", HEX.to_uppercase());
        assert_eq!(
            MasterKey::from_hex(with_newline.as_bytes())
                .unwrap()
                .to_hex(),
            HEX
        );
        let generated = MasterKey::generate().unwrap();
        assert_eq!(
            MasterKey::from_hex(generated.to_hex().as_bytes())
                .unwrap()
                .to_hex(),
            generated.to_hex()
        );
        assert_ne!(
            generated.to_hex(),
            MasterKey::generate().unwrap().to_hex(),
            "every generated key is new"
        );
    }

    #[test]
    fn a_malformed_key_file_says_what_is_wrong_without_its_content() {
        let problem = |text: &str| MasterKey::from_hex(text.as_bytes()).unwrap_err();
        assert_eq!(problem(""), "it is empty");
        assert_eq!(problem("\n"), "it holds only a newline");
        assert_eq!(
            problem(&HEX[..62]),
            "it holds 62 hexadecimal characters, not 64"
        );
        assert_eq!(
            problem(&format!("{HEX}00")),
            "it holds 66 hexadecimal characters, not 64"
        );
        assert_eq!(
            problem(&format!("{HEX}\n\n")),
            "character 65 is a line break, not a hexadecimal digit"
        );
        assert_eq!(
            problem(&format!("{HEX}\r\n")),
            "character 65 is a line break, not a hexadecimal digit"
        );
        assert_eq!(
            problem(&format!(" {}", &HEX[1..])),
            "character 1 is a space, not a hexadecimal digit"
        );
        let secretish = format!("{}zz", &HEX[..62]);
        let message = problem(&secretish);
        assert_eq!(message, "character 63 is not a hexadecimal digit");
        assert!(!message.contains(&HEX[..62]));
    }

    #[test]
    fn debug_shows_nothing_of_the_key() {
        assert_eq!(format!("{:?}", key()), "MasterKey(..)");
    }

    #[test]
    fn sealed_rows_open_with_the_same_key_only_and_only_in_their_own_row() {
        let body = r#"{"id":"AKIAEXAMPLE","secret":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","user":"u"}"#;
        let sealed = key()
            .seal_row(kind::ACCESS_KEY, "AKIAEXAMPLE", body)
            .unwrap();
        assert!(!sealed.contains("wJalrXUtnFEMI"), "{sealed}");
        assert!(
            sealed.contains(r#""secret_sealed":"sealed:v1:"#),
            "{sealed}"
        );
        assert!(sealed.contains(r#""user":"u""#), "{sealed}");

        let opened = open_row(Some(&key()), kind::ACCESS_KEY, "AKIAEXAMPLE", &sealed).unwrap();
        assert!(!opened.had_plaintext);
        let value: Value = serde_json::from_str(&opened.body).unwrap();
        assert_eq!(value["secret"], "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

        let other = MasterKey::generate().unwrap();
        assert_eq!(
            open_row(Some(&other), kind::ACCESS_KEY, "AKIAEXAMPLE", &sealed).unwrap_err(),
            "its sealed `secret` does not open with this master key (sealed under another key, or altered)"
        );
        assert_eq!(
            open_row(None, kind::ACCESS_KEY, "AKIAEXAMPLE", &sealed).unwrap_err(),
            "its `secret` is sealed and no master key was given"
        );
        assert!(
            open_row(Some(&key()), kind::ACCESS_KEY, "AKIAOTHER", &sealed).is_err(),
            "a sealed secret moved to another row does not open"
        );
    }

    #[test]
    fn every_seal_draws_a_new_nonce() {
        let body = r#"{"secret":"s","token":"t"}"#;
        let a = key().seal_row(kind::SESSION, "ASIA1", body).unwrap();
        let b = key().seal_row(kind::SESSION, "ASIA1", body).unwrap();
        assert_ne!(a, b, "the same secret sealed twice must not look the same");
        assert!(!a.contains(r#""t""#) && !a.contains(r#""s""#), "{a}");
    }

    #[test]
    fn plaintext_rows_of_earlier_versions_are_read_and_reported() {
        let body = r#"{"secret":"s","token":"t","role":"r"}"#;
        let opened = open_row(None, kind::SESSION, "ASIA1", body).unwrap();
        assert!(opened.had_plaintext);
        assert_eq!(opened.body, body);
        let url_key = open_row(Some(&key()), kind::META, "studio_url_key", "abcd").unwrap();
        assert!(url_key.had_plaintext);
        let sealed = key()
            .seal_row(kind::META, "studio_url_key", "abcd")
            .unwrap();
        let opened = open_row(Some(&key()), kind::META, "studio_url_key", &sealed).unwrap();
        assert_eq!(
            (opened.body.as_ref(), opened.had_plaintext),
            ("abcd", false)
        );
        let role = r#"{"name":"r"}"#;
        assert_eq!(key().seal_row(kind::ROLE, "r", role).unwrap(), role);
    }

    #[test]
    fn the_check_value_tells_the_right_key_from_a_wrong_one() {
        let check = key().check_value().unwrap();
        assert!(key().opens_check_value(&check));
        assert!(!MasterKey::generate().unwrap().opens_check_value(&check));
        assert!(!key().opens_check_value("true"));
    }
}
