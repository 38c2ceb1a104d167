-- Answers found by change id: a change sent again under another device id (a cloned laptop, or
-- one that became a new device after going back in time) gets the answer it already had, and is
-- never logged twice.
CREATE INDEX push_answers_by_change ON push_answers (change_id);
