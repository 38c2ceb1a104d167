-- SQLite's 0008_supervision.sql: supervisor-sized sync. `supervised` on an entity and on each of
-- its station rows: whether the supervisors of its stations hold it. `supervision` on an
-- audience row (storage::Supervision): 0 not the supervisors', 1 theirs as well as the
-- station's, 2 theirs only.
ALTER TABLE entities ADD COLUMN supervised BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE entity_stations ADD COLUMN supervised BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX entity_stations_supervised ON entity_stations (station_id, kind_ord, id) WHERE supervised;

ALTER TABLE log_audience ADD COLUMN supervision BIGINT NOT NULL DEFAULT 0;
CREATE INDEX log_audience_by_supervision ON log_audience (station_id, seq) WHERE supervision >= 1;

-- What the supervisors hold now, from the state as it stands (as SQLite's migration does).
UPDATE entities SET supervised = TRUE WHERE area IN (0, 3) OR kind = 'Resource';
UPDATE entities SET supervised = TRUE
 WHERE kind = 'Case' AND state::jsonb #>> '{fields,closure_status}' = 'Requested';
UPDATE entities SET supervised = TRUE
 WHERE area = 2 AND kind <> 'Case'
   AND case_id IN (SELECT id FROM entities WHERE kind = 'Case' AND supervised);
UPDATE entities SET supervised = TRUE
 WHERE kind = 'Recipient'
   AND id IN (SELECT recipient_id FROM entities WHERE kind = 'Case' AND supervised);
UPDATE entities SET supervised = TRUE
 WHERE kind = 'Visit'
   AND recipient_id IN (SELECT id FROM entities WHERE kind = 'Recipient' AND supervised);
UPDATE entity_stations SET supervised = TRUE
 WHERE (kind_ord, id) IN (SELECT kind_ord, id FROM entities WHERE supervised);
UPDATE log_audience SET supervision = 1
 WHERE target_user_id IS NULL AND station_id IS NOT NULL
   AND seq IN (SELECT l.seq FROM log l JOIN entities e ON e.id = l.entity_id AND e.kind = l.kind
                WHERE e.supervised);
