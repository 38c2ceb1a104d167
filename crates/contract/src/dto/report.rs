//! Reports (the station's monthly report, quarterly review and yearly evaluation; a recipient's
//! file and a closed case printed) as a pure model: sections of tables with headings in both
//! languages. The app fills it from the store's figures; the `report` crate renders it as `.xlsx`
//! and PDF; the UI previews it. Also the period a report covers, and the charts of the deputy
//! head's and the supervisor's views.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use domain::case::Stage;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Language, StageCount};

/// A text in both languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Bilingual {
        Bilingual { zh: zh.into(), en: en.into() }
    }

    /// A vocabulary value's label (`Stage::Assess` is "分析需求" / "Assess").
    pub fn label<T: domain::Labelled>(value: T) -> Bilingual {
        Bilingual::new(value.zh(), value.en())
    }

    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }
}

/// The kind of period a station report covers: monitoring is monthly, review quarterly,
/// evaluation yearly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

/// The period a station report covers, in the station's local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReportPeriod {
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
    Year { year: i32 },
}

/// Why a period's text was not understood. Never a panic, whatever was typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a report period: {0}")]
pub struct BadPeriod(pub String);

impl BadPeriod {
    pub const CODE: &'static str = super::codes::BAD_REPORT_PERIOD;
    pub const FIELD: &'static str = "period";

    pub fn message_zh(&self) -> String {
        "统计期间格式不正确，应为“2026-11”（月）、“2026-Q4”（季度）或“2026”（年），年份在2000至2100之间".into()
    }

    pub fn message_en(&self) -> String {
        "The period must be a month (2026-11), a quarter (2026-Q4) or a year (2026), between 2000 and 2100".into()
    }
}

/// The years a report may cover.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

impl ReportPeriod {
    pub fn kind(self) -> PeriodKind {
        match self {
            ReportPeriod::Month { .. } => PeriodKind::Month,
            ReportPeriod::Quarter { .. } => PeriodKind::Quarter,
            ReportPeriod::Year { .. } => PeriodKind::Year,
        }
    }

    pub fn year(self) -> i32 {
        match self {
            ReportPeriod::Month { year, .. } | ReportPeriod::Quarter { year, .. } | ReportPeriod::Year { year } => year,
        }
    }

    /// The period of `kind` holding `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> ReportPeriod {
        match kind {
            PeriodKind::Month => ReportPeriod::Month { year: date.year(), month: date.month() },
            PeriodKind::Quarter => ReportPeriod::Quarter { year: date.year(), quarter: (date.month() - 1) / 3 + 1 },
            PeriodKind::Year => ReportPeriod::Year { year: date.year() },
        }
    }

    /// Checks the numbers (a period read from JSON is checked too before use).
    pub fn checked(self) -> Result<ReportPeriod, BadPeriod> {
        let ok = YEARS.contains(&self.year())
            && match self {
                ReportPeriod::Month { month, .. } => (1..=12).contains(&month),
                ReportPeriod::Quarter { quarter, .. } => (1..=4).contains(&quarter),
                ReportPeriod::Year { .. } => true,
            };
        if ok { Ok(self) } else { Err(BadPeriod(self.to_string())) }
    }

    /// Reads `2026-11`, `2026-Q4` (or `2026q4`) and `2026`, spaces around ignored.
    pub fn parse(text: &str) -> Result<ReportPeriod, BadPeriod> {
        let bad = || BadPeriod(text.chars().take(40).collect());
        let text = text.trim();
        let number = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        // A quarter's `Q` may follow the year with or without a dash; a month needs the dash.
        let (year, rest) = match text.find(['Q', 'q']) {
            Some(at) => (text[..at].strip_suffix('-').unwrap_or(&text[..at]), Some(&text[at..])),
            None => match text.split_once('-') {
                Some((year, rest)) => (year, Some(rest)),
                None => (text, None),
            },
        };
        let year = number(year).filter(|_| year.len() == 4).and_then(|y| i32::try_from(y).ok()).ok_or_else(bad)?;
        let period = match rest {
            None => ReportPeriod::Year { year },
            Some(rest) => match rest.strip_prefix(['Q', 'q']) {
                Some(q) => ReportPeriod::Quarter { year, quarter: number(q).filter(|_| q.len() == 1).ok_or_else(bad)? },
                None => ReportPeriod::Month { year, month: number(rest).filter(|_| rest.len() <= 2).ok_or_else(bad)? },
            },
        };
        period.checked().map_err(|_| bad())
    }

    /// The first and the last day of the period (both included).
    pub fn bounds(self) -> Result<(NaiveDate, NaiveDate), BadPeriod> {
        let period = self.checked()?;
        let (year, first_month, months) = match period {
            ReportPeriod::Month { year, month } => (year, month, 1),
            ReportPeriod::Quarter { year, quarter } => (year, (quarter - 1) * 3 + 1, 3),
            ReportPeriod::Year { year } => (year, 1, 12),
        };
        let bad = || BadPeriod(period.to_string());
        let from = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(bad)?;
        let next = from.checked_add_months(chrono::Months::new(months)).ok_or_else(bad)?;
        Ok((from, next.pred_opt().ok_or_else(bad)?))
    }

    /// The period's name as a heading says it: "2026年11月", "2026年第四季度", "2026年度".
    pub fn label(self) -> Bilingual {
        const QUARTERS: [&str; 4] = ["一", "二", "三", "四"];
        match self {
            ReportPeriod::Month { year, month } => {
                let en = NaiveDate::from_ymd_opt(year, month.clamp(1, 12), 1)
                    .map_or_else(|| format!("{year}-{month:02}"), |d| d.format("%B %Y").to_string());
                Bilingual::new(format!("{year}年{month}月"), en)
            }
            ReportPeriod::Quarter { year, quarter } => {
                let zh = QUARTERS.get(quarter.wrapping_sub(1) as usize).copied().unwrap_or("?");
                Bilingual::new(format!("{year}年第{zh}季度"), format!("Q{quarter} {year}"))
            }
            ReportPeriod::Year { year } => Bilingual::new(format!("{year}年度"), format!("Year {year}")),
        }
    }

    /// The report's title for this period.
    pub fn report_title(self) -> Bilingual {
        match self.kind() {
            PeriodKind::Month => Bilingual::new("月度服务报告", "Monthly report"),
            PeriodKind::Quarter => Bilingual::new("季度服务回顾", "Quarterly review"),
            PeriodKind::Year => Bilingual::new("年度服务评估", "Yearly evaluation"),
        }
    }
}

impl fmt::Display for ReportPeriod {
    /// The period's text form, read back by [`ReportPeriod::parse`] (also the file names').
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportPeriod::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            ReportPeriod::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            ReportPeriod::Year { year } => write!(f, "{year:04}"),
        }
    }
}

/// One cell of a report table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Cell {
    /// A name as it is (a worker's, a village's).
    Text(String),
    /// A vocabulary value or a fixed row heading, in both languages.
    Label(Bilingual),
    /// A count.
    Count(u64),
    /// Hours, from minutes recorded (shown with one decimal).
    Hours(f64),
    /// A share, 0–100 (shown with one decimal and `%`).
    Percent(f64),
    /// A date.
    Date(NaiveDate),
    /// Nothing to show.
    Empty,
}

impl Cell {
    /// The cell as the reader sees it in `language` (what the PDF prints and the UI shows; the
    /// spreadsheet keeps numbers as numbers).
    pub fn display(&self, language: Language) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Label(label) => label.get(language).to_owned(),
            Cell::Count(n) => n.to_string(),
            Cell::Hours(h) => format!("{h:.1}"),
            Cell::Percent(p) => format!("{p:.1}%"),
            Cell::Date(d) => d.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A table of a report section: its heading, its columns' headings, its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportTable {
    /// Stable within the report (`visits-by-worker`): the UI's element ids and the tests read it.
    pub id: String,
    pub heading: Bilingual,
    pub columns: Vec<Bilingual>,
    pub rows: Vec<Vec<Cell>>,
}

/// A section of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSection {
    /// Stable (`recipients`, `visits`, ...).
    pub id: String,
    pub heading: Bilingual,
    pub tables: Vec<ReportTable>,
    /// Paragraphs under the tables: what a figure counts, or what is still to be written or
    /// recorded.
    pub notes: Vec<Bilingual>,
}

/// A document to preview, export and print: a station's report, a recipient's file, a closed
/// case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub title: Bilingual,
    pub station_id: Uuid,
    pub station_name: String,
    /// The period covered, for a station report.
    pub period: Option<ReportPeriod>,
    /// The line under the title: the period and its dates, or whose file it is.
    pub subtitle: Bilingual,
    /// The day the figures were computed.
    pub made_on: NaiveDate,
    pub sections: Vec<ReportSection>,
}

/// The formats a report is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Xlsx,
    Pdf,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Pdf => "pdf",
        }
    }
}

/// A file written by an export or a print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// The file's full path.
    pub path: String,
    /// Its name alone, as the page shows it.
    pub file_name: String,
    /// The folder it was written to ("open this folder" hint).
    pub folder: String,
}

/// Home visits of one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    pub count: u64,
}

/// The cases in each stage at the end of one month (the last day of the month, or today for
/// this month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthStages {
    /// `YYYY-MM`.
    pub month: String,
    /// Every stage in pipeline order, zero included (closed cases too).
    pub stages: Vec<StageCount>,
}

/// The charts of a station: the last twelve months, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationCharts {
    pub station_id: Uuid,
    pub station_name: String,
    pub visits_by_month: Vec<MonthCount>,
    pub stages_by_month: Vec<MonthStages>,
}

impl StationCharts {
    /// The count of `stage` at the end of each month, oldest first.
    pub fn stage_series(&self, stage: Stage) -> Vec<u64> {
        self.stages_by_month.iter().map(|m| m.stages.iter().find(|s| s.stage == stage).map_or(0, |s| s.count)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_month_a_quarter_and_a_year_are_read_and_bounded() {
        let cases = [
            ("2026-11", "2026-11-01", "2026-11-30"),
            ("2026-2", "2026-02-01", "2026-02-28"),
            ("2024-02", "2024-02-01", "2024-02-29"),
            ("2026-Q4", "2026-10-01", "2026-12-31"),
            (" 2026q1 ", "2026-01-01", "2026-03-31"),
            ("2026", "2026-01-01", "2026-12-31"),
        ];
        for (text, from, to) in cases {
            let period = ReportPeriod::parse(text).expect(text);
            assert_eq!(period.bounds().expect(text), (date(from), date(to)), "{text}");
            assert_eq!(ReportPeriod::parse(&period.to_string()), Ok(period), "{text} round trip");
        }
    }

    #[test]
    fn malformed_periods_are_refused_with_the_field_named() {
        for text in
            ["", "2026-13", "2026-0", "2026-Q5", "2026-Q0", "26-11", "1999", "2101", "2026-", "2026-11-01", "２０２６"]
        {
            let err = ReportPeriod::parse(text).expect_err(text);
            assert_eq!(BadPeriod::FIELD, "period");
            assert!(err.message_zh().contains("统计期间") && err.message_en().contains("period"), "{text}");
        }
        assert!(ReportPeriod::Month { year: 2026, month: 13 }.bounds().is_err());
    }

    #[test]
    fn the_period_holding_a_date() {
        let day = date("2026-08-15");
        assert_eq!(ReportPeriod::containing(PeriodKind::Month, day).to_string(), "2026-08");
        assert_eq!(ReportPeriod::containing(PeriodKind::Quarter, day).to_string(), "2026-Q3");
        assert_eq!(ReportPeriod::containing(PeriodKind::Year, day).to_string(), "2026");
        assert_eq!(ReportPeriod::parse("2026-Q3").map(|p| p.label().zh), Ok("2026年第三季度".to_owned()));
    }

    #[test]
    fn the_report_commands_take_objects_keyed_by_their_parameter_names() {
        use serde_json::json;
        let station = Uuid::from_u128(7);
        let args = crate::ExportStationReportArgs {
            station_id: Some(station),
            period: ReportPeriod::Quarter { year: 2026, quarter: 4 },
            format: ExportFormat::Pdf,
        };
        let expected = json!({
            "stationId": station.to_string(),
            "period": { "kind": "quarter", "year": 2026, "quarter": 4 },
            "format": "pdf",
        });
        assert_eq!(serde_json::to_value(args).ok(), Some(expected.clone()));
        assert_eq!(serde_json::from_value::<crate::ExportStationReportArgs>(expected).ok(), Some(args));
        let month =
            crate::StationReportArgs { station_id: None, period: ReportPeriod::Month { year: 2026, month: 11 } };
        assert_eq!(
            serde_json::to_value(month).ok(),
            Some(json!({ "stationId": null, "period": { "kind": "month", "year": 2026, "month": 11 } }))
        );
        assert_eq!(
            serde_json::to_value(crate::StationChartsArgs { station_id: None }).ok(),
            Some(json!({ "stationId": null }))
        );
    }

    #[test]
    fn cells_read_in_the_chosen_language() {
        assert_eq!(Cell::Label(Bilingual::label(Stage::Assess)).display(Language::Zh), "分析需求");
        assert_eq!(Cell::Hours(1.5).display(Language::En), "1.5");
        assert_eq!(Cell::Percent(30.0).display(Language::Zh), "30.0%");
    }
}

/// [`ReportStations`](crate::command::ReportStations) takes none. [`StationReport`]'s arguments:
/// the station (the user's own when `None`) and the period.
///
/// [`StationReport`]: crate::command::StationReport
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StationReportArgs {
    pub station_id: Option<Uuid>,
    pub period: ReportPeriod,
}

/// [`ExportStationReport`](crate::command::ExportStationReport)'s arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportStationReportArgs {
    pub station_id: Option<Uuid>,
    pub period: ReportPeriod,
    pub format: ExportFormat,
}

/// [`StationChartsOf`](crate::command::StationChartsOf)'s arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StationChartsArgs {
    pub station_id: Option<Uuid>,
}
