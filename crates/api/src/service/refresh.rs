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
    /// Exchanges a refresh token for a new pair. A token presented again
    /// after rotation revokes its session; a session that never proved a
    /// factor the account now requires is ended rather than refreshed.
    pub fn refresh(&self, presented: &str) -> Result<IssuedTokens, ServiceError> {
        let now = self.clock.now();
        let replacement = OpaqueToken::generate("rt", &mut OsRng);
        let rotated = self.store.write(|tx| {
            let session =
                match tx.rotate_refresh_token(&TokenHash::of(presented), &replacement.hash(), now)? {
                    Rotation::Rotated(session) => session,
                    Rotation::Unknown => return refuse(Refusal::SessionEnded),
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
                        return refuse(Refusal::SessionEnded);
                    }
                };
            let user = match tx.user_by_id(&session.user_id)? {
                Some(u) if !u.disabled => u,
                _ => {
                    tx.revoke_session(&session.id, now)?;
                    return refuse(Refusal::SessionEnded);
                }
            };
            let requirement = self.requirement(tx, &user)?;
            let status = tx.two_factor_status(&user.id)?;
            let amr = Amr::of(&session);
            if !session_suffices(status, &requirement, amr.proves_otp(), now) {
                tx.revoke_session(&session.id, now)?;
                return refuse(Refusal::SessionEnded);
            }
            Ok(Decided::Done((user, session, amr)))
        })?;
        let (user, session, amr) = rotated.into_result()?;
        self.access_token(&user, &session.id, session.client, amr, replacement, now)
    }

    pub fn logout(&self, session_id: &SessionId) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.store.write(|tx| tx.revoke_session(session_id, now))?;
        Ok(())
    }
}
