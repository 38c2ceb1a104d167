-- 0019: the resource library (资源库) and the station's activities (活动).
--
-- `resources.village_ids` (JSON list) and `resources.cultivated`: the villages a resource serves,
-- and whether the station cultivates it (a volunteer team or community organisation it grew).
-- `resource_links.outcome`, `money_fen`, `goods`, `goods_value_fen`: what a link into a case plan
-- brought; amounts are whole fen (domain::money), never floats.
ALTER TABLE resources ADD COLUMN village_ids TEXT;
ALTER TABLE resources ADD COLUMN cultivated INTEGER;
ALTER TABLE resource_links ADD COLUMN outcome TEXT;
ALTER TABLE resource_links ADD COLUMN money_fen INTEGER;
ALTER TABLE resource_links ADD COLUMN goods TEXT;
ALTER TABLE resource_links ADD COLUMN goods_value_fen INTEGER;

-- A resource's page lists the cases it helped.
CREATE INDEX resource_links_by_resource ON resource_links (resource_id) WHERE resource_id IS NOT NULL;

-- `activities` (domain::entity::ACTIVITY): the lists of workers, recipients and resources are
-- JSON lists, as every list field is.
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    station_id TEXT,
    kind TEXT,
    title TEXT,
    held_on TEXT,
    place TEXT,
    duration_minutes INTEGER,
    worker_ids TEXT,
    recipient_ids TEXT,
    others_count INTEGER,
    resource_ids TEXT,
    notes TEXT,
    created_hlc TEXT NOT NULL, created_by TEXT NOT NULL, clocks TEXT,
    digest INTEGER
);
CREATE INDEX activities_digest_missing ON activities (id) WHERE digest IS NULL;
-- The activities page lists a station's activities month by month.
CREATE INDEX activities_by_station ON activities (station_id, held_on);
