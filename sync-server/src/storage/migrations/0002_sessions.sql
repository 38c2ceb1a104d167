-- Sessions that survive a lost reply, and the devices' recovery secrets.
--
-- A refresh token remembers whether it was exchanged (as opposed to revoked), and every token
-- names the refresh token it belongs under (`parent`): a refresh token the one it was exchanged
-- for (NULL after a sign-in), an access token the refresh token issued with it. A refresh token
-- presented again while the session it was exchanged for is still unused is a lost reply, not a
-- theft (see `Server::refresh`); a sign-out revokes one session, not the whole device.
ALTER TABLE tokens ADD COLUMN parent TEXT;
ALTER TABLE tokens ADD COLUMN exchanged INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_by_parent ON tokens (parent) WHERE parent IS NOT NULL;

-- Each device's recovery secret (hex of 32 random bytes), given to the device at sign-in: the
-- device keeps its database key wrapped with it, so a sign-in with a password changed on the
-- server can still open the local database.
CREATE TABLE device_secrets (
  device_id TEXT PRIMARY KEY,
  secret    TEXT NOT NULL
) WITHOUT ROWID;
