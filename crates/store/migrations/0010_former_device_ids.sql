-- 0010: the device ids this database pushed under before its current one. It became a new
-- device (`Store::become_device`: a cloned laptop image, or files that went back in time) and
-- its history stayed under the old id. Changes pulled back under these ids are its own: after
-- a server restore it sends them again like those under its current id.
CREATE TABLE former_device_ids (device_id TEXT PRIMARY KEY);

-- A database that became a new device before this migration: the ids its own pushes went under.
INSERT OR IGNORE INTO former_device_ids (device_id)
    SELECT DISTINCT device_id FROM changes
    WHERE status IN ('pending', 'accepted', 'rejected')
      AND device_id != coalesce((SELECT device_id FROM device), '');
