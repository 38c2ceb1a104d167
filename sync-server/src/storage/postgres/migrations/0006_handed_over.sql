-- SQLite's 0006_handed_over.sql: changes refused only because their case was reassigned
-- meanwhile, kept once per change id and decided once.
CREATE TABLE handed_over (
  change_id  TEXT COLLATE "C" PRIMARY KEY,
  station_id TEXT COLLATE "C" NOT NULL,
  case_id    TEXT COLLATE "C" NOT NULL,
  author_id  TEXT COLLATE "C" NOT NULL,
  device_id  TEXT COLLATE "C" NOT NULL,
  change     TEXT NOT NULL,
  refused_at TEXT COLLATE "C" NOT NULL,
  state      TEXT NOT NULL DEFAULT 'offered' CHECK (state IN ('offered', 'taken_over', 'dismissed')),
  decided_by TEXT COLLATE "C",
  decided_at TEXT
);

CREATE INDEX handed_over_offered ON handed_over (station_id, state, refused_at);
