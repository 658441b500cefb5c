//! `automl-zero plot`: a run folder's `progress.jsonl` as a chart, `progress.png` and `progress.svg`.
//!
//! x is the number of individuals over the whole run (each experiment starts again from a small
//! count, so earlier experiments' last counts are added); y is fitness. Without islands it draws
//! the population's best and mean fitness (with a mean ± stdev band); with islands, one best line
//! and one dashed mean line per island. A mark shows each report where the population's best
//! program changed (on a long run, those too close to a later one are left out), and a faint
//! vertical line each experiment start after the first.
//!
//! The text is drawn with DejaVu Sans, embedded in the binary, so no system font is needed.

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Deserializer};
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use text::GlyphText;

/// The font every label is drawn with (see `assets/README.md` for its licence).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name the font is registered under.
const FAMILY: &str = "sans-serif";

/// Arguments of `plot`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  automl-zero plot runs/demo\n  automl-zero plot runs/demo --out-dir /tmp/plots --width 1600 --height 900"
)]
pub struct PlotArgs {
    /// The run folder (written by `search`) whose progress.jsonl is plotted, or that file itself.
    run_dir: PathBuf,
    /// Write progress.png and progress.svg to this folder (created if missing) instead of RUN_DIR.
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Width of the image in pixels.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(320..=10_000))]
    width: u32,
    /// Height of the image in pixels.
    #[arg(long, default_value_t = 640, value_parser = clap::value_parser!(u32).range(240..=10_000))]
    height: u32,
}

/// Runs `plot`.
pub fn run(args: PlotArgs) -> Result<()> {
    // A run's progress.jsonl names its folder too.
    let (run_dir, progress_path) = if args.run_dir.is_file() {
        let dir = match args.run_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (dir, args.run_dir.clone())
    } else if args.run_dir.is_dir() {
        (args.run_dir.clone(), args.run_dir.join("progress.jsonl"))
    } else {
        bail!("the run folder {} does not exist", args.run_dir.display());
    };
    let reports = read_progress(&progress_path)?;
    let data = PlotData::new(&reports);

    let out_dir = args.out_dir.as_deref().unwrap_or(&run_dir);
    fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the output folder {}", out_dir.display()))?;
    let title = format!("Search progress: {}", run_name(&run_dir));
    register_font()?;
    let size = (args.width, args.height);

    // The PNG is drawn to a sibling with a .png extension (the encoder picks the format from it),
    // then renamed, so a reader never sees half a file.
    let png_path = out_dir.join("progress.png");
    let png_tmp = out_dir.join("progress.tmp.png");
    {
        let root = GlyphText::new(BitMapBackend::new(&png_tmp, size))?.into_drawing_area();
        draw(&root, &data, &title)?;
        root.present()
            .map_err(|e| anyhow!("cannot write {}: {e}", png_tmp.display()))?;
    }
    fs::rename(&png_tmp, &png_path).with_context(|| {
        format!(
            "cannot rename {} to {}",
            png_tmp.display(),
            png_path.display()
        )
    })?;

    let svg_path = out_dir.join("progress.svg");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root, &data, &title)?;
        root.present()
            .map_err(|e| anyhow!("cannot draw {}: {e}", svg_path.display()))?;
    }
    crate::run_dir::write_atomic(&svg_path, svg.as_bytes())?;

    println!(
        "wrote {} and {} ({} reports, {} experiment{}{})",
        png_path.display(),
        svg_path.display(),
        reports.len(),
        data.segments.len(),
        if data.segments.len() == 1 { "" } else { "s" },
        match data.islands {
            0 => String::new(),
            k => format!(", {k} islands"),
        }
    );
    Ok(())
}

/// Registers the embedded font (idempotent).
fn register_font() -> Result<()> {
    plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| anyhow!("the embedded font DejaVuSans.ttf cannot be read"))
}

/// The name of the run folder, for the title (`.` becomes the current folder's name).
fn run_name(dir: &Path) -> String {
    fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string())
}

// ---------------------------------------------------------------------------------------------
// Reading progress.jsonl

/// One line of `progress.jsonl` (the fields the plot uses; others are ignored).
#[derive(Deserialize)]
struct Report {
    #[serde(default)]
    experiment: u64,
    individuals: u64,
    #[serde(deserialize_with = "nullable")]
    mean: Option<f64>,
    #[serde(default, deserialize_with = "nullable")]
    stdev: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    best: Option<f64>,
    #[serde(default)]
    islands: Option<Vec<IslandReport>>,
    #[serde(default)]
    best_changed: Option<bool>,
}

/// The statistics of one island in a report.
#[derive(Deserialize)]
struct IslandReport {
    #[serde(default, deserialize_with = "nullable")]
    mean: Option<f64>,
    #[serde(default, deserialize_with = "nullable")]
    best: Option<f64>,
}

/// A number that may be `null` (how JSON writes a NaN); the key itself is still required.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.filter(|v| v.is_finite()))
}

/// Reads every report of a `progress.jsonl`; errors name the file and the line.
fn read_progress(path: &Path) -> Result<Vec<Report>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!(
                "{} does not exist: is {} a run folder written by `automl-zero search`?",
                path.display(),
                path.parent().unwrap_or(Path::new(".")).display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut reports = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Report>(line) {
            Ok(report) => reports.push(report),
            // A search that is still running may be halfway through writing its last line.
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') && !reports.is_empty() => {
                eprintln!(
                    "warning: {}, line {}: ignoring an incomplete last line (is the search still writing?)",
                    path.display(),
                    i + 1
                );
            }
            Err(e) => bail!(
                "{}, line {}: not a progress report: {}",
                path.display(),
                i + 1,
                json_message(&e)
            ),
        }
    }
    if reports.is_empty() {
        bail!(
            "{} is empty: the search wrote no progress report yet",
            path.display()
        );
    }
    Ok(reports)
}

/// serde_json's message without its " at line 1 column N" (the line is named separately).
fn json_message(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match message.strip_suffix(&suffix) {
        Some(m) => format!("{m} (column {})", e.column()),
        None => message,
    }
}

// ---------------------------------------------------------------------------------------------
// What is drawn

/// A polyline per experiment (lines are broken where a new experiment starts).
type Series = Vec<Vec<(f64, f64)>>;

/// The reports laid out on the chart's axes.
struct PlotData {
    /// Each experiment: the cumulative individuals where it starts, and its number.
    segments: Vec<(f64, u64)>,
    /// The number of islands (0: the reports carry none).
    islands: usize,
    /// Without islands: best, mean, and the mean ± stdev band (low, high) per experiment.
    best: Series,
    mean: Series,
    band: Vec<Vec<(f64, f64, f64)>>,
    /// With islands: the best and the mean of each island.
    island_best: Vec<Series>,
    island_mean: Vec<Series>,
    /// Where the population's best program changed: (x, best fitness).
    changes: Vec<(f64, f64)>,
    x_range: Range<f64>,
    y_range: Range<f64>,
}

impl PlotData {
    fn new(reports: &[Report]) -> PlotData {
        let islands = reports
            .iter()
            .map(|r| r.islands.as_ref().map_or(0, Vec::len))
            .max()
            .unwrap_or(0);
        let mut data = PlotData {
            segments: Vec::new(),
            islands,
            best: Vec::new(),
            mean: Vec::new(),
            band: Vec::new(),
            island_best: vec![Vec::new(); islands],
            island_mean: vec![Vec::new(); islands],
            changes: Vec::new(),
            x_range: 0.0..1.0,
            y_range: 0.0..1.0,
        };
        let (mut offset, mut last): (u64, Option<&Report>) = (0, None);
        for r in reports {
            // A new experiment (or, in a folder a second search appended to, a new run) starts
            // when the experiment number changes or the count goes back.
            let new_segment = match last {
                None => true,
                Some(prev) => r.experiment != prev.experiment || r.individuals < prev.individuals,
            };
            if new_segment {
                if let Some(prev) = last {
                    offset += prev.individuals;
                }
                data.segments.push((offset as f64, r.experiment));
                data.best.push(Vec::new());
                data.mean.push(Vec::new());
                data.band.push(Vec::new());
                for s in data.island_best.iter_mut().chain(&mut data.island_mean) {
                    s.push(Vec::new());
                }
            }
            last = Some(r);
            let x = (offset + r.individuals) as f64;
            let push = |series: &mut Series, y: Option<f64>| {
                if let Some(y) = y {
                    series.last_mut().unwrap().push((x, y));
                }
            };
            push(&mut data.best, r.best);
            push(&mut data.mean, r.mean);
            if let (Some(mean), Some(stdev)) = (r.mean, r.stdev) {
                data.band
                    .last_mut()
                    .unwrap()
                    .push((x, mean - stdev, mean + stdev));
            }
            let island_reports = r.islands.as_deref().unwrap_or(&[]);
            for (k, island) in island_reports.iter().enumerate() {
                push(&mut data.island_best[k], island.best);
                push(&mut data.island_mean[k], island.mean);
            }
            if r.best_changed == Some(true) {
                let island_max = island_reports
                    .iter()
                    .filter_map(|i| i.best)
                    .fold(None, |m: Option<f64>, b| Some(m.map_or(b, |m| m.max(b))));
                if let Some(y) = r.best.or(island_max) {
                    data.changes.push((x, y));
                }
            }
        }

        let x_max = reports
            .last()
            .map_or(1.0, |r| (offset + r.individuals) as f64)
            .max(1.0);
        data.x_range = 0.0..x_max * 1.02;
        // Fitness is in [0, 1]; the range grows only if the data go outside it.
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        let lines = [&data.best, &data.mean]
            .into_iter()
            .chain(&data.island_best)
            .chain(&data.island_mean);
        for series in lines {
            for &(_, y) in series.iter().flatten() {
                lo = lo.min(y);
                hi = hi.max(y);
            }
        }
        let pad = 0.03 * (hi - lo);
        data.y_range = lo - pad..hi + pad;
        data
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing

/// The colour of the population's best fitness (without islands).
const BEST: RGBColor = RGBColor(31, 119, 180);
/// The colour of the population's mean fitness (without islands).
const MEAN: RGBColor = RGBColor(230, 110, 20);
/// The vertical lines at experiment starts.
const RULE: RGBColor = RGBColor(160, 160, 160);
/// The colours of the islands, in turn (Tableau 10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// The marks where the best program changed, and the experiment lines' labels.
const INK: RGBColor = RGBColor(30, 30, 30);

/// A colour mixed with white (`amount` 0: unchanged, 1: white).
fn lighter(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (v as f64 + (255.0 - v as f64) * amount).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// How a legend entry's swatch looks.
enum Swatch {
    /// A solid line and a dashed line of one colour (an island's best and mean).
    SolidDashed(RGBColor),
    /// A solid line.
    Line(RGBColor, u32),
    /// A dashed line.
    Dashed(RGBColor),
    /// A filled box (the stdev band).
    Band(RGBColor),
    /// The best-changed mark.
    Mark(RGBColor),
    /// A thin vertical line (an experiment start).
    Vertical(RGBColor),
}

/// Converts a drawing error (its types differ per backend) into an anyhow error.
fn drawing<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("cannot draw the plot: {e}")
}

/// Large counts as 1.5M, 300k.
fn format_count(v: f64) -> String {
    let a = v.abs();
    let (value, unit) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{unit}")
}

/// Draws the whole figure: title, chart with axes and series, and the legend on the right.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
    title: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (w, h) = root.dim_in_pixel();
    let scale = (w as f64 / 1024.0).min(h as f64 / 640.0).clamp(0.6, 4.0);
    let px = |v: f64| (v * scale).round() as i32;
    let font = |size: f64| (FAMILY, size * scale).into_font();

    root.fill(&WHITE).map_err(drawing)?;
    let title_style = font(22.0).color(&INK);
    let body = root.titled(title, title_style).map_err(drawing)?.margin(
        px(4.0),
        px(10.0),
        px(10.0),
        px(10.0),
    );

    // The legend, to the right of the chart so it never covers data.
    let mut legend: Vec<(String, Swatch)> = Vec::new();
    if data.islands == 0 {
        legend.push(("best".into(), Swatch::Line(BEST, 2)));
        legend.push(("mean".into(), Swatch::Dashed(MEAN)));
        if data.band.iter().any(|b| !b.is_empty()) {
            legend.push(("mean ± stdev".into(), Swatch::Band(lighter(MEAN, 0.8))));
        }
    } else {
        for k in 0..data.islands {
            let colour = PALETTE[k % PALETTE.len()];
            legend.push((format!("island {k} best/mean"), Swatch::SolidDashed(colour)));
        }
    }
    if !data.changes.is_empty() {
        legend.push(("best changed".into(), Swatch::Mark(INK)));
    }
    if data.segments.len() > 1 {
        legend.push(("experiment start".into(), Swatch::Vertical(RULE)));
    }
    let legend_font = font(13.0).color(&INK);
    let text_width = legend
        .iter()
        .map(|(label, _)| body.estimate_text_size(label, &legend_font).map(|s| s.0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(drawing)?
        .into_iter()
        .max()
        .unwrap_or(0) as i32;
    let swatch_w = px(34.0);
    let legend_w = (text_width + swatch_w + px(30.0)).min(w as i32 / 3);
    let (chart_area, legend_area) =
        body.split_horizontally(body.dim_in_pixel().0 as i32 - legend_w);

    let mut chart = ChartBuilder::on(&chart_area)
        .margin_right(px(8.0))
        .margin_top(px(8.0))
        .x_label_area_size(px(44.0))
        .y_label_area_size(px(56.0))
        .build_cartesian_2d(data.x_range.clone(), data.y_range.clone())
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc("individuals (cumulative over the run)")
        .y_desc("fitness")
        .axis_desc_style(font(15.0).color(&INK))
        .label_style(font(13.0).color(&INK))
        .x_label_formatter(&|v| format_count(*v))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .x_labels(8)
        .y_labels(11)
        .max_light_lines(2)
        .light_line_style(RGBColor(242, 242, 242))
        .bold_line_style(RGBColor(218, 218, 218))
        .draw()
        .map_err(drawing)?;

    // Experiment starts after the first: a faint vertical line, labelled at the top.
    let (y_lo, y_hi) = (data.y_range.start, data.y_range.end);
    let grey = RGBColor(120, 120, 120);
    for &(x, experiment) in data.segments.iter().skip(1) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, y_lo), (x, y_hi)],
                RULE.stroke_width(1),
            )))
            .map_err(drawing)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, y_hi))
                    + Text::new(
                        format!("exp {experiment}"),
                        (px(4.0), px(4.0)),
                        font(12.0).color(&grey),
                    ),
            ))
            .map_err(drawing)?;
    }

    let thick = px(2.0).max(1) as u32;
    let dash = (px(7.0).max(2), px(5.0).max(2));
    if data.islands == 0 {
        // The mean ± stdev band, clipped to the chart.
        let band_colour = lighter(MEAN, 0.8);
        for band in data.band.iter().filter(|b| b.len() > 1) {
            let clip = |y: f64| y.clamp(y_lo, y_hi);
            let polygon: Vec<(f64, f64)> = band
                .iter()
                .map(|&(x, lo, _)| (x, clip(lo)))
                .chain(band.iter().rev().map(|&(x, _, hi)| (x, clip(hi))))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(
                    polygon,
                    band_colour.mix(0.6).filled(),
                )))
                .map_err(drawing)?;
        }
        let mean_style = MEAN.stroke_width(thick);
        draw_series(&mut chart, &data.mean, mean_style, Some(dash))?;
        draw_series(&mut chart, &data.best, BEST.stroke_width(thick), None)?;
    } else {
        // The means first, so the best lines are drawn over them.
        for (k, series) in data.island_mean.iter().enumerate() {
            let style = lighter(PALETTE[k % PALETTE.len()], 0.35).stroke_width(thick.max(2) - 1);
            draw_series(&mut chart, series, style, Some(dash))?;
        }
        for (k, series) in data.island_best.iter().enumerate() {
            let style = PALETTE[k % PALETTE.len()].stroke_width(thick);
            draw_series(&mut chart, series, style, None)?;
        }
    }

    // Marks where the best program changed: dark triangles with a white halo, on the best line;
    // on a long run, thinned so that their halos never overlap.
    let mark_size = px(5.0).max(3);
    let columns: Vec<i32> = data
        .changes
        .iter()
        .map(|p| chart.backend_coord(p).0)
        .collect();
    let kept = thin_marks(&columns, 2 * (mark_size + 2));
    chart
        .draw_series(kept.into_iter().map(|i| data.changes[i]).map(|p| {
            EmptyElement::at(p)
                + TriangleMarker::new((0, 0), mark_size + 2, WHITE.filled())
                + TriangleMarker::new((0, 0), mark_size, INK.filled())
        }))
        .map_err(drawing)?;

    draw_legend(
        &legend_area,
        &legend,
        data.islands,
        &legend_font,
        scale,
        chart.plotting_area().get_pixel_range().1.start - legend_area.get_base_pixel().1,
    )?;
    Ok(())
}

/// The marks to draw, as indices into `columns` (the marks' pixel columns, left to right): from
/// the last backwards, each mark kept only `gap` pixels or more from the one kept after it, so
/// that the last (the run's latest change) is always drawn and no two are closer than `gap`.
fn thin_marks(columns: &[i32], gap: i32) -> Vec<usize> {
    let mut kept: Vec<usize> = Vec::new();
    for (i, &x) in columns.iter().enumerate().rev() {
        if kept.last().is_none_or(|&k| (columns[k] - x).abs() >= gap) {
            kept.push(i);
        }
    }
    kept.reverse();
    kept
}

/// The chart's type: fitness against individuals.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws one line per experiment (dashed with `dash` = (dash, gap) pixels); an experiment with a
/// single report gets a dot.
fn draw_series<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    series: &Series,
    style: ShapeStyle,
    dash: Option<(i32, i32)>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    for segment in series {
        let points = segment.iter().copied();
        match (segment.len(), dash) {
            (0, _) => Ok(()),
            (1, _) => chart
                .draw_series(points.map(|p| Circle::new(p, style.stroke_width + 1, style.filled())))
                .map(drop),
            (_, Some((size, spacing))) => chart
                .draw_series(DashedLineSeries::new(points, size, spacing, style))
                .map(drop),
            (_, None) => chart.draw_series(LineSeries::new(points, style)).map(drop),
        }
        .map_err(drawing)?;
    }
    Ok(())
}

/// Draws the legend entries from `top` down `area`, each a swatch then its label. The first
/// `island_entries` are the islands': when the entries do not fit, the last islands are left out
/// and counted in a line of their own.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Swatch)],
    island_entries: usize,
    text_style: &TextStyle,
    scale: f64,
    top: i32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let px = |v: f64| (v * scale).round() as i32;
    let row = px(22.0);
    let (x0, x1) = (px(8.0), px(38.0));
    let thick = px(2.0).max(1) as u32;
    let mut y = top.max(0) + px(10.0);
    let fit = ((area.dim_in_pixel().1 as i32 - y) / row).max(1) as usize;
    let mut rows: Vec<(String, Option<&Swatch>)> = entries
        .iter()
        .map(|(label, swatch)| (label.clone(), Some(swatch)))
        .collect();
    if rows.len() > fit && island_entries > 0 {
        let extras = entries.len() - island_entries;
        let keep = fit.saturating_sub(extras + 1).min(island_entries);
        let more = (format!("+ {} more islands", island_entries - keep), None);
        rows.splice(keep..island_entries, std::iter::once(more));
    }
    for (label, swatch) in rows {
        let mid = y + row / 2;
        let line = |c: RGBColor, width: u32| {
            PathElement::new(vec![(x0, mid), (x1, mid)], c.stroke_width(width))
        };
        // A dashed swatch line at height y, drawn as short segments.
        let dashed = |c: RGBColor, y: i32, width: u32| -> Result<()> {
            let mut x = x0;
            while x < x1 {
                let end = (x + px(6.0)).min(x1);
                area.draw(&PathElement::new(
                    vec![(x, y), (end, y)],
                    c.stroke_width(width),
                ))
                .map_err(drawing)?;
                x = end + px(4.0);
            }
            Ok(())
        };
        match swatch {
            None => {}
            Some(&Swatch::SolidDashed(c)) => {
                area.draw(&PathElement::new(
                    vec![(x0, mid - px(4.0)), (x1, mid - px(4.0))],
                    c.stroke_width(thick),
                ))
                .map_err(drawing)?;
                dashed(lighter(c, 0.35), mid + px(4.0), thick.max(2) - 1)?;
            }
            Some(&Swatch::Line(c, width)) => area
                .draw(&line(c, px(width as f64).max(1) as u32))
                .map_err(drawing)?,
            Some(&Swatch::Dashed(c)) => dashed(c, mid, thick)?,
            Some(&Swatch::Band(c)) => area
                .draw(&Rectangle::new(
                    [(x0, mid - px(6.0)), (x1, mid + px(6.0))],
                    c.filled(),
                ))
                .map_err(drawing)?,
            Some(&Swatch::Mark(c)) => {
                let size = px(5.0).max(3);
                area.draw(
                    &(EmptyElement::at(((x0 + x1) / 2, mid))
                        + TriangleMarker::new((0, 0), size + 2, WHITE.filled())
                        + TriangleMarker::new((0, 0), size, c.filled())),
                )
                .map_err(drawing)?;
            }
            Some(&Swatch::Vertical(c)) => area
                .draw(&PathElement::new(
                    vec![
                        ((x0 + x1) / 2, mid - px(8.0)),
                        ((x0 + x1) / 2, mid + px(8.0)),
                    ],
                    c.stroke_width(1),
                ))
                .map_err(drawing)?,
        }
        area.draw(&Text::new(
            label,
            (x1 + px(8.0), mid),
            text_style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(drawing)?;
        y += row;
    }
    Ok(())
}

/// Text in the PNG, laid out properly (see [`GlyphText`]).
mod text {
    use super::FONT;
    use ab_glyph::{Font, FontRef, OutlinedGlyph, PxScale, ScaleFont, point};
    use anyhow::{Result, anyhow};
    use plotters::prelude::DrawingBackend;
    use plotters::style::text_anchor::{HPos, VPos};
    use plotters_backend::{
        BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
    };

    /// A drawing backend that draws text itself with ab_glyph and passes everything else on.
    ///
    /// plotters 0.3.7's ab_glyph renderer drops each glyph's side bearing, which spaces letters
    /// unevenly ("th e"); this places every glyph by its outline's bounds, kerned.
    pub struct GlyphText<B> {
        inner: B,
        font: FontRef<'static>,
    }

    impl<B: DrawingBackend> GlyphText<B> {
        pub fn new(inner: B) -> Result<GlyphText<B>> {
            let font = FontRef::try_from_slice(FONT)
                .map_err(|_| anyhow!("the embedded font DejaVuSans.ttf cannot be read"))?;
            Ok(GlyphText { inner, font })
        }

        /// The outlines of a line of text `size` pixels high (ascent to descent), laid out from
        /// (0, 0) at the top left, and the width and height of its box.
        fn layout(&self, text: &str, size: f64) -> (Vec<OutlinedGlyph>, i32, i32) {
            let font = self.font.as_scaled(PxScale::from(size as f32));
            let (mut caret, mut previous) = (0.0f32, None);
            let mut outlines = Vec::with_capacity(text.len());
            for c in text.chars() {
                let id = font.glyph_id(c);
                if let Some(p) = previous {
                    caret += font.kern(p, id);
                }
                let glyph = id.with_scale_and_position(font.scale(), point(caret, font.ascent()));
                outlines.extend(self.font.outline_glyph(glyph));
                caret += font.h_advance(id);
                previous = Some(id);
            }
            let height = (font.ascent() - font.descent()).ceil() as i32;
            (outlines, caret.ceil() as i32, height)
        }
    }

    impl<B: DrawingBackend> DrawingBackend for GlyphText<B> {
        type ErrorType = B::ErrorType;

        fn get_size(&self) -> (u32, u32) {
            self.inner.get_size()
        }

        fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.ensure_prepared()
        }

        fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.present()
        }

        fn draw_pixel(
            &mut self,
            point: BackendCoord,
            color: BackendColor,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_pixel(point, color)
        }

        fn draw_line<S: BackendStyle>(
            &mut self,
            from: BackendCoord,
            to: BackendCoord,
            style: &S,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_line(from, to, style)
        }

        fn draw_rect<S: BackendStyle>(
            &mut self,
            upper_left: BackendCoord,
            bottom_right: BackendCoord,
            style: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_rect(upper_left, bottom_right, style, fill)
        }

        fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            path: I,
            style: &S,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_path(path, style)
        }

        fn draw_circle<S: BackendStyle>(
            &mut self,
            center: BackendCoord,
            radius: u32,
            style: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_circle(center, radius, style, fill)
        }

        fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            vert: I,
            style: &S,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.fill_polygon(vert, style)
        }

        fn blit_bitmap(
            &mut self,
            pos: BackendCoord,
            size: (u32, u32),
            src: &[u8],
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.blit_bitmap(pos, size, src)
        }

        fn estimate_text_size<S: BackendTextStyle>(
            &self,
            text: &str,
            style: &S,
        ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
            let (_, width, height) = self.layout(text, style.size());
            Ok((width.max(0) as u32, height.max(0) as u32))
        }

        fn draw_text<S: BackendTextStyle>(
            &mut self,
            text: &str,
            style: &S,
            pos: BackendCoord,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            let color = style.color();
            if color.alpha == 0.0 {
                return Ok(());
            }
            let (outlines, width, height) = self.layout(text, style.size());
            // The anchor and the rotation as plotters' own text drawing applies them.
            let anchor = style.anchor();
            let dx = match anchor.h_pos {
                HPos::Left => 0,
                HPos::Right => -width,
                HPos::Center => -width / 2,
            };
            let dy = match anchor.v_pos {
                VPos::Top => 0,
                VPos::Center => -height / 2,
                VPos::Bottom => -height,
            };
            let transform = style.transform();
            let mut result = Ok(());
            for outline in &outlines {
                let bounds = outline.px_bounds();
                let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
                outline.draw(|x, y, coverage| {
                    if result.is_err() || coverage <= 0.0 {
                        return;
                    }
                    let (x, y) = transform.transform(left + x as i32 + dx, top + y as i32 + dy);
                    let pixel = BackendColor {
                        alpha: color.alpha * f64::from(coverage.min(1.0)),
                        rgb: color.rgb,
                    };
                    result = self.inner.draw_pixel((pos.0 + x, pos.1 + y), pixel);
                });
            }
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::thin_marks;

    #[test]
    fn marks_closer_than_the_gap_are_thinned_keeping_the_last() {
        assert_eq!(thin_marks(&[], 10), Vec::<usize>::new());
        assert_eq!(thin_marks(&[5], 10), [0]);
        // 30 is within 10 of 31, and 3 and 9 of 12; 0 is 12 from 12.
        assert_eq!(thin_marks(&[0, 3, 9, 12, 30, 31], 10), [0, 3, 5]);
        assert_eq!(thin_marks(&[0, 10, 20], 10), [0, 1, 2]);
        // A thousand marks on 500 columns: one every 10 pixels at most.
        let columns: Vec<i32> = (0..1000).map(|i| i / 2).collect();
        let kept = thin_marks(&columns, 10);
        assert_eq!(*kept.last().unwrap(), 999);
        assert!(kept.len() <= 50, "{}", kept.len());
        for pair in kept.windows(2) {
            assert!(columns[pair[1]] - columns[pair[0]] >= 10);
        }
    }
}
