-- 0016: a station's visits by day. The deputy head's counts read this month's visits of one
-- station by worker and by village; with only the station indexed they read every visit the
-- station ever had. The index holds what the counts read (corrections left out, as they are
-- not counted), so the rows themselves are not read.
CREATE INDEX visits_by_station_day ON visits (station_id, visited_on, worker_id, village_id)
    WHERE amends IS NULL;
