//! Report field values: checked and normalised when given, shown (masked where needed) when
//! read back. Chinese resident ID numbers are checked against the GB 11643 check digit.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use regex::Regex;
use std::sync::LazyLock;

use super::UserError;
use crate::domain::{Lang, mask_tail};
use crate::scripts::{Field, FieldType, Form, Scripts, Templates};
use std::collections::BTreeMap;

const MAX_TEXT_CHARS: usize = 1000;

/// Checks a typed value for a field and returns it in its stored form.
pub fn validate(field: &Field, raw: &str, now_ms: i64, tz: Tz) -> Result<String, UserError> {
    let value = raw.trim();
    let bad = |key: &'static str| UserError::new(key).arg("field", field.key.clone());
    if value.is_empty() {
        return Err(UserError::new("common.empty_value").arg("key", field.key.clone()));
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(UserError::new("common.too_long").arg("chars", value.chars().count().to_string()));
    }
    let stored = match field.field_type {
        FieldType::Text | FieldType::Location => value.to_owned(),
        FieldType::Room => {
            static ROOM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Za-z0-9-]{1,8}$").expect("valid regex"));
            let re = field.pattern.as_ref().unwrap_or(&ROOM);
            if !re.is_match(value) {
                return Err(bad("input.bad_pattern"));
            }
            value.to_uppercase()
        }
        FieldType::IdNumber => check_id_number(value, now_ms, tz).ok_or_else(|| bad("input.bad_id_number"))?,
        FieldType::Phone => {
            let digits: String = value.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
            let body = digits.strip_prefix('+').unwrap_or(&digits);
            if !(5..=20).contains(&body.len()) || !body.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("input.bad_phone"));
            }
            digits
        }
        FieldType::Time => parse_time(value, now_ms, tz).ok_or_else(|| bad("input.bad_time"))?,
        FieldType::Amount => {
            let number = value
                .trim_end_matches(['元', '块'])
                .trim_end_matches("yuan")
                .trim_start_matches(['¥', '￥'])
                .trim();
            match number.parse::<f64>() {
                Ok(n) if (0.0..1e12).contains(&n) => format!("{n}"),
                _ => return Err(bad("input.bad_amount")),
            }
        }
        FieldType::YesNo => match value.to_lowercase().as_str() {
            "yes" | "y" | "是" | "是的" | "要" | "匿名" => "yes".to_owned(),
            "no" | "n" | "否" | "不" | "不要" => "no".to_owned(),
            _ => return Err(bad("input.bad_yesno")),
        },
        FieldType::Choice => option_key(field, value).ok_or_else(|| choice_error(field))?,
        FieldType::MultiChoice => {
            let mut keys = Vec::new();
            for part in value.split([',', '，', '、']).map(str::trim).filter(|p| !p.is_empty()) {
                let key = option_key(field, part).ok_or_else(|| choice_error(field))?;
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            keys.join(",")
        }
        FieldType::Photo => return Err(bad("input.needs_photo")),
    };
    Ok(stored)
}

fn choice_error(field: &Field) -> UserError {
    let keys: Vec<&str> = field.options.iter().map(|o| o.key.as_str()).collect();
    UserError::new("report.bad_choice")
        .arg("field", field.key.clone())
        .arg("options", keys.join(", "))
}

/// The option whose key or label (in either language) is `value`.
pub fn option_key(field: &Field, value: &str) -> Option<String> {
    let v = value.trim().to_lowercase();
    field
        .options
        .iter()
        .find(|o| o.key == v || o.label.zh == value.trim() || o.label.en.to_lowercase() == v)
        .map(|o| o.key.clone())
}

/// GB 11643-1999: 17 digits (area, birth date, sequence) and a check digit; the birth date
/// must be a real date not in the future.
pub fn check_id_number(value: &str, now_ms: i64, tz: Tz) -> Option<String> {
    let id = value.trim().to_uppercase();
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    if bytes[17] != CHECK[(sum % 11) as usize] {
        return None;
    }
    let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").ok()?;
    let today = local(now_ms, tz).date_naive();
    (birth <= today && birth.year_ce().1 >= 1900).then_some(id)
}

use chrono::Datelike;

/// A time as people read it on the station's clock: `22:15` on the day of `now`,
/// `11-24 22:15` on another day.
pub fn clock_time(ms: i64, now_ms: i64, tz: Tz) -> String {
    let (at, now) = (local(ms, tz), local(now_ms, tz));
    if at.date_naive() == now.date_naive() {
        at.format("%H:%M").to_string()
    } else {
        at.format("%m-%d %H:%M").to_string()
    }
}

/// An instant (epoch ms) on the clock of `tz`.
pub(crate) fn local(now_ms: i64, tz: Tz) -> DateTime<Tz> {
    Utc.timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_default()
        .with_timezone(&tz)
}

/// "21:40" (the latest such time not in the future), "10 minutes ago", "10分钟前", "now",
/// "刚才", or "2026-11-23 21:40"; stored as `YYYY-MM-DD HH:MM` in the station's time zone.
pub fn parse_time(value: &str, now_ms: i64, tz: Tz) -> Option<String> {
    static AGO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d{1,4})\s*(m|min|mins|minute|minutes|分钟|分|h|hr|hrs|hour|hours|小时)\s*(ago|前|之前)$")
            .expect("valid regex")
    });
    let now = local(now_ms, tz);
    let v = value.trim().to_lowercase();
    let at: DateTime<Tz> = if matches!(v.as_str(), "now" | "just now" | "刚才" | "现在" | "刚刚") {
        now
    } else if let Some(c) = AGO.captures(&v) {
        let n: i64 = c[1].parse().ok()?;
        let unit = &c[2];
        let minutes = if unit.starts_with('h') || unit == "小时" {
            n * 60
        } else {
            n
        };
        now - Duration::minutes(minutes)
    } else if let Ok(t) = NaiveTime::parse_from_str(&v.replace('：', ":"), "%H:%M") {
        let today = tz.from_local_datetime(&now.date_naive().and_time(t)).earliest()?;
        if today > now { today - Duration::days(1) } else { today }
    } else if let Ok(dt) = NaiveDateTime::parse_from_str(&v, "%Y-%m-%d %H:%M") {
        let at = tz.from_local_datetime(&dt).earliest()?;
        if at > now {
            return None;
        }
        at
    } else {
        return None;
    };
    Some(at.format("%Y-%m-%d %H:%M").to_string())
}

/// A stored value as shown to a reader: option labels translated, ID and phone numbers masked
/// unless `unmasked` (only in the assigned officer's private chat).
pub fn display(field: &Field, value: &str, lang: Lang, unmasked: bool, templates: &Templates) -> String {
    match field.field_type {
        FieldType::IdNumber | FieldType::Phone if !unmasked => mask_tail(value),
        FieldType::Choice | FieldType::MultiChoice => value
            .split(',')
            .map(|k| {
                field
                    .options
                    .iter()
                    .find(|o| o.key == k)
                    .map(|o| o.label.get(lang).to_owned())
                    .unwrap_or_else(|| k.to_owned())
            })
            .collect::<Vec<_>>()
            .join(if lang == Lang::Zh { "、" } else { ", " }),
        FieldType::YesNo => templates.render(lang, if value == "yes" { "yesno.yes" } else { "yesno.no" }, &[]),
        FieldType::Photo => "📷".to_owned(),
        // Free text may hold a number too (a phone in a description): masked all the same.
        FieldType::Text | FieldType::Location if !unmasked => crate::domain::redact_numbers(value),
        _ => value.to_owned(),
    }
}

/// The fields of a report, one `label: value` line each, in `lang`.
pub fn details(
    scripts: &Scripts,
    form: &Form,
    values: &BTreeMap<String, String>,
    lang: Lang,
    unmasked: bool,
) -> String {
    form.fields
        .iter()
        .filter_map(|f| {
            let v = values.get(&f.key)?;
            Some(format!(
                "{}: {}",
                f.label.get(lang),
                display(f, v, lang, unmasked, &scripts.templates)
            ))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_23_0900_CST: i64 = 1_795_395_600_000; // 2026-11-23T09:00:00+08:00

    #[test]
    fn id_numbers_are_checked_with_the_gb11643_check_digit() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(
            check_id_number("11010519491231002x", NOV_23_0900_CST, tz).as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(check_id_number("110105194912310021", NOV_23_0900_CST, tz), None);
        assert_eq!(check_id_number("1101051949123100", NOV_23_0900_CST, tz), None);
    }

    #[test]
    fn times_are_read_as_clock_times_or_relative_and_never_in_the_future() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(
            parse_time("08:40", NOV_23_0900_CST, tz).as_deref(),
            Some("2026-11-23 08:40")
        );
        assert_eq!(
            parse_time("21:40", NOV_23_0900_CST, tz).as_deref(),
            Some("2026-11-22 21:40")
        );
        assert_eq!(
            parse_time("10 minutes ago", NOV_23_0900_CST, tz).as_deref(),
            Some("2026-11-23 08:50")
        );
        assert_eq!(
            parse_time("2小时前", NOV_23_0900_CST, tz).as_deref(),
            Some("2026-11-23 07:00")
        );
        assert_eq!(parse_time("2026-12-01 10:00", NOV_23_0900_CST, tz), None);
        assert_eq!(parse_time("soon", NOV_23_0900_CST, tz), None);
    }
}
