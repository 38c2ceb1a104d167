-- 0020: supervision, training, qualifications and working time (issue 14).
--
-- `stations.standard_set`: the standards the station is held against (domain::standards::
-- StandardSet), set by its deputy head; NULL: none chosen yet.
-- `users.qualification`: a worker's qualification (domain::workforce::Qualification).
ALTER TABLE stations ADD COLUMN standard_set TEXT;
ALTER TABLE users ADD COLUMN qualification TEXT;

-- domain::entity::SUPERVISION_PLAN, SUPERVISION_SESSION, TRAINING_RECORD, WORK_TIME. Durations
-- are whole minutes. Each is read by station and period (the standards view sums a month or a
-- year), training and working time also by worker.
CREATE TABLE supervision_plans (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    supervisor_id TEXT,
    planned_on TEXT,
    mode TEXT,
    planned_minutes INTEGER,
    topics TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT,
    digest INTEGER
);
CREATE INDEX supervision_plans_digest_missing ON supervision_plans (id) WHERE digest IS NULL;
CREATE INDEX supervision_plans_by_station ON supervision_plans (station_id, planned_on);

CREATE TABLE supervision_sessions (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    supervisor_id TEXT,
    plan_id TEXT,
    held_on TEXT,
    mode TEXT,
    duration_minutes INTEGER,
    topics TEXT,
    cases_discussed TEXT,
    feedback TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT,
    digest INTEGER
);
CREATE INDEX supervision_sessions_digest_missing ON supervision_sessions (id) WHERE digest IS NULL;
CREATE INDEX supervision_sessions_by_station ON supervision_sessions (station_id, held_on);

CREATE TABLE training_records (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    worker_id TEXT,
    kind TEXT,
    title TEXT,
    trained_on TEXT,
    duration_minutes INTEGER,
    provider TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT,
    digest INTEGER
);
CREATE INDEX training_records_digest_missing ON training_records (id) WHERE digest IS NULL;
CREATE INDEX training_records_by_station ON training_records (station_id, trained_on);

CREATE TABLE work_times (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    worker_id TEXT,
    worked_on TEXT,
    kind TEXT,
    duration_minutes INTEGER,
    notes TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT,
    digest INTEGER
);
CREATE INDEX work_times_digest_missing ON work_times (id) WHERE digest IS NULL;
CREATE INDEX work_times_by_station ON work_times (station_id, worked_on);
