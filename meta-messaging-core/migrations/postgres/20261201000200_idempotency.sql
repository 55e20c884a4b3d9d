-- Idempotency records of POST /messages: one per (tenant, Idempotency-Key), in flight until the
-- request's answer is stored (status and JSON body), kept until expires_at_ms.
CREATE TABLE idempotency_keys (
    tenant_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    claimed_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    answer_status BIGINT,
    answer_body TEXT,
    PRIMARY KEY (tenant_id, idempotency_key)
);
-- Pruning reads only the expired records.
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at_ms);
