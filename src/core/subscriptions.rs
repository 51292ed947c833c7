//! `/subscribe` and `/unsubscribe`: what a resident receives by private chat, by topic
//! (weather, fraud warnings, traffic, public security, missing persons, safety tips), shown as
//! a checklist whose buttons tick and untick a topic; an officer's `/subscribe` in a linked
//! group shows that group's checklist instead (a group gets every topic until one is unticked).

use anyhow::Result;

use super::{Ctx, Dispatched, Outbound, UserError};
use crate::domain::{Button, Press, Topic};
use crate::store::{people, subscriptions};

fn topic_names(ctx: &Ctx<'_>, topics: &[Topic]) -> String {
    let separator = match ctx.lang {
        crate::domain::Lang::Zh => "、",
        crate::domain::Lang::En => ", ",
    };
    topics
        .iter()
        .map(|t| ctx.msg(t.label_key(), &[]))
        .collect::<Vec<_>>()
        .join(separator)
}

fn parse_topics(ctx: &Ctx<'_>, rest: &str) -> Result<Vec<Topic>, UserError> {
    let mut topics = Vec::new();
    for word in rest.split_whitespace() {
        let Some(found) = Topic::parse(word) else {
            return Err(UserError::new("subscribe.unknown")
                .arg("name", word.chars().take(20).collect::<String>())
                .arg("categories", topic_names(ctx, Topic::ALL)));
        };
        for t in found {
            if !topics.contains(t) {
                topics.push(*t);
            }
        }
    }
    Ok(topics)
}

/// The checklist's buttons: each topic ticked (✅) or not (⬜), three to a row.
fn checklist(ctx: &Ctx<'_>, ticked: &[Topic]) -> Vec<Vec<Button>> {
    Topic::ALL
        .chunks(3)
        .map(|row| {
            row.iter()
                .map(|t| {
                    let mark = if ticked.contains(t) { "✅" } else { "⬜" };
                    Button::new(
                        format!("{mark} {}", ctx.msg(t.label_key(), &[])),
                        &Press::Topic { topic: *t },
                    )
                })
                .collect()
        })
        .collect()
}

async fn my_topics(ctx: &mut Ctx<'_>) -> Result<Vec<Topic>> {
    let mine = subscriptions::subscriptions(ctx.tx, ctx.me.id).await?;
    Ok(Topic::ALL
        .iter()
        .copied()
        .filter(|t| mine.iter().any(|m| m == t.as_str()))
        .collect())
}

async fn group_topics(ctx: &mut Ctx<'_>, group_id: i64) -> Result<Vec<Topic>> {
    let muted = subscriptions::group_muted(ctx.tx, group_id).await?;
    Ok(Topic::ALL
        .iter()
        .copied()
        .filter(|t| !muted.iter().any(|m| m == t.as_str()))
        .collect())
}

fn group_checklist_text(ctx: &Ctx<'_>, ticked: &[Topic]) -> String {
    let names = if ticked.is_empty() {
        ctx.msg("subscribe.group_nothing", &[])
    } else {
        topic_names(ctx, ticked)
    };
    ctx.msg("subscribe.group_checklist", &[("categories", &names)])
}

pub async fn subscribe(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let mut topics = parse_topics(ctx, rest)?;
    if let Some(group) = ctx.group.clone()
        && ctx.me.role.is_staff()
        && ctx.me.station_id.as_deref() == Some(group.station_id.as_str())
    {
        // An officer in a linked group: the group's own checklist; named topics are ticked.
        for t in &topics {
            subscriptions::set_group_muted(ctx.tx, group.id, t.as_str(), false).await?;
        }
        let ticked = group_topics(ctx, group.id).await?;
        let text = group_checklist_text(ctx, &ticked);
        let buttons = checklist(ctx, &ticked);
        ctx.reply_with(text, buttons);
        return Ok(());
    }
    if ctx.station().is_none() {
        return Err(UserError::new("common.no_station").into());
    }
    super::reports::require_private_chat(ctx).await?;
    if let Some(station) = ctx.group.as_ref().map(|g| g.station_id.clone()) {
        people::adopt_station(ctx.tx, ctx.me.id, &station).await?;
    }
    if topics.is_empty() && my_topics(ctx).await?.is_empty() {
        // A first /subscribe: everything, to untick from.
        topics = Topic::ALL.to_vec();
    }
    for t in &topics {
        subscriptions::subscribe(ctx.tx, ctx.me.id, t.as_str()).await?;
    }
    let all = my_topics(ctx).await?;
    let text = ctx.msg("subscribe.done", &[("categories", &topic_names(ctx, &all))]);
    let buttons = checklist(ctx, &all);
    ctx.to_me(text, buttons);
    Ok(())
}

pub async fn unsubscribe(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let topics = parse_topics(ctx, rest)?;
    if topics.is_empty() {
        subscriptions::unsubscribe(ctx.tx, ctx.me.id, None).await?;
    }
    for t in &topics {
        subscriptions::unsubscribe(ctx.tx, ctx.me.id, Some(t.as_str())).await?;
    }
    let all = my_topics(ctx).await?;
    let text = if all.is_empty() {
        ctx.msg("subscribe.none", &[])
    } else {
        ctx.msg("unsubscribe.done", &[("categories", &topic_names(ctx, &all))])
    };
    ctx.to_me(text, Vec::new());
    Ok(())
}

/// A press on a checklist: in a group (officers only) the group's topic, in a private chat the
/// person's own; the checklist is edited to show the change.
pub async fn press(ctx: &mut Ctx<'_>, topic: Topic, message: Option<i64>) -> Result<(), Dispatched> {
    let (text, ticked) = if let Some(group) = ctx.group.clone() {
        if !ctx.me.role.is_staff() || ctx.me.station_id.as_deref() != Some(group.station_id.as_str()) {
            return Err(UserError::new("subscribe.group_officers_only").into());
        }
        let mut ticked = group_topics(ctx, group.id).await?;
        let was_ticked = ticked.contains(&topic);
        subscriptions::set_group_muted(ctx.tx, group.id, topic.as_str(), was_ticked).await?;
        if was_ticked {
            ticked.retain(|t| *t != topic);
        } else {
            // Kept in the checklist's order.
            ticked = Topic::ALL
                .iter()
                .copied()
                .filter(|t| *t == topic || ticked.contains(t))
                .collect();
        }
        (group_checklist_text(ctx, &ticked), ticked)
    } else {
        if ctx.station().is_none() {
            return Err(UserError::new("common.no_station").into());
        }
        if my_topics(ctx).await?.contains(&topic) {
            subscriptions::unsubscribe(ctx.tx, ctx.me.id, Some(topic.as_str())).await?;
        } else {
            subscriptions::subscribe(ctx.tx, ctx.me.id, topic.as_str()).await?;
        }
        let ticked = my_topics(ctx).await?;
        let text = if ticked.is_empty() {
            ctx.msg("subscribe.none", &[])
        } else {
            ctx.msg("subscribe.done", &[("categories", &topic_names(ctx, &ticked))])
        };
        (text, ticked)
    };
    let buttons = checklist(ctx, &ticked);
    let mut out = Outbound::new(ctx.here(), text).buttons(buttons);
    out.edit_of = message;
    ctx.send(out);
    Ok(())
}
