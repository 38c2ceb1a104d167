-- 0009: closure seals bound to the case's reopen generation (domain::signoff, seal version 2).
--
-- `cases.reopen_generation`: how many times the case has been reopened (NULL: never).
-- `closure_decisions.case_generation`: the generation a sign-off was made for (NULL: a returned
-- closure, or a version 1 seal of an older build).
ALTER TABLE cases ADD COLUMN reopen_generation INTEGER;
ALTER TABLE closure_decisions ADD COLUMN case_generation INTEGER;
