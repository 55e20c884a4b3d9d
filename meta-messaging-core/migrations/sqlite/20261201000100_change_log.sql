-- The change log: every write that changes a tenant's inbox appends one row per thing it
-- changed, numbered by the tenant's sequence (change_heads), in the same transaction.
CREATE TABLE change_heads (
    tenant_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

CREATE TABLE changes (
    tenant_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    conversation_id BIGINT,
    message_id BIGINT,
    account_platform TEXT,
    account_id TEXT,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
-- Pruning by age.
CREATE INDEX changes_by_time ON changes (at_ms);
