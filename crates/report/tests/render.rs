//! The renderers read back: the workbook parsed with calamine holds every cell of the report,
//! numbers as numbers; the PDF's text (poppler's `pdftotext`) holds the station's name, the
//! period and every figure; neither panics on any text.

use std::io::Cursor;
use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use contract::{Bilingual, Cell, Language, Report, ReportPeriod, ReportSection, ReportTable};
use proptest::prelude::*;
use report::{ReportFont, render_pdf, render_xlsx};

fn sample() -> Report {
    let period = ReportPeriod::Month { year: 2026, month: 11 };
    Report {
        title: period.report_title(),
        station_id: uuid::Uuid::from_u128(1),
        station_name: "城关社工站".into(),
        period: Some(period),
        subtitle: period.label(),
        made_on: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default(),
        sections: vec![
            ReportSection {
                id: "visits".into(),
                heading: Bilingual::new("入户走访", "Home visits"),
                tables: vec![ReportTable {
                    id: "visits-by-worker".into(),
                    heading: Bilingual::new("按社工", "By worker"),
                    columns: vec![Bilingual::new("社工", "Worker"), Bilingual::new("走访次数", "Visits")],
                    rows: vec![
                        vec![Cell::Text("张社工".into()), Cell::Count(12)],
                        vec![Cell::Text("李社工".into()), Cell::Count(7)],
                    ],
                }],
                notes: vec![Bilingual::new("更正的走访不另计。", "Corrections are not counted again.")],
            },
            ReportSection {
                id: "services".into(),
                heading: Bilingual::new("服务内容与方法", "Services"),
                tables: vec![ReportTable {
                    id: "services".into(),
                    heading: Bilingual::new("按服务内容", "By type"),
                    columns: vec![
                        Bilingual::new("服务内容", "Type"),
                        Bilingual::new("次数", "Sessions"),
                        Bilingual::new("时长(小时)", "Hours"),
                        Bilingual::new("占比", "Share"),
                    ],
                    rows: vec![vec![
                        Cell::Label(Bilingual::new("情绪疏导", "Emotional counselling")),
                        Cell::Count(3),
                        Cell::Hours(2.5),
                        Cell::Percent(37.5),
                    ]],
                }],
                notes: vec![],
            },
        ],
    }
}

#[test]
fn the_workbook_holds_every_cell_of_the_report_numbers_as_numbers() {
    let report = sample();
    let bytes = render_xlsx(&report, Language::Zh).expect("rendered");
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx");
    let names = book.sheet_names();
    assert_eq!(names, vec!["概要", "1 入户走访", "2 服务内容与方法"]);
    let summary = book.worksheet_range("概要").expect("summary");
    assert_eq!(summary.get_value((0, 0)), Some(&Data::String("月度服务报告".into())));
    assert_eq!(summary.get_value((2, 1)), Some(&Data::String("城关社工站".into())));
    assert_eq!(summary.get_value((3, 1)), Some(&Data::String("2026年11月".into())));
    for (index, section) in report.sections.iter().enumerate() {
        let sheet = book.worksheet_range(&names[index + 1]).expect("section sheet");
        let mut row = 0u32;
        for table in &section.tables {
            assert_eq!(sheet.get_value((row, 0)), Some(&Data::String(table.heading.zh.clone())));
            for (column, heading) in (0u32..).zip(&table.columns) {
                assert_eq!(sheet.get_value((row + 1, column)), Some(&Data::String(heading.zh.clone())));
            }
            for (r, cells) in (row + 2..).zip(&table.rows) {
                for (column, cell) in (0u32..).zip(cells) {
                    let expected = match cell {
                        Cell::Count(n) => Data::Float(*n as f64),
                        Cell::Hours(h) | Cell::Percent(h) => Data::Float(*h),
                        other => Data::String(other.display(Language::Zh)),
                    };
                    assert_eq!(sheet.get_value((r, column)), Some(&expected), "{} ({r}, {column})", section.id);
                }
            }
            row += 2 + table.rows.len() as u32 + 1;
        }
    }
}

#[test]
fn the_workbook_speaks_english_when_asked() {
    let bytes = render_xlsx(&sample(), Language::En).expect("rendered");
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx");
    assert_eq!(book.sheet_names(), vec!["Summary", "1 Home visits", "2 Services"]);
    let services = book.worksheet_range("2 Services").expect("sheet");
    assert_eq!(services.get_value((2, 0)), Some(&Data::String("Emotional counselling".into())));
}

/// The PDF's text as poppler extracts it, its layout kept.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).expect("written");
    let out =
        Command::new("pdftotext").arg("-layout").arg(&path).arg("-").output().expect("pdftotext (poppler-utils) runs");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 text")
}

#[test]
fn the_pdf_names_the_station_and_period_on_each_page_and_holds_every_figure() {
    let font = ReportFont::find().expect("a CJK font (fonts-wqy-microhei)");
    let mut report = sample();
    // Enough rows for a second page, whose header must name the station again.
    let many: Vec<Vec<Cell>> = (0..80).map(|i| vec![Cell::Text(format!("第{i}号社工")), Cell::Count(i)]).collect();
    report.sections[0].tables[0].rows.extend(many);
    let bytes = render_pdf(&report, Language::Zh, &font).expect("rendered");
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdf_text(&bytes);
    let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert!(pages.len() >= 2, "{} pages", pages.len());
    for page in &pages {
        assert!(page.contains("城关社工站") && page.contains("月度服务报告") && page.contains("2026年11月"), "{page}");
    }
    for needle in ["入户走访", "张社工", "12", "李社工", "情绪疏导", "2.5", "37.5%", "第79号社工", "更正的走访不另计。"]
    {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn any_text_in_any_cell_renders_without_a_panic(texts in proptest::collection::vec("\\PC{0,60}", 1..6)) {
        let font = ReportFont::find().expect("a CJK font");
        let mut report = sample();
        report.station_name = texts[0].clone();
        report.sections[0].heading = Bilingual::new(texts[texts.len() - 1].clone(), texts[0].clone());
        report.sections[0].tables[0].rows = texts.iter().map(|t| vec![Cell::Text(t.clone()), Cell::Label(Bilingual::new(t.clone(), t.clone()))]).collect();
        prop_assert!(render_xlsx(&report, Language::Zh).is_ok());
        prop_assert!(render_pdf(&report, Language::En, &font).is_ok());
    }
}
