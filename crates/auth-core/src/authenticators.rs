//! A user's authenticators: several named TOTP keys (a phone, a backup
//! phone, a password manager), each with its own replay mark and learned
//! clock drift.
//!
//! ```text
//!              add (fewer than MAX confirmed)     confirm (right code, in time)
//!   (nothing) ───────────────────────────▶ Pending ─────────────────────────▶ Confirmed
//!                    add again: the pending one is replaced            │
//!                                                                      │ remove
//!        ┌─────────────────────────────────────────────────────────────┤
//!        ▼ more than one confirmed                                     ▼ the last one
//!     removed                                   required of the user? refused
//!                                               otherwise: 2FA is off (password asked)
//! ```
//!
//! * The first confirmed authenticator turns 2FA on; 2FA is on while at
//!   least one is confirmed. A pending one never counts.
//! * Adding one while 2FA is on needs a proof from an existing one (or a
//!   recovery code): the caller's step-up. Moving to a new phone is "add the
//!   new one, then remove the old one", with no admin involved.
//! * A code is checked against every confirmed authenticator, all of them,
//!   in constant time each; which one matched is reported so that its step
//!   (and only its step) is marked used.
//!
//! The single authenticator's own states (pending → enabled) are
//! `crate::enrollment`.

use std::{fmt, str::FromStr};

use crate::{
    enrollment::{Accepted, EnabledFactor, PendingEnrollment, TwoFactorStatus, VerifyError},
    ids::FactorId,
    policy::{may_disable, DisableError, EnforcedBy, Requirement},
    totp::{Algorithm, OtpCode, TotpParams},
    UnixTime,
};

/// Confirmed authenticators a user may hold.
pub const MAX_AUTHENTICATORS: usize = 5;
/// Longest name, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// What a person calls an authenticator ("Work phone"): 1 to 64 characters
/// after trimming, no control characters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AuthenticatorName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {NAME_MAX_CHARS} characters")]
    TooLong,
    #[error("the name contains a control character")]
    ControlCharacter,
}

impl FromStr for AuthenticatorName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            Err(NameError::Empty)
        } else if s.chars().count() > NAME_MAX_CHARS {
            Err(NameError::TooLong)
        } else if s.chars().any(char::is_control) {
            Err(NameError::ControlCharacter)
        } else {
            Ok(Self(s.to_owned()))
        }
    }
}

impl AuthenticatorName {
    /// A name read back from storage, which holds only parsed names.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuthenticatorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which authenticator, as events and the login history name it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthenticatorRef {
    pub id: FactorId,
    pub name: String,
}

/// A confirmed authenticator.
#[derive(Clone, Debug)]
pub struct Confirmed {
    pub id: FactorId,
    pub name: AuthenticatorName,
    pub algorithm: Algorithm,
    pub factor: EnabledFactor,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

impl AuthenticatorRef {
    /// The same reference with its name replaced, for the records a removed
    /// person leaves behind (people name authenticators after themselves).
    #[must_use]
    pub fn without_name(self) -> Self {
        Self {
            id: self.id,
            name: crate::events::REMOVED.into(),
        }
    }
}

impl Confirmed {
    pub fn reference(&self) -> AuthenticatorRef {
        AuthenticatorRef {
            id: self.id.clone(),
            name: self.name.as_str().to_owned(),
        }
    }
}

/// An authenticator waiting for its first code.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id: FactorId,
    pub name: AuthenticatorName,
    pub algorithm: Algorithm,
    pub enrollment: PendingEnrollment,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthenticatorError {
    #[error("no such authenticator")]
    NotFound,
    #[error("at most {max} authenticators; remove one first")]
    TooMany { max: usize },
    /// Removing the last one would turn 2FA off, which someone requires.
    #[error(
        "the last authenticator cannot be removed while two-factor authentication is required"
    )]
    LastOneRequired(EnforcedBy),
}

/// What removing an authenticator amounts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Others remain; 2FA stays on.
    One,
    /// It is the last: 2FA goes off with it.
    Last,
}

/// How a code fared against a user's authenticators.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck<'a> {
    /// Right and fresh for this authenticator; store `accepted` with it.
    Accepted {
        authenticator: &'a Confirmed,
        accepted: Accepted,
    },
    /// Right, but its step was already used on this authenticator.
    Replayed {
        authenticator: &'a Confirmed,
    },
    Invalid,
}

impl PartialEq for Confirmed {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Confirmed {}

/// Everything a user has: confirmed authenticators, oldest first, and at
/// most one pending.
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    pub confirmed: Vec<Confirmed>,
    pub pending: Option<Pending>,
}

impl Keyring {
    pub fn status(&self) -> TwoFactorStatus {
        if !self.confirmed.is_empty() {
            TwoFactorStatus::Enabled
        } else if self.pending.is_some() {
            TwoFactorStatus::Pending
        } else {
            TwoFactorStatus::Disabled
        }
    }

    pub fn find(&self, id: &FactorId) -> Option<&Confirmed> {
        self.confirmed.iter().find(|a| &a.id == id)
    }

    /// Whether another authenticator may be added (or confirmed).
    pub fn may_add(&self, max: usize) -> Result<(), AuthenticatorError> {
        if self.confirmed.len() >= max {
            Err(AuthenticatorError::TooMany { max })
        } else {
            Ok(())
        }
    }

    /// Whether `id` may be removed under `requirement`, and what that means.
    pub fn removal(
        &self,
        id: &FactorId,
        requirement: &Requirement,
    ) -> Result<Removal, AuthenticatorError> {
        if self.find(id).is_none() {
            return Err(AuthenticatorError::NotFound);
        }
        if self.confirmed.len() > 1 {
            return Ok(Removal::One);
        }
        match may_disable(requirement) {
            Ok(()) => Ok(Removal::Last),
            Err(DisableError::Enforced(by)) => Err(AuthenticatorError::LastOneRequired(by)),
        }
    }

    /// Checks `code` against every confirmed authenticator. Each is checked
    /// in full (its whole window, in constant time) before any result is
    /// looked at, so the time taken depends on how many authenticators the
    /// user has, never on which one matched or whether one did.
    pub fn check(
        &self,
        code: &OtpCode,
        now: UnixTime,
        params: impl Fn(Algorithm) -> TotpParams,
    ) -> CodeCheck<'_> {
        let results: Vec<(&Confirmed, Result<Accepted, VerifyError>)> = self
            .confirmed
            .iter()
            .map(|a| (a, a.factor.verify(code, now, &params(a.algorithm))))
            .collect();
        if let Some((authenticator, Ok(accepted))) = results.iter().find(|(_, r)| r.is_ok()) {
            return CodeCheck::Accepted {
                authenticator,
                accepted: *accepted,
            };
        }
        match results
            .iter()
            .find(|(_, r)| *r == Err(VerifyError::Replayed))
        {
            Some((authenticator, _)) => CodeCheck::Replayed { authenticator },
            None => CodeCheck::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        drift::Drift,
        enrollment::EnrollmentSource,
        totp::{TimeStep, TotpSecret},
    };

    const T0: UnixTime = UnixTime::from_secs(1_700_000_000);

    fn p() -> TotpParams {
        TotpParams::default()
    }

    fn confirmed(n: u8) -> Confirmed {
        Confirmed {
            id: FactorId::from_stored(format!("a{n}")),
            name: format!("Phone {n}").parse().unwrap(),
            algorithm: Algorithm::Sha1,
            factor: EnabledFactor {
                secret: TotpSecret::from_bytes(vec![n; 20]).unwrap(),
                enabled_at: T0,
                last_used_step: None,
                drift: Drift::NONE,
                source: EnrollmentSource::SelfService,
            },
            created_at: T0,
            last_used_at: None,
        }
    }

    fn keyring(n: u8) -> Keyring {
        Keyring {
            confirmed: (1..=n).map(confirmed).collect(),
            pending: None,
        }
    }

    fn code_of(n: u8, at: UnixTime) -> OtpCode {
        p().code_at(&TotpSecret::from_bytes(vec![n; 20]).unwrap(), at)
    }

    const REQUIRED: Requirement = Requirement {
        enforced_by: Some(EnforcedBy::Admin),
        grace_until: None,
    };

    #[test]
    fn a_code_from_any_confirmed_authenticator_is_accepted_and_names_it() {
        let ring = keyring(3);
        match ring.check(&code_of(2, T0), T0, |_| p()) {
            CodeCheck::Accepted {
                authenticator,
                accepted,
            } => {
                assert_eq!(authenticator.id.as_str(), "a2");
                assert_eq!(accepted.step, p().step_at(T0));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ring.check(&code_of(9, T0), T0, |_| p()), CodeCheck::Invalid);
    }

    #[test]
    fn replay_protection_is_per_authenticator() {
        let mut ring = keyring(2);
        ring.confirmed[1].factor.last_used_step = Some(p().step_at(T0));
        // The second one's code of this step was used…
        assert!(matches!(
            ring.check(&code_of(2, T0), T0, |_| p()),
            CodeCheck::Replayed { authenticator } if authenticator.id.as_str() == "a2"
        ));
        // …which does not spend the first one's code of the same step.
        assert!(matches!(
            ring.check(&code_of(1, T0), T0, |_| p()),
            CodeCheck::Accepted { .. }
        ));
    }

    #[test]
    fn a_pending_authenticator_neither_turns_two_factor_on_nor_accepts_codes() {
        let secret = TotpSecret::from_bytes(vec![4; 20]).unwrap();
        let ring = Keyring {
            confirmed: vec![],
            pending: Some(Pending {
                id: FactorId::from_stored("p".into()),
                name: "New phone".parse().unwrap(),
                algorithm: Algorithm::Sha1,
                enrollment: PendingEnrollment {
                    secret,
                    started_at: T0,
                },
            }),
        };
        assert_eq!(ring.status(), TwoFactorStatus::Pending);
        assert_eq!(ring.check(&code_of(4, T0), T0, |_| p()), CodeCheck::Invalid);
        assert_eq!(Keyring::default().status(), TwoFactorStatus::Disabled);
        assert_eq!(keyring(1).status(), TwoFactorStatus::Enabled);
    }

    #[test]
    fn the_cap_refuses_a_sixth_authenticator() {
        assert_eq!(keyring(4).may_add(MAX_AUTHENTICATORS), Ok(()));
        assert_eq!(
            keyring(5).may_add(MAX_AUTHENTICATORS),
            Err(AuthenticatorError::TooMany { max: 5 })
        );
    }

    #[test]
    fn a_required_user_may_remove_any_but_the_last() {
        let two = keyring(2);
        assert_eq!(
            two.removal(&two.confirmed[0].id, &REQUIRED),
            Ok(Removal::One)
        );
        let one = keyring(1);
        assert_eq!(
            one.removal(&one.confirmed[0].id, &REQUIRED),
            Err(AuthenticatorError::LastOneRequired(EnforcedBy::Admin))
        );
    }

    #[test]
    fn removing_the_last_without_a_requirement_turns_two_factor_off() {
        let one = keyring(1);
        assert_eq!(
            one.removal(&one.confirmed[0].id, &Requirement::NONE),
            Ok(Removal::Last)
        );
        assert_eq!(
            one.removal(&FactorId::from_stored("nope".into()), &Requirement::NONE),
            Err(AuthenticatorError::NotFound)
        );
    }

    #[test]
    fn each_authenticator_keeps_its_own_drift() {
        let mut ring = keyring(2);
        // The second phone runs three steps fast, and has learned so.
        ring.confirmed[1].factor.drift = Drift::from_sixteenths(3 * 16);
        let fast = T0.plus(std::time::Duration::from_secs(90));
        assert!(matches!(
            ring.check(&code_of(2, fast), T0, |_| p()),
            CodeCheck::Accepted { authenticator, .. } if authenticator.id.as_str() == "a2"
        ));
        // The first phone's window did not move with it.
        assert_eq!(
            ring.check(&code_of(1, fast), T0, |_| p()),
            CodeCheck::Invalid
        );
        let step = TimeStep(p().step_at(T0).0 + 3);
        let learned = ring.confirmed[1].factor.drift.learn(step, &p(), T0);
        assert_eq!(learned.centre(&p(), T0), step);
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(
            " Work phone "
                .parse::<AuthenticatorName>()
                .unwrap()
                .as_str(),
            "Work phone"
        );
        assert_eq!("  ".parse::<AuthenticatorName>(), Err(NameError::Empty));
        assert_eq!(
            "x".repeat(65).parse::<AuthenticatorName>(),
            Err(NameError::TooLong)
        );
        assert_eq!(
            "a\u{0}b".parse::<AuthenticatorName>(),
            Err(NameError::ControlCharacter)
        );
        assert!("Téléphone 📱".parse::<AuthenticatorName>().is_ok());
    }
}
