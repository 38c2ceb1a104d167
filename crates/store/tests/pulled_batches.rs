//! Pulled pages applied several to one transaction ([`Store::begin_pull`]) end exactly where the
//! same pages applied one at a time end, a transaction cut short keeps nothing of its pages,
//! and the work a pull saves (no look-up before inserting a new entity, each recipient's latest
//! visit updated once per batch, digests stored with the rows) changes nothing a screen or a
//! checksum sees.

mod common;

use common::{World, date, days_ago, id_number};
use domain::Labelled;
use domain::change::{Change, Incoming, Write};
use domain::entity::{EntityKind, EntityState, checksum_fold};
use domain::field;
use domain::recipient::RecipientCategory;
use store::{RosterFilter, Search, Store};
use uuid::Uuid;

fn everything(store: &Store) -> Vec<EntityState> {
    EntityKind::ALL.iter().flat_map(|k| store.list(*k, None).expect("list")).collect()
}

fn entries(changes: &[Change], first: u64) -> Vec<(u64, Incoming)> {
    changes.iter().enumerate().map(|(i, c)| (first + i as u64, Incoming::Change(c.clone()))).collect()
}

/// Several pages' entries, in order, to apply in one transaction.
fn batch(pages: &[Vec<(u64, Incoming)>]) -> Vec<(u64, Incoming)> {
    pages.concat()
}

/// A recipient's latest-visit columns: id, visit id, date, worker, follow-up wanted.
type LatestVisit = (String, Option<String>, Option<String>, Option<String>, i64);

/// Each recipient's latest-visit columns, as stored.
fn latest_visits(store: &Store) -> Vec<LatestVisit> {
    let conn = store.connection();
    let mut stmt = conn
        .prepare(
            "SELECT id, last_visit_id, last_visit_on, last_visit_worker_id, last_visit_follow_up
             FROM recipients ORDER BY id",
        )
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read")
}

/// The same columns computed from scratch from the visits held.
fn latest_visits_recomputed(store: &Store) -> Vec<LatestVisit> {
    let conn = store.connection();
    let mut stmt = conn
        .prepare(
            "SELECT r.id, v.id, v.visited_on, v.worker_id, coalesce(v.follow_up_needed, 0)
             FROM recipients r LEFT JOIN visits v ON v.id = (
                 SELECT id FROM visits WHERE recipient_id = r.id
                 ORDER BY visited_on DESC, created_hlc DESC LIMIT 1)
             ORDER BY r.id",
        )
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read")
}

fn visit(w: &World, recipient: Uuid, days: i64, follow_up: bool) -> Write {
    Write::create(EntityKind::Visit, Uuid::now_v7())
        .set(field::visit::STATION_ID, w.a.id.to_string())
        .set(field::visit::VILLAGE_ID, w.a.village.to_string())
        .set(field::visit::RECIPIENT_ID, recipient.to_string())
        .set(field::visit::WORKER_ID, w.a.worker.user_id.to_string())
        .set(field::visit::VISITED_ON, days_ago(days))
        .set(field::visit::OBSERVATIONS, format!("{days}天前走访"))
        .set(field::visit::FOLLOW_UP_NEEDED, follow_up)
}

/// A station's worth of work: recipients, several visits each in no date order, an edit, a case
/// with its first records. Returns every change, in the order recorded.
fn some_work(w: &mut World) -> Vec<Change> {
    let worker = w.a.worker.clone();
    let zhang = w.add_zhang_san();
    let (li, write) = w.recipient_write("李四", &id_number("110105", date("1951-03-02"), 11), "1951-03-02", "Male");
    w.record(&worker, vec![write]).expect("li");
    for (recipient, days, follow_up) in
        [(zhang, 30, false), (li, 3, true), (zhang, 90, true), (zhang, 7, true), (li, 40, false)]
    {
        let write = visit(w, recipient, days, follow_up);
        w.record(&worker, vec![write]).expect("visit");
    }
    w.record(&worker, vec![Write::update(EntityKind::Recipient, zhang).set(field::recipient::PHONE, "13800138000")])
        .expect("edit");
    let case = w.open_case(zhang);
    let screening = w.record_write(EntityKind::Screening, case);
    w.record(&worker, vec![screening]).expect("screening");
    w.store.pending_changes(1000).expect("outbox")
}

/// The visits among `changes` first, then the rest, each in the order recorded.
fn visits_first(changes: &[Change]) -> Vec<Change> {
    let (mut order, rest): (Vec<Change>, Vec<Change>) =
        changes.iter().cloned().partition(|c| c.entity == EntityKind::Visit);
    order.extend(rest);
    order
}

#[test]
fn a_batch_of_pages_ends_where_the_same_pages_applied_one_by_one_end() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let (first, second) = changes.split_at(changes.len() / 2);
    let pages = [entries(first, 1), entries(second, 1 + first.len() as u64)];
    let cursor = changes.len() as u64;

    let mut by_page = Store::open_in_memory().expect("store");
    by_page.apply_pulled(&pages[0], first.len() as u64).expect("first page");
    by_page.apply_pulled(&pages[1], cursor).expect("second page");
    let mut by_batch = Store::open_in_memory().expect("store");
    let mut pull = by_batch.begin_pull().expect("begin");
    let first_report = pull.apply(&pages[0], first.len() as u64).expect("first page");
    let second_report = pull.apply(&pages[1], cursor).expect("second page");
    assert_eq!(pull.entries(), changes.len());
    pull.commit().expect("commit");
    assert_eq!(first_report.applied + second_report.applied, changes.len());
    assert_eq!(first_report.skipped_unknown + second_report.skipped_unknown, 0);
    let mut concatenated = Store::open_in_memory().expect("store");
    concatenated.apply_pulled(&batch(&pages), cursor).expect("one page of both");

    for store in [&by_page, &by_batch, &concatenated] {
        assert_eq!(everything(store), everything(&w.store));
        assert_eq!(store.pull_cursor().expect("cursor"), cursor);
        assert_eq!(latest_visits(store), latest_visits(&w.store));
        assert_eq!(latest_visits(store), latest_visits_recomputed(store));
        for station in [w.a.id, w.b.id] {
            assert_eq!(store.station_checksum(station).expect("sum"), w.store.station_checksum(station).expect("sum"));
        }
    }
    // The edit is kept for the recipient's history either way.
    let zhang = changes.iter().find(|c| c.entity == EntityKind::Recipient).expect("zhang").entity_id;
    let history = by_batch.history(zhang).expect("history");
    assert_eq!(history.iter().map(|h| h.status.as_str()).collect::<Vec<_>>(), ["created", "pulled"]);
    assert_eq!(history, by_page.history(zhang).expect("history"));
}

#[test]
fn a_pull_cut_in_its_second_page_keeps_nothing_of_either_and_resumes_from_the_last_commit() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let (head, rest) = changes.split_at(2);
    let (second, third) = rest.split_at(rest.len() / 2);
    let committed = head.len() as u64;
    let pages = [entries(second, committed + 1), entries(third, committed + 1 + second.len() as u64)];
    let mut other = Store::open_in_memory().expect("store");
    other.apply_pulled(&entries(head, 1), committed).expect("an earlier commit");
    let before = everything(&other);

    // The process dies after the first page of the transaction and one entry of the second.
    other.fail_apply_after(Some(second.len() + 1));
    let mut pull = other.begin_pull().expect("begin");
    pull.apply(&pages[0], committed + second.len() as u64).expect("first page of the transaction");
    let crashed = pull.apply(&pages[1], changes.len() as u64);
    assert!(matches!(crashed, Err(store::StoreError::Injected)), "{crashed:?}");
    drop(pull);
    assert_eq!(other.pull_cursor().expect("cursor"), committed, "the cursor of the last commit");
    assert_eq!(everything(&other), before, "nothing of either page was kept");

    // Started again, the pull goes on from the last commit and ends where the author is.
    other.fail_apply_after(None);
    let mut pull = other.begin_pull().expect("begin again");
    pull.apply(&pages[0], committed + second.len() as u64).expect("first page");
    pull.apply(&pages[1], changes.len() as u64).expect("second page");
    pull.commit().expect("commit");
    assert_eq!(other.pull_cursor().expect("cursor"), changes.len() as u64);
    assert_eq!(everything(&other), everything(&w.store));
    assert_eq!(latest_visits(&other), latest_visits_recomputed(&other));
}

#[test]
fn rows_a_pull_writes_carry_their_digest_and_the_checksum_folds_them() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let mut other = Store::open_in_memory().expect("store");
    other.apply_pulled(&batch(&[entries(&changes, 1)]), changes.len() as u64).expect("batch");
    for kind in EntityKind::ALL {
        let missing: i64 = other
            .connection()
            .query_row(&format!("SELECT count(*) FROM {} WHERE digest IS NULL", kind.spec().table), [], |r| r.get(0))
            .expect("count");
        assert_eq!(missing, 0, "{kind:?} rows without a digest");
    }
    let expected = everything(&other)
        .iter()
        .filter(|s| s.station_ids().contains(&w.a.id))
        .fold(0u64, |acc, s| checksum_fold(acc, &s.digest()));
    assert_eq!(other.station_checksum(w.a.id).expect("sum"), expected);
}

#[test]
fn a_create_of_an_entity_already_held_merges_instead_of_failing() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let mut other = Store::open_in_memory().expect("store");
    let all = entries(&changes, 1);
    other.apply_pulled(&batch(std::slice::from_ref(&all)), changes.len() as u64).expect("first");
    let before = everything(&other);
    // The same entries again (a replayed page), as a batch and one by one: nothing changes.
    let report = other.apply_pulled(&batch(std::slice::from_ref(&all)), changes.len() as u64).expect("again");
    assert_eq!((report.applied, report.skipped_unknown, report.conflicts_opened), (changes.len(), 0, 0));
    other.apply_pulled(&all, changes.len() as u64).expect("again, one by one");
    assert_eq!(everything(&other), before);
    assert_eq!(latest_visits(&other), latest_visits_recomputed(&other));
}

#[test]
fn the_latest_visit_is_right_whatever_order_visits_arrive_in_and_after_one_is_evicted() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let mut other = Store::open_in_memory().expect("store");
    // Recipients first, then their visits newest first, then the rest.
    let mut order: Vec<Change> = changes.iter().filter(|c| c.entity != EntityKind::Visit).cloned().collect();
    let mut visits: Vec<Change> = changes.iter().filter(|c| c.entity == EntityKind::Visit).cloned().collect();
    visits.sort_by_key(|v| std::cmp::Reverse(v.str_value(field::visit::VISITED_ON).map(str::to_owned)));
    order.extend(visits.iter().cloned());
    other.apply_pulled(&batch(&[entries(&order, 1)]), order.len() as u64).expect("batch");
    assert_eq!(latest_visits(&other), latest_visits(&w.store));

    // A batch that adds a newer visit of 张三 and evicts it again, and evicts his latest one:
    // what is left decides.
    let zhang = changes.iter().find(|c| c.entity == EntityKind::Recipient).expect("zhang").entity_id;
    let newest = visits.iter().find(|v| v.id_value(field::visit::RECIPIENT_ID) == Some(zhang)).expect("his newest");
    let worker = w.a.worker.clone();
    let extra = visit(&w, zhang, 1, false);
    let extra = w.record(&worker, vec![extra]).expect("newer visit").remove(0);
    let next = order.len() as u64 + 1;
    let page = vec![
        (next, Incoming::Change(extra.clone())),
        (next + 1, Incoming::Evict { entity: EntityKind::Visit, entity_id: extra.entity_id, reassigned_to: None }),
        (next + 2, Incoming::Evict { entity: EntityKind::Visit, entity_id: newest.entity_id, reassigned_to: None }),
    ];
    other.apply_pulled(&batch(&[page]), next + 2).expect("evictions");
    let zhang_latest = latest_visits(&other).into_iter().find(|r| r.0 == zhang.to_string()).expect("row");
    assert_ne!(zhang_latest.1, Some(newest.entity_id.to_string()));
    assert_ne!(zhang_latest.1, Some(extra.entity_id.to_string()));
    assert_eq!(latest_visits(&other), latest_visits_recomputed(&other));
}

#[test]
fn a_recipient_whose_visits_arrive_first_gets_its_latest_visit_when_it_arrives() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let mut other = Store::open_in_memory().expect("store");
    // Visits before anything else (as a snapshot repair might deliver them).
    let order = visits_first(&changes);
    let (first, second) = order.split_at(3);
    other.apply_pulled(&batch(&[entries(first, 1)]), 3).expect("visits");
    other.apply_pulled(&batch(&[entries(second, 4)]), order.len() as u64).expect("the rest");
    assert_eq!(latest_visits(&other), latest_visits(&w.store));
    assert!(latest_visits(&other).iter().all(|r| r.1.is_some()), "{:?}", latest_visits(&other));
}

#[test]
fn a_first_pull_whose_visits_come_before_their_recipients_gives_each_its_latest_visit_at_the_commit() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let mut other = Store::open_in_memory().expect("store");
    // Visits before anything else, the recipients' edit after them, all in one first pull.
    let order = visits_first(&changes);
    other.apply_pulled(&batch(&[entries(&order, 1)]), order.len() as u64).expect("first pull");
    let latest = latest_visits(&other);
    assert_eq!(latest, latest_visits(&w.store));
    assert!(latest.iter().all(|r| r.1.is_some()), "{latest:?}");
}

#[test]
fn an_edit_writes_only_what_changed_and_keeps_the_search_columns_in_step() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let mut other = Store::open_in_memory().expect("store");
    other.apply_pulled(&batch(&[entries(&changes, 1)]), changes.len() as u64).expect("first");
    let zhang = changes.iter().find(|c| c.entity == EntityKind::Recipient).expect("zhang").entity_id;
    let worker = w.a.worker.clone();
    let edit = Write::update(EntityKind::Recipient, zhang)
        .set(field::recipient::NAME, "王五")
        .set(field::recipient::PHONE, "13912345678")
        .set(field::recipient::CATEGORIES, serde_json::json!(["Disability"]));
    let edits = w.record(&worker, vec![edit]).expect("edit");
    let next = changes.len() as u64 + 1;
    other.apply_pulled(&batch(&[entries(&edits, next)]), next).expect("edit pulled");

    let found = |search: Search, category: Option<RecipientCategory>| -> Vec<String> {
        let filter = RosterFilter { search: Some(search), category, ..Default::default() };
        other.roster(&filter).expect("roster").into_iter().map(|r| r.name).collect()
    };
    assert_eq!(found(Search::Name("ww".into()), None), ["王五"]);
    assert!(found(Search::Name("zs".into()), None).is_empty());
    assert_eq!(found(Search::Phone("5678".into()), None), ["王五"]);
    assert_eq!(found(Search::Name("王".into()), Some(RecipientCategory::Disability)), ["王五"]);
    assert!(found(Search::Name("王".into()), Some(RecipientCategory::Dibao)).is_empty());
    // Row for row what the recording device holds, latest visit and digest included.
    assert_eq!(everything(&other), everything(&w.store));
    assert_eq!(latest_visits(&other), latest_visits(&w.store));
    assert_eq!(other.station_checksum(w.a.id).expect("sum"), w.store.station_checksum(w.a.id).expect("sum"));
    let columns = |store: &Store| -> (String, Option<String>, i64, Option<String>) {
        store
            .connection()
            .query_row(
                "SELECT name_initials, name_initials_alt, category_mask, phone_rev FROM recipients WHERE id = ?1",
                [zhang.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("row")
    };
    assert_eq!(columns(&other), columns(&w.store));
}

/// The store's indexes, by name with their SQL.
fn indexes(store: &Store) -> Vec<(String, String)> {
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows").collect::<Result<_, _>>().expect("read")
}

#[test]
fn a_first_pull_builds_its_indexes_at_the_commit_and_a_crash_before_it_leaves_every_index_in_place() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let mut fresh = Store::open_in_memory().expect("store");
    let schema = indexes(&fresh);
    assert!(schema.iter().any(|(name, _)| name == "visits_by_station_day"), "{schema:?}");

    // The process dies in the middle of the first pull, after the indexes were dropped.
    fresh.fail_apply_after(Some(changes.len() / 2));
    let mut pull = fresh.begin_pull().expect("begin");
    let crashed = pull.apply(&entries(&changes, 1), changes.len() as u64);
    assert!(matches!(crashed, Err(store::StoreError::Injected)), "{crashed:?}");
    drop(pull);
    assert_eq!(indexes(&fresh), schema, "the drop was rolled back with the rest");

    fresh.fail_apply_after(None);
    let mut pull = fresh.begin_pull().expect("begin again");
    pull.apply(&entries(&changes, 1), changes.len() as u64).expect("apply");
    pull.commit().expect("commit");
    assert_eq!(indexes(&fresh), schema, "every index is there again after the commit");
    assert_eq!(everything(&fresh), everything(&w.store));
    assert_eq!(latest_visits(&fresh), latest_visits_recomputed(&fresh));
    // The indexes hold every row and nothing else (the integrity check counts each index's
    // entries against its table).
    let conn = fresh.connection();
    let visits: i64 = conn.query_row("SELECT count(*) FROM visits", [], |r| r.get(0)).expect("count");
    assert!(visits > 0);
    assert_eq!(conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).expect("integrity"), "ok");
}

#[test]
fn a_pull_into_a_store_that_holds_entities_keeps_its_indexes_throughout() {
    let mut w = World::new();
    let changes = some_work(&mut w);
    let (head, rest) = changes.split_at(2);
    let mut other = Store::open_in_memory().expect("store");
    other.apply_pulled(&entries(head, 1), head.len() as u64).expect("an earlier pull");
    let schema = indexes(&other);
    let pull = other.begin_pull().expect("begin");
    drop(pull);
    let mut pull = other.begin_pull().expect("begin");
    pull.apply(&entries(rest, head.len() as u64 + 1), changes.len() as u64).expect("apply");
    drop(pull);
    assert_eq!(indexes(&other), schema);
}
