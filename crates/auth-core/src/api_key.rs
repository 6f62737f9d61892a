//! Partner API keys: `agk_` + 32 random bytes (base64url), stored as a
//! SHA-256 hash only, with the scopes that say what they may read.

use std::{collections::BTreeSet, fmt};

/// What a key may do. A key never grants more than an admin of its
/// organization has: each scope names something an admin may already read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `GET /v1/users` and `GET /v1/users/{id}…`.
    UsersRead,
    /// `GET /v1/audit-events`.
    AuditRead,
    /// `POST /v1/oauth/introspect`.
    TokensIntrospect,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::UsersRead, Scope::AuditRead, Scope::TokensIntrospect];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::UsersRead => "users:read",
            Scope::AuditRead => "audit:read",
            Scope::TokensIntrospect => "tokens:introspect",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("unknown scope {0:?} (known: users:read, audit:read, tokens:introspect)")]
    Unknown(String),
    #[error("a key needs at least one scope")]
    Empty,
}

impl std::str::FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, ScopeError> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| ScopeError::Unknown(s.to_owned()))
    }
}

/// A non-empty set of scopes, kept sorted so it stores and prints the
/// same way every time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, ScopeError> {
        let set = names
            .into_iter()
            .map(str::parse)
            .collect::<Result<BTreeSet<_>, _>>()?;
        if set.is_empty() {
            return Err(ScopeError::Empty);
        }
        Ok(Self(set))
    }

    /// Scopes as stored: space-separated (RFC 6749 §3.3).
    pub fn from_stored(stored: &str) -> Result<Self, ScopeError> {
        Self::parse(stored.split(' ').filter(|s| !s.is_empty()))
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn to_stored(&self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }
}

/// The prefix every key starts with, so secret scanners and people can
/// recognise one (and so a key is never mistaken for a JWT).
pub const API_KEY_PREFIX: &str = "agk_";

/// Whether a bearer credential is shaped like an API key.
pub fn looks_like_api_key(credential: &str) -> bool {
    credential.starts_with(API_KEY_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_sorted_and_round_trip() {
        let s = Scopes::parse(["tokens:introspect", "users:read", "users:read"]).unwrap();
        assert_eq!(s.to_stored(), "users:read tokens:introspect");
        assert_eq!(Scopes::from_stored(&s.to_stored()).unwrap(), s);
        assert!(s.allows(Scope::UsersRead));
        assert!(!s.allows(Scope::AuditRead));
    }

    #[test]
    fn unknown_or_missing_scopes_are_refused() {
        assert_eq!(
            Scopes::parse(["users:write"]),
            Err(ScopeError::Unknown("users:write".into()))
        );
        assert_eq!(Scopes::parse([]), Err(ScopeError::Empty));
    }

    #[test]
    fn keys_are_recognised_by_their_prefix() {
        assert!(looks_like_api_key("agk_abc"));
        assert!(!looks_like_api_key("eyJhbGciOi"));
    }
}
