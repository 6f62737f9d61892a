//! Minting sessions and the token pair handed to a client.

use std::time::Duration;

use auth_core::{
    identity::ClientKind, ids::SessionId, jwt::Subject, opaque_token::OpaqueToken,
    recovery::RecoveryCode, UnixTime,
};
use persistence::{
    records::{NewSession, RequestOrigin, SessionRecord, UserRecord},
    StoreError, Tx,
};
use rand_core::OsRng;

use super::{ServiceError, Services};

/// The factors a session has proven (RFC 8176 `amr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amr {
    Password,
    PasswordOtp,
    /// The password and a remembered device (earned with a code).
    PasswordDevice,
}

impl Amr {
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Amr::Password => &["pwd"],
            Amr::PasswordOtp => &["pwd", "otp"],
            Amr::PasswordDevice => &["pwd", "device"],
        }
    }

    pub fn of(session: &SessionRecord) -> Self {
        if session.amr.iter().any(|m| m == "otp") {
            Amr::PasswordOtp
        } else if session.amr.iter().any(|m| m == "device") {
            Amr::PasswordDevice
        } else {
            Amr::Password
        }
    }

    /// Whether the session proved a second factor: a code, or a remembered
    /// device that a code earned.
    pub fn proves_otp(self) -> bool {
        matches!(self, Amr::PasswordOtp | Amr::PasswordDevice)
    }
}

/// What a new session is granted on: the client and the factors proven.
#[derive(Clone, Copy, Debug)]
pub struct Grant {
    pub client: ClientKind,
    pub amr: Amr,
    /// Set during an organization grace period.
    pub enrollment_deadline: Option<UnixTime>,
}

/// Tokens issued once every required factor is proven.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: OpaqueToken,
    pub expires_in: Duration,
    pub amr: Amr,
    pub enrollment_deadline: Option<UnixTime>,
    /// Only when this login turned 2FA on.
    pub recovery_codes: Option<Vec<RecoveryCode>>,
    /// Only when the client asked to remember this device.
    pub device_token: Option<OpaqueToken>,
}

/// A stored session whose access token is not signed yet: signing (~40 µs
/// of Ed25519) happens after the transaction commits, outside SQLite's
/// one-writer section.
pub struct OpenedSession {
    user: UserRecord,
    session_id: SessionId,
    grant: Grant,
    refresh: OpaqueToken,
}

impl Services {
    /// Stores a new session for `user` in the caller's transaction, so a
    /// login and its session commit together.
    pub(crate) fn open_session(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        grant: Grant,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<OpenedSession, StoreError> {
        let refresh = OpaqueToken::generate("rt", &mut OsRng);
        let session = NewSession {
            id: SessionId::generate(&mut OsRng),
            user_id: user.id.clone(),
            refresh_token_hash: refresh.hash(),
            client: grant.client,
            amr: grant
                .amr
                .methods()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
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

    pub(crate) fn sign_session(
        &self,
        opened: OpenedSession,
        now: UnixTime,
    ) -> Result<IssuedTokens, ServiceError> {
        let OpenedSession {
            user,
            session_id,
            grant,
            refresh,
        } = opened;
        let mut tokens =
            self.access_token(&user, &session_id, grant.client, grant.amr, refresh, now)?;
        tokens.enrollment_deadline = grant.enrollment_deadline;
        Ok(tokens)
    }

    pub(crate) fn access_token(
        &self,
        user: &UserRecord,
        session_id: &SessionId,
        client: ClientKind,
        amr: Amr,
        refresh: OpaqueToken,
        now: UnixTime,
    ) -> Result<IssuedTokens, ServiceError> {
        let access_token = self
            .tokens
            .sign(
                &Subject {
                    user_id: &user.id,
                    organization_id: &user.organization_id,
                    role: user.role.as_str(),
                    session_id,
                    client: client.as_str(),
                    amr: amr.methods(),
                },
                uuid::Uuid::new_v4().to_string(),
                now,
            )
            .map_err(|e| {
                tracing::error!(error = %e, "signing an access token failed");
                ServiceError::Internal("signing an access token failed")
            })?;
        Ok(IssuedTokens {
            access_token,
            refresh_token: refresh,
            expires_in: self.tokens.ttl(),
            amr,
            enrollment_deadline: None,
            recovery_codes: None,
            device_token: None,
        })
    }
}
