//! The model kept alongside the devices: every `record()` result, and for every change that
//! passed the local rules, what it may end as.
//!
//! A change that passed the local rules was valid on the device when it was made. The server
//! may still refuse it, but only because something changed in between that the device had not
//! seen: another device's edit of the same case (a stale pipeline move), a reassignment, a user
//! whose scope shrank, a clock so wrong that a date is in the server's future. The allowed codes
//! below are those explanations, per edit; anything else is a bug.

use std::collections::{BTreeMap, BTreeSet};

use domain::change::Change;
use domain::entity::EntityKind;
use uuid::Uuid;

use crate::Edit;

/// Refusals of an edit of a case that another device moved on meanwhile (a concurrent stage
/// move, closure request, decision, reopening or reassignment).
const STALE_PIPELINE: &[&str] = &[
    "skips_stages",
    "needs_screening",
    "needs_assessment",
    "needs_goal",
    "needs_intervention",
    "needs_follow_up",
    "goals_not_evaluated",
    "not_in_follow_up",
    "closure_pending",
    "case_closed",
    "closed_only_by_sign_off",
    "no_closure_request",
    "reopen_to_open_stage",
    "nothing_to_change",
    "not_assigned",
    "case_tampered",
];

/// Refusals when the user's own scope shrank after the edit: moved to another station,
/// deactivated, or the record moved away (a transfer, a reassignment).
const SCOPE_LOSS: &[&str] = &[
    "no_role",
    "outside_station",
    "not_assigned",
    "role_cannot",
    "outside_reference",
    "unknown_reference",
    "unknown_entity",
    "ineligible_worker",
];

/// Refusals of an edit of a recipient who was transferred, or got a case, meanwhile.
const RECIPIENT_MOVED: &[&str] = &["outside_station", "outside_reference", "has_open_cases", "not_assigned"];

/// Refusals of a change built on one of the same device's that was refused or lost: what it
/// names is not there.
pub const CASCADE: &[&str] = &["unknown_entity", "unknown_reference", "outside_reference"];

/// What a change made with a device clock far off may be refused for.
const WRONG_CLOCK: &[&str] = &["date_in_future"];

/// The codes a change of this edit may be refused with, in the normal course of things.
pub fn allowed_refusals(edit: Edit) -> &'static [&'static str] {
    match edit {
        Edit::NewRecipient | Edit::NewHousehold | Edit::EditHousehold => &[],
        Edit::EditRecipient | Edit::LongNotes | Edit::Transfer => RECIPIENT_MOVED,
        Edit::Visit | Edit::OpenCase => RECIPIENT_MOVED,
        Edit::Advance | Edit::MoveStage | Edit::Decide | Edit::Reassign | Edit::Reopen | Edit::EditCase => {
            STALE_PIPELINE
        }
        // Not recorded through the store.
        Edit::Forge | Edit::ForgeStamp | Edit::OtherClientVersion => &[],
    }
}

/// What became of a recorded change, as far as the faults go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Must end accepted (in the server's log) or refused for an allowed reason.
    Live,
    /// Gone for good: it never reached the server before the device's files went back in time
    /// (or the server that had it was restored from a backup too).
    LostToPowerLoss,
    /// Accepted by a server that was then restored from an older backup: the device must send
    /// it again, and it ends accepted or refused (for whatever reason: it meets another state).
    LostToServerRestore,
}

#[derive(Debug, Clone)]
pub struct Tracked {
    pub change_id: Uuid,
    pub device_id: Uuid,
    pub device_seq: u64,
    pub entity: EntityKind,
    /// The recording device's index in the world.
    pub dev: usize,
    pub device_name: String,
    pub user_id: Uuid,
    pub edit: Edit,
    /// Recorded with the device clock at year 9999 or 1970.
    pub clock_wrong: bool,
    pub mid_round: bool,
    pub fate: Fate,
    /// The refusal code the device's table showed after a round, if it did: a refused change
    /// may later be dropped with data the user may no longer hold.
    pub seen_refused: Option<String>,
}

#[derive(Default)]
pub struct Model {
    pub tracked: Vec<Tracked>,
    /// Local refusals, by edit and code (narrated with `SHEGONG_SIM_VERBOSE`).
    pub local_refusals: BTreeMap<(Edit, String), usize>,
    /// Users whose scope shrank (moved or deactivated) at some point.
    pub scope_shrank: BTreeSet<Uuid>,
    /// Whether a recipient was transferred.
    pub transferred: bool,
    /// Recorded changes by id, into `tracked`.
    pub index: BTreeMap<Uuid, usize>,
}

impl Model {
    #[allow(clippy::too_many_arguments)]
    pub fn recorded(
        &mut self,
        dev: usize,
        device_name: &str,
        user_id: Uuid,
        edit: Edit,
        changes: &[Change],
        clock_wrong: bool,
        mid_round: bool,
    ) {
        for c in changes {
            self.index.insert(c.change_id, self.tracked.len());
            self.tracked.push(Tracked {
                change_id: c.change_id,
                device_id: c.device_id,
                device_seq: c.device_seq,
                entity: c.entity,
                dev,
                device_name: device_name.to_owned(),
                user_id,
                edit,
                clock_wrong,
                mid_round,
                fate: Fate::Live,
                seen_refused: None,
            });
        }
    }

    pub fn refused_locally(&mut self, edit: Edit, code: &str) {
        *self.local_refusals.entry((edit, code.to_owned())).or_default() += 1;
    }

    /// The codes `t` may end refused with.
    pub fn allowed(&self, t: &Tracked) -> BTreeSet<&'static str> {
        let mut allowed: BTreeSet<&'static str> = allowed_refusals(t.edit).iter().copied().collect();
        if self.scope_shrank.contains(&t.user_id) || self.transferred {
            allowed.extend(SCOPE_LOSS);
        }
        // The worker a case was given to may have been moved or deactivated meanwhile.
        if !self.scope_shrank.is_empty() && matches!(t.edit, Edit::OpenCase | Edit::Reassign) {
            allowed.insert("ineligible_worker");
        }
        if t.clock_wrong {
            allowed.extend(WRONG_CLOCK);
        }
        allowed
    }
}
