//! The authorization matrix: every role against every kind of change, in its own station and in
//! another, pushed to the server as a device would. What the table forbids is rejected with the
//! code it names, and leaves the server exactly as it was; what it allows is accepted.
//!
//! The table is written out by hand, from the roles in `../shared/DOMAIN.md` — it is the
//! specification the server's single policy function is checked against, not derived from it.

mod common;

use std::collections::HashMap;

use common::*;
use domain::Id;
use domain::change::Write;
use domain::entity::{EntityKind, EntityState};
use domain::field;
use ed25519_dalek::SigningKey;
use protocol::PushOutcome;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Accepted,
    Rejected(&'static str),
}
use Expect::{Accepted as OK, Rejected as No};

/// Who pushes: worker A (the targets' cases are hers), worker B of the same station, the
/// station's deputy head, its supervisor, an administrator.
const ACTORS: [&str; 5] = ["wa", "wb", "ds", "sup", "adm"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    CreateRecipient,
    EditRecipient,
    TransferRecipient,
    CreateHousehold,
    RecordVisit,
    EditVisit,
    OpenCaseForWorkerA,
    AddStageRecord,
    MoveStage,
    RequestClosure,
    SignOff,
    Reassign,
    Reopen,
    CreateReferral,
    MoveReferral,
    SetReferralOverdueDays,
    CreateResource,
    RecordActivity,
    CreateVillage,
    CreateUser,
    RecordSupervision,
    RecordOwnTraining,
    ChooseStandards,
    SetQualification,
}

const OUT: &str = "outside_station";
const ROLE: &str = "role_cannot";
const MINE: &str = "not_assigned";

/// (action, expected in the actors' own station, expected in another station)
#[rustfmt::skip]
const MATRIX: &[(Action, [Expect; 5], [Expect; 5])] = &[
    //                               wa          wb          ds          sup         adm
    (Action::CreateRecipient,    [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::EditRecipient,      [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::TransferRecipient,  [No(ROLE),  No(ROLE),  OK,        No(ROLE),  No(ROLE)], [No(ROLE),  No(ROLE),  No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::CreateHousehold,    [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::RecordVisit,        [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    // Visits are append-only: a correction is a new visit, whoever asks.
    (Action::EditVisit,          [No("immutable"); 5],                                   [No("immutable"); 5]),
    (Action::OpenCaseForWorkerA, [OK,        No(MINE),  OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::AddStageRecord,     [OK,        No(MINE),  OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::MoveStage,          [OK,        No(MINE),  OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    // Closure is requested by the case's own worker only.
    (Action::RequestClosure,     [OK,        No(MINE),  No(ROLE),  No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(ROLE),  No(ROLE),  No(ROLE)]),
    (Action::SignOff,            [No(ROLE),  No(ROLE),  No(ROLE),  OK,        No(ROLE)], [No(ROLE),  No(ROLE),  No(ROLE),  No(OUT),   No(ROLE)]),
    (Action::Reassign,           [No(ROLE),  No(ROLE),  OK,        No(ROLE),  No(ROLE)], [No(ROLE),  No(ROLE),  No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::Reopen,             [No(ROLE),  No(ROLE),  OK,        OK,        No(ROLE)], [No(ROLE),  No(ROLE),  No(OUT),   No(OUT),   No(ROLE)]),
    (Action::CreateReferral,     [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    // A referral moves on by any worker of its station; the overdue threshold is the deputy head's.
    (Action::MoveReferral,       [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::SetReferralOverdueDays, [No(ROLE), No(ROLE), OK,        No(ROLE),  OK      ], [No(ROLE),  No(ROLE),  No(OUT),   No(ROLE),  OK      ]),
    (Action::CreateResource,     [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    // Activities are the station's work beside the cases: any worker of the station records one.
    (Action::RecordActivity,     [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    // The organisation is the administrator's, everywhere.
    (Action::CreateVillage,      [No(ROLE),  No(ROLE),  No(ROLE),  No(ROLE),  OK      ], [No(ROLE),  No(ROLE),  No(ROLE),  No(ROLE),  OK      ]),
    (Action::CreateUser,         [No(ROLE),  No(ROLE),  No(ROLE),  No(ROLE),  OK      ], [No(ROLE),  No(ROLE),  No(ROLE),  No(ROLE),  OK      ]),
    // Supervision is the supervisor's, in the stations they cover; training and working time
    // each worker's own; the standards and qualifications the deputy head's (and administrators').
    (Action::RecordSupervision,  [No(ROLE),  No(ROLE),  No(ROLE),  OK,        No(ROLE)], [No(ROLE),  No(ROLE),  No(ROLE),  No(OUT),   No(ROLE)]),
    (Action::RecordOwnTraining,  [OK,        OK,        OK,        No(ROLE),  No(ROLE)], [No(OUT),   No(OUT),   No(OUT),   No(ROLE),  No(ROLE)]),
    (Action::ChooseStandards,    [No(ROLE),  No(ROLE),  OK,        No(ROLE),  OK      ], [No(ROLE),  No(ROLE),  No(OUT),   No(ROLE),  OK      ]),
    (Action::SetQualification,   [No(ROLE),  No(ROLE),  OK,        No(ROLE),  OK      ], [No(ROLE),  No(ROLE),  No(OUT),   No(ROLE),  OK      ]),
];

/// One station as the matrix sees it: its village, its first worker (who owns the targets'
/// cases), someone else a case may be reassigned to, and its supervisor.
#[derive(Clone, Copy)]
struct Place {
    station: Id,
    point: Id,
    village: Id,
    owner: Id,
    other_worker: Id,
    supervisor: Id,
    /// The other station, for transfers.
    elsewhere: (Id, Id),
}

struct Matrix {
    world: World,
    devices: HashMap<&'static str, Device>,
    keys: HashMap<Id, SigningKey>,
    n: u32,
}

impl Matrix {
    fn new() -> Matrix {
        let world = World::new();
        let key_s = SigningKey::from_bytes(&[3; 32]);
        let key_t = SigningKey::from_bytes(&[4; 32]);
        let mut devices = HashMap::new();
        for actor in ACTORS {
            let key = (actor == "sup").then_some(&key_s);
            devices.insert(actor, world.login_with(actor, key));
        }
        // The other station's supervisor registers a key too, to close cases there.
        world.login_with("supt", Some(&key_t));
        let keys = HashMap::from([(world.supervisor_s, key_s), (world.supervisor_t, key_t)]);
        Matrix { world, devices, keys, n: 0 }
    }

    fn place(&self, own: bool) -> Place {
        let w = &self.world;
        if own {
            Place {
                station: w.station_s,
                point: w.point_s,
                village: w.village_s,
                owner: w.worker_a,
                other_worker: w.worker_b,
                supervisor: w.supervisor_s,
                elsewhere: (w.station_t, w.village_t),
            }
        } else {
            Place {
                station: w.station_t,
                point: w.point_t,
                village: w.village_t,
                owner: w.worker_c,
                // The other station has one worker; a case of hers can go to its deputy head.
                other_worker: w.deputy_t,
                supervisor: w.supervisor_t,
                elsewhere: (w.station_s, w.village_s),
            }
        }
    }

    /// Writes targets into the server as `user` (checked like any push), returning their ids.
    fn seed(&self, user: Id, writes: Vec<Write>) {
        self.world.server.admin().record_as(user, writes).expect("seed writes");
    }

    fn person(&mut self, place: Place) -> Id {
        self.n += 1;
        let (id, write) = recipient(place.station, place.village, "测试对象", self.n);
        self.seed(place.owner, vec![write]);
        id
    }

    /// A case of the place's owner, with its screening recorded.
    fn case(&mut self, place: Place) -> Id {
        let person = self.person(place);
        let (case, open) = new_case(place.station, person, place.owner);
        let screening = Write::create(EntityKind::Screening, Uuid::now_v7())
            .set(field::screening::STATION_ID, place.station.to_string())
            .set(field::screening::CASE_ID, case.to_string())
            .set(field::screening::SOURCE, "WalkIn")
            .set(field::screening::FOUND_ON, "2026-05-01");
        self.seed(place.owner, vec![open, screening]);
        case
    }

    fn case_awaiting_sign_off(&mut self, place: Place) -> Id {
        let person = self.person(place);
        let (ids, writes) = case_to_closure_request(place.station, person, place.owner);
        self.seed(place.owner, writes);
        ids.case
    }

    fn closed_case(&mut self, place: Place) -> Id {
        let case = self.case_awaiting_sign_off(place);
        let digest = server_digest(&self.world, case);
        let writes = sign_off(&self.world, place.supervisor, case, &self.keys[&place.supervisor], &digest);
        self.seed(place.supervisor, writes);
        case
    }

    /// Fresh targets for `action` in `place`, and the writes `actor` attempts.
    fn attempt(&mut self, action: Action, place: Place, actor: Id) -> Vec<Write> {
        let s = place.station.to_string();
        match action {
            Action::CreateRecipient => {
                self.n += 1;
                vec![recipient(place.station, place.village, "新对象", self.n).1]
            }
            Action::EditRecipient => {
                let person = self.person(place);
                vec![Write::update(EntityKind::Recipient, person).set(field::recipient::ADDRESS, "三组12号")]
            }
            Action::TransferRecipient => {
                let person = self.person(place);
                let (station, village) = place.elsewhere;
                vec![
                    Write::update(EntityKind::Recipient, person)
                        .set(field::recipient::STATION_ID, station.to_string())
                        .set(field::recipient::VILLAGE_ID, village.to_string()),
                ]
            }
            Action::CreateHousehold => vec![
                Write::create(EntityKind::Household, Uuid::now_v7())
                    .set(field::household::STATION_ID, s)
                    .set(field::household::VILLAGE_ID, place.village.to_string())
                    .set(field::household::NAME, "测试户"),
            ],
            Action::RecordVisit => {
                let person = self.person(place);
                vec![visit(place.station, place.village, person, actor, "2026-06-01").1]
            }
            Action::EditVisit => {
                let person = self.person(place);
                let (id, write) = visit(place.station, place.village, person, place.owner, "2026-06-01");
                self.seed(place.owner, vec![write]);
                vec![Write::update(EntityKind::Visit, id).set(field::visit::OBSERVATIONS, "改写")]
            }
            Action::OpenCaseForWorkerA => {
                let person = self.person(place);
                vec![new_case(place.station, person, place.owner).1]
            }
            Action::AddStageRecord => {
                let case = self.case(place);
                vec![
                    Write::create(EntityKind::Goal, Uuid::now_v7())
                        .set(field::goal::STATION_ID, s)
                        .set(field::goal::CASE_ID, case.to_string())
                        .set(field::goal::DESCRIPTION, "按时就医")
                        .set(field::goal::TARGET_DATE, "2026-09-01"),
                ]
            }
            Action::MoveStage => {
                let case = self.case(place);
                vec![
                    Write::update(EntityKind::Case, case)
                        .set(field::case::STAGE, "Assess")
                        .set(field::case::STAGE_ENTERED_ON, "2026-06-02"),
                ]
            }
            Action::RequestClosure => {
                // Everything but the request itself, which the actor attempts.
                let person = self.person(place);
                let (ids, mut writes) = case_to_closure_request(place.station, person, place.owner);
                let request = writes.pop().expect("the request is last");
                self.seed(place.owner, writes);
                let _ = ids;
                vec![request]
            }
            Action::SignOff => {
                let case = self.case_awaiting_sign_off(place);
                let digest = server_digest(&self.world, case);
                // Whoever asks signs with the station's supervisor key, the best a forger could do.
                let key = self.keys[&place.supervisor].clone();
                sign_off(&self.world, actor, case, &key, &digest)
            }
            Action::Reassign => {
                let case = self.case(place);
                vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, place.other_worker.to_string())]
            }
            Action::Reopen => {
                let case = self.closed_case(place);
                vec![
                    Write::update(EntityKind::Case, case)
                        .set(field::case::STAGE, "Assess")
                        .set(field::case::CLOSURE_STATUS, "Open")
                        .set(field::case::STAGE_ENTERED_ON, "2026-06-15"),
                ]
            }
            Action::CreateReferral => vec![
                Write::create(EntityKind::Referral, Uuid::now_v7())
                    .set(field::referral::STATION_ID, s)
                    .set(field::referral::DIRECTION, "Inbound")
                    .set(field::referral::COUNTERPART, "Hotline12345")
                    .set(field::referral::REASON, "独居老人无人照料")
                    .set(field::referral::REFERRED_ON, "2026-06-01")
                    .set(field::referral::OUTCOME, "Pending"),
            ],
            Action::MoveReferral => {
                let referral = Uuid::now_v7();
                self.seed(
                    place.owner,
                    vec![
                        Write::create(EntityKind::Referral, referral)
                            .set(field::referral::STATION_ID, s)
                            .set(field::referral::DIRECTION, "Outbound")
                            .set(field::referral::COUNTERPART, "CivilAffairs")
                            .set(field::referral::REASON, "需要申请临时救助")
                            .set(field::referral::REFERRED_ON, "2026-06-01")
                            .set(field::referral::STATE, "Sent")
                            .set(field::referral::OUTCOME, "Pending"),
                    ],
                );
                vec![
                    Write::update(EntityKind::Referral, referral)
                        .set(field::referral::STATE, "Acknowledged")
                        .set(field::referral::OUTCOME, "Accepted"),
                ]
            }
            Action::SetReferralOverdueDays => {
                vec![Write::update(EntityKind::Station, place.station).set(field::station::REFERRAL_OVERDUE_DAYS, 20)]
            }
            Action::CreateResource => vec![
                Write::create(EntityKind::Resource, Uuid::now_v7())
                    .set(field::resource::STATION_ID, s)
                    .set(field::resource::KIND, "VolunteerTeam")
                    .set(field::resource::NAME, "青年志愿服务队")
                    .set(field::resource::ACTIVE, true),
            ],
            Action::RecordActivity => vec![
                Write::create(EntityKind::Activity, Uuid::now_v7())
                    .set(field::activity::STATION_ID, s)
                    .set(field::activity::KIND, "PolicyPublicity")
                    .set(field::activity::TITLE, "低保政策宣讲")
                    .set(field::activity::HELD_ON, "2026-06-01")
                    .set(field::activity::PLACE, "村委会")
                    .set(field::activity::DURATION_MINUTES, 60)
                    .set(field::activity::WORKER_IDS, serde_json::json!([place.owner.to_string()]))
                    .set(field::activity::OTHERS_COUNT, 30),
            ],
            Action::CreateVillage => vec![
                Write::create(EntityKind::Village, Uuid::now_v7())
                    .set(field::village::STATION_ID, s)
                    .set(field::village::SERVICE_POINT_ID, place.point.to_string())
                    .set(field::village::NAME, "新村"),
            ],
            Action::CreateUser => {
                self.n += 1;
                vec![
                    Write::create(EntityKind::User, Uuid::now_v7())
                        .set(field::user::USERNAME, format!("new{}", self.n))
                        .set(field::user::DISPLAY_NAME, "新社工")
                        .set(field::user::ROLE, "SocialWorker")
                        .set(field::user::POST, "Service")
                        .set(field::user::STATION_ID, s)
                        .set(field::user::ACTIVE, true),
                ]
            }
            Action::RecordSupervision => vec![
                Write::create(EntityKind::SupervisionSession, Uuid::now_v7())
                    .set(field::supervision_session::STATION_ID, s)
                    .set(field::supervision_session::SUPERVISOR_ID, actor.to_string())
                    .set(field::supervision_session::HELD_ON, "2026-06-01")
                    .set(field::supervision_session::MODE, "OnSite")
                    .set(field::supervision_session::DURATION_MINUTES, 960)
                    .set(field::supervision_session::TOPICS, "个案评估"),
            ],
            Action::RecordOwnTraining => vec![
                Write::create(EntityKind::TrainingRecord, Uuid::now_v7())
                    .set(field::training_record::STATION_ID, s)
                    .set(field::training_record::WORKER_ID, actor.to_string())
                    .set(field::training_record::KIND, "Policy")
                    .set(field::training_record::TITLE, "社会救助政策")
                    .set(field::training_record::TRAINED_ON, "2026-06-01")
                    .set(field::training_record::DURATION_MINUTES, 480),
            ],
            Action::ChooseStandards => {
                vec![Write::update(EntityKind::Station, place.station).set(field::station::STANDARD_SET, "Dongguan")]
            }
            Action::SetQualification => vec![
                Write::update(EntityKind::User, place.other_worker)
                    .set(field::user::QUALIFICATION, "AssistantSocialWorker"),
            ],
        }
    }
}

fn states(world: &World, writes: &[Write]) -> Vec<Option<EntityState>> {
    writes.iter().map(|w| world.state(w.entity, w.entity_id)).collect()
}

#[test]
fn every_role_against_every_kind_of_change_in_and_out_of_its_station() {
    let mut m = Matrix::new();
    let mut mismatches = Vec::new();
    for (action, own, other) in MATRIX {
        for (in_own_station, expectations) in [(true, own), (false, other)] {
            for (actor, expected) in ACTORS.iter().zip(expectations) {
                let place = m.place(in_own_station);
                let actor_id = m.devices[actor].user();
                let writes = m.attempt(*action, place, actor_id);
                let before = states(&m.world, &writes);
                let head = m.world.log_head();
                let results = m.devices.get_mut(actor).expect("device").send(writes.clone());
                let outcome = match &results[0].outcome {
                    PushOutcome::Accepted { .. } => Expect::Accepted,
                    PushOutcome::Rejected { rejection, .. } => {
                        assert!(!rejection.message_zh.is_empty() && !rejection.message_en.is_empty());
                        Expect::Rejected(Box::leak(rejection.code.clone().into_boxed_str()))
                    }
                    PushOutcome::Gap { expected } => panic!("{actor} {action:?}: gap, expected {expected}"),
                    PushOutcome::SequenceReused { expected } => {
                        panic!("{actor} {action:?}: sequence reused, expected {expected}")
                    }
                };
                let place_name = if in_own_station { "own station" } else { "other station" };
                if outcome != *expected {
                    mismatches
                        .push(format!("{actor} / {action:?} / {place_name}: expected {expected:?}, got {outcome:?}"));
                    continue;
                }
                match expected {
                    Expect::Accepted => {
                        for result in &results {
                            assert!(
                                matches!(result.outcome, PushOutcome::Accepted { .. }),
                                "{actor} / {action:?}: every change of an allowed action lands: {:?}",
                                result.outcome
                            );
                        }
                    }
                    Expect::Rejected(_) => {
                        assert!(
                            results.iter().all(|r| matches!(r.outcome, PushOutcome::Rejected { .. })),
                            "{actor} / {action:?} / {place_name}: nothing of a forbidden action lands"
                        );
                        assert_eq!(states(&m.world, &writes), before, "{actor} / {action:?}: state untouched");
                        assert_eq!(m.world.log_head(), head, "{actor} / {action:?}: nothing logged");
                    }
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "the matrix does not hold:\n{}", mismatches.join("\n"));
}
