//! When a recurring post goes out — daily at a time, weekly on a day at a time, or never — as
//! an officer types it (`daily 09:00`, `weekly mon 19:00`, `off`; also `每天 09:00`,
//! `每周一 19:00`, `关闭`) and as bot-scripts writes it, and the moments ("slots") it names in
//! a time zone. Pure: no I/O.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Weekday};

use super::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Off,
    /// Every day at this minute after midnight.
    Daily(u32),
    /// Every week on this day at this minute after midnight.
    Weekly(Weekday, u32),
}

const DAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "mon", "一"),
    (Weekday::Tue, "tue", "二"),
    (Weekday::Wed, "wed", "三"),
    (Weekday::Thu, "thu", "四"),
    (Weekday::Fri, "fri", "五"),
    (Weekday::Sat, "sat", "六"),
    (Weekday::Sun, "sun", "日"),
];

/// `HH:MM` → minutes after midnight.
pub fn parse_minute(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once([':', '：'])?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn parse_day(word: &str) -> Option<Weekday> {
    let word = word.to_lowercase();
    let word = word
        .trim_start_matches("每周")
        .trim_start_matches("周")
        .trim_start_matches("星期");
    DAYS.iter().find_map(|(day, en, zh)| {
        let long = day_name_en(*day).to_lowercase();
        (word == *en || word == long || word == *zh || (*zh == "日" && word == "天")).then_some(*day)
    })
}

fn day_name_en(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

impl Cadence {
    /// `daily 09:00`, `weekly mon 19:00`, `off` (and `每天 09:00`, `每周一 19:00`, `每周 一
    /// 19:00`, `关闭`); `None` for anything else.
    pub fn parse(text: &str) -> Option<Cadence> {
        let text = text.trim().to_lowercase();
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["off" | "关闭" | "关" | "停止"] => Some(Cadence::Off),
            ["daily" | "每天" | "每日", time] => Some(Cadence::Daily(parse_minute(time)?)),
            ["weekly" | "每周", day, time] => Some(Cadence::Weekly(parse_day(day)?, parse_minute(time)?)),
            [day, time] if day.starts_with("每周") || day.starts_with("周") || day.starts_with("星期") => {
                Some(Cadence::Weekly(parse_day(day)?, parse_minute(time)?))
            }
            _ => None,
        }
    }

    /// The form [`Cadence::parse`] reads back, as stored: `daily 09:00`, `weekly mon 19:00`, `off`.
    pub fn spec(self) -> String {
        match self {
            Cadence::Off => "off".into(),
            Cadence::Daily(m) => format!("daily {}", hhmm(m)),
            Cadence::Weekly(d, m) => format!("weekly {} {}", DAYS[d.num_days_from_monday() as usize].1, hhmm(m)),
        }
    }

    /// For people: "daily at 09:00" / "每天 09:00".
    pub fn describe(self, lang: Lang) -> String {
        match (self, lang) {
            (Cadence::Off, Lang::En) => "off".into(),
            (Cadence::Off, Lang::Zh) => "关闭".into(),
            (Cadence::Daily(m), Lang::En) => format!("daily at {}", hhmm(m)),
            (Cadence::Daily(m), Lang::Zh) => format!("每天 {}", hhmm(m)),
            (Cadence::Weekly(d, m), Lang::En) => format!("every {} at {}", day_name_en(d), hhmm(m)),
            (Cadence::Weekly(d, m), Lang::Zh) => {
                format!("每周{} {}", DAYS[d.num_days_from_monday() as usize].2, hhmm(m))
            }
        }
    }

    /// The slot of local date `day`, if the cadence has one that day (epoch ms).
    pub fn slot_on(self, day: NaiveDate, tz: chrono_tz::Tz) -> Option<i64> {
        let minute = match self {
            Cadence::Off => return None,
            Cadence::Daily(m) => m,
            Cadence::Weekly(d, m) if day.weekday() == d => m,
            Cadence::Weekly(..) => return None,
        };
        local_ms(day, minute, tz)
    }

    /// Every slot in `(after, until]` (epoch ms), oldest first.
    pub fn slots_between(self, after: i64, until: i64, tz: chrono_tz::Tz) -> Vec<i64> {
        let (Some(first), Some(last)) = (local_date(after, tz), local_date(until, tz)) else {
            return Vec::new();
        };
        let mut slots = Vec::new();
        let mut day = first;
        while day <= last {
            if let Some(slot) = self.slot_on(day, tz)
                && slot > after
                && slot <= until
            {
                slots.push(slot);
            }
            day += Duration::days(1);
        }
        slots
    }

    /// The latest slot at or before `now`, looking back at most eight days.
    pub fn last_slot(self, now: i64, tz: chrono_tz::Tz) -> Option<i64> {
        self.slots_between(now - 8 * 86_400_000, now, tz).pop()
    }
}

/// A slot missed by more than this (the bot was down) is passed by, not served late.
pub const MISSED_AFTER_MS: i64 = 12 * 3_600_000;

pub fn hhmm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The local date of `ms` in `tz`.
pub fn local_date(ms: i64, tz: chrono_tz::Tz) -> Option<NaiveDate> {
    Some(tz.timestamp_millis_opt(ms).single()?.date_naive())
}

/// `minute` after local midnight of `day` in `tz` (epoch ms); a time skipped by a change to
/// daylight saving time is the first one after it.
pub fn local_ms(day: NaiveDate, minute: u32, tz: chrono_tz::Tz) -> Option<i64> {
    let at = day.and_time(NaiveTime::from_hms_opt(minute / 60, minute % 60, 0)?);
    tz.from_local_datetime(&at)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(at + Duration::hours(1))).earliest())
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn ms(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
    }

    #[test]
    fn parses_what_officers_type_in_both_languages() {
        assert_eq!(Cadence::parse("daily 09:00"), Some(Cadence::Daily(540)));
        assert_eq!(Cadence::parse("每天 9:30"), Some(Cadence::Daily(570)));
        assert_eq!(
            Cadence::parse("weekly mon 19:00"),
            Some(Cadence::Weekly(Weekday::Mon, 1140))
        );
        assert_eq!(
            Cadence::parse("Weekly Friday 07:05"),
            Some(Cadence::Weekly(Weekday::Fri, 425))
        );
        assert_eq!(
            Cadence::parse("每周一 19:00"),
            Some(Cadence::Weekly(Weekday::Mon, 1140))
        );
        assert_eq!(
            Cadence::parse("每周 日 08:00"),
            Some(Cadence::Weekly(Weekday::Sun, 480))
        );
        assert_eq!(Cadence::parse("off"), Some(Cadence::Off));
        assert_eq!(Cadence::parse("关闭"), Some(Cadence::Off));
        for bad in [
            "",
            "daily",
            "daily 25:00",
            "daily 9:60",
            "weekly xyz 09:00",
            "hourly 09:00",
            "daily 09:00 x",
        ] {
            assert_eq!(Cadence::parse(bad), None, "{bad}");
        }
        for c in [Cadence::Off, Cadence::Daily(540), Cadence::Weekly(Weekday::Sun, 1439)] {
            assert_eq!(Cadence::parse(&c.spec()), Some(c));
        }
    }

    #[test]
    fn slots_are_local_times_in_the_window() {
        let daily = Cadence::Daily(540);
        let slots = daily.slots_between(ms("2026-12-01T09:00:00+08:00"), ms("2026-12-03T09:00:00+08:00"), TZ);
        assert_eq!(
            slots,
            vec![ms("2026-12-02T09:00:00+08:00"), ms("2026-12-03T09:00:00+08:00")]
        );
        // 2026-12-07 is a Monday.
        let weekly = Cadence::Weekly(Weekday::Mon, 1140);
        assert_eq!(
            weekly.last_slot(ms("2026-12-10T12:00:00+08:00"), TZ),
            Some(ms("2026-12-07T19:00:00+08:00"))
        );
        assert_eq!(Cadence::Off.last_slot(ms("2026-12-10T12:00:00+08:00"), TZ), None);
    }

    #[test]
    fn a_slot_skipped_by_daylight_saving_comes_just_after() {
        let tz = chrono_tz::Europe::Berlin;
        // 2027-03-28 02:30 does not exist in Berlin: clocks go from 02:00 to 03:00.
        let slot = Cadence::Daily(150).slot_on(NaiveDate::from_ymd_opt(2027, 3, 28).unwrap(), tz);
        assert_eq!(slot, Some(ms("2027-03-28T03:30:00+02:00")));
    }
}
