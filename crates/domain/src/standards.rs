//! The standards supervision, training and working time are held against, as data: each city's
//! rules from the policy seeds (`../shared/seeds/`) in one table ([`rules`]), chosen per station
//! ([`StandardSet`], `station.standard_set`, set by the deputy head), and one pure evaluation
//! ([`check`]): a station's or a worker's records over the rule's period, as of a date, give
//! met, on track (pro rata for the part of the period already past) or behind.
//!
//! Amounts are whole minutes (hours × 60), counts, or per mille for a share: never floats.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::workforce::{SupervisionMode, TrainingKind, WorkKind};

labelled_enum! {
    /// The set of rules a station is held against, named after the policy that sets them.
    /// Hunan's thresholds depend on the level of the station (市级 or 县级): one set each.
    pub enum StandardSet {
        Dongguan => "东莞（2021）", "Dongguan (2021)",
        Guangdong => "广东“双百”", "Guangdong Shuangbai",
        Beijing => "北京（2021）", "Beijing (2021)",
        HunanCity => "湖南（市级）", "Hunan (city level)",
        HunanCounty => "湖南（县级）", "Hunan (county level)",
        Zhengzhou => "郑州（2022）", "Zhengzhou (2022)",
    }
    names = STANDARD_SET_NAMES;
}

/// Whose records a rule counts: a whole station's, or each worker's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    Station,
    Worker,
}

/// The stretch of time a rule counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Period {
    /// The calendar month of the day asked about.
    Month,
    /// The calendar year of the day asked about.
    Year,
    /// Everything up to the day asked about (pre-service training is done once).
    Career,
}

/// What a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Measure {
    /// Supervision sessions held.
    SupervisionSessions,
    /// Minutes of supervision, on site or remote.
    SupervisionMinutes,
    /// Minutes of supervision on site.
    OnSiteSupervisionMinutes,
    /// Minutes of training of one kind, or of any kind (`None`).
    TrainingMinutes(Option<TrainingKind>),
    /// Professional service time in all working time, per mille.
    ProfessionalShare,
}

impl Measure {
    /// Whether the amount only grows over the period (minutes, sessions), so that the part
    /// already due can be pro rata; a share goes up and down.
    fn accumulates(self) -> bool {
        self != Measure::ProfessionalShare
    }
}

/// How much a rule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Threshold {
    /// The same amount every period.
    Amount(u64),
    /// `base` in `base_year`, `step` more each year after, up to `last_year`'s (the plan's last
    /// year: later years keep its target until a new plan sets another).
    RisingYearly { base_year: i32, base: u64, step: u64, last_year: i32 },
}

impl Threshold {
    /// The amount asked for in a period that ends in `year`.
    pub fn amount(self, year: i32) -> u64 {
        match self {
            Threshold::Amount(amount) => amount,
            Threshold::RisingYearly { base_year, base, step, last_year } => {
                let years = u64::try_from(year.clamp(base_year, last_year.max(base_year)) - base_year).unwrap_or(0);
                base.saturating_add(step.saturating_mul(years))
            }
        }
    }
}

/// One rule of a standard set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub measure: Measure,
    pub scope: Scope,
    pub period: Period,
    pub threshold: Threshold,
    /// What the rule asks, in words, as the policy says it.
    pub zh: &'static str,
    pub en: &'static str,
}

const fn rule(
    scope: Scope,
    period: Period,
    measure: Measure,
    threshold: u64,
    zh: &'static str,
    en: &'static str,
) -> Rule {
    Rule { measure, scope, period, threshold: Threshold::Amount(threshold), zh, en }
}

const HOUR: u64 = 60;
use Measure::*;
use Period::{Career, Month, Year};
use Scope::{Station, Worker};

/// Hunan 2021–2023 item 5: professional service time ≥30 % of all working time in 2021, 10 %
/// more each year.
const HUNAN_SHARE: Rule = Rule {
    measure: ProfessionalShare,
    scope: Worker,
    period: Year,
    threshold: Threshold::RisingYearly { base_year: 2021, base: 300, step: 100, last_year: 2023 },
    zh: "专业服务时长占全年工作时长（2021年≥30%，每年增加10%）",
    en: "professional service in all working time (≥30 % in 2021, 10 % more each year)",
};

const DONGGUAN: &[Rule] = &[
    rule(Station, Month, SupervisionSessions, 1, "每月每站督导≥1次", "≥1 supervision a month per station"),
    rule(
        Station,
        Month,
        SupervisionMinutes,
        16 * HOUR,
        "每月每站督导≥16小时",
        "≥16 h of supervision a month per station",
    ),
    rule(
        Worker,
        Career,
        TrainingMinutes(Some(TrainingKind::PreService)),
        15 * HOUR,
        "岗前培训≥15小时",
        "≥15 h of pre-service training",
    ),
    rule(
        Worker,
        Year,
        TrainingMinutes(Some(TrainingKind::Practice)),
        48 * HOUR,
        "实务能力培训每年≥48小时",
        "≥48 h of practice training a year",
    ),
    rule(
        Worker,
        Year,
        TrainingMinutes(Some(TrainingKind::Policy)),
        8 * HOUR,
        "政策培训每年≥8小时",
        "≥8 h of policy training a year",
    ),
];
const GUANGDONG: &[Rule] = &[rule(
    Station,
    Month,
    OnSiteSupervisionMinutes,
    12 * HOUR,
    "每站每月实地督导≥12小时",
    "≥12 h of supervision on site a month per station",
)];
const BEIJING: &[Rule] =
    &[rule(Station, Year, SupervisionMinutes, 60 * HOUR, "每年专业督导≥60小时", "≥60 h of supervision a year")];
const HUNAN_CITY: &[Rule] = &[
    rule(
        Worker,
        Year,
        SupervisionMinutes,
        12 * HOUR,
        "驻站社工每年接受督导≥12小时",
        "≥12 h of supervision a year per worker",
    ),
    rule(
        Worker,
        Year,
        TrainingMinutes(None),
        20 * HOUR,
        "驻站社工每年专业培训≥20小时",
        "≥20 h of training a year per worker",
    ),
    HUNAN_SHARE,
];
const HUNAN_COUNTY: &[Rule] = &[
    rule(
        Worker,
        Year,
        SupervisionMinutes,
        24 * HOUR,
        "驻站社工每年接受督导≥24小时",
        "≥24 h of supervision a year per worker",
    ),
    rule(
        Worker,
        Year,
        TrainingMinutes(None),
        40 * HOUR,
        "驻站社工每年专业培训≥40小时",
        "≥40 h of training a year per worker",
    ),
    HUNAN_SHARE,
];
const ZHENGZHOU: &[Rule] = &[rule(
    Worker,
    Year,
    TrainingMinutes(Some(TrainingKind::ContinuingEducation)),
    60 * HOUR,
    "每年继续教育≥60学时",
    "≥60 h of continuing education a year",
)];

/// The rules of a standard set.
pub fn rules(set: StandardSet) -> &'static [Rule] {
    match set {
        StandardSet::Dongguan => DONGGUAN,
        StandardSet::Guangdong => GUANGDONG,
        StandardSet::Beijing => BEIJING,
        StandardSet::HunanCity => HUNAN_CITY,
        StandardSet::HunanCounty => HUNAN_COUNTY,
        StandardSet::Zhengzhou => ZHENGZHOU,
    }
}

/// A supervision session as the standards count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFact {
    pub held_on: NaiveDate,
    pub minutes: u32,
    pub mode: SupervisionMode,
}

/// A training record as the standards count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainingFact {
    pub trained_on: NaiveDate,
    pub minutes: u32,
    pub kind: TrainingKind,
}

/// A stretch of working time as the standards count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkFact {
    pub worked_on: NaiveDate,
    pub minutes: u32,
    pub kind: WorkKind,
}

/// The records of one subject: a station (its sessions), or a worker (the sessions held at
/// their station, which its resident workers take part in, and their own training and time).
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    pub sessions: &'a [SessionFact],
    pub training: &'a [TrainingFact],
    pub work: &'a [WorkFact],
}

/// The days a rule counts over, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    /// The period that holds `today`.
    pub fn of(period: Period, today: NaiveDate) -> Window {
        let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
        match period {
            Period::Month => {
                let from = today.with_day(1).unwrap_or(today);
                let next = from.checked_add_months(chrono::Months::new(1)).unwrap_or(NaiveDate::MAX);
                Window { from, to: next.pred_opt().unwrap_or(today) }
            }
            Period::Year => {
                Window { from: year_start, to: NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today) }
            }
            Period::Career => Window { from: NaiveDate::MIN, to: today },
        }
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// Where a subject stands against a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Standing {
    /// The amount is reached (a share: at or over its target).
    Met,
    /// Not yet reached, but at least the part due by now (pro rata for the days of the period
    /// already past); a share at its target while the period runs.
    OnTrack,
    /// Under the part due by now, or the period ended short of it.
    Behind,
}

impl Standing {
    pub fn zh(self) -> &'static str {
        match self {
            Standing::Met => "已达标",
            Standing::OnTrack => "进度正常",
            Standing::Behind => "落后",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Standing::Met => "met",
            Standing::OnTrack => "on track",
            Standing::Behind => "behind",
        }
    }
}

/// One rule checked for one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub standing: Standing,
    /// What the subject has: minutes, sessions, or per mille.
    pub achieved: u64,
    /// What the rule asks for over the whole period.
    pub required: u64,
    /// The part of `required` due by `today`.
    pub due_by_now: u64,
    pub window: Window,
}

/// How much of `measure` the facts hold within `window`.
pub fn tally(measure: Measure, facts: &Facts, window: Window) -> u64 {
    let minutes = |m: u32| u64::from(m);
    let sessions = facts.sessions.iter().filter(|s| window.contains(s.held_on));
    match measure {
        Measure::SupervisionSessions => sessions.count() as u64,
        Measure::SupervisionMinutes => sessions.map(|s| minutes(s.minutes)).sum(),
        Measure::OnSiteSupervisionMinutes => {
            sessions.filter(|s| s.mode == SupervisionMode::OnSite).map(|s| minutes(s.minutes)).sum()
        }
        Measure::TrainingMinutes(kind) => facts
            .training
            .iter()
            .filter(|t| window.contains(t.trained_on) && kind.is_none_or(|k| k == t.kind))
            .map(|t| minutes(t.minutes))
            .sum(),
        Measure::ProfessionalShare => {
            let work = facts.work.iter().filter(|w| window.contains(w.worked_on));
            let (professional, all) = work.fold((0u64, 0u64), |(p, a), w| {
                let m = minutes(w.minutes);
                (if w.kind.is_professional() { p + m } else { p }, a + m)
            });
            (professional * 1000).checked_div(all).unwrap_or(0)
        }
    }
}

/// Where an amount `achieved` stands against `required` in `window`, as of `today`.
pub fn evaluate(measure: Measure, achieved: u64, required: u64, window: Window, today: NaiveDate) -> Evaluation {
    let over = today > window.to;
    // Only the days before today are past: on the first day of a month nothing is due yet.
    let past_days = (today - window.from).num_days().clamp(0, window.days());
    let due_by_now = if over || window.from == NaiveDate::MIN {
        required
    } else if measure.accumulates() {
        u64::try_from(i128::from(required) * i128::from(past_days) / i128::from(window.days().max(1)))
            .unwrap_or(required)
    } else {
        required
    };
    let standing = if achieved >= required && (measure.accumulates() || over) {
        Standing::Met
    } else if !over && achieved >= due_by_now && window.from != NaiveDate::MIN {
        Standing::OnTrack
    } else {
        Standing::Behind
    };
    Evaluation { standing, achieved, required, due_by_now, window }
}

/// A rule checked against a subject's facts as of `today`, over the period holding `today`.
pub fn check(rule: &Rule, facts: &Facts, today: NaiveDate) -> Evaluation {
    let window = Window::of(rule.period, today);
    let required = rule.threshold.amount(window.to.year());
    evaluate(rule.measure, tally(rule.measure, facts, window), required, window, today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Labelled;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    fn session(on: &str, hours: u32, mode: SupervisionMode) -> SessionFact {
        SessionFact { held_on: day(on), minutes: hours * 60, mode }
    }

    fn training(on: &str, hours: u32, kind: TrainingKind) -> TrainingFact {
        TrainingFact { trained_on: day(on), minutes: hours * 60, kind }
    }

    fn work(on: &str, hours: u32, kind: WorkKind) -> WorkFact {
        WorkFact { worked_on: day(on), minutes: hours * 60, kind }
    }

    /// Each set's rules as (scope, period, measure, amount in the year given), checked against
    /// the numbers of the seeds.
    #[test]
    fn each_set_holds_the_seeds_numbers() {
        type Row = (Scope, Period, Measure, u64);
        let table: &[(StandardSet, i32, &[Row])] = &[
            (
                StandardSet::Dongguan,
                2026,
                &[
                    (Station, Month, SupervisionSessions, 1),
                    (Station, Month, SupervisionMinutes, 960),
                    (Worker, Career, TrainingMinutes(Some(TrainingKind::PreService)), 900),
                    (Worker, Year, TrainingMinutes(Some(TrainingKind::Practice)), 2880),
                    (Worker, Year, TrainingMinutes(Some(TrainingKind::Policy)), 480),
                ],
            ),
            (StandardSet::Guangdong, 2026, &[(Station, Month, OnSiteSupervisionMinutes, 720)]),
            (StandardSet::Beijing, 2026, &[(Station, Year, SupervisionMinutes, 3600)]),
            (
                StandardSet::HunanCity,
                2021,
                &[
                    (Worker, Year, SupervisionMinutes, 720),
                    (Worker, Year, TrainingMinutes(None), 1200),
                    (Worker, Year, ProfessionalShare, 300),
                ],
            ),
            (
                StandardSet::HunanCounty,
                2022,
                &[
                    (Worker, Year, SupervisionMinutes, 1440),
                    (Worker, Year, TrainingMinutes(None), 2400),
                    (Worker, Year, ProfessionalShare, 400),
                ],
            ),
            (
                StandardSet::Zhengzhou,
                2026,
                &[(Worker, Year, TrainingMinutes(Some(TrainingKind::ContinuingEducation)), 3600)],
            ),
        ];
        for (set, year, expected) in table {
            let actual: Vec<Row> =
                rules(*set).iter().map(|r| (r.scope, r.period, r.measure, r.threshold.amount(*year))).collect();
            assert_eq!(&actual, expected, "{set:?}");
        }
        assert_eq!(StandardSet::ALL.len(), table.len(), "every set is in the table");
    }

    #[test]
    fn hunans_share_rises_ten_points_a_year_through_the_plans_last_year() {
        let share = HUNAN_SHARE.threshold;
        let by_year: Vec<u64> = (2020..=2026).map(|y| share.amount(y)).collect();
        assert_eq!(by_year, [300, 300, 400, 500, 500, 500, 500]);
    }

    /// (sessions of the month, today, standing) against Dongguan's 16 hours a month.
    #[test]
    fn a_stations_monthly_hours_are_met_on_track_pro_rata_or_behind() {
        let rule = rules(StandardSet::Dongguan)[1];
        let on_site = SupervisionMode::OnSite;
        let cases: &[(&[SessionFact], &str, Standing, u64)] = &[
            (&[session("2026-11-03", 8, on_site), session("2026-11-20", 8, on_site)], "2026-11-25", Standing::Met, 768),
            // Day 16 of 30: 15 days past, half the hours due.
            (&[session("2026-11-03", 8, on_site)], "2026-11-16", Standing::OnTrack, 480),
            (&[session("2026-11-03", 8, on_site)], "2026-11-17", Standing::Behind, 512),
            // Nothing is due on the first day of the month.
            (&[], "2026-11-01", Standing::OnTrack, 0),
            // Last month's sessions do not count for this one.
            (&[session("2026-10-30", 16, on_site)], "2026-11-25", Standing::Behind, 768),
        ];
        for (sessions, today, standing, due) in cases {
            let facts = Facts { sessions, ..Facts::default() };
            let evaluation = check(&rule, &facts, day(today));
            assert_eq!((evaluation.standing, evaluation.due_by_now), (*standing, *due), "{today} {sessions:?}");
            assert_eq!(evaluation.required, 960);
        }
    }

    #[test]
    fn guangdong_counts_only_supervision_on_site() {
        let rule = rules(StandardSet::Guangdong)[0];
        let sessions =
            [session("2026-11-02", 8, SupervisionMode::OnSite), session("2026-11-03", 8, SupervisionMode::Remote)];
        let evaluation = check(&rule, &Facts { sessions: &sessions, ..Facts::default() }, day("2026-11-30"));
        assert_eq!((evaluation.achieved, evaluation.standing), (480, Standing::Behind));
    }

    #[test]
    fn training_counts_its_own_kind_and_pre_service_is_met_or_behind_with_no_pro_rata() {
        let records = [
            training("2026-03-01", 10, TrainingKind::PreService),
            training("2026-05-01", 8, TrainingKind::Policy),
            training("2025-05-01", 40, TrainingKind::Practice),
        ];
        let facts = Facts { training: &records, ..Facts::default() };
        let [_, _, pre_service, practice, policy] = rules(StandardSet::Dongguan) else { panic!("five rules") };
        let today = day("2026-06-30");
        assert_eq!(
            check(pre_service, &facts, today).standing,
            Standing::Behind,
            "10 h of 15, and no period to wait for"
        );
        assert_eq!(check(policy, &facts, today).standing, Standing::Met);
        let practice = check(practice, &facts, today);
        assert_eq!((practice.achieved, practice.standing), (0, Standing::Behind), "last year's hours do not count");
        let hunan_training = check(&rules(StandardSet::HunanCity)[1], &facts, today);
        assert_eq!((hunan_training.achieved, hunan_training.standing), (18 * 60, Standing::OnTrack), "any kind counts");
    }

    #[test]
    fn the_professional_share_divides_professional_service_by_all_working_time() {
        let time = [
            work("2026-02-01", 3, WorkKind::Casework),
            work("2026-02-02", 2, WorkKind::Visit),
            work("2026-02-03", 5, WorkKind::Administrative),
            work("2025-02-03", 90, WorkKind::Administrative),
        ];
        let facts = Facts { work: &time, ..Facts::default() };
        let during = check(&HUNAN_SHARE, &facts, day("2026-03-01"));
        assert_eq!((during.achieved, during.required, during.standing), (500, 500, Standing::OnTrack));
        let after = evaluate(ProfessionalShare, 500, 500, Window::of(Year, day("2026-03-01")), day("2027-01-01"));
        assert_eq!(after.standing, Standing::Met);
        let short = evaluate(ProfessionalShare, 499, 500, Window::of(Year, day("2026-03-01")), day("2026-03-01"));
        assert_eq!(short.standing, Standing::Behind, "a share has no pro rata");
        assert_eq!(check(&HUNAN_SHARE, &Facts::default(), day("2026-03-01")).achieved, 0, "no time recorded");
    }

    #[test]
    fn a_period_that_ended_short_is_behind() {
        let window = Window::of(Month, day("2026-10-15"));
        assert_eq!(window, Window { from: day("2026-10-01"), to: day("2026-10-31") });
        assert_eq!(evaluate(SupervisionMinutes, 959, 960, window, day("2026-11-01")).standing, Standing::Behind);
        assert_eq!(evaluate(SupervisionMinutes, 960, 960, window, day("2026-11-01")).standing, Standing::Met);
        assert_eq!(Window::of(Month, day("2026-12-31")).to, day("2026-12-31"));
    }

    #[test]
    fn standings_read_in_both_languages() {
        let words: Vec<(&str, &str)> =
            [Standing::Met, Standing::OnTrack, Standing::Behind].iter().map(|s| (s.zh(), s.en())).collect();
        assert_eq!(words, [("已达标", "met"), ("进度正常", "on track"), ("落后", "behind")]);
        assert_eq!(StandardSet::parse("HunanCounty"), Some(StandardSet::HunanCounty));
        assert_eq!(StandardSet::parse("Hunan"), None);
    }
}
