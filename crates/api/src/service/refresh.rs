//! Keeping a session going (refresh-token rotation) and ending it.

use auth_core::{
    events::SecurityEvent, ids::SessionId, opaque_token::OpaqueToken, opaque_token::TokenHash,
    policy::session_suffices,
};
use persistence::Rotation;
use rand_core::OsRng;

use super::{
    record::{record, Context},
    refusal::{refuse, Decided, Refusal, ServiceError},
    tokens::{Amr, IssuedTokens},
    Services,
};

impl Services {
    /// Exchanges a refresh token for a new pair. The token just rotated
    /// away from, presented again within the grace (`refresh_grace`),
    /// yields the same successor (with a fresh access token); any other
    /// token presented again after rotation revokes its session. A session
    /// that never proved a factor the account now requires is ended rather
    /// than refreshed. Each failure has its own refusal, so a client knows
    /// why it must log in again.
    pub fn refresh(&self, presented: &str) -> Result<IssuedTokens, ServiceError> {
        let now = self.clock.now();
        let replacement = OpaqueToken::generate("rt", &mut OsRng);
        let grace_since = now.minus(self.policy.refresh_grace);
        // Junk is answered from a read: it never queues for the write lock
        // that real refreshes and logins need.
        if !self
            .store
            .read(|tx| tx.refresh_token_known(&TokenHash::of(presented)))?
        {
            return Err(Refusal::RefreshTokenInvalid.into());
        }
        let rotated = self.store.write(|tx| {
            let (session, successor) =
                match tx.rotate_refresh_token(&TokenHash::of(presented), &replacement, grace_since, now)? {
                    Rotation::Rotated(session) => (session, replacement.clone()),
                    Rotation::Repeated { session, successor } => (session, successor),
                    Rotation::Unknown => return refuse(Refusal::RefreshTokenInvalid),
                    Rotation::Ended { .. } => return refuse(Refusal::SessionRevoked),
                    Rotation::Reused { session_id } => {
                        tracing::warn!(%session_id, "a rotated refresh token was presented again; session revoked");
                        if let Some((_, user)) = tx.session_owner(&session_id)? {
                            record(
                                tx,
                                &Context::system(now),
                                &user,
                                SecurityEvent::RefreshTokenReused { session_id },
                            )?;
                        }
                        return refuse(Refusal::SessionRevoked);
                    }
                };
            let user = match tx.user_by_id(&session.user_id)? {
                Some(u) if !u.disabled => u,
                _ => {
                    tx.revoke_session(&session.id, now)?;
                    return refuse(Refusal::SessionRevoked);
                }
            };
            let requirement = self.requirement(tx, &user)?;
            let status = tx.two_factor_status(&user.id)?;
            let amr = Amr::of(&session);
            if !session_suffices(status, &requirement, amr.proves_otp(), now) {
                tx.revoke_session(&session.id, now)?;
                return refuse(Refusal::SecondFactorNowRequired);
            }
            Ok(Decided::Done((user, session, amr, successor)))
        })?;
        let (user, session, amr, successor) = rotated.into_result()?;
        self.access_token(&user, &session.id, session.client, amr, successor, now)
    }

    pub fn logout(&self, session_id: &SessionId) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.store.write(|tx| tx.revoke_session(session_id, now))?;
        Ok(())
    }
}
