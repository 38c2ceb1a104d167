-- 0011: when this device's data was last verified against the server's.
--
-- `access.last_verified_at`: the end of the last sync round whose per-station checksums were
-- compared with the server's (RFC 3339, UTC, the device's clock); a station that differed was
-- rebuilt from the server in that round. The status bar shows it.
ALTER TABLE access ADD COLUMN last_verified_at TEXT;
