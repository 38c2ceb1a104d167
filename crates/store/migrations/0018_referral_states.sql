-- 0018: referrals tracked to an outcome, benefit applications, and the station's overdue threshold.
--
-- New optional columns of `referrals` (domain::entity::REFERRAL): where the referral stands
-- (`state`; NULL on a record an older device made: domain::referral::effective_state reads it from
-- the direction and outcome), why (`purpose`, NULL: a referral for services; `benefit`, what a
-- benefit application was for), the other side more precisely (`counterpart_detail`), the person
-- as the referrer named them (`person_name`), the dates of the response and of the outcome, and the
-- case an inbound referral opened (`opened_case_id`).
ALTER TABLE referrals ADD COLUMN state TEXT;
ALTER TABLE referrals ADD COLUMN purpose TEXT;
ALTER TABLE referrals ADD COLUMN benefit TEXT;
ALTER TABLE referrals ADD COLUMN counterpart_detail TEXT;
ALTER TABLE referrals ADD COLUMN person_name TEXT;
ALTER TABLE referrals ADD COLUMN responded_on TEXT;
ALTER TABLE referrals ADD COLUMN concluded_on TEXT;
ALTER TABLE referrals ADD COLUMN opened_case_id TEXT;

-- `stations.referral_overdue_days`: days a referral may go without an outcome before the deputy
-- head's board lists it overdue; NULL: domain::entity::DEFAULT_REFERRAL_OVERDUE_DAYS.
ALTER TABLE stations ADD COLUMN referral_overdue_days INTEGER;
