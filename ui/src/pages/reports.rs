//! The station's reports (`#/reports`, 统计报表): the deputy head's own station, or for a
//! supervisor each station they supervise. A period picker (month, quarter or year), the report
//! previewed section by section as it will print, and export to `.xlsx` or PDF into the reports
//! folder, the file's name and folder shown. The period's year is typed: a wrong one is said at
//! the field in both languages, the typed text kept.
//!
//! Ids: `#reports-page`, `#report-station`, `#report-kind`, `#report-year`, `#report-month`,
//! `#report-quarter`, `#error-period`, `#export-xlsx`, `#export-pdf`, `#export-result`
//! (`#export-file-name`, `#export-folder`, `#export-path`), `#export-error`, `#report-preview`
//! (`#report-title`, `#report-section-<id>`, `#report-table-<id>`).

use chrono::Datelike;
use contract::command::{ExportStationReport, NoArgs, ReportStations, StationReport};
use contract::{
    ExportFormat, ExportStationReportArgs, ExportedFile, Language, PeriodKind, Report, ReportPeriod, StationReportArgs,
};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::{use_action, use_command};

/// A text of this page in the UI's language.
fn tr(language: Language, zh: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::Zh => zh,
        Language::En => en,
    }
}

/// The period the picker's values name: the year as typed, the month or quarter as chosen.
pub fn picked_period(
    kind: PeriodKind,
    year: &str,
    month: u32,
    quarter: u32,
) -> Result<ReportPeriod, contract::BadPeriod> {
    let year = year.trim();
    // A year alone: "2026-11" typed as the year is not taken for a month.
    if !(year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit())) {
        return Err(contract::BadPeriod(year.chars().take(40).collect()));
    }
    let text = match kind {
        PeriodKind::Month => format!("{year}-{month:02}"),
        PeriodKind::Quarter => format!("{year}-Q{quarter}"),
        PeriodKind::Year => year.to_string(),
    };
    ReportPeriod::parse(&text)
}

fn kind_value(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    }
}

fn kind_of(value: &str) -> PeriodKind {
    match value {
        "quarter" => PeriodKind::Quarter,
        "year" => PeriodKind::Year,
        _ => PeriodKind::Month,
    }
}

#[derive(Clone, PartialEq)]
struct Picker {
    kind: PeriodKind,
    year: String,
    month: u32,
    quarter: u32,
}

#[function_component(ReportsPage)]
pub fn reports_page() -> Html {
    let app = use_app();
    let language = app.language;
    let today = crate::time::today();
    let picker = use_state(|| Picker {
        kind: PeriodKind::Month,
        year: today.year().to_string(),
        month: today.month(),
        quarter: (today.month() - 1) / 3 + 1,
    });
    let station = use_state(|| None::<Uuid>);
    let stations = use_command::<ReportStations, _>(NoArgs {}, app.data_version);
    let picked = picked_period(picker.kind, &picker.year, picker.month, picker.quarter);
    // The preview follows the last period that was right, while a wrong one is being corrected.
    let shown_period = use_state(|| picked.clone().ok());
    if let Ok(period) = &picked
        && *shown_period != Some(*period)
    {
        shown_period.set(Some(*period));
    }
    let period = (*shown_period).unwrap_or(ReportPeriod::containing(PeriodKind::Month, today));
    let args = StationReportArgs { station_id: *station, period };
    let report = use_command::<StationReport, _>(args, (args, app.data_version));
    let export = use_action::<ExportStationReport>();
    let exported = use_state(|| None::<ExportedFile>);

    let on_station = {
        let station = station.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            station.set(Uuid::try_parse(&value).ok());
        })
    };
    let set = |change: fn(&mut Picker, String)| {
        let picker = picker.clone();
        move |value: String| {
            let mut next = (*picker).clone();
            change(&mut next, value);
            picker.set(next);
        }
    };
    let on_kind = {
        let set = set(|p, v| p.kind = kind_of(&v));
        Callback::from(move |e: Event| set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_year = {
        let set = set(|p, v| p.year = v);
        Callback::from(move |e: InputEvent| set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_month = {
        let set = set(|p, v| p.month = v.parse().unwrap_or(1));
        Callback::from(move |e: Event| set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_quarter = {
        let set = set(|p, v| p.quarter = v.parse().unwrap_or(1));
        Callback::from(move |e: Event| set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let export_as = |format: ExportFormat| {
        let (export, exported, picked) = (export.clone(), exported.clone(), picked.clone());
        let station_id = *station;
        Callback::from(move |_: MouseEvent| {
            let Ok(period) = picked.clone() else { return };
            let exported = exported.clone();
            exported.set(None);
            export.run(ExportStationReportArgs { station_id, period, format }, move |file| exported.set(Some(file)));
        })
    };

    let station_picker = match stations.data() {
        Some(list) if list.len() > 1 => html! {
            <label>
                { tr(language, "社工站", "Station") }
                <select id="report-station" onchange={on_station}>
                    { for list.iter().map(|s| html! {
                        <option value={s.id.to_string()} selected={*station == Some(s.id)}>{ &s.name }</option>
                    }) }
                </select>
            </label>
        },
        _ => html! {},
    };
    let period_error = picked.as_ref().err().map(|e| match language {
        Language::Zh => e.message_zh(),
        Language::En => e.message_en(),
    });
    let months = (1..=12u32).map(|m| {
        let text = match language {
            Language::Zh => format!("{m}月"),
            Language::En => {
                chrono::NaiveDate::from_ymd_opt(2000, m, 1).map_or(m.to_string(), |d| d.format("%B").to_string())
            }
        };
        html! { <option value={m.to_string()} selected={picker.month == m}>{ text }</option> }
    });
    let quarters = (1..=4u32).map(|q| {
        let text = match language {
            Language::Zh => format!("第{}季度", ["一", "二", "三", "四"][(q - 1) as usize]),
            Language::En => format!("Q{q}"),
        };
        html! { <option value={q.to_string()} selected={picker.quarter == q}>{ text }</option> }
    });
    let busy = export.busy;
    let export_result = exported.as_ref().map(|file| {
        html! {
            <div id="export-result" class="notice" role="status">
                <p>{ tr(language, "已导出：", "Exported: ") }<strong id="export-file-name">{ &file.file_name }</strong></p>
                <p>
                    { tr(language, "保存在此文件夹（可在文件管理器中打开）：", "Saved in this folder (open it in the file manager): ") }
                    <code id="export-folder">{ &file.folder }</code>
                </p>
                <p class="visually-hidden" id="export-path">{ &file.path }</p>
            </div>
        }
    });
    let preview = match (report.data(), report.error()) {
        (Some(r), _) => preview(r, language),
        (None, Some(e)) => {
            html! { <p class="error" id="report-error" role="alert">{ e.message(language).to_string() }</p> }
        }
        (None, None) => html! { <p class="muted">{ tr(language, "正在统计…", "Counting…") }</p> },
    };
    html! {
        <section id="reports-page" class="reports-page" aria-labelledby="reports-title" aria-busy={report.loading().then_some("true")}>
            <h1 id="reports-title">{ tr(language, "统计报表", "Reports") }</h1>
            if app.user.as_ref().is_some_and(|u| !crate::route::holds_whole_stations(u.role)) {
                { crate::components::charts::partial_figures_notice(language, "reports-partial") }
            }
            <form class="report-picker" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                { station_picker }
                <label>
                    { tr(language, "报表类型", "Report") }
                    <select id="report-kind" onchange={on_kind}>
                        { for [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year].into_iter().map(|k| {
                            let text = match k {
                                PeriodKind::Month => tr(language, "月度报告", "Monthly report"),
                                PeriodKind::Quarter => tr(language, "季度回顾", "Quarterly review"),
                                PeriodKind::Year => tr(language, "年度评估", "Yearly evaluation"),
                            };
                            html! { <option value={kind_value(k)} selected={picker.kind == k}>{ text }</option> }
                        }) }
                    </select>
                </label>
                <label>
                    { tr(language, "年份", "Year") }
                    <input id="report-year" name="period" inputmode="numeric" value={picker.year.clone()} oninput={on_year}
                           aria-invalid={period_error.is_some().then_some("true")} aria-describedby="error-period" />
                </label>
                if picker.kind == PeriodKind::Month {
                    <label>{ tr(language, "月份", "Month") }<select id="report-month" onchange={on_month}>{ for months }</select></label>
                }
                if picker.kind == PeriodKind::Quarter {
                    <label>{ tr(language, "季度", "Quarter") }<select id="report-quarter" onchange={on_quarter}>{ for quarters }</select></label>
                }
                <p id="error-period" class="error" role="alert">{ period_error.unwrap_or_default() }</p>
                <div class="actions">
                    <button type="button" id="export-xlsx" disabled={busy || picked.is_err()} onclick={export_as(ExportFormat::Xlsx)}>
                        { tr(language, "导出 Excel（.xlsx）", "Export to Excel (.xlsx)") }
                    </button>
                    <button type="button" id="export-pdf" disabled={busy || picked.is_err()} onclick={export_as(ExportFormat::Pdf)}>
                        { tr(language, "导出 PDF（可打印）", "Export to PDF (printable)") }
                    </button>
                </div>
            </form>
            if busy {
                <p class="muted" role="status">{ tr(language, "正在导出…", "Exporting…") }</p>
            }
            if let Some(error) = &export.error {
                <p id="export-error" class="error" role="alert">{ error.message(language).to_string() }</p>
            }
            { export_result.unwrap_or_default() }
            { preview }
        </section>
    }
}

fn preview(report: &Report, language: Language) -> Html {
    html! {
        <article id="report-preview" class="report-preview">
            <header>
                <h2 id="report-title">{ format!("{} · {}", report.station_name, report.title.get(language)) }</h2>
                <p class="muted">{ report.subtitle.get(language) }</p>
            </header>
            { for report.sections.iter().map(|section| html! {
                <section id={format!("report-section-{}", section.id)} class="report-section">
                    <h3>{ section.heading.get(language) }</h3>
                    { for section.tables.iter().map(|table| html! {
                        <table id={format!("report-table-{}", table.id)} class="report-table">
                            <caption>{ table.heading.get(language) }</caption>
                            <thead><tr>{ for table.columns.iter().map(|c| html! { <th scope="col">{ c.get(language) }</th> }) }</tr></thead>
                            <tbody>
                                { for table.rows.iter().map(|row| html! {
                                    <tr>{ for row.iter().map(|cell| {
                                        let number = matches!(cell, contract::Cell::Count(_) | contract::Cell::Hours(_) | contract::Cell::Percent(_));
                                        html! { <td class={classes!(number.then_some("number"))}>{ cell.display(language) }</td> }
                                    }) }</tr>
                                }) }
                            </tbody>
                        </table>
                    }) }
                    { for section.notes.iter().map(|n| html! { <p class="muted">{ n.get(language) }</p> }) }
                </section>
            }) }
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picker_names_a_month_a_quarter_or_a_year() {
        assert_eq!(picked_period(PeriodKind::Month, "2026", 11, 1), Ok(ReportPeriod::Month { year: 2026, month: 11 }));
        assert_eq!(
            picked_period(PeriodKind::Quarter, " 2026 ", 11, 4),
            Ok(ReportPeriod::Quarter { year: 2026, quarter: 4 })
        );
        assert_eq!(picked_period(PeriodKind::Year, "2025", 1, 1), Ok(ReportPeriod::Year { year: 2025 }));
    }

    #[test]
    fn a_wrong_year_is_refused_whatever_was_typed() {
        for typed in ["", "20", "二〇二六", "2026-11", "99999", "1999", "2026年"] {
            assert!(picked_period(PeriodKind::Year, typed, 11, 1).is_err(), "{typed}");
            assert!(picked_period(PeriodKind::Month, typed, 11, 1).is_err(), "{typed}");
            assert!(picked_period(PeriodKind::Quarter, typed, 11, 1).is_err(), "{typed}");
        }
    }

    #[test]
    fn kinds_round_trip_through_the_select_s_values() {
        for kind in [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
            assert_eq!(kind_of(kind_value(kind)), kind);
        }
    }
}
