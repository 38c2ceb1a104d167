//! The hand-over step at the end of a successful round: the decisions made on this device on
//! changes handed over to its user are sent until the server acknowledges them, then the
//! server's list of offered changes replaces the undecided ones held here. See
//! `docs/sync-protocol.md`, "Offline edits of a reassigned case".

use protocol::{HandOverDecision, HandOverDecisionRequest, HandOverState};
use store::{HandOverChoice, HandOverOffer, Store};

use crate::{Engine, SyncError, Transport, TransportError};

/// The server's codes for a decision it will never take: the change is unknown to it, or no
/// longer this user's to decide (the case went to someone else again).
const NEVER_TAKEN: [&str; 2] = ["not_found", "forbidden"];

impl<T: Transport> Engine<T> {
    /// Sends the decisions waiting here, then fetches the offered changes into the store. A
    /// failure to reach the server leaves everything as it was for the next round (the decisions
    /// stay waiting): only a failure of the store is an error of the round.
    pub fn exchange_handed_over(&mut self, store: &mut Store) -> Result<(), SyncError> {
        match self.try_exchange_handed_over(store) {
            Err(SyncError::Store(e)) => Err(SyncError::Store(e)),
            Err(e) => {
                tracing::warn!(error = %e, "could not exchange handed-over changes; trying again next round");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    fn try_exchange_handed_over(&mut self, store: &mut Store) -> Result<(), SyncError> {
        for (change_id, choice) in store.pending_hand_over_decisions()? {
            let decision = match choice {
                HandOverChoice::TakenOver => HandOverDecision::TakenOver,
                HandOverChoice::Dismissed => HandOverDecision::Dismissed,
            };
            match self.transport().decide_handed_over(change_id, &HandOverDecisionRequest { decision }) {
                Ok(Some(item)) => {
                    if item.state != decision.state() {
                        tracing::info!(change = %change_id, state = ?item.state, "someone else decided on this handed-over change first");
                    }
                    store.note_hand_over_decision_sent(change_id)?;
                }
                Ok(None) => return Ok(()),
                Err(TransportError::Api(api)) if NEVER_TAKEN.contains(&api.code.as_str()) => {
                    tracing::warn!(change = %change_id, code = %api.code, "the server does not take this hand-over decision");
                    store.note_hand_over_decision_sent(change_id)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let list = match self.transport().handed_over() {
            Ok(Some(list)) => list,
            Ok(None) => return Ok(()),
            // A server older than hand-overs.
            Err(TransportError::Api(api)) if api.code == "not_found" => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let offers: Vec<HandOverOffer> = list
            .items
            .into_iter()
            .filter(|item| item.state == HandOverState::Offered)
            .map(|item| HandOverOffer {
                change: item.change,
                station_id: item.station_id,
                case_id: item.case_id,
                author_id: item.author_id,
                author_name: item.author_name,
                refused_at: item.refused_at,
            })
            .collect();
        store.replace_hand_over_offers(&offers)?;
        Ok(())
    }
}
