-- Who answers a conversation: 'bot' (this app, the default), 'human' (a person took it over
-- in the inbox) or 'other_app' (another app of the Page holds thread control).
ALTER TABLE conversations ADD COLUMN owner TEXT NOT NULL DEFAULT 'bot';
