//! Entity rows, driven by each kind's `EntitySpec`: one column per field, named as the field,
//! plus `created_hlc`, `created_by` and `clocks`. The same code reads and writes every kind, so
//! adding a field to a spec needs only a migration that adds its column.
//!
//! A row read back is the `EntityState` that was written, with values as
//! `domain::validate::normalize_field` makes them; a field without a value is absent from
//! `fields` (a `null` written is read back as absent, which digests and merges treat alike).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use domain::entity::{EntityKind, EntityState, FieldClock, FieldSpec, FieldType};
use domain::rules::{LookupError, StateView};
use domain::{Id, Labelled};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, Row, params, params_from_iter};
use serde_json::Value;

use crate::StoreError;
use crate::search;

/// The SQL of one kind's table, built once from its spec.
pub(crate) struct TableSql {
    /// `SELECT id, <fields>, created_hlc, created_by, clocks FROM <table>`, to which a caller adds
    /// its `WHERE`.
    pub select: String,
    pub select_by_id: String,
    pub upsert: String,
}

/// Columns the store derives from a recipient's fields on every write (migration 0002).
const RECIPIENT_DERIVED: &[&str] = &[
    "name_initials",
    "name_initials_alt",
    "category_mask",
    "id_number_rev",
    "phone_rev",
];

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
    // Cleared on every write; computed again when a checksum needs it (migration 0004).
    write_columns.push("digest");
    let placeholders: Vec<String> = (1..=write_columns.len()).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = write_columns
        .iter()
        .skip(1)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let upsert = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        spec.table,
        write_columns.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    );
    TableSql {
        select,
        select_by_id,
        upsert,
    }
}

/// A field's value as SQL: text as TEXT, integers and yes/no as INTEGER, lists as JSON text.
fn to_sql(value: Option<&Value>) -> SqlValue {
    match value {
        None | Some(Value::Null) => SqlValue::Null,
        Some(Value::String(s)) => SqlValue::Text(s.clone()),
        Some(Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or_default()),
        },
        Some(v @ (Value::Array(_) | Value::Object(_))) => SqlValue::Text(v.to_string()),
    }
}

/// A column back to the field's normalized JSON value.
fn from_sql(spec: &FieldSpec, value: ValueRef<'_>) -> Result<Option<Value>, StoreError> {
    let corrupt = || {
        StoreError::Corrupt(format!(
            "column {} holds a value of the wrong type",
            spec.name
        ))
    };
    Ok(Some(match (spec.ty, value) {
        (_, ValueRef::Null) => return Ok(None),
        (FieldType::Bool, ValueRef::Integer(i)) => Value::Bool(i != 0),
        (FieldType::EnumSet(_) | FieldType::RefList(_) | FieldType::HexList, ValueRef::Text(t)) => {
            serde_json::from_slice(t).map_err(|_| corrupt())?
        }
        (_, ValueRef::Text(t)) => {
            Value::String(std::str::from_utf8(t).map_err(|_| corrupt())?.to_owned())
        }
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
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("clocks of {id}: {e}")))?,
        None => BTreeMap::new(),
    };
    Ok(EntityState {
        kind,
        id: parse_id(&id)?,
        fields,
        created: FieldClock {
            hlc: created_hlc
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("{e}")))?,
            base: None,
            author: parse_id(&created_by)?,
        },
        clocks,
    })
}

pub(crate) fn read_entity(
    conn: &Connection,
    kind: EntityKind,
    id: Id,
) -> Result<Option<EntityState>, StoreError> {
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
/// other rows that [`write_entity`] does.
pub(crate) fn write_row(conn: &Connection, state: &EntityState) -> Result<(), StoreError> {
    let spec = state.kind.spec();
    let mut values: Vec<SqlValue> = Vec::with_capacity(spec.fields.len() + 9);
    values.push(SqlValue::Text(state.id.to_string()));
    for field in spec.fields {
        values.push(to_sql(state.fields.get(field.name)));
    }
    values.push(SqlValue::Text(state.created.hlc.to_string()));
    values.push(SqlValue::Text(state.created.author.to_string()));
    values.push(if state.clocks.is_empty() {
        SqlValue::Null
    } else {
        SqlValue::Text(
            serde_json::to_string(&state.clocks).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )
    });
    if state.kind == EntityKind::Recipient {
        let name = state.get_str("name").unwrap_or_default();
        let text = |s: Option<String>| s.map(SqlValue::Text).unwrap_or(SqlValue::Null);
        values.push(SqlValue::Text(search::name_initials(name)));
        values.push(text(search::name_initials_alt(name)));
        values.push(SqlValue::Integer(
            state
                .get("categories")
                .map(search::category_mask)
                .unwrap_or(0),
        ));
        values.push(text(state.get_str("id_number").map(search::reversed)));
        values.push(text(state.get_str("phone").map(search::reversed)));
    }
    values.push(SqlValue::Null);
    let mut stmt = conn.prepare_cached(&table_sql(state.kind).upsert)?;
    stmt.execute(params_from_iter(values))?;
    Ok(())
}

/// Writes an entity and keeps what is derived from it elsewhere up to date (a recipient's
/// latest visit).
pub(crate) fn write_entity(conn: &Connection, state: &EntityState) -> Result<(), StoreError> {
    write_row(conn, state)?;
    match state.kind {
        EntityKind::Recipient => refresh_visit_summary(conn, state.id)?,
        EntityKind::Visit => {
            if let Some(recipient) = state.get_id("recipient_id") {
                refresh_visit_summary(conn, recipient)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Removes an entity; for a case, its stage records too.
pub(crate) fn delete_entity(conn: &Connection, kind: EntityKind, id: Id) -> Result<(), StoreError> {
    let recipient = if kind == EntityKind::Visit {
        read_entity(conn, kind, id)?.and_then(|v| v.get_id("recipient_id"))
    } else {
        None
    };
    conn.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", kind.spec().table))?
        .execute(params![id.to_string()])?;
    // Conflicts about a record no longer held cannot be resolved here.
    conn.prepare_cached("DELETE FROM conflicts WHERE entity_id = ?1")?
        .execute(params![id.to_string()])?;
    if kind == EntityKind::Case {
        for record_kind in EntityKind::ALL.iter().filter(|k| k.is_case_record()) {
            conn.prepare_cached(&format!(
                "DELETE FROM conflicts WHERE entity_id IN (SELECT id FROM {} WHERE case_id = ?1)",
                record_kind.spec().table
            ))?
            .execute(params![id.to_string()])?;
            conn.prepare_cached(&format!(
                "DELETE FROM {} WHERE case_id = ?1",
                record_kind.spec().table
            ))?
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
        visit_summary_sql("id = ?1")
            .split_inclusive(';')
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
            .collect()
    });
    for sql in statements {
        conn.prepare_cached(sql)?
            .execute(params![recipient_id.to_string()])?;
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
        read_where(
            self.0,
            EntityKind::Case,
            "recipient_id = ?1",
            &[&recipient_id.to_string()],
        )
        .map_err(lookup)
    }
}
