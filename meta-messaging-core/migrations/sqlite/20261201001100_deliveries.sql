-- The delivery log: per account, how many events of each kind arrived and when the last one
-- did, and the events this version could not understand, by reason. Each instance buffers its
-- tallies in memory and adds them here every few seconds (and when it shuts down), so the rows
-- cover every instance sharing the database and outlive restarts.
CREATE TABLE delivery_kinds (
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_at_ms INTEGER NOT NULL,
    PRIMARY KEY (platform, account_id, kind)
);
-- At most 32 reasons per account (the store checks when adding one): a reason can quote what
-- Meta sent.
CREATE TABLE delivery_unknown_reasons (
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_at_ms INTEGER NOT NULL,
    PRIMARY KEY (platform, account_id, reason)
);
-- Why each unrouted event was kept (no_tenant, disconnected, unhandled_object). Of the rows
-- kept before, the entries of an unhandled webhook object are known by their raw JSON (a
-- one-entry delivery naming its object); the others had no tenant to go to.
ALTER TABLE unrouted_events ADD COLUMN reason TEXT NOT NULL DEFAULT 'no_tenant';
UPDATE unrouted_events SET reason = 'unhandled_object'
    WHERE kind = 'unknown' AND raw LIKE '{"object":%';
