//! Passwords: hashing new ones, and changing one's own (after a step-up).

use auth_core::{
    events::SecurityEvent,
    password::{Password, PasswordHash},
};
use persistence::records::UserChanges;
use rand_core::OsRng;

use super::{
    record::{record, Context},
    step_up::{Caller, Needs, StepUp},
    ServiceError, Services,
};

impl Services {
    /// Hashes the given password, or a generated one (returned so it can be
    /// shown once).
    pub(crate) fn hash_new_password(
        &self,
        password: Option<Password>,
    ) -> Result<(PasswordHash, Option<Password>), ServiceError> {
        let (password, generated) = match password {
            Some(p) => (p, false),
            None => (Password::generate(&mut OsRng), true),
        };
        let hash = self.hasher.hash(&password, &mut OsRng).map_err(|e| {
            tracing::error!(error = %e, "hashing a password failed");
            ServiceError::Internal("hashing a password failed")
        })?;
        Ok((hash, generated.then_some(password)))
    }

    /// Changes the password after checking the current one; every other
    /// session of the user ends, and so do logins in flight.
    pub fn change_password(
        &self,
        caller: &Caller<'_>,
        proof: &StepUp,
        new: &Password,
    ) -> Result<(), ServiceError> {
        self.step_up(caller, proof, Needs::PasswordAndSecondFactor)?;
        let (user, session_id, origin) = (caller.user, caller.session, caller.origin);
        let (hash, _) = self.hash_new_password(Some(new.clone()))?;
        let now = self.clock.now();
        self.store.write(|tx| {
            tx.update_user(
                &user.id,
                &UserChanges {
                    password_hash: Some(hash),
                    ..UserChanges::default()
                },
                now,
            )?;
            let ended = tx.revoke_user_sessions(&user.id, Some(session_id), now)?;
            tx.revoke_user_challenges(&user.id, now)?;
            tx.forget_devices(&user.id, now)?;
            // A reset mail sent before the change must not undo it.
            tx.revoke_password_tokens(&user.id, now)?;
            record(
                tx,
                &Context::of_user(user, origin, now),
                user,
                SecurityEvent::PasswordChanged {
                    sessions_ended: ended,
                },
            )
        })?;
        Ok(())
    }
}
