//! The safety index as a PNG bar chart: the last 14 days or 8 weeks, each bar in its band's
//! colour over pale stripes of the bands, a title and legend in Chinese and English. Drawn with
//! `plotters` on a bitmap, with the WenQuanYi Micro Hei subset the project ships in
//! `assets/fonts/` (Apache-2.0; no fontconfig or system font at run time), encoded with `png`.

use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::scripts::Band;

pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 540;
/// The y axis runs to the index's cap.
const TOP: i64 = 200;
const FONT: &[u8] = include_bytes!("../../../assets/fonts/WenQuanYiMicroHei-GB2312.ttf");
const FAMILY: &str = "beatbot-cjk";

/// One bar: its label under it (`12-04`, `W49`), its value and colour.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub color: (u8, u8, u8),
}

fn font_ready() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if !ok {
        return Err(anyhow!("the shipped chart font could not be read"));
    }
    Ok(())
}

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// A band's colour mixed with white: the stripe behind the bars.
fn pale((r, g, b): (u8, u8, u8)) -> RGBColor {
    let mix = |c: u8| (u16::from(c) + 3 * 255) / 4;
    RGBColor(mix(r) as u8, mix(g) as u8, mix(b) as u8)
}

fn draw_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing the chart: {e:?}")
}

/// Renders the chart; returns the PNG file's bytes.
pub fn render(title: &str, subtitle: &str, bars: &[Bar], bands: &[Band]) -> Result<Vec<u8>> {
    font_ready()?;
    let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let (head, body) = root.split_vertically(78);
        head.draw(&Text::new(
            title.to_owned(),
            (24, 14),
            (FAMILY, 28).into_font().color(&BLACK),
        ))
        .map_err(draw_error)?;
        head.draw(&Text::new(
            subtitle.to_owned(),
            (24, 50),
            (FAMILY, 18).into_font().color(&RGBColor(90, 90, 90)),
        ))
        .map_err(draw_error)?;
        let (plot, legend) = body.split_horizontally(WIDTH - 190);
        let n = bars.len().max(1) as i32;
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            // Segments 0..=n-1: one per bar.
            .build_cartesian_2d((0..n - 1).into_segmented(), 0i64..TOP)
            .map_err(draw_error)?;
        // The bands as pale stripes, each from its minimum to the next one's.
        let mut upper = TOP;
        for band in bands {
            let lower = band.min.clamp(0, TOP);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(SegmentValue::Exact(0), lower), (SegmentValue::Exact(n), upper)],
                    pale(band.color).filled(),
                )))
                .map_err(draw_error)?;
            upper = lower;
        }
        let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(200, 200, 200).mix(0.6))
            .y_desc("指数 Index")
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 16))
            .x_labels(bars.len())
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(draw_error)?;
        for (i, bar) in bars.iter().enumerate() {
            let i = i as i32;
            let value = bar.value.clamp(0, TOP);
            let mut rect = Rectangle::new(
                [(SegmentValue::Exact(i), 0), (SegmentValue::Exact(i + 1), value)],
                rgb(bar.color).filled(),
            );
            rect.set_margin(0, 0, 6, 6);
            chart.draw_series(std::iter::once(rect)).map_err(draw_error)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    bar.value.to_string(),
                    (SegmentValue::CenterOf(i), (value + 12).min(TOP - 2)),
                    (FAMILY, 14)
                        .into_font()
                        .color(&BLACK)
                        .pos(plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Center,
                        )),
                )))
                .map_err(draw_error)?;
        }
        // The legend: each band's colour, names and lower bound.
        for (k, band) in bands.iter().enumerate() {
            let y = 40 + 44 * k as i32;
            legend
                .draw(&Rectangle::new([(8, y), (34, y + 26)], rgb(band.color).filled()))
                .map_err(draw_error)?;
            let name = format!("{} {} ≥{}", band.label.zh, band.label.en, band.min);
            legend
                .draw(&Text::new(name, (42, y + 4), (FAMILY, 17).into_font().color(&BLACK)))
                .map_err(draw_error)?;
        }
        legend
            .draw(&Text::new(
                "100 = 平常 usual".to_owned(),
                (8, 40 + 44 * bands.len() as i32 + 8),
                (FAMILY, 15).into_font().color(&RGBColor(90, 90, 90)),
            ))
            .map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(png_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bands() -> Vec<Band> {
        crate::scripts::load(std::path::Path::new("bot-scripts"))
            .expect("the shipped bot-scripts load")
            .index
            .bands
    }

    /// Decodes a PNG into (width, height, RGB pixels).
    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(png_bytes);
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("a PNG frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn count(pixels: &[u8], (r, g, b): (u8, u8, u8)) -> usize {
        pixels.chunks(3).filter(|p| p[0] == r && p[1] == g && p[2] == b).count()
    }

    #[test]
    fn the_chart_decodes_with_its_size_every_band_colour_and_text() {
        let bands = bands();
        let values = [130, 100, 80, 40, 150, 96, 74, 20, 120, 119, 95, 94, 75, 0];
        let bars: Vec<Bar> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Bar {
                label: format!("12-{:02}", i + 1),
                value: *v,
                color: bands.iter().find(|b| *v >= b.min).unwrap().color,
            })
            .collect();
        let png_bytes = render(
            "安全指数 Safety index · 新华路派出所",
            "2026-12-01 – 2026-12-14",
            &bars,
            &bands,
        )
        .unwrap();
        assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h, pixels) = decode(&png_bytes);
        assert_eq!((w, h), (WIDTH, HEIGHT));
        // Every band's colour, in bars and legend swatches, and its pale stripe.
        for band in &bands {
            assert!(count(&pixels, band.color) > 2_000, "band {} colour missing", band.key);
            let p = pale(band.color);
            assert!(
                count(&pixels, (p.0, p.1, p.2)) > 1_000,
                "band {} stripe missing",
                band.key
            );
        }
        // Text was drawn: dark pixels in the title's strip (the font rendered, not boxes).
        let title_dark = pixels[..(WIDTH * 48 * 3) as usize]
            .chunks(3)
            .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 100)
            .count();
        assert!(title_dark > 1_500, "title pixels: {title_dark}");
        // Not blank: many colours (antialiased text and the bars).
        let distinct: std::collections::HashSet<&[u8]> = pixels.chunks(3).collect();
        assert!(distinct.len() > 50, "{} colours", distinct.len());
    }

    #[test]
    fn the_font_has_the_chinese_it_must_draw() {
        let font = ab_glyph_font();
        for c in "安全指数优良平稳较差新华路派出所周日一二三四五六0123456789Safety index·".chars()
        {
            assert!(font(c), "no glyph for {c:?}");
        }
    }

    /// Whether the shipped font maps a character to a glyph.
    fn ab_glyph_font() -> impl Fn(char) -> bool {
        use ab_glyph::Font as _;
        let font = ab_glyph::FontRef::try_from_slice(FONT).expect("the shipped font parses");
        move |c| font.glyph_id(c).0 != 0
    }
}
