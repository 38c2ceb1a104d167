-- 0014: the case board's stall threshold.
--
-- `stations.stall_days`: days a case may stay in one stage before the case board marks it
-- stalled, set by the station's deputy head (domain::entity::STATION); NULL: the default,
-- `domain::entity::DEFAULT_STALL_DAYS`.
ALTER TABLE stations ADD COLUMN stall_days INTEGER;
