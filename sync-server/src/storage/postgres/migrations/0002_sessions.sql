-- SQLite's 0002_sessions.sql: each token names the refresh token it belongs under, a refresh
-- token remembers whether it was exchanged; the devices' recovery secrets.
ALTER TABLE tokens ADD COLUMN parent TEXT COLLATE "C";
ALTER TABLE tokens ADD COLUMN exchanged BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX tokens_by_parent ON tokens (parent) WHERE parent IS NOT NULL;

CREATE TABLE device_secrets (
  device_id TEXT COLLATE "C" PRIMARY KEY,
  secret    TEXT NOT NULL
);
