//! Who a user is: email, role, the client they log in from.

use std::{fmt, str::FromStr};

use unicode_normalization::UnicodeNormalization as _;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("not a valid email address")]
    InvalidEmail,
    #[error("role must be \"admin\" or \"agent\"")]
    InvalidRole,
    #[error("client must be one of web, mobile, extension, api")]
    InvalidClient,
    #[error("a name must be 1 to 200 characters")]
    InvalidName,
    #[error("two_factor_policy must be optional, required_for_admins or required_for_all")]
    InvalidPolicy,
    #[error("unknown login outcome")]
    InvalidOutcome,
}

/// An email address, trimmed, lower-cased and in Unicode NFC, so that
/// uniqueness and lookup are case-insensitive on every database and one
/// address cannot be registered twice in look-alike encodings (a composed
/// and a decomposed "é").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Lower-casing can decompose (and NFC can change case mappings), so
        // normalise on both sides of it.
        let s: String = s
            .trim()
            .nfc()
            .collect::<String>()
            .to_lowercase()
            .nfc()
            .collect();
        let (local, domain) = s.split_once('@').ok_or(IdentityError::InvalidEmail)?;
        let valid = s.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && !domain.is_empty()
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, ':' | '<' | '>' | ',' | ';' | '"')
            });
        if valid {
            Ok(Self(s))
        } else {
            Err(IdentityError::InvalidEmail)
        }
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name: trimmed, 1 to 200 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DisplayName {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let n = s.chars().count();
        if (1..=200).contains(&n) && !s.chars().any(char::is_control) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdentityError::InvalidName)
        }
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $err:expr, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = IdentityError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ _ => Err($err) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// An organization's admins manage its users; agents work the inboxes.
    Role, IdentityError::InvalidRole, { Admin => "admin", Agent => "agent" }
);

string_enum!(
    /// Which client a login comes from; recorded, never trusted for policy.
    ClientKind, IdentityError::InvalidClient,
    { Web => "web", Mobile => "mobile", Extension => "extension", Api => "api" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let e: Email = "  Ana.Silva@Example.COM ".parse().unwrap();
        assert_eq!(e.as_str(), "ana.silva@example.com");
    }

    #[test]
    fn look_alike_encodings_of_one_address_are_the_same_email() {
        let composed: Email = "Jos\u{e9}@Example.com".parse().unwrap();
        let decomposed: Email = "JOSE\u{301}@example.com".parse().unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(composed.as_str(), "jos\u{e9}@example.com");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "a b@example.com",
            "a@b@c",
            "ana@.com",
            "a:b@c.d",
        ] {
            assert_eq!(
                bad.parse::<Email>(),
                Err(IdentityError::InvalidEmail),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn roles_and_clients_parse_from_their_names_only() {
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!("Admin".parse::<Role>(), Err(IdentityError::InvalidRole));
        assert_eq!("extension".parse::<ClientKind>(), Ok(ClientKind::Extension));
        assert!("desktop".parse::<ClientKind>().is_err());
    }

    #[test]
    fn names_must_be_printable_and_not_blank() {
        assert!("  ".parse::<DisplayName>().is_err());
        assert!("a\u{7}".parse::<DisplayName>().is_err());
        assert_eq!("  Ana ".parse::<DisplayName>().unwrap().as_str(), "Ana");
    }
}
