-- SQLite's 0007_admin_audit.sql: what administrators did through `shegong-sync admin`, appended
-- once per command and never changed. Never holds a password.
CREATE TABLE admin_audit (
  seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      TEXT NOT NULL,
  os_user TEXT NOT NULL,
  actor   TEXT,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  detail  TEXT NOT NULL
);
