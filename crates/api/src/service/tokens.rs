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

/// A stored session whose access token is not signed yet.
pub struct OpenedSession {
    user: UserRecord,
    session_id: String,
    grant: Grant<'static>,
    refresh: OpaqueToken,
}

impl Services {
    /// Opens a session for `user` and returns its first token pair. Runs in
    /// the caller's transaction so a login and its session commit together.
    pub fn open_session(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        grant: Grant<'static>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<TokenResponse, StoreError> {
        let opened = self.open_session_unsigned(tx, user, grant, origin, now)?;
        Ok(self.sign_session(opened, now))
    }

    /// Stores the session without signing its access token, so the caller
    /// can sign (~40 µs of Ed25519) after its transaction commits, outside
    /// SQLite's one-writer section.
    pub fn open_session_unsigned(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        grant: Grant<'static>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<OpenedSession, StoreError> {
        let refresh = OpaqueToken::generate("rt", &mut OsRng);
        let session = NewSession {
            id: new_id(),
            user_id: user.id.clone(),
            refresh_token_hash: refresh.hash(),
            client: grant.client,
            amr: grant.amr.iter().map(|s| (*s).to_owned()).collect(),
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            created_at: now,
            expires_at: now.plus(self.policy.refresh_ttl),
        };
        tx.insert_session(&session)?;
        Ok(OpenedSession {
            user: user.clone(),
            session_id: session.id,
            grant,
            refresh,
        })
    }

    pub fn sign_session(&self, opened: OpenedSession, now: UnixTime) -> TokenResponse {
        let OpenedSession {
            user,
            session_id,
            grant,
            refresh,
        } = opened;
        let mut response =
            self.access_token(&user, &session_id, grant.client, grant.amr, refresh, now);
        response.two_factor_enrollment_deadline = grant.enrollment_deadline.map(rfc3339);
        response
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
