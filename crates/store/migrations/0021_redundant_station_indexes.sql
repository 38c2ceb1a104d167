-- Each of these indexes is the first column of a wider index on the same table
-- (visits_by_station_day, 0016; recipients_roster_by_station, 0002; cases_by_station_stage_entered,
-- 0003), which serves every look-up by station as well. Kept, they cost every insert for nothing:
-- a station's first pull writes 20,000 visits, and visits_by_station alone was 250 pages of it.
DROP INDEX visits_by_station;
DROP INDEX recipients_by_station;
DROP INDEX cases_by_station;
