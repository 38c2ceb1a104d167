-- 0006: the entity digest (domain::entity::EntityState::digest) is now computed over a binary
-- encoding rather than JSON text: digests cached by earlier builds are cleared, to be computed
-- again when a checksum needs them. (Rows written from now on store theirs as they are written.)
UPDATE stations SET digest = NULL;
UPDATE service_points SET digest = NULL;
UPDATE villages SET digest = NULL;
UPDATE users SET digest = NULL;
UPDATE recipients SET digest = NULL;
UPDATE households SET digest = NULL;
UPDATE visits SET digest = NULL;
UPDATE cases SET digest = NULL;
UPDATE screenings SET digest = NULL;
UPDATE assessments SET digest = NULL;
UPDATE goals SET digest = NULL;
UPDATE resource_links SET digest = NULL;
UPDATE interventions SET digest = NULL;
UPDATE follow_ups SET digest = NULL;
UPDATE closure_decisions SET digest = NULL;
UPDATE referrals SET digest = NULL;
UPDATE resources SET digest = NULL;
