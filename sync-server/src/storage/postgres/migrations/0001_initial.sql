-- The server's state on PostgreSQL: what SQLite's 0001_initial.sql makes, in PostgreSQL's types.
-- Applied once, in one transaction; never edited after release: later changes are new numbered
-- files, one for each of SQLite's.
--
-- Ids, keys and times are text, compared and ordered byte by byte (COLLATE "C"), as SQLite does:
-- a database created with another locale would otherwise page entities, audit entries and
-- handed-over changes in another order than SQLite. JSON is kept as text, exactly as received:
-- a pull sends it on unchanged (jsonb would reorder its keys).

CREATE TABLE meta (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);

-- Every entity's current state. `kind_ord` is the kind's position in EntityKind::ALL.
CREATE TABLE entities (
  kind_ord       BIGINT NOT NULL,
  id             TEXT COLLATE "C" NOT NULL,
  kind           TEXT NOT NULL,
  area           BIGINT NOT NULL,   -- 0 organisation, 1 roster, 2 case, 3 workforce
  state          TEXT NOT NULL,
  case_id        TEXT COLLATE "C",
  recipient_id   TEXT COLLATE "C",
  case_worker_id TEXT COLLATE "C",
  PRIMARY KEY (kind_ord, id)
);
CREATE INDEX entities_by_case ON entities (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX entities_by_recipient ON entities (recipient_id) WHERE recipient_id IS NOT NULL;

CREATE TABLE entity_stations (
  station_id TEXT COLLATE "C" NOT NULL,
  kind_ord   BIGINT NOT NULL,
  id         TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (station_id, kind_ord, id)
);
CREATE INDEX entity_stations_by_entity ON entity_stations (kind_ord, id);

CREATE TABLE conflicts (
  entity_id TEXT COLLATE "C" NOT NULL,
  field     TEXT COLLATE "C" NOT NULL,
  hlc       TEXT COLLATE "C" NOT NULL,
  lost      TEXT,
  PRIMARY KEY (entity_id, field, hlc)
);

-- The log devices pull, in commit order.
CREATE TABLE log (
  seq          BIGINT PRIMARY KEY,
  kind         TEXT NOT NULL,
  entity_id    TEXT COLLATE "C" NOT NULL,
  change_id    TEXT COLLATE "C",
  item         TEXT NOT NULL,
  committed_at TEXT NOT NULL
);
CREATE INDEX log_by_entity ON log (entity_id);

-- The one-row counter that hands out the log's sequence numbers. Every write transaction locks
-- this row first and holds it to commit: writers run one at a time (as SQLite's single writer
-- does), so they commit in sequence order and a reader's snapshot always holds a prefix of the
-- log: no change can commit late behind a cursor already handed out.
CREATE TABLE log_head (
  one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
  seq BIGINT NOT NULL
);
INSERT INTO log_head (one, seq) VALUES (TRUE, 0);

CREATE TABLE log_audience (
  seq            BIGINT NOT NULL REFERENCES log (seq),
  station_id     TEXT COLLATE "C",
  case_worker_id TEXT COLLATE "C",
  target_user_id TEXT COLLATE "C",
  organisation   BOOLEAN NOT NULL
);
CREATE INDEX log_audience_by_station ON log_audience (station_id, seq);
CREATE INDEX log_audience_by_target ON log_audience (target_user_id, seq) WHERE target_user_id IS NOT NULL;
CREATE INDEX log_audience_by_organisation ON log_audience (seq) WHERE organisation;

-- Checksum accumulators (the u64 fold kept as its bits in a BIGINT): worker_id '' is the roster.
CREATE TABLE checksums (
  station_id TEXT COLLATE "C" NOT NULL,
  worker_id  TEXT COLLATE "C" NOT NULL,
  acc        BIGINT NOT NULL,
  PRIMARY KEY (station_id, worker_id)
);

CREATE TABLE credentials (
  user_id       TEXT COLLATE "C" PRIMARY KEY,
  username      TEXT COLLATE "C" NOT NULL UNIQUE,
  password_hash TEXT NOT NULL
);

CREATE TABLE devices (
  id            TEXT COLLATE "C" PRIMARY KEY,
  user_id       TEXT COLLATE "C" NOT NULL,
  name          TEXT NOT NULL,
  next_seq      BIGINT NOT NULL,
  registered_at TEXT NOT NULL,
  clock_skewed  BOOLEAN NOT NULL DEFAULT FALSE,
  last_skew_ms  BIGINT
);

CREATE TABLE tokens (
  hash       TEXT COLLATE "C" PRIMARY KEY,
  kind       TEXT NOT NULL,
  user_id    TEXT COLLATE "C" NOT NULL,
  device_id  TEXT COLLATE "C" NOT NULL,
  expires_at TEXT NOT NULL,
  used       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX tokens_by_device ON tokens (user_id, device_id);

CREATE TABLE push_answers (
  device_id  TEXT COLLATE "C" NOT NULL,
  device_seq BIGINT NOT NULL,
  change_id  TEXT COLLATE "C" NOT NULL,
  outcome    TEXT NOT NULL,
  PRIMARY KEY (device_id, device_seq)
);

CREATE TABLE rejected_changes (
  device_id   TEXT COLLATE "C" NOT NULL,
  device_seq  BIGINT NOT NULL,
  change_id   TEXT COLLATE "C" NOT NULL,
  author_id   TEXT COLLATE "C" NOT NULL,
  change      TEXT NOT NULL,
  rejection   TEXT NOT NULL,
  rejected_at TEXT NOT NULL,
  PRIMARY KEY (device_id, device_seq)
);

CREATE TABLE hlc_translations (
  device_id TEXT COLLATE "C" NOT NULL,
  original  TEXT COLLATE "C" NOT NULL,
  effective TEXT NOT NULL,
  PRIMARY KEY (device_id, original)
);
