-- Changes refused only because their case had been reassigned to another worker while their
-- author, a social worker of the case's station, worked offline (code `not_assigned`). Kept
-- with the change as the server checked it and offered to the case's current worker and the
-- station's deputy heads, who take it over (record its content again as their own change) or
-- dismiss it. One row per change id: the same change pushed again is kept once.
--
-- `state`: 'offered' until someone decides; then 'taken_over' or 'dismissed', with who
-- (`decided_by`, a user id) and when (`decided_at`, RFC 3339). A decision is recorded once.
CREATE TABLE handed_over (
  change_id  TEXT PRIMARY KEY,
  station_id TEXT NOT NULL,
  case_id    TEXT NOT NULL,
  author_id  TEXT NOT NULL,
  device_id  TEXT NOT NULL,
  change     TEXT NOT NULL,
  refused_at TEXT NOT NULL,
  state      TEXT NOT NULL DEFAULT 'offered' CHECK (state IN ('offered', 'taken_over', 'dismissed')),
  decided_by TEXT,
  decided_at TEXT
) WITHOUT ROWID;

CREATE INDEX handed_over_offered ON handed_over (station_id, state, refused_at);
