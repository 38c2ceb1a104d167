//! Property tests of the case pipeline through the store: random sequences of commands (move a
//! stage, add records, evaluate goals, request closure, sign off, return, reopen, edit,
//! reassign) by random roles. Whatever lands or is refused, after every command the case is in a
//! legal state, and a refused command leaves nothing behind.

mod common;

use common::{World, today};
use domain::Labelled;
use domain::case::{ClosureStatus, Stage};
use domain::change::Write;
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::org::User;
use domain::pipeline::CaseHoldings;
use domain::policy::Actor;
use domain::rules::{StateView, latest_decision};
use domain::signoff;
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Command {
    /// Forward to the next stage.
    Advance,
    /// The record the current stage needs before moving on.
    AddNeeded,
    MoveStage(usize),
    AddRecord(EntityKind),
    EvaluateGoals,
    RequestClosure,
    SignOff {
        forged: bool,
    },
    Return,
    Reopen(usize),
    EditPlan,
    Reassign,
}

fn command() -> impl Strategy<Value = Command> {
    let records = prop::sample::select(vec![
        EntityKind::Screening,
        EntityKind::Assessment,
        EntityKind::Goal,
        EntityKind::ResourceLink,
        EntityKind::Intervention,
        EntityKind::FollowUp,
    ]);
    prop_oneof![
        6 => Just(Command::Advance),
        6 => Just(Command::AddNeeded),
        1 => (0usize..7).prop_map(Command::MoveStage),
        2 => records.prop_map(Command::AddRecord),
        3 => Just(Command::EvaluateGoals),
        3 => Just(Command::RequestClosure),
        3 => any::<bool>().prop_map(|forged| Command::SignOff { forged }),
        1 => Just(Command::Return),
        1 => (0usize..7).prop_map(Command::Reopen),
        1 => Just(Command::EditPlan),
        1 => Just(Command::Reassign),
    ]
}

/// Who acts: `None` is whoever would normally give the command (the case's worker for the
/// work, the supervisor for decisions, the deputy head for reopening and reassigning); otherwise
/// 0 the case's worker, 1 another worker, 2 the deputy head, 3 the supervisor, 4 the
/// administrator.
fn actor_index() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![3 => Just(None), 1 => (0usize..5).prop_map(Some)]
}

fn natural_actor(command: &Command) -> usize {
    match command {
        Command::SignOff { .. } | Command::Return => 3,
        Command::Reopen(_) | Command::Reassign => 2,
        _ => 0,
    }
}

struct Scene {
    w: World,
    case: Uuid,
}

impl Scene {
    fn new() -> Scene {
        let mut w = World::new();
        let recipient = w.add_zhang_san();
        let case = w.open_case(recipient);
        Scene { w, case }
    }

    fn case(&self) -> EntityState {
        self.w.get(EntityKind::Case, self.case)
    }

    fn records(&self) -> Vec<EntityState> {
        self.w.store.case_records(self.case).expect("records")
    }

    fn actor(&self, index: usize) -> Actor {
        let assigned = self.case().get_id(field::case::WORKER_ID).expect("worker");
        let a = &self.w.a;
        let worker = if assigned == a.worker.user_id { a.worker.clone() } else { a.worker2.clone() };
        let other = if assigned == a.worker.user_id { a.worker2.clone() } else { a.worker.clone() };
        match index {
            0 => worker,
            1 => other,
            2 => a.deputy.clone(),
            3 => a.supervisor.clone(),
            _ => self.w.admin.clone(),
        }
    }

    fn writes(&mut self, command: &Command, actor: &Actor) -> Vec<Write> {
        let case = self.case;
        let station = self.w.a.id.to_string();
        let stage = self.case().get_enum::<Stage>(field::case::STAGE).expect("stage");
        match command {
            Command::Advance => match stage.next() {
                Some(next) => vec![self.w.move_stage(case, next.as_str())],
                None => vec![self.w.move_stage(case, Stage::Closed.as_str())],
            },
            Command::AddNeeded => {
                let kind = match stage {
                    Stage::Identify => EntityKind::Screening,
                    Stage::Assess => EntityKind::Assessment,
                    Stage::Plan => EntityKind::Goal,
                    Stage::Coordinate => EntityKind::ResourceLink,
                    Stage::Intervene => EntityKind::Intervention,
                    Stage::FollowUp | Stage::Closed => EntityKind::FollowUp,
                };
                self.writes(&Command::AddRecord(kind), actor)
            }
            Command::MoveStage(to) => vec![self.w.move_stage(case, Stage::ALL[*to].as_str())],
            Command::AddRecord(kind) => {
                let mut write = self.w.record_write(*kind, case);
                if write.fields.contains_key(field::case::WORKER_ID) {
                    write = write.set(field::case::WORKER_ID, actor.user_id.to_string());
                }
                vec![write]
            }
            Command::EvaluateGoals => self
                .records()
                .iter()
                .filter(|r| r.kind == EntityKind::Goal)
                .map(|g| Write::update(EntityKind::Goal, g.id).set(field::goal::EVALUATION, "PartlyAchieved"))
                .collect(),
            Command::RequestClosure => vec![
                Write::update(EntityKind::Case, case)
                    .set(field::case::CLOSURE_STATUS, "Requested")
                    .set(field::case::CLOSURE_SUMMARY, "申请结案")
                    .set(field::case::CLOSURE_REQUESTED_ON, today().to_string()),
            ],
            Command::SignOff { forged } => {
                let mut writes = self.w.sign_off_writes(case);
                writes[0] = writes[0].clone().set(field::closure_decision::SUPERVISOR_ID, actor.user_id.to_string());
                if *forged {
                    let stranger = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
                    let digest = writes[0].fields[field::closure_decision::CASE_DIGEST]
                        .value
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    writes[0] = writes[0]
                        .clone()
                        .set(field::closure_decision::SIGNATURE, signoff::sign(&stranger, case, &digest))
                        .set(field::closure_decision::PUBLIC_KEY, signoff::public_key_hex(&stranger));
                }
                writes
            }
            Command::Return => vec![
                Write::create(EntityKind::ClosureDecision, Uuid::now_v7())
                    .set(field::closure_decision::STATION_ID, station)
                    .set(field::closure_decision::CASE_ID, case.to_string())
                    .set(field::closure_decision::SUPERVISOR_ID, actor.user_id.to_string())
                    .set(field::closure_decision::DECISION, "Returned")
                    .set(field::closure_decision::COMMENTS, "请补充材料")
                    .set(field::closure_decision::DECIDED_AT, "2026-11-25T10:00:00Z"),
                Write::update(EntityKind::Case, case)
                    .set(field::case::CLOSURE_STATUS, "Returned")
                    .set(field::case::CLOSURE_COMMENTS, "请补充材料"),
            ],
            Command::Reopen(to) => {
                vec![self.w.move_stage(case, Stage::ALL[*to].as_str()).set(field::case::CLOSURE_STATUS, "Open")]
            }
            Command::EditPlan => {
                vec![Write::update(EntityKind::Case, case).set(field::case::PLAN_STRATEGY, "陪伴与资源链接")]
            }
            Command::Reassign => {
                let assigned = self.case().get_id(field::case::WORKER_ID).expect("worker");
                let to = if assigned == self.w.a.worker.user_id { &self.w.a.worker2 } else { &self.w.a.worker };
                vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, to.user_id.to_string())]
            }
        }
    }

    /// The case's legal states, whatever happened.
    fn check_legal(&self) -> Result<(), TestCaseError> {
        let case = self.case();
        let records = self.records();
        let holdings = CaseHoldings::count(&records);
        let stage = case.get_enum::<Stage>(field::case::STAGE).expect("stage");
        let closure = case.get_enum::<ClosureStatus>(field::case::CLOSURE_STATUS).expect("closure status");
        let at_least = |s: Stage| stage.index() >= s.index();
        prop_assert!(!at_least(Stage::Assess) || holdings.screenings > 0, "past Identify without a screening");
        prop_assert!(!at_least(Stage::Plan) || holdings.assessments > 0, "past Assess without an assessment");
        prop_assert!(!at_least(Stage::Coordinate) || holdings.goals > 0, "past Plan without a goal");
        prop_assert!(!at_least(Stage::FollowUp) || holdings.interventions > 0, "in follow-up without an intervention");
        prop_assert_eq!(stage == Stage::Closed, closure == ClosureStatus::SignedOff, "closed exactly when signed off");
        if closure == ClosureStatus::Requested {
            prop_assert_eq!(stage, Stage::FollowUp);
            prop_assert!(holdings.follow_ups > 0 && holdings.goals > 0 && holdings.goals_evaluated == holdings.goals);
        }
        if stage == Stage::Closed {
            let decision = latest_decision(&records).expect("a closed case has a decision");
            prop_assert_eq!(decision.get_str(field::closure_decision::DECISION), Some("SignedOff"));
            let supervisor = decision.get_id(field::closure_decision::SUPERVISOR_ID).expect("supervisor");
            let keys = self.w.get(EntityKind::User, supervisor).to_typed::<User>().expect("user").signing_keys;
            prop_assert_eq!(signoff::check_seal(decision, &case, &records, &keys), Ok(()));
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_commands_reaches_an_illegal_state(steps in prop::collection::vec((command(), actor_index()), 1..80)) {
        let mut scene = Scene::new();
        for (command, who) in &steps {
            let actor = scene.actor(who.unwrap_or_else(|| natural_actor(command)));
            let writes = scene.writes(command, &actor);
            if writes.is_empty() {
                continue;
            }
            let outbox = scene.w.outbox_len();
            let before = scene.w.store.station_checksum(scene.w.a.id).expect("sum");
            match scene.w.record(&actor, writes) {
                Ok(changes) => prop_assert_eq!(scene.w.outbox_len(), outbox + changes.len() as i64),
                Err(store::StoreError::Rejected(_)) => {
                    prop_assert_eq!(scene.w.outbox_len(), outbox, "a refused command leaves no outbox entry");
                    prop_assert_eq!(scene.w.store.station_checksum(scene.w.a.id).expect("sum"), before);
                }
                Err(e) => return Err(TestCaseError::fail(format!("{command:?}: {e}"))),
            }
            scene.check_legal()?;
        }
    }

    #[test]
    fn the_worker_doing_everything_right_gets_the_case_closed(extra_goals in 0usize..3, extra_interventions in 0usize..3) {
        let mut scene = Scene::new();
        let case = scene.case;
        let worker = scene.w.a.worker.clone();
        for _ in 0..extra_goals {
            let steps = vec![scene.w.record_write(EntityKind::Goal, case)];
            scene.w.record(&worker, steps).expect("goal");
        }
        for _ in 0..extra_interventions {
            let steps = vec![scene.w.record_write(EntityKind::Intervention, case)];
            scene.w.record(&worker, steps).expect("intervention");
        }
        let evaluate: Vec<Write> = scene.writes(&Command::EvaluateGoals, &worker);
        if !evaluate.is_empty() {
            scene.w.record(&worker, evaluate).expect("evaluated");
        }
        scene.w.walk_to_closure_request(case);
        let supervisor = scene.w.a.supervisor.clone();
        let writes = scene.w.sign_off_writes(case);
        scene.w.record(&supervisor, writes).expect("signed off");
        let closed = scene.case();
        prop_assert_eq!(closed.get_str(field::case::STAGE), Some("Closed"));
        scene.check_legal()?;
    }
}
