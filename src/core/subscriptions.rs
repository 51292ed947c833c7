//! `/subscribe` and `/unsubscribe`: alerts and tips by private chat.

use anyhow::Result;

use super::{Ctx, Dispatched, UserError};
use crate::store::{people, subscriptions};

/// Categories a resident can subscribe to by DM.
pub const CATEGORIES: &[&str] = &["alerts", "tips"];

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
        subscriptions::subscribe(ctx.tx, ctx.me.id, cat).await?;
    }
    let all = subscriptions::subscriptions(ctx.tx, ctx.me.id).await?;
    let text = ctx.msg("subscribe.done", &[("categories", &all.join(", "))]);
    ctx.to_me(text, Vec::new());
    Ok(())
}

pub async fn unsubscribe(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let cats = parse_categories(rest)?;
    if cats.is_empty() {
        subscriptions::unsubscribe(ctx.tx, ctx.me.id, None).await?;
    }
    for cat in &cats {
        subscriptions::unsubscribe(ctx.tx, ctx.me.id, Some(cat)).await?;
    }
    let all = subscriptions::subscriptions(ctx.tx, ctx.me.id).await?;
    let text = if all.is_empty() {
        ctx.msg("subscribe.none", &[])
    } else {
        ctx.msg("unsubscribe.done", &[("categories", &all.join(", "))])
    };
    ctx.to_me(text, Vec::new());
    Ok(())
}
