//! The periodic review as the page a 保護責任者 signs and files (004 art.11-6, 20-3,
//! 22): the summary's counts and what needs attention, in a table over as many A4
//! pages as it takes, with the period, who made it and when, and boxes for the
//! reviewer's and the manager's seals on the last page.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use super::{Report, in_japanese};
use crate::Lang;
use crate::erasure::pdf::{ems, find_font, load_font, wrap};
use crate::error::{Error, Result};

/// What the page says about itself besides the rows.
#[derive(Debug, Clone)]
pub struct PageHeading {
    /// The organisation.
    pub organisation: String,
    /// The station that made it.
    pub station: String,
    /// The period's first day.
    pub from: String,
    /// Its last day.
    pub to: String,
    /// When it was made (local time, as people read it).
    pub made_at: String,
    /// Who made it.
    pub made_by: String,
}

const W: f32 = 595.28;
const H: f32 = 841.89;
const MARGIN: f32 = 42.0;
const SIZE: f32 = 9.5;
const LEADING: f32 = 13.0;
const STAMP_W: f32 = 110.0;
const STAMP_H: f32 = 80.0;

fn color(r: u8, g: u8, b: u8) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

/// Draws on one page.
struct Pen<'a, 'b> {
    surface: &'a mut Surface<'b>,
    font: Font,
}

impl Pen<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(Fill {
            paint: color(0, 0, 0).into(),
            ..Default::default()
        }));
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Option<rgb::Color>) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut pb = PathBuilder::new();
        pb.push_rect(rect);
        let Some(path) = pb.finish() else { return };
        self.surface.set_fill(fill.map(|c| Fill {
            paint: c.into(),
            ..Default::default()
        }));
        self.surface.set_stroke(Some(Stroke {
            paint: color(120, 120, 120).into(),
            width: 0.6,
            opacity: NormalizedF32::ONE,
            ..Default::default()
        }));
        self.surface.draw_path(&path);
    }
}

/// One row laid out: its cells' lines and its height.
struct Laid {
    cells: Vec<Vec<String>>,
    height: f32,
}

impl Report {
    /// The report as A4 pages: its title, the heading, the table, and on the last
    /// page the seal boxes of the reviewer and the manager. Values are worded as in
    /// the CSV of the same language.
    pub fn to_pdf(&self, lang: Lang, heading: &PageHeading) -> Result<Vec<u8>> {
        let font = load_font(&find_font()?)?;
        let japanese = lang == Lang::Ja;
        let titles: Vec<&str> = self
            .columns
            .iter()
            .map(|c| if japanese { c.ja } else { c.en })
            .collect();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(self.columns)
                    .map(|(value, column)| {
                        if japanese {
                            in_japanese(self.kind, column.key, value)
                        } else {
                            value.clone()
                        }
                    })
                    .collect()
            })
            .collect();
        let widths = column_widths(&titles, &rows);
        let lay = |cells: &[String]| {
            let cells: Vec<Vec<String>> = cells
                .iter()
                .zip(&widths)
                .map(|(text, w)| wrap(text, SIZE, w - 8.0))
                .collect();
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            Laid {
                height: lines as f32 * LEADING + 6.0,
                cells,
            }
        };
        let header = lay(&titles.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>());
        let laid: Vec<Laid> = rows.iter().map(|r| lay(r)).collect();

        // Rows onto pages: the first page below the heading, every page with the
        // header row, the last with room for the seals.
        let first_top = MARGIN + 110.0;
        let bottom = H - MARGIN - 24.0;
        let mut pages: Vec<Vec<usize>> = vec![Vec::new()];
        let mut y = first_top + header.height;
        for (i, row) in laid.iter().enumerate() {
            if y + row.height > bottom {
                pages.push(Vec::new());
                y = MARGIN + header.height;
            }
            pages.last_mut().expect("one page at least").push(i);
            y += row.height;
        }
        if y + STAMP_H + 40.0 > bottom {
            pages.push(Vec::new());
        }

        let title = self.kind.title(lang);
        let count = pages.len();
        let mut pdf = Document::new();
        for (n, rows_here) in pages.iter().enumerate() {
            let mut page =
                pdf.start_page_with(PageSettings::from_wh(W, H).expect("A4 is a valid size"));
            let mut surface = page.surface();
            let mut pen = Pen {
                surface: &mut surface,
                font: font.clone(),
            };
            let mut y = MARGIN;
            if n == 0 {
                let size = 17.0;
                pen.text((W - ems(title) * size) / 2.0, y + 18.0, size, title);
                let lines = if japanese {
                    [
                        format!("{}　端末 {}", heading.organisation, heading.station),
                        format!("対象期間 {} 〜 {}", heading.from, heading.to),
                        format!("作成 {}　作成者 {}", heading.made_at, heading.made_by),
                    ]
                } else {
                    [
                        format!("{}, station {}", heading.organisation, heading.station),
                        format!("Period {} to {}", heading.from, heading.to),
                        format!("Made {} by {}", heading.made_at, heading.made_by),
                    ]
                };
                for (i, line) in lines.iter().enumerate() {
                    pen.text(MARGIN, y + 50.0 + i as f32 * 15.0, 10.0, line);
                }
                y = first_top;
            }
            y = draw_row(&mut pen, y, &header, &widths, Some(color(232, 236, 242)));
            for &i in rows_here {
                y = draw_row(&mut pen, y, &laid[i], &widths, None);
            }
            if laid.is_empty() && n == 0 {
                let none = if japanese {
                    "該当なし"
                } else {
                    "Nothing in this period"
                };
                pen.text(MARGIN + 4.0, y + 14.0, SIZE, none);
            }
            if n + 1 == count {
                let labels = if japanese {
                    ["点検者", "保護責任者（確認）"]
                } else {
                    ["Reviewed by", "Manager (checked)"]
                };
                let top = bottom - STAMP_H;
                for (k, label) in labels.iter().enumerate() {
                    let x = W - MARGIN - (2 - k) as f32 * (STAMP_W + 8.0);
                    pen.rect(x, top, STAMP_W, STAMP_H, None);
                    pen.text(x + 6.0, top + 13.0, 8.5, label);
                }
            }
            let folio = format!("{} / {}", n + 1, count);
            pen.text((W - ems(&folio) * 8.0) / 2.0, H - MARGIN + 6.0, 8.0, &folio);
            surface.finish();
            page.finish();
        }
        pdf.finish().map_err(|e| Error::Render {
            id: title.to_owned(),
            problem: format!("{e:?}"),
        })
    }
}

/// Column widths over the page's width, in proportion to what each column holds
/// (at least its title, at most a third of the page).
fn column_widths(titles: &[&str], rows: &[Vec<String>]) -> Vec<f32> {
    let room = W - 2.0 * MARGIN;
    let wants: Vec<f32> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let longest = rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| ems(c))
                .fold(ems(title), f32::max);
            (longest * SIZE + 10.0).clamp(40.0, room / 3.0)
        })
        .collect();
    let total: f32 = wants.iter().sum();
    wants.iter().map(|w| w * room / total).collect()
}

/// Draws one row at `y`; returns where the next starts.
fn draw_row(
    pen: &mut Pen<'_, '_>,
    y: f32,
    row: &Laid,
    widths: &[f32],
    fill: Option<rgb::Color>,
) -> f32 {
    let mut x = MARGIN;
    for (lines, w) in row.cells.iter().zip(widths) {
        pen.rect(x, y, *w, row.height, fill);
        for (k, line) in lines.iter().enumerate() {
            pen.text(x + 4.0, y + 3.0 + SIZE + k as f32 * LEADING, SIZE, line);
        }
        x += w;
    }
    y + row.height
}
