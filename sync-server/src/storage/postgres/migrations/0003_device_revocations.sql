-- SQLite's 0003_device_revocations.sql: devices an administrator revoked.
CREATE TABLE device_revocations (
  device_id  TEXT COLLATE "C" PRIMARY KEY,
  revoked_at TEXT NOT NULL
);
