-- 0023: corrections by station. visits_by_station_day (0016) leaves corrections out, so once
-- 0021 dropped visits_by_station, "which stations do these visits belong to" read every visit:
-- the sync engine asks it at every checksum comparison (Store::holds_outside), and on a station's
-- 20,000 visits that was a few milliseconds of every round. It now asks in two halves, each
-- answered by an index: the day index for visits, this one for their corrections (few).
CREATE INDEX visits_corrections_by_station ON visits (station_id) WHERE amends IS NOT NULL;
