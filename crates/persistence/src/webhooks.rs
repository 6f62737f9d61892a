//! Webhook endpoints of an organization. The signing secret is sealed with
//! the endpoint's id as associated data, like TOTP secrets; it is shown
//! once, at creation or rotation, and never read back through the API.

use auth_core::{webhook_signature::WebhookSecret, UnixTime};
use diesel::prelude::*;

use crate::{error::corrupt, schema::webhook_endpoints as we, StoreError, Tx};

#[derive(Clone, Debug)]
pub struct EndpointRecord {
    pub id: String,
    pub organization_id: String,
    pub url: String,
    /// Subscribed action names (`*` for all).
    pub events: Vec<String>,
    pub enabled: bool,
    pub failing_since: Option<UnixTime>,
    /// When it was turned off, while it is off.
    pub disabled_at: Option<UnixTime>,
    /// Why, while it is off: [`DISABLED_BY_ADMIN`] or [`DISABLED_FAILING`].
    pub disabled_reason: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// Turned off with `PATCH {"enabled": false}`.
pub const DISABLED_BY_ADMIN: &str = "admin";
/// Turned off by Authgate: every delivery failed for too long.
pub const DISABLED_FAILING: &str = "failing";

/// An endpoint with its secrets unsealed, for signing a delivery.
#[derive(Clone, Debug)]
pub struct SigningEndpoint {
    pub endpoint: EndpointRecord,
    pub secret: WebhookSecret,
    /// The secret before the last rotation, while it is still honoured.
    pub previous: Option<WebhookSecret>,
}

#[derive(Clone, Debug)]
pub struct NewEndpoint<'a> {
    pub id: &'a str,
    pub organization_id: &'a str,
    pub url: &'a str,
    pub events: &'a [String],
    pub secret: &'a WebhookSecret,
    pub at: UnixTime,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = we)]
struct EndpointRow {
    id: String,
    organization_id: String,
    url: String,
    events: String,
    enabled: bool,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
}

impl TryFrom<EndpointRow> for EndpointRecord {
    type Error = StoreError;
    fn try_from(r: EndpointRow) -> Result<Self, StoreError> {
        Ok(Self {
            events: serde_json::from_str(&r.events).map_err(corrupt)?,
            id: r.id,
            organization_id: r.organization_id,
            url: r.url,
            enabled: r.enabled,
            failing_since: r.failing_since.map(UnixTime::from_millis),
            disabled_at: r.disabled_at.map(UnixTime::from_millis),
            disabled_reason: r.disabled_reason,
            created_at: UnixTime::from_millis(r.created_at),
            updated_at: UnixTime::from_millis(r.updated_at),
        })
    }
}

/// An endpoint row with its sealed secret, the sealed previous secret and
/// until when the previous one still signs.
type SealedRow = (EndpointRow, Vec<u8>, Option<Vec<u8>>, Option<i64>);

fn events_json(events: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(events).map_err(corrupt)
}

impl Tx<'_> {
    pub fn insert_endpoint(&mut self, e: &NewEndpoint<'_>) -> Result<EndpointRecord, StoreError> {
        let sealed = self.secrets.seal(e.secret.as_bytes(), e.id)?;
        diesel::insert_into(we::table)
            .values((
                we::id.eq(e.id),
                we::organization_id.eq(e.organization_id),
                we::url.eq(e.url),
                we::events.eq(events_json(e.events)?),
                we::secret_ciphertext.eq(sealed),
                we::enabled.eq(true),
                we::created_at.eq(e.at.as_millis()),
                we::updated_at.eq(e.at.as_millis()),
            ))
            .execute(self.conn)?;
        self.endpoint(e.organization_id, e.id)?
            .ok_or_else(|| StoreError::Corrupt("inserted endpoint not found".into()))
    }

    /// One endpoint of one organization (another's is "not found").
    pub fn endpoint(
        &mut self,
        organization_id: &str,
        id: &str,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        we::table
            .filter(we::organization_id.eq(organization_id))
            .filter(we::id.eq(id))
            .select(EndpointRow::as_select())
            .first(self.conn)
            .optional()?
            .map(EndpointRecord::try_from)
            .transpose()
    }

    pub fn endpoints(&mut self, organization_id: &str) -> Result<Vec<EndpointRecord>, StoreError> {
        we::table
            .filter(we::organization_id.eq(organization_id))
            .order((we::created_at, we::id))
            .select(EndpointRow::as_select())
            .load(self.conn)?
            .into_iter()
            .map(EndpointRecord::try_from)
            .collect()
    }

    pub fn update_endpoint(
        &mut self,
        organization_id: &str,
        id: &str,
        changes: &EndpointChanges,
        at: UnixTime,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let target = we::table
            .filter(we::organization_id.eq(organization_id))
            .filter(we::id.eq(id));
        let n = diesel::update(target)
            .set(we::updated_at.eq(at.as_millis()))
            .execute(self.conn)?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(url) = &changes.url {
            diesel::update(we::table.filter(we::id.eq(id)))
                .set(we::url.eq(url))
                .execute(self.conn)?;
        }
        if let Some(events) = &changes.events {
            diesel::update(we::table.filter(we::id.eq(id)))
                .set(we::events.eq(events_json(events)?))
                .execute(self.conn)?;
        }
        if let Some(enabled) = changes.enabled {
            // (Re-)enabling starts the failure clock over. Turning off an
            // endpoint already off keeps when and why it went off.
            let on = (
                we::enabled.eq(true),
                we::failing_since.eq(None::<i64>),
                we::disabled_at.eq(None::<i64>),
                we::disabled_reason.eq(None::<String>),
            );
            let off = (
                we::enabled.eq(false),
                we::failing_since.eq(None::<i64>),
                we::disabled_at.eq(Some(at.as_millis())),
                we::disabled_reason.eq(Some(DISABLED_BY_ADMIN)),
            );
            if enabled {
                diesel::update(we::table.filter(we::id.eq(id)))
                    .set(on)
                    .execute(self.conn)?;
            } else {
                diesel::update(we::table.filter(we::id.eq(id)).filter(we::enabled.eq(true)))
                    .set(off)
                    .execute(self.conn)?;
            }
        }
        self.endpoint(organization_id, id)
    }

    /// `true` if the endpoint existed.
    pub fn delete_endpoint(&mut self, organization_id: &str, id: &str) -> Result<bool, StoreError> {
        let n = diesel::delete(
            we::table
                .filter(we::organization_id.eq(organization_id))
                .filter(we::id.eq(id)),
        )
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Replaces the secret; the current one stays valid until
    /// `previous_until`. `false` if there is no such endpoint.
    pub fn rotate_endpoint_secret(
        &mut self,
        organization_id: &str,
        id: &str,
        secret: &WebhookSecret,
        previous_until: UnixTime,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let current: Option<Vec<u8>> = we::table
            .filter(we::organization_id.eq(organization_id))
            .filter(we::id.eq(id))
            .select(we::secret_ciphertext)
            .first(self.conn)
            .optional()?;
        let Some(current) = current else {
            return Ok(false);
        };
        let sealed = self.secrets.seal(secret.as_bytes(), id)?;
        diesel::update(we::table.filter(we::id.eq(id)))
            .set((
                we::secret_ciphertext.eq(sealed),
                we::previous_secret_ciphertext.eq(Some(current)),
                we::previous_secret_until.eq(Some(previous_until.as_millis())),
                we::updated_at.eq(at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(true)
    }

    /// An endpoint by id alone, with its secrets, for the dispatcher.
    pub fn signing_endpoint(
        &mut self,
        id: &str,
        now: UnixTime,
    ) -> Result<Option<SigningEndpoint>, StoreError> {
        let row: Option<SealedRow> = we::table
            .filter(we::id.eq(id))
            .select((
                EndpointRow::as_select(),
                we::secret_ciphertext,
                we::previous_secret_ciphertext,
                we::previous_secret_until,
            ))
            .first(self.conn)
            .optional()?;
        let Some((row, sealed, previous, until)) = row else {
            return Ok(None);
        };
        let secret = WebhookSecret::from_bytes(self.secrets.open(&sealed, id)?);
        let previous = match (previous, until) {
            (Some(p), Some(until)) if now.as_millis() < until => {
                Some(WebhookSecret::from_bytes(self.secrets.open(&p, id)?))
            }
            _ => None,
        };
        Ok(Some(SigningEndpoint {
            endpoint: row.try_into()?,
            secret,
            previous,
        }))
    }

    /// After an attempt: a success clears the failure clock; a failure
    /// starts it if it is not running.
    pub fn note_endpoint_result(
        &mut self,
        id: &str,
        succeeded: bool,
        at: UnixTime,
    ) -> Result<(), StoreError> {
        if succeeded {
            diesel::update(we::table.filter(we::id.eq(id)))
                .set(we::failing_since.eq(None::<i64>))
                .execute(self.conn)?;
        } else {
            diesel::update(
                we::table
                    .filter(we::id.eq(id))
                    .filter(we::failing_since.is_null()),
            )
            .set(we::failing_since.eq(Some(at.as_millis())))
            .execute(self.conn)?;
        }
        Ok(())
    }

    /// Turns an endpoint off (it kept failing). `true` if it was on.
    pub fn disable_endpoint(&mut self, id: &str, at: UnixTime) -> Result<bool, StoreError> {
        let n = diesel::update(we::table.filter(we::id.eq(id)).filter(we::enabled.eq(true)))
            .set((
                we::enabled.eq(false),
                we::updated_at.eq(at.as_millis()),
                we::disabled_at.eq(Some(at.as_millis())),
                we::disabled_reason.eq(Some(DISABLED_FAILING)),
            ))
            .execute(self.conn)?;
        Ok(n == 1)
    }
}
