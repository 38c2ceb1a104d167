-- 0022: deactivated stations and villages.
--
-- `stations.active`, `villages.active`: 0 once an administrator deactivated the place
-- (`shegong-sync admin deactivate station|village`, domain::places): its records stay, nobody new
-- is placed in it, and the forms no longer offer it. NULL (a record made before): active.
ALTER TABLE stations ADD COLUMN active INTEGER;
ALTER TABLE villages ADD COLUMN active INTEGER;
