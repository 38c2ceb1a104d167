-- The database's generation: random, made when the database is created (or first upgraded to
-- this version). Sent with every pull page and checksum answer. A server restored from a backup
-- is given a new one (`shegong-sync admin new-generation`), so devices that synced with the
-- lost future notice, start their pull again from the beginning, and send again what the
-- restored server lacks (see docs/sync-protocol.md, "Restored servers").
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', lower(hex(randomblob(16))));
