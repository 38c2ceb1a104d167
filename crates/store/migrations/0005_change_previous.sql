-- 0005: a local change keeps the values it overwrote (with their clocks), so that when the server
-- refuses it the device can put them back exactly, conflicts and all, instead of taking the
-- server's current state wholesale (which may already hold changes this device has not pulled,
-- and would skip their merge). JSON: {"field": {"value": ..., "clock": FieldClock}}.
ALTER TABLE changes ADD COLUMN previous TEXT;
