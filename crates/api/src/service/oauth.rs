//! RFC 7662 introspection (for partners holding an API key) and RFC 7009
//! revocation (for clients holding a token): both answer from the session
//! store, so a token is inactive the moment its session ends, even while
//! its signature and expiry would still pass.

use auth_core::{
    ids::{OrganizationId, SessionId},
    opaque_token::TokenHash,
};

use super::{ServiceError, Services};

/// The kinds of token introspection recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

/// What is known of an active token. Times are Unix seconds.
#[derive(Debug)]
pub struct ActiveToken {
    pub kind: TokenKind,
    pub subject: String,
    pub organization_id: String,
    pub session_id: String,
    pub client_id: String,
    pub role: String,
    pub amr: Vec<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub issuer: String,
    /// Access tokens only.
    pub audience: Option<String>,
    pub jti: Option<String>,
}

/// An introspection answer: inactive tells nothing more (RFC 7662 §2.2),
/// also for a token of another organization.
#[derive(Debug)]
pub enum Introspection {
    Active(Box<ActiveToken>),
    Inactive,
}

impl Services {
    /// Whether `token` (an access or refresh token) stands for a live
    /// session of `organization_id`.
    pub fn introspect(
        &self,
        organization_id: &OrganizationId,
        token: &str,
    ) -> Result<Introspection, ServiceError> {
        let now = self.clock.now();
        if let Ok(claims) = self.tokens.verify(token, now) {
            let Some(sid) = SessionId::parse(&claims.sid) else {
                return Ok(Introspection::Inactive);
            };
            let live = self.store.query(|tx| tx.principal(&sid, now))?;
            return Ok(match live {
                Some(p)
                    if p.user.id.as_str() == claims.sub
                        && &p.user.organization_id == organization_id =>
                {
                    Introspection::Active(Box::new(ActiveToken {
                        kind: TokenKind::Access,
                        subject: claims.sub,
                        organization_id: claims.org,
                        session_id: claims.sid,
                        client_id: claims.client_id,
                        role: claims.role,
                        amr: claims.amr,
                        issued_at: claims.iat,
                        expires_at: claims.exp,
                        issuer: claims.iss,
                        audience: Some(claims.aud),
                        jti: Some(claims.jti),
                    }))
                }
                _ => Introspection::Inactive,
            });
        }
        let found = self.store.read(|tx| {
            let Some(session) = tx.session_by_refresh_token(&TokenHash::of(token), now)? else {
                return Ok(None);
            };
            let Some(p) = tx.principal(&session.id, now)? else {
                return Ok(None);
            };
            Ok(Some(p))
        })?;
        Ok(match found {
            Some(p) if &p.user.organization_id == organization_id => {
                Introspection::Active(Box::new(ActiveToken {
                    kind: TokenKind::Refresh,
                    subject: p.user.id.into_string(),
                    organization_id: p.user.organization_id.into_string(),
                    session_id: p.session.id.into_string(),
                    client_id: p.session.client.as_str().to_owned(),
                    role: p.user.role.as_str().to_owned(),
                    amr: p.session.amr,
                    issued_at: p.session.created_at.as_secs(),
                    expires_at: p.session.expires_at.as_secs(),
                    issuer: self.tokens.issuer_url(),
                    audience: None,
                    jti: None,
                }))
            }
            _ => Introspection::Inactive,
        })
    }

    /// Ends the session behind a refresh token (current or rotated away
    /// from) or an access token. Unknown and already-ended tokens change
    /// nothing: RFC 7009 answers `200` either way, so the answer reveals
    /// nothing about the token.
    pub fn revoke_token(&self, token: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let by_access = self
            .tokens
            .verify(token, now)
            .ok()
            .and_then(|c| SessionId::parse(&c.sid));
        self.store.write(|tx| {
            let session = match by_access {
                Some(sid) => Some(sid),
                None => tx.session_of_refresh_token(&TokenHash::of(token))?,
            };
            if let Some(sid) = session {
                if tx.revoke_session(&sid, now)? {
                    tracing::info!(session_id = %sid, "session revoked by token revocation");
                }
            }
            Ok(())
        })?;
        Ok(())
    }
}
