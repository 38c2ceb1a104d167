//! A report as a printable PDF (A4 portrait): on every page a header with the station's name on
//! the left and the title and period on the right, and the page number at the foot; each
//! section's heading, its tables (the columns' headings repeated on each page a table runs on)
//! and its notes. The text is drawn with one embedded CJK font, subset, so the file stays small
//! and its text can be copied and searched.

use contract::{Language, Report, ReportTable};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;

use crate::{RenderError, ReportFont};

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 42.0;
const HEADER_BOTTOM: f32 = 70.0;
const FOOTER_TOP: f32 = PAGE_HEIGHT - 40.0;
const BODY: f32 = 9.5;
const CELL_PADDING: f32 = 3.0;

/// The width of `text` at `size`, estimated: a CJK character is one em, a Latin one a little
/// over half. Enough to size columns and wrap cells; the font's own widths are close to these.
pub(crate) fn text_width(text: &str, size: f32) -> f32 {
    text.chars().map(|c| if c.is_ascii() { 0.56 } else { 1.0 }).sum::<f32>() * size
}

/// `text` broken into lines no wider than `width` (at any character: Chinese has no spaces;
/// a Latin word is kept whole when it fits a line).
pub(crate) fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in split_keeping_words(paragraph) {
            let candidate = format!("{line}{word}");
            if text_width(&candidate, size) <= width || line.is_empty() && text_width(word, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let word = if word == " " { "" } else { word };
            for c in word.chars() {
                let mut next = line.clone();
                next.push(c);
                if text_width(&next, size) > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                } else {
                    line = next;
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// Latin words (and the spaces after them) as pieces, every other character alone.
fn split_keeping_words(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            pieces.push(&text[s..i]);
        }
        pieces.push(&text[i..i + c.len_utf8()]);
    }
    if let Some(s) = start {
        pieces.push(&text[s..]);
    }
    pieces
}

/// The PDF's bytes.
pub fn render_pdf(report: &Report, language: Language, font: &ReportFont) -> Result<Vec<u8>, RenderError> {
    let krilla_font =
        font.krilla().ok_or_else(|| RenderError::BadFont(font.path.display().to_string(), "unreadable".into()))?;
    let mut layout = Layout::new(report, language);
    for section in &report.sections {
        layout.heading(section.heading.get(language), 13.0);
        for table in &section.tables {
            layout.table(table, language);
        }
        for note in &section.notes {
            layout.paragraph(note.get(language));
        }
        layout.space(8.0);
    }
    let pages = layout.finish();
    let mut document = Document::new();
    let count = pages.len();
    for (number, items) in pages.into_iter().enumerate() {
        let settings =
            PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or_else(|| RenderError::Pdf("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let header = page_header(report, language, number + 1, count);
        for item in header.iter().chain(items.iter()) {
            match item {
                Item::Text { x, y, size, text } => {
                    surface.set_fill(Some(Fill { paint: rgb::Color::new(0, 0, 0).into(), ..Default::default() }));
                    surface.set_stroke(None);
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        krilla_font.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Item::Line { x1, y1, x2, y2 } => {
                    let mut path = PathBuilder::new();
                    path.move_to(*x1, *y1);
                    path.line_to(*x2, *y2);
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(90, 90, 90).into(),
                            width: 0.5,
                            ..Default::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
                Item::Shade { x, y, w, h } => {
                    if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                        let mut path = PathBuilder::new();
                        path.push_rect(rect);
                        if let Some(path) = path.finish() {
                            surface.set_stroke(None);
                            surface.set_fill(Some(Fill {
                                paint: rgb::Color::new(232, 236, 240).into(),
                                ..Default::default()
                            }));
                            surface.draw_path(&path);
                        }
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}

/// Something drawn on a page, in points from the page's top left; a text's `y` is its baseline.
#[derive(Debug, Clone)]
enum Item {
    Text { x: f32, y: f32, size: f32, text: String },
    Line { x1: f32, y1: f32, x2: f32, y2: f32 },
    Shade { x: f32, y: f32, w: f32, h: f32 },
}

fn page_header(report: &Report, language: Language, number: usize, count: usize) -> Vec<Item> {
    let right = |text: &str, size: f32, y: f32| Item::Text {
        x: PAGE_WIDTH - MARGIN - text_width(text, size),
        y,
        size,
        text: text.to_owned(),
    };
    let title = report.title.get(language);
    let subtitle = report.subtitle.get(language);
    let page = match language {
        Language::Zh => format!("第 {number} 页，共 {count} 页"),
        Language::En => format!("Page {number} of {count}"),
    };
    vec![
        Item::Text { x: MARGIN, y: 44.0, size: 12.0, text: report.station_name.clone() },
        right(title, 12.0, 44.0),
        right(subtitle, 9.0, 60.0),
        Item::Line { x1: MARGIN, y1: 64.0, x2: PAGE_WIDTH - MARGIN, y2: 64.0 },
        Item::Line { x1: MARGIN, y1: FOOTER_TOP, x2: PAGE_WIDTH - MARGIN, y2: FOOTER_TOP },
        right(&page, 8.0, FOOTER_TOP + 14.0),
    ]
}

/// Pages filled top to bottom.
struct Layout {
    pages: Vec<Vec<Item>>,
    y: f32,
}

impl Layout {
    fn new(report: &Report, language: Language) -> Layout {
        let mut layout = Layout { pages: vec![Vec::new()], y: HEADER_BOTTOM + 10.0 };
        layout.heading(report.title.get(language), 18.0);
        layout.paragraph(&format!("{}　{}", report.station_name, report.subtitle.get(language)));
        let made = match language {
            Language::Zh => format!("制表日期：{}", report.made_on),
            Language::En => format!("Made on {}", report.made_on),
        };
        layout.paragraph(&made);
        layout.space(6.0);
        layout
    }

    fn finish(self) -> Vec<Vec<Item>> {
        self.pages
    }

    fn width() -> f32 {
        PAGE_WIDTH - 2.0 * MARGIN
    }

    fn push(&mut self, item: Item) {
        if let Some(page) = self.pages.last_mut() {
            page.push(item);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = HEADER_BOTTOM + 10.0;
    }

    /// Starts a new page unless `height` fits on this one.
    fn room_for(&mut self, height: f32) -> bool {
        if self.y + height > FOOTER_TOP - 8.0 {
            self.new_page();
            return true;
        }
        false
    }

    fn space(&mut self, height: f32) {
        self.y += height;
    }

    fn heading(&mut self, text: &str, size: f32) {
        // A heading never ends a page: keep room for a few lines under it.
        self.room_for(size * 1.6 + 40.0);
        self.y += size * 1.3;
        self.push(Item::Text { x: MARGIN, y: self.y, size, text: text.to_owned() });
        self.y += size * 0.5;
    }

    fn paragraph(&mut self, text: &str) {
        for line in wrap(text, BODY, Layout::width()) {
            self.room_for(BODY * 1.5);
            self.y += BODY * 1.5;
            self.push(Item::Text { x: MARGIN, y: self.y, size: BODY, text: line });
        }
    }

    fn table(&mut self, table: &ReportTable, language: Language) {
        let headings: Vec<String> = table.columns.iter().map(|c| c.get(language).to_owned()).collect();
        let rows: Vec<Vec<String>> =
            table.rows.iter().map(|r| r.iter().map(|c| c.display(language)).collect()).collect();
        let widths = column_widths(&headings, &rows, Layout::width());
        self.room_for(60.0);
        self.y += 14.0;
        self.push(Item::Text { x: MARGIN, y: self.y, size: 10.5, text: table.heading.get(language).to_owned() });
        self.y += 5.0;
        self.row(&headings, &widths, true);
        if rows.is_empty() {
            let none = match language {
                Language::Zh => "（本期无记录）",
                Language::En => "(nothing in this period)",
            };
            self.row(&[none.to_owned()], &[Layout::width()], false);
        }
        for cells in &rows {
            let height = row_height(cells, &widths);
            if self.room_for(height) {
                self.row(&headings, &widths, true);
            }
            self.row(cells, &widths, false);
        }
        self.y += 4.0;
    }

    fn row(&mut self, cells: &[String], widths: &[f32], heading: bool) {
        let height = row_height(cells, widths);
        let top = self.y;
        if heading {
            self.push(Item::Shade { x: MARGIN, y: top, w: widths.iter().sum(), h: height });
        }
        let mut x = MARGIN;
        for (cell, width) in cells.iter().zip(widths) {
            let mut y = top + CELL_PADDING;
            for line in wrap(cell, BODY, width - 2.0 * CELL_PADDING) {
                y += BODY * 1.25;
                self.push(Item::Text { x: x + CELL_PADDING, y: y - BODY * 0.2, size: BODY, text: line });
            }
            x += width;
        }
        let right = MARGIN + widths.iter().sum::<f32>();
        self.push(Item::Line { x1: MARGIN, y1: top + height, x2: right, y2: top + height });
        if heading {
            self.push(Item::Line { x1: MARGIN, y1: top, x2: right, y2: top });
        }
        self.y = top + height;
    }
}

fn row_height(cells: &[String], widths: &[f32]) -> f32 {
    let lines = cells.iter().zip(widths).map(|(c, w)| wrap(c, BODY, w - 2.0 * CELL_PADDING).len()).max().unwrap_or(1);
    lines.max(1) as f32 * BODY * 1.25 + 2.0 * CELL_PADDING
}

/// Each column as wide as its widest text wants, shrunk in proportion when they do not fit
/// (each keeps room for a few characters).
fn column_widths(headings: &[String], rows: &[Vec<String>], total: f32) -> Vec<f32> {
    let count = headings.len().max(rows.iter().map(Vec::len).max().unwrap_or(0)).max(1);
    let mut wants = vec![3.0 * BODY; count];
    for cells in std::iter::once(headings).chain(rows.iter().map(Vec::as_slice)) {
        for (want, cell) in wants.iter_mut().zip(cells) {
            let widest = cell.split('\n').map(|l| text_width(l, BODY)).fold(0.0, f32::max);
            *want = want.max(widest + 2.0 * CELL_PADDING + 1.0);
        }
    }
    let sum: f32 = wants.iter().sum();
    if sum <= total {
        return wants;
    }
    let floor = (total / count as f32).min(4.0 * BODY);
    let flexible: f32 = wants.iter().map(|w| w - floor).sum();
    let spare = total - floor * count as f32;
    wants.iter().map(|w| floor + (w - floor) * spare / flexible.max(1.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_wraps_at_any_character_and_latin_words_stay_whole() {
        let lines = wrap("城关社工站月度服务报告", 10.0, 45.0);
        assert_eq!(lines, vec!["城关社工", "站月度服", "务报告"]);
        let lines = wrap("Emotional counselling", 10.0, 70.0);
        assert_eq!(lines, vec!["Emotional ", "counselling"]);
        assert_eq!(wrap("", 10.0, 50.0), vec![String::new()]);
    }

    #[test]
    fn columns_fit_the_page_however_wide_their_text() {
        let headings = vec!["村(社区)".to_owned(), "走访次数".to_owned()];
        let rows = vec![vec!["很".repeat(200), "3".to_owned()]];
        let widths = column_widths(&headings, &rows, 500.0);
        assert!((widths.iter().sum::<f32>() - 500.0).abs() < 0.5, "{widths:?}");
        assert!(widths[1] >= 4.0 * BODY - 0.01, "{widths:?}");
    }
}
