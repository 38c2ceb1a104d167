//! The writes tests make over and over: a recipient with a valid ID number, a home visit, a case
//! and its stage records, the walk of a case to its closure request, and a supervisor's signed
//! sign-off. Each returns plain [`Write`]s: a store records them, a test device stamps them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::change::Write;
use domain::entity::EntityKind;
use domain::{Id, field};
use ed25519_dalek::SigningKey;
use uuid::Uuid;

use crate::id_number::{gender_of, id_number};

/// A new recipient, the `n`th: born on the 15th of a month and year `n` picks, with an ID number
/// of region 410522 and sequence `200 + n` (gender and birth date agreeing with it), on 低保.
pub fn recipient(station: Id, village: Id, name: &str, n: u32) -> (Id, Write) {
    let birth = NaiveDate::from_ymd_opt(1950 + (n % 50) as i32, (n % 12) + 1, 15).expect("valid date");
    let number = id_number("410522", birth, 200 + n);
    let gender = gender_of(&number);
    recipient_with_id_number(station, village, name, &number, birth, gender)
}

/// A new recipient with the ID number, birth date and gender given (they may disagree, for the
/// tests of that rule), on 低保.
pub fn recipient_with_id_number(
    station: Id,
    village: Id,
    name: &str,
    id_number: &str,
    birth: NaiveDate,
    gender: &str,
) -> (Id, Write) {
    let id = Uuid::now_v7();
    let write = Write::create(EntityKind::Recipient, id)
        .set(field::recipient::STATION_ID, station.to_string())
        .set(field::recipient::VILLAGE_ID, village.to_string())
        .set(field::recipient::NAME, name)
        .set(field::recipient::ID_NUMBER, id_number)
        .set(field::recipient::GENDER, gender)
        .set(field::recipient::BIRTH_DATE, birth.to_string())
        .set(field::recipient::CATEGORIES, vec!["Dibao"]);
    (id, write)
}

/// A home visit by `worker`, with nothing to follow up.
pub fn visit(station: Id, village: Id, recipient: Id, worker: Id, on: NaiveDate) -> (Id, Write) {
    let id = Uuid::now_v7();
    let write = Write::create(EntityKind::Visit, id)
        .set(field::visit::STATION_ID, station.to_string())
        .set(field::visit::VILLAGE_ID, village.to_string())
        .set(field::visit::RECIPIENT_ID, recipient.to_string())
        .set(field::visit::WORKER_ID, worker.to_string())
        .set(field::visit::VISITED_ON, on.to_string())
        .set(field::visit::OBSERVATIONS, "生活稳定")
        .set(field::visit::FOLLOW_UP_NEEDED, false);
    (id, write)
}

/// A new case of `recipient`, assigned to `worker`, in its first stage since `opened_on`.
pub fn new_case(station: Id, recipient: Id, worker: Id, opened_on: NaiveDate) -> (Id, Write) {
    let id = Uuid::now_v7();
    let write = Write::create(EntityKind::Case, id)
        .set(field::case::STATION_ID, station.to_string())
        .set(field::case::RECIPIENT_ID, recipient.to_string())
        .set(field::case::WORKER_ID, worker.to_string())
        .set(field::case::STAGE, "Identify")
        .set(field::case::STAGE_ENTERED_ON, opened_on.to_string())
        .set(field::case::OPENED_ON, opened_on.to_string())
        .set(field::case::CLOSURE_STATUS, "Open");
    (id, write)
}

/// Moves a case to `stage` (a `Stage`'s name) on `on`.
pub fn move_stage(case: Id, stage: &str, on: NaiveDate) -> Write {
    Write::update(EntityKind::Case, case)
        .set(field::case::STAGE, stage)
        .set(field::case::STAGE_ENTERED_ON, on.to_string())
}

/// A new stage record of `kind` for `case` (a screening, an assessment, a goal, a linked
/// resource, an intervention or a follow-up by `worker`), dated `on`, with plain values.
pub fn stage_record(kind: EntityKind, station: Id, case: Id, worker: Id, on: NaiveDate) -> Write {
    let day = on.to_string();
    let write = Write::create(kind, Uuid::now_v7())
        .set(field::STATION_ID, station.to_string())
        .set(field::CASE_ID, case.to_string());
    match kind {
        EntityKind::Screening => {
            write.set(field::screening::SOURCE, "VisitScreening").set(field::screening::FOUND_ON, day)
        }
        EntityKind::Assessment => write
            .set(field::assessment::ASSESSED_ON, day)
            .set(field::assessment::RISK_LEVEL, "High")
            .set(field::assessment::NEEDS_SUMMARY, "日常照料"),
        EntityKind::Goal => write
            .set(field::goal::DESCRIPTION, "落实临时救助")
            .set(field::goal::TARGET_DATE, (on + Duration::days(60)).to_string()),
        EntityKind::ResourceLink => write
            .set(field::resource_link::KIND, "Volunteer")
            .set(field::resource_link::DESCRIPTION, "志愿者每周探访")
            .set(field::resource_link::STATUS, "Secured")
            .set(field::resource_link::LINKED_ON, day),
        EntityKind::Intervention => write
            .set(field::intervention::WORKER_ID, worker.to_string())
            .set(field::intervention::DELIVERED_ON, day)
            .set(field::intervention::SERVICE_TYPE, "EmotionalCounselling")
            .set(field::intervention::METHOD, "Casework")
            .set(field::intervention::DURATION_MINUTES, 45)
            .set(field::intervention::NOTES, "入户陪伴"),
        EntityKind::FollowUp => write
            .set(field::follow_up::WORKER_ID, worker.to_string())
            .set(field::follow_up::VISITED_ON, day)
            .set(field::follow_up::NOTES, "情况好转"),
        other => panic!("not a stage record the fixture makes: {other:?}"),
    }
}

/// The ids of a case walked by [`steps_to_closure_request`].
#[derive(Debug, Clone, Copy)]
pub struct CaseIds {
    pub case: Id,
    pub goal: Id,
    pub screening: Id,
}

/// The batches that take a case opened on `opened_on`, in its first stage, through every stage
/// to a closure request by its worker: each batch a stage record and the move it allows, the
/// last the follow-up, the goal evaluated and the request (on `opened_on` + 40 days).
pub fn steps_to_closure_request(station: Id, case: Id, worker: Id, opened_on: NaiveDate) -> (CaseIds, Vec<Vec<Write>>) {
    let day = |n: i64| opened_on + Duration::days(n);
    let record = |kind: EntityKind, on: NaiveDate| stage_record(kind, station, case, worker, on);
    let screening = record(EntityKind::Screening, day(0));
    let goal = record(EntityKind::Goal, day(2));
    let ids = CaseIds { case, goal: goal.entity_id, screening: screening.entity_id };
    let steps = vec![
        vec![screening, move_stage(case, "Assess", day(1))],
        vec![record(EntityKind::Assessment, day(1)), move_stage(case, "Plan", day(2))],
        vec![goal, move_stage(case, "Coordinate", day(3))],
        vec![record(EntityKind::ResourceLink, day(3)), move_stage(case, "Intervene", day(4))],
        vec![record(EntityKind::Intervention, day(5)), move_stage(case, "FollowUp", day(9))],
        vec![
            record(EntityKind::FollowUp, day(31)),
            Write::update(EntityKind::Goal, ids.goal).set(field::goal::EVALUATION, "Achieved"),
            Write::update(EntityKind::Case, case)
                .set(field::case::CLOSURE_STATUS, "Requested")
                .set(field::case::CLOSURE_SUMMARY, "目标达成，申请结案")
                .set(field::case::CLOSURE_REQUESTED_ON, day(40).to_string()),
        ],
    ];
    (ids, steps)
}

/// The writes that open a case on `opened_on` and take it to a closure request, in one list.
pub fn case_to_closure_request(station: Id, recipient: Id, worker: Id, opened_on: NaiveDate) -> (CaseIds, Vec<Write>) {
    let (case, create) = new_case(station, recipient, worker, opened_on);
    let (ids, steps) = steps_to_closure_request(station, case, worker, opened_on);
    (ids, std::iter::once(create).chain(steps.into_iter().flatten()).collect())
}

/// A supervisor's sign-off of a case awaiting it: the decision, signed with `key` over the
/// case's `digest`, and the update that closes the case, both at `decided_at`.
pub fn sign_off(
    station: Id,
    case: Id,
    supervisor: Id,
    key: &SigningKey,
    digest: &str,
    decided_at: DateTime<Utc>,
) -> Vec<Write> {
    vec![
        Write::create(EntityKind::ClosureDecision, Uuid::now_v7())
            .set(field::closure_decision::STATION_ID, station.to_string())
            .set(field::closure_decision::CASE_ID, case.to_string())
            .set(field::closure_decision::SUPERVISOR_ID, supervisor.to_string())
            .set(field::closure_decision::DECISION, "SignedOff")
            .set(field::closure_decision::DECIDED_AT, decided_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .set(field::closure_decision::CASE_DIGEST, digest)
            .set(field::closure_decision::SIGNATURE, domain::signoff::sign(key, case, digest))
            .set(field::closure_decision::PUBLIC_KEY, domain::signoff::public_key_hex(key)),
        Write::update(EntityKind::Case, case)
            .set(field::case::STAGE, "Closed")
            .set(field::case::CLOSURE_STATUS, "SignedOff")
            .set(field::case::STAGE_ENTERED_ON, decided_at.date_naive().to_string()),
    ]
}
