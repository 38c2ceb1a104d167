-- 0002: derived search columns on recipients, kept by the store on every write of the row, and
-- the indexes the roster screen pages through. Backfilled here with the store's SQL functions
-- (shegong_initials, shegong_initials_alt, shegong_reverse, shegong_category_mask), which compute
-- exactly what the store computes on write.

ALTER TABLE recipients ADD COLUMN name_initials TEXT;
ALTER TABLE recipients ADD COLUMN name_initials_alt TEXT;
ALTER TABLE recipients ADD COLUMN category_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recipients ADD COLUMN id_number_rev TEXT;
ALTER TABLE recipients ADD COLUMN phone_rev TEXT;

UPDATE recipients SET
    name_initials = shegong_initials(name),
    name_initials_alt = shegong_initials_alt(name),
    category_mask = shegong_category_mask(categories),
    id_number_rev = shegong_reverse(id_number),
    phone_rev = shegong_reverse(phone);

-- The roster's order is (name_initials, name, id): by pinyin, as people expect a list of
-- Chinese names to be sorted. One index per way of narrowing it, so a page is an index walk.
CREATE INDEX recipients_roster ON recipients (name_initials, name, id);
CREATE INDEX recipients_roster_by_station ON recipients (station_id, name_initials, name, id);
CREATE INDEX recipients_roster_by_village ON recipients (village_id, name_initials, name, id);
CREATE INDEX recipients_by_initials_alt ON recipients (name_initials_alt) WHERE name_initials_alt IS NOT NULL;
CREATE INDEX recipients_by_id_number_rev ON recipients (id_number_rev);
CREATE INDEX recipients_by_phone ON recipients (phone) WHERE phone IS NOT NULL;
CREATE INDEX recipients_by_phone_rev ON recipients (phone_rev) WHERE phone_rev IS NOT NULL;

CREATE INDEX cases_by_worker ON cases (worker_id, stage);
