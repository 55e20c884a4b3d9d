-- The progress of each account's history backfill (the Conversations API read back to a
-- horizon): one row per (tenant, platform, account), replaced as the backfill goes, so a
-- restarted process resumes at cursor (the next page of conversations) instead of starting over.
CREATE TABLE backfills (
    tenant_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    state TEXT NOT NULL,
    cursor TEXT,
    conversations INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    oldest_reached_ms INTEGER,
    horizon_ms INTEGER NOT NULL,
    error TEXT,
    started_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, platform, account_id)
);
