//! `/tip [SUIT]`: a card of the tip library, dealt in rotation.

use anyhow::Result;

use super::{Ctx, Dispatched, UserError};
use crate::store::counters;

/// `/tip [SUIT]`: the next card of the tip library, in rotation.
pub async fn tip(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let wanted = rest.trim();
    let suit = super::schedule_cmd::parse_suit(ctx.scripts, wanted);
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
    let n = counters::next_counter(ctx.tx, "tip").await?;
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
