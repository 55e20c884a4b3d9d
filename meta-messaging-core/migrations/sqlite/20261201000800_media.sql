-- Attachments the inbox keeps past Meta's expiring CDN URLs: which file (by SHA-256, the key
-- in the media store) is which attachment of which message. The id is derived from the tenant,
-- the message and the attachment's position, so a second download replaces the record.
CREATE TABLE media (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    attachment_index BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- An unsend deletes a message's records; retention deletes old ones; a file is deleted once
-- no record names its SHA-256.
CREATE INDEX media_by_message ON media (tenant_id, message_id);
CREATE INDEX media_by_age ON media (created_at_ms);
CREATE INDEX media_by_sha256 ON media (sha256);
