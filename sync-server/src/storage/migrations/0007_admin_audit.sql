-- What administrators did through `shegong-sync admin`, appended once per successful command and
-- never changed: who (the operating-system account that ran the command, and the `--actor` name
-- given, if any), what (`action`, e.g. 'deactivate user'), on what (`target`, an id or a
-- username, may be empty), details (`detail`, text without any password) and when (`at`, RFC
-- 3339, UTC). A password is never written here.
CREATE TABLE admin_audit (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  at      TEXT NOT NULL,
  os_user TEXT NOT NULL,
  actor   TEXT,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  detail  TEXT NOT NULL
);
