//! A report as an `.xlsx` workbook: a first sheet with the title, the station, the period and
//! the day the figures were made; then a sheet per section, its tables one under another (the
//! table's heading, its columns' headings, its rows, an empty row). Counts, hours and shares are
//! numbers, so the reader can sum them again.

use contract::{Cell, Language, Report, ReportSection};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::RenderError;

/// Excel's limit on a sheet's name.
const SHEET_NAME_MAX: usize = 31;

/// The row of a section's sheet holding its first table's heading.
pub const FIRST_TABLE_ROW: u32 = 0;

/// The workbook's bytes.
pub fn render_xlsx(report: &Report, language: Language) -> Result<Vec<u8>, RenderError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let hours = Format::new().set_num_format("0.0");
    let percent = Format::new().set_num_format("0.0\"%\"");

    let summary = workbook.add_worksheet();
    summary.set_name(sheet_name(summary_name(language), 0))?;
    summary.set_column_width(0, 16)?;
    summary.set_column_width(1, 40)?;
    summary.write_string_with_format(0, 0, report.title.get(language), &title)?;
    let lines = [
        (("社工站", "Station"), report.station_name.clone()),
        (("统计期间", "Period"), report.subtitle.get(language).to_owned()),
        (("制表日期", "Made on"), report.made_on.to_string()),
    ];
    for (row, ((zh, en), value)) in (2u32..).zip(lines) {
        summary.write_string_with_format(row, 0, pick(language, zh, en), &bold)?;
        summary.write_string(row, 1, value)?;
    }

    for (index, section) in report.sections.iter().enumerate() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name(section.heading.get(language), index + 1))?;
        write_section(sheet, section, language, &Styles { bold: &bold, hours: &hours, percent: &percent })?;
    }
    Ok(workbook.save_to_buffer()?)
}

struct Styles<'a> {
    bold: &'a Format,
    hours: &'a Format,
    percent: &'a Format,
}

fn write_section(
    sheet: &mut Worksheet,
    section: &ReportSection,
    language: Language,
    styles: &Styles,
) -> Result<(), RenderError> {
    let columns = section.tables.iter().map(|t| t.columns.len()).max().unwrap_or(1).max(1);
    sheet.set_column_width(0, 24)?;
    for column in 1..columns {
        sheet.set_column_width(u16::try_from(column).unwrap_or(u16::MAX), 14)?;
    }
    let mut row: u32 = FIRST_TABLE_ROW;
    for table in &section.tables {
        sheet.write_string_with_format(row, 0, table.heading.get(language), styles.bold)?;
        row += 1;
        for (column, heading) in (0u16..).zip(&table.columns) {
            sheet.write_string_with_format(row, column, heading.get(language), styles.bold)?;
        }
        row += 1;
        for cells in &table.rows {
            for (column, cell) in (0u16..).zip(cells) {
                match cell {
                    Cell::Count(n) => {
                        sheet.write_number(row, column, *n as f64)?;
                    }
                    Cell::Hours(h) => {
                        sheet.write_number_with_format(row, column, *h, styles.hours)?;
                    }
                    Cell::Percent(p) => {
                        sheet.write_number_with_format(row, column, *p, styles.percent)?;
                    }
                    Cell::Empty => {}
                    other => {
                        sheet.write_string(row, column, other.display(language))?;
                    }
                }
            }
            row += 1;
        }
        row += 1;
    }
    for note in &section.notes {
        sheet.write_string(row, 0, note.get(language))?;
        row += 1;
    }
    Ok(())
}

fn pick(language: Language, zh: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::Zh => zh,
        Language::En => en,
    }
}

fn summary_name(language: Language) -> &'static str {
    pick(language, "概要", "Summary")
}

/// A sheet name Excel accepts: none of `[]:*?/\`, not starting or ending with `'`, at most 31
/// UTF-16 units, never empty, and made distinct by the section's number.
pub fn sheet_name(heading: &str, index: usize) -> String {
    let clean: String = heading
        .chars()
        .map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim().trim_matches('\'');
    let prefix = if index == 0 { String::new() } else { format!("{index} ") };
    // Excel counts the name in UTF-16 units (a character outside the BMP is two).
    let mut room = SHEET_NAME_MAX.saturating_sub(prefix.len());
    let kept: String = clean
        .chars()
        .take_while(|c| {
            let fits = c.len_utf16() <= room;
            room = room.saturating_sub(c.len_utf16());
            fits
        })
        .collect();
    let name = format!("{prefix}{kept}");
    let name = name.trim().trim_end_matches('\'').to_owned();
    if name.is_empty() { format!("{}", index.max(1)) } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_keep_within_excel_s_rules() {
        assert_eq!(sheet_name("服务对象", 1), "1 服务对象");
        assert_eq!(sheet_name("a/b:c", 2), "2 a b c");
        assert_eq!(sheet_name("", 0), "1");
        assert_eq!(sheet_name(&"长".repeat(40), 3).chars().count(), 31);
        assert_eq!(sheet_name(&"𐠼".repeat(40), 3).encode_utf16().count(), 30);
    }
}
