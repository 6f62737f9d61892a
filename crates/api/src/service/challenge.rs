//! Login challenges: the step between a correct password and the tokens,
//! while a code (or an enrollment) is still owed.

use std::time::Duration;

use auth_core::{
    identity::ClientKind,
    ids::ChallengeId,
    opaque_token::{OpaqueToken, TokenHash},
    outcome::LoginOutcome,
    UnixTime,
};
use persistence::{
    records::{ChallengeKind, ChallengeRecord, NewChallenge, RequestOrigin, UserRecord},
    StoreError, Tx,
};
use rand_core::OsRng;

use super::{
    record::Attempt,
    refusal::{refuse, Decided, Refusal, ServiceError},
    Services,
};

/// A challenge handed to the client for the next step of its login.
#[derive(Debug)]
pub struct Challenge {
    pub token: OpaqueToken,
    pub expires_in: Duration,
}

/// A challenge that may still complete a login, and its user.
pub struct LiveChallenge {
    pub challenge: ChallengeRecord,
    pub user: UserRecord,
}

impl LiveChallenge {
    pub fn attempt<'a>(&'a self, origin: &'a RequestOrigin, at: UnixTime) -> Attempt<'a> {
        Attempt {
            user: Some(&self.user),
            client: Some(self.challenge.client),
            origin,
            at,
        }
    }
}

impl Services {
    pub(crate) fn open_challenge(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        kind: ChallengeKind,
        client: ClientKind,
        now: UnixTime,
    ) -> Result<Challenge, StoreError> {
        let token = OpaqueToken::generate("ch", &mut OsRng);
        tx.insert_challenge(&NewChallenge {
            id: ChallengeId::generate(&mut OsRng),
            token_hash: token.hash(),
            user_id: user.id.clone(),
            kind,
            client,
            created_at: now,
            expires_at: now.plus(self.policy.challenge_ttl),
        })?;
        Ok(Challenge {
            token,
            expires_in: self.policy.challenge_ttl,
        })
    }

    /// Finds a usable challenge of `kind` for `token`, recording why not
    /// when it is not.
    /// Refuses a token that names no challenge from a read, before the
    /// caller takes the write lock: junk never queues behind real logins.
    pub(crate) fn known_challenge(&self, token: &str) -> Result<(), ServiceError> {
        match self
            .store
            .read(|tx| tx.challenge_by_token(&TokenHash::of(token)))?
        {
            Some((_, false)) => Ok(()),
            _ => Err(Refusal::InvalidChallenge.into()),
        }
    }

    pub(crate) fn live_challenge(
        &self,
        tx: &mut Tx<'_>,
        token: &str,
        kind: ChallengeKind,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Decided<LiveChallenge>, StoreError> {
        let Some((challenge, consumed)) = tx.challenge_by_token(&TokenHash::of(token))? else {
            return refuse(Refusal::InvalidChallenge);
        };
        // A challenge of the other kind is as good as no challenge.
        if challenge.kind != kind || consumed {
            return refuse(Refusal::InvalidChallenge);
        }
        let Some(user) = tx.user_by_id(&challenge.user_id)? else {
            return refuse(Refusal::InvalidChallenge);
        };
        let live = LiveChallenge { challenge, user };
        let spent = if now >= live.challenge.expires_at {
            Some((LoginOutcome::ChallengeExpired, Refusal::InvalidChallenge))
        } else if live.user.disabled {
            Some((LoginOutcome::AccountDisabled, Refusal::AccountDisabled))
        } else {
            None
        };
        if let Some((outcome, refusal)) = spent {
            tx.consume_challenge(&live.challenge.id, now)?;
            self.record_attempt(tx, &live.attempt(origin, now), outcome)?;
            return refuse(refusal);
        }
        Ok(Decided::Done(live))
    }

    /// Counts a wrong code against a challenge and records it; a challenge
    /// that used up its attempts is spent, so the next try must log in again.
    pub(crate) fn refuse_code<T>(
        &self,
        tx: &mut Tx<'_>,
        live: &LiveChallenge,
        outcome: LoginOutcome,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Decided<T>, StoreError> {
        let attempt = live.attempt(origin, now);
        self.record_attempt(tx, &attempt, outcome)?;
        if tx.count_challenge_failure(&live.challenge.id)? >= self.policy.max_code_attempts {
            tx.consume_challenge(&live.challenge.id, now)?;
            self.record_attempt(tx, &attempt, LoginOutcome::TooManyAttempts)?;
        }
        refuse(Refusal::InvalidCode)
    }
}
