//! Changes handed over to this user (migration 0015): another worker's changes the server
//! refused because their case had been reassigned meanwhile, offered to the case's current
//! worker and the station's deputy heads. The sync engine replaces the offers with the server's
//! list at the end of a round ([`Store::replace_hand_over_offers`]) and sends the decisions
//! made here until the server acknowledges them ([`Store::pending_hand_over_decisions`]). Taking
//! one over records its content as the user's own change and marks it, in one transaction
//! ([`Store::take_over_hand_over`]).

use chrono::{DateTime, NaiveDate, Utc};
use domain::change::{Change, Write};
use domain::policy::Actor;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use crate::{Store, StoreError};

/// A change offered to this user, as the server sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct HandOverOffer {
    pub change: Change,
    pub station_id: Uuid,
    pub case_id: Uuid,
    pub author_id: Uuid,
    pub author_name: Option<String>,
    pub refused_at: DateTime<Utc>,
}

/// What the user made of an offered change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOverChoice {
    TakenOver,
    Dismissed,
}

impl HandOverChoice {
    fn as_str(self) -> &'static str {
        match self {
            HandOverChoice::TakenOver => "taken_over",
            HandOverChoice::Dismissed => "dismissed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "taken_over" => Ok(HandOverChoice::TakenOver),
            "dismissed" => Ok(HandOverChoice::Dismissed),
            other => Err(StoreError::Corrupt(format!("hand-over decision {other:?}"))),
        }
    }
}

/// An offered change held here, with the decision made on this device, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct HandOverRow {
    pub offer: HandOverOffer,
    pub decision: Option<HandOverChoice>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Whether the server acknowledged the decision.
    pub decision_sent: bool,
}

const COLUMNS: &str = "change, station_id, case_id, author_id, author_name, refused_at, decision, decided_by, \
                       decided_at, decision_sent";

type RawRow =
    (String, String, String, String, Option<String>, String, Option<String>, Option<String>, Option<String>, i64);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::try_parse(text).map_err(|e| StoreError::Corrupt(format!("handed-over id: {e}")))
}

fn time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("handed-over time: {e}")))
}

fn row(
    (change, station, case, author, name, refused_at, decision, by, at, sent): RawRow,
) -> Result<HandOverRow, StoreError> {
    Ok(HandOverRow {
        offer: HandOverOffer {
            change: serde_json::from_str(&change)
                .map_err(|e| StoreError::Corrupt(format!("handed-over change: {e}")))?,
            station_id: id(&station)?,
            case_id: id(&case)?,
            author_id: id(&author)?,
            author_name: name,
            refused_at: time(&refused_at)?,
        },
        decision: decision.as_deref().map(HandOverChoice::parse).transpose()?,
        decided_by: by.as_deref().map(id).transpose()?,
        decided_at: at.as_deref().map(time).transpose()?,
        decision_sent: sent != 0,
    })
}

fn decide(
    conn: &Connection,
    change_id: Uuid,
    choice: HandOverChoice,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = conn
        .prepare_cached(
            "UPDATE handed_over SET decision = ?2, decided_by = ?3, decided_at = ?4, decision_sent = 0
             WHERE change_id = ?1 AND decision IS NULL",
        )?
        .execute(params![change_id.to_string(), choice.as_str(), by.to_string(), at.to_rfc3339()])?;
    Ok(updated == 1)
}

impl Store {
    /// Replaces the offers not decided here with the server's list (an offer decided here stays,
    /// with its decision, whatever the list says). Returns how many offers wait for a decision.
    pub fn replace_hand_over_offers(&mut self, offers: &[HandOverOffer]) -> Result<u64, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM handed_over WHERE decision IS NULL", [])?;
        for offer in offers {
            let change = serde_json::to_string(&offer.change)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode a handed-over change: {e}")))?;
            tx.prepare_cached(
                "INSERT INTO handed_over (change_id, station_id, case_id, author_id, author_name, change, refused_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (change_id) DO NOTHING",
            )?
            .execute(params![
                offer.change.change_id.to_string(),
                offer.station_id.to_string(),
                offer.case_id.to_string(),
                offer.author_id.to_string(),
                offer.author_name,
                change,
                offer.refused_at.to_rfc3339(),
            ])?;
        }
        let waiting: i64 = tx.query_row("SELECT count(*) FROM handed_over WHERE decision IS NULL", [], |r| r.get(0))?;
        tx.commit()?;
        Ok(u64::try_from(waiting).unwrap_or(0))
    }

    /// The offers waiting for a decision, of one case or all, oldest refusal first.
    pub fn hand_over_offers(&self, case_id: Option<Uuid>) -> Result<Vec<HandOverRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM handed_over WHERE decision IS NULL AND (?1 IS NULL OR case_id = ?1)
             ORDER BY refused_at, change_id"
        ))?;
        let raws = stmt.query_map(params![case_id.map(|c| c.to_string())], raw)?.collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(row).collect()
    }

    /// One offer held here, decided or not.
    pub fn hand_over_offer(&self, change_id: Uuid) -> Result<Option<HandOverRow>, StoreError> {
        let raw = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM handed_over WHERE change_id = ?1"))?
            .query_row(params![change_id.to_string()], raw)
            .optional()?;
        raw.map(row).transpose()
    }

    /// Dismisses an offer waiting for a decision; `false` when it is not waiting (unknown, or
    /// decided already): nothing changes.
    pub fn dismiss_hand_over(&mut self, change_id: Uuid, by: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        decide(&self.conn, change_id, HandOverChoice::Dismissed, by, at)
    }

    /// Takes an offer over: records `writes` (its content, as the user's own change) and marks
    /// it taken over, in one transaction. [`StoreError::RefusedChangeGone`] when it is not
    /// waiting for a decision (then nothing is written).
    pub fn take_over_hand_over(
        &mut self,
        actor: &Actor,
        change_id: Uuid,
        writes: Vec<Write>,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<Change>, StoreError> {
        let by = actor.user_id;
        self.record_then(actor, writes, now, today, |tx| {
            if decide(tx, change_id, HandOverChoice::TakenOver, by, now)? {
                Ok(())
            } else {
                Err(StoreError::RefusedChangeGone)
            }
        })
    }

    /// Decisions made here the server has not acknowledged yet, oldest first.
    pub fn pending_hand_over_decisions(&self) -> Result<Vec<(Uuid, HandOverChoice)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT change_id, decision FROM handed_over WHERE decision IS NOT NULL AND decision_sent = 0
             ORDER BY decided_at, change_id",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|(change_id, decision)| Ok((id(&change_id)?, HandOverChoice::parse(&decision)?))).collect()
    }

    /// Notes that the server acknowledged the decision on `change_id`.
    pub fn note_hand_over_decision_sent(&mut self, change_id: Uuid) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE handed_over SET decision_sent = 1 WHERE change_id = ?1")?
            .execute(params![change_id.to_string()])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(case_id: Uuid, minute: u32) -> HandOverOffer {
        let change: Change = serde_json::from_value(serde_json::json!({
            "change_id": Uuid::now_v7(),
            "device_id": Uuid::now_v7(),
            "device_seq": 1,
            "author_id": Uuid::now_v7(),
            "schema_version": domain::SCHEMA_VERSION,
            "hlc": "0019ec96fae00.00001.01a213a8b14b757a830ffea6bdf71482",
            "entity": "Case",
            "entity_id": case_id,
            "op": "update",
            "fields": { "plan_strategy": { "value": "联系家属" } }
        }))
        .expect("a change");
        HandOverOffer {
            station_id: Uuid::now_v7(),
            case_id,
            author_id: change.author_id,
            change,
            author_name: Some("李娟".into()),
            refused_at: DateTime::parse_from_rfc3339(&format!("2026-06-15T08:{minute:02}:00Z"))
                .expect("time")
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn offers_are_replaced_by_the_servers_list_and_decisions_wait_until_acknowledged() {
        let mut store = Store::open_in_memory().expect("store");
        let case = Uuid::now_v7();
        let (first, second, third) = (offer(case, 1), offer(case, 2), offer(Uuid::now_v7(), 3));
        assert_eq!(store.replace_hand_over_offers(&[second.clone(), first.clone(), third.clone()]).expect("kept"), 3);
        let listed: Vec<HandOverOffer> =
            store.hand_over_offers(Some(case)).expect("listed").into_iter().map(|r| r.offer).collect();
        assert_eq!(listed, vec![first.clone(), second.clone()], "the case's, oldest first");

        let user = Uuid::now_v7();
        let at = Utc::now();
        assert!(store.dismiss_hand_over(first.change.change_id, user, at).expect("dismissed"));
        assert!(!store.dismiss_hand_over(first.change.change_id, user, at).expect("once"));
        // The server's next list no longer has it, nor the third: the decision stays, the
        // undecided third goes.
        assert_eq!(store.replace_hand_over_offers(std::slice::from_ref(&second)).expect("kept"), 1);
        assert!(store.hand_over_offer(third.change.change_id).expect("read").is_none());
        let decided = store.hand_over_offer(first.change.change_id).expect("read").expect("kept");
        assert_eq!(
            (decided.decision, decided.decided_by, decided.decision_sent),
            (Some(HandOverChoice::Dismissed), Some(user), false)
        );
        assert_eq!(
            store.pending_hand_over_decisions().expect("pending"),
            vec![(first.change.change_id, HandOverChoice::Dismissed)]
        );
        store.note_hand_over_decision_sent(first.change.change_id).expect("noted");
        assert!(store.pending_hand_over_decisions().expect("pending").is_empty());
    }
}
