-- SQLite's 0004_generation.sql: the database's generation, 32 random lowercase hex digits
-- (gen_random_uuid draws from the server's strong random source).
INSERT INTO meta (key, value) VALUES ('generation', replace(gen_random_uuid()::text, '-', ''))
ON CONFLICT (key) DO NOTHING;
