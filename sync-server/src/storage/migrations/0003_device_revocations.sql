-- Devices an administrator revoked (`shegong-sync admin device revoke`). A revoked device's
-- tokens stop working at once; its last refresh token only buys push-only hand-over tokens
-- (kind 'handover') so it can hand over its unsent work before it wipes itself.
CREATE TABLE device_revocations (
  device_id  TEXT PRIMARY KEY,
  revoked_at TEXT NOT NULL
) WITHOUT ROWID;
