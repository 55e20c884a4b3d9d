-- The message store (SQLite). Times are milliseconds since the Unix epoch; JSON is TEXT.
CREATE TABLE accounts (
    tenant_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    name TEXT,
    username TEXT,
    linked_page_id TEXT,
    token_kind TEXT,
    token_scheme TEXT,
    token_sealed TEXT,
    token_expires_at_ms INTEGER,
    status TEXT NOT NULL,
    last_event_at_ms INTEGER,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, platform, account_id)
);
CREATE INDEX accounts_by_account ON accounts (platform, account_id);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    participant_name TEXT,
    participant_username TEXT,
    participant_profile_pic_url TEXT,
    last_message_at_ms INTEGER NOT NULL,
    last_message_id TEXT,
    last_message_preview TEXT,
    last_message_direction TEXT,
    unread_count INTEGER NOT NULL DEFAULT 0,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, platform, account_id, participant_id)
);
CREATE INDEX conversations_by_activity ON conversations (tenant_id, last_message_at_ms, id);
CREATE INDEX conversations_by_account
    ON conversations (tenant_id, account_id, last_message_at_ms, id);
CREATE INDEX conversations_by_platform ON conversations (tenant_id, platform, last_message_at_ms, id);
-- Archived conversations are few, and only they are in this index, so a new message to an
-- active conversation does not move an entry here; `archived = FALSE` reads conversations_by_activity.
CREATE INDEX conversations_archived ON conversations (tenant_id, last_message_at_ms, id)
    WHERE archived;
CREATE INDEX conversations_unread ON conversations (tenant_id, last_message_at_ms, id)
    WHERE unread_count > 0;

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    text TEXT,
    attachments TEXT NOT NULL DEFAULT '[]',
    reply_to TEXT,
    quick_reply TEXT,
    app_id TEXT,
    metadata TEXT,
    timestamp_ms INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    delivered_at_ms INTEGER,
    read_at_ms INTEGER,
    reactions TEXT NOT NULL DEFAULT '[]',
    edit_count INTEGER NOT NULL DEFAULT 0,
    edited_at_ms INTEGER,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    unsupported BOOLEAN NOT NULL DEFAULT FALSE,
    raw_event TEXT,
    -- Platform last: no list filter can be served from this key (so the planner never sorts a
    -- tenant's messages to use it); lookups name all three columns anyway.
    UNIQUE (tenant_id, message_id, platform)
);
-- Every index costs each ingested message a page write on commit, so the platform and
-- direction filters (coarse: a page of 50 finds its rows among the newest few hundred) read
-- this one instead of having their own.
CREATE INDEX messages_by_time ON messages (tenant_id, timestamp_ms, id);
-- Account ids do not collide across platforms in practice, so the account filter needs no platform.
CREATE INDEX messages_by_account ON messages (tenant_id, account_id, timestamp_ms, id);
CREATE INDEX messages_by_conversation ON messages (tenant_id, conversation_id, timestamp_ms, id);

CREATE TABLE raw_events (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT,
    timestamp_ms INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    event_hash TEXT NOT NULL,
    raw TEXT NOT NULL,
    UNIQUE (tenant_id, event_hash)
);
CREATE INDEX raw_events_by_tenant ON raw_events (tenant_id, id);

CREATE TABLE unrouted_events (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    event_hash TEXT NOT NULL UNIQUE,
    raw TEXT NOT NULL
);
CREATE INDEX unrouted_events_by_account ON unrouted_events (platform, account_id);
