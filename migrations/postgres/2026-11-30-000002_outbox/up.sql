-- Security events that leave the process (email, webhooks), written in the
-- transaction of the change they describe (a transactional outbox). The
-- dispatcher fans each event out into deliveries, one per recipient, each
-- retried on its own. Payloads carry ids and facts, never a secret.

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT,
    user_id          TEXT,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    endpoint_id      TEXT,
    created_at       BIGINT NOT NULL,
    fanned_out_at    BIGINT
);
CREATE INDEX outbox_unfanned ON outbox (created_at) WHERE fanned_out_at IS NULL;

CREATE TABLE webhook_endpoints (
    id                          TEXT PRIMARY KEY NOT NULL,
    organization_id             TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url                         TEXT NOT NULL,
    events                      TEXT NOT NULL,
    secret_ciphertext           BYTEA NOT NULL,
    previous_secret_ciphertext  BYTEA,
    previous_secret_until       BIGINT,
    enabled                     BOOLEAN NOT NULL DEFAULT TRUE,
    failing_since               BIGINT,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    event_id         TEXT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    organization_id  TEXT,
    event_type       TEXT NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    target           TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    lease_owner      TEXT,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    last_attempt_at  BIGINT,
    delivered_at     BIGINT
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_target ON deliveries (target, created_at);
