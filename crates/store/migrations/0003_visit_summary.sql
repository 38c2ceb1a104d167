-- 0003: each recipient's latest visit, for the roster's "last visited" column and the overdue
-- list ("the latest visit asked for follow-up and nobody has been back in 14 days"). Kept by the
-- store whenever a visit is written or removed; backfilled here. And the indexes of the case
-- board and the overdue list.

ALTER TABLE recipients ADD COLUMN last_visit_id TEXT;
ALTER TABLE recipients ADD COLUMN last_visit_on TEXT;
ALTER TABLE recipients ADD COLUMN last_visit_worker_id TEXT;
ALTER TABLE recipients ADD COLUMN last_visit_follow_up INTEGER NOT NULL DEFAULT 0;

-- The latest visit of a recipient is an index seek, its tie-break included.
DROP INDEX visits_by_recipient;
CREATE INDEX visits_by_recipient ON visits (recipient_id, visited_on, created_hlc);

UPDATE recipients SET last_visit_id = (
    SELECT v.id FROM visits v WHERE v.recipient_id = recipients.id
    ORDER BY v.visited_on DESC, v.created_hlc DESC LIMIT 1
);
UPDATE recipients SET
    last_visit_on = (SELECT v.visited_on FROM visits v WHERE v.id = recipients.last_visit_id),
    last_visit_worker_id = (SELECT v.worker_id FROM visits v WHERE v.id = recipients.last_visit_id),
    last_visit_follow_up = coalesce((SELECT v.follow_up_needed FROM visits v WHERE v.id = recipients.last_visit_id), 0);

-- Recipients due a follow-up visit, oldest first, county-wide and per station, village, worker.
-- Partial: only the few recipients whose latest visit asked for follow-up are in them.
CREATE INDEX recipients_follow_up_due ON recipients (last_visit_on) WHERE last_visit_follow_up = 1;
CREATE INDEX recipients_follow_up_due_by_station ON recipients (station_id, last_visit_on) WHERE last_visit_follow_up = 1;
CREATE INDEX recipients_follow_up_due_by_village ON recipients (village_id, last_visit_on) WHERE last_visit_follow_up = 1;
CREATE INDEX recipients_follow_up_due_by_worker ON recipients (last_visit_worker_id, last_visit_on) WHERE last_visit_follow_up = 1;

-- The case board: open cases longest in their stage first, county-wide and per station.
CREATE INDEX cases_open_by_stage_entered ON cases (stage_entered_on) WHERE stage <> 'Closed';
CREATE INDEX cases_by_station_stage_entered ON cases (station_id, stage_entered_on);
CREATE INDEX cases_by_stage ON cases (stage, stage_entered_on);
CREATE INDEX follow_ups_by_case_date ON follow_ups (case_id, visited_on);
CREATE INDEX goals_unevaluated ON goals (target_date) WHERE evaluation IS NULL;
