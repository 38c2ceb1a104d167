-- 0017: cases reassigned away from this device's user.
--
-- When a deputy head gives a case to another worker, the server evicts it from the previous
-- worker's devices (`Incoming::Evict` with `reassigned_to`). The case and its records go; this
-- row stays, so the recipient's file and a link to the case say where it went instead of
-- "not on this computer". `stage` as the case last stood here; `moved_at` (RFC 3339, UTC) when
-- this device heard. A case that comes back (a snapshot of it) clears its row.
CREATE TABLE moved_cases (
  case_id       TEXT PRIMARY KEY,
  recipient_id  TEXT,
  stage         TEXT,
  reassigned_to TEXT NOT NULL,
  moved_at      TEXT NOT NULL
);
CREATE INDEX moved_cases_by_recipient ON moved_cases (recipient_id);
