//! Draws the benchmark results of `bench/run.mjs` (JSON) as a PNG: one panel
//! per metric, the softphone's bar next to JsSIP's (and the library build's
//! when measured), each at its median with the min–max spread as a whisker,
//! and the ratios to JsSIP in the caption.
//!
//! Usage: softphone-bench-chart <results.json> <out.png> [font.ttf]
//! (font default: /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf, Debian
//! package fonts-dejavu-core).

use plotters::prelude::*;
use plotters::style::FontStyle;
use serde_json::Value;
use std::error::Error;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const OURS: RGBColor = RGBColor(47, 111, 115);
const JSSIP: RGBColor = RGBColor(214, 140, 46);
const LIB: RGBColor = RGBColor(120, 150, 190);
const PANEL_W: u32 = 620;
const PANEL_H: u32 = 380;
const COLS: usize = 3;
const HEADER_H: u32 = 90;

/// One side of a metric: median, min, max (already in display units).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Side {
    median: f64,
    min: f64,
    max: f64,
}

#[derive(Clone, Debug, PartialEq)]
struct Metric {
    label: String,
    unit: String,
    better: String,
    ours: Side,
    jssip: Side,
    /// The library build (sip-agent.js), when the run measured it.
    lib: Option<Side>,
    ratio: Option<f64>,
    lib_ratio: Option<f64>,
    /// The issue's target for the softphone, in display units, and as the
    /// issue says it (bytes in KB of 1000).
    target: Option<(f64, String)>,
}

fn side(v: &Value, scale: f64) -> Option<Side> {
    let median = v.get("median")?.as_f64()? / scale;
    let min = v
        .get("min")
        .and_then(Value::as_f64)
        .map_or(median, |x| x / scale);
    let max = v
        .get("max")
        .and_then(Value::as_f64)
        .map_or(median, |x| x / scale);
    Some(Side { median, min, max })
}

/// Bytes are shown in KiB, or MiB when the larger median is over 1 MiB;
/// messages per second in thousands.
fn display_unit(unit: &str, largest: f64) -> (String, f64) {
    match unit {
        "bytes" if largest >= 1024.0 * 1024.0 => ("MiB".into(), 1024.0 * 1024.0),
        "bytes" => ("KiB".into(), 1024.0),
        "msg/s" => ("thousand msg/s".into(), 1000.0),
        u => (u.into(), 1.0),
    }
}

fn metrics(doc: &Value) -> Vec<Metric> {
    let Some(list) = doc.get("metrics").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|m| {
            let unit = m.get("unit")?.as_str()?;
            let largest = ["ours", "jssip", "lib"]
                .iter()
                .filter_map(|k| m.get(*k)?.get("median")?.as_f64())
                .fold(0.0, f64::max);
            let (shown, scale) = display_unit(unit, largest);
            Some(Metric {
                label: m.get("label")?.as_str()?.to_string(),
                unit: shown,
                better: m
                    .get("better")
                    .and_then(Value::as_str)
                    .unwrap_or("lower")
                    .to_string(),
                ours: side(m.get("ours")?, scale)?,
                jssip: side(m.get("jssip")?, scale)?,
                lib: m.get("lib").and_then(|l| side(l, scale)),
                ratio: m.get("ratio").and_then(Value::as_f64),
                lib_ratio: m.get("lib_ratio").and_then(Value::as_f64),
                target: m.get("target").and_then(Value::as_f64).map(|t| {
                    let said = if unit == "bytes" {
                        format!("{} KB", number(t / 1000.0))
                    } else {
                        format!("{} {unit}", number(t))
                    };
                    (t / scale, said)
                }),
            })
        })
        .collect()
}

fn number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn axis_number(v: f64, max: f64) -> String {
    if max >= 20.0 {
        format!("{v:.0}")
    } else if max >= 2.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    m: &Metric,
) -> Result<(), Box<dyn Error>> {
    let bars: Vec<(&str, Side, RGBColor)> = [
        ("softphone", Some(m.ours), OURS),
        ("JsSIP", Some(m.jssip), JSSIP),
        ("library", m.lib, LIB),
    ]
    .into_iter()
    .filter_map(|(name, s, c)| s.map(|s| (name, s, c)))
    .collect();
    let top = bars
        .iter()
        .map(|(_, s, _)| s.max.max(s.median))
        .fold(m.target.as_ref().map_or(0.0, |t| t.0), f64::max);
    let y_max = if top > 0.0 { top * 1.25 } else { 1.0 };
    let mut ratio = m
        .ratio
        .map(|r| format!("ours/JsSIP {r:.2} ({} is better)", m.better))
        .unwrap_or_default();
    if let Some(r) = m.lib_ratio {
        ratio.push_str(&format!(", library/JsSIP {r:.2}"));
    }
    let x_end = bars.len() as f64 - 0.5;
    let (title, plot) = area.split_vertically(52);
    title.draw(&Text::new(
        m.label.as_str(),
        (14, 8),
        ("sans-serif", 17).into_font().color(&BLACK),
    ))?;
    let verdict = match m.ratio {
        Some(r) if (m.better == "lower") == (r <= 1.0) => RGBColor(30, 120, 50),
        Some(_) => RGBColor(170, 40, 30),
        None => RGBColor(80, 80, 80),
    };
    title.draw(&Text::new(
        ratio,
        (14, 30),
        ("sans-serif", 15).into_font().color(&verdict),
    ))?;
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5f64..x_end, 0f64..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .y_labels(6)
        .x_labels(bars.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 0.01 || i < 0.0 {
                return String::new();
            }
            bars.get(i as usize)
                .map_or(String::new(), |b| b.0.to_string())
        })
        .y_desc(m.unit.as_str())
        .y_label_formatter(&|y| axis_number(*y, y_max))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 14))
        .draw()?;
    if let Some((t, said)) = &m.target {
        let t = *t;
        let red = RGBColor(200, 30, 30);
        chart.draw_series(LineSeries::new(
            [(-0.5, t), (x_end, t)],
            red.stroke_width(2),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("target {said}"),
            (0.35, t + y_max * 0.07),
            ("sans-serif", 14).into_font().color(&red),
        )))?;
    }
    for (i, &(_, s, color)) in bars.iter().enumerate() {
        let x = i as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x - 0.3, 0.0), (x + 0.3, s.median)],
            color.filled(),
        )))?;
        if s.max > s.min {
            let whisker = BLACK.stroke_width(2);
            chart.draw_series(LineSeries::new([(x, s.min), (x, s.max)], whisker))?;
            for y in [s.min, s.max] {
                chart.draw_series(LineSeries::new([(x - 0.08, y), (x + 0.08, y)], whisker))?;
            }
        }
        chart.draw_series(std::iter::once(Text::new(
            number(s.median),
            (x - 0.1, s.max.max(s.median) + y_max * 0.07),
            ("sans-serif", 15).into_font().color(&BLACK),
        )))?;
    }
    Ok(())
}

fn run() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        return Err("usage: softphone-bench-chart <results.json> <out.png> [font.ttf]".into());
    };
    let font_path = args.get(3).map_or(FONT, String::as_str);
    let font =
        std::fs::read(font_path).map_err(|e| format!("cannot read the font {font_path}: {e}"))?;
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        Box::leak(font.into_boxed_slice()),
    )
    .map_err(|_| format!("{font_path} is not a font"))?;

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(input)?)?;
    let list = metrics(&doc);
    if list.is_empty() {
        return Err(format!("{input} has no metrics").into());
    }
    let rows = list.len().div_ceil(COLS);
    let width = PANEL_W * COLS as u32;
    let height = HEADER_H + PANEL_H * rows as u32;
    let root = BitMapBackend::new(output, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (header, body) = root.split_vertically(HEADER_H);
    let text = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let mach = doc.get("machine").cloned().unwrap_or(Value::Null);
    let mtext = |k: &str| {
        mach.get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    header.draw(&Text::new(
        format!(
            "softphone{} vs JsSIP {} — median of {} rounds, whiskers min–max",
            if list.iter().any(|m| m.lib.is_some()) {
                " and its library build"
            } else {
                ""
            },
            text("jssip_version"),
            doc.get("rounds").and_then(Value::as_u64).unwrap_or(0)
        ),
        (16, 14),
        ("sans-serif", 24).into_font().color(&BLACK),
    ))?;
    header.draw(&Text::new(
        format!(
            "{} · {}, {} cores · {} · loopback Kamailio, headless Chromium · load average {}",
            text("date"),
            mtext("cpu"),
            mtext("cores"),
            mtext("chromium"),
            doc.pointer("/loadavg/before/0")
                .and_then(Value::as_f64)
                .map_or("?".into(), |l| format!("{l:.1}"))
        ),
        (16, 50),
        ("sans-serif", 16).into_font().color(&RGBColor(80, 80, 80)),
    ))?;
    let with_lib = list.iter().any(|m| m.lib.is_some());
    let legend: &[(&str, RGBColor)] = if with_lib {
        &[("softphone", OURS), ("JsSIP", JSSIP), ("library", LIB)]
    } else {
        &[("softphone", OURS), ("JsSIP", JSSIP)]
    };
    for (i, &(name, color)) in legend.iter().enumerate() {
        let x = width as i32 - 150 * legend.len() as i32 + i as i32 * 150;
        header.draw(&Rectangle::new([(x, 18), (x + 20, 38)], color.filled()))?;
        header.draw(&Text::new(
            name,
            (x + 28, 18),
            ("sans-serif", 18).into_font().color(&BLACK),
        ))?;
    }
    let panels = body.split_evenly((rows, COLS));
    for (area, m) in panels.iter().zip(&list) {
        panel(area, m)?;
    }
    root.present()?;
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("softphone-bench-chart: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metrics_in_display_units() {
        let doc: Value = serde_json::from_str(
            r#"{"metrics":[{"label":"size","unit":"bytes","better":"lower",
                "ours":{"median":2097152,"min":2097152,"max":2097152},
                "jssip":{"median":1048576,"min":1000000,"max":1100000},"ratio":2.0}]}"#,
        )
        .unwrap();
        let m = metrics(&doc);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].unit, "MiB");
        assert_eq!(m[0].ours.median, 2.0);
        assert_eq!(m[0].jssip.median, 1.0);
        assert_eq!(m[0].ratio, Some(2.0));
        assert_eq!(m[0].target, None);
        assert_eq!(m[0].lib, None);
        let doc: Value = serde_json::from_str(
            r#"{"metrics":[{"label":"load","unit":"ms","ours":{"median":300},
                "jssip":{"median":200},"lib":{"median":100,"min":90,"max":120},"lib_ratio":0.5}]}"#,
        )
        .unwrap();
        let m = metrics(&doc);
        assert_eq!(
            m[0].lib.map(|l| (l.median, l.min, l.max)),
            Some((100.0, 90.0, 120.0))
        );
        assert_eq!(m[0].lib_ratio, Some(0.5));
        let doc: Value = serde_json::from_str(
            r#"{"metrics":[{"label":"gzip","unit":"bytes","target":250000,
                "ours":{"median":400000},"jssip":{"median":56000}}]}"#,
        )
        .unwrap();
        let m = metrics(&doc);
        assert_eq!(m[0].unit, "KiB");
        assert_eq!(m[0].ours.min, m[0].ours.median);
        assert_eq!(m[0].target.as_ref().map(|t| t.1.as_str()), Some("250 KB"));
    }
}
