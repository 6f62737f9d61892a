//! Minting sessions and the token pair handed to a client.

use auth_core::{identity::ClientKind, jwt::Subject, opaque_token::OpaqueToken, UnixTime};
use persistence::{
    records::{NewSession, RequestOrigin, SessionRecord, UserRecord},
    StoreError, Tx,
};
use rand_core::OsRng;

use super::{new_id, rfc3339, Services};
use crate::dto::TokenResponse;

pub const AMR_PASSWORD: &[&str] = &["pwd"];
pub const AMR_PASSWORD_OTP: &[&str] = &["pwd", "otp"];

/// What a new session is granted on: the client and the factors proven.
pub struct Grant<'a> {
    pub client: ClientKind,
    pub amr: &'a [&'a str],
    /// Set during an organization grace period.
    pub enrollment_deadline: Option<UnixTime>,
}

impl Services {
    /// Opens a session for `user` and returns its first token pair. Runs in
    /// the caller's transaction so a login and its session commit together.
    pub fn open_session(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        grant: Grant<'_>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<TokenResponse, StoreError> {
        let Grant {
            client,
            amr,
            enrollment_deadline,
        } = grant;
        let refresh = OpaqueToken::generate("rt", &mut OsRng);
        let session = NewSession {
            id: new_id(),
            user_id: user.id.clone(),
            refresh_token_hash: refresh.hash(),
            client,
            amr: amr.iter().map(|s| (*s).to_owned()).collect(),
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            created_at: now,
            expires_at: now.plus(self.policy.refresh_ttl),
        };
        tx.insert_session(&session)?;
        let mut response = self.access_token(user, &session.id, client, amr, refresh, now);
        response.two_factor_enrollment_deadline = enrollment_deadline.map(rfc3339);
        Ok(response)
    }

    pub fn access_token(
        &self,
        user: &UserRecord,
        session_id: &str,
        client: ClientKind,
        amr: &[&str],
        refresh: OpaqueToken,
        now: UnixTime,
    ) -> TokenResponse {
        let access_token = self.tokens.sign(
            &Subject {
                user_id: &user.id,
                organization_id: &user.organization_id,
                role: user.role.as_str(),
                session_id,
                client: client.as_str(),
                amr,
            },
            new_id(),
            now,
        );
        TokenResponse {
            access_token,
            refresh_token: refresh.expose().to_owned(),
            token_type: "Bearer".into(),
            expires_in: self.tokens.ttl().as_secs(),
            amr: amr.iter().map(|s| (*s).to_owned()).collect(),
            two_factor_enrollment_deadline: None,
            recovery_codes: None,
        }
    }

    /// The amr of a stored session as the static slice used for signing.
    pub fn session_amr(session: &SessionRecord) -> &'static [&'static str] {
        if session.amr.iter().any(|m| m == "otp") {
            AMR_PASSWORD_OTP
        } else {
            AMR_PASSWORD
        }
    }
}
