use std::time::Duration;

use auth_core::{
    ids::OrganizationId,
    policy::{OrgTwoFactorPolicy, OrganizationPolicy},
    UnixTime,
};
use diesel::prelude::*;

use crate::{
    error::corrupt,
    records::{NewOrganization, OrganizationRecord},
    schema::organizations,
    StoreError, Tx,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub(crate) struct OrganizationRow {
    id: String,
    name: String,
    two_factor_policy: String,
    grace_period_hours: i32,
    policy_since: i64,
    created_at: i64,
    remember_device_days: i32,
}

impl TryFrom<OrganizationRow> for OrganizationRecord {
    type Error = StoreError;
    fn try_from(r: OrganizationRow) -> Result<Self, StoreError> {
        let hours = u64::try_from(r.grace_period_hours).map_err(corrupt)?;
        Ok(Self {
            policy: OrganizationPolicy {
                two_factor: r.two_factor_policy.parse().map_err(corrupt)?,
                grace_period: Duration::from_secs(hours * 3600),
                since: UnixTime::from_millis(r.policy_since),
            },
            id: OrganizationId::from_stored(r.id),
            name: r.name,
            created_at: UnixTime::from_millis(r.created_at),
            remember_device_days: u32::try_from(r.remember_device_days).map_err(corrupt)?,
        })
    }
}

impl Tx<'_> {
    pub fn insert_organization(&mut self, org: &NewOrganization) -> Result<(), StoreError> {
        diesel::insert_into(organizations::table)
            .values((
                organizations::id.eq(org.id.as_str()),
                organizations::name.eq(org.name.as_str()),
                organizations::two_factor_policy.eq(OrgTwoFactorPolicy::Optional.as_str()),
                organizations::grace_period_hours.eq(0),
                organizations::policy_since.eq(org.created_at.as_millis()),
                organizations::created_at.eq(org.created_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    pub fn count_organizations(&mut self) -> Result<i64, StoreError> {
        Ok(organizations::table.count().get_result(self.conn)?)
    }

    pub fn organization(
        &mut self,
        id: &OrganizationId,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        organizations::table
            .find(id.as_str())
            .select(OrganizationRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(OrganizationRecord::try_from)
            .transpose()
    }

    /// How long a remembered device lasts in this organization (0: off).
    pub fn set_remember_device_days(
        &mut self,
        id: &OrganizationId,
        days: u32,
    ) -> Result<(), StoreError> {
        let days = i32::try_from(days).map_err(corrupt)?;
        diesel::update(organizations::table.find(id.as_str()))
            .set(organizations::remember_device_days.eq(days))
            .execute(self.conn)?;
        Ok(())
    }

    pub fn update_organization_policy(
        &mut self,
        id: &OrganizationId,
        policy: &OrganizationPolicy,
    ) -> Result<(), StoreError> {
        let hours = i32::try_from(policy.grace_period.as_secs() / 3600).map_err(corrupt)?;
        diesel::update(organizations::table.find(id.as_str()))
            .set((
                organizations::two_factor_policy.eq(policy.two_factor.as_str()),
                organizations::grace_period_hours.eq(hours),
                organizations::policy_since.eq(policy.since.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }
}
