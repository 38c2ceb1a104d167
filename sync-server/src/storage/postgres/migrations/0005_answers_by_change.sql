-- SQLite's 0005_answers_by_change.sql: answers found by change id.
CREATE INDEX push_answers_by_change ON push_answers (change_id);
