//! Quiet hours: each person's (default 22:00–07:00 in the station's time zone, bot-scripts
//! `quiet_hours`; `/quiet 23:00-06:30`, `/quiet off`, `/quiet default`). A message to a person
//! that is not urgent is held while their quiet hours last and sent when they end, together with
//! whatever else was held, as one digest. Urgent alerts and Extreme or Severe warnings are
//! never held; groups have no quiet hours.

use anyhow::Result;
use chrono::{Duration, NaiveTime, TimeZone, Timelike};

use super::{Ctx, Dispatched, Outbound, Recipient, UserError};
use crate::app::enqueue;
use crate::domain::{AlertStatus, Lang};
use crate::scripts::Scripts;
use crate::store::people::Person;
use crate::store::{Tx, alerts, held, people};

/// A person's quiet hours as minutes after midnight (from, to); `None`: they have none.
pub fn window(scripts: &Scripts, person: &Person) -> Option<(i64, i64)> {
    match person.quiet {
        Some((from, _)) if from < 0 => None,
        Some(q) => Some(q),
        None => scripts.settings.quiet_hours,
    }
}

/// When quiet hours that hold `now` end (ms), or `None` when `now` is outside them. The window
/// may run across midnight (22:00–07:00); times are the zone's wall clock, so a change of
/// daylight saving time moves them with it.
pub fn quiet_until(now: i64, tz: chrono_tz::Tz, (from, to): (i64, i64)) -> Option<i64> {
    let local = tz.timestamp_millis_opt(now).single()?;
    let minute = i64::from(local.hour() * 60 + local.minute());
    let inside = if from <= to {
        (from..to).contains(&minute)
    } else {
        minute >= from || minute < to
    };
    if !inside {
        return None;
    }
    let end = NaiveTime::from_hms_opt((to / 60) as u32, (to % 60) as u32, 0)?;
    let mut day = local.date_naive();
    if from > to && minute >= from {
        day += Duration::days(1);
    }
    let end = day.and_time(end);
    let end = tz
        .from_local_datetime(&end)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(end + Duration::hours(1))).earliest())?;
    Some(end.timestamp_millis())
}

/// `HH:MM` → minutes after midnight.
fn minutes(text: &str) -> Option<i64> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// `HH:MM-HH:MM` → (from, to) in minutes; the two must differ.
pub fn parse_window(text: &str) -> Option<(i64, i64)> {
    let (from, to) = text.split_once(['-', '–', '~', '至'])?;
    let (from, to) = (minutes(from)?, minutes(to)?);
    (from != to).then_some((from, to))
}

fn show((from, to): (i64, i64)) -> String {
    format!("{:02}:{:02}–{:02}:{:02}", from / 60, from % 60, to / 60, to % 60)
}

/// `/quiet [HH:MM-HH:MM|off|default]`.
pub async fn quiet(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let rest = rest.trim();
    let word = rest.to_lowercase();
    let setting = match word.as_str() {
        "" => None,
        "off" | "none" | "关闭" | "关" => Some(Some((-1, -1))),
        "default" | "默认" => Some(None),
        _ => Some(Some(parse_window(rest).ok_or_else(|| {
            UserError::new("quiet.usage").arg("value", rest.chars().take(20).collect::<String>())
        })?)),
    };
    if let Some(quiet) = setting {
        people::set_quiet(ctx.tx, ctx.me.id, quiet).await?;
        ctx.me.quiet = quiet;
    }
    let text = match window(ctx.scripts, &ctx.me) {
        Some(w) => ctx.msg("quiet.is", &[("hours", &show(w))]),
        None => ctx.msg("quiet.none", &[]),
    };
    ctx.to_me(text, Vec::new());
    Ok(())
}

/// Sends what was held for everyone whose quiet hours ended by `now`: one digest per person,
/// leaving out alerts withdrawn, cleared or expired meanwhile (a correction was written onto
/// the held copy when it was made). Returns how many digests.
pub async fn release(tx: &mut Tx, scripts: &Scripts, now: i64) -> Result<usize> {
    let due = held::take_due(tx, now).await?;
    let mut digests = 0;
    let mut i = 0;
    while i < due.len() {
        let person_id = due[i].person_id;
        let mut items = Vec::new();
        let first = due[i].id;
        while i < due.len() && due[i].person_id == person_id {
            let item = &due[i];
            i += 1;
            if let Some(alert_id) = item.alert_id {
                let live = alerts::get(tx, alert_id)
                    .await?
                    .is_some_and(|a| a.status == AlertStatus::Sent && !a.expired_at(now));
                if !live {
                    continue;
                }
            }
            items.push(item.text.clone());
        }
        if items.is_empty() {
            continue;
        }
        let lang = match people::by_id(tx, person_id).await? {
            Some(p) => super::context::language_of(scripts, &p),
            None => continue,
        };
        let text = digest(scripts, lang, &items);
        enqueue(
            tx,
            &[Outbound::new(Recipient::Person(person_id), text)],
            &format!("digest:{person_id}:{first}"),
            now,
        )
        .await?;
        digests += 1;
    }
    Ok(digests)
}

fn digest(scripts: &Scripts, lang: Lang, items: &[String]) -> String {
    let count = items.len().to_string();
    let head = scripts.templates.render(lang, "quiet.digest", &[("count", &count)]);
    format!("{head}\n\n{}", items.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tz: chrono_tz::Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp_millis()
    }

    #[test]
    fn across_midnight_the_end_is_the_next_morning() {
        let tz = chrono_tz::Asia::Shanghai;
        let w = (22 * 60, 7 * 60);
        assert_eq!(
            quiet_until(at(tz, 2026, 12, 5, 23, 30), tz, w),
            Some(at(tz, 2026, 12, 6, 7, 0))
        );
        assert_eq!(
            quiet_until(at(tz, 2026, 12, 6, 2, 0), tz, w),
            Some(at(tz, 2026, 12, 6, 7, 0))
        );
        assert_eq!(quiet_until(at(tz, 2026, 12, 6, 7, 0), tz, w), None, "07:00 is awake");
        assert_eq!(quiet_until(at(tz, 2026, 12, 5, 21, 59), tz, w), None);
        assert_eq!(
            quiet_until(at(tz, 2026, 12, 5, 22, 0), tz, w),
            Some(at(tz, 2026, 12, 6, 7, 0))
        );
    }

    #[test]
    fn a_window_within_a_day_and_other_zones() {
        let w = (13 * 60, 14 * 60 + 30);
        let tz = chrono_tz::Europe::London;
        assert_eq!(
            quiet_until(at(tz, 2026, 7, 1, 13, 10), tz, w),
            Some(at(tz, 2026, 7, 1, 14, 30))
        );
        assert_eq!(quiet_until(at(tz, 2026, 7, 1, 15, 0), tz, w), None);
        // The same instant is 06:30 in Shanghai and 22:30 the day before in London: quiet in
        // both, until seven in the morning of each.
        let instant = at(chrono_tz::Asia::Shanghai, 2026, 12, 6, 6, 30);
        let night = (22 * 60, 7 * 60);
        assert_eq!(
            quiet_until(instant, chrono_tz::Asia::Shanghai, night),
            Some(at(chrono_tz::Asia::Shanghai, 2026, 12, 6, 7, 0))
        );
        assert_eq!(quiet_until(instant, tz, night), Some(at(tz, 2026, 12, 6, 7, 0)));
    }

    #[test]
    fn daylight_saving_time_keeps_the_wall_clock() {
        // London moves to summer time at 01:00 on 2026-03-29: 07:00 is then 06:00 UTC.
        let tz = chrono_tz::Europe::London;
        let until = quiet_until(at(tz, 2026, 3, 28, 23, 0), tz, (22 * 60, 7 * 60)).unwrap();
        assert_eq!(until, at(tz, 2026, 3, 29, 7, 0));
        assert_eq!(
            until - at(tz, 2026, 3, 28, 23, 0),
            7 * 3_600_000,
            "an hour less of night"
        );
    }

    #[test]
    fn windows_are_read_in_either_form() {
        assert_eq!(parse_window("23:00-06:30"), Some((23 * 60, 6 * 60 + 30)));
        assert_eq!(parse_window("23:00至06:30"), Some((23 * 60, 6 * 60 + 30)));
        assert_eq!(parse_window("25:00-06:00"), None);
        assert_eq!(parse_window("06:00-06:00"), None);
        assert_eq!(parse_window("late"), None);
    }
}
