-- 0007: what a device needs to recover from the unusual.
--
-- `changes.set_aside`: a pending change the server could not take as sent (too large for one
-- request, or the server failed on it every time), kept out of the push sequence with its
-- reason (JSON: code, message_zh, message_en, at) so the changes after it go on. It keeps its
-- local effect; it is sent again (with a new device sequence number) when retried. Its
-- `device_seq` is moved out of the way (negative), since the numbers sent must stay dense.
ALTER TABLE changes ADD COLUMN set_aside TEXT;
CREATE INDEX changes_set_aside ON changes (seq) WHERE set_aside IS NOT NULL;

-- `device.server_generation`: the generation of the server database this device last synced
-- with. Another one means the server was restored from a backup (or replaced): the device
-- pulls again from the start and sends again what the server lacks of its own changes.
ALTER TABLE device ADD COLUMN server_generation TEXT;

-- Probable duplicates: the same resident ID number on two recipients of a station.
CREATE INDEX recipients_by_id_number ON recipients (station_id, id_number) WHERE id_number IS NOT NULL;
