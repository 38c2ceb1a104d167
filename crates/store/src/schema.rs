//! The database's schema: numbered migrations applied in order, each in its own transaction,
//! with the version kept in `PRAGMA user_version`, and the SQL functions the migrations and the
//! store's queries use.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::StoreError;
use crate::search;

/// The migrations, in order: migration `i` (0-based) brings the schema to version `i + 1`.
/// Never edit one that has shipped; add a new file instead.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_initial", include_str!("../migrations/0001_initial.sql")),
    ("0002_recipient_search", include_str!("../migrations/0002_recipient_search.sql")),
    ("0003_visit_summary", include_str!("../migrations/0003_visit_summary.sql")),
    ("0004_checksum_digests", include_str!("../migrations/0004_checksum_digests.sql")),
    ("0005_change_previous", include_str!("../migrations/0005_change_previous.sql")),
    ("0006_digest_v2", include_str!("../migrations/0006_digest_v2.sql")),
    ("0007_sync_recovery", include_str!("../migrations/0007_sync_recovery.sql")),
    ("0008_access", include_str!("../migrations/0008_access.sql")),
    ("0009_seal_generation", include_str!("../migrations/0009_seal_generation.sql")),
    ("0010_former_device_ids", include_str!("../migrations/0010_former_device_ids.sql")),
    ("0011_last_verified", include_str!("../migrations/0011_last_verified.sql")),
    ("0012_reopen_reason", include_str!("../migrations/0012_reopen_reason.sql")),
    ("0013_refused_dealt_with", include_str!("../migrations/0013_refused_dealt_with.sql")),
    ("0014_stall_days", include_str!("../migrations/0014_stall_days.sql")),
    ("0015_handed_over", include_str!("../migrations/0015_handed_over.sql")),
    ("0016_visits_by_station_day", include_str!("../migrations/0016_visits_by_station_day.sql")),
    ("0017_moved_cases", include_str!("../migrations/0017_moved_cases.sql")),
    ("0018_referral_states", include_str!("../migrations/0018_referral_states.sql")),
    ("0019_library_and_activities", include_str!("../migrations/0019_library_and_activities.sql")),
    ("0020_supervision_training_work_time", include_str!("../migrations/0020_supervision_training_work_time.sql")),
    ("0021_redundant_station_indexes", include_str!("../migrations/0021_redundant_station_indexes.sql")),
    ("0022_place_active", include_str!("../migrations/0022_place_active.sql")),
    ("0023_visit_corrections_by_station", include_str!("../migrations/0023_visit_corrections_by_station.sql")),
];

/// The schema version this build writes and understands.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

/// Registers the store's deterministic SQL functions on a connection.
pub fn register_functions(conn: &Connection) -> Result<(), StoreError> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("shegong_initials", 1, flags, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|name| search::name_initials(&name)))
    })?;
    conn.create_scalar_function("shegong_initials_alt", 1, flags, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.and_then(|name| search::name_initials_alt(&name)))
    })?;
    conn.create_scalar_function("shegong_reverse", 1, flags, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|s| search::reversed(&s)))
    })?;
    conn.create_scalar_function("shegong_category_mask", 1, flags, |ctx| {
        let text = ctx.get::<Option<String>>(0)?;
        let value = text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(serde_json::Value::Null);
        Ok(search::category_mask(&value))
    })?;
    conn.create_aggregate_function("shegong_xor", 1, flags, XorFold)?;
    Ok(())
}

/// `shegong_xor(column)`: the XOR of a column's integers, as the per-station checksum folds them.
struct XorFold;

impl rusqlite::functions::Aggregate<i64, i64> for XorFold {
    fn init(&self, _: &mut rusqlite::functions::Context<'_>) -> rusqlite::Result<i64> {
        Ok(0)
    }

    fn step(&self, ctx: &mut rusqlite::functions::Context<'_>, acc: &mut i64) -> rusqlite::Result<()> {
        *acc ^= ctx.get::<Option<i64>>(0)?.unwrap_or(0);
        Ok(())
    }

    fn finalize(&self, _: &mut rusqlite::functions::Context<'_>, acc: Option<i64>) -> rusqlite::Result<i64> {
        Ok(acc.unwrap_or(0))
    }
}

pub fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("schema version {v} is not valid")))
}

/// Brings the schema up to `target` (at most [`LATEST_VERSION`]). A database written by a newer
/// build is refused before anything is touched.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    if found > LATEST_VERSION {
        return Err(StoreError::NewerSchema { found, supported: LATEST_VERSION });
    }
    for version in found + 1..=target.min(LATEST_VERSION) {
        let (_, sql) = MIGRATIONS[(version - 1) as usize];
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}
