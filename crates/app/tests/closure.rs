//! The supervisor's (督导) use cases: the queue of closure requests, signing off with a seal made
//! on the device (offline, and accepted by a real server afterwards), returning with comments
//! the worker sees, a tampered case shown as broken, and reopening with its reason and author.

mod case_world;

use std::path::Path;
use std::sync::Arc;

use app::closure::{closure_queue, reopen_case, return_closure, sign_off_closure};
use app::{Account, AppError, Moment, case};
use case_world::{CaseWorld, code, days_ago, refusal, values};
use chrono::{Duration, Utc};
use contract::{CasePage, CaseRecordKind, SignInRequest, VisitDraft};
use domain::case::{ClosureDecisionKind, ClosureStatus, Stage};
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::rules::StateView;
use domain::signoff;
use serde_json::json;
use sync_client::{Engine, HttpTransport, SyncReport};
use test_support::TestClock;
use test_support::loopback::Loopback;
use test_support::world::World;
use uuid::Uuid;

/// A case walked to a closure request by the worker.
fn requested(w: &mut CaseWorld) -> Uuid {
    let case_id = w.open();
    w.walk_to_closure_request(case_id);
    case_id
}

fn sign_off(w: &mut CaseWorld, case_id: Uuid, comments: Option<&str>) -> Result<CasePage, AppError> {
    let (supervisor, at) = (w.supervisor.clone(), w.at());
    sign_off_closure(&mut w.store, &supervisor, case_id, comments, at)
}

fn give_back(w: &mut CaseWorld, case_id: Uuid, comments: &str) -> Result<CasePage, AppError> {
    let (supervisor, at) = (w.supervisor.clone(), w.at());
    return_closure(&mut w.store, &supervisor, case_id, comments, at)
}

fn reopen(w: &mut CaseWorld, by: &domain::policy::Actor, case_id: Uuid, reason: &str) -> Result<CasePage, AppError> {
    let at = w.at();
    reopen_case(&mut w.store, by, case_id, reason, at)
}

/// The decision record the store holds for the case's latest decision.
fn decision_record(w: &CaseWorld, case_id: Uuid) -> EntityState {
    let records = w.store.case_records(case_id).expect("records");
    domain::rules::latest_decision(&records).cloned().expect("a decision is held")
}

#[test]
fn the_queue_lists_the_requests_of_the_supervisors_stations_oldest_first() {
    let mut w = CaseWorld::new();
    let newer = requested(&mut w);
    // The other request was returned once, and made again five days ago.
    let older = requested(&mut w);
    w.return_closure(older, "请补充");
    let (worker, now) = (w.worker.clone(), w.at().now);
    case::request_closure(
        &mut w.store,
        &worker,
        older,
        "服务目标均已达成，申请结案",
        Moment { now, today: days_ago(5) },
    )
    .expect("requested again");
    let still_open = w.open();

    let at = w.at();
    let queue = closure_queue(&w.store, &w.supervisor, at).expect("queue");
    let ids: Vec<Uuid> = queue.iter().map(|r| r.case_id).collect();
    assert_eq!(ids, [older, newer], "oldest request first, open cases left out");
    assert!(!ids.contains(&still_open));
    let first = &queue[0];
    assert_eq!(first.station.id, w.station);
    assert_eq!(first.station.name, "城关社工站");
    assert_eq!(first.recipient.as_ref().map(|r| r.name.as_str()), Some("张三"));
    assert_eq!(first.worker.as_ref().map(|r| r.name.as_str()), Some("张社工"));
    assert_eq!(first.requested_on, Some(days_ago(5)));
    assert_eq!(first.days_waiting, Some(5));
    assert_eq!(first.summary.as_deref(), Some("服务目标均已达成，申请结案"));
    assert_eq!(queue[1].days_waiting, Some(0));

    // Only those who decide closures have a queue; a signed-off request leaves it.
    assert!(closure_queue(&w.store, &w.worker, at).expect("worker's queue").is_empty());
    assert!(closure_queue(&w.store, &w.deputy, at).expect("deputy's queue").is_empty());
    sign_off(&mut w, older, None).expect("signed off");
    let at = w.at();
    let ids: Vec<Uuid> = closure_queue(&w.store, &w.supervisor, at).expect("queue").iter().map(|r| r.case_id).collect();
    assert_eq!(ids, [newer]);
}

#[test]
fn the_supervisor_reads_the_whole_case_with_the_recipients_visits_and_may_decide() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    let (worker, recipient, at) = (w.worker.clone(), w.recipient, w.at());
    let draft = VisitDraft {
        visited_on: Some(days_ago(2)),
        persons_seen: "本人".into(),
        observations: "精神状态良好".into(),
        needs_found: String::new(),
        follow_up_needed: false,
    };
    app::visit::record_visit(&mut w.store, &worker, recipient, &draft, at).expect("visit");

    let page = w.page_for(&w.supervisor, case_id).expect("the supervisor reads the case");
    for kind in CaseRecordKind::ALL {
        assert!(!page.records.of(kind).is_empty(), "{kind:?} shown to the supervisor");
    }
    assert_eq!(page.records.goals[0].fields.get("evaluation"), Some(&json!("Achieved")));
    assert_eq!(page.recent_visits.len(), 1);
    assert_eq!(page.recent_visits[0].observations, "精神状态良好");
    assert!(page.may_decide, "closure requested: the supervisor decides");
    assert!(!page.may_edit && !page.may_reopen);

    let worker_page = w.page(case_id);
    assert!(!worker_page.may_decide, "the worker never decides");
    assert!(!w.page_for(&w.deputy, case_id).expect("deputy").may_decide, "nor the deputy head");
}

#[test]
fn signing_off_on_the_device_makes_a_seal_that_verifies_and_closes_the_case() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    let pending_before = w.store.pending_count().expect("outbox");

    // No server in this world: the sign-off is made and recorded offline.
    let page = sign_off(&mut w, case_id, Some("  同意结案  ")).expect("signed off");

    assert_eq!(page.case.stage, Stage::Closed);
    assert_eq!(page.case.closure_status, ClosureStatus::SignedOff);
    let decision = page.latest_decision.as_ref().expect("the decision is shown");
    assert_eq!(decision.decision, ClosureDecisionKind::SignedOff);
    assert_eq!(decision.supervisor.as_ref().map(|s| s.name.as_str()), Some("陈督导"));
    assert!(decision.decided_at.is_some(), "when it was signed");
    assert_eq!(decision.comments.as_deref(), Some("同意结案"));
    let seal = decision.seal.as_ref().expect("a sign-off has a seal");
    assert!(seal.verified, "{seal:?}");
    assert_eq!(seal.code, None);
    assert_eq!(w.store.pending_count().expect("outbox"), pending_before + 2, "decision and case wait to be sent");

    // The seal itself: strict Ed25519 over the case's version 2 message, with this device's key.
    let record = decision_record(&w, case_id);
    let get = |f: &str| record.get_str(f).expect("seal field").to_string();
    let case = w.store.entity(EntityKind::Case, case_id).expect("read").expect("case");
    let records = w.store.case_records(case_id).expect("records");
    let generation = record.get(field::closure_decision::CASE_GENERATION).and_then(|v| v.as_i64());
    assert_eq!(generation, Some(0));
    assert_eq!(get(field::closure_decision::CASE_DIGEST), signoff::case_digest(&case, &records));
    let key = w.store.signing_key().expect("key");
    assert_eq!(get(field::closure_decision::PUBLIC_KEY), signoff::public_key_hex(&key));
    let verified = signoff::verify_v2(
        &get(field::closure_decision::PUBLIC_KEY),
        case_id,
        0,
        &get(field::closure_decision::CASE_DIGEST),
        &get(field::closure_decision::SIGNATURE),
    );
    assert_eq!(verified, Ok(()));

    // The worker sees the same, read-only.
    let worker_page = w.page(case_id);
    assert!(!worker_page.may_edit && !worker_page.may_request_closure);
    assert_eq!(worker_page.latest_decision.and_then(|d| d.seal).map(|s| s.verified), Some(true));
}

#[test]
fn a_closure_not_requested_cannot_be_signed_off_or_returned() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    assert_eq!(code(sign_off(&mut w, case_id, None)), "no_closure_request");
    assert_eq!(code(give_back(&mut w, case_id, "请补充")), "no_closure_request");
    let requested = requested(&mut w);
    sign_off(&mut w, requested, None).expect("signed off");
    assert_eq!(code(sign_off(&mut w, requested, None)), "case_closed", "never twice");
}

#[test]
fn only_a_supervisor_of_the_station_signs_off() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    for actor in [w.worker.clone(), w.deputy.clone()] {
        let at = w.at();
        let refused = refusal(sign_off_closure(&mut w.store, &actor, case_id, None, at));
        assert_eq!(refused.code, "role_cannot", "{actor:?}");
    }
    assert_eq!(w.page(case_id).case.closure_status, ClosureStatus::Requested);
}

#[test]
fn returning_a_closure_needs_comments_named_in_both_languages() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    let refused = refusal(give_back(&mut w, case_id, "   "));
    assert_eq!(refused.code, "required");
    assert_eq!(refused.field.as_deref(), Some(field::closure_decision::COMMENTS));
    assert!(refused.message_zh.contains("督导意见"), "{}", refused.message_zh);
    assert!(refused.message_en.to_lowercase().contains("comments"), "{}", refused.message_en);
    assert_eq!(w.page(case_id).case.closure_status, ClosureStatus::Requested, "nothing recorded");
}

#[test]
fn a_returned_closures_comments_appear_on_the_workers_case_page() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    give_back(&mut w, case_id, "请补充最近一次回访的情况").expect("returned");

    let page = w.page(case_id);
    assert_eq!(page.case.closure_status, ClosureStatus::Returned);
    assert_eq!(page.case.closure_comments.as_deref(), Some("请补充最近一次回访的情况"));
    let decision = page.latest_decision.expect("the return is shown");
    assert_eq!(decision.decision, ClosureDecisionKind::Returned);
    assert_eq!(decision.comments.as_deref(), Some("请补充最近一次回访的情况"));
    assert_eq!(decision.supervisor.map(|s| s.name), Some("陈督导".to_string()));
    assert_eq!(decision.seal, None);
    assert!(page.may_edit, "the worker works on the case again");
    assert!(page.may_request_closure);
    let at = w.at();
    assert!(closure_queue(&w.store, &w.supervisor, at).expect("queue").is_empty(), "off the queue");

    // Asked again, it is back on the queue and can be signed off.
    w.request(case_id, "已补充回访").expect("requested again");
    let at = w.at();
    assert_eq!(closure_queue(&w.store, &w.supervisor, at).expect("queue").len(), 1);
    let page = sign_off(&mut w, case_id, None).expect("signed off");
    assert_eq!(page.latest_decision.and_then(|d| d.seal).map(|s| s.verified), Some(true));
}

#[test]
fn a_signed_case_changed_behind_the_seal_shows_broken_never_signed() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    sign_off(&mut w, case_id, None).expect("signed off");
    // Someone edits the database file directly: no change, no rule.
    let changed = w
        .store
        .connection()
        .execute("UPDATE cases SET closure_summary = '篡改后的小结' WHERE id = ?1", [case_id.to_string()])
        .expect("tampered");
    assert_eq!(changed, 1);

    for actor in [w.worker.clone(), w.supervisor.clone()] {
        let page = w.page_for(&actor, case_id).expect("page");
        let seal = page.latest_decision.and_then(|d| d.seal).expect("the seal is checked");
        assert!(!seal.verified, "{actor:?}: {seal:?}");
        assert_eq!(seal.code.as_deref(), Some("case_tampered"));
        assert!(!seal.message_zh.is_empty() && !seal.message_en.is_empty());
    }
}

#[test]
fn a_signed_case_refuses_edits_until_it_is_reopened() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    sign_off(&mut w, case_id, None).expect("signed off");
    let goal = w.page(case_id).records.goals[0].id;

    let follow_up = values(json!({ "visited_on": days_ago(1).to_string(), "notes": "再次回访" }));
    assert_eq!(code(w.save(case_id, CaseRecordKind::FollowUp, follow_up.clone(), None)), "case_closed");
    let evaluation = values(json!({ "evaluation_notes": "改写评估" }));
    assert_eq!(code(w.update(CaseRecordKind::Goal, goal, evaluation)), "case_closed");
    assert_eq!(code(w.move_to(case_id, Stage::FollowUp)), "role_cannot", "the worker cannot reopen by moving");
    let (worker, at) = (w.worker.clone(), w.at());
    assert_eq!(code(case::set_plan_strategy(&mut w.store, &worker, case_id, "改写", at)), "case_closed");
    assert_eq!(w.page(case_id).latest_decision.and_then(|d| d.seal).map(|s| s.verified), Some(true));

    let supervisor = w.supervisor.clone();
    reopen(&mut w, &supervisor, case_id, "服务对象病情反复，需继续跟进").expect("reopened");
    assert!(w.page(case_id).may_edit);
    w.save(case_id, CaseRecordKind::FollowUp, follow_up, None).expect("recorded after reopening");
}

#[test]
fn reopening_records_the_reason_the_author_and_the_time() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    sign_off(&mut w, case_id, None).expect("signed off");
    let before = w.at().now;

    let supervisor = w.supervisor.clone();
    let page = reopen(&mut w, &supervisor, case_id, "  服务对象病情反复，需继续跟进 ").expect("reopened");

    assert_eq!(page.case.stage, Stage::FollowUp);
    assert_eq!(page.case.closure_status, ClosureStatus::Open);
    assert_eq!(page.case.reopen_generation, 1);
    assert_eq!(page.case.fields.get(field::case::REOPEN_REASON), Some(&json!("服务对象病情反复，需继续跟进")));
    assert_eq!(page.reopenings.len(), 1);
    let reopening = &page.reopenings[0];
    assert_eq!(reopening.generation, 1);
    assert_eq!(reopening.reason.as_deref(), Some("服务对象病情反复，需继续跟进"));
    assert_eq!(reopening.reopened_by.as_ref().map(|u| u.name.as_str()), Some("陈督导"));
    assert!(reopening.reopened_at > before, "{} after {before}", reopening.reopened_at);
    assert!(!page.may_reopen);

    // The worker sees it too; closing it again takes a new request and a new seal.
    assert_eq!(w.page(case_id).reopenings, page.reopenings);
    w.add(case_id, CaseRecordKind::FollowUp);
    w.request(case_id, "再次申请结案").expect("requested again");
    let page = sign_off(&mut w, case_id, None).expect("signed off again");
    let seal = page.latest_decision.and_then(|d| d.seal).expect("seal");
    assert!(seal.verified, "{seal:?}");
    let deputy = w.deputy.clone();
    let page = reopen(&mut w, &deputy, case_id, "家属反映新情况").expect("the deputy head reopens");
    let reasons: Vec<_> = page.reopenings.iter().map(|r| (r.generation, r.reason.clone())).collect();
    assert_eq!(reasons, [(1, Some("服务对象病情反复，需继续跟进".into())), (2, Some("家属反映新情况".into()))]);
    assert_eq!(page.reopenings[1].reopened_by.as_ref().map(|u| u.name.as_str()), Some("王副站长"));
}

#[test]
fn reopening_needs_a_reason_and_the_policys_leave() {
    let mut w = CaseWorld::new();
    let case_id = requested(&mut w);
    sign_off(&mut w, case_id, None).expect("signed off");
    let page = w.page_for(&w.supervisor, case_id).expect("page");
    assert!(page.may_reopen, "the supervisor may reopen");
    assert!(w.page_for(&w.deputy, case_id).expect("page").may_reopen, "so may the deputy head");
    assert!(!w.page(case_id).may_reopen, "the worker may not");

    let supervisor = w.supervisor.clone();
    let refused = refusal(reopen(&mut w, &supervisor, case_id, " "));
    assert_eq!((refused.code.as_str(), refused.field.as_deref()), ("required", Some(field::case::REOPEN_REASON)));
    assert!(refused.message_zh.contains("重新开案原因"), "{}", refused.message_zh);
    assert!(refused.message_en.to_lowercase().contains("reason for reopening"), "{}", refused.message_en);
    let worker = w.worker.clone();
    assert_eq!(refusal(reopen(&mut w, &worker, case_id, "想再改改")).code, "role_cannot");
    assert_eq!(w.page(case_id).case.stage, Stage::Closed, "still closed");

    // An open case is not reopened, and its reason is written by nothing else.
    let open = w.open();
    assert_eq!(code(reopen(&mut w, &supervisor, open, "无")), "role_cannot", "a supervisor never edits a case");
    let (deputy, at) = (w.deputy.clone(), w.at());
    let write = domain::change::Write::update(EntityKind::Case, open).set(field::case::REOPEN_REASON, "补写原因");
    let refused = w.store.record(&deputy, vec![write], at.now, at.today).expect_err("refused");
    assert_eq!(
        AppError::from(refused).to_string(),
        "the reason for reopening is written only when the case is reopened"
    );
}

// --- Against a real sync server ------------------------------------------------------------

/// One sync round of an account, on its own connection.
fn sync(account: &mut Account) -> SyncReport {
    let session = account.session.clone().expect("a session");
    let transport = HttpTransport::new(&account.server_url, session).expect("transport");
    let mut engine = Engine::new(transport);
    let report = engine.sync_once(&mut account.store, |_| {}).expect("synced");
    if let Some(refreshed) = engine.transport().take_refreshed_session() {
        account.save_session(refreshed).expect("saved");
    }
    report
}

fn sign_in(dir: &Path, url: &str, username: &str) -> Account {
    let request = SignInRequest {
        username: username.into(),
        password: test_support::world::PASSWORD.into(),
        server_url: Some(url.into()),
    };
    app::account::sign_in(dir, &request, url).expect("signed in")
}

#[test]
fn a_sign_off_made_offline_on_the_supervisors_laptop_is_accepted_by_the_server() {
    let world = World::with_storage_and_clock(
        Arc::new(sync_server::SqliteStorage::open_in_memory().expect("storage")),
        TestClock::system(),
    );
    let server = Loopback::serve(world.server.clone(), 1);
    let (worker_dir, supervisor_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));

    // The worker records a person and walks a case to a closure request, and sends it.
    let mut worker = sign_in(worker_dir.path(), &server.url, "wa");
    sync(&mut worker);
    let now = Utc::now();
    let today = now.date_naive();
    let (person, write) = test_support::writes::recipient(world.station_s, world.village_s, "张三", 1);
    let actor = worker.actor.clone();
    worker.store.record(&actor, vec![write], now, today).expect("person");
    let opened_on = today - Duration::days(50);
    let (case_id, create) = test_support::writes::new_case(world.station_s, person, world.worker_a, opened_on);
    let (_, steps) =
        test_support::writes::steps_to_closure_request(world.station_s, case_id, world.worker_a, opened_on);
    for batch in std::iter::once(vec![create]).chain(steps) {
        worker.store.record(&actor, batch, Utc::now(), today).expect("step");
    }
    let sent = sync(&mut worker);
    assert_eq!(sent.rejected, 0, "{sent:?}");

    // The supervisor signs in once online (the device's key is registered) and pulls the case.
    let mut supervisor = sign_in(supervisor_dir.path(), &server.url, "sup");
    sync(&mut supervisor);
    let queued = closure_queue(&supervisor.store, &supervisor.actor, Moment::current()).expect("queue");
    assert_eq!(queued.iter().map(|r| r.case_id).collect::<Vec<_>>(), [case_id]);

    // Offline: the server is not asked anything while the seal is made and recorded.
    let actor = supervisor.actor.clone();
    let page = sign_off_closure(&mut supervisor.store, &actor, case_id, Some("同意结案"), Moment::current())
        .expect("signed off offline");
    assert_eq!(page.latest_decision.as_ref().and_then(|d| d.seal.as_ref()).map(|s| s.verified), Some(true));
    assert_eq!(
        world.state(EntityKind::Case, case_id).and_then(|c| c.get_str(field::case::STAGE).map(str::to_string)),
        Some("FollowUp".into())
    );

    // Back online: the server checks the seal with the same rules and takes it.
    let report = sync(&mut supervisor);
    assert_eq!((report.accepted, report.rejected, report.set_aside), (2, 0, 0), "{report:?}");
    let on_server = world.state(EntityKind::Case, case_id).expect("case on the server");
    assert_eq!(on_server.get_str(field::case::STAGE), Some("Closed"));
    let records = world.case_records(case_id);
    let decision = domain::rules::latest_decision(&records).expect("decision on the server");
    let keys = world
        .state(EntityKind::User, world.supervisor_s)
        .and_then(|u| u.to_typed::<domain::org::User>().ok())
        .map(|u| u.signing_keys)
        .unwrap_or_default();
    assert_eq!(signoff::check_seal(decision, &on_server, &records, &keys), Ok(()), "the server's copy verifies");

    // The worker pulls it: signed off, verified, read-only.
    sync(&mut worker);
    let page = case::case_page(&worker.store, &worker.actor, case_id).expect("worker's page");
    assert_eq!(page.case.stage, Stage::Closed);
    assert!(!page.may_edit);
    assert_eq!(page.latest_decision.and_then(|d| d.seal).map(|s| s.verified), Some(true));
    server.stop();
}
