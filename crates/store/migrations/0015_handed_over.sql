-- 0015: changes handed over to this user.
--
-- Another worker's changes the server refused because their case had been reassigned while
-- that worker was offline, offered by the server to the case's current worker and the
-- station's deputy heads (`GET /v1/handed-over`), fetched at the end of a sync round.
-- `change`: the refused change's JSON as the server kept it. `author_name`: as the server
-- named its author. An offer not decided here is replaced by the server's list at each fetch.
--
-- `decision`: NULL while offered; 'taken_over' once the user recorded its content as their
-- own change (in the same transaction), 'dismissed' once they let it go; `decided_by`,
-- `decided_at` (RFC 3339, UTC, the device's clock). `decision_sent`: 1 once the server
-- acknowledged the decision (`POST /v1/handed-over/{change_id}`); until then it is sent at
-- every round, so a decision made offline is never lost. Decided rows stay, as the log.
CREATE TABLE handed_over (
  change_id     TEXT PRIMARY KEY,
  station_id    TEXT NOT NULL,
  case_id       TEXT NOT NULL,
  author_id     TEXT NOT NULL,
  author_name   TEXT,
  change        TEXT NOT NULL,
  refused_at    TEXT NOT NULL,
  decision      TEXT CHECK (decision IN ('taken_over', 'dismissed')),
  decided_by    TEXT,
  decided_at    TEXT,
  decision_sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX handed_over_by_case ON handed_over (case_id, decision);
