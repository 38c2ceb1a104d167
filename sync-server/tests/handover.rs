//! Handed-over changes (issue 12): a worker's offline edits of a case reassigned meanwhile are
//! refused (`not_assigned`), kept on the server and offered to the case's new worker and the
//! station's deputy heads — to nobody else; a decision is recorded once; a forged or
//! out-of-scope change is never offered.

mod common;

use common::*;
use domain::change::{Change, Write};
use domain::entity::EntityKind;
use domain::field;
use protocol::{HandOverDecision, HandOverDecisionRequest, HandOverState, PushOutcome};
use sync_server::error::{FORBIDDEN, NOT_FOUND};
use test_support::writes::{new_case, stage_record};
use uuid::Uuid;

struct Story {
    world: World,
    a: Device,
    case: Uuid,
    /// A's offline edits: the case's plan, and a follow-up visit.
    offline: Vec<Change>,
}

/// Worker A has a case (of 张三), both A's laptop and the deputy head's synced.
fn a_case_of_worker_a() -> (World, Device, Device, Uuid) {
    let world = World::new();
    let mut a = world.login("wa");
    let mut deputy = world.login("ds");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    let (case, open) = new_case(world.station_s, person, world.worker_a, opened_on());
    a.send_ok(vec![create, open]);
    a.sync();
    deputy.sync();
    (world, a, deputy, case)
}

/// Worker A has a case; offline, A edits it and records a follow-up; meanwhile the deputy head
/// gives the case to worker B; then A's laptop pushes.
fn reassigned_while_offline() -> Story {
    let (world, mut a, mut deputy, case) = a_case_of_worker_a();

    let offline = vec![
        a.stamp(Write::update(EntityKind::Case, case).set(field::case::PLAN_STRATEGY, "每周电话联系家属")),
        a.stamp(stage_record(EntityKind::FollowUp, world.station_s, case, world.worker_a, world.today())),
    ];
    deputy.send_ok(vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, world.worker_b.to_string())]);
    Story { world, a, case, offline }
}

fn offered_to(world: &World, username: &str) -> Vec<Uuid> {
    let device = world.login(username);
    let answer = world.server.handed_over(device.token()).expect("the list is answered");
    answer.items.iter().map(|item| item.change.change_id).collect()
}

fn decide(world: &World, device: &Device, change_id: Uuid, decision: HandOverDecision) -> protocol::HandedOverItem {
    world
        .server
        .decide_handed_over(device.token(), change_id, HandOverDecisionRequest { decision })
        .expect("the decision is answered")
}

#[test]
fn an_offline_edit_of_a_reassigned_case_is_refused_and_offered_to_the_new_worker_and_the_deputy_head_only() {
    let Story { world, mut a, case, offline } = reassigned_while_offline();
    let results = a.push(&offline).expect("push").results;
    for result in &results {
        assert_eq!(rejected(result), "not_assigned");
        let PushOutcome::Rejected { rejection, .. } = &result.outcome else { unreachable!() };
        assert!(rejection.message_zh.contains("赵敏"), "{}", rejection.message_zh);
    }
    // Sent again (a lost reply): the same answers, and each change kept once.
    assert_eq!(a.push(&offline).expect("resend").results, results);

    let ids: Vec<Uuid> = offline.iter().map(|c| c.change_id).collect();
    assert_eq!(offered_to(&world, "wb"), ids, "the new worker, oldest first");
    assert_eq!(offered_to(&world, "ds"), ids, "the station's deputy head");
    for other in ["wa", "wc", "dt", "sup", "adm"] {
        assert!(offered_to(&world, other).is_empty(), "{other} is offered nothing");
    }

    let b = world.login("wb");
    let items = world.server.handed_over(b.token()).expect("list").items;
    let follow_up = &items[1];
    assert_eq!(follow_up.change, offline[1], "the payload as sent");
    assert_eq!(follow_up.case_id, case);
    assert_eq!(follow_up.station_id, world.station_s);
    assert_eq!(follow_up.author_id, world.worker_a);
    assert_eq!(follow_up.author_name.as_deref(), Some("李娟"));
    assert_eq!(follow_up.state, HandOverState::Offered);
    assert_eq!(follow_up.refused_at, world.clock.now());
    let stored = world.server.storage().read().expect("read").handed_over(offline[0].change_id).expect("read");
    assert_eq!(stored.map(|r| r.device_id), Some(a.id()));
}

#[test]
fn a_decision_is_recorded_once_and_only_by_someone_it_is_offered_to() {
    let Story { world, mut a, offline, .. } = reassigned_while_offline();
    a.push(&offline).expect("push");
    let b = world.login("wb");
    let deputy = world.login("ds");
    let worker_c = world.login("wc");
    let first = offline[0].change_id;

    let taken = decide(&world, &b, first, HandOverDecision::TakenOver);
    assert_eq!((taken.state, taken.decided_by), (HandOverState::TakenOver, Some(world.worker_b)));
    assert_eq!(taken.decided_at, Some(world.clock.now()));
    // A later decision, by anyone it is offered to, gets the first one's answer.
    assert_eq!(decide(&world, &deputy, first, HandOverDecision::Dismissed), taken);
    assert_eq!(decide(&world, &b, first, HandOverDecision::TakenOver), taken);
    assert_eq!(offered_to(&world, "wb"), vec![offline[1].change_id], "a decided change is offered no more");
    assert_eq!(offered_to(&world, "ds"), vec![offline[1].change_id]);

    let denied = world
        .server
        .decide_handed_over(
            worker_c.token(),
            offline[1].change_id,
            HandOverDecisionRequest { decision: HandOverDecision::Dismissed },
        )
        .expect_err("another station's worker");
    assert_eq!(denied.code, FORBIDDEN);
    let denied = world
        .server
        .decide_handed_over(
            a.token(),
            offline[1].change_id,
            HandOverDecisionRequest { decision: HandOverDecision::Dismissed },
        )
        .expect_err("the author, who no longer has the case");
    assert_eq!(denied.code, FORBIDDEN);
    let unknown = world
        .server
        .decide_handed_over(
            b.token(),
            Uuid::now_v7(),
            HandOverDecisionRequest { decision: HandOverDecision::Dismissed },
        )
        .expect_err("no such change");
    assert_eq!(unknown.code, NOT_FOUND);

    let dismissed = decide(&world, &deputy, offline[1].change_id, HandOverDecision::Dismissed);
    assert_eq!((dismissed.state, dismissed.decided_by), (HandOverState::Dismissed, Some(world.deputy_s)));
    assert!(offered_to(&world, "wb").is_empty());
}

#[test]
fn a_forged_or_out_of_scope_change_is_not_offered() {
    let Story { world, mut a, case, offline } = reassigned_while_offline();
    a.push(&offline).expect("push");
    let held =
        |change_id: Uuid| world.server.storage().read().expect("read").handed_over(change_id).expect("read").is_some();

    // Another author than the one signed in.
    let mut forged = a.stamp(Write::update(EntityKind::Case, case).set(field::case::PLAN_STRATEGY, "x"));
    forged.author_id = world.worker_b;
    assert_eq!(rejected(&a.push(std::slice::from_ref(&forged)).expect("push").results[0]), "forged_author");
    assert!(!held(forged.change_id));

    // Another device than the one signed in.
    let mut elsewhere = a.stamp(Write::update(EntityKind::Case, case).set(field::case::PLAN_STRATEGY, "y"));
    elsewhere.device_id = Uuid::now_v7();
    assert_eq!(rejected(&a.push(std::slice::from_ref(&elsewhere)).expect("push").results[0]), "forged_device");
    assert!(!held(elsewhere.change_id));

    // A worker of another station.
    let mut c = world.login("wc");
    let outside = c.stamp(Write::update(EntityKind::Case, case).set(field::case::PLAN_STRATEGY, "z"));
    assert_eq!(rejected(&c.push(std::slice::from_ref(&outside)).expect("push").results[0]), "outside_station");
    assert!(!held(outside.change_id));

    // Refused for another reason than the assignment: a worker reassigning the case.
    let reassign =
        a.stamp(Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, world.worker_a.to_string()));
    assert_eq!(rejected(&a.push(std::slice::from_ref(&reassign)).expect("push").results[0]), "role_cannot");
    assert!(!held(reassign.change_id));

    // Not about a case: a visit with a bad date is refused on its own account.
    let (_, visit) = visit(world.station_s, world.village_s, Uuid::now_v7(), world.worker_a, "2026-06-01");
    let visit = a.stamp(visit);
    assert_ne!(rejected(&a.push(std::slice::from_ref(&visit)).expect("push").results[0]), "not_assigned");
    assert!(!held(visit.change_id));

    let only_the_offline_edits: Vec<Uuid> = offline.iter().map(|c| c.change_id).collect();
    for username in ["wb", "ds"] {
        assert_eq!(offered_to(&world, username), only_the_offline_edits, "{username}");
    }
}

#[test]
fn the_previous_workers_devices_hear_whom_a_reassigned_case_went_to() {
    let (world, mut a, mut deputy, case) = a_case_of_worker_a();
    deputy.send_ok(vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, world.worker_b.to_string())]);
    let pulled = a.sync();
    let evicted: Vec<_> = pulled
        .into_iter()
        .filter_map(|entry| match entry.item {
            domain::change::Incoming::Evict { entity, entity_id, reassigned_to } => {
                Some((entity, entity_id, reassigned_to))
            }
            _ => None,
        })
        .collect();
    assert_eq!(evicted, [(EntityKind::Case, case, Some(world.worker_b))]);
}
