//! The small commands: `/lang`, `/tip`, `/subscribe`, `/unsubscribe`, `/feedback`.

use anyhow::Result;

use super::{Ctx, Dispatched, UserError};
use crate::domain::Lang;
use crate::store::questions::Status;
use crate::store::{misc, people, questions};

/// Categories a resident can subscribe to by DM.
pub const CATEGORIES: &[&str] = &["alerts", "tips"];

pub async fn lang(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let Some(lang) = Lang::parse(rest) else {
        return Err(UserError::new("lang.usage").into());
    };
    people::set_lang(ctx.tx, ctx.me.id, lang).await?;
    ctx.lang = lang;
    let text = ctx.msg("lang.set", &[]);
    ctx.reply(text);
    Ok(())
}

/// `/tip [SUIT]`: the next card of the tip library, in rotation.
pub async fn tip(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let wanted = rest.trim().to_lowercase();
    let suit = ctx
        .scripts
        .suits
        .iter()
        .find(|(k, t)| **k == wanted || t.zh == wanted || t.en.to_lowercase() == wanted)
        .map(|(k, _)| k.clone());
    if !wanted.is_empty() && suit.is_none() {
        return Err(UserError::new("tip.empty").into());
    }
    let deck: Vec<_> = ctx
        .scripts
        .tips
        .iter()
        .filter(|t| suit.as_ref().is_none_or(|s| &t.suit == s))
        .collect();
    if deck.is_empty() {
        return Err(UserError::new("tip.empty").into());
    }
    let n = misc::next_counter(ctx.tx, "tip").await?;
    let card = deck[(n as usize) % deck.len()];
    let suit_name = ctx
        .scripts
        .suits
        .get(&card.suit)
        .map(|t| t.get(ctx.lang).to_owned())
        .unwrap_or_default();
    let text = ctx.msg("tip.card", &[("suit", &suit_name), ("text", card.text.get(ctx.lang))]);
    ctx.reply(text);
    Ok(())
}

fn parse_categories(rest: &str) -> Result<Vec<&'static str>, UserError> {
    let mut cats = Vec::new();
    for word in rest.split_whitespace() {
        let w = word.to_lowercase();
        let cat = match w.as_str() {
            "alerts" | "alert" | "预警" | "警报" => "alerts",
            "tips" | "tip" | "提示" | "安全提示" => "tips",
            _ => {
                return Err(UserError::new("subscribe.unknown")
                    .arg("name", word.chars().take(20).collect::<String>())
                    .arg("categories", CATEGORIES.join(", ")));
            }
        };
        if !cats.contains(&cat) {
            cats.push(cat);
        }
    }
    Ok(cats)
}

pub async fn subscribe(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let mut cats = parse_categories(rest)?;
    if cats.is_empty() {
        cats = CATEGORIES.to_vec();
    }
    if ctx.station().is_none() {
        return Err(UserError::new("common.no_station").into());
    }
    super::reports::require_private_chat(ctx).await?;
    if let Some(station) = ctx.group.as_ref().map(|g| g.station_id.clone()) {
        people::adopt_station(ctx.tx, ctx.me.id, &station).await?;
    }
    for cat in &cats {
        misc::subscribe(ctx.tx, ctx.me.id, cat).await?;
    }
    let all = misc::subscriptions(ctx.tx, ctx.me.id).await?;
    let text = ctx.msg("subscribe.done", &[("categories", &all.join(", "))]);
    ctx.to_me(text, Vec::new());
    Ok(())
}

pub async fn unsubscribe(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let cats = parse_categories(rest)?;
    if cats.is_empty() {
        misc::unsubscribe(ctx.tx, ctx.me.id, None).await?;
    }
    for cat in &cats {
        misc::unsubscribe(ctx.tx, ctx.me.id, Some(cat)).await?;
    }
    let all = misc::subscriptions(ctx.tx, ctx.me.id).await?;
    let text = if all.is_empty() {
        ctx.msg("subscribe.none", &[])
    } else {
        ctx.msg("unsubscribe.done", &[("categories", &all.join(", "))])
    };
    ctx.to_me(text, Vec::new());
    Ok(())
}

/// `/feedback TEXT`: classified by bot-scripts keywords, queued for the station's officers with
/// a reply deadline; answered with `/answer` like a question.
pub async fn feedback(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let text = rest.trim();
    if text.is_empty() {
        return Err(UserError::new("feedback.usage").into());
    }
    let Some(station) = ctx.station() else {
        return Err(UserError::new("common.no_station").into());
    };
    let lower = text.to_lowercase();
    let settings = &ctx.scripts.settings;
    let category = settings
        .feedback_categories
        .iter()
        .find(|(_, _, kws)| kws.iter().any(|k| lower.contains(k.as_str())))
        .or_else(|| settings.feedback_categories.last());
    let (cat_key, cat_label) = match category {
        Some((key, label, _)) => (key.clone(), label.clone()),
        None => (
            "other".to_owned(),
            crate::scripts::Text {
                zh: "其他".into(),
                en: "other".into(),
            },
        ),
    };
    let due = ctx.now + settings.feedback_reply_hours * 3_600_000;
    let id = questions::insert(
        ctx.tx,
        &station,
        ctx.me.id,
        text,
        Some(&cat_key),
        Some(due),
        Status::Queued,
        ctx.now,
    )
    .await?;
    let n = id.to_string();
    let hours = settings.feedback_reply_hours.to_string();
    let reply = ctx.msg(
        "feedback.received",
        &[("n", &n), ("category", cat_label.get(ctx.lang)), ("hours", &hours)],
    );
    ctx.to_me(reply, Vec::new());
    let redacted = crate::domain::redact_numbers(text);
    for officer in people::staff(ctx.tx, &station, None, false).await? {
        let lang = ctx.lang_of(&officer);
        ctx.tell(
            &officer,
            "feedback.officer_new",
            &[
                ("n", &n),
                ("category", cat_label.get(lang)),
                ("hours", &hours),
                ("text", &redacted),
            ],
            Vec::new(),
        )
        .await?;
    }
    Ok(())
}
