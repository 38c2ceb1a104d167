//! End-to-end: the station's monthly report in the real app (WebDriver under Xvfb). The deputy
//! head sees the charts on the board, opens the reports, has a wrong year refused at its field
//! (what was typed kept), previews this month's report and exports it as `.xlsx` and PDF. The
//! files are read back: the workbook parsed (calamine), its figures equal to those counted here
//! from the server's own rows; the PDF's text extracted (pdftotext) with the station's name, the
//! period and the figures. A person's file is printed to PDF from the file page too. The files are
//! kept under `<target>/e2e/reports/`, with the report PDF's first page rendered to PNG beside
//! them (pdftoppm). Screenshots: `<target>/e2e/ops-6N-what.png`.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use chrono::Datelike;
use domain::Labelled;
use domain::entity::EntityKind;
use domain::field;
use domain::recipient::RecipientCategory;
use shegong_tests::screens::{go_to, set, sign_in, text_of};
use shegong_tests::webdriver::{click, screenshot, wait_for, wait_for_text};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, SyncServer, deadline, screenshot_dir};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The cells of a sheet's table that starts with `heading` in column A: its rows up to the next
/// empty row, each cell as text (numbers as integers where they are whole).
fn table_rows(sheet: &calamine::Range<Data>, heading: &str) -> Vec<Vec<String>> {
    let text = |d: &Data| match d {
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    };
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(text).collect()).collect();
    let Some(start) = rows.iter().position(|r| r.first().map(String::as_str) == Some(heading)) else {
        return Vec::new();
    };
    // The heading, then the columns' headings, then the rows until an empty one.
    rows[start + 2..].iter().take_while(|r| r.iter().any(|c| !c.is_empty())).cloned().collect()
}

/// A command's output, or the reason it failed with its stderr.
fn run(program: &str, args: &[&str]) -> TestResult<Vec<u8>> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("{program} (poppler-utils): {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(out.stdout)
}

fn keep(file: &Path, folder: &Path) -> TestResult<PathBuf> {
    let kept = folder.join(file.file_name().ok_or("a file name")?);
    std::fs::copy(file, &kept)?;
    Ok(kept)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_report_exported_reads_back_with_the_figures_of_the_station() -> TestResult {
    let _deadline = deadline(Duration::from_secs(900));
    let server = SyncServer::start_with_demo_data()?;
    let app = DesktopApp::start(server.url())?;
    let driver = app.launch().await?;
    sign_in(&driver, "fuzhan1", DEMO_PASSWORD, "#case-board").await?;

    // The board's charts: visits per month and cases per stage, twelve months each.
    wait_for(&driver, "#station-charts-own #chart-visits-by-month rect.chart-bar").await?;
    wait_for(&driver, "#station-charts-own #chart-stages-by-month polyline").await?;
    assert_eq!(driver.find_all(thirtyfour::By::Css("#chart-visits-by-month rect.chart-bar")).await?.len(), 12);
    driver.execute("document.getElementById('station-charts-own').scrollIntoView();", Vec::new()).await?;
    screenshot(&driver, "ops-60-board-charts").await?;

    // The reports: this month's, previewed.
    click(&driver, "#nav-reports").await?;
    let today = chrono::Local::now().date_naive();
    let period_zh = format!("{}年{}月", today.year(), today.month());
    let title = wait_for_text(&driver, "#report-title", "the report's title", |t| t.contains("月度服务报告")).await?;
    let station = title.split(" · ").next().unwrap_or_default().to_string();
    assert!(station.contains("社工站"), "{title}");
    wait_for(&driver, "#report-table-visits-by-worker").await?;
    screenshot(&driver, "ops-61-monthly-report-preview").await?;

    // A year that is not one is refused at its field; what was typed stays.
    set(&driver, "#report-year", "20x6").await?;
    wait_for_text(&driver, "#error-period", "the period refused", |t| t.contains("统计期间")).await?;
    assert_eq!(wait_for(&driver, "#report-year").await?.prop("value").await?.as_deref(), Some("20x6"));
    assert!(wait_for(&driver, "#export-xlsx").await?.attr("disabled").await?.is_some(), "no export meanwhile");
    screenshot(&driver, "ops-62-year-refused-at-its-field").await?;
    set(&driver, "#report-year", &today.year().to_string()).await?;
    wait_for_text(&driver, "#error-period", "the error gone", str::is_empty).await?;

    // Exported both ways; the page names each file and the folder.
    click(&driver, "#export-xlsx").await?;
    let xlsx_name =
        wait_for_text(&driver, "#export-file-name", "the workbook's name", |t| t.ends_with(".xlsx")).await?;
    click(&driver, "#export-pdf").await?;
    let pdf_name = wait_for_text(&driver, "#export-file-name", "the PDF's name", |t| t.ends_with(".pdf")).await?;
    let folder = PathBuf::from(text_of(&driver, "#export-folder").await?);
    assert_eq!(folder, app.dirs().app_data_dir().join("reports"));
    assert_eq!(xlsx_name, format!("{station}-月度服务报告-{}.xlsx", today.format("%Y-%m")));
    screenshot(&driver, "ops-63-report-exported").await?;

    // A person's file printed from the file page, into the same folder.
    go_to(&driver, "#/roster").await?;
    click(&driver, "#roster-table tbody tr td.name a").await?;
    wait_for(&driver, "#recipient-file").await?;
    let person = text_of(&driver, "#recipient-name").await?;
    click(&driver, "#print-recipient-file").await?;
    let file_pdf = wait_for_text(&driver, "#print-file-name", "the file's PDF", |t| t.ends_with(".pdf")).await?;
    assert_eq!(PathBuf::from(text_of(&driver, "#print-folder").await?), folder);
    screenshot(&driver, "ops-64-recipient-file-printed").await?;
    driver.quit().await?;

    // Kept with the screenshots, the PDF's first page as a picture beside it.
    let kept = screenshot_dir()?.join("reports");
    std::fs::create_dir_all(&kept)?;
    let xlsx = keep(&folder.join(&xlsx_name), &kept)?;
    let pdf = keep(&folder.join(&pdf_name), &kept)?;
    let page_prefix = kept.join(format!("{}-page", pdf_name.trim_end_matches(".pdf")));
    let pdf_arg = pdf.to_str().ok_or("a UTF-8 path")?;
    run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf_arg,
            page_prefix.to_str().ok_or("a UTF-8 path")?,
        ],
    )?;
    assert!(page_prefix.with_extension("png").is_file(), "the first page rendered");

    // The figures, counted here from the rows the server holds for the station.
    let held = tokio::task::block_in_place(|| server.held_by("fuzhan1", DEMO_PASSWORD))?;
    let month = today.format("%Y-%m").to_string();
    let name_of = |id: Option<uuid::Uuid>| -> String {
        id.and_then(|id| held.get(&id)).and_then(|h| h.str(field::user::DISPLAY_NAME)).unwrap_or("—").to_string()
    };
    let mut by_worker: BTreeMap<String, u64> = BTreeMap::new();
    for visit in held.values().filter(|h| h.kind == EntityKind::Visit) {
        let this_month = visit.str(field::visit::VISITED_ON).is_some_and(|d| d.starts_with(&month));
        if this_month && visit.str(field::AMENDS).is_none() {
            *by_worker.entry(name_of(visit.id_of(field::WORKER_ID))).or_default() += 1;
        }
    }
    let mut by_category: BTreeMap<&str, u64> = BTreeMap::new();
    let mut people = 0;
    for person in held.values().filter(|h| h.kind == EntityKind::Recipient) {
        people += 1;
        for category in person.fields.get(field::recipient::CATEGORIES).and_then(|v| v.as_array()).into_iter().flatten()
        {
            if let Some(c) = category.as_str().and_then(RecipientCategory::parse) {
                *by_category.entry(c.zh()).or_default() += 1;
            }
        }
    }

    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(std::fs::read(&xlsx)?))?;
    let summary = book.worksheet_range("概要")?;
    assert_eq!(summary.get_value((0, 0)), Some(&Data::String("月度服务报告".into())));
    assert_eq!(summary.get_value((2, 1)), Some(&Data::String(station.clone())));
    let recipients = table_rows(&book.worksheet_range("1 服务对象")?, "按对象类别（在册）");
    let (total, categories) = recipients.split_last().ok_or("the recipients' table")?;
    assert_eq!(total, &vec!["在册人数合计".to_string(), people.to_string()]);
    let counted: BTreeMap<&str, u64> =
        categories.iter().filter_map(|r| Some((r[0].as_str(), r[1].parse().ok()?))).collect();
    assert_eq!(counted, by_category, "recipients by category");
    let visits = table_rows(&book.worksheet_range("2 入户走访")?, "按社工");
    let (total, workers) = visits.split_last().ok_or("the visits' table")?;
    let counted: BTreeMap<String, u64> =
        workers.iter().filter_map(|r| Some((r[0].clone(), r[1].parse().ok()?))).collect();
    assert_eq!(counted, by_worker, "visits this month by worker");
    assert_eq!(total[1], by_worker.values().sum::<u64>().to_string());
    for sheet in ["3 个案服务", "4 转介", "5 服务内容与方法", "6 活动与参与人数"] {
        book.worksheet_range(sheet).map_err(|e| format!("sheet {sheet}: {e}"))?;
    }

    // The PDF's text: the header on every page, the figures in the body.
    let text = String::from_utf8(run("pdftotext", &["-layout", pdf_arg, "-"])?)?;
    let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert!(!pages.is_empty(), "a page of text");
    for page in &pages {
        assert!(page.contains(&station) && page.contains("月度服务报告") && page.contains(&period_zh), "{page}");
    }
    for (worker, count) in &by_worker {
        assert!(
            text.lines().any(|l| l.contains(worker.as_str()) && l.contains(&count.to_string())),
            "{worker} {count}"
        );
    }
    for heading in ["服务对象", "入户走访", "个案服务", "转介", "服务内容与方法"] {
        assert!(text.contains(heading), "{heading} in the PDF");
    }

    let file_pdf = keep(&folder.join(&file_pdf), &kept)?;
    let text = String::from_utf8(run("pdftotext", &["-layout", file_pdf.to_str().ok_or("a UTF-8 path")?, "-"])?)?;
    assert!(text.contains("服务对象档案") && text.contains(&person) && text.contains("服务台账"), "{text}");
    Ok(())
}
