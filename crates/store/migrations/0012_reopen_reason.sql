-- 0012: why a case was reopened (domain `case.reopen_reason`, written only by a reopening).
--
-- `cases.reopen_reason`: the reason given at the case's last reopening (NULL: never reopened,
-- or reopened by an older build that asked for none). Earlier reopenings keep theirs in the
-- case's history.
ALTER TABLE cases ADD COLUMN reopen_reason TEXT;

-- The supervisor's queue of closure requests, oldest request first (`Store::closure_requests`).
CREATE INDEX cases_closure_requested ON cases (closure_requested_on) WHERE closure_status = 'Requested';
