-- Comment threads: a conversation is 'direct' (a user's DMs) or 'comments' (the comments on one
-- post or media, whose participant_id is the post id: Meta's object ids are unique across
-- object types, so a post id never equals a user id).
ALTER TABLE conversations ADD COLUMN kind TEXT NOT NULL DEFAULT 'direct';
CREATE INDEX conversations_by_kind ON conversations (tenant_id, kind, last_message_at_ms, id);
-- A comment the account hid (only its author still sees it).
ALTER TABLE messages ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
-- Comments: the author's username (Instagram) or name (Facebook), from the webhook.
ALTER TABLE messages ADD COLUMN sender_name TEXT;
