//! Officers set when the bot speaks up on its own. `/schedule` shows the schedules;
//! `/schedule tips|index daily 09:00 | weekly mon 19:00 | off | default` sets the station's in
//! a private chat and a group's own in a linked group of the officer's station (`default`
//! drops the setting, so the group follows its station and the station bot-scripts).
//! `/campaign SUIT [DAYS]` puts a suit first in the station's tips (default 14 days),
//! `/campaign off` ends it, `/campaign` alone says what runs.

use super::{Ctx, Dispatched, UserError};
use crate::domain::{Cadence, Lang};
use crate::scripts::Scripts;
use crate::store::schedules::{self, Campaign, SetBy};

const DAY_MS: i64 = 86_400_000;
const DEFAULT_CAMPAIGN_DAYS: i64 = 14;
const MAX_CAMPAIGN_DAYS: i64 = 92;

fn what_of(word: &str) -> Option<&'static str> {
    match word.to_lowercase().as_str() {
        "tips" | "tip" | "提示" | "安全提示" => Some("tips"),
        "index" | "指数" | "安全指数" => Some("index"),
        _ => None,
    }
}

/// The station an officer's setting applies to, and the group's scope when written in one.
fn scope_of(ctx: &Ctx<'_>) -> Result<(String, Option<i64>), Dispatched> {
    let station = ctx
        .me
        .station_id
        .clone()
        .ok_or_else(|| Dispatched::from(UserError::new("common.staff_only").arg("name", "schedule")))?;
    match &ctx.group {
        Some(g) if g.station_id == station => Ok((station, Some(g.id))),
        Some(_) => Err(UserError::new("schedule.other_station").into()),
        None => Ok((station, None)),
    }
}

/// A schedule as people read it, with where it comes from.
fn shown(ctx: &Ctx<'_>, cadence: Cadence, source: &str) -> String {
    let source = ctx.msg(source, &[]);
    format!("{} ({source})", cadence.describe(ctx.lang))
}

/// The effective schedule of `what` for the station (and group), and where it is set.
async fn effective(
    ctx: &mut Ctx<'_>,
    what: &str,
    station: &str,
    group: Option<i64>,
) -> anyhow::Result<(Cadence, &'static str)> {
    let all = schedules::all(ctx.tx, what).await?;
    let default = match what {
        "tips" => ctx.scripts.schedules.tips,
        _ => ctx.scripts.schedules.index,
    };
    let (cadence, set_by) = schedules::in_force(&all, station, group, default);
    let source = match set_by {
        SetBy::Group => "schedule.source_group",
        SetBy::Station => "schedule.source_station",
        SetBy::Default => "schedule.source_default",
    };
    Ok((cadence, source))
}

pub async fn schedule(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let (station, group) = scope_of(ctx)?;
    let rest = rest.trim();
    if rest.is_empty() {
        let (tips, tips_from) = effective(ctx, "tips", &station, group).await?;
        let (index, index_from) = effective(ctx, "index", &station, group).await?;
        let text = ctx.msg(
            "schedule.show",
            &[
                ("tips", &shown(ctx, tips, tips_from)),
                ("index", &shown(ctx, index, index_from)),
            ],
        );
        ctx.reply(text);
        return Ok(());
    }
    let usage = || Dispatched::from(UserError::new("schedule.usage"));
    let (word, spec) = rest.split_once(char::is_whitespace).ok_or_else(usage)?;
    let what = what_of(word).ok_or_else(usage)?;
    let scope = match group {
        Some(g) => schedules::group_key(g),
        None => schedules::station_scope(&station),
    };
    let spec = spec.trim();
    if matches!(spec.to_lowercase().as_str(), "default" | "默认") {
        schedules::clear(ctx.tx, &scope, what).await?;
    } else {
        let cadence = Cadence::parse(spec).ok_or_else(usage)?;
        schedules::set(ctx.tx, &scope, what, &cadence.spec(), Some(ctx.me.id), ctx.now).await?;
    }
    let (cadence, from) = effective(ctx, what, &station, group).await?;
    let key = match (what, group) {
        ("tips", Some(_)) => "schedule.tips_group",
        ("tips", None) => "schedule.tips_station",
        (_, Some(_)) => "schedule.index_group",
        (_, None) => "schedule.index_station",
    };
    let text = ctx.msg(key, &[("cadence", &shown(ctx, cadence, from))]);
    ctx.reply(text);
    Ok(())
}

/// A suit by its key or either language's name.
pub fn parse_suit(scripts: &Scripts, word: &str) -> Option<String> {
    let word = word.trim().to_lowercase();
    scripts
        .suits
        .iter()
        .find(|(k, t)| **k == word || t.zh == word || t.en.to_lowercase() == word)
        .map(|(k, _)| k.clone())
}

fn day_text(ms: i64, scripts: &Scripts) -> String {
    crate::domain::cadence::local_date(ms, scripts.settings.timezone)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn suit_name(scripts: &Scripts, suit: &str, lang: Lang) -> String {
    scripts
        .suits
        .get(suit)
        .map(|t| t.get(lang).to_owned())
        .unwrap_or_else(|| suit.to_owned())
}

pub async fn campaign(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let station = ctx
        .me
        .station_id
        .clone()
        .ok_or_else(|| Dispatched::from(UserError::new("common.staff_only").arg("name", "campaign")))?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let suits = ctx.scripts.suits.keys().cloned().collect::<Vec<_>>().join(", ");
    let usage = || Dispatched::from(UserError::new("campaign.usage").arg("suits", suits.clone()));
    match words.as_slice() {
        [] => {
            let running = schedules::campaigns_from(ctx.tx, ctx.now).await?;
            let now = ctx.now;
            let current = running
                .get(&station)
                .and_then(|cs| cs.iter().rev().find(|c| c.starts_at <= now))
                .cloned();
            let text = match current {
                Some(c) => ctx.msg(
                    "campaign.running",
                    &[
                        ("suit", &suit_name(ctx.scripts, &c.suit, ctx.lang)),
                        ("until", &day_text(c.ends_at - 1, ctx.scripts)),
                    ],
                ),
                None => ctx.msg("campaign.none", &[]),
            };
            ctx.reply(text);
        }
        [off] if matches!(off.to_lowercase().as_str(), "off" | "stop" | "结束" | "关闭") => {
            schedules::end_campaigns(ctx.tx, &station, ctx.now).await?;
            let text = ctx.msg("campaign.ended", &[]);
            ctx.reply(text);
        }
        [suit, days @ ..] if days.len() <= 1 => {
            let suit = parse_suit(ctx.scripts, suit).ok_or_else(usage)?;
            let days = match days.first() {
                Some(d) => d
                    .trim_end_matches(['d', '天'])
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (1..=MAX_CAMPAIGN_DAYS).contains(d))
                    .ok_or_else(usage)?,
                None => DEFAULT_CAMPAIGN_DAYS,
            };
            schedules::end_campaigns(ctx.tx, &station, ctx.now).await?;
            let c = Campaign {
                suit: suit.clone(),
                starts_at: ctx.now,
                ends_at: ctx.now + days * DAY_MS,
            };
            schedules::add_campaign(ctx.tx, &station, &c, Some(ctx.me.id)).await?;
            let text = ctx.msg(
                "campaign.started",
                &[
                    ("suit", &suit_name(ctx.scripts, &suit, ctx.lang)),
                    ("until", &day_text(c.ends_at - 1, ctx.scripts)),
                ],
            );
            ctx.reply(text);
        }
        _ => return Err(usage()),
    }
    Ok(())
}
