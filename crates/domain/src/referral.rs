//! Referrals (转介) in both directions, and the resource library (资源库).
//!
//! A referral's state machine ([`check_referral`]): inbound, 待受理 → 已受理 or 不予受理 → 已开案
//! (or 已办结 without a case); outbound, 已转出 → 对方已接收 → 已有结果. Benefit applications
//! (协助申请) are outbound referrals to the department that decides: the station helps the
//! person apply and records the outcome as the department reported it; it never decides, grants
//! or pays (Hunan's negative list, seed 003).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::change::{Change, FieldWrite};
use crate::entity::{EntityKind, EntityState};
use crate::rules::{CheckError, Rejection, StateView};
use crate::{Id, Labelled, field};

labelled_enum! {
    pub enum ReferralDirection {
        Inbound => "转入", "Inbound",
        Outbound => "转出", "Outbound",
    }
    names = REFERRAL_DIRECTION_NAMES;
}

labelled_enum! {
    /// Who referred the person to the station, or whom the station referred them to.
    pub enum ReferralCounterpart {
        Hotline12345 => "12345热线", "12345 hotline",
        Police => "公安", "Police",
        WomensFederation => "妇联", "Women's federation",
        YouthLeague => "共青团", "Youth league",
        DisabledPersonsFederation => "残联", "Disabled persons' federation",
        CityManagement => "城管", "City management",
        CivilAffairs => "民政部门", "Civil affairs",
        Health => "卫健部门", "Health",
        Education => "教育部门", "Education",
        HumanResources => "人社部门", "Human resources",
        OtherDepartment => "其他部门", "Other department",
    }
    names = REFERRAL_COUNTERPART_NAMES;
}

labelled_enum! {
    pub enum ReferralOutcome {
        Pending => "待处理", "Pending",
        Accepted => "已受理", "Accepted",
        Resolved => "已解决", "Resolved",
        Declined => "未受理", "Declined",
    }
    names = REFERRAL_OUTCOME_NAMES;
}

labelled_enum! {
    /// Where a referral stands. Inbound: received, then accepted or declined, then a case opened
    /// (or concluded without one); outbound: sent, acknowledged by the department, concluded
    /// with the outcome it reported.
    pub enum ReferralState {
        Received => "待受理", "Received",
        Accepted => "已受理", "Accepted",
        Declined => "不予受理", "Declined",
        CaseOpened => "已开案", "Case opened",
        Sent => "已转出", "Sent",
        Acknowledged => "对方已接收", "Acknowledged by the department",
        Concluded => "已办结", "Concluded",
    }
    names = REFERRAL_STATE_NAMES;
}

labelled_enum! {
    /// Why the station refers someone. A benefit application is the station helping the person
    /// apply to the department that decides (outbound only).
    pub enum ReferralPurpose {
        Service => "服务转介", "Referral for services",
        BenefitApplication => "协助申请", "Helped apply for a benefit",
    }
    names = REFERRAL_PURPOSE_NAMES;
}

impl ReferralState {
    /// Where a referral of this direction starts.
    pub fn initial(direction: ReferralDirection) -> ReferralState {
        match direction {
            ReferralDirection::Inbound => ReferralState::Received,
            ReferralDirection::Outbound => ReferralState::Sent,
        }
    }

    /// Whether a referral of `direction` can be in this state.
    pub fn fits(self, direction: ReferralDirection) -> bool {
        use ReferralState::*;
        match direction {
            ReferralDirection::Inbound => matches!(self, Received | Accepted | Declined | CaseOpened | Concluded),
            ReferralDirection::Outbound => matches!(self, Sent | Acknowledged | Concluded),
        }
    }

    /// The states a referral may move on to from this one (none: it has its outcome).
    pub fn next(self) -> &'static [ReferralState] {
        use ReferralState::*;
        match self {
            Received => &[Accepted, Declined, CaseOpened],
            Accepted => &[CaseOpened, Concluded],
            Sent => &[Acknowledged, Concluded],
            Acknowledged => &[Concluded],
            Declined | CaseOpened | Concluded => &[],
        }
    }

    /// Whether the referral has reached an outcome (nothing left to track).
    pub fn is_final(self) -> bool {
        self.next().is_empty()
    }

    /// The outcomes a referral in this state may carry; the first is the one a move here
    /// records unless the user reports another.
    pub fn outcomes(self) -> &'static [ReferralOutcome] {
        use ReferralOutcome::*;
        match self {
            ReferralState::Received | ReferralState::Sent => &[Pending],
            ReferralState::Accepted | ReferralState::Acknowledged => &[Accepted],
            ReferralState::Declined => &[Declined],
            ReferralState::CaseOpened => &[Accepted, Resolved],
            ReferralState::Concluded => &[Resolved, Declined],
        }
    }
}

/// The state of a referral: its `state`, or, on a record an older device made (no `state`),
/// the one its direction and outcome stand for.
pub fn effective_state(
    direction: ReferralDirection,
    state: Option<ReferralState>,
    outcome: Option<ReferralOutcome>,
) -> ReferralState {
    if let Some(state) = state {
        return state;
    }
    match (direction, outcome.unwrap_or(ReferralOutcome::Pending)) {
        (ReferralDirection::Inbound, ReferralOutcome::Pending) => ReferralState::Received,
        (ReferralDirection::Inbound, ReferralOutcome::Accepted) => ReferralState::Accepted,
        (ReferralDirection::Inbound, ReferralOutcome::Resolved) => ReferralState::Concluded,
        (ReferralDirection::Inbound, ReferralOutcome::Declined) => ReferralState::Declined,
        (ReferralDirection::Outbound, ReferralOutcome::Pending) => ReferralState::Sent,
        (ReferralDirection::Outbound, ReferralOutcome::Accepted) => ReferralState::Acknowledged,
        (ReferralDirection::Outbound, ReferralOutcome::Resolved | ReferralOutcome::Declined) => {
            ReferralState::Concluded
        }
    }
}

/// Whether a referral referred on `referred_on` is overdue on `today`: no outcome yet, and more
/// than `overdue_days` days gone.
pub fn is_overdue(state: ReferralState, referred_on: NaiveDate, today: NaiveDate, overdue_days: i64) -> bool {
    !state.is_final() && (today - referred_on).num_days() > overdue_days
}

/// A referral as it would stand with a change, as [`check_referral`] judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralProposal {
    pub direction: ReferralDirection,
    pub purpose: ReferralPurpose,
    /// The state it is in now; `None` for a new referral.
    pub from: Option<ReferralState>,
    pub to: ReferralState,
    pub outcome: Option<ReferralOutcome>,
    pub has_recipient: bool,
    pub has_benefit: bool,
    pub has_opened_case: bool,
    pub referred_on: Option<NaiveDate>,
    pub responded_on: Option<NaiveDate>,
    pub concluded_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ReferralError {
    #[error("a referral {direction:?} cannot be {state:?}")]
    WrongDirection { direction: ReferralDirection, state: ReferralState },
    #[error("a referral moves on from {from:?} only to the next step, not to {to:?}")]
    IllegalMove { from: ReferralState, to: ReferralState },
    #[error("the outcome {outcome:?} does not fit a referral that is {state:?}")]
    OutcomeDisagrees { state: ReferralState, outcome: ReferralOutcome },
    #[error("a referral opens a case only with the case it opened")]
    NeedsCase,
    #[error("a case is opened for a recipient on file: choose the person or add them first")]
    NeedsRecipient,
    #[error("the case opened must be the referred recipient's")]
    CaseOfAnotherPerson,
    #[error("a benefit application goes out to the department that decides it (outbound)")]
    BenefitApplicationIsOutbound,
    #[error("the benefit applied for is required for a benefit application")]
    NeedsBenefit,
    #[error("{field} cannot be before the referral date")]
    DateBeforeReferral { field: String },
}

impl ReferralError {
    pub fn code(&self) -> &'static str {
        match self {
            ReferralError::WrongDirection { .. } => "referral_wrong_direction",
            ReferralError::IllegalMove { .. } => "referral_illegal_move",
            ReferralError::OutcomeDisagrees { .. } => "referral_outcome_disagrees",
            ReferralError::NeedsCase => "referral_needs_case",
            ReferralError::NeedsRecipient => "referral_needs_recipient",
            ReferralError::CaseOfAnotherPerson => "referral_case_of_another_person",
            ReferralError::BenefitApplicationIsOutbound => "benefit_application_is_outbound",
            ReferralError::NeedsBenefit => "benefit_required",
            ReferralError::DateBeforeReferral { .. } => "date_before_referral",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            ReferralError::WrongDirection { direction, state } => {
                format!("{}的转介不能处于「{}」", direction.zh(), state.zh())
            }
            ReferralError::IllegalMove { from, to } => {
                format!("转介须按步骤推进，不能从「{}」改为「{}」", from.zh(), to.zh())
            }
            ReferralError::OutcomeDisagrees { state, outcome } => {
                format!("结果「{}」与转介进展「{}」不符", outcome.zh(), state.zh())
            }
            ReferralError::NeedsCase => "转介开案须关联所开立的个案".into(),
            ReferralError::NeedsRecipient => "开案须对应已建档的服务对象：请选择此人，或先为其建档".into(),
            ReferralError::CaseOfAnotherPerson => "开立的个案须是被转介服务对象的个案".into(),
            ReferralError::BenefitApplicationIsOutbound => "协助申请只能转出至负责办理的部门".into(),
            ReferralError::NeedsBenefit => "请填写协助申请的事项".into(),
            ReferralError::DateBeforeReferral { field } => {
                let label = EntityKind::Referral.spec().field(field).map_or(field.as_str(), |f| f.zh);
                format!("{label}不能早于转介日期")
            }
        }
    }

    /// The field the UI marks.
    pub fn field(&self) -> &str {
        match self {
            ReferralError::WrongDirection { .. } | ReferralError::IllegalMove { .. } => field::referral::STATE,
            ReferralError::OutcomeDisagrees { .. } => field::referral::OUTCOME,
            ReferralError::NeedsCase | ReferralError::CaseOfAnotherPerson => field::referral::OPENED_CASE_ID,
            ReferralError::NeedsRecipient => field::referral::RECIPIENT_ID,
            ReferralError::BenefitApplicationIsOutbound => field::referral::PURPOSE,
            ReferralError::NeedsBenefit => field::referral::BENEFIT,
            ReferralError::DateBeforeReferral { field } => field,
        }
    }
}

/// Whether a referral may stand as `p` says: its state fits its direction and was reached by a
/// legal step (a new referral may be recorded at any state, after the fact), its outcome fits
/// its state, an opened case names the case and the person, a benefit application is outbound
/// and names the benefit, and no date is before the referral's.
pub fn check_referral(p: &ReferralProposal) -> Result<(), ReferralError> {
    if !p.to.fits(p.direction) {
        return Err(ReferralError::WrongDirection { direction: p.direction, state: p.to });
    }
    if let Some(from) = p.from
        && from != p.to
        && !from.next().contains(&p.to)
    {
        return Err(ReferralError::IllegalMove { from, to: p.to });
    }
    let outcome = p.outcome.unwrap_or(ReferralOutcome::Pending);
    if !p.to.outcomes().contains(&outcome) {
        return Err(ReferralError::OutcomeDisagrees { state: p.to, outcome });
    }
    if p.to == ReferralState::CaseOpened {
        if !p.has_recipient {
            return Err(ReferralError::NeedsRecipient);
        }
        if !p.has_opened_case {
            return Err(ReferralError::NeedsCase);
        }
    }
    if p.purpose == ReferralPurpose::BenefitApplication {
        if p.direction != ReferralDirection::Outbound {
            return Err(ReferralError::BenefitApplicationIsOutbound);
        }
        if !p.has_benefit {
            return Err(ReferralError::NeedsBenefit);
        }
    }
    for (name, date) in
        [(field::referral::RESPONDED_ON, p.responded_on), (field::referral::CONCLUDED_ON, p.concluded_on)]
    {
        if let (Some(referred), Some(date)) = (p.referred_on, date)
            && date < referred
        {
            return Err(ReferralError::DateBeforeReferral { field: name.into() });
        }
    }
    Ok(())
}

/// [`check_referral`] for a change to a referral, as `rules::check_change` calls it, with
/// `proposed` the record as it would stand. A writer that moves the outcome without the state
/// (an older device, which has no `state`) has the state set here to the one the outcome stands
/// for, as if it had written it.
pub(crate) fn check_referral_change(
    change: &mut Change,
    current: Option<&EntityState>,
    proposed: &mut BTreeMap<String, Value>,
    view: &dyn StateView,
) -> Result<(), CheckError> {
    let text = |map: &BTreeMap<String, Value>, name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
    let present = |map: &BTreeMap<String, Value>, name: &str| map.get(name).is_some_and(|v| !v.is_null());
    let date = |map: &BTreeMap<String, Value>, name: &str| {
        text(map, name).and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
    };
    // The spec makes the direction required and fixed; a record without one is not judged here.
    let Some(direction) = text(proposed, field::referral::DIRECTION).and_then(|s| ReferralDirection::parse(&s)) else {
        return Ok(());
    };
    let outcome = text(proposed, field::referral::OUTCOME).and_then(|s| ReferralOutcome::parse(&s));
    let from = current.map(|c| {
        effective_state(
            direction,
            c.get_enum::<ReferralState>(field::referral::STATE),
            c.get_enum::<ReferralOutcome>(field::referral::OUTCOME),
        )
    });
    if let Some(from) = from
        && change.touches(field::referral::OUTCOME)
        && !change.touches(field::referral::STATE)
        && !from.outcomes().contains(&outcome.unwrap_or(ReferralOutcome::Pending))
    {
        let state = effective_state(direction, None, outcome);
        let base = current.map(|c| c.clock(field::referral::STATE).hlc);
        let value = Value::from(state.as_str());
        change
            .fields
            .insert(field::referral::STATE.into(), FieldWrite { value: value.clone(), base, resolves: Vec::new() });
        proposed.insert(field::referral::STATE.into(), value);
    }
    let state = text(proposed, field::referral::STATE).and_then(|s| ReferralState::parse(&s));
    let proposal = ReferralProposal {
        direction,
        purpose: text(proposed, field::referral::PURPOSE)
            .and_then(|s| ReferralPurpose::parse(&s))
            .unwrap_or(ReferralPurpose::Service),
        from,
        to: effective_state(direction, state, outcome),
        outcome,
        has_recipient: present(proposed, field::referral::RECIPIENT_ID),
        has_benefit: present(proposed, field::referral::BENEFIT),
        has_opened_case: present(proposed, field::referral::OPENED_CASE_ID),
        referred_on: date(proposed, field::referral::REFERRED_ON),
        responded_on: date(proposed, field::referral::RESPONDED_ON),
        concluded_on: date(proposed, field::referral::CONCLUDED_ON),
    };
    check_referral(&proposal).map_err(Rejection::Referral)?;
    // The case opened is the referred person's (check_references has found it, of this station).
    let id_of = |name: &str| text(proposed, name).and_then(|s| Id::try_parse(&s).ok());
    if let Some(case_id) = id_of(field::referral::OPENED_CASE_ID) {
        let case = view.entity(EntityKind::Case, case_id)?;
        if case.and_then(|c| c.get_id(field::case::RECIPIENT_ID)) != id_of(field::referral::RECIPIENT_ID) {
            return Err(Rejection::Referral(ReferralError::CaseOfAnotherPerson).into());
        }
    }
    Ok(())
}

/// A referral, tracked to an outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    pub id: Id,
    pub station_id: Id,
    pub recipient_id: Option<Id>,
    pub direction: ReferralDirection,
    pub counterpart: ReferralCounterpart,
    pub reason: String,
    pub referred_on: NaiveDate,
    pub outcome: ReferralOutcome,
    pub outcome_notes: Option<String>,
    /// Absent on a record an older device made: see [`effective_state`].
    #[serde(default)]
    pub state: Option<ReferralState>,
    #[serde(default)]
    pub purpose: Option<ReferralPurpose>,
    #[serde(default)]
    pub benefit: Option<String>,
    #[serde(default)]
    pub counterpart_detail: Option<String>,
    #[serde(default)]
    pub person_name: Option<String>,
    #[serde(default)]
    pub responded_on: Option<NaiveDate>,
    #[serde(default)]
    pub concluded_on: Option<NaiveDate>,
    #[serde(default)]
    pub opened_case_id: Option<Id>,
}

labelled_enum! {
    pub enum ResourceKind {
        Charity => "慈善组织", "Charity",
        VolunteerTeam => "志愿服务队", "Volunteer team",
        Enterprise => "企业", "Enterprise",
        CommunityOrganisation => "社区社会组织", "Community organisation",
        GovernmentProgramme => "政府项目", "Government programme",
    }
    names = RESOURCE_KIND_NAMES;
}

/// An entry of the station's resource library, linked into case plans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub id: Id,
    pub station_id: Id,
    pub kind: ResourceKind,
    pub name: String,
    pub contact_name: Option<String>,
    /// Free text: a landline or a mobile number.
    pub contact_phone: Option<String>,
    pub services: Option<String>,
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReferralDirection::{Inbound, Outbound};
    use ReferralState::*;

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 11, d)
    }

    /// An inbound referral received on the 1st, for a person on file, moving `from` → `to`.
    fn proposal(direction: ReferralDirection, from: Option<ReferralState>, to: ReferralState) -> ReferralProposal {
        ReferralProposal {
            direction,
            purpose: ReferralPurpose::Service,
            from,
            to,
            outcome: to.outcomes().first().copied(),
            has_recipient: true,
            has_benefit: false,
            has_opened_case: to == CaseOpened,
            referred_on: day(1),
            responded_on: None,
            concluded_on: None,
        }
    }

    fn check(direction: ReferralDirection, from: ReferralState, to: ReferralState) -> Result<(), ReferralError> {
        check_referral(&proposal(direction, Some(from), to))
    }

    #[test]
    fn an_inbound_referral_is_accepted_or_declined_then_opens_a_case() {
        let legal = [(Received, Accepted), (Received, Declined), (Received, CaseOpened), (Accepted, CaseOpened)];
        for (from, to) in legal {
            assert_eq!(check(Inbound, from, to), Ok(()), "{from:?} → {to:?}");
        }
        assert_eq!(check(Inbound, Accepted, Concluded), Ok(()), "served without a case");
        for (from, to) in [(Declined, CaseOpened), (CaseOpened, Received), (Accepted, Received), (Declined, Accepted)] {
            assert_eq!(check(Inbound, from, to), Err(ReferralError::IllegalMove { from, to }), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn an_outbound_referral_is_acknowledged_then_concluded_with_the_departments_outcome() {
        for (from, to) in [(Sent, Acknowledged), (Acknowledged, Concluded), (Sent, Concluded)] {
            assert_eq!(check(Outbound, from, to), Ok(()), "{from:?} → {to:?}");
        }
        assert_eq!(
            check(Outbound, Concluded, Acknowledged),
            Err(ReferralError::IllegalMove { from: Concluded, to: Acknowledged })
        );
        assert_eq!(
            check(Outbound, Sent, CaseOpened),
            Err(ReferralError::WrongDirection { direction: Outbound, state: CaseOpened })
        );
        assert_eq!(
            check(Inbound, Received, Acknowledged),
            Err(ReferralError::WrongDirection { direction: Inbound, state: Acknowledged })
        );
    }

    #[test]
    fn a_new_referral_may_be_recorded_at_any_state_of_its_direction() {
        for state in ReferralState::ALL {
            let expected = if state.fits(Outbound) {
                Ok(())
            } else {
                Err(ReferralError::WrongDirection { direction: Outbound, state: *state })
            };
            assert_eq!(check_referral(&proposal(Outbound, None, *state)), expected, "{state:?}");
        }
    }

    #[test]
    fn the_outcome_fits_the_state() {
        let cases = [
            (Received, ReferralOutcome::Accepted, false),
            (Received, ReferralOutcome::Pending, true),
            (Declined, ReferralOutcome::Declined, true),
            (Declined, ReferralOutcome::Resolved, false),
            (CaseOpened, ReferralOutcome::Resolved, true),
            (Concluded, ReferralOutcome::Pending, false),
            (Concluded, ReferralOutcome::Declined, true),
        ];
        for (state, outcome, fits) in cases {
            let p = ReferralProposal { outcome: Some(outcome), ..proposal(Inbound, None, state) };
            let expected = if fits { Ok(()) } else { Err(ReferralError::OutcomeDisagrees { state, outcome }) };
            assert_eq!(check_referral(&p), expected, "{state:?} with {outcome:?}");
        }
    }

    #[test]
    fn a_case_is_opened_for_a_person_on_file_and_names_the_case() {
        let without_person = ReferralProposal { has_recipient: false, ..proposal(Inbound, Some(Received), CaseOpened) };
        assert_eq!(check_referral(&without_person), Err(ReferralError::NeedsRecipient));
        let without_case = ReferralProposal { has_opened_case: false, ..proposal(Inbound, Some(Received), CaseOpened) };
        assert_eq!(check_referral(&without_case), Err(ReferralError::NeedsCase));
        let without_person_yet = ReferralProposal { has_recipient: false, ..proposal(Inbound, None, Received) };
        assert_eq!(check_referral(&without_person_yet), Ok(()), "a referral may name a person not yet on file");
    }

    #[test]
    fn a_benefit_application_goes_out_and_names_the_benefit() {
        let application = |direction, has_benefit| ReferralProposal {
            purpose: ReferralPurpose::BenefitApplication,
            has_benefit,
            ..proposal(direction, None, ReferralState::initial(direction))
        };
        assert_eq!(check_referral(&application(Outbound, true)), Ok(()));
        assert_eq!(check_referral(&application(Outbound, false)), Err(ReferralError::NeedsBenefit));
        assert_eq!(check_referral(&application(Inbound, true)), Err(ReferralError::BenefitApplicationIsOutbound));
    }

    #[test]
    fn no_date_is_before_the_referral() {
        let early = ReferralProposal {
            referred_on: day(5),
            responded_on: day(4),
            ..proposal(Inbound, Some(Received), Accepted)
        };
        let error = check_referral(&early).expect_err("before");
        assert_eq!(error.field(), field::referral::RESPONDED_ON);
        assert_eq!(error.code(), "date_before_referral");
        assert!(error.message_zh().contains("受理或接收日期"), "{}", error.message_zh());
        let same_day = ReferralProposal {
            referred_on: day(5),
            concluded_on: day(5),
            ..proposal(Inbound, Some(Received), CaseOpened)
        };
        assert_eq!(check_referral(&same_day), Ok(()));
    }

    #[test]
    fn a_record_of_an_older_device_reads_its_state_from_its_outcome() {
        let cases = [
            (Inbound, ReferralOutcome::Pending, Received),
            (Inbound, ReferralOutcome::Accepted, Accepted),
            (Inbound, ReferralOutcome::Declined, Declined),
            (Outbound, ReferralOutcome::Pending, Sent),
            (Outbound, ReferralOutcome::Accepted, Acknowledged),
            (Outbound, ReferralOutcome::Resolved, Concluded),
        ];
        for (direction, outcome, state) in cases {
            assert_eq!(effective_state(direction, None, Some(outcome)), state, "{direction:?} {outcome:?}");
            assert!(state.outcomes().contains(&outcome), "the state read fits the outcome it came from");
        }
        assert_eq!(effective_state(Inbound, Some(CaseOpened), Some(ReferralOutcome::Accepted)), CaseOpened);
    }

    #[test]
    fn a_referral_is_overdue_past_the_threshold_until_it_has_an_outcome() {
        let (referred, today) = (day(1).unwrap_or_default(), day(20).unwrap_or_default());
        assert!(is_overdue(Received, referred, today, 15));
        assert!(!is_overdue(Received, referred, today, 19), "19 days gone is not over 19");
        assert!(is_overdue(Acknowledged, referred, today, 15));
        for state in [Declined, CaseOpened, Concluded] {
            assert!(!is_overdue(state, referred, today, 1), "{state:?}");
        }
    }

    #[test]
    fn every_error_has_a_distinct_code_and_both_languages() {
        let errors = [
            ReferralError::WrongDirection { direction: Inbound, state: Sent },
            ReferralError::IllegalMove { from: Declined, to: Accepted },
            ReferralError::OutcomeDisagrees { state: Received, outcome: ReferralOutcome::Resolved },
            ReferralError::NeedsCase,
            ReferralError::NeedsRecipient,
            ReferralError::CaseOfAnotherPerson,
            ReferralError::BenefitApplicationIsOutbound,
            ReferralError::NeedsBenefit,
            ReferralError::DateBeforeReferral { field: field::referral::CONCLUDED_ON.into() },
        ];
        let mut codes: Vec<&str> = errors.iter().map(ReferralError::code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        for error in &errors {
            assert!(!error.message_zh().is_empty() && !error.to_string().is_empty());
            assert!(EntityKind::Referral.spec().field(error.field()).is_some(), "{error:?} marks a field of the form");
        }
    }
}
