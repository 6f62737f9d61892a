//! Request extractors: the caller's identity and origin.

use std::{future::Future, pin::Pin};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use auth_core::{
    client_address::{address_group, forwarded_for_hops, x_forwarded_for_hops, TrustedProxies},
    identity::Role,
    ids::SessionId,
    jwt::AccessClaims,
};
use persistence::records::{Principal, RequestOrigin};

use crate::{problem::ApiError, service::Services};

/// Edge settings the extractors need.
#[derive(Clone, Debug, Default)]
pub struct EdgeConfig {
    /// Proxies whose `Forwarded`/`X-Forwarded-For` are believed.
    pub trusted_proxies: TrustedProxies,
}

/// A caller with a valid access token whose session is still live, with
/// what most handlers need about them (read in one query).
pub struct Authenticated {
    pub principal: Principal,
    pub claims: AccessClaims,
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let services = req.app_data::<web::Data<Services>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let services = services.ok_or(ApiError::Internal)?;
            let token = token.ok_or(ApiError::Unauthorized)?;
            let at = services.clock.now();
            // Signature, audience, issuer, type and expiry: no I/O needed.
            let claims = services
                .tokens
                .verify(&token, at)
                .map_err(|_| ApiError::Unauthorized)?;
            let sid = SessionId::parse(&claims.sid).ok_or(ApiError::Unauthorized)?;
            let found =
                web::block(move || services.store.query(|tx| tx.principal(&sid, at))).await??;
            match found {
                Some(principal) if principal.user.id.as_str() == claims.sub => {
                    Ok(Self { principal, claims })
                }
                _ => Err(ApiError::Unauthorized),
            }
        })
    }
}

/// An authenticated admin; agents get `403`.
pub struct Admin(pub Authenticated);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let auth = inner.await?;
            if auth.principal.user.role == Role::Admin {
                Ok(Admin(auth))
            } else {
                Err(ApiError::Forbidden("this action requires the admin role"))
            }
        })
    }
}

/// Where the request came from, for the history and audit log.
pub struct Origin(pub RequestOrigin);

impl FromRequest for Origin {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ip = req
            .peer_addr()
            .map(|peer| match req.app_data::<web::Data<EdgeConfig>>() {
                Some(edge) if !edge.trusted_proxies.is_empty() => {
                    edge.trusted_proxies.client_address(peer.ip(), &hops(req))
                }
                _ => peer.ip().to_canonical(),
            });
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        std::future::ready(Ok(Origin(RequestOrigin {
            ip: ip.map(|ip| ip.to_string()),
            user_agent,
            ip_group: ip.map(address_group),
        })))
    }
}

impl Origin {
    /// The address group limits count this caller as.
    pub fn group(&self) -> Option<String> {
        self.0.ip_group.clone()
    }
}

/// The forwarding hops of a request: `Forwarded` when present (the
/// standard), otherwise `X-Forwarded-For`.
fn hops(req: &HttpRequest) -> Vec<String> {
    let values = |name: &str| -> Vec<&str> {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    let forwarded = values("forwarded");
    if forwarded.is_empty() {
        x_forwarded_for_hops(&values("x-forwarded-for"))
    } else {
        forwarded_for_hops(&forwarded)
    }
}

/// A JSON request body that must be an object. serde would otherwise
/// accept an array for a struct (fields by position), which is not the
/// documented contract.
pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Body<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let object =
            web::Json::<serde_json::Map<String, serde_json::Value>>::from_request(req, payload);
        Box::pin(async move {
            let map = object.await?.into_inner();
            serde_json::from_value(serde_json::Value::Object(map))
                .map(Body)
                .map_err(|e| ApiError::InvalidRequest(format!("invalid body: {e}")).into())
        })
    }
}
