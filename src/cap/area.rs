//! Whether a warning's areas cover a station's area: administrative codes by prefix (a
//! province's code covers its districts), the station's point inside a polygon or circle, the
//! station's polygon overlapping one. Plane geometry on latitude/longitude is exact enough at
//! a city's scale; circles use great-circle distance.

use super::model::{Area, Point};

/// Where a station is, for a feed: any of these that is set is matched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationArea {
    /// Administrative code prefixes (`110105` for Chaoyang, `11` for all of Beijing).
    pub codes: Vec<String>,
    /// The station's location.
    pub point: Option<Point>,
    /// The station's beat, as a closed ring of points.
    pub polygon: Vec<Point>,
}

impl StationArea {
    fn is_everywhere(&self) -> bool {
        self.codes.is_empty() && self.point.is_none() && self.polygon.len() < 3
    }
}

/// Whether `areas` (one `<info>`'s) reach `station`. A station without an area is served
/// everything the feed carries; a warning that names no codes and no shapes (only a
/// description) covers the whole region its feed is for.
pub fn covers(station: &StationArea, areas: &[Area]) -> bool {
    if station.is_everywhere() {
        return true;
    }
    let located = areas
        .iter()
        .any(|a| !a.geocodes.is_empty() || !a.polygons.is_empty() || !a.circles.is_empty());
    if !located {
        return true;
    }
    areas.iter().any(|area| {
        let by_code = area.geocodes.iter().any(|(_, value)| {
            let value = significant(value);
            station.codes.iter().any(|code| {
                let code = significant(code);
                !value.is_empty() && !code.is_empty() && (value.starts_with(code) || code.starts_with(value))
            })
        });
        let by_point = station.point.is_some_and(|p| {
            area.polygons.iter().any(|poly| inside(p, poly))
                || area
                    .circles
                    .iter()
                    .any(|(centre, radius)| distance_km(p, *centre) <= *radius)
        });
        let by_polygon = station.polygon.len() >= 3
            && (area.polygons.iter().any(|poly| overlap(&station.polygon, poly))
                || area.circles.iter().any(|(centre, radius)| {
                    inside(*centre, &station.polygon)
                        || edges(&station.polygon).any(|(a, b)| distance_to_edge_km(*centre, a, b) <= *radius)
                }));
        by_code || by_point || by_polygon
    })
}

/// An administrative code without the zero pairs that pad it to full length: GB2260 writes
/// Beijing as `110000` and Chaoyang as `110105`, so `11` is what covers the district.
fn significant(code: &str) -> &str {
    let mut code = code.trim();
    while code.len() > 2 && code.ends_with("00") {
        code = &code[..code.len() - 2];
    }
    code
}

/// The distance from `p` to the segment `a`–`b`, in kilometres (on a local plane scaled by the
/// latitude: exact enough within a city).
fn distance_to_edge_km(p: Point, a: Point, b: Point) -> f64 {
    let scale = p.0.to_radians().cos();
    let to_plane = |q: Point| ((q.0 - p.0) * 111.2, (q.1 - p.1) * 111.2 * scale);
    let (a, b) = (to_plane(a), to_plane(b));
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length = dx * dx + dy * dy;
    let t = if length == 0.0 {
        0.0
    } else {
        (-(a.0 * dx + a.1 * dy) / length).clamp(0.0, 1.0)
    };
    let (x, y) = (a.0 + t * dx, a.1 + t * dy);
    (x * x + y * y).sqrt()
}

/// Ray casting: whether `p` lies inside the ring `poly`.
pub fn inside(p: Point, poly: &[Point]) -> bool {
    let (y, x) = p;
    let mut inside = false;
    let n = poly.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (yi, xi) = poly[i];
        let (yj, xj) = poly[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Whether two rings share any area: a vertex of one inside the other, or crossing edges.
fn overlap(a: &[Point], b: &[Point]) -> bool {
    a.iter().any(|p| inside(*p, b))
        || b.iter().any(|p| inside(*p, a))
        || edges(a).any(|(p1, p2)| edges(b).any(|(q1, q2)| cross(p1, p2, q1, q2)))
}

fn edges(ring: &[Point]) -> impl Iterator<Item = (Point, Point)> + '_ {
    ring.windows(2).map(|w| (w[0], w[1]))
}

fn cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool {
    let orient = |a: Point, b: Point, c: Point| (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
    let d1 = orient(q1, q2, p1);
    let d2 = orient(q1, q2, p2);
    let d3 = orient(p1, p2, q1);
    let d4 = orient(p1, p2, q2);
    (d1 > 0.0) != (d2 > 0.0) && (d3 > 0.0) != (d4 > 0.0)
}

/// Great-circle distance in kilometres.
pub fn distance_km(a: Point, b: Point) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(lat: f64, lon: f64, size: f64) -> Vec<Point> {
        vec![
            (lat, lon),
            (lat + size, lon),
            (lat + size, lon + size),
            (lat, lon + size),
            (lat, lon),
        ]
    }

    #[test]
    fn codes_match_by_prefix_either_way() {
        let station = StationArea {
            codes: vec!["110105".into()],
            ..StationArea::default()
        };
        let area = |code: &str| Area {
            geocodes: vec![("GB2260".into(), code.into())],
            ..Area::default()
        };
        assert!(covers(&station, &[area("110105")]));
        assert!(covers(&station, &[area("11")]), "a warning for all of Beijing");
        assert!(covers(&station, &[area("110105003")]), "a street of the district");
        assert!(!covers(&station, &[area("110106")]));
        assert!(covers(&station, &[area("110000")]), "Beijing, padded to six digits");
        assert!(!covers(&station, &[area("120000")]), "Tianjin");
        let city = StationArea {
            codes: vec!["110000".into()],
            ..StationArea::default()
        };
        assert!(
            covers(&city, &[area("110105")]),
            "a district warning for a city-wide station"
        );
    }

    #[test]
    fn a_point_inside_a_polygon_or_circle_is_covered() {
        let station = StationArea {
            point: Some((39.92, 116.46)),
            ..StationArea::default()
        };
        let polygon = |poly| Area {
            polygons: vec![poly],
            ..Area::default()
        };
        assert!(covers(&station, &[polygon(square(39.9, 116.4, 0.1))]));
        assert!(!covers(&station, &[polygon(square(40.5, 116.4, 0.1))]));
        let circle = |radius| Area {
            circles: vec![((39.95, 116.46), radius)],
            ..Area::default()
        };
        assert!(covers(&station, &[circle(5.0)]), "3.3 km away");
        assert!(!covers(&station, &[circle(2.0)]));
    }

    #[test]
    fn polygons_overlap_even_when_no_vertex_is_inside_the_other() {
        let station = StationArea {
            polygon: square(39.9, 116.4, 0.1),
            ..StationArea::default()
        };
        // A cross: a thin band through the middle, its corners all outside the station.
        let band = vec![
            (39.85, 116.44),
            (40.05, 116.44),
            (40.05, 116.46),
            (39.85, 116.46),
            (39.85, 116.44),
        ];
        let area = Area {
            polygons: vec![band],
            ..Area::default()
        };
        assert!(covers(&station, &[area]));
        let far = Area {
            polygons: vec![square(41.0, 117.0, 0.1)],
            ..Area::default()
        };
        assert!(!covers(&station, &[far]));
        // A circle across the station's west edge, its centre outside and no corner within it.
        let across = |radius| Area {
            circles: vec![((39.95, 116.38), radius)],
            ..Area::default()
        };
        assert!(covers(&station, &[across(3.0)]), "1.7 km from the edge");
        assert!(!covers(&station, &[across(1.0)]));
    }

    #[test]
    fn unlocated_warnings_and_stations_without_an_area_match() {
        let described_only = Area {
            description: "Beijing".into(),
            ..Area::default()
        };
        let station = StationArea {
            codes: vec!["110105".into()],
            ..StationArea::default()
        };
        assert!(covers(&station, std::slice::from_ref(&described_only)));
        assert!(covers(&StationArea::default(), &[described_only]));
    }
}
