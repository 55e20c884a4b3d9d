-- The messaging window: when the user last wrote (or opened the window with a postback, a
-- referral or a reaction), by Meta's timestamps. NULL while nothing came from the user.
ALTER TABLE conversations ADD COLUMN last_inbound_at_ms BIGINT;

-- Conversations stored before this column: their newest inbound message (the openings kept
-- raw before are not replayed: until the user writes again, such a window follows the
-- messages alone).
UPDATE conversations SET last_inbound_at_ms = (
    SELECT MAX(m.timestamp_ms) FROM messages m
    WHERE m.tenant_id = conversations.tenant_id AND m.conversation_id = conversations.id
      AND m.direction = 'inbound'
);
