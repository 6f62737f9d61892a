//! Creating organizations (CLI and first start).

use auth_core::{
    identity::{DisplayName, Email, Role},
    password::{Password, PasswordHash},
};
use persistence::{
    records::{Actor, NewAuditEvent, NewOrganization, NewUser},
    StoreError,
};
use rand_core::OsRng;

use super::{new_id, now, Services};
use crate::problem::ApiError;

pub struct CreatedOrganization {
    pub organization_id: String,
    pub admin_id: String,
    /// Set when the password was generated: shown once, stored only hashed.
    pub generated_password: Option<Password>,
}

impl Services {
    /// Hashes the given password, or a generated one (returned so it can be
    /// shown once).
    pub fn hash_new_password(
        &self,
        password: Option<Password>,
    ) -> Result<(PasswordHash, Option<Password>), ApiError> {
        let (password, generated) = match password {
            Some(p) => (p, false),
            None => (Password::generate(&mut OsRng), true),
        };
        let hash = self
            .hasher
            .hash(&password, &mut OsRng)
            .map_err(|_| ApiError::Internal)?;
        Ok((hash, generated.then_some(password)))
    }

    pub fn create_organization(
        &self,
        name: &DisplayName,
        admin_email: &Email,
        password: Option<Password>,
    ) -> Result<CreatedOrganization, ApiError> {
        let (hash, generated) = self.hash_new_password(password)?;
        let at = now();
        let org = NewOrganization {
            id: new_id(),
            name: name.clone(),
            created_at: at,
        };
        let admin = NewUser {
            id: new_id(),
            organization_id: org.id.clone(),
            email: admin_email.clone(),
            name: "Administrator".parse().expect("valid name"),
            role: Role::Admin,
            password_hash: hash,
            two_factor_required: false,
            created_at: at,
        };
        self.store.write(|tx| {
            tx.insert_organization(&org)?;
            tx.insert_user(&admin)?;
            tx.append_audit(&NewAuditEvent {
                organization_id: Some(&org.id),
                actor: Actor::System,
                target_user_id: Some(&admin.id),
                action: "organization.created",
                ip: None,
                details: serde_json::json!({ "name": org.name.as_str(), "admin_email": admin.email.as_str() }),
                at,
            })?;
            Ok::<_, StoreError>(())
        })?;
        Ok(CreatedOrganization {
            organization_id: org.id,
            admin_id: admin.id,
            generated_password: generated,
        })
    }

    pub fn has_organizations(&self) -> Result<bool, ApiError> {
        Ok(self.store.read(|tx| tx.count_organizations())? > 0)
    }
}
