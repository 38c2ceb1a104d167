//! Entity rows, driven by each kind's `EntitySpec`: one column per field, named as the field,
//! plus `created_hlc`, `created_by` and `clocks`. The same code reads and writes every kind, so
//! adding a field to a spec needs only a migration that adds its column.
//!
//! A row read back is the `EntityState` that was written, with values as
//! `domain::validate::normalize_field` makes them; a field without a value is absent from
//! `fields` (a `null` written is read back as absent, which digests and merges treat alike).

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use domain::change::{Change, FieldWrite, Op};
use domain::entity::{EntityKind, EntityState, FieldClock, FieldSpec, FieldType, checksum_fold, digest_of};
use domain::hlc::HLC_TEXT_MAX;
use domain::rules::{LookupError, StateView};
use domain::{Id, Labelled, field};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, Row, Statement, params};
use serde_json::Value;
use uuid::Uuid;

use crate::StoreError;
use crate::search;

/// The SQL of one kind's table, built once from its spec.
pub(crate) struct TableSql {
    /// `SELECT id, <fields>, created_hlc, created_by, clocks FROM <table>`, to which a caller adds
    /// its `WHERE`.
    pub select: String,
    pub select_by_id: String,
    pub upsert: String,
    /// The same insert, doing nothing when the id is already there.
    pub insert_new: String,
}

/// Columns the store derives from a recipient's fields on every write (migration 0002).
const RECIPIENT_DERIVED: &[&str] =
    &["name_initials", "name_initials_alt", "category_mask", "id_number_rev", "phone_rev"];

fn kind_index(kind: EntityKind) -> usize {
    EntityKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

pub(crate) fn table_sql(kind: EntityKind) -> &'static TableSql {
    static TABLES: OnceLock<Vec<TableSql>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| EntityKind::ALL.iter().map(|k| build_sql(*k)).collect());
    &tables[kind_index(kind)]
}

fn build_sql(kind: EntityKind) -> TableSql {
    let spec = kind.spec();
    let fields: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
    let mut read_columns = vec!["id"];
    read_columns.extend(&fields);
    read_columns.extend(["created_hlc", "created_by", "clocks"]);
    let select = format!("SELECT {} FROM {}", read_columns.join(", "), spec.table);
    let select_by_id = format!("{select} WHERE id = ?1");

    let mut write_columns = read_columns.clone();
    if kind == EntityKind::Recipient {
        write_columns.extend(RECIPIENT_DERIVED);
    }
    // The row's digest fold, or NULL to compute when a checksum needs it (migration 0004).
    write_columns.push("digest");
    let placeholders: Vec<String> = (1..=write_columns.len()).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = write_columns.iter().skip(1).map(|c| format!("{c} = excluded.{c}")).collect();
    let upsert = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        spec.table,
        write_columns.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    );
    let insert_new = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO NOTHING",
        spec.table,
        write_columns.join(", "),
        placeholders.join(", ")
    );
    TableSql { select, select_by_id, upsert, insert_new }
}

/// Binds a field's value as SQL: text as TEXT, integers and yes/no as INTEGER, lists as JSON
/// text. Borrowed, not copied into an owned value first: a first pull binds every field of
/// every row.
fn bind_value(stmt: &mut Statement<'_>, index: usize, value: Option<&Value>) -> rusqlite::Result<()> {
    match value {
        None | Some(Value::Null) => stmt.raw_bind_parameter(index, SqlValue::Null),
        Some(Value::String(s)) => stmt.raw_bind_parameter(index, s.as_str()),
        Some(Value::Bool(b)) => stmt.raw_bind_parameter(index, i64::from(*b)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => stmt.raw_bind_parameter(index, i),
            None => stmt.raw_bind_parameter(index, n.as_f64().unwrap_or_default()),
        },
        Some(v @ (Value::Array(_) | Value::Object(_))) => stmt.raw_bind_parameter(index, v.to_string()),
    }
}

/// A column back to the field's normalized JSON value.
fn from_sql(spec: &FieldSpec, value: ValueRef<'_>) -> Result<Option<Value>, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("column {} holds a value of the wrong type", spec.name));
    Ok(Some(match (spec.ty, value) {
        (_, ValueRef::Null) => return Ok(None),
        (FieldType::Bool, ValueRef::Integer(i)) => Value::Bool(i != 0),
        (FieldType::EnumSet(_) | FieldType::RefList(_) | FieldType::HexList, ValueRef::Text(t)) => {
            serde_json::from_slice(t).map_err(|_| corrupt())?
        }
        (_, ValueRef::Text(t)) => Value::String(std::str::from_utf8(t).map_err(|_| corrupt())?.to_owned()),
        (_, ValueRef::Integer(i)) => Value::from(i),
        (_, ValueRef::Real(f)) => Value::from(f),
        (_, ValueRef::Blob(_)) => return Err(corrupt()),
    }))
}

pub(crate) fn parse_id(text: &str) -> Result<Id, StoreError> {
    Id::try_parse(text).map_err(|_| StoreError::Corrupt(format!("not an id: {text:?}")))
}

/// Reads one row selected with [`TableSql::select`].
pub(crate) fn state_from_row(kind: EntityKind, row: &Row<'_>) -> Result<EntityState, StoreError> {
    let spec = kind.spec();
    let id: String = row.get(0)?;
    let mut fields = BTreeMap::new();
    for (i, field) in spec.fields.iter().enumerate() {
        if let Some(value) = from_sql(field, row.get_ref(i + 1)?)? {
            fields.insert(field.name.to_owned(), value);
        }
    }
    let n = spec.fields.len();
    let created_hlc: String = row.get(n + 1)?;
    let created_by: String = row.get(n + 2)?;
    let clocks: Option<String> = row.get(n + 3)?;
    let clocks: BTreeMap<String, FieldClock> = match clocks {
        Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("clocks of {id}: {e}")))?,
        None => BTreeMap::new(),
    };
    Ok(EntityState {
        kind,
        id: parse_id(&id)?,
        fields,
        created: FieldClock {
            hlc: created_hlc.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?,
            base: None,
            author: parse_id(&created_by)?,
        },
        clocks,
    })
}

pub(crate) fn read_entity(conn: &Connection, kind: EntityKind, id: Id) -> Result<Option<EntityState>, StoreError> {
    let mut stmt = conn.prepare_cached(&table_sql(kind).select_by_id)?;
    let mut rows = stmt.query(params![id.to_string()])?;
    match rows.next()? {
        Some(row) => Ok(Some(state_from_row(kind, row)?)),
        None => Ok(None),
    }
}

/// Every entity of `kind` matching `where_sql` (which may use `?1`... for `args`).
pub(crate) fn read_where(
    conn: &Connection,
    kind: EntityKind,
    where_sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<EntityState>, StoreError> {
    let sql = format!("{} WHERE {where_sql}", table_sql(kind).select);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(state_from_row(kind, row)?);
    }
    Ok(out)
}

/// Writes the row of `state` (insert or replace its columns), without the follow-up work on
/// other rows that [`write_entity`] does. The digest column is left empty, to be computed when a
/// checksum needs it (bulk loads).
pub(crate) fn write_row(conn: &Connection, state: &EntityState) -> Result<(), StoreError> {
    write_row_with(conn, &table_sql(state.kind).upsert, state, None)?;
    Ok(())
}

/// The 64-bit fold of the row's digest (migration 0004), as the checksum reads it back; `None`
/// when the state holds a field its kind's table has no column for, so that only a row read back
/// is digested.
pub(crate) fn row_digest(state: &EntityState) -> Option<i64> {
    let spec = state.kind.spec();
    if !state.fields.keys().all(|name| spec.field(name).is_some()) {
        return None;
    }
    let folded = checksum_fold(0, &state.digest());
    Some(i64::from_le_bytes(folded.to_le_bytes()))
}

/// Runs `sql` (the kind's upsert or insert) with the row of `state`; returns how many rows it
/// wrote.
fn write_row_with(conn: &Connection, sql: &str, state: &EntityState, digest: Option<i64>) -> Result<usize, StoreError> {
    let spec = state.kind.spec();
    let mut stmt = conn.prepare_cached(sql)?;
    let mut id = Uuid::encode_buffer();
    stmt.raw_bind_parameter(1, &*state.id.hyphenated().encode_lower(&mut id))?;
    let mut index = 2;
    for field in spec.fields {
        bind_value(&mut stmt, index, state.fields.get(field.name))?;
        index += 1;
    }
    let mut hlc = [0; HLC_TEXT_MAX];
    stmt.raw_bind_parameter(index, state.created.hlc.encode(&mut hlc))?;
    let mut author = Uuid::encode_buffer();
    stmt.raw_bind_parameter(index + 1, &*state.created.author.hyphenated().encode_lower(&mut author))?;
    let clocks = if state.clocks.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&state.clocks).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    };
    stmt.raw_bind_parameter(index + 2, clocks)?;
    index += 3;
    if state.kind == EntityKind::Recipient {
        index = RecipientColumns::of(state).bind(&mut stmt, index)?;
    }
    stmt.raw_bind_parameter(index, digest)?;
    Ok(stmt.raw_execute()?)
}

/// The columns the store derives from a recipient's fields ([`RECIPIENT_DERIVED`]).
struct RecipientColumns {
    initials: String,
    initials_alt: Option<String>,
    category_mask: i64,
    id_number_rev: Option<String>,
    phone_rev: Option<String>,
}

impl RecipientColumns {
    fn of(state: &EntityState) -> Self {
        Self::from_fields(|name| state.get(name))
    }

    /// From a recipient's field values (`None`: no value).
    fn from_fields<'a>(get: impl Fn(&str) -> Option<&'a Value>) -> Self {
        let text = |name| get(name).and_then(Value::as_str);
        let name = text(field::recipient::NAME).unwrap_or_default();
        Self {
            initials: search::name_initials(name),
            initials_alt: search::name_initials_alt(name),
            category_mask: get(field::recipient::CATEGORIES).map(search::category_mask).unwrap_or(0),
            id_number_rev: text(field::recipient::ID_NUMBER).map(search::reversed),
            phone_rev: text(field::recipient::PHONE).map(search::reversed),
        }
    }

    /// Binds the columns from `index` on; returns the next index.
    fn bind(&self, stmt: &mut Statement<'_>, index: usize) -> rusqlite::Result<usize> {
        stmt.raw_bind_parameter(index, self.initials.as_str())?;
        stmt.raw_bind_parameter(index + 1, self.initials_alt.as_deref())?;
        stmt.raw_bind_parameter(index + 2, self.category_mask)?;
        stmt.raw_bind_parameter(index + 3, self.id_number_rev.as_deref())?;
        stmt.raw_bind_parameter(index + 4, self.phone_rev.as_deref())?;
        Ok(index + 5)
    }
}

/// The row of an entity new to this device (a pulled create): every column in the table's order,
/// and what its insert derives elsewhere.
pub(crate) struct NewRow {
    kind: EntityKind,
    id: Id,
    /// Each spec field's value, in spec order; `None` where the entity has no such field.
    values: Vec<Option<Value>>,
    created: FieldClock,
    digest: Option<i64>,
    recipient: Option<RecipientColumns>,
    /// A visit's recipient, and the visit as that recipient's latest-visit summary has it.
    visit: Option<(Id, NewVisit)>,
}

/// Per kind, the positions of its spec's fields in name order: the order a digest takes them in.
fn fields_by_name(kind: EntityKind) -> &'static [usize] {
    static ORDER: OnceLock<Vec<Vec<usize>>> = OnceLock::new();
    let order = ORDER.get_or_init(|| {
        EntityKind::ALL
            .iter()
            .map(|k| {
                let fields = k.spec().fields;
                let mut positions: Vec<usize> = (0..fields.len()).collect();
                positions.sort_by_key(|i| fields[*i].name);
                positions
            })
            .collect()
    });
    &order[kind_index(kind)]
}

impl NewRow {
    /// The row a pulled create makes, straight from the change: the state
    /// `domain::merge::merge(None, change)` creates (its null values dropped) as a row, without
    /// that state in between (a first pull makes 25,000 of them on the thread that decodes the
    /// pages, which the writes wait for). `None` for another operation, or where a field with a
    /// value has no column.
    pub fn of_create(change: &Change) -> Option<NewRow> {
        let spec = change.entity.spec();
        let valued = |write: &&FieldWrite| !write.value.is_null();
        if change.op != Op::Create
            || !change.fields.iter().all(|(name, write)| !valued(&write) || spec.field(name).is_some())
        {
            return None;
        }
        let values =
            spec.fields.iter().map(|f| change.fields.get(f.name).filter(valued).map(|w| w.value.clone())).collect();
        let created = FieldClock { hlc: change.hlc, base: None, author: change.author_id };
        Some(Self::of_values(change.entity, change.entity_id, created, values))
    }

    /// The row of `values` (each spec field's, in spec order), with its digest and derived columns.
    fn of_values(kind: EntityKind, id: Id, created: FieldClock, values: Vec<Option<Value>>) -> NewRow {
        let spec = kind.spec();
        let mut row = NewRow { kind, id, values, created, digest: None, recipient: None, visit: None };
        let by_name =
            fields_by_name(kind).iter().filter_map(|i| Some((spec.fields[*i].name, row.values[*i].as_ref()?)));
        let folded = checksum_fold(0, &digest_of(kind, id, &row.created, by_name, &BTreeMap::new()));
        row.digest = Some(i64::from_le_bytes(folded.to_le_bytes()));
        let get = |name: &str| {
            let i = spec.fields.iter().position(|f| f.name == name)?;
            row.values[i].as_ref().filter(|v| !v.is_null())
        };
        let recipient = (kind == EntityKind::Recipient).then(|| RecipientColumns::from_fields(get));
        let visit = if kind == EntityKind::Visit { NewVisit::from_fields(id, &row.created, get) } else { None };
        row.recipient = recipient;
        row.visit = visit;
        row
    }
}

/// Each kind's `insert_new` statement, taken from the connection's cache once for a pulled page
/// rather than for every row: the cache finds a statement by hashing its SQL, which on a first
/// pull was a fifth of the time spent inserting.
pub(crate) struct NewRowInserts<'c> {
    conn: &'c Connection,
    statements: Vec<(EntityKind, rusqlite::CachedStatement<'c>)>,
}

impl<'c> NewRowInserts<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        NewRowInserts { conn, statements: Vec::new() }
    }

    /// Inserts a [`NewRow`], as [`write_entity_over`] writes an entity with no `before`;
    /// returns `false`, having written nothing, when a row with its id is there after all. Saves
    /// a first pull the look-up of every entity it receives.
    pub(crate) fn insert(&mut self, row: &NewRow, latest: &mut LatestVisits) -> Result<bool, StoreError> {
        let at = match self.statements.iter().position(|(kind, _)| *kind == row.kind) {
            Some(at) => at,
            None => {
                let stmt = self.conn.prepare_cached(&table_sql(row.kind).insert_new)?;
                self.statements.push((row.kind, stmt));
                self.statements.len() - 1
            }
        };
        let inserted = bind_new_row(&mut self.statements[at].1, row)?;
        if inserted {
            derive_from_new_row(self.conn, row, latest)?;
        }
        Ok(inserted)
    }
}

/// Binds `row` to its kind's `insert_new` statement and runs it: whether a row was inserted.
fn bind_new_row(stmt: &mut Statement<'_>, row: &NewRow) -> Result<bool, StoreError> {
    let mut id = Uuid::encode_buffer();
    stmt.raw_bind_parameter(1, &*row.id.hyphenated().encode_lower(&mut id))?;
    let mut index = 2;
    for value in &row.values {
        bind_value(stmt, index, value.as_ref())?;
        index += 1;
    }
    let mut hlc = [0; HLC_TEXT_MAX];
    stmt.raw_bind_parameter(index, row.created.hlc.encode(&mut hlc))?;
    let mut author = Uuid::encode_buffer();
    stmt.raw_bind_parameter(index + 1, &*row.created.author.hyphenated().encode_lower(&mut author))?;
    stmt.raw_bind_parameter(index + 2, SqlValue::Null)?;
    index += 3;
    if let Some(recipient) = &row.recipient {
        index = recipient.bind(stmt, index)?;
    }
    stmt.raw_bind_parameter(index, row.digest)?;
    Ok(stmt.raw_execute()? > 0)
}

/// What a new row changes elsewhere: a recipient's latest visit.
fn derive_from_new_row(conn: &Connection, row: &NewRow, latest: &mut LatestVisits) -> Result<(), StoreError> {
    match (row.kind, &row.visit) {
        (EntityKind::Recipient, _) => refresh_new_recipient(conn, row.id, latest)?,
        (EntityKind::Visit, Some((recipient, visit))) => latest.note_new(*recipient, visit.clone()),
        _ => {}
    }
    Ok(())
}

/// A recipient's latest-visit columns start out empty; they only need computing when its
/// visits came first (a new recipient usually has none yet), and not yet in a first load.
fn refresh_new_recipient(conn: &Connection, recipient: Id, latest: &LatestVisits) -> Result<(), StoreError> {
    if latest.first_load {
        return Ok(());
    }
    let has_visits: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM visits WHERE recipient_id = ?1)")?
        .query_row(params![recipient.to_string()], |r| r.get(0))?;
    if has_visits {
        refresh_visit_summary(conn, recipient)?;
    }
    Ok(())
}

/// Writes an entity and keeps what is derived from it elsewhere up to date (a recipient's
/// latest visit), when what the row held before is not known.
pub(crate) fn write_entity(conn: &Connection, state: &EntityState) -> Result<(), StoreError> {
    write_row_with(conn, &table_sql(state.kind).upsert, state, row_digest(state))?;
    match state.kind {
        EntityKind::Recipient => refresh_visit_summary(conn, state.id)?,
        EntityKind::Visit => {
            if let Some(recipient) = state.get_id(field::visit::RECIPIENT_ID) {
                refresh_visit_summary(conn, recipient)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Writes an entity whose row, read in the same transaction, was `before` (`None`: no row), and
/// keeps what is derived from it up to date with only the work the difference calls for: the
/// writes of a pull and of a person recording a visit go this way. New visits are noted in
/// `latest` (flushed by the caller before its transaction ends).
pub(crate) fn write_entity_over(
    conn: &Connection,
    state: &EntityState,
    before: Option<&EntityState>,
    latest: &mut LatestVisits,
) -> Result<(), StoreError> {
    match before {
        Some(before) => update_row(conn, state, before, row_digest(state))?,
        None => {
            write_row_with(conn, &table_sql(state.kind).upsert, state, row_digest(state))?;
        }
    }
    derive(conn, state, before, latest)
}

/// Writes only the columns of `state` that differ from `before`, the row as read in the same
/// transaction (and the digest): SQLite then rewrites only the indexes of those columns, where
/// an upsert of every column rewrites all of them (a recipient has a dozen).
fn update_row(
    conn: &Connection,
    state: &EntityState,
    before: &EntityState,
    digest: Option<i64>,
) -> Result<(), StoreError> {
    let spec = state.kind.spec();
    let changed: Vec<&str> =
        spec.fields.iter().map(|f| f.name).filter(|name| state.get(name) != before.get(name)).collect();
    let mut columns: Vec<&str> = changed.clone();
    let restamped = state.created != before.created;
    if restamped {
        columns.extend(["created_hlc", "created_by"]);
    }
    let clocks_changed = state.clocks != before.clocks;
    if clocks_changed {
        columns.push("clocks");
    }
    let derived: Vec<&str> = if state.kind == EntityKind::Recipient {
        RECIPIENT_DERIVED
            .iter()
            .copied()
            .filter(|column| match *column {
                "name_initials" | "name_initials_alt" => changed.contains(&field::recipient::NAME),
                "category_mask" => changed.contains(&field::recipient::CATEGORIES),
                "id_number_rev" => changed.contains(&field::recipient::ID_NUMBER),
                _ => changed.contains(&field::recipient::PHONE),
            })
            .collect()
    } else {
        Vec::new()
    };
    columns.extend(&derived);
    columns.push("digest");
    let assignments: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("{c} = ?{}", i + 2)).collect();
    let sql = format!("UPDATE {} SET {} WHERE id = ?1", spec.table, assignments.join(", "));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut id = Uuid::encode_buffer();
    stmt.raw_bind_parameter(1, &*state.id.hyphenated().encode_lower(&mut id))?;
    let mut index = 2;
    for name in &changed {
        bind_value(&mut stmt, index, state.fields.get(*name))?;
        index += 1;
    }
    if restamped {
        stmt.raw_bind_parameter(index, state.created.hlc.to_string())?;
        stmt.raw_bind_parameter(index + 1, state.created.author.to_string())?;
        index += 2;
    }
    if clocks_changed {
        let clocks = if state.clocks.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&state.clocks).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        };
        stmt.raw_bind_parameter(index, clocks)?;
        index += 1;
    }
    let name = state.get_str(field::recipient::NAME).unwrap_or_default();
    for column in &derived {
        match *column {
            "name_initials" => stmt.raw_bind_parameter(index, search::name_initials(name))?,
            "name_initials_alt" => stmt.raw_bind_parameter(index, search::name_initials_alt(name))?,
            "category_mask" => stmt.raw_bind_parameter(
                index,
                state.get(field::recipient::CATEGORIES).map(search::category_mask).unwrap_or(0),
            )?,
            "id_number_rev" => {
                stmt.raw_bind_parameter(index, state.get_str(field::recipient::ID_NUMBER).map(search::reversed))?
            }
            _ => stmt.raw_bind_parameter(index, state.get_str(field::recipient::PHONE).map(search::reversed))?,
        }
        index += 1;
    }
    stmt.raw_bind_parameter(index, digest)?;
    if stmt.raw_execute()? == 0 {
        // No row after all: the whole row, then.
        write_row_with(conn, &table_sql(state.kind).upsert, state, digest)?;
    }
    Ok(())
}

/// Keeps what is derived from an entity's row elsewhere up to date after a write over `before`.
fn derive(
    conn: &Connection,
    state: &EntityState,
    before: Option<&EntityState>,
    latest: &mut LatestVisits,
) -> Result<(), StoreError> {
    match (state.kind, before) {
        // A recipient's latest-visit columns are not among those written: an existing row keeps
        // them, and a new one gets them computed.
        (EntityKind::Recipient, None) => refresh_new_recipient(conn, state.id, latest)?,
        (EntityKind::Recipient, Some(_)) => {}
        (EntityKind::Visit, None) => latest.note(state),
        (EntityKind::Visit, Some(_)) if latest.first_load => {}
        (EntityKind::Visit, Some(before)) => {
            let summarized = |s: &EntityState| {
                (
                    s.created.hlc,
                    [
                        field::visit::RECIPIENT_ID,
                        field::visit::VISITED_ON,
                        field::visit::WORKER_ID,
                        field::visit::FOLLOW_UP_NEEDED,
                    ]
                    .map(|f| s.get(f).cloned()),
                )
            };
            if summarized(before) != summarized(state) {
                // Recomputed from the rows: what is noted but not yet written must be in them.
                latest.flush(conn)?;
                for recipient in [before.get_id(field::visit::RECIPIENT_ID), state.get_id(field::visit::RECIPIENT_ID)]
                    .into_iter()
                    .flatten()
                {
                    refresh_visit_summary(conn, recipient)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Visits new to this device since the last flush, by recipient: only the latest of each can
/// become the recipient's latest visit, so a page of a first pull (ten visits of each
/// recipient) updates each recipient once. Adding a visit only ever moves a recipient's latest
/// visit forward, so the updates may wait until the end of the transaction; anything that can
/// move it back (a visit removed or changed) flushes first.
///
/// In a first load (see `first_load`) nothing is noted or looked up: every recipient's latest
/// visit is computed once from the rows at its end ([`LatestVisits::end_first_load`]), and
/// `visits_by_recipient` waits to be built with the other indexes.
#[derive(Default)]
pub(crate) struct LatestVisits {
    by_recipient: HashMap<Id, NewVisit>,
    first_load: bool,
}

#[derive(Clone)]
struct NewVisit {
    visited_on: Option<String>,
    created_hlc: String,
    id: Id,
    worker_id: Option<String>,
    follow_up: bool,
}

impl NewVisit {
    /// The visit's recipient and summary; `None` for a visit naming no recipient.
    fn of(visit: &EntityState) -> Option<(Id, NewVisit)> {
        Self::from_fields(visit.id, &visit.created, |name| visit.get(name))
    }

    /// From a visit's id, creating clock and field values (`None`: no value).
    fn from_fields<'a>(
        id: Id,
        created: &FieldClock,
        get: impl Fn(&str) -> Option<&'a Value>,
    ) -> Option<(Id, NewVisit)> {
        let text = |name| get(name).and_then(Value::as_str);
        let recipient = text(field::visit::RECIPIENT_ID).and_then(|s| Id::try_parse(s).ok())?;
        Some((
            recipient,
            NewVisit {
                visited_on: text(field::visit::VISITED_ON).map(str::to_owned),
                created_hlc: created.hlc.to_string(),
                id,
                worker_id: text(field::visit::WORKER_ID).map(str::to_owned),
                follow_up: get(field::visit::FOLLOW_UP_NEEDED).and_then(Value::as_bool).unwrap_or(false),
            },
        ))
    }
}

impl LatestVisits {
    /// For a first load (`true`) or any other write.
    pub fn new(first_load: bool) -> LatestVisits {
        LatestVisits { by_recipient: HashMap::new(), first_load }
    }

    /// After a first load's indexes are back: every recipient's latest visit from the rows, and
    /// from then on noted visit by visit.
    pub fn end_first_load(&mut self, conn: &Connection) -> Result<(), StoreError> {
        if std::mem::take(&mut self.first_load) {
            refresh_all_visit_summaries(conn)?;
        }
        Ok(())
    }

    pub fn note(&mut self, visit: &EntityState) {
        if let Some((recipient, new)) = NewVisit::of(visit) {
            self.note_new(recipient, new);
        }
    }

    fn note_new(&mut self, recipient: Id, new: NewVisit) {
        if self.first_load {
            return;
        }
        match self.by_recipient.entry(recipient) {
            Entry::Vacant(slot) => {
                slot.insert(new);
            }
            // The order of `visit_summary_sql`: date, then stamp (a missing date first).
            Entry::Occupied(mut slot) => {
                if (&new.visited_on, &new.created_hlc) > (&slot.get().visited_on, &slot.get().created_hlc) {
                    slot.insert(new);
                }
            }
        }
    }

    /// Makes each noted visit its recipient's latest where it orders after the latest one.
    pub fn flush(&mut self, conn: &Connection) -> Result<(), StoreError> {
        if self.by_recipient.is_empty() {
            return Ok(());
        }
        let mut stmt = conn.prepare_cached(
            // The latest visit's stamp is looked up only when the dates tie.
            "UPDATE recipients SET last_visit_id = ?2, last_visit_on = ?3, last_visit_worker_id = ?4,
                    last_visit_follow_up = ?5
             WHERE id = ?1 AND (last_visit_id IS NULL OR last_visit_on < ?3
                 OR (last_visit_on = ?3
                     AND (SELECT v.created_hlc < ?6 FROM visits v WHERE v.id = recipients.last_visit_id)))",
        )?;
        for (recipient, visit) in self.by_recipient.drain() {
            stmt.execute(params![
                recipient.to_string(),
                visit.id.to_string(),
                visit.visited_on,
                visit.worker_id,
                i64::from(visit.follow_up),
                visit.created_hlc,
            ])?;
        }
        Ok(())
    }
}

/// Removes an entity; for a case, its stage records too.
pub(crate) fn delete_entity(conn: &Connection, kind: EntityKind, id: Id) -> Result<(), StoreError> {
    let recipient = if kind == EntityKind::Visit {
        read_entity(conn, kind, id)?.and_then(|v| v.get_id(field::visit::RECIPIENT_ID))
    } else {
        None
    };
    conn.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", kind.spec().table))?
        .execute(params![id.to_string()])?;
    // Conflicts about a record no longer held cannot be resolved here.
    conn.prepare_cached("DELETE FROM conflicts WHERE entity_id = ?1")?.execute(params![id.to_string()])?;
    if kind == EntityKind::Case {
        for record_kind in EntityKind::ALL.iter().filter(|k| k.is_case_record()) {
            conn.prepare_cached(&format!(
                "DELETE FROM conflicts WHERE entity_id IN (SELECT id FROM {} WHERE case_id = ?1)",
                record_kind.spec().table
            ))?
            .execute(params![id.to_string()])?;
            conn.prepare_cached(&format!("DELETE FROM {} WHERE case_id = ?1", record_kind.spec().table))?
                .execute(params![id.to_string()])?;
        }
    }
    if let Some(recipient) = recipient {
        refresh_visit_summary(conn, recipient)?;
    }
    Ok(())
}

/// The statements that recompute the latest-visit columns (migration 0003) of the recipients
/// matching `condition`.
pub(crate) fn visit_summary_sql(condition: &str) -> String {
    format!(
        "UPDATE recipients SET last_visit_id = (
             SELECT v.id FROM visits v WHERE v.recipient_id = recipients.id
             ORDER BY v.visited_on DESC, v.created_hlc DESC LIMIT 1)
         WHERE {condition};
         UPDATE recipients SET
             last_visit_on = (SELECT v.visited_on FROM visits v WHERE v.id = recipients.last_visit_id),
             last_visit_worker_id = (SELECT v.worker_id FROM visits v WHERE v.id = recipients.last_visit_id),
             last_visit_follow_up = coalesce(
                 (SELECT v.follow_up_needed FROM visits v WHERE v.id = recipients.last_visit_id), 0)
         WHERE {condition};"
    )
}

/// Recomputes one recipient's latest-visit columns.
pub(crate) fn refresh_visit_summary(conn: &Connection, recipient_id: Id) -> Result<(), StoreError> {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    let statements = SQL.get_or_init(|| {
        visit_summary_sql("id = ?1").split_inclusive(';').map(str::to_owned).filter(|s| !s.trim().is_empty()).collect()
    });
    for sql in statements {
        conn.prepare_cached(sql)?.execute(params![recipient_id.to_string()])?;
    }
    Ok(())
}

/// Recomputes every recipient's latest-visit columns.
pub(crate) fn refresh_all_visit_summaries(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(&visit_summary_sql("1 = 1"))?;
    Ok(())
}

/// The SQL condition "this row is held for station `?1`", per kind (see
/// `EntityState::station_ids`).
pub(crate) fn station_condition(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Station => "id = ?1",
        EntityKind::User => {
            "(station_id = ?1 OR EXISTS (SELECT 1 FROM json_each(users.supervised_station_ids) WHERE value = ?1))"
        }
        _ => "station_id = ?1",
    }
}

/// The rules' read access on a connection (or a transaction in progress, so a batch sees its own
/// earlier writes).
pub(crate) struct View<'c>(pub &'c Connection);

fn lookup(e: StoreError) -> LookupError {
    LookupError(e.to_string())
}

impl StateView for View<'_> {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityState>, LookupError> {
        read_entity(self.0, kind, id).map_err(lookup)
    }

    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, LookupError> {
        let id = case_id.to_string();
        let mut out = Vec::new();
        for kind in EntityKind::ALL.iter().filter(|k| k.is_case_record()) {
            out.extend(read_where(self.0, *kind, "case_id = ?1", &[&id]).map_err(lookup)?);
        }
        Ok(out)
    }

    fn cases_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, LookupError> {
        read_where(self.0, EntityKind::Case, "recipient_id = ?1", &[&recipient_id.to_string()]).map_err(lookup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::change::FieldWrite;
    use domain::hlc::Hlc;
    use serde_json::json;

    fn create(kind: EntityKind, fields: &[(&str, Value)]) -> Change {
        Change {
            change_id: Uuid::now_v7(),
            device_id: Uuid::now_v7(),
            device_seq: 1,
            author_id: Uuid::now_v7(),
            schema_version: domain::SCHEMA_VERSION,
            hlc: Hlc::new(1_780_000_000_000, 3, Uuid::now_v7()),
            entity: kind,
            entity_id: Uuid::now_v7(),
            op: Op::Create,
            fields: fields.iter().map(|(name, value)| ((*name).to_owned(), FieldWrite::new(value.clone()))).collect(),
        }
    }

    #[test]
    fn a_pulled_create_makes_the_row_of_the_state_its_merge_makes() {
        let station = json!(Uuid::now_v7().to_string());
        let changes = [
            create(
                EntityKind::Recipient,
                &[
                    (field::recipient::NAME, json!("张三")),
                    (field::recipient::STATION_ID, station.clone()),
                    (field::recipient::PHONE, Value::Null),
                    (field::recipient::ID_NUMBER, json!("110101199003070011")),
                ],
            ),
            create(
                EntityKind::Visit,
                &[
                    (field::visit::RECIPIENT_ID, json!(Uuid::now_v7().to_string())),
                    (field::visit::STATION_ID, station),
                    (field::visit::VISITED_ON, json!("2026-12-01")),
                    ("no_such_field", Value::Null),
                ],
            ),
        ];
        for change in &changes {
            let row = NewRow::of_create(change).expect("a row");
            let mut state = domain::merge::merge(None, change).expect("created").state;
            state.fields.retain(|_, v| !v.is_null());
            let spec = change.entity.spec();
            for (f, value) in spec.fields.iter().zip(&row.values) {
                assert_eq!(value.as_ref(), state.fields.get(f.name), "{}", f.name);
            }
            assert_eq!(row.created, state.created);
            assert_eq!(row.digest, row_digest(&state), "the digest the general write path computes");
        }
        let unknown = create(EntityKind::Visit, &[("no_such_field", json!(1))]);
        assert!(NewRow::of_create(&unknown).is_none(), "a value with no column takes the general path");
        let mut update = changes[0].clone();
        update.op = Op::Update;
        assert!(NewRow::of_create(&update).is_none());
    }
}
