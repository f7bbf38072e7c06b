//! Tables: aligned columns under a header, measured in terminal columns so that
//! Japanese text lines up as well as a terminal allows.

use std::fmt::Display;

use unicode_width::UnicodeWidthStr;

/// A column title in the language of messages.
fn column(title: &str) -> String {
    let id = format!(
        "col-{}",
        title.to_lowercase().replace(" / ", "-").replace(' ', "-")
    );
    crate::i18n::lookup(crate::i18n::lang(), &id).unwrap_or_else(|| title.to_owned())
}

/// A table of text cells.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column titles (English, upper case), each shown
    /// in the language of messages: `col-ID`, `col-KEY-ID`, … in the catalogue.
    pub fn new(header: &[&'static str]) -> Table {
        Table::titled(header.iter().map(|title| column(title)).collect())
    }

    /// An empty table with these titles, as they are.
    pub fn titled(header: Vec<String>) -> Table {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    /// Adds a row; each cell is shown with `Display`.
    pub fn row<I>(&mut self, cells: I) -> &mut Table
    where
        I: IntoIterator,
        I::Item: Display,
    {
        self.rows
            .push(cells.into_iter().map(|c| c.to_string()).collect());
        self
    }

    /// The table as text: two spaces between columns, no trailing spaces.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.width());
                }
            }
        }
        let mut out = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let cells: Vec<&str> = cells.collect();
            let last = cells.len().saturating_sub(1);
            for (i, cell) in cells.iter().enumerate() {
                out.push_str(cell);
                if i < last {
                    let width = widths.get(i).copied().unwrap_or(0);
                    out.extend(std::iter::repeat_n(' ', width + 2 - cell.width()));
                }
            }
            out.push('\n');
        };
        line(&mut self.header.iter().map(String::as_str));
        for row in &self.rows {
            line(&mut row.iter().map(String::as_str));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_cells_align_by_terminal_columns() {
        let mut table = Table::titled(vec!["ID".into(), "WHAT".into()]);
        table.row(["CO-1", "顧客名簿"]).row(["CO-12", "list"]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID     WHAT");
        assert_eq!(lines[1], "CO-1   顧客名簿");
        assert_eq!(lines[2], "CO-12  list");
        // A wide cell widens its column by its terminal width, not its char count.
        let mut wide = Table::titled(vec!["WHAT".into(), "ID".into()]);
        wide.row(["顧客", "CO-1"]).row(["ab", "CO-2"]);
        let text = wide.render();
        assert_eq!(text.lines().nth(1), Some("顧客  CO-1"));
        assert_eq!(text.lines().nth(2), Some("ab    CO-2"));
    }
}
