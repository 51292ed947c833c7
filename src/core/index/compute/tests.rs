//! Golden numbers of the safety index on fixed facts, with the shipped `bot-scripts/index.toml`
//! (weights: item 3, person 2.5, noid 2, fraud 2, tip 1, lost 0.5; Severe alert 3; slow 1 after
//! 72 h; smoothing 2; four trailing weeks; bands 120 / 95 / 75 / 0). Worked by hand in
//! `docs/safety-index.md`.

use super::*;
use crate::store::index_facts::{AlertFact, TicketFact};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn rules() -> IndexRules {
    crate::scripts::load(std::path::Path::new("bot-scripts"))
        .expect("the shipped bot-scripts load")
        .index
}

fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn ticket(kind: ReportKind, beat: Option<&str>, created: &str, resolved: Option<&str>) -> TicketFact {
    TicketFact {
        kind,
        beat: beat.map(str::to_owned),
        created_at: at(created),
        resolved_at: resolved.map(at),
    }
}

/// Four weeks of ordinary Fridays and Wednesdays, then a hard Friday (2026-12-04).
fn facts() -> (Vec<TicketFact>, Vec<AlertFact>) {
    let mut tickets = Vec::new();
    for friday in ["2026-11-06", "2026-11-13", "2026-11-20", "2026-11-27"] {
        tickets.push(ticket(
            ReportKind::Noid,
            None,
            &format!("{friday}T21:00:00+08:00"),
            None,
        ));
        tickets.push(ticket(
            ReportKind::Lost,
            None,
            &format!("{friday}T10:00:00+08:00"),
            None,
        ));
    }
    for wednesday in ["2026-11-04", "2026-11-11", "2026-11-18", "2026-11-25"] {
        tickets.push(ticket(
            ReportKind::Item,
            None,
            &format!("{wednesday}T12:00:00+08:00"),
            None,
        ));
    }
    for hour in ["08", "13", "23"] {
        // 23:30 local is still the 4th, though it is the 4th 15:30 UTC.
        tickets.push(ticket(
            ReportKind::Item,
            Some("east"),
            &format!("2026-12-04T{hour}:30:00+08:00"),
            None,
        ));
    }
    tickets.push(ticket(ReportKind::Fraud, None, "2026-12-04T09:00:00+08:00", None));
    // Filed Monday, resolved Friday: more than 72 hours, so Friday carries the slow weight.
    tickets.push(ticket(
        ReportKind::Noid,
        Some("west"),
        "2026-11-30T10:00:00+08:00",
        Some("2026-12-04T11:00:00+08:00"),
    ));
    // Just after midnight: Saturday, not Friday.
    tickets.push(ticket(ReportKind::Person, None, "2026-12-05T00:10:00+08:00", None));
    let alerts = vec![AlertFact {
        severity: "Severe".into(),
        sent_at: at("2026-12-04T15:00:00+08:00"),
    }];
    (tickets, alerts)
}

#[test]
fn a_hard_friday_against_four_ordinary_ones() {
    let rules = rules();
    let (tickets, alerts) = facts();
    let ledger = Ledger::new(&rules, &tickets, &alerts, None, TZ);
    let p = ledger.point(&rules, Period::Day, day("2026-12-04"));
    // 3 items × 3 + fraud 2 + Severe alert 3 + one slow resolution 1 = 15; usual (2 + 0.5) = 2.5.
    assert_eq!(p.load, 15.0);
    assert_eq!(p.usual, 2.5);
    // round(100 × (2.5 + 2) / (15 + 2)) = round(26.47)
    assert_eq!(p.value, 26);
    assert_eq!(p.band, "poor");
    assert_eq!(p.top, Some(ReportKind::Item));
}

#[test]
fn an_empty_day_with_empty_history_is_100_and_a_calm_one_is_capped() {
    let rules = rules();
    let (tickets, alerts) = facts();
    let ledger = Ledger::new(&rules, &tickets, &alerts, None, TZ);
    let thursday = ledger.point(&rules, Period::Day, day("2026-12-03"));
    assert_eq!((thursday.load, thursday.usual, thursday.value), (0.0, 0.0, 100));
    assert_eq!(thursday.band, "good");
    assert_eq!(thursday.top, None);
    // Wednesdays usually bring an item (3); an empty one: 100 × 5 / 2 = 250, capped at 200.
    let wednesday = ledger.point(&rules, Period::Day, day("2026-12-02"));
    assert_eq!((wednesday.usual, wednesday.value), (3.0, 200));
    assert_eq!(wednesday.band, "excellent");
}

#[test]
fn the_week_against_the_four_before_it() {
    let rules = rules();
    let (tickets, alerts) = facts();
    let ledger = Ledger::new(&rules, &tickets, &alerts, None, TZ);
    let week = ledger.point(&rules, Period::Week, monday_of(day("2026-12-04")));
    assert_eq!(week.start, day("2026-11-30"));
    // Monday's noid 2 + Friday 15 + Saturday's person 2.5 = 19.5; each earlier week 2.5 + 3 = 5.5.
    assert_eq!(week.load, 19.5);
    assert_eq!(week.usual, 5.5);
    // round(100 × 7.5 / 21.5) = round(34.88)
    assert_eq!(week.value, 35);
    assert_eq!(week.band, "poor");
    assert_eq!(week.top, Some(ReportKind::Item));
}

#[test]
fn a_beat_counts_its_hotels_and_the_station_alerts() {
    let rules = rules();
    let (tickets, alerts) = facts();
    let east = Ledger::new(&rules, &tickets, &alerts, Some("east"), TZ).point(&rules, Period::Day, day("2026-12-04"));
    // 3 items 9 + Severe alert 3 = 12; no history on the beat: round(100 × 2 / 14).
    assert_eq!((east.load, east.usual, east.value), (12.0, 0.0, 14));
    let west = Ledger::new(&rules, &tickets, &alerts, Some("west"), TZ).point(&rules, Period::Day, day("2026-12-04"));
    // The alert 3 + the slow resolution 1 = 4: round(100 × 2 / 6).
    assert_eq!((west.load, west.value), (4.0, 33));
    assert_eq!(west.top, None);
}

#[test]
fn series_are_oldest_first_and_reach_back_far_enough() {
    let rules = rules();
    let (tickets, alerts) = facts();
    let ledger = Ledger::new(&rules, &tickets, &alerts, None, TZ);
    let days = ledger.series(&rules, Period::Day, day("2026-12-04"), 14);
    assert_eq!(days.len(), 14);
    assert_eq!(days[0].start, day("2026-11-21"));
    assert_eq!(days[13].value, 26);
    let weeks = ledger.series(&rules, Period::Week, day("2026-11-30"), 8);
    assert_eq!(weeks[0].start, day("2026-10-12"));
    assert_eq!(
        first_day_needed(&rules, Period::Day, day("2026-12-04"), 14),
        day("2026-10-24")
    );
}
