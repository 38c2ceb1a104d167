-- Supervisor-sized sync: a supervisor's devices hold, of their stations, only what their
-- supervisors hold (sync-server/src/scope.rs, `supervised`): the organisation, the workforce's
-- records, the resource library, and the cases waiting for their decision with their stage
-- records, their recipients and the recipients' visits.
--
-- `supervised` (0 or 1) on an entity and on each of its station rows: whether the supervisors of
-- its stations hold it. A supervisor's snapshot and checksum read the station's rows with it set.
ALTER TABLE entities ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entity_stations ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;
CREATE INDEX entity_stations_supervised ON entity_stations (station_id, kind_ord, id) WHERE supervised = 1;

-- `supervision` on an audience row (storage::Supervision): 0 not the supervisors', 1 theirs as
-- well as the station's, 2 theirs only (an entity entering or leaving their scope).
ALTER TABLE log_audience ADD COLUMN supervision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX log_audience_by_supervision ON log_audience (station_id, seq) WHERE supervision >= 1;

-- What the supervisors hold now, from the state as it stands. The log entries of those entities
-- are marked as theirs, so a supervisor's first pull replays them to the state; whatever this
-- misses, a supervisor's checksum finds and a snapshot repairs.
UPDATE entities SET supervised = 1 WHERE area IN (0, 3) OR kind = 'Resource';
UPDATE entities SET supervised = 1
 WHERE kind = 'Case' AND json_extract(state, '$.fields.closure_status') = 'Requested';
UPDATE entities SET supervised = 1
 WHERE area = 2 AND kind <> 'Case'
   AND case_id IN (SELECT id FROM entities WHERE kind = 'Case' AND supervised = 1);
UPDATE entities SET supervised = 1
 WHERE kind = 'Recipient'
   AND id IN (SELECT recipient_id FROM entities WHERE kind = 'Case' AND supervised = 1);
UPDATE entities SET supervised = 1
 WHERE kind = 'Visit'
   AND recipient_id IN (SELECT id FROM entities WHERE kind = 'Recipient' AND supervised = 1);
UPDATE entity_stations SET supervised = 1
 WHERE (kind_ord, id) IN (SELECT kind_ord, id FROM entities WHERE supervised = 1);
UPDATE log_audience SET supervision = 1
 WHERE target_user_id IS NULL AND station_id IS NOT NULL
   AND seq IN (SELECT l.seq FROM log l JOIN entities e ON e.id = l.entity_id AND e.kind = l.kind
                WHERE e.supervised = 1);
