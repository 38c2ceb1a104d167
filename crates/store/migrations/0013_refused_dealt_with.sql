-- 0013: a refused change the user has dealt with.
--
-- `changes.dealt_with`: NULL while a refused change (status 'rejected') waits for the user's
-- word; `resent` once what was typed was recorded again (edited or not) as a new change,
-- `discarded` once the user chose to let it go. The row stays, with its payload and reason,
-- so nothing is dropped: it only leaves the list and the count of refused changes.
-- `changes.dealt_with_at`: when (RFC 3339, UTC, the device's clock).
ALTER TABLE changes ADD COLUMN dealt_with TEXT CHECK (dealt_with IN ('resent', 'discarded'));
ALTER TABLE changes ADD COLUMN dealt_with_at TEXT;
