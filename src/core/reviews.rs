//! The station's view of its casework: `/history N` shows a ticket's audit log in chat,
//! `/reviews` lists the reviews opened by poor ratings, `/review R FINDING` closes one.
//! Free text in the log is shown with long numbers masked (the viewer is not the assignee).

use anyhow::Result;
use chrono::TimeZone;

use super::tickets::staff_ticket;
use super::{Ctx, Dispatched, UserError};
use crate::domain::{Lang, Role, redact_numbers};
use crate::store::reviews as review_store;
use crate::store::tickets::{self, Ticket};

/// A ticket's history, one line per action, in `lang` and the station's time zone.
pub async fn history_text(ctx: &mut Ctx<'_>, t: &Ticket, lang: Lang) -> Result<String> {
    let entries = tickets::ticket_history(ctx.tx, t.id).await?;
    let tz = ctx.scripts.settings.timezone;
    let lines: Vec<String> = entries
        .iter()
        .map(|e| {
            let at = tz
                .timestamp_millis_opt(e.at)
                .single()
                .map(|d| d.format("%m-%d %H:%M").to_string())
                .unwrap_or_default();
            let action = ctx.scripts.templates.render(lang, &format!("action.{}", e.action), &[]);
            let who = e.actor.as_deref().unwrap_or("beatbot");
            let mut args = vec![("at", at.as_str()), ("who", who), ("platform", e.platform.as_str())];
            args.push(("action", &action));
            let detail = e.detail.as_deref().map(redact_numbers);
            match &detail {
                Some(d) => {
                    args.push(("detail", d));
                    ctx.scripts.templates.render(lang, "history.line_detail", &args)
                }
                None => ctx.scripts.templates.render(lang, "history.line", &args),
            }
        })
        .collect();
    Ok(lines.join("\n"))
}

/// `/history N`: the audit log of one of the station's tickets.
pub async fn history(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let raw = rest
        .split_whitespace()
        .next()
        .ok_or_else(|| UserError::new("history.usage"))?;
    let t = staff_ticket(ctx, raw).await?;
    let lang = ctx.lang;
    let lines = history_text(ctx, &t, lang).await?;
    let title = ctx.scripts.form(t.kind).title.get(lang).to_owned();
    let text = ctx.msg(
        "history.header",
        &[("n", &t.id.to_string()), ("title", &title), ("lines", &lines)],
    );
    ctx.to_me(text, Vec::new());
    Ok(())
}

fn admin_station(ctx: &Ctx<'_>) -> Result<String, Dispatched> {
    if ctx.me.role != Role::StationAdmin {
        return Err(UserError::new("common.admin_only").arg("name", "review").into());
    }
    ctx.me
        .station_id
        .clone()
        .ok_or_else(|| UserError::new("common.no_station").into())
}

/// `/reviews`: the station's open reviews (station admins).
pub async fn list(ctx: &mut Ctx<'_>) -> Result<(), Dispatched> {
    let station = admin_station(ctx)?;
    let open = review_store::open_of_station(ctx.tx, &station).await?;
    if open.is_empty() {
        let text = ctx.msg("review.none", &[]);
        ctx.to_me(text, Vec::new());
        return Ok(());
    }
    let mut lines = vec![ctx.msg("review.list_header", &[("count", &open.len().to_string())])];
    for r in &open {
        let days = ((ctx.now - r.opened_at) / 86_400_000).to_string();
        lines.push(ctx.msg(
            "review.list_line",
            &[
                ("r", &r.id.to_string()),
                ("n", &r.ticket_id.to_string()),
                ("rating", &r.rating.to_string()),
                ("days", &days),
            ],
        ));
    }
    ctx.to_me(lines.join("\n"), Vec::new());
    Ok(())
}

/// `/review R FINDING`: closes a review with what the station found (kept in the ticket's log).
pub async fn close(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let station = admin_station(ctx)?;
    let rest = rest.trim();
    let (raw, finding) = rest
        .split_once(char::is_whitespace)
        .map(|(a, b)| (a, b.trim()))
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| UserError::new("review.usage"))?;
    let digits = raw.trim_start_matches(['R', 'r', '#']);
    let review = match digits.parse::<i64>() {
        Ok(id) if id > 0 => review_store::get(ctx.tx, id).await?,
        _ => None,
    };
    let Some(review) = review.filter(|r| r.station_id == station) else {
        return Err(UserError::new("review.not_found")
            .arg("r", raw.chars().take(12).collect::<String>())
            .into());
    };
    if !review_store::close(ctx.tx, review.id, ctx.me.id, finding, ctx.now).await? {
        return Err(UserError::new("review.already").arg("r", review.id.to_string()).into());
    }
    ctx.log_ticket(review.ticket_id, "review_closed", Some(finding)).await?;
    let text = ctx.msg(
        "review.closed",
        &[("r", &review.id.to_string()), ("n", &review.ticket_id.to_string())],
    );
    ctx.to_me(text, Vec::new());
    Ok(())
}
