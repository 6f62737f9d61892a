//! The transactional outbox and its deliveries.
//!
//! `append_audit` writes an outbox row in the transaction of the change, so
//! an event leaves the process if and only if its change committed. The
//! dispatcher then, in one transaction each, fans an event out into
//! deliveries (one per recipient) and claims due deliveries under a lease:
//! PostgreSQL skips rows another instance holds (`FOR UPDATE SKIP LOCKED`);
//! SQLite has one writer at a time and a conditional `UPDATE … RETURNING`.

use auth_core::UnixTime;
use diesel::{
    prelude::*,
    sql_types::{BigInt, Nullable, Text},
};

use crate::{
    db::AnyConnection,
    error::corrupt,
    schema::{deliveries as de, outbox as ob},
    StoreError, Tx,
};

/// An event as queued for the outside world.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEvent {
    /// Stable across retries and instances: the `webhook-id` and the mail's
    /// `Message-ID`, for receivers to drop duplicates.
    pub id: String,
    pub organization_id: Option<String>,
    pub user_id: Option<String>,
    pub event_type: String,
    /// Ids, actor, client and address; never a secret.
    pub payload: serde_json::Value,
    /// Only this webhook endpoint (a test delivery), not every subscriber.
    pub endpoint_id: Option<String>,
    pub created_at: UnixTime,
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = ob)]
struct OutboxRow {
    id: String,
    organization_id: Option<String>,
    user_id: Option<String>,
    event_type: String,
    payload: String,
    endpoint_id: Option<String>,
    created_at: i64,
}

impl TryFrom<OutboxRow> for OutboxEvent {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        Ok(Self {
            payload: serde_json::from_str(&r.payload).map_err(corrupt)?,
            id: r.id,
            organization_id: r.organization_id,
            user_id: r.user_id,
            event_type: r.event_type,
            endpoint_id: r.endpoint_id,
            created_at: UnixTime::from_millis(r.created_at),
        })
    }
}

/// Where a delivery goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// To a user's email address (`target` is the user id).
    Email,
    /// To a webhook endpoint (`target` is the endpoint id).
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "email" => Ok(Channel::Email),
            "webhook" => Ok(Channel::Webhook),
            other => Err(StoreError::Corrupt(format!("delivery channel {other:?}"))),
        }
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Given up after the maximum age; kept for inspection.
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "pending" => Ok(DeliveryState::Pending),
            "delivered" => Ok(DeliveryState::Delivered),
            "dead" => Ok(DeliveryState::Dead),
            other => Err(StoreError::Corrupt(format!("delivery state {other:?}"))),
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewDelivery<'a> {
    pub event: &'a OutboxEvent,
    pub channel: Channel,
    pub target: &'a str,
    pub at: UnixTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRecord {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub channel: Channel,
    pub target: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: UnixTime,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: UnixTime,
    pub last_attempt_at: Option<UnixTime>,
    pub delivered_at: Option<UnixTime>,
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = de)]
struct DeliveryRow {
    id: String,
    event_id: String,
    event_type: String,
    channel: String,
    target: String,
    state: String,
    attempts: i32,
    next_attempt_at: i64,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: i64,
    last_attempt_at: Option<i64>,
    delivered_at: Option<i64>,
}

impl TryFrom<DeliveryRow> for DeliveryRecord {
    type Error = StoreError;
    fn try_from(r: DeliveryRow) -> Result<Self, StoreError> {
        Ok(Self {
            channel: Channel::parse(&r.channel)?,
            state: DeliveryState::parse(&r.state)?,
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            target: r.target,
            attempts: r.attempts,
            next_attempt_at: UnixTime::from_millis(r.next_attempt_at),
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: UnixTime::from_millis(r.created_at),
            last_attempt_at: r.last_attempt_at.map(UnixTime::from_millis),
            delivered_at: r.delivered_at.map(UnixTime::from_millis),
        })
    }
}

/// The outcome of one attempt, as the dispatcher decided it.
#[derive(Clone, Debug)]
pub struct AttemptRecord<'a> {
    pub state: DeliveryState,
    pub next_attempt_at: UnixTime,
    /// An HTTP status, when the receiver answered.
    pub status: Option<i32>,
    /// A short, secret-free excerpt of what went wrong.
    pub error: Option<&'a str>,
    pub at: UnixTime,
}

/// Outbox figures for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Events not yet fanned out plus deliveries still pending.
    pub depth: i64,
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
    /// The oldest pending delivery's or unfanned event's creation.
    pub oldest_pending: Option<UnixTime>,
}

const DELIVERY_COLUMNS: &str = "id, event_id, event_type, channel, target, state, attempts, \
     next_attempt_at, last_status, last_error, created_at, last_attempt_at, delivered_at";

impl Tx<'_> {
    /// Queues an event; called by `append_audit` in the change's transaction.
    pub(crate) fn insert_outbox(&mut self, e: &OutboxEvent) -> Result<(), StoreError> {
        diesel::insert_into(ob::table)
            .values((
                ob::id.eq(&e.id),
                ob::organization_id.eq(e.organization_id.as_deref()),
                ob::user_id.eq(e.user_id.as_deref()),
                ob::event_type.eq(&e.event_type),
                ob::payload.eq(e.payload.to_string()),
                ob::endpoint_id.eq(e.endpoint_id.as_deref()),
                ob::created_at.eq(e.created_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Whether there are events to fan out, and deliveries due at `now`:
    /// two cheap reads, so an idle dispatcher never takes the write lock.
    pub fn outbox_work(&mut self, now: UnixTime) -> Result<(bool, bool), StoreError> {
        let unfanned = diesel::select(diesel::dsl::exists(
            ob::table.filter(ob::fanned_out_at.is_null()),
        ))
        .get_result(self.conn)?;
        let now = now.as_millis();
        let due = diesel::select(diesel::dsl::exists(
            de::table
                .filter(de::state.eq(DeliveryState::Pending.as_str()))
                .filter(de::next_attempt_at.le(now))
                .filter(de::locked_until.is_null().or(de::locked_until.le(now))),
        ))
        .get_result(self.conn)?;
        Ok((unfanned, due))
    }

    /// Events not yet fanned out, oldest first; on PostgreSQL locked until
    /// the transaction ends and skipped by other instances meanwhile.
    pub fn unfanned_events(&mut self, limit: i64) -> Result<Vec<OutboxEvent>, StoreError> {
        let sql =
            "SELECT id, organization_id, user_id, event_type, payload, endpoint_id, created_at \
                   FROM outbox WHERE fanned_out_at IS NULL ORDER BY created_at, id LIMIT ";
        let rows: Vec<OutboxRow> = match self.conn {
            AnyConnection::Postgresql(c) => {
                diesel::sql_query(format!("{sql} $1 FOR UPDATE SKIP LOCKED"))
                    .bind::<BigInt, _>(limit)
                    .load(c)?
            }
            AnyConnection::Sqlite(c) => diesel::sql_query(format!("{sql} ?"))
                .bind::<BigInt, _>(limit)
                .load(c)?,
        };
        rows.into_iter().map(OutboxEvent::try_from).collect()
    }

    /// Marks an event as fanned out (its deliveries exist).
    pub fn mark_fanned_out(&mut self, event_id: &str, at: UnixTime) -> Result<(), StoreError> {
        diesel::update(ob::table.filter(ob::id.eq(event_id)))
            .set(ob::fanned_out_at.eq(at.as_millis()))
            .execute(self.conn)?;
        Ok(())
    }

    pub fn insert_delivery(&mut self, d: &NewDelivery<'_>) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        diesel::insert_into(de::table)
            .values((
                de::id.eq(&id),
                de::event_id.eq(&d.event.id),
                de::organization_id.eq(d.event.organization_id.as_deref()),
                de::event_type.eq(&d.event.event_type),
                de::channel.eq(d.channel.as_str()),
                de::target.eq(d.target),
                de::state.eq(DeliveryState::Pending.as_str()),
                de::attempts.eq(0),
                de::next_attempt_at.eq(d.at.as_millis()),
                de::created_at.eq(d.at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(id)
    }

    /// Takes up to `limit` due deliveries for `owner` until `lease_until`:
    /// pending, due at `now`, and not leased by anyone else (or leased by
    /// a dispatcher whose lease ran out: it stopped or died).
    pub fn claim_deliveries(
        &mut self,
        owner: &str,
        now: UnixTime,
        lease_until: UnixTime,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let pick = "SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= {now} \
                    AND (locked_until IS NULL OR locked_until <= {now}) ORDER BY next_attempt_at, id LIMIT {limit}";
        let rows: Vec<DeliveryRow> = match self.conn {
            AnyConnection::Postgresql(c) => {
                let pick = pick.replace("{now}", "$3").replace("{limit}", "$4");
                diesel::sql_query(format!(
                    "UPDATE deliveries SET locked_until = $1, lease_owner = $2 WHERE id IN ({pick} FOR UPDATE SKIP LOCKED) RETURNING {DELIVERY_COLUMNS}"
                ))
                .bind::<BigInt, _>(lease_until.as_millis())
                .bind::<Text, _>(owner)
                .bind::<BigInt, _>(now.as_millis())
                .bind::<BigInt, _>(limit)
                .load(c)?
            }
            AnyConnection::Sqlite(c) => {
                let pick = pick.replace("{now}", "?3").replace("{limit}", "?4");
                diesel::sql_query(format!(
                    "UPDATE deliveries SET locked_until = ?1, lease_owner = ?2 WHERE id IN ({pick}) RETURNING {DELIVERY_COLUMNS}"
                ))
                .bind::<BigInt, _>(lease_until.as_millis())
                .bind::<Text, _>(owner)
                .bind::<BigInt, _>(now.as_millis())
                .bind::<BigInt, _>(limit)
                .load(c)?
            }
        };
        rows.into_iter().map(DeliveryRecord::try_from).collect()
    }

    /// Writes the outcome of an attempt by the lease's owner and releases
    /// the lease. `false`: the lease was lost (it ran out and another
    /// dispatcher took the delivery), nothing written.
    pub fn record_attempt_outcome(
        &mut self,
        delivery_id: &str,
        owner: &str,
        a: &AttemptRecord<'_>,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            de::table
                .filter(de::id.eq(delivery_id))
                .filter(de::lease_owner.eq(owner))
                .filter(de::state.eq(DeliveryState::Pending.as_str())),
        )
        .set((
            de::state.eq(a.state.as_str()),
            de::attempts.eq(de::attempts + 1),
            de::next_attempt_at.eq(a.next_attempt_at.as_millis()),
            de::last_status.eq(a.status),
            de::last_error.eq(a.error),
            de::last_attempt_at.eq(a.at.as_millis()),
            de::delivered_at.eq((a.state == DeliveryState::Delivered).then_some(a.at.as_millis())),
            de::locked_until.eq(None::<i64>),
            de::lease_owner.eq(None::<String>),
        ))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Hands back every lease `owner` holds (a graceful stop): the
    /// deliveries are due again at once for any instance.
    pub fn release_leases(&mut self, owner: &str) -> Result<usize, StoreError> {
        Ok(diesel::update(de::table.filter(de::lease_owner.eq(owner)))
            .set((
                de::locked_until.eq(None::<i64>),
                de::lease_owner.eq(None::<String>),
            ))
            .execute(self.conn)?)
    }

    pub fn outbox_event(&mut self, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
        ob::table
            .filter(ob::id.eq(id))
            .select(OutboxRow::as_select())
            .first(self.conn)
            .optional()?
            .map(OutboxEvent::try_from)
            .transpose()
    }

    /// The latest deliveries to one target, newest first.
    pub fn deliveries_to(
        &mut self,
        channel: Channel,
        target: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        de::table
            .filter(de::channel.eq(channel.as_str()))
            .filter(de::target.eq(target))
            .order((de::created_at.desc(), de::id.desc()))
            .limit(limit)
            .select(DeliveryRow::as_select())
            .load(self.conn)?
            .into_iter()
            .map(DeliveryRecord::try_from)
            .collect()
    }

    /// The newest event queued for one endpoint alone (a test event).
    pub fn latest_event_for_endpoint(
        &mut self,
        endpoint_id: &str,
    ) -> Result<Option<OutboxEvent>, StoreError> {
        ob::table
            .filter(ob::endpoint_id.eq(endpoint_id))
            .order((ob::created_at.desc(), ob::id.desc()))
            .select(OutboxRow::as_select())
            .first(self.conn)
            .optional()?
            .map(OutboxEvent::try_from)
            .transpose()
    }

    /// Every event an organization queued, oldest first (tests and
    /// inspection).
    pub fn outbox_events_of(
        &mut self,
        organization_id: &str,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        ob::table
            .filter(ob::organization_id.eq(organization_id))
            .order(ob::created_at)
            .select(OutboxRow::as_select())
            .load(self.conn)?
            .into_iter()
            .map(OutboxEvent::try_from)
            .collect()
    }

    pub fn outbox_stats(&mut self) -> Result<OutboxStats, StoreError> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            unfanned: i64,
            #[diesel(sql_type = BigInt)]
            pending: i64,
            #[diesel(sql_type = BigInt)]
            delivered: i64,
            #[diesel(sql_type = BigInt)]
            dead: i64,
            #[diesel(sql_type = Nullable<BigInt>)]
            oldest_unfanned: Option<i64>,
            #[diesel(sql_type = Nullable<BigInt>)]
            oldest_pending: Option<i64>,
        }
        let sql = "SELECT \
            (SELECT COUNT(*) FROM outbox WHERE fanned_out_at IS NULL) AS unfanned, \
            (SELECT COUNT(*) FROM deliveries WHERE state = 'pending') AS pending, \
            (SELECT COUNT(*) FROM deliveries WHERE state = 'delivered') AS delivered, \
            (SELECT COUNT(*) FROM deliveries WHERE state = 'dead') AS dead, \
            (SELECT MIN(created_at) FROM outbox WHERE fanned_out_at IS NULL) AS oldest_unfanned, \
            (SELECT MIN(created_at) FROM deliveries WHERE state = 'pending') AS oldest_pending";
        let row: Row = match self.conn {
            AnyConnection::Postgresql(c) => diesel::sql_query(sql).get_result(c)?,
            AnyConnection::Sqlite(c) => diesel::sql_query(sql).get_result(c)?,
        };
        let oldest = match (row.oldest_unfanned, row.oldest_pending) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(OutboxStats {
            depth: row.unfanned + row.pending,
            pending: row.pending,
            delivered: row.delivered,
            dead: row.dead,
            oldest_pending: oldest.map(UnixTime::from_millis),
        })
    }
}
