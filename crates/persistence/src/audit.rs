use auth_core::UnixTime;
use diesel::prelude::*;

use crate::{
    error::corrupt,
    events::page,
    outbox::OutboxEvent,
    records::{AuditEventRecord, NewAuditEvent, Page},
    schema::audit_events as ae,
    StoreError, Tx,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = ae)]
struct AuditRow {
    id: i64,
    actor_type: String,
    actor_id: Option<String>,
    target_user_id: Option<String>,
    action: String,
    ip: Option<String>,
    details: String,
    created_at: i64,
}

impl TryFrom<AuditRow> for AuditEventRecord {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            details: serde_json::from_str(&r.details).map_err(corrupt)?,
            actor_type: r.actor_type,
            actor_id: r.actor_id,
            target_user_id: r.target_user_id,
            action: r.action,
            ip: r.ip,
            at: UnixTime::from_millis(r.created_at),
        })
    }
}

/// The outbox form of an audit event: ids, actor, client and address, and
/// the event's own facts (never a secret: events carry none).
fn outbox_event(e: &NewAuditEvent<'_>, action: &str, details: &serde_json::Value) -> OutboxEvent {
    let id = uuid::Uuid::new_v4().to_string();
    let endpoint_id = match e.event {
        auth_core::events::SecurityEvent::WebhookTest { endpoint_id } => Some(endpoint_id.clone()),
        _ => None,
    };
    let payload = serde_json::json!({
        "event_id": id,
        "organization_id": e.organization_id.map(auth_core::ids::OrganizationId::as_str),
        "user_id": e.target_user_id.map(auth_core::ids::UserId::as_str),
        "actor": {
            "type": e.actor.kind(),
            "id": e.actor.user_id().map(auth_core::ids::UserId::as_str),
        },
        "ip": e.ip,
        "user_agent": e.user_agent,
        "details": details,
        "occurred_at": e.at.as_millis(),
    });
    OutboxEvent {
        id,
        organization_id: e.organization_id.map(|o| o.as_str().to_owned()),
        user_id: e.target_user_id.map(|u| u.as_str().to_owned()),
        event_type: action.to_owned(),
        payload,
        endpoint_id,
        created_at: e.at,
    }
}

impl Tx<'_> {
    /// Appends to the audit log. There is no update or delete: the log is
    /// append-only by construction. The same event is queued in the outbox,
    /// in the same transaction, for email and webhooks: it leaves the
    /// process exactly when the change it describes commits.
    pub fn append_audit(&mut self, e: &NewAuditEvent<'_>) -> Result<(), StoreError> {
        let (action, details) = e.event.split();
        self.insert_outbox(&outbox_event(e, &action, &details))?;
        diesel::insert_into(ae::table)
            .values((
                ae::organization_id.eq(e
                    .organization_id
                    .map(auth_core::ids::OrganizationId::as_str)),
                ae::actor_type.eq(e.actor.kind()),
                ae::actor_id.eq(e.actor.user_id().map(auth_core::ids::UserId::as_str)),
                ae::target_user_id.eq(e.target_user_id.map(auth_core::ids::UserId::as_str)),
                ae::action.eq(action),
                ae::ip.eq(e.ip),
                ae::details.eq(details.to_string()),
                ae::created_at.eq(e.at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// An organization's audit events, newest first, optionally about one user.
    pub fn audit_events(
        &mut self,
        organization_id: &auth_core::ids::OrganizationId,
        target_user_id: Option<&auth_core::ids::UserId>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<AuditEventRecord>, StoreError> {
        let mut q = ae::table
            .filter(ae::organization_id.eq(organization_id.as_str().to_owned()))
            .order(ae::id.desc())
            .limit(limit + 1)
            .select(AuditRow::as_select())
            .into_boxed();
        if let Some(user) = target_user_id {
            q = q.filter(ae::target_user_id.eq(user.as_str().to_owned()));
        }
        if let Some(b) = before {
            q = q.filter(ae::id.lt(b));
        }
        page(q.load(self.conn)?, limit, |r: &AuditEventRecord| r.id)
    }
}
