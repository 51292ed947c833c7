//! The station's view of its casework: `/history N` shows a ticket's audit log in chat,
//! `/reviews` lists the reviews opened by poor ratings, `/review R FINDING` closes one.
//! Free text in the log is shown with long numbers masked (the viewer is not the assignee).

use super::access::staff_ticket;
use super::fields::local;
use super::{Ctx, Dispatched, UserError};
use crate::domain::{Lang, redact_numbers};
use crate::store::reviews as review_store;
use crate::store::tickets::{self, AuditEntry};

/// A ticket's history entries, one line each, in `lang` and the station's time zone.
pub fn history_text(ctx: &Ctx<'_>, entries: &[AuditEntry], lang: Lang) -> String {
    let templates = &ctx.scripts.templates;
    let lines: Vec<String> = entries
        .iter()
        .map(|e| {
            let at = local(e.at, ctx.scripts.settings.timezone)
                .format("%m-%d %H:%M")
                .to_string();
            let action = templates.render(lang, &format!("action.{}", e.action), &[]);
            let who = e.actor.as_deref().unwrap_or("beatbot");
            let detail = e.detail.as_deref().map(redact_numbers).unwrap_or_default();
            let args = [
                ("at", at.as_str()),
                ("who", who),
                ("platform", e.platform.as_str()),
                ("action", &action),
                ("detail", &detail),
            ];
            let key = if e.detail.is_some() {
                "history.line_detail"
            } else {
                "history.line"
            };
            templates.render(lang, key, &args)
        })
        .collect();
    lines.join("\n")
}

/// `/history N`: the audit log of one of the station's tickets.
pub async fn history(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let raw = rest
        .split_whitespace()
        .next()
        .ok_or_else(|| UserError::new("history.usage"))?;
    let t = staff_ticket(ctx, raw).await?;
    let lang = ctx.lang;
    let entries = tickets::ticket_history(ctx.tx, t.id).await?;
    let lines = history_text(ctx, &entries, lang);
    let title = ctx.scripts.form(t.kind).title.get(lang).to_owned();
    let text = ctx.msg(
        "history.header",
        &[("n", &t.id.to_string()), ("title", &title), ("lines", &lines)],
    );
    ctx.to_me(text, Vec::new());
    Ok(())
}

/// The admin's station (the command table lets only station admins this far).
fn admin_station(ctx: &Ctx<'_>) -> Result<String, Dispatched> {
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
