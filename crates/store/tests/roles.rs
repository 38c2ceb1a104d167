//! The rules through the store, role by role: what each role may write lands; what it may not
//! is refused with the right code and leaves nothing behind. And the closure flow, with a real
//! Ed25519 signature made with the supervisor device's key.

mod common;

use common::{World, code, today};
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use domain::org::User;
use domain::policy::Actor;
use domain::rules::{StateView, latest_decision};
use domain::signoff::{self, SealError};
use uuid::Uuid;

/// Records `writes` as `actor`, expecting the rejection `expected`, and checks nothing changed:
/// neither the outbox nor any entity of either station.
fn refused(w: &mut World, actor: &Actor, writes: Vec<Write>, expected: &str) {
    let outbox = w.outbox_len();
    let sums = (w.store.station_checksum(w.a.id).expect("sum"), w.store.station_checksum(w.b.id).expect("sum"));
    assert_eq!(code(w.record(actor, writes)), expected);
    assert_eq!(w.outbox_len(), outbox, "no outbox entry");
    let after = (w.store.station_checksum(w.a.id).expect("sum"), w.store.station_checksum(w.b.id).expect("sum"));
    assert_eq!(after, sums, "no entity changed");
}

#[test]
fn a_worker_keeps_the_roster_and_works_only_their_own_cases() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let worker = w.a.worker.clone();
    let worker2 = w.a.worker2.clone();
    w.record(
        &worker,
        vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::PHONE, "13800138000")],
    )
    .expect("edit");
    let case = w.open_case(recipient);
    w.record(&worker, vec![w.record_write(EntityKind::Screening, case)]).expect("own case");

    let writes = vec![w.record_write(EntityKind::Screening, case)];

    refused(&mut w, &worker2, writes, "not_assigned");
    let writes = vec![w.move_stage(case, "Assess")];
    refused(&mut w, &worker2, writes, "not_assigned");
    let reassign = Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, worker2.user_id.to_string());
    refused(&mut w, &worker, vec![reassign], "role_cannot");
    let village = Write::create(EntityKind::Village, Uuid::now_v7())
        .set(field::village::STATION_ID, w.a.id.to_string())
        .set(field::village::SERVICE_POINT_ID, w.a.point.to_string())
        .set(field::village::NAME, "新村");
    refused(&mut w, &worker, vec![village], "role_cannot");
    let other_station = w.b.worker.clone();
    refused(
        &mut w,
        &other_station,
        vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::PHONE, "13900139000")],
        "outside_station",
    );
    // A visit is recorded in one's own name only.
    let visit = Write::create(EntityKind::Visit, Uuid::now_v7())
        .set(field::visit::STATION_ID, w.a.id.to_string())
        .set(field::visit::VILLAGE_ID, w.a.village.to_string())
        .set(field::visit::RECIPIENT_ID, recipient.to_string())
        .set(field::visit::WORKER_ID, worker2.user_id.to_string())
        .set(field::visit::VISITED_ON, today().to_string())
        .set(field::visit::OBSERVATIONS, "在家")
        .set(field::visit::FOLLOW_UP_NEEDED, false);
    refused(&mut w, &worker, vec![visit.clone()], "not_self");
    w.record(&worker2, vec![visit]).expect("own visit");
}

#[test]
fn a_worker_cannot_sign_off_their_own_case() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    w.walk_to_closure_request(case);
    let worker = w.a.worker.clone();
    let mut writes = w.sign_off_writes(case);
    let decision = writes.remove(0).set(field::closure_decision::SUPERVISOR_ID, worker.user_id.to_string());
    refused(&mut w, &worker, vec![decision], "role_cannot");
    refused(&mut w, &worker, writes, "role_cannot");
}

#[test]
fn a_deputy_head_reassigns_and_transfers_but_requests_closure_only_for_own_cases() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    let deputy = w.a.deputy.clone();
    let worker2 = w.a.worker2.clone();
    w.record(
        &deputy,
        vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, worker2.user_id.to_string())],
    )
    .expect("reassigned");
    assert_eq!(w.get(EntityKind::Case, case).get_id(field::case::WORKER_ID), Some(worker2.user_id));
    // Only to a worker or deputy head of the station.
    let supervisor = w.a.supervisor.user_id.to_string();
    refused(
        &mut w,
        &deputy,
        vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, supervisor)],
        "ineligible_worker",
    );
    let other_worker = w.b.worker.user_id.to_string();
    refused(
        &mut w,
        &deputy,
        vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, other_worker)],
        "ineligible_worker",
    );
    let request = Write::update(EntityKind::Case, case)
        .set(field::case::CLOSURE_STATUS, "Requested")
        .set(field::case::CLOSURE_SUMMARY, "x");
    refused(&mut w, &deputy, vec![request], "role_cannot");
    // A recipient with an open case stays; one without moves.
    let transfer = |id: Uuid, station: Uuid, village: Uuid| {
        Write::update(EntityKind::Recipient, id)
            .set(field::recipient::STATION_ID, station.to_string())
            .set(field::recipient::VILLAGE_ID, village.to_string())
    };
    let (b, b_village) = (w.b.id, w.b.village);
    let writes = vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::STATION_ID, b.to_string())];
    refused(&mut w, &deputy, writes, "required");
    let writes = vec![transfer(recipient, b, b_village)];
    refused(&mut w, &deputy, writes, "has_open_cases");
    let (other, write) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    w.record(&deputy, vec![write]).expect("added");
    w.record(&deputy, vec![transfer(other, b, b_village)]).expect("transferred");
    assert_eq!(w.get(EntityKind::Recipient, other).get_id(field::recipient::STATION_ID), Some(w.b.id));
    let worker = w.a.worker.clone();
    let (third, write) = w.recipient_write("王芳", "510129201007043126", "2010-07-04", "Female");
    w.record(&worker, vec![write]).expect("added");
    let writes = vec![transfer(third, b, b_village)];
    refused(&mut w, &worker, writes, "role_cannot");
}

#[test]
fn a_supervisor_reads_and_decides_closures_but_edits_nothing() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    let supervisor = w.a.supervisor.clone();
    let (_, write) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    refused(&mut w, &supervisor, vec![write], "role_cannot");
    let writes = vec![w.move_stage(case, "Assess")];
    refused(&mut w, &supervisor, writes, "role_cannot");
    let writes = vec![w.record_write(EntityKind::Screening, case)];
    refused(&mut w, &supervisor, writes, "role_cannot");
    // Nothing to decide before a closure request.
    let decision = w.sign_off_writes(case).remove(0);
    refused(&mut w, &supervisor, vec![decision], "no_closure_request");
    // Another station's supervisor decides nothing here.
    w.walk_to_closure_request(case);
    let other = w.b.supervisor.clone();
    let writes = w.sign_off_writes(case);
    let decision = writes[0].clone().set(field::closure_decision::SUPERVISOR_ID, other.user_id.to_string());
    refused(&mut w, &other, vec![decision], "outside_station");
}

#[test]
fn an_administrator_manages_the_organisation_but_never_case_content() {
    let mut w = World::new();
    let admin = w.admin.clone();
    let village = Uuid::now_v7();
    w.record(
        &admin,
        vec![
            Write::create(EntityKind::Village, village)
                .set(field::village::STATION_ID, w.a.id.to_string())
                .set(field::village::SERVICE_POINT_ID, w.a.point.to_string())
                .set(field::village::NAME, "新村"),
        ],
    )
    .expect("village");
    w.record(&admin, vec![Write::update(EntityKind::User, w.a.worker2.user_id).set(field::user::ACTIVE, false)])
        .expect("user");
    let (_, write) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    refused(&mut w, &admin, vec![write], "role_cannot");
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    let writes = vec![w.record_write(EntityKind::Screening, case)];
    refused(&mut w, &admin, writes, "role_cannot");
    // An inactive worker can no longer be given cases.
    let deputy = w.a.deputy.clone();
    let inactive = w.a.worker2.user_id.to_string();
    refused(
        &mut w,
        &deputy,
        vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, inactive)],
        "ineligible_worker",
    );
}

#[test]
fn a_user_without_a_role_writes_nothing() {
    let mut w = World::new();
    let nobody = Actor::new(Uuid::now_v7(), None);
    let (_, write) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    refused(&mut w, &nobody, vec![write], "no_role");
}

#[test]
fn a_signed_off_case_closes_with_a_seal_that_verifies_and_reveals_tampering() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    let goal = w.walk_to_closure_request(case);
    let supervisor = w.a.supervisor.clone();
    let writes = w.sign_off_writes(case);
    w.record(&supervisor, writes).expect("signed off");

    let closed = w.get(EntityKind::Case, case);
    assert_eq!(closed.get_str(field::case::STAGE), Some("Closed"));
    assert_eq!(closed.get_str(field::case::CLOSURE_STATUS), Some("SignedOff"));
    let records = w.store.case_records(case).expect("records");
    let decision = latest_decision(&records).expect("decision").clone();
    let keys = w.get(EntityKind::User, supervisor.user_id).to_typed::<User>().expect("user").signing_keys;
    assert_eq!(signoff::check_seal(&decision, &closed, &records, &keys), Ok(()));

    // A closed case takes no more records, so the seal holds...
    let worker = w.a.worker.clone();
    refused(
        &mut w,
        &worker,
        vec![Write::update(EntityKind::Goal, goal).set(field::goal::EVALUATION_NOTES, "补充")],
        "case_closed",
    );
    // ...until someone edits the file behind the rules' back.
    w.store
        .connection()
        .execute("UPDATE goals SET description = '目标已改' WHERE id = ?1", [goal.to_string()])
        .expect("tamper");
    let records = w.store.case_records(case).expect("records");
    assert_eq!(signoff::check_seal(&decision, &closed, &records, &keys), Err(SealError::Tampered));
}

#[test]
fn a_sign_off_must_be_signed_by_a_registered_key_over_the_case_as_it_stands() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    w.walk_to_closure_request(case);
    let supervisor = w.a.supervisor.clone();

    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let mut writes = w.sign_off_writes(case);
    let digest = writes[0].fields[field::closure_decision::CASE_DIGEST].value.as_str().expect("digest").to_owned();
    writes[0] = writes[0]
        .clone()
        .set(field::closure_decision::SIGNATURE, signoff::sign(&stranger, case, &digest))
        .set(field::closure_decision::PUBLIC_KEY, signoff::public_key_hex(&stranger));
    refused(&mut w, &supervisor, writes, "signature_unknown_key");

    let mut writes = w.sign_off_writes(case);
    let key = w.store.signing_key().expect("key");
    let stale = "0".repeat(64);
    writes[0] = writes[0]
        .clone()
        .set(field::closure_decision::CASE_DIGEST, stale.clone())
        .set(field::closure_decision::SIGNATURE, signoff::sign(&key, case, &stale));
    refused(&mut w, &supervisor, writes, "case_tampered");

    let mut writes = w.sign_off_writes(case);
    writes[0] = writes[0].clone().set(field::closure_decision::SIGNATURE, "ab".repeat(64));
    refused(&mut w, &supervisor, writes, "signature_invalid");

    // The case closes only together with the decision.
    let close_alone = w.sign_off_writes(case).remove(1);
    refused(&mut w, &supervisor, vec![close_alone], "no_closure_request");
}

#[test]
fn a_returned_closure_goes_back_to_the_worker_and_a_deputy_may_reopen_a_closed_case() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    w.walk_to_closure_request(case);
    let supervisor = w.a.supervisor.clone();
    let returned = vec![
        Write::create(EntityKind::ClosureDecision, Uuid::now_v7())
            .set(field::closure_decision::STATION_ID, w.a.id.to_string())
            .set(field::closure_decision::CASE_ID, case.to_string())
            .set(field::closure_decision::SUPERVISOR_ID, supervisor.user_id.to_string())
            .set(field::closure_decision::DECISION, "Returned")
            .set(field::closure_decision::COMMENTS, "请补充回访记录")
            .set(field::closure_decision::DECIDED_AT, "2026-11-25T09:00:00Z"),
        Write::update(EntityKind::Case, case)
            .set(field::case::CLOSURE_STATUS, "Returned")
            .set(field::case::CLOSURE_COMMENTS, "请补充回访记录"),
    ];
    w.record(&supervisor, returned).expect("returned");
    assert_eq!(w.get(EntityKind::Case, case).get_str(field::case::CLOSURE_STATUS), Some("Returned"));

    let worker = w.a.worker.clone();
    w.record(&worker, vec![w.record_write(EntityKind::FollowUp, case)]).expect("more follow-up");
    let request = Write::update(EntityKind::Case, case)
        .set(field::case::CLOSURE_STATUS, "Requested")
        .set(field::case::CLOSURE_SUMMARY, "已补充回访")
        .set(field::case::CLOSURE_REQUESTED_ON, today().to_string());
    w.record(&worker, vec![request]).expect("requested again");
    let writes = w.sign_off_writes(case);
    w.record(&supervisor, writes).expect("signed off");

    let reopen = Write::update(EntityKind::Case, case)
        .set(field::case::STAGE, "FollowUp")
        .set(field::case::CLOSURE_STATUS, "Open")
        .set(field::case::STAGE_ENTERED_ON, today().to_string());
    refused(&mut w, &worker, vec![reopen.clone()], "role_cannot");
    let bad_reopen = reopen.clone().set(field::case::STAGE, "Identify");
    let deputy = w.a.deputy.clone();
    refused(&mut w, &deputy, vec![bad_reopen], "reopen_to_open_stage");
    w.record(&deputy, vec![reopen]).expect("reopened");
    assert_eq!(w.get(EntityKind::Case, case).get_str(field::case::STAGE), Some("FollowUp"));
}
