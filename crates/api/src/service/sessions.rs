//! A user's own sessions (devices): listing and ending them.

use auth_core::ids::SessionId;
use persistence::records::{SessionRecord, UserRecord};

use super::{
    refusal::{Missing, Refusal},
    step_up::{Caller, Needs, StepUp},
    ServiceError, Services,
};

/// The user's live sessions, most recently used first, and which one is
/// asking.
#[derive(Debug)]
pub struct SessionList {
    pub sessions: Vec<SessionRecord>,
    pub current: SessionId,
}

impl Services {
    pub fn sessions(
        &self,
        user: &UserRecord,
        current: &SessionId,
    ) -> Result<SessionList, ServiceError> {
        let now = self.clock.now();
        let sessions = self.store.read(|tx| tx.user_sessions(&user.id, now))?;
        Ok(SessionList {
            sessions,
            current: current.clone(),
        })
    }

    /// Ends one of the caller's sessions. Ending the current one is a
    /// logout; ending another needs the password (`proof`), so a stolen
    /// access token cannot shut the owner out.
    pub fn end_session(
        &self,
        caller: &Caller<'_>,
        session_id: &SessionId,
        proof: Option<&StepUp>,
    ) -> Result<(), ServiceError> {
        if session_id != caller.session {
            let proof = proof.ok_or(Refusal::StepUpRequired)?;
            self.step_up(caller, proof, Needs::Password)?;
        }
        let user = caller.user;
        let now = self.clock.now();
        if self
            .store
            .write(|tx| tx.revoke_own_session(&user.id, session_id, now))?
        {
            Ok(())
        } else {
            Err(Refusal::NotFound(Missing::Session).into())
        }
    }
}
