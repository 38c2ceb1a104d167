//! A station's charts, drawn as SVG by Yew (no chart library): home visits per month, bars for
//! the last twelve months; and the cases in each stage at each month's end, a line per stage.
//! On the deputy head's board and, per station, on the supervisor's closure queue. The geometry
//! is pure ([`bar_rects`], [`line_points`]) and tested on the host; each figure also has a text
//! table for screen readers.
//!
//! Ids: `#station-charts-<station id or "own">`, `#chart-visits-by-month`,
//! `#chart-stages-by-month` (with the station id appended after a `-` when given).

use contract::command::{NoArgs, ReportStations, StationChartsOf};
use contract::{Language, StationCharts, StationChartsArgs};
use domain::Labelled;
use domain::case::Stage;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::use_command;
use crate::i18n::label;

/// The drawing's size, in SVG units (it scales to its box).
const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 150.0;
const LEFT: f64 = 28.0;
const BOTTOM: f64 = 20.0;
const TOP: f64 = 8.0;

/// The colour of each stage's line, in pipeline order.
const STAGE_COLOURS: [&str; 7] = ["#5b8fd0", "#d08b5b", "#6aa86a", "#a86ab0", "#c9b23c", "#4fb0b0", "#888888"];

/// The largest value the axis shows: the data's, rounded up to a step of the scale (at least 1).
pub fn axis_max(values: impl IntoIterator<Item = u64>) -> u64 {
    let largest = values.into_iter().max().unwrap_or(0).max(1);
    let step = match largest {
        0..=5 => 1,
        6..=20 => 5,
        21..=100 => 10,
        101..=500 => 50,
        _ => 100,
    };
    largest.div_ceil(step) * step
}

/// A bar: x, y (top), width, height, in drawing units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// One bar per value, side by side across the plot, as tall as the value against `max`.
pub fn bar_rects(values: &[u64], max: u64) -> Vec<Rect> {
    let plot_w = WIDTH - LEFT - 4.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / values.len().max(1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let h = plot_h * (*v as f64) / (max.max(1) as f64);
            Rect { x: LEFT + slot * i as f64 + slot * 0.15, y: TOP + plot_h - h, w: slot * 0.7, h }
        })
        .collect()
}

/// A line's points through each value at its slot's centre, as SVG's `points` text.
pub fn line_points(values: &[u64], max: u64) -> String {
    bar_rects(values, max).iter().map(|r| format!("{:.1},{:.1}", r.x + r.w / 2.0, r.y)).collect::<Vec<_>>().join(" ")
}

fn texts(language: Language) -> (&'static str, &'static str, &'static str) {
    match language {
        Language::Zh => ("每月入户走访次数（近12个月）", "各阶段个案数（每月月末）", "正在加载图表…"),
        Language::En => {
            ("Home visits per month (last 12 months)", "Cases per stage at each month's end", "Loading the charts…")
        }
    }
}

/// The month's label on the axis: `11` for `2026-11`, the year too in January.
fn month_tick(month: &str) -> String {
    match month.split_once('-') {
        Some((year, "01")) => format!("{year}-01"),
        Some((_, m)) => m.trim_start_matches('0').to_string(),
        None => month.to_string(),
    }
}

fn axis(max: u64, months: &[String]) -> Html {
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT - 4.0) / months.len().max(1) as f64;
    html! {
        <g class="axis" aria-hidden="true">
            <line x1={LEFT.to_string()} y1={TOP.to_string()} x2={LEFT.to_string()} y2={(TOP + plot_h).to_string()} />
            <line x1={LEFT.to_string()} y1={(TOP + plot_h).to_string()} x2={(WIDTH - 4.0).to_string()} y2={(TOP + plot_h).to_string()} />
            <text x={(LEFT - 4.0).to_string()} y={(TOP + 8.0).to_string()} text-anchor="end">{ max }</text>
            <text x={(LEFT - 4.0).to_string()} y={(TOP + plot_h).to_string()} text-anchor="end">{ "0" }</text>
            { for months.iter().enumerate().map(|(i, m)| html! {
                <text x={format!("{:.1}", LEFT + slot * (i as f64 + 0.5))} y={(HEIGHT - 6.0).to_string()} text-anchor="middle">
                    { month_tick(m) }
                </text>
            }) }
        </g>
    }
}

/// The two charts of `charts`.
pub fn charts_view(charts: &StationCharts, suffix: &str, language: Language) -> Html {
    let (visits_title, stages_title, _) = texts(language);
    let months: Vec<String> = charts.visits_by_month.iter().map(|m| m.month.clone()).collect();
    let visits: Vec<u64> = charts.visits_by_month.iter().map(|m| m.count).collect();
    let visits_max = axis_max(visits.iter().copied());
    let stages: Vec<(Stage, Vec<u64>)> = Stage::ALL.iter().map(|s| (*s, charts.stage_series(*s))).collect();
    let stages_max = axis_max(stages.iter().flat_map(|(_, v)| v.iter().copied()));
    let view_box = format!("0 0 {WIDTH} {HEIGHT}");
    html! {
        <div class="station-charts">
            <figure id={format!("chart-visits-by-month{suffix}")} class="svg-chart">
                <figcaption>{ visits_title }</figcaption>
                <svg viewBox={view_box.clone()} role="img" aria-label={visits_title}>
                    { axis(visits_max, &months) }
                    { for bar_rects(&visits, visits_max).iter().zip(&charts.visits_by_month).map(|(r, m)| html! {
                        <rect class="chart-bar" x={format!("{:.1}", r.x)} y={format!("{:.1}", r.y)}
                              width={format!("{:.1}", r.w)} height={format!("{:.1}", r.h)}>
                            <title>{ format!("{}: {}", m.month, m.count) }</title>
                        </rect>
                    }) }
                </svg>
                <table class="visually-hidden">
                    <tbody>{ for charts.visits_by_month.iter().map(|m| html! { <tr><th scope="row">{ &m.month }</th><td>{ m.count }</td></tr> }) }</tbody>
                </table>
            </figure>
            <figure id={format!("chart-stages-by-month{suffix}")} class="svg-chart">
                <figcaption>{ stages_title }</figcaption>
                <svg viewBox={view_box} role="img" aria-label={stages_title}>
                    { axis(stages_max, &months) }
                    { for stages.iter().zip(STAGE_COLOURS).map(|((stage, values), colour)| html! {
                        <polyline class="chart-line" fill="none" stroke={colour} stroke-width="2"
                                  points={line_points(values, stages_max)}>
                            <title>{ label(*stage, language) }</title>
                        </polyline>
                    }) }
                </svg>
                <ul class="chart-legend">
                    { for stages.iter().zip(STAGE_COLOURS).map(|((stage, values), colour)| html! {
                        <li>
                            <span class="swatch" style={format!("background: {colour}")} aria-hidden="true"></span>
                            { format!("{} {}", label(*stage, language), values.last().copied().unwrap_or(0)) }
                        </li>
                    }) }
                </ul>
            </figure>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct StationChartsProps {
    /// The station; the user's own when `None`.
    #[prop_or_default]
    pub station_id: Option<Uuid>,
}

/// A station's charts, loaded by the component.
#[function_component(StationChartsView)]
pub fn station_charts_view(props: &StationChartsProps) -> Html {
    let app = use_app();
    let language = app.language;
    let args = StationChartsArgs { station_id: props.station_id };
    let charts = use_command::<StationChartsOf, _>(args, (props.station_id, app.data_version));
    let suffix = props.station_id.map(|id| format!("-{id}")).unwrap_or_default();
    let id = format!("station-charts-{}", props.station_id.map_or_else(|| "own".to_string(), |id| id.to_string()));
    let body = match (charts.data(), charts.error()) {
        (Some(c), _) => charts_view(c, &suffix, language),
        (None, Some(e)) => html! { <p class="error" role="alert">{ e.message(language).to_string() }</p> },
        (None, None) => html! { <p class="muted">{ texts(language).2 }</p> },
    };
    html! { <section {id} class="charts-panel">{ body }</section> }
}

/// The charts of every station the user has reports of (a supervisor's), one after another.
/// Said above figures counted on a laptop that does not hold its stations whole
/// ([`crate::route::holds_whole_stations`]), so nobody reads them as the stations' own.
pub fn partial_figures_notice(language: Language, id: &'static str) -> Html {
    let text = match language {
        Language::Zh => {
            "本机只保存等待您审批的个案及其所需资料，这里的数字只计入这些个案；社工站完整的报表和趋势请在该站副站长的电脑上查看。"
        }
        Language::En => {
            "This laptop holds only the cases waiting for your decision and what they need, so these figures count those cases alone; a station's full reports and trends are on its deputy head's laptop."
        }
    };
    html! { <p {id} class="notice" role="note">{ text }</p> }
}

#[function_component(SupervisedStationsCharts)]
pub fn supervised_stations_charts() -> Html {
    let app = use_app();
    let language = app.language;
    let stations = use_command::<ReportStations, _>(NoArgs {}, app.data_version);
    let title = match language {
        Language::Zh => "各站趋势",
        Language::En => "Trends of each station",
    };
    match stations.data() {
        Some(list) if !list.is_empty() => html! {
            <section id="supervised-charts" class="supervised-charts" aria-labelledby="supervised-charts-title">
                <h2 id="supervised-charts-title">{ title }</h2>
                { partial_figures_notice(language, "supervised-charts-partial") }
                { for list.iter().map(|station| html! {
                    <div class="station-charts-of" key={station.id.to_string()}>
                        <h3>{ &station.name }</h3>
                        <StationChartsView station_id={Some(station.id)} />
                    </div>
                }) }
            </section>
        },
        _ => html! {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_rounds_up_to_a_step_and_never_reaches_zero() {
        assert_eq!(axis_max([]), 1);
        assert_eq!(axis_max([0, 0]), 1);
        assert_eq!(axis_max([3]), 3);
        assert_eq!(axis_max([7, 2]), 10);
        assert_eq!(axis_max([42]), 50);
        assert_eq!(axis_max([1234]), 1300);
    }

    #[test]
    fn bars_stand_on_the_axis_as_tall_as_their_share_of_the_maximum() {
        let rects = bar_rects(&[0, 5, 10], 10);
        let base = HEIGHT - BOTTOM;
        for r in &rects {
            assert!((r.y + r.h - base).abs() < 1e-9, "{r:?} stands on the axis");
        }
        assert_eq!(rects[0].h, 0.0);
        assert!((rects[2].h - 2.0 * rects[1].h).abs() < 1e-9);
        assert!(rects[1].x > rects[0].x + rects[0].w, "side by side, apart");
        assert!(rects[2].x + rects[2].w <= WIDTH);
    }

    #[test]
    fn a_line_passes_through_each_month_s_value() {
        let points = line_points(&[0, 10], 10);
        let ys: Vec<f64> =
            points.split(' ').filter_map(|p| p.split_once(',')).filter_map(|(_, y)| y.parse().ok()).collect();
        assert_eq!(ys, vec![HEIGHT - BOTTOM, TOP]);
        assert_eq!(line_points(&[], 1), "");
    }

    #[test]
    fn january_ticks_name_the_year() {
        assert_eq!(month_tick("2026-01"), "2026-01");
        assert_eq!(month_tick("2026-11"), "11");
        assert_eq!(month_tick("2026-03"), "3");
    }
}
