//! The hand-over step of a round (issue 12), against a real server on loopback: a worker's
//! offline record on a case reassigned meanwhile is refused, and the next rounds of the new
//! worker's and the deputy head's laptops fetch it into their stores; a decision made on a
//! laptop between rounds is sent at the next one, and the offer leaves the other laptop.

mod common;

use chrono::Utc;
use common::*;
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use domain::org::Role;
use domain::policy::Actor;
use protocol::HandOverState;
use store::HandOverChoice;
use test_support::writes::{new_case, stage_record};

#[test]
fn offered_changes_are_fetched_and_a_decision_made_between_rounds_is_sent_at_the_next() {
    let station = Station::new();
    let mut a = station.device("wa", "a");
    let mut b = station.device("wb", "b");
    let mut deputy = station.device("ds", "deputy");
    deputy.actor = Actor::new(deputy.session.user_id, Some(Role::DeputyHead { station_id: station.station }));

    let person = a.add_recipient("张三", 1);
    let (case, open) = new_case(station.station, person, a.actor.user_id, today());
    a.store.record(&a.actor, vec![open], Utc::now(), today()).expect("opened");
    a.sync().expect("sent");
    deputy.sync().expect("pulled");

    // Offline, A screens the person; meanwhile the deputy head gives the case to B.
    let screening = stage_record(EntityKind::Screening, station.station, case, a.actor.user_id, today());
    let typed = a.store.record(&a.actor, vec![screening], Utc::now(), today()).expect("recorded")[0].clone();
    let reassign = Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, b.actor.user_id.to_string());
    deputy.store.record(&deputy.actor, vec![reassign], Utc::now(), today()).expect("reassigned");
    deputy.sync().expect("sent");

    let report = a.sync().expect("A's round");
    assert_eq!(report.rejected, 1, "refused: the case is B's now");
    assert!(a.store.hand_over_offers(None).expect("offers").is_empty(), "not offered back to A");

    for laptop in [&mut b, &mut deputy] {
        laptop.sync().expect("a round");
        let offers = laptop.store.hand_over_offers(Some(case)).expect("offers");
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].offer.change, typed, "the payload A typed");
        assert_eq!(offers[0].offer.author_id, a.actor.user_id);
        assert_eq!(offers[0].offer.author_name.as_deref(), Some("李娟"));
        assert_eq!(offers[0].decision, None);
    }

    // The deputy head dismisses it between rounds: it waits on the laptop, not yet on the server.
    let stored = |change_id| {
        let read = station.running.server.storage().read().expect("read");
        read.handed_over(change_id).expect("read").expect("kept on the server")
    };
    assert!(deputy.store.dismiss_hand_over(typed.change_id, deputy.actor.user_id, Utc::now()).expect("dismissed"));
    assert!(deputy.store.hand_over_offers(None).expect("offers").is_empty());
    assert_eq!(
        deputy.store.pending_hand_over_decisions().expect("pending"),
        vec![(typed.change_id, HandOverChoice::Dismissed)]
    );
    assert_eq!(stored(typed.change_id).state, HandOverState::Offered);

    deputy.sync().expect("the next round");
    assert!(deputy.store.pending_hand_over_decisions().expect("pending").is_empty(), "acknowledged");
    let decided = stored(typed.change_id);
    assert_eq!((decided.state, decided.decided_by), (HandOverState::Dismissed, Some(deputy.actor.user_id)));

    b.sync().expect("B's next round");
    assert!(b.store.hand_over_offers(None).expect("offers").is_empty(), "decided: offered to B no more");
}
