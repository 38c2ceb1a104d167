-- 0008: access that shrinks.
--
-- `stations.offline_lease_days`: the station's offline lease (domain::entity::STATION).
ALTER TABLE stations ADD COLUMN offline_lease_days INTEGER;

-- The device's standing with the server (one row):
-- `last_contact_at`: the end of the last successful sync round (RFC 3339, UTC, the device's
--   clock); the offline lease counts from it.
-- `deactivated_at`: when the server said the account of this database was deactivated (its
--   data was dropped then; offline sign-in is refused from then on).
-- `revoked_at`: when the server said this device was revoked (its unsent work was handed over
--   and its data wiped).
CREATE TABLE access (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_contact_at TEXT,
    deactivated_at  TEXT,
    revoked_at      TEXT
);
-- The lease of a database made before leases existed counts from its upgrade.
INSERT INTO access (singleton, last_contact_at) VALUES (1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
