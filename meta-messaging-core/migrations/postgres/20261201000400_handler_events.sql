-- Event handlers' work queue: the webhook events that changed a tenant's inbox, kept as Meta
-- sent them and numbered by the tenant's own sequence (handler_heads), each event once (a
-- redelivery has the same hash and is not queued again).
CREATE TABLE handler_heads (
    tenant_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

CREATE TABLE handler_events (
    tenant_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    event_hash TEXT NOT NULL,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE UNIQUE INDEX handler_events_by_hash ON handler_events (tenant_id, event_hash);
CREATE INDEX handler_events_by_time ON handler_events (received_at_ms);

-- Each handler's durable cursor per tenant: the last event it finished, how many times the
-- next one failed, and who holds the tenant's work until when (no instance claims a tenant
-- before lease_until: a running lease, or a failed event's backoff).
CREATE TABLE handler_cursors (
    handler TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL,
    PRIMARY KEY (handler, tenant_id)
);
