-- The server's state. Applied once, in one transaction; never edited after release: later
-- changes are new numbered files.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- Every entity's current state (domain::entity::EntityState as JSON). `kind_ord` is the kind's
-- position in EntityKind::ALL, so snapshots page organisation first, then roster, then cases.
CREATE TABLE entities (
  kind_ord       INTEGER NOT NULL,
  id             TEXT    NOT NULL,
  kind           TEXT    NOT NULL,
  area           INTEGER NOT NULL,   -- 0 organisation, 1 roster, 2 case
  state          TEXT    NOT NULL,
  case_id        TEXT,
  recipient_id   TEXT,
  case_worker_id TEXT,
  PRIMARY KEY (kind_ord, id)
) WITHOUT ROWID;
CREATE INDEX entities_by_case ON entities (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX entities_by_recipient ON entities (recipient_id) WHERE recipient_id IS NOT NULL;

-- Which stations hold each entity (EntityState::station_ids): one row per station.
CREATE TABLE entity_stations (
  station_id TEXT    NOT NULL,
  kind_ord   INTEGER NOT NULL,
  id         TEXT    NOT NULL,
  PRIMARY KEY (station_id, kind_ord, id)
) WITHOUT ROWID;
CREATE INDEX entity_stations_by_entity ON entity_stations (kind_ord, id);

-- Conflicts with domain::merge::ConflictBook's semantics; `lost` NULL = seen.
CREATE TABLE conflicts (
  entity_id TEXT NOT NULL,
  field     TEXT NOT NULL,
  hlc       TEXT NOT NULL,
  lost      TEXT,
  PRIMARY KEY (entity_id, field, hlc)
) WITHOUT ROWID;

-- The log devices pull, in commit order. `item` is a domain::change::Incoming as JSON.
CREATE TABLE log (
  seq          INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  change_id    TEXT,
  item         TEXT NOT NULL,
  committed_at TEXT NOT NULL
);
CREATE INDEX log_by_entity ON log (entity_id);

-- Who receives each log entry (storage::Audience).
CREATE TABLE log_audience (
  seq            INTEGER NOT NULL REFERENCES log (seq),
  station_id     TEXT,
  case_worker_id TEXT,
  target_user_id TEXT,
  organisation   INTEGER NOT NULL
);
CREATE INDEX log_audience_by_station ON log_audience (station_id, seq);
CREATE INDEX log_audience_by_target ON log_audience (target_user_id, seq) WHERE target_user_id IS NOT NULL;
CREATE INDEX log_audience_by_organisation ON log_audience (seq) WHERE organisation = 1;

-- Checksum accumulators: worker_id '' is the station's roster.
CREATE TABLE checksums (
  station_id TEXT    NOT NULL,
  worker_id  TEXT    NOT NULL,
  acc        INTEGER NOT NULL,
  PRIMARY KEY (station_id, worker_id)
) WITHOUT ROWID;

CREATE TABLE credentials (
  user_id       TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL
);

CREATE TABLE devices (
  id            TEXT PRIMARY KEY,
  user_id       TEXT    NOT NULL,
  name          TEXT    NOT NULL,
  next_seq      INTEGER NOT NULL,
  registered_at TEXT    NOT NULL,
  clock_skewed  INTEGER NOT NULL DEFAULT 0,
  last_skew_ms  INTEGER
);

-- Bearer tokens, by the SHA-256 of their text (the text itself is never stored).
CREATE TABLE tokens (
  hash       TEXT PRIMARY KEY,
  kind       TEXT    NOT NULL,
  user_id    TEXT    NOT NULL,
  device_id  TEXT    NOT NULL,
  expires_at TEXT    NOT NULL,
  used       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_by_device ON tokens (user_id, device_id);

-- The answer given to each processed (device, seq), for resends.
CREATE TABLE push_answers (
  device_id  TEXT    NOT NULL,
  device_seq INTEGER NOT NULL,
  change_id  TEXT    NOT NULL,
  outcome    TEXT    NOT NULL,
  PRIMARY KEY (device_id, device_seq)
) WITHOUT ROWID;

-- Refused changes with their payload as received.
CREATE TABLE rejected_changes (
  device_id   TEXT    NOT NULL,
  device_seq  INTEGER NOT NULL,
  change_id   TEXT    NOT NULL,
  author_id   TEXT    NOT NULL,
  change      TEXT    NOT NULL,
  rejection   TEXT    NOT NULL,
  rejected_at TEXT    NOT NULL,
  PRIMARY KEY (device_id, device_seq)
) WITHOUT ROWID;

-- Clamped stamps: what the server used in place of a device's stamp from the future.
CREATE TABLE hlc_translations (
  device_id TEXT NOT NULL,
  original  TEXT NOT NULL,
  effective TEXT NOT NULL,
  PRIMARY KEY (device_id, original)
) WITHOUT ROWID;
