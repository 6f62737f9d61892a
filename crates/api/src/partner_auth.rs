//! Callers that may be an admin (access token) or a partner (API key,
//! `Bearer agk_…`) on the read endpoints a scope names.

use std::{future::Future, marker::PhantomData, pin::Pin};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use auth_core::api_key::{looks_like_api_key, Scope};
use persistence::{api_keys::ApiKeyRecord, records::UserRecord};

use crate::{
    extract::Admin,
    problem::ApiError,
    service::{api_keys::KeyRefusal, Refusal, Services},
};

/// A scope an endpoint requires of an API key.
pub trait RequiredScope {
    const SCOPE: Scope;
}

pub struct UsersRead;
impl RequiredScope for UsersRead {
    const SCOPE: Scope = Scope::UsersRead;
}

pub struct AuditRead;
impl RequiredScope for AuditRead {
    const SCOPE: Scope = Scope::AuditRead;
}

pub struct TokensIntrospect;
impl RequiredScope for TokensIntrospect {
    const SCOPE: Scope = Scope::TokensIntrospect;
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

/// A live API key carrying scope `S`, and the admin it acts for.
pub struct ApiKeyCaller<S> {
    pub key: ApiKeyRecord,
    pub admin: UserRecord,
    _scope: PhantomData<S>,
}

async fn key_caller<S: RequiredScope>(
    services: Option<web::Data<Services>>,
    key: String,
) -> Result<ApiKeyCaller<S>, ApiError> {
    let services = services.ok_or(ApiError::Internal)?;
    let found = web::block(move || services.authenticate_api_key(&key, S::SCOPE)).await??;
    match found {
        Ok(caller) => Ok(ApiKeyCaller {
            key: caller.key,
            admin: caller.admin,
            _scope: PhantomData,
        }),
        Err(KeyRefusal::Unknown) => Err(ApiError::Unauthorized),
        Err(KeyRefusal::MissingScope(scope)) => {
            Err(ApiError::Refused(Refusal::MissingScope(scope.as_str())))
        }
    }
}

impl<S: RequiredScope + 'static> FromRequest for ApiKeyCaller<S> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let services = req.app_data::<web::Data<Services>>().cloned();
        let token = bearer(req).filter(|t| looks_like_api_key(t));
        Box::pin(
            async move { key_caller::<S>(services, token.ok_or(ApiError::Unauthorized)?).await },
        )
    }
}

/// An admin by access token, or an API key of their organization with
/// scope `S`: either way, the admin whose rights apply.
pub struct AdminOrKey<S>(pub UserRecord, pub PhantomData<S>);

impl<S: RequiredScope + 'static> FromRequest for AdminOrKey<S> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        match bearer(req).filter(|t| looks_like_api_key(t)) {
            Some(key) => {
                let services = req.app_data::<web::Data<Services>>().cloned();
                Box::pin(async move {
                    let caller = key_caller::<S>(services, key).await?;
                    Ok(AdminOrKey(caller.admin, PhantomData))
                })
            }
            None => {
                let admin = Admin::from_request(req, payload);
                Box::pin(async move {
                    let Admin(auth) = admin.await?;
                    Ok(AdminOrKey(auth.principal.user, PhantomData))
                })
            }
        }
    }
}
