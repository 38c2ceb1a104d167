//! Decoding what arrives over the network never panics, whatever the bytes: the wire types
//! (`PushRequest`, `PullResponse`, `LoginRequest`, `Change`, `Incoming`) read any bytes, any
//! text and any JSON value into a value or an error. And a push body that decodes goes through
//! the upgrade, the rules (`domain::rules::check_change`) and the merge without panicking either.
//!
//! The push-body property is the fuzz target of the push path: structurally plausible bodies
//! (valid JSON shaped like a push, with random field values, wrong types, huge numbers, odd
//! stamps). It runs `PROPTEST_CASES` cases (default 5,000 here; e.g. `PROPTEST_CASES=100000`
//! for a long run).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::change::{Change, Incoming};
use domain::entity::{EntityKind, EntityState, FieldClock, FieldType};
use domain::hlc::Hlc;
use domain::policy::Actor;
use domain::rules::{self, LookupError, StateView};
use domain::{Id, Labelled};
use proptest::prelude::*;
use protocol::{LoginRequest, PullPage, PullResponse, PushRequest};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Arbitrary input.

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "(?s).{0,40}".prop_map(Value::String),
        stamp_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Object keys: often one the wire types know.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            "changes", "entries", "next_cursor", "has_more", "head", "generation", "server_seq", "item", "type",
            "change_id", "device_id", "device_seq", "author_id", "schema_version", "hlc", "entity", "entity_id",
            "op", "fields", "value", "base", "resolves", "kind", "id", "created", "clocks", "author", "username",
            "password", "device_name", "signing_key", "signing_key_proof",
        ]).prop_map(str::to_owned),
        1 => "(?s).{0,8}",
    ]
}

/// Stamps as text: valid ones, at and past the bounds, and near misses.
fn stamp_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..=Hlc::MAX_MILLIS, 0..=Hlc::MAX_COUNTER, any::<u128>()).prop_map(|(m, c, d)| Hlc::new(
            m,
            c,
            Id::from_u128(d)
        )
        .to_string()),
        (any::<u64>(), any::<u32>(), any::<u128>()).prop_map(|(m, c, d)| Hlc::new(m, c, Id::from_u128(d)).to_string()),
        Just(format!("fffffffffffff.fffff.{}", "f".repeat(32))),
        Just(format!("0000000000001.100000.{}", "0".repeat(32))),
        "[0-9a-fA-F+]{13}\\.[0-9a-fA-F+]{5}\\.[0-9a-fA-F-]{32,36}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = serde_json::from_slice::<PushRequest>(&bytes);
        let _ = serde_json::from_slice::<PullResponse>(&bytes);
        let _ = serde_json::from_slice::<LoginRequest>(&bytes);
        let _ = serde_json::from_slice::<Change>(&bytes);
        let _ = serde_json::from_slice::<Incoming>(&bytes);
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(text in "(?s).{0,300}") {
        let _ = serde_json::from_str::<PushRequest>(&text);
        let _ = serde_json::from_str::<PullResponse>(&text);
        let _ = serde_json::from_str::<LoginRequest>(&text);
        let _ = serde_json::from_str::<Change>(&text);
        let _ = serde_json::from_str::<Incoming>(&text);
        let _ = PullPage::from_json(&text);
    }

    #[test]
    fn decoding_arbitrary_json_never_panics(value in any_json()) {
        let text = value.to_string();
        let _ = serde_json::from_str::<PushRequest>(&text);
        let _ = serde_json::from_str::<PullResponse>(&text);
        let _ = serde_json::from_str::<LoginRequest>(&text);
        let _ = serde_json::from_str::<Change>(&text);
        let _ = serde_json::from_str::<Incoming>(&text);
        let _ = PullPage::from_json(&text);
        let _ = serde_json::from_value::<PushRequest>(value.clone());
        let _ = serde_json::from_value::<PullResponse>(value.clone());
        let _ = serde_json::from_value::<Change>(value.clone());
        let _ = serde_json::from_value::<Incoming>(value);
    }

    /// A stamp that decodes is within the bounds, so it writes back to the same text.
    #[test]
    fn every_decoded_stamp_is_within_bounds(text in stamp_text()) {
        if let Ok(stamp) = serde_json::from_value::<Hlc>(Value::String(text.clone())) {
            prop_assert!(stamp.is_valid());
            prop_assert_eq!(stamp.to_string(), text);
        }
    }

    /// Entries of a pulled page shaped like the real thing, with random values.
    #[test]
    fn decoding_plausible_pull_pages_never_panics(entries in proptest::collection::vec(plausible_incoming(), 0..4), cursor in any_json()) {
        let page = json!({"entries": entries, "next_cursor": cursor, "has_more": false});
        // As the app's client reads a page: entries it cannot read are left out, not the page.
        if let Ok(lenient) = PullPage::from_json(&page.to_string()) {
            for entry in &lenient.response.entries {
                if let Incoming::Change(change) = &entry.item {
                    prop_assert!(change.hlc.is_valid());
                }
            }
        }
        if let Ok(page) = serde_json::from_str::<PullResponse>(&page.to_string()) {
            for entry in &page.entries {
                if let Incoming::Change(change) = &entry.item {
                    prop_assert!(change.hlc.is_valid());
                }
            }
        }
    }
}

fn plausible_incoming() -> impl Strategy<Value = Value> {
    prop_oneof![
        plausible_change().prop_map(|c| {
            let mut c = c;
            if let Value::Object(map) = &mut c {
                map.insert("type".into(), json!("change"));
            }
            json!({"server_seq": 1, "item": c})
        }),
        (any_json(), any_json())
            .prop_map(|(a, b)| json!({"server_seq": a, "item": {"type": "evict", "entity": "Case", "entity_id": b}})),
        any_json().prop_map(|item| json!({"server_seq": 2, "item": item})),
    ]
}

// ---------------------------------------------------------------------------------------------
// A small station, in memory, for the rules.

const TODAY: (i32, u32, u32) = (2026, 11, 25);

fn id(n: u128) -> Id {
    Id::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

const STATION: u128 = 1;
const POINT: u128 = 2;
const VILLAGE: u128 = 3;
const WORKER: u128 = 4;
const SUPERVISOR: u128 = 5;
const ADMIN: u128 = 6;
const RECIPIENT: u128 = 7;
const CASE: u128 = 8;
const GOAL: u128 = 9;
const OTHER_STATION: u128 = 10;

#[derive(Default)]
struct World {
    entities: BTreeMap<(EntityKind, Id), EntityState>,
}

impl World {
    fn put(&mut self, kind: EntityKind, n: u128, fields: Value) {
        let fields = match fields {
            Value::Object(map) => map.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        let created = FieldClock { hlc: Hlc::new(1_700_000_000_000, 0, id(99)), base: None, author: id(ADMIN) };
        self.entities.insert((kind, id(n)), EntityState { kind, id: id(n), fields, created, clocks: BTreeMap::new() });
    }

    fn station() -> Self {
        let s = id(STATION).to_string();
        let mut w = World::default();
        w.put(EntityKind::Station, STATION, json!({"name": "城关社工站", "county": "某县"}));
        w.put(EntityKind::Station, OTHER_STATION, json!({"name": "别的社工站", "county": "某县"}));
        w.put(EntityKind::ServicePoint, POINT, json!({"station_id": s, "name": "东村社工点"}));
        w.put(
            EntityKind::Village,
            VILLAGE,
            json!({"station_id": s, "service_point_id": id(POINT).to_string(), "name": "东村"}),
        );
        w.put(EntityKind::User, WORKER, json!({"username": "zhang", "display_name": "张社工", "role": "SocialWorker", "station_id": s, "active": true}));
        w.put(EntityKind::User, SUPERVISOR, json!({"username": "li", "display_name": "李督导", "role": "Supervisor", "supervised_station_ids": [s], "signing_keys": ["ab".repeat(32)], "active": true}));
        w.put(
            EntityKind::User,
            ADMIN,
            json!({"username": "admin", "display_name": "管理员", "role": "Admin", "active": true}),
        );
        w.put(EntityKind::Recipient, RECIPIENT, json!({
            "station_id": s, "village_id": id(VILLAGE).to_string(), "name": "王五", "id_number": "11010519491231002X",
            "gender": "Female", "birth_date": "1949-12-31", "categories": ["Dibao"],
        }));
        w.put(EntityKind::Case, CASE, json!({
            "station_id": s, "recipient_id": id(RECIPIENT).to_string(), "worker_id": id(WORKER).to_string(),
            "stage": "FollowUp", "stage_entered_on": "2026-10-01", "opened_on": "2026-09-01", "closure_status": "Requested",
            "closure_summary": "目标达成",
        }));
        w.put(EntityKind::Goal, GOAL, json!({"station_id": s, "case_id": id(CASE).to_string(), "description": "恢复上学", "target_date": "2026-12-01", "evaluation": "Achieved"}));
        w
    }

    fn actor(&self, user: Id) -> Actor {
        let role = self
            .entities
            .get(&(EntityKind::User, user))
            .and_then(|u| u.to_typed::<domain::org::User>().ok())
            .and_then(|u| u.role());
        Actor::new(user, role)
    }
}

impl StateView for World {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityState>, LookupError> {
        Ok(self.entities.get(&(kind, id)).cloned())
    }
    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, LookupError> {
        Ok(self
            .entities
            .values()
            .filter(|e| e.kind.is_case_record() && e.get_id("case_id") == Some(case_id))
            .cloned()
            .collect())
    }
    fn cases_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, LookupError> {
        Ok(self
            .entities
            .values()
            .filter(|e| e.kind == EntityKind::Case && e.get_id("recipient_id") == Some(recipient_id))
            .cloned()
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Plausible push bodies.

/// An id: of the world's records (so references and updates often resolve), new, or garbage.
fn id_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        40 => (1u128..=10).prop_map(|n| json!(id(n).to_string())),
        20 => any::<u128>().prop_map(|n| json!(Id::from_u128(n).to_string())),
        1 => any_json(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0u64..5).prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(1.5e300)),
        Just(json!("1")),
    ]
}

/// A value for a field of this type: usually of the right shape, sometimes anything.
fn field_value(ty: FieldType) -> BoxedStrategy<Value> {
    let plausible: BoxedStrategy<Value> = match ty {
        FieldType::Text { .. } | FieldType::PersonName => "(?s).{0,60}".prop_map(Value::String).boxed(),
        FieldType::IdNumber => {
            prop_oneof![Just(json!("11010519491231002X")), "[0-9０-９xXＸ中ß😀]{16,19}".prop_map(Value::String),]
                .boxed()
        }
        FieldType::Mobile => "[0-9０-９ -]{9,13}".prop_map(Value::String).boxed(),
        FieldType::Date { .. } => prop_oneof![
            4 => (1890i32..2030, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| json!(format!("{y:04}-{m:02}-{d:02}"))),
            1 => "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
        ]
        .boxed(),
        FieldType::DateTime => prop_oneof![
            Just(json!("2026-11-25T08:00:00.000Z")),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}".prop_map(Value::String),
        ]
        .boxed(),
        FieldType::Integer { .. } => number().boxed(),
        FieldType::Money { .. } => prop_oneof![number(), "[0-9.,元¥-]{0,12}".prop_map(Value::String)].boxed(),
        FieldType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        FieldType::Ref(_) => id_value().boxed(),
        FieldType::RefList(_) => proptest::collection::vec(id_value(), 0..3).prop_map(Value::Array).boxed(),
        FieldType::Enum(names) => proptest::sample::select(names.to_vec()).prop_map(Value::from).boxed(),
        FieldType::EnumSet(names) => {
            proptest::collection::vec(proptest::sample::select(names.to_vec()), 0..3).prop_map(|v| json!(v)).boxed()
        }
        FieldType::Hex { max_chars } => proptest::string::string_regex(&format!("[0-9a-fA-F]{{0,{}}}", max_chars + 2))
            .expect("regex")
            .prop_map(Value::String)
            .boxed(),
        FieldType::HexList => proptest::collection::vec("[0-9a-f]{64}", 0..3).prop_map(|v| json!(v)).boxed(),
    };
    prop_oneof![40 => plausible, 1 => any_json()].boxed()
}

/// The stamp of a value seen: usually a valid one, near the world's stamps.
fn base_stamp() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => (1_700_000_000_000u64..1_700_000_000_003, 0u32..3, 98u128..100)
            .prop_map(|(m, c, d)| Hlc::new(m, c, id(d)).to_string()),
        1 => stamp_text(),
    ]
}

/// A field write: the bare value, or the object form with a base and resolves.
fn field_write(ty: FieldType) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => field_value(ty),
        1 => (field_value(ty), base_stamp(), proptest::collection::vec(base_stamp(), 0..2))
            .prop_map(|(value, base, resolves)| json!({"value": value, "base": base, "resolves": resolves})),
    ]
}

/// The fields of a create (every field of the kind) or of an update (a few of its mutable ones),
/// now and then with a field the kind does not have.
fn fields_of(kind: EntityKind, update: bool) -> BoxedStrategy<Value> {
    let writes: Vec<BoxedStrategy<(String, Value)>> = kind
        .spec()
        .fields
        .iter()
        .filter(|f| !update || f.mutable)
        .map(|f| field_write(f.ty).prop_map(move |v| (f.name.to_owned(), v)).boxed())
        .collect();
    let extra = prop_oneof![10 => Just(Vec::new()), 1 => proptest::collection::vec(("[a-z_]{1,12}", any_json()), 1..2)];
    let all = writes.len();
    let count = if update { (1..=all.max(1)).boxed() } else { prop_oneof![4 => Just(all), 1 => 0..=all].boxed() };
    (count, Just(writes), extra)
        .prop_flat_map(|(n, writes, extra)| {
            (proptest::sample::subsequence(writes.clone(), n.min(writes.len())), Just(extra))
        })
        .prop_flat_map(|(chosen, extra)| (chosen, Just(extra)))
        .prop_map(|(writes, extra)| {
            let mut map = serde_json::Map::new();
            for (k, v) in writes.into_iter().chain(extra) {
                map.insert(k, v);
            }
            Value::Object(map)
        })
        .boxed()
}

/// The world's record of this kind, to update.
fn existing(kind: EntityKind) -> Option<u128> {
    match kind {
        EntityKind::Station => Some(STATION),
        EntityKind::ServicePoint => Some(POINT),
        EntityKind::Village => Some(VILLAGE),
        EntityKind::User => Some(WORKER),
        EntityKind::Recipient => Some(RECIPIENT),
        EntityKind::Case => Some(CASE),
        EntityKind::Goal => Some(GOAL),
        _ => None,
    }
}

/// One change, shaped like the real thing.
fn plausible_change() -> impl Strategy<Value = Value> {
    let kind = proptest::sample::select(EntityKind::ALL.to_vec());
    (kind, prop_oneof![9 => Just(true), 1 => Just(false)], any::<bool>()).prop_flat_map(
        |(kind, plausible_kind, update)| {
            let entity: BoxedStrategy<Value> =
                if plausible_kind { Just(json!(kind.as_str())).boxed() } else { any_json().boxed() };
            let author = prop_oneof![
                4 => proptest::sample::select(vec![WORKER, SUPERVISOR, ADMIN]).prop_map(|n| json!(id(n).to_string())),
                1 => id_value(),
            ];
            let op = prop_oneof![40 => Just(json!(if update { "update" } else { "create" })), 1 => any_json()];
            let entity_id = match (update, existing(kind)) {
                (true, Some(n)) => prop_oneof![10 => Just(json!(id(n).to_string())), 1 => id_value()].boxed(),
                _ => prop_oneof![10 => (100u128..1000).prop_map(|n| json!(id(n).to_string())), 1 => id_value()].boxed(),
            };
            let schema = prop_oneof![
                20 => Just(json!(domain::SCHEMA_VERSION)),
                5 => Just(json!(domain::OLDEST_SUPPORTED_SCHEMA_VERSION)),
                1 => number(),
            ];
            let hlc = prop_oneof![
                40 => (1_700_000_000_000u64..1_800_000_000_000, 0..=Hlc::MAX_COUNTER)
                    .prop_map(|(m, c)| json!(Hlc::new(m, c, id(50)).to_string())),
                10 => stamp_text().prop_map(Value::from),
                1 => any_json(),
            ];
            (
                id_value(),
                prop_oneof![20 => Just(json!(id(50).to_string())), 1 => id_value()],
                prop_oneof![20 => (1u64..100).prop_map(Value::from), 1 => number()],
                author,
                schema,
                hlc,
                entity,
                entity_id,
                op,
                fields_of(kind, update),
                prop_oneof![20 => Just(Vec::new()), 1 => proptest::collection::vec((key(), any_json()), 1..2)],
            )
                .prop_map(
                    |(
                        change_id,
                        device_id,
                        device_seq,
                        author_id,
                        schema_version,
                        hlc,
                        entity,
                        entity_id,
                        op,
                        fields,
                        extra,
                    )| {
                        let mut change = json!({
                            "change_id": change_id, "device_id": device_id, "device_seq": device_seq,
                            "author_id": author_id, "schema_version": schema_version, "hlc": hlc, "entity": entity,
                            "entity_id": entity_id, "op": op, "fields": fields,
                        });
                        if let Value::Object(map) = &mut change {
                            for (k, v) in extra {
                                map.insert(k, v);
                            }
                        }
                        change
                    },
                )
        },
    )
}

/// The body's text, sometimes with a number too large for any integer type spliced in.
fn push_body() -> impl Strategy<Value = String> {
    (proptest::collection::vec(plausible_change(), 0..3), prop_oneof![20 => Just(None), 1 => Just(Some("1e400")), 1 => Just(Some("184467440737095516160")), 1 => Just(Some("-0.0"))])
        .prop_map(|(changes, splice)| {
            let text = json!({ "changes": changes }).to_string();
            match splice {
                Some(number) => text.replacen("\"device_seq\":", &format!("\"device_seq\":{number},\"x\":"), 1),
                None => text,
            }
        })
}

fn cases_from_env(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases_from_env(5000), ..ProptestConfig::default() })]

    /// The push path on the server, without the HTTP: decode, upgrade, check, merge. Nothing in
    /// a body may panic; an accepted change is merged into the world, so later ones of the same
    /// body meet what it did.
    #[test]
    fn plausible_push_bodies_are_decoded_checked_and_merged_without_panicking(body in push_body()) {
        let Ok(push) = serde_json::from_str::<PushRequest>(&body) else { return Ok(()) };
        let mut world = World::station();
        let (y, m, d) = TODAY;
        let today = NaiveDate::from_ymd_opt(y, m, d).expect("date");
        for change in push.changes {
            prop_assert!(change.hlc.is_valid());
            let Ok(change) = protocol::upgrade::upgrade(change) else { continue };
            let actor = world.actor(change.author_id);
            if let Ok(normalized) = rules::check_change(&actor, &change, &world, today) {
                let current = world.entities.get(&(normalized.entity, normalized.entity_id)).cloned();
                if let Some(merged) = domain::merge::merge(current.as_ref(), &normalized) {
                    world.entities.insert((normalized.entity, normalized.entity_id), merged.state);
                }
            }
        }
    }
}

#[test]
fn a_push_of_a_valid_change_from_the_world_is_accepted_so_the_fuzz_reaches_the_rules() {
    // Guards the generator: a well-formed change of the kind it makes passes every check.
    let world = World::station();
    let change: Change = serde_json::from_value(json!({
        "change_id": id(60).to_string(), "device_id": id(50).to_string(), "device_seq": 1,
        "author_id": id(WORKER).to_string(), "schema_version": domain::SCHEMA_VERSION,
        "hlc": Hlc::new(1_750_000_000_000, 0, id(50)).to_string(), "entity": "Visit",
        "entity_id": id(61).to_string(), "op": "create",
        "fields": {
            "station_id": id(STATION).to_string(), "village_id": id(VILLAGE).to_string(),
            "recipient_id": id(RECIPIENT).to_string(), "worker_id": id(WORKER).to_string(),
            "visited_on": "2026-11-20", "observations": "一切正常", "follow_up_needed": false,
        },
    }))
    .expect("a change");
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    let checked = rules::check_change(&world.actor(id(WORKER)), &change, &world, today);
    assert!(checked.is_ok(), "{checked:?}");
}
