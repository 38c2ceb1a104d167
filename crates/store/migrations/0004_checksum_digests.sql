-- 0004: each entity row keeps the 64-bit fold of its digest (domain::entity::checksum_fold), so
-- the per-station checksum a device compares with the server's is an aggregate over one column
-- instead of a digest of every row. A write clears the column; the checksum computes what is
-- missing (rows written since the last comparison) and stores it.
ALTER TABLE stations ADD COLUMN digest INTEGER;
CREATE INDEX stations_digest_missing ON stations (id) WHERE digest IS NULL;
ALTER TABLE service_points ADD COLUMN digest INTEGER;
CREATE INDEX service_points_digest_missing ON service_points (id) WHERE digest IS NULL;
ALTER TABLE villages ADD COLUMN digest INTEGER;
CREATE INDEX villages_digest_missing ON villages (id) WHERE digest IS NULL;
ALTER TABLE users ADD COLUMN digest INTEGER;
CREATE INDEX users_digest_missing ON users (id) WHERE digest IS NULL;
ALTER TABLE recipients ADD COLUMN digest INTEGER;
CREATE INDEX recipients_digest_missing ON recipients (id) WHERE digest IS NULL;
ALTER TABLE households ADD COLUMN digest INTEGER;
CREATE INDEX households_digest_missing ON households (id) WHERE digest IS NULL;
ALTER TABLE visits ADD COLUMN digest INTEGER;
CREATE INDEX visits_digest_missing ON visits (id) WHERE digest IS NULL;
ALTER TABLE cases ADD COLUMN digest INTEGER;
CREATE INDEX cases_digest_missing ON cases (id) WHERE digest IS NULL;
ALTER TABLE screenings ADD COLUMN digest INTEGER;
CREATE INDEX screenings_digest_missing ON screenings (id) WHERE digest IS NULL;
ALTER TABLE assessments ADD COLUMN digest INTEGER;
CREATE INDEX assessments_digest_missing ON assessments (id) WHERE digest IS NULL;
ALTER TABLE goals ADD COLUMN digest INTEGER;
CREATE INDEX goals_digest_missing ON goals (id) WHERE digest IS NULL;
ALTER TABLE resource_links ADD COLUMN digest INTEGER;
CREATE INDEX resource_links_digest_missing ON resource_links (id) WHERE digest IS NULL;
ALTER TABLE interventions ADD COLUMN digest INTEGER;
CREATE INDEX interventions_digest_missing ON interventions (id) WHERE digest IS NULL;
ALTER TABLE follow_ups ADD COLUMN digest INTEGER;
CREATE INDEX follow_ups_digest_missing ON follow_ups (id) WHERE digest IS NULL;
ALTER TABLE closure_decisions ADD COLUMN digest INTEGER;
CREATE INDEX closure_decisions_digest_missing ON closure_decisions (id) WHERE digest IS NULL;
ALTER TABLE referrals ADD COLUMN digest INTEGER;
CREATE INDEX referrals_digest_missing ON referrals (id) WHERE digest IS NULL;
ALTER TABLE resources ADD COLUMN digest INTEGER;
CREATE INDEX resources_digest_missing ON resources (id) WHERE digest IS NULL;
