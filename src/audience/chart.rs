//! Bar charts as SVG text, written by hand: two shapes (horizontal bars for a ranking,
//! vertical bars for a series over time) are all the audience page needs, and writing them
//! keeps the labels as `<text>` the browser lays out in any language, with no font files
//! (plotters needs a font backend to measure text: system fonts through font-kit and
//! FreeType, or a bundled font through ab_glyph).
//!
//! Every chart is a standalone `<svg>` with `role="img"`, a `<title>` and a `<desc>` (read
//! by screen readers), and presentation attributes only (the page's CSP forbids inline
//! styles). Text is XML-escaped.

use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const BAR: &str = "#2a6f97";
const GRID: &str = "#c8c8c8";
const INK: &str = "#222222";
const FONT: &str = "font-family=\"sans-serif\" font-size=\"12\"";

/// One bar: its label, its value, and the text written beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
}

/// Escapes text for SVG content and attributes.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn open(out: &mut String, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\"><title>{}</title><desc>{}</desc>",
        xml(title),
        xml(desc)
    );
}

/// An empty chart's message.
fn empty(title: &str, none: &str) -> String {
    let mut out = String::new();
    open(&mut out, 40.0, title, none);
    let _ = write!(
        out,
        "<text x=\"8\" y=\"24\" {FONT} fill=\"{INK}\">{}</text></svg>",
        xml(none)
    );
    out
}

/// A ranking: one horizontal bar per item, label on the left, `text` after the bar.
pub fn horizontal(title: &str, desc: &str, none: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return empty(title, none);
    }
    let (label_w, row, top) = (210.0, 26.0, 8.0);
    let plot_w = WIDTH - label_w - 110.0;
    let max = bars
        .iter()
        .map(|b| b.value)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let height = top * 2.0 + row * bars.len() as f64;
    let mut out = String::new();
    open(&mut out, height, title, desc);
    for (i, b) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let w = (b.value.max(0.0) / max * plot_w).max(if b.value > 0.0 { 1.0 } else { 0.0 });
        let _ = write!(
            out,
            "<g><text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" {FONT} fill=\"{INK}\">{label}</text>\
             <rect x=\"{label_w}\" y=\"{ry}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{BAR}\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\" {FONT} fill=\"{INK}\">{text}</text></g>",
            lx = label_w - 6.0,
            ty = y + 17.0,
            label = xml(&b.label),
            ry = y + 4.0,
            h = row - 8.0,
            vx = label_w + w + 6.0,
            text = xml(&b.text),
        );
    }
    out.push_str("</svg>");
    out
}

/// A series of counts: one vertical bar per item in order, a value axis with round whole
/// ticks, and at most about 12 labels under the bars (every n-th).
pub fn vertical(title: &str, desc: &str, none: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return empty(title, none);
    }
    let (left, right, top, bottom) = (56.0, 12.0, 12.0, 40.0);
    let height = 280.0;
    let plot_w = WIDTH - left - right;
    let plot_h = height - top - bottom;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let step = nice_step(max / 4.0).max(1.0);
    let axis_max = (max / step).ceil().max(1.0) * step;
    let mut out = String::new();
    open(&mut out, height, title, desc);
    let mut v = 0.0;
    while v <= axis_max + step / 2.0 {
        let y = top + plot_h - v / axis_max * plot_h;
        let _ = write!(
            out,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{x2}\" y2=\"{y:.1}\" stroke=\"{GRID}\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" {FONT} fill=\"{INK}\">{}</text>",
            number(v),
            x2 = WIDTH - right,
            tx = left - 6.0,
            ty = y + 4.0,
        );
        v += step;
    }
    let slot = plot_w / bars.len() as f64;
    let every = bars.len().div_ceil(12).max(1);
    for (i, b) in bars.iter().enumerate() {
        let h = b.value.max(0.0) / axis_max * plot_h;
        let x = left + slot * i as f64;
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{BAR}\">\
             <title>{}</title></rect>",
            xml(&format!("{} : {}", b.label, b.text)),
            y = top + plot_h - h,
            w = (slot * 0.8).max(0.5),
        );
        if i % every == 0 {
            let _ = write!(
                out,
                "<text x=\"{x:.1}\" y=\"{y}\" {FONT} fill=\"{INK}\">{}</text>",
                xml(&b.label),
                y = height - bottom + 16.0,
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A round tick step (1, 2 or 5 × 10ⁿ) at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    (nice * mag).max(if raw >= 1.0 { 1.0 } else { 0.0 })
}

/// A tick value: whole numbers without decimals.
fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(12.0), 20.0);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(number(20.0), "20");
    }
}
