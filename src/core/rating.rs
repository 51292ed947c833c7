//! The reporter's side of a finished case: the 1–5 rating (buttons, once), an optional comment
//! written in the next private message, and a review for the station admin when the rating is
//! 2 or less — every unsatisfied case is traced back.

use anyhow::Result;

use super::access::entitled;
use super::dialogue::{Dialogue, save};
use super::{Ctx, Dispatched, Outbound, UserError, reviews};
use crate::domain::TicketStatus;
use crate::store::{people, reviews as review_store, stations, tickets};

/// Ratings at or below this open a review.
pub const REVIEW_AT_OR_BELOW: i64 = 2;

/// A rating button `rate:N:K`: only the reporter, only once, 1 to 5.
pub async fn rate(ctx: &mut Ctx<'_>, ticket: i64, rating: i64, message: Option<i64>) -> Result<(), Dispatched> {
    let t = tickets::get(ctx.tx, ticket)
        .await?
        .ok_or_else(|| UserError::new("common.expired_button"))?;
    if t.reporter_id != ctx.me.id || !entitled(&ctx.me, &t) {
        return Err(UserError::new("common.not_your_button").into());
    }
    if t.status != TicketStatus::Resolved || !tickets::rate(ctx.tx, t.id, rating).await? {
        return Err(UserError::new("rating.already").arg("n", t.id.to_string()).into());
    }
    ctx.log_ticket(t.id, "rated", Some(&rating.to_string())).await?;
    // A report half filled in is not pushed aside by the invitation to comment.
    let busy = crate::store::dialogues::get(ctx.tx, ctx.me.id).await?.is_some();
    let key = if busy { "rating.thanks_only" } else { "rating.thanks" };
    let text = ctx.msg(key, &[("n", &t.id.to_string()), ("rating", &rating.to_string())]);
    let mut out = Outbound::new(ctx.here(), text);
    out.edit_of = message;
    ctx.send(out);
    if !busy {
        save(ctx, &Dialogue::RatingComment { ticket: t.id }).await?;
    }
    if rating <= REVIEW_AT_OR_BELOW {
        open_review(ctx, &t, rating).await?;
    }
    Ok(())
}

/// The reporter's next private message after rating: their comment, kept with the rating and
/// passed to the review if one is open.
pub async fn comment(ctx: &mut Ctx<'_>, ticket: i64, text: &str) -> Result<(), Dispatched> {
    crate::store::dialogues::delete(ctx.tx, ctx.me.id).await?;
    let comment: String = text.chars().take(1000).collect();
    if !tickets::comment(ctx.tx, ticket, &comment).await? {
        return Err(UserError::new("rating.comment_already")
            .arg("n", ticket.to_string())
            .into());
    }
    ctx.log_ticket(ticket, "commented", Some(&comment)).await?;
    let reply = ctx.msg("rating.comment_thanks", &[("n", &ticket.to_string())]);
    ctx.to_me(reply, Vec::new());
    if let Some(review) = review_store::of_ticket(ctx.tx, ticket)
        .await?
        .filter(|r| r.closed_at.is_none())
    {
        let masked = crate::domain::redact_numbers(&comment);
        for admin in reviewers(ctx, &review.station_id).await? {
            ctx.tell(
                &admin,
                "review.comment",
                &[
                    ("r", &review.id.to_string()),
                    ("n", &ticket.to_string()),
                    ("text", &masked),
                ],
                Vec::new(),
            )
            .await?;
        }
    }
    Ok(())
}

/// Who reviews unsatisfied cases: the station admins; without one, the duty officers; without
/// those, every officer of the station.
pub async fn reviewers(ctx: &mut Ctx<'_>, station: &str) -> Result<Vec<people::Person>> {
    let admins = people::admins(ctx.tx, station).await?;
    people::or_station_staff(ctx.tx, station, admins).await
}

async fn open_review(ctx: &mut Ctx<'_>, t: &tickets::Ticket, rating: i64) -> Result<()> {
    let id = review_store::open(ctx.tx, t.id, &t.station_id, rating, ctx.now).await?;
    ctx.log_ticket(t.id, "review_opened", Some(&format!("R{id}"))).await?;
    let hotel = stations::hotel_name(ctx.tx, t.hotel_id).await?;
    let entries = tickets::ticket_history(ctx.tx, t.id).await?;
    for admin in reviewers(ctx, &t.station_id).await? {
        let lang = ctx.lang_of(&admin);
        let history = reviews::history_text(ctx, &entries, lang);
        let title = ctx.scripts.form(t.kind).title.get(lang).to_owned();
        ctx.tell(
            &admin,
            "review.opened",
            &[
                ("r", &id.to_string()),
                ("n", &t.id.to_string()),
                ("title", &title),
                ("hotel", &hotel),
                ("rating", &rating.to_string()),
                ("history", &history),
            ],
            Vec::new(),
        )
        .await?;
    }
    Ok(())
}
