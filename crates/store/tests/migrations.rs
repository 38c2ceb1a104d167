//! The schema: migrations from the first to the last on a populated database, each applied
//! once and in order, and the tables agreeing with the entity specs.

mod common;

use std::collections::BTreeSet;

use common::{World, today};
use domain::Labelled;
use domain::change::Write;
use domain::entity::{EntityKind, EntityState, FieldType};
use domain::field;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;
use store::{DbKey, LATEST_VERSION, MIGRATIONS, RosterFilter, Search, Store};
use uuid::Uuid;

/// What a build at schema version 1 wrote for an entity: the spec's columns and bookkeeping.
fn insert_as_version_1(conn: &Connection, state: &EntityState) {
    let spec = state.kind.spec();
    let mut columns = vec!["id".to_string()];
    let mut values = vec![SqlValue::Text(state.id.to_string())];
    // Fields without a value are left out: a column added by a later migration (e.g. a
    // station's `offline_lease_days`) is not there yet, and NULL is what it would hold.
    for field in spec.fields.iter().filter(|f| state.fields.get(f.name).is_some_and(|v| !v.is_null())) {
        columns.push(field.name.into());
        values.push(match state.fields.get(field.name) {
            None | Some(Value::Null) => SqlValue::Null,
            Some(Value::String(s)) => SqlValue::Text(s.clone()),
            Some(Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
            Some(Value::Number(n)) => SqlValue::Integer(n.as_i64().expect("integer")),
            Some(other) => SqlValue::Text(other.to_string()),
        });
    }
    columns.extend(["created_hlc".into(), "created_by".into(), "clocks".into()]);
    values.push(SqlValue::Text(state.created.hlc.to_string()));
    values.push(SqlValue::Text(state.created.author.to_string()));
    values.push(if state.clocks.is_empty() {
        SqlValue::Null
    } else {
        SqlValue::Text(serde_json::to_string(&state.clocks).expect("json"))
    });
    let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
    let sql = format!("INSERT INTO {} ({}) VALUES ({})", spec.table, columns.join(", "), placeholders.join(", "));
    conn.execute(&sql, rusqlite::params_from_iter(values)).expect("insert");
}

/// A populated station: recipients (one with a polyphonic surname), cases, visits.
fn populated() -> (World, Vec<EntityState>) {
    let mut w = World::new();
    let zhang = w.add_zhang_san();
    let (zeng, write) = w.recipient_write("曾小明", "440524195801010018", "1958-01-01", "Male");
    let worker = w.a.worker.clone();
    w.record(&worker, vec![write.set(field::recipient::PHONE, "13912348000")]).expect("recipient");
    let case = w.open_case(zhang);
    w.record(&worker, vec![w.record_write(EntityKind::Screening, case)]).expect("screening");
    for (recipient, days, follow_up) in [(zhang, 40, false), (zhang, 30, true), (zeng, 5, false)] {
        let visit = Write::create(EntityKind::Visit, Uuid::now_v7())
            .set(field::visit::STATION_ID, w.a.id.to_string())
            .set(field::visit::VILLAGE_ID, w.a.village.to_string())
            .set(field::visit::RECIPIENT_ID, recipient.to_string())
            .set(field::visit::WORKER_ID, worker.user_id.to_string())
            .set(field::visit::VISITED_ON, common::days_ago(days))
            .set(field::visit::OBSERVATIONS, "老人独居，身体尚可")
            .set(field::visit::FOLLOW_UP_NEEDED, follow_up);
        w.record(&worker, vec![visit]).expect("visit");
    }
    w.record(&worker, vec![Write::update(EntityKind::Recipient, zhang).set(field::recipient::NOTES, "需关注冬季取暖")])
        .expect("edit");
    let mut all = Vec::new();
    for kind in EntityKind::ALL {
        all.extend(w.store.list(*kind, None).expect("list"));
    }
    (w, all)
}

#[test]
fn every_migration_brings_a_populated_database_to_the_latest_schema() {
    let (_world, entities) = populated();
    for start in 1..LATEST_VERSION {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("old.db");
        let key = DbKey::random();
        {
            let v1 = Store::open_connection_at_version(&path, &key, 1).expect("version 1");
            for state in &entities {
                insert_as_version_1(&v1, state);
            }
            drop(v1);
            let at_start = Store::open_connection_at_version(&path, &key, start).expect("start version");
            let version: u32 = at_start.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
            assert_eq!(version, start);
        }
        let store = Store::open_with_key(&path, &key).expect("migrated");
        assert_eq!(store.schema_version().expect("version"), LATEST_VERSION);

        // The data is intact...
        for state in &entities {
            assert_eq!(store.entity(state.kind, state.id).expect("read").as_ref(), Some(state), "from {start}");
        }
        // ...and the derived columns are filled in.
        let zhang = entities.iter().find(|e| e.get_str(field::recipient::NAME) == Some("张三")).expect("张三");
        let (initials, alt, mask, rev, last_visit, follow_up): (String, Option<String>, i64, String, String, i64) = store
            .connection()
            .query_row(
                "SELECT name_initials, name_initials_alt, category_mask, id_number_rev, last_visit_on, last_visit_follow_up
                 FROM recipients WHERE id = ?1",
                [zhang.id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .expect("derived");
        assert_eq!((initials.as_str(), alt, rev.as_str()), ("zs", None, "X20013219491501011"));
        assert_eq!(mask, i64::from(domain::recipient::RecipientCategory::Dibao.bit()));
        assert_eq!((last_visit, follow_up), (common::days_ago(30), 1));

        let search = |s: Search| {
            let filter = RosterFilter { search: Some(s), ..RosterFilter::default() };
            store.roster(&filter).expect("roster").into_iter().map(|r| r.name).collect::<Vec<_>>()
        };
        assert_eq!(search(Search::Name("zxm".into())), ["曾小明"], "surname reading, from {start}");
        assert_eq!(search(Search::Name("cxm".into())), ["曾小明"], "common reading, from {start}");
        assert_eq!(search(Search::IdSuffix("002x".into())), ["张三"]);
        assert_eq!(search(Search::Phone("8000".into())), ["曾小明"]);
        let overdue = store.overdue_follow_ups(&Default::default(), today()).expect("overdue");
        assert!(overdue.iter().any(|o| o.recipient_id == Some(zhang.id)), "{overdue:?}");
    }
}

#[test]
fn reopening_a_migrated_database_changes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("x.db");
    let key = DbKey::random();
    let recipient = {
        let mut w = World::with_store(Store::open_with_key(&path, &key).expect("open"));
        w.add_zhang_san()
    };
    for _ in 0..2 {
        let store = Store::open_with_key(&path, &key).expect("reopen");
        assert_eq!(store.schema_version().expect("version"), LATEST_VERSION);
        assert!(store.entity(EntityKind::Recipient, recipient).expect("read").is_some());
    }
    assert_eq!(MIGRATIONS.len() as u32, LATEST_VERSION);
    for (i, (name, _)) in MIGRATIONS.iter().enumerate() {
        assert!(name.starts_with(&format!("{:04}_", i + 1)), "{name} is numbered in order");
    }
}

/// Columns the store adds to entity tables beyond the spec's fields.
const BOOKKEEPING: &[&str] = &["digest", "id", "created_hlc", "created_by", "clocks"];
const DERIVED: &[(&str, &[&str])] = &[(
    "recipients",
    &[
        "name_initials",
        "name_initials_alt",
        "category_mask",
        "id_number_rev",
        "phone_rev",
        "last_visit_id",
        "last_visit_on",
        "last_visit_worker_id",
        "last_visit_follow_up",
    ],
)];

#[test]
fn every_spec_field_has_a_column_of_its_name_and_type() {
    let store = Store::open_in_memory().expect("store");
    for kind in EntityKind::ALL {
        let spec = kind.spec();
        let mut stmt = store.connection().prepare(&format!("PRAGMA table_info({})", spec.table)).expect("info");
        let columns: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("columns");
        assert!(!columns.is_empty(), "table {} exists", spec.table);
        for field in spec.fields {
            let expected = match field.ty {
                FieldType::Integer { .. } | FieldType::Money { .. } | FieldType::Bool => "INTEGER",
                _ => "TEXT",
            };
            let found = columns.iter().find(|(name, _)| name == field.name);
            assert_eq!(found.map(|(_, ty)| ty.as_str()), Some(expected), "{}.{}", spec.table, field.name);
        }
        // And nothing else but bookkeeping and documented derived columns.
        let derived: BTreeSet<&str> =
            DERIVED.iter().filter(|(t, _)| *t == spec.table).flat_map(|(_, c)| c.iter().copied()).collect();
        for (name, _) in &columns {
            let known =
                spec.field(name).is_some() || BOOKKEEPING.contains(&name.as_str()) || derived.contains(name.as_str());
            assert!(known, "{}.{name} is neither a field of {} nor bookkeeping", spec.table, kind.as_str());
        }
    }
}
