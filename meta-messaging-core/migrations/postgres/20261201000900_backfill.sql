-- The progress of each account's history backfill (the Conversations API read back to a
-- horizon): one row per (tenant, platform, account), replaced as the backfill goes, so a
-- restarted process resumes at cursor (the next page of conversations) instead of starting over.
CREATE TABLE backfills (
    tenant_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    state TEXT NOT NULL,
    cursor TEXT,
    conversations BIGINT NOT NULL,
    messages BIGINT NOT NULL,
    oldest_reached_ms BIGINT,
    horizon_ms BIGINT NOT NULL,
    error TEXT,
    started_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, platform, account_id)
);
