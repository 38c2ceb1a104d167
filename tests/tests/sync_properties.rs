//! Properties of merging, on the pure function and on the device store alike: applying a change
//! twice changes nothing, and the result does not depend on the order concurrent changes arrive in.

use std::collections::BTreeSet;

use domain::change::{Change, FieldWrite, Incoming, Op};
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::hlc::Hlc;
use domain::merge::{ConflictBook, merge};
use proptest::prelude::*;
use store::Store;
use uuid::Uuid;

const STATION: Uuid = Uuid::from_u128(0x0057_a710);
const VILLAGE: Uuid = Uuid::from_u128(0x71_11a6e);
const HOUSEHOLD: Uuid = Uuid::from_u128(0x40_05e);
const FIELDS: [&str; 3] = [field::household::NAME, field::household::ADDRESS, field::household::NOTES];

fn device(n: u8) -> Uuid {
    Uuid::from_u128(0xde_0000 + u128::from(n))
}

fn creation() -> Change {
    let fields = [
        (field::household::STATION_ID, STATION.to_string()),
        (field::household::VILLAGE_ID, VILLAGE.to_string()),
        (field::household::NAME, "张三户".to_string()),
        (field::household::ADDRESS, "一组".to_string()),
    ];
    Change {
        change_id: Uuid::from_u128(1),
        device_id: device(0),
        device_seq: 1,
        author_id: Uuid::from_u128(0xa0),
        schema_version: domain::SCHEMA_VERSION,
        hlc: Hlc::new(1_000, 0, device(0)),
        entity: EntityKind::Household,
        entity_id: HOUSEHOLD,
        op: Op::Create,
        fields: fields.iter().map(|(k, v)| (k.to_string(), FieldWrite::new(v.clone()))).collect(),
    }
}

/// One concurrent edit: from a device, at a time, to some fields, based on the creation or on
/// an earlier edit (`base_of`, an index into the edits before it).
#[derive(Debug, Clone)]
struct EditSpec {
    device: u8,
    millis: u64,
    counter: u32,
    fields: Vec<(usize, u16)>,
    base_of: Option<usize>,
}

fn edit_spec() -> impl Strategy<Value = EditSpec> {
    (1u8..5, 1_001u64..1_020, 0u32..2, prop::collection::vec((0usize..3, 0u16..50), 1..3), prop::option::of(0usize..6))
        .prop_map(|(device, millis, counter, fields, base_of)| EditSpec { device, millis, counter, fields, base_of })
}

fn edits(specs: &[EditSpec]) -> Vec<Change> {
    let create = creation();
    let mut out: Vec<Change> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let hlc = Hlc::new(spec.millis, spec.counter, device(spec.device));
        // A base must be older than the edit that names it, as it is in real life.
        let base = spec.base_of.and_then(|b| out.get(b)).map(|c| c.hlc).filter(|b| *b < hlc).unwrap_or(create.hlc);
        let fields = spec
            .fields
            .iter()
            .map(|(f, v)| {
                (
                    FIELDS[*f].to_string(),
                    FieldWrite { value: format!("值{v}").into(), base: Some(base), resolves: vec![] },
                )
            })
            .collect();
        out.push(Change {
            change_id: Uuid::from_u128(100 + i as u128),
            device_id: device(spec.device),
            device_seq: i as u64 + 1,
            author_id: Uuid::from_u128(0xa0 + u128::from(spec.device)),
            schema_version: domain::SCHEMA_VERSION,
            hlc,
            entity: EntityKind::Household,
            entity_id: HOUSEHOLD,
            op: Op::Update,
            fields,
        });
    }
    // Two edits with the same stamp would be the same edit; keep the first.
    let mut seen = BTreeSet::new();
    out.retain(|c| seen.insert(c.hlc));
    out
}

/// The pure model: the entity and its open conflicts after applying `changes` in order.
fn model(changes: &[&Change]) -> (Option<EntityState>, BTreeSet<(String, Hlc)>) {
    let mut state = None;
    let mut book = ConflictBook::default();
    for change in changes {
        if let Some(merged) = merge(state.as_ref(), change) {
            book.record(change.entity_id, &merged.conflict_ops);
            state = Some(merged.state);
        }
    }
    let open = book.entries.iter().filter(|(_, v)| v.is_some()).map(|((_, f, h), _)| (f.clone(), *h)).collect();
    (state, open)
}

/// The device store: the same changes pulled one page each.
fn stored(changes: &[&Change]) -> (Option<EntityState>, BTreeSet<(String, Hlc)>) {
    let mut store = Store::open_in_memory().expect("store");
    for (i, change) in changes.iter().enumerate() {
        store.apply_pulled(&[(i as u64 + 1, Incoming::Change((*change).clone()))], i as u64 + 1).expect("apply");
    }
    let state = store.entity(EntityKind::Household, HOUSEHOLD).expect("read").map(|s| strip(&s));
    let open = store
        .open_conflicts()
        .expect("conflicts")
        .into_iter()
        .filter(|c| c.entity_id == HOUSEHOLD)
        .map(|c| (c.field, c.lost_hlc))
        .collect();
    (state, open)
}

fn strip(s: &EntityState) -> EntityState {
    let mut s = s.clone();
    s.fields.retain(|_, v| !v.is_null());
    s
}

fn normalized(
    result: (Option<EntityState>, BTreeSet<(String, Hlc)>),
) -> (Option<EntityState>, BTreeSet<(String, Hlc)>) {
    (result.0.map(|s| strip(&s)), result.1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_change_twice_changes_nothing(specs in prop::collection::vec(edit_spec(), 1..6), dup in 0usize..6) {
        let create = creation();
        let edits = edits(&specs);
        let once: Vec<&Change> = std::iter::once(&create).chain(edits.iter()).collect();
        let mut twice = once.clone();
        let again = once[dup % once.len()];
        twice.push(again);
        twice.insert(1 + dup % edits.len().max(1), again);
        prop_assert_eq!(normalized(model(&once)), normalized(model(&twice)));
        prop_assert_eq!(stored(&once), stored(&twice));
    }

    #[test]
    fn the_result_does_not_depend_on_arrival_order(
        specs in prop::collection::vec(edit_spec(), 2..6),
        order in any::<u64>(),
    ) {
        let create = creation();
        let edits = edits(&specs);
        let in_order: Vec<&Change> = std::iter::once(&create).chain(edits.iter()).collect();
        let mut shuffled: Vec<&Change> = edits.iter().collect();
        // A deterministic shuffle from the generated number.
        let mut x = order | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let reordered: Vec<&Change> = std::iter::once(&create).chain(shuffled).collect();
        let expected = normalized(model(&in_order));
        prop_assert_eq!(&normalized(model(&reordered)), &expected);
        prop_assert_eq!(&stored(&in_order), &expected);
        prop_assert_eq!(&stored(&reordered), &expected);
    }
}
