//! A set-password token and the mail that carries it: issued in the
//! caller's transaction, mailed after it commits.

use auth_core::{identity::Email, ids::UserId, opaque_token::OpaqueToken, UnixTime};
use persistence::{records::UserRecord, NewPasswordToken, StoreError, TokenPurpose, Tx};
use rand_core::OsRng;

use super::Services;

/// A set-password mail to send: to whom, which token, until when.
#[derive(Debug)]
pub struct PasswordLetter {
    pub to: Email,
    pub name: String,
    pub token: OpaqueToken,
    pub purpose: TokenPurpose,
    pub expires_at: UnixTime,
}

impl Services {
    /// Issues a token for `user` in the caller's transaction; earlier
    /// tokens of the user die.
    pub(crate) fn issue_password_token(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<PasswordLetter, StoreError> {
        let ttl = match purpose {
            TokenPurpose::Reset => self.policy.recovery.reset_ttl,
            TokenPurpose::Invitation => self.policy.recovery.invitation_ttl,
        };
        let token = OpaqueToken::generate("pr", &mut OsRng);
        let id = UserId::generate(&mut OsRng);
        let expires_at = now.plus(ttl);
        tx.issue_password_token(&NewPasswordToken {
            id: id.as_str(),
            user_id: &user.id,
            purpose,
            hash: &token.hash(),
            created_at: now,
            expires_at,
        })?;
        Ok(PasswordLetter {
            to: user.email.clone(),
            name: user.name.clone(),
            token,
            purpose,
            expires_at,
        })
    }
}
