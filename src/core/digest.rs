//! The officers' morning digest: once a day at `schedule.toml`'s `digest` time (station
//! time), every officer of a station gets one private message — the open tickets on their beat
//! (all the station's for an officer without a beat) with those past a deadline marked, the
//! questions still waiting for an answer, and yesterday's safety index of their beat or
//! station. One message, not ten; sent even when all is quiet, so its absence means something.

use anyhow::Result;

use super::index::{self, Period};
use super::{Outbound, Recipient};
use crate::app::enqueue_keyed;
use crate::domain::cadence::{MISSED_AFTER_MS, local_date, local_ms};
use crate::scripts::Scripts;
use crate::store::{Tx, index_facts, people, schedules, stations};

/// Tickets listed by number; beyond, a count.
const LISTED: usize = 8;

/// The scheduler's job: each station's digest once a day, when its time has come.
pub async fn send_due(tx: &mut Tx, scripts: &Scripts, now: i64) -> Result<u64> {
    let Some(minute) = scripts.schedules.digest else {
        return Ok(0);
    };
    let tz = scripts.settings.timezone;
    let Some(today) = local_date(now, tz) else { return Ok(0) };
    let Some(slot) = local_ms(today, minute, tz) else {
        return Ok(0);
    };
    if now < slot || now - slot > MISSED_AFTER_MS {
        return Ok(0);
    }
    let mut out = Vec::new();
    for station in stations::list(tx).await? {
        if !schedules::claim_run(tx, &format!("digest:{station}:{today}"), now).await? {
            continue;
        }
        let officers = people::staff(tx, &station, None, false).await?;
        if officers.is_empty() {
            continue;
        }
        let yesterday = index::last_finished(now, tz, Period::Day);
        let station_index = index::build(tx, scripts, &station, None, Period::Day, yesterday).await?;
        let (questions, oldest) = index_facts::unanswered_questions(tx, &station).await?;
        for officer in officers {
            let lang = officer
                .lang
                .or(officer.station_lang)
                .unwrap_or(scripts.settings.default_lang);
            let t = &scripts.templates;
            let tickets = index_facts::open_tickets(tx, &station, officer.beat.as_deref(), officer.id, now).await?;
            let mut lines = vec![t.render(lang, "digest.header", &[("date", &today.to_string())])];
            let scope = match &officer.beat {
                Some(beat) => t.render(lang, "digest.scope_beat", &[("beat", beat)]),
                None => t.render(lang, "digest.scope_station", &[]),
            };
            let overdue = tickets.iter().filter(|k| k.overdue).count();
            lines.push(t.render(
                lang,
                "digest.open",
                &[
                    ("n", &tickets.len().to_string()),
                    ("scope", &scope),
                    ("overdue", &overdue.to_string()),
                ],
            ));
            for k in tickets.iter().take(LISTED) {
                let mark = if k.overdue { "⏰ " } else { "" };
                let place = k.hotel.clone().unwrap_or_default();
                lines.push(format!(
                    "  {mark}#{} {} {} · {}",
                    k.id,
                    scripts.form(k.kind).title.get(lang),
                    place,
                    t.render(
                        lang,
                        "digest.days",
                        &[("n", &index::days_ago(now, k.created_at).to_string())]
                    ),
                ));
            }
            if tickets.len() > LISTED {
                lines.push(t.render(lang, "digest.more", &[("n", &(tickets.len() - LISTED).to_string())]));
            }
            let questions_line = match oldest {
                Some(asked) if questions > 0 => t.render(
                    lang,
                    "digest.questions",
                    &[
                        ("n", &questions.to_string()),
                        ("days", &index::days_ago(now, asked).to_string()),
                    ],
                ),
                _ => t.render(lang, "digest.no_questions", &[]),
            };
            lines.push(questions_line);
            let report = match &officer.beat {
                Some(beat) => index::build(tx, scripts, &station, Some(beat), Period::Day, yesterday).await?,
                None => station_index.clone(),
            };
            let p = report.latest();
            lines.push(t.render(
                lang,
                "digest.index",
                &[
                    ("value", &p.value.to_string()),
                    ("band", scripts.index.band(p.value).label.get(lang)),
                    ("scope", &scope),
                ],
            ));
            out.push((
                Outbound::new(Recipient::Person(officer.id), lines.join("\n")),
                format!("digest:{}:{today}", officer.id),
            ));
        }
    }
    enqueue_keyed(tx, &out, now).await
}
