//! Typed identifiers. Every id is an opaque string on the wire and in the
//! database, but a `UserId` and a `SessionId` are different types, so an
//! argument list like `(user, session)` cannot be passed the wrong way round.

use std::fmt;

use rand_core::CryptoRngCore;

/// Longest id accepted from outside (a path segment, a query parameter).
const MAX_EXTERNAL_LEN: usize = 64;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id (UUID version 4 text).
            pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
                Self(random_uuid(rng))
            }

            /// An id read back from storage, which only ever holds ids
            /// this service made.
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }

            /// An id given by a caller: short, and only letters, digits,
            /// `-` and `_`. Anything else cannot name a stored record.
            pub fn parse(s: &str) -> Option<Self> {
                is_external_id(s).then(|| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(
    /// A person's account.
    UserId
);
id_type!(
    /// The organization a user belongs to.
    OrganizationId
);
id_type!(
    /// A login session (one device's refresh token and its access tokens).
    SessionId
);
id_type!(
    /// One authenticator (a TOTP secret) of a user.
    FactorId
);
id_type!(
    /// The step of a login between the password and the second factor.
    ChallengeId
);
id_type!(
    /// A partner API key (its id, never the key itself).
    ApiKeyId
);
id_type!(
    /// A remembered device (its id, never its device token).
    DeviceId
);

fn is_external_id(s: &str) -> bool {
    (1..=MAX_EXTERNAL_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 9562 version 4: 122 random bits in the canonical 8-4-4-4-12 form.
/// Written byte by byte into a fixed buffer (a session is opened on every
/// login; per-byte `format!` cost ~12k instructions here).
fn random_uuid(rng: &mut impl CryptoRngCore) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn generated_ids_are_version_4_uuids() {
        let id = UserId::generate(&mut OsRng);
        let s = id.as_str();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(UserId::generate(&mut OsRng), id);
    }

    #[test]
    fn external_ids_are_short_and_plain() {
        assert!(UserId::parse("3f1c2d4e-0000-4000-8000-000000000000").is_some());
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("../etc/passwd").is_none());
        assert!(UserId::parse(&"a".repeat(65)).is_none());
        assert!(SessionId::parse("a b").is_none());
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id = SessionId::from_stored("s-1".into());
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"s-1\"");
        assert_eq!(format!("{id:?}"), "SessionId(s-1)");
    }
}
