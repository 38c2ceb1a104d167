//! Reports (统计报表): a station's monthly report, quarterly review and yearly evaluation, built
//! from the store's figures for a period of local dates as a [`Report`] (sections of tables with
//! bilingual headings), exported as `.xlsx` or PDF by the `report` crate into a folder; and the
//! charts of the deputy head's board and the supervisor's queue (visits per month, cases per
//! stage at each month's end).
//!
//! Each section is one function of [`STATION_SECTIONS`], given the store and the [`Scope`]; a new
//! section (activities, supervision hours, ...) is one more function in that list. Who may see a
//! station's report is `domain::policy::authorize`: whoever may read every case of the station
//! (its deputy head, its supervisors).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, Months, NaiveDate};
use contract::{
    Bilingual, Cell, ExportFormat, ExportedFile, Language, MonthCount, MonthStages, NamedRef, Report, ReportPeriod,
    ReportSection, ReportTable, StageCount, StationCharts,
};
use domain::activity::ActivityKind;
use domain::case::{ServiceMethod, ServiceType, Stage};
use domain::entity::EntityKind;
use domain::entity::EntityState;
use domain::field;
use domain::money;
use domain::policy::{self, Action, Actor, Target};
use domain::referral::{ReferralCounterpart, ReferralDirection, ReferralOutcome, ReferralState, ResourceKind};
use domain::rules::Rejection;
use domain::standards::{Facts, Measure, Rule, Scope as RuleScope, StandardSet, Standing, Window, WorkFact};
use domain::workforce::{Qualification, SupervisionMode, TrainingKind};
use domain::{Id, Labelled};
use store::{CaseStages, Store};

use crate::{AppError, standards};

/// What a report covers: the station, the period and its dates, and the day it is made.
#[derive(Debug, Clone)]
pub struct Scope {
    pub station_id: Id,
    pub period: ReportPeriod,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub today: NaiveDate,
}

impl Scope {
    /// The last day counted: the period's end, or today while the period runs.
    pub fn until(&self) -> NaiveDate {
        self.to.min(self.today).max(self.from)
    }
}

/// One section of a station's report; `None` when it does not apply to the period.
pub type SectionFn = fn(&Store, &Scope) -> Result<Option<ReportSection>, AppError>;

/// The sections of a station's report, in order.
pub const STATION_SECTIONS: &[SectionFn] = &[
    recipients_section,
    visits_section,
    cases_section,
    referrals_section,
    services_section,
    activities_section,
    supervision_and_training_section,
    professional_time_section,
    year_end_section,
];

fn b(zh: &str, en: &str) -> Bilingual {
    Bilingual::new(zh, en)
}

fn table(id: &str, heading: Bilingual, columns: Vec<Bilingual>, rows: Vec<Vec<Cell>>) -> ReportTable {
    ReportTable { id: id.into(), heading, columns, rows }
}

fn section(id: &str, heading: Bilingual, tables: Vec<ReportTable>, notes: Vec<Bilingual>) -> Option<ReportSection> {
    Some(ReportSection { id: id.into(), heading, tables, notes })
}

/// Where `value` is in its vocabulary (the order reports list it in).
fn position<T: PartialEq>(all: &[T], value: T) -> usize {
    all.iter().position(|x| *x == value).unwrap_or(usize::MAX)
}

fn hours(minutes: u64) -> f64 {
    (minutes as f64 / 6.0).round() / 10.0
}

/// The stations `actor` may see reports of, by name: a deputy head's own, a supervisor's.
pub fn report_stations(store: &Store, actor: &Actor) -> Result<Vec<NamedRef>, AppError> {
    let mut out = Vec::new();
    for station_id in actor.stations() {
        if authorized(actor, station_id).is_ok() {
            out.push(NamedRef { id: station_id, name: station_name(store, station_id)? });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn authorized(actor: &Actor, station_id: Id) -> Result<(), AppError> {
    let target = Target { kind: EntityKind::Case, station_id: Some(station_id), case_worker_id: None };
    policy::authorize(actor, Action::Read, &target).map_err(|d| AppError::Rejected(Rejection::Denied(d)))
}

/// The station asked for, or the user's first when none is named; refused unless the user may
/// read every case of it.
fn report_station(store: &Store, actor: &Actor, station_id: Option<Id>) -> Result<Id, AppError> {
    let station_id = match station_id {
        Some(id) => id,
        None => match report_stations(store, actor)?.first() {
            Some(station) => station.id,
            None => actor.stations().first().copied().unwrap_or_default(),
        },
    };
    authorized(actor, station_id)?;
    Ok(station_id)
}

fn station_name(store: &Store, station_id: Id) -> Result<String, AppError> {
    Ok(store
        .entity(EntityKind::Station, station_id)?
        .and_then(|s| s.get_str(field::station::NAME).map(str::to_owned))
        .unwrap_or_default())
}

fn bad_period(e: contract::BadPeriod) -> AppError {
    AppError::BadPeriod(e)
}

/// The station's report for `period` (the user's own station when `station_id` is `None`).
pub fn station_report(
    store: &Store,
    actor: &Actor,
    station_id: Option<Id>,
    period: ReportPeriod,
    today: NaiveDate,
) -> Result<Report, AppError> {
    let station_id = report_station(store, actor, station_id)?;
    let (from, to) = period.bounds().map_err(bad_period)?;
    let scope = Scope { station_id, period, from, to, today };
    let mut sections = Vec::new();
    for make in STATION_SECTIONS {
        sections.extend(make(store, &scope)?);
    }
    let label = period.label();
    Ok(Report {
        title: period.report_title(),
        station_id,
        station_name: station_name(store, station_id)?,
        period: Some(period),
        subtitle: Bilingual::new(
            format!("{}（{} 至 {}）", label.zh, from, to),
            format!("{} ({from} to {to})", label.en),
        ),
        made_on: today,
        sections,
    })
}

/// The station's report written to `folder` as `format` in `language`: the file's name says the
/// station, the kind of report and the period (`城关社工站-月度服务报告-2026-11.xlsx`).
#[allow(clippy::too_many_arguments)]
pub fn export_station_report(
    store: &Store,
    actor: &Actor,
    station_id: Option<Id>,
    period: ReportPeriod,
    format: ExportFormat,
    language: Language,
    folder: &Path,
    today: NaiveDate,
) -> Result<ExportedFile, AppError> {
    let report = station_report(store, actor, station_id, period, today)?;
    let name = format!("{}-{}-{}", report.station_name, report.title.get(language), period);
    write_report(&report, &name, format, language, folder)
}

/// `report` rendered as `format` into `folder/<name>.<extension>` (the name made safe for any
/// file system; a file of that name is replaced).
pub fn write_report(
    report: &Report,
    name: &str,
    format: ExportFormat,
    language: Language,
    folder: &Path,
) -> Result<ExportedFile, AppError> {
    let bytes = match format {
        ExportFormat::Xlsx => report::render_xlsx(report, language),
        ExportFormat::Pdf => report::ReportFont::find().and_then(|font| report::render_pdf(report, language, &font)),
    }
    .map_err(AppError::Render)?;
    std::fs::create_dir_all(folder)?;
    let file_name = format!("{}.{}", safe_file_name(name), format.extension());
    let path = folder.join(&file_name);
    // Written beside and renamed, so a reader never sees half a file.
    let partial = folder.join(format!(".{file_name}.partial"));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, &path)?;
    Ok(ExportedFile { path: path.display().to_string(), file_name, folder: folder.display().to_string() })
}

/// A file name from any text: path separators, reserved and control characters become `_`;
/// at most 80 characters; never empty.
pub fn safe_file_name(name: &str) -> String {
    let clean: String =
        name.chars()
            .map(|c| {
                if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                    '_'
                } else {
                    c
                }
            })
            .take(80)
            .collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    if clean.is_empty() { "report".into() } else { clean.to_owned() }
}

/// 服务对象: the people on the station's roster by category.
pub fn recipients_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    let (by_category, people) = store.recipients_by_category(scope.station_id)?;
    let mut rows: Vec<Vec<Cell>> =
        by_category.iter().map(|(c, n)| vec![Cell::Label(Bilingual::label(*c)), Cell::Count(*n)]).collect();
    rows.push(vec![Cell::Label(b("在册人数合计", "People on the roster")), Cell::Count(people)]);
    Ok(section(
        "recipients",
        b("服务对象", "Recipients"),
        vec![table(
            "recipients-by-category",
            b("按对象类别（在册）", "By category (on the roster)"),
            vec![b("对象类别", "Category"), b("人数", "People")],
            rows,
        )],
        vec![b("一人属多个类别的，在各类别下分别计数。", "A person of several categories counts under each.")],
    ))
}

/// 入户走访: the period's home visits by worker and by village.
pub fn visits_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    let counts = store.station_counts(scope.station_id, scope.from, scope.to)?;
    let named = |list: &[store::NamedCount]| -> Vec<Vec<Cell>> {
        let mut rows: Vec<Vec<Cell>> = list
            .iter()
            .map(|c| vec![Cell::Text(c.name.clone().unwrap_or_else(|| "—".into())), Cell::Count(c.count)])
            .collect();
        rows.push(vec![Cell::Label(b("合计", "Total")), Cell::Count(list.iter().map(|c| c.count).sum())]);
        rows
    };
    Ok(section(
        "visits",
        b("入户走访", "Home visits"),
        vec![
            table(
                "visits-by-worker",
                b("按社工", "By worker"),
                vec![b("社工", "Worker"), b("走访次数", "Visits")],
                named(&counts.visits_by_worker),
            ),
            table(
                "visits-by-village",
                b("按村(社区)", "By village"),
                vec![b("村(社区)", "Village"), b("走访次数", "Visits")],
                named(&counts.visits_by_village),
            ),
        ],
        vec![b("更正的走访不另计。", "A corrected visit counts once.")],
    ))
}

/// The stage of each case at the end of `day`, counted per stage in pipeline order.
pub fn stage_counts_on(cases: &[CaseStages], day: NaiveDate) -> Vec<StageCount> {
    Stage::ALL
        .iter()
        .map(|stage| StageCount {
            stage: *stage,
            count: cases.iter().filter(|c| c.stage_on(day) == Some(*stage)).count() as u64,
        })
        .collect()
}

/// 个案: cases opened and closed in the period, and per stage those at its end and those that
/// entered the stage during it.
pub fn cases_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    let cases = store.case_stages(scope.station_id)?;
    let within = |d: NaiveDate| d >= scope.from && d <= scope.to;
    let at_end = stage_counts_on(&cases, scope.until());
    let entered = |stage: Stage| {
        cases.iter().filter(|c| c.entries.iter().any(|e| e.stage == stage && within(e.on))).count() as u64
    };
    let rows = at_end
        .iter()
        .map(|s| vec![Cell::Label(Bilingual::label(s.stage)), Cell::Count(s.count), Cell::Count(entered(s.stage))])
        .collect();
    let opened = cases.iter().filter(|c| within(c.opened_on)).count() as u64;
    let in_service = at_end.iter().filter(|s| s.stage != Stage::Closed).map(|s| s.count).sum();
    let summary = vec![
        vec![Cell::Label(b("本期开案", "Opened in the period")), Cell::Count(opened)],
        vec![Cell::Label(b("本期结案", "Closed in the period")), Cell::Count(entered(Stage::Closed))],
        vec![Cell::Label(b("期末在案（未结案）", "Open at the period's end")), Cell::Count(in_service)],
    ];
    Ok(section(
        "cases",
        b("个案服务", "Cases"),
        vec![
            table(
                "cases-summary",
                b("开案与结案", "Opened and closed"),
                vec![b("项目", "Item"), b("个案数", "Cases")],
                summary,
            ),
            table(
                "cases-by-stage",
                b("按阶段", "By stage"),
                vec![
                    b("阶段", "Stage"),
                    b("期末个案数", "At the period's end"),
                    b("本期进入该阶段", "Entered in the period"),
                ],
                rows,
            ),
        ],
        vec![b("结案以督导签署同意结案之日计。", "A case counts as closed on the day its closure was signed off.")],
    ))
}

/// 转介: the period's referrals by direction and counterpart, a column per outcome.
pub fn referrals_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    let counts = store.referral_counts(scope.station_id, scope.from, scope.to)?;
    let mut grouped: BTreeMap<(usize, usize), BTreeMap<usize, u64>> = BTreeMap::new();
    for c in &counts {
        let key = (position(ReferralDirection::ALL, c.direction), position(ReferralCounterpart::ALL, c.counterpart));
        *grouped.entry(key).or_default().entry(position(ReferralOutcome::ALL, c.outcome)).or_default() += c.count;
    }
    let mut rows = Vec::new();
    for ((direction, counterpart), outcomes) in &grouped {
        let (Some(direction), Some(counterpart)) =
            (ReferralDirection::ALL.get(*direction), ReferralCounterpart::ALL.get(*counterpart))
        else {
            continue;
        };
        let mut row = vec![Cell::Label(Bilingual::label(*direction)), Cell::Label(Bilingual::label(*counterpart))];
        row.extend((0..ReferralOutcome::ALL.len()).map(|o| Cell::Count(outcomes.get(&o).copied().unwrap_or(0))));
        row.push(Cell::Count(outcomes.values().sum()));
        rows.push(row);
    }
    let mut columns = vec![b("方向", "Direction"), b("转介单位", "Counterpart")];
    columns.extend(ReferralOutcome::ALL.iter().map(|o| Bilingual::label(*o)));
    columns.push(b("合计", "Total"));
    let by_state = referrals_by_state(store, scope)?;
    Ok(section(
        "referrals",
        b("转介", "Referrals"),
        vec![table("referrals-by-counterpart", b("按来源与结果", "By source and outcome"), columns, rows), by_state],
        vec![b(
            "“按进展”以转介当前所处的环节计；旧设备登记、未记进展的转介按其结果折算。",
            "“By state” counts where each referral stands now; one recorded without a state counts as its outcome stands for.",
        )],
    ))
}

/// The period's referrals by direction and counterpart, a column per state of a referral of
/// that direction (`ReferralState::fits`), then the total.
fn referrals_by_state(store: &Store, scope: &Scope) -> Result<ReportTable, AppError> {
    let counts = store.referral_state_counts(scope.station_id, scope.from, scope.to)?;
    let mut rows = Vec::new();
    for direction in ReferralDirection::ALL {
        for counterpart in ReferralCounterpart::ALL {
            let of: Vec<&store::ReferralStateCount> =
                counts.iter().filter(|c| c.direction == *direction && c.counterpart == *counterpart).collect();
            if of.is_empty() {
                continue;
            }
            let mut row = vec![Cell::Label(Bilingual::label(*direction)), Cell::Label(Bilingual::label(*counterpart))];
            row.extend(ReferralState::ALL.iter().map(|state| {
                if state.fits(*direction) {
                    Cell::Count(of.iter().filter(|c| c.state == *state).map(|c| c.count).sum())
                } else {
                    Cell::Empty
                }
            }));
            row.push(Cell::Count(of.iter().map(|c| c.count).sum()));
            rows.push(row);
        }
    }
    let mut columns = vec![b("方向", "Direction"), b("转介单位", "Counterpart")];
    columns.extend(ReferralState::ALL.iter().map(|s| Bilingual::label(*s)));
    columns.push(b("合计", "Total"));
    Ok(table("referrals-by-state", b("按来源与进展", "By source and state"), columns, rows))
}

/// 服务内容与方法: the period's interventions by service type and method, with their hours.
pub fn services_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    let mut counts = store.service_counts(scope.station_id, scope.from, scope.to)?;
    let order = |t: ServiceType, m: ServiceMethod| {
        (ServiceType::ALL.iter().position(|x| *x == t), ServiceMethod::ALL.iter().position(|x| *x == m))
    };
    counts.sort_by_key(|c| order(c.service_type, c.method));
    let by_type = counts
        .iter()
        .map(|c| {
            vec![
                Cell::Label(Bilingual::label(c.service_type)),
                Cell::Label(Bilingual::label(c.method)),
                Cell::Count(c.count),
                Cell::Hours(hours(c.minutes)),
            ]
        })
        .collect();
    let by_method = ServiceMethod::ALL
        .iter()
        .map(|m| {
            let of: Vec<_> = counts.iter().filter(|c| c.method == *m).collect();
            vec![
                Cell::Label(Bilingual::label(*m)),
                Cell::Count(of.iter().map(|c| c.count).sum()),
                Cell::Hours(hours(of.iter().map(|c| c.minutes).sum())),
            ]
        })
        .collect();
    Ok(section(
        "services",
        b("服务内容与方法", "Services by type and method"),
        vec![
            table(
                "services-by-type",
                b("按服务内容", "By service type"),
                vec![
                    b("服务内容", "Service"),
                    b("服务方法", "Method"),
                    b("次数", "Sessions"),
                    b("时长(小时)", "Hours"),
                ],
                by_type,
            ),
            table(
                "services-by-method",
                b("按服务方法", "By method"),
                vec![b("服务方法", "Method"), b("次数", "Sessions"), b("时长(小时)", "Hours")],
                by_method,
            ),
        ],
        vec![b(
            "个案服务记录，更正的记录以最后一次更正为准。",
            "Case interventions; a corrected record counts as last corrected.",
        )],
    ))
}

/// 活动与参与人数: the period's activities by kind: how many, their hours, their participants
/// (the recipients linked and the others counted) and the workers who ran them.
pub fn activities_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    let counts = store.activity_counts(scope.station_id, scope.from, scope.to)?;
    let mut names: BTreeMap<Id, String> = BTreeMap::new();
    for id in counts.iter().flat_map(|c| c.worker_ids.iter()) {
        if !names.contains_key(id) {
            let name = store
                .entity(EntityKind::User, *id)?
                .and_then(|u| u.get_str(field::user::DISPLAY_NAME).map(str::to_owned));
            names.insert(*id, name.unwrap_or_else(|| "—".into()));
        }
    }
    let workers = |ids: &mut dyn Iterator<Item = &Id>| {
        let mut list: Vec<&str> = ids.filter_map(|id| names.get(id).map(String::as_str)).collect();
        list.sort_unstable();
        list.dedup();
        Cell::Text(list.join("、"))
    };
    let row = |label: Cell, of: &[&store::ActivityCount], workers: Cell| {
        let sum = |f: fn(&store::ActivityCount) -> u64| of.iter().map(|c| f(c)).sum::<u64>();
        vec![
            label,
            Cell::Count(sum(|c| c.count)),
            Cell::Hours(hours(sum(|c| c.minutes))),
            Cell::Count(sum(|c| c.recipients_linked)),
            Cell::Count(sum(|c| c.others_counted)),
            Cell::Count(sum(|c| c.recipients_linked.saturating_add(c.others_counted))),
            workers,
        ]
    };
    let mut rows: Vec<Vec<Cell>> = ActivityKind::ALL
        .iter()
        .map(|kind| {
            let of: Vec<&store::ActivityCount> = counts.iter().filter(|c| c.kind == *kind).collect();
            let who = workers(&mut of.iter().flat_map(|c| c.worker_ids.iter()));
            row(Cell::Label(Bilingual::label(*kind)), &of, who)
        })
        .collect();
    let all: Vec<&store::ActivityCount> = counts.iter().collect();
    rows.push(row(Cell::Label(b("合计", "Total")), &all, workers(&mut names.keys())));
    Ok(section(
        "activities",
        b("活动与参与人数", "Activities and participants"),
        vec![table(
            "activities-by-kind",
            b("按活动类型", "By kind of activity"),
            vec![
                b("活动类型", "Kind"),
                b("场次", "Activities"),
                b("时长(小时)", "Hours"),
                b("服务对象参与", "Recipients linked"),
                b("其他参与人数", "Others counted"),
                b("参与人次", "Participants"),
                b("组织社工", "Run by"),
            ],
            rows,
        )],
        vec![b(
            "参与人次为登记的服务对象与另计的其他参与者之和；一人参加多场的，每场分别计。",
            "Participants are the recipients linked and the others counted; a person at several activities counts at each.",
        )],
    ))
}

/// The standard set the station chose, if it chose one.
fn standard_set_of(store: &Store, station_id: Id) -> Result<Option<StandardSet>, AppError> {
    Ok(store
        .entity(EntityKind::Station, station_id)?
        .and_then(|s| s.get_enum::<StandardSet>(field::station::STANDARD_SET)))
}

/// What a rule's amount reads as: hours for minutes, a count for sessions, a percent for a share.
fn amount_cell(measure: Measure, amount: u64) -> Cell {
    match measure {
        Measure::SupervisionSessions => Cell::Count(amount),
        Measure::ProfessionalShare => Cell::Percent(amount as f64 / 10.0),
        Measure::SupervisionMinutes | Measure::OnSiteSupervisionMinutes | Measure::TrainingMinutes(_) => {
            Cell::Hours(hours(amount))
        }
    }
}

fn standing_cell(standing: Standing) -> Cell {
    Cell::Label(b(standing.zh(), standing.en()))
}

/// The days of the report counted: from its first to its last day counted.
fn period_window(scope: &Scope) -> Window {
    Window { from: scope.from, to: scope.until() }
}

/// A worker's records among the station's (those whose `worker_id` is theirs).
fn of_worker(states: &[EntityState], worker: Id) -> Vec<EntityState> {
    states.iter().filter(|s| s.get_id(field::WORKER_ID) == Some(worker)).cloned().collect()
}

/// A worker's training hours in `window` (from their `facts`), a cell per kind then the total:
/// the one tally both the supervision-and-training section and the year's staff development show.
fn training_hours(facts: &Facts, window: Window) -> Vec<Cell> {
    let tally = |kind| Cell::Hours(hours(domain::standards::tally(Measure::TrainingMinutes(kind), facts, window)));
    let mut cells: Vec<Cell> = TrainingKind::ALL.iter().map(|k| tally(Some(*k))).collect();
    cells.push(tally(None));
    cells
}

/// The columns of [`training_hours`].
fn training_hours_columns() -> Vec<Bilingual> {
    let mut columns: Vec<Bilingual> = TrainingKind::ALL.iter().map(|k| Bilingual::label(*k)).collect();
    columns.push(b("合计(小时)", "Total hours"));
    columns
}

/// 督导与培训: the period's supervision at the station (sessions and hours, on site and
/// remote), each worker's training hours by kind, and where the station and each worker stand
/// against the rules of the station's chosen standards (`domain::standards::check`, over each
/// rule's own month or year holding the report's last day counted).
pub fn supervision_and_training_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    let window = period_window(scope);
    let sessions = standards::session_facts(&store.list(EntityKind::SupervisionSession, Some(scope.station_id))?);
    let training = store.list(EntityKind::TrainingRecord, Some(scope.station_id))?;
    let station_facts = Facts { sessions: &sessions, ..Facts::default() };
    let total = domain::standards::tally(Measure::SupervisionMinutes, &station_facts, window);
    let on_site = domain::standards::tally(Measure::OnSiteSupervisionMinutes, &station_facts, window);
    let held = |mode: Option<SupervisionMode>| {
        sessions.iter().filter(|s| window.contains(s.held_on) && mode.is_none_or(|m| m == s.mode)).count() as u64
    };
    let supervision = vec![
        vec![
            Cell::Label(Bilingual::label(SupervisionMode::OnSite)),
            Cell::Count(held(Some(SupervisionMode::OnSite))),
            Cell::Hours(hours(on_site)),
        ],
        vec![
            Cell::Label(Bilingual::label(SupervisionMode::Remote)),
            Cell::Count(held(Some(SupervisionMode::Remote))),
            Cell::Hours(hours(total.saturating_sub(on_site))),
        ],
        vec![Cell::Label(b("合计", "Total")), Cell::Count(held(None)), Cell::Hours(hours(total))],
    ];
    let standard_set = standard_set_of(store, scope.station_id)?;
    let rules: Vec<&Rule> = standard_set
        .map(domain::standards::rules)
        .unwrap_or_default()
        .iter()
        .filter(|r| r.measure != Measure::ProfessionalShare)
        .collect();
    let as_of = scope.until();
    let standing_row = |subject: Cell, rule: &Rule, facts: &Facts| {
        let evaluation = domain::standards::check(rule, facts, as_of);
        vec![
            subject,
            Cell::Label(b(rule.zh, rule.en)),
            amount_cell(rule.measure, evaluation.achieved),
            amount_cell(rule.measure, evaluation.required),
            standing_cell(evaluation.standing),
        ]
    };
    let mut standings: Vec<Vec<Cell>> = rules
        .iter()
        .filter(|r| r.scope == RuleScope::Station)
        .map(|rule| standing_row(Cell::Label(b("本站", "The station")), rule, &station_facts))
        .collect();
    let mut by_worker = Vec::new();
    for worker in standards::station_workers(store, scope.station_id)? {
        let training = standards::training_facts(&of_worker(&training, worker.id));
        let facts = Facts { sessions: &sessions, training: &training, work: &[] };
        let mut row = vec![Cell::Text(worker.display_name.clone())];
        row.extend(training_hours(&facts, window));
        by_worker.push(row);
        for rule in rules.iter().filter(|r| r.scope == RuleScope::Worker) {
            standings.push(standing_row(Cell::Text(worker.display_name.clone()), rule, &facts));
        }
    }
    let mut training_columns = vec![b("社工", "Worker")];
    training_columns.extend(training_hours_columns());
    let mut tables = vec![
        table(
            "supervision-by-mode",
            b("督导（按方式）", "Supervision by mode"),
            vec![b("督导方式", "Mode"), b("次数", "Sessions"), b("时长(小时)", "Hours")],
            supervision,
        ),
        table(
            "training-by-worker",
            b("培训时数（按社工、类别）", "Training hours by worker and kind"),
            training_columns,
            by_worker,
        ),
    ];
    let mut notes = vec![b("培训时数单位为小时。", "Training is in hours.")];
    match standard_set {
        Some(set) => {
            tables.push(table(
                "supervision-training-standards",
                Bilingual::new(format!("对照标准：{}", set.zh()), format!("Against the standards: {}", set.en())),
                vec![
                    b("对象", "Subject"),
                    b("标准", "Standard"),
                    b("已完成", "Done"),
                    b("要求", "Required"),
                    b("达标情况", "Standing"),
                ],
                standings,
            ));
            notes.push(b(
                "达标情况按各标准自身的周期（月、年或累计）截至本期最后一日计，进度按已过天数折算。",
                "Each standard is checked over its own period (month, year or career) up to the last day of the report, pro rata for the days past.",
            ));
        }
        None => notes.push(b("本站尚未选择适用的标准。", "The station has not chosen its standards.")),
    }
    Ok(section("supervision-training", b("督导与培训时数", "Supervision and training hours"), tables, notes))
}

/// 专业服务时长占比: each worker's professional service time over all their working time in the
/// period, and the station's, against the share the station's standards ask for where they ask
/// for one (judged over the report's period: a share is a share of whatever time it covers).
pub fn professional_time_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    let window = period_window(scope);
    let work = store.list(EntityKind::WorkTime, Some(scope.station_id))?;
    let share_rule = standard_set_of(store, scope.station_id)?
        .map(domain::standards::rules)
        .unwrap_or_default()
        .iter()
        .find(|r| r.measure == Measure::ProfessionalShare);
    let as_of = scope.until();
    let row = |subject: Cell, facts: &[WorkFact]| {
        let within = facts.iter().filter(|w| window.contains(w.worked_on));
        let (professional, all) = within.fold((0u64, 0u64), |(p, a), w| {
            let m = u64::from(w.minutes);
            (if w.kind.is_professional() { p + m } else { p }, a + m)
        });
        let share =
            domain::standards::tally(Measure::ProfessionalShare, &Facts { work: facts, ..Facts::default() }, window);
        let mut row = vec![
            subject,
            Cell::Hours(hours(professional)),
            Cell::Hours(hours(all)),
            if all == 0 { Cell::Empty } else { amount_cell(Measure::ProfessionalShare, share) },
        ];
        if let Some(rule) = share_rule {
            let required = rule.threshold.amount(as_of.year());
            let evaluation = domain::standards::evaluate(rule.measure, share, required, window, as_of);
            row.push(amount_cell(rule.measure, required));
            row.push(if all == 0 { Cell::Empty } else { standing_cell(evaluation.standing) });
        }
        row
    };
    let mut rows = Vec::new();
    for worker in standards::station_workers(store, scope.station_id)? {
        let facts = standards::work_facts(&of_worker(&work, worker.id));
        rows.push(row(Cell::Text(worker.display_name.clone()), &facts));
    }
    // The station's share counts every record of its time, a former worker's too.
    rows.push(row(Cell::Label(b("全站", "The station")), &standards::work_facts(&work)));
    let mut columns = vec![
        b("社工", "Worker"),
        b("专业服务(小时)", "Professional service (hours)"),
        b("工作总时长(小时)", "All working time (hours)"),
        b("占比", "Share"),
    ];
    let mut notes = vec![b(
        "专业服务指个案服务、小组工作、社区活动和入户走访；未登记工作时长的，占比留空。",
        "Professional service is casework, group work, community activities and home visits; no share without working time recorded.",
    )];
    match share_rule {
        Some(rule) => {
            columns.push(b("标准要求", "Standard"));
            columns.push(b("达标情况", "Standing"));
            notes.push(b(rule.zh, rule.en));
        }
        None => notes.push(b(
            "本站所选标准未规定专业服务时长占比。",
            "The station's standards set no share of professional time.",
        )),
    }
    Ok(section(
        "professional-time",
        b("专业服务时长占比", "Share of professional service time"),
        vec![table("professional-time-by-worker", b("按社工", "By worker"), columns, rows)],
        notes,
    ))
}

/// The yearly evaluation's summary sections (Beijing's pilot asks for 任务完成、资金使用、服务开展、
/// 人才培养、问题建议): what the figures say (tasks done, the charity money and goods linked, the
/// workers' qualifications and training), and the parts written by hand (the station's own
/// budget, problems and suggestions) left to fill in.
pub fn year_end_section(store: &Store, scope: &Scope) -> Result<Option<ReportSection>, AppError> {
    if !matches!(scope.period, ReportPeriod::Year { .. }) {
        return Ok(None);
    }
    let counts = store.station_counts(scope.station_id, scope.from, scope.to)?;
    let cases = store.case_stages(scope.station_id)?;
    let within = |d: NaiveDate| d >= scope.from && d <= scope.to;
    let served = cases
        .iter()
        .filter(|c| {
            c.opened_on <= scope.to && c.stage_on(scope.from.pred_opt().unwrap_or(scope.from)) != Some(Stage::Closed)
        })
        .count() as u64;
    let closed = cases.iter().filter(|c| c.entries.iter().any(|e| e.stage == Stage::Closed && within(e.on))).count();
    let services = store.service_counts(scope.station_id, scope.from, scope.to)?;
    let rows = vec![
        vec![
            Cell::Label(b("入户走访次数", "Home visits")),
            Cell::Count(counts.visits_by_worker.iter().map(|c| c.count).sum()),
        ],
        vec![Cell::Label(b("服务个案数", "Cases served")), Cell::Count(served)],
        vec![Cell::Label(b("结案个案数", "Cases closed")), Cell::Count(closed as u64)],
        vec![Cell::Label(b("个案服务次数", "Case sessions")), Cell::Count(services.iter().map(|s| s.count).sum())],
        vec![
            Cell::Label(b("个案服务时长(小时)", "Case service hours")),
            Cell::Hours(hours(services.iter().map(|s| s.minutes).sum())),
        ],
    ];
    let to_write = |zh: &str, en: &str| {
        Bilingual::new(format!("{zh}：（由站点填写）"), format!("{en}: (to be written by the station)"))
    };
    let (workers, by_qualification) = staff_development(store, scope)?;
    Ok(section(
        "year-end",
        b("年度总结", "Year-end summary"),
        vec![
            table("tasks-done", b("任务完成情况", "Tasks done"), vec![b("项目", "Item"), b("数量", "Figure")], rows),
            use_of_funds(store, scope)?,
            workers,
            by_qualification,
        ],
        vec![
            b(
                "资金使用情况：慈善款物为当年链接给服务对象的资源所记金额，按链接日期计，单位为元。",
                "Use of funds: the charity money and goods recorded on the year's resource links, by the day linked, in yuan.",
            ),
            to_write("站点自有经费使用情况", "The station's own budget"),
            b("服务开展情况：见“服务内容与方法”一节。", "Services: see the section on services by type and method."),
            b(
                "人才培养情况：各社工的职业水平与当年培训时数（小时），及按职业水平的人数。",
                "Staff development: each worker's qualification and the year's training hours, and the workers by qualification.",
            ),
            to_write("存在问题和建议", "Problems and suggestions"),
        ],
    ))
}

/// 资金使用情况: the charity money and goods linked for recipients in the period, by resource
/// (library resources by kind and name, then links naming none), with the total.
fn use_of_funds(store: &Store, scope: &Scope) -> Result<ReportTable, AppError> {
    let mut totals = store.resource_link_totals(scope.station_id, scope.from, scope.to)?;
    // Links naming no resource last, a resource not held here before them.
    totals.sort_by(|a, b| {
        let key = |t: &store::ResourceLinkTotal| {
            (t.resource_id.is_none(), t.kind.map_or(usize::MAX, |k| position(ResourceKind::ALL, k)), t.name.clone())
        };
        key(a).cmp(&key(b))
    });
    let yuan = |fen: i64| Cell::Text(money::format_fen(fen));
    let mut rows: Vec<Vec<Cell>> = totals
        .iter()
        .map(|t| {
            let (kind, name) = match t.resource_id {
                None => (Cell::Empty, Cell::Label(b("未关联资源库的链接", "Links to no resource of the library"))),
                Some(_) => (
                    t.kind.map_or(Cell::Empty, |k| Cell::Label(Bilingual::label(k))),
                    Cell::Text(t.name.clone().unwrap_or_else(|| "—".into())),
                ),
            };
            vec![kind, name, yuan(t.money_fen), yuan(t.goods_value_fen), Cell::Count(t.links)]
        })
        .collect();
    let sum = |f: fn(&store::ResourceLinkTotal) -> i64| totals.iter().map(f).fold(0i64, i64::saturating_add);
    rows.push(vec![
        Cell::Label(b("合计", "Total")),
        Cell::Empty,
        yuan(sum(|t| t.money_fen)),
        yuan(sum(|t| t.goods_value_fen)),
        Cell::Count(totals.iter().map(|t| t.links).sum()),
    ]);
    Ok(table(
        "funds-by-resource",
        b("资金使用情况：慈善款物（按资源）", "Use of funds: charity money and goods by resource"),
        vec![
            b("资源类别", "Kind"),
            b("资源", "Resource"),
            b("慈善款(元)", "Charity money (yuan)"),
            b("物资折价(元)", "Value of the goods (yuan)"),
            b("链接次数", "Links"),
        ],
        rows,
    ))
}

/// 人才培养情况: each worker's qualification and training hours by kind in the period, and the
/// workers by qualification (those with none recorded last).
fn staff_development(store: &Store, scope: &Scope) -> Result<(ReportTable, ReportTable), AppError> {
    let window = period_window(scope);
    let training = store.list(EntityKind::TrainingRecord, Some(scope.station_id))?;
    let workers = standards::station_workers(store, scope.station_id)?;
    let rows = workers
        .iter()
        .map(|worker| {
            let training = standards::training_facts(&of_worker(&training, worker.id));
            let mut row = vec![
                Cell::Text(worker.display_name.clone()),
                worker.qualification.map_or(Cell::Empty, |q| Cell::Label(Bilingual::label(q))),
            ];
            row.extend(training_hours(&Facts { training: &training, ..Facts::default() }, window));
            row
        })
        .collect();
    let mut columns = vec![b("社工", "Worker"), b("职业水平", "Qualification")];
    columns.extend(training_hours_columns());
    let of = |q: Option<Qualification>| workers.iter().filter(|w| w.qualification == q).count() as u64;
    let mut counts: Vec<Vec<Cell>> =
        Qualification::ALL.iter().map(|q| vec![Cell::Label(Bilingual::label(*q)), Cell::Count(of(Some(*q)))]).collect();
    counts.push(vec![Cell::Label(b("未登记职业水平", "No qualification recorded")), Cell::Count(of(None))]);
    counts.push(vec![Cell::Label(b("合计", "Total")), Cell::Count(workers.len() as u64)]);
    Ok((
        table(
            "staff-development",
            b("人才培养情况：职业水平与培训时数（小时）", "Staff development: qualification and training hours"),
            columns,
            rows,
        ),
        table(
            "workers-by-qualification",
            b("人才培养情况：按职业水平", "Staff development: workers by qualification"),
            vec![b("职业水平", "Qualification"), b("人数", "Workers")],
            counts,
        ),
    ))
}

/// The last day of `month`'s month, or `today` for the month holding it.
fn month_end(month: NaiveDate, today: NaiveDate) -> NaiveDate {
    let next = month.checked_add_months(Months::new(1)).unwrap_or(month);
    next.pred_opt().unwrap_or(month).min(today)
}

/// The station's charts: home visits per month and the cases in each stage at each month's end,
/// for the twelve months to today's.
pub fn station_charts(
    store: &Store,
    actor: &Actor,
    station_id: Option<Id>,
    today: NaiveDate,
) -> Result<StationCharts, AppError> {
    let station_id = report_station(store, actor, station_id)?;
    let this_month = today.with_day(1).unwrap_or(today);
    let months: Vec<NaiveDate> = (0..12).rev().filter_map(|n| this_month.checked_sub_months(Months::new(n))).collect();
    let first = months.first().copied().unwrap_or(this_month);
    let visits = store.visits_by_month(station_id, first, today)?;
    let cases = store.case_stages(station_id)?;
    let key = |m: NaiveDate| m.format("%Y-%m").to_string();
    Ok(StationCharts {
        station_id,
        station_name: station_name(store, station_id)?,
        visits_by_month: months
            .iter()
            .map(|m| MonthCount {
                month: key(*m),
                count: visits.iter().find(|(k, _)| *k == key(*m)).map_or(0, |(_, n)| *n),
            })
            .collect(),
        stages_by_month: months
            .iter()
            .map(|m| MonthStages { month: key(*m), stages: stage_counts_on(&cases, month_end(*m, today)) })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_for_any_file_system() {
        assert_eq!(safe_file_name("城关社工站-月度服务报告-2026-11"), "城关社工站-月度服务报告-2026-11");
        assert_eq!(safe_file_name("a/b\\c:d"), "a_b_c_d");
        assert_eq!(safe_file_name("../.."), "_.."); // no way up out of the folder
        assert_eq!(safe_file_name("   "), "report");
        assert_eq!(safe_file_name(&"长".repeat(100)).chars().count(), 80);
    }

    #[test]
    fn hours_are_rounded_to_a_tenth() {
        assert_eq!(hours(45), 0.8);
        assert_eq!(hours(90), 1.5);
        assert_eq!(hours(0), 0.0);
    }

    #[test]
    fn a_month_ends_on_its_last_day_or_today() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        assert_eq!(month_end(d("2026-02-01"), d("2026-11-25")), d("2026-02-28"));
        assert_eq!(month_end(d("2026-11-01"), d("2026-11-25")), d("2026-11-25"));
    }
}
