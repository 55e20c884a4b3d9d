-- Reactions, edits, unsends and receipts that arrived before the message they name. The event
-- itself is kept in raw_events (its reason says it waits); each row here is what it does to one
-- message it names, applied in the transaction that stores the message, then marked applied.
CREATE TABLE pending_ops (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    message_id TEXT NOT NULL,
    -- The raw event this came from.
    event_hash TEXT NOT NULL,
    -- What it does, as JSON: {"op": "edit", "text": ..., "num_edit": ..., ...}.
    op TEXT NOT NULL,
    applied_at_ms BIGINT,
    UNIQUE (tenant_id, event_hash, message_id, platform),
    FOREIGN KEY (tenant_id, event_hash) REFERENCES raw_events (tenant_id, event_hash)
);
-- Every group commit that stores messages looks here for them. Only the ops still waiting are
-- in it, so it stays small, and a message insert never writes to it.
CREATE INDEX pending_ops_waiting ON pending_ops (tenant_id, message_id, platform)
    WHERE applied_at_ms IS NULL;
